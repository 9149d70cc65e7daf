"""The snapshot history: one SQLite file (WAL), one row per snapshot, never rewritten.

``snapshots`` holds every run: a success has the total and the breakdowns (JSON), a failure
has its reason and no counts, so a failed run can never be read as a total. Triggers refuse
any UPDATE or DELETE of it. ``refreshes`` holds every refresh of the map from the tracker's
listing (when, the build it made, the models it added, or why it failed), never rewritten either.

State, not history (replaced as the schedulers move on): ``schedule`` holds each scheduled
tracker's interval and next run; ``jobs`` holds, for each scheduled job ("snapshot",
"refresh"), its interval and the run in progress: which process holds the job's lock, since
when, and its last sign of life. Every process reads the same state from this file.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    taken_at TEXT NOT NULL,             -- when the run ended (UTC, ISO 8601)
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    total_models INTEGER,               -- successes only
    by_library TEXT,                    -- JSON {library: models}, successes only
    by_pipeline TEXT,                   -- JSON {pipeline tag: models}
    by_author TEXT,                     -- JSON {author: models}, the top authors
    seconds REAL NOT NULL,              -- how long the run took
    error TEXT,                         -- failures only: why
    endpoint TEXT NOT NULL,
    CHECK ((ok = 1 AND total_models IS NOT NULL AND error IS NULL)
           OR (ok = 0 AND total_models IS NULL AND error IS NOT NULL))
);
CREATE TRIGGER IF NOT EXISTS snapshots_never_updated BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'the snapshot history is never rewritten'); END;
CREATE TRIGGER IF NOT EXISTS snapshots_never_deleted BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'the snapshot history is never rewritten'); END;
CREATE TABLE IF NOT EXISTS refreshes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,           -- UTC, ISO 8601
    ended_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'unchanged', 'failed')),
    listing TEXT NOT NULL,              -- the tracker's listing the build was made from
    listing_sha256 TEXT,                -- its content (an unchanged listing is not rebuilt)
    build_id TEXT,                      -- ok: the build it made current
    models INTEGER,                     -- ok: models in that build
    added INTEGER,                      -- ok: models in it that the previous build did not hold
    removed INTEGER,                    -- ok: models of the previous build it no longer holds
    mode TEXT,                          -- ok: full or incremental
    error TEXT,                         -- failed only: why
    CHECK ((outcome = 'failed') = (error IS NOT NULL)),
    CHECK ((outcome = 'ok') = (build_id IS NOT NULL))
);
CREATE TRIGGER IF NOT EXISTS refreshes_never_updated BEFORE UPDATE ON refreshes
BEGIN SELECT RAISE(ABORT, 'the refresh history is never rewritten'); END;
CREATE TRIGGER IF NOT EXISTS refreshes_never_deleted BEFORE DELETE ON refreshes
BEGIN SELECT RAISE(ABORT, 'the refresh history is never rewritten'); END;
CREATE TABLE IF NOT EXISTS jobs (
    job TEXT PRIMARY KEY,               -- snapshot or refresh
    interval_seconds REAL,              -- as the last scheduler to start set it
    holder TEXT,                        -- host:pid of the process running it now (holding the lock)
    running_since TEXT,
    alive_at TEXT,                      -- the holder's last sign of life
    last_started_at TEXT,               -- when the last run began (to the microsecond)
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule (
    tracker TEXT PRIMARY KEY,           -- host:pid of the scheduled tracker
    interval_seconds REAL NOT NULL,
    next_run_at TEXT,
    updated_at TEXT NOT NULL
);
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def precise_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _where(*conditions: tuple[str, object]) -> tuple[str, list]:
    """(" WHERE a = ? AND ...", values) of the (clause, value) pairs whose value is not None."""
    kept = [(clause, value) for clause, value in conditions if value is not None]
    where = f" WHERE {' AND '.join(clause for clause, _ in kept)}" if kept else ""
    return where, [value for _, value in kept]


@dataclass(frozen=True)
class Snapshot:
    id: int
    taken_at: str
    ok: bool
    total_models: int | None
    by_library: dict
    by_pipeline: dict
    by_author: dict
    seconds: float
    error: str | None
    endpoint: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Snapshot:
        def parsed(text):
            return json.loads(text) if text else {}

        return cls(
            row["id"],
            row["taken_at"],
            bool(row["ok"]),
            row["total_models"],
            parsed(row["by_library"]),
            parsed(row["by_pipeline"]),
            parsed(row["by_author"]),
            row["seconds"],
            row["error"],
            row["endpoint"],
        )


@dataclass(frozen=True)
class Refresh:
    id: int
    started_at: str
    ended_at: str
    outcome: str  # ok, unchanged (the listing had not changed: nothing built) or failed
    listing: str
    listing_sha256: str | None
    build_id: str | None
    models: int | None
    added: int | None
    removed: int | None
    mode: str | None
    error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Refresh:
        return cls(**{name: row[name] for name in row.keys()})  # noqa: SIM118 (a Row iterates values)


BUSY_SECONDS = 30.0  # how long a connection waits for another's lock


def write_ahead_log(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL (kept in the file: a no-op once done). SQLite answers "database is
    locked" at once, without waiting, when another connection holds the lock this needs (two
    processes opening a new history together): retried until BUSY_SECONDS."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class History:
    """The snapshot history in one SQLite file (created on first write)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def connect(self, write: bool = False) -> sqlite3.Connection:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
            write_ahead_log(connection)
            connection.executescript(SCHEMA)
        else:
            connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_SECONDS
            )
        connection.row_factory = sqlite3.Row
        return connection

    def exists(self) -> bool:
        return self.path.is_file()

    def record_success(
        self,
        total: int,
        by_library: dict,
        by_pipeline: dict,
        by_author: dict,
        seconds: float,
        endpoint: str,
    ) -> int:
        return self._append(1, total, by_library, by_pipeline, by_author, seconds, None, endpoint)

    def record_failure(self, error: str, seconds: float, endpoint: str) -> int:
        return self._append(0, None, None, None, None, seconds, error, endpoint)

    def _append(
        self, ok, total, by_library, by_pipeline, by_author, seconds, error, endpoint
    ) -> int:
        as_json = lambda value: None if value is None else json.dumps(value, sort_keys=True)  # noqa: E731
        with closing(self.connect(write=True)) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO snapshots (taken_at, ok, total_models, by_library, by_pipeline,"
                " by_author, seconds, error, endpoint)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    utc_now(),
                    ok,
                    total,
                    as_json(by_library),
                    as_json(by_pipeline),
                    as_json(by_author),
                    round(seconds, 3),
                    error,
                    endpoint,
                ),
            )
            return int(cursor.lastrowid)

    def snapshots(
        self, ok: bool | None = True, since: str | None = None, until: str | None = None
    ) -> list[Snapshot]:
        """The recorded snapshots, oldest first: successes (ok=True), failures (False) or both
        (None), taken at or after ``since`` and at or before ``until`` (ISO 8601 times)."""
        where, values = _where(
            ("ok = ?", None if ok is None else int(ok)),
            ("taken_at >= ?", since or None),
            ("taken_at <= ?", until or None),
        )
        rows = self._rows(f"SELECT * FROM snapshots{where} ORDER BY id", values)
        return [Snapshot.from_row(row) for row in rows]

    def latest(self, ok: bool | None = True, endpoint: str | None = None) -> Snapshot | None:
        """The last snapshot: a success (ok=True), a failure (False) or either (None), of any
        endpoint or of ``endpoint`` only."""
        where, values = _where(
            ("ok = ?", None if ok is None else int(ok)), ("endpoint = ?", endpoint)
        )
        rows = self._rows(f"SELECT * FROM snapshots{where} ORDER BY id DESC LIMIT 1", values)
        return Snapshot.from_row(rows[0]) if rows else None

    def set_schedule(self, tracker: str, interval_seconds: float, next_run_at: str | None) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute(
                "INSERT OR REPLACE INTO schedule VALUES (?, ?, ?, ?)",
                (tracker, interval_seconds, next_run_at, utc_now()),
            )

    def clear_schedule(self, tracker: str) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute("DELETE FROM schedule WHERE tracker = ?", (tracker,))

    def schedules(self) -> list[dict]:
        return [dict(row) for row in self._rows("SELECT * FROM schedule ORDER BY next_run_at")]

    # ------------------------------------------------------------------ refreshes of the map

    def record_refresh(
        self,
        started_at: str,
        outcome: str,
        listing: str,
        listing_sha256: str | None = None,
        build_id: str | None = None,
        models: int | None = None,
        added: int | None = None,
        removed: int | None = None,
        mode: str | None = None,
        error: str | None = None,
    ) -> int:
        with closing(self.connect(write=True)) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO refreshes (started_at, ended_at, outcome, listing, listing_sha256,"
                " build_id, models,"
                " added, removed, mode, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    started_at,
                    utc_now(),
                    outcome,
                    listing,
                    listing_sha256,
                    build_id,
                    models,
                    added,
                    removed,
                    mode,
                    error,
                ),
            )
            return int(cursor.lastrowid)

    def refreshes(self) -> list[Refresh]:
        """Every refresh, oldest first."""
        return [Refresh.from_row(row) for row in self._rows("SELECT * FROM refreshes ORDER BY id")]

    def latest_refresh(self, outcome: str | None = None) -> Refresh | None:
        """The last refresh (with this outcome only, when given)."""
        where, values = _where(("outcome = ?", outcome))
        rows = self._rows(f"SELECT * FROM refreshes{where} ORDER BY id DESC LIMIT 1", values)
        return Refresh.from_row(rows[0]) if rows else None

    # ------------------------------------------------------------------ scheduled jobs' state

    def set_job_interval(self, job: str, interval_seconds: float) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute(
                "INSERT INTO jobs (job, interval_seconds, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (job) DO UPDATE SET interval_seconds = excluded.interval_seconds,"
                " updated_at = excluded.updated_at",
                (job, interval_seconds, utc_now()),
            )

    def job_running(self, job: str, holder: str) -> None:
        """``holder`` (host:pid) has taken the job's lock and runs it from now."""
        now, started = utc_now(), precise_now()
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute(
                "INSERT INTO jobs (job, holder, running_since, alive_at, last_started_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (job) DO UPDATE SET holder = excluded.holder,"
                " running_since = excluded.running_since, alive_at = excluded.alive_at,"
                " last_started_at = excluded.last_started_at, updated_at = excluded.updated_at",
                (job, holder, now, now, started, now),
            )

    def job_alive(self, job: str, holder: str) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            now = utc_now()
            connection.execute(
                "UPDATE jobs SET alive_at = ?, updated_at = ? WHERE job = ? AND holder = ?",
                (now, now, job, holder),
            )

    def job_done(self, job: str, holder: str) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute(
                "UPDATE jobs SET holder = NULL, running_since = NULL, alive_at = NULL,"
                " updated_at = ?"
                " WHERE job = ? AND holder = ?",
                (utc_now(), job, holder),
            )

    def jobs(self) -> dict[str, dict]:
        """{job: its state row} of the scheduled jobs."""
        return {row["job"]: dict(row) for row in self._rows("SELECT * FROM jobs ORDER BY job")}

    def state_version(self) -> str:
        """Changes whenever a snapshot, a refresh or a job's state is written: the reports'
        cache key."""
        if not self.exists():
            return "none"
        rows = self._rows(
            "SELECT (SELECT MAX(id) FROM snapshots) AS snapshots, (SELECT MAX(id) FROM refreshes)"
            " AS refreshes, (SELECT MAX(updated_at) || COUNT(*) FROM jobs) AS jobs,"
            " (SELECT MAX(updated_at) || COUNT(*) FROM schedule) AS schedule"
        )
        return ":".join(str(value) for value in tuple(rows[0]))

    def _rows(self, query: str, values: list | tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read query; none when the history does not exist yet, is being created by
        its first writer (the file is there, its tables not yet), or predates the table."""
        if not self.exists():
            return []
        with closing(self.connect()) as connection:
            try:
                return connection.execute(query, values).fetchall()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):
                    return []
                raise

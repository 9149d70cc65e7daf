"""The snapshot history: one SQLite file (WAL), one row per snapshot, never rewritten.

``snapshots`` holds every run: a success has the total and the breakdowns (JSON), a failure
has its reason and no counts, so a failed run can never be read as a total. Triggers refuse
any UPDATE or DELETE of it. ``schedule`` holds each scheduled tracker's interval and next run
(state, not history: it is replaced as the scheduler moves on).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
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
    CHECK ((ok = 1 AND total_models IS NOT NULL AND error IS NULL) OR (ok = 0 AND total_models IS NULL AND error IS NOT NULL))
);
CREATE TRIGGER IF NOT EXISTS snapshots_never_updated BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'the snapshot history is never rewritten'); END;
CREATE TRIGGER IF NOT EXISTS snapshots_never_deleted BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'the snapshot history is never rewritten'); END;
CREATE TABLE IF NOT EXISTS schedule (
    tracker TEXT PRIMARY KEY,           -- host:pid of the scheduled tracker
    interval_seconds REAL NOT NULL,
    next_run_at TEXT,
    updated_at TEXT NOT NULL
);
"""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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

        return cls(row["id"], row["taken_at"], bool(row["ok"]), row["total_models"], parsed(row["by_library"]),
                   parsed(row["by_pipeline"]), parsed(row["by_author"]), row["seconds"], row["error"], row["endpoint"])


class History:
    """The snapshot history in one SQLite file (created on first write)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def connect(self, write: bool = False) -> sqlite3.Connection:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        else:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        connection.row_factory = sqlite3.Row
        return connection

    def exists(self) -> bool:
        return self.path.is_file()

    def record_success(self, total: int, by_library: dict, by_pipeline: dict, by_author: dict, seconds: float,
                       endpoint: str) -> int:
        return self._append(1, total, by_library, by_pipeline, by_author, seconds, None, endpoint)

    def record_failure(self, error: str, seconds: float, endpoint: str) -> int:
        return self._append(0, None, None, None, None, seconds, error, endpoint)

    def _append(self, ok, total, by_library, by_pipeline, by_author, seconds, error, endpoint) -> int:
        as_json = (lambda value: None if value is None else json.dumps(value, sort_keys=True))  # noqa: E731
        with closing(self.connect(write=True)) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO snapshots (taken_at, ok, total_models, by_library, by_pipeline, by_author, seconds, error, endpoint)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (utc_now(), ok, total, as_json(by_library), as_json(by_pipeline), as_json(by_author), round(seconds, 3),
                 error, endpoint))
            return int(cursor.lastrowid)

    def snapshots(self, ok: bool | None = True, since: str | None = None, until: str | None = None) -> list[Snapshot]:
        """The recorded snapshots, oldest first: successes (ok=True), failures (False) or both (None),
        taken at or after ``since`` and at or before ``until`` (ISO 8601 times)."""
        if not self.exists():
            return []
        where, values = _where(("ok = ?", None if ok is None else int(ok)),
                               ("taken_at >= ?", since or None), ("taken_at <= ?", until or None))
        with closing(self.connect()) as connection:
            rows = connection.execute(f"SELECT * FROM snapshots{where} ORDER BY id", values).fetchall()
        return [Snapshot.from_row(row) for row in rows]

    def latest(self, ok: bool | None = True, endpoint: str | None = None) -> Snapshot | None:
        """The last snapshot: a success (ok=True), a failure (False) or either (None), of any
        endpoint or of ``endpoint`` only."""
        if not self.exists():
            return None
        where, values = _where(("ok = ?", None if ok is None else int(ok)), ("endpoint = ?", endpoint))
        with closing(self.connect()) as connection:
            row = connection.execute(f"SELECT * FROM snapshots{where} ORDER BY id DESC LIMIT 1", values).fetchone()
        return Snapshot.from_row(row) if row else None

    def set_schedule(self, tracker: str, interval_seconds: float, next_run_at: str | None) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute("INSERT OR REPLACE INTO schedule VALUES (?, ?, ?, ?)",
                               (tracker, interval_seconds, next_run_at, utc_now()))

    def clear_schedule(self, tracker: str) -> None:
        with closing(self.connect(write=True)) as connection, connection:
            connection.execute("DELETE FROM schedule WHERE tracker = ?", (tracker,))

    def schedules(self) -> list[dict]:
        if not self.exists():
            return []
        with closing(self.connect()) as connection:
            return [dict(row) for row in connection.execute("SELECT * FROM schedule ORDER BY next_run_at")]

"""The dashboard's scheduled jobs: the tracker's snapshot, and the refresh of the map.

Every server process (`hfmap serve`, each gunicorn worker, each replica) starts one
APScheduler BackgroundScheduler with two jobs:

snapshot  every HFMAP_TRACKER_EVERY (default 6h; off): `hfmap track --once --if-due`, which
          also writes the full listing (HFMAP_TRACKER_LISTING) when the refresh job is on
refresh   every HFMAP_REFRESH_EVERY (default off): `hfmap refresh --if-due`, an incremental
          build of that listing into the served builds directory; the dashboard moves to the
          new build by itself (dashboard/serving.py)

No process is elected. Each scheduler checks every ``check_seconds(interval)`` whether its job
is due, from the shared history (tracker.due: the last run, by any process, began an interval
ago or more); when it is, it runs the job in a child process, which takes the job's lock (Redis
with REDIS_URL, else a file lock beside the history) and checks again under it. So however many
processes schedule a job, it runs once per interval; a process that dies mid-run leaves the
Redis lock to expire (the file lock is freed with it) and the job runs at the next check after
that. The work runs in a child process, so it never holds a request (nor the interpreter lock
of the process serving it), and a run is never started twice by one scheduler
(max_instances=1, coalesce). Stopping the scheduler (the server stopping) ends a running child
with SIGTERM (SIGKILL after STOP_SECONDS); a child whose server died outright ends itself
(hfmap.cli follows HFMAP_PARENT_PID).

All state is in the history, readable by every process: the jobs' intervals, which process
holds a job's lock and since when, each run's outcome (tracker.report.job_states).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config import Settings
from tracker.due import is_due, next_run, parse_every, refresh_started, snapshot_started
from tracker.history import History
from tracker.lock import this_process

log = logging.getLogger("hfmap.tracker")

SNAPSHOT, REFRESH = "snapshot", "refresh"
EMBEDDERS = ("auto", "minilm", "tfidf")
STOP_SECONDS = 1.0  # a stopping server waits this long for a job's process after SIGTERM
PARENT_VARIABLE = "HFMAP_PARENT_PID"  # a job's process ends itself when this process is gone


@dataclass(frozen=True)
class JobPlan:
    """What a server process schedules: each job's interval in seconds (None: off), the listing the
    snapshot writes and the refresh reads, the builds directory the refresh builds into."""

    snapshot_every: float | None
    refresh_every: float | None
    listing: Path
    builds: Path
    embedder: str

    @property
    def any(self) -> bool:
        return self.snapshot_every is not None or self.refresh_every is not None


def job_plan(settings: Settings, builds: Path) -> JobPlan:
    """The plan from the settings; ValueError, one sentence, for a setting that does not parse."""
    if settings.refresh_embedder not in EMBEDDERS:
        raise ValueError(
            f"HFMAP_REFRESH_EMBEDDER must be one of {', '.join(EMBEDDERS)}, "
            f"not {settings.refresh_embedder!r}."
        )
    return JobPlan(
        parse_every(settings.tracker_every, "HFMAP_TRACKER_EVERY"),
        parse_every(settings.refresh_every, "HFMAP_REFRESH_EVERY"),
        Path(settings.listing_path).absolute(),
        Path(builds).absolute(),
        settings.refresh_embedder,
    )


def check_seconds(interval_seconds: float) -> float:
    """How often a scheduler checks whether a job is due: a tenth of its interval, 0.25-30 s."""
    return min(max(interval_seconds / 10, 0.25), 30.0)


def seconds_text(seconds: float) -> str:
    return f"{seconds:g}s"


def snapshot_command(settings: Settings, plan: JobPlan) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "hfmap",
        "track",
        "--once",
        "--if-due",
        seconds_text(plan.snapshot_every),
        "--db",
        str(Path(settings.tracker_db).absolute()),
    ]
    return command + (["--jsonl", str(plan.listing)] if plan.refresh_every is not None else [])


def refresh_command(settings: Settings, plan: JobPlan) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hfmap",
        "refresh",
        "--if-due",
        seconds_text(plan.refresh_every),
        "--listing",
        str(plan.listing),
        "--out",
        str(plan.builds),
        "--embedder",
        plan.embedder,
        "--db",
        str(Path(settings.tracker_db).absolute()),
    ]


def snapshot_due(history: History, interval_seconds: float, now: datetime | None = None) -> bool:
    return is_due(snapshot_started(history), interval_seconds, now)


def refresh_due(
    history: History, listing: Path, interval_seconds: float, now: datetime | None = None
) -> bool:
    """Due when the last refresh began an interval ago or more and the tracker has written a
    listing since (a refresh waits for the listing; it never fails for want of one)."""
    if not listing.is_file():
        return False
    last = refresh_started(history)
    if last is not None and datetime.fromtimestamp(listing.stat().st_mtime, UTC) <= last:
        return False
    return is_due(last, interval_seconds, now)


class ScheduledJobs:
    """One process's scheduler: start(), then stop() (at the latest when the process exits)."""

    def __init__(self, settings: Settings, plan: JobPlan):
        self.settings, self.plan = settings, plan
        self.history = History(settings.tracker_db)
        # The checks run in the scheduler's own daemon thread (the "debug" executor runs a job in
        # the thread that fires it): each reads the history and at most starts a process, and a
        # daemon thread never holds the server's exit the way a pool's worker threads would.
        self.scheduler = BackgroundScheduler(timezone=UTC, executors={"default": {"type": "debug"}})
        self.stopping = threading.Event()
        self.children: dict[str, subprocess.Popen] = {}
        self.children_lock = threading.Lock()
        self.name = this_process()
        self.scheduled_next: str | None = None

    def start(self) -> None:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per check
        now = datetime.now(UTC)
        jobs = [
            (SNAPSHOT, self.plan.snapshot_every, self.check_snapshot),
            (REFRESH, self.plan.refresh_every, self.check_refresh),
        ]
        for job, interval, check in jobs:
            self.history.set_job_interval(job, interval)  # None: this server does not run it
            if interval is None:
                continue
            self.scheduler.add_job(
                check,
                IntervalTrigger(seconds=check_seconds(interval)),
                id=job,
                max_instances=1,
                coalesce=True,
                next_run_time=now,
            )
            log.info(
                "%s job every %s (checked every %g s) in %s",
                job,
                seconds_text(interval),
                check_seconds(interval),
                self.name,
            )
        self.scheduler.start()

    def check_snapshot(self) -> None:
        self.record_schedule()
        if not self.busy(SNAPSHOT) and snapshot_due(self.history, self.plan.snapshot_every):
            self.start_child(SNAPSHOT, snapshot_command(self.settings, self.plan))

    def check_refresh(self) -> None:
        if self.plan.snapshot_every is None:
            self.record_schedule()
        if not self.busy(REFRESH) and refresh_due(
            self.history, self.plan.listing, self.plan.refresh_every
        ):
            self.start_child(REFRESH, refresh_command(self.settings, self.plan))

    def record_schedule(self) -> None:
        """This process in the history's list of schedulers (``schedule``), with its first job's
        interval and next run (the snapshot's; the refresh's when the snapshot job is off)."""
        if self.plan.snapshot_every is not None:
            interval, started = self.plan.snapshot_every, snapshot_started(self.history)
        else:
            interval, started = self.plan.refresh_every, refresh_started(self.history)
        text = (next_run(started, interval) or datetime.now(UTC)).isoformat(timespec="seconds")
        if text != self.scheduled_next and not self.stopping.is_set():
            self.history.set_schedule(self.name, interval, text)
            self.scheduled_next = text

    def busy(self, job: str) -> bool:
        """Whether this scheduler's process for the job still runs (a run is never started twice);
        logs the exit of one that ended."""
        with self.children_lock:
            child = self.children.get(job)
            if child is None or child.poll() is None:
                return child is not None
            del self.children[job]
        log.info("%s job: process %d exited with code %d", job, child.pid, child.returncode)
        return False

    def start_child(self, job: str, command: list[str]) -> None:
        """Start a job's process; it runs on its own (its output goes to this server's log)."""
        environment = {**os.environ, PARENT_VARIABLE: str(os.getpid())}
        with self.children_lock:
            if self.stopping.is_set():
                return
            self.children[job] = subprocess.Popen(
                command, env=environment, stdin=subprocess.DEVNULL
            )

    def stop(self) -> None:
        """Stop scheduling, end running jobs' processes (all within STOP_SECONDS)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        with self.children_lock:
            running = list(self.children.values())
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in running:
            end(child, deadline)
        self.scheduler.shutdown(wait=False)
        try:
            self.history.clear_schedule(self.name)
        except Exception as error:  # an unwritable history must not hold the server's exit
            log.warning(
                "could not remove %s from the schedulers in the history: %s", self.name, error
            )


def end(child: subprocess.Popen, deadline: float) -> None:
    """Wait for a job's process, sent SIGTERM once (a second one would interrupt its clean-up),
    until deadline (time.monotonic()); SIGKILL it then."""
    try:
        child.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        child.wait()


_started: dict[
    int, ScheduledJobs
] = {}  # this process's scheduler (keyed by pid: a fork starts its own)
_start_lock = threading.Lock()


def start_jobs(settings: Settings, builds: Path) -> ScheduledJobs | None:
    """Start this process's scheduled jobs once (None when both are off); stopped at exit."""
    plan = job_plan(settings, builds)
    with _start_lock:
        if os.getpid() in _started or not plan.any:
            return _started.get(os.getpid())
        jobs = ScheduledJobs(settings, plan)
        jobs.start()
        _started[os.getpid()] = jobs
    atexit.register(jobs.stop)
    return jobs


def stop_jobs() -> None:
    """Stop this process's scheduled jobs, if it started them."""
    jobs = _started.pop(os.getpid(), None)
    if jobs is not None:
        jobs.stop()

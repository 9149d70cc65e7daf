"""`hfmap track --every INTERVAL`: APScheduler in its own process until SIGTERM or Ctrl+C: a
snapshot now and then every INTERVAL. Its interval and next run are kept in the history's
``schedule`` table (what the dashboard's Growth view shows); the Redis lock, not the scheduler,
decides which tracker's run actually takes a snapshot.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config import Settings
from tracker.due import parse_interval
from tracker.history import History
from tracker.snapshot import take_snapshot

log = logging.getLogger("hfmap.tracker")

__all__ = ["parse_interval", "run_every"]  # parse_interval: tracker.due's, kept importable here


def run_every(settings: Settings, interval_seconds: float, jsonl: Path | None = None) -> None:
    """Take a snapshot now and every interval_seconds until stopped."""
    history = History(settings.tracker_db)
    tracker = f"{socket.gethostname()}:{os.getpid()}"
    scheduler = BlockingScheduler(timezone=UTC)

    def record_next_run() -> None:
        job = scheduler.get_job("snapshot")
        next_run = (
            job.next_run_time.astimezone(UTC).isoformat(timespec="seconds")
            if job and job.next_run_time
            else None
        )
        history.set_schedule(tracker, interval_seconds, next_run)

    def snapshot() -> None:
        record_next_run()
        outcome = take_snapshot(settings, jsonl)
        log.info(
            "scheduled run: %s%s",
            outcome.status,
            f", {outcome.total_models:,} models"
            if outcome.total_models is not None
            else f" ({outcome.error})",
        )
        record_next_run()

    scheduler.add_job(
        snapshot,
        IntervalTrigger(seconds=interval_seconds),
        id="snapshot",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )

    def stop(*_) -> None:
        log.info("tracker %s stopping", tracker)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "tracker %s: a snapshot of %s every %g s into %s",
        tracker,
        settings.hf_endpoint,
        interval_seconds,
        settings.tracker_db,
    )
    try:
        scheduler.start()
    finally:
        history.clear_schedule(tracker)

"""What the tracker tells of itself, built here only: `hfmap track --status` prints
``status_report``, the dashboard's Growth view and its JSON endpoints show ``growth_report``.
Both describe the last failure the same way (``last_failure``). ``job_states`` is the scheduled
jobs' real state (tracker/jobs.py), read from the history every process shares; whether a
job's holder still answers depends on the time of asking (``holder_answering``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from tracker.due import as_time, next_run, refresh_started, snapshot_started
from tracker.growth import growth_stats
from tracker.history import History
from tracker.lock import HEARTBEAT_SECONDS

SILENT_AFTER = (
    3 * HEARTBEAT_SECONDS
)  # a holder silent for longer is taken for gone (its lock expires)


def last_failure(history: History) -> dict | None:
    """When and why the last failed snapshot failed, or None when none has."""
    failure = history.latest(ok=False)
    return {"taken_at": failure.taken_at, "reason": failure.error} if failure else None


def status_report(history: History) -> dict:
    """`hfmap track --status`: the last successful snapshot, and the last failure if any."""
    last = history.latest(ok=True)
    return {
        "total_models": last.total_models if last else None,
        "taken_at": last.taken_at if last else None,
        "seconds": last.seconds if last else None,
        "endpoint": last.endpoint if last else None,
        "by_library": last.by_library if last else {},
        "by_pipeline": last.by_pipeline if last else {},
        "by_author": last.by_author if last else {},
        "last_failure": last_failure(history),
        "history": str(history.path),
    }


def growth_report(history: History) -> dict:
    """Everything the dashboard tells of the tracker: the successful snapshots (oldest first), the
    growth statistics, the last run, the last failure, the scheduled trackers."""
    snapshots = history.snapshots(ok=True)
    last_run = history.latest(ok=None)
    return {
        "snapshots": [asdict(snapshot) for snapshot in snapshots],
        "growth": growth_stats(snapshots),
        "last_run": asdict(last_run) if last_run else None,
        "last_failure": last_failure(history),
        "schedules": history.schedules(),
        "jobs": job_states(history),
    }


def running(row: dict) -> dict | None:
    """The run in progress of a job's state row: which process holds the lock, since when."""
    if not row.get("holder"):
        return None
    return {"holder": row["holder"], "since": row["running_since"], "alive_at": row["alive_at"]}


def holder_answering(run: dict, now: datetime | None = None) -> bool:
    """Whether a running job's holder gave a sign of life recently (else it died mid-run)."""
    alive = as_time(run["alive_at"])
    return (
        alive is not None and ((now or datetime.now(UTC)) - alive).total_seconds() <= SILENT_AFTER
    )


def job_states(history: History) -> dict:
    """Each scheduled job: its interval (None: no scheduler has run it), its next run, the run in
    progress, its last run and last failure; the refresh job also its last successful refresh."""
    rows = history.jobs()

    def upcoming(job: str, started) -> str | None:
        interval = rows.get(job, {}).get("interval_seconds")
        if not interval:
            return None
        moment = next_run(started, interval) or datetime.now(UTC)
        return moment.isoformat(timespec="seconds")

    last_snapshot, last_refresh = history.latest(ok=None), history.latest_refresh()
    failed_refresh, good_refresh = history.latest_refresh("failed"), history.latest_refresh("ok")
    return {
        "snapshot": {
            "interval_seconds": rows.get("snapshot", {}).get("interval_seconds"),
            "next_run_at": upcoming("snapshot", snapshot_started(history)),
            "running": running(rows.get("snapshot", {})),
            "last_run": asdict(last_snapshot) if last_snapshot else None,
            "last_failure": last_failure(history),
        },
        "refresh": {
            "interval_seconds": rows.get("refresh", {}).get("interval_seconds"),
            "next_run_at": upcoming("refresh", refresh_started(history)),
            "running": running(rows.get("refresh", {})),
            "last_run": asdict(last_refresh) if last_refresh else None,
            "last_failure": asdict(failed_refresh) if failed_refresh else None,
            "last_success": asdict(good_refresh) if good_refresh else None,
        },
    }


def last_refresh(history: History) -> dict | None:
    """The last refresh that made a build current: when, the build, the models it added."""
    refresh = history.latest_refresh("ok")
    return asdict(refresh) if refresh else None

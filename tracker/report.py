"""What the tracker tells of itself, built here only: `hfmap track --status` prints
``status_report``, the dashboard's Growth view and its JSON endpoints show ``growth_report``.
Both describe the last failure the same way (``last_failure``).
"""

from __future__ import annotations

from dataclasses import asdict

from tracker.growth import growth_stats
from tracker.history import History


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
    }

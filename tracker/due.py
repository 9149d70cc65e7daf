"""Intervals, and when a scheduled job is due.

The dashboard's scheduled jobs (tracker/jobs.py) are scheduled on the history: a job is due
when its last run, by any process, began at least an interval ago (less a small tolerance), so
however many processes schedule it, it runs once per interval (``is_due``, checked again under
the job's lock by the process that runs it). Intervals are parsed, never evaluated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tracker.history import History

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
INTERVAL = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_interval(text: str) -> float:
    """Seconds in an interval such as "6h", "30m", "1d", "1h30m" or "45s"; ValueError for
    anything else."""
    compact = (text or "").replace(" ", "").lower()
    parts = INTERVAL.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"{text!r} is not an interval; write it like 6h, 30m, 1d or 1h30m.")
    seconds = sum(float(number) * UNITS[unit] for number, unit in parts)
    if seconds < 1:
        raise ValueError(f"the interval {text!r} is shorter than a second.")
    return seconds


OFF = "off"


def parse_every(text: str, name: str) -> float | None:
    """The seconds of a job's interval setting (``name``: the variable it came from), None for
    "off"."""
    if (text or "").strip().lower() == OFF:
        return None
    try:
        return parse_interval(text)
    except ValueError:
        raise ValueError(
            f"{name} must be an interval of a second or more (6h, 30m, 1d, 1h30m) "
            f"or off, not {text!r}."
        ) from None


def tolerance(interval_seconds: float) -> float:
    """How much earlier than a whole interval a job may run again (clocks and timers jitter)."""
    return min(0.05 * interval_seconds, 60.0)


def as_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_due(
    last_started: datetime | None, interval_seconds: float, now: datetime | None = None
) -> bool:
    """Whether a job whose last run began at last_started (None: never ran) is due now."""
    if last_started is None:
        return True
    now = now or datetime.now(UTC)
    return (now - last_started).total_seconds() >= interval_seconds - tolerance(interval_seconds)


def next_run(last_started: datetime | None, interval_seconds: float) -> datetime | None:
    """When a job is due next (None: now, it never ran)."""
    return None if last_started is None else last_started + timedelta(seconds=interval_seconds)


def last_started(history: History, job: str) -> datetime | None:
    """When the job's last run began, to the microsecond, as its holder recorded it."""
    return as_time(history.jobs().get(job, {}).get("last_started_at"))


def snapshot_started(history: History) -> datetime | None:
    """When the last snapshot run (a success or a failure) began (from its row in a history
    written before runs recorded their start)."""
    started = last_started(history, "snapshot")
    if started is not None:
        return started
    last = history.latest(ok=None)
    return None if last is None else as_time(last.taken_at) - timedelta(seconds=last.seconds)


def refresh_started(history: History) -> datetime | None:
    """When the last refresh of the map began."""
    started = last_started(history, "refresh")
    if started is not None:
        return started
    last = history.latest_refresh()
    return None if last is None else as_time(last.started_at)

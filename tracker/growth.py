"""Growth statistics from the snapshot history: models added per day, growth rate, by library and
pipeline, and the age of the last snapshot.

Over a window (7 or 30 days) the change is measured from the last snapshot taken at or before
the window's start (or, when the history is shorter, the first snapshot) to the latest one, and
divided by the days actually between them, which are reported too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.history import Snapshot

WINDOWS = {"7d": 7, "30d": 30}
MIN_SPAN_DAYS = 1 / 24  # snapshots less than an hour apart say nothing about a daily rate
TOP_GROUPS = 10


def taken(snapshot: Snapshot) -> datetime:
    moment = datetime.fromisoformat(snapshot.taken_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_base(snapshots: list[Snapshot], days: float) -> tuple[Snapshot, float] | None:
    """The snapshot a window's change is measured from, and the days from it to the latest one."""
    latest = snapshots[-1]
    start = taken(latest).timestamp() - days * 86400
    before = [s for s in snapshots[:-1] if taken(s).timestamp() <= start]
    base = before[-1] if before else snapshots[0]
    span = (taken(latest) - taken(base)).total_seconds() / 86400
    return (base, span) if span >= MIN_SPAN_DAYS else None


def rates(latest: float, base: float, span: float) -> dict:
    added = (latest - base) / span
    return {
        "added_per_day": round(added, 2),
        "growth_percent_per_30_days": round(100 * added * 30 / base, 3) if base else None,
        "days": round(span, 3),
    }


def growth_stats(snapshots: list[Snapshot], now: datetime | None = None) -> dict:
    """Growth over the successful snapshots (oldest first), overall and for the top libraries and
    pipelines."""
    if not snapshots:
        return {
            "snapshots": 0,
            "total_models": None,
            "taken_at": None,
            "age_seconds": None,
            "windows": {},
            "by_library": [],
            "by_pipeline": [],
        }
    latest = snapshots[-1]
    now = now or datetime.now(UTC)
    bases = {name: window_base(snapshots, days) for name, days in WINDOWS.items()}

    def over_windows(value_of) -> dict:
        """{window: rates of value_of(snapshot) from the window's base to the latest snapshot, or
        None}."""
        return {
            name: rates(value_of(latest), value_of(found[0]), found[1]) if found else None
            for name, found in bases.items()
        }

    def groups(field: str) -> list[dict]:
        current = getattr(latest, field)
        top = sorted(current, key=lambda name: (-current[name], name))[:TOP_GROUPS]
        return [
            {
                "name": name,
                "models": current[name],
                **over_windows(lambda s, name=name: getattr(s, field).get(name, 0)),
            }
            for name in top
        ]

    return {
        "snapshots": len(snapshots),
        "total_models": latest.total_models,
        "taken_at": latest.taken_at,
        "age_seconds": round((now - taken(latest)).total_seconds(), 1),
        "windows": over_windows(lambda s: s.total_models),
        "by_library": groups("by_library"),
        "by_pipeline": groups("by_pipeline"),
    }

"""How the Hub grows: the tracker's snapshots (HFMAP_TRACKER_DB) and, before them, the history
reconstructed from the build's creation dates.

Queries on the snapshot history take its path and its version (``history_version``: the last
snapshot and refresh rows and the jobs' state), so a new snapshot, failure, refresh or change
of a job's state makes a new cache key and the view never shows a stale history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask
from dashboard.queries.ranking import coloured_values, top_values
from tracker.history import History
from tracker.report import growth_report

TOP_GROUPS = 8


def history_version(path: Path) -> str:
    """Changes with every write to the history: part of every key."""
    return History(path).state_version()


@cached_query
def tracker_report(path: str, version: str) -> dict[str, Any]:
    """The tracker's growth report (tracker.report.growth_report) of the history at path."""
    return growth_report(History(Path(path)))


@cached_query
def snapshot_rows(
    path: str, version: str, since: str | None, until: str | None, failures: bool
) -> list[dict[str, Any]]:
    """The snapshots taken between since and until (ISO 8601), successes only unless failures."""
    return [
        {
            "taken_at": s.taken_at,
            "ok": s.ok,
            "total_models": s.total_models,
            "by_library": s.by_library,
            "by_pipeline": s.by_pipeline,
            "by_author": s.by_author,
            "seconds": s.seconds,
            "error": s.error,
        }
        for s in History(Path(path)).snapshots(
            ok=None if failures else True, since=since, until=until
        )
    ]


def with_age(report: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The report with the last snapshot's age as of now (the cached report is not re-aged)."""
    growth = dict(report["growth"])
    if growth.get("taken_at"):
        taken = datetime.fromisoformat(growth["taken_at"])
        growth["age_seconds"] = round(((now or datetime.now(UTC)) - taken).total_seconds(), 1)
    return {**report, "growth": growth}


@cached_query
def reconstructed_growth(build: Build, filters: Filters) -> dict[str, Any]:
    """Cumulative models by creation day, over the build's models that pass the filters (models
    deleted from the Hub are not in a build, so the early curve is a lower bound)."""
    created = build.numbers("created_at")[filter_mask(build, filters)]
    known = created[~np.isnan(created)]
    if not len(known):
        return {"days": [], "cumulative": [], "unknown": int(len(created))}
    days = np.floor(known / 86400).astype(np.int64)
    first, counts = days.min(), np.bincount(days - days.min())
    return {
        "days": (np.arange(first, first + len(counts)) * 86400).astype(np.int64),
        "cumulative": np.cumsum(counts),
        "unknown": int(len(created) - len(known)),
    }


@cached_query
def reconstructed_by_group(build: Build, filters: Filters, column: str) -> dict[str, Any]:
    """Cumulative models by creation month for the TOP_GROUPS most common libraries or pipelines
    of those coloured in every view (coloured_values: the rest as OTHER, the models without one
    as NO_VALUE), over the models that pass the filters; "coloured": the category's coloured
    values, for figures.colours.value_colour."""
    mask = filter_mask(build, filters)
    created = build.numbers("created_at")[mask]
    codes = build.codes(column)[mask]
    known = ~np.isnan(created)
    created, codes = created[known], codes[known]
    if not len(created):
        return {
            "months": [],
            "groups": [],
            "cumulative": np.zeros((0, 0), dtype=np.int64),
            "coloured": [],
        }
    moments = created.astype("datetime64[s]").astype("datetime64[M]")
    months = np.arange(moments.min(), moments.max() + 1)
    month_index = (moments - months[0]).astype(np.int64)
    names = build.categories(column)
    coloured = coloured_values(build, column).ranked
    uncoloured = set(names).difference(coloured)
    top = top_values(
        names, np.bincount(codes, minlength=len(names)), TOP_GROUPS, left_out=uncoloured
    )
    counts = np.zeros((len(top.names), len(months)), dtype=np.int64)
    np.add.at(counts, (top.group_of[codes], month_index), 1)
    return {
        "months": months.astype(str).tolist(),
        "groups": top.names,
        "cumulative": np.cumsum(counts, axis=1),
        "coloured": coloured,
    }

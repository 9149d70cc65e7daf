"""Histograms of one attribute over the models that pass the filters (and lie in the map selection).

Counts are binned on the server, so the browser gets a few dozen bars whatever the build's
size. Heavy-tailed counts are binned on a log scale, with the models at zero (or below) in a
bar of their own; unknown values (the source did not say) are counted, never drawn as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.filters import Filters, Selection, filter_mask, selection_mask
from dashboard.prepare import EXACT_COUNTS
from dashboard.queries.ranking import category_counts, top_values
from dashboard.shown import JSON_EXACT

ATTRIBUTES = {  # attribute -> (label, heavy-tailed)
    "downloads": ("downloads (last 30 days)", True),
    "likes": ("likes", True),
    "trending_score": ("trending score", True),
    "card_length": ("model card length (characters)", True),
    "created_at": ("creation date", False),
}
BINS = 40
TOP_SHOWN = 5  # the most common libraries, pipelines and licenses a selection's summary names
EXAMPLES = 5  # the most downloaded models a selection's summary names


Stats = dict[str, int | float]  # a histogram's statistics by name


@cache_value_type
@dataclass
class Histogram:
    attribute: str
    log: bool  # bins are log10-spaced over the positive values
    edges: np.ndarray  # bin edges: log10 values (log), seconds since 1970 (created_at), else values
    counts: np.ndarray  # models of the current set per bin
    counts_all: np.ndarray | None  # every model per bin, when the current set is not everything
    at_most_zero: int  # log bins only: models of the set whose value is 0 or less
    at_most_zero_all: int
    # of the current set: models, unknown, median, mean, p90, max (exact for counts: see
    # exact_summary)
    stats: Stats


def bin_edges(values: np.ndarray, attribute: str, log: bool, bins: int) -> np.ndarray:
    """Edges covering every known value of the build (so the set and all models share bins)."""
    if attribute == "created_at":
        known = values[~np.isnan(values)]
        if not len(known):
            return np.array([0.0, 1.0])
        months = pd.date_range(
            pd.Timestamp(known.min(), unit="s").to_period("M").to_timestamp(),
            pd.Timestamp(known.max(), unit="s") + pd.offsets.MonthBegin(1),
            freq="MS",
            tz=None,
        )
        return (
            months.as_unit("s").asi8.astype(np.float64)
            if len(months) > 1
            else np.array([known.min(), known.max() + 1])
        )
    positive = values[values > 0] if log else values[~np.isnan(values)]
    if not len(positive):
        return np.array([0.0, 1.0])
    if log:
        top = np.log10(positive.max())
        return np.linspace(0.0, max(top, 1.0) + 1e-9, bins + 1)
    return np.linspace(positive.min(), positive.max() + 1e-9, bins + 1)


def count_in_bins(values: np.ndarray, edges: np.ndarray, log: bool) -> tuple[np.ndarray, int]:
    known = values[~np.isnan(values)]
    if log:
        positive = known[known > 0]
        return np.histogram(np.log10(np.maximum(positive, 1.0)), edges)[0], int(
            len(known) - len(positive)
        )
    return np.histogram(known, edges)[0], 0


def summary(values: np.ndarray) -> Stats:
    """Statistics of float values (NaN = unknown): creation dates and trending scores."""
    known = values[~np.isnan(values)]
    stats: Stats = {"models": int(len(values)), "unknown": int(len(values) - len(known))}
    if len(known):
        stats.update(
            median=float(np.median(known)),
            mean=float(known.mean()),
            p90=float(np.percentile(known, 90)),
            max=float(known.max()),
        )
    return stats


def exact_sum(values: np.ndarray) -> int:
    """The sum of int64 values as a Python integer, never wrapping: the high and low 32 bits are
    summed apart (each sum fits in int64 for up to 2**31 values) and joined."""
    values = np.asarray(values, dtype=np.int64)
    return (int((values >> 32).sum()) << 32) + int((values & 0xFFFFFFFF).sum())


def exact_quantile(partitioned: np.ndarray, q: Fraction) -> Fraction:
    """numpy's default ("linear") quantile of int64 values, computed with fractions: exact at any
    size. ``partitioned`` must be partitioned at the two positions around q·(n-1)."""
    position = q * (len(partitioned) - 1)
    low = int(position)
    high = min(low + 1, len(partitioned) - 1)
    a, b = int(partitioned[low]), int(partitioned[high])
    return a + (position - low) * (b - a)


def shown_exactly(value: Fraction) -> int | float:
    """A statistic as a number the view shows exactly: an integer when it is whole or too large for
    a float to hold its fraction (the view shows no decimals from 100 on), else the float."""
    if value.denominator == 1 or abs(value) >= JSON_EXACT:
        return round(value)
    return float(value)


def exact_summary(values: np.ndarray, known: np.ndarray) -> Stats:
    """Statistics of integer counts (the build's int64 values; ``known`` false where unknown),
    exact whatever their size: sums in Python integers, quantiles with fractions."""
    present = values[known]
    stats: Stats = {"models": int(len(values)), "unknown": int(len(values) - len(present))}
    if len(present):
        n = len(present)
        positions = sorted(
            {(n - 1) // 2, n // 2, min(n - 1, 9 * (n - 1) // 10 + 1), 9 * (n - 1) // 10}
        )
        partitioned = np.partition(present, positions)
        stats.update(
            median=shown_exactly(exact_quantile(partitioned, Fraction(1, 2))),
            mean=shown_exactly(Fraction(exact_sum(present), n)),
            p90=shown_exactly(exact_quantile(partitioned, Fraction(9, 10))),
            max=int(present.max()),
        )
    return stats


@cached_query
def histogram(
    build: Build,
    filters: Filters,
    selection: Selection | None,
    attribute: str,
    log: bool = True,
    bins: int = BINS,
) -> Histogram:
    """The histogram of ``attribute`` over the filtered (and selected) models, beside all models."""
    if attribute not in ATTRIBUTES:
        raise ValueError(f"unknown attribute {attribute!r}")
    log = log and ATTRIBUTES[attribute][1]
    values = build.numbers(attribute)
    edges = bin_edges(values, attribute, log, bins)
    in_set = filter_mask(build, filters) & selection_mask(build, selection)
    chosen = values[in_set]
    counts, at_most_zero = count_in_bins(chosen, edges, log)
    everything = bool(in_set.all())
    counts_all, at_most_zero_all = (None, 0) if everything else count_in_bins(values, edges, log)
    if attribute in EXACT_COUNTS:
        whole, known = build.whole_numbers(attribute)
        stats = exact_summary(whole[in_set], known[in_set])
    else:
        stats = summary(chosen)
    return Histogram(
        attribute, log, edges, counts, counts_all, at_most_zero, at_most_zero_all, stats
    )


@cached_query
def selection_summary(
    build: Build, filters: Filters, selection: Selection, top: int = TOP_SHOWN
) -> dict[str, Any]:
    """What a map selection holds: how many models pass the filters in it, their downloads, its
    most common libraries, pipelines and licenses, and its EXAMPLES most downloaded models."""
    rows = np.flatnonzero(filter_mask(build, filters) & selection_mask(build, selection))
    downloads, known = build.whole_numbers("downloads")
    result: dict[str, Any] = {
        "models": len(rows),
        "downloads": exact_sum(downloads[rows]),
        "downloads_unknown": int(len(rows) - known[rows].sum()),
    }
    for column in ("library_name", "pipeline_tag", "license"):
        counts = category_counts(build, column, rows)
        common = top_values(build.categories(column), counts, top)
        result[column] = [
            (name, int(counts[code]))
            for name, code in zip(common.ranked, common.codes, strict=True)
        ]
    popular = np.argsort(-np.nan_to_num(build.numbers("downloads")[rows], nan=-1), kind="stable")
    result["examples"] = build.ids(rows[popular[:EXAMPLES]])
    return result


def stat_text(attribute: str, value: float | None) -> str:
    """A statistic of an attribute as the view shows it: a date, an exact count or a rounded
    number; "–" when there is none."""
    if value is None:
        return "–"
    if attribute == "created_at":
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d")
    if isinstance(value, int):  # counts' statistics are exact integers (see exact_summary)
        return f"{value:,}"
    return f"{value:,.1f}" if abs(value) < 100 and value != int(value) else f"{value:,.0f}"

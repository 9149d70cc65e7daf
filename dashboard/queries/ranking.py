"""The most frequent values of a category named one by one, and the rest as one OTHER group.

Every view that names "the top N and the rest" ranks this way: the map's legend and the
network's node colours, the drift view's licenses, a map selection's top libraries, the
filter panel's choices and the growth view's groups. Ties go to the lower code. The models
without a value (NO_VALUE) are never in the OTHER group: when NO_VALUE is not among the top
values it is a group of its own, listed last.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from dashboard.data import Build
from dashboard.values import NO_VALUE, OTHER

LEGEND_VALUES = 12  # values a legend names, each in a colour of its own (figures.colours.PALETTE)


@dataclass(frozen=True)
class TopValues:
    """The top values of a category and the group each of its values falls in."""

    codes: np.ndarray  # the top values' codes (indices into the names), most frequent first
    names: list[str]  # their names, then ``other`` when some other value occurs, then NO_VALUE
    group_of: np.ndarray  # each code's group, an index into names: its rank, other or NO_VALUE
    has_other: bool  # whether some value beyond the top ones (and not NO_VALUE) occurs

    @property
    def ranked(self) -> list[str]:
        """The top values' names, most frequent first (without the other and NO_VALUE groups)."""
        return self.names[: len(self.codes)]


def top_values(
    names: Sequence[str],
    counts: np.ndarray,
    top: int,
    other: str = OTHER,
    left_out: Collection[str] = (),
) -> TopValues:
    """The ``top`` most frequent of ``names`` (``counts[i]``: how often names[i] occurs), never a
    value that does not occur nor one of ``left_out``; every other value that occurs is in one
    group named ``other``, listed after them, but NO_VALUE, a group of its own listed last."""
    counts = np.asarray(counts)
    codes: list[int] = []
    for code in np.argsort(-counts, kind="stable"):
        if len(codes) >= top or counts[code] <= 0:
            break
        if names[code] not in left_out:
            codes.append(int(code))
    occurring = counts > 0
    occurring[codes] = False
    apart = [int(code) for code in np.flatnonzero(occurring) if names[int(code)] == NO_VALUE]
    occurring[apart] = False
    has_other = bool(occurring.any())
    group_of = np.full(len(names), len(codes), dtype=np.int64)
    group_of[codes] = np.arange(len(codes))
    group_of[apart] = len(codes) + has_other
    group_of.flags.writeable = False  # kept with the build by coloured_values
    return TopValues(
        np.asarray(codes, dtype=np.int64),
        [names[code] for code in codes] + ([other] if has_other else []) + [NO_VALUE] * len(apart),
        group_of,
        has_other,
    )


def category_counts(build: Build, column: str, rows: np.ndarray | None = None) -> np.ndarray:
    """How many models (of ``rows``, or of the whole build) hold each value of a category column."""
    codes = build.codes(column) if rows is None else build.codes(column)[rows]
    return np.bincount(codes, minlength=len(build.categories(column)))


def coloured_values(build: Build, column: str) -> TopValues:
    """The values of a category column that are drawn in a colour of their own: its LEGEND_VALUES
    most frequent in the whole build (never NO_VALUE), so a value keeps its colour whatever is
    drawn. Computed once per build."""
    coloured: TopValues = build.derived(
        f"coloured-values:{column}",
        lambda whole: top_values(
            whole.categories(column),
            category_counts(whole, column),
            LEGEND_VALUES,
            left_out={NO_VALUE},
        ),
    )
    return coloured

"""Which models the map draws: a level-of-detail sample within a budget of points.

The browser never gets more points than the budget. Within it the sample keeps, in this
order: the models that must be seen (semantic-search hits, the opened model and its drawn
family), the most downloaded models (POPULAR_SHARE of the budget), then models in a fixed
random order. Because that order is fixed, zooming in (re-querying the visible box) keeps
every point already drawn there and adds more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.filters import Filters, Selection, filter_mask, selection_mask

POPULAR_SHARE = 0.2
COORDINATES = {
    2: {"x": "x2d", "y": "y2d"},
    3: {"x": "x", "y": "y", "z": "z"},
}  # plotly axis -> column


@cache_value_type
@dataclass
class MapPoints:
    rows: np.ndarray  # the rows to draw, ascending
    matching: int  # models that pass the filters
    in_view: int  # of those, inside the visible region (all of them without one)
    total: int  # models in the build

    @property
    def shown(self) -> int:
        return len(self.rows)


def first_in_order(order: np.ndarray, wanted: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` rows of ``order`` (a permutation of all rows) that are wanted."""
    if count <= 0:
        return np.zeros(0, dtype=order.dtype)
    first: np.ndarray = order[wanted[order]][:count]
    return first


def level_of_detail(
    build: Build, candidates: np.ndarray, budget: int, keep: np.ndarray | None = None
) -> np.ndarray:
    """At most ``budget`` rows of the candidate mask, ascending: ``keep`` rows first (their most
    popular ones if they alone exceed the budget), then the most downloaded, then the fixed
    random order."""
    count = int(candidates.sum())
    if count <= budget:
        return np.flatnonzero(candidates)
    chosen = np.zeros(build.size, dtype=bool)
    if keep is not None:
        chosen[first_in_order(build.popularity_order, keep & candidates, budget)] = True
    room = budget - int(chosen.sum())
    chosen[
        first_in_order(build.popularity_order, candidates & ~chosen, int(room * POPULAR_SHARE))
    ] = True
    room = budget - int(chosen.sum())
    chosen[first_in_order(build.sampling_order, candidates & ~chosen, room)] = True
    return np.flatnonzero(chosen)


@cached_query
def map_points(
    build: Build,
    filters: Filters,
    dims: int,
    budget: int,
    view: Selection | None = None,
    keep_rows: tuple[int, ...] = (),
) -> MapPoints:
    """The rows the map draws for these filters, within ``budget``; ``view`` is the visible box of
    a zoomed 2D map; ``keep_rows`` are drawn whenever they pass the filters."""
    matching = filter_mask(build, filters)
    candidates = (
        matching & selection_mask(build, view) if dims == 2 and view is not None else matching
    )
    keep = None
    if keep_rows:
        keep = np.zeros(build.size, dtype=bool)
        keep[np.asarray(keep_rows, dtype=np.int64)] = True
    rows = level_of_detail(build, candidates, max(1, budget), keep)
    return MapPoints(
        rows=rows.astype(np.int32),
        matching=int(matching.sum()),
        in_view=int(candidates.sum()),
        total=build.size,
    )

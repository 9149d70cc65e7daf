"""The filters every view shares, and the region a user selects on the 2D map.

Both are frozen dataclasses of plain values, normalized on construction (trimmed text,
sorted choices), so equal filters give the same query-cache key whatever order the user
picked things in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely

from dashboard.data import Build
from dashboard.values import MAX_COUNT, text, texts, whole_number

MASKS_KEPT = 16  # 1.86 MB each at 1.86M models
CATEGORY_FILTERS = {"libraries": "library_name", "pipelines": "pipeline_tag", "licenses": "license"}


@dataclass(frozen=True)
class Filters:
    """Text search (literal, case-insensitive, over id, author and tags), minimum counts,
    chosen libraries / pipelines / licenses (any of them), base models only."""

    search: str = ""
    min_downloads: int = 0
    min_likes: int = 0
    libraries: tuple[str, ...] = ()
    pipelines: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    base_only: bool = False

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "search", " ".join(str(self.search or "").split()))
        set_(self, "min_downloads", min(MAX_COUNT, max(0, int(self.min_downloads or 0))))
        set_(self, "min_likes", min(MAX_COUNT, max(0, int(self.min_likes or 0))))
        for name in CATEGORY_FILTERS:
            set_(self, name, tuple(sorted({str(value) for value in getattr(self, name) or ()})))
        set_(self, "base_only", bool(self.base_only))

    @classmethod
    def from_inputs(cls, values: object) -> Filters:
        """The filter panel's values ({field: value}, as a callback gets them) as Filters: text that
        is not text, numbers that are not numbers (empty, words) and lists of other things count as
        none."""
        values = values if isinstance(values, dict) else {}
        return cls(
            text(values.get("search")),
            whole_number(values.get("min_downloads"), 0),
            whole_number(values.get("min_likes"), 0),
            texts(values.get("libraries")),
            texts(values.get("pipelines")),
            texts(values.get("licenses")),
            values.get("base_only") is True,
        )

    @property
    def active(self) -> bool:
        return self != Filters()


@dataclass(frozen=True)
class Selection:
    """A region of the 2D map: a box (x0, x1, y0, y1) or a lasso polygon (its corners)."""

    kind: str  # "box" or "lasso"
    points: tuple[float, ...]  # box: x0, x1, y0, y1; lasso: x0, y0, x1, y1, ...

    def __post_init__(self):
        points = tuple(round(float(value), 4) for value in self.points)
        if not all(np.isfinite(points)):
            raise ValueError("a selection's corners must be finite numbers")
        if self.kind == "box":
            if len(points) != 4:
                raise ValueError("a box selection needs x0, x1, y0, y1")
            x0, x1, y0, y1 = points
            points = (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))
        elif self.kind == "lasso":
            if len(points) < 6 or len(points) % 2:
                raise ValueError("a lasso selection needs at least three x, y corners")
        else:
            raise ValueError(f"unknown selection kind {self.kind!r}")
        object.__setattr__(self, "points", points)

    @classmethod
    def from_plotly(cls, selected: dict | None) -> Selection | None:
        """The region of a plotly ``selectedData`` event (box "range" or "lassoPoints"), if any."""
        if not isinstance(selected, dict):
            return None
        try:
            if isinstance(selected.get("range"), dict) and {"x", "y"} <= selected["range"].keys():
                (x0, x1), (y0, y1) = selected["range"]["x"], selected["range"]["y"]
                return cls("box", (x0, x1, y0, y1))
            lasso = selected.get("lassoPoints") or {}
            if isinstance(lasso, dict) and len(lasso.get("x") or ()) >= 3:
                return cls(
                    "lasso", tuple(value for pair in zip(lasso["x"], lasso["y"]) for value in pair)
                )
        except (
            TypeError,
            ValueError,
        ):  # a region that is not one (non-numbers, infinities): no selection
            return None
        return None

    def to_text(self) -> str:
        """ "box:x0,x1,y0,y1" or "lasso:x0,y0,…": the form kept in the URL."""
        return f"{self.kind}:" + ",".join(f"{value:g}" for value in self.points)

    @classmethod
    def from_text(cls, text: str | None) -> Selection | None:
        """The inverse of to_text; None for anything that does not parse."""
        if not isinstance(text, str):
            return None
        kind, _, values = text.partition(":")
        try:
            return cls(kind, tuple(float(value) for value in values.split(",")))
        except (ValueError, OverflowError):
            return None


@lru_cache(maxsize=MASKS_KEPT)
def filter_mask(build: Build, filters: Filters) -> np.ndarray:
    """True for every model that passes the filters (read-only: the last few masks are kept in
    this process, since one filter change asks several queries for the same mask)."""
    mask = np.ones(build.size, dtype=bool)
    if filters.search:
        mask &= build.text_matches(filters.search)
    for column, minimum in (("downloads", filters.min_downloads), ("likes", filters.min_likes)):
        if minimum > 0:
            values, known = build.whole_numbers(
                column
            )  # exact integers: 2**53 + 1 is more than 2**53
            mask &= known & (values >= minimum)  # unknown counts never pass a minimum
    for name, column in CATEGORY_FILTERS.items():
        chosen = getattr(filters, name)
        if chosen:
            wanted = np.flatnonzero(
                np.isin(np.asarray(build.categories(column), dtype=object), chosen)
            )
            mask &= np.isin(build.codes(column), wanted)
    if filters.base_only:
        mask &= build.numbers("depth") == 0
    mask.flags.writeable = False
    return mask


def selection_mask(build: Build, selection: Selection | None) -> np.ndarray:
    """True for every model whose 2D position lies in the region (every model without one)."""
    if selection is None:
        return np.ones(build.size, dtype=bool)
    x, y = build.numbers("x2d"), build.numbers("y2d")
    if selection.kind == "box":
        x0, x1, y0, y1 = selection.points
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    polygon = shapely.make_valid(
        shapely.Polygon(np.asarray(selection.points).reshape(-1, 2))
    )  # a lasso may cross itself
    inside = np.zeros(build.size, dtype=bool)
    x_min, y_min, x_max, y_max = polygon.bounds
    near = np.flatnonzero((x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max))
    inside[near] = shapely.contains_xy(polygon, x[near], y[near])
    return inside

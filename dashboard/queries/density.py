"""Where every model of the filtered set lies on the 2D map: counts per pixel over a box of the
map (datashader), split by legend group when the map is coloured by a category, and the box a
view starts from (the models' robust extent).

The point sample (``queries.points``) draws at most a budget of models; the density layer
beneath it counts all of them, so at 760,000 or 1.86M models nothing is hidden. Zooming asks for
the visible box again, at the same resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import datashader as ds
import numpy as np
import pandas as pd

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.figures.colours import legend_colours
from dashboard.figures.density import density_png
from dashboard.filters import Filters, Selection, filter_mask
from dashboard.queries.map import legend_groups

Box = tuple[float, float, float, float]  # x0, x1, y0, y1

DENSITY_PIXELS = 512  # the longer side of the density image, in pixels (about the plot's)
FRAME_PERCENTILE = 0.5  # a view frames the models between this percentile and 100 minus it
FRAME_PAD = 0.04  # and this share of the framed span on each side
FRAME_ALL_BELOW = 200  # fewer models than this are all framed (no percentile)
MIN_SPAN = 0.5  # the smallest side of a framing box, in map units (one model gets this box)
GROUP_SLOTS = 16  # categories counted per pixel (the legend's groups, the rest empty)
PLAIN_DENSITY = ("downloads",)  # colourings by a number: the density is one colour


def framing_box(x: np.ndarray, y: np.ndarray, pad: float = FRAME_PAD) -> Box | None:
    """The box a view of these positions starts from: between their 0.5th and 99.5th
    percentiles (all of them when there are few), each side at least a fifth of the other and
    MIN_SPAN, padded by ``pad`` of its span on each side; None without positions."""
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if not len(x):
        return None
    cut = FRAME_PERCENTILE if len(x) >= FRAME_ALL_BELOW else 0.0
    (x0, x1), (y0, y1) = (np.percentile(values, [cut, 100 - cut]) for values in (x, y))
    longer = max(x1 - x0, y1 - y0)
    box = []
    for low, high in ((x0, x1), (y0, y1)):
        half = max(high - low, longer / 5, MIN_SPAN) / 2 * (1 + 2 * pad)
        centre = (low + high) / 2
        box += [round(float(centre - half), 4), round(float(centre + half), 4)]
    return (box[0], box[1], box[2], box[3])


def map_frame(build: Build) -> Box | None:
    """The box the 2D map starts from: every model's robust extent (computed once per build)."""
    frame: Box | None = build.derived(
        "map-frame", lambda whole: framing_box(whole.numbers("x2d"), whole.numbers("y2d"))
    )
    return frame


def view_box(build: Build, zoom: Selection | None) -> Box | None:
    """The box a 2D map shows: the zoom box, or the frame of every model without one. A zoom
    box (from a hand-made URL) without area is a MIN_SPAN box around its centre, one wider than
    floats can measure the frame."""
    if zoom is None:
        return map_frame(build)
    x0, x1, y0, y1 = zoom.points
    width, height = x1 - x0, y1 - y0
    if not (np.isfinite(width) and np.isfinite(height)):
        return map_frame(build)
    if width > 0 and height > 0:
        return (x0, x1, y0, y1)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, MIN_SPAN / 2
    return (cx - half, cx + half, cy - half, cy + half)


@cached_query
def matches_frame(build: Build, filters: Filters, rows: tuple[int, ...] = ()) -> Box | None:
    """The box framing the models that pass the filters when a filter is set, else the given
    rows (a semantic search's hits); None when that is no model."""
    chosen = np.flatnonzero(filter_mask(build, filters)) if filters.active else np.asarray(rows)
    if not len(chosen):
        return None
    return framing_box(build.numbers("x2d")[chosen], build.numbers("y2d")[chosen])


def canvas_shape(box: Box, longest: int = DENSITY_PIXELS) -> tuple[int, int]:
    """Width and height in pixels of a density image of the box, with square pixels."""
    x0, x1, y0, y1 = box
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def density_counts(
    build: Build,
    mask: np.ndarray,
    box: Box,
    shape: tuple[int, int],
    groups: np.ndarray | None = None,
    group_count: int = 1,
) -> np.ndarray:
    """How many of the masked models fall in each pixel of the box: an array (group, row, column)
    of uint32, row 0 at the box's bottom; ``groups`` (each masked model's legend group, in row
    order) splits the counts by group, else there is one group."""
    x0, x1, y0, y1 = box
    x, y = build.numbers("x2d"), build.numbers("y2d")
    rows = np.flatnonzero(mask & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    in_box = None if groups is None else groups[np.searchsorted(np.flatnonzero(mask), rows)]
    return count_positions(x[rows], y[rows], box, shape, in_box, group_count)


def count_positions(
    x: np.ndarray,
    y: np.ndarray,
    box: Box,
    shape: tuple[int, int],
    groups: np.ndarray | None = None,
    group_count: int = 1,
) -> np.ndarray:
    """Positions counted per pixel of the box with datashader (``density_counts``)."""
    x0, x1, y0, y1 = (float(value) for value in box)
    width, height = shape
    canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=(x0, x1), y_range=(y0, y1))
    frame = pd.DataFrame({"x": x, "y": y})
    if groups is None:
        counts = canvas.points(frame, "x", "y", agg=ds.count()).values[np.newaxis]
    else:  # datashader compiles its code per number of categories: always GROUP_SLOTS
        slots = max(group_count, GROUP_SLOTS)
        frame["group"] = pd.Categorical.from_codes(groups, categories=range(slots))
        aggregate = canvas.points(frame, "x", "y", agg=ds.count_cat("group"))
        counts = np.moveaxis(aggregate.values, -1, 0)[:group_count]
    return np.ascontiguousarray(counts, dtype=np.uint32)


def warm_up_density() -> None:
    """Compile datashader's code for the density layer (seconds, once per process) on a few
    positions of the types a build holds, so the first map served does not wait for it."""
    x = y = np.zeros(2, dtype=np.float32)
    box, shape = (0.0, 1.0, 0.0, 1.0), (4, 4)
    density_png(count_positions(x, y, box, shape))
    groups = np.arange(2, dtype=np.int64)
    density_png(count_positions(x, y, box, shape, groups, 2), ["#000000", "#ffffff"])


@cache_value_type
@dataclass
class DensityLayer:
    """A density image of a box of the 2D map (a PNG data URI) and how many models it counts."""

    source: str
    box: tuple[float, float, float, float]
    models: int

    def __post_init__(self) -> None:  # the cache gives the box back as a list
        x0, x1, y0, y1 = (float(value) for value in self.box)
        self.box = (x0, x1, y0, y1)


@cached_query
def density_layer(
    build: Build, filters: Filters, box: Box, shape: tuple[int, int], colour: str
) -> DensityLayer:
    """The density image of every model that passes the filters within the box, in the legend
    groups' colours when the map is coloured by a category (one colour otherwise)."""
    mask = filter_mask(build, filters)
    if colour in PLAIN_DENSITY:
        counts = density_counts(build, mask, box, shape)
        colours = None
    else:
        groups, names, coloured = legend_groups(build, np.flatnonzero(mask), colour)
        counts = density_counts(build, mask, box, shape, groups, len(names))
        colours = legend_colours(names, coloured)
    return DensityLayer(density_png(counts, colours), box, int(counts.sum()))

"""The 3D map's overview from above: where the models that pass the filters lie on the plane of
the 3D positions' first two axes (x, y), counted per pixel over a box that is the same for every
filter (the whole build's robust extent), so the overview never moves while the 3D map is turned.

The 3D map draws at most a budget of points; the overview counts all the matching models, as the
2D map's density layer does (``queries.density``, whose counting and shading it reuses).
"""

from __future__ import annotations

import numpy as np

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.figures.density import density_png
from dashboard.filters import Filters, filter_mask
from dashboard.queries.density import Box, DensityLayer, canvas_shape, count_positions, framing_box

MINIMAP_PIXELS = 180  # the longer side of the overview's image, in pixels (about its size shown)
MINIMAP_PAD = 0.08  # of the framed span on each side: room for the camera's marker at an edge
SPREAD = 1  # each model also shades the pixels this close to its own: a lone model stays visible


def minimap_frame(build: Build) -> Box | None:
    """The box of the 3D positions' x, y plane the overview shows: every model's robust extent
    (computed once per build); None for a build without models."""
    frame: Box | None = build.derived(
        "minimap-frame",
        lambda whole: framing_box(whole.numbers("x"), whole.numbers("y"), MINIMAP_PAD),
    )
    return frame


@cached_query
def minimap_layer(build: Build, filters: Filters) -> DensityLayer | None:
    """The density image of the models that pass the filters on the x, y plane of the 3D map,
    over ``minimap_frame`` (None when the build has no models)."""
    box = minimap_frame(build)
    if box is None:
        return None
    rows = np.flatnonzero(filter_mask(build, filters))
    x, y = build.numbers("x")[rows], build.numbers("y")[rows]
    counts = count_positions(x, y, box, canvas_shape(box, MINIMAP_PIXELS))
    return DensityLayer(density_png(spread(counts)), box, int(counts.sum()))


def spread(counts: np.ndarray, reach: int = SPREAD) -> np.ndarray:
    """Counts (group, row, column) summed over each pixel's square of ``reach`` pixels around it:
    at the minimap's size one model is one pixel, too faint to see alone."""
    padded = np.pad(counts, ((0, 0), (reach, reach), (reach, reach)))
    _, height, width = counts.shape
    side = 2 * reach + 1
    total = np.zeros_like(counts)
    for dy in range(side):
        for dx in range(side):
            total += padded[:, dy : dy + height, dx : dx + width]
    return total

"""The density layer of the 2D map: per-pixel counts (``queries.density``) shaded into a PNG
image that plotly draws beneath the points, stretched over the box it counts.

Counts are shaded by histogram equalization (datashader's ``eq_hist``), so the sparse edges of
the map stay visible beside its dense centre; a pixel without models is transparent. Split by
legend group, a pixel's colour mixes the groups' colours by their counts there (the colours the
points of those groups have).
"""

from __future__ import annotations

import datashader.transfer_functions as tf
import numpy as np
import xarray as xr
from _plotly_utils.data_utils import image_array_to_data_uri  # plotly's PNG writer (pypng)

PLAIN_COLOURS = ["#c6d3e6", "#1d3b6e"]  # the density of models when the map is not by category
MIN_ALPHA = 70  # the faintest pixel that holds a model (of 255)
OPACITY = 0.55  # of the whole layer, so the points above it stand out
PNG_COMPRESSION = 6


def density_png(counts: np.ndarray, colours: list[str] | None = None) -> str:
    """Counts (group, row, column; row 0 at the bottom) as an RGBA PNG data URI, top row first:
    one colour ramp without ``colours``, else each group in its colour."""
    groups, height, width = counts.shape
    coords = {"y": np.arange(height), "x": np.arange(width)}
    if colours is None:
        aggregate = xr.DataArray(counts[0], dims=("y", "x"), coords=coords)
        image = tf.shade(aggregate, cmap=PLAIN_COLOURS, how="eq_hist", min_alpha=MIN_ALPHA)
    else:
        aggregate = xr.DataArray(
            np.moveaxis(counts, 0, -1),
            dims=("y", "x", "group"),
            coords={**coords, "group": np.arange(groups)},
        )
        image = tf.shade(aggregate, color_key=colours, how="eq_hist", min_alpha=MIN_ALPHA)
    pixels = np.asarray(image.data, dtype=np.uint32).view(np.uint8).reshape(height, width, 4)
    return image_array_to_data_uri(
        np.ascontiguousarray(pixels[::-1]), backend="pypng", compression=PNG_COMPRESSION
    )


def density_image(source: str, box: tuple[float, float, float, float]) -> dict:
    """A plotly layout image drawing a density PNG beneath the traces, over the box it counts."""
    x0, x1, y0, y1 = box
    return {
        "source": source,
        "xref": "x",
        "yref": "y",
        "x": x0,
        "y": y1,
        "sizex": x1 - x0,
        "sizey": y1 - y0,
        "sizing": "stretch",
        "xanchor": "left",
        "yanchor": "top",
        "layer": "below",
        "opacity": OPACITY,
        "name": "density",
    }

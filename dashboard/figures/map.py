"""The map: models at their UMAP positions in 2D (Scattergl) or 3D (Scatter3d), drawn from
what ``queries.map.map_contents`` read of them.

Per point the browser gets float32 coordinates rounded to 3 decimals and uint8 marker sizes
as base64 typed arrays, and the model's row as ``customdata``, a plain list (dcc.Graph copies
customdata into click and hover events only from a plain list): about 21 bytes a point.
Hovering a point asks the server for the model's facts, so no per-point strings are sent.
One trace per legend group, so the legend stays readable (12 groups + other).
"""

from __future__ import annotations

import base64

import numpy as np

from dashboard.figures.colours import RELATION_COLOURS, SIMILAR_COLOUR, legend_colours
from dashboard.figures.density import density_image
from dashboard.filters import Selection
from dashboard.queries.density import DensityLayer
from dashboard.queries.map import COLOUR_CHOICES, MapContents
from dashboard.shown import plotly_text
from dashboard.values import legend_name

SIZES = {2: (3, 14), 3: (3, 10)}  # marker size range in px (3D: at the default budget)


def size_range(dims: int, points: int) -> tuple[int, int]:
    """The marker size range in px: the SIZES range, and in 3D larger the fewer points are drawn
    (a 3D scene shrinks every marker with its depth: 3-10 px at 20,000 points, 6-13 px at 100)."""
    low, high = SIZES[dims]
    if dims == 3:
        grow = int(np.clip(np.round(np.log10(20_000 / max(points, 1)) * 1.3), 0, 3))
        low, high = low + grow, high + grow
    return low, high


def point_sizes(values: np.ndarray, dims: int) -> np.ndarray:
    """Whole-pixel marker sizes growing with log(1 + value) (unknown = 0), over the size range
    for this many points."""
    low, high = size_range(dims, len(values))
    logged = np.log1p(np.maximum(np.nan_to_num(values, nan=0.0), 0.0))
    top = logged.max() if len(logged) else 0.0
    if top <= 0:
        return np.full(len(values), low, dtype=np.uint8)
    return np.round(low + (high - low) * logged / top).astype(np.uint8)


def typed_array(values: np.ndarray) -> dict:
    """A numeric array in plotly.js's typed-array form: its dtype and its bytes in base64."""
    values = np.ascontiguousarray(values)
    return {
        "dtype": values.dtype.str.lstrip("<>|="),
        "bdata": base64.b64encode(values.tobytes()).decode("ascii"),
    }


def map_figure(
    contents: MapContents,
    zoom: Selection | None = None,
    selection: Selection | None = None,
    density: DensityLayer | None = None,
) -> dict:
    """The map as a plotly figure dict: the hits of a semantic search are ringed, the opened
    model is starred, a family's links are drawn as parent-child lines coloured by relation; a 2D
    map shows the box of ``contents.view`` (the ``zoom`` box restored from the URL, or the frame
    of every model), the ``density`` image of every model beneath the points, and the
    ``selection`` region. A dict, not a go.Figure: plotly.py's validation of 100k points would
    take longer than everything else."""
    dims, rows, coordinates = contents.dims, contents.rows, contents.coordinates
    if contents.size_values is not None:
        sizes = point_sizes(contents.size_values, dims)
    else:
        sizes = np.full(len(rows), size_range(dims, len(rows))[0] + 1, dtype=np.uint8)
    kind = "scattergl" if dims == 2 else "scatter3d"
    data = []

    def add(at: np.ndarray, name: str, marker: dict, **options) -> None:
        data.append(
            {
                "type": kind,
                "mode": "markers",
                "name": name,
                "hoverinfo": "none",
                **{axis: typed_array(values[at]) for axis, values in coordinates.items()},
                "customdata": rows[at].tolist(),
                "marker": {
                    "size": typed_array(sizes[at]),
                    "opacity": 0.8,
                    "line": {"width": 0},
                    **marker,
                },
                **options,
            }
        )

    if contents.colour_values is not None:
        shade = np.log10(1 + np.nan_to_num(contents.colour_values, nan=0.0))
        add(
            np.arange(len(rows)),
            "models",
            {
                "color": typed_array(np.round(shade, 2).astype(np.float32)),
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": {"text": "log10 downloads"}},
            },
            showlegend=False,
        )
    else:
        names = contents.group_names
        colours = legend_colours(names, contents.coloured)
        for group, (name, colour) in enumerate(zip(names, colours, strict=True)):
            at = np.flatnonzero(contents.groups == group)
            if len(at):  # a value from the build: text, never markup; in full on hover
                short, full = legend_name(name)
                add(at, plotly_text(short), {"color": colour}, meta=full)
    data += family_lines(contents.family_links, dims)
    if contents.hits is not None:
        ring = {
            "symbol": "circle-open",
            "color": SIMILAR_COLOUR,
            "size": 14 if dims == 2 else 7,
            "line": {"width": 2, "color": SIMILAR_COLOUR},
        }
        add(contents.hits, "semantic search hits", ring)
    if len(contents.opened):
        add(
            contents.opened,
            "opened model",
            {
                "symbol": "star" if dims == 2 else "diamond",
                "color": "#000000",
                "size": 18 if dims == 2 else 8,
            },
        )
    layout = {
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        # outside the plot, on its left (the mode bar is on its right): the map is as high as
        # the view allows, and as wide (equal scales), which leaves room beside it
        "legend": {
            "itemsizing": "constant",
            "title": {"text": COLOUR_CHOICES.get(contents.colour_by, contents.colour_by)},
            "x": -0.01,
            "xanchor": "right",
            "y": 1,
            "yanchor": "top",
        },
        "modebar": {"orientation": "v"},
        "uirevision": f"map-{dims}",
        "clickmode": "event",
    }
    labels = {
        **contents.cluster_labels,
        "text": [plotly_text(label) for label in contents.cluster_labels["text"]],
    }
    if dims == 2:
        # labels as annotations: drawn above the points (a text trace lies under WebGL's), each on
        # a light background, placed apart by queries.map.place_labels
        layout["annotations"] = [
            {
                "x": x,
                "y": y,
                "text": text,
                "showarrow": False,
                "font": {"size": 11, "color": "#222222"},
                "bgcolor": "rgba(255,255,255,0.75)",
                "borderpad": 1,
            }
            for x, y, text in zip(labels["x"], labels["y"], labels["text"], strict=True)
        ]
        # equal scales; the plot area shrinks to the box's shape rather than show beyond it
        layout.update(
            xaxis={"visible": False, "constrain": "domain"},
            yaxis={"visible": False, "scaleanchor": "x", "constrain": "domain"},
            dragmode="pan",
            plot_bgcolor="#ffffff",
        )
        box = contents.view if contents.view is not None else zoom.points if zoom else None
        if box is not None:
            x0, x1, y0, y1 = box
            layout["xaxis"]["range"], layout["yaxis"]["range"] = [x0, x1], [y0, y1]
        if density is not None:
            layout["images"] = [density_image(density.source, density.box)]
        if selection is not None:
            layout["selections"] = [selection_shape(selection)]
    else:
        hidden = {"visible": False, "showspikes": False}
        layout["scene"] = {
            "xaxis": hidden,
            "yaxis": hidden,
            "zaxis": hidden,
            "bgcolor": "#ffffff",
            # closer than plotly's default eye (1.25, 1.25, 1.25), which frames the outliers too
            "camera": {"eye": {"x": 0.85, "y": 0.85, "z": 0.7}},
            # labels as annotations: a 3D text trace takes seconds to draw in
            # software WebGL
            "annotations": [
                {
                    "x": x,
                    "y": y,
                    "z": z,
                    "text": text,
                    "showarrow": False,
                    "font": {"size": 11, "color": "#222222"},
                }
                for x, y, z, text in zip(
                    labels["x"], labels["y"], labels["z"], labels["text"], strict=True
                )
            ],
        }
    return {"data": data, "layout": layout}


def selection_shape(selection: Selection) -> dict:
    """A plotly layout selection drawing a box or lasso region."""
    if selection.kind == "box":
        x0, x1, y0, y1 = selection.points
        return {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1}
    corners = np.asarray(selection.points).reshape(-1, 2)
    return {"type": "path", "path": "M" + "L".join(f"{x:g},{y:g}" for x, y in corners) + "Z"}


def family_lines(links: dict[str, dict[str, np.ndarray]], dims: int) -> list[dict]:
    """Parent -> child lines of a family's links (queries.map.family_links), one trace per
    relation."""
    return [
        {
            "type": "scattergl" if dims == 2 else "scatter3d",
            "mode": "lines",
            "name": f"{relation} links",
            "hoverinfo": "skip",
            "line": {"color": RELATION_COLOURS[relation], "width": 1.5 if dims == 2 else 3},
            **{axis: typed_array(values) for axis, values in segments.items()},
        }
        for relation, segments in links.items()
    ]

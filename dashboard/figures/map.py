"""The map: models at their UMAP positions in 2D (Scattergl) or 3D (Scatter3d).

Per point the browser gets float32 coordinates rounded to 3 decimals and uint8 marker sizes
as base64 typed arrays, and the model's row as ``customdata``, a plain list (dcc.Graph copies
customdata into click and hover events only from a plain list): about 21 bytes a point.
Hovering a point asks the server for the model's facts, so no per-point strings are sent.
One trace per legend group, so the legend stays readable (12 groups + other).
"""

from __future__ import annotations

import base64

import numpy as np

from dashboard.data import Build
from dashboard.figures.colours import (
    OTHER, OTHER_COLOUR, PALETTE, RELATION_COLOURS, SIMILAR_COLOUR, top_colours,
)
from dashboard.filters import Selection
from dashboard.queries.network import Graph
from dashboard.queries.points import COORDINATES
from dashboard.shown import plotly_text

COLOUR_CHOICES = {
    "library_name": "library",
    "pipeline_tag": "pipeline",
    "cluster": "cluster",
    "license": "license",
    "depth": "family depth",
    "downloads": "popularity (downloads)",
}
SIZE_CHOICES = {"downloads": "downloads", "likes": "likes", "trending_score": "trending score", "none": "same size"}
LABELLED_CLUSTERS = 15
MAX_DEPTH_GROUP = 4  # depths from here on share one legend group
SIZES = {2: (3, 14), 3: (2, 9)}  # marker size range in px


def point_sizes(values: np.ndarray, dims: int) -> np.ndarray:
    """Whole-pixel marker sizes growing with log(1 + value) (unknown = 0), over the SIZES range."""
    low, high = SIZES[dims]
    logged = np.log1p(np.maximum(np.nan_to_num(values, nan=0.0), 0.0))
    top = logged.max() if len(logged) else 0.0
    if top <= 0:
        return np.full(len(values), low, dtype=np.uint8)
    return np.round(low + (high - low) * logged / top).astype(np.uint8)


def cluster_names(build: Build) -> list[str]:
    """"<cluster>: <label>" for every cluster number."""
    labels = dict(zip(build.clusters["cluster"], build.clusters["label"]))
    count = int(build.numbers("cluster").max()) + 1 if build.size else 0
    return [f"{c}: {labels.get(c, '')}" for c in range(count)]


def legend_groups(build: Build, rows: np.ndarray, colour_by: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Each row's legend group (an index into the names), the group names in legend order and
    their colours; the last group is OTHER when the colouring has more values than colours."""
    if colour_by == "depth":
        names = ["base model", *(f"depth {d}" for d in range(1, MAX_DEPTH_GROUP)), f"depth {MAX_DEPTH_GROUP}+"]
        return np.minimum(build.numbers("depth")[rows], MAX_DEPTH_GROUP), names, list(PALETTE[: len(names)])
    if colour_by == "cluster":
        values, codes = cluster_names(build), build.numbers("cluster")
    else:
        values, codes = build.categories(colour_by), build.codes(colour_by)
    colours = top_colours(values, np.bincount(codes, minlength=len(values)))
    group_of_value = np.full(len(values), len(colours), dtype=np.int64)  # every other value: OTHER
    index_of = {value: i for i, value in enumerate(values)}
    for group, value in enumerate(colours):
        group_of_value[index_of[value]] = group
    return group_of_value[codes[rows]], [*colours, OTHER], [*colours.values(), OTHER_COLOUR]


def typed_array(values: np.ndarray) -> dict:
    """A numeric array in plotly.js's typed-array form: its dtype and its bytes in base64."""
    values = np.ascontiguousarray(values)
    return {"dtype": values.dtype.str.lstrip("<>|="), "bdata": base64.b64encode(values.tobytes()).decode("ascii")}


def map_figure(build: Build, rows: np.ndarray, dims: int, colour_by: str = "library_name", size_by: str = "downloads",
               highlight=None, opened: int | None = None, family: Graph | None = None,
               zoom: Selection | None = None, selection: Selection | None = None) -> dict:
    """The map of the given rows as a plotly figure dict; ``highlight`` rows (semantic hits) are
    ringed, the ``opened`` model is starred, a ``family`` graph is drawn as parent-child lines
    coloured by relation; a 2D map starts at the ``zoom`` box and shows the ``selection`` region
    (both restored from the URL). A dict, not a go.Figure: plotly.py's validation of 100k points
    would take longer than everything else."""
    axes = COORDINATES[dims]
    coordinates = {axis: np.round(build.numbers(column)[rows].astype(np.float32), 3) for axis, column in axes.items()}
    sizes = point_sizes(build.numbers(size_by)[rows], dims) if size_by in SIZE_CHOICES and size_by != "none" \
        else np.full(len(rows), SIZES[dims][0] + 1, dtype=np.uint8)
    kind = "scattergl" if dims == 2 else "scatter3d"
    data = []

    def add(at: np.ndarray, name: str, marker: dict, **options) -> None:
        data.append({
            "type": kind, "mode": "markers", "name": name, "hoverinfo": "none",
            **{axis: typed_array(coordinates[axis][at]) for axis in axes},
            "customdata": rows[at].tolist(),
            "marker": {"size": typed_array(sizes[at]), "opacity": 0.8, "line": {"width": 0}, **marker}, **options})

    if colour_by == "downloads":
        colour = np.round(np.log10(1 + np.nan_to_num(build.numbers("downloads")[rows], nan=0.0)), 2).astype(np.float32)
        add(np.arange(len(rows)), "models", {"color": typed_array(colour), "colorscale": "Viridis", "showscale": True,
                                             "colorbar": {"title": {"text": "log10 downloads"}}}, showlegend=False)
    else:
        groups, names, colours = legend_groups(build, rows, colour_by)
        for group, (name, colour) in enumerate(zip(names, colours)):
            at = np.flatnonzero(groups == group)
            if len(at):
                add(at, plotly_text(name), {"color": colour})  # a value from the build: text, never markup
    if family is not None and family.edges:
        data += family_lines(build, family, dims)
    if highlight is not None and len(highlight):
        ring = {"symbol": "circle-open", "color": SIMILAR_COLOUR, "size": 14 if dims == 2 else 7,
                "line": {"width": 2, "color": SIMILAR_COLOUR}}
        add(np.flatnonzero(np.isin(rows, highlight)), "semantic search hits", ring)
    if opened is not None and (rows == opened).any():
        add(np.flatnonzero(rows == opened), "opened model",
            {"symbol": "star" if dims == 2 else "diamond", "color": "#000000", "size": 18 if dims == 2 else 8})
    layout = {
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "legend": {"itemsizing": "constant", "title": {"text": COLOUR_CHOICES.get(colour_by, colour_by)},
                   "bgcolor": "rgba(255,255,255,0.8)", "x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top"},
        "modebar": {"orientation": "v"},
        "uirevision": f"map-{dims}",
        "clickmode": "event",
    }
    labels = cluster_labels(build, dims, rows)
    if dims == 2:
        data.append({"type": "scatter", "mode": "text", "hoverinfo": "skip", "name": "cluster labels", "showlegend": False,
                     "textfont": {"size": 11, "color": "#222222"}, **labels})
        layout.update(xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"}, dragmode="pan",
                      plot_bgcolor="#ffffff")
        if zoom is not None:
            x0, x1, y0, y1 = zoom.points
            layout["xaxis"]["range"], layout["yaxis"]["range"] = [x0, x1], [y0, y1]
        if selection is not None:
            layout["selections"] = [selection_shape(selection)]
    else:
        hidden = {"visible": False, "showspikes": False}
        layout["scene"] = {"xaxis": hidden, "yaxis": hidden, "zaxis": hidden, "bgcolor": "#ffffff",
                           # labels as annotations: a 3D text trace takes seconds to draw in software WebGL
                           "annotations": [{"x": x, "y": y, "z": z, "text": text, "showarrow": False,
                                            "font": {"size": 11, "color": "#222222"}}
                                           for x, y, z, text in zip(labels["x"], labels["y"], labels["z"], labels["text"])]}
    return {"data": data, "layout": layout}


def selection_shape(selection: Selection) -> dict:
    """A plotly layout selection drawing a box or lasso region."""
    if selection.kind == "box":
        x0, x1, y0, y1 = selection.points
        return {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1}
    corners = np.asarray(selection.points).reshape(-1, 2)
    return {"type": "path", "path": "M" + "L".join(f"{x:g},{y:g}" for x, y in corners) + "Z"}


def family_lines(build: Build, family: Graph, dims: int) -> list[dict]:
    """Parent -> child lines of a family graph, one trace per relation."""
    traces = []
    for relation, colour in RELATION_COLOURS.items():
        pairs = np.asarray([(a, b) for a, b, kind, _ in family.edges if kind == relation], dtype=np.int64).reshape(-1, 2)
        if not len(pairs):
            continue
        line = {}
        for axis, column in COORDINATES[dims].items():
            values = build.numbers(column)
            segments = np.full((len(pairs), 3), np.nan, dtype=np.float32)  # parent, child, gap
            segments[:, 0], segments[:, 1] = values[pairs[:, 0]], values[pairs[:, 1]]
            line[axis] = typed_array(np.round(segments.ravel(), 3))
        traces.append({"type": "scattergl" if dims == 2 else "scatter3d", "mode": "lines", "name": f"{relation} links",
                       "hoverinfo": "skip", "line": {"color": colour, "width": 1.5 if dims == 2 else 3}, **line})
    return traces


def cluster_labels(build: Build, dims: int, rows: np.ndarray) -> dict[str, list]:
    """The labels ("text") and centres ("x", "y" and, in 3D, "z") of the largest clusters among
    the drawn rows."""
    drawn = build.clusters["cluster"].isin(np.unique(build.numbers("cluster")[rows]))
    clusters = build.clusters[drawn].nlargest(LABELLED_CLUSTERS, "size")
    return {"text": [plotly_text(label) for label in clusters["label"]],
            **{axis: clusters[column].round(3).tolist() for axis, column in COORDINATES[dims].items()}}

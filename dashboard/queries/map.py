"""What the map shows of the rows it draws: positions, the values sizes and colours come from,
legend groups, the marked models, a family's links and the largest clusters' labels.

``queries.points`` chooses the rows; ``map_contents`` reads what is drawn of them from the
build, as plain arrays and lists, and ``figures.map.map_figure`` only draws that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.data import Build
from dashboard.queries.network import Graph
from dashboard.queries.points import COORDINATES
from dashboard.queries.ranking import LEGEND_VALUES, top_values
from dashboard.values import NO_VALUE
from pipeline.build_format import RELATIONS

COLOUR_CHOICES = {
    "library_name": "library",
    "pipeline_tag": "pipeline",
    "cluster": "cluster",
    "license": "license",
    "depth": "family depth",
    "downloads": "popularity (downloads)",
}
SIZE_CHOICES = {
    "downloads": "downloads",
    "likes": "likes",
    "trending_score": "trending score",
    "none": "same size",
}
Box = tuple[float, float, float, float]  # x0, x1, y0, y1 of the 2D map
LABELLED_CLUSTERS = 15  # most cluster labels drawn on the 2D map
LABELLED_CLUSTERS_3D = 8  # and in 3D, where a turn of the scene may bring any two together
LABEL_TEXT_CHARS = 28  # a cluster label on the map is cut to this many characters
# A label's size on screen, for placing labels apart: the map's text is 11 px Open Sans, whose
# characters average under 6.5 px; the plot is at least about this many pixels wide and high.
LABEL_CHAR_PIXELS, LABEL_PAD_PIXELS, LABEL_LINE_PIXELS = 7.0, 8.0, 18.0
PLOT_PIXELS = (440, 400)
MAX_DEPTH_GROUP = 4  # depths from here on share one legend group


@dataclass
class MapContents:
    """What the map draws, point by point in the order of ``rows``."""

    dims: int  # 2 or 3
    rows: np.ndarray  # the drawn rows of the build (each point's customdata)
    coordinates: dict[str, np.ndarray]  # plotly axis -> each point's position (float32, 3 decimals)
    size_values: np.ndarray | None  # each point's value of the size column; None: all the same size
    colour_by: str  # one of COLOUR_CHOICES
    colour_values: np.ndarray | None  # colour_by "downloads": each point's downloads (NaN: unknown)
    groups: np.ndarray | None  # otherwise: each point's legend group, an index into group_names
    group_names: list[str]  # in legend order; after the first ``coloured`` comes the other group
    coloured: int  # the legend groups with a colour of their own
    hits: np.ndarray | None  # positions of the semantic search's hits among the points (None: none)
    opened: np.ndarray  # the position of the opened model among the points (empty: not drawn)
    family_links: dict[str, dict[str, np.ndarray]]  # relation -> axis -> parent, child, NaN each
    cluster_labels: dict[
        str, list[object]
    ]  # "text": the largest drawn clusters' labels; axes: centres
    view: Box | None = None  # the box a 2D map shows (a zoom, or the frame of every model)


def cluster_names(build: Build) -> list[str]:
    """ "<cluster>: <label>" for every cluster number."""
    labels = dict(zip(build.clusters["cluster"], build.clusters["label"], strict=True))
    count = int(build.numbers("cluster").max()) + 1 if build.size else 0
    return [f"{c}: {labels.get(c, '')}" for c in range(count)]


def legend_groups(
    build: Build, rows: np.ndarray, colour_by: str
) -> tuple[np.ndarray, list[str], int]:
    """Each row's legend group (an index into the names), the group names in legend order and how
    many of them have a colour of their own: a category's LEGEND_VALUES most frequent values in
    the whole build (so a value keeps its colour whatever is drawn), then OTHER for the rest."""
    if colour_by == "depth":
        names = [
            "base model",
            *(f"depth {d}" for d in range(1, MAX_DEPTH_GROUP)),
            f"depth {MAX_DEPTH_GROUP}+",
        ]
        return np.minimum(build.numbers("depth")[rows], MAX_DEPTH_GROUP), names, len(names)
    if colour_by == "cluster":
        values, codes = cluster_names(build), build.numbers("cluster")
    else:
        values, codes = build.categories(colour_by), build.codes(colour_by)
    top = top_values(
        values, np.bincount(codes, minlength=len(values)), LEGEND_VALUES, left_out={NO_VALUE}
    )
    return top.group_of[codes[rows]], top.names, len(top.codes)


def family_links(build: Build, family: Graph, dims: int) -> dict[str, dict[str, np.ndarray]]:
    """A family graph's parent -> child links by relation (in RELATIONS order, relations without a
    link left out): per plotly axis the parent's and the child's position and a gap, per link."""
    links: dict[str, dict[str, np.ndarray]] = {}
    for relation in RELATIONS:
        pairs = np.asarray(
            [(a, b) for a, b, kind, _ in family.edges if kind == relation], dtype=np.int64
        ).reshape(-1, 2)
        if not len(pairs):
            continue
        links[relation] = {}
        for axis, column in COORDINATES[dims].items():
            values = build.numbers(column)
            segments = np.full((len(pairs), 3), np.nan, dtype=np.float32)  # parent, child, gap
            segments[:, 0], segments[:, 1] = values[pairs[:, 0]], values[pairs[:, 1]]
            links[relation][axis] = np.round(segments.ravel(), 3)
    return links


def short_label(label: str, limit: int = LABEL_TEXT_CHARS) -> str:
    """A cluster label cut to its first comma-separated words that fit ``limit`` characters (the
    first word cut with "…" when even it is longer)."""
    words = [word.strip() for word in str(label).split(",") if word.strip()]
    kept: list[str] = []
    for word in words:
        if len(", ".join([*kept, word])) > limit:
            break
        kept.append(word)
    if kept:
        return ", ".join(kept)
    return words[0][: limit - 1] + "…" if words else ""


def label_box(text: str, x: float, y: float, units_per_pixel: float) -> Box:
    """The box (x0, x1, y0, y1, in map units) a label of text centred at (x, y) takes, estimated
    from its length in LABEL_CHAR_PIXELS wide characters and LABEL_LINE_PIXELS high lines."""
    half_width = (len(text) * LABEL_CHAR_PIXELS + LABEL_PAD_PIXELS) / 2 * units_per_pixel
    half_height = LABEL_LINE_PIXELS / 2 * units_per_pixel
    return (x - half_width, x + half_width, y - half_height, y + half_height)


def place_labels(
    texts: list[str],
    xs: list[float],
    ys: list[float],
    view: Box,
    plot_pixels: tuple[int, int] = PLOT_PIXELS,
    most: int = LABELLED_CLUSTERS,
) -> list[int]:
    """Which labels (indices, in the given order: largest cluster first) to show on a 2D view of
    the box drawn in a plot of about ``plot_pixels``: each one whose box lies inside the view and
    meets no label shown before it, at most ``most``."""
    x0, x1, y0, y1 = view
    units_per_pixel = max((x1 - x0) / plot_pixels[0], (y1 - y0) / plot_pixels[1])
    placed: list[Box] = []
    shown: list[int] = []
    for index, (text, x, y) in enumerate(zip(texts, xs, ys, strict=True)):
        if len(shown) >= most or not text:
            continue
        a0, a1, b0, b1 = box = label_box(text, x, y, units_per_pixel)
        if a0 < x0 or a1 > x1 or b0 < y0 or b1 > y1:
            continue
        if any(a0 < c1 and c0 < a1 and b0 < d1 and d0 < b1 for c0, c1, d0, d1 in placed):
            continue
        placed.append(box)
        shown.append(index)
    return shown


def cluster_labels(
    build: Build, dims: int, rows: np.ndarray, view: Box | None = None
) -> dict[str, list[object]]:
    """The labels ("text") and centres ("x", "y" and, in 3D, "z") of the largest clusters among
    the drawn rows: in 3D the LABELLED_CLUSTERS_3D largest, on a 2D view of a box those that fit in
    it without meeting each other (``place_labels``), each label cut short (``short_label``)."""
    drawn = build.clusters["cluster"].isin(np.unique(build.numbers("cluster")[rows]))
    clusters = build.clusters[drawn].sort_values("size", ascending=False, kind="stable")
    texts = [short_label(label) for label in clusters["label"]]
    axes = {axis: clusters[column].round(3).tolist() for axis, column in COORDINATES[dims].items()}
    if dims == 2 and view is not None:
        kept = place_labels(texts, axes["x"], axes["y"], view)
    else:
        kept = list(range(min(LABELLED_CLUSTERS_3D, len(texts))))
    return {
        "text": [texts[i] for i in kept],
        **{axis: [values[i] for i in kept] for axis, values in axes.items()},
    }


def map_contents(
    build: Build,
    rows: np.ndarray,
    dims: int,
    colour_by: str = "library_name",
    size_by: str = "downloads",
    hits: list[int] | None = None,
    opened: int | None = None,
    family: Graph | None = None,
    view: Box | None = None,
) -> MapContents:
    """What the map draws of the given rows: ``hits`` (rows found by the semantic search) are
    ringed, the ``opened`` row is starred, a ``family`` graph's links are drawn by relation;
    ``view`` is the box a 2D map shows (its labels fit in it)."""
    coordinates = {
        axis: np.round(build.numbers(column)[rows].astype(np.float32), 3)
        for axis, column in COORDINATES[dims].items()
    }
    sized = size_by in SIZE_CHOICES and size_by != "none"
    colour_values, groups, coloured = None, None, 0
    names: list[str] = []
    if colour_by == "downloads":
        colour_values = build.numbers("downloads")[rows]
    else:
        groups, names, coloured = legend_groups(build, rows, colour_by)
    return MapContents(
        dims=dims,
        rows=rows,
        coordinates=coordinates,
        size_values=build.numbers(size_by)[rows] if sized else None,
        colour_by=colour_by,
        colour_values=colour_values,
        groups=groups,
        group_names=names,
        coloured=coloured,
        hits=np.flatnonzero(np.isin(rows, hits)) if hits else None,
        opened=np.flatnonzero(rows == opened) if opened is not None else np.zeros(0, np.int64),
        family_links=family_links(build, family, dims) if family is not None else {},
        cluster_labels=cluster_labels(build, dims, rows, view),
        view=view if dims == 2 else None,
    )

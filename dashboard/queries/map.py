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
LABELLED_CLUSTERS = 15
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


def cluster_labels(build: Build, dims: int, rows: np.ndarray) -> dict[str, list[object]]:
    """The labels ("text") and centres ("x", "y" and, in 3D, "z") of the largest clusters among
    the drawn rows."""
    drawn = build.clusters["cluster"].isin(np.unique(build.numbers("cluster")[rows]))
    clusters = build.clusters[drawn].nlargest(LABELLED_CLUSTERS, "size")
    return {
        "text": clusters["label"].tolist(),
        **{axis: clusters[column].round(3).tolist() for axis, column in COORDINATES[dims].items()},
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
) -> MapContents:
    """What the map draws of the given rows: ``hits`` (rows found by the semantic search) are
    ringed, the ``opened`` row is starred, a ``family`` graph's links are drawn by relation."""
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
        cluster_labels=cluster_labels(build, dims, rows),
    )

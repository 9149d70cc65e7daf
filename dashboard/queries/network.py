"""The graph around one model: its family tree (ancestors and descendants) and its nearest
models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask
from dashboard.queries.ranking import coloured_values
from pipeline.build_format import RELATIONS

SIMILAR = "similar"
MAX_ANCESTORS = (
    100  # ancestors drawn at most: a chain 50,000 links deep, or 10,000 parents, stay a small graph
)


@cache_value_type
@dataclass
class Graph:
    """Nodes are rows of the build; each edge is (from row, to row, kind, weight): a parent link
    (kind = its relation, from parent to child) or a similarity (kind "similar", weight =
    cosine)."""

    centre: int
    nodes: list[int] = field(default_factory=list)
    edges: list[tuple[int, int, str, float]] = field(default_factory=list)
    ancestors: int = 0
    ancestors_left_out: int = (
        0  # parents of drawn ancestors that were not drawn (their own ancestors not counted)
    )
    descendants_shown: int = 0
    descendants_total: int = 0  # along primary parents, as the build counts them

    def add_nodes(self, rows: Iterable[int]) -> None:
        """Append the rows not drawn yet, in order."""
        known = set(self.nodes)
        for row in map(int, rows):
            if row not in known:
                known.add(row)
                self.nodes.append(row)


def family_tree(build: Build, row: int, max_nodes: int = 400) -> Graph:
    """The model, its ancestors level by level up to MAX_ANCESTORS, and its descendants level by
    level until ``max_nodes``; when a level does not fit, its most downloaded models are kept, so
    the drawn tree stays connected, and the ancestors left out are counted."""
    edges = build.edges
    downloads = np.nan_to_num(build.numbers("downloads"), nan=-1)
    graph = Graph(
        centre=row, nodes=[row], descendants_total=int(build.numbers("n_descendants")[row])
    )
    seen = {row}
    frontier = np.asarray([row])
    while len(
        frontier
    ):  # up: the parent links of each level of ancestors (a merge has several parents)
        links = np.concatenate([edges.of_child(r) for r in frontier])
        links = links[edges.parent_row[links] >= 0]
        fresh = np.asarray(
            [p for p in np.unique(edges.parent_row[links]) if int(p) not in seen], dtype=np.int64
        )
        room = MAX_ANCESTORS - graph.ancestors
        if len(fresh) > room:
            graph.ancestors_left_out = len(fresh) - room
            fresh = np.sort(fresh[np.argsort(-downloads[fresh], kind="stable")[:room]])
        seen.update(int(p) for p in fresh)
        for link in links:
            if int(edges.parent_row[link]) in seen:
                graph.edges.append(
                    (
                        int(edges.parent_row[link]),
                        int(edges.child_row[link]),
                        RELATIONS[edges.relation[link]],
                        1.0,
                    )
                )
        graph.add_nodes(fresh)
        graph.ancestors += len(fresh)
        frontier = fresh if not graph.ancestors_left_out else np.zeros(0, dtype=np.int64)
    frontier = np.asarray([row])
    while len(frontier) and len(graph.nodes) < max_nodes:  # down, one level at a time
        links = edges.children_of(frontier)
        children = np.unique(edges.child_row[links])
        children = children[[int(c) not in seen for c in children]] if len(children) else children
        room = max_nodes - len(graph.nodes)
        if len(children) > room:
            children = np.sort(children[np.argsort(-downloads[children], kind="stable")[:room]])
        kept = set(int(c) for c in children)
        for link in links:
            if int(edges.child_row[link]) in kept:
                graph.edges.append(
                    (
                        int(edges.parent_row[link]),
                        int(edges.child_row[link]),
                        RELATIONS[edges.relation[link]],
                        1.0,
                    )
                )
        seen.update(kept)
        graph.add_nodes(children)
        graph.descendants_shown += len(children)
        frontier = children
    return graph


def add_neighbourhood(build: Build, graph: Graph, k: int = 10, hops: int = 1) -> Graph:
    """Add each drawn similarity neighbourhood: the centre's k nearest models (and theirs, for
    hops=2)."""
    frontier = [graph.centre]
    for _ in range(hops):
        reached = []
        for row in frontier:
            near, similarity = build.neighbours(row)
            for other, weight in zip(near[:k], similarity[:k]):
                graph.edges.append((int(row), int(other), SIMILAR, round(float(weight), 3)))
                reached.append(int(other))
        graph.add_nodes(reached)
        frontier = reached
    return graph


@cached_query
def passing_rows(build: Build, filters: Filters, rows: tuple[int, ...]) -> list[int]:
    """The given rows that pass the filters."""
    mask = filter_mask(build, filters)
    return [row for row in rows if mask[row]]


@cached_query
def model_graph(
    build: Build,
    model_id: str,
    show: str = "both",
    max_nodes: int = 400,
    k: int = 10,
    hops: int = 1,
) -> Graph | None:
    """The network view's graph for a model: ``show`` is "family", "similar" or "both"."""
    row = build.row(model_id)
    if row is None:
        return None
    graph = (
        family_tree(build, row, max_nodes)
        if show in ("family", "both")
        else Graph(centre=row, nodes=[row])
    )
    if show in ("similar", "both"):
        add_neighbourhood(build, graph, k, hops)
    return graph


@dataclass
class GraphModels:
    """What the network figure shows of a graph's models, in the order of its nodes."""

    graph: Graph
    model_ids: list[str]
    libraries: list[str]
    downloads: np.ndarray  # NaN where unknown
    passing: set[int] | None  # the rows that pass the filters; None: no filters, every row
    coloured_libraries: list[str]  # the libraries with a colour of their own, most frequent first


def graph_models(build: Build, graph: Graph, passing: set[int] | None = None) -> GraphModels:
    """The ids, libraries and downloads of a graph's models, read from the build for the figure;
    ``passing``: the rows that pass the filters, when there are filters."""
    rows = np.asarray(graph.nodes, dtype=np.int64)
    return GraphModels(
        graph,
        build.ids(rows),
        build.category_of("library_name", rows).tolist(),
        build.numbers("downloads")[rows],
        passing,
        coloured_values(build, "library_name").ranked,
    )

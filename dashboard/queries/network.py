"""The graph around one model: its family tree (ancestors and descendants) and its nearest
models.

The tree view draws a family a person can read: at most ``LEVEL_LIMIT`` models per generation
(the most downloaded), the other children of each drawn model gathered per relation into one
"+N more (quantized)" node, which a click opens ``EXPAND_STEP`` models at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build, Edges
from dashboard.filters import Filters, filter_mask
from dashboard.queries.ranking import coloured_values
from pipeline.build_format import RELATIONS

SIMILAR = "similar"
MAX_ANCESTORS = (
    100  # ancestors drawn at most: a chain 50,000 links deep, or 10,000 parents, stay a small graph
)
LEVEL_LIMIT = 12  # models per generation the tree draws before it groups the rest
TREE_DEPTH = 4  # generations of descendants the tree draws; deeper ones are groups until opened
EXPAND_STEP = 24  # models of a group one click on its "+N more" node adds


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
    # the family's rows by generation (0 the centre, -1 its parents, 1 its children, ...) and the
    # drawn model each sits under (descendants) or above (ancestors), for the tree layout
    generation: dict[int, int] = field(default_factory=dict)
    placed_by: dict[int, int] = field(default_factory=dict)
    # children not drawn, one "+N more" node per (parent row, relation): (parent, relation, N)
    groups: list[tuple[int, str, int]] = field(default_factory=list)

    def add_nodes(self, rows: Iterable[int]) -> None:
        """Append the rows not drawn yet, in order."""
        known = set(self.nodes)
        for row in map(int, rows):
            if row not in known:
                known.add(row)
                self.nodes.append(row)


def group_id(parent: int, relation: str) -> str:
    """The node id of a "+N more" group: the hidden children of ``parent`` by ``relation``."""
    return f"more:{parent}:{relation}"


def parse_group_id(node_id: object) -> tuple[int, str] | None:
    """(parent row, relation) of a group's node id; None for anything else."""
    parts = str(node_id).split(":")
    if len(parts) != 3 or parts[0] != "more" or not parts[1].isdigit():
        return None
    if parts[2] not in RELATIONS:
        return None
    return int(parts[1]), parts[2]


def expansions(data: object, limit: int = 2000) -> tuple[tuple[int, str, int], ...]:
    """The opened groups a browser sent (a list of [parent row, relation, n]) as the sorted,
    valid (parent, relation, n) the tree takes, n at most ``limit``; anything else left out."""
    found = {}
    for item in data if isinstance(data, list) else []:
        if not (isinstance(item, list) and len(item) == 3):
            continue
        parent, relation, count = item
        if (
            isinstance(parent, int)
            and isinstance(count, int)
            and relation in RELATIONS
            and parent >= 0
            and count > 0
        ):
            found[(parent, relation)] = min(count, limit)
    return tuple((parent, relation, n) for (parent, relation), n in sorted(found.items()))


def expand(data: object, node_id: object) -> list[list[object]]:
    """The opened groups after a click on the group ``node_id``: EXPAND_STEP more of its models."""
    key = parse_group_id(node_id)
    opened = {(p, r): n for p, r, n in expansions(data)}
    if key is not None:
        opened[key] = opened.get(key, 0) + EXPAND_STEP
    return [[p, r, n] for (p, r), n in sorted(opened.items())]


def family_tree(
    build: Build,
    row: int,
    max_nodes: int = 400,
    level_limit: int | None = None,
    expanded: tuple[tuple[int, str, int], ...] = (),
) -> Graph:
    """The model's family tree as ``lineage_tree`` draws it from the build's links."""
    return lineage_tree(
        build.edges,
        np.nan_to_num(build.numbers("downloads"), nan=-1),
        row,
        max_nodes,
        level_limit,
        expanded,
        descendants_total=int(build.numbers("n_descendants")[row]),
    )


def lineage_tree(
    edges: Edges,
    downloads: np.ndarray,
    row: int,
    max_nodes: int = 400,
    level_limit: int | None = None,
    expanded: tuple[tuple[int, str, int], ...] = (),
    descendants_total: int = 0,
) -> Graph:
    """The model, its ancestors level by level up to MAX_ANCESTORS, and its descendants level by
    level until ``max_nodes``; when a level does not fit, its most downloaded models are kept, so
    the drawn tree stays connected, and the ancestors left out are counted.

    With ``level_limit``, each generation draws at most that many models (the most downloaded),
    TREE_DEPTH generations deep, and every drawn model's other children become one group per
    relation (``Graph.groups``), also below the last generation the budget or the depth allows;
    ``expanded`` holds (parent row, relation, n): the group's n most downloaded children are
    drawn too."""
    graph = Graph(centre=row, nodes=[row], descendants_total=descendants_total)
    graph.generation[row] = 0
    seen = {row}
    frontier = np.asarray([row])
    level = 0
    while len(frontier):  # up: the parent links of each level of ancestors (merges: many parents)
        level -= 1
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
            parent, child = int(edges.parent_row[link]), int(edges.child_row[link])
            if parent in seen:
                graph.edges.append((parent, child, RELATIONS[edges.relation[link]], 1.0))
                if parent in fresh and parent not in graph.generation:
                    graph.generation[parent] = level
                    graph.placed_by[parent] = child
        graph.add_nodes(fresh)
        graph.ancestors += len(fresh)
        frontier = fresh if not graph.ancestors_left_out else np.zeros(0, dtype=np.int64)
    opened = {(int(p), str(r)): int(n) for p, r, n in expanded}
    frontier = np.asarray([row])
    level = 0
    while len(frontier) and (level_limit is not None or len(graph.nodes) < max_nodes):
        level += 1  # down, one generation at a time
        links = edges.children_of(frontier)
        links = links[[int(c) not in seen for c in edges.child_row[links]]] if len(links) else links
        # each child under one drawn parent: its strongest relation's, then the first drawn
        rank = {int(p): i for i, p in enumerate(frontier)}
        order = np.lexsort(
            (
                [rank[int(p)] for p in edges.parent_row[links]],
                edges.relation[links],
                edges.child_row[links],
            )
        )
        links_by_child = links[order]
        children, first = np.unique(edges.child_row[links_by_child], return_index=True)
        under = links_by_child[first]  # the placing link of each child
        room = max(0, max_nodes - len(graph.nodes))
        limit = room if level_limit is None else min(level_limit, room)
        if level_limit is not None and level > TREE_DEPTH:
            limit = 0  # deeper generations: only what the groups opened
        ranked = np.argsort(-downloads[children], kind="stable")
        kept = set(int(c) for c in children[ranked[:limit]])
        if level_limit is not None:
            rest = grouped_rest(edges, children[ranked], under[ranked], kept, opened, limit > 0)
            graph.groups.extend(rest[1])
            kept |= rest[0]
        for link in links:
            parent, child = int(edges.parent_row[link]), int(edges.child_row[link])
            if child in kept:
                graph.edges.append((parent, child, RELATIONS[edges.relation[link]], 1.0))
        for child, link in zip(children, under):
            if int(child) in kept:
                graph.generation[int(child)] = level
                graph.placed_by[int(child)] = int(edges.parent_row[link])
        drawn = np.asarray(sorted(kept), dtype=np.int64)
        seen.update(kept)
        graph.add_nodes(drawn)
        graph.descendants_shown += len(drawn)
        frontier = drawn
    return graph


def grouped_rest(
    edges: Edges,
    children: np.ndarray,
    under: np.ndarray,
    kept: set[int],
    opened: dict[tuple[int, str], int],
    lone: bool,
) -> tuple[set[int], list[tuple[int, str, int]]]:
    """A generation's children that are not kept (``children`` most downloaded first, each with
    its placing link in ``under``), per (parent, relation): the ones drawn anyway (the first n of
    a group opened n; with ``lone``, a group's only member) and the groups of the others as
    (parent, relation, count)."""
    members: dict[tuple[int, str], list[int]] = {}
    for child, link in zip(children, under):
        if int(child) not in kept:
            key = (int(edges.parent_row[link]), RELATIONS[edges.relation[link]])
            members.setdefault(key, []).append(int(child))
    drawn: set[int] = set()
    groups = []
    for key, rows in members.items():
        shown = min(len(rows), opened.get(key, 0))
        if lone and len(rows) - shown == 1:
            shown += 1
        drawn.update(rows[:shown])
        if len(rows) > shown:
            groups.append((*key, len(rows) - shown))
    return drawn, groups


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
    level_limit: int | None = None,
    expanded: tuple[tuple[int, str, int], ...] = (),
) -> Graph | None:
    """The network view's graph for a model: ``show`` is "family", "similar" or "both"; the
    family grouped beyond ``level_limit`` models per generation (see ``lineage_tree``)."""
    row = build.row(model_id)
    if row is None:
        return None
    graph = (
        family_tree(build, row, max_nodes, level_limit, expanded)
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

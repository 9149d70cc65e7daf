"""Trait orderings (paper §"directional mutation"): the order in which traits tend to follow
each other from parent to child, and how well one order explains the changes.

The trait-transition graph over links where both ends report the trait: for each value a child
adds, one count from every value of the parent to it; for each value a child drops, one count
from it to every value the child has. Only the most common values are kept (licenses and
languages: 20, libraries and pipelines: 10, by number of models; placeholders such as "other"
and "unknown" left out, as in the paper's code). For each pair of values the net count sets one
directed edge (none on a tie). The order that agrees with the most directed edges is found
exactly (the paper solves the same problem as an ILP with OR-Tools; here each strongly
connected knot of the graph is ordered by an exact dynamic program over its subsets, whose
time is bounded whatever the graph: see ``best_order``).
Reported: the order, the edges that agree out of all, and the share of the counts (both
directions) that flow down the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from findings.tables import TraitSets

__all__ = [
    "PLACEHOLDER_VALUES",
    "TOP_TRAITS",
    "TraitOrder",
    "best_order",
    "directed_edges",
    "order_traits",
    "top_values",
    "transition_counts",
]

TOP_TRAITS = {"license": 20, "language": 20, "library": 10, "pipeline": 10}
PLACEHOLDER_VALUES = frozenset({"other", "unknown", "none", "null", "nan", "[]"})


@dataclass(frozen=True)
class TraitOrder:
    order: list[str]  # first (upstream) to last
    edges_agreeing: int
    edges_total: int
    share_down: float | None  # None when no counts
    disagreeing: list[tuple[str, str]]  # directed edges (from, to) that go up the order
    links: int  # links where both ends report the trait

    def to_dict(self) -> dict:
        return {
            "order": self.order,
            "edges_agreeing": self.edges_agreeing,
            "edges_total": self.edges_total,
            "share_down": self.share_down,
            "disagreeing": [list(edge) for edge in self.disagreeing],
            "links": self.links,
        }


def top_values(traits: TraitSets, count: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Codes of the ``count`` values most models (of ``rows``, default all) report, most first
    (ties by value), placeholders left out."""
    codes = traits.codes if rows is None else traits.codes[np.isin(traits.rows, rows)]
    models = np.bincount(codes, minlength=len(traits.labels))
    real = np.array(
        [str(label).strip().lower() not in PLACEHOLDER_VALUES for label in traits.labels],
        dtype=bool,
    )
    candidates = np.flatnonzero((models > 0) & real)
    ranked = sorted(candidates.tolist(), key=lambda code: (-models[code], traits.labels[code]))
    return np.asarray(ranked[:count], dtype=np.int64)


def transition_counts(
    traits: TraitSets, parent: np.ndarray, child: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, int]:
    """counts[i, j] between ``values`` (codes) over the links whose two ends both report the
    trait (any value), and the number of those links."""
    sizes = traits.sizes
    both = (sizes[parent] > 0) & (sizes[child] > 0)
    parent, child = parent[both], child[both]
    column = np.full(len(traits.labels), -1, np.int64)
    column[values] = np.arange(len(values))
    has_parent, has_child = (_membership(traits, rows, column) for rows in (parent, child))
    added = (has_child & ~has_parent).astype(np.float64)
    dropped = (has_parent & ~has_child).astype(np.float64)
    counts = has_parent.T.astype(np.float64) @ added + dropped.T @ has_child.astype(np.float64)
    return np.rint(counts).astype(np.int64), int(len(parent))


def _membership(traits: TraitSets, rows: np.ndarray, column: np.ndarray) -> np.ndarray:
    """member[i, k]: whether rows[i] reports the value of column k (column[code], -1: none)."""
    member = np.zeros((len(rows), int(column.max(initial=-1)) + 1), dtype=bool)
    at, codes = traits.values_at(rows)
    kept = column[codes] >= 0
    member[at[kept], column[codes[kept]]] = True
    return member


def directed_edges(counts: np.ndarray) -> list[tuple[int, int]]:
    """(i, j) for each pair whose net count i -> j is positive."""
    net = counts - counts.T
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(net > 0), strict=True)]


def _strong_components(size: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    """The strongly connected components of the graph, in a topological order of the graph of
    components (Kosaraju: the second search, on the reversed edges, finds them in that order)."""
    forward: list[list[int]] = [[] for _ in range(size)]
    backward: list[list[int]] = [[] for _ in range(size)]
    for i, j in edges:
        forward[i].append(j)
        backward[j].append(i)
    finished, seen = [], [False] * size
    for start in range(size):
        if seen[start]:
            continue
        seen[start] = True
        stack = [(start, iter(forward[start]))]
        while stack:
            node, ahead = stack[-1]
            step = next((nxt for nxt in ahead if not seen[nxt]), None)
            if step is None:
                stack.pop()
                finished.append(node)
            else:
                seen[step] = True
                stack.append((step, iter(forward[step])))
    components, owner = [], [-1] * size
    for start in reversed(finished):
        if owner[start] >= 0:
            continue
        owner[start], members, todo = len(components), [], [start]
        while todo:
            node = todo.pop()
            members.append(node)
            for previous in backward[node]:
                if owner[previous] < 0:
                    owner[previous] = len(components)
                    todo.append(previous)
        components.append(sorted(members))
    return components


def _best_order_of(nodes: list[int], edges: list[tuple[int, int]]) -> tuple[list[int], int]:
    """The exact best order of ``nodes`` for the ``edges`` among them: a dynamic program over
    the subsets (best[S] = the most edges agreeing inside S when S comes first), one numpy step
    per (subset size, last value)."""
    count = len(nodes)
    place = {node: bit for bit, node in enumerate(nodes)}
    into = np.zeros(count, np.int64)  # bit mask of the values with an edge into each value
    for i, j in edges:
        into[place[j]] |= 1 << place[i]
    subsets = np.arange(1 << count, dtype=np.int64)
    members = np.zeros(1 << count, np.int16)
    for bit in range(count):
        members += ((subsets >> bit) & 1).astype(np.int16)
    best = np.full(1 << count, -1, np.int32)
    best[0] = 0
    by_size = np.argsort(members, kind="stable")
    bounds = np.searchsorted(members[by_size], np.arange(count + 2))
    for members_now in range(count):
        layer = by_size[bounds[members_now] : bounds[members_now + 1]]
        for bit in range(count):
            first = layer[(layer & (1 << bit)) == 0]
            grown = first | (1 << bit)
            best[grown] = np.maximum(best[grown], best[first] + members[first & into[bit]])
    order, subset = [], (1 << count) - 1
    while subset:  # walk back: which value was placed last
        for bit in range(count):
            rest_of = subset ^ (1 << bit)
            if subset >> bit & 1 and best[subset] == best[rest_of] + members[rest_of & into[bit]]:
                order.append(nodes[bit])
                subset = rest_of
                break
    return order[::-1], int(best[-1])


def best_order(size: int, edges: list[tuple[int, int]]) -> tuple[list[int], int]:
    """An order of 0..size-1 that agrees with the most ``edges`` (i before j for an edge
    (i, j)), exactly, and how many edges it agrees with.

    Some best order puts the strongly connected components of the graph in their topological
    order (every edge between two components then agrees), so each component is ordered on
    its own, by an exact dynamic program over its subsets: instant for the nearly acyclic
    graphs of real traits, about half a second for one knot of 20 values. Values without any
    edge go last, in their order. (CP-SAT over the
    paper's ILP gives the same optimum, tests/findings/test_findings_ordering.py checks both
    against brute force, but can take minutes on a dense 20-value graph.)"""
    touched = {node for edge in edges for node in edge}
    order: list[int] = []
    for component in _strong_components(size, edges):
        inside = set(component)
        own = [(i, j) for i, j in edges if i in inside and j in inside]
        if own:
            order += _best_order_of(component, own)[0]
        elif component[0] in touched:  # a value with edges, in no knot
            order += component
    order += [node for node in range(size) if node not in touched]
    rank = {node: place for place, node in enumerate(order)}
    return order, sum(1 for i, j in edges if rank[i] < rank[j])


def order_traits(
    traits: TraitSets,
    parent: np.ndarray,
    child: np.ndarray,
    count: int,
    rows: np.ndarray | None = None,
) -> TraitOrder:
    """The best order of the ``count`` most common values over the links (parent[i], child[i])."""
    values = top_values(traits, count, rows)
    counts, links = transition_counts(traits, parent, child, values)
    edges = directed_edges(counts)
    order, agreeing = best_order(len(values), edges)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    down = rank[:, None] < rank[None, :]
    total = int(counts.sum())
    labels = [str(traits.labels[code]) for code in values]
    return TraitOrder(
        order=[labels[i] for i in order],
        edges_agreeing=int(agreeing),
        edges_total=len(edges),
        share_down=float(counts[down].sum() / total) if total else None,
        disagreeing=[(labels[i], labels[j]) for i, j in edges if rank[i] > rank[j]],
        links=links,
    )

"""Cytoscape elements and style for the network view: a family tree and a similarity neighbourhood.

``drawn_network`` is the view's finished graph (elements and the line above them), cached whole:
a repeated request only reads it back, with no graph, elements or filter work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.figures.colours import OTHER_COLOUR, RELATION_COLOURS, SIMILAR_COLOUR, category_colours
from dashboard.filters import Filters
from dashboard.queries.network import SIMILAR, Graph, model_graph, passing_rows
from dashboard.shown import LABEL_CHARS, shorten

NODE_SIZE = (14, 60)  # px, by log downloads


def graph_elements(build: Build, graph: Graph, passing: set[int] | None = None) -> list[dict]:
    """Nodes (sized by log downloads, coloured by library; faded unless in ``passing``, the rows that
    pass the filters, when given) and edges (coloured by relation; similarity links dashed), each
    similarity pair once."""
    rows = np.asarray(graph.nodes, dtype=np.int64)
    downloads = np.nan_to_num(build.numbers("downloads")[rows], nan=0.0)
    logged = np.log1p(np.maximum(downloads, 0))
    low, high = NODE_SIZE
    sizes = low + (high - low) * logged / logged.max() if len(rows) and logged.max() > 0 else np.full(len(rows), low)
    colours = category_colours(build, "library_name")
    libraries = build.category_of("library_name", rows)
    ids = build.ids(rows)
    elements = []
    for row, model_id, library, size in zip(rows, ids, libraries, sizes):
        # model_id re-centres the graph when the node is clicked: an absurdly long one is cut (and
        # then opens nothing) rather than sent whole
        elements.append({"data": {"id": str(row), "model_id": shorten(model_id),
                                  "label": shorten(model_id.split("/")[-1], LABEL_CHARS),
                                  "colour": colours.get(library, OTHER_COLOUR), "size": round(float(size), 1)},
                         "classes": " ".join(name for name, on in (("centre", row == graph.centre),
                                                                   ("filtered-out", passing is not None and int(row) not in passing)) if on)})
    seen = set()
    for source, target, kind, weight in graph.edges:
        pair = (min(source, target), max(source, target), kind) if kind == SIMILAR else (source, target, kind)
        if pair in seen or source == target:
            continue
        seen.add(pair)
        elements.append({"data": {"id": f"{kind}:{source}-{target}", "source": str(source), "target": str(target),
                                  "relation": kind, "similarity": weight,
                                  "colour": SIMILAR_COLOUR if kind == SIMILAR else RELATION_COLOURS[kind]},
                         "classes": "similar" if kind == SIMILAR else "lineage"})
    return elements


@cache_value_type
@dataclass
class DrawnNetwork:
    """What the view shows of a model's graph: its cytoscape elements, its centre row, how many
    models they draw, the line above them, and a key naming the set of elements drawn (the same
    when only the filters differ)."""

    elements: list[dict]
    centre: int
    nodes: int
    count: str
    key: str


@cached_query
def drawn_network(build: Build, filters: Filters, model_id: str, show: str, nodes: int, k: int,
                  hops: int) -> DrawnNetwork | None:
    """The finished graph of a model for the view's settings and filters (None for an unknown
    model)."""
    graph = model_graph.cached(build, model_id, show, nodes, k, hops)
    if graph is None:
        return None
    parts = [f"{len(graph.nodes):,} models: {shorten(model_id)}"]
    if show in ("family", "both"):
        left_out = graph.ancestors_left_out
        more = f" (+{left_out:,} more not drawn)" if left_out else ""
        parts.append(f"{graph.ancestors:,} ancestors{more}, {graph.descendants_shown:,} of"
                     f" {graph.descendants_total:,} descendants")
    passing = None
    if filters.active:
        passing = set(passing_rows(build, filters, tuple(graph.nodes)))
        parts.append(f"{len(passing):,} pass the filters (the others are faded)")
    elements = graph_elements(build, graph, passing)
    ids = "\n".join(element["data"]["id"] for element in elements)
    key = hashlib.blake2b(ids.encode("utf-8"), digest_size=8).hexdigest()
    return DrawnNetwork(elements, graph.centre, len(graph.nodes), "; ".join(parts), key)


STYLESHEET = [
    {"selector": "node", "style": {"width": "data(size)", "height": "data(size)", "background-color": "data(colour)",
                                   "label": "data(label)", "font-size": 9, "text-valign": "bottom", "text-margin-y": 3,
                                   "min-zoomed-font-size": 7, "border-width": 1, "border-color": "#ffffff",
                                   "z-index-compare": "manual", "z-index": 10}},  # a click on a node hits the node
    {"selector": "node.filtered-out", "style": {"opacity": 0.25}},
    {"selector": "node.centre", "style": {"border-width": 4, "border-color": "#000000", "font-weight": "bold", "font-size": 12}},
    {"selector": "edge", "style": {"width": 1.5, "line-color": "data(colour)", "curve-style": "bezier", "opacity": 0.8,
                                   "z-index-compare": "manual", "z-index": 1}},
    {"selector": "edge.lineage", "style": {"target-arrow-shape": "triangle", "target-arrow-color": "data(colour)", "arrow-scale": 0.8}},
    {"selector": "edge.similar", "style": {"line-style": "dashed", "width": "mapData(similarity, 0, 1, 0.5, 3)"}},
    {"selector": ":selected", "style": {"border-width": 3, "border-color": "#d62728"}},
]


def relation_legend() -> list[tuple[str, str]]:
    """(label, colour) of every edge kind, for the view's legend."""
    return [(f"{name} link", colour) for name, colour in RELATION_COLOURS.items()] + [("similar model", SIMILAR_COLOUR)]

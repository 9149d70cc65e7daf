"""Cytoscape elements and style for the network view: a family tree and a similarity
neighbourhood, drawn from what ``queries.network.graph_models`` read of their models."""

from __future__ import annotations

import numpy as np

from dashboard.figures.colours import (
    OTHER_COLOUR,
    RELATION_COLOURS,
    SIMILAR_COLOUR,
    palette_colours,
)
from dashboard.queries.network import SIMILAR, GraphModels
from dashboard.shown import LABEL_CHARS, shorten

NODE_SIZE = (14, 60)  # px, by log downloads
# cytoscape's force-directed layout (cose) is quadratic in the models drawn: 2,000 of them held the
# browser for minutes; graphs larger than this are drawn as a tree in rings around the centre
# (breadthfirst, circle), and the line above says so
COSE_MAX_NODES = 400
COSE = {
    "name": "cose",
    "animate": False,
    "nodeRepulsion": 8000,
    "idealEdgeLength": 60,
    "randomize": False,
    "coolingFactor": 0.95,
}  # about 135 rounds instead of cose's 690


def graph_elements(models: GraphModels) -> list[dict]:
    """Nodes (sized by log downloads, coloured by library; faded unless they pass the filters,
    when there are filters) and edges (coloured by relation; similarity links dashed), each
    similarity pair once."""
    graph, passing = models.graph, models.passing
    rows = np.asarray(graph.nodes, dtype=np.int64)
    logged = np.log1p(np.maximum(np.nan_to_num(models.downloads, nan=0.0), 0))
    low, high = NODE_SIZE
    if len(rows) and logged.max() > 0:
        sizes = low + (high - low) * logged / logged.max()
    else:
        sizes = np.full(len(rows), low)
    colours = palette_colours(models.coloured_libraries)
    elements = []
    nodes = zip(rows, models.model_ids, models.libraries, sizes, strict=True)
    for row, model_id, library, size in nodes:
        classes = (
            ("centre", row == graph.centre),
            ("filtered-out", passing is not None and int(row) not in passing),
        )
        # model_id re-centres the graph when the node is clicked: an absurdly long one is cut (and
        # then opens nothing) rather than sent whole
        elements.append(
            {
                "data": {
                    "id": str(row),
                    "model_id": shorten(model_id),
                    "label": shorten(model_id.split("/")[-1], LABEL_CHARS),
                    "colour": colours.get(library, OTHER_COLOUR),
                    "size": round(float(size), 1),
                },
                "classes": " ".join(name for name, on in classes if on),
            }
        )
    seen = set()
    for source, target, kind, weight in graph.edges:
        pair = (
            (min(source, target), max(source, target), kind)
            if kind == SIMILAR
            else (source, target, kind)
        )
        if pair in seen or source == target:
            continue
        seen.add(pair)
        elements.append(
            {
                "data": {
                    "id": f"{kind}:{source}-{target}",
                    "source": str(source),
                    "target": str(target),
                    "relation": kind,
                    "similarity": weight,
                    "colour": SIMILAR_COLOUR if kind == SIMILAR else RELATION_COLOURS[kind],
                },
                "classes": "similar" if kind == SIMILAR else "lineage",
            }
        )
    return elements


def graph_layout(name: str, nodes: int, centre: int, key: str) -> tuple[dict, str]:
    """The cytoscape layout asked for ("cose" or "breadthfirst") for a graph of ``nodes`` models
    around ``centre`` whose drawn elements are named by ``key``, and a note for the line above
    the graph when it is drawn otherwise (cose beyond COSE_MAX_NODES: a tree in rings)."""
    note = ""
    if name == "cose" and nodes > COSE_MAX_NODES:
        name = "circle"
        note = f"; drawn as a tree in rings (force-directed up to {COSE_MAX_NODES:,} models)"
    roots = f"[id = '{centre}']"
    tree = {"name": "breadthfirst", "animate": False, "roots": roots, "circle": name == "circle"}
    layout = COSE if name == "cose" else tree
    # cytoscape ignores an option it does not know; this one changes the prop (and so runs the
    # layout once) when other elements are drawn, and not when a filter only fades some of them
    return {**layout, "drawn": key}, note


STYLESHEET = [
    {
        "selector": "node",
        "style": {
            "width": "data(size)",
            "height": "data(size)",
            "background-color": "data(colour)",
            "label": "data(label)",
            "font-size": 9,
            "text-valign": "bottom",
            "text-margin-y": 3,
            "min-zoomed-font-size": 7,
            "border-width": 1,
            "border-color": "#ffffff",
            "z-index-compare": "manual",
            "z-index": 10,
        },
    },  # a click on a node hits the node
    {"selector": "node.filtered-out", "style": {"opacity": 0.25}},
    {
        "selector": "node.centre",
        "style": {
            "border-width": 4,
            "border-color": "#000000",
            "font-weight": "bold",
            "font-size": 12,
        },
    },
    {
        "selector": "edge",
        "style": {
            "width": 1.5,
            "line-color": "data(colour)",
            "curve-style": "bezier",
            "opacity": 0.8,
            "z-index-compare": "manual",
            "z-index": 1,
        },
    },
    {
        "selector": "edge.lineage",
        "style": {
            "target-arrow-shape": "triangle",
            "target-arrow-color": "data(colour)",
            "arrow-scale": 0.8,
        },
    },
    {
        "selector": "edge.similar",
        "style": {"line-style": "dashed", "width": "mapData(similarity, 0, 1, 0.5, 3)"},
    },
    {"selector": ":selected", "style": {"border-width": 3, "border-color": "#d62728"}},
]


def relation_legend() -> list[tuple[str, str]]:
    """(label, colour) of every edge kind, for the view's legend."""
    return [(f"{name} link", colour) for name, colour in RELATION_COLOURS.items()] + [
        ("similar model", SIMILAR_COLOUR)
    ]

"""Cytoscape elements and style for the network view: a family tree and a similarity
neighbourhood, drawn from what ``queries.network.graph_models`` read of their models."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from dashboard.figures.colours import (
    OTHER_COLOUR,
    RELATION_COLOURS,
    SIMILAR_COLOUR,
    palette_colours,
)
from dashboard.queries.network import EXPAND_STEP, SIMILAR, GraphModels, group_id
from dashboard.shown import LABEL_CHARS, shorten

NODE_SIZE = (14, 60)  # px, by log downloads
GROUP_SIZE = 22  # px, a "+N more" node
FONT_PX = 9  # px, labels
TREE_LABEL_CHARS = 32  # a label longer than this is cut with "…" (the full id on hover)
CENTRE_FONT = 1.3  # the centre's label, this much larger
# the tree layout: model units between neighbouring slots and generations; the graph's size on a
# small screen, which the whole tree is fitted into; a node's largest share of a slot
X_GAP, Y_GAP = 70, 110
VIEW = (640, 520)
MAX_NODE_SHARE = 0.8
CHAR_WIDTH = 0.62  # of the font size: a label's width per character (sans-serif, average)
LABEL_LINES = 2.2  # of the font size: a label's height below its node, with the margins
FIT_ROUNDS = 4
STRETCH = 2.5
SIMILAR_COLUMN = 8  # similar models beside the tree, in columns of this many
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


def node_labels(model_ids: list[str]) -> list[str]:
    """Each model's label: the name after the slash, or the whole id where two of the drawn
    models share that name (any case), e.g. "TheBloke/Llama-2-7B-GGUF" beside
    "someone/Llama-2-7B-GGUF"."""
    names = [model_id.split("/")[-1] for model_id in model_ids]
    counts = Counter(name.casefold() for name in names)
    return [
        model_id if counts[name.casefold()] > 1 else name
        for model_id, name in zip(model_ids, names, strict=True)
    ]


def graph_elements(models: GraphModels, tree: bool = False) -> list[dict]:
    """Nodes (sized by log downloads, coloured by library; faded unless they pass the filters,
    when there are filters) and edges (coloured by relation; similarity links dashed), each
    similarity pair once. With ``tree``, the nodes carry their places in the tree layout
    (``tree_layout``), the family's "+N more" groups are drawn, and only the labels that fit are
    shown (each node's full name is its ``hover``)."""
    graph, passing = models.graph, models.passing
    rows = np.asarray(graph.nodes, dtype=np.int64)
    logged = np.log1p(np.maximum(np.nan_to_num(models.downloads, nan=0.0), 0))
    low, high = NODE_SIZE
    if len(rows) and logged.max() > 0:
        sizes = low + (high - low) * logged / logged.max()
    else:
        sizes = np.full(len(rows), low)
    colours = palette_colours(models.coloured_libraries)
    labels = node_labels(models.model_ids)
    placed = tree_layout(models, labels, sizes) if tree else None
    elements = []
    nodes = zip(rows, models.model_ids, labels, models.libraries, sizes, strict=True)
    for row, model_id, label, library, size in nodes:
        classes = (
            ("centre", row == graph.centre),
            ("filtered-out", passing is not None and int(row) not in passing),
        )
        # model_id re-centres the graph when the node is clicked: an absurdly long one is cut (and
        # then opens nothing) rather than sent whole
        node = {
            "data": {
                "id": str(row),
                "model_id": shorten(model_id),
                "label": short_label(label),
                "hover": shorten(model_id, LABEL_CHARS),
                "colour": colours.get(library, OTHER_COLOUR),
                "size": round(float(size), 1),
                "font": FONT_PX * (CENTRE_FONT if row == graph.centre else 1),
            },
            "classes": " ".join(name for name, on in classes if on),
        }
        if placed is not None:
            placed.place(node)
        elements.append(node)
    if placed is not None:
        for parent, relation, count in graph.groups:
            node = {
                "data": {
                    "id": group_id(parent, relation),
                    "label": f"+{count:,} more ({relation})",
                    "hover": f"{count:,} more {relation} children: click to draw"
                    f" {min(count, EXPAND_STEP):,} of them",
                    "colour": RELATION_COLOURS[relation],
                    "size": GROUP_SIZE,
                    "font": FONT_PX,
                },
                "classes": "more",
            }
            placed.place(node)
            elements.append(node)
            elements.append(
                {
                    "data": {
                        "id": f"{relation}:{parent}-{node['data']['id']}",
                        "source": str(parent),
                        "target": node["data"]["id"],
                        "relation": relation,
                        "similarity": 1.0,
                        "colour": RELATION_COLOURS[relation],
                    },
                    "classes": "lineage",
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


def short_label(label: str) -> str:
    """A node's label cut to TREE_LABEL_CHARS with "…"."""
    return label if len(label) <= TREE_LABEL_CHARS else label[: TREE_LABEL_CHARS - 1] + "…"


@dataclass
class TreePlaces:
    """Where the tree layout puts each node (model units) and the size and font each is drawn
    with; ``labelled``: the nodes whose label is shown."""

    positions: dict[str, tuple[float, float]]
    sizes: dict[str, float]
    font: float
    labelled: set[str]

    def place(self, node: dict) -> None:
        """Give a node element its position, size, font and (when it does not fit) no label."""
        data = node["data"]
        x, y = self.positions[data["id"]]
        node["position"] = {"x": round(x, 1), "y": round(y, 1)}
        data["size"] = round(self.sizes.get(data["id"], data["size"]), 1)
        data["font"] = round(self.font * (CENTRE_FONT if "centre" in node["classes"] else 1), 1)
        if data["id"] not in self.labelled:
            data["label"] = ""


def tree_slots(models: GraphModels) -> dict[str, tuple[float, int]]:
    """(slot, row) of every node of the tree: a generation per row (ancestors above the centre,
    descendants below), each model's children side by side under it (most downloaded first, its
    groups last), a parent centred over its children; models outside the family (similar ones)
    in columns to the right."""
    graph = models.graph
    downloads = dict(
        zip(map(int, graph.nodes), np.nan_to_num(models.downloads, nan=-1.0), strict=True)
    )
    level = {str(row): int(gen) for row, gen in graph.generation.items()}
    placed_by = {str(row): str(by) for row, by in graph.placed_by.items()}
    children: dict[str, list[str]] = {}
    below = [row for row in map(int, graph.nodes) if level.get(str(row), 0) > 0]
    for row in sorted(below, key=lambda r: (-downloads[r], r)):
        children.setdefault(placed_by[str(row)], []).append(str(row))
    for parent, relation, _ in graph.groups:
        children.setdefault(str(parent), []).append(group_id(parent, relation))
        level[group_id(parent, relation)] = level.get(str(parent), 0) + 1
    slots: dict[str, tuple[float, int]] = {}
    next_slot = 0.0
    stack: list[tuple[str, bool]] = [(str(graph.centre), False)]
    while stack:  # post-order: a node's slot once its children have theirs
        node, done = stack.pop()
        under = children.get(node, [])
        if not under:
            slots[node] = (next_slot, level.get(node, 0))
            next_slot += 1
        elif done:
            slots[node] = ((slots[under[0]][0] + slots[under[-1]][0]) / 2, level.get(node, 0))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(under))
    centre_slot = slots[str(graph.centre)][0]
    for up in sorted({gen for gen in level.values() if gen < 0}, reverse=True):
        # ancestors: each over the model it leads to, pushed apart, the row kept centred
        wanted = sorted(
            (slots[placed_by[node]][0] if placed_by.get(node) in slots else centre_slot, node)
            for node, gen in level.items()
            if gen == up
        )
        spread: list[float] = []
        for want, _ in wanted:
            spread.append(want if not spread else max(want, spread[-1] + 1))
        shift = sum(w for w, _ in wanted) / len(wanted) - sum(spread) / len(spread)
        for (_, node), slot in zip(wanted, spread, strict=True):
            slots[node] = (slot + shift, up)
    others = [str(row) for row in graph.nodes if str(row) not in slots]
    right = max(slot for slot, _ in slots.values()) + 2
    for index, node in enumerate(others):
        column, place = divmod(index, SIMILAR_COLUMN)
        slots[node] = (right + column, place)
    return slots


def tree_layout(models: GraphModels, labels: list[str], sizes: np.ndarray) -> TreePlaces:
    """The tree's positions (``tree_slots``), its nodes' sizes and font scaled so that, with the
    whole tree (labels included) fitted into a VIEW-sized graph, nodes and labels are drawn as
    large as in a small tree, and the labels that fit (``fitting_labels``)."""
    graph = models.graph
    slots = tree_slots(models)
    texts = {str(row): short_label(label) for row, label in zip(graph.nodes, labels, strict=True)}
    texts.update({group_id(p, r): f"+{n:,} more ({r})" for p, r, n in graph.groups})
    downloads = np.nan_to_num(models.downloads, nan=-1.0)
    # the centre's label first, then the groups' (what a click opens), then by downloads
    priority = [str(graph.centre)] + [group_id(p, r) for p, r, _ in graph.groups]
    priority += [str(graph.nodes[i]) for i in np.argsort(-downloads, kind="stable")]
    zoom = 1.0
    for _ in range(FIT_ROUNDS):  # the labels' extent depends on the zoom: a few rounds settle it
        font = FONT_PX / zoom
        size_of = {
            str(row): min(float(size) / zoom, MAX_NODE_SHARE * X_GAP)
            for row, size in zip(graph.nodes, sizes, strict=True)
        }
        for parent, relation, _ in graph.groups:
            size_of[group_id(parent, relation)] = min(GROUP_SIZE / zoom, MAX_NODE_SHARE * X_GAP)
        # rows far enough apart for a node, its label below it and the next row's node
        y_gap = max(Y_GAP, MAX_NODE_SHARE * X_GAP + LABEL_LINES * font)
        positions = {node: (slot * X_GAP, row * y_gap) for node, (slot, row) in slots.items()}
        boxes = fitting_labels(positions, texts, priority, font)
        xs = [x for x, _ in positions.values()] + [edge for box in boxes.values() for edge in box]
        ys = [y for _, y in positions.values()]
        width = max(xs) - min(xs) + MAX_NODE_SHARE * X_GAP
        height = max(ys) - min(ys) + MAX_NODE_SHARE * X_GAP + LABEL_LINES * font
        zoom = min(1.0, VIEW[0] / width, VIEW[1] / height)
    # a wide tree leaves the view's height free: its rows spread over it (up to STRETCH times)
    stretch = min(STRETCH, max(1.0, VIEW[1] / (height * zoom)))
    positions = {node: (x, y * stretch) for node, (x, y) in positions.items()}
    return TreePlaces(positions, size_of, font, set(boxes))


def fitting_labels(
    positions: dict[str, tuple[float, float]],
    texts: dict[str, str],
    priority: list[str],
    font: float,
) -> dict[str, tuple[float, float]]:
    """The nodes whose label is shown and the label's horizontal extent: per row, in ``priority``
    order, each label whose box does not overlap one already shown (the boxes scale with the
    zoom as the labels do, so shown labels never overlap at any zoom)."""
    shown: dict[float, list[tuple[float, float]]] = {}
    boxes: dict[str, tuple[float, float]] = {}
    for node in dict.fromkeys(priority):
        x, y = positions[node]
        half = (CHAR_WIDTH * len(texts[node]) + 1) * font / 2
        row = shown.setdefault(y, [])
        if all(x + half <= left or x - half >= right for left, right in row):
            row.append((x - half, x + half))
            boxes[node] = (x - half, x + half)
    return boxes


def graph_layout(name: str, nodes: int, centre: int, key: str) -> tuple[dict, str]:
    """The cytoscape layout asked for ("tree" or "cose") for a graph of ``nodes`` models around
    ``centre`` whose drawn elements are named by ``key``, and a note for the line above the graph
    when it is drawn otherwise (cose beyond COSE_MAX_NODES: a tree in rings). The tree's positions
    come with its elements (``tree_layout``): cytoscape only places them ("preset")."""
    note = ""
    if name == "tree":
        layout = {"name": "preset", "fit": True, "padding": 24, "animate": False}
    elif nodes > COSE_MAX_NODES:
        note = f"; drawn as a tree in rings (force-directed up to {COSE_MAX_NODES:,} models)"
        roots = f"[id = '{centre}']"
        layout = {"name": "breadthfirst", "animate": False, "roots": roots, "circle": True}
    else:
        layout = COSE
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
            "font-size": "data(font)",
            "text-valign": "bottom",
            "text-margin-y": 3,
            "min-zoomed-font-size": 5,
            "border-width": 1,
            "border-color": "#ffffff",
            "z-index-compare": "manual",
            "z-index": 10,
        },
    },  # a click on a node hits the node
    {"selector": "node.filtered-out", "style": {"opacity": 0.25}},
    {
        "selector": "node.centre",
        "style": {"border-width": 4, "border-color": "#000000", "font-weight": "bold"},
    },
    {
        "selector": "node.more",
        "style": {
            "shape": "round-rectangle",
            "background-color": "#ffffff",
            "border-width": 2,
            "border-style": "dashed",
            "border-color": "data(colour)",
            "color": "data(colour)",
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

"""Whole views, finished and cached: the queries' results drawn by the figures, for one state of
a view, so a repeated view costs one Redis read (no filtering, no drawing, no encoding).

Each builder takes the build and a view's plain state (what its page's callback read from the
browser) and returns what the callback sends; the pages only call them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.figures.drift import auto_generated_figure, card_length_figure, transition_heatmap
from dashboard.figures.map import map_figure
from dashboard.figures.network import graph_elements
from dashboard.filters import Filters, Selection
from dashboard.queries.density import canvas_shape, density_layer, view_box
from dashboard.queries.drift import cards_by_depth, findings, language_drift, license_drift
from dashboard.queries.map import map_contents
from dashboard.queries.network import LEVEL_LIMIT, graph_models, model_graph, passing_rows
from dashboard.queries.points import map_points
from dashboard.queries.semantic import semantic_search
from dashboard.shown import shorten

SEMANTIC_HITS = 25
FAMILY_NODES = 2000  # most family members whose links are drawn on the map


@cached_query
def map_view(
    build: Build,
    filters: Filters,
    dims: int,
    colour: str,
    size: str,
    budget: int,
    zoom: str | None,
    model: str | None,
    draw_family: bool,
    semantic: str,
    selection: str | None,
) -> tuple[dict[str, object], str]:
    """The map figure and its count line for one state of the view."""
    view = Selection.from_text(zoom) if dims == 2 else None
    hits = [hit["row"] for hit in semantic_search.cached(build, semantic, SEMANTIC_HITS)]
    opened = build.row(model)
    family = None
    if draw_family and model is not None and opened is not None:
        family = model_graph.cached(build, model, "family", FAMILY_NODES)
    keep = tuple(hits + ([opened] if opened is not None else []) + (family.nodes if family else []))
    points = map_points.cached(build, filters, dims, budget, view, keep)
    box = view_box(build, view) if dims == 2 else None
    contents = map_contents(
        build, points.rows, dims, colour, size, hits=hits, opened=opened, family=family, view=box
    )
    density = density_layer.cached(build, filters, box, canvas_shape(box), colour) if box else None
    figure = map_figure(
        contents,
        zoom=view,
        selection=Selection.from_text(selection) if dims == 2 else None,
        density=density,
    )
    region = " in view" if view is not None else ""
    summary = (
        f"{points.matching:,} of {points.total:,} models match the filters; "
        f"{points.shown:,} of {points.in_view:,}{region} drawn"
    )
    if family is not None and family.descendants_shown < family.descendants_total:
        summary += f"; family links drawn for {len(family.nodes):,} of its models"
    return figure, summary


@cache_value_type
@dataclass
class DrawnNetwork:
    """What the view shows of a model's graph: its cytoscape elements, its centre row, how many
    models they draw, the line above them, and a key naming the set of elements drawn (the same
    when only the filters differ)."""

    elements: list[dict[str, object]]
    centre: int
    nodes: int
    count: str
    key: str


@cached_query
def drawn_network(
    build: Build,
    filters: Filters,
    model_id: str,
    show: str,
    nodes: int,
    k: int,
    hops: int,
    tree: bool = False,
    expanded: tuple[tuple[int, str, int], ...] = (),
) -> DrawnNetwork | None:
    """The finished graph of a model for the view's settings and filters (None for an unknown
    model); ``tree``: laid out as a tree, the family grouped beyond LEVEL_LIMIT models per
    generation, with the groups ``expanded`` opened (see ``queries.network.lineage_tree``)."""
    limit = LEVEL_LIMIT if tree else None
    graph = model_graph.cached(build, model_id, show, nodes, k, hops, limit, expanded)
    if graph is None:
        return None
    parts = [f"{len(graph.nodes):,} models: {shorten(model_id)}"]
    if show in ("family", "both"):
        left_out = graph.ancestors_left_out
        more = f" (+{left_out:,} more not drawn)" if left_out else ""
        parts.append(
            f"{graph.ancestors:,} ancestors{more}, {graph.descendants_shown:,} of"
            f" {graph.descendants_total:,} descendants"
        )
        if graph.groups:
            parts.append("click a “+N more” node to draw more of its models")
    passing = None
    if filters.active:
        passing = set(passing_rows(build, filters, tuple(graph.nodes)))
        parts.append(f"{len(passing):,} pass the filters (the others are faded)")
    elements = graph_elements(graph_models(build, graph, passing), tree)
    ids = "\n".join(element["data"]["id"] for element in elements)
    key = hashlib.blake2b(ids.encode("utf-8"), digest_size=8).hexdigest()
    return DrawnNetwork(elements, graph.centre, len(graph.nodes), "; ".join(parts), key)


@cached_query
def drift_view(build: Build, filters: Filters, relation: str) -> tuple[object, ...]:
    """The findings and the five figures (as plotly JSON) for one state of the view."""
    licenses = license_drift.cached(build, filters, relation)
    languages = language_drift.cached(build, filters, relation)
    cards = cards_by_depth.cached(build, filters)
    figures = (
        transition_heatmap(licenses["labels"], licenses["counts"], "License, parent → child", 480),
        transition_heatmap(
            licenses["class_labels"], licenses["class_counts"], "License class, parent → child", 480
        ),
        transition_heatmap(
            languages["labels"], languages["counts"], "Languages, parent → child", 420
        ),
        auto_generated_figure(cards, 420),
        card_length_figure(cards),
    )
    return (findings(licenses, languages, cards), *(figure.to_plotly_json() for figure in figures))

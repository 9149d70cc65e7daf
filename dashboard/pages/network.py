"""The Network view: a model's family tree and similarity neighbourhood as a draggable
force-directed graph.

Edges are coloured by relation (finetune, adapter, quantized, merge, unspecified; similarity
links dashed), nodes sized by downloads and coloured by library; clicking a node re-centres
the graph on it. Without a model in the URL the largest family's root is shown.

What the graph callback sends is cached whole (``queries.views.drawn_network``): a repeated
request reads the finished elements back from Redis and sends them. The details card has its own
callback, run only when the centre changes (the page's layout draws the first one), so that the
graph's response is plain data, which Dash serializes at once (with a Dash component in it, Dash
walks every element in Python first).
"""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
import dash_cytoscape as cyto
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components import FILTER_INPUTS, details_card, page_frame
from dashboard.figures.network import STYLESHEET, graph_layout, relation_legend
from dashboard.filters import Filters
from dashboard.queries.models import model_details
from dashboard.queries.views import drawn_network
from dashboard.serving import served_build
from dashboard.url_state import from_query, mapping, unless_default
from dashboard.values import choice, text, whole_number

SHOW = {"both": "family and similar models", "family": "family tree", "similar": "similar models"}
LAYOUTS = {"cose": "force-directed", "breadthfirst": "tree"}
DEFAULT_NODES, MAX_NODES = 150, 2000


def most_neighbours() -> int:
    """The nearest models per model the served build keeps: the most the view draws, and its
    default."""
    return max(1, served_build().neighbours_per_model)


@dataclass(frozen=True)
class NetworkState:
    """The view's own settings (the field defaults are the view's), from the URL or the controls."""

    model: str = ""
    show: str = "both"
    nodes: int = DEFAULT_NODES  # most family members drawn
    k: int | None = None  # nearest models per model; None: every one the build keeps
    hops: int = 1
    layout: str = "cose"

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "model", text(self.model))
        set_(self, "show", choice(self.show, SHOW, NetworkState.show))
        set_(self, "nodes", whole_number(self.nodes, NetworkState.nodes, 10, MAX_NODES))
        set_(self, "k", whole_number(self.k, most_neighbours(), 1, most_neighbours()))
        set_(self, "hops", 1 if not self.hops or self.hops == 1 else 2)  # the checklist: [2] or []
        set_(self, "layout", choice(self.layout, LAYOUTS, NetworkState.layout))

    @classmethod
    def from_query(cls, view: dict) -> NetworkState:
        return cls(
            view.get("model"),
            view.get("show"),
            view.get("nodes"),
            view.get("k"),
            2 if view.get("hops") == "2" else 1,
            view.get("layout"),
        )

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {
            "model": self.model or None,
            "show": unless_default(self.show, NetworkState.show),
            "nodes": unless_default(self.nodes, NetworkState.nodes),
            "k": unless_default(self.k, most_neighbours()),
            "hops": unless_default(str(self.hops), "1"),
            "layout": unless_default(self.layout, NetworkState.layout),
        }


def default_model() -> str | None:
    """The root of the largest family: what the view shows before a model is chosen."""
    families = served_build().families
    return str(families["root_id"].iat[0]) if len(families) else None


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = NetworkState.from_query(view)
    model = state.model if build.row(state.model) is not None else default_model()
    controls = [
        html.H6("Network", className="card-title"),
        dbc.Label("Show", className="mb-0 small"),
        dbc.RadioItems(
            id="network-show",
            options=[{"label": v, "value": k} for k, v in SHOW.items()],
            value=state.show,
        ),
        dbc.Label(
            "Most family members drawn", html_for="network-nodes", className="mt-2 mb-0 small"
        ),
        dbc.Input(
            id="network-nodes",
            type="number",
            min=10,
            max=MAX_NODES,
            step=10,
            debounce=True,
            value=state.nodes,
        ),
        dbc.Label("Nearest models per model", html_for="network-k", className="mt-2 mb-0 small"),
        dbc.Input(
            id="network-k",
            type="number",
            min=1,
            max=most_neighbours(),
            debounce=True,
            value=state.k,
        ),
        dbc.Checklist(
            id="network-hops",
            options=[{"label": "and their nearest models (2 hops)", "value": 2}],
            value=[2] if state.hops == 2 else [],
            className="mt-1 small",
        ),
        dbc.Label("Layout", className="mt-2 mb-0 small"),
        dbc.RadioItems(
            id="network-layout",
            options=[{"label": v, "value": k} for k, v in LAYOUTS.items()],
            value=state.layout,
            inline=True,
        ),
        html.Div(
            [
                html.Div([html.Span("━ ", style={"color": colour}), label], className="small")
                for label, colour in relation_legend()
            ],
            className="mt-2",
        ),
    ]
    content = [
        # a fixed height: text appearing above the graph must not move it (cytoscape would then
        # place clicks where the nodes were before the shift)
        html.Div(
            id="network-count",
            className="small text-muted mb-1",
            style={"height": "3em", "overflow": "hidden"},
        ),
        # the layout runs when the layout prop changes, which the graph callback makes it do
        # exactly when the drawn elements change (cytoscape's own refresh on added elements would
        # run it again, and a first animated cose, started on the empty graph, would keep running)
        cyto.Cytoscape(
            id="network-graph",
            elements=[],
            stylesheet=STYLESHEET,
            style={"width": "100%", "height": "74vh"},
            layout={"name": "preset"},
            minZoom=0.1,
            maxZoom=4,
            boxSelectionEnabled=False,
            autoRefreshLayout=False,
        ),
        dcc.Store(id="network-selected", data=model),
    ]
    side = [
        html.Div(
            details_card(model_details.cached(build, model) if model else None, page="/network"),
            id="network-details",
        )
    ]
    return page_frame(build, filters, view, controls, content, side)


STATE_INPUTS = {  # NetworkState's fields
    "model": Input("network-selected", "data"),
    "show": Input("network-show", "value"),
    "nodes": Input("network-nodes", "value"),
    "k": Input("network-k", "value"),
    "hops": Input("network-hops", "value"),
    "layout": Input("network-layout", "value"),
}


@callback(
    Output("network-graph", "elements"),
    Output("network-graph", "layout"),
    Output("network-count", "children"),
    inputs=dict(filters=FILTER_INPUTS, view=STATE_INPUTS),
)
def draw_network(filters, view):
    filters, state = Filters.from_inputs(filters), NetworkState(**view)
    drawn = drawn_network.cached(
        served_build(), filters, state.model, state.show, state.nodes, state.k, state.hops
    )
    if drawn is None:
        return [], no_update, "Choose a model with “Find a model…” above."
    layout, note = graph_layout(state.layout, drawn.nodes, drawn.centre, drawn.key)
    return drawn.elements, layout, drawn.count + note


@callback(
    Output("network-details", "children"),
    Input("network-selected", "data"),
    prevent_initial_call=True,
)
def show_details(model_id):
    """The details of the centre, once it changes (the page's layout holds the first centre's)."""
    return details_card(model_details.cached(served_build(), text(model_id)), page="/network")


@callback(
    Output("network-selected", "data"),
    Input("network-graph", "tapNodeData"),
    State("network-selected", "data"),
    prevent_initial_call=True,
)
def recentre(node, current):
    """Clicking a node makes it the centre."""
    model_id = text(node.get("model_id")) if isinstance(node, dict) else ""
    return no_update if not model_id or model_id == current else model_id


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=STATE_INPUTS),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(state, view):
    return {**mapping(view), **NetworkState(**state).to_query()}

"""The Network view: a model's family tree and similarity neighbourhood, drawn as a tree
(generations in rows: ancestors above the model, descendants below; the server places the nodes)
or as a draggable force-directed graph.

Edges are coloured by relation (finetune, adapter, quantized, merge, unspecified; similarity
links dashed), nodes sized by downloads and coloured by library; clicking a node re-centres
the graph on it, clicking a "+N more (relation)" node draws more of that group. The line above
the graph names the model under the pointer. The family downloads as GraphML or as a CSV of its
links. Without a model in the URL the largest family's root is shown.

What the graph callback sends is cached whole (``queries.views.drawn_network``): a repeated
request reads the finished elements back from Redis and sends them. The details card has its own
callback, run only when the centre changes (the page's layout draws the first one), so that the
graph's response is plain data, which Dash serializes at once (with a Dash component in it, Dash
walks every element in Python first).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import dash_bootstrap_components as dbc
import dash_cytoscape as cyto
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard.components import FILTER_INPUTS, details_card, page_frame
from dashboard.figures.network import STYLESHEET, graph_layout, relation_legend
from dashboard.filters import Filters
from dashboard.queries.family_export import (
    export_file_name,
    family_edges_csv,
    family_export,
    family_graphml,
)
from dashboard.queries.models import model_details
from dashboard.queries.network import expand, expansions, parse_group_id
from dashboard.queries.views import drawn_network
from dashboard.serving import served_build
from dashboard.url_state import from_query, mapping, to_query, unless_default
from dashboard.values import choice, text, whole_number

SHOW = {"both": "family and similar models", "family": "family tree", "similar": "similar models"}
LAYOUTS = {"tree": "tree", "cose": "force-directed"}
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
    layout: str = "tree"

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
    # the first graph comes with the page: one round trip less before it is drawn
    elements, graph_layout_, count = network_graph(filters, replace(state, model=model or ""))
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
        dbc.Label("Download the family", className="mt-2 mb-0 small"),
        html.Div(
            [
                dbc.Button(
                    "GraphML",
                    id="network-download-graphml",
                    size="sm",
                    color="secondary",
                    outline=True,
                    className="me-1",
                ),
                dbc.Button(
                    "CSV of links",
                    id="network-download-csv",
                    size="sm",
                    color="secondary",
                    outline=True,
                ),
            ]
        ),
        dcc.Download(id="network-download"),
    ]
    content = [
        # a fixed height: text appearing above the graph must not move it (cytoscape would then
        # place clicks where the nodes were before the shift)
        html.Div(
            count,
            id="network-count",
            className="small text-muted mb-1",
            style={"height": "3em", "overflow": "hidden"},
        ),
        html.Div(
            "Point at a model to read its name.",
            id="network-hover",
            className="small mb-1 text-truncate",
            style={"height": "1.5em"},
        ),
        # the layout runs when the layout prop changes, which the graph callback makes it do
        # exactly when the drawn elements change (cytoscape's own refresh on added elements would
        # run it again, and a first animated cose, started on the empty graph, would keep running)
        cyto.Cytoscape(
            id="network-graph",
            elements=elements,
            stylesheet=STYLESHEET,
            style={"width": "100%", "height": "74vh"},
            layout=graph_layout_ if graph_layout_ is not no_update else {"name": "preset"},
            minZoom=0.02,  # a tree of many generations still fits the view
            maxZoom=4,
            boxSelectionEnabled=False,
            autoRefreshLayout=False,
        ),
        dcc.Store(id="network-selected", data=model),
        dcc.Store(id="network-expanded", data=[]),  # the opened groups: [parent row, relation, n]
    ]
    side = [
        html.Div(
            details_card(
                model_details.cached(build, model) if model else None,
                page="/network",
                search=to_query(filters, view),
            ),
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
    inputs=dict(
        filters=FILTER_INPUTS, view=STATE_INPUTS, expanded=Input("network-expanded", "data")
    ),
    prevent_initial_call=True,
)
def draw_network(filters, view, expanded=None):
    """The graph after a setting, a filter or an opened group changed (the page's layout draws
    the first one)."""
    return network_graph(Filters.from_inputs(filters), NetworkState(**view), expanded)


def network_graph(filters: Filters, state: NetworkState, expanded=None) -> tuple:
    """The graph's elements, its layout and the line above it for a state of the view (no_update
    for the layout when there is no graph)."""
    tree = state.layout == "tree"
    drawn = drawn_network.cached(
        served_build(),
        filters,
        state.model,
        state.show,
        state.nodes,
        state.k,
        state.hops,
        tree,
        expansions(expanded) if tree else (),
    )
    if drawn is None:
        return [], no_update, "Choose a model with “Find a model…” above."
    layout, note = graph_layout(state.layout, drawn.nodes, drawn.centre, drawn.key)
    return drawn.elements, layout, drawn.count + note


@callback(
    Output("network-details", "children"),
    Input("network-selected", "data"),
    Input("url", "search"),  # its links keep the filters and settings of the moment
    prevent_initial_call=True,
)
def show_details(model_id, search):
    """The details of the centre, once it changes (the page's layout holds the first centre's)."""
    details = model_details.cached(served_build(), text(model_id))
    return details_card(details, page="/network", search=text(search))


@callback(
    Output("network-selected", "data"),
    Output("network-expanded", "data"),
    Input("network-graph", "tapNodeData"),
    State("network-selected", "data"),
    State("network-expanded", "data"),
    prevent_initial_call=True,
)
def tapped(node, current, expanded):
    """Clicking a model makes it the centre (with every group closed); clicking a "+N more" node
    draws more of its group."""
    node = node if isinstance(node, dict) else {}
    if parse_group_id(node.get("id")) is not None:
        return no_update, expand(expanded, node.get("id"))
    model_id = text(node.get("model_id"))
    if not model_id or model_id == current:
        return no_update, no_update
    return model_id, []


# the name of the node under the pointer, in the browser (no request); a "+N more" node says what
# a click on it does
clientside_callback(
    """function (node) {
        return node && node.hover ? node.hover : window.dash_clientside.no_update;
    }""",
    Output("network-hover", "children"),
    Input("network-graph", "mouseoverNodeData"),
    prevent_initial_call=True,
)


@callback(
    Output("network-download", "data"),
    Input("network-download-graphml", "n_clicks"),
    Input("network-download-csv", "n_clicks"),
    State("network-selected", "data"),
    prevent_initial_call=True,
)
def download_family(graphml_clicks, csv_clicks, model_id):
    """The family of the centre as GraphML or as a CSV of its links."""
    build = served_build()
    family = family_export.cached(build, text(model_id))
    if family is None:
        return no_update
    name = export_file_name(text(model_id))
    if ctx.triggered_id == "network-download-graphml":
        return dict(content=family_graphml(family), filename=f"{name}.graphml")
    return dict(content=family_edges_csv(family), filename=f"{name}-links.csv")


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=STATE_INPUTS),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(state, view):
    return {**mapping(view), **NetworkState(**state).to_query()}

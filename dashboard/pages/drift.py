"""The Drift view: how licenses, languages and model cards change from parent to child — the paper's
findings, read off the build's own data and following the filters (a link counts when its child
passes them)."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import FILTER_INPUTS, page_frame
from dashboard.filters import Filters
from dashboard.queries.views import drift_view
from dashboard.serving import served_build
from dashboard.url_state import from_query, mapping, unless_default
from dashboard.values import choice
from pipeline.build_format import RELATIONS

RELATION_CHOICES = {"all": "every relation", **{r: r for r in RELATIONS}}
GRAPH = {"config": {"displayModeBar": False}}


@dataclass(frozen=True)
class DriftState:
    """The view's own setting (the field default is the view's), from the URL or the control."""

    relation: str = "all"

    def __post_init__(self):
        relation = choice(self.relation, RELATION_CHOICES, DriftState.relation)
        object.__setattr__(self, "relation", relation)

    @classmethod
    def from_query(cls, view: dict) -> DriftState:
        return cls(view.get("relation"))

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {"relation": unless_default(self.relation, DriftState.relation)}


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = DriftState.from_query(view)
    controls = [
        html.H6("Drift", className="card-title"),
        dbc.Label("Parent links of relation", html_for="drift-relation", className="mb-0 small"),
        dcc.Dropdown(
            id="drift-relation",
            options=[{"label": v, "value": k} for k, v in RELATION_CHOICES.items()],
            value=state.relation,
            clearable=False,
        ),
        html.P(
            "The paper finds licenses drifting from restrictive towards permissive or copyleft, "
            "languages towards "
            "English only, and cards getting shorter and more templated further down a family.",
            className="small text-muted mt-2",
        ),
    ]
    content = [
        html.Div(id="drift-findings", className="mb-2"),
        dbc.Row(
            [
                dbc.Col(dcc.Graph(id="drift-licenses", **GRAPH), xl=7),
                dbc.Col(dcc.Graph(id="drift-license-classes", **GRAPH), xl=5),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(dcc.Graph(id="drift-languages", **GRAPH), xl=6),
                dbc.Col(dcc.Graph(id="drift-auto", **GRAPH), xl=6),
            ]
        ),
        dcc.Graph(id="drift-card-length", **GRAPH),
    ]
    return page_frame(build, filters, view, controls, content)


@callback(
    Output("drift-findings", "children"),
    Output("drift-licenses", "figure"),
    Output("drift-license-classes", "figure"),
    Output("drift-languages", "figure"),
    Output("drift-auto", "figure"),
    Output("drift-card-length", "figure"),
    inputs=dict(filters=FILTER_INPUTS, relation=Input("drift-relation", "value")),
)
def update_drift(filters, relation):
    filters = Filters.from_inputs(filters)
    sentences, *figures = drift_view.cached(served_build(), filters, DriftState(relation).relation)
    return (
        dbc.Card(
            dbc.CardBody(
                html.Ul(
                    [html.Li(s) for s in sentences],
                    className="small mb-0",
                    id="drift-findings-list",
                )
            )
        ),
        *figures,
    )


@callback(
    Output("view-state", "data", allow_duplicate=True),
    Input("drift-relation", "value"),
    State("view-state", "data"),
    prevent_initial_call=True,
)
def remember_view(relation, view):
    return {**mapping(view), **DriftState(relation).to_query()}

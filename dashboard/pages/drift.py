"""The Drift view: how licenses, languages and model cards change from parent to child — the paper's
findings, read off the build's own data and following the filters (a link counts when its child
passes them)."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.cache import cached_query
from dashboard.components import FILTER_INPUTS, page_frame
from dashboard.data import Build
from dashboard.filters import Filters
from dashboard.figures.drift import auto_generated_figure, card_length_figure, transition_heatmap
from dashboard.queries.drift import cards_by_depth, language_drift, license_drift
from dashboard.serving import served_build
from dashboard.url_state import choice, from_query, mapping, unless_default
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
        dcc.Dropdown(id="drift-relation", options=[{"label": v, "value": k} for k, v in RELATION_CHOICES.items()],
                     value=state.relation, clearable=False),
        html.P("The paper finds licenses drifting from restrictive towards permissive or copyleft, languages towards "
               "English only, and cards getting shorter and more templated further down a family.",
               className="small text-muted mt-2"),
    ]
    content = [
        html.Div(id="drift-findings", className="mb-2"),
        dbc.Row([dbc.Col(dcc.Graph(id="drift-licenses", **GRAPH), xl=7), dbc.Col(dcc.Graph(id="drift-license-classes", **GRAPH), xl=5)]),
        dbc.Row([dbc.Col(dcc.Graph(id="drift-languages", **GRAPH), xl=6), dbc.Col(dcc.Graph(id="drift-auto", **GRAPH), xl=6)]),
        dcc.Graph(id="drift-card-length", **GRAPH),
    ]
    return page_frame(build, filters, view, controls, content)


def share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def findings(licenses: dict, languages: dict, cards) -> list[str]:
    """The paper's four findings as sentences with this data's numbers."""
    classes = licenses["class_labels"]
    restrictive = licenses["class_counts"][classes.index("restrictive")]
    opened = restrictive[classes.index("permissive")] + restrictive[classes.index("copyleft")]
    classified = opened + restrictive[classes.index("restrictive")]  # children whose license has a known class
    language = languages["counts"]
    multilingual = language[2] + language[4]  # parents with several languages
    base, deeper = cards[cards["depth"] == 0], cards[cards["depth"] > 0]
    items = [
        f"{licenses['links']:,} parent links; {share(licenses['changed'], licenses['known'])} of the "
        f"{licenses['known']:,} with both licenses known change license.",
        f"Of the links from a restrictive license to a classified one, {share(opened, classified)} lead to a permissive "
        f"or copyleft license.",
        f"Of the children of multilingual parents, {share(multilingual[1], multilingual.sum())} are English only.",
    ]
    if len(base) and len(deeper):
        median_deeper = (deeper["median"] * deeper["with_card"]).sum() / max(deeper["with_card"].sum(), 1)
        auto_deeper = (deeper["auto_share"].fillna(0) * deeper["auto_known"]).sum() / max(deeper["auto_known"].sum(), 1)
        items.append(f"Median card length: {base['median'].iat[0]:,.0f} characters for base models, "
                     f"about {median_deeper:,.0f} below them; auto-generated cards: {base['auto_share'].iat[0]:.0%} "
                     f"for base models, {auto_deeper:.0%} below.")
    return items


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
    return (dbc.Card(dbc.CardBody(html.Ul([html.Li(s) for s in sentences], className="small mb-0", id="drift-findings-list"))),
            *figures)


@cached_query
def drift_view(build: Build, filters: Filters, relation: str) -> tuple:
    """The findings and the five figures for one state of the view, cached whole."""
    license_result = license_drift.cached(build, filters, relation)
    language_result = language_drift.cached(build, filters, relation)
    cards = cards_by_depth.cached(build, filters)
    figures = (
        transition_heatmap(license_result["labels"], license_result["counts"], "License, parent → child", 480),
        transition_heatmap(license_result["class_labels"], license_result["class_counts"], "License class, parent → child", 480),
        transition_heatmap(language_result["labels"], language_result["counts"], "Languages, parent → child", 420),
        auto_generated_figure(cards, 420),
        card_length_figure(cards),
    )
    return (findings(license_result, language_result, cards), *(figure.to_plotly_json() for figure in figures))


@callback(Output("view-state", "data", allow_duplicate=True), Input("drift-relation", "value"), State("view-state", "data"), prevent_initial_call=True)
def remember_view(relation, view):
    return {**mapping(view), **DriftState(relation).to_query()}

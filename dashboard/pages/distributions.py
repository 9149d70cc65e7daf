"""The Distributions view: a histogram of one attribute over the filtered models (and the map
selection, when one is made), beside all models, with its summary statistics."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import FILTER_INPUTS, page_frame
from dashboard.figures.distributions import histogram_figure
from dashboard.filters import Filters, Selection
from dashboard.queries.distributions import ATTRIBUTES, Histogram, histogram, stat_text
from dashboard.serving import served_build
from dashboard.url_state import from_query, mapping, unless_default
from dashboard.values import choice, text


@dataclass(frozen=True)
class DistributionsState:
    """The view's own settings (the field defaults are the view's), from the URL or the controls."""

    attribute: str = "downloads"
    log: bool = True
    selection: str | None = None  # the map selection followed, as Selection.to_text

    def __post_init__(self):
        attribute = choice(self.attribute, ATTRIBUTES, DistributionsState.attribute)
        object.__setattr__(self, "attribute", attribute)
        object.__setattr__(self, "log", bool(self.log))
        object.__setattr__(self, "selection", text(self.selection) or None)

    @classmethod
    def from_query(cls, view: dict) -> DistributionsState:
        return cls(view.get("attr"), view.get("log") != "0", view.get("sel"))

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {
            "attr": unless_default(self.attribute, DistributionsState.attribute),
            "log": unless_default("1" if self.log else "0", "1"),
            "sel": self.selection,
        }


SELECTION_HINT = "Select models on the 2D map to compare them here."
STATE_INPUTS = {
    "attribute": Input("dist-attribute", "value"),
    "log": Input("dist-log", "value"),
    "selection": Input("dist-region", "data"),
}


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = DistributionsState.from_query(view)
    controls = [
        html.H6("Distributions", className="card-title"),
        dbc.Label("Attribute", html_for="dist-attribute", className="mb-0 small"),
        dcc.Dropdown(
            id="dist-attribute",
            options=[{"label": label, "value": key} for key, (label, _) in ATTRIBUTES.items()],
            value=state.attribute,
            clearable=False,
        ),
        dbc.Switch(
            id="dist-log",
            label="Log scale (heavy-tailed counts)",
            value=state.log,
            disabled=not log_applies(state.attribute),
            className="mt-2",
        ),
        html.Div(id="dist-selection", className="small mt-2"),
        dbc.Button(
            "Clear the selection",
            id="dist-clear",
            size="sm",
            color="secondary",
            outline=True,
            className="mt-1",
            style={} if state.selection else {"display": "none"},
        ),
    ]
    content = [
        html.Div(id="dist-count", className="small text-muted mb-1"),
        dcc.Loading(
            dcc.Graph(id="dist-graph", style={"height": "60vh"}, config={"displaylogo": False}),
            delay_show=300,
        ),
        html.Div(id="dist-stats", className="mt-2"),
        dcc.Store(id="dist-region", data=state.selection),
    ]
    return page_frame(build, filters, view, controls, content)


@callback(
    Output("dist-graph", "figure"),
    Output("dist-count", "children"),
    Output("dist-stats", "children"),
    Output("dist-selection", "children"),
    inputs=dict(filters=FILTER_INPUTS, view=STATE_INPUTS),
)
def update_histogram(filters, view):
    build = served_build()
    filters, state = Filters.from_inputs(filters), DistributionsState(**view)
    selection = Selection.from_text(state.selection)
    result = histogram.cached(build, filters, selection, state.attribute, state.log)
    label = "selected models" if selection else "filtered models"
    note = "Following the map selection." if selection else SELECTION_HINT
    return (
        histogram_figure(result, label=label),
        count_line(result, build.size, selection is not None),
        statistics_table(result),
        note,
    )


def count_line(result: Histogram, models: int, selected: bool) -> str:
    """How many of the build's models the histogram counts, and how many of them it cannot draw."""
    stats = result.stats
    count = f"{stats['models']:,} of {models:,} models" + (
        " in the map selection" if selected else " match the filters"
    )
    if stats["unknown"]:
        count += (
            f"; {stats['unknown']:,} of them have no known "
            f"{ATTRIBUTES[result.attribute][0]} and are not drawn"
        )
    return count


def statistics_table(result: Histogram) -> dbc.Table:
    """The histogram's summary statistics (and, on a log scale, the models at zero)."""
    stats = result.stats
    rows = [
        (name, stat_text(result.attribute, stats.get(key)))
        for name, key in (
            ("median", "median"),
            ("mean", "mean"),
            ("90th percentile", "p90"),
            ("maximum", "max"),
        )
    ]
    if result.log:
        rows.append(("at zero", f"{result.at_most_zero:,}"))
    body = html.Tbody([html.Tr([html.Th(name), html.Td(value)]) for name, value in rows])
    return dbc.Table([body], size="sm", className="w-auto small", id="dist-stats-table")


def log_applies(attribute: str) -> bool:
    """Whether the log-scale switch changes the histogram of this attribute (heavy-tailed counts:
    yes; creation dates: no, so the switch is disabled)."""
    return ATTRIBUTES[attribute][1]


@callback(
    Output("dist-log", "disabled"), Input("dist-attribute", "value"), prevent_initial_call=True
)
def enable_log_switch(attribute):
    return not log_applies(choice(attribute, ATTRIBUTES, DistributionsState.attribute))


@callback(Output("dist-region", "data"), Input("dist-clear", "n_clicks"), prevent_initial_call=True)
def clear_selection(_):
    return None


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=STATE_INPUTS),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(state, view):
    return {**mapping(view), **DistributionsState(**state).to_query()}

"""The Map view's download of the models it shows, as CSV: a button, a line saying what it will
hold, and the callback that sends the file (the CSV of GET /api/models.csv, made by
queries.model_export)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import FILTER_INPUTS
from dashboard.filters import Filters, Selection
from dashboard.queries.model_export import (
    EXPORT_ROWS,
    export_filename,
    matching_count,
    models_csv,
)
from dashboard.serving import served_build

FILTER_STATES = {
    name: State(i.component_id, i.component_property) for name, i in FILTER_INPUTS.items()
}


def download_control() -> html.Div:
    return html.Div(
        [
            dbc.Button(
                "Download CSV",
                id="models-download-button",
                size="sm",
                color="secondary",
                outline=True,
            ),
            html.Div(id="models-download-note", className="small text-muted mt-1"),
            dcc.Loading(dcc.Download(id="models-download"), type="dot", delay_show=300),
        ],
        className="mt-3",
    )


def download_note(matching: int, selected: bool) -> str:
    """What the download holds: the models that pass the filters (or of the selection), the most
    downloaded EXPORT_ROWS when there are more."""
    what = f"{matching:,} model{'' if matching == 1 else 's'} " + (
        "of the selection" if selected else "that pass the filters"
    )
    if matching > EXPORT_ROWS:
        return (
            f"The {EXPORT_ROWS:,} most downloaded of the {what}: a download holds at most "
            f"{EXPORT_ROWS:,} models."
        )
    return f"The {what}."


@callback(
    Output("models-download-note", "children"),
    inputs=dict(filters=FILTER_INPUTS, selection=Input("map-selection", "data")),
)
def describe_download(filters, selection):
    region = Selection.from_text(selection)
    count = matching_count(served_build(), Filters.from_inputs(filters), region)
    return download_note(count, region is not None)


@callback(
    Output("models-download", "data"),
    inputs=dict(clicks=Input("models-download-button", "n_clicks")),
    state=dict(filters=FILTER_STATES, selection=State("map-selection", "data")),
    prevent_initial_call=True,
)
def send_models(clicks, filters, selection):
    build = served_build()
    export = models_csv(build, Filters.from_inputs(filters), Selection.from_text(selection))
    return dcc.send_string(export.csv, export_filename(build.version), type="text/csv")

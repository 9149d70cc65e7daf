"""The Growth view: how many models the Hub holds over time.

Tracked: the model-count tracker's snapshots (the server's snapshot job, or `hfmap track`;
HFMAP_TRACKER_DB), their growth statistics, and the real state of the scheduled jobs (the
snapshot and the refresh of the map: schedule, the process holding the lock, last run, last
failure with its reason), read from the history every server process shares.
Reconstructed: before the first snapshot, the build's
models counted by creation date (following the filters; deleted models are missing). The
view refreshes itself every REFRESH_SECONDS, so a new snapshot appears without a reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import FILTER_INPUTS, page_frame
from dashboard.figures.growth import cumulative_figure, stacked_figure
from dashboard.filters import Filters
from dashboard.queries.growth import (
    history_version,
    reconstructed_by_group,
    reconstructed_growth,
    tracker_report,
    with_age,
)
from dashboard.serving import served_build, served_settings
from dashboard.shown import LABEL_CHARS, shorten, tooltip
from dashboard.url_state import from_query, mapping, unless_default
from dashboard.values import choice
from tracker.report import holder_answering

STACK_BY = {"library_name": "library", "pipeline_tag": "pipeline"}
REFRESH_SECONDS = 15


@dataclass(frozen=True)
class GrowthState:
    """The view's own setting (the field default is the view's), from the URL or the control."""

    stack: str = "library_name"

    def __post_init__(self):
        object.__setattr__(self, "stack", choice(self.stack, STACK_BY, GrowthState.stack))

    @classmethod
    def from_query(cls, view: dict) -> GrowthState:
        return cls(view.get("stack"))

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {"stack": unless_default(self.stack, GrowthState.stack)}


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = GrowthState.from_query(view)
    controls = [
        html.H6("Growth", className="card-title"),
        dbc.Label("Stack the reconstructed history by", className="mb-0 small"),
        dbc.RadioItems(
            id="growth-stack",
            options=[{"label": v, "value": k} for k, v in STACK_BY.items()],
            value=state.stack,
            inline=True,
        ),
        html.P(
            [
                "Tracked counts come from the tracker (the whole Hub, whatever the filters); the "
                "reconstructed history counts the build's models by creation date and follows the "
                "filters."
            ],
            className="small text-muted mt-2",
        ),
    ]
    content = [
        html.Div(id="growth-cards"),
        html.Div(id="growth-tracker", className="mb-2"),
        dcc.Graph(id="growth-cumulative", config={"displaylogo": False}),
        dcc.Graph(id="growth-stacked", config={"displaylogo": False}),
        html.Div(id="growth-groups"),
        dcc.Interval(id="growth-refresh", interval=REFRESH_SECONDS * 1000),
    ]
    return page_frame(build, filters, view, controls, content)


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return f"{int(seconds)} seconds ago"


def number(value, suffix: str = "") -> str:
    return (
        "–"
        if value is None
        else f"{value:,.0f}{suffix}"
        if abs(value) >= 10
        else f"{value:,.2f}{suffix}"
    )


def stat_card(title: str, value: str, note: str = "", id_: str | None = None) -> dbc.Col:
    heading = html.H4(value, className="mb-0", **({"id": id_} if id_ else {}))
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="small text-muted"),
                    heading,
                    html.Div(note, className="small text-muted"),
                ]
            )
        ),
        md=True,
    )


def window_text(window: dict | None, key: str) -> tuple[str, str]:
    if not window:
        return "–", "needs snapshots an hour or more apart"
    return number(
        window[key], "%" if key.startswith("growth") else ""
    ), f"over {window['days']:g} days"


def cards(report: dict) -> dbc.Row:
    growth = report["growth"]
    seven, thirty = growth["windows"].get("7d"), growth["windows"].get("30d")
    return dbc.Row(
        [
            stat_card(
                "Models on the Hub",
                number(growth["total_models"]),
                f"{growth['snapshots']} snapshot{'s' if growth['snapshots'] != 1 else ''}",
                "growth-total",
            ),
            stat_card("Added per day, 7 days", *window_text(seven, "added_per_day")),
            stat_card("Added per day, 30 days", *window_text(thirty, "added_per_day")),
            stat_card("Growth per 30 days", *window_text(thirty, "growth_percent_per_30_days")),
            stat_card(
                "Last snapshot", ago(growth["age_seconds"]), growth["taken_at"] or "none yet"
            ),
        ],
        className="g-2 mb-2",
    )


def when(moment: str | None) -> str:
    """An ISO 8601 time from the history as the view shows it: 2026-11-30 12:00:00 UTC."""
    if not moment:
        return "–"
    parsed = datetime.fromisoformat(moment)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def every(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def schedule_parts(job: dict, scheduled: bool, nobody: str, now: datetime) -> list:
    """The job's schedule in words: its interval and next run, or ``nobody`` (no server runs it)."""
    interval = job["interval_seconds"]
    if not scheduled or not interval:
        return [html.B("Schedule: "), nobody]
    upcoming = datetime.fromisoformat(job["next_run_at"])
    wait = (upcoming - now).total_seconds()
    next_text = f"next run {when(job['next_run_at'])}" if wait > 0 else "due now"
    return [html.B("Schedule: "), f"every {every(interval)}, {next_text}. "]


def running_parts(job: dict, now: datetime) -> list:
    """Which process holds the job's lock now, and whether it still answers."""
    run = job["running"]
    if run is None:
        return []
    if holder_answering(run, now):
        return [
            html.B("Running now: "),
            f"{run['holder']} holds the lock since {when(run['since'])}. ",
        ]
    return [
        html.B("Stalled: "),
        f"{run['holder']} began a run at {when(run['since'])} and has not answered since "
        f"{when(run['alive_at'])}; its lock expires and the job runs again at its next interval. ",
    ]


def tracker_state(report: dict, history: str, now: datetime | None = None) -> dbc.Alert:
    """The snapshot job: schedule, run in progress, last run, last failure."""
    now = now or datetime.now(UTC)
    job, scheduled = report["jobs"]["snapshot"], bool(report["schedules"])
    last, failure = report["last_run"], report["last_failure"]
    nobody = "no scheduled tracker is running (the server's HFMAP_TRACKER_EVERY is off). "
    parts = (
        [html.B("Tracker. ")]
        + schedule_parts(job, scheduled, nobody, now)
        + running_parts(job, now)
    )
    if last is None:
        parts += ["No snapshot yet in ", html.Code(history)]
        parts += (
            ["."]
            if scheduled
            else [": run ", html.Code("hfmap track --once"), " or set HFMAP_TRACKER_EVERY (6h)."]
        )
        return dbc.Alert(parts, color="secondary", className="small mb-1", id="growth-state")
    outcome = f"{last['total_models']:,} models" if last["ok"] else f"failed: {last['error']}"
    parts += [
        html.B("Last run: "),
        f"{when(last['taken_at'])} ({last['seconds']:.1f} s), {outcome}. ",
    ]
    if failure:
        parts += [html.B("Last failure: "), f"{when(failure['taken_at'])}: {failure['reason']}"]
    return dbc.Alert(
        parts, color="light" if last["ok"] else "warning", className="small mb-1", id="growth-state"
    )


def refresh_outcome(refresh: dict) -> str:
    if refresh["outcome"] == "ok":
        added = refresh["added"]
        return (
            f"build {refresh['build_id']} ({refresh['mode']}), {refresh['models']:,} models, "
            f"{added:,} "
            f"model{'s' if added != 1 else ''} added, {refresh['removed']:,} removed"
        )
    if refresh["outcome"] == "unchanged":
        return "the listing had not changed since the last refresh; nothing to build"
    return f"failed: {refresh['error']}; the map stayed on its build"


def refresh_state(
    report: dict, served_version: str, now: datetime | None = None
) -> dbc.Alert | str:
    """The refresh job (the map rebuilt from the tracker's listing): schedule, run in progress, last
    refresh, last failure; nothing when it neither runs nor ever ran."""
    now = now or datetime.now(UTC)
    job = report["jobs"]["refresh"]
    last = job["last_run"]
    scheduled = bool(report["schedules"]) and bool(job["interval_seconds"])
    if last is None and not scheduled:
        return ""
    nobody = "no server refreshes the map (HFMAP_REFRESH_EVERY is off). "
    parts = (
        [html.B("Map refresh. ")]
        + schedule_parts(job, scheduled, nobody, now)
        + running_parts(job, now)
    )
    if last is None:
        parts += ["No refresh yet: the first one follows the tracker's first listing. "]
    else:
        parts += [html.B("Last refresh: "), f"{when(last['ended_at'])}, {refresh_outcome(last)}. "]
    success, failure = job["last_success"], job["last_failure"]
    if success and success["id"] != (last or {}).get("id"):
        parts += [
            html.B("Last refreshed map: "),
            f"{when(success['ended_at'])}, {refresh_outcome(success)}. ",
        ]
    if failure and failure["id"] != (last or {}).get("id"):
        parts += [html.B("Last failure: "), f"{when(failure['ended_at'])}: {failure['error']} "]
    parts += [f"Serving build {served_version}."]
    failed = last is not None and last["outcome"] == "failed"
    return dbc.Alert(
        parts,
        color="warning" if failed else "light",
        className="small mb-1",
        id="growth-refresh-state",
    )


def group_table(groups: list[dict], title: str) -> html.Div:
    header = html.Thead(
        html.Tr(
            [
                html.Th(title),
                html.Th("models"),
                html.Th("added/day, 7 days"),
                html.Th("added/day, 30 days"),
                html.Th("growth per 30 days"),
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(shorten(g["name"], LABEL_CHARS), title=tooltip(g["name"])),
                html.Td(f"{g['models']:,}"),
                html.Td(window_text(g["7d"], "added_per_day")[0]),
                html.Td(window_text(g["30d"], "added_per_day")[0]),
                html.Td(window_text(g["30d"], "growth_percent_per_30_days")[0]),
            ]
        )
        for g in groups
    ]
    return dbc.Table([header, html.Tbody(rows)], size="sm", className="small", striped=True)


@callback(
    Output("growth-cards", "children"),
    Output("growth-tracker", "children"),
    Output("growth-cumulative", "figure"),
    Output("growth-stacked", "figure"),
    Output("growth-groups", "children"),
    inputs=dict(
        filters=FILTER_INPUTS,
        stack=Input("growth-stack", "value"),
        refresh=Input("growth-refresh", "n_intervals"),
    ),
)
def update_growth(filters, stack, refresh):
    build, path = served_build(), served_settings().tracker_db
    filters = Filters.from_inputs(filters)
    now = datetime.now(UTC)
    report = with_age(tracker_report.cached(str(path), history_version(path)), now)
    stack = GrowthState(stack).stack
    stacked = stacked_figure(
        reconstructed_by_group.cached(build, filters, stack),
        f"The build's models by {STACK_BY[stack]} and creation month (reconstructed)",
    )
    latest = report["growth"]
    groups = (
        dbc.Row(
            [
                dbc.Col(group_table(latest["by_library"], "library")),
                dbc.Col(group_table(latest["by_pipeline"], "pipeline")),
            ]
        )
        if latest["snapshots"]
        else ""
    )
    return (
        cards(report),
        [tracker_state(report, str(path), now), refresh_state(report, build.version, now)],
        cumulative_figure(reconstructed_growth.cached(build, filters), report["snapshots"]),
        stacked,
        groups,
    )


@callback(
    Output("view-state", "data", allow_duplicate=True),
    Input("growth-stack", "value"),
    State("view-state", "data"),
    prevent_initial_call=True,
)
def remember_view(stack, view):
    return {**mapping(view), **GrowthState(stack).to_query()}

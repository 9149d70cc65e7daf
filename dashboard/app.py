"""The Dash app: ``create_app(build_dir)`` for `hfmap serve` and tests; ``dashboard.app:server``
for gunicorn.

For gunicorn the app is created on first access of ``server`` (or ``app``) from the
environment's settings (HFMAP_BUILD_DIR, HFMAP_CACHE_DIR, REDIS_URL, …), so importing this
module alone loads nothing. A server (`hfmap serve`, each gunicorn worker) also runs the
scheduled jobs, the tracker's snapshot and the refresh of the map (tracker/jobs.py);
``create_app`` alone, as tests call it, does not.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, dcc, html, no_update
from flask import jsonify

from dashboard.api import api
from dashboard.cache import cache_health, init_query_cache
from dashboard.components import FILTER_INPUTS
from dashboard.filters import Filters
from dashboard.pages import compare, distributions, drift, evolution, families, growth, network
from dashboard.pages import map as map_page
from dashboard.pages.growth import ago
from dashboard.queries.models import find_models
from dashboard.serving import serve, served_build, served_settings
from dashboard.shown import LABEL_CHARS, URL_VALUE_CHARS, shorten
from dashboard.url_state import model_href, shared_query, to_query
from dashboard.values import text
from pipeline.config import Settings
from tracker.history import History
from tracker.jobs import start_jobs
from tracker.report import last_refresh

log = logging.getLogger("hfmap.dashboard")

VIEWS = [  # (module, path, name)
    (map_page, "/", "Map"),
    (network, "/network", "Network"),
    (distributions, "/distributions", "Distributions"),
    (families, "/families", "Families"),
    (drift, "/drift", "Drift"),
    (evolution, "/evolution", "Evolution"),
    (growth, "/growth", "Growth"),
    (compare, "/compare", "Compare"),
]


def create_app(
    build_dir: Path | None = None, settings: Settings | None = None, scheduled_jobs: bool = False
) -> dash.Dash:
    """Load the build (a build, or a builds directory whose current build is followed) and wire
    every     view; with scheduled_jobs, start this process's scheduled jobs too (a server does)."""
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    location = Path(build_dir or settings.build_dir)
    build = serve(location, settings)
    # Bootstrap's CSS is served from dashboard/assets/ (Bootstrap 5.3.8, MIT), never from a CDN: the
    # dashboard must work on a network without internet access.
    # no eager_loading: with it every page parsed plotly.js, MathJax and the table's chunks (8 MB of
    # script) before drawing anything, which held the network view's first graph back by about
    # 2 s (drawn after 3.9 s instead of 1.9 s on the real listing, issue 15); the first map was
    # drawn no sooner with it (both 3.4 to 6.7 s on the same busy machine)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        title="hfmap",
        suppress_callback_exceptions=True,
        update_title=None,
        eager_loading=False,
    )
    for module, path, name in VIEWS:
        dash.register_page(
            module.__name__, path=path, name=name, title=f"hfmap · {name}", layout=module.layout
        )
    app.layout = html.Div(
        [
            dcc.Location(
                id="url", refresh=False
            ),  # filters and view settings are written here without reloading
            dcc.Location(
                id="navigate", refresh="callback-nav"
            ),  # opening a model from the model finder
            navigation_bar(),
            dbc.Container(dash.page_container, fluid=True),
        ]
    )
    init_query_cache(app.server, settings.redis_url)
    app.server.register_blueprint(api)
    app.server.before_request(lambda: refuse_malformed_callback(app))

    @app.server.route("/health")
    def health():
        current = served_build()
        cache = cache_health(app.server)
        return jsonify(
            {
                "status": "ok" if cache["cache"] == "ok" else "degraded",
                "build": current.version,
                "rows": current.size,
                **cache,
            }
        )

    if scheduled_jobs:
        start_jobs(settings, location)
    log.info(
        "serving build %s (%s models); ready after %.1f s",
        build.version,
        f"{build.size:,}",
        time.perf_counter() - started,
    )
    return app


def refuse_malformed_callback(app: dash.Dash):
    """A 400 with one sentence for a callback request no page of this dashboard sends: not a JSON
    object, naming no server-side callback, or giving Dash's page router a location that is not an
    absolute path (the views' own callbacks take any value and fall back to the nearest valid view).
    None lets the request through."""
    prefix = app.config.requests_pathname_prefix
    if flask.request.method != "POST" or flask.request.path != f"{prefix}_dash-update-component":
        return None
    body = flask.request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str) or "callback" not in app.callback_map.get(output, {}):
        return jsonify({"error": "the request names no callback of this dashboard."}), 400
    for item in [*(body.get("inputs") or []), *(body.get("state") or [])]:
        if not isinstance(item, dict) or item.get("id") != "_pages_location":
            continue
        value = item.get("value")
        if value is not None and not (
            isinstance(value, str)
            and (item.get("property") != "pathname" or value.startswith(prefix))
        ):
            return jsonify(
                {
                    "error": f"_pages_location.{item.get('property')} must be text "
                    "(a pathname: an absolute path)."
                }
            ), 400
    return None


def navigation_bar() -> dbc.Navbar:
    links = [
        dbc.NavItem(
            dbc.NavLink(
                name,
                id=f"nav-{path.strip('/') or 'map'}",
                href=path,
                active="partial" if path != "/" else "exact",
            )
        )
        for _, path, name in VIEWS
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("hfmap", href="/", className="fw-bold"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                html.Div(
                    dcc.Dropdown(
                        id="model-finder", placeholder="Find a model…", style={"minWidth": "22rem"}
                    ),
                    className="me-3",
                ),
                html.Span(id="build-badge", className="navbar-text small text-light"),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3",
    )


@dash.callback(
    Output("url", "search"),
    inputs=dict(filters=FILTER_INPUTS, view=Input("view-state", "data")),
    state=dict(current=State("url", "search")),
    prevent_initial_call=True,
)
def keep_state_in_url(filters, view, current):
    """Every filter change and view setting goes into the address bar, so the view can be
    bookmarked."""
    query = to_query(Filters.from_inputs(filters), view)
    return no_update if query == text(current) else query


@dash.callback(
    *[Output(f"nav-{path.strip('/') or 'map'}", "href") for _, path, _ in VIEWS],
    Output("build-badge", "children"),
    Input("url", "search"),
)
def carry_state_to_other_views(search):
    """Links to the other views keep the filters, the opened model and the map selection."""
    build = served_build()
    query = shared_query(text(search))
    badge = f"{build.size:,} models · build {build.version}"
    return [f"{path}{query}" for _, path, _ in VIEWS] + [
        [badge, refreshed_text(served_settings().tracker_db)]
    ]


def refreshed_text(history_path: Path) -> html.Span | str:
    """When the refresh job last made a build current and how many models it added ("" before)."""
    refresh = last_refresh(History(history_path))
    if refresh is None:
        return ""
    ended = datetime.fromisoformat(refresh["ended_at"])
    added = refresh["added"]
    text = (
        f" · map refreshed {ago((datetime.now(UTC) - ended).total_seconds())}, "
        f"{added:,} model{'s' if added != 1 else ''} added"
    )
    return html.Span(
        text, id="map-refreshed", title=f"build {refresh['build_id']} at {refresh['ended_at']}"
    )


@dash.callback(Output("model-finder", "options"), Input("model-finder", "search_value"))
def offer_models(typed):
    """The finder's options: ids shortened in the label; an id too long to be a URL value is left
    out."""
    return [
        {"label": shorten(model_id, LABEL_CHARS), "value": model_id}
        for model_id in find_models.cached(served_build(), text(typed), 20)
        if len(model_id) <= URL_VALUE_CHARS
    ]


@dash.callback(
    Output("navigate", "href"),
    Input("model-finder", "value"),
    State("url", "pathname"),
    State("url", "search"),
    prevent_initial_call=True,
)
def open_found_model(model_id, pathname, search):
    """Open the chosen model in the current view (the map when the view has no model)."""
    if not text(model_id):
        return no_update
    page = pathname if pathname in ("/", "/network", "/evolution") else "/"
    return model_href(model_id, page, text(search), text(pathname))


def __getattr__(name: str):
    """``server`` / ``app`` for gunicorn: the app built from the environment on first access."""
    if name in ("app", "server"):
        app = globals().get("_app") or create_app(scheduled_jobs=True)
        globals()["_app"] = app
        return app if name == "app" else app.server
    raise AttributeError(name)

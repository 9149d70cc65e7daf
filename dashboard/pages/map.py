"""The Map view: every model at its UMAP position in 2D or 3D, filtered, coloured and sized.

The server sends at most the point budget (a level-of-detail sample, see
dashboard.queries.points); zooming the 2D map re-queries the visible box. Hovering shows a
model's facts, clicking opens its details (and can draw its family's links), a box or lasso
selection summarizes the models inside it and cross-filters the distributions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update

from dashboard.components import FILTER_INPUTS, details_card, model_link, page_frame
from dashboard.figures.distributions import histogram_figure
from dashboard.figures.minimap import MINIMAP_SIZE, minimap_figure, with_camera
from dashboard.filters import Filters, Selection
from dashboard.model_download import download_control
from dashboard.queries.density import matches_frame
from dashboard.queries.distributions import histogram, selection_summary
from dashboard.queries.map import COLOUR_CHOICES, SIZE_CHOICES
from dashboard.queries.minimap import minimap_layer
from dashboard.queries.models import model_details, model_facts
from dashboard.queries.semantic import semantic_results, semantic_search
from dashboard.queries.views import SEMANTIC_HITS, map_view
from dashboard.serving import served_build, served_settings
from dashboard.shown import LABEL_CHARS, URL_VALUE_CHARS, count_text, shorten
from dashboard.url_state import from_query, shared_query, to_query, unless_default
from dashboard.values import choice, text, whole_number

MIN_BUDGET, MAX_BUDGET = 1_000, 1_000_000


def budget_for(dims: int, value=None) -> int:
    default = served_settings().map_points_3d if dims == 3 else served_settings().map_points_2d
    return (
        whole_number(value, default, MIN_BUDGET, MAX_BUDGET) if value not in (None, "") else default
    )


@dataclass(frozen=True)
class MapState:
    """The view's own settings (the field defaults are the view's), from the URL or the controls."""

    dims: int = 2
    colour: str = "library_name"  # one of COLOUR_CHOICES
    size: str = "downloads"  # one of SIZE_CHOICES
    budget: int | None = None  # most points drawn; None: the settings' default for dims
    draw_family: bool = False
    semantic: str = ""  # the semantic search's text
    zoom: str | None = None  # the visible box of the 2D map (Selection.to_text)
    selection: str | None = None  # the selected region of the 2D map (Selection.to_text)
    model: str | None = None  # the opened model

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "dims", 3 if self.dims == 3 else 2)
        set_(self, "colour", choice(self.colour, COLOUR_CHOICES, MapState.colour))
        set_(self, "size", choice(self.size, SIZE_CHOICES, MapState.size))
        set_(self, "budget", budget_for(self.dims, self.budget))
        set_(self, "draw_family", self.draw_family is True)
        set_(self, "semantic", text(self.semantic))
        for name in ("zoom", "selection", "model"):
            set_(self, name, text(getattr(self, name)) or None)

    @classmethod
    def from_query(cls, view: dict) -> MapState:
        selection = Selection.from_text(view.get("sel"))
        return cls(
            3 if view.get("dims") == "3" else 2,
            view.get("colour"),
            view.get("size"),
            view.get("budget"),
            view.get("family") == "1",
            view.get("q"),
            view.get("zoom"),
            selection.to_text() if selection else None,
            view.get("model"),
        )

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {
            "dims": unless_default(self.dims, MapState.dims),
            "colour": unless_default(self.colour, MapState.colour),
            "size": unless_default(self.size, MapState.size),
            "budget": unless_default(self.budget, budget_for(self.dims)),
            "family": "1" if self.draw_family else None,
            "q": self.semantic or None,
            "zoom": self.zoom if self.dims == 2 else None,
            "sel": self.selection,
            "model": self.model,
        }


STATE_INPUTS = {  # MapState's fields
    "dims": Input("map-dims", "value"),
    "colour": Input("map-colour", "value"),
    "size": Input("map-size", "value"),
    "budget": Input("map-budget", "value"),
    "draw_family": Input("map-family", "value"),
    "semantic": Input("map-semantic", "value"),
    "zoom": Input("map-zoom", "data"),
    "selection": Input("map-selection", "data"),
    "model": Input("selected-model", "data"),
}


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = MapState.from_query(view)
    dims, colour, size, budget = state.dims, state.colour, state.size, state.budget
    selection = state.selection
    model = state.model if build.row(state.model) is not None else None
    controls = [
        html.H6("Map", className="card-title"),
        dbc.RadioItems(
            id="map-dims",
            options=[{"label": "2D", "value": 2}, {"label": "3D", "value": 3}],
            value=dims,
            inline=True,
        ),
        dbc.Label("Colour by", html_for="map-colour", className="mt-2 mb-0 small"),
        dcc.Dropdown(
            id="map-colour",
            options=[{"label": v, "value": k} for k, v in COLOUR_CHOICES.items()],
            value=colour,
            clearable=False,
        ),
        dbc.Label("Size by", html_for="map-size", className="mt-2 mb-0 small"),
        dcc.Dropdown(
            id="map-size",
            options=[{"label": v, "value": k} for k, v in SIZE_CHOICES.items()],
            value=size,
            clearable=False,
        ),
        dbc.Label("Most points drawn", html_for="map-budget", className="mt-2 mb-0 small"),
        dbc.Input(
            id="map-budget",
            type="number",
            min=MIN_BUDGET,
            max=MAX_BUDGET,
            step=1000,
            value=budget,
            debounce=True,
        ),
        dbc.Switch(
            id="map-family",
            label="Draw the opened model's family",
            value=state.draw_family,
            className="mt-2",
        ),
        dbc.Label("Semantic search", html_for="map-semantic", className="mt-2 mb-0 small"),
        dbc.Input(
            id="map-semantic",
            type="search",
            value=state.semantic,
            debounce=True,
            placeholder="describe a model, e.g. chinese text generation",
        ),
        html.Div(
            id="map-semantic-results",
            className="small mt-2",
            style={"maxHeight": "16rem", "overflowY": "auto"},
        ),
        download_control(),
    ]
    content = [
        # one line of fixed height above the map: nothing above it changes height, so a point
        # stays where the pointer found it
        html.Div(
            [
                html.Div(id="map-count", className="small text-muted text-truncate flex-grow-1"),
                dbc.Button(
                    "Zoom to matches",
                    id="map-zoom-matches",
                    size="sm",
                    color="link",
                    className="py-0 text-nowrap",
                    style={"display": "none"},
                ),
            ],
            className="d-flex align-items-center mb-1",
            style={"height": "1.75rem", "overflow": "hidden"},
        ),
        html.Div(
            [
                dcc.Loading(
                    dcc.Graph(
                        id="map-graph",
                        style={"height": "72vh"},
                        clear_on_unhover=True,
                        config={
                            "scrollZoom": True,
                            "displaylogo": False,
                            "modeBarButtonsToRemove": ["toImage"],
                        },
                    ),
                    delay_show=300,
                ),
                # the hovered model's facts at the pointer (fetched on hover: the figure carries
                # only rows); never under the pointer, so a click reaches the point
                dcc.Tooltip(
                    html.Div(id="map-hover", className="small", style={"maxWidth": "22rem"}),
                    id="map-tooltip",
                    direction="right",
                ),
                # the 3D map seen from above, with where its camera looks; a click turns the
                # camera there (dashboard/assets/minimap.js)
                html.Div(
                    dcc.Graph(
                        id="map-minimap",
                        config={"staticPlot": True},
                        style={"width": f"{MINIMAP_SIZE}px", "height": f"{MINIMAP_SIZE}px"},
                    ),
                    id="map-minimap-box",
                    title="The 3D map seen from above: click to look there",
                    style=minimap_style(dims),
                ),
            ],
            style={"position": "relative"},
        ),
        dcc.Store(id="map-frame"),
        dcc.Store(id="map-camera"),  # the 3D camera the map was left at (see update_map)
        dcc.Store(id="map-framed"),
        html.Div(id="map-selection-summary", className="mt-2"),
        dcc.Store(id="map-zoom", data=state.zoom),
        dcc.Store(id="map-selection", data=selection),
        dcc.Store(id="selected-model", data=model),
    ]
    side = [
        html.Div(
            details_card(
                model_details.cached(build, model) if model else None,
                search=to_query(filters, view),
            ),
            id="model-details",
        )
    ]
    return page_frame(build, filters, view, controls, content, side)


def minimap_style(dims: int) -> dict:
    """The minimap's place, the 3D map's bottom left corner (the legend is above it, a colour bar
    on the right); hidden on the 2D map."""
    style = {
        "position": "absolute",
        "left": "0.25rem",
        "bottom": "0.25rem",
        "background": "rgba(255,255,255,0.85)",
        "border": "1px solid #dee2e6",
        "borderRadius": "0.25rem",
        "cursor": "crosshair",
    }
    return style if dims == 3 else {**style, "display": "none"}


@callback(
    Output("map-minimap", "figure"),
    Output("map-minimap-box", "style"),
    inputs=dict(filters=FILTER_INPUTS, dims=Input("map-dims", "value")),
)
def update_minimap(filters, dims):
    """The 3D map's minimap of the models that pass the filters; hidden on the 2D map. Its camera
    marks, and a click on it, stay in the browser (dashboard/assets/minimap.js)."""
    if dims != 3:
        return no_update, minimap_style(2)
    layer = minimap_layer.cached(served_build(), Filters.from_inputs(filters))
    return minimap_figure(layer), minimap_style(3)


def zoom_from_relayout(relayout: dict | None, current: str | None) -> str | None:
    """The visible box of the 2D map after a relayout event ("x0,x1,y0,y1"), None when zoomed out
    (autorange); the current box when the event holds no new one (or one that is not four finite
    numbers), as when the graph is first drawn or resized (autosize): a zoom from the URL stays."""
    if not isinstance(relayout, dict) or not relayout:
        return current
    if relayout.get("xaxis.autorange"):
        return None
    keys = ("xaxis.range[0]", "xaxis.range[1]", "yaxis.range[0]", "yaxis.range[1]")
    if all(key in relayout for key in keys):
        try:
            return Selection("box", tuple(float(relayout[key]) for key in keys)).to_text()
        except (TypeError, ValueError, OverflowError):
            return current
    return current


@callback(Output("map-budget", "value"), Input("map-dims", "value"), prevent_initial_call=True)
def default_budget_of(dims):
    """Switching between 2D and 3D starts from that kind's default budget (3D draws far fewer
    points)."""
    return budget_for(3 if dims == 3 else 2)


@callback(
    Output("map-zoom", "data"),
    Input("map-graph", "relayoutData"),
    State("map-zoom", "data"),
    prevent_initial_call=True,
)
def remember_zoom(relayout, current):
    zoom = zoom_from_relayout(relayout, current)
    return no_update if zoom == current else zoom


@callback(
    Output("map-graph", "figure"),
    Output("map-count", "children"),
    # the selection is drawn when the map is, but a new selection does not redraw the map
    inputs=dict(
        filters=FILTER_INPUTS,
        view={**STATE_INPUTS, "selection": State("map-selection", "data")},
        camera=State("map-camera", "data"),  # a 3D map is drawn from the camera it was left at
    ),
)
def update_map(filters, view, camera=None):
    filters, state = Filters.from_inputs(filters), MapState(**view)
    plane = state.dims == 2  # zoom and selection are regions of the 2D map
    figure, count = map_view.cached(
        served_build(),
        filters,
        state.dims,
        state.colour,
        state.size,
        state.budget,
        state.zoom if plane else None,
        state.model,
        state.draw_family,
        " ".join(state.semantic.split()),
        state.selection if plane else None,
    )
    return with_camera(figure, camera), count


# The 3D camera after each turn of the scene or click on its minimap (plotly's relayout event),
# for the next figure (update_map): in the browser, so a turn costs no request.
clientside_callback(
    """
    function (relayout) {
        const camera = relayout && relayout['scene.camera'];
        return camera || window.dash_clientside.no_update;
    }
    """,
    Output("map-camera", "data"),
    Input("map-graph", "relayoutData"),
    prevent_initial_call=True,
)


def event_row(event) -> int | None:
    """The build row of the first point of a plotly hover or click event (its customdata), or None
    when the event names no row of the build."""
    points = event.get("points") if isinstance(event, dict) else None
    first = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
    row = first.get("customdata")
    if isinstance(row, list) and row:  # some traces wrap customdata in a list
        row = row[0]
    if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < served_build().size:
        return None
    return row


def hover_bbox(event) -> dict | None:
    """The pixel box of a hover event's first point (plotly's ``bbox``, relative to the graph),
    when it is four finite numbers."""
    points = event.get("points") if isinstance(event, dict) else None
    first = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
    bbox = first.get("bbox")
    keys = ("x0", "x1", "y0", "y1")
    if not isinstance(bbox, dict) or not all(
        isinstance(bbox.get(key), (int, float))
        and not isinstance(bbox.get(key), bool)
        and math.isfinite(bbox[key])
        for key in keys
    ):
        return None
    return {key: bbox[key] for key in keys}


@callback(
    Output("map-tooltip", "show"),
    Output("map-tooltip", "bbox"),
    Output("map-hover", "children"),
    Input("map-graph", "hoverData"),
)
def show_hovered(hover):
    """The hovered model's id and facts in a tooltip at the point (the figure carries only rows,
    not text); a 3D point, whose event has no box, shows them at the map's top left corner."""
    row = event_row(hover)
    if row is None:
        return False, no_update, no_update
    facts = model_facts.cached(served_build(), row)
    return (
        True,
        hover_bbox(hover) or {"x0": 0, "x1": 0, "y0": 0, "y1": 0},
        [
            html.Div(html.B(shorten(facts["model_id"], LABEL_CHARS)), className="text-break"),
            html.Div(
                f"{shorten(facts['library'], LABEL_CHARS)} · "
                f"{shorten(facts['pipeline'], LABEL_CHARS)}"
            ),
            html.Div(
                f"{count_text(facts['downloads'])} downloads · {count_text(facts['likes'])} likes"
            ),
        ],
    )


@callback(
    Output("map-zoom-matches", "style"),
    inputs=dict(filters=FILTER_INPUTS, semantic=Input("map-semantic", "value")),
)
def offer_zoom_to_matches(filters, semantic):
    """The "Zoom to matches" button, shown while a filter or a semantic search is set."""
    active = Filters.from_inputs(filters).active or bool(text(semantic).strip())
    return {} if active else {"display": "none"}


FILTER_STATES = {
    name: State(i.component_id, i.component_property) for name, i in FILTER_INPUTS.items()
}


@callback(
    output=Output("map-frame", "data"),
    inputs=dict(_clicks=Input("map-zoom-matches", "n_clicks")),
    state=dict(semantic=State("map-semantic", "value"), filters=FILTER_STATES),
    prevent_initial_call=True,
)
def frame_matches(_clicks, semantic, filters):
    """The box of the matching models (the filters', else the semantic search's hits)."""
    build = served_build()
    hits = semantic_search.cached(build, " ".join(text(semantic).split()), SEMANTIC_HITS)
    box = matches_frame.cached(
        build, Filters.from_inputs(filters), tuple(hit["row"] for hit in hits)
    )
    return list(box) if box else no_update


# The map moves to the box as if the user had zoomed there: the relayout event then re-queries the
# visible box like any zoom (remember_zoom).
clientside_callback(
    """
    function (box) {
        const gd = document.querySelector('#map-graph .js-plotly-plot');
        if (box && gd && window.Plotly) {
            window.Plotly.relayout(gd, {
                'xaxis.range[0]': box[0], 'xaxis.range[1]': box[1],
                'yaxis.range[0]': box[2], 'yaxis.range[1]': box[3],
            });
        }
        return window.dash_clientside.no_update;
    }
    """,
    Output("map-framed", "data"),
    Input("map-frame", "data"),
    prevent_initial_call=True,
)


@callback(
    Output("selected-model", "data"), Input("map-graph", "clickData"), prevent_initial_call=True
)
def open_clicked(click):
    row = event_row(click)
    model_id = served_build().model_id(row) if row is not None else ""
    return (
        model_id if 0 < len(model_id) <= URL_VALUE_CHARS else no_update
    )  # an id too long for a URL opens nothing


@callback(
    Output("model-details", "children"),
    Input("selected-model", "data"),
    Input("url", "search"),  # its links keep the filters and settings of the moment
    prevent_initial_call=True,
)
def show_details(model_id, search):
    details = model_details.cached(served_build(), model_id) if text(model_id) else None
    return details_card(details, search=text(search))


@callback(
    Output("map-selection", "data"),
    Input("map-graph", "selectedData"),
    State("map-dims", "value"),
    prevent_initial_call=True,
)
def remember_selection(selected, dims):
    if dims == 3:
        return no_update
    selection = Selection.from_plotly(selected)
    if selection is None and isinstance(selected, dict) and selected.get("points") is not None:
        # points without a region: plotly selecting again inside the drawn region when the figure
        # is redrawn (a bookmarked selection's first draw), not a new selection nor a deselect
        return no_update
    return selection.to_text() if selection else None


SELECTION_HINT = "Select models with the box or lasso tool of the 2D map to summarize them here."
SUMMARY_COLUMNS = (
    ("library_name", "libraries"),
    ("pipeline_tag", "pipelines"),
    ("license", "licenses"),
)


@callback(
    Output("map-selection-summary", "children"),
    inputs=dict(
        filters=FILTER_INPUTS,
        selection_text=Input("map-selection", "data"),
        search=Input("url", "search"),  # the links keep the filters and settings of the moment
    ),
)
def summarize_selection(filters, selection_text, search):
    selection = Selection.from_text(selection_text)
    if selection is None:
        return html.Div(SELECTION_HINT, className="small text-muted")
    build, filters = served_build(), Filters.from_inputs(filters)
    downloads = histogram.cached(build, filters, selection, "downloads", True)
    return selection_card(
        selection_summary.cached(build, filters, selection),
        histogram_figure(downloads, height=180, label="selection"),  # beside all models
        text(search),
    )


def selection_card(summary: dict, figure, search: str = "") -> dbc.Card:
    """A map selection's summary (queries.distributions.selection_summary) beside its downloads."""
    unknown = summary["downloads_unknown"]
    downloads = f"{summary['downloads']:,} downloads in all" + (
        f" ({unknown:,} models with unknown downloads)" if unknown else ""
    )
    top = [
        html.Div(
            [
                html.Span(f"{title}: ", className="text-muted"),
                ", ".join(f"{shorten(name, LABEL_CHARS)} ({n:,})" for name, n in summary[column])
                or "none",
            ]
        )
        for column, title in SUMMARY_COLUMNS
    ]
    examples = sum(
        ([model_link(model_id, "/", search), ", "] for model_id in summary["examples"]), []
    )[:-1]
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H6(
                                f"Selection: {summary['models']:,} models", id="selection-count"
                            ),
                            html.Div(downloads, className="small", id="selection-downloads"),
                            html.Div(top, className="small"),
                            html.Div(["Most downloaded: ", *examples], className="small"),
                            dcc.Link(
                                "Distributions of the selection →",
                                href="/distributions",
                                id="selection-distributions-link",
                                className="small",
                            ),
                        ],
                        md=6,
                    ),
                    dbc.Col(dcc.Graph(figure=figure, config={"displayModeBar": False}), md=6),
                ]
            )
        ),
        id="selection-card",
    )


@callback(Output("selection-distributions-link", "href"), Input("url", "search"))
def link_selection_to_distributions(search):
    return "/distributions" + shared_query(text(search))


@callback(
    Output("map-semantic-results", "children"),
    Input("map-semantic", "value"),
    Input("url", "search"),  # the links keep the filters and settings of the moment
)
def list_semantic_hits(query, search):
    """The hits, each with its score (0 to 1, see pipeline.build_format), and a sentence when the
    build knows no word of the query or the best match is weak."""
    results = semantic_results.cached(served_build(), text(query), SEMANTIC_HITS)
    note = results["note"] and html.Div(results["note"], id="semantic-note", className="text-muted")
    if not results["hits"]:
        return note or ""
    hits = html.Ol(
        [
            html.Li(
                [
                    model_link(hit["model_id"], "/", text(search)),
                    html.Span(
                        f" {hit['similarity']:.2f}",
                        className="text-muted semantic-score",
                        title="score: the share of the query's words the model carries, "
                        "and its embedding's closeness",
                    ),
                ]
            )
            for hit in results["hits"]
        ],
        id="semantic-hits",
        className="ps-3",
    )
    return [note, hits] if note else hits


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=STATE_INPUTS),
    prevent_initial_call=True,
)
def remember_view(state):
    return MapState(**state).to_query()

"""The Families view: the family trees of the build, largest first, sortable by any column (tab
"Table"); chosen families' members by creation month and by the relation that brought them in
(tab "Over time"); the families that grew fastest, began most recently, reach deepest or spread
widest (tab "Fastest growing"). A family's root opens the family in the network view."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from dashboard.components import FILTER_INPUTS, page_frame
from dashboard.figures.adoption import curves_figure, mix_figure
from dashboard.filters import Filters
from dashboard.queries.adoption import (
    CHOSEN_MAX,
    SHOWN_BY_DEFAULT,
    WINDOWS,
    adoption_curves,
    deepest_families,
    fastest_growing,
    find_families,
    largest_families,
    newest_large_families,
    widest_families,
)
from dashboard.queries.families import COLUMNS, PAGE_ROWS, families_page
from dashboard.serving import served_build
from dashboard.shown import LABEL_CHARS, URL_VALUE_CHARS, json_count, markdown_text, shorten
from dashboard.url_state import from_query, mapping, model_href, to_query, unless_default
from dashboard.values import choice, text, texts, whole_number

HEADERS = {
    "root_id": "family (root model)",
    "size": "models",
    "matching": "matching filters",
    "max_depth": "depth",
    "n_finetune": "finetunes",
    "n_adapter": "adapters",
    "n_quantized": "quantized",
    "n_merge": "merges",
    "n_unspecified": "unspecified",
    "total_downloads": "downloads",
}
TABS = {"table": "Table", "time": "Over time", "growing": "Fastest growing"}
SCALES = {"members": "members", "normalized": "normalized to the first month"}
COUNT_FORMAT = {"specifier": ",d"}
FAMILY_SEPARATOR = ","  # between the chosen families in the URL (no Hub id holds one)
RANKINGS = {  # the Fastest growing tab's tables: (title, columns)
    "fastest": (
        "Fastest growing: the most members added in the window",
        {
            "root_id": "family",
            "members": "models",
            "before": "at the window's start",
            "added": "added",
            "growth": "growth",
        },
    ),
    "newest": (
        "Newest large families: begun in the window, largest first",
        {"root_id": "family", "members": "models", "began": "first model created"},
    ),
    "deepest": (
        "Deepest families: the most generations below their root",
        {
            "root_id": "family",
            "members": "models",
            "depth": "depth",
            "widest": "widest generation",
            "widest_depth": "at depth",
        },
    ),
    "widest": (
        "Widest families: the most models in one generation",
        {
            "root_id": "family",
            "members": "models",
            "widest": "widest generation",
            "widest_depth": "at depth",
            "depth": "depth",
        },
    ),
}


@dataclass(frozen=True)
class FamiliesState:
    """The view's own settings (the field defaults are the view's), from the URL or the table."""

    sort: str = "size"  # one of COLUMNS
    descending: bool = True
    min_size: int = 2  # smallest family listed
    page: int = 0
    tab: str = "table"  # one of TABS
    families: tuple[str, ...] = ()  # the families drawn over time (none: the largest)
    scale: str = "members"  # one of SCALES
    window: int = 90  # days, one of WINDOWS

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "sort", choice(self.sort, COLUMNS, FamiliesState.sort))
        set_(self, "descending", bool(self.descending))
        set_(self, "min_size", whole_number(self.min_size, FamiliesState.min_size, 1))
        set_(self, "page", whole_number(self.page, FamiliesState.page))
        set_(self, "tab", choice(self.tab, TABS, FamiliesState.tab))
        set_(self, "families", chosen_families(self.families))
        set_(self, "scale", choice(self.scale, SCALES, FamiliesState.scale))
        window = whole_number(self.window, FamiliesState.window)
        set_(self, "window", window if window in WINDOWS else FamiliesState.window)

    @classmethod
    def from_query(cls, view: dict) -> FamiliesState:
        families = text(view.get("families"))
        return cls(
            view.get("sort"),
            view.get("dir") != "asc",
            view.get("min_size"),
            view.get("page"),
            view.get("tab"),
            tuple(families.split(FAMILY_SEPARATOR)) if families else (),
            view.get("scale"),
            view.get("window"),
        )

    @classmethod
    def from_table(
        cls, sort_by, page, min_size, tab=None, families=None, scale=None, window=None
    ) -> FamiliesState:
        """The state of the view's controls (sort_by: [{"column_id": …,
        "direction": "asc"|"desc"}])."""
        listed = isinstance(sort_by, list) and sort_by and isinstance(sort_by[0], dict)
        first = sort_by[0] if listed else {}
        return cls(
            first.get("column_id"),
            first.get("direction") != "asc",
            min_size,
            page,
            tab,
            texts(families),
            scale,
            window,
        )

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {
            "sort": unless_default(self.sort, FamiliesState.sort),
            "dir": unless_default("desc" if self.descending else "asc", "desc"),
            "page": unless_default(self.page, FamiliesState.page),
            "min_size": unless_default(self.min_size, FamiliesState.min_size),
            "tab": unless_default(self.tab, FamiliesState.tab),
            "families": FAMILY_SEPARATOR.join(self.families) or None,
            "scale": unless_default(self.scale, FamiliesState.scale),
            "window": unless_default(self.window, FamiliesState.window),
        }


def chosen_families(values) -> tuple[str, ...]:
    """The chosen root ids as the view keeps them: text only, each once, in the order chosen, at
    most CHOSEN_MAX; an id the URL cannot carry (too long, or holding the separator) is left
    out."""
    kept = [
        value
        for value in texts(values)
        if value and len(value) <= URL_VALUE_CHARS and FAMILY_SEPARATOR not in value
    ]
    return tuple(dict.fromkeys(kept))[:CHOSEN_MAX]


STATE_INPUTS = {
    "sort_by": Input("families-table", "sort_by"),
    "page": Input("families-table", "page_current"),
    "min_size": Input("families-min-size", "value"),
}
VIEW_INPUTS = {  # every setting the URL keeps
    **STATE_INPUTS,
    "tab": Input("families-tabs", "active_tab"),
    "families": Input("adoption-families", "value"),
    "scale": Input("adoption-scale", "value"),
    "window": Input("growing-window", "value"),
}


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = FamiliesState.from_query(view)
    controls = [
        html.H6("Families", className="card-title"),
        dbc.Label(
            "Smallest family listed (models)", html_for="families-min-size", className="mb-0 small"
        ),
        dbc.Input(
            id="families-min-size", type="number", min=1, debounce=True, value=state.min_size
        ),
        html.P(
            "A family is a root model and every model that descends from it. Click a column to "
            "sort; "
            "click a family to open it in the network view.",
            className="small text-muted mt-2",
        ),
    ]
    table = dash_table.DataTable(
        id="families-table",
        columns=[
            {"name": HEADERS[c], "id": c, "presentation": "markdown"}
            if c == "root_id"
            else {"name": HEADERS[c], "id": c, "type": "numeric", "format": {"specifier": ",d"}}
            for c in COLUMNS
        ],
        sort_action="custom",
        sort_mode="single",
        sort_by=[{"column_id": state.sort, "direction": "desc" if state.descending else "asc"}],
        page_action="custom",
        page_current=state.page,
        page_size=PAGE_ROWS,
        markdown_options={"link_target": "_self"},
        style_table={"overflowX": "auto"},
        style_cell={"fontSize": 13, "padding": "4px 8px"},
        style_header={"fontWeight": "bold"},
        style_cell_conditional=[{"if": {"column_id": "root_id"}, "textAlign": "left"}],
    )
    tabs = dbc.Tabs(
        [
            dbc.Tab(
                [html.Div(id="families-count", className="small text-muted my-1"), table],
                label=TABS["table"],
                tab_id="table",
            ),
            dbc.Tab(over_time(state), label=TABS["time"], tab_id="time"),
            dbc.Tab(growing(state), label=TABS["growing"], tab_id="growing"),
        ],
        id="families-tabs",
        active_tab=state.tab,
    )
    return page_frame(build, filters, view, controls, [tabs])


def family_option(root_id: str, size: int | None = None) -> dict:
    """A family picker option: its root id (shortened in the label) and, when known, its size."""
    label = shorten(root_id, LABEL_CHARS)
    return {"label": label if size is None else f"{label} ({size:,})", "value": root_id}


def over_time(state: FamiliesState) -> list:
    """The Over time tab: the family picker, the scale, the adoption curves and relation mix."""
    return [
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label(
                            f"Families (up to {CHOSEN_MAX})",
                            html_for="adoption-families",
                            className="mb-0 small",
                        ),
                        dcc.Dropdown(
                            id="adoption-families",
                            options=[family_option(root) for root in state.families],
                            value=list(state.families),
                            multi=True,
                            placeholder=f"the {SHOWN_BY_DEFAULT} largest families; type to find "
                            "others",
                        ),
                    ],
                    md=8,
                ),
                dbc.Col(
                    [
                        dbc.Label("Scale", html_for="adoption-scale", className="mb-0 small"),
                        dbc.RadioItems(
                            id="adoption-scale",
                            options=[{"label": v, "value": k} for k, v in SCALES.items()],
                            value=state.scale,
                        ),
                    ],
                    md=4,
                ),
            ],
            className="my-2 g-2",
        ),
        html.Div(id="adoption-note", className="small text-muted mb-1"),
        dcc.Graph(id="adoption-curves", config={"displaylogo": False}),
        html.H6("Members added each month, by how they came in", className="mt-2"),
        dcc.Graph(id="adoption-mix", config={"displaylogo": False}),
    ]


def ranking_table(name: str) -> html.Div:
    title, columns = RANKINGS[name]
    return html.Div(
        [
            html.H6(title, className="mt-3 mb-0"),
            html.Div(id=f"growing-{name}-note", className="small text-muted mb-1"),
            dash_table.DataTable(
                id=f"growing-{name}",
                columns=[
                    {"name": header, "id": column, "presentation": "markdown"}
                    if column == "root_id"
                    else {"name": header, "id": column}
                    if column in ("growth", "began")
                    else {"name": header, "id": column, "type": "numeric", "format": COUNT_FORMAT}
                    for column, header in columns.items()
                ],
                markdown_options={"link_target": "_self"},
                style_table={"overflowX": "auto"},
                style_cell={"fontSize": 13, "padding": "4px 8px"},
                style_header={"fontWeight": "bold"},
                style_cell_conditional=[{"if": {"column_id": "root_id"}, "textAlign": "left"}],
            ),
        ]
    )


def growing(state: FamiliesState) -> list:
    """The Fastest growing tab: the window, and one ranked table per question."""
    return [
        html.Div(
            [
                dbc.Label("Window", html_for="growing-window", className="mb-0 me-2 small"),
                dbc.RadioItems(
                    id="growing-window",
                    options=[{"label": f"last {days} days", "value": days} for days in WINDOWS],
                    value=state.window,
                    inline=True,
                ),
            ],
            className="my-2 d-flex align-items-center",
        ),
        html.Div(id="growing-note", className="small text-muted"),
        *(ranking_table(name) for name in RANKINGS),
    ]


def family_link(root_id: str, search: str) -> str:
    """Markdown link opening a family's root in the network view, keeping the filters and the
    shared state of the current URL query ``search``; the id is shown literally (every markdown
    character escaped) and the URL is percent-encoded; an id too long for a URL is shown without a
    link."""
    if len(root_id) > URL_VALUE_CHARS:  # too long for a URL: the id alone, as text
        return markdown_text(root_id)
    target = model_href(root_id, "/network", search, "/families", show="family")
    return f"[{markdown_text(root_id)}]({quote(target, safe='/?&=%+')})"


@callback(
    Output("families-table", "data"),
    Output("families-table", "page_count"),
    Output("families-table", "page_current"),
    Output("families-count", "children"),
    inputs=dict(filters=FILTER_INPUTS, view=STATE_INPUTS),
    state=dict(query=State("url", "search")),
)
def update_families(filters, view, query):
    build = served_build()
    filters, state = Filters.from_inputs(filters), FamiliesState.from_table(**view)
    arguments = (build, filters, state.sort, state.descending, state.min_size)
    result = families_page.cached(*arguments, state.page)
    pages, page = max(1, -(-result["families"] // PAGE_ROWS)), state.page
    if page >= pages:  # the filters left fewer pages: show the last one
        page = pages - 1
        result = families_page.cached(*arguments, page)
    carried = to_query(filters, from_query(text(query))[1])  # the filters as they are now
    rows = [
        {
            **row,
            "root_id": family_link(row["root_id"], carried),
            "total_downloads": json_count(row["total_downloads"]),
        }
        for row in result["rows"]
    ]
    what = "families" + (" with a model that passes the filters" if filters.active else "")
    return rows, pages, page, f"{result['families']:,} {what}"


def largest_first(sort_by, sorted_before: str) -> list[dict] | None:
    """The table's sort after a header click, with numbers largest first: the table sorts a
    newly clicked column ascending (its first click) and a descending column not at all (its
    next click); this makes them descending and ascending, so clicks go largest first, smallest
    first, largest first… (``sorted_before``: the column sorted before the click). None: keep
    the table's sort (a click on the family column sorts it A-Z first)."""
    if not isinstance(sort_by, list) or not sort_by:
        return [{"column_id": sorted_before, "direction": "asc"}]
    first = sort_by[0] if isinstance(sort_by[0], dict) else {}
    column = first.get("column_id")
    numeric = column in COLUMNS and column != "root_id"
    if numeric and first.get("direction") == "asc" and column != sorted_before:
        return [{"column_id": column, "direction": "desc"}]
    return None


@callback(
    Output("families-table", "sort_by"),
    Input("families-table", "sort_by"),
    State("view-state", "data"),
    prevent_initial_call=True,
)
def sort_largest_first(sort_by, view):
    before = choice(mapping(view).get("sort"), COLUMNS, FamiliesState.sort)
    return largest_first(sort_by, before) or no_update


@callback(
    Output("adoption-families", "options"),
    Input("adoption-families", "search_value"),
    State("adoption-families", "value"),
)
def offer_families(typed, chosen):
    """The picker's options: the chosen families (kept, or the dropdown would drop them), then the
    families whose root id holds the typed text (the largest when nothing is typed)."""
    chosen = chosen_families(chosen)
    found = [
        family_option(family["root_id"], family["size"])
        for family in find_families.cached(served_build(), text(typed), 20)
        if family["root_id"] not in chosen and chosen_families([family["root_id"]])
    ]
    return [family_option(root) for root in chosen] + found


def curves_note(curves: dict, chosen: tuple[str, ...], asked: int) -> str:
    """What the curves leave out, in words: the default choice, undated members, roots that are
    no family of the build, families without a member passing the filters."""
    parts = [] if chosen else [f"The {SHOWN_BY_DEFAULT} largest families; pick others above."]
    if asked > CHOSEN_MAX:
        parts.append(f"Only the first {CHOSEN_MAX} chosen families are drawn.")
    undated = curves["undated"]
    if undated:
        parts.append(
            f"{undated:,} member{'s' if undated != 1 else ''} without a creation date "
            f"{'are' if undated != 1 else 'is'} left out of the curves."
        )
    if curves["not_found"]:
        parts.append("Not a family of this build: " + ", ".join(curves["not_found"]) + ".")
    empty = [family["root_id"] for family in curves["families"] if not family["members"]]
    if empty:
        parts.append("No member passes the filters: " + ", ".join(empty) + ".")
    return " ".join(shorten(part, 1_000) for part in parts)


@callback(
    Output("adoption-curves", "figure"),
    Output("adoption-mix", "figure"),
    Output("adoption-note", "children"),
    inputs=dict(
        filters=FILTER_INPUTS,
        families=Input("adoption-families", "value"),
        scale=Input("adoption-scale", "value"),
        tab=Input("families-tabs", "active_tab"),
    ),
)
def update_adoption(filters, families, scale, tab):
    """The Over time tab's figures (drawn only while the tab is shown)."""
    if tab != "time":
        return no_update, no_update, no_update
    build, filters = served_build(), Filters.from_inputs(filters)
    chosen = chosen_families(families)
    roots = chosen or tuple(largest_families.cached(build, filters))
    curves = adoption_curves.cached(build, filters, roots)
    normalized = FamiliesState(scale=scale).scale == "normalized"
    note = curves_note(curves, chosen, len(texts(families)))
    return curves_figure(curves, normalized), mix_figure(curves), note


def growth_text(growth: float | None) -> str:
    return "began in the window" if growth is None else f"+{growth:,.0%}"


@callback(
    *[Output(f"growing-{name}", "data") for name in RANKINGS],
    *[Output(f"growing-{name}-note", "children") for name in RANKINGS],
    Output("growing-note", "children"),
    inputs=dict(
        filters=FILTER_INPUTS,
        window=Input("growing-window", "value"),
        tab=Input("families-tabs", "active_tab"),
    ),
    state=dict(query=State("url", "search")),
)
def update_growing(filters, window, tab, query):
    """The Fastest growing tab's tables (computed only while the tab is shown)."""
    if tab != "growing":
        return [no_update] * (2 * len(RANKINGS) + 1)
    build, filters = served_build(), Filters.from_inputs(filters)
    days = FamiliesState(window=window).window
    answers = {
        "fastest": fastest_growing.cached(build, filters, days),
        "newest": newest_large_families.cached(build, filters, days),
        "deepest": deepest_families.cached(build, filters),
        "widest": widest_families.cached(build, filters),
    }
    carried = to_query(filters, from_query(text(query))[1])
    tables = [
        [
            {
                **row,
                "root_id": family_link(row["root_id"], carried),
                **({"growth": growth_text(row["growth"])} if "growth" in row else {}),
            }
            for row in answer["rows"]
        ]
        for answer in answers.values()
    ]
    notes = [f"{answer['listed']:,} families in all." for answer in answers.values()]
    window_answer = answers["fastest"]
    note = (
        f"The window: {window_answer['start']} to {window_answer['now']}, the build's newest "
        "creation date. Families of two or more models, counting only the models that pass the "
        "filters."
    )
    undated = window_answer["undated"]
    if undated:
        note += (
            f" {undated:,} model{'s' if undated != 1 else ''} without a creation date "
            f"{'are' if undated != 1 else 'is'} in no window."
        )
    return *tables, *notes, note


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=VIEW_INPUTS),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(state, view):
    return {**mapping(view), **FamiliesState.from_table(**state).to_query()}

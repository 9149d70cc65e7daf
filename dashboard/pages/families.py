"""The Families view: the family trees of the build, largest first, sortable by any column; a
family's root opens the family in the network view."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dash_table, html, no_update

from dashboard.components import FILTER_INPUTS, page_frame
from dashboard.filters import Filters
from dashboard.queries.families import COLUMNS, PAGE_ROWS, families_page
from dashboard.serving import served_build
from dashboard.shown import URL_VALUE_CHARS, json_count, markdown_text
from dashboard.url_state import from_query, mapping, model_href, to_query, unless_default
from dashboard.values import choice, text, whole_number

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


@dataclass(frozen=True)
class FamiliesState:
    """The view's own settings (the field defaults are the view's), from the URL or the table."""

    sort: str = "size"  # one of COLUMNS
    descending: bool = True
    min_size: int = 2  # smallest family listed
    page: int = 0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "sort", choice(self.sort, COLUMNS, FamiliesState.sort))
        set_(self, "descending", bool(self.descending))
        set_(self, "min_size", whole_number(self.min_size, FamiliesState.min_size, 1))
        set_(self, "page", whole_number(self.page, FamiliesState.page))

    @classmethod
    def from_query(cls, view: dict) -> FamiliesState:
        return cls(
            view.get("sort"), view.get("dir") != "asc", view.get("min_size"), view.get("page")
        )

    @classmethod
    def from_table(cls, sort_by, page, min_size) -> FamiliesState:
        """The state of the table's controls (sort_by: [{"column_id": …,
        "direction": "asc"|"desc"}])."""
        listed = isinstance(sort_by, list) and sort_by and isinstance(sort_by[0], dict)
        first = sort_by[0] if listed else {}
        return cls(first.get("column_id"), first.get("direction") != "asc", min_size, page)

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {
            "sort": unless_default(self.sort, FamiliesState.sort),
            "dir": unless_default("desc" if self.descending else "asc", "desc"),
            "page": unless_default(self.page, FamiliesState.page),
            "min_size": unless_default(self.min_size, FamiliesState.min_size),
        }


STATE_INPUTS = {
    "sort_by": Input("families-table", "sort_by"),
    "page": Input("families-table", "page_current"),
    "min_size": Input("families-min-size", "value"),
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
    content = [html.Div(id="families-count", className="small text-muted mb-1"), table]
    return page_frame(build, filters, view, controls, content)


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
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=STATE_INPUTS),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(state, view):
    return {**mapping(view), **FamiliesState.from_table(**state).to_query()}

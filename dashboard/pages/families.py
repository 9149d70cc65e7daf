"""The Families view: the family trees of the build, largest first, sortable by any column; a
family's root opens the family in the network view."""

from __future__ import annotations

from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dash_table, html

from dashboard.components import FILTER_INPUTS, filters_from_controls, page_frame
from dashboard.queries.families import COLUMNS, PAGE_ROWS, families_page
from dashboard.serving import served_build
from dashboard.shown import URL_VALUE_CHARS, json_count, markdown_text
from dashboard.url_state import choice, from_query, mapping, shared_query, text, whole_number

HEADERS = {"root_id": "family (root model)", "size": "models", "matching": "matching filters", "max_depth": "depth",
           "n_finetune": "finetunes", "n_adapter": "adapters", "n_quantized": "quantized", "n_merge": "merges",
           "n_unspecified": "unspecified", "total_downloads": "downloads"}


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    sort_by = choice(view.get("sort"), COLUMNS, "size")
    controls = [
        html.H6("Families", className="card-title"),
        dbc.Label("Smallest family listed (models)", html_for="families-min-size", className="mb-0 small"),
        dbc.Input(id="families-min-size", type="number", min=1, debounce=True, value=whole_number(view.get("min_size"), 2, 1)),
        html.P("A family is a root model and every model that descends from it. Click a column to sort; "
               "click a family to open it in the network view.", className="small text-muted mt-2"),
    ]
    table = dash_table.DataTable(
        id="families-table",
        columns=[{"name": HEADERS[c], "id": c, "presentation": "markdown"} if c == "root_id" else
                 {"name": HEADERS[c], "id": c, "type": "numeric", "format": {"specifier": ",d"}} for c in COLUMNS],
        sort_action="custom", sort_mode="single",
        sort_by=[{"column_id": sort_by, "direction": "asc" if view.get("dir") == "asc" else "desc"}],
        page_action="custom", page_current=whole_number(view.get("page"), 0), page_size=PAGE_ROWS,
        markdown_options={"link_target": "_self"},
        style_table={"overflowX": "auto"}, style_cell={"fontSize": 13, "padding": "4px 8px"}, style_header={"fontWeight": "bold"},
        style_cell_conditional=[{"if": {"column_id": "root_id"}, "textAlign": "left"}],
    )
    content = [html.Div(id="families-count", className="small text-muted mb-1"), table]
    return page_frame(build, filters, view, controls, content)


def family_link(root_id: str, query: str) -> str:
    """Markdown link opening a family's root in the network view, keeping the filters; the id is
    shown literally (every markdown character escaped) and the URL is percent-encoded; an id too long
    for a URL is shown without a link."""
    if len(root_id) > URL_VALUE_CHARS:  # too long for a URL: the id alone, as text
        return markdown_text(root_id)
    separator = "&" if query else "?"
    target = f"/network{query}{separator}model={quote(root_id, safe='')}&show=family"
    return f"[{markdown_text(root_id)}]({quote(target, safe='/?&=%+')})"


def sort_order(sort_by) -> tuple[str, bool]:
    """(column, descending) of the table's sort_by ([{"column_id": …, "direction": "asc"|"desc"}]):
    by size, largest first, unless it names one of COLUMNS."""
    first = sort_by[0] if isinstance(sort_by, list) and sort_by and isinstance(sort_by[0], dict) else {}
    return choice(first.get("column_id"), COLUMNS, "size"), first.get("direction") != "asc"


@callback(
    Output("families-table", "data"),
    Output("families-table", "page_count"),
    Output("families-table", "page_current"),
    Output("families-count", "children"),
    *FILTER_INPUTS,
    Input("families-table", "sort_by"),
    Input("families-table", "page_current"),
    Input("families-min-size", "value"),
    State("url", "search"),
)
def update_families(search, min_downloads, min_likes, libraries, pipelines, licenses, base_only, sort_by, page, min_size, query):
    build = served_build()
    filters = filters_from_controls(search, min_downloads, min_likes, libraries, pipelines, licenses, base_only)
    arguments = (build, filters, *sort_order(sort_by), whole_number(min_size, 2, 1))
    result = families_page.cached(*arguments, whole_number(page, 0))
    pages = max(1, -(-result["families"] // PAGE_ROWS))
    if whole_number(page, 0) >= pages:  # the filters left fewer pages: show the last one
        page = pages - 1
        result = families_page.cached(*arguments, page)
    carried = shared_query(text(query))
    rows = [{**row, "root_id": family_link(row["root_id"], carried), "total_downloads": json_count(row["total_downloads"])}
            for row in result["rows"]]
    what = "families" + (" with a model that passes the filters" if filters.active else "")
    return rows, pages, whole_number(page, 0), f"{result['families']:,} {what}"


@callback(
    Output("view-state", "data", allow_duplicate=True),
    Input("families-table", "sort_by"),
    Input("families-table", "page_current"),
    Input("families-min-size", "value"),
    State("view-state", "data"),
    prevent_initial_call=True,
)
def remember_view(sort_by, page, min_size, view):
    column, descending = sort_order(sort_by)
    min_size = whole_number(min_size, 2, 1)
    return {**mapping(view), "sort": column if column != "size" else None, "dir": None if descending else "asc",
            "page": whole_number(page, 0) or None, "min_size": min_size if min_size != 2 else None}

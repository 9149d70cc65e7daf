"""View state <-> URL query string, so any view with its filters can be bookmarked and shared.

The query holds the shared filters (``Filters`` fields), the opened ``model``, and each
view's own settings (strings, validated by the view that reads them). Values that do not
parse fall back to their defaults: a hand-edited URL never breaks a view.
"""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import parse_qs, urlencode

from dashboard.filters import CATEGORY_FILTERS, Filters
from dashboard.shown import JSON_EXACT
from dashboard.values import whole_number

SHARED_KEYS = ("model", "sel")  # carried from view to view with the filters


def to_query(filters: Filters, view: dict | None = None) -> str:
    """ "?search=…&libraries=a&libraries=b&dims=3…": only values that differ from the defaults."""
    view = mapping(view)
    default = Filters()
    pairs: list[tuple[str, object]] = []
    for field in fields(Filters):
        value = getattr(filters, field.name)
        if value == getattr(default, field.name):
            continue
        if field.name in CATEGORY_FILTERS:
            pairs += [(field.name, item) for item in value]
        else:
            pairs.append((field.name, int(value) if isinstance(value, bool) else value))
    pairs += [(name, value) for name, value in view.items() if value not in (None, "", False)]
    return "?" + urlencode(pairs) if pairs else ""


def from_query(query: str | dict) -> tuple[Filters, dict[str, str]]:
    """Filters and the other values (as strings) from a query string or Dash's page keyword
    arguments."""
    if not isinstance(query, (str, dict)):  # a hand-made request's value of another type: no state
        query = ""
    if isinstance(query, str):
        values = parse_qs(query.lstrip("?"))
    else:
        values = {
            key: value if isinstance(value, list) else [value] for key, value in query.items()
        }
    parsed: dict[str, object] = {}
    for field in fields(Filters):
        raw = values.pop(field.name, None)
        if not raw:
            continue
        if field.name in CATEGORY_FILTERS:
            parsed[field.name] = tuple(str(item) for item in raw)
        elif field.name == "base_only":
            parsed[field.name] = raw[-1] in ("1", "true", "True")
        elif field.name == "search":
            parsed[field.name] = str(raw[-1])
        else:
            parsed[field.name] = whole_number(raw[-1], 0)
    return Filters(**parsed), {name: str(raw[-1]) for name, raw in values.items() if raw}


def shared_query(query: str) -> str:
    """The part of a query another view keeps: the filters, the opened model and the selection."""
    filters, view = from_query(query or "")
    return to_query(filters, {key: view[key] for key in SHARED_KEYS if key in view})


def model_href(model_id: str, page: str, search: str = "", here: str = "", **settings) -> str:
    """The URL that opens model_id in the view at ``page``, from the current URL's query
    (``search``) in the view at ``here``: it keeps the filters and the shared state as the
    navigation bar does, and the current view's own settings too when the link stays in that view
    (page == here); ``settings`` are entries of the target view to set (e.g. show="family").
    Every in-page link to a model is made here."""
    filters, view = from_query(search or "")
    kept = view if page == here else {key: view[key] for key in SHARED_KEYS if key in view}
    return page + to_query(filters, {**kept, "model": model_id, **settings})


def mapping(value: object) -> dict:
    """A view's stored state: value's entries that are text, true/false or whole numbers a browser
    keeps exactly (what the views store); an empty dict when value is not a dict."""
    if not isinstance(value, dict):
        return {}
    return {
        key: item
        for key, item in value.items()
        if isinstance(key, str)
        and (
            item is None
            or isinstance(item, (str, bool))
            or (isinstance(item, int) and abs(item) < JSON_EXACT)
        )
    }


def unless_default(value, default):
    """value as a view's state keeps it in the URL: None (left out) when it is the default."""
    return None if value == default else value

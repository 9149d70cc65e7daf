"""Values from a build made fit to show: short, escaped where they become markup, exact where
a JSON number would round them.

Ids, libraries, pipelines, licenses, tags and card text come from the Hub and are untrusted:
one of them may be 20 MB long, hold ``<a href=…>`` or be written as a markdown link. Dash
components render strings as text, but plotly treats some tags in legend names, hover text,
annotations and tick labels as markup, and a DataTable markdown cell renders links: those
strings go through ``plotly_text`` and ``markdown_text``. Every string a view sends is cut to a
length (``shorten``), so no single value can make a page large.
"""

from __future__ import annotations

import html
import re

LABEL_CHARS = 60  # legend names, tick labels, dropdown labels, table cells
TEXT_CHARS = 300  # ids and values in the details card and lists
EXCERPT_CHARS = 1_000  # a card excerpt
FULL_VALUE_CHARS = 2_000  # the full value offered in a tooltip; longer values are not offered whole
# the longest value put in a URL (a link, a dropdown's value); a longer one is shown without a link
URL_VALUE_CHARS = 500
JSON_EXACT = 2**53  # integers from here on lose precision as JSON numbers in a browser
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def shorten(value, limit: int = TEXT_CHARS) -> str:
    """str(value), cut to ``limit`` characters with "…" and how long it was, when it is longer."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def tooltip(value) -> str | None:
    """The full value for a title attribute, when it is long but not unreasonably so."""
    text = "" if value is None else str(value)
    return text if len(text) <= FULL_VALUE_CHARS else None


def plotly_text(value, limit: int = LABEL_CHARS) -> str:
    """A string for plotly's legend, hover, annotation or tick text: shortened, with < > & escaped
    so plotly shows them instead of reading tags (plotly turns the entities back into
    characters)."""
    return html.escape(shorten(value, limit), quote=False)


def markdown_text(value, limit: int = LABEL_CHARS) -> str:
    """A string shown literally inside markdown (a DataTable markdown cell): every markdown
    character backslash-escaped, so ``x](https://evil) [y`` stays text."""
    return MARKDOWN_SPECIAL.sub(
        r"\\\1", shorten(value, limit).replace("\n", " ").replace("\r", " ")
    )


def json_count(value) -> int | float | str | None:
    """A count for a JSON answer: the number itself, or its text when a JSON number would round
    it."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if abs(value) >= JSON_EXACT:
        return f"{int(value):,}"
    return int(value) if isinstance(value, float) and value.is_integer() else value


def count_text(value) -> str:
    """A count as text with thousands separators; exact for integers of any size, "unknown" for
    None."""
    if value is None or (isinstance(value, float) and value != value):
        return "unknown"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}"

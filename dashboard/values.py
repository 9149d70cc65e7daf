"""Values from a browser (callback inputs, the URL's query) as the plain types the views use,
the placeholders the views show where a value is missing or grouped, and a value's name in a
legend.

A hand-made request may send any JSON value where a view expects text or a number: each helper
returns its default for a value it cannot read, so no callback fails on one.
"""

from __future__ import annotations

MAX_COUNT = (
    2**63 - 1
)  # the highest whole number a view takes (a larger minimum count means the same)
NO_VALUE = "(none)"  # the category of the models whose source named none (no library, no license)
# the group of every value beyond the most frequent ones a view names (in parentheses: "other" is
# also a license the Hub offers, and the legend names it)
OTHER = "(other values)"
LEGEND_CHARS = 24  # a legend shows this many characters of a value (the full value on hover)
FULL_CHARS = 2_000  # a hover shows this many (a value from the Hub may be megabytes long)


def legend_name(value: object) -> tuple[str, str]:
    """(short, full): a value as a legend names it, cut to LEGEND_CHARS with "…" when longer, and
    the value to show in full on hover (cut at FULL_CHARS). Plain text: a view escapes it where
    it becomes markup."""
    full = "" if value is None else str(value)
    short = full if len(full) <= LEGEND_CHARS else full[: LEGEND_CHARS - 1].rstrip() + "…"
    return short, full if len(full) <= FULL_CHARS else full[: FULL_CHARS - 1] + "…"


def whole_number(text: object, default: int, low: int = 0, high: int | None = None) -> int:
    """text as a whole number within [low, high] (high: MAX_COUNT when not given): "1e30" and
    "inf" are the highest, "-inf" the lowest; default when it is not a number (nan, words,
    lists)."""
    high = MAX_COUNT if high is None else high
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        return default
    try:
        value = int(text)  # exact for whole numbers of any size ("9007199254740993")
    except (ValueError, OverflowError):
        try:
            number = float(text)
        except ValueError:
            return default
        if number != number:
            return default
        value = high if number == float("inf") else low if number == float("-inf") else int(number)
    return min(high, max(low, value))


def choice(text: object, allowed, default: str) -> str:
    """text when it is one of allowed, else default."""
    return text if isinstance(text, str) and text in allowed else default


def text(value: object, default: str = "") -> str:
    """value when it is text, else default (a hand-made request may send a number or a list)."""
    return value if isinstance(value, str) else default


def texts(value: object) -> tuple[str, ...]:
    """The text items of a multi-choice value (a list; a single text counts as one item)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(item for item in value if isinstance(item, str))
    return ()

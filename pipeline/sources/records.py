"""Hub API model records (parsed JSON) -> rows of the published schema with typed cells.

JSON gives any value any type: an id may be a number, a count a string, 2**63 or
1e300, tags a string. Each cell is checked here, once, while the record is a
Python dict: text stays text (surrogate pairs joined into their character, lone
surrogates replaced and counted), counts are whole numbers in int64's range or
null (counted by reason), tags are a list of strings. A record whose id is not
text is rejected. The cells then fit one Arrow schema, so no batch ever fails on
a type clash, and normalize_batch does the rest as for any other source.
"""

from __future__ import annotations

import json
import math

import pyarrow as pa

from pipeline.report import IssueLog
from pipeline.sources.normalize import (
    MAX_INT64,
    count_reason,
    parse_count,
    parse_list,
    repair_surrogates,
)

# published column -> the record fields it is read from, first non-null wins
PUBLISHED_FIELDS = {
    "model_id": ("id", "modelId"),
    "author": ("author",),
    "likes": ("likes",),
    "downloads": ("downloads",),
    "trendingScore": ("trendingScore", "trending_score"),
    "private": ("private",),
    "tags": ("tags",),
    "pipeline_tag": ("pipeline_tag", "pipelineTag"),
    "library_name": ("library_name", "libraryName"),
    "createdAt": ("createdAt", "created_at"),
    "modelCard": ("card", "modelCard"),
}
READ_FIELDS = frozenset(name for names in PUBLISHED_FIELDS.values() for name in names)
TEXT_CELLS = ("model_id", "author", "pipeline_tag", "library_name", "createdAt", "modelCard")
COUNT_CELLS = {"likes": True, "downloads": True, "trendingScore": False}  # column -> whole number?

ROW_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("author", pa.string()),
        ("likes", pa.int64()),
        ("downloads", pa.int64()),
        ("trendingScore", pa.float64()),
        ("private", pa.bool_()),
        ("tags", pa.list_(pa.string())),
        ("pipeline_tag", pa.string()),
        ("library_name", pa.string()),
        ("createdAt", pa.string()),
        ("modelCard", pa.string()),
    ]
)


def parse_json(text: str):
    """json.loads, with integers too long for Python's int parser read as infinity (so a
    5,000-digit count is "out of range", not a crash). Raises ValueError (json.JSONDecodeError
    included) or RecursionError (nesting too deep) for text that is not usable JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return json.loads(
            text, parse_int=lambda digits: int(digits) if len(digits) <= 4000 else math.inf
        )


def record_to_row(record: dict, log: IssueLog, where: str, surrogates: bool = True) -> dict | None:
    """A Hub API record as a row of ROW_SCHEMA, every cell checked; None when its id is not text.

    `where` names the record in examples ("line 12"). `surrogates=False` says the record's
    JSON text held no surrogate escape (so no string can hold a surrogate; this skips the check).
    The common case (text is text, counts are ints in range, tags a list of strings) takes
    no function call per cell: this runs once per record of a 760k-record listing."""
    get = record.get
    raw = {}
    for column, keys in PUBLISHED_FIELDS.items():
        value = get(keys[0])
        if value is None and len(keys) > 1:
            value = get(keys[1])
        raw[column] = value
    model_id = raw["model_id"]
    if model_id is not None and type(model_id) is not str:
        log.rejected("model_id is not text", [f"{where}: {json.dumps(model_id, default=str)[:60]}"])
        return None
    row = {}
    for column in TEXT_CELLS:
        value = raw[column]
        row[column] = (
            value
            if value is None or (type(value) is str and not surrogates)
            else _text_cell(value, column, log, where, model_id)
        )
    for column, whole in COUNT_CELLS.items():
        value = raw[column]
        if type(value) is int and 0 <= value <= MAX_INT64:
            row[column] = value if whole else float(value)
        else:
            row[column] = (
                None if value is None else _count_cell(value, column, whole, log, model_id or where)
            )
    private = raw["private"]
    row["private"] = private if type(private) is bool else str(private).strip().lower() == "true"
    tags = raw["tags"]
    plain = (
        [tag.strip() for tag in tags if type(tag) is str]
        if type(tags) is list and not surrogates
        else None
    )
    if plain is not None and len(plain) == len(tags) and "" not in plain:  # non-empty strings
        row["tags"] = plain
    else:
        row["tags"], malformed = _tags(tags, surrogates)
        if malformed:
            log.repaired("malformed list in tags", [f"{model_id or where}: {str(tags)[:80]}"])
    return row


def _tags(value, surrogates: bool) -> tuple[list[str], bool]:
    """(tags, malformed): a JSON list of strings, stripped, empty ones left out."""
    if isinstance(value, list) and not surrogates:
        tags = [tag.strip() for tag in value if isinstance(tag, str)]
        malformed = len(tags) != len(value) - value.count(None)
        return [tag for tag in tags if tag], malformed
    if isinstance(value, str):  # a JSON list is never a string
        return [], True
    return parse_list(value)


def _text_cell(value, column: str, log: IssueLog, where: str, model_id) -> str | None:
    """A cell record_to_row could not take as it is (not text, or text that may hold surrogates):
    null (counted) or the text with its surrogates repaired."""
    if not isinstance(value, str):
        log.repaired(f"{column} is not text (set to null)", [model_id or where])
        return None
    value, lone = repair_surrogates(value)
    if lone:
        log.repaired(
            "lone surrogate replaced", [value[:80] if column == "model_id" else (model_id or where)]
        )
    return value


def _count_cell(value, column: str, whole: bool, log: IssueLog, example) -> int | float | None:
    number, problem = parse_count(value, whole)
    if problem:
        log.repaired(count_reason(column, problem), [example])
    elif isinstance(value, str) and number is not None:
        log.repaired(f"{column} written as text (read as a number)", [example])
    return number


def rows_table(rows: list[dict]) -> pa.Table:
    """Checked rows -> an Arrow table in ROW_SCHEMA."""
    return pa.table(
        {name: [row[name] for row in rows] for name in ROW_SCHEMA.names}, schema=ROW_SCHEMA
    )

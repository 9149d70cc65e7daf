"""Turn one batch of rows in the published data set's schema into MODEL_SCHEMA.

All sources end here: Parquet/CSV files and `datasets` data sets arrive in the
published schema (dataset-schema.md §1), under its names or other common
spellings (SOURCE_NAMES: the Hub API's, the 2022 listing's); Hub API records are
mapped to it first. Columns may be missing, mistyped or malformed: every value
that had to be fixed is counted in the IssueLog, rows without a usable id are
rejected, nothing crashes and nothing becomes a wrong value. A count is a whole
number in int64's range or null (parse_count's rules); text of another type is
null; bytes are decoded with invalid UTF-8 replaced; a source that says nothing
of a field leaves it null.

Whole columns are cleaned with Arrow compute kernels (a 100k-row batch takes
about a second). Python runs per row only where the input needs it: list cells
given as strings ("['a', 'b']", from CSV), counts written as text that are not
plain numbers, values of unexpected types, binary cards with invalid UTF-8, and
rows with `base_model:` tags when the parent columns are missing. Trimming
follows Python's `str.strip()`: Arrow's utf8_trim_whitespace strips the same
Unicode whitespace.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.build_format import list_array
from pipeline.cards import card_excerpts, has_text, looks_auto_generated
from pipeline.report import MAX_EXAMPLES, IssueLog
from pipeline.schema import LIST_COLUMNS, MODEL_SCHEMA, PARENT_COLUMNS
from pipeline.sources.language_codes import ISO_639_1

# A Hub URL in front of an id ("https://huggingface.co/org/name"); valid in RE2 and Python's re.
HUB_URL_PREFIX = r"\A(?:https?://)?huggingface\.co/"
LANGUAGE_CODES = pa.array(sorted(ISO_639_1), pa.string())  # the tags that are languages
URL_ID_TRIM = "/ "  # characters stripped from an id once its URL prefix is removed
TYPED_RELATIONS = ("finetune", "adapter", "quantized", "merge")
HUGE_CARD_CHARS = 1_000_000  # beyond this only the head of a card is analysed
# The Hub's timestamps ("2024-09-19T14:24:51.000Z"), which Arrow parses as pandas would.
HUB_TIMESTAMP = r"\A(?:19|20)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z\z"

# list column -> tag prefix it is derived from when the source lacks the column
TAG_PREFIXES = {
    "licenses": "license:",
    "datasets": "dataset:",
    "arxiv_papers": "arxiv:",
    "regions": "region:",
}

_STRING_LIST = pa.list_(pa.string())


# --- per value: for family exports, JSON records and string-typed list cells -----------------

MAX_INT64 = 2**63 - 1
_DIGITS = re.compile(r"\+?[0-9]+")
_NO_VALUE_WORDS = ("", "nan", "none", "null")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_surrogates(text: str) -> tuple[str, bool]:
    """text with surrogate pairs joined into their character and lone surrogates replaced by U+FFFD.

    Python's JSON and literal parsers keep "\\ud83d\\udc4d" as two surrogates when they come
    apart; joined, they are the real character (👍). Returns (text, had a lone surrogate)."""
    if not _LONE_SURROGATE.search(text):
        return text, False
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined, joined.count("\ufffd") > text.count("\ufffd")


def parse_count(value, integer: bool = True) -> tuple[int | float | None, str | None]:
    """One count from any value: (number, None); (None, None) when the value says nothing
    (null, NaN, empty text); (None, problem) when it cannot be a count: "not a number",
    "negative", "out of range" (at or beyond 2**63), "not a whole number" (integer counts).
    Text is read as a number; a boolean is not a number."""
    if value is None:
        return None, None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _NO_VALUE_WORDS:
            return None, None
        if _DIGITS.fullmatch(text):
            if len(text.lstrip("+0")) > 19:
                return None, "out of range"
            value = int(text)
        else:
            try:
                value = float(text)
            except ValueError:  # float()'s refusal of text that is no number
                return None, "not a number"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None, "not a number"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None, None
        if math.isinf(value):
            return None, "out of range"
    else:
        value = int(value)
    if value < 0:
        return None, "negative"
    if value > MAX_INT64:
        return None, "out of range"
    if not integer:
        return float(value), None
    if isinstance(value, float):
        if not value.is_integer():
            return None, "not a whole number"
        if value >= 2.0**63:
            return None, "out of range"
        return int(value), None
    return value, None


def count_reason(name: str, problem: str) -> str:
    """The IssueLog reason for a count set to null."""
    return f"{name} {problem} (set to null)"


def clean_model_id(value) -> tuple[str | None, bool]:
    """A Hub id from a raw cell: stripped, Hub URL prefix removed. Returns (id or None, was_url).

    The same rules as `clean_model_ids`, for one value.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    text = str(value).strip()
    url = re.match(HUB_URL_PREFIX, text)
    if url:
        text = text[url.end() :].strip(URL_ID_TRIM)
    return text or None, url is not None


def parse_list(value) -> tuple[list[str], bool]:
    """A list cell as a list of strings. Accepts real lists, arrays and the Python string
    form "['a', 'b']" (parsed with ast.literal_eval, never eval). Items that are not text
    are left out. Returns (list, was_malformed): malformed when the cell is not a list or
    held an item that is not text."""
    if value is None:
        return [], False
    if isinstance(value, float):
        return [], not math.isnan(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return _text_items(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return [], True
    text = value.strip()
    if text in ("", "[]", "nan", "None", "null"):
        return [], False
    if not text.startswith("["):
        return [], True
    try:
        parsed = ast.literal_eval(text)
    # what literal_eval raises for text that is no literal (ValueError, SyntaxError, TypeError)
    # or one nested or sized past what the parser can hold (RecursionError, MemoryError)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return [], True
    if not isinstance(parsed, (list, tuple)):
        return [], True
    return _text_items(parsed)


def _text_items(values) -> tuple[list[str], bool]:
    """The text items of a list, stripped, empty ones left out (surrogate pairs joined, lone
    ones replaced); (items, whether an item was not text or held a lone surrogate)."""
    items, bad = [], False
    for value in values:
        if value is None:
            continue
        if not isinstance(value, str):
            bad = True
            continue
        value, lone = repair_surrogates(value.strip())
        bad |= lone
        if value:
            items.append(value)
    return items, bad


def parents_from_tags(tags: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Parent lists by column from `base_model:` tags, plus tags with an unknown relation.

    `base_model:X` -> parent_model; `base_model:<relation>:X` -> that relation's column.
    An unknown relation keeps X as a plain (unspecified) parent.
    """
    parents: dict[str, list[str]] = {column: [] for column in PARENT_COLUMNS}
    unknown = []
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:") :]
        relation, sep, parent = rest.partition(":")
        if not sep:
            _append_unique(parents["parent_model"], relation)
            continue
        if relation in TYPED_RELATIONS:
            _append_unique(parents[f"{relation}_parent"], parent)
        else:
            unknown.append(tag)
        _append_unique(parents["parent_model"], parent)
    return parents, unknown


def _append_unique(values: list[str], value: str) -> None:
    value = value.strip()
    if value and value not in values:
        values.append(value)


# --- whole columns -----------------------------------------------------------------------------


def clean_model_ids(raw: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Hub ids from raw strings: stripped, Hub URL prefix removed, empty -> null.

    Returns (ids, was_url); was_url is true even where nothing is left of the id.
    """
    text = pc.utf8_trim_whitespace(raw)
    was_url = pc.fill_null(pc.match_substring_regex(text, HUB_URL_PREFIX), False)
    unprefixed = pc.utf8_trim(
        pc.replace_substring_regex(text, HUB_URL_PREFIX, "", max_replacements=1), URL_ID_TRIM
    )
    return _empty_to_null(pc.if_else(was_url, unprefixed, text)), was_url


def _empty_to_null(strings):
    """Empty strings become null."""
    return pc.if_else(pc.equal(strings, ""), pa.scalar(None, strings.type), strings)


# model field -> the source columns it is read from, first present wins (the published schema's
# names, the Hub API's, and those of other listings such as the 2022 one's modelId / creation_time /
# task_category / has_modelcard)
SOURCE_NAMES = {
    "model_id": ("model_id", "modelId", "id"),
    "author": ("author",),
    "likes": ("likes",),
    "downloads": ("downloads",),
    "trending_score": ("trendingScore", "trending_score"),
    "private": ("private",),
    "pipeline_tag": ("pipeline_tag", "pipelineTag", "task_category"),
    "library_name": ("library_name", "libraryName"),
    "created_at": ("createdAt", "created_at", "creation_time"),
    "card": ("modelCard", "card"),
    "has_card": ("has_card", "has_modelcard"),
}
# source column -> the value that means "none" there (the 2022 listing's task_category)
NO_VALUE = {"task_category": "unknown"}
# C0 and C1 control characters: never part of a Hub id
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x{9f}]"
_PLAIN_NUMBER = {
    True: r"\A\s*\+?[0-9]{1,18}\s*\z",
    False: r"\A\s*\+?(?:[0-9]{1,15}(?:\.[0-9]*)?|\.[0-9]+)\s*\z",
}


def read_columns(column_names) -> tuple[list[str], list[str]]:
    """(the columns normalize_batch reads, the ones it does not) of a batch's column names."""
    read = set(LIST_COLUMNS)
    for names in SOURCE_NAMES.values():
        chosen = next((name for name in names if name in column_names), None)
        if chosen:
            read.add(chosen)
    return [c for c in column_names if c in read], [c for c in column_names if c not in read]


def _source_column(batch: pa.Table, field: str) -> tuple[str | None, pa.ChunkedArray | None]:
    """(name, column) of the first source column a model field is read from, dictionaries
    decoded."""
    name = next((name for name in SOURCE_NAMES[field] if name in batch.column_names), None)
    if name is None:
        return None, None
    column = batch.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return name, column


def _is_string(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _is_binary(arrow_type: pa.DataType) -> bool:
    return pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type)


def utf8_strings(column, name: str, log: IssueLog, examples) -> pa.ChunkedArray | None:
    """A column as Arrow strings, or None when it is not text. Strings are kept; bytes are
    decoded as UTF-8, invalid sequences replaced (and counted, by `examples(rows)`)."""
    column = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    if _is_string(column.type) or pa.types.is_null(column.type):
        return column.cast(pa.string())
    if not _is_binary(column.type):
        return None
    try:
        return column.cast(pa.string())
    except pa.ArrowInvalid:  # bytes that are not valid UTF-8: decoded one by one, counted
        raw = column.to_pylist()
        decoded = [None if v is None else v.decode("utf-8", errors="replace") for v in raw]
        bad = [
            row
            for row, (v, d) in enumerate(zip(raw, decoded))
            if v is not None and "\ufffd".encode() not in v and "\ufffd" in d
        ]
        log.repaired(
            f"invalid UTF-8 in {name} replaced", examples(np.array(bad, np.int64)), count=len(bad)
        )
        return pa.chunked_array([pa.array(decoded, pa.string())])


def _present(column) -> np.ndarray:
    """Whether each row of a column holds a value (is not null)."""
    return pc.is_valid(column).to_numpy(zero_copy_only=False)


def _set_to_null(
    column, name: str, kind: str, arrow_type: pa.DataType, log: IssueLog, examples
) -> pa.ChunkedArray:
    """All nulls in place of a column whose values are not of the kind named ("text", "a flag"):
    each value it held is counted as set to null."""
    bad = np.flatnonzero(_present(column))
    log.repaired(f"{name} is not {kind} (set to null)", examples(bad), count=len(bad), rows=bad)
    return pa.chunked_array([pa.nulls(len(column), arrow_type)])


def _text(batch: pa.Table, field: str, log: IssueLog, examples) -> pa.ChunkedArray | None:
    """A text field as Arrow strings (None when the source lacks it). Values of a type that
    is not text (numbers, lists, booleans) become null and are counted."""
    name, column = _source_column(batch, field)
    if column is None:
        return None
    text = utf8_strings(column, name, log, examples)
    if text is None:
        return _set_to_null(column, name, "text", pa.string(), log, examples)
    if name in NO_VALUE:
        text = pc.if_else(pc.equal(text, NO_VALUE[name]), pa.scalar(None, pa.string()), text)
    return text


def _strings(batch: pa.Table, field: str, log: IssueLog, examples) -> pa.ChunkedArray:
    """A text field stripped, empty -> null (all null when absent)."""
    text = _text(batch, field, log, examples)
    if text is None:
        return pa.chunked_array([pa.nulls(batch.num_rows, pa.string())])
    return _empty_to_null(pc.utf8_trim_whitespace(text))


def _booleans(batch: pa.Table, field: str, log: IssueLog, examples) -> pa.ChunkedArray | None:
    """A flag: booleans as they are, text "true" / "1" in any case; None when absent."""
    name, column = _source_column(batch, field)
    if column is None:
        return None
    if pa.types.is_boolean(column.type):
        return column
    if pa.types.is_integer(column.type):
        return pc.not_equal(column, 0)
    text = utf8_strings(column, name, log, examples)
    if text is None:
        return _set_to_null(column, name, "a flag", pa.bool_(), log, examples)
    words = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    return pc.if_else(
        pc.is_in(words, value_set=pa.array(_NO_VALUE_WORDS)),
        pa.scalar(None, pa.bool_()),
        pc.is_in(words, value_set=pa.array(["true", "1"])),
    )


def _examples(ids: pa.ChunkedArray, rows: np.ndarray) -> list:
    """The ids of the first few of the given row numbers (for the IssueLog)."""
    return ids.take(pa.array(np.asarray(rows)[:MAX_EXAMPLES], pa.int64())).to_pylist()


def _numbers(
    batch: pa.Table, field: str, log: IssueLog, ids: pa.ChunkedArray, integer: bool
) -> pa.Array:
    """A count (int64) or score (float64). A value that cannot be one (not a number, negative,
    at or beyond 2**63, a fraction where a whole number belongs) becomes null and is counted,
    by reason. Typed columns are checked with numpy; text is cast by Arrow where it is a plain
    number, and only the other values go through parse_count in Python."""
    n = batch.num_rows
    dtype, target = (np.int64, pa.int64()) if integer else (np.float64, pa.float64())
    name, column = _source_column(batch, field)
    if column is None:
        return pa.nulls(n, target)
    values, valid = np.zeros(n, dtype), np.zeros(n, bool)
    problems: dict[str, list[np.ndarray]] = {}

    def flag(problem: str, rows: np.ndarray) -> None:
        if len(rows):
            problems.setdefault(problem, []).append(rows)

    if pa.types.is_integer(column.type):
        present = pc.is_valid(column).to_numpy(zero_copy_only=False)
        filled = pc.fill_null(column, 0).to_numpy()
        negative = (
            present & (filled < 0) if pa.types.is_signed_integer(column.type) else np.zeros(n, bool)
        )
        too_big = (
            present & (filled > MAX_INT64) if column.type == pa.uint64() else np.zeros(n, bool)
        )
        flag("negative", np.flatnonzero(negative))
        flag("out of range", np.flatnonzero(too_big))
        valid = present & ~negative & ~too_big
        values[valid] = filled[valid].astype(dtype)
    elif pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        floats = column.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        present = ~np.isnan(floats)
        with np.errstate(invalid="ignore"):
            negative = present & (floats < 0)
            too_big = present & ~negative & (np.isinf(floats) | (integer & (floats >= 2.0**63)))
            fraction = present & ~negative & ~too_big & (integer & (floats != np.floor(floats)))
        flag("negative", np.flatnonzero(negative))
        flag("out of range", np.flatnonzero(too_big))
        flag("not a whole number", np.flatnonzero(fraction))
        valid = present & ~negative & ~too_big & ~fraction
        values[valid] = floats[valid].astype(dtype)
    else:
        text = utf8_strings(column, name, log, lambda rows: _examples(ids, rows))
        if text is not None:
            plain = pc.fill_null(
                pc.match_substring_regex(text, _PLAIN_NUMBER[integer]), False
            ).to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(plain)
            values[rows] = pc.cast(
                pc.utf8_trim_whitespace(text.take(pa.array(rows, pa.int64()))), target
            ).to_numpy(zero_copy_only=False)
            valid[rows] = True
            others = np.flatnonzero(~plain & pc.is_valid(text).to_numpy(zero_copy_only=False))
            other_values = text.take(pa.array(others, pa.int64())).to_pylist()
        else:
            others = np.flatnonzero(pc.is_valid(column).to_numpy(zero_copy_only=False))
            other_values = column.take(pa.array(others, pa.int64())).to_pylist()
        by_problem: dict[str, list[int]] = {}
        for row, value in zip(others.tolist(), other_values):
            number, problem = parse_count(value, integer)
            if problem:
                by_problem.setdefault(problem, []).append(row)
            elif number is not None:
                values[row], valid[row] = number, True
        for problem, rows in by_problem.items():
            flag(problem, np.array(rows, np.int64))

    for problem, parts in problems.items():
        rows = np.sort(np.concatenate(parts))
        log.repaired(count_reason(name, problem), _examples(ids, rows), count=len(rows), rows=rows)
    return pa.array(values, target, mask=~valid)


def _timestamps(batch: pa.Table, log: IssueLog, ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """createdAt as UTC timestamps. Arrow timestamps (naive ones taken as UTC) and text all in
    the Hub's own form are cast by Arrow; other text is parsed by pandas (unparseable values
    and values of other types become null and are counted)."""
    target = pa.timestamp("us", tz="UTC")
    name, column = _source_column(batch, "created_at")
    if column is None:
        return pa.chunked_array([pa.nulls(batch.num_rows, target)])
    if pa.types.is_timestamp(column.type):
        try:
            return column.cast(target)
        except pa.ArrowInvalid:  # beyond what microseconds since 1970 can hold
            column = pa.chunked_array(
                [pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())]
            )
    if pa.types.is_date(column.type):
        column = column.cast(pa.timestamp("s")).cast(target)
        return column
    examples = lambda rows: _examples(ids, rows)  # noqa: E731
    text = utf8_strings(column, name, log, examples)
    if text is None:
        return _set_to_null(column, name, "a time", target, log, examples)
    if pc.all(pc.match_substring_regex(text, HUB_TIMESTAMP)).as_py():
        try:
            return text.cast(target)
        except pa.ArrowInvalid:  # an impossible date such as Feb 30: pandas counts it below
            pass
    raw = pd.Series(text.to_pylist(), dtype=object)
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    parsed = pd.to_datetime(raw.where(present, None), utc=True, errors="coerce", format="mixed")
    bad = (present & parsed.isna()).to_numpy()
    if bad.any():
        bad = np.flatnonzero(bad)
        log.repaired(
            f"unparseable {name} (set to null)", _examples(ids, bad), count=len(bad), rows=bad
        )
    return pa.chunked_array([pa.array(parsed.dt.as_unit("us"), type=target)])


def _model_ids(batch: pa.Table, log: IssueLog) -> tuple[pa.ChunkedArray, np.ndarray]:
    """The batch's ids (null where there is none) and the rows rejected for a bad one: an id
    that is not text, or that holds a control character (no Hub id does)."""
    n = batch.num_rows
    row_examples = lambda rows: [f"row {i} of the batch" for i in np.asarray(rows)[:MAX_EXAMPLES]]  # noqa: E731
    name, column = _source_column(batch, "model_id")
    if column is None:
        return pa.chunked_array([pa.nulls(n, pa.string())]), np.zeros(0, np.int64)
    raw = utf8_strings(column, name, log, row_examples)
    if raw is None:
        bad = np.flatnonzero(_present(column))
        log.rejected(
            "model_id is not text",
            [
                f"row {i}: {v!r}"[:80]
                for i, v in zip(
                    bad[:MAX_EXAMPLES],
                    column.take(pa.array(bad[:MAX_EXAMPLES], pa.int64())).to_pylist(),
                )
            ],
            count=len(bad),
            rows=bad,
        )
        return pa.chunked_array([pa.nulls(n, pa.string())]), bad
    ids, was_url = clean_model_ids(raw)
    url_rows = np.flatnonzero(was_url.to_numpy(zero_copy_only=False))
    log.repaired(
        "model_id given as a Hub URL", _examples(ids, url_rows), count=len(url_rows), rows=url_rows
    )
    has_control = pc.fill_null(pc.match_substring_regex(ids, CONTROL_CHARACTERS), False)
    control = np.flatnonzero(has_control.to_numpy(zero_copy_only=False))
    if len(control):
        log.rejected(
            "model_id holds a control character",
            [repr(v) for v in _examples(ids, control)],
            count=len(control),
            rows=control,
        )
        ids = pa.chunked_array([pc.if_else(has_control, pa.scalar(None, pa.string()), ids)])
    return ids, control


def normalize_batch(batch: pa.Table, log: IssueLog) -> pa.Table:
    """One batch in the published schema -> Arrow table in MODEL_SCHEMA (rows without a usable id
    dropped)."""
    return normalize_rows(batch, log)[0]


def normalize_rows(
    batch: pa.Table, log: IssueLog, row_numbers: np.ndarray | None = None
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """normalize_batch, also saying which rows of the batch are in the table (kept) and which
    rows an issue was logged for (flagged): the rows taken exactly as they were are kept & ~flagged.
    row_numbers: each row's number in its batch, for examples (default: its position)."""
    n = batch.num_rows
    log = RowIssues(log, n)
    ids, bad_id_rows = _model_ids(batch, log)
    examples = lambda rows: _examples(ids, rows)  # noqa: E731

    columns: dict[str, object] = {"model_id": ids}
    columns["author"] = pc.coalesce(_strings(batch, "author", log, examples), _owner(ids))
    columns["likes"] = _numbers(batch, "likes", log, ids, integer=True)
    columns["downloads"] = _numbers(batch, "downloads", log, ids, integer=True)
    columns["trending_score"] = _numbers(batch, "trending_score", log, ids, integer=False)
    private = _booleans(batch, "private", log, examples)
    columns["private"] = (
        pa.chunked_array([np.zeros(n, bool)]) if private is None else pc.fill_null(private, False)
    )
    columns["pipeline_tag"] = _strings(batch, "pipeline_tag", log, examples)
    columns["library_name"] = _strings(batch, "library_name", log, examples)
    columns["created_at"] = _timestamps(batch, log, ids)
    columns.update(_list_columns(batch, ids, log))
    columns.update(_card_columns(batch, ids, log))

    table = pa.table({name: columns[name] for name in MODEL_SCHEMA.names}, schema=MODEL_SCHEMA)
    has_id = pc.is_valid(ids)
    missing = np.setdiff1d(np.flatnonzero(~has_id.to_numpy(zero_copy_only=False)), bad_id_rows)
    if len(missing):
        numbers = missing if row_numbers is None else np.asarray(row_numbers)[missing]
        log.rejected(
            "row without model_id",
            [f"row {i} of batch" for i in numbers[:MAX_EXAMPLES]],
            count=len(missing),
            rows=missing,
        )
    if len(missing) or len(bad_id_rows):
        table = table.filter(has_id)
    return table, has_id.to_numpy(zero_copy_only=False), log.flagged


class RowIssues:
    """The IssueLog as normalize_rows uses it: each issue also names the rows of the batch it
    concerns (`rows`), which are flagged; an issue that names none flags every row."""

    def __init__(self, log: IssueLog, n_rows: int) -> None:
        self.log = log
        self.flagged = np.zeros(n_rows, dtype=bool)

    def _flag(self, examples, count: int | None, rows) -> list:
        examples = list(examples)
        if rows is not None:
            self.flagged[np.asarray(rows, dtype=np.int64)] = True
        elif (len(examples) if count is None else count) > 0:
            self.flagged[:] = True
        return examples

    def rejected(self, reason: str, examples=(), count: int | None = None, rows=None) -> None:
        self.log.rejected(reason, self._flag(examples, count, rows), count)

    def repaired(self, reason: str, examples=(), count: int | None = None, rows=None) -> None:
        self.log.repaired(reason, self._flag(examples, count, rows), count)

    def dropped_links(self, reason: str, examples=(), count: int | None = None, rows=None) -> None:
        self.log.dropped_links(reason, self._flag(examples, count, rows), count)


def _owner(ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """The part of each id before its first "/" (null for ids without one)."""
    owner = pc.list_element(pc.split_pattern(ids, "/", max_splits=1), 0)
    return pc.if_else(pc.match_substring(ids, "/"), owner, pa.scalar(None, pa.string()))


# --- list columns ------------------------------------------------------------------------------


def _list_columns(batch: pa.Table, ids: pa.ChunkedArray, log: IssueLog) -> dict[str, pa.ListArray]:
    """Every list column of MODEL_SCHEMA: cleaned where the batch has it, else derived from tags."""
    lists: dict[str, pa.ListArray] = {}
    for name in ("tags", *[c for c in LIST_COLUMNS if c != "tags"]):
        if name in batch.column_names:
            lists[name] = _list_column(batch.column(name), name, ids, log)
    no_tags = list_array(np.zeros(0, np.int64), pa.array([], pa.string()), batch.num_rows)
    tags = lists.setdefault("tags", no_tags)

    missing_parent_columns = [c for c in PARENT_COLUMNS if c not in lists]
    if missing_parent_columns:
        from_tags = _parents_from_tag_lists(tags, ids, log)
        for column in missing_parent_columns:
            lists[column] = from_tags[column]
    for column in PARENT_COLUMNS:
        lists[column] = _parents_without_control_characters(lists[column], ids, log)

    for column, prefix in TAG_PREFIXES.items():
        if column not in lists:
            lists[column] = _prefixed_values(tags, prefix)
    if "languages" not in lists:
        lists["languages"] = _language_tags(tags)
    return lists


def _parents_without_control_characters(
    lists: pa.ListArray, ids: pa.ChunkedArray, log: IssueLog
) -> pa.ListArray:
    """Parent lists without the parent ids that hold a control character (no Hub id does):
    those links are dropped and counted."""
    values, owners = _flatten(lists)
    bad = pc.fill_null(pc.match_substring_regex(values, CONTROL_CHARACTERS), False).to_numpy(
        zero_copy_only=False
    )
    if not bad.any():
        return lists
    examples = [
        f"{parent!r} -> {child}"
        for parent, child in zip(
            values.filter(bad).to_pylist()[:MAX_EXAMPLES], _examples(ids, owners[bad])
        )
    ]
    log.dropped_links(
        "parent id holds a control character", examples, count=int(bad.sum()), rows=owners[bad]
    )
    return list_array(owners[~bad], values.filter(pa.array(~bad)), len(lists))


def _list_column(
    column: pa.ChunkedArray, name: str, ids: pa.ChunkedArray, log: IssueLog
) -> pa.ListArray:
    """One list column as clean lists of strings. Arrow lists of strings (or of bytes, decoded)
    are cleaned as a whole; anything else (the string form "['a', 'b']", lists of numbers)
    goes through parse_list per row, counting malformed cells."""
    value_type = getattr(column.type, "value_type", None)
    if _is_list(column.type) and pa.types.is_dictionary(value_type):
        value_type = value_type.value_type
        column = column.cast(pa.list_(value_type))
    if _is_list(column.type) and (
        _is_string(value_type) or _is_binary(value_type) or pa.types.is_null(value_type)
    ):
        lists = column.combine_chunks()
        values, owners = _flatten(lists)
        values = utf8_strings(
            values, name, log, lambda rows: _examples(ids, owners[np.asarray(rows, np.int64)])
        )
        return clean_lists(list_array(owners, values.combine_chunks(), len(lists)))
    out, malformed = [], []
    for row, value in enumerate(column.to_pylist()):
        items, bad = parse_list(value)
        out.append(items)
        if bad:
            malformed.append((row, value))
    if malformed:
        bad_ids = ids.take(
            pa.array([row for row, _ in malformed[:MAX_EXAMPLES]], pa.int64())
        ).to_pylist()
        examples = [
            f"{model_id}: {str(value)[:80]}" for model_id, (_, value) in zip(bad_ids, malformed)
        ]
        log.repaired(
            f"malformed list in {name}",
            examples,
            count=len(malformed),
            rows=[row for row, _ in malformed],
        )
    return pa.array(out, _STRING_LIST)


def _is_list(arrow_type: pa.DataType) -> bool:
    return pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)


def clean_lists(lists: pa.Array) -> pa.ListArray:
    """Lists of strings with each value stripped and null or empty values dropped; null lists become
    []."""
    values, owners = _flatten(lists)
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    keep = pc.fill_null(pc.not_equal(values, ""), False)
    return list_array(owners[keep.to_numpy(zero_copy_only=False)], values.filter(keep), len(lists))


def _flatten(lists: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """All values of all lists, and the row each came from."""
    # parent indices would count values behind nulls
    lists = pc.fill_null(lists, pa.scalar([], lists.type))
    return pc.list_flatten(lists), pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)


def _prefixed_values(tags: pa.ListArray, prefix: str) -> pa.ListArray:
    """Per row, the tags starting with prefix, without it ("license:mit" -> "mit")."""
    values, rows = _flatten(tags)
    keep = pc.starts_with(values, prefix)
    stripped = pc.utf8_slice_codeunits(values.filter(keep), len(prefix))
    return list_array(rows[keep.to_numpy(zero_copy_only=False)], stripped, len(tags))


def _language_tags(tags: pa.ListArray) -> pa.ListArray:
    """Per row, the tags that are ISO 639-1 language codes ("en", "fr"; not "tf", not "EN")."""
    values, rows = _flatten(tags)
    keep = pc.is_in(values, value_set=LANGUAGE_CODES)
    return list_array(rows[keep.to_numpy(zero_copy_only=False)], values.filter(keep), len(tags))


def _parents_from_tag_lists(
    tags: pa.ListArray, ids: pa.ChunkedArray, log: IssueLog
) -> dict[str, pa.ListArray]:
    """Parent columns from `base_model:` tags (parents_from_tags, run only on rows that have
    one)."""
    values, rows = _flatten(tags)
    keep = pc.starts_with(values, "base_model:")
    base_tags, rows = values.filter(keep).to_pylist(), rows[keep.to_numpy(zero_copy_only=False)]
    by_row: dict[int, list[str]] = {}
    for row, tag in zip(rows.tolist(), base_tags):
        by_row.setdefault(row, []).append(tag)

    parent_rows = {column: [] for column in PARENT_COLUMNS}
    parents = {column: [] for column in PARENT_COLUMNS}
    unknown, unknown_rows = [], []
    row_ids = ids.take(pa.array(list(by_row), pa.int64())).to_pylist()
    for (row, row_tags), model_id in zip(by_row.items(), row_ids):
        row_parents, unknown_tags = parents_from_tags(row_tags)
        for column, items in row_parents.items():
            parent_rows[column].extend([row] * len(items))
            parents[column].extend(items)
        unknown.extend(f"{model_id}: {t}" for t in unknown_tags)
        unknown_rows.extend([row] * len(unknown_tags))
    log.repaired(
        "unknown base_model relation tag (kept as unspecified parent)", unknown, rows=unknown_rows
    )
    return {
        column: list_array(
            np.array(parent_rows[column], np.int64),
            pa.array(parents[column], pa.string()),
            len(tags),
        )
        for column in PARENT_COLUMNS
    }


# --- cards ---------------------------------------------------------------------------------------


def _card_columns(
    batch: pa.Table, ids: pa.ChunkedArray, log: IssueLog
) -> dict[str, pa.ChunkedArray]:
    """has_card, card_length, card_excerpt and card_auto_generated from the card text (of a
    card over HUGE_CARD_CHARS characters only the head is analysed). A source with only a
    has-card flag (the 2022 listing's has_modelcard) gives has_card and, where it says there
    is no card, length 0; a source that says nothing about cards gives nulls."""
    examples = lambda rows: _examples(ids, rows)  # noqa: E731
    cards = _text(batch, "card", log, examples)
    flag = _booleans(batch, "has_card", log, examples)
    if cards is None:
        n = batch.num_rows
        unknown = {
            "card_excerpt": pa.nulls(n, pa.string()),
            "card_auto_generated": pa.nulls(n, pa.bool_()),
        }
        if flag is None:
            return {
                "has_card": pa.nulls(n, pa.bool_()),
                "card_length": pa.nulls(n, pa.int64()),
                **unknown,
            }
        no_card = pc.invert(flag)
        return {
            "has_card": flag,
            "card_length": pc.if_else(no_card, 0, pa.scalar(None, pa.int64())),
            **unknown,
            "card_auto_generated": pc.if_else(no_card, False, pa.scalar(None, pa.bool_())),
        }
    has_card = has_text(cards)
    lengths = pc.if_else(has_card, pc.utf8_length(cards), 0)
    excerpts, auto_generated = card_excerpts(cards), looks_auto_generated(cards)
    huge = pc.greater(lengths, HUGE_CARD_CHARS).combine_chunks()
    huge_rows = np.flatnonzero(huge.to_numpy(zero_copy_only=False))
    if len(huge_rows):
        huge_lengths = lengths.take(pa.array(huge_rows[:MAX_EXAMPLES], pa.int64())).to_pylist()
        examples = [
            f"{model_id}: {length:,} chars"
            for model_id, length in zip(_examples(ids, huge_rows), huge_lengths)
        ]
        log.repaired(
            f"card over {HUGE_CARD_CHARS:,} characters (only its head analysed)",
            examples,
            count=len(huge_rows),
            rows=huge_rows,
        )
        heads = pc.utf8_slice_codeunits(cards.filter(huge), 0, HUGE_CARD_CHARS)
        excerpts = pc.replace_with_mask(excerpts, huge, card_excerpts(heads).combine_chunks())
        auto_generated = pc.replace_with_mask(
            auto_generated, huge, looks_auto_generated(heads).combine_chunks()
        )
    if flag is not None:  # a card flagged but not given: its length is not known
        flagged_only = pc.and_(pc.fill_null(flag, False), pc.invert(has_card))
        has_card = pc.or_(has_card, flagged_only)
        lengths = pc.if_else(flagged_only, pa.scalar(None, pa.int64()), lengths)
    return {
        "has_card": has_card,
        "card_length": lengths,
        "card_excerpt": excerpts,
        "card_auto_generated": auto_generated,
    }

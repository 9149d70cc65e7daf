"""Turn one batch of rows in the published data set's schema into MODEL_SCHEMA.

All sources end here: Parquet/CSV files and `datasets` data sets arrive in the
published schema (dataset-schema.md §1); Hub API records are mapped to it first.
Columns may be missing, mistyped or malformed: every value that had to be fixed
is counted in the IssueLog, rows without an id are rejected, nothing crashes.

Whole columns are cleaned with Arrow compute kernels (a 100k-row batch takes
about a second). Python runs per row only where the input needs it: list cells
given as strings ("['a', 'b']", from CSV and JSONL), values of unexpected types,
binary cards, and rows with `base_model:` tags when the parent columns are missing.
Trimming follows Python's `str.strip()`: Arrow's utf8_trim_whitespace strips the
same Unicode whitespace.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.cards import card_excerpts, has_text, looks_auto_generated
from pipeline.report import IssueLog
from pipeline.schema import LIST_COLUMNS, MODEL_SCHEMA, PARENT_COLUMNS

# A Hub URL in front of an id ("https://huggingface.co/org/name"); valid in RE2 and Python's re.
HUB_URL_PREFIX = r"\A(?:https?://)?huggingface\.co/"
URL_ID_TRIM = "/ "  # characters stripped from an id once its URL prefix is removed
TYPED_RELATIONS = ("finetune", "adapter", "quantized", "merge")
HUGE_CARD_CHARS = 1_000_000  # beyond this only the head of a card is analysed
# The Hub's timestamps ("2024-09-19T14:24:51.000Z"), which Arrow parses as pandas would.
HUB_TIMESTAMP = r"\A(?:19|20)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z\z"

# list column -> tag prefix it is derived from when the source lacks the column
TAG_PREFIXES = {"licenses": "license:", "datasets": "dataset:", "arxiv_papers": "arxiv:", "regions": "region:"}

_STRING_LIST = pa.list_(pa.string())


# --- per value: for family exports and string-typed list cells -------------------------------


def clean_model_id(value) -> tuple[str | None, bool]:
    """A Hub id from a raw cell: stripped, Hub URL prefix removed. Returns (id or None, was_url).

    The same rules as `clean_model_ids`, for one value.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    text = str(value).strip()
    url = re.match(HUB_URL_PREFIX, text)
    if url:
        text = text[url.end():].strip(URL_ID_TRIM)
    return text or None, url is not None


def parse_list(value) -> tuple[list[str], bool]:
    """A list cell as a list of strings. Accepts real lists, arrays and the Python string
    form "['a', 'b']" (parsed with ast.literal_eval, never eval). Returns (list, was_malformed)."""
    if value is None:
        return [], False
    if isinstance(value, float):
        return [], not math.isnan(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()], False
    text = str(value).strip()
    if text in ("", "[]", "nan", "None", "null"):
        return [], False
    if not text.startswith("["):
        return [], True
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return [], True
    if not isinstance(parsed, (list, tuple)):
        return [], True
    return [str(v).strip() for v in parsed if v is not None and str(v).strip()], False


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
        rest = tag[len("base_model:"):]
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
    unprefixed = pc.utf8_trim(pc.replace_substring_regex(text, HUB_URL_PREFIX, "", max_replacements=1), URL_ID_TRIM)
    return _empty_to_null(pc.if_else(was_url, unprefixed, text)), was_url


def _empty_to_null(strings):
    """Empty strings become null."""
    return pc.if_else(pc.equal(strings, ""), pa.scalar(None, strings.type), strings)


def _text(batch: pa.Table, name: str) -> pa.ChunkedArray | None:
    """A column as Arrow strings (None when absent). Strings are used as they are; other
    types become str(value) per row, with null and NaN as null."""
    if name not in batch.column_names:
        return None
    column = batch.column(name)
    if _is_string(column.type) or pa.types.is_null(column.type):
        return column.cast(pa.string())
    return pa.chunked_array([pa.array([_str_or_none(v) for v in column.to_pylist()], pa.string())])


def _is_string(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _str_or_none(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _strings(batch: pa.Table, name: str) -> pa.ChunkedArray:
    """A text column stripped, empty -> null (all null when absent)."""
    text = _text(batch, name)
    if text is None:
        return pa.chunked_array([pa.nulls(batch.num_rows, pa.string())])
    return _empty_to_null(pc.utf8_trim_whitespace(text))


def _booleans(batch: pa.Table, name: str) -> pa.ChunkedArray:
    """A flag: booleans as they are, text "true" / "1" in any case; missing -> False."""
    if name not in batch.column_names:
        return pa.chunked_array([pa.array(np.zeros(batch.num_rows, dtype=bool))])
    column = batch.column(name)
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, False)
    words = pc.utf8_lower(pc.utf8_trim_whitespace(_text(batch, name)))
    return pc.fill_null(pc.is_in(words, value_set=pa.array(["true", "1"])), False)


def _examples(ids: pa.ChunkedArray, rows: np.ndarray) -> list:
    """The ids of the first few of the given row numbers (for the IssueLog)."""
    return ids.take(pa.array(rows[:5], pa.int64())).to_pylist()


def _numbers(batch: pa.Table, name: str, log: IssueLog, ids: pa.ChunkedArray, integer: bool) -> pa.Array:
    """A numeric column; non-numeric or negative values become null and are counted."""
    n = batch.num_rows
    target = pa.int64() if integer else pa.float64()
    if name not in batch.column_names:
        return pa.nulls(n, target)
    column = batch.column(name)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False).astype("float64")
        raw_present = ~np.isnan(values)
    else:
        raw = pd.Series(column.to_pylist(), dtype=object)
        raw_present = raw.notna().to_numpy() & (raw.astype(str).str.strip().isin(["", "nan", "None"]) == False)  # noqa: E712
        values = pd.to_numeric(raw.where(raw_present, None), errors="coerce").to_numpy(dtype="float64")
    bad = raw_present & (np.isnan(values) | (values < 0) | np.isinf(values))
    if bad.any():
        log.repaired(f"non-numeric {name}", _examples(ids, np.flatnonzero(bad)), count=int(bad.sum()))
    valid = ~np.isnan(values) & ~bad
    if integer:
        return pa.array(np.where(valid, np.nan_to_num(values), 0).round().astype("int64"), mask=~valid)
    return pa.array(np.where(valid, values, 0.0), mask=~valid)


def _timestamps(batch: pa.Table, log: IssueLog, ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """createdAt as UTC timestamps. Arrow timestamps and text all in the Hub's own form are
    cast by Arrow; anything else is parsed by pandas (unparseable values become null and are counted)."""
    target = pa.timestamp("us", tz="UTC")
    name = next((name for name in ("createdAt", "created_at") if name in batch.column_names), None)
    if name is None:
        return pa.chunked_array([pa.nulls(batch.num_rows, target)])
    column = batch.column(name)
    if pa.types.is_timestamp(column.type):  # naive timestamps are taken as UTC
        return column.cast(target, safe=False)
    if _is_string(column.type) and pc.all(pc.match_substring_regex(column, HUB_TIMESTAMP)).as_py():
        try:
            return column.cast(target)
        except pa.ArrowInvalid:  # an impossible date such as Feb 30: pandas counts it below
            pass
    raw = pd.Series(column.to_pylist(), dtype=object)
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    parsed = pd.to_datetime(raw.where(present, None), utc=True, errors="coerce", format="mixed")
    bad = (present & parsed.isna()).to_numpy()
    if bad.any():
        log.repaired("unparseable createdAt", _examples(ids, np.flatnonzero(bad)), count=int(bad.sum()))
    return pa.chunked_array([pa.array(parsed.dt.as_unit("us"), type=target)])


def normalize_batch(batch: pa.Table, log: IssueLog) -> pa.Table:
    """One batch in the published schema -> Arrow table in MODEL_SCHEMA (rows without id dropped)."""
    n = batch.num_rows
    raw_ids = next((_text(batch, name) for name in ("model_id", "modelId", "id") if name in batch.column_names), None)
    if raw_ids is None:
        raw_ids = pa.chunked_array([pa.nulls(n, pa.string())])
    ids, was_url = clean_model_ids(raw_ids)
    url_rows = np.flatnonzero(was_url.to_numpy(zero_copy_only=False))
    log.repaired("model_id given as a Hub URL", _examples(ids, url_rows), count=len(url_rows))

    columns: dict[str, object] = {"model_id": ids}
    columns["author"] = pc.coalesce(_strings(batch, "author"), _owner(ids))
    columns["likes"] = _numbers(batch, "likes", log, ids, integer=True)
    columns["downloads"] = _numbers(batch, "downloads", log, ids, integer=True)
    trending = "trendingScore" if "trendingScore" in batch.column_names else "trending_score"
    columns["trending_score"] = _numbers(batch, trending, log, ids, integer=False)
    columns["private"] = _booleans(batch, "private")
    columns["pipeline_tag"] = _strings(batch, "pipeline_tag")
    columns["library_name"] = _strings(batch, "library_name")
    columns["created_at"] = _timestamps(batch, log, ids)
    columns.update(_list_columns(batch, ids, log))
    columns.update(_card_columns(batch, ids, log))

    table = pa.table({name: columns[name] for name in MODEL_SCHEMA.names}, schema=MODEL_SCHEMA)
    has_id = pc.is_valid(ids)
    missing = np.flatnonzero(~has_id.to_numpy(zero_copy_only=False))
    if len(missing):
        log.rejected("row without model_id", [f"row {i} of batch" for i in missing[:5]], count=len(missing))
        table = table.filter(has_id)
    return table


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
    tags = lists.setdefault("tags", _group(pa.array([], pa.string()), np.zeros(0, np.int64), batch.num_rows))

    missing_parent_columns = [c for c in PARENT_COLUMNS if c not in lists]
    if missing_parent_columns:
        from_tags = _parents_from_tag_lists(tags, ids, log)
        for column in missing_parent_columns:
            lists[column] = from_tags[column]

    for column, prefix in TAG_PREFIXES.items():
        if column not in lists:
            lists[column] = _prefixed_values(tags, prefix)
    if "languages" not in lists:
        lists["languages"] = _language_tags(tags)
    return lists


def _list_column(column: pa.ChunkedArray, name: str, ids: pa.ChunkedArray, log: IssueLog) -> pa.ListArray:
    """One list column as clean lists of strings. Arrow lists of strings are cleaned as a
    whole; anything else (the string form "['a', 'b']") goes through parse_list per row,
    counting malformed cells."""
    value_type = getattr(column.type, "value_type", None)
    if _is_list(column.type) and (_is_string(value_type) or pa.types.is_null(value_type)):
        return clean_lists(column.combine_chunks())
    out, malformed = [], []
    for row, value in enumerate(column.to_pylist()):
        items, bad = parse_list(value)
        out.append(items)
        if bad:
            malformed.append((row, value))
    if malformed:
        bad_ids = ids.take(pa.array([row for row, _ in malformed[:5]], pa.int64())).to_pylist()
        examples = [f"{model_id}: {str(value)[:80]}" for model_id, (_, value) in zip(bad_ids, malformed)]
        log.repaired(f"malformed list in {name}", examples, count=len(malformed))
    return pa.array(out, _STRING_LIST)


def _is_list(arrow_type: pa.DataType) -> bool:
    return pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)


def clean_lists(lists: pa.Array) -> pa.ListArray:
    """Lists of strings with each value stripped and null or empty values dropped; null lists become []."""
    values, owners = _flatten(lists)
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    keep = pc.fill_null(pc.not_equal(values, ""), False)
    return _group(values.filter(keep), owners[keep.to_numpy(zero_copy_only=False)], len(lists))


def _flatten(lists: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """All values of all lists, and the row each came from."""
    lists = pc.fill_null(lists, pa.scalar([], lists.type))  # parent indices would count values behind nulls
    return pc.list_flatten(lists), pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)


def _group(values: pa.Array, rows: np.ndarray, n: int) -> pa.ListArray:
    """n lists from string values and the (ascending) row each belongs to; rows without values get []."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _prefixed_values(tags: pa.ListArray, prefix: str) -> pa.ListArray:
    """Per row, the tags starting with prefix, without it ("license:mit" -> "mit")."""
    values, rows = _flatten(tags)
    keep = pc.starts_with(values, prefix)
    stripped = pc.utf8_slice_codeunits(values.filter(keep), len(prefix))
    return _group(stripped, rows[keep.to_numpy(zero_copy_only=False)], len(tags))


def _language_tags(tags: pa.ListArray) -> pa.ListArray:
    """Per row, the tags that are two lower-case letters ("en", "fr").

    The letter test is Python's (isalpha, islower), run once per distinct two-character tag.
    """
    values, rows = _flatten(tags)
    two_chars = pc.unique(values.filter(pc.equal(pc.utf8_length(values), 2))).to_pylist()
    languages = pa.array([t for t in two_chars if t.isalpha() and t.islower()], pa.string())
    keep = pc.is_in(values, value_set=languages)
    return _group(values.filter(keep), rows[keep.to_numpy(zero_copy_only=False)], len(tags))


def _parents_from_tag_lists(tags: pa.ListArray, ids: pa.ChunkedArray, log: IssueLog) -> dict[str, pa.ListArray]:
    """Parent columns from `base_model:` tags (parents_from_tags, run only on rows that have one)."""
    values, rows = _flatten(tags)
    keep = pc.starts_with(values, "base_model:")
    base_tags, rows = values.filter(keep).to_pylist(), rows[keep.to_numpy(zero_copy_only=False)]
    by_row: dict[int, list[str]] = {}
    for row, tag in zip(rows.tolist(), base_tags):
        by_row.setdefault(row, []).append(tag)

    parent_rows = {column: [] for column in PARENT_COLUMNS}
    parents = {column: [] for column in PARENT_COLUMNS}
    unknown = []
    row_ids = ids.take(pa.array(list(by_row), pa.int64())).to_pylist()
    for (row, row_tags), model_id in zip(by_row.items(), row_ids):
        row_parents, unknown_tags = parents_from_tags(row_tags)
        for column, items in row_parents.items():
            parent_rows[column].extend([row] * len(items))
            parents[column].extend(items)
        unknown.extend(f"{model_id}: {t}" for t in unknown_tags)
    log.repaired("unknown base_model relation tag (kept as unspecified parent)", unknown)
    return {
        column: _group(pa.array(parents[column], pa.string()), np.array(parent_rows[column], np.int64), len(tags))
        for column in PARENT_COLUMNS
    }


# --- cards ---------------------------------------------------------------------------------------


def _card_columns(batch: pa.Table, ids: pa.ChunkedArray, log: IssueLog) -> dict[str, pa.ChunkedArray]:
    """has_card, card_length, card_excerpt and card_auto_generated from the card text
    (of a card over HUGE_CARD_CHARS characters only the head is analysed)."""
    cards = _card_text(batch)
    has_card = has_text(cards)
    lengths = pc.if_else(has_card, pc.utf8_length(cards), 0)
    excerpts, auto_generated = card_excerpts(cards), looks_auto_generated(cards)
    huge = pc.greater(lengths, HUGE_CARD_CHARS).combine_chunks()
    huge_rows = np.flatnonzero(huge.to_numpy(zero_copy_only=False))
    if len(huge_rows):
        huge_lengths = lengths.take(pa.array(huge_rows[:5], pa.int64())).to_pylist()
        examples = [f"{model_id}: {length:,} chars" for model_id, length in zip(_examples(ids, huge_rows), huge_lengths)]
        log.repaired(f"card over {HUGE_CARD_CHARS:,} characters (only its head analysed)", examples, count=len(huge_rows))
        heads = pc.utf8_slice_codeunits(cards.filter(huge), 0, HUGE_CARD_CHARS)
        excerpts = pc.replace_with_mask(excerpts, huge, card_excerpts(heads).combine_chunks())
        auto_generated = pc.replace_with_mask(auto_generated, huge, looks_auto_generated(heads).combine_chunks())
    return {"has_card": has_card, "card_length": lengths, "card_excerpt": excerpts, "card_auto_generated": auto_generated}


def _card_text(batch: pa.Table) -> pa.ChunkedArray:
    """The card column (`modelCard` or `card`) as strings: bytes decoded with invalid UTF-8
    replaced, values of any other type taken as no card."""
    name = next((name for name in ("modelCard", "card") if name in batch.column_names), None)
    column = batch.column(name) if name else pa.chunked_array([pa.nulls(batch.num_rows)])
    if _is_string(column.type):
        return column
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        decoded = [None if v is None else v.decode("utf-8", errors="replace") for v in column.to_pylist()]
        return pa.chunked_array([pa.array(decoded, pa.string())])
    return pa.chunked_array([pa.nulls(batch.num_rows, pa.string())])

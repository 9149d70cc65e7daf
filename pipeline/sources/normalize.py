"""Turn one batch of rows in the published data set's schema into MODEL_SCHEMA.

All sources end here: Parquet/CSV files and `datasets` data sets arrive in the
published schema (dataset-schema.md §1); Hub API records are mapped to it first.
Columns may be missing, mistyped or malformed: every value that had to be fixed
is counted in the IssueLog, rows without an id are rejected, nothing crashes.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.cards import card_excerpt, looks_auto_generated
from pipeline.report import IssueLog
from pipeline.schema import LIST_COLUMNS, MODEL_SCHEMA, PARENT_COLUMNS

HUB_URL_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/")
TYPED_RELATIONS = ("finetune", "adapter", "quantized", "merge")
HUGE_CARD_CHARS = 1_000_000  # beyond this only the head of a card is analysed

# list column -> tag prefix it is derived from when the source lacks the column
TAG_PREFIXES = {"licenses": "license:", "datasets": "dataset:", "arxiv_papers": "arxiv:", "regions": "region:"}


def clean_model_id(value) -> tuple[str | None, bool]:
    """A Hub id from a raw cell: stripped, Hub URL prefix removed. Returns (id or None, was_url)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    text = str(value).strip()
    for prefix in HUB_URL_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix):].strip("/ ") or None, True
    return text or None, False


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


def _column(batch: pa.Table, name: str) -> list | None:
    return batch.column(name).to_pylist() if name in batch.column_names else None


def _numbers(batch: pa.Table, name: str, log: IssueLog, ids: list, integer: bool) -> pa.Array:
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
        log.repaired(f"non-numeric {name}", [ids[i] for i in np.flatnonzero(bad)[:5]], count=int(bad.sum()))
    valid = ~np.isnan(values) & ~bad
    if integer:
        return pa.array(np.where(valid, np.nan_to_num(values), 0).round().astype("int64"), mask=~valid)
    return pa.array(np.where(valid, values, 0.0), mask=~valid)


def _timestamps(batch: pa.Table, log: IssueLog, ids: list) -> pa.Array:
    for name in ("createdAt", "created_at"):
        if name in batch.column_names:
            raw = pd.Series(batch.column(name).to_pylist(), dtype=object)
            break
    else:
        return pa.nulls(batch.num_rows, pa.timestamp("us", tz="UTC"))
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    parsed = pd.to_datetime(raw.where(present, None), utc=True, errors="coerce", format="mixed")
    bad = (present & parsed.isna()).to_numpy()
    if bad.any():
        log.repaired("unparseable createdAt", [ids[i] for i in np.flatnonzero(bad)[:5]], count=int(bad.sum()))
    return pa.array(parsed.dt.as_unit("us"), type=pa.timestamp("us", tz="UTC"))


def _strings(batch: pa.Table, name: str) -> list:
    values = _column(batch, name)
    if values is None:
        return [None] * batch.num_rows
    return [_clean_text(v) for v in values]


def _clean_text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _booleans(batch: pa.Table, name: str) -> list[bool]:
    values = _column(batch, name) or [False] * batch.num_rows
    return [str(v).strip().lower() in ("true", "1") if not isinstance(v, bool) else v for v in values]


def normalize_batch(batch: pa.Table, log: IssueLog) -> pa.Table:
    """One batch in the published schema -> Arrow table in MODEL_SCHEMA (rows without id dropped)."""
    n = batch.num_rows
    raw_ids = _column(batch, "model_id") or _column(batch, "modelId") or _column(batch, "id") or [None] * n
    ids, url_ids = [], []
    for raw in raw_ids:
        model_id, was_url = clean_model_id(raw)
        ids.append(model_id)
        if was_url:
            url_ids.append(model_id)
    log.repaired("model_id given as a Hub URL", url_ids)

    columns: dict[str, object] = {"model_id": ids}
    authors = _strings(batch, "author")
    columns["author"] = [a or (i.split("/", 1)[0] if i and "/" in i else None) for a, i in zip(authors, ids)]
    columns["likes"] = _numbers(batch, "likes", log, ids, integer=True)
    columns["downloads"] = _numbers(batch, "downloads", log, ids, integer=True)
    trending = "trendingScore" if "trendingScore" in batch.column_names else "trending_score"
    columns["trending_score"] = _numbers(batch, trending, log, ids, integer=False)
    columns["private"] = _booleans(batch, "private")
    columns["pipeline_tag"] = _strings(batch, "pipeline_tag")
    columns["library_name"] = _strings(batch, "library_name")
    columns["created_at"] = _timestamps(batch, log, ids)

    lists = _list_columns(batch, ids, log)
    columns.update(lists)
    columns.update(_card_columns(batch, ids, log))

    table = pa.table({name: columns[name] for name in MODEL_SCHEMA.names}, schema=MODEL_SCHEMA)
    has_id = pa.array([i is not None for i in ids])
    missing = n - pc.sum(has_id).as_py() if n else 0
    if missing:
        log.rejected("row without model_id", [f"row {i} of batch" for i, v in enumerate(ids) if v is None][:5], count=missing)
        table = table.filter(has_id)
    return table


def _list_columns(batch: pa.Table, ids: list, log: IssueLog) -> dict[str, list[list[str]]]:
    parsed: dict[str, list[list[str]]] = {}
    for name in ("tags", *[c for c in LIST_COLUMNS if c != "tags"]):
        values = _column(batch, name)
        if values is None:
            continue
        out, bad = [], []
        for model_id, value in zip(ids, values):
            items, malformed = parse_list(value)
            out.append(items)
            if malformed:
                bad.append(f"{model_id}: {str(value)[:80]}")
        log.repaired(f"malformed list in {name}", bad)
        parsed[name] = out
    tags = parsed.setdefault("tags", [[] for _ in ids])

    missing_parent_columns = [c for c in PARENT_COLUMNS if c not in parsed]
    if missing_parent_columns:
        from_tags, unknown = [], []
        for model_id, row_tags in zip(ids, tags):
            parents, unknown_tags = parents_from_tags(row_tags)
            from_tags.append(parents)
            unknown.extend(f"{model_id}: {t}" for t in unknown_tags)
        log.repaired("unknown base_model relation tag (kept as unspecified parent)", unknown)
        for column in missing_parent_columns:
            parsed[column] = [parents[column] for parents in from_tags]

    for column, prefix in TAG_PREFIXES.items():
        if column not in parsed:
            parsed[column] = [[t[len(prefix):] for t in row if t.startswith(prefix)] for row in tags]
    if "languages" not in parsed:
        parsed["languages"] = [[t for t in row if len(t) == 2 and t.isalpha() and t.islower()] for row in tags]
    return parsed


def _card_columns(batch: pa.Table, ids: list, log: IssueLog) -> dict[str, list]:
    cards = _column(batch, "modelCard")
    if cards is None:
        cards = _column(batch, "card")
    if cards is None:
        cards = [None] * batch.num_rows
    has_card, lengths, excerpts, auto, huge = [], [], [], [], []
    for model_id, card in zip(ids, cards):
        if isinstance(card, bytes):
            card = card.decode("utf-8", errors="replace")
        if not isinstance(card, str) or not card.strip():
            has_card.append(False)
            lengths.append(0)
            excerpts.append(None)
            auto.append(False)
            continue
        if len(card) > HUGE_CARD_CHARS:
            huge.append(f"{model_id}: {len(card):,} chars")
            card_head = card[:HUGE_CARD_CHARS]
        else:
            card_head = card
        has_card.append(True)
        lengths.append(len(card))
        excerpts.append(card_excerpt(card_head))
        auto.append(looks_auto_generated(card_head))
    log.repaired(f"card over {HUGE_CARD_CHARS:,} characters (only its head analysed)", huge)
    return {"has_card": has_card, "card_length": lengths, "card_excerpt": excerpts, "card_auto_generated": auto}

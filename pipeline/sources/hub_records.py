"""Reader for JSON Lines of Hub API model records (dataset-schema.md §2).

One JSON object per line, as `GET /api/models` / `HfApi.list_models(full=True)`
return them, optionally with the card text in a `card` field (what the tracker
writes). Records are mapped onto the published schema; lineage, licenses and
languages then come from their tags.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from pipeline.report import IssueLog
from pipeline.sources.published import BATCH_ROWS, SourceError

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


def record_to_row(record: dict) -> dict:
    """A Hub API record as a row of the published schema (values left raw for normalize_batch)."""
    return {column: next((record[k] for k in keys if record.get(k) is not None), None) for column, keys in PUBLISHED_FIELDS.items()}


_ROW_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("author", pa.string()),
        ("likes", pa.string()),
        ("downloads", pa.string()),
        ("trendingScore", pa.string()),
        ("private", pa.bool_()),
        ("tags", pa.string()),
        ("pipeline_tag", pa.string()),
        ("library_name", pa.string()),
        ("createdAt", pa.string()),
        ("modelCard", pa.string()),
    ]
)


def _as_batch(rows: list[dict]) -> pa.Table:
    """Rows -> Arrow table with string-typed cells (tags as their JSON text) so mixed types never clash."""
    cells = {name: [] for name in _ROW_SCHEMA.names}
    for row in rows:
        for name in _ROW_SCHEMA.names:
            value = row[name]
            if name == "private":
                cells[name].append(bool(value) if isinstance(value, bool) else str(value).lower() == "true")
            elif name == "tags" and isinstance(value, list):
                cells[name].append(json.dumps(value))
            else:
                cells[name].append(None if value is None else str(value))
    return pa.table(cells, schema=_ROW_SCHEMA)


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def hub_jsonl_batches(path: Path, log: IssueLog) -> tuple[None, Iterator[pa.Table]]:
    """(unknown row count, batches) of a Hub-API JSONL file."""
    try:
        handle = _open(path)
    except OSError as error:
        raise SourceError(f"{path} could not be opened ({error}).") from error

    def lines() -> Iterator[tuple[int, bytes]]:
        with handle:
            try:
                yield from enumerate(handle, start=1)
            except (OSError, EOFError, zlib.error) as error:
                raise SourceError(f"{path} could not be read to the end ({error}).") from error

    def batches() -> Iterator[pa.Table]:
        rows: list[dict] = []
        for number, raw in lines():
            if not raw.strip():
                continue
            text = raw.decode("utf-8", errors="replace")
            if "\ufffd" in text and "\ufffd".encode() not in raw:
                log.repaired("invalid UTF-8 replaced", [f"line {number}"])
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                log.rejected("line is not valid JSON", [f"line {number}: {error.msg}"])
                continue
            if not isinstance(record, dict):
                log.rejected("line is not a JSON object", [f"line {number}"])
                continue
            rows.append(record_to_row(record))
            if len(rows) >= BATCH_ROWS:
                yield _as_batch(rows)
                rows = []
        if rows:
            yield _as_batch(rows)

    return None, batches()

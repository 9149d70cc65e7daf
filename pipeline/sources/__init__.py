"""Load any supported source into the normalized model table (pipeline.schema).

A source is one of:
- ``sample`` (default): the bundled real sample, pipeline/data/sample_models.parquet;
- ``hf:<dataset id>``: a data set on the Hub loaded with `datasets.load_dataset`,
  e.g. ``hf:modelbiome/ai_ecosystem_withmodelcards``;
- a ``.parquet`` or ``.csv`` file in the published data set's schema (or a
  family-tree export CSV, recognised by its ``metadata`` column);
- a ``.jsonl`` / ``.jsonl.gz`` file of Hub API model records.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from pipeline.errors import SourceError
from pipeline.report import MAX_EXAMPLES, IssueLog
from pipeline.schema import MODEL_SCHEMA, to_frame
from pipeline.sources.family_exports import PUBLISHED_SCHEMA, export_to_published, read_export
from pipeline.sources.hub_records import StoreMismatchError, hub_jsonl_batches, read_hub_jsonl
from pipeline.sources.normalize import normalize_batch, read_columns
from pipeline.sources.published import csv_batches, hf_dataset_batches, parquet_batches
from pipeline.sources.row_store import RowStore, open_store, save_store
from pipeline.terminal import printable

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "sample_models.parquet"
HUB_RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json")
SOURCE_SUFFIXES = (".parquet", ".csv", *HUB_RECORD_SUFFIXES)

__all__ = [
    "SAMPLE_PATH",
    "SourceError",
    "SourceRows",
    "check_source",
    "describe_source",
    "load_source",
    "read_source",
]


def describe_source(spec: str | None) -> str:
    """The source as recorded in the manifest."""
    return "sample" if spec in (None, "", "sample") else spec


def check_source(spec: str | None) -> Path | None:
    """The source's file (None for hf:<id>); SourceError when it is missing, empty or of an unknown
    kind."""
    spec = describe_source(spec)
    if spec.startswith("hf:"):
        return None
    path = SAMPLE_PATH if spec == "sample" else Path(spec)
    if "\x00" in spec:
        raise SourceError(
            f"The source {printable(spec)} is not a usable path (it holds a NUL character)."
        )
    if not path.exists():
        raise SourceError(f"The source {spec} does not exist.")
    if path.is_dir():
        raise SourceError(
            f"The source {spec} is a directory; give a .parquet, .csv or .jsonl file, "
            "hf:<dataset id> or 'sample'."
        )
    if path.stat().st_size == 0:
        raise SourceError(f"The source {spec} is empty.")
    if not path.name.lower().endswith(SOURCE_SUFFIXES):
        raise SourceError(
            f"The source {spec} has an unknown format; give a .parquet, .csv or .jsonl file, "
            "hf:<dataset id> or 'sample'."
        )
    return path


def _batches(spec: str, log: IssueLog) -> tuple[int | None, Iterator[pa.Table]]:
    """(row count if known, batches in the published schema). The JSONL and family-export readers
    note the source's own fields in the log; the others' batches hold the source's columns."""
    path = check_source(spec)
    if path is None:
        return _noting_columns(*hf_dataset_batches(spec[3:]), log)
    name = path.name.lower()
    if name.endswith(".parquet"):
        return _noting_columns(*parquet_batches(path, log), log)
    if name.endswith(HUB_RECORD_SUFFIXES):
        return hub_jsonl_batches(path, log)
    if name.endswith(".csv") and _is_family_export(path):
        rows = export_to_published(read_export(path, log), path.name.removesuffix(".csv"), log)
        table = pa.Table.from_pylist(rows, schema=PUBLISHED_SCHEMA).drop_columns(["family_export"])
        return len(rows), iter([table])
    return _noting_columns(*csv_batches(path, log), log)


def _noting_columns(
    total: int | None, batches: Iterator[pa.Table], log: IssueLog
) -> tuple[int | None, Iterator[pa.Table]]:
    """The batches of a source whose batches hold its own columns, each batch's columns noted in
    the log as read or not read."""

    def noted() -> Iterator[pa.Table]:
        for batch in batches:
            log.source_columns(*read_columns(batch.column_names))
            yield batch

    return total, noted()


def _is_family_export(path: Path) -> bool:
    """Whether a CSV file's header names both model_id and metadata."""
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader(handle), [])
    names = {name.strip() for name in header}
    return {"model_id", "metadata"} <= names


@dataclass
class SourceRows:
    """A source read: the normalized models, and for a JSONL source read with a row store the
    key of each model's text and the texts of the rows it parsed (pipeline.text; else None)."""

    models: pd.DataFrame
    text_keys: np.ndarray | None = None
    texts: list[str | None] | None = None


def load_source(
    spec: str | None, log: IssueLog, progress: bool = False, cache_dir: Path | None = None
) -> pd.DataFrame:
    """Read, normalize and de-duplicate a source. Raises SourceError if it cannot be read
    at all or holds no usable row. With a cache_dir, a JSONL source's lines read clean are kept
    there (pipeline.sources.row_store) and the next read of it parses only the lines not kept."""
    return read_source(spec, log, progress, cache_dir).models


def read_source(
    spec: str | None, log: IssueLog, progress: bool = False, cache_dir: Path | None = None
) -> SourceRows:
    """load_source, with the text keys and parsed texts a JSONL read with a row store gives."""
    spec = describe_source(spec)
    path = check_source(spec)
    keys = texts = None
    if (
        cache_dir is not None
        and path is not None
        and path.name.lower().endswith(HUB_RECORD_SUFFIXES)
    ):
        table, keys, texts = _read_jsonl_with_store(path, log, Path(cache_dir), progress)
    else:
        total, batches = _batches(spec, log)
        tables = []
        with tqdm(total=total, desc="read source", unit="rows", disable=not progress) as bar:
            for batch in batches:
                tables.append(normalize_batch(batch, log))
                bar.update(batch.num_rows)
        table = pa.concat_tables(tables) if tables else None
    table = table if table is not None else MODEL_SCHEMA.empty_table()
    table, first = _drop_duplicate_ids(table, log)
    if table.num_rows == 0:
        raise SourceError(f"The source {spec} holds no model rows with an id.")
    if keys is not None and first is not None:
        keys, texts = keys[first], [texts[i] for i in np.flatnonzero(first).tolist()]
    return SourceRows(to_frame(table), keys, texts)


def _read_jsonl_with_store(path: Path, log: IssueLog, cache_dir: Path, progress: bool):
    """(A JSONL source's normalized rows or None, their text keys, their parsed texts), the lines
    kept in cache_dir's row store taken from it; the store then keeps the lines read clean now.
    Issues are logged as a fresh read logs them."""
    store = open_store(cache_dir)
    try:
        table, taken, added, keys, texts = _read_jsonl(path, log, store, progress)
    except StoreMismatchError:
        logging.getLogger("hfmap.build").warning(
            "the rows kept in %s were read in batches with other card fields; reading %s whole",
            store.directory,
            path,
        )
        store = store.emptied()
        table, taken, added, keys, texts = _read_jsonl(path, log, store, progress)
    save_store(store, taken, added)
    return table, keys, texts


def _read_jsonl(path: Path, log: IssueLog, store: RowStore, progress: bool):
    """read_hub_jsonl, its issues logged only once it has read the whole file."""
    read_log = IssueLog()
    with tqdm(desc="read source", unit="rows", disable=not progress) as bar:
        result = read_hub_jsonl(path, read_log, store, bar.update)
    log.merge(read_log)
    return result


def _drop_duplicate_ids(table: pa.Table, log: IssueLog) -> tuple[pa.Table, np.ndarray | None]:
    """(The table with the first row of each model_id, which rows those are: None when all); the
    others are counted."""
    duplicated = table.column("model_id").to_pandas().duplicated(keep="first").to_numpy()
    if not duplicated.any():
        return table, None
    examples = table.column("model_id").filter(pa.array(duplicated)).to_pylist()[:MAX_EXAMPLES]
    log.rejected("duplicate model_id (first row kept)", examples, count=int(duplicated.sum()))
    return table.filter(pa.array(~duplicated)), ~duplicated

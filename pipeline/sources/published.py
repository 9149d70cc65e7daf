"""Readers for the published data set's schema: Parquet, CSV and `datasets` data sets.

Each reader yields Arrow batches in the published schema (dataset-schema.md §1);
`normalize_batch` does the rest. Files are read in batches so a 1.86M-row source
with model cards never sits in memory whole.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.report import IssueLog

BATCH_ROWS = 100_000
REPLACEMENT_CHAR = "\ufffd"


class SourceError(Exception):
    """A source that cannot be read at all; the message is one sentence for the user."""


def parquet_batches(path: Path) -> tuple[int, Iterator[pa.Table]]:
    """(row count, batches) of a Parquet file."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise SourceError(f"{path} is not a readable Parquet file ({error}).") from error

    def batches() -> Iterator[pa.Table]:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            yield pa.Table.from_batches([batch])

    return parquet.metadata.num_rows, batches()


def csv_batches(path: Path, log: IssueLog) -> tuple[int | None, Iterator[pa.Table]]:
    """(unknown row count, batches) of a CSV export; list columns stay strings for parse_list.

    Invalid UTF-8 is replaced (and counted); lines with the wrong number of fields are
    skipped and counted.
    """
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            chunksize=BATCH_ROWS,
            encoding="utf-8",
            encoding_errors="replace",
            on_bad_lines="warn",
            index_col=False,
        )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, UnicodeError) as error:
        raise SourceError(f"{path} is not a readable CSV file ({error}).") from error

    def batches() -> Iterator[pa.Table]:
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                try:
                    chunk = next(reader)
                except StopIteration:
                    return
                except (pd.errors.ParserError, UnicodeError) as error:
                    raise SourceError(f"{path} could not be parsed as CSV ({error}).") from error
            skipped = [line for w in caught for line in str(w.message).splitlines() if line.startswith("Skipping line")]
            log.rejected("CSV line with the wrong number of fields", skipped)
            chunk = chunk.drop(columns=[c for c in chunk.columns if c.startswith("Unnamed:") or c == ""], errors="ignore")
            _count_replaced_text(chunk, log)
            yield pa.Table.from_pandas(chunk, preserve_index=False)

    return None, batches()


def _count_replaced_text(chunk: pd.DataFrame, log: IssueLog) -> None:
    if chunk.empty:
        return
    has_replacement = pd.Series(False, index=chunk.index)
    for column in chunk.columns:
        has_replacement |= chunk[column].str.contains(REPLACEMENT_CHAR, regex=False, na=False)
    ids = chunk["model_id"] if "model_id" in chunk.columns else chunk.index.astype(str)
    log.repaired("invalid UTF-8 replaced", ids[has_replacement].tolist())


def hf_dataset_batches(dataset_id: str, **load_kwargs) -> tuple[int, Iterator[pa.Table]]:
    """(row count, batches) of a data set loaded with `datasets.load_dataset` (e.g. the
    published `modelbiome/ai_ecosystem_withmodelcards`, or "parquet" with data_files=...)."""
    import datasets

    try:
        dataset = datasets.load_dataset(dataset_id, split="train", **load_kwargs)
    except Exception as error:  # datasets raises many types: network, missing repo, bad files
        raise SourceError(f"The data set {dataset_id!r} could not be loaded ({type(error).__name__}: {error}).") from error

    def batches() -> Iterator[pa.Table]:
        for batch in dataset.with_format("arrow").iter(batch_size=BATCH_ROWS):
            yield batch

    return dataset.num_rows, batches()

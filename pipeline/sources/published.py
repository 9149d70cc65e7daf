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

from pipeline.errors import SourceError
from pipeline.report import IssueLog

BATCH_ROWS = 100_000
REPLACEMENT_CHAR = "\ufffd"
# columns whose values are one line of text: a line break there means the CSV parser
# read on past the row's end (an unbalanced quote swallows the lines after it)
ONE_LINE_COLUMNS = (
    "model_id",
    "modelId",
    "id",
    "author",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "created_at",
)

__all__ = ["BATCH_ROWS", "csv_batches", "hf_dataset_batches", "parquet_batches"]


def parquet_batches(path: Path, log: IssueLog) -> tuple[int, Iterator[pa.Table]]:
    """(row count, batches) of a Parquet file. A row group that cannot be decoded (a corrupt
    page) is skipped and its rows counted as rejected; text that is not valid UTF-8 is
    handed on as bytes, which normalize_batch decodes with replacement."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise SourceError(f"{path} is not a readable Parquet file ({error}).") from error

    def batches() -> Iterator[pa.Table]:
        for group in range(parquet.metadata.num_row_groups):
            rows_in_group, done = parquet.metadata.row_group(group).num_rows, 0
            try:
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group]):
                    done += batch.num_rows
                    yield _valid_utf8(pa.Table.from_batches([batch]))
            except (pa.ArrowException, OSError) as error:
                log.rejected(
                    "rows in an unreadable Parquet row group (corrupt page)",
                    [f"{path.name} row group {group}: {str(error)[:120]}"],
                    count=rows_in_group - done,
                )

    return parquet.metadata.num_rows, batches()


def _valid_utf8(table: pa.Table) -> pa.Table:
    """The table with every text column (or list of text) that holds invalid UTF-8 cast to bytes."""
    for i, field in enumerate(table.schema):
        binary = _as_binary_type(field.type)
        if binary is None:
            continue
        column = table.column(i)
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:  # invalid UTF-8 in the column: handed on as bytes
            table = table.set_column(
                i,
                field.name,
                pa.chunked_array([chunk.view(binary) for chunk in column.chunks], binary),
            )
    return table


def _as_binary_type(arrow_type: pa.DataType) -> pa.DataType | None:
    """The bytes type with the layout of a text type (or a list of text), else None."""
    if pa.types.is_string(arrow_type):
        return pa.binary()
    if pa.types.is_large_string(arrow_type):
        return pa.large_binary()
    if pa.types.is_list(arrow_type) and _as_binary_type(arrow_type.value_type) is not None:
        return pa.list_(_as_binary_type(arrow_type.value_type))
    if pa.types.is_large_list(arrow_type) and _as_binary_type(arrow_type.value_type) is not None:
        return pa.large_list(_as_binary_type(arrow_type.value_type))
    return None


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
            skipped = [
                line
                for w in caught
                for line in str(w.message).splitlines()
                if line.startswith("Skipping line")
            ]
            log.rejected("CSV line with the wrong number of fields", skipped)
            chunk = chunk.drop(
                columns=[c for c in chunk.columns if c.startswith("Unnamed:") or c == ""],
                errors="ignore",
            )
            chunk = _without_swallowed_lines(chunk, path, log)
            _count_replaced_text(chunk, log)
            yield pa.Table.from_pandas(chunk, preserve_index=False)

    return None, batches()


def _without_swallowed_lines(chunk: pd.DataFrame, path: Path, log: IssueLog) -> pd.DataFrame:
    """The chunk without rows that swallowed the rows after them (an unbalanced quote made the
    parser read on into the next lines): a one-line column (an id, a name) holding a line
    break, or, in a file whose rows start with an id, a multi-line field (a card) holding a
    line that reads as a whole row of this file (an id with "/", then as many commas as the
    row has separators). Those rows are rejected and counted, with the lines they swallowed."""
    if chunk.empty:
        return chunk
    one_line = [c for c in ONE_LINE_COLUMNS if c in chunk.columns]
    spans = pd.Series(False, index=chunk.index)
    for column in one_line:
        spans |= chunk[column].str.contains("[\r\n]", regex=True, na=False)
    if chunk.columns[0] in ("model_id", "modelId", "id") and len(chunk.columns) > 2:
        row_line = rf"\n[^\n,\"/]+/[^\n,\"]+,(?:[^\n,]*,){{{len(chunk.columns) - 2}}}"
        for column in chunk.columns.difference(one_line):
            if pd.api.types.is_string_dtype(chunk[column]):
                spans |= chunk[column].str.contains(row_line, regex=True, na=False)
    if not spans.any():
        return chunk
    swallowed = [
        sum(str(v).count("\n") for v in chunk.loc[i] if isinstance(v, str))
        for i in chunk.index[spans]
    ]
    examples = [
        f"{path.name} row {i + 1}: an unbalanced quote swallowed {n} line(s)"
        for i, n in zip(chunk.index[spans], swallowed)
    ]
    log.rejected(
        "CSV row spanning several lines (an unbalanced quote?)", examples, count=int(spans.sum())
    )
    return chunk[~spans]


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
    import datasets.exceptions

    try:
        dataset = datasets.load_dataset(dataset_id, split="train", **load_kwargs)
    # a missing repo or files (DatasetsError, FileNotFoundError), the network or a file
    # that cannot be read (OSError), options the loader refuses (ValueError)
    except (datasets.exceptions.DatasetsError, OSError, ValueError) as error:
        raise SourceError(
            f"The data set {dataset_id!r} could not be loaded ({type(error).__name__}: {error})."
        ) from error

    def batches() -> Iterator[pa.Table]:
        yield from dataset.with_format("arrow").iter(batch_size=BATCH_ROWS)

    return dataset.num_rows, batches()

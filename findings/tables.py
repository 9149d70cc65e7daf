"""Columns of a build's tables as numpy arrays, and each model's set of values of one trait.

The findings accept the tables either as pyarrow Tables (the pipeline) or as pandas DataFrames
(the dashboard); both become Arrow tables here, so list columns are read without Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "TraitSets",
    "as_table",
    "bool_column",
    "number_column",
    "string_column",
    "trait_sets",
]


def as_table(frame: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(frame, pa.Table):
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def string_column(table: pa.Table, name: str) -> np.ndarray:
    """A string column as an object array, null as None."""
    return np.asarray(_column(table, name).to_numpy(zero_copy_only=False), dtype=object)


def bool_column(table: pa.Table, name: str) -> np.ndarray:
    """A bool column as a bool array, null as False."""
    return np.asarray(
        pc.fill_null(_column(table, name), False).to_numpy(zero_copy_only=False), dtype=bool
    )


def number_column(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, null as NaN."""
    values = pc.cast(_column(table, name), pa.float64())
    return np.asarray(pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False), dtype=float)


@dataclass(frozen=True)
class TraitSets:
    """The set of values each model reports for one trait, as (row, code) pairs: sorted by row,
    each pair once; ``labels[code]`` is the value. ``offsets[r]:offsets[r + 1]`` spans row r."""

    rows: np.ndarray  # int64
    codes: np.ndarray  # int64
    labels: np.ndarray  # object
    offsets: np.ndarray  # int64, n_models + 1

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def values_at(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values of ``rows`` laid out one after another: (index into rows, code) each."""
        sizes = self.sizes[rows]
        position = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
        starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
        within = np.arange(int(sizes.sum()), dtype=np.int64) - starts
        return position, self.codes[np.repeat(self.offsets[rows], sizes) + within]

    def values_of(self, row: int) -> list[str]:
        span = self.codes[self.offsets[row] : self.offsets[row + 1]]
        return [self.labels[code] for code in span]


def trait_sets(table: pa.Table, name: str) -> TraitSets:
    """Each model's values of the list or string column ``name``; empty strings and nulls are no
    value (a model with none reports nothing)."""
    column = _column(table, name)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        values = pc.list_flatten(column)
        rows = np.asarray(pc.list_parent_indices(column).to_numpy(zero_copy_only=False))
    else:
        values = column
        rows = np.arange(len(column))
    values = pc.cast(values, pa.string())
    keep = np.asarray(pc.fill_null(pc.not_equal(values, ""), False).to_numpy(zero_copy_only=False))
    encoded = pc.dictionary_encode(values.filter(pa.array(keep)))
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    labels = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    rows = rows[keep].astype(np.int64)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):  # a set: once each
        width = max(len(labels), 1)
        unique_keys = np.unique(rows * width + codes)
        rows, codes = unique_keys // width, unique_keys % width
    offsets = np.zeros(len(table) + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=len(table)), out=offsets[1:])
    return TraitSets(rows, codes, labels, offsets)

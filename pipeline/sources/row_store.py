"""The normalized rows of the last JSON Lines read, kept in the cache directory by line hash.

A Hub listing read again a day later is the same lines but for a few thousand, so
parsing and normalizing all of them again is wasted work. After each read of a
JSONL source (pipeline.sources.hub_records.read_hub_jsonl) the rows that were
read *clean* (no issue logged for their line, its record or its row) are kept
here with the xxh3-128 hash of their raw line; the next read takes each line
whose hash it finds from here and parses only the others. Lines with any issue
are parsed every time, so every count and example of the issue report comes from
lines parsed in that very read.

Layout of ``<cache dir>/source-rows/``: ``store.json`` ({"version", "code", "files"})
names Arrow IPC files (zstd) of STORE_SCHEMA: a first one, and one per later read
with the rows it added, rewritten as one file once a quarter of the rows kept are
no longer read or there are MAX_FILES. ``code`` is a hash of the modules that
decide a row, so rows normalized by other code are never taken. A store that is
unreadable, of another version or code, or of another schema is removed, with one
logged line, and the read is a fresh one. Each row also keeps the key of its embedded
text (pipeline.text), so a rebuild computes the texts of the lines it parses only.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from hfmap.atomic import atomic_file
from pipeline.schema import MODEL_SCHEMA

STORE_VERSION = 2
STORE_DIR = "source-rows"
INDEX = "store.json"
MAX_FILES = 8
MAX_UNUSED_SHARE = 0.25
# the modules whose code decides a stored row (a change to any of them empties the store)
ROW_MODULES = (
    "sources/hub_records.py",
    "sources/records.py",
    "sources/normalize.py",
    "cards.py",
    "schema.py",
    "text.py",
)

LINE_COLUMNS = pa.schema(
    [
        ("key_lo", pa.uint64()),  # xxh3-128 of the raw line, low and high 64 bits
        ("key_hi", pa.uint64()),
        ("card_field", pa.bool_()),  # whether the line's record had a card field
        ("card_context", pa.bool_()),  # whether its batch had one (a batch without drops cards)
        ("fields", pa.string()),  # the record's field names, as a JSON list
        ("text_key", pa.uint64()),  # pipeline.text.text_keys of the row's model_text
    ]
)
STORE_SCHEMA = pa.schema([*LINE_COLUMNS, *MODEL_SCHEMA])

log = logging.getLogger("hfmap.build")


def code_fingerprint() -> str:
    """A hash of the source of the modules that decide a stored row."""
    package = Path(__file__).resolve().parent.parent
    digest = xxhash.xxh3_64()
    for name in ROW_MODULES:
        digest.update((package / name).read_bytes())
    return f"{STORE_VERSION}-{digest.hexdigest()}"


def line_keys(lines: list[bytes]) -> np.ndarray:
    """(n, 2) uint64: the xxh3-128 hash of each raw line, as (low, high) halves."""
    if not lines:
        return np.zeros((0, 2), np.uint64)
    joined = b"".join(map(xxhash.xxh3_128_digest, lines))
    # the digest is big-endian: bytes 0-7 are the high half, 8-15 the low half
    return np.frombuffer(joined, dtype=">u8").reshape(-1, 2)[:, ::-1].astype(np.uint64)


class RowStore:
    """The stored rows (one Arrow table, STORE_SCHEMA) and a lookup by line key."""

    def __init__(self, directory: Path, table: pa.Table, files: list[str]) -> None:
        self.directory = directory
        self.table = table
        self.files = files
        lo = table.column("key_lo").to_numpy()
        self._index = pd.Index(lo)
        self._hi = table.column("key_hi").to_numpy()
        self._card_field = table.column("card_field").to_numpy(zero_copy_only=False)
        self._card_context = table.column("card_context").to_numpy(zero_copy_only=False)
        self._text_key = table.column("text_key").to_numpy()

    def emptied(self) -> RowStore:
        """A store with no rows in the same directory (saving it replaces this one's files)."""
        return RowStore(self.directory, STORE_SCHEMA.empty_table(), self.files)

    def unique(self) -> bool:
        """Whether no line key is stored twice (the lookup's hash table, built once for both)."""
        return self._index.is_unique

    def __len__(self) -> int:
        return self.table.num_rows

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The stored row of each line key, -1 where there is none."""
        if not len(self) or not len(keys):
            return np.full(len(keys), -1, np.int64)
        rows = self._index.get_indexer(keys[:, 0])
        rows[(rows >= 0) & (self._hi[np.maximum(rows, 0)] != keys[:, 1])] = -1
        return rows

    def card_fields(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(card_field, card_context) of stored rows."""
        return self._card_field[rows], self._card_context[rows]

    def text_keys(self, rows: np.ndarray) -> np.ndarray:
        """The text keys of stored rows."""
        return self._text_key[rows]

    def models(self, rows: np.ndarray) -> pa.Table:
        """The MODEL_SCHEMA rows stored at rows, in that order. A listing read again is mostly
        runs of lines stored one after the other: those are sliced and joined (half the work
        of a take); else taken from the slice they span (a take from the whole chunked table
        would first copy all of it)."""
        if not len(rows):
            return MODEL_SCHEMA.empty_table()
        table = self.table.select(MODEL_SCHEMA.names)
        starts = np.flatnonzero(np.r_[True, np.diff(rows) != 1])
        if len(starts) <= len(rows) // 16:
            ends = np.r_[starts[1:], len(rows)]
            runs = [
                table.slice(int(rows[start]), int(end - start)) for start, end in zip(starts, ends)
            ]
            return pa.concat_tables(runs).combine_chunks()
        first, last = int(rows.min()), int(rows.max())
        return table.slice(first, last - first + 1).take(pa.array(rows - first, pa.int64()))

    def field_names(self, rows: np.ndarray) -> set[str]:
        """The field names of the records stored at rows."""
        if not len(rows):
            return set()
        signatures = pc.unique(
            self.table.column("fields").take(pa.array(rows, pa.int64()))
        ).to_pylist()
        return {name for signature in signatures for name in json.loads(signature)}


def open_store(cache_dir: Path) -> RowStore:
    """The store of cache_dir (empty when there is none); an unusable one is removed, with one
    logged line, and an empty one returned."""
    directory = Path(cache_dir) / STORE_DIR
    empty = RowStore(directory, STORE_SCHEMA.empty_table(), [])
    if not (directory / INDEX).exists():
        return empty
    try:
        return _read_store(directory)
    # what a store that is missing files, torn, foreign or of other code raises
    except (
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
        pa.ArrowException,
        _UnusableStoreError,
    ) as error:
        log.warning(
            "the stored rows in %s are not usable (%s); reading the whole source", directory, error
        )
        shutil.rmtree(directory, ignore_errors=True)
        return empty


class _UnusableStoreError(Exception):
    """A store this code cannot take rows from (the reason is its message)."""


def _read_store(directory: Path) -> RowStore:
    """The store in directory, read and checked."""
    index = json.loads((directory / INDEX).read_text(encoding="utf-8"))
    if not isinstance(index, dict) or index.get("code") != code_fingerprint():
        raise _UnusableStoreError("it was written by another version of hfmap")
    files = index.get("files")
    if not isinstance(files, list):
        raise _UnusableStoreError("its index lists no files")
    tables = []
    for name in files:
        if not isinstance(name, str) or "/" in name or name.startswith("."):
            raise _UnusableStoreError(f"it names a file {name!r}")
        with pa.memory_map(str(directory / name)) as source:
            table = pa.ipc.open_file(source).read_all()
        if not table.schema.equals(STORE_SCHEMA):
            raise _UnusableStoreError(f"{name} has another schema")
        tables.append(table)
    rows = pa.concat_tables(tables) if tables else STORE_SCHEMA.empty_table()
    store = RowStore(directory, rows, list(files))
    if not store.unique():
        raise _UnusableStoreError("it holds a line twice")
    return store


def save_store(store: RowStore, used: np.ndarray, added: pa.Table) -> None:
    """Keep the rows a read added (STORE_SCHEMA, one per line key) beside the stored rows; rewrite
    the store as one file (the rows used by that read and the added ones) when too many stored rows
    went unused or there are too many files. A store that cannot be written is only logged."""
    directory = store.directory
    added = _unique_keys(added, store)
    is_used = np.zeros(len(store), dtype=bool)
    is_used[used] = True
    unused = len(store) - int(is_used.sum())
    compact = (
        not len(store) or unused > MAX_UNUSED_SHARE * len(store) or len(store.files) + 1 > MAX_FILES
    )
    if not compact and not added.num_rows:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if compact:
            kept = store.table.filter(pa.array(is_used))
            files = [_write_file(directory, pa.concat_tables([kept, added]))]
        else:
            files = [*store.files, _write_file(directory, added)]
        _write_index(directory, files)
        for name in set(store.files) - set(files):
            (directory / name).unlink(missing_ok=True)
    except OSError as error:
        log.warning("the rows read could not be kept in %s (%s)", directory, error)


def _unique_keys(added: pa.Table, store: RowStore) -> pa.Table:
    """added without lines seen earlier in it (a listing may hold a line twice) or in the store
    (a line whose low key half is that of another line is left out too: it is only parsed again)."""
    keys = np.column_stack([added.column("key_lo").to_numpy(), added.column("key_hi").to_numpy()])
    first = ~pd.Index(keys[:, 0]).duplicated() & (store.find(keys) < 0)
    return added if first.all() else added.filter(pa.array(first))


def _write_file(directory: Path, table: pa.Table) -> str:
    """table as a new Arrow IPC file (zstd) of the store; its name."""
    name = f"rows-{xxhash.xxh3_64_hexdigest(os.urandom(16))}.arrow"
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with (
        atomic_file(directory / name) as partial,
        pa.OSFile(str(partial), "wb") as sink,
        pa.ipc.new_file(sink, STORE_SCHEMA, options=options) as writer,
    ):
        writer.write_table(table.cast(STORE_SCHEMA), max_chunksize=100_000)
    return name


def _write_index(directory: Path, files: list[str]) -> None:
    index = {"version": STORE_VERSION, "code": code_fingerprint(), "files": files}
    with atomic_file(directory / INDEX) as partial:
        partial.write_text(json.dumps(index))

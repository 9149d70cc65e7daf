"""Reader for JSON Lines of Hub API model records (dataset-schema.md §2).

One JSON object per line, as `GET /api/models` / `HfApi.list_models(full=True)`
return them, optionally with the card text in a `card` field (what the tracker
writes). Each record's cells are checked (pipeline.sources.records) and mapped
onto the published schema; lineage, licenses and languages then come from their
tags. Lines that are not JSON objects are rejected and counted; fields hfmap
does not read are named in the report. Lines are parsed by orjson (strict JSON);
the few it refuses are read again by Python's json, which decides and counts.
"""

from __future__ import annotations

import gc
import gzip
import json
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.report import IssueLog
from pipeline.sources.normalize import normalize_rows, repair_surrogates
from pipeline.sources.published import BATCH_ROWS
from pipeline.sources.records import READ_FIELDS, parse_json, record_to_row, rows_table
from pipeline.sources.row_store import LINE_COLUMNS, STORE_SCHEMA, RowStore, line_keys
from pipeline.text import table_text, text_keys

# a JSON escape of a UTF-16 surrogate (half of a character outside the BMP, or a lone one)
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
NOT_JSON = object()  # a line that holds no JSON value
# the file is read, split into lines, hashed and looked up by blocks of this size
BLOCK_BYTES = 1 << 23


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


class CyclicGcPause:
    """Python's cyclic garbage collector paused while records are parsed: they hold no reference
    cycles (reference counting frees them), but each collection would rescan every live
    record, which was half of the 760k-record listing's read time. `resumed()` lets it run
    again while the caller holds a batch."""

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()

    @contextmanager
    def resumed(self):
        if self.was_enabled:
            gc.enable()
        try:
            yield
        finally:
            gc.disable()


def _lenient_record(raw: bytes, number: int, log: IssueLog) -> tuple[object, bool]:
    """(record, may hold surrogates) of a line orjson refused, read by Python's json: invalid
    UTF-8 replaced, NaN accepted, integers of any length; NOT_JSON (counted) when it is no JSON."""
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text and "\ufffd".encode() not in raw:
        log.repaired("invalid UTF-8 replaced", [f"line {number}"])
    try:
        return parse_json(text), SURROGATE_ESCAPE.search(raw) is not None
    except json.JSONDecodeError as error:
        log.rejected("line is not valid JSON", [f"line {number}: {error.msg}"])
    except (ValueError, RecursionError):  # parse_json's other refusals: too long or too deep
        log.rejected(
            "line is not usable JSON (nested too deeply or a number too long)", [f"line {number}"]
        )
    return NOT_JSON, False


def _batch(rows: list[dict], has_card_field: bool) -> pa.Table:
    """A batch of checked rows; without a card column when no record had a card field (the
    API's listing has none), so cards are unknown there rather than absent."""
    table = rows_table(rows)
    return table if has_card_field else table.drop_columns(["modelCard"])


def _open_blocks(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines without their newline) of a JSONL file, gzip or not, a
    block of about BLOCK_BYTES at a time: opened now, read as iterated; SourceError when it
    cannot be opened or read to its end."""
    try:
        handle = _open(path)
    except OSError as error:
        raise SourceError(f"{path} could not be opened ({error}).") from error

    def blocks() -> Iterator[tuple[int, list[bytes]]]:
        with handle:
            number, rest = 1, b""
            try:
                while block := handle.read(BLOCK_BYTES):
                    lines = (rest + block).split(b"\n")
                    rest = lines.pop()
                    yield number, lines
                    number += len(lines)
            except (OSError, EOFError, zlib.error) as error:
                raise SourceError(
                    f"{path} could not be read past line {number - 1:,} ({error})."
                ) from error
            if rest:
                yield number, [rest]

    return blocks()


def _open_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of a JSONL file (_open_blocks, line by line)."""
    blocks = _open_blocks(path)
    return ((first + i, raw) for first, lines in blocks for i, raw in enumerate(lines))


def _record(raw: bytes, number: int, log) -> tuple[object, bool]:
    """(record, may hold surrogates) of a line; NOT_JSON (counted) when it holds no JSON object."""
    try:  # orjson: strict JSON, valid UTF-8, no lone surrogate, at most 1,024 levels deep
        record, surrogates = orjson.loads(raw), False
    except orjson.JSONDecodeError:  # anything else: Python's parser decides, and counts
        record, surrogates = _lenient_record(raw, number, log)
        if record is NOT_JSON:
            return NOT_JSON, False
    if not isinstance(record, dict):
        log.rejected("line is not a JSON object", [f"line {number}"])
        return NOT_JSON, False
    return record, surrogates


def _note_fields(fields: set[str], log: IssueLog) -> None:
    fields = {repair_surrogates(name)[0] for name in fields}
    log.source_columns(sorted(fields & READ_FIELDS), sorted(fields - READ_FIELDS))


def hub_jsonl_batches(path: Path, log: IssueLog) -> tuple[None, Iterator[pa.Table]]:
    """(unknown row count, batches) of a Hub-API JSONL file."""
    lines = _open_lines(path)

    def batches() -> Iterator[pa.Table]:
        with CyclicGcPause() as gc_pause:
            yield from _parsed_batches(gc_pause)

    def _parsed_batches(gc_pause) -> Iterator[pa.Table]:
        rows: list[dict] = []
        fields: set[str] = set()
        has_card_field = False  # whether a record of the batch says anything about its card
        for number, raw in lines:
            if not raw.strip():
                continue
            record, surrogates = _record(raw, number, log)
            if record is NOT_JSON:
                continue
            fields.update(record)
            has_card_field |= "card" in record or "modelCard" in record
            row = record_to_row(record, log, f"line {number}", surrogates=surrogates)
            if row is None:
                continue
            rows.append(row)
            if len(rows) >= BATCH_ROWS:
                batch = _batch(rows, has_card_field)
                rows, has_card_field = [], False
                with gc_pause.resumed():  # what the caller does with the batch may well make cycles
                    yield batch
        if rows:
            batch = _batch(rows, has_card_field)
            with gc_pause.resumed():
                yield batch
        _note_fields(fields, log)

    return None, batches()


# --- reading with the row store -----------------------------------------------------------------


class StoreMismatchError(Exception):
    """A stored row was normalized in a batch with card fields and is now in one without, or
    the other way round: the read must be a fresh one."""


class _CountingLog:
    """The IssueLog as the line parsers and record_to_row use it, counting the issues logged
    (so a reader can tell whether a line had one)."""

    def __init__(self, log: IssueLog) -> None:
        self.log = log
        self.calls = 0

    def rejected(self, *args, **kwargs) -> None:
        self.calls += 1
        self.log.rejected(*args, **kwargs)

    def repaired(self, *args, **kwargs) -> None:
        self.calls += 1
        self.log.repaired(*args, **kwargs)


@dataclass
class _Batch:
    """A batch as hub_jsonl_batches cuts it (BATCH_ROWS rows with an id that is text), of rows
    taken from the store and rows parsed now, each with its position in the batch."""

    size: int = 0
    has_card_field: bool = False
    stored_at: list[np.ndarray] = field(default_factory=list)
    stored_rows: list[np.ndarray] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # parsed rows (in the positions not stored)
    lines: list[int] = field(default_factory=list)  # the line index (0..) of each parsed row
    signatures: list[str] = field(default_factory=list)  # its record's field names
    carded: list[int] = field(default_factory=list)  # the parsed rows whose record had a card field
    with_issues: list[int] = field(default_factory=list)  # those an issue was logged for


def read_hub_jsonl(
    path: Path, log: IssueLog, store: RowStore, progress=None
) -> tuple[pa.Table, np.ndarray, pa.Table, np.ndarray, list[str | None]]:
    """The normalized rows (MODEL_SCHEMA, in source order, duplicate ids kept) of a Hub-API JSONL
    file, as normalizing hub_jsonl_batches' batches gives them and with the same issues logged:
    each line whose hash the store holds is taken from it, the others parsed. Also returns the
    store rows taken, the rows to add to the store (LINE_COLUMNS + MODEL_SCHEMA: the parsed
    ones with no issue), each row's text key (pipeline.text) and the texts of the rows parsed
    (None for rows taken from the store). progress(n) is called with the rows of each batch.
    Raises StoreMismatchError."""
    counting = _CountingLog(log)
    signatures: dict[tuple, str] = {}
    parts, added, taken, key_chunks, text_key_parts, texts = [], [], [], [], [], []
    batch, line_index_base = _Batch(), 0

    def finish(batch: _Batch) -> _Batch:
        keys = np.concatenate(key_chunks) if key_chunks else np.zeros((0, 2), np.uint64)
        parsed = rows_table(batch.rows) if batch.rows else None
        batch.rows = None  # free the records before the collector runs again
        with gc_pause.resumed():
            part, new_rows, part_keys, part_texts = _normalized_batch(
                batch, parsed, store, log, keys
            )
        parts.append(part)
        text_key_parts.append(part_keys)
        texts.extend(part_texts)
        added.append(new_rows)
        taken.extend(batch.stored_rows)
        if progress:
            progress(batch.size)
        return _Batch()

    def take_stored(batch: _Batch, rows: np.ndarray) -> _Batch:
        """Stored rows into the batch, a new batch begun each time one is full."""
        while len(rows):
            room = BATCH_ROWS - batch.size
            batch.stored_at.append(np.arange(batch.size, batch.size + min(room, len(rows))))
            batch.stored_rows.append(rows[:room])
            batch.size += len(batch.stored_rows[-1])
            rows = rows[room:]
            if batch.size >= BATCH_ROWS:
                batch = finish(batch)
        return batch

    def parse(batch: _Batch, raw: bytes, number: int, line_index: int) -> None:
        """A line not in the store into the batch as a row to normalize (if it is one)."""
        if not raw.strip():
            return
        calls = counting.calls
        record, surrogates = _record(raw, number, counting)
        if record is NOT_JSON:
            return
        names = tuple(record)
        signature = signatures.get(names) or signatures.setdefault(names, json.dumps(names))
        card_field = "card" in record or "modelCard" in record
        batch.has_card_field |= card_field
        row = record_to_row(record, counting, f"line {number}", surrogates=surrogates)
        if row is None:
            return
        if card_field:
            batch.carded.append(len(batch.rows))
        if counting.calls != calls:
            batch.with_issues.append(len(batch.rows))
        batch.rows.append(row)
        batch.lines.append(line_index)
        batch.signatures.append(signature)
        batch.size += 1

    with CyclicGcPause() as gc_pause:
        for first, lines in _open_blocks(path):
            keys = line_keys(lines)
            key_chunks.append(keys)
            stored = store.find(keys)
            start = 0
            for miss in np.flatnonzero(stored < 0).tolist():
                if miss > start:
                    batch = take_stored(batch, stored[start:miss])
                start = miss + 1
                parse(batch, lines[miss], first + miss, line_index_base + miss)
                if batch.size >= BATCH_ROWS:
                    batch = finish(batch)
            batch = take_stored(batch, stored[start:])
            line_index_base += len(lines)
        if batch.size:
            finish(batch)
    taken = np.concatenate(taken) if taken else np.zeros(0, np.int64)
    fields = {name for names in signatures for name in names} | store.field_names(taken)
    _note_fields(fields, log)
    table = pa.concat_tables(parts) if parts else None
    keys = np.concatenate([np.zeros(0, np.uint64), *text_key_parts])
    return (
        table,
        taken,
        pa.concat_tables(added) if added else STORE_SCHEMA.empty_table(),
        keys,
        texts,
    )


def _normalized_batch(
    batch: _Batch, parsed: pa.Table | None, store: RowStore, log: IssueLog, keys: np.ndarray
) -> tuple[pa.Table, pa.Table, np.ndarray, list[str | None]]:
    """(the batch's rows in MODEL_SCHEMA in their order, its parsed rows with no issue to store,
    the text key of each row, the text of each parsed row (None for stored rows)); parsed: its
    parsed rows (rows_table), None when it has none."""
    stored_rows = np.concatenate([np.zeros(0, np.int64), *batch.stored_rows])
    card_field, card_context = store.card_fields(stored_rows)
    has_card_field = batch.has_card_field or bool(card_field.any())
    if (card_context != has_card_field).any():
        raise StoreMismatchError
    pieces, positions = (
        [store.models(stored_rows)],
        [np.concatenate([np.zeros(0, np.int64), *batch.stored_at])],
    )
    added = STORE_SCHEMA.empty_table()
    row_text_keys, texts = [store.text_keys(stored_rows)], [None] * len(stored_rows)
    if parsed is not None:
        is_stored = np.zeros(batch.size, dtype=bool)
        is_stored[positions[0]] = True
        numbers = np.flatnonzero(~is_stored)  # the parsed rows' positions in the batch
        parsed = parsed if has_card_field else parsed.drop_columns(["modelCard"])
        normalized, kept, flagged = normalize_rows(parsed, log, row_numbers=numbers)
        pieces.append(normalized)
        positions.append(numbers[kept])
        parsed_texts = table_text(normalized)
        parsed_keys = text_keys(parsed_texts)
        row_text_keys.append(parsed_keys)
        texts.extend(parsed_texts)
        clean = ~flagged
        clean[batch.with_issues] = False
        carded = np.zeros(parsed.num_rows, dtype=bool)
        carded[batch.carded] = True
        keep = clean & kept
        line_keys_ = keys[np.asarray(batch.lines, np.int64)[keep]]
        lines = pa.table(
            {
                "key_lo": line_keys_[:, 0],
                "key_hi": line_keys_[:, 1],
                "card_field": carded[keep],
                "card_context": np.full(int(keep.sum()), has_card_field),
                "fields": pa.array(batch.signatures, pa.string()).filter(pa.array(keep)),
                "text_key": parsed_keys[clean[kept]],
            },
            schema=LINE_COLUMNS,
        )
        mask = pa.array(clean[kept])
        added = pa.Table.from_arrays(
            [*lines.columns, *normalized.filter(mask).columns], schema=STORE_SCHEMA
        )
    positions = np.concatenate(positions)
    table = pa.concat_tables(pieces)
    row_text_keys = np.concatenate(row_text_keys)
    if len(positions) and (np.diff(positions) < 0).any():
        order = np.argsort(positions, kind="stable")
        table = table.take(pa.array(order))
        row_text_keys = row_text_keys[order]
        texts = [texts[i] for i in order.tolist()]
    return table, added, row_text_keys, texts

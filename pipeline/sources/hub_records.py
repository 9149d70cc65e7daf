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
from pathlib import Path

import orjson
import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.report import IssueLog
from pipeline.sources.published import BATCH_ROWS
from pipeline.sources.normalize import repair_surrogates
from pipeline.sources.records import READ_FIELDS, parse_json, record_to_row, rows_table

# a JSON escape of a UTF-16 surrogate (half of a character outside the BMP, or a lone one)
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
NOT_JSON = object()  # a line that holds no JSON value


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
    except (ValueError, RecursionError):
        log.rejected("line is not usable JSON (nested too deeply or a number too long)", [f"line {number}"])
    return NOT_JSON, False


def _batch(rows: list[dict], has_card_field: bool) -> pa.Table:
    """A batch of checked rows; without a card column when no record had a card field (the
    API's listing has none), so cards are unknown there rather than absent."""
    table = rows_table(rows)
    return table if has_card_field else table.drop_columns(["modelCard"])


def hub_jsonl_batches(path: Path, log: IssueLog) -> tuple[None, Iterator[pa.Table]]:
    """(unknown row count, batches) of a Hub-API JSONL file."""
    try:
        handle = _open(path)
    except OSError as error:
        raise SourceError(f"{path} could not be opened ({error}).") from error

    def lines() -> Iterator[tuple[int, bytes]]:
        with handle:
            number = 0
            try:
                for number, raw in enumerate(handle, start=1):
                    yield number, raw
            except (OSError, EOFError, zlib.error) as error:
                raise SourceError(f"{path} could not be read past line {number:,} ({error}).") from error

    def batches() -> Iterator[pa.Table]:
        with CyclicGcPause() as gc_pause:
            yield from _parsed_batches(gc_pause)

    def _parsed_batches(gc_pause) -> Iterator[pa.Table]:
        rows: list[dict] = []
        fields: set[str] = set()
        has_card_field = False  # whether a record of the batch says anything about its card
        for number, raw in lines():
            if not raw.strip():
                continue
            try:  # orjson: strict JSON, valid UTF-8, no lone surrogate, at most 1,024 levels deep
                record, surrogates = orjson.loads(raw), False
            except orjson.JSONDecodeError:  # anything else: Python's parser decides, and counts
                record, surrogates = _lenient_record(raw, number, log)
                if record is NOT_JSON:
                    continue
            if not isinstance(record, dict):
                log.rejected("line is not a JSON object", [f"line {number}"])
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
        fields = {repair_surrogates(name)[0] for name in fields}
        log.source_columns(sorted(fields & READ_FIELDS), sorted(fields - READ_FIELDS))

    return None, batches()

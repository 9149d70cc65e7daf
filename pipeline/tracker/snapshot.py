"""One snapshot: take the lock, list and count every model of the Hub, record the outcome.

A run either records the exact totals (a success row) or, when anything goes wrong — the Hub
unreachable, 429/5xx after retries, a page that is not JSON, a repeated cursor, the run over
HFMAP_TRACK_TIMEOUT — a failure row with the reason and no counts. The optional JSONL copy
of the listing appears only when the run succeeds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import redis
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from tqdm.auto import tqdm

from pipeline.config import Settings
from pipeline.tracker.history import History
from pipeline.tracker.hub import Counts, ListingError, count_models, jsonl_record, list_models, use_request_timeout
from pipeline.tracker.lock import LockHeld, snapshot_lock

log = logging.getLogger("hfmap.tracker")


@dataclass
class Outcome:
    """What a run did: "ok" (a snapshot stored), "failed" (a failure stored) or "skipped" (no run:
    another tracker held the lock)."""

    status: str
    snapshot_id: int | None = None
    total_models: int | None = None
    error: str | None = None
    seconds: float = 0.0


def take_snapshot(settings: Settings, jsonl: Path | None = None, progress: bool = False) -> Outcome:
    """Take one snapshot of the Hub at settings.hf_endpoint into settings.tracker_db."""
    history = History(settings.tracker_db)
    started = time.monotonic()
    try:
        with snapshot_lock(settings.redis_url, settings.tracker_db):
            log.info("snapshot of %s started", settings.hf_endpoint)
            counts = Counts()
            try:
                listed = run_listing(settings, counts, jsonl, progress, history)
            except Exception as error:  # every way a listing can end early is a failed run, never a count
                reason = describe(error, settings, counts)
                return failed(history, settings, reason, started)
            seconds = time.monotonic() - started
            snapshot_id = history.record_success(listed.total, dict(listed.by_library), dict(listed.by_pipeline),
                                                 listed.top_authors(settings.top_authors), seconds, settings.hf_endpoint)
            log.info("snapshot %d: %s models in %.1f s", snapshot_id, f"{listed.total:,}", seconds)
            return Outcome("ok", snapshot_id, listed.total, seconds=seconds)
    except LockHeld as error:
        log.info("no snapshot taken: %s", error)
        return Outcome("skipped", error=str(error), seconds=time.monotonic() - started)
    except redis.RedisError as error:
        return failed(history, settings, f"cannot reach Redis for the snapshot lock ({error})", started)


def failed(history: History, settings: Settings, reason: str, started: float) -> Outcome:
    seconds = time.monotonic() - started
    snapshot_id = history.record_failure(reason, seconds, settings.hf_endpoint)
    log.warning("snapshot %d failed after %.1f s: %s", snapshot_id, seconds, reason)
    return Outcome("failed", snapshot_id, error=reason, seconds=seconds)


def run_listing(settings: Settings, counts: Counts, jsonl: Path | None, progress: bool, history: History) -> Counts:
    """List and count in a worker thread, so the whole run can be given up after track_timeout
    whatever a request is doing (the thread is a daemon: it never holds the process)."""
    result: dict = {}

    def work() -> None:
        try:
            result["counts"] = list_and_count(settings, counts, jsonl, progress, history)
        except BaseException as error:  # handed to the waiting thread
            result["error"] = error

    worker = threading.Thread(target=work, name="hfmap-listing", daemon=True)
    worker.start()
    worker.join(settings.track_timeout)
    if worker.is_alive():
        raise TimeoutError(f"the snapshot took longer than {settings.track_timeout:g} s (HFMAP_TRACK_TIMEOUT)")
    if "error" in result:
        raise result["error"]
    return result["counts"]


def list_and_count(settings: Settings, counts: Counts, jsonl: Path | None, progress: bool, history: History) -> Counts:
    use_request_timeout(settings.hub_timeout)
    previous = history.latest() if history.exists() else None
    models = tqdm(list_models(settings.hf_endpoint, settings.hf_token, full=jsonl is not None), desc="listing the Hub",
                  unit=" models", total=previous.total_models if previous else None, disable=not progress, mininterval=2)
    if jsonl is None:
        return count_models(models, into=counts)
    partial = jsonl.with_name(f".{jsonl.name}.partial")
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(partial, "w", encoding="utf-8") as out:
            count_models(models, into=counts, on_model=lambda model: out.write(jsonl_record(model) + "\n"))
        os.replace(partial, jsonl)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def describe(error: BaseException, settings: Settings, counts: Counts) -> str:
    """One sentence saying why a listing ended early."""
    after = f" after {counts.total:,} models"
    if isinstance(error, (ListingError, TimeoutError, OfflineModeIsEnabled)):
        return str(error)
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return f"the Hub answered HTTP {error.response.status_code} for {error.response.url}{after} (after retries)"
    if isinstance(error, json.JSONDecodeError):
        return f"the Hub sent a page that is not valid JSON{after} ({error.msg})"
    if isinstance(error, httpx2.TimeoutException):
        return f"a Hub request took longer than {settings.hub_timeout:g} s{after} (after retries)"
    if isinstance(error, httpx2.TransportError):
        return f"cannot reach {settings.hf_endpoint}{after} ({type(error).__name__}: {error})"
    return f"{type(error).__name__}{after}: {error}"

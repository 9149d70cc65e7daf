"""One snapshot: take the lock, list and count every model of the Hub, record the outcome.

A run either records the exact totals (a success row) or, when anything goes wrong — the Hub
unreachable, 429/5xx after retries, a page that is not a JSON list, too large or too slow, a next
link off HF_ENDPOINT's origin, a repeated cursor, the run over HFMAP_TRACK_TIMEOUT, or a listing
that collapsed (fewer than COLLAPSE_FRACTION of the models of the endpoint's last success) — a
failure row with the reason and no counts. The optional JSONL copy of the listing is written to
a hidden temporary file beside it and renamed into place only when the run succeeds; a failed
run removes it and leaves an earlier copy untouched.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from huggingface_hub import close_session
from huggingface_hub.errors import OfflineModeIsEnabled
from tqdm.auto import tqdm

from pipeline.config import Settings
from tracker.due import is_due, snapshot_started
from tracker.history import History, Snapshot
from tracker.hub import Counts, Limits, ListingError, count_models, jsonl_record, list_models, shown
from tracker.lock import LockHeldError, holding, snapshot_lock

log = logging.getLogger("hfmap.tracker")

COLLAPSE_FRACTION = (
    0.5  # a listing with fewer models than this share of the last success is a failure
)
# seconds past the run's deadline (and one read timeout) before the listing thread is left behind
ABANDON_AFTER = 5.0


@dataclass
class Outcome:
    """What a run did: "ok" (a snapshot stored), "failed" (a failure stored), "skipped" (no run:
    another tracker held the lock) or "not due" (no run: the last one began less than an interval
    ago)."""

    status: str
    snapshot_id: int | None = None
    total_models: int | None = None
    error: str | None = None
    seconds: float = 0.0


def take_snapshot(
    settings: Settings,
    jsonl: Path | None = None,
    progress: bool = False,
    if_due: float | None = None,
) -> Outcome:
    """Take one snapshot of the Hub at settings.hf_endpoint into settings.tracker_db; with if_due
    (an interval in seconds), only when the last run, by any tracker, began an interval ago or more
    (checked under the lock, so trackers scheduled side by side take one snapshot per interval)."""
    history = History(settings.tracker_db)
    started = time.monotonic()
    try:
        with snapshot_lock(settings.redis_url, settings.tracker_db):
            if if_due is not None and not is_due(snapshot_started(history), if_due):
                log.info("no snapshot taken: the last run began less than %g s ago", if_due)
                return Outcome("not due", seconds=time.monotonic() - started)
            with holding(history, "snapshot"):
                return listed_and_recorded(settings, history, jsonl, progress, started)
    except LockHeldError as error:
        log.info("no snapshot taken: %s", error)
        return Outcome("skipped", error=str(error), seconds=time.monotonic() - started)
    except redis.RedisError as error:
        return failed(
            history, settings, f"cannot reach Redis for the snapshot lock ({error})", started
        )


def listed_and_recorded(
    settings: Settings, history: History, jsonl: Path | None, progress: bool, started: float
) -> Outcome:
    """The run itself, under the lock: list, count, refuse a collapse, record the outcome."""
    log.info("snapshot of %s started", settings.hf_endpoint)
    previous = history.latest(ok=True, endpoint=settings.hf_endpoint)
    counts = Counts()
    partial = jsonl.with_name(f".{jsonl.name}.partial") if jsonl is not None else None
    try:
        listed = run_listing(settings, counts, partial, progress, previous, started)
        refuse_collapse(listed, previous)
        if partial is not None:
            os.replace(partial, jsonl)
    except Exception as error:  # every way a listing can end early is a failed run, never a count
        return failed(history, settings, describe(error, counts), started)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    snapshot_id = history.record_success(
        listed.total,
        dict(listed.by_library),
        dict(listed.by_pipeline),
        listed.top_authors(settings.top_authors),
        seconds,
        settings.hf_endpoint,
    )
    log.info("snapshot %d: %s models in %.1f s", snapshot_id, f"{listed.total:,}", seconds)
    return Outcome("ok", snapshot_id, listed.total, seconds=seconds)


def failed(history: History, settings: Settings, reason: str, started: float) -> Outcome:
    seconds = time.monotonic() - started
    snapshot_id = history.record_failure(reason, seconds, settings.hf_endpoint)
    log.warning("snapshot %d failed after %.1f s: %s", snapshot_id, seconds, reason)
    return Outcome("failed", snapshot_id, error=reason, seconds=seconds)


def run_listing(
    settings: Settings,
    counts: Counts,
    partial: Path | None,
    progress: bool,
    previous: Snapshot | None,
    started: float,
) -> Counts:
    """List and count in a worker thread. The listing ends itself by the run's deadline (every
    request is held to it); should it still run ABANDON_AFTER seconds past that and a read timeout
    (stuck where no timeout reaches, such as a name lookup), it is left behind (a daemon thread
    never holds the process) and its client closed."""
    limits = Limits(settings.hub_timeout, settings.track_timeout, started + settings.track_timeout)
    result: dict = {}

    def work() -> None:
        try:
            result["counts"] = list_and_count(settings, limits, counts, partial, progress, previous)
        except BaseException as error:  # handed to the waiting thread
            result["error"] = error

    worker = threading.Thread(target=work, name="hfmap-listing", daemon=True)
    worker.start()
    worker.join(
        max(0.0, limits.run_deadline - time.monotonic()) + settings.hub_timeout + ABANDON_AFTER
    )
    if worker.is_alive():
        close_session()
        raise limits.run_over()
    if "error" in result:
        raise result["error"]
    return result["counts"]


def list_and_count(
    settings: Settings,
    limits: Limits,
    counts: Counts,
    partial: Path | None,
    progress: bool,
    previous: Snapshot | None,
) -> Counts:
    models = tqdm(
        list_models(settings.hf_endpoint, settings.hf_token, limits, full=partial is not None),
        desc="listing the Hub",
        unit=" models",
        total=previous.total_models if previous else None,
        disable=not progress,
        mininterval=2,
    )
    if partial is None:
        return count_models(models, into=counts)
    partial.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "w", encoding="utf-8") as out:
        count_models(
            models, into=counts, on_model=lambda model: out.write(jsonl_record(model) + "\n")
        )
    return counts


def refuse_collapse(listed: Counts, previous: Snapshot | None) -> None:
    """A listing that ends with fewer than COLLAPSE_FRACTION of the models of the endpoint's last
    success is taken for a broken listing (an empty page, a lost cursor), never for a count."""
    if previous is not None and listed.total < COLLAPSE_FRACTION * previous.total_models:
        raise ListingError(
            "the listing ended",
            f"fewer than {COLLAPSE_FRACTION:.0%} of the {previous.total_models:,} "
            f"models of the last successful snapshot, {previous.taken_at}; a drop "
            "that large is taken for a broken listing and not stored as a count",
        )


def describe(error: BaseException, counts: Counts) -> str:
    """One sentence saying why a listing ended early, with text from the Hub made printable."""
    after = f" after {counts.total:,} models"
    if isinstance(error, ListingError):
        reason = error.what + after + (f" ({error.detail})" if error.detail else "")
    elif isinstance(error, OfflineModeIsEnabled):
        reason = str(error)
    else:
        reason = f"{type(error).__name__}{after}: {error}"
    return shown(reason, limit=2000)

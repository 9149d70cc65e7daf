"""`hfmap refresh`: the map follows the Hub. The tracker's full listing becomes a new build.

One refresh at a time across processes and replicas: the run takes the refresh job's lock (the
Redis lock with REDIS_URL, else a file lock beside the history), says in the history that it
holds it, and, with ``if_due``, first checks again that the last refresh by anyone began an
interval ago or more. It then builds from the listing into the builds directory (incremental
when the current build can be carried forward: pipeline/incremental.py) and records the
refresh in the tracker's history: when, the build it made current, its models, the models it
added and removed, or why it failed. A listing whose content did not change since the last
refresh that made the current build is not built again (recorded as "unchanged"). A failed
build changes nothing: the current build stays current and keeps being served.

It lives in hfmap/ because it joins two parts that do not import each other: the pipeline
(the build) and the tracker (its lock and history).
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import redis
from rich.console import Console

from pipeline.build_format import POINTER, BuildFormatError, open_build
from pipeline.config import Settings
from pipeline.errors import UserError
from pipeline.terminal import printable
from tracker.due import is_due, refresh_started
from tracker.history import History, utc_now
from tracker.lock import LockHeldError, holding, job_lock

log = logging.getLogger("hfmap.refresh")

JOB = "refresh"
REASON_CHARS = 2000


@dataclass
class RefreshOutcome:
    """What a refresh did: "ok" (a new build is current), "unchanged" (the listing had not
    changed), "failed" (recorded with its reason), "skipped" (another process was refreshing) or
    "not due" (the last refresh began less than an interval ago)."""

    status: str
    build_id: str | None = None
    models: int | None = None
    added: int | None = None
    removed: int | None = None
    mode: str | None = None
    error: str | None = None
    seconds: float = 0.0


def listing_sha256(listing: Path) -> str:
    digest = hashlib.sha256()
    with open(listing, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_ids(build: Path) -> set[str]:
    """The ids of a build's models."""
    table = pq.read_table(open_build(build).table("models"), columns=["model_id"])
    return set(table.column("model_id").to_pylist())


def current_build(out: Path) -> Path | None:
    """The builds directory's current build, None when there is none (or it cannot be read)."""
    if not (out / POINTER).is_file():
        return None
    try:
        return open_build(out).path
    except BuildFormatError as error:
        log.warning(
            "the current build cannot be read (%s); the refresh counts every model as added", error
        )
        return None


def failure_reason(error: BaseException) -> str:
    """One sentence: a user's mistake as its own sentence, anything else named as a bug."""
    if isinstance(error, UserError):
        reason = str(error)
    else:
        reason = f"the build failed with a bug in hfmap ({type(error).__name__}: {error})"
    reason = printable(reason)
    return reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS] + "…"


def run_refresh(
    settings: Settings,
    listing: Path,
    out: Path,
    embedder: str = "auto",
    if_due: float | None = None,
) -> RefreshOutcome:
    """Build the map from the tracker's listing into the builds directory ``out``, and record it."""
    history = History(settings.tracker_db)
    started = time.monotonic()
    if not listing.is_file():
        raise UserError(
            f"{printable(listing)} holds no listing yet: the tracker writes it "
            "(`hfmap track --once --jsonl FILE`, or the dashboard's snapshot job)."
        )
    try:
        with job_lock(JOB, settings.redis_url, settings.tracker_db):
            if if_due is not None and not is_due(refresh_started(history), if_due):
                return RefreshOutcome("not due", seconds=time.monotonic() - started)
            with holding(history, JOB):
                outcome = refreshed(settings, history, listing, out, embedder)
    except LockHeldError as error:
        log.info("no refresh: %s", error)
        return RefreshOutcome("skipped", error=str(error), seconds=time.monotonic() - started)
    except redis.RedisError as error:
        reason = f"cannot reach Redis for the refresh lock ({error})"
        history.record_refresh(utc_now(), "failed", str(listing), error=printable(reason))
        outcome = RefreshOutcome("failed", error=reason)
    outcome.seconds = time.monotonic() - started
    return outcome


def refreshed(
    settings: Settings, history: History, listing: Path, out: Path, embedder: str
) -> RefreshOutcome:
    """The refresh itself, under the lock."""
    started_at = utc_now()
    digest = listing_sha256(listing)
    previous = current_build(out)
    last = history.latest_refresh("ok")
    if (
        last
        and last.listing_sha256 == digest
        and previous is not None
        and previous.name == last.build_id
    ):
        history.record_refresh(started_at, "unchanged", str(listing), digest)
        log.info(
            "refresh: the listing is unchanged since build %s; nothing to build", last.build_id
        )
        return RefreshOutcome("unchanged", build_id=last.build_id)
    from pipeline.build import BuildOptions, run_build  # the build's libraries, only to build

    options = BuildOptions(
        source=str(listing),
        out_dir=out,
        embedder=embedder,
        model_path=settings.minilm_path,
        minilm_max_rows=settings.minilm_max_rows,
        cache_dir=settings.cache_dir,
        keep_builds=settings.keep_builds,
        progress=False,
        cluster=settings.dask_scheduler,
        precision=settings.minilm_precision,
        device=settings.minilm_device,
    )
    try:
        before = model_ids(previous) if previous is not None else set()
        result = run_build(options, console=Console(stderr=True, quiet=True))
        after = model_ids(result.path)
    except Exception as error:  # the current build stays current: recorded as a failed refresh
        reason = failure_reason(error)
        if not isinstance(error, UserError):
            log.error("refresh failed:\n%s", "".join(traceback.format_exception(error)))
        history.record_refresh(started_at, "failed", str(listing), digest, error=reason)
        log.warning("refresh failed: %s", reason)
        return RefreshOutcome("failed", error=reason)
    outcome = RefreshOutcome(
        "ok",
        build_id=result.manifest.build_id,
        models=len(after),
        added=len(after - before),
        removed=len(before - after),
        mode=result.manifest.mode,
    )
    history.record_refresh(
        started_at,
        "ok",
        str(listing),
        digest,
        outcome.build_id,
        outcome.models,
        outcome.added,
        outcome.removed,
        outcome.mode,
    )
    log.info(
        "refresh: build %s (%s) is current: %s models, %s added, %s removed",
        outcome.build_id,
        outcome.mode,
        f"{outcome.models:,}",
        f"{outcome.added:,}",
        f"{outcome.removed:,}",
    )
    return outcome

"""One snapshot at a time, however many trackers run: a Redis lock with an expiry.

The lock expires after LOCK_SECONDS unless its holder extends it, which a keeper thread does
while the snapshot runs, so a tracker that dies frees it within LOCK_SECONDS. Without a
REDIS_URL the trackers of one machine share a file lock beside the history instead.

Each scheduled job has its own lock ("snapshot": one snapshot at a time; "refresh": one refresh
of the map at a time). Whoever holds a job's lock says so in the history (``holding``): its
host:pid, since when, and a sign of life every HEARTBEAT_SECONDS, which every process can read.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import redis

from tracker.history import History

log = logging.getLogger("hfmap.tracker")

LOCK_NAME = "hfmap:tracker:snapshot"
LOCK_SECONDS = 300.0
HEARTBEAT_SECONDS = 30.0


def this_process() -> str:
    """host:pid, how the history names a process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LockHeldError(Exception):
    """Another tracker is taking a snapshot."""


@contextlib.contextmanager
def snapshot_lock(redis_url: str | None, history_path: Path) -> Iterator[None]:
    """Hold the snapshot lock for the block; raises LockHeldError at once if another tracker holds
    it (and redis.RedisError when Redis cannot be reached)."""
    with job_lock("snapshot", redis_url, history_path):
        yield


def lock_name(job: str) -> str:
    return f"hfmap:tracker:{job}"  # "snapshot": LOCK_NAME


def lock_file(job: str, history_path: Path) -> Path:
    history_path = Path(history_path)
    suffix = ".lock" if job == "snapshot" else f".{job}.lock"
    return history_path.with_name(history_path.name + suffix)


@contextlib.contextmanager
def job_lock(job: str, redis_url: str | None, history_path: Path) -> Iterator[None]:
    """Hold the job's lock for the block: the Redis lock with REDIS_URL, else the file lock beside
    the history; LockHeldError at once when another process holds it."""
    if redis_url:
        with redis_lock(redis_url, lock_name(job), job):
            yield
    else:
        with file_lock(lock_file(job, history_path), job):
            yield


@contextlib.contextmanager
def holding(history: History, job: str) -> Iterator[None]:
    """Say in the history that this process runs the job (it holds its lock) for the block, with a
    sign of life every HEARTBEAT_SECONDS."""
    holder = this_process()
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            try:
                history.job_alive(job, holder)
            except Exception as error:  # a busy or unwritable history must not end the run
                log.warning("could not record that the %s job is alive: %s", job, error)

    try:  # a SIGTERM (sys.exit) just after the history names the holder still clears it
        history.job_running(job, holder)
        threading.Thread(target=beat, name=f"hfmap-{job}-heartbeat", daemon=True).start()
        yield
    finally:
        done.set()
        history.job_done(job, holder)


def what_runs(job: str) -> str:
    return (
        "another tracker is taking a snapshot"
        if job == "snapshot"
        else f"another process runs the {job} job"
    )


@contextlib.contextmanager
def redis_lock(redis_url: str, name: str = LOCK_NAME, job: str = "snapshot") -> Iterator[None]:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
    lock = client.lock(name, timeout=LOCK_SECONDS, blocking=False, thread_local=False)
    done = threading.Event()

    def keep() -> None:
        while not done.wait(LOCK_SECONDS / 3):
            try:
                lock.extend(LOCK_SECONDS, replace_ttl=True)
            except redis.RedisError as error:
                log.warning("could not extend the snapshot lock: %s", error)

    if not lock.acquire():
        raise LockHeldError(what_runs(job))
    try:  # a SIGTERM (sys.exit) while the keeper starts still releases the lock
        threading.Thread(target=keep, name="hfmap-lock-keeper", daemon=True).start()
        yield
    finally:
        done.set()
        try:
            lock.release()
        except redis.RedisError as error:  # expired, or Redis went away: it frees itself
            log.warning("could not release the snapshot lock: %s", error)


@contextlib.contextmanager
def file_lock(path: Path, job: str = "snapshot") -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeldError(what_runs(job)) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

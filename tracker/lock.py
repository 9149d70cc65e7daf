"""One snapshot at a time, however many trackers run: a Redis lock with an expiry.

The lock expires after LOCK_SECONDS unless its holder extends it, which a keeper thread does
while the snapshot runs, so a tracker that dies frees it within LOCK_SECONDS. Without a
REDIS_URL the trackers of one machine share a file lock beside the history instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import redis

log = logging.getLogger("hfmap.tracker")

LOCK_NAME = "hfmap:tracker:snapshot"
LOCK_SECONDS = 300.0


class LockHeld(Exception):
    """Another tracker is taking a snapshot."""


@contextlib.contextmanager
def snapshot_lock(redis_url: str | None, history_path: Path) -> Iterator[None]:
    """Hold the snapshot lock for the block; raises LockHeld at once if another tracker holds it
    (and redis.RedisError when Redis cannot be reached)."""
    if redis_url:
        with redis_lock(redis_url):
            yield
    else:
        with file_lock(Path(history_path).with_name(Path(history_path).name + ".lock")):
            yield


@contextlib.contextmanager
def redis_lock(redis_url: str) -> Iterator[None]:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
    lock = client.lock(LOCK_NAME, timeout=LOCK_SECONDS, blocking=False, thread_local=False)
    if not lock.acquire():
        raise LockHeld("another tracker is taking a snapshot")
    done = threading.Event()

    def keep() -> None:
        while not done.wait(LOCK_SECONDS / 3):
            try:
                lock.extend(LOCK_SECONDS, replace_ttl=True)
            except redis.RedisError as error:
                log.warning("could not extend the snapshot lock: %s", error)

    keeper = threading.Thread(target=keep, name="hfmap-lock-keeper", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        try:
            lock.release()
        except redis.RedisError as error:  # expired, or Redis went away: it frees itself
            log.warning("could not release the snapshot lock: %s", error)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld("another tracker is taking a snapshot") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

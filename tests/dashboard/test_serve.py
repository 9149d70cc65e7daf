"""Serving the dashboard: `hfmap serve` mistakes, the WSGI app under gunicorn, and following a new
build."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hostile_builds import hostile_build

import dashboard.serving
from dashboard.serving import serve, served_build
from pipeline.build_format import POINTER, resolve_build
from pipeline.config import Settings

REPO = Path(__file__).resolve().parents[2]
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, bytes]:
    with LOCAL.open(url, timeout=10) as response:
        return response.status, response.read()


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with code {process.returncode}"
        try:
            return json.loads(get(url + "/health")[1])
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url}/health did not answer within {timeout:.0f} s")


def test_serving_a_folder_without_a_build_is_one_sentence_and_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hfmap", "serve", "--build", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"hfmap: {tmp_path} holds no build; run `hfmap build --out {tmp_path}` first."
    )
    bad_port = subprocess.run(
        [sys.executable, "-m", "hfmap", "serve", "--port", "70000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        bad_port.returncode == 2
        and bad_port.stderr.strip() == "hfmap: --port must be between 1 and 65535."
    )


def test_gunicorn_serves_the_wsgi_app_with_two_workers(
    sample_build, tmp_path, free_port, session_redis
):
    port = free_port()
    env = {
        **os.environ,
        "HFMAP_BUILD_DIR": str(sample_build),
        "HFMAP_CACHE_DIR": str(tmp_path / "cache"),
        "REDIS_URL": session_redis.url,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "dashboard.app:server",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}", process)
        assert health["rows"] == 1271 and health["status"] == "ok" and health["cache"] == "ok"
        assert health["build"] == resolve_build(sample_build).name
        status, page = get(f"http://127.0.0.1:{port}/families")
        assert status == 200 and b"dash-renderer" in page
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_a_new_current_build_is_served_without_a_restart(sample_build, tmp_path, monkeypatch):
    """Started on a builds directory, the dashboard follows its CURRENT pointer."""
    builds = tmp_path / "builds"
    first = resolve_build(sample_build)
    shutil.copytree(first, builds / first.name)
    (builds / POINTER).write_text(first.name + "\n")
    monkeypatch.setattr(dashboard.serving, "RECHECK_SECONDS", 0.0)
    serve(builds, Settings(cache_dir=tmp_path / "cache"))
    assert served_build().version == first.name
    newer = builds / "20991231T000000000000Z"
    shutil.copytree(first, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    (newer / "manifest.json").write_text(json.dumps({**manifest, "build_id": newer.name}))
    (builds / POINTER).write_text(newer.name + "\n")
    assert (
        served_build().version == first.name
    )  # requests go on with the old build while the new one loads
    wait_until(lambda: served_build().version == newer.name)
    assert served_build().size == 1271
    (builds / POINTER).write_text(
        "no-such-build\n"
    )  # a broken pointer keeps the build being served
    time.sleep(0.5)
    assert all(served_build().version == newer.name for _ in range(20))


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_hfmap_serve_serves_a_build_with_counts_beyond_two_to_the_53(
    sample_build, tmp_path, free_port
):
    """A model with 10**16 + 1 downloads (beyond what a float or a JSON number holds exactly) is
    served: `hfmap serve` starts and /health and the map answer (it exited with code 2 before)."""

    def huge(tables):
        tables["models"].loc[0, "downloads"] = 10**16 + 1

    builds = tmp_path / "builds"
    hostile_build(sample_build, builds, "20990101T000000000020Z", huge)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        HFMAP_CACHE_DIR=str(tmp_path / "cache"), HFMAP_TRACKER_DB=str(tmp_path / "tracker.sqlite")
    )
    command = [sys.executable, "-m", "hfmap", "serve", "--build", str(builds), "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}", process)
        assert health["build"] == "20990101T000000000020Z" and health["rows"] == 1271
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

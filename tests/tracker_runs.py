"""Running `hfmap track` against the test Hub (tests/hub_server.py) as its own process: its
environment, one run, its --status report; a server (`hfmap serve`, gunicorn) with the
scheduled jobs, started and stopped."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def tracker_env(hub_url: str, history_path: Path, **extra) -> dict:
    """The tracker's environment: the test Hub as HF_ENDPOINT (and never offline mode)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HF_HUB_OFFLINE", "REDIS_URL", "HF_TOKEN")
    }
    env.update(
        {
            "HF_ENDPOINT": hub_url,
            "HFMAP_TRACKER_DB": str(history_path),
            "HFMAP_HUB_TIMEOUT": "2",
            "HFMAP_TRACK_TIMEOUT": "60",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def track(env: dict, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hfmap", "track", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status(env: dict) -> dict:
    result = track(env, "--status")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, bytes]:
    """(status, body) of a GET to one of our servers (an HTTP error's status too)."""
    try:
        with LOCAL.open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str) -> tuple[int, dict]:
    status, body = get(url)
    return status, json.loads(body)


def wait_until(condition, timeout: float, what: str, process: subprocess.Popen | None = None):
    """condition()'s first true value, polled until timeout; fails naming what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the server exited with code {process.returncode} before {what}")
        with contextlib.suppress(OSError):
            value = condition()
            if value:
                return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.2)


@contextlib.contextmanager
def server(command: list[str], env: dict, url: str, log: Path):
    """A server in its own session (its jobs' processes in its process group), yielded once /health
    answers; stopped with SIGTERM to it alone (and its group killed) at the end."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: get(url + "/health")[0] == 200, 120, "/health answering", process)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stop_seconds(process: subprocess.Popen) -> float:
    """SIGTERM the server and return how long it took to exit."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    return time.monotonic() - started


def group_alive(process: subprocess.Popen) -> bool:
    """Whether any process of the server's process group (its jobs' processes) still runs."""
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def server_env(hub_url: str, history_path: Path, cache_dir: Path, **extra) -> dict:
    """A server's environment: the test Hub, its history and cache, the jobs as given."""
    env = tracker_env(hub_url, history_path, HFMAP_CACHE_DIR=str(cache_dir), **extra)
    env.pop("HF_DATASETS_OFFLINE", None)
    return env

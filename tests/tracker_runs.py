"""Running `hfmap track` against the test Hub (tests/hub_server.py) as its own process: its
environment, one run, its --status report."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def tracker_env(hub_url: str, history_path: Path, **extra) -> dict:
    """The tracker's environment: the test Hub as HF_ENDPOINT (and never offline mode)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("HF_HUB_OFFLINE", "REDIS_URL", "HF_TOKEN")}
    env.update({"HF_ENDPOINT": hub_url, "HFMAP_TRACKER_DB": str(history_path), "HFMAP_HUB_TIMEOUT": "2",
                "HFMAP_TRACK_TIMEOUT": "60", "PYTHONUNBUFFERED": "1", **extra})
    return env


def track(env: dict, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfmap", "track", *arguments], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def status(env: dict) -> dict:
    result = track(env, "--status")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

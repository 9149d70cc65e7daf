"""The Growth view and the JSON endpoints, after real `hfmap track --once` runs against the test
Hub."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hub_server import TestHub, generated_models
from selenium.webdriver.common.by import By

REPO = Path(__file__).resolve().parents[2]
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def take_snapshot(hub_url: str, history: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HF_HUB_OFFLINE", "REDIS_URL")
    }
    env.update(HF_ENDPOINT=hub_url, HFMAP_TRACKER_DB=str(history))
    result = subprocess.run(
        [sys.executable, "-m", "hfmap", "track", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def get_json(url: str) -> tuple[int, dict]:
    try:
        with LOCAL.open(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def tracked(dashboard_url, tracker_history):
    """Two snapshots in the served history: 2,500 models, then 2,600."""
    assert get_json(dashboard_url + "/api/count")[0] == 404  # nothing tracked yet
    models = generated_models(2_600)
    with TestHub(models[:2_500]) as hub:
        take_snapshot(hub.url, tracker_history)
        hub.models = models
        take_snapshot(hub.url, tracker_history)
    return dashboard_url


def test_growth_view_shows_tracked_and_reconstructed_history(
    browser, tracked, wait_for, console_errors, screenshot
):
    browser.get(tracked + "/growth")
    total = wait_for(browser, "#growth-total", timeout=60)
    assert total.text == "2,600"
    assert "2 snapshots" in browser.find_element(By.ID, "growth-cards").text
    state = browser.find_element(By.ID, "growth-state").text
    assert "Last run:" in state and "2,600 models" in state and "no scheduled tracker" in state
    names = browser.execute_script(
        "return document.querySelector('#growth-cumulative .js-plotly-plot')"
        "._fullData.map(t => t.name)"
    )
    assert any("reconstructed" in name for name in names) and any(
        "tracked" in name for name in names
    )
    points = browser.execute_script(
        "return document.querySelector('#growth-cumulative .js-plotly-plot')"
        "._fullData.find(t => t.name.includes('tracked')).y"
    )
    assert list(points) == [2500, 2600]
    stacked = browser.execute_script(
        "return document.querySelector('#growth-stacked .js-plotly-plot')._fullData.length"
    )
    assert stacked >= 3
    screenshot(browser, "growth")
    assert console_errors(browser) == []


def test_json_endpoints_answer_scripts(tracked):
    status, count = get_json(tracked + "/api/count")
    assert status == 200 and count["total_models"] == 2_600 and count["age_seconds"] >= 0
    status, history = get_json(tracked + "/api/history?from=2000-01-01")
    assert status == 200 and [row["total_models"] for row in history["snapshots"]] == [2_500, 2_600]
    assert get_json(tracked + "/api/history?to=2000-01-01")[1]["snapshots"] == []
    status, error = get_json(tracked + "/api/history?from=last+week")
    assert status == 400 and "is not an ISO 8601 time" in error["error"]
    status, growth = get_json(tracked + "/api/growth")
    assert status == 200 and growth["total_models"] == 2_600 and growth["snapshots"] == 2
    assert growth["windows"] == {"7d": None, "30d": None}  # seconds apart: no daily rate yet
    assert growth["last_failure"] is None and growth["by_library"][0]["models"] > 0

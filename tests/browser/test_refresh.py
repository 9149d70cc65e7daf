"""The map follows the Hub: `hfmap serve` with both scheduled jobs against the test Hub. The
snapshot job writes the listing, the refresh job builds it (a full build replacing the sample, then
an incremental one with the Hub's new models), the server moves to each new build, and the map,
the navigation bar and the Growth view show the new models in a real browser."""

import shutil
import sys
from urllib.parse import quote

from hub_server import TestHub, generated_models
from selenium.webdriver.common.by import By
from tracker_runs import get_json, server_env

from pipeline.build_format import POINTER, resolve_build
from tracker.history import History

FIRST, GROWN = 300, 320  # 20 new models: an incremental build (under a tenth of the map)


def text_of(browser, css: str) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def test_a_refresh_adds_the_hubs_new_models_to_the_map(
    browser, sample_build, served_app, tmp_path, free_port, wait_for, wait_until, console_errors
):
    builds = tmp_path / "builds"
    first = resolve_build(sample_build)
    shutil.copytree(first, builds / first.name)
    (builds / POINTER).write_text(first.name + "\n")
    history_path = tmp_path / "tracker" / "tracker.sqlite"
    models = generated_models(GROWN)
    with TestHub(models[:FIRST]) as hub:
        env = server_env(
            hub.url,
            history_path,
            tmp_path / "cache",
            HFMAP_TRACKER_EVERY="2s",
            HFMAP_REFRESH_EVERY="2s",
            HFMAP_REFRESH_EMBEDDER="tfidf",
        )
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "hfmap",
            "serve",
            "--build",
            str(builds),
            "--port",
            str(port),
        ]
        with served_app(command, env, port) as url:
            wait_until(
                lambda: get_json(url + "/health")[1]["rows"] == FIRST,
                240,
                "the first refresh served",
            )
            hub.models = models  # the Hub grows by 20 models
            wait_until(
                lambda: get_json(url + "/health")[1]["rows"] == GROWN,
                240,
                "the second refresh served",
            )
            history = History(history_path)
            refresh = history.latest_refresh("ok")
            assert (refresh.models, refresh.added, refresh.removed, refresh.mode) == (
                GROWN,
                20,
                0,
                "incremental",
            )
            assert [r.added for r in history.refreshes() if r.outcome == "ok"][:2] == [FIRST, 20]
            assert get_json(url + "/health")[1]["build"] == refresh.build_id
            assert (tmp_path / "tracker" / "hub-listing.jsonl").is_file()

            new_model = models[GROWN - 1]["id"]
            browser.get(f"{url}/?model={quote(new_model, safe='')}")
            wait_for(browser, "#map-graph .js-plotly-plot", timeout=60)
            wait_until(
                lambda: text_of(browser, "#details-model-id") == new_model,
                60,
                f"the details of {new_model}",
            )
            wait_until(
                lambda: f"{GROWN} of {GROWN} models match" in text_of(browser, "#map-count"),
                60,
                "the map counting the new models",
            )
            badge = wait_for(browser, "#map-refreshed", timeout=30).text
            assert "map refreshed" in badge and "20 models added" in badge
            browser.get(url + "/growth")
            state = wait_for(browser, "#growth-refresh-state", timeout=60)
            wait_until(
                lambda: "20 models added" in state.text, 30, "the refresh in the Growth view"
            )
            assert "incremental" in state.text and "every 2 s" in state.text
            assert f"{GROWN:,} models" in text_of(browser, "#growth-state")
            assert console_errors(browser) == []
            browser.get("about:blank")  # the Growth view's timer must not call a stopped server

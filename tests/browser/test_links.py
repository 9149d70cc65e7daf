"""Links that keep the filters, the model finder and the models CSV download (issue 15), in a real
headless Chromium on `hfmap serve` over the bundled sample."""

from __future__ import annotations

import csv
import re
import time
from urllib.parse import urlsplit

from page_actions import click, query_of, text_of
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.queries.model_export import COLUMNS

MAP = "#map-graph .js-plotly-plot"


def matching_count(browser) -> int | None:
    match = re.search(r"([\d,]+) of [\d,]+ models match", text_of(browser, "#map-count"))
    return int(match.group(1).replace(",", "")) if match else None


def test_a_link_in_the_details_card_keeps_the_filters_and_the_settings(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    browser.get(f"{dashboard_url}/?search=gemma&colour=license&model=google%2Fgemma-7b-it")
    wait_for(browser, "#details-parents a", timeout=60)
    wait_until(lambda: matching_count(browser), message="the map's count")
    likes = browser.find_element(By.ID, "filter-min-likes")  # a filter changed after the card
    likes.send_keys("2", Keys.ENTER)
    wait_until(
        lambda: "min_likes=2" in text_of(browser, "#details-parents a", "href"),
        message="the card's links to follow the new filter",
    )
    click(browser, "#details-parents a")
    wait_until(
        lambda: text_of(browser, "#details-model-id") == "google/gemma-7b",
        message="the parent's details",
    )
    query = query_of(browser)
    assert (query["search"], query["min_likes"], query["colour"]) == (["gemma"], ["2"], ["license"])
    assert browser.find_element(By.ID, "filter-search").get_attribute("value") == "gemma"
    assert browser.find_element(By.ID, "filter-min-likes").get_attribute("value") == "2"
    assert wait_until(lambda: matching_count(browser), message="the count") < 1271
    width = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1]  # the card never makes the page scroll sideways
    click(browser, "#details-to-network")
    wait_until(lambda: urlsplit(browser.current_url).path == "/network", message="the network")
    query = query_of(browser)
    assert query["search"] == ["gemma"] and query["min_likes"] == ["2"]
    assert query["model"] == ["google/gemma-7b"] and "colour" not in query  # a map setting
    assert console_errors(browser) == []


def test_the_finder_offers_the_exact_name_first_and_keeps_the_filters(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    browser.get(f"{dashboard_url}/?search=gemma")
    wait_for(browser, MAP, timeout=60)
    click(browser, "#model-finder")
    browser.switch_to.active_element.send_keys("gemma-7b")  # the dropdown's search box
    offered = "return [...document.querySelectorAll('[role=option] input')].map(e => e.value)"
    seen = [None]

    def settled():  # the options of the last keystroke: the same list for a second
        seen.append(browser.execute_script(offered))
        time.sleep(0.5)
        return seen[-1] and seen[-1] == seen[-2] == browser.execute_script(offered) and seen[-1]

    options = wait_until(settled, message="the finder's options for gemma-7b")
    assert options[0] == "google/gemma-7b"  # before the more downloaded google/gemma-7b-it
    click(browser, "[role=option]")
    wait_until(
        lambda: text_of(browser, "#details-model-id") == "google/gemma-7b",
        message="the found model's details",
    )
    assert query_of(browser)["search"] == ["gemma"]
    assert console_errors(browser) == []


def test_the_filtered_models_download_as_csv(
    browser, dashboard_url, wait_for, wait_until, console_errors, tmp_path
):
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    browser.get(f"{dashboard_url}/?search=llama&libraries=transformers")
    wait_for(browser, MAP, timeout=60)
    count = wait_until(
        lambda: matching_count(browser) not in (None, 1271) and matching_count(browser),
        message="the filtered count",
    )
    note = wait_until(lambda: text_of(browser, "#models-download-note"), message="the note")
    assert note == f"The {count:,} models that pass the filters."
    click(browser, "#models-download-button")
    files = wait_until(
        lambda: (
            [p for p in tmp_path.glob("*.csv") if p.stat().st_size > 0]
            and not list(tmp_path.glob("*.crdownload"))
            and list(tmp_path.glob("*.csv"))
        ),
        message="the downloaded CSV",
    )
    time.sleep(0.2)
    with files[0].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert files[0].name.startswith("hfmap-models-") and tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == count
    assert "meta-llama/Llama-2-7b-chat-hf" in {row[0] for row in rows[1:]}
    assert console_errors(browser) == []

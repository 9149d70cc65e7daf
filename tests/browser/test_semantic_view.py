"""The Map view's semantic search in a real browser: on a TF-IDF build of a slice of the real
listing (real_speech_build) the issue's query lists Whisper and Japanese speech recognition
models, each with its score, and a query of unknown words says so; on the bundled sample the
placeholder's example finds what it names, and a weak best match is called weak."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pandas as pd
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pipeline.build_format import resolve_build

MAP = "#map-graph .js-plotly-plot"
QUERY = "automatic-speech-recognition whisper japanese"
EXAMPLE = "chinese text generation"


@pytest.fixture(scope="module")
def speech_url(real_speech_build, serve_build, tmp_path_factory) -> Iterator[str]:
    """`hfmap serve` over the real slice's build."""
    tracker_db = tmp_path_factory.mktemp("tracker") / "tracker.sqlite"
    with serve_build(real_speech_build, tracker_db) as url:
        yield url


def search(browser, url: str, query: str, wait_for) -> None:
    """Open the Map view at url and search for query (Enter sends it)."""
    browser.get(url + "/")
    wait_for(browser, MAP, timeout=60)
    box = browser.find_element(By.ID, "map-semantic")
    box.clear()
    box.send_keys(query, Keys.ENTER)


def listed(browser) -> list[tuple[str, str]]:
    """(model id, score) of each listed hit, [] until they are listed."""
    try:
        return [
            (item.find_element(By.TAG_NAME, "a").text, item.find_element(By.TAG_NAME, "span").text)
            for item in browser.find_elements(By.CSS_SELECTOR, "#semantic-hits li")
        ]
    except StaleElementReferenceException:
        return []


def note(browser) -> str:
    found = browser.find_elements(By.ID, "semantic-note")
    try:
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def test_the_issues_query_lists_whisper_and_japanese_speech_recognition_with_scores(
    browser, speech_url, real_speech_build, wait_for, wait_until, console_errors
):
    models = pd.read_parquet(resolve_build(real_speech_build) / "models.parquet")
    models = models.set_index("model_id")
    search(browser, speech_url, QUERY, wait_for)
    hits = wait_until(lambda: listed(browser), message="semantic hits")
    assert len(hits) == len({model_id for model_id, _ in hits}) == 25
    assert all(re.fullmatch(r"[01]\.\d\d", score.strip()) for _, score in hits)
    best = models.loc[[model_id for model_id, _ in hits[:10]]]
    assert (best["pipeline_tag"] == "automatic-speech-recognition").all()
    assert all(
        "ja" in list(languages) or "japanese" in model_id.lower()
        for model_id, languages in zip(best.index, best["languages"])
    )
    assert sum("whisper" in model_id.lower() for model_id in best.index) >= 5
    assert note(browser) == ""
    assert console_errors(browser) == []


def test_a_query_of_unknown_words_says_so(browser, speech_url, wait_for, wait_until):
    search(browser, speech_url, "qzxv wbbq", wait_for)
    said = wait_until(lambda: note(browser), message="a note")
    assert said.startswith("No word of 'qzxv wbbq' occurs in this build's models")
    assert listed(browser) == []


def test_the_placeholders_example_finds_chinese_text_generation(
    browser, dashboard_url, sample_models, wait_for, wait_until
):
    search(browser, dashboard_url, EXAMPLE, wait_for)
    box = browser.find_element(By.ID, "map-semantic")
    assert box.get_attribute("placeholder") == f"describe a model, e.g. {EXAMPLE}"
    hits = wait_until(lambda: listed(browser), message="semantic hits")
    first = sample_models.set_index("model_id").loc[[model_id for model_id, _ in hits[:10]]]
    assert (first["pipeline_tag"] == "text-generation").all()
    assert sum("zh" in list(languages) for languages in first["languages"]) >= 8


def test_a_weak_best_match_is_called_weak(browser, dashboard_url, wait_for, wait_until):
    search(browser, dashboard_url, "recipe cooking", wait_for)
    said = wait_until(lambda: note(browser), message="a note")
    assert said.startswith("The best match is weak")
    wait_until(lambda: listed(browser), message="the weak matches listed")

"""Strings from a build render as text in a real browser: a root id written as a markdown link
in the Families table and a library holding an <a> tag in the map's legend never become links;
ids that are not Hub ids (``javascript:…``, ``../../x``) make no link in the details card, and a
card excerpt holding HTML is shown as its characters.

The build is the sample with those two values planted (tests/hostile_builds.py), served by
`hfmap serve`.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import quote, urlsplit

import pytest
from hostile_builds import (
    EVIL_LIBRARY,
    EVIL_ROOT,
    NOT_HUB_IDS,
    hostile_build,
    rename_largest_family_root,
)
from selenium.webdriver.common.by import By

from dashboard.values import legend_name

EVIL_CARD = (
    '<img src="https://evil.example/card.png" onerror="alert(1)"><a href="https://evil.example/card">'
    "card</a> <!-- hidden --><script>alert(2)</script> [js](javascript:alert(3)) "
    "[data](data:text/html;base64,PHNjcmlwdD4=) [ok](https://ok.example/page) **bold**"
)


def plant(tables) -> None:
    models, edges = tables["models"], tables["edges"]
    rename_largest_family_root(tables, EVIL_ROOT)
    models.loc[models.index[-60:], "library_name"] = (
        EVIL_LIBRARY  # the third most common library: in the legend
    )
    leaves = models.index[(models["n_children"] == 0) & (models["depth"] > 0)][:2]
    for row, model_id in zip(leaves, NOT_HUB_IDS):
        edges.loc[edges["child_id"] == models.at[row, "model_id"], "child_id"] = model_id
        models.at[row, "model_id"], models.at[row, "card_excerpt"] = model_id, EVIL_CARD
        models.at[row, "datasets"], models.at[row, "arxiv_papers"] = (
            ["../../evil", "squad"],
            ["javascript:alert(2)"],
        )


@pytest.fixture(scope="module")
def hostile_url(sample_build, served_app, free_port, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-browser")
    builds = tmp / "builds"
    hostile_build(sample_build, builds, "20990101T000000000009Z", plant)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HFMAP_CACHE_DIR=str(tmp / "cache"),
        HFMAP_TRACKER_DB=str(tmp / "tracker.sqlite"),
    )
    command = [sys.executable, "-m", "hfmap", "serve", "--build", str(builds), "--port", str(port)]
    with served_app(command, env, port) as url:
        yield url


def evil_links(browser) -> list[str]:
    """Links of the page that lead to the planted host."""
    return [
        a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, "a")
        if urlsplit(a.get_attribute("href") or "").hostname == "evil.example"
    ]


def test_a_markdown_root_id_is_text_in_the_families_table(
    browser, hostile_url, wait_for, wait_until
):
    browser.get(f"{hostile_url}/families")
    wait_for(browser, "#families-table td", timeout=60)
    cell = wait_until(
        lambda: next(
            (
                td
                for td in browser.find_elements(By.CSS_SELECTOR, "#families-table td")
                if "evil.example" in td.text
            ),
            None,
        ),
        30,
        "the planted root id in the table",
    )
    assert cell.text.strip() == EVIL_ROOT  # shown literally
    assert evil_links(browser) == []
    link = cell.find_element(
        By.CSS_SELECTOR, "a"
    )  # still the one link: to the family in the network view
    assert link.get_attribute("href").startswith(f"{hostile_url}/network?model=x%5D%28https")


def test_an_html_library_is_text_in_the_map_legend(browser, hostile_url, wait_for, wait_until):
    browser.get(f"{hostile_url}/")
    wait_for(browser, "#map-graph .legend", timeout=90)
    legend = wait_until(
        lambda: [
            t.text
            for t in browser.find_elements(By.CSS_SELECTOR, "#map-graph .legend .legendtext")
            if "evil" in t.text
        ],
        30,
        "the planted library in the legend",
    )
    assert legend == [legend_name(EVIL_LIBRARY)[0]]  # the tag's characters, shown as text
    titles = wait_until(  # in full on hover: the entry's SVG title, text too
        lambda: browser.execute_script(
            "return Array.from(document.querySelectorAll('#map-graph .legend .traces > title'))"
            ".map(t => t.textContent).filter(t => t.includes('evil'))"
        ),
        30,
        "the planted library's full name on hover",
    )
    assert titles == [EVIL_LIBRARY]
    assert evil_links(browser) == []
    assert browser.find_elements(By.CSS_SELECTOR, "#map-graph .legend a") == []


@pytest.mark.parametrize("model_id", NOT_HUB_IDS)
def test_ids_that_are_not_hub_ids_make_no_link_and_card_html_is_stripped(
    browser, hostile_url, wait_for, wait_until, model_id
):
    browser.get(f"{hostile_url}/?model={quote(model_id, safe='')}")
    heading = wait_for(browser, "#details-model-id", timeout=60)
    assert heading.text.strip() == model_id and heading.find_elements(By.CSS_SELECTOR, "a") == []
    card = browser.find_element(By.CSS_SELECTOR, "#model-details-card")
    excerpt = card.find_element(By.CSS_SELECTOR, "#details-excerpt")
    # the card's HTML and comments are stripped to its text, a link elsewhere than http(s) is its
    # text alone, and the rest is Markdown (issue 15)
    assert excerpt.text == "card js data ok bold"
    assert [a.get_attribute("href") for a in excerpt.find_elements(By.CSS_SELECTOR, "a")] == [
        "https://ok.example/page"
    ]
    assert excerpt.find_element(By.CSS_SELECTOR, "a").get_attribute("target") == "_blank"
    assert excerpt.find_elements(By.CSS_SELECTOR, "strong")[0].text == "bold"
    assert card.find_elements(By.CSS_SELECTOR, "img") == []
    links = [a.get_attribute("href") for a in card.find_elements(By.CSS_SELECTOR, "a")]
    outside = [
        href
        for href in links
        if not href.startswith(hostile_url) and href != "https://ok.example/page"
    ]
    # the one valid data set id of the field (the others are text), then those of the model's
    # dataset: tags, which the card shows with them (issue 15)
    assert outside[0] == "https://huggingface.co/datasets/squad"
    assert all(href.startswith("https://huggingface.co/datasets/") for href in outside)
    assert not any("evil" in href for href in outside)
    assert evil_links(browser) == [] and not any(href.startswith("javascript:") for href in links)

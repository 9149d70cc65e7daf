"""The details card's path to root (issue 16) in a real headless Chromium on `hfmap serve` over the
bundled sample: a model opened on the map or the network lists its primary parents up to its
family's root, each with its relation, as links that keep the filters and open that model."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, quote, urlsplit

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By

MODEL = "huihui-ai/Arcee-Blitz-abliterated"  # three finetune links below its family's root
PATH = (
    "arcee-ai/Arcee-Blitz",
    "mistralai/Mistral-Small-24B-Instruct-2501",
    "mistralai/Mistral-Small-24B-Base-2501",
)
FILTERS = "&search=mistral&min_downloads=1"

# JavaScript: the card's model and each item of its path to root as [relation chip, link text,
# link href]; null before the card is drawn
PATH_ITEMS = """
const title = document.getElementById('details-model-id');
if (!title) return null;
return {model: title.textContent, items: [
  ...document.querySelectorAll('#details-path-to-root li')].map(li => {
    const chip = li.querySelector('.badge'), link = li.querySelector('a');
    return [chip ? chip.textContent : null, link ? link.textContent : li.textContent,
            link ? link.getAttribute('href') : null];
  })};
"""


def path_items(browser, wait_until, model_id: str) -> list[list]:
    """The path to root the card shows once it is the card of model_id."""

    def shown():
        card = browser.execute_script(PATH_ITEMS)
        return card and card["model"] == model_id and card["items"]

    return wait_until(shown, timeout=60, message=f"the path to root of {model_id}")


def click_path_link(browser, text: str) -> None:
    """A real click on the link of the card's path to root that reads text (found again while Dash
    redraws the card)."""
    for _ in range(50):
        try:
            (link,) = [
                a
                for a in browser.find_elements(By.CSS_SELECTOR, "#details-path-to-root a")
                if a.text == text
            ]
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
            link.click()
            return
        except (ElementClickInterceptedException, StaleElementReferenceException, ValueError):
            time.sleep(0.2)
    raise AssertionError(f"could not click the path's link {text}")


def test_the_card_shows_the_path_to_root_and_its_links_open_each_model(
    browser, dashboard_url, wait_until, console_errors
):
    for page in ("/", "/network"):
        browser.get(f"{dashboard_url}{page}?model={quote(MODEL, safe='')}{FILTERS}")
        items = path_items(browser, wait_until, MODEL)
        assert [(chip, text) for chip, text, _ in items] == [("finetune", p) for p in PATH]
        for (_, _, href), expected in zip(items, PATH):
            url = urlsplit(href)
            query = parse_qs(url.query)
            assert url.path == page and query["model"] == [expected]
            assert (query["search"], query["min_downloads"]) == (["mistral"], ["1"])
        click_path_link(browser, PATH[1])
        items = path_items(browser, wait_until, PATH[1])
        assert [(chip, text) for chip, text, _ in items] == [("finetune", PATH[2])]
        wait_until(  # the address follows the card (one callback later)
            lambda: parse_qs(urlsplit(browser.current_url).query).get("model") == [PATH[1]],
            message=f"{PATH[1]} in the address",
        )
        assert urlsplit(browser.current_url).path == page
        click_path_link(browser, PATH[2])
        items = path_items(browser, wait_until, PATH[2])
        assert [text for _, text, _ in items] == ["none: the root of its family"]
    assert console_errors(browser) == []

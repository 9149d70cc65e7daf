"""The Compare view (issue 16) in a real headless Chromium on `hfmap serve` over the bundled
sample: from a model's details card to a comparison with a second model picked in the view, the
differences marked, both models in the URL, and the comparison restored by reloading it."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from page_actions import click, query_of, text_of
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By

A, B = "google/gemma-7b-it", "google/gemma-7b"


def marked_rows(browser) -> list[str]:
    """The traits whose rows are marked as differing, read in the page."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#compare-traits tr.compare-differs')]"
        ".map(row => row.dataset.trait)"
    )


def pick(browser, wait_until, picker: str, typed: str, model: str) -> None:
    """Choose model in a picker: open it, type, click the model's option once it is offered."""
    click(browser, picker)
    browser.switch_to.active_element.send_keys(typed)  # the dropdown's search box
    option = (
        "return [...document.querySelectorAll('[role=option]')]"
        ".find(o => (o.querySelector('input') || {}).value === arguments[0]) || null"
    )
    wait_until(lambda: browser.execute_script(option, model), message=f"{model} offered")
    for _ in range(20):
        try:
            browser.execute_script(option, model).click()
            return
        except (ElementClickInterceptedException, StaleElementReferenceException, AttributeError):
            time.sleep(0.2)
    raise AssertionError(f"could not pick {model}")


def test_compare_with_from_the_details_card_then_reload(
    browser, dashboard_url, wait_for, wait_until, console_errors, screenshot
):
    browser.get(f"{dashboard_url}/network?search=gemma&model={A.replace('/', '%2F')}")
    wait_for(browser, "#details-compare", timeout=60)
    wait_until(lambda: text_of(browser, "#details-model-id") == A, message="the model's details")
    wait_until(  # the navigation bar's link to the view keeps the filters and the opened model
        lambda: (
            "search=gemma" in text_of(browser, "#nav-compare", "href")
            and "model=google%2Fgemma-7b-it" in text_of(browser, "#nav-compare", "href")
        ),
        message="the Compare link to carry the state",
    )
    click(browser, "#details-compare")
    wait_until(lambda: urlsplit(browser.current_url).path == "/compare", message="the view")
    hint = wait_until(lambda: text_of(browser, "#compare-hint"), message="the hint")
    assert hint == f"Pick a second model (Model B) to compare with {A}."
    assert query_of(browser)["a"] == [A] and query_of(browser)["search"] == ["gemma"]
    wait_until(
        lambda: browser.execute_script("return document.activeElement.id") == "compare-b",
        message="the B picker to take the focus",
    )

    pick(browser, wait_until, "#compare-b", "gemma-7b", B)
    count = wait_until(lambda: text_of(browser, "#compare-differ-count"), message="the comparison")
    differing = wait_until(lambda: marked_rows(browser), message="the marked rows")
    assert count == f"{len(differing)} of 14 traits differ."
    assert {"depth", "downloads"} <= set(differing) and "family" not in differing
    assert "B is an ancestor of A, 1 link up." in text_of(browser, "#compare-path")
    assert B in text_of(browser, "#compare-path .compare-ancestor")
    screenshot(browser, "compare")

    browser.get(browser.current_url)  # reloading the address restores the comparison
    restored = wait_until(lambda: text_of(browser, "#compare-differ-count"), message="reloaded")
    assert restored == count
    assert wait_until(lambda: marked_rows(browser), message="the rows") == differing
    assert text_of(browser, "#compare-a") == A and text_of(browser, "#compare-b") == B
    assert browser.find_element(By.ID, "filter-search").get_attribute("value") == "gemma"
    assert console_errors(browser) == []

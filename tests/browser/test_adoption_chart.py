"""The Families view's Over time and Fastest growing tabs (issue 16), in a real headless Chromium on
`hfmap serve` over the bundled sample: a family picked in the dropdown replaces the five largest
in the adoption chart, the tab, the family and the scale go into the URL, and a reload restores
them; the growth rankings link each family to the network view."""

from __future__ import annotations

from urllib.parse import urlsplit

from page_actions import click, query_of
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

CURVES = "#adoption-curves .js-plotly-plot"
TRACE_NAMES = (
    "const gd = document.querySelector(arguments[0]);"
    "return gd && gd._fullData ? gd._fullData.map(t => t.name) : null;"
)
X_TITLE = (
    "const gd = document.querySelector(arguments[0]);"
    "return gd && gd._fullLayout && gd._fullLayout.xaxis ? gd._fullLayout.xaxis.title.text : null;"
)
OFFERED = "return [...document.querySelectorAll('[role=option] input')].map(e => e.value)"


def names_of(browser, css: str = CURVES) -> list[str] | None:
    return browser.execute_script(TRACE_NAMES, css)


def click_option(browser, value: str) -> bool:
    """Click the open dropdown's option whose value is value; False when it is not offered (yet)."""
    try:
        for option in browser.find_elements(By.CSS_SELECTOR, "[role=option]"):
            inputs = option.find_elements(By.CSS_SELECTOR, "input")
            if inputs and inputs[0].get_attribute("value") == value:
                browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", option)
                option.click()
                return True
    except (ElementClickInterceptedException, StaleElementReferenceException):
        return False
    return False


def test_a_picked_family_is_drawn_and_the_url_restores_it(
    browser, dashboard_url, wait_for, wait_until, console_errors, screenshot
):
    browser.get(dashboard_url + "/families?tab=time")
    wait_for(browser, CURVES, timeout=60)
    largest = wait_until(
        lambda: (names := names_of(browser)) and len(names) == 5 and names,
        timeout=60,
        message="the five largest families' curves",
    )
    assert largest[0] == "meta-llama/Llama-2-7b-c…"  # legend names are shortened
    mix = wait_until(
        lambda: names_of(browser, "#adoption-mix .js-plotly-plot"), message="the relation mix"
    )
    assert "root" in mix and "finetunes" in mix
    assert "The 5 largest families" in browser.find_element(By.ID, "adoption-note").text
    screenshot(browser, "families-over-time")

    click(browser, "#adoption-families")
    browser.switch_to.active_element.send_keys("bloom")  # the dropdown's search box
    wait_until(
        lambda: "bigscience/bloom" in (browser.execute_script(OFFERED) or []),
        message="the picker to offer bigscience/bloom",
    )
    wait_until(lambda: click_option(browser, "bigscience/bloom"), message="bloom picked")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_until(
        lambda: names_of(browser) == ["bigscience/bloom"], message="the chart to draw bloom alone"
    )
    click(browser, "#adoption-scale input[value=normalized]")
    wait_until(
        lambda: (browser.execute_script(X_TITLE, CURVES) or "").startswith("months since"),
        message="the normalized chart",
    )
    wait_until(
        lambda: (
            query_of(browser).get("scale") == ["normalized"]
            and query_of(browser).get("families") == ["bigscience/bloom"]
        ),
        message="the URL to keep the family and the scale",
    )
    assert query_of(browser)["tab"] == ["time"]

    browser.refresh()
    wait_for(browser, CURVES, timeout=60)
    wait_until(
        lambda: (
            names_of(browser) == ["bigscience/bloom"]
            and (browser.execute_script(X_TITLE, CURVES) or "").startswith("months since")
        ),
        timeout=60,
        message="the reloaded chart to draw bloom, normalized",
    )
    assert browser.find_element(By.CSS_SELECTOR, "#adoption-scale input[value=normalized]")
    assert browser.execute_script(
        "return document.querySelector('#adoption-scale input[value=normalized]').checked"
    )
    assert "bigscience/bloom" in browser.find_element(By.ID, "adoption-families").text
    assert console_errors(browser) == []


def test_the_growth_rankings_link_each_family_to_the_network(
    browser, dashboard_url, wait_for, wait_until, console_errors, screenshot
):
    browser.get(dashboard_url + "/families?tab=growing&window=365")
    wait_for(browser, "#growing-deepest td a", timeout=60)
    note = wait_until(
        lambda: browser.find_element(By.ID, "growing-note").text, message="the window's note"
    )
    assert "the build's newest creation date" in note
    assert browser.execute_script(
        "return document.querySelector('#growing-window input[value=\"365\"]').checked"
    )
    screenshot(browser, "families-growing")
    click(browser, "#growing-deepest td a")
    wait_until(lambda: urlsplit(browser.current_url).path == "/network", message="the network view")
    assert query_of(browser).get("show") == ["family"]
    assert console_errors(browser) == []

"""Smaller defects of issue 15 in a real browser, on `hfmap serve` over the bundled sample: the
Families table sorts a number largest first on the first click, dropdowns work from the keyboard
(type, Enter), the Distributions view's log switch is off-limits for creation dates, and the map
selection's histogram says "selection"."""

import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def texts(browser, css: str) -> list[str]:
    """The texts of the elements matching css, read again if Dash replaced them meanwhile."""
    for _ in range(5):
        try:
            return [element.text for element in browser.find_elements(By.CSS_SELECTOR, css)]
        except StaleElementReferenceException:
            continue
    return []


def numbers(browser, column: str) -> list[int]:
    cells = texts(browser, f"#families-table td[data-dash-column='{column}']")
    return [int(cell.replace(",", "")) for cell in cells if cell]


def offered(browser, option: str) -> bool:
    """Whether an open dropdown offers ``option`` with the typed text in its search box (where
    Enter chooses the first option offered)."""
    active = browser.switch_to.active_element
    searching = "dash-dropdown-search" in (active.get_attribute("class") or "")
    return searching and any(option in t for t in texts(browser, ".dash-dropdown-content"))


def type_into_dropdown(browser, before: str, typed: str, tab: bool = True) -> None:
    """Tab from the element ``before`` to the dropdown after it (tab=False: ``before`` is the
    dropdown) and type, as a keyboard user: the first key opens its search box, the rest go there
    (sent at once, the keys typed while the box takes the focus are lost, as they would be for a
    person typing that fast)."""
    browser.execute_script("document.getElementById(arguments[0]).focus()", before)
    if tab:
        ActionChains(browser).send_keys(Keys.TAB).perform()
    ActionChains(browser).send_keys(typed[0]).perform()
    deadline = time.monotonic() + 10
    while "dash-dropdown-search" not in (browser.switch_to.active_element.get_attribute("class")):
        assert time.monotonic() < deadline, "the dropdown's search box did not take the focus"
        time.sleep(0.05)
    ActionChains(browser).send_keys(typed[1:]).perform()


def test_the_first_click_on_a_number_column_sorts_families_largest_first(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    browser.get(dashboard_url + "/families")
    wait_for(browser, "#families-table td", timeout=60)
    wait_until(lambda: len(numbers(browser, "n_finetune")) == 10, message="the families")
    header = "#families-table th[data-dash-column='{}'] .column-header--sort"
    browser.find_element(By.CSS_SELECTOR, header.format("n_finetune")).click()
    wait_until(lambda: "sort=n_finetune" in browser.current_url, message="the sort in the URL")
    finetunes = wait_until(
        lambda: (found := numbers(browser, "n_finetune")) == sorted(found, reverse=True) and found,
        message="families with the most finetunes first",
    )
    assert finetunes[0] == max(finetunes) > finetunes[-1] and "dir=asc" not in browser.current_url

    browser.find_element(By.CSS_SELECTOR, header.format("n_finetune")).click()  # then smallest
    wait_until(lambda: numbers(browser, "n_finetune")[0] == min(finetunes), message="ascending")
    browser.find_element(By.CSS_SELECTOR, header.format("n_adapter")).click()  # another: largest
    wait_until(
        lambda: (found := numbers(browser, "n_adapter")) == sorted(found, reverse=True) and found,
        message="families with the most adapters first",
    )
    assert console_errors(browser) == []


def test_dropdowns_take_typing_and_enter_and_creation_dates_have_no_log_scale(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    browser.get(dashboard_url + "/distributions")
    wait_for(browser, "#dist-graph .js-plotly-plot", timeout=60)
    switch = lambda: browser.find_element(By.ID, "dist-log")  # noqa: E731
    assert switch().is_enabled()  # downloads: heavy-tailed, the log scale applies

    type_into_dropdown(browser, "filter-base-only", "creat")  # the attribute's dropdown
    wait_until(lambda: offered(browser, "creation date"), message="creation dates offered")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_until(lambda: "attr=created_at" in browser.current_url, message="creation dates chosen")
    assert texts(browser, "#dist-attribute") == ["creation date"]
    wait_until(lambda: not switch().is_enabled(), message="the log switch disabled")

    type_into_dropdown(browser, "filter-min-likes", "diffus")  # the libraries filter (multi)
    wait_until(lambda: offered(browser, "diffusers"), message="diffusers offered")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_until(lambda: "libraries=diffusers" in browser.current_url, message="the filter chosen")
    assert console_errors(browser) == []


def test_the_selection_histogram_names_its_bars_selection(
    browser, dashboard_url, wait_for, wait_until, console_errors, sample_models
):
    x, y = sample_models["x2d"], sample_models["y2d"]
    box = f"box:{x.min() - 1:g},{x.median():g},{y.min() - 1:g},{y.max() + 1:g}"  # half the map
    browser.get(f"{dashboard_url}/?sel={box}")
    wait_for(browser, "#selection-card .js-plotly-plot", timeout=60)
    legend = wait_until(
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('#selection-card .legendtext')]"
            ".map(item => item.textContent)"
        ),
        timeout=60,
        message="the selection's legend",
    )
    assert legend == ["all models", "selection"]

    # a redraw (another colouring) keeps the bookmarked selection: plotly's reselection of the
    # points inside the drawn region is no new selection (it cleared the selection before)
    type_into_dropdown(browser, "map-colour", "pipe", tab=False)
    wait_until(lambda: offered(browser, "pipeline"), message="pipeline offered")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_until(lambda: "colour=pipeline_tag" in browser.current_url, message="the new colouring")
    assert "sel=box" in browser.current_url and texts(browser, "#selection-count")
    assert console_errors(browser) == []

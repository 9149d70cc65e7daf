"""The Evolution view in a real headless Chromium, served by `hfmap serve` over the bundled
sample: the resemblance figure and the finding sentence, the relation and the family restriction
(both kept in the URL), the paper's numbers labelled as the paper's, and a screenshot for the
README (evolution.png, in docs/screenshots with HFMAP_SCREENSHOTS=docs/screenshots)."""

import re
from urllib.parse import parse_qs, urlsplit

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

RESEMBLANCE = "#evolution-resemblance .js-plotly-plot"
FAMILY = "google/gemma-7b"  # the sample's second largest family: 390 models


def text_of(browser, css: str) -> str:
    """The text of the first element matching css ("" when there is none)."""
    for _ in range(5):
        try:
            found = browser.find_elements(By.CSS_SELECTOR, css)
            return found[0].text if found else ""
        except StaleElementReferenceException:
            continue
    return ""


def query_of(browser) -> dict:
    return parse_qs(urlsplit(browser.current_url).query)


def mutation_rows(browser) -> dict[str, list[str]]:
    """The mutation table's rows by trait: [trait, rate, links, relation, the paper's] (read in
    one script, so a table Dash replaces meanwhile is read whole or not at all)."""
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#evolution-mutation-table tbody tr')]"
        ".map(row => [...row.querySelectorAll('td')].map(cell => cell.innerText));"
    )
    return {cells[0]: cells for cells in rows}


def drawn_panels(browser) -> list[dict]:
    """The resemblance figure's drawn traces: {measure, configurations, pairs}."""
    return browser.execute_script(
        "const gd = document.querySelector(arguments[0]);"
        "if (!gd || !gd._fullData) return [];"
        "return gd._fullData.map(t => ({measure: t.name, configurations: t.y,"
        " pairs: t.customdata.map(c => c[2])}));",
        RESEMBLANCE,
    )


def choose_relation(browser, label: str, wait_until) -> None:
    """Open the relation dropdown and click the option with this label."""
    browser.find_element(By.ID, "evolution-relation").click()
    option = wait_until(
        lambda: next(
            (
                item
                for item in browser.find_elements(By.CSS_SELECTOR, "[role=option]")
                if item.text == label
            ),
            None,
        ),
        message=f"the option {label!r}",
    )
    option.click()


def test_evolution_shows_resemblance_and_the_finding_on_the_sample(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    browser.get(dashboard_url + "/evolution")
    wait_for(browser, RESEMBLANCE, timeout=60)
    panels = wait_until(lambda: drawn_panels(browser), message="the resemblance points")
    assert [panel["measure"] for panel in panels] == [
        "metadata edit similarity",
        "card TF-IDF cosine",
        "tag Jaccard",
        "embedding cosine",
    ]
    metadata = panels[0]
    assert "siblings" in metadata["configurations"] and "parent–child" in metadata["configurations"]
    assert max(metadata["pairs"]) == 1000  # up to 1,000 sampled pairs per configuration
    finding = text_of(browser, "#evolution-finding")
    assert re.search(
        r"Metadata edit similarity: siblings \d\.\d\d \[\d\.\d\d, \d\.\d\d\] vs parent–child "
        r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]",
        finding,
    )
    assert "nan" not in browser.find_element(By.ID, "_pages_content").text.lower()
    browser.set_window_size(1400, 1500)
    try:
        screenshot(browser, "evolution")
    finally:
        browser.set_window_size(1400, 900)
    assert console_errors(browser) == []


def test_the_papers_numbers_are_labelled_as_the_papers(browser, dashboard_url, wait_for):
    browser.get(dashboard_url + "/evolution")
    wait_for(browser, "#evolution-mutation-table", timeout=60)
    header = [
        cell.text
        for cell in browser.find_elements(By.CSS_SELECTOR, "#evolution-mutation-table thead th")
    ]
    assert header == ["trait", "rate (this build)", "links", "relation", "the paper's rate (links)"]
    rows = mutation_rows(browser)
    assert rows["language"][4] == "0.242 (47,369 links)"  # the paper's, in the paper's column
    assert "0.242" not in rows["language"][1]
    assert "the paper's" in text_of(browser, "#evolution-order-language")
    drift = text_of(browser, "#evolution-drift-table")
    assert "the paper's numbers" in drift and "9,773 → 4,402" in drift


def test_the_relation_and_the_family_are_kept_in_the_url_and_change_the_numbers(
    browser, wait_until, dashboard_url, wait_for, console_errors
):
    browser.get(dashboard_url + "/evolution?model=" + FAMILY.replace("/", "%2F"))
    wait_for(browser, "#evolution-mutation-table", timeout=60)
    whole = mutation_rows(browser)
    assert whole["license"][3] == "finetune"  # the default: finetune links where typed

    choose_relation(browser, "every link", wait_until)
    wait_until(lambda: query_of(browser).get("relation") == ["all"], message="relation=all")
    wait_until(
        lambda: mutation_rows(browser).get("license", [""] * 4)[3] == "all", message="every link"
    )
    assert "(all)" in text_of(browser, "#evolution-scope")

    browser.find_element(By.CSS_SELECTOR, "label[for=evolution-family]").click()
    wait_until(lambda: query_of(browser).get("family") == ["1"], message="family=1")
    wait_until(
        lambda: text_of(browser, "#evolution-scope").startswith(f"The family of {FAMILY}: 390"),
        message="the family's findings",
    )
    family = mutation_rows(browser)
    assert int(family["license"][2]) < int(whole["license"][2].replace(",", ""))
    assert family["license"][3] == "all"
    assert query_of(browser)["model"] == [FAMILY]

    # the bookmarked URL restores both settings
    browser.get(browser.current_url)
    wait_for(browser, "#evolution-mutation-table", timeout=60)
    wait_until(
        lambda: text_of(browser, "#evolution-scope").startswith(f"The family of {FAMILY}"),
        message="the restored family",
    )
    assert browser.find_element(By.ID, "evolution-family").is_selected()
    assert "every link" in text_of(browser, "#evolution-relation")
    largest = browser.find_elements(By.CSS_SELECTOR, "#evolution-largest a")
    assert largest and "/network?" in largest[0].get_attribute("href")
    assert console_errors(browser) == []

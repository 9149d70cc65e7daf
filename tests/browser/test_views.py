"""Every view in a real headless Chromium, served by `hfmap serve` over the bundled sample.

Each test loads a page, waits for what a person would see, acts the way a person would
(typing, clicking a point, dragging a box) and checks the page's answer. Screenshots of
each view are taken (the README's with HFMAP_SCREENSHOTS=docs/screenshots).
"""

import re
import time
from urllib.parse import parse_qs, urlsplit

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

MAP = "#map-graph .js-plotly-plot"

# JavaScript: the map's drawn points as {trace, index, row, x, y} in page pixels (relative to the
# plot div).
DRAWN_POINTS = """
const gd = document.querySelector(arguments[0]);
if (!gd || !gd._fullData || !gd._fullLayout || !gd._fullLayout.xaxis) return [];
const size = gd._fullLayout._size, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const points = [];
gd._fullData.forEach((trace, t) => {
  if (trace.mode !== 'markers' || !trace.customdata) return;
  for (let i = 0; i < trace.x.length; i++) {
    points.push({trace: t, index: i, row: trace.customdata[i], name: trace.name,
                 x: xa._offset + xa.d2p(trace.x[i]), y: ya._offset + ya.d2p(trace.y[i])});
  }
});
return points;
"""


def text_of(browser, css: str) -> str:
    """The text of the first element matching css ("" when there is none), read again if Dash
    replaced the element meanwhile."""
    for _ in range(5):
        try:
            found = browser.find_elements(By.CSS_SELECTOR, css)
            return found[0].text if found else ""
        except StaleElementReferenceException:
            continue
    return ""


def matching_count(browser) -> int | None:
    """The "N of M models match" number of the current view."""
    match = re.search(r"([\d,]+) of [\d,]+ models match", text_of(browser, "#map-count"))
    return int(match.group(1).replace(",", "")) if match else None


def drawn_points(browser) -> list[dict]:
    return browser.execute_script(DRAWN_POINTS, MAP)


def open_view(browser, url: str, ready_css: str, wait_for) -> None:
    browser.get(url)
    wait_for(browser, ready_css, timeout=60)


def click_at(browser, element, x: float, y: float) -> None:
    """A real mouse click at (x, y) pixels from the element's top left corner."""
    box = element.rect
    ActionChains(browser).move_to_element_with_offset(
        element, x - box["width"] / 2, y - box["height"] / 2
    ).click().perform()


def test_map_draws_every_sample_model_without_console_errors(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    open_view(browser, dashboard_url + "/", MAP, wait_for)
    points = wait_until(lambda: drawn_points(browser), message="points on the map")
    assert len(points) == 1271
    assert "1,271 of 1,271 models match the filters; 1,271 of 1,271 drawn" in text_of(
        browser, "#map-count"
    )
    legend = [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "#map-graph .legend .legendtext")
    ]
    # the 12 most frequent libraries, then "(other values)" and "(none)"
    assert legend[0] == "transformers" and len(legend) <= 14
    screenshot(browser, "map")
    assert console_errors(browser) == []


def test_a_filter_change_changes_the_counts_and_the_url(
    browser, wait_until, dashboard_url, wait_for, console_errors
):
    open_view(browser, dashboard_url + "/", MAP, wait_for)
    wait_until(lambda: matching_count(browser) == 1271, message="the unfiltered count")
    search = browser.find_element(By.ID, "filter-search")
    search.send_keys("gemma")
    wait_until(
        lambda: matching_count(browser) not in (None, 1271),
        message="the count to follow the search",
    )
    count = matching_count(browser)
    assert 300 < count < 1271
    wait_until(lambda: len(drawn_points(browser)) == count, message="only matching models drawn")
    assert parse_qs(urlsplit(browser.current_url).query)["search"] == ["gemma"]
    minimum = browser.find_element(By.ID, "filter-min-downloads")
    minimum.send_keys(Keys.CONTROL, "a")
    minimum.send_keys("100", Keys.TAB)
    wait_until(
        lambda: (matching_count(browser) or count) < count,
        message="the count to follow the minimum downloads",
    )
    assert console_errors(browser) == []


def test_hovering_and_clicking_a_model_shows_it_and_opens_its_details(
    browser, wait_until, dashboard_url, wait_for, console_errors
):
    open_view(browser, dashboard_url + "/", MAP, wait_for)
    points = wait_until(lambda: drawn_points(browser), message="points on the map")
    graph = browser.find_element(By.CSS_SELECTOR, MAP)
    inside = [
        p
        for p in points
        if 60 < p["x"] < graph.rect["width"] - 60 and 60 < p["y"] < graph.rect["height"] - 60
    ]
    target = inside[len(inside) // 2]
    ActionChains(browser).move_to_element_with_offset(
        graph, target["x"] - graph.rect["width"] / 2, target["y"] - graph.rect["height"] / 2
    ).perform()
    hovered = wait_until(
        lambda: text_of(browser, "#map-hover"), message="the hovered model's facts"
    )
    model_id = hovered.splitlines()[0]  # the tooltip: the id, then the facts
    assert re.search(r"downloads · [\d,?]+ likes", hovered)
    click_at(browser, graph, target["x"], target["y"])
    wait_until(
        lambda: text_of(browser, "#details-model-id") == model_id, message=f"details of {model_id}"
    )
    details = text_of(browser, "#model-details-card")
    assert "Parents" in details and "Similar models" in details and "family" in details
    wait_until(  # the address follows the card (one callback later)
        lambda: parse_qs(urlsplit(browser.current_url).query).get("model") == [model_id],
        message=f"{model_id} in the address",
    )
    assert console_errors(browser) == []


def test_a_box_selection_summarizes_the_models_inside(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    open_view(browser, dashboard_url + "/", MAP, wait_for)
    wait_until(lambda: drawn_points(browser), message="points on the map")
    browser.find_element(By.CSS_SELECTOR, '#map-graph .modebar-btn[data-val="select"]').click()
    graph = browser.find_element(By.CSS_SELECTOR, MAP)
    width, height = graph.rect["width"], graph.rect["height"]
    ActionChains(browser).move_to_element_with_offset(
        graph, -width * 0.25, -height * 0.25
    ).click_and_hold().move_by_offset(width * 0.25, height * 0.25).move_by_offset(
        width * 0.25, height * 0.25
    ).release().perform()
    summary = wait_until(
        lambda: text_of(browser, "#selection-count"), message="the selection summary"
    )
    selected = int(re.search(r"([\d,]+) models", summary).group(1).replace(",", ""))
    assert 0 < selected < 1271
    assert parse_qs(urlsplit(browser.current_url).query)["sel"][0].startswith("box:")
    screenshot(browser, "map-selection")
    browser.execute_script(
        "arguments[0].click()", browser.find_element(By.ID, "selection-distributions-link")
    )
    wait_for(browser, "#dist-graph .js-plotly-plot", timeout=60)
    wait_until(
        lambda: (
            f"{selected:,} of 1,271 models in the map selection" in text_of(browser, "#dist-count")
        ),
        message="the distributions to follow the selection",
    )
    assert console_errors(browser) == []


def test_a_bookmarked_url_restores_the_view(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    query = (
        "?search=llama&libraries=transformers&dims=3&colour=cluster"
        "&model=meta-llama%2FLlama-2-7b-chat-hf"
    )
    open_view(
        browser, dashboard_url + "/" + query, "#map-graph .js-plotly-plot .gl-container", wait_for
    )
    wait_until(lambda: matching_count(browser) not in (None, 1271), message="the filtered count")
    assert browser.find_element(By.ID, "filter-search").get_attribute("value") == "llama"
    assert browser.find_element(By.CSS_SELECTOR, "#map-dims input[value='3']").is_selected()
    assert "transformers" in text_of(browser, "#filter-libraries")
    assert "cluster" in text_of(browser, "#map-colour")
    assert text_of(browser, "#details-model-id") == "meta-llama/Llama-2-7b-chat-hf"
    scene = wait_until(
        lambda: browser.execute_script(
            "const gd = document.querySelector(arguments[0]); "
            "return gd && gd._fullLayout && gd._fullLayout.scene ? 1 : 0;",
            MAP,
        ),
        message="a 3D scene",
    )
    assert scene
    time.sleep(1.0)  # let WebGL finish the frame before the screenshot
    screenshot(browser, "map-3d")
    nav = browser.find_element(By.ID, "nav-network").get_attribute("href")
    assert (
        "search=llama" in nav and "model=meta-llama" in nav
    )  # other views keep the filters and the model
    assert console_errors(browser) == []


def test_switching_to_3d_draws_a_scene_with_the_3d_budget(
    browser, wait_until, dashboard_url, wait_for, console_errors
):
    open_view(browser, dashboard_url + "/", MAP, wait_for)
    wait_until(lambda: drawn_points(browser), message="points on the map")
    assert browser.find_element(By.ID, "map-budget").get_attribute("value") == "100000"
    browser.find_element(By.CSS_SELECTOR, "#map-dims input[value='3']").click()
    wait_until(
        lambda: browser.execute_script(
            "const gd = document.querySelector(arguments[0]); "
            "return gd && gd._fullLayout && gd._fullLayout.scene ? 1 : 0;",
            MAP,
        ),
        message="a 3D scene",
    )
    assert browser.find_element(By.ID, "map-budget").get_attribute("value") == "20000"
    assert parse_qs(urlsplit(browser.current_url).query)["dims"] == ["3"]
    assert console_errors(browser) == []


def test_network_shows_the_family_of_a_known_model_and_recentres_on_click(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    open_view(
        browser,
        dashboard_url + "/network?model=google%2Fgemma-7b&show=family&nodes=1000&layout=cose",
        "#network-graph",
        wait_for,
    )
    wait_until(
        lambda: (
            "390 models: google/gemma-7b; 0 ancestors, 389 of 389 descendants"
            in text_of(browser, "#network-count")
        ),
        message="the gemma-7b family count",
    )
    nodes = wait_until(
        lambda: browser.execute_script("return window.cy && window.cy.nodes().length"),
        message="drawn nodes",
    )
    assert nodes == 390
    assert browser.execute_script("return window.cy.edges().length") == 389
    assert text_of(browser, "#details-model-id") == "google/gemma-7b"
    screenshot(browser, "network")
    leaf = """const node = window.cy.nodes()
                   .filter(n => !n.hasClass('centre') && n.degree() === 1)[0];
               const p = node.renderedPosition();
               return {id: node.data('model_id'), x: p.x, y: p.y};"""
    positions = [None]

    def settled():  # the force-directed layout has stopped moving the node
        positions.append(browser.execute_script(leaf))
        time.sleep(0.3)
        return positions[-1] == positions[-2] and positions[-1]

    child = wait_until(settled, message="the layout to settle")
    canvas = browser.find_element(By.ID, "network-graph")
    click_at(browser, canvas, child["x"], child["y"])
    wait_until(
        lambda: text_of(browser, "#details-model-id") == child["id"],
        message=f"re-centring on {child['id']}",
    )
    wait_until(
        lambda: f": {child['id']};" in text_of(browser, "#network-count"),
        message="the new centre's graph",
    )
    assert "1 ancestors" in text_of(browser, "#network-count")
    assert console_errors(browser) == []


def test_distributions_follow_the_filters(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    open_view(
        browser,
        dashboard_url + "/distributions?attr=likes",
        "#dist-graph .js-plotly-plot",
        wait_for,
    )
    wait_until(
        lambda: "1,271 of 1,271 models match" in text_of(browser, "#dist-count"),
        message="the histogram count",
    )
    bars = browser.execute_script(
        "return document.querySelectorAll('#dist-graph .bars path').length"
    )
    assert bars > 5
    screenshot(browser, "distributions")
    browser.find_element(By.ID, "filter-search").send_keys("diffusion")
    wait_until(
        lambda: re.search(r"^\d+ of 1,271 models match", text_of(browser, "#dist-count")),
        message="the filtered count",
    )
    names = browser.execute_script(
        "return document.querySelector('#dist-graph .js-plotly-plot')._fullData.map(t => t.name)"
    )
    assert names == ["all models", "filtered models"]
    assert console_errors(browser) == []


def test_families_sort_and_open_in_the_network_view(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    open_view(browser, dashboard_url + "/families", "#families-table td", wait_for)
    wait_until(
        lambda: "10 families" in text_of(browser, "#families-count"), message="the family count"
    )
    first = lambda: text_of(browser, "#families-table tbody tr:nth-child(2) td:first-child")  # noqa: E731 (row 1 is the header)
    assert first() == "meta-llama/Llama-2-7b-chat-hf"
    screenshot(browser, "families")
    downloads_sort = "#families-table th[data-dash-column='total_downloads'] .column-header--sort"
    browser.find_element(By.CSS_SELECTOR, downloads_sort).click()  # largest first
    wait_until(lambda: "sort=total_downloads" in browser.current_url, message="the sort")
    browser.find_element(By.CSS_SELECTOR, downloads_sort).click()  # then smallest first
    wait_until(lambda: first() == "bigscience/bloom", message="families sorted by downloads")
    assert "sort=total_downloads" in browser.current_url
    browser.find_element(By.LINK_TEXT, "google/gemma-7b").click()
    wait_until(
        lambda: "models: google/gemma-7b; 0 ancestors" in text_of(browser, "#network-count"),
        message="the family in the network view",
    )
    assert console_errors(browser) == []


def test_drift_shows_the_papers_findings_on_the_sample(
    browser, wait_until, dashboard_url, wait_for, console_errors, screenshot
):
    open_view(browser, dashboard_url + "/drift", "#drift-findings-list", wait_for)
    findings = text_of(browser, "#drift-findings-list")
    assert (
        "1,261 parent links" in findings
        and "English only" in findings
        and "Median card length" in findings
    )
    wait_until(
        lambda: browser.execute_script(
            "return ['drift-licenses','drift-languages','drift-auto','drift-card-length'].every("
            "id => document.querySelector('#' + id + ' .js-plotly-plot') && "
            "document.querySelector('#' + id + ' .js-plotly-plot')._fullData.length)"
        ),
        message="four drift figures",
    )
    screenshot(browser, "drift")
    assert console_errors(browser) == []


def test_semantic_search_lists_and_rings_the_nearest_models(
    browser, wait_until, dashboard_url, wait_for, console_errors
):
    open_view(browser, dashboard_url + "/", MAP, wait_for)
    wait_until(lambda: drawn_points(browser), message="points on the map")
    box = browser.find_element(By.ID, "map-semantic")
    box.send_keys("stable diffusion text to image", Keys.ENTER)
    hits = wait_until(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#semantic-hits li"), message="semantic hits"
    )
    assert len(hits) == 25
    wait_until(
        lambda: any(p["name"] == "semantic search hits" for p in drawn_points(browser)),
        message="ringed hits",
    )
    assert parse_qs(urlsplit(browser.current_url).query)["q"] == ["stable diffusion text to image"]
    assert console_errors(browser) == []

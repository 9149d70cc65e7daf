"""The Map view in a real headless Chromium over the bundled sample: the density layer of every
model beneath the points, the tooltip at the pointer and a click that opens the hovered model
(nothing above the map moves on hover), cluster labels that never overlap nor leave the plot, a
legend beside the plot with long values in full on hover, and "Zoom to matches"."""

import time
from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

MAP = "#map-graph .js-plotly-plot"

# JavaScript: the map's drawn points as {row, x, y} in pixels from the plot div's top left corner
# and their map positions (dx, dy).
DRAWN_POINTS = """
const gd = document.querySelector(arguments[0]);
if (!gd || !gd._fullData || !gd._fullLayout || !gd._fullLayout.xaxis) return [];
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const points = [];
gd._fullData.forEach((trace) => {
  if (trace.mode !== 'markers' || !trace.customdata) return;
  for (let i = 0; i < trace.x.length; i++) {
    points.push({row: trace.customdata[i], x: xa._offset + xa.d2p(trace.x[i]),
                 y: ya._offset + ya.d2p(trace.y[i]), dx: trace.x[i], dy: trace.y[i]});
  }
});
return points;
"""

# JavaScript: the page boxes ({left, top, right, bottom}) of the elements matching a selector.
BOXES = """
return Array.from(document.querySelectorAll(arguments[0])).map((e) => {
  const r = e.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, text: e.textContent};
});
"""


def boxes(browser, css: str) -> list[dict]:
    return browser.execute_script(BOXES, css)


def open_map(browser, url: str, wait_for, wait_until) -> list[dict]:
    """Open the map at url; its drawn points once they are drawn and stay put (plotly moves the
    plot once more when it makes room for the legend)."""
    browser.get(url)
    wait_for(browser, MAP, timeout=60)
    drawn: list = [None]

    def settled():
        before, drawn[0] = drawn[0], browser.execute_script(DRAWN_POINTS, MAP)
        time.sleep(0.3)
        return drawn[0] if drawn[0] and drawn[0] == before else None

    return wait_until(settled, message="drawn points that stay put")


def test_the_density_of_every_model_lies_beneath_the_points(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    open_map(browser, dashboard_url + "/", wait_for, wait_until)
    image = wait_for(browser, "#map-graph .layer-subplot .imagelayer image")
    assert image.get_attribute("href").startswith("data:image/png;base64,")
    # beneath the points: in the subplot's layer below the traces (the points are drawn over it)
    image_box = boxes(browser, "#map-graph .layer-subplot .imagelayer image")[0]
    plot_box = boxes(browser, "#map-graph .nsewdrag")[0]
    assert image_box["left"] <= plot_box["left"] + 1 and image_box["right"] >= plot_box["right"] - 1
    # the legend sits outside the plot, beside it, and names each value in full on hover
    legend = boxes(browser, "#map-graph .legend .legendtext")
    assert legend and max(entry["right"] for entry in legend) <= plot_box["left"]
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('#map-graph .legend .traces > title'))"
        ".map((t) => t.textContent)"
    )
    assert "transformers" in titles
    assert console_errors(browser) == []


def test_a_click_opens_the_model_hovered_and_nothing_above_the_map_moves(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    points = open_map(browser, dashboard_url + "/", wait_for, wait_until)
    graph = browser.find_element(By.CSS_SELECTOR, MAP)
    width, height = graph.rect["width"], graph.rect["height"]
    above = "#map-count, #map-zoom-matches, #map-graph, .navbar"
    before = boxes(browser, above)
    inside = [p for p in points if 80 < p["x"] < width - 80 and 80 < p["y"] < height - 120]
    target = inside[len(inside) // 2]
    ActionChains(browser).move_to_element_with_offset(
        graph, target["x"] - width / 2, target["y"] - height / 2
    ).perform()
    hovered = wait_until(
        lambda: browser.find_element(By.ID, "map-hover").text, message="the tooltip"
    )
    model_id = hovered.splitlines()[0]
    assert "/" in model_id and "downloads" in hovered
    # the tooltip is at the pointer, and nothing above the map changed place or height
    tooltip = boxes(browser, "#map-tooltip")[0]
    pointer_x, pointer_y = graph.rect["x"] + target["x"], graph.rect["y"] + target["y"]
    assert abs(tooltip["left"] - pointer_x) < 60
    assert tooltip["top"] - 60 < pointer_y < tooltip["bottom"] + 60
    assert boxes(browser, above) == before
    ActionChains(browser).click().perform()  # where the pointer is: on the hovered point
    wait_until(
        lambda: (
            browser.execute_script(  # read in the page: the card may be redrawn meanwhile
                "const e = document.getElementById('details-model-id'); return e && e.textContent"
            )
            == model_id
        ),
        message=f"the details of {model_id}",
    )
    wait_until(  # the address follows the card (one callback later)
        lambda: parse_qs(urlsplit(browser.current_url).query).get("model") == [model_id],
        message=f"{model_id} in the address",
    )
    assert console_errors(browser) == []


def test_cluster_labels_never_overlap_nor_leave_the_plot(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    for query in ("", "?zoom=box%3A-10%2C10%2C-5%2C15"):
        open_map(browser, dashboard_url + "/" + query, wait_for, wait_until)
        labels = wait_until(
            lambda: boxes(browser, "#map-graph .annotation-text"), message="cluster labels"
        )
        plot = boxes(browser, "#map-graph .nsewdrag")[0]
        for i, label in enumerate(labels):
            assert plot["left"] <= label["left"] and label["right"] <= plot["right"], label
            assert plot["top"] <= label["top"] and label["bottom"] <= plot["bottom"], label
            for other in labels[i + 1 :]:
                assert not (
                    label["left"] < other["right"]
                    and other["left"] < label["right"]
                    and label["top"] < other["bottom"]
                    and other["top"] < label["bottom"]
                ), (label, other)
    assert console_errors(browser) == []


def test_zoom_to_matches_frames_the_filtered_models(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    open_map(browser, dashboard_url + "/", wait_for, wait_until)
    assert not browser.find_element(By.ID, "map-zoom-matches").is_displayed()  # nothing to match
    points = open_map(browser, dashboard_url + "/?search=stable-diffusion", wait_for, wait_until)
    x_range = "return document.querySelector(arguments[0])._fullLayout.xaxis.range"
    start = browser.execute_script(x_range, MAP)
    wait_for(browser, "#map-zoom-matches").click()
    zoom = wait_until(
        lambda: parse_qs(urlsplit(browser.current_url).query).get("zoom"), message="a zoom"
    )
    x0, x1, y0, y1 = (float(v) for v in zoom[0].removeprefix("box:").split(","))
    wait_until(
        lambda: browser.execute_script(x_range, MAP) == [x0, x1], message="the map at the box"
    )
    assert x1 - x0 < 0.8 * (start[1] - start[0])  # closer than the view of every model
    framed = [p for p in points if x0 <= p["dx"] <= x1 and y0 <= p["dy"] <= y1]
    assert len(framed) >= 0.95 * len(points)  # the matching models (all drawn) are in view
    open_map(browser, browser.current_url, wait_for, wait_until)  # the URL, bookmarked
    assert browser.execute_script(x_range, MAP) == [x0, x1]  # opens at the same box
    image = browser.execute_script(
        "return document.querySelector(arguments[0])._fullLayout.images[0]", MAP
    )
    assert image["x"] == x0 and image["y"] == y1  # the density of that box
    assert console_errors(browser) == []

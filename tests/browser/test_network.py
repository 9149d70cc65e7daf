"""The network view's family tree in a real headless Chromium over the bundled sample: a family
opens as a tree (ancestors above the model, descendants below) quickly and without a console
warning, a "+N more" node opens on click, and the family downloads as GraphML and CSV.

Positions are read from cytoscape itself: dash-cytoscape keeps its instance in window.cy."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from urllib.parse import quote

import networkx as nx
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

MODEL = "inceptionai/jais-adapted-7b-chat"  # 2 ancestors, 15 children: 12 drawn, "+3 more"
ANCESTORS = ("inceptionai/jais-adapted-7b", "meta-llama/Llama-2-7b")
LARGE = "google/gemma-7b"  # 389 descendants

# JavaScript: every drawn node as {id, model, label, x, y} (model positions) and rendered ones
NODES = """
const cy = window.cy;
if (!cy) return [];
return cy.nodes().map(n => ({id: n.id(), model: n.data('model_id') || null,
    label: n.data('label'), centre: n.hasClass('centre'), more: n.hasClass('more'),
    x: n.position('x'), y: n.position('y'),
    rx: n.renderedPosition('x'), ry: n.renderedPosition('y')}));
"""
# JavaScript: milliseconds from opening arguments[1] inside the app (as a link of the app does:
# Dash's router renders the view, no page load) until the first frame after cytoscape holds a
# centre node of the model arguments[0], in window.__opened
OPEN_IN_APP = """
const target = arguments[0];
window.__opened = null;
const clicked = performance.now();
(function poll() {
  const cy = window.cy;
  const centre = cy && location.pathname === '/network' && cy.nodes('.centre')[0];
  if (centre && centre.data('model_id') === target && centre.position('y') !== undefined) {
    requestAnimationFrame(() => { window.__opened = performance.now() - clicked; });
    return;
  }
  requestAnimationFrame(poll);
})();
window.history.pushState({}, '', arguments[1]);
window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));
"""


# JavaScript: the pairs of shown labels whose boxes (as cytoscape measured the drawn text) overlap,
# and how many labels are shown
LABEL_OVERLAPS = """
const boxes = window.cy.nodes().filter(n => n.data('label')).map(n => Object.assign(
    {label: n.data('label')},
    n.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true})));
const overlaps = [];
boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
  if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlaps.push([a.label, b.label]);
}));
return {shown: boxes.length, overlaps: overlaps};
"""


def network_url(base: str, model: str, query: str = "") -> str:
    return f"{base}/network?model={quote(model, safe='')}{query}"


def drawn_nodes(browser, wait_until, model: str) -> list[dict]:
    """The graph's nodes once it is drawn around model."""
    return wait_until(
        lambda: (
            [n for n in browser.execute_script(NODES) if n["centre"] and n["model"] == model]
            and browser.execute_script(NODES)
        ),
        message=f"the graph of {model}",
    )


def warnings_and_errors(browser) -> list[str]:
    """Console WARNING and SEVERE messages since the last read (favicon 404s left out)."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] in ("WARNING", "SEVERE") and "favicon.ico" not in entry["message"]
    ]


def test_a_family_opens_as_a_tree_without_a_console_warning(
    browser, dashboard_url, wait_for, wait_until
):
    browser.get_log("browser")  # drain what earlier tests left
    browser.get(network_url(dashboard_url, MODEL, "&show=family"))
    wait_for(browser, "#network-graph")
    nodes = drawn_nodes(browser, wait_until, MODEL)
    by_model = {n["model"]: n for n in nodes if n["model"]}
    centre = by_model[MODEL]
    parent, grandparent = (by_model[m] for m in ANCESTORS)
    children = [n for n in nodes if not n["centre"] and n["model"] not in ANCESTORS]
    assert len(children) == 13  # 12 children and one "+3 more" node
    assert grandparent["y"] < parent["y"] < centre["y"]
    assert all(child["y"] > centre["y"] for child in children)
    assert len({child["y"] for child in children}) == 1  # one generation, one row
    assert warnings_and_errors(browser) == []


def test_a_large_family_opens_in_the_app_within_two_seconds(
    browser, dashboard_url, wait_for, wait_until
):
    browser.get(dashboard_url + "/families")
    wait_for(browser, "#families-table td a")
    browser.execute_script(OPEN_IN_APP, LARGE, network_url("", LARGE, "&show=family"))
    opened = wait_until(lambda: browser.execute_script("return window.__opened"), 30, "the tree")
    assert opened <= 2000
    nodes = browser.execute_script(NODES)
    assert any(n["more"] and n["label"].startswith("+") for n in nodes)  # grouped, readable
    labels = browser.execute_script(LABEL_OVERLAPS)
    assert labels["shown"] > 5 and labels["overlaps"] == []
    assert warnings_and_errors(browser) == []


def test_a_more_node_draws_its_models_on_click(browser, dashboard_url, wait_for, wait_until):
    browser.get(network_url(dashboard_url, MODEL, "&show=family"))
    wait_for(browser, "#network-graph")
    before = drawn_nodes(browser, wait_until, MODEL)
    group = next(n for n in before if n["more"])
    assert group["label"].startswith("+3 more (")
    canvas = browser.find_element(By.ID, "network-graph")
    box = canvas.rect
    ActionChains(browser).move_to_element_with_offset(
        canvas, group["rx"] - box["width"] / 2, group["ry"] - box["height"] / 2
    ).perform()
    hover = wait_until(  # the line above the graph says what the node under the pointer is
        lambda: (
            "click to draw 3" in (text := browser.find_element(By.ID, "network-hover").text)
            and text
        ),
        message="the hovered node's line",
    )
    assert hover.startswith("3 more ")
    ActionChains(browser).click().perform()
    after = wait_until(
        lambda: (
            (nodes := browser.execute_script(NODES)) and not any(n["more"] for n in nodes) and nodes
        ),
        message="the group's models drawn",
    )
    models_before = {n["model"] for n in before if n["model"]}
    added = {n["model"] for n in after if n["model"]} - models_before
    assert len(added) == 3 and models_before <= {n["model"] for n in after}
    siblings = {n["model"] for n in before if n["y"] == group["y"] and n["model"]}
    rows = {n["y"] for n in after if n["model"] in added | siblings}
    assert len(rows) == 1  # in their generation's row, beside the models drawn before


def test_the_family_downloads_as_graphml_and_csv(
    browser, dashboard_url, wait_for, wait_until, tmp_path
):
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    browser.get(network_url(dashboard_url, MODEL, "&show=family"))
    wait_for(browser, "#network-graph")
    drawn_nodes(browser, wait_until, MODEL)
    press(browser, wait_until, "network-download-graphml")
    graphml = wait_until(lambda: downloaded(tmp_path, ".graphml"), message="the GraphML file")
    graph = nx.read_graphml(graphml)
    assert MODEL in graph and set(ANCESTORS) <= set(graph)
    assert graph.nodes[MODEL]["author"] == "inceptionai"
    assert graph.number_of_nodes() == 18  # 2 ancestors, the model, its 15 children
    press(browser, wait_until, "network-download-csv")
    edges = wait_until(lambda: downloaded(tmp_path, ".csv"), message="the CSV file")
    rows = list(csv.DictReader(io.StringIO(edges.read_text(encoding="utf-8"))))
    assert {(r["parent_id"], r["child_id"], r["relation"]) for r in rows} == {
        (parent, child, relation) for parent, child, relation in graph.edges(data="relation")
    }


def press(browser, wait_until, button_id: str) -> None:
    """Scroll a button into view and click it once nothing covers it, as a person would."""
    button = browser.find_element(By.ID, button_id)
    uncovered = """const box = arguments[0].getBoundingClientRect();
        arguments[0].scrollIntoView({block: 'center'});
        return document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2)
            === arguments[0];"""
    wait_until(lambda: browser.execute_script(uncovered, button), message=f"#{button_id} shown")
    button.click()


def downloaded(folder: Path, suffix: str) -> Path | None:
    """The finished download in folder whose name ends with suffix."""
    time.sleep(0.05)
    found = [p for p in folder.iterdir() if p.name.endswith(suffix)]
    return found[0] if found else None

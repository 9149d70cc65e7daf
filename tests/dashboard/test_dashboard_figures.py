"""Figure functions: what the browser is sent for the map, the network, the histograms and the drift
view."""

import base64

import numpy as np
import orjson
import pytest
from flask import Flask
from plotly.io.json import to_json_plotly

from dashboard.cache import init_query_cache
from dashboard.data import Build
from dashboard.figures.distributions import histogram_figure
from dashboard.figures.drift import card_length_figure, transition_heatmap
from dashboard.figures.map import map_figure, point_sizes
from dashboard.figures.network import COSE, COSE_MAX_NODES, graph_elements, graph_layout
from dashboard.filters import Filters, Selection
from dashboard.queries.distributions import histogram
from dashboard.queries.drift import cards_by_depth, license_drift
from dashboard.queries.map import map_contents
from dashboard.queries.network import graph_models, model_graph, passing_rows
from dashboard.queries.views import drawn_network


@pytest.fixture(scope="module")
def build(dashboard_build) -> Build:
    return dashboard_build


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize(
    "colour", ["library_name", "pipeline_tag", "license", "cluster", "depth", "downloads"]
)
def test_map_draws_every_row_once_as_compact_typed_arrays(build, dims, colour):
    rows = np.arange(0, build.size, 3, dtype=np.int32)
    figure = map_figure(map_contents(build, rows, dims, colour, "downloads"))
    markers = [t for t in figure["data"] if t["mode"] == "markers"]
    assert sorted(row for t in markers for row in t["customdata"]) == rows.tolist()
    first = markers[0]
    assert first["x"]["dtype"] == "f4" and first["marker"]["size"]["dtype"] == "u1"
    x = np.frombuffer(base64.b64decode(first["x"]["bdata"]), dtype=np.float32)
    np.testing.assert_allclose(
        x, build.numbers("x2d" if dims == 2 else "x")[first["customdata"]], atol=1e-3
    )
    assert all(
        t["hoverinfo"] == "none" for t in markers
    )  # hover facts come from the server, no per-point strings
    assert len(markers) <= 13  # 12 groups + other: a legend a person can read
    labels = (
        figure["layout"]["annotations"] if dims == 2 else figure["layout"]["scene"]["annotations"]
    )
    assert len(labels) >= 1  # cluster labels: annotations (above the points in 2D)
    assert len(to_json_plotly(figure)) < 30 * len(rows) + 20_000  # about 21 bytes a point


def test_map_colours_a_category_the_same_whatever_is_drawn(build):
    def transformers(figure):
        return next(t["marker"]["color"] for t in figure["data"] if t["name"] == "transformers")

    assert transformers(
        map_figure(map_contents(build, np.arange(0, 600, dtype=np.int32), 2))
    ) == transformers(
        map_figure(map_contents(build, np.arange(600, build.size, dtype=np.int32), 2))
    )


def test_map_marks_hits_the_opened_model_its_family_and_the_restored_view(build):
    rows = np.arange(build.size, dtype=np.int32)
    opened = build.row("google/gemma-7b")
    family = model_graph(build, "google/gemma-7b", "family", 100)
    zoom = Selection("box", (0, 1, 0, 1))
    selection = Selection("lasso", (0, 0, 1, 0, 0, 1))
    contents = map_contents(build, rows, 2, hits=[1, 2, 3], opened=opened, family=family)
    figure = map_figure(contents, zoom=zoom, selection=selection)
    names = [t["name"] for t in figure["data"]]
    assert "semantic search hits" in names and "opened model" in names and "finetune links" in names
    lines = next(t for t in figure["data"] if t["name"] == "finetune links")
    assert len(base64.b64decode(lines["x"]["bdata"])) == 4 * 3 * len(
        family.edges
    )  # parent, child, gap per link
    assert (
        figure["layout"]["xaxis"]["range"] == [0, 1]
        and figure["layout"]["selections"][0]["path"] == "M0,0L1,0L0,1Z"
    )


def test_point_sizes_grow_with_log_popularity():
    sizes = point_sizes(np.array([0, 9, 99, 999999, np.nan]), 2)
    assert (
        list(sizes[:4]) == sorted(sizes[:4]) and sizes[0] == 3 and sizes[3] == 14 and sizes[4] == 3
    )
    assert (point_sizes(np.zeros(20_000), 3) == 3).all()  # 3D: larger when fewer are drawn


def test_network_elements_colour_relations_and_fade_filtered_models(build):
    graph = model_graph(build, "google/gemma-7b", "both", 30, 5)
    elements = graph_elements(graph_models(build, graph, passing={graph.centre}))
    nodes = [e for e in elements if "source" not in e["data"]]
    edges = [e for e in elements if "source" in e["data"]]
    assert len(nodes) == len(graph.nodes) and nodes[0]["classes"] == "centre"
    assert all("filtered-out" in n["classes"] for n in nodes[1:])
    assert {e["data"]["relation"] for e in edges} == {"finetune", "similar"}
    assert len({e["data"]["id"] for e in edges}) == len(
        edges
    )  # a similarity pair once, however often it was found


def test_graphs_too_large_for_the_force_directed_layout_are_drawn_as_a_tree_in_rings():
    layout, note = graph_layout("cose", COSE_MAX_NODES + 1, 7, "key")
    assert layout == {
        "name": "breadthfirst",
        "animate": False,
        "roots": "[id = '7']",
        "circle": True,
        "drawn": "key",
    }
    assert note == f"; drawn as a tree in rings (force-directed up to {COSE_MAX_NODES:,} models)"
    assert graph_layout("cose", COSE_MAX_NODES, 7, "key") == ({**COSE, "drawn": "key"}, "")
    # the tree view's positions come with its elements: cytoscape only places them, at any size
    assert graph_layout("tree", 5000, 7, "key") == (
        {"name": "preset", "fit": True, "padding": 24, "animate": False, "drawn": "key"},
        "",
    )


def test_the_network_view_is_cached_finished_as_plain_json(build, redis_server):
    """drawn_network is what the graph callback sends: the second call reads the finished elements
    back from Redis, equal to a fresh computation, and they are plain JSON (no Dash component)."""
    server = Flask("test-network-cache")
    init_query_cache(server, redis_server.url)
    asked = (build, Filters(search="gemma"), "google/gemma-7b", "both", 30, 5, 1)
    with server.app_context():
        first = drawn_network.cached(*asked)
        entries = len(redis_server.entry_keys())
        second = drawn_network.cached(*asked)
        assert len(redis_server.entry_keys()) == entries  # read back, nothing computed or written
        fresh = drawn_network(*asked)
        assert drawn_network.cached(build, Filters(), "no/such", "both", 30, 5, 1) is None
        unfiltered = drawn_network.cached(build, Filters(), "google/gemma-7b", "both", 30, 5, 1)
        smaller = drawn_network.cached(build, Filters(), "google/gemma-7b", "both", 20, 5, 1)
    assert unfiltered.key == first.key != smaller.key  # the layout runs again for other elements
    assert first.nodes == len([e for e in first.elements if "source" not in e["data"]])
    assert second == first == fresh
    graph = model_graph(build, "google/gemma-7b", "both", 30, 5)
    passing = set(passing_rows(build, Filters(search="gemma"), tuple(graph.nodes)))
    assert first.elements == graph_elements(graph_models(build, graph, passing))
    assert first.centre == graph.centre
    assert first.count.startswith(f"{len(graph.nodes)} models: google/gemma-7b; 0 ancestors")
    assert first.count.endswith("pass the filters (the others are faded)")
    assert orjson.loads(orjson.dumps(first.elements)) == first.elements


def test_histogram_figure_puts_zeros_in_their_own_bar(build):
    result = histogram(build, Filters(search="gemma"), None, "downloads", True)
    figure = histogram_figure(result)
    assert [t.name for t in figure.data] == ["all models", "filtered models"]
    assert (
        figure.data[1].y[0] == result.at_most_zero
        and sum(figure.data[1].y) == result.counts.sum() + result.at_most_zero
    )
    assert figure.layout.xaxis.ticktext[0] == "0"


def test_drift_figures(build):
    licenses = license_drift(build, Filters(), "all")
    heatmap = transition_heatmap(licenses["labels"], licenses["counts"], "licenses")
    assert (
        np.asarray(heatmap.data[0].z).max() <= 1
        and np.asarray(heatmap.data[0].text).sum() == licenses["links"]
    )
    boxes = card_length_figure(cards_by_depth(build, Filters()))
    assert list(boxes.data[0].x) == ["base", "1", "2", "3"]


def test_the_details_card_says_unknown_where_the_source_had_no_card_data():
    from dashboard.components import card_fact

    assert (
        card_fact({"has_card": None, "card_length": None})
        == "unknown (the source has no card data)"
    )
    assert card_fact({"has_card": False, "card_length": 0}) == "none"
    assert card_fact({"has_card": True, "card_length": None}) == "yes"
    assert (
        card_fact({"has_card": True, "card_length": 1234, "card_auto_generated": True})
        == "1,234 characters, auto-generated"
    )

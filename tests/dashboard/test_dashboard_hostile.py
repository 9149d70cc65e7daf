"""The dashboard serves whatever a build holds: counts beyond 2**53, hostile and huge strings,
pathological families, out-of-range URL state and API parameters, a build pruned while served.

The hostile build is the built sample with edited tables (tests/hostile_builds.py); the app is
the real Dash app, asked through Flask's test client the way a browser asks it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dash
import numpy as np
import pandas as pd
import pytest
from dash_pages import open_page
from hostile_builds import (
    EVIL_LIBRARY,
    EVIL_ROOT,
    NOT_HUB_IDS,
    PARENT_COLUMNS,
    hostile_build,
    rename_largest_family_root,
)

from dashboard.components import details_card
from dashboard.figures.drift import transition_heatmap
from dashboard.figures.map import map_figure
from dashboard.figures.network import graph_elements
from dashboard.filters import Filters, Selection
from dashboard.pages.families import family_link
from dashboard.queries.map import map_contents
from dashboard.queries.models import OPTIONS_MAX_BYTES, category_options, model_details
from dashboard.queries.network import MAX_ANCESTORS, graph_models, model_graph
from dashboard.shown import URL_VALUE_CHARS
from dashboard.url_state import from_query
from pipeline.artifacts import prune_builds
from pipeline.build_format import POINTER, resolve_build
from pipeline.config import Settings

HUGE_DOWNLOADS = 10**16 + 1  # not a float, not a JSON number a browser keeps exactly
HUGE_LIKES = 2**62
HUGE_LICENSE = "x" * 20_000_000  # 20 MB
HUGE_ID = "huge/" + "x" * 1_000_000  # the id of a third leaf model: 1 MB
CHAIN = 50_000  # links in the deepest chain
MANY_PARENTS = 10_000
MB = 1_000_000
HOSTILE_ID = "20990101T000000000001Z"


def make_hostile(tables) -> None:
    models, families, edges = tables["models"], tables["families"], tables["edges"]
    rename_largest_family_root(tables, EVIL_ROOT)
    models.loc[0, "downloads"] = HUGE_DOWNLOADS
    families.loc[families["root_id"] == models.loc[0, "root_id"], "total_downloads"] += (
        HUGE_DOWNLOADS
    )
    models.loc[1, "likes"] = HUGE_LIKES
    models.at[2, "licenses"] = [HUGE_LICENSE]
    models.loc[models.index[-60:], "library_name"] = EVIL_LIBRARY
    leaves = models.index[(models["n_children"] == 0) & (models["depth"] > 0)][-3:]
    for row, model_id in zip(leaves, (*NOT_HUB_IDS, HUGE_ID)):
        edges.loc[edges["child_id"] == models.at[row, "model_id"], "child_id"] = model_id
        models.at[row, "model_id"] = model_id
        models.at[row, "datasets"] = ["../../evil/data", "javascript:alert(2)", "squad"]
        models.at[row, "arxiv_papers"] = ["javascript:alert(3)", "../../abs", "2106.09685"]
    # a chain CHAIN links deep under model 3, and a model with MANY_PARENTS parents (the chain's
    # first models)
    template = models.iloc[[3] * (CHAIN + 1)].reset_index(drop=True)
    template["model_id"] = [f"chain/m{i}" for i in range(CHAIN)] + ["merge/many-parents"]
    template["root_id"] = "chain/m0"
    template["depth"] = list(range(CHAIN)) + [1]
    template["n_descendants"] = [CHAIN - 1 - i for i in range(CHAIN)] + [0]
    for column in PARENT_COLUMNS:
        template[column] = None
    tables["models"] = pd.concat([models, template], ignore_index=True)
    links = pd.DataFrame(
        {
            "parent_id": [f"chain/m{i}" for i in range(CHAIN - 1)]
            + [f"chain/m{i}" for i in range(MANY_PARENTS)],
            "child_id": [f"chain/m{i + 1}" for i in range(CHAIN - 1)]
            + ["merge/many-parents"] * MANY_PARENTS,
            "relation": "finetune",
            "parent_in_data": True,
        }
    )
    tables["edges"] = pd.concat([edges, links], ignore_index=True)
    transitions = tables["transitions"]
    added = transitions.iloc[[0] * len(links)].reset_index(
        drop=True
    )  # the drift tables' row of each new link
    added["parent_id"], added["child_id"], added["relation"] = (
        links["parent_id"],
        links["child_id"],
        "finetune",
    )
    tables["transitions"] = pd.concat([transitions, added], ignore_index=True)
    family = families.iloc[[0]].copy()
    family["root_id"], family["size"], family["max_depth"] = "chain/m0", CHAIN + 1, CHAIN - 1
    tables["families"] = pd.concat([families, family], ignore_index=True)


@pytest.fixture(scope="module")
def hostile(sample_build, tmp_path_factory):
    """The hostile build's builds directory and cache directory, and the app serving it."""
    tmp = tmp_path_factory.mktemp("hostile")
    builds, cache = tmp / "builds", tmp / "cache"
    hostile_build(sample_build, builds, HOSTILE_ID, make_hostile)
    from dashboard.app import create_app

    app = create_app(builds, Settings(cache_dir=cache, tracker_db=tmp / "tracker.sqlite"))
    return {"builds": builds, "cache": cache, "app": app, "client": app.server.test_client()}


@pytest.fixture(scope="module")
def build(hostile):
    from dashboard.serving import served_build

    return served_build()


VIEWS = ["/", "/network", "/distributions", "/families", "/drift", "/growth", "/evolution"]


# ------------------------------------------------------------------------------ counts beyond 2**53


def test_counts_beyond_two_to_the_53_are_served_and_shown_exactly(hostile, build):
    record = model_details(build, build.model_id(0))["record"]
    assert record["downloads"] == HUGE_DOWNLOADS and isinstance(record["downloads"], int)
    card = json.dumps(
        details_card(model_details(build, build.model_id(1))).to_plotly_json(), default=str
    )
    assert f"{HUGE_LIKES:,}" in card
    card = json.dumps(
        details_card(model_details(build, build.model_id(0))).to_plotly_json(), default=str
    )
    assert "10,000,000,000,000,001" in card
    status, body = open_page(hostile["client"], "/", f"?model={build.model_id(0)}")
    assert status == 200 and "10,000,000,000,000,001" in body


def test_family_downloads_beyond_two_to_the_53_reach_the_table_as_text(hostile, build):
    from dashboard.pages.families import update_families

    rows, *_ = update_families(
        filters={},
        query="",
        view={
            "sort_by": [{"column_id": "total_downloads", "direction": "desc"}],
            "page": 0,
            "min_size": 1,
        },
    )
    top = rows[0]["total_downloads"]
    assert isinstance(top, str) and int(top.replace(",", "")) >= HUGE_DOWNLOADS


# ------------------------------------------------------------------------- hostile and huge strings


def test_a_20_mb_license_never_reaches_a_page(hostile, build):
    options = category_options(build, "license")
    assert all(len(o["value"]) <= URL_VALUE_CHARS and len(o["label"]) < 200 for o in options)
    assert sum(len(o["label"]) + len(o["value"]) for o in options) <= OPTIONS_MAX_BYTES
    for view in VIEWS:
        status, body = open_page(hostile["client"], view)
        assert status == 200 and len(body) < MB, (view, len(body))
    status, body = open_page(
        hostile["client"], "/", f"?model={build.model_id(2)}"
    )  # its details card
    assert status == 200 and len(body) < MB and "20,000,000 characters" in body


def test_strings_from_the_build_are_text_in_plotly_and_markdown(build):
    rows = np.arange(build.size, dtype=np.int32)
    figure = map_figure(map_contents(build, rows, 2, "library_name"))
    names = [trace["name"] for trace in figure["data"]]
    assert any(str(name).startswith('&lt;a href="https://evil') for name in names)
    assert not any("<a" in str(name) for name in names)
    heatmap = transition_heatmap(
        [EVIL_LIBRARY, "mit"], np.ones((2, 2), dtype=int), "t"
    ).to_plotly_json()
    assert "<a" not in json.dumps(heatmap["data"][0]["x"])
    link = family_link(EVIL_ROOT, "")
    text, _, target = link[1:].partition("](")
    assert "](" not in text and "[" not in text.replace("\\[", "") and "https://evil" not in target
    assert target.startswith("/network?model=x%5D%28https")


# ---------------------------------------------------------------------------- pathological families


def connected(graph) -> bool:
    """Every drawn node reaches the centre along drawn parent links (either direction)."""
    neighbours: dict[int, set[int]] = {}
    for a, b, kind, _ in graph.edges:
        if kind != "similar":
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    reached, frontier = {graph.centre}, [graph.centre]
    while frontier:
        frontier = [n for node in frontier for n in neighbours.get(node, ()) if n not in reached]
        reached.update(frontier)
    return set(graph.nodes) <= reached


def test_a_chain_50000_deep_draws_a_capped_connected_tree(build):
    graph = model_graph(build, f"chain/m{CHAIN - 1}", "both", 400)
    assert graph.ancestors == MAX_ANCESTORS and graph.ancestors_left_out == 1
    assert connected(graph)
    assert len(json.dumps(graph_elements(graph_models(build, graph)))) < MB
    top = model_graph(build, "chain/m0", "family", 2000)  # downwards: the budget of nodes
    assert (
        len(top.nodes) == 2000
        and top.descendants_shown == 1999
        and top.descendants_total == CHAIN - 1
    )
    assert connected(top)


def test_ten_thousand_parents_are_capped_in_the_graph_and_the_details(build):
    graph = model_graph(build, "merge/many-parents", "family", 400)
    assert (
        graph.ancestors == MAX_ANCESTORS
        and graph.ancestors_left_out == MANY_PARENTS - MAX_ANCESTORS
    )
    assert connected(graph)
    details = model_details(build, "merge/many-parents")
    assert details["n_parents"] == MANY_PARENTS and len(details["parents"]) == 50
    card = json.dumps(details_card(details).to_plotly_json(), default=str)
    assert len(card) < 100_000 and f"and {MANY_PARENTS - 50:,} more" in card


def test_the_network_view_says_what_it_left_out(hostile):
    from dashboard.pages.network import draw_network

    view = {
        "model": "merge/many-parents",
        "show": "family",
        "nodes": 150,
        "k": 10,
        "hops": [],
        "layout": "cose",
    }
    _, _, count = draw_network(filters={}, view=view)
    assert f"+{MANY_PARENTS - MAX_ANCESTORS:,} more not drawn" in count


# -------------------------------------------------------- out-of-range URL state and API parameters


@pytest.mark.parametrize(
    "view, search",
    [
        ("/", "?min_downloads=1e30&min_likes=1e400"),
        ("/", "?sel=lasso:0,0,inf,1,2,2&zoom=box:-inf,1,0,nan&budget=1e30"),
        ("/families", "?page=1e30&min_size=1e30"),
        ("/network", "?nodes=1e30&k=-5&model=" + "m" * 100_000),
        ("/distributions", "?sel=box:0,1e400,0,1&attr=nope"),
        ("/growth", "?min_downloads=nan"),
    ],
)
def test_out_of_range_url_state_opens_the_nearest_valid_view(hostile, view, search):
    status, body = open_page(hostile["client"], view, search)
    assert status == 200 and len(body) < MB


def test_out_of_range_values_reach_the_views_clipped(hostile, build):
    filters, view = from_query("?min_downloads=1e30&min_likes=inf&sel=lasso:0,0,inf,1,2,2")
    assert (
        filters.min_downloads == filters.min_likes == 2**63 - 1
        and Selection.from_text(view["sel"]) is None
    )
    assert (
        from_query("?min_downloads=9007199254740993&min_likes=-inf")[0].min_downloads == 2**53 + 1
    )
    assert (
        Selection.from_plotly({"lassoPoints": {"x": [0, float("inf"), 2], "y": [0, 1, 2]}}) is None
    )
    from dashboard.pages.families import update_families
    from dashboard.pages.map import update_map

    _, pages, page, _ = update_families(
        filters={}, view={"sort_by": None, "page": 10**30, "min_size": 2}, query=""
    )
    assert page == pages - 1  # the last page, not an empty one
    figure, count = update_map(
        filters={"min_downloads": 10**30},
        view={
            "dims": 2,
            "colour": "library_name",
            "size": "downloads",
            "budget": 10**30,
            "draw_family": False,
            "zoom": "box:0,inf,0,1",
            "model": None,
            "semantic": "",
            "selection": "lasso:0,0,inf,1,2,2",
        },
    )
    assert count.startswith("0 of ")


def test_api_history_with_a_time_before_the_first_utc_one_is_a_400(hostile):
    response = hostile["client"].get("/api/history?from=0001-01-01T00:00:00%2B01:00")
    assert response.status_code == 400 and "years 1 to 9999" in response.get_json()["error"]
    assert hostile["client"].get("/api/history?from=9999-12-31T23:59:59-01:00").status_code == 400
    assert hostile["client"].get("/api/history?from=2026-01-01").status_code == 200


# ------------------------------------------------------------------------------ links made from ids


def hrefs(component) -> list[str]:
    """Every href in a component tree (its JSON form)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("href"), str):
                found.append(node["href"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(json.dumps(component.to_plotly_json(), default=lambda c: c.to_plotly_json())))
    return found


@pytest.mark.parametrize("model_id", NOT_HUB_IDS)
def test_ids_that_are_not_hub_ids_make_no_outside_link(build, model_id):
    details = model_details(build, model_id)
    card = details_card(details)
    links = hrefs(card)
    outside = [href for href in links if not href.startswith("/")]
    tagged = [  # the card shows the papers of the model's arxiv: tags too (issue 15)
        f"https://arxiv.org/abs/{tag[6:]}"
        for tag in details["record"]["tags"]
        if tag.startswith("arxiv:")
    ]
    assert sorted(outside) == sorted(
        ["https://arxiv.org/abs/2106.09685", *tagged, "https://huggingface.co/datasets/squad"]
    )
    assert all(
        href.startswith(("/?model=", "/network?model=", "/compare?model="))
        for href in links
        if href.startswith("/")
    )
    assert not any("javascript" in href.split("?")[0] or "/../" in href for href in links)
    heading = json.dumps(card.to_plotly_json(), default=lambda c: c.to_plotly_json())
    assert json.dumps(model_id)[1:-1] in heading  # the id itself is shown, as text


def test_hub_links_are_percent_encoded_repo_pages_of_valid_ids():
    from dashboard.components import arxiv_url, hub_url

    assert (
        hub_url("mistralai/Mistral-7B-v0.1") == "https://huggingface.co/mistralai/Mistral-7B-v0.1"
    )
    assert hub_url("squad", "datasets") == "https://huggingface.co/datasets/squad"
    for bad in (*NOT_HUB_IDS, EVIL_ROOT, "a/b/c", "a/..", "https://evil.example/x", "a b", ""):
        assert hub_url(bad) is None, bad
    assert (
        arxiv_url("hep-th/9901001v2") == "https://arxiv.org/abs/hep-th/9901001v2"
        and arxiv_url("../x") is None
    )


def test_an_id_too_long_for_a_url_is_shown_shortened_without_a_link(hostile, build):
    from dashboard.pages.map import open_clicked

    parent = next(p["model_id"] for p in model_details(build, HUGE_ID)["parents"] if p["in_data"])
    card = json.dumps(
        details_card(model_details(build, parent)).to_plotly_json(),
        default=lambda c: c.to_plotly_json(),
    )
    assert len(card) < 100_000 and "1,000,005 characters" in card
    own = details_card(model_details(build, HUGE_ID))
    assert len(json.dumps(own.to_plotly_json(), default=lambda c: c.to_plotly_json())) < 100_000
    assert all(len(href) <= 3 * URL_VALUE_CHARS and "xxxxxxxxxx" not in href for href in hrefs(own))
    assert len(family_link(HUGE_ID, "")) < 1_000 and "](" not in family_link(HUGE_ID, "")
    row = build.row(HUGE_ID)
    assert open_clicked({"points": [{"customdata": row}]}) is dash.no_update
    assert open_clicked({"points": [{"customdata": build.row(parent)}]}) == parent


# -------------------------------------------------------------------- exact statistics beyond 2**53


def build_dir(hostile) -> Path:
    return hostile["builds"] / HOSTILE_ID


def exact_counts(hostile, column: str) -> list[int]:
    models = pd.read_parquet(
        build_dir(hostile) / "models.parquet", columns=[column], dtype_backend="pyarrow"
    )
    return [int(value) for value in models[column].dropna()]


def test_statistics_of_counts_beyond_two_to_the_53_are_exact(hostile, build):
    from fractions import Fraction

    from dashboard.pages.distributions import update_histogram
    from dashboard.queries.distributions import histogram, selection_summary

    downloads = exact_counts(hostile, "downloads")
    stats = histogram(build, Filters(), None, "downloads").stats
    assert stats["max"] == HUGE_DOWNLOADS and isinstance(stats["max"], int)
    assert stats["mean"] == float(
        Fraction(sum(downloads), len(downloads))
    )  # the correctly rounded exact mean
    for column, huge, filters in (
        ("downloads", HUGE_DOWNLOADS, Filters(min_downloads=HUGE_DOWNLOADS)),
        ("likes", HUGE_LIKES, Filters(min_likes=HUGE_LIKES)),
    ):
        stats = histogram(
            build, filters, None, column
        ).stats  # one model: every statistic is its count, exactly
        assert (
            stats["models"] == 1
            and stats["median"] == stats["mean"] == stats["p90"] == stats["max"] == huge
        ), stats
    _, _, table, _ = update_histogram(
        filters={"min_downloads": HUGE_DOWNLOADS},
        view={"attribute": "downloads", "log": True, "selection": None},
    )
    assert (
        json.dumps(table.to_plotly_json(), default=lambda c: c.to_plotly_json()).count(
            "10,000,000,000,000,001"
        )
        == 4
    )
    everything = Selection("box", (-1e9, 1e9, -1e9, 1e9))
    summary = selection_summary(build, Filters(), everything)
    assert summary["downloads"] == sum(downloads) and summary[
        "downloads_unknown"
    ] == build.size - len(downloads)


def test_minimum_counts_compare_exactly_beyond_two_to_the_53(build):
    from dashboard.filters import filter_mask

    assert filter_mask(build, Filters(min_likes=HUGE_LIKES)).sum() == 1
    assert (
        filter_mask(build, Filters(min_likes=HUGE_LIKES + 1)).sum() == 0
    )  # as floats, 2**62 + 1 == 2**62
    assert filter_mask(build, Filters(min_downloads=HUGE_DOWNLOADS)).sum() == 1
    assert filter_mask(build, Filters(min_downloads=HUGE_DOWNLOADS + 1)).sum() == 0


# ---------------------------------------------------------------------- hand-made callback requests


ODD_VALUES = [
    None,
    -1,
    10**30,
    1e308,
    "nan",
    "x" * 5_000,
    ["a", 1],
    {"a": [1]},
    True,
    "../../x",
    {"points": [{"customdata": 10**30}]},
    {"points": [{"customdata": -1}]},
]


def callback_payload(dependency: dict, values: dict) -> dict:
    """What the browser posts for one callback, with the given values for its inputs and states."""

    def spec(output: str) -> dict:
        component, _, prop = output.split("@")[0].rpartition(".")
        return {"id": component, "property": prop}

    output = dependency["output"]
    outputs = (
        [spec(part) for part in output.strip(".").split("...")]
        if output.startswith("..")
        else spec(output)
    )
    inputs = [
        {**item, "value": values.get(f"{item['id']}.{item['property']}")}
        for item in dependency["inputs"]
    ]
    state = [
        {**item, "value": values.get(f"{item['id']}.{item['property']}")}
        for item in dependency["state"]
    ]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def test_every_callback_answers_odd_values_with_a_view_never_a_500(hostile):
    """Any value of any type in any input or state of any callback (a hand-made request, a stale
    page) gives the nearest valid view, or a 400 when no page could have sent it."""
    client = hostile["client"]
    failures = []
    for dependency in client.get("/_dash-dependencies").get_json():
        if dependency.get("clientside_function"):  # runs in the browser; the server has none
            continue
        names = [
            f"{item['id']}.{item['property']}"
            for item in dependency["inputs"] + dependency["state"]
        ]
        for name in names:
            for value in ODD_VALUES:
                response = client.post(
                    "/_dash-update-component", json=callback_payload(dependency, {name: value})
                )
                if response.status_code >= 500 or (
                    response.status_code == 400 and not name.startswith("_pages")
                ):
                    failures.append(
                        (
                            dependency["output"][:60],
                            name,
                            json.dumps(value)[:40],
                            response.status_code,
                        )
                    )
    assert failures == [], "\n".join(map(str, failures))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"output": "nope.children", "inputs": []}).encode(),
        json.dumps({"output": "..no.such...outputs..", "inputs": [], "state": []}).encode(),
    ],
)
def test_a_request_that_names_no_callback_is_a_400(hostile, body):
    response = hostile["client"].post(
        "/_dash-update-component", data=body, content_type="application/json"
    )
    assert (
        response.status_code == 400
        and response.get_json()["error"] == "the request names no callback of this dashboard."
    )


def test_the_page_router_takes_only_text(hostile):
    status, _ = open_page(hostile["client"], "/network", "?model=x")
    assert status == 200
    for pathname, search in ((-1, ""), ("/", ["a"]), ("../../x", "")):
        status, body = open_page(hostile["client"], pathname, search)
        assert status == 400 and "must be text" in json.loads(body)["error"]


# ---------------------------------------------------------------------- a build pruned while served


def test_a_build_pruned_while_served_answers_from_the_current_build(hostile, build, sample_build):
    import dashboard.serving
    from dashboard.serving import served_build

    builds = hostile["builds"]
    served = served_build().path
    newer = []
    for number in range(2, 6):  # four newer builds, the last current; keep 3 prunes the served one
        target = builds / f"20990101T00000000000{number}Z"
        shutil.copytree(resolve_build(sample_build), target)
        manifest = json.loads((target / "manifest.json").read_text())
        (target / "manifest.json").write_text(json.dumps({**manifest, "build_id": target.name}))
        newer.append(target)
    (builds / POINTER).write_text(newer[-1].name + "\n")
    prune_builds(builds, 3)
    assert not served.exists()
    dashboard.serving._state[
        "gone_checked"
    ] = -1e9  # (a recent check of another test must not delay this one)
    for view in VIEWS:
        status, _ = open_page(hostile["client"], view, "?search=gemma")
        assert status == 200, view
    assert served_build().path == newer[-1]
    assert hostile["client"].get("/health").get_json()["build"] == newer[-1].name


def test_a_pruned_build_still_answers_while_no_other_build_replaces_it(sample_build, tmp_path):
    """The prepared files and the small tables outlive the build's directory (mapped or linked)."""
    from dashboard.data import Build
    from dashboard.queries.drift import license_drift
    from dashboard.queries.families import families_page

    source = resolve_build(sample_build)
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    loaded = Build.load(copy, tmp_path / "cache")
    shutil.rmtree(copy)
    assert families_page(loaded, Filters())["families"] > 0
    assert license_drift(loaded, Filters(), "all")["links"] > 0
    assert len(loaded.clusters) > 0 and model_details(loaded, loaded.model_id(0)) is not None
    # the findings are computed from the build's own files: one sentence, never a bug
    from dashboard.queries.findings import FindingsUnavailableError, build_findings

    with pytest.raises(FindingsUnavailableError, match="was replaced while it was shown"):
        build_findings(loaded, "all", None)

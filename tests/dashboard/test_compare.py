"""The Compare view (issue 16): two models' traits with the differences found exactly, their
similarity by the Evolution view's measures (checked against findings.resemblance run on the
build's own files), the path through their closest common ancestor, the case of no common
ancestor, and one sentence for an unknown id.

The build is a copy of the sample with a hand-made pair planted in it: two siblings whose traits
the test sets (tests/hostile_builds.py); the app is the real Dash app, asked through Flask's test
client the way a browser asks it.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from dash_pages import open_page
from hostile_builds import hostile_build

from dashboard.components import details_card
from dashboard.queries.compare import (
    TRAITS,
    compare_models,
    comparison_json,
    typical_similarity,
)
from dashboard.queries.findings import stored_findings
from dashboard.queries.models import model_details
from findings.pairs import PairSample
from findings.resemblance import MEASURES, PairMeasures
from pipeline.config import Settings

BUILD_ID = "20990101T000000000016Z"
PLANTED: dict[str, str] = {}  # "left", "right" (siblings), "parent", "stranger" (another family)
EVIL_TAG = '<img src=x onerror="alert(1)">'


def plant_pair(tables) -> None:
    """Give two siblings known traits; note them and a model of another family in PLANTED."""
    models = tables["models"]
    children = models[models["primary_parent"].isin(models["model_id"])]
    counts = children["primary_parent"].value_counts()
    parent = sorted(counts[counts >= 2].index)[0]
    left, right = sorted(children.loc[children["primary_parent"] == parent, "model_id"])[:2]
    row = {model: models.index[models["model_id"] == model][0] for model in (left, right)}
    root = models.at[row[left], "root_id"]
    stranger = models.loc[models["root_id"] != root, "model_id"].iat[0]
    PLANTED.update(left=left, right=right, parent=parent, stranger=stranger)
    values = {
        left: {
            "licenses": ["mit"],
            "languages": ["en", "fr"],
            # license: and dataset: tags count in their field, base_model: and a language's tag
            # are left out
            "tags": [
                "license:apache-2.0",
                "chat",
                "base_model:someone/else",
                "dataset:squad",
                "en",
            ],
            "datasets": [],
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "author": "left-author",
            "has_card": True,
            "card_length": 600,
            "card_excerpt": "a card that says enough " * 30,
            "card_auto_generated": False,
            "downloads": 5,
            "likes": 1,
            "created_at": pd.Timestamp("2024-01-02T10:00:00Z"),
        },
        right: {
            "licenses": ["MIT"],
            "languages": ["en"],
            "tags": ["chat", "quantized", EVIL_TAG],
            "datasets": ["squad", "glue"],
            "pipeline_tag": "text-generation",
            "library_name": "gguf",
            "author": "left-author",
            "has_card": True,
            "card_length": 2000,
            "card_excerpt": "a card written by a tool " * 30,
            "card_auto_generated": True,
            "downloads": 12_345,
            "likes": 1,
            "created_at": pd.Timestamp("2024-01-02T23:00:00Z"),
        },
    }
    for model, fields in values.items():
        for column, value in fields.items():
            models.at[row[model], column] = value


@pytest.fixture(scope="module")
def served(sample_build, tmp_path_factory):
    """The planted build's Build (as the app serves it) and the app's test client."""
    tmp = tmp_path_factory.mktemp("compare")
    builds = tmp / "builds"
    hostile_build(sample_build, builds, BUILD_ID, plant_pair)
    from dashboard.app import create_app
    from dashboard.serving import served_build

    app = create_app(builds, Settings(cache_dir=tmp / "cache", tracker_db=tmp / "tracker.sqlite"))
    return {"build": served_build(), "client": app.server.test_client()}


@pytest.fixture(scope="module")
def build(served):
    return served["build"]


def traits_of(comparison) -> dict:
    return {trait.name: trait for trait in comparison.traits}


# ---------------------------------------------------------------- differences


def test_the_differences_of_two_planted_models_are_found_exactly(build):
    comparison = compare_models(build, PLANTED["left"], PLANTED["right"])
    traits = traits_of(comparison)
    assert list(traits) == list(TRAITS)
    lists = {
        name: (traits[name].only_a, traits[name].both, traits[name].only_b)
        for name in ("licenses", "languages", "tags", "data sets")
    }
    assert lists == {
        "licenses": (["apache-2.0"], ["mit"], []),  # "MIT" is "mit", as in the details card
        "languages": (["fr"], ["en"], []),
        "tags": ([], ["chat"], ["quantized", EVIL_TAG]),
        "data sets": ([], ["squad"], ["glue"]),
    }
    single = {name: (trait.a, trait.b) for name, trait in traits.items() if not trait.listed}
    assert single == {
        "pipeline": (["text-generation"], ["text-generation"]),
        "library": (["transformers"], ["gguf"]),
        "card length": (["600 characters"], ["2,000 characters"]),
        "auto-generated card": (["no"], ["yes"]),
        "author": (["left-author"], ["left-author"]),
        "created": (["2024-01-02"], ["2024-01-02"]),
        "downloads": (["5"], ["12,345"]),
        "likes": (["1"], ["1"]),
        "family": ([traits["family"].a[0]], [traits["family"].a[0]]),
        "depth": (traits["depth"].a, traits["depth"].a),  # siblings
    }
    differing = {name for name, trait in traits.items() if trait.differ}
    assert differing == {
        "licenses",
        "languages",
        "tags",
        "data sets",
        "library",
        "card length",
        "auto-generated card",
        "downloads",
    }
    assert comparison.differing == 8


def test_a_model_compared_with_itself_differs_in_nothing(build):
    comparison = compare_models(build, PLANTED["left"], PLANTED["left"])
    assert comparison.differing == 0
    assert all(not trait.only_a and not trait.only_b for trait in comparison.traits)
    assert comparison.path.ancestor == PLANTED["left"]
    assert comparison.path.up == comparison.path.down == []
    assert comparison.similarity["metadata_levenshtein"] == pytest.approx(1.0)
    assert comparison.similarity["embedding_cosine"] == pytest.approx(1.0)


# ---------------------------------------------------------------- similarity


def evolution_similarity(build, a: str, b: str) -> dict:
    """The pair's similarities as the Evolution view's findings compute them: PairMeasures over
    the build's own models table and embeddings."""
    models = pq.read_table(build.files.table("models"))
    vectors = np.load(build.files.embeddings, mmap_mode="r")
    first, second = build.row(a), build.row(b)
    measures = PairMeasures(models, vectors, np.array([first, second]))
    found = measures.similarities(PairSample(np.array([first]), np.array([second]), 1))
    return {
        name: float(values[0]) if values is not None and len(values) else None
        for name, values in found.items()
    }


@pytest.mark.parametrize(
    "pair",
    [
        ("left", "right"),
        ("left", "parent"),
        ("left", "stranger"),
        ("google/gemma-7b-it", "google/gemma-7b"),  # two long cards: a TF-IDF cosine
        ("AmberYifan/Gemma-7B-sft-spin-10k", "google/gemma-7b-it"),
    ],
)
def test_the_similarities_are_the_evolution_views_measures_for_the_pair(build, pair):
    a, b = (PLANTED.get(name, name) for name in pair)
    comparison = compare_models(build, a, b)
    expected = evolution_similarity(build, a, b)
    assert set(comparison.similarity) == set(MEASURES)
    for measure in MEASURES:
        if expected[measure] is None:
            assert comparison.similarity[measure] is None, measure
        else:
            assert comparison.similarity[measure] == pytest.approx(expected[measure]), measure


def test_a_pair_with_an_auto_generated_card_has_no_card_cosine(build):
    similarity = compare_models(build, PLANTED["left"], PLANTED["right"]).similarity
    assert similarity["card_tfidf"] is None
    gemma = compare_models(build, "google/gemma-7b-it", "google/gemma-7b").similarity
    assert 0 < gemma["card_tfidf"] <= 1


def test_the_typical_values_are_the_stored_findings_means(build):
    typical = typical_similarity(build)
    stored = stored_findings(build)["resemblance"]
    assert list(typical) == ["parent_child", "siblings", "same_family", "different_families"]
    for name, measures in typical.items():
        for measure in MEASURES:
            assert measures[measure]["mean"] == stored[name][measure]["mean"]


# ---------------------------------------------------------------- lineage


def primary_chain(build, model: str) -> list[str]:
    """The model and its primary parents up to its root, read from the build's models table."""
    parents = pq.read_table(build.files.table("models"), columns=["model_id", "primary_parent"])
    parent_of = dict(zip(*(parents.column(name).to_pylist() for name in parents.column_names)))
    chain = [model]
    while parent_of.get(chain[-1]) in parent_of and len(chain) < 100:
        chain.append(parent_of[chain[-1]])
    return chain


def test_the_path_goes_through_the_closest_common_ancestor(build):
    path = compare_models(build, PLANTED["left"], PLANTED["right"]).path
    assert path.ancestor == PLANTED["parent"]
    assert [(link.child, link.parent) for link in path.up] == [(PLANTED["left"], PLANTED["parent"])]
    assert [(link.child, link.parent) for link in path.down] == [
        (PLANTED["right"], PLANTED["parent"])
    ]
    a, b = "AmberYifan/Gemma-7B-sft-spin-10k", "google/gemma-7b-it"
    path = compare_models(build, a, b).path
    up, down = primary_chain(build, a), primary_chain(build, b)
    ancestor = next(model for model in down if model in up)
    assert path.ancestor == ancestor
    assert [link.child for link in path.up] == up[: up.index(ancestor)]
    assert [link.child for link in path.down] == down[: down.index(ancestor)]
    assert all(link.relation for link in path.up + path.down)


def test_models_of_two_families_share_no_ancestor(build, served):
    path = compare_models(build, PLANTED["left"], PLANTED["stranger"]).path
    assert path.ancestor is None and path.up == path.down == []
    status, body = open_page(
        served["client"], "/compare", f"?a={PLANTED['left']}&b={PLANTED['stranger']}"
    )
    assert status == 200 and "They share no ancestor." in texts(json.loads(body))


# ---------------------------------------------------------------- unknown ids, the page, the API


def test_an_unknown_id_is_one_sentence(build, served):
    assert compare_models(build, "no/such-model", PLANTED["left"]) is None
    assert compare_models(build, PLANTED["left"], "no/such-model") is None
    status, body = open_page(served["client"], "/compare", f"?a=no/such-model&b={PLANTED['left']}")
    assert status == 200
    assert "No model no/such-model in this build." in texts(json.loads(body))
    assert "compare-traits" not in body and "Traceback" not in body


def test_the_page_marks_the_rows_that_differ(served):
    status, body = open_page(
        served["client"], "/compare", f"?a={PLANTED['left']}&b={PLANTED['right']}"
    )
    assert status == 200
    page = json.loads(body)  # (its JSON writes "/" as "\/")
    assert "8 of 14 traits differ." in texts(page)
    rows = [
        node["props"]
        for node in nodes(page)
        if node.get("type") == "Tr" and "data-trait" in node.get("props", {})
    ]
    marked = {row["data-trait"] for row in rows if "compare-differs" in row["className"]}
    assert len(rows) == 14 and len(marked) == 8 and "library" in marked
    assert EVIL_TAG in texts(page)  # a Hub value is text: a string child, never markup


def test_only_a_asks_for_the_second_model(served):
    status, body = open_page(served["client"], "/compare", f"?a={PLANTED['left']}&search=llama")
    assert status == 200
    hint = f"Pick a second model (Model B) to compare with {PLANTED['left']}."
    assert hint in texts(json.loads(body))


def test_the_api_answers_the_comparison_as_json(build, served):
    client = served["client"]
    response = client.get(
        "/api/compare", query_string={"a": PLANTED["left"], "b": PLANTED["right"]}
    )
    assert response.status_code == 200
    expected = comparison_json(
        compare_models(build, PLANTED["left"], PLANTED["right"]), typical_similarity(build)
    )
    assert response.get_json() == json.loads(json.dumps(expected))
    assert response.get_json()["path"]["ancestor"] == PLANTED["parent"]
    missing = client.get("/api/compare", query_string={"a": "no/such", "b": PLANTED["left"]})
    assert missing.status_code == 404 and "no/such" in missing.get_json()["error"]
    assert client.get("/api/compare?a=x").status_code == 400


def test_the_cached_comparison_is_the_computed_one(build):
    computed = compare_models(build, PLANTED["left"], PLANTED["right"])
    assert compare_models.cached(build, PLANTED["left"], PLANTED["right"]) == computed
    assert compare_models.cached(build, PLANTED["left"], PLANTED["right"]) == computed  # from Redis


# ---------------------------------------------------------------- the details card's link


def test_the_details_card_links_to_compare_keeping_the_filters(build):
    details = model_details(build, PLANTED["left"])
    card = details_card(details, page="/network", search="?search=llama&show=family&model=x")
    link = next(node for node in nodes(card.to_plotly_json()) if node_id(node) == "details-compare")
    href = link["props"]["href"]
    assert urlsplit(href).path == "/compare"
    query = parse_qs(urlsplit(href).query)
    assert query == {"search": ["llama"], "model": [PLANTED["left"]], "a": [PLANTED["left"]]}
    too_long = {**details, "record": {**details["record"], "model_id": "x/" + "y" * 600}}
    card = details_card(too_long, page="/network")
    assert not any(node_id(node) == "details-compare" for node in nodes(card.to_plotly_json()))


def node_id(node: dict):
    return node.get("props", {}).get("id") if isinstance(node, dict) else None


def nodes(tree):
    """Every component (as JSON) in a layout or a callback's answer."""
    if isinstance(tree, dict):
        if "type" in tree and "props" in tree:
            yield tree
        for value in (tree.get("props") or tree).values():
            yield from nodes(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from nodes(item)
    elif hasattr(tree, "to_plotly_json"):
        yield from nodes(tree.to_plotly_json())


def texts(tree) -> list[str]:
    """Every string child in a layout's JSON."""
    found = []
    for node in nodes(tree):
        children = node["props"].get("children")
        for child in children if isinstance(children, list) else [children]:
            if isinstance(child, str):
                found.append(child)
    return found


def test_hand_made_values_get_a_sentence_never_an_error(served):
    from dashboard.pages.compare import offer_a, remember_view, update_comparison

    long_id = "x/" + "y" * 5_000
    status, body = open_page(served["client"], "/compare", f"?a={long_id}&b={PLANTED['left']}")
    assert status == 200
    said = [line for line in texts(json.loads(body)) if line.startswith("No model")]
    assert said == ["No model x/" + "y" * 298 + "… (5,002 characters) in this build."]
    shown = update_comparison(a=["x"], b={"y": 1}, search=7)
    assert [line for line in texts(shown) if line.startswith("Pick")] == [
        "Pick two models to compare."
    ]
    assert remember_view(a=5, b=None, view="junk") == {"a": None, "b": None}
    assert all(len(option["value"]) <= 500 for option in offer_a(typed=[1], chosen={"a": 1}))

"""The Evolution view's figures and sentences on a small hand-made findings dict (the shape of
findings.report): what each shows, what it leaves out and says in words, and that the paper's
numbers appear only in the columns labelled as the paper's."""

import json

import pytest
from dash.development.base_component import Component

from dashboard.figures.evolution import (
    depth_figure,
    family_size_figure,
    finding_sentences,
    measures_with_pairs,
    missing_measure_sentences,
    ordering_figure,
    resemblance_figure,
)
from dashboard.pages.evolution import (
    EvolutionState,
    drift_table,
    family_hrefs,
    family_list,
    mutation_table,
    scope_sentence,
)


def measured(mean, low, high, pairs):
    return {"mean": mean, "ci_low": low, "ci_high": high, "pairs": pairs}


NONE = measured(None, None, None, 0)


def resemblance():
    """Siblings above parent-child on metadata; overlapping on tags; no card pairs at all."""
    return {
        "different_families": {
            "metadata_levenshtein": measured(0.2, 0.18, 0.22, 1000),
            "card_tfidf": NONE,
            "tags_jaccard": measured(0.1, 0.08, 0.12, 990),
            "embedding_cosine": measured(0.05, 0.04, 0.06, 1000),
        },
        "same_family": {
            "metadata_levenshtein": measured(0.5, 0.48, 0.52, 1000),
            "card_tfidf": NONE,
            "tags_jaccard": measured(0.4, 0.38, 0.42, 1000),
            "embedding_cosine": measured(0.3, 0.28, 0.32, 1000),
        },
        "parent_child": {
            "metadata_levenshtein": measured(0.54, 0.52, 0.56, 321),
            "card_tfidf": NONE,
            "tags_jaccard": measured(0.45, 0.40, 0.50, 321),
            "embedding_cosine": measured(0.4, 0.38, 0.42, 321),
        },
        "siblings": {
            "metadata_levenshtein": measured(0.61, 0.59, 0.63, 1000),
            "card_tfidf": NONE,
            "tags_jaccard": measured(0.47, 0.44, 0.49, 1000),
            "embedding_cosine": measured(0.5, 0.48, 0.52, 1000),
        },
        "first_cousins": {
            "metadata_levenshtein": measured(0.3, 0.2, 0.4, 7),
            "card_tfidf": NONE,
            "tags_jaccard": NONE,
            "embedding_cosine": measured(0.2, 0.1, 0.3, 7),
        },
    }


def findings():
    return {
        "scope": {
            "relation": "finetune",
            "resemblance_links": "all but merge",
            "family": "org/<b>root</b>",
            "seed": 0,
            "models": 12,
            "links": 11,
        },
        "mutation_rates": {
            "license": {"rate": 0.25, "links": 8, "relation": "finetune"},
            "language": {"rate": None, "links": 0, "relation": "finetune"},
            "pipeline": {"rate": 0.5, "links": 4, "relation": "finetune"},
            "library": {"rate": 0.0, "links": 9, "relation": "finetune"},
        },
        "resemblance": resemblance(),
        "drift": {
            "links": 11,
            "cards": "This build has no card text (a Hub listing), so the card numbers cannot be "
            "computed.",
            "card_share": {"parent": None, "child": None, "change": None},
            "auto_generated_share": {"parent": None, "child": None, "change": None},
            "card_length": {"parent": None, "child": None, "change": None, "links": 0},
            "languages": {"parent": 2.0, "child": 0.5, "change": -1.5},
        },
    }


def page_text(component) -> str:
    """Every string a Dash component tree would show, in order."""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(page_text(item) for item in component)
    if isinstance(component, Component):
        return page_text(getattr(component, "children", None) or "")
    return "" if component is None else str(component)


def test_the_finding_is_stated_with_this_builds_numbers_in_the_issues_form():
    sentences = finding_sentences(resemblance())
    assert sentences[0] == (
        "Metadata edit similarity: siblings 0.61 [0.59, 0.63] vs parent–child 0.54 [0.52, 0.56] "
        "(more alike); same family 0.50 [0.48, 0.52] vs different families 0.20 [0.18, 0.22] "
        "(more alike)."
    )
    tags = next(s for s in sentences if s.startswith("Tag Jaccard"))
    assert "siblings 0.47 [0.44, 0.49] vs parent–child 0.45 [0.40, 0.50] (no different" in tags
    assert not any(s.startswith("Card") for s in sentences)


def test_a_measure_without_pairs_is_left_out_of_the_figure_and_said_in_words():
    assert measures_with_pairs(resemblance()) == [
        "metadata_levenshtein",
        "tags_jaccard",
        "embedding_cosine",
    ]
    (said,) = missing_measure_sentences(resemblance())
    assert said.startswith("Card TF-IDF cosine: no pairs in this build")
    figure = resemblance_figure(resemblance())
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["metadata edit similarity", "tag Jaccard", "embedding cosine"]
    assert "nan" not in figure.to_json().lower()


def test_each_configuration_is_a_point_with_its_interval_and_pair_count():
    figure = resemblance_figure(resemblance())
    metadata, tags, _ = figure.data
    points = dict(zip(metadata.y, zip(metadata.x, metadata.customdata)))
    mean, (low, high, pairs) = points["parent–child"]
    assert (mean, low, high, pairs) == (0.54, 0.52, 0.56, 321)
    row = list(metadata.y).index("first cousins")
    assert metadata.error_x.arrayminus[row] == pytest.approx(0.1)
    assert metadata.error_x.array[row] == pytest.approx(0.1)
    assert "first cousins" not in tags.y  # no tag pairs for cousins: no point
    assert "pairs" in metadata.hovertemplate


def test_no_pairs_at_all_gives_a_figure_that_says_so():
    figure = resemblance_figure({"siblings": {"card_tfidf": NONE}})
    assert figure.layout.annotations[0].text == "No pairs to compare in this build."


def test_an_ordering_is_a_ranked_chain_with_the_edges_against_it_drawn():
    ordering = {
        "order": ["mit", "<b>x</b>", "apache-2.0"],
        "disagreeing": [["apache-2.0", "mit"]],
        "edges_agreeing": 2,
        "edges_total": 3,
        "share_down": 0.8,
        "links": 5,
    }
    figure = ordering_figure("license", ordering)
    (chain,) = figure.data
    assert list(chain.text) == ["1. mit", "2. &lt;b&gt;x&lt;/b&gt;", "3. apache-2.0"]
    assert list(chain.y) == [1, 2, 3] and figure.layout.yaxis.autorange == "reversed"
    (arrow,) = figure.layout.annotations
    assert (arrow.ay, arrow.y) == (3, 1)  # from apache-2.0 (rank 3) up to mit (rank 1)
    empty = ordering_figure("license", {"order": [], "disagreeing": []})
    assert empty.layout.annotations[0].text == "No license changes to order."


def test_structure_figures_use_log_log_ccdf_and_depth_bars():
    structure = {
        "family_size_ccdf": [
            {"size": 1, "share_at_least": 1.0},
            {"size": 10, "share_at_least": 0.1},
        ],
        "depth_distribution": [{"depth": 0, "models": 5}, {"depth": 1, "models": 7}],
    }
    ccdf = family_size_figure(structure)
    assert (ccdf.layout.xaxis.type, ccdf.layout.yaxis.type) == ("log", "log")
    assert list(ccdf.data[0].x) == [1, 10] and list(ccdf.data[0].y) == [1.0, 0.1]
    depth = depth_figure(structure)
    assert list(depth.data[0].x) == ["0", "1"] and list(depth.data[0].y) == [5, 7]


def test_the_paper_numbers_stand_only_in_the_columns_labelled_as_the_papers():
    table = mutation_table(findings()).children[0]
    header = [page_text(cell) for cell in table.children[0].children.children]
    assert header[-1] == "the paper's rate (links)" and "this build" in header[1]
    rows = {
        page_text(row.children[0]): [page_text(cell) for cell in row.children]
        for row in table.children[1].children
    }
    assert rows["language"] == [
        "language",
        "not computable",
        "0",
        "finetune",
        "0.242 (47,369 links)",
    ]
    assert rows["license"][1] == "0.250" and rows["license"][-1] == "0.198 (138,694 links)"
    assert rows["library"][-1] == "not reported"
    assert all("0.242" not in cell for row in rows.values() for cell in row[:-1])


def test_drift_without_card_text_says_so_and_never_prints_nan():
    shown = page_text(drift_table(findings()))
    assert "This build has no card text" in shown
    assert "nan" not in shown.lower()
    assert "not computable" in shown
    assert "2.00 0.50 -1.50 4.18 → 0.45" in shown  # this build's, then the paper's


def test_scope_and_family_links_keep_the_url_state():
    assert scope_sentence(findings()).startswith("The family of org/<b>root</b>: 12 models")
    state = EvolutionState("finetune", False)
    network, here = family_hrefs("org/m a", "?search=x&model=other&sel=box%3A0%2C1%2C0%2C1", state)
    assert network == "/network?search=x&model=org%2Fm+a&sel=box%3A0%2C1%2C0%2C1&show=family"
    assert here.startswith("/evolution?search=x&model=org%2Fm+a")
    assert "relation=finetune" in here and "family=1" in here
    assert family_hrefs("x" * 600, "", state) is None


def test_the_view_state_round_trips_through_the_url():
    state = EvolutionState.from_query({"relation": "all", "family": "1"})
    assert state == EvolutionState("all", True)
    assert state.to_query() == {"relation": "all", "family": "1"}
    assert EvolutionState.from_query({}).to_query() == {"relation": None, "family": None}
    assert EvolutionState.from_query({"relation": ["x"]}).relation == "default"
    assert state.chosen_relation(["all", "finetune"]) == "all"
    assert EvolutionState("nonsense").chosen_relation(["all"]) is None
    assert json.dumps(state.to_query())


def test_a_root_id_from_the_hub_is_link_text_never_markup():
    root = "x](https://evil.example) <a href='https://evil.example'>y</a>"
    families = [{"root_id": root, "size": 3, "max_depth": 1}]
    (item,) = family_list(families, "?search=a", EvolutionState(), "largest").children
    link, facts, _, own = item.children
    assert link.children == root  # a string: Dash renders it as text
    assert link.href.startswith("/network?search=a&model=x%5D%28https%3A%2F%2Fevil.example%29")
    assert own.href.startswith("/evolution?search=a&model=x%5D") and "&family=1" in own.href
    assert facts.children == " 3 models, depth 1"

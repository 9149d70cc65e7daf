"""The findings library (issue 14) on hand-made trees with known answers, and on the sample
build."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from findings import PAPER_FINDINGS, ScopeError, compute_findings
from findings.drift import NO_CARDS, drift_numbers
from findings.lineage import lineage_of
from findings.mutation import default_relation, mutation_rate, select_links
from findings.pairs import CONFIGURATIONS, sample_pairs
from findings.resemblance import (
    MEASURES,
    PairMeasures,
    canonical_text,
    mean_interval,
    tfidf_vectors,
)
from findings.structure import structure_numbers
from findings.tables import trait_sets
from tests.findings_trees import EDGES, MODELS, NAMES, edges_table, models_table

# ------------------------------------------------------------------ pairs


def _named(sample) -> set[frozenset[str]]:
    pairs = zip(sample.first, sample.second, strict=True)
    return {frozenset((NAMES[one], NAMES[other])) for one, other in pairs}


def _pairs(*text: str) -> set[frozenset[str]]:
    return {frozenset(pair) for pair in text}


NO_MERGE = {
    "parent_child": _pairs("ab", "ac", "ad", "be", "bf", "cg", "dh", "xy"),
    "siblings": _pairs("bc", "bd", "cd", "ef"),
    "grandparent_grandchild": _pairs("ae", "af", "ag", "ah"),
    "aunt_uncle_niece_nephew": _pairs("ce", "cf", "de", "df", "bg", "dg", "bh", "ch"),
    "first_cousins": _pairs("eg", "eh", "fg", "fh", "gh"),
}


def _tree_lineage():
    return lineage_of(models_table(), edges_table())


def test_every_pair_of_each_configuration_is_found_when_there_are_few():
    lineage = _tree_lineage()
    samples = sample_pairs(lineage, lineage.links.without_relation("merge"))
    assert list(samples) == list(CONFIGURATIONS)
    for name, expected in NO_MERGE.items():
        assert _named(samples[name]) == expected, name
        assert samples[name].available == len(expected), name
    family_of = {name: row[0] for name, row in MODELS.items()}
    same = {
        frozenset(p) for p in itertools.combinations(NAMES, 2) if family_of[p[0]] == family_of[p[1]]
    }
    assert _named(samples["same_family"]) == same and len(same) == 28 + 3
    different = {frozenset(p) for p in itertools.combinations(NAMES, 2)} - same
    assert _named(samples["different_families"]) == different
    assert samples["different_families"].available == 35


def test_pairs_of_one_relation_and_of_one_family():
    lineage = _tree_lineage()
    finetune = sample_pairs(lineage, lineage.links.of_relation("finetune"))
    assert _named(finetune["parent_child"]) == _pairs("ab", "ac", "be", "bf", "xy")
    assert _named(finetune["siblings"]) == _pairs("bc", "ef")
    assert _named(finetune["first_cousins"]) == set()
    in_x = sample_pairs(lineage, lineage.links, family="x")
    assert _named(in_x["parent_child"]) == _pairs("xy", "xz")
    assert _named(in_x["same_family"]) == _pairs("xy", "xz", "yz")
    outside = [name for name in NAMES if name not in "xyz"]
    assert _named(in_x["different_families"]) == {
        frozenset((member, other)) for member in "xyz" for other in outside
    }
    assert all(
        len(sample) == 0
        for sample in sample_pairs(lineage, lineage.links, family="no/such").values()
    )


def test_a_limit_draws_distinct_pairs_of_the_configuration_reproducibly():
    lineage = _tree_lineage()
    links = lineage.links.without_relation("merge")
    once = sample_pairs(lineage, links, limit=3, seed=7)
    again = sample_pairs(lineage, links, limit=3, seed=7)
    for name, expected in NO_MERGE.items():
        assert len(once[name]) == 3 and _named(once[name]) <= expected
        assert np.array_equal(once[name].first, again[name].first)
        assert np.array_equal(once[name].second, again[name].second)


def _random_forest(size: int, seed: int):
    """A random forest of ``size`` models (each model's parent an earlier model, or none)."""
    rng = np.random.default_rng(seed)
    parent = np.where(rng.random(size) < 0.7, (rng.random(size) ** 2 * np.arange(size)), -1)
    parent = parent.astype(np.int64)
    parent[0] = -1
    root = np.arange(size)
    for row in range(size):
        if parent[row] >= 0:
            root[row] = root[parent[row]]
    names = [f"m{row}" for row in range(size)]
    children = np.flatnonzero(parent >= 0)
    models = pa.table({"model_id": names, "root_id": [names[r] for r in root]})
    edges = pa.table(
        {
            "parent_id": [names[parent[c]] for c in children],
            "child_id": [names[c] for c in children],
            "relation": ["finetune"] * len(children),
        }
    )
    return lineage_of(models, edges), parent, root


def test_sampled_pairs_are_of_their_configuration_in_a_large_random_forest():
    lineage, parent, root = _random_forest(20_000, seed=3)
    samples = sample_pairs(lineage, lineage.links, seed=1)
    up = lambda row: parent[row] if row >= 0 else -1  # noqa: E731
    checks = {
        "different_families": lambda p, q: root[p] != root[q],
        "same_family": lambda p, q: root[p] == root[q],
        "parent_child": lambda p, q: up(q) == p or up(p) == q,
        "siblings": lambda p, q: up(p) == up(q) >= 0,
        "grandparent_grandchild": lambda p, q: up(up(q)) == p or up(up(p)) == q,
        "aunt_uncle_niece_nephew": lambda p, q: (
            (up(p) == up(up(q)) >= 0 and up(q) != p) or (up(q) == up(up(p)) >= 0 and up(p) != q)
        ),
        "first_cousins": lambda p, q: up(up(p)) == up(up(q)) >= 0 and up(p) != up(q),
    }
    for name, holds in checks.items():
        sample = samples[name]
        assert len(sample) == 1000, name
        pairs = set(zip(sample.first.tolist(), sample.second.tolist(), strict=True))
        assert len(pairs) == 1000, name
        assert all(holds(p, q) for p, q in pairs), name


# ------------------------------------------------------------------ mutation rates


def _rates(relation=None, models=None):
    models = models_table() if models is None else models
    lineage = lineage_of(models, edges_table())
    links, chosen = select_links(lineage.links, relation)
    return chosen, {
        name: mutation_rate(trait_sets(models, column), links)
        for name, column in (
            ("license", "licenses"),
            ("language", "languages"),
            ("pipeline", "pipeline_tag"),
            ("library", "library_name"),
        )
    }


def test_mutation_rates_of_the_finetune_links_by_hand():
    chosen, rates = _rates()
    assert chosen == "finetune"
    # a->b 1/2, b->e 1/2, b->f 1/2, x->y 0 (a->c: c reports no license)
    assert rates["license"] == (pytest.approx(1.5 / 4), 4)
    # a->b 1/2, a->c 2/3, b->e 0, b->f 1, x->y 0
    assert rates["language"] == (pytest.approx((0.5 + 2 / 3 + 1) / 5), 5)
    assert rates["pipeline"] == (pytest.approx(1 / 4), 4)  # x reports none; a->c changes
    assert rates["library"] == (pytest.approx(1 / 4), 4)


def test_mutation_rates_of_every_link_and_of_a_build_without_typed_links():
    chosen, rates = _rates("all")
    assert chosen == "all"
    assert rates["license"] == (pytest.approx(2.5 / 6), 6)  # + a->d 1, d->h 0
    assert _rates("merge")[1]["license"] == (None, 0)  # z reports no license
    untyped = lineage_of(models_table(), edges_table([(p, c, "unspecified") for p, c, _ in EDGES]))
    assert default_relation(untyped.links) == "all"


# ------------------------------------------------------------------ drift


def test_drift_numbers_by_hand():
    models = models_table()
    links, _ = select_links(lineage_of(models, edges_table()).links, None)
    found = drift_numbers(models, links, trait_sets(models, "languages"))
    assert found["links"] == 5 and found["cards"] is None
    assert found["card_share"] == {"parent": 1.0, "child": 0.6, "change": pytest.approx(-0.4)}
    assert found["auto_generated_share"]["parent"] == pytest.approx(0.4)
    assert found["auto_generated_share"]["child"] == pytest.approx(2 / 3)
    assert found["card_length"]["parent"] == pytest.approx(4000 / 3)
    assert found["card_length"]["child"] == pytest.approx(800)
    assert found["card_length"]["links"] == 3
    assert found["languages"] == {"parent": 1.4, "child": 1.2, "change": pytest.approx(-0.2)}


def test_drift_of_a_build_without_card_text_says_so_and_has_no_number():
    models = models_table(cards=False)
    links, _ = select_links(lineage_of(models, edges_table()).links, None)
    found = drift_numbers(models, links, trait_sets(models, "languages"))
    assert found["cards"] == NO_CARDS
    for key in ("card_share", "auto_generated_share", "card_length"):
        assert found[key]["parent"] is None and found[key]["child"] is None
    assert found["languages"]["parent"] == 1.4


# ------------------------------------------------------------------ resemblance


def test_canonical_text_sorts_each_trait_and_leaves_lineage_tags_out():
    record = {
        "tags": ["chat", "base_model:a", "llama"],
        "licenses": ["mit", "apache-2.0"],
        "languages": ["fr", "en"],
        "pipeline_tag": "text-generation",
        "library_name": None,
        "datasets": [],
    }
    assert canonical_text(record) == "chat,llama|apache-2.0,mit|en,fr|text-generation||"
    assert canonical_text({"tags": ["base_model:a"]}) == ""


def test_each_measure_on_known_pairs():
    models = models_table()
    vectors = np.zeros((len(NAMES), 3), np.float32)
    vectors[NAMES.index("b")] = [1, 0, 0]
    vectors[NAMES.index("e")] = [1, 1, 0]
    vectors[NAMES.index("f")] = [0, 0, 2]  # g: a zero vector, left out
    rows = {name: NAMES.index(name) for name in NAMES}
    from findings.pairs import PairSample

    sample = PairSample(
        np.array([rows["b"], rows["e"], rows["z"], rows["b"]]),
        np.array([rows["e"], rows["f"], rows["s"], rows["g"]]),
        4,
    )
    measures = PairMeasures(models, vectors, np.concatenate([sample.first, sample.second]))
    found = measures.similarities(sample)
    # b-e: traits differ only in the licenses "apache-2.0,mit" vs "mit"; z-s: both empty -> 1
    assert found["metadata_levenshtein"][2] == 1.0
    assert 0 < found["metadata_levenshtein"][0] < 1
    # tags without lineage tags: b {llama, chat}, e {llama, chat}, f {chat}; z, s have none
    assert found["tags_jaccard"].tolist() == [1.0, 0.5, 0.0]
    assert found["embedding_cosine"] == pytest.approx([1 / math.sqrt(2), 0.0])
    # cards: b and f are auto-generated, e's card is shorter than 512, g has none
    assert len(found["card_tfidf"]) == 0


def test_card_similarity_needs_two_long_hand_written_cards():
    names = ["a", "e", "x"]  # hand-written cards of 2000, 900 and 513 characters
    models = models_table()
    lengths = dict.fromkeys(NAMES, 0) | {"a": 2000, "e": 900, "x": 513}
    models = models.set_column(
        models.schema.get_field_index("card_length"),
        "card_length",
        pa.array([lengths[name] for name in NAMES], pa.int64()),
    )
    from findings.pairs import PairSample

    first = np.array([NAMES.index("a"), NAMES.index("a")])
    second = np.array([NAMES.index("e"), NAMES.index("x")])
    found = PairMeasures(models, None, np.array([NAMES.index(n) for n in names])).similarities(
        PairSample(first, second, 2)
    )
    assert len(found["card_tfidf"]) == 2
    assert np.all((found["card_tfidf"] > 0) & (found["card_tfidf"] < 1))
    assert found["embedding_cosine"] is None


def test_tfidf_vectors_are_unit_rows_over_at_most_512_grams():
    texts = ["the model is a fine tune", "the model is a fine tune", "a totally other text"]
    vectors = tfidf_vectors(texts)
    assert vectors.shape[1] <= 512
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1)
    assert vectors[0] @ vectors[1] == pytest.approx(1)
    assert vectors[0] @ vectors[2] < 0.5
    many = tfidf_vectors([" ".join(f"w{i}x{j}" for j in range(300)) for i in range(3)])
    assert many.shape[1] == 512


def test_mean_interval_is_a_reproducible_percentile_bootstrap():
    assert mean_interval(np.array([])) == {
        "mean": None,
        "ci_low": None,
        "ci_high": None,
        "pairs": 0,
    }
    constant = mean_interval(np.full(50, 0.3))
    assert constant["ci_low"] == pytest.approx(0.3) and constant["ci_high"] == pytest.approx(0.3)
    values = np.random.default_rng(0).random(1000)
    found = mean_interval(values, seed=5)
    assert found == mean_interval(values, seed=5)
    assert found["ci_low"] < found["mean"] < found["ci_high"]
    # the standard error of a mean of 1,000 uniforms is 0.0091: the interval is about +-1.96 se
    assert found["ci_high"] - found["ci_low"] == pytest.approx(2 * 1.96 * 0.0091, rel=0.1)


# ------------------------------------------------------------------ structure


def test_structure_numbers_by_hand():
    models = models_table()
    found = structure_numbers(models, lineage_of(models, edges_table()))
    assert found["models"] == 12 and found["families"] == 3
    assert found["family_size_ccdf"] == [
        {"size": 1, "share_at_least": 1.0},
        {"size": 3, "share_at_least": pytest.approx(2 / 3)},
        {"size": 8, "share_at_least": pytest.approx(1 / 3)},
    ]
    assert found["depth_distribution"] == [
        {"depth": 0, "models": 3},
        {"depth": 1, "models": 5},
        {"depth": 2, "models": 4},
    ]
    assert found["edges_by_relation"] == {
        "adapter": {"edges": 1, "inside_data": 1},
        "finetune": {"edges": 6, "inside_data": 5},
        "merge": {"edges": 1, "inside_data": 1},
        "quantized": {"edges": 2, "inside_data": 2},
    }
    assert found["leaves_by_relation"] == {
        "adapter": {"children": 1, "leaf_share": 1.0},
        "finetune": {"children": 5, "leaf_share": 0.6},
        "merge": {"children": 1, "leaf_share": 1.0},
        "quantized": {"children": 2, "leaf_share": 0.5},
    }
    assert found["largest_families"][0] == {"root_id": "a", "size": 8, "max_depth": 2}
    assert [f["root_id"] for f in found["deepest_families"]] == ["a", "x", "s"]


# ------------------------------------------------------------------ the whole report


def _no_nan(value, where="findings"):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            _no_nan(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _no_nan(item, where)
    else:
        assert value is None or isinstance(value, (str, bool, int, float)), (where, value)
        assert not (isinstance(value, float) and not math.isfinite(value)), where


def _check_shape(found: dict) -> None:
    for trait in ("license", "language", "pipeline", "library"):
        assert set(found["mutation_rates"][trait]) == {"rate", "links", "relation"}
        assert {"order", "edges_agreeing", "edges_total", "share_down"} <= set(
            found["orderings"][trait]
        )
    assert list(found["resemblance"]) == list(CONFIGURATIONS)
    for measures in found["resemblance"].values():
        assert list(measures) == list(MEASURES)
        for value in measures.values():
            assert set(value) == {"mean", "ci_low", "ci_high", "pairs"}
    assert {
        "family_size_ccdf",
        "depth_distribution",
        "edges_by_relation",
        "leaves_by_relation",
        "largest_families",
        "deepest_families",
    } <= set(found["structure"])
    _no_nan(found)
    json.dumps(found, allow_nan=False)


def test_compute_findings_on_the_tree_has_the_shape_and_the_hand_numbers():
    found = compute_findings(models_table(), edges_table(), resamples=200)
    _check_shape(found)
    assert found["mutation_rates"]["license"] == {"rate": 0.375, "links": 4, "relation": "finetune"}
    assert found["resemblance"]["siblings"]["tags_jaccard"]["pairs"] == 4
    assert found["resemblance"]["siblings"]["embedding_cosine"]["mean"] is None  # no embeddings
    assert found["scope"] == {
        "relation": "finetune",
        "resemblance_links": "all but merge",
        "family": None,
        "seed": 0,
        "models": 12,
        "links": 5,
    }
    in_x = compute_findings(
        models_table(), edges_table(), family="x", relation="all", resamples=200
    )
    _check_shape(in_x)
    assert in_x["structure"]["models"] == 3
    assert in_x["mutation_rates"]["license"] == {"rate": 0.0, "links": 1, "relation": "all"}
    assert in_x["scope"]["resemblance_links"] == "all but merge"  # x -> z is a merge
    assert in_x["resemblance"]["parent_child"]["metadata_levenshtein"]["pairs"] == 1
    merges = compute_findings(models_table(), edges_table(), relation="merge", resamples=200)
    assert merges["scope"]["resemblance_links"] == "merge"
    assert merges["resemblance"]["parent_child"]["tags_jaccard"] == {
        "mean": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.0,
        "pairs": 1,
    }  # x {bert} against z {}
    with pytest.raises(ScopeError, match="not a relation"):
        compute_findings(models_table(), edges_table(), relation="cousin")
    with pytest.raises(ScopeError, match="not the root of a family"):
        compute_findings(models_table(), edges_table(), family="b")


def test_compute_findings_on_a_listing_without_cards_has_no_nan():
    found = compute_findings(models_table(cards=False), edges_table(), resamples=200)
    _check_shape(found)
    assert found["drift"]["cards"] == NO_CARDS


def test_the_papers_numbers_stand_apart_from_a_builds():
    found = compute_findings(models_table(), edges_table(), resamples=200)
    assert PAPER_FINDINGS["mutation_rates"]["license"]["rate"] == 0.198
    assert "source" in PAPER_FINDINGS and "source" not in found
    assert found["mutation_rates"]["license"]["rate"] != 0.198


@pytest.fixture(scope="module")
def sample_tables(sample_build):
    from pipeline.build_format import open_build

    build = open_build(sample_build)
    embeddings = np.load(build.embeddings, mmap_mode="r", allow_pickle=False)
    return pq.read_table(build.table("models")), pq.read_table(build.table("edges")), embeddings


def test_compute_findings_on_the_sample_build_is_deterministic(sample_tables):
    models, edges, embeddings = sample_tables
    found = compute_findings(models, edges, embeddings, seed=0)
    _check_shape(found)
    assert found == compute_findings(models, edges, embeddings, seed=0)
    other_seed = compute_findings(models, edges, embeddings, seed=1)
    assert other_seed["resemblance"] != found["resemblance"]
    assert other_seed["mutation_rates"] == found["mutation_rates"]
    assert found["resemblance"]["parent_child"]["metadata_levenshtein"]["pairs"] == 1000
    assert found["mutation_rates"]["license"]["links"] > 0
    assert found["orderings"]["license"]["edges_total"] > 0
    # the paper's finding, in this sample: siblings resemble each other more than parent and child
    siblings = found["resemblance"]["siblings"]["embedding_cosine"]
    parent_child = found["resemblance"]["parent_child"]["embedding_cosine"]
    assert siblings["ci_low"] > parent_child["ci_high"]


def test_compute_findings_of_one_family_of_the_sample_build(sample_tables):
    models, edges, embeddings = sample_tables
    family = "google/gemma-7b"
    found = compute_findings(models, edges, embeddings, family=family)
    _check_shape(found)
    assert found["structure"]["largest_families"][0]["root_id"] == family
    assert found["structure"]["families"] == 1
    assert found["resemblance_available"]["same_family"] == 390 * 389 // 2


def test_prepared_tables_and_data_frames_give_the_same_findings():
    from findings import BuildFindings

    models, edges = models_table(), edges_table()
    expected = compute_findings(models, edges, resamples=200, seed=3)
    prepared = BuildFindings(models, edges)
    assert prepared.relations == ["adapter", "all", "finetune", "merge", "quantized"]
    assert prepared.findings(seed=3, resamples=200) == expected
    assert prepared.findings(family="x", resamples=200) == compute_findings(
        models, edges, family="x", resamples=200
    )
    frames = compute_findings(models.to_pandas(), edges.to_pandas(), resamples=200, seed=3)
    assert frames == expected
    arrow_backed = models.to_pandas(types_mapper=pd.ArrowDtype)  # as the dashboard reads it
    assert compute_findings(arrow_backed, edges, resamples=200, seed=3) == expected


def test_a_build_without_links_or_without_models_has_findings_of_none():
    no_links = compute_findings(models_table(), edges_table([]), resamples=100)
    _check_shape(no_links)
    assert no_links["mutation_rates"]["license"] == {"rate": None, "links": 0, "relation": "all"}
    assert no_links["resemblance"]["siblings"]["tags_jaccard"]["pairs"] == 0
    assert no_links["orderings"]["license"]["edges_total"] == 0
    assert no_links["drift"]["languages"] == {"parent": None, "child": None, "change": None}
    empty = compute_findings(models_table({}), edges_table([]), resamples=100)
    _check_shape(empty)
    assert empty["structure"]["families"] == 0


def test_findings_import_nothing_of_the_pipeline_or_the_dashboard():
    import subprocess
    import sys

    code = (
        "import sys, findings; loaded = [m for m in sys.modules if m.split('.')[0] in "
        "('pipeline', 'dashboard', 'sklearn', 'scipy', 'torch')]; print(loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

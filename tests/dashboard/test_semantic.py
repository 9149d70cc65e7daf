"""The Map view's semantic search on the bundled sample's build: its example finds what it says,
every hit has a score, and a sentence says when the build knows no word of the query or when the
best match is weak."""

from __future__ import annotations

import pytest

from dashboard.queries.semantic import semantic_results, semantic_search
from pipeline.build_format import WEAK_MATCH

EXAMPLE = "chinese text generation"  # the search box's placeholder example


@pytest.fixture(scope="module")
def models(sample_models):
    return sample_models


def test_the_placeholder_example_finds_chinese_text_generation_models(dashboard_build, models):
    """The sample holds 21 text-generation models that name Chinese (a language, an id or a
    dataset word): those come first, the most downloaded first."""
    results = semantic_results(dashboard_build, EXAMPLE, 25)
    assert results["note"] is None and len(results["hits"]) == 25
    best = [hit for hit in results["hits"] if hit["similarity"] == 1]
    hits = models.iloc[[hit["row"] for hit in best]]
    assert len(best) >= 20 and (hits["pipeline_tag"] == "text-generation").all()
    chinese = [
        "zh" in list(languages) or "chinese" in model_id.lower()
        for model_id, languages in zip(hits["model_id"], hits["languages"])
    ]
    assert sum(chinese) >= len(best) - 1
    assert list(hits["model_id"]) == [hit["model_id"] for hit in best]
    assert hits["downloads"].fillna(0).is_monotonic_decreasing
    assert semantic_search(dashboard_build, EXAMPLE, 25) == results["hits"]


def test_each_hit_has_a_score_best_first_and_distinct(dashboard_build):
    hits = semantic_results(dashboard_build, "stable diffusion text to image", 25)["hits"]
    scores = [hit["similarity"] for hit in hits]
    assert all(0 < score <= 1 and round(score, 2) == score for score in scores)
    assert scores == sorted(scores, reverse=True) and scores[0] >= WEAK_MATCH
    assert len({hit["row"] for hit in hits}) == len(hits) == 25


def test_a_query_the_build_knows_no_word_of_says_so(dashboard_build):
    results = semantic_results(dashboard_build, "qzxv wbbq", 25)
    assert results["hits"] == []
    assert results["note"].startswith("No word of 'qzxv wbbq' occurs in this build's models")


def test_a_weak_best_match_is_called_weak(dashboard_build):
    """The sample's cards mention recipes, but no model's id or tags carry these words."""
    results = semantic_results(dashboard_build, "recipe cooking", 25)
    assert results["hits"] and results["hits"][0]["similarity"] < WEAK_MATCH
    assert results["note"].startswith("The best match is weak")


def test_an_empty_query_has_no_hits_and_no_note(dashboard_build):
    assert semantic_results(dashboard_build, "   ", 25) == {"hits": [], "note": None}

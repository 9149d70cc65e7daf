"""pipeline.terms: the one term set-up of the TF-IDF embedder and the cluster labels."""

import logging
from functools import partial

import pytest
from sklearn.feature_extraction.text import CountVectorizer

from pipeline.terms import fit_terms


def test_stop_words_and_rare_terms_are_dropped_from_a_corpus_of_twenty_texts():
    texts = [f"the llama chat model{number}" for number in range(20)]
    vectorizer, counts = fit_terms(CountVectorizer, texts)
    assert sorted(vectorizer.get_feature_names_out()) == ["chat", "llama"]
    assert counts.shape == (20, 2)


def test_when_no_term_is_left_every_term_is_kept_and_one_line_says_so(caplog):
    with caplog.at_level(logging.INFO, logger="hfmap.build"):
        vectorizer, _ = fit_terms(CountVectorizer, ["the", "the a", "a"])
    assert sorted(vectorizer.get_feature_names_out()) == ["a", "the"]
    assert len([r for r in caplog.records if "keeping every term" in r.getMessage()]) == 1


def test_texts_without_any_term_give_none():
    assert fit_terms(CountVectorizer, ["", "  ", "!"]) is None


def test_other_vectorizer_errors_are_not_taken_for_an_empty_vocabulary():
    with pytest.raises(ValueError, match="max_df"):
        fit_terms(partial(CountVectorizer, max_df=1), [f"word{n}" for n in range(20)])

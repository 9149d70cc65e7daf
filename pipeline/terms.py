"""How model texts become terms, for the TF-IDF embedder (pipeline.embed) and the cluster labels
(pipeline.clusters): words split by pipeline.text's TOKEN_PATTERN, English stop words dropped,
and in a corpus of MIN_DF_TEXTS texts or more a term kept only when it is in two of them. When
that leaves no term (a tiny corpus of rare or stop words only), every term is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import scipy.sparse

from pipeline.text import TOKEN_PATTERN

MIN_DF_TEXTS = 20  # from this many texts, a term must be in two of them
log = logging.getLogger("hfmap.build")

Vectorizer = TypeVar("Vectorizer")


def term_options(texts: int) -> dict:
    """The vectorizer options for a corpus of that many texts (stop words dropped)."""
    return {
        "token_pattern": TOKEN_PATTERN,
        "stop_words": "english",
        "min_df": 2 if texts >= MIN_DF_TEXTS else 1,
    }


def every_term_options() -> dict:
    """The vectorizer options that keep every term (the fallback when term_options keep none)."""
    return {"token_pattern": TOKEN_PATTERN, "stop_words": None, "min_df": 1}


def fit_terms(
    make_vectorizer: Callable[..., Vectorizer], texts: Sequence[str]
) -> tuple[Vectorizer, scipy.sparse.csr_matrix] | None:
    """make_vectorizer(**options) fitted on texts, and their document-term matrix: with
    term_options, or every_term_options when those keep no term; None when texts hold none."""
    for options in (term_options(len(texts)), every_term_options()):
        vectorizer = make_vectorizer(**options)
        try:
            return vectorizer, vectorizer.fit_transform(texts)
        except ValueError as error:
            if not _no_terms_left(error):
                raise
        if options["stop_words"] is not None:
            log.info(
                "no term of %d texts is frequent and not a stop word; keeping every term",
                len(texts),
            )
    return None


def _no_terms_left(error: ValueError) -> bool:
    """Whether error is scikit-learn's way of saying that the options left no term."""
    message = str(error)
    return "empty vocabulary" in message or "no terms remain" in message

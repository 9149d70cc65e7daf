"""Semantic search: free text embedded with the build's own embedder and matched against the words
its models carry, scored and ranked by the build format's SimilaritySearch (the same search as
`hfmap similar --text`)."""

from __future__ import annotations

import logging
from typing import Any

from dashboard.cache import cached_query
from dashboard.data import Build
from pipeline.build_format import WEAK_MATCH, BuildFormatError, SimilaritySearch
from pipeline.errors import NoSharedWordsError

log = logging.getLogger("hfmap.dashboard")


def similarity_search(build: Build) -> SimilaritySearch:
    """The build's similarity search, one per build and process."""
    search: SimilaritySearch = build.derived(
        "similarity-search", lambda b: SimilaritySearch(b.files)
    )
    return search


def prepare_semantic_search(build: Build) -> None:
    """Read what a build's first free-text query would wait for: the words its models carry and
    their popularity (4-7 s at 760k models). The embedder still loads on the first query (about
    a second for TF-IDF; MiniLM's weights are not held by a server nobody searches)."""
    search = similarity_search(build)
    for name in ("lexicon", "popularity"):
        getattr(search, name)


@cached_query
def semantic_results(build: Build, text: str, k: int = 25) -> dict[str, Any]:
    """The k models nearest to ``text``, best first, as {"hits": [{row, model_id, similarity}],
    "note": a sentence or None}: the note says that the build knows no word of the text (then no
    hits), or that the best hit scores below WEAK_MATCH."""
    text = " ".join((text or "").split())
    if not text:
        return {"hits": [], "note": None}
    try:
        rows, similarity = similarity_search(build).near_text(text, k)
    except NoSharedWordsError as error:
        return {"hits": [], "note": str(error)}
    except (
        OSError,
        BuildFormatError,
    ) as error:  # the build was pruned while served: no hits, never a 500
        log.warning("semantic search on build %s is unavailable: %s", build.version, error)
        return {"hits": [], "note": None}
    hits: list[dict[str, Any]] = [
        {"row": int(row), "model_id": model_id, "similarity": round(float(s), 2)}
        for row, model_id, s in zip(rows, build.ids(rows), similarity)
    ]
    note = None
    if not hits or hits[0]["similarity"] < WEAK_MATCH:
        note = f"The best match is weak (score below {WEAK_MATCH}): few models carry these words."
    return {"hits": hits, "note": note}


@cached_query
def semantic_search(build: Build, text: str, k: int = 25) -> list[dict[str, Any]]:
    """The k models nearest to ``text``: [{row, model_id, similarity}], best first (the map rings
    them)."""
    hits: list[dict[str, Any]] = semantic_results(build, text, k)["hits"]
    return hits

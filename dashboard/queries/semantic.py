"""Semantic search: free text embedded with the build's own embedder, its nearest models found in
the build's neighbour index (the same search as `hfmap similar --text`)."""

from __future__ import annotations

import logging
from typing import Any

from dashboard.cache import cached_query
from dashboard.data import Build
from pipeline.build_format import BuildFormatError, SimilaritySearch

log = logging.getLogger("hfmap.dashboard")


@cached_query
def semantic_search(build: Build, text: str, k: int = 25) -> list[dict[str, Any]]:
    """The k models nearest to ``text``: [{row, model_id, similarity}], best first."""
    text = " ".join((text or "").split())
    if not text:
        return []
    try:
        search = build.derived("similarity-search", lambda b: SimilaritySearch(b.files))
        rows, similarity = search.near_text(text, k)
    except (
        OSError,
        BuildFormatError,
    ) as error:  # the build was pruned while served: no hits, never a 500
        log.warning("semantic search on build %s is unavailable: %s", build.version, error)
        return []
    return [
        {"row": int(row), "model_id": model_id, "similarity": round(float(s), 3)}
        for row, model_id, s in zip(rows, build.ids(rows), similarity)
    ]

"""Semantic search: free text embedded with the build's own embedder, its nearest models found in the
build's neighbour index (the same search as `hfmap similar --text`)."""

from __future__ import annotations

import threading

from dashboard.cache import cached_query
from dashboard.data import Build
from pipeline.similar import SimilaritySearch

_searches: dict[str, SimilaritySearch] = {}
_lock = threading.Lock()


def searcher(build: Build) -> SimilaritySearch:
    """The build's similarity search, kept for the life of the process (one build at a time)."""
    with _lock:
        if build.version not in _searches:
            _searches.clear()
            _searches[build.version] = SimilaritySearch(build.path)
        return _searches[build.version]


@cached_query
def semantic_search(build: Build, text: str, k: int = 25) -> list[dict]:
    """The k models nearest to ``text``: [{row, model_id, similarity}], best first."""
    text = " ".join((text or "").split())
    if not text:
        return []
    rows, similarity = searcher(build).near_text(text, k)
    return [{"row": int(row), "model_id": model_id, "similarity": round(float(s), 3)}
            for row, model_id, s in zip(rows, build.ids(rows), similarity)]

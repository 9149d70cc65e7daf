"""`hfmap similar`: models similar to a model of a build, or to free text embedded the way the
build was (the search itself is the build format's SimilaritySearch)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.build_format import SimilaritySearch, open_build
from pipeline.errors import NoSharedWordsError, UnknownModelError

__all__ = ["NoSharedWordsError", "UnknownModelError", "similar_models"]


def similar_models(build: Path, query: str, k: int = 10, free_text: bool = False) -> pd.DataFrame:
    """The k nearest models (model_id, similarity), nearest first, excluding the query model;
    similarities equal to two decimals are ranked by downloads, then likes. UnknownModelError
    when the build holds no model named query, NoSharedWordsError when free text shares no word
    with the build."""
    search = SimilaritySearch(open_build(build))
    ids = pq.read_table(search.build.table("models"), columns=["model_id"]).column("model_id")
    if free_text:
        rows, similarity = search.near_text(query, k)
    else:
        row = pc.index(ids, query).as_py()
        if row < 0:
            raise UnknownModelError(
                f"The build holds no model {query!r}; use --text for a free-text query."
            )
        rows, similarity = search.near_row(row, k)
    return pd.DataFrame(
        {"model_id": ids.take(rows).to_pylist(), "similarity": similarity.astype(float)}
    )

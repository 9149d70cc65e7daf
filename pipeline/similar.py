"""`hfmap similar`: models similar to a model of a build, or to free text embedded the way the
build was (the search itself is the build format's SimilaritySearch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.build_format import SimilaritySearch, open_build
from pipeline.errors import UnknownModelError

__all__ = ["UnknownModelError", "similar_models"]


def similar_models(build: Path, query: str, k: int = 10, free_text: bool = False) -> pd.DataFrame:
    """The k nearest models (model_id, similarity), nearest first, excluding the query model;
    UnknownModelError when the build holds no model named query."""
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
        rows, similarity = _near_row(search, row, k)
    return pd.DataFrame(
        {"model_id": ids.take(rows).to_pylist(), "similarity": similarity.astype(float)}
    )


def _near_row(search: SimilaritySearch, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the k models nearest to the model at row (itself excluded), best first."""
    rows, similarity = search.nearest(search.vectors[row], k + 1)
    others = rows != row
    return rows[others][:k], similarity[others][:k]

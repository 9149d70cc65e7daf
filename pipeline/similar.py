"""Models similar to a model of a build, or to free text embedded the way the build was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline.artifacts import read_manifest, resolve_build
from pipeline.embed import load_embedder
from pipeline.neighbours import NeighbourIndex


class UnknownModelError(ValueError):
    """The query names a model the build does not hold."""


def similar_models(build: Path, query: str, k: int = 10, free_text: bool = False) -> pd.DataFrame:
    """The k nearest models (model_id, similarity), nearest first, excluding the query model."""
    build = resolve_build(build)
    read_manifest(build)
    ids = pq.read_table(build / "models.parquet", columns=["model_id"]).column("model_id").to_pylist()
    vectors = np.load(build / "embeddings.npy", mmap_mode="r")
    index = NeighbourIndex.load(build / "index", vectors)
    if free_text:
        query_vector = load_embedder(build / "embedder").transform([query])
        exclude = None
    else:
        try:
            row = ids.index(query)
        except ValueError:
            raise UnknownModelError(f"The build holds no model {query!r}; use --text for a free-text query.") from None
        query_vector = np.asarray(vectors[row : row + 1])
        exclude = row
    found, similarity = index.query(query_vector, k=k + (exclude is not None))
    rows = [(ids[i], float(s)) for i, s in zip(found[0], similarity[0]) if i != exclude and i >= 0][:k]
    return pd.DataFrame(rows, columns=["model_id", "similarity"])

"""Models similar to a model of a build, or to free text embedded the way the build was."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.artifacts import read_manifest, resolve_build
from pipeline.embed import Embedder, load_embedder
from pipeline.neighbours import NeighbourIndex


class UnknownModelError(ValueError):
    """The query names a model the build does not hold."""


class SimilaritySearch:
    """Nearest models of one build by embedding; the index and the embedder are loaded on first use."""

    def __init__(self, build: Path):
        self.build = resolve_build(build)
        read_manifest(self.build)

    @cached_property
    def vectors(self) -> np.ndarray:
        return np.load(self.build / "embeddings.npy", mmap_mode="r")

    @cached_property
    def index(self) -> NeighbourIndex:
        return NeighbourIndex.load(self.build / "index", self.vectors)

    @cached_property
    def embedder(self) -> Embedder:
        return load_embedder(self.build / "embedder")

    def near_text(self, text: str, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the k models nearest to free text, and their cosine similarities, best first."""
        found, similarity = self.index.query(self.embedder.transform([text]), k=k)
        keep = found[0] >= 0
        return found[0][keep], similarity[0][keep]

    def near_row(self, row: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the k models nearest to the model at row (itself excluded), best first."""
        found, similarity = self.index.query(np.asarray(self.vectors[row : row + 1]), k=k, exclude_self_ids=np.asarray([row]))
        keep = found[0] >= 0
        return found[0][keep], similarity[0][keep]


def similar_models(build: Path, query: str, k: int = 10, free_text: bool = False) -> pd.DataFrame:
    """The k nearest models (model_id, similarity), nearest first, excluding the query model."""
    search = SimilaritySearch(build)
    ids = pq.read_table(search.build / "models.parquet", columns=["model_id"]).column("model_id")
    if free_text:
        rows, similarity = search.near_text(query, k)
    else:
        row = pc.index(ids, query).as_py()
        if row < 0:
            raise UnknownModelError(f"The build holds no model {query!r}; use --text for a free-text query.")
        rows, similarity = search.near_row(row, k)
    return pd.DataFrame({"model_id": ids.take(rows).to_pylist(), "similarity": similarity.astype(float)})

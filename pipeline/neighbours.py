"""Nearest neighbours of the model vectors by cosine similarity, for search and the network view.

Below ``exact_threshold`` vectors the search is exact (blocked matrix products
and argpartition); above it pynndescent builds an approximate k-NN graph, which
also answers "each model's neighbours" directly without further queries.
``NeighboursInBackground`` builds that graph and table in a spawned worker process, so a
full build computes them beside its projection and clustering.

A saved index is a folder: INDEX_FILE (kind and size), and for pynndescent BASE_ROWS_FILE and
the graph as plain arrays in NNDESCENT_FOLDER (pipeline.nndescent_files; nothing pickled).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import time
import weakref
from functools import cached_property, partial
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
from pynndescent import NNDescent
from sklearn.preprocessing import normalize
from tqdm.auto import tqdm

from hfmap.atomic import atomic_directory, atomic_file
from pipeline import jit_cache
from pipeline.nndescent_files import STATE_FILE, load_nndescent, save_nndescent, saved_files

# Exact search costs O(n^2): on 2 cores the all-pairs 10-NN of 64-dim vectors takes
# 6 s at 50k, 27 s at 100k, ~110 s at 200k; pynndescent does 200k in 3 s (recall@10 ~0.98).
EXACT_BELOW = 50_000
INDEX_FILE = "neighbour_index.json"
NNDESCENT_FOLDER = "nndescent"
BASE_ROWS_FILE = "base_rows.npy"
EXACT_BLOCK_CELLS = 1 << 25  # similarities computed per block (128 MiB of float32)
CLUSTER_SEARCH_BLOCKS = 8  # blocks per task of an exact search on a cluster
NNDESCENT_NEIGHBOURS = 16  # graph width: k=10 neighbours + self + slack for recall
# Random-projection trees that seed the graph. pynndescent's default grows with sqrt(n)
# (49 trees at 760k); on the real listing's 760k tfidf vectors 12 trees gave the same
# recall@10 (0.993 on 2,000 exact queries) in 24 s instead of 38 s on 2 cores.
NNDESCENT_TREES = 12
TABLE_COLUMNS = ("model_index", "neighbour_index", "rank", "similarity")
# Files a background neighbour worker reads and writes in its folder.
VECTORS_FILE, FOUND_FILE, SIMILARITIES_FILE = "vectors.npy", "found.npy", "similarities.npy"
DONE_FILE, INDEX_FOLDER = "done.json", "index"


class UnreadableIndexError(ValueError):
    """A saved index this version cannot read (such as one pickled by an earlier hfmap)."""


class NeighbourIndex:
    """Cosine k-nearest-neighbour search over the unit vectors of one build.

    An ``nndescent`` index may come from an earlier build: its ``base_rows`` map each
    graph slot to a row of this build (-1: that model is gone or changed), and rows
    the graph does not hold (new or changed models) are searched exactly as the
    ``delta``. A full build has base_rows = every row and no delta.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        kind: str,
        nndescent: NNDescent | None = None,
        base_rows: np.ndarray | None = None,
        saved_folder: Path | None = None,
    ) -> None:
        self.vectors = vectors
        self.kind = kind  # "exact" or "nndescent"
        self._nndescent = nndescent  # None: read from saved_folder when first needed
        self.saved_folder = saved_folder  # where this nndescent graph is already saved, if anywhere
        self.runner = None  # a pipeline.cluster.ClusterRunner: exact searches run on its cluster
        if kind == "nndescent":
            self.base_rows = (
                np.arange(len(vectors), dtype=np.int64)
                if base_rows is None
                else np.asarray(base_rows, np.int64)
            )
            covered = np.zeros(len(vectors), dtype=bool)
            covered[self.base_rows[self.base_rows >= 0]] = True
            self.delta_rows = np.flatnonzero(~covered)
            self.delta_vectors = np.asarray(vectors[self.delta_rows], dtype=np.float32)
            if len(self.delta_rows):
                self.delta_vectors = normalize(self.delta_vectors)
            self.n_stale = int((self.base_rows < 0).sum())

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        exact_threshold: int | None = None,
        seed: int = 0,
        n_neighbors: int = NNDESCENT_NEIGHBOURS,
        n_jobs: int | None = None,
        progress: bool = False,
    ) -> Self:
        """Exact search for fewer than exact_threshold (default EXACT_BELOW) vectors, else a
        pynndescent graph."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) < (EXACT_BELOW if exact_threshold is None else exact_threshold):
            return cls(normalize(vectors), "exact")
        jit_cache.enable()
        nndescent = NNDescent(
            vectors,
            metric="cosine",
            n_neighbors=min(n_neighbors, len(vectors) - 1),
            n_trees=NNDESCENT_TREES,
            random_state=seed,
            low_memory=True,
            n_jobs=n_jobs,
            verbose=progress,
        )
        return cls(vectors, "nndescent", nndescent)

    @property
    def nndescent(self) -> NNDescent | None:
        """The pynndescent graph (None for an exact index), read from saved_folder on first use
        when it was opened lazily."""
        if self._nndescent is None and self.kind == "nndescent":
            jit_cache.enable()
            self._nndescent = load_nndescent(self.saved_folder)
        return self._nndescent

    def carried_to(self, vectors: np.ndarray, row_now: np.ndarray) -> Self:
        """This index reused by a later build whose vectors are ``vectors``; row_now[i] is where
        this index's row i went (-1: removed or changed). An exact index is simply rebuilt."""
        if self.kind == "exact":
            carried = type(self).build(vectors, exact_threshold=len(vectors) + 1)
        else:
            base_rows = np.where(self.base_rows >= 0, row_now[np.maximum(self.base_rows, 0)], -1)
            carried = type(self)(
                vectors, "nndescent", self._nndescent, base_rows, self.saved_folder
            )
        carried.runner = self.runner
        return carried

    @property
    def size(self) -> int:
        """How many vectors are indexed."""
        return len(self.vectors)

    @cached_property
    def zero_rows(self) -> np.ndarray:
        """Whether each indexed vector is zero (a text with no known term): it has no direction,
        so it is no one's neighbour and has none (pynndescent gave one model ten times over at
        similarity 0 to such a query)."""
        return ~np.asarray(self.vectors).any(axis=1)

    def _no_zero_vectors(
        self, queries: np.ndarray, indices: np.ndarray, similarities: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """indices and similarities without any neighbour of a zero query or any zero indexed
        vector (the found ones moved to the front of their rows, -1 / NaN after them)."""
        none = ~np.asarray(queries).any(axis=1)[:, None] | self.zero_rows[np.maximum(indices, 0)]
        indices = np.where(none, -1, indices)
        order = np.argsort(indices < 0, axis=1, kind="stable")
        indices = np.take_along_axis(indices, order, axis=1)
        similarities = np.take_along_axis(np.where(none, np.nan, similarities), order, axis=1)
        return indices, similarities.astype(np.float32)

    @property
    def stale_share(self) -> float:
        """Share of this build's rows that the nndescent graph does not hold or holds out of
        date."""
        if self.kind == "exact":
            return 0.0
        return (len(self.delta_rows) + self.n_stale) / max(len(self.base_rows), 1)

    def query(
        self,
        vectors: np.ndarray,
        k: int = 10,
        exclude_self_ids: np.ndarray | None = None,
        progress: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k most similar indexed rows per query row (int64, -1 where fewer exist) and their
        cosine similarity.

        exclude_self_ids[i], when given, is an indexed row never returned for query i
        (the query's own row when the queries are indexed vectors).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if exclude_self_ids is not None:
            exclude_self_ids = np.asarray(exclude_self_ids, dtype=np.int64)
            if exclude_self_ids.shape != (len(vectors),):
                raise ValueError("exclude_self_ids needs one indexed row number per query vector.")
        if self.kind == "exact":
            found = _exact_search(vectors, self.vectors, k, exclude_self_ids, progress, self.runner)
            return self._no_zero_vectors(vectors, *found)
        extra = 0 if exclude_self_ids is None else 1
        wanted = k + extra + (k if self.n_stale else 0)  # stale slots are dropped below
        slots, distances = self.nndescent.query(vectors, k=min(wanted, len(self.base_rows)))
        indices = self.base_rows[slots]
        similarities = np.where(indices >= 0, 1.0 - distances, -np.inf).astype(np.float32)
        if len(self.delta_rows):
            delta, delta_similarities = _exact_search(
                vectors, self.delta_vectors, k + extra, runner=self.runner
            )
            indices = np.hstack(
                [indices, np.where(delta >= 0, self.delta_rows[np.maximum(delta, 0)], -1)]
            )
            similarities = np.hstack([similarities, np.nan_to_num(delta_similarities, nan=-np.inf)])
        order = np.argsort(-similarities, axis=1, kind="stable")[:, : k + extra]
        indices = np.take_along_axis(indices, order, axis=1)
        similarities = np.take_along_axis(similarities, order, axis=1)
        indices[~np.isfinite(similarities)] = -1
        return self._no_zero_vectors(
            vectors, *_drop_excluded(indices, similarities, exclude_self_ids, k)
        )

    def self_neighbours(self, k: int = 10, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Each indexed vector's k nearest other vectors (itself excluded) and their
        similarities."""
        own_rows = np.arange(self.size, dtype=np.int64)
        fresh_graph = (
            self.kind == "nndescent"
            and self.stale_share == 0
            and (self.base_rows == own_rows).all()
        )
        if (
            fresh_graph and k < self.nndescent.neighbor_graph[0].shape[1]
        ):  # the k-NN graph already holds the answer
            indices, distances = self.nndescent.neighbor_graph
            found = _drop_excluded(
                indices.astype(np.int64), (1.0 - distances).astype(np.float32), own_rows, k
            )
            return self._no_zero_vectors(self.vectors, *found)
        return self.query(self.vectors, k, exclude_self_ids=own_rows, progress=progress)

    def save(self, directory: str | Path) -> None:
        """Write the kind (JSON) and, for pynndescent, the graph's arrays (hard-linked from the
        folder they were saved in before, when there is one: the worker's, or the earlier build's
        for a carried index) and its slot-to-row map."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.kind == "nndescent":
            target = directory / NNDESCENT_FOLDER
            with atomic_directory(target) as staging:
                if self.saved_folder is not None and (self.saved_folder / STATE_FILE).is_file():
                    for name in saved_files(self.saved_folder):
                        _link_or_copy(self.saved_folder / name, staging / name)
                else:
                    save_nndescent(self.nndescent, staging)
            with atomic_file(directory / BASE_ROWS_FILE) as temp, temp.open("wb") as file:
                np.save(file, self.base_rows, allow_pickle=False)
            self.saved_folder = target
        with atomic_file(directory / INDEX_FILE) as temp:
            temp.write_text(json.dumps({"kind": self.kind, "size": self.size}))

    @classmethod
    def load(cls, directory: str | Path, vectors: np.ndarray, lazy: bool = False) -> Self:
        """Reopen a saved index over the same vectors (lazy: read the graph only when it is
        first searched)."""
        directory = Path(directory)
        saved = json.loads((directory / INDEX_FILE).read_text())
        if saved["size"] != len(vectors):
            raise ValueError(
                f"The index in {str(directory)!r} covers {saved['size']} vectors, "
                f"not {len(vectors)}."
            )
        if saved["kind"] == "exact":
            return cls(normalize(np.asarray(vectors, dtype=np.float32)), "exact")
        if not (directory / NNDESCENT_FOLDER / STATE_FILE).is_file():
            raise UnreadableIndexError(
                f"The index in {str(directory)!r} has no {NNDESCENT_FOLDER}/{STATE_FILE} (an index "
                "pickled by an earlier hfmap is never unpickled)."
            )
        base_rows = np.load(directory / BASE_ROWS_FILE, allow_pickle=False)
        index = cls(vectors, "nndescent", None, base_rows, directory / NNDESCENT_FOLDER)
        if not lazy:
            index.nndescent  # noqa: B018  (reads it now)
        return index


def _exact_search(
    queries: np.ndarray,
    vectors: np.ndarray,
    k: int,
    exclude_self_ids: np.ndarray | None = None,
    progress: bool = False,
    runner=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k cosine search of queries over unit vectors (blocked); -1 / NaN where fewer
    exist. runner (a pipeline.cluster.ClusterRunner): runs of blocks are searched on its cluster,
    the vectors sent to each worker once (the same blocks as here, so the same answers)."""
    size = len(vectors)
    block = max(1, min(4096, EXACT_BLOCK_CELLS // max(size, 1)))
    if runner is not None and len(queries):
        rows = block * CLUSTER_SEARCH_BLOCKS
        parts = [
            (
                queries[start : start + rows],
                None if exclude_self_ids is None else exclude_self_ids[start : start + rows],
            )
            for start in range(0, len(queries), rows)
        ]
        found = runner.map(partial(_search_part, k=k), parts, shared=(vectors,), desc="neighbours")
        return tuple(np.concatenate(columns) for columns in zip(*found))
    queries = normalize(queries)
    k_found = max(0, min(k, size - (exclude_self_ids is not None)))
    indices = np.full((len(queries), k), -1, dtype=np.int64)
    similarities = np.full((len(queries), k), np.nan, dtype=np.float32)
    if k_found == 0 or len(queries) == 0:
        return indices, similarities
    with tqdm(total=len(queries), desc="neighbours", unit="vec", disable=not progress) as bar:
        for start in range(0, len(queries), block):
            stop = min(start + block, len(queries))
            sims = queries[start:stop] @ vectors.T
            if exclude_self_ids is not None:
                sims[np.arange(stop - start), exclude_self_ids[start:stop]] = -np.inf
            top = np.argpartition(sims, size - k_found, axis=1)[:, size - k_found :]
            top_sims = np.take_along_axis(sims, top, axis=1)
            order = np.argsort(-top_sims, axis=1, kind="stable")
            indices[start:stop, :k_found] = np.take_along_axis(top, order, axis=1)
            similarities[start:stop, :k_found] = np.take_along_axis(top_sims, order, axis=1)
            bar.update(stop - start)
    return indices, similarities


def _search_part(
    queries: np.ndarray, exclude_self_ids: np.ndarray | None, vectors: np.ndarray, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """_exact_search of some of the queries (a cluster worker's task)."""
    return _exact_search(queries, vectors, k, exclude_self_ids)


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link source to target (same file system), else copy it."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _drop_excluded(
    indices: np.ndarray, similarities: np.ndarray, exclude_ids: np.ndarray | None, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first k columns per row after removing exclude_ids[i] from row i (or the last column
    if absent)."""
    if exclude_ids is not None and indices.shape[1]:
        drop = indices == exclude_ids[:, None]
        drop[~drop.any(axis=1), -1] = True
        keep = ~drop
        width = indices.shape[1] - 1
        indices = indices[keep].reshape(len(indices), width)
        similarities = similarities[keep].reshape(len(similarities), width)
    missing = k - indices.shape[1]
    if missing > 0:
        indices = np.pad(indices, ((0, 0), (0, missing)), constant_values=-1)
        similarities = np.pad(similarities, ((0, 0), (0, missing)), constant_values=np.nan)
    indices, similarities = indices[:, :k], similarities[:, :k]
    similarities[indices < 0] = np.nan
    return indices, similarities


def knn_table(
    index: NeighbourIndex, vectors: np.ndarray, k: int = 10, progress: bool = False
) -> pd.DataFrame:
    """Long table of each model's k nearest other models: model_index, neighbour_index,
    rank (1..k), similarity.

    vectors are the indexed vectors (row i = model i); rows with no neighbour found are left out.
    """
    if len(vectors) != index.size:
        raise ValueError(f"knn_table needs the {index.size} indexed vectors, got {len(vectors)}.")
    return neighbour_table(*index.self_neighbours(k, progress=progress))


def neighbour_table(indices: np.ndarray, similarities: np.ndarray) -> pd.DataFrame:
    """knn_table's long table from each row's neighbours and their similarities (-1: none)."""
    n, width = indices.shape
    found = indices.ravel() >= 0
    return pd.DataFrame(
        {
            "model_index": np.repeat(np.arange(n, dtype=np.int32), width)[found],
            "neighbour_index": indices.ravel()[found].astype(np.int32),
            "rank": np.tile(np.arange(1, width + 1, dtype=np.int16), n)[found],
            "similarity": similarities.ravel()[found].astype(np.float32),
        },
        columns=list(TABLE_COLUMNS),
    )


class NeighboursInBackground:
    """The neighbour index of all vectors and their k-NN table, computed by a spawned worker
    process while this one goes on: a full build starts it as soon as the vectors exist, so it
    runs beside the projection and the clustering.

    The vectors go to the worker, and the saved index and the k-NN arrays come back, as files
    in a hidden folder made under ``parent`` (np.save / np.load, nothing pickled between the
    processes); put it on the build's file system, so that saving the index into the build
    hard-links the worker's graph files. The worker runs NeighbourIndex.build and
    self_neighbours exactly as this process would (same seed and threads: same graph).
    ``close`` (or garbage collection, or the end of this process) stops a worker still running
    and removes the folder.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        parent: str | Path,
        k: int = 10,
        seed: int = 0,
        exact_threshold: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.started = time.time()
        self.vectors = vectors
        self.seconds: float | None = None  # the worker's time from start to finish, once known
        Path(parent).mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=".neighbours-", dir=parent))
        np.save(self.folder / VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float32))
        context = multiprocessing.get_context(
            "spawn"
        )  # no fork of a process holding numba's threads
        self.process = context.Process(
            target=_background_worker,
            args=(str(self.folder), k, seed, exact_threshold, n_jobs),
            name="hfmap-neighbours",
            daemon=True,
        )
        self.process.start()
        self._cleanup = weakref.finalize(self, _stop_and_remove, self.process, self.folder)

    def result(self) -> tuple[NeighbourIndex, pd.DataFrame]:
        """Wait for the worker: the index (its graph read only if searched) and knn_table."""
        self.process.join()
        if self.process.exitcode != 0:
            raise RuntimeError(
                f"The neighbour worker process failed (exit code {self.process.exitcode}); "
                "its error is printed above."
            )
        done = json.loads((self.folder / DONE_FILE).read_text())
        self.seconds = round(done["finished_at"] - self.started, 3)
        index = NeighbourIndex.load(self.folder / INDEX_FOLDER, self.vectors, lazy=True)
        table = neighbour_table(
            np.load(self.folder / FOUND_FILE), np.load(self.folder / SIMILARITIES_FILE)
        )
        return index, table

    def close(self) -> None:
        """Stop the worker if it still runs and remove its folder (save the index first)."""
        self._cleanup()


def _background_worker(
    folder: str, k: int, seed: int, exact_threshold: int | None, n_jobs: int | None
) -> None:
    """NeighboursInBackground's worker process: the index of the folder's vectors, saved there
    with their k nearest neighbours; DONE_FILE, written last, says when it finished."""
    folder = Path(folder)
    vectors = np.load(folder / VECTORS_FILE)
    index = NeighbourIndex.build(vectors, exact_threshold=exact_threshold, seed=seed, n_jobs=n_jobs)
    found, similarities = index.self_neighbours(k)
    index.save(folder / INDEX_FOLDER)
    np.save(folder / FOUND_FILE, found)
    np.save(folder / SIMILARITIES_FILE, similarities)
    (folder / DONE_FILE).write_text(json.dumps({"finished_at": time.time()}))


def _stop_and_remove(process: multiprocessing.process.BaseProcess, folder: Path) -> None:
    if process.is_alive():
        process.terminate()
        process.join()
    shutil.rmtree(folder, ignore_errors=True)

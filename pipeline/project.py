"""Map coordinates: UMAP of the model vectors to 3D and 2D, fitted on a sample.

UMAP is fitted on a seeded sample of at most ``fit_sample_size`` vectors (after a
PCA to 50 dimensions when the vectors are wider); the 3D and 2D maps share one
nearest-neighbour search (on all CPUs) and are fitted side by side, the 2D map in a
worker process; the placing graph below is computed here as soon as the 3D map is
fitted, while the worker is still busy. Every other vector is placed the way UMAP's own
``transform`` starts: at the membership-weighted mean of its nearest fitted
neighbours' coordinates (UMAP's fuzzy simplicial weights, found with the fitted
pynndescent index), computed once for both maps. We skip ``transform``'s further
30 SGD epochs, which are single-threaded under a fixed seed: measured on 2 cores
for 1.86M x 64 vectors, fitting on 50k, full ``transform`` would add ~3.3 min per
map, while placing takes ~25 s for both; the placed points sit a median 0.02
(90th percentile 0.13) map units from where ``transform`` puts them, on a map
~25 units across.

UMAP starts from the PCA of the fitted points, not from its default spectral
embedding: on the real Hub listing (760k models, tfidf) the fit sample's
neighbour graph falls into hundreds of components (duplicate and template
texts), where the spectral start took 75-95 s of CPU per map and gave a worse map
(trustworthiness at 15 neighbours 0.878 against 0.941 with the PCA start, on
4,000 fitted points; fitting took 30 s of CPU instead of 125 s). umap's and
pynndescent's compiled code is cached on disk (pipeline.jit_cache).

Deterministic: the same vectors and seed give identical coordinates.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import numpy as np
import scipy.sparse
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from tqdm.auto import tqdm
from umap import UMAP
from umap.umap_ import nearest_neighbors

from pipeline import jit_cache

FirstModelResult = TypeVar("FirstModelResult")

PCA_DIMS = 50
MIN_UMAP_POINTS = 4  # below this UMAP has no neighbourhood to speak of
UMAP_EXACT_BELOW = 4096  # umap-learn computes all distances itself below this many points
# from here on the maps are fitted side by side (a worker costs ~5 s to start)
PARALLEL_FIT_ROWS = 20_000
# cap on a placement chunk's dense distance matrix (256 MiB of float64)
DENSE_DISTANCE_CELLS = 1 << 25
# Layout epochs per map dimension when fitting more than UMAP_DEFAULT_500_EPOCHS points (where
# umap-learn's default drops from 500 to 200; smaller fits keep the default). On the real listing
# (760k, tfidf, fit on 50k) 100 (3D) and 150 (2D) kept trustworthiness at 15 neighbours
# (0.927 3D, 0.909 2D against 0.928, 0.909 with 200) for ~25% less CPU.
UMAP_EPOCHS: dict[int, int] = {3: 100, 2: 150}
UMAP_DEFAULT_500_EPOCHS = 10_000


def project(
    vectors: np.ndarray,
    seed: int = 0,
    n_components: Sequence[int] = (3, 2),
    fit_sample_size: int = 50_000,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    chunk_size: int = 100_000,
    progress: bool = False,
    runner=None,
) -> dict[int, np.ndarray]:
    """Coordinates of every vector for each requested dimension: {3: (n, 3), 2: (n, 2)} float32.

    runner (a pipeline.cluster.ClusterRunner): the chunks outside the fit sample are placed on its
    cluster, the fitted model sent to each worker once (the same graphs as here)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    jit_cache.enable()
    if n < MIN_UMAP_POINTS:
        return {c: small_layout(vectors, c) for c in n_components}

    fit_rows = sample_rows(n, fit_sample_size, seed)
    reducer = fit_pre_reduction(vectors[fit_rows], seed)
    fit_data = reduce(reducer, vectors[fit_rows])
    k = max(2, min(n_neighbors, len(fit_rows) - 1))
    rest_rows = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
    if len(fit_rows) < UMAP_EXACT_BELOW:  # umap-learn then measures chunk x fit distances densely
        chunk_size = min(chunk_size, max(1, DENSE_DISTANCE_CELLS // len(fit_rows)))
    chunks = [rest_rows[s : s + chunk_size] for s in range(0, len(rest_rows), chunk_size)]

    def placement_graphs(model: UMAP) -> list[scipy.sparse.csr_matrix]:
        if runner is not None:
            blocks = [(vectors[rows],) for rows in chunks]
            return runner.map(placement_graph, blocks, shared=(model, reducer), desc="umap place")
        hidden = not progress or not chunks
        with tqdm(total=len(rest_rows), desc="umap place", unit="pt", disable=hidden) as bar:
            graphs = []
            for rows in chunks:
                graphs.append(neighbour_graph(model, reduce(reducer, vectors[rows])))
                bar.update(len(rows))
        return graphs

    layouts, graphs = fit_umaps(
        fit_data, n_components, k, min_dist, seed, progress, placement_graphs
    )
    coordinates = {c: np.empty((n, c), dtype=np.float32) for c in n_components}
    for c, layout in layouts.items():
        coordinates[c][fit_rows] = layout
        for rows, graph in zip(chunks, graphs):
            coordinates[c][rows] = place_by_neighbours(graph, layout)
    return coordinates


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted row numbers of a seeded random sample of ``size`` of n rows (all rows when n <=
    size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def fit_pre_reduction(vectors: np.ndarray, seed: int) -> PCA | None:
    """A PCA to PCA_DIMS dimensions for vectors wider than that, else None."""
    if vectors.shape[1] <= PCA_DIMS or len(vectors) <= PCA_DIMS:
        return None
    return PCA(n_components=PCA_DIMS, random_state=seed).fit(vectors)


def reduce(reducer: PCA | None, vectors: np.ndarray) -> np.ndarray:
    """vectors through the pre-reduction (unchanged without one), as C-ordered float32."""
    reduced = vectors if reducer is None else reducer.transform(vectors)
    return np.ascontiguousarray(reduced, dtype=np.float32)


def fit_umaps(
    data: np.ndarray,
    n_components: Sequence[int],
    n_neighbors: int,
    min_dist: float,
    seed: int,
    progress: bool,
    with_first_model: Callable[[UMAP], FirstModelResult],
) -> tuple[dict[int, np.ndarray], FirstModelResult]:
    """One UMAP per output dimension, sharing a single nearest-neighbour search of data: every
    dimension's layout, and what with_first_model made of the first dimension's fitted model
    (which holds the search index that places the other points).

    From PARALLEL_FIT_ROWS points on, with more than one CPU, the other dimensions are fitted
    at the same time in worker processes (each fit is single-threaded and seeded, so the
    layouts are the same as fitted one after another), and with_first_model runs here while
    they are still being fitted.
    """
    precomputed = (None, None, None)
    if len(data) >= UMAP_EXACT_BELOW:  # all CPUs: pynndescent gives the same graph on every run
        precomputed = nearest_neighbors(
            data,
            n_neighbors,
            "euclidean",
            {},
            False,
            check_random_state(seed),
            low_memory=True,
            n_jobs=-1,
        )
    first, *others = n_components
    with tqdm(total=len(n_components), desc="umap fit", unit="map", disable=not progress) as bar:
        if others and len(data) >= PARALLEL_FIT_ROWS and (os.cpu_count() or 1) > 1:
            knn = (precomputed[0], precomputed[1], None)  # the index only places points
            # no fork of a process holding numba's threads
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=len(others), mp_context=context) as pool:
                pending = {
                    c: pool.submit(
                        umap_layout,
                        data,
                        c,
                        n_neighbors,
                        min_dist,
                        seed,
                        knn,
                        layout_epochs(len(data), c),
                    )
                    for c in others
                }
                model = fitted_umap(
                    data,
                    first,
                    n_neighbors,
                    min_dist,
                    seed,
                    precomputed,
                    layout_epochs(len(data), first),
                )
                bar.update()
                made = with_first_model(model)
                layouts = {first: model.embedding_}
                for c, future in pending.items():
                    layouts[c] = future.result()
                    bar.update()
            return layouts, made
        model = fitted_umap(
            data,
            first,
            n_neighbors,
            min_dist,
            seed,
            precomputed,
            layout_epochs(len(data), first),
        )
        bar.update()
        layouts = {first: model.embedding_}
        for c in others:
            layouts[c] = fitted_umap(
                data, c, n_neighbors, min_dist, seed, precomputed, layout_epochs(len(data), c)
            ).embedding_
            bar.update()
    return layouts, with_first_model(model)


def layout_epochs(n_points: int, n_components: int) -> int | None:
    """UMAP_EPOCHS for a fit of n_points; None (umap-learn's default) up to
    UMAP_DEFAULT_500_EPOCHS points."""
    return UMAP_EPOCHS.get(n_components) if n_points > UMAP_DEFAULT_500_EPOCHS else None


def fitted_umap(
    data: np.ndarray,
    n_components: int,
    n_neighbors: int,
    min_dist: float,
    seed: int,
    precomputed,
    n_epochs: int | None,
) -> UMAP:
    """UMAP to n_components dimensions fitted on data (with its precomputed k-NN, if any)
    in n_epochs (None: umap-learn's default)."""
    model = UMAP(
        n_components=n_components,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric="euclidean",  # on unit vectors (or their PCA) this orders neighbours like cosine
        # the PCA start needs as many points and columns as output dimensions
        init="pca" if min(data.shape) >= n_components else "random",
        random_state=seed,
        n_epochs=n_epochs,
        n_jobs=1,
        low_memory=True,
        precomputed_knn=precomputed,
    )
    with warnings.catch_warnings():
        # "n_jobs overridden by random_state" and tiny-graph fallbacks are expected here.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return model.fit(data)


def umap_layout(
    data: np.ndarray,
    n_components: int,
    n_neighbors: int,
    min_dist: float,
    seed: int,
    precomputed,
    n_epochs: int | None,
) -> np.ndarray:
    """The fitted points' coordinates of fitted_umap (what a worker process sends back)."""
    jit_cache.enable()
    model = fitted_umap(data, n_components, n_neighbors, min_dist, seed, precomputed, n_epochs)
    return model.embedding_


def placement_graph(
    vectors: np.ndarray, model: UMAP, reducer: PCA | None
) -> scipy.sparse.csr_matrix:
    """neighbour_graph of vectors through the pre-reduction (a cluster worker's task)."""
    jit_cache.enable()
    return neighbour_graph(model, reduce(reducer, vectors))


def neighbour_graph(model: UMAP, data: np.ndarray) -> scipy.sparse.csr_matrix:
    """UMAP membership strengths from new points (rows) to the fitted points (columns)."""
    mode = model.transform_mode
    model.transform_mode = "graph"  # neighbours and weights only, no layout
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            graph = model.transform(data)
    finally:
        model.transform_mode = mode
    graph = graph.tocsr()
    graph.eliminate_zeros()
    return graph


def place_by_neighbours(graph: scipy.sparse.csr_matrix, embedding: np.ndarray) -> np.ndarray:
    """Each new point at the weight-averaged coordinates of its fitted neighbours (UMAP's transform
    init).

    A point identical to a fitted one (weight 1) takes that point's coordinates;
    one with no neighbour at all takes the centre of the map.
    """
    embedding = np.asarray(embedding, dtype=np.float64)
    weights = graph.sum(axis=1).A1
    placed = np.asarray(graph @ embedding) / np.where(weights > 0, weights, 1.0)[:, None]
    placed[weights == 0] = embedding.mean(axis=0)
    exact = graph.copy()
    exact.data = (exact.data >= 1.0).astype(np.int8)
    exact.eliminate_zeros()
    has_twin = np.flatnonzero(np.diff(exact.indptr) > 0)
    placed[has_twin] = embedding[exact.indices[exact.indptr[has_twin]]]
    return placed.astype(np.float32)


def small_layout(vectors: np.ndarray, n_components: int) -> np.ndarray:
    """Deterministic coordinates for fewer than MIN_UMAP_POINTS points: their PCA, zero-padded."""
    n = len(vectors)
    layout = np.zeros((n, n_components), dtype=np.float32)
    if n < 2:
        return layout
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    left, singular, _ = np.linalg.svd(centred, full_matrices=False)
    left *= np.sign(left[0] + (left[0] == 0))  # fixed sign: first point on the positive side
    kept = min(n_components, len(singular))
    layout[:, :kept] = left[:, :kept] * singular[:kept]
    return layout

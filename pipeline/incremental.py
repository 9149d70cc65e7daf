"""Incremental builds: carry the current build's map forward and place only new or changed models.

A day on the Hub adds about 1% new models. Refitting UMAP, k-means and the
neighbour graph for them would take minutes and redraw the whole map, so when the
current build was made with the same embedder state and options, a build keeps
every unchanged model (same id, same embedded text) where it was and:

- places each new or changed model at the weighted mean of its nearest unchanged
  models' coordinates (UMAP-style weights exp(-(d - d_nearest) / mean gap) on
  cosine distance), as the full build places models outside UMAP's fit sample;
- puts it in the cluster with the nearest centroid (cluster names are kept);
- searches it exactly beside the carried pynndescent graph (NeighbourIndex delta);
- gives it its k nearest models, and offers it to the neighbour lists of the
  models it found, which also drop removed or changed neighbours.

Once the models added, changed or removed since the last full build exceed
MAX_CHANGED_SHARE of that build, the next build is a full one again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import scipy.sparse
from sklearn.preprocessing import normalize

from pipeline.build_format import BuildFormatError, History, Manifest, open_build
from pipeline.neighbours import TABLE_COLUMNS, NeighbourIndex, UnreadableIndexError, knn_table

MAX_CHANGED_SHARE = 0.10
PLACE_NEIGHBOURS = 15
# Options that shape the map: a build with other values cannot reuse it.
MAP_OPTIONS = ("dim", "seed", "n_clusters", "fit_sample_size")
COORDINATES = ("x", "y", "z", "x2d", "y2d")


@dataclass
class CarriedBuild:
    """The current build, matched row by row against the models of the build being made."""

    manifest: Manifest
    row_now: np.ndarray  # previous row -> row of this build, -1 when removed or changed
    fresh_rows: np.ndarray  # rows of this build that are new or changed
    models: pd.DataFrame  # previous model_id, coordinates, cluster
    clusters: pd.DataFrame
    neighbours: pd.DataFrame
    index: NeighbourIndex
    # for the manifest: based_on, last_full_build, models_at_last_full, changed_since_full
    history: History


def carry_or_reason(
    out_dir,
    embedder_name: str,
    state_id: str,
    options: dict,
    model_ids: pd.Series,
    keys: np.ndarray,
) -> CarriedBuild | str:
    """The current build ready to carry forward, or the reason this build must be a full one."""
    try:
        previous = open_build(out_dir)
    except BuildFormatError:
        return "no earlier build"
    manifest = previous.manifest
    if (manifest.embedder.name, manifest.embedder.state_id) != (embedder_name, state_id):
        return "the embedder or its fitted state changed"
    changed_options = [
        name for name in MAP_OPTIONS if manifest.options.get(name) != options.get(name)
    ]
    if changed_options:
        return f"option {', '.join(changed_options)} changed"
    if not previous.text_keys.is_file():
        return "the earlier build has no text keys"

    columns = ["model_id", *COORDINATES, "cluster"]
    old = pq.read_table(previous.table("models"), columns=columns).to_pandas()
    old_keys = np.load(previous.text_keys)
    # Arrow's hash lookup of the ids: a third of the CPU of a pandas Index of 760k strings
    now_ids = pa.array(model_ids).cast(pa.string())
    found = pc.index_in(pa.array(old["model_id"]).cast(pa.string()), value_set=now_ids)
    row_now = pc.fill_null(found, -1).to_numpy().astype(np.int64)
    row_now[(row_now >= 0) & (keys[np.maximum(row_now, 0)] != old_keys)] = -1
    kept = np.zeros(len(model_ids), dtype=bool)
    kept[row_now[row_now >= 0]] = True
    fresh_rows = np.flatnonzero(~kept)
    removed = int((row_now < 0).sum())

    history = manifest.history
    changed = history.changed_since_full + len(fresh_rows) + removed
    if changed > MAX_CHANGED_SHARE * history.models_at_last_full:
        return (
            f"{changed:,} models added, changed or removed since the last full build "
            f"(over {MAX_CHANGED_SHARE:.0%})"
        )
    vectors = np.load(previous.embeddings, mmap_mode="r")
    try:
        index = NeighbourIndex.load(previous.index, vectors)
    except UnreadableIndexError:
        return "the earlier build's neighbour index is in a format this version does not read"
    return CarriedBuild(
        manifest=manifest,
        row_now=row_now,
        fresh_rows=fresh_rows,
        models=old,
        clusters=pd.read_parquet(
            previous.table("clusters"), columns=["cluster", "size", "label", "top_terms"]
        ),
        neighbours=pd.read_parquet(previous.table("neighbours")),
        index=index,
        history=replace(history, based_on=manifest.build_id, changed_since_full=changed),
    )


def carried_coordinates(carried: CarriedBuild, vectors: np.ndarray) -> dict[int, np.ndarray]:
    """{3: xyz, 2: xy} for every row: unchanged models where they were, the rest placed by their
    neighbours."""
    n = len(vectors)
    old_rows = np.flatnonzero(carried.row_now >= 0)
    at = carried.row_now[old_rows]
    placed = np.zeros((n, len(COORDINATES)), dtype=np.float32)
    placed[at] = carried.models.loc[old_rows, list(COORDINATES)].to_numpy(np.float32)
    if len(carried.fresh_rows):
        found, similarity = carried.index.query(
            np.asarray(vectors[carried.fresh_rows]), k=PLACE_NEIGHBOURS
        )
        anchors = np.where(found >= 0, carried.row_now[np.maximum(found, 0)], -1)
        weights = neighbour_weights(np.where(anchors >= 0, 1.0 - similarity, np.inf))
        total = weights.sum(axis=1, keepdims=True)
        mean = placed[at].mean(axis=0) if len(at) else np.zeros(len(COORDINATES), np.float32)
        spread = (weights[:, :, None] * placed[np.maximum(anchors, 0)]).sum(axis=1)
        placed[carried.fresh_rows] = np.where(
            total > 0, spread / np.where(total > 0, total, 1), mean
        )
    return {3: placed[:, :3].copy(), 2: placed[:, 3:].copy()}


def neighbour_weights(distances: np.ndarray) -> np.ndarray:
    """UMAP-like membership weights per row of distances (inf = no neighbour): 1 for the nearest,
    decaying with the distance beyond it in units of the row's mean gap."""
    finite = np.isfinite(distances)
    nearest = np.where(finite, distances, np.inf).min(axis=1, keepdims=True)
    gaps = np.where(finite, distances - nearest, 0.0)
    counts = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    scale = gaps.sum(axis=1, keepdims=True) / counts + 1e-6
    return np.where(finite, np.exp(-gaps / scale), 0.0).astype(np.float32)


def carried_clusters(carried: CarriedBuild, vectors: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster of every row (unchanged models keep theirs, the rest take the nearest centroid) and
    the earlier cluster table with sizes counted again."""
    n, n_clusters = len(vectors), len(carried.clusters)
    old_rows = np.flatnonzero(carried.row_now >= 0)
    labels = np.zeros(n, dtype=np.int32)
    labels[carried.row_now[old_rows]] = carried.models["cluster"].to_numpy()[old_rows]
    if len(carried.fresh_rows) and n_clusters > 1:
        kept = carried.row_now[old_rows]
        membership = scipy.sparse.csr_matrix(
            (np.ones(len(kept), np.float32), (labels[kept], np.arange(len(kept)))),
            shape=(n_clusters, len(kept)),
        )
        centroids = normalize(np.asarray(membership @ np.asarray(vectors[kept])))
        labels[carried.fresh_rows] = np.argmax(
            np.asarray(vectors[carried.fresh_rows]) @ centroids.T, axis=1
        )
    table = carried.clusters.copy()
    table["size"] = np.bincount(labels, minlength=n_clusters)[:n_clusters].astype(np.int64)
    return labels, table


def carried_neighbours(
    carried: CarriedBuild, index: NeighbourIndex, vectors: np.ndarray, k: int
) -> pd.DataFrame:
    """Each model's k nearest other models, updated for the new, changed and removed ones."""
    if index.kind == "exact":  # small build: recomputing exactly is cheap
        return knn_table(index, vectors, k=k)
    old = carried.neighbours
    model = carried.row_now[old["model_index"].to_numpy()]
    neighbour = carried.row_now[old["neighbour_index"].to_numpy()]
    keep = (model >= 0) & (neighbour >= 0)
    lost = model[(model >= 0) & (neighbour < 0)]
    kept = (model[keep], neighbour[keep], old["similarity"].to_numpy()[keep])  # plain arrays:
    del model, neighbour, keep  # a DataFrame of the 7.6M entries was copied at each step

    fresh = carried.fresh_rows
    found, similarity = index.query(np.asarray(vectors[fresh]), k=k, exclude_self_ids=fresh)
    by_similarity = np.argsort(-similarity, axis=1, kind="stable")  # ranked_table's fast path
    found = np.take_along_axis(found, by_similarity, 1)
    similarity = np.take_along_axis(similarity, by_similarity, 1)
    valid = found >= 0
    fresh_entries = (np.repeat(fresh, k)[valid.ravel()], found[valid], similarity[valid])
    # a fresh model is offered to the lists of the models it found; those and the models
    # that lost a neighbour keep their k best entries, every other list stays as it was
    is_fresh = np.zeros(len(vectors), dtype=bool)
    is_fresh[fresh] = True
    to_old = ~is_fresh[fresh_entries[1]]  # fresh lists come whole from the query
    offered = (fresh_entries[1][to_old], fresh_entries[0][to_old], fresh_entries[2][to_old])
    is_affected = np.zeros(len(vectors), dtype=bool)
    is_affected[offered[0]] = True
    is_affected[lost] = True
    affected = is_affected[kept[0]]
    redone = [
        np.concatenate([column[affected], more]) for column, more in zip(kept, offered, strict=True)
    ]
    order = np.lexsort((-redone[2], redone[0]))  # by model, then decreasing similarity (stable)
    redone = [column[order] for column in redone]
    starts = np.flatnonzero(np.r_[True, redone[0][1:] != redone[0][:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    best = rank < k
    unaffected = ~affected
    columns = [
        np.concatenate([old_column[unaffected], new_column[best], fresh_column])
        for old_column, new_column, fresh_column in zip(kept, redone, fresh_entries, strict=True)
    ]
    return ranked_table(*columns)


def ranked_table(model: np.ndarray, neighbour: np.ndarray, similarity: np.ndarray) -> pd.DataFrame:
    """The neighbours table sorted by model and decreasing similarity, ranked 1.. within each model
    (equal similarities in input order). Entries that come grouped and already ranked, as
    carried_neighbours gives them, need only a stable sort by model (timsort: runs are cheap)."""
    order = np.argsort(model, kind="stable")
    model, neighbour, similarity = model[order], neighbour[order], similarity[order]
    if ((model[1:] == model[:-1]) & (similarity[1:] > similarity[:-1])).any():
        order = np.lexsort((-similarity, model))
        model, neighbour, similarity = model[order], neighbour[order], similarity[order]
    starts = np.flatnonzero(np.r_[True, model[1:] != model[:-1]])
    rank = np.arange(len(model)) - np.repeat(starts, np.diff(np.r_[starts, len(model)])) + 1
    return pd.DataFrame(
        {
            "model_index": model.astype(np.int32),
            "neighbour_index": neighbour.astype(np.int32),
            "rank": rank.astype(np.int16),
            "similarity": similarity.astype(np.float32),
        },
        columns=list(TABLE_COLUMNS),
    )

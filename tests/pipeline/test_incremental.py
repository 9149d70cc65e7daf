"""A build on top of the current one keeps the map and places only new or changed models."""

import os

import numpy as np
import pandas as pd
import pytest

from hfmap.cli import main
from pipeline import build as build_module
from pipeline import neighbours
from pipeline.build_format import read_manifest, resolve_build
from pipeline.similar import similar_models

COORDINATES = ["x", "y", "z", "x2d", "y2d"]


def build(tmp_path, frame: pd.DataFrame, *args: str):
    path = tmp_path / "source.parquet"
    frame.to_parquet(path)
    argv = [
        "build",
        "--source",
        str(path),
        "--embedder",
        "tfidf",
        "--out",
        str(tmp_path / "builds"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
        *args,
    ]
    assert main(argv) == 0
    found = resolve_build(tmp_path / "builds")
    return found, read_manifest(found), pd.read_parquet(found / "models.parquet")


def small_pynndescent_graphs(monkeypatch) -> None:
    """Builds of the sample (about 1,200 models) make a pynndescent graph, in this process: a
    spawned neighbour worker would not see the patched threshold."""
    monkeypatch.setattr(neighbours, "EXACT_BELOW", 100)
    monkeypatch.setattr(build_module, "EXACT_BELOW", float("inf"))  # no background worker


def split(
    sample_published: pd.DataFrame, share: float, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier, later): the sample without a random share of its models, and the whole sample."""
    held_back = sample_published.sample(frac=share, random_state=seed).index
    return sample_published.drop(held_back), sample_published


def exact_neighbours(vectors: np.ndarray, k: int) -> tuple[list[set], np.ndarray]:
    """Each row's k nearest other rows (ties broken arbitrarily) and the k-th similarity."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1)[:, :k]
    return [set(row) for row in order], np.take_along_axis(sims, order, axis=1)[:, -1]


def recall(table: pd.DataFrame, kth_similarity: np.ndarray) -> float:
    """Share of listed neighbours that are as similar as the true k-th nearest (ties count)."""
    return float(
        (table["similarity"].to_numpy() >= kth_similarity[table["model_index"]] - 1e-5).mean()
    )


def test_new_models_are_placed_on_the_unchanged_map(tmp_path, sample_published):
    earlier, later = split(sample_published, 0.03)
    _, first, before = build(tmp_path, earlier)
    assert first.mode == "full" and first.mode_reason == "no earlier build"

    path, second, after = build(tmp_path, later)
    assert second.mode == "incremental"
    assert second.history.based_on == first.build_id
    assert second.history.changed_since_full == len(later) - len(earlier)
    assert second.embedding.newly_embedded == len(later) - len(earlier)

    kept = after.merge(before, on="model_id", suffixes=("", "_before"))
    assert len(kept) == len(earlier)
    for column in [*COORDINATES, "cluster"]:
        np.testing.assert_array_equal(kept[column], kept[f"{column}_before"])
    new = after[~after["model_id"].isin(before["model_id"])]
    low, high = before[COORDINATES].min(), before[COORDINATES].max()
    assert new[COORDINATES].apply(lambda c: c.between(low[c.name], high[c.name])).all().all()
    clusters = pd.read_parquet(path / "clusters.parquet")
    assert clusters["size"].sum() == len(later)

    # a new model lands beside a model it is similar to
    vectors = np.load(path / "embeddings.npy")
    truth, kth = exact_neighbours(vectors, 10)
    coords = after[["x2d", "y2d"]].to_numpy()
    hits = []
    for row in new.index:
        distance = np.linalg.norm(coords - coords[row], axis=1)
        distance[row] = np.inf
        hits.append(int(distance.argmin()) in truth[row])
    assert np.mean(hits) > 0.5

    table = pd.read_parquet(path / "neighbours.parquet")
    assert (table.groupby("model_index").size() == 10).all() and table[
        "model_index"
    ].nunique() == len(later)
    assert recall(table, kth) == 1.0  # exact index: recomputed


def test_options_that_shape_the_map_or_too_many_changes_force_a_full_build(
    tmp_path, sample_published
):
    earlier, later = split(sample_published, 0.03)
    build(tmp_path, earlier)
    _, manifest, _ = build(tmp_path, earlier, "--clusters", "5")
    assert manifest.mode == "full" and manifest.mode_reason == "option n_clusters changed"
    _, manifest, _ = build(tmp_path, earlier, "--seed", "1")
    assert (
        manifest.mode == "full"
        and manifest.mode_reason == "the embedder or its fitted state changed"
    )
    _, manifest, _ = build(tmp_path, earlier, "--seed", "1", "--full")
    assert manifest.mode == "full" and manifest.mode_reason == "--full given"
    _, manifest, _ = build(tmp_path, split(sample_published, 0.2)[0], "--seed", "1")
    assert manifest.mode == "full" and "since the last full build" in manifest.mode_reason


@pytest.mark.slow
def test_carried_pynndescent_graph_with_new_changed_and_removed_models(
    tmp_path, sample_published, monkeypatch
):
    small_pynndescent_graphs(monkeypatch)
    earlier, later = split(sample_published, 0.03)
    removed = earlier.sample(5, random_state=1)["model_id"]
    changed = earlier.sample(5, random_state=2)["model_id"]
    later = later[~later["model_id"].isin(removed)].copy()
    later.loc[later["model_id"].isin(changed), "modelCard"] = (
        "A rewritten card about speech recognition."
    )
    first_path, first, _ = build(tmp_path, earlier)
    assert first.neighbour_index == "nndescent"

    path, second, after = build(tmp_path, later)
    assert second.mode == "incremental" and second.neighbour_index == "nndescent"
    assert second.embedding.newly_embedded == len(later) - len(earlier) + 5 + 5
    # the graph's files are shared with the earlier build, not rewritten; none is a pickle
    first_graph, graph = first_path / "index" / "nndescent", path / "index" / "nndescent"
    names = sorted(file.name for file in first_graph.iterdir())
    assert "state.json" in names and sorted(file.name for file in graph.iterdir()) == names
    for name in names:
        assert os.stat(graph / name).st_ino == os.stat(first_graph / name).st_ino
        assert not (graph / name).read_bytes().startswith(b"\x80")

    vectors = np.load(path / "embeddings.npy")
    truth, kth = exact_neighbours(vectors, 10)
    table = pd.read_parquet(path / "neighbours.parquet")
    assert table["model_index"].nunique() == len(later)
    assert (table["model_index"] != table["neighbour_index"]).all()
    assert table["neighbour_index"].between(0, len(later) - 1).all()
    assert (
        table.groupby("model_index").size().max() == 10
        and table.groupby("model_index").size().mean() > 9.5
    )
    assert recall(table, kth) > 0.9

    ids = after["model_id"]
    fresh = ids[~ids.isin(earlier["model_id"]) | ids.isin(changed)]
    for model_id in fresh.head(5):
        row = int(np.flatnonzero(ids == model_id)[0])
        result = similar_models(tmp_path / "builds", model_id, k=10)
        assert model_id not in set(result["model_id"]) and not set(result["model_id"]) & set(
            removed
        )
        assert (result["similarity"] >= kth[row] - 1e-5).mean() >= 0.7


def test_incremental_lineage_equals_a_full_builds(tmp_path, sample_published):
    """New models change their ancestors' n_children and n_descendants (and may join families):
    the lineage tables of an incremental build are exactly those of a full build of the same
    models."""
    earlier, later = split(sample_published, 0.05)
    for folder in ("day", "full"):
        (tmp_path / folder).mkdir()
    _, _, first = build(tmp_path / "day", earlier)
    incremental_path, incremental, after = build(tmp_path / "day", later)
    assert incremental.mode == "incremental"
    full_path, full, from_scratch = build(tmp_path / "full", later)
    assert full.mode == "full"

    lineage_columns = [
        "model_id",
        "root_id",
        "depth",
        "primary_parent",
        "n_parents",
        "n_children",
        "n_descendants",
    ]
    pd.testing.assert_frame_equal(after[lineage_columns], from_scratch[lineage_columns])
    for name in ("edges", "families", "transitions"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(incremental_path / f"{name}.parquet"),
            pd.read_parquet(full_path / f"{name}.parquet"),
        )
    # the new models did change the counts of models that were there the day before
    both = first.merge(after, on="model_id", suffixes=("_before", ""))
    assert (both["n_descendants"] != both["n_descendants_before"]).any()


@pytest.mark.slow
def test_an_earlier_index_this_version_cannot_read_makes_a_full_build(
    tmp_path, sample_published, monkeypatch
):
    """Such as a graph an earlier hfmap pickled: never unpickled, the build says why it is full."""
    small_pynndescent_graphs(monkeypatch)
    earlier, later = split(sample_published, 0.03)
    first_path, first, _ = build(tmp_path, earlier)
    assert first.neighbour_index == "nndescent"
    graph = first_path / "index" / neighbours.NNDESCENT_FOLDER
    for file in graph.iterdir():
        file.unlink()
    graph.rmdir()
    (first_path / "index" / "nndescent.pkl").write_bytes(b"\x80\x05.")

    _, second, _ = build(tmp_path, later)
    assert second.mode == "full"
    assert second.mode_reason == (
        "the earlier build's neighbour index is in a format this version does not read"
    )

import json
import os

import numpy as np
import pandas as pd
import pytest

from pipeline.neighbours import (
    EXACT_BELOW,
    INDEX_FILE,
    NNDESCENT_FOLDER,
    TABLE_COLUMNS,
    NeighbourIndex,
    NeighboursInBackground,
    UnreadableIndexError,
    knn_table,
)


def unit_vectors(n: int, dim: int = 12, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few directions, so neighbourhoods are meaningful."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, dim))
    vectors = centres[np.arange(n) % 8] + rng.normal(scale=0.4, size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact_neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return unit_vectors(600)


@pytest.fixture(scope="module")
def approximate(vectors) -> NeighbourIndex:
    return NeighbourIndex.build(vectors, exact_threshold=100, seed=0)


def test_exact_index_finds_self_first_and_true_nearest(vectors):
    index = NeighbourIndex.build(vectors)
    assert index.kind == "exact"
    indices, sims = index.query(vectors[:50], k=5)
    assert indices.dtype == np.int64 and sims.dtype == np.float32
    np.testing.assert_array_equal(indices[:, 0], np.arange(50))
    np.testing.assert_allclose(sims[:, 0], 1.0, atol=1e-5)
    others, other_sims = index.query(vectors[:50], k=5, exclude_self_ids=np.arange(50))
    np.testing.assert_array_equal(others, exact_neighbours(vectors, 5)[:50])
    assert (np.diff(other_sims, axis=1) <= 0).all()


def test_pynndescent_index_agrees_with_exact_on_most_neighbours(vectors, approximate):
    assert approximate.kind == "nndescent"
    truth = exact_neighbours(vectors, 10)
    graph_indices, _ = approximate.self_neighbours(10)
    query_indices, query_sims = approximate.query(vectors, k=10, exclude_self_ids=np.arange(600))
    for found in (graph_indices, query_indices):
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found, strict=True)])
        assert recall > 0.9
        assert not (found == np.arange(600)[:, None]).any()
    nearest = vectors[query_indices[:, 0]]
    np.testing.assert_allclose(query_sims[:, 0], (vectors * nearest).sum(axis=1), atol=1e-4)


@pytest.mark.parametrize("kind", ["exact", "nndescent"])
def test_save_load_round_trip(vectors, approximate, kind, tmp_path):
    index = approximate if kind == "nndescent" else NeighbourIndex.build(vectors)
    before = index.query(vectors[:40], k=6)
    index.save(tmp_path)
    loaded = NeighbourIndex.load(tmp_path, vectors)
    assert loaded.kind == kind
    after = loaded.query(vectors[:40], k=6)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1], atol=1e-6)
    with pytest.raises(ValueError, match="covers 600 vectors"):
        NeighbourIndex.load(tmp_path, vectors[:10])


@pytest.mark.parametrize("kind", ["exact", "nndescent"])
def test_knn_table_lists_k_other_models_per_model(vectors, approximate, kind):
    index = approximate if kind == "nndescent" else NeighbourIndex.build(vectors)
    table = knn_table(index, vectors, k=10)
    assert list(table.columns) == list(TABLE_COLUMNS) and len(table) == 6000
    assert (table["model_index"] != table["neighbour_index"]).all()
    ranks = table.groupby("model_index")["rank"].apply(list)
    assert ranks.map(lambda rank: rank == list(range(1, 11))).all()
    assert (table.groupby("model_index")["similarity"].diff().dropna() <= 1e-6).all()
    k_wider_than_graph = knn_table(index, vectors, k=20)
    assert len(k_wider_than_graph) == 12000
    assert (k_wider_than_graph["model_index"] != k_wider_than_graph["neighbour_index"]).all()


def test_tiny_index_pads_missing_neighbours():
    vectors = unit_vectors(3)
    index = NeighbourIndex.build(vectors)
    indices, sims = index.self_neighbours(k=5)
    assert (indices[:, 2:] == -1).all() and np.isnan(sims[:, 2:]).all()
    assert len(knn_table(index, vectors, k=5)) == 6
    with pytest.raises(ValueError, match="indexed vectors"):
        knn_table(index, vectors[:2], k=5)


def test_background_worker_builds_the_same_graph_and_table(vectors, approximate, tmp_path):
    job = NeighboursInBackground(vectors, tmp_path, k=10, seed=0, exact_threshold=100)
    index, table = job.result()
    assert index.kind == "nndescent" and job.seconds > 0
    pd.testing.assert_frame_equal(table, knn_table(approximate, vectors, k=10))
    index.save(tmp_path / "build" / "index")  # hard-links the worker's graph files
    worker_graph = job.folder / "index" / NNDESCENT_FOLDER
    for file in (tmp_path / "build" / "index" / NNDESCENT_FOLDER).iterdir():
        assert os.stat(file).st_ino == os.stat(worker_graph / file.name).st_ino
    job.close()
    assert not job.folder.exists() and [p.name for p in tmp_path.iterdir()] == ["build"]
    loaded = NeighbourIndex.load(tmp_path / "build" / "index", vectors)
    expected = approximate.query(vectors[:40], k=6)
    np.testing.assert_array_equal(loaded.query(vectors[:40], k=6)[0], expected[0])
    np.testing.assert_array_equal(index.query(vectors[:40], k=6)[0], expected[0])


def test_closing_a_background_job_stops_its_worker_and_removes_its_folder(tmp_path):
    job = NeighboursInBackground(unit_vectors(60_000, dim=32), tmp_path, seed=0)
    job.close()
    assert not job.process.is_alive() and list(tmp_path.iterdir()) == []


PICKLE_MAGIC = b"\x80"  # the first byte of every pickle of protocol 2 or later


def test_a_saved_pynndescent_index_holds_arrays_and_json_never_a_pickle(approximate, tmp_path):
    approximate.save(tmp_path)
    files = [file for file in tmp_path.rglob("*") if file.is_file()]
    assert {file.suffix for file in files} == {".npy", ".json"}
    names = {file.name for file in files}
    assert names >= {INDEX_FILE, "base_rows.npy", "state.json", "_raw_data.npy"}
    for file in files:
        assert not file.read_bytes().startswith(PICKLE_MAGIC), file.name
        if file.suffix == ".npy":
            np.load(file, allow_pickle=False)  # raises on an array of pickled objects


def test_a_loaded_index_answers_exactly_as_the_one_in_memory(tmp_path):
    """Above EXACT_BELOW: same neighbour rows, same similarities, same k-NN graph."""
    vectors = np.random.default_rng(3).normal(size=(EXACT_BELOW + 10_000, 16)).astype(np.float32)
    built = NeighbourIndex.build(vectors, seed=0)
    assert built.kind == "nndescent"
    queries = vectors[::30]
    expected = built.query(queries, k=10)
    built.save(tmp_path)
    for lazy in (True, False):
        loaded = NeighbourIndex.load(tmp_path, vectors, lazy=lazy)
        found = loaded.query(queries, k=10)
        np.testing.assert_array_equal(found[0], expected[0])
        np.testing.assert_array_equal(found[1], expected[1])
    graphs = loaded.nndescent.neighbor_graph, built.nndescent.neighbor_graph
    for mine, theirs in zip(*graphs, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_state_of_a_type_not_planned_for_fails_the_save_naming_it(vectors, tmp_path):
    """As a pynndescent upgrade adding a new kind of attribute would: never written half-known."""
    index = NeighbourIndex.build(vectors[:300], exact_threshold=100, seed=0)
    index.nndescent.prepare()
    index.nndescent.new_lookup = {"a": 1}
    with pytest.raises(TypeError, match="'new_lookup' is a dict"):
        index.save(tmp_path / "dict")
    del index.nndescent.new_lookup
    index.nndescent.labels = np.array(["a", None], dtype=object)
    with pytest.raises(TypeError, match="'labels' holds an array of Python objects"):
        index.save(tmp_path / "objects")
    assert not (tmp_path / "dict" / NNDESCENT_FOLDER).exists()  # nothing half written


def own_graph(vectors) -> NeighbourIndex:
    """A pynndescent index for a test that spoils its saved files (saving points an index at
    the folder it saved, so the module's shared one is left alone)."""
    return NeighbourIndex.build(vectors, exact_threshold=100, seed=0)


def test_an_index_without_its_arrays_is_refused_in_one_sentence(vectors, tmp_path):
    """Such as an index an earlier hfmap pickled: it is never unpickled."""
    own_graph(vectors).save(tmp_path)
    for file in (tmp_path / NNDESCENT_FOLDER).iterdir():
        file.unlink()
    (tmp_path / NNDESCENT_FOLDER).rmdir()
    (tmp_path / "nndescent.pkl").write_bytes(PICKLE_MAGIC + b"\x05")
    with pytest.raises(UnreadableIndexError, match="never unpickled"):
        NeighbourIndex.load(tmp_path, vectors, lazy=True)


def test_a_state_file_naming_a_path_outside_its_folder_is_refused(vectors, tmp_path):
    own_graph(vectors).save(tmp_path / "index")
    state_file = tmp_path / "index" / NNDESCENT_FOLDER / "state.json"
    state = json.loads(state_file.read_text())
    np.save(tmp_path / "elsewhere.npy", np.zeros(3))
    state["entries"]["_raw_data"]["array"] = "../../elsewhere.npy"
    state_file.write_text(json.dumps(state))
    with pytest.raises(ValueError, match="not a .npy file beside it"):
        NeighbourIndex.load(tmp_path / "index", vectors)
    with pytest.raises(ValueError, match="not a .npy file beside it"):
        NeighbourIndex.load(tmp_path / "index", vectors, lazy=True).save(tmp_path / "copy")


@pytest.mark.parametrize("exact", [True, False])
def test_a_zero_vector_has_no_neighbours_and_is_no_ones(exact):
    """A text with no known term embeds as zero: it has no direction, so no cosine. pynndescent
    answered such a query with one model ten times over at similarity 0 (the real listing's
    9,396 zero-vector models each listed Zarkelburg/Illusiondoffer ten times)."""
    vectors = unit_vectors(600)
    zero = np.arange(0, 600, 50)
    vectors[zero] = 0
    index = NeighbourIndex.build(vectors, exact_threshold=10_000 if exact else 100, seed=0)
    table = knn_table(index, vectors, k=10)
    assert not table["model_index"].isin(zero).any()
    assert not table["neighbour_index"].isin(zero).any()
    assert not table.duplicated(["model_index", "neighbour_index"]).any()
    ranks = table.groupby("model_index")["rank"].apply(list)
    assert ranks.map(lambda rank: rank == list(range(1, len(rank) + 1))).all()
    assert table["model_index"].nunique() == 600 - len(zero)
    found, similarities = index.query(np.zeros((2, 12), np.float32), k=5)
    assert (found == -1).all() and np.isnan(similarities).all()

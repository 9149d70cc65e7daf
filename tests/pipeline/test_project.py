import numpy as np
import pytest

from pipeline.project import project


def blobs(n: int, dim: int, n_blobs: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around n_blobs well-separated directions, and each vector's blob."""
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(dim, n_blobs)))[0].T
    blob = np.arange(n) % n_blobs
    vectors = centres[blob] + rng.normal(scale=0.05, size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), blob


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    return blobs(240, 16)


def test_same_seed_same_coordinates_other_seed_other(points):
    vectors, _ = points
    first = project(vectors, seed=0)
    assert set(first) == {3, 2}
    assert first[3].shape == (240, 3) and first[2].shape == (240, 2)
    assert first[3].dtype == np.float32 and np.isfinite(first[3]).all()
    again = project(vectors, seed=0)
    for c in (3, 2):
        np.testing.assert_array_equal(first[c], again[c])
    other = project(vectors, seed=1)
    assert not np.array_equal(first[2], other[2])


def test_fit_on_sample_then_place_the_rest_beside_their_neighbours(points):
    vectors, blob = points
    coords = project(
        vectors, seed=0, n_components=(2,), fit_sample_size=90, chunk_size=50, progress=True
    )[2]
    assert coords.shape == (240, 2) and np.isfinite(coords).all()
    # every point's nearest other point on the map is in its own blob
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (blob[distances.argmin(axis=1)] == blob).mean() > 0.95
    np.testing.assert_array_equal(
        coords, project(vectors, seed=0, n_components=(2,), fit_sample_size=90)[2]
    )


def test_wide_vectors_are_pca_reduced_first():
    vectors, blob = blobs(120, 80)
    coords = project(vectors, seed=0, n_components=(2,))[2]
    centres = np.stack([coords[blob == b].mean(axis=0) for b in range(3)])
    spread = max(np.linalg.norm(coords[blob == b] - centres[b], axis=1).mean() for b in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 2 * spread


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8])
def test_tiny_inputs_get_finite_deterministic_coordinates(n):
    vectors, _ = blobs(max(n, 1), 8)
    vectors = vectors[:n]
    coords = project(vectors, seed=0)
    assert coords[3].shape == (n, 3) and coords[2].shape == (n, 2)
    assert np.isfinite(coords[3]).all() and np.isfinite(coords[2]).all()
    np.testing.assert_array_equal(coords[2], project(vectors, seed=0)[2])


@pytest.mark.slow
def test_large_sample_path_with_shared_neighbour_index_is_deterministic():
    vectors, blob = blobs(4300, 16, n_blobs=4)
    kwargs = dict(
        seed=0, n_components=(2,), fit_sample_size=4100, chunk_size=100
    )  # >= 4096: pynndescent in UMAP
    first = project(vectors, **kwargs)
    np.testing.assert_array_equal(first[2], project(vectors, **kwargs)[2])
    centres = np.stack([first[2][blob == b].mean(axis=0) for b in range(4)])
    assert (
        np.linalg.norm(first[2][:, None] - centres[None], axis=2).argmin(axis=1) == blob
    ).mean() > 0.99


def test_maps_fitted_side_by_side_equal_maps_fitted_one_after_another(points, monkeypatch):
    """From PARALLEL_FIT_ROWS points the 2D map is fitted in a worker process while the 3D map
    is fitted here: the coordinates are exactly those of fitting both here."""
    from pipeline import project as projection

    vectors, _ = points
    monkeypatch.setattr(projection, "PARALLEL_FIT_ROWS", 10**9)
    one_after_another = project(vectors, seed=0, fit_sample_size=200)
    monkeypatch.setattr(projection, "PARALLEL_FIT_ROWS", 100)
    side_by_side = project(vectors, seed=0, fit_sample_size=200)
    for c in (3, 2):
        np.testing.assert_array_equal(one_after_another[c], side_by_side[c])

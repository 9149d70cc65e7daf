"""SimilaritySearch.nearest: the exact cosine ranking over a build's embeddings.npy."""

import numpy as np
import pytest
from example_manifest import manifest_for
from sklearn.metrics.pairwise import cosine_similarity

from pipeline.artifacts import BuildWriter
from pipeline.build_format import BuildPaths, SimilaritySearch, open_build

# Rows of different lengths (cosine ignores length), one zero row (an empty text's vector).
EMBEDDINGS = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.0, 2.0, 0.0],
        [3.0, 3.1, 0.0],
        [0.0, 0.0, 0.0],
        [0.5, 0.0, 0.4],
        [-1.0, 0.2, 0.0],
        [0.9, 0.1, 0.3],
        [0.1, 0.3, -0.2],
    ],
    dtype=np.float32,
)
ZERO_ROW = 3


@pytest.fixture
def search(tmp_path) -> SimilaritySearch:
    with BuildWriter(tmp_path) as writer:
        np.save(BuildPaths(writer.path).embeddings, EMBEDDINGS)
        writer.manifest = manifest_for(writer.build_id)
    return SimilaritySearch(open_build(tmp_path))


def reference(query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every non-zero row by decreasing cosine similarity to query (scikit-learn's cosine)."""
    similarity = cosine_similarity(query[None, :], EMBEDDINGS)[0]
    rows = np.array([row for row in np.argsort(-similarity, kind="stable") if row != ZERO_ROW])
    return rows, similarity[rows]


QUERIES = [[1.0, 0.2, 0.1], [0.0, -1.0, 0.5], [-2.0, 0.0, 0.0], EMBEDDINGS[2]]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("k", [1, 3, 7])
def test_nearest_ranks_rows_by_exact_cosine(search, query, k):
    query = np.asarray(query, dtype=np.float32)
    expected_rows, expected_similarity = reference(query)
    rows, similarity = search.nearest(query, k)
    assert rows.dtype == np.int64 and similarity.dtype == np.float32
    np.testing.assert_array_equal(rows, expected_rows[:k])
    np.testing.assert_allclose(similarity, expected_similarity[:k], atol=1e-6)


def test_zero_vector_rows_are_never_returned(search):
    rows, similarity = search.nearest(np.array([0.0, 0.0, 1.0], np.float32), k=20)
    assert len(rows) == len(EMBEDDINGS) - 1 and ZERO_ROW not in rows
    assert np.isfinite(similarity).all() and (np.diff(similarity) <= 0).all()


def test_a_zero_query_is_near_nothing(search):
    for k in (1, 20):
        rows, similarity = search.nearest(np.zeros(3, np.float32), k)
        assert rows.shape == similarity.shape == (0,)

"""Topic clusters of the model vectors, each named by its most distinctive words.

k-means on the unit vectors (MiniBatchKMeans above SMALL_N, fitted on a seeded sample of
at most KMEANS_FIT_ROWS rows, every row then taking its nearest centroid); k chosen by the best
silhouette on a seeded sample when not given. Each cluster is labelled with
class-based TF-IDF (clusters as documents, as in BERTopic) weighted by lift: a
term scores high when it covers much of the cluster and is rarer elsewhere.

Not every term may name a cluster (label_terms): a term in more than COMMON_SHARE of all models
tells no cluster apart ("transformers", "endpoints_compatible", "safetensors" on the real
listing), nor does one that is not a word (a number, a single letter), one of HUB_TAGS (the
Hub's bookkeeping tags that are rarer than that) or a license ("apache-2.0", "mit": the build
passes its models' license values, license_terms).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Sequence
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import pairwise_distances, silhouette_score
from tqdm.auto import tqdm

from pipeline.terms import fit_terms
from pipeline.text import id_words

MIN_K, MAX_K = 2, 64
K_CANDIDATES = 6
SILHOUETTE_SAMPLE = 10_000
SMALL_N = 10_000  # full KMeans up to here, MiniBatchKMeans above
# MiniBatchKMeans learns its centroids from this many rows; more rows move them little
# but cost a pass each (760k real models: 23 s fitted on all rows, a few seconds on the sample).
KMEANS_FIT_ROWS = 100_000
LABEL_TEXTS = 100_000  # texts sampled (spread evenly over clusters) to find cluster terms
TOP_TERMS, LABEL_TERMS = 10, 3
VOCABULARY_TERMS = 2**17  # the most frequent terms of the label texts that are scored
# A term in more than this share of all models (or, with few clusters, in more models than two
# average clusters hold) names no cluster. Real listing, July 2024: endpoints_compatible 47%,
# transformers 46%, autotrain_compatible 36%, safetensors 27%, pytorch 24%; the most common
# topic words are text-generation 16%, llama 9%, bert 8%.
COMMON_SHARE = 0.2
# Tags the Hub or its tools write on models of every kind, too rare for COMMON_SHARE on some
# listings; any "*_compatible" tag is one too. (region:, base_model:, arxiv: and doi: tags are
# not in the texts at all: pipeline.text drops them; licenses are license_terms.)
HUB_TAGS = frozenset(
    {
        "autotrain_compatible",
        "endpoints_compatible",
        "text-generation-inference",
        "text-embeddings-inference",
        "has_space",
        "safetensors",
        "pytorch",
        "tensorboard",
        "generated_from_trainer",
        "model-index",
        "custom_code",
    }
)
LICENSE_ROWS = 100_000  # models license_terms counts license values and id words on
_WORD = re.compile(r"(?u)(?=.*[^\W\d_]).{2,}")  # two characters or more, a letter among them

CLUSTER_COLUMNS = ("cluster", "size", "label", "top_terms")


def cluster(
    vectors: np.ndarray,
    texts: Sequence[str],
    k: int | None = None,
    seed: int = 0,
    progress: bool = False,
    unlabelled: Collection[str] = (),
) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster of each vector (int32, 0 = largest) and a table of cluster, size, label,
    top_terms; no term of ``unlabelled`` (lower case) names a cluster."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) != len(texts):
        raise ValueError(
            f"Got {len(vectors)} vectors but {len(texts)} texts; they must match row for row."
        )
    n = len(vectors)
    with tqdm(total=3, desc="clusters", unit="step", disable=not progress) as steps:
        if n < 3:
            k = 1
        elif k is None:
            k = choose_k(vectors, seed, progress)
        k = max(1, min(k, n))
        steps.update()
        labels = number_by_size(fit_labels(vectors, k, seed))
        steps.update()
        table = describe_clusters(labels, texts, seed, unlabelled)
        steps.update()
    return labels, table


def candidate_ks(n: int) -> list[int]:
    """Geometrically spaced k to try, growing like sqrt(n / 2), within [MIN_K, MAX_K]."""
    largest = int(np.clip(np.sqrt(n / 2), MIN_K, MAX_K))
    return sorted({int(round(k)) for k in np.geomspace(MIN_K, largest, K_CANDIDATES)})


def choose_k(vectors: np.ndarray, seed: int, progress: bool = False) -> int:
    """The candidate k with the best silhouette on a seeded sample (ties: the smaller k).

    The sample's distances are computed once for every candidate (float32, 400 MB at
    SILHOUETTE_SAMPLE): on the real listing's 760k vectors the six silhouettes took 9.8 s of
    CPU measured each from the vectors, 3.7 s with the shared matrix, same scores."""
    rng = np.random.default_rng(seed)
    sample = (
        vectors
        if len(vectors) <= SILHOUETTE_SAMPLE
        else vectors[rng.choice(len(vectors), SILHOUETTE_SAMPLE, replace=False)]
    )
    distinct = len(np.unique(sample, axis=0))
    candidates = [k for k in candidate_ks(len(vectors)) if k < distinct]
    distances = pairwise_distances(sample) if candidates else None
    best_k, best_score = 1, -np.inf
    for k in tqdm(candidates, desc="choose k", unit="k", disable=not progress):
        # one start per candidate: enough to compare k
        labels = fit_labels(sample, k, seed, n_init=1)
        if len(np.unique(labels)) < 2:
            continue
        score = silhouette_score(distances, labels, metric="precomputed")
        if score > best_score:
            best_k, best_score = k, score
    return best_k


def fit_labels(vectors: np.ndarray, k: int, seed: int, n_init: int = 3) -> np.ndarray:
    """k-means cluster of each vector: KMeans up to SMALL_N rows, MiniBatchKMeans (on a sample)
    above."""
    if k <= 1:
        return np.zeros(len(vectors), dtype=np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k
        if len(vectors) <= SMALL_N:
            return (
                KMeans(n_clusters=k, n_init=n_init, random_state=seed)
                .fit(vectors)
                .labels_.astype(np.int32)
            )
        model = MiniBatchKMeans(n_clusters=k, n_init=n_init, batch_size=4096, random_state=seed)
        sample = vectors
        if len(vectors) > KMEANS_FIT_ROWS:
            sample = vectors[
                np.sort(
                    np.random.default_rng(seed).choice(len(vectors), KMEANS_FIT_ROWS, replace=False)
                )
            ]
        model.fit(sample)
        return model.predict(vectors).astype(np.int32)


def number_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0.. by decreasing size (ties by old number), dropping empty numbers."""
    ids, counts = np.unique(labels, return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    renumber = np.empty(ids.max() + 1 if len(ids) else 0, dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    return renumber[labels].astype(np.int32)


def describe_clusters(
    labels: np.ndarray, texts: Sequence[str], seed: int = 0, unlabelled: Collection[str] = ()
) -> pd.DataFrame:
    """cluster, size, label (top LABEL_TERMS terms) and top_terms (TOP_TERMS) by class-based
    TF-IDF."""
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=n_clusters)
    terms = cluster_terms(labels, texts, n_clusters, seed, unlabelled)
    return pd.DataFrame(
        {
            "cluster": np.arange(n_clusters, dtype=np.int32),
            "size": sizes.astype(np.int64),
            "label": [", ".join(top[:LABEL_TERMS]) for top in terms],
            "top_terms": terms,
        },
        columns=list(CLUSTER_COLUMNS),
    )


def cluster_terms(
    labels: np.ndarray,
    texts: Sequence[str],
    n_clusters: int,
    seed: int = 0,
    unlabelled: Collection[str] = (),
) -> list[list[str]]:
    """The TOP_TERMS most distinctive terms of each cluster (class-based TF-IDF on a balanced
    sample), among the terms that may name one (label_terms)."""
    rows = balanced_sample(labels, max(50, LABEL_TEXTS // max(n_clusters, 1)), seed)
    sample = [texts[i] for i in rows]
    counts, vocabulary = term_counts(sample)
    if counts is None:
        return [[] for _ in range(n_clusters)]
    membership = scipy.sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (labels[rows], np.arange(len(rows)))),
        shape=(n_clusters, len(rows)),
    )
    per_cluster = np.asarray((membership @ counts).todense(), dtype=np.float64)  # clusters x terms
    scores = class_tfidf(per_cluster)
    # each term's share of the models: its share of each cluster's sampled texts, weighted by
    # the clusters' sizes (the sample holds as many texts of a small cluster as of a large one)
    sizes = np.bincount(labels, minlength=n_clusters).astype(np.float64)
    sampled = np.asarray(membership.sum(axis=1), dtype=np.float64).ravel()
    holding = np.asarray((membership @ (counts > 0).astype(np.float32)).todense(), np.float64)
    share = (sizes / max(sizes.sum(), 1)) @ (holding / np.maximum(sampled, 1)[:, None])
    scores[:, ~label_terms(vocabulary, share, n_clusters, unlabelled)] = 0.0
    top = np.argsort(-scores, axis=1, kind="stable")[:, :TOP_TERMS]
    return [[vocabulary[t] for t in row if scores[c, t] > 0] for c, row in enumerate(top)]


def label_terms(
    terms: Sequence[str], share: np.ndarray, n_clusters: int, unlabelled: Collection[str] = ()
) -> np.ndarray:
    """Which terms may name a cluster (bool per term; ``share[i]``: the share of all models whose
    text holds terms[i]): words of two characters or more with a letter ("7b", "t5"; not "0",
    "v"), in at most COMMON_SHARE of the models (with fewer than 10 clusters: at most
    two average clusters' worth), neither one of HUB_TAGS nor "*_compatible", nor unlabelled."""
    common = max(COMMON_SHARE, 2 / max(n_clusters, 1))
    excluded = HUB_TAGS | {term.lower() for term in unlabelled}
    return np.array(
        [
            share[i] <= common
            and term not in excluded
            and not term.endswith("_compatible")
            and _WORD.fullmatch(term) is not None
            for i, term in enumerate(terms)
        ],
        dtype=bool,
    )


def license_terms(model_ids, licenses) -> frozenset[str]:
    """The license values (lower case) that must not name a cluster: every license of the models
    but one that more models have as a word of their id than as their license ("gemma" names
    6,297 real models and licenses 1,199; "mit" licenses 51,208 and names 582).

    model_ids: the models' ids; licenses: each model's licenses (lists); pandas or Arrow
    columns. Counted on at most LICENSE_ROWS evenly spaced models (760k real models: 1.9 s on all,
    0.5 s so; the counts compared are thousands apart)."""
    rows = pa.array(np.arange(0, len(model_ids), max(1, len(model_ids) // LICENSE_ROWS)))
    ids = pc.fill_null(_arrow(model_ids, pa.string()).take(rows), "")
    words = pc.list_flatten(pc.split_pattern(pc.utf8_lower(id_words(ids)), " "))
    values = pc.utf8_lower(pc.list_flatten(_arrow(licenses, pa.list_(pa.string())).take(rows)))
    as_license = _counts(values)
    as_word = _counts(pc.filter(words, pc.is_in(words, pa.array(list(as_license), pa.string()))))
    return frozenset(v for v, n in as_license.items() if as_word.get(v, 0) <= n)


def _arrow(column, arrow_type: pa.DataType) -> pa.Array:
    """A pandas or Arrow column as one Arrow array of arrow_type."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    array = column if isinstance(column, pa.Array) else pa.array(column, from_pandas=True)
    return array if array.type == arrow_type else array.cast(arrow_type)


def _counts(values: pa.Array) -> dict[str, int]:
    """How often each (non-null) value occurs."""
    counted = pc.value_counts(pc.drop_null(values))
    return dict(
        zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)
    )


def balanced_sample(labels: np.ndarray, per_cluster: int, seed: int) -> np.ndarray:
    """Sorted rows: a seeded random sample of at most per_cluster rows from each cluster."""
    order = np.random.default_rng(seed).permutation(len(labels))
    rank_in_cluster = pd.Series(labels[order]).groupby(labels[order]).cumcount().to_numpy()
    return np.sort(order[rank_in_cluster < per_cluster])


def term_counts(texts: list[str]) -> tuple[scipy.sparse.csr_matrix | None, np.ndarray]:
    """Document-term counts and the terms (pipeline.terms' rules); None and no terms when the
    texts hold none."""
    fitted = fit_terms(partial(CountVectorizer, max_features=VOCABULARY_TERMS), texts)
    if fitted is None:
        return None, np.array([], dtype=object)
    vectorizer, counts = fitted
    return counts, vectorizer.get_feature_names_out()


def class_tfidf(per_cluster: np.ndarray) -> np.ndarray:
    """Class-based TF-IDF with a lift weight: a term's share of its cluster's words x log(share in
    cluster / share overall).

    The plain c-TF-IDF weight log(1 + mean words per cluster / term total) still
    ranks words common everywhere ("model", tool-written tags) near the top of
    every cluster; the log-lift scores them ~0 and ranks terms over-represented in
    the cluster, weighted by how much of the cluster they cover (each term's
    contribution to the cluster's KL divergence from the whole). Scores <= 0: not distinctive.
    """
    words_per_cluster = per_cluster.sum(axis=1, keepdims=True)
    share_in_cluster = per_cluster / np.where(words_per_cluster > 0, words_per_cluster, 1)
    share_overall = per_cluster.sum(axis=0) / max(per_cluster.sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = share_in_cluster * np.log(share_in_cluster / share_overall)
    return np.where(np.isfinite(scores) & (per_cluster > 0), scores, 0.0)

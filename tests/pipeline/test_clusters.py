import numpy as np
import pandas as pd
import pytest

from pipeline.clusters import CLUSTER_COLUMNS, candidate_ks, class_tfidf, cluster

BLOB_WORDS = ["llama chat instruct", "whisper speech asr", "diffusion image vae", "bert ner tokens"]


def blob_data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Unit vectors in four well-separated blobs, with texts naming each blob's topic."""
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(16, 4)))[0].T
    blob = np.arange(n) % 4
    vectors = centres[blob] + rng.normal(scale=0.05, size=(n, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    common = ["model", "transformers", "pytorch", "license"]
    texts = [
        f"{BLOB_WORDS[b]} {' '.join(rng.choice(common, 3))} "
        f"{rng.choice(['fine', 'tuned', 'small'])}"
        for b in blob
    ]
    return vectors.astype(np.float32), texts, blob


def test_auto_k_recovers_well_separated_blobs_and_names_them():
    vectors, texts, blob = blob_data()
    labels, table = cluster(vectors, texts, seed=0, progress=True)
    assert labels.dtype == np.int32 and len(labels) == 400
    assert len(table) == 4 and list(table.columns) == list(CLUSTER_COLUMNS)
    for c in range(4):  # each cluster is exactly one blob
        assert len(np.unique(blob[labels == c])) == 1
    assert table["size"].sum() == 400 and (np.diff(table["size"]) <= 0).all()
    for c, row in table.iterrows():
        words = BLOB_WORDS[blob[labels == c][0]].split()
        assert set(row["label"].split(", ")) == set(words)  # common words ("model", ...) rank lower
        assert len(row["top_terms"]) <= 10 and row["top_terms"][:3] == row["label"].split(", ")


def test_given_k_and_determinism():
    vectors, texts, _ = blob_data(200)
    labels, table = cluster(vectors, texts, k=2, seed=0)
    assert len(table) == 2 and set(labels) == {0, 1}
    again, _ = cluster(vectors, texts, k=2, seed=0)
    np.testing.assert_array_equal(labels, again)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_models_make_one_cluster(n):
    vectors, texts, _ = blob_data(8)
    labels, table = cluster(vectors[:n], texts[:n])
    assert (labels == 0).all() and len(labels) == n
    assert len(table) == (1 if n else 0)


def test_identical_vectors_and_empty_texts_do_not_crash():
    vectors = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (20, 1))
    labels, table = cluster(vectors, [""] * 20)
    assert (labels == 0).all() and table.loc[0, "top_terms"] == []


def test_mismatched_lengths_raise():
    vectors, texts, _ = blob_data(10)
    with pytest.raises(ValueError, match="must match"):
        cluster(vectors, texts[:5])


def test_candidate_ks_scale_with_n_within_bounds():
    assert candidate_ks(10) == [2]
    assert candidate_ks(400)[-1] == 14
    assert candidate_ks(2_000_000)[0] == 2 and candidate_ks(2_000_000)[-1] == 64


def test_class_tfidf_prefers_terms_specific_to_a_cluster():
    counts = np.array(
        [[50.0, 5.0, 0.0, 1.0], [50.0, 0.0, 5.0, 1.0]]
    )  # 0 and 3 everywhere, 1 and 2 specific
    scores = class_tfidf(counts)
    assert scores[0, 1] > 0 and scores[1, 2] > 0
    assert scores[0, 0] <= 0 and scores[0, 3] <= 0 and scores[0, 2] == 0


def test_large_inputs_fit_centroids_on_a_sample_and_assign_every_row(monkeypatch):
    """Above SMALL_N rows k-means learns from KMEANS_FIT_ROWS of them; every row, sampled or
    not, then takes its nearest centroid, the same way on every run."""
    from pipeline import clusters

    monkeypatch.setattr(clusters, "SMALL_N", 100)
    monkeypatch.setattr(clusters, "KMEANS_FIT_ROWS", 300)
    vectors, texts, blob = blob_data(2000)
    labels, table = cluster(vectors, texts, k=4, seed=0)
    assert table["size"].sum() == 2000
    for c in range(4):
        assert len(np.unique(blob[labels == c])) == 1 and (labels == c).sum() == 500
    np.testing.assert_array_equal(labels, cluster(vectors, texts, k=4, seed=0)[0])


REAL_LISTING = "hub_models_2024-07.jsonl.gz"
REAL_SLICE = 30_000  # the listing's first records: Mistral merges, BERTs, diffusers, RL agents...


@pytest.fixture(scope="module")
def real_slice(shared_data, tmp_path_factory):
    """The first REAL_SLICE records of the real listing, read by hfmap's own reader, and the
    label texts of those models."""
    import gzip
    from itertools import islice

    from pipeline.report import IssueLog
    from pipeline.sources import load_source
    from pipeline.text import model_text

    listing = shared_data / REAL_LISTING
    if not listing.is_file():
        pytest.fail(f"the real listing is missing: expected {listing}")
    path = tmp_path_factory.mktemp("real-clusters") / "slice.jsonl"
    with gzip.open(listing, "rb") as file, path.open("wb") as out:
        out.writelines(islice(file, REAL_SLICE))
    models = load_source(str(path), IssueLog())
    return models, model_text(models)


def test_real_listing_labels_are_no_hub_tag_licence_or_number(real_slice, monkeypatch):
    """On real models the clusters are named by topic words: no tag the Hub writes on models
    of every kind, no tag in more than a fifth of the models, no license, no bare number."""
    from pipeline import clusters
    from pipeline.embed import TfidfEmbedder

    models, texts = real_slice
    vectors = TfidfEmbedder(dim=32, seed=0).fit(texts).transform(texts)
    licenses = clusters.license_terms(models["model_id"], models["licenses"])
    _, table = cluster(vectors, texts, k=24, seed=0, unlabelled=licenses)
    named = {term for terms in table["top_terms"] for term in terms}
    label_words = {term for label in table["label"] for term in label.split(", ")}
    assert len(label_words) > 40  # 24 clusters, each named by up to three words

    tags = pd.Series([tag.lower() for tags in models["tags"] for tag in tags])
    common = set((tags.value_counts() / len(models)).loc[lambda share: share > 0.2].index)
    assert {"transformers", "endpoints_compatible", "autotrain_compatible"} <= common
    boilerplate = common | clusters.HUB_TAGS | licenses
    assert "apache-2.0" in licenses and "mit" in licenses
    assert not named & boilerplate
    assert not any(t.endswith("_compatible") or t.isdigit() or len(t) < 2 for t in named)
    assert not any(t.startswith(("region", "license", "base_model", "arxiv")) for t in named)

    # the same clusters named without these rules: boilerplate would name some of them
    monkeypatch.setattr(clusters, "label_terms", lambda terms, *_: np.ones(len(terms), bool))
    _, loose = cluster(vectors, texts, k=24, seed=0)
    assert {t for label in loose["label"] for t in label.split(", ")} & boilerplate


def test_license_values_name_no_cluster_unless_more_models_are_named_by_them():
    from pipeline.clusters import license_terms

    ids = pd.Series(["google/gemma-7b", "me/gemma-2b-it", "me/MitModel", "me/plain"])
    licenses = pd.Series([["gemma"], [], ["MIT"], None])
    assert license_terms(ids, licenses) == {"mit"}  # gemma names two models, licenses one
    assert license_terms(ids, pd.Series([[], [], None, []])) == frozenset()

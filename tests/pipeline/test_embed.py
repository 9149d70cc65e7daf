import os

import numpy as np
import pytest

from pipeline.embed import (
    EmbeddingCache,
    MiniLMEmbedder,
    TfidfEmbedder,
    default_minilm_path,
    fitted_embedder,
    load_embedder,
    make_embedder,
)
from pipeline.errors import EmbedderError

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOPICS = {
    "chat": "llama chat instruct assistant conversation dialogue",
    "speech": "whisper speech audio transcription asr voice",
    "vision": "diffusion image vision pixel painting photo",
}


def topic_corpus(n: int, seed: int = 0) -> list[str]:
    """n short texts, each drawing most words from one of three topics."""
    rng = np.random.default_rng(seed)
    texts = []
    for i in range(n):
        words = list(TOPICS.values())[i % 3].split()
        picked = rng.choice(words, 5).tolist() + ["model", f"v{rng.integers(0, 50)}"]
        texts.append(f"org{i % 7}/{picked[0]}-{i} " + " ".join(picked))
    return texts


def unit_rows(vectors: np.ndarray) -> bool:
    return np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# --------------------------------------------------------------------------- MiniLM


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return make_embedder("minilm")


@pytest.mark.slow
def test_minilm_loads_packaged_weights_offline_and_embeds_by_meaning(minilm):
    texts = [
        "a large language model for chat",
        "a conversational assistant language model",
        "speech recognition of audio recordings",
        "transcribe spoken audio into text",
    ]
    vectors = minilm.transform(texts)
    assert minilm.model_path == default_minilm_path().resolve()
    assert vectors.shape == (4, 384) and minilm.dim == 384 and vectors.dtype == np.float32
    assert unit_rows(vectors)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]
    assert sims[2, 3] > sims[2, 0] and sims[2, 3] > sims[2, 1]
    assert minilm.transform([]).shape == (0, 384)


@pytest.mark.slow
def test_minilm_from_explicit_local_path_matches_packaged(minilm, tmp_path):
    local = tmp_path / "my-minilm"
    local.mkdir()
    for item in default_minilm_path().iterdir():
        (local / item.name).symlink_to(item)
    embedder = make_embedder("minilm", model_path=local)
    assert embedder.model_path == local.resolve()
    assert embedder.state_id == minilm.state_id  # same files, same identity
    text = ["whisper speech model"]
    np.testing.assert_allclose(embedder.transform(text), minilm.transform(text), atol=1e-6)
    embedder.save(tmp_path / "saved")
    assert load_embedder(tmp_path / "saved").model_path == local.resolve()


def test_unknown_embedder_and_bad_model_path_raise_clear_errors(tmp_path):
    with pytest.raises(EmbedderError, match="Unknown embedder 'word2vec'"):
        make_embedder("word2vec")
    with pytest.raises(EmbedderError, match="not a local sentence-transformers directory"):
        make_embedder("minilm", model_path=tmp_path)
    with pytest.raises(EmbedderError, match="not a local sentence-transformers directory"):
        make_embedder("minilm", model_path=tmp_path / "missing")


# --------------------------------------------------------------------------- TF-IDF


@pytest.mark.parametrize(
    "texts", [["llama chat", "whisper speech"], ["a b c", "d e", "f"], topic_corpus(5)]
)
def test_tfidf_on_tiny_corpora_clamps_dim(texts):
    embedder = make_embedder("tfidf", dim=64)
    vectors = embedder.fit_transform(texts)
    assert vectors.shape == (len(texts), embedder.dim) and 1 <= embedder.dim <= len(texts)
    assert vectors.dtype == np.float32 and unit_rows(vectors)


def test_tfidf_on_stop_words_only_and_empty_corpora():
    vectors = make_embedder("tfidf").fit_transform(["the", "the a", "a"])
    assert vectors.shape[0] == 3
    with pytest.raises(ValueError, match="no words"):
        make_embedder("tfidf").fit(["", "  "])
    with pytest.raises(ValueError, match="no texts"):
        make_embedder("tfidf").fit([])


def test_tfidf_medium_corpus_groups_topics_and_unknown_text_is_zero():
    texts = topic_corpus(300)
    embedder = TfidfEmbedder(dim=16, seed=0).fit(texts)
    vectors = embedder.transform(texts, progress=True)
    assert vectors.shape == (300, 16) and unit_rows(vectors)
    sims = vectors @ vectors.T
    same_topic = np.equal.outer(np.arange(300) % 3, np.arange(300) % 3)
    assert sims[same_topic].mean() > sims[~same_topic].mean() + 0.3
    assert not embedder.transform(["zzzz qqqq"]).any()  # no known term: the zero vector


def test_tfidf_fits_on_a_seeded_sample_of_large_corpora():
    texts = topic_corpus(400)
    first = TfidfEmbedder(dim=8, seed=3, fit_sample_size=60, chunk_size=37).fit(texts)
    second = TfidfEmbedder(dim=8, seed=3, fit_sample_size=60, chunk_size=1000).fit(texts)
    assert first.state_id == second.state_id
    np.testing.assert_array_equal(
        first.transform(texts), second.transform(texts)
    )  # chunking changes nothing
    assert TfidfEmbedder(dim=8, seed=4, fit_sample_size=60).fit(texts).state_id != first.state_id


def test_tfidf_transform_in_two_processes_gives_the_same_vectors(monkeypatch):
    """From PARALLEL_TRANSFORM_ROWS texts the second half is transformed in a worker process."""
    from pipeline import embed

    texts = topic_corpus(400)
    embedder = TfidfEmbedder(dim=8, seed=0, chunk_size=37).fit(texts)
    monkeypatch.setattr(embed, "PARALLEL_TRANSFORM_ROWS", 10**9)
    one_process = embedder.transform(texts)
    monkeypatch.setattr(embed, "PARALLEL_TRANSFORM_ROWS", 100)
    np.testing.assert_array_equal(embedder.transform(texts, progress=True), one_process)


def test_tfidf_save_load_gives_identical_vectors(tmp_path):
    texts = topic_corpus(120)
    embedder = make_embedder("tfidf", dim=12, seed=1).fit(texts)
    embedder.save(tmp_path)
    loaded = load_embedder(tmp_path)
    assert isinstance(loaded, TfidfEmbedder)
    assert loaded.state_id == embedder.state_id and loaded.dim == embedder.dim == 12
    np.testing.assert_array_equal(
        loaded.transform(texts + ["new whisper text"]),
        embedder.transform(texts + ["new whisper text"]),
    )


# --------------------------------------------------------------------------- cache


class CountingEmbedder(TfidfEmbedder):
    """A TF-IDF embedder that records every text it is asked to embed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.embedded: list[str] = []

    def transform(self, texts, progress=False):
        self.embedded.extend(texts)
        return super().transform(texts, progress)


def test_cache_embeds_only_missing_texts_once(tmp_path):
    texts = topic_corpus(300)
    embedder = CountingEmbedder(dim=8).fit(texts)
    cache = EmbeddingCache(tmp_path)

    vectors, new = cache.embed(embedder, texts)
    assert new == 300 and len(embedder.embedded) == 300
    np.testing.assert_array_equal(vectors, embedder.transform(texts))
    embedder.embedded.clear()

    again, new = cache.embed(embedder, texts)
    assert new == 0 and embedder.embedded == []
    np.testing.assert_array_equal(again, vectors)

    grown = texts + [
        "whisper speech brand new",
        "llama chat brand new",
        "diffusion image brand new",
    ]
    shuffled = grown[::-1]
    grown_vectors, new = cache.embed(embedder, shuffled)
    assert new == 3 and sorted(embedder.embedded) == sorted(grown[-3:])
    np.testing.assert_array_equal(grown_vectors[::-1][:300], vectors)
    embedder.embedded.clear()

    duplicated = ["same text whisper", "same text whisper", "other llama", "same text whisper"]
    dup_vectors, new = cache.embed(embedder, duplicated)
    assert new == 2 and sorted(embedder.embedded) == ["other llama", "same text whisper"]
    np.testing.assert_array_equal(dup_vectors[0], dup_vectors[3])


def test_cache_is_invalidated_by_a_different_embedder_state(tmp_path):
    texts = topic_corpus(90)
    cache = EmbeddingCache(tmp_path)
    _, new = cache.embed(TfidfEmbedder(dim=8, seed=0).fit(texts), texts)
    assert new == 90
    _, new = cache.embed(TfidfEmbedder(dim=8, seed=0).fit(texts[:60]), texts)
    assert new == 90  # refitted on other texts: other vectors, other cache folder


def test_cache_treats_torn_files_as_empty(tmp_path):
    texts = topic_corpus(30)
    embedder = TfidfEmbedder(dim=4).fit(texts)
    cache = EmbeddingCache(tmp_path)
    vectors, _ = cache.embed(embedder, texts)
    (keys_file,) = cache.folder(embedder).glob("keys*.npy")
    np.save(keys_file, np.arange(5, dtype=np.uint64))  # as if a write was cut short
    again, new = cache.embed(embedder, texts)
    assert new == 30
    np.testing.assert_array_equal(again, vectors)


def test_cache_appends_new_vectors_and_merges_its_segments(tmp_path):
    texts = topic_corpus(120)
    embedder = TfidfEmbedder(dim=8).fit(texts)
    cache = EmbeddingCache(tmp_path)
    folder = cache.folder(embedder)
    cache.embed(embedder, texts[:60])
    (first,) = folder.glob("vectors*.npy")
    written = first.stat().st_mtime_ns
    for day in range(1, cache.MAX_SEGMENTS - 1):  # each build with new texts adds one segment
        _, new = cache.embed(embedder, texts[: 60 + 5 * day])
        assert new == 5
    assert len(list(folder.glob("keys*.npy"))) == cache.MAX_SEGMENTS - 1
    assert first.stat().st_mtime_ns == written  # the vectors kept are never rewritten
    vectors, new = cache.embed(embedder, texts[::-1])  # one segment more: all merged into one
    assert new == 120 - 60 - 5 * (cache.MAX_SEGMENTS - 2)
    assert len(list(folder.glob("keys*.npy"))) == len(list(folder.glob("vectors*.npy"))) == 1
    np.testing.assert_array_equal(vectors[::-1], embedder.transform(texts))
    again, new = cache.embed(embedder, texts)
    assert new == 0
    np.testing.assert_array_equal(again, vectors[::-1])


def test_fitted_embedder_reuses_saved_tfidf_state_so_rebuilds_embed_only_new_texts(tmp_path):
    texts = topic_corpus(200)
    first = fitted_embedder("tfidf", tmp_path, texts, dim=8, seed=0)
    cache = EmbeddingCache(tmp_path / "vectors")
    _, new = cache.embed(first, texts)
    assert new == 200

    grown = texts + ["llama chat newcomer", "whisper speech newcomer"]  # 1% new models
    second = fitted_embedder("tfidf", tmp_path, grown, dim=8, seed=0)
    assert second.state_id == first.state_id
    _, new = cache.embed(second, grown)
    assert new == 2

    refitted = fitted_embedder("tfidf", tmp_path, grown, dim=8, seed=0, refit=True)
    assert refitted.state_id != first.state_id
    assert fitted_embedder("tfidf", tmp_path, texts, dim=8, seed=0).state_id == refitted.state_id
    assert not [
        p for p in (tmp_path / "fitted").iterdir() if p.name.startswith(".")
    ]  # no staging leftovers

"""MiniLM's int8 model on CPU, run by OpenVINO (issue 17): its vectors against fp32's on real
texts, each text's vector independent of the texts embedded with it, the export made once per
cache, the state ids that keep the two precisions' vectors apart, saving and loading (an older
build's ONNX Runtime export too), and the --precision / --device mistakes."""

import json
import os

import numpy as np
import pytest
import torch

from pipeline.embed import (
    EMBEDDER_FILE,
    INT8_FILE,
    OPENVINO_FILE,
    EmbeddingCache,
    MiniLMEmbedder,
    load_embedder,
    make_embedder,
)
from pipeline.errors import EmbedderError
from pipeline.report import IssueLog
from pipeline.sources import read_source
from pipeline.text import ModelTexts

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REAL_TEXTS = 150  # of the bundled sample's 1,271: MiniLM in fp32 is slow on CI's 2 cores


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("minilm-cache")


@pytest.fixture(scope="module")
def int8(cache_dir) -> MiniLMEmbedder:
    return make_embedder("minilm", precision="int8", device="cpu", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def fp32() -> MiniLMEmbedder:
    return make_embedder("minilm", precision="fp32", device="cpu")


@pytest.fixture(scope="module")
def sample_texts() -> list[str]:
    """Texts the build embeds for real models: every 4th of the bundled sample's, the longest and
    shortest among them."""
    source = read_source("sample", IssueLog())
    texts = list(ModelTexts(source.models, source.texts))
    return texts[:: max(1, len(texts) // REAL_TEXTS)][:REAL_TEXTS]


@pytest.mark.slow
def test_int8_vectors_are_within_cosine_099_of_fp32_on_real_texts(int8, fp32, sample_texts):
    got, want = int8.transform(sample_texts), fp32.transform(sample_texts)
    assert got.shape == want.shape == (len(sample_texts), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(got * want, axis=1)
    assert cosines.min() >= 0.99, f"lowest cosine {cosines.min():.4f}"


@pytest.mark.slow
def test_a_texts_int8_vector_is_the_same_whatever_it_is_embedded_with(int8, sample_texts):
    texts = sample_texts[:24]
    whole = int8.transform(texts)
    one_by_one = np.concatenate([int8.transform([text]) for text in texts[::-1]])[::-1]
    np.testing.assert_array_equal(whole, one_by_one)  # bit for bit, not only close
    others = sample_texts[24:48]
    mixed = int8.transform([text for pair in zip(others, texts, strict=True) for text in pair])
    np.testing.assert_array_equal(mixed[1::2], whole)
    small_batches = MiniLMEmbedder(
        precision="int8", device="cpu", batch_size=3, int8_file=int8.int8_file
    )
    assert small_batches.state_id == int8.state_id
    np.testing.assert_array_equal(small_batches.transform(texts), whole)
    assert int8.transform([]).shape == (0, 384)


@pytest.mark.slow
def test_the_export_is_made_once_per_cache_and_reused(int8, cache_dir):
    exports = list((cache_dir / "models").glob(f"*-openvino-int8/{OPENVINO_FILE}"))
    assert exports == [int8.int8_file]
    made = int8.int8_file.stat().st_mtime_ns
    again = make_embedder("minilm", precision="auto", device="cpu", cache_dir=cache_dir)
    assert again.precision == "int8" and again.backend == "openvino"
    assert again.int8_file == int8.int8_file and again.int8_file.stat().st_mtime_ns == made
    assert again.state_id == int8.state_id
    assert not [p for p in (cache_dir / "models").iterdir() if p.name.endswith(".partial")]


@pytest.mark.slow
def test_int8_and_fp32_never_share_cached_vectors(int8, fp32, tmp_path):
    assert int8.state_id != fp32.state_id
    cache = EmbeddingCache(tmp_path)
    assert cache.folder(int8) != cache.folder(fp32)
    texts = ["a whisper model for speech recognition", "a llama chat model"]
    vectors, embedded = cache.embed(int8, texts)
    assert embedded == 2
    again, embedded = cache.embed(fp32, texts)
    assert embedded == 2  # fp32 embeds its own vectors, never reads int8's
    np.testing.assert_allclose(again, fp32.transform(texts), atol=1e-6)
    np.testing.assert_allclose(cache.embed(int8, texts)[0], vectors)


@pytest.mark.slow
def test_saved_int8_embedder_loads_the_same_model_without_the_cache(int8, tmp_path):
    int8.save(tmp_path / "embedder")
    saved = json.loads((tmp_path / "embedder" / EMBEDDER_FILE).read_text())
    assert saved["precision"] == "int8" and saved["backend"] == "openvino"
    assert (tmp_path / "embedder" / OPENVINO_FILE).is_file()
    loaded = load_embedder(tmp_path / "embedder")
    assert loaded.precision == "int8" and loaded.state_id == int8.state_id
    assert loaded.int8_file == (tmp_path / "embedder" / OPENVINO_FILE).resolve()
    text = ["japanese speech recognition"]
    np.testing.assert_array_equal(loaded.transform(text), int8.transform(text))


@pytest.mark.slow
def test_an_int8_embedder_saved_by_an_older_build_runs_on_onnx_runtime(int8, tmp_path):
    # an older build saved ONNX Runtime's int8 export as INT8_FILE, backend "onnx"; ONNX Runtime
    # runs the OpenVINO export as well, which stands in for it here
    (tmp_path / INT8_FILE).write_bytes(int8.int8_file.read_bytes())
    saved = {"name": "minilm", "model_path": str(int8.model_path), "precision": "int8"}
    (tmp_path / EMBEDDER_FILE).write_text(json.dumps(saved | {"backend": "onnx"}))
    loaded = load_embedder(tmp_path)
    assert loaded.backend == "onnx" and loaded.state_id != int8.state_id
    texts = ["japanese speech recognition", "a llama chat model"]
    cosines = np.sum(loaded.transform(texts) * int8.transform(texts), axis=1)
    assert cosines.min() >= 0.99


@pytest.mark.slow
def test_an_embedder_saved_before_precisions_loads_as_fp32(fp32, tmp_path):
    (tmp_path / EMBEDDER_FILE).write_text(
        json.dumps({"name": "minilm", "model_path": str(fp32.model_path)})
    )
    loaded = load_embedder(tmp_path)
    assert loaded.precision == "fp32" and loaded.backend == "torch"
    assert loaded.state_id == fp32.state_id  # the vectors cached before stay valid


def test_precision_and_device_mistakes_are_one_sentence(tmp_path):
    with pytest.raises(EmbedderError, match="Unknown precision 'int4'"):
        make_embedder("minilm", precision="int4", cache_dir=tmp_path)
    with pytest.raises(EmbedderError, match="Unknown device 'tpu'"):
        make_embedder("minilm", device="tpu", cache_dir=tmp_path)
    if not torch.cuda.is_available():
        with pytest.raises(EmbedderError, match="no CUDA GPU"):
            make_embedder("minilm", device="cuda", cache_dir=tmp_path)
    assert not (tmp_path / "models").exists()


def test_auto_precision_is_int8_on_cpu_and_fp32_on_a_gpu():
    from pipeline.embed import resolve_precision

    assert resolve_precision("auto", "cpu") == "int8"
    assert resolve_precision("auto", "cuda") == "fp32"
    assert resolve_precision("fp32", "cpu") == "fp32"
    with pytest.raises(EmbedderError, match="CPU only"):
        resolve_precision("int8", "cuda")

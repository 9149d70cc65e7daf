"""What each model is: library, pipeline, model type, license, languages, popularity and name.

Roots take their traits from their archetype; children inherit their parent's, with the
paper's drift (libraries change with the relation, licenses drift toward permissive ones,
multilingual parents' children drift to English). Popularity is heavy-tailed and led by
big families. Names are invented from the word lists and templates in names.toml:
roots by their archetype's patterns, children derived from their parent's name.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench.synth.archetypes import (
    A_ASR,
    A_DETECTION,
    A_FEATURES,
    A_FILL_MASK,
    A_IMG_CLS,
    A_LLM,
    A_MISC,
    A_QA,
    A_RL,
    A_ST,
    A_SUMMARY,
    A_T2I,
    A_T2T,
    A_T2V,
    A_TABULAR,
    A_TEXT_CLS,
    A_TOKEN_CLS,
    A_TRANSLATION,
    A_TTS,
    A_VLM,
    ARCHETYPES,
    IMAGE_GENERATION,
    TEXT_GENERATION,
    family_group,
)
from bench.synth.arrays import (
    STRING,
    as_text,
    by_template,
    choice,
    strings,
    take,
    zipf,
    zipf_cdf,
)
from bench.synth.forest import R_AD, R_M, R_Q, R_ROOT, R_UN

NAMES = tomllib.loads((Path(__file__).parent / "names.toml").read_text(encoding="utf-8"))
WORDS: list[str] = NAMES["words"]["words"]
TASK_WORDS: list[str] = NAMES["words"]["task_words"]
SYLLABLES: list[str] = NAMES["words"]["syllables"]
SIZES: list[str] = NAMES["words"]["sizes"]
VERSIONS: list[str] = NAMES["words"]["versions"]
DATASET_CLASSICS: list[str] = NAMES["words"]["dataset_classics"]
RL_ENVIRONMENTS: list[str] = NAMES["words"]["rl_environments"]
RL_ALGORITHMS: list[str] = NAMES["words"]["rl_algorithms"]

# code 0 = null
LIBRARIES = [
    None,
    "transformers",
    "diffusers",
    "peft",
    "gguf",
    "sentence-transformers",
    "timm",
    "mlx",
    "stable-baselines3",
    "ml-agents",
    "sample-factory",
    "keras",
    "onnx",
    "sklearn",
    "open_clip",
    "ultralytics",
    "pytorch",
]
LIBRARY_CODE = {name: i for i, name in enumerate(LIBRARIES)}

PIPELINES = [
    None,
    "text-generation",
    "text-to-image",
    "text-classification",
    "token-classification",
    "fill-mask",
    "text2text-generation",
    "translation",
    "automatic-speech-recognition",
    "sentence-similarity",
    "feature-extraction",
    "image-classification",
    "object-detection",
    "reinforcement-learning",
    "question-answering",
    "text-to-speech",
    "image-text-to-text",
    "text-to-video",
    "summarization",
    "image-segmentation",
    "audio-classification",
    "zero-shot-classification",
    "tabular-classification",
    "image-to-image",
]
PIPELINE_CODE = {name: i for i, name in enumerate(PIPELINES)}

LICENSES = [
    None,
    "apache-2.0",
    "mit",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "gemma",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "openrail",
    "creativeml-openrail-m",
    "openrail++",
    "other",
    "bsd-3-clause",
    "gpl-3.0",
    "afl-3.0",
    "unknown",
    "artistic-2.0",
    "cc0-1.0",
    "agpl-3.0",
    "bigscience-bloom-rail-1.0",
]
LICENSE_CODE = {name: i for i, name in enumerate(LICENSES)}

LANGUAGES = [
    "en",
    "zh",
    "fr",
    "de",
    "es",
    "ru",
    "ja",
    "ko",
    "ar",
    "pt",
    "it",
    "nl",
    "tr",
    "vi",
    "hi",
    "id",
    "pl",
    "sv",
    "fa",
    "uk",
    "cs",
    "th",
    "he",
    "el",
    "bn",
    "ro",
    "hu",
    "fi",
    "da",
    "no",
    "ms",
    "ta",
    "sw",
    "ur",
]
# language sets: 0 = none, 1 = en, then one per other language, en+X pairs, multilingual
LANGUAGE_SETS: list[list[str]] = [[], ["en"]] + [[code] for code in LANGUAGES[1:]]
SINGLE_NON_ENGLISH = np.arange(2, 2 + len(LANGUAGES) - 1)
_pairs_start = len(LANGUAGE_SETS)
LANGUAGE_SETS += [
    ["en", code] for code in ("zh", "fr", "de", "es", "ko", "ja", "ru", "ar", "vi", "hi")
]
ENGLISH_PAIRS = np.arange(_pairs_start, len(LANGUAGE_SETS))
_multilingual_start = len(LANGUAGE_SETS)
LANGUAGE_SETS += [LANGUAGES[:5], LANGUAGES[:8], LANGUAGES[:12], LANGUAGES[:20], LANGUAGES]
MULTILINGUAL = np.arange(_multilingual_start, len(LANGUAGE_SETS))

MODEL_TYPES: list[str | None] = [None]
for _archetype in ARCHETYPES:
    for _model_type in _archetype.model_types:
        if _model_type not in MODEL_TYPES:
            MODEL_TYPES.append(_model_type)
MODEL_TYPE_CODE = {name: i for i, name in enumerate(MODEL_TYPES)}

NLP = (A_LLM, A_VLM, A_TEXT_CLS, A_TOKEN_CLS, A_FILL_MASK, A_T2T, A_ST, A_FEATURES, A_QA, A_SUMMARY)
SPEECH = (A_ASR, A_TRANSLATION, A_TTS)


# --------------------------------------------------------------------------------------
# Library, pipeline, model type, license, languages
# --------------------------------------------------------------------------------------


def root_traits(rng, archetype, year, roots):
    """Library, pipeline, model type, license and languages of the roots, from their archetype."""
    n = len(roots)
    arch = archetype[roots]
    lib = np.zeros(n, dtype=np.int16)
    pipe = np.zeros(n, dtype=np.int16)
    mtype = np.zeros(n, dtype=np.int16)
    for a, kind in enumerate(ARCHETYPES):
        sel = np.flatnonzero(arch == a)
        if not len(sel):
            continue
        pipe[sel] = PIPELINE_CODE[kind.pipeline]
        codes = np.array([LIBRARY_CODE[x] for x in kind.libraries])
        lib[sel] = codes[choice(rng, list(kind.libraries.values()), len(sel))]
        types = kind.model_types
        mtype[sel] = np.array([MODEL_TYPE_CODE[t] for t in types])[
            rng.integers(0, len(types), len(sel))
        ]
    # some roots of a task carry no pipeline tag
    pipe[rng.random(n) < 0.08] = 0

    lic = np.zeros(n, dtype=np.int16)
    license_mixes = (  # by family group: text generation, image generation, the rest
        {
            "apache-2.0": 0.30,
            "mit": 0.10,
            "llama2": 0.07,
            "llama3": 0.06,
            "llama3.1": 0.05,
            "llama3.2": 0.03,
            "gemma": 0.04,
            "other": 0.12,
            "cc-by-nc-4.0": 0.05,
            "cc-by-4.0": 0.02,
            None: 0.16,
        },
        {
            "creativeml-openrail-m": 0.35,
            "openrail++": 0.15,
            "openrail": 0.08,
            "other": 0.15,
            "apache-2.0": 0.07,
            "mit": 0.03,
            "cc-by-nc-4.0": 0.02,
            None: 0.15,
        },
        {
            "apache-2.0": 0.38,
            "mit": 0.16,
            "cc-by-4.0": 0.04,
            "cc-by-sa-4.0": 0.02,
            "cc-by-nc-sa-4.0": 0.02,
            "other": 0.03,
            "gpl-3.0": 0.01,
            "bsd-3-clause": 0.01,
            "afl-3.0": 0.01,
            "unknown": 0.01,
            "cc0-1.0": 0.005,
            "artistic-2.0": 0.005,
            "agpl-3.0": 0.005,
            None: 0.345,
        },
    )
    group = family_group(arch)
    for g, mix in enumerate(license_mixes):
        sel = np.flatnonzero(group == g)
        codes = np.array([LICENSE_CODE[x] for x in mix])
        lic[sel] = codes[choice(rng, list(mix.values()), len(sel))]
    # license tags became common later: older roots more often have none
    lic[(year[roots] < 2021.5) & (rng.random(n) < 0.5)] = 0

    # languages: en dominant, some multilingual, many unstated
    langset = np.zeros(n, dtype=np.int16)
    u = rng.random(n)
    speechy = np.isin(arch, SPEECH)
    nlp = np.isin(arch, NLP)
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
    langset[m] = MULTILINGUAL[choice(rng, [0.35, 0.25, 0.2, 0.12, 0.08], int(m.sum()))]
    m = (u >= c2) & (u < c3)
    langset[m] = ENGLISH_PAIRS[rng.integers(0, len(ENGLISH_PAIRS), int(m.sum()))]
    m = (u >= c3) & (u < c4)
    single_w = 1.0 / np.arange(1, len(SINGLE_NON_ENGLISH) + 1) ** 0.8
    langset[m] = SINGLE_NON_ENGLISH[choice(rng, single_w, int(m.sum()))]
    return lib, pipe, mtype, lic, langset


def inherit(rng, traits, rows, parents, rel, archetype):
    """Traits of children at one depth from their parents', with the paper's drift.

    ``traits`` is (library, pipeline, model type, license, language set), written in place."""
    lib, pipe, mtype, lic, langset = traits
    code = LIBRARY_CODE
    n = len(rows)
    plib, ppipe, pmt, plic, plang = (
        lib[parents],
        pipe[parents],
        mtype[parents],
        lic[parents],
        langset[parents],
    )
    r = rel[rows]
    arch = archetype[rows]
    img = np.isin(arch, IMAGE_GENERATION)
    textgen = np.isin(arch, TEXT_GENERATION)
    u = rng.random((6, n))

    # library
    base_lib = np.where(
        np.isin(plib, [code["gguf"], code["mlx"], code["peft"]]), code["transformers"], plib
    )
    base_lib = np.where(img & (base_lib == code["transformers"]), code["diffusers"], base_lib)
    new_lib = np.where(u[0] < 0.07, 0, base_lib)
    q = r == R_Q
    text_quant = np.where(
        u[1] < 0.62, code["gguf"], np.where(u[1] < 0.9, code["transformers"], code["mlx"])
    )
    other_quant = np.where(
        u[1] < 0.3, code["gguf"], np.where(u[1] < 0.85, code["transformers"], code["onnx"])
    )
    qlib = np.where(
        img,
        np.where(u[1] < 0.3, code["gguf"], code["diffusers"]),
        np.where(textgen, text_quant, other_quant),
    )
    new_lib = np.where(q, qlib, new_lib)
    ad = r == R_AD
    new_lib = np.where(
        ad, np.where(img, code["diffusers"], np.where(u[1] < 0.93, code["peft"], 0)), new_lib
    )
    new_lib = np.where(r == R_M, np.where(img, code["diffusers"], code["transformers"]), new_lib)

    # pipeline: kept, dropped, or (rarely) mutated to a neighbouring task
    mutate_to = np.array(
        [
            PIPELINE_CODE[x]
            for x in (
                "text-classification",
                "question-answering",
                "text2text-generation",
                "feature-extraction",
                "image-text-to-text",
                "summarization",
                "token-classification",
                "zero-shot-classification",
            )
        ]
    )
    new_pipe = np.where(
        u[2] < 0.88, ppipe, np.where(u[2] < 0.95, 0, mutate_to[rng.integers(0, len(mutate_to), n)])
    )
    default_pipe = np.array([PIPELINE_CODE[a.pipeline] for a in ARCHETYPES])[arch]
    new_pipe = np.where((ppipe == 0) & (u[3] < 0.5), default_pipe, new_pipe)
    quant_pipe = np.where(
        (new_lib == code["gguf"]) & (u[2] < 0.28), 0, np.where(ppipe == 0, default_pipe, ppipe)
    )
    new_pipe = np.where(q, quant_pipe, new_pipe)
    adapter_pipe = np.where(
        img,
        np.where(u[2] < 0.85, PIPELINE_CODE["text-to-image"], 0),
        np.where(u[2] < 0.55, ppipe, 0),
    )
    new_pipe = np.where(ad, adapter_pipe, new_pipe)
    new_pipe = np.where(r == R_M, np.where(ppipe == 0, default_pipe, ppipe), new_pipe)
    new_pipe = np.where(
        new_lib == code["sentence-transformers"], PIPELINE_CODE["sentence-similarity"], new_pipe
    )

    new_mt = np.where(new_lib == code["peft"], 0, pmt)

    # license: kept by most, dropped by some, drifting toward permissive licenses
    keep_p = np.select([r == R_Q, r == R_AD, r == R_M, r == R_UN], [0.9, 0.7, 0.55, 0.6], 0.62)
    permissive = np.array(
        [
            LICENSE_CODE[x]
            for x in ("apache-2.0", "mit", "other", "cc-by-nc-4.0", "openrail", "cc-by-4.0")
        ]
    )
    mutated = permissive[choice(rng, [0.5, 0.22, 0.12, 0.08, 0.04, 0.04], n)]
    new_lic = np.where(
        u[4] < keep_p, plic, np.where(u[4] < keep_p + (1 - keep_p) * 0.4, 0, mutated)
    )

    # languages: multilingual parents' children drift to English-only
    w = rng.random(n)
    multi = np.isin(plang, MULTILINGUAL) | np.isin(plang, ENGLISH_PAIRS)
    other_single = SINGLE_NON_ENGLISH[rng.integers(0, len(SINGLE_NON_ENGLISH), n)]
    from_multi = np.where(
        w < 0.38, 1, np.where(w < 0.68, plang, np.where(w < 0.9, 0, other_single))
    )
    from_en = np.where(w < 0.68, 1, np.where(w < 0.95, 0, other_single))
    from_none = np.where(w < 0.62, 0, np.where(w < 0.93, 1, other_single))
    from_single = np.where(w < 0.6, plang, np.where(w < 0.8, 1, 0))
    new_lang = np.select(
        [multi, plang == 1, plang == 0], [from_multi, from_en, from_none], from_single
    )
    new_lang = np.where(q & (u[5] < 0.9), plang, new_lang)

    for arr, new in zip(traits, (new_lib, new_pipe, new_mt, new_lic, new_lang), strict=True):
        arr[rows] = new


# --------------------------------------------------------------------------------------
# Popularity
# --------------------------------------------------------------------------------------


def popularity(rng, rel, fitness, n_children, n_desc, year):
    """Downloads (30 days), likes and trending score: heavy-tailed, mostly zero, led by big
    families."""
    n = len(rel)
    z = rng.standard_normal(n)
    mu = np.select([rel == R_ROOT, rel == R_Q, rel == R_M, rel == R_AD], [0.8, 1.8, 0.8, 0.2], 0.5)
    mu = mu + 1.3 * np.log1p(n_children) + 0.5 * np.log1p(n_desc)
    median_root_fitness = max(np.median(fitness[rel == R_ROOT]), 1e-9)
    mu = mu + np.where(
        rel == R_ROOT, 0.6 * np.log(np.maximum(fitness, 1e-3) / median_root_fitness), 0
    )
    p_zero = np.clip(0.6 - 0.12 * np.log1p(n_children + n_desc), 0.02, 0.9)
    downloads = np.where(
        rng.random(n) < p_zero, 0, np.floor(np.exp(np.minimum(mu + 2.0 * z, 19.5)))
    )
    downloads = downloads.astype(np.int64)

    lin = -2.6 + 0.42 * np.log1p(downloads) + 0.6 * np.log1p(n_children)
    liked = rng.random(n) < 1 / (1 + np.exp(-lin))
    log_likes = (
        0.45 * np.log1p(downloads) + 0.4 * np.log1p(n_desc) + 1.0 * rng.standard_normal(n) - 1.0
    )
    likes = np.where(liked, 1 + np.floor(np.exp(np.minimum(log_likes, 13.0))), 0)
    likes = likes.astype(np.int64)

    recent = np.clip((year - 2025.0) / 0.54, 0, 1)
    trend = (rng.random(n) < 0.6 * recent) & (likes >= 3)
    trending = np.where(trend, np.floor(likes * rng.random(n) * recent * 0.6), 0.0)
    return downloads, likes, trending.astype(np.float64)


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------


def author_pool(rng, size: int) -> pa.Array:
    """Invented user/org names from syllables, in the Hub's usual shapes."""
    syl = strings(SYLLABLES)
    cap = pc.utf8_capitalize(syl)
    s1 = rng.integers(0, len(SYLLABLES), size)
    s2 = rng.integers(0, len(SYLLABLES), size)
    s3 = rng.integers(0, len(SYLLABLES), size)
    num = as_text(rng.integers(1, 999, size))
    fields = dict(
        a=take(syl, s1),
        b=take(syl, s2),
        c=take(syl, s3),
        A=take(cap, s1),
        B=take(cap, s2),
        C=take(cap, s3),
        num=num,
    )
    templates = [
        "{a}{b}{c}",
        "{a}{b}{num}",
        "{A}{b}{C}{c}",
        "{a}-{b}{c}",
        "{a}{b}_{c}{num}",
        "{A}{b}",
        "{a}{b}{c}-ai",
        "{A}{b}-{C}{c}",
        "{a}{c}{num}",
        "{A}{b}{c}Lab",
        "{a}{b}",
        "{A}{B}{C}",
    ]
    which = choice(
        rng, [0.18, 0.14, 0.1, 0.08, 0.08, 0.1, 0.04, 0.06, 0.08, 0.03, 0.08, 0.03], size
    )
    return by_template(templates, which, size, fields)


def fields_for_names(rng, n: int) -> dict:
    """Per row, one draw of every word field the name templates use."""
    words = strings(WORDS)
    capw = pc.utf8_capitalize(words)
    w1 = rng.integers(0, len(WORDS), n)
    w2 = rng.integers(0, len(WORDS), n)
    ds_pool = strings(DATASET_CLASSICS)
    whisper_sizes = strings(["tiny", "small", "base", "medium", "large-v3"])
    return dict(
        w1=take(words, w1),
        w2=take(words, w2),
        W1=take(capw, w1),
        W2=take(capw, w2),
        num=as_text(rng.integers(1, 300, n)),
        size=take(strings(SIZES), rng.integers(0, len(SIZES), n)),
        ver=take(strings(VERSIONS), rng.integers(0, len(VERSIONS), n)),
        task=take(strings(TASK_WORDS), rng.integers(0, len(TASK_WORDS), n)),
        ds=take(ds_pool, rng.integers(0, len(ds_pool), n)),
        lang=take(strings(LANGUAGES), zipf(rng, zipf_cdf(len(LANGUAGES), 1.0, 1.0), n)),
        env=take(strings(RL_ENVIRONMENTS), rng.integers(0, len(RL_ENVIRONMENTS), n)),
        algo=take(strings(RL_ALGORITHMS), rng.integers(0, len(RL_ALGORITHMS), n)),
        wsize=take(whisper_sizes, rng.integers(0, 5, n)),
    )


ROOT_NAME_TEMPLATES: dict[str, list[str]] = NAMES["root_names"]
# archetype -> its root-name group (others: "nlp")
ARCHETYPE_NAME_GROUP = {
    A_LLM: "llm",
    A_VLM: "llm",
    A_T2I: "img",
    A_T2V: "img",
    A_ASR: "asr",
    A_TTS: "asr",
    A_ST: "emb",
    A_FEATURES: "emb",
    A_IMG_CLS: "vision",
    A_DETECTION: "vision",
    A_RL: "rl",
    A_MISC: "misc",
    A_TABULAR: "misc",
}
# kind of child -> (name templates, share of those children that use each)
CHILD_NAME_TEMPLATES: dict[str, tuple[list[str], list[float]]] = {
    kind: (spec["templates"], spec["shares"]) for kind, spec in NAMES["child_names"].items()
}
MODEL_TYPE_BASES: dict[str, list[str]] = NAMES["model_type_bases"]

# quantization/adapter suffixes stripped from a parent's name before a child's is derived from it
DERIVED_SUFFIX = (
    r"(-i1)?-(GGUF|Q\d_K(_[SML])?-GGUF|Q8_0-GGUF|IQ4_XS-GGUF|AWQ|GPTQ(-Int4)?|"
    r"bnb-4bit|4bit|8bit|int4-ov|FP8|W4A16|onnx|mlx(-4bit)?|MLX-8bit|fp8|nf4|gguf|"
    r"int8|lora)$"
)


def names(rng, archetype, rel, depth, parent, lib, mtype, fitness) -> pa.Array:
    """Repository names: roots by archetype patterns, children derived from their parent's name."""
    n = len(rel)
    roots = np.flatnonzero(rel == R_ROOT)
    fields = fields_for_names(rng, len(roots))
    base_pool, base_off, base_len = [], [], []
    for model_type in MODEL_TYPES:
        options = MODEL_TYPE_BASES.get(model_type, ["model"])
        base_off.append(len(base_pool))
        base_len.append(len(options))
        base_pool += options
    base_off, base_len = np.array(base_off), np.array(base_len)
    mt = mtype[roots]
    fields["base"] = take(
        strings(base_pool), base_off[mt] + (rng.random(len(roots)) * base_len[mt]).astype(np.int64)
    )
    group_names = list(ROOT_NAME_TEMPLATES)
    lookup = np.array(
        [group_names.index(ARCHETYPE_NAME_GROUP.get(a, "nlp")) for a in range(len(ARCHETYPES))]
    )
    gid = lookup[archetype[roots]]
    big = fitness[roots] > np.quantile(fitness[roots], 0.997)
    gid = np.where(big & (gid == group_names.index("llm")), group_names.index("llm_base"), gid)
    templates, which = [], np.zeros(len(roots), dtype=np.int64)
    for g, group in enumerate(group_names):
        sel = np.flatnonzero(gid == g)
        group_templates = ROOT_NAME_TEMPLATES[group]
        which[sel] = len(templates) + rng.integers(0, len(group_templates), len(sel))
        templates += group_templates
    current = by_template(templates, which, len(roots), fields)
    position = np.zeros(n, dtype=np.int64)  # position of each row's name in `current`
    position[roots] = np.arange(len(roots))

    for d in range(1, int(depth.max()) + 1):
        rows = np.flatnonzero(depth == d)
        if not len(rows):
            continue
        parent_names = pc.replace_substring_regex(
            take(current, position[parent[rows]]), DERIVED_SUFFIX, ""
        )
        fields = fields_for_names(rng, len(rows))
        fields["p"] = pc.utf8_rtrim(pc.utf8_slice_codeunits(parent_names, 0, 44), characters="-_.")
        r, lb = rel[rows], lib[rows]
        img = np.isin(archetype[rows], IMAGE_GENERATION)
        kind = np.select(
            [
                (r == R_Q) & img,
                (r == R_Q) & (lb == LIBRARY_CODE["gguf"]),
                (r == R_Q) & (lb == LIBRARY_CODE["mlx"]),
                r == R_Q,
                (r == R_AD) & img,
                r == R_AD,
                r == R_M,
            ],
            ["q_img", "q_gguf", "q_mlx", "q_hf", "ad_img", "ad_peft", "merge"],
            "ft",
        )
        templates, which = [], np.zeros(len(rows), dtype=np.int64)
        for kind_name, (kind_templates, shares) in CHILD_NAME_TEMPLATES.items():
            sel = np.flatnonzero(kind == kind_name)
            which[sel] = len(templates) + choice(rng, shares, len(sel))
            templates += kind_templates
        position[rows] = len(current) + np.arange(len(rows))
        rendered = by_template(templates, which, len(rows), fields).cast(STRING)
        current = pa.concat_arrays([current, rendered])
    return pc.utf8_slice_codeunits(take(current, position), 0, 90)

"""Model card text: which kind of card each model has, and the card itself.

Tool-written cards (the Trainer's, the Hub's template, GGUF-my-repo, mergekit, Unsloth,
AutoTrain, DreamBooth, sentence-transformers, ...) become more common further from the
root; hand-written cards are long for big base models and shorter down the tree. Every
card opens with a YAML header consistent with the row's columns. The templates and body
sentences are in templates.toml.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
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
    A_QA,
    A_RL,
    A_ST,
    A_SUMMARY,
    A_T2I,
    A_T2T,
    A_T2V,
    A_TEXT_CLS,
    A_TOKEN_CLS,
    A_TRANSLATION,
    A_TTS,
    A_VLM,
    ARCHETYPES,
    IMAGE_GENERATION,
    TEXT_GENERATION,
)
from bench.synth.arrays import (
    STRING,
    Ragged,
    as_text,
    choice_rows,
    concat,
    decimals,
    heavy_count,
    offsets,
    render,
    strings,
    take,
    where,
)
from bench.synth.forest import R_AD, R_FT, R_M, R_Q, R_ROOT, R_UN
from bench.synth.traits import (
    DATASET_CLASSICS,
    DERIVED_SUFFIX,
    LANGUAGE_SETS,
    LIBRARY_CODE,
    RL_ALGORITHMS,
    RL_ENVIRONMENTS,
    WORDS,
    fields_for_names,
)

TEMPLATES = tomllib.loads((Path(__file__).parent / "templates.toml").read_text(encoding="utf-8"))
CARD_TEMPLATES: dict = TEMPLATES["cards"]
QUANT_TYPES: list[str] = CARD_TEMPLATES["quant_types"]
MERGE_METHODS: list[str] = CARD_TEMPLATES["merge_methods"]
SENTENCE_TEMPLATES: dict[str, list[str]] = TEMPLATES["sentences"]
SENTENCE_FILL: dict[str, list[str]] = TEMPLATES["sentence_fill"]
USAGE_TEMPLATES: dict[str, str] = CARD_TEMPLATES["usage"]
LIMITATIONS: list[str] = CARD_TEMPLATES["limits"]


def _template_card(header: str, description: str, footer: str = "") -> str:
    body = CARD_TEMPLATES["template_body"].replace("{description}", description)
    return header + body + footer


# the cards written from the Hub's model card template, as transformers, huggingface_hub
# and peft push them
TRANSFORMERS_TEMPLATE = _template_card(
    CARD_TEMPLATES["template_header"], CARD_TEMPLATES["template_description"]
)
HUB_TEMPLATE = _template_card(CARD_TEMPLATES["hub_template_header"], "")
PEFT_TEMPLATE = _template_card(CARD_TEMPLATES["peft_header"], "", CARD_TEMPLATES["peft_footer"])

# card kinds (0 = no card)
(
    K_NONE,
    K_HUMAN,
    K_TINY,
    K_TRAINER,
    K_TEMPLATE,
    K_HUBTEMPLATE,
    K_PEFT,
    K_GGUF,
    K_QTABLE,
    K_MLX,
    K_MERGEKIT,
    K_UNSLOTH,
    K_AUTOTRAIN,
    K_DREAMBOOTH,
    K_SB3,
    K_ST,
) = range(16)
# tags a card kind brings along (after the pipeline tag): one of these lists per model
KIND_TAGS = {
    K_TRAINER: [
        ["generated_from_trainer"],
        ["trl", "sft", "generated_from_trainer"],
        ["trl", "dpo", "generated_from_trainer"],
        ["generated_from_trainer"],
    ],
    K_PEFT: [[], ["lora"]],
    K_GGUF: [["llama-cpp", "gguf-my-repo"]],
    K_QTABLE: [[], ["imatrix"]],
    K_MLX: [[]],
    K_MERGEKIT: [["mergekit", "merge"]],
    K_UNSLOTH: [["unsloth", "trl"], ["unsloth", "trl", "sft"]],
    K_AUTOTRAIN: [["autotrain"]],
    K_DREAMBOOTH: [
        ["diffusers-training", "lora", "template:sd-lora", "stable-diffusion-diffusers"]
    ],
    K_SB3: [
        ["deep-reinforcement-learning"],
        ["deep-reinforcement-learning", "custom-implementation"],
    ],
    K_ST: [["generated_from_trainer", "loss:MultipleNegativesRankingLoss"]],
    K_HUMAN: [[], [], [], ["medical"], ["code"], ["chat"], ["finance"], ["roleplay"], ["art"]],
}
# arXiv ids that card kinds cite (template: the Hub template's carbon calculator paper)
FIXED_ARXIV = {
    "template": "1910.09700",
    "lora": "2106.09685",
    "dpo": "2305.18290",
    "ties": "2306.01708",
    "dare": "2311.03099",
    "stock": "2403.19522",
}

# archetype -> domain of its body sentences (others: "nlp")
ARCHETYPE_DOMAIN = {
    A_LLM: "llm",
    A_VLM: "llm",
    A_T2I: "img",
    A_T2V: "img",
    A_ASR: "speech",
    A_TTS: "speech",
    A_ST: "emb",
    A_FEATURES: "emb",
    A_IMG_CLS: "vision",
    A_DETECTION: "vision",
    A_RL: "rl",
}
# archetype -> the AutoModel class named in usage snippets
AUTO_CLASS = {
    A_LLM: "CausalLM",
    A_VLM: "ImageTextToText",
    A_TEXT_CLS: "SequenceClassification",
    A_TOKEN_CLS: "TokenClassification",
    A_FILL_MASK: "MaskedLM",
    A_T2T: "Seq2SeqLM",
    A_TRANSLATION: "Seq2SeqLM",
    A_SUMMARY: "Seq2SeqLM",
    A_ASR: "SpeechSeq2Seq",
    A_IMG_CLS: "ImageClassification",
    A_DETECTION: "ObjectDetection",
    A_QA: "QuestionAnswering",
}


def card_kinds(rng, year, rel, depth, lib, archetype, fitness):
    """Which kind of card each model has (K_*), by relation, library, depth and era."""
    n = len(year)
    kind = np.zeros(n, dtype=np.int8)
    root = rel == R_ROOT
    # tool-written cards and bare headers become more common further from the root
    auto = np.array([0.22, 0.55, 0.66, 0.74, 0.8, 0.84, 0.87, 0.9, 0.92])[np.minimum(depth, 8)]
    bare = np.array([0.12, 0.22, 0.32, 0.4, 0.46, 0.5, 0.54, 0.57, 0.6])[np.minimum(depth, 8)]
    lib_code = LIBRARY_CODE

    def assign(mask, kinds, probs):
        sel = np.flatnonzero(mask)
        if len(sel):
            columns = [
                np.broadcast_to(np.asarray(p, dtype=np.float64)[sel] if np.ndim(p) else p, len(sel))
                for p in probs
            ]
            kind[sel] = np.asarray(kinds)[choice_rows(rng, np.column_stack(columns))]

    a = auto
    image = np.isin(archetype, IMAGE_GENERATION)
    # roots
    assign(root & (archetype == A_RL), [K_SB3, K_TINY, K_HUMAN], [0.85, 0.1, 0.05])
    assign(root & (archetype == A_ST), [K_ST, K_HUMAN, K_TINY], [0.5, 0.35, 0.15])
    assign(root & image, [K_HUMAN, K_TINY, K_HUBTEMPLATE], [0.6, 0.3, 0.1])
    other_root = root & ~np.isin(archetype, [A_RL, A_ST, A_T2I, A_T2V])
    big = fitness > np.quantile(fitness[root], 0.995) if root.any() else np.zeros(n, bool)
    aa = np.where(big, 0.02, a)
    assign(
        other_root,
        [K_HUMAN, K_TINY, K_TRAINER, K_TEMPLATE, K_HUBTEMPLATE, K_AUTOTRAIN],
        [(1 - aa) * (1 - bare), (1 - aa) * bare, aa * 0.5, aa * 0.25, aa * 0.15, aa * 0.1],
    )
    # quantizations
    q = rel == R_Q
    deep = np.minimum(depth, 4) / 4.0  # 0 at the root .. 1 from depth 4 on
    assign(
        q & (lib == lib_code["gguf"]),
        [K_GGUF, K_QTABLE, K_HUMAN, K_TINY],
        [0.45, 0.38 - 0.2 * deep, 0.12 - 0.04 * deep, 0.05 + 0.24 * deep],
    )
    assign(q & (lib == lib_code["mlx"]), [K_MLX, K_HUMAN], [0.85, 0.15])
    assign(
        q & ~np.isin(lib, [lib_code["gguf"], lib_code["mlx"]]),
        [K_HUMAN, K_TINY, K_TEMPLATE],
        [0.5, 0.2, 0.3],
    )
    # adapters
    ad = rel == R_AD
    assign(ad & (lib == lib_code["diffusers"]), [K_DREAMBOOTH, K_HUMAN, K_TINY], [0.6, 0.25, 0.15])
    assign(
        ad & (lib != lib_code["diffusers"]),
        [K_PEFT, K_TRAINER, K_HUMAN, K_TINY],
        [a * (0.6 - 0.3 * deep), a * (0.4 + 0.3 * deep), (1 - a) * (1 - bare), (1 - a) * bare],
    )
    # merges
    assign(rel == R_M, [K_MERGEKIT, K_HUMAN, K_TINY], [0.85, 0.1, 0.05])
    # fine-tunes and unspecified
    ft = np.isin(rel, [R_FT, R_UN])
    sentence_transformers = lib == lib_code["sentence-transformers"]
    assign(ft & sentence_transformers, [K_ST, K_HUMAN, K_TINY], [0.6, 0.3, 0.1])
    assign(ft & (archetype == A_RL), [K_SB3, K_TINY], [0.85, 0.15])
    assign(
        ft & image & ~sentence_transformers,
        [K_DREAMBOOTH, K_HUMAN, K_TINY],
        [a * 0.7, (1 - a) * 0.8, (1 - a) * 0.2 + a * 0.3],
    )
    plain_ft = ft & ~sentence_transformers & (archetype != A_RL) & ~image
    textgen = np.isin(archetype, TEXT_GENERATION)
    unsloth = np.where(textgen, 0.18, 0.0)
    assign(
        plain_ft,
        [K_TRAINER, K_TEMPLATE, K_UNSLOTH, K_AUTOTRAIN, K_HUBTEMPLATE, K_HUMAN, K_TINY],
        [
            a * (0.68 - unsloth),
            a * (0.15 - 0.08 * deep),
            a * unsloth,
            a * (0.09 + 0.08 * deep),
            a * 0.03,
            (1 - a) * (1 - bare),
            (1 - a) * bare,
        ],
    )

    # no card at all: common for early roots, rare for children
    p_null = np.where(
        root, np.interp(year, [2019, 2021, 2023, 2025.6], [0.6, 0.5, 0.3, 0.18]), 0.06
    )
    kind[rng.random(n) < p_null] = K_NONE
    return kind


# --------------------------------------------------------------------------------------
# Body sentences
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def sentence_pools() -> tuple[pa.Array, np.ndarray, np.ndarray, dict[str, int]]:
    """Deterministic pool of body sentences, grouped by domain: (sentences, first sentence
    of each domain, sentences per domain, domain -> its number)."""
    rng = np.random.default_rng(12345)
    fill = SENTENCE_FILL
    sentences: list[str] = []
    starts, sizes, domains = [], [], {}
    for d, (domain, templates) in enumerate(SENTENCE_TEMPLATES.items()):
        domains[domain] = d
        starts.append(len(sentences))
        for _ in range(300):
            template = templates[rng.integers(len(templates))]
            values = {key: fill[key][rng.integers(len(fill[key]))] for key in fill}
            values["topic2"] = fill["topic"][rng.integers(len(fill["topic"]))]
            values["bench2"] = fill["bench"][rng.integers(len(fill["bench"]))]
            values.update(
                k=int(rng.integers(1, 500)),
                e=int(rng.integers(1, 10)),
                lr=["1e-5", "2e-5", "5e-5", "1e-4", "2e-4"][rng.integers(5)],
                gpus=int(2 ** rng.integers(0, 7)),
                h=int(rng.integers(1, 200)),
                ctx=int(2 ** rng.integers(8, 16)),
                d=int(rng.integers(1, 9)),
                score=f"{rng.uniform(0.3, 0.95):.3f}",
                score2=f"{rng.uniform(0.3, 0.95):.3f}",
                c=int(rng.integers(2, 40)),
                ds=DATASET_CLASSICS[rng.integers(len(DATASET_CLASSICS))],
                bs=int(2 ** rng.integers(2, 8)),
                wer=f"{rng.uniform(3, 40):.1f}",
                res=int(rng.choice([224, 384, 512, 768, 1024])),
                steps=int(rng.integers(20, 50)),
                cfg=f"{rng.uniform(3, 9):.1f}",
                w=WORDS[rng.integers(len(WORDS))] + "_style",
                dim=int(rng.choice([384, 512, 768, 1024])),
                reward=f"{rng.uniform(-50, 300):.2f} +/- {rng.uniform(1, 60):.2f}",
            )
            sentences.append(template.format(**values))
        sizes.append(len(sentences) - starts[-1])
    return pa.array(sentences, type=STRING), np.array(starts), np.array(sizes), domains


def _domain_of_archetype() -> np.ndarray:
    _, _, _, domains = sentence_pools()
    return np.array([domains[ARCHETYPE_DOMAIN.get(a, "nlp")] for a in range(len(ARCHETYPES))])


# --------------------------------------------------------------------------------------
# Cards of one row group
# --------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """Per-row values of one row group, as Arrow arrays and numpy codes."""

    n: int
    rows: np.ndarray
    rng: np.random.Generator
    kind: np.ndarray  # card kind (K_*)
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
    parent_id: pa.Array  # primary parent (null for roots)
    parents: Ragged  # primary parent, then merge partners
    ds_raw: Ragged  # datasets
    kind_tags: Ragged
    mtype_str: pa.Array
    fitness: np.ndarray
    depth: np.ndarray


@lru_cache(maxsize=1)
def _langset_yaml() -> pa.Array:
    return pa.array(
        ["language:\n" + "".join(f"- {code}\n" for code in s) if s else "" for s in LANGUAGE_SETS],
        STRING,
    )


def front_matter(c: Chunk) -> pa.Array:
    """The card's YAML header, consistent with the row's columns (empty when there is nothing
    to say)."""
    lib_line = where(c.lib != 0, concat("library_name: ", c.lib_str, "\n"))
    lic_line = where(c.lic != 0, concat("license: ", c.lic_str, "\n"))
    lang_block = take(_langset_yaml(), c.langset)
    one = c.parents.counts == 1
    many = c.parents.counts > 1
    base_block = pc.if_else(
        pa.array(one),
        concat("base_model: ", c.parent_id, "\n"),
        where(many, concat("base_model:\n- ", c.parents.join("\n- "), "\n")),
    )
    ds_block = where(c.ds_raw.counts > 0, concat("datasets:\n- ", c.ds_raw.join("\n- "), "\n"))
    pipe_line = where(c.pipe != 0, concat("pipeline_tag: ", c.pipe_str, "\n"))
    tags_block = where(c.kind_tags.counts > 0, concat("tags:\n- ", c.kind_tags.join("\n- "), "\n"))
    model_index = where(
        c.kind == K_TRAINER, concat("model-index:\n- name: ", c.name, "\n  results: []\n")
    )
    body = concat(
        lib_line, lic_line, lang_block, base_block, ds_block, pipe_line, tags_block, model_index
    )
    has = pc.greater(pc.utf8_length(body), 0)
    return pc.if_else(has, concat("---\n", body, "---\n"), "")


def _rows_text(counts: np.ndarray, template: str, **value_fields) -> Ragged:
    """A ragged column of rendered lines: counts[i] lines for row i (a callable field is
    called with the number of lines)."""
    total = int(counts.sum())
    resolved = {k: (v(total) if callable(v) else v) for k, v in value_fields.items()}
    return Ragged(offsets(counts), render(template, total, **resolved))


def cards(c: Chunk, front: pa.Array) -> pa.Array:
    """Model card text per row (null where the model has none), by card kind."""
    rng = c.rng
    cards_tpl = CARD_TEMPLATES
    out_parts, out_pos = [], []

    def pick(choices, k):
        return take(strings(choices), rng.integers(0, len(choices), k))

    def paragraphs(sel, median, sigma, cap):
        """Heavy-tailed body text from the rows' domains."""
        return paragraph_text(c, sel, heavy_count(rng, len(sel), median, sigma, cap))

    def metrics(k):
        lines = concat(
            "- Accuracy: ",
            decimals(rng.uniform(0.4, 0.99, k)),
            "\n- F1: ",
            decimals(rng.uniform(0.4, 0.99, k)),
            "\n",
        )
        return where(rng.random(k) < 0.5, lines)

    def table(counts, header, template, **value_fields):
        rows = _rows_text(counts, template, **value_fields)
        return where(counts > 0, concat(header, rows.join("\n"), "\n"))

    for kind in np.unique(c.kind):
        if kind == K_NONE:
            continue
        sel = np.flatnonzero(c.kind == kind)
        k = len(sel)
        has_parent = c.parents.counts[sel] > 0
        parent = pc.fill_null(take(c.parent_id, sel), "")
        f = dict(
            front=take(front, sel),
            name=take(c.name, sel),
            model_id=take(c.model_id, sel),
            parent=parent,
            author=take(c.author, sel),
        )

        if kind == K_TRAINER:
            if len(c.ds_raw.values):
                first_of_row = np.minimum(c.ds_raw.offsets[:-1][sel], len(c.ds_raw.values) - 1)
                first_ds = take(c.ds_raw.values, first_of_row)
            else:
                first_ds = strings([""] * k)
            ds_phrase = pc.if_else(
                pa.array(c.ds_raw.counts[sel] > 0),
                concat("the ", first_ds, " dataset"),
                "an unknown dataset",
            )
            origin = pc.if_else(
                pa.array(has_parent),
                concat(
                    "This model is a fine-tuned version of [",
                    parent,
                    "](https://huggingface.co/",
                    parent,
                    ") on ",
                    ds_phrase,
                    ".",
                ),
                concat("This model was trained from scratch on ", ds_phrase, "."),
            )
            n_res = np.where(rng.random(k) < 0.35, 0, heavy_count(rng, k, 6, 1.2, 400))
            results = table(
                n_res,
                "| Training Loss | Epoch | Step | Validation Loss |\n"
                "|:-------------:|:-----:|:----:|:---------------:|\n",
                "| {tl} | {ep} | {st} | {vl} |",
                tl=lambda t: decimals(rng.random(t)),
                ep=lambda t: as_text(rng.integers(1, 50, t)),
                st=lambda t: as_text(rng.integers(10, 100000, t)),
                vl=lambda t: decimals(rng.random(t)),
            )
            peft = where(
                c.lib[sel] == LIBRARY_CODE["peft"],
                pick(["- PEFT 0.7.1\n", "- PEFT 0.13.2\n", "- PEFT 0.14.0\n"], k),
            )
            text = render(
                cards_tpl["trainer"],
                k,
                **f,
                origin=origin,
                loss=decimals(rng.random(k)),
                metrics=metrics(k),
                lr=pick(["2e-05", "5e-05", "0.0001", "0.0002", "1e-05", "3e-05"], k),
                bs=pick(["4", "8", "16", "32", "64"], k),
                seed=pick(["42", "42", "42", "0", "1234"], k),
                sched=pick(["linear", "cosine", "constant"], k),
                epochs=pick(["1", "2", "3", "5", "10"], k),
                results=results,
                peft=peft,
                tv=pick(["4.35.2", "4.38.2", "4.41.2", "4.44.2", "4.46.3", "4.48.1"], k),
                ptv=pick(["2.1.0+cu121", "2.3.1+cu121", "2.5.1+cu124"], k),
                dv=pick(["2.15.0", "2.19.1", "3.2.0"], k),
                tokv=pick(["0.15.1", "0.19.1", "0.21.0"], k),
            )
        elif kind in (K_TEMPLATE, K_HUBTEMPLATE, K_PEFT):
            template = {
                K_TEMPLATE: TRANSFORMERS_TEMPLATE,
                K_HUBTEMPLATE: HUB_TEMPLATE,
                K_PEFT: PEFT_TEMPLATE,
            }[kind]
            text = render(
                template,
                k,
                **f,
                title=pc.if_else(pa.array(rng.random(k) < 0.7), "Model ID", f["model_id"]),
                finetuned_from=pc.if_else(
                    pa.array(has_parent), parent, "[More Information Needed]"
                ),
                peftv=pick(["0.7.1", "0.10.0", "0.12.0", "0.13.2", "0.14.0"], k),
            )
        elif kind == K_GGUF:
            fname = pc.replace_substring_regex(pc.utf8_lower(f["name"]), r"-gguf$", "")
            text = render(cards_tpl["gguf"], k, **f, gguf_file=concat(fname, ".gguf"))
        elif kind == K_QTABLE:
            nq = np.minimum(heavy_count(rng, k, 11, 0.35, 30), len(QUANT_TYPES))
            rows = np.repeat(np.arange(k), nq)
            within = np.arange(len(rows)) - offsets(nq)[:-1][rows]
            base = pc.replace_substring_regex(f["name"], DERIVED_SUFFIX, "")
            sizes = concat(
                as_text(rng.integers(1, 80, len(rows))),
                ".",
                as_text(rng.integers(0, 10, len(rows))),
            )
            notes = pick(
                ["", "", "fast, recommended", "very good quality", "best quality", "lower quality"],
                len(rows),
            )
            line = render(
                "| [GGUF](https://huggingface.co/{mid}/resolve/main/{nm}.{qt}.gguf) "
                "| {qt} | {size} | {note} |",
                len(rows),
                mid=take(f["model_id"], rows),
                nm=take(base, rows),
                qt=take(strings(QUANT_TYPES), within),
                size=sizes,
                note=notes,
            )
            text = render(
                cards_tpl["quant_table"],
                k,
                **f,
                base=base,
                qrows=Ragged(offsets(nq), line).join("\n"),
            )
        elif kind == K_MLX:
            text = render(
                cards_tpl["mlx"], k, **f, mlxv=pick(["0.18.2", "0.20.5", "0.21.1", "0.22.0"], k)
            )
        elif kind == K_MERGEKIT:
            prs = c.parents.subset(sel)
            merged = Ragged(
                prs.offsets,
                render("* [{p}](https://huggingface.co/{p})", len(prs.values), p=prs.values),
            )
            weights = decimals(rng.uniform(0.1, 0.9, len(prs.values)), 2)
            config = Ragged(
                prs.offsets,
                render(
                    "  - model: {p}\n    parameters:\n      weight: {w}",
                    len(prs.values),
                    p=prs.values,
                    w=weights,
                ),
            )
            text = render(
                cards_tpl["mergekit"],
                k,
                **f,
                method=pick(MERGE_METHODS, k),
                merged=merged.join("\n"),
                config=config.join("\n"),
            )
        elif kind == K_UNSLOTH:
            text = render(
                cards_tpl["unsloth"],
                k,
                **f,
                what=pick(["", "model", "LoRA"], k),
                license_text=pc.fill_null(take(c.lic_str, sel), "apache-2.0"),
                mtype=pc.fill_null(take(c.mtype_str, sel), "llama"),
            )
        elif kind == K_AUTOTRAIN:
            text = render(
                cards_tpl["autotrain"],
                k,
                **f,
                loss=decimals(rng.random(k)),
                metrics=metrics(k),
                problem=pick(
                    [
                        "Text Classification",
                        "Multi-class Classification",
                        "Text Generation",
                        "Token Classification",
                    ],
                    k,
                ),
            )
        elif kind == K_DREAMBOOTH:
            text = render(
                cards_tpl["dreambooth"],
                k,
                **f,
                token=pick(["sks", "zwx", "ohwx", "TOK"], k),
                subject=pick(["dog", "cat", "person", "man", "woman", "toy", "style"], k),
                flag=pick(["False", "True"], k),
            )
        elif kind == K_SB3:
            text = render(
                cards_tpl["stable_baselines3"],
                k,
                **f,
                algo=pc.utf8_upper(pick(RL_ALGORITHMS, k)),
                env=pick(RL_ENVIRONMENTS, k),
            )
        elif kind == K_ST:
            hp = pa.array(has_parent)
            logs = _rows_text(
                heavy_count(rng, k, 20, 1.5, 3000),
                "| {ep} | {st} | {tl} |",
                ep=lambda t: decimals(rng.random(t)),
                st=lambda t: as_text(rng.integers(1, 50000, t)),
                tl=lambda t: decimals(rng.random(t)),
            )
            origin_long = concat(
                " finetuned from [", parent, "](https://huggingface.co/", parent, ")"
            )
            text = render(
                cards_tpl["sentence_transformers"],
                k,
                **f,
                origin_short=pc.if_else(hp, concat(" based on ", parent), ""),
                origin_long=pc.if_else(hp, origin_long, ""),
                dim=pick(["384", "768", "1024"], k),
                ctx=pick(["128", "256", "512", "8192"], k),
                body=paragraphs(sel, 4, 0.8, 60),
                logs=logs.join("\n"),
                stv=pick(["3.0.1", "3.3.1", "3.4.1"], k),
                tv=pick(["4.44.2", "4.46.3", "4.48.1"], k),
                ptv=pick(["2.3.1+cu121", "2.5.1+cu124"], k),
            )
        elif kind == K_HUMAN:
            text = _human_cards(c, sel, f, has_parent, pick)
        else:  # K_TINY: a header and maybe a title; never an empty file
            bare = pc.equal(f["front"], "")
            titled = pc.or_(bare, pa.array(rng.random(k) < 0.4))
            tail = pc.if_else(titled, concat("\n# ", f["name"], "\n"), "")
            text = concat(f["front"], tail)
        out_parts.append(text.cast(STRING))
        out_pos.append(sel)

    flat = pa.concat_arrays(out_parts + [pa.nulls(1, STRING)])
    gather = np.full(c.n, len(flat) - 1, dtype=np.int64)
    if out_pos:
        pos = np.concatenate(out_pos)
        gather[pos] = np.arange(len(pos))
    return take(flat, gather)


def _human_cards(c: Chunk, sel, f, has_parent, pick) -> pa.Array:
    """Hand-written cards: a title, an intro that names the parent, prose and optional sections.

    Long for big base models, shorter down the tree (the paper's finding)."""
    rng = c.rng
    k = len(sel)
    r = c.rel[sel]
    parent = f["parent"]
    adjective = pick(
        ["new", "small", "compact", "strong", "open", "experimental", "lightweight"], k
    )
    intro = pc.if_else(
        pa.array(r == R_Q),
        concat("Quantized version of [", parent, "](https://huggingface.co/", parent, ")."),
        pc.if_else(
            pa.array(r == R_M),
            concat(f["name"], " is a merge of several models based on ", parent, "."),
            pc.if_else(
                pa.array(has_parent),
                concat(
                    f["name"],
                    " is a fine-tuned version of [",
                    parent,
                    "](https://huggingface.co/",
                    parent,
                    ").",
                ),
                concat(f["name"], " is a ", adjective, " model released by ", f["author"], "."),
            ),
        ),
    )
    big = c.fitness[sel] > 30
    depth = c.depth[sel]
    median = np.where(big, 160, np.select([depth == 0, depth == 1], [16, 7], 4))
    counts = np.minimum(
        np.floor(median * np.exp(1.1 * rng.standard_normal(k))).astype(np.int64), 2500
    )
    body = paragraph_text(c, sel, counts)

    auto = take(strings([AUTO_CLASS.get(a, "") for a in range(len(ARCHETYPES))]), c.arch[sel])
    words = fields_for_names(rng, k)
    snippets = [
        render(
            USAGE_TEMPLATES[key],
            k,
            model_id=f["model_id"],
            parent=parent,
            auto=auto,
            w1=words["w1"],
            w2=words["w2"],
        )
        for key in ("transformers", "diffusers", "peft", "other")
    ]
    lib = c.lib[sel]
    which = np.select(
        [
            lib == LIBRARY_CODE["transformers"],
            lib == LIBRARY_CODE["diffusers"],
            lib == LIBRARY_CODE["peft"],
        ],
        [0, 1, 2],
        3,
    )
    usage = pc.if_else(
        pa.array(which == 0),
        snippets[0],
        pc.if_else(
            pa.array(which == 1),
            snippets[1],
            pc.if_else(pa.array(which == 2), snippets[2], snippets[3]),
        ),
    )
    usage = where(rng.random(k) < np.where(big, 0.9, 0.45), usage)
    train = where(
        rng.random(k) < np.where(big, 0.9, 0.35),
        concat("## Training\n\n", paragraph_text(c, sel, heavy_count(rng, k, 5, 0.8, 120)), "\n\n"),
    )
    n_eval = np.where(rng.random(k) < np.where(big, 0.8, 0.25), heavy_count(rng, k, 6, 0.9, 300), 0)
    benchmarks = strings(SENTENCE_FILL["bench"] + ["accuracy", "f1", "bleu", "rouge-l", "wer"])
    evals = _rows_text(
        n_eval,
        "| {b} | {s} |",
        b=lambda t: take(benchmarks, rng.integers(0, len(benchmarks), t)),
        s=lambda t: decimals(rng.random(t)),
    )
    evals = where(
        n_eval > 0,
        concat("## Evaluation\n\n| Benchmark | Score |\n|---|---|\n", evals.join("\n"), "\n\n"),
    )
    limits = where(
        rng.random(k) < 0.3, take(strings(LIMITATIONS), rng.integers(0, len(LIMITATIONS), k))
    )
    cite_key = pc.utf8_lower(pc.replace_substring_regex(f["name"], r"[^A-Za-z0-9]", ""))
    cite = where(
        rng.random(k) < np.where(big, 0.7, 0.12),
        render(
            CARD_TEMPLATES["citation"],
            k,
            name=f["name"],
            author=f["author"],
            model_id=f["model_id"],
            cite_key=cite_key,
            year=as_text(np.floor(c.year[sel]).astype(np.int64)),
        ),
    )
    title = pc.if_else(pa.array(rng.random(k) < 0.6), f["name"], f["model_id"])
    return render(
        CARD_TEMPLATES["human"],
        k,
        front=f["front"],
        title=title,
        intro=intro,
        body=body,
        sections=concat(usage, train, evals, limits, cite),
    )


def paragraph_text(c: Chunk, sel: np.ndarray, counts: np.ndarray) -> pa.Array:
    """counts[i] domain sentences for row i, in paragraphs of up to four."""
    rng = c.rng
    pools, dom_start, dom_size, _ = sentence_pools()
    dom = _domain_of_archetype()[c.arch[sel]]
    rows = np.repeat(np.arange(len(sel)), counts)
    idx = dom_start[dom][rows] + (rng.random(len(rows)) * dom_size[dom][rows]).astype(np.int64)
    within = np.arange(len(rows)) - np.repeat(offsets(counts)[:-1], counts)
    separator = take(strings([" ", "\n\n"]), (within % 4 == 3).astype(np.int64))
    glued = concat(take(pools, idx), separator)
    return pc.utf8_rtrim_whitespace(Ragged(offsets(counts), glued).join(""))

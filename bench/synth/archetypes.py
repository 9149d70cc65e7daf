"""Archetypes of root models: what kind of model starts a family, and how often.

A root's archetype fixes its pipeline, library and model type (traits.py), its family's
pull on new members (forest.py) and the kind of text its family's cards hold (cards.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Archetype:
    pipeline: str | None
    """The pipeline tag of its roots (None: a root of no task)."""
    libraries: dict[str | None, float]
    """Library of its roots -> probability (None: no library)."""
    model_types: list[str | None]
    """Model types of its roots, equally likely."""
    fitness: float
    """Scale of its roots' Pareto fitness: how strongly they attract descendants."""
    share_2020: float
    """Share of the roots created in 2020 (and before) ..."""
    share_2025: float
    """... and in 2025, linear in between."""


ARCHETYPES = [
    Archetype(
        "text-generation",
        {"transformers": 0.9, None: 0.1},
        [
            "llama",
            "mistral",
            "qwen2",
            "gemma2",
            "phi3",
            "gpt2",
            "gpt_neox",
            "falcon",
            "qwen3",
            "olmo",
        ],
        1.0,
        0.07,
        0.19,
    ),
    Archetype(
        "image-text-to-text",
        {"transformers": 1.0},
        ["llava", "qwen2_vl", "idefics3", "paligemma", "mllama"],
        0.6,
        0.0,
        0.03,
    ),
    Archetype(
        "text-to-image",
        {"diffusers": 0.9, None: 0.1},
        ["stable-diffusion", "stable-diffusion-xl", "flux"],
        0.5,
        0.01,
        0.07,
    ),
    Archetype(
        "text-classification",
        {"transformers": 0.95, None: 0.05},
        ["bert", "roberta", "distilbert", "deberta-v2", "xlm-roberta", "electra"],
        0.08,
        0.15,
        0.075,
    ),
    Archetype(
        "token-classification",
        {"transformers": 0.95, None: 0.05},
        ["bert", "roberta", "distilbert", "xlm-roberta"],
        0.05,
        0.07,
        0.03,
    ),
    Archetype(
        "fill-mask",
        {"transformers": 1.0},
        ["bert", "roberta", "xlm-roberta", "camembert", "deberta-v2"],
        0.12,
        0.06,
        0.015,
    ),
    Archetype(
        "text2text-generation",
        {"transformers": 1.0},
        ["t5", "mt5", "bart", "pegasus"],
        0.08,
        0.08,
        0.02,
    ),
    Archetype("translation", {"transformers": 1.0}, ["marian", "t5", "m2m_100"], 0.04, 0.03, 0.008),
    Archetype(
        "automatic-speech-recognition",
        {"transformers": 0.9, None: 0.1},
        ["whisper", "wav2vec2"],
        0.1,
        0.06,
        0.04,
    ),
    Archetype(
        "sentence-similarity",
        {"sentence-transformers": 1.0},
        ["bert", "xlm-roberta", "mpnet", "new"],
        0.15,
        0.01,
        0.035,
    ),
    Archetype(
        "feature-extraction",
        {"transformers": 0.8, None: 0.2},
        ["bert", "roberta", "clip"],
        0.05,
        0.02,
        0.02,
    ),
    Archetype(
        "image-classification",
        {"transformers": 0.65, "timm": 0.3, "keras": 0.05},
        ["vit", "convnext", "resnet", "swin", "efficientnet"],
        0.05,
        0.015,
        0.025,
    ),
    Archetype(
        "object-detection",
        {"transformers": 0.5, "ultralytics": 0.5},
        ["detr", "yolos", "yolov8"],
        0.03,
        0.005,
        0.01,
    ),
    Archetype(
        "reinforcement-learning",
        {"stable-baselines3": 0.6, "ml-agents": 0.2, "sample-factory": 0.1, None: 0.1},
        [None],
        0.002,
        0.035,
        0.03,
    ),
    Archetype(
        "question-answering",
        {"transformers": 1.0},
        ["bert", "roberta", "distilbert", "deberta-v2"],
        0.03,
        0.03,
        0.01,
    ),
    Archetype(
        "text-to-speech",
        {"transformers": 0.5, None: 0.5},
        ["vits", "speecht5", "parler_tts"],
        0.05,
        0.005,
        0.01,
    ),
    Archetype(
        None,
        {
            None: 0.55,
            "transformers": 0.25,
            "keras": 0.05,
            "onnx": 0.05,
            "pytorch": 0.05,
            "sklearn": 0.05,
        },
        [None],
        0.01,
        0.33,
        0.34,
    ),
    Archetype("text-to-video", {"diffusers": 1.0}, ["cogvideox", "wan"], 0.3, 0.0, 0.005),
    Archetype("summarization", {"transformers": 1.0}, ["bart", "t5", "pegasus"], 0.03, 0.02, 0.005),
    Archetype("tabular-classification", {"sklearn": 0.7, None: 0.3}, [None], 0.005, 0.01, 0.005),
]
# archetype name (its pipeline, or "misc" for the one of no task) -> index in ARCHETYPES
ARCHETYPE_CODE = {(a.pipeline or "misc"): i for i, a in enumerate(ARCHETYPES)}

A_LLM = ARCHETYPE_CODE["text-generation"]
A_VLM = ARCHETYPE_CODE["image-text-to-text"]
A_T2I = ARCHETYPE_CODE["text-to-image"]
A_T2V = ARCHETYPE_CODE["text-to-video"]
A_RL = ARCHETYPE_CODE["reinforcement-learning"]
A_ST = ARCHETYPE_CODE["sentence-similarity"]
A_MISC = ARCHETYPE_CODE["misc"]
A_ASR = ARCHETYPE_CODE["automatic-speech-recognition"]
A_TTS = ARCHETYPE_CODE["text-to-speech"]
A_TRANSLATION = ARCHETYPE_CODE["translation"]
A_FEATURES = ARCHETYPE_CODE["feature-extraction"]
A_IMG_CLS = ARCHETYPE_CODE["image-classification"]
A_DETECTION = ARCHETYPE_CODE["object-detection"]
A_TEXT_CLS = ARCHETYPE_CODE["text-classification"]
A_TOKEN_CLS = ARCHETYPE_CODE["token-classification"]
A_FILL_MASK = ARCHETYPE_CODE["fill-mask"]
A_T2T = ARCHETYPE_CODE["text2text-generation"]
A_QA = ARCHETYPE_CODE["question-answering"]
A_SUMMARY = ARCHETYPE_CODE["summarization"]
A_TABULAR = ARCHETYPE_CODE["tabular-classification"]

TEXT_GENERATION = (A_LLM, A_VLM)
IMAGE_GENERATION = (A_T2I, A_T2V)


def family_group(archetype: np.ndarray) -> np.ndarray:
    """0 for text-generation families, 1 for image/video generation, 2 for the rest."""
    return np.where(
        np.isin(archetype, TEXT_GENERATION), 0, np.where(np.isin(archetype, IMAGE_GENERATION), 1, 2)
    )

"""Model card features: length, a readable excerpt, and whether it looks auto-generated.

The paper finds that cards shorten and standardize down a family tree, turning to
templates and tool-written text; these features measure that per model without
keeping whole cards in memory.
"""

from __future__ import annotations

import re

from pipeline.schema import CARD_EXCERPT_CHARS

# Phrases written by tools, not people: the Trainer/Keras callbacks, the Hub's
# default card template, AutoTrain, GGUF-my-repo, mlx-lm, mergekit, Unsloth and
# sentence-transformers' generated cards.
AUTO_GENERATED_MARKERS = (
    "this model card has been generated automatically",
    "this model card has been automatically generated",
    "this modelcard aims to be a base template for new models",
    "<!-- provide a quick summary of what the model is/does. -->",
    "[more information needed]",
    "model trained using autotrain",
    "this model was trained using autotrain",
    "using llama.cpp via the ggml.ai's gguf-my-repo space",
    "this model was converted to mlx format from",
    "this is a merge of pre-trained language models created using [mergekit]",
    "was trained 2x faster with [unsloth]",
    "this is a [sentence-transformers](https://www.sbert.net) model",
)

_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---\s*\n.*?\n---\s*(?:\n|\Z)", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


def card_body(card: str) -> str:
    """The card without its YAML front matter (the metadata header)."""
    return _FRONT_MATTER.sub("", card, count=1)


def card_excerpt(card: str) -> str | None:
    """The first CARD_EXCERPT_CHARS characters of the card body, whitespace collapsed (None if empty)."""
    return _WHITESPACE.sub(" ", card_body(card)[: CARD_EXCERPT_CHARS * 2]).strip()[:CARD_EXCERPT_CHARS] or None


def looks_auto_generated(card: str) -> bool:
    """True when the card carries a known tool-written template phrase."""
    lowered = card.lower()
    return any(marker in lowered for marker in AUTO_GENERATED_MARKERS)

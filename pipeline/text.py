"""The text embedded per model: its id as words, its tags, task, library and card start.

Built with vectorized Arrow string kernels (RE2 regexes, list flattening), so the
whole Hub (~1.9M models) takes seconds rather than minutes of per-row Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

CARD_TEXT_CHARS = 500

# How these texts split into words for TF-IDF and cluster labels: runs of word
# characters, keeping tags that hold - or . inside whole ("text-generation",
# "apache-2.0", "q4_k_m") but not a sentence's trailing dot.
TOKEN_PATTERN = r"(?u)\w+(?:[-.]\w+)*"

# Tags that are bookkeeping, not description: lineage (already its own view),
# where the repo is stored, paper and DOI identifiers.
DROPPED_TAG_PREFIXES = ("base_model:", "region:", "arxiv:", "doi:")
# Tags whose value is descriptive but whose prefix is noise: keep "apache-2.0",
# not "license:apache-2.0".
STRIPPED_TAG_PREFIXES = ("license:", "dataset:")

# Template placeholders in card text say nothing about the model (and would name
# a cluster "information, needed"): the Hub and Trainer templates' filler and HTML comments.
CARD_PLACEHOLDERS = r"(?i)\[?more information needed\]?|<!--.*?-->"

_DROPPED_TAG = "^(?:" + "|".join(p.rstrip(":") for p in DROPPED_TAG_PREFIXES) + "):"
_STRIPPED_TAG = "^(?:" + "|".join(p.rstrip(":") for p in STRIPPED_TAG_PREFIXES) + "):"


def id_words(model_ids: pa.Array) -> pa.Array:
    """Model ids split into words on / - _ . and camelCase / letter-digit boundaries.

    "meta-llama/Llama-2-7b-chat-hf" -> "meta llama Llama 2 7b chat hf";
    "TheBloke/GPTNeoX-20B" -> "The Bloke GPT Neo X 20B"; "gpt2" -> "gpt 2". A word
    starting with a digit stays whole so sizes ("7b", "8x7B") survive.
    """
    words = pc.fill_null(model_ids, "")
    words = pc.replace_substring_regex(words, r"([a-z])([A-Z])", r"\1 \2")  # camelCase
    words = pc.replace_substring_regex(words, r"([A-Z]+)([A-Z][a-z])", r"\1 \2")  # GPTNeo
    words = pc.replace_substring_regex(words, r"[/\-_.\s]+", " ")
    words = pc.replace_substring_regex(words, r"\b([A-Za-z]+)([0-9])", r"\1 \2")  # gpt2, not 8x7B
    return pc.utf8_trim_whitespace(words)


def tag_words(tags: pa.Array) -> pa.Array:
    """Each model's descriptive tags joined by spaces (machinery tags dropped or unprefixed)."""
    tags = pc.fill_null(tags, pa.scalar([], tags.type))
    values = pc.list_flatten(tags)
    owners = pc.list_parent_indices(tags)
    keep = pc.invert(pc.match_substring_regex(values, _DROPPED_TAG))
    keep = pc.fill_null(keep, False)
    values = pc.replace_substring_regex(pc.filter(values, keep), _STRIPPED_TAG, "")
    owners = pc.filter(owners, keep).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(tags) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owners, minlength=len(tags)), out=offsets[1:])
    kept = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return pc.binary_join(kept, " ")


def model_text(models: pd.DataFrame, chunk_rows: int = 200_000) -> list[str]:
    """One text per model (input order): id words, tags, pipeline tag, library, card start.

    Works through chunk_rows rows at a time so Arrow's intermediate string
    arrays stay small next to the list of texts returned.
    """
    texts: list[str] = []
    for start in range(0, len(models), chunk_rows):
        texts.extend(_chunk_text(models.iloc[start : start + chunk_rows]))
    return texts


def _chunk_text(models: pd.DataFrame) -> list[str]:
    card = pc.replace_substring_regex(_arrow(models["card_excerpt"], pa.string()), CARD_PLACEHOLDERS, " ")
    card = pc.utf8_slice_codeunits(card, 0, CARD_TEXT_CHARS)
    parts = [
        id_words(_arrow(models["model_id"], pa.string())),
        tag_words(_arrow(models["tags"], pa.list_(pa.string()))),
        _arrow(models["pipeline_tag"], pa.string()),
        _arrow(models["library_name"], pa.string()),
        card,
    ]
    parts = [pc.fill_null(part, "") for part in parts]
    text = pc.binary_join_element_wise(*parts, " ")
    text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s{2,}", " "))
    return text.to_pylist()


def _arrow(column: pd.Series, arrow_type: pa.DataType) -> pa.Array:
    """A DataFrame column (Arrow-backed or plain objects) as one contiguous Arrow array."""
    array = pa.array(column, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(arrow_type) if array.type != arrow_type else array

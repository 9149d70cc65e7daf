"""The text embedded per model: its id as words, its tags, task, library and card start.

Built with vectorized Arrow string kernels (RE2 regexes, list flattening), so the
whole Hub (~1.9M models) takes seconds rather than minutes of per-row Python. A text's
key (text_keys) is what the embedding cache and incremental builds compare; the row
store (pipeline.sources.row_store) keeps each stored row's key, so a rebuild computes
the texts of new rows only (ModelTexts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from pipeline.build_format import list_array

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
    return pc.binary_join(list_array(owners, values, len(tags)), " ")


def model_text(models: pd.DataFrame, chunk_rows: int = 200_000) -> list[str]:
    """One text per model (input order): id words, tags, pipeline tag, library, card start.

    Works through chunk_rows rows at a time so Arrow's intermediate string
    arrays stay small next to the list of texts returned.
    """
    texts: list[str] = []
    for start in range(0, len(models), chunk_rows):
        texts.extend(_chunk_text(models.iloc[start : start + chunk_rows]))
    return texts


def table_text(table: pa.Table) -> list[str]:
    """model_text of an Arrow table of models (MODEL_SCHEMA columns), one text per row."""
    return _chunk_text({name: table.column(name) for name in TEXT_COLUMNS})


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """xxh3-64 of each text's UTF-8 bytes as uint64 (collisions: ~1e-7 odds at 2M texts)."""
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass")) for text in texts),
        dtype=np.uint64,
        count=len(texts),
    )


class ModelTexts(Sequence):
    """The texts of a models table, each computed (model_text) only when first asked for; texts
    known already (a read gives those of the rows it parsed) are given as a list, None where
    not known. A rebuild whose other texts are in the embedding cache computes no more."""

    def __init__(self, models: pd.DataFrame, known: list[str | None] | None = None) -> None:
        self.models = models
        self.texts = list(known) if known is not None else [None] * len(models)
        if len(self.texts) != len(models):
            raise ValueError(f"{len(self.texts)} texts for {len(models)} models")

    def __len__(self) -> int:
        return len(self.texts)

    def at(self, rows) -> list[str]:
        """The texts of rows (positions), the unknown ones computed together."""
        rows = np.asarray(rows, dtype=np.int64).tolist()
        missing = sorted({row for row in rows if self.texts[row] is None})
        if missing:
            for row, text in zip(missing, model_text(self.models.iloc[missing])):
                self.texts[row] = text
        return [self.texts[row] for row in rows]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.at(range(len(self))[index])
        return self.at([index])[0]

    def __iter__(self):
        return iter(self.at(range(len(self))))


TEXT_COLUMNS = ("model_id", "tags", "pipeline_tag", "library_name", "card_excerpt")


def _chunk_text(models) -> list[str]:
    """The texts of a DataFrame or of {column: Arrow array} holding TEXT_COLUMNS."""
    card = pc.replace_substring_regex(
        _arrow(models["card_excerpt"], pa.string()), CARD_PLACEHOLDERS, " "
    )
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


def _arrow(column, arrow_type: pa.DataType) -> pa.Array:
    """A DataFrame column (Arrow-backed or plain objects) or an Arrow (chunked) array as one
    contiguous Arrow array."""
    is_arrow = isinstance(column, (pa.Array, pa.ChunkedArray))
    array = column if is_arrow else pa.array(column, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(arrow_type) if array.type != arrow_type else array

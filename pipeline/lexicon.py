"""Which models carry which words, for free-text search beside the embeddings.

A model carries the words of its id ("kotoba-tech/kotoba-whisper-v1.0": kotoba, tech, whisper, ...),
its tags whole and split into words ("automatic-speech-recognition": also automatic, speech,
recognition) and the English names of its languages ("japanese" for the tag "ja"). A query's
words are weighted by their rarity (idf) and a model scores the weighted share of them it carries;
a word that no model carries weighs most.

Why: a TF-IDF build embeds in 64 SVD dimensions, which keep the directions of words many models
share (whisper, llama, automatic-speech-recognition) and lose rarer ones: on the real listing
"japanese" keeps 2.5% of its length, "speech" 4.5%, so "whisper japanese" embeds as "whisper".
The words a model carries are matched exactly, whatever the embedder.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from pipeline.sources.language_codes import LANGUAGE_NAMES
from pipeline.text import DROPPED_TAG_PREFIXES, STRIPPED_TAG_PREFIXES, TOKEN_PATTERN

# A query's first words that are matched (each is a pass over the models' words: ~20 ms at 760k).
MAX_QUERY_TERMS = 16
# A tag's or an id's words: split on - _ . / : and spaces.
WORD_SEPARATORS = r"[-_./:\s]+"
_DROPPED = "^(?:" + "|".join(prefix.rstrip(":") for prefix in DROPPED_TAG_PREFIXES) + "):"
_STRIPPED = "^(?:" + "|".join(prefix.rstrip(":") for prefix in STRIPPED_TAG_PREFIXES) + "):"


class Lexicon:
    """The words each model of a build carries (its id's, its tags', its languages' names), looked
    up by word: ``carriers(word)`` is a mask of the models, ``share(text)`` each model's weighted
    share of a query's words."""

    def __init__(self, model_ids: pa.Array, tags: pa.Array) -> None:
        self.size = len(model_ids)
        tags = pc.fill_null(tags, pa.scalar([], tags.type))
        self._tags, self._tag_offsets, tag_names = _index(tags)
        self._tag_count = len(tag_names)
        self._tag_words: dict[str, list[int]] = {}  # word -> the distinct tags holding it
        for number, tag in enumerate(tag_names.to_pylist()):
            for word in _tag_words(tag):
                self._tag_words.setdefault(word, []).append(number)
        ids = pc.utf8_lower(pc.fill_null(model_ids, ""))
        self._ids, self._id_offsets, self._id_words = _index(
            pc.split_pattern_regex(ids, WORD_SEPARATORS)
        )  # the ids' distinct words, kept in Arrow: 400k of them at 760k models

    def carriers(self, word: str) -> npt.NDArray[np.bool_]:
        """Whether each model carries word (lower case) in its id, its tags or its languages."""
        mask = np.zeros(self.size, dtype=bool)
        tags = self._tag_words.get(word)
        if tags:
            wanted = np.zeros(self._tag_count, dtype=bool)
            wanted[tags] = True
            mask[_rows(self._tag_offsets, np.flatnonzero(wanted[self._tags]))] = True
        number = self._id_word(word)
        if number is not None:
            mask[_rows(self._id_offsets, np.flatnonzero(self._ids == number))] = True
        return mask

    def terms(self, text: str) -> list[str]:
        """The query's first MAX_QUERY_TERMS words, each once: its tokens (TOKEN_PATTERN, lower
        case, English stop words dropped), a token that no model carries whole replaced by its
        words ("speech-recognition": speech, recognition)."""
        terms: list[str] = []
        for token in re.finditer(TOKEN_PATTERN, text.lower()):
            if len(terms) >= MAX_QUERY_TERMS:
                break
            word = token.group()
            parts = [word] if self._known(word) else re.split(WORD_SEPARATORS, word)
            for part in parts:
                if part and part not in ENGLISH_STOP_WORDS and part not in terms:
                    terms.append(part)
        return terms[:MAX_QUERY_TERMS]

    def share(self, text: str) -> npt.NDArray[np.float32] | None:
        """Each model's share of the query's words, each word weighted by its smoothed idf
        (ln((1 + models) / (1 + carriers)) + 1, as scikit-learn's): a word no model carries
        weighs most and lowers every share ("a model that writes poems" is not answered in full
        by the models named "model"); None when no model carries any word of text."""
        terms = self.terms(text)
        if not any(self._known(term) for term in terms):
            return None
        share = np.zeros(self.size, dtype=np.float32)
        total = 0.0
        for term in terms:
            carried = self.carriers(term)
            weight = float(np.log((1 + self.size) / (1 + carried.sum())) + 1)
            share[carried] += weight
            total += weight
        share /= total
        return share

    def _known(self, word: str) -> bool:
        return word in self._tag_words or self._id_word(word) is not None

    def _id_word(self, word: str) -> int | None:
        """The number of word among the ids' words, None when no id holds it."""
        number = pc.index(self._id_words, word).as_py() if word else -1
        return number if number >= 0 else None


def _tag_words(tag: str) -> set[str]:
    """The words a tag gives its models: none for a bookkeeping tag (base_model:, region:, ...),
    else the tag (its license: or dataset: prefix dropped) whole, its words and, for a language
    code, the language's names."""
    tag = tag.lower()
    if re.match(_DROPPED, tag):
        return set()
    tag = re.sub(_STRIPPED, "", tag)
    words = {tag, *re.split(WORD_SEPARATORS, tag), *LANGUAGE_NAMES.get(tag, ())}
    return {word for word in words if word}


def _index(lists: pa.Array) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], pa.Array]:
    """A list array's values as numbers into their distinct values, each list's first position
    (len(lists) + 1 offsets) and the distinct values."""
    offsets = lists.offsets.to_numpy().astype(np.int64)
    encoded = pc.dictionary_encode(pc.list_flatten(lists))
    numbers = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    return numbers, offsets - offsets[0], encoded.dictionary


def _rows(
    offsets: npt.NDArray[np.int64], positions: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The model of each position, from the models' first positions."""
    return np.searchsorted(offsets, positions, side="right") - 1

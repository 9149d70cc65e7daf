"""Family resemblance (paper §"genetic similarity"): how alike the two models of a pair are.

Four measures per pair, each a similarity in [0, 1] (cosines can be negative for embeddings):

- metadata_levenshtein: rapidfuzz's normalized Levenshtein similarity, 1 - distance / longer
  length, of a canonical text of the model's traits (tags, licenses, languages, pipeline,
  library, data sets; each sorted). Two empty texts are 1, one empty text 0 (as the paper's code).
- card_tfidf: cosine of TF-IDF vectors (word 1- and 2-grams, the 512 most frequent over the
  pairs' cards, smoothed idf, l2-normalized: scikit-learn's TfidfVectorizer defaults) of the
  start of the card body, over pairs where both cards have at least 512 characters and neither
  is auto-generated. Deviations from the paper: the text is the build's ``card_excerpt`` (the
  card body's first 512 characters with whitespace runs collapsed to one space); and the
  vocabulary and idf are fitted on the cards of the sampled pairs (all configurations
  together), not on every card of the build (which would cost minutes at 760k models).
- tags_jaccard: |A ∩ B| / |A ∪ B| of the tag sets; pairs where both have no tag are left out.
- embedding_cosine: cosine of the build's own embeddings (embeddings.npy); zero vectors are left
  out.

Lineage tags (``base_model:...``) are left out of the metadata text and the tag sets: they name
the parent, so siblings would share one by construction and parent and child never would; the
measures are meant to compare traits, not the links being studied.

For each measure: the mean over the pairs and its 95% percentile bootstrap interval (10,000
resamples of the pairs, vectorized; the paper's code does the same one resample at a time).
Series of the same length share one matrix of resamples (seeded by the seed and the length).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from findings.pairs import PairSample

__all__ = [
    "CARD_MIN_CHARS",
    "LINEAGE_TAG_PREFIX",
    "MEASURED_COLUMNS",
    "MEASURES",
    "RESAMPLES",
    "TFIDF_FEATURES",
    "PairMeasures",
    "canonical_text",
    "mean_interval",
    "measure_pairs",
    "pair_similarities",
    "resample_rows",
    "tfidf_vectors",
]

MEASURES = ("metadata_levenshtein", "card_tfidf", "tags_jaccard", "embedding_cosine")
CARD_MIN_CHARS = 512
TFIDF_FEATURES = 512
RESAMPLES = 10_000
LINEAGE_TAG_PREFIX = "base_model:"
_TRAIT_FIELDS = ("tags", "licenses", "languages", "pipeline_tag", "library_name", "datasets")
# the models table's columns the measures read
MEASURED_COLUMNS = (*_TRAIT_FIELDS, "card_length", "card_excerpt", "card_auto_generated")
_BLOCK = 1000
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _listed(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(item) for item in value if item]


def _traits_of(record: dict) -> dict[str, list[str]]:
    traits = {name: _listed(record.get(name)) for name in _TRAIT_FIELDS}
    traits["tags"] = [tag for tag in traits["tags"] if not tag.startswith(LINEAGE_TAG_PREFIX)]
    return traits


def canonical_text(record: dict) -> str:
    """The model's traits as one text: each field's values sorted and joined by ",", the fields
    (tags, licenses, languages, pipeline, library, data sets) joined by "|"; "" when it has none."""
    return _text_of(_traits_of(record))


def _text_of(traits: dict[str, list[str]]) -> str:
    parts = [",".join(sorted(values)) for values in traits.values()]
    return "|".join(parts) if any(parts) else ""


def _ngrams(text: str) -> list[str]:
    words = _TOKEN.findall(text.lower())
    return words + [f"{first} {second}" for first, second in zip(words, words[1:], strict=False)]


def tfidf_vectors(texts: list[str], features: int = TFIDF_FEATURES) -> np.ndarray:
    """L2-normalized TF-IDF rows of ``texts`` over the ``features`` most frequent 1-2-grams
    (ties by the n-gram), idf = ln((1 + n) / (1 + df)) + 1."""
    counted = [Counter(_ngrams(text)) for text in texts]
    frequency: Counter[str] = Counter()
    for counts in counted:
        frequency.update(counts)
    vocabulary = sorted(frequency, key=lambda gram: (-frequency[gram], gram))[:features]
    column = {gram: place for place, gram in enumerate(vocabulary)}
    matrix = np.zeros((len(texts), len(vocabulary)), np.float64)
    for row, counts in enumerate(counted):
        for gram, times in counts.items():
            if gram in column:
                matrix[row, column[gram]] = times
    document_frequency = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(texts)) / (1 + document_frequency)) + 1
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def resample_rows(count: int, seed: int | list[int] = 0, resamples: int = RESAMPLES) -> np.ndarray:
    """``resamples`` bootstrap resamples of ``count`` values: rows of positions, drawn with
    replacement (one matrix serves every series of that length: drawing is half the cost)."""
    rng = np.random.default_rng(seed)
    return rng.integers(
        0, count, size=(resamples, count), dtype=np.int16 if count < 2**15 else np.int64
    )


def resampled_means(series: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """The means of each column of ``series`` (count x columns) over each resample of ``drawn``
    (resamples x count positions): how often a resample drew each position, times the values,
    block by block, so every series of one length costs one matrix product."""
    resamples, count = drawn.shape
    means = np.empty((resamples, series.shape[1]))
    for start in range(0, resamples, _BLOCK):
        block = drawn[start : start + _BLOCK].astype(np.int64)
        offsets = np.arange(len(block), dtype=np.int64)[:, None] * count
        times = np.bincount((block + offsets).ravel(), minlength=len(block) * count)
        means[start : start + len(block)] = times.reshape(len(block), count) @ series / count
    return means


def mean_intervals(
    series: list[np.ndarray],
    seed: int | list[int] = 0,
    resamples: int = RESAMPLES,
    drawn: np.ndarray | None = None,
) -> list[dict]:
    """mean_interval of each of ``series`` (all of one length), on the same resamples."""
    count = len(series[0]) if series else 0
    if count == 0:
        return [{"mean": None, "ci_low": None, "ci_high": None, "pairs": 0} for _ in series]
    if drawn is None:
        drawn = resample_rows(count, seed, resamples)
    stacked = np.column_stack([np.asarray(values, dtype=np.float64) for values in series])
    low, high = np.percentile(resampled_means(stacked, drawn), [2.5, 97.5], axis=0)
    return [
        {
            "mean": float(stacked[:, column].mean()),
            "ci_low": float(low[column]),
            "ci_high": float(high[column]),
            "pairs": count,
        }
        for column in range(stacked.shape[1])
    ]


def mean_interval(
    values: np.ndarray,
    seed: int | list[int] = 0,
    resamples: int = RESAMPLES,
    drawn: np.ndarray | None = None,
) -> dict:
    """{"mean", "ci_low", "ci_high", "pairs"}: the mean of ``values`` and the 2.5 and 97.5
    percentiles of the means of ``resamples`` bootstrap resamples (None when there is no value).
    ``drawn``: the resamples to use (``resample_rows(len(values), ...)``), else drawn here."""
    return mean_intervals([np.asarray(values)], seed, resamples, drawn)[0]


class PairMeasures:
    """The four similarities of pairs of rows of one build. Built once for every row any sample
    uses, so the TF-IDF vocabulary is shared by all configurations."""

    def __init__(self, models: pa.Table, embeddings: np.ndarray | None, rows: np.ndarray):
        self.rows = np.unique(np.asarray(rows, dtype=np.int64))
        self.position = {int(row): place for place, row in enumerate(self.rows)}
        records = models.select(list(MEASURED_COLUMNS)).take(pa.array(self.rows)).to_pylist()
        traits = [_traits_of(record) for record in records]
        self.texts = [_text_of(each) for each in traits]
        self.tags = [frozenset(each["tags"]) for each in traits]
        self.card_ok = np.array(
            [
                (record["card_length"] or 0) >= CARD_MIN_CHARS
                and not record["card_auto_generated"]
                and bool(record["card_excerpt"])
                for record in records
            ],
            dtype=bool,
        )
        cards = [record["card_excerpt"] or "" for record in records]
        eligible = np.flatnonzero(self.card_ok)
        self.card_vectors = np.zeros((len(records), 0))
        if len(eligible):
            vectors = tfidf_vectors([cards[place] for place in eligible])
            self.card_vectors = np.zeros((len(records), vectors.shape[1]))
            self.card_vectors[eligible] = vectors
        self.embeddings = None
        if embeddings is not None:
            self.embeddings = np.asarray(embeddings[self.rows], dtype=np.float64)

    def _places(self, rows: np.ndarray) -> np.ndarray:
        return np.array([self.position[int(row)] for row in rows], dtype=np.int64)

    def similarities(self, sample: PairSample) -> dict[str, np.ndarray | None]:
        """Each measure's similarities over the pairs of ``sample`` it applies to (None: the
        measure cannot be computed, e.g. no embeddings)."""
        first, second = self._places(sample.first), self._places(sample.second)
        return {
            "metadata_levenshtein": self._levenshtein(first, second),
            "card_tfidf": self._cards(first, second),
            "tags_jaccard": self._jaccard(first, second),
            "embedding_cosine": self._cosine(first, second),
        }

    def _levenshtein(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        if not len(first):
            return np.empty(0)
        return np.asarray(
            process.cpdist(
                [self.texts[place] for place in first],
                [self.texts[place] for place in second],
                scorer=Levenshtein.normalized_similarity,
                workers=1,
            ),
            dtype=np.float64,
        )

    def _cards(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        both = self.card_ok[first] & self.card_ok[second]
        left, right = self.card_vectors[first[both]], self.card_vectors[second[both]]
        return np.einsum("ij,ij->i", left, right)

    def _jaccard(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        values = []
        for one, other in zip(first, second, strict=True):
            union = len(self.tags[one] | self.tags[other])
            if union:
                values.append(len(self.tags[one] & self.tags[other]) / union)
        return np.asarray(values, dtype=np.float64)

    def _cosine(self, first: np.ndarray, second: np.ndarray) -> np.ndarray | None:
        if self.embeddings is None:
            return None
        norms = np.linalg.norm(self.embeddings, axis=1)
        both = (norms[first] > 0) & (norms[second] > 0)
        first, second = first[both], second[both]
        dots = np.einsum("ij,ij->i", self.embeddings[first], self.embeddings[second])
        return dots / (norms[first] * norms[second])


def pair_similarities(
    models: pa.Table, embeddings: np.ndarray | None, first: int, second: int
) -> dict[str, float | None]:
    """Each measure's similarity of the one pair of rows ``first`` and ``second`` (the dashboard's
    comparison of two models), by PairMeasures as for sampled pairs; None where the measure leaves
    the pair out (a card too short or auto-generated, no tag on either, a zero or no embedding).
    The TF-IDF vocabulary and idf are fitted on the pair's two cards alone."""
    measures = PairMeasures(models, embeddings, np.array([first, second]))
    sample = PairSample(np.array([first]), np.array([second]), 1)
    return {
        measure: float(values[0]) if values is not None and len(values) else None
        for measure, values in measures.similarities(sample).items()
    }


def measure_pairs(
    models: pa.Table,
    embeddings: np.ndarray | None,
    samples: dict[str, PairSample],
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> dict[str, dict[str, dict]]:
    """resemblance[configuration][measure] = {"mean", "ci_low", "ci_high", "pairs"}."""
    used = [sample.first for sample in samples.values()] + [
        sample.second for sample in samples.values()
    ]
    rows = np.concatenate(used) if used else np.empty(0, np.int64)
    measures = PairMeasures(models, embeddings, rows)
    series = {}
    for name, sample in samples.items():
        found = measures.similarities(sample)
        for measure in MEASURES:
            series[name, measure] = np.empty(0) if found[measure] is None else found[measure]
    intervals = {}
    for count in sorted({len(values) for values in series.values()}):
        drawn = resample_rows(count, [seed, count], resamples) if count else None
        keys = [key for key, values in series.items() if len(values) == count]
        found = mean_intervals([series[key] for key in keys], resamples=resamples, drawn=drawn)
        intervals.update(zip(keys, found, strict=True))
    return {name: {measure: intervals[name, measure] for measure in MEASURES} for name in samples}

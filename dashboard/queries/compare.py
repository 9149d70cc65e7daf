"""Two models side by side (issue 16): their traits with the differences found, their similarity
by each measure of the Evolution view, and the values those measures typically take in the build.

The lists (licenses, languages, tags, data sets) are the details card's (model_lists.card_lists:
each value once, prefixed tags counted in their field); every value is compared as the text the
card shows. The similarities come from findings.resemblance, the code the Evolution view's
findings use, for this one pair; the typical values are the means the build's stored findings
give for each configuration of pairs (parent-child, siblings, …).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from dashboard.model_lists import card_lists
from dashboard.queries.findings import stored_findings
from dashboard.queries.lineage_path import LineagePath, rows_path
from dashboard.shown import count_text
from findings.resemblance import MEASURED_COLUMNS, MEASURES, pair_similarities

TRAITS = (  # the traits compared, in the order shown
    "licenses",
    "languages",
    "pipeline",
    "library",
    "tags",
    "data sets",
    "card length",
    "auto-generated card",
    "author",
    "created",
    "downloads",
    "likes",
    "family",
    "depth",
)
LISTS = {"licenses": "licenses", "languages": "languages", "tags": "tags", "data sets": "datasets"}
# (a list trait: its list in the details card, model_lists.card_lists)
UNKNOWN = "unknown"
# the configurations of pairs whose typical similarity is shown beside the pair's, closest first
TYPICAL = ("parent_child", "siblings", "same_family", "different_families")


@cache_value_type
@dataclass(frozen=True)
class Trait:
    """One trait of the two models: its values in a and in b (one value for a single-valued
    trait; each value once for a list, whose values are compared case aside, as the details card
    lists them: "MIT" is "mit"), and whether a list trait."""

    name: str
    a: list[str]
    b: list[str]
    listed: bool = False

    @property
    def differ(self) -> bool:
        return bool(self.only_a or self.only_b) if self.listed else self.a != self.b

    @property
    def only_a(self) -> list[str]:
        return _not_in(self.a, self.b)

    @property
    def only_b(self) -> list[str]:
        return _not_in(self.b, self.a)

    @property
    def both(self) -> list[str]:
        """The values both have, as a writes them."""
        other = {value.lower() for value in self.b}
        return [value for value in self.a if value.lower() in other]


def _not_in(values: list[str], other: list[str]) -> list[str]:
    lower = {value.lower() for value in other}
    return [value for value in values if value.lower() not in lower]


@cache_value_type
@dataclass(frozen=True)
class Comparison:
    """Two models of a build compared: their traits, their similarity by each measure (None: the
    measure leaves this pair out) and the path between them through their closest common
    ancestor (lineage_path.rows_path)."""

    a: str
    b: str
    traits: list[Trait]
    similarity: dict[str, float | None]
    path: LineagePath

    @property
    def differing(self) -> int:
        return sum(trait.differ for trait in self.traits)


def card_length_text(record: dict[str, Any]) -> str:
    """The card's length as the comparison shows it: unknown where the source said nothing of
    cards."""
    if record.get("has_card") is None:
        return UNKNOWN
    if not record["has_card"]:
        return "no card"
    length = record.get("card_length")
    return "a card" if length is None else f"{count_text(length)} characters"


def auto_generated_text(record: dict[str, Any]) -> str:
    auto = record.get("card_auto_generated")
    if not record.get("has_card"):
        return "no card" if record.get("has_card") is False else UNKNOWN
    return UNKNOWN if auto is None else "yes" if auto else "no"


def single_values(record: dict[str, Any]) -> dict[str, str]:
    """The single-valued traits of a model as text ("unknown" where the source did not say)."""
    created = record.get("created_at")
    return {
        "pipeline": record.get("pipeline_tag") or UNKNOWN,
        "library": record.get("library_name") or UNKNOWN,
        "card length": card_length_text(record),
        "auto-generated card": auto_generated_text(record),
        "author": record.get("author") or UNKNOWN,
        "created": UNKNOWN
        if created is None
        else datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d"),
        "downloads": count_text(record.get("downloads")),
        "likes": count_text(record.get("likes")),
        "family": record.get("root_id") or UNKNOWN,
        "depth": UNKNOWN if record.get("depth") is None else str(record["depth"]),
    }


def compare_traits(a: dict[str, Any], b: dict[str, Any]) -> list[Trait]:
    """The traits of two models' records (Build.record), in TRAITS order."""
    lists_a, lists_b = card_lists(a), card_lists(b)
    single_a, single_b = single_values(a), single_values(b)
    return [
        Trait(name, lists_a[LISTS[name]], lists_b[LISTS[name]], True)
        if name in LISTS
        else Trait(name, [single_a[name]], [single_b[name]])
        for name in TRAITS
    ]


def build_embeddings(build: Build) -> np.ndarray | None:
    """The build's embeddings, memory-mapped once per build; None when it has none, or not one
    per model (a build whose files disagree: no cosine is then computed from them)."""

    def read(build: Build) -> np.ndarray | None:
        try:
            vectors = np.load(build.files.embeddings, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        return vectors if vectors.ndim == 2 and len(vectors) == build.size else None

    vectors: np.ndarray | None = build.derived("compare-embeddings", read)
    return vectors


def pair_similarity(
    build: Build, rows: list[int], records: list[dict[str, Any]]
) -> dict[str, float | None]:
    """Each measure's similarity of two models of the build, its rows and their records
    (findings.resemblance's code, as the Evolution view's findings measure sampled pairs), from
    their stored fields and embeddings."""
    models = pa.table(
        {name: pa.array([record.get(name) for record in records]) for name in MEASURED_COLUMNS}
    )
    vectors = build_embeddings(build)
    pair = None if vectors is None else np.asarray(vectors[rows])
    return pair_similarities(models, pair, 0, 1)


@cached_query
def compare_models(build: Build, a: str, b: str) -> Comparison | None:
    """Models a and b of the build compared; None when the build lacks either."""
    row_a, row_b = build.row(a), build.row(b)
    if row_a is None or row_b is None:
        return None
    records = [build.record(row_a), build.record(row_b)]
    similarity = pair_similarity(build, [row_a, row_b], records)
    path = rows_path(build, row_a, row_b)
    return Comparison(a, b, compare_traits(*records), similarity, path)


@cached_query
def typical_similarity(build: Build) -> dict[str, dict[str, dict[str, Any]]]:
    """typical[configuration][measure] = {"mean", "ci_low", "ci_high", "pairs"} from the build's
    stored findings (the Evolution view's default), for the configurations of TYPICAL; empty when
    the build stores no findings (the comparison then shows none)."""
    findings = stored_findings(build)
    resemblance = (findings or {}).get("resemblance") or {}
    return {
        name: {measure: resemblance[name][measure] for measure in MEASURES}
        for name in TYPICAL
        if isinstance(resemblance.get(name), dict)
        and all(measure in resemblance[name] for measure in MEASURES)
    }


def comparison_json(comparison: Comparison, typical: dict[str, Any]) -> dict[str, Any]:
    """A comparison as /api/compare answers it: the traits with what only a, only b and both
    have, the similarities beside their typical means, and the lineage path."""
    path = comparison.path
    return {
        "a": comparison.a,
        "b": comparison.b,
        "differing": comparison.differing,
        "traits": [
            {
                "trait": trait.name,
                "a": trait.a,
                "b": trait.b,
                "differ": trait.differ,
                **(
                    {"only_a": trait.only_a, "only_b": trait.only_b, "both": trait.both}
                    if trait.listed
                    else {}
                ),
            }
            for trait in comparison.traits
        ],
        "similarity": comparison.similarity,
        "typical_means": {
            name: {measure: result.get("mean") for measure, result in measures.items()}
            for name, measures in typical.items()
        },
        "path": {
            "ancestor": path.ancestor,
            "up": [asdict(link) for link in path.up],
            "down": [asdict(link) for link in path.down],
            "cut": path.cut,
        },
    }

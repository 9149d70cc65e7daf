"""All of a build's findings (issue 14, §1-5) as one JSON-ready dict: ``compute_findings``.

The shape (also what ``GET /api/findings`` returns)::

    scope            relation, resemblance_links, family, seed, models, links
    mutation_rates   <trait>: {rate, links, relation}            trait: license language ...
    resemblance      <configuration>: <measure>: {mean, ci_low, ci_high, pairs}
    resemblance_available  <configuration>: instances in the data (before sampling)
    orderings        <trait>: {order, edges_agreeing, edges_total, share_down, disagreeing,
                               links, relation}
    drift            links, cards (a sentence or None), card_share, auto_generated_share,
                     card_length, languages: {parent, child, change}
    structure        see findings.structure
    notes            where the computation departs from the paper, in sentences

Only plain JSON types; a number that cannot be computed is None, never NaN. The paper's own
numbers are in findings.paper, apart.
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from findings import drift, mutation, ordering, pairs, resemblance, structure
from findings.lineage import lineage_of
from findings.tables import as_table, trait_sets

__all__ = ["MODEL_COLUMNS", "NOTES", "BuildFindings", "ScopeError", "compute_findings"]

# The columns of the models table the findings read (a reader may load only these).
MODEL_COLUMNS = (
    "model_id",
    "root_id",
    "depth",
    "tags",
    "licenses",
    "languages",
    "pipeline_tag",
    "library_name",
    "datasets",
    "has_card",
    "card_length",
    "card_excerpt",
    "card_auto_generated",
)

NOTES = (
    "Card text similarity uses the first 512 characters of each card body with whitespace runs "
    "collapsed to one space, the excerpt a build stores.",
    "Lineage tags (base_model:...) are left out of the metadata text and the tag sets.",
    "Resemblance pairs follow every link but merge links unless one relation is chosen.",
    "The TF-IDF vocabulary and weights are fitted on the sampled pairs' cards, not on every "
    "card of the build.",
)
_NO_MERGE = "all but merge"


class ScopeError(ValueError):
    """A relation or a family the build does not have (the caller's mistake, one sentence)."""


def _plain(value, where: str = "findings"):
    """``value`` with numpy scalars made Python numbers; a NaN or infinity is a bug here."""
    if isinstance(value, dict):
        return {str(key): _plain(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, where) for item in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        if not math.isfinite(float(value)):
            raise RuntimeError(f"{where} is {value}: every finding must be a number or None")
        return float(value)
    return value


class BuildFindings:
    """A build's tables prepared once (lineage as row indices, each trait's sets), so that many
    variants (per relation, per family) are computed without preparing them again: the dashboard
    keeps one per build; the pipeline calls ``compute_findings``."""

    def __init__(
        self,
        models: pa.Table | pd.DataFrame,
        edges: pa.Table | pd.DataFrame,
        embeddings: np.ndarray | None = None,
    ):
        self.models, self.edges = as_table(models), as_table(edges)
        self.embeddings = embeddings
        self.lineage = lineage_of(self.models, self.edges)
        self.traits = {
            name: trait_sets(self.models, column) for name, column in mutation.TRAIT_COLUMNS.items()
        }

    @classmethod
    def read(cls, models: Path, edges: Path, embeddings: Path | None = None) -> BuildFindings:
        """From a build's files: the models table (only MODEL_COLUMNS read), the edges table and
        the embeddings (memory-mapped; left out when there is no such file)."""
        vectors = None
        if embeddings is not None and embeddings.exists():
            vectors = np.load(embeddings, mmap_mode="r", allow_pickle=False)
        return cls(
            pq.read_table(models, columns=list(MODEL_COLUMNS)), pq.read_table(edges), vectors
        )

    @cached_property
    def structure(self) -> dict:
        """The structure numbers of the whole build (they do not depend on a relation)."""
        return structure.structure_numbers(self.models, self.lineage)

    @property
    def relations(self) -> list[str]:
        """The relations a caller may choose: those of the links inside the data, and "all"."""
        return sorted(set(self.lineage.links.relations) | {mutation.ALL_RELATIONS})

    def findings(
        self,
        relation: str | None = None,
        family: str | None = None,
        seed: int = 0,
        resamples: int = resemblance.RESAMPLES,
    ) -> dict:
        """See ``compute_findings``."""
        lineage, models = self.lineage, self.models
        links = lineage.links
        if relation is not None and relation not in self.relations:
            raise ScopeError(
                f"{relation!r} is not a relation of this build's links; choose one "
                f"of {', '.join(self.relations)}."
            )
        rows = None
        if family is not None:
            code = lineage.family_code(family)
            if code is None:
                raise ScopeError(f"{family!r} is not the root of a family of this build.")
            inside = lineage.family == code
            rows = np.flatnonzero(inside)
            links = links.where(inside[links.parent] & inside[links.child])

        chosen, chosen_name = mutation.select_links(links, relation)
        parent, child = chosen.unique_pairs()
        mutation_rates = {}
        for name, values in self.traits.items():
            rate, count = mutation.mutation_rate(values, chosen)
            mutation_rates[name] = {"rate": rate, "links": count, "relation": chosen_name}

        orderings = {}
        for name, count in ordering.TOP_TRAITS.items():
            found = ordering.order_traits(self.traits[name], parent, child, count, rows)
            orderings[name] = {**found.to_dict(), "relation": chosen_name}

        if relation is None or relation == mutation.ALL_RELATIONS:
            pair_links, pair_name = lineage.links.without_relation("merge"), _NO_MERGE
        else:
            pair_links, pair_name = lineage.links.of_relation(relation), relation
        samples = pairs.sample_pairs(lineage, pair_links, family=family, seed=seed)
        similar = resemblance.measure_pairs(models, self.embeddings, samples, seed, resamples)

        findings = {
            "scope": {
                "relation": chosen_name,
                "resemblance_links": pair_name,
                "family": family,
                "seed": seed,
                "models": lineage.n_models if rows is None else len(rows),
                "links": len(parent),
            },
            "mutation_rates": mutation_rates,
            "resemblance": similar,
            "resemblance_available": {name: sample.available for name, sample in samples.items()},
            "orderings": orderings,
            "drift": drift.drift_numbers(models, chosen, self.traits["language"]),
            "structure": self.structure
            if rows is None
            else structure.structure_numbers(models, lineage, rows),
            "notes": list(NOTES),
        }
        return _plain(findings)


def compute_findings(
    models: pa.Table | pd.DataFrame,
    edges: pa.Table | pd.DataFrame,
    embeddings: np.ndarray | None = None,
    relation: str | None = None,
    family: str | None = None,
    seed: int = 0,
    resamples: int = resemblance.RESAMPLES,
) -> dict:
    """The findings of one build (its models and edges tables, row-aligned embeddings or None).

    ``relation``: the links to study (a relation of the edges, or "all"); None: finetune links
    for mutation rates, drift and orderings when the build has typed relations (else all).
    Resemblance follows every link but merge links for None and "all", else that relation.
    ``family``: a root id; everything is then computed inside that family (resemblance's
    different_families pairs its models with models of other families).
    ``seed``: the pair sampling's and the bootstrap's. ScopeError (a ValueError, one sentence)
    for a relation or family the build does not have."""
    return BuildFindings(models, edges, embeddings).findings(relation, family, seed, resamples)

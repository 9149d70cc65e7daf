"""Mutation rates (paper §"mutation"): how much of a trait changes from parent to child.

For each trait — license set, language set, pipeline, library — over the parent -> child links
inside the data where parent and child both report the trait (a non-empty set A for the parent,
B for the child): the mean of (|A ∪ B| - |A ∩ B|) / |A ∪ B|, and the number of such links. The
links are chosen by ``default_relation``: finetune links when the build has typed relations,
every link otherwise (the caller may pick any relation). Vectorized over links: the values of
both ends are laid out per link and their intersection counted with one np.unique.
"""

from __future__ import annotations

import numpy as np

from findings.lineage import Links
from findings.tables import TraitSets

__all__ = [
    "ALL_RELATIONS",
    "TRAIT_COLUMNS",
    "default_relation",
    "mutation_rate",
    "select_links",
    "shared_counts",
]

# trait name in the findings -> column of the models table
TRAIT_COLUMNS = {
    "license": "licenses",
    "language": "languages",
    "pipeline": "pipeline_tag",
    "library": "library_name",
}
ALL_RELATIONS = "all"
_UNTYPED = "unspecified"


def default_relation(links: Links) -> str:
    """``finetune`` when any link has a typed relation (the paper's links), else ``all``."""
    typed = set(links.relations) - {_UNTYPED}
    return "finetune" if typed else ALL_RELATIONS


def select_links(links: Links, relation: str | None) -> tuple[Links, str]:
    """The links of ``relation`` (None: the default relation; "all": every link) and its name."""
    chosen = default_relation(links) if relation is None else relation
    return links.of_relation(None if chosen == ALL_RELATIONS else chosen), chosen


def shared_counts(traits: TraitSets, parent: np.ndarray, child: np.ndarray) -> np.ndarray:
    """|A ∩ B| per link (A, B: the parent's and the child's values)."""
    width = max(len(traits.labels), 1)
    parent_at, parent_codes = traits.values_at(parent)
    child_at, child_codes = traits.values_at(child)
    keys = np.concatenate([parent_at * width + parent_codes, child_at * width + child_codes])
    found, times = np.unique(keys, return_counts=True)
    return np.bincount(found[times == 2] // width, minlength=len(parent)).astype(np.int64)


def mutation_rate(traits: TraitSets, links: Links) -> tuple[float | None, int]:
    """The mean share of values that differ between parent and child over ``links`` whose two
    ends both report the trait, and the number of those links (None when there are none)."""
    sizes = traits.sizes
    parent, child = links.unique_pairs()
    both = (sizes[parent] > 0) & (sizes[child] > 0)
    parent, child = parent[both], child[both]
    if not len(parent):
        return None, 0
    shared = shared_counts(traits, parent, child)
    union = sizes[parent] + sizes[child] - shared
    return float(np.mean((union - shared) / union)), int(len(parent))

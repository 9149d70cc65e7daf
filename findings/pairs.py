"""Pairs of models in each kinship configuration of the paper, sampled with a fixed seed.

The configurations (paper §"genetic similarity", and its research code's sampling helpers):

- different_families: two models whose families (root ids) differ;
- same_family: two models of one family;
- parent_child: the two ends of one link;
- siblings: two children of one parent;
- grandparent_grandchild: u and w for links u -> v -> w;
- aunt_uncle_niece_nephew: x and w for u -> v -> w and u -> x, x != v;
- first_cousins: w and y for u -> v -> w and u -> x -> y, x != v.

Each configuration is a set of *instances* (a pair of distinct rows reached by one path through
the links). Instances are counted per anchor (a family, a parent, a link) and numbered, so a
random instance is a random integer decoded back into its pair: sampling is uniform over the
instances, exact, vectorized (no Python loop over models or links), and takes the same time on
760k models as on 1,000. Up to ``limit`` distinct pairs are drawn without replacement; when
fewer exist, all of them are taken. The links are the unique (parent, child) pairs of the links
given (the caller leaves merge links out and picks a relation); with a family, the links are
those inside it, ``different_families`` pairs one of its models with a model of another family,
and ``same_family`` is that family alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from findings.lineage import Lineage, Links

__all__ = ["CONFIGURATIONS", "PAIR_LIMIT", "PairSample", "sample_pairs"]

CONFIGURATIONS = (
    "different_families",
    "same_family",
    "parent_child",
    "siblings",
    "grandparent_grandchild",
    "aunt_uncle_niece_nephew",
    "first_cousins",
)
PAIR_LIMIT = 1000
_ENUMERATE_BELOW = 4  # enumerate every instance when there are fewer than 4 x limit


@dataclass(frozen=True)
class PairSample:
    """Sampled pairs of one configuration: rows ``first[i]`` and ``second[i]``; ``available`` is
    how many instances the configuration has in the data (before sampling)."""

    first: np.ndarray
    second: np.ndarray
    available: int

    def __len__(self) -> int:
        return len(self.first)


@dataclass(frozen=True)
class _Children:
    """Unique links sorted by parent: ``child[offsets[p]:offsets[p + 1]]`` are p's children,
    and link e (an index into the sorted arrays) is p -> child[e]."""

    parent: np.ndarray
    child: np.ndarray
    offsets: np.ndarray
    count: np.ndarray  # children per row


def _children(links: Links, n_models: int) -> _Children:
    parent, child = links.unique_pairs()
    count = np.bincount(parent, minlength=n_models).astype(np.int64)
    offsets = np.zeros(n_models + 1, np.int64)
    np.cumsum(count, out=offsets[1:])
    return _Children(parent, child, offsets, count)


# a configuration: counts of instances per anchor, and a decoder (anchors, local) -> pairs
_Decoder = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _triangle(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The t-th pair (i, j), i < j, in the order (0,1), (0,2), (1,2), (0,3), ..."""
    local = local.astype(np.int64)
    j = np.floor((1 + np.sqrt(1 + 8 * local.astype(np.float64))) / 2).astype(np.int64)
    j = np.where(j * (j - 1) // 2 > local, j - 1, j)
    j = np.where((j + 1) * j // 2 <= local, j + 1, j)
    return local - j * (j - 1) // 2, j


def _different_families(lineage: Lineage, family: int | None) -> tuple[np.ndarray, _Decoder]:
    order = np.argsort(lineage.family, kind="stable")
    sizes = np.bincount(lineage.family, minlength=len(lineage.family_names)).astype(np.int64)
    ends = np.cumsum(sizes)
    n = lineage.n_models
    if family is None:  # unordered: the second model lies in a later family block
        counts = n - ends[lineage.family[order]]

        def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return order[anchor], order[ends[lineage.family[order[anchor]]] + local]

        return counts, decode
    start, size = ends[family] - sizes[family], sizes[family]
    members = order[start : start + size]
    counts = np.full(len(members), n - size, np.int64)

    def decode_outside(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return members[anchor], order[np.where(local < start, local, local + size)]

    return counts, decode_outside


def _same_family(lineage: Lineage, family: int | None) -> tuple[np.ndarray, _Decoder]:
    order = np.argsort(lineage.family, kind="stable")
    sizes = np.bincount(lineage.family, minlength=len(lineage.family_names)).astype(np.int64)
    starts = np.cumsum(sizes) - sizes
    counts = sizes * (sizes - 1) // 2
    if family is not None:
        counts = np.where(np.arange(len(sizes)) == family, counts, 0)

    def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first, second = _triangle(local)
        return order[starts[anchor] + first], order[starts[anchor] + second]

    return counts, decode


def _parent_child(tree: _Children) -> tuple[np.ndarray, _Decoder]:
    def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return tree.parent[anchor], tree.child[anchor]

    return np.ones(len(tree.parent), np.int64), decode


def _siblings(tree: _Children) -> tuple[np.ndarray, _Decoder]:
    counts = tree.count * (tree.count - 1) // 2

    def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first, second = _triangle(local)
        start = tree.offsets[anchor]
        return tree.child[start + first], tree.child[start + second]

    return counts, decode


def _grandparent_grandchild(tree: _Children) -> tuple[np.ndarray, _Decoder]:
    counts = tree.count[tree.child]

    def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        middle = tree.child[anchor]
        return tree.parent[anchor], tree.child[tree.offsets[middle] + local]

    return counts, decode


def _aunt_uncle_niece_nephew(tree: _Children) -> tuple[np.ndarray, _Decoder]:
    siblings_of_middle = tree.count[tree.parent] - 1
    counts = tree.count[tree.child] * siblings_of_middle

    def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top, middle = tree.parent[anchor], tree.child[anchor]
        others = siblings_of_middle[anchor]
        niece, aunt = local // others, local % others
        aunt = aunt + (aunt >= anchor - tree.offsets[top])  # skip the middle model itself
        return tree.child[tree.offsets[top] + aunt], tree.child[tree.offsets[middle] + niece]

    return counts, decode


def _first_cousins(tree: _Children) -> tuple[np.ndarray, _Decoder]:
    # grandchildren of each top model, numbered through its links in order
    below = tree.count[tree.child]  # grandchildren under each link
    before = np.concatenate([[0], np.cumsum(below)])[:-1]  # grandchildren before each link
    top_start = before[tree.offsets[tree.parent]]
    grandchildren_of = np.bincount(tree.parent, weights=below, minlength=len(tree.count))
    grandchildren_of = grandchildren_of.astype(np.int64)
    cousins_each = grandchildren_of[tree.parent] - below
    counts = below * cousins_each  # ordered: (w under this link, y under another link)

    def decode(anchor: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        middle = tree.child[anchor]
        others = cousins_each[anchor]
        mine, other = local // others, local % others
        own_block = before[anchor] - top_start[anchor]
        other = other + below[anchor] * (other >= own_block)
        numbered = top_start[anchor] + other
        link = np.searchsorted(before, numbered, side="right") - 1
        cousin = tree.child[tree.offsets[tree.child[link]] + (numbered - before[link])]
        return tree.child[tree.offsets[middle] + mine], cousin

    return counts, decode


def _distinct_integers(total: int, wanted: int, rng: np.random.Generator) -> np.ndarray:
    """``wanted`` distinct integers of [0, total) in random order (total >> wanted)."""
    drawn = np.empty(0, np.int64)
    while len(drawn) < wanted:
        more = rng.integers(0, total, size=wanted + wanted // 4 + 16, dtype=np.int64)
        drawn = np.concatenate([drawn, more])
        _, first = np.unique(drawn, return_index=True)
        drawn = drawn[np.sort(first)]
    return drawn


def _distinct_pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs in their order, each unordered pair once, pairs of a model with itself left out."""
    low, high = np.minimum(first, second), np.maximum(first, second)
    keep = low != high
    low, high = low[keep], high[keep]
    if not len(low):
        return low, high
    _, at = np.unique(np.stack([low, high], axis=1), axis=0, return_index=True)
    at = np.sort(at)
    return low[at], high[at]


def _draw(
    counts: np.ndarray,
    decode: _Decoder,
    limit: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    counts = counts.astype(np.int64)
    total = int(counts.sum())
    if total == 0 or limit <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ends = np.cumsum(counts)

    def pairs_of(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        anchor = np.searchsorted(ends, numbers, side="right")
        return decode(anchor, numbers - (ends[anchor] - counts[anchor]))

    if total < _ENUMERATE_BELOW * limit:
        first, second = _distinct_pairs(*pairs_of(np.arange(total, dtype=np.int64)))
        if len(first) > limit:
            chosen = np.sort(rng.choice(len(first), size=limit, replace=False))
            first, second = first[chosen], second[chosen]
        return first, second
    wanted = limit
    while True:  # duplicates (two paths to one pair) are rare: draw a little more if needed
        first, second = _distinct_pairs(*pairs_of(_distinct_integers(total, wanted, rng)))
        if len(first) >= limit or wanted >= total:
            return first[:limit], second[:limit]
        wanted = min(total, wanted * 2)


def sample_pairs(
    lineage: Lineage,
    links: Links,
    *,
    family: str | None = None,
    limit: int = PAIR_LIMIT,
    seed: int = 0,
) -> dict[str, PairSample]:
    """Up to ``limit`` pairs of each configuration (CONFIGURATIONS), uniformly over its instances,
    with a generator seeded by ``seed`` and the configuration (so each is reproducible alone).
    ``links``: the links to follow (merge links already left out by the caller). ``family``: a
    root id; the pairs are then those inside that family (see the module's doc). An unknown
    family has no pairs."""
    code = lineage.family_code(family) if family is not None else None
    if family is not None:
        if code is None:
            empty = PairSample(np.empty(0, np.int64), np.empty(0, np.int64), 0)
            return {name: empty for name in CONFIGURATIONS}
        inside = lineage.family == code
        links = links.where(inside[links.parent] & inside[links.child])
    tree = _children(links, lineage.n_models)
    builders: dict[str, tuple[np.ndarray, _Decoder]] = {
        "different_families": _different_families(lineage, code),
        "same_family": _same_family(lineage, code),
        "parent_child": _parent_child(tree),
        "siblings": _siblings(tree),
        "grandparent_grandchild": _grandparent_grandchild(tree),
        "aunt_uncle_niece_nephew": _aunt_uncle_niece_nephew(tree),
        "first_cousins": _first_cousins(tree),
    }
    samples = {}
    for number, name in enumerate(CONFIGURATIONS):
        counts, decode = builders[name]
        available = int(counts.sum()) // (2 if name == "first_cousins" else 1)
        rng = np.random.default_rng([seed, number])
        first, second = _draw(counts, decode, limit, rng)
        samples[name] = PairSample(first, second, available)
    return samples

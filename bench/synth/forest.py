"""The family forest: when each model was created, who descends from whom, and how deep.

Roots attract children by a Pareto fitness that fades with age (a preferential attachment
that yields a few giant families and many childless roots); inside a family a child hangs
off the root or an earlier member, so trees grow several levels deep; merges take one or
two more parents from the same family. Models are numbered in creation order, so a parent
always comes before its children.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.synth.archetypes import ARCHETYPES, family_group
from bench.synth.arrays import choice
from bench.synth.calibration import Calibration

# relation of a model to its primary parent (codes)
R_ROOT, R_FT, R_AD, R_Q, R_M, R_UN = 0, 1, 2, 3, 4, 5
RELATION_NAMES = ["", "finetune", "adapter", "quantized", "merge", ""]

SECONDS_PER_YEAR = 365.25 * 86400
SECONDS_PER_WEEK = 7 * 86400


@dataclass
class Forest:
    """One value per model (numpy arrays, in creation order)."""

    created: np.ndarray  # creation time, epoch seconds
    year: np.ndarray  # creation time as a fractional year
    archetype: np.ndarray  # of the family root
    fitness: np.ndarray  # a root's pull on descendants (0 for children)
    family: np.ndarray  # the family root
    relation: np.ndarray  # R_* to the primary parent
    parent: np.ndarray  # primary parent (-1 for roots)
    merge_parent2: np.ndarray  # a merge's second and third parents (-1 if none)
    merge_parent3: np.ndarray
    depth: np.ndarray  # distance to the root along primary parents


def build_forest(rng: np.random.Generator, n_all: int, rates: Calibration) -> Forest:
    """Creation times and the family forest of ``n_all`` models."""
    # creation times: exponential growth, strictly increasing whole seconds
    start = np.datetime64(rates.first_created, "s").astype(np.int64)
    end = np.datetime64(rates.last_created, "s").astype(np.int64)
    span = float(end - start)
    r = rates.growth_per_year / SECONDS_PER_YEAR
    u = np.sort(rng.random(n_all))
    sec = (np.log1p(u * np.expm1(r * span)) / r).astype(np.int64)
    idx = np.arange(n_all, dtype=np.int64)
    sec = idx + np.maximum.accumulate(sec - idx) + start
    year = 2019.0 + (sec - start) / SECONDS_PER_YEAR
    week = (sec - start) // SECONDS_PER_WEEK

    # who has a parent: lineage tags were rare before 2023
    p_child = np.interp(year, rates.child_share_years, rates.child_share)
    is_child = rng.random(n_all) < p_child
    is_child[week == week[0]] = False

    # archetype of each root, by era
    shares = np.array([[a.share_2020 for a in ARCHETYPES], [a.share_2025 for a in ARCHETYPES]])
    archetype = np.zeros(n_all, dtype=np.int16)
    era = np.clip(((year - 2020.0) / 5.0 * 8).astype(int), 0, 8)
    for b in range(9):
        sel = np.flatnonzero((era == b) & ~is_child)
        mix = shares[0] * (1 - b / 8) + shares[1] * (b / 8)
        archetype[sel] = choice(rng, mix, len(sel))

    # fitness: how strongly a root attracts descendants (Pareto, by archetype)
    fit_factor = np.array([a.fitness for a in ARCHETYPES])
    fitness = fit_factor[archetype] * (1.0 - rng.random(n_all)) ** (-1.0 / 1.05)
    fitness[is_child] = 0.0

    family = _families(rng, is_child, week, fitness, rates)
    archetype = archetype[family]

    # relation, by the family's kind and the era
    relation = np.zeros(n_all, dtype=np.int8)
    group = family_group(archetype)
    late = year >= rates.late_year
    for (g, lt), mix in rates.relation_mixes.items():
        sel = np.flatnonzero(is_child & (group == g) & (late == lt))
        relation[sel] = 1 + choice(rng, mix, len(sel))

    parent, merge_parent2, merge_parent3 = _parents(rng, family, relation, rates)

    # depth, capped: too-deep nodes hang off their grandparent instead
    depth = depths(parent)
    while depth.max() > rates.max_depth:
        deep = depth > rates.max_depth
        parent[deep] = parent[parent[deep]]
        depth = depths(parent)
    return Forest(
        sec, year, archetype, fitness, family, relation, parent, merge_parent2, merge_parent3, depth
    )


def _families(rng, is_child, week, fitness, rates: Calibration) -> np.ndarray:
    """The family root of every model: each child picks a root from earlier weeks, by fitness
    and recency."""
    n_all = len(is_child)
    idx = np.arange(n_all, dtype=np.int64)
    roots = np.flatnonzero(~is_child)
    rw, rweek = fitness[roots], week[roots]
    n_weeks = int(week[-1]) + 1
    w_week = np.bincount(rweek, weights=rw, minlength=n_weeks)
    cw = np.cumsum(rw)
    wk_lo = np.searchsorted(rweek, np.arange(n_weeks), side="left")
    wk_hi = np.searchsorted(rweek, np.arange(n_weeks), side="right")
    family = idx.copy()
    children = np.flatnonzero(is_child)
    cweek = week[children]
    bounds = np.searchsorted(cweek, np.arange(n_weeks + 1))
    for this_week in range(1, n_weeks):
        a, b = bounds[this_week], bounds[this_week + 1]
        if a == b:
            continue
        age = this_week - np.arange(this_week)
        wts = w_week[:this_week] * (
            np.exp(-age / rates.root_pull_weeks) + 0.05 * np.exp(-age / 150.0)
        )
        cum = np.cumsum(wts)
        m = np.searchsorted(cum, rng.random(b - a) * cum[-1], side="right").clip(0, this_week - 1)
        lo = np.where(wk_lo[m] > 0, cw[np.maximum(wk_lo[m] - 1, 0)], 0.0)
        hi = cw[np.maximum(wk_hi[m] - 1, 0)]
        j = np.searchsorted(cw, lo + rng.random(b - a) * (hi - lo), side="right")
        j = np.clip(j, wk_lo[m], np.maximum(wk_hi[m] - 1, wk_lo[m]))
        family[children[a:b]] = roots[j]
    return family


def _parents(rng, family, relation, rates: Calibration):
    """(primary parent, merge parent 2, merge parent 3) of every model, inside its family.

    The primary parent is mostly the root, else an earlier (mostly early) member; merges
    take one or two more parents from earlier members. May turn a merge left with one
    parent into a fine-tune."""
    n_all = len(family)
    idx = np.arange(n_all, dtype=np.int64)
    order = np.lexsort((idx, family))
    fam_sorted = family[order]
    starts = np.flatnonzero(np.r_[True, fam_sorted[1:] != fam_sorted[:-1]])
    gstart = np.repeat(starts, np.diff(np.r_[starts, n_all]))
    rank = np.arange(n_all) - gstart
    parent = np.full(n_all, -1, dtype=np.int64)
    pos = np.flatnonzero(rank > 0)
    k = rank[pos]
    prank = np.where(
        rng.random(len(pos)) < rates.attach_to_root,
        0,
        np.floor(k * rng.random(len(pos)) ** rates.attach_skew).astype(np.int64),
    )
    parent[order[pos]] = order[gstart[pos] + prank]

    # quantizations and adapters seldom have children of their own: hop up to their parent
    for _ in range(2):
        has_p = parent >= 0
        bad = np.zeros(n_all, dtype=bool)
        bad[has_p] = np.isin(relation[parent[has_p]], [R_AD, R_Q]) & (
            rng.random(int(has_p.sum())) < rates.hop_over_leaf
        )
        parent[bad] = parent[parent[bad]]

    # merges: one or two more parents from earlier members of the family
    extra1 = np.full(n_all, -1, dtype=np.int64)
    extra2 = np.full(n_all, -1, dtype=np.int64)
    mpos = pos[relation[order[pos]] == R_M]
    mk = rank[mpos]
    mchild = order[mpos]
    ok = mk >= 2
    e1 = np.floor(rng.random(len(mpos)) * mk).astype(np.int64)
    e1_id = order[gstart[mpos] + np.minimum(e1, mk - 1)]
    e1_id = np.where(
        e1_id == parent[mchild], order[gstart[mpos] + (e1 + 1) % np.maximum(mk, 1)], e1_id
    )
    extra1[mchild[ok]] = e1_id[ok]
    third = ok & (mk >= 3) & (rng.random(len(mpos)) < rates.third_merge_parent)
    e2 = np.floor(rng.random(len(mpos)) * mk).astype(np.int64)
    for shift in range(3):
        e2_id = order[gstart[mpos] + (e2 + shift) % np.maximum(mk, 1)]
        clash = (e2_id == parent[mchild]) | (e2_id == e1_id)
        if shift == 0:
            best = np.where(clash, -1, e2_id)
        else:
            best = np.where((best < 0) & ~clash, e2_id, best)
    extra2[mchild[third]] = best[third]
    for extra in (extra1, extra2):
        has = extra >= 0
        hop = has.copy()
        hop[has] = np.isin(relation[extra[has]], [R_AD, R_Q])
        extra[hop] = parent[extra[hop]]
    extra2[(extra2 >= 0) & ((extra2 == extra1) | (extra2 == parent))] = -1
    extra1[(extra1 >= 0) & (extra1 == parent)] = -1
    swap = (extra1 < 0) & (extra2 >= 0)
    extra1[swap], extra2[swap] = extra2[swap], -1
    relation[(relation == R_M) & (extra1 < 0)] = R_FT
    return parent, extra1, extra2


def depths(parent: np.ndarray) -> np.ndarray:
    """Distance to the root along primary parents (parents always precede children)."""
    depth = np.zeros(len(parent), dtype=np.int64)
    child = parent >= 0
    parent_of_child = parent[child]
    for _ in range(len(parent) + 1):
        new = np.zeros_like(depth)
        new[child] = depth[parent_of_child] + 1
        if np.array_equal(new, depth):
            break
        depth = new
    return depth

"""The whole synthetic population: every per-model value except the text that is built one
row group at a time (tags, card text), as numpy arrays and Arrow string arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench.synth.arrays import take, unique_strings, zipf, zipf_cdf
from bench.synth.calibration import Calibration
from bench.synth.cards import card_kinds
from bench.synth.forest import R_Q, R_ROOT, build_forest
from bench.synth.traits import author_pool, inherit, names, popularity, root_traits


@dataclass
class Population:
    n_all: int
    keep: np.ndarray  # rows written (others are referenced-but-missing parents)
    sec: np.ndarray  # creation time, epoch seconds
    year: np.ndarray
    parent: np.ndarray  # primary parent (-1 for roots)
    extra1: np.ndarray  # merge parents 2 and 3 (-1 if none)
    extra2: np.ndarray
    rel: np.ndarray
    depth: np.ndarray
    family: np.ndarray
    archetype: np.ndarray  # of the family root
    lib: np.ndarray
    pipe: np.ndarray
    mtype: np.ndarray
    lic: np.ndarray
    langset: np.ndarray
    kind: np.ndarray  # card kind
    fitness: np.ndarray
    n_children: np.ndarray
    downloads: np.ndarray
    likes: np.ndarray
    trending: np.ndarray
    author: pa.Array
    name: pa.Array
    model_id: pa.Array


def build_population(n_rows: int, seed: int, rates: Calibration) -> Population:
    """Every per-model value of ``n_rows`` listed models (and the few unlisted parents)."""
    rng = np.random.default_rng([seed, 20250715])
    n_drop = int(round(n_rows * rates.dropped_share)) if n_rows >= 200 else 0
    n_all = n_rows + n_drop
    forest = build_forest(rng, n_all, rates)
    year, archetype, fitness, rel, depth = (
        forest.year,
        forest.archetype,
        forest.fitness,
        forest.relation,
        forest.depth,
    )
    parent, extra1, extra2 = forest.parent, forest.merge_parent2, forest.merge_parent3

    # traits: roots from their archetype, then each depth from its parents
    lib = np.zeros(n_all, dtype=np.int16)
    pipe = np.zeros(n_all, dtype=np.int16)
    mtype = np.zeros(n_all, dtype=np.int16)
    lic = np.zeros(n_all, dtype=np.int16)
    langset = np.zeros(n_all, dtype=np.int16)
    roots = np.flatnonzero(rel == R_ROOT)
    traits = (lib, pipe, mtype, lic, langset)
    for arr, vals in zip(traits, root_traits(rng, archetype, year, roots), strict=True):
        arr[roots] = vals
    for d in range(1, int(depth.max()) + 1):
        rows = np.flatnonzero(depth == d)
        inherit(rng, traits, rows, parent[rows], rel, archetype)

    n_children = np.bincount(parent[parent >= 0], minlength=n_all)
    for extra in (extra1, extra2):
        n_children += np.bincount(extra[extra >= 0], minlength=n_all)
    fam_size = np.bincount(forest.family, minlength=n_all)
    n_desc = np.where(rel == R_ROOT, fam_size - 1, 0)

    # a few models with children are missing from the listing (gated, deleted, renamed)
    keep = np.ones(n_all, dtype=bool)
    if n_drop:
        cand = np.flatnonzero((n_children >= 1) & (n_children <= 200))
        if len(cand) < n_drop:
            cand = np.r_[cand, np.flatnonzero(n_children == 0)]
        keep[rng.choice(cand, size=n_drop, replace=False)] = False

    kind = card_kinds(rng, year, rel, depth, lib, archetype, fitness)
    downloads, likes, trending = popularity(rng, rel, fitness, n_children, n_desc, year)

    # authors: Zipf over a large pool; orgs own the big bases; a few prolific quantizers
    n_auth = max(50, n_all // 2)
    authors = unique_strings(author_pool(rng, n_auth + 600), sep="")
    auth_idx = zipf(rng, zipf_cdf(n_auth, 5.0, 1.0), n_all) + 600
    quant = (rel == R_Q) & (rng.random(n_all) < 0.55)
    auth_idx[quant] = zipf(rng, zipf_cdf(40, 1.0, 1.3), int(quant.sum()))
    big = (rel == R_ROOT) & (fitness > np.quantile(fitness[rel == R_ROOT], 0.995))
    auth_idx[big] = 40 + zipf(rng, zipf_cdf(560, 2.0, 0.9), int(big.sum()))
    author = take(authors, auth_idx)

    name = names(rng, archetype, rel, depth, parent, lib, mtype, fitness)
    model_id = unique_strings(pc.binary_join_element_wise(author, name, "/"))
    return Population(
        n_all,
        keep,
        forest.created,
        year,
        parent,
        extra1,
        extra2,
        rel,
        depth,
        forest.family,
        archetype,
        lib,
        pipe,
        mtype,
        lic,
        langset,
        kind,
        fitness,
        n_children,
        downloads,
        likes,
        trending,
        author,
        name,
        model_id,
    )

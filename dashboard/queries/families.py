"""The families table: every family tree of the build, sortable, with how many of its models pass
the filters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask
from pipeline.build_format import RELATIONS

COLUMNS = (
    "root_id",
    "size",
    "matching",
    "max_depth",
    *(f"n_{r}" for r in RELATIONS),
    "total_downloads",
)
PAGE_ROWS = 25


def root_order(build: Build) -> np.ndarray:
    """Each family's rank by root id (the tie-break of every sort), computed once per build."""
    ranks = np.empty(len(build.families), dtype=np.int64)
    ranks[pc.sort_indices(build.families["root_id"].astype(str).to_numpy()).to_numpy()] = np.arange(
        len(ranks)
    )
    return ranks


@cached_query
def families_page(
    build: Build,
    filters: Filters,
    sort_by: str = "size",
    descending: bool = True,
    min_size: int = 2,
    page: int = 0,
    page_rows: int = PAGE_ROWS,
) -> dict[str, Any]:
    """One page of the families of at least ``min_size`` models that hold a model passing the
    filters, sorted by ``sort_by`` (then root id): {"families": how many, "rows": the page's
    records}."""
    if sort_by not in COLUMNS:
        raise ValueError(f"cannot sort families by {sort_by!r}")
    families = build.families
    per_root = np.bincount(
        build.codes("root_id")[filter_mask(build, filters)],
        minlength=len(build.categories("root_id")),
    )
    codes = families["root_code"].to_numpy()
    matching = np.where(codes >= 0, per_root[np.maximum(codes, 0)], 0)
    kept = np.flatnonzero((families["size"].to_numpy() >= min_size) & (matching > 0))
    ranks = build.derived("family-root-order", root_order)[kept]
    if sort_by == "root_id":
        order = np.argsort(-ranks if descending else ranks, kind="stable")
    else:
        values = (matching if sort_by == "matching" else families[sort_by].to_numpy())[kept]
        order = np.lexsort((ranks, -values if descending else values))
    start = max(0, page) * page_rows
    shown = kept[order[start : start + page_rows]]
    rows = families.iloc[shown].assign(matching=matching[shown])[list(COLUMNS)]
    return {"families": len(kept), "rows": rows.to_dict("records")}

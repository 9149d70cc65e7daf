"""The families table: every family tree of the build, sortable, with how many of its models pass
the filters."""

from __future__ import annotations

import numpy as np

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask
from pipeline.schema import RELATIONS

COLUMNS = ("root_id", "size", "matching", "max_depth", *(f"n_{r}" for r in RELATIONS), "total_downloads")
PAGE_ROWS = 25


@cached_query
def families_page(build: Build, filters: Filters, sort_by: str = "size", descending: bool = True,
                  min_size: int = 2, page: int = 0, page_rows: int = PAGE_ROWS) -> dict:
    """One page of the families of at least ``min_size`` models that hold a model passing the
    filters, sorted by ``sort_by``: {"families": how many, "rows": the page's records}."""
    if sort_by not in COLUMNS:
        raise ValueError(f"cannot sort families by {sort_by!r}")
    families = build.families
    matching_per_root = np.bincount(build.codes("root_id")[filter_mask(build, filters)],
                                    minlength=len(build.categories("root_id")))
    codes = families["root_code"].to_numpy()
    matching = np.where(codes >= 0, matching_per_root[np.maximum(codes, 0)], 0)
    table = families.assign(matching=matching)
    table = table[(table["size"] >= min_size) & (table["matching"] > 0)]
    ties = "root_id" if sort_by != "root_id" else "size"
    table = table.sort_values([sort_by, ties], ascending=[not descending, True], kind="stable")
    start = max(0, page) * page_rows
    rows = table.iloc[start:start + page_rows][list(COLUMNS)]
    return {"families": len(table), "rows": rows.to_dict("records")}

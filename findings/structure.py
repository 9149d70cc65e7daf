"""Lineage structure (paper §5): how big and deep families are, and how models are linked.

A family is the models that share a root (``root_id``; a model without parents in the data is
the root of its own family of one). Reported: the family-size complementary CDF (share of
families of at least each size, for a log-log plot), the depth distribution, the links by
relation (every edge, and those inside the data), the share of leaves among the children of
each relation (a leaf has no child inside the data; the Model Atlas study finds 99.41% of
quantized models are leaves), and the largest and the deepest families (ties: the family met
first in the models table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from findings.lineage import Lineage
from findings.tables import number_column

__all__ = ["TOP_FAMILIES", "structure_numbers"]

TOP_FAMILIES = 10


@dataclass(frozen=True)
class _Families:
    """The families with a model in scope: family code, size and max depth, one row each."""

    code: np.ndarray
    size: np.ndarray
    max_depth: np.ndarray


def _families(lineage: Lineage, depth: np.ndarray, scope: np.ndarray) -> _Families:
    codes = lineage.family[scope]
    size = np.bincount(codes, minlength=len(lineage.family_names))
    deepest = np.full(len(lineage.family_names), -1, np.int64)
    np.maximum.at(deepest, codes, depth[scope])
    present = np.flatnonzero(size > 0)
    return _Families(present, size[present], deepest[present])


def _top(
    families: _Families,
    lineage: Lineage,
    first: np.ndarray,
    then: np.ndarray,
) -> list[dict]:
    """The TOP_FAMILIES families with the largest ``first``, then ``then`` (ties: the family
    met first in the models table)."""
    order = np.lexsort((families.code, -then, -first))[:TOP_FAMILIES]
    return [
        {
            "root_id": str(lineage.family_names[families.code[row]]),
            "size": int(families.size[row]),
            "max_depth": int(families.max_depth[row]),
        }
        for row in order
    ]


def structure_numbers(models: pa.Table, lineage: Lineage, rows: np.ndarray | None = None) -> dict:
    """The structure numbers of the models at ``rows`` (default: all), and of the edges and
    links into them."""
    scope = np.ones(len(models), bool)
    if rows is not None:
        scope[:] = False
        scope[rows] = True
    depth = np.nan_to_num(number_column(models, "depth")).astype(np.int64)
    families = _families(lineage, depth, scope)
    sizes, times = np.unique(families.size, return_counts=True)
    at_least = np.cumsum(times[::-1])[::-1] / max(len(families.code), 1)
    depths, models_at = np.unique(depth[scope], return_counts=True)

    edges = lineage.edges
    in_scope = (edges.child >= 0) & scope[np.maximum(edges.child, 0)]
    relation = edges.relation[in_scope]
    inside = (edges.parent >= 0)[in_scope]
    by_relation = {
        str(name): {
            "edges": int((relation == name).sum()),
            "inside_data": int(((relation == name) & inside).sum()),
        }
        for name in sorted(set(relation.tolist()))
    }

    links = lineage.links
    has_children = np.bincount(links.parent, minlength=len(models)) > 0
    leaves = {}
    for name in links.relations:
        children = np.unique(links.child[(links.relation == name) & scope[links.child]])
        if len(children):
            leaves[str(name)] = {
                "children": int(len(children)),
                "leaf_share": float(np.mean(~has_children[children])),
            }

    return {
        "models": int(scope.sum()),
        "families": int(len(families.code)),
        "family_size_ccdf": [
            {"size": int(size), "share_at_least": float(share)}
            for size, share in zip(sizes, at_least, strict=True)
        ],
        "depth_distribution": [
            {"depth": int(level), "models": int(count)}
            for level, count in zip(depths, models_at, strict=True)
        ],
        "edges_by_relation": by_relation,
        "leaves_by_relation": leaves,
        "largest_families": _top(families, lineage, families.size, families.max_depth),
        "deepest_families": _top(families, lineage, families.max_depth, families.size),
    }

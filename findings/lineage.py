"""A build's lineage as row-index arrays: the links between models of the build, by relation.

Every finding works on rows of the models table (row i of models = row i of embeddings.npy), so
the parent -> child links of edges.parquet are turned into two int64 arrays of rows once, here.
Only links whose two ends are models of the build count ("inside the data"); a (parent, child)
pair that carries several relations is one link per relation in ``Links`` and one pair after
``unique_pairs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from findings.tables import string_column

__all__ = ["Lineage", "Links", "edge_rows", "lineage_of", "links_of"]


@dataclass(frozen=True)
class Links:
    """Parent -> child links between rows of the models table, with each link's relation."""

    parent: np.ndarray  # int64 rows
    child: np.ndarray  # int64 rows
    relation: np.ndarray  # str per link

    def __len__(self) -> int:
        return len(self.parent)

    def where(self, keep: np.ndarray) -> Links:
        return Links(self.parent[keep], self.child[keep], self.relation[keep])

    def of_relation(self, relation: str | None) -> Links:
        """The links of one relation; every link when relation is None."""
        return self if relation is None else self.where(self.relation == relation)

    def without_relation(self, relation: str) -> Links:
        return self.where(self.relation != relation)

    def unique_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(parent rows, child rows) with each pair once, sorted by parent then child."""
        return self._unique_pairs

    @cached_property
    def _unique_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        if not len(self):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        width = int(max(self.parent.max(), self.child.max())) + 1
        keys = np.unique(self.parent * width + self.child)
        return keys // width, keys % width

    @property
    def relations(self) -> list[str]:
        return sorted(set(self.relation.tolist()))


def edge_rows(models: pa.Table, edges: pa.Table) -> Links:
    """Every edge as rows of ``models``: -1 for an end that is not a model of the table."""
    ids = pd.Index(string_column(models, "model_id"))
    parent = ids.get_indexer(string_column(edges, "parent_id")).astype(np.int64)
    child = ids.get_indexer(string_column(edges, "child_id")).astype(np.int64)
    return Links(parent, child, string_column(edges, "relation").astype(object))


def links_of(models: pa.Table, edges: pa.Table) -> Links:
    """The links of ``edges`` whose parent and child are both rows of ``models``."""
    return _inside(edge_rows(models, edges))


def _inside(edges: Links) -> Links:
    return edges.where((edges.parent >= 0) & (edges.child >= 0) & (edges.parent != edges.child))


@dataclass(frozen=True)
class Lineage:
    """What the pair sampling needs: each row's family (a code), and the links among rows."""

    family: np.ndarray  # int64 family code per row
    family_names: np.ndarray  # root id of each family code
    links: Links  # the links inside the data
    edges: Links  # every edge, -1 for an end outside the data

    @property
    def n_models(self) -> int:
        return len(self.family)

    def family_code(self, root_id: str) -> int | None:
        found = np.flatnonzero(self.family_names == root_id)
        return int(found[0]) if len(found) else None


def lineage_of(models: pa.Table, edges: pa.Table) -> Lineage:
    codes, names = pd.factorize(pd.Series(string_column(models, "root_id")), sort=False)
    every_edge = edge_rows(models, edges)
    return Lineage(
        codes.astype(np.int64), np.asarray(names, dtype=object), _inside(every_edge), every_edge
    )

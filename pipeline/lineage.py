"""Lineage tables (edges, per-model tree position, families, trait transitions).

Built from the normalized model table (``pipeline.schema.MODEL_SCHEMA``) with
vectorized numpy / pyarrow only, so the whole 1.86M-model Hub snapshot takes
seconds: ids are mapped once to int codes, edges are int arrays, the BFS runs
one depth level at a time and subtree sizes are summed one level at a time.

Rules
-----
Edges
    One edge per distinct (parent, child, relation). The four typed parent
    lists give relations finetune / adapter / quantized / merge
    (``schema.PARENT_COLUMNS``); ``parent_model`` holds every ``base_model:X``
    tag, and a parent found only there gets relation "unspecified" (its
    "unspecified" edge is dropped when the same (parent, child) pair has a
    typed edge). Null or empty parent ids are ignored and counted
    (``dropped: empty parent id``, a link count). Self-parents are dropped and counted
    (``dropped: self-parent edge``). Edges whose parent is not a model of
    the table are kept with ``parent_in_data=False`` and counted
    (``outside: parent missing from data``). Log examples read
    ``"parent -> child"``.
Roots, depth, primary parent
    A root is a model none of whose parents are in the data. ``depth`` is the
    fewest in-data parent links from the model up to a root (multi-source BFS
    from all roots). Among the parents one level up (all at the minimal depth)
    the ``primary_parent`` is chosen by relation order finetune, adapter,
    quantized, merge, unspecified (a pair's best relation counts), then by the
    smallest parent id; ``root_id`` is the root of the primary parent. This
    makes every output independent of the input row order.
Cycles
    Models the BFS cannot reach sit in or below a loop of in-data parent
    links with no root above. Among the unreached models, each strongly
    connected component that has no parent edge from another unreached
    component (a "source" component: a loop that is not itself below another
    unreached loop) is broken: its model with the smallest id loses its
    in-data parent edges from inside the component and becomes a root. The
    BFS then resumes from those new roots, and this repeats until every model
    is reached. Loops that are reachable from a root (or from a broken loop)
    are left alone: the BFS simply reaches them. The dropped edges (all their
    relations) leave the edges table and are counted once per
    (parent, child) pair (``dropped: cycle edge broken``).
Descendants
    ``n_descendants`` is the size of the model's subtree in the primary-parent
    forest (every non-root has exactly one primary parent, so a family of size
    ``s`` has ``n_descendants(root) = s - 1``). Exact DAG descendant counts are
    too expensive at 1.86M models and would count a merge under each of its
    parents.

All output columns are Arrow-backed (``pd.ArrowDtype``): ids and relations
``string``, counts ``int64``, flags ``bool``, languages ``list<string>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.build_format import list_array, list_offsets
from pipeline.report import MAX_EXAMPLES, IssueLog
from pipeline.schema import PARENT_COLUMNS, RELATIONS

_STR = pa.string()
_LIST = pa.list_(pa.string())
_N_REL = len(RELATIONS)
_UNSPECIFIED = RELATIONS.index("unspecified")

EDGE_COLUMNS = ("parent_id", "child_id", "relation", "parent_in_data")
MODEL_LINEAGE_COLUMNS = (
    "model_id",
    "root_id",
    "depth",
    "primary_parent",
    "n_children",
    "n_descendants",
    "n_parents",
)
FAMILY_COLUMNS = (
    "root_id",
    "size",
    "max_depth",
    *(f"n_{r}" for r in RELATIONS),
    "total_downloads",
)
TRANSITION_COLUMNS = (
    "parent_id",
    "child_id",
    "relation",
    "child_depth",
    "parent_license",
    "child_license",
    "license_changed",
    "parent_languages",
    "child_languages",
    "languages_changed",
    "parent_card_length",
    "child_card_length",
    "parent_card_auto_generated",
    "child_card_auto_generated",
    "parent_has_card",
    "child_has_card",
)


@dataclass
class Lineage:
    """The lineage tables built by :func:`build_lineage` (all Arrow-backed).

    edges
        parent_id (string), child_id (string), relation (string, one of
        ``schema.RELATIONS``), parent_in_data (bool). One row per distinct
        (parent, child, relation) that survived the rules above; sorted by
        child_id, parent_id, relation order.
    models
        One row per input model, same order and index as the input:
        model_id, root_id (string), depth (int64), primary_parent (string,
        null for roots), n_children (distinct in-data children, any relation),
        n_descendants (subtree size in the primary-parent forest, self
        excluded), n_parents (distinct parents, in data or not) - all int64.
    families
        One row per root: root_id, size (models in the family), max_depth,
        n_finetune / n_adapter / n_quantized / n_merge / n_unspecified
        (edges whose child is in the family, whatever family or presence the
        parent has), total_downloads (sum, nulls as 0) - int64; sorted by
        size descending then root_id.
    transitions
        One row per edge with ``parent_in_data``, in edges order: parent_id,
        child_id, relation, child_depth; parent_/child_license (first entry
        of ``licenses`` or null) and license_changed (null if either is
        null); parent_/child_languages (sorted list<string>) and
        languages_changed (null if either list is empty, i.e. unknown);
        parent_/child_card_length (int64), parent_/child_card_auto_generated
        and parent_/child_has_card (bool), nullable as in the model table.
    """

    edges: pd.DataFrame
    models: pd.DataFrame
    families: pd.DataFrame
    transitions: pd.DataFrame


def build_lineage(models: pd.DataFrame, log: IssueLog) -> Lineage:
    """Build edges, per-model lineage, families and transitions (see module doc).

    ``models`` is a table in ``MODEL_SCHEMA`` with unique model ids. Problems
    (self-parents, cycles, parents missing from the data, empty parent ids)
    are counted in ``log``; the function never raises on them.
    """
    codes = _node_codes(models)
    edges, parent_ids, id_rank = _raw_edges(models, codes, log)
    edges, first_of_pair = _distinct_edges(edges, len(parent_ids), codes.sorted_ids, log)
    edges, pairs, tree = _place_models(edges, first_of_pair, len(parent_ids), codes, log)
    in_data = edges.parent < codes.n
    if (~in_data).any():
        miss = np.flatnonzero(~in_data)
        examples = [
            f"{parent_ids[int(edges.parent[i])].as_py()} -> "
            f"{codes.sorted_ids[int(edges.child[i])].as_py()}"
            for i in miss[:MAX_EXAMPLES]
        ]
        log.outside_links("parent missing from data", examples, count=len(miss))

    # final edge order: child id, parent id, relation order
    order = np.lexsort((edges.rel, id_rank[edges.parent], edges.child))
    edges, in_data = edges[order], in_data[order]
    edge_cols = {
        "parent_id": parent_ids.take(pa.array(edges.parent)),
        "child_id": codes.sorted_ids.take(pa.array(edges.child)),
        "relation": pa.array(list(RELATIONS), _STR).take(pa.array(edges.rel.astype(np.int64))),
        "parent_in_data": pa.array(in_data, pa.bool_()),
    }
    return Lineage(
        edges=_frame(edge_cols, index=None),
        models=_model_lineage(models, codes, edges, pairs, tree),
        families=_families(models, codes, edges, tree),
        transitions=_transitions(
            models, codes.sort_idx, edge_cols, edges.child, edges.parent, in_data, tree.depth
        ),
    )


@dataclass
class _NodeCodes:
    """The models as node codes 0..n-1: a model's code is the rank of its id, so comparing
    codes compares ids."""

    ids: pa.Array  # input position -> id
    sort_idx: np.ndarray  # node code -> input position
    sorted_ids: pa.Array  # node code -> id
    node_of_pos: np.ndarray  # input position -> node code

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class _Edges:
    """Edges as parallel arrays: child node code, parent code (a code >= n is a parent missing
    from the data) and relation (index into RELATIONS)."""

    child: np.ndarray
    parent: np.ndarray
    rel: np.ndarray

    def __getitem__(self, which) -> _Edges:
        return _Edges(self.child[which], self.parent[which], self.rel[which])


@dataclass
class _Tree:
    """Each node's place in the primary-parent forest (node codes; -1 for a root's parent)."""

    depth: np.ndarray
    primary: np.ndarray
    root: np.ndarray


def _node_codes(models: pd.DataFrame) -> _NodeCodes:
    ids = _arrow(models["model_id"], _STR)
    sort_idx = pc.sort_indices(ids).to_numpy().astype(np.int64)
    node_of_pos = np.empty(len(ids), dtype=np.int64)
    node_of_pos[sort_idx] = np.arange(len(ids), dtype=np.int64)
    return _NodeCodes(ids, sort_idx, ids.take(pa.array(sort_idx)), node_of_pos)


def _raw_edges(
    models: pd.DataFrame, codes: _NodeCodes, log: IssueLog
) -> tuple[_Edges, pa.Array, np.ndarray]:
    """Every (child, parent, relation) of the parent columns, empty parent ids dropped (and
    counted); the id of each parent code (the models' sorted ids, then the missing parents'
    sorted ids) and each parent code's rank among those ids (to sort edges by parent id)."""
    n, sorted_ids = codes.n, codes.sorted_ids
    parent_vals, child_pos, rel = [], [], []
    for column, relation in PARENT_COLUMNS.items():
        lists = _arrow(models[column], _LIST)
        parent_vals.append(pc.list_flatten(lists))
        child_pos.append(pc.list_parent_indices(lists).to_numpy().astype(np.int64))
        rel.append(np.full(len(child_pos[-1]), RELATIONS.index(relation), dtype=np.int8))
    values = pa.concat_arrays(parent_vals)
    child = codes.node_of_pos[np.concatenate(child_pos)]
    rel = np.concatenate(rel)

    valid = pc.and_(pc.is_valid(values), pc.not_equal(pc.utf8_trim_whitespace(values), ""))
    valid = pc.fill_null(valid, False).to_numpy(zero_copy_only=False)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        examples = [
            f"{sorted_ids[int(child[i])].as_py()} ({RELATIONS[rel[i]]})" for i in bad[:MAX_EXAMPLES]
        ]
        log.dropped_links("empty parent id", examples, count=len(bad))
        values = values.filter(pa.array(valid))
        child, rel = child[valid], rel[valid]

    parent = pc.fill_null(pc.index_in(values, value_set=sorted_ids), -1)
    parent = parent.to_numpy().astype(np.int64)
    missing = parent < 0
    if not missing.any():
        return _Edges(child, parent, rel), sorted_ids, np.arange(n, dtype=np.int64)
    missing_vals = values.filter(pa.array(missing))
    missing_ids = pc.unique(missing_vals)
    missing_ids = missing_ids.take(pc.sort_indices(missing_ids))
    parent[missing] = n + pc.index_in(missing_vals, value_set=missing_ids).to_numpy().astype(
        np.int64
    )
    parent_ids = pa.concat_arrays([sorted_ids, missing_ids])
    # lexicographic rank over in-data and missing ids, for sorting edges
    order = pc.sort_indices(parent_ids).to_numpy()
    id_rank = np.empty(len(parent_ids), dtype=np.int64)
    id_rank[order] = np.arange(len(parent_ids), dtype=np.int64)
    return _Edges(child, parent, rel), parent_ids, id_rank


def _distinct_edges(
    edges: _Edges, n_codes: int, sorted_ids: pa.Array, log: IssueLog
) -> tuple[_Edges, np.ndarray]:
    """One edge per distinct (child, parent, relation), sorted so; an "unspecified" edge dropped
    where its pair has a typed one, self-parent edges dropped (and counted). Also whether each
    edge is the first (best relation) of its (child, parent) pair."""
    key = np.sort((edges.child * n_codes + edges.parent) * _N_REL + edges.rel)
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    rel = (key % _N_REL).astype(np.int8)
    pair = key // _N_REL
    edges = _Edges(pair // n_codes, pair % n_codes, rel)
    same_pair = np.zeros(len(pair), dtype=bool)
    same_pair[1:] = pair[1:] == pair[:-1]  # rel ascends within a pair: typed first
    keep = ~(same_pair & (rel == _UNSPECIFIED))
    edges, same_pair = edges[keep], same_pair[keep]

    self_edge = edges.child == edges.parent
    if self_edge.any():
        looped = [
            sorted_ids[int(c)].as_py() for c in np.unique(edges.child[self_edge])[:MAX_EXAMPLES]
        ]
        log.dropped_links(
            "self-parent edge", [f"{m} -> {m}" for m in looped], count=int(self_edge.sum())
        )
        edges, same_pair = edges[~self_edge], same_pair[~self_edge]
    return edges, ~same_pair


def _place_models(
    edges: _Edges, first_of_pair: np.ndarray, n_codes: int, codes: _NodeCodes, log: IssueLog
) -> tuple[_Edges, _Edges, _Tree]:
    """BFS over the distinct in-data pairs (best relation per pair), loops broken. The edges
    without those of broken pairs, the kept in-data pairs and the tree."""
    n = codes.n
    pairs = edges[first_of_pair & (edges.parent < n)]
    depth, primary, root, active = _bfs_with_cycle_breaking(
        n, pairs.parent, pairs.child, pairs.rel, codes.sorted_ids, log
    )
    if not active.all():
        # drop every relation of the broken pairs from the edge list
        broken = np.sort(pairs.child[~active] * n_codes + pairs.parent[~active])
        edge_pair = edges.child * n_codes + edges.parent
        pos = np.minimum(np.searchsorted(broken, edge_pair), len(broken) - 1)
        edges, pairs = edges[broken[pos] != edge_pair], pairs[active]
    return edges, pairs, _Tree(depth, primary, root)


def _model_lineage(
    models: pd.DataFrame, codes: _NodeCodes, edges: _Edges, pairs: _Edges, tree: _Tree
) -> pd.DataFrame:
    """The per-model table (input order and index); edges are grouped by (child, parent)."""
    n = codes.n
    n_children = np.bincount(pairs.parent, minlength=n).astype(np.int64)  # distinct in-data pairs
    new_pair = np.ones(len(edges.child), dtype=bool)
    new_pair[1:] = (edges.child[1:] != edges.child[:-1]) | (edges.parent[1:] != edges.parent[:-1])
    n_parents = np.bincount(edges.child[new_pair], minlength=n).astype(np.int64)
    subtree = _subtree_sizes(tree.depth, tree.primary)

    node = codes.node_of_pos  # input position -> node code
    primary = tree.primary[node]
    return _frame(
        {
            "model_id": codes.ids,
            "root_id": codes.sorted_ids.take(pa.array(tree.root[node])),
            "depth": pa.array(tree.depth[node], pa.int64()),
            "primary_parent": codes.sorted_ids.take(
                pa.array(primary, mask=primary < 0, type=pa.int64())
            ),
            "n_children": pa.array(n_children[node], pa.int64()),
            "n_descendants": pa.array(subtree[node] - 1, pa.int64()),
            "n_parents": pa.array(n_parents[node], pa.int64()),
        },
        index=models.index,
    )


def _families(models: pd.DataFrame, codes: _NodeCodes, edges: _Edges, tree: _Tree) -> pd.DataFrame:
    """One row per root: size, max depth, edges per relation, total downloads."""
    n = codes.n
    roots = np.flatnonzero(tree.primary < 0)  # ascending node code = ascending id
    fam_of_node = np.full(n, -1, dtype=np.int64)
    fam_of_node[roots] = np.arange(len(roots), dtype=np.int64)
    fam = fam_of_node[tree.root]
    k = len(roots)
    size = np.bincount(fam, minlength=k).astype(np.int64)
    max_depth = np.zeros(k, dtype=np.int64)
    np.maximum.at(max_depth, fam, tree.depth)
    rel_counts = np.bincount(fam[edges.child] * _N_REL + edges.rel, minlength=k * _N_REL)
    rel_counts = rel_counts.reshape(k, _N_REL)
    downloads = _arrow(models["downloads"], pa.int64())
    downloads = pc.fill_null(downloads, 0).to_numpy().astype(np.int64)
    node_downloads = np.empty(n, dtype=np.int64)
    node_downloads[codes.node_of_pos] = downloads
    total = np.zeros(k, dtype=np.int64)
    np.add.at(total, fam, node_downloads)
    forder = np.lexsort((np.arange(k), -size))
    fam_cols = {
        "root_id": codes.sorted_ids.take(pa.array(roots[forder])),
        "size": pa.array(size[forder], pa.int64()),
        "max_depth": pa.array(max_depth[forder], pa.int64()),
    }
    for j, relation in enumerate(RELATIONS):
        fam_cols[f"n_{relation}"] = pa.array(rel_counts[forder, j].astype(np.int64), pa.int64())
    fam_cols["total_downloads"] = pa.array(total[forder], pa.int64())
    return _frame(fam_cols, index=None)


# ---------------------------------------------------------------------------
# graph helpers (nodes are 0..n-1; pp -> pc are distinct in-data pairs)
# ---------------------------------------------------------------------------


def _bfs_with_cycle_breaking(
    n: int, pp: np.ndarray, pc_: np.ndarray, prel: np.ndarray, sorted_ids: pa.Array, log: IssueLog
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Level BFS from roots; break source loops among unreached models, repeat.

    Returns depth, primary parent (-1 for roots), root node and the per-pair
    ``active`` mask (False = pair dropped to break a cycle).
    """
    depth = np.full(n, -1, dtype=np.int64)
    primary = np.full(n, -1, dtype=np.int64)
    root = np.full(n, -1, dtype=np.int64)
    active = np.ones(len(pp), dtype=bool)
    if n == 0:
        return depth, primary, root, active

    order = np.argsort(pp, kind="stable")
    csr_child, csr_rel, csr_pair = pc_[order], prel[order], order
    indptr = list_offsets(pp, n)

    has_parent = np.zeros(n, dtype=bool)
    has_parent[pc_] = True
    frontier = np.flatnonzero(~has_parent)
    broken_examples: list[str] = []
    n_broken = 0
    while True:
        depth[frontier] = 0
        root[frontier] = frontier
        _bfs(frontier, depth, primary, root, indptr, csr_child, csr_rel, csr_pair, active)
        unreached = depth < 0
        if not unreached.any():
            break
        frontier, dropped = _break_source_cycles(n, unreached, pp, pc_, active)
        active[dropped] = False
        n_broken += len(dropped)
        for i in dropped[np.lexsort((pp[dropped], pc_[dropped]))][
            : MAX_EXAMPLES - len(broken_examples)
        ]:
            broken_examples.append(
                f"{sorted_ids[int(pp[i])].as_py()} -> {sorted_ids[int(pc_[i])].as_py()}"
            )
    if n_broken:
        log.dropped_links("cycle edge broken", broken_examples, count=n_broken)
    return depth, primary, root, active


def _bfs(
    frontier: np.ndarray,
    depth: np.ndarray,
    primary: np.ndarray,
    root: np.ndarray,
    indptr: np.ndarray,
    csr_child: np.ndarray,
    csr_rel: np.ndarray,
    csr_pair: np.ndarray,
    active: np.ndarray,
) -> None:
    """Assign depth / primary / root level by level from ``frontier`` (in place)."""
    d = int(depth[frontier[0]]) if len(frontier) else 0
    while len(frontier):
        starts = indptr[frontier]
        lens = indptr[frontier + 1] - starts
        total = int(lens.sum())
        if total == 0:
            break
        offs = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total, dtype=np.int64)
        par = np.repeat(frontier, lens)
        ch = csr_child[offs]
        ok = (depth[ch] < 0) & active[csr_pair[offs]]
        par, ch, rl = par[ok], ch[ok], csr_rel[offs][ok]
        if not len(ch):
            break
        o = np.lexsort((par, rl, ch))  # per child: best relation, then smallest parent
        par, ch = par[o], ch[o]
        first = np.ones(len(ch), dtype=bool)
        first[1:] = ch[1:] != ch[:-1]
        ch, par = ch[first], par[first]
        d += 1
        depth[ch] = d
        primary[ch] = par
        root[ch] = root[par]
        frontier = ch


def _break_source_cycles(
    n: int, unreached: np.ndarray, pp: np.ndarray, pc_: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """New roots and dropped pair indices for each source SCC of unreached models."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    nodes = np.flatnonzero(unreached)
    local = np.full(n, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes), dtype=np.int64)
    sub = np.flatnonzero(active & unreached[pp] & unreached[pc_])
    lp, lc = local[pp[sub]], local[pc_[sub]]
    m = len(nodes)
    graph = csr_matrix((np.ones(len(sub), dtype=np.int8), (lp, lc)), shape=(m, m))
    n_comp, label = connected_components(graph, directed=True, connection="strong")
    fed = np.zeros(n_comp, dtype=bool)
    cross = label[lp] != label[lc]
    fed[label[lc[cross]]] = True
    smallest = np.full(n_comp, m, dtype=np.int64)
    np.minimum.at(smallest, label, np.arange(m, dtype=np.int64))  # local order = id order
    chosen_local = smallest[~fed]
    is_chosen = np.zeros(m, dtype=bool)
    is_chosen[chosen_local] = True
    dropped = sub[is_chosen[lc] & ~cross]
    return nodes[chosen_local], dropped


def _subtree_sizes(depth: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """Subtree size (self included) in the primary-parent forest, bottom-up by depth."""
    size = np.ones(len(depth), dtype=np.int64)
    if not len(depth):
        return size
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    for d in range(int(depth.max()), 0, -1):
        nodes = order[bounds[d] : bounds[d + 1]]
        np.add.at(size, primary[nodes], size[nodes])
    return size


# ---------------------------------------------------------------------------
# transitions
# ---------------------------------------------------------------------------


def _transitions(
    models: pd.DataFrame,
    sort_idx: np.ndarray,
    edge_cols: dict[str, pa.Array],
    child: np.ndarray,
    parent: np.ndarray,
    in_data: np.ndarray,
    depth: np.ndarray,
) -> pd.DataFrame:
    """Trait pairs (license, languages, card) along every in-data edge."""
    sel = np.flatnonzero(in_data)
    pi, ci = sort_idx[parent[sel]], sort_idx[child[sel]]  # node code -> input position
    p_pos, c_pos = pa.array(pi), pa.array(ci)

    licenses = _arrow(models["licenses"], _LIST)
    lic_len = pc.fill_null(pc.list_value_length(licenses), 0).to_numpy().astype(np.int64)
    offsets = licenses.offsets.to_numpy()[:-1].astype(np.int64)
    first_license = licenses.values.take(pa.array(offsets, mask=lic_len == 0, type=pa.int64()))

    languages = _sorted_lists(_arrow(models["languages"], _LIST))
    lang_len = pc.fill_null(pc.list_value_length(languages), 0).to_numpy().astype(np.int64)
    lang_key = pc.dictionary_encode(pc.binary_join(languages, "\x1f")).indices.to_numpy(
        zero_copy_only=False
    )
    lang_key = np.asarray(lang_key, dtype=np.int64)

    unknown_lang = (lang_len[pi] == 0) | (lang_len[ci] == 0)
    p_lic, c_lic = first_license.take(p_pos), first_license.take(c_pos)

    mask = pa.array(in_data)
    cols = {
        "parent_id": edge_cols["parent_id"].filter(mask),
        "child_id": edge_cols["child_id"].filter(mask),
        "relation": edge_cols["relation"].filter(mask),
        "child_depth": pa.array(depth[child[sel]], pa.int64()),
        "parent_license": p_lic,
        "child_license": c_lic,
        "license_changed": pc.not_equal(p_lic, c_lic),
        "parent_languages": languages.take(p_pos),
        "child_languages": languages.take(c_pos),
        "languages_changed": pa.array(
            lang_key[pi] != lang_key[ci], mask=unknown_lang, type=pa.bool_()
        ),
    }
    for src, typ in (
        ("card_length", pa.int64()),
        ("card_auto_generated", pa.bool_()),
        ("has_card", pa.bool_()),
    ):
        arr = _arrow(models[src], typ)
        cols[f"parent_{src}"] = arr.take(p_pos)
        cols[f"child_{src}"] = arr.take(c_pos)
    return _frame({c: cols[c] for c in TRANSITION_COLUMNS}, index=None)


def _sorted_lists(lists: pa.ListArray) -> pa.ListArray:
    """Each list sorted ascending (same lengths; null lists become empty)."""
    values = pc.list_flatten(lists)
    owner = pc.list_parent_indices(lists)
    by_owner_and_value = [("owner", "ascending"), ("value", "ascending")]
    idx = pc.sort_indices(pa.table({"owner": owner, "value": values}), sort_keys=by_owner_and_value)
    return list_array(owner.to_numpy(), values.take(idx), len(lists))


# ---------------------------------------------------------------------------
# arrow plumbing
# ---------------------------------------------------------------------------


def _arrow(series: pd.Series, typ: pa.DataType) -> pa.Array:
    """A column as one contiguous Arrow array of ``typ`` (any pandas backing)."""
    if isinstance(series.dtype, pd.ArrowDtype):
        arr = pa.array(series)
    else:
        arr = pa.array(series, type=typ, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != typ:
        arr = arr.cast(typ)
    return arr


def _frame(columns: dict[str, pa.Array], index: pd.Index | None) -> pd.DataFrame:
    """Arrow columns -> DataFrame with ``pd.ArrowDtype`` columns."""
    df = pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype)
    if index is not None:
        df.index = index
    return df

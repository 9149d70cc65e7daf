"""On a slice of the real Hub listing of July 2024, the lineage follows the README's *Lineage rules*
exactly.

The slice is every record of a few whole families (weakly connected components of
the listing's ``base_model:`` links, so no parent outside the slice is lost):
Mistral-7B-v0.1's (about 26,000 models joined by merges, with a parent cycle of four
MrRobotoAI models inside it), the listing's deepest chain (39 links, down to
Citaman/command-r-1-layer) and the components of the listing's other parent cycles.
Those records are written verbatim to a JSONL file, read by hfmap's own reader and
given to ``build_lineage``; every column is compared with a plain networkx
computation of the README's rules from the records' raw tags.
"""

from __future__ import annotations

import gzip
import json

import networkx as nx
import pytest

from pipeline.lineage import build_lineage
from pipeline.report import IssueLog
from pipeline.sources import load_source

LISTING = "hub_models_2024-07.jsonl.gz"
SEEDS = (
    "mistralai/Mistral-7B-v0.1",  # ~5,000 descendants; its component also holds a 4-model cycle
    "Citaman/command-r-1-layer",  # the end of the listing's deepest chain (39 links)
    "weiren119/distilhubert-finetuned-gtzan",  # two-model parent cycles, each a family of its own
    "Edmon02/speecht5_finetuned_voxpopuli_hy",
    "BexRedpill/distilbert-on-polarity-yelp-reviews",
    "quastrinos/race-openbook-finetuned-deberta-v3-large-mcqa-TPU",  # a 3-model cycle
    "mHossain/bengali_pos_v1_300000",
    "SQAI/bge-embedding-model",
)
PREFIX = "base_model:"


@pytest.fixture(scope="module")
def real_slice(shared_data, tmp_path_factory):
    """(path of the slice written as JSONL, {model id: its raw base_model parents})."""
    listing = shared_data / LISTING
    if not listing.is_file():
        pytest.fail(f"the real listing is missing: expected {listing}")
    links: dict[str, list[str]] = {}
    with gzip.open(listing, "rb") as file:
        for line in file:
            if b'"' + PREFIX.encode() in line:  # only records with a parent link are parsed here
                record = json.loads(line)
                links[record["id"]] = [
                    t[len(PREFIX) :] for t in record["tags"] if t.startswith(PREFIX)
                ]
    graph = nx.Graph()
    graph.add_edges_from((parent, child) for child, parents in links.items() for parent in parents)
    wanted = set().union(*(nx.node_connected_component(graph, seed) for seed in SEEDS))

    path = tmp_path_factory.mktemp("real-lineage") / "slice.jsonl"
    parents = {}
    with gzip.open(listing, "rb") as file, path.open("wb") as out:
        for line in file:
            if _raw_id(line) in wanted and (model_id := json.loads(line)["id"]) in wanted:
                out.write(line)
                parents[model_id] = links.get(model_id, [])
    return path, parents


def _raw_id(line: bytes) -> str | None:
    """The record's id read off the raw line without parsing it (None when it is not plain
    there)."""
    start = line.find(b'"id":"') + 6
    try:
        return line[start : line.find(b'"', start)].decode() if start >= 6 else None
    except UnicodeDecodeError:
        return None


def expected_lineage(parents: dict[str, list[str]]) -> tuple[dict[str, dict], set[tuple[str, str]]]:
    """The README's rules computed the plain way: per model its root_id, depth, primary_parent,
    n_children, n_parents and n_descendants, and the in-data (parent, child) links that remain
    (every tag a plain base_model tag: relation unspecified)."""
    ids = set(parents)
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((p, c) for c, ps in parents.items() for p in ps if p != c and p in ids)
    roots = {m for m in ids if graph.in_degree(m) == 0}
    dropped = set()
    while True:  # break each unreachable source cycle at its smallest id
        reached = set(roots).union(*(nx.descendants(graph, r) for r in roots))
        unreached = graph.subgraph(ids - reached)
        if not unreached:
            break
        condensed = nx.condensation(unreached)
        for component in condensed:
            if condensed.in_degree(component) == 0:
                members = condensed.nodes[component]["members"]
                new_root = min(members)
                cut = [(p, new_root) for p in graph.predecessors(new_root) if p in members]
                graph.remove_edges_from(cut)
                dropped.update(cut)
                roots.add(new_root)

    depth = dict.fromkeys(roots, 0)
    level = sorted(roots)
    while level:  # breadth first from every root at once: the fewest links to any root
        following = sorted({c for m in level for c in graph.successors(m) if c not in depth})
        depth.update((c, depth[level[0]] + 1) for c in following)
        level = following
    assert set(depth) == ids

    primary = {
        m: min((p for p in graph.predecessors(m) if depth[p] == depth[m] - 1), default=None)
        for m in ids
    }
    root_of, descendants = {}, dict.fromkeys(ids, 0)
    for m in sorted(ids, key=depth.get):
        root_of[m] = m if primary[m] is None else root_of[primary[m]]
    for m in sorted(ids, key=depth.get, reverse=True):
        if primary[m] is not None:
            descendants[primary[m]] += descendants[m] + 1
    per_model = {
        m: {
            "root_id": root_of[m],
            "depth": depth[m],
            "primary_parent": primary[m],
            "n_children": graph.out_degree(m),
            "n_parents": len({p for p in parents[m] if p != m and (p, m) not in dropped}),
            "n_descendants": descendants[m],
        }
        for m in ids
    }
    return per_model, set(graph.edges)


def test_real_slice_lineage_follows_the_readme_rules(real_slice):
    path, parents = real_slice
    assert len(parents) > 25_000
    assert all(
        ":" not in p for ps in parents.values() for p in ps
    )  # July 2024: plain base_model tags only

    log = IssueLog()
    models = load_source(str(path), log)
    assert len(models) == len(parents)
    lineage = build_lineage(models, log)
    got = lineage.models.set_index("model_id")
    expected, _ = expected_lineage(parents)

    for column in (
        "root_id",
        "depth",
        "primary_parent",
        "n_children",
        "n_parents",
        "n_descendants",
    ):
        computed = dict(zip(got.index, got[column].to_numpy(dtype=object, na_value=None)))
        wrong = {
            m: (computed[m], e[column]) for m, e in expected.items() if computed[m] != e[column]
        }
        assert not wrong, f"{column}: {len(wrong)} models differ, e.g. {list(wrong.items())[:3]}"

    # the known shapes of this slice: ties broken by the smallest parent id, a deep chain, a
    # reachable cycle
    ties = [
        m
        for m, e in expected.items()
        if sum(expected[p]["depth"] == e["depth"] - 1 for p in set(parents[m]) if p in expected) > 1
    ]
    assert len(ties) > 1_000
    assert (
        expected["MrRobotoAI/Thoth-4"]["depth"] == 2
    )  # in a cycle, but reached from a root: left alone
    assert expected["Citaman/command-r-1-layer"]["depth"] == 39
    assert got.loc["mistralai/Mistral-7B-v0.1", "depth"] == 0
    assert got.loc["mistralai/Mistral-7B-v0.1", "n_descendants"] > 4_000
    families = lineage.families.set_index("root_id")
    assert (
        families.loc["mistralai/Mistral-7B-v0.1", "size"]
        == 1 + got.loc["mistralai/Mistral-7B-v0.1", "n_descendants"]
    )
    assert (families["size"] == families.index.map(lambda r: 1 + got.loc[r, "n_descendants"])).all()
    # every cycle of the slice was broken at its smallest id, which became a root
    for cycle_member in (
        "quastrinos/race-openbook-finetuned-deberta-v3-large-mcqa-TPU",
        "SQAI/bge-embedding-model",
    ):
        assert (
            got.loc[cycle_member, "depth"] == 0 and got.loc[cycle_member, "root_id"] == cycle_member
        )


def test_real_slice_edges_are_the_distinct_parent_links(real_slice):
    path, parents = real_slice
    log = IssueLog()
    lineage = build_lineage(load_source(str(path), log), log)
    _, expected_links = expected_lineage(parents)
    assert set(lineage.edges["relation"]) == {"unspecified"}
    pairs = list(zip(lineage.edges["parent_id"], lineage.edges["child_id"]))
    assert len(set(pairs)) == len(pairs)  # one edge per distinct link
    in_data = lineage.edges["parent_in_data"].to_numpy(dtype=bool)
    all_links = {(p, c) for c, ps in parents.items() for p in ps if p in parents}
    assert sum(p == c for p, c in all_links) == 5  # the slice's self-links
    assert (
        len({(p, c) for p, c in all_links if p != c} - expected_links) == 6
    )  # one per unreachable cycle
    # in the data: every distinct link but self-links and those dropped to break cycles
    assert {pair for pair, inside in zip(pairs, in_data) if inside} == expected_links
    # outside the data: every distinct link to a parent the listing does not hold
    assert {pair for pair, inside in zip(pairs, in_data) if not inside} == {
        (p, c) for c, ps in parents.items() for p in ps if p not in parents
    }

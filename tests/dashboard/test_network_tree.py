"""The network view's family tree: generations in rows (ancestors above the model, descendants
below), large families grouped into "+N more (relation)" nodes that open on click, labels that
keep the author where two names collide and never overlap, and the family's exports (GraphML,
CSV of links) that parse back, from the query to GET /api/family.*.

The synthetic families are real ``Edges`` over a links table, as the build stores it."""

from __future__ import annotations

import csv
import io
from collections import Counter

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from dashboard.data import Edges
from dashboard.figures.network import graph_elements, node_labels
from dashboard.queries.family_export import (
    Family,
    family_edges_csv,
    family_export,
    family_graphml,
)
from dashboard.queries.network import (
    EXPAND_STEP,
    TREE_DEPTH,
    GraphModels,
    expand,
    expansions,
    group_id,
    lineage_tree,
)
from pipeline.config import Settings

LIMIT = 12
CHILDREN = 4000


def links(pairs: list[tuple[int, int, str]]) -> Edges:
    """Real Edges over (parent row, child row, relation) links."""
    table = pa.table(
        {
            "parent_id": pa.array([f"m/{p}" for p, _, _ in pairs], pa.string()),
            "child_id": pa.array([f"m/{c}" for _, c, _ in pairs], pa.string()),
            "parent_row": pa.array([p for p, _, _ in pairs], pa.int32()),
            "child_row": pa.array([c for _, c, _ in pairs], pa.int32()),
            "relation": pa.array([r for _, _, r in pairs], pa.string()).dictionary_encode(),
        }
    )
    return Edges(table)


def drawn(graph, ids=None) -> GraphModels:
    """What the figure reads of a synthetic graph's models."""
    rows = np.asarray(graph.nodes)
    return GraphModels(
        graph,
        ids or [f"author{row % 3}/model-{row}" for row in graph.nodes],
        ["transformers"] * len(rows),
        np.asarray([float(1000 - row % 1000) for row in graph.nodes]),
        None,
        ["transformers"],
    )


def nodes_of(elements: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e for e in elements if "source" not in e["data"]}


@pytest.fixture(scope="module")
def family() -> tuple[Edges, np.ndarray]:
    """Row 0 -> 1 -> 2 (the model) with a second parent 3 of 2 (a merge) and 0's parent 4; the
    model's CHILDREN quantized children (rows 10..), 5 finetunes (rows 5..9), each finetune with
    two children of its own."""
    pairs = [(4, 0, "finetune"), (0, 1, "finetune"), (1, 2, "finetune"), (3, 2, "merge")]
    pairs += [(2, 5 + i, "finetune") for i in range(5)]
    quantized = list(range(10, 10 + CHILDREN))
    pairs += [(2, row, "quantized") for row in quantized]
    grandchildren = 10 + CHILDREN
    pairs += [(5 + i, grandchildren + 2 * i + j, "adapter") for i in range(5) for j in range(2)]
    downloads = np.zeros(grandchildren + 10)
    downloads[5:10] = 10_000  # the finetunes are the most downloaded children
    downloads[quantized] = np.arange(CHILDREN, 0, -1)  # then the quantized ones, in row order
    return links(pairs), downloads


def test_each_node_sits_in_the_row_of_its_generation_ancestors_above(family):
    edges, downloads = family
    graph = lineage_tree(edges, downloads, 2, 150, LIMIT)
    assert graph.generation[2] == 0
    assert {graph.generation[r] for r in (1, 3)} == {-1} and graph.generation[0] == -2
    assert graph.generation[4] == -3 and graph.generation[5] == 1
    elements = graph_elements(drawn(graph), tree=True)
    ys = {node: e["position"]["y"] for node, e in nodes_of(elements).items()}
    by_generation: dict[int, set[float]] = {}
    for row, level in graph.generation.items():
        by_generation.setdefault(level, set()).add(ys[str(row)])
    assert all(len(rows) == 1 for rows in by_generation.values())  # one row per generation
    levels = sorted(by_generation)
    assert levels == [-3, -2, -1, 0, 1, 2]
    row_y = [by_generation[level].pop() for level in levels]
    assert row_y == sorted(row_y) and len(set(row_y)) == len(row_y)  # roots on top, then down
    group = nodes_of(elements)[group_id(2, "quantized")]
    assert group["position"]["y"] == ys["5"]  # a group sits in its models' generation


def test_a_model_with_4000_quantized_children_draws_one_group_that_opens_on_click(family):
    edges, downloads = family
    graph = lineage_tree(edges, downloads, 2, 150, LIMIT)
    children = [row for row, level in graph.generation.items() if level == 1]
    assert len(children) == LIMIT  # the 5 finetunes and the 7 most downloaded quantized models
    assert set(range(5, 10)) <= set(children)
    hidden = CHILDREN - (LIMIT - 5)
    assert graph.groups == [(2, "quantized", hidden)]
    labels = [
        n["data"]["label"] for n in nodes_of(graph_elements(drawn(graph), tree=True)).values()
    ]
    assert sum("more" in label for label in labels) == 1
    assert f"+{hidden:,} more (quantized)" in labels

    opened = expand([], group_id(2, "quantized"))  # a click on the group
    assert opened == [[2, "quantized", EXPAND_STEP]]
    wider = lineage_tree(edges, downloads, 2, 150, LIMIT, expansions(opened))
    assert wider.groups == [(2, "quantized", hidden - EXPAND_STEP)]
    added = set(wider.nodes) - set(graph.nodes)
    assert added == set(range(10 + LIMIT - 5, 10 + LIMIT - 5 + EXPAND_STEP))  # the next ones
    assert set(graph.nodes) <= set(wider.nodes)  # the rest stays
    every = lineage_tree(edges, downloads, 2, 150, LIMIT, ((2, "quantized", CHILDREN),))
    assert not any(relation == "quantized" for _, relation, _ in every.groups)
    assert set(range(10, 10 + CHILDREN)) <= set(every.nodes)


def test_opened_groups_from_a_browser_are_checked():
    assert expansions("junk") == ()
    assert expansions([[1, "quantized", 5], [2, "nonsense", 5], ["x", "merge", 1], [3]]) == (
        (1, "quantized", 5),
    )
    assert expansions([[1, "merge", 10**9]]) == ((1, "merge", 2000),)
    assert expand([[1, "merge", 24]], "not-a-group") == [[1, "merge", 24]]


def test_labels_keep_the_author_only_where_two_names_collide():
    ids = ["TheBloke/Llama-2-7B-GGUF", "someone/llama-2-7b-gguf", "google/gemma-7b", "solo"]
    assert node_labels(ids) == [
        "TheBloke/Llama-2-7B-GGUF",
        "someone/llama-2-7b-gguf",
        "gemma-7b",
        "solo",
    ]


def test_shown_labels_do_not_overlap_and_the_rest_are_on_hover(family):
    edges, downloads = family
    graph = lineage_tree(edges, downloads, 2, 150, LIMIT)
    nodes = nodes_of(graph_elements(drawn(graph), tree=True)).values()
    rows: dict[float, list[tuple[float, float]]] = {}
    for node in nodes:
        data, x = node["data"], node["position"]["x"]
        assert data["hover"]  # every node names itself on hover
        if data["label"]:
            half = 0.62 * len(data["label"]) * data["font"] / 2
            rows.setdefault(node["position"]["y"], []).append((x - half, x + half))
    assert any(not node["data"]["label"] for node in nodes)  # not every label fits
    assert nodes_of(graph_elements(drawn(graph), tree=True))["2"]["data"]["label"]  # the centre's
    for boxes in rows.values():
        boxes.sort()
        assert all(a[1] <= b[0] + 1e-6 for a, b in zip(boxes, boxes[1:]))


# ---------------------------------------------------------------- exports

HOSTILE = Family(
    'evil/"quoted",comma\nline',
    ids=['evil/"quoted",comma\nline', "evil/<b>&amp;\x01\x1f", "plain/child"],
    authors=["evil", "evil", "plain"],
    downloads=[10**16 + 1, None, 3],
    likes=[1, 2, None],
    pipelines=["text-generation", None, "x\x0by"],
    licenses=["mit", None, None],
    links=[
        ('evil/"quoted",comma\nline', "evil/<b>&amp;\x01\x1f", "merge"),
        ("evil/<b>&amp;\x01\x1f", "plain/child", "quantized"),
    ],
)


def test_exports_of_hostile_ids_parse_back():
    rows = list(csv.reader(io.StringIO(family_edges_csv(HOSTILE))))
    assert rows[0] == ["parent_id", "child_id", "relation"]
    assert [tuple(row) for row in rows[1:]] == HOSTILE.links
    graph = nx.parse_graphml(family_graphml(HOSTILE))  # valid XML despite control characters
    assert graph.number_of_nodes() == 3 and graph.number_of_edges() == 2
    node = graph.nodes['evil/"quoted",comma\nline']
    assert node["downloads"] == 10**16 + 1 and node["author"] == "evil"
    assert "downloads" not in graph.nodes["evil/<b>&amp;\ufffd\ufffd"]
    assert sorted(nx.get_edge_attributes(graph, "relation").values()) == ["merge", "quantized"]


@pytest.fixture(scope="module")
def client(sample_build, session_redis, tmp_path_factory):
    from dashboard.app import create_app

    settings = Settings(
        cache_dir=sample_build.parent / "cache",
        tracker_db=tmp_path_factory.mktemp("api-family") / "tracker.sqlite",
        redis_url=session_redis.url,
    )
    return create_app(sample_build, settings).server.test_client()


def test_family_endpoints_send_the_whole_family_with_each_links_relation(client, sample_models):
    from dashboard.serving import served_build

    csv_answer = client.get("/api/family.csv?model=google/gemma-7b")
    assert csv_answer.status_code == 200 and csv_answer.mimetype == "text/csv"
    assert "attachment" in csv_answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_answer.get_data(as_text=True))))
    gemma = sample_models[sample_models["root_id"] == "google/gemma-7b"]
    assert len(rows) == len(gemma) - 1  # one link to each descendant of the root
    graphml = client.get("/api/family.graphml?model=google/gemma-7b")
    graph = nx.parse_graphml(graphml.get_data(as_text=True))
    assert set(graph.nodes) == set(gemma["model_id"])
    relations = Counter(r for _, _, r in graph.edges(data="relation"))
    assert relations == Counter(row["relation"] for row in rows)
    root = graph.nodes["google/gemma-7b"]
    assert {"id", "author", "downloads", "likes", "pipeline", "license"} <= set(root)
    assert family_export(served_build(), "google/gemma-7b").links  # the same query as the view

    for path in ("/api/family.csv?model=no/such", "/api/family.graphml"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.get_json()["error"].count(".") == 1  # one sentence


def test_generations_below_the_tree_depth_wait_in_a_group():
    chain = links([(row, row + 1, "finetune") for row in range(10)])
    graph = lineage_tree(chain, np.zeros(11), 0, 150, LIMIT)
    assert max(graph.generation.values()) == TREE_DEPTH
    assert graph.groups == [(TREE_DEPTH, "finetune", 1)]  # "+1 more" under the deepest drawn
    deeper = lineage_tree(chain, np.zeros(11), 0, 150, LIMIT, ((TREE_DEPTH, "finetune", 1),))
    assert max(deeper.generation.values()) == TREE_DEPTH + 1

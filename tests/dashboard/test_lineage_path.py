"""Lineage paths (issue 16): a model's path to its family's root and the path between two models
through their closest common ancestor, on hand-made families with known answers (planted in a copy
of the sample build, tests/hostile_builds.py: a cycle and a parent outside the data too, which the
pipeline itself never leaves), and on every model of the real sample."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import pytest
from dash import dcc, html
from dash_pages import components
from hostile_builds import PARENT_COLUMNS, hostile_build

from dashboard.cache_codec import decode, encode
from dashboard.components import PATH_ENDS, PATH_HEAD, PATH_TAIL, details_card
from dashboard.data import Build
from dashboard.queries.lineage_path import (
    CUT_AT_CYCLE,
    CUT_AT_LIMIT,
    CUT_AT_MISSING,
    PATH_LIMIT,
    LineagePath,
    Link,
    RootPath,
    path_between,
    path_to_root,
)
from dashboard.queries.models import model_details
from dashboard.url_state import from_query

FILTERED = "?search=f%2F&min_downloads=0&libraries=transformers"
DEEP = 100  # models in the deep chain d/0 <- d/1 <- ... <- d/99

# (model, primary parent, depth, root) of the hand-made families; the links below
FAMILIES = [
    ("f/root", None, 0, "f/root"),
    ("f/a", "f/root", 1, "f/root"),
    ("f/a1", "f/a", 2, "f/root"),
    ("f/a2", "f/a1", 3, "f/root"),
    ("f/b", "f/root", 1, "f/root"),
    ("f/b1", "f/b", 2, "f/root"),
    ("g/root", None, 0, "g/root"),
    ("g/c", "g/root", 1, "g/root"),
    # a loop of primary parents (x <- y <- x) with z below it
    ("c/x", "c/y", 1, "c/x"),
    ("c/y", "c/x", 1, "c/x"),
    ("c/z", "c/x", 2, "c/x"),
    # a primary parent outside the data
    ("m/child", "m/gone", 1, "m/child"),
    *[(f"d/{i}", f"d/{i - 1}" if i else None, i, "d/0") for i in range(DEEP)],
]
# (parent, child, relation, parent in data)
LINKS = [
    ("outside/base", "f/root", "finetune", False),  # a root's parent outside the data
    ("f/root", "f/a", "finetune", True),
    ("f/a", "f/a1", "quantized", True),
    ("f/a1", "f/a2", "unspecified", True),  # the pair's strongest relation: adapter
    ("f/a1", "f/a2", "adapter", True),
    ("f/root", "f/b", "finetune", True),
    ("f/b", "f/b1", "merge", True),
    ("f/a2", "f/b1", "merge", True),  # b1's second parent, not its primary one
    ("g/root", "g/c", "finetune", True),
    ("c/y", "c/x", "finetune", True),
    ("c/x", "c/y", "finetune", True),
    ("c/x", "c/z", "adapter", True),
    ("m/gone", "m/child", "finetune", False),
    *[(f"d/{i - 1}", f"d/{i}", "finetune", True) for i in range(1, DEEP)],
]


def plant_families(tables) -> None:
    """Append the hand-made models and their links to the sample build's tables."""
    models = tables["models"]
    added = models.iloc[[3] * len(FAMILIES)].reset_index(drop=True)
    added["model_id"] = [model for model, _, _, _ in FAMILIES]
    added["primary_parent"] = [parent for _, parent, _, _ in FAMILIES]
    added["depth"] = [depth for _, _, depth, _ in FAMILIES]
    added["root_id"] = [root for _, _, _, root in FAMILIES]
    for column in PARENT_COLUMNS:
        added[column] = None
    tables["models"] = pd.concat([models, added], ignore_index=True)
    links = pd.DataFrame(LINKS, columns=["parent_id", "child_id", "relation", "parent_in_data"])
    tables["edges"] = pd.concat([tables["edges"], links], ignore_index=True)


@pytest.fixture(scope="module")
def build(sample_build, tmp_path_factory) -> Build:
    tmp = tmp_path_factory.mktemp("lineage-paths")
    hostile_build(sample_build, tmp / "builds", "20990101T000000000016Z", plant_families)
    return Build.load(tmp / "builds", tmp / "cache")


def chain(*steps: str) -> list[Link]:
    """The links of a path written as model, relation, parent, relation, parent, ..."""
    return [Link(steps[i], steps[i + 2], steps[i + 1], True) for i in range(0, len(steps) - 2, 2)]


def test_path_to_root_follows_primary_parents_with_their_strongest_relation(build):
    assert path_to_root(build, "f/a2") == RootPath(
        chain("f/a2", "adapter", "f/a1", "quantized", "f/a", "finetune", "f/root")
    )
    assert path_to_root(build, "f/b1") == RootPath(
        chain("f/b1", "merge", "f/b", "finetune", "f/root")
    )


def test_a_root_or_unknown_model_has_an_empty_path(build):
    assert path_to_root(build, "f/root") == RootPath([], None)  # its parent outside the data
    assert path_to_root(build, "d/0") == RootPath([], None)
    assert path_to_root(build, "no/such-model") == RootPath([], None)


def test_path_between_meets_at_the_closest_common_ancestor(build):
    assert path_between(build, "f/a2", "f/b1") == LineagePath(
        "f/root",
        chain("f/a2", "adapter", "f/a1", "quantized", "f/a", "finetune", "f/root"),
        chain("f/b1", "merge", "f/b", "finetune", "f/root"),
    )
    assert path_between(build, "f/a2", "f/a1") == LineagePath(
        "f/a1", chain("f/a2", "adapter", "f/a1"), []
    )


def test_an_ancestor_and_its_descendant(build):
    assert path_between(build, "f/a", "f/a2") == LineagePath(
        "f/a", [], chain("f/a2", "adapter", "f/a1", "quantized", "f/a")
    )
    assert path_between(build, "f/root", "f/b1") == LineagePath(
        "f/root", [], chain("f/b1", "merge", "f/b", "finetune", "f/root")
    )


def test_the_same_model(build):
    assert path_between(build, "f/a1", "f/a1") == LineagePath("f/a1", [], [])


def test_two_families_share_no_ancestor(build):
    assert path_between(build, "f/a2", "g/c") == LineagePath(None, [], [], None)
    assert path_between(build, "g/root", "f/root") == LineagePath(None, [], [], None)


def test_an_unknown_model_has_no_path_between(build):
    assert path_between(build, "f/a", "no/such-model") is None
    assert path_between(build, "no/such-model", "f/a") is None


def test_a_cycle_stops_the_walk_and_says_so(build):
    assert path_to_root(build, "c/z") == RootPath(
        chain("c/z", "adapter", "c/x", "finetune", "c/y"), CUT_AT_CYCLE
    )
    assert path_to_root(build, "c/x") == RootPath(chain("c/x", "finetune", "c/y"), CUT_AT_CYCLE)
    assert path_between(build, "c/z", "c/y") == LineagePath(
        "c/y", chain("c/z", "adapter", "c/x", "finetune", "c/y"), []
    )
    assert path_between(build, "c/z", "g/c") == LineagePath(None, [], [], CUT_AT_CYCLE)


def test_a_parent_outside_the_data_ends_the_path(build):
    assert path_to_root(build, "m/child") == RootPath(
        [Link("m/child", "m/gone", "finetune", False)], CUT_AT_MISSING
    )
    assert path_between(build, "m/child", "f/a") == LineagePath(None, [], [], CUT_AT_MISSING)


def test_a_deep_chain_is_cut_at_the_limit(build):
    deepest = path_to_root(build, f"d/{DEEP - 1}")
    assert len(deepest.links) == PATH_LIMIT and deepest.cut == CUT_AT_LIMIT
    assert deepest.links[0] == Link(f"d/{DEEP - 1}", f"d/{DEEP - 2}", "finetune", True)
    assert deepest.links[-1].parent == f"d/{DEEP - 1 - PATH_LIMIT}"
    exactly = path_to_root(build, f"d/{PATH_LIMIT}")  # the limit's links reach the root
    assert len(exactly.links) == PATH_LIMIT and exactly.cut is None
    whole = path_to_root(build, f"d/{DEEP - 1}", limit=DEEP)
    assert len(whole.links) == DEEP - 1 and whole.cut is None
    assert path_between(build, f"d/{DEEP - 1}", "d/0") == LineagePath(None, [], [], CUT_AT_LIMIT)
    found = path_between(build, f"d/{DEEP - 1}", "d/0", limit=DEEP)
    assert (found.ancestor, len(found.up), found.down) == ("d/0", DEEP - 1, [])


def test_paths_survive_the_query_cache(build):
    for value in (path_to_root(build, "f/a2"), path_between(build, "f/a2", "f/b1")):
        assert decode(encode(value)) == value


def test_every_sample_model_reaches_its_root_in_depth_links(dashboard_build):
    """On the real sample: each model's path is ``depth`` links long and ends at its root_id."""
    models = dashboard_build.table.select(["model_id", "root_id", "depth"]).to_pylist()
    for model in models:
        path = path_to_root(dashboard_build, model["model_id"])
        assert path.cut is None, model
        assert len(path.links) == int(model["depth"]), model
        top = path.links[-1].parent if path.links else model["model_id"]
        assert top == model["root_id"], model


# ---------------------------------------------------------------- the details card's path to root


def path_items(build, model_id: str, page: str = "/", search: str = "") -> list:
    """The items of the card's "Path to root" list for a model."""
    card = details_card(model_details(build, model_id), page, search)
    (path,) = [c for c in components(card) if getattr(c, "id", None) == "details-path-to-root"]
    return path.children


def item_text(item) -> str:
    """What an item reads: its texts and badges, one after the other."""
    return " ".join(
        c if isinstance(c, str) else c.children
        for c in (item.children if isinstance(item.children, list) else [item.children])
        if isinstance(c, str) or isinstance(getattr(c, "children", None), str)
    )


def test_the_card_links_each_model_of_the_path_with_its_relation_keeping_the_filters(build):
    for page in ("/", "/network"):
        items = path_items(build, "f/a2", page, FILTERED)
        assert [item_text(item) for item in items] == [
            "adapter f/a1",
            "quantized f/a",
            "finetune f/root",
        ]
        for item, parent in zip(items, ("f/a1", "f/a", "f/root")):
            (link,) = [c for c in components(item) if isinstance(c, dcc.Link)]
            filters, view = from_query(urlsplit(link.href).query)
            assert urlsplit(link.href).path == page and view["model"] == parent
            assert filters == from_query(FILTERED)[0]
    assert [item_text(item) for item in path_items(build, "f/root")] == [
        "none: the root of its family"
    ]


def test_the_card_shortens_a_long_path_and_says_where_it_stops(build):
    items = path_items(build, f"d/{DEEP - 1}")
    assert len(items) == PATH_HEAD + 1 + PATH_TAIL + 1
    texts = [item_text(item) for item in items]
    assert texts[:PATH_HEAD] == [f"finetune d/{DEEP - 2 - i}" for i in range(PATH_HEAD)]
    assert texts[PATH_HEAD] == f"… {PATH_LIMIT - PATH_HEAD - PATH_TAIL} more links …"
    assert texts[-2] == f"finetune d/{DEEP - 1 - PATH_LIMIT}"
    assert texts[-1] == PATH_ENDS[CUT_AT_LIMIT]
    assert item_text(path_items(build, "c/z")[-1]) == PATH_ENDS[CUT_AT_CYCLE]


def test_the_card_shows_a_parent_outside_the_data_without_a_link(build):
    first, note = path_items(build, "m/child")
    assert not [c for c in components(first) if isinstance(c, dcc.Link)]
    (gone,) = [c for c in components(first) if isinstance(c, html.Span)]
    assert (gone.children, gone.title) == ("m/gone", "not in this build")
    assert item_text(note) == PATH_ENDS[CUT_AT_MISSING]

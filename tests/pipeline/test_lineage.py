"""Tests for pipeline.lineage: every lineage rule on small hand-built tables."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.lineage import (
    EDGE_COLUMNS,
    FAMILY_COLUMNS,
    MODEL_LINEAGE_COLUMNS,
    TRANSITION_COLUMNS,
    build_lineage,
)
from pipeline.report import IssueLog
from pipeline.schema import LIST_COLUMNS, MODEL_SCHEMA, empty_models, to_frame


def make_models(rows: list[dict]) -> pd.DataFrame:
    """A MODEL_SCHEMA frame; unspecified fields default to null / empty list.

    ``parent_model`` defaults to the union of the typed parent lists (as the
    Hub's ``base_model:X`` tags do); pass it explicitly to override.
    """
    typed = ("finetune_parent", "adapter_parent", "quantized_parent", "merge_parent")
    full = []
    for row in rows:
        row = dict(row)
        if "parent_model" not in row:
            row["parent_model"] = sorted({p for c in typed for p in row.get(c, [])})
        full.append(
            {
                name: row.get(name, [] if name in LIST_COLUMNS else None)
                for name in MODEL_SCHEMA.names
            }
        )
    return to_frame(pa.Table.from_pylist(full, schema=MODEL_SCHEMA))


def run(rows: list[dict]):
    log = IssueLog()
    return build_lineage(make_models(rows), log), log


def edge_set(lin) -> set[tuple]:
    return set(lin.edges[["parent_id", "child_id", "relation"]].itertuples(index=False, name=None))


def by_id(lin) -> pd.DataFrame:
    return lin.models.set_index("model_id")


def test_relation_per_parent_column():
    lin, log = run(
        [
            {"model_id": "base/a"},
            {"model_id": "x/ft", "finetune_parent": ["base/a"]},
            {"model_id": "x/ad", "adapter_parent": ["base/a"]},
            {"model_id": "x/q", "quantized_parent": ["base/a"]},
            {"model_id": "x/m", "merge_parent": ["base/a"]},
            {"model_id": "x/u", "parent_model": ["base/a"]},
        ]
    )
    assert edge_set(lin) == {
        ("base/a", "x/ft", "finetune"),
        ("base/a", "x/ad", "adapter"),
        ("base/a", "x/q", "quantized"),
        ("base/a", "x/m", "merge"),
        ("base/a", "x/u", "unspecified"),
    }
    assert lin.edges["parent_in_data"].all()
    assert list(lin.edges.columns) == list(EDGE_COLUMNS)
    assert log.count("rejected") == 0 and log.count("repaired") == 0


def test_unspecified_dropped_when_typed_exists_but_typed_kept():
    lin, _ = run(
        [
            {"model_id": "b/p"},
            {"model_id": "b/q"},
            # p: finetune + adapter + (parent_model) -> two typed edges, no unspecified
            # q: only in parent_model -> unspecified
            {
                "model_id": "c/c",
                "finetune_parent": ["b/p"],
                "adapter_parent": ["b/p"],
                "parent_model": ["b/p", "b/q"],
            },
        ]
    )
    assert edge_set(lin) == {
        ("b/p", "c/c", "finetune"),
        ("b/p", "c/c", "adapter"),
        ("b/q", "c/c", "unspecified"),
    }
    m = by_id(lin)
    assert m.loc["c/c", "n_parents"] == 2
    assert m.loc["b/p", "n_children"] == 1


def test_duplicate_parent_entries_collapse():
    lin, _ = run(
        [
            {"model_id": "b/p"},
            {"model_id": "c/c", "finetune_parent": ["b/p", "b/p"], "parent_model": ["b/p", "b/p"]},
        ]
    )
    assert edge_set(lin) == {("b/p", "c/c", "finetune")}


def test_parent_missing_from_data_kept_flagged_counted():
    lin, log = run(
        [
            {"model_id": "c/one", "finetune_parent": ["gone/base"]},
            {
                "model_id": "c/two",
                "quantized_parent": ["gone/base"],
                "parent_model": ["gone/base", "gone/other"],
            },
        ]
    )
    e = lin.edges
    assert len(e) == 3
    assert not e["parent_in_data"].any()
    assert log.count("outside", "parent missing from data") == 3
    examples = log.to_dict()["outside"]["parent missing from data"]["examples"]
    assert "gone/base -> c/one" in examples
    m = by_id(lin)
    # a model whose parents are all outside the data is a root
    assert (m["depth"] == 0).all() and m["primary_parent"].isna().all()
    assert m.loc["c/two", "n_parents"] == 2
    assert lin.transitions.empty
    fam = lin.families.set_index("root_id")
    assert fam.loc["c/one", "n_finetune"] == 1
    assert fam.loc["c/two", "n_quantized"] == 1 and fam.loc["c/two", "n_unspecified"] == 1


def test_empty_parent_ids_ignored_and_counted():
    lin, log = run([{"model_id": "a/a", "finetune_parent": ["", "  "]}])
    assert lin.edges.empty
    assert log.count("dropped", "empty parent id") == 4  # finetune_parent + parent_model copies


DIAMOND = [
    {"model_id": "r/root"},
    {"model_id": "m/left", "finetune_parent": ["r/root"]},
    {"model_id": "m/right", "adapter_parent": ["r/root"]},
    {"model_id": "m/deep", "finetune_parent": ["m/left"]},
    # parents at depth 1 (left, right) and depth 2 (deep): depth = fewest links = 2
    {"model_id": "m/merge", "merge_parent": ["m/left", "m/right", "m/deep"]},
]


def test_depth_is_fewest_links_and_multi_parent_root():
    lin, _ = run(DIAMOND)
    m = by_id(lin)
    assert m.loc["r/root", "depth"] == 0
    assert m.loc["m/deep", "depth"] == 2
    assert m.loc["m/merge", "depth"] == 2
    assert (m["root_id"] == "r/root").all()
    assert m.loc["m/merge", "primary_parent"] == "m/left"  # all merge; smallest id at depth 1
    assert m.loc["m/merge", "n_parents"] == 3
    assert pd.isna(m.loc["r/root", "primary_parent"])


def test_multi_parent_from_two_families_picks_by_relation_then_id():
    lin, _ = run(
        [
            {"model_id": "z/root"},
            {"model_id": "a/root"},
            # both parents are roots (depth 0): finetune beats merge even though a/root < z/root
            {"model_id": "c/child", "merge_parent": ["a/root"], "finetune_parent": ["z/root"]},
            # same relation: smallest id wins
            {"model_id": "c/child2", "merge_parent": ["z/root", "a/root"]},
            # unspecified loses against every typed relation
            {
                "model_id": "c/child3",
                "parent_model": ["a/root", "z/root"],
                "quantized_parent": ["z/root"],
            },
        ]
    )
    m = by_id(lin)
    assert (
        m.loc["c/child", "primary_parent"] == "z/root" and m.loc["c/child", "root_id"] == "z/root"
    )
    assert (
        m.loc["c/child2", "primary_parent"] == "a/root" and m.loc["c/child2", "root_id"] == "a/root"
    )
    assert m.loc["c/child3", "primary_parent"] == "z/root"
    fam = lin.families.set_index("root_id")
    assert fam.loc["z/root", "size"] == 3 and fam.loc["a/root", "size"] == 2
    # edges counted in the child's family, whatever family the parent is in
    assert fam.loc["z/root", "n_merge"] == 1 and fam.loc["z/root", "n_finetune"] == 1
    assert fam.loc["a/root", "n_merge"] == 2
    assert fam.loc["z/root", "n_quantized"] == 1 and fam.loc["z/root", "n_unspecified"] == 1
    assert m.loc["a/root", "n_children"] == 3 and m.loc["a/root", "n_descendants"] == 1


def _canon(lin) -> dict:
    return {
        "edges": lin.edges.reset_index(drop=True),
        "models": lin.models.sort_values("model_id").reset_index(drop=True),
        "families": lin.families.reset_index(drop=True),
        "transitions": lin.transitions.reset_index(drop=True),
    }


def test_shuffled_input_gives_identical_outputs():
    rows = DIAMOND + [
        {"model_id": "c/a", "finetune_parent": ["c/b"]},
        {"model_id": "c/b", "finetune_parent": ["c/a"]},
        {"model_id": "c/below", "adapter_parent": ["c/b"], "licenses": ["mit"]},
        {"model_id": "x/orphan", "finetune_parent": ["gone/x"]},
        {"model_id": "x/self", "finetune_parent": ["x/self", "r/root"]},
    ]
    base, log0 = run(rows)
    for seed in range(3):
        df = make_models(rows).sample(frac=1, random_state=seed).reset_index(drop=True)
        log = IssueLog()
        lin = build_lineage(df, log)
        assert list(lin.models["model_id"]) == list(df["model_id"])  # input order kept
        a, b = _canon(base), _canon(lin)
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name], obj=name)
        assert log.to_dict() == log0.to_dict()


def test_models_same_order_and_index_as_input():
    df = make_models(DIAMOND).iloc[::-1]
    df.index = [10, 11, 12, 13, 14]
    lin = build_lineage(df, IssueLog())
    assert list(lin.models.index) == [10, 11, 12, 13, 14]
    assert list(lin.models["model_id"]) == list(df["model_id"])
    assert list(lin.models.columns) == list(MODEL_LINEAGE_COLUMNS)


def test_self_parent_dropped_and_reported():
    lin, log = run(
        [
            {"model_id": "a/base"},
            {"model_id": "a/b", "finetune_parent": ["a/b", "a/base"]},
            {"model_id": "a/solo", "parent_model": ["a/solo"]},
        ]
    )
    assert edge_set(lin) == {("a/base", "a/b", "finetune")}
    assert log.count("dropped", "self-parent edge") == 2
    assert "a/b -> a/b" in log.to_dict()["dropped"]["self-parent edge"]["examples"]
    m = by_id(lin)
    assert m.loc["a/b", "depth"] == 1 and m.loc["a/solo", "depth"] == 0
    assert m.loc["a/b", "n_parents"] == 1 and m.loc["a/solo", "n_parents"] == 0


def test_two_cycle_with_descendant_below():
    lin, log = run(
        [
            {"model_id": "c/b", "finetune_parent": ["c/a"]},
            {"model_id": "c/a", "finetune_parent": ["c/b"]},
            {"model_id": "c/kid", "quantized_parent": ["c/b"]},
        ]
    )
    m = by_id(lin)
    # smallest id of the loop becomes the root; its in-loop parent edge is dropped
    assert m.loc["c/a", "depth"] == 0 and pd.isna(m.loc["c/a", "primary_parent"])
    assert m.loc["c/b", "depth"] == 1 and m.loc["c/kid", "depth"] == 2
    assert (m["root_id"] == "c/a").all()
    assert edge_set(lin) == {("c/a", "c/b", "finetune"), ("c/b", "c/kid", "quantized")}
    assert log.count("dropped", "cycle edge broken") == 1
    assert log.to_dict()["dropped"]["cycle edge broken"]["examples"] == ["c/b -> c/a"]
    assert m.loc["c/a", "n_parents"] == 0 and m.loc["c/b", "n_children"] == 2 - 1
    assert m.loc["c/a", "n_descendants"] == 2


def test_three_cycle_with_descendant_below_and_other_relations():
    lin, log = run(
        [
            {"model_id": "t/x", "finetune_parent": ["t/z"], "parent_model": ["t/z", "gone/up"]},
            {"model_id": "t/y", "finetune_parent": ["t/x"]},
            {"model_id": "t/z", "merge_parent": ["t/y"]},
            {"model_id": "t/kid", "adapter_parent": ["t/z"]},
            {"model_id": "t/grandkid", "finetune_parent": ["t/kid"]},
        ]
    )
    m = by_id(lin)
    assert m.loc["t/x", "depth"] == 0
    assert m.loc["t/y", "depth"] == 1 and m.loc["t/z", "depth"] == 2
    assert m.loc["t/kid", "depth"] == 3 and m.loc["t/grandkid", "depth"] == 4
    assert (m["root_id"] == "t/x").all()
    assert ("t/z", "t/x", "finetune") not in edge_set(lin)
    assert ("gone/up", "t/x", "unspecified") in edge_set(lin)  # missing parent stays
    assert log.count("dropped", "cycle edge broken") == 1
    fam = lin.families.set_index("root_id")
    assert fam.loc["t/x", "size"] == 5 and fam.loc["t/x", "max_depth"] == 4
    assert m.loc["t/x", "n_descendants"] == 4


def test_cycle_below_another_cycle_and_two_separate_cycles():
    lin, log = run(
        [
            {"model_id": "a/1", "finetune_parent": ["a/2"]},
            {"model_id": "a/2", "finetune_parent": ["a/1"]},
            # loop b/1 <-> b/2 hangs below a/2: reached once a's loop is broken
            {"model_id": "b/1", "finetune_parent": ["a/2", "b/2"]},
            {"model_id": "b/2", "finetune_parent": ["b/1"]},
            {"model_id": "d/1", "finetune_parent": ["d/2"]},
            {"model_id": "d/2", "finetune_parent": ["d/1"]},
        ]
    )
    m = by_id(lin)
    assert log.count("dropped", "cycle edge broken") == 2
    assert m.loc["b/1", "root_id"] == "a/1" and m.loc["b/2", "depth"] == 3
    assert ("b/2", "b/1", "finetune") in edge_set(lin)
    assert set(lin.families["root_id"]) == {"a/1", "d/1"}


def test_cycle_reachable_from_root_is_not_broken():
    lin, log = run(
        [
            {"model_id": "r/root"},
            {"model_id": "k/a", "finetune_parent": ["r/root", "k/b"]},
            {"model_id": "k/b", "finetune_parent": ["k/a"]},
        ]
    )
    assert log.count("dropped", "cycle edge broken") == 0
    assert ("k/b", "k/a", "finetune") in edge_set(lin)
    m = by_id(lin)
    assert m.loc["k/a", "depth"] == 1 and m.loc["k/b", "depth"] == 2
    assert m.loc["k/a", "primary_parent"] == "r/root"
    assert m.loc["k/a", "n_parents"] == 2 and m.loc["k/b", "n_children"] == 1
    assert m.loc["r/root", "n_descendants"] == 2


def test_counts_families_and_downloads():
    lin, _ = run(
        [
            {"model_id": "f/root", "downloads": 100},
            {"model_id": "f/ft1", "finetune_parent": ["f/root"], "downloads": 10},
            {"model_id": "f/ft2", "finetune_parent": ["f/root"], "downloads": None},
            {"model_id": "f/q", "quantized_parent": ["f/ft1"], "downloads": 1},
            {"model_id": "f/ad", "adapter_parent": ["f/ft1"], "downloads": 2},
            {"model_id": "f/m", "merge_parent": ["f/ft1", "f/ft2"], "downloads": 3},
            {"model_id": "g/solo", "downloads": None},
            {"model_id": "h/root", "downloads": 5},
            {"model_id": "h/u", "parent_model": ["h/root"], "downloads": 7},
        ]
    )
    m = by_id(lin)
    assert m.loc["f/root", "n_children"] == 2
    assert m.loc["f/ft1", "n_children"] == 3 and m.loc["f/ft2", "n_children"] == 1
    assert m.loc["f/root", "n_descendants"] == 5
    assert m.loc["f/ft1", "n_descendants"] == 3  # f/m's primary parent is f/ft1
    assert m.loc["f/ft2", "n_descendants"] == 0
    assert m.loc["f/m", "n_parents"] == 2
    fam = lin.families
    assert list(fam.columns) == list(FAMILY_COLUMNS)
    assert list(fam["root_id"]) == ["f/root", "h/root", "g/solo"]  # size desc, then id
    f = fam.set_index("root_id")
    assert f.loc["f/root"].to_dict() == {
        "size": 6,
        "max_depth": 2,
        "n_finetune": 2,
        "n_adapter": 1,
        "n_quantized": 1,
        "n_merge": 2,
        "n_unspecified": 0,
        "total_downloads": 116,
    }
    assert f.loc["g/solo", "size"] == 1 and f.loc["g/solo", "total_downloads"] == 0
    assert f.loc["h/root", "n_unspecified"] == 1 and f.loc["h/root", "total_downloads"] == 12
    # family size = 1 + n_descendants(root)
    for root, size in f["size"].items():
        assert m.loc[root, "n_descendants"] + 1 == size


def test_transitions_columns():
    lin, _ = run(
        [
            {
                "model_id": "p/base",
                "licenses": ["apache-2.0", "mit"],
                "languages": ["fr", "en"],
                "card_length": 500,
                "card_auto_generated": False,
                "has_card": True,
            },
            {
                "model_id": "c/same",
                "finetune_parent": ["p/base"],
                "licenses": ["apache-2.0"],
                "languages": ["en", "fr"],
                "card_length": 20,
                "card_auto_generated": True,
                "has_card": True,
            },
            {
                "model_id": "c/diff",
                "quantized_parent": ["p/base"],
                "licenses": ["mit"],
                "languages": ["de"],
                "has_card": False,
            },
            {"model_id": "c/unknown", "adapter_parent": ["p/base"]},
            {"model_id": "c/orphan", "finetune_parent": ["gone/x"]},
        ]
    )
    t = lin.transitions
    assert list(t.columns) == list(TRANSITION_COLUMNS)
    assert len(t) == 3  # the missing-parent edge has no transition
    t = t.set_index("child_id")
    same, diff, unk = t.loc["c/same"], t.loc["c/diff"], t.loc["c/unknown"]
    assert (
        same["parent_id"] == "p/base"
        and same["relation"] == "finetune"
        and same["child_depth"] == 1
    )
    assert same["parent_license"] == "apache-2.0" and same["child_license"] == "apache-2.0"
    assert not same["license_changed"]
    assert list(same["parent_languages"]) == ["en", "fr"] and list(same["child_languages"]) == [
        "en",
        "fr",
    ]
    assert not same["languages_changed"]
    assert same["parent_card_length"] == 500 and same["child_card_length"] == 20
    assert not same["parent_card_auto_generated"] and same["child_card_auto_generated"]
    assert same["parent_has_card"] and same["child_has_card"]
    assert diff["license_changed"] and diff["languages_changed"]
    assert diff["child_license"] == "mit" and list(diff["child_languages"]) == ["de"]
    assert pd.isna(diff["child_card_length"]) and not diff["child_has_card"]
    assert pd.isna(unk["child_license"]) and pd.isna(unk["license_changed"])
    assert list(unk["child_languages"]) == [] and pd.isna(unk["languages_changed"])
    assert pd.isna(unk["child_card_auto_generated"])


def test_output_dtypes_are_arrow_backed():
    lin, _ = run(DIAMOND + [{"model_id": "x/o", "finetune_parent": ["gone/g"]}])
    for name in ("edges", "models", "families", "transitions"):
        df = getattr(lin, name)
        assert all(isinstance(dt, pd.ArrowDtype) for dt in df.dtypes), name
    assert lin.models["depth"].dtype == pd.ArrowDtype(pa.int64())
    assert lin.edges["parent_id"].dtype == pd.ArrowDtype(pa.string())
    assert lin.transitions["parent_languages"].dtype == pd.ArrowDtype(pa.list_(pa.string()))


def test_empty_input():
    log = IssueLog()
    lin = build_lineage(empty_models(), log)
    assert list(lin.edges.columns) == list(EDGE_COLUMNS) and lin.edges.empty
    assert list(lin.models.columns) == list(MODEL_LINEAGE_COLUMNS) and lin.models.empty
    assert list(lin.families.columns) == list(FAMILY_COLUMNS) and lin.families.empty
    assert list(lin.transitions.columns) == list(TRANSITION_COLUMNS) and lin.transitions.empty
    assert log.count("rejected") == 0 and log.count("repaired") == 0


@pytest.mark.parametrize("chunks", [1, 3])
def test_chunked_arrow_columns(chunks):
    """Arrow-backed columns may come in several chunks (e.g. concatenated frames)."""
    df = make_models(DIAMOND)
    parts = [df.iloc[i::chunks] for i in range(chunks)]
    lin = build_lineage(pd.concat(parts, ignore_index=True), IssueLog())
    assert by_id(lin).loc["m/merge", "depth"] == 2

"""The dashboard's query functions, called directly on the real sample build."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dashboard.data import Build
from dashboard.filters import Filters, Selection, filter_mask, selection_mask
from dashboard.queries.distributions import histogram, selection_summary
from dashboard.queries.drift import (
    cards_by_depth,
    language_classes,
    language_drift,
    license_class,
    license_drift,
)
from dashboard.queries.families import families_page
from dashboard.queries.growth import reconstructed_by_group, reconstructed_growth, tracker_report
from dashboard.queries.models import category_options, find_models, model_details, model_facts
from dashboard.queries.network import SIMILAR, model_graph
from dashboard.queries.points import level_of_detail, map_points
from dashboard.queries.ranking import category_counts, coloured_values, top_values
from dashboard.queries.semantic import semantic_search
from dashboard.values import NO_VALUE, OTHER
from pipeline.build_format import resolve_build


@pytest.fixture(scope="module")
def build(dashboard_build) -> Build:
    return dashboard_build


@pytest.fixture(scope="module")
def models(sample_models) -> pd.DataFrame:
    return sample_models


# ---------------------------------------------------------------- the map's points


def test_level_of_detail_keeps_wanted_rows_then_the_most_popular_within_budget(build):
    everything = np.ones(build.size, dtype=bool)
    keep = filter_mask(build, Filters(search="gguf"))
    rows = level_of_detail(build, everything, 200, keep=keep)
    assert len(rows) == 200 and np.all(np.diff(rows) > 0)
    assert set(np.flatnonzero(keep)) <= set(rows)
    top = np.argsort(-np.nan_to_num(build.numbers("downloads"), nan=-1), kind="stable")[:30]
    assert set(top) <= set(rows)  # 20% of the budget goes to the most downloaded
    np.testing.assert_array_equal(
        rows, level_of_detail(build, everything, 200, keep=keep)
    )  # same answer every time
    assert len(level_of_detail(build, everything, 5000)) == build.size


def test_zooming_in_keeps_every_point_already_drawn_there_and_adds_more(build):
    full = map_points(build, Filters(), dims=2, budget=300)
    assert full.shown == 300 and full.matching == full.in_view == full.total == 1271
    x, y = build.numbers("x2d"), build.numbers("y2d")
    box = Selection(
        "box",
        (np.percentile(x, 10), np.percentile(x, 60), np.percentile(y, 10), np.percentile(y, 60)),
    )
    zoomed = map_points(build, Filters(), dims=2, budget=300, view=box)
    inside = selection_mask(build, box)
    assert zoomed.in_view == inside.sum() < 1271 and zoomed.shown == min(300, zoomed.in_view)
    assert inside[zoomed.rows].all()
    assert set(full.rows[inside[full.rows]]) <= set(zoomed.rows)


def test_map_points_follow_filters_and_draw_kept_rows(build):
    gemma = map_points(build, Filters(search="gemma"), dims=3, budget=50)
    assert (
        gemma.matching == filter_mask(build, Filters(search="gemma")).sum() > 50
        and gemma.shown == 50
    )
    opened = build.row("google/gemma-7b")
    rarely_downloaded = int(
        np.nanargmin(
            np.where(
                filter_mask(build, Filters(search="gemma")), build.numbers("downloads"), np.nan
            )
        )
    )
    kept = map_points(
        build, Filters(search="gemma"), dims=3, budget=50, keep_rows=(opened, rarely_downloaded)
    )
    assert {opened, rarely_downloaded} <= set(kept.rows)


# ---------------------------------------------------------------- models


def test_model_details_list_parents_children_family_and_similar_models(build, models):
    details = model_details(build, "google/gemma-7b")
    assert details["record"]["model_id"] == "google/gemma-7b" and details["parents"] == []
    assert (
        details["n_children"]
        == models.set_index("model_id").loc["google/gemma-7b", "n_children"]
        > 50
    )
    assert (
        len(details["children"]) == 50
        and details["family_size"] == 390
        and len(details["similar"]) == 10
    )
    child = details["children"][0]
    assert child["relation"] == "finetune"
    assert model_details(build, child["model_id"])["parents"] == [
        {"model_id": "google/gemma-7b", "relation": "finetune", "in_data": True}
    ]
    downloads = [build.numbers("downloads")[build.row(c["model_id"])] for c in details["children"]]
    assert downloads == sorted(downloads, reverse=True)  # most downloaded children listed first
    assert model_details(build, "no/such") is None


def test_a_parent_outside_the_data_is_listed_by_id(build):
    details = model_details(build, "LGAI-EXAONE/EXAONE-Deep-32B")
    assert {
        "model_id": "LGAI-EXAONE/EXAONE-3.5-32B-Instruct",
        "relation": "finetune",
        "in_data": False,
    } in details["parents"]


def test_find_models_and_hover_facts(build):
    found = find_models(build, "GEMMA-7b", 5)
    assert len(found) == 5 and all("gemma-7b" in model.lower() for model in found)
    assert found[0] == "google/gemma-7b"  # the exact name after the slash first (issue 15)
    downloads = [build.numbers("downloads")[build.row(m)] for m in found[1:]]
    assert downloads == sorted(downloads, reverse=True)
    facts = model_facts(build, build.row("google/gemma-7b"))
    assert (
        facts["model_id"] == "google/gemma-7b"
        and facts["library"] == "transformers"
        and facts["downloads"] > 0
    )


def test_category_options_are_ordered_by_count_without_the_empty_category(build, models):
    options = category_options(build, "library_name")
    counts = [int(o["label"].rsplit("(", 1)[1].rstrip(")").replace(",", "")) for o in options]
    assert counts == sorted(counts, reverse=True)
    assert options[0] == {"label": "transformers (672)", "value": "transformers"}
    assert "(none)" not in {o["value"] for o in options}


# ---------------------------------------------------------------- the network


def test_family_tree_holds_the_whole_family_when_it_fits(build, models):
    graph = model_graph(build, "google/gemma-7b", "family", max_nodes=1000)
    family = set(models.index[models["root_id"] == "google/gemma-7b"])
    assert set(graph.nodes) == family and graph.descendants_total == graph.descendants_shown == 389
    assert all(kind == "finetune" for _, _, kind, _ in graph.edges)
    assert {child for _, child, _, _ in graph.edges} == family - {build.row("google/gemma-7b")}


def test_family_tree_is_cut_to_the_budget_but_stays_connected(build):
    graph = model_graph(build, "google/gemma-7b", "family", max_nodes=40)
    assert len(graph.nodes) == 40 and graph.descendants_shown == 39 < graph.descendants_total
    drawn = set(graph.nodes)
    assert all(parent in drawn and child in drawn for parent, child, _, _ in graph.edges)
    assert {child for _, child, _, _ in graph.edges} == drawn - {
        graph.centre
    }  # every node hangs on the tree


def test_a_deep_model_shows_its_ancestors_and_similar_models(build, models):
    deep = models.loc[models["depth"] == 3, "model_id"].iloc[0]
    graph = model_graph(build, deep, "both", max_nodes=100, k=5)
    assert graph.ancestors == 3 and build.row("google/gemma-7b") in graph.nodes
    similar = [edge for edge in graph.edges if edge[2] == SIMILAR]
    assert len(similar) == 5 and all(edge[0] == graph.centre for edge in similar)
    one_hop = model_graph(build, deep, "similar", k=5)
    two_hops = model_graph(build, deep, "similar", k=5, hops=2)
    assert (
        set(one_hop.nodes) <= set(two_hops.nodes)
        and len(one_hop.nodes) == 6
        and two_hops.ancestors == 0
    )
    assert len(two_hops.edges) == 5 + 5 * 5  # the centre's 5, then each neighbour's 5
    assert model_graph(build, "no/such") is None


# ---------------------------------------------------------------- distributions


def test_histogram_counts_every_known_value_once(build, models):
    result = histogram(build, Filters(), None, "downloads", True)
    known = models["downloads"].dropna()
    assert (
        result.counts.sum() + result.at_most_zero == len(known)
        and result.at_most_zero == (known <= 0).sum()
    )
    assert (
        result.stats["unknown"] == 56
        and result.stats["median"] == known.median()
        and result.counts_all is None
    )
    assert np.allclose(result.edges[0], 0.0) and 10 ** result.edges[-1] >= known.max()


def test_histogram_of_a_selection_sits_beside_all_models(build):
    x, y = build.numbers("x2d"), build.numbers("y2d")
    selection = Selection("box", (x.min(), np.median(x), y.min(), np.median(y)))
    result = histogram(build, Filters(libraries=("transformers",)), selection, "likes", True)
    expected = filter_mask(build, Filters(libraries=("transformers",))) & selection_mask(
        build, selection
    )
    assert (
        result.stats["models"] == expected.sum() and result.counts_all.sum() >= result.counts.sum()
    )


def test_creation_dates_are_binned_by_month(build, models):
    result = histogram(build, Filters(), None, "created_at", True)
    assert not result.log and result.counts.sum() == models["created_at"].notna().sum()
    starts = pd.to_datetime(result.edges, unit="s")
    assert (starts.day == 1).all() and starts[0] <= models["created_at"].min().tz_localize(None)


def test_selection_summary_counts_and_ranks(build):
    x, y = build.numbers("x2d"), build.numbers("y2d")
    selection = Selection("box", (x.min() - 1, x.max() + 1, y.min() - 1, y.max() + 1))
    summary = selection_summary(build, Filters(), selection)
    assert summary["models"] == 1271 and summary["library_name"][0] == ("transformers", 672)
    assert summary["examples"][0] == "meta-llama/Llama-2-7b-chat-hf"


def test_top_values_name_the_most_frequent_and_group_the_rest(build, models):
    names, counts = build.categories("library_name"), category_counts(build, "library_name")
    expected = models["library_name"].fillna(NO_VALUE).value_counts()
    assert {names[code]: counts[code] for code in range(len(names))} == expected.to_dict()
    top = top_values(names, counts, 3, left_out={NO_VALUE})
    assert top.ranked == ["transformers", "diffusers", "vllm"]
    assert top.names == [*top.ranked, OTHER, NO_VALUE]  # the models without one are not "other"
    assert list(counts[top.codes]) == [672, 183, 19]
    groups = np.bincount(top.group_of[build.codes("library_name")], minlength=len(top.names))
    none = int(counts[names.index(NO_VALUE)])
    assert list(groups) == [672, 183, 19, build.size - 672 - 183 - 19 - none, none]
    everything = top_values(names, counts, len(names), other="(rest)")
    assert not everything.has_other and len(everything.names) == (counts > 0).sum()
    assert everything.names[:2] == ["transformers", NO_VALUE]
    assert top_values(names, np.zeros(len(names), dtype=np.int64), 5).names == []
    coloured = coloured_values(build, "license")
    assert len(coloured.ranked) == 12 and NO_VALUE not in coloured.ranked and coloured.has_other


# ---------------------------------------------------------------- families


def test_families_page_sorts_filters_and_pages(build, sample_build):
    families = pd.read_parquet(resolve_build(sample_build) / "families.parquet")
    first = families_page(build, Filters(), "size", True, 2, 0, 4)
    assert (
        first["families"] == 10
        and [r["size"] for r in first["rows"]] == sorted(families["size"], reverse=True)[:4]
    )
    assert all(r["matching"] == r["size"] for r in first["rows"])
    by_downloads = families_page(build, Filters(), "total_downloads", False, 2, 0, 25)
    assert [r["total_downloads"] for r in by_downloads["rows"]] == sorted(
        families["total_downloads"]
    )
    gguf = families_page(build, Filters(search="gguf"), "matching", True, 2, 0, 25)
    assert (
        0 < gguf["families"] < 10
        and sum(r["matching"] for r in gguf["rows"])
        == filter_mask(build, Filters(search="gguf")).sum()
    )
    assert (
        families_page(build, Filters(), "size", True, 100, 0, 25)["families"] == 3
    )  # 465, 390, 178 models
    assert families_page(build, Filters(), "size", True, 2, 3, 4)["rows"] == []


# ---------------------------------------------------------------- drift


def test_license_drift_counts_every_link_once(build, sample_build):
    transitions = pd.read_parquet(resolve_build(sample_build) / "transitions.parquet")
    result = license_drift(build, Filters(), "all")
    assert (
        result["counts"].sum()
        == result["class_counts"].sum()
        == result["links"]
        == len(transitions)
        == 1261
    )
    assert result["changed"] == transitions["license_changed"].fillna(False).sum()
    llama2 = result["labels"].index("llama2")
    assert result["counts"][llama2].sum() == (transitions["parent_license"] == "llama2").sum()
    only_gemma = license_drift(build, Filters(search="gemma"), "all")
    assert (
        only_gemma["links"] < result["links"]
        and license_drift(build, Filters(), "merge")["links"] == 0
    )


def test_license_and_language_classes():
    assert [
        license_class(x)
        for x in (
            "apache-2.0",
            "llama2",
            "cc-by-nc-4.0",
            "cc-by-4.0",
            "gpl-3.0",
            "other",
            "(none)",
            "zzz",
        )
    ] == [
        "permissive",
        "restrictive",
        "restrictive",
        "permissive",
        "copyleft",
        "restrictive",
        "none",
        "unclassified",
    ]
    lists = pa.chunked_array(
        [pa.array([[], ["en"], ["en", "fr"], ["ko"], ["de", "fr"], None], pa.list_(pa.string()))]
    )
    assert language_classes(lists).tolist() == [
        0,
        1,
        2,
        3,
        4,
        0,
    ]  # none listed, English only, English + others, …


def test_language_drift_and_cards_by_depth(build, models):
    languages = language_drift(build, Filters(), "all")
    assert languages["counts"].sum() == languages["links"] == 1261
    cards = cards_by_depth(build, Filters())
    assert list(cards["depth"]) == [0, 1, 2, 3] and cards["models"].sum() == 1271
    base = models[(models["depth"] == 0) & (models["card_length"] > 0)]["card_length"]
    assert cards.loc[0, "median"] == base.median() and cards.loc[0, "with_card"] == len(base)
    known = models.loc[models["depth"] == 1, "card_auto_generated"].dropna()
    assert cards.loc[1, "auto_share"] == pytest.approx(known.mean())


# ---------------------------------------------------------------- semantic search


def test_semantic_search_finds_models_like_the_text(build):
    hits = semantic_search(build, "stable diffusion text to image", 10)
    assert len(hits) == 10 and hits[0]["similarity"] >= hits[-1]["similarity"]
    pipelines = [build.category_of("pipeline_tag", [hit["row"]])[0] for hit in hits]
    assert pipelines.count("text-to-image") >= 8
    assert semantic_search(build, "   ", 10) == []


# ---------------------------------------------------------------- growth


def test_reconstructed_growth_counts_models_by_creation_day(build, models):
    created = models["created_at"].dropna()
    history = reconstructed_growth(build, Filters())
    assert history["cumulative"][-1] == len(created) == 1215 and history["unknown"] == 56
    assert list(history["cumulative"]) == sorted(history["cumulative"])
    first_day = pd.Timestamp(history["days"][0], unit="s", tz="UTC")
    assert first_day == created.min().floor("D")
    by_day = created.dt.floor("D").value_counts().sort_index().cumsum()
    cumulative = dict(
        zip(pd.to_datetime(history["days"], unit="s", utc=True), history["cumulative"])
    )
    assert all(cumulative[day] == count for day, count in by_day.items())
    gemma = reconstructed_growth(build, Filters(search="gemma"))
    assert (
        gemma["cumulative"][-1] + gemma["unknown"]
        == filter_mask(build, Filters(search="gemma")).sum()
    )


def test_reconstructed_history_by_library_stacks_to_the_total(build):
    by_library = reconstructed_by_group(build, Filters(), "library_name")
    assert by_library["groups"][0] == "transformers" and by_library["groups"][-2:] == [
        OTHER,
        NO_VALUE,
    ]
    assert len(by_library["groups"]) == 10  # 8 of the values coloured in every view, other, none
    assert set(by_library["groups"][:8]) <= set(by_library["coloured"])
    assert (
        by_library["cumulative"][:, -1].sum()
        == reconstructed_growth(build, Filters())["cumulative"][-1]
    )
    assert (
        by_library["months"][0] <= "2022-06"
        and len(by_library["months"]) == by_library["cumulative"].shape[1]
    )


def test_tracker_report_reads_the_history(tmp_path):
    from tracker.history import History

    history = History(tmp_path / "tracker.sqlite")
    assert (
        tracker_report(str(history.path), 0)["growth"]["total_models"] is None
        and not history.exists()
    )
    history.record_success(100, {"peft": 100}, {"text-generation": 100}, {"a": 100}, 1.0, "hub")
    history.record_failure("the Hub answered HTTP 500", 2.0, "hub")
    report = tracker_report(str(history.path), 2)
    assert report["growth"]["total_models"] == 100 and report["last_run"]["ok"] is False
    assert (
        report["last_failure"]["reason"] == "the Hub answered HTTP 500"
        and len(report["snapshots"]) == 1
    )

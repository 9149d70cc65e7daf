"""Query, URL-state and figure functions of the dashboard, called directly on a real sample build."""

import subprocess
import sys

import numpy as np
import pytest

from dashboard.data import Build
from dashboard.figures import map_figure, point_sizes
from dashboard.queries import Box, Filters, category_options, filter_mask, level_of_detail, map_points, model_details
from dashboard.url_state import from_query, to_query


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    out = tmp_path_factory.mktemp("dash")
    subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--source", "sample", "--embedder", "tfidf",
                    "--out", str(out / "builds"), "--cache-dir", str(out / "cache"), "--quiet"], check=True)
    return Build.load(out / "builds")


def test_build_loads_view_columns_and_categories(build):
    assert build.size == 1271 and build.version == build.manifest["build_id"]
    assert str(build.models["library_name"].dtype) == "category"
    assert build.row("google/gemma-7b") is not None and build.row("no/such") is None


def test_search_is_literal_case_insensitive_over_id_author_and_tags(build):
    ids = build.models["model_id"]
    by_id = filter_mask(build, Filters(search="GEMMA-7B"))
    assert by_id.sum() > 100 and ids[by_id].str.lower().str.contains("gemma-7b", regex=False).mean() > 0.5
    by_tag = filter_mask(build, Filters(search="text-to-image"))
    assert by_tag.sum() > 0
    assert filter_mask(build, Filters(search="(.*")).sum() == 0  # a regex is just text here
    assert filter_mask(build, Filters(search="  ")).all()


def test_numeric_category_and_base_filters_combine(build):
    models = build.models
    mask = filter_mask(build, Filters(min_downloads=1000, libraries=("transformers",), base_only=True))
    expected = (models["downloads"] >= 1000) & (models["library_name"] == "transformers") & (models["depth"] == 0)
    np.testing.assert_array_equal(mask, expected.to_numpy())
    assert filter_mask(build, Filters(licenses=("apache-2.0",))).sum() == (models["license"] == "apache-2.0").sum()


def test_level_of_detail_keeps_matches_and_the_most_popular_within_budget(build):
    everything = np.ones(build.size, dtype=bool)
    keep = filter_mask(build, Filters(search="gguf"))
    rows = level_of_detail(build, everything, 200, keep=keep)
    assert len(rows) == 200 and np.all(np.diff(rows) > 0)
    assert set(np.flatnonzero(keep)) <= set(rows)
    top = np.argsort(-build.models["downloads"].to_numpy(), kind="stable")[:10]
    assert set(top) <= set(rows)
    np.testing.assert_array_equal(rows, level_of_detail(build, everything, 200, keep=keep))
    assert len(level_of_detail(build, everything, 5000)) == build.size


def test_map_points_counts_and_zoom_box(build):
    points = map_points(build, Filters(), dims=2, budget=300)
    assert points["shown"] == 300 and points["matching"] == points["total"] == 1271
    x, y = build.models["x2d"], build.models["y2d"]
    box = Box(float(x.quantile(0.25)), float(x.quantile(0.75)), float(y.quantile(0.25)), float(y.quantile(0.75)))
    zoomed = map_points(build, Filters(), dims=2, budget=300, box=box)
    assert zoomed["in_view"] < 1271 and zoomed["shown"] == min(300, zoomed["in_view"])
    inside = build.models.iloc[zoomed["rows"]]
    assert inside["x2d"].between(box.x0, box.x1).all() and inside["y2d"].between(box.y0, box.y1).all()


def test_url_state_round_trips_and_survives_bad_values():
    filters = Filters(search="llama 2", min_downloads=10, libraries=("peft", "transformers"), base_only=True)
    query = to_query(filters, dims=3, colour="cluster", model="google/gemma-7b")
    parsed, view = from_query(query)
    assert parsed == filters and view == {"dims": "3", "colour": "cluster", "model": "google/gemma-7b"}
    assert to_query(Filters()) == ""
    assert from_query("?min_downloads=lots&min_likes=-5")[0] == Filters()
    assert from_query({"libraries": "peft"})[0] == Filters(libraries=("peft",))


def test_category_options_are_ordered_by_count(build):
    options = category_options(build, "library_name")
    counts = [int(o["label"].rsplit("(", 1)[1].rstrip(")").replace(",", "")) for o in options]
    assert counts == sorted(counts, reverse=True) and options[0]["value"] in set(build.models["library_name"])


def test_model_details_lists_parents_children_and_similar_models(build):
    details = model_details(build, "google/gemma-7b")
    assert details["record"]["model_id"] == "google/gemma-7b" and details["parents"] == []
    assert details["n_children"] > 50 and len(details["similar"]) == 10
    child = details["children"][0]["child_id"]
    assert model_details(build, child)["parents"][0]["parent_id"] == "google/gemma-7b"
    assert model_details(build, "no/such") is None


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("colour", ["library_name", "cluster", "depth", "downloads"])
def test_map_figure_draws_every_row_once_with_compact_coordinates(build, dims, colour):
    rows = np.arange(0, build.size, 3)
    figure = map_figure(build, rows, dims, colour, "downloads")
    markers = [t for t in figure.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) == len(rows)
    assert markers[0].x.dtype == np.float32
    assert any(t.mode == "text" for t in figure.data)  # cluster labels
    if colour != "downloads":
        assert len(markers) <= 13  # 12 groups + other: a legend a person can read


def test_point_sizes_grow_with_log_popularity():
    sizes = point_sizes(np.array([0, 9, 99, 999999]), 2)
    assert list(sizes) == sorted(sizes) and sizes[0] == 3.0 and sizes[-1] == 14.0
    assert point_sizes(np.zeros(3), 3) == 2.0

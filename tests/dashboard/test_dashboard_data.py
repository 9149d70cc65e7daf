"""The dashboard's view of a build: prepared memory-mapped files, filters, map selections, URL
state."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dashboard.data import Build
from dashboard.filters import Filters, Selection, filter_mask, selection_mask
from dashboard.url_state import from_query, shared_query, to_query
from dashboard.values import whole_number

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def build(dashboard_build) -> Build:
    return dashboard_build


@pytest.fixture(scope="module")
def models(sample_models) -> pd.DataFrame:
    return sample_models


def test_prepared_columns_match_the_build(build, models):
    assert build.size == len(models) == 1271
    assert build.version == build.manifest.build_id and repr(build) == f"Build({build.version})"
    np.testing.assert_array_equal(build.numbers("depth"), models["depth"].to_numpy())
    np.testing.assert_allclose(build.numbers("x2d"), models["x2d"].to_numpy())
    downloads = build.numbers("downloads")
    assert (
        np.isnan(downloads).sum() == models["downloads"].isna().sum() == 56
    )  # unknown stays unknown, never 0
    np.testing.assert_array_equal(
        downloads[~np.isnan(downloads)], models["downloads"].dropna().to_numpy()
    )
    libraries = build.category_of("library_name", np.arange(build.size))
    expected = models["library_name"].fillna("(none)").to_numpy()
    np.testing.assert_array_equal(libraries, expected)


def test_a_record_holds_every_field_of_a_model(build, models):
    row = build.row("google/gemma-7b")
    record = build.record(row)
    source = models.iloc[row]
    assert record["model_id"] == "google/gemma-7b" and record["root_id"] == "google/gemma-7b"
    assert list(record["tags"]) == list(source["tags"]) and list(record["licenses"]) == list(
        source["licenses"]
    )
    assert (
        record["downloads"] == source["downloads"]
        and record["card_excerpt"] == source["card_excerpt"]
    )
    assert pd.Timestamp(record["created_at"], unit="s", tz="UTC") == source["created_at"].floor("s")
    unknown = build.record(int(np.flatnonzero(np.isnan(build.numbers("downloads")))[0]))
    assert unknown["downloads"] is None and unknown["likes"] is None
    assert build.row("no/such-model") is None and build.row("") is None


def test_prepared_files_are_written_once_per_build(sample_build, build):
    prepared = build.prepared
    stamp = (prepared / "models.arrow").stat().st_mtime_ns
    again = Build.load(sample_build, sample_build.parent / "cache")
    assert again.prepared == prepared and (prepared / "models.arrow").stat().st_mtime_ns == stamp


def test_two_processes_preparing_the_same_build_at_once_both_succeed(sample_build, tmp_path):
    script = (
        "import sys; from dashboard.data import Build; "
        "b = Build.load(sys.argv[1], sys.argv[2]); print(b.size, b.prepared)"
    )
    command = [sys.executable, "-c", script, str(sample_build), str(tmp_path)]
    runs = [
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0].split() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] and outputs[0][0] == "1271"
    assert not [
        p for p in (tmp_path / "dashboard").iterdir() if p.name.startswith(".")
    ]  # no temporary folder left


def test_the_dashboard_reads_the_pipeline_only_through_the_build_format(sample_build, tmp_path):
    """The app, a loaded build and its views import of the pipeline only the build format, the
    settings and their own package; no scikit-learn, pynndescent or torch until a free-text
    search."""
    script = (
        "import sys; import dashboard.app; from dashboard.data import Build; "
        "Build.load(sys.argv[1], sys.argv[2]); "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pipeline', 'sklearn', 'pynndescent', 'torch', 'umap'))))"
    )
    command = [sys.executable, "-c", script, str(sample_build), str(tmp_path)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) <= {
        "pipeline",
        "pipeline.build_format",
        "pipeline.config",
        "pipeline.errors",
    }


def test_text_search_is_literal_and_case_insensitive_over_id_author_and_tags(build, models):
    def expected(text: str) -> np.ndarray:
        text = text.lower()
        in_id = models["model_id"].str.lower().str.contains(text, regex=False)
        in_author = models["author"].fillna("").str.lower().str.contains(text, regex=False)
        in_tags = models["tags"].map(lambda tags: any(text in tag.lower() for tag in tags))
        return (in_id | in_author | in_tags).to_numpy()

    for text in ("GEMMA-7B", "text-to-image", "TheBloke", "license:llama2", "ko"):
        mask = filter_mask(build, Filters(search=text))
        np.testing.assert_array_equal(mask, expected(text), err_msg=text)
    assert filter_mask(build, Filters(search="text-to-image")).sum() == 171
    assert filter_mask(build, Filters(search="(.*")).sum() == 0  # a regex is just text here
    assert filter_mask(build, Filters(search="  ")).all()


def test_numeric_category_and_base_filters_combine(build, models):
    mask = filter_mask(
        build, Filters(min_downloads=1000, min_likes=1, libraries=("transformers",), base_only=True)
    )
    expected = (
        (models["downloads"] >= 1000)
        & (models["likes"] >= 1)
        & (models["library_name"] == "transformers")
        & (models["depth"] == 0)
    ).fillna(False)
    np.testing.assert_array_equal(mask, expected.to_numpy())
    first_license = models["licenses"].map(lambda values: values[0] if len(values) else None)
    assert (
        filter_mask(build, Filters(licenses=("apache-2.0", "mit"))).sum()
        == first_license.isin(["apache-2.0", "mit"]).sum()
    )
    assert (
        filter_mask(build, Filters(min_downloads=1)).sum() == (models["downloads"] >= 1).sum()
    )  # unknown never passes


def test_filters_are_normalized_so_equal_choices_make_one_cache_key():
    assert Filters(libraries=("peft", "diffusers", "peft")) == Filters(
        libraries=("diffusers", "peft")
    )
    assert Filters(search="  llama   2 ") == Filters(search="llama 2")
    assert repr(Filters(min_downloads=-5)) == repr(Filters())
    assert not Filters().active and Filters(base_only=True).active


def test_box_and_lasso_selections_hold_the_models_inside(build):
    x, y = build.numbers("x2d"), build.numbers("y2d")
    x0, x1, y0, y1 = (
        np.percentile(x, 20),
        np.percentile(x, 70),
        np.percentile(y, 20),
        np.percentile(y, 70),
    )
    box = Selection("box", (x1, x0, y1, y0))  # corners in any order; kept to 4 decimals
    assert box.points == tuple(round(v, 4) for v in (x0, x1, y0, y1))
    x0, x1, y0, y1 = box.points
    np.testing.assert_array_equal(
        selection_mask(build, box), (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    )
    triangle = Selection("lasso", (x0, y0, x1, y0, x0, y1))
    inside = selection_mask(build, triangle)
    below_diagonal = (x >= x0) & (y >= y0) & ((x - x0) / (x1 - x0) + (y - y0) / (y1 - y0) <= 1)
    assert (
        inside.sum() > 0 and (inside == below_diagonal).mean() > 0.99
    )  # edges may differ by rounding
    assert selection_mask(build, None).all()


def test_selections_come_from_plotly_events_and_round_trip_through_text():
    box = Selection.from_plotly({"range": {"x": [2.0, 1.0], "y": [0.5, 3.25]}, "points": []})
    assert box == Selection("box", (1.0, 2.0, 0.5, 3.25))
    lasso = Selection.from_plotly({"lassoPoints": {"x": [0, 1, 0], "y": [0, 0, 1]}})
    assert lasso.kind == "lasso" and lasso.points == (0, 0, 1, 0, 0, 1)
    assert Selection.from_plotly(None) is None and Selection.from_plotly({"points": []}) is None
    for selection in (box, lasso):
        assert Selection.from_text(selection.to_text()) == selection
    for bad in ("", "box:1,2", "circle:1,2,3,4", "lasso:1,2,3", "box:a,b,c,d", None):
        assert Selection.from_text(bad) is None


def test_url_state_round_trips_and_survives_bad_values():
    filters = Filters(
        search="llama 2", min_downloads=10, libraries=("transformers", "peft"), base_only=True
    )
    query = to_query(
        filters, {"dims": 3, "colour": "cluster", "model": "google/gemma-7b", "q": None}
    )
    parsed, view = from_query(query)
    assert parsed == filters and view == {
        "dims": "3",
        "colour": "cluster",
        "model": "google/gemma-7b",
    }
    assert to_query(Filters()) == ""
    assert from_query("?min_downloads=lots&min_likes=-5")[0] == Filters()
    assert from_query({"libraries": "peft", "base_only": "1"})[0] == Filters(
        libraries=("peft",), base_only=True
    )
    kept = shared_query(query + "&sel=box:0,1,0,1")
    assert from_query(kept) == (filters, {"model": "google/gemma-7b", "sel": "box:0,1,0,1"})
    assert (
        whole_number("12.7", 0) == 12
        and whole_number("x", 5) == 5
        and whole_number("999", 0, high=100) == 100
    )


def test_filters_from_a_callbacks_inputs_read_what_a_browser_sends():
    panel = {
        "search": "  llama  2 ",
        "min_downloads": "10",
        "min_likes": None,
        "libraries": ["peft", "transformers"],
        "pipelines": "text-generation",
        "licenses": [3, "mit"],
        "base_only": True,
    }
    assert Filters.from_inputs(panel) == Filters(
        "llama 2", 10, 0, ("peft", "transformers"), ("text-generation",), ("mit",), True
    )
    assert Filters.from_inputs({}) == Filters.from_inputs(None) == Filters()
    assert Filters.from_inputs({"min_likes": "lots", "base_only": "yes", "search": 7}) == Filters()

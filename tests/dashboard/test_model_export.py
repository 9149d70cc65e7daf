"""The models CSV export (issue 15): the filtered models or the map selection, parsed back with the
csv module and pandas, its count the map's count, capped at EXPORT_ROWS, hostile ids quoted and
kept from running as spreadsheet formulas; through queries.model_export and GET /api/models.csv.

The build is the real sample with a few models renamed to hostile ids, served by the real app
with a real Redis query cache."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hostile_builds import hostile_build

from dashboard.filters import Filters, Selection, filter_mask, selection_mask
from dashboard.queries.distributions import selection_summary
from dashboard.queries.model_export import COLUMNS, EXPORT_ROWS, export_rows, models_csv
from dashboard.queries.points import map_points
from pipeline.config import Settings

FORMULA_ID = '=HYPERLINK("https://evil.example","click")'
QUOTED_ID = 'org/a,"b"\nc'
HOSTILE_AUTHOR = "+cmd|' /C calc'!A0"
HOSTILE_LICENSE = "@SUM(1+1)"
HOSTILE_LANGUAGE = "-2+3"


def plant(tables) -> None:
    models, edges = tables["models"], tables["edges"]
    leaves = models.index[(models["n_children"] == 0) & (models["depth"] > 0)][:2]
    for row, model_id in zip(leaves, (FORMULA_ID, QUOTED_ID)):
        edges.loc[edges["child_id"] == models.at[row, "model_id"], "child_id"] = model_id
        models.at[row, "model_id"] = model_id
    models.at[leaves[0], "author"] = HOSTILE_AUTHOR
    models.at[leaves[0], "licenses"] = [HOSTILE_LICENSE, "mit"]
    models.at[leaves[0], "languages"] = [HOSTILE_LANGUAGE]


@pytest.fixture(scope="module")
def served(sample_build, session_redis, tmp_path_factory):
    """The app over the planted build, and that build as the dashboard reads it."""
    tmp = tmp_path_factory.mktemp("export")
    hostile_build(sample_build, tmp / "builds", "20990101T000000000015Z", plant)
    from dashboard.app import create_app
    from dashboard.serving import served_build

    settings = Settings(
        cache_dir=tmp / "cache", tracker_db=tmp / "tracker.sqlite", redis_url=session_redis.url
    )
    app = create_app(tmp / "builds", settings)
    return app.server.test_client(), served_build()


def parsed(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def ids_of(table: pd.DataFrame) -> set[str]:
    """The exported ids as the build holds them: the ' before a would-be formula taken off."""
    return {i[1:] if i[:2] in ("'=", "'+", "'-", "'@") else i for i in table["id"]}


def test_the_filtered_models_are_exported_as_the_map_counts_them(served):
    _, build = served
    filters = Filters(search="llama", min_downloads=10, libraries=("transformers",))
    export = models_csv(build, filters, None)
    table = parsed(export.csv)
    assert tuple(table.columns) == COLUMNS
    matching = map_points(build, filters, dims=2, budget=1000).matching
    assert len(table) == export.rows == export.matching == matching > 20
    assert not export.capped
    rows = np.flatnonzero(filter_mask(build, filters))
    assert ids_of(table) == set(build.ids(rows))
    downloads = table["downloads"].astype(int)
    assert list(downloads) == sorted(downloads, reverse=True)  # the most downloaded first
    assert set(table["library"]) == {"transformers"}
    llama = table.set_index("id").loc["meta-llama/Llama-2-7b-chat-hf"]
    assert llama["downloads"] == "1186755" and llama["created"] == "2023-07-13T16:45:23Z"
    assert (llama["licenses"], llama["languages"]) == ("llama2", "en")
    assert llama["family_root"] == "meta-llama/Llama-2-7b-chat-hf" and llama["parents"] == ""


def test_parents_are_the_builds_links_and_an_unknown_value_is_empty(served):
    _, build = served
    table = parsed(models_csv(build, Filters(), None).csv).set_index("id")
    links = pd.read_parquet(build.path / "edges.parquet")  # the pipeline's table, in its order
    expected = links.groupby("child_id", sort=False)["parent_id"].agg(";".join)
    expected.index = ["'" + i if i.startswith("=") else i for i in expected.index]  # a formula
    exported = table.loc[table["parents"] != "", "parents"]
    assert exported.sort_index().to_dict() == expected.sort_index().to_dict()
    assert table.at["mistralai/Mistral-Small-24B-Instruct-2501", "parents"] == (
        "mistralai/Mistral-Small-24B-Base-2501"
    )
    assert (table["pipeline"] == "").sum() > 0  # no pipeline: an empty cell, not "(none)"
    assert "(none)" not in set(table["pipeline"]) | set(table["library"])


def test_the_map_selection_is_exported_with_its_count(served):
    _, build = served
    x, y = build.numbers("x2d"), build.numbers("y2d")
    box = Selection("box", (np.quantile(x, 0.2), np.quantile(x, 0.7), y.min(), y.max()))
    export = models_csv(build, Filters(min_downloads=1), box)
    table = parsed(export.csv)
    summary = selection_summary(build, Filters(min_downloads=1), box)
    assert len(table) == export.matching == summary["models"] > 50
    inside = np.flatnonzero(
        selection_mask(build, box) & filter_mask(build, Filters(min_downloads=1))
    )
    assert ids_of(table) == set(build.ids(inside))


def test_an_export_holds_at_most_its_limit_the_most_downloaded_first(served):
    _, build = served
    export = models_csv(build, Filters(), None, limit=100)
    assert export.rows == 100 and export.matching == build.size and export.capped
    table = parsed(export.csv)
    assert list(table["id"]) == build.ids(build.popularity_order[:100])
    rows, matching = export_rows(build, Filters(), None, limit=10**9)
    assert len(rows) == min(build.size, EXPORT_ROWS) and EXPORT_ROWS == 100_000


def test_hostile_ids_are_quoted_and_never_run_as_formulas(served):
    _, build = served
    text = models_csv(build, Filters(), None).csv
    lines = list(csv.reader(io.StringIO(text)))
    assert all(len(line) == len(COLUMNS) for line in lines)
    by_id = {line[0]: dict(zip(COLUMNS, line)) for line in lines[1:]}
    assert QUOTED_ID in by_id  # a comma, quotes and a line break stay inside one cell
    planted = by_id["'" + FORMULA_ID]
    assert planted["author"] == "'" + HOSTILE_AUTHOR
    assert planted["licenses"] == f"'{HOSTILE_LICENSE};mit"
    assert planted["languages"] == "'" + HOSTILE_LANGUAGE
    for line in lines[1:]:
        assert not [cell for cell in line if cell[:1] in ("=", "+", "-", "@")], line


def test_the_endpoint_serves_the_views_query_as_a_csv_file(served):
    client, build = served
    response = client.get("/api/models.csv?search=llama&libraries=transformers&model=x&zoom=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="hfmap-models-20990101T000000000015Z.csv"'
    table = parsed(response.get_data(as_text=True))
    matching = int(filter_mask(build, Filters(search="llama", libraries=("transformers",))).sum())
    assert len(table) == matching == int(response.headers["X-Hfmap-Matching"])
    assert int(response.headers["X-Hfmap-Rows"]) == matching
    capped = client.get("/api/models.csv?limit=7")
    assert len(parsed(capped.get_data(as_text=True))) == 7
    assert capped.headers["X-Hfmap-Matching"] == str(build.size)
    box = client.get("/api/models.csv?sel=box%3A-100%2C100%2C-100%2C100")
    assert len(parsed(box.get_data(as_text=True))) == build.size
    for bad in ("sel=box%3A1%2C2", "sel=nonsense", "limit=many"):
        response = client.get(f"/api/models.csv?{bad}")
        assert response.status_code == 400 and response.get_json()["error"]

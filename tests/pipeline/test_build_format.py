"""The build format: the manifest round-trips through JSON, open_build refuses what this hfmap
cannot read with one sentence, and a table that drifts from its schema fails the write."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from example_manifest import manifest_for

from pipeline.artifacts import BuildWriter, write_table
from pipeline.build_format import (
    MANIFEST,
    POINTER,
    SCHEMA_VERSION,
    TABLE_SCHEMAS,
    BuildFormatError,
    History,
    Manifest,
    OpenBuild,
    TableSchemaError,
    list_array,
    list_offsets,
    open_build,
)
from pipeline.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def test_a_manifest_round_trips_through_json():
    manifest = manifest_for("20261130T100000000000Z")
    text = manifest.to_json()
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION
    assert list(json.loads(text))[:2] == ["schema_version", "build_id"]
    assert Manifest.from_json(text) == manifest
    incremental = replace(manifest, history=History("a", 10, 1, based_on="b"), mode="incremental")
    assert Manifest.from_json(incremental.to_json()) == incremental
    assert "based_on" not in json.loads(text)["history"]  # a full build's, as written before


def _written(tmp_path) -> OpenBuild:
    with BuildWriter(tmp_path) as writer:
        writer.manifest = manifest_for(writer.build_id)
    return open_build(tmp_path)


def test_open_build_resolves_current_and_reads_the_manifest(tmp_path):
    build = _written(tmp_path)
    assert build.path.name == (tmp_path / POINTER).read_text().strip() == build.build_id
    assert build.manifest == manifest_for(build.build_id)
    assert build.table("models") == build.path / "models.parquet"
    assert open_build(build.path) == build


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: {**m, "schema_version": SCHEMA_VERSION + 1}, "schema version 2.*rebuild it"),
        (lambda m: {k: v for k, v in m.items() if k != "schema_version"}, "schema version None"),
        (lambda m: {k: v for k, v in m.items() if k != "counts"}, r"missing counts\)"),
        (lambda m: {**m, "colour": "blue"}, r"unknown colour\)"),
        (lambda m: {**m, "counts": {**m["counts"], "extra": 1}}, r"unknown counts\.extra"),
        (lambda m: {**m, "embedder": {"name": "x"}}, r"missing embedder\.dim, embedder\.state_id"),
        (lambda m: {**m, "seed": "zero"}, "seed is 'zero'"),
        (lambda m: {**m, "history": []}, "history is not an object"),
    ],
)
def test_open_build_refuses_a_manifest_it_cannot_read_in_one_sentence(tmp_path, change, message):
    build = _written(tmp_path)
    data = json.loads((build.path / MANIFEST).read_text())
    (build.path / MANIFEST).write_text(json.dumps(change(data)))
    with pytest.raises(BuildFormatError, match=message) as error:
        open_build(tmp_path)
    assert str(error.value).count(". ") == 0 and "\n" not in str(error.value)


def test_open_build_refuses_a_manifest_that_is_not_json(tmp_path):
    build = _written(tmp_path)
    (build.path / MANIFEST).write_text("{not json")
    with pytest.raises(BuildFormatError, match="is not a readable manifest"):
        open_build(build.path)


def test_a_table_that_drifts_from_its_schema_fails_the_write(tmp_path):
    neighbours = pd.DataFrame(
        {"model_index": [0, 1], "neighbour_index": [1, 0], "rank": [1, 1], "similarity": [0.5, 0.5]}
    )  # int64 and float64: cast to the schema
    write_table("neighbours", pa.Table.from_pandas(neighbours), tmp_path / "n.parquet")
    assert pq.read_schema(tmp_path / "n.parquet").remove_metadata() == TABLE_SCHEMAS["neighbours"]
    with pytest.raises(TableSchemaError, match="missing \\['rank'\\]"):
        without_rank = pa.Table.from_pandas(neighbours.drop(columns="rank"))
        write_table("neighbours", without_rank, tmp_path / "m.parquet")
    with pytest.raises(TableSchemaError, match="types"):
        wrong = neighbours.assign(rank=["first", "second"])
        write_table("neighbours", pa.Table.from_pandas(wrong), tmp_path / "m.parquet")
    assert not (tmp_path / "m.parquet").exists()
    assert not issubclass(TableSchemaError, UserError)  # a drifting table is hfmap's bug


def test_list_array_groups_values_by_their_row_and_gives_empty_lists_to_the_rest():
    values = pa.array(["a", "b", "c", "d"])
    lists = list_array([0, 0, 2, 4], values, 5)
    assert lists.type == pa.list_(pa.string())
    assert lists.to_pylist() == [["a", "b"], [], ["c"], [], ["d"]]
    assert list_array([], pa.array([], pa.string()), 2).to_pylist() == [[], []]
    assert list_offsets([3, 1, 1], 4).tolist() == [0, 0, 2, 2, 3]  # any order: counts only
    with pytest.raises(ValueError, match="owner rows"):
        list_array([0, 5], pa.array(["a", "b"]), 5)


def modules_loaded_by_importing(*packages: str) -> set[str]:
    """Every module of this project loaded by importing each module of ``packages``, in a fresh
    interpreter."""
    script = (
        "import importlib, pkgutil, sys\n"
        "for name in sys.argv[1:]:\n"
        "    package = importlib.import_module(name)\n"
        "    for found in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        importlib.import_module(found.name)\n"
        "own = ('pipeline', 'dashboard', 'tracker', 'hfmap', 'findings', 'bench', 'tests')\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in own))\n"
    )
    command = [sys.executable, "-c", script, *packages]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_dashboard_imports_of_the_pipeline_only_the_build_format_and_the_settings():
    """The import contract: every dashboard module together loads of the pipeline only the build
    format, the settings and the errors; the findings library is allowed."""
    loaded = modules_loaded_by_importing("dashboard")
    pipeline = {name for name in loaded if name.split(".")[0] == "pipeline"}
    assert pipeline <= {"pipeline", "pipeline.build_format", "pipeline.config", "pipeline.errors"}
    assert "findings" in loaded  # /api/findings and the Evolution view use it
    assert not {name for name in loaded if name.split(".")[0] in ("bench", "tests")}


def test_neither_the_pipeline_nor_the_findings_import_the_dashboard():
    loaded = modules_loaded_by_importing("pipeline", "findings")
    assert not {name for name in loaded if name.split(".")[0] in ("dashboard", "tracker")}

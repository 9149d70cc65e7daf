"""Hostile builds for the dashboard tests: a copy of the built sample whose tables a test edits.

A build is only files, so a test can give one model a count beyond 2**53, a 20 MB license, a
root id written as a markdown link, or a family 50,000 links deep, without running the
pipeline: ``hostile_build`` copies the sample build under a new build id and hands its
models, families, edges and transitions tables (pandas) to the test's edit function before writing
them back. The dashboard then prepares and serves it like any other build.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.build_format import POINTER, resolve_build

Tables = dict[
    str, pd.DataFrame
]  # "models", "families", "edges", "transitions" (one row per in-data edge, in edge order)
PARENT_COLUMNS = (
    "parent_model",
    "finetune_parent",
    "adapter_parent",
    "quantized_parent",
    "merge_parent",
)  # lists of ids

# values planted by the hostile-build tests, in the Flask client and in the browser alike
EVIL_ROOT = "x](https://evil.example/md) [y"  # a root id written as a markdown link
EVIL_LIBRARY = '<a href="https://evil.example/lib">evil-lib</a>'
NOT_HUB_IDS = ("javascript:alert(1)", "../../x")  # model ids from which no Hub link may come


def hostile_build(
    sample_builds: Path, builds: Path, build_id: str, edit: Callable[[Tables], None]
) -> Path:
    """A copy of the sample build named build_id in the builds directory ``builds`` (made
    current), with its tables as ``edit`` left them; returns the build's directory."""
    source = resolve_build(sample_builds)
    target = Path(builds) / build_id
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps({**manifest, "build_id": build_id}))
    tables = {
        name: pq.read_table(target / f"{name}.parquet")
        for name in ("models", "families", "edges", "transitions")
    }
    frames = {
        name: table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        for name, table in tables.items()
    }
    edit(frames)
    for name, frame in frames.items():
        schema = tables[name].schema.remove_metadata()
        pq.write_table(
            pa.Table.from_pandas(frame, schema=schema, preserve_index=False),
            target / f"{name}.parquet",
        )
    (Path(builds) / POINTER).write_text(build_id + "\n")
    return target


def rename_largest_family_root(tables: Tables, new_id: str) -> str:
    """Give the largest family's root the id new_id in every table that names it; returns the old
    id."""
    models, families, edges = tables["models"], tables["families"], tables["edges"]
    largest = families["root_id"].iat[0]
    for frame, columns in (
        (models, ("model_id", "root_id", "primary_parent")),
        (families, ("root_id",)),
        (edges, ("parent_id", "child_id")),
    ):
        for column in columns:
            frame[column] = frame[column].where(frame[column] != largest, new_id)
    for column in PARENT_COLUMNS:
        models[column] = [
            None if ids is None else [new_id if p == largest else p for p in ids]
            for ids in models[column]
        ]
    return largest

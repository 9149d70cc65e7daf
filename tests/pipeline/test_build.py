"""`hfmap build` end to end: complete builds from every source, determinism, incremental
embedding, atomic replacement and one-sentence errors."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from hfmap.cli import main
from pipeline.build_format import POINTER, TABLES, read_manifest, resolve_build
from pipeline.sources.family_exports import read_export

BUILD_FILES = {f"{t}.parquet" for t in TABLES} | {
    "manifest.json",
    "embeddings.npy",
    "findings.json",
    "index",
    "embedder",
}


def _build(tmp_path, *args, out="builds", cache="cache"):
    argv = [
        "build",
        "--out",
        str(tmp_path / out),
        "--cache-dir",
        str(tmp_path / cache),
        "--quiet",
        *args,
    ]
    assert main(argv) == 0
    return resolve_build(tmp_path / out)


def _assert_complete(build, n_models):
    assert {p.name for p in build.iterdir()} >= BUILD_FILES
    manifest = read_manifest(build)
    models = pd.read_parquet(build / "models.parquet")
    assert len(models) == manifest.counts.models == n_models
    for column in (
        "x",
        "y",
        "z",
        "x2d",
        "y2d",
        "cluster",
        "root_id",
        "depth",
        "n_children",
        "n_descendants",
    ):
        assert models[column].notna().all(), column
    embeddings = np.load(build / "embeddings.npy", mmap_mode="r")
    assert embeddings.shape == (n_models, manifest.embedder.dim) and embeddings.dtype == np.float32
    assert set(manifest.stage_seconds) >= {
        "read source",
        "lineage",
        "embed",
        "project",
        "cluster",
        "neighbours",
        "write",
        "findings",
        "total",
    }
    clusters = pd.read_parquet(build / "clusters.parquet")
    assert clusters["size"].sum() == n_models and clusters["label"].str.len().gt(0).all()
    neighbours = pd.read_parquet(build / "neighbours.parquet")
    assert (neighbours["model_index"] != neighbours["neighbour_index"]).all()
    return manifest, models


@pytest.mark.slow
def test_bundled_sample_builds_with_minilm_by_default(tmp_path, shared_data):
    build = _build(tmp_path)
    manifest, models = _assert_complete(build, 1271)
    assert manifest.source == "sample"
    assert manifest.embedder.name == "minilm" and manifest.embedder.dim == 384
    assert manifest.counts.families == 10
    gemma = models.set_index("model_id").loc["google/gemma-7b"]
    assert (
        gemma["depth"] == 0
        and gemma["n_descendants"] == len(read_export(shared_data / "gemma_7b_tree.csv")) - 1
    )

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hfmap",
            "similar",
            "google/gemma-7b",
            "-k",
            "5",
            "--build",
            str(tmp_path / "builds"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len(out.strip().splitlines()) == 5
    assert "google/gemma-7b\n" not in out
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "hfmap",
            "similar",
            "--text",
            "stable diffusion text to image",
            "-k",
            "3",
            "--build",
            str(tmp_path / "builds"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len(text.strip().splitlines()) == 3


def test_published_parquet_builds_with_tfidf(tmp_path, sample_published):
    path = tmp_path / "published.parquet"
    sample_published.to_parquet(path)
    build = _build(tmp_path, "--source", str(path), "--embedder", "tfidf")
    manifest, _ = _assert_complete(build, 1271)
    assert manifest.embedder.name == "tfidf"
    assert manifest.source == str(path)


def test_hub_jsonl_builds(tmp_path, shared_data):
    lines = []
    for row in read_export(shared_data / "llama2_7b_chat_tree.csv"):
        try:
            record = json.loads(row["metadata"])
        except json.JSONDecodeError:
            continue
        record["card"] = row.get("card") or None
        lines.append(json.dumps(record))
    path = tmp_path / "hub.jsonl"
    path.write_text("\n".join(lines) + "\n")
    build = _build(tmp_path, "--source", str(path), "--embedder", "tfidf")
    manifest, models = _assert_complete(build, len(lines))
    # rows whose record was not fetched are absent, so their children are roots of their own
    assert manifest.counts.edges_in_data > 300


def test_same_input_and_seed_give_the_same_map(tmp_path, sample_published):
    path = tmp_path / "published.parquet"
    sample_published.to_parquet(path)
    first = _build(
        tmp_path, "--source", str(path), "--embedder", "tfidf", "--seed", "7", out="a", cache="c1"
    )
    second = _build(
        tmp_path, "--source", str(path), "--embedder", "tfidf", "--seed", "7", out="b", cache="c2"
    )
    other = _build(
        tmp_path, "--source", str(path), "--embedder", "tfidf", "--seed", "8", out="c", cache="c3"
    )
    columns = ["model_id", "x", "y", "z", "x2d", "y2d", "cluster", "root_id", "depth"]
    a, b, c = (
        pd.read_parquet(p / "models.parquet", columns=columns) for p in (first, second, other)
    )
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["x"], c["x"])


def test_rebuild_embeds_only_new_models(tmp_path, sample_published):
    base = sample_published.iloc[:1200]
    path = tmp_path / "published.parquet"
    base.to_parquet(path)
    first = read_manifest(_build(tmp_path, "--source", str(path), "--embedder", "tfidf"))
    assert (first.embedding.newly_embedded, first.embedding.from_cache) == (1200, 0)

    grown = sample_published.copy()
    grown.loc[0, "modelCard"] = "A changed card."
    grown.to_parquet(path)
    second = read_manifest(_build(tmp_path, "--source", str(path), "--embedder", "tfidf"))
    assert (second.embedding.newly_embedded, second.embedding.from_cache) == (71 + 1, 1271 - 72)
    assert second.embedder.state_id == first.embedder.state_id


def test_a_failed_build_leaves_the_current_build_untouched(tmp_path, sample_published, capsys):
    path = tmp_path / "published.parquet"
    sample_published.head(300).to_parquet(path)
    good = _build(tmp_path, "--source", str(path), "--embedder", "tfidf")
    pointer = (tmp_path / "builds" / POINTER).read_text()
    listing = sorted(p.name for p in (tmp_path / "builds").iterdir())

    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    code = main(["build", "--source", str(broken), "--out", str(tmp_path / "builds"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hfmap: ") and len(err.splitlines()) == 1
    assert (tmp_path / "builds" / POINTER).read_text() == pointer
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == listing
    assert pq.read_metadata(good / "models.parquet").num_rows == 300


@pytest.mark.parametrize(
    "argv, message",
    [
        (["build", "--source", "/no/such/file.parquet"], "does not exist"),
        (["build", "--source", "sample", "--dim", "1"], "--dim must be at least 2"),
        (["info", "--build", "/no/such/builds"], "holds no build"),
    ],
)
def test_user_mistakes_end_in_one_sentence_and_exit_2(tmp_path, argv, message):
    result = subprocess.run(
        [sys.executable, "-m", "hfmap", *argv], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "builds").exists()

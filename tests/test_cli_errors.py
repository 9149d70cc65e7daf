"""The command line: a user's mistake is one sentence and exit 2, a bug is one sentence naming the
file with its traceback and exit 1; what a source holds is printed literally; a build from hostile
records completes with every odd record counted, rows and links apart."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from example_manifest import manifest_for

from pipeline.build_format import MANIFEST, POINTER, read_manifest, resolve_build

REPO = Path(__file__).resolve().parent.parent
THUMBS_UP = "\U0001f44d"


def _hfmap(*argv, cwd):
    return subprocess.run(
        [sys.executable, "-m", "hfmap", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(REPO),
            "HFMAP_CACHE_DIR": str(Path(cwd) / "cache"),
        },
        timeout=600,
    )


def test_a_bug_is_reported_as_one_and_its_traceback_written_to_a_file(tmp_path):
    build = tmp_path / "odd-build"
    build.mkdir()
    (build / MANIFEST).write_text(manifest_for("x").to_json())  # a manifest, but no tables
    result = _hfmap("info", "--build", build, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(
        r"hfmap: internal error \(FileNotFoundError: .*\); "
        r"the full traceback is in (\S+); please report it\.",
        lines[0],
    )
    assert match, lines[0]
    traceback = Path(match.group(1)).read_text()
    assert traceback.startswith("Traceback") and "FileNotFoundError" in traceback
    Path(match.group(1)).unlink()


def test_out_pointing_at_a_file_is_one_sentence_before_any_work(tmp_path):
    out = tmp_path / "not-a-dir"
    out.write_text("keep me")
    result = _hfmap("build", "--source", "sample", "--out", out, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"hfmap: --out {out} is a file, not a builds directory."
    ]
    assert "read source" not in result.stdout + result.stderr
    assert out.read_text() == "keep me"

    result = _hfmap("build", "--source", "sample", "--out", out / "builds", cwd=tmp_path)
    assert (
        result.returncode == 2
        and "is a file" in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_other_user_mistakes_are_one_sentence(tmp_path):
    result = _hfmap("track", "--every", "soon", "--db", tmp_path / "t.sqlite", cwd=tmp_path)
    assert result.returncode == 2 and "is not an interval" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = _hfmap(
        "build",
        "--embedder",
        "minilm",
        "--model-path",
        tmp_path / "nowhere",
        "--out",
        tmp_path / "b",
        cwd=tmp_path,
    )
    assert (
        result.returncode == 2 and "is not a local sentence-transformers directory" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "b").exists()


def test_a_listing_of_lines_that_are_not_json_is_one_sentence(tmp_path):
    listing = tmp_path / "listing.jsonl"
    listing.write_text('not json\n{"id": \n\n')
    out, cache = tmp_path / "b", tmp_path / "cache"
    result = _hfmap(
        "build", "--source", listing, "--out", out, "--cache-dir", cache, "--quiet", cwd=tmp_path
    )
    assert result.returncode == 2 and "holds no model rows" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (out / "CURRENT").exists()


def _records():
    """Hostile Hub API records: markup and escape sequences in ids, emoji, a self-link, a cycle,
    a count out of range, an id that is a number, a line that is not JSON."""
    words = ["text", "image", "audio", "vision", "speech", "code", "chat", "math", "music", "video"]
    records = [
        {
            "id": f"org/model-{i}",
            "tags": [words[i % 10], words[(i * 3) % 10], "license:mit"],
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "downloads": i * 10,
            "likes": i,
        }
        for i in range(60)
    ]
    records += [
        {"id": "[bold]x[/]", "tags": ["base_model:org/model-1", "text"], "downloads": 5},
        {
            "id": "mark/[/]",
            "tags": ["base_model:[bold]x[/]", "[red]tag[/red]", "image"],
            "library_name": "[link=https://evil.example]lib[/link]",
        },
        {"id": f"smile/{THUMBS_UP}", "tags": [THUMBS_UP, "chat"], "author": "esc\x1b[31mred"},
        {"id": "self/loop", "tags": ["base_model:self/loop", "code"]},
        {"id": "cyc/a", "tags": ["base_model:cyc/b", "math"]},
        {"id": "cyc/b", "tags": ["base_model:cyc/a", "math"]},
        {"id": "big/count", "downloads": 2**64, "tags": ["music"]},
        {"id": 12345, "tags": ["video"]},
        {"id": "esc/\x1b[2Jclear", "tags": []},
    ]
    lines = [json.dumps(r) for r in records] + ["{not json"]
    return "\n".join(lines) + "\n"


def test_a_hostile_listing_builds_and_everything_is_printed_literally(tmp_path):
    source = (
        tmp_path / "src [bold]odd[" / "] \x1b[31m.jsonl"
    )  # the path reads ".../src [bold]odd[/] ESC[31m.jsonl"
    source.parent.mkdir()
    source.write_text(_records(), encoding="utf-8")
    out = tmp_path / "builds"
    result = _hfmap(
        "build", "--source", source, "--out", out, "--embedder", "tfidf", "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout

    assert "\x1b" not in printed
    assert "src [bold]odd[/] \\x1b[31m.jsonl" in printed  # the path, literally, its ESC visible
    build = resolve_build(out)
    manifest = read_manifest(build)
    counts = manifest.counts
    assert counts.models == 60 + 7
    assert counts.rejected_rows == 3  # the number id, the id with ESC, the line that is not JSON
    assert counts.dropped_links == 2  # the self-link and one link of the cycle
    assert counts.repaired_values == 1  # downloads 2**64
    issues = manifest.issues
    assert (
        issues["dropped"]["self-parent edge"]["count"] == 1
        and issues["dropped"]["cycle edge broken"]["count"] == 1
    )
    assert issues["rejected"]["model_id is not text"]["count"] == 1
    assert "rejected 1 row(s): model_id is not text" in printed
    assert "dropped 1 parent link(s): self-parent edge" in printed
    assert "repaired 1 value(s): downloads out of range (set to null)" in printed
    assert manifest.source_columns["unread"] == []

    models = pd.read_parquet(build / "models.parquet").set_index("model_id")
    assert {"[bold]x[/]", "mark/[/]", f"smile/{THUMBS_UP}"} <= set(models.index)
    assert list(models.loc[f"smile/{THUMBS_UP}", "tags"]) == [THUMBS_UP, "chat"]
    assert (
        models.loc[f"smile/{THUMBS_UP}", "author"] == "esc\x1b[31mred"
    )  # kept as given; shown inert
    assert models.loc["mark/[/]", "library_name"] == "[link=https://evil.example]lib[/link]"
    assert pd.isna(models.loc["big/count", "downloads"])

    info = _hfmap("info", "--build", out, cwd=tmp_path)
    assert info.returncode == 0 and "\x1b" not in info.stdout
    assert "src [bold]odd[/] \\x1b[31m.jsonl" in info.stdout
    assert "dropped 1 parent link(s): cycle edge broken" in info.stdout
    assert (out / POINTER).read_text().strip() == build.name

"""The build directory is replaced atomically and refuses what it cannot read."""

import json

import pytest
from example_manifest import manifest_for

from pipeline.artifacts import BuildWriter, finished_builds
from pipeline.build_format import (
    MANIFEST,
    POINTER,
    SCHEMA_VERSION,
    BuildFormatError,
    read_manifest,
    resolve_build,
)


def _write(out, text="data", keep=3):
    with BuildWriter(out, keep_builds=keep) as writer:
        (writer.path / "models.parquet").write_text(text)
        writer.manifest = manifest_for(writer.build_id, source=text)
    return writer


def test_a_finished_build_becomes_current(tmp_path):
    writer = _write(tmp_path, "first")
    assert (tmp_path / POINTER).read_text().strip() == writer.build_id
    assert resolve_build(tmp_path) == writer.final_path
    manifest = read_manifest(tmp_path)
    assert manifest.schema_version == SCHEMA_VERSION and manifest.build_id == writer.build_id
    assert manifest.source == "first"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_a_failed_build_leaves_the_previous_one_untouched(tmp_path):
    first = _write(tmp_path, "first")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(RuntimeError), BuildWriter(tmp_path) as writer:
        (writer.path / "models.parquet").write_text("half written")
        raise RuntimeError("stage failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert resolve_build(tmp_path) == first.final_path
    assert (first.final_path / "models.parquet").read_text() == "first"


def test_old_builds_are_pruned_but_current_is_kept(tmp_path):
    writers = [_write(tmp_path, str(i), keep=2) for i in range(4)]
    assert finished_builds(tmp_path) == [w.final_path for w in writers[-2:]]
    assert resolve_build(tmp_path) == writers[-1].final_path


def test_a_build_directory_itself_resolves_to_itself(tmp_path):
    writer = _write(tmp_path)
    assert resolve_build(writer.final_path) == writer.final_path


def test_no_build_and_unknown_schema_are_refused_with_one_sentence(tmp_path):
    with pytest.raises(BuildFormatError, match="holds no build"):
        resolve_build(tmp_path)
    writer = _write(tmp_path)
    manifest = json.loads((writer.final_path / MANIFEST).read_text())
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (writer.final_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BuildFormatError, match="rebuild it"):
        read_manifest(tmp_path)
    (tmp_path / POINTER).write_text("no-such-build\n")
    with pytest.raises(BuildFormatError, match="does not exist"):
        resolve_build(tmp_path)


def test_a_build_that_fails_its_check_before_the_switch_never_becomes_current(tmp_path):
    first = _write(tmp_path, "first")
    before = sorted(p.name for p in tmp_path.iterdir())
    seen = []

    def check(path):
        seen.append(read_manifest(path).source)  # the complete build, manifest included
        raise KeyError("summary")

    with pytest.raises(KeyError), BuildWriter(tmp_path, before_switch=check) as writer:
        (writer.path / "models.parquet").write_text("second")
        writer.manifest = manifest_for(writer.build_id, source="second")
    assert seen == ["second"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert resolve_build(tmp_path) == first.final_path


def test_a_build_finished_without_its_manifest_never_becomes_current(tmp_path):
    first = _write(tmp_path, "first")
    with pytest.raises(ValueError, match="without its manifest"), BuildWriter(tmp_path) as writer:
        (writer.path / "models.parquet").write_text("second")
    assert resolve_build(tmp_path) == first.final_path
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]

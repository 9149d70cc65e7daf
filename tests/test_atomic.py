"""hfmap.atomic: a file or folder appears complete or not at all."""

from pathlib import Path

import pytest

from hfmap.atomic import atomic_directory, atomic_file


def test_file_replaces_only_on_success(tmp_path: Path):
    target = tmp_path / "sub" / "data.json"
    with atomic_file(target) as temp:
        temp.write_text("one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError), atomic_file(target) as temp:
        temp.write_text("half")
        raise RuntimeError("stopped mid-write")
    assert target.read_text() == "one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.json"]


def test_directory_replaces_or_keeps_the_first(tmp_path: Path):
    target = tmp_path / "state"
    with atomic_directory(target) as staging:
        (staging / "a").write_text("first")
    with atomic_directory(target, replace=False) as staging:
        (staging / "a").write_text("second")
    assert (target / "a").read_text() == "first"
    with atomic_directory(target) as staging:
        (staging / "b").write_text("third")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "c").write_text("half")
        raise RuntimeError("stopped mid-write")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]

"""The build directory: the one contract between the pipeline and the dashboard.

Layout of ``<out>/``::

    CURRENT                 name of the current build (replaced atomically)
    <build id>/             one finished build, never modified afterwards
        manifest.json       schema version, source, counts, stage times, bad-row report
        models.parquet      normalized fields + lineage + coordinates + cluster per model
        edges.parquet       parent_id, child_id, relation, parent_in_data
        families.parquet    one row per family root
        transitions.parquet trait changes along in-data edges
        clusters.parquet    cluster, size, label, top_terms, centre coordinates
        neighbours.parquet  each model's k nearest models (by row index)
        embeddings.npy      float32 (rows x dim), memory-mappable, row i = models row i
        index/              nearest-neighbour index for "models similar to X"
        embedder/           the fitted embedder, to embed free-text queries

A build is written under a hidden temporary name and renamed into place only
when complete (and checked: `before_switch`), then CURRENT is switched; a failed
build leaves the previous one and CURRENT untouched, and nothing after the switch
can fail the build (pruning old builds only warns).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pipeline.errors import BuildFormatError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
POINTER = "CURRENT"
TABLES = ("models", "edges", "families", "transitions", "clusters", "neighbours")

__all__ = ["BuildFormatError", "BuildWriter", "finished_builds", "prune_builds", "read_manifest", "resolve_build"]
log = logging.getLogger("hfmap.build")


def new_build_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class BuildWriter:
    """Context manager that writes one build atomically into ``out_dir``.

    Inside the block, write files under ``writer.path``; on normal exit the
    manifest is written, ``before_switch(path)`` is called on the complete build
    (whatever it raises removes the build, as any error inside the block does),
    the directory is renamed to its build id and CURRENT switched to it. On an
    exception the temporary directory is removed.
    """

    def __init__(self, out_dir: Path, keep_builds: int = 3, before_switch: Callable[[Path], None] | None = None):
        self.out_dir = Path(out_dir)
        self.keep_builds = keep_builds
        self.before_switch = before_switch
        self.build_id = new_build_id()
        self.manifest: dict = {}
        self.path: Path | None = None
        self.final_path: Path | None = None

    def __enter__(self) -> "BuildWriter":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".tmp-{self.build_id}-", dir=self.out_dir))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        try:
            self.manifest = {"schema_version": SCHEMA_VERSION, "build_id": self.build_id, **self.manifest}
            _write_json_atomically(self.path / MANIFEST, self.manifest)
            if self.before_switch is not None:
                self.before_switch(self.path)
            self.final_path = self.out_dir / self.build_id
            os.rename(self.path, self.final_path)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        _write_text_atomically(self.out_dir / POINTER, self.build_id + "\n")
        try:  # the build is current: from here on nothing may fail it
            _fsync_dir(self.out_dir)
            prune_builds(self.out_dir, self.keep_builds)
        except (OSError, BuildFormatError) as error:
            log.warning("build %s is current, but old builds could not be pruned (%s)", self.build_id, error)
        return False


def _write_text_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _write_json_atomically(path: Path, data: dict) -> None:
    _write_text_atomically(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finished_builds(out_dir: Path) -> list[Path]:
    """Finished builds in ``out_dir``, oldest first (ids sort by time)."""
    if not Path(out_dir).is_dir():
        return []
    return sorted(p for p in Path(out_dir).iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists())


def prune_builds(out_dir: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` finished builds; the current one is always kept."""
    current = resolve_build(out_dir) if (Path(out_dir) / POINTER).exists() else None
    builds = finished_builds(out_dir)
    for old in builds[: max(0, len(builds) - max(keep, 1))]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def resolve_build(path: Path) -> Path:
    """A build directory from either a build itself or an out directory with CURRENT."""
    path = Path(path)
    if (path / MANIFEST).exists():
        return path
    pointer = path / POINTER
    if pointer.exists():
        build = path / pointer.read_text(encoding="utf-8").strip()
        if (build / MANIFEST).exists():
            return build
        raise BuildFormatError(f"{pointer} names the build {build.name}, which does not exist.")
    raise BuildFormatError(f"{path} holds no build; run `hfmap build --out {path}` first.")


def read_manifest(build: Path) -> dict:
    """The manifest of a build, checked against the schema version this code reads."""
    build = resolve_build(build)
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BuildFormatError(f"{build / MANIFEST} is not a readable manifest ({error}).") from error
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BuildFormatError(
            f"{build} has build schema version {version!r}, but this hfmap reads version {SCHEMA_VERSION}; rebuild it."
        )
    return manifest

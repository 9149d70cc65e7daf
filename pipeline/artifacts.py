"""Writing builds: a build appears complete or not at all, and old builds are pruned.

The layout, the table schemas and the manifest are pipeline.build_format's. A build is written
under a hidden temporary name and renamed into place only when complete (and checked:
`before_switch`), then CURRENT is switched; a failed build leaves the previous one and CURRENT
untouched, and nothing after the switch can fail the build (pruning old builds only warns).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hfmap.atomic import atomic_file
from pipeline.build_format import (
    MANIFEST,
    POINTER,
    BuildFormatError,
    Manifest,
    conform,
    resolve_build,
)

__all__ = ["BuildWriter", "finished_builds", "prune_builds", "write_table"]
log = logging.getLogger("hfmap.build")


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


class BuildWriter:
    """Context manager that writes one build atomically into ``out_dir``.

    Inside the block, write files under ``writer.path`` and set ``writer.manifest`` (its
    build_id is ``writer.build_id``); on normal exit the manifest is written,
    ``before_switch(path)`` is called on the complete build (whatever it raises removes the
    build, as any error inside the block does),
    the directory is renamed to its build id and CURRENT switched to it. On an
    exception the temporary directory is removed.
    """

    def __init__(
        self,
        out_dir: Path,
        keep_builds: int = 3,
        before_switch: Callable[[Path], None] | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.keep_builds = keep_builds
        self.before_switch = before_switch
        self.build_id = new_build_id()
        self.manifest: Manifest | None = None
        self.path: Path | None = None
        self.final_path: Path | None = None

    def __enter__(self) -> BuildWriter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".tmp-{self.build_id}-", dir=self.out_dir))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        try:
            if self.manifest is None or self.manifest.build_id != self.build_id:
                raise ValueError(f"build {self.build_id} was finished without its manifest")
            _write_text_atomically(self.path / MANIFEST, self.manifest.to_json())
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
            log.warning(
                "build %s is current, but old builds could not be pruned (%s)", self.build_id, error
            )
        return False


def _write_text_atomically(path: Path, text: str) -> None:
    """text as the file path, complete or not at all, on disk before it replaces the old one."""
    with atomic_file(path) as temp, open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def write_table(name: str, table: pa.Table, path: Path) -> None:
    """One of the build's tables, cast to its schema in pipeline.build_format (a table that drifted
    from it fails the build here): zstd Parquet without pandas' dtype metadata (pandas cannot
    re-create Arrow list dtypes from it; the Arrow schema alone reads back into any pandas or
    pyarrow). No dictionary pages: on the real listing they made writing models and neighbours
    1.2 s slower and the files no smaller."""
    table = conform(name, table.replace_schema_metadata(None))
    pq.write_table(table, path, compression="zstd", row_group_size=256_000, use_dictionary=False)


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
    return sorted(
        p
        for p in Path(out_dir).iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists()
    )


def prune_builds(out_dir: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` finished builds; the current one is always kept."""
    current = resolve_build(out_dir) if (Path(out_dir) / POINTER).exists() else None
    builds = finished_builds(out_dir)
    for old in builds[: max(0, len(builds) - max(keep, 1))]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)

"""Files and folders that appear complete or not at all: written under a hidden temporary name
in the same folder, then renamed into place. The one helper the pipeline, the tracker and the
dashboard use for it (it imports nothing of theirs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_directory", "atomic_file"]


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; write it inside the block. On normal exit it
    replaces ``path`` (readers see the old file or the new one, never half of one); on an
    exception it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: str | Path, replace: bool = True) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; fill it inside the block. On normal exit
    it becomes ``path``: an existing ``path`` is replaced, or, with ``replace=False``, kept
    (another process finished first) and the new folder dropped. On an exception the temporary
    folder is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield staging
        if path.exists() and replace:
            retired = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, retired / path.name)
            shutil.rmtree(retired, ignore_errors=True)
        try:
            os.rename(staging, path)
        except OSError:
            if replace or not path.exists():
                raise  # not a folder another process finished first: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)

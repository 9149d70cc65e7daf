"""Compile umap's and pynndescent's numba functions once per machine, not once per build.

umap-learn declares almost none of its numba functions ``cache=True`` (pynndescent
some), so every process compiled them again: on 2 cores that was 40-120 s of each
build, more than UMAP's own work on 50k points. ``enable`` turns on numba's own
on-disk cache for every module-level numba function of both libraries, exactly as
if they had been declared ``cache=True``: compiled code goes where numba puts it
(``__pycache__`` beside the library when writable, else numba's per-user cache
directory, or ``NUMBA_CACHE_DIR``), keyed by the source file's time stamp and the
argument types, and is compiled again whenever either changes. Functions numba
cannot cache (closures made at run time) are simply compiled as before.
"""

from __future__ import annotations

import sys
import warnings

from numba.core.dispatcher import Dispatcher
from numba.core.errors import NumbaWarning

LIBRARIES = ("umap", "pynndescent")
_enabled: set[str] = set()


def enable() -> int:
    """Turn on numba's disk cache for the numba functions of the loaded umap and pynndescent
    modules (imports both); returns how many functions it newly covered."""
    import pynndescent  # noqa: F401  (loads the modules whose functions are covered)
    import umap  # noqa: F401

    covered = 0
    for name, module in list(sys.modules.items()):
        if name in _enabled or module is None or name.split(".")[0] not in LIBRARIES:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and value.__module__ == name and not _is_cached(value):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", NumbaWarning)
                    value.enable_caching()
                covered += 1
        _enabled.add(name)
    warnings.filterwarnings(
        "ignore", message=r"(?s).*Cannot cache compiled function", category=NumbaWarning
    )
    return covered


def _is_cached(dispatcher: Dispatcher) -> bool:
    return type(dispatcher._cache).__name__ != "NullCache"

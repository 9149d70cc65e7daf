"""Which build this dashboard process serves.

Started on a builds directory, the dashboard follows its CURRENT pointer: a request more than
RECHECK_SECONDS after the last check looks at it in a background thread, which loads a new
current build (preparing its files first, if need be) while requests go on with the old one,
then moves every view to it. Since query-cache keys hold the build version,
nothing cached for the old build is served for the new one.

A served build may be pruned from the builds directory (`hfmap build` keeps
HFMAP_KEEP_BUILDS builds) while this process still serves it. Its prepared files and small
tables live in the cache directory, mapped or linked, so they stay readable; and the first
request that finds the build's directory gone moves this process to the current build at once.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from dashboard.data import Build
from dashboard.queries.adoption import prepare_adoption
from dashboard.queries.density import warm_up_density
from dashboard.queries.findings import prepared_findings
from dashboard.queries.minimap import minimap_frame
from dashboard.queries.semantic import prepare_semantic_search
from pipeline.build_format import BuildFormatError, resolve_build
from pipeline.config import Settings

log = logging.getLogger("hfmap.dashboard")

RECHECK_SECONDS = 5.0
GONE_RECHECK_SECONDS = 1.0  # while the served build's directory is gone and nothing replaces it

_state: dict = {}
_lock = threading.Lock()


def serve(location: Path, settings: Settings) -> Build:
    """Load the build at location (a build, or a builds directory to follow) and serve it with
    settings."""
    build = Build.load(location, settings.cache_dir)
    _state.update(build=build, location=Path(location), settings=settings, checked=time.monotonic())
    threading.Thread(target=warm_up, args=(build,), name="hfmap-warm-up", daemon=True).start()
    return build


def warm_up(build: Build) -> None:
    """Prepare what the first requests would otherwise wait for: the build's own indexes and those
    of the families over time and the 3D map's minimap, the findings' tables (so the first
    per-relation or per-family findings variant answers in well under a second) and the words the
    semantic search matches."""
    start = time.monotonic()
    build.warm_up()
    warm_up_density()  # datashader's compiled code for the map's density layer
    prepare_adoption(build)  # the Families view's indexes of families over time
    minimap_frame(build)
    try:
        prepared_findings(build)
        prepare_semantic_search(build)
    except (OSError, BuildFormatError) as error:  # pruned while warming: the variant says so
        log.warning("findings or search of build %s not prepared: %s", build.version, error)
    log.info("build %s warmed up in %.1f s", build.version, time.monotonic() - start)


def served_build() -> Build:
    """The build every view reads now."""
    if "build" not in _state:
        raise RuntimeError("No build is served yet; call dashboard.serving.serve first.")
    if (
        not _state["build"].path.is_dir()
        and time.monotonic() - _state.get("gone_checked", -GONE_RECHECK_SECONDS)
        > GONE_RECHECK_SECONDS
    ):
        with _lock:  # pruned while served: move to the current build now (if there is one)
            _state["gone_checked"] = _state["checked"] = time.monotonic()
            if not _state["build"].path.is_dir():
                follow_current()
        return _state["build"]
    if time.monotonic() - _state["checked"] > RECHECK_SECONDS and _lock.acquire(blocking=False):
        _state["checked"] = time.monotonic()
        threading.Thread(
            target=follow_current_then_release, name="hfmap-follow", daemon=True
        ).start()
    return _state["build"]


def follow_current_then_release() -> None:
    try:
        follow_current()
    finally:
        _lock.release()


def served_settings() -> Settings:
    """The settings the dashboard was started with."""
    return _state["settings"]


def follow_current() -> None:
    """Switch to the builds directory's current build if it is not the one served."""
    try:
        current = resolve_build(_state["location"])
    except BuildFormatError as error:
        log.warning("keeping build %s: %s", _state["build"].version, error)
        return
    if current == _state["build"].path:
        return
    started = time.perf_counter()
    try:
        build = Build.load(current, _state["settings"].cache_dir)
    except (BuildFormatError, OSError, ValueError) as error:
        log.warning(
            "keeping build %s: the new current build %s cannot be read (%s)",
            _state["build"].version,
            current.name,
            error,
        )
        return
    warm_up(build)
    log.info(
        "now serving build %s (%s models), loaded in %.1f s",
        build.version,
        f"{build.size:,}",
        time.perf_counter() - started,
    )
    _state["build"] = build

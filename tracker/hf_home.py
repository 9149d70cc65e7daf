"""The tracker's own huggingface_hub home, beside its history instead of ~/.cache/huggingface.

huggingface_hub keeps its cache, stored tokens and settings under HF_HOME, read once when it is
imported. The tracker's process points HF_HOME at ``<history>.huggingface`` (next to the
history's ``.lock``) before that, so nothing a Hub endpoint answers can reach the user's
~/.cache/huggingface and break later runs, and a token stored there by `hf auth login` is never
sent to an endpoint (the tracker sends HF_TOKEN only).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# variables that would place huggingface_hub's files somewhere other than under HF_HOME
HOME_VARIABLES = (
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_ASSETS_CACHE",
    "HF_XET_CACHE",
    "HF_TOKEN_PATH",
)


def tracker_hf_home(history_path: Path) -> Path:
    history_path = Path(history_path).absolute()
    return history_path.with_name(history_path.name + ".huggingface")


def use_tracker_hf_home(history_path: Path) -> Path:
    """Point this process's huggingface_hub at the tracker's own home; call it before
    huggingface_hub is imported (it reads HF_HOME once)."""
    if "huggingface_hub" in sys.modules:
        raise RuntimeError("use_tracker_hf_home() must run before huggingface_hub is imported")
    home = tracker_hf_home(history_path)
    os.environ["HF_HOME"] = str(home)
    for variable in HOME_VARIABLES:
        os.environ.pop(variable, None)
    return home

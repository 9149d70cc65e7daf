import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("HFMAP_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real family-tree exports beside the repository (CI always has them)."""
    if not any(SHARED_DATA.glob("*_tree.csv")):
        pytest.fail(f"the real exports are missing: expected {SHARED_DATA}/*_tree.csv (set HFMAP_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_published() -> pd.DataFrame:
    """The bundled sample in the published data set's schema (real rows)."""
    from pipeline.sources import SAMPLE_PATH

    return pd.read_parquet(SAMPLE_PATH)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """The bundled sample built once with tfidf (fast, and enough for every dashboard test): its
    builds directory. The dashboard's prepared files go to the ``cache`` folder beside it."""
    tmp = tmp_path_factory.mktemp("sample-build")
    builds = tmp / "builds"
    command = [sys.executable, "-m", "pipeline.cli", "build", "--source", "sample", "--embedder", "tfidf",
               "--out", str(builds), "--cache-dir", str(tmp / "cache"), "--quiet"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        pytest.fail(f"building the sample failed (exit {result.returncode}): {' '.join(command)}\n{output}", pytrace=False)
    return builds


@pytest.fixture(scope="session")
def dashboard_build(sample_build):
    """The sample build as the dashboard loads it (prepared files beside the builds directory)."""
    from dashboard.data import Build

    return Build.load(sample_build, sample_build.parent / "cache")


@pytest.fixture(scope="session")
def sample_models(sample_build) -> pd.DataFrame:
    """The sample build's own models table, to check the dashboard against."""
    from pipeline.artifacts import resolve_build

    return pd.read_parquet(resolve_build(sample_build) / "models.parquet")

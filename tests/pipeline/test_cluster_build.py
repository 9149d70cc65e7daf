"""`hfmap build --cluster`: the build's heavy stages on a Dask distributed cluster
(pipeline.cluster) give the build made in one process, on a LocalCluster of two worker processes
and on a scheduler and a worker started as separate processes, as the compose services run them;
a worker killed mid-build, no worker left and an unreachable scheduler."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from hfmap.cli import main
from pipeline.build_format import POINTER, read_manifest, resolve_build

pytestmark = pytest.mark.serial  # make test runs it alone (pyproject.toml)
BIN = Path(sys.executable).parent
LOCAL_CLUSTER_PORT, SCHEDULER_PORT, NOBODY_PORT = 8790, 8791, 8799
MODELS = 110  # two MiniLM batches (of 64 and 46 texts)
FIT_SAMPLE = 100  # the other 10 models are placed (the smallest --fit-sample)
TIMEOUT_S = 300
# The environment before any Dask nanny starts: a nanny sets OMP_NUM_THREADS=1 and the like in its
# own process's environment for its workers, and a build whose BLAS has one thread makes another
# map. The builds run as commands get this one, as a user's shell would give them.
ENVIRONMENT = dict(os.environ)


@pytest.fixture(scope="module")
def source(tmp_path_factory, sample_published) -> Path:
    """Real models of the sample without their cards: short texts, which MiniLM embeds quickly."""
    path = tmp_path_factory.mktemp("cluster-source") / "models.parquet"
    sample_published.head(MODELS).assign(modelCard="").to_parquet(path)
    return path


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, source) -> Path:
    """The build made without a cluster."""
    return _built(source, tmp_path_factory.mktemp("in-process"), cluster=None)


@pytest.fixture(scope="module")
def local_cluster():
    cluster = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        scheduler_port=LOCAL_CLUSTER_PORT,
        dashboard_address=None,
    )
    os.environ.clear()  # what the nannies set for their workers (ENVIRONMENT) stays theirs
    os.environ.update(ENVIRONMENT)
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory):
    """`dask scheduler` and `dask worker` (a nanny and its worker process) as the compose services
    run them; the worker's nanny restarts a killed worker process."""
    folder = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{SCHEDULER_PORT}"
    commands = [
        ["scheduler", "--port", str(SCHEDULER_PORT), "--no-dashboard"],
        ["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
    ]
    processes = []
    try:
        for command in commands:
            log = open(folder / f"{command[0]}.log", "wb")  # noqa: SIM115  (closed with the process)
            processes.append(
                subprocess.Popen(
                    [str(BIN / "dask"), *command],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=folder,
                    env=ENVIRONMENT,
                    start_new_session=True,
                )
            )
        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(1, timeout=120)
        yield address, processes[1]
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _cli(source: Path, folder: Path, cluster: str | None) -> subprocess.Popen:
    """`hfmap build` of source into folder (on the cluster at that address, if one), as a command:
    a build that hangs is ended and shown by _finish, never holding the test session."""
    on_cluster = ["--cluster", cluster] if cluster else []
    return subprocess.Popen(
        [
            str(BIN / "hfmap"),
            "build",
            *on_cluster,
            "--source",
            str(source),
            "--embedder",
            "minilm",
            "--fit-sample",
            str(FIT_SAMPLE),
            "--out",
            str(folder / "builds"),
            "--cache-dir",
            str(folder / "cache"),  # its own: every build embeds all its texts
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENVIRONMENT, "PYTHONFAULTHANDLER": "1"},
    )


def _finish(build: subprocess.Popen) -> str:
    """The build's standard error once it has exited; a build still running after TIMEOUT_S is
    aborted and the test fails with every thread's stack (faulthandler prints them on SIGABRT)."""
    try:
        return build.communicate(timeout=TIMEOUT_S)[1]
    except subprocess.TimeoutExpired:
        build.send_signal(signal.SIGABRT)
        try:
            err = build.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            build.kill()
            err = build.communicate()[1]
        pytest.fail(f"the build was still running after {TIMEOUT_S} s:\n{err[-30_000:]}")


def _built(source: Path, folder: Path, cluster: str | None) -> Path:
    """The current build after `hfmap build` of source into folder has exited 0."""
    build = _cli(source, folder, cluster)
    try:
        err = _finish(build)
    finally:
        build.kill()
    assert build.returncode == 0, err
    return resolve_build(folder / "builds")


def _assert_same_build(build: Path, expected: Path) -> None:
    """The same vectors (within float tolerance: they are equal), map, clusters and neighbours."""
    np.testing.assert_allclose(
        np.load(build / "embeddings.npy"), np.load(expected / "embeddings.npy"), atol=1e-6
    )
    for table in ("models", "clusters", "neighbours"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(build / f"{table}.parquet"),
            pd.read_parquet(expected / f"{table}.parquet"),
        )
    assert read_manifest(build).embedding.newly_embedded == MODELS


def _when_embedding_runs(address: str, deadline: float) -> dict[str, int]:
    """Waits until a MiniLM partition is running on the cluster: each worker's process id."""
    with Client(address, timeout=30, set_as_default=False) as client:
        while time.monotonic() < deadline:
            running = [key for keys in client.processing().values() for key in keys]
            if any("minilm-embed" in str(key) for key in running):
                return client.run(os.getpid)
            time.sleep(0.2)
    pytest.fail("no MiniLM partition ran on the cluster")


@pytest.mark.slow
def test_a_build_on_a_local_cluster_is_the_in_process_build(
    tmp_path, source, in_process, local_cluster
):
    _assert_same_build(_built(source, tmp_path, local_cluster.scheduler_address), in_process)
    with Client(local_cluster, set_as_default=False) as client:
        plugins = client.run(
            lambda dask_worker: {
                name: plugin.loads
                for name, plugin in dask_worker.plugins.items()
                if name.startswith("hfmap-embedder")
            }
        )
    # both workers embedded, each loading MiniLM once for its partitions
    assert len(plugins) == 2 and all(list(loads.values()) == [1] for loads in plugins.values())


@pytest.mark.slow
def test_the_cli_builds_on_a_scheduler_and_a_worker_whose_process_is_killed_mid_build(
    tmp_path, source, in_process, dask_processes
):
    address, _ = dask_processes
    build = _cli(source, tmp_path, address)
    try:
        pids = _when_embedding_runs(address, time.monotonic() + TIMEOUT_S)
        os.kill(next(iter(pids.values())), signal.SIGKILL)  # the nanny starts another
        err = _finish(build)
    finally:
        build.kill()
    assert build.returncode == 0, err
    _assert_same_build(resolve_build(tmp_path / "builds"), in_process)


@pytest.mark.slow
def test_no_worker_left_stops_the_build_in_one_sentence_and_keeps_the_current_build(
    tmp_path, source, in_process, dask_processes
):
    builds = tmp_path / "builds"
    builds.mkdir()
    (builds / in_process.name).symlink_to(in_process, target_is_directory=True)
    (builds / POINTER).write_text(in_process.name)
    listing = sorted(path.name for path in builds.iterdir())
    address, worker = dask_processes
    build = _cli(source, tmp_path, address)
    try:
        _when_embedding_runs(address, time.monotonic() + TIMEOUT_S)
        os.killpg(worker.pid, signal.SIGKILL)  # the nanny and its worker: no worker is left
        err = _finish(build)
    finally:
        build.kill()
    assert build.returncode == 2
    # hfmap's one sentence (after what the libraries print while MiniLM loads)
    sentences = [line for line in err.splitlines() if line.startswith("hfmap:")]
    assert sentences == [err.strip().splitlines()[-1]] and "has had no worker" in err, err
    assert (builds / POINTER).read_text() == in_process.name
    assert sorted(path.name for path in builds.iterdir()) == listing


def test_an_unreachable_scheduler_is_one_sentence_and_exit_2_before_any_work(tmp_path, capsys):
    code = main(
        [
            "build",
            "--cluster",
            f"tcp://127.0.0.1:{NOBODY_PORT}",
            "--out",
            str(tmp_path / "builds"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("hfmap: Cannot reach the Dask scheduler at tcp://127.0.0.1:8799")
    assert not (tmp_path / "builds").exists() and not (tmp_path / "cache").exists()


def test_a_build_without_a_cluster_never_imports_dask():
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hfmap.cli, pipeline.build, pipeline.project, pipeline.neighbours; "
            "print(sorted({name.split('.')[0] for name in sys.modules} & {'dask', 'distributed'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "[]"

"""Benchmark a whole `hfmap build --embedder minilm --cluster` of the real Hub listing's first N
models on a Dask cluster of this machine: `dask scheduler` and `dask worker` started as separate
processes, as the compose services run them. Prints one markdown row: the build's stages, the
embedding rate and the time 1.86M models would take at it.

    python bench/cluster_build.py --models 30000               # 1 worker process
    python bench/cluster_build.py --models 30000 --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from distributed import Client  # noqa: E402

from pipeline.build_format import read_manifest, resolve_build  # noqa: E402

BIN = Path(sys.executable).parent
LISTING = ROOT.parent / "shared" / "data" / "hub_models_2024-07.jsonl.gz"
HUB_MODELS = 1_860_000
SCHEDULER_PORT = 8793


def first_records(listing: Path, count: int, target: Path) -> None:
    """The listing's first count lines (one Hub record each), as they are."""
    with gzip.open(listing, "rt", encoding="utf-8") as lines, target.open("w") as out:
        out.writelines(itertools.islice(lines, count))


def start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes, 1 thread each")
    parser.add_argument("--listing", type=Path, default=LISTING)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hfmap-cluster-build-"))
    source = folder / "listing.jsonl"
    first_records(args.listing, args.models, source)
    address = f"tcp://127.0.0.1:{SCHEDULER_PORT}"
    dask = str(BIN / "dask")
    processes = [
        start(
            [dask, "scheduler", "--port", str(SCHEDULER_PORT), "--no-dashboard"], folder / "s.log"
        )
    ]
    try:
        processes.append(
            start(
                [dask, "worker", address, "--nworkers", str(args.workers), "--nthreads", "1"]
                + ["--no-dashboard"],
                folder / "w.log",
            )
        )
        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(args.workers, timeout=120)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "hfmap"), "build", "--source", str(source), "--embedder", "minilm"]
            + ["--cluster", address, "--out", str(folder / "builds")]
            + ["--cache-dir", str(folder / "cache")],
            check=True,
        )
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    manifest = read_manifest(resolve_build(folder / "builds"))
    stages = manifest.stage_seconds
    rate = manifest.embedding.newly_embedded / stages["embed"]
    print(
        f"\n{manifest.counts.models:,} models of {args.listing.name}, {args.workers} worker "
        f"process(es), {os.cpu_count()} CPUs, load {load_before:.1f} -> {load_after:.1f}\n"
    )
    print("| models | workers | " + " | ".join(stages) + " | whole command | embed models/s |")
    print("|" + "---:|" * (len(stages) + 4))
    print(
        f"| {manifest.counts.models:,} | {args.workers} | "
        + " | ".join(f"{value:.1f} s" for value in stages.values())
        + f" | {seconds:.1f} s | {rate:.1f} ({HUB_MODELS / rate / 3600:.1f} h per 1.86M) |"
    )
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()

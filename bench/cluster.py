"""Benchmark MiniLM's embedding on a Dask cluster (`hfmap build --cluster`): models/s in this
process and on a LocalCluster of 1 and 2 worker processes (one thread each) on this machine, and
the time 1.86M models (the whole Hub) would take at that rate. Prints a markdown table.

The texts are the first N real models' texts of the bundled sample (or of --source). Each setup
embeds them once to load the model (not timed: a worker loads it once per build), then once
timed, through the very code a build runs (pipeline.cluster.embed_on_cluster). The 1-minute load
average before and after is printed: the machine may be shared.

    python bench/cluster.py                      # 300 models, in process and 1, 2 workers
    python bench/cluster.py --models 600 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from distributed import LocalCluster  # noqa: E402

from pipeline.cluster import connected, embed_on_cluster  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.report import IssueLog  # noqa: E402
from pipeline.sources import read_source  # noqa: E402
from pipeline.text import ModelTexts  # noqa: E402

HUB_MODELS = 1_860_000
SCHEDULER_PORT = 8792
WARM_UP_TEXTS = 8


def real_texts(source: str, count: int, cache_dir: Path) -> list[str]:
    """The texts a build embeds for the source's first count models."""
    rows = read_source(source, IssueLog(), progress=False, cache_dir=cache_dir)
    return ModelTexts(rows.models, rows.texts).at(list(range(min(count, len(rows.models)))))


def in_process_rate(texts: list[str], cache_dir: Path) -> float:
    """Models per second of MiniLM in this process (its model loaded first)."""
    embedder = make_embedder("minilm", cache_dir=cache_dir)
    embedder.transform(texts[:WARM_UP_TEXTS])
    started = time.perf_counter()
    embedder.transform(texts)
    return len(texts) / (time.perf_counter() - started)


def cluster_rate(texts: list[str], workers: int, cache_dir: Path) -> float:
    """Models per second of MiniLM on a LocalCluster of workers processes (one thread each)."""
    embedder = make_embedder("minilm", cache_dir=cache_dir)
    # what a build gives its workers (pipeline.build._embed)
    settings = {"name": "minilm", "model_path": None, "precision": embedder.precision}
    settings |= {"device": embedder.device, "cache_dir": str(cache_dir)}
    with (
        LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            scheduler_port=SCHEDULER_PORT,
            dashboard_address=None,
        ) as cluster,
        connected(cluster.scheduler_address) as runner,
    ):
        # every worker loads the model in its plugin's setup, before the timed run
        embed_on_cluster(runner, embedder, settings, texts[: WARM_UP_TEXTS * workers])
        started = time.perf_counter()
        embed_on_cluster(runner, embedder, settings, texts)
        return len(texts) / (time.perf_counter() - started)


def hours(rate: float) -> str:
    return f"{HUB_MODELS / rate / 3600:,.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=300, help="texts embedded per setup")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--source", default="sample")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / "out" / "cache_cluster")
    args = parser.parse_args()

    texts = real_texts(args.source, args.models, args.cache_dir)
    load_before = os.getloadavg()[0]
    rows = [("in process", in_process_rate(texts, args.cache_dir))]
    for workers in args.workers:
        name = f"{workers} local worker{'s' * (workers > 1)}"
        rows.append((name, cluster_rate(texts, workers, args.cache_dir)))
    load_after = os.getloadavg()[0]

    precision = make_embedder("minilm", cache_dir=args.cache_dir).precision
    print(
        f"MiniLM ({precision}) on {len(texts)} real texts ({args.source}), {os.cpu_count()} CPUs, "
        f"load {load_before:.1f} -> {load_after:.1f}\n"
    )
    print(f"| setup | models/s | {HUB_MODELS / 1e6:.2f}M models |")
    print("|---|---:|---:|")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} | {hours(rate)} |")


if __name__ == "__main__":
    main()

"""MiniLM throughput on this machine: fp32 (torch) against int8 (OpenVINO, the default on CPU), on
the bundled sample's real texts, each embedder's vectors computed from scratch (no embedding
cache).

Prints a markdown table: models/s (wall clock) and models per CPU-second of this process (which a
busy machine disturbs less), with the machine's load average beside each row, the lowest cosine of
each embedder's vector to its fp32 vector, whether each text's vector is the same alone as among
the others, and the int8 export's one-time cost.

    python bench/minilm.py [--rows N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline.embed import make_embedder  # noqa: E402
from pipeline.report import IssueLog  # noqa: E402
from pipeline.sources import read_source  # noqa: E402
from pipeline.text import ModelTexts  # noqa: E402

ALONE = 40  # texts also embedded one by one, to compare with their vectors among the others


def timed(function):
    """(result, wall seconds, CPU seconds of this process) of function()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="first N texts (default: all)")
    args = parser.parse_args()
    source = read_source("sample", IssueLog())
    texts = list(ModelTexts(source.models, source.texts))[: args.rows]
    with tempfile.TemporaryDirectory(prefix="hfmap-bench-minilm-") as cache_dir:
        fp32 = make_embedder("minilm", precision="fp32", device="cpu")
        int8, export_wall, export_cpu = timed(
            lambda: make_embedder("minilm", precision="int8", device="cpu", cache_dir=cache_dir)
        )
        rows = []
        reference = None
        for name, embedder in (("fp32 (torch)", fp32), ("int8 (OpenVINO)", int8)):
            vectors, wall, cpu = timed(lambda e=embedder: e.transform(texts))
            reference = vectors if reference is None else reference
            cosines = np.sum(vectors * reference, axis=1)
            alone = np.concatenate([embedder.transform([text]) for text in texts[:ALONE]])
            change = float(np.abs(alone - vectors[:ALONE]).max())
            load = os.getloadavg()[0]
            rows.append((name, len(texts) / wall, len(texts) / cpu, load, cosines.min(), change))
    print(f"{len(texts):,} texts of the bundled sample, {os.cpu_count()} CPUs")
    print()
    print(
        "| embedder | models/s | models per CPU-second | load | lowest cosine to fp32 "
        f"| largest change alone (first {ALONE}) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, per_second, per_cpu_second, load, cosine, change in rows:
        print(
            f"| {name} | {per_second:.1f} | {per_cpu_second:.1f} | {load:.1f} | {cosine:.4f} "
            f"| {change:.1e} |"
        )
    print()
    print(f"int8 export (once per weights): {export_wall:.1f} s ({export_cpu:.1f} CPU-s)")


if __name__ == "__main__":
    main()

"""MiniLM throughput on this machine: fp32 (torch) against int8 (ONNX Runtime), on the bundled
sample's real texts, each embedder's vectors computed from scratch (no embedding cache).

Prints a markdown table: models/s (wall clock) and models per CPU-second of this process (which a
busy machine disturbs less), the int8 export's one-time cost, and the lowest cosine of an int8
vector to its fp32 vector.

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
        vectors = {}
        for name, embedder in (("fp32 (torch)", fp32), ("int8 (ONNX Runtime)", int8)):
            vectors[name], wall, cpu = timed(lambda e=embedder: e.transform(texts))
            rows.append((name, len(texts) / wall, len(texts) / cpu))
    cosines = np.sum(vectors["fp32 (torch)"] * vectors["int8 (ONNX Runtime)"], axis=1)
    load = os.getloadavg()[0]
    print(f"{len(texts):,} texts of the bundled sample, {os.cpu_count()} CPUs, load {load:.1f}")
    print()
    print("| embedder | models/s | models per CPU-second |")
    print("|---|---:|---:|")
    for name, per_second, per_cpu_second in rows:
        print(f"| {name} | {per_second:.1f} | {per_cpu_second:.1f} |")
    print()
    print(f"int8 export (once per weights): {export_wall:.1f} s ({export_cpu:.1f} CPU-s)")
    print(f"lowest cosine int8 to fp32: {cosines.min():.4f} (mean {cosines.mean():.4f})")


if __name__ == "__main__":
    main()

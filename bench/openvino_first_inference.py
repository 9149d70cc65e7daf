"""Count the fresh processes that hang when two threads make their first OpenVINO inferences at
the same moment, against those whose first inference runs alone first (what
MiniLMEmbedder._run_openvino does). Each run is a new process: the binding's C++ statics that
deadlock are initialized once per process. MiniLM's int8 model, compiled as a build compiles it.

    python bench/openvino_first_inference.py --runs 150
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

HANG_SECONDS = 15  # a run takes about 1 s


def first_inferences(model: str, order: str) -> None:
    """In this process: two requests' first inferences on two threads released together, after
    one inference on this thread alone when order is 'first-alone'."""
    from pipeline.embed import _infer, _openvino_compiled

    compiled = _openvino_compiled(Path(model))
    requests = [compiled.create_infer_request() for _ in range(2)]
    feed = {
        "input_ids": np.array([[101, 2023, 2003, 1037, 2944, 102]], dtype=np.int64),
        "attention_mask": np.ones((1, 6), dtype=np.int64),
        "token_type_ids": np.zeros((1, 6), dtype=np.int64),
    }
    if order == "first-alone":
        _infer(requests[0], feed)
    barrier = threading.Barrier(len(requests))

    def run(request) -> None:
        barrier.wait()
        _infer(request, feed)

    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def hangs(model: Path, order: str, runs: int) -> int:
    """How many of runs fresh processes did not finish within HANG_SECONDS."""
    count = 0
    for _ in range(runs):
        try:
            subprocess.run(
                [sys.executable, __file__, "--child", str(model), order],
                check=True,
                timeout=HANG_SECONDS,
                capture_output=True,
            )
        except subprocess.TimeoutExpired:
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "ORDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        first_inferences(*args.child)
        return

    from pipeline.embed import MiniLMEmbedder

    embedder = MiniLMEmbedder(
        precision="int8", device="cpu", cache_dir=ROOT / "bench" / "out" / "cache_openvino"
    )
    print(f"| first inferences | hung processes (of {args.runs}) |\n|---|---:|")
    for order in ("together", "first-alone"):
        print(f"| {order} | {hangs(embedder.int8_file, order, args.runs)} |", flush=True)


if __name__ == "__main__":
    main()

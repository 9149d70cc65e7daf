"""``python -m bench.synth --rows N --out FILE [--seed S]``: write a SYNTHETIC data set in the
published schema (benchmarks only). A bad argument ends in one sentence on stderr and exit 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SUFFIXES = (".parquet", ".csv")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}.\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m bench.synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="number of models to write")
    parser.add_argument("--out", type=Path, required=True, help="the file: .parquet or .csv")
    parser.add_argument("--seed", type=int, default=0, help="same rows and seed, same file")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.out.suffix.lower() not in SUFFIXES:
        parser.error(f"--out must end in .parquet or .csv, not {args.out.name!r}")
    if args.seed < 0:
        parser.error("--seed must be 0 or more")

    from bench.synth.write import write_synthetic

    try:
        path = write_synthetic(args.rows, args.out, seed=args.seed)
    except OSError as error:
        parser.exit(2, f"{parser.prog}: cannot write {args.out}: {error.strerror or error}.\n")
    print(f"wrote {args.rows:,} SYNTHETIC rows to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

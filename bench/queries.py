"""Time the queries behind the Families view's Over time and Fastest growing tabs, the Compare view,
the details card's path to root and the 3D map's minimap (issue 16) on a build, in process.

The build is loaded and warmed up as a server does (dashboard.serving.warm_up). Each query is then
called directly, past the query cache, so every call computes its answer: "first" is its first call
in the process (it also computes the per-build indexes it needs and the server's warm-up did not),
"again" the median of the next RUNS calls (what a cold cache costs once the server has run a
while). Writes the "## Families over time, comparisons, paths and the minimap" section of
docs/benchmarks.md.

    python bench/queries.py --builds bench/out/builds_real
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.dashboard import with_section  # noqa: E402
from bench.run import ROOT, machine  # noqa: E402

HEADING = "## Families over time, comparisons, paths and the minimap"
RUNS = 5
TARGET_MS = 500  # the target for a cold query on the real listing
# real pairs to compare: a deep chain against its root, two siblings, two families
PAIRS = (
    ("mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.2"),
    ("meta-llama/Meta-Llama-3-8B", "mistralai/Mistral-7B-v0.1"),
)
FILTERED = {"search": "llama", "min_downloads": 10}


def timed(call) -> dict:
    """Milliseconds of the first call and the median of the next RUNS."""
    start = time.perf_counter()
    call()
    first = (time.perf_counter() - start) * 1000
    again = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        again.append((time.perf_counter() - start) * 1000)
    return {"first_ms": first, "again_ms": statistics.median(again)}


def deepest_model(build) -> str:
    """The model with the longest path to its root (the real listing's chains are 39 links)."""
    depth = build.numbers("depth")
    return build.model_id(int(depth.argmax()))


def measure(builds: Path) -> tuple[list[tuple[str, dict]], dict]:
    from dashboard.data import Build
    from dashboard.filters import Filters
    from dashboard.queries import adoption, compare, lineage_path, minimap
    from dashboard.serving import warm_up

    with tempfile.TemporaryDirectory(prefix="hfmap-bench-queries-") as cache:
        build = Build.load(builds, Path(cache))
        start = time.perf_counter()
        warm_up(build)
        warmed = time.perf_counter() - start
        everything, filtered = Filters(), Filters(**FILTERED)
        roots = tuple(adoption.largest_families(build, everything, adoption.CHOSEN_MAX))
        deep = deepest_model(build)
        cases = [
            (
                "largest families (the default pick)",
                lambda: adoption.largest_families(build, everything),
            ),
            (
                "adoption curves, 10 largest families",
                lambda: adoption.adoption_curves(build, everything, roots),
            ),
            (
                "adoption curves, 10 largest, filtered",
                lambda: adoption.adoption_curves(build, filtered, roots),
            ),
            ("family picker search `llama`", lambda: adoption.find_families(build, "llama")),
        ]
        for days in adoption.WINDOWS:
            cases.append(
                (
                    f"fastest growing, {days} days",
                    lambda d=days: adoption.fastest_growing(build, everything, d),
                )
            )
        cases += [
            (
                "fastest growing, 90 days, filtered",
                lambda: adoption.fastest_growing(build, filtered, 90),
            ),
            (
                "newest large families, 90 days",
                lambda: adoption.newest_large_families(build, everything, 90),
            ),
            ("deepest families", lambda: adoption.deepest_families(build, everything)),
            ("widest families", lambda: adoption.widest_families(build, everything)),
            (
                f"path to root of the deepest model ({build.numbers('depth').max():.0f} links)",
                lambda: lineage_path.path_to_root(build, deep),
            ),
            (
                "path between the deepest model and its family's root",
                lambda: lineage_path.path_between(
                    build, deep, build.record(build.row(deep))["root_id"]
                ),
            ),
        ]
        for a, b in PAIRS:
            if build.row(a) is not None and build.row(b) is not None:
                cases.append(
                    (
                        f"compare `{a}` with `{b}`",
                        lambda a=a, b=b: compare.compare_models(build, a, b),
                    )
                )
        cases += [
            ("minimap of every model", lambda: minimap.minimap_layer(build, everything)),
            ("minimap, filtered", lambda: minimap.minimap_layer(build, filtered)),
        ]
        results = []
        for name, call in cases:
            times = timed(call)
            results.append((name, times))
            print(
                f"bench: {name}: {times['first_ms']:.0f} ms first,"
                f" {times['again_ms']:.0f} ms again",
                flush=True,
            )
        return results, {"models": build.size, "build": build.version, "warm_up_s": warmed}


def markdown(results: list[tuple[str, dict]], about: dict, command: str) -> str:
    worst = max(max(r["first_ms"], r["again_ms"]) for _, r in results)
    host = machine()
    lines = [
        f"{HEADING} ({about['models']:,} models)",
        "",
        f"`{command}` on build `{about['build']}`, {host['date']}, commit {host['commit']}:"
        f" {host['cpu']}, {host['cpus']} cores, load {os.getloadavg()[0]:.1f} at the end."
        " Each query called in process,"
        " past the query cache (every call computes), after the server's warm-up"
        f" ({about['warm_up_s']:.1f} s): first call, and the median of the next {RUNS}.",
        "",
        "| query | first | again |",
        "|---|---:|---:|",
        *(f"| {name} | {r['first_ms']:,.0f} ms | {r['again_ms']:,.0f} ms |" for name, r in results),
        "",
        f"Target: every query ≤ {TARGET_MS} ms cold: slowest {worst:,.0f} ms, "
        + ("met." if worst <= TARGET_MS else "**missed**."),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=Path, required=True, help="a build or builds directory")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    if not args.builds.exists():
        parser.error(f"--builds {args.builds} does not exist; make a build first")
    results, about = measure(args.builds)
    command = f"python bench/queries.py --builds {args.builds}"
    section = markdown(results, about, command)
    print(section)
    args.out.write_text(with_section(args.out.read_text(), section))


if __name__ == "__main__":
    main()

"""Benchmark `hfmap build`: each stage's seconds and peak memory, full and after 1% new models.

For each size N this writes a SYNTHETIC data set of N + 1% rows (`hfmap synth`), holds
back a seeded random 1% of them as "new models", builds the other N from scratch, then
rebuilds with all rows on the same builds and cache directories, the way a daily
update of the Hub would. Every build runs as its own process under a parent that
reads its peak resident memory (getrusage of the waited-for child). Results go to
bench/out/results.json and the table in docs/benchmarks.md.

    python bench/run.py                        # 10k, 100k, 1.86M with tfidf; 2k with minilm
    python bench/run.py --sizes 10000 --minilm-rows 0
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
HFMAP = [sys.executable, "-m", "pipeline.cli"]
NEW_SHARE = 0.01

# Runs cmd (argv[1:]) and prints its wall seconds, exit code and peak RSS in KiB as JSON.
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "print(json.dumps({'seconds': time.perf_counter() - start, 'returncode': code,"
    " 'peak_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
)


def measured(cmd: list[str], log: Path) -> dict:
    """Wall seconds and peak RSS (GiB) of cmd, run in a fresh process; its output goes to log."""
    with log.open("w") as handle:
        result = subprocess.run([sys.executable, "-c", MEASURE, *cmd], stdout=subprocess.PIPE, stderr=handle, text=True, cwd=ROOT)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    if stats["returncode"] != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed (exit {stats['returncode']}); see {log}.")
    return {"seconds": round(stats["seconds"], 1), "peak_gib": round(stats["peak_kib"] / 2**20, 2)}


def split_sources(rows: int, work: Path) -> tuple[Path, Path]:
    """(base, grown): a synthetic set of rows + 1% models, without and with a random 1% of them."""
    grown = work / f"synth_{rows}_grown.parquet"
    base = work / f"synth_{rows}_base.parquet"
    if not (grown.exists() and base.exists()):
        total = rows + int(rows * NEW_SHARE)
        print(f"bench: writing {total:,} synthetic rows", flush=True)
        subprocess.run([*HFMAP, "synth", "--rows", str(total), "--out", str(grown)], check=True, cwd=ROOT)
        table = pq.read_table(grown)
        held_back = np.random.default_rng(0).choice(total, total - rows, replace=False)
        keep = np.ones(total, dtype=bool)
        keep[held_back] = False
        pq.write_table(table.filter(keep), base, compression="zstd")
    return base, grown


def build(source: Path, embedder: str, builds: Path, cache: Path, log: Path) -> dict:
    """One measured `hfmap build`, with the manifest's stage seconds and embedding counts."""
    cmd = [*HFMAP, "build", "--source", str(source), "--embedder", embedder, "--out", str(builds), "--cache-dir", str(cache), "--quiet"]
    stats = measured(cmd, log)
    manifest = json.loads(((builds / (builds / "CURRENT").read_text().strip()) / "manifest.json").read_text())
    return {**stats, "stage_seconds": manifest["stage_seconds"], "embedding": manifest["embedding"],
            "mode": manifest.get("mode", "full"), "models": manifest["counts"]["models"]}


def bench_size(rows: int, embedder: str, work: Path, rebuild: bool) -> dict:
    base, grown = split_sources(rows, work)
    name = f"{embedder}_{rows}"
    builds, cache = work / f"builds_{name}", work / f"cache_{name}"
    for folder in (builds, cache):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    print(f"bench: full build of {rows:,} rows with {embedder}", flush=True)
    result = {"rows": rows, "embedder": embedder, "full": build(base, embedder, builds, cache, work / f"{name}_full.log")}
    if rebuild:
        print(f"bench: rebuild after {NEW_SHARE:.0%} new models", flush=True)
        result["rebuild"] = build(grown, embedder, builds, cache, work / f"{name}_rebuild.log")
    return result


def merged(path: Path, fresh: list[dict]) -> list[dict]:
    """Earlier results from path with the fresh ones replacing those of the same size and embedder."""
    earlier = json.loads(path.read_text())["results"] if path.exists() else []
    done = {(r["rows"], r["embedder"]) for r in fresh}
    results = [r for r in earlier if (r["rows"], r["embedder"]) not in done] + fresh
    return sorted(results, key=lambda r: (r["embedder"] != "tfidf", r["rows"]))


def machine() -> dict:
    memory_kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=ROOT).stdout.strip():
        commit += " with uncommitted changes"
    return {"cpus": os.cpu_count(), "memory_gib": round(memory_kib / 2**20), "cpu": cpu, "python": platform.python_version(),
            "commit": commit, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}


STAGES = ("read source", "lineage", "embed", "previous build", "project", "cluster", "neighbours", "write")


def markdown(results: list[dict], host: dict, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "`hfmap build` on **synthetic** data (`hfmap synth`, the published schema with realistic family",
        "trees, relation mix and card lengths), measured by `bench/run.py`. Each build runs in its own",
        "process; peak memory is that process's maximum resident set size.",
        "",
        f"Machine: {host['cpus']} CPUs ({host['cpu']}), {host['memory_gib']} GiB RAM, Python {host['python']};"
        f" commit `{host['commit']}`, {host['date']}.",
        "",
        f"Reproduce: `{command}`",
        "",
        "## Full build (seconds per stage)",
        "",
        "| rows | embedder | " + " | ".join(STAGES) + " | total | peak memory |",
        "|---:|---|" + "---:|" * (len(STAGES) + 2),
    ]
    for r in results:
        s = r["full"]["stage_seconds"]
        cells = " | ".join(f"{s.get(stage, 0):.1f}" for stage in STAGES)
        lines.append(f"| {r['rows']:,} | {r['embedder']} | {cells} | {r['full']['seconds']:.1f} | {r['full']['peak_gib']:.2f} GiB |")
    rebuilt = [r for r in results if "rebuild" in r]
    if rebuilt:
        lines += [
            "",
            f"## Rebuild after {NEW_SHARE:.0%} new models (same builds and cache directories)",
            "",
            "| rows before | rows after | mode | newly embedded | " + " | ".join(STAGES) + " | total | share of full build | peak memory |",
            "|---:|---:|---|---:|" + "---:|" * (len(STAGES) + 3),
        ]
        for r in rebuilt:
            b = r["rebuild"]
            s = b["stage_seconds"]
            cells = " | ".join(f"{s.get(stage, 0):.1f}" for stage in STAGES)
            lines.append(
                f"| {r['rows']:,} | {b['models']:,} | {b['mode']} | {b['embedding']['newly_embedded']:,} | {cells} |"
                f" {b['seconds']:.1f} | {b['seconds'] / r['full']['seconds']:.0%} | {b['peak_gib']:.2f} GiB |"
            )
    lines += ["", "## Targets", ""] + [f"- {line}" for line in target_lines(results)]
    return "\n".join(lines) + "\n"


def target_lines(results: list[dict]) -> list[str]:
    """The issue's targets against the largest tfidf run, each marked met or missed."""
    tfidf = [r for r in results if r["embedder"] == "tfidf"]
    if not tfidf:
        return ["no tfidf run to compare with the targets"]
    big = max(tfidf, key=lambda r: r["rows"])
    full, lines = big["full"], []

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines.append(f"{big['rows']:,} rows end to end in ≤ 15 min: {full['seconds'] / 60:.1f} min, {mark(full['seconds'] <= 900)}")
    lines.append(f"peak memory ≤ 8 GB: {full['peak_gib']:.2f} GiB full build, {mark(full['peak_gib'] <= 8)}")
    lineage = full["stage_seconds"]["lineage"]
    lines.append(f"lineage tables in ≤ 60 s: {lineage:.1f} s, {mark(lineage <= 60)}")
    if "rebuild" in big:
        rebuild = big["rebuild"]
        share = rebuild["seconds"] / full["seconds"]
        floor = sum(rebuild["stage_seconds"].get(s, 0) for s in ("read source", "lineage", "embed", "write"))
        lines.append(
            f"rebuild after 1% new models in ≤ 10% of the full build: {rebuild['seconds']:.1f} s = {share:.0%}, {mark(share <= 0.10)}"
            f" ({rebuild['peak_gib']:.2f} GiB peak). Of it, {floor:.1f} s go to the stages that must touch every row"
            " (read and normalize the source, lineage, text and hash of every model, write the build);"
            " placing, clustering and finding neighbours for the new models take"
            f" {sum(rebuild['stage_seconds'].get(s, 0) for s in ('previous build', 'project', 'cluster', 'neighbours')):.1f} s."
        )
    return lines


def dashboard_section(path: Path) -> str:
    """The "## Dashboard" section bench/dashboard.py wrote at the end of path, kept when the page is rewritten."""
    text = path.read_text() if path.exists() else ""
    start = text.find("\n## Dashboard")
    return text[start:] if start >= 0 else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_860_000], help="tfidf build sizes")
    parser.add_argument("--minilm-rows", type=int, default=2_000, help="minilm build size (0: skip)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite --out from the saved results, run nothing")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    command = "make bench  (or: python bench/run.py [--sizes N ...] [--minilm-rows N])"
    if args.report_only:
        saved = json.loads((args.work / "results.json").read_text())
        args.out.write_text(markdown(saved["results"], saved["machine"], command) + dashboard_section(args.out))
        return
    started = time.perf_counter()
    runs = [(rows, "tfidf") for rows in args.sizes] + ([(args.minilm_rows, "minilm")] if args.minilm_rows else [])
    fresh = [bench_size(rows, embedder, args.work, rebuild=True) for rows, embedder in runs]
    results = merged(args.work / "results.json", fresh)
    host = machine()
    (args.work / "results.json").write_text(json.dumps({"machine": host, "results": results}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, host, command) + dashboard_section(args.out))
    print(f"bench: wrote {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

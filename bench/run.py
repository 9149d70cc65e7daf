"""Benchmark `hfmap build`: each stage's seconds and peak memory, full and after 1% new models.

For each size N this writes a SYNTHETIC data set of N + 1% rows (`python -m bench.synth`), holds
back a seeded random 1% of them as "new models", builds the other N from scratch, then
rebuilds with all rows on the same builds and cache directories, the way a daily
update of the Hub would. Every build runs as its own process; the parent samples the summed
resident memory of its process tree (the build and its workers) for the peak. Results go to
bench/out/results.json and the table in docs/benchmarks.md.

    python bench/run.py                        # 10k, 100k, 1.86M with tfidf; 2k with minilm
    python bench/run.py --sizes 10000 --minilm-rows 0
    python bench/run.py --real ../shared/data/hub_models_2024-07.jsonl.gz --sizes --minilm-rows 0

With --real LISTING it also measures the REAL Hub listing (a JSONL of `GET /api/models` records): a
full tfidf build of it, and a real one-day increment: a build of the records created before
REAL_CUTOFF, then a rebuild with the whole listing on the same builds and cache directories (the
models the Hub really gained on its last day and a half). The 1-minute load average before and
after each build is recorded beside it: the machine may be shared.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
HFMAP = [sys.executable, "-m", "hfmap"]
NEW_SHARE = 0.01
REAL_CUTOFF = "2024-07-10"
# the real listing was taken on 2024-07-11: models created since are "the last day"
REAL_COMMAND = (
    "python bench/run.py --real ../shared/data/hub_models_2024-07.jsonl.gz --sizes --minilm-rows 0"
)

TREE_SAMPLE_SECONDS = 0.2  # how often the build's process tree is measured


def tree_rss_kib(root: int) -> int:
    """Summed resident memory (KiB) of process root and all its descendants now (Linux /proc):
    a build's worker processes (the maps side by side, the neighbour graph) count with it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # the process ended while we looked
                continue
            children.setdefault(parent, []).append(int(entry))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        pending += children.get(pid, [])
    return total


def measured(cmd: list[str], log: Path) -> dict:
    """Wall seconds, CPU seconds (user + system, the build's workers included) and the peak of the
    summed resident memory of its process tree (GiB) of cmd, run in a fresh process (its output goes
    to log), with the machine's 1-minute load average before and after it."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    peak_kib = 0
    with log.open("w") as handle:
        process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_kib = max(peak_kib, tree_rss_kib(process.pid))
            time.sleep(TREE_SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed (exit {process.returncode}); see {log}.")
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_gib": round(peak_kib / 2**20, 2),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


SYNTH = [sys.executable, "-m", "bench.synth"]  # the synthetic data set's writer (bench/synth/)


def split_sources(rows: int, work: Path) -> tuple[Path, Path]:
    """(base, grown): a synthetic set of rows + 1% models, without and with a random 1% of them."""
    grown = work / f"synth_{rows}_grown.parquet"
    base = work / f"synth_{rows}_base.parquet"
    if not (grown.exists() and base.exists()):
        total = rows + int(rows * NEW_SHARE)
        print(f"bench: writing {total:,} synthetic rows", flush=True)
        subprocess.run([*SYNTH, "--rows", str(total), "--out", str(grown)], check=True, cwd=ROOT)
        table = pq.read_table(grown)
        held_back = np.random.default_rng(0).choice(total, total - rows, replace=False)
        keep = np.ones(total, dtype=bool)
        keep[held_back] = False
        pq.write_table(table.filter(keep), base, compression="zstd")
    return base, grown


def build(source: Path, embedder: str, builds: Path, cache: Path, log: Path) -> dict:
    """One measured `hfmap build`, with the manifest's stage seconds and embedding counts."""
    cmd = [
        *HFMAP,
        "build",
        "--source",
        str(source),
        "--embedder",
        embedder,
        "--out",
        str(builds),
        "--cache-dir",
        str(cache),
        "--quiet",
    ]
    stats = measured(cmd, log)
    manifest = json.loads(
        ((builds / (builds / "CURRENT").read_text().strip()) / "manifest.json").read_text()
    )
    return {
        **stats,
        "stage_seconds": manifest["stage_seconds"],
        "embedding": manifest["embedding"],
        "mode": manifest.get("mode", "full"),
        "models": manifest["counts"]["models"],
    }


def bench_size(rows: int, embedder: str, work: Path, rebuild: bool) -> dict:
    base, grown = split_sources(rows, work)
    name = f"{embedder}_{rows}"
    builds, cache = work / f"builds_{name}", work / f"cache_{name}"
    for folder in (builds, cache):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    print(f"bench: full build of {rows:,} rows with {embedder}", flush=True)
    result = {
        "rows": rows,
        "embedder": embedder,
        "full": build(base, embedder, builds, cache, work / f"{name}_full.log"),
    }
    if rebuild:
        print(f"bench: rebuild after {NEW_SHARE:.0%} new models", flush=True)
        result["rebuild"] = build(grown, embedder, builds, cache, work / f"{name}_rebuild.log")
    return result


def real_before_cutoff(listing: Path, work: Path, cutoff: str = REAL_CUTOFF) -> Path:
    """The listing's records created before cutoff, written once as JSONL under work. A record
    without a readable creation time counts as old (it stays in): the builds count it."""
    base = work / f"real_before_{cutoff}.jsonl.gz"
    if base.exists():
        return base
    print(f"bench: writing the records of {listing} created before {cutoff}", flush=True)
    partial = base.with_name(base.name + ".partial")
    with gzip.open(listing, "rb") as source, gzip.open(partial, "wb", compresslevel=1) as out:
        for line in source:
            try:
                created = json.loads(line).get("createdAt")
            except (ValueError, AttributeError):
                created = None
            if not (isinstance(created, str) and created[:10] >= cutoff):
                out.write(line)
    partial.rename(base)
    return base


def bench_real(listing: Path, work: Path) -> dict:
    """The real listing: a full tfidf build, and a build of the models created before REAL_CUTOFF
    followed by a rebuild with the whole listing (the real one-day increment)."""
    base = real_before_cutoff(listing, work)
    result = {"listing": str(listing), "cutoff": REAL_CUTOFF, "machine": machine()}
    for name in ("full", "day"):
        for folder in (work / f"builds_real_{name}", work / f"cache_real_{name}"):
            subprocess.run(["rm", "-rf", str(folder)], check=True)
    print(f"bench: full build of the real listing {listing}", flush=True)
    result["full"] = build(
        listing,
        "tfidf",
        work / "builds_real_full",
        work / "cache_real_full",
        work / "real_full.log",
    )
    result["map_quality"] = map_quality(work / "builds_real_full")
    print(f"bench: build of the models created before {REAL_CUTOFF}", flush=True)
    result["before"] = build(
        base, "tfidf", work / "builds_real_day", work / "cache_real_day", work / "real_before.log"
    )
    print("bench: rebuild with the whole listing (one real day of new models)", flush=True)
    result["rebuild"] = build(
        listing,
        "tfidf",
        work / "builds_real_day",
        work / "cache_real_day",
        work / "real_rebuild.log",
    )
    return result


QUALITY_SAMPLE = 4_000


def map_quality(builds: Path) -> dict:
    """How faithfully the current build's 2D and 3D maps keep each model's neighbours:
    sklearn's trustworthiness (15 neighbours) on a seeded sample of QUALITY_SAMPLE models,
    between their vectors and their map coordinates (1 = no false neighbours on the map)."""
    from sklearn.manifold import trustworthiness

    build_dir = builds / (builds / "CURRENT").read_text().strip()
    vectors = np.load(build_dir / "embeddings.npy", mmap_mode="r")
    coords = pq.read_table(
        build_dir / "models.parquet", columns=["x", "y", "z", "x2d", "y2d"]
    ).to_pandas()
    rows = np.sort(
        np.random.default_rng(0).choice(
            len(vectors), min(QUALITY_SAMPLE, len(vectors)), replace=False
        )
    )
    sample = np.asarray(vectors[rows])
    return {
        "sample": len(rows),
        "2d": round(
            float(trustworthiness(sample, coords[["x2d", "y2d"]].to_numpy()[rows], n_neighbors=15)),
            4,
        ),
        "3d": round(
            float(
                trustworthiness(sample, coords[["x", "y", "z"]].to_numpy()[rows], n_neighbors=15)
            ),
            4,
        ),
    }


def mark(ok: bool) -> str:
    """A target's verdict as written in docs/benchmarks.md."""
    return "met" if ok else "**missed**"


def provenance(host: dict, command: str) -> list[str]:
    """The lines that say where and how a section's numbers were measured."""
    return [
        f"Machine: {host['cpus']} CPUs ({host['cpu']}), {host['memory_gib']} GiB RAM, Python "
        f"{host['python']};"
        f" commit `{host['commit']}`, {host['date']}.",
        "",
        f"Reproduce: `{command}`",
    ]


def real_markdown(real: dict, command: str) -> str:
    """The "## Real Hub listing" section."""
    host = real["machine"]
    full, before, rebuild = real["full"], real["before"], real["rebuild"]
    lines = [
        "",
        f"## Real Hub listing ({full['models']:,} models)",
        "",
        f"`{Path(real['listing']).name}`: every public model the Hub API listed on 11 July 2024, "
        "records as",
        "`GET /api/models` returns them (no cards). Full build with tfidf; then the real one-day "
        "increment:",
        f"a build of the {before['models']:,} models created before {real['cutoff']}, and a "
        "rebuild with the whole listing on",
        f"the same builds and cache directories ({rebuild['models'] - before['models']:,} models "
        "the Hub gained since).",
        "umap's and pynndescent's compiled code comes from numba's disk cache (filled by the "
        "first build on a",
        "machine, which takes about a minute longer). The machine is shared: the 1-minute load "
        "average",
        "before and after each build is given beside it (CPU: user + system seconds of the build "
        "process).",
        "",
        *provenance(host, command),
        "",
        "| build | models | mode | newly embedded | "
        + " | ".join(REAL_STAGES)
        + " | total | CPU | peak memory (process tree) | load before / after |",
        "|---|---:|---|---:|" + "---:|" * (len(REAL_STAGES) + 4),
    ]
    for label, b in (
        ("full", full),
        (f"before {real['cutoff']}", before),
        ("one-day rebuild", rebuild),
    ):
        s = b["stage_seconds"]
        cells = " | ".join(f"{s.get(stage, 0):.1f}" for stage in REAL_STAGES)
        load = b.get("load", [0, 0])
        lines.append(
            f"| {label} | {b['models']:,} | {b['mode']} | {b['embedding']['newly_embedded']:,} | "
            f"{cells} |"
            f" {b['seconds']:.1f} | {b.get('cpu_seconds', 0):.1f} | {b['peak_gib']:.2f} GiB | "
            f"{load[0]:.1f} / {load[1]:.1f} |"
        )
    share = rebuild["seconds"] / full["seconds"]

    quality = real.get("map_quality")
    if quality:
        lines += [
            "",
            "Map quality of the full build: trustworthiness (15 neighbours, sklearn) of a seeded "
            f"sample of {quality['sample']:,}",
            f"models between their vectors and their map positions: 2D {quality['2d']:.3f}, 3D "
            f"{quality['3d']:.3f}",
            "(1 = no false neighbours on the map). UMAP is fitted on 50,000 models from a PCA "
            "start and places",
            "the rest at the weighted mean of their nearest fitted models; with UMAP's default "
            "spectral start",
            "the same function gave 2D 0.838, 3D 0.892 on a build of commit 5a050b5, whose "
            "projection stage took about twice as long.",
        ]
    fs, rs = full["stage_seconds"], rebuild["stage_seconds"]
    new_models = rebuild["embedding"]["newly_embedded"]
    lines += [
        "",
        f"Where the time goes. Full build: {fs['project']:.0f} s projecting (UMAP fitted on "
        "50,000 models, the 3D and",
        f"2D maps side by side, then {full['models'] - 50_000:,} models placed by their fitted "
        "neighbours) and"
        f" {fs['cluster']:.0f} s clustering, while a",
        "worker process builds the pynndescent graph of every model beside them "
        f"({fs.get(BESIDE, 0):.0f} s of its own;"
        f" the build then waits {fs['neighbours']:.1f} s",
        f"for it); {fs['embed']:.0f} s fitting and applying tfidf, {fs['read source']:.0f} s "
        "reading the listing,"
        f" {full['seconds'] - fs['total']:.0f} s starting and ending the process.",
        f"One-day rebuild: {rs['read source']:.0f} s reading the listing (only new or changed "
        "lines are parsed; the",
        "rest come from the rows and text hashes the last read kept in the cache directory),"
        f" {rs['embed']:.1f} s embedding the new models' texts,",
        f"{rs['previous build']:.1f} s opening the previous build, {rs['lineage']:.1f} s for the "
        "lineage of every model,"
        f" {rs['write']:.1f} s writing the build and",
        f"{rebuild['seconds'] - rs['total']:.0f} s starting and ending the process; placing, "
        "clustering and finding"
        f" neighbours for the {new_models:,} new models take",
        f"{sum(rs.get(k, 0) for k in ('project', 'cluster', 'neighbours')):.1f} s.",
    ]
    lines += [
        "",
        "### Targets (real listing)",
        "",
        f"- the real build ≤ 120 s end to end: {full['seconds']:.1f} s, "
        f"{mark(full['seconds'] <= 120)}",
        f"- at ≤ 4 GB peak: {full['peak_gib']:.2f} GiB ({full['peak_gib'] * 2**30 / 1e9:.2f} GB), "
        f"{mark(full['peak_gib'] * 2**30 / 1e9 <= 4)}",
        f"- the one-day rebuild ≤ 10% of the full build: {rebuild['seconds']:.1f} s = "
        f"{share:.0%}, {mark(share <= 0.10)}",
    ]
    return "\n".join(lines) + "\n"


def merged(path: Path, fresh: list[dict]) -> list[dict]:
    """Earlier results from path with the fresh ones replacing those of the same size and
    embedder."""
    earlier = json.loads(path.read_text())["results"] if path.exists() else []
    done = {(r["rows"], r["embedder"]) for r in fresh}
    results = [r for r in earlier if (r["rows"], r["embedder"]) not in done] + fresh
    return sorted(results, key=lambda r: (r["embedder"] != "tfidf", r["rows"]))


def machine() -> dict:
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    if subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip():
        commit += " with uncommitted changes"
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20),
        "cpu": cpu,
        "python": platform.python_version(),
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


STAGES = (
    "read source",
    "lineage",
    "embed",
    "previous build",
    "project",
    "cluster",
    "neighbours",
    "write",
    "findings",
)
BESIDE = "neighbours (beside project and cluster)"  # a full build's neighbour graph, in a worker
REAL_STAGES = (*STAGES[:7], BESIDE, "write", "findings")
PLACING_STAGES = (
    "previous build",
    "project",
    "cluster",
    "neighbours",
)  # placing new models, in a rebuild


def markdown(results: list[dict], host: dict, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "`hfmap build` on **synthetic** data (`python -m bench.synth`, the published schema with",
        "realistic family trees, relation mix and card lengths), measured by `bench/run.py`. Each "
        "build",
        "runs in its own process; peak memory is the largest resident set of one process of the "
        "build",
        "(measured before 2026-11-30; later runs record the summed memory of the build's process "
        "tree).",
        "",
        *provenance(host, command),
        "",
        "## Full build (seconds per stage)",
        "",
        "| rows | embedder | " + " | ".join(STAGES) + " | total | peak memory |",
        "|---:|---|" + "---:|" * (len(STAGES) + 2),
    ]
    for r in results:
        s = r["full"]["stage_seconds"]
        cells = " | ".join(f"{s.get(stage, 0):.1f}" for stage in STAGES)
        lines.append(
            f"| {r['rows']:,} | {r['embedder']} | {cells} | {r['full']['seconds']:.1f} | "
            f"{r['full']['peak_gib']:.2f} GiB |"
        )
    rebuilt = [r for r in results if "rebuild" in r]
    if rebuilt:
        lines += [
            "",
            f"## Rebuild after {NEW_SHARE:.0%} new models (same builds and cache directories)",
            "",
            "| rows before | rows after | mode | newly embedded | "
            + " | ".join(STAGES)
            + " | total | share of full build | peak memory |",
            "|---:|---:|---|---:|" + "---:|" * (len(STAGES) + 3),
        ]
        for r in rebuilt:
            b = r["rebuild"]
            s = b["stage_seconds"]
            cells = " | ".join(f"{s.get(stage, 0):.1f}" for stage in STAGES)
            lines.append(
                f"| {r['rows']:,} | {b['models']:,} | {b['mode']} | "
                f"{b['embedding']['newly_embedded']:,} | {cells} |"
                f" {b['seconds']:.1f} | {b['seconds'] / r['full']['seconds']:.0%} | "
                f"{b['peak_gib']:.2f} GiB |"
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

    lines.append(
        f"{big['rows']:,} rows end to end in ≤ 15 min: {full['seconds'] / 60:.1f} min, "
        f"{mark(full['seconds'] <= 900)}"
    )
    lines.append(
        f"peak memory ≤ 8 GB: {full['peak_gib']:.2f} GiB full build, {mark(full['peak_gib'] <= 8)}"
    )
    lineage = full["stage_seconds"]["lineage"]
    lines.append(f"lineage tables in ≤ 60 s: {lineage:.1f} s, {mark(lineage <= 60)}")
    if "rebuild" in big:
        rebuild = big["rebuild"]
        share = rebuild["seconds"] / full["seconds"]
        floor = sum(
            rebuild["stage_seconds"].get(s, 0)
            for s in ("read source", "lineage", "embed", "write", "findings")
        )
        lines.append(
            f"rebuild after 1% new models in ≤ 10% of the full build: {rebuild['seconds']:.1f} s "
            f"= {share:.0%}, {mark(share <= 0.10)}"
            f" ({rebuild['peak_gib']:.2f} GiB peak). Of it, {floor:.1f} s go to the stages that "
            "must touch every row"
            " (read and normalize the source, lineage, text and hash of every model, write the "
            "build);"
            " placing, clustering and finding neighbours for the new models take"
            f" {sum(rebuild['stage_seconds'].get(s, 0) for s in PLACING_STAGES):.1f} s."
        )
    return lines


REAL_HEADING = "\n## Real Hub listing"
DASHBOARD_HEADING = "\n## Dashboard"


def page(path: Path, synthetic: str | None, real: str | None) -> str:
    """The benchmarks page with its synthetic part and its real-listing section replaced where
    given; every other part (and the "## Dashboard" sections bench/dashboard.py writes) kept as it
    was."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    ends = [i for i in (text.find(REAL_HEADING), text.find(DASHBOARD_HEADING)) if i >= 0]
    head, tail = (text[: min(ends)], text[min(ends) :]) if ends else (text, "")
    if synthetic is not None:
        head = synthetic
    real_start, dashboard_start = tail.find(REAL_HEADING), tail.find(DASHBOARD_HEADING)
    old_real = (
        tail[real_start : dashboard_start if dashboard_start > real_start else len(tail)]
        if real_start >= 0
        else ""
    )
    rest = tail.replace(old_real, "", 1) if old_real else tail
    section = ("\n" + real.strip("\n") + "\n") if real is not None else old_real
    return head.rstrip("\n") + "\n" + section + rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[10_000, 100_000, 1_860_000],
        help="tfidf build sizes (none: skip)",
    )
    parser.add_argument(
        "--minilm-rows", type=int, default=2_000, help="minilm build size (0: skip)"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--real",
        type=Path,
        default=None,
        help="also measure this real Hub listing (JSONL of API records)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite --out from the saved results, run nothing",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    command = (
        "make bench  (or: python bench/run.py [--sizes N ...] [--minilm-rows N] [--real LISTING])"
    )
    saved_file = args.work / "results.json"
    saved = json.loads(saved_file.read_text()) if saved_file.exists() else {}
    if args.report_only:
        synthetic = (
            markdown(saved["results"], saved["machine"], command) if saved.get("results") else None
        )
        real = real_markdown(saved["real"], REAL_COMMAND) if saved.get("real") else None
        args.out.write_text(page(args.out, synthetic, real))
        return
    started = time.perf_counter()
    runs = [(rows, "tfidf") for rows in args.sizes] + (
        [(args.minilm_rows, "minilm")] if args.minilm_rows else []
    )
    fresh = [bench_size(rows, embedder, args.work, rebuild=True) for rows, embedder in runs]
    real = bench_real(args.real, args.work) if args.real else saved.get("real")
    results = merged(saved_file, fresh)
    host = machine() if fresh else saved.get("machine")
    saved_file.write_text(json.dumps({"machine": host, "results": results, "real": real}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    synthetic = markdown(results, host, command) if fresh else None
    args.out.write_text(
        page(args.out, synthetic, real_markdown(real, REAL_COMMAND) if args.real else None)
    )
    print(f"bench: wrote {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

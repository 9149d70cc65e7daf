"""The study's findings on one build, beside the paper's numbers: docs/findings.md.

    python bench/findings.py --build BUILDS_DIR [--out docs/findings.md]

Reads the build's findings.json (written by the pipeline's findings stage); those of a build made
before that stage are computed by the stage's code (findings.BuildFindings.read on the build's
tables and embeddings). The paper's numbers come from findings.paper and are labelled as the
paper's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from findings import BuildFindings  # noqa: E402
from findings.paper import PAPER_FINDINGS  # noqa: E402
from pipeline.build_format import open_build  # noqa: E402


def build_findings(builds: Path) -> tuple[dict, str, float | None]:
    """(The findings of the current build in builds, its id, seconds computed or None)."""
    build = open_build(builds)
    if build.findings.exists():
        return json.loads(build.findings.read_text(encoding="utf-8")), build.build_id, None
    started = time.perf_counter()
    prepared = BuildFindings.read(build.table("models"), build.table("edges"), build.embeddings)
    return prepared.findings(), build.build_id, time.perf_counter() - started


def number(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def interval(found: dict | None) -> str:
    if not found or found.get("mean") is None:
        return "no pairs"
    return (
        f"{found['mean']:.3f} [{found['ci_low']:.3f}, {found['ci_high']:.3f}] ({found['pairs']:,})"
    )


def report(found: dict, build_id: str, seconds: float | None, builds: Path) -> str:
    paper = PAPER_FINDINGS
    scope = found["scope"]
    lines = [
        "# The study's findings on the real Hub listing",
        "",
        f"Build `{build_id}` of `{builds}`: {scope['models']:,} models, {scope['links']:,} "
        f"links inside the data studied (relation: {scope['relation']}; resemblance pairs "
        f"follow: {scope['resemblance_links']}). The paper's numbers ({paper['source']}) are "
        "shown beside this build's, never mixed with them.",
        "",
        "Reproduce: `python bench/run.py --real ../shared/data/hub_models_2024-07.jsonl.gz "
        "--sizes --minilm-rows 0`, then `python bench/findings.py --build "
        "bench/out/builds_real_day`.",
        "",
    ]
    if seconds is not None:
        lines += [f"Computed from the build's tables in {seconds:.1f} s.", ""]
    lines += ["## Mutation rates", "", "| trait | rate | links | relation | the paper's |"]
    lines += ["|---|---:|---:|---|---|"]
    for trait, rate in found["mutation_rates"].items():
        theirs = paper["mutation_rates"].get(trait)
        theirs_text = f"{theirs['rate']:.3f} ({theirs['links']:,})" if theirs else "not reported"
        lines.append(
            f"| {trait} | {number(rate['rate'])} | {rate['links']:,} | {rate['relation']} | "
            f"{theirs_text} |"
        )
    configurations = list(found["resemblance"])
    measures = list(next(iter(found["resemblance"].values()), {}))
    lines += ["", "## Family resemblance (mean [95% interval] (pairs))", ""]
    lines += ["| configuration | " + " | ".join(measures) + " |"]
    lines += ["|---|" + "---|" * len(measures)]
    for name in configurations:
        cells = " | ".join(interval(found["resemblance"][name].get(m)) for m in measures)
        lines.append(f"| {name.replace('_', ' ')} | {cells} |")
    drift = found["drift"]
    lines += ["", "## Drift from parent to child", ""]
    if drift.get("cards"):
        lines += [drift["cards"], ""]
    lines += ["| number | parent | child | change | the paper's |", "|---|---:|---:|---:|---|"]
    for key in ("card_share", "auto_generated_share", "card_length", "languages"):
        ours = drift.get(key) or {}
        theirs = paper["drift"].get(key)
        theirs_text = ", ".join(f"{k} {v}" for k, v in theirs.items()) if theirs else ""
        lines.append(
            f"| {key.replace('_', ' ')} | {number(ours.get('parent'), 2)} | "
            f"{number(ours.get('child'), 2)} | {number(ours.get('change'), 2)} | {theirs_text} |"
        )
    lines += ["", "## Trait orderings", ""]
    lines += ["| trait | edges agreeing | share down | order (first → last) | the paper's |"]
    lines += ["|---|---:|---:|---|---|"]
    for trait, order in found["orderings"].items():
        theirs = paper["orderings"].get(trait, {})
        theirs_text = (
            f"{theirs['edges_agreeing']}/{theirs['edges_total']}, {theirs['share_down']:.1%}"
            if theirs
            else ""
        )
        shown = " → ".join(f"`{value}`" for value in order["order"])
        lines.append(
            f"| {trait} | {order['edges_agreeing']}/{order['edges_total']} | "
            f"{number(order['share_down'], 3)} | {shown} | {theirs_text} |"
        )
    structure = found["structure"]
    lines += ["", "## Lineage structure", ""]
    lines += [f"{structure['models']:,} models in {structure['families']:,} families.", ""]
    lines += ["| relation | edges | inside the data | children | leaf share |"]
    lines += ["|---|---:|---:|---:|---:|"]
    for name, edges in structure.get("edges_by_relation", {}).items():
        leaves = structure.get("leaves_by_relation", {}).get(name, {})
        lines.append(
            f"| {name} | {edges.get('edges', 0):,} | {edges.get('inside_data', 0):,} | "
            f"{leaves.get('children', 0):,} | {number(leaves.get('leaf_share'), 4)} |"
        )
    for title, key in (("Largest families", "largest_families"), ("Deepest", "deepest_families")):
        families = structure.get(key, [])
        listed = ", ".join(
            f"`{f['root_id']}` ({f['size']:,} models, depth {f['max_depth']})" for f in families
        )
        lines += ["", f"{title}: {listed}."]
    lines += ["", "## Notes", "", *[f"- {note}" for note in found.get("notes", [])], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a builds directory or build")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "findings.md")
    args = parser.parse_args()
    found, build_id, seconds = build_findings(args.build)
    args.out.write_text(report(found, build_id, seconds, args.build), encoding="utf-8")
    print(f"bench: wrote {args.out}")


if __name__ == "__main__":
    main()

"""A human summary of a build: what it holds, how long each stage took, what was bad."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from pipeline.artifacts import read_manifest, resolve_build


def print_summary(build: Path, console: Console, top: int = 5) -> None:
    build = resolve_build(build)
    manifest = read_manifest(build)
    counts = manifest["counts"]
    console.print(f"[bold]hfmap build {manifest['build_id']}[/bold]  ({build})")
    console.print(
        f"source {manifest['source']}: {counts['models']:,} models, {counts['edges']:,} parent links "
        f"({counts['edges_in_data']:,} inside the data), {counts['families']:,} families, "
        f"max depth {counts['max_depth']}, {counts['clusters']} clusters"
    )
    embedding = manifest["embedding"]
    console.print(
        f"embedder {manifest['embedder']['name']} ({manifest['embedder']['dim']} dims): "
        f"{embedding['newly_embedded']:,} embedded, {embedding['from_cache']:,} from cache; "
        f"neighbour index: {manifest['neighbour_index']}"
    )
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in manifest["stage_seconds"].items())
    console.print(f"stages: {stages}")
    for outcome, reasons in manifest["issues"].items():
        for reason, detail in reasons.items():
            examples = "; ".join(detail["examples"][:2])
            console.print(f"{outcome} {detail['count']:,}: {reason} (e.g. {examples})", highlight=False)

    families = pd.read_parquet(build / "families.parquet").head(top)
    table = Table(title=f"largest {len(families)} families")
    for column in ("root_id", "size", "max_depth", "total_downloads"):
        table.add_column(column)
    for row in families.itertuples():
        table.add_row(str(row.root_id), f"{row.size:,}", str(row.max_depth), f"{row.total_downloads:,}")
    console.print(table)

    clusters = pd.read_parquet(build / "clusters.parquet").sort_values("size", ascending=False).head(top)
    table = Table(title=f"largest {len(clusters)} clusters")
    for column in ("cluster", "size", "label"):
        table.add_column(column)
    for row in clusters.itertuples():
        table.add_row(str(row.cluster), f"{row.size:,}", str(row.label))
    console.print(table)

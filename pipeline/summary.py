"""A human summary of a build: what it holds, how long each stage took, what was bad.

Every value that comes from a source (ids, paths, examples, labels) is shown
literally (pipeline.terminal): never read as console markup or escape sequences.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from pipeline.build_format import Manifest, open_build
from pipeline.report import OUTCOMES
from pipeline.terminal import literal

MAX_UNREAD_SHOWN = 20


def summary_renderables(build: Path, top: int = 5) -> list[RenderableType]:
    """The summary of a build, ready to print (everything is read from the build now; a build
    still under its temporary name is shown under the name it is about to get)."""
    files = open_build(build)
    manifest, build = files.manifest, files.path
    counts = manifest.counts
    shown_as = build.parent / manifest.build_id if build.name.startswith(".tmp-") else build
    out: list[RenderableType] = [
        Text.assemble((f"hfmap build {manifest.build_id}", "bold"), "  (", literal(shown_as), ")"),
        Text.assemble(
            "source ",
            literal(manifest.source),
            f": {counts.models:,} models, {counts.edges:,} parent links "
            f"({counts.edges_in_data:,} inside the data), {counts.families:,} families, "
            f"max depth {counts.max_depth}, {counts.clusters} clusters",
        ),
    ]
    embedding = manifest.embedding
    out.append(
        Text(
            f"embedder {manifest.embedder.name} ({manifest.embedder.dim} dims): "
            f"{embedding.newly_embedded:,} embedded, {embedding.from_cache:,} from cache; "
            f"neighbour index: {manifest.neighbour_index}"
        )
    )
    stages = ", ".join(
        f"{name} {seconds:.1f} s" for name, seconds in manifest.stage_seconds.items()
    )
    out.append(Text(f"stages: {stages}"))
    out.extend(issue_lines(manifest))

    families = pd.read_parquet(files.table("families")).head(top)
    table = Table(title=f"largest {len(families)} families")
    for column in ("root_id", "size", "max_depth", "total_downloads"):
        table.add_column(column)
    for row in families.itertuples():
        table.add_row(
            literal(row.root_id), f"{row.size:,}", str(row.max_depth), f"{row.total_downloads:,}"
        )
    out.append(table)

    clusters = (
        pd.read_parquet(files.table("clusters")).sort_values("size", ascending=False).head(top)
    )
    table = Table(title=f"largest {len(clusters)} clusters")
    for column in ("cluster", "size", "label"):
        table.add_column(column)
    for row in clusters.itertuples():
        table.add_row(str(row.cluster), f"{row.size:,}", literal(row.label))
    out.append(table)
    return out


def issue_lines(manifest: Manifest) -> list[Text]:
    """One line per counted kind of bad input (rows, values and links apart), and the
    source's columns that were not read."""
    lines = []
    for outcome, reasons in manifest.issues.items():
        wording = OUTCOMES.get(outcome, (None, outcome + " {n:,}"))[1]
        for reason, detail in reasons.items():
            examples = "; ".join(detail["examples"][:2])
            lines.append(
                literal(f"{wording.format(n=detail['count'])}: {reason} (e.g. {examples})")
            )
    unread = manifest.source_columns.get("unread", [])
    if unread:
        shown = ", ".join(unread[:MAX_UNREAD_SHOWN]) + (
            f" and {len(unread) - MAX_UNREAD_SHOWN} more" if len(unread) > MAX_UNREAD_SHOWN else ""
        )
        lines.append(literal(f"not read: {len(unread)} source column(s): {shown}"))
    return lines


def print_renderables(renderables: list[RenderableType], console: Console) -> None:
    """Print a summary: lines of text unwrapped (whole lines for grep), tables as tables."""
    for renderable in renderables:
        console.print(renderable, soft_wrap=isinstance(renderable, Text))


def print_summary(build: Path, console: Console, top: int = 5) -> None:
    print_renderables(summary_renderables(build, top=top), console)

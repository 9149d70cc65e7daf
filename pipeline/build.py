"""`hfmap build`: source -> lineage -> embeddings -> projection -> clusters -> neighbours -> build dir.

Each stage is timed and shown; the timings, counts and the bad-row report go
into the manifest. The build is written atomically (pipeline.artifacts) in the layout, table
schemas and manifest of pipeline.build_format.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from rich.console import Console
from rich.text import Text

from pipeline import __version__
from pipeline.artifacts import BuildWriter, write_table
from pipeline.build_format import (
    BuildPaths,
    Counts,
    EmbedderInfo,
    EmbeddingCounts,
    History,
    Manifest,
)
from pipeline.embed import EmbeddingCache, fitted_embedder
from pipeline.errors import EmbedderError
from pipeline.incremental import carried_clusters, carried_coordinates, carried_neighbours, carry_or_reason
from pipeline.lineage import build_lineage
from pipeline.neighbours import EXACT_BELOW, NeighbourIndex, NeighboursInBackground, knn_table
from pipeline.report import IssueLog
from pipeline.sources import check_source, describe_source, read_source
from pipeline.terminal import literal
from pipeline.text import ModelTexts, text_keys

EMBEDDERS = ("auto", "minilm", "tfidf")
NEIGHBOURS_PER_MODEL = 10
BESIDE = "neighbours (beside project and cluster)"  # stage: the worker's own seconds


@dataclass
class BuildOptions:
    source: str | None = None
    out_dir: Path = Path("builds")
    embedder: str = "auto"
    model_path: str | None = None
    minilm_max_rows: int = 5_000
    dim: int = 64
    seed: int = 0
    n_clusters: int | None = None
    fit_sample_size: int = 50_000
    cache_dir: Path = Path(".hfmap-cache")
    refit: bool = False
    keep_builds: int = 3
    full: bool = False
    progress: bool = True


@dataclass
class BuildResult:
    path: Path
    manifest: Manifest
    log: IssueLog = field(repr=False)


class _Stages:
    """Times each stage and prints one line per stage."""

    def __init__(self, console: Console, quiet: bool):
        self.console = console
        self.quiet = quiet
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        if not self.quiet:
            self.console.print(f"[bold]{name}[/bold] …")
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        if not self.quiet:
            self.console.print(f"[bold]{name}[/bold] done in {self.seconds[name]:.1f} s")

    def record(self, name: str, seconds: float) -> None:
        """A stage that ran elsewhere (a worker process) and took seconds."""
        self.seconds[name] = round(seconds, 3)
        if not self.quiet:
            self.console.print(f"[bold]{name}[/bold] took {seconds:.1f} s")


def choose_embedder(name: str, n_rows: int, minilm_max_rows: int) -> str:
    """`auto` -> minilm for small sources (better semantics), tfidf above minilm_max_rows (speed)."""
    if name not in EMBEDDERS:
        raise EmbedderError(f"Unknown embedder {name!r}; choose one of {', '.join(EMBEDDERS)}.")
    if name == "auto":
        return "minilm" if n_rows <= minilm_max_rows else "tfidf"
    return name


def run_build(options: BuildOptions, console: Console | None = None, before_switch=None) -> BuildResult:
    """Run every stage and write one complete build; raises before writing anything on failure.

    before_switch(path) is called on the complete build before it becomes current (BuildWriter)."""
    console = console or Console(stderr=True)
    stages = _Stages(console, quiet=not options.progress)
    log = IssueLog()
    started = time.perf_counter()
    check_source(options.source)  # a missing or unknown source fails before any stage starts

    with stages.stage("read source"):
        source = read_source(options.source, log, progress=options.progress, cache_dir=options.cache_dir)
        models = source.models
    embedder_name = choose_embedder(options.embedder, len(models), options.minilm_max_rows)

    with stages.stage("lineage"):
        lineage = build_lineage(models, log)

    with stages.stage("embed"):
        # each text computed only where needed: the row store gives the keys of the rows it
        # kept, so a rebuild computes the texts of new rows (or whose vectors are not cached)
        texts = ModelTexts(models, source.texts)
        keys = source.text_keys if source.text_keys is not None else text_keys(texts)
        del source
        embedder = fitted_embedder(
            embedder_name, options.cache_dir, texts, model_path=options.model_path,
            dim=options.dim, seed=options.seed, refit=options.refit,
        )
        vectors, n_new = EmbeddingCache(options.cache_dir).embed(embedder, texts, keys=keys, progress=options.progress)

    with stages.stage("previous build"):
        carried = "--full given" if options.full else carry_or_reason(
            options.out_dir, embedder.name, embedder.state_id, asdict(options), models["model_id"], keys
        )
    if isinstance(carried, str):
        mode, mode_reason, carried = "full", carried, None
        texts = list(texts)  # clustering reads them all: the unknown ones computed together
    else:
        mode, mode_reason = "incremental", f"{len(carried.fresh_rows):,} new or changed models placed on the map of {carried.history.based_on}"
        texts = None  # only a full build's clustering reads them; free the memory now
    if options.progress:
        console.print(Text.assemble((f"{mode} build", "bold"), ": ", literal(mode_reason)))

    background = None  # a full build's pynndescent graph: built beside project and cluster
    if not carried and len(vectors) >= EXACT_BELOW and (os.cpu_count() or 1) > 1:
        background = NeighboursInBackground(
            vectors, options.out_dir, k=NEIGHBOURS_PER_MODEL, seed=options.seed
        )

    with stages.stage("project"):
        if carried:
            coords = carried_coordinates(carried, vectors)
        else:
            from pipeline.project import project  # umap: only a full build needs it

            coords = project(vectors, seed=options.seed, fit_sample_size=options.fit_sample_size, progress=options.progress)

    with stages.stage("cluster"):
        if carried:
            labels, clusters = carried_clusters(carried, vectors)
        else:
            from pipeline.clusters import cluster  # sklearn.cluster: only a full build needs it

            labels, clusters = cluster(vectors, texts, k=options.n_clusters, seed=options.seed, progress=options.progress)
        del texts

    with stages.stage("neighbours"):
        if carried:
            index = carried.index.carried_to(vectors, carried.row_now)
            neighbours = carried_neighbours(carried, index, vectors, k=NEIGHBOURS_PER_MODEL)
        elif background:  # this stage's seconds: the wait for the worker and reading its table
            index, neighbours = background.result()
        else:
            index = NeighbourIndex.build(vectors, seed=options.seed)
            neighbours = knn_table(index, vectors, k=NEIGHBOURS_PER_MODEL)
    if background:
        stages.record(BESIDE, background.seconds)

    with BuildWriter(options.out_dir, options.keep_builds, before_switch=before_switch) as writer:
        files = BuildPaths(writer.path)
        with stages.stage("write"):
            table = _models_table(models, lineage.models, coords, labels)
            clusters = _with_centres(clusters, table)
            for name, frame in (
                ("models", table),
                ("edges", lineage.edges),
                ("families", lineage.families),
                ("transitions", lineage.transitions),
                ("clusters", clusters),
                ("neighbours", neighbours),
            ):
                write_table(name, pa.Table.from_pandas(frame, preserve_index=False), files.table(name))
            np.save(files.embeddings, np.ascontiguousarray(vectors, dtype=np.float32))
            np.save(files.text_keys, keys)
            index.save(files.index)
            embedder.save(files.embedder)
        if background:
            background.close()  # the index is in the build now
        edges = lineage.edges
        counts = Counts(
            models=len(table),
            edges=len(edges),
            edges_in_data=int(edges["parent_in_data"].sum()) if len(edges) else 0,
            families=len(lineage.families),
            roots=int((lineage.models["depth"] == 0).sum()),
            max_depth=int(lineage.models["depth"].max()) if len(table) else 0,
            transitions=len(lineage.transitions),
            clusters=len(clusters),
            rejected_rows=log.count("rejected"),
            repaired_values=log.count("repaired"),
            dropped_links=log.count("dropped"),
            links_to_models_outside=log.count("outside"),
        )
        history = carried.history if carried else History(
            last_full_build=writer.build_id, models_at_last_full=len(table), changed_since_full=0
        )
        options_used = {
            k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items() if k != "progress"
        }
        writer.manifest = Manifest(
            build_id=writer.build_id,
            created_at=pd.Timestamp.now(tz="UTC").isoformat(),
            hfmap_version=__version__,
            source=describe_source(options.source),
            counts=counts,
            embedder=EmbedderInfo(name=embedder.name, dim=int(vectors.shape[1]), state_id=embedder.state_id),
            embedding=EmbeddingCounts(newly_embedded=int(n_new), from_cache=int(len(vectors) - n_new)),
            neighbour_index=index.kind,
            mode=mode,
            mode_reason=mode_reason,
            history=history,
            options=options_used,
            seed=options.seed,
            stage_seconds={**stages.seconds, "total": round(time.perf_counter() - started, 3)},
            issues=log.to_dict(),
            source_columns=log.columns_dict(),
        )
    return BuildResult(path=writer.final_path, manifest=writer.manifest, log=log)


def _models_table(models: pd.DataFrame, lineage_models: pd.DataFrame, coords: dict, labels: np.ndarray) -> pd.DataFrame:
    table = pd.concat([models.reset_index(drop=True), lineage_models.drop(columns="model_id").reset_index(drop=True)], axis=1)
    xyz, xy = coords[3], coords[2]
    table["x"], table["y"], table["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    table["x2d"], table["y2d"] = xy[:, 0], xy[:, 1]
    table["cluster"] = labels.astype("int32")
    return table


def _with_centres(clusters: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    centres = table.groupby("cluster")[["x", "y", "z", "x2d", "y2d"]].median().reset_index()
    return clusters.merge(centres, on="cluster", how="left")

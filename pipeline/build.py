"""`hfmap build`: source -> lineage -> embeddings -> projection -> clusters -> neighbours -> build
dir -> findings (the paper's findings on the tables just written, into findings.json).

Each stage is timed and shown; the timings, counts and the bad-row report go
into the manifest. The build is written atomically (pipeline.artifacts) in the layout, table
schemas and manifest of pipeline.build_format.
"""

from __future__ import annotations

import json
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

from findings import BuildFindings
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
from pipeline.embed import Embedder, EmbeddingCache, fitted_embedder
from pipeline.errors import EmbedderError
from pipeline.incremental import (
    CarriedBuild,
    carried_clusters,
    carried_coordinates,
    carried_neighbours,
    carry_or_reason,
)
from pipeline.lineage import Lineage, build_lineage
from pipeline.neighbours import EXACT_BELOW, NeighbourIndex, NeighboursInBackground, knn_table
from pipeline.report import IssueLog
from pipeline.sources import SourceRows, check_source, describe_source, read_source
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
    cluster: str | None = None  # a Dask scheduler's address: the heavy map stages run there
    precision: str = "auto"  # MiniLM: int8 (OpenVINO, CPU) or fp32; auto: int8 on CPU
    device: str = "auto"  # MiniLM: cpu, cuda, or auto (cuda when torch sees a GPU)


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
    """`auto` -> minilm for small sources (better semantics), tfidf above minilm_max_rows
    (speed)."""
    if name not in EMBEDDERS:
        raise EmbedderError(f"Unknown embedder {name!r}; choose one of {', '.join(EMBEDDERS)}.")
    if name == "auto":
        return "minilm" if n_rows <= minilm_max_rows else "tfidf"
    return name


def run_build(
    options: BuildOptions, console: Console | None = None, before_switch=None
) -> BuildResult:
    """Run every stage and write one complete build; raises before writing anything on failure.

    before_switch(path) is called on the complete build before it becomes current (BuildWriter).
    With options.cluster the scheduler is reached before any stage (pipeline.cluster)."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    check_source(options.source)  # a missing or unknown source fails before any stage starts
    if options.cluster is None:
        return _run_stages(options, console, before_switch, started, None)
    from pipeline.cluster import connected  # dask: only a build on a cluster imports it

    with connected(options.cluster, progress=options.progress) as runner:
        return _run_stages(options, console, before_switch, started, runner)


def _run_stages(
    options: BuildOptions, console: Console, before_switch, started: float, runner
) -> BuildResult:
    """run_build's stages, their heavy maps on runner's cluster when there is one (else None)."""
    stages = _Stages(console, quiet=not options.progress)
    log = IssueLog()
    with stages.stage("read source"):
        source = read_source(
            options.source, log, progress=options.progress, cache_dir=options.cache_dir
        )
        models = source.models
    with stages.stage("lineage"):
        lineage = build_lineage(models, log)
    with stages.stage("embed"):
        embedded = _embed(options, source, runner, console)
        del source
    with stages.stage("previous build"):
        mode = _mode(options, embedded, models["model_id"])
    if options.progress:
        console.print(Text.assemble((f"{mode.name} build", "bold"), ": ", literal(mode.reason)))
    # only a full build's clustering reads the texts: all of them, the unknown ones computed
    # together; an incremental build frees them now
    texts = list(embedded.texts) if mode.carried is None else None
    embedded.texts = None
    carried, vectors = mode.carried, embedded.vectors
    if carried and runner:
        carried.index.runner = runner  # the exact search of the new models
    background = _neighbours_in_background(options, carried, vectors)
    with stages.stage("project"):
        coords = _project(options, carried, vectors, runner)
    with stages.stage("cluster"):
        labels, clusters = _cluster(options, carried, vectors, texts, models)
        del texts
    with stages.stage("neighbours"):
        index, neighbours = _neighbours(options, carried, vectors, background, runner)
    if background:
        stages.record(BESIDE, background.seconds)
    placed = _Placed(coords, labels, clusters, index, neighbours)

    with BuildWriter(options.out_dir, options.keep_builds, before_switch=before_switch) as writer:
        with stages.stage("write"):
            table, clusters = _write(BuildPaths(writer.path), models, lineage, embedded, placed)
        with stages.stage("findings"):
            _write_findings(BuildPaths(writer.path))
        if background:
            background.close()  # the index is in the build now
        stage_seconds = {**stages.seconds, "total": round(time.perf_counter() - started, 3)}
        writer.manifest = _manifest(
            writer.build_id,
            options,
            mode,
            embedded,
            placed.index,
            _counts(table, lineage, clusters, log),
            stage_seconds,
            log,
        )
    return BuildResult(path=writer.final_path, manifest=writer.manifest, log=log)


@dataclass
class _Embedded:
    """The embed stage's result: the embedder, each model's vector and text key, the texts
    (each computed only when read) and how many distinct texts were embedded now."""

    embedder: Embedder
    vectors: np.ndarray
    keys: np.ndarray
    texts: ModelTexts | None
    newly_embedded: int


@dataclass
class _Mode:
    """Full or incremental, the reason shown and the build carried forward (incremental)."""

    name: str
    reason: str
    carried: CarriedBuild | None


@dataclass
class _Placed:
    """Where the models land: map coordinates, clusters and nearest neighbours."""

    coords: dict
    labels: np.ndarray
    clusters: pd.DataFrame
    index: NeighbourIndex
    neighbours: pd.DataFrame


def _embed(options: BuildOptions, source: SourceRows, runner, console: Console) -> _Embedded:
    """Each model's vector, from the embedding cache where its text key is there (MiniLM embeds
    the others on runner's cluster when there is one)."""
    models = source.models
    embedder_name = choose_embedder(options.embedder, len(models), options.minilm_max_rows)
    # each text computed only where needed: the row store gives the keys of the rows it
    # kept, so a rebuild computes the texts of new rows (or whose vectors are not cached)
    texts = ModelTexts(models, source.texts)
    keys = source.text_keys if source.text_keys is not None else text_keys(texts)
    embedder = fitted_embedder(
        embedder_name,
        options.cache_dir,
        texts,
        model_path=options.model_path,
        dim=options.dim,
        seed=options.seed,
        refit=options.refit,
        precision=options.precision,
        device=options.device,
    )
    embedding = embedder
    if runner and embedder_name == "minilm":
        from pipeline.cluster import EmbedderOnCluster

        # each worker rebuilds the embedder from plain values (its own packaged weights, unless
        # --model-path names others, which must then be at that path on every worker)
        settings = {"name": "minilm", "model_path": options.model_path}
        # the build's precision on every worker (int8 runs on CPU; fp32 on a worker's GPU if any)
        settings |= {"precision": embedder.precision, "cache_dir": str(options.cache_dir)}
        settings["device"] = "cpu" if embedder.precision == "int8" else options.device
        embedding = EmbedderOnCluster(embedder, settings, runner)
    elif runner and options.progress:
        console.print("--cluster embeds with MiniLM only: TF-IDF embeds in this process.")
    vectors, newly_embedded = EmbeddingCache(options.cache_dir).embed(
        embedding, texts, keys=keys, progress=options.progress
    )
    return _Embedded(embedder, vectors, keys, texts, newly_embedded)


def _mode(options: BuildOptions, embedded: _Embedded, model_ids: pd.Series) -> _Mode:
    """Incremental when the current build can be carried forward, else full (and why)."""
    carried = (
        "--full given"
        if options.full
        else carry_or_reason(
            options.out_dir,
            embedded.embedder.name,
            embedded.embedder.state_id,
            asdict(options),
            model_ids,
            embedded.keys,
        )
    )
    if isinstance(carried, str):
        return _Mode("full", carried, None)
    reason = (
        f"{len(carried.fresh_rows):,} new or changed models placed on the map of "
        f"{carried.history.based_on}"
    )
    return _Mode("incremental", reason, carried)


def _neighbours_in_background(
    options: BuildOptions, carried: CarriedBuild | None, vectors: np.ndarray
) -> NeighboursInBackground | None:
    """A full build's pynndescent graph, started in a worker to be built beside project and
    cluster (None for an incremental build, a small one or a single CPU)."""
    if carried or len(vectors) < EXACT_BELOW or (os.cpu_count() or 1) < 2:
        return None
    return NeighboursInBackground(
        vectors, options.out_dir, k=NEIGHBOURS_PER_MODEL, seed=options.seed
    )


def _project(
    options: BuildOptions, carried: CarriedBuild | None, vectors: np.ndarray, runner
) -> dict:
    """The 3D and 2D map coordinates (coords[3], coords[2]); the models outside UMAP's fit sample
    placed on runner's cluster when there is one."""
    if carried:
        return carried_coordinates(carried, vectors)
    from pipeline.project import project  # umap: only a full build needs it

    return project(
        vectors,
        seed=options.seed,
        fit_sample_size=options.fit_sample_size,
        progress=options.progress,
        runner=runner,
    )


def _cluster(
    options: BuildOptions,
    carried: CarriedBuild | None,
    vectors: np.ndarray,
    texts: list[str] | None,
    models: pd.DataFrame,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Each model's cluster and the clusters table (a full build labels them from texts, never
    by a license)."""
    if carried:
        return carried_clusters(carried, vectors)
    from pipeline.clusters import cluster, license_terms  # sklearn.cluster: full builds only

    return cluster(
        vectors,
        texts,
        k=options.n_clusters,
        seed=options.seed,
        progress=options.progress,
        unlabelled=license_terms(models["model_id"], models["licenses"]),
    )


def _neighbours(
    options: BuildOptions,
    carried: CarriedBuild | None,
    vectors: np.ndarray,
    background: NeighboursInBackground | None,
    runner,
) -> tuple[NeighbourIndex, pd.DataFrame]:
    """The neighbour index and each model's nearest models (exact searches on runner's cluster
    when there is one)."""
    if carried:
        index = carried.index.carried_to(vectors, carried.row_now)  # keeps the runner
        return index, carried_neighbours(carried, index, vectors, k=NEIGHBOURS_PER_MODEL)
    if background:  # this stage's seconds: the wait for the worker and reading its table
        return background.result()
    index = NeighbourIndex.build(vectors, seed=options.seed)
    index.runner = runner
    return index, knn_table(index, vectors, k=NEIGHBOURS_PER_MODEL)


def _write(
    files: BuildPaths,
    models: pd.DataFrame,
    lineage: Lineage,
    embedded: _Embedded,
    placed: _Placed,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every table and array of the build into files; the models and clusters tables."""
    table = _models_table(models, lineage.models, placed.coords, placed.labels)
    clusters = _with_centres(placed.clusters, table)
    for name, frame in (
        ("models", table),
        ("edges", lineage.edges),
        ("families", lineage.families),
        ("transitions", lineage.transitions),
        ("clusters", clusters),
        ("neighbours", placed.neighbours),
    ):
        write_table(name, pa.Table.from_pandas(frame, preserve_index=False), files.table(name))
    np.save(files.embeddings, np.ascontiguousarray(embedded.vectors, dtype=np.float32))
    np.save(files.text_keys, embedded.keys)
    placed.index.save(files.index)
    embedded.embedder.save(files.embedder)
    return table, clusters


def _write_findings(files: BuildPaths) -> None:
    """The paper's findings (findings.compute_findings, default relation, every model) on the
    tables and embeddings just written, read back as the dashboard reads them, into findings.json.
    A failure here is a bug (the tables are the build's own), never a user error."""
    prepared = BuildFindings.read(files.table("models"), files.table("edges"), files.embeddings)
    found = prepared.findings()
    files.findings.write_text(json.dumps(found, indent=1, allow_nan=False), encoding="utf-8")


def _counts(table: pd.DataFrame, lineage: Lineage, clusters: pd.DataFrame, log: IssueLog) -> Counts:
    edges = lineage.edges
    return Counts(
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


def _manifest(
    build_id: str,
    options: BuildOptions,
    mode: _Mode,
    embedded: _Embedded,
    index: NeighbourIndex,
    counts: Counts,
    stage_seconds: dict[str, float],
    log: IssueLog,
) -> Manifest:
    history = (
        mode.carried.history
        if mode.carried
        else History(
            last_full_build=build_id, models_at_last_full=counts.models, changed_since_full=0
        )
    )
    newly_embedded = int(embedded.newly_embedded)
    return Manifest(
        build_id=build_id,
        created_at=pd.Timestamp.now(tz="UTC").isoformat(),
        hfmap_version=__version__,
        source=describe_source(options.source),
        counts=counts,
        embedder=EmbedderInfo(
            name=embedded.embedder.name,
            dim=int(embedded.vectors.shape[1]),
            state_id=embedded.embedder.state_id,
        ),
        embedding=EmbeddingCounts(
            newly_embedded=newly_embedded,
            from_cache=int(len(embedded.vectors) - newly_embedded),
        ),
        neighbour_index=index.kind,
        mode=mode.name,
        mode_reason=mode.reason,
        history=history,
        options=_options_used(options),
        seed=options.seed,
        stage_seconds=stage_seconds,
        issues=log.to_dict(),
        source_columns=log.columns_dict(),
    )


def _options_used(options: BuildOptions) -> dict:
    """The build's options for the manifest (paths as text, without progress)."""
    return {
        name: str(value) if isinstance(value, Path) else value
        for name, value in asdict(options).items()
        if name not in ("progress", "cluster")
    }


def _models_table(
    models: pd.DataFrame, lineage_models: pd.DataFrame, coords: dict, labels: np.ndarray
) -> pd.DataFrame:
    lineage_columns = lineage_models.drop(columns="model_id").reset_index(drop=True)
    table = pd.concat([models.reset_index(drop=True), lineage_columns], axis=1)
    xyz, xy = coords[3], coords[2]
    table["x"], table["y"], table["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    table["x2d"], table["y2d"] = xy[:, 0], xy[:, 1]
    table["cluster"] = labels.astype("int32")
    return table


def _with_centres(clusters: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    centres = table.groupby("cluster")[["x", "y", "z", "x2d", "y2d"]].median().reset_index()
    return clusters.merge(centres, on="cluster", how="left")

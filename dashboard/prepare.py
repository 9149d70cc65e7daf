"""A build's tables turned into the memory-mappable files the dashboard serves from.

The build's Parquet tables are compressed and must be decoded to be read; the dashboard
instead maps uncompressed Arrow IPC files and .npy arrays, which it writes once per build
into ``<cache dir>/dashboard/<build id>/`` (written under a temporary name and renamed
into place, so several server processes can start at once). Later starts, and every
worker of a multi-process server, share those pages instead of each decoding its own copy.

models.arrow
    the VIEW_COLUMNS of models.parquet in one record batch, where the measures are floats
    with NaN for "unknown" (likes, downloads, trending_score, card_length,
    card_auto_generated, created_at in seconds since 1970), the categories are
    dictionary-encoded (author, library_name, pipeline_tag, root_id, and license = the first
    license; NO_VALUE where the source named none), and ``search_id`` is "id␟author" in
    lower case.
tags.arrow, tag_codes.npy, tag_offsets.npy
    the distinct lower-case tags, and each model's tags as codes into them (rows
    offsets[i]:offsets[i+1]). With search_id, this is what the text filter searches.
details.arrow
    every other column of models.parquet (tags, licenses, card excerpt, parents, …), and the
    EXACT_COUNTS as the build's integers (models.arrow's floats are exact only below 2**53),
    in batches of DETAIL_BATCH_ROWS rows: opening one model reads one batch.
edges.arrow
    parent_row and child_row (row numbers in models.arrow, -1 for a parent outside the
    data), relation, parent_id; in the build's edge order.
neighbours.npy, similarities.npy, neighbour_offsets.npy
    each model's nearest models as row numbers: rows offsets[i]:offsets[i+1], best first.
families.parquet, clusters.parquet, transitions.parquet
    the build's own small tables, linked (or copied) here, so a served build that is pruned
    from the builds directory while a worker still serves it stays readable.

The build's files are named by pipeline.build_format (BuildPaths).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dashboard.values import NO_VALUE
from hfmap.atomic import atomic_directory
from pipeline.build_format import BuildPaths, list_offsets, table_file

log = logging.getLogger("hfmap.dashboard")

FORMAT_VERSION = 2  # bump when the files below change: older prepared folders are then rebuilt
# the build's models columns the views filter, colour, size and draw by (models.arrow); the rest
# is details.arrow
VIEW_COLUMNS = (
    "model_id",
    "author",
    "likes",
    "downloads",
    "trending_score",
    "pipeline_tag",
    "library_name",
    "created_at",
    "card_length",
    "card_auto_generated",
    "root_id",
    "depth",
    "n_parents",
    "n_children",
    "n_descendants",
    "x",
    "y",
    "z",
    "x2d",
    "y2d",
    "cluster",
)
MEASURES = ("likes", "downloads", "trending_score", "card_length")
EXACT_COUNTS = ("likes", "downloads", "card_length")  # integers kept as such in details.arrow
SMALL_TABLES = (
    "families",
    "clusters",
    "transitions",
)  # linked here under the build's own file names
CATEGORIES = ("author", "library_name", "pipeline_tag", "root_id", "license")
FIELD_SEPARATOR = "\x1f"  # between id and author in search_id: a search never spans both
DETAIL_BATCH_ROWS = 16_384  # details.arrow batch: opening a model reads one batch


def prepared_dir(build: BuildPaths, cache_dir: Path) -> Path:
    """The prepared folder of a build, written first if it does not exist yet (when another
    process finishes it first, its folder is kept and this one dropped)."""
    target = Path(cache_dir) / "dashboard" / f"{build.path.name}-v{FORMAT_VERSION}"
    if (target / "models.arrow").exists():
        return target
    started = time.perf_counter()
    with atomic_directory(target, replace=False) as folder:
        log.info(
            "preparing build %s for the dashboard (once per build) in %s", build.path.name, target
        )
        rows = write_models(build, folder)
        model_ids = mapped_column(folder / "models.arrow", "model_id")
        write_edges(build, model_ids, folder / "edges.arrow")
        write_neighbours(build, rows, folder)
        for name in SMALL_TABLES:
            link_or_copy(build.table(name), folder / table_file(name))
    log.info(
        "prepared build %s (%s models) in %.1f s",
        build.path.name,
        f"{rows:,}",
        time.perf_counter() - started,
    )
    return target


def mapped_column(path: Path, name: str) -> pa.ChunkedArray:
    """One column of an Arrow IPC file, its buffers in the mapped file."""
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all().column(name)


def write_models(build: BuildPaths, folder: Path) -> int:
    """models.arrow (what the views filter, draw and search, one batch) and details.arrow (the rest,
    in batches), read one Parquet row group at a time so a 1.86M-model build stays within memory."""
    source = pq.ParquetFile(build.table("models"))
    detail_names = [
        name
        for name in source.schema_arrow.names
        if name not in VIEW_COLUMNS or name in EXACT_COUNTS
    ]
    view = pq.read_table(build.table("models"), columns=list(VIEW_COLUMNS), memory_map=True)
    with (
        pa.OSFile(str(folder / "details.arrow"), "wb") as sink,
        pa.ipc.new_file(
            sink, pa.schema([source.schema_arrow.field(name) for name in detail_names])
        ) as details,
    ):
        for group in range(source.num_row_groups):
            details.write_table(
                source.read_row_group(group, columns=detail_names), max_chunksize=DETAIL_BATCH_ROWS
            )
    columns = {name: view.column(name).combine_chunks() for name in VIEW_COLUMNS}
    for name in MEASURES:
        columns[name] = as_float(columns[name], pa.float64())
    columns["card_auto_generated"] = as_float(
        columns["card_auto_generated"].cast(pa.float32()), pa.float32()
    )
    created = pc.cast(pc.cast(columns["created_at"], pa.timestamp("s", tz="UTC")), pa.int64())
    columns["created_at"] = as_float(created, pa.float64())
    lists = pq.read_table(build.table("models"), columns=["licenses", "tags"])
    licenses = lists.column("licenses").combine_chunks()
    columns["license"] = pc.list_element(
        pc.if_else(
            pc.greater(pc.list_value_length(licenses), 0),
            licenses,
            pa.scalar([None], licenses.type),
        ),
        0,
    )
    for name in CATEGORIES:
        columns[name] = pc.fill_null(columns[name], NO_VALUE).dictionary_encode()
    separator = pa.scalar(FIELD_SEPARATOR)
    columns["search_id"] = pc.utf8_lower(
        pc.binary_join_element_wise(
            columns["model_id"], pc.fill_null(view.column("author").combine_chunks(), ""), separator
        )
    )
    write_tags(lists.column("tags").combine_chunks(), folder)
    out = pa.table(columns)
    with (
        pa.OSFile(str(folder / "models.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, out.schema) as writer,
    ):
        writer.write_table(out, max_chunksize=max(len(out), 1))
    return len(out)


def as_float(values: pa.Array, kind: pa.DataType) -> pa.Array:
    """A numeric column as floats, null -> NaN (numpy reads it without copying). Integers beyond
    2**53 become the nearest float (good enough to filter, size and bin by; the details show the
    exact integer from details.arrow)."""
    return pc.fill_null(pc.cast(values, kind, safe=False), float("nan"))


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link to source (it outlives the build's directory), or a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_tags(tags: pa.ListArray, folder: Path) -> None:
    """Each model's tags as codes into the vocabulary of distinct lower-case tags."""
    tags = pc.fill_null(tags, pa.scalar([], tags.type))
    encoded = pc.utf8_lower(pc.list_flatten(tags)).dictionary_encode()
    vocabulary = pa.table({"tag": encoded.dictionary})
    with (
        pa.OSFile(str(folder / "tags.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, vocabulary.schema) as writer,
    ):
        writer.write_table(vocabulary)
    np.save(folder / "tag_codes.npy", encoded.indices.to_numpy().astype(np.int32))
    offsets = tags.offsets.to_numpy().astype(np.int64)
    np.save(folder / "tag_offsets.npy", offsets - offsets[0])


def write_edges(build: BuildPaths, model_ids: pa.ChunkedArray, path: Path) -> None:
    edges = pq.read_table(build.table("edges"))
    rows = {
        end: pc.fill_null(pc.index_in(edges.column(f"{end}_id"), value_set=model_ids), -1).cast(
            pa.int32()
        )
        for end in ("parent", "child")
    }
    out = pa.table(
        {
            "parent_row": rows["parent"].combine_chunks(),
            "child_row": rows["child"].combine_chunks(),
            "relation": edges.column("relation").combine_chunks().dictionary_encode(),
            "parent_id": edges.column("parent_id").combine_chunks(),
        }
    )
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, out.schema) as writer:
        writer.write_table(out, max_chunksize=max(len(out), 1))


def write_neighbours(build: BuildPaths, rows: int, folder: Path) -> None:
    table = pq.read_table(build.table("neighbours"))
    model = table.column("model_index").to_numpy()
    order = np.lexsort((table.column("rank").to_numpy(), model))
    np.save(
        folder / "neighbours.npy",
        table.column("neighbour_index").to_numpy()[order].astype(np.int32),
    )
    np.save(
        folder / "similarities.npy", table.column("similarity").to_numpy()[order].astype(np.float32)
    )
    np.save(folder / "neighbour_offsets.npy", list_offsets(model, rows))

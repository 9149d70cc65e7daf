"""A build as the dashboard reads it: memory-mapped columns, loaded once, shared by every query.

The dashboard knows nothing of how a build was made; it reads the build directory
(pipeline.build_format describes it) through the prepared files of ``dashboard.prepare``.
Numeric columns are numpy views of the mapped file (no copy); categories are dictionary
codes; the rest (cards, tags, lists) stays in the mapped file until a model is opened.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.prepare import CATEGORIES, prepared_dir
from dashboard.values import NO_VALUE
from pipeline.build_format import RELATIONS, Manifest, OpenBuild, open_build, table_file

POPULARITY_SEED = 0
SEARCH_THREADS = ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="hfmap-search"
)  # Arrow's search frees the GIL


def mapped_table(path: Path) -> pa.Table:
    """An Arrow IPC file as a table whose buffers point into the mapped file."""
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


class Build:
    """One build, read-only. ``repr`` is its build id, so query-cache keys hold the build
    version."""

    def __init__(self, files: OpenBuild, prepared: Path):
        self.files = files
        self.path: Path = files.path
        self.manifest: Manifest = files.manifest
        self.prepared = prepared
        self.table = mapped_table(prepared / "models.arrow")
        self._derived: dict = {}
        self._derived_lock = threading.Lock()

    @classmethod
    def load(cls, path: Path, cache_dir: Path) -> Build:
        """The build at path (a build, or a builds directory whose current build is taken)."""
        files = open_build(Path(path))
        return cls(files, prepared_dir(files, cache_dir))

    def __repr__(self) -> str:
        return f"Build({self.version})"

    @property
    def version(self) -> str:
        return self.manifest.build_id

    @property
    def size(self) -> int:
        return self.table.num_rows

    # ------------------------------------------------------------ per-model columns

    def numbers(self, name: str) -> np.ndarray:
        """A numeric column as a read-only numpy view (NaN where the source did not say)."""
        return self.table.column(name).chunk(0).to_numpy() if self.size else np.zeros(0)

    def whole_numbers(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """An integer count (one of prepare.EXACT_COUNTS) exactly, as the build holds it: its values
        as int64 (0 where unknown) and which of them are known. ``numbers`` gives the same column as
        floats, which are exact only below 2**53. Read once per build."""

        def read(build: Build) -> tuple[np.ndarray, np.ndarray]:
            column = build.details.column(name)
            known = column.is_valid().to_numpy(zero_copy_only=False)
            values = pc.fill_null(column, 0).to_numpy().astype(np.int64, copy=False)
            for array in (known, values):
                array.flags.writeable = False
            return values, known

        return self.derived(f"whole-numbers:{name}", read)

    def codes(self, name: str) -> np.ndarray:
        """The dictionary codes of a category column (see ``categories``)."""
        return (
            self.table.column(name).chunk(0).indices.to_numpy()
            if self.size
            else np.zeros(0, np.int32)
        )

    def categories(self, name: str) -> list[str]:
        """The values of a category column, in code order."""
        return self.table.column(name).chunk(0).dictionary.to_pylist() if self.size else []

    def category_of(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The category values (strings) of some rows."""
        if not len(rows):
            return np.zeros(0, dtype=object)
        return np.asarray(self.categories(name), dtype=object)[self.codes(name)[rows]]

    def ids(self, rows: np.ndarray) -> list[str]:
        """The model ids of some rows."""
        return (
            self.table.column("model_id")
            .take(pa.array(np.asarray(rows, dtype=np.int64)))
            .to_pylist()
        )

    def model_id(self, row: int) -> str:
        return self.table.column("model_id")[int(row)].as_py()

    def row(self, model_id: str | None) -> int | None:
        """Row of a model id, or None when the build does not hold it (a scan: 10 ms at 1.86M
        models)."""
        if not model_id or not self.size:
            return None
        position = pc.index(self.table.column("model_id"), str(model_id)).as_py()
        return None if position < 0 else int(position)

    def text_matches(self, text: str) -> np.ndarray:
        """True for the models whose id, author or one of whose tags contains text (literally, any
        case). The ids are searched in two halves and the tags beside them, on SEARCH_THREADS."""
        text = text.lower()
        ids = self.table.column("search_id")
        halves = [
            SEARCH_THREADS.submit(pc.match_substring, part, text)
            for part in (ids.slice(0, self.size // 2), ids.slice(self.size // 2))
        ]
        tagged = SEARCH_THREADS.submit(self.rows_with_tag_containing, text)
        matches = np.concatenate([half.result().to_numpy(zero_copy_only=False) for half in halves])
        matches[tagged.result()] = True
        return matches

    def rows_with_tag_containing(self, text: str) -> np.ndarray:
        """Rows of the models one of whose (lower-case) tags contains text."""
        vocabulary, codes, offsets = self._tags
        tag_hit = pc.match_substring(vocabulary, text).to_numpy(zero_copy_only=False)
        positions = np.flatnonzero(tag_hit[codes]) if tag_hit.any() else np.zeros(0, dtype=np.int64)
        return np.searchsorted(offsets, positions, side="right") - 1

    @cached_property
    def _tags(self) -> tuple[pa.ChunkedArray, np.ndarray, np.ndarray]:
        return (
            mapped_table(self.prepared / "tags.arrow").column("tag"),
            np.load(self.prepared / "tag_codes.npy", mmap_mode="r"),
            np.load(self.prepared / "tag_offsets.npy", mmap_mode="r"),
        )

    @cached_property
    def details(self) -> pa.Table:
        return mapped_table(self.prepared / "details.arrow")

    def record(self, row: int) -> dict:
        """Every stored field of one model, as Python values (NaN measures as None)."""
        record = {
            **self.table.slice(int(row), 1).to_pylist()[0],
            **self.details.slice(int(row), 1).to_pylist()[0],
        }
        for name, value in record.items():
            if isinstance(value, float) and np.isnan(value):
                record[name] = None
        for name in CATEGORIES:
            if record.get(name) == NO_VALUE:
                record[name] = None
        return record

    @cached_property
    def popularity_order(self) -> np.ndarray:
        """All rows, most downloaded first (unknown counts last; ties by row)."""
        downloads = np.nan_to_num(self.numbers("downloads"), nan=-1.0)
        return np.argsort(-downloads, kind="stable").astype(np.int32)

    @cached_property
    def sampling_order(self) -> np.ndarray:
        """All rows in a fixed random order: samples taken in this order stay put as a view is
        refined."""
        return np.random.default_rng(POPULARITY_SEED).permutation(self.size).astype(np.int32)

    # ------------------------------------------------------------ lineage and neighbours

    @cached_property
    def edges(self) -> Edges:
        return Edges(mapped_table(self.prepared / "edges.arrow"))

    def neighbours(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The nearest models of a row (rows, similarities), best first."""
        offsets, rows, similarities = self._neighbour_arrays
        start, stop = offsets[row], offsets[row + 1]
        return np.asarray(rows[start:stop]), np.asarray(similarities[start:stop])

    @cached_property
    def neighbours_per_model(self) -> int:
        """The most nearest models the build keeps for a model (its k)."""
        offsets = self._neighbour_arrays[0]
        return int(np.diff(offsets).max()) if len(offsets) > 1 else 0

    @cached_property
    def _neighbour_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return tuple(
            np.load(self.prepared / f"{name}.npy", mmap_mode="r")
            for name in ("neighbour_offsets", "neighbours", "similarities")
        )

    # ------------------------------------------------------ small tables, read when first asked for

    @cached_property
    def clusters(self) -> pd.DataFrame:
        return pd.read_parquet(self.prepared / table_file("clusters"))

    @cached_property
    def families(self) -> pd.DataFrame:
        """The families table with ``root_code``: the code of its root_id in the root_id category
        column."""
        families = pd.read_parquet(self.prepared / table_file("families"))
        roots = pa.array(families["root_id"].astype(str).to_numpy(), pa.string())
        dictionary = (
            self.table.column("root_id").chunk(0).dictionary
            if self.size
            else pa.array([], pa.string())
        )
        families["root_code"] = pc.fill_null(
            pc.index_in(roots, value_set=dictionary), -1
        ).to_numpy()
        return families

    def derived(self, name: str, compute):
        """``compute(build)``, computed once for this build and kept with it (a query's own
        index)."""
        with self._derived_lock:
            if name not in self._derived:
                self._derived[name] = compute(self)
            return self._derived[name]

    def warm_up(self) -> None:
        """Compute the lazily built indexes now (run in a background thread after start; a request
        that needs one first computes it too, which costs time, never correctness)."""
        for name in ("popularity_order", "sampling_order", "edges", "_tags", "families"):
            getattr(self, name)


class Edges:
    """The build's parent links by row number, with each model's parents and children one lookup
    away."""

    def __init__(self, table: pa.Table):
        self.parent_row = (
            table.column("parent_row").chunk(0).to_numpy() if len(table) else np.zeros(0, np.int32)
        )
        self.child_row = (
            table.column("child_row").chunk(0).to_numpy() if len(table) else np.zeros(0, np.int32)
        )
        relation = (
            table.column("relation").chunk(0)
            if len(table)
            else pa.array([], pa.string()).dictionary_encode()
        )
        names = relation.dictionary.to_pylist()
        # relation codes in RELATIONS order, so a smaller code is a stronger link
        self.relation = (
            np.asarray([RELATIONS.index(n) for n in names], dtype=np.int8)[
                relation.indices.to_numpy()
            ]
            if len(table)
            else np.zeros(0, np.int8)
        )
        self.parent_id = (
            table.column("parent_id") if len(table) else pa.chunked_array([], pa.string())
        )
        self._by_child = np.argsort(self.child_row, kind="stable")
        self._by_parent = np.argsort(self.parent_row, kind="stable")

    def of_child(self, row: int) -> np.ndarray:
        """Edge numbers whose child is row (its parents)."""
        return _equal_range(self.child_row, self._by_child, row)

    def of_parent(self, row: int) -> np.ndarray:
        """Edge numbers whose parent is row (its children)."""
        return _equal_range(self.parent_row, self._by_parent, row)

    def children_of(self, rows: np.ndarray) -> np.ndarray:
        """Edge numbers whose parent is any of rows."""
        return (
            np.flatnonzero(np.isin(self.parent_row, rows)) if len(rows) else np.zeros(0, np.int64)
        )


def _equal_range(values: np.ndarray, order: np.ndarray, value: int) -> np.ndarray:
    start, stop = (
        np.searchsorted(values, value, sorter=order),
        np.searchsorted(values, value, side="right", sorter=order),
    )
    return order[start:stop]

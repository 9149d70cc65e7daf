"""The models a view shows, as CSV: every model that passes the filters (inside the map's selection
when there is one), most downloaded first, at most EXPORT_ROWS of them.

Ids, authors, tags and licenses come from the Hub and are untrusted: the csv module quotes every
cell that needs it (commas, quotes, line breaks), and a text cell that a spreadsheet would run as
a formula (one starting with = + - @, a tab or a carriage return) is written with a leading '.
Lists (licenses, languages, parents) are joined with ";".

The export is computed on each request and not kept in the query cache: at 100,000 rows it is
about 10 MB, and a download is asked for once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from dashboard.data import Build
from dashboard.filters import Filters, Selection, filter_mask, selection_mask
from dashboard.queries.points import first_in_order
from dashboard.values import NO_VALUE

EXPORT_ROWS = 100_000  # the most models one export holds (the most downloaded of those asked for)
COLUMNS = (
    "id",
    "author",
    "downloads",
    "likes",
    "created",
    "pipeline",
    "library",
    "licenses",
    "languages",
    "family_root",
    "parents",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class ModelsExport:
    csv: str  # the header and one line per model
    rows: int  # models written
    matching: int  # models that pass the filters (and lie in the selection)

    @property
    def capped(self) -> bool:
        return self.rows < self.matching


def export_filename(version: str) -> str:
    """The CSV's file name, after the build's version (any character a file name should not hold
    replaced)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in version)
    return f"hfmap-models-{safe}.csv"


def cell(value: object) -> object:
    """A value as a CSV cell: None as empty, text that a spreadsheet would run as a formula
    prefixed with ', anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def matching_count(build: Build, filters: Filters, selection: Selection | None) -> int:
    """How many models pass the filters (and lie in the selection, when there is one)."""
    return int(np.count_nonzero(filter_mask(build, filters) & selection_mask(build, selection)))


def export_rows(
    build: Build, filters: Filters, selection: Selection | None, limit: int = EXPORT_ROWS
) -> tuple[np.ndarray, int]:
    """The rows to export (the most downloaded first, at most limit) and how many models match."""
    wanted = filter_mask(build, filters) & selection_mask(build, selection)
    limit = max(0, min(int(limit), EXPORT_ROWS))
    return first_in_order(build.popularity_order, wanted, limit), int(np.count_nonzero(wanted))


def parents_of(build: Build, rows: np.ndarray) -> list[list[str]]:
    """Each row's parent ids (in the build's edge order), for a whole set of rows at once."""
    edges = build.edges
    position = np.full(build.size, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    chosen = np.flatnonzero(position[edges.child_row] >= 0)
    parents: list[list[str]] = [[] for _ in rows]
    if not len(chosen):
        return parents
    parent_rows = edges.parent_row[chosen]
    inside = parent_rows >= 0
    names = np.empty(len(chosen), dtype=object)
    names[inside] = build.ids(parent_rows[inside])
    names[~inside] = edges.parent_id.take(pa.array(chosen[~inside], pa.int64())).to_pylist()
    for child, name in zip(position[edges.child_row[chosen]], names):
        parents[child].append(str(name))
    return parents


def created_text(seconds: float) -> str | None:
    """A creation time as ISO 8601 UTC ("2023-07-13T16:45:23Z"), None where unknown."""
    if not np.isfinite(seconds):
        return None
    return datetime.fromtimestamp(float(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def category_cells(build: Build, column: str, rows: np.ndarray) -> list[str | None]:
    return [None if value == NO_VALUE else value for value in build.category_of(column, rows)]


def models_csv(
    build: Build, filters: Filters, selection: Selection | None, limit: int = EXPORT_ROWS
) -> ModelsExport:
    """The models that pass the filters (in the selection, when there is one) as CSV, the most
    downloaded first, at most ``limit`` (and EXPORT_ROWS) of them."""
    rows, matching = export_rows(build, filters, selection, limit)
    taken = pa.array(rows.astype(np.int64), pa.int64())
    details = build.details.take(taken).select(["downloads", "likes", "licenses", "languages"])
    join = LIST_SEPARATOR.join
    columns = (
        build.ids(rows),
        category_cells(build, "author", rows),
        details.column("downloads").to_pylist(),  # the build's integers, exactly
        details.column("likes").to_pylist(),
        [created_text(seconds) for seconds in build.numbers("created_at")[rows]],
        category_cells(build, "pipeline_tag", rows),
        category_cells(build, "library_name", rows),
        [join(values or ()) for values in details.column("licenses").to_pylist()],
        [join(values or ()) for values in details.column("languages").to_pylist()],
        category_cells(build, "root_id", rows),
        [join(values) for values in parents_of(build, rows)],
    )
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: every line ends in CRLF, cells quoted where needed
    writer.writerow(COLUMNS)
    writer.writerows([cell(value) for value in line] for line in zip(*columns))
    return ModelsExport(out.getvalue(), len(rows), matching)

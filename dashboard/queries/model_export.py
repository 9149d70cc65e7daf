"""The models a view shows, as CSV: every model that passes the filters (inside the map's selection
when there is one), most downloaded first, at most EXPORT_ROWS of them.

Ids, authors, tags and licenses come from the Hub and are untrusted: Arrow's CSV writer quotes
every text cell (a quote inside doubled, so commas and line breaks stay in their cell), and a text
cell that a spreadsheet would run as a formula (one starting with = + - @, a tab or a carriage
return) is written with a leading '. Lists (licenses, languages, parents) are joined with ";".

The export is computed on each request and not kept in the query cache: at 100,000 rows of the
real listing it is 15 MB, and a download is asked for once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

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
FORMULA_START = r"^([=+\-@\t\r])"  # a text cell a spreadsheet would run as a formula
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


def formula_safe(column: pa.Array) -> pa.Array:
    """Text cells as a spreadsheet may open them: one that would run as a formula (starting with
    = + - @, a tab or a carriage return) gets a leading '."""
    return pc.replace_substring_regex(column, FORMULA_START, r"'\1")


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


def parents_of(build: Build, rows: np.ndarray) -> list[str]:
    """Each row's parent ids (in the build's edge order) joined with LIST_SEPARATOR, for a whole
    set of rows at once."""
    edges = build.edges
    position = np.full(build.size, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    chosen = np.flatnonzero(position[edges.child_row] >= 0)
    parents: list[list[str]] = [[] for _ in rows]
    parent_rows = edges.parent_row[chosen]
    inside = parent_rows >= 0
    names = np.empty(len(chosen), dtype=object)
    names[inside] = build.ids(parent_rows[inside])
    names[~inside] = edges.parent_id.take(pa.array(chosen[~inside], pa.int64())).to_pylist()
    for child, name in zip(position[edges.child_row[chosen]], names):
        parents[child].append(str(name))
    return [LIST_SEPARATOR.join(ids) for ids in parents]


def created_text(build: Build, rows: np.ndarray) -> pa.Array:
    """Creation times as ISO 8601 UTC ("2023-07-13T16:45:23Z"), null where unknown."""
    seconds = build.numbers("created_at")[rows]
    unknown = ~np.isfinite(seconds)
    stamps = np.nan_to_num(seconds, nan=0, posinf=0, neginf=0).astype("datetime64[s]")
    return pc.strftime(pa.array(stamps, pa.timestamp("s"), mask=unknown), "%Y-%m-%dT%H:%M:%SZ")


def category_text(build: Build, column: str, taken: pa.Array) -> pa.Array:
    """A category column's values at some rows as text, null where the source named none."""
    values = pc.cast(build.table.column(column).take(taken), pa.string())
    return pc.if_else(pc.equal(values, NO_VALUE), pa.scalar(None, pa.string()), values)


def models_csv(
    build: Build, filters: Filters, selection: Selection | None, limit: int = EXPORT_ROWS
) -> ModelsExport:
    """The models that pass the filters (in the selection, when there is one) as CSV, the most
    downloaded first, at most ``limit`` (and EXPORT_ROWS) of them."""
    rows, matching = export_rows(build, filters, selection, limit)
    taken = pa.array(rows.astype(np.int64), pa.int64())
    details = build.details.select(["downloads", "likes", "licenses", "languages"]).take(taken)
    text = {
        "id": build.table.column("model_id").take(taken),
        "author": category_text(build, "author", taken),
        "created": created_text(build, rows),
        "pipeline": category_text(build, "pipeline_tag", taken),
        "library": category_text(build, "library_name", taken),
        "licenses": pc.binary_join(details.column("licenses"), LIST_SEPARATOR),
        "languages": pc.binary_join(details.column("languages"), LIST_SEPARATOR),
        "family_root": category_text(build, "root_id", taken),
        "parents": pa.array(parents_of(build, rows), pa.string()),
    }
    counts = {"downloads": details.column("downloads"), "likes": details.column("likes")}
    table = pa.table(
        {name: formula_safe(text[name]) if name in text else counts[name] for name in COLUMNS}
    )
    out = io.BytesIO()
    # RFC 4180: lines end in CRLF, text is quoted (a quote inside doubled)
    csv.write_csv(table, out, csv.WriteOptions(quoting_style="needed", eol="\r\n"))
    return ModelsExport(out.getvalue().decode("utf-8"), len(rows), matching)

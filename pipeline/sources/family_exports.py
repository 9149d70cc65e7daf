"""Convert real Hub family-tree exports (dataset-schema.md §3) to the published schema.

An export row holds `model_id`, `card`, `metadata` (the Hub API record as JSON),
`depth` and the ids of its direct children by relation (`children`, `adapters`,
`quantized`, `merges`: comma-separated Hub URLs, or a Python list string in older
exports). Lineage comes from the record's `base_model:` tags; rows whose record
was not fetched get their parent from the parent's child lists instead. Ids and
numbers are kept exactly as exported (only the Hub URL prefix is removed).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import SourceError
from pipeline.report import IssueLog
from pipeline.sources.language_codes import ISO_639_1
from pipeline.sources.normalize import TAG_PREFIXES, clean_model_id, parents_from_tags, parse_list
from pipeline.sources.records import READ_FIELDS, parse_json, record_to_row

CHILD_LIST_RELATIONS = {
    "children": "finetune",
    "adapters": "adapter",
    "quantized": "quantized",
    "merges": "merge",
}

PUBLISHED_LIST_COLUMNS = (
    "tags",
    "regions",
    "licenses",
    "arxiv_papers",
    "datasets",
    "parent_model",
    "finetune_parent",
    "quantized_parent",
    "adapter_parent",
    "merge_parent",
    "languages",
)
PUBLISHED_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("author", pa.string()),
        ("likes", pa.int64()),
        ("trendingScore", pa.float64()),
        ("private", pa.bool_()),
        ("downloads", pa.int64()),
        ("pipeline_tag", pa.string()),
        ("library_name", pa.string()),
        ("createdAt", pa.string()),
        *[(name, pa.list_(pa.string())) for name in PUBLISHED_LIST_COLUMNS],
        ("modelCard", pa.string()),
        ("family_export", pa.string()),
    ]
)


def child_ids(cell: str) -> list[str]:
    """Ids in an export's child-list cell (comma-separated URLs or a Python list string)."""
    cell = (cell or "").strip()
    if cell.startswith("["):
        items, _ = parse_list(cell)
    else:
        items = [part for part in cell.split(",")]
    ids = [clean_model_id(item)[0] for item in items]
    return [i for i in ids if i]


# metadata of a row whose Hub record the export did not fetch
NOT_FETCHED = ("", "n/a", "null", "none")
READ_EXPORT_COLUMNS = ("model_id", "card", "metadata", *CHILD_LIST_RELATIONS)


def read_export(path: Path, log: IssueLog | None = None) -> list[dict]:
    """Rows of one export CSV as dicts of strings (its columns noted in the log, when given)."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    if not rows or "model_id" not in rows[0] or "metadata" not in rows[0]:
        raise SourceError(
            f"{path} is not a family-tree export (it needs model_id and metadata columns)."
        )
    if log is not None:
        log.source_columns(
            [c for c in header if c in READ_EXPORT_COLUMNS],
            [c for c in header if c not in READ_EXPORT_COLUMNS],
        )
    return rows


def _record(row: dict, model_id: str, log: IssueLog) -> dict | None:
    """The row's Hub record (None when the export has none, or an unusable one: counted)."""
    text = row.get("metadata")
    if not isinstance(text, str) or text.strip().lower() in NOT_FETCHED:
        return None
    try:
        record = parse_json(text)
    except (ValueError, RecursionError):  # no JSON (parse_json's refusals): counted below
        record = None
    if not isinstance(record, dict):
        log.repaired(
            "export metadata is not a JSON object (row kept without its record)", [model_id]
        )
        return None
    return record


def export_to_published(rows: list[dict], family: str, log: IssueLog) -> list[dict]:
    """Export rows -> rows of the published schema (dataset-schema.md §1). Rows without an
    id are rejected; each record's cells are checked as a Hub API record's are."""
    parent_of: dict[str, tuple[str, str]] = {}
    for row in rows:
        parent_id = clean_model_id(row.get("model_id"))[0]
        if parent_id is None:
            continue
        for column, relation in CHILD_LIST_RELATIONS.items():
            for child in child_ids(row.get(column) or ""):
                parent_of.setdefault(child, (parent_id, relation))

    out = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        model_id = clean_model_id(row.get("model_id"))[0]
        if model_id is None:
            log.rejected("export row without model_id", [f"{family} row {number - 1}"])
            continue
        record = _record(row, model_id, log)
        card = row.get("card")
        published = {name: [] for name in PUBLISHED_LIST_COLUMNS}
        published.update(
            model_id=model_id,
            modelCard=(card if isinstance(card, str) and card else None),
            family_export=family,
        )
        if record is not None:
            log.source_columns(
                [f"metadata.{k}" for k in record if k in READ_FIELDS],
                [f"metadata.{k}" for k in record if k not in READ_FIELDS],
            )
            record = record_to_row(
                {**record, "id": model_id, "modelId": None, "card": None, "modelCard": None},
                log,
                model_id,
            )
        if record is None:
            log.repaired(
                "export row without Hub record (lineage from the parent's child lists)", [model_id]
            )
            published.update(
                author=model_id.split("/", 1)[0] if "/" in model_id else None,
                likes=None,
                trendingScore=None,
                private=False,
                downloads=None,
                pipeline_tag=None,
                library_name=None,
                createdAt=None,
            )
            if model_id in parent_of:
                parent, relation = parent_of[model_id]
                published["parent_model"] = [parent]
                published[f"{relation}_parent"] = [parent]
        else:
            tags = record["tags"]
            published.update(
                author=record["author"],
                likes=record["likes"],
                trendingScore=record["trendingScore"],
                private=record["private"],
                downloads=record["downloads"],
                pipeline_tag=record["pipeline_tag"],
                library_name=record["library_name"],
                createdAt=record["createdAt"],
                tags=tags,
            )
            parents, _ = parents_from_tags(tags)
            published.update(parents)
            for column, prefix in TAG_PREFIXES.items():
                published[column] = [t[len(prefix) :] for t in tags if t.startswith(prefix)]
            published["languages"] = [t for t in tags if t in ISO_639_1]
        out.append(published)
    return out


def write_sample(export_paths: list[Path], out: Path, log: IssueLog) -> int:
    """Convert exports to one Parquet file in the published schema; returns its row count."""
    rows: list[dict] = []
    for path in sorted(export_paths):
        rows.extend(
            export_to_published(read_export(path), path.name.removesuffix("_tree.csv"), log)
        )
    table = pa.Table.from_pylist(rows, schema=PUBLISHED_SCHEMA)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out, compression="zstd")
    return table.num_rows

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
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.report import IssueLog
from pipeline.sources.normalize import TAG_PREFIXES, clean_model_id, parents_from_tags, parse_list
from pipeline.sources.published import SourceError

CHILD_LIST_RELATIONS = {"children": "finetune", "adapters": "adapter", "quantized": "quantized", "merges": "merge"}

PUBLISHED_LIST_COLUMNS = (
    "tags", "regions", "licenses", "arxiv_papers", "datasets", "parent_model",
    "finetune_parent", "quantized_parent", "adapter_parent", "merge_parent", "languages",
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


def read_export(path: Path) -> list[dict]:
    """Rows of one export CSV as dicts of strings."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "model_id" not in rows[0] or "metadata" not in rows[0]:
        raise SourceError(f"{path} is not a family-tree export (it needs model_id and metadata columns).")
    return rows


def _record(row: dict) -> dict | None:
    try:
        record = json.loads(row.get("metadata") or "")
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def export_to_published(rows: list[dict], family: str, log: IssueLog) -> list[dict]:
    """Export rows -> rows of the published schema (dataset-schema.md §1)."""
    parent_of: dict[str, tuple[str, str]] = {}
    for row in rows:
        parent_id = clean_model_id(row["model_id"])[0]
        for column, relation in CHILD_LIST_RELATIONS.items():
            for child in child_ids(row.get(column, "")):
                parent_of.setdefault(child, (parent_id, relation))

    out = []
    for row in rows:
        model_id = clean_model_id(row["model_id"])[0]
        record = _record(row)
        published = {name: [] for name in PUBLISHED_LIST_COLUMNS}
        published.update(model_id=model_id, modelCard=(row.get("card") or None), family_export=family)
        if record is None:
            log.repaired("export row without Hub record (lineage from the parent's child lists)", [model_id])
            published.update(author=model_id.split("/", 1)[0] if "/" in model_id else None,
                             likes=None, trendingScore=None, private=False, downloads=None,
                             pipeline_tag=None, library_name=None, createdAt=None)
            if model_id in parent_of:
                parent, relation = parent_of[model_id]
                published["parent_model"] = [parent]
                published[f"{relation}_parent"] = [parent]
        else:
            tags, _ = parse_list(record.get("tags"))
            published.update(
                author=record.get("author"),
                likes=record.get("likes"),
                trendingScore=record.get("trendingScore", record.get("trending_score")),
                private=bool(record.get("private", False)),
                downloads=record.get("downloads"),
                pipeline_tag=record.get("pipeline_tag"),
                library_name=record.get("library_name"),
                createdAt=record.get("createdAt", record.get("created_at")),
                tags=tags,
            )
            parents, _ = parents_from_tags(tags)
            published.update(parents)
            for column, prefix in TAG_PREFIXES.items():
                published[column] = [t[len(prefix):] for t in tags if t.startswith(prefix)]
            published["languages"] = [t for t in tags if len(t) == 2 and t.isalpha() and t.islower()]
        out.append(published)
    return out


def write_sample(export_paths: list[Path], out: Path, log: IssueLog) -> int:
    """Convert exports to one Parquet file in the published schema; returns its row count."""
    rows: list[dict] = []
    for path in sorted(export_paths):
        rows.extend(export_to_published(read_export(path), path.name.removesuffix("_tree.csv"), log))
    table = pa.Table.from_pylist(rows, schema=PUBLISHED_SCHEMA)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out, compression="zstd")
    return table.num_rows

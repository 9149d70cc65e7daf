"""The normalized model table: one schema every source is converted to.

Every source (published data set, Hub API JSONL, bundled sample) ends up as a
pandas DataFrame with exactly these columns, in this order, backed by Arrow
(``pd.ArrowDtype``). List columns are always lists (empty when unknown), never
null; counts are nullable integers (null = the source did not say); the card
features are null when the source says nothing of cards (the Hub's listing), and
``card_length`` is null when it only says that there is one (``has_modelcard``).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

RELATIONS = ("finetune", "adapter", "quantized", "merge", "unspecified")

# parent-list column -> relation it encodes (``parent_model`` holds every
# ``base_model:X`` tag; a parent listed only there has relation "unspecified").
PARENT_COLUMNS = {
    "finetune_parent": "finetune",
    "adapter_parent": "adapter",
    "quantized_parent": "quantized",
    "merge_parent": "merge",
    "parent_model": "unspecified",
}

LIST_COLUMNS = (
    "tags",
    "licenses",
    "languages",
    "datasets",
    "arxiv_papers",
    "regions",
    "parent_model",
    "finetune_parent",
    "adapter_parent",
    "quantized_parent",
    "merge_parent",
)

CARD_EXCERPT_CHARS = 500

_STR = pa.string()
_LIST = pa.list_(pa.string())

MODEL_SCHEMA = pa.schema(
    [
        ("model_id", _STR),
        ("author", _STR),
        ("likes", pa.int64()),
        ("downloads", pa.int64()),
        ("trending_score", pa.float64()),
        ("private", pa.bool_()),
        ("pipeline_tag", _STR),
        ("library_name", _STR),
        ("created_at", pa.timestamp("us", tz="UTC")),
        *[(name, _LIST) for name in LIST_COLUMNS],
        ("has_card", pa.bool_()),
        ("card_length", pa.int64()),
        ("card_excerpt", _STR),
        ("card_auto_generated", pa.bool_()),
    ]
)

MODEL_COLUMNS = tuple(MODEL_SCHEMA.names)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow table in MODEL_SCHEMA -> DataFrame with Arrow-backed columns."""
    return table.select(list(MODEL_COLUMNS)).cast(MODEL_SCHEMA).to_pandas(types_mapper=pd.ArrowDtype)


def empty_models() -> pd.DataFrame:
    return to_frame(MODEL_SCHEMA.empty_table())

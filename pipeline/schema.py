"""The normalized model table: one schema every source is converted to.

Every source (published data set, Hub API JSONL, bundled sample) ends up as a
pandas DataFrame with exactly these columns, in this order, backed by Arrow
(``pd.ArrowDtype``). List columns are always lists (empty when unknown), never
null; counts are nullable integers (null = the source did not say); the card
features are null when the source says nothing of cards (the Hub's listing), and
``card_length`` is null when it only says that there is one (``has_modelcard``).
The schema itself (MODEL_SCHEMA, the first columns of a build's models table) and the parent
RELATIONS are the build format's (pipeline.build_format).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from pipeline.build_format import LIST_COLUMNS, MODEL_SCHEMA, RELATIONS

__all__ = [
    "CARD_EXCERPT_CHARS",
    "LIST_COLUMNS",
    "MODEL_COLUMNS",
    "MODEL_SCHEMA",
    "PARENT_COLUMNS",
    "RELATIONS",
    "empty_models",
    "to_frame",
]

# parent-list column -> relation it encodes (``parent_model`` holds every
# ``base_model:X`` tag; a parent listed only there has relation "unspecified").
PARENT_COLUMNS = {
    "finetune_parent": "finetune",
    "adapter_parent": "adapter",
    "quantized_parent": "quantized",
    "merge_parent": "merge",
    "parent_model": "unspecified",
}

CARD_EXCERPT_CHARS = 512

MODEL_COLUMNS = tuple(MODEL_SCHEMA.names)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow table in MODEL_SCHEMA -> DataFrame with Arrow-backed columns."""
    return (
        table.select(list(MODEL_COLUMNS)).cast(MODEL_SCHEMA).to_pandas(types_mapper=pd.ArrowDtype)
    )


def empty_models() -> pd.DataFrame:
    return to_frame(MODEL_SCHEMA.empty_table())

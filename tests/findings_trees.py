"""Small hand-made builds for the findings tests: models and edges tables with known answers.

The tree (relation on each link)::

    a ─finetune→ b ─finetune→ e        x ─finetune→ y        s (alone)
    │            └─finetune→ f         └─merge→ z
    ├─finetune→ c ─adapter→ g
    └─quantized→ d ─quantized→ h
    outside/model (not a model of the build) ─finetune→ s
"""

from __future__ import annotations

import pyarrow as pa

# name: (root, depth, licenses, languages, pipeline, library, has_card, length, auto, tags)
MODELS = {
    "a": (
        "a",
        0,
        ["apache-2.0"],
        ["en", "fr"],
        "text-generation",
        "transformers",
        True,
        2000,
        False,
        ["llama", "en"],
    ),
    "b": (
        "a",
        1,
        ["apache-2.0", "mit"],
        ["en"],
        "text-generation",
        "transformers",
        True,
        1000,
        True,
        ["llama", "chat", "base_model:a"],
    ),
    "c": (
        "a",
        1,
        [],
        ["en", "de"],
        "text-classification",
        "peft",
        False,
        0,
        False,
        ["llama", "base_model:a"],
    ),
    "d": ("a", 1, ["mit"], [], None, "gguf", False, 0, False, ["gguf", "base_model:a"]),
    "e": (
        "a",
        2,
        ["mit"],
        ["en"],
        "text-generation",
        "transformers",
        True,
        600,
        False,
        ["llama", "chat", "base_model:b"],
    ),
    "f": (
        "a",
        2,
        ["apache-2.0"],
        ["fr"],
        "text-generation",
        "transformers",
        True,
        800,
        True,
        ["chat", "base_model:b"],
    ),
    "g": ("a", 2, ["cc-by-4.0"], ["de"], "text-classification", "peft", False, 0, False, []),
    "h": ("a", 2, ["mit"], [], None, "gguf", False, 0, False, ["gguf"]),
    "x": ("x", 0, ["mit"], ["en"], None, None, True, 100, False, ["bert"]),
    "y": ("x", 1, ["mit"], ["en"], "fill-mask", "transformers", False, 0, False, ["bert"]),
    "z": ("x", 1, [], [], None, None, False, 0, False, []),
    "s": ("s", 0, [], [], None, None, False, 0, False, []),
}
EDGES = [
    ("a", "b", "finetune"),
    ("a", "c", "finetune"),
    ("a", "d", "quantized"),
    ("b", "e", "finetune"),
    ("b", "f", "finetune"),
    ("c", "g", "adapter"),
    ("d", "h", "quantized"),
    ("x", "y", "finetune"),
    ("x", "z", "merge"),
    ("outside/model", "s", "finetune"),
]
NAMES = list(MODELS)


def models_table(models: dict | None = None, cards: bool = True) -> pa.Table:
    """The models table of the tree; ``cards=False``: as a Hub listing (no card text at all)."""
    models = MODELS if models is None else models
    rows = list(models.values())
    column = lambda place: [row[place] for row in rows]  # noqa: E731
    excerpts = [
        f"card of model {name * 3} " * 30 if row[6] else None for name, row in models.items()
    ]
    return pa.table(
        {
            "model_id": list(models),
            "root_id": column(0),
            "depth": pa.array(column(1), pa.int64()),
            "licenses": pa.array(column(2), pa.list_(pa.string())),
            "languages": pa.array(column(3), pa.list_(pa.string())),
            "pipeline_tag": pa.array(column(4), pa.string()),
            "library_name": pa.array(column(5), pa.string()),
            "datasets": pa.array([[] for _ in rows], pa.list_(pa.string())),
            "tags": pa.array(column(9), pa.list_(pa.string())),
            "has_card": pa.array(column(6) if cards else [None] * len(rows), pa.bool_()),
            "card_length": pa.array(column(7) if cards else [None] * len(rows), pa.int64()),
            "card_excerpt": pa.array(excerpts if cards else [None] * len(rows), pa.string()),
            "card_auto_generated": pa.array(column(8) if cards else [None] * len(rows), pa.bool_()),
        }
    )


def edges_table(edges: list | None = None) -> pa.Table:
    edges = EDGES if edges is None else edges
    return pa.table(
        {
            "parent_id": [edge[0] for edge in edges],
            "child_id": [edge[1] for edge in edges],
            "relation": [edge[2] for edge in edges],
            "parent_in_data": [edge[0] in MODELS for edge in edges],
        }
    )

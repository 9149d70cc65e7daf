"""Colours that mean the same thing in every view: a category keeps its colour whatever is drawn."""

from __future__ import annotations

import numpy as np

from dashboard.data import Build
from dashboard.prepare import NO_VALUE
from pipeline.build_format import RELATIONS

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#2f4b7c", "#a05195", "#d45087",
)
OTHER = "other"
OTHER_COLOUR = "#bab0ac"
RELATION_COLOURS = dict(zip(RELATIONS, ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f")))
SIMILAR_COLOUR = "#d62728"


def top_colours(names: list[str], counts: np.ndarray) -> dict[str, str]:
    """The most frequent names, each with its palette colour (by rank); the rest are OTHER."""
    order = [i for i in np.argsort(-counts, kind="stable") if counts[i] > 0 and names[i] != NO_VALUE]
    return {names[i]: PALETTE[rank] for rank, i in enumerate(order[: len(PALETTE)])}


def category_colours(build: Build, column: str) -> dict[str, str]:
    """The colours of a category column's most frequent values in the whole build."""
    return top_colours(build.categories(column), np.bincount(build.codes(column), minlength=len(build.categories(column))))

"""Colours that mean the same thing in every view: a category keeps its colour whatever is drawn."""

from __future__ import annotations

from pipeline.build_format import RELATIONS

PALETTE = (  # one colour for each of the values a legend names (queries.ranking.LEGEND_VALUES)
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#2f4b7c",
    "#a05195",
    "#d45087",
)
OTHER_COLOUR = "#bab0ac"
RELATION_COLOURS = dict(zip(RELATIONS, ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f")))
SIMILAR_COLOUR = "#d62728"


def palette_colours(ranked: list[str]) -> dict[str, str]:
    """Each of the ranked values (most frequent first) with its palette colour, by rank; a value
    not among them is drawn in OTHER_COLOUR."""
    return dict(zip(ranked, PALETTE, strict=False))  # (at most LEGEND_VALUES are ranked)


def group_colours(count: int, coloured: int) -> list[str]:
    """The colours of ``count`` legend groups whose first ``coloured`` each have a colour of their
    own (by rank) and the rest are the other group."""
    return [PALETTE[group] if group < coloured else OTHER_COLOUR for group in range(count)]

"""Colours that mean the same thing in every view: a value keeps its colour whatever is drawn.

A category's values are coloured by their rank among its coloured values, the build's
LEGEND_VALUES most frequent (queries.ranking.coloured_values(build, column).ranked): the map,
its density layer, the network and the growth view all colour a (category, value) with
value_colour, so diffusers is the same orange everywhere. The models without a value and the
other values have a grey each.
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.values import NO_VALUE
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
OTHER_COLOUR = "#bab0ac"  # the values beyond the coloured ones
NONE_COLOUR = "#e3e3e3"  # the models without a value (NO_VALUE), lighter than the other values
RELATION_COLOURS = dict(zip(RELATIONS, ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f")))
SIMILAR_COLOUR = "#d62728"


def value_colour(coloured: Sequence[str], value: str) -> str:
    """The colour of a category's value in every view: the palette colour of its rank among the
    category's coloured values (``coloured``, most frequent first), NONE_COLOUR for NO_VALUE and
    OTHER_COLOUR for any other value (or group of values)."""
    if value == NO_VALUE:
        return NONE_COLOUR
    for rank, name in enumerate(coloured[: len(PALETTE)]):
        if name == value:
            return PALETTE[rank]
    return OTHER_COLOUR


def palette_colours(coloured: Sequence[str]) -> dict[str, str]:
    """Each coloured value (most frequent first) and NO_VALUE with its colour (value_colour); look
    a value up with .get(value, OTHER_COLOUR)."""
    return {value: value_colour(coloured, value) for value in [*coloured[: len(PALETTE)], NO_VALUE]}


def legend_colours(names: Sequence[str], coloured: int) -> list[str]:
    """The colour of each legend group (value_colour) whose first ``coloured`` names are the
    category's coloured values (queries.ranking.TopValues.names of a coloured_values ranking)."""
    return [value_colour(names[:coloured], name) for name in names]

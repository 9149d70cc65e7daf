"""One colour per value in every view, and how a legend names values: "(none)" for the models
without one, the other values once, long values shortened (whole on hover)."""

import numpy as np
import pytest

from dashboard.figures.colours import (
    NONE_COLOUR,
    OTHER_COLOUR,
    PALETTE,
    legend_colours,
    palette_colours,
    value_colour,
)
from dashboard.figures.growth import stacked_figure
from dashboard.figures.map import map_figure
from dashboard.filters import Filters
from dashboard.queries.growth import reconstructed_by_group
from dashboard.queries.map import map_contents
from dashboard.queries.ranking import coloured_values, top_values
from dashboard.values import LEGEND_CHARS, NO_VALUE, OTHER, legend_name


@pytest.fixture(scope="module")
def build(dashboard_build):
    return dashboard_build


def map_colours(build, column: str, rows: np.ndarray) -> dict[str, str]:
    figure = map_figure(map_contents(build, rows, 2, column, "downloads"))
    return {
        trace["name"]: trace["marker"]["color"]
        for trace in figure["data"]
        if trace["mode"] == "markers" and isinstance(trace["marker"].get("color"), str)
    }


def growth_colours(build, column: str, filters: Filters) -> dict[str, str]:
    figure = stacked_figure(reconstructed_by_group(build, filters, column), "by library")
    return {trace.name: trace.line.color for trace in figure.data}


def test_a_value_has_the_same_colour_on_the_map_growth_and_the_network(build):
    """The issue's case: diffusers was orange on the map and red on Growth."""
    coloured = coloured_values(build, "library_name").ranked
    on_map = map_colours(build, "library_name", np.arange(build.size))
    on_growth = growth_colours(build, "library_name", Filters())
    in_network = palette_colours(coloured)  # the network's node colours
    shared = set(on_map) & set(on_growth)
    assert {"transformers", "diffusers", NO_VALUE, OTHER} <= shared
    assert all(on_map[name] == on_growth[name] for name in shared)
    assert all(in_network[name] == on_map[name] for name in shared if name in in_network)
    assert on_map["diffusers"] == value_colour(coloured, "diffusers") == PALETTE[1]
    assert len({on_map[name] for name in coloured if name in on_map}) == len(
        [name for name in coloured if name in on_map]
    )  # every coloured value its own colour

    # whatever is drawn or filtered, a value keeps its colour
    few = map_colours(build, "library_name", np.flatnonzero(build.codes("library_name") == 1))
    text_to_image = growth_colours(build, "library_name", Filters(pipelines=("text-to-image",)))
    assert few["diffusers"] == text_to_image["diffusers"] == on_map["diffusers"]


def test_models_without_a_value_are_none_and_the_other_values_one_group(build):
    """The sample's licenses hold "other" (a license the Hub offers) among the most frequent."""
    top = coloured_values(build, "license")
    assert "other" in top.ranked and top.names[-2:] == [OTHER, NO_VALUE]
    assert top.names.count(OTHER) == 1 and top.names.count("other") == 1
    colours = legend_colours(top.names, len(top.codes))
    assert colours[-2:] == [OTHER_COLOUR, NONE_COLOUR] and colours[:-2] == list(PALETTE)

    none_code = build.categories("license").index(NO_VALUE)
    without = np.flatnonzero(build.codes("license") == none_code)
    assert set(map_colours(build, "license", without)) == {NO_VALUE}  # not "other"

    names = ["mit", NO_VALUE, "apache-2.0", "other", "gpl"]
    ranked = top_values(names, np.array([5, 9, 4, 3, 1]), 2, left_out={NO_VALUE})
    assert ranked.names == ["mit", "apache-2.0", OTHER, NO_VALUE]
    assert ranked.group_of.tolist() == [0, 3, 1, 2, 2]
    assert top_values(names, np.array([5, 9, 0, 0, 0]), 1).names == [NO_VALUE, OTHER]
    assert top_values(names, np.array([5, 0, 4, 0, 0]), 1).names == ["mit", OTHER]


def test_a_legend_shortens_long_values_and_shows_them_whole_on_hover(build):
    short, full = legend_name("intfloat/multilingual-e5-large-instruct-finetuned-on-everything")
    assert len(short) == LEGEND_CHARS and short.endswith("…") and full.startswith("intfloat/")
    assert legend_name("diffusers") == ("diffusers", "diffusers")
    assert len(legend_name("x" * 10**6)[1]) <= 2_000  # a hover never carries megabytes

    by_group = {
        "months": ["2024-01", "2024-02"],
        "groups": ["a-very-long-library-name-from-the-hub <b>", OTHER],
        "cumulative": np.array([[1, 2], [3, 4]]),
        "coloured": ["a-very-long-library-name-from-the-hub <b>"],
    }
    first = stacked_figure(by_group, "by library").data[0]
    assert first.name == "a-very-long-library-nam…" and first.line.color == PALETTE[0]
    assert "a-very-long-library-name-from-the-hub &lt;b&gt;" in first.hovertemplate

"""The map's density layer, its framing and its cluster labels, on the real sample build: the
counts cover every model that passes the filters (all of them, not the point sample), a zoom box
counts only its models, a category splits the counts by legend group; the PNG beneath the points
is transparent exactly where no model is; the first view frames the models; labels never meet
each other nor the plot's edge."""

import base64

import numpy as np
import pytest
from _plotly_utils.png import Reader
from flask import Flask

from dashboard.cache import init_query_cache
from dashboard.data import Build
from dashboard.figures.map import map_figure, point_sizes, size_range
from dashboard.filters import Filters, filter_mask
from dashboard.queries.density import (
    DENSITY_PIXELS,
    canvas_shape,
    density_counts,
    density_layer,
    framing_box,
    map_frame,
    matches_frame,
)
from dashboard.queries.map import (
    LABELLED_CLUSTERS,
    PLOT_PIXELS,
    cluster_labels,
    label_box,
    legend_groups,
    map_contents,
    place_labels,
    short_label,
)
from dashboard.queries.views import map_view


@pytest.fixture(scope="module")
def build(dashboard_build) -> Build:
    return dashboard_build


def whole_box(build: Build) -> tuple[float, float, float, float]:
    x, y = build.numbers("x2d"), build.numbers("y2d")
    return (float(x.min()) - 1, float(x.max()) + 1, float(y.min()) - 1, float(y.max()) + 1)


def inside(build: Build, box) -> np.ndarray:
    x, y = build.numbers("x2d"), build.numbers("y2d")
    x0, x1, y0, y1 = box
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def png_pixels(source: str) -> np.ndarray:
    """A PNG data URI's RGBA pixels (row, column, channel), top row first."""
    assert source.startswith("data:image/png;base64,")
    width, height, rows, info = Reader(bytes=base64.b64decode(source.partition(",")[2])).asRGBA8()
    return np.vstack([np.asarray(row, dtype=np.uint8) for row in rows]).reshape(height, width, 4)


# ---------------------------------------------------------------- counting every model


@pytest.mark.parametrize("filters", [Filters(), Filters(search="gemma"), Filters(min_likes=5)])
def test_the_density_counts_every_model_that_passes_the_filters(build, filters):
    mask = filter_mask(build, filters)
    counts = density_counts(build, mask, whole_box(build), (200, 150))
    assert counts.shape == (1, 150, 200) and counts.dtype == np.uint32
    assert counts.sum() == mask.sum() > 0


def test_a_zoom_box_counts_only_the_models_inside_it(build):
    mask = filter_mask(build, Filters())
    x0, x1, y0, y1 = map_frame(build)
    box = (x0, (x0 + x1) / 2, y0, (y0 + y1) / 2)
    counts = density_counts(build, mask, box, canvas_shape(box))
    assert counts.sum() == (mask & inside(build, box)).sum()
    assert 0 < counts.sum() < build.size


@pytest.mark.parametrize("colour", ["library_name", "license", "cluster", "depth"])
def test_a_category_splits_the_counts_by_legend_group(build, colour):
    mask = filter_mask(build, Filters(search="llama"))
    rows = np.flatnonzero(mask)
    groups, names, _ = legend_groups(build, rows, colour)
    counts = density_counts(build, mask, whole_box(build), (120, 90), groups, len(names))
    assert counts.shape[0] == len(names)
    assert counts.sum(axis=(1, 2)).tolist() == np.bincount(groups, minlength=len(names)).tolist()


def test_the_density_image_is_transparent_exactly_where_no_model_is(build, redis_server):
    box = map_frame(build)
    shape = canvas_shape(box)
    assert max(shape) == DENSITY_PIXELS
    server = Flask("test-density")
    init_query_cache(server, redis_server.url)
    with server.app_context():
        layer = density_layer.cached(build, Filters(), box, shape, "library_name")
        assert density_layer.cached(build, Filters(), box, shape, "library_name") == layer
        keys = len(redis_server.entry_keys())
        density_layer.cached(build, Filters(), box, shape, "downloads")  # another colour
        assert len(redis_server.entry_keys()) == keys + 1
    assert layer.models == (inside(build, box)).sum() and layer.box == box
    pixels = png_pixels(layer.source)
    assert pixels.shape == (shape[1], shape[0], 4)
    counts = density_counts(build, filter_mask(build, Filters()), box, shape)[0][::-1]
    assert ((pixels[:, :, 3] > 0) == (counts > 0)).all()
    assert len(layer.source) < 200_000


def test_the_map_draws_the_density_beneath_the_points_and_its_response_stays_small(build):
    figure, _ = map_view(
        build, Filters(), 2, "library_name", "downloads", 1_000, None, None, False, "", None
    )
    (image,) = figure["layout"]["images"]
    assert image["layer"] == "below" and image["source"].startswith("data:image/png;base64,")
    x0, x1, y0, y1 = map_frame(build)
    assert (image["x"], image["y"], image["sizex"], image["sizey"]) == (x0, y1, x1 - x0, y1 - y0)
    zoomed, _ = map_view(
        build,
        Filters(),
        2,
        "library_name",
        "downloads",
        1_000,
        "box:0,1,0,1",
        None,
        False,
        "",
        None,
    )
    assert zoomed["layout"]["images"][0]["x"] == 0 and zoomed["layout"]["xaxis"]["range"] == [0, 1]
    scene, _ = map_view(
        build, Filters(), 3, "library_name", "downloads", 1_000, None, None, False, "", None
    )
    assert "images" not in scene["layout"]


# ---------------------------------------------------------------- framing


def test_the_first_view_frames_the_models_without_large_margins(build):
    x, y = build.numbers("x2d"), build.numbers("y2d")
    x0, x1, y0, y1 = box = map_frame(build)
    assert inside(build, box).mean() >= 0.99  # the robust extent: a few outliers may fall outside
    for values, low, high in ((x, x0, x1), (y, y0, y1)):
        lo, hi = np.percentile(values, [0.5, 99.5])
        assert low < lo and high > hi  # padded ...
        assert (high - low) < 1.2 * (hi - lo)  # ... by a little
    figure = map_figure(map_contents(build, np.arange(100, dtype=np.int32), 2, view=box))
    assert figure["layout"]["xaxis"]["range"] == [x0, x1]
    assert figure["layout"]["yaxis"]["range"] == [y0, y1]


def test_framing_few_or_single_models():
    assert framing_box(np.zeros(0), np.zeros(0)) is None
    x0, x1, y0, y1 = framing_box(np.array([2.0]), np.array([3.0]))
    assert x0 < 2 < x1 and y0 < 3 < y1 and x1 - x0 > 0.4 and y1 - y0 > 0.4
    x = np.array([0.0, 10.0, 5.0, np.nan])
    x0, x1, y0, y1 = framing_box(x, np.array([1.0, 1.0, 1.0, 7.0]))  # few: all framed, on a line
    assert x0 < 0 and x1 > 10 and y1 - y0 >= 2  # a line gets a box a fifth as high as it is long


def test_zoom_to_matches_frames_the_filtered_models_or_the_given_rows(build):
    filters = Filters(search="gemma")
    box = matches_frame(build, filters)
    mask = filter_mask(build, filters)
    assert (inside(build, box) & mask).sum() >= 0.99 * mask.sum()
    rows = (3, 7)
    x0, x1, y0, y1 = matches_frame(build, Filters(), rows)
    x, y = build.numbers("x2d")[list(rows)], build.numbers("y2d")[list(rows)]
    assert (x0 < x).all() and (x < x1).all() and (y0 < y).all() and (y < y1).all()
    assert matches_frame(build, Filters(), ()) is None
    assert matches_frame(build, Filters(search="no-such-model-anywhere")) is None


# ---------------------------------------------------------------- labels


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


@pytest.mark.parametrize("zoom", [None, 0.5, 0.2])
def test_placed_labels_never_meet_each_other_nor_the_edge(build, zoom):
    x0, x1, y0, y1 = box = map_frame(build)
    if zoom:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hx, hy = (x1 - x0) * zoom / 2, (y1 - y0) * zoom / 2
        x0, x1, y0, y1 = box = (cx - hx, cx + hx, cy - hy, cy + hy)
    labels = cluster_labels(build, 2, np.arange(build.size), box)
    assert len(labels["text"]) <= LABELLED_CLUSTERS and (zoom or labels["text"])
    scale = max((x1 - x0) / PLOT_PIXELS[0], (y1 - y0) / PLOT_PIXELS[1])
    boxes = [label_box(*shown, scale) for shown in zip(labels["text"], labels["x"], labels["y"])]
    for i, (a0, a1, b0, b1) in enumerate(boxes):
        assert x0 <= a0 and a1 <= x1 and y0 <= b0 and b1 <= y1
        assert not any(overlaps(boxes[i], other) for other in boxes[i + 1 :])


def test_crowded_labels_keep_the_largest_and_hide_the_rest():
    texts = ["largest cluster", "second", "third", "far away", "off the edge"]
    xs, ys = [5.0, 5.1, 5.0, 8.0, 9.9], [5.0, 5.0, 5.05, 8.0, 5.0]
    assert place_labels(texts, xs, ys, (0, 10, 0, 10)) == [0, 3]
    assert place_labels(texts, xs, ys, (0, 10, 0, 10), most=1) == [0]


def test_long_cluster_labels_are_cut_at_a_word():
    assert short_label("llama, text-generation, text-generation-inference") == (
        "llama, text-generation"
    )
    assert short_label("a" * 40) == "a" * 27 + "…"
    assert short_label("") == ""


# ---------------------------------------------------------------- legend and 3D points


def test_the_legend_sits_beside_the_plot_with_long_values_in_full_on_hover(build):
    figure = map_figure(map_contents(build, np.arange(build.size, dtype=np.int32), 2))
    legend = figure["layout"]["legend"]
    assert legend["x"] < 0 and legend["xanchor"] == "right"  # outside the plot, on its left
    markers = [t for t in figure["data"] if t["mode"] == "markers"]
    assert all(len(t["name"]) <= 40 and isinstance(t["meta"], str) for t in markers)


def test_3d_points_grow_when_fewer_are_drawn():
    assert size_range(3, 20_000)[0] >= 3
    assert size_range(3, 1_271)[0] > size_range(3, 20_000)[0]
    assert size_range(3, 100)[0] >= 6
    assert size_range(2, 100) == size_range(2, 100_000)
    assert (point_sizes(np.zeros(20_000), 3) == size_range(3, 20_000)[0]).all()


def test_a_zoom_from_the_url_survives_the_first_draw_and_autorange_zooms_out():
    from dashboard.pages.map import zoom_from_relayout

    zoom = "box:2,10,-8,0"
    assert zoom_from_relayout({"autosize": True}, zoom) == zoom  # first drawn, or resized
    assert zoom_from_relayout({"xaxis.autorange": True, "yaxis.autorange": True}, zoom) is None
    box = {"xaxis.range[0]": 1, "xaxis.range[1]": 2, "yaxis.range[0]": 3, "yaxis.range[1]": 4}
    assert zoom_from_relayout(box, zoom) == "box:1,2,3,4"


@pytest.mark.parametrize(
    "zoom", ["box:1,1,2,2", "box:1,2,3,3", "box:-1e308,1e308,0,1", "box:1e-300,2e-300,0,1e-300"]
)
def test_a_zoom_box_without_area_or_beyond_floats_draws_a_view(build, zoom):
    figure, _ = map_view(
        build, Filters(), 2, "library_name", "downloads", 1_000, zoom, None, False, "", None
    )
    x0, x1 = figure["layout"]["xaxis"]["range"]
    y0, y1 = figure["layout"]["yaxis"]["range"]
    assert x1 > x0 and y1 > y0 and figure["layout"]["images"][0]["sizex"] == x1 - x0

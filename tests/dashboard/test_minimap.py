"""The 3D map's minimap on the real sample build: its density counts every model that passes the
filters on the x, y plane of the 3D positions, over one frame for every filter, cached per
filters; a lone model stays visible; its figure is the image and three empty camera marks (the
browser places them), small, and the 3D map's figure carries none of it. The camera conversions
run in the browser (dashboard/assets/minimap.js): tests/browser/test_minimap.py tests them."""

import base64
import json

import numpy as np
import pytest
from _plotly_utils.png import Reader
from flask import Flask

from dashboard.cache import init_query_cache
from dashboard.data import Build
from dashboard.figures.minimap import (
    CAMERA_TRACES,
    MINIMAP_SIZE,
    minimap_figure,
    scene_camera,
    with_camera,
)
from dashboard.filters import Filters, filter_mask
from dashboard.queries.density import count_positions
from dashboard.queries.minimap import MINIMAP_PIXELS, minimap_frame, minimap_layer, spread
from dashboard.queries.views import map_view


@pytest.fixture(scope="module")
def build(dashboard_build) -> Build:
    return dashboard_build


def png_alpha(source: str) -> np.ndarray:
    """A PNG data URI's alpha channel (row, column), top row first."""
    assert source.startswith("data:image/png;base64,")
    width, height, rows, _ = Reader(bytes=base64.b64decode(source.partition(",")[2])).asRGBA8()
    pixels = np.vstack([np.asarray(row, dtype=np.uint8) for row in rows])
    return pixels.reshape(height, width, 4)[:, :, 3]


def in_frame(build: Build, box) -> np.ndarray:
    x, y = build.numbers("x"), build.numbers("y")
    x0, x1, y0, y1 = box
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def test_the_frame_holds_the_3d_positions_of_nearly_every_model(build):
    box = minimap_frame(build)
    x0, x1, y0, y1 = box
    assert x0 < x1 and y0 < y1
    assert in_frame(build, box).mean() >= 0.98  # the robust extent: outliers may fall outside
    assert minimap_frame(build) is box  # computed once per build


@pytest.mark.parametrize("filters", [Filters(), Filters(search="llama"), Filters(min_likes=5)])
def test_the_density_counts_every_model_that_passes_the_filters(build, filters):
    layer = minimap_layer(build, filters)
    mask = filter_mask(build, filters)
    assert layer.box == minimap_frame(build)  # the same frame whatever the filters
    assert layer.models == (mask & in_frame(build, layer.box)).sum() > 0


def test_no_matching_model_is_an_empty_image(build):
    layer = minimap_layer(build, Filters(search="no model is called this"))
    assert layer.models == 0
    assert not png_alpha(layer.source).any()


def test_a_lone_model_shades_the_pixels_around_its_own():
    counts = np.zeros((1, 4, 5), dtype=np.uint32)
    counts[0, 0, 0], counts[0, 2, 3] = 1, 2
    spread_counts = spread(counts)
    assert spread_counts.dtype == np.uint32 and spread_counts.shape == counts.shape
    assert spread_counts[0].tolist() == [
        [1, 1, 0, 0, 0],
        [1, 1, 2, 2, 2],
        [0, 0, 2, 2, 2],
        [0, 0, 2, 2, 2],
    ]


def test_the_image_is_shaded_exactly_around_the_models(build, redis_server):
    server = Flask("test-minimap")
    init_query_cache(server, redis_server.url)
    with server.app_context():
        layer = minimap_layer.cached(build, Filters())
        assert minimap_layer.cached(build, Filters()) == layer
        keys = len(redis_server.entry_keys())
        minimap_layer.cached(build, Filters(search="llama"))  # other filters: another entry
        assert len(redis_server.entry_keys()) == keys + 1
    alpha = png_alpha(layer.source)
    x0, x1, y0, y1 = layer.box
    assert max(alpha.shape) == MINIMAP_PIXELS
    assert alpha.shape[1] / alpha.shape[0] == pytest.approx((x1 - x0) / (y1 - y0), rel=0.02)
    height, width = alpha.shape
    x, y = build.numbers("x"), build.numbers("y")
    counts = count_positions(x, y, layer.box, (width, height))
    assert ((alpha > 0) == (spread(counts)[0][::-1] > 0)).all()
    assert len(layer.source) < 50_000


def test_the_figure_is_the_image_and_empty_camera_marks(build):
    layer = minimap_layer(build, Filters())
    figure = minimap_figure(layer)
    assert [trace["name"] for trace in figure["data"]] == list(CAMERA_TRACES)
    assert all(trace["x"] == [] and trace["y"] == [] for trace in figure["data"])
    layout = figure["layout"]
    assert (layout["width"], layout["height"]) == (MINIMAP_SIZE, MINIMAP_SIZE)
    x0, x1, y0, y1 = layer.box
    assert layout["xaxis"]["range"] == [x0, x1] and layout["yaxis"]["range"] == [y0, y1]
    assert layout["yaxis"]["scaleanchor"] == "x"  # equal scales, as the 3D map's x and y
    (image,) = layout["images"]
    assert image["source"] == layer.source
    assert (image["x"], image["y"], image["sizex"], image["sizey"]) == (x0, y1, x1 - x0, y1 - y0)
    assert len(json.dumps(figure)) < len(layer.source) + 3_000
    assert "images" not in minimap_figure(None)["layout"]  # a build without models


def test_the_3d_map_carries_nothing_of_the_minimap(build):
    figure, _ = map_view(
        build, Filters(), 3, "library_name", "downloads", 1_000, None, None, False, "", None
    )
    assert "images" not in figure["layout"]
    assert all(trace["name"] not in CAMERA_TRACES for trace in figure["data"])


TURNED = {
    "center": {"x": 0.2, "y": -0.1, "z": 0},
    "eye": {"x": 1.05, "y": 0.75, "z": 0.7},
    "up": {"x": 0, "y": 0, "z": 1},
    "projection": {"type": "perspective"},
}


def test_a_reported_camera_is_plain_finite_numbers_or_none():
    assert scene_camera(TURNED) == {
        name: {axis: float(n) for axis, n in vector.items()} if name != "projection" else vector
        for name, vector in TURNED.items()
    }
    eye_only = scene_camera({"eye": {"x": 1, "y": 1, "z": 1}})
    assert eye_only["center"] == {"x": 0, "y": 0, "z": 0} and eye_only["up"]["z"] == 1
    assert "projection" not in eye_only
    assert scene_camera({**TURNED, "projection": {"type": "<b>fisheye</b>"}}).keys() == {
        "center",
        "eye",
        "up",
    }
    for broken in (
        None,
        "camera",
        [],
        {"center": TURNED["center"]},  # no eye
        {**TURNED, "eye": {"x": 1, "y": 1}},
        {**TURNED, "eye": {"x": float("nan"), "y": 1, "z": 1}},
        {**TURNED, "up": {"x": 0, "y": "0", "z": 1}},
        {**TURNED, "center": {"x": True, "y": 0, "z": 0}},
        {**TURNED, "eye": dict(TURNED["center"])},  # on the center: looks nowhere
    ):
        assert scene_camera(broken) is None, broken


def test_a_new_3d_figure_is_drawn_from_the_reported_camera(build):
    scene, _ = map_view(
        build, Filters(), 3, "library_name", "downloads", 1_000, None, None, False, "", None
    )
    first = json.dumps(scene)
    turned = with_camera(scene, TURNED)
    assert turned["layout"]["scene"]["camera"] == scene_camera(TURNED)
    assert turned["data"] is scene["data"]
    assert json.dumps(scene) == first  # the cached figure itself is left as it was
    assert len(json.dumps(turned)) < len(first) + 400  # a camera: a few numbers more
    assert with_camera(scene, {"eye": "nowhere"}) is scene
    assert with_camera(scene, None) is scene
    plane, _ = map_view(
        build, Filters(), 2, "library_name", "downloads", 1_000, None, None, False, "", None
    )
    assert with_camera(plane, TURNED) is plane  # a 2D map has no camera

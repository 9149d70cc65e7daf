"""The 3D map's minimap in a real headless Chromium over the bundled sample: its camera
conversions (dashboard/assets/minimap.js, called in the page), its marks following the 3D camera
(a drag of the scene included), a click on it turning the camera to look at the clicked point
(that point is then drawn at the middle of the scene, through plotly's own camera matrices), the
camera kept when a filter redraws the map, after a click or a turn; the 2D map shows no minimap."""

import math

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

MAP = "#map-graph .js-plotly-plot"
MINIMAP = "#map-minimap .js-plotly-plot"
DIRECTION_SHARE = 0.2  # minimap.js's: the view direction's longest line, a share of the minimap

# JavaScript: the 3D camera, the frame its scene was drawn with, and the minimap's marks and plot
# area (pixels from the minimap's top left corner); null until both are drawn.
STATE = """
const gd = document.querySelector(arguments[0]), mini = document.querySelector(arguments[1]);
const scene = gd && gd._fullLayout && gd._fullLayout.scene;
if (!scene || !scene._scene || !scene._scene.fullSceneLayout || !mini || !mini._fullLayout
    || !mini.data || mini.data.length < 3 || !mini.data[2].x || !mini.data[2].x.length) return null;
const drawn = scene._scene.fullSceneLayout;
const xa = mini._fullLayout.xaxis, ya = mini._fullLayout.yaxis;
const frame = {};
['x', 'y', 'z'].forEach((a) => {
  frame[a] = {lo: drawn[a + 'axis'].range[0], hi: drawn[a + 'axis'].range[1],
              aspect: drawn.aspectratio[a]};
});
return {
  camera: JSON.parse(JSON.stringify(scene.camera)),
  frame: frame,
  marks: mini.data.map((t) => ({x: Array.from(t.x), y: Array.from(t.y)})),
  plot: {left: xa._offset, top: ya._offset, width: xa._length, height: ya._length,
         x: xa.range.slice(), y: ya.range.slice()},
};
"""

# JavaScript: where the 3D scene draws a data point, in clip coordinates (-1 to 1 across the
# scene; 0, 0 its middle), through plotly's own model, view and projection matrices.
PROJECTED = """
const scene = document.querySelector(arguments[0])._fullLayout.scene._scene;
const p = scene.glplot.cameraParams, s = scene.dataScale;
const multiply = (m, v) => [0, 1, 2, 3].map((r) => [0, 1, 2, 3].reduce(
  (sum, c) => sum + m[4 * c + r] * v[c], 0));
const point = [arguments[1] * s[0], arguments[2] * s[1], arguments[3] * s[2], 1];
const clip = multiply(p.projection, multiply(p.view, multiply(p.model, point)));
return [clip[0] / clip[3], clip[1] / clip[3]];
"""


def to_data(frame: dict, point: dict) -> dict:
    """A point of the scene (normalised camera units) in data units (as plotly.js draws it)."""
    return {
        axis: (f["lo"] + f["hi"]) / 2 + point[axis] * (f["hi"] - f["lo"]) / f["aspect"]
        for axis, f in frame.items()
    }


def state(browser) -> dict | None:
    return browser.execute_script(STATE, MAP, MINIMAP)


def close(a: float, b: float, tolerance: float = 1e-6) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def marks_of_camera(now: dict | None) -> bool:
    """Whether the minimap marks the point the camera looks at (within the minimap's box)."""
    if now is None:
        return False
    target = to_data(now["frame"], now["camera"]["center"])
    (tx,), (ty,) = now["marks"][2]["x"], now["marks"][2]["y"]
    plot = now["plot"]
    inside_x = min(plot["x"]) <= target["x"] <= max(plot["x"])
    inside_y = min(plot["y"]) <= target["y"] <= max(plot["y"])
    return (not inside_x or close(tx, target["x"])) and (not inside_y or close(ty, target["y"]))


def displayed(browser, element_id: str) -> bool:
    """Whether the element is shown, read in the page (Dash may redraw it meanwhile)."""
    return browser.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "return !!e && getComputedStyle(e).display !== 'none';",
        element_id,
    )


def drawn_3d_points(browser) -> int:
    return browser.execute_script(
        "const gd = document.querySelector(arguments[0]);"
        "return gd && gd._fullData ? gd._fullData.reduce("
        "(n, t) => n + (t.type === 'scatter3d' && t.customdata ? t.customdata.length : 0), 0) : 0;",
        MAP,
    )


def open_3d_map(browser, url: str, wait_for, wait_until) -> dict:
    browser.get(url)
    wait_for(browser, "#map-minimap-box", timeout=60)
    return wait_until(lambda: state(browser), timeout=60, message="the minimap's camera marks")


# ---------------------------------------------------------------- the conversions (pure)

FRAME = {  # a scene drawn over x -10..30, y 0..10, z -5..5 with aspect ratios 2, 0.5, 1
    "xaxis": {"range": [-10, 30]},
    "yaxis": {"range": [0, 10]},
    "zaxis": {"range": [-5, 5]},
    "aspectratio": {"x": 2, "y": 0.5, "z": 1},
}
CAMERA = {
    "center": {"x": 0.2, "y": -0.1, "z": 0.1},
    "eye": {"x": 1.0, "y": 0.5, "z": 0.6},
    "up": {"x": 0, "y": 0, "z": 1},
    "projection": {"type": "perspective"},
}


def call(browser, function: str, *arguments):
    return browser.execute_script(
        f"const m = window.hfmapMinimap; const frame = m.sceneFrame(arguments[0]);"
        f"return m.{function}(frame, ...arguments[1]);",
        FRAME,
        list(arguments),
    )


@pytest.fixture(scope="module")
def page(browser, dashboard_url, wait_until):
    """Any page of the dashboard: it serves minimap.js, whose functions these tests call."""
    browser.get(dashboard_url + "/distributions")
    wait_until(lambda: browser.execute_script("return !!window.hfmapMinimap"), message="minimap.js")
    return browser


def test_scene_units_and_data_units_convert_both_ways(page):
    # the scene's box spans -aspect/2 .. aspect/2 of each axis around the ranges' middle
    assert call(page, "toData", {"x": 0, "y": 0, "z": 0}) == {"x": 10, "y": 5, "z": 0}
    assert call(page, "toData", {"x": 1, "y": -0.25, "z": 0.5}) == {"x": 30, "y": 0, "z": 5}
    assert call(page, "toScene", {"x": -10, "y": 10, "z": 0}) == {"x": -1, "y": 0.25, "z": 0}
    back = call(page, "toData", call(page, "toScene", {"x": 3.5, "y": 7.25, "z": -1.5}))
    assert all(close(back[a], v) for a, v in {"x": 3.5, "y": 7.25, "z": -1.5}.items())


def test_looking_at_a_point_moves_the_camera_along_the_plane(page):
    moved = call(page, "cameraLookingAt", CAMERA, 25, 2)
    view = call(page, "cameraView", moved)
    before = call(page, "cameraView", CAMERA)
    assert close(view["target"]["x"], 25) and close(view["target"]["y"], 2)
    assert close(view["target"]["z"], before["target"]["z"])  # at the same height
    for axis in "xyz":  # the same distance and direction; up and projection kept
        assert close(
            moved["eye"][axis] - moved["center"][axis], CAMERA["eye"][axis] - CAMERA["center"][axis]
        )
    assert moved["up"] == CAMERA["up"] and moved["projection"] == CAMERA["projection"]


def test_the_marks_show_the_point_looked_at_and_the_side_looked_from(page):
    box = [-10, 30, 0, 10]
    line, camera, target = call(page, "cameraMarks", CAMERA, box)
    view = call(page, "cameraView", CAMERA)
    assert target == {"x": [view["target"]["x"]], "y": [view["target"]["y"]]}
    assert line["x"][1] == target["x"][0] and line["x"][0] == camera["x"][0]
    # towards the eye, as long as the view is flat: the eye is 0.9 up of 1.2 away
    dx, dy = camera["x"][0] - target["x"][0], camera["y"][0] - target["y"][0]
    ex, ey = view["eye"]["x"] - view["target"]["x"], view["eye"]["y"] - view["target"]["y"]
    assert close(dx * ey, dy * ex) and dx * ex > 0 and dy * ey > 0
    look = [CAMERA["eye"][a] - CAMERA["center"][a] for a in "xyz"]
    flat = math.hypot(look[0], look[1]) / math.hypot(*look)
    assert close(math.hypot(dx, dy), DIRECTION_SHARE * 40 * flat)
    # from straight above: no line; looking beyond the box: marked at its edge
    above = {**CAMERA, "eye": {**CAMERA["center"], "z": 2}}
    line, camera, target = call(page, "cameraMarks", above, box)
    assert camera == target and line["x"] == [target["x"][0]] * 2
    beyond = call(page, "cameraLookingAt", CAMERA, 100, -50)
    _, _, target = call(page, "cameraMarks", beyond, box)
    assert target == {"x": [30], "y": [0]}


# ---------------------------------------------------------------- the running map


def test_a_click_on_the_minimap_turns_the_3d_camera_there_and_filters_keep_it(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    before = open_3d_map(browser, dashboard_url + "/?dims=3", wait_for, wait_until)
    assert wait_until(lambda: marks_of_camera(state(browser)), message="marks of the camera")
    plot = before["plot"]
    (x0, x1), (y0, y1) = plot["x"], plot["y"]
    # a point of the minimap a quarter in from its left and top edges, clicked
    cx, cy = x0 + 0.25 * (x1 - x0), y1 - 0.25 * (y1 - y0)
    px = plot["left"] + (cx - x0) / (x1 - x0) * plot["width"]
    py = plot["top"] + (y1 - cy) / (y1 - y0) * plot["height"]
    minimap = browser.find_element(By.CSS_SELECTOR, MINIMAP)
    size = minimap.size
    ActionChains(browser).move_to_element_with_offset(
        minimap, px - size["width"] / 2, py - size["height"] / 2
    ).click().perform()
    after = wait_until(
        lambda: (now := state(browser)) and now["camera"] != before["camera"] and now,
        message="the camera to move",
    )
    frame, camera = after["frame"], after["camera"]
    target, start = to_data(frame, camera["center"]), to_data(frame, before["camera"]["center"])
    pixel = (x1 - x0) / plot["width"]  # a pixel of the minimap, in data units
    assert abs(target["x"] - cx) < 1.5 * pixel and abs(target["y"] - cy) < 1.5 * pixel
    assert close(target["z"], start["z"])  # looks at the clicked point at the same height
    for axis in "xyz":  # from as far, in the same direction
        assert close(
            camera["eye"][axis] - camera["center"][axis],
            before["camera"]["eye"][axis] - before["camera"]["center"][axis],
        )
    # the scene now draws that point at its middle, and the minimap marks it
    wait_until(
        lambda: max(map(abs, browser.execute_script(PROJECTED, MAP, *target.values()))) < 0.01,
        message="the clicked point at the middle of the scene",
    )
    marked = wait_until(lambda: marks_of_camera(now := state(browser)) and now, message="marks")
    assert abs(marked["marks"][2]["x"][0] - before["marks"][2]["x"][0]) > 5 * pixel
    # a filter redraws the map (its points, the minimap's density): the camera stays
    minimum = browser.find_element(By.ID, "filter-min-likes")
    minimum.send_keys(Keys.CONTROL, "a")
    minimum.send_keys("5", Keys.TAB)
    wait_until(lambda: 0 < drawn_3d_points(browser) < 1271, message="the filtered models drawn")
    wait_until(lambda: marks_of_camera(state(browser)), message="the filtered scene marked")
    assert state(browser)["camera"] == camera
    assert console_errors(browser) == []


def test_the_marks_follow_a_turn_of_the_scene(
    browser, dashboard_url, wait_for, wait_until, console_errors
):
    before = open_3d_map(browser, dashboard_url + "/?dims=3", wait_for, wait_until)
    canvas = browser.find_element(By.CSS_SELECTOR, MAP + " .gl-container canvas")
    ActionChains(browser).move_to_element(canvas).click_and_hold().move_by_offset(
        60, 0
    ).move_by_offset(60, 10).release().perform()
    wait_until(
        lambda: (now := state(browser)) and now["camera"]["eye"] != before["camera"]["eye"],
        message="the scene to turn",
    )
    turned = wait_until(
        lambda: (
            marks_of_camera(now := state(browser)) and now["marks"][1] != before["marks"][1] and now
        ),
        message="the camera's mark to turn with it",
    )
    browser.find_element(By.ID, "filter-search").send_keys("llama", Keys.TAB)
    wait_until(lambda: 0 < drawn_3d_points(browser) < 1271, message="the filtered models drawn")
    wait_until(lambda: marks_of_camera(state(browser)), message="the filtered scene marked")
    assert state(browser)["camera"] == turned["camera"]  # the turn is kept
    assert console_errors(browser) == []


def test_the_2d_map_shows_no_minimap(browser, dashboard_url, wait_for, wait_until, console_errors):
    browser.get(dashboard_url + "/")
    wait_for(browser, MAP, timeout=60)
    wait_until(
        lambda: browser.execute_script(
            "const gd = document.querySelector(arguments[0]);"
            "return !!(gd && gd._fullLayout && gd._fullLayout.xaxis && gd._fullData.length);",
            MAP,
        ),
        message="the 2D map",
    )
    assert not displayed(browser, "map-minimap-box")
    browser.find_element(By.CSS_SELECTOR, "#map-dims input[value='3']").click()
    wait_until(lambda: state(browser), timeout=60, message="the minimap's camera marks")
    assert displayed(browser, "map-minimap-box")
    browser.find_element(By.CSS_SELECTOR, "#map-dims input[value='2']").click()
    wait_until(lambda: not displayed(browser, "map-minimap-box"), message="the minimap hidden")
    assert console_errors(browser) == []

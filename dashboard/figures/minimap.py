"""The 3D map's minimap: the matching models' density seen from above (the x, y plane of the 3D
positions, ``queries.minimap``) and where the 3D camera looks; and the camera a new 3D figure
starts from.

The camera's marks are traces the browser moves (dashboard/assets/minimap.js, from the 3D graph's
camera, without asking the server): the line from the camera's side to the point it looks at, the
camera's end of it and that point. The server draws them empty. A click on the minimap turns the
3D camera towards the clicked point, in the browser too.

A new 3D figure (other filters, colours, an opened model) would start from its first camera:
the figure's uirevision does not keep a turned camera in this dcc.Graph (after a turn plotly no
longer holds the camera it turned from, so the next figure's camera wins). So the page keeps the
last camera the browser reported and draws the next figure from it (``with_camera``).
"""

from __future__ import annotations

import math

from dashboard.figures.density import density_image
from dashboard.queries.density import DensityLayer

MINIMAP_SIZE = 170  # the minimap's width and height, in pixels
CAMERA_COLOUR = "#d62728"
IMAGE_OPACITY = 0.9  # the density's (the 2D map's is fainter: points are drawn over it)
# the camera's marks, in the order of the figure's traces (minimap.js moves them by this order)
CAMERA_TRACES = ("view direction", "camera", "looks at")


def minimap_figure(layer: DensityLayer | None) -> dict:
    """The minimap as a plotly figure dict: the density image over its box (equal scales, no
    axes) and the camera's marks, empty until the browser places them. Fixed pixel size: it is
    drawn while hidden (on the 2D map), where plotly could not measure its box."""
    marks = [
        {"mode": "lines", "line": {"color": CAMERA_COLOUR, "width": 2}},
        {"mode": "markers", "marker": {"color": CAMERA_COLOUR, "size": 6, "symbol": "square"}},
        {
            "mode": "markers",
            "marker": {
                "color": CAMERA_COLOUR,
                "size": 11,
                "symbol": "circle-open",
                "line": {"width": 2.5, "color": CAMERA_COLOUR},
            },
        },
    ]
    data = [
        {"type": "scatter", "name": name, "x": [], "y": [], "hoverinfo": "skip", **mark}
        for name, mark in zip(CAMERA_TRACES, marks, strict=True)
    ]
    axis = {"visible": False, "fixedrange": True, "constrain": "domain"}
    layout = {
        "width": MINIMAP_SIZE,
        "height": MINIMAP_SIZE,
        "autosize": False,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "showlegend": False,
        "dragmode": False,
        "hovermode": False,
        "paper_bgcolor": "rgba(255,255,255,0)",
        "plot_bgcolor": "rgba(255,255,255,0)",
        "xaxis": dict(axis),
        "yaxis": {**axis, "scaleanchor": "x"},
    }
    if layer is not None:
        x0, x1, y0, y1 = layer.box
        layout["xaxis"]["range"], layout["yaxis"]["range"] = [x0, x1], [y0, y1]
        layout["images"] = [{**density_image(layer.source, layer.box), "opacity": IMAGE_OPACITY}]
    return {"data": data, "layout": layout}


CAMERA_VECTORS = {  # plotly's layout.scene.camera: its vectors and their defaults
    "eye": None,  # required
    "center": {"x": 0.0, "y": 0.0, "z": 0.0},
    "up": {"x": 0.0, "y": 0.0, "z": 1.0},
}
PROJECTIONS = ("perspective", "orthographic")


def scene_camera(value: object) -> dict | None:
    """A 3D camera the browser reported (plotly's layout.scene.camera) as plain finite numbers:
    its eye, center and up (the two last as plotly's defaults when absent) and its projection
    type; None when it is not such a camera (an eye on the center sees nothing)."""
    if not isinstance(value, dict):
        return None
    camera: dict = {}
    for name, default in CAMERA_VECTORS.items():
        vector = value.get(name)
        if vector is None and default is not None:
            camera[name] = dict(default)
            continue
        if not isinstance(vector, dict):
            return None
        numbers = [vector.get(axis) for axis in "xyz"]
        if not all(
            isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
            for n in numbers
        ):
            return None
        camera[name] = {axis: float(n) for axis, n in zip("xyz", numbers, strict=True)}
    if all(camera["eye"][axis] == camera["center"][axis] for axis in "xyz"):
        return None
    projection = value.get("projection")
    kind = projection.get("type") if isinstance(projection, dict) else None
    if kind in PROJECTIONS:
        camera["projection"] = {"type": kind}
    return camera


def with_camera(figure: dict, camera: object) -> dict:
    """The map's figure drawn from the given camera (``scene_camera``) when it is a 3D figure and
    that is a camera; else the figure as it is. A copy: the figure may be the query cache's."""
    camera = scene_camera(camera)
    scene = figure.get("layout", {}).get("scene")
    if camera is None or not isinstance(scene, dict):
        return figure
    return {**figure, "layout": {**figure["layout"], "scene": {**scene, "camera": camera}}}

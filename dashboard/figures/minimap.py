"""The 3D map's minimap: the matching models' density seen from above (the x, y plane of the 3D
positions, ``queries.minimap``) and where the 3D camera looks.

The camera's marks are traces the browser moves (dashboard/assets/minimap.js, from the 3D graph's
camera, without asking the server): the line from the camera's side to the point it looks at, the
camera's end of it and that point. The server draws them empty; it never knows the camera.
A click on the minimap turns the 3D camera towards the clicked point, in the browser too.
"""

from __future__ import annotations

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

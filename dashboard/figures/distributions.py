"""Histogram figures: server-side bins drawn as bars (a few dozen, whatever the build's size)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.queries.distributions import ATTRIBUTES, Histogram

CURRENT_COLOUR = "#2c7fb8"
ALL_COLOUR = "#c7c7c7"


def bar_positions(
    histogram: Histogram,
) -> tuple[np.ndarray | pd.DatetimeIndex, np.ndarray | pd.TimedeltaIndex]:
    """Bar centres and widths in the x axis' units."""
    edges = histogram.edges
    if histogram.attribute == "created_at":
        starts = pd.to_datetime(edges[:-1], unit="s")
        widths = pd.to_datetime(edges[1:], unit="s") - starts
        return (
            starts + widths / 2,
            widths.total_seconds().to_numpy() * 1000 * 0.9,
        )  # date axes count milliseconds
    return (edges[:-1] + edges[1:]) / 2, np.diff(edges) * 0.95


def histogram_figure(
    histogram: Histogram, height: int = 420, label: str = "filtered models"
) -> go.Figure:
    """Bars of the current set over bars of all models; on a log scale the models at zero or below
    get a bar of their own at the left, labelled "0"."""
    x, widths = bar_positions(histogram)
    figure = go.Figure()
    series = (
        [("all models", histogram.counts_all, histogram.at_most_zero_all, ALL_COLOUR)]
        if histogram.counts_all is not None
        else []
    )
    series.append(
        (
            label if histogram.counts_all is not None else "all models",
            histogram.counts,
            histogram.at_most_zero,
            CURRENT_COLOUR,
        )
    )
    for name, counts, at_most_zero, colour in series:
        xs, ys, ws = x, counts, widths
        if histogram.log:
            xs, ys, ws = (
                np.concatenate([[-0.75], x]),
                np.concatenate([[at_most_zero], counts]),
                np.concatenate([[0.4], widths]),
            )
        figure.add_trace(
            go.Bar(
                x=xs,
                y=ys,
                width=ws,
                name=name,
                marker={"color": colour},
                opacity=0.9,
                hovertemplate="%{y:,} models<extra>" + name + "</extra>",
            )
        )
    title, _ = ATTRIBUTES[histogram.attribute]
    layout = {
        "barmode": "overlay",
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
        "legend": {"orientation": "h", "y": 1.1},
        "yaxis": {"title": {"text": "models"}},
        "xaxis": {"title": {"text": title + (" (log scale)" if histogram.log else "")}},
        "plot_bgcolor": "#ffffff",
    }
    if histogram.log:
        top = int(np.ceil(histogram.edges[-1]))
        layout["xaxis"].update(
            tickvals=[-0.75, *range(0, top + 1)],
            ticktext=["0", *(compact(10**p) for p in range(0, top + 1))],
        )
    figure.update_layout(**layout)
    return figure


def compact(number: float) -> str:
    """1, 10, 100, 1k, 10k, 100k, 1M, … for axis ticks."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if number >= size:
            return f"{number / size:g}{suffix}"
    return f"{number:g}"

"""Growth figures: the cumulative curve (reconstructed and tracked, told apart) and a stacked
area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.colours import value_colour
from dashboard.shown import plotly_text
from dashboard.values import legend_name

RECONSTRUCTED = "the build's models by creation date (reconstructed: deleted models are missing)"
TRACKED = "the Hub's count (tracked snapshots)"


def cumulative_figure(reconstructed: dict, snapshots: list[dict], height: int = 420) -> go.Figure:
    """A dashed line for the reconstructed history, markers joined by a line for the tracked
    counts."""
    figure = go.Figure()
    if len(reconstructed["days"]):
        figure.add_trace(
            go.Scatter(
                x=pd.to_datetime(np.asarray(reconstructed["days"]), unit="s"),
                y=reconstructed["cumulative"],
                mode="lines",
                name=RECONSTRUCTED,
                line={"color": "#7f7f7f", "dash": "dash", "width": 2},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,} models<extra>reconstructed</extra>",
            )
        )
    if snapshots:
        figure.add_trace(
            go.Scatter(
                x=pd.to_datetime([s["taken_at"] for s in snapshots], format="ISO8601"),
                y=[s["total_models"] for s in snapshots],
                mode="lines+markers",
                name=TRACKED,
                marker={"size": 8, "color": "#d62728"},
                line={"color": "#d62728"},
                hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:,} models<extra>tracked</extra>",
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 60, "r": 10, "t": 10, "b": 40},
        plot_bgcolor="#ffffff",
        legend={"orientation": "h", "y": 1.12},
        yaxis={"title": {"text": "models"}, "rangemode": "tozero"},
        hovermode="x unified",
    )
    return figure


def stacked_figure(by_group: dict, title: str, height: int = 380) -> go.Figure:
    """Cumulative models by creation month, stacked by group (reconstructed from creation dates),
    each group in its colour of every view; a long name shortened in the legend, whole on
    hover."""
    figure = go.Figure()
    months = pd.to_datetime(by_group["months"])
    for name, counts in zip(by_group["groups"], by_group["cumulative"], strict=True):
        # a library or pipeline from the build: text, never markup
        short, full = (plotly_text(part, len(part)) for part in legend_name(name))
        figure.add_trace(
            go.Scatter(
                x=months,
                y=counts,
                name=short,
                mode="lines",
                stackgroup="one",
                line={"width": 0.5, "color": value_colour(by_group["coloured"], name)},
                hovertemplate="%{x|%Y-%m}: %{y:,}<extra>" + full + "</extra>",
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 60, "r": 10, "t": 30, "b": 40},
        plot_bgcolor="#ffffff",
        title={"text": title, "font": {"size": 14}},
        yaxis={"title": {"text": "models (cumulative)"}},
    )
    return figure

"""Drift figures: parent -> child transition heat maps, and card length and auto-generated cards by
depth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.queries.drift import MAX_DEPTH_SHOWN
from dashboard.shown import plotly_text


def depth_label(depth: int) -> str:
    return "base" if depth == 0 else f"{depth}+" if depth == MAX_DEPTH_SHOWN else str(depth)


def transition_heatmap(
    labels: list[str], counts: np.ndarray, title: str, height: int = 420
) -> go.Figure:
    """Rows = parent's value, columns = child's; colour = share of the parent row, text = link
    count."""
    labels = [plotly_text(label) for label in labels]  # licenses from the build: text, never markup
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    figure = go.Figure(
        go.Heatmap(
            z=np.round(share, 3),
            x=labels,
            y=labels,
            text=counts,
            texttemplate="%{text:,}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "share of<br>parent row"}},
            hovertemplate="parent %{y} → child %{x}<br>%{text:,} links (%{z:.0%} of the "
            "parent's)<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"title": {"text": "child"}, "side": "bottom", "tickangle": -35},
        yaxis={"title": {"text": "parent"}, "autorange": "reversed"},
    )
    return figure


def card_length_figure(by_depth: pd.DataFrame, height: int = 360) -> go.Figure:
    """Card length by depth as boxes: 10th-90th percentile whiskers, quartile box, median line."""
    labels = [depth_label(d) for d in by_depth["depth"]]
    figure = go.Figure(
        go.Box(
            x=labels,
            q1=by_depth["q1"],
            median=by_depth["median"],
            q3=by_depth["q3"],
            lowerfence=by_depth["p10"],
            upperfence=by_depth["p90"],
            name="card length",
            marker={"color": "#2c7fb8"},
            hoverinfo="y",
        )
    )
    figure.update_layout(
        title={
            "text": "Model card length by family depth (models with a card)",
            "font": {"size": 14},
        },
        height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        showlegend=False,
        xaxis={"title": {"text": "depth"}, "type": "category"},
        yaxis={"title": {"text": "characters"}, "type": "log"},
        plot_bgcolor="#ffffff",
    )
    return figure


def auto_generated_figure(by_depth: pd.DataFrame, height: int = 360) -> go.Figure:
    """Share of auto-generated cards by depth, with the number of models behind each bar."""
    figure = go.Figure(
        go.Bar(
            x=[depth_label(d) for d in by_depth["depth"]],
            y=by_depth["auto_share"],
            customdata=by_depth["auto_known"],
            marker={"color": "#e6550d"},
            hovertemplate="depth %{x}: %{y:.1%} of %{customdata:,} models<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": "Share of auto-generated model cards by family depth", "font": {"size": 14}},
        height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        xaxis={"title": {"text": "depth"}, "type": "category"},
        yaxis={"title": {"text": "auto-generated"}, "tickformat": ".0%", "rangemode": "tozero"},
        plot_bgcolor="#ffffff",
    )
    return figure

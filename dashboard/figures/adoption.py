"""Families over time: one adoption curve per chosen family, and each family's members added per
month by the relation that brought them in (queries.adoption.adoption_curves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.colours import PALETTE, RELATION_COLOURS
from dashboard.queries.adoption import MEMBER_KINDS
from dashboard.shown import plotly_text
from dashboard.values import legend_name

ROOT_COLOUR = "#000000"
KIND_NAMES = {
    "root": "root",
    "finetune": "finetunes",
    "adapter": "adapters",
    "quantized": "quantizations",
    "merge": "merges",
    "unspecified": "unspecified",
}
MIX_ROW_PIXELS = 130
MIX_MARGINS = {"l": 60, "r": 10, "t": 80, "b": 40}


def family_names(root_id: str) -> tuple[str, str]:
    """(short, full): a root id from the build as a legend and a hover show it: plain text, its
    markup characters escaped for plotly."""
    return tuple(plotly_text(part, len(part)) for part in legend_name(root_id))


def drawn(curves: dict) -> list[dict]:
    """The families that have a member with a creation date (the others have no curve)."""
    return [family for family in curves["families"] if family["first"] is not None]


def empty_figure(message: str, height: int = 300) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_layout(
        height=height,
        plot_bgcolor="#ffffff",
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    return figure


def curves_figure(curves: dict, normalized: bool, height: int = 440) -> go.Figure:
    """Cumulative members by creation month, one line per family from its first month on, each
    in a palette colour of its place among the chosen families. Normalized: months since each
    family's first month against its members as a multiple of those it held at the end of that
    month, so families of any age and size start together at (0, 1)."""
    families = drawn(curves)
    if not families:
        return empty_figure("No chosen family has a member with a creation date.", height)
    months = pd.to_datetime(np.asarray(curves["months"]))
    figure = go.Figure()
    for place, family in enumerate(curves["families"]):
        if family["first"] is None:
            continue
        short, full = family_names(family["root_id"])
        colour = PALETTE[place % len(PALETTE)]
        first = family["first"]
        if normalized:
            x, y = np.arange(len(family["normalized"])), family["normalized"]
            hover = "month %{x}: ×%{y:,.2f}<extra>" + full + "</extra>"
        else:
            x, y = months[first:], family["cumulative"][first:]
            hover = "%{x|%Y-%m}: %{y:,} members<extra>" + full + "</extra>"
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=short,
                mode="lines+markers",
                marker={"size": 4},
                line={"color": colour, "width": 2},
                hovertemplate=hover,
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 60, "r": 10, "t": 10, "b": 40},
        plot_bgcolor="#ffffff",
        legend={"orientation": "h", "y": -0.15},
        xaxis={
            "title": {
                "text": "months since the family's first month" if normalized else "creation month"
            }
        },
        yaxis={
            "title": {
                "text": "members ÷ members in its first month"
                if normalized
                else "members (cumulative)"
            },
            "rangemode": "tozero",
        },
    )
    return figure


def mix_figure(curves: dict) -> go.Figure:
    """One panel per family (chosen order): the members it gained each month, stacked by how
    they came in (its root, or their primary-parent link's relation), in the relation colours
    of every view."""
    families = drawn(curves)
    if not families:
        return empty_figure("No chosen family has a member with a creation date.")
    months = pd.to_datetime(np.asarray(curves["months"]))
    figure = make_subplots(
        rows=len(families),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.08, 0.4 / len(families)),
        subplot_titles=[family_names(family["root_id"])[0] for family in families],
    )
    colours = {"root": ROOT_COLOUR, **RELATION_COLOURS}
    for place, family in enumerate(families, start=1):
        full = family_names(family["root_id"])[1]
        for kind, added in zip(MEMBER_KINDS, family["added"], strict=True):
            if not added.any():
                continue
            figure.add_trace(
                go.Bar(  # every month, so a family of one month has bars as wide as the others'
                    x=months,
                    y=added,
                    name=KIND_NAMES[kind],
                    legendgroup=kind,
                    showlegend=kind not in shown_kinds(families[: place - 1]),
                    marker={"color": colours[kind]},
                    hovertemplate="%{x|%Y-%m}: %{y:,} "
                    + KIND_NAMES[kind]
                    + "<extra>"
                    + full
                    + "</extra>",
                ),
                row=place,
                col=1,
            )
    plotted = MIX_ROW_PIXELS * len(families)  # the panels' height, without the margins
    figure.update_layout(
        barmode="stack",
        height=plotted + MIX_MARGINS["t"] + MIX_MARGINS["b"],
        margin=MIX_MARGINS,
        plot_bgcolor="#ffffff",
        # above the first panel's title
        legend={"orientation": "h", "y": 1 + 28 / plotted, "yanchor": "bottom", "x": 0},
        bargap=0.1,
    )
    figure.update_annotations(font={"size": 12})
    figure.update_yaxes(rangemode="tozero")
    return figure


def shown_kinds(families: list[dict]) -> set[str]:
    """The member kinds drawn for these families (each named once in the legend)."""
    return {
        kind
        for family in families
        for kind, added in zip(MEMBER_KINDS, family["added"], strict=True)
        if added.any()
    }

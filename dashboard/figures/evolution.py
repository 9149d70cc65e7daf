"""Evolution figures and sentences: the paper's findings read off a build's findings dict (the
shape of findings.report; the paper's own numbers come from findings.paper and are only ever
put beside them, labelled as the paper's).

Every function takes the findings dict (or one part of it) and returns a plotly figure or plain
text; a number that could not be computed (None) is said in words, never shown as "nan".
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.shown import plotly_text

CONFIGURATIONS = {
    "different_families": "different families",
    "same_family": "same family",
    "parent_child": "parent–child",
    "siblings": "siblings",
    "grandparent_grandchild": "grandparent–grandchild",
    "aunt_uncle_niece_nephew": "aunt/uncle–niece/nephew",
    "first_cousins": "first cousins",
}
MEASURES = {
    "metadata_levenshtein": "metadata edit similarity",
    "card_tfidf": "card TF-IDF cosine",
    "tags_jaccard": "tag Jaccard",
    "embedding_cosine": "embedding cosine",
}
NO_PAIRS_REASON = {
    "card_tfidf": "since no pair has two cards of at least 512 characters of text, neither "
    "auto-generated (a Hub listing has no card text)",
    "embedding_cosine": "since the build has no embeddings for them",
}
COMPARISONS = (("siblings", "parent_child"), ("same_family", "different_families"))
POINT_COLOUR = "#2c7fb8"
AGAINST_COLOUR = "#d7301f"


def number_text(value: float | None, digits: int = 2) -> str:
    """A number with ``digits`` decimals, "not computable" for None."""
    return "not computable" if value is None else f"{value:.{digits}f}"


def interval_text(result: dict) -> str:
    """ "0.61 [0.59, 0.63]": a mean and its 95% interval."""
    low, high = number_text(result.get("ci_low")), number_text(result.get("ci_high"))
    return f"{number_text(result.get('mean'))} [{low}, {high}]"


def has_pairs(result: dict | None) -> bool:
    return bool(result) and result.get("pairs", 0) > 0 and result.get("mean") is not None


def measures_with_pairs(resemblance: dict) -> list[str]:
    """The measures (in MEASURES order) that some configuration has pairs for."""
    return [
        measure
        for measure in MEASURES
        if any(has_pairs(results.get(measure)) for results in resemblance.values())
    ]


def sentence_start(words: str) -> str:
    """words with the first letter upper case (the rest kept: "TF-IDF" stays)."""
    return words[:1].upper() + words[1:]


def missing_measure_sentences(resemblance: dict) -> list[str]:
    """One sentence per measure without any pair, saying why."""
    return [
        f"{sentence_start(MEASURES[measure])}: no pairs in this build, "
        f"{NO_PAIRS_REASON.get(measure, 'no pair of models has it')}."
        for measure in MEASURES
        if measure not in measures_with_pairs(resemblance)
    ]


def _compare(first: dict, second: dict) -> str:
    """Whether the first configuration's pairs are more alike, less alike, or no different."""
    if first["ci_low"] > second["ci_high"]:
        return "more alike"
    if first["ci_high"] < second["ci_low"]:
        return "less alike"
    return "no different (the intervals overlap)"


def finding_sentences(resemblance: dict) -> list[str]:
    """The finding in sentences with this build's numbers, one per measure with pairs, e.g.
    "Metadata edit similarity: siblings 0.61 [0.59, 0.63] vs parent–child 0.54 [0.52, 0.56]
    (more alike); same family … vs different families … (more alike)." """
    sentences = []
    for measure in measures_with_pairs(resemblance):
        parts = []
        for first, second in COMPARISONS:
            one = resemblance.get(first, {}).get(measure)
            other = resemblance.get(second, {}).get(measure)
            if has_pairs(one) and has_pairs(other):
                parts.append(
                    f"{CONFIGURATIONS[first]} {interval_text(one)} vs {CONFIGURATIONS[second]} "
                    f"{interval_text(other)} ({_compare(one, other)})"
                )
            else:
                missing = [
                    CONFIGURATIONS[name]
                    for name, result in ((first, one), (second, other))
                    if not has_pairs(result)
                ]
                parts.append(f"no {' and no '.join(missing)} pairs to compare")
        sentences.append(f"{sentence_start(MEASURES[measure])}: {'; '.join(parts)}.")
    return sentences


def resemblance_figure(resemblance: dict, height: int = 380) -> go.Figure:
    """Per measure with pairs, the configurations side by side: the mean as a point and its 95%
    interval as error bars; the pair count in the hover. Configurations without pairs for a
    measure are left out of its panel."""
    measures = measures_with_pairs(resemblance)
    if not measures:
        figure = go.Figure()
        figure.add_annotation(text="No pairs to compare in this build.", showarrow=False)
        figure.update_layout(height=height, xaxis={"visible": False}, yaxis={"visible": False})
        return figure
    figure = make_subplots(
        rows=1,
        cols=len(measures),
        shared_yaxes=True,
        subplot_titles=[MEASURES[measure] for measure in measures],
        horizontal_spacing=0.03,
    )
    for column, measure in enumerate(measures, start=1):
        shown = [
            (name, resemblance[name][measure])
            for name in CONFIGURATIONS
            if has_pairs(resemblance.get(name, {}).get(measure))
        ]
        means = [result["mean"] for _, result in shown]
        figure.add_trace(
            go.Scatter(
                x=means,
                y=[CONFIGURATIONS[name] for name, _ in shown],
                mode="markers",
                marker={"color": POINT_COLOUR, "size": 9},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [r["ci_high"] - r["mean"] for _, r in shown],
                    "arrayminus": [r["mean"] - r["ci_low"] for _, r in shown],
                    "color": POINT_COLOUR,
                    "thickness": 2,
                    "width": 5,
                },
                customdata=[[r["ci_low"], r["ci_high"], r["pairs"]] for _, r in shown],
                hovertemplate="%{y}: %{x:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
                "<br>%{customdata[2]:,} pairs<extra>" + MEASURES[measure] + "</extra>",
                name=MEASURES[measure],
                showlegend=False,
            ),
            row=1,
            col=column,
        )
    figure.update_yaxes(
        categoryorder="array",
        categoryarray=list(reversed(CONFIGURATIONS.values())),
        type="category",
    )
    figure.update_xaxes(zeroline=False, gridcolor="#eeeeee")
    figure.update_annotations(font={"size": 12})
    figure.update_layout(
        title={
            "text": "Family resemblance: mean similarity and 95% interval",
            "font": {"size": 14},
        },
        height=height,
        margin={"l": 10, "r": 10, "t": 70, "b": 30},
        plot_bgcolor="#ffffff",
    )
    return figure


def ordering_figure(trait: str, ordering: dict, height_per_value: int = 22) -> go.Figure:
    """A trait's best order as a ranked chain, first (upstream) at the top; the directed edges that
    go against the order drawn as red arrows (from the lower value up to the higher one)."""
    order = [plotly_text(value, 30) for value in ordering.get("order") or []]
    height = max(160, 70 + height_per_value * len(order))
    figure = go.Figure()
    if not order:
        figure.add_annotation(text=f"No {trait} changes to order.", showarrow=False)
        figure.update_layout(
            height=height, xaxis={"visible": False}, yaxis={"visible": False}, margin={"t": 10}
        )
        return figure
    ranks = list(range(1, len(order) + 1))
    figure.add_trace(
        go.Scatter(
            x=[0] * len(order),
            y=ranks,
            mode="lines+markers+text",
            text=[f"{rank}. {value}" for rank, value in zip(ranks, order)],
            textposition="middle right",
            textfont={"size": 11},
            line={"color": "#bbbbbb"},
            marker={"color": POINT_COLOUR, "size": 7},
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        )
    )
    position = {value: rank for rank, value in enumerate(ordering["order"], start=1)}
    for source, target in ordering.get("disagreeing") or []:
        if source in position and target in position:
            figure.add_annotation(
                x=-0.05,
                y=position[target],
                ax=-0.05 - 0.08 * (1 + abs(position[source] - position[target]) ** 0.5),
                ay=position[source],
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                showarrow=True,
                arrowhead=3,
                arrowcolor=AGAINST_COLOUR,
                arrowwidth=1.5,
                text="",
            )
    figure.update_layout(
        height=height,
        margin={"l": 5, "r": 5, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-0.6, 2.0], "fixedrange": True},
        yaxis={"visible": False, "autorange": "reversed", "fixedrange": True},
        plot_bgcolor="#ffffff",
    )
    return figure


def family_size_figure(structure: dict, height: int = 320) -> go.Figure:
    """The family size distribution as a complementary CDF on log-log axes."""
    points = structure.get("family_size_ccdf") or []
    figure = go.Figure(
        go.Scatter(
            x=[point["size"] for point in points],
            y=[point["share_at_least"] for point in points],
            mode="lines+markers",
            line={"shape": "hv", "color": POINT_COLOUR},
            hovertemplate="%{y:.2%} of families have %{x:,} models or more<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": "Family size (complementary CDF)", "font": {"size": 14}},
        height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        xaxis={"title": {"text": "family size (models)"}, "type": "log"},
        yaxis={"title": {"text": "share of families ≥ size"}, "type": "log"},
        plot_bgcolor="#ffffff",
    )
    return figure


def depth_figure(structure: dict, height: int = 320) -> go.Figure:
    """How many models sit at each depth below their family's root."""
    rows = structure.get("depth_distribution") or []
    figure = go.Figure(
        go.Bar(
            x=[str(row["depth"]) for row in rows],
            y=[row["models"] for row in rows],
            marker={"color": POINT_COLOUR},
            hovertemplate="depth %{x}: %{y:,} models<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": "Models by depth", "font": {"size": 14}},
        height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        xaxis={"title": {"text": "depth (0: a root)"}, "type": "category"},
        yaxis={"title": {"text": "models"}, "type": "log"},
        plot_bgcolor="#ffffff",
    )
    return figure

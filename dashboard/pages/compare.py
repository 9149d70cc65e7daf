"""The Compare view: two models side by side (issue 16), at /compare?a=MODEL_ID&b=MODEL_ID.

Their traits with the differences marked (a row that differs has the class "compare-differs"
and a badge), their similarity by each measure of the Evolution view beside the values those
measures typically take in this build, and the path between them through their closest common
ancestor. The numbers come from dashboard.queries.compare and dashboard.queries.lineage_path;
the filters do not apply here (they stay in the URL for the other views). Everything from the
Hub is shown as text.
"""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from dashboard.components import chips, model_link, page_frame
from dashboard.figures.evolution import CONFIGURATIONS, MEASURES, number_text
from dashboard.queries.compare import Comparison, compare_models, typical_similarity
from dashboard.queries.lineage_path import (
    CUT_AT_CYCLE,
    CUT_AT_LIMIT,
    CUT_AT_MISSING,
    PATH_LIMIT,
    LineagePath,
)
from dashboard.queries.models import find_models
from dashboard.serving import served_build
from dashboard.shown import LABEL_CHARS, TEXT_CHARS, URL_VALUE_CHARS, shorten, tooltip
from dashboard.url_state import from_query, mapping, to_query
from dashboard.values import text

HERE = "/compare"
CHIP_KINDS = {"licenses": "license", "languages": "language", "tags": "tag", "data sets": "dataset"}
WHY_NOT_COMPUTABLE = {  # why a measure leaves a pair out
    "card_tfidf": "it needs two cards of at least 512 characters, neither auto-generated",
    "tags_jaccard": "neither model has a tag",
    "embedding_cosine": "one of them has no embedding (an empty text, or none in this build)",
    "metadata_levenshtein": "",
}
CUT_WORDS = {
    CUT_AT_CYCLE: "a path up stops at a cycle",
    CUT_AT_LIMIT: f"a path up goes on beyond the {PATH_LIMIT} links followed",
    CUT_AT_MISSING: "a path up stops at a parent outside this build",
}


@dataclass(frozen=True)
class CompareState:
    """The view's own settings, from the URL or the pickers: the two models (a: the opened model
    when the URL names no a)."""

    a: str = ""
    b: str = ""

    def __post_init__(self):
        object.__setattr__(self, "a", text(self.a))
        object.__setattr__(self, "b", text(self.b))

    @classmethod
    def from_query(cls, view: dict) -> CompareState:
        return cls(view.get("a") or view.get("model"), view.get("b"))

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {"a": self.a or None, "b": self.b or None}


def picker_options(typed: str, chosen: str) -> list[dict]:
    """A picker's options: the ids the navbar's finder offers for the typed text (ids too long for
    a URL left out), the chosen one kept first."""
    found = find_models.cached(served_build(), typed, 20)
    ids = ([chosen] if chosen else []) + [model for model in found if model != chosen]
    return [
        {"label": shorten(model, LABEL_CHARS), "value": model}
        for model in ids
        if len(model) <= URL_VALUE_CHARS
    ]


def picker(id_: str, label: str, chosen: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=id_, className="mb-0 small"),
            dcc.Dropdown(
                id=id_,
                # the chosen model alone: the options callback offers more as the page loads
                options=[{"label": shorten(chosen, LABEL_CHARS), "value": chosen}]
                if chosen
                else [],
                value=chosen or None,
                placeholder="Find a model…",
            ),
        ],
        className="mb-2",
    )


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = CompareState.from_query(view)
    shown, unknown = comparison_block(state, to_query(filters, view))
    controls = [
        html.H6("Compare", className="card-title"),
        picker("compare-a", "Model A", "" if state.a in unknown else state.a),
        picker("compare-b", "Model B", "" if state.b in unknown else state.b),
        html.P(
            "Their traits side by side, how alike they are by each measure of the Evolution "
            "view, and their lineage. The filters do not apply here.",
            className="small text-muted mt-2 mb-0",
        ),
        dcc.Store(id="compare-focus"),
    ]
    content = [html.Div(shown, id="compare-result")]
    return page_frame(build, filters, view, controls, content)


# ---------------------------------------------------------------- sections (plain functions)


def comparison_block(state: CompareState, search: str) -> tuple[list, list[str]]:
    """What the view shows for two chosen models, and the chosen ids the build does not hold: the
    comparison, else a sentence for each unknown id, or a hint for a missing choice."""
    build = served_build()
    comparison = compare_models.cached(build, state.a, state.b) if state.a and state.b else None
    if comparison is not None:
        return comparison_sections(comparison, typical_similarity.cached(build), search), []
    chosen = dict.fromkeys(model for model in (state.a, state.b) if model)
    unknown = [model for model in chosen if build.row(model) is None]
    if unknown:
        return [
            html.P(f"No model {shorten(model)} in this build.", className="compare-unknown")
            for model in unknown
        ], unknown
    hint = "Pick two models to compare."
    if state.a:
        hint = f"Pick a second model (Model B) to compare with {shorten(state.a)}."
    return [html.P(hint, className="text-muted", id="compare-hint")], []


def comparison_sections(comparison: Comparison, typical: dict, search: str) -> list:
    return [
        header(comparison, search),
        html.H5("Traits", className="mt-3"),
        html.P(
            f"{comparison.differing} of {len(comparison.traits)} traits differ.",
            id="compare-differ-count",
            className="small mb-1",
        ),
        trait_table(comparison),
        html.H5("Similarity", className="mt-3"),
        similarity_table(comparison.similarity, typical),
        html.H5("Lineage", className="mt-3"),
        lineage_block(comparison.path, search),
    ]


def header(comparison: Comparison, search: str) -> dbc.Row:
    def side(letter: str, model: str) -> dbc.Col:
        return dbc.Col(
            html.H5(
                [html.Span(f"{letter} ", className="text-muted"), open_link(model, search)],
                id=f"compare-{letter.lower()}-id",
            ),
            md=6,
        )

    return dbc.Row([side("A", comparison.a), side("B", comparison.b)])


def open_link(model: str, search: str):
    """A model's id as a link opening it on the map, keeping the filters."""
    return model_link(model, "/", search, HERE)


def values_cell(trait, values: list[str]) -> list:
    if trait.listed:
        return chips(values, CHIP_KINDS[trait.name]) if values else []
    return [
        value if len(value) <= TEXT_CHARS else html.Span(shorten(value), title=tooltip(value))
        for value in values
    ]


def trait_table(comparison: Comparison) -> dbc.Table:
    """One row per trait: what only A has, what both have, what only B has (a single value is
    "both" when it is the same); a row that differs is marked."""
    rows = []
    for trait in comparison.traits:
        if trait.listed:
            only_a, both, only_b = trait.only_a, trait.both, trait.only_b
        elif trait.differ:
            only_a, both, only_b = trait.a, [], trait.b
        else:
            only_a, both, only_b = [], trait.a, []
        name = [trait.name]
        if trait.differ:
            name += [" ", dbc.Badge("differs", color="warning", className="text-dark fw-normal")]
        rows.append(
            html.Tr(
                [
                    html.Th(name, className="fw-normal text-nowrap"),
                    html.Td(values_cell(trait, only_a), className="compare-only-a"),
                    html.Td(values_cell(trait, both) or none_cell(trait), className="compare-both"),
                    html.Td(values_cell(trait, only_b), className="compare-only-b"),
                ],
                className="compare-differs table-warning" if trait.differ else "compare-same",
                **{"data-trait": trait.name},
            )
        )
    return dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [html.Th("trait")]
                    + [
                        html.Th(name, style={"width": "28%"})
                        for name in ("only A", "both", "only B")
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        id="compare-traits",
        size="sm",
        bordered=True,
        className="small",
        style={"overflowWrap": "anywhere"},
    )


def none_cell(trait) -> list:
    """The "both" cell of a list trait neither model has a value of."""
    return [html.Span("none", className="text-muted")] if trait.listed and not trait.differ else []


def similarity_table(similarity: dict, typical: dict) -> html.Div:
    """Each measure's value for this pair beside its mean over the build's sampled pairs of each
    configuration (the Evolution view's numbers)."""
    configurations = list(typical)
    rows = []
    for measure, label in MEASURES.items():
        value = similarity.get(measure)
        pair = (
            html.Span("not computable", title=WHY_NOT_COMPUTABLE[measure], className="text-muted")
            if value is None
            else html.B(number_text(value))
        )
        means = [number_text(typical[name][measure].get("mean")) for name in configurations]
        rows.append([label, pair, *means])
    header = [
        "measure",
        "this pair",
        *(f"{CONFIGURATIONS[name]} (mean)" for name in configurations),
    ]
    notes = [
        "Similarities in [0, 1] (1: alike). The card TF-IDF of one pair is fitted on its two "
        "cards alone."
    ]
    if configurations:
        notes.append(
            "The means are the build's own, over the pairs the Evolution view samples for each "
            "configuration."
        )
    else:
        notes.append("This build stores no findings: no typical values to compare with.")
    return html.Div(
        [
            dbc.Table(
                [html.Thead(html.Tr([html.Th(cell) for cell in header]))]
                + [html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows])],
                id="compare-similarity",
                size="sm",
                bordered=True,
                className="small mb-1",
            ),
            html.P(" ".join(notes), className="small text-muted"),
        ]
    )


def lineage_block(path: LineagePath | None, search: str) -> html.Div:
    """The path from A up to the closest common ancestor and down to B, each link with its
    relation; or the sentence that they share none."""
    if path is None:
        return html.Div("Reload the page: the build changed.", id="compare-path")
    if path.ancestor is None:
        why = CUT_WORDS.get(path.cut)
        sentence = "They share no ancestor" + (f" found ({why})." if why else ".")
        return html.Div(html.P(sentence, className="small"), id="compare-path")
    if not path.up and not path.down:
        return html.Div(html.P("A and B are the same model.", className="small"), id="compare-path")
    # the models from A up to the ancestor and down to B, and the relations between them
    models = [(path.up[0].child if path.up else path.ancestor, True)]
    models += [(link.parent, link.parent_in_data) for link in path.up]
    models += [(link.child, True) for link in reversed(path.down)]
    relations = [("↑", link.relation) for link in path.up]
    relations += [("↓", link.relation) for link in reversed(path.down)]
    shown = []
    for place, (model, in_data) in enumerate(models):
        letter = "A" if place == 0 else "B" if place == len(models) - 1 else ""
        shown.append(step(model, letter, in_data, search, ancestor=place == len(path.up)))
        if place < len(relations):
            shown.append(arrow(*relations[place]))
    return html.Div(
        [html.P(path_sentence(path), className="small mb-1"), html.Div(shown, className="small")],
        id="compare-path",
    )


def path_sentence(path: LineagePath) -> str:
    def links(count: int) -> str:
        return f"{count} link{'s' if count != 1 else ''}"

    if not path.up:
        return f"A is an ancestor of B, {links(len(path.down))} up."
    if not path.down:
        return f"B is an ancestor of A, {links(len(path.up))} up."
    return (
        f"A is {links(len(path.up))} and B {links(len(path.down))} below their closest common "
        f"ancestor, {shorten(path.ancestor)}."
    )


def step(model: str, letter: str, in_data: bool, search: str, ancestor: bool) -> html.Div:
    shown = (
        open_link(model, search)
        if in_data
        else html.Span(shorten(model), title="not in this build")
    )
    parts = [html.Span(f"{letter} ", className="text-muted")] if letter else []
    parts.append(shown)
    if ancestor:
        parts.append(html.Span(" closest common ancestor", className="text-muted fw-normal"))
    return html.Div(
        parts, className="compare-step" + (" compare-ancestor fw-bold" if ancestor else "")
    )


def arrow(direction: str, relation: str) -> html.Div:
    return html.Div([f"{direction} ", *chips([relation], "relation")], className="ms-3")


# ---------------------------------------------------------------- callbacks (thin)


@callback(
    Output("compare-a", "options"), Input("compare-a", "search_value"), State("compare-a", "value")
)
def offer_a(typed, chosen):
    return picker_options(text(typed), text(chosen))


@callback(
    Output("compare-b", "options"), Input("compare-b", "search_value"), State("compare-b", "value")
)
def offer_b(typed, chosen):
    return picker_options(text(typed), text(chosen))


@callback(
    Output("compare-result", "children"),
    inputs=dict(
        a=Input("compare-a", "value"),
        b=Input("compare-b", "value"),
        search=Input("url", "search"),  # its links keep the filters of the moment
    ),
    prevent_initial_call=True,
)
def update_comparison(a, b, search):
    shown, _ = comparison_block(CompareState(a, b), text(search))
    return shown


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(a=Input("compare-a", "value"), b=Input("compare-b", "value")),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(a, b, view):
    return {**mapping(view), **CompareState(a, b).to_query()}


# with A chosen and B not, the B picker takes the focus (the details card's "compare with…")
clientside_callback(
    """function (b, a) {
        if (a && !b) {
            const picker = document.getElementById('compare-b');  // the dropdown's button
            if (picker) { picker.focus(); }
        }
        return window.dash_clientside.no_update;
    }""",
    Output("compare-focus", "data"),
    Input("compare-b", "value"),
    State("compare-a", "value"),
)

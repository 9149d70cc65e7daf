"""The Evolution view: the paper's central findings read off the build (issue 14 §1-5): family
resemblance, mutation rates, drift in numbers, trait orderings and lineage structure, each beside
the paper's own numbers, labelled as the paper's.

The numbers come from dashboard.queries.findings (the build's stored findings, or a variant for
one relation or the opened model's family, computed on demand and cached); the filters do not
apply here. Everything from the Hub (ids, licenses, languages) is shown as text.
"""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import page_frame
from dashboard.figures.evolution import (
    CONFIGURATIONS,
    depth_figure,
    family_size_figure,
    finding_sentences,
    missing_measure_sentences,
    number_text,
    ordering_figure,
    resemblance_figure,
    sentence_start,
)
from dashboard.queries.findings import (
    FindingsUnavailableError,
    ScopeError,
    build_findings,
    findings_relations,
)
from dashboard.queries.models import model_details
from dashboard.serving import served_build
from dashboard.shown import URL_VALUE_CHARS, count_text, shorten, tooltip
from dashboard.url_state import from_query, mapping, model_href, unless_default
from dashboard.values import text
from findings.paper import PAPER_FINDINGS

DEFAULT_RELATION = "default"  # the findings' own default: finetune links where typed, else all
TRAITS = {
    "license": "licenses",
    "language": "languages",
    "pipeline": "pipelines",
    "library": "libraries",
}
PAPER = "the paper's"
PAPER_SOURCE = PAPER_FINDINGS["source"]
GRAPH = {"config": {"displayModeBar": False}}


@dataclass(frozen=True)
class EvolutionState:
    """The view's own settings (the field defaults are the view's), from the URL or the controls:
    the links studied, and whether only the opened model's family counts."""

    relation: str = DEFAULT_RELATION
    family_only: bool = False

    def __post_init__(self):
        object.__setattr__(self, "relation", text(self.relation, DEFAULT_RELATION))
        object.__setattr__(self, "family_only", self.family_only is True)

    @classmethod
    def from_query(cls, view: dict) -> EvolutionState:
        return cls(view.get("relation"), view.get("family") == "1")

    def to_query(self) -> dict:
        """The view's entries of the URL query (None: left out)."""
        return {
            "relation": unless_default(self.relation, DEFAULT_RELATION),
            "family": "1" if self.family_only else None,
        }

    def chosen_relation(self, relations: list[str]) -> str | None:
        """The relation to ask the findings for: None for the default or one the build lacks."""
        return self.relation if self.relation in relations else None


def relation_options(relations: list[str]) -> list[dict]:
    default = "default: finetune links where the build types its links, else every link"
    named = {"all": "every link"}
    return [{"label": default, "value": DEFAULT_RELATION}] + [
        {"label": named.get(name, f"{name} links"), "value": name} for name in relations
    ]


def family_of(model_id: str) -> str | None:
    """The root id of the opened model's family, None without one (or one the build lacks)."""
    details = model_details.cached(served_build(), model_id) if model_id else None
    return None if details is None else details["record"].get("root_id")


def layout(**query) -> html.Div:
    build = served_build()
    filters, view = from_query(query)
    state = EvolutionState.from_query(view)
    relations = findings_relations.cached(build)
    root = family_of(view.get("model", ""))
    family_label = (
        f"This family only: {shorten(root, 80)}"
        if root
        else "This family only (open a model first)"
    )
    controls = [
        html.H6("Evolution", className="card-title"),
        dbc.Label("Links studied", html_for="evolution-relation", className="mb-0 small"),
        dcc.Dropdown(
            id="evolution-relation",
            options=relation_options(relations),
            value=state.relation if state.relation in relations else DEFAULT_RELATION,
            clearable=False,
        ),
        dbc.Switch(
            id="evolution-family",
            label=family_label,
            value=state.family_only and root is not None,
            disabled=root is None,
            className="mt-2 small",
        ),
        dcc.Store(id="evolution-root", data=root),
        html.P(
            "The paper finds that models resemble their family, that siblings resemble each "
            "other more than parent and child (mutations are fast and directed), and that traits "
            "change at measurable rates in a consistent order. These are this build's numbers; "
            "the paper's stand beside them, labelled as the paper's. The filters do not apply "
            "here.",
            className="small text-muted mt-2",
        ),
    ]
    content = [html.Div(id="evolution-scope", className="small text-muted mb-2")]
    content += [
        html.H5("Family resemblance", className="mt-2"),
        html.Div(id="evolution-finding", className="mb-2"),
        dcc.Graph(id="evolution-resemblance", **GRAPH),
        html.Div(id="evolution-pairs", className="small text-muted mb-3"),
        html.H5("Mutation rates"),
        html.Div(id="evolution-mutation", className="mb-3"),
        html.H5("Drift in numbers"),
        html.Div(id="evolution-drift", className="mb-3"),
        html.H5("Trait orderings"),
        html.Div(id="evolution-orderings", className="mb-3"),
        html.H5("Lineage structure"),
        html.Div(id="evolution-structure", className="mb-3"),
        html.Ul(id="evolution-notes", className="small text-muted"),
    ]
    return page_frame(build, filters, view, controls, content)


# ---------------------------------------------------------------- sections (plain functions)


def share_text(value: float | None) -> str:
    return "not computable" if value is None else f"{value:.1%}"


def scope_sentence(findings: dict) -> str:
    scope = findings["scope"]
    where = f"the family of {scope['family']}" if scope.get("family") else "the whole build"
    return (
        f"{sentence_start(where)}: {count_text(scope['models'])} models, "
        f"{count_text(scope['links'])} parent → child links ({scope['relation']}); "
        f"resemblance pairs follow {scope['resemblance_links']} links (seed {scope['seed']})."
    )


def finding_block(findings: dict) -> html.Div:
    resemblance = findings["resemblance"]
    sentences = finding_sentences(resemblance) + missing_measure_sentences(resemblance)
    return html.Div(
        [
            html.P(
                "Siblings against parent and child, and one family against different families, "
                "in this build (mean [95% interval]):",
                className="small mb-1",
            ),
            html.Ul([html.Li(sentence) for sentence in sentences], className="small mb-0"),
        ]
    )


def pairs_sentence(findings: dict) -> str:
    available = findings.get("resemblance_available") or {}
    counts = ", ".join(
        f"{label} {count_text(available.get(name, 0))}" for name, label in CONFIGURATIONS.items()
    )
    return (
        "Up to 1,000 pairs per configuration are sampled (hover a point for its pair count); "
        f"pairs in the data: {counts}."
    )


def table(header: list, rows: list[list], id_: str) -> dbc.Table:
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(cell) for cell in header]))]
        + [html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows])],
        id=id_,
        size="sm",
        bordered=True,
        className="small mb-1",
    )


def paper_header(what: str) -> html.Span:
    return html.Span(f"{PAPER} {what}", className="paper-label", title=PAPER_SOURCE)


def mutation_table(findings: dict) -> html.Div:
    paper = PAPER_FINDINGS["mutation_rates"]
    rows = []
    for trait, result in findings["mutation_rates"].items():
        theirs = paper.get(trait)
        rows.append(
            [
                trait,
                number_text(result["rate"], 3),
                count_text(result["links"]),
                result["relation"],
                f"{theirs['rate']:.3f} ({theirs['links']:,} links)" if theirs else "not reported",
            ]
        )
    header = ["trait", "rate (this build)", "links", "relation", paper_header("rate (links)")]
    return html.Div(
        [
            table(header, rows, "evolution-mutation-table"),
            html.P(
                "Rate: the mean of |A ∪ B| − |A ∩ B| over |A ∪ B| (A the parent's set, B the "
                "child's) over links where both report the trait. " + paper_note(),
                className="small text-muted",
            ),
        ]
    )


def paper_note() -> str:
    return f"The paper's column: {PAPER_SOURCE}."


def drift_table(findings: dict) -> html.Div:
    drift, paper = findings["drift"], PAPER_FINDINGS["drift"]
    length = drift["card_length"]
    rows = [
        ["models with a card", *_pair_texts(drift["card_share"], share=True), "not reported"],
        [
            "auto-generated cards (of those with one)",
            *_pair_texts(drift["auto_generated_share"], share=True),
            f"{paper['auto_generated_share']['change']:+.1%} from parent to child",
        ],
        [
            f"card length, characters ({count_text(length.get('links', 0))} links where both "
            "have a card)",
            *_pair_texts(length, share=False, digits=0),
            f"{paper['card_length']['parent']:,} → {paper['card_length']['child']:,}",
        ],
        [
            "languages per model",
            *_pair_texts(drift["languages"], share=False),
            f"{paper['languages']['parent']:.2f} → {paper['languages']['child']:.2f}",
        ],
    ]
    header = ["over parent → child links", "parent", "child", "change", paper_header("numbers")]
    said = [drift["cards"]] if drift.get("cards") else []
    return html.Div(
        [
            html.P(said, className="small fw-bold mb-1", id="evolution-no-cards") if said else None,
            table(header, rows, "evolution-drift-table"),
            html.P(
                f"Over {count_text(drift['links'])} links. " + paper_note(),
                className="small text-muted",
            ),
        ]
    )


def _pair_texts(pair: dict, share: bool, digits: int = 2) -> list[str]:
    def one(value):
        if value is None:
            return "not computable"
        return f"{value:.1%}" if share else f"{value:,.{digits}f}"

    change = pair.get("change")
    change_text = "not computable" if change is None else None
    if change_text is None:
        change_text = f"{change:+.1%}" if share else f"{change:+,.{digits}f}"
    return [one(pair.get("parent")), one(pair.get("child")), change_text]


def ordering_block(trait: str, ordering: dict) -> dbc.Col:
    paper = PAPER_FINDINGS["orderings"].get(trait)
    against = ordering.get("disagreeing") or []
    against_text = (
        "Against the order: "
        + ", ".join(f"{shorten(a, 40)} → {shorten(b, 40)}" for a, b in against)
        if against
        else "No edge goes against the order."
    )
    theirs = (
        f"{PAPER}: {paper['edges_agreeing']}/{paper['edges_total']} edges agree, "
        f"{paper['share_down']:.1%} down" + (f", {paper['last']} last" if paper.get("last") else "")
    )
    return dbc.Col(
        [
            html.H6(TRAITS[trait].capitalize(), className="mb-0"),
            html.Div(
                f"{ordering['edges_agreeing']}/{ordering['edges_total']} edges agree, "
                f"{share_text(ordering['share_down'])} of the counts flow down "
                f"({count_text(ordering['links'])} links)",
                className="small",
            ),
            dcc.Graph(figure=ordering_figure(trait, ordering), **GRAPH),
            html.Div(against_text, className="small " + ("text-danger" if against else "")),
            html.Div(theirs, className="small text-muted paper-label", title=PAPER_SOURCE),
        ],
        lg=3,
        md=6,
        id=f"evolution-order-{trait}",
    )


def orderings_block(findings: dict) -> html.Div:
    return html.Div(
        [
            html.P(
                "Each trait's values in the order that agrees with the most directed edges of the "
                "transition graph (first: upstream); red arrows: edges that go against it.",
                className="small text-muted mb-1",
            ),
            dbc.Row(
                [
                    ordering_block(trait, findings["orderings"][trait])
                    for trait in TRAITS
                    if trait in findings["orderings"]
                ]
            ),
        ]
    )


def family_hrefs(root_id: str, search: str, state: EvolutionState) -> tuple[str, str] | None:
    """Links opening a family in the network view and in this view (its family only), keeping
    the filters and the shared state; None when the id is too long for a URL."""
    if len(root_id) > URL_VALUE_CHARS:
        return None
    here = EvolutionState(state.relation, True).to_query()
    return (
        model_href(root_id, "/network", search, "/evolution", show="family"),
        model_href(root_id, "/evolution", search, "/evolution", **here),
    )


def family_list(families: list[dict], search: str, state: EvolutionState, id_: str) -> html.Ol:
    items = []
    for family in families:
        root = family["root_id"]
        hrefs = family_hrefs(root, search, state)
        name = (
            dcc.Link(shorten(root, 80), href=hrefs[0], title=tooltip(root))
            if hrefs
            else html.Span(shorten(root, 80), title="an id too long to open")
        )
        extra = [" · ", dcc.Link("its findings", href=hrefs[1])] if hrefs else []
        facts = f" {count_text(family['size'])} models, depth {family['max_depth']}"
        items.append(html.Li([name, html.Span(facts, className="text-muted"), *extra]))
    return html.Ol(items, className="small", id=id_)


def paper_leaves_sentence(paper_leaves: dict) -> html.P:
    said = "; ".join(
        f"{leaves['leaf_share']:.2%} of {name} models are leaves ({leaves['source']})"
        for name, leaves in paper_leaves.items()
    )
    return html.P(
        f"{sentence_start(PAPER)}: {said}.", className="small text-muted paper-label mb-1"
    )


def structure_block(findings: dict, search: str, state: EvolutionState) -> html.Div:
    structure = findings["structure"]
    paper_leaves = PAPER_FINDINGS["structure"]["leaves_by_relation"]
    edge_rows = [
        [name, count_text(counts["edges"]), count_text(counts["inside_data"])]
        for name, counts in structure["edges_by_relation"].items()
    ]
    leaf_rows = [
        [
            name,
            count_text(leaves["children"]),
            share_text(leaves["leaf_share"]),
            f"{paper_leaves[name]['leaf_share']:.2%} ({paper_leaves[name]['source']})"
            if name in paper_leaves
            else "not reported",
        ]
        for name, leaves in structure["leaves_by_relation"].items()
    ]
    return html.Div(
        [
            html.P(
                f"{count_text(structure['models'])} models in "
                f"{count_text(structure['families'])} families.",
                className="small mb-1",
            ),
            dbc.Row(
                [
                    dbc.Col(dcc.Graph(figure=family_size_figure(structure), **GRAPH), xl=6),
                    dbc.Col(dcc.Graph(figure=depth_figure(structure), **GRAPH), xl=6),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H6("Edges by relation"),
                            table(
                                ["relation", "edges", "inside the data"],
                                edge_rows,
                                "evolution-edges-table",
                            ),
                        ],
                        xl=6,
                    ),
                    dbc.Col(
                        [
                            html.H6("Share of leaves by relation"),
                            paper_leaves_sentence(paper_leaves),
                            table(
                                [
                                    "relation",
                                    "children",
                                    "leaves (this build)",
                                    paper_header("leaves"),
                                ],
                                leaf_rows,
                                "evolution-leaves-table",
                            ),
                        ],
                        xl=6,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H6("Largest families"),
                            family_list(
                                structure["largest_families"], search, state, "evolution-largest"
                            ),
                        ],
                        xl=6,
                    ),
                    dbc.Col(
                        [
                            html.H6("Deepest families"),
                            family_list(
                                structure["deepest_families"], search, state, "evolution-deepest"
                            ),
                        ],
                        xl=6,
                    ),
                ]
            ),
        ]
    )


# ---------------------------------------------------------------- callbacks (thin)

STATE_INPUTS = {
    "relation": Input("evolution-relation", "value"),
    "family_only": Input("evolution-family", "value"),
}


@callback(
    Output("evolution-scope", "children"),
    Output("evolution-finding", "children"),
    Output("evolution-resemblance", "figure"),
    Output("evolution-pairs", "children"),
    Output("evolution-mutation", "children"),
    Output("evolution-drift", "children"),
    Output("evolution-orderings", "children"),
    Output("evolution-structure", "children"),
    Output("evolution-notes", "children"),
    # the URL too: the family links keep the filters as they are now
    inputs=dict(state=STATE_INPUTS, search=Input("url", "search")),
    state=dict(root=State("evolution-root", "data")),
)
def update_evolution(state, root, search):
    build = served_build()
    state = EvolutionState(**state)
    relation = state.chosen_relation(findings_relations.cached(build))
    family = text(root) if state.family_only and text(root) else None
    try:
        findings = build_findings.cached(build, relation, family)
    except (ScopeError, FindingsUnavailableError) as error:
        empty = resemblance_figure({})
        return dbc.Alert(str(error), color="warning"), "", empty, "", "", "", "", "", []
    return (
        scope_sentence(findings),
        finding_block(findings),
        resemblance_figure(findings["resemblance"]),
        pairs_sentence(findings),
        mutation_table(findings),
        drift_table(findings),
        orderings_block(findings),
        structure_block(findings, text(search), state),
        [html.Li(note) for note in findings.get("notes", [])],
    )


@callback(
    Output("view-state", "data", allow_duplicate=True),
    inputs=dict(state=STATE_INPUTS),
    state=dict(view=State("view-state", "data")),
    prevent_initial_call=True,
)
def remember_view(state, view):
    return {**mapping(view), **EvolutionState(**state).to_query()}

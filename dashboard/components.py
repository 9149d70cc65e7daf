"""Layout pieces shared by the views: the page frame with its filter panel, and the model details
card."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import Input, dcc, html
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from dashboard.card_markdown import card_markdown
from dashboard.data import Build
from dashboard.filters import Filters
from dashboard.model_lists import card_lists
from dashboard.queries.lineage_path import (
    CUT_AT_CYCLE,
    CUT_AT_LIMIT,
    CUT_AT_MISSING,
    PATH_LIMIT,
    RootPath,
)
from dashboard.queries.models import category_options
from dashboard.shown import FULL_VALUE_CHARS, URL_VALUE_CHARS, count_text, shorten, tooltip
from dashboard.url_state import model_href

HUB_URL = "https://huggingface.co"
CHIPS_SHOWN = 40  # of each kind (licenses, tags, …) in the details card
LANGUAGES_SHOWN = 12  # Whisper names 99: the rest are "+87 more", named on hover
CHILDREN_SHOWN = 10  # the most downloaded children listed; the family network shows them all
PATH_HEAD, PATH_TAIL = 6, 4  # links of a longer path to root shown: its first and last ones
CHIP_CHARS = 80
ARXIV_ID = re.compile(
    r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(v\d+)?"
)  # 2106.09685, hep-th/9901001v2
OTHER_VIEWS = (("/network", "Family network →"), ("/", "On the map →"))
CHIP_COLOURS = {
    "license": "success",
    "language": "info",
    "tag": "secondary",
    "dataset": "warning",
    "relation": "primary",
}

FILTER_INPUTS = {  # the filter panel as one callback argument: {Filters field: its value}
    "search": Input("filter-search", "value"),
    "min_downloads": Input("filter-min-downloads", "value"),
    "min_likes": Input("filter-min-likes", "value"),
    "libraries": Input("filter-libraries", "value"),
    "pipelines": Input("filter-pipelines", "value"),
    "licenses": Input("filter-licenses", "value"),
    "base_only": Input("filter-base-only", "value"),
}


def filter_panel(build: Build, filters: Filters) -> dbc.Card:
    """Search, minimum counts, library / pipeline / license choices and the base-only switch."""

    def choice(id_: str, label: str, column: str, chosen: tuple[str, ...]) -> html.Div:
        return html.Div(
            [
                dbc.Label(label, html_for=id_, className="mb-0 small"),
                dcc.Dropdown(
                    id=id_,
                    options=category_options.cached(build, column),
                    value=list(chosen),
                    multi=True,
                    placeholder="any",
                ),
            ],
            className="mb-2",
        )

    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Filters", className="card-title"),
                dbc.Label(
                    "Search id, author or tag", html_for="filter-search", className="mb-0 small"
                ),
                dbc.Input(
                    id="filter-search",
                    type="search",
                    value=filters.search,
                    debounce=0.4,
                    placeholder="e.g. llama, gguf, TheBloke",
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Min downloads",
                                    html_for="filter-min-downloads",
                                    className="mb-0 small",
                                ),
                                dbc.Input(
                                    id="filter-min-downloads",
                                    type="number",
                                    min=0,
                                    value=filters.min_downloads,
                                    debounce=True,
                                ),
                            ]
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Min likes", html_for="filter-min-likes", className="mb-0 small"
                                ),
                                dbc.Input(
                                    id="filter-min-likes",
                                    type="number",
                                    min=0,
                                    value=filters.min_likes,
                                    debounce=True,
                                ),
                            ]
                        ),
                    ],
                    className="mb-2 g-2",
                ),
                choice("filter-libraries", "Library", "library_name", filters.libraries),
                choice("filter-pipelines", "Pipeline", "pipeline_tag", filters.pipelines),
                choice("filter-licenses", "License", "license", filters.licenses),
                dbc.Switch(
                    id="filter-base-only", label="Base models only", value=filters.base_only
                ),
            ]
        ),
        className="mb-3",
    )


def page_frame(
    build: Build,
    filters: Filters,
    view: dict,
    controls: list,
    content: list,
    side: list | None = None,
) -> html.Div:
    """A view: the filter panel and the view's controls on the left, its content in the middle,
    an optional side column (model details) on the right; ``view`` seeds the URL state."""
    left = [filter_panel(build, filters)]
    if controls:
        left.append(dbc.Card(dbc.CardBody(controls), className="mb-3"))
    columns = [dbc.Col(left, lg=3, md=4), dbc.Col(content, lg=6 if side else 9, md=8)]
    if side:
        columns.append(dbc.Col(side, lg=3, md=12))
    return html.Div([dcc.Store(id="view-state", data=view), dbc.Row(columns)])


def chips(values, kind: str, limit: int = CHIPS_SHOWN) -> list:
    """Coloured badges for the first ``limit`` values (each shortened), and "+N more" naming the
    rest on hover."""
    values = list(values or ())
    shown = [
        dbc.Badge(
            shorten(value, CHIP_CHARS),
            title=tooltip(value),
            color=CHIP_COLOURS[kind],
            className="me-1 mb-1 fw-normal text-start",
            style={"whiteSpace": "normal", "overflowWrap": "anywhere"},  # a long value wraps
        )
        for value in values[:limit]
    ]
    if len(values) > limit:
        rest = shorten(", ".join(str(value) for value in values[limit:]), FULL_VALUE_CHARS)
        shown.append(
            html.Span(
                f"+{len(values) - limit:,} more", title=rest, className="small text-muted me-1"
            )
        )
    return shown


def hub_url(repo_id, kind: str = "") -> str | None:
    """The Hub page of a model (kind "") or data set (kind "datasets") id, or None when the id is
    not a valid Hub repo id (huggingface_hub's rules: no "..", no scheme, no spaces, at most one
    "/"): an id from the build never makes a link that leads off the Hub's repo pages."""
    try:
        validate_repo_id(str(repo_id))
    except HFValidationError:
        return None
    return "/".join([HUB_URL, *([kind] if kind else []), quote(str(repo_id), safe="/")])


def arxiv_url(paper) -> str | None:
    """The arXiv page of a paper id, or None when the value is not an arXiv id."""
    return f"https://arxiv.org/abs/{paper}" if ARXIV_ID.fullmatch(str(paper)) else None


def external_link(
    text: str, url: str | None, title: str | None = None, **props
) -> html.A | html.Span:
    """A link that opens in a new tab, or the text alone when there is no valid URL for it."""
    if url is None:
        return html.Span(text, title="not a valid Hub or arXiv id: no link", **props)
    return html.A(text, href=url, target="_blank", rel="noopener noreferrer", title=title, **props)


def model_link(
    model_id: str, page: str = "/", search: str = "", here: str = ""
) -> dcc.Link | html.Span:
    """A link that opens another model in the view at page (the map by default), keeping the
    current URL's filters and state (``search``, on the view at ``here``, the page itself when not
    given; url_state.model_href). Its text is the id, shortened; an id too long for a URL is shown
    without a link."""
    if len(model_id) > URL_VALUE_CHARS:
        return html.Span(shorten(model_id), title="an id too long to open")
    return dcc.Link(
        shorten(model_id),
        href=model_href(model_id, page, search, here or page),
        title=tooltip(model_id),
    )


def card_fact(record: dict) -> str:
    """The details card's line on the model card: unknown where the source said nothing of cards."""
    if record.get("has_card") is None:
        return "unknown (the source has no card data)"
    if not record["has_card"]:
        return "none"
    length = record.get("card_length")
    size = "yes" if length is None else f"{count_text(length)} characters"
    return size + (", auto-generated" if record.get("card_auto_generated") else "")


def fact_text(value):
    """A fact as the card shows it: a link as it is, None as "unknown", anything else shortened."""
    if isinstance(value, dcc.Link | html.Span):
        return value
    return "unknown" if value is None else shorten(value)


def details_card(details: dict | None, page: str = "/", search: str = "") -> dbc.Card | html.Div:
    """Everything known of one model, each thing once: metadata, coloured chips, links, the card's
    excerpt as sanitized Markdown, parents, children, similar models. Links to models keep the
    current URL's filters and state (``search``, on the view at ``page``)."""
    if details is None:
        return html.Div(
            "Click a model to see its details.", className="text-muted small", id="details-empty"
        )
    record = details["record"]
    model_id = record["model_id"]
    created = record.get("created_at")
    lists = card_lists(record)

    def link(other: str):
        return model_link(other, page, search)

    root = record.get("root_id")
    facts = [
        ("author", record.get("author")),
        ("library", record.get("library_name")),
        ("pipeline", record.get("pipeline_tag")),
        ("downloads", count_text(record.get("downloads"))),
        ("likes", count_text(record.get("likes"))),
        ("trending", count_text(record.get("trending_score"))),
        (
            "created",
            "unknown"
            if created is None
            else datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d"),
        ),
        ("family", link(root) if root and root != model_id else root),
        ("family size", f"{details['family_size']:,}"),
        ("depth", record.get("depth")),
        ("children", f"{details['n_children']:,}"),
        ("descendants", f"{record.get('n_descendants', 0):,}"),
        ("card", card_fact(record)),
    ]
    parents = [
        html.Li(
            [
                link(p["model_id"])
                if p["in_data"]
                else html.Span(shorten(p["model_id"]), title="not in this build"),
                " ",
                *chips([p["relation"]], "relation"),
            ]
        )
        for p in details["parents"]
    ]
    more_parents = details["n_parents"] - len(details["parents"])
    children = [
        html.Li([link(c["model_id"]), " ", *chips([c["relation"]], "relation")])
        for c in details["children"][:CHILDREN_SHOWN]
    ]
    similar = [
        html.Li([link(s["model_id"]), html.Span(f" {s['similarity']:.2f}", className="text-muted")])
        for s in details["similar"]
    ]
    more_children = details["n_children"] - len(children)
    excerpt = card_markdown(record.get("card_excerpt"))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(
                    external_link(shorten(model_id), hub_url(model_id), tooltip(model_id)),
                    id="details-model-id",
                ),
                html.Div(
                    [
                        dcc.Link(
                            text,
                            href=model_href(model_id, target, search, page),
                            className="me-3 small d-inline-block",
                            id=f"details-to-{target.strip('/') or 'map'}",
                        )
                        for target, text in OTHER_VIEWS
                        if target != page
                    ]
                    + [
                        dcc.Link(  # the Compare view with this model as A (B to be picked)
                            "Compare with…",
                            href=model_href(model_id, "/compare", search, page, a=model_id),
                            className="me-3 small d-inline-block",
                            id="details-compare",
                        )
                    ]
                    if len(model_id) <= URL_VALUE_CHARS
                    else [],
                    className="mb-2",
                ),
                html.Dl(
                    sum(
                        (
                            [
                                html.Dt(k, className="col-5 fw-normal text-muted"),
                                html.Dd(fact_text(v), className="col-7 mb-0"),
                            ]
                            for k, v in facts
                        ),
                        [],
                    ),
                    className="row small mb-2",
                ),
                html.Div(
                    chips(lists["licenses"], "license")
                    + chips(lists["languages"], "language", LANGUAGES_SHOWN),
                    id="details-chips",
                ),
                html.Div(chips(lists["tags"], "tag"), className="mb-1", id="details-tags"),
                html.Div(  # each link a box of its own: lines break between links, not inside
                    [
                        external_link(
                            f"arXiv:{shorten(paper, 40)}",
                            arxiv_url(paper),
                            className="me-2 small d-inline-block",
                        )
                        for paper in lists["arxiv_papers"][:CHIPS_SHOWN]
                    ],
                    id="details-papers",
                ),
                html.Div(
                    [
                        external_link(
                            shorten(dataset, CHIP_CHARS),
                            hub_url(dataset, "datasets"),
                            className="me-2 small d-inline-block",
                        )
                        for dataset in lists["datasets"][:CHIPS_SHOWN]
                    ],
                    id="details-datasets",
                ),
                dcc.Markdown(
                    excerpt,
                    id="details-excerpt",
                    link_target="_blank",
                    dangerously_allow_html=False,
                    className="small text-muted mt-2 card-excerpt",
                    style={"maxHeight": "10em", "overflowY": "auto"},
                )
                if excerpt
                else None,
                html.H6("Parents", className="mt-2"),
                html.Ul(
                    parents
                    + ([html.Li(f"… and {more_parents:,} more")] if more_parents > 0 else [])
                    or [html.Li("none: a base model")],
                    className="small",
                    id="details-parents",
                ),
                html.H6("Path to root", className="mt-2"),
                path_to_root_list(details["path_to_root"], link),
                html.H6(f"Children ({details['n_children']:,})"),
                html.Ul(
                    children
                    + ([html.Li(f"… and {more_children:,} more")] if more_children > 0 else [])
                    or [html.Li("none")],
                    className="small",
                    id="details-children",
                ),
                html.H6("Similar models"),
                html.Ul(similar or [html.Li("none")], className="small", id="details-similar"),
            ]
        ),
        id="model-details-card",
        style={"overflowWrap": "anywhere", "minWidth": 0},
    )


PATH_ENDS = {  # why a path to root stopped short of the family's root (lineage_path.RootPath.cut)
    CUT_AT_CYCLE: "The path stops here: the next parent is already on it (a cycle in the data).",
    CUT_AT_LIMIT: f"The path stops here, after {PATH_LIMIT} links; it goes on.",
    CUT_AT_MISSING: "The path stops here: that parent is not in this build.",
}


def path_to_root_list(path: RootPath, link) -> html.Ul:
    """A model's path to its family's root, one item per primary parent with the relation that
    links it (``link`` makes a model's link); a long path as its first and last links with
    "… N more links …" between them, and a note where the path stops short of the root."""
    items = [
        html.Li(
            [
                *chips([step.relation], "relation"),
                link(step.parent)
                if step.parent_in_data
                else html.Span(shorten(step.parent), title="not in this build"),
            ]
        )
        for step in path.links
    ]
    if len(items) > PATH_HEAD + PATH_TAIL + 1:
        hidden = len(items) - PATH_HEAD - PATH_TAIL
        items[PATH_HEAD:-PATH_TAIL] = [
            html.Li(f"… {hidden:,} more links …", className="text-muted")
        ]
    if path.cut is not None:
        items.append(html.Li(PATH_ENDS[path.cut], className="text-muted"))
    return html.Ul(
        items or [html.Li("none: the root of its family")],
        className="small",
        id="details-path-to-root",
    )

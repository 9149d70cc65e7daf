"""The details card (issue 15): each value once, the card's excerpt as sanitized Markdown, links
to models that keep the URL's filters and settings, and the model finder's ranking. On the real
sample build and on hand-made hostile text."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from dash import dcc
from dash_pages import components
from markdown_it import MarkdownIt

from dashboard.card_markdown import card_markdown
from dashboard.components import (
    CHILDREN_SHOWN,
    LANGUAGES_SHOWN,
    card_lists,
    details_card,
    model_link,
)
from dashboard.queries.models import find_models, model_details
from dashboard.url_state import from_query, model_href

FILTERED = "?search=llama&min_downloads=10&libraries=transformers"
# how a browser's Markdown renderer (CommonMark, as react-markdown) reads the card's Markdown
RENDERER = MarkdownIt("commonmark").enable("strikethrough")

HOSTILE_CARD = (
    "# Title <!-- a hidden comment --> Some **bold** text. <script>alert('script')</script>"
    '<img src="x" onerror="alert(\'img\')"> <b>kept</b> <iframe src="https://evil.example/f">'
    "</iframe> [js](javascript:alert(1)) [JS](JaVaScRiPt:alert(2)) "
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==) "
    "![pic](data:image/png;base64,AAAA) [vb](vbscript:msgbox) [rel](/relative/path) "
    "[ok](https://ok.example/a_(b)?x=1&y=2) ![shown](https://img.example/p.png) "
    '<a href="javascript:alert(4)">anchor</a> [ref] <https://auto.example/x> '
    "## Usage `pip install <pkg>` and ~~old~~ [nested [brackets]](javascript:alert(5))"
)


@pytest.fixture(scope="module")
def build(dashboard_build):
    return dashboard_build


def rendered(markdown: str) -> str:
    return RENDERER.render(markdown)


def badges(card, id_: str) -> list[str]:
    holder = next(c for c in components(card) if getattr(c, "id", None) == id_)
    return [c.children for c in components(holder) if type(c).__name__ == "Badge"]


# ---------------------------------------------------------------- each value once


def test_card_lists_name_each_value_once_and_drop_the_tags_fields_hold():
    record = {
        "model_id": "org/model",
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "licenses": ["mit"],
        "languages": ["en"],
        "arxiv_papers": ["2106.09685"],
        "datasets": [],
        "tags": [
            "transformers",
            "text-generation",
            "license:mit",
            "License:MIT",
            "arxiv:2106.09685",
            "arxiv:2307.09288",
            "en",
            "fr",
            "language:fr",
            "dataset:squad",
            "base_model:org/parent",
            "base_model:finetune:org/parent",
            "chat",
            "Chat",
            "region:us",
        ],
    }
    assert card_lists(record) == {
        "licenses": ["mit"],
        "languages": ["en", "fr"],
        "arxiv_papers": ["2106.09685", "2307.09288"],
        "datasets": ["squad"],
        "tags": ["chat", "region:us"],  # "fr" is a language, said once there
    }


def test_the_cards_of_the_sample_show_no_prefixed_tag_and_each_value_once(build):
    for row in build.popularity_order[:150]:
        details = model_details(build, build.model_id(row))
        card = details_card(details)
        chips, tags = badges(card, "details-chips"), badges(card, "details-tags")
        assert len(chips) == len({c.lower() for c in chips}), chips
        assert len(tags) == len({t.lower() for t in tags}), tags
        assert not [t for t in tags if t.lower().startswith(("license:", "arxiv:", "base_model:"))]
        assert not [t for t in tags if t.lower().startswith(("dataset:", "language:"))]
        record = details["record"]
        assert not set(tags) & set(record.get("languages") or ())
        assert record.get("library_name") not in tags and record.get("pipeline_tag") not in tags
        shown = json.dumps(card.to_plotly_json(), default=lambda c: c.to_plotly_json())
        for paper in record.get("arxiv_papers") or ():
            assert shown.count(f"arXiv:{paper}") == 1


def test_the_card_wraps_long_values_instead_of_scrolling_sideways(build):
    card = details_card(model_details(build, "meta-llama/Llama-2-7b-chat-hf"))
    assert card.style["overflowWrap"] == "anywhere"
    chip = next(c for c in components(card) if type(c).__name__ == "Badge")
    assert chip.style["whiteSpace"] == "normal"


def test_long_lists_are_cut_short_and_name_the_rest_on_hover(build):
    details = model_details(build, "meta-llama/Llama-2-7b-chat-hf")
    languages = [f"l{i}" for i in range(99)]  # Whisper's card names 99 languages
    details = {**details, "record": {**details["record"], "languages": languages}}
    card = details_card(details)
    holder = next(c for c in components(card) if getattr(c, "id", None) == "details-chips")
    assert [c.children for c in components(holder) if type(c).__name__ == "Badge"][1:] == (
        languages[:LANGUAGES_SHOWN]
    )
    (more,) = [c for c in holder.children if type(c).__name__ == "Span"]
    assert more.children == f"+{99 - LANGUAGES_SHOWN} more"
    assert more.title == ", ".join(languages[LANGUAGES_SHOWN:])
    children = next(c for c in components(card) if getattr(c, "id", None) == "details-children")
    assert details["n_children"] == 437 and len(children.children) == CHILDREN_SHOWN + 1
    assert children.children[-1].children == f"… and {437 - CHILDREN_SHOWN:,} more"


# ---------------------------------------------------------------- the excerpt as safe Markdown


def test_hostile_card_text_becomes_markdown_without_html_or_active_content():
    markdown = card_markdown(HOSTILE_CARD)
    html = rendered(markdown)
    for gone in ("hidden comment", "alert('script')", "onerror", "<script", "<img", "<iframe"):
        assert gone not in html, gone
    assert "<!--" not in markdown and "-->" not in markdown
    links = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert links == [
        "https://ok.example/a_%28b%29?x=1&amp;y=2",
        "https://img.example/p.png",
        "https://auto.example/x",
    ]
    for text in ("Title", "<strong>bold</strong>", "kept", "anchor", "<s>old</s>", "Usage"):
        assert text in html, text
    assert "<code>pip install </code>" in html  # the tag in the code span is stripped too
    assert ">image: shown</a>" in html  # an image is a link to it: nothing is loaded
    # links elsewhere than http(s) are their text alone
    assert " js JS data pic vb rel " in html and "nested [brackets]</p>" in html
    assert "javascript" not in html.lower() and "data:" not in html and "vbscript" not in html


def test_heading_markers_start_paragraphs_and_text_stays_literal():
    markdown = card_markdown("# **Llama 2** is a model. ## Model Details *Note*: 1. < 2 & 3")
    html = rendered(markdown)
    assert html.startswith("<p><strong>Llama 2</strong> is a model.</p>")
    assert "<p>Model Details <em>Note</em>: 1. &lt; 2 &amp; 3</p>" in html
    assert "<h1>" not in html and "<h2>" not in html and "<ol" not in html
    assert card_markdown(None) == "" and card_markdown("   ") == ""


def test_the_card_shows_the_excerpt_in_a_markdown_component_without_html(build):
    card = details_card(model_details(build, "meta-llama/Llama-2-7b-chat-hf"))
    (markdown,) = [c for c in components(card) if isinstance(c, dcc.Markdown)]
    assert markdown.dangerously_allow_html is False and markdown.link_target == "_blank"
    assert markdown.children.startswith("**Llama 2** Llama 2 is a collection")


# ---------------------------------------------------------------- links keep the URL state


def test_a_link_in_the_same_view_keeps_every_setting_and_another_view_the_shared_state():
    search = "?search=llama&libraries=transformers&colour=license&zoom=box%3A0%2C1%2C0%2C1&model=a"
    here = model_href("org/b", "/", search + "&sel=box%3A0%2C2%2C0%2C2", "/")
    filters, view = from_query(urlsplit(here).query)
    assert (filters.search, filters.libraries) == ("llama", ("transformers",))
    assert view == {
        "colour": "license",
        "zoom": "box:0,1,0,1",
        "model": "org/b",
        "sel": "box:0,2,0,2",
    }
    there = model_href("org/b", "/network", search + "&sel=box%3A0%2C2%2C0%2C2", "/", show="family")
    assert there.startswith("/network?")
    filters, view = from_query(urlsplit(there).query)
    assert filters.search == "llama" and filters.libraries == ("transformers",)
    assert view == {"model": "org/b", "sel": "box:0,2,0,2", "show": "family"}
    assert model_href("o/m", "/", "", "/") == "/?model=o%2Fm"


def test_a_hostile_id_stays_one_value_of_the_link():
    model_id = "a&model=b#c d/../?x=1"
    href = model_href(model_id, "/", "?search=x", "/")
    assert "#" not in href and " " not in href
    assert parse_qs(urlsplit(href).query)["model"] == [model_id]
    assert not hasattr(model_link("x" * 600), "href")  # too long for a URL: no link


def test_every_model_link_in_the_card_keeps_the_filters(build):
    for page in ("/", "/network"):
        details = model_details(build, "google/gemma-7b-it")
        card = details_card(details, page, FILTERED + "&colour=license")
        links = [c for c in components(card) if isinstance(c, dcc.Link)]
        kinds = {urlsplit(link.href).path for link in links}
        assert kinds == {"/", "/network", "/compare"}  # the other view, models here, Compare
        assert len(links) > 10  # parents, children, similar models, the family
        for link in links:
            filters, view = from_query(urlsplit(link.href).query)
            assert filters == from_query(FILTERED)[0], link.href
            assert "model" in view
            stays = urlsplit(link.href).path == page
            assert (view.get("colour") == "license") == stays, link.href


# ---------------------------------------------------------------- the model finder


def test_the_finder_ranks_the_exact_id_then_the_exact_name_first(build, sample_models):
    # google/gemma-7b-it is downloaded more than google/gemma-7b, whose id it contains
    assert find_models(build, "google/gemma-7b", 5)[0] == "google/gemma-7b"
    assert find_models(build, "  GOOGLE/Gemma-7B ", 5)[0] == "google/gemma-7b"
    named = find_models(build, "gemma-7b", 20)
    exact_names = [m for m in named if m.lower().split("/")[-1] == "gemma-7b"]
    assert named[: len(exact_names)] == exact_names and "google/gemma-7b" in exact_names
    rest = named[len(exact_names) :]
    downloads = sample_models.set_index("model_id")["downloads"].fillna(-1)
    assert [downloads[m] for m in rest] == sorted((downloads[m] for m in rest), reverse=True)
    assert all("gemma-7b" in m.lower() for m in named)
    # every id whose name another, more downloaded id contains is still found first
    ids = list(sample_models.sort_values("downloads", ascending=False)["model_id"])
    for model_id in ids[:300]:
        assert find_models(build, model_id, 3)[0] == model_id

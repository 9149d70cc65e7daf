"""A model card's excerpt as Markdown that is safe to show: the text of the card, its emphasis, code
and links to http(s) pages, and nothing else.

Card text comes from the Hub and is untrusted. It is cleaned in two steps:

1. nh3 (an HTML sanitizer) strips every HTML tag and comment, keeping the text between tags;
   the contents of <script> and <style> go with them.
2. markdown-it parses what is left as CommonMark, as the browser's Markdown renderer will, and
   the Markdown is written anew from its tokens: every piece of text escaped, so that only the
   constructs written here take effect. A link or image whose address is not http or https
   becomes its text; an image becomes a link to it (nothing is loaded from a card).

The pipeline collapses an excerpt's line breaks, so a heading's end is unknown: a heading marker
("## ") starts a new paragraph and the heading is shown as text, which keeps the card compact.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from dashboard.shown import EXCERPT_CHARS, MARKDOWN_SPECIAL, shorten

LINK_SCHEMES = ("http", "https")
AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>", re.IGNORECASE)  # <https://…>, which nh3 would drop
HEADING_MARK = re.compile(r"[ \t]+(#{1,6}[ \t])")  # a heading marker inside a collapsed line
URL_SAFE = "/?#[]@!$&'*+,;=%:~-._"  # what a written link keeps unencoded: no ( ) < > or spaces
PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
# every link is read as one, whatever its address, so that one with an address not shown becomes
# its text alone ("[x](javascript:…)" shows "x"); safe_url decides which addresses are written
PARSER.validateLink = lambda url: True
WRAPPERS = {"strong": "**", "em": "*", "s": "~~"}


def card_markdown(excerpt: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The excerpt (shortened to limit characters) as safe Markdown; "" for none."""
    text = shorten(excerpt or "", limit)
    if not text.strip():
        return ""
    text = AUTOLINK.sub(r"[\1](\1)", text)
    text = nh3.clean(text, tags=set(), strip_comments=True)
    text = HEADING_MARK.sub(r"\n\n\1", text)
    paragraphs = [
        inline_markdown(token.children or [])
        for token in PARSER.parse(text)
        if token.type == "inline"
    ]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph.strip())


def safe_url(url: str) -> str | None:
    """url written for a Markdown link when it is an http(s) address with a host; None if not."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return None
    return quote(url, safe=URL_SAFE)


def escaped(text: str) -> str:
    """text shown literally by a Markdown renderer: every Markdown character backslash-escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))


def code_span(code: str) -> str:
    """An inline code span holding code exactly (a backtick fence longer than any run inside)."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {code} {fence}"


def inline_markdown(tokens: list[Token]) -> str:
    """Markdown for one paragraph's inline tokens: text escaped, emphasis and code kept, links kept
    only to http(s) addresses (the text alone otherwise), images as links to them."""
    out: list[str] = []
    links: list[str | None] = []  # the address of each open link; None: shown as text
    for token in tokens:
        kind = token.type
        if kind == "text":
            out.append(escaped(token.content))
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "code_inline":
            out.append(code_span(token.content))
        elif kind.removesuffix("_open") in WRAPPERS or kind.removesuffix("_close") in WRAPPERS:
            out.append(WRAPPERS[kind.rsplit("_", 1)[0]])
        elif kind == "link_open":
            links.append(safe_url(str(token.attrs.get("href", ""))))
            if links[-1] is not None:
                out.append("[")
        elif kind == "link_close":
            url = links.pop() if links else None
            if url is not None:
                out.append(f"]({url})")
        elif kind == "image":
            alt = escaped(token.content) or "image"
            url = safe_url(str(token.attrs.get("src", "")))
            inside_link = any(link is not None for link in links)
            out.append(f"[image: {alt}]({url})" if url and not inside_link else alt)
    return "".join(out).strip()

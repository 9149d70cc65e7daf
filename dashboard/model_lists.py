"""A model's lists as the details card and the Compare view show them: licenses, languages, arXiv
papers, data sets and tags, each value once, from the record's fields and its prefixed tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# tags with a prefix that a structured field holds, shown there ("license:mit" as a license chip);
# base_model: tags are the parent links, listed under Parents
FIELD_OF_TAG_PREFIX = {
    "license:": "licenses",
    "language:": "languages",
    "arxiv:": "arxiv_papers",
    "dataset:": "datasets",
    "base_model:": None,
}


def once(values: Iterable[Any]) -> list[str]:
    """values as text, each once (case aside), in their first order; empty ones left out."""
    seen: dict[str, str] = {}
    for value in values:
        text = str(value).strip()
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return list(seen.values())


def card_lists(record: dict[str, Any]) -> dict[str, list[str]]:
    """The details card's lists, each value once: licenses, languages, arXiv papers and data sets
    from their fields and from their prefixed tags ("license:mit"), and the tags that say
    something else (no prefixed tag a field holds, no base_model: tag, no tag naming one of the
    model's languages, its library or its pipeline)."""
    lists: dict[str, list] = {
        field: list(record.get(field) or ()) for field in FIELD_OF_TAG_PREFIX.values() if field
    }
    tags = []
    for tag in record.get("tags") or ():
        tag = str(tag)
        prefix = next((p for p in FIELD_OF_TAG_PREFIX if tag.lower().startswith(p)), None)
        if prefix is None:
            tags.append(tag)
        elif FIELD_OF_TAG_PREFIX[prefix]:
            lists[FIELD_OF_TAG_PREFIX[prefix]].append(tag[len(prefix) :])
    lists = {field: once(values) for field, values in lists.items()}
    said = {
        str(value).lower()
        for value in (*lists["languages"], record.get("library_name"), record.get("pipeline_tag"))
        if value
    }
    lists["tags"] = [tag for tag in once(tags) if tag.lower() not in said]
    return lists

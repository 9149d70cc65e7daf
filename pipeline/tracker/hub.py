"""Listing every public model of the Hub with huggingface_hub, and counting them.

The listing asks only for the fields the counts need (pipeline tag and library; the author is
the id's namespace) unless a JSONL copy of the listing is wanted, and follows the API's cursor
pagination (``Link: <…>; rel="next"``) to the end. huggingface_hub retries 429 and 5xx answers
with exponential backoff and honours Retry-After; every request has a timeout. A listing that
names a model twice (a repeated cursor) is an error, never a count.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from huggingface_hub import HfApi, ModelInfo, get_session

COUNT_FIELDS = ["pipeline_tag", "library_name"]
JSONL_FIELDS = ["author", "downloads", "likes", "trendingScore", "private", "tags", "pipeline_tag", "library_name", "createdAt"]
NO_VALUE = "(none)"  # the group of models without a library, a pipeline tag or an author


class ListingError(RuntimeError):
    """The listing could not be read to its end; the message says why in one sentence."""


@dataclass
class Counts:
    total: int = 0
    by_library: Counter = field(default_factory=Counter)
    by_pipeline: Counter = field(default_factory=Counter)
    by_author: Counter = field(default_factory=Counter)

    def top_authors(self, count: int) -> dict:
        return dict(self.by_author.most_common(count))


def use_request_timeout(seconds: float) -> None:
    """Give every huggingface_hub request a timeout (its shared client has none by default)."""
    get_session().timeout = seconds


def list_models(endpoint: str, token: str | None, full: bool = False) -> Iterator[ModelInfo]:
    """Every public model of the Hub at endpoint, with the fields the counts need (``full``: those a
    `hfmap build --source` JSONL needs)."""
    api = HfApi(endpoint=endpoint.rstrip("/"), token=token)
    return api.list_models(expand=JSONL_FIELDS if full else COUNT_FIELDS)


def author_of(model_id: str) -> str:
    return model_id.split("/", 1)[0] if "/" in model_id else NO_VALUE


def count_models(models: Iterable[ModelInfo], into: Counts | None = None, on_model=None) -> Counts:
    """Count models by library, pipeline tag and author (into ``into``, which then shows how far a
    listing got when it fails); ``on_model(model)`` sees each one first. Raises ListingError when
    an id comes twice."""
    counts, seen = into if into is not None else Counts(), set()
    for model in models:
        if model.id in seen:
            raise ListingError(f"the listing named {model.id} twice after {counts.total:,} models (a page cursor that repeats)")
        seen.add(model.id)
        if on_model is not None:
            on_model(model)
        counts.total += 1
        counts.by_library[model.library_name or NO_VALUE] += 1
        counts.by_pipeline[model.pipeline_tag or NO_VALUE] += 1
        counts.by_author[author_of(model.id)] += 1
    return counts


def jsonl_record(model: ModelInfo) -> str:
    """A model as one line of Hub API JSON (what `hfmap build --source FILE.jsonl` reads)."""
    return json.dumps({
        "id": model.id, "author": model.author, "downloads": model.downloads, "likes": model.likes,
        "trendingScore": model.trending_score, "private": model.private, "tags": model.tags,
        "pipeline_tag": model.pipeline_tag, "library_name": model.library_name,
        "createdAt": model.created_at.isoformat() if model.created_at else None,
    })

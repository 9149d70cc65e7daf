"""Listing every public model of the Hub, and counting them.

The listing asks ``/api/models`` only for the fields the counts need (pipeline tag and library;
the author is the id's namespace) unless a JSONL copy of the listing is wanted, and follows the
API's cursor pagination (``Link: <…>; rel="next"``) to the end, but only while the next link
stays on HF_ENDPOINT's origin (scheme, host and port): the token goes nowhere else.

Each page is one request over huggingface_hub's HTTP client (``get_session()``, httpx2), held to
bounds huggingface_hub's own pagination cannot set:

- a whole-request deadline (HFMAP_HUB_TIMEOUT for connecting, headers and body together, never
  past the run's deadline, HFMAP_TRACK_TIMEOUT), however slowly the bytes come: no read waits
  longer than the whole request may take, and a watchdog closes the client when it passes;
- at most MAX_PAGE_BYTES once decompressed (identity or gzip, inflated here with a cap);
- a JSON list of records, each an object with a string id (and text or null in the fields the
  counts group by); no redirects.

Failed requests are retried the way huggingface_hub's http_backoff does it: 408, 429 and 5xx
answers, timeouts and dropped connections, up to MAX_RETRIES times, waiting 1, 2, 4, 8, 8 s, or
what Retry-After asks. A wait over MAX_RETRY_AFTER, or one that would pass the run's deadline,
ends the listing at once. A listing that names a model twice is an error, never a count.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx2
import huggingface_hub
from huggingface_hub import ModelInfo, close_session, get_session

from pipeline import __version__

COUNT_FIELDS = ["pipeline_tag", "library_name"]
JSONL_FIELDS = [
    "author",
    "downloads",
    "likes",
    "trendingScore",
    "private",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
]
NO_VALUE = "(none)"  # the group of models without a library, a pipeline tag or an author

MAX_PAGE_BYTES = (
    64 * 2**20
)  # one page, decompressed (the Hub's pages of 1,000 models are about 0.5 MB)
MAX_RETRIES = 5
FIRST_WAIT, LONGEST_WAIT = (
    1.0,
    8.0,
)  # exponential backoff between retries, as huggingface_hub's http_backoff
MAX_RETRY_AFTER = 3600.0  # a Retry-After longer than this ends the run instead of being waited for
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRIED_ERRORS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
DEFAULT_PORTS = {"http": 80, "https": 443}


class ListingError(Exception):
    """The listing could not be read to its end: ``what`` happened (a sentence that reads on with
    "after N models") and an optional ``detail``."""

    def __init__(self, what: str, detail: str = ""):
        super().__init__(f"{what} ({detail})" if detail else what)
        self.what, self.detail = what, detail


class RetriableError(ListingError):
    """A failure another try may get past: 408, 429 or 5xx, a timeout, a dropped connection."""

    def __init__(self, what: str, detail: str = "", retry_after: float | None = None):
        super().__init__(what, detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """How long one request and the whole listing may take, and how large a page may be."""

    request_seconds: float  # HFMAP_HUB_TIMEOUT
    run_seconds: float  # HFMAP_TRACK_TIMEOUT
    run_deadline: float  # time.monotonic() at which the run's time is up
    max_page_bytes: int = MAX_PAGE_BYTES

    def run_over(self) -> ListingError:
        return ListingError(
            f"the snapshot took longer than {self.run_seconds:g} s (HFMAP_TRACK_TIMEOUT)"
        )


@dataclass
class Counts:
    total: int = 0
    by_library: Counter = field(default_factory=Counter)
    by_pipeline: Counter = field(default_factory=Counter)
    by_author: Counter = field(default_factory=Counter)

    def top_authors(self, count: int) -> dict:
        return dict(self.by_author.most_common(count))


def list_models(
    endpoint: str, token: str | None, limits: Limits, full: bool = False
) -> Iterator[ModelInfo]:
    """Every public model of the Hub at endpoint, with the fields the counts need (``full``: those a
    `hfmap build --source` JSONL needs). Only ``token`` is sent (never one stored on disk), and
    only to endpoint's origin."""
    url = f"{endpoint.rstrip('/')}/api/models"
    fields = JSONL_FIELDS if full else COUNT_FIELDS
    wanted = {"id", *fields}
    params: dict | None = {"expand": fields}
    headers = request_headers(token)
    home = origin(url)
    while url is not None:
        records, url = fetch_page(url, params, headers, limits)
        if url is not None and origin(url) != home:
            raise ListingError(
                "the Hub's next-page link left HF_ENDPOINT's origin",
                f"it points to {shown(url)}; hfmap follows next links only on {shown(endpoint)}",
            )
        params = None  # the next link holds the query
        for record in records:  # only the fields asked for reach huggingface_hub's ModelInfo
            yield ModelInfo(
                siblings=None, **{name: value for name, value in record.items() if name in wanted}
            )


def request_headers(token: str | None) -> dict:
    """The listing's headers, written here: huggingface_hub's build_hf_headers would read a token
    stored on disk and ask the endpoint for its agent registry (a request of its own, cached under
    HF_HOME) to fill in the user agent."""
    headers = {
        "User-Agent": f"hfmap/{__version__}; hf_hub/{huggingface_hub.__version__}",
        "Accept-Encoding": "gzip",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def origin(url: str) -> tuple:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        return ("invalid", url, None)
    return parsed.scheme, parsed.host, parsed.port or DEFAULT_PORTS.get(parsed.scheme)


def fetch_page(
    url: str, params: dict | None, headers: dict, limits: Limits
) -> tuple[list[dict], str | None]:
    """One page of the listing and the next page's URL, retried like huggingface_hub's
    http_backoff."""
    wait, tries = FIRST_WAIT, 0
    while True:
        tries += 1
        try:
            return request_page(url, params, headers, limits)
        except RetriableError as error:
            if tries > MAX_RETRIES:
                raise ListingError(
                    error.what, "; ".join(filter(None, [error.detail, f"{tries} tries"]))
                ) from error
            pause = wait if error.retry_after is None else error.retry_after
            if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER:
                raise ListingError(
                    error.what,
                    f"it asked to retry after {error.retry_after:,.0f} s, longer than "
                    f"hfmap waits ({MAX_RETRY_AFTER:,.0f} s)",
                ) from error
            if time.monotonic() + pause > limits.run_deadline:
                raise ListingError(
                    error.what,
                    f"no retry: after a wait of {pause:,.0f} s it would end past "
                    f"HFMAP_TRACK_TIMEOUT ({limits.run_seconds:g} s)",
                ) from error
            time.sleep(pause)
            wait = min(LONGEST_WAIT, wait * 2)


def request_page(
    url: str, params: dict | None, headers: dict, limits: Limits
) -> tuple[list[dict], str | None]:
    """One request for a page, within the whole-request deadline: a watchdog closes
    huggingface_hub's client when the deadline passes, which ends a request that is still
    reading."""
    now = time.monotonic()
    if now >= limits.run_deadline:
        raise limits.run_over()
    deadline = min(now + limits.request_seconds, limits.run_deadline)
    watchdog = threading.Timer(deadline - now, close_session)
    watchdog.daemon = True
    watchdog.start()
    try:
        with get_session().stream(
            "GET",
            url,
            params=params,
            headers=headers,
            timeout=deadline - now,
            follow_redirects=False,
        ) as response:
            check_status(response)
            body = read_body(response, limits.max_page_bytes, deadline)
            link = response.links.get("next", {}).get("url")
            following = str(response.url.join(link)) if link else None
    except (httpx2.HTTPError, httpx2.StreamError, httpx2.InvalidURL, RuntimeError) as error:
        if (
            time.monotonic() >= deadline
        ):  # the watchdog closed the client (any error follows), or a read timed out
            raise (
                limits.run_over() if deadline >= limits.run_deadline else request_over(limits)
            ) from error
        if type(error) is RuntimeError:  # not the Hub's doing: a bug
            raise
        if isinstance(error, httpx2.TimeoutException):
            raise request_over(limits) from error
        unreachable = (
            f"cannot reach {shown(url.split('?')[0])}",
            f"{type(error).__name__}: {error}",
        )
        if isinstance(error, RETRIED_ERRORS):
            raise RetriableError(*unreachable) from error
        raise ListingError(*unreachable) from error
    finally:
        watchdog.cancel()
    return parse_page(body), following


def request_over(limits: Limits) -> RetriableError:
    return RetriableError(
        f"a Hub request took longer than {limits.request_seconds:g} s (HFMAP_HUB_TIMEOUT)"
    )


def check_status(response: httpx2.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    what = f"the Hub answered HTTP {status} for {shown(str(response.url))}"
    if status in RETRIED_STATUSES:
        raise RetriableError(what, retry_after=retry_after(response.headers.get("retry-after")))
    if 300 <= status < 400:
        raise ListingError(
            what,
            f"a redirect to {shown(response.headers.get('location', '(nowhere)'))}; hfmap follows "
            "none: set HF_ENDPOINT to the address that serves the listing",
        )
    raise ListingError(what)


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait (a number of seconds or an HTTP date); None
    without one."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def read_body(response: httpx2.Response, limit: int, deadline: float) -> bytes:
    """The page's body, decompressed, refusing more than ``limit`` bytes and any read past
    ``deadline``."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip"):
        raise ListingError(
            f"the Hub sent a page in an encoding hfmap does not read ({shown(encoding)})"
        )
    too_large = ListingError(
        f"the Hub sent a page larger than {limit / 2**20:g} MiB", "decompressed"
    )
    declared = response.headers.get("content-length", "")
    if encoding in ("identity", "") and declared.isdigit() and int(declared) > limit:
        raise too_large
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    body = bytearray()
    for chunk in response.iter_raw():
        if time.monotonic() >= deadline:
            raise httpx2.ReadTimeout("the whole-request deadline passed")
        if inflater is not None:
            if inflater.eof:
                raise ListingError("the Hub sent a gzip page with data after its end")
            try:
                chunk = inflater.decompress(chunk, limit + 1 - len(body))
            except zlib.error as error:
                raise ListingError(
                    "the Hub sent a page that is not valid gzip", str(error)
                ) from error
            if inflater.unconsumed_tail:
                raise too_large
        body += chunk
        if len(body) > limit:
            raise too_large
    if inflater is not None and not inflater.eof:
        raise ListingError("the Hub sent a gzip page that ends early")
    return bytes(body)


TEXT_FIELDS = ("author", "library_name", "pipeline_tag")  # text or null: what the counts group by


def parse_page(body: bytes) -> list[dict]:
    """The page's records: a JSON list of objects, each with a string id and TEXT_FIELDS that are
    text or null."""
    try:
        records = json.loads(body)
    except (
        ValueError,
        RecursionError,
    ) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        detail = (
            "nested too deeply"
            if isinstance(error, RecursionError)
            else getattr(error, "msg", str(error))
        )
        raise ListingError("the Hub sent a page that is not valid JSON", detail) from None
    if not isinstance(records, list):
        raise ListingError(
            "the Hub sent a page that is not a JSON list of models", f"a JSON {json_kind(records)}"
        )
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise ListingError(
                "the Hub sent a model record that is not an object with a string id",
                f"a JSON {json_kind(record)}",
            )
        for name in TEXT_FIELDS:
            if record.get(name) is not None and not isinstance(record[name], str):
                raise ListingError(
                    f"the Hub sent a model whose {name} is not text",
                    f"{shown(record['id'])}: a JSON {json_kind(record[name])}",
                )
    return records


def json_kind(value) -> str:
    return {
        dict: "object",
        list: "list",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
    }.get(type(value), "null")


def shown(text: str, limit: int = 200) -> str:
    """Text from the Hub as it may appear in a message: control characters escaped, at most limit
    characters."""
    printable = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return printable + ("…" if len(text) > limit else "")


def author_of(model_id: str) -> str:
    return model_id.split("/", 1)[0] if "/" in model_id else NO_VALUE


def count_models(models: Iterable[ModelInfo], into: Counts | None = None, on_model=None) -> Counts:
    """Count models by library, pipeline tag and author (into ``into``, which then shows how far a
    listing got when it fails); ``on_model(model)`` sees each one first. Raises ListingError when
    an id comes twice."""
    counts, seen = into if into is not None else Counts(), set()
    for model in models:
        if model.id in seen:
            raise ListingError(
                f"the listing named {shown(model.id)} twice", "a page cursor that repeats"
            )
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
    return json.dumps(
        {
            "id": model.id,
            "author": model.author,
            "downloads": model.downloads,
            "likes": model.likes,
            "trendingScore": model.trending_score,
            "private": model.private,
            "tags": model.tags,
            "pipeline_tag": model.pipeline_tag,
            "library_name": model.library_name,
            "createdAt": model.created_at.isoformat() if model.created_at else None,
        }
    )

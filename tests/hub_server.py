"""A test Hub: a real HTTP server that answers GET /api/models the way the Hugging Face Hub does.

Pages of JSON records (``id`` and the fields asked for with ``expand``; gzipped when the client
accepts it) follow one another through a ``Link: <…>; rel="next"`` cursor header. Faults can be
switched on per page: answers with a status code (429 with Retry-After, 500s), slow answers,
answers that drip a byte at a time, a body that is not JSON or not a list, a gzip bomb, a cursor
that points back at its own page, a next link to another server. The real huggingface_hub client
talks to it through HF_ENDPOINT; every request's query and Authorization header, and every
answer's Content-Encoding, are recorded.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

LIBRARIES = ("transformers", "diffusers", "peft", "gguf", "sentence-transformers", "timm", None)
PIPELINES = ("text-generation", "text-classification", "text-to-image", "feature-extraction", None)


def generated_models(count: int, seed: int = 0) -> list[dict]:
    """count Hub records with every field the tracker may ask for (ids, libraries, tags, …)."""
    rng = random.Random(seed)
    models = []
    for i in range(count):
        author = (
            f"author{rng.randrange(40)}" if i % 97 else None
        )  # a few legacy ids without an author
        library, pipeline = rng.choice(LIBRARIES), rng.choice(PIPELINES)
        models.append(
            {
                "id": f"{author}/model-{i}" if author else f"model-{i}",
                "author": author,
                "library_name": library,
                "pipeline_tag": pipeline,
                "downloads": rng.randrange(10_000),
                "likes": rng.randrange(100),
                "trendingScore": 0,
                "private": False,
                "tags": [tag for tag in (library, pipeline, "license:apache-2.0") if tag],
                "createdAt": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000Z",
            }
        )
    return models


MODELS = generated_models(2_500)  # the tracker tests' listing: 3 pages of 1,000


def expected_counts(models: list[dict]) -> dict:
    """The counts a tracker must store for these models."""

    def author(model):
        return model["id"].split("/", 1)[0] if "/" in model["id"] else "(none)"

    return {
        "total": len(models),
        "by_library": dict(Counter(m["library_name"] or "(none)" for m in models)),
        "by_pipeline": dict(Counter(m["pipeline_tag"] or "(none)" for m in models)),
        "by_author": dict(Counter(author(m) for m in models)),
    }


@dataclass
class Faults:
    """What goes wrong, by page number (0 = the first page)."""

    status: dict[int, list[int]] = field(
        default_factory=dict
    )  # page -> status codes of its next requests
    retry_after: float | str | None = 0  # Retry-After sent with those statuses (None: no header)
    slow: dict[int, float] = field(default_factory=dict)  # page -> seconds before answering
    invalid_json: set[int] = field(default_factory=set)  # pages whose body is not JSON
    body: dict[int, bytes] = field(default_factory=dict)  # page -> this body instead of its records
    repeat_cursor: int | None = None  # the page whose next link points back at itself
    next_link: dict[int, str] = field(
        default_factory=dict
    )  # page -> the URL its next link points to
    drip: dict[int, str] = field(
        default_factory=dict
    )  # page -> "head" or "body": that part comes a byte per DRIP_SECONDS, forever
    gzip_bomb: set[int] = field(
        default_factory=set
    )  # pages answered with BOMB_BYTES of gzip that inflate to BOMB_SIZE
    delay: float = 0.0  # seconds before every answer


DRIP_SECONDS = 0.1
BOMB_SIZE = 2**30  # 1 GiB of zeros, sent as about 1 MB of gzip


def gzip_bomb(size: int = BOMB_SIZE, segment: int = 2**20) -> bytes:
    """A gzip member of ``size`` zero bytes: one segment deflated after a full flush (so every
    segment deflates to the same bytes) repeated, with the real CRC-32 and length."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(segment)
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()  # the final empty block and the trailer of a 2-segment member
    crc = 0
    for _ in range(size // segment):
        crc = zlib.crc32(zeros, crc)
    trailer = crc.to_bytes(4, "little") + (size % 2**32).to_bytes(4, "little")
    return head + repeated * (size // segment - 1) + tail[:-8] + trailer


class TestHub:
    """The server; ``url`` is its HF_ENDPOINT. ``requests`` records every query it was sent."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        models: list[dict],
        page_size: int = 1000,
        address: tuple[str, int] = ("127.0.0.1", 0),
        url: str | None = None,
    ):
        """address: where it listens; url: how clients reach it (and its next links say), when
        that is not http://127.0.0.1:<port> (containers reach the host by another name)."""
        self.models, self.page_size = models, page_size
        self.faults = Faults()
        self.requests: list[dict] = []
        self.request_times: list[float] = []  # time.monotonic() of every request
        self.authorizations: list[str | None] = []  # the Authorization header of every request
        self._bomb: bytes | None = None
        self.paths: list[str] = []
        self.encodings: list[str | None] = []  # the Content-Encoding of every answer
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(address, self.handler())
        self.server.handle_error = lambda request, address: (
            None
        )  # a client that gave up on a slow page
        self.url = url or f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TestHub:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()

    def offset(self, query: dict) -> int:
        """The index of the first model of the page a query's cursor asks for."""
        return (
            int(base64.urlsafe_b64decode(query["cursor"][0]).decode()) if "cursor" in query else 0
        )

    def listing_starts(self) -> list[float]:
        """When each listing began: the times of the requests for a first page (no cursor)."""
        with self.lock:
            return [
                moment
                for query, moment in zip(self.requests, self.request_times)
                if "cursor" not in query
            ]

    def page_number(self, query: dict) -> int:
        return self.offset(query) // self.page_size

    def bomb(self) -> bytes:
        with self.lock:
            if self._bomb is None:
                self._bomb = gzip_bomb()
            return self._bomb

    def page(self, query: dict, gzip_accepted: bool = False) -> tuple[int, dict, bytes]:
        """(status, headers, body) for one request of /api/models; its records gzipped, as the Hub
        sends them, when the client accepts gzip (a fault's body comes as it is)."""
        offset = self.offset(query)
        number = offset // self.page_size
        faults = self.faults
        time.sleep(faults.delay + faults.slow.get(number, 0.0))
        with self.lock:
            pending = faults.status.get(number)
            status = pending.pop(0) if pending else None
        if status:
            headers = {} if faults.retry_after is None else {"Retry-After": str(faults.retry_after)}
            return status, headers, json.dumps({"error": f"status {status}"}).encode()
        if number in faults.invalid_json:
            return 200, {}, b"<html>upstream error</html>"
        if number in faults.body:
            return 200, {}, faults.body[number]
        if number in faults.gzip_bomb:
            return 200, {"Content-Encoding": "gzip"}, self.bomb()
        fields = set(query.get("expand", []))
        records = [
            {
                "_id": f"{i:024x}",
                "id": model["id"],
                **{k: v for k, v in model.items() if k in fields},
            }
            for i, model in enumerate(self.models[offset : offset + self.page_size], start=offset)
        ]
        headers = {}
        following = offset if faults.repeat_cursor == number else offset + self.page_size
        if number in faults.next_link:
            headers["Link"] = f'<{faults.next_link[number]}>; rel="next"'
        elif following < len(self.models):
            cursor = base64.urlsafe_b64encode(str(following).encode()).decode()
            rest = {k: v for k, v in query.items() if k != "cursor"}
            next_query = urlencode({**rest, "cursor": [cursor]}, doseq=True)
            headers["Link"] = f'<{self.url}/api/models?{next_query}>; rel="next"'
        body = json.dumps(records).encode()
        if gzip_accepted:
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(body)
        return 200, headers, body

    def handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with hub.lock:
                    hub.requests.append(query)
                    hub.request_times.append(time.monotonic())
                    hub.authorizations.append(self.headers.get("Authorization"))
                    hub.paths.append(self.path)
                if parts.path != "/api/models":
                    self.send_error(404)
                    return
                drip = hub.faults.drip.get(hub.page_number(query))
                if drip:
                    self.drip(drip)
                    return
                status, headers, body = hub.page(
                    query, "gzip" in self.headers.get("Accept-Encoding", "")
                )
                with hub.lock:
                    hub.encodings.append(headers.get("Content-Encoding"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def drip(self, part: str) -> None:
                """An answer that never ends: its head (status line, then one header forever) or,
                after a normal head, its body, a byte every DRIP_SECONDS until the client hangs
                up."""
                if part == "head":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                    endless = iter(lambda: b"a", None)
                else:
                    self.wfile.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 10000000\r\n\r\n["
                    )
                    endless = iter(lambda: b" ", None)
                for byte in endless:
                    self.wfile.write(byte)
                    self.wfile.flush()
                    time.sleep(DRIP_SECONDS)

            def log_message(self, *_):  # quiet
                pass

        return Handler

"""A test Hub: a real HTTP server that answers GET /api/models the way the Hugging Face Hub does.

Pages of JSON records (``id`` and the fields asked for with ``expand``) follow one another
through a ``Link: <…>; rel="next"`` cursor header. Faults can be switched on per page: answers
with a status code (429 with Retry-After, 500s), slow answers, a body that is not JSON, a
cursor that points back at its own page. The real huggingface_hub client talks to it through
HF_ENDPOINT.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
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
        author = f"author{rng.randrange(40)}" if i % 97 else None  # a few legacy ids without an author
        library, pipeline = rng.choice(LIBRARIES), rng.choice(PIPELINES)
        models.append({
            "id": f"{author}/model-{i}" if author else f"model-{i}", "author": author,
            "library_name": library, "pipeline_tag": pipeline,
            "downloads": rng.randrange(10_000), "likes": rng.randrange(100), "trendingScore": 0, "private": False,
            "tags": [tag for tag in (library, pipeline, "license:apache-2.0") if tag],
            "createdAt": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000Z",
        })
    return models


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

    status: dict[int, list[int]] = field(default_factory=dict)  # page -> status codes of its next requests
    retry_after: float | None = 0  # Retry-After sent with those statuses (None: no header)
    slow: dict[int, float] = field(default_factory=dict)  # page -> seconds before answering
    invalid_json: set[int] = field(default_factory=set)  # pages whose body is not JSON
    repeat_cursor: int | None = None  # the page whose next link points back at itself
    delay: float = 0.0  # seconds before every answer


class TestHub:
    """The server; ``url`` is its HF_ENDPOINT. ``requests`` records every query it was sent."""

    __test__ = False  # not a pytest test class

    def __init__(self, models: list[dict], page_size: int = 1000):
        self.models, self.page_size = models, page_size
        self.faults = Faults()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.handle_error = lambda request, address: None  # a client that gave up on a slow page
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TestHub:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()

    def page(self, query: dict) -> tuple[int, dict, bytes]:
        """(status, headers, body) for one request of /api/models."""
        with self.lock:
            self.requests.append(query)
        offset = int(base64.urlsafe_b64decode(query["cursor"][0]).decode()) if "cursor" in query else 0
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
        fields = set(query.get("expand", []))
        records = [{"_id": f"{i:024x}", "id": model["id"], **{k: v for k, v in model.items() if k in fields}}
                   for i, model in enumerate(self.models[offset:offset + self.page_size], start=offset)]
        headers = {}
        following = offset if faults.repeat_cursor == number else offset + self.page_size
        if following < len(self.models):
            cursor = base64.urlsafe_b64encode(str(following).encode()).decode()
            rest = {k: v for k, v in query.items() if k != "cursor"}
            headers["Link"] = f'<{self.url}/api/models?{urlencode({**rest, "cursor": [cursor]}, doseq=True)}>; rel="next"'
        return 200, headers, json.dumps(records).encode()

    def handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                if parts.path != "/api/models":
                    self.send_error(404)
                    return
                status, headers, body = hub.page(parse_qs(parts.query))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):  # quiet
                pass

        return Handler

"""The tracker against a hostile or broken Hub (a real HTTP server, tests/hub_server.py): next links
to other hosts, gzip bombs, pages that drip, Retry-After of a day, pages that are not lists, a
listing that collapses. Each run ends as a stored failure with its reason, within bounded time
and memory, with no token sent off-origin and no partial file left behind."""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hub_server import BOMB_SIZE, MODELS, Faults, TestHub
from tracker_runs import REPO, status, track, tracker_env

from tracker.history import History
from tracker.hub import MAX_PAGE_BYTES, origin


def failure_of(history_path: Path) -> str:
    failure = History(history_path).latest(ok=None)
    assert failure is not None and not failure.ok, "the run was stored as a success"
    return failure.error


def test_next_links_are_followed_on_the_endpoint_origin_only():
    home = origin("https://huggingface.co")
    assert origin("https://huggingface.co:443/api/models?cursor=abc") == home
    assert origin("HTTPS://HuggingFace.CO/api/models") == home
    for elsewhere in (
        "http://huggingface.co/api/models",
        "https://huggingface.co:8443/api/models",
        "https://huggingface.co.evil.example/api/models",
        "https://huggingface.co@evil.example/api/models",
        "https://evil.example/api/models",
        "//evil.example/api/models",
        "not a url",
    ):
        assert origin(elsewhere) != home, elsewhere


@pytest.mark.parametrize("where", ["another port", "another scheme"])
def test_a_next_link_off_the_endpoint_ends_the_run_and_the_token_never_leaves(
    hub, history_path, where
):
    with TestHub(MODELS) as elsewhere:
        cursor = "MjAwMA=="  # the offset 2000
        target = (
            f"{elsewhere.url}/api/models?cursor={cursor}"
            if where == "another port"
            else f"{hub.url.replace('http://', 'https://')}/api/models?cursor={cursor}"
        )
        hub.faults = Faults(next_link={1: target})
        result = track(tracker_env(hub.url, history_path, HF_TOKEN="hf_secret_token"), "--once")
        assert (
            elsewhere.requests == [] and elsewhere.authorizations == []
        )  # never asked, never given the token
    assert result.returncode == 1
    assert (
        hub.authorizations == ["Bearer hf_secret_token"] * 2
    )  # the endpoint got it, for pages 0 and 1 only
    reason = failure_of(history_path)
    assert (
        "the Hub's next-page link left HF_ENDPOINT's origin after 1,000 models" in reason
        and target in reason
    )
    assert History(history_path).latest(ok=True) is None


# Forks the measured command from this small process and writes its peak resident memory (KiB) to
# argv[1]: a child forked from the test process itself would count the test process's pages too.
MEASURING_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, wait_status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(wait_status))
"""


def run_measured(env: dict, *arguments: str, tmp_path: Path) -> tuple[int, float, float]:
    """Run the tracker; its exit code, wall seconds and peak resident memory in MiB."""
    started = time.monotonic()
    peak_file = tmp_path / "peak_kib.txt"
    with open(tmp_path / "out.txt", "w") as out:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                MEASURING_LAUNCHER,
                str(peak_file),
                "-m",
                "hfmap",
                "track",
                *arguments,
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return result.returncode, time.monotonic() - started, int(peak_file.read_text()) / 1024


@pytest.mark.parametrize("page", ["gzip bomb", "plain"])
def test_a_page_too_large_ends_the_run_within_bounded_memory(hub, history_path, tmp_path, page):
    hub.faults = (
        Faults(gzip_bomb={1})
        if page == "gzip bomb"
        else Faults(body={1: bytes(MAX_PAGE_BYTES + 1)})
    )
    code, _, peak_mib = run_measured(
        tracker_env(hub.url, history_path), "--once", tmp_path=tmp_path
    )
    assert code == 1, (tmp_path / "out.txt").read_text()
    assert "the Hub sent a page larger than 64 MiB after 1,000 models (decompressed)" in failure_of(
        history_path
    )
    # the bomb inflates to 1 GiB; read whole, the process would hold at least that
    assert peak_mib < 64 + 300 < BOMB_SIZE / 2**20, f"peak memory {peak_mib:.0f} MiB"


@pytest.mark.parametrize("part", ["head", "body"])
def test_a_page_that_drips_ends_at_the_whole_request_deadline(hub, history_path, part):
    # a byte every 0.1 s: no read ever waits 1 s, yet no request may take longer than 1 s in all;
    # each one is retried (1, 2, then 4 s of backoff) until a retry would pass the run's 8 s
    hub.faults = Faults(drip={1: part})
    started = time.monotonic()
    result = track(
        tracker_env(hub.url, history_path, HFMAP_HUB_TIMEOUT="1", HFMAP_TRACK_TIMEOUT="8"), "--once"
    )
    assert result.returncode == 1 and time.monotonic() - started < 30
    reason = failure_of(history_path)
    assert "a Hub request took longer than 1 s (HFMAP_HUB_TIMEOUT) after 1,000 models" in reason
    assert "no retry" in reason and "HFMAP_TRACK_TIMEOUT (8 s)" in reason
    assert sum(1 for query in hub.requests if query.get("cursor")) == 3  # page 1 tried three times


def test_a_page_that_drips_ends_at_the_run_deadline(hub, history_path):
    hub.faults = Faults(drip={1: "body"})
    started = time.monotonic()
    result = track(
        tracker_env(hub.url, history_path, HFMAP_HUB_TIMEOUT="60", HFMAP_TRACK_TIMEOUT="3"),
        "--once",
    )
    assert result.returncode == 1 and time.monotonic() - started < 30
    assert (
        failure_of(history_path)
        == "the snapshot took longer than 3 s (HFMAP_TRACK_TIMEOUT) after 1,000 models"
    )


def in_a_day() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)


RETRY_AFTER = {  # Retry-After, and what the reason says
    "a day in seconds": (
        "86400",
        "asked to retry after 86,400 s, longer than hfmap waits (3,600 s)",
    ),
    "a day as a date": (in_a_day(), "longer than hfmap waits (3,600 s)"),
    "past the run's deadline": (
        "30",
        "no retry: after a wait of 30 s it would end past HFMAP_TRACK_TIMEOUT (10 s)",
    ),
}


@pytest.mark.parametrize("name", RETRY_AFTER)
def test_a_retry_after_too_long_ends_the_run_at_once(hub, history_path, name):
    retry_after, said = RETRY_AFTER[name]
    hub.faults = Faults(status={1: [429] * 10}, retry_after=retry_after)
    started = time.monotonic()
    result = track(tracker_env(hub.url, history_path, HFMAP_TRACK_TIMEOUT="10"), "--once")
    assert result.returncode == 1 and time.monotonic() - started < 10  # no waiting for it
    reason = failure_of(history_path)
    assert "the Hub answered HTTP 429 for" in reason and said in reason


NOT_A_LIST = {  # body of page 1, and what the reason says
    "an object": (
        b'{"error": "Internal Error"}',
        "not a JSON list of models after 1,000 models (a JSON object)",
    ),
    "null": (b"null", "not a JSON list of models after 1,000 models (a JSON null)"),
    "a list of numbers": (
        b"[1, 2, 3]",
        "not an object with a string id after 1,000 models (a JSON number)",
    ),
    "records with numeric ids": (
        b'[{"id": 5}]',
        "not an object with a string id after 1,000 models (a JSON object)",
    ),
    "nested 100,000 deep": (
        b"[" * 100_000 + b"]" * 100_000,
        "not valid JSON after 1,000 models (nested too deeply)",
    ),
    "not UTF-8": (b'[{"id": "\xff\xfe"}]', "not valid JSON after 1,000 models"),
}


@pytest.mark.parametrize("name", NOT_A_LIST)
def test_a_page_that_is_not_a_list_of_models_ends_the_run(hub, history_path, name):
    body, said = NOT_A_LIST[name]
    hub.faults = Faults(body={1: body})
    result = track(tracker_env(hub.url, history_path), "--once")
    assert result.returncode == 1
    assert said in failure_of(history_path)
    assert said in result.stderr


def test_a_listing_that_collapses_is_not_stored_as_a_success(hub, history_path):
    env = tracker_env(hub.url, history_path)
    assert track(env, "--once").returncode == 0
    for models, listed in ((MODELS[:0], "0"), (MODELS[:1_200], "1,200")):
        hub.models = models
        result = track(env, "--once")
        assert result.returncode == 1
        assert failure_of(history_path) == (
            f"the listing ended after {listed} models (fewer than 50% of the 2,500 models of the "
            f"last successful snapshot, {History(history_path).latest().taken_at}; a drop that "
            "large is taken for a broken listing and not stored as a count)"
        )
        assert status(env)["total_models"] == 2_500
    hub.models = MODELS[:1_300]  # more than half: a real drop is stored
    assert track(env, "--once").returncode == 0 and status(env)["total_models"] == 1_300


# A fault that fails a run with --jsonl (None: a collapse), and the environment it runs in.
FAILED_RUNS = {
    "HTTP 500": (lambda: Faults(status={2: [500] * 10}, retry_after=0), {}),
    "the run's deadline": (lambda: Faults(drip={2: "body"}), {"HFMAP_TRACK_TIMEOUT": "3"}),
    "a collapse": (lambda: None, {}),
}


@pytest.mark.parametrize("name", FAILED_RUNS)
@pytest.mark.parametrize("earlier", [True, False], ids=["over an earlier copy", "first copy"])
def test_a_failed_run_leaves_no_partial_jsonl(hub, history_path, tmp_path, name, earlier):
    faults, extra = FAILED_RUNS[name][0](), FAILED_RUNS[name][1]
    listing = tmp_path / "listings" / "hub.jsonl"
    env = tracker_env(hub.url, history_path, **extra)
    if earlier or faults is None:
        assert track(env, "--once", *(["--jsonl", str(listing)] if earlier else [])).returncode == 0
    before = listing.read_bytes() if earlier else None
    if faults is None:
        hub.models = MODELS[:100]
    else:
        hub.faults = faults
    result = track(env, "--once", "--jsonl", str(listing))
    assert result.returncode == 1 and not History(history_path).latest(ok=None).ok
    if earlier:
        assert sorted(path.name for path in listing.parent.iterdir()) == ["hub.jsonl"]
        assert listing.read_bytes() == before  # untouched, never truncated
    else:
        assert not listing.parent.exists() or list(listing.parent.iterdir()) == []


def test_the_tracker_keeps_huggingface_hub_out_of_the_users_home(hub, history_path, tmp_path):
    home = tmp_path / "home"
    stored = home / ".cache" / "huggingface"
    stored.mkdir(parents=True)
    (stored / "token").write_text("hf_stored_by_hf_auth_login")
    (stored / "stored_tokens").write_text("[default]\nhf_token = hf_stored_by_hf_auth_login\n")
    before = {path: path.read_bytes() for path in home.rglob("*") if path.is_file()}
    env = {
        key: value
        for key, value in tracker_env(hub.url, history_path).items()
        if not key.startswith(("HF_HOME", "XDG_"))
    }
    env["HOME"] = str(home)
    assert track(env, "--once", "--jsonl", str(tmp_path / "hub.jsonl")).returncode == 0
    assert {
        path: path.read_bytes() for path in home.rglob("*") if path.is_file()
    } == before  # nothing written
    assert set(hub.authorizations) == {None}  # a token stored there is never sent to an endpoint
    assert all(
        path.startswith("/api/models?") for path in hub.paths
    )  # nothing asked but the listing
    assert track({**env, "HF_TOKEN": "hf_given"}, "--once").returncode == 0
    assert hub.authorizations[-1] == "Bearer hf_given"


HOSTILE_IDS = [
    "esc\x1b[31m/red",
    "\U0001f44duser/model",
    "lone\ud800/surrogate",
    "[bold]rich[/bold]/x",
    "nul\x00/x",
]


def test_odd_ids_are_counted_as_they_are_and_shown_escaped(history_path, tmp_path):
    models = [
        {**model, "id": f"{HOSTILE_IDS[i]}-{i}" if i < len(HOSTILE_IDS) else model["id"]}
        for i, model in enumerate(MODELS[:1_500])
    ]
    with TestHub(models, page_size=1000) as hub:
        env = tracker_env(hub.url, history_path)
        result = track(env, "--once", "--jsonl", str(tmp_path / "hub.jsonl"))
        assert result.returncode == 0, result.stderr
        authors = status(env)["by_author"]
        assert {
            author: authors.get(author)
            for author in ("\U0001f44duser", "esc\x1b[31m", "lone\ud800")
        } == {"\U0001f44duser": 1, "esc\x1b[31m": 1, "lone\ud800": 1}
        lines = (tmp_path / "hub.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1_500 and [json.loads(line)["id"] for line in lines[:5]] == [
            m["id"] for m in models[:5]
        ]

        hub.faults = Faults(repeat_cursor=0)  # the first page again: its first id comes twice
        result = track(env, "--once")
    assert result.returncode == 1 and "\x1b" not in result.stderr
    said = (
        "the listing named esc\\x1b[31m/red-0 twice after 1,000 models"  # the ESC written as text
    )
    assert said in result.stderr and said in failure_of(history_path)


def test_a_model_whose_library_is_not_text_ends_the_run(hub, history_path):
    hub.faults = Faults(
        body={1: json.dumps([{"id": "a/b", "library_name": ["transformers"]}]).encode()}
    )
    assert track(tracker_env(hub.url, history_path), "--once").returncode == 1
    assert failure_of(history_path) == (
        "the Hub sent a model whose library_name is not text after 1,000 models (a/b: a JSON list)"
    )


def test_the_tracker_process_gives_huggingface_hub_a_home_beside_the_history(tmp_path):
    script = (
        "import sys; from tracker.hf_home import use_tracker_hf_home; "
        "use_tracker_hf_home(sys.argv[1]); "
        "from huggingface_hub import constants as c; "
        "print(c.HF_HOME, c.HF_HUB_CACHE, c.HF_TOKEN_PATH, c.HF_ASSETS_CACHE, c.HF_XET_CACHE, "
        "c.AGENT_HARNESSES_PATH, sep='\\n')"
    )
    elsewhere = {
        name: str(tmp_path / "elsewhere")
        for name in ("HF_HOME", "HF_HUB_CACHE", "HF_TOKEN_PATH", "HF_XET_CACHE")
    }
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "db" / "tracker.sqlite")],
        cwd=REPO,
        env={**os.environ, **elsewhere},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    home = tmp_path / "db" / "tracker.sqlite.huggingface"
    assert all(Path(path).is_relative_to(home) for path in result.stdout.split()), result.stdout

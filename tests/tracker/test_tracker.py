"""The model-count tracker against a test Hub (a real HTTP server, tests/hub_server.py) through the
real huggingface_hub client: exact counts, every fault, one snapshot at a time, the schedule."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hub_server import MODELS, Faults, TestHub, expected_counts
from tracker_runs import REPO, status, track, tracker_env

from tracker.growth import growth_stats
from tracker.history import History, Snapshot
from tracker.hub import COUNT_FIELDS
from tracker.lock import LOCK_NAME
from tracker.schedule import parse_interval


def test_a_snapshot_stores_exact_counts_from_the_smallest_listing(hub, history_path):
    env = tracker_env(hub.url, history_path)
    result = track(env, "--once")
    assert result.returncode == 0, result.stderr
    expected = expected_counts(MODELS)
    report = status(env)
    assert report["total_models"] == expected["total"] == 2_500
    assert (
        report["by_library"] == expected["by_library"]
        and report["by_pipeline"] == expected["by_pipeline"]
    )
    assert report["by_author"] == dict(
        sorted(expected["by_author"].items(), key=lambda kv: (-kv[1], kv[0]))[:100]
    )
    assert report["last_failure"] is None and report["endpoint"] == hub.url
    assert len(hub.requests) == 3 and all(
        request["expand"] == COUNT_FIELDS for request in hub.requests
    )
    assert hub.encodings == ["gzip"] * 3  # read as the Hub sends them
    assert [request.get("cursor") is not None for request in hub.requests] == [
        False,
        True,
        True,
    ]  # followed to the end


def test_the_listing_can_also_be_written_as_jsonl_for_a_build(hub, history_path, tmp_path):
    from pipeline.report import IssueLog
    from pipeline.sources import load_source

    listing = tmp_path / "hub.jsonl"
    result = track(tracker_env(hub.url, history_path), "--once", "--jsonl", str(listing))
    assert result.returncode == 0, result.stderr
    lines = listing.read_text().splitlines()
    assert len(lines) == 2_500 and json.loads(lines[1])["id"] == MODELS[1]["id"]
    models = load_source(str(listing), IssueLog())
    assert len(models) == 2_500 and set(models["library_name"].dropna()) <= {
        m["library_name"] for m in MODELS
    }


RECOVERED = {  # faults the client rides out: the snapshot is exact
    "429 twice, Retry-After": Faults(status={1: [429, 429]}, retry_after=0),
    "500 twice": Faults(status={2: [500, 503]}, retry_after=None),
}
FATAL = {  # faults no retry gets past: a failure row and no count
    "429 on every try": (Faults(status={1: [429] * 10}, retry_after=0), "HTTP 429"),
    "500 on every try": (Faults(status={0: [500] * 10}, retry_after=0), "HTTP 500"),
    "a page that is not JSON": (Faults(invalid_json={2}), "not valid JSON after 2,000 models"),
    "a cursor that repeats": (Faults(repeat_cursor=1), "twice after 2,000 models"),
    # the run's deadline passes during a retry, or a retry would pass it: either way it is named
    "a page slower than the run may take": (Faults(slow={1: 30}), "HFMAP_TRACK_TIMEOUT"),
}


@pytest.mark.parametrize("name", RECOVERED)
def test_retried_faults_still_give_exact_counts(hub, history_path, name):
    hub.faults = RECOVERED[name]
    env = tracker_env(hub.url, history_path)
    result = track(env, "--once")
    assert result.returncode == 0, result.stderr
    assert status(env)["total_models"] == 2_500


def test_retry_after_is_honoured(hub, history_path):
    hub.faults = Faults(status={1: [429]}, retry_after=2)
    started = time.monotonic()
    assert track(tracker_env(hub.url, history_path), "--once").returncode == 0
    assert time.monotonic() - started >= 2


@pytest.mark.parametrize("name", FATAL)
def test_a_fault_stores_a_failure_and_never_a_wrong_total(hub, history_path, name):
    faults, reason = FATAL[name]
    env = tracker_env(hub.url, history_path, HFMAP_TRACK_TIMEOUT="4" if faults.slow else "30")
    assert (
        track(env, "--once").returncode == 0
    )  # a good snapshot first: it must stay the last total
    hub.faults = faults
    result = track(env, "--once")
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert (
        message.startswith("hfmap: the snapshot failed and no count was stored:")
        and reason in message
    )
    report = status(env)
    assert report["total_models"] == 2_500 and reason in report["last_failure"]["reason"]
    rows = History(history_path).snapshots(ok=None)
    assert [(row.ok, row.total_models, row.by_library) for row in rows] == [
        (True, 2_500, expected_counts(MODELS)["by_library"]),
        (False, None, {}),
    ]


def test_an_unreachable_hub_is_a_failure(history_path):
    with TestHub(MODELS) as gone:
        url = gone.url
    result = track(tracker_env(url, history_path, HFMAP_TRACK_TIMEOUT="3"), "--once")
    assert result.returncode == 1 and History(history_path).latest(ok=True) is None
    assert History(history_path).latest(ok=False).error


@pytest.mark.parametrize("lock", ["redis", "file"], ids=["redis lock", "file lock"])
def test_two_trackers_started_at_once_take_one_snapshot(hub, history_path, lock, request):
    redis_url = request.getfixturevalue("session_redis").url if lock == "redis" else None
    if redis_url:
        redis.Redis.from_url(redis_url).delete(LOCK_NAME)
    hub.faults = Faults(delay=0.5)  # a run of about 1.5 s: the two overlap
    env = tracker_env(hub.url, history_path, **({"REDIS_URL": redis_url} if redis_url else {}))
    command = [sys.executable, "-m", "hfmap", "track", "--once"]
    runs = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    codes = sorted(run.wait(timeout=120) for run in runs)
    assert codes == [0, 3]
    assert [row.ok for row in History(history_path).snapshots(ok=None)] == [True]
    if redis_url:
        assert not redis.Redis.from_url(redis_url).exists(LOCK_NAME)  # released


def test_a_run_sent_sigterm_again_and_again_still_clears_its_claim(hub, history_path):
    """A stopping server sends a job's process SIGTERM; a second one arriving while the run
    releases its claim must not interrupt that release (it did: the holder stayed recorded)."""
    hub.faults = Faults(slow={0: 30})  # the run waits on its first page
    env = tracker_env(hub.url, history_path)
    command = [sys.executable, "-m", "hfmap", "track", "--once"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not History(history_path).jobs().get("snapshot", {}).get("holder"):
            assert process.poll() is None and time.monotonic() < deadline, "no run began"
            time.sleep(0.05)
        while process.poll() is None:
            process.send_signal(signal.SIGTERM)
            time.sleep(0.0005)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 128 + signal.SIGTERM, process.stderr.read()
    assert History(history_path).jobs()["snapshot"]["holder"] is None


def test_the_scheduler_fires_on_its_interval_until_stopped(hub, history_path):
    env = tracker_env(hub.url, history_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "hfmap", "track", "--every", "2s"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(History(history_path).snapshots()) < 3:
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "three snapshots did not come within 60 s"
            time.sleep(0.2)
        schedule = History(history_path).schedules()
        assert (
            len(schedule) == 1
            and schedule[0]["interval_seconds"] == 2
            and schedule[0]["next_run_at"]
        )
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0
    times = [datetime.fromisoformat(s.taken_at) for s in History(history_path).snapshots()]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:])]
    assert all(1 <= gap <= 4 for gap in gaps), gaps
    assert output.count("scheduled run: ok, 2,500 models") >= 3
    assert History(history_path).schedules() == []


def test_the_history_is_never_rewritten(hub, history_path):
    assert track(tracker_env(hub.url, history_path), "--once").returncode == 0
    connection = sqlite3.connect(history_path)
    for statement in ("UPDATE snapshots SET total_models = 1", "DELETE FROM snapshots"):
        with pytest.raises(sqlite3.DatabaseError, match="never rewritten"):
            connection.execute(statement)
    with pytest.raises(sqlite3.IntegrityError):  # a failure can never carry a total
        connection.execute(
            "INSERT INTO snapshots (taken_at, ok, total_models, seconds, error, endpoint)"
            " VALUES ('2026-01-01', 0, 5, 1.0, 'x', 'y')"
        )


def test_mistakes_are_one_sentence_and_exit_2(history_path):
    result = track(tracker_env("http://127.0.0.1:9", history_path), "--every", "soon")
    assert (
        result.returncode == 2
        and result.stderr.strip()
        == "hfmap: --every: 'soon' is not an interval; write it like 6h, 30m, 1d or 1h30m."
    )
    assert track(tracker_env("http://127.0.0.1:9", history_path)).returncode == 2  # no mode given
    assert (
        status(tracker_env("http://127.0.0.1:9", history_path))["total_models"] is None
    )  # no history yet


def test_intervals_are_parsed_never_evaluated():
    assert [parse_interval(text) for text in ("6h", "30m", "1d", "1h30m", "45s", "1.5h")] == [
        21600,
        1800,
        86400,
        5400,
        45,
        5400,
    ]
    for bad in ("", "6", "h", "6x", "1h 30", "__import__('os')", "0s"):
        with pytest.raises(ValueError):
            parse_interval(bad)


def snapshot(
    day: float, total: int, libraries: dict, start=datetime(2026, 1, 1, tzinfo=UTC)
) -> Snapshot:
    moment = (start + timedelta(days=day)).isoformat()
    return Snapshot(
        int(day * 10),
        moment,
        True,
        total,
        libraries,
        {"text-generation": total},
        {},
        1.0,
        None,
        "hub",
    )


def test_growth_statistics_on_a_known_history():
    # 1,000 models a day for 40 days; transformers grows by 600 a day, peft by 400
    history = [
        snapshot(
            day,
            100_000 + 1_000 * day,
            {"transformers": 60_000 + 600 * day, "peft": 40_000 + 400 * day},
        )
        for day in range(0, 41, 2)
    ]
    now = datetime(2026, 2, 10, 12, tzinfo=UTC)
    stats = growth_stats(history, now=now)
    assert (
        stats["total_models"] == 140_000
        and stats["snapshots"] == 21
        and stats["age_seconds"] == 12 * 3600
    )
    assert (
        stats["windows"]["7d"]["added_per_day"] == 1_000 and stats["windows"]["7d"]["days"] == 8
    )  # from day 32
    assert stats["windows"]["30d"] == {
        "added_per_day": 1_000,
        "growth_percent_per_30_days": round(100 * 30_000 / 110_000, 3),
        "days": 30,
    }
    libraries = {group["name"]: group for group in stats["by_library"]}
    assert (
        libraries["transformers"]["30d"]["added_per_day"] == 600
        and libraries["peft"]["7d"]["added_per_day"] == 400
    )
    assert growth_stats(history[:1], now=now)["windows"] == {
        "7d": None,
        "30d": None,
    }  # one snapshot: no rate yet
    assert growth_stats([], now=now)["total_models"] is None

"""The dashboard's scheduled jobs (tracker/jobs.py) in real servers against the test Hub: `hfmap
serve` takes snapshots by itself and stops within 2 s, gunicorn's workers take one snapshot per
interval between them, a Hub failing every request leaves failures and a serving dashboard; and
`hfmap refresh` (hfmap/refresh.py): due, unchanged and failed refreshes."""

import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hub_server import MODELS, Faults, TestHub
from tracker_runs import (
    REPO,
    get,
    get_json,
    group_alive,
    server,
    server_env,
    stop_seconds,
    tracker_env,
    wait_until,
)

from pipeline.build_format import POINTER, resolve_build
from pipeline.config import Settings
from tracker.due import is_due, parse_every, tolerance
from tracker.history import History
from tracker.jobs import check_seconds, job_plan, refresh_due
from tracker.lock import lock_name

pytestmark = pytest.mark.serial  # make test runs it alone (pyproject.toml)
INTERVAL = 2.0


def serve_command(builds, port) -> list[str]:
    return [sys.executable, "-m", "hfmap", "serve", "--build", str(builds), "--port", str(port)]


def test_hfmap_serve_takes_snapshots_by_itself_and_stops_within_two_seconds(
    sample_build, hub, history_path, tmp_path, free_port, session_redis
):
    client = session_redis.client()
    client.delete(lock_name("snapshot"))
    port = free_port()
    env = server_env(
        hub.url,
        history_path,
        sample_build.parent / "cache",
        HFMAP_TRACKER_EVERY="2s",
        REDIS_URL=session_redis.url,
        HFMAP_HUB_TIMEOUT="40",
    )
    url = f"http://127.0.0.1:{port}"
    with server(serve_command(sample_build, port), env, url, tmp_path / "serve.log") as process:
        status, count = wait_until(
            lambda: (found := get_json(url + "/api/count"))[0] == 200 and found,
            60,
            "a snapshot in /api/count",
            process,
        )
        assert count["total_models"] == 2_500  # no `hfmap track` was run: the server took it
        wait_until(
            lambda: len(History(history_path).snapshots()) >= 2, 30, "a second snapshot", process
        )
        starts = hub.listing_starts()
        assert all(
            later - earlier >= INTERVAL - tolerance(INTERVAL)
            for earlier, later in zip(starts, starts[1:], strict=False)
        ), starts
        growth = get_json(url + "/api/growth")[1]
        assert growth["schedules"][0]["interval_seconds"] == INTERVAL
        assert growth["jobs"]["snapshot"]["interval_seconds"] == INTERVAL
        assert growth["jobs"]["snapshot"]["last_run"]["total_models"] == 2_500

        hub.faults = Faults(
            slow={0: 30}
        )  # the next run hangs on its first page: stop the server mid-run
        wait_until(
            lambda: History(history_path).jobs()["snapshot"]["holder"],
            30,
            "a run in progress",
            process,
        )
        assert client.exists(lock_name("snapshot"))
        seconds = stop_seconds(process)
    assert seconds < 2.0, f"the server took {seconds:.1f} s to stop"
    wait_until(lambda: not group_alive(process), 2, "the jobs' processes ending")
    assert History(history_path).jobs()["snapshot"]["holder"] is None  # the run said it ended
    assert not client.exists(lock_name("snapshot"))  # and released the lock
    assert History(history_path).schedules() == []
    assert all(snapshot.ok for snapshot in History(history_path).snapshots(ok=None))


def test_hfmap_serve_with_its_embedded_redis_stops_within_two_seconds(
    sample_build, hub, history_path, tmp_path, free_port
):
    """As `make run` starts it: no REDIS_URL (an embedded Redis), the tracker's schedule on."""
    port = free_port()
    env = server_env(hub.url, history_path, sample_build.parent / "cache", HFMAP_TRACKER_EVERY="1h")
    env.pop("REDIS_URL", None)
    url = f"http://127.0.0.1:{port}"
    with server(serve_command(sample_build, port), env, url, tmp_path / "serve.log") as process:
        assert get(url + "/api/growth")[0] == 200  # an answer cached in the embedded Redis
        seconds = stop_seconds(process)
    assert seconds < 2.0, f"the server took {seconds:.1f} s to stop"


def test_gunicorn_workers_take_one_snapshot_per_interval(
    sample_build, hub, history_path, tmp_path, free_port, session_redis
):
    session_redis.client().delete(lock_name("snapshot"))
    hub.faults = Faults(delay=0.2)  # runs of about 0.6 s: the workers' checks overlap them
    port = free_port()
    env = server_env(
        hub.url,
        history_path,
        sample_build.parent / "cache",
        HFMAP_TRACKER_EVERY="2s",
        REDIS_URL=session_redis.url,
        HFMAP_BUILD_DIR=str(sample_build),
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "dashboard.app:server",
    ]
    url = f"http://127.0.0.1:{port}"
    with server(command, env, url, tmp_path / "gunicorn.log") as process:
        history = History(history_path)
        wait_until(lambda: len(history.schedules()) == 2, 60, "both workers scheduling", process)
        wait_until(lambda: len(history.snapshots()) >= 4, 60, "four snapshots", process)
        seconds = stop_seconds(process)
    assert seconds < 5.0, f"gunicorn took {seconds:.1f} s to stop"
    starts = hub.listing_starts()
    snapshots = history.snapshots(ok=None)
    assert len(snapshots) == len(starts) and all(
        snapshot.ok for snapshot in snapshots
    )  # one run, one listing
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(gap >= INTERVAL - tolerance(INTERVAL) for gap in gaps), (
        gaps
    )  # never two in one interval
    assert all(gap < 3 * INTERVAL for gap in gaps), (
        gaps
    )  # and one in every interval (give or take a start)
    assert history.schedules() == []


def test_a_hub_failing_every_request_leaves_failures_and_the_server_serving(
    sample_build, history_path, tmp_path, free_port
):
    with TestHub(MODELS) as hub:
        hub.faults = Faults(status={0: [503] * 10_000})
        port = free_port()
        env = server_env(
            hub.url,
            history_path,
            sample_build.parent / "cache",
            HFMAP_TRACKER_EVERY="1s",
            HFMAP_TRACK_TIMEOUT="1",
        )
        url = f"http://127.0.0.1:{port}"
        with server(serve_command(sample_build, port), env, url, tmp_path / "serve.log") as process:
            wait_until(
                lambda: len(History(history_path).snapshots(ok=False)) >= 2,
                60,
                "two failed runs",
                process,
            )
            assert get(url + "/health")[0] == 200 and get(url + "/api/count")[0] == 404
            assert get(url + "/growth")[0] == 200
            growth = get_json(url + "/api/growth")[1]
    failure = growth["last_failure"]
    assert "503" in failure["reason"], failure
    assert History(history_path).latest(ok=True) is None


def test_an_offline_machine_records_its_runs_as_failures_with_their_reason(history_path):
    env = tracker_env("https://huggingface.co", history_path, HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-m", "hfmap", "track", "--once", "--if-due", "1h"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    failure = History(history_path).latest(ok=False)
    assert failure is not None and "offline" in failure.error.lower()
    again = subprocess.run(
        [sys.executable, "-m", "hfmap", "track", "--once", "--if-due", "1h"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        again.returncode == 0
        and "no snapshot taken: the last run began less than 1h ago" in again.stderr
    )
    assert len(History(history_path).snapshots(ok=None)) == 1


def test_a_job_is_due_once_per_interval_and_off_turns_it_off(tmp_path):
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert is_due(None, 3600, now)
    assert not is_due(now - timedelta(minutes=30), 3600, now)
    assert is_due(
        now - timedelta(minutes=59, seconds=30), 3600, now
    )  # a little early is within tolerance
    assert (
        parse_every("off", "HFMAP_TRACKER_EVERY") is None
        and parse_every("1d", "HFMAP_REFRESH_EVERY") == 86400
    )
    with pytest.raises(ValueError, match="HFMAP_REFRESH_EVERY must be an interval"):
        parse_every("daily", "HFMAP_REFRESH_EVERY")
    assert check_seconds(2) == 0.25 and check_seconds(6 * 3600) == 30
    plan = job_plan(Settings(tracker_db=tmp_path / "t.sqlite"), tmp_path / "builds")
    assert plan.snapshot_every == 6 * 3600 and plan.refresh_every is None  # the defaults
    assert plan.listing == (tmp_path / "hub-listing.jsonl").absolute()
    history = History(tmp_path / "t.sqlite")
    assert not refresh_due(history, plan.listing, 60)  # no listing yet: the refresh waits for it
    plan.listing.write_text("{}\n")
    assert refresh_due(history, plan.listing, 60)


def test_a_refresh_that_fails_keeps_the_current_build_and_says_why(
    sample_build, history_path, tmp_path
):
    builds = tmp_path / "builds"
    first = resolve_build(sample_build)
    shutil.copytree(first, builds / first.name)
    (builds / POINTER).write_text(first.name + "\n")
    listing = tmp_path / "hub-listing.jsonl"
    listing.write_text("")  # a listing cut to nothing: the build refuses it
    env = tracker_env("http://127.0.0.1:9", history_path, HFMAP_CACHE_DIR=str(tmp_path / "cache"))
    command = [
        sys.executable,
        "-m",
        "hfmap",
        "refresh",
        "--listing",
        str(listing),
        "--out",
        str(builds),
        "--embedder",
        "tfidf",
        "--if-due",
        "1h",
    ]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "the refresh failed and the current build stays" in result.stderr
    assert (builds / POINTER).read_text().strip() == first.name
    refresh = History(history_path).latest_refresh()
    assert (
        refresh.outcome == "failed" and refresh.build_id is None and refresh.listing == str(listing)
    )
    assert refresh.error == f"The source {listing} is empty." and refresh.error in result.stderr
    assert History(history_path).jobs()["refresh"]["holder"] is None
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert (
        again.returncode == 0 and "no refresh: the last one began less than 1h ago" in again.stderr
    )
    missing = subprocess.run(
        [*command[:5], str(tmp_path / "none.jsonl"), *command[6:]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2 and "holds no listing yet" in missing.stderr


def test_the_refresh_lock_lets_one_refresh_run_at_a_time(history_path, tmp_path, session_redis):
    """A second refresh while the lock is held takes none (exit 3) and records nothing."""
    client = session_redis.client()
    lock = client.lock(lock_name("refresh"), timeout=30)
    assert lock.acquire(blocking=False)
    try:
        listing = tmp_path / "hub-listing.jsonl"
        listing.write_text('{"id": "a/b"}\n')
        env = tracker_env("http://127.0.0.1:9", history_path, REDIS_URL=session_redis.url)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "hfmap",
                "refresh",
                "--listing",
                str(listing),
                "--out",
                str(tmp_path / "builds"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        lock.release()
    assert result.returncode == 3 and "another process runs the refresh job" in result.stderr
    assert History(history_path).refreshes() == []


def test_a_job_whose_server_is_killed_outright_ends_itself_and_frees_the_lock(
    sample_build, hub, history_path, tmp_path, free_port, session_redis
):
    client = session_redis.client()
    client.delete(lock_name("snapshot"))
    hub.faults = Faults(slow={0: 60})  # the run hangs on its first page
    port = free_port()
    env = server_env(
        hub.url,
        history_path,
        sample_build.parent / "cache",
        HFMAP_TRACKER_EVERY="1h",
        REDIS_URL=session_redis.url,
        HFMAP_HUB_TIMEOUT="90",
    )
    url = f"http://127.0.0.1:{port}"
    with server(serve_command(sample_build, port), env, url, tmp_path / "serve.log") as process:
        holder = wait_until(
            lambda: History(history_path).jobs()["snapshot"]["holder"],
            30,
            "a run in progress",
            process,
        )
        process.send_signal(signal.SIGKILL)  # no exit handler runs: the job must notice by itself
        process.wait()
        wait_until(lambda: not group_alive(process), 5, "the job's process ending after its server")
    assert holder.split(":")[-1] != str(
        process.pid
    )  # the run was the job's own process, not the server
    assert History(history_path).jobs()["snapshot"]["holder"] is None and not client.exists(
        lock_name("snapshot")
    )
    assert History(history_path).snapshots(ok=None) == []  # an interrupted run stores nothing


def shown_text(component) -> str:
    """The text a Dash component tree shows (its strings, in order)."""
    if isinstance(component, str):
        return component
    if isinstance(component, list | tuple):
        return "".join(shown_text(part) for part in component)
    children = getattr(component, "children", None)
    return "" if children is None else shown_text(children)


def test_the_growth_view_says_who_runs_a_job_and_when_a_holder_went_silent(history_path):
    from dashboard.pages.growth import refresh_state, tracker_state
    from tracker.report import growth_report

    history = History(history_path)
    history.set_schedule("web-1:41", 6 * 3600, "2026-11-30T18:00:00+00:00")
    history.set_job_interval("snapshot", 6 * 3600)
    history.set_job_interval("refresh", 86400)
    history.job_running("snapshot", "web-1:42")
    history.record_refresh(
        "2026-11-30T10:00:00+00:00", "failed", "/data/hub.jsonl", error="The source x is empty."
    )
    report = growth_report(history)
    now = datetime.now(UTC)
    running = shown_text(tracker_state(report, str(history_path), now))
    assert "every 6 h" in running and "Running now: web-1:42 holds the lock since" in running
    assert "No snapshot yet" in running
    silent = shown_text(tracker_state(report, str(history_path), now + timedelta(minutes=5)))
    assert "Stalled: web-1:42 began a run at" in silent and "its lock expires" in silent
    refresh = shown_text(refresh_state(report, "20261130T000000000000Z", now))
    assert "every 1 d" in refresh and "failed: The source x is empty.; the map stayed" in refresh
    assert "Serving build 20261130T000000000000Z." in refresh
    history.clear_schedule("web-1:41")
    nobody = shown_text(tracker_state(growth_report(history), str(history_path), now))
    assert "no scheduled tracker is running" in nobody


def test_the_refresh_builds_on_the_cluster_the_settings_name(sample_build, history_path, tmp_path):
    """HFMAP_DASK_SCHEDULER reaches the refresh's build as it does `hfmap build`: a scheduler
    nobody listens on fails the refresh with the build's own sentence, the current build stays."""
    builds = tmp_path / "builds"
    first = resolve_build(sample_build)
    shutil.copytree(first, builds / first.name)
    (builds / POINTER).write_text(first.name + "\n")
    listing = tmp_path / "hub-listing.jsonl"
    listing.write_text("{}\n")
    env = tracker_env(
        "http://127.0.0.1:9",
        history_path,
        HFMAP_CACHE_DIR=str(tmp_path / "cache"),
        HFMAP_DASK_SCHEDULER="tcp://127.0.0.1:9",
    )
    command = [sys.executable, "-m", "hfmap", "refresh", "--listing", str(listing)]
    command += ["--out", str(builds), "--embedder", "tfidf"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    refresh = History(history_path).latest_refresh()
    assert refresh.outcome == "failed"
    assert refresh.error.startswith("Cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert (builds / POINTER).read_text().strip() == first.name

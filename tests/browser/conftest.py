"""Real-browser tests: a headless Debian chromium driven by its chromedriver (selenium).

Fixtures
    browser                 session-wide Chrome WebDriver (quit at the end of the session)
    dashboard_url           `hfmap serve` over sample_build, started once; its base URL
    tracker_history         the snapshot history that server reads
    served_app              the `served_app(command, env, port)` context manager (below)
    serve_build             `serve_build(build, tracker_db)`: `hfmap serve` over a build
    console_errors, wait_for, wait_until, screenshot
                            the helpers below, handed out as fixtures so a test module
                            never has to import this conftest (free_port is tests/conftest.py's)

Screenshots go to a temporary folder, so a test run modifies no tracked file; set
HFMAP_SCREENSHOTS=docs/screenshots (a folder, relative to the repository) to retake the README's.

`make test` installs chromium and chromium-driver (Debian) when they are missing. Without
them these tests fail when the environment variable CI is set and skip otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS_VARIABLE = "HFMAP_SCREENSHOTS"  # where screenshots go (unset: a temporary folder)
HEALTH_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0

# Requests to our own servers must never go through a proxy from the environment.
_LOCAL_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---------------------------------------------------------------- helpers


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _health_ok(url: str) -> bool:
    try:
        with _LOCAL_HTTP.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not exited in time."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # its own session: the group id is its pid
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def served_app(
    command: Sequence[str],
    env: Mapping[str, str] | None,
    port: int,
    *,
    log_path: Path | None = None,
    timeout: float = HEALTH_TIMEOUT,
) -> Iterator[str]:
    """Run `command` (which must listen on 127.0.0.1:`port`) and yield its base URL.

    `env` is the whole environment of the process (None: this process's environment).
    Its stdout and stderr go to `log_path` (default: a new file in the temp directory).
    Yields once GET /health answers 200; fails the test with the log's tail when the
    process exits first or `timeout` seconds pass. Stopped afterwards: SIGTERM, then kill.
    """
    if log_path is None:
        import tempfile

        log_path = Path(tempfile.mkdtemp(prefix="hfmap-served-")) / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process_env = dict(os.environ if env is None else env)
    process_env.setdefault("PYTHONUNBUFFERED", "1")
    base_url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=REPO,
            env=process_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while not _health_ok(f"{base_url}/health"):
            if process.poll() is not None:
                pytest.fail(
                    f"the server exited with code {process.returncode} before {base_url}/health "
                    f"answered: {' '.join(map(str, command))}\n"
                    f"--- {log_path} (tail) ---\n{_tail(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() - started > timeout:
                pytest.fail(
                    f"{base_url}/health did not answer 200 within {timeout:.0f} s: "
                    f"{' '.join(map(str, command))}\n--- {log_path} (tail) ---\n{_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield base_url
    finally:
        _stop(process)


def console_errors(driver) -> list[dict]:
    """SEVERE entries of the browser console since the last call (reading drains the log),
    favicon 404s left out."""
    return [
        entry
        for entry in driver.get_log("browser")
        if entry.get("level") == "SEVERE" and "favicon.ico" not in entry.get("message", "")
    ]


def wait_for(driver, css: str, timeout: float = 30.0):
    """The first element matching `css` once it is visible; fails the test after `timeout` s."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as conditions
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
            conditions.visibility_of_element_located((By.CSS_SELECTOR, css))
        )
    except TimeoutException:
        errors = "\n".join(entry.get("message", "") for entry in console_errors(driver)) or "(none)"
        pytest.fail(
            f"{css!r} was not visible within {timeout:.0f} s on {driver.current_url}\n"
            f"console errors:\n{errors}",
            pytrace=False,
        )


def wait_until(condition, timeout: float = 30.0, message: str = "condition"):
    """condition()'s first truthy value, polled; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {message}", pytrace=False)


def screenshot_folder() -> Path:
    """HFMAP_SCREENSHOTS (relative to the repository), or one temporary folder per test run."""
    chosen = os.environ.get(SCREENSHOTS_VARIABLE)
    return REPO / chosen if chosen else _temporary_folder()


@functools.cache
def _temporary_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="hfmap-screenshots-"))


def screenshot(driver, name: str) -> Path:
    """Save the window as NAME.png in the screenshot folder (screenshot_folder) and return its
    path."""
    folder = screenshot_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if not driver.save_screenshot(str(path)):
        pytest.fail(f"could not save the screenshot {path}", pytrace=False)
    return path


def _chrome(chromium: str, chromedriver: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import (
        Service,
    )  # webdriver.ChromeService in selenium >= 4.10

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium never asks Selenium Manager (or the network) for one.
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def browser():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        missing = " and ".join(
            name
            for name, path in (("chromium", chromium), ("chromedriver", chromedriver))
            if not path
        )
        message = (
            f"{missing} not found on PATH: the browser tests need Debian's chromium and "
            f"chromium-driver (`make test` installs them)"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    driver = _chrome(chromium, chromedriver)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session", name="served_app")
def served_app_fixture(tmp_path_factory):
    """`served_app(command, env, port)` with each server's log in its own pytest temp dir."""

    def start(command: Sequence[str], env: Mapping[str, str] | None, port: int, **kwargs):
        kwargs.setdefault("log_path", tmp_path_factory.mktemp("server") / "server.log")
        return served_app(command, env, port, **kwargs)

    return start


@pytest.fixture(scope="session", name="console_errors")
def console_errors_fixture():
    return console_errors


@pytest.fixture(scope="session", name="wait_for")
def wait_for_fixture():
    return wait_for


@pytest.fixture(scope="session", name="wait_until")
def wait_until_fixture():
    return wait_until


@pytest.fixture(scope="session", name="screenshot")
def screenshot_fixture():
    return screenshot


@pytest.fixture(scope="session")
def tracker_history(tmp_path_factory) -> Path:
    """The snapshot history the served dashboard reads (empty until a test runs the tracker)."""
    return tmp_path_factory.mktemp("tracker") / "tracker.sqlite"


@pytest.fixture(scope="session")
def serve_build(served_app, free_port):
    """`serve_build(build, tracker_db)`: `hfmap serve` over a build on a free port, with the
    embedded cache (REDIS_URL unset) and the prepared files beside the build; a context manager
    yielding its base URL."""

    def start(build: Path, tracker_db: Path):
        port = free_port()
        env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
        env.update(
            HF_HUB_OFFLINE="1",
            HF_DATASETS_OFFLINE="1",
            HFMAP_CACHE_DIR=str(build.parent / "cache"),
            HFMAP_TRACKER_DB=str(tracker_db),
        )
        command = [sys.executable, "-m", "hfmap", "serve", "--build", str(build)]
        return served_app([*command, "--port", str(port)], env, port)

    return start


@pytest.fixture(scope="session")
def dashboard_url(sample_build, serve_build, tracker_history) -> Iterator[str]:
    """`hfmap serve` over the sample build, with the embedded cache (REDIS_URL unset)."""
    with serve_build(sample_build, tracker_history) as url:
        yield url

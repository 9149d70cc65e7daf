"""docker-compose.yml and the Dockerfile, read the way Docker reads them, for the structure test and
the compose twin: services, their commands and environments with ``${VAR:-default}`` interpolated
(parsed, never evaluated), named volumes, health checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<colon>:?)-(?P<default>[^}]*))?\}")


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
    ]


def image_entrypoint() -> list[str]:
    return json.loads(
        [arguments for name, arguments in dockerfile_instructions() if name == "ENTRYPOINT"][-1]
    )


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} (default when unset or empty) and ${VAR-default}
    (when unset)."""

    def replace(match: re.Match) -> str:
        name, default = match["name"], match["default"]
        current = env.get(name)
        if default is None:
            return current or ""
        if current is None or (match["colon"] and current == ""):
            return default
        return current

    return VARIABLE.sub(replace, value)


def service_command(name: str, env: dict[str, str]) -> list[str]:
    """The argv a service's container runs: its entrypoint (the image's when it builds this image)
    and command."""
    spec = compose()["services"][name]
    entrypoint = spec.get("entrypoint") or (image_entrypoint() if "build" in spec else [])
    return [interpolate(str(part), env) for part in [*entrypoint, *spec.get("command", [])]]


def service_environment(name: str, env: dict[str, str]) -> dict[str, str]:
    spec = compose()["services"][name]
    return {
        key: interpolate(str(value), env) for key, value in (spec.get("environment") or {}).items()
    }


def service_volumes(name: str) -> list[tuple[str, str, bool]]:
    """(volume, mount point, read only) of each named volume a service mounts."""
    mounts = []
    for entry in compose()["services"][name].get("volumes", []):
        volume, target, *mode = entry.split(":")
        mounts.append((volume, target, mode == ["ro"]))
    return mounts


def healthcheck_command(name: str, env: dict[str, str]) -> list[str] | None:
    """The argv of a service's health check ("CMD" form), None when it has none or it is
    disabled."""
    check = compose()["services"][name].get("healthcheck") or {}
    if check.get("disable") or not check.get("test"):
        return None
    test = check["test"]
    assert test[0] == "CMD", f"{name}: health checks are written in the CMD form"
    return [interpolate(str(part), env) for part in test[1:]]

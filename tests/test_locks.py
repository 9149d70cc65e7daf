"""The dependency locks (requirements/runtime.txt for the image, requirements/test.txt for `make`):
every package pinned with its hashes, every dependency pyproject.toml declares pinned to a version
it admits, torch's CPU build and no CUDA package, and this environment holds the locked versions
(so the tests ran against what a fresh machine installs). `make lock` rewrites them."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = REPO / "requirements" / "runtime.txt"
TEST_LOCK = REPO / "requirements" / "test.txt"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def read_lock(path: Path) -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, sha256 hashes), from a pip-compile file (comments dropped)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line.split(" --hash", 1)[0])
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = (Version(specifier.version), HASH.findall(line))
    return pins


@pytest.fixture(scope="module")
def runtime() -> dict[str, tuple[Version, list[str]]]:
    return read_lock(RUNTIME_LOCK)


@pytest.fixture(scope="module")
def test_lock() -> dict[str, tuple[Version, list[str]]]:
    return read_lock(TEST_LOCK)


def declared(*extras: str) -> list[Requirement]:
    optional = PROJECT["optional-dependencies"]
    names = PROJECT["dependencies"] + [name for extra in extras for name in optional[extra]]
    return [Requirement(name) for name in names]


def test_every_pin_has_its_hashes(runtime, test_lock):
    for pins in (runtime, test_lock):
        assert pins and all(hashes for _, hashes in pins.values())


@pytest.mark.parametrize(("lock", "extras"), [("runtime", ()), ("test_lock", ("test",))])
def test_every_declared_dependency_is_pinned_to_a_version_it_admits(lock, extras, request):
    pins = request.getfixturevalue(lock)
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in the lock: run `make lock`"
        admitted = requirement.specifier.contains(pins[name][0], prereleases=True)
        assert admitted, f"{name}'s pin is not what pyproject.toml asks for: run `make lock`"


def test_the_test_lock_pins_the_runtime_lock_s_versions(runtime, test_lock):
    assert {name: test_lock[name] for name in runtime} == runtime


def test_torch_is_the_cpu_build_and_no_cuda_package_is_locked(runtime, test_lock):
    for pins in (runtime, test_lock):
        assert pins["torch"][0] == Version("2.13.0+cpu")
        assert not [name for name in pins if name.startswith(("nvidia-", "triton", "cuda"))]


def test_this_environment_holds_the_locked_versions(test_lock):
    installed = {name: Version(metadata.version(name)) for name in test_lock}
    assert installed == {name: version for name, (version, _) in test_lock.items()}

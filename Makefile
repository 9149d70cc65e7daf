# Two commands on a fresh machine:  `make run` (build the bundled sample if there is no build
# yet, then serve the dashboard on http://127.0.0.1:8050/, which runs the model-count tracker
# every HFMAP_TRACKER_EVERY) and `make test` (the test suite). Both install what they need into .venv first;
# `make test` also installs Debian's chromium and chromium-driver for the browser tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
RUNTIME_LOCK := requirements/runtime.txt
TEST_LOCK := requirements/test.txt
PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.6.2

.PHONY: install install-test lock browser run check test bench bench-dashboard clean

# Everything is installed from the locks (exact versions and their hashes, the CPU build of torch,
# so no CUDA package can come in), then hfmap itself without dependencies: `make run` needs only
# the runtime lock (requirements/runtime.txt); check and test add the test lock's tools on top
# (requirements/test.txt agrees with the runtime lock on every package they share). --no-compile:
# Python writes the bytecode of the modules it imports as it first imports them, instead of pip
# compiling every file of every package (60 of the 90 s of the runtime install here).
$(RUNTIME_STAMP): pyproject.toml $(RUNTIME_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/pip install --quiet --no-compile --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(TEST_STAMP): $(RUNTIME_STAMP) $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-compile --require-hashes -r $(TEST_LOCK)
	touch $@

install: $(RUNTIME_STAMP)

install-test: $(TEST_STAMP)

# Rewrites the locks from pyproject.toml and requirements/lock.in, keeping every pin that still
# fits (LOCK_ARGS=--upgrade moves all to the newest, LOCK_ARGS='--upgrade-package NAME' one).
# The test lock is constrained by the runtime lock, so the two agree on every shared package.
LOCK_TOOLS := $(VENV)/pip-tools
PIP_COMPILE := CUSTOM_COMPILE_COMMAND='make lock' $(LOCK_TOOLS)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	$(LOCK_ARGS)
lock:
	[ -x $(LOCK_TOOLS)/bin/pip-compile ] || { $(PYTHON) -m venv $(LOCK_TOOLS) \
	  && $(LOCK_TOOLS)/bin/pip install --quiet pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION); }
	$(PIP_COMPILE) -o $(RUNTIME_LOCK) pyproject.toml requirements/lock.in
	$(PIP_COMPILE) --extra test -c $(RUNTIME_LOCK) -o $(TEST_LOCK) pyproject.toml requirements/lock.in

# The browser tests drive Debian's chromium through its chromedriver. Installed with apt
# only when one of them is missing (as root, or through sudo); `make run` never needs them.
BROWSER_PKGS := chromium chromium-driver
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS)
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then SUDO=none; \
	elif [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else SUDO=none; fi; \
	if [ "$$SUDO" != none ]; then \
	  echo "Installing $(BROWSER_PKGS) for the browser tests (apt-get)"; \
	  $$SUDO sh -c '$(APT_INSTALL)' && command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && exit 0; \
	fi; \
	echo "make test needs chromium and chromedriver for the browser tests and could not install them: run 'apt-get install chromium chromium-driver' as root (or with sudo) on Debian, or put both on PATH." >&2; \
	exit 1

run: install
	@if [ ! -f "$${HFMAP_BUILD_DIR:-builds}/CURRENT" ]; then $(BIN)/hfmap build --source sample; fi
	$(BIN)/hfmap serve

# Lint, format and types (configured in pyproject.toml); .ci/run runs it before the tests.
check: install-test
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy

# Two test processes (pytest-xdist, each test file on one of them), then the tests marked serial
# alone: they time how fast servers stop, kill processes or listen on fixed ports.
test: install-test browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n 2 --dist loadfile -m "not serial"
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m serial

bench: install
	$(BIN)/python bench/run.py

bench-dashboard: install-test browser
	$(BIN)/python bench/dashboard.py

clean:
	rm -rf $(VENV) builds .hfmap-cache

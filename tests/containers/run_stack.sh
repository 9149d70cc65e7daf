#!/usr/bin/env bash
# `docker compose up` for real, with podman: builds the image from the project's Dockerfile, brings
# docker-compose.yml up with podman-compose and checks the running containers (issue 18).
#
#   tests/containers/run_stack.sh        (as root, on Debian bookworm; .ci/run runs it after the tests)
#
# No image registry is reachable on the machines this runs on, so two images are made locally:
# a base standing in for python:3.11-slim (Debian bookworm from debootstrap, with this machine's
# CPython 3.11 in /usr/local as in the official image) and a Redis 7 (Debian's redis-server),
# passed in through the Dockerfile's BASE_IMAGE and the compose file's HFMAP_REDIS_IMAGE. The
# machine's CA certificates and pip configuration reach the build as read-only build volumes (never
# a layer), and torch's CPU wheel comes from a local index (TORCH_INDEX) holding the very file
# whose hash the lock pins. Everything else in the two files runs as written.
#
# Settings (environment): HFMAP_CONTAINERS_WORK (scratch folder, /tmp/hfmap-containers),
# HFMAP_CONTAINERS_PORT (the dashboard's published port, 18550; the test Hub and Redis take the
# next two), HFMAP_TORCH_WHEELS (the folder holding torch's CPU wheel, /opt/wheels),
# HFMAP_KEEP_STACK=1 (leave the stack and its volumes up at the end).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$REPO/tests/containers"
WORK="${HFMAP_CONTAINERS_WORK:-/tmp/hfmap-containers}"
PORT="${HFMAP_CONTAINERS_PORT:-18550}"
HUB_PORT=$((PORT + 1))
REDIS_PORT=$((PORT + 2))
TORCH_WHEELS="${HFMAP_TORCH_WHEELS:-/opt/wheels}"
BASE_IMAGE=localhost/hfmap-test-base:bookworm-py3.11
REDIS_IMAGE=localhost/hfmap-test-redis:7
IMAGE=localhost/hfmap:latest  # the compose file's image: hfmap:latest
PROJECT=hfmapci               # container, volume and network names start with hfmapci_
URL="http://127.0.0.1:$PORT"
export CONTAINERS_CONF="$HERE/containers.conf"

# What `docker compose` would read from the shell: the published port, a private Redis port, two
# workers, the test Hub (a host process) as the Hub, a snapshot at start and no refresh of the map.
export HFMAP_PORT="$PORT" HFMAP_REDIS_PORT="$REDIS_PORT" HFMAP_REDIS_IMAGE="$REDIS_IMAGE"
export HFMAP_WORKERS=2 HFMAP_TRACKER_EVERY=1h HFMAP_REFRESH_EVERY=off
export HF_ENDPOINT="http://host.containers.internal:$HUB_PORT"

mkdir -p "$WORK"
STARTED=$SECONDS
step() { echo "== [$((SECONDS - STARTED)) s] $*"; }
fail() {
	echo "FAILED: $*" >&2
	exit 1
}
compose() { "$WORK/podman-compose/bin/podman-compose" --in-pod false -p "$PROJECT" -f "$REPO/docker-compose.yml" "$@"; }
container() { echo "${PROJECT}_$1_1"; }
http_get() { curl --silent --show-error --fail --max-time 10 --noproxy '*' "$URL$1"; }
health() { http_get /health 2>/dev/null || true; }
json_field() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read() or "{}").get(sys.argv[1], ""))' "$1"; }
host_port_open() { python3 -c 'import socket, sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$1"; }
# wait_until SECONDS DESCRIPTION COMMAND…: COMMAND until it succeeds, or fail after SECONDS
wait_until() {
	local limit=$1 what=$2
	shift 2
	local deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || fail "$what: not within $limit s"
		sleep 2
	done
}

install_tools() {
	local packages=()
	for tool in podman runc debootstrap iptables curl; do
		command -v "$tool" >/dev/null || packages+=("$tool")
	done
	if ((${#packages[@]})); then
		step "installing ${packages[*]} (Debian's packages)"
		[ "$(id -u)" = 0 ] || fail "run as root: podman, debootstrap and chroot need it"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${packages[@]}" uidmap netavark aardvark-dns >/dev/null
	fi
	if [ ! -x "$WORK/podman-compose/bin/podman-compose" ]; then
		step "installing podman-compose 1.6.0 into $WORK/podman-compose (hashes checked)"
		python3 -m venv "$WORK/podman-compose"
		"$WORK/podman-compose/bin/pip" install --quiet --require-hashes -r "$HERE/podman-compose.txt"
	fi
}

# The stand-in for python:3.11-slim, made once: Debian bookworm (minbase, with the libraries the
# official image has) and this machine's CPython 3.11 copied into /usr/local, its pip from
# ensurepip. Debian's own python3 is 3.11.2, older than the 3.11.3 the lock was resolved for
# (redis needs async-timeout below it), so it does not stand in.
make_base_image() {
	if podman image exists "$BASE_IMAGE"; then
		step "base image $BASE_IMAGE: already made"
		return
	fi
	local rootfs="$WORK/rootfs" python_home
	python_home="$(python3.11 -c 'import sys; print(sys.base_prefix)')" ||
		fail "python3.11 is needed on this machine to make the base image"
	step "base image: debootstrap Debian bookworm into $rootfs"
	rm -rf "$rootfs"
	debootstrap --variant=minbase \
		--include=ca-certificates,netbase,tzdata,libssl3,libsqlite3-0,libffi8,libbz2-1.0,liblzma5,libreadline8,zlib1g,libncursesw6,libuuid1 \
		bookworm "$rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" ||
		fail "debootstrap did not finish (see $WORK/debootstrap.log)"
	step "base image: CPython $(python3.11 -c 'import platform; print(platform.python_version())') from $python_home into /usr/local"
	tar -C "$python_home" -c --exclude='lib/python3.11/site-packages/*' --exclude='__pycache__' \
		--exclude='lib/python3.11/test' --exclude='lib/python3.11/idlelib' \
		--exclude='lib/python3.11/tkinter' --exclude='lib/python3.11/turtledemo' \
		bin/python3.11 lib/libpython3.11.so.1.0 lib/libpython3.so lib/python3.11 |
		tar -C "$rootfs/usr/local" -x
	ln -sf python3.11 "$rootfs/usr/local/bin/python3"
	ln -sf python3.11 "$rootfs/usr/local/bin/python"
	chroot "$rootfs" ldconfig
	chroot "$rootfs" python3 -c 'import ssl, sqlite3, ctypes, bz2, lzma, zlib, uuid' ||
		fail "the copied CPython misses a library in the base image"
	chroot "$rootfs" python3 -m ensurepip --default-pip >/dev/null 2>&1
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/root/.cache
	tar -C "$rootfs" -c . | podman import --quiet --change 'ENV LANG=C.UTF-8' \
		--change 'CMD ["python3"]' - "$BASE_IMAGE" >/dev/null
	rm -rf "$rootfs"
}

make_redis_image() {
	if podman image exists "$REDIS_IMAGE"; then
		step "Redis image $REDIS_IMAGE: already made"
		return
	fi
	step "Redis image: Debian's redis-server on the base image"
	podman build --quiet --pull=never --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$REDIS_IMAGE" \
		-f "$HERE/redis.Containerfile" "$HERE" >/dev/null
}

# The project's image from its Dockerfile, as it stands (layers cached between runs by podman).
# The build's mounts go on folders the base image has (empty or not needed in a build), since this
# buildah leaves the mount points it creates in the image: the machine's CA certificates on
# /etc/ssl/certs, its pip configuration in /root/.config/pip (root's home during the RUN steps),
# torch's one-wheel index on /mnt and the wheel's folder on /srv.
build_image() {
	local wheel index="$WORK/torch-index" home="$WORK/build-home"
	wheel="$(find "$TORCH_WHEELS" -maxdepth 1 -name 'torch-2.13.0+cpu-cp311-*.whl' | head -n 1)"
	[ -n "$wheel" ] || fail "no torch 2.13.0+cpu wheel in $TORCH_WHEELS (set HFMAP_TORCH_WHEELS)"
	mkdir -p "$index/torch" "$home/.config/pip"
	printf '<a href="file:///srv/%s#sha256=%s">%s</a>\n' "$(basename "$wheel")" \
		"$(sha256sum "$wheel" | cut -d' ' -f1)" "$(basename "$wheel")" >"$index/torch/index.html"
	if [ -f /etc/pip.conf ]; then
		cp /etc/pip.conf "$home/.config/pip/pip.conf"
	else
		printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$home/.config/pip/pip.conf"
	fi
	step "image $IMAGE: podman build (log: $WORK/build.log)"
	local started=$SECONDS
	podman build --pull=never --format docker --build-arg BASE_IMAGE="$BASE_IMAGE" \
		--build-arg TORCH_INDEX=file:///mnt --volume /etc/ssl/certs:/etc/ssl/certs:ro \
		--volume "$home:/root" --volume "$index:/mnt:ro" --volume "$(dirname "$wheel"):/srv:ro" \
		-t "$IMAGE" "$REPO" >"$WORK/build.log" 2>&1 || {
		tail -n 30 "$WORK/build.log" >&2
		fail "the image did not build from the Dockerfile"
	}
	echo "   built in $((SECONDS - started)) s, $(podman image inspect --format '{{.Size}}' "$IMAGE" |
		awk '{printf "%.0f MB", $1 / 1e6}')"
}

# No test data, caches, build-time mounts or credentials in the image's layers.
inspect_image() {
	step "image layers: no test data, caches, credentials or build-time mounts"
	podman history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-150 >"$WORK/history.txt"
	local env
	env="$(podman image inspect --format '{{.Config.Env}} {{.Config.User}}' "$IMAGE")"
	case "$env" in *HF_TOKEN* | *TORCH_INDEX* | *PIP_CERT*) fail "the image's environment holds a build setting or a token: $env" ;; esac
	[[ "$env" == *" hfmap" ]] || fail "the image does not run as the user hfmap: $env"
	local found
	found="$(podman run --rm --no-healthcheck --user 0 --entrypoint sh "$IMAGE" -c '
		find /mnt /srv /tmp /root/.config /root/.cache /home/hfmap/.cache /data/builds \
			/data/cache /data/tracker -mindepth 1 2>/dev/null
		ls -d /etc/pip.conf /etc/xdg/pip /app/tests /app/builds /app/.git /app/.venv /app/bench \
			/app/requirements/test.txt 2>/dev/null
		find /data -mindepth 1 -not -path /data/builds -not -path /data/cache -not -path /data/tracker
		find / -xdev \( -name "*.jsonl" -o -name "*.sqlite" -o -name ".env" -o -name "pip.conf" \
			-o -name "hub_server.py" \) 2>/dev/null')" || true
	[ -z "$found" ] || fail "the image holds what it should not: $found"
	local certs base_certs
	certs="$(podman run --rm --no-healthcheck --entrypoint sha256sum "$IMAGE" /etc/ssl/certs/ca-certificates.crt)"
	base_certs="$(podman run --rm --entrypoint sha256sum "$BASE_IMAGE" /etc/ssl/certs/ca-certificates.crt)"
	[ "$certs" = "$base_certs" ] || fail "the build's CA certificates were left in the image"
}

start_test_hub() {
	step "test Hub (tests/hub_server.py) on the host, port $HUB_PORT, reached as $HF_ENDPOINT"
	"$REPO/.venv/bin/python" "$HERE/fake_hub.py" "$HUB_PORT" "$HF_ENDPOINT" >"$WORK/hub.log" 2>&1 &
	HUB_PID=$!
	wait_until 20 "the test Hub listening" curl -sf --noproxy '*' "http://127.0.0.1:$HUB_PORT/api/models?limit=1"
}

cleanup() {
	local status=$?
	if [ "${HFMAP_KEEP_STACK:-0}" != 1 ] && [ -x "$WORK/podman-compose/bin/podman-compose" ]; then
		((status == 0)) || compose logs >"$WORK/compose.log" 2>&1 || true
		compose down -v >/dev/null 2>&1 || true
	fi
	[ -z "${HUB_PID:-}" ] || kill "$HUB_PID" 2>/dev/null || true
	((status == 0)) && echo "== [$((SECONDS - STARTED)) s] all checks passed" ||
		echo "== the stack's logs: $WORK/compose.log, the build's: $WORK/build.log" >&2
}

# The dashboard's health check, as the compose file writes it. podman 4.3 runs health checks from
# systemd timers, and there is no systemd here: `podman healthcheck run` runs the same check.
dashboard_healthy() { podman healthcheck run "$(container dashboard)"; }

main() {
	install_tools
	make_base_image
	make_redis_image
	build_image
	inspect_image
	trap cleanup EXIT
	compose down -v >/dev/null 2>&1 || true # what an interrupted run left
	start_test_hub

	# podman-compose waits for the job to complete before it starts the dashboard; the compose
	# file's `service_healthy` on Redis needs podman 4.6 and is skipped here (with a warning). It
	# gives the dashboard podman's --requires on both, and podman starts them again with it: the job
	# runs a second time (finding the build, exiting 0); `podman wait` reads the last run's code.
	step "podman-compose up -d (redis, the pipeline job, then the dashboard)"
	compose up -d >"$WORK/up.log" 2>&1 || {
		tail -n 30 "$WORK/up.log" >&2
		fail "podman-compose up did not start the stack"
	}
	local pipeline exit_code
	pipeline="$(container pipeline)"
	exit_code="$(podman wait "$pipeline" 2>/dev/null)"
	[ "$exit_code" = 0 ] || fail "the pipeline job exited with '$exit_code' ($(podman inspect \
		--format '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' "$pipeline")):
$(podman logs --tail 20 "$pipeline" 2>&1)"
	podman logs "$pipeline" 2>&1 | tail -n 3 | sed 's/^/   pipeline: /'

	step "the dashboard turns healthy (its compose health check)"
	wait_until 240 "the dashboard's health check" dashboard_healthy
	local first_build
	first_build="$(health | json_field build)"
	[ "$(health | json_field status)" = ok ] || fail "/health is not ok: $(health)"
	[ "$(health | json_field redis)" = "redis://redis:$REDIS_PORT/0" ] || fail "the dashboard does not use the redis service: $(health)"
	echo "   /health: $(health)"

	step "every view over the published port $PORT"
	for path in / /network /distributions /families /drift /evolution /growth /compare; do
		http_get "$path" >/dev/null || fail "GET $path did not answer 200"
	done
	if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
		"$REPO/.venv/bin/python" "$HERE/browse_views.py" "$URL" || fail "a view did not draw in Chromium"
	else
		fail "chromium and chromedriver are needed for the views in a real browser (make browser installs them)"
	fi

	step "the tracker, inside the dashboard container, counts the test Hub"
	wait_until 120 "a snapshot of the test Hub's 2,500 models" \
		sh -c "curl -sf --noproxy '*' $URL/api/count | grep -q '\"total_models\": *2500'"
	echo "   /api/count: $(http_get /api/count | cut -c1-150)"

	step "Redis is not reachable from the host; every container runs as uid 1000 except Redis"
	[ -z "$(podman port "$(container redis)")" ] || fail "Redis publishes a port: $(podman port "$(container redis)")"
	! host_port_open "$REDIS_PORT" || fail "something answers on the host's port $REDIS_PORT"
	[ "$(podman exec "$(container dashboard)" id -u)" = 1000 ] || fail "the dashboard does not run as uid 1000"
	local users
	users="$(podman top "$(container dashboard)" user | tail -n +2 | sort -u)"
	[ "$users" = hfmap ] || fail "a dashboard process runs as another user: $users"
	[ "$(podman inspect --format '{{.Config.User}}' "$pipeline")" = hfmap ] || fail "the pipeline job does not run as hfmap"
	[ "$(podman exec "$(container dashboard)" stat -c %u /data/builds/CURRENT /data/tracker/tracker.sqlite | sort -u)" = 1000 ] ||
		fail "the volumes' files are not the user's"

	step "podman-compose run pipeline build --source sample --full: the dashboard moves to the new build"
	# --no-deps: the job's one dependency is the cluster profile's optional scheduler, which
	# podman-compose 1.6's `run` would try to start (and fail on) although the profile is off
	compose run --rm --no-deps pipeline build --source sample --embedder tfidf --full --quiet >"$WORK/rebuild.log" 2>&1 ||
		fail "the rebuild failed: $(tail -n 20 "$WORK/rebuild.log")"
	local second_build
	second_build="$(podman exec "$(container dashboard)" cat /data/builds/CURRENT)"
	[ "$second_build" != "$first_build" ] || fail "the rebuild made no new build"
	wait_until 90 "the dashboard serving build $second_build" \
		sh -c "curl -sf --noproxy '*' $URL/health | grep -q '\"build\": *\"$second_build\"'"
	echo "   $first_build -> $second_build"

	step "down keeps the named volumes; a second up serves the same build at once"
	compose down >/dev/null 2>&1 || fail "podman-compose down failed"
	for volume in builds cache tracker-data redis-data; do
		podman volume exists "${PROJECT}_$volume" || fail "down removed the volume $volume"
	done
	local up_started=$SECONDS
	compose up -d >"$WORK/up2.log" 2>&1 || fail "the second podman-compose up failed"
	local job_log
	job_log="$(podman logs "$pipeline" 2>&1)"
	[[ "$job_log" == *"already has a current build ($second_build)"* ]] ||
		fail "the second pipeline job did not keep the build: $(tail -n 5 <<<"$job_log")"
	wait_until 120 "the dashboard's health check after the second up" dashboard_healthy
	[ "$(health | json_field build)" = "$second_build" ] || fail "the second up serves another build: $(health)"
	echo "   healthy, serving $second_build, $((SECONDS - up_started)) s after the second up"
}

main "$@"

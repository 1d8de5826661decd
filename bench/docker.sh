#!/usr/bin/env bash
# bench/docker.sh: what the Docker suite (test/suites/docker.sh) costs.
# Builds the base stand-in twice, first with an empty root filesystem cache
# (mmdebstrap downloads bookworm + postgresql-15 from Debian's mirror) and
# then with the cache, then docker/Dockerfile on it, and prints the seconds.
# Uses a private podman storage; leaves nothing behind but the normal cache.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v podman >/dev/null && command -v mmdebstrap >/dev/null ||
	{ echo "== docker: skipped (podman or mmdebstrap not installed)"; exit 0; }

tmp=$(mktemp -d /var/tmp/pgmaint-bench-docker.XXXXXX)
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --runtime /usr/sbin/runc --events-backend file)
trap '"${P[@]}" rmi -f -a >/dev/null 2>&1; "${P[@]}" system reset -f >/dev/null 2>&1; rm -rf "$tmp"' EXIT

secs() { local t0; t0=$(date +%s); "$@" >/dev/null 2>&1; echo $(($(date +%s) - t0)); }

echo "== docker ($(nproc) CPUs)"
cold=$(PGMAINT_DOCKER_CACHE="$tmp/cache" secs bash docker/base/build.sh localhost/postgres:15-bookworm "${P[@]:1}")
printf '%-52s %5s s\n' "base stand-in, empty rootfs cache (mmdebstrap)" "$cold"
warm=$(PGMAINT_DOCKER_CACHE="$tmp/cache" secs bash docker/base/build.sh localhost/postgres:15-bookworm "${P[@]:1}")
printf '%-52s %5s s\n' "base stand-in, cached rootfs (import + entrypoint)" "$warm"
build=$(secs "${P[@]}" build --pull=never --network=host --format docker -f docker/Dockerfile -t localhost/pgmaint-bench:1 .)
printf '%-52s %5s s\n' "docker/Dockerfile (apt, build pgmaint, purge)" "$build"
printf '%-52s %5s MB\n' "image size" "$(( $("${P[@]}" image inspect --format '{{.Size}}' localhost/pgmaint-bench:1) / 1000000 ))"

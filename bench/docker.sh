#!/usr/bin/env bash
# bench/docker.sh: what the Docker suite (test/suites/docker.sh) costs, for
# each PostgreSQL major it proves (PGMAINT_DOCKER_PG, default "15 17").
# For each, builds the base stand-in twice, first with an empty root
# filesystem cache (mmdebstrap downloads the Debian suite + postgresql-MAJOR
# from Debian's mirror: bookworm for 15, trixie for 17) and then with the
# cache, then docker/Dockerfile on it, and prints the seconds and the image
# size.  Uses a private podman storage; leaves nothing behind but the normal
# cache.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/rootfs.sh
command -v podman >/dev/null && command -v mmdebstrap >/dev/null ||
	{ echo "== docker: skipped (podman or mmdebstrap not installed)"; exit 0; }

tmp=$(mktemp -d /var/tmp/pgmaint-bench-docker.XXXXXX)
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --runtime /usr/sbin/runc --events-backend file)
trap '"${P[@]}" rmi -f -a >/dev/null 2>&1; "${P[@]}" system reset -f >/dev/null 2>&1; rm -rf "$tmp"' EXIT

secs() { local t0; t0=$(date +%s); "$@" >/dev/null 2>&1; echo $(($(date +%s) - t0)); }
row() { printf '%-66s %5s %s\n' "$1" "$2" "$3"; }

echo "== docker ($(nproc) CPUs)"
for major in ${PGMAINT_DOCKER_PG:-15 17}; do
	suite=$(pgm_debian_suite "$major") || { echo "pg$major: skipped (no Debian suite packages it)"; continue; }
	base=postgres:$major-$suite
	cold=$(PGMAINT_DOCKER_CACHE="$tmp/cache" secs bash docker/base/build.sh "$major" "localhost/$base" "${P[@]:1}")
	row "pg$major: $base stand-in, empty rootfs cache (mmdebstrap)" "$cold" s
	warm=$(PGMAINT_DOCKER_CACHE="$tmp/cache" secs bash docker/base/build.sh "$major" "localhost/$base" "${P[@]:1}")
	row "pg$major: $base stand-in, cached rootfs (import + entrypoint)" "$warm" s
	"${P[@]}" tag "localhost/$base" "docker.io/library/$base"
	build=$(secs "${P[@]}" build --pull=never --network=host --format docker \
		--build-arg PG_MAJOR="$major" --build-arg DEBIAN_SUITE="$suite" \
		-f docker/Dockerfile -t "localhost/pgmaint-bench:$major" .)
	row "pg$major: docker/Dockerfile (apt, build pgmaint, purge)" "$build" s
	row "pg$major: image size" "$(($("${P[@]}" image inspect --format '{{.Size}}' "localhost/pgmaint-bench:$major") / 1000000))" MB
	row "pg$major: of which the stand-in base" "$(($("${P[@]}" image inspect --format '{{.Size}}' "localhost/$base") / 1000000))" MB
done

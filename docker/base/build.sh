#!/usr/bin/env bash
# docker/base/build.sh: builds a local TEST STAND-IN for the official
# postgres:15-bookworm image, for machines without access to Docker Hub.
#
#   build.sh TAG [PODMAN GLOBAL OPTION...]
#
# The root filesystem is Debian bookworm with postgresql-15 from Debian's
# mirror (the one this machine's apt uses), made by mmdebstrap and cached as
# a tarball under $PGMAINT_DOCKER_CACHE (default /var/cache/pgmaint-test),
# named by a hash of the packages' candidate versions, so that a second run
# downloads nothing.  On top of it, Containerfile adds docker-entrypoint.sh,
# this project's own implementation of the official image's documented
# contract.  The image is tagged TAG (the Dockerfile's BASE,
# postgres:15-bookworm).  It is not the official image and is never shipped.
#
# Prints "rootfs: cached|built in N s" and "base image: N s" on stderr.
set -euo pipefail

tag=$1
shift
podman=(podman "$@")
here=$(cd "$(dirname "$0")" && pwd)
cache=${PGMAINT_DOCKER_CACHE:-/var/cache/pgmaint-test}
suite=bookworm
packages="postgresql-15"
sources=$(ls /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -E 'debian' | head -1 || true)

# the cache key: what the tarball would hold if built now
key=$( {
	echo "$suite $packages $(dpkg --print-architecture)"
	apt-cache policy $packages postgresql-common postgresql-client-15 libpq5 libc6 base-files 2>/dev/null |
		grep -E '^[^ ]|Candidate:'
	sed -n 's/^[[:space:]]*URIs: *//p; s/^deb \([^ ]*\).*/\1/p' ${sources:-/dev/null}
} | sha256sum | cut -c1-16)
tarball="$cache/rootfs-$suite-postgresql-15-$key.tar"

started=$(date +%s)
if [ -s "$tarball" ]; then
	echo "rootfs: cached $tarball" >&2
else
	mkdir -p "$cache"
	partial="$tarball.partial.$$"
	trap 'rm -f "$partial"' EXIT
	# no cluster from postgresql-common's postinst: the entrypoint makes PGDATA
	mirror_args=()
	[ -n "$sources" ] && mirror_args=("$sources")
	mmdebstrap --quiet --variant=apt --format=tar --include="$packages" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.conf"' \
		"$suite" "$partial" "${mirror_args[@]}" >&2
	mv "$partial" "$tarball"
	trap - EXIT
	# keep only the newest tarball
	find "$cache" -maxdepth 1 -name "rootfs-$suite-postgresql-15-*.tar" ! -name "$(basename "$tarball")" -delete
	echo "rootfs: built in $(($(date +%s) - started)) s: $tarball" >&2
fi

started=$(date +%s)
"${podman[@]}" import --quiet "$tarball" localhost/pgmaint-test-rootfs:$key >/dev/null
"${podman[@]}" build --quiet --network=none --build-arg ROOTFS=localhost/pgmaint-test-rootfs:$key \
	-t "$tag" -f "$here/Containerfile" "$here" >/dev/null
echo "base image: $(($(date +%s) - started)) s ($tag)" >&2

#!/usr/bin/env bash
# docker/base/build.sh: builds a local TEST STAND-IN for the official
# postgres:MAJOR-SUITE image, for machines without access to Docker Hub.
#
#   build.sh MAJOR TAG [PODMAN GLOBAL OPTION...]
#
# The root filesystem is the Debian suite that packages PostgreSQL MAJOR
# (15: bookworm; 17: trixie, since bookworm has no postgresql-17 and the
# PostgreSQL apt repository the official bookworm image uses is out of
# reach here) with Debian's postgresql-MAJOR, made by mmdebstrap and cached
# by test/rootfs.sh.  On top of it, Containerfile adds docker-entrypoint.sh,
# this project's own implementation of the official image's documented
# contract.  The image is tagged TAG (the Dockerfile's BASE for that major
# and suite, e.g. postgres:17-trixie).  It is not the official image and is
# never shipped.
#
# Prints "suite: ...", "rootfs: cached|built in N s" and "base image: N s"
# on stderr.  Exits 3 when the root filesystem cannot be made (no Debian
# suite for MAJOR, no mmdebstrap, the mirror unreachable), with the reason
# on stderr; 1 on any other failure.
set -euo pipefail

major=$1
tag=$2
shift 2
podman=(podman "$@")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../test/rootfs.sh"

suite=$(pgm_debian_suite "$major") || { echo "no Debian suite packages PostgreSQL $major" >&2; exit 3; }
echo "suite: Debian $suite, postgresql-$major from $(pgm_debian_mirror)" >&2
tarball=$(pgm_rootfs_tarball "docker-$suite-postgresql-$major" "$suite" "postgresql-$major") || exit 3

started=$(date +%s)
key=$(basename "$tarball" .tar)
"${podman[@]}" import --quiet "$tarball" "localhost/pgmaint-test-$key" >/dev/null
"${podman[@]}" build --quiet --network=none --build-arg ROOTFS="localhost/pgmaint-test-$key" \
	--build-arg PG_MAJOR="$major" -t "$tag" -f "$here/Containerfile" "$here" >/dev/null
echo "base image: $(($(date +%s) - started)) s ($tag)" >&2

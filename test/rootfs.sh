# test/rootfs.sh: Debian root filesystems with a PostgreSQL major version,
# made by mmdebstrap and cached.  Source it (bash).  The one home of the
# mmdebstrap options; used by test/pgroot.sh (the roots that run the tests on
# a version this machine has no package of) and by docker/base/build.sh (the
# stand-ins for the official postgres images).
#
# A root is made from the Debian mirror this machine's apt sources name
# ("deb MIRROR SUITE main"; PGMAINT_DEBIAN_MIRROR overrides it), without
# man pages, documentation or translations, and without the cluster
# postgresql-common's postinst would create (the tests and the stand-ins'
# entrypoint make their own).  It is cached as a tarball under
# $PGMAINT_DOCKER_CACHE (default /var/cache/pgmaint-test), named
# rootfs-NAME-KEY.tar, KEY a hash of the suite, the mirror, the architecture
# and the package list: a second run downloads nothing.  Only the newest
# tarball of each NAME is kept.
#
#   pgm_debian_suite VERSION          Debian suite that packages PostgreSQL VERSION, or fails
#   pgm_debian_mirror                 the mirror of this machine's apt sources
#   pgm_rootfs_tarball NAME SUITE PACKAGES
#                                     build the tarball unless cached; print its path

# The Debian suite whose archive has PostgreSQL major version $1.
pgm_debian_suite() {
	case $1 in
	15) echo bookworm ;;
	17) echo trixie ;;
	*) return 1 ;;
	esac
}

# The Debian mirror this machine's apt sources name (the archive, not security).
pgm_debian_mirror() {
	local m
	m=$(sed -n 's/^[[:space:]]*URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\).*/\2/p' \
		/etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		tr ' ' '\n' | grep -E '^https?://[^ ]*/debian/?$' | head -1)
	echo "${PGMAINT_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# Builds the root tarball NAME ($1) of Debian suite $2 with the packages $3
# (separated by spaces) unless it is cached; prints its path.  On failure
# prints the reason on stderr and returns 1; "rootfs: cached|built" on stderr.
pgm_rootfs_tarball() {
	local name=$1 suite=$2 packages=$3 mirror cache key tarball partial started log
	mirror=$(pgm_debian_mirror)
	cache=${PGMAINT_DOCKER_CACHE:-/var/cache/pgmaint-test}
	key=$(echo "$suite $mirror $(dpkg --print-architecture) $packages" | sha256sum | cut -c1-16)
	tarball="$cache/rootfs-$name-$key.tar"
	if [ -s "$tarball" ]; then
		echo "rootfs: cached $tarball" >&2
		echo "$tarball"
		return 0
	fi
	command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed" >&2; return 1; }
	mkdir -p "$cache" || return 1
	partial="$tarball.partial.$$"
	log="$tarball.log.$$"
	started=$(date +%s)
	if ! mmdebstrap --variant=apt --format=tar --include="${packages// /,}" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.conf"' \
		"$suite" "$partial" "deb $mirror $suite main" >"$log" 2>&1; then
		echo "mmdebstrap $suite from $mirror failed: $(grep -m 1 '^E: ' "$log" || tail -n 1 "$log")" >&2
		rm -f "$partial" "$log"
		return 1
	fi
	rm -f "$log"
	mv "$partial" "$tarball" || return 1
	find "$cache" -maxdepth 1 -name "rootfs-$name-*.tar" ! -name "$(basename "$tarball")" -delete
	echo "rootfs: built in $(($(date +%s) - started)) s: $tarball" >&2
	echo "$tarball"
}

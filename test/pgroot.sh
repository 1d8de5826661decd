# test/pgroot.sh: a test target for a PostgreSQL major version this machine
# has no package of.  Source it after test/cluster.sh.
#
# The target is a Debian root filesystem with that version's packages (17:
# trixie), made by mmdebstrap from the mirror this machine's apt sources name
# and cached as a tarball under $PGMAINT_DOCKER_CACHE (default
# /var/cache/pgmaint-test, beside the docker suite's bookworm one), named by a
# hash of the suite, the mirror and the package list: a second run downloads
# nothing.  A run unpacks it into a directory of its own and enters it with
# chroot in a mount namespace of its own (unshare -m: /proc, /dev and /sys
# mounted there, gone when the last process inside exits).  No system service
# runs in it and nothing inside needs the network.
#
#   pgm_root_suite VERSION          Debian suite that packages VERSION, or fails
#   pgm_root_runs VERSION SCRIPT    whether SCRIPT runs in that root
#   pgm_root_scripts VERSION        the test scripts that run in that root
#   pgm_root_packages VERSION       the packages the root holds
#   pgm_root_tarball VERSION        build the tarball unless cached; print its path
#   pgm_root_unpack TARBALL DIR     unpack it into DIR (a fresh directory)
#   pgm_root_exec DIR CMD...        run CMD chrooted into DIR

# The Debian suite whose archive has PostgreSQL major version $1.
pgm_root_suite() {
	case $1 in
	17) echo trixie ;;
	*) return 1 ;;
	esac
}

# Whether test script $2 runs inside the root of version $1: every
# integration script, and the suites that list the version on a line
# "# versions: 15 17" (the others need packages only this machine has).
pgm_root_runs() {
	case $2 in
	*/integration/*) return 0 ;;
	esac
	sed -n 's/^# versions: *//p' "$2" | tr ' ' '\n' | grep -qx "$1"
}

# The test scripts that run inside the root of version $1.
pgm_root_scripts() {
	local here t
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	for t in "$here"/integration/*.sh "$here"/suites/*.sh; do
		pgm_root_runs "$1" "$t" && echo "$t"
	done
}

# The packages of the root for version $1: the build's and the tests' own
# (pgm_version_packages), what test/run.sh and the scripts call (python3,
# ps, runuser), and what the scripts that run there declare ("# packages:").
pgm_root_packages() {
	{
		pgm_version_packages "$1"
		echo libc6-dev python3 procps util-linux
		pgm_root_scripts "$1" | xargs -r sed -n 's/^# packages: *//p'
	} | tr -s ' \n' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# The Debian mirror this machine's apt sources name (the archive, not security).
pgm_root_mirror() {
	local m
	m=$(sed -n 's/^[[:space:]]*URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\).*/\2/p' \
		/etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		tr ' ' '\n' | grep -E '^https?://[^ ]*/debian/?$' | head -1)
	echo "${PGMAINT_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# Builds the root tarball of version $1 unless it is cached; prints its path.
# On failure prints the reason on stderr and returns 1.
pgm_root_tarball() {
	local v=$1 suite packages mirror cache key tarball partial started log
	suite=$(pgm_root_suite "$v") || { echo "no Debian suite known for PostgreSQL $v" >&2; return 1; }
	packages=$(pgm_root_packages "$v")
	mirror=$(pgm_root_mirror)
	cache=${PGMAINT_DOCKER_CACHE:-/var/cache/pgmaint-test}
	key=$(echo "$suite $mirror $(dpkg --print-architecture) $packages" | sha256sum | cut -c1-16)
	tarball="$cache/rootfs-$suite-postgresql-$v-$key.tar"
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
	# no cluster from postgresql-common's postinst: the tests make their own
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
	# keep only the newest tarball of this suite and version
	find "$cache" -maxdepth 1 -name "rootfs-$suite-postgresql-$v-*.tar" ! -name "$(basename "$tarball")" -delete
	echo "rootfs: built in $(($(date +%s) - started)) s: $tarball" >&2
	echo "$tarball"
}

# Unpacks root tarball $1 into the new directory $2.
pgm_root_unpack() {
	mkdir -p "$2" && tar -C "$2" --numeric-owner -xf "$1"
}

# Runs CMD... as root chrooted into $1, with /proc, /dev and /sys mounted in
# a mount namespace of its own.
pgm_root_exec() {
	local dir=$1
	shift
	mkdir -p "$dir/proc" "$dir/dev" "$dir/sys" || return 1
	unshare --mount --propagation private -- /bin/sh -c '
		dir=$1
		shift
		mount -t proc proc "$dir/proc" &&
			mount --rbind /dev "$dir/dev" &&
			mount --rbind /sys "$dir/sys" || exit 1
		exec chroot "$dir" "$@"' sh "$dir" "$@"
}

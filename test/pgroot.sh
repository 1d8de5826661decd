# test/pgroot.sh: a test target for a PostgreSQL major version this machine
# has no package of.  Source it after test/cluster.sh.
#
# The target is a Debian root filesystem with that version's packages (17:
# trixie), made and cached by test/rootfs.sh (mmdebstrap from the mirror this
# machine's apt sources name, a tarball under /var/cache/pgmaint-test beside
# the docker suite's stand-ins): a second run downloads nothing.  A run
# unpacks it into a directory of its own and enters it with chroot in a mount
# namespace of its own (unshare -m: /proc, /dev and /sys mounted there, gone
# when the last process inside exits).  No system service
# runs in it and nothing inside needs the network.
#
#   pgm_root_suite VERSION          Debian suite that packages VERSION, or fails
#   pgm_root_runs VERSION SCRIPT    whether SCRIPT runs in that root
#   pgm_root_scripts VERSION        the test scripts that run in that root
#   pgm_root_packages VERSION       the packages the root holds
#   pgm_root_tarball VERSION        build the tarball unless cached; print its path
#   pgm_root_unpack TARBALL DIR     unpack it into DIR (a fresh directory)
#   pgm_root_exec DIR CMD...        run CMD chrooted into DIR

. "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

# The Debian suite of the root of version $1 (test/rootfs.sh); none for the
# machine's own version, which runs here.
pgm_root_suite() {
	[ "$1" != "${PGM_PGVERSION:-15}" ] && pgm_debian_suite "$1"
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

# Builds the root tarball of version $1 unless it is cached; prints its path.
# On failure prints the reason on stderr and returns 1.
pgm_root_tarball() {
	local suite
	suite=$(pgm_root_suite "$1") || { echo "no Debian suite known for PostgreSQL $1" >&2; return 1; }
	pgm_rootfs_tarball "$suite-postgresql-$1" "$suite" "$(pgm_root_packages "$1")"
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

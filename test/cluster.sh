# test/cluster.sh: throwaway PostgreSQL clusters for pgmaint's tests and demo.
#
# Source this file.  It builds pgmaint into a private copy of the server's
# installation (so that parallel runs and the system's own installation are
# never disturbed) and starts clusters that listen only on a unix socket in
# their own directory.  As root, the server runs as "postgres" via runuser.
#
#   pgm_ensure_packages [PKG...] install missing Debian packages (root only)
#   pgm_stage_install ROOT       copy the server and install pgmaint into ROOT
#   pgm_cluster_init DIR PORT [DB] [PRELOAD]
#                                initdb DIR/data, socket in DIR, test settings
#   pgm_cluster_start DIR        start it and wait until it accepts connections
#   pgm_cluster_stop DIR         stop it (fast), ignoring a cluster not running
#
# PGM_PGVERSION (default 15, the machine's own) is the major version these
# functions use; test/run.sh sets 17 inside the trixie root (test/pgroot.sh).

# The packages that build and test pgmaint against PostgreSQL major version $1.
pgm_version_packages() {
	echo "postgresql-$1 postgresql-server-dev-$1 postgresql-$1-cron postgresql-$1-pgtap libtap-parser-sourcehandler-pgtap-perl make gcc"
}

PGM_PGVERSION=${PGM_PGVERSION:-15}
PGM_SYSBIN=/usr/lib/postgresql/$PGM_PGVERSION/bin
PGM_PACKAGES=$(pgm_version_packages "$PGM_PGVERSION")

# Runs a command as the cluster owner ("postgres" when we are root), from /
# (the checkout may be in a directory that user cannot enter): absolute paths only.
pgm_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# Installs the Debian packages the build, the tests and PKG... need, when missing.
pgm_ensure_packages() {
	local missing="" p
	for p in $PGM_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root, or install them)" >&2
		return 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# the postgresql-common hook would create and start a system cluster: not wanted
	mkdir -p /etc/postgresql-common
	grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
		echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
	# packages install their daemons (etcd, prometheus, pgbouncer) as system
	# services: none may start; the tests start their own, on private ports
	local policy=/usr/sbin/policy-rc.d own_policy=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
	fi
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	local rc=$?
	[ -n "$own_policy" ] && rm -f "$policy"
	return $rc
}

# Copies the server's installation into ROOT and installs pgmaint there.
pgm_stage_install() {
	local root=$1 top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
	cp -a "/usr/lib/postgresql/$PGM_PGVERSION" "$root/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$PGM_PGVERSION" "$root/usr/share/postgresql/"
	make -C "$top" -s PG_CONFIG="$PGM_SYSBIN/pg_config" install DESTDIR="$root" >/dev/null
	chmod -R a+rX "$root"
	PGM_BIN="$root/usr/lib/postgresql/$PGM_PGVERSION/bin"
	export PGM_BIN
}

# Creates a cluster in DIR (socket there too) on PORT; preloads pg_cron, pgmaint and
# pg_stat_statements unless PRELOAD says otherwise.
pgm_cluster_init() {
	local dir=$1 port=$2 db=${3:-pgmaint_test} preload=${4-pg_cron,pgmaint,pg_stat_statements}
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	pgm_as_owner "$PGM_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF

# pgmaint test cluster
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
superuser_reserved_connections = 3
max_worker_processes = 16
max_prepared_transactions = 5
shared_preload_libraries = '$preload'
log_line_prefix = '%m [%p] %q%a '
log_min_messages = info
CONF
	case ",$preload," in *,pg_cron,*)
		printf "cron.database_name = '%s'\ncron.use_background_workers = on\ncron.max_running_jobs = 4\n" "$db" \
			>>"$dir/data/postgresql.conf" ;;
	esac
	case ",$preload," in *,pgmaint,*)
		printf "pgmaint.database = '%s'\n" "$db" >>"$dir/data/postgresql.conf" ;;
	esac
}

# Starts the cluster in DIR and waits until it accepts connections.
pgm_cluster_start() {
	local dir=$1
	pgm_as_owner "$PGM_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ tail -n 50 "$dir/server.log"; return 1; }
}

# Stops the cluster in DIR if it is running.
pgm_cluster_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pgm_as_owner "$PGM_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
		pgm_as_owner "$PGM_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

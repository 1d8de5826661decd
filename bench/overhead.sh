#!/usr/bin/env bash
# bench/overhead.sh: what the worker costs a busy server.  pgbench's
# select-only load (-S, as many clients as CPUs) runs with the worker sampling
# every second (pgmaint.sample_interval = 1s, every default step on, 1,000
# tables besides pgbench's) and without it (pgmaint not preloaded), in ABBA
# order (PGM_BENCH_ROUNDS rounds of A B B A), each phase after a restart of
# the server and a warm-up run; prints each phase's TPS and the ratio of the
# medians (with / without).  Builds pgmaint into a private installation and
# starts a throwaway cluster (unix socket only); removes everything when done.
#
#   bash bench/overhead.sh
#   PGM_BENCH_SECONDS=20 PGM_BENCH_ROUNDS=1 bash bench/overhead.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

seconds=${PGM_BENCH_SECONDS:-30}
rounds=${PGM_BENCH_ROUNDS:-2}
tables=${PGM_BENCH_TABLES:-1000}
clients=$(nproc)

pgm_ensure_packages
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null

tmp=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	pgm_cluster_stop "$tmp/cluster"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pgm_stage_install "$tmp/root"
port=$((30000 + $$ % 20000))
pgm_cluster_init "$tmp/cluster" "$port" bench pgmaint >/dev/null
cat >>"$tmp/cluster/data/postgresql.conf" <<CONF
shared_buffers = 256MB
max_locks_per_transaction = 256
pgmaint.sample_interval = 1
CONF
pgm_cluster_start "$tmp/cluster"

export PGHOST=$tmp/cluster PGPORT=$port PGUSER=postgres PGDATABASE=bench
psql -XqAt -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -XqAt -c "CREATE EXTENSION pgmaint" >/dev/null
"$PGM_BIN/pgbench" -i -q -s 10 >/dev/null 2>&1
psql -XqAt >/dev/null <<SQL
DO \$\$
BEGIN
    FOR i IN 1 .. $tables LOOP
        EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v text)', i);
        EXECUTE format('INSERT INTO public.t%s SELECT g, g::text FROM generate_series(1, 20) g', i);
    END LOOP;
END
\$\$;
VACUUM ANALYZE;
SQL

# Restarts the server with the worker (with) or without pgmaint preloaded.
phase_setup() {
	local preload=$1
	sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = '$preload'/" "$tmp/cluster/data/postgresql.conf"
	pgm_cluster_stop "$tmp/cluster"
	pgm_cluster_start "$tmp/cluster"
	if [ -n "$preload" ]; then
		local deadline=$(($(date +%s) + 60))
		until [ "$(psql -XqAt -c "SELECT samples_taken > 2 FROM pgmaint.sampler_status()")" = t ]; do
			[ "$(date +%s)" -lt "$deadline" ] || { echo "the worker does not sample"; exit 1; }
			sleep 0.5
		done
	fi
	"$PGM_BIN/pgbench" -n -S -c "$clients" -j "$clients" -T 5 >/dev/null 2>&1
}

# TPS of one select-only run.
tps() {
	"$PGM_BIN/pgbench" -n -S -c "$clients" -j "$clients" -T "$seconds" 2>/dev/null |
		awk '/^tps = / { printf "%.0f", $3 }'
}

echo "pgbench -S, $clients clients, $seconds s a phase, $tables tables besides pgbench's; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
with=()
without=()
for r in $(seq 1 "$rounds"); do
	for p in with without without with; do
		if [ "$p" = with ]; then phase_setup pgmaint; else phase_setup ''; fi
		t=$(tps)
		echo "round $r, $p the worker: $t tps (load average $(cut -d' ' -f1 /proc/loadavg))"
		if [ "$p" = with ]; then with+=("$t"); else without+=("$t"); fi
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mw=$(median "${with[@]}")
mo=$(median "${without[@]}")
awk -v a="$mw" -v b="$mo" 'BEGIN { printf "median TPS with the worker %.0f, without %.0f: ratio %.3f\n", a, b, a / b }'

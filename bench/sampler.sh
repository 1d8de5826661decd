#!/usr/bin/env bash
# bench/sampler.sh: CPU time of the sampler worker per sample at 1,000 and
# 10,000 tables, and the ring's shared-memory size.  Builds pgmaint into a
# private installation and starts a throwaway cluster (unix socket only);
# everything is removed at the end.  Not part of `make test`.
#
# CPU time comes from utime + stime of the worker in /proc/<pid>/stat, over a
# burst of samples (pgmaint._request_samples), so the sleep between samples
# does not count.  "sample only": the worker's database has no pgmaint
# extension, so each cycle is the C sample alone; "with history": the
# extension exists, so each cycle also appends to pgmaint.sample_history.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null
PGM_TMP=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$PGM_TMP"
cluster="$PGM_TMP/bench"
trap 'pgm_cluster_stop "$cluster"; rm -rf "$PGM_TMP"' EXIT
pgm_stage_install "$PGM_TMP/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$cluster" "$port" bench pgmaint
echo "max_locks_per_transaction = 256" >>"$cluster/data/postgresql.conf"
pgm_cluster_start "$cluster"
export PGHOST=$cluster PGPORT=$port PGUSER=postgres PGDATABASE=postgres

q() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }
wait_sql() {
	local sql=$1 deadline=$(($(date +%s) + ${2:-600}))
	until [ "$(q -c "$sql")" = t ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "timed out: $sql" >&2; exit 1; }
		sleep 0.2
	done
}
hz=$(getconf CLK_TCK)

q -c "CREATE DATABASE bench"
q -c "CREATE EXTENSION pgmaint"
wait_sql "SELECT running FROM pgmaint.sampler_status()" 120
pid=$(q -c "SELECT pid FROM pgmaint.sampler_status()")

# Creates user tables with one row each (so that each has statistics) up to N.
make_tables() {
	local n=$1 have
	have=$(q -d bench -c "SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'bench_%'")
	while [ "$have" -lt "$n" ]; do
		q -d bench -c "DO \$\$ BEGIN
			FOR i IN $((have + 1))..$((have + 500)) LOOP
				EXECUTE format('CREATE TABLE bench_%s (id int)', i);
				EXECUTE format('INSERT INTO bench_%s VALUES (1)', i);
			END LOOP; END \$\$" -c "SELECT pg_stat_force_next_flush()" >/dev/null
		have=$((have + 500))
	done
}

# Prints the worker's CPU time per sample over a burst of COUNT samples.
measure() {
	local label=$1 count=$2 tables=$3 taken t0 t1 w0 w1
	taken=$(q -c "SELECT pgmaint._request_samples(1)")
	wait_sql "SELECT samples_taken > $taken FROM pgmaint.sampler_status()"
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	w0=$(date +%s.%N)
	taken=$(q -c "SELECT pgmaint._request_samples($count)")
	wait_sql "SELECT samples_taken >= $taken + $count FROM pgmaint.sampler_status()"
	w1=$(date +%s.%N)
	t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	awk -v l="$label" -v n="$count" -v tb="$tables" -v dt=$((t1 - t0)) -v hz="$hz" -v w0="$w0" -v w1="$w1" \
		'BEGIN { ms = dt * 1000 / hz / n;
		         printf "%-14s %6d tables  %5d samples  %7.3f ms CPU/sample  %6.3f ms CPU per 1,000 tables  %7.3f ms wall/sample\n",
		                l, tb, n, ms, ms * 1000 / tb, (w1 - w0) * 1000 / n }'
}

echo "pgmaint sampler benchmark (PostgreSQL $("$PGM_BIN/postgres" --version | awk '{print $3}'), $(nproc) CPUs, CLK_TCK $hz)"
for n in 1000 10000; do
	make_tables "$n"
	tables=$(q -d bench -c "SELECT count(*) FROM pg_stat_user_tables")
	wait_sql "SELECT user_tables >= $n FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 1" 60 2>/dev/null ||
		q -c "SELECT pgmaint._request_samples(1)" >/dev/null
	samples=$((n >= 10000 ? 300 : 2000))
	measure "sample only" "$samples" "$tables"
	q -d bench -c "CREATE EXTENSION IF NOT EXISTS pgmaint"
	measure "with history" "$samples" "$tables"
	q -d bench -c "DROP EXTENSION pgmaint"
done
q -c "SELECT 'ring: ' || ring_bytes || ' bytes of shared memory for pgmaint.history_size = ' || current_setting('pgmaint.history_size') || ' samples (' || round(ring_bytes / 1024.0, 1) || ' kB); worker memory contexts: ' || worker_memory_bytes || ' bytes' FROM pgmaint.sampler_status()"

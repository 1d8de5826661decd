#!/usr/bin/env bash
# bench/sampler.sh: CPU time of the pgmaint worker per sample at 1,000,
# 10,000 and 100,000 tables, and the shared memory pgmaint takes.  Builds
# pgmaint into a private installation and starts a throwaway cluster (unix
# socket only); everything is removed at the end.  Not part of `make test`.
#
# CPU time is the worker's on-CPU time from /proc/<pid>/schedstat
# (nanoseconds).  Three measurements per size:
#  - "sample only": the worker's database has no pgmaint extension, so each
#    cycle is the C sample alone, over a burst of samples
#    (pgmaint._request_samples), so the sleep between samples does not count;
#  - "with history": the extension exists, so each burst cycle also appends
#    to pgmaint.sample_history and sweeps for leaks;
#  - "every step, 1 s": what the default configuration runs, on its own
#    schedule at pgmaint.sample_interval = 1s: the sample, history, leak sweep
#    and the health evaluation and its events every second (health_interval
#    follows the sample interval), over a window of PGM_BENCH_WINDOW seconds;
#    plus the steps with longer periods, timed one run each in a session (the
#    SQL the worker runs: pgmaint.run_policy('advise') every
#    pgmaint.policy_interval, pgmaint._record_space() every
#    pgmaint.growth_interval) and counted per sample by their period
#    (retention runs only with pgmaint.policy = apply: off by default).
#
#   bash bench/sampler.sh
#   PGM_BENCH_SIZES="1000 10000" PGM_BENCH_WINDOW=30 bash bench/sampler.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

sizes=${PGM_BENCH_SIZES:-1000 10000 100000}
window=${PGM_BENCH_WINDOW:-60}

make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null
PGM_TMP=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$PGM_TMP"
cluster="$PGM_TMP/bench"
trap 'pgm_cluster_stop "$cluster"; rm -rf "$PGM_TMP"' EXIT
pgm_stage_install "$PGM_TMP/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$cluster" "$port" bench pgmaint
cat >>"$cluster/data/postgresql.conf" <<CONF
max_locks_per_transaction = 256
autovacuum = off
pgmaint.sample_interval = 1
CONF
pgm_cluster_start "$cluster"
export PGHOST=$cluster PGPORT=$port PGUSER=postgres PGDATABASE=postgres

q() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }
# Waits until sql (run in the database of the measured worker, $wdb) returns true.
wait_sql() {
	local sql=$1 deadline=$(($(date +%s) + ${2:-600}))
	until [ "$(q -d "$wdb" -c "$sql")" = t ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "timed out: $sql" >&2; exit 1; }
		sleep 0.2
	done
}
# on-CPU nanoseconds of a process
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

q -c "CREATE DATABASE bench"
q -c "CREATE EXTENSION pgmaint"
# the worker measured: postgres's while bench has no pgmaint, then bench's
# (one worker per database: the one whose database has the tables)
wdb=postgres
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

# Prints one figure: label, tables, samples, CPU ms per sample.
report() {
	awk -v l="$1" -v tb="$2" -v n="$3" -v ms="$4" -v extra="${5:-}" \
		'BEGIN { printf "%-18s %7d tables  %5d samples  %8.3f ms CPU/sample  %6.3f ms CPU per 1,000 tables%s\n",
		                l, tb, n, ms, ms * 1000 / tb, extra }'
}

# The CPU time per sample of the worker of database $wdb (pid $pid) over a burst of COUNT samples.
measure_burst() {
	local label=$1 count=$2 tables=$3 taken c0 c1
	taken=$(q -d "$wdb" -c "SELECT pgmaint._request_samples(1)")
	wait_sql "SELECT samples_taken > $taken FROM pgmaint.sampler_status()"
	c0=$(cpu_ns "$pid")
	taken=$(q -d "$wdb" -c "SELECT pgmaint._request_samples($count)")
	wait_sql "SELECT samples_taken >= $taken + $count FROM pgmaint.sampler_status()"
	c1=$(cpu_ns "$pid")
	report "$label" "$tables" "$count" "$(awk -v d=$((c1 - c0)) -v n="$count" 'BEGIN { print d / 1e6 / n }')"
}

# CPU milliseconds one statement takes in a session of its own (database bench).
session_cpu_ms() {
	local sql=$1
	{
		echo "SELECT pg_backend_pid();"
		echo "\\o /dev/null"
		echo "SELECT 1;"
		echo "\\o"
		echo "SELECT 'go';"
		echo "\\o /dev/null"
		echo "SELECT pg_sleep(0.3);"
		echo "$sql;"
		echo "\\o"
		echo "SELECT 'done';"
		echo "SELECT pg_sleep(1);"
	} | q -d bench | {
		read -r bpid
		read -r _go
		c0=$(cpu_ns "$bpid")
		read -r _done
		c1=$(cpu_ns "$bpid")
		awk -v d=$((c1 - c0)) 'BEGIN { printf "%.1f", d / 1e6 }'
		# the rest (the sleep that kept the backend for the read above)
		cat >/dev/null
	}
}

echo "pgmaint worker benchmark (PostgreSQL $("$PGM_BIN/postgres" --version | awk '{print $3}'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
for n in $sizes; do
	make_tables "$n"
	tables=$(q -d bench -c "SELECT count(*) FROM pg_stat_user_tables")
	samples=$((n >= 100000 ? 50 : n >= 10000 ? 300 : 2000))
	wdb=postgres
	pid=$(q -c "SELECT pid FROM pgmaint.sampler_status()")
	measure_burst "sample only" "$samples" "$tables"
	q -d bench -c "CREATE EXTENSION IF NOT EXISTS pgmaint"
	wdb=bench
	wait_sql "SELECT running FROM pgmaint.sampler_status()" 120
	pid=$(q -d bench -c "SELECT pid FROM pgmaint.sampler_status()")
	measure_burst "with history" "$samples" "$tables"

	# every step on its own schedule: restart the worker so that its first
	# runs of the long-period steps (at start) are done before the window
	q -c "SELECT pg_terminate_backend($pid)" >/dev/null
	wait_sql "SELECT running AND pid <> $pid FROM pgmaint.sampler_status()" 120
	pid=$(q -d bench -c "SELECT pid FROM pgmaint.sampler_status()")
	taken=$(q -d bench -c "SELECT samples_taken FROM pgmaint.sampler_status()")
	wait_sql "SELECT samples_taken >= $taken + 3 FROM pgmaint.sampler_status()" 600
	taken=$(q -d bench -c "SELECT samples_taken FROM pgmaint.sampler_status()")
	c0=$(cpu_ns "$pid")
	sleep "$window"
	c1=$(cpu_ns "$pid")
	done_=$(q -d bench -c "SELECT samples_taken FROM pgmaint.sampler_status()")
	steady=$(awk -v d=$((c1 - c0)) -v n=$((done_ - taken)) 'BEGIN { print d / 1e6 / n }')
	report "every 1 s: steady" "$tables" $((done_ - taken)) "$steady" " (sample, history, leak sweep, health evaluation and events)"
	policy_ms=$(session_cpu_ms "SELECT count(*) FROM pgmaint.run_policy('advise')")
	space_ms=$(session_cpu_ms "SELECT pgmaint._record_space()")
	policy_s=$(q -c "SELECT setting FROM pg_settings WHERE name = 'pgmaint.policy_interval'")
	growth_s=$(q -c "SELECT setting FROM pg_settings WHERE name = 'pgmaint.growth_interval'")
	total=$(awk -v s="$steady" -v p="$policy_ms" -v ps="$policy_s" -v g="$space_ms" -v gs="$growth_s" \
		'BEGIN { print s + p / ps + g / gs }')
	report "every 1 s: all" "$tables" $((done_ - taken)) "$total" \
		" (+ policy $policy_ms ms every $policy_s s, space $space_ms ms every $growth_s s)"
	q -d bench -c "DROP EXTENSION pgmaint"
done
q -c "SELECT 'shared memory: ring ' || ring_bytes || ' bytes for pgmaint.history_size = ' || current_setting('pgmaint.history_size') || ' samples (' || round(ring_bytes / 1024.0, 1) || ' kB); worker memory contexts: ' || worker_memory_bytes || ' bytes' FROM pgmaint.sampler_status()"
q -c "SELECT 'shared memory of pgmaint in all: ' || sum(allocated_size) || ' bytes (' || round(sum(allocated_size) / 1024.0, 1) || ' kB): ' || string_agg(name || ' ' || allocated_size, ', ' ORDER BY name) FROM pg_shmem_allocations WHERE name LIKE 'pgmaint%'"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

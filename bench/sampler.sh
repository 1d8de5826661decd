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
# PGM_BENCH_DATABASES=3 measures instead the server's cost with its tables
# in one database against the same tables spread over three (issue 30):
# PGM_BENCH_TABLES tables (default 10,000) in database one, and as many
# spread over databases a, b and c (3,334 + 3,333 + 3,333); each phase
# samples either one or a, b and c (pgmaint.exclude_databases names the
# others), with each of PGM_BENCH_SESSIONS idle client sessions (default
# "0 60", spread over the sampled databases) connected.  Every step on its
# own schedule, 1 s interval, as in "every 1 s: steady" above; the figure is
# the CPU per sample of every pgmaint worker, summed (the launcher, which
# wakes every few seconds, is left out; each worker over the same number of
# its own samples, see measure_phase), and the phases alternate
# PGM_BENCH_ROUNDS times (default 2; the session counts in reverse order
# every other round).
#
#   bash bench/sampler.sh
#   PGM_BENCH_SIZES="1000 10000" PGM_BENCH_WINDOW=30 bash bench/sampler.sh
#   PGM_BENCH_DATABASES=3 PGM_BENCH_WINDOW=30 bash bench/sampler.sh
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
idle_pids=
trap 'for p in $idle_pids; do kill "$p" 2>/dev/null; done; pgm_cluster_stop "$cluster"; rm -rf "$PGM_TMP"' EXIT
pgm_stage_install "$PGM_TMP/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$cluster" "$port" bench pgmaint
cat >>"$cluster/data/postgresql.conf" <<CONF
max_locks_per_transaction = 256
autovacuum = off
pgmaint.sample_interval = 1
# PGM_BENCH_DATABASES=3: room for the idle sessions
max_connections = 150
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

# Creates user tables with one row each (so that each has statistics) up to N
# in database DB (default bench).
make_tables() {
	local n=$1 db=${2:-bench} have step
	have=$(q -d "$db" -c "SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'bench_%'")
	while [ "$have" -lt "$n" ]; do
		step=$((n - have < 500 ? n - have : 500))
		q -d "$db" -c "DO \$\$ BEGIN
			FOR i IN $((have + 1))..$((have + step)) LOOP
				EXECUTE format('CREATE TABLE bench_%s (id int)', i);
				EXECUTE format('INSERT INTO bench_%s VALUES (1)', i);
			END LOOP; END \$\$" -c "SELECT pg_stat_force_next_flush()" >/dev/null
		have=$((have + step))
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

# Starts S idle client sessions, spread over the databases DBS: psql
# processes (their pids in $idle_pids) reading a FIFO that nobody writes.
start_sessions() {
	local s=$1 i
	local -a names
	read -r -a names <<<"$2"
	[ "$s" -gt 0 ] || return 0
	[ -p "$PGM_TMP/idle" ] || mkfifo "$PGM_TMP/idle"
	exec 9<>"$PGM_TMP/idle"
	for i in $(seq 1 "$s"); do
		psql -X -q -d "${names[$((i % ${#names[@]}))]}" <"$PGM_TMP/idle" >/dev/null 9>&- &
		idle_pids="$idle_pids $!"
	done
	wait_sql "SELECT count(*) = $s FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'idle' AND pid <> pg_backend_pid()" 120
}
# Ends the idle sessions: end of file on their FIFO.
stop_sessions() {
	local p
	[ -n "$idle_pids" ] || return 0
	exec 9>&-
	for p in $idle_pids; do wait "$p" || true; done
	idle_pids=
}
# Samples only the databases DBS (pgmaint.exclude_databases = EXCL, the
# others) and waits until each has a worker past its first long-period steps.
use_phase() {
	local dbs=$1 excl=$2 n list
	n=$(wc -w <<<"$dbs")
	list="'${dbs// /\', \'}'"
	q -c "ALTER SYSTEM SET pgmaint.exclude_databases = '$excl'" -c "SELECT pg_reload_conf()" >/dev/null
	wait_sql "SELECT count(*) FILTER (WHERE database IN ($list) AND state = 'sampling' AND samples_taken >= 3) = $n
	             AND count(*) FILTER (WHERE database IN ($list) AND server_wide) = 1
	             AND count(*) FILTER (WHERE database NOT IN ($list) AND pid IS NOT NULL) = 0
	            FROM pgmaint.workers()" 300
}
# One figure, with NDB databases sampled and S idle sessions: each worker's
# CPU over the same number of its own samples, W (PGM_BENCH_WINDOW rounded
# up to whole periods of the table pass, PGMAINT_TABLE_PASS_PERIOD: 10
# samples at 1 s, so that each worker makes as many passes over its tables),
# counted from the moment its count of samples moves; per sample, summed
# over the workers.  Appends it to $PGM_TMP/figures.
measure_phase() {
	local ndb=$1 s=$2 round=$3 w p db sw taken left deadline ms total=0 extra=""
	local -A first name s0 s1 cpu0 cpu1
	w=$(((window + 9) / 10 * 10))
	while IFS='|' read -r db p sw taken; do
		name[$p]=$db
		if [ "$sw" = t ]; then name[$p]+='*'; fi
		first[$p]=$taken
	done < <(q -d "$wdb" -c "SELECT database, pid, server_wide, samples_taken FROM pgmaint.workers() WHERE pid IS NOT NULL ORDER BY database")
	left=${#first[@]}
	deadline=$(($(date +%s) + 3 * w + 60))
	while [ "$left" -gt 0 ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "the workers stopped sampling" >&2; exit 1; }
		while IFS='|' read -r p taken; do
			[ -n "${first[$p]:-}" ] || { echo "a worker restarted during the window" >&2; exit 1; }
			if [ -z "${s0[$p]:-}" ] && [ "$taken" -gt "${first[$p]}" ]; then
				cpu0[$p]=$(cpu_ns "$p")
				s0[$p]=$taken
			elif [ -n "${s0[$p]:-}" ] && [ -z "${s1[$p]:-}" ] && [ "$taken" -ge $((s0[$p] + w)) ]; then
				cpu1[$p]=$(cpu_ns "$p")
				s1[$p]=$taken
				left=$((left - 1))
			fi
		done < <(q -d "$wdb" -c "SELECT pid, samples_taken FROM pgmaint.workers() WHERE pid IS NOT NULL")
		sleep 0.25
	done
	for p in "${!first[@]}"; do
		ms=$(awk -v d=$((cpu1[$p] - cpu0[$p])) -v n=$((s1[$p] - s0[$p])) 'BEGIN { printf "%.3f", d / 1e6 / n }')
		total=$(awk -v t="$total" -v m="$ms" 'BEGIN { print t + m }')
		extra="$extra ${name[$p]}=$ms"
	done
	awk -v ndb="$ndb" -v s="$s" -v r="$round" -v w="$w" -v ms="$total" -v extra="$extra" \
		-v la="$(cut -d' ' -f1 /proc/loadavg)" \
		'BEGIN { printf "%d database(s) %3d sessions round %d  %4d samples each  %8.3f ms CPU/sample (per worker:%s; load %s)\n",
		                ndb, s, r, w, ms, extra, la
		         printf "%d %d %d %.6f\n", ndb, s, r, ms >> "'"$PGM_TMP/figures"'" }'
}

# The server's cost with its tables in one database against the same tables
# in three (PGM_BENCH_DATABASES=3; see the header).
measure_databases() {
	local total=${PGM_BENCH_TABLES:-10000} sessions=${PGM_BENCH_SESSIONS:-0 60} rounds=${PGM_BENCH_ROUNDS:-2}
	local third r s db start order
	third=$((total / 3))
	# no pgmaint in postgres: the server-wide role goes to a measured worker
	# (pgmaint.database has no pgmaint: the lowest OID's)
	for db in one a b c; do q -c "CREATE DATABASE $db"; done
	q -c "ALTER SYSTEM SET pgmaint.exclude_databases = 'a, b, c'" -c "SELECT pg_reload_conf()" >/dev/null
	for db in one a b c; do q -d "$db" -c "CREATE EXTENSION pgmaint"; done
	wdb=one
	start=$(date +%s)
	make_tables "$total" one
	make_tables $((total - 2 * third)) a
	make_tables "$third" b
	make_tables "$third" c
	echo "pgmaint workers, one database against three (PostgreSQL $("$PGM_BIN/postgres" --version | awk '{print $3}'), $(nproc) CPUs):"
	echo "$total tables in database one; $((total - 2 * third)) + $third + $third in a, b and c (created in $(($(date +%s) - start)) s)"
	echo "every step, 1 s interval, windows of $(((window + 9) / 10 * 10)) samples of each worker; per worker: CPU per sample, * = the server-wide role; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	: >"$PGM_TMP/figures"
	for r in $(seq 1 "$rounds"); do
		# every other round in the reverse order of the session counts
		order=$sessions
		[ $((r % 2)) = 1 ] || order=$(tr ' ' '\n' <<<"$sessions" | tac | tr '\n' ' ')
		for s in $order; do
			use_phase "one" "a, b, c"
			start_sessions "$s" "one"
			measure_phase 1 "$s" "$r"
			stop_sessions
			use_phase "a b c" "one"
			start_sessions "$s" "a b c"
			measure_phase 3 "$s" "$r"
			stop_sessions
		done
	done
	echo "mean of the rounds, and ratios:"
	awk -v total="$total" '
		{ sum[$1 " " $2] += $4; cnt[$1 " " $2]++; ss[$2] = 1 }
		END {
			for (s in ss) {
				one = sum["1 " s] / cnt["1 " s]; three = sum["3 " s] / cnt["3 " s]
				printf "%3d sessions: 1 database %.3f ms/sample (%.3f per 1,000 tables), 3 databases %.3f ms/sample (%.3f per 1,000 tables): 3 dbs / 1 db = %.3f\n",
				       s, one, one * 1000 / total, three, three * 1000 / total, three / one
				m[1 " " s] = one; m[3 " " s] = three
			}
			# what the sessions add: once (server-wide steps in one worker) or per database
			for (s in ss) if (s != 0 && ("1 0" in m))
				printf "%d sessions / 0 sessions: 1 database %.3f, 3 databases %.3f; added by the sessions: 1 database %.3f ms/sample, 3 databases %.3f ms/sample\n",
				       s, m["1 " s] / m["1 0"], m["3 " s] / m["3 0"], m["1 " s] - m["1 0"], m["3 " s] - m["3 0"]
		}' "$PGM_TMP/figures"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

[ "${PGM_BENCH_DATABASES:-1}" = 3 ] && { measure_databases; exit 0; }

q -c "CREATE DATABASE bench"
q -c "CREATE EXTENSION pgmaint"
# the worker measured: postgres's while bench has no pgmaint, then bench's
# (one worker per database: the one whose database has the tables)
wdb=postgres
wait_sql "SELECT running FROM pgmaint.sampler_status()" 120
pid=$(q -c "SELECT pid FROM pgmaint.sampler_status()")

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

#!/usr/bin/env bash
# bench/events.sh: CPU time of one evaluation of the worker's health-event
# step (issue 15) at 1,000 and 10,000 tables.
#
# Builds pgmaint, installs it into a private copy of the server under a temp
# dir, starts a throwaway cluster (worker sampling every second, so the
# table-level checks read the ring's figures as they do in the worker),
# creates the tables (a primary key and a few rows each), then runs what the
# step runs RUNS times in one session and reads that backend's CPU time
# (utime + stime from /proc/PID/stat) before and after: CPU per evaluation =
# delta / RUNS.  1.1's step ran SQL: pgmaint.health_checks() and the prune of
# pgmaint.health_events.  From 1.2 on it evaluates the checks in C
# (src/evaluate.c) and prunes: in a session the same evaluation is
# pgmaint.health(live => true), which also grades it and builds the JSON.
# The comparison of statuses in C costs nothing beside it.  Removes everything.
#
#   bash bench/events.sh                     # 1,000 and 10,000 tables, 50 runs
#   PGM_BENCH_SIZES="1000" PGM_BENCH_RUNS=20 bash bench/events.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

sizes=${PGM_BENCH_SIZES:-1000 10000}
runs=${PGM_BENCH_RUNS:-50}

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
autovacuum = off
max_locks_per_transaction = 256
pgmaint.sample_interval = 1
CONF
pgm_cluster_start "$tmp/cluster"

export PGHOST=$tmp/cluster PGPORT=$port PGUSER=postgres PGDATABASE=bench
psql -XqAt -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -XqAt -c "CREATE EXTENSION pgmaint" >/dev/null
ticks=$(getconf CLK_TCK)

made=0
printf '%-8s %-6s %-22s\n' tables runs "CPU ms per evaluation"
for n in $sizes; do
	while [ "$made" -lt "$n" ]; do
		to=$((made + 500 < n ? made + 500 : n))
		psql -XqAt -c "DO \$\$ BEGIN FOR i IN $((made + 1))..$to LOOP
			EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v text)', i);
			EXECUTE format('INSERT INTO public.t%s SELECT g, ''x'' FROM generate_series(1, 10) g', i);
		END LOOP; END \$\$" >/dev/null
		made=$to
	done
	# let the worker take a sample that sees every table
	psql -XqAt -c "SELECT pg_stat_force_next_flush()" -c "SELECT pg_sleep(3)" >/dev/null
	# 1.2: the evaluation in C, as the worker's step runs it
	if [ "$(psql -XqAt -c "SELECT to_regprocedure('pgmaint.health(boolean)') IS NOT NULL")" = t ]; then
		evaluation="SELECT pgmaint.health(live => true);"
	else
		evaluation="SELECT c.check_name, c.status, c.value::text, c.message, c.hint FROM pgmaint.health_checks() c;"
	fi
	cpu=$(
		{
			echo "SELECT pg_backend_pid();"
			echo "SELECT count(*) FROM pgmaint.health_checks();"
			echo "\\o /dev/null"
			for i in $(seq 1 "$runs"); do
				echo "$evaluation"
				echo "DELETE FROM pgmaint.health_events WHERE at < now() - make_interval(secs => 604800);"
			done
			echo "\\o"
			echo "SELECT 'done';"
		} | psql -XqAt 2>&1 | {
			read -r pid
			read -r _warm
			s=$(awk '{print $14 + $15}' "/proc/$pid/stat")
			read -r _done
			e=$(awk '{print $14 + $15}' "/proc/$pid/stat")
			echo "$s $e"
		}
	)
	set -- $cpu
	printf '%-8s %-6s %-22s\n' "$n" "$runs" "$(awk -v a="$1" -v b="$2" -v t="$ticks" -v r="$runs" 'BEGIN { printf "%.2f", (b - a) * 1000 / t / r }')"
done

#!/usr/bin/env bash
# bench/health.sh: times health() and pgmaint's per-table reports against the
# guide's own queries (corrected for PostgreSQL 15), and health() run as a psql
# process against check_postgres' 12 actions that share its checks, at 1,000,
# 10,000 and 100,000 tables.
#
# Builds pgmaint, installs it into a private copy of the server under a temp
# dir, starts a throwaway cluster there, creates the tables (a few rows, a
# primary key, a TOAST table and some dead tuples each), then runs every query
# alternately in one session, each run in its own transaction (a cold
# statistics snapshot each time) under EXPLAIN ANALYZE (server time; every
# column computed, nothing sent), and prints medians and ratios against two
# references: the same columns computed from the views, and the guide's own
# (smaller) query corrected for PostgreSQL 15.  health() runs twice: with the
# worker sampling the database (its table-level figures come from the ring)
# and, after a restart without preloading, computing them itself ("health()
# direct"); where health() takes "live" (1.2), health(live => true) runs in
# the first phase too.  As processes: "psql -c 'SELECT pgmaint.health()'"
# (connection, a cold session, the call, exit) against check_postgres' 12
# actions that have a health() check (backends, txn_idle, query_time, locks,
# txn_wraparound, sequence, last_vacuum, last_analyze, disabled_triggers,
# replication_slots, prepared_txns, archive_ready), run one after the other
# as a Nagios host would, wall-clock time, alternately PGM_BENCH_PROCS times;
# "psql -c 'SELECT 1'" is timed beside them: the floor of any psql process.
# The psql of these processes, and of check_postgres (which finds psql on
# PATH and runs it twice an action), is the server's binary ($PGM_SYSBIN);
# where /usr/bin/psql is Debian's pg_wrapper (a Perl script that picks a
# version, then runs the binary: about 18 ms a process here), the same rows
# are timed through it too, marked "[pg_wrapper]", alternately with them.
# The worker samples every second during the runs; its CPU per sample is
# bench/sampler.sh's business.  The per-table reports are timed up to
# PGM_BENCH_REPORTS tables (their views' equivalents take seconds beyond).
# Removes everything when done.
#
#   bash bench/health.sh            # 1,000, 10,000 and 100,000 tables, 15 runs each
#   PGM_BENCH_SIZES="1000 5000" PGM_BENCH_RUNS=9 bash bench/health.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

sizes=${PGM_BENCH_SIZES:-1000 10000 100000}
runs=${PGM_BENCH_RUNS:-15}
procs=${PGM_BENCH_PROCS:-9}
reports=${PGM_BENCH_REPORTS:-10000}
cp_actions="backends txn_idle query_time locks txn_wraparound sequence last_vacuum last_analyze disabled_triggers replication_slots prepared_txns archive_ready"

pgm_ensure_packages check-postgres
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
# no autovacuum: nothing else moves during the runs but the worker's samples
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

# The pairs: each pgmaint report and the guide's query it replaces.
psql -XqAt >/dev/null <<'SQL'
CREATE SCHEMA bench;
CREATE TABLE bench.timings (size int, name text, run int, ms float8);
CREATE TABLE bench.queries (name text PRIMARY KEY, sql text);
INSERT INTO bench.queries VALUES
 ('vacuum_stats()', 'SELECT * FROM pgmaint.vacuum_stats()'),
 -- the same columns from the views, the settings and pg_class.reloptions
 ('views: vacuum_stats() columns', $q$
  WITH o AS (
      SELECT c.oid, c.relfrozenxid, c.reltoastrelid, c.reltuples, greatest(c.reltuples, 0)::float4 AS rt,
             (SELECT option_value::int FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_vacuum_threshold') AS vt,
             (SELECT option_value::float4 FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_vacuum_scale_factor') AS vsf,
             (SELECT option_value::int FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_vacuum_insert_threshold') AS it,
             (SELECT option_value::float4 FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_vacuum_insert_scale_factor') AS isf,
             (SELECT option_value::int FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_analyze_threshold') AS at,
             (SELECT option_value::float4 FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_analyze_scale_factor') AS asf,
             (SELECT option_value::bool FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_enabled') AS en
        FROM pg_class c WHERE c.relkind IN ('r', 'm', 'p', 't')
  ),
  e AS (
      SELECT s.*, o.reltuples, age(o.relfrozenxid) AS xa, age(t.relfrozenxid) AS ta,
             coalesce(o.vt, current_setting('autovacuum_vacuum_threshold')::int)::float4
               + coalesce(o.vsf, current_setting('autovacuum_vacuum_scale_factor')::float4) * o.rt AS vth,
             coalesce(o.it, current_setting('autovacuum_vacuum_insert_threshold')::int) AS ib,
             coalesce(o.it, current_setting('autovacuum_vacuum_insert_threshold')::int)::float4
               + coalesce(o.isf, current_setting('autovacuum_vacuum_insert_scale_factor')::float4) * o.rt AS ith,
             coalesce(o.at, current_setting('autovacuum_analyze_threshold')::int)::float4
               + coalesce(o.asf, current_setting('autovacuum_analyze_scale_factor')::float4) * o.rt AS ath,
             coalesce(o.en, true) AND current_setting('autovacuum')::bool AS active
        FROM pg_stat_user_tables s JOIN o ON o.oid = s.relid
        LEFT JOIN pg_class t ON t.oid = o.reltoastrelid
  )
  SELECT e.relid, e.schemaname, e.relname, e.n_live_tup, e.n_dead_tup,
         e.n_dead_tup::float8 / nullif(e.n_live_tup + e.n_dead_tup, 0),
         e.last_vacuum, e.last_autovacuum, e.last_analyze, e.last_autoanalyze,
         e.vacuum_count, e.autovacuum_count, e.analyze_count, e.autoanalyze_count,
         e.n_ins_since_vacuum, e.n_mod_since_analyze, e.reltuples, e.vth::float8,
         CASE WHEN e.ib >= 0 THEN e.ith::float8 END, e.ath::float8,
         greatest(floor(e.vth)::bigint + 1 - e.n_dead_tup, 0), e.active,
         e.active AND (e.n_dead_tup > e.vth OR (e.ib >= 0 AND e.n_ins_since_vacuum > e.ith)),
         e.active AND e.n_mod_since_analyze > e.ath,
         e.n_dead_tup > 2 * e.vth AND coalesce(greatest(e.last_vacuum, e.last_autovacuum)
             < now() - 10 * current_setting('autovacuum_naptime')::interval, true),
         greatest(e.xa, e.ta), current_setting('autovacuum_freeze_max_age')::int,
         100.0 * greatest(e.xa, e.ta) / current_setting('autovacuum_freeze_max_age')::int,
         p.profile
    FROM e LEFT JOIN pgmaint.table_policy p ON p.relid = e.relid$q$),
 ('guide: vacuum effectiveness',
  'SELECT schemaname, relname, n_dead_tup, n_live_tup,
          round(n_dead_tup::numeric / nullif(n_live_tup + n_dead_tup, 0) * 100, 2) AS dead_ratio,
          last_vacuum, last_autovacuum
     FROM pg_stat_user_tables WHERE n_dead_tup > 0 ORDER BY dead_ratio DESC'),
 ('cache_hit_tables()', 'SELECT * FROM pgmaint.cache_hit_tables()'),
 -- the same columns and order from pg_statio_user_tables
 ('views: cache_hit_tables() columns', $q$
  SELECT relid, schemaname, relname, heap_blks_hit, heap_blks_read,
         heap_blks_hit::float8 / nullif(heap_blks_hit + heap_blks_read, 0) AS heap_ratio,
         coalesce(idx_blks_hit, 0), coalesce(idx_blks_read, 0),
         idx_blks_hit::float8 / nullif(idx_blks_hit + idx_blks_read, 0),
         toast_blks_hit + coalesce(tidx_blks_hit, 0), toast_blks_read + coalesce(tidx_blks_read, 0),
         (toast_blks_hit + coalesce(tidx_blks_hit, 0))::float8
           / nullif(toast_blks_hit + coalesce(tidx_blks_hit, 0) + toast_blks_read + coalesce(tidx_blks_read, 0), 0)
    FROM pg_statio_user_tables
   ORDER BY heap_ratio NULLS LAST, heap_blks_read DESC, relid$q$),
 ('guide: per-table cache hit ratios',
  'SELECT schemaname, relname, heap_blks_read, heap_blks_hit,
          round(heap_blks_hit::numeric / nullif(heap_blks_hit + heap_blks_read, 0) * 100, 2) AS hit_ratio
     FROM pg_statio_user_tables WHERE heap_blks_read > 0 ORDER BY hit_ratio ASC'),
 ('cache_hit()', 'SELECT * FROM pgmaint.cache_hit()'),
 ('health()', 'SELECT pgmaint.health()'),
 ('guide: overall cache hit ratio',
  'SELECT sum(heap_blks_hit) / nullif(sum(heap_blks_hit) + sum(heap_blks_read), 0) * 100 AS cache_hit_ratio
     FROM pg_statio_user_tables');

-- Creates tables up to n: one transaction per 500 tables keeps the lock table small.
CREATE PROCEDURE bench.grow(n int)
LANGUAGE plpgsql AS $$
DECLARE
    i int;
    have int := (SELECT count(*) FROM pg_tables WHERE schemaname = 'public');
BEGIN
    FOR i IN have + 1 .. n LOOP
        EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v text, n int)', i);
        EXECUTE format('INSERT INTO public.t%s SELECT g, g::text, g %% 7 FROM generate_series(1, 20) g', i);
        IF i % 2 = 0 THEN
            EXECUTE format('DELETE FROM public.t%s WHERE id %% 5 = 0', i);
        END IF;
        IF i % 500 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

-- Runs every query of bench.queries whose name matches the regular expression
-- pattern runs times, alternately, one transaction each, recording it under
-- name || suffix.
CREATE PROCEDURE bench.measure(size int, runs int, pattern text DEFAULT '.', suffix text DEFAULT '')
LANGUAGE plpgsql AS $$
DECLARE
    r int;
    q record;
    plan json;
BEGIN
    FOR r IN 0 .. runs LOOP
        FOR q IN SELECT * FROM bench.queries WHERE name ~ pattern ORDER BY name LOOP
            -- the executor computes every column of every row, nothing is sent
            EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q.sql INTO plan;
            -- run 0 warms the caches and is not kept
            IF r > 0 THEN
                INSERT INTO bench.timings
                VALUES (size, q.name || suffix, r, (plan->0->>'Execution Time')::float8);
            END IF;
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;
SQL

# health(live => true) where health() takes "live" (1.2 on)
live=$(psql -XqAt -c "SELECT to_regprocedure('pgmaint.health(boolean)') IS NOT NULL")
[ "$live" = t ] &&
	psql -XqAt -c "INSERT INTO bench.queries VALUES ('health(live => true)', 'SELECT pgmaint.health(live => true)')" >/dev/null

# True when health() reads the worker's figures of this database.
worker_fresh() {
	if [ "$live" = t ]; then
		psql -XqAt -c "SELECT pgmaint.health()->>'source' = 'worker'"
	else
		psql -XqAt -c "SELECT count(*) = 1 FROM pgmaint._table_health_sampled()"
	fi
}

# Wall-clock microseconds of a command, its output discarded.
wall_us() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

# check_postgres' 12 actions, one after the other, as a Nagios host runs
# them, with the psql of directory DIR.
check_postgres_12() {
	local a
	for a in $cp_actions; do
		PATH="$1:$PATH" check_postgres --action="$a" --host="$PGHOST" --port="$PGPORT" \
			--dbuser=postgres --dbname=bench >/dev/null 2>&1 || true
	done
}

# The clients of the process rows: the server's psql binary, and Debian's
# wrapper where /usr/bin/psql is one (suffix of its rows: " [pg_wrapper]").
clients="$PGM_SYSBIN"
case "$(readlink -f /usr/bin/psql 2>/dev/null)" in */pg_wrapper) clients="$clients /usr/bin" ;; esac

# Records a wall-clock time in bench.timings.
record_us() {
	psql -XqAt -c "INSERT INTO bench.timings VALUES ($1, '$2', $3, $4 / 1000.0)" >/dev/null
}

for n in $sizes; do
	start=$(date +%s)
	psql -XqAt -c "CALL bench.grow($n)" >/dev/null
	psql -XqAt -c "VACUUM ANALYZE" -c "SELECT pg_stat_force_next_flush()" >/dev/null
	echo "== $n tables (created in $(($(date +%s) - start)) s), median of $runs runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	# the worker's figures must be of these tables: wait for two fresh samples
	taken=$(psql -XqAt -c "SELECT samples_taken FROM pgmaint.sampler_status()")
	for _ in $(seq 1 600); do
		[ "$(psql -XqAt -c "SELECT samples_taken >= $taken + 2 FROM pgmaint.sampler_status()")" = t ] &&
			[ "$(worker_fresh)" = t ] && break
		sleep 0.5
	done
	[ "$(worker_fresh)" = t ] || { echo "the worker's figures are not fresh"; exit 1; }
	pattern='^(health\(|guide:)'
	[ "$n" -le "$reports" ] && pattern='.'
	psql -XqAt -c "CALL bench.measure($n, $runs, '$pattern')" >/dev/null
	# as processes: a psql that calls health() once, against check_postgres' 12 actions
	for r in $(seq 0 "$procs"); do
		for dir in $clients; do
			sfx=
			[ "$dir" = /usr/bin ] && sfx=' [pg_wrapper]'
			one=$(wall_us "$dir/psql" -XqAt -c 'SELECT 1')
			h=$(wall_us "$dir/psql" -XqAt -c 'SELECT pgmaint.health()')
			[ "$live" = t ] && hl=$(wall_us "$dir/psql" -XqAt -c 'SELECT pgmaint.health(live => true)')
			c=$(wall_us check_postgres_12 "$dir")
			[ "$r" = 0 ] && continue
			record_us "$n" "process: psql SELECT 1 (the floor)$sfx" "$r" "$one"
			record_us "$n" "process: psql health()$sfx" "$r" "$h"
			[ "$live" = t ] && record_us "$n" "process: psql health(live => true)$sfx" "$r" "$hl"
			record_us "$n" "process: check_postgres 12 actions$sfx" "$r" "$c"
		done
	done
	echo "   timed in $(($(date +%s) - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	# without preloading, health() computes the table-level figures itself
	sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = ''/" "$tmp/cluster/data/postgresql.conf"
	pgm_cluster_stop "$tmp/cluster"
	pgm_cluster_start "$tmp/cluster"
	[ "$(worker_fresh)" = f ] || { echo "the worker's figures are still used"; exit 1; }
	psql -XqAt -c "CALL bench.measure($n, $runs, '^health\(\)$', ' direct')" >/dev/null
	psql -XqAt -c "CALL bench.measure($n, $runs, '^guide:', ' (direct run)')" >/dev/null
	sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = 'pgmaint'/" "$tmp/cluster/data/postgresql.conf"
	pgm_cluster_stop "$tmp/cluster"
	pgm_cluster_start "$tmp/cluster"
done

echo
psql -X -P footer=off <<'SQL'
WITH m AS (
    SELECT size, name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
      FROM bench.timings GROUP BY size, name
),
pairs (report, guide) AS (
    VALUES ('vacuum_stats()', 'views: vacuum_stats() columns'),
           ('vacuum_stats()', 'guide: vacuum effectiveness'),
           ('cache_hit_tables()', 'views: cache_hit_tables() columns'),
           ('cache_hit_tables()', 'guide: per-table cache hit ratios'),
           ('cache_hit()', 'guide: overall cache hit ratio')
)
SELECT a.size AS tables, p.report, round(a.ms::numeric, 2) AS report_ms,
       p.guide, round(b.ms::numeric, 2) AS guide_ms,
       round((a.ms / b.ms)::numeric, 2) AS ratio
  FROM pairs p
  JOIN m a ON a.name = p.report
  JOIN m b ON b.name = p.guide AND b.size = a.size
UNION ALL
-- health() against the three guide queries above, run one after the other in
-- the same phase (with the worker's figures, then computing them directly)
SELECT a.size, a.name, round(a.ms::numeric, 2), 'guide: the three queries together',
       round(sum(b.ms)::numeric, 2), round((a.ms / sum(b.ms))::numeric, 3)
  FROM m a JOIN m b ON b.size = a.size
       AND (a.name IN ('health()', 'health(live => true)') AND b.name LIKE 'guide:%' AND b.name NOT LIKE '%(direct run)'
            OR a.name = 'health() direct' AND b.name LIKE 'guide:%(direct run)')
 WHERE a.name IN ('health()', 'health(live => true)', 'health() direct')
 GROUP BY a.size, a.name, a.ms
UNION ALL
-- as processes, wall-clock time
SELECT a.size, a.name, round(a.ms::numeric, 2), b.name, round(b.ms::numeric, 2),
       round((a.ms / b.ms)::numeric, 3)
  FROM m a JOIN m b ON b.size = a.size
       AND b.name = 'process: check_postgres 12 actions'
                    || CASE WHEN a.name LIKE '% [pg_wrapper]' THEN ' [pg_wrapper]' ELSE '' END
 WHERE a.name LIKE 'process: psql%'
 ORDER BY 2, 4 DESC, 1;

-- cost per table from the smallest to the largest size: equal per-table costs mean linear
WITH m AS (
    SELECT size, name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
      FROM bench.timings GROUP BY size, name
)
SELECT name, round((1000 * ms / size)::numeric, 2) AS us_per_table, size AS tables
  FROM m ORDER BY name, size;
SQL

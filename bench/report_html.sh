#!/usr/bin/env bash
# bench/report_html.sh: how long report_html() takes to build its page at
# 10,000 tables with a full week of one-minute history (10,080 rows of
# sample_history, inserted as synthetic samples), beside health(), which it
# calls, and report().
#
# Builds pgmaint, installs it into a private copy of the server under a temp
# dir, starts a throwaway cluster with the worker sampling the database every
# second, creates the tables (20 rows and a primary key each), inserts the
# history, then runs each statement alternately in one session, each run in
# its own transaction under EXPLAIN ANALYZE (server time, nothing sent), and
# prints medians.  Removes everything when done.
#
#   bash bench/report_html.sh                       # 10,000 tables, 9 runs
#   PGM_BENCH_TABLES=1000 PGM_BENCH_RUNS=5 bash bench/report_html.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

tables=${PGM_BENCH_TABLES:-10000}
runs=${PGM_BENCH_RUNS:-9}

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

start=$(date +%s)
psql -XqAt >/dev/null <<SQL
CREATE SCHEMA bench;
CREATE TABLE bench.timings (name text, run int, ms float8);
-- one transaction per 500 tables keeps the lock table small
CREATE PROCEDURE bench.grow(n int)
LANGUAGE plpgsql AS \$\$
DECLARE
    i int;
BEGIN
    FOR i IN 1 .. n LOOP
        EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v text)', i);
        EXECUTE format('INSERT INTO public.t%s SELECT g, g::text FROM generate_series(1, 20) g', i);
        IF i % 500 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
\$\$;
CALL bench.grow($tables);
-- a week of one-minute samples before the worker's own
INSERT INTO pgmaint.sample_history
SELECT t, 5 + (i % 7), 1 + (i % 3), 2 + (i % 5), 1, 0, i % 2, interval '1 s' * (i % 50), interval '1 s' * (i % 40),
       1000 * i + (i % 13) * 37, 10 * i, 50 * i, 5000 * i, 10 * i, 20 * i, 5 * i, 0, 0, 200000,
       100 + (i * 7919) % 5000, 1000, $tables, NULL
  FROM generate_series(1, 10080) i,
       LATERAL (SELECT date_trunc('minute', now()) - interval '1 hour' - (10080 - i) * interval '1 min' AS t) s;
SQL
# as autovacuum would have: the catalogs' dead rows from creating the tables
# (each CREATE TABLE updates its pg_class row again) are not what is measured
psql -XqAt -c "VACUUM (ANALYZE)" >/dev/null
echo "== $tables tables and $(psql -XqAt -c "SELECT count(*) FROM pgmaint.sample_history") rows of history (made and vacuumed in $(($(date +%s) - start)) s); $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# wait for a sample with the table-level figures of all the tables
deadline=$(($(date +%s) + 300))
until [ "$(psql -XqAt -c "SELECT samples_taken > 5 FROM pgmaint.sampler_status()")" = t ]; do
	[ "$(date +%s)" -lt "$deadline" ] || { echo "the worker did not sample"; exit 1; }
	sleep 1
done

psql -XqAt >/dev/null <<'SQL'
CREATE FUNCTION bench.server_ms(stmt text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) ' || stmt LOOP
        IF line LIKE 'Execution Time:%' THEN
            RETURN substring(line FROM '([0-9.]+) ms')::float8;
        END IF;
    END LOOP;
END
$$;
SQL
for r in $(seq 1 "$runs"); do
	for s in "report_html('7 days')|SELECT pgmaint.report_html('7 days')" \
		"report_html('24 hours')|SELECT pgmaint.report_html()" \
		"health()|SELECT pgmaint.health()" \
		"report()|SELECT pgmaint.report()" \
		"checklist()|SELECT * FROM pgmaint.checklist()" \
		"index_advice()|SELECT * FROM pgmaint.index_advice()" \
		"charts: _report_samples('7 days') + 5 charts|SELECT pgmaint._svg_chart('c', 'u', now() - interval '7 days', now(), b, ARRAY['a', 'b', 'c', 'd'], x, a, a, a, a), pgmaint._svg_chart('c', 'u', now() - interval '7 days', now(), b, ARRAY['a', 'b'], x, a, a), pgmaint._svg_chart('c', 'u', now() - interval '7 days', now(), b, ARRAY['a'], x, a), pgmaint._svg_chart('c', 'u', now() - interval '7 days', now(), b, ARRAY['a'], x, a), pgmaint._svg_chart('c', 'u', now() - interval '7 days', now(), b, ARRAY['a'], x, a) FROM (SELECT x, a, pgmaint._chart_breaks(x) AS b FROM (SELECT array_agg(extract(epoch FROM sampled_at)::float8) AS x, array_agg(commits_per_sec) AS a FROM (SELECT * FROM pgmaint._report_samples('7 days') ORDER BY sampled_at) s) t OFFSET 0) u"; do
		psql -XqAt -c "INSERT INTO bench.timings SELECT \$n\$${s%%|*}\$n\$, $r, bench.server_ms(\$s\$${s#*|}\$s\$)" >/dev/null
	done
done
bytes=$(psql -XqAt -c "SELECT octet_length(pgmaint.report_html('7 days'))")
points=$(psql -XqAt -c "SELECT pgmaint.report_html('7 days')" | grep -o 'class="series[^"]*" d="[^"]*"' | grep -o '[ML]' | wc -l)
psql -XqA -F ' | ' -c "
SELECT name AS statement, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms,
       round(min(ms)::numeric, 1) AS min_ms, round(max(ms)::numeric, 1) AS max_ms
  FROM bench.timings GROUP BY name ORDER BY median_ms DESC"
echo "page of report_html('7 days'): $bytes bytes, $points chart points in all ($runs runs each); load average $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# bench/policy.sh: cost of the autovacuum policy on a throwaway cluster with
# 1,000 user tables (a quarter of them written to).  Prints the latency of
# recommend_profiles(), one policy run in advise mode (with its snapshot), a dry
# run of apply_policy(), apply_policy(false) tuning every table that needs it,
# and tune_table() on one table.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null

tables=${PGM_BENCH_TABLES:-1000}
tmp=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$tmp"
trap 'pgm_cluster_stop "$tmp/c"; rm -rf "$tmp"' EXIT
pgm_stage_install "$tmp/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$tmp/c" "$port" postgres "" >/dev/null
echo "autovacuum = off" >>"$tmp/c/data/postgresql.conf"
pgm_cluster_start "$tmp/c"
export PGHOST=$tmp/c PGPORT=$port PGUSER=postgres PGDATABASE=postgres
psql -XqAt -c 'CREATE EXTENSION pgmaint'

psql -XqAt -v ON_ERROR_STOP=1 <<SQL
DO \$\$
BEGIN
    FOR i IN 1..$tables LOOP
        EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
        IF i % 4 = 0 THEN
            EXECUTE format('INSERT INTO t%s SELECT g, ''x'' FROM generate_series(1, 1200) g', i);
            IF i % 8 = 0 THEN
                EXECUTE format('UPDATE t%s SET v = ''y''', i);
            END IF;
        END IF;
    END LOOP;
END
\$\$;
SELECT pg_stat_force_next_flush();
SQL
sleep 1

run() {
	local label=$1 sql=$2 n=$3 lat
	printf '%s\n' "$sql" >"$tmp/q.sql"
	lat=$("$PGM_BIN/pgbench" -n -c 1 -t "$n" -f "$tmp/q.sql" 2>/dev/null |
		sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
	printf '%-52s %5s calls  %9s ms/call\n' "$label" "$n" "$lat"
}

echo "== autovacuum policy, $tables user tables ($(nproc) CPUs)"
echo "suggestions: $(psql -XqAt -c "SELECT string_agg(s || ' ' || n, ', ') FROM (SELECT coalesce(suggested_profile, 'none') s, count(*) n FROM pgmaint.recommend_profiles() GROUP BY 1 ORDER BY 1) x")"
# every column (the reasons too: an inlined recommend_profiles() skips what is not read)
run "recommend_profiles()" "SELECT sum(length(reason)) FROM pgmaint.recommend_profiles();" 20
run "recommend_profiles() counted, as checklist() does" "SELECT count(*) FILTER (WHERE suggested_profile IS NOT NULL) FROM pgmaint.recommend_profiles();" 20
run "apply_policy() (dry run, audits each table)" "BEGIN; SELECT count(*) FROM pgmaint.apply_policy(); ROLLBACK;" 10
run "run_policy('advise') (snapshot + advice)" "BEGIN; SELECT count(*) FROM pgmaint.run_policy('advise'); ROLLBACK;" 10
run "apply_policy(false) (tunes every suggested table)" "BEGIN; SELECT count(*) FROM pgmaint.apply_policy(false); ROLLBACK;" 5
run "tune_table() on one table" "SELECT pgmaint.tune_table('t4', 'high_churn');" 200
psql -XqAt -c "TRUNCATE pgmaint.table_activity" -c "SELECT count(*) FROM pgmaint.run_policy('advise')" >/dev/null
echo "table_activity after one snapshot: $(psql -XqAt -c "SELECT pg_size_pretty(pg_total_relation_size('pgmaint.table_activity')) || ' for ' || count(*) || ' rows' FROM pgmaint.table_activity")"

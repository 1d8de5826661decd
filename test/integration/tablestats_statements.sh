#!/usr/bin/env bash
# expensive_queries(): pg_stat_statements found in whatever schema it is
# installed, and SQLSTATE 55000 in a database without it.
set -u
. "$(dirname "$0")/../lib.sh"

db=pgmaint_ts_pgss
nodb=pgmaint_ts_nopgss
cleanup() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP DATABASE IF EXISTS $nodb WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup
q -d postgres -c "CREATE DATABASE $db" -c "CREATE DATABASE $nodb" >/dev/null
q -d "$nodb" -c "CREATE EXTENSION pgmaint" >/dev/null

err=$(psql -X -q -v VERBOSITY=verbose -d "$nodb" -c "SELECT * FROM pgmaint.expensive_queries()" 2>&1 >/dev/null)
ok "without pg_stat_statements: SQLSTATE 55000" grep -q "ERROR:  55000: pg_stat_statements is not installed in this database" <<<"$err"
ok "without pg_stat_statements: the hint says how to enable it" \
	grep -q "HINT:  Add pg_stat_statements to shared_preload_libraries, restart the server, then run CREATE EXTENSION pg_stat_statements" <<<"$err"

export PGDATABASE=$db
q -c "CREATE EXTENSION pgmaint" -c "CREATE SCHEMA stats" \
	-c "CREATE EXTENSION pg_stat_statements SCHEMA stats" -c "SELECT stats.pg_stat_statements_reset()" >/dev/null
# a statement that clearly costs the most, run three times
for i in 1 2 3; do
	q -c "SELECT count(*) FROM generate_series(1, 2000000) AS heavy_statement" >/dev/null
done
q -c "SELECT sum(g) FROM generate_series(1, 10) AS g" >/dev/null

is "$(q -c "SELECT calls, query ~ 'heavy_statement', rows FROM pgmaint.expensive_queries(1)")" "3|t|3" \
	"the most expensive statement comes first, with its calls and rows"
is "$(q -c "SELECT count(*) FROM pgmaint.expensive_queries(2)")" "2" "n limits the rows"
is "$(q -c "SELECT count(*) FROM pgmaint.expensive_queries(0)")" "0" "n = 0 lists nothing"
ok "the figures are pg_stat_statements' own, from its schema" wait_for "
SELECT (SELECT array_agg(ARRAY[queryid, calls, rows]::bigint[] ORDER BY total_exec_time DESC, queryid)
          FROM (SELECT * FROM stats.pg_stat_statements ORDER BY total_exec_time DESC, queryid LIMIT 5) s)
       = (SELECT array_agg(ARRAY[queryid, calls, rows]::bigint[]) FROM pgmaint.expensive_queries(5))" 30
ok "share_pct is the share of all statements' execution time" wait_for "
SELECT abs(e.share_pct - 100 * e.total_exec_time / (SELECT sum(total_exec_time) FROM stats.pg_stat_statements)) < 1
       AND abs(e.mean_exec_time - e.total_exec_time / e.calls) < 1e-6 * e.total_exec_time
  FROM pgmaint.expensive_queries(1) e" 30
is "$(q -c "SELECT database = current_database(), role = current_user FROM pgmaint.expensive_queries(1)")" "t|t" \
	"database and role are named"
finish

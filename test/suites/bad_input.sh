#!/usr/bin/env bash
# Bad-input matrix: every function of schema pgmaint, taken from pg_proc (a
# new function is covered without anyone listing it), called with
# adversarial values per argument type: NULL, 0, -1, extremes, negative and
# huge intervals, empty and 10,000-character strings, quotes and injection
# strings, and regclass values of a view, a materialized view, a partitioned
# table and a partition, a foreign table (file_fdw), a TOAST table, a catalog,
# a temporary table and a mixed-case name with spaces.  Each call runs in a
# transaction that is rolled back, in this suite's own cluster (actions do
# run).  Every call must end in a result or an ERROR whose SQLSTATE is not
# XX000, and the server must never restart.
. "$(dirname "$0")/../lib.sh"

base=${PGM_PORT_BASE:?}
dir="$PGM_TMP/bad_input"
export PGHOST=$dir PGPORT=$base PGUSER=postgres PGDATABASE=bad
trap 'pgm_cluster_stop "$dir"' EXIT

pgm_cluster_init "$dir" "$base" bad pgmaint,pg_stat_statements || exit 1
echo "pgmaint.sample_interval = 1" >>"$dir/data/postgresql.conf"
pgm_cluster_start "$dir" || exit 1
q -d postgres -c 'CREATE DATABASE bad' >/dev/null || exit 1
q <<'SQL' >/dev/null || exit 1
CREATE EXTENSION pgmaint;
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION file_fdw;
CREATE SERVER bad_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE public.bad_foreign (a text) SERVER bad_files OPTIONS (filename '/dev/null');
CREATE TABLE public.bad_plain (id int PRIMARY KEY, body text);
INSERT INTO public.bad_plain SELECT g, repeat('x', 3000) FROM generate_series(1, 50) g;
CREATE VIEW public.bad_view AS SELECT * FROM public.bad_plain;
CREATE MATERIALIZED VIEW public.bad_matview AS SELECT * FROM public.bad_plain;
CREATE TABLE public.bad_parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE public.bad_part_2026 PARTITION OF public.bad_parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public."Mixed Case Table" (id int);
CREATE ROLE bad_role;
SQL
started_at=$(q -c "SELECT pg_postmaster_start_time()")
toast=$(q -c "SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'public.bad_plain'::regclass")

# Adversarial values by argument type (SQL literals); others get NULL only.
values_sql=$(
	cat <<SQL
CREATE TEMP TABLE v (t regtype, lit text, typical boolean DEFAULT false);
INSERT INTO v (t, lit) VALUES
 ('regclass', 'NULL'), ('regclass', '0'), ('regclass', '''public.bad_view'''),
 ('regclass', '''public.bad_matview'''), ('regclass', '''public.bad_parted'''),
 ('regclass', '''public.bad_part_2026'''), ('regclass', '''public.bad_foreign'''),
 ('regclass', '''$toast'''), ('regclass', '''pg_catalog.pg_class'''),
 ('regclass', '''pg_temp.bad_temp'''), ('regclass', '''public."Mixed Case Table"'''),
 ('regclass', '''pgmaint.thresholds'''), ('regclass', '4294967295'),
 ('text', 'NULL'), ('text', ''''''), ('text', 'repeat(''x'', 10000)'), ('text', ''''''''''),
 ('text', '''x''''; DROP TABLE public.bad_plain; --'''), ('text', '''" OR 1=1 --'''),
 ('text', '''%s%n%x\\\\'''), ('text', '''high_churn'''), ('text', '''apply'''), ('text', '''/'''),
 ('text', '''/nonexistent/../../etc'''), ('text', 'E''\\\\x00'''), ('text', '''ü€𝄞'''),
 ('text', '''backup'''), ('text', '''verify'''), ('text', '''failed'''),
 ('integer', 'NULL'), ('integer', '0'), ('integer', '-1'), ('integer', '2147483647'), ('integer', '-2147483648'),
 ('bigint', 'NULL'), ('bigint', '0'), ('bigint', '-1'), ('bigint', '9223372036854775807'), ('bigint', '-9223372036854775808'),
 ('numeric', 'NULL'), ('numeric', '0'), ('numeric', '-1'), ('numeric', '''NaN'''), ('numeric', '''Infinity'''),
 ('numeric', '''-Infinity'''), ('numeric', '1e300'), ('numeric', '-1e-300'),
 ('interval', 'NULL'), ('interval', '''0'''), ('interval', '''-1 s'''), ('interval', '''1 microsecond'''),
 ('interval', '''178000000 years'''), ('interval', '''-178000000 years'''), ('interval', '''infinity''' ),
 ('timestamp with time zone', 'NULL'), ('timestamp with time zone', '''infinity'''),
 ('timestamp with time zone', '''-infinity'''), ('timestamp with time zone', '''4713-01-01 BC'''),
 ('timestamp with time zone', '''294276-12-31'''),
 ('boolean', 'NULL'), ('boolean', 'true'), ('boolean', 'false'),
 ('regrole', 'NULL'), ('regrole', '0'), ('regrole', '''pg_monitor'''), ('regrole', '''bad_role'''),
 ('name', 'NULL'), ('name', ''''''), ('name', 'repeat(''n'', 100)'), ('name', '''nobody'''),
 ('oid', 'NULL'), ('oid', '0'), ('oid', '4294967295'),
 ('text[]', 'NULL'), ('text[]', '''{}'''), ('text[]', '''{NULL}'''), ('text[]', '''{"x=1"}'''),
 ('text[]', '''{"autovacuum_vacuum_scale_factor=-1"}'''), ('text[]', '''{"fillfactor"}'''),
 ('oid[]', 'NULL'), ('oid[]', '''{}'''), ('oid[]', '''{0,NULL}'''),
 ('jsonb', 'NULL'), ('jsonb', '''{}'''), ('jsonb', '''[]'''), ('jsonb', '''null'''),
 ('jsonb', '''{"removed_ids": [1, "x"]}'''), ('jsonb', '''"x"'''),
 ('"char"', 'NULL'), ('"char"', '''r''');
-- the value the other arguments take while one argument varies
INSERT INTO v (t, lit, typical) VALUES ('regclass', '''public.bad_plain''', true), ('text', '''moderate''', true),
 ('integer', '1', true), ('bigint', '1', true), ('numeric', '1', true), ('interval', '''5 min''', true),
 ('timestamp with time zone', 'now()', true), ('regrole', '''bad_role''', true), ('name', 'current_user', true),
 ('oid', '1', true), ('text[]', '''{"autovacuum_vacuum_threshold=50"}''', true), ('oid[]', '''{1}''', true),
 ('jsonb', '''{"a": 1}''', true);
SQL
)

# one statement per call: all arguments typical (or NULL), then each argument
# through its values with the others typical
calls="$dir/calls.sql"
{
	printf '%s\n' "$values_sql"
	cat <<'SQL'
SELECT format('BEGIN; SELECT %s(%s); ROLLBACK;', f.oid::regproc, a.args)
  FROM pg_proc f
  JOIN LATERAL (
        SELECT NULL::int AS i, NULL::text AS lit
        UNION ALL
        SELECT u.o, v.lit FROM unnest(f.proargtypes::oid[]) WITH ORDINALITY u(t, o)
          JOIN v ON v.t = u.t::regtype
  ) c ON true
  CROSS JOIN LATERAL (
        SELECT coalesce(string_agg(
                   CASE WHEN u.o = c.i THEN c.lit || '::' || u.t::regtype
                        ELSE coalesce((SELECT min(v.lit) FROM v WHERE v.t = u.t::regtype AND v.typical), 'NULL')
                             || '::' || u.t::regtype END, ', ' ORDER BY u.o), '') AS args
          FROM unnest(f.proargtypes::oid[]) WITH ORDINALITY u(t, o)
  ) a
 WHERE f.pronamespace = 'pgmaint'::regnamespace AND f.prokind = 'f'
 ORDER BY f.proname, c.i NULLS FIRST, c.lit;
SQL
} | q >"$dir/calls.list" || { echo "not ok - could not build the call list"; exit 1; }
ncalls=$(wc -l <"$dir/calls.list")
nfuncs=$(q -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgmaint'::regnamespace AND prokind = 'f'")

{
	echo "\\set VERBOSITY verbose"
	echo "SET statement_timeout = '30s';"
	echo "SET client_min_messages = error;"
	echo "CREATE TEMP TABLE bad_temp (id int);"
	cat "$dir/calls.list"
} >"$calls"
psql -X -a -v ON_ERROR_STOP=0 -f "$calls" >"$dir/run.out" 2>&1
echo "# bad-input matrix: $ncalls calls over $nfuncs functions"
echo "# errors by SQLSTATE: $(grep -o '^psql:[^ ]* ERROR:  [0-9A-Z]\{5\}' "$dir/run.out" | awk '{print $3}' | sort | uniq -c | sort -rn | awk '{printf "%s %s, ", $2, $1}')"

ok "the matrix covers every function ($nfuncs) with $ncalls calls" test "$ncalls" -gt "$((nfuncs * 3))"
internal=$(grep -B3 'ERROR:  XX000' "$dir/run.out" | grep '^BEGIN; SELECT' | head -n 10)
is "$internal" "" "no call ends in an internal error (XX000)"
is "$(grep -c 'ERROR:  XX000' "$dir/run.out")" 0 "XX000 count"
ok "every call ran to its end (the session was never lost)" \
	bash -c "! grep -q 'server closed the connection\|connection to server was lost\|no connection to the server' '$dir/run.out'"
is "$(q -c "SELECT pg_postmaster_start_time()")" "$started_at" "the server never restarted"
ok "the server log has no crashed backend" \
	bash -c "! grep -q 'was terminated by signal\|terminating any other active server processes\|PANIC' '$dir/server.log'"
ok "the tables an injection string named are intact" q -c "SELECT count(*) FROM public.bad_plain"

finish

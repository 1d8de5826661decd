#!/usr/bin/env bash
# packages: sqlsmith
# sqlsmith against pgmaint: a bounded run of random queries (a few thousand,
# at most about two minutes) in a database whose only non-catalog schema is
# pgmaint (--exclude-catalog: the queries use pgmaint's tables and
# functions), while the worker samples every second with the policy in apply
# mode.  Fails on a server crash or restart, or on any internal error
# (XX000) raised inside a pgmaint function (read from the server log).
. "$(dirname "$0")/../lib.sh"

command -v sqlsmith >/dev/null || { echo "skipped: sqlsmith is not installed"; exit 0; }

base=${PGM_PORT_BASE:?}
dir="$PGM_TMP/sqlsmith"
queries=${PGMAINT_SQLSMITH_QUERIES:-3000}
export PGHOST=$dir PGPORT=$base PGUSER=postgres PGDATABASE=smith
smith_pid=""
trap '[ -n "$smith_pid" ] && kill "$smith_pid" 2>/dev/null; pgm_cluster_stop "$dir"' EXIT

pgm_cluster_init "$dir" "$base" smith pgmaint,pg_stat_statements || exit 1
cat >>"$dir/data/postgresql.conf" <<'CONF'
pgmaint.sample_interval = 1
pgmaint.policy = apply
pgmaint.policy_interval = 1
log_line_prefix = '%m [%p] %e %q%a '
log_error_verbosity = verbose
log_min_error_statement = error
track_functions = all
CONF
pgm_cluster_start "$dir" || exit 1
q -d postgres -c 'CREATE DATABASE smith' >/dev/null || exit 1
q <<'SQL' >/dev/null || exit 1
CREATE EXTENSION pgmaint;
ALTER DATABASE smith SET search_path = pgmaint, pg_catalog;
-- a little data for the policy and for sqlsmith's joins
CREATE TABLE public.smith_t (id int PRIMARY KEY, v text);
INSERT INTO public.smith_t SELECT g, 'v' FROM generate_series(1, 2000) g;
UPDATE public.smith_t SET v = 'w';
SQL
ok "the worker samples in the smith database" \
	wait_for "SELECT running AND samples_taken > 2 FROM pgmaint.sampler_status()" 60
started_at=$(q -c "SELECT pg_postmaster_start_time()")
log_from=$(($(stat -c %s "$dir/server.log") + 1))

t0=$(date +%s)
timeout -k 10 150 sqlsmith --target="host=$dir port=$base dbname=smith user=postgres" \
	--exclude-catalog --seed=13 --max-queries="$queries" --verbose >"$dir/sqlsmith.out" 2>&1 &
smith_pid=$!
wait "$smith_pid"
rc=$?
smith_pid=""
secs=$(($(date +%s) - t0))
ran=$(grep -ao 'queries: [0-9]*' "$dir/sqlsmith.out" | tail -n 1 | grep -o '[0-9]*')
[ -z "$ran" ] && ran=$(tr -cd '.ecCtS' <"$dir/sqlsmith.out" | wc -c)
echo "# sqlsmith: $ran statements in $secs s (exit $rc, seed 13, max $queries)"
tail -c 2000 "$dir/sqlsmith.out" | tr '\r' '\n' | grep -a -v '^[.ecCtS]*$' | tail -n 12 | sed 's/^/#   /'

ok "sqlsmith ran at least 500 statements" test "${ran:-0}" -ge 500
q -c "SELECT pg_stat_force_next_flush()" >/dev/null
called=$(q -c "SELECT count(*) FROM pg_stat_user_functions WHERE schemaname = 'pgmaint'")
echo "# pgmaint functions sqlsmith's statements (and the worker) called: $called of $(q -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgmaint'::regnamespace")"
ok "the statements called pgmaint's functions" test "${called:-0}" -ge 10
is "$(q -c "SELECT pg_postmaster_start_time()")" "$started_at" "the server never restarted"
tail -c +"$log_from" "$dir/server.log" >"$dir/run.log"
ok "no backend crashed" bash -c "! grep -aq 'was terminated by signal\|terminating any other active server processes\|PANIC' '$dir/run.log'"
# an XX000 error is pgmaint's when its LOCATION is a pgmaint C function
# (pgm_*, pgmaint_*) or its CONTEXT is a pgmaint SQL or PL/pgSQL function;
# core errors in statements that merely use pgmaint's tables do not count
awk '/ XX000 .*ERROR: /{split($0, a, " ERROR:"); key=a[1]; print "----"; print; next}
     key != "" && index($0, key) == 1 {print; next} {key=""}' "$dir/run.log" >"$dir/xx000.log"
pgmaint_internal=$(grep -a -c 'LOCATION:  pgm\|CONTEXT: .*pgmaint\.' "$dir/xx000.log" || true)
echo "# internal errors in the log: $(grep -ac '^----' "$dir/xx000.log"), in pgmaint functions: $pgmaint_internal"
is "$pgmaint_internal" 0 "no internal error (XX000) inside a pgmaint function"
[ "$pgmaint_internal" != 0 ] && grep -a -B4 'LOCATION:  pgm\|CONTEXT: .*pgmaint\.' "$dir/xx000.log" | head -n 20 | sed 's/^/#   /'
ok "the worker is still sampling" \
	wait_for "SELECT running AND heartbeat_at > now() - interval '10 s' FROM pgmaint.sampler_status()" 30

finish

#!/usr/bin/env bash
# Connections against real sessions: connections(), connection_leaks(),
# long_running_queries(), blocking_locks() and terminate_leaks() (rules,
# dry run, audit, a non-superuser caller, a session that changes state
# between listing and signalling).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../connections_lib.sh"

conn_setup
trap 'conn_cleanup' EXIT

q -c "CREATE TABLE conn_probe (id int)"
q -c "ALTER SYSTEM SET pgmaint.leak_exclude = 'pgm_conn_keep%, nothing_else'" -c "SELECT pg_reload_conf()" >/dev/null
ok "pgmaint.leak_exclude is reloaded" \
	wait_for "SELECT current_setting('pgmaint.leak_exclude') = 'pgm_conn_keep%, nothing_else'" 30

# --- the sessions ----------------------------------------------------------
conn_open pgm_conn_leak "BEGIN; LOCK TABLE conn_probe IN ACCESS EXCLUSIVE MODE;"
conn_wait pgm_conn_leak "state = 'idle in transaction'"
conn_open pgm_conn_waiter "SELECT count(*) FROM conn_probe;"
conn_open pgm_conn_aborted "BEGIN; SELECT 1/0;" "user=pgm_conn_app"
conn_open pgm_conn_app_leak "BEGIN; SELECT 1;" "user=pgm_conn_app"
conn_open pgm_conn_idle "SELECT 1;"
conn_open pgm_conn_keep "BEGIN; SELECT 1;" "user=pgm_conn_app"
conn_open pgm_conn_otherdb "BEGIN; SELECT 1;" "dbname=pgm_conn_other user=pgm_conn_app"
conn_open pgm_conn_repl "BEGIN; SELECT 1;" "dbname=$PGDATABASE replication=database"
conn_open pgm_conn_adv1 "SELECT pg_advisory_lock(4001);"
conn_wait pgm_conn_adv1 "state = 'idle'"
conn_open pgm_conn_adv2 "SELECT pg_advisory_lock(4002); SELECT pg_advisory_lock(4001);"
conn_wait pgm_conn_adv2 "wait_event_type = 'Lock'"
conn_open pgm_conn_adv3 "SELECT pg_advisory_lock(4002);"

conn_wait pgm_conn_waiter "wait_event_type = 'Lock'"
conn_wait pgm_conn_adv3 "wait_event_type = 'Lock'"
conn_wait pgm_conn_aborted "state = 'idle in transaction (aborted)'"
conn_wait pgm_conn_idle "state = 'idle'"
for s in pgm_conn_app_leak pgm_conn_keep pgm_conn_otherdb pgm_conn_repl; do
	conn_wait $s "state = 'idle in transaction'"
done
ok "the six leaks are older than a second" \
	wait_for "SELECT count(*) = 6 FROM pgmaint.connection_leaks('1 s') WHERE application_name LIKE 'pgm\_conn\_%'" 30
ok "the three waits are older than a second" \
	wait_for "SELECT count(*) = 3 FROM pgmaint.long_running_queries('1 s') WHERE application_name LIKE 'pgm\_conn\_%'" 30

# --- connections() -----------------------------------------------------------
is "$(q -c "SELECT string_agg(format('%s/%s=%s', datname, state, count), ' ' ORDER BY datname, state)
              FROM pgmaint.connections() WHERE datname IN ('$PGDATABASE', 'pgm_conn_other')")" \
	"pgm_conn_other/idle in transaction=1 $PGDATABASE/active=3 $PGDATABASE/idle=2 $PGDATABASE/idle in transaction=3 $PGDATABASE/idle in transaction (aborted)=1" \
	"connections() counts client sessions per database and state (own session and the walsender excluded)"
is "$(q -c "SELECT bool_and(max_duration >= '1 s' AND oldest_xact_age >= '1 s') FROM pgmaint.connections()
              WHERE datname = '$PGDATABASE' AND state LIKE 'idle in transaction%'")" "t" \
	"connections() measures the time in state and the oldest transaction"

# --- connection_leaks() ------------------------------------------------------
is "$(q -c "SELECT string_agg(format('%s:%s:%s', application_name, blocking, state), ' ' ORDER BY application_name)
              FROM pgmaint.connection_leaks('1 s') WHERE application_name LIKE 'pgm\_conn\_%'")" \
	"pgm_conn_aborted:0:idle in transaction (aborted) pgm_conn_app_leak:0:idle in transaction pgm_conn_keep:0:idle in transaction pgm_conn_leak:1:idle in transaction pgm_conn_otherdb:0:idle in transaction pgm_conn_repl:0:idle in transaction" \
	"connection_leaks() finds exactly the sessions idle in a transaction, and who blocks"
is "$(q -c "SELECT format('%s|%s|%s', query, usename, idle_for >= '1 s' AND xact_age >= idle_for)
              FROM pgmaint.connection_leaks(idle_for => '1 s') WHERE application_name = 'pgm_conn_leak'")" \
	"LOCK TABLE conn_probe IN ACCESS EXCLUSIVE MODE;|postgres|t" \
	"a leak shows its last statement, its user and its ages"
is "$(q -c "SELECT count(*) FROM pgmaint.connection_leaks('1 hour') WHERE application_name LIKE 'pgm\_conn\_%'")" "0" \
	"connection_leaks() honours idle_for"

# --- long_running_queries() and blocking_locks() ----------------------------
is "$(q -c "SELECT string_agg(format('%s<%s:%s', l.application_name,
                     (SELECT string_agg(a.application_name, '+') FROM pg_stat_activity a WHERE a.pid = ANY (l.blocked_by)),
                     l.wait_event_type), ' ' ORDER BY l.application_name)
              FROM pgmaint.long_running_queries('1 s') l WHERE l.application_name LIKE 'pgm\_conn\_%'")" \
	"pgm_conn_adv2<pgm_conn_adv1:Lock pgm_conn_adv3<pgm_conn_adv2:Lock pgm_conn_waiter<pgm_conn_leak:Lock" \
	"long_running_queries() finds exactly the three waiting statements and their blockers"
is "$(q -c "SELECT count(*) FROM pgmaint.long_running_queries('1 hour') WHERE application_name LIKE 'pgm\_conn\_%'")" "0" \
	"long_running_queries() honours min_duration"
is "$(q -c "SELECT string_agg(format('%s<%s:%s:%s:%s:%s:%s', w.application_name, b.application_name, l.lock_mode,
                     coalesce(l.relation, '-'), l.locktype, l.is_root_blocker, l.blocking_state), ' ' ORDER BY w.application_name)
              FROM pgmaint.blocking_locks() l
              LEFT JOIN pg_stat_activity w ON w.pid = l.blocked_pid
              LEFT JOIN pg_stat_activity b ON b.pid = l.blocking_pid")" \
	"pgm_conn_adv2<pgm_conn_adv1:ExclusiveLock:-:advisory:t:idle pgm_conn_adv3<pgm_conn_adv2:ExclusiveLock:-:advisory:f:active pgm_conn_waiter<pgm_conn_leak:AccessShareLock:public.conn_probe:relation:t:idle in transaction" \
	"blocking_locks() pairs exactly the table lock and the advisory chain, and marks the root blockers"
is "$(q -c "SELECT bool_and(blocked_for >= '1 s' AND blocked_query LIKE 'SELECT%' AND blocking_query IS NOT NULL
                             AND blocked_user IS NOT NULL AND blocking_user IS NOT NULL) FROM pgmaint.blocking_locks()")" "t" \
	"blocking_locks() shows both statements, both users and the wait time"

# --- terminate_leaks() ---------------------------------------------------------
probes="SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgm\_conn\_%'"
audits="SELECT count(*) FROM pgmaint.actions WHERE action = 'terminate_leak' AND detail->>'application_name' LIKE 'pgm\_conn\_%'"
n_probes=$(q -c "$probes")
is "$n_probes" "11" "eleven probe sessions are connected"
actions="SELECT string_agg(format('%s=%s', application_name, action), ' ' ORDER BY application_name)
           FROM pgmaint.terminate_leaks"
only_probes="WHERE application_name LIKE 'pgm\_conn\_%'"

is "$(q -U pgm_conn_weak -c "$actions('1 s', false) $only_probes")" \
	"pgm_conn_aborted=skipped: permission denied pgm_conn_app_leak=skipped: permission denied pgm_conn_keep=skipped: excluded application_name pgm_conn_leak=skipped: superuser session pgm_conn_otherdb=skipped: other database pgm_conn_repl=skipped: not a client backend" \
	"a caller without pg_signal_backend may terminate nothing"

is "$(q -c "$actions('1 s') $only_probes")" \
	"pgm_conn_aborted=would terminate pgm_conn_app_leak=would terminate pgm_conn_keep=skipped: excluded application_name pgm_conn_leak=would terminate pgm_conn_otherdb=skipped: other database pgm_conn_repl=skipped: not a client backend" \
	"the dry run (the default) names the eligible sessions and the reason for each skip"
is "$(q -c "$probes")" "$n_probes" "the dry run terminates nothing"
is "$(q -c "$audits AND dry_run AND actor = 'postgres'")" "3" "the dry run writes one audit row per would-be termination"

ok "a grantee of terminate_leaks cannot write audit rows itself" \
	bash -c "! psql -X -q -U pgm_conn_ops -c \"SELECT pgmaint._audit('forged', NULL, '{}', false)\" 2>/dev/null"
is "$(q -U pgm_conn_ops -c "$actions('1 s', false) $only_probes")" \
	"pgm_conn_aborted=terminated pgm_conn_app_leak=terminated pgm_conn_keep=skipped: excluded application_name pgm_conn_leak=skipped: superuser session pgm_conn_otherdb=skipped: other database pgm_conn_repl=skipped: not a client backend" \
	"a non-superuser with pg_signal_backend terminates the eligible sessions, not the superuser's"
ok "the terminated sessions are gone" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name IN ('pgm_conn_aborted', 'pgm_conn_app_leak'))" 30
is "$(q -c "$probes")" "$((n_probes - 2))" "every other session survives"
is "$(q -c "$audits AND NOT dry_run AND actor = 'pgm_conn_ops'
              AND detail->>'user' = 'pgm_conn_app' AND detail->>'by' = 'terminate_leaks' AND target LIKE 'pid %'")" "2" \
	"each termination writes an audit row with the caller as actor"

is "$(q -c "$actions('1 s', false) $only_probes")" \
	"pgm_conn_keep=skipped: excluded application_name pgm_conn_leak=terminated pgm_conn_otherdb=skipped: other database pgm_conn_repl=skipped: not a client backend" \
	"a superuser terminates the superuser's leak"
ok "the waiter gets its lock once the leak is gone" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgm_conn_waiter' AND state = 'idle')" 30
is "$(q -c "SELECT string_agg(application_name, ' ' ORDER BY application_name) FROM pg_stat_activity
              WHERE application_name IN ('pgm_conn_keep', 'pgm_conn_otherdb', 'pgm_conn_repl') AND state = 'idle in transaction'")" \
	"pgm_conn_keep pgm_conn_otherdb pgm_conn_repl" \
	"the excluded application, the other database and the walsender survive"
is "$(q -c "SELECT count(*) FROM pgmaint.blocking_locks()")" "2" "only the advisory chain still blocks"

# --- a session that changes state between listing and signalling -------------
conn_open pgm_conn_race "BEGIN; SELECT 1;" "user=pgm_conn_app"
ok "the racing session is a leak" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.connection_leaks('1 s') WHERE application_name = 'pgm_conn_race'" 30
# the caller's transaction caches pg_stat_activity while the session is still leaked
conn_open pgm_conn_ctl "BEGIN; SELECT count(*) FROM pg_stat_activity;"
conn_wait pgm_conn_ctl "state = 'idle in transaction'"
conn_send pgm_conn_race "COMMIT;"
conn_wait pgm_conn_race "state = 'idle'"
conn_send pgm_conn_ctl "SELECT 'race=' || action FROM pgmaint.terminate_leaks('1 s', false) WHERE application_name = 'pgm_conn_race'; COMMIT;"
ok "terminate_leaks() reports the session that changed state" \
	wait_for_file "$conn_dir/pgm_conn_ctl.out" 'race=skipped: state changed' 30
is "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgm_conn_race'")" "1" \
	"a session that became idle since the listing is not terminated"

finish

#!/usr/bin/env bash
# The worker's leak sweep: with pgmaint.leak_action = report one WARNING per
# leaked session (once, not every sample); with terminate the leak ends within
# two sample intervals, audited, while an excluded application survives.  And
# connection_budget()'s peak row, from the sampler's history.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../connections_lib.sh"

log="$PGHOST/server.log"

# Polls FILE until TEXT occurs N times or SECONDS pass.
wait_for_count() {
	local file=$1 text=$2 n=$3 seconds=$4 deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ "$(grep -cF -- "$text" "$file")" = "$n" ] && return 0
		sleep 0.2
	done
	return 1
}
samples="SELECT samples_taken FROM pgmaint.sampler_status()"

conn_setup
sweep_cleanup() {
	q -c "ALTER SYSTEM RESET pgmaint.leak_action" -c "ALTER SYSTEM RESET pgmaint.leak_timeout" \
		-c "ALTER SYSTEM RESET pgmaint.sample_interval" -c "SELECT pg_reload_conf()" >/dev/null
	conn_cleanup
}
trap 'sweep_cleanup' EXIT

ok "the worker is running" wait_for "SELECT running FROM pgmaint.sampler_status()" 30

# --- report ---------------------------------------------------------------------
q -c "ALTER SYSTEM SET pgmaint.sample_interval = '1s'" -c "ALTER SYSTEM SET pgmaint.leak_timeout = '2s'" \
	-c "ALTER SYSTEM SET pgmaint.leak_action = 'report'" \
	-c "ALTER SYSTEM SET pgmaint.leak_exclude = 'pgm_conn_keep%'" -c "SELECT pg_reload_conf()" >/dev/null
ok "the worker samples every second" \
	wait_for "SELECT sample_interval = '1 s' FROM pgmaint.sampler_status()" 30

conn_open pgm_conn_sweep "BEGIN; SELECT 1;" "user=pgm_conn_app"
conn_open pgm_conn_keep "BEGIN; SELECT 1;" "user=pgm_conn_app"
conn_wait pgm_conn_sweep "state = 'idle in transaction'"
conn_wait pgm_conn_keep "state = 'idle in transaction'"
pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgm_conn_sweep'")
keep_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgm_conn_keep'")

ok "report mode logs a WARNING for the leak" \
	wait_for_file "$log" "WARNING:  session $pid of user \"pgm_conn_app\"" 30
s0=$(q -c "$samples")
ok "three more samples are taken" wait_for "SELECT samples_taken >= $s0 + 3 FROM pgmaint.sampler_status()" 30
is "$(grep -c "WARNING:  session $pid of user" "$log")" "1" "the WARNING is logged once per session, not every sample"
is "$(grep -c "WARNING:  session $keep_pid of user" "$log")" "0" "an excluded application is not reported"
is "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgm_conn_sweep'")" "1" \
	"report mode terminates nothing"

# a new leak of the same session, after it recovered, is a new report
conn_send pgm_conn_sweep "COMMIT;"
conn_wait pgm_conn_sweep "state = 'idle'"
s0=$(q -c "$samples")
ok "two samples see the session recovered" wait_for "SELECT samples_taken >= $s0 + 2 FROM pgmaint.sampler_status()" 30
conn_send pgm_conn_sweep "BEGIN; SELECT 2;"
ok "a session that leaks again is reported again" wait_for_count "$log" "WARNING:  session $pid of user" 2 30

# --- terminate ------------------------------------------------------------------
# the changed interval shows when the worker has read the new settings
q -c "ALTER SYSTEM SET pgmaint.leak_action = 'terminate'" -c "ALTER SYSTEM SET pgmaint.sample_interval = '2s'" \
	-c "SELECT pg_reload_conf()" >/dev/null
ok "the worker reloads its settings" \
	wait_for "SELECT sample_interval = '2 s' FROM pgmaint.sampler_status()" 30
s0=$(q -c "$samples")
ok "terminate mode ends the leak" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgm_conn_sweep')" 30
s1=$(q -c "$samples")
ok "within two sample intervals ($((s1 - s0)) samples)" test $((s1 - s0)) -le 2
is "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'terminate_leak' AND target = 'pid $pid'
              AND NOT dry_run AND detail->>'by' = 'worker' AND detail->>'application_name' = 'pgm_conn_sweep'")" "1" \
	"the worker's termination is audited"
ok "and logged" grep -q "pgmaint terminated session $pid of user \"pgm_conn_app\"" "$log"

conn_open pgm_conn_sweep2 "BEGIN; SELECT 1;"
conn_wait pgm_conn_sweep2 "state = 'idle in transaction'"
ok "a superuser's leak is terminated by the worker too" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgm_conn_sweep2')" 30
s0=$(q -c "$samples")
ok "two more samples are taken" wait_for "SELECT samples_taken >= $s0 + 2 FROM pgmaint.sampler_status()" 30
is "$(q -c "SELECT state FROM pg_stat_activity WHERE application_name = 'pgm_conn_keep'")" "idle in transaction" \
	"an excluded application survives the sweep"

# --- connection_budget(): the peak seen by the sampler --------------------------
is "$(q -c "SELECT value = greatest((SELECT max(client_backends) FROM pgmaint.sample_history),
                                    (SELECT max(client_backends) FROM pgmaint.samples(NULL))) AND value >= 2
              FROM pgmaint.connection_budget() WHERE item = 'peak client connections'")" "t" \
	"connection_budget() reports the peak of the sampler's history"

finish

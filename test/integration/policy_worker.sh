#!/usr/bin/env bash
# The worker's policy step: every pgmaint.policy_interval, advise logs each new
# suggestion once and records it, apply tunes (skipping a table another session
# holds in ACCESS EXCLUSIVE without waiting in the lock queue, and tuning it once
# free), off does nothing.
set -u
. "$(dirname "$0")/../lib.sh"

log="$PGHOST/server.log"
locker=""
cleanup() {
	[ -n "$locker" ] && kill "$locker" 2>/dev/null
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgmaint_worker_locker'" >/dev/null 2>&1
	q -c "ALTER SYSTEM RESET pgmaint.policy" -c "ALTER SYSTEM RESET pgmaint.policy_interval" \
		-c "SELECT pg_reload_conf()" >/dev/null 2>&1
	q -c "DROP SCHEMA IF EXISTS pwk CASCADE" >/dev/null 2>&1
	q -c "SELECT count(pgmaint.reset_table(relid)) FROM pgmaint.table_policy
	       WHERE source = 'policy' AND applied_at >= '$started'" >/dev/null 2>&1
	q -c "DELETE FROM pgmaint.policy_advice" >/dev/null 2>&1
}
started=$(q -c "SELECT now()")
log_from=$(($(stat -c %s "$log") + 1))
trap cleanup EXIT

ok "the worker runs" wait_for "SELECT running FROM pgmaint.sampler_status()" 30
worker=$(q -c "SELECT pid FROM pgmaint.sampler_status()")

q <<'SQL' >/dev/null
CREATE SCHEMA pwk;
CREATE TABLE pwk.agent_cache (cache_key int PRIMARY KEY, value text);
CREATE TABLE pwk.tool_call_log (id bigint, tool text);
INSERT INTO pwk.agent_cache SELECT g, 'a' FROM generate_series(1, 1000) g;
UPDATE pwk.agent_cache SET value = 'b';
UPDATE pwk.agent_cache SET value = 'c';
DELETE FROM pwk.agent_cache WHERE cache_key % 3 = 0;
INSERT INTO pwk.tool_call_log SELECT g, 'search' FROM generate_series(1, 2000) g;
SELECT pg_stat_force_next_flush();
SQL
ok "the statistics show the writes" wait_for \
	"SELECT n_tup_del > 0 FROM pg_stat_user_tables WHERE relid = 'pwk.agent_cache'::regclass" 30

# advise, every 3 seconds
q -c "ALTER SYSTEM SET pgmaint.policy = 'advise'" -c "ALTER SYSTEM SET pgmaint.policy_interval = '3s'" \
	-c "SELECT pg_reload_conf()" >/dev/null
advised() { tail -c +"$log_from" "$log" | grep -c 'table pwk.agent_cache would be better tuned "high_churn"'; }
ok "advise records the worker's suggestion" wait_for \
	"SELECT EXISTS (SELECT 1 FROM pgmaint.policy_advice WHERE relid = 'pwk.agent_cache'::regclass AND profile = 'high_churn')" 40
ok "and logs it" [ "$(advised)" -ge 1 ]
ok "the worker runs the policy again (a third snapshot)" wait_for \
	"SELECT count(*) >= 3 FROM pgmaint.table_activity WHERE relid = 'pwk.agent_cache'::regclass" 40
is "$(advised)" 1 "each suggestion is logged once"
is "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'policy_advise' AND target = 'pwk.agent_cache' AND dry_run")" 1 \
	"and audited once"
is "$(q -c "SELECT coalesce(reloptions::text, 'none') FROM pg_class WHERE oid = 'pwk.agent_cache'::regclass")" none \
	"advise changes no table"

# apply, with tool_call_log held in ACCESS EXCLUSIVE by another session
{ echo "BEGIN; LOCK TABLE pwk.tool_call_log IN ACCESS EXCLUSIVE MODE; SELECT 'locked';"; sleep 600; } |
	psql -X -q -At "application_name=pgmaint_worker_locker" >/dev/null 2>&1 &
locker=$!
ok "another session holds ACCESS EXCLUSIVE on tool_call_log" wait_for \
	"SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	  WHERE a.application_name = 'pgmaint_worker_locker' AND l.relation = 'pwk.tool_call_log'::regclass
	    AND l.mode = 'AccessExclusiveLock' AND l.granted)" 30
q -c "ALTER SYSTEM SET pgmaint.policy = 'apply'" -c "SELECT pg_reload_conf()" >/dev/null
ok "apply tunes agent_cache with the guide's values" wait_for \
	"SELECT reloptions = '{autovacuum_vacuum_scale_factor=0.05,autovacuum_vacuum_threshold=25,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10}'
	   FROM pg_class WHERE oid = 'pwk.agent_cache'::regclass" 40
ok "and skips the locked table (audited)" wait_for \
	"SELECT EXISTS (SELECT 1 FROM pgmaint.actions WHERE action = 'apply_policy' AND target = 'pwk.tool_call_log'
	   AND detail->>'result' = 'skipped' AND at >= '$started')" 40
# watch the worker over several policy runs: it may wait in the lock queue only
# for the 200 ms lock timeout, never for its own 10 s default.  Every run audits
# the skip, so the audit rows say how many runs the watch spanned.
watched=$(q -c "SELECT clock_timestamp()")
waiting=0
for _ in $(seq 1 60); do
	w=$(q -c "SELECT count(*) FROM pg_locks WHERE pid = $worker AND NOT granted")
	[ "$w" != 0 ] && waiting=$((waiting + 1))
	sleep 0.2
done
runs=$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'apply_policy' AND target = 'pwk.tool_call_log'
              AND detail->>'result' = 'skipped' AND at > '$watched' AND at < clock_timestamp()")
ok "the watch spanned several policy runs on the locked table ($runs)" [ "$runs" -ge 2 ]
ok "the worker never queued long behind the lock ($waiting of 60 samples, over 12 s or more)" [ "$waiting" -le 8 ]
is "$(q -c "SELECT coalesce(reloptions::text, 'none') FROM pg_class WHERE oid = 'pwk.tool_call_log'::regclass")" none \
	"the locked table is unchanged"

kill "$locker" 2>/dev/null
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgmaint_worker_locker'" >/dev/null
locker=""
ok "once free, the worker tunes it with the guide's append_only values" wait_for \
	"SELECT reloptions = '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}'
	   FROM pg_class WHERE oid = 'pwk.tool_call_log'::regclass" 40
is "$(q -c "SELECT string_agg(profile || ' ' || source || ' ' || pinned, ', ' ORDER BY relid::text) FROM pgmaint.table_policy
             WHERE relid IN ('pwk.agent_cache'::regclass, 'pwk.tool_call_log'::regclass)")" \
	"high_churn policy false, append_only policy false" "both are recorded as the policy's"

# off: no policy run (no snapshot).  The worker records nothing when its policy
# task does nothing, so it is restarted: a new worker has every task due at once
# and its first loop runs the policy task before the events step; once that
# step is seen ended, the policy task has run with policy = off.
q -c "ALTER SYSTEM SET pgmaint.policy = 'off'" -c "SELECT pg_reload_conf()" >/dev/null
ok "the server has policy = off" wait_for "SELECT current_setting('pgmaint.policy') = 'off'" 30
t_off=$(stop_worker)
ok "the worker is stopped" [ -n "$t_off" ]
ok "a new worker has run its first loop, the policy task included" wait_worker_step events 1 "$t_off" 60
is "$(q -c "SELECT count(*) FROM pgmaint.table_activity WHERE taken_at > '$t_off'")" 0 \
	"off: no policy run took a snapshot"
is "$(q -c "SELECT running FROM pgmaint.sampler_status()")" t "the worker is still running"
finish

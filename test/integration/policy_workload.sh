#!/usr/bin/env bash
# The autovacuum policy on a live workload: agent_cache churns, token_usage and
# tool_call_log take inserts.  Classification, advise (logged once), apply with
# the guide's exact values, a pinned table left alone, and a table held in
# ACCESS EXCLUSIVE by another session skipped without waiting, tuned once free.
set -u
. "$(dirname "$0")/../lib.sh"

work="$PGM_TMP/policy_workload"
mkdir -p "$work"
log="$PGHOST/server.log"
locker=""

cleanup() {
	[ -n "$locker" ] && kill "$locker" 2>/dev/null
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgmaint_policy_locker'" >/dev/null 2>&1
	q -c "DROP SCHEMA IF EXISTS pw CASCADE" >/dev/null 2>&1
	# tables of other suites that this test's apply runs tuned go back as they were
	q -c "SELECT count(pgmaint.reset_table(relid)) FROM pgmaint.table_policy
	       WHERE source = 'policy' AND applied_at >= '$started'" >/dev/null 2>&1
	q -c "DELETE FROM pgmaint.policy_advice" >/dev/null 2>&1
}
started=$(q -c "SELECT now()")
log_from=$(($(stat -c %s "$log") + 1))
trap cleanup EXIT

q <<'SQL'
CREATE SCHEMA pw;
CREATE TABLE pw.agent_cache (cache_key int PRIMARY KEY, value text NOT NULL, expires_at timestamptz NOT NULL);
CREATE TABLE pw.token_usage (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, thread_id int, tokens int);
CREATE TABLE pw.tool_call_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tool text, at timestamptz DEFAULT now());
CREATE TABLE pw.thread_messages (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
SQL

cat >"$work/cache.sql" <<'SQL'
\set k random(1, 500)
INSERT INTO pw.agent_cache VALUES (:k, 'v', now() + interval '1 hour')
    ON CONFLICT (cache_key) DO UPDATE SET value = 'w', expires_at = EXCLUDED.expires_at;
UPDATE pw.agent_cache SET value = 'x' WHERE cache_key = :k;
DELETE FROM pw.agent_cache WHERE cache_key = :k % 500 + 1;
SQL
cat >"$work/usage.sql" <<'SQL'
\set t random(1, 100)
INSERT INTO pw.token_usage (thread_id, tokens) VALUES (:t, 42);
INSERT INTO pw.tool_call_log (tool) VALUES ('search');
INSERT INTO pw.thread_messages (body) VALUES ('hello');
SQL

"$PGM_BIN/pgbench" -n -c 2 -t 1500 -f "$work/cache.sql" -f "$work/usage.sql" >"$work/pgbench.out" 2>&1
ok "the workload ran" grep -q "number of transactions actually processed: 3000" "$work/pgbench.out"
q -c "UPDATE pw.token_usage SET tokens = 0 WHERE id <= 5" >/dev/null
q -c "UPDATE pw.thread_messages SET body = 'edited' WHERE id <= 200" >/dev/null
q -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "the statistics show the workload" wait_for \
	"SELECT n_tup_upd > 0 AND n_tup_del > 0 FROM pg_stat_user_tables WHERE relid = 'pw.agent_cache'::regclass" 30

is "$(q -c "SELECT table_name || ' ' || coalesce(suggested_profile, '-') FROM pgmaint.recommend_profiles()
             WHERE schema_name = 'pw' ORDER BY table_name")" \
	"agent_cache high_churn
thread_messages moderate
token_usage insert_heavy
tool_call_log append_only" "agent_cache is high_churn, token_usage insert_heavy, tool_call_log append_only"

# advise: each suggestion logged once and recorded
q -c "SELECT count(*) FROM pgmaint.run_policy('advise')" >/dev/null
q -c "SELECT count(*) FROM pgmaint.run_policy('advise')" >/dev/null
advised() { tail -c +"$log_from" "$log" | grep -c 'table pw.agent_cache would be better tuned "high_churn"'; }
ok "advise logs agent_cache's suggestion" [ "$(advised)" -ge 1 ]
is "$(advised)" 1 "advise logs it once"
is "$(q -c "SELECT string_agg(profile, ',' ORDER BY relid) FROM pgmaint.policy_advice
             WHERE relid IN ('pw.agent_cache'::regclass, 'pw.token_usage'::regclass)")" \
	"high_churn,insert_heavy" "advise records the suggestions"
is "$(q -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'pw' AND c.reloptions IS NOT NULL")" 0 "advise changes no table"

# a pinned table is left alone
q -c "SELECT pgmaint.tune_table('pw.thread_messages', 'append_only')" >/dev/null

# another session holds ACCESS EXCLUSIVE on tool_call_log
{ echo "BEGIN; LOCK TABLE pw.tool_call_log IN ACCESS EXCLUSIVE MODE; SELECT 'locked';"; sleep 600; } |
	psql -X -q -At "application_name=pgmaint_policy_locker" >"$work/locker.out" 2>&1 &
locker=$!
ok "another session holds ACCESS EXCLUSIVE on tool_call_log" wait_for \
	"SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	  WHERE a.application_name = 'pgmaint_policy_locker' AND l.relation = 'pw.tool_call_log'::regclass
	    AND l.mode = 'AccessExclusiveLock' AND l.granted)" 30

t0=$(date +%s%N)
out=$(q -c "SELECT table_name || ' ' || action FROM pgmaint.run_policy('apply')
             WHERE table_name LIKE 'pw.%' ORDER BY table_name")
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$out" "pw.agent_cache tuned
pw.token_usage tuned
pw.tool_call_log skipped" "apply tunes the free tables and skips the locked one"
ok "the run did not wait for the lock (${elapsed_ms} ms)" [ "$elapsed_ms" -lt 3000 ]
is "$(q -c "SELECT detail->>'detail' FROM pgmaint.actions
             WHERE action = 'apply_policy' AND target = 'pw.tool_call_log' ORDER BY id DESC LIMIT 1")" \
	"locked by another session past the lock timeout; retried on the next run" "the skip is audited"

# exactly the guide's values
is "$(q -c "SELECT c.reloptions = p.reloptions FROM pg_class c, pgmaint.profiles p
             WHERE c.oid = 'pw.agent_cache'::regclass AND p.name = 'high_churn'")" t \
	"agent_cache has exactly high_churn's reloptions"
is "$(q -c "SELECT reloptions FROM pg_class WHERE oid = 'pw.agent_cache'::regclass")" \
	"{autovacuum_vacuum_scale_factor=0.05,autovacuum_vacuum_threshold=25,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10}" \
	"which are the guide's values for agent_cache"
is "$(q -c "SELECT reloptions FROM pg_class WHERE oid = 'pw.token_usage'::regclass")" \
	"{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=100}" \
	"token_usage has the guide's insert_heavy values"
is "$(q -c "SELECT coalesce(reloptions::text, 'none') FROM pg_class WHERE oid = 'pw.tool_call_log'::regclass")" \
	"none" "the locked table is unchanged"
is "$(q -c "SELECT profile || ' ' || source || ' ' || pinned FROM pgmaint.table_policy
             WHERE relid = 'pw.thread_messages'::regclass")" "append_only manual true" \
	"the pinned table keeps its manual profile"
is "$(q -c "SELECT reloptions FROM pg_class WHERE oid = 'pw.thread_messages'::regclass")" \
	"{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}" \
	"and its reloptions"

# once free, the next run tunes it
kill "$locker" 2>/dev/null
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgmaint_policy_locker'" >/dev/null
locker=""
ok "the lock is gone" wait_for \
	"SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'pw.tool_call_log'::regclass)" 30
is "$(q -c "SELECT table_name || ' ' || action FROM pgmaint.run_policy('apply') WHERE table_name LIKE 'pw.%'")" \
	"pw.tool_call_log tuned" "the next run tunes the table that was locked"
is "$(q -c "SELECT reloptions FROM pg_class WHERE oid = 'pw.tool_call_log'::regclass")" \
	"{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}" \
	"tool_call_log has the guide's append_only values"
is "$(q -c "SELECT count(*) FROM pgmaint.run_policy('apply') WHERE table_name LIKE 'pw.%'")" 0 \
	"a further run has nothing to do"
finish

#!/usr/bin/env bash
# Retention (issue 20): validation, exact counts on planted data, a run killed
# between batches (archive + source = original at every point) and resumed,
# a monthly-partitioned tool_call_log, privileges, the health check, and the
# worker's runs (as the table's owner, only with pgmaint.policy = apply).
set -u
. "$(dirname "$0")/../lib.sh"

runner=""
cleanup() {
	[ -n "$runner" ] && kill "$runner" 2>/dev/null
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'ret_%'" >/dev/null 2>&1
	q -c "ALTER SYSTEM RESET pgmaint.policy" -c "ALTER SYSTEM RESET pgmaint.retention_interval" \
		-c "SELECT pg_reload_conf()" >/dev/null 2>&1
	q -c "DROP SCHEMA IF EXISTS ret CASCADE" -c "DROP SCHEMA IF EXISTS retp CASCADE" >/dev/null 2>&1
	q -c "DROP OWNED BY ret_owner, ret_other" -c "DROP ROLE IF EXISTS ret_owner" -c "DROP ROLE IF EXISTS ret_other" >/dev/null 2>&1
	q -c "DELETE FROM pgmaint.retention" >/dev/null 2>&1
}
trap cleanup EXIT
started=$(q -c "SELECT now()")

# SQLSTATE of a statement that must fail (empty when it succeeds)
state() {
	psql -X -At -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" -c "$1" 2>&1 >/dev/null |
		sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1
}

q <<'SQL' >/dev/null
CREATE SCHEMA ret;
-- the guide's tables; ages are planted: one row an hour, on the half hour
CREATE TABLE ret.token_usage (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id bigint NOT NULL, tokens int NOT NULL,
    created_at timestamptz NOT NULL);
CREATE TABLE ret.token_usage_archive (LIKE ret.token_usage);
INSERT INTO ret.token_usage (thread_id, tokens, created_at)
SELECT g % 50, g, now() - interval '30 min' - g * interval '1 hour' FROM generate_series(1, 3000) g;
CREATE TABLE ret.agent_cache (cache_key text PRIMARY KEY, value jsonb, expires_at timestamptz NOT NULL);
INSERT INTO ret.agent_cache
SELECT 'k' || g, '{}', now() + (g - 400) * interval '1 min' - interval '30 s' FROM generate_series(1, 1000) g;
CREATE TABLE ret.notes (id int, body text, at date);
CREATE TABLE ret.bad_archive (id bigint, tokens text, created_at timestamptz);
SQL

# --- validation ---------------------------------------------------------------
is "$(state "SELECT pgmaint.set_retention('ret.token_usage', 'nope', '1 day')")" 42703 "a missing column is 42703"
is "$(state "SELECT pgmaint.set_retention('ret.token_usage', 'tokens', '1 day')")" 42804 "a column that is not a time type is 42804"
is "$(state "SELECT pgmaint.set_retention('ret.token_usage', 'created_at', '-1 day')")" 22023 "a negative keep is 22023"
is "$(state "SELECT pgmaint.set_retention('ret.token_usage', 'created_at', '1 day', 'ret.bad_archive')")" 42804 \
	"an archive with incompatible columns is 42804"
is "$(state "SELECT pgmaint.set_retention('ret.token_usage', 'created_at', '1 day', batch => 0)")" 22023 "a batch of 0 is 22023"
is "$(state "SELECT pgmaint.set_retention('ret.token_usage', 'created_at', '1 day', 'ret.token_usage')")" 22023 \
	"a table cannot be its own archive"
is "$(state "CALL pgmaint.apply_retention('ret.notes')")" 22023 "apply_retention of a table without a rule is 22023"

# --- exact counts on planted data ----------------------------------------------
q -c "SELECT pgmaint.set_retention('ret.token_usage', 'created_at', '100 days', 'ret.token_usage_archive', 250)" >/dev/null
q -c "SELECT pgmaint.set_retention('ret.agent_cache', 'expires_at', '0')" >/dev/null
q -c "SELECT pgmaint.set_retention('ret.notes', 'at', '30 days')" >/dev/null
is "$(q -c "SELECT string_agg(format('%s %s %s %s', table_name, rows_to_remove, partitions_to_remove, method), '; ' ORDER BY table_name::text)
             FROM pgmaint.retention_plan()")" \
	"ret.agent_cache 400 0 delete rows; ret.notes 0 0 delete rows; ret.token_usage 601 0 move rows to ret.token_usage_archive" \
	"retention_plan() counts what would go (3000 rows an hour apart on the half hour, 2399 within 100 days; 400 expired cache rows)"
is "$(q -c "SELECT count(*) FROM ret.token_usage")|$(q -c "SELECT count(*) FROM ret.agent_cache")" "3000|1000" \
	"and the dry run changes nothing"
out=$(psql -X -q -c "CALL pgmaint.apply_retention()" 2>&1)
is "$(q -c "SELECT count(*) FROM ret.token_usage")|$(q -c "SELECT count(*) FROM ret.token_usage_archive")" "2399|601" \
	"601 token_usage rows moved to the archive, 2399 kept"
is "$(q -c "SELECT count(*) FROM ret.token_usage WHERE created_at < now() - interval '100 days'")|$(q -c "SELECT count(*) FROM ret.token_usage_archive WHERE created_at >= now() - interval '100 days'")" \
	"0|0" "exactly the rows older than the cutoff moved"
is "$(q -c "SELECT count(*) FROM ret.agent_cache")|$(q -c "SELECT count(*) FROM ret.agent_cache WHERE expires_at < now()")" "600|0" \
	"keep 0 removes the 400 expired cache rows"
is "$(q -c "SELECT detail->>'removed' || ' ' || (detail->>'archived') || ' ' || (detail->>'batches') || ' ' || (detail->>'stopped')
             FROM pgmaint.actions WHERE action = 'retention' AND target = 'ret.token_usage' AND at >= '$started'")" \
	"601 601 3 done" "audited: 601 removed and archived in 3 batches of 250 (counts, not rows)"
ok "the audit row has the cutoff" [ "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'retention' AND target = 'ret.token_usage' AND (detail->>'cutoff')::timestamptz < now() - interval '99 days'")" = 1 ]
ok "a NOTICE reports each table" grep -q 'retention of ret.token_usage: 601 row(s) removed (601 archived), 0 partition(s), 3 batch(es), 0 skipped' <<<"$out"
ok "and advises ANALYZE after a large removal" grep -q 'HINT:  ANALYZE ret.agent_cache' <<<"$out"
is "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'retention' AND target = 'ret.notes' AND at >= '$started'")" 0 \
	"a table with nothing to remove is not audited"
q -c "CALL pgmaint.apply_retention()" >/dev/null 2>&1
is "$(q -c "SELECT count(*) FROM ret.token_usage")|$(q -c "SELECT count(*) FROM ret.token_usage_archive")" "2399|601" \
	"a second run removes nothing more"

# --- a run killed between batches, then resumed -----------------------------------
q <<'SQL' >/dev/null
CREATE TABLE ret.tool_call_log (id bigint PRIMARY KEY, tool text, created_at timestamptz NOT NULL);
CREATE TABLE ret.tool_call_log_archive (LIKE ret.tool_call_log);
INSERT INTO ret.tool_call_log SELECT g, 'search', now() - interval '200 days' + g * interval '1 s' FROM generate_series(1, 20000) g;
INSERT INTO ret.tool_call_log SELECT g, 'search', now() - interval '1 day' FROM generate_series(20001, 21000) g;
-- a slow batch: each one waits 50 ms (as a trigger of the owner's would)
CREATE FUNCTION ret.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;
CREATE TRIGGER slow AFTER DELETE ON ret.tool_call_log FOR EACH STATEMENT EXECUTE FUNCTION ret.slow();
SELECT pgmaint.set_retention('ret.tool_call_log', 'created_at', '90 days', 'ret.tool_call_log_archive', 100);
SQL
psql -X -q "application_name=ret_runner" -c "CALL pgmaint.apply_retention('ret.tool_call_log')" >/dev/null 2>&1 &
runner=$!
sum_sql="SELECT (SELECT count(*) FROM ret.tool_call_log) + (SELECT count(*) FROM ret.tool_call_log_archive)"
bad=0 polls=0
deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
	n=$(q -c "$sum_sql")
	polls=$((polls + 1))
	[ "$n" != 21000 ] && bad=$((bad + 1))
	[ "$(q -c "SELECT count(*) >= 3000 FROM ret.tool_call_log_archive")" = t ] && break
done
ok "the run is moving rows" [ "$(q -c "SELECT count(*) FROM ret.tool_call_log_archive")" -ge 3000 ]
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ret_runner'" >/dev/null
wait "$runner" 2>/dev/null
runner=""
for _ in $(seq 1 10); do
	[ "$(q -c "$sum_sql")" != 21000 ] && bad=$((bad + 1))
	polls=$((polls + 1))
done
moved=$(q -c "SELECT count(*) FROM ret.tool_call_log_archive")
ok "killed mid-way ($moved of 20000 moved)" [ "$moved" -ge 3000 ] && [ "$moved" -lt 20000 ]
is "$bad" 0 "source + archive = 21000 at every one of $polls counts, during the run and after the kill"
ok "the archive holds whole batches (a multiple of 100)" [ $((moved % 100)) = 0 ]
ok "the killed session's run lock is gone" wait_for \
	"SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'object' AND classid = 'pgmaint.retention'::regclass)" 20
q -c "CALL pgmaint.apply_retention('ret.tool_call_log', time_budget => '5 min')" >/dev/null 2>&1
is "$(q -c "SELECT count(*) FROM ret.tool_call_log")|$(q -c "SELECT count(*) FROM ret.tool_call_log_archive")" "1000|20000" \
	"resumed: all 20000 old rows archived, the 1000 recent ones kept"
is "$(q -c "SELECT count(*) FROM (SELECT id FROM ret.tool_call_log UNION ALL SELECT id FROM ret.tool_call_log_archive) u GROUP BY id HAVING count(*) > 1")" "" \
	"no row is in both"

# a second run on the same table at the same time waits for nothing and says so;
# the lock is one only a run can take (the 1.1 advisory key blocks nothing)
q -c "INSERT INTO ret.tool_call_log SELECT g, 'search', now() - interval '200 days' FROM generate_series(100001, 130000) g" >/dev/null
psql -X -q "application_name=ret_runner" -c "CALL pgmaint.apply_retention('ret.tool_call_log')" >/dev/null 2>&1 &
runner=$!
ok "a run holds the table's run lock (an object lock on pgmaint.retention)" wait_for \
	"SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ret_runner' AND l.locktype = 'object' AND l.classid = 'pgmaint.retention'::regclass AND l.objid = 'ret.tool_call_log'::regclass::oid AND l.granted)" 20
out=$(psql -X -q -c "CALL pgmaint.apply_retention('ret.tool_call_log')" 2>&1)
ok "a table another run holds is skipped" grep -q 'another run holds this table' <<<"$out"
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ret_runner'" >/dev/null
wait "$runner" 2>/dev/null
runner=""
{ echo "SELECT pg_advisory_lock(1886809449, 'ret.tool_call_log'::regclass::oid::int);"; sleep 30; } |
	psql -X -q -At "application_name=ret_holder" >/dev/null 2>&1 &
runner=$!
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ret_holder' AND l.locktype = 'advisory' AND l.granted)" 20
out=$(psql -X -q -c "CALL pgmaint.apply_retention('ret.tool_call_log', time_budget => '1 s')" 2>&1)
ok "a session holding 1.1's advisory lock does not keep a run off the table" bash -c "! grep -q 'another run holds this table' <<<\"\$1\" && grep -q 'retention of ret.tool_call_log' <<<\"\$1\"" _ "$out"
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ret_holder'" >/dev/null
wait "$runner" 2>/dev/null
runner=""
q -c "DELETE FROM ret.tool_call_log WHERE id > 100000" -c "DELETE FROM ret.tool_call_log_archive WHERE id > 100000" >/dev/null

# --- a tool_call_log partitioned by month ------------------------------------------
q <<'SQL' >/dev/null
CREATE SCHEMA retp;
CREATE TABLE retp.tool_call_log (id bigint, tool text, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
DO $$
DECLARE m date := date_trunc('month', now())::date;
BEGIN
    FOR i IN 0..5 LOOP
        EXECUTE format('CREATE TABLE retp.tool_call_log_m%s PARTITION OF retp.tool_call_log FOR VALUES FROM (%L) TO (%L)',
                       i, m - make_interval(months => i), m - make_interval(months => i - 1));
    END LOOP;
END $$;
CREATE TABLE retp.tool_call_log_default PARTITION OF retp.tool_call_log DEFAULT;
CREATE INDEX ON retp.tool_call_log (created_at);
-- one row a day for 200 days (some fall in the default partition), and one in the future
INSERT INTO retp.tool_call_log SELECT g, 'search', date_trunc('month', now()) + interval '12 hours' - g * interval '1 day' FROM generate_series(0, 199) g;
CREATE TABLE ret.calls2 (LIKE retp.tool_call_log) PARTITION BY RANGE (created_at);
CREATE TABLE ret.calls2_old PARTITION OF ret.calls2 FOR VALUES FROM ('2000-01-01') TO ('2001-01-01');
CREATE TABLE ret.calls2_new PARTITION OF ret.calls2 FOR VALUES FROM ('2001-01-01') TO (MAXVALUE);
INSERT INTO ret.calls2 VALUES (1, 'a', '2000-06-01'), (2, 'b', now());
SQL
is "$(state "SELECT pgmaint.set_retention('retp.tool_call_log', 'id', '60 days')")" 42804 "a partitioned table by a non-time column is refused"
q -c "ALTER TABLE retp.tool_call_log ADD COLUMN seen_at timestamptz" >/dev/null
is "$(state "SELECT pgmaint.set_retention('retp.tool_call_log', 'seen_at', '60 days')")" 22023 \
	"a partitioned table with a column that is not its partition key is 22023"
is "$(state "SELECT pgmaint.set_retention('retp.tool_call_log', 'created_at', '60 days', 'ret.tool_call_log_archive')")" 0A000 \
	"an archive for a partitioned table is 0A000 (old partitions kept detached are the archive)"
# the cutoff is 5 days and 6 hours into the month two months back: m2 loses 5 rows, m3..m5 go whole
q -c "SELECT pgmaint.set_retention('retp.tool_call_log', 'created_at', now() - (date_trunc('month', now()) - interval '2 months' + interval '5 days 6 hours'))" >/dev/null
q -c "SELECT pgmaint.set_retention('ret.calls2', 'created_at', '1 day', partitions => 'detach')" >/dev/null
expect_rows=$(q -c "SELECT count(*) FROM retp.tool_call_log WHERE created_at >= date_trunc('month', now()) - interval '2 months' + interval '5 days 6 hours'")
is "$(q -c "SELECT partitions_to_remove || ' ' || method FROM pgmaint.retention_plan() WHERE table_name = 'retp.tool_call_log'::regclass")" \
	"3 detach and drop partitions, then delete rows" "the plan: three whole partitions, then rows"
q -c "CALL pgmaint.apply_retention()" >/dev/null 2>&1
is "$(q -c "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'retp.tool_call_log'::regclass")" \
	"tool_call_log_default,tool_call_log_m0,tool_call_log_m1,tool_call_log_m2" "old partitions are detached"
is "$(q -c "SELECT count(*) FROM pg_class WHERE relname IN ('tool_call_log_m3', 'tool_call_log_m4', 'tool_call_log_m5') AND relnamespace = 'retp'::regnamespace")" 0 \
	"and dropped"
is "$(q -c "SELECT count(*) FROM retp.tool_call_log")" "$expect_rows" "the rest is intact: every row newer than the cutoff, none older"
is "$(q -c "SELECT count(*) FROM retp.tool_call_log_m2 WHERE created_at < date_trunc('month', now()) - interval '2 months' + interval '5 days 6 hours'")" 0 \
	"the partition across the cutoff lost its older rows"
is "$(q -c "SELECT detail->>'partitions' FROM pgmaint.actions WHERE action = 'retention' AND target = 'retp.tool_call_log' AND at >= '$started'")" 3 \
	"audited: 3 partitions"
is "$(q -c "SELECT (SELECT relispartition::text FROM pg_class WHERE oid = 'ret.calls2_old'::regclass) || ' ' || (SELECT count(*) FROM ret.calls2_old) || ' ' || (SELECT count(*) FROM ret.calls2)")" \
	"false 1 1" "partitions => detach keeps the old partition as a table of its own"

# --- privileges ------------------------------------------------------------------
q <<'SQL' >/dev/null
CREATE ROLE ret_owner LOGIN;
CREATE ROLE ret_other LOGIN;
GRANT USAGE, CREATE ON SCHEMA ret TO ret_owner, ret_other;
SELECT pgmaint.grant_tuning('ret_owner');
SELECT pgmaint.grant_tuning('ret_other');
SET ROLE ret_owner;
CREATE TABLE ret.owned (id int, at timestamptz);
INSERT INTO ret.owned SELECT g, now() - interval '10 days' FROM generate_series(1, 50) g;
RESET ROLE;
SQL
ok "the owner, granted tuning, sets retention on its table" \
	psql -X -q -v ON_ERROR_STOP=1 "user=ret_owner" -c "SELECT pgmaint.set_retention('ret.owned', 'at', '1 day')" -o /dev/null
is "$(PGUSER=ret_other state "SELECT pgmaint.set_retention('ret.owned', 'at', '1 hour')")" 42501 "another role may not (42501)"
is "$(PGUSER=ret_other state "SELECT pgmaint._retention_store('ret_other', 'ret.owned', 'at', '1 hour', NULL, 1, 'drop')")" 42501 \
	"not even through the internal helper"
is "$(PGUSER=ret_owner state "SELECT pgmaint._retention_done('ret_owner', 'ret.owned', '{\"stopped\": \"done\"}', now())")" 42501 \
	"nor record a run, even of its own table (only a run records a run)"
PGUSER=ret_other psql -X -q -c "CALL pgmaint.apply_retention()" >/dev/null 2>&1
is "$(q -c "SELECT count(*) FROM ret.owned")" 50 "its apply_retention() leaves tables it does not own alone"
health_refresh || echo "# the worker made no evaluation after the plant"
is "$(q -c "SELECT status || ' ' || value FROM pgmaint.health_checks() WHERE check_name = 'retention'")" "warning 1" \
	"the retention check: a table whose oldest row is older than twice its keep (10 days, keep 1 day)"
PGUSER=ret_owner psql -X -q -c "CALL pgmaint.apply_retention()" >/dev/null 2>&1
is "$(q -c "SELECT count(*) FROM ret.owned")" 0 "the owner's apply_retention() removes its rows"
health_refresh || echo "# the worker made no evaluation after the run"
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'retention'")" ok "and the check is ok again"
is "$(q -c "SELECT actor FROM pgmaint.actions WHERE action = 'retention' AND target = 'ret.owned'")" ret_owner "audited as the owner"

# --- the worker -------------------------------------------------------------------
# the owner loses DELETE on its own table: the worker, running as the owner, may not delete either
q <<'SQL' >/dev/null
INSERT INTO ret.owned SELECT g, now() - interval '10 days' FROM generate_series(1, 50) g;
REVOKE DELETE ON ret.owned FROM ret_owner;
INSERT INTO ret.agent_cache SELECT 'w' || g, '{}', now() - interval '1 hour' FROM generate_series(1, 300) g;
SQL
q -c "ALTER SYSTEM SET pgmaint.retention_interval = '2s'" -c "SELECT pg_reload_conf()" >/dev/null
# The worker records nothing when it does not apply retention, so it is
# restarted: a new worker has every task due at once and its first loop runs
# the retention task before the events step.  Once that step is seen ended,
# the worker has decided on retention with the settings it started with.
ok "the server has the new retention_interval" wait_for "SELECT current_setting('pgmaint.retention_interval') = '2s'" 30
gone=$(stop_worker)
ok "the worker is stopped" [ -n "$gone" ]
ok "a new worker has run its first loop, retention included" wait_worker_step events 1 "$gone" 60
is "$(q -c "SELECT count(*) FROM ret.agent_cache WHERE cache_key LIKE 'w%'")" 300 "with pgmaint.policy = advise the worker removes nothing"
q -c "ALTER SYSTEM SET pgmaint.policy = 'apply'" -c "SELECT pg_reload_conf()" >/dev/null
ok "with apply, the worker expires the cache rows" wait_for \
	"SELECT count(*) = 0 FROM ret.agent_cache WHERE cache_key LIKE 'w%'" 60
ok "and audits it" wait_for \
	"SELECT EXISTS (SELECT 1 FROM pgmaint.actions WHERE action = 'retention' AND target = 'ret.agent_cache' AND detail->>'by' = 'worker' AND (detail->>'removed')::int = 300)" 30
ok "the worker records a run of the table whose owner cannot delete" wait_for \
	"SELECT last_result->>'by' = 'worker' AND last_result->>'stopped' LIKE 'error%' FROM pgmaint.retention WHERE relid = 'ret.owned'::regclass" 30
is "$(q -c "SELECT count(*) FROM ret.owned")" 50 "and deletes nothing from it"
ok "the sampler keeps sampling meanwhile" wait_for \
	"SELECT last_sample_at > now() - 3 * sample_interval - interval '5 s' FROM pgmaint.sampler_status()" 30
q -c "ALTER SYSTEM SET pgmaint.retention_interval = 0" -c "SELECT pg_reload_conf()" >/dev/null
# with 0 the task is not even due for an hour: a new worker (every task due at
# once) shows that it is off, not only late.  The expired rows go in while no
# worker runs, so that only the new one can see them.
ok "the server has retention_interval = 0" wait_for "SELECT current_setting('pgmaint.retention_interval') = '0'" 30
gone=$(stop_worker)
ok "the worker is stopped" [ -n "$gone" ]
q -c "INSERT INTO ret.agent_cache SELECT 'z' || g, '{}', now() - interval '1 hour' FROM generate_series(1, 10) g" >/dev/null
inserted=$(q -c "SELECT clock_timestamp()")
ok "a new worker has run its first loop, retention included" wait_worker_step events 1 "$inserted" 60
is "$(q -c "SELECT started_at > '$inserted' FROM pgmaint.sampler_status()")" t "it started after the rows went in"
is "$(q -c "SELECT count(*) FROM ret.agent_cache WHERE cache_key LIKE 'z%'")" 10 "retention_interval = 0 turns the worker's runs off"

# --- drop_retention, and a dropped table forgets its rule ----------------------------------
is "$(q -c "SELECT pgmaint.drop_retention('ret.notes')")" t "drop_retention removes a rule"
is "$(q -c "SELECT count(*) FROM pgmaint.retention WHERE relid = 'ret.notes'::regclass")" 0 "it is gone"
q -c "DROP TABLE ret.token_usage_archive" >/dev/null
is "$(q -c "SELECT enabled::text || ' ' || coalesce(archive::text, 'none') FROM pgmaint.retention WHERE relid = 'ret.token_usage'::regclass")" "false none" \
	"dropping an archive disables its rule (rows are never deleted without it)"
q -c "DROP TABLE ret.token_usage" >/dev/null
is "$(q -c "SELECT count(*) FROM pgmaint.retention WHERE relid::text LIKE 'ret.token_usage%'")" 0 "dropping a table forgets its rule"
finish

#!/usr/bin/env bash
# schedule_maintenance() / unschedule_maintenance() with pg_cron: named jobs,
# idempotent, the vacuum job follows the high_churn tables, a job really runs,
# and unscheduling removes exactly pgmaint's jobs.
set -u
. "$(dirname "$0")/../lib.sh"

cleanup() {
	q -c "SELECT count(*) FROM pgmaint.unschedule_maintenance()" >/dev/null 2>&1
	q -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'pgmaint-user-job'" >/dev/null 2>&1
	q -c "DROP SCHEMA IF EXISTS pc CASCADE" >/dev/null 2>&1
}
trap cleanup EXIT
started=$(q -c "SELECT now()")

jobs_sql="SELECT string_agg(jobname || '|' || jobid || '|' || schedule || '|' || active || '|' || command, E'\n' ORDER BY jobname)
            FROM cron.job WHERE jobname LIKE 'pgmaint-%'"

q <<'SQL' >/dev/null
CREATE SCHEMA pc;
CREATE TABLE pc.agent_cache (cache_key text PRIMARY KEY, value text);
CREATE TABLE pc."Cache ""2""" (id int);
SELECT cron.schedule('pgmaint-user-job', '0 0 1 1 *', 'SELECT 1');
SQL

is "$(q -c "SELECT count(*) FROM pgmaint.schedule_maintenance(4)")" 4 "schedule_maintenance creates four jobs"
first=$(q -c "$jobs_sql")
is "$(q -c "SELECT string_agg(jobname || ' ' || schedule || ' ' || active, ', ' ORDER BY jobname) FROM cron.job WHERE jobname LIKE 'pgmaint-%' AND jobname <> 'pgmaint-user-job'")" \
	"pgmaint-policy */10 * * * * true, pgmaint-prune-history 15 * * * * true, pgmaint-retention 30 * * * * true, pgmaint-vacuum-high-churn 0 4 * * * false" \
	"named jobs with their schedules; the vacuum job waits for a high_churn table"
q -c "SELECT count(*) FROM pgmaint.schedule_maintenance(4)" >/dev/null
is "$(q -c "$jobs_sql")" "$first" "calling it twice changes nothing"

q -c "SELECT pgmaint.tune_table('pc.agent_cache', 'high_churn')" >/dev/null
q -c "SELECT pgmaint.tune_table('pc.\"Cache \"\"2\"\"\"', 'high_churn')" >/dev/null
is "$(q -c "SELECT active || ' ' || command FROM cron.job WHERE jobname = 'pgmaint-vacuum-high-churn'")" \
	'true VACUUM (ANALYZE, SKIP_LOCKED) pc."Cache ""2""", pc.agent_cache' \
	"tuning tables high_churn puts them in the nightly VACUUM ANALYZE"
cmd=$(q -c "SELECT command FROM cron.job WHERE jobname = 'pgmaint-vacuum-high-churn'")
ok "the vacuum job's command runs" q -c "$cmd"
is "$(q -c "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = 'pc.agent_cache'::regclass")" t \
	"and vacuums and analyzes the table"
q -c "DROP TABLE pc.\"Cache \"\"2\"\"\"" >/dev/null
is "$(q -c "SELECT command FROM cron.job WHERE jobname = 'pgmaint-vacuum-high-churn'")" \
	"VACUUM (ANALYZE, SKIP_LOCKED) pc.agent_cache" "a dropped table leaves the job's command"
q -c "SELECT pgmaint.reset_table('pc.agent_cache')" >/dev/null
is "$(q -c "SELECT active FROM cron.job WHERE jobname = 'pgmaint-vacuum-high-churn'")" f \
	"with no high_churn table the vacuum job is inactive"

# a job really runs: the policy every minute
q -c "SELECT count(*) FROM pgmaint.schedule_maintenance(4, '* * * * *')" >/dev/null
policy_job=$(q -c "SELECT jobid FROM cron.job WHERE jobname = 'pgmaint-policy'")
is "$(q -c "SELECT jobid FROM cron.job WHERE jobname = 'pgmaint-policy'")" "$(echo "$first" | sed -n 's/^pgmaint-policy|\([0-9]*\)|.*/\1/p')" \
	"rescheduling keeps the job"
ok "pg_cron ran the policy job (cron.job_run_details) within 75 seconds" wait_for \
	"SELECT EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = $policy_job AND status = 'succeeded')" 75
is "$(q -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = $policy_job AND status = 'failed'")" 0 \
	"no run of it failed"

is "$(q -c "SELECT string_agg(j, ',' ORDER BY j) FROM pgmaint.unschedule_maintenance() j")" \
	"pgmaint-policy,pgmaint-prune-history,pgmaint-retention,pgmaint-vacuum-high-churn" "unschedule_maintenance removes the four jobs"
is "$(q -c "SELECT string_agg(jobname, ',') FROM cron.job")" "pgmaint-user-job" "and only those (a user's job named pgmaint-… stays)"
is "$(q -c "SELECT count(*) FROM pgmaint.unschedule_maintenance()")" 0 "a second call removes nothing"
is "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action IN ('schedule_maintenance', 'unschedule_maintenance')
             AND at >= '$started'")" 5 "each call is audited"
finish

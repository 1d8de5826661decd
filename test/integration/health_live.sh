#!/usr/bin/env bash
# health() against live sessions: a long statement, a lock wait, roles with
# and without pg_monitor, and the Prometheus exposition of metrics().
# packages: prometheus
set -u
. "$(dirname "$0")/../lib.sh"

bg_pids=()
cleanup() {
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pgmaint_hl_%'" >/dev/null
	kill "${bg_pids[@]}" 2>/dev/null
	q -c "UPDATE pgmaint.thresholds SET warning = 30, critical = 300 WHERE check_name = 'long_running_queries';
	      UPDATE pgmaint.thresholds SET warning = 10, critical = 60 WHERE check_name = 'blocked_sessions';
	      DROP TABLE IF EXISTS hl_locked; DROP ROLE IF EXISTS hl_nomon; DROP ROLE IF EXISTS hl_mon" >/dev/null
}
trap cleanup EXIT

# a statement that runs for a while
psql -X -q "application_name=pgmaint_hl_long" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
bg_pids+=($!)
ok "the long statement is active" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgmaint_hl_long' AND state = 'active')" 30
q -c "UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'long_running_queries'"
ok "long_running_queries turns warning" \
	wait_for_health "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'long_running_queries'" 30
long_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgmaint_hl_long'")
is "$(q -c "SELECT message LIKE '%(pid $long_pid)%' FROM pgmaint.health_checks() WHERE check_name = 'long_running_queries'")" \
	t "the message names the long statement's pid"
q -c "SELECT pg_cancel_backend($long_pid)" >/dev/null

# a lock held by one session and waited on by another
q -c "CREATE TABLE hl_locked (id int)"
{ echo "BEGIN; LOCK TABLE hl_locked IN ACCESS EXCLUSIVE MODE;"; sleep 300; } |
	psql -X -q "application_name=pgmaint_hl_holder" >/dev/null 2>&1 &
bg_pids+=($!)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'hl_locked' AND l.granted)" 30
psql -X -q "application_name=pgmaint_hl_waiter" -c "SELECT count(*) FROM hl_locked" >/dev/null 2>&1 &
bg_pids+=($!)
ok "the waiter waits on the lock" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgmaint_hl_waiter' AND wait_event_type = 'Lock')" 30
q -c "UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'blocked_sessions'"
ok "blocked_sessions turns warning" \
	wait_for_health "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'blocked_sessions'" 30
is "$(q -c "SELECT message LIKE '1 session(s) wait on a lock%' FROM pgmaint.health_checks() WHERE check_name = 'blocked_sessions'")" \
	t "the message counts one waiting session"
is "$(q -c "SELECT pgmaint.health()->>'status'")" warning "health() is warning"

# cache_hit: over the last hour from the sampler's ring in the worker's database
q -c "SELECT pgmaint._request_samples(2)" >/dev/null
ok "cache_hit uses the sampler's last hour in the sampled database" \
	wait_for "SELECT message LIKE '% block reads in the last hour served from shared buffers' FROM pgmaint.health_checks() WHERE check_name = 'cache_hit'" 30
is "$(q -d pgmaint_tap -c "SELECT message LIKE '%since the statistics reset%' FROM pgmaint.health_checks() WHERE check_name = 'cache_hit'")" \
	t "other databases use their cumulative counters"

# metrics(): promtool finds nothing to complain about, statuses and values in base units
q -c "SELECT pgmaint.metrics()" >"$PGM_TMP/metrics.txt"
lint=$(promtool check metrics <"$PGM_TMP/metrics.txt" 2>&1)
is "$lint" "" "promtool check metrics: metrics() with a lock wait, zero findings"
is "$(grep -c '^pgmaint_check_status{.*check="blocked_sessions"} 1$' "$PGM_TMP/metrics.txt")" 1 \
	"metrics() reports the warning as status 1"
is "$(grep -c '^# TYPE pgmaint_longest_lock_wait_seconds gauge$' "$PGM_TMP/metrics.txt")" 1 \
	"the lock wait is a gauge in seconds"
is "$(grep -c '^pgmaint_check_warning_threshold{.*check="blocked_sessions"} 1$' "$PGM_TMP/metrics.txt")" 1 \
	"its lowered warning threshold is exported in the same unit"
is "$(grep -c '^pgmaint_check_critical_threshold{.*check="cache_hit"} 0.9$' "$PGM_TMP/metrics.txt")" 1 \
	"a percentage threshold becomes a ratio (90 -> 0.9)"
is "$(grep -Ec '^pgmaint_cache_hit_ratio\{database="pgmaint_test",system_identifier="[0-9]+"\} (0(\.[0-9]+)?|1)$' "$PGM_TMP/metrics.txt")" 1 \
	"the cache hit ratio lies between 0 and 1, labelled with database and system_identifier"
is "$(grep -c '^pgmaint_\(connections\|cache_hit\|blocked_sessions\|disk_free\){' "$PGM_TMP/metrics.txt")" 0 \
	"the 1.0 names without units are gone"

# privileges: pg_monitor sees everything; a role with pgmaint's grants but not
# pg_read_all_stats never gets ok for what it cannot see; others get an error
q -c "CREATE ROLE hl_mon LOGIN IN ROLE pg_monitor; CREATE ROLE hl_nomon LOGIN;
      GRANT USAGE ON SCHEMA pgmaint TO hl_nomon;
      GRANT SELECT ON pgmaint.thresholds TO hl_nomon;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO hl_nomon"
is "$(PGUSER=hl_mon q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'blocked_sessions'")" \
	warning "a pg_monitor role sees the lock wait"
is "$(PGUSER=hl_mon q -c "SELECT count(*) FROM pgmaint.health_checks() WHERE status = 'unknown' AND check_name IN ('idle_in_transaction', 'long_running_queries')")" \
	0 "a pg_monitor role can compute the activity checks"
is "$(PGUSER=hl_nomon q -c "SELECT string_agg(status, ',' ORDER BY check_name) FROM pgmaint.health_checks() WHERE check_name IN ('idle_in_transaction', 'long_running_queries')")" \
	"unknown,unknown" "a role without pg_read_all_stats gets unknown, not ok"
q -c "REVOKE USAGE ON SCHEMA pgmaint FROM hl_nomon; REVOKE SELECT ON pgmaint.thresholds FROM hl_nomon;
      REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint FROM hl_nomon"
for f in "health()" "health_checks()" "metrics()"; do
	out=$(PGUSER=hl_nomon psql -X -A -t -c "SELECT pgmaint.$f" 2>&1)
	ok "a role without pg_monitor cannot call $f" grep -q "permission denied" <<<"$out"
done
is "$(q -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'pgmaint' AND has_function_privilege('public', p.oid, 'EXECUTE')")" \
	0 "no pgmaint function is executable by PUBLIC"
finish

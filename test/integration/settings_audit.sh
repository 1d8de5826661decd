#!/usr/bin/env bash
# config_audit() and settings_advice() on a cluster of their own: a trust line in
# pg_hba.conf, a role that may not read it, applications connected as a superuser,
# and the fix statements of settings_advice() applied for real.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/settings_audit"
port=$((PGPORT + 50))
sleepers=""
cleanup() {
	for p in $sleepers; do kill "$p" 2>/dev/null; done
	pgm_cluster_stop "$dir"
}
trap cleanup EXIT
rm -rf "$dir"
pgm_cluster_init "$dir" "$port" postgres "" >/dev/null
pgm_cluster_start "$dir"
export PGHOST=$dir PGPORT=$port PGDATABASE=postgres PGUSER=postgres

audit() { q -c "SELECT status FROM pgmaint.config_audit() WHERE check_name = '$1'" "${@:2}"; }

ok "CREATE EXTENSION pgmaint" q -c "CREATE EXTENSION pgmaint"

# initdb -A trust: trust on loopback host lines only
is "$(audit hba_trust)" "warning" "loopback trust lines are a warning"

printf 'host all all 0.0.0.0/0 trust\nhost all all 10.0.0.0/8 md5\n' >>"$dir/data/pg_hba.conf"
is "$(q -c "SELECT pg_reload_conf()")" "t" "reload"
is "$(audit hba_trust)" "critical" "host all all 0.0.0.0/0 trust is critical"
is "$(q -c "SELECT detail ~ 'line [0-9]+ \(host all all 0\.0\.0\.0/0\.0\.0\.0\)' FROM pgmaint.config_audit() WHERE check_name = 'hba_trust'")" \
	"t" "the detail names the line"
is "$(q -c "SELECT fix IS NOT NULL FROM pgmaint.config_audit() WHERE check_name = 'hba_trust'")" "t" "a fix is given"
is "$(audit hba_md5)" "warning" "an md5 rule is a warning"

# a monitoring role may not read pg_hba_file_rules: unknown, never ok
q -c "CREATE ROLE app_monitor LOGIN IN ROLE pg_monitor" >/dev/null
is "$(audit hba_trust -U app_monitor)" "unknown" "hba_trust is unknown without the privilege"
is "$(audit hba_md5 -U app_monitor)" "unknown" "hba_md5 is unknown without the privilege"
is "$(q -U app_monitor -c "SELECT count(*) FROM pgmaint.config_audit() WHERE status = 'ok' AND check_name LIKE 'hba%'")" \
	"0" "no hba check says ok without the privilege"
q -c "GRANT SELECT ON pg_hba_file_rules TO app_monitor" -c "GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO app_monitor" >/dev/null
is "$(audit hba_trust -U app_monitor)" "critical" "with the privilege granted the role sees the trust line"
is "$(q -U app_monitor -c "SELECT count(*) > 0 FROM pgmaint.settings_advice()")" "t" \
	"a pg_monitor role gets the advice with detection"

# applications as a superuser: psql sessions and our own are not applications
PGAPPNAME=psql psql -X -q -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
sleepers="$sleepers $!"
ok "an administrator's psql session is running" \
	wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(120)' AND state = 'active'"
is "$(audit superuser_applications)" "ok" "psql and the own session are not applications"
PGAPPNAME=agent_core_api psql -X -q -c "SELECT pg_sleep(121)" >/dev/null 2>&1 &
sleepers="$sleepers $!"
q -c "CREATE ROLE app LOGIN" >/dev/null
PGAPPNAME=agent_core_app psql -X -q -U app -c "SELECT pg_sleep(122)" >/dev/null 2>&1 &
sleepers="$sleepers $!"
ok "the application sessions are running" \
	wait_for "SELECT count(*) = 2 FROM pg_stat_activity WHERE query IN ('SELECT pg_sleep(121)', 'SELECT pg_sleep(122)') AND state = 'active'"
is "$(audit superuser_applications)" "warning" "an application connected as a superuser is flagged"
is "$(q -c "SELECT detail FROM pgmaint.config_audit() WHERE check_name = 'superuser_applications'")" \
	"1 session(s) as a superuser: agent_core_api as postgres" "only the superuser application is named"
q -c "CREATE ROLE nostats LOGIN" -c "GRANT USAGE ON SCHEMA pgmaint TO nostats" \
	-c "GRANT EXECUTE ON FUNCTION pgmaint.config_audit(), pgmaint._listens_everywhere(text), pgmaint._ms_text(numeric), pgmaint._unit_factor(text), pgmaint._guide_settings(), pgmaint.detected_container(), pgmaint._logging_collector_advice(boolean, text), pgmaint._set_fix(text, text), pgmaint._patroni_managed() TO nostats" >/dev/null
is "$(audit superuser_applications -U nostats)" "unknown" \
	"a role that cannot see other sessions' backend_type gets unknown, not ok"
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(12%)'" >/dev/null
for p in $sleepers; do wait "$p" 2>/dev/null; done
sleepers=""

# the fixes of settings_advice() apply as they are, and then everything is ok
fixes=$(q -c "SELECT fix FROM pgmaint.settings_advice(1024, 1) WHERE fix IS NOT NULL")
ok "settings_advice(1024, 1) has fixes for a default cluster" test -n "$fixes"
applied=0
while IFS= read -r stmt; do
	q -c "$stmt" >/dev/null && applied=$((applied + 1))
done <<<"$fixes"
is "$applied" "$(printf '%s\n' "$fixes" | wc -l)" "every fix statement runs"
pgm_cluster_stop "$dir"
pgm_cluster_start "$dir"
is "$(q -c "SELECT coalesce(string_agg(name || '=' || current || '/' || status, ', '), 'none')
              FROM pgmaint.settings_advice(1024, 1)
             WHERE status <> 'ok' AND name NOT IN ('memory_risk', '/dev/shm')")" \
	"none" "after the fixes and a restart every setting is ok"
is "$(q -c "SELECT status || ' ' || (current = recommended) FROM pgmaint.settings_advice(1024, 1) WHERE name = 'memory_risk'")" \
	"ok true" "the memory estimate of the applied settings is the recommended one, within 1 GB"
is "$(q -c "SELECT string_agg(check_name, ',' ORDER BY check_name) FROM pgmaint.config_audit()
             WHERE status = 'warning'")" \
	"hba_md5" "the timeouts and logging checks pass after the fixes"
finish

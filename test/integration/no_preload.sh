#!/usr/bin/env bash
# pgmaint without shared_preload_libraries: CREATE EXTENSION and health() work.
# packages: prometheus
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/nopreload"
port=$((PGPORT + 1))
pgm_cluster_init "$dir" "$port" postgres "" >/dev/null
trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_start "$dir"

export PGHOST=$dir PGPORT=$port PGDATABASE=postgres
ok "CREATE EXTENSION pgmaint works without preloading" q -c "CREATE EXTENSION pgmaint"
is "$(q -c "SELECT pgmaint.health()->>'status' IN ('ok', 'warning', 'critical')")" "t" "health() answers"
is "$(q -c "SELECT pgmaint.health()->'sampler'->>'running'")" "false" "the sampler is reported not running"
is "$(q -c "SELECT pgmaint.health()->'sampler'->>'preloaded'")" "false" "the sampler section says pgmaint is not preloaded"
is "$(q -c "SELECT count(*) = (SELECT count(*) FROM pgmaint.thresholds WHERE enabled) FROM pgmaint.health_checks()")" "t" "every check answers"
is "$(q -c "SELECT pgmaint.preloaded(); SHOW pgmaint.sample_interval")" "f
1min" "reload settings exist once the library is loaded"
is "$(q -c "SELECT pgmaint.preloaded(); SELECT current_setting('pgmaint.database', true) IS NULL")" "f
t" "restart settings exist only when preloaded"
q -c "SELECT pgmaint.metrics()" >"$dir/metrics.txt"
is "$(promtool check metrics <"$dir/metrics.txt" 2>&1)" "" "promtool check metrics: metrics() without the worker, zero findings"
is "$(grep -c '^pgmaint_up{.*} 0$' "$dir/metrics.txt")$(grep -c '^pgmaint_last_sample_timestamp_seconds{.*} NaN$' "$dir/metrics.txt")" \
	"11" "metrics() says the worker is not up and has no last sample"
is "$(grep -c '^pgmaint_client_backends{' "$dir/metrics.txt")" 0 "no backend counts without a sample"
ok "DROP EXTENSION works" q -c "DROP EXTENSION pgmaint"
finish

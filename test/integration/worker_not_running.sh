#!/usr/bin/env bash
# The sampler when it cannot run: without preloading sampler_status() still
# answers and samples() raises 55000 with a hint; with pgmaint preloaded but
# no background worker slot, the status says so and the sampler check warns.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/worker_not_running"
port=$((PGPORT + 13))
pgm_cluster_init "$dir" "$port" postgres "" >/dev/null
trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_start "$dir"
export PGHOST=$dir PGPORT=$port PGDATABASE=postgres

q -c "CREATE EXTENSION pgmaint"
is "$(q -c "SELECT running, pid IS NULL, database IS NULL, samples_taken, in_recovery FROM pgmaint.sampler_status()")" \
	"f|t|t|0|f" "without preloading sampler_status() answers: not running"
is "$(q -c "SELECT last_error FROM pgmaint.sampler_status()")" \
	"pgmaint is not loaded through shared_preload_libraries, so the sampler worker does not run" \
	"last_error explains why"
is "$(q -c "SELECT count(*) FROM pgmaint.sampler_status()")" "1" "exactly one row"
out=$(psql -X -q -v VERBOSITY=verbose -c "SELECT * FROM pgmaint.samples()" 2>&1)
ok "samples() raises SQLSTATE 55000 without preloading" grep -q "ERROR:  55000: pgmaint sample ring is not available" <<<"$out"
ok "with a hint to add pgmaint to shared_preload_libraries" \
	grep -q "HINT:  Add pgmaint to shared_preload_libraries in postgresql.conf and restart the server." <<<"$out"
out=$(psql -X -q -v VERBOSITY=verbose -c "SELECT pgmaint._request_samples(1)" 2>&1)
ok "_request_samples() raises 55000 too" grep -q "ERROR:  55000" <<<"$out"
is "$(q -c "SELECT status, value IS NULL FROM pgmaint.health_checks() WHERE check_name = 'sampler'")" \
	"unknown|t" "the sampler check is unknown without preloading"

# preloaded, but no background worker slot: the worker never starts
pgm_cluster_stop "$dir"
cat >>"$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pgmaint'
max_worker_processes = 0
pgmaint.database = 'postgres'
pgmaint.sample_interval = '1s'
CONF
pgm_cluster_start "$dir"
ok "the server logs that the launcher could not be registered" \
	grep -q 'too many background workers' "$dir/server.log"
is "$(q -c "SELECT running, pid IS NULL, started_at IS NULL FROM pgmaint.sampler_status()")" \
	"f|t|t" "sampler_status() shows a worker that never started"
is "$(q -c "SELECT last_error LIKE '%launcher is not running%max_worker_processes%' FROM pgmaint.sampler_status()")" \
	"t" "last_error points at the launcher and max_worker_processes"
is "$(q -c "SELECT count(*) FROM pgmaint.workers()")" "0" "workers() lists no worker"
ok "the sampler check turns to warning once three intervals passed without a heartbeat" \
	wait_for "SELECT status = 'warning' AND message LIKE 'the sampler worker is not running:%' FROM pgmaint.health_checks() WHERE check_name = 'sampler'" 30
is "$(q -c "SELECT pgmaint.health()->'sampler'->>'running', pgmaint.health()->'sampler'->>'preloaded'")" \
	"false|true" "health()'s sampler section says preloaded but not running"
finish

#!/usr/bin/env bash
# The sampler worker when things go wrong, on a cluster of its own whose
# pgmaint.database does not exist at first: backoff and a clear log, the
# extension missing or dropped in the target database, a statistics reset,
# 10,000 samples without memory growth, and DROP DATABASE of the target.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/worker_faults"
port=$((PGPORT + 10))
pgm_cluster_init "$dir" "$port" pgm_target pgmaint >/dev/null
trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_start "$dir"
export PGHOST=$dir PGPORT=$port PGDATABASE=postgres
log="$dir/server.log"
status() { q -c "SELECT $1 FROM pgmaint.sampler_status()"; }
wait_target() { PGDATABASE=pgm_target wait_for "$@"; }

# --- the target database does not exist ---------------------------------------
ok "the server accepts sessions while the worker cannot connect" q -c "CREATE EXTENSION pgmaint"
ok "sampler_status() says why the worker does not run" \
	wait_for "SELECT NOT running AND last_error LIKE '%database \"pgm_target\" does not exist%' FROM pgmaint.sampler_status()" 30
ok "the log names the missing database" \
	wait_for "SELECT pg_read_file('$log') LIKE '%FATAL:  database \"pgm_target\" does not exist%'" 30
ok "the worker retries with a growing delay and says so" \
	wait_for "SELECT pg_read_file('$log') LIKE '%pgmaint sampler will try to connect to database \"pgm_target\" again in 5 s%'" 60
is "$(q -c "SELECT pgmaint.health()->'sampler'->>'running'")" "false" "health() reports the sampler not running"

q -c "CREATE DATABASE pgm_target"
ok "the worker connects once the database exists" \
	wait_for "SELECT running AND samples_taken > 0 AND last_error IS NULL FROM pgmaint.sampler_status()" 90

# --- no extension in the target database: samples go to the ring only ---------
taken=$(q -c "SELECT pgmaint._request_samples(5)")
ok "without the extension in its database the worker keeps sampling" \
	wait_for "SELECT samples_taken >= $taken + 5 FROM pgmaint.sampler_status()" 60
is "$(status "samples_persisted, last_error IS NULL")" "0|t" "nothing is persisted and no error is recorded"

q -d pgm_target -c "CREATE EXTENSION pgmaint"
ring=$(q -c "SELECT count(*) FROM pgmaint.samples(NULL)")
q -c "SELECT pgmaint._request_samples(1)" >/dev/null
ok "once the extension exists, the history receives the ring's samples" \
	wait_target "SELECT count(*) >= $ring + 1 FROM pgmaint.sample_history" 60

q -d pgm_target -c "DROP EXTENSION pgmaint"
taken=$(q -c "SELECT pgmaint._request_samples(5)")
ok "after DROP EXTENSION the worker keeps sampling" \
	wait_for "SELECT samples_taken >= $taken + 5 FROM pgmaint.sampler_status()" 60
q -d pgm_target -c "CREATE EXTENSION pgmaint"
q -c "SELECT pgmaint._request_samples(1)" >/dev/null
ok "and persists again once the extension is back" \
	wait_target "SELECT count(*) > 5 FROM pgmaint.sample_history" 60
is "$(grep -c 'pgmaint sampler step' "$log")" "0" "no step error was logged while the extension was missing"

# --- a statistics reset gives NULL deltas, never negative ones ----------------
q -d pgm_target -c "CREATE TABLE churn (id int)" -c "INSERT INTO churn SELECT generate_series(1, 1000)" \
	-c "SELECT pg_stat_force_next_flush()" >/dev/null
taken=$(q -c "SELECT pgmaint._request_samples(1)")
wait_for "SELECT samples_taken > $taken FROM pgmaint.sampler_status()" 30
q -d pgm_target -c "SELECT pg_stat_reset()" >/dev/null
taken=$(q -c "SELECT pgmaint._request_samples(2)")
ok "samples after the reset are taken" \
	wait_for "SELECT samples_taken >= $taken + 2 FROM pgmaint.sampler_status()" 30
is "$(q -c "SELECT commits_per_sec IS NULL AND cache_hit_ratio IS NULL AND dead_tuples_delta IS NULL
              FROM pgmaint.samples(NULL) s
             WHERE s.stats_reset = (SELECT max(stats_reset) FROM pgmaint.samples(NULL))
             ORDER BY sampled_at LIMIT 1")" \
	"t" "the first sample after pg_stat_reset() has NULL deltas"
is "$(q -c "SELECT count(*) FROM pgmaint.samples(NULL) WHERE commits_per_sec < 0 OR rollbacks_per_sec < 0 OR cache_hit_ratio < 0")" \
	"0" "no delta is negative"
is "$(q -c "SELECT count(*) FROM pgmaint.samples(NULL) WHERE interval_seconds IS NULL")" \
	"1" "only the first sample of the ring has no interval"

# --- memory stays flat over 10,000 samples ------------------------------------
pid=$(status pid)
taken=$(q -c "SELECT pgmaint._request_samples(200)")
wait_for "SELECT samples_taken >= $taken + 200 FROM pgmaint.sampler_status()" 120
mem0=$(status worker_memory_bytes)
rss0=$(awk '/^RssAnon/ {print $2}' /proc/$pid/status)
taken=$(q -c "SELECT pgmaint._request_samples(10000)")
ok "the worker takes 10,000 samples" \
	wait_for "SELECT samples_taken >= $taken + 10000 FROM pgmaint.sampler_status()" 600
mem1=$(status worker_memory_bytes)
rss1=$(awk '/^RssAnon/ {print $2}' /proc/$pid/status)
echo "# worker memory contexts: $mem0 -> $mem1 bytes; RssAnon: $rss0 -> $rss1 kB"
is "$mem1" "$mem0" "the worker's memory contexts do not grow over 10,000 samples"
ok "the worker's anonymous memory grows by less than 256 kB" test $((rss1 - rss0)) -lt 256
is "$(status "pid = $pid")" "t" "the same worker did it"

# --- DROP DATABASE of the target database -------------------------------------
start=$(date +%s)
is "$(q -c "SET statement_timeout = '60s'" -c "DROP DATABASE pgm_target" 2>&1 | grep -o 'is being accessed by other users')" \
	"is being accessed by other users" "a plain DROP DATABASE of the target fails instead of hanging"
elapsed=$(($(date +%s) - start))
ok "it fails within seconds (${elapsed}s)" test "$elapsed" -lt 30
ok "DROP DATABASE ... WITH (FORCE) terminates the worker and drops the target" \
	q -c "SET statement_timeout = '60s'" -c "DROP DATABASE pgm_target WITH (FORCE)"
ok "the worker reports the missing database again" \
	wait_for "SELECT NOT running AND last_error LIKE '%\"pgm_target\" does not exist%' FROM pgmaint.sampler_status()" 60
ok "no worker step failed" test "$(grep -c 'pgmaint sampler step' "$log")" = 0
finish

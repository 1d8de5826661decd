#!/usr/bin/env bash
# The database workers when things go wrong, on a cluster of its own whose
# pgmaint.database does not exist at first: the server-wide steps run
# elsewhere and the log says why, a database without the extension holds no
# worker, the extension created and dropped in the target database, a
# statistics reset, 10,000 samples without memory growth, and a plain DROP
# DATABASE of the target.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/worker_faults"
port=$((PGPORT + 10))
pgm_cluster_init "$dir" "$port" pgm_target pgmaint >/dev/null
trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_start "$dir"
export PGHOST=$dir PGPORT=$port PGDATABASE=postgres
log="$dir/server.log"
status() { q -d pgm_target -c "SELECT $1 FROM pgmaint.sampler_status()"; }
wait_target() { PGDATABASE=pgm_target wait_for "$@"; }

# --- pgmaint.database does not exist: the server-wide steps run elsewhere ---------
ok "the server accepts sessions while pgmaint.database is missing" q -c "CREATE EXTENSION pgmaint"
ok "the worker of postgres samples" \
	wait_for "SELECT running AND samples_taken > 0 AND last_error IS NULL AND database = 'postgres' FROM pgmaint.sampler_status()" 60
ok "and runs the server-wide steps" \
	wait_for "SELECT server_wide FROM pgmaint.workers() WHERE database = 'postgres'" 30
ok "the log says why they do not run in pgmaint.database" \
	wait_for "SELECT pg_read_file('$log') LIKE '%pgmaint.database names \"pgm_target\", where no worker found pgmaint.%'" 30

# --- a database without the extension holds no worker -----------------------------
q -c "CREATE DATABASE pgm_target"
ok "the launcher looks at the new database, and its worker leaves it" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = 'pgm_target')
	          AND NOT EXISTS (SELECT 1 FROM pgmaint.workers() WHERE database = 'pgm_target')" 30
is "$(grep -c 'pgmaint sampler started in database "pgm_target"' "$log")" "0" "it never started sampling there"

q -d pgm_target -c "CREATE EXTENSION pgmaint"
ok "once the extension exists, the target has a worker" \
	wait_target "SELECT running AND samples_taken > 0 FROM pgmaint.sampler_status()" 60
ok "which writes its history" wait_target "SELECT count(*) > 0 FROM pgmaint.sample_history" 60
ok "and, being pgmaint.database's, takes the server-wide steps over" \
	wait_for "SELECT server_wide FROM pgmaint.workers() WHERE database = 'pgm_target'" 30

q -d pgm_target -c "DROP EXTENSION pgmaint"
ok "DROP EXTENSION stops the target's worker" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = 'pgm_target')" 30
ok "the server-wide steps go back to postgres" \
	wait_for "SELECT server_wide FROM pgmaint.workers() WHERE database = 'postgres'" 30
q -d pgm_target -c "CREATE EXTENSION pgmaint"
ok "and persists again once the extension is back" \
	wait_target "SELECT running AND samples_persisted > 0 FROM pgmaint.sampler_status()" 60
is "$(grep -c 'pgmaint sampler step' "$log")" "0" "no step error was logged while the extension was missing"

# --- a statistics reset gives NULL deltas, never negative ones ----------------
q -d pgm_target -c "CREATE TABLE churn (id int)" -c "INSERT INTO churn SELECT generate_series(1, 1000)" \
	-c "SELECT pg_stat_force_next_flush()" >/dev/null
taken=$(q -d pgm_target -c "SELECT pgmaint._request_samples(1)")
wait_target "SELECT samples_taken > $taken FROM pgmaint.sampler_status()" 30
q -d pgm_target -c "SELECT pg_stat_reset()" >/dev/null
taken=$(q -d pgm_target -c "SELECT pgmaint._request_samples(2)")
ok "samples after the reset are taken" \
	wait_target "SELECT samples_taken >= $taken + 2 FROM pgmaint.sampler_status()" 30
is "$(q -d pgm_target -c "SELECT commits_per_sec IS NULL AND cache_hit_ratio IS NULL AND dead_tuples_delta IS NULL
              FROM pgmaint.samples(NULL) s
             WHERE s.stats_reset = (SELECT max(stats_reset) FROM pgmaint.samples(NULL))
             ORDER BY sampled_at LIMIT 1")" \
	"t" "the first sample after pg_stat_reset() has NULL deltas"
is "$(q -d pgm_target -c "SELECT count(*) FROM pgmaint.samples(NULL) WHERE commits_per_sec < 0 OR rollbacks_per_sec < 0 OR cache_hit_ratio < 0")" \
	"0" "no delta is negative"
is "$(q -d pgm_target -c "SELECT count(*) FROM pgmaint.samples(NULL) WHERE interval_seconds IS NULL")" \
	"1" "only the first sample of the ring has no interval"

# --- memory stays flat over 10,000 samples ------------------------------------
pid=$(status pid)
taken=$(q -d pgm_target -c "SELECT pgmaint._request_samples(200)")
wait_target "SELECT samples_taken >= $taken + 200 FROM pgmaint.sampler_status()" 120
mem0=$(status worker_memory_bytes)
rss0=$(awk '/^RssAnon/ {print $2}' /proc/$pid/status)
taken=$(q -d pgm_target -c "SELECT pgmaint._request_samples(10000)")
ok "the worker takes 10,000 samples" \
	wait_target "SELECT samples_taken >= $taken + 10000 FROM pgmaint.sampler_status()" 600
mem1=$(status worker_memory_bytes)
rss1=$(awk '/^RssAnon/ {print $2}' /proc/$pid/status)
echo "# worker memory contexts: $mem0 -> $mem1 bytes; RssAnon: $rss0 -> $rss1 kB"
is "$mem1" "$mem0" "the worker's memory contexts do not grow over 10,000 samples"
ok "the worker's anonymous memory grows by less than 256 kB" test $((rss1 - rss0)) -lt 256
is "$(status "pid = $pid")" "t" "the same worker did it"

# --- DROP DATABASE of the target database -------------------------------------
start=$(date +%s)
ok "a plain DROP DATABASE of the sampled target succeeds" \
	q -c "SET statement_timeout = '60s'" -c "DROP DATABASE pgm_target"
elapsed=$(($(date +%s) - start))
ok "at once (${elapsed}s; PostgreSQL waits 5 s for other sessions)" test "$elapsed" -lt 4
ok "the server-wide steps are back in postgres" \
	wait_for "SELECT server_wide AND state = 'sampling' FROM pgmaint.workers() WHERE database = 'postgres'" 30
ok "no worker step failed" test "$(grep -c 'pgmaint sampler step' "$log")" = 0
finish

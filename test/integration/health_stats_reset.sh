#!/usr/bin/env bash
# A statistics reset between two samples: samples() and the "last hour" cache
# figures (cache_hit(), the cache_hit check) both leave the interval across
# it out, by the one rule in ring.c.  Its own cluster samples only on
# request (pgmaint.sample_interval = 1h), so the ring holds exactly the
# samples taken here, and pg_stat_reset() touches no other test's counters.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/statsreset"
port=$((PGPORT + 40))
pgm_cluster_init "$dir" "$port" pgmaint_test pgmaint >/dev/null
echo "pgmaint.sample_interval = '1h'" >>"$dir/data/postgresql.conf"
trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_start "$dir"
export PGHOST=$dir PGPORT=$port PGDATABASE=postgres
q -c "CREATE DATABASE pgmaint_test" >/dev/null
export PGDATABASE=pgmaint_test
q -c "CREATE EXTENSION pgmaint" -c "CREATE TABLE sr_hot AS SELECT g FROM generate_series(1, 100000) g" >/dev/null
ok "the worker samples this database" \
	wait_for "SELECT running AND database = current_database() FROM pgmaint.sampler_status()" 60

# Asks the worker for one sample and waits until it is in the ring.
sample() {
	local taken
	taken=$(q -c "SELECT pgmaint._request_samples(1)")
	wait_for "SELECT samples_taken > $taken FROM pgmaint.sampler_status()" 30
}

# Reads sr_hot (in shared buffers) N times and waits until the hits are flushed.
read_hot() {
	local n=$1 before
	before=$(q -c "SELECT blks_hit FROM pg_stat_database WHERE datname = current_database()")
	for _ in $(seq 1 "$n"); do q -c "SELECT count(*) FROM sr_hot" >/dev/null; done
	q -c "SELECT pg_stat_force_next_flush()" >/dev/null
	wait_for "SELECT blks_hit > $before + $n * 200 FROM pg_stat_database WHERE datname = current_database()" 30
}

read_hot 2
q -c "SELECT pg_stat_reset()" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "a sample right after a statistics reset" sample
q -c "SELECT pg_stat_reset()" >/dev/null
ok "after a second reset, more block hits than the first sample counted" read_hot 10
ok "a sample after the second reset" sample

is "$(q -c "WITH s AS (SELECT * FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 2)
             SELECT max(blks_hit) FILTER (WHERE sampled_at = (SELECT max(sampled_at) FROM s))
                    > max(blks_hit) FILTER (WHERE sampled_at = (SELECT min(sampled_at) FROM s))
                    AND count(DISTINCT stats_reset) = 2 FROM s")" t \
	"the counters grew across the reset (a delta would look valid)"
is "$(q -c "SELECT cache_hit_ratio IS NULL FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 1")" t \
	"samples() gives no ratio for the interval across the reset"
is "$(q -c "SELECT coalesce(hits::text, 'none') FROM pgmaint._cache_hit_last_hour()")" none \
	"the last hour's cache figures leave that interval out too"
is "$(q -c "SELECT ratio_last_hour IS NULL FROM pgmaint.cache_hit() WHERE scope = 'database'")" t \
	"cache_hit() has no last-hour ratio yet"
is "$(q -c "SELECT message LIKE '%since the statistics reset%' FROM pgmaint.health_checks() WHERE check_name = 'cache_hit'")" t \
	"the cache_hit check falls back to the figures since the reset"

# an interval without a reset counts, in samples() and in the last hour alike
read_hot 3
ok "a sample without a reset in between" sample
is "$(q -c "WITH s AS (SELECT * FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 2),
                  d AS (SELECT max(blks_hit) - min(blks_hit) AS hits, max(blks_read) - min(blks_read) AS reads FROM s)
             SELECT (h.hits, h.reads) = (d.hits, d.reads) FROM pgmaint._cache_hit_last_hour() h, d")" t \
	"the last hour's hits and reads are that interval's deltas"
is "$(q -c "SELECT cache_hit_ratio IS NOT NULL FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 1")" t \
	"samples() gives that interval a ratio"
finish

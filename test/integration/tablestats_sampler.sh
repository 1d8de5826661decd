#!/usr/bin/env bash
# cache_hit().ratio_last_hour: from the sampler's ring in the worker's
# database; NULL (never an error) elsewhere and without the worker.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/tablestats_nopreload"
port=$((PGPORT + 30))
cleanup() {
	pgm_cluster_stop "$dir"
	q -c "DROP TABLE IF EXISTS tablestats_reads" >/dev/null 2>&1
}
trap cleanup EXIT

ok "the worker samples this database" \
	wait_for "SELECT running AND database = current_database() FROM pgmaint.sampler_status()" 60

# reads between two samples the worker takes on request
q -c "CREATE TABLE tablestats_reads AS SELECT g AS id FROM generate_series(1, 5000) g" >/dev/null
taken=$(q -c "SELECT pgmaint._request_samples(1)")
ok "a first sample is taken" wait_for "SELECT samples_taken > $taken FROM pgmaint.sampler_status()" 30
for i in 1 2 3; do q -c "SELECT count(*) FROM tablestats_reads" >/dev/null; done
q -c "SELECT pg_stat_force_next_flush()" >/dev/null
taken=$(q -c "SELECT pgmaint._request_samples(1)")
ok "a second sample is taken" wait_for "SELECT samples_taken > $taken FROM pgmaint.sampler_status()" 30

ok "ratio_last_hour is the hit share of the last hour's samples" wait_for "
WITH d AS (
    SELECT s.blks_hit - lag(s.blks_hit) OVER w AS dh, s.blks_read - lag(s.blks_read) OVER w AS dr,
           s.stats_reset IS NOT DISTINCT FROM lag(s.stats_reset) OVER w AS same
      FROM pgmaint.samples(now() - interval '1 hour') s WINDOW w AS (ORDER BY s.sampled_at)
)
SELECT (SELECT ratio_last_hour FROM pgmaint.cache_hit() WHERE scope = 'database')
       = (SELECT (sum(dh) / (sum(dh) + sum(dr)))::float8 FROM d WHERE same AND dh >= 0 AND dr >= 0)
  FROM (SELECT 1) x
 WHERE (SELECT sum(dh) + sum(dr) FROM d WHERE same AND dh >= 0 AND dr >= 0) > 0" 30
is "$(q -c "SELECT ratio_last_hour BETWEEN 0 AND 1 FROM pgmaint.cache_hit() WHERE scope = 'database'")" "t" \
	"ratio_last_hour is a ratio"
is "$(q -c "SELECT count(ratio_last_hour) FROM pgmaint.cache_hit() WHERE scope <> 'database'")" "0" \
	"only the database scope has a last-hour ratio (the ring samples the database)"
is "$(q -d pgmaint_tap -c "SELECT count(*), count(ratio_last_hour) FROM pgmaint.cache_hit()")" "4|0" \
	"in a database the worker does not sample, ratio_last_hour is NULL"

# a server without pgmaint preloaded: no ring, no error
pgm_cluster_init "$dir" "$port" postgres "" >/dev/null
pgm_cluster_start "$dir"
is "$(PGHOST=$dir PGPORT=$port PGDATABASE=postgres q -c "CREATE EXTENSION pgmaint" \
	-c "SELECT count(*), count(ratio_last_hour) FROM pgmaint.cache_hit()")" "4|0" \
	"without preloading, cache_hit() answers with ratio_last_hour NULL"
finish

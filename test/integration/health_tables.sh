#!/usr/bin/env bash
# Table-level health checks on planted cases, in a cluster of its own with
# 128kB of shared buffers and the worker sampling every 2 seconds: a table
# read from disk (table_cache_hit), a table with most tuples dead and
# autovacuum off for it (dead_tuples, autovacuum_behind), disk_free unknown
# for a role without pg_read_all_settings, and the same figures whether
# health() takes them from the worker's sample or computes them itself.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/health_tables"
port=$((PGPORT + 70))
cleanup() {
	pgm_cluster_stop "$dir"
}
trap cleanup EXIT

pgm_cluster_init "$dir" "$port" pgmaint_test pgmaint >/dev/null || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
shared_buffers = 128kB
pgmaint.sample_interval = 2
CONF
pgm_cluster_start "$dir" || exit 1
export PGHOST=$dir PGPORT=$port

q -d postgres -c "CREATE DATABASE pgmaint_test" >/dev/null
q -c "CREATE EXTENSION pgmaint" >/dev/null
ok "the worker samples this database" \
	wait_for "SELECT running AND database = current_database() FROM pgmaint.sampler_status()" 60

# status and value of a check
check() {
	q -c "SELECT status || ' ' || coalesce(value::text, 'null') FROM pgmaint.health_checks() WHERE check_name = '$1'"
}
message() {
	q -c "SELECT message FROM pgmaint.health_checks() WHERE check_name = '$1'"
}
# whether text $1 matches the glob pattern $2
like() {
	[[ $1 == $2 ]] || { echo "#   '$1' does not match '$2'"; return 1; }
}
# asks the worker for a sample and its evaluation now, and waits until health() reads it
fresh_sample() {
	health_refresh 30
}

# nothing planted yet: no table is judged, nothing is wrong
is "$(check table_cache_hit)" "unknown null" "table_cache_hit is unknown while no table has 1000 reads"
is "$(check autovacuum_behind)" "ok 0" "autovacuum_behind: no table falls behind"

# a table of about 110 pages read from disk over and over through 16 buffers
q -c "CREATE TABLE ht_cold (id int, pad text) WITH (autovacuum_enabled = off);
      INSERT INTO ht_cold SELECT g, repeat('x', 100) FROM generate_series(1, 6000) g;" >/dev/null
# the INSERT's own buffer hits do not count: only the scans below
q -c "SELECT pg_stat_force_next_flush()" -c "SELECT pg_stat_reset_single_table_counters('ht_cold'::regclass)" >/dev/null
for i in $(seq 1 12); do q -c "SELECT count(*) FROM ht_cold" >/dev/null; done
# a table with 80% of its tuples dead, never vacuumed
q -c "CREATE TABLE ht_dead (id int) WITH (autovacuum_enabled = off);
      INSERT INTO ht_dead SELECT generate_series(1, 2000);
      DELETE FROM ht_dead WHERE id > 400;" >/dev/null
# a table nobody has touched has no statistics entry, yet counts as a table
q -c "CREATE TABLE ht_untouched (id int)" >/dev/null
ok "the worker takes a sample of the planted tables" fresh_sample

is "$(q -c "SELECT hit_relid = 'ht_cold'::regclass AND hit_reads >= 1000 FROM pgmaint._table_health()")" "t" \
	"_table_health(): the cold table has the worst heap hit ratio"
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'table_cache_hit'")" "critical" \
	"table_cache_hit is critical for a table read from disk"
ok "table_cache_hit names the table" \
	like "$(message table_cache_hit)" "table public.ht_cold has the lowest heap hit ratio, *% of * reads"
is "$(q -c "SELECT pgmaint.health()->>'source'")" "worker" "health() reads the worker's evaluation"
is "$(check dead_tuples)" "critical 80.00" "dead_tuples is the worst dead share, 80%"
ok "dead_tuples names the table" \
	like "$(message dead_tuples)" "table public.ht_dead has the highest dead-tuple share, 80.00% (1600 dead)*"
is "$(check autovacuum_behind)" "warning 1" "autovacuum_behind counts the never-vacuumed table"
# autovacuum_enabled = off: worded apart, with a hint that fits (issue 19)
ok "autovacuum_behind says autovacuum is disabled on it" \
	like "$(message autovacuum_behind)" "autovacuum is disabled on public.ht_dead (autovacuum_enabled = off), 1600 dead tuples, * inserted since its last vacuum; 1 table(s) past twice a vacuum threshold*"
ok "its hint says to vacuum it or turn autovacuum back on" \
	like "$(q -c "SELECT hint FROM pgmaint.health_checks() WHERE check_name = 'autovacuum_behind'")" \
	"Autovacuum skips public.ht_dead (only anti-wraparound vacuums run)*ALTER TABLE public.ht_dead RESET (autovacuum_enabled)*"
# the same figures with autovacuum on for the table
q -c "ALTER TABLE ht_dead SET (autovacuum_enabled = on)" >/dev/null
ok "the worker evaluates after the change" fresh_sample
ok "with autovacuum on for it, the usual wording" \
	like "$(message autovacuum_behind)" "autovacuum falls behind on 1 table(s), the worst public.ht_dead with 1600 dead tuples*"
q -c "ALTER TABLE ht_dead SET (autovacuum_enabled = off)" >/dev/null
ok "the worker evaluates after the change back" fresh_sample
is "$(q -c "SELECT falling_behind FROM pgmaint.vacuum_stats() WHERE relid = 'ht_dead'::regclass")" "t" \
	"vacuum_stats() agrees that it falls behind"
is "$(q -c "SELECT hint FROM pgmaint.health_checks() WHERE check_name = 'dead_tuples'")" \
	"See pgmaint.vacuum_stats(): VACUUM the table, and lower its autovacuum_vacuum_scale_factor." \
	"the hint names the function to run next"

# both bases give the same answer on the same data
same="SELECT s IS NOT DISTINCT FROM d
        FROM (SELECT tables, hit_relid, hit_ratio, hit_reads, falling_behind, falling_relid,
                     falling_dead, dead_relid, dead_share, dead_tuples, falling_inserts
                FROM pgmaint._table_health_sampled()) s,
             pgmaint._table_health(1000, 1000) d"
is "$(q -c "$same")" "t" "the worker's figures equal the direct pass"
is "$(q -c "SELECT count(*) FROM pgmaint._table_health_sampled()")" "1" "the worker's figures are fresh"

# after VACUUM the dead tuples are gone: both bases agree again
q -c "VACUUM ht_dead" >/dev/null
ok "a sample after VACUUM" fresh_sample
is "$(q -c "$same")" "t" "the worker's figures equal the direct pass after VACUUM"
is "$(check autovacuum_behind)" "ok 0" "autovacuum_behind is ok after VACUUM"
is "$(check dead_tuples)" "ok 0.00" "dead_tuples is ok after VACUUM"

# disk_free: a value for pg_monitor, unknown (not an error) without pg_read_all_settings
q -c "CREATE ROLE ht_mon LOGIN IN ROLE pg_monitor; CREATE ROLE ht_nomon LOGIN;
      GRANT USAGE ON SCHEMA pgmaint TO ht_nomon;
      GRANT SELECT ON pgmaint.thresholds TO ht_nomon;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO ht_nomon" >/dev/null
is "$(q -U ht_mon -c "SELECT status IN ('ok', 'warning', 'critical') AND value BETWEEN 0 AND 100
                      FROM pgmaint.health_checks() WHERE check_name = 'disk_free'")" "t" \
	"disk_free is a share of the file system for pg_monitor"
# the file system is shared with other work: its free share may move between
# the two reads, so compare them in one statement (as ht_mon), until a deadline
env_as() { local PGUSER=$1; export PGUSER; shift; "$@"; }
ok "disk_free is disk_space().available_pct" env_as ht_mon wait_for "SELECT (SELECT value FROM pgmaint.health_checks()
                                         WHERE check_name = 'disk_free') = round(available_pct::numeric, 1)
                                 FROM pgmaint.disk_space()" 30
is "$(q -U ht_nomon -c "SELECT status || ' ' || coalesce(value::text, 'null') || ' ' || message
                        FROM pgmaint.health_checks() WHERE check_name = 'disk_free'")" \
	"unknown null cannot see the data directory: the caller lacks pg_read_all_settings" \
	"disk_free is unknown for a role without pg_read_all_settings"
is "$(q -U ht_nomon -c "SELECT pgmaint.health()->>'status' <> 'critical'
                        OR EXISTS (SELECT 1 FROM pgmaint.health_checks() WHERE status = 'critical')")" "t" \
	"health() answers for that role"

# without the worker, health() computes the same figures itself and says so (source live)
before=$(q -c "SELECT string_agg(check_name || ' ' || status || ' ' || coalesce(value::text, 'null'), ', ' ORDER BY 1)
                 FROM pgmaint.health_checks()
                WHERE check_name IN ('table_cache_hit', 'dead_tuples', 'autovacuum_behind')")
sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = ''/" "$dir/data/postgresql.conf"
pgm_cluster_stop "$dir"
pgm_cluster_start "$dir" || exit 1
is "$(q -c "SELECT count(*) FROM pgmaint._table_health_sampled()")" "0" "no worker figures without preloading"
ok "table_cache_hit names the table, measured now" \
	like "$(message table_cache_hit)" "table public.ht_cold has the lowest heap hit ratio, *% of * reads"
is "$(q -c "SELECT pgmaint.health()->>'source'")" "live" "health() says it measured now"
is "$(q -c "SELECT string_agg(check_name || ' ' || status || ' ' || coalesce(value::text, 'null'), ', ' ORDER BY 1)
              FROM pgmaint.health_checks()
             WHERE check_name IN ('table_cache_hit', 'dead_tuples', 'autovacuum_behind')")" "$before" \
	"the direct basis grades the tables as the worker's did"
is "$(q -c "SELECT count(*) FROM pgmaint._table_health(-1, 0)" 2>&1 | grep -o 'must not be negative')" \
	"must not be negative" "_table_health() rejects negative minimums"

finish

#!/usr/bin/env bash
# On 1,000 tables with churn, the C reports agree with PostgreSQL's own views,
# and the autovacuum thresholds follow PostgreSQL 15's formula.
set -u
. "$(dirname "$0")/../lib.sh"

db=pgmaint_tablestats
bg_pids=""
cleanup() {
	# sessions fed through a fifo end when it closes
	exec 7>&- 8>&-
	for p in $bg_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export PGDATABASE=$db
q -c "CREATE EXTENSION pgmaint" >/dev/null

# 1,000 tables: some with reloptions, some analyzed, some never analyzed; a
# TOAST-heavy few, a partitioned table, a materialized view; rows inserted,
# updated and deleted so that every counter moves.
start=$(date +%s)
q <<'SQL' >/dev/null
CREATE SCHEMA churn;
DO $$
DECLARE
    i int;
    opts text;
BEGIN
    FOR i IN 1..1000 LOOP
        opts := CASE i % 7
            WHEN 1 THEN 'autovacuum_vacuum_threshold = 25, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02'
            WHEN 2 THEN 'autovacuum_vacuum_insert_threshold = -1'
            WHEN 3 THEN 'autovacuum_vacuum_insert_threshold = 10, autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_threshold = 5'
            WHEN 4 THEN 'autovacuum_enabled = false, fillfactor = 90'
            WHEN 5 THEN 'fillfactor = 80'
            ELSE NULL END;
        EXECUTE format('CREATE TABLE churn.t%s (id int PRIMARY KEY, v text, n int)%s', i,
                       CASE WHEN opts IS NULL THEN '' ELSE format(' WITH (%s)', opts) END);
        IF i % 100 = 0 THEN
            EXECUTE format('ALTER TABLE churn.t%s ALTER v SET STORAGE EXTERNAL', i);
        END IF;
        IF i % 5 = 0 THEN
            EXECUTE format('CREATE INDEX ON churn.t%s (n)', i);
        END IF;
        EXECUTE format('INSERT INTO churn.t%s SELECT g, %s, g %% 10 FROM generate_series(1, %s) g', i,
                       CASE WHEN i % 100 = 0 THEN 'repeat(md5(g::text), 200)' ELSE 'g::text' END,
                       10 + i % 90);
        IF i % 2 = 0 THEN
            EXECUTE format('UPDATE churn.t%s SET n = n + 1 WHERE id %% 3 = 0', i);
        END IF;
        IF i % 3 = 0 THEN
            EXECUTE format('DELETE FROM churn.t%s WHERE id %% 4 = 0', i);
        END IF;
        IF i % 4 = 0 THEN
            EXECUTE format('ANALYZE churn.t%s', i);
        END IF;
        IF i % 10 = 0 THEN
            EXECUTE format('SELECT count(*) FROM churn.t%s WHERE id = 5', i);
        END IF;
    END LOOP;
END
$$;
CREATE TABLE churn.parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE churn.parted_1 PARTITION OF churn.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE churn.parted_2 PARTITION OF churn.parted FOR VALUES FROM (100) TO (200);
INSERT INTO churn.parted SELECT g, g::text FROM generate_series(0, 199) g;
CREATE MATERIALIZED VIEW churn.mv AS SELECT id, n FROM churn.t1;
SELECT pg_stat_force_next_flush();
SQL
[ $? = 0 ] || { echo "not ok - the tables could not be created"; exit 1; }
is "$(q -c "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'churn'")" "1004" "1,000 tables with churn created ($(($(date +%s) - start)) s)"

# another session's temporary table, committed and visible in pg_class; the
# session lives until the fifo feeding it closes
tempfifo="$PGM_TMP/tablestats_temp"
rm -f "$tempfifo" && mkfifo "$tempfifo"
psql -X -q "application_name=pgmaint_tablestats_temp" <"$tempfifo" >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
exec 8>"$tempfifo"
echo "CREATE TEMP TABLE other_temp (x int); INSERT INTO other_temp VALUES (1);" >&8
ok "another session's temporary table exists" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'other_temp' AND relpersistence = 't')" 30

# Each comparison runs in one transaction with a stats snapshot, so that the
# function and the view read the same counters; it is retried until a
# deadline in case autovacuum changes pg_class between the two reads.
agree() {
	local sql=$1
	wait_for "SET stats_fetch_consistency = snapshot; $sql" 60
}

ok "vacuum_stats() has the rows and numbers of pg_stat_user_tables" agree "
SELECT NOT EXISTS (
    (SELECT relid, schema_name, table_name, live_tuples, dead_tuples, last_vacuum,
            last_autovacuum, last_analyze, last_autoanalyze, vacuum_count, autovacuum_count,
            analyze_count, autoanalyze_count, inserts_since_vacuum, mods_since_analyze
       FROM pgmaint.vacuum_stats()
     EXCEPT
     SELECT relid, schemaname, relname, n_live_tup, n_dead_tup, last_vacuum, last_autovacuum,
            last_analyze, last_autoanalyze, vacuum_count, autovacuum_count, analyze_count,
            autoanalyze_count, n_ins_since_vacuum, n_mod_since_analyze
       FROM pg_stat_user_tables)
    UNION ALL
    (SELECT relid, schemaname, relname, n_live_tup, n_dead_tup, last_vacuum, last_autovacuum,
            last_analyze, last_autoanalyze, vacuum_count, autovacuum_count, analyze_count,
            autoanalyze_count, n_ins_since_vacuum, n_mod_since_analyze
       FROM pg_stat_user_tables
     EXCEPT
     SELECT relid, schema_name, table_name, live_tuples, dead_tuples, last_vacuum,
            last_autovacuum, last_analyze, last_autoanalyze, vacuum_count, autovacuum_count,
            analyze_count, autoanalyze_count, inserts_since_vacuum, mods_since_analyze
       FROM pgmaint.vacuum_stats()))"
# The creating session's last statistics reach the shared counters when it
# flushes them, which a busy machine may delay past its exit: poll with a
# deadline.  Autovacuum may meanwhile vacuum or analyze some of the tables (it
# clears their dead tuples or modifications): a table it processed counts too.
churn_moved="SELECT count(*) FILTER (WHERE dead_tuples > 0 OR autovacuum_count > 0) >= 333
                   AND count(*) FILTER (WHERE mods_since_analyze > 0 OR autoanalyze_count > 0) > 500
                   AND count(*) FILTER (WHERE last_analyze IS NOT NULL) >= 250
              FROM pgmaint.vacuum_stats() WHERE schema_name = 'churn'"
if wait_for "$churn_moved" 120; then churn=moved; else churn="$(q -c "
SELECT 'dead tuples or vacuumed: ' || count(*) FILTER (WHERE dead_tuples > 0 OR autovacuum_count > 0)
       || ', modified or analyzed: ' || count(*) FILTER (WHERE mods_since_analyze > 0 OR autoanalyze_count > 0)
       || ', analyzed by hand: ' || count(*) FILTER (WHERE last_analyze IS NOT NULL)
  FROM pgmaint.vacuum_stats() WHERE schema_name = 'churn'")"; fi
is "$churn" moved "the churn moved dead tuples, modifications and analyze times"
is "$(q -c "SELECT count(*) FROM pgmaint.vacuum_stats() WHERE table_name = 'other_temp'")" "1" \
	"another session's temporary table is reported"

# PostgreSQL 15's relation_needs_vacanalyze, written independently in SQL
cat >"$PGM_TMP/tablestats_formula.sql" <<'SQL'
WITH o AS (
    SELECT c.oid, c.relkind, c.relfrozenxid, c.reltoastrelid,
           greatest(c.reltuples, 0)::float4 AS rt,
           opt.vt, opt.vsf, opt.it, opt.isf, opt.at, opt.asf, opt.en
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL (
          SELECT max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_threshold')::int AS vt,
                 max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_scale_factor')::float4 AS vsf,
                 max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_insert_threshold')::int AS it,
                 max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_insert_scale_factor')::float4 AS isf,
                 max(option_value) FILTER (WHERE option_name = 'autovacuum_analyze_threshold')::int AS at,
                 max(option_value) FILTER (WHERE option_name = 'autovacuum_analyze_scale_factor')::float4 AS asf,
                 max(option_value) FILTER (WHERE option_name = 'autovacuum_enabled')::bool AS en
            FROM pg_options_to_table(c.reloptions)) opt
     WHERE c.relkind IN ('r', 'm')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
),
e AS (
    SELECT o.*, s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze, s.last_vacuum, s.last_autovacuum,
           (coalesce(o.vt, current_setting('autovacuum_vacuum_threshold')::int)::float4
            + coalesce(o.vsf, current_setting('autovacuum_vacuum_scale_factor')::float4) * o.rt) AS vth,
           coalesce(o.it, current_setting('autovacuum_vacuum_insert_threshold')::int) AS ibase,
           (coalesce(o.it, current_setting('autovacuum_vacuum_insert_threshold')::int)::float4
            + coalesce(o.isf, current_setting('autovacuum_vacuum_insert_scale_factor')::float4) * o.rt) AS ith,
           (coalesce(o.at, current_setting('autovacuum_analyze_threshold')::int)::float4
            + coalesce(o.asf, current_setting('autovacuum_analyze_scale_factor')::float4) * o.rt) AS ath,
           coalesce(o.en, true) AND current_setting('autovacuum')::bool
               AND current_setting('track_counts')::bool AS active,
           greatest(age(o.relfrozenxid), age(t.relfrozenxid)) AS xage
      FROM o
      JOIN pg_stat_user_tables s ON s.relid = o.oid
      LEFT JOIN pg_class t ON t.oid = o.reltoastrelid
)
SELECT count(*) FROM e JOIN pgmaint.vacuum_stats() v ON v.relid = e.oid
 WHERE v.vacuum_threshold IS DISTINCT FROM e.vth::float8
    OR v.insert_threshold IS DISTINCT FROM CASE WHEN e.ibase >= 0 THEN e.ith::float8 END
    OR v.analyze_threshold IS DISTINCT FROM e.ath::float8
    OR v.autovacuum_enabled IS DISTINCT FROM e.active
    OR v.autovacuum_due IS DISTINCT FROM
       (e.active AND (e.n_dead_tup::float4 > e.vth
                      OR (e.ibase >= 0 AND e.n_ins_since_vacuum::float4 > e.ith)))
    OR v.analyze_due IS DISTINCT FROM (e.active AND e.n_mod_since_analyze::float4 > e.ath)
    OR v.dead_until_vacuum IS DISTINCT FROM greatest(floor(e.vth)::bigint + 1 - e.n_dead_tup, 0)
    OR v.falling_behind IS DISTINCT FROM
       ((e.n_dead_tup::float4 > 2 * e.vth
         OR (e.ibase >= 0 AND e.n_ins_since_vacuum::float4 > 2 * e.ith)
         OR e.xage > current_setting('autovacuum_freeze_max_age')::int)
        AND coalesce(greatest(e.last_vacuum, e.last_autovacuum)
                     < now() - 10 * current_setting('autovacuum_naptime')::interval, true))
    OR v.xid_age IS DISTINCT FROM e.xage
    OR v.freeze_age_pct IS DISTINCT FROM 100.0::float8 * e.xage / v.freeze_max_age
    OR v.freeze_max_age IS DISTINCT FROM current_setting('autovacuum_freeze_max_age')::int
SQL
ok "thresholds, due flags and xid ages follow PostgreSQL 15's formula on every table" \
	agree "SELECT ($(cat "$PGM_TMP/tablestats_formula.sql")) = 0"
is "$(q -c "SELECT count(*) FILTER (WHERE reltuples < 0) > 100, count(*) FILTER (WHERE reltuples >= 0) > 100,
                   count(*) FILTER (WHERE insert_threshold IS NULL), count(*) FILTER (WHERE NOT autovacuum_enabled),
                   count(*) FILTER (WHERE autovacuum_due OR autovacuum_count > 0) > 0,
                   count(*) FILTER (WHERE analyze_due OR autoanalyze_count > 0) > 0
              FROM pgmaint.vacuum_stats() WHERE schema_name = 'churn' AND table_name ~ '^t[0-9]+$'")" \
	"t|t|143|143|t|t" "the formula was checked on never-analyzed, analyzed, insert-disabled and disabled tables"
is "$(q -c "SELECT vacuum_threshold IS NULL AND autovacuum_due IS NULL AND xid_age IS NULL
              FROM pgmaint.vacuum_stats() WHERE relid = 'churn.parted'::regclass")" "t" \
	"a partitioned parent has no thresholds (autovacuum does not process it)"

ok "cache_hit_tables() has the rows and numbers of pg_statio_user_tables" agree "
SELECT NOT EXISTS (
    (SELECT relid, schema_name, table_name, heap_hits, heap_reads, index_hits, index_reads,
            toast_hits, toast_reads
       FROM pgmaint.cache_hit_tables()
     EXCEPT
     SELECT relid, schemaname, relname, heap_blks_hit, heap_blks_read,
            coalesce(idx_blks_hit, 0), coalesce(idx_blks_read, 0),
            toast_blks_hit + coalesce(tidx_blks_hit, 0), toast_blks_read + coalesce(tidx_blks_read, 0)
       FROM pg_statio_user_tables)
    UNION ALL
    (SELECT relid, schemaname, relname, heap_blks_hit, heap_blks_read,
            coalesce(idx_blks_hit, 0), coalesce(idx_blks_read, 0),
            toast_blks_hit + coalesce(tidx_blks_hit, 0), toast_blks_read + coalesce(tidx_blks_read, 0)
       FROM pg_statio_user_tables
     EXCEPT
     SELECT relid, schema_name, table_name, heap_hits, heap_reads, index_hits, index_reads,
            toast_hits, toast_reads
       FROM pgmaint.cache_hit_tables()))"
ok "cache_hit() sums agree with pg_statio_user_tables and pg_stat_database" agree "
SELECT (SELECT array_agg(ARRAY[hits, reads] ORDER BY scope) FROM pgmaint.cache_hit() WHERE scope <> 'database')
       = ARRAY[ARRAY[sum(heap_blks_hit), sum(heap_blks_read)],
               ARRAY[coalesce(sum(idx_blks_hit), 0), coalesce(sum(idx_blks_read), 0)],
               ARRAY[coalesce(sum(toast_blks_hit + coalesce(tidx_blks_hit, 0)), 0),
                     coalesce(sum(toast_blks_read + coalesce(tidx_blks_read, 0)), 0)]]::bigint[]
   AND (SELECT ARRAY[hits, reads] FROM pgmaint.cache_hit() WHERE scope = 'database')
       = (SELECT ARRAY[blks_hit, blks_read] FROM pg_stat_database WHERE datname = current_database())
  FROM pg_statio_user_tables"
is "$(q -c "SELECT count(*) > 0, bool_and(heap_ratio = heap_hits::float8 / (heap_hits + heap_reads))
              FROM pgmaint.cache_hit_tables(1) WHERE heap_hits + heap_reads > 0")" "t|t" \
	"ratios are hits / (hits + reads)"
ok "min_reads filters on all reads of the table" agree "
SELECT (SELECT count(*) FROM pgmaint.cache_hit_tables(1))
       = (SELECT count(*) FROM pg_statio_user_tables
           WHERE heap_blks_read + coalesce(idx_blks_read, 0) + coalesce(toast_blks_read, 0)
                 + coalesce(tidx_blks_read, 0) >= 1)"
is "$(q -c "SELECT bool_and(a.r <= b.r) FROM
              (SELECT row_number() OVER () AS n, coalesce(heap_ratio, 2) AS r FROM pgmaint.cache_hit_tables()) a
              JOIN (SELECT row_number() OVER () - 1 AS n, coalesce(heap_ratio, 2) AS r FROM pgmaint.cache_hit_tables()) b
                ON a.n = b.n")" "t" "cache_hit_tables() lists the worst heap ratio first"

ok "table_sizes() agrees with pg_total_relation_size, pg_table_size and pg_indexes_size" agree "
SELECT count(*) = (SELECT count(*) FROM pg_stat_user_tables)
       AND bool_and(total_bytes = pg_total_relation_size(relid)
                    AND heap_bytes + toast_bytes = pg_table_size(relid)
                    AND index_bytes = pg_indexes_size(relid)
                    AND toast_bytes = coalesce((SELECT pg_total_relation_size(c.reltoastrelid)
                                                  FROM pg_class c WHERE c.oid = relid
                                                   AND c.reltoastrelid <> 0), 0)
                    AND total_size = pg_size_pretty(total_bytes))
  FROM pgmaint.table_sizes()"
is "$(q -c "SELECT count(*) FILTER (WHERE toast_bytes > 8192) >= 10, bool_and(total_bytes >= lead_total)
              FROM (SELECT toast_bytes, total_bytes,
                           coalesce(lead(total_bytes) OVER (), 0) AS lead_total
                      FROM pgmaint.table_sizes()) s")" "t|t" "TOAST is measured, and the largest table comes first"

# A table being dropped (its ACCESS EXCLUSIVE lock held) does not make
# table_sizes() wait: the table is listed with NULL sizes and a note, while
# the lock is still held, and is gone once the drop commits.
fifo="$PGM_TMP/tablestats_dropper"
rm -f "$fifo" && mkfifo "$fifo"
psql -X -q -v ON_ERROR_STOP=1 <"$fifo" >/dev/null 2>&1 &
dropper=$!
bg_pids="$bg_pids $dropper"
exec 7>"$fifo"
echo "BEGIN; DROP TABLE churn.t500; SELECT 1;" >&7
ok "the dropping session holds its lock" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'churn.t500'::regclass AND mode = 'AccessExclusiveLock' AND granted)" 30
q -c "SELECT count(*), count(*) FILTER (WHERE table_name = 't500' AND total_bytes IS NULL AND note IS NOT NULL)
        FROM pgmaint.table_sizes()" >"$PGM_TMP/tablestats_sizes.out" 2>&1 &
sizer=$!
answered=no
deadline=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt "$deadline" ]; do
	kill -0 "$sizer" 2>/dev/null || { answered=yes; break; }
	sleep 0.2
done
is "$answered" "yes" "table_sizes() answers while the drop holds its lock"
is "$(q -c "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'churn.t500'::regclass AND mode = 'AccessExclusiveLock' AND granted)")" "t" \
	"(the lock was still held when it answered)"
wait "$sizer"
is "$(cat "$PGM_TMP/tablestats_sizes.out")" "$(q -c "SELECT count(*) FROM pg_stat_user_tables")|1" \
	"the locked table is listed with NULL sizes and a note, without an error"
echo "COMMIT;" >&7
exec 7>&-
wait "$dropper" 2>/dev/null
is "$(q -c "SELECT count(*) FROM pgmaint.table_sizes() WHERE table_name = 't500'")" "0" \
	"once the drop commits, the table is gone from table_sizes()"

# Tables created and dropped all the time: the reports never fail.
psql -X -q -c "DO \$\$ BEGIN FOR i IN 1..400 LOOP
    EXECUTE 'CREATE TABLE churn.flicker (id int PRIMARY KEY, v text)';
    EXECUTE 'INSERT INTO churn.flicker VALUES (1, repeat(''x'', 5000))';
    COMMIT;
    EXECUTE 'DROP TABLE churn.flicker';
    COMMIT;
  END LOOP; END \$\$" >/dev/null 2>&1 &
flicker=$!
bg_pids="$bg_pids $flicker"
errors=0
for i in $(seq 1 15); do
	q -c "SELECT count(*) FROM pgmaint.vacuum_stats()" >/dev/null 2>>"$PGM_TMP/tablestats_flicker.err" || errors=$((errors + 1))
	q -c "SELECT count(*) FROM pgmaint.cache_hit_tables()" >/dev/null 2>>"$PGM_TMP/tablestats_flicker.err" || errors=$((errors + 1))
	q -c "SELECT count(*) FROM pgmaint.table_sizes()" >/dev/null 2>>"$PGM_TMP/tablestats_flicker.err" || errors=$((errors + 1))
done
wait "$flicker"
is "$errors" "0" "reports run without errors while tables are created and dropped"
[ "$errors" = 0 ] || cat "$PGM_TMP/tablestats_flicker.err"

finish

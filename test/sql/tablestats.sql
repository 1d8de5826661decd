--
-- Cache, vacuum, size and index reports on planted tables
--
CREATE SCHEMA ts_regress;
SET search_path = ts_regress, public;

-- autovacuum off on every table here, so that nothing moves under the test
CREATE TABLE parent (id int PRIMARY KEY) WITH (autovacuum_enabled = false);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, v text, w int)
    WITH (autovacuum_enabled = false, autovacuum_vacuum_threshold = 7,
          autovacuum_vacuum_scale_factor = 0.5, autovacuum_vacuum_insert_threshold = -1,
          autovacuum_analyze_threshold = 3, autovacuum_analyze_scale_factor = 0.25);
CREATE TABLE child2 (id int PRIMARY KEY, parent_id int REFERENCES parent)
    WITH (autovacuum_enabled = false);
CREATE INDEX child2_parent ON child2 (parent_id);
INSERT INTO parent SELECT g FROM generate_series(1, 10) g;
INSERT INTO child SELECT g, g % 10 + 1, repeat('x', g), g % 3 FROM generate_series(1, 100) g;
INSERT INTO child2 SELECT g, g % 10 + 1 FROM generate_series(1, 20) g;
DELETE FROM child WHERE id <= 10;
-- flushed before ANALYZE, so that ANALYZE resets every counted change
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;
ANALYZE child;
-- planted: an exact duplicate, a leading prefix of another index
CREATE INDEX child_w_a ON child (w);
CREATE INDEX child_w_b ON child (w);
CREATE INDEX child_w_v ON child (w, v);
-- planted: an invalid index, left by a failed concurrent build
CREATE TABLE dups (x int) WITH (autovacuum_enabled = false);
INSERT INTO dups VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY dups_x ON dups (x);
-- indexes that back constraints or the replica identity are never "unused"
CREATE TABLE keys (id int PRIMARY KEY, u int UNIQUE, e int, r int NOT NULL,
                   EXCLUDE USING btree (e WITH =)) WITH (autovacuum_enabled = false);
CREATE UNIQUE INDEX keys_r ON keys (r);
ALTER TABLE keys REPLICA IDENTITY USING INDEX keys_r;
-- a table read only by sequential scans
CREATE TABLE scanned (id int) WITH (autovacuum_enabled = false);
INSERT INTO scanned SELECT generate_series(1, 50);
DO $$ BEGIN FOR i IN 1..12 LOOP PERFORM count(*) FROM ts_regress.scanned; END LOOP; END $$;
-- one index scan makes child2_parent "used"
SET enable_seqscan = off;
SELECT count(*) FROM child2 WHERE parent_id = 3;
RESET enable_seqscan;
INSERT INTO pgmaint.table_policy (relid, profile, source) VALUES ('child', 'high_churn', 'manual');
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;

-- vacuum_stats(): counts, and PG15's thresholds from the reloptions
SELECT table_name, live_tuples, dead_tuples, round(dead_ratio::numeric, 4) AS dead_ratio,
       last_analyze IS NOT NULL AS analyzed, inserts_since_vacuum, mods_since_analyze,
       reltuples, vacuum_threshold, insert_threshold, analyze_threshold, dead_until_vacuum,
       autovacuum_enabled, autovacuum_due, analyze_due, falling_behind, profile
  FROM pgmaint.vacuum_stats()
 WHERE schema_name = 'ts_regress'
 ORDER BY table_name;
SELECT xid_age >= 0 AND xid_age < 1000000 AS young,
       freeze_max_age = current_setting('autovacuum_freeze_max_age')::int AS default_max_age,
       freeze_age_pct = 100.0 * xid_age / freeze_max_age AS pct_of_max_age
  FROM pgmaint.vacuum_stats() WHERE table_name = 'child' AND schema_name = 'ts_regress';

-- cache_hit_tables(): a table without TOAST has NULL TOAST figures; bad input
SELECT table_name, heap_hits + heap_reads > 0 AS heap_read, index_hits + index_reads > 0 AS index_read,
       toast_hits IS NULL AS no_toast
  FROM pgmaint.cache_hit_tables() WHERE schema_name = 'ts_regress' ORDER BY table_name;
SELECT count(*) AS rows_for_null FROM pgmaint.cache_hit_tables(NULL);
SELECT * FROM pgmaint.cache_hit_tables(-1);

-- cache_hit(): one row per scope, ratios in [0, 1] or NULL
SELECT scope, hits >= 0 AND reads >= 0 AS counted,
       ratio IS NULL OR ratio BETWEEN 0 AND 1 AS ratio_ok,
       ratio IS NOT DISTINCT FROM CASE WHEN hits + reads > 0 THEN hits::float8 / (hits + reads) END AS ratio_is_hits_share
  FROM pgmaint.cache_hit();

-- table_sizes(): the parts add up to pg_total_relation_size
SELECT table_name, total_bytes = pg_total_relation_size(relid) AS total_ok,
       heap_bytes + toast_bytes = pg_table_size(relid) AS table_ok,
       index_bytes = pg_indexes_size(relid) AS indexes_ok, toast_bytes > 0 AS has_toast,
       row_estimate
  FROM pgmaint.table_sizes() WHERE schema_name = 'ts_regress' ORDER BY table_name;

-- index_advice(): the planted findings, and nothing about constraint indexes
SELECT kind, table_name, index_name,
       regexp_replace(detail, 'reset \([^)]*\)', 'reset (...)') AS detail, suggestion
  FROM pgmaint.index_advice(0, 0)
 WHERE (SELECT relnamespace FROM pg_class WHERE oid = table_name) = 'ts_regress'::regnamespace
 ORDER BY kind, table_name::text, index_name::text;
SELECT count(*) AS constraint_indexes_flagged
  FROM pgmaint.index_advice(0, 0)
 WHERE index_name::text IN ('keys_pkey', 'keys_u_key', 'keys_e_excl', 'keys_r');
-- the default size floor leaves small tables read by sequential scans alone,
-- and lists unused indexes of every size (issue 28)
SELECT kind, count(*) AS small_findings
  FROM pgmaint.index_advice()
 WHERE kind IN ('unused', 'seq_scan_heavy')
   AND (SELECT relnamespace FROM pg_class WHERE oid = table_name) = 'ts_regress'::regnamespace
 GROUP BY kind ORDER BY kind;
SELECT * FROM pgmaint.index_advice(-1);
SELECT * FROM pgmaint.index_advice(0, NULL);

-- expensive_queries(): bad counts
SELECT * FROM pgmaint.expensive_queries(-1);
SELECT * FROM pgmaint.expensive_queries(NULL);

-- database_stats(): wraparound in % of the freeze ages, disk space of the data directory
SELECT database = current_database() AS this_database,
       xid_age_pct = 100.0 * xid_age / xid_freeze_max_age AS xid_pct_ok,
       xid_freeze_max_age = current_setting('autovacuum_freeze_max_age')::int AS xid_max_ok,
       mxid_age_pct = 100.0 * mxid_age / mxid_freeze_max_age AS mxid_pct_ok,
       mxid_freeze_max_age = current_setting('autovacuum_multixact_freeze_max_age')::int AS mxid_max_ok,
       oldest_xid_age >= xid_age AS oldest_is_oldest,
       disk_total_bytes > 0 AND disk_available_bytes BETWEEN 0 AND disk_total_bytes AS disk_ok,
       abs(disk_available_pct - 100.0 * disk_available_bytes / disk_total_bytes) < 1e-9 AS disk_pct_ok
  FROM pgmaint.database_stats();
SELECT free_bytes >= available_bytes AS reserved_blocks_excluded FROM pgmaint.disk_space();

-- index_advice() sizes from the files, not relpages (issue 19): an index
-- built on an empty table keeps relpages 1 and a table never vacuumed 0
CREATE TABLE stale (id int, pad text) WITH (autovacuum_enabled = false);
CREATE INDEX stale_id ON stale (id);
INSERT INTO stale SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g;
SELECT relname, relpages FROM pg_class
 WHERE oid IN ('stale'::regclass, 'stale_id'::regclass) ORDER BY relname;
SET max_parallel_workers_per_gather = 0;  -- a parallel worker counts a scan of its own
DO $$ BEGIN FOR i IN 1..10 LOOP PERFORM count(*) FROM ts_regress.stale; END LOOP; END $$;
RESET max_parallel_workers_per_gather;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;
SELECT kind, index_name,
       regexp_replace(detail, '(reset \([^)]*\)|\d+ (kB|MB))', '...', 'g') AS detail,
       substring(detail from '(\d+ (kB|MB))$') = pg_size_pretty(pg_relation_size(coalesce(index_name, table_name)))
           AS real_size
  FROM pgmaint.index_advice(1048576, 1048576)
 WHERE table_name = 'stale'::regclass ORDER BY kind;
-- rarely used: one index scan against 60,000 index writes
SET enable_seqscan = off;
SELECT id FROM stale WHERE id = 42;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;
SELECT kind, index_name, regexp_replace(detail, '\d+ (kB|MB)$', '...') AS detail, suggestion
  FROM pgmaint.index_advice(1048576, 1048576)
 WHERE index_name = 'stale_id'::regclass;
DROP TABLE stale;

DELETE FROM pgmaint.table_policy WHERE relid = 'child'::regclass;
RESET search_path;
DROP SCHEMA ts_regress CASCADE;

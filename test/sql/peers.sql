--
-- Peer parity, round 2 (issue 28): what pgHero and pg-extras found pgmaint
-- wrong or blind about, on planted tables.  Each block fails on 1.1.
--
CREATE SCHEMA pp;
SET search_path = pp, public;
CREATE EXTENSION pgstattuple SCHEMA public;

-- 1. Following every DROP suggestion must leave an index on the column: two
-- identical indexes, the older never scanned, the newer scanned 5 times.
CREATE TABLE dup (id int, v int) WITH (autovacuum_enabled = false);
INSERT INTO dup SELECT g, g FROM generate_series(1, 5000) g;
CREATE INDEX dup_old ON dup (v);
CREATE INDEX dup_new ON dup (v);
ANALYZE dup;
-- five scans of dup_new only: dup_old is dropped for them, and the drop rolled back
BEGIN;
DROP INDEX dup_old;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT count(*) FROM dup WHERE v = 1 UNION ALL SELECT count(*) FROM dup WHERE v = 2
UNION ALL SELECT count(*) FROM dup WHERE v = 3 UNION ALL SELECT count(*) FROM dup WHERE v = 4
UNION ALL SELECT count(*) FROM dup WHERE v = 5;
ROLLBACK;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;
SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'dup' ORDER BY 1;
-- one drop only, of the unused one; the one kept has no drop suggestion
SELECT kind, index_name, suggestion IS NOT NULL AS suggests
  FROM pgmaint.index_advice(0, 0) WHERE table_name = 'dup'::regclass ORDER BY 1, 2;
SELECT count(*) AS drops_of_dup_v
  FROM pgmaint.index_advice() WHERE table_name = 'dup'::regclass AND suggestion ~ 'DROP';

-- 4. A small unused index is listed at the defaults, with its size.
CREATE TABLE small (id int, w int) WITH (autovacuum_enabled = false);
INSERT INTO small SELECT g, g FROM generate_series(1, 30000) g;
CREATE INDEX small_w ON small (w);
SELECT kind, index_name, detail ~ '\d+ kB$' AS sized, suggestion
  FROM pgmaint.index_advice() WHERE table_name = 'small'::regclass;

-- 2. Every sequence past the threshold, an uncalled one measured from its start.
CREATE SEQUENCE s92 AS smallint;
SELECT setval('s92', 30146) > 0 AS set;
CREATE SEQUENCE s95 AS smallint;
SELECT setval('s95', 31129) > 0 AS set;
CREATE SEQUENCE s978 AS smallint START 32047;   -- never called
CREATE TABLE seqfeed (a smallint DEFAULT nextval('s92'), b smallint DEFAULT nextval('s95'),
                      c smallint DEFAULT nextval('s978'), d int GENERATED ALWAYS AS IDENTITY);
SELECT sequence_name, data_type, used_pct, values_left, last_value, called, max_value, column_name
  FROM pgmaint.sequences(90) WHERE column_name LIKE 'pp.%';
-- the truth: pg_sequences' position (start value when never called) against 32767
SELECT sequencename, round(100.0 * (coalesce(last_value, start_value) - min_value)
                           / (max_value - min_value), 2) AS used_pct,
       max_value - coalesce(last_value, start_value - increment_by) AS values_left
  FROM pg_sequences WHERE schemaname = 'pp' AND max_value = 32767 ORDER BY 2 DESC;
SELECT status, value, message FROM pgmaint.health_checks() WHERE check_name = 'sequences';
SELECT count(*) AS identity_listed FROM pgmaint.sequences() WHERE column_name = 'pp.seqfeed.d';
SELECT * FROM pgmaint.sequences(101);
DROP TABLE seqfeed;
DROP SEQUENCE s92, s95, s978;

-- 3. bloat(exact => true) measures what a rebuild reclaims, before VACUUM too.
CREATE TABLE bl (id int, pad text) WITH (autovacuum_enabled = false);
INSERT INTO bl SELECT g, 'x' FROM generate_series(1, 100000) g;
CREATE INDEX bl_id ON bl (id);
DELETE FROM bl WHERE id % 10 <> 0;
ANALYZE bl;
CREATE TEMP TABLE bl_before AS
SELECT wasted_bytes, bytes, method FROM pgmaint.bloat(true) WHERE relid = 'bl_id'::regclass;
SELECT method FROM bl_before;
REINDEX INDEX bl_id;
-- reclaimed by the rebuild, against what bloat(true) said before it
SELECT abs(b.wasted_bytes - (b.bytes - pg_relation_size('bl_id')))
       <= 0.1 * (b.bytes - pg_relation_size('bl_id')) AS within_10_pct
  FROM bl_before b;
DROP TABLE bl, bl_before;

-- 6. An insert-only table never vacuumed falls behind (insert threshold, PG13+).
VACUUM dup, small;
CREATE TABLE ins (id int) WITH (autovacuum_enabled = true);
INSERT INTO ins SELECT generate_series(1, 3000);
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;
SELECT dead_tuples, inserts_since_vacuum, insert_threshold, falling_behind
  FROM pgmaint.vacuum_stats() WHERE relid = 'ins'::regclass;
SELECT falling_relid = 'ins'::regclass AS ins_named, falling_dead, falling_inserts
  FROM pgmaint._table_health(1000, 1000);
SELECT status, message ~ 'the worst pp\.ins with 0 dead tuples and 3000 inserted since its last vacuum' AS names_it
  FROM pgmaint.health_checks() WHERE check_name = 'autovacuum_behind';
VACUUM ins;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flushed;
SELECT falling_behind FROM pgmaint.vacuum_stats() WHERE relid = 'ins'::regclass;
DROP TABLE ins;

-- 7. A table's age is the greater of its heap's and its TOAST table's.
CREATE TABLE old (id int PRIMARY KEY, t text) WITH (autovacuum_enabled = false,
                                                     toast.autovacuum_enabled = false);
INSERT INTO old VALUES (1, 'a'), (2, 'b');
-- transaction ids and two multixacts (a row lock, then a subtransaction's)
DO $$ BEGIN FOR i IN 1..200 LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$;
BEGIN;
SELECT id FROM old WHERE id = 1 FOR KEY SHARE;
SAVEPOINT s;
SELECT id FROM old WHERE id = 1 FOR UPDATE;
COMMIT;
-- freeze every other table with its TOAST table (quietly: which tables
-- earlier tests left is not this test's business), then this heap alone
\set ECHO none
\o /dev/null
SELECT format('VACUUM (FREEZE) %s', c.oid::regclass)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp)' AND c.oid <> 'old'::regclass
 ORDER BY c.oid
\gexec
\o
\set ECHO all
VACUUM (FREEZE, PROCESS_TOAST false) old;
SELECT age(c.relfrozenxid) < age(t.relfrozenxid) AS toast_older_xid,
       mxid_age(c.relminmxid) < mxid_age(t.relminmxid) AS toast_older_mxid
  FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = 'old'::regclass;
SELECT v.xid_age = greatest(age(c.relfrozenxid), age(t.relfrozenxid)) AS xid_age_is_greatest,
       v.mxid_age = greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid)) AS mxid_age_is_greatest,
       v.mxid_age_pct = 100.0 * v.mxid_age / v.mxid_freeze_max_age AS mxid_pct
  FROM pgmaint.vacuum_stats() v
  JOIN pg_class c ON c.oid = v.relid JOIN pg_class t ON t.oid = c.reltoastrelid
 WHERE v.relid = 'old'::regclass;
SELECT check_name, message ~ 'the oldest table here is pp\.old, [a-z]+ age \d+ \(its TOAST table''s, older than its own\)' AS names_toast
  FROM pgmaint.health_checks() WHERE check_name IN ('xid_wraparound', 'multixact_wraparound')
 ORDER BY 1;
DROP TABLE old;

DROP TABLE dup, small;
DROP SCHEMA pp;
DROP EXTENSION pgstattuple;
RESET search_path;

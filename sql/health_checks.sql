--
-- health checks of the server: planted invalid index, sequence, prepared
-- transaction and replication slot are found; grading follows thresholds
--
SELECT check_name, status FROM pgmaint.health_checks()
 WHERE check_name IN ('invalid_indexes', 'sequences', 'prepared_transactions',
                      'inactive_slots', 'slot_wal_retention')
 ORDER BY 1;

-- an index left invalid by a failed CREATE INDEX CONCURRENTLY
CREATE TABLE hc_dup (v int);
INSERT INTO hc_dup VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY hc_dup_v ON hc_dup (v);
SELECT status, value, message FROM pgmaint.health_checks() WHERE check_name = 'invalid_indexes';
DROP TABLE hc_dup;
SELECT status, value FROM pgmaint.health_checks() WHERE check_name = 'invalid_indexes';

-- a smallint sequence at 95% of its range
CREATE SEQUENCE hc_seq AS smallint;
SELECT setval('hc_seq', 31129) > 0 AS set;
SELECT status, value, message FROM pgmaint.health_checks() WHERE check_name = 'sequences';
-- a cycling sequence never runs out
ALTER SEQUENCE hc_seq CYCLE;
SELECT status FROM pgmaint.health_checks() WHERE check_name = 'sequences';
DROP SEQUENCE hc_seq;

-- a prepared transaction, graded against a lowered threshold
BEGIN;
CREATE TABLE hc_prepared (id int);
PREPARE TRANSACTION 'pgmaint_hc';
BEGIN;
UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'prepared_transactions';
SELECT status, message ~ '^1 prepared transaction\(s\), the oldest \(''pgmaint_hc''\)' AS names_it
  FROM pgmaint.health_checks() WHERE check_name = 'prepared_transactions';
ROLLBACK;
ROLLBACK PREPARED 'pgmaint_hc';
SELECT status, value FROM pgmaint.health_checks() WHERE check_name = 'prepared_transactions';

-- an inactive slot that reserves WAL
SELECT slot_name FROM pg_create_physical_replication_slot('pgmaint_hc_slot', true);
SELECT status, value, message FROM pgmaint.health_checks() WHERE check_name = 'inactive_slots';
SELECT status, value < 1024 AS little_retained
  FROM pgmaint.health_checks() WHERE check_name = 'slot_wal_retention';
SELECT pg_drop_replication_slot('pgmaint_hc_slot');
SELECT status, value FROM pgmaint.health_checks() WHERE check_name = 'inactive_slots';

-- wraparound: ages are a share of the freeze limits
SELECT check_name, value >= 0 AND value < 100 AS young, status
  FROM pgmaint.health_checks()
 WHERE check_name IN ('xid_wraparound', 'multixact_wraparound') ORDER BY 1;
BEGIN;
UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'xid_wraparound';
SELECT status FROM pgmaint.health_checks() WHERE check_name = 'xid_wraparound';
ROLLBACK;

-- checklist() grades with the thresholds health() uses: edit one and the
-- item follows; a disabled check leaves its item unknown
SELECT item, status FROM pgmaint.checklist() WHERE item = 'connection pooling';
BEGIN;
UPDATE pgmaint.thresholds SET warning = 0, critical = NULL WHERE check_name = 'connections';
SELECT item, status, fix IS NOT NULL AS has_fix FROM pgmaint.checklist() WHERE item = 'connection pooling';
UPDATE pgmaint.thresholds SET warning = 101, critical = 100.5 WHERE check_name = 'disk_free';
SELECT item, status FROM pgmaint.checklist() WHERE item = 'disk space';
UPDATE pgmaint.thresholds SET enabled = false WHERE check_name = 'disk_free';
SELECT item, status FROM pgmaint.checklist() WHERE item = 'disk space';
ROLLBACK;

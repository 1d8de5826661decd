-- Security and safety (issue 13): thresholds, tunable tables, messages.
BEGIN;
SELECT plan(14);

-- item 5: thresholds are finite; a check without a row is unknown
SELECT throws_ok($$UPDATE pgmaint.thresholds SET warning = 'NaN' WHERE check_name = 'connections'$$,
                 '23514', NULL, 'a NaN warning threshold is refused');
SELECT throws_ok($$UPDATE pgmaint.thresholds SET critical = 'Infinity' WHERE check_name = 'connections'$$,
                 '23514', NULL, 'an infinite critical threshold is refused');
SELECT throws_ok($$INSERT INTO pgmaint.thresholds (check_name, warning) VALUES ('x_nan', '-Infinity')$$,
                 '23514', NULL, 'a new row with an infinite threshold is refused');
DELETE FROM pgmaint.thresholds WHERE check_name = 'connections';
SELECT is((SELECT status FROM pgmaint.health_checks() WHERE check_name = 'connections'), 'unknown',
          'a check whose threshold row was deleted is unknown, not ok');
SELECT matches((SELECT message FROM pgmaint.health_checks() WHERE check_name = 'connections'),
               'no row for this check', 'and its message says why');
UPDATE pgmaint.thresholds SET enabled = false WHERE check_name = 'cache_hit';
SELECT is((SELECT count(*) FROM pgmaint.health_checks() WHERE check_name = 'cache_hit'), 0::bigint,
          'enabled = false still omits a check');

-- item 6: temp tables, pgmaint's own tables, catalogs, information_schema
CREATE TEMP TABLE sec_temp (id int);
SELECT throws_ok($$SELECT pgmaint.tune_table('sec_temp', 'moderate')$$, '42809', NULL,
                 'tune_table() refuses a temporary table');
SELECT throws_ok($$SELECT pgmaint.tune_table('pgmaint.thresholds', 'moderate')$$, '42809', NULL,
                 'tune_table() refuses pgmaint''s own tables');
SELECT throws_ok($$SELECT pgmaint.tune_table('information_schema.sql_features', 'moderate')$$, '42809', NULL,
                 'tune_table() refuses information_schema');
SELECT throws_ok($$SELECT pgmaint.tune_table('pg_catalog.pg_class', 'moderate')$$, '42809', NULL,
                 'tune_table() refuses a catalog');
-- a policy row whose table is gone without a sql_drop event is dropped by the policy run
INSERT INTO pgmaint.table_policy (relid, profile, source) VALUES (4000000000::oid::regclass, 'moderate', 'manual');
SELECT lives_ok($$SELECT count(*) FROM pgmaint.run_policy('advise')$$, 'a policy run');
SELECT is((SELECT count(*) FROM pgmaint.table_policy WHERE relid::oid = 4000000000::oid), 0::bigint,
          'drops the policy row of a table that no longer exists');

-- item 7: messages
SELECT throws_ok($$SELECT pgmaint.grant_tuning(0::regrole)$$, '42704', 'role with OID 0 does not exist',
                 'grant_tuning() of a role that does not exist says so');
SELECT is(pgmaint._backup_age_text(NULL), NULL, '_backup_age_text(NULL) is NULL, not 0h 00m');

SELECT * FROM finish();
ROLLBACK;

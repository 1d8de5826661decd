-- pgTAP: point-in-time recovery's SQL: the recording functions' rules,
-- _pitr_sync() against pgBackRest's info JSON, pitr_status(), the checks
-- while point-in-time recovery is not set up and once it is (archive_mode is
-- off in the test cluster), markers, privileges.  pgBackRest itself runs in
-- test/suites/pitr.sh.
BEGIN;
SELECT plan(34);

-- the four checks as this transaction sees them: measured now, by the C
-- code the worker runs too (src/checkrecords.c, family "pitr")
CREATE TEMP VIEW pitr_checks AS
SELECT c."check" AS check_name, c.status, c.value, c.message
  FROM jsonb_to_recordset(pgmaint.health(live => true) -> 'checks') AS c("check" text, status text, value numeric, message text)
 WHERE c."check" IN ('pitr_full_backup_age', 'pitr_backup_age', 'pitr_backup', 'recovery_point');

-- privileges: readers to pg_monitor, writers to nobody
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.recovery_point()', 'EXECUTE')
          AND has_function_privilege('pg_monitor', 'pgmaint.pitr_status()', 'EXECUTE')
          AND has_function_privilege('pg_monitor', 'pgmaint.health(boolean)', 'EXECUTE'),
          'pg_monitor may call recovery_point(), pitr_status() and health()');
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint._pitr_record(text, text, timestamptz, jsonb, text)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'pgmaint._pitr_sync(text, text, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'pgmaint._pitr_mark(text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'pgmaint._pitr_record(text, text, timestamptz, jsonb, text)', 'EXECUTE'),
          'nobody but superusers may record point-in-time recovery events');
SELECT is_definer('pgmaint', '_pitr_sync', ARRAY['text', 'text', 'jsonb'],
                  'the sync runs as its owner');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_extension e
                       WHERE e.extname = 'pgmaint'
                         AND 'pgmaint.pitr_markers'::regclass = ANY (coalesce(e.extconfig, '{}'))),
          'the markers are kept out of dumps');

-- not set up: every check says so, with 0
SELECT is((SELECT string_agg(check_name || '=' || value, ' ' ORDER BY check_name) FROM pitr_checks),
          'pitr_backup=0 pitr_backup_age=0 pitr_full_backup_age=0 recovery_point=0',
          'without point-in-time recovery the four checks are 0');
SELECT is((SELECT message FROM pgmaint.recovery_point()), 'WAL archiving is off (archive_mode = off)',
          'recovery_point() says archiving is off');
SELECT is((SELECT in_use FROM pgmaint.pitr_status()), false, 'pitr_status() says it is not in use');

-- _pitr_record
SELECT throws_ok($$SELECT pgmaint._pitr_record('backup', 'ok', now())$$, '22023', NULL,
                 'a pg_dump kind is not a pitr kind');
SELECT throws_ok($$SELECT pgmaint._pitr_record('pitr_drill', 'fine', now())$$, '22023', NULL,
                 'an unknown status is refused');
SELECT throws_ok($$SELECT pgmaint._pitr_record('pitr_drill', 'ok', now() + interval '1 hour')$$, '22023', NULL,
                 'a start in the future is refused');
SELECT throws_ok($$SELECT pgmaint._pitr_record('pitr_drill', 'failed', now())$$, '22023', NULL,
                 'a failure without its reason is refused');
SELECT throws_ok($$SELECT pgmaint._pitr_record('pitr_backup', 'ok', now())$$, '22023',
                 'a successful pgBackRest backup is recorded from pgBackRest''s list of backups',
                 'a successful backup comes from pgBackRest''s list only');
SELECT throws_ok($$SELECT pgmaint._pitr_record('pitr_setup', 'ok', now(), '[1]')$$, '22023', NULL,
                 'a detail that is not an object is refused');
SELECT throws_ok($$SELECT pgmaint._backup_record('pitr_drill', 'ok', now())$$, '22023', NULL,
                 'the pg_dump recorder refuses pitr kinds');
SELECT lives_ok($$SELECT pgmaint._pitr_record('pitr_setup', 'ok', now() - interval '2 days',
                                                '{"stanza": "tap", "repo": "posix:/r"}')$$,
                'a setup is recorded');
SELECT is((SELECT count(*)::int FROM pgmaint.actions WHERE action = 'pitr_setup' AND target = 'tap'), 1,
          'and audited under its stanza');

-- in use, no backup yet: the ages count from the setup; archiving is off
SELECT ok((SELECT value BETWEEN 172790 AND 172900 FROM pitr_checks WHERE check_name = 'pitr_full_backup_age'),
          'without a full backup its age counts from the first event (2 days)');
SELECT is((SELECT value FROM pitr_checks WHERE check_name = 'pitr_backup'), 2::numeric,
          'in use with archive_mode off, pitr_backup is 2');
SELECT is((SELECT value FROM pitr_checks WHERE check_name = 'recovery_point'), NULL,
          'and recovery_point is unknown');

-- _pitr_sync
SELECT throws_ok($$SELECT * FROM pgmaint._pitr_sync('tap', 'posix:/r', '{}')$$, '22023', NULL,
                 'info that is not an array is refused');
SELECT throws_ok($$SELECT * FROM pgmaint._pitr_sync('tap', 'posix:/r', '[{"name": "other", "backup": []}]')$$, '22023',
                 'pgBackRest''s info does not list stanza "tap"', 'a stanza missing from the info is named');
SELECT throws_ok($$SELECT * FROM pgmaint._pitr_sync('tap', 'posix:/r',
                    '[{"name": "tap", "backup": [{"label": "x; DROP", "type": "full", "timestamp": {"start": 1, "stop": 2}}]}]')$$,
                 '22023', NULL, 'a label that is not pgBackRest''s is refused');
CREATE TEMP TABLE info AS
SELECT format('[{"name": "tap", "backup": [
    {"label": "20260101-010000F", "type": "full", "prior": null,
     "timestamp": {"start": %s, "stop": %s},
     "info": {"size": 1000, "delta": 1000, "repository": {"size": 300, "delta": 300}},
     "archive": {"start": "000000010000000000000002", "stop": "000000010000000000000002"},
     "lsn": {"start": "0/2000028", "stop": "0/2000100"}, "error": false},
    {"label": "20260101-010000F_20260102-010000D", "type": "diff", "prior": "20260101-010000F",
     "timestamp": {"start": %s, "stop": %s},
     "info": {"size": 1000, "delta": 10, "repository": {"size": 300, "delta": 5}}}]}]',
    extract(epoch FROM now() - interval '30 hours')::bigint, extract(epoch FROM now() - interval '30 hours')::bigint + 5,
    extract(epoch FROM now() - interval '6 hours')::bigint, extract(epoch FROM now() - interval '6 hours')::bigint + 2)::jsonb AS j;
SELECT is((SELECT recorded FROM pgmaint._pitr_sync('tap', 'posix:/r', (SELECT j FROM info))), 2,
          'the two backups pgBackRest lists are recorded');
SELECT is((SELECT recorded FROM pgmaint._pitr_sync('tap', 'posix:/r', (SELECT j FROM info))), 0,
          'a second sync records nothing twice');
SELECT is((SELECT bytes || ' ' || (detail->>'prior') || ' ' || (finished - started)::text
             FROM pgmaint.backups WHERE detail->>'label' = '20260101-010000F_20260102-010000D'),
          '5 20260101-010000F 00:00:02', 'a row has the bytes written, its prior backup and its duration');
SELECT is((SELECT last_full_label || ' ' || last_backup_type || ' ' || backups_kept FROM pgmaint.pitr_status()),
          '20260101-010000F diff 2', 'pitr_status() has the newest full and the newest backup');
SELECT ok((SELECT value BETWEEN 21590 AND 21700 FROM pitr_checks WHERE check_name = 'pitr_backup_age'),
          'pitr_backup_age is the differential backup''s age (6 hours)');
SELECT is((SELECT status FROM pitr_checks WHERE check_name = 'pitr_full_backup_age'), 'ok',
          'a 30-hour-old full backup is fresh');
SELECT is((SELECT removed FROM pgmaint._pitr_sync('tap', 'posix:/r',
               jsonb_build_array(jsonb_build_object('name', 'tap', 'backup',
                                                    jsonb_build_array((SELECT j FROM info) #> '{0,backup,1}'))))),
          '{20260101-010000F}'::text[], 'a backup pgBackRest no longer lists is marked removed');
SELECT is((SELECT removed FROM pgmaint._pitr_sync('tap', 'posix:/other', '[{"name": "tap", "backup": []}]')),
          '{}'::text[], 'a sync of another repository removes nothing here');

-- drills decide pitr_backup (archive_mode is off here: its 2 comes first)
SELECT lives_ok($$SELECT pgmaint._pitr_record('pitr_drill', 'failed', now(), '{"target": "2026-01-01 00:00:00+00"}', 'no target')$$,
                'a failed drill is recorded');
SELECT is((SELECT last_drill_status || ' ' || last_drill_error FROM pgmaint.pitr_status()), 'failed no target',
          'pitr_status() has the last drill');

-- markers
INSERT INTO pgmaint.pitr_markers (written_at, note) VALUES (now() - interval '40 days', 'old');
CREATE TEMP TABLE mark AS SELECT * FROM pgmaint._pitr_mark('tap');
SELECT is((SELECT p.note FROM mark m JOIN pgmaint.pitr_markers p USING (id)), 'tap',
          'a marker is written');
SELECT is((SELECT count(*)::int FROM pgmaint.pitr_markers WHERE note = 'old'), 0,
          'markers older than 35 days are forgotten');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: the health() contract and its privileges
BEGIN;
SELECT plan(28);

SELECT has_function('pgmaint', 'health', ARRAY['boolean'], 'health(live boolean) exists');
SELECT function_returns('pgmaint', 'health', ARRAY['boolean'], 'jsonb', 'health() returns jsonb');
SELECT has_function('pgmaint', 'health_checks', ARRAY[]::text[], 'health_checks() exists');
SELECT has_table('pgmaint', 'thresholds', 'thresholds table exists');
SELECT col_is_pk('pgmaint', 'thresholds', 'check_name', 'thresholds are keyed by check_name');

SELECT ok(EXISTS (SELECT 1 FROM pg_extension e
                   WHERE e.extname = 'pgmaint'
                     AND 'pgmaint.thresholds'::regclass = ANY (e.extconfig)),
          'thresholds are dumped by pg_dump');

SELECT ok(ARRAY['connections', 'idle_in_transaction', 'cache_hit']
          <@ (SELECT array_agg(check_name) FROM pgmaint.thresholds),
          'the foundation checks are seeded');

SELECT is((SELECT count(*)::int FROM pgmaint.health_checks()),
          (SELECT count(*)::int FROM pgmaint.thresholds WHERE enabled),
          'one row per enabled check');

SELECT is(jsonb_typeof(pgmaint.health()->'sampler'->'running'), 'boolean',
          'sampler section says whether the worker runs');

SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.health(boolean)', 'EXECUTE'),
          'pg_monitor may call health()');
SELECT ok(has_schema_privilege('pg_monitor', 'pgmaint', 'USAGE'),
          'pg_monitor may use the schema');
SELECT ok(NOT has_function_privilege('public', 'pgmaint._audit(text, text, jsonb, boolean)', 'EXECUTE'),
          'PUBLIC may not write audit rows');

-- every check graded warning (or unknown) shows its hint: each names what to
-- run next (pitr_backup has none while point-in-time recovery is not set up)
SAVEPOINT every_hint;
UPDATE pgmaint.thresholds SET warning = -1e15, critical = NULL;
SELECT is_empty($$SELECT check_name FROM pgmaint.health_checks()
                   WHERE (hint IS NULL AND check_name <> 'pitr_backup') OR hint !~ 'pgmaint[._]'$$,
                'every hint names the pgmaint function or command to run next');
ROLLBACK TO SAVEPOINT every_hint;

-- every function and table of the extension has a comment
SELECT is_empty($$
    SELECT p.oid::regprocedure::text
      FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmaint'
     WHERE obj_description(p.oid, 'pg_proc') IS NULL
    UNION ALL
    SELECT c.oid::regclass::text
      FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmaint'
     WHERE c.relkind IN ('r', 'v', 'p') AND obj_description(c.oid, 'pg_class') IS NULL
$$, 'every function and table has a COMMENT');

-- the checklist graded by checks that could not run (report_html() passes
-- NULL when health() failed): the graded items are unknown and say why
SELECT is((SELECT array_agg(status ORDER BY item COLLATE "C") FROM pgmaint._checklist(NULL)
            WHERE item IN ('backups', 'connection pooling', 'disk space')),
          ARRAY['unknown', 'unknown', 'unknown'],
          'checklist items graded by checks are unknown when the checks could not run');
SELECT ok((SELECT evidence LIKE 'the health checks could not run%' FROM pgmaint._checklist(NULL)
            WHERE item = 'connection pooling'),
          '... and say so');
SELECT is((SELECT array_agg(status ORDER BY item COLLATE "C") FROM pgmaint._checklist(pgmaint.health() -> 'checks')),
          (SELECT array_agg(status ORDER BY item COLLATE "C") FROM pgmaint.checklist()),
          'checklist() is _checklist() graded by health()''s checks');

-- The overall status is the worst check, on planted statuses: only the
-- archiver and connections checks stay enabled, and their thresholds are
-- moved around the values they measure (archiver: 0 or 1; connections: a share
-- of the slots, >= 0), so each status below is certain.  Last in the file:
-- the thresholds stay planted until the ROLLBACK.
UPDATE pgmaint.thresholds SET enabled = check_name IN ('archiver', 'connections');
UPDATE pgmaint.thresholds SET warning = 1000, critical = NULL WHERE check_name IN ('archiver', 'connections');
SELECT is((SELECT array_agg(check_name || ' ' || status ORDER BY check_name) FROM pgmaint.health_checks()),
          ARRAY['archiver ok', 'connections ok'], 'planted: both checks ok');
SELECT is(pgmaint.health()->>'status', 'ok', 'overall status: ok when every check is ok');

UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'archiver';
SELECT is((SELECT array_agg(check_name || ' ' || status ORDER BY check_name) FROM pgmaint.health_checks()),
          ARRAY['archiver warning', 'connections ok'], 'planted: archiver warning');
SELECT is(pgmaint.health()->>'status', 'warning', 'overall status: warning when the worst check is warning');

UPDATE pgmaint.thresholds SET warning = NULL, critical = 0 WHERE check_name = 'connections';
SELECT is((SELECT array_agg(check_name || ' ' || status ORDER BY check_name) FROM pgmaint.health_checks()),
          ARRAY['archiver warning', 'connections critical'], 'planted: archiver warning, connections critical');
SELECT is(pgmaint.health()->>'status', 'critical', 'overall status: critical when the worst check is critical');

-- unknown: what the backup check reads fails every time (its kept plan
-- looks pgmaint.backup_status() up again after the rename, and finds none)
UPDATE pgmaint.thresholds SET enabled = check_name IN ('archiver', 'backup');
ALTER FUNCTION pgmaint.backup_status() RENAME TO backup_status_away;
SELECT is((SELECT array_agg(check_name || ' ' || status ORDER BY check_name) FROM pgmaint.health_checks()),
          ARRAY['archiver warning', 'backup unknown'], 'planted: archiver warning, backup unknown (its check fails)');
SELECT is(pgmaint.health()->>'status', 'warning', 'overall status: warning outranks unknown');
UPDATE pgmaint.thresholds SET warning = 1000 WHERE check_name = 'archiver';
SELECT is((SELECT array_agg(check_name || ' ' || status ORDER BY check_name) FROM pgmaint.health_checks()),
          ARRAY['archiver ok', 'backup unknown'], 'planted: archiver ok, backup unknown');
-- a failed measurement counts as warning (src/status.c), so a broken check
-- cannot hide behind an ok
SELECT is(pgmaint.health()->>'status', 'warning', 'overall status: a check that fails every time (unknown) turns it to warning');
ALTER FUNCTION pgmaint.backup_status_away() RENAME TO backup_status;

-- the worker's evaluations in shared memory: serialized, at most
-- PGMAINT_HEALTH_SLOT_BYTES (16384, src/healthshm.c) and a slot header of
-- under 64 bytes per database slot (at most pgmaint.max_databases slots),
-- plus 64 for the struct's own header (a whole PgmEvaluation took 52 kB a slot)
SELECT cmp_ok((SELECT size FROM pg_shmem_allocations WHERE name = 'pgmaint health'),
              '<=', current_setting('pgmaint.max_databases')::bigint * (16384 + 64) + 64,
              'the health evaluations take at most 16 kB and a header per database slot');

SELECT * FROM finish();
ROLLBACK;

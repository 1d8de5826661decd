-- pgTAP: retention's API, privileges and search_path rules (issue 20)
BEGIN;
SELECT plan(16);

SELECT has_function('pgmaint', 'set_retention',
                    ARRAY['regclass', 'name', 'interval', 'regclass', 'integer', 'text'], 'set_retention() exists');
SELECT has_function('pgmaint', 'drop_retention', ARRAY['regclass'], 'drop_retention(regclass) exists');
SELECT has_function('pgmaint', 'retention_plan', ARRAY[]::text[], 'retention_plan() exists');
SELECT is((SELECT prokind::text FROM pg_proc WHERE oid = 'pgmaint.apply_retention(regclass, interval, interval)'::regprocedure),
          'p', 'apply_retention is a procedure (each batch commits on its own)');
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'pgmaint.apply_retention(regclass, interval, interval)'::regprocedure),
          NULL, 'it has no SET clause (a procedure with one cannot COMMIT)');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'pgmaint'::regnamespace AND p.proname ~ 'retention' AND p.prokind = 'f'
       AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
       AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp']
$$, 'every retention function pins search_path');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'pgmaint'::regnamespace AND p.proname ~ 'retention'
       AND has_function_privilege('public', p.oid, 'EXECUTE')
$$, 'no retention function or procedure is callable by PUBLIC');
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint.apply_retention(regclass, interval, interval)', 'EXECUTE'),
          'pg_monitor may not apply retention');
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint.set_retention(regclass, name, interval, regclass, integer, text)', 'EXECUTE'),
          'pg_monitor may not set retention');
SELECT is_empty($$
    SELECT a.grantee::regrole::text FROM pg_proc p, aclexplode(p.proacl) a
     WHERE p.oid = 'pgmaint._retention_done(name, regclass, jsonb, timestamptz)'::regprocedure
       AND a.grantee <> p.proowner
$$, 'only a run records a run: _retention_done() is granted to nobody');
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.retention_plan()', 'EXECUTE'),
          'pg_monitor may call retention_plan()');
SELECT ok(has_table_privilege('pg_monitor', 'pgmaint.retention', 'SELECT'), 'pg_monitor may read pgmaint.retention');
SELECT ok((SELECT 'pgmaint.retention'::regclass::oid = ANY (extconfig) FROM pg_extension WHERE extname = 'pgmaint'),
          'pgmaint.retention is kept by pg_dump');
SELECT ok(EXISTS (SELECT 1 FROM pgmaint.thresholds WHERE check_name = 'retention' AND warning = 1),
          'the retention check has its thresholds row');
SELECT matches((SELECT pgmaint._retention_batch_sql('pgmaint.actions', 'at', NULL, 'pgmaint.actions')),
               'OPERATOR\(pg_catalog\.<\) \$1 ORDER BY at LIMIT \$2 FOR UPDATE SKIP LOCKED',
               'a batch takes the oldest rows first and skips locked ones, with a qualified operator');
SELECT throws_ok($$SELECT pgmaint.set_retention('pgmaint.actions', 'at', '-1 day')$$, '22023', NULL,
                 'a negative keep is 22023');

SELECT * FROM finish();
ROLLBACK;

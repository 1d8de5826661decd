-- pgTAP: pgmaint.backups, backup_status() and the recording function: shape and privileges
BEGIN;
SELECT plan(18);

SELECT has_table('pgmaint', 'backups', 'backups table exists');
SELECT col_is_pk('pgmaint', 'backups', 'id', 'backups are keyed by id');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_extension e
                       WHERE e.extname = 'pgmaint'
                         AND 'pgmaint.backups'::regclass = ANY (coalesce(e.extconfig, '{}'))),
          'the backup history is kept out of dumps');

SELECT has_function('pgmaint', 'backup_status', ARRAY[]::text[], 'backup_status() exists');
SELECT is((SELECT count(*)::int FROM pgmaint.backup_status()), 1, 'backup_status() returns one row');
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.backup_status()', 'EXECUTE'),
          'pg_monitor may call backup_status()');
SELECT ok(has_table_privilege('pg_monitor', 'pgmaint.backups', 'SELECT'),
          'pg_monitor may read the backup history');
SELECT ok(NOT has_table_privilege('pg_monitor', 'pgmaint.backups', 'INSERT'),
          'pg_monitor may not write the backup history');

SELECT ok(NOT has_function_privilege('public',
              'pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text)',
              'EXECUTE'),
          'PUBLIC may not record backups');
SELECT ok(NOT has_function_privilege('pg_monitor',
              'pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text)',
              'EXECUTE'),
          'pg_monitor may not record backups');
SELECT is_definer('pgmaint', '_backup_record',
                  ARRAY['text', 'text', 'timestamp with time zone', 'text', 'text', 'bigint', 'text',
                        'boolean', 'jsonb', 'bigint', 'jsonb', 'text'],
                  'the recording function runs as its owner (the backup role needs no table rights)');

SELECT throws_ok($$SELECT pgmaint._backup_record('nap', 'ok', now())$$, '22023', NULL,
                 'an unknown kind is an invalid parameter value');
SELECT throws_ok($$SELECT pgmaint._backup_record('backup', 'failed', now())$$, '22023', NULL,
                 'a failure without its reason is refused');

-- a role granted EXECUTE records through the function alone
CREATE ROLE pgm_tap_backup_role;
GRANT USAGE ON SCHEMA pgmaint TO pgm_tap_backup_role;
GRANT EXECUTE ON FUNCTION pgmaint._backup_record TO pgm_tap_backup_role;
SET LOCAL ROLE pgm_tap_backup_role;
SELECT lives_ok($$SELECT pgmaint._backup_record('backup', 'failed', now(), error => 'tap')$$,
                'a role with EXECUTE records a backup');
SELECT throws_ok($$DELETE FROM pgmaint.backups$$, '42501', NULL,
                 'and cannot rewrite the history');
RESET ROLE;
SELECT is((SELECT actor::text FROM pgmaint.backups WHERE error = 'tap'), session_user::text,
          'the actor is the session user');

-- a caller that may not read the history gets unknown, never an error or ok
CREATE ROLE pgm_tap_blind_role;
GRANT USAGE ON SCHEMA pgmaint TO pgm_tap_blind_role;
GRANT SELECT ON pgmaint.thresholds TO pgm_tap_blind_role;
GRANT EXECUTE ON FUNCTION pgmaint.health_checks() TO pgm_tap_blind_role;
SET LOCAL ROLE pgm_tap_blind_role;
SELECT is((SELECT value FROM pgmaint.health_checks() WHERE check_name = 'backup'), NULL,
          'the backup check has no value for a blind caller');
SELECT is((SELECT message FROM pgmaint.health_checks() WHERE check_name = 'backup'),
          'cannot read pgmaint.backups: the caller lacks pg_monitor', 'and says why');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

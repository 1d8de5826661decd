-- pgTAP: the autovacuum policy's API, privileges and error codes
BEGIN;
SELECT plan(50);

SELECT has_function('pgmaint', 'tune_table', ARRAY['regclass', 'text'], 'tune_table(regclass, text) exists');
SELECT function_returns('pgmaint', 'tune_table', ARRAY['regclass', 'text'], 'text[]', 'tune_table returns text[]');
SELECT has_function('pgmaint', 'reset_table', ARRAY['regclass'], 'reset_table(regclass) exists');
SELECT has_function('pgmaint', 'recommend_profiles', ARRAY[]::text[], 'recommend_profiles() exists');
SELECT has_function('pgmaint', 'apply_policy', ARRAY['boolean'], 'apply_policy(boolean) exists');
SELECT has_function('pgmaint', 'run_policy', ARRAY['text'], 'run_policy(text) exists');
SELECT has_function('pgmaint', 'schedule_maintenance', ARRAY['integer', 'text', 'text'], 'schedule_maintenance() exists');
SELECT has_function('pgmaint', 'unschedule_maintenance', ARRAY[]::text[], 'unschedule_maintenance() exists');
SELECT has_function('pgmaint', 'prune_history', ARRAY['interval'], 'prune_history(interval) exists');
SELECT has_function('pgmaint', 'grant_tuning', ARRAY['regrole', 'boolean'], 'grant_tuning(regrole, boolean) exists');

SELECT is((SELECT pg_get_function_arguments('pgmaint.apply_policy(boolean)'::regprocedure)),
          'dry_run boolean DEFAULT true', 'apply_policy is a dry run by default');

-- configuration survives pg_dump, measurements do not
SELECT ok('pgmaint.profiles'::regclass = ANY (e.extconfig) AND 'pgmaint.table_policy'::regclass = ANY (e.extconfig),
          'profiles and table_policy are dumped')
  FROM pg_extension e WHERE e.extname = 'pgmaint';
SELECT ok(NOT 'pgmaint.table_activity'::regclass = ANY (e.extconfig)
          AND NOT 'pgmaint.policy_advice'::regclass = ANY (e.extconfig),
          'table_activity and policy_advice are not dumped')
  FROM pg_extension e WHERE e.extname = 'pgmaint';
SELECT ok(EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pgmaint_forget_dropped' AND evtevent = 'sql_drop'),
          'an sql_drop event trigger forgets dropped tables');

-- privileges
SELECT ok(NOT has_function_privilege('public', p, 'EXECUTE'), 'PUBLIC may not call ' || p)
  FROM unnest(ARRAY['pgmaint.tune_table(regclass, text)', 'pgmaint.reset_table(regclass)',
                    'pgmaint.apply_policy(boolean)', 'pgmaint.run_policy(text)',
                    'pgmaint.schedule_maintenance(integer, text, text)',
                    'pgmaint.unschedule_maintenance()', 'pgmaint.prune_history(interval)',
                    'pgmaint.grant_tuning(regrole, boolean)', 'pgmaint.revoke_tuning(regrole)']) p;
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.recommend_profiles()', 'EXECUTE'),
          'pg_monitor may call recommend_profiles()');
SELECT ok(has_table_privilege('pg_monitor', 'pgmaint.table_activity', 'SELECT'),
          'pg_monitor may read the activity snapshots recommend_profiles() uses');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text
      FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmaint'
     WHERE p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
       AND p.prokind <> 'p'  -- a procedure with a SET clause cannot COMMIT (test/retention.sql)
       AND p.prosqlbody IS NULL  -- a SQL-standard body is resolved when it is created
       AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp']
$$, 'every SQL function of pgmaint pins search_path or has a SQL-standard body');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text COLLATE "C")
             FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
             JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmaint'
            WHERE p.prosqlbody IS NOT NULL),
          ARRAY['pgmaint._classify(numeric,numeric,numeric,numeric,numeric)', 'pgmaint.recommend_profiles()'],
          'only _classify() and recommend_profiles() have SQL-standard bodies (so that they are inlined)');
SELECT is_empty($$
    SELECT coalesce(f.oid::regprocedure::text, o.oid::regoperator::text)
      FROM pg_depend d
      LEFT JOIN pg_proc f ON d.refclassid = 'pg_proc'::regclass AND f.oid = d.refobjid
      LEFT JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid
     WHERE d.classid = 'pg_proc'::regclass
       AND d.objid IN ('pgmaint._classify(numeric, numeric, numeric, numeric, numeric)'::regprocedure,
                       'pgmaint.recommend_profiles()'::regprocedure)
       AND coalesce(f.pronamespace, o.oprnamespace) NOT IN ('pg_catalog'::regnamespace, 'pgmaint'::regnamespace)
$$,
          'they call only pg_catalog''s and pgmaint''s functions and operators');

-- errors and their SQLSTATEs
CREATE TABLE pgm_tap_t (id int);
CREATE VIEW pgm_tap_v AS SELECT 1 AS one;
SELECT throws_ok($$SELECT pgmaint.tune_table('pgm_tap_t', 'turbo')$$, '22023',
                 'unknown autovacuum profile "turbo"', 'an unknown profile is 22023');
SELECT throws_ok($$SELECT pgmaint.tune_table('pgm_tap_v', 'moderate')$$, '42809',
                 NULL, 'a view is 42809');
SELECT throws_ok($$SELECT pgmaint.reset_table('pgm_tap_v')$$, '42809',
                 NULL, 'reset_table of a view is 42809');
SELECT throws_ok($$INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('x', '{log_min_duration_statement=0}')$$,
                 '22023', NULL, 'a profile with another option is 22023');
SELECT throws_ok($$INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('x', '{autovacuum_vacuum_scale_factor=-1}')$$,
                 '22023', NULL, 'a profile with an out-of-range value is 22023');
SELECT throws_ok($$SELECT pgmaint.schedule_maintenance()$$, '55000', NULL,
                 'schedule_maintenance() without pg_cron is 55000');
SELECT throws_ok($$SELECT pgmaint.apply_policy(NULL)$$, '22023', NULL, 'apply_policy(NULL) is 22023');

-- the hint lists the profiles
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE h text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END
$f$;
SELECT is(pg_temp.hint_of($$SELECT pgmaint.tune_table('pgm_tap_t', 'turbo')$$),
          'Known profiles: append_only, high_churn, insert_heavy, moderate.',
          'the hint lists the profile names');

-- a grantee tunes the tables it owns, and only those; nobody forges records
CREATE ROLE pgm_tap_owner;
CREATE ROLE pgm_tap_other;
SELECT lives_ok($$SELECT pgmaint.grant_tuning('pgm_tap_owner')$$, 'grant_tuning() grants a role tuning');
SELECT pgmaint.grant_tuning('pgm_tap_other');
CREATE TABLE pgm_tap_owned (id int);
ALTER TABLE pgm_tap_owned OWNER TO pgm_tap_owner;
SET SESSION AUTHORIZATION pgm_tap_owner;
SELECT is(pgmaint.tune_table('pgm_tap_owned', 'moderate'),
          '{autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=50}'::text[],
          'a grantee tunes its own table');
SELECT throws_ok($$SELECT pgmaint.tune_table('pgm_tap_t', 'moderate')$$, '42501', NULL,
                 'a grantee cannot tune a table it does not own');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT actor::text FROM pgmaint.actions ORDER BY id DESC LIMIT 1), 'pgm_tap_owner',
          'the audit row names the grantee');
SET SESSION AUTHORIZATION pgm_tap_other;
SELECT throws_ok($$SELECT pgmaint.tune_table('pgm_tap_owned', 'high_churn')$$, '42501', NULL,
                 'another grantee cannot tune it');
SELECT throws_ok($$SELECT pgmaint._policy_record('pgm_tap_owner', 'pgm_tap_owned', 'high_churn', 'manual', '{}', '{}')$$,
                 '42501', NULL, 'a policy row cannot be recorded in another role''s name');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT profile FROM pgmaint.table_policy WHERE relid = 'pgm_tap_owned'::regclass), 'moderate',
          'the forged records changed nothing');
CREATE ROLE pgm_tap_none;
GRANT USAGE ON SCHEMA pgmaint TO pgm_tap_none;
SET SESSION AUTHORIZATION pgm_tap_none;
SELECT throws_ok($$SELECT pgmaint.tune_table('pgm_tap_owned', 'high_churn')$$, '42501', NULL,
                 'a role without EXECUTE cannot call tune_table');
SELECT throws_ok($$SELECT pgmaint._policy_audit('pgm_tap_none', 'tune_table', 'x', '{}', false)$$,
                 '42501', NULL, 'a role without a policy action cannot write audit rows');
RESET SESSION AUTHORIZATION;
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint.tune_table(regclass, text)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'pgmaint._policy_record(name, regclass, text, text, text[], text[])', 'EXECUTE'),
          'pg_monitor alone may not tune tables or write policy rows');
SELECT pgmaint.revoke_tuning('pgm_tap_other');
SELECT ok(NOT has_function_privilege('pgm_tap_other', 'pgmaint.tune_table(regclass, text)', 'EXECUTE')
          AND NOT has_function_privilege('pgm_tap_other', 'pgmaint._apply_profile(regclass, text, text, text, jsonb)', 'EXECUTE'),
          'revoke_tuning() takes it back');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'pgmaint'::regnamespace
                       AND has_function_privilege('public', p.oid, 'EXECUTE')),
          'no pgmaint function is executable by PUBLIC');

-- never suggests for system catalogs or tables of extensions
CREATE TABLE pgm_tap_ext_owned (id int);
ALTER EXTENSION pgtap ADD TABLE pgm_tap_ext_owned;
SELECT is_empty($$
    SELECT table_name FROM pgmaint.recommend_profiles()
     WHERE schema_name IN ('pg_catalog', 'information_schema', 'pgmaint')
        OR table_name = 'pgm_tap_ext_owned'
$$, 'system catalogs and extension tables are not classified');
SELECT ok(EXISTS (SELECT 1 FROM pgmaint.recommend_profiles() WHERE table_name = 'pgm_tap_t'),
          'user tables are');
ALTER EXTENSION pgtap DROP TABLE pgm_tap_ext_owned;

SELECT * FROM finish();
ROLLBACK;

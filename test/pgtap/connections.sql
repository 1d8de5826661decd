-- pgTAP: the connections API contract, its privileges and argument checks
BEGIN;
SELECT plan(24);

SELECT has_function('pgmaint', 'connections', ARRAY[]::text[], 'connections() exists');
SELECT has_function('pgmaint', 'connection_leaks', ARRAY['interval'], 'connection_leaks(interval) exists');
SELECT has_function('pgmaint', 'terminate_leaks', ARRAY['interval', 'boolean'], 'terminate_leaks(interval, boolean) exists');
SELECT has_function('pgmaint', 'long_running_queries', ARRAY['interval'], 'long_running_queries(interval) exists');
SELECT has_function('pgmaint', 'blocking_locks', ARRAY[]::text[], 'blocking_locks() exists');
SELECT has_function('pgmaint', 'connection_budget', ARRAY['integer', 'integer', 'integer', 'integer', 'integer'],
                    'connection_budget(integer, integer, integer, integer, integer) exists');

SELECT ok(bool_and(has_function_privilege('pg_monitor', p, 'EXECUTE')),
          'pg_monitor may call every read function')
  FROM unnest(ARRAY['pgmaint.connections()', 'pgmaint.connection_leaks(interval)',
                    'pgmaint.long_running_queries(interval)', 'pgmaint.blocking_locks()',
                    'pgmaint.connection_budget(integer, integer, integer, integer, integer)']) p;
SELECT ok(NOT has_function_privilege('public', 'pgmaint.terminate_leaks(interval, boolean)', 'EXECUTE'),
          'terminate_leaks is revoked from PUBLIC');
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint.terminate_leaks(interval, boolean)', 'EXECUTE'),
          'pg_monitor alone may not terminate sessions');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'pgmaint.terminate_leaks(interval, boolean)'::regprocedure),
          false, 'terminate_leaks runs with the caller''s rights (not SECURITY DEFINER)');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'pgmaint'::regnamespace
       AND p.proname IN ('connections', 'connection_leaks', 'terminate_leaks', 'long_running_queries',
                         'blocking_locks', 'connection_budget', '_require_interval', '_require_count')
       AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
$$, 'every connections function pins search_path');

SELECT throws_ok($$SELECT * FROM pgmaint.terminate_leaks(NULL)$$, '22023', NULL, 'terminate_leaks(NULL) raises 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.terminate_leaks('-1 s', false)$$, '22023', NULL,
                 'terminate_leaks with a negative interval raises 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.terminate_leaks('1 min', NULL)$$, '22023', NULL,
                 'terminate_leaks with a NULL dry_run raises 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.connection_leaks('0')$$, '22023', NULL, 'connection_leaks(0) raises 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.long_running_queries(NULL)$$, '22023', NULL,
                 'long_running_queries(NULL) raises 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.connection_budget(-1)$$, '22023', NULL, 'a negative pool size raises 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.connection_budget(5, 10, 0)$$, '22023', NULL, 'zero instances raise 22023');
SELECT throws_ok($$SELECT * FROM pgmaint.connection_budget(5, 10, 1, 10001)$$, '22023', NULL,
                 'more than 10,000 connections raise 22023');

SELECT results_eq($$SELECT value FROM pgmaint.connection_budget()
                     WHERE item IN ('planned connections', 'usable connections') ORDER BY item$$,
                  ARRAY[20, current_setting('max_connections')::int
                            - current_setting('superuser_reserved_connections')::int]::numeric[],
                  'the guide''s budget: 5 + 10 + 5 = 20 planned, max_connections - reserved usable');

-- a role granted terminate_leaks alone (no right on pgmaint._audit) may call it
CREATE ROLE pgm_conn_tap_ops;
GRANT USAGE ON SCHEMA pgmaint TO pgm_conn_tap_ops;
GRANT EXECUTE ON FUNCTION pgmaint.terminate_leaks(interval, boolean) TO pgm_conn_tap_ops;
SET LOCAL ROLE pgm_conn_tap_ops;
SELECT lives_ok($$SELECT * FROM pgmaint.terminate_leaks('1 day', false)$$,
                'a grantee of terminate_leaks may call it');
SELECT throws_ok($$SELECT pgmaint._audit('forged', NULL, '{}', false)$$, '42501', NULL,
                 'but may not write audit rows of its own');
RESET ROLE;

SELECT is((SELECT count(*)::int FROM pgmaint.connections() c
            WHERE c.datname = current_database() AND c.state = 'active'), 0,
          'connections() leaves out the caller''s own session');
SELECT is((SELECT count(*)::int FROM pgmaint.blocking_locks()), 0, 'nothing blocks in an idle cluster');

SELECT * FROM finish();
ROLLBACK;

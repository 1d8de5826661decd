-- pgTAP: the settings_advice() and config_audit() contract, privileges and errors
BEGIN;
SELECT plan(21);

SELECT has_function('pgmaint', 'settings_advice', ARRAY['integer', 'integer', 'text', 'integer'],
                    'settings_advice(ram_mb, cpus, storage, max_connections) exists');
SELECT has_function('pgmaint', 'config_audit', ARRAY[]::text[], 'config_audit() exists');
SELECT has_function('pgmaint', 'detected_resources', ARRAY[]::text[], 'detected_resources() exists');

SELECT is(
    (SELECT array_agg(a.attname::text ORDER BY a.attnum)
       FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a (attname, mode, attnum)
      WHERE p.oid = 'pgmaint.settings_advice(integer, integer, text, integer)'::regprocedure
        AND a.mode = 't'),
    ARRAY['name', 'current', 'recommended', 'unit', 'status', 'reason', 'fix'],
    'settings_advice() returns the columns of the issue');
SELECT is(
    (SELECT array_agg(a.attname::text ORDER BY a.attnum)
       FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a (attname, mode, attnum)
      WHERE p.oid = 'pgmaint.config_audit()'::regprocedure AND a.mode = 't'),
    ARRAY['check_name', 'status', 'detail', 'fix'],
    'config_audit() returns check_name, status, detail, fix');

-- the guide's table for a 2 GB droplet
SELECT set_eq(
    $$SELECT name, recommended FROM pgmaint.settings_advice(2048, 1)
       WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem',
                      'maintenance_work_mem', 'max_connections')$$,
    $$VALUES ('shared_buffers', '512MB'), ('effective_cache_size', '1024MB'), ('work_mem', '8MB'),
             ('maintenance_work_mem', '64MB'), ('max_connections', '50')$$,
    '2 GB gives the guide''s table');

-- every setting the issue names has a row
SELECT is_empty(
    $$SELECT n FROM unnest(ARRAY['shared_buffers', 'effective_cache_size', 'work_mem',
            'maintenance_work_mem', 'max_connections', 'wal_buffers', 'checkpoint_completion_target',
            'min_wal_size', 'max_wal_size', 'random_page_cost', 'effective_io_concurrency',
            'autovacuum_max_workers', 'autovacuum_naptime', 'statement_timeout', 'lock_timeout',
            'idle_in_transaction_session_timeout', 'log_checkpoints', 'log_connections',
            'log_disconnections', 'log_lock_waits', 'log_temp_files', 'log_autovacuum_min_duration',
            'memory_risk', '/dev/shm']) AS n
      EXCEPT SELECT name FROM pgmaint.settings_advice(1024, 1)$$,
    'every setting of the issue and the guide is advised');
SELECT is_empty(
    $$SELECT name, status FROM pgmaint.settings_advice(1024, 1)
       WHERE status NOT IN ('ok', 'differs', 'risky', 'unknown')$$,
    'statuses are ok, differs or risky (unknown only when /dev/shm cannot be measured)');

-- bad input
SELECT throws_ok($$SELECT * FROM pgmaint.settings_advice(100)$$, '22023', NULL, 'ram_mb below 256 is rejected');
SELECT throws_ok($$SELECT * FROM pgmaint.settings_advice(20000000)$$, '22023', NULL, 'ram_mb above 16 TB is rejected');
SELECT throws_ok($$SELECT * FROM pgmaint.settings_advice(1024, -1)$$, '22023', NULL, 'cpus below 1 is rejected');
SELECT throws_ok($$SELECT * FROM pgmaint.settings_advice(1024, 1, 'floppy')$$, '22023', NULL, 'unknown storage is rejected');
SELECT throws_ok($$SELECT * FROM pgmaint.settings_advice(1024, 1, 'ssd', 0)$$, '22023', NULL, 'max_connections below 5 is rejected');
SELECT throws_ok($$SELECT * FROM pgmaint._advice(1024, 'x', 1, 'x', 'ssd', 1, NULL, 'x')$$, '22023', NULL,
                 'the internal advice checks its input too');

-- privileges
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.settings_advice(integer, integer, text, integer)', 'EXECUTE'),
          'pg_monitor may call settings_advice()');
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.config_audit()', 'EXECUTE'),
          'pg_monitor may call config_audit()');
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.detected_resources()', 'EXECUTE'),
          'pg_monitor may call detected_resources()');
SELECT ok(NOT has_function_privilege('public', 'pgmaint._detect_resources(text)', 'EXECUTE'),
          'PUBLIC may not point the detection at other files');
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint._detect_resources(text)', 'EXECUTE'),
          'pg_monitor may not point the detection at other files either');
SELECT ok(NOT has_function_privilege('public', 'pgmaint.config_audit()', 'EXECUTE'),
          'PUBLIC may not read the audit');

-- every function of this concern pins search_path
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'pgmaint'::regnamespace
         AND p.proname IN ('settings_advice', 'config_audit', '_advice', '_size_text', '_ms_text',
                           '_unit_factor', '_listens_everywhere')
         AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'settings functions pin search_path');

SELECT * FROM finish();
ROLLBACK;

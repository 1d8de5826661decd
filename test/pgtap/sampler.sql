-- pgTAP: the sampler's SQL contract, privileges and errors
BEGIN;
SELECT plan(23);

SELECT has_function('pgmaint', 'samples', ARRAY['timestamp with time zone'], 'samples(since) exists');
SELECT has_function('pgmaint', 'sampler_status', ARRAY[]::text[], 'sampler_status() exists');
SELECT has_table('pgmaint', 'sample_history', 'sample_history table exists');
SELECT col_is_pk('pgmaint', 'sample_history', 'sampled_at', 'sample_history is keyed by sampled_at');

-- the columns other parts of pgmaint code against, with their types
SELECT is_empty($$
    SELECT unnest(ARRAY['sampled_at timestamp with time zone', 'interval_seconds double precision',
              'client_backends integer', 'active integer', 'idle integer',
              'idle_in_transaction integer', 'idle_in_transaction_aborted integer',
              'waiting_on_lock integer', 'longest_xact_age interval',
              'longest_idle_in_transaction_age interval', 'xact_commit bigint',
              'xact_rollback bigint', 'blks_read bigint', 'blks_hit bigint',
              'tup_inserted bigint', 'tup_updated bigint', 'tup_deleted bigint',
              'deadlocks bigint', 'temp_bytes bigint', 'live_tuples bigint',
              'dead_tuples bigint', 'datfrozenxid_age bigint',
              'commits_per_sec double precision', 'rollbacks_per_sec double precision',
              'cache_hit_ratio numeric', 'dead_tuples_delta bigint'])
    EXCEPT
    SELECT p.name || ' ' || p.type FROM pg_proc f,
                 LATERAL unnest(f.proargnames, f.proargmodes::text[],
                                ARRAY(SELECT format_type(t, NULL) FROM unnest(f.proallargtypes) t)) AS p(name, mode, type)
           WHERE f.oid = 'pgmaint.samples(timestamptz)'::regprocedure AND p.mode = 'o'$$,
    'samples() has every column of the contract');
SELECT is_empty($$
    SELECT unnest(ARRAY['running boolean', 'pid integer', 'database text',
              'started_at timestamp with time zone', 'last_sample_at timestamp with time zone',
              'samples_taken bigint', 'last_error text', 'sample_interval interval',
              'policy text', 'in_recovery boolean'])
    EXCEPT
    SELECT p.name || ' ' || p.type FROM pg_proc f,
                 LATERAL unnest(f.proargnames, f.proargmodes::text[],
                                ARRAY(SELECT format_type(t, NULL) FROM unnest(f.proallargtypes) t)) AS p(name, mode, type)
           WHERE f.oid = 'pgmaint.sampler_status()'::regprocedure AND p.mode = 'o'$$,
    'sampler_status() has every column of the contract');

SELECT is((SELECT count(*)::int FROM pgmaint.sampler_status()), 1, 'sampler_status() returns one row');
SELECT is((SELECT policy FROM pgmaint.sampler_status()), current_setting('pgmaint.policy'),
          'sampler_status() reports pgmaint.policy');
SELECT is((SELECT in_recovery FROM pgmaint.sampler_status()), pg_is_in_recovery(),
          'sampler_status() reports recovery');
SELECT ok((SELECT ring_bytes <= 1024 * 1024 FROM pgmaint.sampler_status()),
          'the ring takes at most 1 MB at the default history size');

SELECT throws_ok('SELECT pgmaint._request_samples(0)', '22023', NULL,
                 '_request_samples() rejects a count below 1');
SELECT throws_ok('SELECT pgmaint._request_samples(1000000)', '22023', NULL,
                 '_request_samples() rejects a count above 100000');

-- privileges
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.samples(timestamptz)', 'EXECUTE'),
          'pg_monitor may call samples()');
SELECT ok(has_function_privilege('pg_monitor', 'pgmaint.sampler_status()', 'EXECUTE'),
          'pg_monitor may call sampler_status()');
SELECT ok(has_table_privilege('pg_monitor', 'pgmaint.sample_history', 'SELECT'),
          'pg_monitor may read sample_history');
SELECT ok(NOT has_function_privilege('public', 'pgmaint._request_samples(integer)', 'EXECUTE'),
          'PUBLIC may not request samples');
SELECT ok(NOT has_function_privilege('pg_monitor', 'pgmaint._request_samples(integer)', 'EXECUTE'),
          'pg_monitor may not request samples');
SELECT ok(NOT has_table_privilege('pg_monitor', 'pgmaint.sample_history', 'INSERT'),
          'pg_monitor may not write sample_history');

-- kept out of dumps; functions pin their search_path
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_extension
                       WHERE extname = 'pgmaint'
                         AND 'pgmaint.sample_history'::regclass = ANY (extconfig)),
          'sample_history is not dumped by pg_dump');
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc
            WHERE oid = 'pgmaint.samples(timestamptz)'::regprocedure),
          'samples() pins its search_path');

-- the sampler check and its threshold
SELECT is((SELECT warning FROM pgmaint.thresholds WHERE check_name = 'sampler'), 3::numeric,
          'a heartbeat older than 3 intervals is a warning');
SELECT is((SELECT count(*)::int FROM pgmaint.health_checks() WHERE check_name = 'sampler'), 1,
          'health_checks() has the sampler check');
SELECT ok((SELECT (pgmaint.health()->'sampler') ?& ARRAY['running', 'pid', 'last_sample_at', 'last_error', 'preloaded']),
          'health()''s sampler section carries the worker status');

SELECT * FROM finish();
ROLLBACK;

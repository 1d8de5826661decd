--
-- Connections: the pool budget arithmetic, argument checking, privileges.
-- (Live sessions are covered by test/integration/connections_*.sh.)
--
\set SHOW_CONTEXT never
-- the memory estimate depends on these
SET work_mem = '4MB';
SET hash_mem_multiplier = 2;
SET maintenance_work_mem = '64MB';

-- The guide: 5 app pool + 10 overflow + 5 system = 20 of max_connections = 50,
-- of which 47 are usable with superuser_reserved_connections = 3.
SELECT current_setting('max_connections') AS max_connections,
       current_setting('superuser_reserved_connections') AS reserved;
SELECT item, value, verdict FROM pgmaint.connection_budget()
 WHERE item IN ('planned connections', 'max_connections', 'superuser_reserved_connections',
                'usable connections', 'headroom', 'work_mem per connection (MB)', 'advice');
SELECT item, value FROM pgmaint.connection_budget()
 WHERE item = 'memory estimate (MB)';
SELECT value = (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')
       AS counts_client_backends
  FROM pgmaint.connection_budget() WHERE item = 'client connections now';
-- the peak comes from the sampler (volatile here): a value, or NULL and why
SELECT (value IS NULL) = (verdict LIKE 'unknown: %') AS peak_or_reason
  FROM pgmaint.connection_budget() WHERE item = 'peak client connections';
SELECT array_agg(item ORDER BY ord) AS items
  FROM pgmaint.connection_budget() WITH ORDINALITY AS b(item, value, verdict, ord);

-- tighter plans
SELECT item, value, verdict FROM pgmaint.connection_budget(20, 15, 1, 5)
 WHERE item IN ('planned connections', 'advice');
SELECT item, value, verdict FROM pgmaint.connection_budget(pool_size => 10, max_overflow => 20, instances => 2)
 WHERE item IN ('planned connections', 'headroom', 'advice');
SELECT value FROM pgmaint.connection_budget(5000, 4995, 1, 5) WHERE item = 'planned connections';

-- bad input: SQLSTATE, message and hint
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' ' || SQLERRM || ' / ' || coalesce(hint, '(no hint)');
END
$$;

SELECT s AS call, pg_temp.error_of(s) AS error FROM (VALUES
    ('SELECT * FROM pgmaint.connection_budget(NULL)'),
    ('SELECT * FROM pgmaint.connection_budget(0)'),
    ('SELECT * FROM pgmaint.connection_budget(-5)'),
    ('SELECT * FROM pgmaint.connection_budget(5, -1)'),
    ('SELECT * FROM pgmaint.connection_budget(5, NULL)'),
    ('SELECT * FROM pgmaint.connection_budget(5, 10, 0)'),
    ('SELECT * FROM pgmaint.connection_budget(5, 10, -2)'),
    ('SELECT * FROM pgmaint.connection_budget(5, 10, 1, -1)'),
    ('SELECT * FROM pgmaint.connection_budget(5, 10, 1, NULL)'),
    ('SELECT * FROM pgmaint.connection_budget(10001)'),
    ('SELECT * FROM pgmaint.connection_budget(5, 10, 20000)'),
    ('SELECT * FROM pgmaint.connection_budget(5000, 5000, 1, 5)'),
    ('SELECT * FROM pgmaint.connection_budget(100, 100, 100)'),
    ('SELECT * FROM pgmaint.connection_leaks(NULL)'),
    ('SELECT * FROM pgmaint.connection_leaks(''0 s'')'),
    ('SELECT * FROM pgmaint.connection_leaks(''-5 min'')'),
    ('SELECT * FROM pgmaint.long_running_queries(NULL)'),
    ('SELECT * FROM pgmaint.long_running_queries(''0'')'),
    ('SELECT * FROM pgmaint.long_running_queries(''-1 day'')'),
    ('SELECT * FROM pgmaint.terminate_leaks(NULL)'),
    ('SELECT * FROM pgmaint.terminate_leaks(''0 s'', true)'),
    ('SELECT * FROM pgmaint.terminate_leaks(''-1 min'', false)'),
    ('SELECT * FROM pgmaint.terminate_leaks(''5 min'', NULL)')
) AS c(s);

-- nothing in this database has been idle in a transaction for a day
SELECT count(*) FROM pgmaint.connection_leaks('1 day');
SELECT count(*) FROM pgmaint.long_running_queries('1 day');
SELECT count(*) FROM pgmaint.terminate_leaks('1 day');
SELECT count(*) FROM pgmaint.terminate_leaks('1 day', false);
-- the caller's own session never shows in connections()
SELECT count(*) FROM pgmaint.connections()
 WHERE datname = current_database() AND state = 'active';

-- the columns of the contract, in order
SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmaint'::regnamespace
   AND p.proname IN ('connections', 'connection_leaks', 'terminate_leaks',
                     'long_running_queries', 'blocking_locks', 'connection_budget')
 ORDER BY p.proname;

-- read functions for pg_monitor; terminate_leaks only by explicit grant
SELECT p.oid::regprocedure AS function,
       has_function_privilege('pg_monitor', p.oid, 'EXECUTE') AS pg_monitor,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmaint'::regnamespace
   AND p.proname IN ('connections', 'connection_leaks', 'terminate_leaks',
                     'long_running_queries', 'blocking_locks', 'connection_budget')
 ORDER BY 1::text;

-- every terminate_leaks() call may write audit rows: not in a read-only transaction
BEGIN TRANSACTION READ ONLY;
SELECT * FROM pgmaint.terminate_leaks('1 day');
ROLLBACK;

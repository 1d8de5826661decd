-- Connections: sessions by state, leaked transactions and their safe
-- termination, long-running statements, lock chains, the pool budget.

-- Raises 22023 unless an interval argument is given and positive; the rule
-- is terminate_leaks()' own, written once in src/backends.c.
CREATE OR REPLACE FUNCTION pgmaint._require_interval(name text, value interval)
RETURNS void
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_require_interval';

COMMENT ON FUNCTION pgmaint._require_interval(text, interval) IS
'Internal: raises invalid_parameter_value (22023) unless the named interval argument is positive and not NULL.';

REVOKE ALL ON FUNCTION pgmaint._require_interval(text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._require_interval(text, interval) TO pg_monitor;

-- Raises 22023 unless a count argument is given and between lowest and 10,000.
CREATE OR REPLACE FUNCTION pgmaint._require_count(name text, value integer, lowest integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '"%" must not be NULL', name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Pass a whole number from %s to 10000.', lowest);
    END IF;
    IF value < lowest OR value > 10000 THEN
        RAISE EXCEPTION '"%" must be between % and 10000', name, lowest
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value given was %s.', value),
                  HINT = CASE WHEN value > 10000
                              THEN 'No PostgreSQL server serves that many connections; check the unit of the value.'
                              WHEN name = 'pool_size'
                              THEN 'A pool needs at least one connection (SQLAlchemy''s pool_size = 0 means no limit, which no budget can hold).'
                              ELSE format('Pass a whole number from %s to 10000.', lowest) END;
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint._require_count(text, integer, integer) IS
'Internal: raises invalid_parameter_value (22023) unless the named count argument is not NULL and between lowest and 10000.';

REVOKE ALL ON FUNCTION pgmaint._require_count(text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._require_count(text, integer, integer) TO pg_monitor;

-- The leak rule (idle in a transaction, or an aborted one, since before
-- now - idle_for), written once in src/backends.c: terminate_leaks(), the
-- worker's sweep, connection_leaks() and the idle_in_transaction check use it.
CREATE OR REPLACE FUNCTION pgmaint._leaked(state text, state_change timestamptz, idle_for interval)
RETURNS boolean
LANGUAGE c VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_leaked';

COMMENT ON FUNCTION pgmaint._leaked(text, timestamptz, interval) IS
'Internal: true when a pg_stat_activity row (state, state_change) is idle in a transaction, or an aborted one, since before now - idle_for; false for NULLs.';

REVOKE ALL ON FUNCTION pgmaint._leaked(text, timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._leaked(text, timestamptz, interval) TO pg_monitor;

-- Connection slots a client without special roles can use: max_connections
-- less superuser_reserved_connections and, from PostgreSQL 16 on,
-- reserved_connections (src/backends.c: the connections check reads it
-- there).  checklist() and connection_budget() use it.
CREATE OR REPLACE FUNCTION pgmaint._usable_connections()
RETURNS integer
LANGUAGE c STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_usable_connections';

COMMENT ON FUNCTION pgmaint._usable_connections() IS
'Internal: max_connections - superuser_reserved_connections (- reserved_connections on PostgreSQL 16 and later): the slots an application role can use.';

REVOKE ALL ON FUNCTION pgmaint._usable_connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._usable_connections() TO pg_monitor;

-- Client sessions per database and state.  The read functions are PL/pgSQL
-- so that their plans are cached (a SQL function with SET is planned anew on
-- every call, several milliseconds for the pg_stat_activity view).
CREATE OR REPLACE FUNCTION pgmaint.connections(
    OUT datname name, OUT state text, OUT count bigint,
    OUT max_duration interval, OUT oldest_xact_age interval)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now)
    SELECT a.datname, a.state, count(*),
           max(t.now - a.state_change), max(t.now - a.xact_start)
      FROM pg_catalog.pg_stat_activity a, t
     WHERE a.backend_type = 'client backend'
       AND a.pid <> pg_catalog.pg_backend_pid()
     GROUP BY a.datname, a.state
     ORDER BY a.datname, a.state;
END
$$;

COMMENT ON FUNCTION pgmaint.connections() IS
'Client sessions (the caller''s own excluded) per database and state: how many, the longest time in that state, the oldest open transaction. state is NULL for other roles'' sessions unless the caller has pg_read_all_stats.';

REVOKE ALL ON FUNCTION pgmaint.connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.connections() TO pg_monitor;

-- Sessions idle in a transaction for longer than idle_for.  idle_for is
-- INOUT so that the argument and the column both carry the contract's name;
-- OUT parameters are not part of the signature, so the call is (idle_for).
CREATE OR REPLACE FUNCTION pgmaint.connection_leaks(
    OUT pid integer, OUT datname name, OUT usename name, OUT application_name text,
    OUT client_addr inet, OUT backend_start timestamptz, OUT xact_start timestamptz,
    INOUT idle_for interval DEFAULT '5 min',
    OUT xact_age interval, OUT query text, OUT blocking integer, OUT state text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    min_idle interval := idle_for;
BEGIN
    PERFORM pgmaint._require_interval('idle_for', min_idle);
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now),
    waiting AS (
        SELECT w.pid, pg_catalog.pg_blocking_pids(w.pid) AS blockers
          FROM (SELECT DISTINCT l.pid FROM pg_catalog.pg_locks l
                 WHERE NOT l.granted AND l.pid IS NOT NULL) w
    )
    SELECT a.pid, a.datname, a.usename, a.application_name, a.client_addr,
           a.backend_start, a.xact_start, t.now - a.state_change, t.now - a.xact_start, a.query,
           (SELECT count(*)::integer FROM waiting WHERE a.pid = ANY (waiting.blockers)),
           a.state
      FROM pg_catalog.pg_stat_activity a, t
     WHERE pgmaint._leaked(a.state, a.state_change, min_idle)
     ORDER BY a.state_change, a.pid;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_leaks(interval) IS
'Sessions idle in a transaction (or an aborted one) for longer than idle_for since their last state change, with the last statement and how many sessions wait on each.';

REVOKE ALL ON FUNCTION pgmaint.connection_leaks(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.connection_leaks(interval) TO pg_monitor;

-- Terminates (or, in a dry run, lists) leaked sessions; see src/backends.c.
CREATE OR REPLACE FUNCTION pgmaint.terminate_leaks(
    OUT pid integer, OUT usename name, OUT application_name text,
    INOUT idle_for interval DEFAULT '5 min', dry_run boolean DEFAULT true,
    OUT action text, OUT datname name)
RETURNS SETOF record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_terminate_leaks';

COMMENT ON FUNCTION pgmaint.terminate_leaks(interval, boolean) IS
'Terminates sessions idle in a transaction for longer than idle_for, with the caller''s own rights (dry_run, the default, terminates nothing). Never touches the caller''s session, other databases, non-client backends, pgmaint.leak_exclude applications, or superusers'' sessions unless the caller is one. One row per candidate; each termination or would-be termination is audited in pgmaint.actions.';

REVOKE ALL ON FUNCTION pgmaint.terminate_leaks(interval, boolean) FROM PUBLIC;

-- Active statements running for longer than min_duration.
CREATE OR REPLACE FUNCTION pgmaint.long_running_queries(
    min_duration interval DEFAULT '30 s',
    OUT pid integer, OUT usename name, OUT application_name text, OUT duration interval,
    OUT wait_event_type text, OUT wait_event text, OUT blocked_by integer[],
    OUT query text, OUT datname name)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    min_run interval := min_duration;
BEGIN
    PERFORM pgmaint._require_interval('min_duration', min_run);
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now)
    SELECT a.pid, a.usename, a.application_name, t.now - a.query_start,
           a.wait_event_type, a.wait_event, pg_catalog.pg_blocking_pids(a.pid),
           a.query, a.datname
      FROM pg_catalog.pg_stat_activity a, t
     WHERE a.state = 'active'
       AND a.backend_type = 'client backend'
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND a.query_start < t.now - min_run
     ORDER BY a.query_start, a.pid;
END
$$;

COMMENT ON FUNCTION pgmaint.long_running_queries(interval) IS
'Client statements active for longer than min_duration, with what they wait on and the pids that block them (pg_blocking_pids).';

REVOKE ALL ON FUNCTION pgmaint.long_running_queries(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.long_running_queries(interval) TO pg_monitor;

-- Every waiting session with each of its blockers.
CREATE OR REPLACE FUNCTION pgmaint.blocking_locks(
    OUT blocked_pid integer, OUT blocked_user name, OUT blocked_query text,
    OUT blocked_for interval, OUT blocking_pid integer, OUT blocking_user name,
    OUT blocking_query text, OUT blocking_state text, OUT lock_mode text,
    OUT relation text, OUT is_root_blocker boolean, OUT locktype text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now),
    waiting AS MATERIALIZED (
        SELECT l.pid, l.locktype, l.mode, l.relation, l.database, l.waitstart,
               pg_catalog.pg_blocking_pids(l.pid) AS blockers
          FROM pg_catalog.pg_locks l
         WHERE NOT l.granted AND l.pid IS NOT NULL
    )
    SELECT w.pid, wa.usename, wa.query,
           t.now - coalesce(w.waitstart, wa.query_start),
           b.pid, ba.usename, ba.query,
           CASE WHEN b.pid = 0 THEN 'prepared transaction' ELSE ba.state END,
           w.mode,
           CASE WHEN w.relation IS NULL THEN NULL
                WHEN w.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                    WHERE d.datname = pg_catalog.current_database())
                     OR w.database = 0
                THEN w.relation::pg_catalog.regclass::text
                ELSE format('%s (in database %s)', w.relation,
                            (SELECT d.datname FROM pg_catalog.pg_database d
                              WHERE d.oid = w.database)) END,
           NOT EXISTS (SELECT 1 FROM waiting w2
                        WHERE w2.pid = b.pid AND cardinality(w2.blockers) > 0),
           w.locktype
      FROM waiting w
     CROSS JOIN LATERAL (SELECT DISTINCT u.pid FROM unnest(w.blockers) AS u(pid)) b
      LEFT JOIN pg_catalog.pg_stat_activity wa ON wa.pid = w.pid
      LEFT JOIN pg_catalog.pg_stat_activity ba ON ba.pid = b.pid
     CROSS JOIN t
     ORDER BY 4 DESC, 1, 5;
END
$$;

COMMENT ON FUNCTION pgmaint.blocking_locks() IS
'Every waiting session paired with each session that blocks it (pg_blocking_pids, so relation, transaction-id and advisory locks are all matched correctly); is_root_blocker marks a blocker that waits on nobody.';

REVOKE ALL ON FUNCTION pgmaint.blocking_locks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.blocking_locks() TO pg_monitor;

-- The guide's pool arithmetic against this server's limits.
CREATE OR REPLACE FUNCTION pgmaint.connection_budget(
    pool_size integer DEFAULT 5, max_overflow integer DEFAULT 10,
    instances integer DEFAULT 1, reserve integer DEFAULT 5,
    pooler_pool_size integer DEFAULT NULL,
    OUT item text, OUT value numeric, OUT verdict text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    max_conn    integer := current_setting('max_connections')::integer;
    su_reserved integer := current_setting('superuser_reserved_connections')::integer;
    usable      integer := pgmaint._usable_connections();
    -- reserved_connections (PostgreSQL 16 and later): what else _usable_connections() keeps
    reserved    integer := max_conn - su_reserved - usable;
    planned     bigint;
    clients     bigint;
    share       numeric;
    now_used    bigint;
    work_mem_kb numeric;
    hash_mult   numeric;
    maint_kb    numeric;
    av_workers  integer;
    per_conn_mb numeric;
    memory_mb   numeric;
    advice      text[] := '{}';
    running     boolean := false;
    peak        integer;
    ring_peak   integer;
    peak_since  timestamptz;
    ring_since  timestamptz;
    sampler_error text;
BEGIN
    PERFORM pgmaint._require_count('pool_size', pool_size, 1);
    PERFORM pgmaint._require_count('max_overflow', max_overflow, 0);
    PERFORM pgmaint._require_count('instances', instances, 1);
    PERFORM pgmaint._require_count('reserve', reserve, 0);
    IF pooler_pool_size IS NOT NULL THEN
        PERFORM pgmaint._require_count('pooler_pool_size', pooler_pool_size, 1);
    END IF;
    clients := (pool_size::bigint + max_overflow) * instances;
    -- behind a pooler the application's pools connect to the pooler, and the
    -- server sees only the pooler's default_pool_size connections
    planned := coalesce(pooler_pool_size, clients) + reserve;
    IF planned > 10000 THEN
        RAISE EXCEPTION 'planned connections (%) exceed 10000', planned
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN pooler_pool_size IS NULL
                                THEN format('(%s + %s) * %s + %s = %s.', pool_size, max_overflow,
                                            instances, reserve, planned)
                                ELSE format('%s + %s = %s.', pooler_pool_size, reserve, planned) END,
                  HINT = 'No PostgreSQL server serves that many connections: put a pooler such as PgBouncer in front, or plan smaller pools.';
    END IF;

    share := round(100.0 * planned / greatest(usable, 1));
    SELECT count(*) INTO now_used FROM pg_catalog.pg_stat_activity a
     WHERE a.backend_type = 'client backend';

    -- the peak the sampler saw: its persisted history and its ring (which a
    -- standby has too); without the worker, or without preloading, no peak,
    -- and never an error from here
    SELECT max(h.client_backends), min(h.sampled_at) INTO peak, peak_since
      FROM pgmaint.sample_history h;
    BEGIN
        SELECT st.running INTO running FROM pgmaint.sampler_status() st;
        SELECT max(r.client_backends), min(r.sampled_at) INTO ring_peak, ring_since
          FROM pgmaint.samples(NULL) r;
        peak := greatest(peak, ring_peak);
        peak_since := least(peak_since, ring_since);
    EXCEPTION
        WHEN object_not_in_prerequisite_state THEN
            running := false;
        WHEN OTHERS THEN
            running := false;
            sampler_error := SQLERRM;
    END;

    work_mem_kb := pg_size_bytes(current_setting('work_mem')) / 1024;
    hash_mult := current_setting('hash_mem_multiplier')::numeric;
    maint_kb := pg_size_bytes(CASE WHEN current_setting('autovacuum_work_mem') = '-1'
                                   THEN current_setting('maintenance_work_mem')
                                   ELSE current_setting('autovacuum_work_mem') END) / 1024;
    av_workers := current_setting('autovacuum_max_workers')::integer;
    per_conn_mb := round(work_mem_kb * coalesce(hash_mult, 1) / 1024, 1);
    memory_mb := round((planned * work_mem_kb * coalesce(hash_mult, 1) + av_workers * maint_kb) / 1024);

    item := 'planned connections';
    value := planned;
    verdict := CASE WHEN pooler_pool_size IS NULL
                    THEN format('(%s + %s) * %s + %s = %s', pool_size, max_overflow, instances,
                                reserve, planned)
                    ELSE format('pooler default_pool_size %s + %s = %s', pooler_pool_size,
                                reserve, planned) END
               || format(', %s%% of %s usable: %s', share, usable,
                         CASE WHEN planned > usable THEN 'over budget'
                              WHEN share > 80 THEN 'tight'
                              ELSE 'fits' END);
    RETURN NEXT;

    IF pooler_pool_size IS NOT NULL THEN
        item := 'pooler clients';
        value := clients;
        verdict := format('(%s + %s) * %s = %s application connections to the pooler share its %s server connections; in transaction mode no session state (SET, LISTEN, prepared statements) survives a transaction: asyncpg needs statement_cache_size=0',
                          pool_size, max_overflow, instances, clients, pooler_pool_size);
        RETURN NEXT;
    END IF;

    item := 'max_connections';
    value := max_conn;
    verdict := 'server setting (restart to change)';
    RETURN NEXT;

    item := 'superuser_reserved_connections';
    value := su_reserved + reserved;
    verdict := CASE WHEN reserved > 0
                    THEN format('%s for superusers and %s for pg_use_reserved_connections', su_reserved, reserved)
                    ELSE 'kept free for superusers' END;
    RETURN NEXT;

    item := 'usable connections';
    value := usable;
    verdict := 'max_connections - superuser_reserved_connections'
               || CASE WHEN reserved > 0 THEN ' - reserved_connections' ELSE '' END
               || ': what the application can open';
    RETURN NEXT;

    item := 'headroom';
    value := usable - planned;
    verdict := CASE WHEN planned > usable
                    THEN format('%s connections short: the last ones fail with "remaining connection slots are reserved"', planned - usable)
                    ELSE format('%s slots left for psql, cron jobs, migrations and another instance', usable - planned) END;
    RETURN NEXT;

    item := 'client connections now';
    value := now_used;
    verdict := format('%s%% of usable', round(100.0 * now_used / greatest(usable, 1)));
    RETURN NEXT;

    item := 'peak client connections';
    value := peak;
    verdict := CASE
        WHEN peak IS NULL AND sampler_error IS NOT NULL
            THEN format('unknown: the sampler cannot be read (%s)', sampler_error)
        WHEN peak IS NULL AND NOT pgmaint.preloaded()
            THEN 'unknown: the sampler is not running (pgmaint is not in shared_preload_libraries)'
        WHEN peak IS NULL AND NOT coalesce(running, false)
            THEN 'unknown: the sampler is not running'
        WHEN peak IS NULL
            THEN 'unknown: the sampler has no sample yet'
        ELSE format('the most the sampler saw since %s, %s%% of usable%s%s',
                    date_trunc('second', peak_since),
                    round(100.0 * peak / greatest(usable, 1)),
                    CASE WHEN peak > planned
                         THEN ': more than planned, other clients (psql, cron, migrations, another instance) connect too'
                         ELSE '' END,
                    CASE WHEN NOT coalesce(running, false)
                         THEN '; the sampler is not running now' ELSE '' END)
    END;
    RETURN NEXT;

    item := 'work_mem per connection (MB)';
    value := per_conn_mb;
    verdict := format('work_mem %s * hash_mem_multiplier %s: one sort or hash step; a query with several uses a multiple',
                      current_setting('work_mem'), coalesce(hash_mult, 1));
    RETURN NEXT;

    item := 'memory estimate (MB)';
    value := memory_mb;
    verdict := format('%s connections * %s MB + %s autovacuum workers * %s MB maintenance memory, on top of shared_buffers %s',
                      planned, per_conn_mb, av_workers, round(maint_kb / 1024),
                      current_setting('shared_buffers'));
    RETURN NEXT;

    IF planned > usable THEN
        advice := array_append(advice, format('lower %s, or raise max_connections to at least %s',
                                   CASE WHEN pooler_pool_size IS NULL THEN 'pool_size or max_overflow'
                                        ELSE 'the pooler''s default_pool_size' END,
                                   planned + su_reserved + reserved));
    ELSIF share > 80 THEN
        advice := array_append(advice, 'little headroom: a second instance or a deploy overlap will run out of connections');
    END IF;
    IF instances > 1 AND planned > usable AND pooler_pool_size IS NULL THEN
        advice := array_append(advice, 'with several instances, a pooler such as PgBouncer keeps server connections constant');
    END IF;
    item := 'advice';
    value := NULL;
    verdict := CASE WHEN cardinality(advice) = 0 THEN 'the plan fits this server'
                    ELSE array_to_string(advice, '; ') END;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer, integer) IS
'The pool arithmetic of the guide against this server: planned connections (pool_size + max_overflow) * instances + reserve, or behind a pooler its default_pool_size (pooler_pool_size) + reserve, usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later), current use, the peak the sampler saw (NULL when it is not running), a memory estimate, and advice.';

REVOKE ALL ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer, integer) TO pg_monitor;

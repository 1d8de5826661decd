-- health(): one summary of the server's health, built from health_checks().
-- PL/pgSQL throughout, so that a session plans each query once (see 80-checks.sql).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('connections', 80, 95,
     'Client connections in use, in % of usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later).'),
    ('idle_in_transaction', 60, 300,
     'Age in seconds of the oldest session idle in a transaction (a leaked connection holds locks and blocks vacuum; the guide''s limit is 5 minutes).'),
    ('cache_hit', 95, 90,
     'Buffer cache hit ratio of this database, in %: over the last hour when the sampler watches this database, else since the statistics reset (the guide: should be above 95%).'),
    ('sampler', 3, NULL,
     'Sample intervals since the background worker''s last heartbeat: a stale heartbeat or a stopped worker turns it to warning; unknown when pgmaint is not preloaded.'),
    ('backup', 1, 2,
     'Backups recorded by pgmaint_backup: 0 ok, 1 no verified backup newer than pgmaint.backup_max_age (or none at all), 2 the last backup or the last restore drill failed.'),
    ('archiver', 1, NULL,
     'WAL archiving: 1 when the newest archiving attempt in pg_stat_archiver failed, 0 otherwise (and with archive_mode off).');

-- The measured value, message and hint of every check, before grading.
CREATE FUNCTION pgmaint._measure_checks(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH activity AS (
            SELECT a.backend_type, a.state, a.state_change, a.pid
              FROM pg_catalog.pg_stat_activity a
        ),
        slots AS (
            SELECT pgmaint._usable_connections() AS usable
        ),
        conn AS (
            SELECT count(*) FILTER (WHERE backend_type = 'client backend') AS used
              FROM activity
        ),
        idle AS (
            SELECT count(*) AS n,
                   max(extract(epoch FROM clock_timestamp() - state_change)) AS oldest,
                   (array_agg(pid ORDER BY state_change))[1] AS oldest_pid
              FROM activity
             WHERE pgmaint._leaked(state, state_change, interval '0')
        ),
        can_see AS (
            SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS all_stats
        ),
        hour AS (
            SELECT h.hits, h.reads, coalesce(h.hits + h.reads, 0) > 0 AS usable
              FROM pgmaint._cache_hit_last_hour() h
        ),
        cache AS (
            SELECT CASE WHEN hour.usable THEN hour.hits ELSE d.blks_hit END AS blks_hit,
                   CASE WHEN hour.usable THEN hour.reads ELSE d.blks_read END AS blks_read,
                   CASE WHEN hour.usable THEN 'in the last hour' ELSE 'since the statistics reset' END AS basis
              FROM pg_catalog.pg_stat_database d, hour
             WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                               WHERE datname = current_database())
        )
        SELECT 'connections',
               round(100.0 * conn.used / greatest(slots.usable, 1), 1),
               format('%s of %s usable connections in use', conn.used, slots.usable),
               'See who holds the connections in pgmaint.connections() and pgmaint.connection_leaks(); size the pools with pgmaint.connection_budget().'
          FROM conn, slots
        UNION ALL
        SELECT 'idle_in_transaction',
               CASE WHEN NOT can_see.all_stats THEN NULL
                    ELSE round(coalesce(idle.oldest, 0)::numeric, 1) END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'cannot see other roles'' sessions: the caller lacks pg_read_all_stats'
                    WHEN idle.n = 0 THEN 'no session is idle in a transaction'
                    ELSE format('%s session(s) idle in a transaction, the oldest (pid %s) for %s',
                                idle.n, idle.oldest_pid,
                                date_trunc('second', make_interval(secs => idle.oldest::float8)))
               END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'Grant pg_monitor to the role that calls health().'
                    ELSE 'The application left a transaction open: see pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and fix the code path.'
               END
          FROM idle, can_see
        UNION ALL
        SELECT 'cache_hit',
               CASE WHEN cache.blks_hit + cache.blks_read > 0
                    THEN round(100.0 * cache.blks_hit / (cache.blks_hit + cache.blks_read), 2) END,
               CASE WHEN cache.blks_hit + cache.blks_read > 0
                    THEN format('%s%% of %s block reads %s served from shared buffers',
                                round(100.0 * cache.blks_hit / (cache.blks_hit + cache.blks_read), 2),
                                cache.blks_hit + cache.blks_read, cache.basis)
                    ELSE 'no block reads yet in this database' END,
               'Find the tables that miss the cache in pgmaint.cache_hit_tables(); raise shared_buffers (pgmaint.settings_advice()) if the working set does not fit.'
          FROM cache
        UNION ALL SELECT * FROM pgmaint._check_activity()
        UNION ALL SELECT * FROM pgmaint._check_wraparound()
        UNION ALL SELECT * FROM pgmaint._check_catalog()
        UNION ALL SELECT * FROM pgmaint._check_retention()
        UNION ALL SELECT * FROM pgmaint._check_tables()
        UNION ALL
        SELECT 'sampler',
               CASE WHEN pgmaint.preloaded() THEN
                   round((extract(epoch FROM clock_timestamp()
                                  - coalesce(st.heartbeat_at, pg_postmaster_start_time()))
                          / greatest(extract(epoch FROM st.sample_interval), 1))::numeric, 1)
               END,
               CASE WHEN NOT pgmaint.preloaded() THEN st.last_error
                    WHEN st.running THEN
                        format('sampling every %s s in database %s; last heartbeat %s s ago, %s samples taken',
                               extract(epoch FROM st.sample_interval)::bigint, st.database,
                               round(extract(epoch FROM clock_timestamp() - st.heartbeat_at)::numeric, 1),
                               st.samples_taken)
                    ELSE format('the sampler worker is not running: %s',
                                coalesce(st.last_error, 'no reason recorded'))
               END,
               CASE WHEN NOT pgmaint.preloaded()
                        THEN 'Add pgmaint to shared_preload_libraries and restart the server; then check pgmaint.sampler_status().'
                    WHEN st.running
                        THEN 'The worker is alive but not sampling: look for lock waits in pg_stat_activity (backend_type ''pgmaint sampler'') and for warnings in the server log; pgmaint.sampler_status() has its last error.'
                    ELSE 'See pgmaint.sampler_status() and the server log: the postmaster restarts the worker within seconds unless it cannot connect to pgmaint.database or max_worker_processes is exhausted.'
               END
          FROM pgmaint.sampler_status() st
        UNION ALL SELECT 'backup', b.value, b.message, b.hint FROM pgmaint._backup_check() b
        UNION ALL SELECT 'archiver', a.value, a.message, a.hint FROM pgmaint._archiver_check() a
        UNION ALL SELECT 'retention', r.value, r.message, r.hint FROM pgmaint._retention_check() r;
END
$$;

COMMENT ON FUNCTION pgmaint._measure_checks() IS
'Internal: the raw value, message and hint of each health check, before grading against pgmaint.thresholds.';

CREATE FUNCTION pgmaint.health_checks(
    OUT check_name text, OUT status text, OUT value numeric,
    OUT warning numeric, OUT critical numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT m.check_name, g.status, m.value, t.warning, t.critical, m.message,
               CASE WHEN g.status <> 'ok' THEN m.hint END
          FROM pgmaint._measure_checks() m
          LEFT JOIN pgmaint.thresholds t ON t.check_name = m.check_name
         CROSS JOIN LATERAL (SELECT pgmaint._grade(m.value, t.warning, t.critical) AS status) g
         WHERE coalesce(t.enabled, true)
         ORDER BY m.check_name;
END
$$;

COMMENT ON FUNCTION pgmaint.health_checks() IS
'Each health check as a row: status (ok, warning, critical, unknown), value, thresholds, message and hint.';

-- The sampler section of health(): the worker's status from sampler_status().
CREATE FUNCTION pgmaint._sampler_summary()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN (SELECT pg_catalog.to_jsonb(st)
               || jsonb_build_object(
                      'preloaded', pgmaint.preloaded(),
                      'detail', CASE WHEN st.running THEN 'the sampler worker is running'
                                     ELSE coalesce(st.last_error, 'the sampler worker is not running') END)
          FROM pgmaint.sampler_status() st);
END
$$;

COMMENT ON FUNCTION pgmaint._sampler_summary() IS
'Internal: the "sampler" section of health().';

CREATE FUNCTION pgmaint.health()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN (WITH c AS (SELECT * FROM pgmaint.health_checks())
        SELECT jsonb_build_object(
            'status', CASE WHEN bool_or(c.status = 'critical') THEN 'critical'
                           WHEN bool_or(c.status = 'warning') THEN 'warning'
                           ELSE 'ok' END,
            'database', current_database(),
            'checked_at', clock_timestamp(),
            'sampler', pgmaint._sampler_summary(),
            'checks', coalesce(jsonb_agg(jsonb_build_object(
                          'check', c.check_name, 'status', c.status, 'value', c.value,
                          'warning', c.warning, 'critical', c.critical,
                          'message', c.message, 'hint', c.hint) ORDER BY c.check_name),
                      '[]'::jsonb))
          FROM c);
END
$$;

COMMENT ON FUNCTION pgmaint.health() IS
'Summary of the server''s health as jsonb: overall status (the worst check), the sampler, and every check.';

GRANT EXECUTE ON FUNCTION pgmaint.health_checks() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.health() TO pg_monitor;

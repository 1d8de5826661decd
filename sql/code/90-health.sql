-- health(): one summary of the server's health, built from health_checks().
-- PL/pgSQL throughout, so that a session plans each query once (see 80-checks.sql).

-- Sessions: connection slots in use, sessions idle in a transaction (the
-- lock-holding kind, and apart from it the aborted kind, which holds only a
-- slot) and the database's cache hit ratio.
CREATE OR REPLACE FUNCTION pgmaint._check_sessions(
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
            -- the leak rule (pgmaint._leaked), split by kind: the aborted kind holds no locks
            SELECT s.aborted, count(a.pid) AS n,
                   max(extract(epoch FROM clock_timestamp() - a.state_change)) AS oldest,
                   (array_agg(a.pid ORDER BY a.state_change))[1] AS oldest_pid
              FROM (VALUES (false), (true)) AS s(aborted)
              LEFT JOIN activity a
                     ON pgmaint._leaked(a.state, a.state_change, interval '0')
                    AND (a.state = 'idle in transaction (aborted)') = s.aborted
             GROUP BY s.aborted
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
               'See who holds the connections in pgmaint.connections(), pgmaint.connection_sources() and pgmaint.connection_leaks(); size the pools with pgmaint.connection_budget().'
          FROM conn, slots
        UNION ALL
        SELECT CASE WHEN idle.aborted THEN 'idle_in_transaction_aborted' ELSE 'idle_in_transaction' END,
               CASE WHEN NOT can_see.all_stats THEN NULL
                    ELSE round(coalesce(idle.oldest, 0)::numeric, 1) END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'cannot see other roles'' sessions: the caller lacks pg_read_all_stats'
                    WHEN idle.n = 0 AND idle.aborted THEN 'no session is idle in an aborted transaction'
                    WHEN idle.n = 0 THEN 'no session is idle in a transaction'
                    WHEN idle.aborted
                        THEN format('%s session(s) idle in an aborted transaction, the oldest (pid %s) for %s: each holds a connection slot, no locks and no snapshot',
                                    idle.n, idle.oldest_pid,
                                    date_trunc('second', make_interval(secs => idle.oldest::float8)))
                    ELSE format('%s session(s) idle in a transaction, the oldest (pid %s) for %s',
                                idle.n, idle.oldest_pid,
                                date_trunc('second', make_interval(secs => idle.oldest::float8)))
               END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'Grant pg_monitor to the role that calls health().'
                    WHEN idle.aborted
                        THEN 'A statement failed and the application never sent ROLLBACK: the session keeps its connection slot until it does. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and roll back on errors in the code path.'
                    ELSE 'The application left a transaction open: it holds its locks and keeps vacuum from removing dead rows. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and fix the code path.'
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
          FROM cache;
END
$$;

COMMENT ON FUNCTION pgmaint._check_sessions() IS
'Internal: the connections, idle_in_transaction, idle_in_transaction_aborted and cache_hit checks.';

REVOKE ALL ON FUNCTION pgmaint._check_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_sessions() TO pg_monitor;

-- The sampler check: intervals since the worker's last heartbeat.
CREATE OR REPLACE FUNCTION pgmaint._check_sampler(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
          FROM pgmaint.sampler_status() st;
END
$$;

COMMENT ON FUNCTION pgmaint._check_sampler() IS
'Internal: the sampler check.';

REVOKE ALL ON FUNCTION pgmaint._check_sampler() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_sampler() TO pg_monitor;

-- The measured value, message and hint of every check, before grading.  Each
-- check function runs in a block of its own: one that fails (an object it
-- cannot handle, a missing privilege) turns its checks to unknown, with the
-- error in the message, and every other check still answers.
CREATE OR REPLACE FUNCTION pgmaint._measure_checks(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text, OUT failed boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    f record;
    names text[];
    vals numeric[];
    msgs text[];
    hints text[];
    err text;
    state text;
BEGIN
    FOR f IN
        SELECT reg.fn, array_agg(reg.check_name ORDER BY reg.check_name) AS checks,
               EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                        WHERE p.oid = pg_catalog.to_regprocedure('pgmaint.' || reg.fn || '()')
                          AND 'check_name' = ANY (p.proargnames)) AS named
          FROM (VALUES
              -- one line per check: (check, the function of pgmaint that measures it)
              ('connections', '_check_sessions'),
              ('idle_in_transaction', '_check_sessions'),
              ('idle_in_transaction_aborted', '_check_sessions'),
              ('cache_hit', '_check_sessions'),
              ('long_running_queries', '_check_activity'),
              ('blocked_sessions', '_check_activity'),
              ('xid_wraparound', '_check_wraparound'),
              ('multixact_wraparound', '_check_wraparound'),
              ('invalid_indexes', '_check_catalog'),
              ('sequences', '_check_catalog'),
              ('prepared_transactions', '_check_retention'),
              ('inactive_slots', '_check_retention'),
              ('slot_wal_retention', '_check_retention'),
              ('table_cache_hit', '_check_tables'),
              ('dead_tuples', '_check_tables'),
              ('autovacuum_behind', '_check_tables'),
              ('disk_free', '_check_tables'),
              ('bloat', '_check_space'),
              ('disk_full_eta', '_check_space'),
              ('replication_lag', '_check_replication'),
              ('replication_lag_bytes', '_check_replication'),
              ('standby_missing', '_check_replication'),
              ('wal_receiver', '_check_replication'),
              ('replay_paused', '_check_replication'),
              ('vacuum_age', '_check_maintenance_age'),
              ('analyze_age', '_check_maintenance_age'),
              ('not_valid_constraints', '_check_schema'),
              ('disabled_triggers', '_check_schema'),
              ('checkpoints_requested', '_check_wal'),
              ('archive_ready', '_check_wal'),
              ('sampler', '_check_sampler'),
              ('backup', '_backup_check'),
              ('archiver', '_archiver_check'),
              ('pitr_full_backup_age', '_check_pitr'),
              ('pitr_backup_age', '_check_pitr'),
              ('pitr_backup', '_check_pitr'),
              ('recovery_point', '_check_pitr'),
              ('retention', '_retention_check')
          ) AS reg(check_name, fn)
         GROUP BY reg.fn
         ORDER BY reg.fn
    LOOP
        BEGIN
            -- collected first, so that a failure half-way returns nothing of it
            EXECUTE format('SELECT array_agg(c.check_name), array_agg(c.value), array_agg(c.message), array_agg(c.hint)
                              FROM (SELECT %s AS check_name, r.value, r.message, r.hint
                                      FROM pgmaint.%I() r) c
                             WHERE c.check_name = ANY ($1)',
                           CASE WHEN f.named THEN 'r.check_name' ELSE quote_literal(f.checks[1]) END,
                           f.fn)
               INTO names, vals, msgs, hints
              USING f.checks;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            RETURN QUERY
                SELECT n, NULL::numeric,
                       format('the check failed: %s (SQLSTATE %s)', err, state),
                       format('pgmaint could not measure this check; the other checks still answer. Run SELECT * FROM pgmaint.%I(); to see the error, and report it to pgmaint''s maintainers.', f.fn),
                       true
                  FROM unnest(f.checks) AS n;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT u.n, u.v, u.m, u.h, false
              FROM unnest(names, vals, msgs, hints) AS u(n, v, m, h);
        -- a registered check its function did not answer
        RETURN QUERY
            SELECT n, NULL::numeric, 'the check gave no answer', NULL::text, true
              FROM unnest(f.checks) AS n
             WHERE n <> ALL (coalesce(names, '{}'));
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint._measure_checks() IS
'Internal: the raw value, message and hint of each health check, before grading against pgmaint.thresholds; a check whose function fails (or does not answer) is returned with a NULL value (unknown), the error in its message and failed = true.';

REVOKE ALL ON FUNCTION pgmaint._measure_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._measure_checks() TO pg_monitor;

-- The graded checks: health_checks() and whether each one's measurement failed.
CREATE OR REPLACE FUNCTION pgmaint._graded_checks(
    OUT check_name text, OUT status text, OUT value numeric,
    OUT warning numeric, OUT critical numeric, OUT message text, OUT hint text,
    OUT failed boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT m.check_name, g.status, m.value, t.warning, t.critical,
               CASE WHEN t.check_name IS NULL
                    THEN format('not graded: pgmaint.thresholds has no row for this check (%s)', m.message)
                    ELSE m.message END,
               CASE WHEN t.check_name IS NULL
                    THEN 'Put the check''s row back into pgmaint.thresholds (warning, critical); to turn a check off, set enabled = false instead of deleting its row.'
                    WHEN g.status <> 'ok' THEN m.hint END,
               m.failed
          FROM pgmaint._measure_checks() m
          LEFT JOIN pgmaint.thresholds t ON t.check_name = m.check_name
         CROSS JOIN LATERAL (SELECT CASE WHEN t.check_name IS NULL THEN 'unknown'
                                         ELSE pgmaint._grade(m.value, t.warning, t.critical)
                                    END AS status) g
         WHERE coalesce(t.enabled, true)
         ORDER BY m.check_name;
END
$$;

COMMENT ON FUNCTION pgmaint._graded_checks() IS
'Internal: health_checks() with failed, true for a check whose measurement failed (it is unknown, and counts as warning in the overall status).';

REVOKE ALL ON FUNCTION pgmaint._graded_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._graded_checks() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.health_checks(
    OUT check_name text, OUT status text, OUT value numeric,
    OUT warning numeric, OUT critical numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT c.check_name, c.status, c.value, c.warning, c.critical, c.message, c.hint
          FROM pgmaint._graded_checks() c;
END
$$;

COMMENT ON FUNCTION pgmaint.health_checks() IS
'Each health check as a row: status (ok, warning, critical, unknown: no value, or no row in pgmaint.thresholds), value, thresholds, message and hint.';

REVOKE ALL ON FUNCTION pgmaint.health_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.health_checks() TO pg_monitor;

-- The sampler section of health(): the worker's status from sampler_status().
CREATE OR REPLACE FUNCTION pgmaint._sampler_summary()
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

REVOKE ALL ON FUNCTION pgmaint._sampler_summary() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._sampler_summary() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.health()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    overall text;
    checks jsonb;
BEGIN
    SELECT pgmaint._overall_status(array_agg(c.status), array_agg(c.failed)),
           coalesce(jsonb_agg(jsonb_build_object(
                        'check', c.check_name, 'status', c.status, 'value', c.value,
                        'warning', c.warning, 'critical', c.critical,
                        'message', c.message, 'hint', c.hint) ORDER BY c.check_name),
                    '[]'::jsonb)
      INTO overall, checks
      FROM pgmaint._graded_checks() c;
    RETURN jsonb_build_object(
        'status', overall,
        'since', pgmaint._status_since(overall),
        'database', current_database(),
        'checked_at', clock_timestamp(),
        'role', CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END,
        'system_identifier', (SELECT s.system_identifier::text FROM pg_control_system() s),
        'sampler', pgmaint._sampler_summary(),
        'checks', checks);
END
$$;

COMMENT ON FUNCTION pgmaint.health() IS
'Summary of the server''s health as jsonb: overall status (the worst check; an unknown check counts as ok, or as warning when its measurement failed) and since when it holds, the server''s role (primary or standby) and system identifier (a standby shares its primary''s), the sampler, and every check.';

REVOKE ALL ON FUNCTION pgmaint.health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.health() TO pg_monitor;

-- Autovacuum policy, pg_cron jobs: schedule_maintenance() and
-- unschedule_maintenance(), and the nightly vacuum job kept in step with
-- table_policy.  pg_cron is reached through dynamic SQL, never required.

-- Internal: the nightly VACUUM of the tables tuned high_churn, or NULL when there is none.
CREATE OR REPLACE FUNCTION pgmaint._vacuum_command()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'VACUUM (ANALYZE, SKIP_LOCKED) '
           || string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname)
      FROM pgmaint.table_policy p
      JOIN pg_class c ON c.oid = p.relid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE p.profile = 'high_churn' AND c.relkind = 'r';
$$;

COMMENT ON FUNCTION pgmaint._vacuum_command() IS
'Internal: VACUUM (ANALYZE, SKIP_LOCKED) of every table tuned high_churn (leaf partitions for a partitioned table), or NULL when there is none.';

REVOKE ALL ON FUNCTION pgmaint._vacuum_command() FROM PUBLIC;

-- The command of the vacuum job while no table is tuned high_churn (the job is then inactive).
CREATE OR REPLACE FUNCTION pgmaint._no_vacuum_command()
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'SELECT ''pgmaint: no table is tuned high_churn''' $$;

COMMENT ON FUNCTION pgmaint._no_vacuum_command() IS
'Internal: the placeholder command of the inactive vacuum job while no table is tuned high_churn.';

REVOKE ALL ON FUNCTION pgmaint._no_vacuum_command() FROM PUBLIC;

-- Internal: keeps the nightly vacuum job's table list in step with
-- table_policy.  Runs as the extension's owner because cron.alter_job() is
-- not granted to PUBLIC; it only ever writes pgmaint's own job.  pg_cron is
-- reached through dynamic SQL: pgmaint never depends on it.
CREATE OR REPLACE FUNCTION pgmaint._sync_vacuum_job()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job record;
    cmd text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;
    cmd := pgmaint._vacuum_command();
    FOR job IN EXECUTE
        'SELECT jobid, command, active FROM cron.job WHERE jobname = $1 AND database = current_database()'
        USING 'pgmaint-vacuum-high-churn'
    LOOP
        IF job.command IS DISTINCT FROM coalesce(cmd, pgmaint._no_vacuum_command())
           OR job.active IS DISTINCT FROM (cmd IS NOT NULL) THEN
            EXECUTE 'SELECT cron.alter_job(job_id => $1, command => $2, active => $3)'
                USING job.jobid, coalesce(cmd, pgmaint._no_vacuum_command()), cmd IS NOT NULL;
        END IF;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint._sync_vacuum_job() IS
'Internal: updates the pgmaint-vacuum-high-churn pg_cron job''s command to the tables tuned high_churn (inactive when there is none); does nothing without pg_cron.';

REVOKE ALL ON FUNCTION pgmaint._sync_vacuum_job() FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint._table_policy_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pgmaint._sync_vacuum_job();
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgmaint._table_policy_changed() IS
'Trigger: after table_policy changes, keeps the nightly vacuum job''s table list in step.';

REVOKE ALL ON FUNCTION pgmaint._table_policy_changed() FROM PUBLIC;

CREATE OR REPLACE TRIGGER table_policy_changed
    AFTER INSERT OR UPDATE OR DELETE ON pgmaint.table_policy
    FOR EACH STATEMENT EXECUTE FUNCTION pgmaint._table_policy_changed();

-- Internal: raises 55000 unless pg_cron is installed in this database.
CREATE OR REPLACE FUNCTION pgmaint._require_pg_cron()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
              USING ERRCODE = '55000',
                    HINT = CASE WHEN current_setting('cron.database_name', true) IS NOT NULL
                                     AND current_setting('cron.database_name', true) <> current_database()
                                THEN format('pg_cron runs its jobs from database %s (cron.database_name): install pgmaint and schedule from there, or set cron.database_name = %L, restart and run CREATE EXTENSION pg_cron here.',
                                            quote_ident(current_setting('cron.database_name', true)), current_database())
                                ELSE format('Add pg_cron to shared_preload_libraries, set cron.database_name = %L, restart, and run CREATE EXTENSION pg_cron here.',
                                            current_database()) END;
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint._require_pg_cron() IS
'Internal: raises object_not_in_prerequisite_state (55000) with a hint when pg_cron is not installed in this database.';

REVOKE ALL ON FUNCTION pgmaint._require_pg_cron() FROM PUBLIC;

-- Internal: the body of pgmaint.schedule_maintenance(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE OR REPLACE FUNCTION pgmaint._schedule_maintenance_impl(vacuum_hour integer,
                                             policy_schedule text,
                                             prune_schedule text)
RETURNS TABLE (jobname text, jobid bigint, schedule text, command text, active boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pgmaint._require_pg_cron();
    IF vacuum_hour IS NULL OR vacuum_hour NOT BETWEEN 0 AND 23 THEN
        RAISE EXCEPTION 'vacuum_hour must be between 0 and 23, not %', coalesce(vacuum_hour::text, 'NULL')
              USING ERRCODE = '22023',
                    HINT = 'Give the low-traffic hour (pg_cron 1.4 schedules in GMT) for the nightly VACUUM ANALYZE.';
    END IF;
    IF policy_schedule IS NULL OR prune_schedule IS NULL THEN
        RAISE EXCEPTION 'schedules must not be null' USING ERRCODE = '22023',
              HINT = 'Give cron schedules such as ''*/10 * * * *''.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        USING 'pgmaint-policy', policy_schedule, 'SELECT count(*) FROM pgmaint.run_policy()';
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        USING 'pgmaint-prune-history', prune_schedule, 'SELECT pgmaint.prune_history()';
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        USING 'pgmaint-retention', '30 * * * *', 'CALL pgmaint.apply_retention()';
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        USING 'pgmaint-vacuum-high-churn', format('0 %s * * *', vacuum_hour),
              coalesce(pgmaint._vacuum_command(), pgmaint._no_vacuum_command());
    PERFORM pgmaint._sync_vacuum_job();
    PERFORM pgmaint._policy_audit(pgmaint._caller(), 'schedule_maintenance', NULL,
        jsonb_build_object('vacuum_hour', vacuum_hour, 'policy_schedule', policy_schedule,
                           'prune_schedule', prune_schedule), false);
    RETURN QUERY EXECUTE
        'SELECT j.jobname::text, j.jobid, j.schedule, j.command, j.active FROM cron.job j
          WHERE j.jobname = ANY ($1) AND j.username = current_user AND j.database = current_database()
          ORDER BY j.jobname'
        USING ARRAY['pgmaint-policy', 'pgmaint-prune-history', 'pgmaint-retention', 'pgmaint-vacuum-high-churn'];
END
$$;

COMMENT ON FUNCTION pgmaint._schedule_maintenance_impl(integer, text, text) IS
'Internal: the body of pgmaint.schedule_maintenance(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._schedule_maintenance_impl(integer, text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.schedule_maintenance(vacuum_hour integer DEFAULT 3,
                                             policy_schedule text DEFAULT '*/10 * * * *',
                                             prune_schedule text DEFAULT '15 * * * *')
RETURNS TABLE (jobname text, jobid bigint, schedule text, command text, active boolean)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.schedule_maintenance(integer, text, text) IS
'Creates or updates the pg_cron jobs pgmaint-policy, pgmaint-prune-history, pgmaint-retention (CALL pgmaint.apply_retention() hourly at :30) and pgmaint-vacuum-high-churn (nightly VACUUM ANALYZE at vacuum_hour GMT); needs pg_cron in this database (55000 otherwise).';

REVOKE ALL ON FUNCTION pgmaint.schedule_maintenance(integer, text, text) FROM PUBLIC;

-- Internal: the body of pgmaint.unschedule_maintenance(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE OR REPLACE FUNCTION pgmaint._unschedule_maintenance_impl()
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job record;
BEGIN
    PERFORM pgmaint._require_pg_cron();
    FOR job IN EXECUTE
        'SELECT j.jobid, j.jobname::text AS jobname FROM cron.job j
          WHERE j.jobname = ANY ($1) AND j.username = current_user AND j.database = current_database()
          ORDER BY j.jobname'
        USING ARRAY['pgmaint-policy', 'pgmaint-prune-history', 'pgmaint-retention', 'pgmaint-vacuum-high-churn']
    LOOP
        EXECUTE 'SELECT cron.unschedule($1)' USING job.jobid;
        RETURN NEXT job.jobname;
    END LOOP;
    PERFORM pgmaint._policy_audit(pgmaint._caller(), 'unschedule_maintenance', NULL, '{}', false);
END
$$;

COMMENT ON FUNCTION pgmaint._unschedule_maintenance_impl() IS
'Internal: the body of pgmaint.unschedule_maintenance(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._unschedule_maintenance_impl() FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.unschedule_maintenance()
RETURNS SETOF text
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.unschedule_maintenance() IS
'Removes the pg_cron jobs schedule_maintenance() created (and nothing else); returns their names.';

REVOKE ALL ON FUNCTION pgmaint.unschedule_maintenance() FROM PUBLIC;

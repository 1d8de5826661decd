-- pgmaint 1.0 -> 1.1, written by hand.  Every change of sql/install/*.sql
-- since 1.0 appears here too, so that ALTER EXTENSION pgmaint UPDATE gives
-- an installed database exactly what CREATE EXTENSION pgmaint gives a new
-- one (test/integration/upgrade.sh compares the two catalogs).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.1'" to load this file. \quit

-- ==== Security and safety (issue 13) ====
-- The policy helpers refuse a NULL caller and tables the caller does not own;
-- tune_table() refuses temporary tables, catalogs and pgmaint's tables; a
-- deleted profile skips only its tables; thresholds must be finite, and a
-- check without a threshold row is unknown; grant_tuning() names a missing
-- role; _backup_age_text(NULL) is NULL.

-- thresholds: finite numbers only (a NaN or infinite level becomes NULL first)
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pgmaint.thresholds t
                WHERE t.warning IN ('NaN', 'Infinity', '-Infinity')
                   OR t.critical IN ('NaN', 'Infinity', '-Infinity')) THEN
        RAISE WARNING 'pgmaint: NaN or infinite thresholds were set to NULL (no level): %',
            (SELECT string_agg(t.check_name, ', ' ORDER BY t.check_name) FROM pgmaint.thresholds t
              WHERE t.warning IN ('NaN', 'Infinity', '-Infinity')
                 OR t.critical IN ('NaN', 'Infinity', '-Infinity'));
        UPDATE pgmaint.thresholds t
           SET warning = CASE WHEN t.warning IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE t.warning END,
               critical = CASE WHEN t.critical IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE t.critical END
         WHERE t.warning IN ('NaN', 'Infinity', '-Infinity')
            OR t.critical IN ('NaN', 'Infinity', '-Infinity');
    END IF;
END
$$;

ALTER TABLE pgmaint.thresholds
    ADD CONSTRAINT thresholds_finite
        CHECK (warning NOT IN ('NaN', 'Infinity', '-Infinity')
               AND critical NOT IN ('NaN', 'Infinity', '-Infinity'));

COMMENT ON TABLE pgmaint.thresholds IS
'Warning and critical levels of each health() check (finite numbers or NULL); when critical is below warning, lower values are worse. enabled = false omits the check; a check without a row is unknown.';

-- Internal: may the session act for CALLER, may CALLER take policy actions,
-- and (for a table) does CALLER own it?
CREATE OR REPLACE FUNCTION pgmaint._authorized(caller name, rel regclass)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT caller IS NOT NULL
       AND pg_has_role(session_user, caller, 'MEMBER')
       AND (has_function_privilege(caller, 'pgmaint.tune_table(regclass, text)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.reset_table(regclass)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.apply_policy(boolean)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.run_policy(text)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.schedule_maintenance(integer, text, text)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.unschedule_maintenance()', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.grant_tuning(regrole, boolean)', 'EXECUTE'))
       AND (rel IS NULL
            OR EXISTS (SELECT 1 FROM pg_class c
                        WHERE c.oid = rel AND pg_has_role(caller, c.relowner, 'USAGE')))
       IS TRUE;
$$;

COMMENT ON FUNCTION pgmaint._authorized(name, regclass) IS
'Internal: true when the session may act as caller, caller may run a policy action function, and caller owns rel (when given); false, never NULL, otherwise (a NULL caller included).';

CREATE OR REPLACE FUNCTION pgmaint.grant_tuning(grantee regrole, with_policy boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF grantee IS NULL OR with_policy IS NULL THEN
        RAISE EXCEPTION 'grantee and with_policy must not be null' USING ERRCODE = '22023',
              HINT = 'Call pgmaint.grant_tuning(''role'') or grant_tuning(''role'', true).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) grantee) THEN
        RAISE EXCEPTION 'role with OID % does not exist', grantee::oid USING ERRCODE = '42704',
              HINT = 'Pass the name of an existing role: pgmaint.grant_tuning(''role'').';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA pgmaint TO %s', grantee);
    FOR p IN SELECT * FROM pgmaint._tuning_privileges(with_policy) LOOP
        EXECUTE format('GRANT %s ON %s %s TO %s',
                       CASE p.kind WHEN 'TABLE' THEN 'SELECT' ELSE 'EXECUTE' END,
                       p.kind, p.object, grantee);
    END LOOP;
    PERFORM pgmaint._policy_audit(current_user, 'grant_tuning', grantee::text,
                                  jsonb_build_object('with_policy', with_policy), false);
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.revoke_tuning(grantee regrole)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF grantee IS NULL THEN
        RAISE EXCEPTION 'grantee must not be null' USING ERRCODE = '22023',
              HINT = 'Call pgmaint.revoke_tuning(''role'').';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) grantee) THEN
        RAISE EXCEPTION 'role with OID % does not exist', grantee::oid USING ERRCODE = '42704',
              HINT = 'Pass the name of an existing role: pgmaint.revoke_tuning(''role'').';
    END IF;
    FOR p IN SELECT * FROM pgmaint._tuning_privileges(true) LOOP
        EXECUTE format('REVOKE %s ON %s %s FROM %s',
                       CASE p.kind WHEN 'TABLE' THEN 'SELECT' ELSE 'EXECUTE' END,
                       p.kind, p.object, grantee);
    END LOOP;
    PERFORM pgmaint._policy_audit(current_user, 'revoke_tuning', grantee::text, '{}', false);
END
$$;

-- Internal: snapshots the write counters of every user table and prunes old snapshots.
CREATE OR REPLACE FUNCTION pgmaint._snapshot_activity(caller name)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken bigint;
BEGIN
    IF NOT pgmaint._authorized(caller, NULL) THEN
        RAISE EXCEPTION 'permission denied to take activity snapshots'
              USING ERRCODE = '42501',
                    HINT = 'Snapshots are taken by pgmaint.run_policy() and apply_policy().';
    END IF;
    INSERT INTO pgmaint.table_activity (relid, taken_at, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup)
    SELECT t.relid, now(),
           pg_stat_get_tuples_inserted(t.relid), pg_stat_get_tuples_updated(t.relid),
           pg_stat_get_tuples_deleted(t.relid), pg_stat_get_live_tuples(t.relid)
      FROM pgmaint._policy_tables() t
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS taken = ROW_COUNT;
    -- policy rows of tables that are gone without a sql_drop event (a
    -- temporary table at the end of its session)
    DELETE FROM pgmaint.table_policy p
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                        WHERE c.oid OPERATOR(pg_catalog.=) p.relid::oid);
    PERFORM pgmaint._prune_activity();
    RETURN taken;
END
$$;

-- The kind and qualified name of a table a profile can apply to; an error for
-- a relation that is gone (42P01), is not an ordinary or partitioned table
-- (42809), or is a temporary table, a system catalog, or a table of pgmaint
-- or information_schema (42809): the policy never tunes those either.
CREATE OR REPLACE FUNCTION pgmaint._tunable_table(rel regclass, OUT kind "char", OUT target text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    persistence "char";
    nsp name;
BEGIN
    SELECT c.relkind, c.relpersistence, n.nspname, format('%I.%I', n.nspname, c.relname)
      INTO kind, persistence, nsp, target
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = '42P01';
    END IF;
    IF kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', rel
              USING ERRCODE = '42809',
                    HINT = 'Autovacuum profiles apply to ordinary and partitioned tables.';
    END IF;
    IF persistence = 't' THEN
        RAISE EXCEPTION 'cannot tune temporary table %', rel
              USING ERRCODE = '42809',
                    HINT = 'Autovacuum never processes temporary tables; profiles apply to permanent tables.';
    END IF;
    IF nsp IN ('pg_catalog', 'information_schema', 'pgmaint') OR nsp ~ '^pg_toast' THEN
        RAISE EXCEPTION 'cannot tune %: it belongs to %', rel, nsp
              USING ERRCODE = '42809',
                    HINT = 'Profiles apply to the application''s tables, not to system catalogs, information_schema or pgmaint''s own tables.';
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint._tunable_table(regclass) IS
'Internal: relkind and quoted name of a table an autovacuum profile can apply to; 42P01 or 42809 otherwise (temporary tables, catalogs, information_schema and pgmaint''s tables included).';

CREATE OR REPLACE FUNCTION pgmaint.apply_policy(dry_run boolean DEFAULT true)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'dry_run must not be null' USING ERRCODE = '22023',
              HINT = 'Call pgmaint.apply_policy(false) to apply, or apply_policy() for a dry run.';
    END IF;
    -- a suggestion that differs from the current profile, or the current
    -- profile again when its row was edited since the table was tuned
    FOR r IN
        SELECT p.relid, format('%I.%I', p.schema_name, p.table_name) AS name,
               p.current_profile, p.suggested_profile,
               CASE WHEN p.suggested_profile IS DISTINCT FROM p.current_profile THEN p.reason
                    ELSE format('profile %s was edited since the table was tuned', p.current_profile)
               END AS reason
          FROM pgmaint.recommend_profiles() p
          LEFT JOIN pgmaint.table_policy tp ON tp.relid = p.relid
          LEFT JOIN pgmaint.profiles pr ON pr.name = tp.profile
         WHERE p.suggested_profile IS NOT NULL
           AND NOT p.pinned
           AND (p.suggested_profile IS DISTINCT FROM p.current_profile
                OR tp.options IS DISTINCT FROM pr.reloptions)
         ORDER BY p.schema_name, p.table_name
    LOOP
        relid := r.relid;
        table_name := r.name;
        current_profile := r.current_profile;
        suggested_profile := r.suggested_profile;
        detail := r.reason;
        IF NOT EXISTS (SELECT 1 FROM pgmaint.profiles pr WHERE pr.name = r.suggested_profile) THEN
            action := 'skipped';
            detail := format('profile %s does not exist', r.suggested_profile);
        ELSIF dry_run THEN
            action := 'would tune';
        ELSE
            BEGIN
                IF pgmaint._apply_profile(r.relid, r.suggested_profile, 'policy', 'apply_policy',
                                          jsonb_build_object('reason', r.reason)) IS NULL THEN
                    action := 'skipped';
                    detail := 'the table was pinned meanwhile';
                ELSE
                    action := 'tuned';
                END IF;
            EXCEPTION
                WHEN lock_not_available THEN
                    action := 'skipped';
                    detail := 'locked by another session past the lock timeout; retried on the next run';
                WHEN insufficient_privilege THEN
                    action := 'skipped';
                    detail := SQLERRM;
                WHEN undefined_table THEN
                    action := 'skipped';
                    detail := 'the table was dropped';
            END;
        END IF;
        IF dry_run OR action = 'skipped' THEN
            PERFORM pgmaint._policy_audit(current_user, 'apply_policy', r.relid::text,
                jsonb_build_object('profile', r.suggested_profile,
                                   'previous_profile', r.current_profile,
                                   'result', action, 'detail', detail),
                dry_run);
        END IF;
        RETURN NEXT;
    END LOOP;
    IF NOT dry_run THEN
        PERFORM pgmaint._snapshot_activity(current_user);
    END IF;
END
$$;

-- Internal: records a suggestion in advise mode; true when it is new.
CREATE OR REPLACE FUNCTION pgmaint._advise(caller name, rel regclass, profile text, reason text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) rel::oid) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = '42P01';
    END IF;
    IF NOT pgmaint._authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to record policy advice for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Advice is recorded by pgmaint.run_policy(), for the tables the caller owns.';
    END IF;
    IF EXISTS (SELECT 1 FROM pgmaint.policy_advice a
                WHERE a.relid = rel::oid AND a.profile = _advise.profile) THEN
        RETURN false;
    END IF;
    INSERT INTO pgmaint.policy_advice AS a (relid, profile, reason, advised_at)
    VALUES (rel, profile, reason, now())
    ON CONFLICT (relid) DO UPDATE
       SET profile = EXCLUDED.profile, reason = EXCLUDED.reason, advised_at = EXCLUDED.advised_at;
    PERFORM pgmaint._audit('policy_advise', rel::text,
                           jsonb_build_object('profile', profile, 'reason', reason), true);
    RETURN true;
END
$$;

-- Internal: forgets advice that no longer holds.
CREATE OR REPLACE FUNCTION pgmaint._advice_keep(caller name, keep oid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint._authorized(caller, NULL) THEN
        RAISE EXCEPTION 'permission denied to change policy advice'
              USING ERRCODE = '42501',
                    HINT = 'Advice is maintained by pgmaint.run_policy().';
    END IF;
    -- only the advice of tables caller owns (or of tables that are gone)
    DELETE FROM pgmaint.policy_advice a
     WHERE NOT a.relid OPERATOR(pg_catalog.=) ANY (coalesce(keep, '{}'))
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                        WHERE c.oid OPERATOR(pg_catalog.=) a.relid
                          AND NOT pg_catalog.pg_has_role(caller, c.relowner, 'USAGE'));
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.run_policy(mode text DEFAULT NULL)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text := coalesce(mode, nullif(current_setting('pgmaint.policy', true), ''), 'advise');
    r record;
    keep oid[] := '{}';
BEGIN
    IF m NOT IN ('off', 'advise', 'apply') THEN
        RAISE EXCEPTION 'invalid policy mode "%"', m USING ERRCODE = '22023',
              HINT = 'Use off, advise or apply (the values of pgmaint.policy).';
    END IF;
    IF m = 'off' THEN
        RETURN;
    END IF;
    PERFORM pgmaint._sync_vacuum_job();
    IF m = 'apply' THEN
        RETURN QUERY SELECT * FROM pgmaint.apply_policy(false);
        PERFORM pgmaint._advice_keep(current_user, '{}');
        RETURN;
    END IF;
    FOR r IN
        SELECT p.relid, format('%I.%I', p.schema_name, p.table_name) AS name,
               p.current_profile, p.suggested_profile, p.reason
          FROM pgmaint.recommend_profiles() p
         WHERE p.suggested_profile IS NOT NULL
           AND p.suggested_profile IS DISTINCT FROM p.current_profile
           AND NOT p.pinned
           AND pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = p.relid), 'USAGE')
         ORDER BY p.schema_name, p.table_name
    LOOP
        keep := keep || r.relid::oid;
        IF NOT EXISTS (SELECT 1 FROM pgmaint.profiles pr WHERE pr.name = r.suggested_profile) THEN
            relid := r.relid;
            table_name := r.name;
            current_profile := r.current_profile;
            suggested_profile := r.suggested_profile;
            action := 'skipped';
            detail := format('profile %s does not exist', r.suggested_profile);
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF pgmaint._advise(current_user, r.relid, r.suggested_profile, r.reason) THEN
            RAISE LOG 'pgmaint: table % would be better tuned "%" (current: %): %',
                      r.name, r.suggested_profile, coalesce(r.current_profile, 'none'), r.reason;
            relid := r.relid;
            table_name := r.name;
            current_profile := r.current_profile;
            suggested_profile := r.suggested_profile;
            action := 'advised';
            detail := r.reason;
            RETURN NEXT;
        END IF;
    END LOOP;
    PERFORM pgmaint._advice_keep(current_user, keep);
    PERFORM pgmaint._snapshot_activity(current_user);
END
$$;

-- An age as "27h 05m", the same whatever the session's IntervalStyle.
CREATE OR REPLACE FUNCTION pgmaint._backup_age_text(age interval)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%sh %sm', floor(e / 3600)::bigint,
                  lpad(floor(mod(e, 3600) / 60)::bigint::text, 2, '0'))
      FROM (SELECT greatest(extract(epoch FROM age), 0) AS e) x;
$$;

COMMENT ON FUNCTION pgmaint._backup_age_text(interval) IS
'Internal: an age in hours and minutes ("27h 05m") for the messages of the backup check; NULL for no age.';

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
        SELECT m.check_name, g.status, m.value, t.warning, t.critical,
               CASE WHEN t.check_name IS NULL
                    THEN format('not graded: pgmaint.thresholds has no row for this check (%s)', m.message)
                    ELSE m.message END,
               CASE WHEN t.check_name IS NULL
                    THEN 'Put the check''s row back into pgmaint.thresholds (warning, critical); to turn a check off, set enabled = false instead of deleting its row.'
                    WHEN g.status <> 'ok' THEN m.hint END
          FROM pgmaint._measure_checks() m
          LEFT JOIN pgmaint.thresholds t ON t.check_name = m.check_name
         CROSS JOIN LATERAL (SELECT CASE WHEN t.check_name IS NULL THEN 'unknown'
                                         ELSE pgmaint._grade(m.value, t.warning, t.critical)
                                    END AS status) g
         WHERE coalesce(t.enabled, true)
         ORDER BY m.check_name;
END
$$;

COMMENT ON FUNCTION pgmaint.health_checks() IS
'Each health check as a row: status (ok, warning, critical, unknown: no value, or no row in pgmaint.thresholds), value, thresholds, message and hint.';

-- Privileges by name (sql/install/99-privileges.sql): 1.0 granted every
-- function to pg_monitor and took some back; 1.1 names what pg_monitor gets.
REVOKE ALL ON FUNCTION
    pgmaint._upsert_by_key(),
    pgmaint._validate_reloptions(text, text[]),
    pgmaint._profiles_validate(),
    pgmaint._authorized(name, regclass),
    pgmaint._tuning_privileges(boolean),
    pgmaint._option_names(text[]),
    pgmaint._option_sql(text, boolean),
    pgmaint._reloptions(oid),
    pgmaint._tunable_table(regclass),
    pgmaint._vacuum_command(),
    pgmaint._no_vacuum_command(),
    pgmaint._table_policy_changed(),
    pgmaint._invalid_indexes()
FROM pg_monitor;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgmaint FROM PUBLIC;

-- Read functions.
GRANT EXECUTE ON FUNCTION
    pgmaint.preloaded(),
    pgmaint.samples(timestamptz),
    pgmaint.sampler_status(),
    pgmaint.connections(),
    pgmaint.connection_leaks(interval),
    pgmaint.long_running_queries(interval),
    pgmaint.blocking_locks(),
    pgmaint.connection_budget(integer, integer, integer, integer),
    pgmaint.cache_hit(),
    pgmaint.cache_hit_tables(bigint),
    pgmaint.vacuum_stats(),
    pgmaint.table_sizes(),
    pgmaint.index_advice(bigint, bigint),
    pgmaint.expensive_queries(integer),
    pgmaint.disk_space(),
    pgmaint.database_stats(),
    pgmaint.recommend_profiles(),
    pgmaint.detected_resources(),
    pgmaint.settings_advice(integer, integer, text, integer),
    pgmaint.config_audit(),
    pgmaint.backup_status(),
    pgmaint.health_checks(),
    pgmaint.health(),
    pgmaint.metrics(),
    pgmaint.report(),
    pgmaint.checklist()
TO pg_monitor;

-- Internals that the read functions call as their invoker.
GRANT EXECUTE ON FUNCTION
    pgmaint._grade(numeric, numeric, numeric),
    pgmaint._require_interval(text, interval),
    pgmaint._require_count(text, integer, integer),
    pgmaint._cache_hit_totals(),
    pgmaint._cache_hit_last_hour(),
    pgmaint._policy_tables(),
    pgmaint._activity_window(),
    pgmaint._classify(numeric, numeric, numeric, numeric, numeric),
    pgmaint._size_text(numeric),
    pgmaint._ms_text(numeric),
    pgmaint._unit_factor(text),
    pgmaint._listens_everywhere(text),
    pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text),
    pgmaint._backup_max_age(),
    pgmaint._backup_age_text(interval),
    pgmaint._backup_check(),
    pgmaint._archiver_check(),
    pgmaint._check_activity(),
    pgmaint._check_wraparound(),
    pgmaint._check_catalog(),
    pgmaint._check_retention(),
    pgmaint._table_health(bigint, bigint),
    pgmaint._table_health_sampled(),
    pgmaint._check_tables(),
    pgmaint._measure_checks(),
    pgmaint._sampler_summary(),
    pgmaint._prom_label(text),
    pgmaint._render_table(text, integer),
    pgmaint._fit(text, integer),
    pgmaint._report_section(text, text),
    pgmaint._status_order(text),
    pgmaint._checklist_item(text, text)
TO pg_monitor;

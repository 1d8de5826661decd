-- Autovacuum policy, the run: apply_policy() and run_policy() (the worker's
-- advise/apply step, or a pg_cron job), and the advice they record once.

-- Internal: the body of pgmaint.apply_policy(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE OR REPLACE FUNCTION pgmaint._apply_policy_impl(dry_run boolean)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE plpgsql
SECURITY DEFINER
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
            PERFORM pgmaint._policy_audit(pgmaint._caller(), 'apply_policy', r.relid::text,
                jsonb_build_object('profile', r.suggested_profile,
                                   'previous_profile', r.current_profile,
                                   'result', action, 'detail', detail),
                dry_run);
        END IF;
        RETURN NEXT;
    END LOOP;
    IF NOT dry_run THEN
        PERFORM pgmaint._snapshot_activity(pgmaint._caller());
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint._apply_policy_impl(boolean) IS
'Internal: the body of pgmaint.apply_policy(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._apply_policy_impl(boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.apply_policy(dry_run boolean DEFAULT true)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.apply_policy(boolean) IS
'Tunes each non-pinned user table whose suggested profile differs from its current one, or whose profile was edited since (dry run by default); a locked table is skipped and retried next time; audits each table.';

REVOKE ALL ON FUNCTION pgmaint.apply_policy(boolean) FROM PUBLIC;

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

COMMENT ON FUNCTION pgmaint._advise(name, regclass, text, text) IS
'Internal: records a policy suggestion in policy_advice and the audit log unless it was already recorded; true when new.';

REVOKE ALL ON FUNCTION pgmaint._advise(name, regclass, text, text) FROM PUBLIC;

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

COMMENT ON FUNCTION pgmaint._advice_keep(name, oid[]) IS
'Internal: deletes the policy_advice rows of tables not in keep (their suggestion went away or was applied).';

REVOKE ALL ON FUNCTION pgmaint._advice_keep(name, oid[]) FROM PUBLIC;

-- Internal: the body of pgmaint.run_policy(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE OR REPLACE FUNCTION pgmaint._run_policy_impl(mode text)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text := coalesce(mode, pgmaint._setting('pgmaint.policy'));
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
        RETURN QUERY SELECT * FROM pgmaint._apply_policy_impl(false);
        PERFORM pgmaint._advice_keep(pgmaint._caller(), '{}');
        RETURN;
    END IF;
    FOR r IN
        SELECT p.relid, format('%I.%I', p.schema_name, p.table_name) AS name,
               p.current_profile, p.suggested_profile, p.reason
          FROM pgmaint.recommend_profiles() p
         WHERE p.suggested_profile IS NOT NULL
           AND p.suggested_profile IS DISTINCT FROM p.current_profile
           AND NOT p.pinned
           AND pg_has_role(pgmaint._caller(), (SELECT c.relowner FROM pg_class c WHERE c.oid = p.relid), 'USAGE')
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
        IF pgmaint._advise(pgmaint._caller(), r.relid, r.suggested_profile, r.reason) THEN
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
    PERFORM pgmaint._advice_keep(pgmaint._caller(), keep);
    PERFORM pgmaint._snapshot_activity(pgmaint._caller());
END
$$;

COMMENT ON FUNCTION pgmaint._run_policy_impl(text) IS
'Internal: the body of pgmaint.run_policy(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._run_policy_impl(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.run_policy(mode text DEFAULT NULL)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.run_policy(text) IS
'One policy run (what the worker does every pgmaint.policy_interval): off does nothing; advise logs and records each new suggestion once; apply runs apply_policy(false). Also snapshots write counters.';

REVOKE ALL ON FUNCTION pgmaint.run_policy(text) FROM PUBLIC;

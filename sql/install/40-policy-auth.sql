-- Autovacuum policy, authorisation: who may tune which table, and the
-- SECURITY DEFINER helpers that record on a caller's behalf.
--
-- Privileges.  tune_table(), reset_table(), apply_policy() and run_policy()
-- are for superusers and roles granted them (grant_tuning() below), and run
-- as their caller: ALTER TABLE needs the caller to own the table, so pgmaint
-- never lends its owner's rights to change a table.  What they record
-- (table_policy, actions, snapshots, advice) goes through the SECURITY
-- DEFINER helpers below, which act only for a role that may call one of those
-- action functions and that the session may become, and, for a table, only
-- when that role owns it.  So a role granted tune_table() can tune the tables
-- it owns, and nothing else, even if it calls the helpers directly.

-- Internal: may the session act for CALLER, may CALLER take policy actions,
-- and (for a table) does CALLER own it?
CREATE FUNCTION pgmaint._authorized(caller name, rel regclass)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_has_role(session_user, caller, 'MEMBER')
       AND (has_function_privilege(caller, 'pgmaint.tune_table(regclass, text)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.reset_table(regclass)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.apply_policy(boolean)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.run_policy(text)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.schedule_maintenance(integer, text, text)', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.unschedule_maintenance()', 'EXECUTE')
            OR has_function_privilege(caller, 'pgmaint.grant_tuning(regrole, boolean)', 'EXECUTE'))
       AND (rel IS NULL
            OR EXISTS (SELECT 1 FROM pg_class c
                        WHERE c.oid = rel AND pg_has_role(caller, c.relowner, 'USAGE')));
$$;

COMMENT ON FUNCTION pgmaint._authorized(name, regclass) IS
'Internal: true when the session may act as caller, caller may run a policy action function, and caller owns rel (when given).';

-- Internal: records (or, with a NULL profile, forgets) the profile pgmaint set on a table.
CREATE FUNCTION pgmaint._policy_record(caller name, rel regclass, profile text, source text,
                                       options text[], replaced text[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint._authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to record an autovacuum profile for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Only the table''s owner, through pgmaint.tune_table(), reset_table() or apply_policy(), records profiles.';
    END IF;
    IF profile IS NULL THEN
        DELETE FROM pgmaint.table_policy WHERE relid = rel;
        RETURN;
    END IF;
    INSERT INTO pgmaint.table_policy AS p (relid, profile, source, pinned, applied_at, options, replaced)
    VALUES (rel, profile, source, source = 'manual', now(), options, replaced)
    ON CONFLICT (relid) DO UPDATE
       SET profile = EXCLUDED.profile, source = EXCLUDED.source, pinned = EXCLUDED.pinned,
           applied_at = EXCLUDED.applied_at, options = EXCLUDED.options,
           replaced = EXCLUDED.replaced;
END
$$;

COMMENT ON FUNCTION pgmaint._policy_record(name, regclass, text, text, text[], text[]) IS
'Internal: writes or deletes a table_policy row on behalf of caller, who must own the table and may run a policy action.';

-- Internal: writes an audit row on behalf of a policy action.
CREATE FUNCTION pgmaint._policy_audit(caller name, action text, target text, detail jsonb,
                                      dry_run boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint._authorized(caller, NULL) THEN
        RAISE EXCEPTION 'permission denied to write a policy audit row'
              USING ERRCODE = '42501',
                    HINT = 'Audit rows are written by pgmaint''s policy action functions.';
    END IF;
    PERFORM pgmaint._audit(action, target, detail, dry_run);
END
$$;

COMMENT ON FUNCTION pgmaint._policy_audit(name, text, text, jsonb, boolean) IS
'Internal: appends a pgmaint.actions row for a policy action taken by caller.';

-- Internal: what a role needs to tune its tables (and, with_policy, to run the policy).
CREATE FUNCTION pgmaint._tuning_privileges(with_policy boolean,
                                           OUT kind text, OUT object text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.tune_table(regclass, text)', 'pgmaint.reset_table(regclass)',
        'pgmaint._apply_profile(regclass, text, text, text, jsonb)', 'pgmaint._policy_lock_timeout()',
        'pgmaint._option_names(text[])', 'pgmaint._option_sql(text, boolean)',
        'pgmaint._reloptions(oid)', 'pgmaint._tunable_table(regclass)',
        'pgmaint._policy_record(name, regclass, text, text, text[], text[])',
        'pgmaint._policy_audit(name, text, text, jsonb, boolean)']) f
    UNION ALL
    SELECT 'ROUTINE', f FROM unnest(ARRAY[
        'pgmaint.set_retention(regclass, name, interval, regclass, integer, text)',
        'pgmaint.drop_retention(regclass)', 'pgmaint.apply_retention(regclass, interval, interval)',
        'pgmaint.retention_plan()', 'pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz)',
        'pgmaint._retention_done(name, regclass, jsonb, timestamptz)',
        'pgmaint._retention_audit_drop(name, regclass)',
        'pgmaint._retention_exec(regclass, text[], timestamptz, integer, text)',
        'pgmaint._retention_authorized(name, regclass)', 'pgmaint._retention_limits()',
        'pgmaint._retention_name(oid)', 'pgmaint._retention_oldest(regclass)',
        'pgmaint._retention_oldest_of(regclass, name)', 'pgmaint._retention_bound(oid)',
        'pgmaint._retention_batch_sql(regclass, name, regclass, regclass)',
        'pgmaint._retention_steps(regclass, timestamptz)', 'pgmaint._retention_lock(regclass, boolean)',
        'pgmaint._retention_work(regclass)']) f
    UNION ALL
    SELECT 'TABLE', 'pgmaint.retention'
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.profiles', 'pgmaint.table_policy']) t
    UNION ALL
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.recommend_profiles()', 'pgmaint.apply_policy(boolean)', 'pgmaint.run_policy(text)',
        'pgmaint._policy_tables()', 'pgmaint._activity_window()', 'pgmaint._setting(text)',
        'pgmaint._classify(numeric, numeric, numeric, numeric, numeric)',
        'pgmaint._snapshot_activity(name)', 'pgmaint._advise(name, regclass, text, text)',
        'pgmaint._advice_keep(name, oid[])', 'pgmaint._sync_vacuum_job()',
        'pgmaint._vacuum_command()', 'pgmaint._no_vacuum_command()']) f
     WHERE with_policy
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.table_activity']) t
     WHERE with_policy;
$$;

COMMENT ON FUNCTION pgmaint._tuning_privileges(boolean) IS
'Internal: the functions and routines (EXECUTE) and tables (SELECT) grant_tuning() grants and revoke_tuning() revokes; the retention ones (issue 20) with the tuning ones, since both act on the tables a role owns.';

CREATE FUNCTION pgmaint.grant_tuning(grantee regrole, with_policy boolean DEFAULT false)
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

COMMENT ON FUNCTION pgmaint.grant_tuning(regrole, boolean) IS
'Lets a role call tune_table(), reset_table(), set_retention(), drop_retention(), retention_plan() and apply_retention() on the tables it owns (with_policy: also recommend_profiles(), apply_policy() and run_policy()); audited.';

REVOKE ALL ON FUNCTION pgmaint.grant_tuning(regrole, boolean) FROM PUBLIC;

CREATE FUNCTION pgmaint.revoke_tuning(grantee regrole)
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
    FOR p IN SELECT * FROM pgmaint._tuning_privileges(true) LOOP
        EXECUTE format('REVOKE %s ON %s %s FROM %s',
                       CASE p.kind WHEN 'TABLE' THEN 'SELECT' ELSE 'EXECUTE' END,
                       p.kind, p.object, grantee);
    END LOOP;
    PERFORM pgmaint._policy_audit(current_user, 'revoke_tuning', grantee::text, '{}', false);
END
$$;

COMMENT ON FUNCTION pgmaint.revoke_tuning(regrole) IS
'Takes back what grant_tuning() gave a role (not its USAGE on the schema, which other grants may need); audited.';

REVOKE ALL ON FUNCTION pgmaint.revoke_tuning(regrole) FROM PUBLIC;

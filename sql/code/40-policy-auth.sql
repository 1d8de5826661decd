-- Autovacuum policy, authorisation: who may tune which table, and the
-- SECURITY DEFINER helpers that record on a caller's behalf.
--
-- Privileges.  tune_table(), reset_table(), apply_policy() and run_policy()
-- are for superusers and roles granted them (grant_tuning() below).  Each is
-- a gate (pgmaint_action, src/actions.c) that remembers its caller and calls
-- its body, pgmaint._NAME_impl(), which runs as the extension's owner and
-- touches a table only when the caller owns it.  What they record
-- (table_policy, actions, snapshots, advice) goes through the SECURITY
-- DEFINER helpers below, which act only for the caller of the running action
-- (pgmaint._caller()), and, for a table, only when that role owns it.  No
-- role but the owner may call an impl or a helper: a role granted
-- tune_table() tunes the tables it owns, and cannot write a row for
-- anything else.

-- Internal: the role that called the policy action now running (the gate
-- of src/actions.c remembers it), NULL outside an action.
CREATE OR REPLACE FUNCTION pgmaint._caller()
RETURNS name
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_caller';

COMMENT ON FUNCTION pgmaint._caller() IS
'Internal: the role that called the pgmaint action function now running (tune_table(), apply_policy(), ...), NULL outside one.';

REVOKE ALL ON FUNCTION pgmaint._caller() FROM PUBLIC;

-- Internal: may the session act for CALLER, may CALLER take policy actions,
-- and (for a table) does CALLER own it?
CREATE OR REPLACE FUNCTION pgmaint._authorized(caller name, rel regclass)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(caller IS NOT NULL
       AND caller OPERATOR(pg_catalog.=) pgmaint._caller()
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
                        WHERE c.oid = rel AND pg_has_role(caller, c.relowner, 'USAGE'))),
       false);
$$;

COMMENT ON FUNCTION pgmaint._authorized(name, regclass) IS
'Internal: true when caller is the caller of the running action (pgmaint._caller()), the session may act as it, it may run a policy action function, and it owns rel (when given); false, never NULL, otherwise.';

REVOKE ALL ON FUNCTION pgmaint._authorized(name, regclass) FROM PUBLIC;

-- Internal: records (or, with a NULL profile, forgets) the profile pgmaint set on a table.
CREATE OR REPLACE FUNCTION pgmaint._policy_record(caller name, rel regclass, profile text, source text,
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

REVOKE ALL ON FUNCTION pgmaint._policy_record(name, regclass, text, text, text[], text[]) FROM PUBLIC;

-- Internal: writes an audit row on behalf of a policy action.
CREATE OR REPLACE FUNCTION pgmaint._policy_audit(caller name, action text, target text, detail jsonb,
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

REVOKE ALL ON FUNCTION pgmaint._policy_audit(name, text, text, jsonb, boolean) FROM PUBLIC;

-- Internal: what a role needs to tune its tables (and, with_policy, to run the policy).
CREATE OR REPLACE FUNCTION pgmaint._tuning_privileges(with_policy boolean,
                                           OUT kind text, OUT object text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.tune_table(regclass, text)', 'pgmaint.reset_table(regclass)']) f
    UNION ALL
    SELECT 'ROUTINE', f FROM unnest(ARRAY[
        'pgmaint.set_retention(regclass, name, interval, regclass, integer, text)',
        'pgmaint.drop_retention(regclass)', 'pgmaint.apply_retention(regclass, interval, interval)',
        'pgmaint.retention_plan()',
        'pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text)',
        'pgmaint._retention_audit_drop(name, regclass)', 'pgmaint._retention_limits()',
        'pgmaint._policy_lock_timeout()',
        'pgmaint._retention_name(oid)', 'pgmaint._retention_measure(regclass, name, timestamptz)',
        'pgmaint._retention_bound(oid)',
        'pgmaint._retention_batch_sql(regclass, name, regclass, regclass)',
        'pgmaint._retention_steps(regclass, timestamptz)',
        'pgmaint._retention_work(regclass)']) f
    UNION ALL
    SELECT 'TABLE', 'pgmaint.retention'
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.profiles', 'pgmaint.table_policy']) t
    UNION ALL
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.recommend_profiles()', 'pgmaint.apply_policy(boolean)', 'pgmaint.run_policy(text)',
        'pgmaint._policy_tables()', 'pgmaint._activity_window()', 'pgmaint._setting(text)',
        'pgmaint._classify(numeric, numeric, numeric, numeric, numeric)']) f
     WHERE with_policy
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.table_activity']) t
     WHERE with_policy;
$$;

COMMENT ON FUNCTION pgmaint._tuning_privileges(boolean) IS
'Internal: the functions and routines (EXECUTE) and tables (SELECT) grant_tuning() grants and revoke_tuning() revokes; the retention ones (issue 20) with the tuning ones, since both act on the tables a role owns.';

REVOKE ALL ON FUNCTION pgmaint._tuning_privileges(boolean) FROM PUBLIC;

-- Internal: the body of pgmaint.grant_tuning(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE OR REPLACE FUNCTION pgmaint._grant_tuning_impl(grantee regrole, with_policy boolean)
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
    PERFORM pgmaint._policy_audit(pgmaint._caller(), 'grant_tuning', grantee::text,
                                  jsonb_build_object('with_policy', with_policy), false);
END
$$;

COMMENT ON FUNCTION pgmaint._grant_tuning_impl(regrole, boolean) IS
'Internal: the body of pgmaint.grant_tuning(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._grant_tuning_impl(regrole, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.grant_tuning(grantee regrole, with_policy boolean DEFAULT false)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.grant_tuning(regrole, boolean) IS
'Lets a role call tune_table(), reset_table(), set_retention(), drop_retention(), retention_plan() and apply_retention() on the tables it owns (with_policy: also recommend_profiles(), apply_policy() and run_policy()); audited.';

REVOKE ALL ON FUNCTION pgmaint.grant_tuning(regrole, boolean) FROM PUBLIC;

-- Internal: the body of pgmaint.revoke_tuning(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE OR REPLACE FUNCTION pgmaint._revoke_tuning_impl(grantee regrole)
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
    PERFORM pgmaint._policy_audit(pgmaint._caller(), 'revoke_tuning', grantee::text, '{}', false);
END
$$;

COMMENT ON FUNCTION pgmaint._revoke_tuning_impl(regrole) IS
'Internal: the body of pgmaint.revoke_tuning(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._revoke_tuning_impl(regrole) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.revoke_tuning(grantee regrole)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.revoke_tuning(regrole) IS
'Takes back what grant_tuning() gave a role (not its USAGE on the schema, which other grants may need); audited.';

REVOKE ALL ON FUNCTION pgmaint.revoke_tuning(regrole) FROM PUBLIC;

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

-- Internal: the role that called the policy action now running (the gate
-- of src/actions.c remembers it), NULL outside an action.
CREATE FUNCTION pgmaint._caller()
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
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.profiles', 'pgmaint.table_policy']) t
    UNION ALL
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.recommend_profiles()', 'pgmaint.apply_policy(boolean)', 'pgmaint.run_policy(text)',
        'pgmaint._policy_tables()', 'pgmaint._activity_window()',
        'pgmaint._classify(numeric, numeric, numeric, numeric, numeric)']) f
     WHERE with_policy
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.table_activity']) t
     WHERE with_policy;
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

-- Internal: sets a profile's options on a table (or on each leaf partition of
-- a partitioned table), resets what a previous profile set and this one does
-- not, records the policy row and audits.  Runs within an action's impl (as
-- the extension's owner) and refuses a table the action's caller does not
-- own (pgmaint._caller()).  Returns NULL when the policy
-- (source 'policy') finds the table pinned once it holds the lock.
CREATE OR REPLACE FUNCTION pgmaint._apply_profile(rel regclass, profile text, source text, action text,
                                       note jsonb DEFAULT '{}')
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $$
DECLARE
    kind "char";
    opts text[];
    names text[];
    targets oid[];
    t oid;
    target text;
    cur text[];
    prior pgmaint.table_policy;
    prior_opts text[];
    prior_repl text[];
    user_vals text[];
    repl text[];
    sets text[];
    resets text[];
    changes jsonb := '[]';
    previous text;
BEGIN
    SELECT p.reloptions INTO opts FROM pgmaint.profiles p WHERE p.name = profile;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown autovacuum profile "%"', profile
              USING ERRCODE = '22023',
                    HINT = format('Known profiles: %s.',
                                  (SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM pgmaint.profiles p));
    END IF;
    SELECT t.kind, t.target INTO kind, target FROM pgmaint._tunable_table(rel) t;
    IF NOT pgmaint._authorized(pgmaint._caller(), rel) THEN
        RAISE EXCEPTION 'must be owner of table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Only a table''s owner (or a superuser) tunes it, through pgmaint.tune_table() or apply_policy().';
    END IF;

    -- The lock a SET of autovacuum options takes; it does not block reads
    -- or writes, and lock_timeout bounds the wait behind DDL or VACUUM.
    EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', target);

    SELECT p.profile INTO previous FROM pgmaint.table_policy p WHERE p.relid = rel;
    IF source = 'policy'
       AND EXISTS (SELECT 1 FROM pgmaint.table_policy p WHERE p.relid = rel AND p.pinned) THEN
        RETURN NULL;
    END IF;

    IF kind = 'p' THEN
        targets := ARRAY(SELECT pt.relid FROM pg_partition_tree(rel) pt
                           JOIN pg_class c ON c.oid = pt.relid
                          WHERE pt.isleaf AND c.relkind = 'r' ORDER BY pt.relid);
    ELSE
        targets := ARRAY[rel::oid];
    END IF;
    names := pgmaint._option_names(opts);

    FOREACH t IN ARRAY targets LOOP
        cur := pgmaint._reloptions(t);
        SELECT * INTO prior FROM pgmaint.table_policy p WHERE p.relid = t::regclass;
        prior_opts := coalesce(prior.options, '{}');
        prior_repl := coalesce(prior.replaced, '{}');
        -- the table's own values for options of the new profile (not pgmaint's)
        user_vals := ARRAY(SELECT o FROM unnest(cur) o
                            WHERE split_part(o, '=', 1) = ANY (names) AND NOT o = ANY (prior_opts));
        repl := user_vals || ARRAY(SELECT o FROM unnest(prior_repl) o
                                    WHERE split_part(o, '=', 1) = ANY (names)
                                      AND NOT split_part(o, '=', 1) = ANY (pgmaint._option_names(user_vals)));
        -- options the previous profile set, still as pgmaint set them, that
        -- this profile does not set: back to the table's own value, or reset
        sets := opts || ARRAY(SELECT r FROM unnest(prior_repl) r
                               WHERE NOT split_part(r, '=', 1) = ANY (names)
                                 AND split_part(r, '=', 1) = ANY (
                                     SELECT split_part(o, '=', 1) FROM unnest(prior_opts) o
                                      WHERE o = ANY (cur)));
        resets := ARRAY(SELECT split_part(o, '=', 1) FROM unnest(prior_opts) o
                         WHERE o = ANY (cur) AND NOT split_part(o, '=', 1) = ANY (names)
                           AND NOT split_part(o, '=', 1) = ANY (pgmaint._option_names(prior_repl)));

        EXECUTE format('ALTER TABLE %s SET (%s)%s',
                       (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = t),
                       (SELECT string_agg(pgmaint._option_sql(o, true), ', ') FROM unnest(sets) o),
                       CASE WHEN cardinality(resets) > 0
                            THEN format(', RESET (%s)',
                                        (SELECT string_agg(pgmaint._option_sql(o, false), ', ')
                                           FROM unnest(resets) o))
                            ELSE '' END);
        PERFORM pgmaint._policy_record(pgmaint._caller(), t::regclass, profile, source, opts, repl);
        changes := changes || jsonb_build_object(
            'table', t::regclass::text, 'before', to_jsonb(cur),
            'after', to_jsonb(pgmaint._reloptions(t)));
    END LOOP;

    IF kind = 'p' THEN
        PERFORM pgmaint._policy_record(pgmaint._caller(), rel, profile, source, opts, '{}');
    END IF;

    PERFORM pgmaint._policy_audit(pgmaint._caller(), action, rel::text,
        note || jsonb_build_object('profile', profile, 'source', source,
                                   'previous_profile', previous, 'options', to_jsonb(opts),
                                   'tables', changes),
        false);

    IF kind = 'p' THEN
        RETURN opts;
    END IF;
    RETURN pgmaint._reloptions(rel);
END
$$;

COMMENT ON FUNCTION pgmaint._apply_profile(regclass, text, text, text, jsonb) IS
'Internal: ALTER TABLE ... SET a profile''s options (on each leaf of a partitioned table) of a table the action''s caller owns, under a 200 ms lock_timeout; records table_policy and audits.';

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

-- The policy's actions become gates (pgmaint_action, src/actions.c) in front
-- of their bodies, pgmaint._NAME_impl(); the helpers and bodies are granted
-- to nobody, so the grants grant_tuning() made in 1.0 on them go.
-- Internal: the body of pgmaint.grant_tuning(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE FUNCTION pgmaint._grant_tuning_impl(grantee regrole, with_policy boolean)
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

-- Internal: the body of pgmaint.revoke_tuning(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE FUNCTION pgmaint._revoke_tuning_impl(grantee regrole)
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

-- Internal: the body of pgmaint.tune_table(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE FUNCTION pgmaint._tune_table_impl(rel regclass, profile text)
RETURNS text[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF rel IS NULL OR profile IS NULL THEN
        RAISE EXCEPTION 'table and profile must not be null'
              USING ERRCODE = '22023',
                    HINT = 'Call pgmaint.tune_table(''schema.table'', ''profile'').';
    END IF;
    RETURN pgmaint._apply_profile(rel, profile, 'manual', 'tune_table');
EXCEPTION
    WHEN lock_not_available THEN
        RAISE EXCEPTION 'could not lock table % to set its autovacuum options', rel
              USING ERRCODE = '55P03',
                    DETAIL = 'Another session held a conflicting lock for longer than the lock timeout (200 ms); nothing was changed.',
                    HINT = 'Retry when the session holding the lock (see pgmaint.blocking_locks() or pg_locks) has finished.';
END
$$;

COMMENT ON FUNCTION pgmaint._tune_table_impl(regclass, text) IS
'Internal: the body of pgmaint.tune_table(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._tune_table_impl(regclass, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.tune_table(rel regclass, profile text)
RETURNS text[]
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

-- Internal: the body of pgmaint.reset_table(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE FUNCTION pgmaint._reset_table_impl(rel regclass)
RETURNS text[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $$
DECLARE
    kind "char";
    target text;
    rec pgmaint.table_policy;
    cur text[];
    sets text[];
    resets text[];
    changes jsonb := '[]';
    profile text;
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION 'table must not be null' USING ERRCODE = '22023',
              HINT = 'Call pgmaint.reset_table(''schema.table'').';
    END IF;
    SELECT t.kind, t.target INTO kind, target FROM pgmaint._tunable_table(rel) t;
    IF NOT pgmaint._authorized(pgmaint._caller(), rel) THEN
        RAISE EXCEPTION 'must be owner of table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Only a table''s owner (or a superuser) resets it, through pgmaint.reset_table().';
    END IF;

    BEGIN
        EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', target);
    EXCEPTION WHEN lock_not_available THEN
        RAISE EXCEPTION 'could not lock table % to reset its autovacuum options', rel
              USING ERRCODE = '55P03',
                    DETAIL = 'Another session held a conflicting lock for longer than the lock timeout (200 ms); nothing was changed.',
                    HINT = 'Retry when the session holding the lock has finished.';
    END;

    SELECT p.profile INTO profile FROM pgmaint.table_policy p WHERE p.relid = rel;
    FOR rec IN
        SELECT p.* FROM pgmaint.table_policy p
         WHERE p.relid = rel
            OR (kind = 'p' AND p.relid IN (SELECT pt.relid FROM pg_partition_tree(rel) pt
                                             WHERE pt.isleaf))
         ORDER BY p.relid::oid
    LOOP
        profile := coalesce(profile, rec.profile);
        IF (SELECT c.relkind FROM pg_class c WHERE c.oid = rec.relid) = 'r' THEN
            cur := pgmaint._reloptions(rec.relid);
            -- only what pgmaint set and nobody changed since; the table's own
            -- values that the profile overwrote come back
            sets := ARRAY(SELECT r FROM unnest(rec.replaced) r
                           WHERE split_part(r, '=', 1) = ANY (
                                 SELECT split_part(o, '=', 1) FROM unnest(rec.options) o
                                  WHERE o = ANY (cur)));
            resets := ARRAY(SELECT split_part(o, '=', 1) FROM unnest(rec.options) o
                             WHERE o = ANY (cur)
                               AND NOT split_part(o, '=', 1) = ANY (pgmaint._option_names(rec.replaced)));
            IF cardinality(sets) + cardinality(resets) > 0 THEN
                EXECUTE format('ALTER TABLE %s %s',
                    (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rec.relid),
                    concat_ws(', ',
                        CASE WHEN cardinality(sets) > 0 THEN format('SET (%s)',
                            (SELECT string_agg(pgmaint._option_sql(o, true), ', ') FROM unnest(sets) o)) END,
                        CASE WHEN cardinality(resets) > 0 THEN format('RESET (%s)',
                            (SELECT string_agg(pgmaint._option_sql(o, false), ', ') FROM unnest(resets) o)) END));
            END IF;
            changes := changes || jsonb_build_object(
                'table', rec.relid::text, 'before', to_jsonb(cur),
                'after', to_jsonb(pgmaint._reloptions(rec.relid)));
        END IF;
        PERFORM pgmaint._policy_record(pgmaint._caller(), rec.relid, NULL, NULL, NULL, NULL);
    END LOOP;

    IF profile IS NULL THEN
        RAISE NOTICE 'table % has no autovacuum profile set by pgmaint', rel;
    ELSE
        PERFORM pgmaint._policy_audit(pgmaint._caller(), 'reset_table', rel::text,
            jsonb_build_object('profile', profile, 'tables', changes), false);
    END IF;
    RETURN pgmaint._reloptions(rel);
END
$$;

COMMENT ON FUNCTION pgmaint._reset_table_impl(regclass) IS
'Internal: the body of pgmaint.reset_table(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._reset_table_impl(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.reset_table(rel regclass)
RETURNS text[]
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

-- Internal: the body of pgmaint.apply_policy(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE FUNCTION pgmaint._apply_policy_impl(dry_run boolean)
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

-- Internal: the body of pgmaint.run_policy(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE FUNCTION pgmaint._run_policy_impl(mode text)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE plpgsql
SECURITY DEFINER
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

-- Internal: the body of pgmaint.schedule_maintenance(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE FUNCTION pgmaint._schedule_maintenance_impl(vacuum_hour integer,
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
        USING ARRAY['pgmaint-policy', 'pgmaint-prune-history', 'pgmaint-vacuum-high-churn'];
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

-- Internal: the body of pgmaint.unschedule_maintenance(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the caller.
CREATE FUNCTION pgmaint._unschedule_maintenance_impl()
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
        USING ARRAY['pgmaint-policy', 'pgmaint-prune-history', 'pgmaint-vacuum-high-churn']
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

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT p.oid::regprocedure AS f, a.grantee::regrole AS grantee
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pgmaint'::regnamespace
           AND p.proname OPERATOR(pg_catalog.=) ANY ('{_apply_profile,_option_names,_option_sql,_reloptions,_tunable_table,_policy_record,_policy_audit,_snapshot_activity,_advise,_advice_keep,_sync_vacuum_job,_vacuum_command,_no_vacuum_command}'::pg_catalog.name[])
           AND a.grantee OPERATOR(pg_catalog.<>) 0::oid
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM %s', r.f, r.grantee);
    END LOOP;
END
$$;

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

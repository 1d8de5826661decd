-- Autovacuum policy: per-table tuning with the profiles of 05-policy-tables.sql,
-- classification of tables from their observed writes, the policy run (the
-- worker's advise/apply step, or a pg_cron job) and the pg_cron jobs.
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

-- Internal: the name of each "name=value" option.
CREATE FUNCTION pgmaint._option_names(options text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(split_part(o, '=', 1) ORDER BY n), '{}')
      FROM unnest(options) WITH ORDINALITY AS u(o, n);
$$;

COMMENT ON FUNCTION pgmaint._option_names(text[]) IS
'Internal: the option names of a reloptions array (name=value elements).';

-- Internal: "name = 'value'" for SET, or "name" for RESET, safely quoted.
CREATE FUNCTION pgmaint._option_sql(option text, with_value boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN strpos(name, '.') > 0
                THEN format('%I.%I', split_part(name, '.', 1), substr(name, strpos(name, '.') + 1))
                ELSE format('%I', name) END
           || CASE WHEN with_value THEN format(' = %L', substr(option, strpos(option, '=') + 1)) ELSE '' END
      FROM (SELECT split_part(option, '=', 1) AS name) n;
$$;

COMMENT ON FUNCTION pgmaint._option_sql(text, boolean) IS
'Internal: one option of a reloptions array as ALTER TABLE SET (name = ''value'') or RESET (name) syntax, with quote_ident/quote_literal quoting.';

-- Internal: a table's reloptions, with its TOAST table's as toast.name=value.
CREATE FUNCTION pgmaint._reloptions(rel oid)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(c.reloptions, '{}')
           || ARRAY(SELECT 'toast.' || o FROM pg_class t, unnest(t.reloptions) o
                     WHERE t.oid = c.reltoastrelid)
      FROM pg_class c
     WHERE c.oid = rel;
$$;

COMMENT ON FUNCTION pgmaint._reloptions(oid) IS
'Internal: a table''s reloptions followed by its TOAST table''s, written toast.name=value as in ALTER TABLE.';

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

-- Internal: the user tables the policy considers.
CREATE FUNCTION pgmaint._policy_tables(
    OUT relid oid, OUT schema_name name, OUT table_name name)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid, n.nspname, c.relname
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r'
       AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmaint')
       AND n.nspname !~ '^pg_toast'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e');
$$;

COMMENT ON FUNCTION pgmaint._policy_tables() IS
'Internal: ordinary user tables (partitions included) the policy may classify: no system catalog, temporary table or table that belongs to an extension.';

-- Internal: snapshots the write counters of every user table and prunes old snapshots.
CREATE FUNCTION pgmaint._snapshot_activity(caller name)
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
    PERFORM pgmaint._prune_activity();
    RETURN taken;
END
$$;

COMMENT ON FUNCTION pgmaint._snapshot_activity(name) IS
'Internal: appends one table_activity row per user table (once per transaction) and prunes old snapshots, on behalf of caller.';

-- Internal: deletes snapshots past the window and those of tables that no longer exist.
CREATE FUNCTION pgmaint._prune_activity()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pruned bigint;
BEGIN
    DELETE FROM pgmaint.table_activity a
     WHERE a.taken_at < now() - pgmaint._activity_window()
        OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = a.relid);
    GET DIAGNOSTICS pruned = ROW_COUNT;
    RETURN pruned;
END
$$;

COMMENT ON FUNCTION pgmaint._prune_activity() IS
'Internal: deletes table_activity rows older than the rate window or of dropped tables; returns how many.';

REVOKE ALL ON FUNCTION pgmaint._prune_activity() FROM PUBLIC;

-- Internal: how far back rates look: 24 hours, or pgmaint.history_retention when shorter.
CREATE FUNCTION pgmaint._activity_window()
RETURNS interval
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT least(interval '24 hours',
                 coalesce(nullif(current_setting('pgmaint.history_retention', true), '')::interval,
                          interval '7 days'));
$$;

COMMENT ON FUNCTION pgmaint._activity_window() IS
'Internal: the window recommend_profiles() measures rates over: 24 hours, or pgmaint.history_retention when shorter.';

-- Internal: the classification rules (documented in README "Autovacuum policy").
CREATE FUNCTION pgmaint._classify(inserts numeric, updates numeric, deletes numeric,
                                  rows numeric, hours numeric,
                                  OUT profile text, OUT reason text)
RETURNS record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
               WHEN w < 1000 OR w / h < 60 THEN NULL
               WHEN m >= 0.20 * w AND m / h >= 0.20 * r THEN 'high_churn'
               WHEN inserts >= 0.95 * w AND m = 0 THEN 'append_only'
               WHEN inserts >= 0.95 * w THEN 'insert_heavy'
               ELSE 'moderate'
           END,
           CASE
               WHEN w < 1000 OR w / h < 60 THEN
                   format('too little activity to judge: %s row writes, %s per hour (needs 1000 and 60 per hour)',
                          w, round(w / h, 1))
               WHEN m >= 0.20 * w AND m / h >= 0.20 * r THEN
                   format('updates and deletes are %s%% of writes and %s%% of the table''s %s rows per hour (high churn from 20%% and 20%%)',
                          round(100 * m / w), round(100 * m / h / r), rows)
               WHEN inserts >= 0.95 * w AND m = 0 THEN
                   format('only inserts (%s), no update or delete', inserts)
               WHEN inserts >= 0.95 * w THEN
                   format('inserts are %s%% of writes (insert heavy from 95%%)', round(100 * inserts / w, 1))
               ELSE
                   format('mixed writes: %s%% inserts, %s%% updates and deletes, %s%% of the rows per hour',
                          round(100 * inserts / w), round(100 * m / w), round(100 * m / h / r))
           END
      FROM (SELECT inserts + updates + deletes AS w, updates + deletes AS m,
                   greatest(rows, 1) AS r, greatest(hours, 1.0 / 60) AS h) x;
$$;

COMMENT ON FUNCTION pgmaint._classify(numeric, numeric, numeric, numeric, numeric) IS
'Internal: the suggested profile and its reason for a table''s inserts, updates and deletes over hours, given its rows (NULL profile: too little activity).';

CREATE FUNCTION pgmaint.recommend_profiles(
    OUT relid regclass, OUT schema_name name, OUT table_name name, OUT rows bigint,
    OUT inserts_per_hour numeric, OUT updates_per_hour numeric, OUT deletes_per_hour numeric,
    OUT current_profile text, OUT suggested_profile text, OUT reason text,
    OUT pinned boolean, OUT basis text, OUT measured_since timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH params AS (
        SELECT pg_stat_get_db_stat_reset_time(d.oid) AS reset_at,
               pgmaint._activity_window() AS win
          FROM pg_database d WHERE d.datname = current_database()
    ),
    live AS (
        SELECT t.relid, t.schema_name, t.table_name,
               pg_stat_get_live_tuples(t.relid) AS n_live,
               pg_stat_get_tuples_inserted(t.relid) AS ins,
               pg_stat_get_tuples_updated(t.relid) AS upd,
               pg_stat_get_tuples_deleted(t.relid) AS del
          FROM pgmaint._policy_tables() t
    ),
    hist AS (
        SELECT DISTINCT ON (a.relid) a.relid, a.taken_at, a.n_tup_ins, a.n_tup_upd, a.n_tup_del
          FROM pgmaint.table_activity a, params
         WHERE a.taken_at >= now() - params.win
           AND a.taken_at <= now() - interval '5 minutes'
           AND (params.reset_at IS NULL OR a.taken_at > params.reset_at)
         ORDER BY a.relid, a.taken_at
    ),
    measured AS (
        SELECT l.*, covered,
               CASE WHEN covered THEN h.taken_at
                    ELSE coalesce(params.reset_at, pg_postmaster_start_time()) END AS since,
               l.ins - CASE WHEN covered THEN h.n_tup_ins ELSE 0 END AS d_ins,
               l.upd - CASE WHEN covered THEN h.n_tup_upd ELSE 0 END AS d_upd,
               l.del - CASE WHEN covered THEN h.n_tup_del ELSE 0 END AS d_del
          FROM live l
          CROSS JOIN params
          LEFT JOIN hist h ON h.relid = l.relid
          CROSS JOIN LATERAL (SELECT h.relid IS NOT NULL AND h.n_tup_ins <= l.ins
                                     AND h.n_tup_upd <= l.upd AND h.n_tup_del <= l.del AS covered) c
    )
    SELECT m.relid::regclass, m.schema_name, m.table_name, m.n_live,
           round(m.d_ins / x.hours, 1), round(m.d_upd / x.hours, 1), round(m.d_del / x.hours, 1),
           p.profile, k.profile, k.reason, coalesce(p.pinned, false),
           CASE WHEN m.covered THEN 'history' ELSE 'since_reset' END, m.since
      FROM measured m
      CROSS JOIN LATERAL (SELECT greatest(extract(epoch FROM now() - m.since) / 3600, 1.0 / 60)::numeric AS hours) x
      CROSS JOIN LATERAL pgmaint._classify(m.d_ins, m.d_upd, m.d_del, m.n_live, x.hours) k
      LEFT JOIN pgmaint.table_policy p ON p.relid = m.relid
     ORDER BY m.schema_name, m.table_name;
$$;

COMMENT ON FUNCTION pgmaint.recommend_profiles() IS
'Per user table: rows, inserts/updates/deletes per hour (from pgmaint''s snapshots when they cover the table, else since the statistics reset), the current and suggested autovacuum profile and why.';

GRANT EXECUTE ON FUNCTION pgmaint.recommend_profiles() TO pg_monitor;

-- The kind and qualified name of a table a profile can apply to; an error for
-- a relation that is gone (42P01) or is not an ordinary or partitioned table (42809).
CREATE FUNCTION pgmaint._tunable_table(rel regclass, OUT kind "char", OUT target text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT c.relkind, format('%I.%I', n.nspname, c.relname) INTO kind, target
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
END
$$;

COMMENT ON FUNCTION pgmaint._tunable_table(regclass) IS
'Internal: relkind and quoted name of a table an autovacuum profile can apply to; 42P01 or 42809 otherwise.';

-- Internal: sets a profile's options on a table (or on each leaf partition of
-- a partitioned table), resets what a previous profile set and this one does
-- not, records the policy row and audits.  Runs as the caller: ALTER TABLE
-- checks that the caller owns the table.  Returns NULL when the policy
-- (source 'policy') finds the table pinned once it holds the lock.
CREATE FUNCTION pgmaint._apply_profile(rel regclass, profile text, source text, action text,
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
        PERFORM pgmaint._policy_record(current_user, t::regclass, profile, source, opts, repl);
        changes := changes || jsonb_build_object(
            'table', t::regclass::text, 'before', to_jsonb(cur),
            'after', to_jsonb(pgmaint._reloptions(t)));
    END LOOP;

    IF kind = 'p' THEN
        PERFORM pgmaint._policy_record(current_user, rel, profile, source, opts, '{}');
    END IF;

    PERFORM pgmaint._policy_audit(current_user, action, rel::text,
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
'Internal: ALTER TABLE ... SET a profile''s options (on each leaf of a partitioned table) as the caller, under a 200 ms lock_timeout; records table_policy and audits.';

CREATE FUNCTION pgmaint.tune_table(rel regclass, profile text)
RETURNS text[]
LANGUAGE plpgsql
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

COMMENT ON FUNCTION pgmaint.tune_table(regclass, text) IS
'Sets a profile''s autovacuum options on a table (as its owner, under a short lock_timeout), pins it against the policy, audits; returns the reloptions now in effect.';

REVOKE ALL ON FUNCTION pgmaint.tune_table(regclass, text) FROM PUBLIC;

CREATE FUNCTION pgmaint.reset_table(rel regclass)
RETURNS text[]
LANGUAGE plpgsql
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
        PERFORM pgmaint._policy_record(current_user, rec.relid, NULL, NULL, NULL, NULL);
    END LOOP;

    IF profile IS NULL THEN
        RAISE NOTICE 'table % has no autovacuum profile set by pgmaint', rel;
    ELSE
        PERFORM pgmaint._policy_audit(current_user, 'reset_table', rel::text,
            jsonb_build_object('profile', profile, 'tables', changes), false);
    END IF;
    RETURN pgmaint._reloptions(rel);
END
$$;

COMMENT ON FUNCTION pgmaint.reset_table(regclass) IS
'Removes the autovacuum options pgmaint set on a table (restoring the table''s own values they replaced), forgets its policy row, audits; returns the reloptions now in effect.';

REVOKE ALL ON FUNCTION pgmaint.reset_table(regclass) FROM PUBLIC;

CREATE FUNCTION pgmaint.apply_policy(dry_run boolean DEFAULT true)
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
        IF dry_run THEN
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

COMMENT ON FUNCTION pgmaint.apply_policy(boolean) IS
'Tunes each non-pinned user table whose suggested profile differs from its current one, or whose profile was edited since (dry run by default); a locked table is skipped and retried next time; audits each table.';

REVOKE ALL ON FUNCTION pgmaint.apply_policy(boolean) FROM PUBLIC;

-- Internal: records a suggestion in advise mode; true when it is new.
CREATE FUNCTION pgmaint._advise(caller name, rel regclass, profile text, reason text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint._authorized(caller, NULL) THEN
        RAISE EXCEPTION 'permission denied to record policy advice'
              USING ERRCODE = '42501',
                    HINT = 'Advice is recorded by pgmaint.run_policy().';
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

-- Internal: forgets advice that no longer holds.
CREATE FUNCTION pgmaint._advice_keep(caller name, keep oid[])
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
    DELETE FROM pgmaint.policy_advice a WHERE NOT a.relid = ANY (keep);
END
$$;

COMMENT ON FUNCTION pgmaint._advice_keep(name, oid[]) IS
'Internal: deletes the policy_advice rows of tables not in keep (their suggestion went away or was applied).';

CREATE FUNCTION pgmaint.run_policy(mode text DEFAULT NULL)
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
         ORDER BY p.schema_name, p.table_name
    LOOP
        keep := keep || r.relid::oid;
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

COMMENT ON FUNCTION pgmaint.run_policy(text) IS
'One policy run (what the worker does every pgmaint.policy_interval): off does nothing; advise logs and records each new suggestion once; apply runs apply_policy(false). Also snapshots write counters.';

REVOKE ALL ON FUNCTION pgmaint.run_policy(text) FROM PUBLIC;

CREATE FUNCTION pgmaint.prune_history(retention interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keep interval := coalesce(retention,
                              nullif(current_setting('pgmaint.history_retention', true), '')::interval,
                              interval '7 days');
    n bigint;
    total bigint := 0;
BEGIN
    IF keep < interval '0' THEN
        RAISE EXCEPTION 'retention must not be negative' USING ERRCODE = '22023',
              HINT = 'Give how long to keep history, for example interval ''7 days''.';
    END IF;
    DELETE FROM pgmaint.table_activity a
     WHERE a.taken_at < now() - least(keep, pgmaint._activity_window())
        OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = a.relid);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    -- the sampler's history (it prunes itself too; this covers a stopped worker)
    IF pg_catalog.to_regclass('pgmaint.sample_history') IS NOT NULL THEN
        EXECUTE 'DELETE FROM pgmaint.sample_history WHERE sampled_at < now() - $1' USING keep;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END IF;
    RETURN total;
END
$$;

COMMENT ON FUNCTION pgmaint.prune_history(interval) IS
'Deletes history older than retention (default pgmaint.history_retention): sample_history rows, table_activity snapshots (never kept past the 24-hour rate window) and those of dropped tables; returns the rows deleted.';

REVOKE ALL ON FUNCTION pgmaint.prune_history(interval) FROM PUBLIC;

-- Internal: the nightly VACUUM of the tables tuned high_churn, or NULL when there is none.
CREATE FUNCTION pgmaint._vacuum_command()
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

-- The command of the vacuum job while no table is tuned high_churn (the job is then inactive).
CREATE FUNCTION pgmaint._no_vacuum_command()
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'SELECT ''pgmaint: no table is tuned high_churn''' $$;

COMMENT ON FUNCTION pgmaint._no_vacuum_command() IS
'Internal: the placeholder command of the inactive vacuum job while no table is tuned high_churn.';

-- Internal: keeps the nightly vacuum job's table list in step with
-- table_policy.  Runs as the extension's owner because cron.alter_job() is
-- not granted to PUBLIC; it only ever writes pgmaint's own job.  pg_cron is
-- reached through dynamic SQL: pgmaint never depends on it.
CREATE FUNCTION pgmaint._sync_vacuum_job()
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

CREATE FUNCTION pgmaint._table_policy_changed()
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

CREATE TRIGGER table_policy_changed
    AFTER INSERT OR UPDATE OR DELETE ON pgmaint.table_policy
    FOR EACH STATEMENT EXECUTE FUNCTION pgmaint._table_policy_changed();

-- Internal: raises 55000 unless pg_cron is installed in this database.
CREATE FUNCTION pgmaint._require_pg_cron()
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

CREATE FUNCTION pgmaint.schedule_maintenance(vacuum_hour integer DEFAULT 3,
                                             policy_schedule text DEFAULT '*/10 * * * *',
                                             prune_schedule text DEFAULT '15 * * * *')
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
    PERFORM pgmaint._policy_audit(current_user, 'schedule_maintenance', NULL,
        jsonb_build_object('vacuum_hour', vacuum_hour, 'policy_schedule', policy_schedule,
                           'prune_schedule', prune_schedule), false);
    RETURN QUERY EXECUTE
        'SELECT j.jobname::text, j.jobid, j.schedule, j.command, j.active FROM cron.job j
          WHERE j.jobname = ANY ($1) AND j.username = current_user AND j.database = current_database()
          ORDER BY j.jobname'
        USING ARRAY['pgmaint-policy', 'pgmaint-prune-history', 'pgmaint-vacuum-high-churn'];
END
$$;

COMMENT ON FUNCTION pgmaint.schedule_maintenance(integer, text, text) IS
'Creates or updates the pg_cron jobs pgmaint-policy, pgmaint-prune-history and pgmaint-vacuum-high-churn (nightly VACUUM ANALYZE at vacuum_hour GMT); needs pg_cron in this database (55000 otherwise).';

REVOKE ALL ON FUNCTION pgmaint.schedule_maintenance(integer, text, text) FROM PUBLIC;

CREATE FUNCTION pgmaint.unschedule_maintenance()
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
    PERFORM pgmaint._policy_audit(current_user, 'unschedule_maintenance', NULL, '{}', false);
END
$$;

COMMENT ON FUNCTION pgmaint.unschedule_maintenance() IS
'Removes the pg_cron jobs schedule_maintenance() created (and nothing else); returns their names.';

REVOKE ALL ON FUNCTION pgmaint.unschedule_maintenance() FROM PUBLIC;

-- Internal: what a role needs to tune its tables (and, with_policy, to run the policy).
CREATE FUNCTION pgmaint._tuning_privileges(with_policy boolean,
                                           OUT kind text, OUT object text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.tune_table(regclass, text)', 'pgmaint.reset_table(regclass)',
        'pgmaint._apply_profile(regclass, text, text, text, jsonb)',
        'pgmaint._option_names(text[])', 'pgmaint._option_sql(text, boolean)',
        'pgmaint._reloptions(oid)', 'pgmaint._tunable_table(regclass)',
        'pgmaint._policy_record(name, regclass, text, text, text[], text[])',
        'pgmaint._policy_audit(name, text, text, jsonb, boolean)']) f
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.profiles', 'pgmaint.table_policy']) t
    UNION ALL
    SELECT 'FUNCTION', f FROM unnest(ARRAY[
        'pgmaint.recommend_profiles()', 'pgmaint.apply_policy(boolean)', 'pgmaint.run_policy(text)',
        'pgmaint._policy_tables()', 'pgmaint._activity_window()',
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
'Internal: the functions (EXECUTE) and tables (SELECT) grant_tuning() grants and revoke_tuning() revokes.';

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
'Lets a role call tune_table() and reset_table() on the tables it owns (with_policy: also recommend_profiles(), apply_policy() and run_policy()); audited.';

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

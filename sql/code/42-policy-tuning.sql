-- Autovacuum policy, tuning: tune_table() and reset_table() set and remove
-- a profile's options on a table, as its owner, under a short lock timeout.

-- Internal: the name of each "name=value" option.
CREATE OR REPLACE FUNCTION pgmaint._option_names(options text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(split_part(o, '=', 1) ORDER BY n), '{}')
      FROM unnest(options) WITH ORDINALITY AS u(o, n);
$$;

COMMENT ON FUNCTION pgmaint._option_names(text[]) IS
'Internal: the option names of a reloptions array (name=value elements).';

REVOKE ALL ON FUNCTION pgmaint._option_names(text[]) FROM PUBLIC;

-- Internal: "name = 'value'" for SET, or "name" for RESET, safely quoted.
CREATE OR REPLACE FUNCTION pgmaint._option_sql(option text, with_value boolean)
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

REVOKE ALL ON FUNCTION pgmaint._option_sql(text, boolean) FROM PUBLIC;

-- Internal: a table's reloptions, with its TOAST table's as toast.name=value.
CREATE OR REPLACE FUNCTION pgmaint._reloptions(rel oid)
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

REVOKE ALL ON FUNCTION pgmaint._reloptions(oid) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION pgmaint._tunable_table(regclass) FROM PUBLIC;

-- The lock timeout of every statement pgmaint runs on a user table (the
-- policy's ALTER TABLEs, retention), written once in src/pgmaint.h.
CREATE OR REPLACE FUNCTION pgmaint._policy_lock_timeout()
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_policy_lock_timeout';

COMMENT ON FUNCTION pgmaint._policy_lock_timeout() IS
'Internal: the lock_timeout under which pgmaint locks a user table (the autovacuum policy, tune_table()/reset_table(), retention, exact bloat); its value is PGMAINT_LOCK_TIMEOUT in src/pgmaint.h.';

REVOKE ALL ON FUNCTION pgmaint._policy_lock_timeout() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._policy_lock_timeout() TO pg_monitor;

-- Internal: sets a profile's options on a table (or on each leaf partition of
-- a partitioned table), resets what a previous profile set and this one does
-- not, records the policy row and audits.  Runs within an action's impl (as
-- the extension's owner) and refuses a table the action's caller does not
-- own (pgmaint._caller()).  Returns NULL when the policy
-- (source 'policy') finds the table pinned once it holds the lock.  It runs
-- under _policy_lock_timeout(), set here and restored on return (an error
-- undoes it with the (sub)transaction).
CREATE OR REPLACE FUNCTION pgmaint._apply_profile(rel regclass, profile text, source text, action text,
                                       note jsonb DEFAULT '{}')
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller_timeout text := pg_catalog.current_setting('lock_timeout');
    policy_timeout text := pg_catalog.set_config('lock_timeout', pgmaint._policy_lock_timeout(), true);
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
    result text[];
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
        PERFORM pg_catalog.set_config('lock_timeout', caller_timeout, true);
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

    result := CASE WHEN kind = 'p' THEN opts ELSE pgmaint._reloptions(rel) END;
    PERFORM pg_catalog.set_config('lock_timeout', caller_timeout, true);
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint._apply_profile(regclass, text, text, text, jsonb) IS
'Internal: ALTER TABLE ... SET a profile''s options (on each leaf of a partitioned table) of a table the action''s caller owns, under _policy_lock_timeout(); records table_policy and audits.';

REVOKE ALL ON FUNCTION pgmaint._apply_profile(regclass, text, text, text, jsonb) FROM PUBLIC;

-- Internal: the body of pgmaint.tune_table(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
CREATE OR REPLACE FUNCTION pgmaint._tune_table_impl(rel regclass, profile text)
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
                    DETAIL = format('Another session held a conflicting lock for longer than the lock timeout (%s); nothing was changed.',
                                    pgmaint._policy_lock_timeout()),
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

COMMENT ON FUNCTION pgmaint.tune_table(regclass, text) IS
'Sets a profile''s autovacuum options on a table (as its owner, under a short lock_timeout), pins it against the policy, audits; returns the reloptions now in effect.';

REVOKE ALL ON FUNCTION pgmaint.tune_table(regclass, text) FROM PUBLIC;

-- Internal: the body of pgmaint.reset_table(), called by its gate (pgmaint_action, src/actions.c)
-- with the caller remembered; runs as the extension's owner and checks that the caller owns each table it touches.
-- Runs under _policy_lock_timeout(), as _apply_profile() does.
CREATE OR REPLACE FUNCTION pgmaint._reset_table_impl(rel regclass)
RETURNS text[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller_timeout text := pg_catalog.current_setting('lock_timeout');
    policy_timeout text := pg_catalog.set_config('lock_timeout', pgmaint._policy_lock_timeout(), true);
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
                    DETAIL = format('Another session held a conflicting lock for longer than the lock timeout (%s); nothing was changed.',
                                    pgmaint._policy_lock_timeout()),
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
    PERFORM pg_catalog.set_config('lock_timeout', caller_timeout, true);
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

COMMENT ON FUNCTION pgmaint.reset_table(regclass) IS
'Removes the autovacuum options pgmaint set on a table (restoring the table''s own values they replaced), forgets its policy row, audits; returns the reloptions now in effect.';

REVOKE ALL ON FUNCTION pgmaint.reset_table(regclass) FROM PUBLIC;

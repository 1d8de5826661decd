-- pgmaint 1.0 -> 1.1, written by hand.  Every change of sql/install/*.sql
-- since 1.0 appears here too, so that ALTER EXTENSION pgmaint UPDATE gives
-- an installed database exactly what CREATE EXTENSION pgmaint gives a new
-- one (test/integration/upgrade.sh compares the two catalogs).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.1'" to load this file. \quit

-- ==== One home for every rule; generic seed text (issue 12) ====
-- checklist() grades by health_checks(); usable connections, the leak rule,
-- the positive-interval check, the policy's lock timeout, the settings'
-- defaults, the table-health floors, the guide's settings list and the
-- ring's statistics-reset rule are each written once (C exports the C
-- ones).  Seed descriptions lose application table names, and follow the
-- new wording, only where the user has not edited them (still the 1.0 text).

-- New internal functions: each rule's one home, or SQL's door to a C one.

CREATE FUNCTION pgmaint._setting(name text)
RETURNS text
LANGUAGE c STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_setting';

COMMENT ON FUNCTION pgmaint._setting(text) IS
'Internal: the value of a pgmaint.* setting (as SHOW gives it), read after loading the library so that its default is the C one.';

REVOKE ALL ON FUNCTION pgmaint._setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._setting(text) TO pg_monitor;

CREATE FUNCTION pgmaint._ring_block_deltas(since timestamptz, OUT hits numeric, OUT reads numeric)
RETURNS record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_ring_block_deltas';

COMMENT ON FUNCTION pgmaint._ring_block_deltas(timestamptz) IS
'Internal: block hits and reads of the sampled database summed over the ring''s intervals starting at or after since, leaving out those across a statistics reset (as samples() does); NULL without any.';

REVOKE ALL ON FUNCTION pgmaint._ring_block_deltas(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._ring_block_deltas(timestamptz) TO pg_monitor;

CREATE FUNCTION pgmaint._leaked(state text, state_change timestamptz, idle_for interval)
RETURNS boolean
LANGUAGE c VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_leaked';

COMMENT ON FUNCTION pgmaint._leaked(text, timestamptz, interval) IS
'Internal: true when a pg_stat_activity row (state, state_change) is idle in a transaction, or an aborted one, since before now - idle_for; false for NULLs.';

REVOKE ALL ON FUNCTION pgmaint._leaked(text, timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._leaked(text, timestamptz, interval) TO pg_monitor;

CREATE FUNCTION pgmaint._usable_connections()
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.current_setting('max_connections')::integer
           - pg_catalog.current_setting('superuser_reserved_connections')::integer
           - coalesce(nullif(pg_catalog.current_setting('reserved_connections', true), '')::integer, 0);
$$;

COMMENT ON FUNCTION pgmaint._usable_connections() IS
'Internal: max_connections - superuser_reserved_connections (- reserved_connections on PostgreSQL 16 and later): the slots an application role can use.';

REVOKE ALL ON FUNCTION pgmaint._usable_connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._usable_connections() TO pg_monitor;

CREATE FUNCTION pgmaint._policy_lock_timeout()
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_policy_lock_timeout';

COMMENT ON FUNCTION pgmaint._policy_lock_timeout() IS
'Internal: the lock_timeout under which the autovacuum policy and tune_table()/reset_table() lock a table; its value is PGMAINT_POLICY_LOCK_TIMEOUT in src/policy.c.';

REVOKE ALL ON FUNCTION pgmaint._policy_lock_timeout() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._policy_lock_timeout() TO pg_monitor;

CREATE FUNCTION pgmaint._guide_settings(
    OUT ord integer, OUT name text, OUT recommended text, OUT why text, OUT topic text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
        (1, 'autovacuum_naptime', '30s', 'check high-churn tables twice a minute (the guide)', 'autovacuum'),
        (2, 'statement_timeout', '30s', 'stop runaway queries (the guide); raise it per role for batch jobs', 'timeout'),
        (3, 'lock_timeout', '10s', 'fail fast instead of queueing behind a lock (the guide)', 'timeout'),
        (4, 'idle_in_transaction_session_timeout', '5min', 'end leaked transactions (the guide)', 'timeout'),
        (5, 'log_destination', 'stderr', 'the guide; docker logs reads stderr', 'log_setup'),
        (6, 'logging_collector', 'on', 'the guide: keep log files in the data directory', 'log_setup'),
        (7, 'log_min_messages', 'warning', 'the guide', 'log_setup'),
        (8, 'log_min_error_statement', 'error', 'the guide: log the statement of every error', 'log_setup'),
        (9, 'log_checkpoints', 'on', 'the guide', 'logging'),
        (10, 'log_connections', 'on', 'the guide: find connection leaks', 'logging'),
        (11, 'log_disconnections', 'on', 'the guide: session durations', 'logging'),
        (12, 'log_lock_waits', 'on', 'the guide: waits longer than deadlock_timeout', 'logging'),
        (13, 'log_temp_files', '10MB', 'the guide: sorts that spill, a sign of a small work_mem', 'logging'),
        (14, 'log_autovacuum_min_duration', '0', 'the guide: every autovacuum run', 'logging');
$$;

COMMENT ON FUNCTION pgmaint._guide_settings() IS
'Internal: the settings the guide gives fixed values for (ord, name, recommended, why, topic), read by settings_advice(), config_audit() and checklist().';

REVOKE ALL ON FUNCTION pgmaint._guide_settings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._guide_settings() TO pg_monitor;

CREATE FUNCTION pgmaint._table_health_floors(OUT min_reads bigint, OUT min_tuples bigint)
RETURNS record
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_floors';

COMMENT ON FUNCTION pgmaint._table_health_floors() IS
'Internal: the heap block reads (table_cache_hit) and live + dead tuples (dead_tuples) a table needs before the table-level checks judge it.';

REVOKE ALL ON FUNCTION pgmaint._table_health_floors() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_floors() TO pg_monitor;

CREATE FUNCTION pgmaint._checks_verdict(checks text[], OUT status text, OUT evidence text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT CASE WHEN bool_or(h.status IN ('warning', 'critical')) THEN 'fail'
                WHEN bool_or(h.status IS NULL OR h.status = 'unknown') THEN 'unknown'
                ELSE 'pass' END,
           string_agg(CASE WHEN h.check_name IS NULL
                           THEN format('%s: disabled in pgmaint.thresholds', c.name)
                           ELSE format('%s %s: %s', c.name, h.status, h.message) END,
                      '; ' ORDER BY c.n)
      INTO status, evidence
      FROM unnest(checks) WITH ORDINALITY AS c(name, n)
      LEFT JOIN pgmaint.health_checks() h ON h.check_name = c.name;
END
$$;

COMMENT ON FUNCTION pgmaint._checks_verdict(text[]) IS
'Internal: a checklist() item graded by health checks: fail (one is warning or critical), unknown (one is unknown or disabled) or pass, with their messages as evidence.';

REVOKE ALL ON FUNCTION pgmaint._checks_verdict(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checks_verdict(text[]) TO pg_monitor;

-- Functions that now use those homes instead of their own copies.

CREATE OR REPLACE FUNCTION pgmaint.prune_history(retention interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keep interval := coalesce(retention, pgmaint._setting('pgmaint.history_retention')::interval);
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

CREATE OR REPLACE FUNCTION pgmaint._require_interval(name text, value interval)
RETURNS void
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_require_interval';

CREATE OR REPLACE FUNCTION pgmaint.connection_leaks(
    OUT pid integer, OUT datname name, OUT usename name, OUT application_name text,
    OUT client_addr inet, OUT backend_start timestamptz, OUT xact_start timestamptz,
    INOUT idle_for interval DEFAULT '5 min',
    OUT xact_age interval, OUT query text, OUT blocking integer, OUT state text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    min_idle interval := idle_for;
BEGIN
    PERFORM pgmaint._require_interval('idle_for', min_idle);
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now),
    waiting AS (
        SELECT w.pid, pg_catalog.pg_blocking_pids(w.pid) AS blockers
          FROM (SELECT DISTINCT l.pid FROM pg_catalog.pg_locks l
                 WHERE NOT l.granted AND l.pid IS NOT NULL) w
    )
    SELECT a.pid, a.datname, a.usename, a.application_name, a.client_addr,
           a.backend_start, a.xact_start, t.now - a.state_change, t.now - a.xact_start, a.query,
           (SELECT count(*)::integer FROM waiting WHERE a.pid = ANY (waiting.blockers)),
           a.state
      FROM pg_catalog.pg_stat_activity a, t
     WHERE pgmaint._leaked(a.state, a.state_change, min_idle)
     ORDER BY a.state_change, a.pid;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.connection_budget(
    pool_size integer DEFAULT 5, max_overflow integer DEFAULT 10,
    instances integer DEFAULT 1, reserve integer DEFAULT 5,
    OUT item text, OUT value numeric, OUT verdict text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    max_conn    integer := current_setting('max_connections')::integer;
    su_reserved integer := current_setting('superuser_reserved_connections')::integer;
    usable      integer := pgmaint._usable_connections();
    -- reserved_connections (PostgreSQL 16 and later): what else _usable_connections() keeps
    reserved    integer := max_conn - su_reserved - usable;
    planned     bigint;
    share       numeric;
    now_used    bigint;
    work_mem_kb numeric;
    hash_mult   numeric;
    maint_kb    numeric;
    av_workers  integer;
    per_conn_mb numeric;
    memory_mb   numeric;
    advice      text[] := '{}';
    running     boolean := false;
    peak        integer;
    ring_peak   integer;
    peak_since  timestamptz;
    ring_since  timestamptz;
    sampler_error text;
BEGIN
    PERFORM pgmaint._require_count('pool_size', pool_size, 1);
    PERFORM pgmaint._require_count('max_overflow', max_overflow, 0);
    PERFORM pgmaint._require_count('instances', instances, 1);
    PERFORM pgmaint._require_count('reserve', reserve, 0);
    planned := (pool_size::bigint + max_overflow) * instances + reserve;
    IF planned > 10000 THEN
        RAISE EXCEPTION 'planned connections (%) exceed 10000', planned
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('(%s + %s) * %s + %s = %s.', pool_size, max_overflow,
                                  instances, reserve, planned),
                  HINT = 'No PostgreSQL server serves that many connections: put a pooler such as PgBouncer in front, or plan smaller pools.';
    END IF;

    share := round(100.0 * planned / greatest(usable, 1));
    SELECT count(*) INTO now_used FROM pg_catalog.pg_stat_activity a
     WHERE a.backend_type = 'client backend';

    -- the peak the sampler saw: its persisted history and its ring (which a
    -- standby has too); without the worker, or without preloading, no peak,
    -- and never an error from here
    SELECT max(h.client_backends), min(h.sampled_at) INTO peak, peak_since
      FROM pgmaint.sample_history h;
    BEGIN
        SELECT st.running INTO running FROM pgmaint.sampler_status() st;
        SELECT max(r.client_backends), min(r.sampled_at) INTO ring_peak, ring_since
          FROM pgmaint.samples(NULL) r;
        peak := greatest(peak, ring_peak);
        peak_since := least(peak_since, ring_since);
    EXCEPTION
        WHEN object_not_in_prerequisite_state THEN
            running := false;
        WHEN OTHERS THEN
            running := false;
            sampler_error := SQLERRM;
    END;

    work_mem_kb := pg_size_bytes(current_setting('work_mem')) / 1024;
    hash_mult := current_setting('hash_mem_multiplier')::numeric;
    maint_kb := pg_size_bytes(CASE WHEN current_setting('autovacuum_work_mem') = '-1'
                                   THEN current_setting('maintenance_work_mem')
                                   ELSE current_setting('autovacuum_work_mem') END) / 1024;
    av_workers := current_setting('autovacuum_max_workers')::integer;
    per_conn_mb := round(work_mem_kb * coalesce(hash_mult, 1) / 1024, 1);
    memory_mb := round((planned * work_mem_kb * coalesce(hash_mult, 1) + av_workers * maint_kb) / 1024);

    item := 'planned connections';
    value := planned;
    verdict := format('(%s + %s) * %s + %s = %s, %s%% of %s usable: %s',
                      pool_size, max_overflow, instances, reserve, planned, share, usable,
                      CASE WHEN planned > usable THEN 'over budget'
                           WHEN share > 80 THEN 'tight'
                           ELSE 'fits' END);
    RETURN NEXT;

    item := 'max_connections';
    value := max_conn;
    verdict := 'server setting (restart to change)';
    RETURN NEXT;

    item := 'superuser_reserved_connections';
    value := su_reserved + reserved;
    verdict := CASE WHEN reserved > 0
                    THEN format('%s for superusers and %s for pg_use_reserved_connections', su_reserved, reserved)
                    ELSE 'kept free for superusers' END;
    RETURN NEXT;

    item := 'usable connections';
    value := usable;
    verdict := 'max_connections - superuser_reserved_connections'
               || CASE WHEN reserved > 0 THEN ' - reserved_connections' ELSE '' END
               || ': what the application can open';
    RETURN NEXT;

    item := 'headroom';
    value := usable - planned;
    verdict := CASE WHEN planned > usable
                    THEN format('%s connections short: the last ones fail with "remaining connection slots are reserved"', planned - usable)
                    ELSE format('%s slots left for psql, cron jobs, migrations and another instance', usable - planned) END;
    RETURN NEXT;

    item := 'client connections now';
    value := now_used;
    verdict := format('%s%% of usable', round(100.0 * now_used / greatest(usable, 1)));
    RETURN NEXT;

    item := 'peak client connections';
    value := peak;
    verdict := CASE
        WHEN peak IS NULL AND sampler_error IS NOT NULL
            THEN format('unknown: the sampler cannot be read (%s)', sampler_error)
        WHEN peak IS NULL AND NOT pgmaint.preloaded()
            THEN 'unknown: the sampler is not running (pgmaint is not in shared_preload_libraries)'
        WHEN peak IS NULL AND NOT coalesce(running, false)
            THEN 'unknown: the sampler is not running'
        WHEN peak IS NULL
            THEN 'unknown: the sampler has no sample yet'
        ELSE format('the most the sampler saw since %s, %s%% of usable%s%s',
                    date_trunc('second', peak_since),
                    round(100.0 * peak / greatest(usable, 1)),
                    CASE WHEN peak > planned
                         THEN ': more than planned, other clients (psql, cron, migrations, another instance) connect too'
                         ELSE '' END,
                    CASE WHEN NOT coalesce(running, false)
                         THEN '; the sampler is not running now' ELSE '' END)
    END;
    RETURN NEXT;

    item := 'work_mem per connection (MB)';
    value := per_conn_mb;
    verdict := format('work_mem %s * hash_mem_multiplier %s: one sort or hash step; a query with several uses a multiple',
                      current_setting('work_mem'), coalesce(hash_mult, 1));
    RETURN NEXT;

    item := 'memory estimate (MB)';
    value := memory_mb;
    verdict := format('%s connections * %s MB + %s autovacuum workers * %s MB maintenance memory, on top of shared_buffers %s',
                      planned, per_conn_mb, av_workers, round(maint_kb / 1024),
                      current_setting('shared_buffers'));
    RETURN NEXT;

    IF planned > usable THEN
        advice := array_append(advice, format('lower pool_size or max_overflow, or raise max_connections to at least %s',
                                   planned + su_reserved + reserved));
    ELSIF share > 80 THEN
        advice := array_append(advice, 'little headroom: a second instance or a deploy overlap will run out of connections');
    END IF;
    IF instances > 1 AND planned > usable THEN
        advice := array_append(advice, 'with several instances, a pooler such as PgBouncer keeps server connections constant');
    END IF;
    item := 'advice';
    value := NULL;
    verdict := CASE WHEN cardinality(advice) = 0 THEN 'the plan fits this server'
                    ELSE array_to_string(advice, '; ') END;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer) IS
'The pool arithmetic of the guide against this server: planned connections (pool_size + max_overflow) * instances + reserve, usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later), current use, the peak the sampler saw (NULL when it is not running), a memory estimate, and advice.';

CREATE OR REPLACE FUNCTION pgmaint._tuning_privileges(with_policy boolean,
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

CREATE OR REPLACE FUNCTION pgmaint._activity_window()
RETURNS interval
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT least(interval '24 hours', pgmaint._setting('pgmaint.history_retention')::interval);
$$;

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

    result := CASE WHEN kind = 'p' THEN opts ELSE pgmaint._reloptions(rel) END;
    PERFORM pg_catalog.set_config('lock_timeout', caller_timeout, true);
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint._apply_profile(regclass, text, text, text, jsonb) IS
'Internal: ALTER TABLE ... SET a profile''s options (on each leaf of a partitioned table) as the caller, under _policy_lock_timeout(); records table_policy and audits.';

CREATE OR REPLACE FUNCTION pgmaint.tune_table(rel regclass, profile text)
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
                    DETAIL = format('Another session held a conflicting lock for longer than the lock timeout (%s); nothing was changed.',
                                    pgmaint._policy_lock_timeout()),
                    HINT = 'Retry when the session holding the lock (see pgmaint.blocking_locks() or pg_locks) has finished.';
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.reset_table(rel regclass)
RETURNS text[]
LANGUAGE plpgsql
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
        PERFORM pgmaint._policy_record(current_user, rec.relid, NULL, NULL, NULL, NULL);
    END LOOP;

    IF profile IS NULL THEN
        RAISE NOTICE 'table % has no autovacuum profile set by pgmaint', rel;
    ELSE
        PERFORM pgmaint._policy_audit(current_user, 'reset_table', rel::text,
            jsonb_build_object('profile', profile, 'tables', changes), false);
    END IF;
    PERFORM pg_catalog.set_config('lock_timeout', caller_timeout, true);
    RETURN pgmaint._reloptions(rel);
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.run_policy(mode text DEFAULT NULL)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE plpgsql
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

CREATE OR REPLACE FUNCTION pgmaint._advice(ram_mb bigint, ram_source text, cpus integer, cpus_source text,
                                storage text, max_connections integer,
                                shm_bytes bigint, shm_source text)
RETURNS TABLE (name text, current text, recommended text, unit text, status text,
               reason text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_conn      integer;
    v_sb_kb     bigint;
    v_ecs_kb    bigint;
    v_wm_kb     bigint;
    v_mwm_kb    bigint;
    v_walb_kb   bigint;
    v_maxwal_kb bigint;
    v_avw       integer;
    v_rpc       text;
    v_eio       text;
    v_ram_txt   text;
    v_cur       record;
    v_est       numeric;
    v_rec_est   numeric;
    v_need      numeric;
BEGIN
    IF ram_mb IS NULL OR ram_mb < 1 THEN
        RAISE EXCEPTION 'ram_mb must be a positive number of megabytes'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the memory of the server or container in MB.';
    END IF;
    IF cpus IS NULL OR cpus < 1 THEN
        RAISE EXCEPTION 'cpus must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the number of CPUs of the server or container.';
    END IF;
    IF storage IS NULL OR storage NOT IN ('ssd', 'hdd', 'nvme', 'san') THEN
        RAISE EXCEPTION 'invalid storage "%"', storage
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of ssd, hdd, nvme or san.';
    END IF;
    IF max_connections IS NOT NULL AND (max_connections < 5 OR max_connections > 262143) THEN
        RAISE EXCEPTION 'max_connections must be between 5 and 262143'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it NULL to get a recommendation for the memory.';
    END IF;

    -- the formulas (README, "Settings advisor"); 1 GB and 2 GB give the guide's tables
    v_conn := coalesce(max_connections, least(200, greatest(20, 10 + 20 * ram_mb / 1024)));
    v_sb_kb := ram_mb * 1024 / 4;
    v_ecs_kb := ram_mb * 1024 / 2;
    v_mwm_kb := least(2097152, greatest(1024, ram_mb * 1024 / 32));
    v_wm_kb := greatest(64, least(ram_mb * 1024 / 256,
                                  (ram_mb * 1024 - v_sb_kb) / (v_conn * 3)));
    -- whole megabytes, as an administrator writes them (1 GB and 2 GB are already)
    v_sb_kb := v_sb_kb / 1024 * 1024;
    v_ecs_kb := v_ecs_kb / 1024 * 1024;
    v_mwm_kb := v_mwm_kb / 1024 * 1024;
    IF v_wm_kb >= 1024 THEN
        v_wm_kb := v_wm_kb / 1024 * 1024;
    END IF;
    v_walb_kb := CASE WHEN v_sb_kb >= 262144 THEN 16384 ELSE greatest(64, v_sb_kb / 32) END;
    v_maxwal_kb := greatest(1048576, least(16777216, ram_mb / 2 * 1024));
    v_avw := least(8, greatest(2, cpus / 2 + 1));
    v_rpc := CASE storage WHEN 'hdd' THEN '4' ELSE '1.1' END;
    v_eio := CASE storage WHEN 'hdd' THEN '2' WHEN 'ssd' THEN '200'
                          WHEN 'san' THEN '300' ELSE '1000' END;
    v_ram_txt := ram_mb || 'MB RAM';

    RETURN QUERY
    WITH rec (ord, name, recommended, why) AS (
        VALUES
        (1, 'shared_buffers', pgmaint._size_text(v_sb_kb),
            format('25%% of %s (the guide; pgtune too)', v_ram_txt)),
        (2, 'effective_cache_size', pgmaint._size_text(v_ecs_kb),
            format('50%% of %s: in a container the page cache is shared with the application (pgtune assumes 75%%)', v_ram_txt)),
        (3, 'work_mem', pgmaint._size_text(v_wm_kb),
            format('RAM/256, at most (RAM - shared_buffers) / (3 x %s connections)', v_conn)),
        (4, 'maintenance_work_mem', pgmaint._size_text(v_mwm_kb),
            format('RAM/32 (the guide), between 1MB and 2GB, for %s', v_ram_txt)),
        (5, 'max_connections', v_conn::text,
            CASE WHEN max_connections IS NULL
                 THEN format('10 + 20 per GB of RAM, between 20 and 200, for %s; put a pooler in front beyond that', v_ram_txt)
                 ELSE 'as requested' END),
        (6, 'wal_buffers', pgmaint._size_text(v_walb_kb),
            'one WAL segment (16MB, the guide) once shared_buffers reaches 256MB, else shared_buffers/32'),
        (7, 'checkpoint_completion_target', '0.9', 'spread checkpoint writes (the guide)'),
        (8, 'min_wal_size', pgmaint._size_text(v_maxwal_kb / 4096 * 1024), 'max_wal_size/4'),
        (9, 'max_wal_size', pgmaint._size_text(v_maxwal_kb),
            'RAM/2, between 1GB (the guide) and 16GB: fewer forced checkpoints'),
        (10, 'random_page_cost', v_rpc, format('%s storage', storage)),
        (11, 'effective_io_concurrency', v_eio, format('%s storage', storage)),
        (12, 'autovacuum_max_workers', v_avw::text,
            format('CPUs/2 + 1, between 2 and 8, for %s CPUs (%s)', cpus, cpus_source))
        UNION ALL
        SELECT 12 + g.ord, g.name, g.recommended, g.why FROM pgmaint._guide_settings() g
    ),
    cmp AS (
        SELECT r.ord, r.name, r.recommended, r.why, s.unit AS s_unit, s.vartype,
               s.context, s.reset_val,
               CASE WHEN s.vartype IN ('integer', 'real')
                    THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END AS cur_base,
               CASE WHEN s.vartype IN ('integer', 'real') THEN
                    CASE WHEN s.unit IN ('ms', 's', 'min') THEN
                              CASE WHEN r.recommended ~ '^[0-9.]+min$' THEN rtrim(r.recommended, 'min')::numeric * 60000
                                   WHEN r.recommended ~ '^[0-9.]+ms$' THEN rtrim(r.recommended, 'ms')::numeric
                                   WHEN r.recommended ~ '^[0-9.]+s$' THEN rtrim(r.recommended, 's')::numeric * 1000
                                   ELSE r.recommended::numeric * pgmaint._unit_factor(s.unit) END
                         WHEN s.unit IS NOT NULL AND r.recommended ~ '[a-zA-Z]$'
                              THEN pg_catalog.pg_size_bytes(r.recommended)::numeric
                         WHEN s.unit IS NOT NULL
                              THEN r.recommended::numeric * pgmaint._unit_factor(s.unit)
                         ELSE r.recommended::numeric END
               END AS rec_base
          FROM rec r
          LEFT JOIN pg_catalog.pg_settings s ON s.name = r.name
    ),
    graded AS (
        SELECT c.*,
               CASE WHEN c.vartype IS NULL THEN NULL
                    WHEN c.cur_base IS NULL THEN c.reset_val
                    WHEN c.cur_base < 0 THEN c.reset_val
                    WHEN c.s_unit IN ('ms', 's', 'min') THEN pgmaint._ms_text(c.cur_base)
                    WHEN c.s_unit IS NOT NULL THEN pgmaint._size_text(c.cur_base / 1024)
                    ELSE c.reset_val END AS cur_text,
               CASE WHEN c.vartype IS NULL THEN 'differs'
                    WHEN c.name = 'shared_buffers' AND c.cur_base > 0.4 * ram_mb * 1048576 THEN 'risky'
                    WHEN c.name = 'effective_cache_size' AND c.cur_base > ram_mb * 1048576::numeric THEN 'risky'
                    WHEN c.cur_base IS NOT NULL AND c.cur_base = c.rec_base THEN 'ok'
                    WHEN c.cur_base IS NULL AND lower(c.reset_val) = lower(c.recommended) THEN 'ok'
                    ELSE 'differs' END AS st
          FROM cmp c
    )
    SELECT g.name, g.cur_text, g.recommended,
           g.s_unit,
           g.st,
           CASE WHEN g.vartype IS NULL THEN g.why || '; not a setting of this server'
                WHEN g.st = 'risky' AND g.name = 'shared_buffers'
                     THEN format('above 40%% of %s leaves too little for connections, the OS and the application; %s', v_ram_txt, g.why)
                WHEN g.st = 'risky'
                     THEN format('above the %s: the planner counts on cache that does not exist; %s', v_ram_txt, g.why)
                WHEN g.st = 'ok' THEN g.why
                WHEN g.context = 'postmaster' THEN g.why || '; takes effect after a restart'
                ELSE g.why || '; takes effect after SELECT pg_reload_conf()' END,
           CASE WHEN g.st = 'ok' OR g.vartype IS NULL THEN NULL
                ELSE pgmaint._set_fix(g.name, g.recommended) END
      FROM graded g
     ORDER BY g.ord;

    -- memory risk: what the current settings may take at peak, against the RAM
    SELECT max(CASE s.name WHEN 'shared_buffers' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS sb,
           max(CASE s.name WHEN 'max_connections' THEN s.reset_val::numeric END) AS conn,
           max(CASE s.name WHEN 'work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS wm,
           max(CASE s.name WHEN 'hash_mem_multiplier' THEN s.reset_val::numeric END) AS hmm,
           max(CASE s.name WHEN 'autovacuum_max_workers' THEN s.reset_val::numeric END) AS avw,
           max(CASE s.name WHEN 'maintenance_work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS mwm,
           max(CASE s.name WHEN 'autovacuum_work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS avwm,
           max(CASE s.name WHEN 'max_parallel_workers' THEN s.reset_val::numeric END) AS mpw,
           max(CASE s.name WHEN 'max_parallel_workers_per_gather' THEN s.reset_val::numeric END) AS mpwg,
           max(CASE s.name WHEN 'dynamic_shared_memory_type' THEN s.reset_val END) AS dsm
      INTO v_cur
      FROM pg_catalog.pg_settings s
     WHERE s.name IN ('shared_buffers', 'max_connections', 'work_mem', 'hash_mem_multiplier',
                      'autovacuum_max_workers', 'maintenance_work_mem', 'autovacuum_work_mem',
                      'max_parallel_workers', 'max_parallel_workers_per_gather',
                      'dynamic_shared_memory_type');

    v_est := v_cur.sb + v_cur.conn * v_cur.wm * greatest(1, v_cur.hmm)
             + v_cur.avw * CASE WHEN v_cur.avwm > 0 THEN v_cur.avwm ELSE v_cur.mwm END;
    v_rec_est := (v_sb_kb + v_conn * v_wm_kb * greatest(1, v_cur.hmm) + v_avw * v_mwm_kb) * 1024;
    name := 'memory_risk';
    current := pgmaint._size_text(ceil(v_est / 1048576) * 1024);
    recommended := pgmaint._size_text(ceil(v_rec_est / 1048576) * 1024);
    unit := NULL;
    status := CASE WHEN v_est > ram_mb * 1048576::numeric THEN 'risky' ELSE 'ok' END;
    reason := format('shared_buffers %s + %s connections x work_mem %s x %s (hash_mem_multiplier) + %s autovacuum workers x %s = %s, %s the %s (%s)',
                     pgmaint._size_text(v_cur.sb / 1024), v_cur.conn,
                     pgmaint._size_text(v_cur.wm / 1024), greatest(1, v_cur.hmm), v_cur.avw,
                     pgmaint._size_text(CASE WHEN v_cur.avwm > 0 THEN v_cur.avwm ELSE v_cur.mwm END / 1024),
                     current,
                     CASE WHEN status = 'risky' THEN 'above' ELSE 'within' END,
                     v_ram_txt, ram_source);
    IF status = 'risky' THEN
        reason := reason || '; the container can be OOM-killed at peak: lower work_mem or max_connections';
    END IF;
    fix := NULL;
    RETURN NEXT;

    -- /dev/shm: POSIX dynamic shared memory holds parallel hash tables and parallel index builds
    v_need := coalesce(v_cur.mpw, 0) * v_cur.wm * greatest(1, v_cur.hmm) + v_cur.mwm;
    name := '/dev/shm';
    current := CASE WHEN shm_bytes IS NULL THEN NULL
                    ELSE pgmaint._size_text(floor(shm_bytes / 1048576.0) * 1024) END;
    recommended := pgmaint._size_text(ceil(v_need / 1048576) * 1024);
    unit := NULL;
    IF v_cur.dsm IS DISTINCT FROM 'posix' OR coalesce(v_cur.mpwg, 0) = 0 OR coalesce(v_cur.mpw, 0) = 0 THEN
        status := 'ok';
        reason := format('parallel query does not use /dev/shm here (dynamic_shared_memory_type = %s, max_parallel_workers_per_gather = %s)',
                         v_cur.dsm, v_cur.mpwg);
    ELSIF shm_bytes IS NULL THEN
        status := 'unknown';
        reason := format('could not measure /dev/shm (%s); parallel query needs about %s', shm_source, recommended);
    ELSIF shm_bytes < v_need THEN
        status := 'risky';
        reason := format('%s (%s) is below the %s that %s parallel workers x work_mem x hash_mem_multiplier + maintenance_work_mem can take: parallel queries fail with "could not resize shared memory segment"; give the container more (docker run --shm-size=%sm, compose shm_size), or SET max_parallel_workers_per_gather = 0',
                         current, shm_source, recommended, v_cur.mpw,
                         greatest(256, ceil(v_need / 1048576)));
    ELSE
        status := 'ok';
        reason := format('%s (%s) holds the %s that parallel query can take', current, shm_source, recommended);
    END IF;
    fix := NULL;
    RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.config_audit()
RETURNS TABLE (check_name text, status text, detail text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hba       boolean;
    v_lines     text;
    v_loopback  text;
    v_n         bigint;
    v_hidden    bigint;
    v_val       text;
    v_ssl       text;
    v_overrides text;
    g           record;
BEGIN
    -- pg_hba_file_rules is readable by superusers only unless granted (PG15)
    v_hba := has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE')
             AND has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT');

    -- trust on host lines: anyone who reaches the port logs in without a password
    check_name := 'hba_trust';
    IF NOT v_hba THEN
        status := 'unknown';
        detail := 'cannot read pg_hba_file_rules: it needs superuser or GRANT SELECT ON pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_hba_file_rules()';
        fix := NULL;
    ELSE
        SELECT string_agg(format('line %s (%s %s %s %s)', h.line_number, h.type,
                                 array_to_string(h.database, ','), array_to_string(h.user_name, ','),
                                 coalesce(h.address, '') || coalesce('/' || h.netmask, '')),
                          ', ' ORDER BY h.line_number)
                 FILTER (WHERE NOT (h.address ~ '^127\.' OR h.address IN ('::1', 'localhost'))),
               string_agg(format('line %s (%s)', h.line_number, h.address), ', ' ORDER BY h.line_number)
                 FILTER (WHERE h.address ~ '^127\.' OR h.address IN ('::1', 'localhost'))
          INTO v_lines, v_loopback
          FROM pg_catalog.pg_hba_file_rules h
         WHERE h.type LIKE 'host%' AND h.auth_method = 'trust';
        IF v_lines IS NOT NULL THEN
            status := 'critical';
            detail := 'trust authentication on host lines reachable from the network: ' || v_lines;
        ELSIF v_loopback IS NOT NULL THEN
            status := 'warning';
            detail := 'trust authentication on loopback host lines (any local process, any container sharing the network namespace): ' || v_loopback;
        ELSE
            status := 'ok';
            detail := 'no host line uses trust';
        END IF;
        fix := CASE WHEN status <> 'ok'
                    THEN 'In pg_hba.conf, replace trust by scram-sha-256 on those lines, then SELECT pg_reload_conf();' END;
    END IF;
    RETURN NEXT;

    -- password hashing: scram-sha-256 resists replay and offline cracking better than md5
    check_name := 'password_encryption';
    SELECT s.reset_val INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'password_encryption';
    status := CASE WHEN v_val = 'scram-sha-256' THEN 'ok' ELSE 'warning' END;
    detail := format('password_encryption = %s', v_val);
    fix := CASE WHEN status <> 'ok' THEN pgmaint._set_fix('password_encryption', 'scram-sha-256') END;
    RETURN NEXT;

    check_name := 'hba_md5';
    IF NOT v_hba THEN
        status := 'unknown';
        detail := 'cannot read pg_hba_file_rules: it needs superuser or GRANT SELECT ON pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_hba_file_rules()';
        fix := NULL;
    ELSE
        SELECT string_agg(format('line %s (%s)', h.line_number, h.auth_method), ', ' ORDER BY h.line_number)
          INTO v_lines
          FROM pg_catalog.pg_hba_file_rules h
         WHERE h.auth_method IN ('md5', 'password');
        status := CASE WHEN v_lines IS NULL THEN 'ok' ELSE 'warning' END;
        detail := coalesce('md5 or clear-text password authentication: ' || v_lines,
                           'no md5 or password rules');
        fix := CASE WHEN v_lines IS NOT NULL
                    THEN 'Re-set every password with password_encryption = scram-sha-256, then replace md5/password by scram-sha-256 in pg_hba.conf and SELECT pg_reload_conf();' END;
    END IF;
    RETURN NEXT;

    -- listening on every interface without TLS sends passwords' exchanges and data in clear
    check_name := 'listen_without_ssl';
    SELECT s.setting INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'listen_addresses';
    SELECT s.setting INTO v_ssl FROM pg_catalog.pg_settings s WHERE s.name = 'ssl';
    IF v_val IS NULL OR v_ssl IS NULL THEN
        status := 'unknown';
        detail := 'cannot read listen_addresses or ssl (needs pg_read_all_settings)';
        fix := NULL;
    ELSIF pgmaint._listens_everywhere(v_val) AND v_ssl = 'off' THEN
        status := 'warning';
        detail := format('listen_addresses = ''%s'' and ssl = off: connections from other hosts are not encrypted', v_val);
        fix := 'ALTER SYSTEM SET ssl = on (with ssl_cert_file and ssl_key_file), or publish the port on 127.0.0.1 only';
    ELSE
        status := 'ok';
        detail := format('listen_addresses = ''%s'', ssl = %s', v_val, v_ssl);
        fix := NULL;
    END IF;
    RETURN NEXT;

    -- applications as superuser: client sessions of superuser roles, except this
    -- session and the administration tools (psql, pg_dump, ... by application_name).
    -- Without pg_read_all_stats, backend_type of other roles' sessions is hidden.
    check_name := 'superuser_applications';
    SELECT count(*) FILTER (WHERE a.backend_type = 'client backend'),
           string_agg(DISTINCT format('%s as %s', coalesce(nullif(a.application_name, ''), '(no application_name)'),
                                      a.usename), ', ') FILTER (WHERE a.backend_type = 'client backend'),
           count(*) FILTER (WHERE a.backend_type IS NULL)
      INTO v_n, v_lines, v_hidden
      FROM pg_catalog.pg_stat_activity a
      JOIN pg_catalog.pg_roles su ON su.oid = a.usesysid
     WHERE su.rolsuper
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND coalesce(a.application_name, '') NOT IN
           ('psql', 'pg_dump', 'pg_dumpall', 'pg_restore', 'pg_basebackup', 'pg_rewind',
            'vacuumdb', 'reindexdb', 'clusterdb', 'pg_amcheck', 'pg_upgrade', 'pg_cron')
       AND coalesce(a.application_name, '') NOT LIKE 'pg\_regress%'
       AND coalesce(a.application_name, '') NOT LIKE 'pgAdmin%';
    IF v_n > 0 THEN
        status := 'warning';
        detail := format('%s session(s) as a superuser: %s', v_n, v_lines);
        fix := 'CREATE ROLE app LOGIN PASSWORD ''...''; GRANT the privileges it needs; connect the application as that role';
    ELSIF v_hidden > 0 THEN
        status := 'unknown';
        detail := format('cannot tell whether %s superuser session(s) are applications: it needs pg_read_all_stats', v_hidden);
        fix := NULL;
    ELSE
        status := 'ok';
        detail := 'no application session runs as a superuser';
        fix := NULL;
    END IF;
    RETURN NEXT;

    -- timeouts: set in the configuration (reset_val) or for some role or database
    FOR g IN
        SELECT t.ord, t.name AS gname, t.recommended AS guide, s.reset_val, s.unit
          FROM pgmaint._guide_settings() t
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.name
         WHERE t.topic = 'timeout'
         ORDER BY t.ord
    LOOP
        check_name := g.gname;
        SELECT string_agg(format('%s=%s for %s', g.gname, split_part(c, '=', 2),
                                 concat_ws(' in ', coalesce('role ' || ro.rolname, NULL),
                                           coalesce('database ' || db.datname, NULL))), ', ')
          INTO v_overrides
          FROM pg_catalog.pg_db_role_setting d
          LEFT JOIN pg_catalog.pg_roles ro ON ro.oid = d.setrole
          LEFT JOIN pg_catalog.pg_database db ON db.oid = d.setdatabase,
               unnest(d.setconfig) AS c
         WHERE split_part(c, '=', 1) = g.gname
           AND split_part(c, '=', 2) NOT IN ('0', '');
        IF g.reset_val IS NULL THEN
            status := 'unknown';
            detail := format('cannot read %s', g.gname);
        ELSIF g.reset_val <> '0' THEN
            status := 'ok';
            detail := format('%s = %s', g.gname,
                             pgmaint._ms_text(g.reset_val::numeric * pgmaint._unit_factor(g.unit)));
        ELSIF v_overrides IS NOT NULL THEN
            status := 'ok';
            detail := format('%s is 0 in the configuration but set per role or database: %s', g.gname, v_overrides);
        ELSE
            status := 'warning';
            detail := format('%s is 0 (unset): nothing stops a runaway statement or a leaked session', g.gname);
        END IF;
        fix := CASE WHEN status = 'warning'
                    THEN pgmaint._set_fix(g.gname, g.guide) END;
        RETURN NEXT;
    END LOOP;

    -- logging the guide asks for
    FOR g IN
        SELECT t.ord, t.name AS gname, t.recommended AS guide, s.reset_val
          FROM pgmaint._guide_settings() t
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.name
         WHERE t.topic = 'logging'
         ORDER BY t.ord
    LOOP
        check_name := g.gname;
        IF g.reset_val IS NULL THEN
            status := 'unknown';
            detail := format('cannot read %s', g.gname);
        ELSIF g.reset_val IN ('off', '-1') THEN
            status := 'warning';
            detail := format('%s is off', g.gname);
        ELSE
            status := 'ok';
            detail := format('%s = %s', g.gname, current_setting(g.gname));
        END IF;
        fix := CASE WHEN status = 'warning'
                    THEN pgmaint._set_fix(g.gname, g.guide) END;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint._backup_max_age()
RETURNS interval
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- _setting() loads the library, which defines the setting with its
    -- default (and validates a value postgresql.conf gave before the load)
    RETURN pgmaint._setting('pgmaint.backup_max_age')::interval;
END
$$;

COMMENT ON FUNCTION pgmaint._backup_max_age() IS
'Internal: the setting pgmaint.backup_max_age as an interval.';

CREATE OR REPLACE FUNCTION pgmaint._table_health(
    min_reads bigint DEFAULT (pgmaint._table_health_floors()).min_reads,
    min_tuples bigint DEFAULT (pgmaint._table_health_floors()).min_tuples,
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint)
RETURNS record
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health';

COMMENT ON FUNCTION pgmaint._table_health_sampled() IS
'Internal: _table_health() (with the floors of _table_health_floors()) as the worker computed it in its last sample, when that sample is of this database and at most two intervals old; no row otherwise.';

CREATE OR REPLACE FUNCTION pgmaint._check_tables(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    floors record := pgmaint._table_health_floors();
    basis text;
    avail float8;
BEGIN
    SELECT s.tables, s.hit_relid, s.hit_ratio, s.hit_reads, s.falling_behind,
           s.falling_relid, s.falling_dead, s.dead_relid, s.dead_share, s.dead_tuples
      INTO f FROM pgmaint._table_health_sampled() s;
    IF FOUND THEN
        basis := 'from the worker''s last sample';
    ELSE
        SELECT * INTO f FROM pgmaint._table_health(floors.min_reads, floors.min_tuples);
        basis := 'computed now';
    END IF;

    check_name := 'table_cache_hit';
    value := round((100 * f.hit_ratio)::numeric, 2);
    message := CASE WHEN f.hit_relid IS NULL
                    THEN format('no table has %s heap block reads yet (%s)', floors.min_reads, basis)
                    ELSE format('table %s has the lowest heap hit ratio, %s%% of %s reads (%s)',
                                f.hit_relid::regclass, value, f.hit_reads, basis) END;
    hint := format('See pgmaint.cache_hit_tables(%s): raise shared_buffers or add indexes for the tables read from disk.',
                   floors.min_reads);
    RETURN NEXT;

    check_name := 'dead_tuples';
    value := round((100 * coalesce(f.dead_share, 0))::numeric, 2);
    message := CASE WHEN f.dead_relid IS NULL
                    THEN format('no table has %s tuples yet (%s)', floors.min_tuples, basis)
                    ELSE format('table %s has the highest dead-tuple share, %s%% (%s dead) (%s)',
                                f.dead_relid::regclass, value, f.dead_tuples, basis) END;
    hint := 'See pgmaint.vacuum_stats(): VACUUM the table, and lower its autovacuum_vacuum_scale_factor.';
    RETURN NEXT;

    check_name := 'autovacuum_behind';
    value := f.falling_behind;
    message := CASE WHEN f.falling_behind = 0
                    THEN format('autovacuum keeps up with all %s tables (%s)', f.tables, basis)
                    ELSE format('autovacuum falls behind on %s table(s), the worst %s with %s dead tuples (%s)',
                                f.falling_behind, f.falling_relid::regclass, f.falling_dead, basis) END;
    hint := 'See pgmaint.vacuum_stats() WHERE falling_behind: VACUUM those tables, check autovacuum is on for them and raise autovacuum_max_workers or lower autovacuum_vacuum_cost_delay.';
    RETURN NEXT;

    check_name := 'disk_free';
    IF pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') THEN
        SELECT d.available_pct INTO avail FROM pgmaint.disk_space() d;
        value := round(avail::numeric, 1);
        message := format('%s%% of the data directory''s file system is available', value);
        hint := 'See pgmaint.table_sizes() for the largest tables; free space or grow the volume before it fills.';
    ELSE
        value := NULL;
        message := 'cannot see the data directory: the caller lacks pg_read_all_settings';
        hint := 'Grant pg_monitor to the role that calls health().';
    END IF;
    RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint._cache_hit_last_hour(OUT hits numeric, OUT reads numeric)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint.preloaded()
       OR NOT EXISTS (SELECT 1 FROM pgmaint.sampler_status() s
                       WHERE s.running AND s.database = current_database()) THEN
        RETURN;
    END IF;
    -- the per-interval deltas, by samples()' rule for a statistics reset
    SELECT d.hits, d.reads INTO hits, reads
      FROM pgmaint._ring_block_deltas(now() - interval '1 hour') d;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint._measure_checks(
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
        UNION ALL SELECT * FROM pgmaint._check_replication()
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
        UNION ALL SELECT 'archiver', a.value, a.message, a.hint FROM pgmaint._archiver_check() a;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.checklist()
RETURNS SETOF pgmaint.checklist_item
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
SELECT c.*
  FROM (VALUES
    (1, 'connection pooling', $q$
        WITH v AS (SELECT * FROM pgmaint._checks_verdict(ARRAY['connections', 'idle_in_transaction'])),
        peak AS (
            SELECT CASE WHEN (SELECT st.running FROM pgmaint.sampler_status() st)
                        THEN (SELECT max(x.client_backends)
                                FROM pgmaint.samples(now() - interval '24 hours') x) END AS n
        )
        SELECT v.status,
               v.evidence || CASE WHEN peak.n IS NOT NULL
                                  THEN format('; peak of the last 24 hours: %s of %s usable connections',
                                              peak.n, pgmaint._usable_connections())
                                  ELSE '' END,
               CASE WHEN v.status = 'fail' THEN
                   'Keep each application pool small (the guide: 5 + 10 overflow), end leaks with pgmaint.terminate_leaks(), size with pgmaint.connection_budget().'
               END
          FROM v, peak $q$),
    (2, 'memory allocation', $q$
        SELECT CASE WHEN count(*) FILTER (WHERE status <> 'ok') = 0 THEN 'pass' ELSE 'fail' END,
               string_agg(format('%s %s (recommended %s)', name, current, recommended), ', ' ORDER BY name),
               string_agg(fix, ' ' ORDER BY name) FILTER (WHERE status <> 'ok')
          FROM pgmaint.settings_advice()
         WHERE name IN ('shared_buffers', 'effective_cache_size') $q$),
    (3, 'autovacuum tuned for high-write tables', $q$
        WITH p AS (
            SELECT count(*) FILTER (WHERE current_profile IS NOT NULL) AS tuned,
                   count(*) FILTER (WHERE suggested_profile IS NOT NULL AND NOT pinned
                                      AND suggested_profile IS DISTINCT FROM current_profile) AS pending
              FROM pgmaint.recommend_profiles()
        )
        SELECT CASE WHEN current_setting('autovacuum')::boolean AND p.pending = 0 THEN 'pass' ELSE 'fail' END,
               CASE WHEN NOT current_setting('autovacuum')::boolean THEN 'autovacuum is off'
                    ELSE format('autovacuum on; %s table(s) tuned with a profile, %s suggestion(s) pending',
                                p.tuned, p.pending) END,
               CASE WHEN NOT current_setting('autovacuum')::boolean
                        THEN 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'
                    WHEN p.pending > 0
                        THEN 'Review SELECT * FROM pgmaint.recommend_profiles(); then SELECT * FROM pgmaint.apply_policy(false); or set pgmaint.policy = apply.'
               END
          FROM p $q$),
    (4, 'logging', $q$
        SELECT CASE WHEN count(*) FILTER (WHERE a.status = 'warning') > 0 THEN 'fail'
                    WHEN count(*) FILTER (WHERE a.status <> 'ok') > 0 THEN 'unknown'
                    ELSE 'pass' END,
               coalesce('off: ' || string_agg(a.check_name, ', ' ORDER BY a.check_name)
                                       FILTER (WHERE a.status = 'warning'),
                        'the guide''s logging is on: ' || string_agg(a.check_name, ', ' ORDER BY a.check_name)),
               string_agg(a.fix || ';', ' ' ORDER BY a.check_name) FILTER (WHERE a.fix IS NOT NULL)
               || CASE WHEN count(*) FILTER (WHERE a.fix IS NOT NULL) > 0 THEN ' SELECT pg_reload_conf();' END
          FROM pgmaint.config_audit() a
         WHERE a.check_name IN (SELECT g.name FROM pgmaint._guide_settings() g WHERE g.topic = 'logging') $q$),
    (5, 'backups', $q$
        SELECT v.status,
               CASE WHEN b.last_verified_at IS NULL THEN 'no verified backup recorded'
                    ELSE format('last verified backup %s ago (%s); last backup %s; last drill %s',
                                b.last_verified_age, b.last_verified_file, b.last_backup_status,
                                coalesce(b.last_drill_status || ', ' || b.last_drill_age || ' ago', 'never'))
               END,
               CASE WHEN v.status = 'fail'
                    THEN 'Schedule pgmaint_backup backup --dir DIR daily and pgmaint_backup drill weekly (see the README).'
               END
          FROM pgmaint.backup_status() b, pgmaint._checks_verdict(ARRAY['backup']) v $q$),
    (6, 'monitoring', $q$
        SELECT CASE WHEN NOT s.running THEN 'fail' ELSE v.status END,
               CASE WHEN s.running
                    THEN format('sampler pid %s, %s samples, the last at %s; %s', s.pid, s.samples_taken,
                                to_char(s.last_sample_at, 'YYYY-MM-DD HH24:MI:SS'), v.evidence)
                    ELSE 'the sampler is not running: ' || coalesce(s.last_error, 'no reason recorded') END,
               CASE WHEN NOT s.running OR v.status = 'fail'
                    THEN 'Add pgmaint to shared_preload_libraries, set pgmaint.database and restart; poll pgmaint.health() from /healthz/db.'
               END
          FROM pgmaint.sampler_status() s, pgmaint._checks_verdict(ARRAY['sampler']) v $q$),
    (7, 'indexes on keys and foreign keys', $q$
        WITH fk AS (SELECT count(*) AS n FROM pgmaint.index_advice() WHERE kind = 'fk_without_index'),
        nokey AS (
            SELECT count(*) AS n, string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) AS names
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmaint')
               AND ns.nspname NOT LIKE 'pg\_toast%' AND ns.nspname NOT LIKE 'pg\_temp%'
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                                WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid)
        )
        SELECT CASE WHEN fk.n = 0 AND nokey.n = 0 THEN 'pass' ELSE 'fail' END,
               format('%s foreign key(s) without an index; %s table(s) without a primary key or unique index%s',
                      fk.n, nokey.n, coalesce(' (' || pgmaint._fit(nokey.names, 60) || ')', '')),
               CASE WHEN fk.n > 0 OR nokey.n > 0
                    THEN 'Run the statements of SELECT * FROM pgmaint.index_advice(); give cache tables a primary key on their key.'
               END
          FROM fk, nokey $q$),
    (8, 'disk space', $q$
        SELECT v.status,
               format('%s available of %s (%s%%) on the data directory''s file system',
                      pg_size_pretty(d.available_bytes), pg_size_pretty(d.total_bytes),
                      round(d.available_pct::numeric, 1)),
               CASE WHEN v.status = 'fail'
                    THEN 'Archive or delete old rows of the largest tables (pgmaint.table_sizes()), prune backups, VACUUM FULL bloated tables in a maintenance window.'
               END
          FROM pgmaint.disk_space() d, pgmaint._checks_verdict(ARRAY['disk_free']) v $q$)
  ) AS items(n, item, query)
 CROSS JOIN LATERAL pgmaint._checklist_item(items.item, items.query) c
 ORDER BY items.n;
$body$;

COMMENT ON FUNCTION pgmaint.checklist() IS
'The guide''s Performance Tuning Checklist, item by item: pass, fail or unknown, with the evidence and the fix; items with a health check (connections, backups, monitoring, disk space) are graded by it, so by pgmaint.thresholds.';

-- Roles granted tuning before 1.1 need what tune_table(), reset_table() and
-- the policy call now, as grant_tuning() gives it to a new grantee.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT a.grantee::regrole AS grantee, f.with_policy
          FROM (VALUES ('pgmaint._apply_profile(regclass, text, text, text, jsonb)'::regprocedure, false),
                       ('pgmaint.run_policy(text)'::regprocedure, true)) AS f(fn, with_policy)
          JOIN pg_catalog.pg_proc p ON p.oid = f.fn
         CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner AND a.grantee <> 0
           AND a.grantee <> 'pg_monitor'::regrole
    LOOP
        IF r.with_policy THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION pgmaint._setting(text) TO %s', r.grantee);
        ELSE
            EXECUTE format('GRANT EXECUTE ON FUNCTION pgmaint._policy_lock_timeout() TO %s', r.grantee);
        END IF;
    END LOOP;
END
$$;

-- Seed text: the new wording where the row still has the 1.0 text.
UPDATE pgmaint.profiles SET description = 'Heavy updates and deletes (a cache or queue table): vacuum at 5% dead rows, analyze at 2% changes, less throttling.'
 WHERE name = 'high_churn'
   AND description = 'Heavy updates and deletes (agent_cache): vacuum at 5% dead rows, analyze at 2% changes, less throttling.';
UPDATE pgmaint.profiles SET description = 'Mostly inserts with few updates (usage or metrics rows): vacuum less often, analyze often enough for planning.'
 WHERE name = 'insert_heavy'
   AND description = 'Mostly inserts with few updates (token_usage): vacuum less often, analyze often enough for planning.';
UPDATE pgmaint.profiles SET description = 'Inserts only, occasional cleanup (an event or audit log).'
 WHERE name = 'append_only' AND description = 'Inserts only, occasional cleanup (tool_call_log).';
UPDATE pgmaint.profiles SET description = 'Steady mixed writes (ordinary application tables).'
 WHERE name = 'moderate' AND description = 'Steady mixed writes (thread_messages).';

UPDATE pgmaint.thresholds
   SET description = 'Client connections in use, in % of usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later).'
 WHERE check_name = 'connections'
   AND description = 'Client connections in use, in % of usable slots (max_connections - superuser_reserved_connections).';
UPDATE pgmaint.thresholds
   SET description = format('Lowest heap cache hit ratio, in %%, among tables with at least %s heap block reads from outside shared buffers (unknown while no table has that many).',
                            to_char((SELECT f.min_reads FROM pgmaint._table_health_floors() f), 'FM999,999,999'))
 WHERE check_name = 'table_cache_hit'
   AND description = 'Lowest heap cache hit ratio, in %, among tables with at least 1,000 heap block reads from outside shared buffers (unknown while no table has that many).';
UPDATE pgmaint.thresholds
   SET description = format('Highest share, in %%, of dead tuples among tables with at least %s live + dead tuples.',
                            to_char((SELECT f.min_tuples FROM pgmaint._table_health_floors() f), 'FM999,999,999'))
 WHERE check_name = 'dead_tuples'
   AND description = 'Highest share, in %, of dead tuples among tables with at least 1,000 live + dead tuples.';

-- ==== Replication: replication(), the replication checks, role and lag in samples (issue 17) ====

-- samples() and sample_history gain the server's role and its replication lag
ALTER TABLE pgmaint.sample_history
    ADD COLUMN in_recovery boolean,
    ADD COLUMN standbys integer,
    ADD COLUMN replication_lag interval,
    ADD COLUMN replication_lag_bytes bigint;

DROP FUNCTION pgmaint.samples(timestamptz);
CREATE FUNCTION pgmaint.samples(
    since timestamptz DEFAULT pg_catalog.now() - interval '1 hour',
    OUT sampled_at timestamptz,
    OUT interval_seconds double precision,
    OUT client_backends integer,
    OUT active integer,
    OUT idle integer,
    OUT idle_in_transaction integer,
    OUT idle_in_transaction_aborted integer,
    OUT waiting_on_lock integer,
    OUT longest_xact_age interval,
    OUT longest_idle_in_transaction_age interval,
    OUT xact_commit bigint,
    OUT xact_rollback bigint,
    OUT blks_read bigint,
    OUT blks_hit bigint,
    OUT tup_inserted bigint,
    OUT tup_updated bigint,
    OUT tup_deleted bigint,
    OUT deadlocks bigint,
    OUT temp_bytes bigint,
    OUT live_tuples bigint,
    OUT dead_tuples bigint,
    OUT datfrozenxid_age bigint,
    OUT commits_per_sec double precision,
    OUT rollbacks_per_sec double precision,
    OUT cache_hit_ratio numeric,
    OUT dead_tuples_delta bigint,
    OUT user_tables bigint,
    OUT stats_reset timestamptz,
    OUT in_recovery boolean,
    OUT standbys integer,
    OUT replication_lag interval,
    OUT replication_lag_bytes bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_samples';

COMMENT ON FUNCTION pgmaint.samples(timestamptz) IS
'The shared-memory ring of health samples taken since "since" (NULL: all), oldest first, with per-interval rates, the server''s role and its replication lag; needs pgmaint in shared_preload_libraries.';

REVOKE ALL ON FUNCTION pgmaint.samples(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.samples(timestamptz) TO pg_monitor;

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description)
SELECT v.check_name, v.warning::numeric, v.critical::numeric, v.description
  FROM (VALUES
    ('replication_lag', 30, 300,
     'Seconds of replay lag: on a primary the worst streaming standby''s, on a standby its own; 0 once everything received (or flushed) is replayed.'),
    ('replication_lag_bytes', 16777216, 1073741824,
     'Bytes of WAL not yet replayed: on a primary by the worst streaming standby (flushed minus replayed), on a standby what it received and has not replayed.'),
    ('standby_missing', 1, NULL,
     'Standbys missing: fewer streaming standbys than pgmaint.expected_standbys (0 turns the count off), plus each standby named in synchronous_standby_names that is not connected.'),
    ('wal_receiver', NULL, 1,
     'On a standby, 1 when its WAL receiver is not streaming from the primary; 0 otherwise (and on a primary).'),
    ('replay_paused', 1, NULL,
     'On a standby, 1 while WAL replay is paused (pg_wal_replay_pause()); 0 otherwise.')) AS v(check_name, warning, critical, description)
 WHERE NOT EXISTS (SELECT 1 FROM pgmaint.thresholds t WHERE t.check_name = v.check_name);

CREATE FUNCTION pgmaint._replication_lag(
    OUT in_recovery boolean, OUT standbys integer,
    OUT lag_seconds double precision, OUT lag_bytes bigint)
RETURNS record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_replication_lag';

COMMENT ON FUNCTION pgmaint._replication_lag() IS
'Internal: whether the server is a standby, its streaming standbys (on a primary) and the worst replay lag in seconds and bytes by pgmaint''s rule (0 once everything flushed or received is replayed; NULL when unknown).';

REVOKE ALL ON FUNCTION pgmaint._replication_lag() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._replication_lag() TO pg_monitor;

-- One row per standby of a primary, or one row about a standby itself.
CREATE FUNCTION pgmaint.replication(
    OUT role text, OUT application_name text, OUT client text, OUT state text,
    OUT sync_state text, OUT sent_lsn pg_lsn, OUT write_lsn pg_lsn, OUT flush_lsn pg_lsn,
    OUT replay_lsn pg_lsn, OUT lag_bytes numeric,
    OUT write_lag_seconds double precision, OUT flush_lag_seconds double precision,
    OUT replay_lag_seconds double precision, OUT reply_age_seconds double precision,
    OUT receive_lsn pg_lsn, OUT last_replay_age_seconds double precision,
    OUT receiver_status text, OUT upstream text, OUT replay_paused boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF NOT pg_is_in_recovery() THEN
        RETURN QUERY
        SELECT 'standby'::text, r.application_name, coalesce(host(r.client_addr), 'local'),
               r.state, r.sync_state, r.sent_lsn, r.write_lsn, r.flush_lsn, r.replay_lsn,
               pg_wal_lsn_diff(pg_current_wal_flush_lsn(), r.replay_lsn),
               extract(epoch FROM r.write_lag)::float8, extract(epoch FROM r.flush_lag)::float8,
               extract(epoch FROM r.replay_lag)::float8,
               extract(epoch FROM clock_timestamp() - r.reply_time)::float8,
               NULL::pg_lsn, NULL::float8, NULL::text, NULL::text, NULL::boolean
          FROM pg_stat_replication r
         ORDER BY r.application_name, r.pid;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'self (standby)'::text, nullif(current_setting('cluster_name'), ''), NULL::text,
           NULL::text, NULL::text, NULL::pg_lsn, NULL::pg_lsn, NULL::pg_lsn,
           pg_last_wal_replay_lsn(),
           CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL
                THEN greatest(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0) END,
           NULL::float8, NULL::float8, l.lag_seconds, NULL::float8,
           pg_last_wal_receive_lsn(),
           extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8,
           coalesce(w.status, 'not running'),
           CASE WHEN w.sender_host IS NOT NULL THEN format('%s:%s', w.sender_host, w.sender_port) END,
           pg_get_wal_replay_pause_state() <> 'not paused'
      FROM pgmaint._replication_lag() l
      LEFT JOIN pg_stat_wal_receiver w ON true;
END
$$;

COMMENT ON FUNCTION pgmaint.replication() IS
'On a primary, one row per standby (pg_stat_replication): application_name, client, state, sync state, sent/write/flush/replay LSN, lag_bytes behind the flushed WAL, write/flush/replay lag and reply age in seconds. On a standby, one row about itself: receive and replay LSN, lag_bytes not yet replayed, replay_lag_seconds by pgmaint''s rule, age of the last replayed transaction, WAL receiver status, the primary it follows (upstream), replay_paused.';

REVOKE ALL ON FUNCTION pgmaint.replication() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.replication() TO pg_monitor;

-- The replication checks.
CREATE FUNCTION pgmaint._check_replication(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l record;
    expected integer := coalesce(nullif(current_setting('pgmaint.expected_standbys', true), '')::integer, 0);
    streaming integer;
    sync_missing text[];
    worst text;
    receiver text;
    upstream text;
BEGIN
    SELECT * INTO l FROM pgmaint._replication_lag();

    IF NOT l.in_recovery THEN
        SELECT r.application_name INTO worst
          FROM pg_stat_replication r
         ORDER BY r.replay_lsn NULLS FIRST, r.application_name LIMIT 1;
        SELECT count(*) INTO streaming FROM pg_stat_replication r WHERE r.state = 'streaming';
        -- the names synchronous_standby_names asks for (FIRST n (...), ANY n (...), or a list)
        SELECT array_agg(n) INTO sync_missing
          FROM (SELECT btrim(x, ' "') AS n
                  FROM regexp_split_to_table(
                           regexp_replace(current_setting('synchronous_standby_names'),
                                          '^\s*((FIRST|ANY)\s+)?[0-9]+\s*\((.*)\)\s*$', '\3', 'i'), ',') x) s
         WHERE s.n NOT IN ('', '*')
           AND NOT EXISTS (SELECT 1 FROM pg_stat_replication r
                            WHERE r.application_name = s.n AND r.state = 'streaming');
    END IF;

    check_name := 'replication_lag';
    value := CASE WHEN l.in_recovery OR l.standbys > 0 THEN round(l.lag_seconds::numeric, 1) END;
    IF NOT l.in_recovery AND l.standbys = 0 THEN
        value := 0;
        message := 'no streaming standby';
    ELSIF l.lag_seconds IS NULL THEN
        message := CASE WHEN l.in_recovery THEN 'the standby has received no WAL from a primary yet'
                        ELSE 'no lag measured yet: the standbys have not replied' END;
    ELSIF l.in_recovery THEN
        message := CASE WHEN l.lag_seconds = 0 THEN 'the standby has replayed everything it received'
                        ELSE format('the standby is %s s behind the last transaction it received', value) END;
    ELSE
        message := CASE WHEN l.lag_seconds = 0 THEN format('all %s standby(s) replayed everything flushed', l.standbys)
                        ELSE format('standby %s is %s s behind', worst, value) END;
    END IF;
    hint := 'See pgmaint.replication(): a standby behind replays slowly (long queries on it, max_standby_streaming_delay), is paused, or cannot keep up with the primary''s writes.';
    RETURN NEXT;

    check_name := 'replication_lag_bytes';
    value := CASE WHEN NOT l.in_recovery AND l.standbys = 0 THEN 0 ELSE l.lag_bytes END;
    message := CASE WHEN NOT l.in_recovery AND l.standbys = 0 THEN 'no streaming standby'
                    WHEN l.lag_bytes IS NULL THEN 'nothing received yet'
                    WHEN l.in_recovery THEN format('%s received and not replayed yet', pg_size_pretty(l.lag_bytes))
                    ELSE format('standby %s has %s of flushed WAL to replay', worst, pg_size_pretty(l.lag_bytes)) END;
    hint := 'See pgmaint.replication(); WAL waits in pg_wal until every standby replayed it (pgmaint.disk_space()).';
    RETURN NEXT;

    check_name := 'standby_missing';
    IF l.in_recovery THEN
        value := 0;
        message := 'this server is a standby';
    ELSE
        value := greatest(expected - streaming, 0) + coalesce(cardinality(sync_missing), 0);
        message := CASE WHEN sync_missing IS NOT NULL
                        THEN format('synchronous standby %s not connected (%s of %s expected streaming)',
                                    array_to_string(sync_missing, ', '), streaming, expected)
                        WHEN expected = 0 THEN format('%s streaming standby(s); pgmaint.expected_standbys is 0 (off)', streaming)
                        ELSE format('%s of %s expected standby(s) streaming', streaming, expected) END;
    END IF;
    hint := 'Start the missing standby or see its log; pgmaint.replication() lists the connected ones. A missing synchronous standby blocks commits that wait for it.';
    RETURN NEXT;

    SELECT w.status, CASE WHEN w.sender_host IS NOT NULL THEN format('%s:%s', w.sender_host, w.sender_port) END
      INTO receiver, upstream
      FROM pg_stat_wal_receiver w;
    check_name := 'wal_receiver';
    value := CASE WHEN NOT l.in_recovery THEN 0
                  WHEN receiver = 'streaming' THEN 0 ELSE 1 END;
    message := CASE WHEN NOT l.in_recovery THEN 'this server is a primary'
                    WHEN receiver IS NULL THEN 'the standby''s WAL receiver is not running'
                    ELSE format('WAL receiver %s from %s', receiver, coalesce(upstream, 'an unknown primary')) END;
    hint := 'Check primary_conninfo and the primary''s pg_hba.conf, and the standby''s log; pgmaint.replication() shows what it received.';
    RETURN NEXT;

    check_name := 'replay_paused';
    value := CASE WHEN l.in_recovery AND pg_get_wal_replay_pause_state() <> 'not paused' THEN 1 ELSE 0 END;
    message := CASE WHEN NOT l.in_recovery THEN 'this server is a primary'
                    WHEN value = 1 THEN format('WAL replay is %s', pg_get_wal_replay_pause_state())
                    ELSE 'WAL replay runs' END;
    hint := 'Resume it with SELECT pg_wal_replay_resume(); while paused the standby falls behind (pgmaint.replication() shows how far).';
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_replication() IS
'Internal: the replication_lag, replication_lag_bytes, standby_missing, wal_receiver and replay_paused checks.';

REVOKE ALL ON FUNCTION pgmaint._check_replication() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_replication() TO pg_monitor;

-- health() gains the replication checks, the role and the system identifier
CREATE OR REPLACE FUNCTION pgmaint._measure_checks(
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
        UNION ALL SELECT * FROM pgmaint._check_replication()
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
        UNION ALL SELECT 'archiver', a.value, a.message, a.hint FROM pgmaint._archiver_check() a;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.health()
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
            'role', CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END,
            'system_identifier', (SELECT s.system_identifier::text FROM pg_control_system() s),
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
'Summary of the server''s health as jsonb: overall status (the worst check), the server''s role (primary or standby) and system identifier (a standby shares its primary''s), the sampler, and every check.';

-- settings_advice() and config_audit() give patronictl edit-config fixes where Patroni manages the server
-- Whether Patroni manages this server (its dynamic configuration file in the data directory).
CREATE FUNCTION pgmaint._patroni_managed()
RETURNS boolean
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_patroni_managed';

COMMENT ON FUNCTION pgmaint._patroni_managed() IS
'Internal: true when Patroni manages the server (patroni.dynamic.json in the data directory); the path itself is not shown.';

REVOKE ALL ON FUNCTION pgmaint._patroni_managed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._patroni_managed() TO pg_monitor;

-- The statement that sets a server parameter: ALTER SYSTEM, or, where Patroni
-- manages the server, patronictl edit-config (Patroni owns the parameters of
-- every node, and an ALTER SYSTEM value on one node would override them there).
CREATE FUNCTION pgmaint._set_fix(name text, value text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN pgmaint._patroni_managed()
                THEN format('patronictl edit-config --pg %s', quote_literal(name || '=' || value))
                ELSE format('ALTER SYSTEM SET %s = %s', quote_ident(name), quote_literal(value)) END;
$$;

COMMENT ON FUNCTION pgmaint._set_fix(text, text) IS
'Internal: the fix that sets a parameter: ALTER SYSTEM SET name = ''value'', or patronictl edit-config --pg ''name=value'' where Patroni manages the server.';

REVOKE ALL ON FUNCTION pgmaint._set_fix(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._set_fix(text, text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._advice(ram_mb bigint, ram_source text, cpus integer, cpus_source text,
                                storage text, max_connections integer,
                                shm_bytes bigint, shm_source text)
RETURNS TABLE (name text, current text, recommended text, unit text, status text,
               reason text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_conn      integer;
    v_sb_kb     bigint;
    v_ecs_kb    bigint;
    v_wm_kb     bigint;
    v_mwm_kb    bigint;
    v_walb_kb   bigint;
    v_maxwal_kb bigint;
    v_avw       integer;
    v_rpc       text;
    v_eio       text;
    v_ram_txt   text;
    v_cur       record;
    v_est       numeric;
    v_rec_est   numeric;
    v_need      numeric;
BEGIN
    IF ram_mb IS NULL OR ram_mb < 1 THEN
        RAISE EXCEPTION 'ram_mb must be a positive number of megabytes'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the memory of the server or container in MB.';
    END IF;
    IF cpus IS NULL OR cpus < 1 THEN
        RAISE EXCEPTION 'cpus must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the number of CPUs of the server or container.';
    END IF;
    IF storage IS NULL OR storage NOT IN ('ssd', 'hdd', 'nvme', 'san') THEN
        RAISE EXCEPTION 'invalid storage "%"', storage
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of ssd, hdd, nvme or san.';
    END IF;
    IF max_connections IS NOT NULL AND (max_connections < 5 OR max_connections > 262143) THEN
        RAISE EXCEPTION 'max_connections must be between 5 and 262143'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it NULL to get a recommendation for the memory.';
    END IF;

    -- the formulas (README, "Settings advisor"); 1 GB and 2 GB give the guide's tables
    v_conn := coalesce(max_connections, least(200, greatest(20, 10 + 20 * ram_mb / 1024)));
    v_sb_kb := ram_mb * 1024 / 4;
    v_ecs_kb := ram_mb * 1024 / 2;
    v_mwm_kb := least(2097152, greatest(1024, ram_mb * 1024 / 32));
    v_wm_kb := greatest(64, least(ram_mb * 1024 / 256,
                                  (ram_mb * 1024 - v_sb_kb) / (v_conn * 3)));
    -- whole megabytes, as an administrator writes them (1 GB and 2 GB are already)
    v_sb_kb := v_sb_kb / 1024 * 1024;
    v_ecs_kb := v_ecs_kb / 1024 * 1024;
    v_mwm_kb := v_mwm_kb / 1024 * 1024;
    IF v_wm_kb >= 1024 THEN
        v_wm_kb := v_wm_kb / 1024 * 1024;
    END IF;
    v_walb_kb := CASE WHEN v_sb_kb >= 262144 THEN 16384 ELSE greatest(64, v_sb_kb / 32) END;
    v_maxwal_kb := greatest(1048576, least(16777216, ram_mb / 2 * 1024));
    v_avw := least(8, greatest(2, cpus / 2 + 1));
    v_rpc := CASE storage WHEN 'hdd' THEN '4' ELSE '1.1' END;
    v_eio := CASE storage WHEN 'hdd' THEN '2' WHEN 'ssd' THEN '200'
                          WHEN 'san' THEN '300' ELSE '1000' END;
    v_ram_txt := ram_mb || 'MB RAM';

    RETURN QUERY
    WITH rec (ord, name, recommended, why) AS (
        VALUES
        (1, 'shared_buffers', pgmaint._size_text(v_sb_kb),
            format('25%% of %s (the guide; pgtune too)', v_ram_txt)),
        (2, 'effective_cache_size', pgmaint._size_text(v_ecs_kb),
            format('50%% of %s: in a container the page cache is shared with the application (pgtune assumes 75%%)', v_ram_txt)),
        (3, 'work_mem', pgmaint._size_text(v_wm_kb),
            format('RAM/256, at most (RAM - shared_buffers) / (3 x %s connections)', v_conn)),
        (4, 'maintenance_work_mem', pgmaint._size_text(v_mwm_kb),
            format('RAM/32 (the guide), between 1MB and 2GB, for %s', v_ram_txt)),
        (5, 'max_connections', v_conn::text,
            CASE WHEN max_connections IS NULL
                 THEN format('10 + 20 per GB of RAM, between 20 and 200, for %s; put a pooler in front beyond that', v_ram_txt)
                 ELSE 'as requested' END),
        (6, 'wal_buffers', pgmaint._size_text(v_walb_kb),
            'one WAL segment (16MB, the guide) once shared_buffers reaches 256MB, else shared_buffers/32'),
        (7, 'checkpoint_completion_target', '0.9', 'spread checkpoint writes (the guide)'),
        (8, 'min_wal_size', pgmaint._size_text(v_maxwal_kb / 4096 * 1024), 'max_wal_size/4'),
        (9, 'max_wal_size', pgmaint._size_text(v_maxwal_kb),
            'RAM/2, between 1GB (the guide) and 16GB: fewer forced checkpoints'),
        (10, 'random_page_cost', v_rpc, format('%s storage', storage)),
        (11, 'effective_io_concurrency', v_eio, format('%s storage', storage)),
        (12, 'autovacuum_max_workers', v_avw::text,
            format('CPUs/2 + 1, between 2 and 8, for %s CPUs (%s)', cpus, cpus_source))
        UNION ALL
        SELECT 12 + g.ord, g.name, g.recommended, g.why FROM pgmaint._guide_settings() g
    ),
    cmp AS (
        SELECT r.ord, r.name, r.recommended, r.why, s.unit AS s_unit, s.vartype,
               s.context, s.reset_val,
               CASE WHEN s.vartype IN ('integer', 'real')
                    THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END AS cur_base,
               CASE WHEN s.vartype IN ('integer', 'real') THEN
                    CASE WHEN s.unit IN ('ms', 's', 'min') THEN
                              CASE WHEN r.recommended ~ '^[0-9.]+min$' THEN rtrim(r.recommended, 'min')::numeric * 60000
                                   WHEN r.recommended ~ '^[0-9.]+ms$' THEN rtrim(r.recommended, 'ms')::numeric
                                   WHEN r.recommended ~ '^[0-9.]+s$' THEN rtrim(r.recommended, 's')::numeric * 1000
                                   ELSE r.recommended::numeric * pgmaint._unit_factor(s.unit) END
                         WHEN s.unit IS NOT NULL AND r.recommended ~ '[a-zA-Z]$'
                              THEN pg_catalog.pg_size_bytes(r.recommended)::numeric
                         WHEN s.unit IS NOT NULL
                              THEN r.recommended::numeric * pgmaint._unit_factor(s.unit)
                         ELSE r.recommended::numeric END
               END AS rec_base
          FROM rec r
          LEFT JOIN pg_catalog.pg_settings s ON s.name = r.name
    ),
    graded AS (
        SELECT c.*,
               CASE WHEN c.vartype IS NULL THEN NULL
                    WHEN c.cur_base IS NULL THEN c.reset_val
                    WHEN c.cur_base < 0 THEN c.reset_val
                    WHEN c.s_unit IN ('ms', 's', 'min') THEN pgmaint._ms_text(c.cur_base)
                    WHEN c.s_unit IS NOT NULL THEN pgmaint._size_text(c.cur_base / 1024)
                    ELSE c.reset_val END AS cur_text,
               CASE WHEN c.vartype IS NULL THEN 'differs'
                    WHEN c.name = 'shared_buffers' AND c.cur_base > 0.4 * ram_mb * 1048576 THEN 'risky'
                    WHEN c.name = 'effective_cache_size' AND c.cur_base > ram_mb * 1048576::numeric THEN 'risky'
                    WHEN c.cur_base IS NOT NULL AND c.cur_base = c.rec_base THEN 'ok'
                    WHEN c.cur_base IS NULL AND lower(c.reset_val) = lower(c.recommended) THEN 'ok'
                    ELSE 'differs' END AS st
          FROM cmp c
    )
    SELECT g.name, g.cur_text, g.recommended,
           g.s_unit,
           g.st,
           CASE WHEN g.vartype IS NULL THEN g.why || '; not a setting of this server'
                WHEN g.st = 'risky' AND g.name = 'shared_buffers'
                     THEN format('above 40%% of %s leaves too little for connections, the OS and the application; %s', v_ram_txt, g.why)
                WHEN g.st = 'risky'
                     THEN format('above the %s: the planner counts on cache that does not exist; %s', v_ram_txt, g.why)
                WHEN g.st = 'ok' THEN g.why
                WHEN g.context = 'postmaster' THEN g.why || '; takes effect after a restart'
                ELSE g.why || '; takes effect after SELECT pg_reload_conf()' END,
           CASE WHEN g.st = 'ok' OR g.vartype IS NULL THEN NULL
                ELSE pgmaint._set_fix(g.name, g.recommended) END
      FROM graded g
     ORDER BY g.ord;

    -- memory risk: what the current settings may take at peak, against the RAM
    SELECT max(CASE s.name WHEN 'shared_buffers' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS sb,
           max(CASE s.name WHEN 'max_connections' THEN s.reset_val::numeric END) AS conn,
           max(CASE s.name WHEN 'work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS wm,
           max(CASE s.name WHEN 'hash_mem_multiplier' THEN s.reset_val::numeric END) AS hmm,
           max(CASE s.name WHEN 'autovacuum_max_workers' THEN s.reset_val::numeric END) AS avw,
           max(CASE s.name WHEN 'maintenance_work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS mwm,
           max(CASE s.name WHEN 'autovacuum_work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS avwm,
           max(CASE s.name WHEN 'max_parallel_workers' THEN s.reset_val::numeric END) AS mpw,
           max(CASE s.name WHEN 'max_parallel_workers_per_gather' THEN s.reset_val::numeric END) AS mpwg,
           max(CASE s.name WHEN 'dynamic_shared_memory_type' THEN s.reset_val END) AS dsm
      INTO v_cur
      FROM pg_catalog.pg_settings s
     WHERE s.name IN ('shared_buffers', 'max_connections', 'work_mem', 'hash_mem_multiplier',
                      'autovacuum_max_workers', 'maintenance_work_mem', 'autovacuum_work_mem',
                      'max_parallel_workers', 'max_parallel_workers_per_gather',
                      'dynamic_shared_memory_type');

    v_est := v_cur.sb + v_cur.conn * v_cur.wm * greatest(1, v_cur.hmm)
             + v_cur.avw * CASE WHEN v_cur.avwm > 0 THEN v_cur.avwm ELSE v_cur.mwm END;
    v_rec_est := (v_sb_kb + v_conn * v_wm_kb * greatest(1, v_cur.hmm) + v_avw * v_mwm_kb) * 1024;
    name := 'memory_risk';
    current := pgmaint._size_text(ceil(v_est / 1048576) * 1024);
    recommended := pgmaint._size_text(ceil(v_rec_est / 1048576) * 1024);
    unit := NULL;
    status := CASE WHEN v_est > ram_mb * 1048576::numeric THEN 'risky' ELSE 'ok' END;
    reason := format('shared_buffers %s + %s connections x work_mem %s x %s (hash_mem_multiplier) + %s autovacuum workers x %s = %s, %s the %s (%s)',
                     pgmaint._size_text(v_cur.sb / 1024), v_cur.conn,
                     pgmaint._size_text(v_cur.wm / 1024), greatest(1, v_cur.hmm), v_cur.avw,
                     pgmaint._size_text(CASE WHEN v_cur.avwm > 0 THEN v_cur.avwm ELSE v_cur.mwm END / 1024),
                     current,
                     CASE WHEN status = 'risky' THEN 'above' ELSE 'within' END,
                     v_ram_txt, ram_source);
    IF status = 'risky' THEN
        reason := reason || '; the container can be OOM-killed at peak: lower work_mem or max_connections';
    END IF;
    fix := NULL;
    RETURN NEXT;

    -- /dev/shm: POSIX dynamic shared memory holds parallel hash tables and parallel index builds
    v_need := coalesce(v_cur.mpw, 0) * v_cur.wm * greatest(1, v_cur.hmm) + v_cur.mwm;
    name := '/dev/shm';
    current := CASE WHEN shm_bytes IS NULL THEN NULL
                    ELSE pgmaint._size_text(floor(shm_bytes / 1048576.0) * 1024) END;
    recommended := pgmaint._size_text(ceil(v_need / 1048576) * 1024);
    unit := NULL;
    IF v_cur.dsm IS DISTINCT FROM 'posix' OR coalesce(v_cur.mpwg, 0) = 0 OR coalesce(v_cur.mpw, 0) = 0 THEN
        status := 'ok';
        reason := format('parallel query does not use /dev/shm here (dynamic_shared_memory_type = %s, max_parallel_workers_per_gather = %s)',
                         v_cur.dsm, v_cur.mpwg);
    ELSIF shm_bytes IS NULL THEN
        status := 'unknown';
        reason := format('could not measure /dev/shm (%s); parallel query needs about %s', shm_source, recommended);
    ELSIF shm_bytes < v_need THEN
        status := 'risky';
        reason := format('%s (%s) is below the %s that %s parallel workers x work_mem x hash_mem_multiplier + maintenance_work_mem can take: parallel queries fail with "could not resize shared memory segment"; give the container more (docker run --shm-size=%sm, compose shm_size), or SET max_parallel_workers_per_gather = 0',
                         current, shm_source, recommended, v_cur.mpw,
                         greatest(256, ceil(v_need / 1048576)));
    ELSE
        status := 'ok';
        reason := format('%s (%s) holds the %s that parallel query can take', current, shm_source, recommended);
    END IF;
    fix := NULL;
    RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION pgmaint.config_audit()
RETURNS TABLE (check_name text, status text, detail text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hba       boolean;
    v_lines     text;
    v_loopback  text;
    v_n         bigint;
    v_hidden    bigint;
    v_val       text;
    v_ssl       text;
    v_overrides text;
    g           record;
BEGIN
    -- pg_hba_file_rules is readable by superusers only unless granted (PG15)
    v_hba := has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE')
             AND has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT');

    -- trust on host lines: anyone who reaches the port logs in without a password
    check_name := 'hba_trust';
    IF NOT v_hba THEN
        status := 'unknown';
        detail := 'cannot read pg_hba_file_rules: it needs superuser or GRANT SELECT ON pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_hba_file_rules()';
        fix := NULL;
    ELSE
        SELECT string_agg(format('line %s (%s %s %s %s)', h.line_number, h.type,
                                 array_to_string(h.database, ','), array_to_string(h.user_name, ','),
                                 coalesce(h.address, '') || coalesce('/' || h.netmask, '')),
                          ', ' ORDER BY h.line_number)
                 FILTER (WHERE NOT (h.address ~ '^127\.' OR h.address IN ('::1', 'localhost'))),
               string_agg(format('line %s (%s)', h.line_number, h.address), ', ' ORDER BY h.line_number)
                 FILTER (WHERE h.address ~ '^127\.' OR h.address IN ('::1', 'localhost'))
          INTO v_lines, v_loopback
          FROM pg_catalog.pg_hba_file_rules h
         WHERE h.type LIKE 'host%' AND h.auth_method = 'trust';
        IF v_lines IS NOT NULL THEN
            status := 'critical';
            detail := 'trust authentication on host lines reachable from the network: ' || v_lines;
        ELSIF v_loopback IS NOT NULL THEN
            status := 'warning';
            detail := 'trust authentication on loopback host lines (any local process, any container sharing the network namespace): ' || v_loopback;
        ELSE
            status := 'ok';
            detail := 'no host line uses trust';
        END IF;
        fix := CASE WHEN status <> 'ok'
                    THEN 'In pg_hba.conf, replace trust by scram-sha-256 on those lines, then SELECT pg_reload_conf();' END;
    END IF;
    RETURN NEXT;

    -- password hashing: scram-sha-256 resists replay and offline cracking better than md5
    check_name := 'password_encryption';
    SELECT s.reset_val INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'password_encryption';
    status := CASE WHEN v_val = 'scram-sha-256' THEN 'ok' ELSE 'warning' END;
    detail := format('password_encryption = %s', v_val);
    fix := CASE WHEN status <> 'ok' THEN pgmaint._set_fix('password_encryption', 'scram-sha-256') END;
    RETURN NEXT;

    check_name := 'hba_md5';
    IF NOT v_hba THEN
        status := 'unknown';
        detail := 'cannot read pg_hba_file_rules: it needs superuser or GRANT SELECT ON pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_hba_file_rules()';
        fix := NULL;
    ELSE
        SELECT string_agg(format('line %s (%s)', h.line_number, h.auth_method), ', ' ORDER BY h.line_number)
          INTO v_lines
          FROM pg_catalog.pg_hba_file_rules h
         WHERE h.auth_method IN ('md5', 'password');
        status := CASE WHEN v_lines IS NULL THEN 'ok' ELSE 'warning' END;
        detail := coalesce('md5 or clear-text password authentication: ' || v_lines,
                           'no md5 or password rules');
        fix := CASE WHEN v_lines IS NOT NULL
                    THEN 'Re-set every password with password_encryption = scram-sha-256, then replace md5/password by scram-sha-256 in pg_hba.conf and SELECT pg_reload_conf();' END;
    END IF;
    RETURN NEXT;

    -- listening on every interface without TLS sends passwords' exchanges and data in clear
    check_name := 'listen_without_ssl';
    SELECT s.setting INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'listen_addresses';
    SELECT s.setting INTO v_ssl FROM pg_catalog.pg_settings s WHERE s.name = 'ssl';
    IF v_val IS NULL OR v_ssl IS NULL THEN
        status := 'unknown';
        detail := 'cannot read listen_addresses or ssl (needs pg_read_all_settings)';
        fix := NULL;
    ELSIF pgmaint._listens_everywhere(v_val) AND v_ssl = 'off' THEN
        status := 'warning';
        detail := format('listen_addresses = ''%s'' and ssl = off: connections from other hosts are not encrypted', v_val);
        fix := 'ALTER SYSTEM SET ssl = on (with ssl_cert_file and ssl_key_file), or publish the port on 127.0.0.1 only';
    ELSE
        status := 'ok';
        detail := format('listen_addresses = ''%s'', ssl = %s', v_val, v_ssl);
        fix := NULL;
    END IF;
    RETURN NEXT;

    -- applications as superuser: client sessions of superuser roles, except this
    -- session and the administration tools (psql, pg_dump, ... by application_name).
    -- Without pg_read_all_stats, backend_type of other roles' sessions is hidden.
    check_name := 'superuser_applications';
    SELECT count(*) FILTER (WHERE a.backend_type = 'client backend'),
           string_agg(DISTINCT format('%s as %s', coalesce(nullif(a.application_name, ''), '(no application_name)'),
                                      a.usename), ', ') FILTER (WHERE a.backend_type = 'client backend'),
           count(*) FILTER (WHERE a.backend_type IS NULL)
      INTO v_n, v_lines, v_hidden
      FROM pg_catalog.pg_stat_activity a
      JOIN pg_catalog.pg_roles su ON su.oid = a.usesysid
     WHERE su.rolsuper
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND coalesce(a.application_name, '') NOT IN
           ('psql', 'pg_dump', 'pg_dumpall', 'pg_restore', 'pg_basebackup', 'pg_rewind',
            'vacuumdb', 'reindexdb', 'clusterdb', 'pg_amcheck', 'pg_upgrade', 'pg_cron')
       AND coalesce(a.application_name, '') NOT LIKE 'pg\_regress%'
       AND coalesce(a.application_name, '') NOT LIKE 'pgAdmin%';
    IF v_n > 0 THEN
        status := 'warning';
        detail := format('%s session(s) as a superuser: %s', v_n, v_lines);
        fix := 'CREATE ROLE app LOGIN PASSWORD ''...''; GRANT the privileges it needs; connect the application as that role';
    ELSIF v_hidden > 0 THEN
        status := 'unknown';
        detail := format('cannot tell whether %s superuser session(s) are applications: it needs pg_read_all_stats', v_hidden);
        fix := NULL;
    ELSE
        status := 'ok';
        detail := 'no application session runs as a superuser';
        fix := NULL;
    END IF;
    RETURN NEXT;

    -- timeouts: set in the configuration (reset_val) or for some role or database
    FOR g IN
        SELECT t.ord, t.name AS gname, t.recommended AS guide, s.reset_val, s.unit
          FROM pgmaint._guide_settings() t
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.name
         WHERE t.topic = 'timeout'
         ORDER BY t.ord
    LOOP
        check_name := g.gname;
        SELECT string_agg(format('%s=%s for %s', g.gname, split_part(c, '=', 2),
                                 concat_ws(' in ', coalesce('role ' || ro.rolname, NULL),
                                           coalesce('database ' || db.datname, NULL))), ', ')
          INTO v_overrides
          FROM pg_catalog.pg_db_role_setting d
          LEFT JOIN pg_catalog.pg_roles ro ON ro.oid = d.setrole
          LEFT JOIN pg_catalog.pg_database db ON db.oid = d.setdatabase,
               unnest(d.setconfig) AS c
         WHERE split_part(c, '=', 1) = g.gname
           AND split_part(c, '=', 2) NOT IN ('0', '');
        IF g.reset_val IS NULL THEN
            status := 'unknown';
            detail := format('cannot read %s', g.gname);
        ELSIF g.reset_val <> '0' THEN
            status := 'ok';
            detail := format('%s = %s', g.gname,
                             pgmaint._ms_text(g.reset_val::numeric * pgmaint._unit_factor(g.unit)));
        ELSIF v_overrides IS NOT NULL THEN
            status := 'ok';
            detail := format('%s is 0 in the configuration but set per role or database: %s', g.gname, v_overrides);
        ELSE
            status := 'warning';
            detail := format('%s is 0 (unset): nothing stops a runaway statement or a leaked session', g.gname);
        END IF;
        fix := CASE WHEN status = 'warning'
                    THEN pgmaint._set_fix(g.gname, g.guide) END;
        RETURN NEXT;
    END LOOP;

    -- logging the guide asks for
    FOR g IN
        SELECT t.ord, t.name AS gname, t.recommended AS guide, s.reset_val
          FROM pgmaint._guide_settings() t
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.name
         WHERE t.topic = 'logging'
         ORDER BY t.ord
    LOOP
        check_name := g.gname;
        IF g.reset_val IS NULL THEN
            status := 'unknown';
            detail := format('cannot read %s', g.gname);
        ELSIF g.reset_val IN ('off', '-1') THEN
            status := 'warning';
            detail := format('%s is off', g.gname);
        ELSE
            status := 'ok';
            detail := format('%s = %s', g.gname, current_setting(g.gname));
        END IF;
        fix := CASE WHEN status = 'warning'
                    THEN pgmaint._set_fix(g.gname, g.guide) END;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.settings_advice(integer, integer, text, integer) IS
'Recommended settings for ram_mb and cpus (detected from the container limits when NULL): name, current, recommended, unit, status (ok, differs, risky), reason, fix (ALTER SYSTEM statement, or patronictl edit-config where Patroni manages the server).';

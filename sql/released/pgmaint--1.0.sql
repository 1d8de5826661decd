-- pgmaint install script, assembled from sql/install/*.sql in name order.
-- Every function pins search_path; every object is schema-qualified.

\echo Use "CREATE EXTENSION pgmaint" to load this file. \quit

GRANT USAGE ON SCHEMA pgmaint TO pg_monitor;

-- Settings of the library, readable from SQL in every backend.
CREATE FUNCTION pgmaint.preloaded()
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_preloaded';

COMMENT ON FUNCTION pgmaint.preloaded() IS
'True when pgmaint is loaded through shared_preload_libraries (the worker and the ring need it).';

GRANT EXECUTE ON FUNCTION pgmaint.preloaded() TO pg_monitor;

-- Alert thresholds of health(); an INSERT of an existing check updates it.
CREATE TABLE pgmaint.thresholds (
    check_name  text PRIMARY KEY,
    warning     numeric,
    critical    numeric,
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT ''
);

COMMENT ON TABLE pgmaint.thresholds IS
'Warning and critical levels of each health() check; when critical is below warning, lower values are worse. enabled = false omits the check.';

-- Trigger for configuration tables: an INSERT of an existing key (the
-- trigger's argument names the key column) updates that row instead, so that
-- a restored dump, which re-inserts every row, keeps users' edits.
CREATE FUNCTION pgmaint._upsert_by_key()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key     text := TG_ARGV[0];
    columns text;
    updated bigint;
BEGIN
    SELECT string_agg(format('%I = ($1).%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
      INTO columns
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname <> key;
    EXECUTE format('UPDATE %I.%I SET %s WHERE %I = ($1).%I',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME, columns, key, key)
      USING NEW;
    GET DIAGNOSTICS updated = ROW_COUNT;
    IF updated > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgmaint._upsert_by_key() IS
'Trigger: an INSERT of an existing key (column named by the trigger argument) updates that row; keeps edits across pg_dump/pg_restore.';

CREATE TRIGGER thresholds_upsert
    BEFORE INSERT ON pgmaint.thresholds
    FOR EACH ROW EXECUTE FUNCTION pgmaint._upsert_by_key('check_name');

SELECT pg_catalog.pg_extension_config_dump('pgmaint.thresholds', '');

GRANT SELECT ON pgmaint.thresholds TO pg_monitor;

-- Audit log of every action and dry run.
CREATE TABLE pgmaint.actions (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor   name NOT NULL DEFAULT session_user,
    action  text NOT NULL,
    target  text,
    detail  jsonb,
    dry_run boolean NOT NULL DEFAULT false
);

COMMENT ON TABLE pgmaint.actions IS
'Audit log: one row per action pgmaint took or, with dry_run, would have taken.';

GRANT SELECT ON pgmaint.actions TO pg_monitor;

-- Writes one audit row; the actor is the session's login role.
CREATE FUNCTION pgmaint._audit(action text, target text, detail jsonb, dry_run boolean)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO pgmaint.actions (actor, action, target, detail, dry_run)
    VALUES (session_user, $1, $2, $3, $4);
$$;

COMMENT ON FUNCTION pgmaint._audit(text, text, jsonb, boolean) IS
'Internal: appends a row to pgmaint.actions on behalf of an action function; the actor is session_user.';

REVOKE ALL ON FUNCTION pgmaint._audit(text, text, jsonb, boolean) FROM PUBLIC;

-- Grades a value against its thresholds: higher is worse unless critical < warning.
CREATE FUNCTION pgmaint._grade(value numeric, warning numeric, critical numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN value IS NULL THEN 'unknown'
        WHEN warning IS NOT NULL AND critical IS NOT NULL AND critical < warning THEN
            CASE WHEN value <= critical THEN 'critical'
                 WHEN value <= warning THEN 'warning'
                 ELSE 'ok' END
        WHEN critical IS NOT NULL AND value >= critical THEN 'critical'
        WHEN warning IS NOT NULL AND value >= warning THEN 'warning'
        ELSE 'ok'
    END;
$$;

COMMENT ON FUNCTION pgmaint._grade(numeric, numeric, numeric) IS
'Internal: ok, warning, critical or unknown (NULL value) for a value and its thresholds.';
-- Autovacuum profiles and the per-table policy record (used by the policy
-- and by the statistics functions that report a table's profile).

CREATE TABLE pgmaint.profiles (
    name        text PRIMARY KEY CHECK (name <> ''),
    reloptions  text[] NOT NULL,
    description text NOT NULL DEFAULT ''
);

COMMENT ON TABLE pgmaint.profiles IS
'Per-table autovacuum profiles: name, the reloptions a table tuned with it gets, and what it is for. Users may add rows.';

INSERT INTO pgmaint.profiles (name, reloptions, description) VALUES
    ('high_churn',
     '{autovacuum_vacuum_scale_factor=0.05,autovacuum_vacuum_threshold=25,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10}',
     'Heavy updates and deletes (agent_cache): vacuum at 5% dead rows, analyze at 2% changes, less throttling.'),
    ('insert_heavy',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=100}',
     'Mostly inserts with few updates (token_usage): vacuum less often, analyze often enough for planning.'),
    ('append_only',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}',
     'Inserts only, occasional cleanup (tool_call_log).'),
    ('moderate',
     '{autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=50}',
     'Steady mixed writes (thread_messages).');

-- An INSERT of an existing profile updates it (pg_restore keeps users' edits).
CREATE TRIGGER profiles_upsert
    BEFORE INSERT ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._upsert_by_key('name');

-- Refuses a profile whose options ALTER TABLE ... SET would reject, or that
-- sets anything but autovacuum_*, toast.autovacuum_* and fillfactor.
CREATE FUNCTION pgmaint._validate_reloptions(profile text, options text[])
RETURNS void
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'pgmaint_validate_reloptions';

COMMENT ON FUNCTION pgmaint._validate_reloptions(text, text[]) IS
'Internal: raises an error unless every option is name=value with an autovacuum_*, toast.autovacuum_* or fillfactor name and a value the server''s reloption parser accepts.';

CREATE FUNCTION pgmaint._profiles_validate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pgmaint._validate_reloptions(NEW.name, NEW.reloptions);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgmaint._profiles_validate() IS
'Trigger: checks a profile''s reloptions with the server''s own parser before it is stored (as the extension''s owner, so that any role allowed to edit profiles can).';

-- Fires after profiles_upsert (triggers fire in name order), so that the
-- UPDATE an upsert turns into is checked by the UPDATE trigger.
CREATE TRIGGER profiles_validate
    BEFORE INSERT OR UPDATE OF name, reloptions ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._profiles_validate();

SELECT pg_catalog.pg_extension_config_dump('pgmaint.profiles', '');
GRANT SELECT ON pgmaint.profiles TO pg_monitor;

CREATE TABLE pgmaint.table_policy (
    relid      regclass PRIMARY KEY,
    profile    text NOT NULL REFERENCES pgmaint.profiles (name) ON UPDATE CASCADE,
    source     text NOT NULL CHECK (source IN ('manual', 'policy')),
    pinned     boolean NOT NULL DEFAULT false,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    options    text[] NOT NULL DEFAULT '{}',
    replaced   text[] NOT NULL DEFAULT '{}'
);

COMMENT ON TABLE pgmaint.table_policy IS
'Which profile pgmaint applied to which table, whether by hand (manual, pinned) or by the policy; options are the reloptions pgmaint set, replaced the table''s own values they overwrote (restored by reset_table).';

SELECT pg_catalog.pg_extension_config_dump('pgmaint.table_policy', '');
GRANT SELECT ON pgmaint.table_policy TO pg_monitor;

-- Per-table write counters taken by each policy run; recommend_profiles()
-- derives rates per hour between a snapshot and the live counters.  Pruned
-- by the policy run and prune_history(); not dumped (it is measurement).
CREATE TABLE pgmaint.table_activity (
    relid      oid NOT NULL,
    taken_at   timestamptz NOT NULL,
    n_tup_ins  bigint NOT NULL,
    n_tup_upd  bigint NOT NULL,
    n_tup_del  bigint NOT NULL,
    n_live_tup bigint NOT NULL,
    PRIMARY KEY (relid, taken_at)
);

CREATE INDEX table_activity_taken_at ON pgmaint.table_activity (taken_at);

COMMENT ON TABLE pgmaint.table_activity IS
'Snapshots of each user table''s insert, update and delete counters, taken by the policy run; the history recommend_profiles() computes rates from.';

GRANT SELECT ON pgmaint.table_activity TO pg_monitor;

-- Suggestions the policy has already logged in advise mode (each once).
CREATE TABLE pgmaint.policy_advice (
    relid      oid PRIMARY KEY,
    profile    text NOT NULL,
    reason     text NOT NULL,
    advised_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE pgmaint.policy_advice IS
'Suggestions the policy logged in advise mode; a suggestion is logged again only once it changed or went away and came back.';

GRANT SELECT ON pgmaint.policy_advice TO pg_monitor;

-- Forgets the policy rows, snapshots and advice of dropped tables.  Runs as
-- the extension's owner: whoever drops a table may not write these tables.
CREATE FUNCTION pgmaint._forget_dropped()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dropped oid[];
BEGIN
    SELECT array_agg(o.objid) INTO dropped
      FROM pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objsubid = 0
       AND o.object_type IN ('table', 'partitioned table');
    IF dropped IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM pgmaint.table_policy WHERE relid::oid = ANY (dropped);
    DELETE FROM pgmaint.table_activity WHERE relid = ANY (dropped);
    DELETE FROM pgmaint.policy_advice WHERE relid = ANY (dropped);
END
$$;

COMMENT ON FUNCTION pgmaint._forget_dropped() IS
'Event trigger: removes the table_policy, table_activity and policy_advice rows of dropped tables.';

REVOKE ALL ON FUNCTION pgmaint._forget_dropped() FROM PUBLIC;

CREATE EVENT TRIGGER pgmaint_forget_dropped ON sql_drop
    EXECUTE FUNCTION pgmaint._forget_dropped();
-- The background worker's samples: the shared-memory ring (samples()), the
-- worker's status (sampler_status()) and the persisted history.

-- Samples the worker appended on a primary; one row per sample.  An
-- extension member without pg_extension_config_dump: pg_dump leaves the
-- rows out (they are a cache of the server's recent past, not configuration).
CREATE TABLE pgmaint.sample_history (
    sampled_at                      timestamptz PRIMARY KEY,
    client_backends                 integer NOT NULL,
    active                          integer NOT NULL,
    idle                            integer NOT NULL,
    idle_in_transaction             integer NOT NULL,
    idle_in_transaction_aborted     integer NOT NULL,
    waiting_on_lock                 integer NOT NULL,
    longest_xact_age                interval,
    longest_idle_in_transaction_age interval,
    xact_commit                     bigint NOT NULL,
    xact_rollback                   bigint NOT NULL,
    blks_read                       bigint NOT NULL,
    blks_hit                        bigint NOT NULL,
    tup_inserted                    bigint NOT NULL,
    tup_updated                     bigint NOT NULL,
    tup_deleted                     bigint NOT NULL,
    deadlocks                       bigint NOT NULL,
    temp_bytes                      bigint NOT NULL,
    live_tuples                     bigint NOT NULL,
    dead_tuples                     bigint NOT NULL,
    datfrozenxid_age                bigint NOT NULL,
    user_tables                     bigint NOT NULL,
    stats_reset                     timestamptz
);

COMMENT ON TABLE pgmaint.sample_history IS
'Health samples the background worker persisted on the primary (raw counters; pgmaint.history_retention keeps them). Not dumped by pg_dump.';

GRANT SELECT ON pgmaint.sample_history TO pg_monitor;

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
    OUT stats_reset timestamptz)
RETURNS SETOF record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_samples';

COMMENT ON FUNCTION pgmaint.samples(timestamptz) IS
'The shared-memory ring of health samples taken since "since" (NULL: all), oldest first, with per-interval rates; needs pgmaint in shared_preload_libraries.';

GRANT EXECUTE ON FUNCTION pgmaint.samples(timestamptz) TO pg_monitor;

CREATE FUNCTION pgmaint.sampler_status(
    OUT running boolean,
    OUT pid integer,
    OUT database text,
    OUT started_at timestamptz,
    OUT last_sample_at timestamptz,
    OUT samples_taken bigint,
    OUT last_error text,
    OUT sample_interval interval,
    OUT policy text,
    OUT in_recovery boolean,
    OUT heartbeat_at timestamptz,
    OUT samples_persisted bigint,
    OUT worker_memory_bytes bigint,
    OUT ring_bytes bigint)
RETURNS record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_sampler_status';

COMMENT ON FUNCTION pgmaint.sampler_status() IS
'One row about the background worker, read from its heartbeat in shared memory: running, pid, database, last sample, errors, interval, policy.';

GRANT EXECUTE ON FUNCTION pgmaint.sampler_status() TO pg_monitor;

CREATE FUNCTION pgmaint._request_samples(count integer)
RETURNS bigint
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_request_samples';

COMMENT ON FUNCTION pgmaint._request_samples(integer) IS
'Internal (tests, benchmarks): asks the worker for count extra samples taken back to back; returns samples_taken at the time of the request.';

REVOKE ALL ON FUNCTION pgmaint._request_samples(integer) FROM PUBLIC;
-- Connections: sessions by state, leaked transactions and their safe
-- termination, long-running statements, lock chains, the pool budget.

-- Raises 22023 unless an interval argument is given and positive.
CREATE FUNCTION pgmaint._require_interval(name text, value interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '"%" must not be NULL', name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a positive interval such as ''5 min''.';
    END IF;
    IF value <= interval '0' THEN
        RAISE EXCEPTION '"%" must be a positive interval', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value given was %s.', value),
                  HINT = 'Pass a positive interval such as ''5 min''.';
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint._require_interval(text, interval) IS
'Internal: raises invalid_parameter_value (22023) unless the named interval argument is positive and not NULL.';

-- Raises 22023 unless a count argument is given and between lowest and 10,000.
CREATE FUNCTION pgmaint._require_count(name text, value integer, lowest integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '"%" must not be NULL', name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Pass a whole number from %s to 10000.', lowest);
    END IF;
    IF value < lowest OR value > 10000 THEN
        RAISE EXCEPTION '"%" must be between % and 10000', name, lowest
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value given was %s.', value),
                  HINT = CASE WHEN value > 10000
                              THEN 'No PostgreSQL server serves that many connections; check the unit of the value.'
                              WHEN name = 'pool_size'
                              THEN 'A pool needs at least one connection (SQLAlchemy''s pool_size = 0 means no limit, which no budget can hold).'
                              ELSE format('Pass a whole number from %s to 10000.', lowest) END;
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint._require_count(text, integer, integer) IS
'Internal: raises invalid_parameter_value (22023) unless the named count argument is not NULL and between lowest and 10000.';

-- Client sessions per database and state.  The read functions are PL/pgSQL
-- so that their plans are cached (a SQL function with SET is planned anew on
-- every call, several milliseconds for the pg_stat_activity view).
CREATE FUNCTION pgmaint.connections(
    OUT datname name, OUT state text, OUT count bigint,
    OUT max_duration interval, OUT oldest_xact_age interval)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now)
    SELECT a.datname, a.state, count(*),
           max(t.now - a.state_change), max(t.now - a.xact_start)
      FROM pg_catalog.pg_stat_activity a, t
     WHERE a.backend_type = 'client backend'
       AND a.pid <> pg_catalog.pg_backend_pid()
     GROUP BY a.datname, a.state
     ORDER BY a.datname, a.state;
END
$$;

COMMENT ON FUNCTION pgmaint.connections() IS
'Client sessions (the caller''s own excluded) per database and state: how many, the longest time in that state, the oldest open transaction. state is NULL for other roles'' sessions unless the caller has pg_read_all_stats.';

-- Sessions idle in a transaction for longer than idle_for.  idle_for is
-- INOUT so that the argument and the column both carry the contract's name;
-- OUT parameters are not part of the signature, so the call is (idle_for).
CREATE FUNCTION pgmaint.connection_leaks(
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
     WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
       AND a.state_change < t.now - min_idle
     ORDER BY a.state_change, a.pid;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_leaks(interval) IS
'Sessions idle in a transaction (or an aborted one) for longer than idle_for since their last state change, with the last statement and how many sessions wait on each.';

-- Terminates (or, in a dry run, lists) leaked sessions; see src/backends.c.
CREATE FUNCTION pgmaint.terminate_leaks(
    OUT pid integer, OUT usename name, OUT application_name text,
    INOUT idle_for interval DEFAULT '5 min', dry_run boolean DEFAULT true,
    OUT action text, OUT datname name)
RETURNS SETOF record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_terminate_leaks';

COMMENT ON FUNCTION pgmaint.terminate_leaks(interval, boolean) IS
'Terminates sessions idle in a transaction for longer than idle_for, with the caller''s own rights (dry_run, the default, terminates nothing). Never touches the caller''s session, other databases, non-client backends, pgmaint.leak_exclude applications, or superusers'' sessions unless the caller is one. One row per candidate; each termination or would-be termination is audited in pgmaint.actions.';

-- Active statements running for longer than min_duration.
CREATE FUNCTION pgmaint.long_running_queries(
    min_duration interval DEFAULT '30 s',
    OUT pid integer, OUT usename name, OUT application_name text, OUT duration interval,
    OUT wait_event_type text, OUT wait_event text, OUT blocked_by integer[],
    OUT query text, OUT datname name)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    min_run interval := min_duration;
BEGIN
    PERFORM pgmaint._require_interval('min_duration', min_run);
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now)
    SELECT a.pid, a.usename, a.application_name, t.now - a.query_start,
           a.wait_event_type, a.wait_event, pg_catalog.pg_blocking_pids(a.pid),
           a.query, a.datname
      FROM pg_catalog.pg_stat_activity a, t
     WHERE a.state = 'active'
       AND a.backend_type = 'client backend'
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND a.query_start < t.now - min_run
     ORDER BY a.query_start, a.pid;
END
$$;

COMMENT ON FUNCTION pgmaint.long_running_queries(interval) IS
'Client statements active for longer than min_duration, with what they wait on and the pids that block them (pg_blocking_pids).';

-- Every waiting session with each of its blockers.
CREATE FUNCTION pgmaint.blocking_locks(
    OUT blocked_pid integer, OUT blocked_user name, OUT blocked_query text,
    OUT blocked_for interval, OUT blocking_pid integer, OUT blocking_user name,
    OUT blocking_query text, OUT blocking_state text, OUT lock_mode text,
    OUT relation text, OUT is_root_blocker boolean, OUT locktype text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH t AS MATERIALIZED (SELECT pg_catalog.clock_timestamp() AS now),
    waiting AS MATERIALIZED (
        SELECT l.pid, l.locktype, l.mode, l.relation, l.database, l.waitstart,
               pg_catalog.pg_blocking_pids(l.pid) AS blockers
          FROM pg_catalog.pg_locks l
         WHERE NOT l.granted AND l.pid IS NOT NULL
    )
    SELECT w.pid, wa.usename, wa.query,
           t.now - coalesce(w.waitstart, wa.query_start),
           b.pid, ba.usename, ba.query,
           CASE WHEN b.pid = 0 THEN 'prepared transaction' ELSE ba.state END,
           w.mode,
           CASE WHEN w.relation IS NULL THEN NULL
                WHEN w.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                    WHERE d.datname = pg_catalog.current_database())
                     OR w.database = 0
                THEN w.relation::pg_catalog.regclass::text
                ELSE format('%s (in database %s)', w.relation,
                            (SELECT d.datname FROM pg_catalog.pg_database d
                              WHERE d.oid = w.database)) END,
           NOT EXISTS (SELECT 1 FROM waiting w2
                        WHERE w2.pid = b.pid AND cardinality(w2.blockers) > 0),
           w.locktype
      FROM waiting w
     CROSS JOIN LATERAL (SELECT DISTINCT u.pid FROM unnest(w.blockers) AS u(pid)) b
      LEFT JOIN pg_catalog.pg_stat_activity wa ON wa.pid = w.pid
      LEFT JOIN pg_catalog.pg_stat_activity ba ON ba.pid = b.pid
     CROSS JOIN t
     ORDER BY 4 DESC, 1, 5;
END
$$;

COMMENT ON FUNCTION pgmaint.blocking_locks() IS
'Every waiting session paired with each session that blocks it (pg_blocking_pids, so relation, transaction-id and advisory locks are all matched correctly); is_root_blocker marks a blocker that waits on nobody.';

-- The guide's pool arithmetic against this server's limits.
CREATE FUNCTION pgmaint.connection_budget(
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
    -- reserved_connections exists from PostgreSQL 16 on
    reserved    integer := coalesce(nullif(current_setting('reserved_connections', true), '')::integer, 0);
    usable      integer;
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

    usable := max_conn - su_reserved - reserved;
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
    verdict := 'max_connections - superuser_reserved_connections: what the application can open';
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
'The pool arithmetic of the guide against this server: planned connections (pool_size + max_overflow) * instances + reserve, usable slots (max_connections - superuser_reserved_connections), current use, the peak the sampler saw (NULL when it is not running), a memory estimate, and advice.';

-- Privileges are set in 99-privileges.sql: the read functions go to
-- pg_monitor, terminate_leaks() to nobody (superusers, or an explicit GRANT).
-- Cache, vacuum, size and index reports (the guide's "Cache Hit Ratios",
-- "Vacuum Effectiveness", "Disk Space" and "High CPU Usage"), and the
-- database-wide wraparound and disk figures.  Per-table reports are in C
-- (src/tablestats.c): one pass over pg_class reading pgstat directly.

CREATE FUNCTION pgmaint.cache_hit_tables(
    min_reads bigint DEFAULT 0,
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT heap_hits bigint, OUT heap_reads bigint, OUT heap_ratio double precision,
    OUT index_hits bigint, OUT index_reads bigint, OUT index_ratio double precision,
    OUT toast_hits bigint, OUT toast_reads bigint, OUT toast_ratio double precision)
RETURNS SETOF record
LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_cache_hit_tables';

COMMENT ON FUNCTION pgmaint.cache_hit_tables(bigint) IS
'Buffer cache hits and reads of each user table''s heap, indexes and TOAST (table and index), worst heap hit ratio first; only tables with at least min_reads reads in all. Ratios are hits / (hits + reads), NULL without any access.';

CREATE FUNCTION pgmaint._cache_hit_totals(
    OUT heap_hits bigint, OUT heap_reads bigint, OUT index_hits bigint,
    OUT index_reads bigint, OUT toast_hits bigint, OUT toast_reads bigint)
RETURNS record
LANGUAGE c STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_cache_hit_totals';

COMMENT ON FUNCTION pgmaint._cache_hit_totals() IS
'Internal: block hits and reads of all user tables'' heaps, indexes and TOAST, summed (the sums of cache_hit_tables()).';

-- The database's own counters and the user tables' sums.
CREATE FUNCTION pgmaint.cache_hit(
    OUT scope text, OUT hits bigint, OUT reads bigint, OUT ratio double precision,
    OUT ratio_last_hour double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    last_hour record;
BEGIN
    -- from the sampler's ring (80-checks.sql); NULLs when it does not watch this database
    SELECT * INTO last_hour FROM pgmaint._cache_hit_last_hour();

    RETURN QUERY
    WITH db AS (
        SELECT pg_stat_get_db_blocks_hit(d.oid) AS hits,
               pg_stat_get_db_blocks_fetched(d.oid) - pg_stat_get_db_blocks_hit(d.oid) AS reads
          FROM pg_database d
         WHERE d.datname = current_database()
    ),
    t AS (
        SELECT * FROM pgmaint._cache_hit_totals()
    )
    SELECT s.scope, s.hits, s.reads,
           CASE WHEN s.hits + s.reads > 0 THEN s.hits::float8 / (s.hits + s.reads) END,
           CASE WHEN s.n = 1 AND last_hour.hits + last_hour.reads > 0
                THEN (last_hour.hits / (last_hour.hits + last_hour.reads))::float8 END
      FROM db, t,
           LATERAL (VALUES (1, 'database', db.hits, db.reads),
                           (2, 'heap', t.heap_hits, t.heap_reads),
                           (3, 'index', t.index_hits, t.index_reads),
                           (4, 'toast', t.toast_hits, t.toast_reads)) AS s(n, scope, hits, reads)
     ORDER BY s.n;
END
$$;

COMMENT ON FUNCTION pgmaint.cache_hit() IS
'Buffer cache hit ratio of this database (pg_stat_database) and of its user tables'' heap, indexes and TOAST: hits, reads and hits / (hits + reads), NULL when nothing was read yet; for the database, ratio_last_hour from the sampler''s ring (NULL unless the worker samples this database).';

CREATE FUNCTION pgmaint.vacuum_stats(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT live_tuples bigint, OUT dead_tuples bigint, OUT dead_ratio double precision,
    OUT last_vacuum timestamptz, OUT last_autovacuum timestamptz,
    OUT last_analyze timestamptz, OUT last_autoanalyze timestamptz,
    OUT vacuum_count bigint, OUT autovacuum_count bigint,
    OUT analyze_count bigint, OUT autoanalyze_count bigint,
    OUT inserts_since_vacuum bigint, OUT mods_since_analyze bigint, OUT reltuples real,
    OUT vacuum_threshold double precision, OUT insert_threshold double precision,
    OUT analyze_threshold double precision, OUT dead_until_vacuum bigint,
    OUT autovacuum_enabled boolean, OUT autovacuum_due boolean, OUT analyze_due boolean,
    OUT falling_behind boolean, OUT xid_age integer, OUT freeze_max_age integer,
    OUT freeze_age_pct double precision, OUT profile text)
RETURNS SETOF record
LANGUAGE c STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_vacuum_stats';

COMMENT ON FUNCTION pgmaint.vacuum_stats() IS
'Vacuum state of each user table, in catalog order (ORDER BY dead_ratio DESC NULLS LAST for the guide''s view): counts, last (auto)vacuum and (auto)analyze, the thresholds at which PostgreSQL 15''s autovacuum acts (reloption, else setting; reltuples < 0 counts as 0), whether it is due, falling_behind (dead tuples above twice the threshold and no vacuum for 10 autovacuum_naptime), the transaction-id age of the table or its TOAST table in % of the effective autovacuum_freeze_max_age, and pgmaint''s profile.';

CREATE FUNCTION pgmaint.table_sizes(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT total_bytes bigint, OUT heap_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint,
    OUT total_size text, OUT heap_size text, OUT index_size text, OUT toast_size text,
    OUT row_estimate bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_sizes';

COMMENT ON FUNCTION pgmaint.table_sizes() IS
'Exact on-disk size of each user table, largest first: heap (all forks), indexes and TOAST (table and index); total_bytes = pg_total_relation_size. Stats every file: keep it off frequent health checks. row_estimate is reltuples (NULL before the first VACUUM or ANALYZE).';

-- Unused, duplicate, invalid and missing indexes, and large tables read by sequential scans.
CREATE FUNCTION pgmaint.index_advice(
    unused_min_bytes bigint DEFAULT 1048576,
    seq_scan_min_bytes bigint DEFAULT 10485760,
    OUT kind text, OUT table_name regclass, OUT index_name regclass,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF unused_min_bytes IS NULL OR unused_min_bytes < 0
       OR seq_scan_min_bytes IS NULL OR seq_scan_min_bytes < 0 THEN
        RAISE EXCEPTION 'size floors must not be negative or null'
            USING ERRCODE = '22023',
                  HINT = 'Pass 0 to report indexes and tables of every size.';
    END IF;

    RETURN QUERY
    WITH idx AS (
        SELECT i.indexrelid, i.indrelid, i.indisprimary, i.indisunique, i.indisexclusion,
               i.indisreplident, i.indisvalid, i.indnatts, i.indnkeyatts,
               i.indkey::text AS allcols, ic.relam, ic.relpages, ic.relkind AS idxkind,
               ic.relname AS idxname, pg_get_expr(i.indexprs, i.indrelid) AS exprs,
               pg_get_expr(i.indpred, i.indrelid) AS pred,
               (SELECT string_agg(format('%s/%s/%s/%s', i.indkey[k], i.indclass[k],
                                         i.indcollation[k], i.indoption[k]), ' ' ORDER BY k)
                  FROM generate_series(0, i.indnkeyatts - 1) AS k) AS keysig,
               EXISTS (SELECT 1 FROM pg_constraint k
                        WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                          AND k.contype IN ('p', 'u', 'x')) AS backs_constraint,
               EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS is_partition
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'm', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND NOT EXISTS (SELECT 1 FROM pg_depend dep  -- an extension's own tables are not the user's to index
                            WHERE dep.classid = 'pg_class'::regclass AND dep.objid = t.oid
                              AND dep.deptype = 'e')
    ),
    ranked AS (
        -- the index of a duplicate pair that is kept ranks higher
        SELECT idx.*, ARRAY[indisprimary::int, backs_constraint::int, indisunique::int] AS keep_rank
          FROM idx
    ),
    dup AS (
        SELECT DISTINCT ON (a.indexrelid)
               a.indexrelid, a.indrelid, a.idxkind, a.backs_constraint, b.indexrelid AS kept,
               a.keysig = b.keysig AS exact
          FROM ranked a
          JOIN ranked b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
         WHERE a.indisvalid AND b.indisvalid AND NOT a.is_partition AND NOT b.is_partition
           AND a.relam = b.relam AND a.idxkind = b.idxkind
           AND a.exprs IS NOT DISTINCT FROM b.exprs
           AND a.pred IS NOT DISTINCT FROM b.pred
           AND (  -- same key and included columns: keep the higher-ranked, else the older one
                  (a.keysig = b.keysig AND a.allcols = b.allcols
                   AND (a.keep_rank < b.keep_rank
                        OR (a.keep_rank = b.keep_rank AND a.indexrelid > b.indexrelid)))
                  -- a plain btree whose key columns lead another btree's keys
               OR (a.exprs IS NULL AND NOT a.indisunique AND NOT a.indisexclusion
                   AND a.indnatts = a.indnkeyatts
                   AND a.relam = (SELECT am.oid FROM pg_am am WHERE am.amname = 'btree')
                   AND a.keysig <> b.keysig
                   AND starts_with(b.keysig || ' ', a.keysig || ' ')))
         ORDER BY a.indexrelid, (a.keysig = b.keysig) DESC, b.indexrelid
    ),
    tbl AS (
        SELECT c.oid, c.relpages, pg_stat_get_numscans(c.oid) AS seq_scan,
               pg_stat_get_tuples_returned(c.oid) AS seq_tup_read,
               (SELECT coalesce(sum(pg_stat_get_numscans(i.indexrelid)), 0)
                  FROM pg_index i WHERE i.indrelid = c.oid) AS idx_scan
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'm')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND c.relpages::bigint * current_setting('block_size')::bigint >= seq_scan_min_bytes
           AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                            WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                              AND dep.deptype = 'e')
    ),
    fk AS (
        SELECT k.conname, k.conrelid, k.confrelid, t.relkind,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord)
                  FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS cols
          FROM pg_constraint k
          JOIN pg_class t ON t.oid = k.conrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE k.contype = 'f' AND k.conparentid = 0
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                            WHERE dep.classid = 'pg_class'::regclass AND dep.objid = t.oid
                              AND dep.deptype = 'e')
           AND NOT EXISTS (
               SELECT 1 FROM pg_index i
                WHERE i.indrelid = k.conrelid AND i.indisvalid AND i.indpred IS NULL
                  AND i.indnkeyatts >= cardinality(k.conkey)
                  AND (SELECT array_agg(x ORDER BY x)
                         FROM unnest((i.indkey::int2[])[0:cardinality(k.conkey) - 1]) AS x)
                      = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) AS x))
    )
    SELECT 'unused'::text, idx.indrelid::regclass, idx.indexrelid::regclass,
           format('no index scans since statistics were reset (%s); %s from relpages',
                  coalesce(pg_stat_get_db_stat_reset_time(
                               (SELECT d.oid FROM pg_database d
                                 WHERE d.datname = current_database()))::text,
                           'never reset'),
                  pg_size_pretty(idx.relpages::bigint * current_setting('block_size')::bigint)),
           format('DROP INDEX CONCURRENTLY %s;', idx.indexrelid::regclass)
      FROM idx
     WHERE idx.idxkind = 'i' AND idx.indisvalid AND NOT idx.is_partition
       AND NOT idx.indisprimary AND NOT idx.indisunique AND NOT idx.indisexclusion
       AND NOT idx.indisreplident AND NOT idx.backs_constraint
       AND pg_stat_get_numscans(idx.indexrelid) = 0
       AND idx.relpages::bigint * current_setting('block_size')::bigint >= unused_min_bytes
    UNION ALL
    SELECT 'duplicate', dup.indrelid::regclass, dup.indexrelid::regclass,
           format(CASE WHEN dup.exact THEN 'same columns, expressions and predicate as %s'
                       ELSE 'its columns lead %s, which serves the same scans' END,
                  dup.kept::regclass),
           CASE WHEN dup.backs_constraint
                THEN format('ALTER TABLE %s DROP CONSTRAINT %I;', dup.indrelid::regclass,
                            (SELECT k.conname FROM pg_constraint k
                              WHERE k.conindid = dup.indexrelid AND k.conrelid = dup.indrelid
                              LIMIT 1))
                WHEN dup.idxkind = 'I' THEN format('DROP INDEX %s;', dup.indexrelid::regclass)
                ELSE format('DROP INDEX CONCURRENTLY %s;', dup.indexrelid::regclass) END
      FROM dup
    UNION ALL
    SELECT 'invalid', idx.indrelid::regclass, idx.indexrelid::regclass,
           'invalid index (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY): every write maintains it, no query uses it',
           CASE WHEN idx.idxname ~ '_cc(new|old)[0-9]*$'
                THEN format('DROP INDEX CONCURRENTLY %s;', idx.indexrelid::regclass)
                ELSE format('REINDEX INDEX CONCURRENTLY %s;', idx.indexrelid::regclass) END
      FROM idx
     WHERE idx.idxkind = 'i' AND NOT idx.indisvalid
       AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
                        WHERE p.relid = idx.indrelid)
    UNION ALL
    SELECT 'fk_without_index', fk.conrelid::regclass, NULL::regclass,
           format('foreign key %I (%s) to %s: no valid index leads with these columns, so deletes and updates of %s scan %s',
                  fk.conname, fk.cols, fk.confrelid::regclass, fk.confrelid::regclass,
                  fk.conrelid::regclass),
           format(CASE WHEN fk.relkind = 'p' THEN 'CREATE INDEX ON %s (%s);'
                       ELSE 'CREATE INDEX CONCURRENTLY ON %s (%s);' END,
                  fk.conrelid::regclass, fk.cols)
      FROM fk
    UNION ALL
    SELECT 'seq_scan_heavy', tbl.oid::regclass, NULL::regclass,
           format('%s sequential scans read %s rows, %s index scans; %s from relpages',
                  tbl.seq_scan, tbl.seq_tup_read, tbl.idx_scan,
                  pg_size_pretty(tbl.relpages::bigint * current_setting('block_size')::bigint)),
           format('SELECT query, calls, rows FROM pg_stat_statements WHERE query ~* %L ORDER BY total_exec_time DESC LIMIT 10;',
                  '\m' || (SELECT c.relname FROM pg_class c WHERE c.oid = tbl.oid) || '\M')
      FROM tbl
     WHERE tbl.seq_scan >= 10 AND tbl.seq_scan > tbl.idx_scan;
END
$$;

COMMENT ON FUNCTION pgmaint.index_advice(bigint, bigint) IS
'Index findings with a suggested statement: unused (no scans since the statistics reset, at least unused_min_bytes, never primary key, unique, exclusion or replica-identity indexes), duplicate (same columns, expressions and predicate, or a plain btree leading another), invalid (not while a concurrent build runs on the table), fk_without_index, seq_scan_heavy (tables of at least seq_scan_min_bytes with 10+ sequential scans, more than index scans).';

-- The guide's "find expensive queries", on PostgreSQL 13+ column names.
CREATE FUNCTION pgmaint.expensive_queries(
    n integer DEFAULT 10,
    OUT queryid bigint, OUT database name, OUT role name, OUT query text,
    OUT calls bigint, OUT total_exec_time double precision,
    OUT mean_exec_time double precision, OUT rows bigint,
    OUT share_pct double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pgss_schema name;
    pgss_version text;
BEGIN
    IF n IS NULL OR n < 0 THEN
        RAISE EXCEPTION 'n must not be negative or null'
            USING ERRCODE = '22023',
                  HINT = 'Pass the number of queries to list, for example 10.';
    END IF;

    SELECT e.extnamespace::regnamespace::name, e.extversion
      INTO pgss_schema, pgss_version
      FROM pg_extension e
     WHERE e.extname = 'pg_stat_statements';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_stat_statements is not installed in this database'
            USING ERRCODE = '55000',
                  HINT = 'Add pg_stat_statements to shared_preload_libraries, restart the server, then run CREATE EXTENSION pg_stat_statements in this database.';
    END IF;
    IF string_to_array(pgss_version, '.')::int[] < ARRAY[1, 8] THEN
        RAISE EXCEPTION 'pg_stat_statements %, installed in this database, has no total_exec_time', pgss_version
            USING ERRCODE = '55000',
                  HINT = 'Run ALTER EXTENSION pg_stat_statements UPDATE.';
    END IF;

    RETURN QUERY EXECUTE format(
        'SELECT s.queryid, d.datname, r.rolname, s.query, s.calls, s.total_exec_time,
                s.mean_exec_time, s.rows,
                100 * s.total_exec_time / nullif(sum(s.total_exec_time) OVER (), 0)
           FROM %I.pg_stat_statements s
           LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
           LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
          ORDER BY s.total_exec_time DESC, s.queryid
          LIMIT $1', pgss_schema)
    USING n;
END
$$;

COMMENT ON FUNCTION pgmaint.expensive_queries(integer) IS
'The n statements with the most total execution time in pg_stat_statements (found in whatever schema it is installed): calls, total and mean time in ms, rows, and share_pct of all statements'' time. SQLSTATE 55000 when pg_stat_statements is not installed.';

CREATE FUNCTION pgmaint.disk_space(
    OUT total_bytes bigint, OUT free_bytes bigint, OUT available_bytes bigint,
    OUT available_pct double precision)
RETURNS record
LANGUAGE c VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_disk_space';

COMMENT ON FUNCTION pgmaint.disk_space() IS
'Size, free and available (to the server, not root) bytes of the data directory''s file system, from statvfs. Requires the privileges of pg_read_all_settings (pg_monitor has them).';

CREATE FUNCTION pgmaint.database_stats(
    OUT database name,
    OUT xid_age integer, OUT xid_freeze_max_age integer, OUT xid_age_pct double precision,
    OUT mxid_age integer, OUT mxid_freeze_max_age integer, OUT mxid_age_pct double precision,
    OUT oldest_database name, OUT oldest_xid_age integer, OUT oldest_xid_age_pct double precision,
    OUT disk_total_bytes bigint, OUT disk_available_bytes bigint,
    OUT disk_available_pct double precision)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT current_setting('autovacuum_freeze_max_age')::int AS xmax,
               current_setting('autovacuum_multixact_freeze_max_age')::int AS mmax
    ),
    oldest AS (
        SELECT d.datname, age(d.datfrozenxid) AS a
          FROM pg_database d
         ORDER BY age(d.datfrozenxid) DESC, d.datname
         LIMIT 1
    )
    SELECT d.datname,
           age(d.datfrozenxid), s.xmax, 100.0 * age(d.datfrozenxid) / s.xmax,
           mxid_age(d.datminmxid), s.mmax, 100.0 * mxid_age(d.datminmxid) / s.mmax,
           oldest.datname, oldest.a, 100.0 * oldest.a / s.xmax,
           ds.total_bytes, ds.available_bytes, ds.available_pct
      FROM pg_database d, s, oldest, pgmaint.disk_space() ds
     WHERE d.datname = current_database();
$$;

COMMENT ON FUNCTION pgmaint.database_stats() IS
'Database-wide figures for health(): age(datfrozenxid) and mxid_age(datminmxid) of this database in % of autovacuum_freeze_max_age and autovacuum_multixact_freeze_max_age (autovacuum forces a vacuum at 100%), the oldest database of the cluster, and the data directory''s disk space.';

GRANT EXECUTE ON FUNCTION pgmaint.cache_hit_tables(bigint) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._cache_hit_totals() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.cache_hit() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.vacuum_stats() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.table_sizes() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.index_advice(bigint, bigint) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.expensive_queries(integer) TO pg_monitor;
REVOKE ALL ON FUNCTION pgmaint.disk_space() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.disk_space() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.database_stats() TO pg_monitor;
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
-- Settings advisor and configuration audit (issue 8): settings_advice(),
-- detected_resources(), config_audit().  Privileges are in 99-privileges.sql.

-- Memory, CPUs and /dev/shm below a root directory, from cgroup v2/v1 and /proc, in C.
CREATE FUNCTION pgmaint._detect_resources(root text DEFAULT '/',
    OUT ram_bytes bigint, OUT ram_source text, OUT physical_ram_bytes bigint,
    OUT cpus integer, OUT cpus_source text, OUT shm_bytes bigint, OUT shm_source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_resources';

COMMENT ON FUNCTION pgmaint._detect_resources(text) IS
'Internal: memory (cgroup v2 memory.max/memory.high, cgroup v1 memory.limit_in_bytes, else /proc/meminfo), CPUs and /dev/shm size read below root, each with its source; another root than / is for superusers (tests point it at fixture trees).';

-- The same for the server itself.
CREATE FUNCTION pgmaint.detected_resources(
    OUT ram_bytes bigint, OUT ram_source text, OUT physical_ram_bytes bigint,
    OUT cpus integer, OUT cpus_source text, OUT shm_bytes bigint, OUT shm_source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_resources';

COMMENT ON FUNCTION pgmaint.detected_resources() IS
'Memory, CPUs and /dev/shm size the server really has (container limits first), each with the file it came from.';

-- A size in kB as PostgreSQL writes it: whole megabytes in MB, else kB.
CREATE FUNCTION pgmaint._size_text(kb numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN kb IS NULL THEN NULL
        WHEN kb <> 0 AND kb % 1024 = 0 THEN (kb / 1024)::bigint || 'MB'
        ELSE kb::bigint || 'kB'
    END;
$$;

COMMENT ON FUNCTION pgmaint._size_text(numeric) IS
'Internal: a size in kB as a setting value readable by pg_size_bytes() (256MB, 64kB).';

-- A duration in ms as PostgreSQL writes it: min, s or ms.
CREATE FUNCTION pgmaint._ms_text(ms numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN ms IS NULL THEN NULL
        WHEN ms = 0 THEN '0'
        WHEN ms % 60000 = 0 THEN (ms / 60000)::bigint || 'min'
        WHEN ms % 1000 = 0 THEN (ms / 1000)::bigint || 's'
        ELSE ms::bigint || 'ms'
    END;
$$;

COMMENT ON FUNCTION pgmaint._ms_text(numeric) IS
'Internal: a duration in milliseconds as a setting value (5min, 30s, 250ms, 0).';

-- Factor from a pg_settings unit to bytes (memory) or milliseconds (time); 1 without a unit.
CREATE FUNCTION pgmaint._unit_factor(unit text)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN unit IS NULL THEN 1
        WHEN unit = 'ms' THEN 1
        WHEN unit = 's' THEN 1000
        WHEN unit = 'min' THEN 60000
        WHEN unit ~ '^[0-9]' THEN pg_catalog.pg_size_bytes(unit)::numeric
        ELSE pg_catalog.pg_size_bytes('1' || unit)::numeric
    END;
$$;

COMMENT ON FUNCTION pgmaint._unit_factor(text) IS
'Internal: bytes (8kB, kB, MB) or milliseconds (ms, s, min) in one pg_settings unit.';

-- True when a listen_addresses value listens on every interface.
CREATE FUNCTION pgmaint._listens_everywhere(listen text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(bool_or(btrim(a) IN ('*', '0.0.0.0', '::')), false)
      FROM pg_catalog.regexp_split_to_table(coalesce(listen, ''), ',') AS a;
$$;

COMMENT ON FUNCTION pgmaint._listens_everywhere(text) IS
'Internal: true when a listen_addresses value includes *, 0.0.0.0 or ::.';

-- The advice for given resources: one row per setting, then the memory-risk and /dev/shm rows.
CREATE FUNCTION pgmaint._advice(ram_mb bigint, ram_source text, cpus integer, cpus_source text,
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
            format('CPUs/2 + 1, between 2 and 8, for %s CPUs (%s)', cpus, cpus_source)),
        (13, 'autovacuum_naptime', '30s', 'check high-churn tables twice a minute (the guide)'),
        (14, 'statement_timeout', '30s', 'stop runaway queries (the guide); raise it per role for batch jobs'),
        (15, 'lock_timeout', '10s', 'fail fast instead of queueing behind a lock (the guide)'),
        (16, 'idle_in_transaction_session_timeout', '5min', 'end leaked transactions (the guide)'),
        (17, 'log_destination', 'stderr', 'the guide; docker logs reads stderr'),
        (18, 'logging_collector', 'on', 'the guide: keep log files in the data directory'),
        (19, 'log_min_messages', 'warning', 'the guide'),
        (20, 'log_min_error_statement', 'error', 'the guide: log the statement of every error'),
        (21, 'log_checkpoints', 'on', 'the guide'),
        (22, 'log_connections', 'on', 'the guide: find connection leaks'),
        (23, 'log_disconnections', 'on', 'the guide: session durations'),
        (24, 'log_lock_waits', 'on', 'the guide: waits longer than deadlock_timeout'),
        (25, 'log_temp_files', '10MB', 'the guide: sorts that spill, a sign of a small work_mem'),
        (26, 'log_autovacuum_min_duration', '0', 'the guide: every autovacuum run')
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
                ELSE format('ALTER SYSTEM SET %s = %s', quote_ident(g.name), quote_literal(g.recommended)) END
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

COMMENT ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text) IS
'Internal: settings_advice() rows for given memory, CPUs, storage, max_connections and /dev/shm size.';

-- Recommended settings for the machine (detected when ram_mb or cpus is NULL).
CREATE FUNCTION pgmaint.settings_advice(ram_mb integer DEFAULT NULL, cpus integer DEFAULT NULL,
                                        storage text DEFAULT 'ssd',
                                        max_connections integer DEFAULT NULL)
RETURNS TABLE (name text, current text, recommended text, unit text, status text,
               reason text, fix text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    IF ram_mb IS NOT NULL AND (ram_mb < 256 OR ram_mb > 16777216) THEN
        RAISE EXCEPTION 'ram_mb must be between 256 and 16777216 (16 TB), not %', ram_mb
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the memory in megabytes, or NULL to detect it.';
    END IF;
    IF cpus IS NOT NULL AND cpus < 1 THEN
        RAISE EXCEPTION 'cpus must be at least 1, not %', cpus
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the number of CPUs, or NULL to detect it.';
    END IF;
    IF storage IS NULL OR storage NOT IN ('ssd', 'hdd', 'nvme', 'san') THEN
        RAISE EXCEPTION 'invalid storage "%"', storage
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of ssd, hdd, nvme or san.';
    END IF;
    IF max_connections IS NOT NULL AND (max_connections < 5 OR max_connections > 262143) THEN
        RAISE EXCEPTION 'max_connections must be between 5 and 262143, not %', max_connections
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass NULL to get a recommendation for the memory.';
    END IF;

    SELECT * INTO d FROM pgmaint.detected_resources();
    IF ram_mb IS NULL AND d.ram_bytes IS NULL THEN
        RAISE EXCEPTION 'could not detect the memory of the server'
            USING ERRCODE = 'system_error',
                  DETAIL = d.ram_source,
                  HINT = 'Pass ram_mb.';
    END IF;
    IF cpus IS NULL AND d.cpus IS NULL THEN
        RAISE EXCEPTION 'could not detect the CPUs of the server'
            USING ERRCODE = 'system_error',
                  DETAIL = d.cpus_source,
                  HINT = 'Pass cpus.';
    END IF;

    name := 'ram';
    current := coalesce(ram_mb::bigint, d.ram_bytes / 1048576) || 'MB';
    recommended := NULL;
    unit := NULL;
    status := 'ok';
    reason := CASE WHEN ram_mb IS NOT NULL THEN 'given (ram_mb)' ELSE d.ram_source END;
    fix := NULL;
    RETURN NEXT;
    name := 'cpus';
    current := coalesce(cpus, d.cpus)::text;
    reason := CASE WHEN cpus IS NOT NULL THEN 'given (cpus)' ELSE d.cpus_source END;
    RETURN NEXT;

    RETURN QUERY
    SELECT a.* FROM pgmaint._advice(coalesce(ram_mb::bigint, d.ram_bytes / 1048576),
                                    CASE WHEN ram_mb IS NOT NULL THEN 'given' ELSE d.ram_source END,
                                    coalesce(cpus, d.cpus),
                                    CASE WHEN cpus IS NOT NULL THEN 'given' ELSE d.cpus_source END,
                                    storage, max_connections, d.shm_bytes, d.shm_source) a;
END
$$;

COMMENT ON FUNCTION pgmaint.settings_advice(integer, integer, text, integer) IS
'Recommended settings for ram_mb and cpus (detected from the container limits when NULL): name, current, recommended, unit, status (ok, differs, risky), reason, fix (ALTER SYSTEM statement).';

-- Security and logging audit of the server's configuration.
CREATE FUNCTION pgmaint.config_audit()
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
    fix := CASE WHEN status <> 'ok' THEN 'ALTER SYSTEM SET password_encryption = ''scram-sha-256''' END;
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
        SELECT t.ord, t.gname, t.guide, s.reset_val, s.unit
          FROM (VALUES (1, 'statement_timeout', '30s'), (2, 'lock_timeout', '10s'),
                       (3, 'idle_in_transaction_session_timeout', '5min')) AS t (ord, gname, guide)
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.gname
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
                    THEN format('ALTER SYSTEM SET %s = %s', g.gname, quote_literal(g.guide)) END;
        RETURN NEXT;
    END LOOP;

    -- logging the guide asks for
    FOR g IN
        SELECT t.ord, t.gname, t.guide, s.reset_val
          FROM (VALUES (1, 'log_checkpoints', 'on'), (2, 'log_connections', 'on'),
                       (3, 'log_disconnections', 'on'), (4, 'log_lock_waits', 'on'),
                       (5, 'log_autovacuum_min_duration', '0'), (6, 'log_temp_files', '10MB'))
                AS t (ord, gname, guide)
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.gname
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
                    THEN format('ALTER SYSTEM SET %s = %s', g.gname, quote_literal(g.guide)) END;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.config_audit() IS
'Security and logging audit: trust and md5 in pg_hba.conf (unknown without the privilege to read it), password_encryption, listen_addresses without ssl, applications connected as superuser, unset timeouts, logging off. Rows: check_name, status (ok, warning, critical, unknown), detail, fix.';

-- Backups: the history that the pgmaint_backup command records, its summary
-- backup_status(), and the inputs of the "backup" check of health().

-- History of backups and of what was done with them (verify, prune, restore,
-- drill).  A member of the extension and not a configuration table, so
-- pg_dump leaves it out: a restored database does not claim the source's
-- backups as its own.
CREATE TABLE pgmaint.backups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL
               CHECK (kind IN ('backup', 'verify', 'prune', 'restore', 'drill')),
    started    timestamptz NOT NULL,
    finished   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    status     text NOT NULL CHECK (status IN ('ok', 'failed')),
    file       text,
    format     text CHECK (format IN ('custom', 'plain')),
    bytes      bigint CHECK (bytes >= 0),
    sha256     text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    verified   boolean NOT NULL DEFAULT false,
    row_counts jsonb CHECK (jsonb_typeof(row_counts) = 'object'),
    backup_id  bigint REFERENCES pgmaint.backups (id) ON DELETE SET NULL,
    removed_at timestamptz,
    detail     jsonb,
    error      text,
    actor      name NOT NULL DEFAULT session_user
);

CREATE INDEX backups_kind_started ON pgmaint.backups (kind, started);
CREATE INDEX backups_file ON pgmaint.backups (file) WHERE kind = 'backup';

COMMENT ON TABLE pgmaint.backups IS
'History written by the pgmaint_backup command: one row per backup file (kind backup: file, bytes, sha256, verified, per-table row counts) and per verify, prune, restore and drill. Not dumped by pg_dump.';

GRANT SELECT ON pgmaint.backups TO pg_monitor;

-- Records one event of the pgmaint_backup command and applies its effect on
-- the backup it concerns (a failed verify marks the backup failed, a prune
-- marks the files it deleted as removed).
CREATE FUNCTION pgmaint._backup_record(
    kind text, status text, started timestamptz,
    file text DEFAULT NULL, format text DEFAULT NULL, bytes bigint DEFAULT NULL,
    sha256 text DEFAULT NULL, verified boolean DEFAULT false,
    row_counts jsonb DEFAULT NULL, backup_id bigint DEFAULT NULL,
    detail jsonb DEFAULT NULL, error text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    IF kind IS NULL OR kind NOT IN ('backup', 'verify', 'prune', 'restore', 'drill') THEN
        RAISE EXCEPTION 'invalid backup event kind "%"', kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The kind is one of backup, verify, prune, restore, drill.';
    END IF;
    IF status IS NULL OR status NOT IN ('ok', 'failed') THEN
        RAISE EXCEPTION 'invalid backup event status "%"', status
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The status is ok or failed.';
    END IF;
    IF started IS NULL OR started > clock_timestamp() THEN
        RAISE EXCEPTION 'invalid start time of a backup event'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the time the operation started; it cannot be NULL or in the future.';
    END IF;
    IF status = 'failed' AND error IS NULL THEN
        RAISE EXCEPTION 'a failed backup event needs its reason'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the error message as "error".';
    END IF;
    IF kind = 'backup' AND status = 'ok'
       AND (file IS NULL OR format IS NULL OR bytes IS NULL OR sha256 IS NULL OR row_counts IS NULL) THEN
        RAISE EXCEPTION 'a successful backup needs its file, format, bytes, sha256 and row counts'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Record the backup only after the file is complete.';
    END IF;
    IF kind <> 'backup' AND verified THEN
        RAISE EXCEPTION 'only a backup can be recorded as verified'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A verify event updates the backup it names through backup_id.';
    END IF;
    IF backup_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgmaint.backups b
                        WHERE b.id = _backup_record.backup_id AND b.kind = 'backup') THEN
        RAISE EXCEPTION 'backup % does not exist', backup_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the id of a row of pgmaint.backups whose kind is backup.';
    END IF;

    INSERT INTO pgmaint.backups AS b
           (kind, started, status, file, format, bytes, sha256, verified,
            row_counts, backup_id, detail, error)
    VALUES (kind, started, status, file, format, bytes, sha256,
            coalesce(verified, false), row_counts, backup_id, detail, error)
    RETURNING b.id INTO new_id;

    -- a verify decides whether its backup can be trusted
    IF kind = 'verify' AND backup_id IS NOT NULL THEN
        UPDATE pgmaint.backups b
           SET verified = (_backup_record.status = 'ok'),
               status = _backup_record.status,
               error = CASE WHEN _backup_record.status = 'ok' THEN NULL
                            ELSE 'verify failed: ' || _backup_record.error END
         WHERE b.id = _backup_record.backup_id;
    END IF;

    -- a prune names the backups whose files it deleted
    IF kind = 'prune' AND jsonb_typeof(detail->'removed_ids') = 'array' THEN
        UPDATE pgmaint.backups b
           SET removed_at = clock_timestamp()
         WHERE b.kind = 'backup' AND b.removed_at IS NULL
           AND b.id IN (SELECT x::bigint
                          FROM jsonb_array_elements_text(_backup_record.detail->'removed_ids') x);
    END IF;

    IF kind IN ('prune', 'restore') THEN
        PERFORM pgmaint._audit('backup_' || kind, file,
                               coalesce(detail, '{}'::jsonb)
                               || jsonb_build_object('status', status, 'error', error),
                               false);
    END IF;
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text) IS
'Internal: records one event of the pgmaint_backup command in pgmaint.backups (a failed verify also marks its backup failed; a prune marks removed files). Grant EXECUTE to the role that runs the command.';

REVOKE ALL ON FUNCTION pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text) FROM PUBLIC;

-- The age after which the newest verified backup is stale.
CREATE FUNCTION pgmaint._backup_max_age()
RETURNS interval
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    setting text;
BEGIN
    -- calling a C function loads the library, which defines the setting
    -- (and validates a value that postgresql.conf gave before it was loaded)
    PERFORM pgmaint.preloaded();
    setting := current_setting('pgmaint.backup_max_age', true);
    IF setting IS NULL OR setting = '' THEN
        RETURN interval '26 hours';
    END IF;
    RETURN setting::interval;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
    RETURN interval '26 hours';
END
$$;

COMMENT ON FUNCTION pgmaint._backup_max_age() IS
'Internal: the setting pgmaint.backup_max_age as an interval (26 hours when it cannot be read).';

-- An age as "27h 05m", the same whatever the session's IntervalStyle.
CREATE FUNCTION pgmaint._backup_age_text(age interval)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%sh %sm', floor(e / 3600)::bigint,
                  lpad(floor(mod(e, 3600) / 60)::bigint::text, 2, '0'))
      FROM (SELECT greatest(extract(epoch FROM age), 0) AS e) x;
$$;

COMMENT ON FUNCTION pgmaint._backup_age_text(interval) IS
'Internal: an age in hours and minutes ("27h 05m") for the messages of the backup check.';

-- Last backup, last verified backup and last drill, with their ages and results.
CREATE FUNCTION pgmaint.backup_status(
    OUT last_backup_at timestamptz, OUT last_backup_status text,
    OUT last_backup_file text, OUT last_backup_error text,
    OUT last_backup_age interval,
    OUT last_verified_at timestamptz, OUT last_verified_file text,
    OUT last_verified_age interval,
    OUT last_drill_at timestamptz, OUT last_drill_status text,
    OUT last_drill_error text, OUT last_drill_age interval,
    OUT max_age interval, OUT backups_kept bigint)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH lb AS (
        -- the newest run; when one of its files (custom, plain) failed, that one
        SELECT b.started, b.status, b.file, b.error
          FROM pgmaint.backups b
         WHERE b.kind = 'backup'
         ORDER BY b.started DESC, b.status = 'failed' DESC, b.id DESC
         LIMIT 1
    ),
    lv AS (
        SELECT b.started, b.file
          FROM pgmaint.backups b
         WHERE b.kind = 'backup' AND b.status = 'ok' AND b.verified
         ORDER BY b.started DESC, b.id DESC
         LIMIT 1
    ),
    ld AS (
        SELECT b.finished, b.status, b.error
          FROM pgmaint.backups b
         WHERE b.kind = 'drill'
         ORDER BY b.started DESC, b.id DESC
         LIMIT 1
    )
    SELECT lb.started, lb.status, lb.file, lb.error,
           date_trunc('second', clock_timestamp() - lb.started),
           lv.started, lv.file,
           date_trunc('second', clock_timestamp() - lv.started),
           ld.finished, ld.status, ld.error,
           date_trunc('second', clock_timestamp() - ld.finished),
           pgmaint._backup_max_age(),
           (SELECT count(*) FROM pgmaint.backups b
             WHERE b.kind = 'backup' AND b.status = 'ok' AND b.removed_at IS NULL)
      FROM (SELECT 1) one
      LEFT JOIN lb ON true
      LEFT JOIN lv ON true
      LEFT JOIN ld ON true;
$$;

COMMENT ON FUNCTION pgmaint.backup_status() IS
'The last backup, the last verified backup and the last restore drill recorded by pgmaint_backup: when, which file, result and age; max_age is pgmaint.backup_max_age; backups_kept counts good backups not yet pruned.';

GRANT EXECUTE ON FUNCTION pgmaint.backup_status() TO pg_monitor;

-- The "backup" check of health(): 0 ok, 1 stale or missing, 2 failed.
CREATE FUNCTION pgmaint._backup_check(OUT value numeric, OUT message text, OUT hint text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- like the other checks: unknown, never an error or ok, for a caller that cannot see
    IF NOT has_table_privilege('pgmaint.backups', 'SELECT') THEN
        value := NULL;
        message := 'cannot read pgmaint.backups: the caller lacks pg_monitor';
        hint := 'Grant pg_monitor to the role that calls health().';
        RETURN;
    END IF;
    SELECT CASE
               WHEN s.last_backup_at IS NULL THEN 1
               WHEN s.last_backup_status = 'failed' OR s.last_drill_status = 'failed' THEN 2
               WHEN s.last_verified_at IS NULL OR s.last_verified_age > s.max_age THEN 1
               ELSE 0
           END,
           CASE
               WHEN s.last_backup_at IS NULL THEN 'no backup has been recorded'
               WHEN s.last_backup_status = 'failed' THEN
                   format('the last backup (%s, %s) failed: %s',
                          to_char(s.last_backup_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                          coalesce(s.last_backup_file, 'no file'), s.last_backup_error)
               WHEN s.last_drill_status = 'failed' THEN
                   format('the last restore drill (%s) failed: %s',
                          to_char(s.last_drill_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                          s.last_drill_error)
               WHEN s.last_verified_at IS NULL THEN
                   'no backup has been verified'
               ELSE format('the newest verified backup is %s old (limit %s): %s; %s',
                           pgmaint._backup_age_text(s.last_verified_age),
                           pgmaint._backup_age_text(s.max_age), s.last_verified_file,
                           CASE WHEN s.last_drill_at IS NULL THEN 'no restore drill yet'
                                ELSE format('last restore drill passed %s ago',
                                            pgmaint._backup_age_text(s.last_drill_age)) END)
           END,
           CASE
               WHEN s.last_backup_at IS NULL OR s.last_verified_at IS NULL THEN
                   format('Run "pgmaint_backup backup --dir /var/backups/pgmaint -d %s" and schedule it daily with cron (README, "Backups").',
                          current_database())
               WHEN s.last_backup_status = 'failed' THEN
                   'Read the error, fix its cause, and run "pgmaint_backup backup" again; "SELECT * FROM pgmaint.backups ORDER BY id DESC" shows the history.'
               WHEN s.last_drill_status = 'failed' THEN
                   'A backup did not restore as recorded: read the error, then run "pgmaint_backup drill" again after a new backup.'
               ELSE 'Backups stopped: check the cron job that runs "pgmaint_backup backup" and its log.'
           END
      INTO value, message, hint
      FROM pgmaint.backup_status() s;
END
$$;

COMMENT ON FUNCTION pgmaint._backup_check() IS
'Internal: value (0 ok, 1 no fresh verified backup or none at all, 2 the last backup or drill failed), message and hint of the "backup" check.';

-- The "archiver" check of health(): 1 when the newest WAL archiving attempt failed.
CREATE FUNCTION pgmaint._archiver_check(OUT value numeric, OUT message text, OUT hint text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
               WHEN current_setting('archive_mode') = 'off' THEN 0
               WHEN a.last_failed_time IS NOT NULL
                    AND (a.last_archived_time IS NULL
                         OR a.last_failed_time > a.last_archived_time) THEN 1
               ELSE 0
           END,
           CASE
               WHEN current_setting('archive_mode') = 'off' THEN
                   'WAL archiving is off (archive_mode = off): nothing to check'
               WHEN a.last_failed_time IS NOT NULL
                    AND (a.last_archived_time IS NULL
                         OR a.last_failed_time > a.last_archived_time) THEN
                   format('archiving of WAL file %s failed at %s; %s failure(s) since the statistics were reset, last success %s',
                          a.last_failed_wal,
                          to_char(a.last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                          a.failed_count,
                          coalesce(to_char(a.last_archived_time AT TIME ZONE 'UTC',
                                           'YYYY-MM-DD HH24:MI:SS "UTC"'), 'never'))
               WHEN a.last_archived_time IS NULL THEN 'no WAL file archived yet'
               ELSE format('%s WAL file(s) archived, the last (%s) at %s',
                           a.archived_count, a.last_archived_wal,
                           to_char(a.last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'))
           END,
           'The archive_command fails: run it by hand as the server''s user on the file named, and read the server log; WAL piles up in pg_wal until it succeeds (pgmaint.disk_space() shows the room left).'
      FROM pg_catalog.pg_stat_archiver a;
$$;

COMMENT ON FUNCTION pgmaint._archiver_check() IS
'Internal: value (1 when the newest WAL archiving attempt failed, else 0; 0 with archive_mode off), message and hint of the "archiver" check.';
-- Server-wide health checks: long queries, lock waits, wraparound, invalid
-- indexes, sequences, prepared transactions and replication slots; and the
-- table-level checks (table cache hit, dead tuples, autovacuum falling
-- behind) and the data directory's free disk.  The checks are PL/pgSQL so
-- that a session plans their queries once (a LANGUAGE sql function that
-- cannot be inlined, as SET search_path prevents, is planned at every call,
-- which cost more than the checks themselves).  Each
-- function returns (check_name, value, message, hint) rows that
-- pgmaint._measure_checks() grades against pgmaint.thresholds.

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('long_running_queries', 30, 300,
     'Seconds the longest active statement has run (the guide flags queries over 30 seconds).'),
    ('blocked_sessions', 10, 60,
     'Seconds the longest lock wait has lasted (the guide''s lock_timeout is 10 seconds).'),
    ('xid_wraparound', 150, 500,
     'Oldest database''s age(datfrozenxid) in % of autovacuum_freeze_max_age (100% starts anti-wraparound vacuum; about 1000% stops writes).'),
    ('multixact_wraparound', 150, 400,
     'Oldest database''s mxid_age(datminmxid) in % of autovacuum_multixact_freeze_max_age.'),
    ('invalid_indexes', 1, NULL,
     'Indexes left invalid by a failed CREATE INDEX CONCURRENTLY or REINDEX (not counting builds in progress).'),
    ('sequences', 75, 90,
     'Highest share, in %, of a sequence''s range already used.'),
    ('prepared_transactions', 300, 3600,
     'Age in seconds of the oldest prepared transaction (it holds locks and stops vacuum).'),
    ('inactive_slots', 1, NULL,
     'Replication slots that no client uses (they retain WAL until dropped).'),
    ('slot_wal_retention', 1024, 4096,
     'MB of WAL retained by the replication slot that holds the most.'),
    ('table_cache_hit', 90, 80,
     'Lowest heap cache hit ratio, in %, among tables with at least 1,000 heap block reads from outside shared buffers (unknown while no table has that many).'),
    ('dead_tuples', 20, 50,
     'Highest share, in %, of dead tuples among tables with at least 1,000 live + dead tuples.'),
    ('autovacuum_behind', 1, NULL,
     'Tables where autovacuum falls behind: dead tuples above twice the PG15 vacuum threshold and no vacuum for 10 autovacuum_naptime (as vacuum_stats().falling_behind).'),
    ('disk_free', 20, 10,
     'Available space, in %, of the data directory''s file system (statvfs; unknown for a caller without pg_read_all_settings).');

-- Activity checks: the longest active statement and the longest lock wait.
CREATE FUNCTION pgmaint._check_activity(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH can_see AS (
            SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS all_stats
        ),
        active AS (
            SELECT count(*) FILTER (WHERE clock_timestamp() - a.query_start > interval '30 s') AS over_30s,
                   max(extract(epoch FROM clock_timestamp() - a.query_start)) AS longest,
                   (array_agg(a.pid ORDER BY a.query_start))[1] AS longest_pid
              FROM pg_catalog.pg_stat_activity a
             WHERE a.state = 'active' AND a.backend_type = 'client backend'
               AND a.pid <> pg_backend_pid()
        ),
        waits AS (
            SELECT count(DISTINCT l.pid) AS waiting,
                   max(extract(epoch FROM clock_timestamp() - l.waitstart)) AS longest,
                   (array_agg(l.pid ORDER BY l.waitstart))[1] AS longest_pid
              FROM pg_catalog.pg_locks l
             WHERE NOT l.granted
        )
        SELECT 'long_running_queries',
               CASE WHEN can_see.all_stats THEN round(coalesce(active.longest, 0)::numeric, 1) END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'cannot see other roles'' statements: the caller lacks pg_read_all_stats'
                    WHEN active.longest IS NULL THEN 'no statement is running'
                    ELSE format('longest statement (pid %s) has run %s; %s over 30 s',
                                active.longest_pid,
                                date_trunc('second', make_interval(secs => active.longest::float8)),
                                active.over_30s)
               END,
               CASE WHEN NOT can_see.all_stats THEN 'Grant pg_monitor to the role that calls health().'
                    ELSE 'See the statements in pgmaint.long_running_queries(); end one with pg_cancel_backend(pid).'
               END
          FROM active, can_see
        UNION ALL
        SELECT 'blocked_sessions',
               round(coalesce(waits.longest, 0)::numeric, 1),
               CASE WHEN waits.waiting = 0 THEN 'no session waits on a lock'
                    ELSE format('%s session(s) wait on a lock, the longest (pid %s) for %s',
                                waits.waiting, waits.longest_pid,
                                date_trunc('second', make_interval(secs => coalesce(waits.longest, 0)::float8)))
               END,
               'Find the root blocker in pgmaint.blocking_locks().'
          FROM waits;
END
$$;

COMMENT ON FUNCTION pgmaint._check_activity() IS
'Internal: the long_running_queries and blocked_sessions checks.';

-- Wraparound checks: the oldest database's transaction and multixact ages.
CREATE FUNCTION pgmaint._check_wraparound(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH xid AS (
            SELECT d.datname, age(d.datfrozenxid) AS age
              FROM pg_catalog.pg_database d
             WHERE d.datallowconn
             ORDER BY age(d.datfrozenxid) DESC LIMIT 1
        ),
        mxid AS (
            SELECT d.datname, mxid_age(d.datminmxid) AS age
              FROM pg_catalog.pg_database d
             WHERE d.datallowconn
             ORDER BY mxid_age(d.datminmxid) DESC LIMIT 1
        ),
        lim AS (
            SELECT current_setting('autovacuum_freeze_max_age')::numeric AS xid_max,
                   current_setting('autovacuum_multixact_freeze_max_age')::numeric AS mxid_max
        )
        SELECT 'xid_wraparound', round(100 * xid.age / lim.xid_max, 1),
               format('database %I has age(datfrozenxid) %s (autovacuum_freeze_max_age %s)',
                      xid.datname, xid.age, lim.xid_max),
               'Autovacuum is not freezing fast enough: find what holds it back (pgmaint.long_running_queries(), pgmaint.connection_leaks(), prepared transactions, slots), then VACUUM (FREEZE) the tables with the oldest xid_age in pgmaint.vacuum_stats().'
          FROM xid, lim
        UNION ALL
        SELECT 'multixact_wraparound', round(100 * mxid.age / lim.mxid_max, 1),
               format('database %I has mxid_age(datminmxid) %s (autovacuum_multixact_freeze_max_age %s)',
                      mxid.datname, mxid.age, lim.mxid_max),
               'Find long transactions holding row locks (pgmaint.long_running_queries(), pgmaint.connection_leaks()), then VACUUM (FREEZE) the oldest tables.'
          FROM mxid, lim;
END
$$;

COMMENT ON FUNCTION pgmaint._check_wraparound() IS
'Internal: the xid_wraparound and multixact_wraparound checks (oldest database of the cluster).';

-- The invalid indexes of this database, as pg_index WHERE NOT indisvalid, from
-- a catalog scan whose scan key drops valid indexes before a row is formed.
CREATE FUNCTION pgmaint._invalid_indexes(OUT indexrelid oid, OUT indrelid oid)
RETURNS SETOF record
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_invalid_indexes';

COMMENT ON FUNCTION pgmaint._invalid_indexes() IS
'Internal: indexrelid and indrelid of every index of this database with pg_index.indisvalid false.';

-- Catalog checks of this database: invalid indexes and sequences near their end.
-- SECURITY DEFINER so that a pg_monitor caller can see every sequence's last value;
-- only the share used and the sequence's name leave the function.
CREATE FUNCTION pgmaint._check_catalog(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH invalid AS (
            SELECT count(*) AS n, min(i.indexrelid::regclass::text) AS example
              FROM pgmaint._invalid_indexes() i
             WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p
                                WHERE p.index_relid = i.indexrelid OR p.relid = i.indrelid)
        ),
        seq AS (
            SELECT s.schemaname, s.sequencename,
                   CASE WHEN s.increment_by > 0
                        THEN 100.0 * (s.last_value - s.min_value) / nullif(s.max_value - s.min_value, 0)
                        ELSE 100.0 * (s.max_value - s.last_value) / nullif(s.max_value - s.min_value, 0)
                   END AS used
              FROM pg_catalog.pg_sequences s
             WHERE s.last_value IS NOT NULL AND NOT s.cycle
        ),
        worst AS (
            SELECT * FROM seq ORDER BY used DESC NULLS LAST LIMIT 1
        )
        SELECT 'invalid_indexes', invalid.n::numeric,
               CASE WHEN invalid.n = 0 THEN 'no invalid index'
                    ELSE format('%s invalid index(es), e.g. %s', invalid.n, invalid.example) END,
               'Drop and recreate them (DROP INDEX CONCURRENTLY, CREATE INDEX CONCURRENTLY); pgmaint.index_advice() lists them.'
          FROM invalid
        UNION ALL
        SELECT 'sequences', round(coalesce(worst.used, 0), 2),
               CASE WHEN worst.sequencename IS NULL THEN 'no sequence has been used'
                    ELSE format('sequence %I.%I has used %s%% of its range',
                                worst.schemaname, worst.sequencename, round(worst.used, 2)) END,
               'Change the column and its sequence to bigint (ALTER SEQUENCE ... AS bigint) before it runs out; pgmaint.report() lists the checks.'
          FROM invalid LEFT JOIN worst ON true;
END
$$;

COMMENT ON FUNCTION pgmaint._check_catalog() IS
'Internal: the invalid_indexes and sequences checks of this database.';

REVOKE ALL ON FUNCTION pgmaint._check_catalog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_catalog() TO pg_monitor;

-- Checks of what holds back vacuum and WAL removal: prepared transactions and slots.
CREATE FUNCTION pgmaint._check_retention(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH prepared AS (
            SELECT count(*) AS n,
                   max(extract(epoch FROM clock_timestamp() - p.prepared)) AS oldest,
                   (array_agg(p.gid ORDER BY p.prepared))[1] AS oldest_gid
              FROM pg_catalog.pg_prepared_xacts p
        ),
        lsn AS (
            SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                        ELSE pg_current_wal_lsn() END AS now_lsn
        ),
        slots AS (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE NOT s.active) AS inactive,
                   (array_agg(s.slot_name ORDER BY s.slot_name) FILTER (WHERE NOT s.active))[1] AS inactive_example,
                   max(pg_wal_lsn_diff(lsn.now_lsn, s.restart_lsn)) / (1024 * 1024) AS retained_mb,
                   (array_agg(s.slot_name ORDER BY pg_wal_lsn_diff(lsn.now_lsn, s.restart_lsn) DESC NULLS LAST))[1] AS worst
              FROM pg_catalog.pg_replication_slots s, lsn
        )
        SELECT 'prepared_transactions', round(coalesce(prepared.oldest, 0)::numeric, 1),
               CASE WHEN prepared.n = 0 THEN 'no prepared transaction'
                    ELSE format('%s prepared transaction(s), the oldest (%L) for %s', prepared.n,
                                prepared.oldest_gid,
                                date_trunc('second', make_interval(secs => prepared.oldest::float8))) END,
               'Finish it with COMMIT PREPARED or ROLLBACK PREPARED (see pg_prepared_xacts); it also holds back vacuum (pgmaint.vacuum_stats()).'
          FROM prepared
        UNION ALL
        SELECT 'inactive_slots', slots.inactive::numeric,
               CASE WHEN slots.n = 0 THEN 'no replication slot'
                    WHEN slots.inactive = 0 THEN format('%s replication slot(s), all active', slots.n)
                    ELSE format('%s of %s replication slot(s) inactive, e.g. %I', slots.inactive, slots.n,
                                slots.inactive_example) END,
               'Drop slots nobody uses (SELECT pg_drop_replication_slot(''name'');); the WAL they hold is in pgmaint.health_checks() as slot_wal_retention.'
          FROM slots
        UNION ALL
        SELECT 'slot_wal_retention', round(coalesce(slots.retained_mb, 0)::numeric, 1),
               CASE WHEN slots.retained_mb IS NULL THEN 'no slot retains WAL'
                    ELSE format('slot %I retains %s of WAL', slots.worst,
                                pg_size_pretty((slots.retained_mb * 1024 * 1024)::bigint)) END,
               'A slow or gone consumer holds WAL back: fix it or drop its slot, and set max_slot_wal_keep_size; check the disk with pgmaint.disk_space().'
          FROM slots;
END
$$;

COMMENT ON FUNCTION pgmaint._check_retention() IS
'Internal: the prepared_transactions, inactive_slots and slot_wal_retention checks.';

-- Block hits and reads of this database over the last hour, from the sampler's
-- ring; NULL when the sampler does not run or watches another database.
CREATE FUNCTION pgmaint._cache_hit_last_hour(OUT hits numeric, OUT reads numeric)
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
    -- sum the per-interval deltas; an interval across a stats reset is left out
    SELECT sum(d.dh), sum(d.dr) INTO hits, reads
      FROM (SELECT x.blks_hit - lag(x.blks_hit) OVER w AS dh,
                   x.blks_read - lag(x.blks_read) OVER w AS dr
              FROM pgmaint.samples(now() - interval '1 hour') x
            WINDOW w AS (ORDER BY x.sampled_at)) d
     WHERE d.dh >= 0 AND d.dr >= 0;
END
$$;

COMMENT ON FUNCTION pgmaint._cache_hit_last_hour() IS
'Internal: this database''s block hits and reads over the last hour from the sampler (NULL without it), for the cache_hit check.';

-- Table-level figures of this database computed now: one pass over pg_class
-- and one statistics snapshot, with the threshold code vacuum_stats() uses.
CREATE FUNCTION pgmaint._table_health(
    min_reads bigint DEFAULT 1000, min_tuples bigint DEFAULT 1000,
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint)
RETURNS record
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health';

COMMENT ON FUNCTION pgmaint._table_health(bigint, bigint) IS
'Internal: worst heap hit ratio (tables with at least min_reads heap block reads), tables where autovacuum falls behind and the one with most dead tuples, worst dead-tuple share (tables with at least min_tuples tuples), computed now.';

-- The same figures from the worker's last sample, when it is of this
-- database and fresh (within two sample intervals); no row otherwise.
CREATE FUNCTION pgmaint._table_health_sampled(
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint,
    OUT sampled_at timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_sampled';

COMMENT ON FUNCTION pgmaint._table_health_sampled() IS
'Internal: _table_health(1000, 1000) as the worker computed it in its last sample, when that sample is of this database and at most two intervals old; no row otherwise.';

-- Table-level checks and free disk: the worker's figures when fresh, else one
-- C pass now; the messages say which.
CREATE FUNCTION pgmaint._check_tables(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    basis text;
    avail float8;
BEGIN
    SELECT s.tables, s.hit_relid, s.hit_ratio, s.hit_reads, s.falling_behind,
           s.falling_relid, s.falling_dead, s.dead_relid, s.dead_share, s.dead_tuples
      INTO f FROM pgmaint._table_health_sampled() s;
    IF FOUND THEN
        basis := 'from the worker''s last sample';
    ELSE
        SELECT * INTO f FROM pgmaint._table_health(1000, 1000);
        basis := 'computed now';
    END IF;

    check_name := 'table_cache_hit';
    value := round((100 * f.hit_ratio)::numeric, 2);
    message := CASE WHEN f.hit_relid IS NULL
                    THEN format('no table has 1000 heap block reads yet (%s)', basis)
                    ELSE format('table %s has the lowest heap hit ratio, %s%% of %s reads (%s)',
                                f.hit_relid::regclass, value, f.hit_reads, basis) END;
    hint := 'See pgmaint.cache_hit_tables(1000): raise shared_buffers or add indexes for the tables read from disk.';
    RETURN NEXT;

    check_name := 'dead_tuples';
    value := round((100 * coalesce(f.dead_share, 0))::numeric, 2);
    message := CASE WHEN f.dead_relid IS NULL
                    THEN format('no table has 1000 tuples yet (%s)', basis)
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

COMMENT ON FUNCTION pgmaint._check_tables() IS
'Internal: the table_cache_hit, dead_tuples, autovacuum_behind and disk_free checks.';
-- health(): one summary of the server's health, built from health_checks().
-- PL/pgSQL throughout, so that a session plans each query once (see 80-checks.sql).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('connections', 80, 95,
     'Client connections in use, in % of usable slots (max_connections - superuser_reserved_connections).'),
    ('idle_in_transaction', 60, 300,
     'Age in seconds of the oldest session idle in a transaction (a leaked connection holds locks and blocks vacuum; the guide''s limit is 5 minutes).'),
    ('cache_hit', 95, 90,
     'Buffer cache hit ratio of this database, in %: over the last hour when the sampler watches this database, else since the statistics reset (the guide: should be above 95%).'),
    ('sampler', 3, NULL,
     'Sample intervals since the background worker''s last heartbeat: a stale heartbeat or a stopped worker turns it to warning; unknown when pgmaint is not preloaded.'),
    ('backup', 1, 2,
     'Backups recorded by pgmaint_backup: 0 ok, 1 no verified backup newer than pgmaint.backup_max_age (or none at all), 2 the last backup or the last restore drill failed.'),
    ('archiver', 1, NULL,
     'WAL archiving: 1 when the newest archiving attempt in pg_stat_archiver failed, 0 otherwise (and with archive_mode off).');

-- The measured value, message and hint of every check, before grading.
CREATE FUNCTION pgmaint._measure_checks(
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
            SELECT current_setting('max_connections')::int
                   - current_setting('superuser_reserved_connections')::int AS usable
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
             WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
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

COMMENT ON FUNCTION pgmaint._measure_checks() IS
'Internal: the raw value, message and hint of each health check, before grading against pgmaint.thresholds.';

CREATE FUNCTION pgmaint.health_checks(
    OUT check_name text, OUT status text, OUT value numeric,
    OUT warning numeric, OUT critical numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT m.check_name, g.status, m.value, t.warning, t.critical, m.message,
               CASE WHEN g.status <> 'ok' THEN m.hint END
          FROM pgmaint._measure_checks() m
          LEFT JOIN pgmaint.thresholds t ON t.check_name = m.check_name
         CROSS JOIN LATERAL (SELECT pgmaint._grade(m.value, t.warning, t.critical) AS status) g
         WHERE coalesce(t.enabled, true)
         ORDER BY m.check_name;
END
$$;

COMMENT ON FUNCTION pgmaint.health_checks() IS
'Each health check as a row: status (ok, warning, critical, unknown), value, thresholds, message and hint.';

-- The sampler section of health(): the worker's status from sampler_status().
CREATE FUNCTION pgmaint._sampler_summary()
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

CREATE FUNCTION pgmaint.health()
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
'Summary of the server''s health as jsonb: overall status (the worst check), the sampler, and every check.';

GRANT EXECUTE ON FUNCTION pgmaint.health_checks() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.health() TO pg_monitor;
-- metrics(), report() and checklist(): health for Prometheus, psql and the guide's checklist.

-- Escapes a Prometheus label value: backslash, double quote and newline.
CREATE FUNCTION pgmaint._prom_label(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n');
$$;

COMMENT ON FUNCTION pgmaint._prom_label(text) IS
'Internal: a label value escaped for the Prometheus text exposition format.';

CREATE FUNCTION pgmaint.metrics()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH c AS (
        SELECT h.check_name, h.status, h.value, t.description,
               'pgmaint_' || regexp_replace(lower(h.check_name), '[^a-z0-9_]', '_', 'g') AS metric,
               CASE h.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1
                             WHEN 'critical' THEN 2 ELSE -1 END AS code
          FROM pgmaint.health_checks() h
          LEFT JOIN pgmaint.thresholds t ON t.check_name = h.check_name
    ),
    db AS (
        SELECT 'database="' || pgmaint._prom_label(current_database()) || '"' AS label
    )
    SELECT '# HELP pgmaint_status Overall health of the server: 0 ok, 1 warning, 2 critical.' || E'\n'
        || '# TYPE pgmaint_status gauge' || E'\n'
        || format('pgmaint_status{%s} %s', db.label,
                  greatest((SELECT max(code) FROM c), 0)) || E'\n'
        || '# HELP pgmaint_check_status Status of each health check: 0 ok, 1 warning, 2 critical, -1 unknown.' || E'\n'
        || '# TYPE pgmaint_check_status gauge' || E'\n'
        || coalesce((SELECT string_agg(format('pgmaint_check_status{%s,check="%s"} %s', db.label,
                                              pgmaint._prom_label(c.check_name), c.code),
                                       E'\n' ORDER BY c.check_name) || E'\n' FROM c), '')
        || coalesce((SELECT string_agg(
                        format('# HELP %s %s', c.metric,
                               replace(replace(coalesce(nullif(c.description, ''), c.check_name),
                                               E'\\', E'\\\\'), E'\n', E'\\n')) || E'\n'
                        || format('# TYPE %s gauge', c.metric) || E'\n'
                        || format('%s{%s} %s', c.metric, db.label, c.value),
                        E'\n' ORDER BY c.check_name) || E'\n'
                       FROM c WHERE c.value IS NOT NULL), '')
      FROM db;
$$;

COMMENT ON FUNCTION pgmaint.metrics() IS
'Health checks in the Prometheus text exposition format: pgmaint_status, pgmaint_check_status per check, and one gauge per check value.';

GRANT EXECUTE ON FUNCTION pgmaint.metrics() TO pg_monitor;

-- Renders the rows of a query as an aligned text table at most width columns wide.
CREATE FUNCTION pgmaint._render_table(query text, width int DEFAULT 96)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rows    json;
    cols    text[];
    widths  int[];
    total   int;
    widest  int;
    line    text;
    result  text := '';
    r       json;
    i       int;
BEGIN
    EXECUTE format('SELECT json_agg(q) FROM (%s) q', query) INTO rows;
    IF rows IS NULL THEN
        RETURN '  (none)' || E'\n';
    END IF;
    SELECT array_agg(k ORDER BY n) INTO cols
      FROM json_object_keys(rows -> 0) WITH ORDINALITY AS t(k, n);

    -- natural width of each column: its name or its longest value
    SELECT array_agg(w ORDER BY n) INTO widths
      FROM (SELECT n, greatest(length(c), max(length(coalesce(e ->> c, '')))) AS w
              FROM unnest(cols) WITH ORDINALITY AS u(c, n), json_array_elements(rows) e
             GROUP BY n, c) t;

    -- shrink the widest column until the table fits (two spaces indent, two between columns)
    LOOP
        total := 2 + (SELECT sum(w) FROM unnest(widths) w) + 2 * (array_length(cols, 1) - 1);
        EXIT WHEN total <= width;
        SELECT n INTO widest FROM unnest(widths) WITH ORDINALITY AS u(w, n) ORDER BY w DESC, n DESC LIMIT 1;
        EXIT WHEN widths[widest] <= 8;
        widths[widest] := greatest(8, widths[widest] - (total - width));
    END LOOP;

    line := ' ';
    FOR i IN 1 .. array_length(cols, 1) LOOP
        line := line || ' ' || rpad(pgmaint._fit(cols[i], widths[i]), widths[i]) || CASE WHEN i < array_length(cols, 1) THEN ' ' ELSE '' END;
    END LOOP;
    result := rtrim(line) || E'\n';
    line := ' ';
    FOR i IN 1 .. array_length(cols, 1) LOOP
        line := line || ' ' || repeat('-', widths[i]) || CASE WHEN i < array_length(cols, 1) THEN ' ' ELSE '' END;
    END LOOP;
    result := result || rtrim(line) || E'\n';
    FOR r IN SELECT * FROM json_array_elements(rows) LOOP
        line := ' ';
        FOR i IN 1 .. array_length(cols, 1) LOOP
            line := line || ' ' || rpad(pgmaint._fit(coalesce(r ->> cols[i], ''), widths[i]), widths[i])
                    || CASE WHEN i < array_length(cols, 1) THEN ' ' ELSE '' END;
        END LOOP;
        result := result || rtrim(line) || E'\n';
    END LOOP;
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint._render_table(text, int) IS
'Internal: the rows of a query as an aligned text table, long values cut with an ellipsis to fit the width (96 columns leave room for psql''s aligned border).';

-- Cuts a value to width characters, ending it with an ellipsis when cut; one line only.
CREATE FUNCTION pgmaint._fit(value text, width int)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN length(v) <= width THEN v ELSE left(v, width - 1) || '…' END
      FROM (SELECT regexp_replace(value, '\s+', ' ', 'g') AS v) s;
$$;

COMMENT ON FUNCTION pgmaint._fit(text, int) IS
'Internal: a value on one line, cut to a width with an ellipsis.';

-- One report section: a title and a table, or why the section is unavailable.
CREATE FUNCTION pgmaint._report_section(title text, query text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN E'\n' || title || E'\n' || pgmaint._render_table(query);
EXCEPTION WHEN OTHERS THEN
    RETURN E'\n' || title || E'\n  (unavailable: ' || pgmaint._fit(SQLERRM, 80) || E')\n';
END
$$;

COMMENT ON FUNCTION pgmaint._report_section(text, text) IS
'Internal: a titled section of report(); a section whose source fails says why instead of failing the report.';

CREATE FUNCTION pgmaint.report()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    health jsonb := pgmaint.health();
    counts text;
    result text;
BEGIN
    SELECT string_agg(format('%s %s', n, s), ', ' ORDER BY pgmaint._status_order(s) DESC)
      INTO counts
      FROM (SELECT c ->> 'status' AS s, count(*) AS n
              FROM jsonb_array_elements(health -> 'checks') c GROUP BY 1) t;

    result := format('pgmaint report for database %s at %s', health ->> 'database',
                     to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS TZ')) || E'\n'
        || format('Status: %s (%s)', upper(health ->> 'status'), coalesce(counts, 'no checks')) || E'\n'
        || format('Sampler: %s', CASE WHEN (health -> 'sampler' ->> 'running')::boolean THEN 'running'
                                      ELSE 'not running' END) || E'\n';

    result := result
        || pgmaint._report_section('Checks',
            $q$SELECT check_name AS check, status, value, message
                 FROM pgmaint.health_checks()
                ORDER BY pgmaint._status_order(status) DESC, check_name$q$)
        || pgmaint._report_section('Connections',
            $q$SELECT datname AS database, state, count, max_duration, oldest_xact_age
                 FROM pgmaint.connections()$q$)
        || pgmaint._report_section('Leaked sessions (idle in transaction over 5 minutes)',
            $q$SELECT pid, usename AS "user", application_name AS application,
                      date_trunc('second', idle_for) AS idle_for, query
                 FROM pgmaint.connection_leaks()$q$)
        || pgmaint._report_section('Lock waits',
            $q$SELECT blocked_pid, blocking_pid, lock_mode, relation,
                      date_trunc('second', blocked_for) AS blocked_for, is_root_blocker AS root
                 FROM pgmaint.blocking_locks()$q$)
        || pgmaint._report_section('Cache hit ratio',
            $q$SELECT scope, hits, reads, round(100 * ratio::numeric, 2) AS "hit %",
                      round(100 * ratio_last_hour::numeric, 2) AS "last hour %"
                 FROM pgmaint.cache_hit()$q$)
        || pgmaint._report_section('Vacuum (10 tables with the most dead tuples)',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table", live_tuples AS live,
                      dead_tuples AS dead, round(100 * dead_ratio::numeric, 1) AS "dead %",
                      autovacuum_due AS due,
                      falling_behind AS behind, to_char(last_autovacuum, 'MM-DD HH24:MI') AS last_autovacuum
                 FROM pgmaint.vacuum_stats()
                WHERE dead_tuples > 0
                ORDER BY dead_tuples DESC, 1 LIMIT 10$q$)
        || pgmaint._report_section('Sizes (10 largest tables)',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      pg_size_pretty(total_bytes) AS total, pg_size_pretty(heap_bytes) AS heap,
                      pg_size_pretty(index_bytes) AS indexes, pg_size_pretty(toast_bytes) AS toast,
                      row_estimate AS rows
                 FROM pgmaint.table_sizes() LIMIT 10$q$)
        || pgmaint._report_section('Index advice',
            $q$SELECT kind, coalesce(index_name::text, table_name::text) AS object, suggestion
                 FROM pgmaint.index_advice()$q$)
        || pgmaint._report_section('Autovacuum policy suggestions',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      current_profile AS current, suggested_profile AS suggested, reason
                 FROM pgmaint.recommend_profiles()
                WHERE suggested_profile IS DISTINCT FROM current_profile
                  AND suggested_profile IS NOT NULL$q$)
        || pgmaint._report_section('Settings advice',
            $q$SELECT name, current, recommended, status, reason
                 FROM pgmaint.settings_advice()
                WHERE status <> 'ok'$q$);
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint.report() IS
'A text report for psql, at most 100 columns wide: status, checks, connections, leaks, locks, cache, vacuum, sizes, index advice, policy and settings advice.';

-- Orders statuses from best to worst for sorting: ok, unknown, warning, critical.
CREATE FUNCTION pgmaint._status_order(status text)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE status WHEN 'ok' THEN 0 WHEN 'unknown' THEN 1
                       WHEN 'warning' THEN 2 WHEN 'critical' THEN 3 END;
$$;

COMMENT ON FUNCTION pgmaint._status_order(text) IS
'Internal: sort order of statuses, best first (ok, unknown, warning, critical).';

-- One checklist item: status pass, fail or unknown, the evidence and the fix.
CREATE TYPE pgmaint.checklist_item AS (
    item     text,
    status   text,
    evidence text,
    fix      text
);

COMMENT ON TYPE pgmaint.checklist_item IS
'A row of checklist(): item, status (pass, fail, unknown), evidence, fix.';

-- Evaluates one checklist item from a query returning (status, evidence, fix);
-- an item whose evidence cannot be read is unknown, with the reason.
CREATE FUNCTION pgmaint._checklist_item(item text, query text)
RETURNS pgmaint.checklist_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.checklist_item;
BEGIN
    r.item := item;
    EXECUTE query INTO r.status, r.evidence, r.fix;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN ROW(item, 'unknown', SQLERRM, NULL)::pgmaint.checklist_item;
END
$$;

COMMENT ON FUNCTION pgmaint._checklist_item(text, text) IS
'Internal: one checklist() item from a query of (status, evidence, fix); unknown with the error when the query fails.';

CREATE FUNCTION pgmaint.checklist()
RETURNS SETOF pgmaint.checklist_item
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
SELECT c.*
  FROM (VALUES
    (1, 'connection pooling', $q$
        WITH s AS (SELECT running FROM pgmaint.sampler_status()),
        peak AS (
            SELECT coalesce((SELECT max(x.client_backends) FROM pgmaint.samples(now() - interval '24 hours') x
                              WHERE (SELECT running FROM s)),
                            (SELECT count(*) FROM pg_catalog.pg_stat_activity
                              WHERE backend_type = 'client backend')) AS n,
                   CASE WHEN (SELECT running FROM s) THEN 'peak of the last 24 hours' ELSE 'now' END AS basis
        ),
        usable AS (
            SELECT current_setting('max_connections')::int
                   - current_setting('superuser_reserved_connections')::int AS n
        ),
        leaks AS (SELECT count(*) AS n FROM pgmaint.connection_leaks())
        SELECT CASE WHEN peak.n <= 0.8 * usable.n AND leaks.n = 0 THEN 'pass' ELSE 'fail' END,
               format('%s client connections (%s) of %s usable; %s leaked session(s)',
                      peak.n, peak.basis, usable.n, leaks.n),
               CASE WHEN peak.n > 0.8 * usable.n OR leaks.n > 0 THEN
                   'Keep each application pool small (the guide: 5 + 10 overflow), end leaks with pgmaint.terminate_leaks(), size with pgmaint.connection_budget().'
               END
          FROM peak, usable, leaks $q$),
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
        WITH off AS (
            SELECT s.name, s.wanted
              FROM (VALUES ('log_checkpoints', 'on'), ('log_connections', 'on'),
                           ('log_disconnections', 'on'), ('log_lock_waits', 'on'),
                           ('log_autovacuum_min_duration', '0'), ('log_temp_files', '10MB'),
                           ('log_min_duration_statement', '1s')) AS s(name, wanted)
              JOIN pg_catalog.pg_settings p ON p.name = s.name
             WHERE CASE WHEN s.wanted = 'on' THEN p.setting = 'off' ELSE p.setting::bigint < 0 END
        )
        SELECT CASE WHEN count(*) = 0 THEN 'pass' ELSE 'fail' END,
               coalesce('off: ' || string_agg(name, ', ' ORDER BY name),
                        'checkpoints, connections, disconnections, lock waits, autovacuum, temp files and slow statements are logged'),
               string_agg(format('ALTER SYSTEM SET %s = %L;', name, wanted), ' ' ORDER BY name)
               || CASE WHEN count(*) > 0 THEN ' SELECT pg_reload_conf();' END
          FROM off $q$),
    (5, 'backups', $q$
        SELECT CASE WHEN b.last_verified_at IS NULL OR b.last_backup_status = 'failed'
                         OR b.last_verified_age > b.max_age OR b.last_drill_status = 'failed'
                    THEN 'fail' ELSE 'pass' END,
               CASE WHEN b.last_verified_at IS NULL THEN 'no verified backup recorded'
                    ELSE format('last verified backup %s ago (%s); last backup %s; last drill %s',
                                b.last_verified_age, b.last_verified_file, b.last_backup_status,
                                coalesce(b.last_drill_status || ', ' || b.last_drill_age || ' ago', 'never'))
               END,
               CASE WHEN b.last_verified_at IS NULL OR b.last_backup_status = 'failed'
                         OR b.last_verified_age > b.max_age OR b.last_drill_status = 'failed'
                    THEN 'Schedule pgmaint_backup backup --dir DIR daily and pgmaint_backup drill weekly (see the README).'
               END
          FROM pgmaint.backup_status() b $q$),
    (6, 'monitoring', $q$
        SELECT CASE WHEN s.running AND s.last_sample_at > clock_timestamp() - 3 * s.sample_interval
                    THEN 'pass' ELSE 'fail' END,
               CASE WHEN s.running
                    THEN format('sampler pid %s, %s samples, the last at %s', s.pid, s.samples_taken,
                                to_char(s.last_sample_at, 'YYYY-MM-DD HH24:MI:SS'))
                    ELSE 'the sampler is not running: ' || coalesce(s.last_error, 'no reason recorded') END,
               CASE WHEN NOT s.running OR s.last_sample_at <= clock_timestamp() - 3 * s.sample_interval
                    THEN 'Add pgmaint to shared_preload_libraries, set pgmaint.database and restart; poll pgmaint.health() from /healthz/db.'
               END
          FROM pgmaint.sampler_status() s $q$),
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
        SELECT CASE WHEN d.available_pct >= 20 THEN 'pass' ELSE 'fail' END,
               format('%s available of %s (%s%%) on the data directory''s file system',
                      pg_size_pretty(d.available_bytes), pg_size_pretty(d.total_bytes),
                      round(d.available_pct::numeric, 1)),
               CASE WHEN d.available_pct < 20
                    THEN 'Archive old token_usage and tool_call_log rows, prune backups, VACUUM FULL bloated tables in a maintenance window; see pgmaint.table_sizes().'
               END
          FROM pgmaint.disk_space() d $q$)
  ) AS items(n, item, query)
 CROSS JOIN LATERAL pgmaint._checklist_item(items.item, items.query) c
 ORDER BY items.n;
$body$;

COMMENT ON FUNCTION pgmaint.checklist() IS
'The guide''s Performance Tuning Checklist, item by item: pass, fail or unknown, with the evidence and the fix.';
-- Privileges, in one place.  Nothing in pgmaint is callable by PUBLIC: read
-- functions (and the internal functions they call) are for pg_monitor;
-- action functions are for superusers and roles granted them explicitly.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgmaint FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO pg_monitor;

-- Actions and their internals.
REVOKE ALL ON FUNCTION
    pgmaint._audit(text, text, jsonb, boolean),
    pgmaint._request_samples(integer),
    pgmaint.terminate_leaks(interval, boolean)
FROM pg_monitor;

-- Reads files below any directory it is given: superusers only (the tests
-- point it at fixture trees; detected_resources() reads the server's own).
REVOKE ALL ON FUNCTION pgmaint._detect_resources(text) FROM pg_monitor;

-- Backups: only the role that runs pgmaint_backup records (README, "Backups").
REVOKE ALL ON FUNCTION
    pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text)
FROM pg_monitor;

-- Autovacuum policy (40-policy.sql): actions and the internals that write.
-- grant_tuning() hands a role what tune_table()/reset_table() need.
REVOKE ALL ON FUNCTION
    pgmaint.tune_table(regclass, text),
    pgmaint.reset_table(regclass),
    pgmaint.apply_policy(boolean),
    pgmaint.run_policy(text),
    pgmaint.prune_history(interval),
    pgmaint.schedule_maintenance(integer, text, text),
    pgmaint.unschedule_maintenance(),
    pgmaint.grant_tuning(regrole, boolean),
    pgmaint.revoke_tuning(regrole),
    pgmaint._apply_profile(regclass, text, text, text, jsonb),
    pgmaint._policy_record(name, regclass, text, text, text[], text[]),
    pgmaint._policy_audit(name, text, text, jsonb, boolean),
    pgmaint._snapshot_activity(name),
    pgmaint._prune_activity(),
    pgmaint._advise(name, regclass, text, text),
    pgmaint._advice_keep(name, oid[]),
    pgmaint._sync_vacuum_job(),
    pgmaint._require_pg_cron(),
    pgmaint._forget_dropped()
FROM pg_monitor;

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

-- A pgmaint.* setting's value.  The defaults are written once, in
-- src/pgmaint.c: calling this C function loads the library, which defines
-- the settings, so SQL never needs a fallback copy of a default.
CREATE FUNCTION pgmaint._setting(name text)
RETURNS text
LANGUAGE c STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_setting';

COMMENT ON FUNCTION pgmaint._setting(text) IS
'Internal: the value of a pgmaint.* setting (as SHOW gives it), read after loading the library so that its default is the C one.';

REVOKE ALL ON FUNCTION pgmaint._setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._setting(text) TO pg_monitor;

-- Alert thresholds of health(); an INSERT of an existing check updates it.
CREATE TABLE pgmaint.thresholds (
    check_name  text PRIMARY KEY,
    warning     numeric,
    critical    numeric,
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    CONSTRAINT thresholds_finite
        CHECK (warning NOT IN ('NaN', 'Infinity', '-Infinity')
               AND critical NOT IN ('NaN', 'Infinity', '-Infinity'))
);

COMMENT ON TABLE pgmaint.thresholds IS
'Warning and critical levels of each health() check (finite numbers or NULL); when critical is below warning, lower values are worse. enabled = false omits the check; a check without a row is unknown.';

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

-- How each check appears in metrics(): its Prometheus family, in base units.
-- A check declares its family with one row here, inserted in the fragment
-- that adds the check (beside its pgmaint.thresholds row):
--   family  pgmaint_<what it measures>_<unit>, unit one of seconds, bytes,
--           ratio (0-1 for shares; may exceed 1 for a ratio of two figures),
--           or '' for a dimensionless count, flag or state (then no suffix);
--   scale   the factor from the check's value (health_checks().value, in the
--           unit its thresholds use) to the family's unit: 0.01 for a
--           percentage, 1048576 for MB, 1 for seconds and counts; metrics()
--           applies it to the value and to both thresholds;
--   help    the # HELP text, in the family's unit.
-- A check without a row still appears, as pgmaint_check_raw_value{check}
-- in the check's own unit (see its pgmaint.thresholds description).
CREATE TABLE pgmaint.check_metrics (
    check_name text PRIMARY KEY,
    family     text NOT NULL UNIQUE,
    unit       text NOT NULL,
    scale      numeric NOT NULL DEFAULT 1,
    help       text NOT NULL,
    CONSTRAINT check_metrics_unit CHECK (unit IN ('seconds', 'bytes', 'ratio', '')),
    CONSTRAINT check_metrics_family CHECK (
        family ~ '^pgmaint_[a-z][a-z0-9_]*[a-z0-9]$'
        AND family !~ '^pgmaint_(check_|up$|status$|build_info$|samples_total$|in_recovery$|last_sample_|client_backends)'
        AND family !~ '_(total|count|sum|bucket|info|created)$'
        AND CASE WHEN unit = '' THEN family !~ '_(seconds|bytes|ratio)$'
                 ELSE family LIKE '%\_' || unit END),
    CONSTRAINT check_metrics_scale CHECK (scale > 0)
);

COMMENT ON TABLE pgmaint.check_metrics IS
'The Prometheus family of each health check in metrics(): name in base units, unit, the scale from the check''s value and thresholds to that unit, and the HELP text. Not dumped by pg_dump.';

GRANT SELECT ON pgmaint.check_metrics TO pg_monitor;

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
     'Heavy updates and deletes (a cache or queue table): vacuum at 5% dead rows, analyze at 2% changes, less throttling.'),
    ('insert_heavy',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=100}',
     'Mostly inserts with few updates (usage or metrics rows): vacuum less often, analyze often enough for planning.'),
    ('append_only',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}',
     'Inserts only, occasional cleanup (an event or audit log).'),
    ('moderate',
     '{autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=50}',
     'Steady mixed writes (ordinary application tables).');

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
    stats_reset                     timestamptz,
    in_recovery                     boolean,
    standbys                        integer,
    replication_lag                 interval,
    replication_lag_bytes           bigint
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

-- Block hits and reads summed over the ring's intervals since a time, by the
-- rule samples() applies to its deltas (an interval across a statistics
-- reset is left out); written once, in src/ring.c.
CREATE FUNCTION pgmaint._ring_block_deltas(since timestamptz, OUT hits numeric, OUT reads numeric)
RETURNS record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_ring_block_deltas';

COMMENT ON FUNCTION pgmaint._ring_block_deltas(timestamptz) IS
'Internal: block hits and reads of the sampled database summed over the ring''s intervals starting at or after since, leaving out those across a statistics reset (as samples() does); NULL without any.';

REVOKE ALL ON FUNCTION pgmaint._ring_block_deltas(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._ring_block_deltas(timestamptz) TO pg_monitor;

CREATE FUNCTION pgmaint._request_samples(count integer)
RETURNS bigint
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_request_samples';

COMMENT ON FUNCTION pgmaint._request_samples(integer) IS
'Internal (tests, benchmarks): asks the worker for count extra samples taken back to back; returns samples_taken at the time of the request.';

REVOKE ALL ON FUNCTION pgmaint._request_samples(integer) FROM PUBLIC;

-- History kept in tables: sample_history and the policy's table_activity.
CREATE FUNCTION pgmaint.prune_history(retention interval DEFAULT NULL)
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

COMMENT ON FUNCTION pgmaint.prune_history(interval) IS
'Deletes history older than retention (default pgmaint.history_retention): sample_history rows, table_activity snapshots (never kept past the 24-hour rate window) and those of dropped tables; returns the rows deleted.';

REVOKE ALL ON FUNCTION pgmaint.prune_history(interval) FROM PUBLIC;
-- Connections: sessions by state, leaked transactions and their safe
-- termination, long-running statements, lock chains, the pool budget.

-- Raises 22023 unless an interval argument is given and positive; the rule
-- is terminate_leaks()' own, written once in src/backends.c.
CREATE FUNCTION pgmaint._require_interval(name text, value interval)
RETURNS void
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_require_interval';

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

-- The leak rule (idle in a transaction, or an aborted one, since before
-- now - idle_for), written once in src/backends.c: terminate_leaks(), the
-- worker's sweep, connection_leaks() and the idle_in_transaction check use it.
CREATE FUNCTION pgmaint._leaked(state text, state_change timestamptz, idle_for interval)
RETURNS boolean
LANGUAGE c VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_leaked';

COMMENT ON FUNCTION pgmaint._leaked(text, timestamptz, interval) IS
'Internal: true when a pg_stat_activity row (state, state_change) is idle in a transaction, or an aborted one, since before now - idle_for; false for NULLs.';

REVOKE ALL ON FUNCTION pgmaint._leaked(text, timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._leaked(text, timestamptz, interval) TO pg_monitor;

-- Connection slots a client without special roles can use: max_connections
-- less superuser_reserved_connections and, from PostgreSQL 16 on,
-- reserved_connections.  health(), checklist() and connection_budget() use it.
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
     WHERE pgmaint._leaked(a.state, a.state_change, min_idle)
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
    pooler_pool_size integer DEFAULT NULL,
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
    clients     bigint;
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
    IF pooler_pool_size IS NOT NULL THEN
        PERFORM pgmaint._require_count('pooler_pool_size', pooler_pool_size, 1);
    END IF;
    clients := (pool_size::bigint + max_overflow) * instances;
    -- behind a pooler the application's pools connect to the pooler, and the
    -- server sees only the pooler's default_pool_size connections
    planned := coalesce(pooler_pool_size, clients) + reserve;
    IF planned > 10000 THEN
        RAISE EXCEPTION 'planned connections (%) exceed 10000', planned
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN pooler_pool_size IS NULL
                                THEN format('(%s + %s) * %s + %s = %s.', pool_size, max_overflow,
                                            instances, reserve, planned)
                                ELSE format('%s + %s = %s.', pooler_pool_size, reserve, planned) END,
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
    verdict := CASE WHEN pooler_pool_size IS NULL
                    THEN format('(%s + %s) * %s + %s = %s', pool_size, max_overflow, instances,
                                reserve, planned)
                    ELSE format('pooler default_pool_size %s + %s = %s', pooler_pool_size,
                                reserve, planned) END
               || format(', %s%% of %s usable: %s', share, usable,
                         CASE WHEN planned > usable THEN 'over budget'
                              WHEN share > 80 THEN 'tight'
                              ELSE 'fits' END);
    RETURN NEXT;

    IF pooler_pool_size IS NOT NULL THEN
        item := 'pooler clients';
        value := clients;
        verdict := format('(%s + %s) * %s = %s application connections to the pooler share its %s server connections; in transaction mode no session state (SET, LISTEN, prepared statements) survives a transaction: asyncpg needs statement_cache_size=0',
                          pool_size, max_overflow, instances, clients, pooler_pool_size);
        RETURN NEXT;
    END IF;

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
        advice := array_append(advice, format('lower %s, or raise max_connections to at least %s',
                                   CASE WHEN pooler_pool_size IS NULL THEN 'pool_size or max_overflow'
                                        ELSE 'the pooler''s default_pool_size' END,
                                   planned + su_reserved + reserved));
    ELSIF share > 80 THEN
        advice := array_append(advice, 'little headroom: a second instance or a deploy overlap will run out of connections');
    END IF;
    IF instances > 1 AND planned > usable AND pooler_pool_size IS NULL THEN
        advice := array_append(advice, 'with several instances, a pooler such as PgBouncer keeps server connections constant');
    END IF;
    item := 'advice';
    value := NULL;
    verdict := CASE WHEN cardinality(advice) = 0 THEN 'the plan fits this server'
                    ELSE array_to_string(advice, '; ') END;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer, integer) IS
'The pool arithmetic of the guide against this server: planned connections (pool_size + max_overflow) * instances + reserve, or behind a pooler its default_pool_size (pooler_pool_size) + reserve, usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later), current use, the peak the sampler saw (NULL when it is not running), a memory estimate, and advice.';
REVOKE ALL ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.connection_budget(integer, integer, integer, integer, integer) TO pg_monitor;

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

-- The n largest user tables by pg_total_relation_size, with the parts of
-- their size as table_sizes() gives them.  Only the 2n with the most pages in
-- the catalog (heap, TOAST and indexes; relpages is as fresh as the last
-- VACUUM, ANALYZE or CREATE INDEX) are measured, so that a database of
-- 10,000 tables stats forty tables' files, not all of them.
CREATE FUNCTION pgmaint._largest_tables(
    n integer,
    OUT relid oid, OUT schema_name name, OUT table_name name,
    OUT total_bytes bigint, OUT heap_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint,
    OUT row_estimate bigint)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH user_schemas AS (
        SELECT ns.oid FROM pg_namespace ns
         WHERE ns.nspname NOT IN ('pg_catalog', 'information_schema')
           AND ns.nspname !~ '^pg_(toast|temp_)'
    ),
    pages AS (
        -- tables and their indexes (an index is in its table's schema) ...
        SELECT coalesce(i.indrelid, c.oid) AS owner, greatest(c.relpages, 0)::bigint AS pages
          FROM pg_class c
          LEFT JOIN pg_index i ON i.indexrelid = c.oid
         WHERE c.relkind IN ('r', 'm', 'i') AND c.relnamespace IN (SELECT oid FROM user_schemas)
        UNION ALL
        -- ... and their TOAST tables
        SELECT c.oid, greatest(t.relpages, 0)::bigint
          FROM pg_class c
          JOIN pg_class t ON t.oid = c.reltoastrelid
         WHERE c.relkind IN ('r', 'm') AND c.relnamespace IN (SELECT oid FROM user_schemas)
    ),
    candidates AS (
        SELECT p.owner FROM pages p
         GROUP BY p.owner
         ORDER BY sum(p.pages) DESC, p.owner
         LIMIT 2 * n
    ),
    sized AS (
        SELECT c.oid, ns.nspname, c.relname, c.reltuples, pg_total_relation_size(c.oid) AS total,
               pg_table_size(c.oid) AS with_toast, pg_indexes_size(c.oid) AS indexes,
               CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END AS toast
          FROM candidates k
          JOIN pg_class c ON c.oid = k.owner
          JOIN pg_namespace ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'm')
    )
    SELECT s.oid, s.nspname, s.relname, s.total, s.with_toast - s.toast, s.indexes, s.toast,
           CASE WHEN s.reltuples >= 0 THEN s.reltuples::bigint END
      FROM sized s
     ORDER BY s.total DESC, s.oid
     LIMIT n;
$$;

COMMENT ON FUNCTION pgmaint._largest_tables(integer) IS
'Internal: the n largest user tables and materialized views by pg_total_relation_size, with heap (all forks), index and TOAST bytes and reltuples as table_sizes() has them, measured among the 2n with the most heap, TOAST and index pages in the catalog.';

REVOKE ALL ON FUNCTION pgmaint._largest_tables(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._largest_tables(integer) TO pg_monitor;

-- Foreign keys that no valid, non-partial index leads with (in any column order):
-- index_advice()'s fk_without_index rows and checklist() item 7 count them.
CREATE FUNCTION pgmaint._fk_without_index(
    OUT conname name, OUT conrelid oid, OUT confrelid oid, OUT relkind "char", OUT cols text)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
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
                  = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) AS x));
$$;

COMMENT ON FUNCTION pgmaint._fk_without_index() IS
'Internal: the foreign keys of user tables that no valid, non-partial index leads with (their columns in any order), with the referencing table''s kind and its quoted column list.';

REVOKE ALL ON FUNCTION pgmaint._fk_without_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._fk_without_index() TO pg_monitor;

-- Unused, duplicate, invalid and missing indexes, and large tables read by sequential scans.
CREATE FUNCTION pgmaint.index_advice(
    unused_min_bytes bigint DEFAULT 1048576,
    seq_scan_min_bytes bigint DEFAULT 10485760,
    OUT kind text, OUT table_name regclass, OUT index_name regclass,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- the planner's estimates for these catalog joins pass jit_above_cost at a few
-- thousand tables, and compiling the query then costs more than running it
SET jit = off
AS $$
BEGIN
    IF unused_min_bytes IS NULL OR unused_min_bytes < 0
       OR seq_scan_min_bytes IS NULL OR seq_scan_min_bytes < 0 THEN
        RAISE EXCEPTION 'size floors must not be negative or null'
            USING ERRCODE = '22023',
                  HINT = 'Pass 0 to report indexes and tables of every size.';
    END IF;

    RETURN QUERY
    WITH ext_tables AS MATERIALIZED (
        -- the tables extensions own, from the extensions' side of pg_depend (one
        -- hashed set rather than a probe per table)
        SELECT dep.objid FROM pg_depend dep
         WHERE dep.refclassid = 'pg_extension'::regclass AND dep.classid = 'pg_class'::regclass
           AND dep.deptype = 'e'
    ),
    idx AS (
        SELECT i.indexrelid, i.indrelid, i.indisprimary, i.indisunique, i.indisexclusion,
               i.indisreplident, i.indisvalid, i.indnatts, i.indnkeyatts,
               ic.relam, ic.relkind AS idxkind, ic.relname AS idxname,
               ic.relispartition AS is_partition,  -- attached to a partitioned index
               count(*) OVER (PARTITION BY i.indrelid) AS table_indexes
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'm', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND t.oid NOT IN (SELECT e.objid FROM ext_tables e)  -- not the user's to index
    ),
    ranked AS (
        -- what comparing two indexes takes, only for the tables with more than one;
        -- the index of a duplicate pair that is kept ranks higher
        SELECT x.*, ARRAY[x.indisprimary::int, x.backs_constraint::int, x.indisunique::int] AS keep_rank
          FROM (SELECT idx.*, i.indkey::text AS allcols,
                       pg_get_expr(i.indexprs, i.indrelid) AS exprs,
                       pg_get_expr(i.indpred, i.indrelid) AS pred,
                       -- the key columns' attributes, 1-based (a slice of an int2vector or oidvector)
                       (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keycols,
                       (i.indclass::oid[])[0:i.indnkeyatts - 1] AS keyclass,
                       (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS keycoll,
                       (i.indoption::int2[])[0:i.indnkeyatts - 1] AS keyopt,
                       (idx.indisprimary OR idx.indisunique OR idx.indisexclusion)
                       AND EXISTS (SELECT 1 FROM pg_constraint k
                                    WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                                      AND k.contype IN ('p', 'u', 'x')) AS backs_constraint
                  FROM idx
                  JOIN pg_index i ON i.indexrelid = idx.indexrelid
                 WHERE idx.table_indexes > 1 AND idx.indisvalid AND NOT idx.is_partition) x
    ),
    dup AS (
        SELECT DISTINCT ON (a.indexrelid)
               a.indexrelid, a.indrelid, a.idxkind, a.backs_constraint, b.indexrelid AS kept,
               k.same_key AS exact
          FROM ranked a
          JOIN ranked b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
         CROSS JOIN LATERAL (SELECT a.keycols = b.keycols AND a.keyclass = b.keyclass
                                    AND a.keycoll = b.keycoll AND a.keyopt = b.keyopt AS same_key) k
         WHERE a.relam = b.relam AND a.idxkind = b.idxkind
           AND a.exprs IS NOT DISTINCT FROM b.exprs
           AND a.pred IS NOT DISTINCT FROM b.pred
           AND (  -- same key and included columns: keep the higher-ranked, else the older one
                  (k.same_key AND a.allcols = b.allcols
                   AND (a.keep_rank < b.keep_rank
                        OR (a.keep_rank = b.keep_rank AND a.indexrelid > b.indexrelid)))
                  -- a plain btree whose key columns lead another btree's keys
               OR (a.exprs IS NULL AND NOT a.indisunique AND NOT a.indisexclusion
                   AND a.indnatts = a.indnkeyatts
                   AND a.relam = (SELECT am.oid FROM pg_am am WHERE am.amname = 'btree')
                   AND b.indnkeyatts > a.indnkeyatts
                   AND b.keycols[1:a.indnkeyatts] = a.keycols AND b.keyclass[1:a.indnkeyatts] = a.keyclass
                   AND b.keycoll[1:a.indnkeyatts] = a.keycoll AND b.keyopt[1:a.indnkeyatts] = a.keyopt))
         ORDER BY a.indexrelid, k.same_key DESC, b.indexrelid
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
           AND pg_stat_get_numscans(c.oid) >= 10
           AND c.oid NOT IN (SELECT e.objid FROM ext_tables e)
    ),
    -- sizes from the files (relpages is only as fresh as the last VACUUM,
    -- ANALYZE or CREATE INDEX), for the few rows the cheap filters leave
    seq_heavy AS MATERIALIZED (
        SELECT tbl.*, pg_relation_size(tbl.oid) AS bytes
          FROM (SELECT * FROM tbl WHERE tbl.seq_scan > tbl.idx_scan OFFSET 0) tbl
    ),
    idx_stats AS MATERIALIZED (
        SELECT idx.indexrelid, idx.indrelid, pg_stat_get_numscans(idx.indexrelid) AS scans,
               pg_stat_get_tuples_inserted(idx.indrelid) + pg_stat_get_tuples_updated(idx.indrelid)
               - pg_stat_get_tuples_hot_updated(idx.indrelid) AS writes
          FROM idx
         WHERE idx.idxkind = 'i' AND idx.indisvalid AND NOT idx.is_partition
           -- (an index that backs a constraint is a primary key, unique or exclusion one)
           AND NOT idx.indisprimary AND NOT idx.indisunique AND NOT idx.indisexclusion
           AND NOT idx.indisreplident
    ),
    -- unused: no scan; rarely used: fewer than one scan per 100 index writes
    -- (inserts and non-HOT updates), over at least 1,000 writes
    idx_sized AS MATERIALIZED (
        SELECT s.*, pg_relation_size(s.indexrelid) AS bytes
          FROM (SELECT * FROM idx_stats
                 WHERE scans = 0 OR (writes >= 1000 AND scans * 100 < writes) OFFSET 0) s
    ),
    fk AS (
        SELECT * FROM pgmaint._fk_without_index()
    )
    SELECT 'unused'::text, idx_sized.indrelid::regclass, idx_sized.indexrelid::regclass,
           format('no index scans since statistics were reset (%s); %s',
                  coalesce(pg_stat_get_db_stat_reset_time(
                               (SELECT d.oid FROM pg_database d
                                 WHERE d.datname = current_database()))::text,
                           'never reset'),
                  pg_size_pretty(idx_sized.bytes)),
           format('DROP INDEX CONCURRENTLY %s;', idx_sized.indexrelid::regclass)
      FROM idx_sized
     WHERE idx_sized.scans = 0 AND idx_sized.bytes >= unused_min_bytes
    UNION ALL
    SELECT 'rarely_used'::text, idx_sized.indrelid::regclass, idx_sized.indexrelid::regclass,
           format('%s index scans against %s index writes (inserts and non-HOT updates) since statistics were reset; %s',
                  idx_sized.scans, idx_sized.writes, pg_size_pretty(idx_sized.bytes)),
           format('Every write maintains it for few reads: check the queries that use it in pg_stat_statements, then DROP INDEX CONCURRENTLY %s;',
                  idx_sized.indexrelid::regclass)
      FROM idx_sized
     WHERE idx_sized.scans > 0 AND idx_sized.bytes >= unused_min_bytes
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
    SELECT 'seq_scan_heavy', seq_heavy.oid::regclass, NULL::regclass,
           format('%s sequential scans read %s rows, %s index scans; %s',
                  seq_heavy.seq_scan, seq_heavy.seq_tup_read, seq_heavy.idx_scan,
                  pg_size_pretty(seq_heavy.bytes)),
           format('SELECT query, calls, rows FROM pg_stat_statements WHERE query ~* %L ORDER BY total_exec_time DESC LIMIT 10;',
                  '\m' || (SELECT c.relname FROM pg_class c WHERE c.oid = seq_heavy.oid) || '\M')
      FROM seq_heavy
     WHERE seq_heavy.bytes >= seq_scan_min_bytes
    UNION ALL
    SELECT * FROM pgmaint._partitioned_index_findings(unused_min_bytes);
END
$$;

COMMENT ON FUNCTION pgmaint.index_advice(bigint, bigint) IS
'Index findings with a suggested statement: unused (no scans since the statistics reset, at least unused_min_bytes, never primary key, unique, exclusion or replica-identity indexes; a partitioned index when none of its partitions'' indexes was scanned), rarely_used (the same kinds of index with fewer than one scan per 100 index writes, over at least 1,000 writes), duplicate (same columns, expressions and predicate, or a plain btree leading another), invalid (not while a concurrent build runs on the table), fk_without_index, seq_scan_heavy (tables of at least seq_scan_min_bytes with 10+ sequential scans, more than index scans). Sizes are pg_relation_size, taken only for the indexes and tables the statistics already single out.';

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
CREATE FUNCTION pgmaint._authorized(caller name, rel regclass)
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
        'pgmaint.tune_table(regclass, text)', 'pgmaint.reset_table(regclass)']) f
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
        'pgmaint._classify(numeric, numeric, numeric, numeric, numeric)']) f
     WHERE with_policy
    UNION ALL
    SELECT 'TABLE', t FROM unnest(ARRAY['pgmaint.table_activity']) t
     WHERE with_policy;
$$;

COMMENT ON FUNCTION pgmaint._tuning_privileges(boolean) IS
'Internal: the functions and routines (EXECUTE) and tables (SELECT) grant_tuning() grants and revoke_tuning() revokes; the retention ones (issue 20) with the tuning ones, since both act on the tables a role owns.';

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

CREATE FUNCTION pgmaint.grant_tuning(grantee regrole, with_policy boolean DEFAULT false)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.grant_tuning(regrole, boolean) IS
'Lets a role call tune_table(), reset_table(), set_retention(), drop_retention(), retention_plan() and apply_retention() on the tables it owns (with_policy: also recommend_profiles(), apply_policy() and run_policy()); audited.';

REVOKE ALL ON FUNCTION pgmaint.grant_tuning(regrole, boolean) FROM PUBLIC;

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

CREATE FUNCTION pgmaint.revoke_tuning(grantee regrole)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.revoke_tuning(regrole) IS
'Takes back what grant_tuning() gave a role (not its USAGE on the schema, which other grants may need); audited.';

REVOKE ALL ON FUNCTION pgmaint.revoke_tuning(regrole) FROM PUBLIC;
-- Autovacuum policy, classification: per-table write counters snapshotted
-- by each policy run, and the profile each user table's writes suggest.

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
       AND c.oid NOT IN (SELECT d.objid FROM pg_depend d  -- the tables extensions own, as one hashed set
                          WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
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
    -- policy rows of tables that are gone without a sql_drop event (a
    -- temporary table at the end of its session)
    DELETE FROM pgmaint.table_policy p
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                        WHERE c.oid OPERATOR(pg_catalog.=) p.relid::oid);
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
    SELECT least(interval '24 hours', pgmaint._setting('pgmaint.history_retention')::interval);
$$;

COMMENT ON FUNCTION pgmaint._activity_window() IS
'Internal: the window recommend_profiles() measures rates over: 24 hours, or pgmaint.history_retention when shorter.';

-- Internal: the classification rules (documented in README "Autovacuum policy").
-- Like recommend_profiles(), a SQL-standard body, resolved when it is created
-- (so a caller's search_path cannot change it), and set-returning, so that
-- recommend_profiles() inlines it: called per table as a function with SET
-- search_path it took a quarter of a second at 10,000 tables.
CREATE FUNCTION pgmaint._classify(inserts numeric, updates numeric, deletes numeric,
                                  rows numeric, hours numeric)
RETURNS TABLE (profile text, reason text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
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
END;

COMMENT ON FUNCTION pgmaint._classify(numeric, numeric, numeric, numeric, numeric) IS
'Internal: the suggested profile and its reason for a table''s inserts, updates and deletes over hours, given its rows (NULL profile: too little activity); one row.';

-- A SQL-standard body (no SET search_path, which would keep it from being
-- inlined): a caller that counts its rows, as checklist() does, does not pay
-- for the reasons it does not read.
CREATE FUNCTION pgmaint.recommend_profiles(
    OUT relid regclass, OUT schema_name name, OUT table_name name, OUT rows bigint,
    OUT inserts_per_hour numeric, OUT updates_per_hour numeric, OUT deletes_per_hour numeric,
    OUT current_profile text, OUT suggested_profile text, OUT reason text,
    OUT pinned boolean, OUT basis text, OUT measured_since timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
BEGIN ATOMIC
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
END;

COMMENT ON FUNCTION pgmaint.recommend_profiles() IS
'Per user table: rows, inserts/updates/deletes per hour (from pgmaint''s snapshots when they cover the table, else since the statistics reset), the current and suggested autovacuum profile and why.';

GRANT EXECUTE ON FUNCTION pgmaint.recommend_profiles() TO pg_monitor;
-- Autovacuum policy, tuning: tune_table() and reset_table() set and remove
-- a profile's options on a table, as its owner, under a short lock timeout.

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

-- The kind and qualified name of a table a profile can apply to; an error for
-- a relation that is gone (42P01), is not an ordinary or partitioned table
-- (42809), or is a temporary table, a system catalog, or a table of pgmaint
-- or information_schema (42809): the policy never tunes those either.
CREATE FUNCTION pgmaint._tunable_table(rel regclass, OUT kind "char", OUT target text)
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

-- The lock timeout of every ALTER TABLE the policy runs (tune_table(),
-- reset_table(), the worker's runs), written once in src/policy.c.
CREATE FUNCTION pgmaint._policy_lock_timeout()
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_policy_lock_timeout';

COMMENT ON FUNCTION pgmaint._policy_lock_timeout() IS
'Internal: the lock_timeout under which the autovacuum policy and tune_table()/reset_table() lock a table; its value is PGMAINT_POLICY_LOCK_TIMEOUT in src/policy.c.';

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
CREATE FUNCTION pgmaint._apply_profile(rel regclass, profile text, source text, action text,
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
                    DETAIL = format('Another session held a conflicting lock for longer than the lock timeout (%s); nothing was changed.',
                                    pgmaint._policy_lock_timeout()),
                    HINT = 'Retry when the session holding the lock (see pgmaint.blocking_locks() or pg_locks) has finished.';
END
$$;

COMMENT ON FUNCTION pgmaint._tune_table_impl(regclass, text) IS
'Internal: the body of pgmaint.tune_table(), reached only through it (no role is granted it).';

REVOKE ALL ON FUNCTION pgmaint._tune_table_impl(regclass, text) FROM PUBLIC;

CREATE FUNCTION pgmaint.tune_table(rel regclass, profile text)
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
CREATE FUNCTION pgmaint._reset_table_impl(rel regclass)
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

CREATE FUNCTION pgmaint.reset_table(rel regclass)
RETURNS text[]
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.reset_table(regclass) IS
'Removes the autovacuum options pgmaint set on a table (restoring the table''s own values they replaced), forgets its policy row, audits; returns the reloptions now in effect.';

REVOKE ALL ON FUNCTION pgmaint.reset_table(regclass) FROM PUBLIC;
-- Autovacuum policy, the run: apply_policy() and run_policy() (the worker's
-- advise/apply step, or a pg_cron job), and the advice they record once.

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

CREATE FUNCTION pgmaint.apply_policy(dry_run boolean DEFAULT true)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

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

CREATE FUNCTION pgmaint.run_policy(mode text DEFAULT NULL)
RETURNS TABLE (relid regclass, table_name text, current_profile text, suggested_profile text,
               action text, detail text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.run_policy(text) IS
'One policy run (what the worker does every pgmaint.policy_interval): off does nothing; advise logs and records each new suggestion once; apply runs apply_policy(false). Also snapshots write counters.';

REVOKE ALL ON FUNCTION pgmaint.run_policy(text) FROM PUBLIC;
-- Autovacuum policy, pg_cron jobs: schedule_maintenance() and
-- unschedule_maintenance(), and the nightly vacuum job kept in step with
-- table_policy.  pg_cron is reached through dynamic SQL, never required.

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

CREATE FUNCTION pgmaint.schedule_maintenance(vacuum_hour integer DEFAULT 3,
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

CREATE FUNCTION pgmaint.unschedule_maintenance()
RETURNS SETOF text
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_action';

COMMENT ON FUNCTION pgmaint.unschedule_maintenance() IS
'Removes the pg_cron jobs schedule_maintenance() created (and nothing else); returns their names.';

REVOKE ALL ON FUNCTION pgmaint.unschedule_maintenance() FROM PUBLIC;
-- Settings advisor and configuration audit: settings_advice(),
-- detected_resources(), config_audit().  Privileges are in 99-privileges.sql.

-- The settings the guide gives fixed values for, in the guide's order: the
-- one list settings_advice() recommends from, config_audit() audits (topics
-- timeout and logging) and checklist() grades (through config_audit()).
-- topic: autovacuum, timeout, log_setup (where logs go and how much),
-- logging (a switch that is off at 'off' or -1).
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

-- Whether the server runs in a container, below a root directory, in C (issue 14).
CREATE FUNCTION pgmaint._detect_container(root text DEFAULT '/',
    OUT in_container boolean, OUT runtime text, OUT source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_container';

COMMENT ON FUNCTION pgmaint._detect_container(text) IS
'Internal: whether a container is seen below root (/.dockerenv, /run/.containerenv, container= in /proc/1/environ, then the cgroup path), the runtime and what said so; another root than / is for superusers (tests point it at fixture trees).';

REVOKE ALL ON FUNCTION pgmaint._detect_container(text) FROM PUBLIC;

-- The same for the server itself.
CREATE FUNCTION pgmaint.detected_container(
    OUT in_container boolean, OUT runtime text, OUT source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_container';

COMMENT ON FUNCTION pgmaint.detected_container() IS
'Whether the server runs in a container: in_container, runtime (docker, podman, lxc, kubernetes, ...) and source, the file or cgroup path that said so (/.dockerenv, /run/.containerenv, container= in /proc/1/environ, cgroup path).';

REVOKE ALL ON FUNCTION pgmaint.detected_container() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.detected_container() TO pg_monitor;

-- logging_collector in or out of a container: the one home of that rule.
CREATE FUNCTION pgmaint._logging_collector_advice(in_container boolean, container_source text,
    OUT recommended text, OUT reason text)
RETURNS record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN in_container THEN 'off' ELSE 'on' END,
           CASE WHEN in_container
                THEN pg_catalog.format('the server runs in a container (%s): with logging_collector = on the log goes to files in the data directory and docker logs shows nothing after startup; log to stderr (the guide''s on is for a bare server)',
                                       coalesce(container_source, 'detected'))
                ELSE 'the guide: keep log files in the data directory (not in a container)' END;
$$;

COMMENT ON FUNCTION pgmaint._logging_collector_advice(boolean, text) IS
'Internal: the recommended logging_collector (off in a container, so that docker logs shows the server log; on otherwise, the guide) and why.';

REVOKE ALL ON FUNCTION pgmaint._logging_collector_advice(boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._logging_collector_advice(boolean, text) TO pg_monitor;

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

-- The advice for given resources: one row per setting, then the memory-risk and /dev/shm rows.
CREATE FUNCTION pgmaint._advice(ram_mb bigint, ram_source text, cpus integer, cpus_source text,
                                storage text, max_connections integer,
                                shm_bytes bigint, shm_source text,
                                in_container boolean DEFAULT false,
                                container_source text DEFAULT NULL)
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
    v_lc        record;
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
    SELECT * INTO v_lc FROM pgmaint._logging_collector_advice(coalesce(in_container, false), container_source);

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
        -- in a container the log goes to docker logs: _logging_collector_advice() decides
        SELECT 12 + g.ord, g.name,
               CASE WHEN g.name = 'logging_collector' THEN v_lc.recommended ELSE g.recommended END,
               CASE WHEN g.name = 'logging_collector' THEN v_lc.reason ELSE g.why END
          FROM pgmaint._guide_settings() g
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

COMMENT ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text) IS
'Internal: settings_advice() rows for given memory, CPUs, storage, max_connections, /dev/shm size and whether the server runs in a container (with what said so).';

REVOKE ALL ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text) TO pg_monitor;

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
    c record;
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
    SELECT * INTO c FROM pgmaint.detected_container();
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
    name := 'container';
    current := CASE WHEN c.in_container THEN c.runtime ELSE 'none' END;
    reason := c.source;
    RETURN NEXT;

    RETURN QUERY
    SELECT a.* FROM pgmaint._advice(coalesce(ram_mb::bigint, d.ram_bytes / 1048576),
                                    CASE WHEN ram_mb IS NOT NULL THEN 'given' ELSE d.ram_source END,
                                    coalesce(cpus, d.cpus),
                                    CASE WHEN cpus IS NOT NULL THEN 'given' ELSE d.cpus_source END,
                                    storage, max_connections, d.shm_bytes, d.shm_source,
                                    c.in_container, c.source) a;
END
$$;

COMMENT ON FUNCTION pgmaint.settings_advice(integer, integer, text, integer) IS
'Recommended settings for ram_mb and cpus (detected from the container limits when NULL) and for the container the server runs in (logging_collector): name, current, recommended, unit, status (ok, differs, risky), reason, fix (ALTER SYSTEM statement, or patronictl edit-config where Patroni manages the server).';

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
    v_ct        record;
    v_lc        record;
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

    -- in a container, the log belongs on stderr, where docker logs reads it
    check_name := 'logging_collector';
    SELECT * INTO v_ct FROM pgmaint.detected_container();
    SELECT * INTO v_lc FROM pgmaint._logging_collector_advice(v_ct.in_container, v_ct.source);
    SELECT s.reset_val INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'logging_collector';
    IF v_val IS NULL THEN
        status := 'unknown';
        detail := 'cannot read logging_collector';
        fix := NULL;
    ELSIF v_ct.in_container AND v_val = 'on' THEN
        status := 'warning';
        detail := format('logging_collector = on in a container: %s', v_lc.reason);
        fix := 'ALTER SYSTEM SET logging_collector = off (or set it in the mounted postgresql.conf), then restart the container';
    ELSE
        status := 'ok';
        detail := format('logging_collector = %s, %s (%s)', v_val,
                         CASE WHEN v_ct.in_container THEN 'in a container' ELSE 'not in a container' END,
                         v_ct.source);
        fix := NULL;
    END IF;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint.config_audit() IS
'Security and logging audit: trust and md5 in pg_hba.conf (unknown without the privilege to read it), password_encryption, listen_addresses without ssl, applications connected as superuser, unset timeouts, logging off, logging_collector on in a container. Rows: check_name, status (ok, warning, critical, unknown), detail, fix.';

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
BEGIN
    -- _setting() loads the library, which defines the setting with its
    -- default (and validates a value postgresql.conf gave before the load)
    RETURN pgmaint._setting('pgmaint.backup_max_age')::interval;
END
$$;

COMMENT ON FUNCTION pgmaint._backup_max_age() IS
'Internal: the setting pgmaint.backup_max_age as an interval.';

-- An age as "27h 05m", the same whatever the session's IntervalStyle.
CREATE FUNCTION pgmaint._backup_age_text(age interval)
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
-- Retention (issue 20): expire cache rows, archive or delete old log rows,
-- detach and drop old partitions, in small transactions.
--
-- The rules live here: which tables, the cutoff, the statements of each
-- step, the limits of a run.  CALL pgmaint.apply_retention() and the worker
-- (src/retention.c) both run the steps of _retention_steps(), each batch in
-- a transaction of its own, through _retention_exec() (C), which runs every
-- statement as the table's owner in a security-restricted context, under a
-- short lock_timeout and a pinned search_path.  So nobody deletes through
-- pgmaint from a table whose owner could not, and a table's own triggers
-- never run with more rights than its owner's.
--
-- Privileges.  set_retention(), drop_retention() and apply_retention() run
-- as their caller, who must own the table; grant_tuning() hands a role what
-- they need.  The configuration table is written only through the SECURITY
-- DEFINER helpers _retention_store() and _retention_done(), which act only
-- for a role that may call one of those and that owns the table.

CREATE TABLE pgmaint.retention (
    relid         regclass PRIMARY KEY,
    column_name   name NOT NULL,
    keep          interval NOT NULL CHECK (keep >= interval '0'),
    archive       regclass,
    batch         integer NOT NULL DEFAULT 5000 CHECK (batch BETWEEN 1 AND 1000000),
    partitions    text NOT NULL DEFAULT 'drop' CHECK (partitions IN ('drop', 'detach')),
    enabled       boolean NOT NULL DEFAULT true,
    set_by        name NOT NULL DEFAULT current_user,
    set_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    oldest_row_at timestamptz,
    measured_at   timestamptz,
    last_run_at   timestamptz,
    last_result   jsonb
);

COMMENT ON TABLE pgmaint.retention IS
'Retention rules: rows of relid whose column_name is older than now() - keep are removed (moved to archive when set) in batches; old partitions of a partitioned table are detached and dropped (partitions = drop) or kept detached. oldest_row_at is the oldest row seen by the last run (or set_retention()).';

SELECT pg_catalog.pg_extension_config_dump('pgmaint.retention', '');
GRANT SELECT ON pgmaint.retention TO pg_monitor;

-- The limits of every run; apply_retention()'s arguments override the first two.
CREATE FUNCTION pgmaint._retention_limits(
    OUT lock_timeout text, OUT time_budget interval, OUT max_skips integer,
    OUT analyze_share numeric)
RETURNS record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '200ms'::text, interval '5 min', 3, 0.2;
$$;

COMMENT ON FUNCTION pgmaint._retention_limits() IS
'Internal: lock_timeout of each batch (a locked table is skipped, not waited for), time budget of a run, locked batches in a row before a table is left for the next run, share of a table removed after which ANALYZE is advised.';

-- Internal: the quoted schema-qualified name of a relation.
CREATE FUNCTION pgmaint._retention_name(rel oid)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = rel;
$$;

COMMENT ON FUNCTION pgmaint._retention_name(oid) IS
'Internal: schema.table of a relation, each part quoted as needed.';

-- Internal: may the session act for CALLER, may CALLER manage retention, does CALLER own rel?
CREATE FUNCTION pgmaint._retention_authorized(caller name, rel regclass)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(caller IS NOT NULL
       AND pg_catalog.pg_has_role(session_user, caller, 'MEMBER')
       AND (pg_catalog.has_function_privilege(caller, 'pgmaint.set_retention(regclass, name, interval, regclass, integer, text)', 'EXECUTE')
            OR pg_catalog.has_function_privilege(caller, 'pgmaint.drop_retention(regclass)', 'EXECUTE')
            OR pg_catalog.has_function_privilege(caller, 'pgmaint.apply_retention(regclass, interval, interval)', 'EXECUTE'))
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                    WHERE c.oid OPERATOR(pg_catalog.=) rel
                      AND pg_catalog.pg_has_role(caller, c.relowner, 'USAGE')),
       false);
$$;

COMMENT ON FUNCTION pgmaint._retention_authorized(name, regclass) IS
'Internal: true when the session may act as caller, caller may run a retention action and owns rel; false, never NULL, otherwise.';

-- Internal: stores (or, with a NULL column, removes) a retention rule for caller.
CREATE FUNCTION pgmaint._retention_store(caller name, rel regclass, column_name name,
                                         keep interval, archive regclass, batch integer,
                                         partitions text, oldest timestamptz)
RETURNS pgmaint.retention
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
BEGIN
    IF NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to set retention for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Only the table''s owner, through pgmaint.set_retention() or drop_retention(), sets retention.';
    END IF;
    IF column_name IS NULL THEN
        DELETE FROM pgmaint.retention t WHERE t.relid OPERATOR(pg_catalog.=) rel RETURNING * INTO r;
        RETURN r;
    END IF;
    INSERT INTO pgmaint.retention AS t (relid, column_name, keep, archive, batch, partitions,
                                        enabled, set_by, set_at, oldest_row_at, measured_at)
    VALUES (rel, column_name, keep, archive, batch, partitions, true, caller,
            pg_catalog.now(), oldest, pg_catalog.now())
    ON CONFLICT (relid) DO UPDATE
       SET column_name = EXCLUDED.column_name, keep = EXCLUDED.keep, archive = EXCLUDED.archive,
           batch = EXCLUDED.batch, partitions = EXCLUDED.partitions, enabled = true,
           set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at,
           oldest_row_at = EXCLUDED.oldest_row_at, measured_at = EXCLUDED.measured_at
    RETURNING * INTO r;
    PERFORM pgmaint._audit('set_retention', rel::text,
        pg_catalog.jsonb_build_object('column', column_name, 'keep', keep::text,
                                      'archive', archive::text, 'batch', batch,
                                      'partitions', partitions), false);
    RETURN r;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz) IS
'Internal: writes (or with a NULL column deletes) a pgmaint.retention row on behalf of caller, who must own the table and may run a retention action; audits a write.';

-- Internal: the oldest value of the rule's column (as the caller), or NULL for an empty table.
CREATE FUNCTION pgmaint._retention_oldest(rel regclass)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
    oldest timestamptz;
BEGIN
    SELECT r.column_name INTO col FROM pgmaint.retention r WHERE r.relid OPERATOR(pg_catalog.=) rel;
    IF col IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT pg_catalog.min(%I)::pg_catalog.timestamptz FROM %s',
                   col, pgmaint._retention_name(rel))
       INTO oldest;
    RETURN oldest;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_oldest(regclass) IS
'Internal: min() of a retention rule''s column as timestamptz, read as the caller.';

-- Internal: the bounds of a range partition: DEFAULT, or FROM .. TO (NULL for MINVALUE/MAXVALUE).
CREATE FUNCTION pgmaint._retention_bound(part oid, OUT is_default boolean,
                                         OUT lower text, OUT upper text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH e AS (
        SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS b
          FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) part
    ), m AS (
        SELECT e.b, pg_catalog.regexp_match(e.b, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS r FROM e
    )
    SELECT m.b OPERATOR(pg_catalog.=) 'DEFAULT',
           CASE WHEN m.r[1] OPERATOR(pg_catalog.~) '^''.*''$'
                THEN pg_catalog.replace(pg_catalog.substr(m.r[1], 2, pg_catalog.length(m.r[1]) OPERATOR(pg_catalog.-) 2), '''''', '''') END,
           CASE WHEN m.r[2] OPERATOR(pg_catalog.~) '^''.*''$'
                THEN pg_catalog.replace(pg_catalog.substr(m.r[2], 2, pg_catalog.length(m.r[2]) OPERATOR(pg_catalog.-) 2), '''''', '''') END
      FROM m;
$$;

COMMENT ON FUNCTION pgmaint._retention_bound(oid) IS
'Internal: whether a partition is the default one, and the literal lower and upper bounds of a single-column range partition (NULL for MINVALUE and MAXVALUE).';

-- Internal: one batch's statement for a leaf table: removes up to $2 rows
-- older than $1, oldest first (moving them to the archive when there is
-- one), by ctid, skipping rows other sessions hold locked.  Oldest first also
-- lets an index on the column lead straight to them: a plain LIMIT would
-- seq-scan from the table's start, over the dead rows of earlier batches.  Operators are qualified: the
-- statement runs as the table's owner, whatever its search_path.
CREATE FUNCTION pgmaint._retention_batch_sql(leaf regclass, column_name name, archive regclass,
                                             source regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH cols AS (
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) AS list
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attnum OPERATOR(pg_catalog.>) 0
           AND NOT a.attisdropped
    ), t AS (
        SELECT pgmaint._retention_name(leaf) AS name
    )
    SELECT format('WITH batch AS (SELECT ctid FROM ONLY %s WHERE %I OPERATOR(pg_catalog.<) $1'
                  ' ORDER BY %I LIMIT $2 FOR UPDATE SKIP LOCKED), ', t.name, column_name, column_name)
        || CASE WHEN archive IS NULL THEN
               format('d AS (DELETE FROM ONLY %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT batch.ctid FROM batch)) RETURNING 1)'
                      ' SELECT 1 FROM d', t.name)
           ELSE
               format('d AS (DELETE FROM ONLY %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT batch.ctid FROM batch)) RETURNING %s)'
                      ' INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM d',
                      t.name, cols.list, pgmaint._retention_name(archive), cols.list, cols.list)
           END
      FROM cols, t;
$$;

COMMENT ON FUNCTION pgmaint._retention_batch_sql(regclass, name, regclass, regclass) IS
'Internal: the statement of one retention batch on a leaf table ($1 cutoff, $2 batch size): WITH d AS (DELETE ... RETURNING) INSERT INTO archive SELECT FROM d, or a plain batch DELETE.';

-- Internal: the steps of one run on a configured table, in order.  kind
-- 'partition': one transaction that detaches (and drops) a partition lying
-- entirely before the cutoff; kind 'rows': batches on a leaf table, repeated
-- until a batch removes nothing (a short batch may have skipped locked rows).
CREATE FUNCTION pgmaint._retention_steps(rel regclass, cutoff timestamptz,
                                         OUT step integer, OUT kind text,
                                         OUT target regclass, OUT statements text[])
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
    relkind "char";
    p record;
    leaf oid;
BEGIN
    SELECT * INTO r FROM pgmaint.retention t WHERE t.relid OPERATOR(pg_catalog.=) rel;
    SELECT c.relkind INTO relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel;
    IF r.relid IS NULL OR relkind IS NULL THEN
        RETURN;
    END IF;
    step := 0;
    IF relkind OPERATOR(pg_catalog.=) 'r' THEN
        step := 1; kind := 'rows'; target := rel;
        statements := ARRAY[pgmaint._retention_batch_sql(rel, r.column_name, r.archive, rel)];
        RETURN NEXT;
        RETURN;
    END IF;
    -- partitions wholly before the cutoff go first, whole
    FOR p IN
        SELECT i.inhrelid AS part, b.*
          FROM pg_catalog.pg_inherits i, pgmaint._retention_bound(i.inhrelid) b
         WHERE i.inhparent OPERATOR(pg_catalog.=) rel
         ORDER BY b.is_default, b.lower::timestamptz NULLS FIRST, i.inhrelid
    LOOP
        IF NOT p.is_default AND p.upper IS NOT NULL
           AND p.upper::timestamptz OPERATOR(pg_catalog.<=) cutoff THEN
            step := step OPERATOR(pg_catalog.+) 1; kind := 'partition'; target := p.part::regclass;
            statements := ARRAY[format('ALTER TABLE %s DETACH PARTITION %s',
                                       pgmaint._retention_name(rel), pgmaint._retention_name(p.part))];
            IF r.partitions OPERATOR(pg_catalog.=) 'drop' THEN
                statements := statements OPERATOR(pg_catalog.||)
                              format('DROP TABLE %s', pgmaint._retention_name(p.part));
            END IF;
            RETURN NEXT;
        END IF;
    END LOOP;
    -- then the rows of partitions that start before the cutoff (and the default one)
    FOR p IN
        SELECT i.inhrelid AS part, b.*
          FROM pg_catalog.pg_inherits i, pgmaint._retention_bound(i.inhrelid) b
         WHERE i.inhparent OPERATOR(pg_catalog.=) rel
         ORDER BY b.is_default, b.lower::timestamptz NULLS FIRST, i.inhrelid
    LOOP
        CONTINUE WHEN NOT p.is_default AND p.upper IS NOT NULL
                      AND p.upper::timestamptz OPERATOR(pg_catalog.<=) cutoff;
        CONTINUE WHEN NOT p.is_default AND p.lower IS NOT NULL
                      AND p.lower::timestamptz OPERATOR(pg_catalog.>=) cutoff;
        FOR leaf IN
            SELECT pt.relid FROM pg_catalog.pg_partition_tree(p.part) pt
              JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pt.relid
             WHERE pt.isleaf AND c.relkind OPERATOR(pg_catalog.=) 'r'
             ORDER BY pt.relid
        LOOP
            step := step OPERATOR(pg_catalog.+) 1; kind := 'rows'; target := leaf::regclass;
            statements := ARRAY[pgmaint._retention_batch_sql(leaf::regclass, r.column_name, r.archive, rel)];
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_steps(regclass, timestamptz) IS
'Internal: the steps of a retention run on a table: detach (and drop) each partition wholly before the cutoff, then batches on each leaf that may hold older rows.';

-- Runs a step's statements as the owner of rel (see src/retention.c).
CREATE FUNCTION pgmaint._retention_exec(rel regclass, statements text[], cutoff timestamptz,
                                        batch integer, lock_timeout text)
RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'pgmaint_retention_exec';

COMMENT ON FUNCTION pgmaint._retention_exec(regclass, text[], timestamptz, integer, text) IS
'Internal: runs the statements of one retention step ($1 cutoff, $2 batch size) as the owner of rel in a security-restricted context, with a pinned search_path and the given lock_timeout; the caller must own rel. Returns the rows the last statement processed.';

-- Internal: takes (acquire) or releases the session advisory lock that keeps
-- two runs off the same table; true when taken.
CREATE FUNCTION pgmaint._retention_lock(rel regclass, acquire boolean)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN acquire THEN pg_catalog.pg_try_advisory_lock(1886809449, rel::oid::integer)
                ELSE pg_catalog.pg_advisory_unlock(1886809449, rel::oid::integer) END;
$$;

COMMENT ON FUNCTION pgmaint._retention_lock(regclass, boolean) IS
'Internal: pg_try_advisory_lock / pg_advisory_unlock of a table''s retention run (key 1886809449, the table''s OID).';

-- Internal: the tables a run works on: enabled rules on existing tables the
-- caller owns (all of them for a superuser, as the worker is), with their cutoff.
CREATE FUNCTION pgmaint._retention_work(only_table regclass,
                                        OUT relid regclass, OUT cutoff timestamptz,
                                        OUT batch integer)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.relid, pg_catalog.now() OPERATOR(pg_catalog.-) r.keep, r.batch
      FROM pgmaint.retention r
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relid
     WHERE r.enabled
       AND (only_table IS NULL OR r.relid OPERATOR(pg_catalog.=) only_table)
       AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
     ORDER BY pgmaint._retention_name(r.relid);
$$;

COMMENT ON FUNCTION pgmaint._retention_work(regclass) IS
'Internal: the enabled retention rules a run applies (those on tables the caller owns), with each cutoff (now() - keep) and batch size.';

-- Internal: ends a table's run: advice, the rule's last result and oldest
-- row, and an audit row when anything was removed or skipped.  Returns the
-- result with the advice.
CREATE FUNCTION pgmaint._retention_done(caller name, rel regclass, result jsonb, oldest timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint := coalesce((result ->> 'removed')::bigint, 0);
    estimate float8;
    res jsonb := result;
BEGIN
    IF NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to record a retention run for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Retention runs are recorded by pgmaint.apply_retention() and the worker.';
    END IF;
    SELECT greatest(c.reltuples, 0) INTO estimate FROM pg_class c WHERE c.oid = rel;
    IF removed > 0 AND removed >= (SELECT l.analyze_share FROM pgmaint._retention_limits() l)
                                  * greatest(estimate, removed) THEN
        res := res || jsonb_build_object('advice', format(
            'ANALYZE %s; (a large share of the table went). VACUUM makes the space reusable but does not return it to the operating system; VACUUM FULL or pg_repack in a maintenance window would, and pgmaint never runs them.',
            pgmaint._retention_name(rel)));
    END IF;
    UPDATE pgmaint.retention r
       SET last_run_at = now(), last_result = res, oldest_row_at = oldest, measured_at = now()
     WHERE r.relid = rel;
    IF removed > 0 OR coalesce((res ->> 'partitions')::int, 0) > 0
       OR coalesce((res ->> 'skipped_batches')::int, 0) > 0 OR res ->> 'stopped' <> 'done' THEN
        PERFORM pgmaint._audit('retention', rel::text, res, false);
    END IF;
    RETURN res;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_done(name, regclass, jsonb, timestamptz) IS
'Internal: records a table''s retention run (last_result, oldest_row_at) for caller, who must own it; adds ANALYZE advice after a large removal; audits what was removed or skipped (counts and cutoff, never rows).';

CREATE FUNCTION pgmaint.set_retention(rel regclass, "column" name, keep interval,
                                      archive regclass DEFAULT NULL, batch integer DEFAULT 5000,
                                      partitions text DEFAULT 'drop')
RETURNS pgmaint.retention
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    att record;
    pk record;
    missing text;
    oldest timestamptz;
    r pgmaint.retention;
BEGIN
    IF rel IS NULL OR "column" IS NULL OR keep IS NULL OR batch IS NULL OR partitions IS NULL THEN
        RAISE EXCEPTION 'table, column, keep, batch and partitions must not be null'
              USING ERRCODE = '22023',
                    HINT = 'Call pgmaint.set_retention(''schema.table'', ''created_at'', ''90 days'').';
    END IF;
    SELECT cl.relkind, cl.relowner INTO c FROM pg_class cl WHERE cl.oid = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = '42P01';
    END IF;
    IF c.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', rel USING ERRCODE = '42809',
              HINT = 'Retention applies to ordinary and partitioned tables.';
    END IF;
    IF NOT pg_has_role(current_user, c.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', rel USING ERRCODE = '42501',
              HINT = 'Only the table''s owner (or a member of the owning role) sets its retention.';
    END IF;
    SELECT a.attnum, a.atttypid INTO att FROM pg_attribute a
     WHERE a.attrelid = rel AND a.attname = "column" AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', "column", rel
              USING ERRCODE = '42703';
    END IF;
    IF att.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not a time type', "column", rel, att.atttypid::regtype
              USING ERRCODE = '42804',
                    HINT = 'Give a column of type timestamp with time zone, timestamp or date.';
    END IF;
    IF keep < interval '0' THEN
        RAISE EXCEPTION 'keep must not be negative, not %', keep USING ERRCODE = '22023',
              HINT = 'Rows older than now() - keep go; keep => ''0'' removes rows whose expiry time has passed.';
    END IF;
    IF batch NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 1000000, not %', batch USING ERRCODE = '22023',
              HINT = 'Batches of a few thousand rows keep each transaction short.';
    END IF;
    IF partitions NOT IN ('drop', 'detach') THEN
        RAISE EXCEPTION 'partitions must be drop or detach, not "%"', partitions USING ERRCODE = '22023',
              HINT = 'drop removes old partitions; detach keeps them as standalone tables.';
    END IF;
    IF c.relkind = 'p' THEN
        SELECT p.partstrat, p.partnatts, p.partattrs[0] AS key INTO pk
          FROM pg_partitioned_table p WHERE p.partrelid = rel;
        IF pk.partstrat <> 'r' OR pk.partnatts <> 1 OR pk.key <> att.attnum THEN
            RAISE EXCEPTION 'column "%" is not the partition key of partitioned table %', "column", rel
                  USING ERRCODE = '22023',
                        HINT = 'Retention of a partitioned table drops whole partitions: give the column the table is range-partitioned by.';
        END IF;
        IF archive IS NOT NULL THEN
            RAISE EXCEPTION 'an archive table is not supported for partitioned table %', rel
                  USING ERRCODE = '0A000',
                        HINT = 'Keep old partitions as standalone tables with partitions => ''detach'' instead: they are the archive.';
        END IF;
    END IF;
    IF archive IS NOT NULL THEN
        IF archive = rel THEN
            RAISE EXCEPTION 'a table cannot be its own archive' USING ERRCODE = '22023';
        END IF;
        IF (SELECT cl.relkind FROM pg_class cl WHERE cl.oid = archive) NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '"%" is not a table', archive USING ERRCODE = '42809',
                  HINT = 'The archive must be an ordinary or partitioned table.';
        END IF;
        SELECT string_agg(format('%I %s', s.attname, format_type(s.atttypid, s.atttypmod)), ', ' ORDER BY s.attnum)
          INTO missing
          FROM pg_attribute s
         WHERE s.attrelid = rel AND s.attnum > 0 AND NOT s.attisdropped
           AND NOT EXISTS (SELECT 1 FROM pg_attribute d
                            WHERE d.attrelid = archive AND d.attname = s.attname AND d.attnum > 0
                              AND NOT d.attisdropped AND d.atttypid = s.atttypid
                              AND d.attgenerated = '');
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'archive table % has no column matching %', archive, missing
                  USING ERRCODE = '42804',
                        HINT = format('Give the archive every column of %s, with the same type and not generated (CREATE TABLE archive (LIKE source) does).', rel);
        END IF;
        IF NOT has_table_privilege(c.relowner, archive, 'INSERT') THEN
            RAISE EXCEPTION 'the owner of % may not insert into archive table %', rel, archive
                  USING ERRCODE = '42501',
                        HINT = 'Retention moves rows as the table''s owner: GRANT INSERT on the archive to it.';
        END IF;
    END IF;
    oldest := pgmaint._retention_oldest_of(rel, "column");
    r := pgmaint._retention_store(current_user, rel, "column", keep, archive, batch, partitions, oldest);
    RETURN r;
END
$$;

COMMENT ON FUNCTION pgmaint.set_retention(regclass, name, interval, regclass, integer, text) IS
'Sets the retention of a table the caller owns: rows whose column is older than now() - keep go (to archive when given) in batches of batch rows; a partitioned table by its range key drops (or detaches) whole old partitions. Audited.';

REVOKE ALL ON FUNCTION pgmaint.set_retention(regclass, name, interval, regclass, integer, text) FROM PUBLIC;

-- Internal: min() of a given column as timestamptz, as the caller (set_retention() measures before storing).
CREATE FUNCTION pgmaint._retention_oldest_of(rel regclass, column_name name)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    oldest timestamptz;
BEGIN
    EXECUTE format('SELECT pg_catalog.min(%I)::pg_catalog.timestamptz FROM %s',
                   column_name, pgmaint._retention_name(rel))
       INTO oldest;
    RETURN oldest;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_oldest_of(regclass, name) IS
'Internal: min() of a table''s column as timestamptz, read as the caller.';

CREATE FUNCTION pgmaint.drop_retention(rel regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION 'table must not be null' USING ERRCODE = '22023',
              HINT = 'Call pgmaint.drop_retention(''schema.table'').';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgmaint.retention t WHERE t.relid = rel) THEN
        RAISE NOTICE 'table % has no retention rule', rel;
        RETURN false;
    END IF;
    r := pgmaint._retention_store(current_user, rel, NULL, NULL, NULL, NULL, NULL, NULL);
    PERFORM pgmaint._retention_audit_drop(current_user, rel);
    RETURN true;
END
$$;

COMMENT ON FUNCTION pgmaint.drop_retention(regclass) IS
'Removes the retention rule of a table the caller owns (nothing is deleted); audited. False when the table had none.';

REVOKE ALL ON FUNCTION pgmaint.drop_retention(regclass) FROM PUBLIC;

-- Internal: audits drop_retention().
CREATE FUNCTION pgmaint._retention_audit_drop(caller name, rel regclass)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to write a retention audit row' USING ERRCODE = '42501';
    END IF;
    PERFORM pgmaint._audit('drop_retention', rel::text, '{}', false);
END
$$;

COMMENT ON FUNCTION pgmaint._retention_audit_drop(name, regclass) IS
'Internal: appends the pgmaint.actions row of drop_retention() for caller, who must own the table.';

CREATE FUNCTION pgmaint.retention_plan()
RETURNS TABLE (table_name regclass, column_name name, keep interval, cutoff timestamptz,
               method text, rows_to_remove bigint, partitions_to_remove integer,
               oldest_age interval, archive regclass, enabled boolean,
               last_run_at timestamptz, last_result jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r record;
    readable boolean;
    oldest timestamptz;
BEGIN
    FOR r IN
        SELECT t.*, c.relkind, now() - t.keep AS cut
          FROM pgmaint.retention t JOIN pg_class c ON c.oid = t.relid
         ORDER BY pgmaint._retention_name(t.relid)
    LOOP
        table_name := r.relid; column_name := r.column_name; keep := r.keep;
        cutoff := r.cut; archive := r.archive; enabled := r.enabled;
        last_run_at := r.last_run_at; last_result := r.last_result;
        partitions_to_remove := (SELECT count(*) FROM pgmaint._retention_steps(r.relid, r.cut) s
                                  WHERE s.kind = 'partition');
        method := concat_ws(', then ',
            CASE WHEN partitions_to_remove > 0
                 THEN CASE r.partitions WHEN 'drop' THEN 'detach and drop partitions'
                                        ELSE 'detach partitions' END END,
            CASE WHEN r.archive IS NOT NULL THEN format('move rows to %s', r.archive)
                 ELSE 'delete rows' END);
        readable := has_table_privilege(r.relid, 'SELECT');
        IF readable THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE %I OPERATOR(pg_catalog.<) $1',
                           pgmaint._retention_name(r.relid), r.column_name)
               INTO rows_to_remove USING r.cut;
            oldest := pgmaint._retention_oldest(r.relid);
        ELSE
            rows_to_remove := NULL;
            oldest := r.oldest_row_at;
        END IF;
        oldest_age := date_trunc('second', now() - oldest);
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.retention_plan() IS
'The dry run of apply_retention(): per configured table the cutoff, what it would do, the rows (and partitions) that would go, the oldest row''s age (NULL counts for tables the caller cannot read), the archive and the last run.';

CREATE PROCEDURE pgmaint.apply_retention(only_table regclass DEFAULT NULL,
                                         time_budget interval DEFAULT NULL,
                                         lock_timeout interval DEFAULT NULL)
LANGUAGE plpgsql
-- No SET clause: a procedure with one cannot COMMIT.  Every name and
-- operator below is qualified instead, and the statements that touch user
-- tables run through _retention_exec(), which pins its own search_path.
AS $$
DECLARE
    lim record;
    w record;
    s record;
    deadline timestamptz;
    lt text;
    n bigint;
    skips integer;
    locked boolean;
    err text;
    removed bigint;
    batches integer;
    skipped integer;
    parts integer;
    stopped text;
    started timestamptz;
    res jsonb;
    has_archive boolean;
BEGIN
    IF only_table IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgmaint.retention r WHERE r.relid OPERATOR(pg_catalog.=) only_table) THEN
        RAISE EXCEPTION 'table % has no retention rule', only_table USING ERRCODE = '22023',
              HINT = 'Set one with pgmaint.set_retention().';
    END IF;
    SELECT * INTO lim FROM pgmaint._retention_limits();
    lt := COALESCE(
        (pg_catalog.date_part('epoch', lock_timeout) OPERATOR(pg_catalog.*) 1000)::bigint::text
            OPERATOR(pg_catalog.||) 'ms',
        lim.lock_timeout);
    deadline := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+)
                COALESCE(time_budget, lim.time_budget);
    FOR w IN SELECT * FROM pgmaint._retention_work(only_table) LOOP
        started := pg_catalog.clock_timestamp();
        removed := 0; batches := 0; skipped := 0; parts := 0; stopped := 'done'; err := NULL;
        has_archive := (SELECT r.archive IS NOT NULL FROM pgmaint.retention r
                         WHERE r.relid OPERATOR(pg_catalog.=) w.relid);
        IF NOT pgmaint._retention_lock(w.relid, true) THEN
            stopped := 'another run holds this table';
        ELSE
            <<steps>>
            FOR s IN SELECT * FROM pgmaint._retention_steps(w.relid, w.cutoff) LOOP
                skips := 0;
                LOOP
                    IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) deadline THEN
                        stopped := 'time budget';
                        EXIT steps;
                    END IF;
                    locked := false;
                    BEGIN
                        n := pgmaint._retention_exec(w.relid, s.statements, w.cutoff, w.batch, lt);
                    EXCEPTION
                        WHEN lock_not_available THEN
                            locked := true;
                        WHEN OTHERS THEN
                            err := SQLERRM;
                    END;
                    COMMIT;
                    IF err IS NOT NULL THEN
                        stopped := 'error: ' OPERATOR(pg_catalog.||) err;
                        EXIT steps;
                    END IF;
                    IF locked THEN
                        skipped := skipped OPERATOR(pg_catalog.+) 1;
                        skips := skips OPERATOR(pg_catalog.+) 1;
                        IF skips OPERATOR(pg_catalog.>=) lim.max_skips THEN
                            stopped := 'locked';
                            EXIT steps;
                        END IF;
                        CONTINUE;
                    END IF;
                    skips := 0;
                    IF s.kind OPERATOR(pg_catalog.=) 'partition' THEN
                        parts := parts OPERATOR(pg_catalog.+) 1;
                        EXIT;
                    END IF;
                    -- a short batch may have skipped rows others hold locked: go on until one finds none
                    EXIT WHEN n OPERATOR(pg_catalog.=) 0;
                    batches := batches OPERATOR(pg_catalog.+) 1;
                    removed := removed OPERATOR(pg_catalog.+) n;
                END LOOP;
            END LOOP;
        END IF;
        res := pg_catalog.jsonb_build_object(
            'cutoff', w.cutoff, 'removed', removed,
            'archived', CASE WHEN has_archive THEN removed ELSE 0 END,
            'partitions', parts, 'batches', batches, 'skipped_batches', skipped,
            'seconds', pg_catalog.round(pg_catalog.date_part('epoch',
                           pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)::numeric, 3),
            'stopped', stopped, 'by', 'apply_retention');
        res := pgmaint._retention_done(current_user, w.relid, res, pgmaint._retention_oldest(w.relid));
        IF stopped OPERATOR(pg_catalog.<>) 'another run holds this table' THEN
            PERFORM pgmaint._retention_lock(w.relid, false);
        END IF;
        COMMIT;
        RAISE NOTICE 'retention of %: % row(s) removed (% archived), % partition(s), % batch(es), % skipped, % s: %',
            w.relid, removed, res OPERATOR(pg_catalog.->>) 'archived', parts, batches, skipped,
            res OPERATOR(pg_catalog.->>) 'seconds', stopped
            USING HINT = COALESCE(res OPERATOR(pg_catalog.->>) 'advice', 'nothing to follow up');
    END LOOP;
END
$$;

COMMENT ON PROCEDURE pgmaint.apply_retention(regclass, interval, interval) IS
'Applies the retention rules of the tables the caller owns (only_table: one of them): each batch and each partition detach in a transaction of its own, as the table''s owner, under lock_timeout (default 200 ms: a locked table is skipped, not waited for) within time_budget (default 5 min); audited; a NOTICE per table. Not inside a transaction block.';

REVOKE ALL ON PROCEDURE pgmaint.apply_retention(regclass, interval, interval) FROM PUBLIC;

-- The retention health check: tables whose oldest row is older than twice
-- their keep interval (at least twice an hour, so that expiry columns with
-- keep 0 get a run or two of slack).
CREATE FUNCTION pgmaint._retention_check(OUT value numeric, OUT message text, OUT hint text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- like the other checks: unknown, never an error or ok, for a caller that cannot see
    IF NOT has_table_privilege('pgmaint.retention', 'SELECT') THEN
        value := NULL;
        message := 'cannot read pgmaint.retention: the caller lacks pg_monitor';
        hint := 'Grant pg_monitor to the role that calls health().';
        RETURN;
    END IF;
    WITH r AS (
        SELECT t.relid, now() - t.oldest_row_at AS age, t.keep,
               now() - t.oldest_row_at > 2 * greatest(t.keep, interval '1 hour') AS behind
          FROM pgmaint.retention t JOIN pg_class c ON c.oid = t.relid
         WHERE t.enabled
    ), worst AS (
        SELECT r.relid, r.age, r.keep FROM r WHERE r.behind ORDER BY r.age - r.keep DESC LIMIT 1
    )
    SELECT count(*) FILTER (WHERE r.behind)::numeric,
           CASE WHEN count(*) = 0 THEN 'no table has a retention rule'
                WHEN count(*) FILTER (WHERE r.behind) = 0
                    THEN format('%s table(s) with a retention rule, none behind', count(*))
                ELSE format('%s of %s table(s) fall behind their retention: %s keeps %s but its oldest row is %s old',
                            count(*) FILTER (WHERE r.behind), count(*),
                            (SELECT pgmaint._retention_name(worst.relid) FROM worst),
                            (SELECT worst.keep FROM worst),
                            (SELECT date_trunc('second', worst.age) FROM worst)) END,
           'See SELECT * FROM pgmaint.retention_plan(); runs happen with pgmaint.policy = apply (every pgmaint.retention_interval) or the pgmaint-retention pg_cron job, and CALL pgmaint.apply_retention() runs one now; last_result says why a run stopped.'
      INTO value, message, hint
      FROM r;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_check() IS
'Internal: the retention check: tables with an enabled rule whose oldest row (as the last run measured it) is older than twice their keep interval, at least two hours.';

-- Forgets the rule of a dropped table, and disables a rule whose archive was dropped.
CREATE FUNCTION pgmaint._retention_forget_dropped()
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
    DELETE FROM pgmaint.retention WHERE relid::oid = ANY (dropped);
    UPDATE pgmaint.retention SET enabled = false, archive = NULL,
           last_result = jsonb_build_object('stopped', 'disabled: the archive table was dropped')
     WHERE archive::oid = ANY (dropped);
END
$$;

COMMENT ON FUNCTION pgmaint._retention_forget_dropped() IS
'Event trigger: removes the retention rules of dropped tables and disables those whose archive table was dropped (rows are never deleted without their archive).';

REVOKE ALL ON FUNCTION pgmaint._retention_forget_dropped() FROM PUBLIC;

CREATE EVENT TRIGGER pgmaint_retention_forget_dropped ON sql_drop
    EXECUTE FUNCTION pgmaint._retention_forget_dropped();

-- Privileges: read functions and the internals they call for pg_monitor;
-- actions and the internals that write for superusers and grant_tuning().
REVOKE ALL ON FUNCTION
    pgmaint._retention_limits(),
    pgmaint._retention_name(oid),
    pgmaint._retention_authorized(name, regclass),
    pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz),
    pgmaint._retention_oldest(regclass),
    pgmaint._retention_oldest_of(regclass, name),
    pgmaint._retention_bound(oid),
    pgmaint._retention_batch_sql(regclass, name, regclass, regclass),
    pgmaint._retention_steps(regclass, timestamptz),
    pgmaint._retention_exec(regclass, text[], timestamptz, integer, text),
    pgmaint._retention_lock(regclass, boolean),
    pgmaint._retention_work(regclass),
    pgmaint._retention_done(name, regclass, jsonb, timestamptz),
    pgmaint._retention_audit_drop(name, regclass),
    pgmaint.retention_plan(),
    pgmaint._retention_check()
FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    pgmaint._retention_limits(),
    pgmaint._retention_name(oid),
    pgmaint._retention_oldest(regclass),
    pgmaint._retention_bound(oid),
    pgmaint._retention_batch_sql(regclass, name, regclass, regclass),
    pgmaint._retention_steps(regclass, timestamptz),
    pgmaint.retention_plan(),
    pgmaint._retention_check()
TO pg_monitor;

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('retention', 1, NULL,
     'Tables with a retention rule whose oldest row (as the last run saw it) is older than twice their keep interval, at least two hours: retention falls behind.');

-- Its Prometheus family (see pgmaint.check_metrics in 00-schema.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('retention', 'pgmaint_retention_behind_tables', '', 1,
     'Tables with a retention rule whose oldest row is older than twice their keep interval.');
-- Server-wide health checks: long queries, lock waits, wraparound, invalid
-- indexes, sequences, prepared transactions and replication slots; and the
-- table-level checks (table cache hit, dead tuples, autovacuum falling
-- behind) and the data directory's free disk.  The checks are PL/pgSQL so
-- that a session plans their queries once (a LANGUAGE sql function that
-- cannot be inlined, as SET search_path prevents, is planned at every call,
-- which cost more than the checks themselves).  Each
-- function returns (check_name, value, message, hint) rows that
-- pgmaint._measure_checks() grades against pgmaint.thresholds.

-- The floors below which the table-level checks do not judge a table,
-- written once in src/tablehealth.h; the descriptions below, the defaults of
-- _table_health() and the checks' messages read them here.
CREATE FUNCTION pgmaint._table_health_floors(OUT min_reads bigint, OUT min_tuples bigint)
RETURNS record
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_floors';

COMMENT ON FUNCTION pgmaint._table_health_floors() IS
'Internal: the heap block reads (table_cache_hit) and live + dead tuples (dead_tuples) a table needs before the table-level checks judge it.';

REVOKE ALL ON FUNCTION pgmaint._table_health_floors() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_floors() TO pg_monitor;

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
     'Highest share, in %, of a sequence''s range already used, up to the smaller of its maximum and the type of every column it feeds (cycling sequences only when they feed a unique key).'),
    ('prepared_transactions', 300, 3600,
     'Age in seconds of the oldest prepared transaction (it holds locks and stops vacuum).'),
    ('inactive_slots', 1, NULL,
     'Replication slots that no client uses (they retain WAL until dropped).'),
    ('slot_wal_retention', 1024, 4096,
     'MB of WAL retained by the replication slot that holds the most.'),
    ('table_cache_hit', 90, 80,
     format('Lowest heap cache hit ratio, in %%, among tables with at least %s heap block reads from outside shared buffers (unknown while no table has that many).',
            to_char((SELECT f.min_reads FROM pgmaint._table_health_floors() f), 'FM999,999,999'))),
    ('dead_tuples', 20, 50,
     format('Highest share, in %%, of dead tuples among tables with at least %s live + dead tuples.',
            to_char((SELECT f.min_tuples FROM pgmaint._table_health_floors() f), 'FM999,999,999'))),
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
        -- every column a sequence feeds: the column it is owned by (serial,
        -- identity) and every column whose default calls it
        fed AS (
            SELECT d.objid AS seqid, d.refobjid AS relid, d.refobjsubid AS attnum
              FROM pg_catalog.pg_depend d
             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
            UNION
            SELECT d.refobjid, ad.adrelid, ad.adnum
              FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
             WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        ),
        -- the range each fed column's type holds (numeric columns hold any)
        col AS (
            SELECT fed.seqid, fed.relid, a.attname, a.atttypid::pg_catalog.regtype::text AS typname,
                   CASE a.atttypid WHEN 'pg_catalog.int2'::pg_catalog.regtype THEN 32767::numeric
                                   WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN 2147483647::numeric
                                   WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN 9223372036854775807::numeric
                   END AS type_max,
                   CASE a.atttypid WHEN 'pg_catalog.int2'::pg_catalog.regtype THEN -32768::numeric
                                   WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN -2147483648::numeric
                                   WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN -9223372036854775808::numeric
                   END AS type_min,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                            WHERE i.indrelid = fed.relid AND i.indisunique AND i.indisvalid
                              AND fed.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])) AS unique_key
              FROM fed
              JOIN pg_catalog.pg_attribute a ON a.attrelid = fed.relid AND a.attnum = fed.attnum
             WHERE NOT a.attisdropped
        ),
        -- ranges in numeric: a sequence may span all of bigint
        seq AS (
            SELECT n.nspname AS schemaname, c.relname AS sequencename, s.seqcycle AS cycle,
                   s.seqincrement > 0 AS ascending,
                   -- the CASE keeps the call off the rows of other relation kinds
                   (CASE WHEN c.relkind = 'S' THEN pg_catalog.pg_sequence_last_value(c.oid) END)::numeric AS last_value,
                   s.seqmin::numeric AS min_value, s.seqmax::numeric AS max_value,
                   f.relid, f.attname, f.typname, f.type_max, f.type_min, f.unique_key
              FROM pg_catalog.pg_sequence s
              JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              -- the column that limits it most; a key column first among equals
              LEFT JOIN LATERAL (
                  SELECT col.* FROM col
                   WHERE col.seqid = s.seqrelid
                   ORDER BY CASE WHEN s.seqincrement > 0 THEN col.type_max ELSE -col.type_min END NULLS LAST,
                            col.unique_key DESC, col.relid, col.attname
                   LIMIT 1) f ON true
             WHERE NOT pg_catalog.pg_is_other_temp_schema(n.oid)
               AND c.relkind = 'S'
               AND CASE WHEN c.relkind = 'S' THEN pg_catalog.pg_sequence_last_value(c.oid) END IS NOT NULL
        ),
        bounded AS (
            SELECT seq.*,
                   CASE WHEN seq.ascending THEN least(seq.max_value, seq.type_max)
                        ELSE greatest(seq.min_value, seq.type_min) END AS bound,
                   coalesce(CASE WHEN seq.ascending THEN seq.type_max < seq.max_value
                                 ELSE seq.type_min > seq.min_value END, false) AS column_limits
              FROM seq
        ),
        measured AS (
            SELECT b.*,
                   CASE WHEN b.ascending
                        THEN 100.0 * (b.last_value - b.min_value) / nullif(b.bound - b.min_value, 0)
                        ELSE 100.0 * (b.max_value - b.last_value) / nullif(b.max_value - b.bound, 0)
                   END AS used,
                   CASE WHEN b.relid IS NOT NULL
                        THEN pg_catalog.format('%s.%I', b.relid::pg_catalog.regclass, b.attname) END AS colname
              FROM bounded b
             -- a cycling sequence wraps instead of running out: only a key it feeds suffers
             WHERE NOT b.cycle OR coalesce(b.unique_key, false)
        ),
        worst AS (
            SELECT * FROM measured ORDER BY used DESC NULLS LAST, schemaname, sequencename LIMIT 1
        )
        SELECT 'invalid_indexes', invalid.n::numeric,
               CASE WHEN invalid.n = 0 THEN 'no invalid index'
                    ELSE format('%s invalid index(es), e.g. %s', invalid.n, invalid.example) END,
               'Drop and recreate them (DROP INDEX CONCURRENTLY, CREATE INDEX CONCURRENTLY); pgmaint.index_advice() lists them.'
          FROM invalid
        UNION ALL
        SELECT 'sequences', round(coalesce(worst.used, 0), 2),
               CASE WHEN worst.sequencename IS NULL THEN 'no sequence has been used'
                    WHEN worst.cycle
                        THEN format('cycling sequence %I.%I has used %s%% of its range before it wraps; it feeds key column %s (%s), where the values after the wrap are already taken',
                                    worst.schemaname, worst.sequencename, round(worst.used, 2),
                                    worst.colname, worst.typname)
                    WHEN worst.column_limits
                        THEN format('sequence %I.%I has used %s%% of the range of column %s (%s, up to %s)',
                                    worst.schemaname, worst.sequencename, round(worst.used, 2),
                                    worst.colname, worst.typname, worst.bound)
                    WHEN worst.colname IS NOT NULL
                        THEN format('sequence %I.%I has used %s%% of its range (it feeds column %s)',
                                    worst.schemaname, worst.sequencename, round(worst.used, 2), worst.colname)
                    ELSE format('sequence %I.%I has used %s%% of its range',
                                worst.schemaname, worst.sequencename, round(worst.used, 2)) END,
               CASE WHEN worst.cycle
                        THEN 'At the wrap every insert fails with a duplicate key: make the sequence NO CYCLE and bigint (ALTER SEQUENCE ... NO CYCLE AS bigint MAXVALUE 9223372036854775807) and the column bigint; pgmaint.report() lists the checks.'
                    WHEN worst.column_limits
                        THEN 'Inserts fail with "out of range" when the column''s type runs out, whatever the sequence allows: change the column to bigint (ALTER TABLE ... ALTER COLUMN ... TYPE bigint rewrites the table) before it does; pgmaint.report() lists the checks.'
                    ELSE 'Change the column and its sequence to bigint (ALTER SEQUENCE ... AS bigint) before it runs out; pgmaint.report() lists the checks.' END
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
    -- the per-interval deltas, by samples()' rule for a statistics reset
    SELECT d.hits, d.reads INTO hits, reads
      FROM pgmaint._ring_block_deltas(now() - interval '1 hour') d;
END
$$;

COMMENT ON FUNCTION pgmaint._cache_hit_last_hour() IS
'Internal: this database''s block hits and reads over the last hour from the sampler (NULL without it), for the cache_hit check.';

-- Table-level figures of this database computed now: one pass over pg_class
-- and one statistics snapshot, with the threshold code vacuum_stats() uses.
CREATE FUNCTION pgmaint._table_health(
    min_reads bigint DEFAULT (pgmaint._table_health_floors()).min_reads,
    min_tuples bigint DEFAULT (pgmaint._table_health_floors()).min_tuples,
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
'Internal: _table_health() (with the floors of _table_health_floors()) as the worker computed it in its last sample, when that sample is of this database and at most two intervals old; no row otherwise.';

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
    floors record := pgmaint._table_health_floors();
    basis text;
    avail float8;
    disabled boolean;
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
    -- a table with autovacuum_enabled = off is not autovacuum falling behind:
    -- nobody vacuums it unless someone does so by hand
    disabled := f.falling_relid IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class c, unnest(c.reloptions) AS o
         WHERE c.oid = f.falling_relid
           AND lower(split_part(o, '=', 1)) = 'autovacuum_enabled'
           AND lower(split_part(o, '=', 2)) ~ '^(f(a(l(se?)?)?)?|no?|off?|0)$');
    message := CASE WHEN f.falling_behind = 0
                    THEN format('autovacuum keeps up with all %s tables (%s)', f.tables, basis)
                    WHEN disabled
                    THEN format('autovacuum is disabled on %s (autovacuum_enabled = off), %s dead tuples; %s table(s) past twice their vacuum threshold (%s)',
                                f.falling_relid::regclass, f.falling_dead, f.falling_behind, basis)
                    ELSE format('autovacuum falls behind on %s table(s), the worst %s with %s dead tuples (%s)',
                                f.falling_behind, f.falling_relid::regclass, f.falling_dead, basis) END;
    hint := CASE WHEN disabled
                 THEN format('Autovacuum skips %s (only anti-wraparound vacuums run): VACUUM it on a schedule of your own, or turn autovacuum back on with ALTER TABLE %s RESET (autovacuum_enabled); pgmaint.vacuum_stats() shows the others.',
                             f.falling_relid::regclass, f.falling_relid::regclass)
                 ELSE 'See pgmaint.vacuum_stats() WHERE falling_behind: VACUUM those tables, check autovacuum is on for them and raise autovacuum_max_workers or lower autovacuum_vacuum_cost_delay.' END;
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
-- Detections the peers (check_postgres, pgHero, pg-extras) have: vacuum and
-- analyze age of tables that change, vacuums in progress, NOT VALID
-- constraints and disabled triggers, connections by source, and WAL:
-- requested checkpoints and files waiting for the archiver.  Read functions
-- and the checks _measure_checks() registers (90-health.sql).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('vacuum_age', 604800, NULL,
     'Seconds since the last vacuum (manual or auto) of the table vacuumed longest ago among those with dead or inserted tuples since (as maintenance_age(); never-vacuumed tables are autovacuum_behind''s).'),
    ('analyze_age', 604800, NULL,
     'Seconds since the last analyze (manual or auto) of the table analyzed longest ago among those modified since (as maintenance_age()).'),
    ('not_valid_constraints', 1, NULL,
     'Check and foreign-key constraints added NOT VALID and never validated: rows written before are not checked (schema_advice()).'),
    ('disabled_triggers', 1, NULL,
     'Triggers disabled with ALTER TABLE ... DISABLE TRIGGER, internal foreign-key triggers included (schema_advice()).'),
    ('checkpoints_requested', 30, NULL,
     'Share, in %, of checkpoints since the statistics reset that were requested (WAL reached max_wal_size, or CHECKPOINT) rather than timed; unknown before 3 checkpoints.'),
    ('archive_ready', 10, 15,
     'WAL files (segments, history and partial files) in pg_wal/archive_status waiting for the archiver (check_postgres archive_ready; unknown for a caller without pg_monitor).');

-- Their Prometheus families (see pgmaint.check_metrics in 00-schema.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('vacuum_age', 'pgmaint_vacuum_age_max_seconds', 'seconds', 1,
     'Time since the last vacuum of the table vacuumed longest ago among those that changed since.'),
    ('analyze_age', 'pgmaint_analyze_age_max_seconds', 'seconds', 1,
     'Time since the last analyze of the table analyzed longest ago among those modified since.'),
    ('not_valid_constraints', 'pgmaint_not_valid_constraints', '', 1,
     'Check and foreign-key constraints added NOT VALID and never validated.'),
    ('disabled_triggers', 'pgmaint_disabled_triggers', '', 1,
     'Triggers disabled with ALTER TABLE ... DISABLE TRIGGER.'),
    ('checkpoints_requested', 'pgmaint_checkpoints_requested_ratio', 'ratio', 0.01,
     'Share of checkpoints since the statistics reset that were requested rather than timed.'),
    ('archive_ready', 'pgmaint_wal_archive_ready_files', '', 1,
     'WAL files in pg_wal/archive_status waiting for the archiver.');

-- Time since each user table's last vacuum and analyze, with its changes since.
CREATE FUNCTION pgmaint.maintenance_age(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT last_vacuumed timestamptz, OUT vacuum_age interval, OUT changes_since_vacuum bigint,
    OUT last_analyzed timestamptz, OUT analyze_age interval, OUT changes_since_analyze bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT t.oid, t.nspname::text, t.relname::text,
               t.vacuumed, pg_catalog.date_trunc('second', now() - t.vacuumed), t.vchanges,
               t.analyzed, pg_catalog.date_trunc('second', now() - t.analyzed), t.achanges
          FROM (SELECT c.oid, n.nspname, c.relname,
                       greatest(pg_catalog.pg_stat_get_last_vacuum_time(c.oid),
                                pg_catalog.pg_stat_get_last_autovacuum_time(c.oid)) AS vacuumed,
                       greatest(pg_catalog.pg_stat_get_last_analyze_time(c.oid),
                                pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid)) AS analyzed,
                       pg_catalog.pg_stat_get_dead_tuples(c.oid)
                       + pg_catalog.pg_stat_get_ins_since_vacuum(c.oid) AS vchanges,
                       pg_catalog.pg_stat_get_mod_since_analyze(c.oid) AS achanges
                  FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm')
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname !~ '^pg_toast') t
         ORDER BY now() - t.vacuumed DESC NULLS LAST, t.oid;
END
$$;

COMMENT ON FUNCTION pgmaint.maintenance_age() IS
'Each user table''s last vacuum and last analyze (the later of manual and auto), how long ago, and the changes since: dead plus inserted tuples since the vacuum, modified tuples since the analyze. Oldest vacuum first; NULL when never vacuumed or analyzed since the statistics reset.';

REVOKE ALL ON FUNCTION pgmaint.maintenance_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.maintenance_age() TO pg_monitor;

-- The same figures reduced to what the checks need, in one C pass over
-- pg_class (maintenance_age() costs a row and six accessor calls a table).
CREATE FUNCTION pgmaint._maintenance_age_worst(
    OUT vacuum_changed bigint, OUT vacuum_never bigint, OUT vacuum_relid oid,
    OUT vacuum_at timestamptz, OUT vacuum_changes bigint,
    OUT analyze_changed bigint, OUT analyze_never bigint, OUT analyze_relid oid,
    OUT analyze_at timestamptz, OUT analyze_changes bigint)
RETURNS record
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_maintenance_age_worst';

COMMENT ON FUNCTION pgmaint._maintenance_age_worst() IS
'Internal: of the tables in maintenance_age(), how many changed since their last vacuum (and since their last analyze), how many of those were never vacuumed (analyzed), and the one vacuumed (analyzed) longest ago, with the time and its changes since.';

REVOKE ALL ON FUNCTION pgmaint._maintenance_age_worst() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._maintenance_age_worst() TO pg_monitor;

-- The vacuum_age and analyze_age checks: tables that change but whose last
-- vacuum or analyze is old.
CREATE FUNCTION pgmaint._check_maintenance_age(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w record;
    age interval;
BEGIN
    SELECT * INTO w FROM pgmaint._maintenance_age_worst();

    check_name := 'vacuum_age';
    age := date_trunc('second', now() - w.vacuum_at);
    value := coalesce(round(extract(epoch FROM age)), 0);
    message := CASE WHEN w.vacuum_relid IS NULL THEN 'no vacuumed table has changed since its last vacuum'
                    ELSE format('%s table(s) changed since their last vacuum; the oldest, %s, was vacuumed %s ago (%s dead or inserted tuples since)',
                                w.vacuum_changed, w.vacuum_relid::regclass, age, w.vacuum_changes) END
               || CASE WHEN w.vacuum_never > 0
                       THEN format('; %s changed table(s) never vacuumed since the statistics reset (see autovacuum_behind)', w.vacuum_never)
                       ELSE '' END;
    hint := 'Autovacuum has not reached it because its changes stay below the vacuum threshold: VACUUM it, or lower its autovacuum_vacuum_scale_factor (pgmaint.tune_table()); pgmaint.maintenance_age() lists the tables.';
    RETURN NEXT;

    check_name := 'analyze_age';
    age := date_trunc('second', now() - w.analyze_at);
    value := coalesce(round(extract(epoch FROM age)), 0);
    message := CASE WHEN w.analyze_relid IS NULL THEN 'no analyzed table has changed since its last analyze'
                    ELSE format('%s table(s) modified since their last analyze; the oldest, %s, was analyzed %s ago (%s modified tuples since)',
                                w.analyze_changed, w.analyze_relid::regclass, age, w.analyze_changes) END
               || CASE WHEN w.analyze_never > 0
                       THEN format('; %s modified table(s) never analyzed since the statistics reset', w.analyze_never)
                       ELSE '' END;
    hint := 'The planner''s statistics of the table are old while its data changes: ANALYZE it, or lower its autovacuum_analyze_scale_factor; pgmaint.maintenance_age() lists the tables.';
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_maintenance_age() IS
'Internal: the vacuum_age and analyze_age checks.';

REVOKE ALL ON FUNCTION pgmaint._check_maintenance_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_maintenance_age() TO pg_monitor;

-- Vacuums running now, manual and autovacuum, with their phase and progress.
CREATE FUNCTION pgmaint.vacuum_progress(
    OUT pid integer, OUT database name, OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT phase text, OUT autovacuum boolean, OUT to_prevent_wraparound boolean,
    OUT started_at timestamptz, OUT running_for interval,
    OUT heap_blks_total bigint, OUT heap_blks_scanned bigint, OUT heap_blks_vacuumed bigint,
    OUT percent numeric, OUT index_vacuum_count bigint,
    OUT num_dead_tuples bigint, OUT max_dead_tuples bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT p.pid, p.datname,
               p.relid, n.nspname::text, c.relname::text,
               p.phase, a.backend_type = 'autovacuum worker',
               CASE WHEN a.backend_type = 'autovacuum worker'
                    THEN a.query LIKE '%(to prevent wraparound)%' ELSE false END,
               a.xact_start, pg_catalog.date_trunc('second', clock_timestamp() - a.xact_start),
               p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed,
               CASE WHEN p.heap_blks_total > 0
                    THEN round(100.0 * p.heap_blks_scanned / p.heap_blks_total, 1)
                    WHEN p.phase NOT IN ('initializing', 'scanning heap') THEN 100.0 END,
               p.index_vacuum_count, p.num_dead_tuples, p.max_dead_tuples
          FROM pg_catalog.pg_stat_progress_vacuum p
          LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid
          -- another database's oid names nothing here
          LEFT JOIN pg_catalog.pg_class c
                 ON c.oid = p.relid
                AND p.datid = (SELECT d.oid FROM pg_catalog.pg_database d
                                WHERE d.datname = current_database())
          LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         ORDER BY a.xact_start, p.pid;
END
$$;

COMMENT ON FUNCTION pgmaint.vacuum_progress() IS
'Vacuums running now in every database (pg_stat_progress_vacuum): phase, whether autovacuum runs it and to prevent wraparound, since when, heap blocks total/scanned/vacuumed, percent = share of the heap scanned (100 after the scan), index passes and dead tuples collected. schema_name and table_name only for this database''s tables.';

REVOKE ALL ON FUNCTION pgmaint.vacuum_progress() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.vacuum_progress() TO pg_monitor;

-- Rules the database does not enforce: NOT VALID constraints and disabled triggers.
CREATE FUNCTION pgmaint.schema_advice(
    OUT kind text, OUT table_name regclass, OUT object_name text,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT 'not_valid_constraint'::text, k.conrelid::pg_catalog.regclass, k.conname::text,
               CASE k.contype
                   WHEN 'f' THEN format('foreign key to %s added NOT VALID: rows written before it are not checked',
                                        k.confrelid::pg_catalog.regclass)
                   ELSE format('check constraint (%s) added NOT VALID: rows written before it are not checked',
                               pg_catalog.pg_get_constraintdef(k.oid))
               END,
               format('ALTER TABLE %s VALIDATE CONSTRAINT %I;  -- takes only a SHARE UPDATE EXCLUSIVE lock',
                      k.conrelid::pg_catalog.regclass, k.conname)
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT k.convalidated AND k.contype IN ('c', 'f')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
        UNION ALL
        SELECT 'disabled_trigger', t.tgrelid::pg_catalog.regclass, t.tgname::text,
               CASE WHEN k.oid IS NOT NULL
                    THEN format('internal trigger of %s %I, disabled (DISABLE TRIGGER ALL): the constraint is not enforced',
                                CASE k.contype WHEN 'f' THEN 'foreign key' ELSE 'constraint' END, k.conname)
                    ELSE format('trigger calling %s, disabled: it does not fire', t.tgfoid::pg_catalog.regproc)
               END,
               CASE WHEN t.tgisinternal
                    THEN format('ALTER TABLE %s ENABLE TRIGGER ALL;  -- rows written meanwhile were not checked',
                                t.tgrelid::pg_catalog.regclass)
                    ELSE format('ALTER TABLE %s ENABLE TRIGGER %I;', t.tgrelid::pg_catalog.regclass, t.tgname)
               END
          FROM pg_catalog.pg_trigger t
          LEFT JOIN pg_catalog.pg_constraint k ON k.oid = t.tgconstraint
         WHERE t.tgenabled = 'D'
         ORDER BY 1, 2, 3;
END
$$;

COMMENT ON FUNCTION pgmaint.schema_advice() IS
'Rules this database does not enforce, with the statement that restores them: not_valid_constraint (check or foreign-key constraints added NOT VALID and never validated), disabled_trigger (tgenabled = ''D'', internal foreign-key triggers included, as check_postgres disabled_triggers counts).';

REVOKE ALL ON FUNCTION pgmaint.schema_advice() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.schema_advice() TO pg_monitor;

-- The not_valid_constraints and disabled_triggers checks.
CREATE FUNCTION pgmaint._check_schema(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH s AS MATERIALIZED (SELECT * FROM pgmaint.schema_advice()),
        k(kind, check_name, none, what, hint) AS (VALUES
            ('not_valid_constraint', 'not_valid_constraints', 'no NOT VALID constraint',
             'NOT VALID constraint(s)',
             'Validate them (ALTER TABLE ... VALIDATE CONSTRAINT, which does not block writes): pgmaint.schema_advice() lists them with the statement.'),
            ('disabled_trigger', 'disabled_triggers', 'no disabled trigger',
             'disabled trigger(s)',
             'Enable them again (ALTER TABLE ... ENABLE TRIGGER) unless they are off on purpose: pgmaint.schema_advice() lists them with the statement.'))
        SELECT k.check_name, count(s.kind)::numeric,
               CASE WHEN count(s.kind) = 0 THEN k.none
                    ELSE format('%s %s, e.g. %s on %s', count(s.kind), k.what,
                                (array_agg(quote_ident(s.object_name) ORDER BY s.table_name::text, s.object_name))[1],
                                (array_agg(s.table_name::text ORDER BY s.table_name::text, s.object_name))[1]) END,
               k.hint
          FROM k LEFT JOIN s ON s.kind = k.kind
         GROUP BY k.check_name, k.none, k.what, k.hint;
END
$$;

COMMENT ON FUNCTION pgmaint._check_schema() IS
'Internal: the not_valid_constraints and disabled_triggers checks.';

REVOKE ALL ON FUNCTION pgmaint._check_schema() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_schema() TO pg_monitor;

-- Client connections by database, user, application and client address.
CREATE FUNCTION pgmaint.connection_sources(
    OUT database name, OUT user_name name, OUT application_name text, OUT client_addr inet,
    OUT total bigint, OUT active bigint, OUT idle bigint, OUT idle_in_transaction bigint,
    OUT waiting bigint, OUT oldest_connection timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT a.datname, a.usename, a.application_name, a.client_addr,
               count(*),
               count(*) FILTER (WHERE a.state = 'active'),
               count(*) FILTER (WHERE a.state = 'idle'),
               count(*) FILTER (WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')),
               count(*) FILTER (WHERE a.wait_event_type = 'Lock'),
               min(a.backend_start)
          FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'client backend'
         GROUP BY a.datname, a.usename, a.application_name, a.client_addr
         ORDER BY count(*) DESC, a.datname, a.usename, a.application_name, a.client_addr;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_sources() IS
'Client connections grouped by database, user, application_name and client address (NULL for a Unix socket), most first: total, active, idle, idle in a transaction (aborted ones included), waiting on a lock, and the oldest connection''s start. Other roles'' application and address need pg_read_all_stats.';

REVOKE ALL ON FUNCTION pgmaint.connection_sources() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.connection_sources() TO pg_monitor;

-- WAL checks: requested checkpoints (max_wal_size too small) and files
-- waiting for the archiver.
CREATE FUNCTION pgmaint._check_wal(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    b record;
    ready bigint;
    oldest timestamptz;
BEGIN
    SELECT s.checkpoints_timed AS timed, s.checkpoints_req AS req, s.stats_reset
      INTO b FROM pg_catalog.pg_stat_bgwriter s;
    check_name := 'checkpoints_requested';
    IF b.timed + b.req < 3 THEN
        value := NULL;
        message := format('%s checkpoint(s) since the statistics reset (%s): too few to judge',
                          b.timed + b.req, coalesce(b.stats_reset::text, 'never reset'));
    ELSE
        value := round(100.0 * b.req / (b.timed + b.req), 1);
        message := format('%s of %s checkpoints since %s were requested, %s timed (checkpoint_timeout %s, max_wal_size %s)',
                          b.req, b.timed + b.req, coalesce(b.stats_reset::text, 'the server started'),
                          b.timed, current_setting('checkpoint_timeout'), current_setting('max_wal_size'));
    END IF;
    hint := 'WAL fills max_wal_size before checkpoint_timeout comes, so checkpoints (and full-page writes after them) come too often: raise max_wal_size (the guide: 1GB; more for heavy writes) until most checkpoints are timed (pgmaint.settings_advice() sizes it for the machine). A manual CHECKPOINT or a base backup counts as requested too.';
    RETURN NEXT;

    check_name := 'archive_ready';
    IF NOT has_function_privilege('pg_catalog.pg_ls_archive_statusdir()', 'EXECUTE') THEN
        value := NULL;
        message := 'cannot list pg_wal/archive_status: the caller lacks pg_monitor';
        hint := 'Grant pg_monitor to the role that calls health().';
    ELSE
        SELECT count(*), min(f.modification) INTO ready, oldest
          FROM pg_catalog.pg_ls_archive_statusdir() f
         WHERE f.name LIKE '%.ready';
        value := ready;
        message := CASE WHEN ready = 0 THEN 'no WAL file waits for the archiver'
                        ELSE format('%s WAL file(s) wait for the archiver, the oldest since %s (archive_mode %s)',
                                    ready, date_trunc('second', oldest), current_setting('archive_mode')) END;
        hint := 'The archiver fails or falls behind (see the archiver check and pg_stat_archiver): each waiting file stays in pg_wal until archive_command succeeds for it; fix or speed up archive_command before the disk fills (pgmaint.disk_space()).';
    END IF;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_wal() IS
'Internal: the checkpoints_requested and archive_ready checks.';

REVOKE ALL ON FUNCTION pgmaint._check_wal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_wal() TO pg_monitor;
-- Space: bloat estimates of tables and indexes, partitioned tables rolled
-- up, and growth.  The worker records sizes and the worst bloat estimates
-- once per pgmaint.growth_interval (src/growth.c runs _record_space()), so
-- that the bloat and disk_full_eta checks read a few rows instead of sizing
-- every table at each health() call.

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('bloat', 256, 1024,
     'Estimated MB of wasted space in the most bloated table or index (at least 20% of it wasted by the estimate of pgmaint.bloat()), as the worker measured it within pgmaint.growth_interval.'),
    ('disk_full_eta', 30, 7,
     'Days until the data directory''s file system is full at the database''s growth rate of the last 7 days (the worker''s size history); 3650 when the database does not grow.');

-- Their Prometheus families (see pgmaint.check_metrics in 00-schema.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('bloat', 'pgmaint_bloat_wasted_max_bytes', 'bytes', 1048576,
     'Estimated wasted space of the most bloated table or index (one estimated at least 20% wasted), at the worker''s last space measurement.'),
    ('disk_full_eta', 'pgmaint_disk_full_eta_seconds', 'seconds', 86400,
     'Time until the data directory''s file system is full at the database''s growth rate of the last 7 days (3650 days when it does not grow).');

-- Sizes the worker recorded: the database (relid 0) and its largest tables.
CREATE TABLE pgmaint.size_history (
    taken_at timestamptz NOT NULL,
    relid    oid NOT NULL,
    bytes    bigint NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (taken_at, relid)
);

CREATE INDEX size_history_relid ON pgmaint.size_history (relid, taken_at);

COMMENT ON TABLE pgmaint.size_history IS
'Sizes the worker recorded every pgmaint.growth_interval: pg_database_size (relid 0) and pg_total_relation_size of the largest tables; kept for pgmaint.history_retention, not dumped.';

GRANT SELECT ON pgmaint.size_history TO pg_monitor;

-- The worst bloat estimates of the worker's last measurement.
CREATE TABLE pgmaint.bloat_estimates (
    taken_at     timestamptz NOT NULL,
    relid        oid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('table', 'index')),
    bytes        bigint NOT NULL CHECK (bytes >= 0),
    wasted_bytes bigint NOT NULL CHECK (wasted_bytes >= 0),
    PRIMARY KEY (relid)
);

COMMENT ON TABLE pgmaint.bloat_estimates IS
'The tables and indexes with the most estimated wasted space at the worker''s last measurement (pgmaint.bloat(), replaced each time); read by the bloat check. Not dumped.';

GRANT SELECT ON pgmaint.bloat_estimates TO pg_monitor;

-- The estimated ratio below which an object does not count as bloated (noise of the estimate).
CREATE FUNCTION pgmaint._bloat_min_ratio()
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 0.2::double precision $$;

COMMENT ON FUNCTION pgmaint._bloat_min_ratio() IS
'Internal: the estimated wasted share (0.2) from which pgmaint.bloat() flags an object and the bloat check counts it; below it the estimate is within its own error.';

REVOKE ALL ON FUNCTION pgmaint._bloat_min_ratio() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._bloat_min_ratio() TO pg_monitor;

-- The estimate: what each heap and btree index would take if packed at its
-- fillfactor, from the statistics' average widths and null fractions and
-- pg_class' reltuples, against its relpages (both from the last VACUUM or
-- ANALYZE, so they describe the same moment).  SECURITY DEFINER so that a
-- pg_monitor caller's estimate covers every table: pg_statistic is readable
-- by superusers only, and only widths and null fractions are read from it.
CREATE FUNCTION pgmaint._bloat_estimate(
    OUT relid oid, OUT table_relid oid, OUT kind text, OUT pages bigint,
    OUT expected_pages bigint, OUT bytes bigint, OUT wasted_bytes bigint,
    OUT ratio double precision)
RETURNS SETOF record
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH const AS (
        SELECT current_setting('block_size')::numeric AS bs,
               8 AS ma   -- MAXALIGN on the 64-bit platforms PostgreSQL 15 runs on
    ),
    tbl AS MATERIALIZED (
        SELECT c.oid, c.relpages, c.reltuples, c.relnatts,
               coalesce((SELECT split_part(o, '=', 2)::numeric FROM unnest(c.reloptions) o
                          WHERE o LIKE 'fillfactor=%'), 100) AS ff
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples >= 0
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
    ),
    heap AS (
        SELECT t.oid, t.oid AS table_oid, 'table'::text AS kind, t.relpages::bigint AS pages,
               CASE WHEN t.reltuples = 0 THEN 0 ELSE
                   ceil(t.reltuples / greatest(1, floor(floor((const.bs - 24) * t.ff / 100)
                       / (ceil((ceil((23 + CASE WHEN w.has_nulls THEN ceil(t.relnatts / 8.0) ELSE 0 END) / const.ma) * const.ma
                                + w.width) / const.ma) * const.ma + 4))))
               END::bigint AS expected
          FROM tbl t
          -- every live column with its statistics (an index lookup each); a
          -- column without any leaves the table out
          CROSS JOIN LATERAL (
              SELECT count(*) AS ncols, count(s.stawidth) AS with_stats,
                     bool_or(coalesce(s.stanullfrac, 0) > 0) AS has_nulls,
                     sum(s.stawidth * (1 - s.stanullfrac)) AS width
                FROM pg_attribute a
                LEFT JOIN pg_statistic s ON s.starelid = a.attrelid AND s.staattnum = a.attnum
                                        AND NOT s.stainherit
               WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped) w,
          const
         WHERE w.with_stats = w.ncols
    ),
    btree AS (
        -- btree indexes on plain columns: an 8-byte tuple header and the keys;
        -- leaf pages, one upper page per leaf page's worth of keys, the metapage
        SELECT x.indexrelid AS oid, x.indrelid AS table_oid, 'index'::text AS kind,
               x.relpages::bigint AS pages,
               (ceil(x.reltuples / x.per_page) + ceil(x.reltuples / x.per_page / x.per_page) + 1)::bigint
                   AS expected
          FROM (SELECT i.indexrelid, i.indrelid, ic.relpages, ic.reltuples,
                       greatest(1, floor(floor((const.bs - 24 - 16)
                                               * coalesce((SELECT split_part(o, '=', 2)::numeric
                                                             FROM unnest(ic.reloptions) o
                                                            WHERE o LIKE 'fillfactor=%'), 90) / 100)
                                         / (ceil((8 + w.width) / const.ma) * const.ma + 4))) AS per_page
                  FROM tbl t
                  JOIN pg_index i ON i.indrelid = t.oid
                  JOIN pg_class ic ON ic.oid = i.indexrelid
                  CROSS JOIN LATERAL (
                      SELECT count(*) AS nkeys, count(s.stawidth) AS with_stats,
                             sum(s.stawidth * (1 - s.stanullfrac)) AS width
                        FROM unnest(i.indkey::int2[]) k
                        LEFT JOIN pg_statistic s ON s.starelid = i.indrelid AND s.staattnum = k
                                                AND NOT s.stainherit) w,
                  const
                 WHERE ic.relam = (SELECT am.oid FROM pg_am am WHERE am.amname = 'btree')
                   AND i.indexprs IS NULL AND i.indisvalid
                   AND ic.relpages > 1 AND ic.reltuples >= 0
                   AND w.nkeys > 0 AND w.with_stats = w.nkeys) x
    )
    SELECT e.oid, e.table_oid, e.kind, e.pages, e.expected,
           (e.pages * const.bs)::bigint,
           (greatest(e.pages - e.expected, 0) * const.bs)::bigint,
           greatest(e.pages - e.expected, 0)::double precision / e.pages
      FROM (SELECT * FROM heap UNION ALL SELECT * FROM btree) e, const;
$$;

COMMENT ON FUNCTION pgmaint._bloat_estimate() IS
'Internal: per heap and btree index, the pages it would take packed at its fillfactor (from pg_statistic widths and null fractions, and reltuples) against its relpages; only objects whose columns all have statistics. SECURITY DEFINER: reads pg_statistic''s widths for pg_monitor.';

REVOKE ALL ON FUNCTION pgmaint._bloat_estimate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._bloat_estimate() TO pg_monitor;

-- Bloat of every user table and btree index: the estimate, or with exact =>
-- true pgstattuple's measurement (pgstattuple_approx for tables, pgstatindex
-- for indexes), which reads every page.
CREATE FUNCTION pgmaint.bloat(
    exact boolean DEFAULT false,
    OUT relid regclass, OUT table_name regclass, OUT kind text,
    OUT bytes bigint, OUT wasted_bytes bigint, OUT wasted_ratio double precision,
    OUT method text, OUT bloated boolean, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    stattuple name;
    r record;
BEGIN
    IF exact IS NULL THEN
        RAISE EXCEPTION '"exact" must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass false for the estimate, true to measure with pgstattuple.';
    END IF;
    IF exact THEN
        SELECT e.extnamespace::regnamespace::name INTO stattuple
          FROM pg_extension e WHERE e.extname = 'pgstattuple';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'pgstattuple is not installed in this database'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Run CREATE EXTENSION pgstattuple (contrib) for exact figures, or call pgmaint.bloat() for the estimate.';
        END IF;
    END IF;

    FOR r IN SELECT * FROM pgmaint._bloat_estimate() e ORDER BY e.wasted_bytes DESC, e.relid LOOP
        relid := r.relid;
        table_name := r.table_relid;
        kind := r.kind;
        IF NOT exact THEN
            bytes := r.bytes;
            wasted_bytes := r.wasted_bytes;
            wasted_ratio := r.ratio;
            method := 'estimate';
        ELSIF r.kind = 'table' THEN
            -- free space beyond what the fillfactor leaves free, and dead tuples
            EXECUTE format('SELECT s.table_len, s.approx_free_space + s.dead_tuple_len
                              FROM %I.pgstattuple_approx($1) s', stattuple)
               INTO bytes, wasted_bytes USING r.relid::regclass;
            wasted_ratio := CASE WHEN bytes > 0 THEN wasted_bytes::double precision / bytes END;
            method := 'pgstattuple_approx';
        ELSE
            -- leaf pages below the default btree fillfactor of 90%, and empty and deleted pages
            EXECUTE format('SELECT s.index_size,
                                   (greatest(0, 90 - s.avg_leaf_density) / 100 * s.leaf_pages
                                    + s.empty_pages + s.deleted_pages) * current_setting(''block_size'')::bigint
                              FROM %I.pgstatindex($1) s', stattuple)
               INTO bytes, wasted_bytes USING r.relid::regclass;
            wasted_ratio := CASE WHEN bytes > 0 THEN wasted_bytes::double precision / bytes END;
            method := 'pgstatindex';
        END IF;
        bloated := wasted_ratio >= pgmaint._bloat_min_ratio();
        suggestion := CASE WHEN NOT bloated THEN NULL
                           WHEN kind = 'index' THEN format('REINDEX INDEX CONCURRENTLY %s;', relid)
                           ELSE format('VACUUM (ANALYZE) %s; to reuse the space, or pg_repack / VACUUM FULL %s in a maintenance window (VACUUM FULL locks the table) to return it to the OS', table_name, table_name) END;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.bloat(boolean) IS
'Wasted space of each user table and btree index, most first. By default an estimate: the pages the rows would take packed at the fillfactor (average widths and null fractions from the statistics, reltuples) against relpages, both as of the last VACUUM/ANALYZE. exact => true measures with pgstattuple_approx/pgstatindex (reads every page; needs the pgstattuple extension). bloated marks a wasted share of at least 20%.';

REVOKE ALL ON FUNCTION pgmaint.bloat(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.bloat(boolean) TO pg_monitor;

-- Partitioned tables with their partitions' sizes and tuples summed.
CREATE FUNCTION pgmaint.partitioned_tables(
    OUT relid regclass, OUT partitions integer, OUT total_bytes bigint,
    OUT index_bytes bigint, OUT live_tuples bigint, OUT dead_tuples bigint,
    OUT dead_ratio double precision, OUT largest_partition regclass,
    OUT oldest_autovacuum timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::regclass, count(*)::integer,
           sum(pg_total_relation_size(l.relid))::bigint,
           sum(pg_indexes_size(l.relid))::bigint,
           sum(pg_stat_get_live_tuples(l.relid))::bigint,
           sum(pg_stat_get_dead_tuples(l.relid))::bigint,
           CASE WHEN sum(pg_stat_get_live_tuples(l.relid) + pg_stat_get_dead_tuples(l.relid)) > 0
                THEN (sum(pg_stat_get_dead_tuples(l.relid))
                      / sum(pg_stat_get_live_tuples(l.relid) + pg_stat_get_dead_tuples(l.relid)))::double precision
           END,
           (array_agg(l.relid ORDER BY pg_total_relation_size(l.relid) DESC, l.relid))[1]::regclass,
           min(greatest(pg_stat_get_last_autovacuum_time(l.relid), pg_stat_get_last_vacuum_time(l.relid)))
      FROM pg_class p
      JOIN pg_namespace n ON n.oid = p.relnamespace
      CROSS JOIN LATERAL (SELECT t.relid FROM pg_partition_tree(p.oid) t
                           JOIN pg_class c ON c.oid = t.relid
                          WHERE t.isleaf AND c.relkind = 'r') l
     WHERE p.relkind = 'p' AND NOT p.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     GROUP BY p.oid
     ORDER BY 3 DESC, 1;
$$;

COMMENT ON FUNCTION pgmaint.partitioned_tables() IS
'Each top-level partitioned table with its leaf partitions rolled up: how many, total and index bytes (stats every file), live and dead tuples, dead share, the largest partition and the oldest (auto)vacuum among them.';

REVOKE ALL ON FUNCTION pgmaint.partitioned_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.partitioned_tables() TO pg_monitor;

-- Index findings of partitioned indexes, judged at the parent: unused when
-- no partition's index was ever scanned.  (Duplicates among parents are found
-- by index_advice() itself.)
CREATE FUNCTION pgmaint._partitioned_index_findings(
    unused_min_bytes bigint,
    OUT kind text, OUT table_name regclass, OUT index_name regclass,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'unused'::text, i.indrelid::regclass, i.indexrelid::regclass,
           format('no scan of this index on any of its %s partitions since statistics were reset; %s',
                  count(*), pg_size_pretty(sum(pg_relation_size(t.relid))::bigint)),
           format('DROP INDEX %s;', i.indexrelid::regclass)
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = ic.relnamespace
      CROSS JOIN LATERAL (SELECT pt.relid FROM pg_partition_tree(i.indexrelid) pt WHERE pt.isleaf) t
     WHERE ic.relkind = 'I' AND NOT ic.relispartition
       AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     GROUP BY i.indrelid, i.indexrelid
    HAVING sum(pg_stat_get_numscans(t.relid)) = 0
       AND sum(pg_relation_size(t.relid)) >= unused_min_bytes;
$$;

COMMENT ON FUNCTION pgmaint._partitioned_index_findings(bigint) IS
'Internal: index_advice() rows for partitioned indexes (relkind I): unused when none of the partitions'' indexes was scanned, sized by their leaves.';

REVOKE ALL ON FUNCTION pgmaint._partitioned_index_findings(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._partitioned_index_findings(bigint) TO pg_monitor;

-- The worker's space step: this database's size, its largest tables' sizes
-- and the worst bloat estimates; prunes what history_retention no longer keeps.
CREATE FUNCTION pgmaint._record_space(tables integer DEFAULT 20)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    at timestamptz := clock_timestamp();
    n bigint;
BEGIN
    IF tables IS NULL OR tables < 0 THEN
        RAISE EXCEPTION '"tables" must be zero or more'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass how many of the largest tables to record, for example 20.';
    END IF;
    INSERT INTO pgmaint.size_history (taken_at, relid, bytes)
    SELECT at, 0, pg_database_size(current_database())
    UNION ALL
    SELECT at, l.relid, l.total_bytes FROM pgmaint._largest_tables(tables) l;
    GET DIAGNOSTICS n = ROW_COUNT;

    DELETE FROM pgmaint.bloat_estimates;
    INSERT INTO pgmaint.bloat_estimates (taken_at, relid, kind, bytes, wasted_bytes)
    SELECT at, e.relid, e.kind, e.bytes, e.wasted_bytes
      FROM pgmaint._bloat_estimate() e
     WHERE e.ratio >= pgmaint._bloat_min_ratio()
     ORDER BY e.wasted_bytes DESC, e.relid
     LIMIT 10;

    DELETE FROM pgmaint.size_history h
     WHERE h.taken_at < at - coalesce(nullif(current_setting('pgmaint.history_retention', true), '')::interval,
                                      interval '7 days');
    RETURN n;
END
$$;

COMMENT ON FUNCTION pgmaint._record_space(integer) IS
'Internal: the worker''s space step: appends pg_database_size and the largest tables'' total sizes to size_history, replaces bloat_estimates with the worst estimates, prunes size_history to pgmaint.history_retention; returns the size rows written.';

REVOKE ALL ON FUNCTION pgmaint._record_space(integer) FROM PUBLIC;

-- Growth of the database and its largest tables over a period, from size_history.
CREATE FUNCTION pgmaint.table_growth(
    since interval DEFAULT '7 days',
    OUT relid regclass, OUT name text, OUT bytes_then bigint, OUT bytes_now bigint,
    OUT growth_bytes bigint, OUT growth_per_day bigint, OUT measured_since timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM pgmaint._require_interval('since', since);
    RETURN QUERY
    WITH earliest AS (
        SELECT DISTINCT ON (h.relid) h.relid, h.taken_at, h.bytes
          FROM pgmaint.size_history h
         WHERE h.taken_at >= now() - since
         ORDER BY h.relid, h.taken_at
    ),
    cur AS (
        SELECT f.relid, f.taken_at, f.bytes,
               CASE WHEN f.relid = 0 THEN pg_database_size(current_database())
                    ELSE pg_total_relation_size(f.relid) END AS now_bytes
          FROM earliest f
         WHERE f.relid = 0 OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = f.relid)
    )
    SELECT CASE WHEN c.relid = 0 THEN NULL ELSE c.relid::regclass END,
           CASE WHEN c.relid = 0 THEN format('database %s', current_database())
                ELSE c.relid::regclass::text END,
           c.bytes, c.now_bytes, c.now_bytes - c.bytes,
           ((c.now_bytes - c.bytes)
            / greatest(extract(epoch FROM now() - c.taken_at) / 86400, 1.0 / 24))::bigint,
           c.taken_at
      FROM cur c
     ORDER BY c.relid <> 0, c.now_bytes - c.bytes DESC, c.relid;
END
$$;

COMMENT ON FUNCTION pgmaint.table_growth(interval) IS
'How much the database (first row, relid NULL) and each table the worker recorded grew since "since" ago: size then (the first record in the period) and now, growth and growth per day (the period is at least an hour).';

REVOKE ALL ON FUNCTION pgmaint.table_growth(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.table_growth(interval) TO pg_monitor;

-- The bloat and disk_full_eta checks, from the worker's last space measurement.
CREATE FUNCTION pgmaint._check_space(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    worst record;
    measured timestamptz;
    oldest record;
    avail bigint;
    rate numeric;
BEGIN
    -- like the other checks: unknown, never an error, for a caller that cannot see
    IF NOT has_table_privilege('pgmaint.size_history', 'SELECT')
       OR NOT has_table_privilege('pgmaint.bloat_estimates', 'SELECT') THEN
        value := NULL;
        message := 'cannot read the worker''s space measurements: the caller lacks pg_monitor';
        hint := 'Grant pg_monitor to the role that calls health().';
        check_name := 'bloat';
        RETURN NEXT;
        check_name := 'disk_full_eta';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT max(h.taken_at) INTO measured FROM pgmaint.size_history h WHERE h.relid = 0;

    check_name := 'bloat';
    SELECT b.relid, b.kind, b.bytes, b.wasted_bytes INTO worst
      FROM pgmaint.bloat_estimates b
     ORDER BY b.wasted_bytes DESC, b.relid LIMIT 1;
    IF measured IS NULL THEN
        value := NULL;
        message := 'not measured yet: the worker estimates bloat every pgmaint.growth_interval';
        hint := 'Wait for the worker''s next space measurement, or see pgmaint.bloat() now.';
    ELSIF worst.relid IS NULL THEN
        value := 0;
        message := format('no table or index is estimated %s%% wasted or more (measured %s)',
                          round(100 * pgmaint._bloat_min_ratio()),
                          to_char(measured, 'YYYY-MM-DD HH24:MI'));
        hint := 'See pgmaint.bloat().';
    ELSE
        value := round(worst.wasted_bytes / 1048576.0, 1);
        message := format('%s %s wastes an estimated %s of %s (%s%%; measured %s)',
                          worst.kind, worst.relid::regclass, pg_size_pretty(worst.wasted_bytes),
                          pg_size_pretty(worst.bytes), round(100.0 * worst.wasted_bytes / greatest(worst.bytes, 1)),
                          to_char(measured, 'YYYY-MM-DD HH24:MI'));
        hint := 'See pgmaint.bloat() (exact => true with pgstattuple): VACUUM lets the space be reused; REINDEX CONCURRENTLY an index, pg_repack or VACUUM FULL (in a maintenance window) a table to give it back.';
    END IF;
    RETURN NEXT;

    check_name := 'disk_full_eta';
    SELECT h.taken_at, h.bytes INTO oldest
      FROM pgmaint.size_history h
     WHERE h.relid = 0 AND h.taken_at >= now() - interval '7 days'
     ORDER BY h.taken_at LIMIT 1;
    IF NOT pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') THEN
        value := NULL;
        message := 'cannot see the data directory: the caller lacks pg_read_all_settings';
        hint := 'Grant pg_monitor to the role that calls health().';
    ELSIF oldest.taken_at IS NULL OR measured - oldest.taken_at < interval '1 hour' THEN
        value := NULL;
        message := 'not enough size history yet: the worker needs an hour of measurements';
        hint := 'See pgmaint.table_growth() once the worker has recorded sizes.';
    ELSE
        SELECT d.available_bytes INTO avail FROM pgmaint.disk_space() d;
        rate := ((SELECT h.bytes FROM pgmaint.size_history h WHERE h.relid = 0 AND h.taken_at = measured)
                 - oldest.bytes) / (extract(epoch FROM measured - oldest.taken_at) / 86400);
        IF rate <= 0 THEN
            value := 3650;
            message := format('the database did not grow since %s; %s available',
                              to_char(oldest.taken_at, 'YYYY-MM-DD HH24:MI'), pg_size_pretty(avail));
        ELSE
            value := least(3650, round(avail / rate, 1));
            message := format('%s available, the database grows %s a day (since %s): full in about %s days',
                              pg_size_pretty(avail), pg_size_pretty(rate::bigint),
                              to_char(oldest.taken_at, 'YYYY-MM-DD HH24:MI'), value);
        END IF;
        hint := 'See pgmaint.table_growth() for what grows; expire or archive old rows (pgmaint.retention), or grow the volume.';
    END IF;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_space() IS
'Internal: the bloat and disk_full_eta checks, from the worker''s last space measurement (bloat_estimates, size_history).';

REVOKE ALL ON FUNCTION pgmaint._check_space() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_space() TO pg_monitor;
-- Replication: the standbys of a primary, or a standby's own state, and the
-- replication checks.  The lag rule (positions first, so that an idle
-- primary does not look like a lagging standby) has one home, src/replication.c,
-- which the sampler uses too.

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('replication_lag', 30, 300,
     'Seconds of replay lag: on a primary the worst streaming standby''s, on a standby its own; 0 once everything received (or flushed) is replayed.'),
    ('replication_lag_bytes', 16777216, 1073741824,
     'Bytes of WAL not yet replayed: on a primary by the worst streaming standby (flushed minus replayed), on a standby what it received and has not replayed.'),
    ('standby_missing', 1, NULL,
     'Standbys missing: fewer streaming standbys than pgmaint.expected_standbys (0 turns the count off), plus each standby named in synchronous_standby_names that is not connected.'),
    ('wal_receiver', NULL, 1,
     'On a standby, 1 when its WAL receiver is not streaming from the primary; 0 otherwise (and on a primary).'),
    ('replay_paused', 1, NULL,
     'On a standby, 1 while WAL replay is paused (pg_wal_replay_pause()); 0 otherwise.');

-- Prometheus families of the replication checks (see pgmaint.check_metrics in 00-schema.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('replication_lag', 'pgmaint_replication_lag_seconds', 'seconds', 1,
     'Replay lag: on a primary the worst streaming standby''s, on a standby its own; 0 once everything flushed (or received) is replayed.'),
    ('replication_lag_bytes', 'pgmaint_replication_lag_bytes', 'bytes', 1,
     'WAL not yet replayed: on a primary by the worst streaming standby, on a standby what it received.'),
    ('standby_missing', 'pgmaint_standbys_missing', '', 1,
     'Streaming standbys short of pgmaint.expected_standbys, plus absent synchronous standbys.'),
    ('wal_receiver', 'pgmaint_wal_receiver_down', '', 1,
     'On a standby, 1 when its WAL receiver is not streaming.'),
    ('replay_paused', 'pgmaint_wal_replay_paused', '', 1,
     'On a standby, 1 while WAL replay is paused.');

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
-- health(): one summary of the server's health, built from health_checks().
-- PL/pgSQL throughout, so that a session plans each query once (see 80-checks.sql).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('connections', 80, 95,
     'Client connections in use, in % of usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later).'),
    ('idle_in_transaction', 60, 300,
     'Age in seconds of the oldest session idle in a transaction (a leaked connection holds locks and blocks vacuum; the guide''s limit is 5 minutes); aborted ones are idle_in_transaction_aborted.'),
    ('idle_in_transaction_aborted', 300, NULL,
     'Age in seconds of the oldest session idle in an aborted transaction (it holds a connection slot, but no locks and no snapshot).'),
    ('cache_hit', 95, 90,
     'Buffer cache hit ratio of this database, in %: over the last hour when the sampler watches this database, else since the statistics reset (the guide: should be above 95%).'),
    ('sampler', 3, NULL,
     'Sample intervals since the background worker''s last heartbeat: a stale heartbeat or a stopped worker turns it to warning; unknown when pgmaint is not preloaded.'),
    ('backup', 1, 2,
     'Backups recorded by pgmaint_backup: 0 ok, 1 no verified backup newer than pgmaint.backup_max_age (or none at all), 2 the last backup or the last restore drill failed.'),
    ('archiver', 1, NULL,
     'WAL archiving: 1 when the newest archiving attempt in pg_stat_archiver failed, 0 otherwise (and with archive_mode off).');

-- Sessions: connection slots in use, sessions idle in a transaction (the
-- lock-holding kind, and apart from it the aborted kind, which holds only a
-- slot) and the database's cache hit ratio.
CREATE FUNCTION pgmaint._check_sessions(
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
            -- the leak rule (pgmaint._leaked), split by kind: the aborted kind holds no locks
            SELECT s.aborted, count(a.pid) AS n,
                   max(extract(epoch FROM clock_timestamp() - a.state_change)) AS oldest,
                   (array_agg(a.pid ORDER BY a.state_change))[1] AS oldest_pid
              FROM (VALUES (false), (true)) AS s(aborted)
              LEFT JOIN activity a
                     ON pgmaint._leaked(a.state, a.state_change, interval '0')
                    AND (a.state = 'idle in transaction (aborted)') = s.aborted
             GROUP BY s.aborted
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
               'See who holds the connections in pgmaint.connections(), pgmaint.connection_sources() and pgmaint.connection_leaks(); size the pools with pgmaint.connection_budget().'
          FROM conn, slots
        UNION ALL
        SELECT CASE WHEN idle.aborted THEN 'idle_in_transaction_aborted' ELSE 'idle_in_transaction' END,
               CASE WHEN NOT can_see.all_stats THEN NULL
                    ELSE round(coalesce(idle.oldest, 0)::numeric, 1) END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'cannot see other roles'' sessions: the caller lacks pg_read_all_stats'
                    WHEN idle.n = 0 AND idle.aborted THEN 'no session is idle in an aborted transaction'
                    WHEN idle.n = 0 THEN 'no session is idle in a transaction'
                    WHEN idle.aborted
                        THEN format('%s session(s) idle in an aborted transaction, the oldest (pid %s) for %s: each holds a connection slot, no locks and no snapshot',
                                    idle.n, idle.oldest_pid,
                                    date_trunc('second', make_interval(secs => idle.oldest::float8)))
                    ELSE format('%s session(s) idle in a transaction, the oldest (pid %s) for %s',
                                idle.n, idle.oldest_pid,
                                date_trunc('second', make_interval(secs => idle.oldest::float8)))
               END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'Grant pg_monitor to the role that calls health().'
                    WHEN idle.aborted
                        THEN 'A statement failed and the application never sent ROLLBACK: the session keeps its connection slot until it does. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and roll back on errors in the code path.'
                    ELSE 'The application left a transaction open: it holds its locks and keeps vacuum from removing dead rows. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and fix the code path.'
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
          FROM cache;
END
$$;

COMMENT ON FUNCTION pgmaint._check_sessions() IS
'Internal: the connections, idle_in_transaction, idle_in_transaction_aborted and cache_hit checks.';

REVOKE ALL ON FUNCTION pgmaint._check_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_sessions() TO pg_monitor;

-- The sampler check: intervals since the worker's last heartbeat.
CREATE FUNCTION pgmaint._check_sampler(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
          FROM pgmaint.sampler_status() st;
END
$$;

COMMENT ON FUNCTION pgmaint._check_sampler() IS
'Internal: the sampler check.';

REVOKE ALL ON FUNCTION pgmaint._check_sampler() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_sampler() TO pg_monitor;

-- The measured value, message and hint of every check, before grading.  Each
-- check function runs in a block of its own: one that fails (an object it
-- cannot handle, a missing privilege) turns its checks to unknown, with the
-- error in the message, and every other check still answers.
CREATE FUNCTION pgmaint._measure_checks(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    f record;
    names text[];
    vals numeric[];
    msgs text[];
    hints text[];
    err text;
    state text;
BEGIN
    FOR f IN
        SELECT reg.fn, array_agg(reg.check_name ORDER BY reg.check_name) AS checks,
               EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                        WHERE p.oid = pg_catalog.to_regprocedure('pgmaint.' || reg.fn || '()')
                          AND 'check_name' = ANY (p.proargnames)) AS named
          FROM (VALUES
              -- one line per check: (check, the function of pgmaint that measures it)
              ('connections', '_check_sessions'),
              ('idle_in_transaction', '_check_sessions'),
              ('idle_in_transaction_aborted', '_check_sessions'),
              ('cache_hit', '_check_sessions'),
              ('long_running_queries', '_check_activity'),
              ('blocked_sessions', '_check_activity'),
              ('xid_wraparound', '_check_wraparound'),
              ('multixact_wraparound', '_check_wraparound'),
              ('invalid_indexes', '_check_catalog'),
              ('sequences', '_check_catalog'),
              ('prepared_transactions', '_check_retention'),
              ('inactive_slots', '_check_retention'),
              ('slot_wal_retention', '_check_retention'),
              ('table_cache_hit', '_check_tables'),
              ('dead_tuples', '_check_tables'),
              ('autovacuum_behind', '_check_tables'),
              ('disk_free', '_check_tables'),
              ('bloat', '_check_space'),
              ('disk_full_eta', '_check_space'),
              ('replication_lag', '_check_replication'),
              ('replication_lag_bytes', '_check_replication'),
              ('standby_missing', '_check_replication'),
              ('wal_receiver', '_check_replication'),
              ('replay_paused', '_check_replication'),
              ('vacuum_age', '_check_maintenance_age'),
              ('analyze_age', '_check_maintenance_age'),
              ('not_valid_constraints', '_check_schema'),
              ('disabled_triggers', '_check_schema'),
              ('checkpoints_requested', '_check_wal'),
              ('archive_ready', '_check_wal'),
              ('sampler', '_check_sampler'),
              ('backup', '_backup_check'),
              ('archiver', '_archiver_check'),
              ('retention', '_retention_check')
          ) AS reg(check_name, fn)
         GROUP BY reg.fn
         ORDER BY reg.fn
    LOOP
        BEGIN
            -- collected first, so that a failure half-way returns nothing of it
            EXECUTE format('SELECT array_agg(c.check_name), array_agg(c.value), array_agg(c.message), array_agg(c.hint)
                              FROM (SELECT %s AS check_name, r.value, r.message, r.hint
                                      FROM pgmaint.%I() r) c
                             WHERE c.check_name = ANY ($1)',
                           CASE WHEN f.named THEN 'r.check_name' ELSE quote_literal(f.checks[1]) END,
                           f.fn)
               INTO names, vals, msgs, hints
              USING f.checks;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            RETURN QUERY
                SELECT n, NULL::numeric,
                       format('the check failed: %s (SQLSTATE %s)', err, state),
                       format('pgmaint could not measure this check; the other checks still answer. Run SELECT * FROM pgmaint.%I(); to see the error, and report it to pgmaint''s maintainers.', f.fn)
                  FROM unnest(f.checks) AS n;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT u.n, u.v, u.m, u.h
              FROM unnest(names, vals, msgs, hints) AS u(n, v, m, h);
        -- a registered check its function did not answer
        RETURN QUERY
            SELECT n, NULL::numeric, 'the check gave no answer', NULL::text
              FROM unnest(f.checks) AS n
             WHERE n <> ALL (coalesce(names, '{}'));
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint._measure_checks() IS
'Internal: the raw value, message and hint of each health check, before grading against pgmaint.thresholds; a check whose function fails is returned with a NULL value (unknown) and the error in its message.';

REVOKE ALL ON FUNCTION pgmaint._measure_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._measure_checks() TO pg_monitor;

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
DECLARE
    overall text;
    checks jsonb;
BEGIN
    SELECT pgmaint._overall_status(array_agg(c.status)),
           coalesce(jsonb_agg(jsonb_build_object(
                        'check', c.check_name, 'status', c.status, 'value', c.value,
                        'warning', c.warning, 'critical', c.critical,
                        'message', c.message, 'hint', c.hint) ORDER BY c.check_name),
                    '[]'::jsonb)
      INTO overall, checks
      FROM pgmaint.health_checks() c;
    RETURN jsonb_build_object(
        'status', overall,
        'since', pgmaint._status_since(overall),
        'database', current_database(),
        'checked_at', clock_timestamp(),
        'role', CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END,
        'system_identifier', (SELECT s.system_identifier::text FROM pg_control_system() s),
        'sampler', pgmaint._sampler_summary(),
        'checks', checks);
END
$$;

COMMENT ON FUNCTION pgmaint.health() IS
'Summary of the server''s health as jsonb: overall status (the worst check) and since when it holds, the server''s role (primary or standby) and system identifier (a standby shares its primary''s), the sampler, and every check.';

GRANT EXECUTE ON FUNCTION pgmaint.health_checks() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.health() TO pg_monitor;
-- Health events (issue 15): the worker's record of each change of a check's
-- status, the NOTIFY payload it sends, and events() to read them back.
-- The worker (src/events.c) evaluates health_checks() every
-- pgmaint.health_interval and writes here on a primary; on a hot standby it
-- keeps the recent events in shared memory (_memory_events()).

CREATE TABLE pgmaint.health_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    check_name text NOT NULL,
    old_status text,
    new_status text NOT NULL,
    value numeric,
    message text,
    hint text,
    overall text NOT NULL
);

CREATE INDEX health_events_at_idx ON pgmaint.health_events (at);

COMMENT ON TABLE pgmaint.health_events IS
'One row per change of a health check''s status seen by the worker (old_status NULL: the first status recorded for the check); overall is the overall status after the change.  Pruned after pgmaint.history_retention.';

-- The overall status of a set of check statuses: the worst, unknown counting as ok.
CREATE FUNCTION pgmaint._overall_status(statuses text[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN 'critical' = ANY (statuses) THEN 'critical'
                WHEN 'warning' = ANY (statuses) THEN 'warning'
                ELSE 'ok' END;
$$;

COMMENT ON FUNCTION pgmaint._overall_status(text[]) IS
'Internal: the overall health status of a set of check statuses (the worst; unknown counts as ok).';

-- The NOTIFY payload of one event: compact JSON, the message cut so that the
-- payload stays far below NOTIFY's 8000-byte limit.
CREATE FUNCTION pgmaint._health_event_payload(
    at timestamptz, check_name text, old_status text, new_status text,
    value numeric, message text, overall text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_build_object(
               'at', at, 'database', pg_catalog.current_database(),
               'check', check_name, 'old_status', old_status, 'new_status', new_status,
               'value', value, 'overall', overall,
               'message', pg_catalog."left"(message, 500))::text;
$$;

COMMENT ON FUNCTION pgmaint._health_event_payload(timestamptz, text, text, text, numeric, text, text) IS
'Internal: the JSON payload of NOTIFY pgmaint_health for one event (the message cut to 500 characters, never the JSON).';

CREATE FUNCTION pgmaint._memory_events(
    OUT at timestamptz, OUT check_name text, OUT old_status text, OUT new_status text,
    OUT value text, OUT message text, OUT hint text, OUT overall text)
RETURNS SETOF record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_memory_events';

COMMENT ON FUNCTION pgmaint._memory_events() IS
'Internal: the recent health events the worker kept in shared memory on a hot standby (none when pgmaint is not preloaded).';

CREATE FUNCTION pgmaint.events(since timestamptz DEFAULT NULL,
    OUT at timestamptz, OUT check_name text, OUT old_status text, OUT new_status text,
    OUT value numeric, OUT message text, OUT hint text, OUT overall text, OUT source text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT e.at, e.check_name, e.old_status, e.new_status, e.value, e.message,
               e.hint, e.overall, 'table'::text
          FROM pgmaint.health_events e
         WHERE since IS NULL OR e.at OPERATOR(pg_catalog.>=) since
        UNION ALL
        SELECT m.at, m.check_name, m.old_status, m.new_status, m.value::numeric, m.message,
               m.hint, m.overall, 'memory'::text
          FROM pgmaint._memory_events() m
         WHERE since IS NULL OR m.at OPERATOR(pg_catalog.>=) since
         ORDER BY 1, 9;
END
$$;

COMMENT ON FUNCTION pgmaint.events(timestamptz) IS
'Health events since a time (all when NULL), oldest first: source "table" for pgmaint.health_events, "memory" for those a hot standby''s worker kept in shared memory.';

-- When the current overall status began: the first event of the latest run
-- of events whose overall status is this one (NULL when no event recorded it).
CREATE FUNCTION pgmaint._status_since(status text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text := CASE WHEN pg_catalog.pg_is_in_recovery() THEN 'memory' ELSE 'table' END;
BEGIN
    RETURN (WITH e AS (SELECT * FROM pgmaint.events(NULL) x WHERE x.source = src)
        SELECT pg_catalog.min(e.at)
          FROM e
         WHERE e.overall = status
           AND e.at > coalesce((SELECT pg_catalog.max(d.at) FROM e d WHERE d.overall <> status),
                               '-infinity'));
EXCEPTION
    -- a caller that may run health() but not read the events gets no since
    WHEN insufficient_privilege THEN
        RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgmaint._status_since(text) IS
'Internal: when the overall status "status" began, from the worker''s health events (NULL when no event recorded it, or when the caller may not read them).';

REVOKE ALL ON TABLE pgmaint.health_events FROM PUBLIC;
GRANT SELECT ON TABLE pgmaint.health_events TO pg_monitor;
REVOKE ALL ON FUNCTION pgmaint._overall_status(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._overall_status(text[]) TO pg_monitor;
REVOKE ALL ON FUNCTION pgmaint._health_event_payload(timestamptz, text, text, text, numeric, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._health_event_payload(timestamptz, text, text, text, numeric, text, text) TO pg_monitor;
REVOKE ALL ON FUNCTION pgmaint._memory_events() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._memory_events() TO pg_monitor;
REVOKE ALL ON FUNCTION pgmaint.events(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.events(timestamptz) TO pg_monitor;
REVOKE ALL ON FUNCTION pgmaint._status_since(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._status_since(text) TO pg_monitor;
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

-- The Prometheus family of each check (see pgmaint.check_metrics in
-- 00-schema.sql): base units, the scale from the check's value, the HELP text.
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('connections', 'pgmaint_connections_used_ratio', 'ratio', 0.01,
     'Client connections in use as a share of the usable slots (max_connections - superuser_reserved_connections).'),
    ('idle_in_transaction', 'pgmaint_idle_in_transaction_oldest_seconds', 'seconds', 1,
     'How long the oldest session has been idle in a transaction (0 when none is).'),
    ('idle_in_transaction_aborted', 'pgmaint_idle_in_aborted_transaction_oldest_seconds', 'seconds', 1,
     'How long the oldest session has been idle in an aborted transaction (0 when none is).'),
    ('cache_hit', 'pgmaint_cache_hit_ratio', 'ratio', 0.01,
     'Buffer cache hit ratio of this database: over the last hour when the sampler watches it, else since the statistics reset.'),
    ('sampler', 'pgmaint_sampler_heartbeat_age_intervals', '', 1,
     'Age of the background worker''s heartbeat, in sample intervals (pgmaint.sample_interval).'),
    ('backup', 'pgmaint_backup_state', '', 1,
     'Backups recorded by pgmaint_backup: 0 ok, 1 no verified backup newer than pgmaint.backup_max_age, 2 the last backup or restore drill failed.'),
    ('archiver', 'pgmaint_archiver_failing', '', 1,
     'WAL archiving: 1 when the newest archiving attempt in pg_stat_archiver failed, else 0.'),
    ('long_running_queries', 'pgmaint_longest_query_seconds', 'seconds', 1,
     'How long the longest active statement has run (0 when none runs).'),
    ('blocked_sessions', 'pgmaint_longest_lock_wait_seconds', 'seconds', 1,
     'How long the longest lock wait has lasted (0 when none waits).'),
    ('xid_wraparound', 'pgmaint_xid_age_ratio', 'ratio', 0.01,
     'age(datfrozenxid) of the oldest database as a ratio of autovacuum_freeze_max_age (1 starts anti-wraparound vacuum; writes stop near 10).'),
    ('multixact_wraparound', 'pgmaint_multixact_age_ratio', 'ratio', 0.01,
     'mxid_age(datminmxid) of the oldest database as a ratio of autovacuum_multixact_freeze_max_age.'),
    ('invalid_indexes', 'pgmaint_invalid_indexes', '', 1,
     'Indexes of this database left invalid by a failed CREATE INDEX CONCURRENTLY or REINDEX.'),
    ('sequences', 'pgmaint_sequence_used_ratio', 'ratio', 0.01,
     'Highest share of a sequence''s range already used, in this database.'),
    ('prepared_transactions', 'pgmaint_prepared_transaction_oldest_seconds', 'seconds', 1,
     'Age of the oldest prepared transaction (0 when there is none).'),
    ('inactive_slots', 'pgmaint_inactive_replication_slots', '', 1,
     'Replication slots that no client uses.'),
    ('slot_wal_retention', 'pgmaint_replication_slot_wal_retained_bytes', 'bytes', 1048576,
     'WAL retained by the replication slot that holds the most (0.1 MB resolution).'),
    ('table_cache_hit', 'pgmaint_table_cache_hit_min_ratio', 'ratio', 0.01,
     'Lowest heap cache hit ratio among tables with at least 1,000 heap block reads from outside shared buffers (NaN while none has).'),
    ('dead_tuples', 'pgmaint_dead_tuples_max_ratio', 'ratio', 0.01,
     'Highest share of dead tuples among tables with at least 1,000 live + dead tuples.'),
    ('autovacuum_behind', 'pgmaint_autovacuum_behind_tables', '', 1,
     'Tables where autovacuum falls behind (as vacuum_stats().falling_behind).'),
    ('disk_free', 'pgmaint_disk_available_ratio', 'ratio', 0.01,
     'Available share of the data directory''s file system.');

-- Every family metrics() can show, with its type, HELP text and the labels
-- it adds to database and system_identifier: the fixed families, then one
-- per row of pgmaint.check_metrics.  One home for names and HELP texts:
-- metric_samples() and deploy/prometheus/queries.yaml take them from here.
CREATE FUNCTION pgmaint.metric_families(
    OUT family text, OUT type text, OUT help text, OUT labels text[])
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT f.family, f.type, f.help, f.labels
          FROM (VALUES
            ('pgmaint_up', 'gauge',
             '1 when the background worker''s heartbeat is fresh (the sampler check is ok), else 0.', '{}'::text[]),
            ('pgmaint_status', 'gauge',
             'Overall health: the worst check, 0 ok, 1 warning, 2 critical.', '{}'),
            ('pgmaint_last_sample_timestamp_seconds', 'gauge',
             'When the background worker took its last sample, in seconds since the Unix epoch (NaN before the first).', '{}'),
            ('pgmaint_samples_total', 'counter',
             'Samples the background worker has taken since the server started.', '{}'),
            ('pgmaint_in_recovery', 'gauge',
             '1 when the server is a standby in recovery, else 0.', '{}'),
            ('pgmaint_client_backends_waiting_on_lock', 'gauge',
             'Client backends waiting on a lock, from the worker''s last sample (NaN without one).', '{}'),
            ('pgmaint_build_info', 'gauge',
             'Always 1: the installed pgmaint version and the server version.', '{version,pg_version}'),
            ('pgmaint_client_backends', 'gauge',
             'Client backends of the whole server by state (pg_stat_activity.state), from the worker''s last sample.', '{state}'),
            ('pgmaint_check_status', 'gauge',
             'Status of each health check: 0 ok, 1 warning, 2 critical, -1 unknown.', '{check}'),
            ('pgmaint_check_warning_threshold', 'gauge',
             'Warning level of each check, in the unit of its value family (NaN when unset; below the critical level when lower values are worse).', '{check}'),
            ('pgmaint_check_critical_threshold', 'gauge',
             'Critical level of each check, in the unit of its value family (NaN when unset).', '{check}'),
            ('pgmaint_check_raw_value', 'gauge',
             'Value of each check that has no family of its own in pgmaint.check_metrics, in the check''s own unit (pgmaint.thresholds.description).', '{check}')
          ) AS f(family, type, help, labels)
        UNION ALL
        SELECT m.family, 'gauge', m.help, '{}'::text[]
          FROM pgmaint.check_metrics m;
END
$$;

COMMENT ON FUNCTION pgmaint.metric_families() IS
'Every Prometheus family metrics() can show: name, type, HELP text and the labels it adds to database and system_identifier.';

REVOKE ALL ON FUNCTION pgmaint.metric_families() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metric_families() TO pg_monitor;

-- Every sample of metrics(), as rows: one health_checks() pass, the worker's
-- status and its last sample.  A family without extra labels always has its
-- one sample, NaN (a NULL value) when there is no number (unknown check,
-- disabled check, no sample yet); per-check families have a sample per
-- enabled check (thresholds NaN when unset); pgmaint_check_raw_value only for
-- the checks without a row in pgmaint.check_metrics; pgmaint_client_backends
-- only once the worker has sampled.  Every series has the labels database
-- and system_identifier.
CREATE FUNCTION pgmaint.metric_samples(
    OUT family text, OUT type text, OUT help text, OUT labels jsonb, OUT value double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    common  jsonb;
    st      record;
    last    pgmaint.sample_history%ROWTYPE;
BEGIN
    common := jsonb_build_object(
        'database', current_database(),
        'system_identifier', (SELECT s.system_identifier::text FROM pg_catalog.pg_control_system() s));
    SELECT * INTO st FROM pgmaint.sampler_status();
    IF pgmaint.preloaded() AND st.last_sample_at IS NOT NULL THEN
        SELECT x.sampled_at, x.active, x.idle, x.idle_in_transaction,
               x.idle_in_transaction_aborted, x.waiting_on_lock
          INTO last.sampled_at, last.active, last.idle, last.idle_in_transaction,
               last.idle_in_transaction_aborted, last.waiting_on_lock
          FROM pgmaint.samples(st.last_sample_at) x
         ORDER BY x.sampled_at DESC LIMIT 1;
    END IF;

    RETURN QUERY
        WITH h AS MATERIALIZED (
            SELECT h.check_name, h.status, h.value, h.warning, h.critical,
                   m.family AS named, coalesce(m.scale, 1) AS scale,
                   CASE h.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1
                                 WHEN 'critical' THEN 2 ELSE -1 END AS code
              FROM pgmaint.health_checks() h
              LEFT JOIN pgmaint.check_metrics m ON m.check_name = h.check_name
        ),
        s (family, labels, value) AS (
            SELECT 'pgmaint_up', common,
                   coalesce((SELECT (h.status = 'ok')::int FROM h WHERE h.check_name = 'sampler'),
                            coalesce(st.running, false)::int)::float8
            UNION ALL
            SELECT 'pgmaint_status', common, greatest(coalesce((SELECT max(h.code) FROM h), 0), 0)::float8
            UNION ALL
            SELECT 'pgmaint_last_sample_timestamp_seconds', common,
                   extract(epoch FROM st.last_sample_at)::float8
            UNION ALL
            SELECT 'pgmaint_samples_total', common, coalesce(st.samples_taken, 0)::float8
            UNION ALL
            SELECT 'pgmaint_in_recovery', common, pg_is_in_recovery()::int::float8
            UNION ALL
            SELECT 'pgmaint_client_backends_waiting_on_lock', common, last.waiting_on_lock::float8
            UNION ALL
            SELECT 'pgmaint_build_info',
                   common || jsonb_build_object(
                       'version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'pgmaint'),
                       'pg_version', current_setting('server_version')),
                   1::float8
            UNION ALL
            SELECT 'pgmaint_client_backends', common || jsonb_build_object('state', b.state), b.n::float8
              FROM (VALUES ('active', last.active), ('idle', last.idle),
                           ('idle in transaction', last.idle_in_transaction),
                           ('idle in transaction (aborted)', last.idle_in_transaction_aborted)) AS b(state, n)
             WHERE last.sampled_at IS NOT NULL
            UNION ALL
            SELECT 'pgmaint_check_status', common || jsonb_build_object('check', h.check_name), h.code::float8
              FROM h
            UNION ALL
            SELECT 'pgmaint_check_warning_threshold', common || jsonb_build_object('check', h.check_name),
                   (h.warning * h.scale)::float8
              FROM h
            UNION ALL
            SELECT 'pgmaint_check_critical_threshold', common || jsonb_build_object('check', h.check_name),
                   (h.critical * h.scale)::float8
              FROM h
            UNION ALL
            SELECT 'pgmaint_check_raw_value', common || jsonb_build_object('check', h.check_name), h.value::float8
              FROM h WHERE h.named IS NULL
            UNION ALL
            SELECT m.family, common, (h.value * m.scale)::float8
              FROM pgmaint.check_metrics m
              LEFT JOIN h ON h.check_name = m.check_name
        )
        SELECT s.family, f.type, f.help, s.labels, s.value
          FROM s JOIN pgmaint.metric_families() f ON f.family = s.family;
END
$$;

COMMENT ON FUNCTION pgmaint.metric_samples() IS
'The samples of metrics() as rows (family, type, help, labels, value; NULL value = NaN), for exporters that run SQL such as postgres_exporter.';

REVOKE ALL ON FUNCTION pgmaint.metric_samples() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metric_samples() TO pg_monitor;

-- Renders a sample value in the exposition format: NaN, +Inf, -Inf or the number.
CREATE FUNCTION pgmaint._prom_value(value double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN value IS NULL OR value = 'NaN'::float8 THEN 'NaN'
                WHEN value = 'Infinity'::float8 THEN '+Inf'
                WHEN value = '-Infinity'::float8 THEN '-Inf'
                ELSE value::text END;
$$;

COMMENT ON FUNCTION pgmaint._prom_value(double precision) IS
'Internal: a sample value in the Prometheus text exposition format (NULL and NaN as NaN, infinities as +Inf and -Inf).';

REVOKE ALL ON FUNCTION pgmaint._prom_value(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._prom_value(double precision) TO pg_monitor;

CREATE FUNCTION pgmaint.metrics()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        WITH s AS (
            SELECT m.family, m.type, m.help, pgmaint._prom_value(m.value) AS value,
                   (SELECT string_agg(format('%s="%s"', l.key, pgmaint._prom_label(l.value)), ','
                                      ORDER BY CASE l.key WHEN 'database' THEN 0
                                                          WHEN 'system_identifier' THEN 1 ELSE 2 END,
                                               l.key)
                      FROM jsonb_each_text(m.labels) l) AS labels
              FROM pgmaint.metric_samples() m
        ),
        f AS (
            SELECT s.family,
                   format('# HELP %s %s', s.family,
                          replace(replace(min(s.help), E'\\', E'\\\\'), E'\n', E'\\n')) || E'\n'
                   || format('# TYPE %s %s', s.family, min(s.type)) || E'\n'
                   || string_agg(format('%s{%s} %s', s.family, s.labels, s.value), E'\n'
                                 ORDER BY s.labels) || E'\n' AS block
              FROM s
             GROUP BY s.family
        )
        SELECT coalesce(string_agg(f.block, '' ORDER BY f.family), '') FROM f);
END
$$;

COMMENT ON FUNCTION pgmaint.metrics() IS
'Health in the Prometheus text exposition format, in base units: pgmaint_up, pgmaint_status, pgmaint_check_status and the thresholds per check, one family per check value (pgmaint.check_metrics), the worker''s figures and pgmaint_build_info; the rows are pgmaint.metric_samples().';

REVOKE ALL ON FUNCTION pgmaint.metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metrics() TO pg_monitor;

-- The opt-in family pgmaint_check_worst_table_info{check,table}: the table
-- each table-level check names in its message.  Table names are labels of
-- unbounded values, so metrics() never shows them; append this to it where
-- the series churn is acceptable.  The figures are the ones _check_tables()
-- grades: the worker's last sample when fresh, else computed now.
CREATE FUNCTION pgmaint.metrics_tables()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f      record;
    common text;
    body   text;
BEGIN
    SELECT s.hit_relid, s.dead_relid, s.falling_relid INTO f FROM pgmaint._table_health_sampled() s;
    IF NOT FOUND THEN
        SELECT h.hit_relid, h.dead_relid, h.falling_relid INTO f FROM pgmaint._table_health(1000, 1000) h;
    END IF;
    common := format('database="%s",system_identifier="%s"', pgmaint._prom_label(current_database()),
                     (SELECT s.system_identifier FROM pg_catalog.pg_control_system() s));
    SELECT string_agg(format('pgmaint_check_worst_table_info{%s,check="%s",table="%s"} 1', common,
                             t.check_name, pgmaint._prom_label(t.relid::regclass::text)),
                      E'\n' ORDER BY t.check_name)
      INTO body
      FROM (VALUES ('autovacuum_behind', f.falling_relid), ('dead_tuples', f.dead_relid),
                   ('table_cache_hit', f.hit_relid)) AS t(check_name, relid)
     WHERE t.relid IS NOT NULL
       AND coalesce((SELECT th.enabled FROM pgmaint.thresholds th WHERE th.check_name = t.check_name), true);
    RETURN '# HELP pgmaint_check_worst_table_info Always 1: the table a table-level check names (opt-in: a label per table).' || E'\n'
        || '# TYPE pgmaint_check_worst_table_info gauge' || E'\n'
        || coalesce(body || E'\n', '');
END
$$;

COMMENT ON FUNCTION pgmaint.metrics_tables() IS
'Opt-in exposition family pgmaint_check_worst_table_info{check,table}: the table each table-level check (table_cache_hit, dead_tuples, autovacuum_behind) names; append it to metrics().';

REVOKE ALL ON FUNCTION pgmaint.metrics_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metrics_tables() TO pg_monitor;

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
                                      ELSE 'not running' END) || E'\n'
        || pgmaint._report_sparklines();

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
                 FROM pgmaint._largest_tables(10)$q$)
        || pgmaint._report_section('Index advice',
            $q$SELECT kind, coalesce(index_name::text, table_name::text) AS object, suggestion
                 FROM pgmaint.index_advice()$q$)
        || pgmaint._report_section('Autovacuum policy suggestions',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      current_profile AS current, suggested_profile AS suggested, reason
                 FROM pgmaint.recommend_profiles()
                WHERE suggested_profile IS DISTINCT FROM current_profile
                  AND suggested_profile IS NOT NULL$q$)
        || pgmaint._report_section('Retention',
            $q$SELECT relid AS "table", column_name AS "column", keep,
                      coalesce(archive::text, CASE partitions WHEN 'detach' THEN 'partitions kept detached' END) AS archive,
                      date_trunc('second', now() - oldest_row_at) AS oldest_age,
                      to_char(last_run_at, 'MM-DD HH24:MI') AS last_run,
                      last_result ->> 'removed' AS removed, last_result ->> 'stopped' AS stopped
                 FROM pgmaint.retention ORDER BY 1::text$q$)
        || pgmaint._report_section('Settings advice',
            $q$SELECT name, current, recommended, status, reason
                 FROM pgmaint.settings_advice()
                WHERE status <> 'ok'$q$);
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint.report() IS
'A text report for psql, at most 100 columns wide: status, sparklines of the last hour, checks, connections, leaks, locks, cache, vacuum, sizes, index advice, policy, retention and settings advice.';

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

-- Evaluates one checklist item from a query returning (status, evidence, fix),
-- run with health()'s "checks" array as $1; an item whose evidence cannot be
-- read is unknown, with the reason.
CREATE FUNCTION pgmaint._checklist_item(item text, query text, checks jsonb)
RETURNS pgmaint.checklist_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.checklist_item;
BEGIN
    r.item := item;
    EXECUTE query INTO r.status, r.evidence, r.fix USING checks;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN ROW(item, 'unknown', SQLERRM, NULL)::pgmaint.checklist_item;
END
$$;

COMMENT ON FUNCTION pgmaint._checklist_item(text, text, jsonb) IS
'Internal: one checklist() item from a query of (status, evidence, fix) run with health()''s checks as $1; unknown with the error when the query fails.';

-- The verdict of a checklist item graded by health checks (so by
-- pgmaint.thresholds), from health()'s "checks" array: fail when one of them
-- is warning or critical, unknown when one is unknown or disabled (or the
-- checks could not run: NULL), else pass; the evidence is their messages.
CREATE FUNCTION pgmaint._checks_verdict(names text[], checks jsonb, OUT status text, OUT evidence text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF checks IS NULL THEN
        status := 'unknown';
        evidence := 'the health checks could not run';
        RETURN;
    END IF;
    SELECT CASE WHEN bool_or(h ->> 'status' IN ('warning', 'critical')) THEN 'fail'
                WHEN bool_or(h IS NULL OR h ->> 'status' = 'unknown') THEN 'unknown'
                ELSE 'pass' END,
           string_agg(CASE WHEN h IS NULL
                           THEN format('%s: disabled in pgmaint.thresholds', c.name)
                           ELSE format('%s %s: %s', c.name, h ->> 'status', h ->> 'message') END,
                      '; ' ORDER BY c.n)
      INTO status, evidence
      FROM unnest(names) WITH ORDINALITY AS c(name, n)
      LEFT JOIN jsonb_array_elements(checks) h ON h ->> 'check' = c.name;
END
$$;

COMMENT ON FUNCTION pgmaint._checks_verdict(text[], jsonb) IS
'Internal: a checklist() item graded by the named checks of health()''s "checks" array: fail (one is warning or critical), unknown (one is unknown or disabled, or checks is NULL) or pass, with their messages as evidence.';

REVOKE ALL ON FUNCTION pgmaint._checks_verdict(text[], jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checks_verdict(text[], jsonb) TO pg_monitor;

-- The checklist, graded by the given health()'s "checks" array (NULL: the
-- checks could not run); report_html() passes the checks it has already run.
CREATE FUNCTION pgmaint._checklist(checks jsonb)
RETURNS SETOF pgmaint.checklist_item
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
SELECT c.*
  FROM (VALUES
    (1, 'connection pooling', $q$
        WITH v AS (SELECT * FROM pgmaint._checks_verdict(ARRAY['connections', 'idle_in_transaction'], $1)),
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
          FROM pgmaint.backup_status() b, pgmaint._checks_verdict(ARRAY['backup'], $1) v $q$),
    (6, 'monitoring', $q$
        SELECT CASE WHEN NOT s.running THEN 'fail' ELSE v.status END,
               CASE WHEN s.running
                    THEN format('sampler pid %s, %s samples, the last at %s; %s', s.pid, s.samples_taken,
                                to_char(s.last_sample_at, 'YYYY-MM-DD HH24:MI:SS'), v.evidence)
                    ELSE 'the sampler is not running: ' || coalesce(s.last_error, 'no reason recorded') END,
               CASE WHEN NOT s.running OR v.status = 'fail'
                    THEN 'Add pgmaint to shared_preload_libraries, set pgmaint.database and restart; poll pgmaint.health() from /healthz/db.'
               END
          FROM pgmaint.sampler_status() s, pgmaint._checks_verdict(ARRAY['sampler'], $1) v $q$),
    (7, 'indexes on keys and foreign keys', $q$
        WITH fk AS (SELECT count(*) AS n FROM pgmaint._fk_without_index()),
        nokey AS (
            SELECT count(*) AS n, string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) AS names
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmaint')
               AND ns.nspname NOT LIKE 'pg\_toast%' AND ns.nspname NOT LIKE 'pg\_temp%'
               AND c.oid NOT IN (SELECT d.objid FROM pg_catalog.pg_depend d  -- the tables extensions own
                                  WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
                                    AND d.deptype = 'e')
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
                    THEN 'Archive or delete old rows of the largest tables (pgmaint.table_sizes()) with pgmaint.set_retention() (dry run: pgmaint.retention_plan()), prune backups, VACUUM FULL bloated tables in a maintenance window.'
               END
          FROM pgmaint.disk_space() d, pgmaint._checks_verdict(ARRAY['disk_free'], $1) v $q$)
  ) AS items(n, item, query)
 CROSS JOIN LATERAL pgmaint._checklist_item(items.item, items.query, checks) c
 ORDER BY items.n;
$body$;

COMMENT ON FUNCTION pgmaint._checklist(jsonb) IS
'Internal: checklist() graded by the given health() "checks" array (NULL: unknown where a check grades the item).';

REVOKE ALL ON FUNCTION pgmaint._checklist(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checklist(jsonb) TO pg_monitor;

CREATE FUNCTION pgmaint.checklist()
RETURNS SETOF pgmaint.checklist_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    checks jsonb;
BEGIN
    BEGIN
        checks := pgmaint.health() -> 'checks';
    EXCEPTION WHEN OTHERS THEN
        checks := NULL;         -- the items the checks grade are unknown
    END;
    RETURN QUERY SELECT * FROM pgmaint._checklist(checks);
END
$$;

COMMENT ON FUNCTION pgmaint.checklist() IS
'The guide''s Performance Tuning Checklist, item by item: pass, fail or unknown, with the evidence and the fix; items with a health check (connections, backups, monitoring, disk space) are graded by it, so by pgmaint.thresholds.';
-- report_html(): one self-contained HTML page (inline CSS and SVG, no script,
-- no URL) with the health checks, charts of the samples and the reports'
-- tables; and the sparklines of report()'s header.  Every value read from the
-- database reaches the page through pgmaint._html().

-- Escapes text for HTML element content and double- or single-quoted attributes.
CREATE FUNCTION pgmaint._html(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        replace(replace(replace(replace(replace(
            regexp_replace(value, E'[\\x01-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]', '', 'g'),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'),
        '');
$$;

COMMENT ON FUNCTION pgmaint._html(text) IS
'Internal: text escaped for HTML content and attributes (& < > " and ''; control characters dropped; NULL gives an empty string). report_html() passes every value from the database through it.';

-- A number in at most about five characters: 12, 3.5, 12.3k, 4.1M.
CREATE FUNCTION pgmaint._short_number(value double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN value IS NULL THEN ''
        WHEN abs(value) >= 1e9 THEN round((value / 1e9)::numeric, 1)::text || 'G'
        WHEN abs(value) >= 1e6 THEN round((value / 1e6)::numeric, 1)::text || 'M'
        WHEN abs(value) >= 1e4 THEN round((value / 1e3)::numeric, 1)::text || 'k'
        WHEN value = trunc(value) THEN trunc(value)::bigint::text
        WHEN abs(value) >= 100 THEN round(value::numeric)::text
        WHEN abs(value) >= 10 THEN round(value::numeric, 1)::text
        ELSE round(value::numeric, 2)::text
    END;
$$;

COMMENT ON FUNCTION pgmaint._short_number(double precision) IS
'Internal: a number shortened for chart axes and sparklines (k, M, G; at most two decimals).';

-- The samples of the period, one row per sample with per-interval rates:
-- sample_history, and the ring for samples the history lacks.
CREATE FUNCTION pgmaint._report_samples(
    since interval,
    OUT sampled_at timestamptz,
    OUT running integer,
    OUT waiting integer,
    OUT idle_in_transaction integer,
    OUT idle integer,
    OUT client_backends integer,
    OUT idle_in_transaction_age double precision,
    OUT cache_hit_pct double precision,
    OUT commits_per_sec double precision,
    OUT rollbacks_per_sec double precision,
    OUT dead_tuples bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    from_time timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) since;
    history   boolean := pg_catalog.has_table_privilege('pgmaint.sample_history', 'SELECT');
    ring      boolean := false;
    cols      text := 'sampled_at, active, idle, idle_in_transaction, idle_in_transaction_aborted, '
                      'waiting_on_lock, client_backends, longest_idle_in_transaction_age, '
                      'xact_commit, xact_rollback, blks_hit, blks_read, dead_tuples';
    src       text;
BEGIN
    -- the ring holds the samples of the worker's database only
    BEGIN
        SELECT s.running AND s.database OPERATOR(pg_catalog.=) pg_catalog.current_database()
          INTO ring FROM pgmaint.sampler_status() s;
        IF ring THEN
            PERFORM 1 FROM pgmaint.samples(from_time) LIMIT 1;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        ring := false;
    END;
    ring := coalesce(ring, false);

    src := CASE WHEN history THEN
               format('SELECT %s FROM pgmaint.sample_history h WHERE h.sampled_at OPERATOR(pg_catalog.>=) $1', cols)
           ELSE format('SELECT %s FROM pgmaint.sample_history h WHERE false', cols) END;
    IF ring THEN
        src := src || format(' UNION ALL SELECT %s FROM pgmaint.samples($1) r', cols)
            || CASE WHEN history THEN
                   ' WHERE NOT EXISTS (SELECT 1 FROM pgmaint.sample_history h'
                   ' WHERE h.sampled_at OPERATOR(pg_catalog.=) r.sampled_at)'
               ELSE '' END;
    END IF;

    RETURN QUERY EXECUTE format($q$
        SELECT d.sampled_at,
               greatest(d.active - d.waiting_on_lock, 0),
               d.waiting_on_lock,
               d.idle_in_transaction + d.idle_in_transaction_aborted,
               d.idle,
               d.client_backends,
               pg_catalog.date_part('epoch', d.longest_idle_in_transaction_age),
               CASE WHEN d.dh >= 0 AND d.dr >= 0 AND d.dh + d.dr > 0
                    THEN 100.0 * d.dh / (d.dh + d.dr) END,
               CASE WHEN d.dt > 0 AND d.dc >= 0 THEN d.dc / d.dt END,
               CASE WHEN d.dt > 0 AND d.drb >= 0 THEN d.drb / d.dt END,
               d.dead_tuples
          FROM (SELECT s.*,
                       (s.blks_hit - pg_catalog.lag(s.blks_hit) OVER w)::float8 AS dh,
                       (s.blks_read - pg_catalog.lag(s.blks_read) OVER w)::float8 AS dr,
                       (s.xact_commit - pg_catalog.lag(s.xact_commit) OVER w)::float8 AS dc,
                       (s.xact_rollback - pg_catalog.lag(s.xact_rollback) OVER w)::float8 AS drb,
                       pg_catalog.date_part('epoch', s.sampled_at - pg_catalog.lag(s.sampled_at) OVER w) AS dt
                  FROM (%s) s
                WINDOW w AS (ORDER BY s.sampled_at)) d
         ORDER BY d.sampled_at $q$, src)
      USING from_time;
END
$$;

COMMENT ON FUNCTION pgmaint._report_samples(interval) IS
'Internal: the samples of the last "since" from sample_history (and the ring where the history lacks them), with connections by state and per-interval rates, for report_html() and report().';

-- Where a chart's line breaks: the positions in xs (epoch seconds, in time
-- order) of the samples taken more than two and a half intervals after the one
-- before, measured against the intervals on either side (so that a change of
-- pgmaint.sample_interval is no break, and a stopped worker is).
CREATE FUNCTION pgmaint._chart_breaks(xs double precision[])
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT array_agg(t.n ORDER BY t.n)
      FROM (SELECT u.n, u.x - lag(u.x) OVER w AS dt,
                   lag(u.x) OVER w - lag(u.x, 2) OVER w AS before,
                   lead(u.x) OVER w - u.x AS after
              FROM unnest(xs) WITH ORDINALITY AS u(x, n)
            WINDOW w AS (ORDER BY u.n)) t
     WHERE t.dt > 2.5 * greatest(coalesce(t.before, t.after), coalesce(t.after, t.before));
$$;

COMMENT ON FUNCTION pgmaint._chart_breaks(double precision[]) IS
'Internal: positions in a time-ordered array of sample times (epoch seconds) where a chart line breaks: more than 2.5 times the longer of the intervals before and after.';

-- One chart as an HTML figure with an inline SVG: up to four series over
-- [t0, t1], min/max per time bucket (at most about 500 points a series),
-- a break before each sample of breaks (positions in xs, see _chart_breaks()),
-- the horizontal lines of thresholds and limits, and event marks.
CREATE FUNCTION pgmaint._svg_chart(
    title text, unit text, t0 timestamptz, t1 timestamptz, breaks bigint[],
    names text[], xs double precision[],
    y1 double precision[], y2 double precision[] DEFAULT NULL,
    y3 double precision[] DEFAULT NULL, y4 double precision[] DEFAULT NULL,
    stacked boolean DEFAULT false, lines jsonb DEFAULT '[]', marks jsonb DEFAULT '[]',
    y_low double precision DEFAULT NULL, y_high double precision DEFAULT NULL,
    caption text DEFAULT '')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pl      CONSTANT double precision := 62;    -- plot area in the 1000 x 230 view box
    pr      CONSTANT double precision := 988;
    pt      CONSTANT double precision := 16;
    pb      CONSTANT double precision := 196;
    buckets CONSTANT integer := 250;
    x0      double precision := extract(epoch FROM t0);
    x1      double precision := extract(epoch FROM t1);
    nseries integer := coalesce(array_length(names, 1), 0);
    ds_s    integer[];
    ds_seg  bigint[];
    ds_x    double precision[];
    ds_y    double precision[];
    lo      double precision;
    hi      double precision;
    raw     double precision;
    mag     double precision;
    step    double precision;
    tstep   interval;
    tunit   text;
    tfmt    text;
    svg     text;
    body    text := '';
    legend  text := '';
    i       integer;
BEGIN
    IF x1 <= x0 THEN
        x1 := x0 + 1;
    END IF;

    -- downsample the series in one pass: per segment (between breaks) and time
    -- bucket, each series' lowest and highest point, where they are
    WITH m AS (
        SELECT coalesce(width_bucket(u.n, breaks), 0)::bigint AS seg,
               min(ARRAY[u.y1, u.x]) FILTER (WHERE u.y1 IS NOT NULL) AS lo1,
               max(ARRAY[u.y1, -u.x]) FILTER (WHERE u.y1 IS NOT NULL) AS hi1,
               min(ARRAY[u.y2, u.x]) FILTER (WHERE u.y2 IS NOT NULL) AS lo2,
               max(ARRAY[u.y2, -u.x]) FILTER (WHERE u.y2 IS NOT NULL) AS hi2,
               min(ARRAY[u.y3, u.x]) FILTER (WHERE u.y3 IS NOT NULL) AS lo3,
               max(ARRAY[u.y3, -u.x]) FILTER (WHERE u.y3 IS NOT NULL) AS hi3,
               min(ARRAY[u.y4, u.x]) FILTER (WHERE u.y4 IS NOT NULL) AS lo4,
               max(ARRAY[u.y4, -u.x]) FILTER (WHERE u.y4 IS NOT NULL) AS hi4
          FROM unnest(xs, y1, y2, y3, y4) WITH ORDINALITY AS u(x, y1, y2, y3, y4, n)
         WHERE u.x >= x0 AND u.x <= x1
         GROUP BY 1, floor((u.x - x0) / (x1 - x0) * buckets)
    )
    SELECT array_agg(s.k ORDER BY s.k, p.x), array_agg(m.seg ORDER BY s.k, p.x),
           array_agg(p.x ORDER BY s.k, p.x), array_agg(p.y ORDER BY s.k, p.x)
      INTO ds_s, ds_seg, ds_x, ds_y
      FROM m
     CROSS JOIN LATERAL (VALUES (1, m.lo1, m.hi1), (2, m.lo2, m.hi2),
                                (3, m.lo3, m.hi3), (4, m.lo4, m.hi4)) AS s(k, lo, hi)
     CROSS JOIN LATERAL (VALUES (1, s.lo[2], s.lo[1]), (2, -s.hi[2], s.hi[1])) AS p(o, x, y)
     WHERE s.k <= nseries AND s.lo IS NOT NULL AND (p.o = 1 OR s.lo[2] <> -s.hi[2]);

    -- the value axis: the data, the lines marked to be kept in view, and the given bounds
    SELECT least(min(v), coalesce(y_low, 0)), greatest(max(v), y_high)
      INTO lo, hi
      FROM (SELECT unnest(ds_y) AS v
            UNION ALL
            SELECT (l ->> 'y')::float8 FROM jsonb_array_elements(lines) l
             WHERE coalesce((l ->> 'in_view')::boolean, false)) t;
    IF y_low IS NOT NULL THEN
        lo := y_low;
    END IF;
    IF y_high IS NOT NULL THEN
        hi := y_high;
    END IF;
    lo := coalesce(lo, 0);
    hi := coalesce(hi, 1);
    IF hi <= lo THEN
        hi := lo + 1;
    END IF;
    raw := (hi - lo) / 4;
    mag := power(10, floor(log(raw)));
    step := CASE WHEN raw / mag <= 1 THEN 1 WHEN raw / mag <= 2 THEN 2
                 WHEN raw / mag <= 5 THEN 5 ELSE 10 END * mag;
    lo := floor(lo / step) * step;
    hi := ceil(hi / step) * step;

    -- grid and value labels
    SELECT string_agg(format('<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<text class="ylab" x="%s" y="%s">%s</text>',
                             pl, yy, pr, yy, pl - 6, yy + 4, pgmaint._html(pgmaint._short_number(v))), '')
      INTO svg
      FROM (SELECT v, round((pb - (v - lo) / (hi - lo) * (pb - pt))::numeric, 1) AS yy
              FROM generate_series(0, round((hi - lo) / step)::int) n, LATERAL (SELECT lo + n * step AS v) q) t;
    body := body || coalesce(svg, '');

    -- time labels in the session's time zone
    SELECT st, un, fm INTO tstep, tunit, tfmt
      FROM (VALUES (interval '10 s', 'minute', 'HH24:MI:SS'), (interval '30 s', 'minute', 'HH24:MI:SS'),
                   (interval '1 min', 'hour', 'HH24:MI'), (interval '5 min', 'hour', 'HH24:MI'),
                   (interval '10 min', 'hour', 'HH24:MI'), (interval '15 min', 'hour', 'HH24:MI'),
                   (interval '30 min', 'hour', 'HH24:MI'), (interval '1 hour', 'day', 'HH24:MI'),
                   (interval '2 hours', 'day', 'HH24:MI'), (interval '3 hours', 'day', 'HH24:MI'),
                   (interval '6 hours', 'day', 'Dy HH24:MI'), (interval '12 hours', 'day', 'Dy HH24:MI'),
                   (interval '1 day', 'day', 'Dy DD Mon'), (interval '2 days', 'day', 'Dy DD Mon'),
                   (interval '7 days', 'day', 'DD Mon'), (interval '30 days', 'day', 'DD Mon')) AS s(st, un, fm)
     WHERE extract(epoch FROM st) * 8 >= x1 - x0
     ORDER BY st LIMIT 1;
    IF tstep IS NULL THEN
        tstep := interval '365 days';
        tunit := 'year';
        tfmt := 'YYYY-MM-DD';
    END IF;
    IF tfmt = 'HH24:MI' AND t1 - t0 > interval '20 hours' THEN
        tfmt := 'Dy HH24:MI';
    END IF;
    SELECT string_agg(format('<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<text class="xlab" x="%s" y="%s">%s</text>',
                             xx, pb, xx, pb + 4, xx, pb + 17, pgmaint._html(to_char(tt, tfmt))), '')
      INTO svg
      FROM (SELECT tt, round((pl + (extract(epoch FROM tt) - x0) / (x1 - x0) * (pr - pl))::numeric, 1) AS xx
              FROM generate_series(date_trunc(tunit, t0), t1, tstep) tt
             WHERE tt >= t0) t
     WHERE xx <= pr - 20 AND xx >= pl + 20;
    body := body || coalesce(svg, '');

    -- the series: filled areas from the bottom (stacked, the largest first) or lines
    SELECT string_agg(d, '' ORDER BY k DESC, seg) INTO svg
      FROM (SELECT k, seg,
                   format('<path class="series %s c%s" d="%s"/>',
                          CASE WHEN stacked THEN 'area' ELSE 'line' END, k,
                          CASE WHEN stacked THEN
                                   format('M%s %s ', (array_agg(px ORDER BY x))[1], round(pb::numeric, 1))
                                   || string_agg('L' || px || ' ' || py, ' ' ORDER BY x)
                                   || format(' L%s %s Z', (array_agg(px ORDER BY x DESC))[1], round(pb::numeric, 1))
                               ELSE 'M' || string_agg(px || ' ' || py, ' L' ORDER BY x)
                                    || CASE WHEN count(*) = 1 THEN ' h0.1' ELSE '' END
                          END) AS d
              FROM (SELECT u.k, u.seg, u.x,
                           round((pl + (u.x - x0) / (x1 - x0) * (pr - pl))::numeric, 1)::text AS px,
                           round((pb - (least(greatest(u.y, lo), hi) - lo) / (hi - lo) * (pb - pt))::numeric, 1)::text AS py
                      FROM unnest(ds_s, ds_seg, ds_x, ds_y) AS u(k, seg, x, y)) q
             GROUP BY k, seg) t;
    IF svg IS NULL THEN
        body := body || format('<text class="empty" x="%s" y="%s">no samples in this period</text>',
                               (pl + pr) / 2, (pt + pb) / 2);
    ELSE
        body := body || svg;
    END IF;

    -- thresholds and limits that fall inside the value axis
    SELECT string_agg(format('<line class="limit %s" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<text class="limlab %s" x="%s" y="%s">%s</text>',
                             cls, pl, yy, pr, yy, cls, CASE WHEN cls = 'slots' THEN pl + 6 ELSE pr - 4 END,
                             yy - 3, pgmaint._html(label)), '')
      INTO svg
      FROM (SELECT pgmaint._html(coalesce(l ->> 'class', 'limit')) AS cls, l ->> 'label' AS label,
                   round((pb - ((l ->> 'y')::float8 - lo) / (hi - lo) * (pb - pt))::numeric, 1) AS yy
              FROM jsonb_array_elements(lines) l
             WHERE (l ->> 'y')::float8 BETWEEN lo AND hi) t;
    body := body || coalesce(svg, '');

    -- event marks on the time axis
    SELECT string_agg(format('<g class="event %s"><line x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<path d="M%s %s l-4 -7 h8 z"/><title>%s</title></g>',
                             cls, xx, pt, xx, pb, xx, pt, pgmaint._html(label)), '')
      INTO svg
      FROM (SELECT 'ev-' || pgmaint._html(coalesce(m ->> 'status', 'unknown')) AS cls, m ->> 'label' AS label,
                   round((pl + ((m ->> 'x')::float8 - x0) / (x1 - x0) * (pr - pl))::numeric, 1) AS xx
              FROM jsonb_array_elements(marks) m
             WHERE (m ->> 'x')::float8 BETWEEN x0 AND x1) t;
    body := body || coalesce(svg, '');

    FOR i IN 1 .. nseries LOOP
        legend := legend || format('<span class="key c%s"></span>%s ', i, pgmaint._html(names[i]));
    END LOOP;

    RETURN format('<figure class="chart"><h3>%s</h3>'
                  '<svg viewBox="0 0 1000 230" role="img" aria-label="%s">'
                  '<text class="unit" x="%s" y="10">%s</text>'
                  '<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                  '<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>%s</svg>'
                  '<figcaption>%s%s</figcaption></figure>',
                  pgmaint._html(title), pgmaint._html(title), pl - 6, pgmaint._html(unit),
                  pl, pt, pl, pb, pl, pb, pr, pb, body,
                  CASE WHEN legend <> '' THEN '<span class="legend">' || legend || '</span>' ELSE '' END,
                  pgmaint._html(caption)) || E'\n';
END
$$;

COMMENT ON FUNCTION pgmaint._svg_chart(text, text, timestamptz, timestamptz, bigint[], text[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean, jsonb, jsonb, double precision, double precision, text) IS
'Internal: one report_html() chart, an HTML figure with inline SVG: up to four series downsampled to the lowest and highest point of 250 time buckets, breaks at gaps, threshold lines and event marks; every label escaped.';

-- The rows of a query as an HTML table, or a line saying why there are none.
CREATE FUNCTION pgmaint._html_table(query text, empty text DEFAULT 'none')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rows   json;
    cols   text[];
    result text;
BEGIN
    EXECUTE format('SELECT json_agg(q) FROM (%s) q', query) INTO rows;
    IF rows IS NULL THEN
        RETURN '<p class="none">' || pgmaint._html(empty) || '</p>' || E'\n';
    END IF;
    SELECT array_agg(k ORDER BY n) INTO cols
      FROM json_object_keys(rows -> 0) WITH ORDINALITY AS t(k, n);
    SELECT '<table><thead><tr>'
           || string_agg('<th>' || pgmaint._html(c) || '</th>', '' ORDER BY n)
           || '</tr></thead><tbody>' INTO result
      FROM unnest(cols) WITH ORDINALITY AS u(c, n);
    SELECT result || string_agg(line, E'\n' ORDER BY rn) || '</tbody></table>' INTO result
      FROM (SELECT r.rn, '<tr>' || string_agg(
                       CASE WHEN u.c IN ('status', 'query')
                            THEN format('<td class="%s">%s</td>',
                                        CASE WHEN u.c = 'query' THEN 'query'
                                             ELSE 'st-' || pgmaint._html(r.e ->> u.c) END,
                                        pgmaint._html(r.e ->> u.c))
                            WHEN length(r.e ->> u.c) > 30
                            THEN '<td class="long">' || pgmaint._html(r.e ->> u.c) || '</td>'
                            ELSE '<td>' || pgmaint._html(r.e ->> u.c) || '</td>' END,
                       '' ORDER BY u.n) || '</tr>' AS line
              FROM json_array_elements(rows) WITH ORDINALITY AS r(e, rn),
                   unnest(cols) WITH ORDINALITY AS u(c, n)
             GROUP BY r.rn) t;
    RETURN result || E'\n';
EXCEPTION WHEN OTHERS THEN
    RETURN '<p class="none">unavailable: ' || pgmaint._html(SQLERRM) || '</p>' || E'\n';
END
$$;

COMMENT ON FUNCTION pgmaint._html_table(text, text) IS
'Internal: the rows of a query as an escaped HTML table for report_html(); the text "empty" when there are none, and why when the query fails.';

CREATE FUNCTION pgmaint.report_html(since interval DEFAULT '24 hours')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t1        timestamptz := clock_timestamp();
    t0        timestamptz;
    health    jsonb;
    status    text;
    usable    integer := pgmaint._usable_connections();
    monitor   boolean := pg_has_role(current_user, 'pg_monitor', 'USAGE');
    n         integer;
    breaks    bigint[];
    xs        double precision[];
    a_run     double precision[];
    a_wait    double precision[];
    a_iit     double precision[];
    a_idle    double precision[];
    a_age     double precision[];
    a_hit     double precision[];
    a_commit  double precision[];
    a_rollbk  double precision[];
    a_dead    double precision[];
    th        record;
    lines     jsonb;
    marks     jsonb := '[]';
    ev_col    name;
    ev_query  text;
    lag_col   record;
    lag_xs    double precision[];
    lag_ys    double precision[];
    hit_low   double precision;
    charts    text := '';
    attention text;
    page      text;
BEGIN
    IF since IS NULL OR since <= interval '0' THEN
        RAISE EXCEPTION 'since must be a positive interval'
            USING ERRCODE = '22023',
                  HINT = 'Give the period to chart, for example interval ''24 hours''.';
    END IF;
    t0 := t1 - since;

    BEGIN
        health := pgmaint.health();
    EXCEPTION WHEN OTHERS THEN
        health := jsonb_build_object('status', 'unknown', 'checks', '[]'::jsonb, 'error', SQLERRM);
    END;
    status := coalesce(health ->> 'status', 'unknown');

    -- the samples, as parallel arrays (_report_samples() returns them in time order)
    SELECT count(*),
           array_agg(extract(epoch FROM s.sampled_at)::float8),
           array_agg(s.running::float8),
           array_agg((s.running + s.waiting)::float8),
           array_agg((s.running + s.waiting + s.idle_in_transaction)::float8),
           array_agg((s.running + s.waiting + s.idle_in_transaction + s.idle)::float8),
           array_agg(coalesce(s.idle_in_transaction_age, 0)),
           array_agg(s.cache_hit_pct),
           array_agg(s.commits_per_sec),
           array_agg(s.rollbacks_per_sec),
           array_agg(s.dead_tuples::float8)
      INTO n, xs, a_run, a_wait, a_iit, a_idle, a_age, a_hit, a_commit, a_rollbk, a_dead
      FROM (SELECT * FROM pgmaint._report_samples(since) ORDER BY sampled_at) s;

    breaks := pgmaint._chart_breaks(xs);

    -- health events, once the worker records them (read whatever shape the table has)
    IF to_regclass('pgmaint.health_events') IS NOT NULL
       AND has_table_privilege('pgmaint.health_events', 'SELECT') THEN
        SELECT a.attname INTO ev_col
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = 'pgmaint.health_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid = 'timestamptz'::regtype
         ORDER BY a.attnum LIMIT 1;
        IF ev_col IS NOT NULL THEN
            ev_query := format('SELECT * FROM pgmaint.health_events e WHERE e.%I >= %L ORDER BY e.%I DESC LIMIT 200',
                               ev_col, t0, ev_col);
            BEGIN
                EXECUTE format($q$
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'x', extract(epoch FROM (j ->> %L)::timestamptz),
                               'status', coalesce(j ->> 'status', j ->> 'new_status', j ->> 'to_status'),
                               'label', concat_ws(' ', to_char((j ->> %L)::timestamptz, 'YYYY-MM-DD HH24:MI:SS'),
                                                  coalesce(j ->> 'check_name', j ->> 'check'),
                                                  coalesce(j ->> 'status', j ->> 'new_status', j ->> 'to_status'),
                                                  j ->> 'message'))), '[]')
                      FROM (SELECT to_jsonb(e) AS j FROM (%s) e) t $q$, ev_col, ev_col, ev_query)
                  INTO marks;
            EXCEPTION WHEN OTHERS THEN
                marks := '[]';
                ev_query := NULL;
            END;
        END IF;
    END IF;

    -- connections by state against the usable slots
    SELECT warning, critical INTO th FROM pgmaint.thresholds WHERE check_name = 'connections' AND enabled;
    lines := jsonb_build_array(jsonb_build_object('y', usable, 'label', format('usable slots %s', usable),
                                                  'class', 'slots', 'in_view', true));
    IF th.warning IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', usable * th.warning / 100, 'class', 'warn',
                                             'label', format('warning %s%%', th.warning));
    END IF;
    IF th.critical IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', usable * th.critical / 100, 'class', 'crit',
                                             'label', format('critical %s%%', th.critical));
    END IF;
    charts := charts || pgmaint._svg_chart(
        title => 'Connections by state', unit => 'sessions', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['active', 'waiting on a lock', 'idle in transaction', 'idle'], xs => xs,
        y1 => a_run, y2 => a_wait, y3 => a_iit, y4 => a_idle, stacked => true, lines => lines, marks => marks,
        caption => format('Client sessions stacked by state against the %s usable slots (max_connections - superuser_reserved_connections); warning and critical are the "connections" thresholds.', usable));

    -- the oldest session idle in a transaction
    SELECT warning, critical INTO th FROM pgmaint.thresholds WHERE check_name = 'idle_in_transaction' AND enabled;
    lines := '[]';
    IF th.warning IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.warning, 'class', 'warn', 'in_view', true,
                                             'label', format('warning %s s', th.warning));
    END IF;
    IF th.critical IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.critical, 'class', 'crit',
                                             'label', format('critical %s s', th.critical));
    END IF;
    charts := charts || pgmaint._svg_chart(
        title => 'Oldest idle-in-transaction age', unit => 'seconds', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['oldest session idle in a transaction'], xs => xs, y1 => a_age, lines => lines, marks => marks,
        caption => 'How long the oldest session has been idle inside an open transaction (a leaked connection holds locks and blocks vacuum); 0 when there is none.');

    -- cache hit ratio per sample interval
    SELECT warning, critical INTO th FROM pgmaint.thresholds WHERE check_name = 'cache_hit' AND enabled;
    lines := '[]';
    IF th.warning IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.warning, 'class', 'warn', 'label', format('warning %s%%', th.warning));
    END IF;
    IF th.critical IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.critical, 'class', 'crit', 'label', format('critical %s%%', th.critical));
    END IF;
    SELECT greatest(0, least(min(v), coalesce(th.critical::float8, 100)) - 2) INTO hit_low FROM unnest(a_hit) v;
    charts := charts || pgmaint._svg_chart(
        title => 'Cache hit ratio', unit => '%', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['buffer cache hits'], xs => xs, y1 => a_hit, lines => lines, marks => marks,
        y_low => coalesce(hit_low, 0), y_high => 100,
        caption => 'Share of block reads of this database served from shared buffers in each sample interval (no point where it read nothing).');

    charts := charts || pgmaint._svg_chart(
        title => 'Commits and rollbacks', unit => 'per second', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['commits', 'rollbacks'], xs => xs, y1 => a_commit, y2 => a_rollbk, marks => marks,
        caption => 'Transactions of this database committed and rolled back per second, per sample interval.');

    charts := charts || pgmaint._svg_chart(
        title => 'Dead tuples', unit => 'rows', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['dead tuples in all tables'], xs => xs, y1 => a_dead, marks => marks,
        caption => 'Dead row versions waiting for vacuum across the tables of this database; the per-table "dead_tuples" check is in the tables below.');

    -- replication lag, where the history records it and there were standbys
    FOR lag_col IN
        SELECT a.attname, a.atttypid = 'interval'::regtype AS is_interval
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = 'pgmaint.sample_history'::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND (a.attname LIKE 'replay\_lag%' OR a.attname LIKE 'replication\_lag%')
           AND a.atttypid IN ('interval'::regtype, 'float8'::regtype, 'numeric'::regtype,
                              'int4'::regtype, 'int8'::regtype, 'float4'::regtype)
           AND has_table_privilege('pgmaint.sample_history', 'SELECT')
         ORDER BY a.attnum
    LOOP
        EXECUTE format('SELECT array_agg(extract(epoch FROM sampled_at)::float8 ORDER BY sampled_at), '
                       'array_agg(%s ORDER BY sampled_at) FROM pgmaint.sample_history '
                       'WHERE sampled_at >= $1 AND %I IS NOT NULL',
                       CASE WHEN lag_col.is_interval THEN format('extract(epoch FROM %I)::float8', lag_col.attname)
                            ELSE format('%I::float8', lag_col.attname) END, lag_col.attname)
          INTO lag_xs, lag_ys USING t0;
        IF lag_xs IS NOT NULL THEN
            SELECT warning, critical INTO th FROM pgmaint.thresholds
             WHERE check_name = CASE WHEN lag_col.attname LIKE '%bytes%' THEN 'replication_lag_bytes'
                                     ELSE 'replication_lag' END AND enabled;
            lines := '[]';
            IF th.warning IS NOT NULL THEN
                lines := lines || jsonb_build_object('y', th.warning, 'class', 'warn', 'label', format('warning %s', th.warning));
            END IF;
            IF th.critical IS NOT NULL THEN
                lines := lines || jsonb_build_object('y', th.critical, 'class', 'crit', 'label', format('critical %s', th.critical));
            END IF;
            charts := charts || pgmaint._svg_chart(
                title => 'Replication lag (' || replace(lag_col.attname, '_', ' ') || ')',
                unit => CASE WHEN lag_col.is_interval THEN 'seconds' WHEN lag_col.attname LIKE '%bytes%' THEN 'bytes'
                             ELSE '' END,
                t0 => t0, t1 => t1, breaks => pgmaint._chart_breaks(lag_xs), names => ARRAY[lag_col.attname::text], xs => lag_xs, y1 => lag_ys,
                lines => lines, marks => marks,
                caption => 'How far the standbys are behind, as the worker sampled it.');
        END IF;
    END LOOP;

    -- the checks that need attention, worst first
    SELECT string_agg(format('<li class="st-%s"><b>%s</b> <span class="pill st-%s">%s</span> %s%s</li>',
                             pgmaint._html(c ->> 'status'), pgmaint._html(c ->> 'check'),
                             pgmaint._html(c ->> 'status'), pgmaint._html(c ->> 'status'),
                             pgmaint._html(c ->> 'message'),
                             coalesce('<br><span class="hint">' || pgmaint._html(c ->> 'hint') || '</span>', '')),
                      E'\n' ORDER BY pgmaint._status_order(c ->> 'status') DESC, c ->> 'check')
      INTO attention
      FROM jsonb_array_elements(health -> 'checks') c
     WHERE c ->> 'status' <> 'ok';

    page := '<!DOCTYPE html>' || E'\n'
        || '<html lang="en"><head><meta charset="utf-8">' || E'\n'
        || '<meta name="viewport" content="width=device-width, initial-scale=1">' || E'\n'
        || '<meta name="color-scheme" content="light dark">' || E'\n'
        || format('<title>pgmaint report: %s, %s</title>', pgmaint._html(current_database()),
                  pgmaint._html(upper(status))) || E'\n'
        || '<style>' || E'\n'
        || $css$
:root { --bg: #ffffff; --fg: #1d2330; --muted: #5d6575; --line: #d5d9e0; --panel: #f5f6f8;
  --c1: #2f6fdd; --c2: #e8860c; --c3: #b03ac4; --c4: #9aa3b2;
  --ok: #1e8e3e; --warning: #c77700; --critical: #c5221f; --unknown: #6b7280; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e4e7ec; --muted: #9aa3b2; --line: #343a45; --panel: #1d2128;
    --c1: #6d9eff; --c2: #f5a23c; --c3: #d37ce0; --c4: #5f6877;
    --ok: #4cc26b; --warning: #f0a531; --critical: #ff6b60; --unknown: #9aa3b2; }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 1060px; margin: 0 auto; padding: 16px 20px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.meta b { color: var(--fg); font-weight: 600; }
.banner { padding: 12px 16px; border-radius: 6px; color: #fff; font-size: 18px; font-weight: 600; margin: 8px 0 12px; }
.banner.st-ok { background: var(--ok); } .banner.st-warning { background: var(--warning); }
.banner.st-critical { background: var(--critical); } .banner.st-unknown { background: var(--unknown); }
.note { background: var(--panel); border-left: 4px solid var(--warning); padding: 8px 12px; margin: 8px 0; }
ul.attention { padding-left: 20px; } ul.attention li { margin: 4px 0; }
.hint { color: var(--muted); }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff; font-size: 12px; }
.pill.st-ok { background: var(--ok); } .pill.st-warning { background: var(--warning); }
.pill.st-critical { background: var(--critical); } .pill.st-unknown { background: var(--unknown); }
td.st-ok { color: var(--ok); } td.st-warning, td.st-fail { color: var(--warning); font-weight: 600; }
td.st-critical { color: var(--critical); font-weight: 600; } td.st-unknown { color: var(--unknown); }
td.st-pass { color: var(--ok); }
figure.chart { margin: 0 0 18px; padding: 10px 12px 8px; background: var(--panel); border-radius: 6px;
  break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; }
.legend { display: block; color: var(--fg); margin-bottom: 2px; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 8px; }
.key.c1 { background: var(--c1); } .key.c2 { background: var(--c2); }
.key.c3 { background: var(--c3); } .key.c4 { background: var(--c4); }
svg text { fill: var(--muted); font-size: 12px; font-family: inherit; }
svg .ylab { text-anchor: end; } svg .xlab { text-anchor: middle; } svg .limlab { text-anchor: end; font-size: 11px; }
svg .empty { text-anchor: middle; font-size: 14px; }
svg .axis { stroke: var(--muted); stroke-width: 1; } svg .tick { stroke: var(--muted); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .line { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg .area { stroke: none; }
svg .line.c1 { stroke: var(--c1); } svg .line.c2 { stroke: var(--c2); }
svg .line.c3 { stroke: var(--c3); } svg .line.c4 { stroke: var(--c4); }
svg .area.c1 { fill: var(--c1); } svg .area.c2 { fill: var(--c2); }
svg .area.c3 { fill: var(--c3); } svg .area.c4 { fill: var(--c4); }
svg .limit { stroke-width: 1.2; stroke-dasharray: 6 4; }
svg .limit.slots { stroke: var(--fg); } svg .limlab.slots { fill: var(--fg); text-anchor: start; }
svg .limit.warn { stroke: var(--warning); } svg .limlab.warn { fill: var(--warning); }
svg .limit.crit { stroke: var(--critical); } svg .limlab.crit { fill: var(--critical); }
svg .event line { stroke-width: 1; stroke-dasharray: 2 3; }
svg .event.ev-ok line { stroke: var(--ok); } svg .event.ev-ok path { fill: var(--ok); }
svg .event.ev-warning line { stroke: var(--warning); } svg .event.ev-warning path { fill: var(--warning); }
svg .event.ev-critical line { stroke: var(--critical); } svg .event.ev-critical path { fill: var(--critical); }
svg .event.ev-unknown line { stroke: var(--unknown); } svg .event.ev-unknown path { fill: var(--unknown); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px; }
th, td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid var(--line); }
td.long, td.query { overflow-wrap: anywhere; }
th { background: var(--panel); font-weight: 600; }
td.query { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; }
p.none { color: var(--muted); margin: 4px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
$css$
        || '</style></head><body>' || E'\n'
        || '<h1>pgmaint health report</h1>' || E'\n'
        || format('<p class="meta">server <b>%s</b> · database <b>%s</b> · PostgreSQL <b>%s</b> · pgmaint <b>%s</b> · role <b>%s</b> · checked at <b>%s</b> · period <b>%s</b> to <b>%s</b></p>',
                  pgmaint._html(coalesce(nullif(current_setting('cluster_name'), ''),
                                         host(inet_server_addr()), 'local socket')
                                || ' port ' || current_setting('port')),
                  pgmaint._html(current_database()), pgmaint._html(current_setting('server_version')),
                  pgmaint._html((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pgmaint')),
                  pgmaint._html(current_user),
                  pgmaint._html(to_char(t1, 'YYYY-MM-DD HH24:MI:SS TZ')),
                  pgmaint._html(to_char(t0, 'YYYY-MM-DD HH24:MI:SS')),
                  pgmaint._html(to_char(t1, 'YYYY-MM-DD HH24:MI:SS TZ')))
        || E'\n'
        || format('<div class="banner st-%s">Status: %s</div>', pgmaint._html(status),
                  pgmaint._html(upper(status)
                                || coalesce(' · ' || (SELECT string_agg(format('%s %s', cnt, s), ', '
                                                                        ORDER BY pgmaint._status_order(s) DESC)
                                                        FROM (SELECT c ->> 'status' AS s, count(*) AS cnt
                                                                FROM jsonb_array_elements(health -> 'checks') c
                                                               GROUP BY 1) t), '')))
        || E'\n'
        || CASE WHEN health ? 'error' THEN
               '<p class="note">The health checks could not run: ' || pgmaint._html(health ->> 'error') || '</p>' || E'\n'
           ELSE '' END
        || CASE WHEN NOT monitor THEN
               format('<p class="note">Role %s is not a member of pg_monitor: checks it cannot see are unknown and some sections are unavailable. GRANT pg_monitor TO %s; shows them all.</p>',
                      pgmaint._html(current_user), pgmaint._html(quote_ident(current_user))) || E'\n'
           ELSE '' END
        || CASE WHEN n = 0 THEN
               '<p class="note">The worker has not sampled yet: no samples in this period, so the charts are empty. '
               || 'Add pgmaint to shared_preload_libraries, set pgmaint.database to this database and restart; '
               || 'the charts fill from the first sample on.</p>' || E'\n'
           ELSE '' END
        || '<h2>Needs attention</h2>' || E'\n'
        || coalesce('<ul class="attention">' || attention || '</ul>', '<p class="none">Every check is ok.</p>') || E'\n'
        || format('<h2>Charts</h2><p class="meta">%s samples from %s to %s (%s); times in %s; breaks in a line are periods without samples.</p>',
                  n, pgmaint._html(to_char(t0, 'YYYY-MM-DD HH24:MI')), pgmaint._html(to_char(t1, 'YYYY-MM-DD HH24:MI')),
                  pgmaint._html(since::text), pgmaint._html(current_setting('TimeZone'))) || E'\n'
        || charts
        || CASE WHEN ev_query IS NOT NULL THEN
               '<h2>Health events</h2>' || E'\n'
               || pgmaint._html_table(ev_query, 'No health event in this period.')
           ELSE '' END
        || '<h2>All checks</h2>' || E'\n'
        || pgmaint._html_table(format($q$
               SELECT c ->> 'check' AS "check", c ->> 'status' AS status, c ->> 'value' AS value,
                      c ->> 'warning' AS warning, c ->> 'critical' AS critical, c ->> 'message' AS message
                 FROM jsonb_array_elements(%L::jsonb) c
                ORDER BY pgmaint._status_order(c ->> 'status') DESC, c ->> 'check' $q$, health -> 'checks'),
               'No checks could run.')
        || format('<h2>Sessions idle in a transaction</h2>') || E'\n'
        || pgmaint._html_table(format($q$
               SELECT pid, usename AS "user", application_name AS application, datname AS database,
                      date_trunc('second', idle_for)::text AS idle_for, blocking, query
                 FROM pgmaint.connection_leaks(make_interval(secs => %s))
                ORDER BY idle_for DESC LIMIT 20 $q$,
               coalesce((SELECT warning FROM pgmaint.thresholds WHERE check_name = 'idle_in_transaction'), 60)),
               'No session is idle in a transaction past the idle_in_transaction warning threshold.')
        || '<h2>Tables with the most dead tuples</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT format('%I.%I', schema_name, table_name) AS "table", live_tuples AS live,
                      dead_tuples AS dead, round(100 * dead_ratio::numeric, 1) AS "dead %",
                      autovacuum_due AS vacuum_due, falling_behind AS behind,
                      to_char(last_autovacuum, 'YYYY-MM-DD HH24:MI') AS last_autovacuum
                 FROM pgmaint.vacuum_stats()
                WHERE dead_tuples > 0
                ORDER BY dead_tuples DESC, 1 LIMIT 10 $q$, 'No table has dead tuples.')
        || '<h2>Largest tables</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT format('%I.%I', schema_name, table_name) AS "table",
                      pg_size_pretty(total_bytes) AS total, pg_size_pretty(heap_bytes) AS heap,
                      pg_size_pretty(index_bytes) AS indexes, pg_size_pretty(toast_bytes) AS toast,
                      row_estimate AS rows
                 FROM pgmaint._largest_tables(10) $q$, 'No tables.')
        || '<h2>Index advice</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT kind, coalesce(index_name::text, table_name::text) AS object, detail, suggestion
                 FROM pgmaint.index_advice() $q$, 'No index advice.')
        || '<h2>Expensive queries</h2>' || E'\n'
        || CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements') THEN
               pgmaint._html_table($q$
                   SELECT role, calls, round(total_exec_time::numeric, 1) AS total_ms,
                          round(mean_exec_time::numeric, 2) AS mean_ms, round(share_pct::numeric, 1) AS "share %",
                          left(query, 500) AS query
                     FROM pgmaint.expensive_queries(10) $q$, 'No statements recorded yet.')
           ELSE '<p class="none">pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements; with it in shared_preload_libraries).</p>' || E'\n'
           END
        || '<h2>Settings advice</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT name, current, recommended, status, reason, fix
                 FROM pgmaint.settings_advice()
                WHERE status <> 'ok' $q$, 'Every setting is as recommended.')
        || '<h2>Checklist</h2>' || E'\n'
        -- graded by the checks above rather than by running them again
        || pgmaint._html_table(format('SELECT item, status, evidence, fix FROM pgmaint._checklist(%L::jsonb)',
                                      CASE WHEN NOT health ? 'error' THEN health -> 'checks' END),
                               'The checklist could not run.')
        || format('<footer>Made by pgmaint.report_html(%s) in %s ms. Self-contained: no scripts, no external resources.</footer>',
                  pgmaint._html(quote_literal(since::text)),
                  round((extract(epoch FROM clock_timestamp() - t1) * 1000)::numeric))
        || E'\n</body></html>\n';
    RETURN page;
END
$$;

COMMENT ON FUNCTION pgmaint.report_html(interval) IS
'One self-contained HTML page (inline CSS and SVG, no script, no URL): status, the checks that need attention, charts of the samples of the last "since" (connections, idle-in-transaction age, cache hit, commits, dead tuples, replication lag and health events where recorded) and the report''s tables. psql -XAtq -c ''SELECT pgmaint.report_html()'' > health.html';

-- A sparkline of values in Unicode blocks, low to high; a NULL is a space.
CREATE FUNCTION pgmaint._sparkline(vals double precision[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH r AS (SELECT min(v) AS lo, max(v) AS hi FROM unnest(vals) v)
    SELECT string_agg(CASE WHEN u.v IS NULL THEN ' '
                           WHEN r.hi = r.lo THEN '▁'
                           ELSE substr('▁▂▃▄▅▆▇█', 1 + least(7, floor(8 * (u.v - r.lo) / (r.hi - r.lo))::int), 1)
                      END, '' ORDER BY u.n)
      FROM unnest(vals) WITH ORDINALITY AS u(v, n), r;
$$;

COMMENT ON FUNCTION pgmaint._sparkline(double precision[]) IS
'Internal: values as a line of Unicode block characters (▁ lowest to █ highest), a space for NULL.';

-- report()'s sparklines: the key series over the last hour, 48 columns of 75 seconds.
CREATE FUNCTION pgmaint._report_sparklines()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0     double precision := extract(epoch FROM clock_timestamp()) - 3600;
    cols   CONSTANT integer := 48;
    result text;
BEGIN
    WITH s AS (
        SELECT floor((extract(epoch FROM s.sampled_at) - t0) / (3600.0 / cols))::int AS col, s.*
          FROM pgmaint._report_samples(interval '1 hour') s
    ), c AS (
        SELECT g.col, max(s.client_backends)::float8 AS conn, min(s.cache_hit_pct) AS hit,
               max(s.commits_per_sec) AS commits,
               max(CASE WHEN s.sampled_at IS NOT NULL THEN coalesce(s.idle_in_transaction_age, 0) END) AS age
          FROM generate_series(0, cols - 1) g(col)
          LEFT JOIN s ON s.col = g.col
         GROUP BY g.col
    ), series AS (
        SELECT 1 AS n, 'connections' AS label, array_agg(conn ORDER BY col) AS vals FROM c
        UNION ALL SELECT 2, 'cache hit %', array_agg(hit ORDER BY col) FROM c
        UNION ALL SELECT 3, 'commits/s', array_agg(commits ORDER BY col) FROM c
        UNION ALL SELECT 4, 'idle in xact (s)', array_agg(age ORDER BY col) FROM c
    )
    SELECT string_agg(format('  %s %s  min %s  max %s', rpad(label, 16), pgmaint._sparkline(vals),
                             pgmaint._short_number((SELECT min(v) FROM unnest(vals) v)),
                             pgmaint._short_number((SELECT max(v) FROM unnest(vals) v))),
                      E'\n' ORDER BY n)
      INTO result
      FROM series
     WHERE EXISTS (SELECT 1 FROM unnest(vals) v WHERE v IS NOT NULL);
    IF result IS NULL THEN
        RETURN 'Last hour: no samples (the worker has not sampled yet, or samples another database)' || E'\n';
    END IF;
    RETURN 'Last hour (oldest left, one column per 75 s):' || E'\n' || result || E'\n';
END
$$;

COMMENT ON FUNCTION pgmaint._report_sparklines() IS
'Internal: report()''s header lines, one sparkline per key series over the last hour (connections, cache hit, commits/s, idle-in-transaction age) with min and max, within 96 columns.';

REVOKE ALL ON FUNCTION pgmaint._html(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._short_number(double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._report_samples(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._chart_breaks(double precision[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._svg_chart(text, text, timestamptz, timestamptz, bigint[], text[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean, jsonb, jsonb, double precision, double precision, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._html_table(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint.report_html(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._sparkline(double precision[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmaint._report_sparklines() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._html(text) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._short_number(double precision) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._report_samples(interval) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._chart_breaks(double precision[]) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._svg_chart(text, text, timestamptz, timestamptz, bigint[], text[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean, jsonb, jsonb, double precision, double precision, text) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._html_table(text, text) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint.report_html(interval) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._sparkline(double precision[]) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmaint._report_sparklines() TO pg_monitor;
-- Privileges, by name.  Nothing in pgmaint is callable by PUBLIC, and a
-- function is callable by a role only when it is named below (or granted
-- beside its definition): a new function is callable by nobody but the
-- extension's owner (superusers) until someone decides.  README, "Security",
-- has the matrix; test/suites/privileges.sh holds every install to it.
--
--  - read functions, and the internals they call as their invoker: pg_monitor;
--  - action functions: nobody (superusers, or an explicit GRANT; grant_tuning()
--    hands a role what tune_table()/reset_table()/apply_policy() need);
--  - SECURITY DEFINER writers (_audit, _backup_record, ...), trigger and
--    event-trigger functions, _detect_resources: nobody.

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
    pgmaint.connection_budget(integer, integer, integer, integer, integer),
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
    pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text),
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
    pgmaint._checklist_item(text, text, jsonb)
TO pg_monitor;

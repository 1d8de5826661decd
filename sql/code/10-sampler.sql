-- The background worker's samples: the shared-memory ring (samples()), the
-- worker's status (sampler_status()) and the persisted history.

CREATE OR REPLACE FUNCTION pgmaint.samples(
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

CREATE OR REPLACE FUNCTION pgmaint.sampler_status(
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
'One row about this database''s background worker, read from its heartbeat in shared memory: running, pid, database, last sample, errors, interval, policy (pgmaint.workers() lists every database''s).';

REVOKE ALL ON FUNCTION pgmaint.sampler_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.sampler_status() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.workers(
    OUT database text,
    OUT datid oid,
    OUT state text,
    OUT server_wide boolean,
    OUT pid integer,
    OUT started_at timestamptz,
    OUT last_sample_at timestamptz,
    OUT samples_taken bigint,
    OUT last_error text,
    OUT task_runs jsonb,
    OUT task_last_run jsonb)
RETURNS SETOF record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_workers';

COMMENT ON FUNCTION pgmaint.workers() IS
'One row per database worker of the server (state starting, looking, sampling, held, stopped, restarting) and per database left without one (unsampled, with the reason in last_error): the server-wide role, the status, and each task''s runs and last run; no row without preloading.';

REVOKE ALL ON FUNCTION pgmaint.workers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.workers() TO pg_monitor;

-- Block hits and reads summed over the ring's intervals since a time, by the
-- rule samples() applies to its deltas (an interval across a statistics
-- reset is left out); written once, in src/ring.c.
CREATE OR REPLACE FUNCTION pgmaint._ring_block_deltas(since timestamptz, OUT hits numeric, OUT reads numeric)
RETURNS record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_ring_block_deltas';

COMMENT ON FUNCTION pgmaint._ring_block_deltas(timestamptz) IS
'Internal: block hits and reads of the sampled database summed over the ring''s intervals starting at or after since, leaving out those across a statistics reset (as samples() does); NULL without any.';

REVOKE ALL ON FUNCTION pgmaint._ring_block_deltas(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._ring_block_deltas(timestamptz) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._request_samples(count integer)
RETURNS bigint
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_request_samples';

COMMENT ON FUNCTION pgmaint._request_samples(integer) IS
'Internal (tests, benchmarks): asks the worker for count extra samples taken back to back, and one evaluation of the health checks after them; returns samples_taken at the time of the request.';

REVOKE ALL ON FUNCTION pgmaint._request_samples(integer) FROM PUBLIC;

-- History kept in tables: sample_history and the policy's table_activity.
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

COMMENT ON FUNCTION pgmaint.prune_history(interval) IS
'Deletes history older than retention (default pgmaint.history_retention): sample_history rows, table_activity snapshots (never kept past the 24-hour rate window) and those of dropped tables; returns the rows deleted.';

REVOKE ALL ON FUNCTION pgmaint.prune_history(interval) FROM PUBLIC;

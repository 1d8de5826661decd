-- Replication: the standbys of a primary, or a standby's own state.  The lag
-- rule (positions first, so that an idle primary does not look like a
-- lagging standby) has one home, src/replication.c, which the sampler and the
-- replication checks (src/checkserver.c) use too.

CREATE OR REPLACE FUNCTION pgmaint._replication_lag(
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
CREATE OR REPLACE FUNCTION pgmaint.replication(
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


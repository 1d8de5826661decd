-- Replication: the standbys of a primary, or a standby's own state, and the
-- replication checks.  The lag rule (positions first, so that an idle
-- primary does not look like a lagging standby) has one home, src/replication.c,
-- which the sampler uses too.

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

-- The replication checks.
CREATE OR REPLACE FUNCTION pgmaint._check_replication(
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

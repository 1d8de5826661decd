-- Point-in-time recovery with pgBackRest: what "pgmaint_backup pitr" records
-- (its events in pgmaint.backups, the markers its drills restore to), the
-- recovery point of WAL archiving and pitr_status(), which the checks of
-- health() that watch them read (pitr_full_backup_age, pitr_backup_age,
-- pitr_backup and recovery_point: family "pitr" in src/checkrecords.c).
-- pgBackRest itself is never called from SQL: the command records what
-- pgBackRest reports (pgmaint._pitr_sync), the checks read it.

-- Records one event of "pgmaint_backup pitr": setup, a failed backup, expire,
-- restore or drill (successful backups come from pgBackRest's own list,
-- through _pitr_sync).  Setup, expire and restore are audited.
CREATE OR REPLACE FUNCTION pgmaint._pitr_record(kind text, status text, started timestamptz,
                                     detail jsonb DEFAULT NULL, error text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    IF kind IS NULL OR kind NOT IN ('pitr_setup', 'pitr_backup', 'pitr_expire', 'pitr_restore', 'pitr_drill') THEN
        RAISE EXCEPTION 'invalid point-in-time recovery event kind "%"', kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The kind is one of pitr_setup, pitr_backup, pitr_expire, pitr_restore, pitr_drill.';
    END IF;
    IF status IS NULL OR status NOT IN ('ok', 'failed') THEN
        RAISE EXCEPTION 'invalid point-in-time recovery event status "%"', status
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The status is ok or failed.';
    END IF;
    IF started IS NULL OR started > clock_timestamp() THEN
        RAISE EXCEPTION 'invalid start time of a point-in-time recovery event'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the time the operation started; it cannot be NULL or in the future.';
    END IF;
    IF status = 'failed' AND error IS NULL THEN
        RAISE EXCEPTION 'a failed point-in-time recovery event needs its reason'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the error message as "error".';
    END IF;
    IF kind = 'pitr_backup' AND status = 'ok' THEN
        RAISE EXCEPTION 'a successful pgBackRest backup is recorded from pgBackRest''s list of backups'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the output of "pgbackrest info --output=json" to pgmaint._pitr_sync().';
    END IF;
    IF detail IS NOT NULL AND jsonb_typeof(detail) <> 'object' THEN
        RAISE EXCEPTION 'the detail of a point-in-time recovery event must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO pgmaint.backups AS b (kind, started, status, detail, error)
    VALUES (kind, started, status, detail, error)
    RETURNING b.id INTO new_id;

    IF kind IN ('pitr_setup', 'pitr_expire', 'pitr_restore') THEN
        PERFORM pgmaint._audit(kind, detail->>'stanza',
                               coalesce(detail, '{}'::jsonb)
                               || jsonb_build_object('status', status, 'error', error),
                               false);
    END IF;
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION pgmaint._pitr_record(text, text, timestamptz, jsonb, text) IS
'Internal: records one event of pgmaint_backup pitr in pgmaint.backups (pitr_setup, a failed pitr_backup, pitr_expire, pitr_restore, pitr_drill); setup, expire and restore are audited in pgmaint.actions.';

REVOKE ALL ON FUNCTION pgmaint._pitr_record(text, text, timestamptz, jsonb, text) FROM PUBLIC;

-- Brings the pitr_backup rows of STANZA in REPO in line with pgBackRest's own
-- list (the output of "pgbackrest info --output=json"): every backup it lists
-- and pgmaint has not recorded is recorded (taken by pgmaint_backup or by
-- hand), and every recorded one it no longer lists is marked removed
-- (expired).  Returns how many were recorded and the labels removed.
CREATE OR REPLACE FUNCTION pgmaint._pitr_sync(stanza text, repo text, info jsonb,
                                   OUT recorded integer, OUT removed text[])
RETURNS record
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st jsonb;
    bad text;
    labels text[];
BEGIN
    IF stanza IS NULL OR repo IS NULL OR info IS NULL OR jsonb_typeof(info) <> 'array' THEN
        RAISE EXCEPTION 'pgmaint._pitr_sync() needs a stanza, a repository and pgBackRest''s info as a JSON array'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the output of "pgbackrest --stanza=NAME info --output=json".';
    END IF;
    SELECT e INTO st FROM jsonb_array_elements(info) e WHERE e->>'name' = _pitr_sync.stanza;
    IF st IS NULL THEN
        RAISE EXCEPTION 'pgBackRest''s info does not list stanza "%"', stanza
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(coalesce(st->'backup', '[]')) <> 'array' THEN
        RAISE EXCEPTION 'pgBackRest''s info for stanza "%" has no list of backups', stanza
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- every entry must look like pgBackRest's: a label, a type, two epochs
    SELECT coalesce(x->>'label', 'an entry without a label') INTO bad
      FROM jsonb_array_elements(coalesce(st->'backup', '[]')) x
     WHERE NOT coalesce(x->>'label' ~ '^[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?$', false)
        OR NOT coalesce(x->>'type' IN ('full', 'diff', 'incr'), false)
        OR jsonb_typeof(x->'timestamp'->'start') IS DISTINCT FROM 'number'
        OR jsonb_typeof(x->'timestamp'->'stop') IS DISTINCT FROM 'number'
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'pgBackRest''s info lists a backup pgmaint cannot read: %', bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO pgmaint.backups AS b (kind, started, finished, status, bytes, detail)
    SELECT 'pitr_backup',
           to_timestamp((x->'timestamp'->>'start')::double precision),
           to_timestamp((x->'timestamp'->>'stop')::double precision),
           'ok',
           (x->'info'->'repository'->>'delta')::bigint,
           jsonb_build_object(
               'stanza', _pitr_sync.stanza, 'repo', _pitr_sync.repo,
               'label', x->>'label', 'type', x->>'type', 'prior', x->>'prior',
               'stop', to_timestamp((x->'timestamp'->>'stop')::double precision),
               'database_size', (x->'info'->>'size')::bigint,
               'backup_size', (x->'info'->>'delta')::bigint,
               'repository_size', (x->'info'->'repository'->>'size')::bigint,
               'wal_start', x->'archive'->>'start', 'wal_stop', x->'archive'->>'stop',
               'lsn_start', x->'lsn'->>'start', 'lsn_stop', x->'lsn'->>'stop',
               'page_checksum_errors', coalesce((x->>'error')::boolean, false))
      FROM jsonb_array_elements(coalesce(st->'backup', '[]')) x
     WHERE NOT EXISTS (SELECT 1 FROM pgmaint.backups p
                        WHERE p.kind = 'pitr_backup' AND p.status = 'ok'
                          AND p.detail->>'stanza' = _pitr_sync.stanza
                          AND p.detail->>'label' = x->>'label')
     ORDER BY x->>'label';
    GET DIAGNOSTICS recorded = ROW_COUNT;

    labels := ARRAY(SELECT x->>'label' FROM jsonb_array_elements(coalesce(st->'backup', '[]')) x);
    WITH r AS (
        UPDATE pgmaint.backups p
           SET removed_at = clock_timestamp()
         WHERE p.kind = 'pitr_backup' AND p.status = 'ok' AND p.removed_at IS NULL
           AND p.detail->>'stanza' = _pitr_sync.stanza AND p.detail->>'repo' = _pitr_sync.repo
           AND p.detail->>'label' <> ALL (labels)
        RETURNING p.detail->>'label' AS label
    )
    SELECT coalesce(array_agg(r.label ORDER BY r.label), '{}') INTO removed FROM r;
END
$$;

COMMENT ON FUNCTION pgmaint._pitr_sync(text, text, jsonb) IS
'Internal: records the pgBackRest backups of a stanza and repository that pgBackRest lists (pgbackrest info --output=json) and pgmaint.backups lacks, and marks removed the recorded ones it no longer lists; returns the number recorded and the labels removed.';

REVOKE ALL ON FUNCTION pgmaint._pitr_sync(text, text, jsonb) FROM PUBLIC;

-- Writes one marker row (committed by the caller's statement) and forgets
-- markers older than 35 days.
CREATE OR REPLACE FUNCTION pgmaint._pitr_mark(note text, OUT id bigint, OUT written_at timestamptz)
RETURNS record
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF note IS NULL OR length(note) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'a point-in-time recovery marker needs a note of 1 to 200 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM pgmaint.pitr_markers m WHERE m.written_at < clock_timestamp() - interval '35 days';
    INSERT INTO pgmaint.pitr_markers AS m (note) VALUES (_pitr_mark.note)
    RETURNING m.id, m.written_at INTO _pitr_mark.id, _pitr_mark.written_at;
END
$$;

COMMENT ON FUNCTION pgmaint._pitr_mark(text) IS
'Internal: writes a row to pgmaint.pitr_markers (a point a restore drill can check) and deletes markers older than 35 days; returns its id and time.';

REVOKE ALL ON FUNCTION pgmaint._pitr_mark(text) FROM PUBLIC;

-- Whether point-in-time recovery is in use: an event of pgmaint_backup pitr
-- is recorded, or archive_command runs pgBackRest.
CREATE OR REPLACE FUNCTION pgmaint._pitr_in_use()
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, so that a session (and the worker's pitr checks) plans this once
    RETURN EXISTS (SELECT 1 FROM pgmaint.backups b
                    WHERE b.kind IN ('pitr_setup', 'pitr_backup', 'pitr_expire', 'pitr_restore', 'pitr_drill'))
        OR current_setting('archive_command') ~ 'pgbackrest.*archive-push';
END
$$;

COMMENT ON FUNCTION pgmaint._pitr_in_use() IS
'Internal: true when pgmaint.backups holds an event of pgmaint_backup pitr or archive_command runs pgbackrest archive-push.';

REVOKE ALL ON FUNCTION pgmaint._pitr_in_use() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION pgmaint._pitr_in_use() TO pg_monitor;

-- The recovery point of WAL archiving: how much WAL, and how many seconds of
-- writes, are not archived yet.  The rule (one home, read by the
-- recovery_point check):
--   - the archive covers WAL up to the end of the newest archived segment
--     (pg_stat_archiver's last file, or the newest .done file in
--     pg_wal/archive_status: the statistics can miss the files archived
--     during a shutdown);
--   - everything written is archived (the current WAL position is at or
--     before that end): 0, however old the segment is (an idle server is
--     not behind);
--   - only the open segment is unarchived (no file waits) and, with
--     track_commit_timestamp, no transaction committed since the newest
--     archived segment was closed: 0 (the WAL after it is a checkpoint's or
--     a standby snapshot's, which an idle server writes and never switches
--     out for);
--   - otherwise, with no file waiting: the time since the newest archived
--     segment, at most archive_timeout (the checkpointer switches out a
--     segment with writes that old, so none older stays unarchived while
--     the archiver keeps up).  After a start, PostgreSQL 15 honours
--     archive_timeout only from the checkpointer's first checkpoint on (its
--     first sleep, begun during startup, lasts checkpoint_timeout): until
--     one has happened the bound is checkpoint_timeout + archive_timeout;
--   - files wait for the archiver (it fails or falls behind): the time since
--     the last success or the oldest waiting file, whichever is older.
CREATE OR REPLACE FUNCTION pgmaint.recovery_point(
    OUT archive_mode text, OUT archive_timeout interval,
    OUT last_archived_wal text, OUT last_archived_at timestamptz,
    OUT archived_through pg_lsn, OUT current_lsn pg_lsn, OUT unarchived_bytes numeric,
    OUT waiting_files bigint, OUT oldest_waiting_at timestamptz,
    OUT lag interval, OUT message text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    seg text;
    done_seg text;
    done_at timestamptz;
    partial boolean := false;
    segsize numeric;
    since timestamptz;
    commits_known boolean := current_setting('track_commit_timestamp')::boolean;
    checkpointed boolean;
    cap interval;
BEGIN
    archive_mode := current_setting('archive_mode');
    -- current_setting(), not pg_settings: that view builds every setting's row
    archive_timeout := current_setting('archive_timeout')::interval;
    SELECT * INTO a FROM pg_catalog.pg_stat_archiver;
    last_archived_wal := a.last_archived_wal;
    last_archived_at := a.last_archived_time;
    IF pg_is_in_recovery() THEN
        lag := interval '0';
        message := 'a standby: its primary archives the WAL';
        RETURN;
    END IF;
    IF archive_mode = 'off' THEN
        message := 'WAL archiving is off (archive_mode = off)';
        RETURN;
    END IF;
    IF NOT has_function_privilege('pg_catalog.pg_ls_archive_statusdir()', 'EXECUTE') THEN
        message := 'cannot list pg_wal/archive_status: the caller lacks pg_monitor';
        RETURN;
    END IF;

    SELECT count(*) FILTER (WHERE f.name LIKE '%.ready'),
           min(f.modification) FILTER (WHERE f.name LIKE '%.ready'),
           max(substr(f.name, 1, 24)) FILTER (WHERE f.name ~ '^[0-9A-F]{24}\.done$')
      INTO waiting_files, oldest_waiting_at, done_seg
      FROM pg_catalog.pg_ls_archive_statusdir() f;
    SELECT f.modification INTO done_at
      FROM pg_catalog.pg_ls_archive_statusdir() f WHERE f.name = done_seg || '.done';

    -- a segment, or a backup history file (written after its segment was
    -- archived), is archived through the segment's end; a .partial file
    -- (the old timeline's last segment at a promotion) only to its start
    IF a.last_archived_wal ~ '^[0-9A-F]{24}' THEN
        seg := substr(a.last_archived_wal, 1, 24);
        partial := a.last_archived_wal LIKE '%.partial';
    END IF;
    IF done_seg IS NOT NULL AND (seg IS NULL OR done_seg > seg) THEN
        seg := done_seg;
        partial := false;
    END IF;
    since := greatest(a.last_archived_time, done_at);
    current_lsn := pg_current_wal_lsn();
    IF seg IS NOT NULL THEN
        segsize := pg_size_bytes(current_setting('wal_segment_size'));
        archived_through := '0/0'::pg_lsn
            + (('x' || substr(seg, 9, 8))::bit(32)::bigint::numeric * 4294967296
               + (('x' || substr(seg, 17, 8))::bit(32)::bigint + CASE WHEN partial THEN 0 ELSE 1 END) * segsize);
        unarchived_bytes := greatest(current_lsn - archived_through, 0);
    END IF;

    IF unarchived_bytes = 0 AND waiting_files = 0 THEN
        lag := interval '0';
        message := format('every WAL byte written is archived (through %s, the end of %s, archived at %s)',
                          archived_through, seg,
                          coalesce(to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), 'an unknown time'));
    ELSIF waiting_files = 0 AND commits_known AND since IS NOT NULL
          AND coalesce((SELECT c.timestamp FROM pg_catalog.pg_last_committed_xact() c) <= since, true) THEN
        lag := interval '0';
        message := format('every committed transaction is archived (through %s, archived at %s); the %s of WAL after it hold no commit',
                          seg, to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                          coalesce(pg_size_pretty(unarchived_bytes), 'bytes'));
    ELSIF waiting_files = 0 THEN
        lag := date_trunc('second', clock_timestamp()
                          - coalesce(since, a.stats_reset, pg_postmaster_start_time()));
        checkpointed := (SELECT c.checkpoint_time FROM pg_catalog.pg_control_checkpoint() c)
                        >= date_trunc('second', pg_postmaster_start_time());
        IF archive_timeout > interval '0' THEN
            cap := archive_timeout;
            IF NOT checkpointed
               AND clock_timestamp() - pg_postmaster_start_time()
                   < archive_timeout + current_setting('checkpoint_timeout')::interval THEN
                cap := archive_timeout + current_setting('checkpoint_timeout')::interval;
            END IF;
            IF lag > cap THEN
                lag := cap;
            END IF;
        END IF;
        message := format('%s of WAL in the open segment is not archived yet, written in the last %s at most (archive_timeout %s); the newest archived segment %s at %s%s',
                          coalesce(pg_size_pretty(unarchived_bytes), 'an unknown amount'),
                          extract(epoch FROM lag)::bigint || ' s',
                          current_setting('archive_timeout'),
                          coalesce(seg, 'none'),
                          coalesce(to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), 'never'),
                          CASE WHEN NOT commits_known
                               THEN '; with track_commit_timestamp off an idle server shows this bound too (pgmaint_backup pitr setup turns it on)'
                               ELSE '' END
                          || CASE WHEN cap > archive_timeout
                                  THEN format('; no checkpoint since the server started at %s, and until one PostgreSQL does not switch WAL files for archive_timeout (run CHECKPOINT)',
                                              to_char(pg_postmaster_start_time() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'))
                                  ELSE '' END);
    ELSE
        since := least(coalesce(since, oldest_waiting_at), oldest_waiting_at);
        lag := date_trunc('second', clock_timestamp() - since);
        message := format('%s WAL file(s) wait for the archiver (the oldest since %s), %s not archived: writes of the last %s would be lost with the disk; the newest archived segment %s, %s failure(s) since the statistics were reset',
                          waiting_files,
                          to_char(oldest_waiting_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                          coalesce(pg_size_pretty(unarchived_bytes), 'an unknown amount'),
                          CASE WHEN lag < interval '1 hour' THEN extract(epoch FROM lag)::bigint || ' s'
                               ELSE pgmaint._backup_age_text(lag) END,
                          coalesce(seg, 'none'), a.failed_count);
    END IF;
END
$$;

COMMENT ON FUNCTION pgmaint.recovery_point() IS
'The recovery point of WAL archiving: archive_mode and archive_timeout, the last archived WAL file and when, the WAL position it covers, the current position, the bytes not archived, the files waiting for the archiver, and lag: how far the archive trails the current position in time (0 when everything written, or with track_commit_timestamp every commit, is archived; at most archive_timeout while the archiver keeps up).';

REVOKE ALL ON FUNCTION pgmaint.recovery_point() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION pgmaint.recovery_point() TO pg_monitor;

-- The state of point-in-time recovery as pgmaint_backup pitr recorded it.
CREATE OR REPLACE FUNCTION pgmaint.pitr_status(
    OUT in_use boolean, OUT stanza text, OUT repo text, OUT since timestamptz,
    OUT last_full_at timestamptz, OUT last_full_label text, OUT last_full_age interval,
    OUT last_backup_at timestamptz, OUT last_backup_label text, OUT last_backup_type text,
    OUT last_backup_age interval,
    OUT last_attempt_at timestamptz, OUT last_attempt_status text, OUT last_attempt_error text,
    OUT last_drill_at timestamptz, OUT last_drill_status text, OUT last_drill_error text,
    OUT last_drill_age interval, OUT last_drill_target timestamptz,
    OUT backups_kept bigint)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, so that a session (and the worker's pitr checks) plans this once
    WITH p AS (
        SELECT b.* FROM pgmaint.backups b
         WHERE b.kind IN ('pitr_setup', 'pitr_backup', 'pitr_expire', 'pitr_restore', 'pitr_drill')
    ),
    setup AS (
        SELECT p.detail FROM p WHERE p.kind = 'pitr_setup' AND p.status = 'ok'
         ORDER BY p.started DESC, p.id DESC LIMIT 1
    ),
    good AS (
        SELECT p.started, p.detail->>'label' AS label, p.detail->>'type' AS type
          FROM p WHERE p.kind = 'pitr_backup' AND p.status = 'ok' AND p.removed_at IS NULL
    ),
    lf AS (SELECT * FROM good WHERE good.type = 'full' ORDER BY good.started DESC LIMIT 1),
    lb AS (SELECT * FROM good WHERE good.type IN ('full', 'diff') ORDER BY good.started DESC LIMIT 1),
    la AS (
        -- pgBackRest's times have whole seconds: within one, the later record
        SELECT p.started, p.status, p.error FROM p WHERE p.kind = 'pitr_backup'
         ORDER BY date_trunc('second', p.started) DESC, p.id DESC LIMIT 1
    ),
    ld AS (
        SELECT p.finished, p.status, p.error, (p.detail->>'target')::timestamptz AS target
          FROM p WHERE p.kind = 'pitr_drill'
         ORDER BY p.started DESC, p.id DESC LIMIT 1
    )
    SELECT pgmaint._pitr_in_use(), setup.detail->>'stanza', setup.detail->>'repo',
           (SELECT min(p.started) FROM p),
           lf.started, lf.label, date_trunc('second', clock_timestamp() - lf.started),
           lb.started, lb.label, lb.type, date_trunc('second', clock_timestamp() - lb.started),
           la.started, la.status, la.error,
           ld.finished, ld.status, ld.error, date_trunc('second', clock_timestamp() - ld.finished),
           ld.target,
           (SELECT count(*) FROM good)
      INTO in_use, stanza, repo, since, last_full_at, last_full_label, last_full_age,
           last_backup_at, last_backup_label, last_backup_type, last_backup_age,
           last_attempt_at, last_attempt_status, last_attempt_error,
           last_drill_at, last_drill_status, last_drill_error, last_drill_age,
           last_drill_target, backups_kept
      FROM (SELECT 1) one
      LEFT JOIN setup ON true
      LEFT JOIN lf ON true
      LEFT JOIN lb ON true
      LEFT JOIN la ON true
      LEFT JOIN ld ON true;
END
$$;

COMMENT ON FUNCTION pgmaint.pitr_status() IS
'Point-in-time recovery as pgmaint_backup pitr recorded it: whether it is in use, the stanza and repository of the last setup, the newest full and the newest full or differential pgBackRest backup with their ages, the last backup attempt, the last restore drill (result, age, target), and the backups pgBackRest still keeps.';

REVOKE ALL ON FUNCTION pgmaint.pitr_status() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION pgmaint.pitr_status() TO pg_monitor;

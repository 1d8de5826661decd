-- Backups: the history that the pgmaint_backup command records, its summary
-- backup_status(), and the inputs of the "backup" check of health().

-- History of backups and of what was done with them (verify, prune, restore,
-- drill).  A member of the extension and not a configuration table, so
-- pg_dump leaves it out: a restored database does not claim the source's
-- backups as its own.
CREATE TABLE pgmaint.backups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL
               CHECK (kind IN ('backup', 'verify', 'prune', 'restore', 'drill',
                               'pitr_setup', 'pitr_backup', 'pitr_expire', 'pitr_restore', 'pitr_drill')),
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

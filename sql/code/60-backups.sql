-- Backups: the history that the pgmaint_backup command records and its
-- summary backup_status(), which the "backup" check of health() reads
-- (src/checkrecords.c).

-- Records one event of the pgmaint_backup command and applies its effect on
-- the backup it concerns (a failed verify marks the backup failed, a prune
-- marks the files it deleted as removed).
CREATE OR REPLACE FUNCTION pgmaint._backup_record(
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

-- A table's row count for the backup's record and the drill's comparison,
-- counted as the table's owner (src/rowcount.c): pgmaint_backup runs as a
-- superuser or a role that reads all data, and an owner's table turned into
-- a view must not run its code with those rights.
CREATE OR REPLACE FUNCTION pgmaint._row_count(rel regclass)
RETURNS bigint
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_row_count';

COMMENT ON FUNCTION pgmaint._row_count(regclass) IS
'Internal: the rows of an ordinary table (not of its children), counted as its owner in a security-restricted operation after checking that it still is one; the caller needs SELECT on it and no row-level security applying to it. For pgmaint_backup: granted to nobody (GRANT it to a dedicated backup role).';

REVOKE ALL ON FUNCTION pgmaint._row_count(regclass) FROM PUBLIC;

-- The age after which the newest verified backup is stale.
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

REVOKE ALL ON FUNCTION pgmaint._backup_max_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._backup_max_age() TO pg_monitor;

-- An age as "27h 05m", the same whatever the session's IntervalStyle.
CREATE OR REPLACE FUNCTION pgmaint._backup_age_text(age interval)
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

REVOKE ALL ON FUNCTION pgmaint._backup_age_text(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._backup_age_text(interval) TO pg_monitor;

-- Last backup, last verified backup and last drill, with their ages and results.
CREATE OR REPLACE FUNCTION pgmaint.backup_status(
    OUT last_backup_at timestamptz, OUT last_backup_status text,
    OUT last_backup_file text, OUT last_backup_error text,
    OUT last_backup_age interval,
    OUT last_verified_at timestamptz, OUT last_verified_file text,
    OUT last_verified_age interval,
    OUT last_drill_at timestamptz, OUT last_drill_status text,
    OUT last_drill_error text, OUT last_drill_age interval,
    OUT max_age interval, OUT backups_kept bigint)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, so that a session (and the worker's backup check) plans this once
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
      INTO last_backup_at, last_backup_status, last_backup_file, last_backup_error,
           last_backup_age, last_verified_at, last_verified_file, last_verified_age,
           last_drill_at, last_drill_status, last_drill_error, last_drill_age,
           max_age, backups_kept
      FROM (SELECT 1) one
      LEFT JOIN lb ON true
      LEFT JOIN lv ON true
      LEFT JOIN ld ON true;
END
$$;

COMMENT ON FUNCTION pgmaint.backup_status() IS
'The last backup, the last verified backup and the last restore drill recorded by pgmaint_backup: when, which file, result and age; max_age is pgmaint.backup_max_age; backups_kept counts good backups not yet pruned.';

REVOKE ALL ON FUNCTION pgmaint.backup_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.backup_status() TO pg_monitor;


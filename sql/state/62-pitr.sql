-- Point-in-time recovery with pgBackRest: what "pgmaint_backup pitr" records
-- (its events in pgmaint.backups, the markers its drills restore to), the
-- recovery point of WAL archiving, pitr_status(), and the checks of health()
-- that watch them: pitr_full_backup_age, pitr_backup_age, pitr_backup and
-- recovery_point.  pgBackRest itself is never called from SQL: the command
-- records what pgBackRest reports (pgmaint._pitr_sync), the checks read it.

-- The rows a restore drill looks for: written just before and just after the
-- point it restores to.  An extension member without pg_extension_config_dump:
-- pg_dump leaves the rows out; a pgBackRest restore has them, as of its target.
CREATE TABLE pgmaint.pitr_markers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    written_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    note       text NOT NULL
);

COMMENT ON TABLE pgmaint.pitr_markers IS
'Marker rows of pgmaint_backup pitr (after each backup, around each drill''s target): a drill restores to a point between two of them and checks that the one before is there and the one after is not. Kept 35 days; not dumped by pg_dump.';

GRANT SELECT ON pgmaint.pitr_markers TO pg_monitor;

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

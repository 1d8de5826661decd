-- pgmaint 1.1 -> 1.2: the state delta.  The Makefile appends every code
-- fragment (sql/code/*.sql) to it, so this file holds only what replaying
-- the code cannot do: DROPs of functions whose result type, OUT columns or
-- argument names changed, ALTER TABLE, and guarded rewrites of seed rows
-- (never of rows a user has edited).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.2'" to load this file. \quit

-- The overall status counts a check whose measurement failed as warning:
-- _overall_status() takes which failed.
DROP FUNCTION pgmaint._overall_status(text[]);

-- The checks are evaluated in C (src/evaluate.c, src/check*.c), once by the
-- worker and read by every reader: the SQL functions that measured them are
-- gone, and health() takes "live".  A view or function of the user's that
-- depends on health() makes this DROP fail: drop it first, and create it
-- again on health() after the update (docs/upgrading.md).
DROP FUNCTION pgmaint.health();
DROP FUNCTION pgmaint._measure_checks();
DROP FUNCTION pgmaint._sampler_summary();
DROP FUNCTION pgmaint._check_sessions();
DROP FUNCTION pgmaint._check_sampler();
DROP FUNCTION pgmaint._check_activity();
DROP FUNCTION pgmaint._check_wraparound();
DROP FUNCTION pgmaint._check_catalog();
DROP FUNCTION pgmaint._invalid_indexes();
DROP FUNCTION pgmaint._check_retention();
DROP FUNCTION pgmaint._check_tables();
DROP FUNCTION pgmaint._maintenance_age_worst();
DROP FUNCTION pgmaint._check_maintenance_age();
DROP FUNCTION pgmaint._check_schema();
DROP FUNCTION pgmaint._check_wal();
DROP FUNCTION pgmaint._check_space();
DROP FUNCTION pgmaint._check_replication();
DROP FUNCTION pgmaint._backup_check();
DROP FUNCTION pgmaint._archiver_check();
DROP FUNCTION pgmaint._retention_check();

-- Peer parity: OUT columns added to vacuum_stats()
-- (mxid_age), table_sizes() (note), _table_health() and
-- _table_health_sampled() (falling_inserts).  None of them is granted by
-- grant_tuning(): the code that follows grants them to pg_monitor again.
DROP FUNCTION pgmaint.vacuum_stats();
DROP FUNCTION pgmaint.table_sizes();
DROP FUNCTION pgmaint._table_health(bigint, bigint);
DROP FUNCTION pgmaint._table_health_sampled();

-- The new rules of the sequences and autovacuum_behind checks, in their
-- descriptions: rewritten only where a user left the 1.1 text.
UPDATE pgmaint.thresholds SET description = 'Highest share, in %, of a sequence''s range already used, up to the smaller of its maximum and the type of every column it feeds (cycling sequences only when they feed a unique key; a sequence never called is measured from its start value); the message counts the sequences at or above the warning (sequences() lists them).'
 WHERE check_name = 'sequences'
   AND description = 'Highest share, in %, of a sequence''s range already used, up to the smaller of its maximum and the type of every column it feeds (cycling sequences only when they feed a unique key).';
UPDATE pgmaint.thresholds SET description = 'Tables where autovacuum falls behind: dead tuples above twice the PG15 vacuum threshold, inserts since the last vacuum above twice the insert threshold (autovacuum_vacuum_insert_threshold and _scale_factor), or a freeze age past autovacuum_freeze_max_age, and no vacuum for 10 autovacuum_naptime (as vacuum_stats().falling_behind).'
 WHERE check_name = 'autovacuum_behind'
   AND description = 'Tables where autovacuum falls behind: dead tuples above twice the PG15 vacuum threshold and no vacuum for 10 autovacuum_naptime (as vacuum_stats().falling_behind).';

-- PostgreSQL 17: vacuum_progress() gains the memory-bounded dead-tuple
-- columns (dead_tuple_bytes, max_dead_tuple_bytes).
DROP FUNCTION pgmaint.vacuum_progress();

-- Retention in the owner context.  Replaced: the statement runner
-- and the advisory lock SQL could reach (the run loop and its lock are C
-- now), the measurements as the caller, _retention_store()'s forgeable
-- oldest row, and retention_plan()'s OUT columns (a new error column).
-- Tuning roles get the new ones back at the end of sql/code/70-retention.sql.
DROP FUNCTION pgmaint._retention_exec(regclass, text[], timestamptz, integer, text);
DROP FUNCTION pgmaint._retention_lock(regclass, boolean);
DROP FUNCTION pgmaint._retention_oldest(regclass);
DROP FUNCTION pgmaint._retention_oldest_of(regclass, name);
DROP FUNCTION pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz);
DROP FUNCTION pgmaint.retention_plan();

-- Only a run records a run: what grant_tuning() gave in 1.1 and gives no more.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT p.oid::pg_catalog.regprocedure AS f, a.grantee::pg_catalog.regrole AS grantee
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
                   'pgmaint._retention_done(name, regclass, jsonb, timestamptz)'::pg_catalog.regprocedure,
                   'pgmaint._retention_authorized(name, regclass)'::pg_catalog.regprocedure])
           AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM %s', r.f, r.grantee);
    END LOOP;
END
$$;

-- Point-in-time recovery with pgBackRest: the pitr_* kinds of backups, the
-- drills' marker rows, and the rows of the four new checks.
ALTER TABLE pgmaint.backups DROP CONSTRAINT backups_kind_check,
    ADD CONSTRAINT backups_kind_check CHECK (kind IN ('backup', 'verify', 'prune', 'restore', 'drill',
                                                   'pitr_setup', 'pitr_backup', 'pitr_expire', 'pitr_restore', 'pitr_drill'));

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

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description)
SELECT * FROM (VALUES
    ('pitr_full_backup_age', 691200, 1296000,
     'Age in seconds of the newest full pgBackRest backup recorded by pgmaint_backup pitr (8 and 15 days: a weekly full backup missed once, twice); 0 while point-in-time recovery is not set up.'),
    ('pitr_backup_age', 129600, 259200,
     'Age in seconds of the newest full or differential pgBackRest backup (36 and 72 hours: a daily differential backup missed); 0 while point-in-time recovery is not set up.'),
    ('pitr_backup', 1, 2,
     'pgBackRest backups and restore drills: 0 ok, 1 no restore drill has passed yet, 2 the last backup or the last drill failed, or archive_mode is off although backups are recorded.'),
    ('recovery_point', 300, 1800,
     'Seconds of writes at risk: how far the last archived WAL trails the current WAL position in time (0 when everything written, or with track_commit_timestamp every commit, is archived, so an idle server is not behind; at most archive_timeout while the archiver keeps up).')) AS v(check_name, warning, critical, description)
 WHERE NOT EXISTS (SELECT 1 FROM pgmaint.thresholds t WHERE t.check_name = v.check_name);

INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help)
SELECT * FROM (VALUES
    ('pitr_full_backup_age', 'pgmaint_pitr_full_backup_age_seconds', 'seconds', 1,
     'Age of the newest full pgBackRest backup (0 while point-in-time recovery is not set up).'),
    ('pitr_backup_age', 'pgmaint_pitr_backup_age_seconds', 'seconds', 1,
     'Age of the newest full or differential pgBackRest backup (0 while point-in-time recovery is not set up).'),
    ('pitr_backup', 'pgmaint_pitr_backup_state', '', 1,
     'pgBackRest backups and drills: 0 ok, 1 no restore drill passed yet, 2 the last backup or drill failed or archiving is off.'),
    ('recovery_point', 'pgmaint_recovery_point_lag_seconds', 'seconds', 1,
     'How far the last archived WAL trails the current WAL position, in time: the writes a lost disk would take with it.')) AS v(check_name, family, unit, scale, help)
 WHERE NOT EXISTS (SELECT 1 FROM pgmaint.check_metrics t WHERE t.check_name = v.check_name);


-- Issue 30: a worker per database; the databases left without one are a check.
INSERT INTO pgmaint.thresholds (check_name, warning, critical, description)
SELECT * FROM (VALUES
    ('databases_unsampled', 1, NULL::numeric,
     'Connectable databases that may have pgmaint but have no worker: pgmaint.max_databases workers run already, or max_worker_processes had no slot free (pgmaint.workers() names them).')) AS v(check_name, warning, critical, description)
 WHERE NOT EXISTS (SELECT 1 FROM pgmaint.thresholds t WHERE t.check_name = v.check_name);

INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help)
SELECT * FROM (VALUES
    ('databases_unsampled', 'pgmaint_databases_unsampled', '', 1,
     'Connectable databases that may have pgmaint but have no worker (pgmaint.max_databases or max_worker_processes reached).')) AS v(check_name, family, unit, scale, help)
 WHERE NOT EXISTS (SELECT 1 FROM pgmaint.check_metrics t WHERE t.check_name = v.check_name);

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

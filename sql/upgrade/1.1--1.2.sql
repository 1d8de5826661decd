-- pgmaint 1.1 -> 1.2: the state delta.  The Makefile appends every code
-- fragment (sql/code/*.sql) to it, so this file holds only what replaying
-- the code cannot do: DROPs of functions whose result type, OUT columns or
-- argument names changed, ALTER TABLE, and guarded rewrites of seed rows
-- (never of rows a user has edited).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.2'" to load this file. \quit

-- Retention in the owner context (issue 26).  Replaced: the statement runner
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

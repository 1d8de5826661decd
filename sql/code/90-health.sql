-- health(): one summary of the server's health, and its checks as rows.
-- The checks are evaluated in C (src/evaluate.c and src/check*.c): by the
-- worker once per pgmaint.health_interval, kept in shared memory, and read
-- here when it is of this database, fresh and the caller may see all of it;
-- otherwise evaluated now, by the same code (src/healthread.c).  Either way
-- the values are graded against pgmaint.thresholds as this snapshot sees it.

-- The graded checks: health_checks() and whether each one's measurement failed.
CREATE OR REPLACE FUNCTION pgmaint._graded_checks(
    OUT check_name text, OUT status text, OUT value numeric,
    OUT warning numeric, OUT critical numeric, OUT message text, OUT hint text,
    OUT failed boolean)
RETURNS SETOF record
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_graded_checks';

COMMENT ON FUNCTION pgmaint._graded_checks() IS
'Internal: health_checks() with failed, true for a check whose measurement failed (it is unknown, and counts as warning in the overall status).';

REVOKE ALL ON FUNCTION pgmaint._graded_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._graded_checks() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.health_checks(
    OUT check_name text, OUT status text, OUT value numeric,
    OUT warning numeric, OUT critical numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_health_checks';

COMMENT ON FUNCTION pgmaint.health_checks() IS
'Each health check as a row: status (ok, warning, critical, unknown: no value, or no row in pgmaint.thresholds), value, thresholds, message and hint; from the worker''s evaluation when health() would read it, else measured now.';

REVOKE ALL ON FUNCTION pgmaint.health_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.health_checks() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.health(live boolean DEFAULT false)
RETURNS jsonb
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_health';

COMMENT ON FUNCTION pgmaint.health(boolean) IS
'Summary of the server''s health as jsonb: overall status (the worst check; an unknown check counts as ok, or as warning when its measurement failed) and since when it holds, the server''s role (primary or standby) and system identifier (a standby shares its primary''s), the sampler, and every check. source says where the checks come from: "worker" (its evaluation in shared memory, measured at measured_at, when it is of this database, at most two health intervals old and the caller has pg_monitor''s privileges) or "live" (measured now); live => true always measures now.';

REVOKE ALL ON FUNCTION pgmaint.health(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.health(boolean) TO pg_monitor;

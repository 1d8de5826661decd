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

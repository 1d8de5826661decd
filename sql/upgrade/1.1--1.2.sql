-- pgmaint 1.1 -> 1.2: the state delta.  The Makefile appends every code
-- fragment (sql/code/*.sql) to it, so this file holds only what replaying
-- the code cannot do: DROPs of functions whose result type, OUT columns or
-- argument names changed, ALTER TABLE, and guarded rewrites of seed rows
-- (never of rows a user has edited).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.2'" to load this file. \quit

-- The overall status counts a check whose measurement failed as warning:
-- _measure_checks() says which failed, _overall_status() takes it.
DROP FUNCTION pgmaint._overall_status(text[]);
DROP FUNCTION pgmaint._measure_checks();

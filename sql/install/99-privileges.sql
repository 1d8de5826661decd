-- Privileges, in one place.  Nothing in pgmaint is callable by PUBLIC: read
-- functions (and the internal functions they call) are for pg_monitor;
-- action functions are for superusers and roles granted them explicitly.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgmaint FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO pg_monitor;

-- Actions and their internals.
REVOKE ALL ON FUNCTION
    pgmaint._audit(text, text, jsonb, boolean),
    pgmaint._request_samples(integer),
    pgmaint.terminate_leaks(interval, boolean)
FROM pg_monitor;

-- Reads files below any directory it is given: superusers only (the tests
-- point it at fixture trees; detected_resources() reads the server's own).
REVOKE ALL ON FUNCTION pgmaint._detect_resources(text) FROM pg_monitor;

-- Backups: only the role that runs pgmaint_backup records (README, "Backups").
REVOKE ALL ON FUNCTION
    pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text)
FROM pg_monitor;

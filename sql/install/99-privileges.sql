-- Privileges, in one place.  Nothing in pgmaint is callable by PUBLIC: read
-- functions (and the internal functions they call) are for pg_monitor;
-- action functions are for superusers and roles granted them explicitly.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgmaint FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO pg_monitor;

-- Actions and their internals.
REVOKE ALL ON FUNCTION
    pgmaint._audit(text, text, jsonb, boolean)
FROM pg_monitor;

-- Health events (issue 15): the worker's record of each change of a check's
-- status, the NOTIFY payload it sends, and events() to read them back.
-- The worker (src/events.c) evaluates health_checks() every
-- pgmaint.health_interval and writes here on a primary; on a hot standby it
-- keeps the recent events in shared memory (_memory_events()).

-- The NOTIFY payload of one event: compact JSON, the message cut so that the
-- payload stays far below NOTIFY's 8000-byte limit.
CREATE OR REPLACE FUNCTION pgmaint._health_event_payload(
    at timestamptz, check_name text, old_status text, new_status text,
    value numeric, message text, overall text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_build_object(
               'at', at, 'database', pg_catalog.current_database(),
               'check', check_name, 'old_status', old_status, 'new_status', new_status,
               'value', value, 'overall', overall,
               'message', pg_catalog."left"(message, 500))::text;
$$;

COMMENT ON FUNCTION pgmaint._health_event_payload(timestamptz, text, text, text, numeric, text, text) IS
'Internal: the JSON payload of NOTIFY pgmaint_health for one event (the message cut to 500 characters, never the JSON).';

REVOKE ALL ON FUNCTION pgmaint._health_event_payload(timestamptz, text, text, text, numeric, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._health_event_payload(timestamptz, text, text, text, numeric, text, text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._memory_events(
    OUT at timestamptz, OUT check_name text, OUT old_status text, OUT new_status text,
    OUT value text, OUT message text, OUT hint text, OUT overall text)
RETURNS SETOF record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_memory_events';

COMMENT ON FUNCTION pgmaint._memory_events() IS
'Internal: the recent health events the worker kept in shared memory on a hot standby (none when pgmaint is not preloaded).';

REVOKE ALL ON FUNCTION pgmaint._memory_events() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._memory_events() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.events(since timestamptz DEFAULT NULL,
    OUT at timestamptz, OUT check_name text, OUT old_status text, OUT new_status text,
    OUT value numeric, OUT message text, OUT hint text, OUT overall text, OUT source text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT e.at, e.check_name, e.old_status, e.new_status, e.value, e.message,
               e.hint, e.overall, 'table'::text
          FROM pgmaint.health_events e
         WHERE since IS NULL OR e.at OPERATOR(pg_catalog.>=) since
        UNION ALL
        SELECT m.at, m.check_name, m.old_status, m.new_status, m.value::numeric, m.message,
               m.hint, m.overall, 'memory'::text
          FROM pgmaint._memory_events() m
         WHERE since IS NULL OR m.at OPERATOR(pg_catalog.>=) since
         ORDER BY 1, 9;
END
$$;

COMMENT ON FUNCTION pgmaint.events(timestamptz) IS
'Health events since a time (all when NULL), oldest first: source "table" for pgmaint.health_events, "memory" for those a hot standby''s worker kept in shared memory.';

REVOKE ALL ON FUNCTION pgmaint.events(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.events(timestamptz) TO pg_monitor;

-- When the current overall status began: the first event of the latest run
-- of events whose overall status is this one (NULL when no event recorded it).
CREATE OR REPLACE FUNCTION pgmaint._status_since(status text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text := CASE WHEN pg_catalog.pg_is_in_recovery() THEN 'memory' ELSE 'table' END;
BEGIN
    RETURN (WITH e AS (SELECT * FROM pgmaint.events(NULL) x WHERE x.source = src)
        SELECT pg_catalog.min(e.at)
          FROM e
         WHERE e.overall = status
           AND e.at > coalesce((SELECT pg_catalog.max(d.at) FROM e d WHERE d.overall <> status),
                               '-infinity'));
EXCEPTION
    -- a caller that may run health() but not read the events gets no since
    WHEN insufficient_privilege THEN
        RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgmaint._status_since(text) IS
'Internal: when the overall status "status" began, from the worker''s health events (NULL when no event recorded it, or when the caller may not read them).';

REVOKE ALL ON FUNCTION pgmaint._status_since(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._status_since(text) TO pg_monitor;

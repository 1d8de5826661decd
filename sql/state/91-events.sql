-- Health events (issue 15): the worker's record of each change of a check's
-- status, the NOTIFY payload it sends, and events() to read them back.
-- The worker (src/events.c) evaluates health_checks() every
-- pgmaint.health_interval and writes here on a primary; on a hot standby it
-- keeps the recent events in shared memory (_memory_events()).

CREATE TABLE pgmaint.health_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    check_name text NOT NULL,
    old_status text,
    new_status text NOT NULL,
    value numeric,
    message text,
    hint text,
    overall text NOT NULL
);

CREATE INDEX health_events_at_idx ON pgmaint.health_events (at);

COMMENT ON TABLE pgmaint.health_events IS
'One row per change of a health check''s status seen by the worker (old_status NULL: the first status recorded for the check); overall is the overall status after the change.  Pruned after pgmaint.history_retention.';

REVOKE ALL ON TABLE pgmaint.health_events FROM PUBLIC;

GRANT SELECT ON TABLE pgmaint.health_events TO pg_monitor;

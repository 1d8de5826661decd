-- Space: bloat estimates of tables and indexes, partitioned tables rolled
-- up, and growth.  The worker records sizes and the worst bloat estimates
-- once per pgmaint.growth_interval (src/growth.c runs _record_space()), so
-- that the bloat and disk_full_eta checks read a few rows instead of sizing
-- every table at each health() call.

-- Sizes the worker recorded: the database (relid 0) and its largest tables.
CREATE TABLE pgmaint.size_history (
    taken_at timestamptz NOT NULL,
    relid    oid NOT NULL,
    bytes    bigint NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (taken_at, relid)
);

CREATE INDEX size_history_relid ON pgmaint.size_history (relid, taken_at);

COMMENT ON TABLE pgmaint.size_history IS
'Sizes the worker recorded every pgmaint.growth_interval: pg_database_size (relid 0) and pg_total_relation_size of the largest tables; kept for pgmaint.history_retention, not dumped.';

GRANT SELECT ON pgmaint.size_history TO pg_monitor;

-- The worst bloat estimates of the worker's last measurement.
CREATE TABLE pgmaint.bloat_estimates (
    taken_at     timestamptz NOT NULL,
    relid        oid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('table', 'index')),
    bytes        bigint NOT NULL CHECK (bytes >= 0),
    wasted_bytes bigint NOT NULL CHECK (wasted_bytes >= 0),
    PRIMARY KEY (relid)
);

COMMENT ON TABLE pgmaint.bloat_estimates IS
'The tables and indexes with the most estimated wasted space at the worker''s last measurement (pgmaint.bloat(), replaced each time); read by the bloat check. Not dumped.';

GRANT SELECT ON pgmaint.bloat_estimates TO pg_monitor;

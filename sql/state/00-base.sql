-- pgmaint's state: the tables, types and indexes of a fresh install.  The
-- Makefile assembles pgmaint--X.Y.sql from sql/state/*.sql, sql/code/*.sql
-- and sql/seed/*.sql (the rows a new install starts with), each in name
-- order; an upgrade pgmaint--A--B.sql is the hand-written state delta
-- sql/upgrade/A--B.sql followed by the same sql/code/*.sql.  State and seed
-- rows are written here for new installs and migrated by the deltas; code
-- (functions, procedures, triggers) lives only in sql/code/.  Every object
-- is schema-qualified.

\echo Use "CREATE EXTENSION pgmaint" to load this file. \quit

GRANT USAGE ON SCHEMA pgmaint TO pg_monitor;

-- Alert thresholds of health(); an INSERT of an existing check updates it.
CREATE TABLE pgmaint.thresholds (
    check_name  text PRIMARY KEY,
    warning     numeric,
    critical    numeric,
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    CONSTRAINT thresholds_finite
        CHECK (warning NOT IN ('NaN', 'Infinity', '-Infinity')
               AND critical NOT IN ('NaN', 'Infinity', '-Infinity'))
);

COMMENT ON TABLE pgmaint.thresholds IS
'Warning and critical levels of each health() check (finite numbers or NULL); when critical is below warning, lower values are worse. enabled = false omits the check; a check without a row is unknown.';

SELECT pg_catalog.pg_extension_config_dump('pgmaint.thresholds', '');

GRANT SELECT ON pgmaint.thresholds TO pg_monitor;

-- How each check appears in metrics(): its Prometheus family, in base units.
-- A check declares its family with one row here, inserted in the fragment
-- that adds the check (beside its pgmaint.thresholds row):
--   family  pgmaint_<what it measures>_<unit>, unit one of seconds, bytes,
--           ratio (0-1 for shares; may exceed 1 for a ratio of two figures),
--           or '' for a dimensionless count, flag or state (then no suffix);
--   scale   the factor from the check's value (health_checks().value, in the
--           unit its thresholds use) to the family's unit: 0.01 for a
--           percentage, 1048576 for MB, 1 for seconds and counts; metrics()
--           applies it to the value and to both thresholds;
--   help    the # HELP text, in the family's unit.
-- A check without a row still appears, as pgmaint_check_raw_value{check}
-- in the check's own unit (see its pgmaint.thresholds description).
CREATE TABLE pgmaint.check_metrics (
    check_name text PRIMARY KEY,
    family     text NOT NULL UNIQUE,
    unit       text NOT NULL,
    scale      numeric NOT NULL DEFAULT 1,
    help       text NOT NULL,
    CONSTRAINT check_metrics_unit CHECK (unit IN ('seconds', 'bytes', 'ratio', '')),
    CONSTRAINT check_metrics_family CHECK (
        family ~ '^pgmaint_[a-z][a-z0-9_]*[a-z0-9]$'
        AND family !~ '^pgmaint_(check_|up$|status$|build_info$|samples_total$|in_recovery$|last_sample_|client_backends)'
        AND family !~ '_(total|count|sum|bucket|info|created)$'
        AND CASE WHEN unit = '' THEN family !~ '_(seconds|bytes|ratio)$'
                 ELSE family LIKE '%\_' || unit END),
    CONSTRAINT check_metrics_scale CHECK (scale > 0)
);

COMMENT ON TABLE pgmaint.check_metrics IS
'The Prometheus family of each health check in metrics(): name in base units, unit, the scale from the check''s value and thresholds to that unit, and the HELP text. Not dumped by pg_dump.';

GRANT SELECT ON pgmaint.check_metrics TO pg_monitor;

-- Audit log of every action and dry run.
CREATE TABLE pgmaint.actions (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor   name NOT NULL DEFAULT session_user,
    action  text NOT NULL,
    target  text,
    detail  jsonb,
    dry_run boolean NOT NULL DEFAULT false
);

COMMENT ON TABLE pgmaint.actions IS
'Audit log: one row per action pgmaint took or, with dry_run, would have taken.';

GRANT SELECT ON pgmaint.actions TO pg_monitor;

-- pgmaint 1.0 -> 1.1, written by hand.  Every change of sql/install/*.sql
-- since 1.0 appears here too, so that ALTER EXTENSION pgmaint UPDATE gives
-- an installed database exactly what CREATE EXTENSION pgmaint gives a new
-- one (test/integration/upgrade.sh compares the two catalogs).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.1'" to load this file. \quit

-- ==== Prometheus: base-unit metrics (issue 16) ====

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

-- The Prometheus family of each check (see pgmaint.check_metrics in
-- 00-schema.sql): base units, the scale from the check's value, the HELP text.
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('connections', 'pgmaint_connections_used_ratio', 'ratio', 0.01,
     'Client connections in use as a share of the usable slots (max_connections - superuser_reserved_connections).'),
    ('idle_in_transaction', 'pgmaint_idle_in_transaction_oldest_seconds', 'seconds', 1,
     'How long the oldest session has been idle in a transaction (0 when none is).'),
    ('cache_hit', 'pgmaint_cache_hit_ratio', 'ratio', 0.01,
     'Buffer cache hit ratio of this database: over the last hour when the sampler watches it, else since the statistics reset.'),
    ('sampler', 'pgmaint_sampler_heartbeat_age_intervals', '', 1,
     'Age of the background worker''s heartbeat, in sample intervals (pgmaint.sample_interval).'),
    ('backup', 'pgmaint_backup_state', '', 1,
     'Backups recorded by pgmaint_backup: 0 ok, 1 no verified backup newer than pgmaint.backup_max_age, 2 the last backup or restore drill failed.'),
    ('archiver', 'pgmaint_archiver_failing', '', 1,
     'WAL archiving: 1 when the newest archiving attempt in pg_stat_archiver failed, else 0.'),
    ('long_running_queries', 'pgmaint_longest_query_seconds', 'seconds', 1,
     'How long the longest active statement has run (0 when none runs).'),
    ('blocked_sessions', 'pgmaint_longest_lock_wait_seconds', 'seconds', 1,
     'How long the longest lock wait has lasted (0 when none waits).'),
    ('xid_wraparound', 'pgmaint_xid_age_ratio', 'ratio', 0.01,
     'age(datfrozenxid) of the oldest database as a ratio of autovacuum_freeze_max_age (1 starts anti-wraparound vacuum; writes stop near 10).'),
    ('multixact_wraparound', 'pgmaint_multixact_age_ratio', 'ratio', 0.01,
     'mxid_age(datminmxid) of the oldest database as a ratio of autovacuum_multixact_freeze_max_age.'),
    ('invalid_indexes', 'pgmaint_invalid_indexes', '', 1,
     'Indexes of this database left invalid by a failed CREATE INDEX CONCURRENTLY or REINDEX.'),
    ('sequences', 'pgmaint_sequence_used_ratio', 'ratio', 0.01,
     'Highest share of a sequence''s range already used, in this database.'),
    ('prepared_transactions', 'pgmaint_prepared_transaction_oldest_seconds', 'seconds', 1,
     'Age of the oldest prepared transaction (0 when there is none).'),
    ('inactive_slots', 'pgmaint_inactive_replication_slots', '', 1,
     'Replication slots that no client uses.'),
    ('slot_wal_retention', 'pgmaint_replication_slot_wal_retained_bytes', 'bytes', 1048576,
     'WAL retained by the replication slot that holds the most (0.1 MB resolution).'),
    ('table_cache_hit', 'pgmaint_table_cache_hit_min_ratio', 'ratio', 0.01,
     'Lowest heap cache hit ratio among tables with at least 1,000 heap block reads from outside shared buffers (NaN while none has).'),
    ('dead_tuples', 'pgmaint_dead_tuples_max_ratio', 'ratio', 0.01,
     'Highest share of dead tuples among tables with at least 1,000 live + dead tuples.'),
    ('autovacuum_behind', 'pgmaint_autovacuum_behind_tables', '', 1,
     'Tables where autovacuum falls behind (as vacuum_stats().falling_behind).'),
    ('disk_free', 'pgmaint_disk_available_ratio', 'ratio', 0.01,
     'Available share of the data directory''s file system.');

-- Every family metrics() can show, with its type, HELP text and the labels
-- it adds to database and system_identifier: the fixed families, then one
-- per row of pgmaint.check_metrics.  One home for names and HELP texts:
-- metric_samples() and deploy/prometheus/queries.yaml take them from here.
CREATE FUNCTION pgmaint.metric_families(
    OUT family text, OUT type text, OUT help text, OUT labels text[])
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT f.family, f.type, f.help, f.labels
          FROM (VALUES
            ('pgmaint_up', 'gauge',
             '1 when the background worker''s heartbeat is fresh (the sampler check is ok), else 0.', '{}'::text[]),
            ('pgmaint_status', 'gauge',
             'Overall health: the worst check, 0 ok, 1 warning, 2 critical.', '{}'),
            ('pgmaint_last_sample_timestamp_seconds', 'gauge',
             'When the background worker took its last sample, in seconds since the Unix epoch (NaN before the first).', '{}'),
            ('pgmaint_samples_total', 'counter',
             'Samples the background worker has taken since the server started.', '{}'),
            ('pgmaint_in_recovery', 'gauge',
             '1 when the server is a standby in recovery, else 0.', '{}'),
            ('pgmaint_client_backends_waiting_on_lock', 'gauge',
             'Client backends waiting on a lock, from the worker''s last sample (NaN without one).', '{}'),
            ('pgmaint_build_info', 'gauge',
             'Always 1: the installed pgmaint version and the server version.', '{version,pg_version}'),
            ('pgmaint_client_backends', 'gauge',
             'Client backends of the whole server by state (pg_stat_activity.state), from the worker''s last sample.', '{state}'),
            ('pgmaint_check_status', 'gauge',
             'Status of each health check: 0 ok, 1 warning, 2 critical, -1 unknown.', '{check}'),
            ('pgmaint_check_warning_threshold', 'gauge',
             'Warning level of each check, in the unit of its value family (NaN when unset; below the critical level when lower values are worse).', '{check}'),
            ('pgmaint_check_critical_threshold', 'gauge',
             'Critical level of each check, in the unit of its value family (NaN when unset).', '{check}'),
            ('pgmaint_check_raw_value', 'gauge',
             'Value of each check that has no family of its own in pgmaint.check_metrics, in the check''s own unit (pgmaint.thresholds.description).', '{check}')
          ) AS f(family, type, help, labels)
        UNION ALL
        SELECT m.family, 'gauge', m.help, '{}'::text[]
          FROM pgmaint.check_metrics m;
END
$$;

COMMENT ON FUNCTION pgmaint.metric_families() IS
'Every Prometheus family metrics() can show: name, type, HELP text and the labels it adds to database and system_identifier.';

REVOKE ALL ON FUNCTION pgmaint.metric_families() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metric_families() TO pg_monitor;

-- Every sample of metrics(), as rows: one health_checks() pass, the worker's
-- status and its last sample.  A family without extra labels always has its
-- one sample, NaN (a NULL value) when there is no number (unknown check,
-- disabled check, no sample yet); per-check families have a sample per
-- enabled check (thresholds NaN when unset); pgmaint_check_raw_value only for
-- the checks without a row in pgmaint.check_metrics; pgmaint_client_backends
-- only once the worker has sampled.  Every series has the labels database
-- and system_identifier.
CREATE FUNCTION pgmaint.metric_samples(
    OUT family text, OUT type text, OUT help text, OUT labels jsonb, OUT value double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    common  jsonb;
    st      record;
    last    pgmaint.sample_history%ROWTYPE;
BEGIN
    common := jsonb_build_object(
        'database', current_database(),
        'system_identifier', (SELECT s.system_identifier::text FROM pg_catalog.pg_control_system() s));
    SELECT * INTO st FROM pgmaint.sampler_status();
    IF pgmaint.preloaded() AND st.last_sample_at IS NOT NULL THEN
        SELECT x.sampled_at, x.active, x.idle, x.idle_in_transaction,
               x.idle_in_transaction_aborted, x.waiting_on_lock
          INTO last.sampled_at, last.active, last.idle, last.idle_in_transaction,
               last.idle_in_transaction_aborted, last.waiting_on_lock
          FROM pgmaint.samples(st.last_sample_at) x
         ORDER BY x.sampled_at DESC LIMIT 1;
    END IF;

    RETURN QUERY
        WITH h AS MATERIALIZED (
            SELECT h.check_name, h.status, h.value, h.warning, h.critical,
                   m.family AS named, coalesce(m.scale, 1) AS scale,
                   CASE h.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1
                                 WHEN 'critical' THEN 2 ELSE -1 END AS code
              FROM pgmaint.health_checks() h
              LEFT JOIN pgmaint.check_metrics m ON m.check_name = h.check_name
        ),
        s (family, labels, value) AS (
            SELECT 'pgmaint_up', common,
                   coalesce((SELECT (h.status = 'ok')::int FROM h WHERE h.check_name = 'sampler'),
                            coalesce(st.running, false)::int)::float8
            UNION ALL
            SELECT 'pgmaint_status', common, greatest(coalesce((SELECT max(h.code) FROM h), 0), 0)::float8
            UNION ALL
            SELECT 'pgmaint_last_sample_timestamp_seconds', common,
                   extract(epoch FROM st.last_sample_at)::float8
            UNION ALL
            SELECT 'pgmaint_samples_total', common, coalesce(st.samples_taken, 0)::float8
            UNION ALL
            SELECT 'pgmaint_in_recovery', common, pg_is_in_recovery()::int::float8
            UNION ALL
            SELECT 'pgmaint_client_backends_waiting_on_lock', common, last.waiting_on_lock::float8
            UNION ALL
            SELECT 'pgmaint_build_info',
                   common || jsonb_build_object(
                       'version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'pgmaint'),
                       'pg_version', current_setting('server_version')),
                   1::float8
            UNION ALL
            SELECT 'pgmaint_client_backends', common || jsonb_build_object('state', b.state), b.n::float8
              FROM (VALUES ('active', last.active), ('idle', last.idle),
                           ('idle in transaction', last.idle_in_transaction),
                           ('idle in transaction (aborted)', last.idle_in_transaction_aborted)) AS b(state, n)
             WHERE last.sampled_at IS NOT NULL
            UNION ALL
            SELECT 'pgmaint_check_status', common || jsonb_build_object('check', h.check_name), h.code::float8
              FROM h
            UNION ALL
            SELECT 'pgmaint_check_warning_threshold', common || jsonb_build_object('check', h.check_name),
                   (h.warning * h.scale)::float8
              FROM h
            UNION ALL
            SELECT 'pgmaint_check_critical_threshold', common || jsonb_build_object('check', h.check_name),
                   (h.critical * h.scale)::float8
              FROM h
            UNION ALL
            SELECT 'pgmaint_check_raw_value', common || jsonb_build_object('check', h.check_name), h.value::float8
              FROM h WHERE h.named IS NULL
            UNION ALL
            SELECT m.family, common, (h.value * m.scale)::float8
              FROM pgmaint.check_metrics m
              LEFT JOIN h ON h.check_name = m.check_name
        )
        SELECT s.family, f.type, f.help, s.labels, s.value
          FROM s JOIN pgmaint.metric_families() f ON f.family = s.family;
END
$$;

COMMENT ON FUNCTION pgmaint.metric_samples() IS
'The samples of metrics() as rows (family, type, help, labels, value; NULL value = NaN), for exporters that run SQL such as postgres_exporter.';

REVOKE ALL ON FUNCTION pgmaint.metric_samples() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metric_samples() TO pg_monitor;

-- Renders a sample value in the exposition format: NaN, +Inf, -Inf or the number.
CREATE FUNCTION pgmaint._prom_value(value double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN value IS NULL OR value = 'NaN'::float8 THEN 'NaN'
                WHEN value = 'Infinity'::float8 THEN '+Inf'
                WHEN value = '-Infinity'::float8 THEN '-Inf'
                ELSE value::text END;
$$;

COMMENT ON FUNCTION pgmaint._prom_value(double precision) IS
'Internal: a sample value in the Prometheus text exposition format (NULL and NaN as NaN, infinities as +Inf and -Inf).';

REVOKE ALL ON FUNCTION pgmaint._prom_value(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._prom_value(double precision) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.metrics()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        WITH s AS (
            SELECT m.family, m.type, m.help, pgmaint._prom_value(m.value) AS value,
                   (SELECT string_agg(format('%s="%s"', l.key, pgmaint._prom_label(l.value)), ','
                                      ORDER BY CASE l.key WHEN 'database' THEN 0
                                                          WHEN 'system_identifier' THEN 1 ELSE 2 END,
                                               l.key)
                      FROM jsonb_each_text(m.labels) l) AS labels
              FROM pgmaint.metric_samples() m
        ),
        f AS (
            SELECT s.family,
                   format('# HELP %s %s', s.family,
                          replace(replace(min(s.help), E'\\', E'\\\\'), E'\n', E'\\n')) || E'\n'
                   || format('# TYPE %s %s', s.family, min(s.type)) || E'\n'
                   || string_agg(format('%s{%s} %s', s.family, s.labels, s.value), E'\n'
                                 ORDER BY s.labels) || E'\n' AS block
              FROM s
             GROUP BY s.family
        )
        SELECT coalesce(string_agg(f.block, '' ORDER BY f.family), '') FROM f);
END
$$;

COMMENT ON FUNCTION pgmaint.metrics() IS
'Health in the Prometheus text exposition format, in base units: pgmaint_up, pgmaint_status, pgmaint_check_status and the thresholds per check, one family per check value (pgmaint.check_metrics), the worker''s figures and pgmaint_build_info; the rows are pgmaint.metric_samples().';

REVOKE ALL ON FUNCTION pgmaint.metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metrics() TO pg_monitor;

-- The opt-in family pgmaint_check_worst_table_info{check,table}: the table
-- each table-level check names in its message.  Table names are labels of
-- unbounded values, so metrics() never shows them; append this to it where
-- the series churn is acceptable.  The figures are the ones _check_tables()
-- grades: the worker's last sample when fresh, else computed now.
CREATE FUNCTION pgmaint.metrics_tables()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f      record;
    common text;
    body   text;
BEGIN
    SELECT s.hit_relid, s.dead_relid, s.falling_relid INTO f FROM pgmaint._table_health_sampled() s;
    IF NOT FOUND THEN
        SELECT h.hit_relid, h.dead_relid, h.falling_relid INTO f FROM pgmaint._table_health(1000, 1000) h;
    END IF;
    common := format('database="%s",system_identifier="%s"', pgmaint._prom_label(current_database()),
                     (SELECT s.system_identifier FROM pg_catalog.pg_control_system() s));
    SELECT string_agg(format('pgmaint_check_worst_table_info{%s,check="%s",table="%s"} 1', common,
                             t.check_name, pgmaint._prom_label(t.relid::regclass::text)),
                      E'\n' ORDER BY t.check_name)
      INTO body
      FROM (VALUES ('autovacuum_behind', f.falling_relid), ('dead_tuples', f.dead_relid),
                   ('table_cache_hit', f.hit_relid)) AS t(check_name, relid)
     WHERE t.relid IS NOT NULL
       AND coalesce((SELECT th.enabled FROM pgmaint.thresholds th WHERE th.check_name = t.check_name), true);
    RETURN '# HELP pgmaint_check_worst_table_info Always 1: the table a table-level check names (opt-in: a label per table).' || E'\n'
        || '# TYPE pgmaint_check_worst_table_info gauge' || E'\n'
        || coalesce(body || E'\n', '');
END
$$;

COMMENT ON FUNCTION pgmaint.metrics_tables() IS
'Opt-in exposition family pgmaint_check_worst_table_info{check,table}: the table each table-level check (table_cache_hit, dead_tuples, autovacuum_behind) names; append it to metrics().';

REVOKE ALL ON FUNCTION pgmaint.metrics_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.metrics_tables() TO pg_monitor;

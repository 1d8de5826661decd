-- metrics(), report() and checklist(): health for Prometheus, psql and the guide's checklist.

-- Escapes a Prometheus label value: backslash, double quote and newline.
CREATE OR REPLACE FUNCTION pgmaint._prom_label(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n');
$$;

COMMENT ON FUNCTION pgmaint._prom_label(text) IS
'Internal: a label value escaped for the Prometheus text exposition format.';

REVOKE ALL ON FUNCTION pgmaint._prom_label(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._prom_label(text) TO pg_monitor;

-- Every family metrics() can show, with its type, HELP text and the labels
-- it adds to database and system_identifier: the fixed families, then one
-- per row of pgmaint.check_metrics.  One home for names and HELP texts:
-- metric_samples() and deploy/prometheus/queries.yaml take them from here.
CREATE OR REPLACE FUNCTION pgmaint.metric_families(
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
             'Overall health as health() reports it: the worst check, 0 ok, 1 warning, 2 critical (a check whose measurement failed counts as warning).', '{}'),
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
CREATE OR REPLACE FUNCTION pgmaint.metric_samples(
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
                   pgmaint._status_metric(h.status) AS code, h.failed
              FROM pgmaint._graded_checks() h
              LEFT JOIN pgmaint.check_metrics m ON m.check_name = h.check_name
        ),
        s (family, labels, value) AS (
            SELECT 'pgmaint_up', common,
                   coalesce((SELECT (h.status = 'ok')::int FROM h WHERE h.check_name = 'sampler'),
                            coalesce(st.running, false)::int)::float8
            UNION ALL
            SELECT 'pgmaint_status', common,
                   pgmaint._status_metric((SELECT pgmaint._overall_status(array_agg(h.status), array_agg(h.failed))
                                             FROM h))::float8
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
CREATE OR REPLACE FUNCTION pgmaint._prom_value(value double precision)
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
-- the series churn is acceptable.  The figures are the ones the table-level
-- checks grade: the worker's last sample when fresh, else computed now.
CREATE OR REPLACE FUNCTION pgmaint.metrics_tables()
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

-- Renders the rows of a query as an aligned text table at most width columns wide.
CREATE OR REPLACE FUNCTION pgmaint._render_table(query text, width int DEFAULT 96)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rows    json;
    cols    text[];
    widths  int[];
    total   int;
    widest  int;
    line    text;
    result  text := '';
    r       json;
    i       int;
BEGIN
    EXECUTE format('SELECT json_agg(q) FROM (%s) q', query) INTO rows;
    IF rows IS NULL THEN
        RETURN '  (none)' || E'\n';
    END IF;
    SELECT array_agg(k ORDER BY n) INTO cols
      FROM json_object_keys(rows -> 0) WITH ORDINALITY AS t(k, n);

    -- natural width of each column: its name or its longest value
    SELECT array_agg(w ORDER BY n) INTO widths
      FROM (SELECT n, greatest(length(c), max(length(coalesce(e ->> c, '')))) AS w
              FROM unnest(cols) WITH ORDINALITY AS u(c, n), json_array_elements(rows) e
             GROUP BY n, c) t;

    -- shrink the widest column until the table fits (two spaces indent, two between columns)
    LOOP
        total := 2 + (SELECT sum(w) FROM unnest(widths) w) + 2 * (array_length(cols, 1) - 1);
        EXIT WHEN total <= width;
        SELECT n INTO widest FROM unnest(widths) WITH ORDINALITY AS u(w, n) ORDER BY w DESC, n DESC LIMIT 1;
        EXIT WHEN widths[widest] <= 8;
        widths[widest] := greatest(8, widths[widest] - (total - width));
    END LOOP;

    line := ' ';
    FOR i IN 1 .. array_length(cols, 1) LOOP
        line := line || ' ' || rpad(pgmaint._fit(cols[i], widths[i]), widths[i]) || CASE WHEN i < array_length(cols, 1) THEN ' ' ELSE '' END;
    END LOOP;
    result := rtrim(line) || E'\n';
    line := ' ';
    FOR i IN 1 .. array_length(cols, 1) LOOP
        line := line || ' ' || repeat('-', widths[i]) || CASE WHEN i < array_length(cols, 1) THEN ' ' ELSE '' END;
    END LOOP;
    result := result || rtrim(line) || E'\n';
    FOR r IN SELECT * FROM json_array_elements(rows) LOOP
        line := ' ';
        FOR i IN 1 .. array_length(cols, 1) LOOP
            line := line || ' ' || rpad(pgmaint._fit(coalesce(r ->> cols[i], ''), widths[i]), widths[i])
                    || CASE WHEN i < array_length(cols, 1) THEN ' ' ELSE '' END;
        END LOOP;
        result := result || rtrim(line) || E'\n';
    END LOOP;
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint._render_table(text, int) IS
'Internal: the rows of a query as an aligned text table, long values cut with an ellipsis to fit the width (96 columns leave room for psql''s aligned border).';

REVOKE ALL ON FUNCTION pgmaint._render_table(text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._render_table(text, int) TO pg_monitor;

-- Cuts a value to width characters, ending it with an ellipsis when cut; one line only.
CREATE OR REPLACE FUNCTION pgmaint._fit(value text, width int)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN length(v) <= width THEN v ELSE left(v, width - 1) || '…' END
      FROM (SELECT regexp_replace(value, '\s+', ' ', 'g') AS v) s;
$$;

COMMENT ON FUNCTION pgmaint._fit(text, int) IS
'Internal: a value on one line, cut to a width with an ellipsis.';

REVOKE ALL ON FUNCTION pgmaint._fit(text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._fit(text, int) TO pg_monitor;

-- One report section: a title and a table, or why the section is unavailable.
CREATE OR REPLACE FUNCTION pgmaint._report_section(title text, query text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN E'\n' || title || E'\n' || pgmaint._render_table(query);
EXCEPTION WHEN OTHERS THEN
    RETURN E'\n' || title || E'\n  (unavailable: ' || pgmaint._fit(SQLERRM, 80) || E')\n';
END
$$;

COMMENT ON FUNCTION pgmaint._report_section(text, text) IS
'Internal: a titled section of report(); a section whose source fails says why instead of failing the report.';

REVOKE ALL ON FUNCTION pgmaint._report_section(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._report_section(text, text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.report()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    health jsonb := pgmaint.health();
    counts text;
    result text;
BEGIN
    SELECT string_agg(format('%s %s', n, s), ', ' ORDER BY pgmaint._status_order(s) DESC)
      INTO counts
      FROM (SELECT c ->> 'status' AS s, count(*) AS n
              FROM jsonb_array_elements(health -> 'checks') c GROUP BY 1) t;

    result := format('pgmaint report for database %s at %s', health ->> 'database',
                     to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS TZ')) || E'\n'
        || format('Status: %s (%s)', upper(health ->> 'status'), coalesce(counts, 'no checks')) || E'\n'
        || format('Sampler: %s', CASE WHEN (health -> 'sampler' ->> 'running')::boolean THEN 'running'
                                      ELSE 'not running' END) || E'\n'
        || pgmaint._report_sparklines();

    result := result
        || pgmaint._report_section('Checks',
            $q$SELECT check_name AS check, status, value, message
                 FROM pgmaint.health_checks()
                ORDER BY pgmaint._status_order(status) DESC, check_name$q$)
        || pgmaint._report_section('Connections',
            $q$SELECT datname AS database, state, count, max_duration, oldest_xact_age
                 FROM pgmaint.connections()$q$)
        || pgmaint._report_section('Leaked sessions (idle in transaction over 5 minutes)',
            $q$SELECT pid, usename AS "user", application_name AS application,
                      date_trunc('second', idle_for) AS idle_for, query
                 FROM pgmaint.connection_leaks()$q$)
        || pgmaint._report_section('Lock waits',
            $q$SELECT blocked_pid, blocking_pid, lock_mode, relation,
                      date_trunc('second', blocked_for) AS blocked_for, is_root_blocker AS root
                 FROM pgmaint.blocking_locks()$q$)
        || pgmaint._report_section('Cache hit ratio',
            $q$SELECT scope, hits, reads, round(100 * ratio::numeric, 2) AS "hit %",
                      round(100 * ratio_last_hour::numeric, 2) AS "last hour %"
                 FROM pgmaint.cache_hit()$q$)
        || pgmaint._report_section('Vacuum (10 tables with the most dead tuples)',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table", live_tuples AS live,
                      dead_tuples AS dead, round(100 * dead_ratio::numeric, 1) AS "dead %",
                      autovacuum_due AS due,
                      falling_behind AS behind, to_char(last_autovacuum, 'MM-DD HH24:MI') AS last_autovacuum
                 FROM pgmaint._vacuum_stats_dead()
                ORDER BY dead_tuples DESC, 1 LIMIT 10$q$)
        || pgmaint._report_section('Sizes (10 largest tables)',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      pg_size_pretty(total_bytes) AS total, pg_size_pretty(heap_bytes) AS heap,
                      pg_size_pretty(index_bytes) AS indexes, pg_size_pretty(toast_bytes) AS toast,
                      row_estimate AS rows
                 FROM pgmaint._largest_tables(10)$q$)
        || pgmaint._report_section('Index advice',
            $q$SELECT kind, coalesce(index_name::text, table_name::text) AS object,
                      coalesce(suggestion, 'keep for now: ' || detail) AS suggestion
                 FROM pgmaint.index_advice()$q$)
        || pgmaint._report_section('Autovacuum policy suggestions',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      current_profile AS current, suggested_profile AS suggested, reason
                 FROM pgmaint.recommend_profiles()
                WHERE suggested_profile IS DISTINCT FROM current_profile
                  AND suggested_profile IS NOT NULL$q$)
        || pgmaint._report_section('Retention',
            $q$SELECT relid AS "table", column_name AS "column", keep,
                      coalesce(archive::text, CASE partitions WHEN 'detach' THEN 'partitions kept detached' END) AS archive,
                      date_trunc('second', now() - oldest_row_at) AS oldest_age,
                      to_char(last_run_at, 'MM-DD HH24:MI') AS last_run,
                      last_result ->> 'removed' AS removed, last_result ->> 'stopped' AS stopped
                 FROM pgmaint.retention ORDER BY 1::text$q$)
        || pgmaint._report_section('Settings advice',
            $q$SELECT name, current, recommended, status, reason
                 FROM pgmaint.settings_advice()
                WHERE status <> 'ok'$q$);
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint.report() IS
'A text report for psql, at most 100 columns wide: status, sparklines of the last hour, checks, connections, leaks, locks, cache, vacuum, sizes, index advice, policy, retention and settings advice.';

REVOKE ALL ON FUNCTION pgmaint.report() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.report() TO pg_monitor;

-- Evaluates one checklist item from a query returning (status, evidence, fix),
-- run with health()'s "checks" array as $1; an item whose evidence cannot be
-- read is unknown, with the reason.
CREATE OR REPLACE FUNCTION pgmaint._checklist_item(item text, query text, checks jsonb)
RETURNS pgmaint.checklist_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.checklist_item;
BEGIN
    r.item := item;
    EXECUTE query INTO r.status, r.evidence, r.fix USING checks;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN ROW(item, 'unknown', SQLERRM, NULL)::pgmaint.checklist_item;
END
$$;

COMMENT ON FUNCTION pgmaint._checklist_item(text, text, jsonb) IS
'Internal: one checklist() item from a query of (status, evidence, fix) run with health()''s checks as $1; unknown with the error when the query fails.';

REVOKE ALL ON FUNCTION pgmaint._checklist_item(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checklist_item(text, text, jsonb) TO pg_monitor;

-- The verdict of a checklist item graded by health checks (so by
-- pgmaint.thresholds), from health()'s "checks" array: fail when one of them
-- is warning or critical, unknown when one is unknown or disabled (or the
-- checks could not run: NULL), else pass; the evidence is their messages.
CREATE OR REPLACE FUNCTION pgmaint._checks_verdict(names text[], checks jsonb, OUT status text, OUT evidence text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF checks IS NULL THEN
        status := 'unknown';
        evidence := 'the health checks could not run';
        RETURN;
    END IF;
    SELECT CASE WHEN bool_or(h ->> 'status' IN ('warning', 'critical')) THEN 'fail'
                WHEN bool_or(h IS NULL OR h ->> 'status' = 'unknown') THEN 'unknown'
                ELSE 'pass' END,
           string_agg(CASE WHEN h IS NULL
                           THEN format('%s: disabled in pgmaint.thresholds', c.name)
                           ELSE format('%s %s: %s', c.name, h ->> 'status', h ->> 'message') END,
                      '; ' ORDER BY c.n)
      INTO status, evidence
      FROM unnest(names) WITH ORDINALITY AS c(name, n)
      LEFT JOIN jsonb_array_elements(checks) h ON h ->> 'check' = c.name;
END
$$;

COMMENT ON FUNCTION pgmaint._checks_verdict(text[], jsonb) IS
'Internal: a checklist() item graded by the named checks of health()''s "checks" array: fail (one is warning or critical), unknown (one is unknown or disabled, or checks is NULL) or pass, with their messages as evidence.';

REVOKE ALL ON FUNCTION pgmaint._checks_verdict(text[], jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checks_verdict(text[], jsonb) TO pg_monitor;

-- The checklist, graded by the given health()'s "checks" array (NULL: the
-- checks could not run); report_html() passes the checks it has already run.
CREATE OR REPLACE FUNCTION pgmaint._checklist(checks jsonb)
RETURNS SETOF pgmaint.checklist_item
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
SELECT c.*
  FROM (VALUES
    (1, 'connection pooling', $q$
        WITH v AS (SELECT * FROM pgmaint._checks_verdict(ARRAY['connections', 'idle_in_transaction'], $1)),
        peak AS (
            SELECT CASE WHEN (SELECT st.running FROM pgmaint.sampler_status() st)
                        THEN (SELECT max(x.client_backends)
                                FROM pgmaint.samples(now() - interval '24 hours') x) END AS n
        )
        SELECT v.status,
               v.evidence || CASE WHEN peak.n IS NOT NULL
                                  THEN format('; peak of the last 24 hours: %s of %s usable connections',
                                              peak.n, pgmaint._usable_connections())
                                  ELSE '' END,
               CASE WHEN v.status = 'fail' THEN
                   'Keep each application pool small (the guide: 5 + 10 overflow), end leaks with pgmaint.terminate_leaks(), size with pgmaint.connection_budget().'
               END
          FROM v, peak $q$),
    (2, 'memory allocation', $q$
        SELECT CASE WHEN count(*) FILTER (WHERE status <> 'ok') = 0 THEN 'pass' ELSE 'fail' END,
               string_agg(format('%s %s (recommended %s)', name, current, recommended), ', ' ORDER BY name),
               string_agg(fix, ' ' ORDER BY name) FILTER (WHERE status <> 'ok')
          FROM pgmaint.settings_advice()
         WHERE name IN ('shared_buffers', 'effective_cache_size') $q$),
    (3, 'autovacuum tuned for high-write tables', $q$
        WITH p AS (
            SELECT count(*) FILTER (WHERE current_profile IS NOT NULL) AS tuned,
                   count(*) FILTER (WHERE suggested_profile IS NOT NULL AND NOT pinned
                                      AND suggested_profile IS DISTINCT FROM current_profile) AS pending
              FROM pgmaint.recommend_profiles()
        )
        SELECT CASE WHEN current_setting('autovacuum')::boolean AND p.pending = 0 THEN 'pass' ELSE 'fail' END,
               CASE WHEN NOT current_setting('autovacuum')::boolean THEN 'autovacuum is off'
                    ELSE format('autovacuum on; %s table(s) tuned with a profile, %s suggestion(s) pending',
                                p.tuned, p.pending) END,
               CASE WHEN NOT current_setting('autovacuum')::boolean
                        THEN 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'
                    WHEN p.pending > 0
                        THEN 'Review SELECT * FROM pgmaint.recommend_profiles(); then SELECT * FROM pgmaint.apply_policy(false); or set pgmaint.policy = apply.'
               END
          FROM p $q$),
    (4, 'logging', $q$
        SELECT CASE WHEN count(*) FILTER (WHERE a.status = 'warning') > 0 THEN 'fail'
                    WHEN count(*) FILTER (WHERE a.status <> 'ok') > 0 THEN 'unknown'
                    ELSE 'pass' END,
               coalesce('off: ' || string_agg(a.check_name, ', ' ORDER BY a.check_name)
                                       FILTER (WHERE a.status = 'warning'),
                        'the guide''s logging is on: ' || string_agg(a.check_name, ', ' ORDER BY a.check_name)),
               string_agg(a.fix || ';', ' ' ORDER BY a.check_name) FILTER (WHERE a.fix IS NOT NULL)
               || CASE WHEN count(*) FILTER (WHERE a.fix IS NOT NULL) > 0 THEN ' SELECT pg_reload_conf();' END
          FROM pgmaint.config_audit() a
         WHERE a.check_name IN (SELECT g.name FROM pgmaint._guide_settings() g WHERE g.topic = 'logging') $q$),
    (5, 'backups', $q$
        SELECT v.status,
               CASE WHEN b.last_verified_at IS NULL THEN 'no verified backup recorded'
                    ELSE format('last verified backup %s ago (%s); last backup %s; last drill %s',
                                b.last_verified_age, b.last_verified_file, b.last_backup_status,
                                coalesce(b.last_drill_status || ', ' || b.last_drill_age || ' ago', 'never'))
               END,
               CASE WHEN v.status = 'fail'
                    THEN 'Schedule pgmaint_backup backup --dir DIR daily and pgmaint_backup drill weekly (see docs/backups.md).'
               END
          FROM pgmaint.backup_status() b, pgmaint._checks_verdict(ARRAY['backup'], $1) v $q$),
    (6, 'monitoring', $q$
        SELECT CASE WHEN NOT s.running THEN 'fail' ELSE v.status END,
               CASE WHEN s.running
                    THEN format('sampler pid %s, %s samples, the last at %s; %s', s.pid, s.samples_taken,
                                to_char(s.last_sample_at, 'YYYY-MM-DD HH24:MI:SS'), v.evidence)
                    ELSE 'the sampler is not running: ' || coalesce(s.last_error, 'no reason recorded') END,
               CASE WHEN NOT s.running OR v.status = 'fail'
                    THEN 'Add pgmaint to shared_preload_libraries, set pgmaint.database and restart; poll pgmaint.health() from /healthz/db.'
               END
          FROM pgmaint.sampler_status() s, pgmaint._checks_verdict(ARRAY['sampler'], $1) v $q$),
    (7, 'indexes on keys and foreign keys', $q$
        WITH fk AS (SELECT count(*) AS n FROM pgmaint._fk_without_index()),
        nokey AS (
            SELECT count(*) AS n, string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) AS names
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmaint')
               AND ns.nspname NOT LIKE 'pg\_toast%' AND ns.nspname NOT LIKE 'pg\_temp%'
               AND c.oid NOT IN (SELECT d.objid FROM pg_catalog.pg_depend d  -- the tables extensions own
                                  WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
                                    AND d.deptype = 'e')
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                                WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid)
        )
        SELECT CASE WHEN fk.n = 0 AND nokey.n = 0 THEN 'pass' ELSE 'fail' END,
               format('%s foreign key(s) without an index; %s table(s) without a primary key or unique index%s',
                      fk.n, nokey.n, coalesce(' (' || pgmaint._fit(nokey.names, 60) || ')', '')),
               CASE WHEN fk.n > 0 OR nokey.n > 0
                    THEN 'Run the statements of SELECT * FROM pgmaint.index_advice(); give cache tables a primary key on their key.'
               END
          FROM fk, nokey $q$),
    (8, 'disk space', $q$
        SELECT v.status,
               format('%s available of %s (%s%%) on the data directory''s file system',
                      pg_size_pretty(d.available_bytes), pg_size_pretty(d.total_bytes),
                      round(d.available_pct::numeric, 1)),
               CASE WHEN v.status = 'fail'
                    THEN 'Archive or delete old rows of the largest tables (pgmaint.table_sizes()) with pgmaint.set_retention() (dry run: pgmaint.retention_plan()), prune backups, VACUUM FULL bloated tables in a maintenance window.'
               END
          FROM pgmaint.disk_space() d, pgmaint._checks_verdict(ARRAY['disk_free'], $1) v $q$)
  ) AS items(n, item, query)
 CROSS JOIN LATERAL pgmaint._checklist_item(items.item, items.query, checks) c
 ORDER BY items.n;
$body$;

COMMENT ON FUNCTION pgmaint._checklist(jsonb) IS
'Internal: checklist() graded by the given health() "checks" array (NULL: unknown where a check grades the item).';

REVOKE ALL ON FUNCTION pgmaint._checklist(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checklist(jsonb) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.checklist()
RETURNS SETOF pgmaint.checklist_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    checks jsonb;
BEGIN
    BEGIN
        checks := pgmaint.health() -> 'checks';
    EXCEPTION WHEN OTHERS THEN
        checks := NULL;         -- the items the checks grade are unknown
    END;
    RETURN QUERY SELECT * FROM pgmaint._checklist(checks);
END
$$;

COMMENT ON FUNCTION pgmaint.checklist() IS
'The guide''s Performance Tuning Checklist, item by item: pass, fail or unknown, with the evidence and the fix; items with a health check (connections, backups, monitoring, disk space) are graded by it, so by pgmaint.thresholds.';

REVOKE ALL ON FUNCTION pgmaint.checklist() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.checklist() TO pg_monitor;

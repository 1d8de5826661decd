-- metrics(), report() and checklist(): health for Prometheus, psql and the guide's checklist.

-- Escapes a Prometheus label value: backslash, double quote and newline.
CREATE FUNCTION pgmaint._prom_label(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n');
$$;

COMMENT ON FUNCTION pgmaint._prom_label(text) IS
'Internal: a label value escaped for the Prometheus text exposition format.';

CREATE FUNCTION pgmaint.metrics()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH c AS (
        SELECT h.check_name, h.status, h.value, t.description,
               'pgmaint_' || regexp_replace(lower(h.check_name), '[^a-z0-9_]', '_', 'g') AS metric,
               CASE h.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1
                             WHEN 'critical' THEN 2 ELSE -1 END AS code
          FROM pgmaint.health_checks() h
          LEFT JOIN pgmaint.thresholds t ON t.check_name = h.check_name
    ),
    db AS (
        SELECT 'database="' || pgmaint._prom_label(current_database()) || '"' AS label
    )
    SELECT '# HELP pgmaint_status Overall health of the server: 0 ok, 1 warning, 2 critical.' || E'\n'
        || '# TYPE pgmaint_status gauge' || E'\n'
        || format('pgmaint_status{%s} %s', db.label,
                  greatest((SELECT max(code) FROM c), 0)) || E'\n'
        || '# HELP pgmaint_check_status Status of each health check: 0 ok, 1 warning, 2 critical, -1 unknown.' || E'\n'
        || '# TYPE pgmaint_check_status gauge' || E'\n'
        || coalesce((SELECT string_agg(format('pgmaint_check_status{%s,check="%s"} %s', db.label,
                                              pgmaint._prom_label(c.check_name), c.code),
                                       E'\n' ORDER BY c.check_name) || E'\n' FROM c), '')
        || coalesce((SELECT string_agg(
                        format('# HELP %s %s', c.metric,
                               replace(replace(coalesce(nullif(c.description, ''), c.check_name),
                                               E'\\', E'\\\\'), E'\n', E'\\n')) || E'\n'
                        || format('# TYPE %s gauge', c.metric) || E'\n'
                        || format('%s{%s} %s', c.metric, db.label, c.value),
                        E'\n' ORDER BY c.check_name) || E'\n'
                       FROM c WHERE c.value IS NOT NULL), '')
      FROM db;
$$;

COMMENT ON FUNCTION pgmaint.metrics() IS
'Health checks in the Prometheus text exposition format: pgmaint_status, pgmaint_check_status per check, and one gauge per check value.';

GRANT EXECUTE ON FUNCTION pgmaint.metrics() TO pg_monitor;

-- Renders the rows of a query as an aligned text table at most width columns wide.
CREATE FUNCTION pgmaint._render_table(query text, width int DEFAULT 96)
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

-- Cuts a value to width characters, ending it with an ellipsis when cut; one line only.
CREATE FUNCTION pgmaint._fit(value text, width int)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN length(v) <= width THEN v ELSE left(v, width - 1) || '…' END
      FROM (SELECT regexp_replace(value, '\s+', ' ', 'g') AS v) s;
$$;

COMMENT ON FUNCTION pgmaint._fit(text, int) IS
'Internal: a value on one line, cut to a width with an ellipsis.';

-- One report section: a title and a table, or why the section is unavailable.
CREATE FUNCTION pgmaint._report_section(title text, query text)
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

CREATE FUNCTION pgmaint.report()
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
                                      ELSE 'not running' END) || E'\n';

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
        || pgmaint._report_section('Cache hit ratio (%)',
            $q$SELECT scope, hits, reads, ratio, ratio_last_hour FROM pgmaint.cache_hit()$q$)
        || pgmaint._report_section('Vacuum (10 tables with the most dead tuples)',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table", live_tuples AS live,
                      dead_tuples AS dead, dead_ratio, autovacuum_due AS due,
                      falling_behind AS behind, to_char(last_autovacuum, 'MM-DD HH24:MI') AS last_autovacuum
                 FROM pgmaint.vacuum_stats()
                WHERE dead_tuples > 0
                ORDER BY dead_tuples DESC, 1 LIMIT 10$q$)
        || pgmaint._report_section('Sizes (10 largest tables)',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      pg_size_pretty(total_bytes) AS total, pg_size_pretty(heap_bytes) AS heap,
                      pg_size_pretty(index_bytes) AS indexes, pg_size_pretty(toast_bytes) AS toast,
                      row_estimate AS rows
                 FROM pgmaint.table_sizes() LIMIT 10$q$)
        || pgmaint._report_section('Index advice',
            $q$SELECT kind, coalesce(index_name::text, table_name::text) AS object, suggestion
                 FROM pgmaint.index_advice()$q$)
        || pgmaint._report_section('Autovacuum policy suggestions',
            $q$SELECT format('%I.%I', schema_name, table_name) AS "table",
                      current_profile AS current, suggested_profile AS suggested, reason
                 FROM pgmaint.recommend_profiles()
                WHERE suggested_profile IS DISTINCT FROM current_profile
                  AND suggested_profile IS NOT NULL$q$)
        || pgmaint._report_section('Settings advice',
            $q$SELECT name, current, recommended, status, reason
                 FROM pgmaint.settings_advice()
                WHERE status <> 'ok'$q$);
    RETURN result;
END
$$;

COMMENT ON FUNCTION pgmaint.report() IS
'A text report for psql, at most 100 columns wide: status, checks, connections, leaks, locks, cache, vacuum, sizes, index advice, policy and settings advice.';

-- Orders statuses from best to worst for sorting: ok, unknown, warning, critical.
CREATE FUNCTION pgmaint._status_order(status text)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE status WHEN 'ok' THEN 0 WHEN 'unknown' THEN 1
                       WHEN 'warning' THEN 2 WHEN 'critical' THEN 3 END;
$$;

COMMENT ON FUNCTION pgmaint._status_order(text) IS
'Internal: sort order of statuses, best first (ok, unknown, warning, critical).';

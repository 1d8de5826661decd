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
'A text report for psql, at most 100 columns wide: status, sparklines of the last hour, checks, connections, leaks, locks, cache, vacuum, sizes, index advice, policy and settings advice.';

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

-- One checklist item: status pass, fail or unknown, the evidence and the fix.
CREATE TYPE pgmaint.checklist_item AS (
    item     text,
    status   text,
    evidence text,
    fix      text
);

COMMENT ON TYPE pgmaint.checklist_item IS
'A row of checklist(): item, status (pass, fail, unknown), evidence, fix.';

-- Evaluates one checklist item from a query returning (status, evidence, fix);
-- an item whose evidence cannot be read is unknown, with the reason.
CREATE FUNCTION pgmaint._checklist_item(item text, query text)
RETURNS pgmaint.checklist_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.checklist_item;
BEGIN
    r.item := item;
    EXECUTE query INTO r.status, r.evidence, r.fix;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN ROW(item, 'unknown', SQLERRM, NULL)::pgmaint.checklist_item;
END
$$;

COMMENT ON FUNCTION pgmaint._checklist_item(text, text) IS
'Internal: one checklist() item from a query of (status, evidence, fix); unknown with the error when the query fails.';

CREATE FUNCTION pgmaint.checklist()
RETURNS SETOF pgmaint.checklist_item
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
SELECT c.*
  FROM (VALUES
    (1, 'connection pooling', $q$
        WITH s AS (SELECT running FROM pgmaint.sampler_status()),
        peak AS (
            SELECT coalesce((SELECT max(x.client_backends) FROM pgmaint.samples(now() - interval '24 hours') x
                              WHERE (SELECT running FROM s)),
                            (SELECT count(*) FROM pg_catalog.pg_stat_activity
                              WHERE backend_type = 'client backend')) AS n,
                   CASE WHEN (SELECT running FROM s) THEN 'peak of the last 24 hours' ELSE 'now' END AS basis
        ),
        usable AS (
            SELECT current_setting('max_connections')::int
                   - current_setting('superuser_reserved_connections')::int AS n
        ),
        leaks AS (SELECT count(*) AS n FROM pgmaint.connection_leaks())
        SELECT CASE WHEN peak.n <= 0.8 * usable.n AND leaks.n = 0 THEN 'pass' ELSE 'fail' END,
               format('%s client connections (%s) of %s usable; %s leaked session(s)',
                      peak.n, peak.basis, usable.n, leaks.n),
               CASE WHEN peak.n > 0.8 * usable.n OR leaks.n > 0 THEN
                   'Keep each application pool small (the guide: 5 + 10 overflow), end leaks with pgmaint.terminate_leaks(), size with pgmaint.connection_budget().'
               END
          FROM peak, usable, leaks $q$),
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
        WITH off AS (
            SELECT s.name, s.wanted
              FROM (VALUES ('log_checkpoints', 'on'), ('log_connections', 'on'),
                           ('log_disconnections', 'on'), ('log_lock_waits', 'on'),
                           ('log_autovacuum_min_duration', '0'), ('log_temp_files', '10MB'),
                           ('log_min_duration_statement', '1s')) AS s(name, wanted)
              JOIN pg_catalog.pg_settings p ON p.name = s.name
             WHERE CASE WHEN s.wanted = 'on' THEN p.setting = 'off' ELSE p.setting::bigint < 0 END
        )
        SELECT CASE WHEN count(*) = 0 THEN 'pass' ELSE 'fail' END,
               coalesce('off: ' || string_agg(name, ', ' ORDER BY name),
                        'checkpoints, connections, disconnections, lock waits, autovacuum, temp files and slow statements are logged'),
               string_agg(format('ALTER SYSTEM SET %s = %L;', name, wanted), ' ' ORDER BY name)
               || CASE WHEN count(*) > 0 THEN ' SELECT pg_reload_conf();' END
          FROM off $q$),
    (5, 'backups', $q$
        SELECT CASE WHEN b.last_verified_at IS NULL OR b.last_backup_status = 'failed'
                         OR b.last_verified_age > b.max_age OR b.last_drill_status = 'failed'
                    THEN 'fail' ELSE 'pass' END,
               CASE WHEN b.last_verified_at IS NULL THEN 'no verified backup recorded'
                    ELSE format('last verified backup %s ago (%s); last backup %s; last drill %s',
                                b.last_verified_age, b.last_verified_file, b.last_backup_status,
                                coalesce(b.last_drill_status || ', ' || b.last_drill_age || ' ago', 'never'))
               END,
               CASE WHEN b.last_verified_at IS NULL OR b.last_backup_status = 'failed'
                         OR b.last_verified_age > b.max_age OR b.last_drill_status = 'failed'
                    THEN 'Schedule pgmaint_backup backup --dir DIR daily and pgmaint_backup drill weekly (see the README).'
               END
          FROM pgmaint.backup_status() b $q$),
    (6, 'monitoring', $q$
        SELECT CASE WHEN s.running AND s.last_sample_at > clock_timestamp() - 3 * s.sample_interval
                    THEN 'pass' ELSE 'fail' END,
               CASE WHEN s.running
                    THEN format('sampler pid %s, %s samples, the last at %s', s.pid, s.samples_taken,
                                to_char(s.last_sample_at, 'YYYY-MM-DD HH24:MI:SS'))
                    ELSE 'the sampler is not running: ' || coalesce(s.last_error, 'no reason recorded') END,
               CASE WHEN NOT s.running OR s.last_sample_at <= clock_timestamp() - 3 * s.sample_interval
                    THEN 'Add pgmaint to shared_preload_libraries, set pgmaint.database and restart; poll pgmaint.health() from /healthz/db.'
               END
          FROM pgmaint.sampler_status() s $q$),
    (7, 'indexes on keys and foreign keys', $q$
        WITH fk AS (SELECT count(*) AS n FROM pgmaint.index_advice() WHERE kind = 'fk_without_index'),
        nokey AS (
            SELECT count(*) AS n, string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) AS names
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmaint')
               AND ns.nspname NOT LIKE 'pg\_toast%' AND ns.nspname NOT LIKE 'pg\_temp%'
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
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
        SELECT CASE WHEN d.available_pct >= 20 THEN 'pass' ELSE 'fail' END,
               format('%s available of %s (%s%%) on the data directory''s file system',
                      pg_size_pretty(d.available_bytes), pg_size_pretty(d.total_bytes),
                      round(d.available_pct::numeric, 1)),
               CASE WHEN d.available_pct < 20
                    THEN 'Archive old token_usage and tool_call_log rows, prune backups, VACUUM FULL bloated tables in a maintenance window; see pgmaint.table_sizes().'
               END
          FROM pgmaint.disk_space() d $q$)
  ) AS items(n, item, query)
 CROSS JOIN LATERAL pgmaint._checklist_item(items.item, items.query) c
 ORDER BY items.n;
$body$;

COMMENT ON FUNCTION pgmaint.checklist() IS
'The guide''s Performance Tuning Checklist, item by item: pass, fail or unknown, with the evidence and the fix.';

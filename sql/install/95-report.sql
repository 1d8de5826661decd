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

-- pgTAP: metrics() in base units, from pgmaint.check_metrics
BEGIN;
SELECT plan(14);

SELECT has_table('pgmaint', 'check_metrics', 'check_metrics table exists');
SELECT col_is_pk('pgmaint', 'check_metrics', 'check_name', 'check_metrics is keyed by check_name');

SELECT is((SELECT array_agg(m.check_name ORDER BY m.check_name) FROM pgmaint.check_metrics m
            WHERE NOT EXISTS (SELECT 1 FROM pgmaint.health_checks() c WHERE c.check_name = m.check_name)),
          NULL, 'every family belongs to a check that exists');

SELECT throws_ok($$INSERT INTO pgmaint.check_metrics VALUES ('x', 'pgmaint_x_seconds', 'ratio', 1, 'h')$$,
                 '23514', NULL, 'a family must end in its unit');
SELECT throws_ok($$INSERT INTO pgmaint.check_metrics VALUES ('x', 'pgmaint_x_ratio', '', 1, 'h')$$,
                 '23514', NULL, 'a dimensionless family must not end in a unit');
SELECT throws_ok($$INSERT INTO pgmaint.check_metrics VALUES ('x', 'pgmaint_check_x', '', 1, 'h')$$,
                 '23514', NULL, 'a family cannot take a name of metrics()''s own');
SELECT throws_ok($$INSERT INTO pgmaint.check_metrics VALUES ('x', 'pgmaint_x_total', '', 1, 'h')$$,
                 '23514', NULL, 'a gauge family cannot end in _total');

-- values and thresholds are scaled by the same factor
UPDATE pgmaint.thresholds SET warning = 42, critical = 97 WHERE check_name = 'connections';
SELECT is((SELECT array_agg(s.value ORDER BY s.family) FROM pgmaint.metric_samples() s
            WHERE s.labels ->> 'check' = 'connections' AND s.family LIKE '%threshold'),
          ARRAY[0.97, 0.42]::float8[], 'percentage thresholds become ratios');
SELECT is((SELECT s.value FROM pgmaint.metric_samples() s WHERE s.family = 'pgmaint_connections_used_ratio'),
          (SELECT (h.value * 0.01)::float8 FROM pgmaint.health_checks() h WHERE h.check_name = 'connections'),
          'the value is scaled like its thresholds');

SELECT is((SELECT count(*)::int FROM pgmaint.metric_samples() s
            WHERE NOT EXISTS (SELECT 1 FROM pgmaint.metric_families() f WHERE f.family = s.family)),
          0, 'every sample belongs to a family of metric_families()');
SELECT is((SELECT count(*)::int FROM pgmaint.metric_samples() s
            WHERE s.labels ->> 'database' IS DISTINCT FROM current_database()
               OR s.labels ->> 'system_identifier' !~ '^[0-9]+$'),
          0, 'every sample has database and system_identifier');

-- a check without a family of its own: a raw value, in the check's unit
DELETE FROM pgmaint.check_metrics WHERE check_name = 'disk_free';
SELECT is((SELECT count(*)::int FROM pgmaint.metric_samples() s
            WHERE s.family = 'pgmaint_check_raw_value' AND s.labels ->> 'check' = 'disk_free'),
          1, 'a check without a family appears as pgmaint_check_raw_value');
SELECT ok(pgmaint.metrics() !~ 'pgmaint_disk_available_ratio', 'and its family is gone');

SELECT is(pgmaint._prom_value(NULL) || ' ' || pgmaint._prom_value('Infinity') || ' ' || pgmaint._prom_value(0.5),
          'NaN +Inf 0.5', 'values in the exposition format');

SELECT * FROM finish();
ROLLBACK;

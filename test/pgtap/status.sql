-- pgTAP: the statuses' one home (src/status.c): grading, order, the overall
-- rule (unknown for lack of data counts as ok, a failed measurement as
-- warning) and the same rule in health(), metrics() and the events' overall.
BEGIN;
SELECT plan(21);

-- grading
SELECT is(pgmaint._grade(NULL, 80, 95), 'unknown', 'no value: unknown');
SELECT is(pgmaint._grade(79.9, 80, 95), 'ok', 'below warning: ok');
SELECT is(pgmaint._grade(80, 80, 95), 'warning', 'at warning: warning');
SELECT is(pgmaint._grade(95, 80, 95), 'critical', 'at critical: critical');
SELECT is(pgmaint._grade(91, 95, 90), 'warning', 'critical below warning: lower is worse (warning)');
SELECT is(pgmaint._grade(90, 95, 90), 'critical', 'critical below warning: at critical, critical');
SELECT is(pgmaint._grade(5, NULL, NULL), 'ok', 'no thresholds: ok');
SELECT is(pgmaint._grade(5, NULL, 3), 'critical', 'only a critical threshold');

-- order and metric values
SELECT is(array_agg(s ORDER BY pgmaint._status_order(s)), ARRAY['ok', 'unknown', 'warning', 'critical'],
          'statuses sort ok < unknown < warning < critical')
  FROM unnest(ARRAY['critical', 'ok', 'warning', 'unknown']) s;
SELECT is(array_agg(pgmaint._status_metric(s) ORDER BY s), ARRAY[2, 0, -1, 1],
          'metric values: critical 2, ok 0, unknown -1, warning 1')
  FROM unnest(ARRAY['critical', 'ok', 'unknown', 'warning']) s;
SELECT throws_ok($$SELECT pgmaint._status_order('fine')$$, '22023', NULL, 'an unknown status name is an error');

-- the overall rule
SELECT is(pgmaint._overall_status(ARRAY['ok', 'unknown'], ARRAY[false, false]), 'ok',
          'unknown for lack of data counts as ok');
SELECT is(pgmaint._overall_status(ARRAY['ok', 'unknown'], ARRAY[false, true]), 'warning',
          'a failed measurement counts as warning');
SELECT is(pgmaint._overall_status(ARRAY['warning', 'unknown', 'critical'], NULL), 'critical',
          'the worst check wins');
SELECT is(pgmaint._overall_status('{}', '{}'), 'ok', 'no check: ok');

-- health() and metrics(): only the two WAL checks, graded so that both are ok
UPDATE pgmaint.thresholds SET enabled = (check_name IN ('checkpoints_requested', 'archive_ready'));
UPDATE pgmaint.thresholds SET warning = 1e9, critical = NULL WHERE check_name IN ('checkpoints_requested', 'archive_ready');
SELECT is(pgmaint.health()->>'status', 'ok', 'health() is ok when every enabled check is ok or unknown without failing');
UPDATE pgmaint.thresholds SET warning = 0, critical = 0 WHERE check_name = 'archive_ready';
SELECT is(pgmaint.health()->>'status', 'critical', 'health() turns critical with one critical check');
UPDATE pgmaint.thresholds SET warning = 1e9, critical = NULL WHERE check_name = 'archive_ready';

-- a check whose measurement fails (what the backup check reads raises):
-- unknown, the error in its message, and health() warning
UPDATE pgmaint.thresholds SET enabled = (check_name = 'backup');
CREATE OR REPLACE FUNCTION pgmaint.backup_status(
    OUT last_backup_at timestamptz, OUT last_backup_status text,
    OUT last_backup_file text, OUT last_backup_error text,
    OUT last_backup_age interval,
    OUT last_verified_at timestamptz, OUT last_verified_file text,
    OUT last_verified_age interval,
    OUT last_drill_at timestamptz, OUT last_drill_status text,
    OUT last_drill_error text, OUT last_drill_age interval,
    OUT max_age interval, OUT backups_kept bigint)
RETURNS record LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'planted failure';
END
$$;
SELECT is((SELECT array_agg(DISTINCT status) FROM pgmaint.health_checks()), ARRAY['unknown'],
          'the failing function''s checks are unknown');
SELECT ok((SELECT bool_and(message LIKE 'the check failed: planted failure%') FROM pgmaint.health_checks()),
          'their message says the check failed and why');
SELECT is(pgmaint.health()->>'status', 'warning', 'a failed check turns health() to warning, not ok');
SELECT ok(pgmaint.metrics() ~ E'\npgmaint_status\\{[^}]*\\} 1\n', 'metrics() reports the same overall status (1, warning)');

SELECT * FROM finish();
ROLLBACK;

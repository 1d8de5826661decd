-- Seed rows of a new install: the retention check.
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('retention', 1, NULL,
     'Tables with a retention rule whose oldest row (as the last run saw it) is older than twice their keep interval, at least two hours: retention falls behind.');

-- Its Prometheus family (see pgmaint.check_metrics in sql/state/00-base.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('retention', 'pgmaint_retention_behind_tables', '', 1,
     'Tables with a retention rule whose oldest row is older than twice their keep interval.');

-- Seed rows of a new install: the space checks.
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('bloat', 256, 1024,
     'Estimated MB of wasted space in the most bloated table or index (at least 20% of it wasted by the estimate of pgmaint.bloat()), as the worker measured it within pgmaint.growth_interval.'),
    ('disk_full_eta', 30, 7,
     'Days until the data directory''s file system is full at the database''s growth rate of the last 7 days (the worker''s size history); 3650 when the database does not grow.');

-- Their Prometheus families (see pgmaint.check_metrics in sql/state/00-base.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('bloat', 'pgmaint_bloat_wasted_max_bytes', 'bytes', 1048576,
     'Estimated wasted space of the most bloated table or index (one estimated at least 20% wasted), at the worker''s last space measurement.'),
    ('disk_full_eta', 'pgmaint_disk_full_eta_seconds', 'seconds', 86400,
     'Time until the data directory''s file system is full at the database''s growth rate of the last 7 days (3650 days when it does not grow).');

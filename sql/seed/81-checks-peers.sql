-- Seed rows of a new install: the checks the peers have (sql/code/81-checks-peers.sql).
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('vacuum_age', 604800, NULL,
     'Seconds since the last vacuum (manual or auto) of the table vacuumed longest ago among those with dead or inserted tuples since (as maintenance_age(); never-vacuumed tables are autovacuum_behind''s).'),
    ('analyze_age', 604800, NULL,
     'Seconds since the last analyze (manual or auto) of the table analyzed longest ago among those modified since (as maintenance_age()).'),
    ('not_valid_constraints', 1, NULL,
     'Check and foreign-key constraints added NOT VALID and never validated: rows written before are not checked (schema_advice()).'),
    ('disabled_triggers', 1, NULL,
     'Triggers disabled with ALTER TABLE ... DISABLE TRIGGER, internal foreign-key triggers included (schema_advice()).'),
    ('checkpoints_requested', 30, NULL,
     'Share, in %, of checkpoints since the statistics reset that were requested (WAL reached max_wal_size, or CHECKPOINT) rather than timed; unknown before 3 checkpoints.'),
    ('archive_ready', 10, 15,
     'WAL files (segments, history and partial files) in pg_wal/archive_status waiting for the archiver (check_postgres archive_ready; unknown for a caller without pg_monitor).');

-- Their Prometheus families (see pgmaint.check_metrics in sql/state/00-base.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('vacuum_age', 'pgmaint_vacuum_age_max_seconds', 'seconds', 1,
     'Time since the last vacuum of the table vacuumed longest ago among those that changed since.'),
    ('analyze_age', 'pgmaint_analyze_age_max_seconds', 'seconds', 1,
     'Time since the last analyze of the table analyzed longest ago among those modified since.'),
    ('not_valid_constraints', 'pgmaint_not_valid_constraints', '', 1,
     'Check and foreign-key constraints added NOT VALID and never validated.'),
    ('disabled_triggers', 'pgmaint_disabled_triggers', '', 1,
     'Triggers disabled with ALTER TABLE ... DISABLE TRIGGER.'),
    ('checkpoints_requested', 'pgmaint_checkpoints_requested_ratio', 'ratio', 0.01,
     'Share of checkpoints since the statistics reset that were requested rather than timed.'),
    ('archive_ready', 'pgmaint_wal_archive_ready_files', '', 1,
     'WAL files in pg_wal/archive_status waiting for the archiver.');

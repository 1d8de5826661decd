-- Seed rows of a new install: the point-in-time recovery checks.
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('pitr_full_backup_age', 691200, 1296000,
     'Age in seconds of the newest full pgBackRest backup recorded by pgmaint_backup pitr (8 and 15 days: a weekly full backup missed once, twice); 0 while point-in-time recovery is not set up.'),
    ('pitr_backup_age', 129600, 259200,
     'Age in seconds of the newest full or differential pgBackRest backup (36 and 72 hours: a daily differential backup missed); 0 while point-in-time recovery is not set up.'),
    ('pitr_backup', 1, 2,
     'pgBackRest backups and restore drills: 0 ok, 1 no restore drill has passed yet, 2 the last backup or the last drill failed, or archive_mode is off although backups are recorded.'),
    ('recovery_point', 300, 1800,
     'Seconds of writes at risk: how far the last archived WAL trails the current WAL position in time (0 when everything written, or with track_commit_timestamp every commit, is archived, so an idle server is not behind; at most archive_timeout while the archiver keeps up).');

-- Their Prometheus families (see pgmaint.check_metrics in sql/state/00-base.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('pitr_full_backup_age', 'pgmaint_pitr_full_backup_age_seconds', 'seconds', 1,
     'Age of the newest full pgBackRest backup (0 while point-in-time recovery is not set up).'),
    ('pitr_backup_age', 'pgmaint_pitr_backup_age_seconds', 'seconds', 1,
     'Age of the newest full or differential pgBackRest backup (0 while point-in-time recovery is not set up).'),
    ('pitr_backup', 'pgmaint_pitr_backup_state', '', 1,
     'pgBackRest backups and drills: 0 ok, 1 no restore drill passed yet, 2 the last backup or drill failed or archiving is off.'),
    ('recovery_point', 'pgmaint_recovery_point_lag_seconds', 'seconds', 1,
     'How far the last archived WAL trails the current WAL position, in time: the writes a lost disk would take with it.');

-- Seed rows of a new install: the replication checks.
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('replication_lag', 30, 300,
     'Seconds of replay lag: on a primary the worst streaming standby''s, on a standby its own; 0 once everything received (or flushed) is replayed.'),
    ('replication_lag_bytes', 16777216, 1073741824,
     'Bytes of WAL not yet replayed: on a primary by the worst streaming standby (flushed minus replayed), on a standby what it received and has not replayed.'),
    ('standby_missing', 1, NULL,
     'Standbys missing: fewer streaming standbys than pgmaint.expected_standbys (0 turns the count off), plus each standby named in synchronous_standby_names that is not connected.'),
    ('wal_receiver', NULL, 1,
     'On a standby, 1 when its WAL receiver is not streaming from the primary; 0 otherwise (and on a primary).'),
    ('replay_paused', 1, NULL,
     'On a standby, 1 while WAL replay is paused (pg_wal_replay_pause()); 0 otherwise.');

-- Prometheus families of the replication checks (see pgmaint.check_metrics in sql/state/00-base.sql).
INSERT INTO pgmaint.check_metrics (check_name, family, unit, scale, help) VALUES
    ('replication_lag', 'pgmaint_replication_lag_seconds', 'seconds', 1,
     'Replay lag: on a primary the worst streaming standby''s, on a standby its own; 0 once everything flushed (or received) is replayed.'),
    ('replication_lag_bytes', 'pgmaint_replication_lag_bytes', 'bytes', 1,
     'WAL not yet replayed: on a primary by the worst streaming standby, on a standby what it received.'),
    ('standby_missing', 'pgmaint_standbys_missing', '', 1,
     'Streaming standbys short of pgmaint.expected_standbys, plus absent synchronous standbys.'),
    ('wal_receiver', 'pgmaint_wal_receiver_down', '', 1,
     'On a standby, 1 when its WAL receiver is not streaming.'),
    ('replay_paused', 'pgmaint_wal_replay_paused', '', 1,
     'On a standby, 1 while WAL replay is paused.');

-- Seed rows of a new install: the session, sampler, workers, backup and archiver checks.
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.thresholds (check_name, warning, critical, description) VALUES
    ('connections', 80, 95,
     'Client connections in use, in % of usable slots (max_connections - superuser_reserved_connections, and - reserved_connections on PostgreSQL 16 and later).'),
    ('idle_in_transaction', 60, 300,
     'Age in seconds of the oldest session idle in a transaction (a leaked connection holds locks and blocks vacuum; the guide''s limit is 5 minutes); aborted ones are idle_in_transaction_aborted.'),
    ('idle_in_transaction_aborted', 300, NULL,
     'Age in seconds of the oldest session idle in an aborted transaction (it holds a connection slot, but no locks and no snapshot).'),
    ('cache_hit', 95, 90,
     'Buffer cache hit ratio of this database, in %: over the last hour when the sampler watches this database, else since the statistics reset (the guide: should be above 95%).'),
    ('sampler', 3, NULL,
     'Sample intervals since the background worker''s last heartbeat: a stale heartbeat or a stopped worker turns it to warning; unknown when pgmaint is not preloaded.'),
    ('databases_unsampled', 1, NULL,
     'Connectable databases that may have pgmaint but have no worker: pgmaint.max_databases workers run already, or max_worker_processes had no slot free (pgmaint.workers() names them).'),
    ('backup', 1, 2,
     'Backups recorded by pgmaint_backup: 0 ok, 1 no verified backup newer than pgmaint.backup_max_age (or none at all), 2 the last backup or the last restore drill failed.'),
    ('archiver', 1, NULL,
     'WAL archiving: 1 when the newest archiving attempt in pg_stat_archiver failed, 0 otherwise (and with archive_mode off).');

-- The background worker's samples: the shared-memory ring (samples()), the
-- worker's status (sampler_status()) and the persisted history.

-- Samples the worker appended on a primary; one row per sample.  An
-- extension member without pg_extension_config_dump: pg_dump leaves the
-- rows out (they are a cache of the server's recent past, not configuration).
CREATE TABLE pgmaint.sample_history (
    sampled_at                      timestamptz PRIMARY KEY,
    client_backends                 integer NOT NULL,
    active                          integer NOT NULL,
    idle                            integer NOT NULL,
    idle_in_transaction             integer NOT NULL,
    idle_in_transaction_aborted     integer NOT NULL,
    waiting_on_lock                 integer NOT NULL,
    longest_xact_age                interval,
    longest_idle_in_transaction_age interval,
    xact_commit                     bigint NOT NULL,
    xact_rollback                   bigint NOT NULL,
    blks_read                       bigint NOT NULL,
    blks_hit                        bigint NOT NULL,
    tup_inserted                    bigint NOT NULL,
    tup_updated                     bigint NOT NULL,
    tup_deleted                     bigint NOT NULL,
    deadlocks                       bigint NOT NULL,
    temp_bytes                      bigint NOT NULL,
    live_tuples                     bigint NOT NULL,
    dead_tuples                     bigint NOT NULL,
    datfrozenxid_age                bigint NOT NULL,
    user_tables                     bigint NOT NULL,
    stats_reset                     timestamptz,
    in_recovery                     boolean,
    standbys                        integer,
    replication_lag                 interval,
    replication_lag_bytes           bigint
);

COMMENT ON TABLE pgmaint.sample_history IS
'Health samples the background worker persisted on the primary (raw counters; pgmaint.history_retention keeps them). Not dumped by pg_dump.';

GRANT SELECT ON pgmaint.sample_history TO pg_monitor;

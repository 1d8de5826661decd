-- Retention (issue 20): expire cache rows, archive or delete old log rows,
-- detach and drop old partitions, in small transactions.
--
-- The rules live here: which tables, the cutoff, the statements of each
-- step, the limits of a run.  CALL pgmaint.apply_retention() and the worker
-- (src/retention.c) both run the steps of _retention_steps(), each batch in
-- a transaction of its own, through _retention_exec() (C), which runs every
-- statement as the table's owner in a security-restricted context, under a
-- short lock_timeout and a pinned search_path.  So nobody deletes through
-- pgmaint from a table whose owner could not, and a table's own triggers
-- never run with more rights than its owner's.
--
-- Privileges.  set_retention(), drop_retention() and apply_retention() run
-- as their caller, who must own the table; grant_tuning() hands a role what
-- they need.  The configuration table is written only through the SECURITY
-- DEFINER helpers _retention_store() and _retention_done(), which act only
-- for a role that may call one of those and that owns the table.

CREATE TABLE pgmaint.retention (
    relid         regclass PRIMARY KEY,
    column_name   name NOT NULL,
    keep          interval NOT NULL CHECK (keep >= interval '0'),
    archive       regclass,
    batch         integer NOT NULL DEFAULT 5000 CHECK (batch BETWEEN 1 AND 1000000),
    partitions    text NOT NULL DEFAULT 'drop' CHECK (partitions IN ('drop', 'detach')),
    enabled       boolean NOT NULL DEFAULT true,
    set_by        name NOT NULL DEFAULT current_user,
    set_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    oldest_row_at timestamptz,
    measured_at   timestamptz,
    last_run_at   timestamptz,
    last_result   jsonb
);

COMMENT ON TABLE pgmaint.retention IS
'Retention rules: rows of relid whose column_name is older than now() - keep are removed (moved to archive when set) in batches; old partitions of a partitioned table are detached and dropped (partitions = drop) or kept detached. oldest_row_at is the oldest row seen by the last run (or set_retention()).';

SELECT pg_catalog.pg_extension_config_dump('pgmaint.retention', '');

GRANT SELECT ON pgmaint.retention TO pg_monitor;

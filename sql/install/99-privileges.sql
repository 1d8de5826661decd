-- Privileges, in one place.  Nothing in pgmaint is callable by PUBLIC: read
-- functions (and the internal functions they call) are for pg_monitor;
-- action functions are for superusers and roles granted them explicitly.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgmaint FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO pg_monitor;

-- Actions and their internals.
REVOKE ALL ON FUNCTION
    pgmaint._audit(text, text, jsonb, boolean),
    pgmaint._request_samples(integer),
    pgmaint.terminate_leaks(interval, boolean)
FROM pg_monitor;

-- Reads files below any directory it is given: superusers only (the tests
-- point it at fixture trees; detected_resources() reads the server's own).
REVOKE ALL ON FUNCTION pgmaint._detect_resources(text) FROM pg_monitor;

-- Backups: only the role that runs pgmaint_backup records (README, "Backups").
REVOKE ALL ON FUNCTION
    pgmaint._backup_record(text, text, timestamptz, text, text, bigint, text, boolean, jsonb, bigint, jsonb, text)
FROM pg_monitor;

-- Autovacuum policy (4x-policy-*.sql): actions and the internals that write.
-- grant_tuning() hands a role what tune_table()/reset_table() need.
REVOKE ALL ON FUNCTION
    pgmaint.tune_table(regclass, text),
    pgmaint.reset_table(regclass),
    pgmaint.apply_policy(boolean),
    pgmaint.run_policy(text),
    pgmaint.prune_history(interval),
    pgmaint.schedule_maintenance(integer, text, text),
    pgmaint.unschedule_maintenance(),
    pgmaint.grant_tuning(regrole, boolean),
    pgmaint.revoke_tuning(regrole),
    pgmaint._apply_profile(regclass, text, text, text, jsonb),
    pgmaint._policy_record(name, regclass, text, text, text[], text[]),
    pgmaint._policy_audit(name, text, text, jsonb, boolean),
    pgmaint._snapshot_activity(name),
    pgmaint._prune_activity(),
    pgmaint._advise(name, regclass, text, text),
    pgmaint._advice_keep(name, oid[]),
    pgmaint._sync_vacuum_job(),
    pgmaint._require_pg_cron(),
    pgmaint._forget_dropped()
FROM pg_monitor;

-- Retention (70-retention.sql): actions and the internals that write.
REVOKE ALL ON FUNCTION
    pgmaint.set_retention(regclass, name, interval, regclass, integer, text),
    pgmaint.drop_retention(regclass),
    pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz),
    pgmaint._retention_done(name, regclass, jsonb, timestamptz),
    pgmaint._retention_audit_drop(name, regclass),
    pgmaint._retention_exec(regclass, text[], timestamptz, integer, text),
    pgmaint._retention_authorized(name, regclass),
    pgmaint._retention_oldest_of(regclass, name),
    pgmaint._retention_lock(regclass, boolean),
    pgmaint._retention_work(regclass),
    pgmaint._retention_forget_dropped()
FROM pg_monitor;
REVOKE ALL ON PROCEDURE pgmaint.apply_retention(regclass, interval, interval) FROM pg_monitor;

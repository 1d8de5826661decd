-- Privileges, by name.  Nothing in pgmaint is callable by PUBLIC, and a
-- function is callable by a role only when it is named below (or granted
-- beside its definition): a new function is callable by nobody but the
-- extension's owner (superusers) until someone decides.  README, "Security",
-- has the matrix; test/suites/privileges.sh holds every install to it.
--
--  - read functions, and the internals they call as their invoker: pg_monitor;
--  - action functions: nobody (superusers, or an explicit GRANT; grant_tuning()
--    hands a role what tune_table()/reset_table()/apply_policy() need);
--  - SECURITY DEFINER writers (_audit, _backup_record, ...), trigger and
--    event-trigger functions, _detect_resources: nobody.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgmaint FROM PUBLIC;

-- Read functions.
GRANT EXECUTE ON FUNCTION
    pgmaint.preloaded(),
    pgmaint.samples(timestamptz),
    pgmaint.sampler_status(),
    pgmaint.connections(),
    pgmaint.connection_leaks(interval),
    pgmaint.long_running_queries(interval),
    pgmaint.blocking_locks(),
    pgmaint.connection_budget(integer, integer, integer, integer, integer),
    pgmaint.cache_hit(),
    pgmaint.cache_hit_tables(bigint),
    pgmaint.vacuum_stats(),
    pgmaint.table_sizes(),
    pgmaint.index_advice(bigint, bigint),
    pgmaint.expensive_queries(integer),
    pgmaint.disk_space(),
    pgmaint.database_stats(),
    pgmaint.recommend_profiles(),
    pgmaint.detected_resources(),
    pgmaint.settings_advice(integer, integer, text, integer),
    pgmaint.config_audit(),
    pgmaint.backup_status(),
    pgmaint.health_checks(),
    pgmaint.health(),
    pgmaint.metrics(),
    pgmaint.report(),
    pgmaint.checklist()
TO pg_monitor;

-- Internals that the read functions call as their invoker.
GRANT EXECUTE ON FUNCTION
    pgmaint._grade(numeric, numeric, numeric),
    pgmaint._require_interval(text, interval),
    pgmaint._require_count(text, integer, integer),
    pgmaint._cache_hit_totals(),
    pgmaint._cache_hit_last_hour(),
    pgmaint._policy_tables(),
    pgmaint._activity_window(),
    pgmaint._classify(numeric, numeric, numeric, numeric, numeric),
    pgmaint._size_text(numeric),
    pgmaint._ms_text(numeric),
    pgmaint._unit_factor(text),
    pgmaint._listens_everywhere(text),
    pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text),
    pgmaint._backup_max_age(),
    pgmaint._backup_age_text(interval),
    pgmaint._backup_check(),
    pgmaint._archiver_check(),
    pgmaint._check_activity(),
    pgmaint._check_wraparound(),
    pgmaint._check_catalog(),
    pgmaint._check_retention(),
    pgmaint._table_health(bigint, bigint),
    pgmaint._table_health_sampled(),
    pgmaint._check_tables(),
    pgmaint._measure_checks(),
    pgmaint._sampler_summary(),
    pgmaint._prom_label(text),
    pgmaint._render_table(text, integer),
    pgmaint._fit(text, integer),
    pgmaint._report_section(text, text),
    pgmaint._status_order(text),
    pgmaint._checklist_item(text, text, jsonb)
TO pg_monitor;

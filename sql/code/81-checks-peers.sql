-- Detections the peers (check_postgres, pgHero, pg-extras) have: vacuum and
-- analyze age of tables that change, vacuums in progress, NOT VALID
-- constraints and disabled triggers, connections by source, and WAL:
-- requested checkpoints and files waiting for the archiver.  The read
-- functions; the checks of the same detections are evaluated in C
-- (src/checkcatalog.c, src/checktables.c, src/checkserver.c).

-- Time since each user table's last vacuum and analyze, with its changes since.
CREATE OR REPLACE FUNCTION pgmaint.maintenance_age(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT last_vacuumed timestamptz, OUT vacuum_age interval, OUT changes_since_vacuum bigint,
    OUT last_analyzed timestamptz, OUT analyze_age interval, OUT changes_since_analyze bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT t.oid, t.nspname::text, t.relname::text,
               t.vacuumed, pg_catalog.date_trunc('second', now() - t.vacuumed), t.vchanges,
               t.analyzed, pg_catalog.date_trunc('second', now() - t.analyzed), t.achanges
          FROM (SELECT c.oid, n.nspname, c.relname,
                       greatest(pg_catalog.pg_stat_get_last_vacuum_time(c.oid),
                                pg_catalog.pg_stat_get_last_autovacuum_time(c.oid)) AS vacuumed,
                       greatest(pg_catalog.pg_stat_get_last_analyze_time(c.oid),
                                pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid)) AS analyzed,
                       pg_catalog.pg_stat_get_dead_tuples(c.oid)
                       + pg_catalog.pg_stat_get_ins_since_vacuum(c.oid) AS vchanges,
                       pg_catalog.pg_stat_get_mod_since_analyze(c.oid) AS achanges
                  FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm')
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname !~ '^pg_toast') t
         ORDER BY now() - t.vacuumed DESC NULLS LAST, t.oid;
END
$$;

COMMENT ON FUNCTION pgmaint.maintenance_age() IS
'Each user table''s last vacuum and last analyze (the later of manual and auto), how long ago, and the changes since: dead plus inserted tuples since the vacuum, modified tuples since the analyze. Oldest vacuum first; NULL when never vacuumed or analyzed since the statistics reset.';

REVOKE ALL ON FUNCTION pgmaint.maintenance_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.maintenance_age() TO pg_monitor;

-- Vacuums running now, manual and autovacuum, with their phase and progress.
-- PostgreSQL 17 renamed the dead-tuple columns of pg_stat_progress_vacuum
-- (num_dead_tuples is num_dead_item_ids) and bounds them by memory
-- (max_dead_tuple_bytes) instead of a count (max_dead_tuples): chosen by the
-- server's version when called, so that the function survives pg_upgrade.
CREATE OR REPLACE FUNCTION pgmaint.vacuum_progress(
    OUT pid integer, OUT database name, OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT phase text, OUT autovacuum boolean, OUT to_prevent_wraparound boolean,
    OUT started_at timestamptz, OUT running_for interval,
    OUT heap_blks_total bigint, OUT heap_blks_scanned bigint, OUT heap_blks_vacuumed bigint,
    OUT percent numeric, OUT index_vacuum_count bigint,
    OUT num_dead_tuples bigint, OUT max_dead_tuples bigint,
    OUT dead_tuple_bytes bigint, OUT max_dead_tuple_bytes bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT p.pid, p.datname,
               p.relid, n.nspname::text, c.relname::text,
               p.phase, a.backend_type = 'autovacuum worker',
               CASE WHEN a.backend_type = 'autovacuum worker'
                    THEN a.query LIKE '%%(to prevent wraparound)%%' ELSE false END,
               a.xact_start, pg_catalog.date_trunc('second', pg_catalog.clock_timestamp() - a.xact_start),
               p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed,
               CASE WHEN p.heap_blks_total > 0
                    THEN round(100.0 * p.heap_blks_scanned / p.heap_blks_total, 1)
                    WHEN p.phase NOT IN ('initializing', 'scanning heap') THEN 100.0 END,
               p.index_vacuum_count, %s
          FROM pg_catalog.pg_stat_progress_vacuum p
          LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid
          -- another database's oid names nothing here
          LEFT JOIN pg_catalog.pg_class c
                 ON c.oid = p.relid
                AND p.datid = (SELECT d.oid FROM pg_catalog.pg_database d
                                WHERE d.datname = pg_catalog.current_database())
          LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         ORDER BY a.xact_start, p.pid$q$,
        CASE WHEN pg_catalog.current_setting('server_version_num')::integer >= 170000
             THEN 'p.num_dead_item_ids, NULL::bigint, p.dead_tuple_bytes, p.max_dead_tuple_bytes'
             ELSE 'p.num_dead_tuples, p.max_dead_tuples, NULL::bigint, NULL::bigint' END);
END
$$;

COMMENT ON FUNCTION pgmaint.vacuum_progress() IS
'Vacuums running now in every database (pg_stat_progress_vacuum): phase, whether autovacuum runs it and to prevent wraparound, since when, heap blocks total/scanned/vacuumed, percent = share of the heap scanned (100 after the scan), index passes and dead tuples collected (num_dead_tuples; num_dead_item_ids from PostgreSQL 17 on), and what bounds them before an index pass: max_dead_tuples before PostgreSQL 17, dead_tuple_bytes of max_dead_tuple_bytes (maintenance_work_mem) from 17 on, NULL where the version has no such figure. schema_name and table_name only for this database''s tables.';

REVOKE ALL ON FUNCTION pgmaint.vacuum_progress() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.vacuum_progress() TO pg_monitor;

-- Rules the database does not enforce: NOT VALID constraints and disabled triggers.
CREATE OR REPLACE FUNCTION pgmaint.schema_advice(
    OUT kind text, OUT table_name regclass, OUT object_name text,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT 'not_valid_constraint'::text, k.conrelid::pg_catalog.regclass, k.conname::text,
               CASE k.contype
                   WHEN 'f' THEN format('foreign key to %s added NOT VALID: rows written before it are not checked',
                                        k.confrelid::pg_catalog.regclass)
                   ELSE format('check constraint (%s) added NOT VALID: rows written before it are not checked',
                               pg_catalog.pg_get_constraintdef(k.oid))
               END,
               format('ALTER TABLE %s VALIDATE CONSTRAINT %I;  -- takes only a SHARE UPDATE EXCLUSIVE lock',
                      k.conrelid::pg_catalog.regclass, k.conname)
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT k.convalidated AND k.contype IN ('c', 'f')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
        UNION ALL
        SELECT 'disabled_trigger', t.tgrelid::pg_catalog.regclass, t.tgname::text,
               CASE WHEN k.oid IS NOT NULL
                    THEN format('internal trigger of %s %I, disabled (DISABLE TRIGGER ALL): the constraint is not enforced',
                                CASE k.contype WHEN 'f' THEN 'foreign key' ELSE 'constraint' END, k.conname)
                    ELSE format('trigger calling %s, disabled: it does not fire', t.tgfoid::pg_catalog.regproc)
               END,
               CASE WHEN t.tgisinternal
                    THEN format('ALTER TABLE %s ENABLE TRIGGER ALL;  -- rows written meanwhile were not checked',
                                t.tgrelid::pg_catalog.regclass)
                    ELSE format('ALTER TABLE %s ENABLE TRIGGER %I;', t.tgrelid::pg_catalog.regclass, t.tgname)
               END
          FROM pg_catalog.pg_trigger t
          LEFT JOIN pg_catalog.pg_constraint k ON k.oid = t.tgconstraint
         WHERE t.tgenabled = 'D'
         ORDER BY 1, 2, 3;
END
$$;

COMMENT ON FUNCTION pgmaint.schema_advice() IS
'Rules this database does not enforce, with the statement that restores them: not_valid_constraint (check or foreign-key constraints added NOT VALID and never validated), disabled_trigger (tgenabled = ''D'', internal foreign-key triggers included, as check_postgres disabled_triggers counts).';

REVOKE ALL ON FUNCTION pgmaint.schema_advice() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.schema_advice() TO pg_monitor;

-- Client connections by database, user, application and client address.
CREATE OR REPLACE FUNCTION pgmaint.connection_sources(
    OUT database name, OUT user_name name, OUT application_name text, OUT client_addr inet,
    OUT total bigint, OUT active bigint, OUT idle bigint, OUT idle_in_transaction bigint,
    OUT waiting bigint, OUT oldest_connection timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT a.datname, a.usename, a.application_name, a.client_addr,
               count(*),
               count(*) FILTER (WHERE a.state = 'active'),
               count(*) FILTER (WHERE a.state = 'idle'),
               count(*) FILTER (WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')),
               count(*) FILTER (WHERE a.wait_event_type = 'Lock'),
               min(a.backend_start)
          FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'client backend'
         GROUP BY a.datname, a.usename, a.application_name, a.client_addr
         ORDER BY count(*) DESC, a.datname, a.usename, a.application_name, a.client_addr;
END
$$;

COMMENT ON FUNCTION pgmaint.connection_sources() IS
'Client connections grouped by database, user, application_name and client address (NULL for a Unix socket), most first: total, active, idle, idle in a transaction (aborted ones included), waiting on a lock, and the oldest connection''s start. Other roles'' application and address need pg_read_all_stats.';

REVOKE ALL ON FUNCTION pgmaint.connection_sources() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.connection_sources() TO pg_monitor;

-- The cumulative checkpoint counters (pg_stat_bgwriter before PostgreSQL 17,
-- pg_stat_checkpointer from 17 on: src/checkpoints.c decides).
CREATE OR REPLACE FUNCTION pgmaint._checkpoints(
    OUT timed bigint, OUT requested bigint, OUT stats_reset timestamptz)
RETURNS record
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_checkpoints';

COMMENT ON FUNCTION pgmaint._checkpoints() IS
'Internal: checkpoints (and a standby''s restartpoints) started by checkpoint_timeout (timed) and asked for (requested: max_wal_size reached, CHECKPOINT, a base backup) since stats_reset, from pg_stat_bgwriter''s counters before PostgreSQL 17 and pg_stat_checkpointer''s from 17 on.';

REVOKE ALL ON FUNCTION pgmaint._checkpoints() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._checkpoints() TO pg_monitor;

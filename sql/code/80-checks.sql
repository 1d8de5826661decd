-- Server-wide health checks: long queries, lock waits, wraparound, invalid
-- indexes, sequences, prepared transactions and replication slots; and the
-- table-level checks (table cache hit, dead tuples, autovacuum falling
-- behind) and the data directory's free disk.  The checks are PL/pgSQL so
-- that a session plans their queries once (a LANGUAGE sql function that
-- cannot be inlined, as SET search_path prevents, is planned at every call,
-- which cost more than the checks themselves).  Each
-- function returns (check_name, value, message, hint) rows that
-- pgmaint._measure_checks() grades against pgmaint.thresholds.

-- The floors below which the table-level checks do not judge a table,
-- written once in src/tablehealth.h; the descriptions below, the defaults of
-- _table_health() and the checks' messages read them here.
CREATE OR REPLACE FUNCTION pgmaint._table_health_floors(OUT min_reads bigint, OUT min_tuples bigint)
RETURNS record
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_floors';

COMMENT ON FUNCTION pgmaint._table_health_floors() IS
'Internal: the heap block reads (table_cache_hit) and live + dead tuples (dead_tuples) a table needs before the table-level checks judge it.';

REVOKE ALL ON FUNCTION pgmaint._table_health_floors() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_floors() TO pg_monitor;

-- Activity checks: the longest active statement and the longest lock wait.
CREATE OR REPLACE FUNCTION pgmaint._check_activity(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH can_see AS (
            SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS all_stats
        ),
        active AS (
            SELECT count(*) FILTER (WHERE clock_timestamp() - a.query_start > interval '30 s') AS over_30s,
                   max(extract(epoch FROM clock_timestamp() - a.query_start)) AS longest,
                   (array_agg(a.pid ORDER BY a.query_start))[1] AS longest_pid
              FROM pg_catalog.pg_stat_activity a
             WHERE a.state = 'active' AND a.backend_type = 'client backend'
               AND a.pid <> pg_backend_pid()
        ),
        waits AS (
            SELECT count(DISTINCT l.pid) AS waiting,
                   max(extract(epoch FROM clock_timestamp() - l.waitstart)) AS longest,
                   (array_agg(l.pid ORDER BY l.waitstart))[1] AS longest_pid
              FROM pg_catalog.pg_locks l
             WHERE NOT l.granted
        )
        SELECT 'long_running_queries',
               CASE WHEN can_see.all_stats THEN round(coalesce(active.longest, 0)::numeric, 1) END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'cannot see other roles'' statements: the caller lacks pg_read_all_stats'
                    WHEN active.longest IS NULL THEN 'no statement is running'
                    ELSE format('longest statement (pid %s) has run %s; %s over 30 s',
                                active.longest_pid,
                                date_trunc('second', make_interval(secs => active.longest::float8)),
                                active.over_30s)
               END,
               CASE WHEN NOT can_see.all_stats THEN 'Grant pg_monitor to the role that calls health().'
                    ELSE 'See the statements in pgmaint.long_running_queries(); end one with pg_cancel_backend(pid).'
               END
          FROM active, can_see
        UNION ALL
        SELECT 'blocked_sessions',
               round(coalesce(waits.longest, 0)::numeric, 1),
               CASE WHEN waits.waiting = 0 THEN 'no session waits on a lock'
                    ELSE format('%s session(s) wait on a lock, the longest (pid %s) for %s',
                                waits.waiting, waits.longest_pid,
                                date_trunc('second', make_interval(secs => coalesce(waits.longest, 0)::float8)))
               END,
               'Find the root blocker in pgmaint.blocking_locks().'
          FROM waits;
END
$$;

COMMENT ON FUNCTION pgmaint._check_activity() IS
'Internal: the long_running_queries and blocked_sessions checks.';

REVOKE ALL ON FUNCTION pgmaint._check_activity() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_activity() TO pg_monitor;

-- Wraparound checks: the oldest database's transaction and multixact ages.
CREATE OR REPLACE FUNCTION pgmaint._check_wraparound(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH xid AS (
            SELECT d.datname, age(d.datfrozenxid) AS age
              FROM pg_catalog.pg_database d
             WHERE d.datallowconn
             ORDER BY age(d.datfrozenxid) DESC LIMIT 1
        ),
        mxid AS (
            SELECT d.datname, mxid_age(d.datminmxid) AS age
              FROM pg_catalog.pg_database d
             WHERE d.datallowconn
             ORDER BY mxid_age(d.datminmxid) DESC LIMIT 1
        ),
        lim AS (
            SELECT current_setting('autovacuum_freeze_max_age')::numeric AS xid_max,
                   current_setting('autovacuum_multixact_freeze_max_age')::numeric AS mxid_max
        ),
        -- this database's oldest tables, each aged by the older of heap and TOAST
        tbl AS (
            SELECT * FROM pgmaint._oldest_tables()
        )
        SELECT 'xid_wraparound', round(100 * xid.age / lim.xid_max, 1),
               format('database %I has age(datfrozenxid) %s (autovacuum_freeze_max_age %s)',
                      xid.datname, xid.age, lim.xid_max)
               || CASE WHEN tbl.xid_relid IS NOT NULL
                       THEN format('; the oldest table here is %s, xid age %s%s',
                                   tbl.xid_relid::regclass, tbl.xid_age,
                                   CASE WHEN tbl.xid_from_toast THEN ' (its TOAST table''s, older than its own)' ELSE '' END)
                       ELSE '' END,
               'Autovacuum is not freezing fast enough: find what holds it back (pgmaint.long_running_queries(), pgmaint.connection_leaks(), prepared transactions, slots), then VACUUM (FREEZE) the tables with the oldest xid_age in pgmaint.vacuum_stats() (with its TOAST table: not PROCESS_TOAST false).'
          FROM xid, lim, tbl
        UNION ALL
        SELECT 'multixact_wraparound', round(100 * mxid.age / lim.mxid_max, 1),
               format('database %I has mxid_age(datminmxid) %s (autovacuum_multixact_freeze_max_age %s)',
                      mxid.datname, mxid.age, lim.mxid_max)
               || CASE WHEN tbl.mxid_relid IS NOT NULL
                       THEN format('; the oldest table here is %s, multixact age %s%s',
                                   tbl.mxid_relid::regclass, tbl.mxid_age,
                                   CASE WHEN tbl.mxid_from_toast THEN ' (its TOAST table''s, older than its own)' ELSE '' END)
                       ELSE '' END,
               'Find long transactions holding row locks (pgmaint.long_running_queries(), pgmaint.connection_leaks()), then VACUUM (FREEZE) the tables with the oldest mxid_age in pgmaint.vacuum_stats().'
          FROM mxid, lim, tbl;
END
$$;

COMMENT ON FUNCTION pgmaint._check_wraparound() IS
'Internal: the xid_wraparound and multixact_wraparound checks (oldest database of the cluster; the message names this database''s oldest table, aged with its TOAST table).';

REVOKE ALL ON FUNCTION pgmaint._check_wraparound() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_wraparound() TO pg_monitor;

-- The invalid indexes of this database, as pg_index WHERE NOT indisvalid, from
-- a catalog scan whose scan key drops valid indexes before a row is formed.
CREATE OR REPLACE FUNCTION pgmaint._invalid_indexes(OUT indexrelid oid, OUT indrelid oid)
RETURNS SETOF record
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_invalid_indexes';

COMMENT ON FUNCTION pgmaint._invalid_indexes() IS
'Internal: indexrelid and indrelid of every index of this database with pg_index.indisvalid false.';

REVOKE ALL ON FUNCTION pgmaint._invalid_indexes() FROM PUBLIC;

-- A sequence's last value, read as its owner (src/sequence_value.c): NULL
-- when someone holds it locked or its owner may not read it.
CREATE OR REPLACE FUNCTION pgmaint._sequence_last_value(seq regclass)
RETURNS bigint
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_sequence_last_value';

COMMENT ON FUNCTION pgmaint._sequence_last_value(regclass) IS
'Internal: pg_sequence_last_value() of a sequence, read as its owner in a security-restricted operation without waiting for its lock; NULL when none was taken yet, when someone holds it locked, or when its owner may not read it.';

REVOKE ALL ON FUNCTION pgmaint._sequence_last_value(regclass) FROM PUBLIC;

-- Every sequence of this database measured against its end: the one home of
-- the rule (the sequences check and sequences() both read it).  A sequence
-- ends at the smaller of its own limit and the range of the narrowest column
-- it feeds (the column it is owned by, serial and identity, and every column
-- whose default calls it); one never called (its last value NULL, or
-- is_called false) is measured from its start value, its next value.
-- SECURITY DEFINER so that a pg_monitor caller can see every sequence's
-- position; no value of a table leaves the function.
CREATE OR REPLACE FUNCTION pgmaint._sequence_usage(
    OUT seqid oid, OUT schema_name name, OUT sequence_name name, OUT data_type regtype,
    OUT called boolean, OUT pos numeric, OUT start_value numeric, OUT increment numeric,
    OUT min_value numeric, OUT max_value numeric, OUT bound numeric,
    OUT used_pct numeric, OUT values_left numeric, OUT cycle boolean,
    OUT column_relid oid, OUT column_name text, OUT column_type text,
    OUT column_limits boolean, OUT feeds_key boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        -- every column a sequence feeds: the column it is owned by (serial,
        -- identity) and every column whose default calls it
        WITH fed AS (
            SELECT d.objid AS seqid, d.refobjid AS relid, d.refobjsubid AS attnum
              FROM pg_catalog.pg_depend d
             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
            UNION
            SELECT d.refobjid, ad.adrelid, ad.adnum
              FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
             WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        ),
        -- the range each fed column's type holds (numeric columns hold any)
        col AS (
            SELECT fed.seqid, fed.relid, a.attname, a.atttypid::pg_catalog.regtype::text AS typname,
                   CASE a.atttypid WHEN 'pg_catalog.int2'::pg_catalog.regtype THEN 32767::numeric
                                   WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN 2147483647::numeric
                                   WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN 9223372036854775807::numeric
                   END AS type_max,
                   CASE a.atttypid WHEN 'pg_catalog.int2'::pg_catalog.regtype THEN -32768::numeric
                                   WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN -2147483648::numeric
                                   WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN -9223372036854775808::numeric
                   END AS type_min,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                            WHERE i.indrelid = fed.relid AND i.indisunique AND i.indisvalid
                              AND fed.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])) AS unique_key
              FROM fed
              JOIN pg_catalog.pg_attribute a ON a.attrelid = fed.relid AND a.attnum = fed.attnum
             WHERE NOT a.attisdropped
        ),
        -- ranges in numeric: a sequence may span all of bigint
        seq AS (
            SELECT s.seqrelid, n.nspname, c.relname, s.seqtypid::pg_catalog.regtype AS typ,
                   s.seqcycle, s.seqincrement::numeric AS inc, s.seqstart::numeric AS start,
                   -- the CASE keeps the call off the rows of other relation kinds
                   (CASE WHEN c.relkind = 'S' THEN pgmaint._sequence_last_value(c.oid) END)::numeric AS last_value,
                   s.seqmin::numeric AS min_value, s.seqmax::numeric AS max_value,
                   f.relid, f.attname, f.typname, f.type_max, f.type_min, f.unique_key
              FROM pg_catalog.pg_sequence s
              JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              -- the column that limits it most; a key column first among equals
              LEFT JOIN LATERAL (
                  SELECT col.* FROM col
                   WHERE col.seqid = s.seqrelid
                   ORDER BY CASE WHEN s.seqincrement > 0 THEN col.type_max ELSE -col.type_min END NULLS LAST,
                            col.unique_key DESC, col.relid, col.attname
                   LIMIT 1) f ON true
             WHERE NOT pg_catalog.pg_is_other_temp_schema(n.oid)
               AND c.relkind = 'S'
        ),
        bounded AS (
            SELECT seq.*, coalesce(seq.last_value, seq.start) AS pos,
                   CASE WHEN seq.inc > 0 THEN least(seq.max_value, seq.type_max)
                        ELSE greatest(seq.min_value, seq.type_min) END AS bound,
                   coalesce(CASE WHEN seq.inc > 0 THEN seq.type_max < seq.max_value
                                 ELSE seq.type_min > seq.min_value END, false) AS column_limits
              FROM seq
        )
        SELECT b.seqrelid, b.nspname, b.relname, b.typ, b.last_value IS NOT NULL, b.pos, b.start,
               b.inc, b.min_value, b.max_value, b.bound,
               greatest(0, CASE WHEN b.inc > 0
                                THEN 100.0 * (b.pos - b.min_value) / nullif(b.bound - b.min_value, 0)
                                ELSE 100.0 * (b.max_value - b.pos) / nullif(b.max_value - b.bound, 0) END),
               -- the values nextval() can still return: the next one is pos itself when never called
               greatest(0, floor((CASE WHEN b.inc > 0 THEN b.bound - b.pos ELSE b.pos - b.bound END) / abs(b.inc))
                           + CASE WHEN b.last_value IS NULL THEN 1 ELSE 0 END),
               b.seqcycle, b.relid,
               CASE WHEN b.relid IS NOT NULL
                    THEN pg_catalog.format('%s.%I', b.relid::pg_catalog.regclass, b.attname) END,
               b.typname, b.column_limits, coalesce(b.unique_key, false)
          FROM bounded b;
END
$$;

COMMENT ON FUNCTION pgmaint._sequence_usage() IS
'Internal: every sequence of this database with its position (last value, or the start value when never called), the bound it runs out at (the smaller of its own limit and the range of the narrowest column it feeds), the share used, the values nextval() can still return, and that column. SECURITY DEFINER: reads every sequence''s position for pg_monitor.';

REVOKE ALL ON FUNCTION pgmaint._sequence_usage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._sequence_usage() TO pg_monitor;

-- Every sequence at or past a share of its range, most used first.
CREATE OR REPLACE FUNCTION pgmaint.sequences(
    min_used_pct numeric DEFAULT 0,
    OUT sequence_name regclass, OUT data_type regtype, OUT used_pct numeric,
    OUT values_left numeric, OUT last_value numeric, OUT called boolean,
    OUT max_value numeric, OUT column_name text, OUT column_type text,
    OUT column_limits boolean, OUT cycle boolean, OUT feeds_key boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF min_used_pct IS NULL OR min_used_pct < 0 OR min_used_pct > 100 THEN
        RAISE EXCEPTION 'min_used_pct must be between 0 and 100'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the share of the range, in %, from which to list sequences, for example 75 (0 lists all).';
    END IF;
    RETURN QUERY
        SELECT u.seqid::regclass, u.data_type, round(u.used_pct, 2), u.values_left, u.pos, u.called,
               u.bound, u.column_name, u.column_type, u.column_limits, u.cycle, u.feeds_key
          FROM pgmaint._sequence_usage() u
         WHERE coalesce(u.used_pct, 0) >= min_used_pct
         ORDER BY u.used_pct DESC NULLS LAST, u.values_left, u.schema_name, u.sequence_name;
END
$$;

COMMENT ON FUNCTION pgmaint.sequences(numeric) IS
'Every sequence of this database that has used at least min_used_pct % of its range, most used first: used_pct, values_left (values nextval() can still return), last_value (the start value, called false, when never called), max_value (where it runs out: the smaller of its own maximum, or minimum when descending, and the range of the narrowest column it feeds), that column and its type, column_limits (the column ends before the sequence), cycle and feeds_key (it feeds a unique key column).';

REVOKE ALL ON FUNCTION pgmaint.sequences(numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.sequences(numeric) TO pg_monitor;

-- The transaction-id and multixact ages of this database's oldest tables,
-- each the greater of the table's and its TOAST table's (src/tablestats.c).
CREATE OR REPLACE FUNCTION pgmaint._oldest_tables(
    OUT xid_relid oid, OUT xid_age integer, OUT xid_from_toast boolean,
    OUT mxid_relid oid, OUT mxid_age integer, OUT mxid_from_toast boolean)
RETURNS record
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_oldest_tables';

COMMENT ON FUNCTION pgmaint._oldest_tables() IS
'Internal: the user table of this database with the oldest transaction-id age and the one with the oldest multixact age, each the greater of the table''s and its TOAST table''s (as vacuum_stats() has them), and whether the TOAST table is the older.';

REVOKE ALL ON FUNCTION pgmaint._oldest_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._oldest_tables() TO pg_monitor;

-- Catalog checks of this database: invalid indexes and sequences near their end.
-- SECURITY DEFINER so that it may read pgmaint.thresholds for the count it reports.
CREATE OR REPLACE FUNCTION pgmaint._check_catalog(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH invalid AS (
            SELECT count(*) AS n, min(i.indexrelid::regclass::text) AS example
              FROM pgmaint._invalid_indexes() i
             WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p
                                WHERE p.index_relid = i.indexrelid OR p.relid = i.indrelid)
        ),
        measured AS (
            SELECT u.*
              FROM pgmaint._sequence_usage() u
             -- a cycling sequence wraps instead of running out: only a key it feeds suffers
             WHERE NOT u.cycle OR u.feeds_key
        ),
        worst AS (
            SELECT * FROM measured ORDER BY used_pct DESC NULLS LAST, values_left, schema_name, sequence_name LIMIT 1
        ),
        warn AS (
            SELECT t.warning FROM pgmaint.thresholds t WHERE t.check_name = 'sequences'
        ),
        past AS (
            SELECT count(m.seqid) AS n, warn.warning
              FROM warn LEFT JOIN measured m ON m.used_pct >= warn.warning
             GROUP BY warn.warning
        )
        SELECT 'invalid_indexes', invalid.n::numeric,
               CASE WHEN invalid.n = 0 THEN 'no invalid index'
                    ELSE format('%s invalid index(es), e.g. %s', invalid.n, invalid.example) END,
               'Drop and recreate them (DROP INDEX CONCURRENTLY, CREATE INDEX CONCURRENTLY); pgmaint.index_advice() lists them.'
          FROM invalid
        UNION ALL
        SELECT 'sequences', round(coalesce(worst.used_pct, 0), 2),
               CASE WHEN past.n > 1
                    THEN format('%s sequences have used %s%% or more of their range (pgmaint.sequences(%s) lists them); the worst: ',
                                past.n, past.warning, past.warning)
                    ELSE '' END
               || CASE WHEN worst.sequence_name IS NULL THEN 'no sequence in this database'
                    WHEN worst.cycle
                        THEN format('cycling sequence %I.%I has used %s%% of its range before it wraps; it feeds key column %s (%s), where the values after the wrap are already taken',
                                    worst.schema_name, worst.sequence_name, round(worst.used_pct, 2),
                                    worst.column_name, worst.column_type)
                    WHEN worst.column_limits
                        THEN format('sequence %I.%I has used %s%% of the range of column %s (%s, up to %s)',
                                    worst.schema_name, worst.sequence_name, round(worst.used_pct, 2),
                                    worst.column_name, worst.column_type, worst.bound)
                    WHEN worst.column_name IS NOT NULL
                        THEN format('sequence %I.%I has used %s%% of its range (it feeds column %s)',
                                    worst.schema_name, worst.sequence_name, round(worst.used_pct, 2), worst.column_name)
                    ELSE format('sequence %I.%I has used %s%% of its range',
                                worst.schema_name, worst.sequence_name, round(worst.used_pct, 2)) END
               || CASE WHEN worst.sequence_name IS NOT NULL AND NOT worst.called
                       THEN ' (never called: measured from its start value)' ELSE '' END,
               CASE WHEN worst.cycle
                        THEN 'At the wrap every insert fails with a duplicate key: make the sequence NO CYCLE and bigint (ALTER SEQUENCE ... NO CYCLE AS bigint MAXVALUE 9223372036854775807) and the column bigint; pgmaint.sequences() lists every sequence, most used first.'
                    WHEN worst.column_limits
                        THEN 'Inserts fail with "out of range" when the column''s type runs out, whatever the sequence allows: change the column to bigint (ALTER TABLE ... ALTER COLUMN ... TYPE bigint rewrites the table) before it does; pgmaint.sequences() lists every sequence, most used first.'
                    ELSE 'Change the column and its sequence to bigint (ALTER SEQUENCE ... AS bigint) before it runs out; pgmaint.sequences() lists every sequence, most used first.' END
          FROM invalid LEFT JOIN worst ON true LEFT JOIN past ON true;
END
$$;

COMMENT ON FUNCTION pgmaint._check_catalog() IS
'Internal: the invalid_indexes and sequences checks of this database.';

REVOKE ALL ON FUNCTION pgmaint._check_catalog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_catalog() TO pg_monitor;

-- Checks of what holds back vacuum and WAL removal: prepared transactions and slots.
CREATE OR REPLACE FUNCTION pgmaint._check_retention(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH prepared AS (
            SELECT count(*) AS n,
                   max(extract(epoch FROM clock_timestamp() - p.prepared)) AS oldest,
                   (array_agg(p.gid ORDER BY p.prepared))[1] AS oldest_gid
              FROM pg_catalog.pg_prepared_xacts p
        ),
        lsn AS (
            SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                        ELSE pg_current_wal_lsn() END AS now_lsn
        ),
        slots AS (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE NOT s.active) AS inactive,
                   (array_agg(s.slot_name ORDER BY s.slot_name) FILTER (WHERE NOT s.active))[1] AS inactive_example,
                   max(pg_wal_lsn_diff(lsn.now_lsn, s.restart_lsn)) / (1024 * 1024) AS retained_mb,
                   (array_agg(s.slot_name ORDER BY pg_wal_lsn_diff(lsn.now_lsn, s.restart_lsn) DESC NULLS LAST))[1] AS worst
              FROM pg_catalog.pg_replication_slots s, lsn
        )
        SELECT 'prepared_transactions', round(coalesce(prepared.oldest, 0)::numeric, 1),
               CASE WHEN prepared.n = 0 THEN 'no prepared transaction'
                    ELSE format('%s prepared transaction(s), the oldest (%L) for %s', prepared.n,
                                prepared.oldest_gid,
                                date_trunc('second', make_interval(secs => prepared.oldest::float8))) END,
               'Finish it with COMMIT PREPARED or ROLLBACK PREPARED (see pg_prepared_xacts); it also holds back vacuum (pgmaint.vacuum_stats()).'
          FROM prepared
        UNION ALL
        SELECT 'inactive_slots', slots.inactive::numeric,
               CASE WHEN slots.n = 0 THEN 'no replication slot'
                    WHEN slots.inactive = 0 THEN format('%s replication slot(s), all active', slots.n)
                    ELSE format('%s of %s replication slot(s) inactive, e.g. %I', slots.inactive, slots.n,
                                slots.inactive_example) END,
               'Drop slots nobody uses (SELECT pg_drop_replication_slot(''name'');); the WAL they hold is in pgmaint.health_checks() as slot_wal_retention.'
          FROM slots
        UNION ALL
        SELECT 'slot_wal_retention', round(coalesce(slots.retained_mb, 0)::numeric, 1),
               CASE WHEN slots.retained_mb IS NULL THEN 'no slot retains WAL'
                    ELSE format('slot %I retains %s of WAL', slots.worst,
                                pg_size_pretty((slots.retained_mb * 1024 * 1024)::bigint)) END,
               'A slow or gone consumer holds WAL back: fix it or drop its slot, and set max_slot_wal_keep_size; check the disk with pgmaint.disk_space().'
          FROM slots;
END
$$;

COMMENT ON FUNCTION pgmaint._check_retention() IS
'Internal: the prepared_transactions, inactive_slots and slot_wal_retention checks.';

REVOKE ALL ON FUNCTION pgmaint._check_retention() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_retention() TO pg_monitor;

-- Block hits and reads of this database over the last hour, from the sampler's
-- ring; NULL when the sampler does not run or watches another database.
CREATE OR REPLACE FUNCTION pgmaint._cache_hit_last_hour(OUT hits numeric, OUT reads numeric)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint.preloaded()
       OR NOT EXISTS (SELECT 1 FROM pgmaint.sampler_status() s
                       WHERE s.running AND s.database = current_database()) THEN
        RETURN;
    END IF;
    -- the per-interval deltas, by samples()' rule for a statistics reset
    SELECT d.hits, d.reads INTO hits, reads
      FROM pgmaint._ring_block_deltas(now() - interval '1 hour') d;
END
$$;

COMMENT ON FUNCTION pgmaint._cache_hit_last_hour() IS
'Internal: this database''s block hits and reads over the last hour from the sampler (NULL without it), for the cache_hit check.';

REVOKE ALL ON FUNCTION pgmaint._cache_hit_last_hour() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._cache_hit_last_hour() TO pg_monitor;

-- Table-level figures of this database computed now: one pass over pg_class
-- and one statistics snapshot, with the threshold code vacuum_stats() uses.
CREATE OR REPLACE FUNCTION pgmaint._table_health(
    min_reads bigint DEFAULT (pgmaint._table_health_floors()).min_reads,
    min_tuples bigint DEFAULT (pgmaint._table_health_floors()).min_tuples,
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint, OUT falling_inserts bigint)
RETURNS record
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health';

COMMENT ON FUNCTION pgmaint._table_health(bigint, bigint) IS
'Internal: worst heap hit ratio (tables with at least min_reads heap block reads), tables where autovacuum falls behind and the one with most dead tuples (then inserts since its last vacuum, falling_inserts), worst dead-tuple share (tables with at least min_tuples tuples), computed now.';

REVOKE ALL ON FUNCTION pgmaint._table_health(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health(bigint, bigint) TO pg_monitor;

-- The same figures from the worker's last sample, when it is of this
-- database and fresh (within two sample intervals); no row otherwise.
CREATE OR REPLACE FUNCTION pgmaint._table_health_sampled(
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint, OUT falling_inserts bigint,
    OUT sampled_at timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_sampled';

COMMENT ON FUNCTION pgmaint._table_health_sampled() IS
'Internal: _table_health() (with the floors of _table_health_floors()) as the worker computed it in its last sample, when that sample is of this database and at most two intervals old; no row otherwise.';

REVOKE ALL ON FUNCTION pgmaint._table_health_sampled() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_sampled() TO pg_monitor;

-- Table-level checks and free disk: the worker's figures when fresh, else one
-- C pass now; the messages say which.
CREATE OR REPLACE FUNCTION pgmaint._check_tables(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    floors record := pgmaint._table_health_floors();
    basis text;
    avail float8;
    disabled boolean;
BEGIN
    SELECT s.tables, s.hit_relid, s.hit_ratio, s.hit_reads, s.falling_behind,
           s.falling_relid, s.falling_dead, s.dead_relid, s.dead_share, s.dead_tuples,
           s.falling_inserts
      INTO f FROM pgmaint._table_health_sampled() s;
    IF FOUND THEN
        basis := 'from the worker''s last sample';
    ELSE
        SELECT * INTO f FROM pgmaint._table_health(floors.min_reads, floors.min_tuples);
        basis := 'computed now';
    END IF;

    check_name := 'table_cache_hit';
    value := round((100 * f.hit_ratio)::numeric, 2);
    message := CASE WHEN f.hit_relid IS NULL
                    THEN format('no table has %s heap block reads yet (%s)', floors.min_reads, basis)
                    ELSE format('table %s has the lowest heap hit ratio, %s%% of %s reads (%s)',
                                f.hit_relid::regclass, value, f.hit_reads, basis) END;
    hint := format('See pgmaint.cache_hit_tables(%s): raise shared_buffers or add indexes for the tables read from disk.',
                   floors.min_reads);
    RETURN NEXT;

    check_name := 'dead_tuples';
    value := round((100 * coalesce(f.dead_share, 0))::numeric, 2);
    message := CASE WHEN f.dead_relid IS NULL
                    THEN format('no table has %s tuples yet (%s)', floors.min_tuples, basis)
                    ELSE format('table %s has the highest dead-tuple share, %s%% (%s dead) (%s)',
                                f.dead_relid::regclass, value, f.dead_tuples, basis) END;
    hint := 'See pgmaint.vacuum_stats(): VACUUM the table, and lower its autovacuum_vacuum_scale_factor.';
    RETURN NEXT;

    check_name := 'autovacuum_behind';
    value := f.falling_behind;
    -- a table with autovacuum_enabled = off is not autovacuum falling behind:
    -- nobody vacuums it unless someone does so by hand
    disabled := f.falling_relid IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class c, unnest(c.reloptions) AS o
         WHERE c.oid = f.falling_relid
           AND lower(split_part(o, '=', 1)) = 'autovacuum_enabled'
           AND lower(split_part(o, '=', 2)) ~ '^(f(a(l(se?)?)?)?|no?|off?|0)$');
    message := CASE WHEN f.falling_behind = 0
                    THEN format('autovacuum keeps up with all %s tables (%s)', f.tables, basis)
                    WHEN disabled
                    THEN format('autovacuum is disabled on %s (autovacuum_enabled = off), %s dead tuples, %s inserted since its last vacuum; %s table(s) past twice a vacuum threshold (%s)',
                                f.falling_relid::regclass, f.falling_dead, f.falling_inserts, f.falling_behind, basis)
                    ELSE format('autovacuum falls behind on %s table(s), the worst %s with %s dead tuples and %s inserted since its last vacuum (%s)',
                                f.falling_behind, f.falling_relid::regclass, f.falling_dead, f.falling_inserts, basis) END;
    hint := CASE WHEN disabled
                 THEN format('Autovacuum skips %s (only anti-wraparound vacuums run): VACUUM it on a schedule of your own, or turn autovacuum back on with ALTER TABLE %s RESET (autovacuum_enabled); pgmaint.vacuum_stats() shows the others.',
                             f.falling_relid::regclass, f.falling_relid::regclass)
                 ELSE 'See pgmaint.vacuum_stats() WHERE falling_behind: VACUUM those tables (a table that only receives inserts needs it too, to set its pages all-visible and freeze them), check autovacuum is on for them and raise autovacuum_max_workers or lower autovacuum_vacuum_cost_delay.' END;
    RETURN NEXT;

    check_name := 'disk_free';
    IF pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') THEN
        SELECT d.available_pct INTO avail FROM pgmaint.disk_space() d;
        value := round(avail::numeric, 1);
        message := format('%s%% of the data directory''s file system is available', value);
        hint := 'See pgmaint.table_sizes() for the largest tables; free space or grow the volume before it fills.';
    ELSE
        value := NULL;
        message := 'cannot see the data directory: the caller lacks pg_read_all_settings';
        hint := 'Grant pg_monitor to the role that calls health().';
    END IF;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_tables() IS
'Internal: the table_cache_hit, dead_tuples, autovacuum_behind and disk_free checks.';

REVOKE ALL ON FUNCTION pgmaint._check_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_tables() TO pg_monitor;

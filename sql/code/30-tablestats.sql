-- Cache, vacuum, size and index reports (the guide's "Cache Hit Ratios",
-- "Vacuum Effectiveness", "Disk Space" and "High CPU Usage"), and the
-- database-wide wraparound and disk figures.  Per-table reports are in C
-- (src/tablestats.c): one pass over pg_class reading pgstat directly.

CREATE OR REPLACE FUNCTION pgmaint.cache_hit_tables(
    min_reads bigint DEFAULT 0,
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT heap_hits bigint, OUT heap_reads bigint, OUT heap_ratio double precision,
    OUT index_hits bigint, OUT index_reads bigint, OUT index_ratio double precision,
    OUT toast_hits bigint, OUT toast_reads bigint, OUT toast_ratio double precision)
RETURNS SETOF record
LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_cache_hit_tables';

COMMENT ON FUNCTION pgmaint.cache_hit_tables(bigint) IS
'Buffer cache hits and reads of each user table''s heap, indexes and TOAST (table and index), worst heap hit ratio first; only tables with at least min_reads reads in all. Ratios are hits / (hits + reads), NULL without any access.';

REVOKE ALL ON FUNCTION pgmaint.cache_hit_tables(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.cache_hit_tables(bigint) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._cache_hit_totals(
    OUT heap_hits bigint, OUT heap_reads bigint, OUT index_hits bigint,
    OUT index_reads bigint, OUT toast_hits bigint, OUT toast_reads bigint)
RETURNS record
LANGUAGE c STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_cache_hit_totals';

COMMENT ON FUNCTION pgmaint._cache_hit_totals() IS
'Internal: block hits and reads of all user tables'' heaps, indexes and TOAST, summed (the sums of cache_hit_tables()).';

REVOKE ALL ON FUNCTION pgmaint._cache_hit_totals() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._cache_hit_totals() TO pg_monitor;

-- The database's own counters and the user tables' sums.
CREATE OR REPLACE FUNCTION pgmaint.cache_hit(
    OUT scope text, OUT hits bigint, OUT reads bigint, OUT ratio double precision,
    OUT ratio_last_hour double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    last_hour record;
BEGIN
    -- from the sampler's ring (80-checks.sql); NULLs when it does not watch this database
    SELECT * INTO last_hour FROM pgmaint._cache_hit_last_hour();

    RETURN QUERY
    WITH db AS (
        SELECT pg_stat_get_db_blocks_hit(d.oid) AS hits,
               pg_stat_get_db_blocks_fetched(d.oid) - pg_stat_get_db_blocks_hit(d.oid) AS reads
          FROM pg_database d
         WHERE d.datname = current_database()
    ),
    t AS (
        SELECT * FROM pgmaint._cache_hit_totals()
    )
    SELECT s.scope, s.hits, s.reads,
           CASE WHEN s.hits + s.reads > 0 THEN s.hits::float8 / (s.hits + s.reads) END,
           CASE WHEN s.n = 1 AND last_hour.hits + last_hour.reads > 0
                THEN (last_hour.hits / (last_hour.hits + last_hour.reads))::float8 END
      FROM db, t,
           LATERAL (VALUES (1, 'database', db.hits, db.reads),
                           (2, 'heap', t.heap_hits, t.heap_reads),
                           (3, 'index', t.index_hits, t.index_reads),
                           (4, 'toast', t.toast_hits, t.toast_reads)) AS s(n, scope, hits, reads)
     ORDER BY s.n;
END
$$;

COMMENT ON FUNCTION pgmaint.cache_hit() IS
'Buffer cache hit ratio of this database (pg_stat_database) and of its user tables'' heap, indexes and TOAST: hits, reads and hits / (hits + reads), NULL when nothing was read yet; for the database, ratio_last_hour from the sampler''s ring (NULL unless the worker samples this database).';

REVOKE ALL ON FUNCTION pgmaint.cache_hit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.cache_hit() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.vacuum_stats(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT live_tuples bigint, OUT dead_tuples bigint, OUT dead_ratio double precision,
    OUT last_vacuum timestamptz, OUT last_autovacuum timestamptz,
    OUT last_analyze timestamptz, OUT last_autoanalyze timestamptz,
    OUT vacuum_count bigint, OUT autovacuum_count bigint,
    OUT analyze_count bigint, OUT autoanalyze_count bigint,
    OUT inserts_since_vacuum bigint, OUT mods_since_analyze bigint, OUT reltuples real,
    OUT vacuum_threshold double precision, OUT insert_threshold double precision,
    OUT analyze_threshold double precision, OUT dead_until_vacuum bigint,
    OUT autovacuum_enabled boolean, OUT autovacuum_due boolean, OUT analyze_due boolean,
    OUT falling_behind boolean, OUT xid_age integer, OUT freeze_max_age integer,
    OUT freeze_age_pct double precision, OUT profile text,
    OUT mxid_age integer, OUT mxid_freeze_max_age integer, OUT mxid_age_pct double precision)
RETURNS SETOF record
LANGUAGE c STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_vacuum_stats';

COMMENT ON FUNCTION pgmaint.vacuum_stats() IS
'Vacuum state of each user table, in catalog order (ORDER BY dead_ratio DESC NULLS LAST for the guide''s view): counts, last (auto)vacuum and (auto)analyze, the thresholds at which PostgreSQL 15''s autovacuum acts (reloption, else setting; reltuples < 0 counts as 0), whether it is due, falling_behind (dead tuples above twice the vacuum threshold, inserts since the last vacuum above twice the insert threshold, or a freeze age that forces a vacuum; and no vacuum for 10 autovacuum_naptime), pgmaint''s profile, and the table''s transaction-id and multixact ages (xid_age, mxid_age: the greater of the table''s and its TOAST table''s, which autovacuum must both freeze) in % of the effective autovacuum_freeze_max_age and autovacuum_multixact_freeze_max_age.';

REVOKE ALL ON FUNCTION pgmaint.vacuum_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.vacuum_stats() TO pg_monitor;

-- The rows of vacuum_stats() with dead tuples (the reports' ten with the
-- most): the same C code, which skips the other tables before computing
-- anything else for them.
CREATE OR REPLACE FUNCTION pgmaint._vacuum_stats_dead(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT live_tuples bigint, OUT dead_tuples bigint, OUT dead_ratio double precision,
    OUT last_vacuum timestamptz, OUT last_autovacuum timestamptz,
    OUT last_analyze timestamptz, OUT last_autoanalyze timestamptz,
    OUT vacuum_count bigint, OUT autovacuum_count bigint,
    OUT analyze_count bigint, OUT autoanalyze_count bigint,
    OUT inserts_since_vacuum bigint, OUT mods_since_analyze bigint, OUT reltuples real,
    OUT vacuum_threshold double precision, OUT insert_threshold double precision,
    OUT analyze_threshold double precision, OUT dead_until_vacuum bigint,
    OUT autovacuum_enabled boolean, OUT autovacuum_due boolean, OUT analyze_due boolean,
    OUT falling_behind boolean, OUT xid_age integer, OUT freeze_max_age integer,
    OUT freeze_age_pct double precision, OUT profile text,
    OUT mxid_age integer, OUT mxid_freeze_max_age integer, OUT mxid_age_pct double precision)
RETURNS SETOF record
LANGUAGE c STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_vacuum_stats_dead';

COMMENT ON FUNCTION pgmaint._vacuum_stats_dead() IS
'Internal: the rows of vacuum_stats() whose dead_tuples is above 0.';

REVOKE ALL ON FUNCTION pgmaint._vacuum_stats_dead() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._vacuum_stats_dead() TO pg_monitor;

-- Sizes and locks for monitoring reads that never queue behind DDL
-- (src/nowait.c): NULL, or false, instead of a wait.
CREATE OR REPLACE FUNCTION pgmaint._relation_size_nowait(rel oid, fork text DEFAULT 'main')
RETURNS bigint
LANGUAGE c VOLATILE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_relation_size_nowait';

COMMENT ON FUNCTION pgmaint._relation_size_nowait(oid, text) IS
'Internal: pg_relation_size(rel, fork), or NULL when the relation is gone or its AccessShareLock cannot be granted at once (another session holds or waits for a conflicting lock).';

REVOKE ALL ON FUNCTION pgmaint._relation_size_nowait(oid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._relation_size_nowait(oid, text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._table_parts_nowait(
    rel oid, OUT heap_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint, OUT busy boolean)
RETURNS record
LANGUAGE c VOLATILE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_parts_nowait';

COMMENT ON FUNCTION pgmaint._table_parts_nowait(oid) IS
'Internal: a table''s heap (all forks), index and TOAST (table and index) bytes as table_sizes() has them, each lock taken without waiting: NULL sizes and busy true when one was not granted at once, all NULL when the table is gone.';

REVOKE ALL ON FUNCTION pgmaint._table_parts_nowait(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_parts_nowait(oid) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._lock_free(rel oid)
RETURNS boolean
LANGUAGE c VOLATILE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_lock_free';

COMMENT ON FUNCTION pgmaint._lock_free(oid) IS
'Internal: whether an AccessShareLock on rel would be granted now (taken and given back at once), so that bloat(exact => true) skips a relation that DDL holds or waits for instead of queueing behind it.';

REVOKE ALL ON FUNCTION pgmaint._lock_free(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._lock_free(oid) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.table_sizes(
    OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT total_bytes bigint, OUT heap_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint,
    OUT total_size text, OUT heap_size text, OUT index_size text, OUT toast_size text,
    OUT row_estimate bigint, OUT note text)
RETURNS SETOF record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_sizes';

COMMENT ON FUNCTION pgmaint.table_sizes() IS
'Exact on-disk size of each user table, largest first: heap (all forks), indexes and TOAST (table and index); total_bytes = pg_total_relation_size. Stats every file: keep it off frequent health checks. row_estimate is reltuples (NULL before the first VACUUM or ANALYZE). Never waits for a lock: a table that another session locks, or waits to lock, in a conflicting mode (DDL waiting for ACCESS EXCLUSIVE) comes last with NULL sizes and the reason in note.';

REVOKE ALL ON FUNCTION pgmaint.table_sizes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.table_sizes() TO pg_monitor;

-- The n user tables with the most pages in the catalog: their own, their
-- TOAST table's and their indexes' relpages (one pass over pg_class and one
-- over pg_index in C), the candidates of _largest_tables().
CREATE OR REPLACE FUNCTION pgmaint._page_leaders(n integer)
RETURNS SETOF oid
LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_page_leaders';

COMMENT ON FUNCTION pgmaint._page_leaders(integer) IS
'Internal: the n user tables and materialized views (outside pg_catalog, information_schema, pg_toast* and pg_temp_*) with the most heap, TOAST and index pages in the catalog (relpages), most first, then by relid.';

REVOKE ALL ON FUNCTION pgmaint._page_leaders(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._page_leaders(integer) TO pg_monitor;

-- The n largest user tables by pg_total_relation_size, with the parts of
-- their size as table_sizes() gives them.  Only the 2n with the most pages in
-- the catalog (heap, TOAST and indexes; relpages is as fresh as the last
-- VACUUM, ANALYZE or CREATE INDEX) are measured, so that a database of
-- 10,000 tables stats forty tables' files, not all of them.
CREATE OR REPLACE FUNCTION pgmaint._largest_tables(
    n integer,
    OUT relid oid, OUT schema_name name, OUT table_name name,
    OUT total_bytes bigint, OUT heap_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint,
    OUT row_estimate bigint)
RETURNS SETOF record
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH candidates AS (
        SELECT l.owner FROM pgmaint._page_leaders(2 * n) l(owner)
    ),
    sized AS (
        -- never behind a lock DDL holds or waits for: such a table is left out
        SELECT c.oid, ns.nspname, c.relname, c.reltuples, p.heap_bytes, p.index_bytes, p.toast_bytes,
               p.heap_bytes + p.index_bytes + p.toast_bytes AS total
          FROM candidates k
          JOIN pg_class c ON c.oid = k.owner
          JOIN pg_namespace ns ON ns.oid = c.relnamespace
         CROSS JOIN LATERAL pgmaint._table_parts_nowait(c.oid) p
         WHERE c.relkind IN ('r', 'm')
    )
    SELECT s.oid, s.nspname, s.relname, s.total, s.heap_bytes, s.index_bytes, s.toast_bytes,
           CASE WHEN s.reltuples >= 0 THEN s.reltuples::bigint END
      FROM sized s
     WHERE s.total IS NOT NULL
     ORDER BY s.total DESC, s.oid
     LIMIT n;
$$;

COMMENT ON FUNCTION pgmaint._largest_tables(integer) IS
'Internal: the n largest user tables and materialized views by pg_total_relation_size, with heap (all forks), index and TOAST bytes and reltuples as table_sizes() has them, measured among the 2n with the most heap, TOAST and index pages in the catalog; a table whose lock is not granted at once (DDL holds or waits for it) is left out rather than waited for.';

REVOKE ALL ON FUNCTION pgmaint._largest_tables(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._largest_tables(integer) TO pg_monitor;

-- Foreign keys that no valid, non-partial index leads with (in any column order):
-- index_advice()'s fk_without_index rows and checklist() item 7 count them.
CREATE OR REPLACE FUNCTION pgmaint._fk_without_index(
    OUT conname name, OUT conrelid oid, OUT confrelid oid, OUT relkind "char", OUT cols text)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT k.conname, k.conrelid, k.confrelid, t.relkind,
           (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord)
              FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS cols
      FROM pg_constraint k
      JOIN pg_class t ON t.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE k.contype = 'f' AND k.conparentid = 0
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
       AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                        WHERE dep.classid = 'pg_class'::regclass AND dep.objid = t.oid
                          AND dep.deptype = 'e')
       AND NOT EXISTS (
           SELECT 1 FROM pg_index i
            WHERE i.indrelid = k.conrelid AND i.indisvalid AND i.indpred IS NULL
              AND i.indnkeyatts >= cardinality(k.conkey)
              AND (SELECT array_agg(x ORDER BY x)
                     FROM unnest((i.indkey::int2[])[0:cardinality(k.conkey) - 1]) AS x)
                  = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) AS x));
$$;

COMMENT ON FUNCTION pgmaint._fk_without_index() IS
'Internal: the foreign keys of user tables that no valid, non-partial index leads with (their columns in any order), with the referencing table''s kind and its quoted column list.';

REVOKE ALL ON FUNCTION pgmaint._fk_without_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._fk_without_index() TO pg_monitor;

-- Of duplicate indexes, the one to keep ranks highest: the primary key, then
-- one backing a constraint, then a unique one, then one that was scanned.
CREATE OR REPLACE FUNCTION pgmaint._index_keep_rank(
    is_primary boolean, backs_constraint boolean, is_unique boolean, scans bigint)
RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY[is_primary::int, backs_constraint::int, is_unique::int, (scans > 0)::int];
$$;

COMMENT ON FUNCTION pgmaint._index_keep_rank(boolean, boolean, boolean, bigint) IS
'Internal: the rank of an index among its duplicates in index_advice() (higher is kept): primary key, backs a constraint, unique, scanned since the statistics reset; ties go to the oldest index.';

REVOKE ALL ON FUNCTION pgmaint._index_keep_rank(boolean, boolean, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._index_keep_rank(boolean, boolean, boolean, bigint) TO pg_monitor;

-- Unused, duplicate, invalid and missing indexes, and large tables read by sequential scans.
CREATE OR REPLACE FUNCTION pgmaint.index_advice(
    unused_min_bytes bigint DEFAULT 0,
    seq_scan_min_bytes bigint DEFAULT 10485760,
    OUT kind text, OUT table_name regclass, OUT index_name regclass,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- the planner's estimates for these catalog joins pass jit_above_cost at a few
-- thousand tables, and compiling the query then costs more than running it
SET jit = off
AS $$
BEGIN
    IF unused_min_bytes IS NULL OR unused_min_bytes < 0
       OR seq_scan_min_bytes IS NULL OR seq_scan_min_bytes < 0 THEN
        RAISE EXCEPTION 'size floors must not be negative or null'
            USING ERRCODE = '22023',
                  HINT = 'Pass 0 to report indexes and tables of every size.';
    END IF;

    RETURN QUERY
    WITH ext_tables AS MATERIALIZED (
        -- the tables extensions own, from the extensions' side of pg_depend (one
        -- hashed set rather than a probe per table)
        SELECT dep.objid FROM pg_depend dep
         WHERE dep.refclassid = 'pg_extension'::regclass AND dep.classid = 'pg_class'::regclass
           AND dep.deptype = 'e'
    ),
    idx AS (
        SELECT i.indexrelid, i.indrelid, i.indisprimary, i.indisunique, i.indisexclusion,
               i.indisreplident, i.indisvalid, i.indnatts, i.indnkeyatts,
               ic.relam, ic.relkind AS idxkind, ic.relname AS idxname,
               ic.relispartition AS is_partition,  -- attached to a partitioned index
               count(*) OVER (PARTITION BY i.indrelid) AS table_indexes
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'm', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND t.oid NOT IN (SELECT e.objid FROM ext_tables e)  -- not the user's to index
    ),
    ranked AS MATERIALIZED (
        -- what comparing two indexes takes, only for the tables with more than
        -- one; of duplicates the one kept ranks highest (pgmaint._index_keep_rank)
        SELECT x.*, pgmaint._index_keep_rank(x.indisprimary, x.backs_constraint, x.indisunique, x.scans) AS keep_rank
          FROM (SELECT idx.*, i.indkey::text AS allcols,
                       pg_get_expr(i.indexprs, i.indrelid) AS exprs,
                       pg_get_expr(i.indpred, i.indrelid) AS pred,
                       -- the key columns' attributes, 1-based (a slice of an int2vector or oidvector)
                       (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keycols,
                       (i.indclass::oid[])[0:i.indnkeyatts - 1] AS keyclass,
                       (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS keycoll,
                       (i.indoption::int2[])[0:i.indnkeyatts - 1] AS keyopt,
                       pg_stat_get_numscans(i.indexrelid) AS scans,
                       (idx.indisprimary OR idx.indisunique OR idx.indisexclusion)
                       AND EXISTS (SELECT 1 FROM pg_constraint k
                                    WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                                      AND k.contype IN ('p', 'u', 'x')) AS backs_constraint
                  FROM idx
                  JOIN pg_index i ON i.indexrelid = idx.indexrelid
                 WHERE idx.table_indexes > 1 AND idx.indisvalid AND NOT idx.is_partition) x
    ),
    grouped AS (
        -- indexes with the same method, key and included columns, operator
        -- classes, collations, options, expressions and predicate form a group;
        -- its keeper is the highest-ranked, else the oldest
        SELECT r.*,
               first_value(r.indexrelid) OVER (
                   PARTITION BY r.indrelid, r.relam, r.idxkind, r.allcols, r.keyclass, r.keycoll,
                                r.keyopt, r.exprs, r.pred
                   ORDER BY r.keep_rank DESC, r.indexrelid) AS keeper
          FROM ranked r
    ),
    prefix AS (
        -- a plain btree keeper whose key columns lead another keeper's keys:
        -- the longest such index serves its scans (it leads no other one, so it is kept)
        SELECT DISTINCT ON (a.indexrelid) a.indexrelid, b.indexrelid AS kept
          FROM grouped a
          JOIN grouped b ON b.indrelid = a.indrelid AND b.indexrelid = b.keeper
                        AND b.indexrelid <> a.indexrelid
         WHERE a.indexrelid = a.keeper
           AND a.exprs IS NULL AND b.exprs IS NULL AND a.pred IS NOT DISTINCT FROM b.pred
           AND NOT a.indisunique AND NOT a.indisexclusion AND a.indnatts = a.indnkeyatts
           AND a.relam = (SELECT am.oid FROM pg_am am WHERE am.amname = 'btree')
           AND b.relam = a.relam AND b.idxkind = a.idxkind
           AND b.indnkeyatts > a.indnkeyatts
           AND b.keycols[1:a.indnkeyatts] = a.keycols AND b.keyclass[1:a.indnkeyatts] = a.keyclass
           AND b.keycoll[1:a.indnkeyatts] = a.keycoll AND b.keyopt[1:a.indnkeyatts] = a.keyopt
         ORDER BY a.indexrelid, b.indnkeyatts DESC, b.keep_rank DESC, b.indexrelid
    ),
    dup AS MATERIALIZED (
        -- every index to drop points to one that stays: a group's other members
        -- to its keeper (or to what the keeper leads, when it goes too)
        SELECT g.indexrelid, g.indrelid, g.idxkind, g.backs_constraint, g.scans,
               coalesce(p.kept, g.keeper) AS kept, p.kept IS NULL AS exact
          FROM grouped g
          LEFT JOIN prefix p ON p.indexrelid = g.keeper
         WHERE g.indexrelid <> g.keeper
        UNION ALL
        SELECT g.indexrelid, g.indrelid, g.idxkind, g.backs_constraint, g.scans, p.kept, false
          FROM grouped g
          JOIN prefix p ON p.indexrelid = g.indexrelid
    ),
    kept AS (
        SELECT d.kept AS indexrelid,
               string_agg(d.indexrelid::regclass::text, ', ' ORDER BY d.indexrelid::regclass::text) AS for_dups
          FROM dup d GROUP BY d.kept
    ),
    tbl AS (
        SELECT c.oid, c.relpages, pg_stat_get_numscans(c.oid) AS seq_scan,
               pg_stat_get_tuples_returned(c.oid) AS seq_tup_read,
               (SELECT coalesce(sum(pg_stat_get_numscans(i.indexrelid)), 0)
                  FROM pg_index i WHERE i.indrelid = c.oid) AS idx_scan
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'm')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND pg_stat_get_numscans(c.oid) >= 10
           AND c.oid NOT IN (SELECT e.objid FROM ext_tables e)
    ),
    -- sizes from the files (relpages is only as fresh as the last VACUUM,
    -- ANALYZE or CREATE INDEX), for the few rows the cheap filters leave;
    -- never behind a lock DDL holds or waits for (NULL: not measured)
    seq_heavy AS MATERIALIZED (
        SELECT tbl.*, pgmaint._relation_size_nowait(tbl.oid) AS bytes
          FROM (SELECT * FROM tbl WHERE tbl.seq_scan > tbl.idx_scan OFFSET 0) tbl
    ),
    idx_stats AS MATERIALIZED (
        SELECT idx.indexrelid, idx.indrelid, pg_stat_get_numscans(idx.indexrelid) AS scans,
               pg_stat_get_tuples_inserted(idx.indrelid) + pg_stat_get_tuples_updated(idx.indrelid)
               - pg_stat_get_tuples_hot_updated(idx.indrelid) AS writes
          FROM idx
         WHERE idx.idxkind = 'i' AND idx.indisvalid AND NOT idx.is_partition
           -- (an index that backs a constraint is a primary key, unique or exclusion one)
           AND NOT idx.indisprimary AND NOT idx.indisunique AND NOT idx.indisexclusion
           AND NOT idx.indisreplident
           -- a duplicate has its own row, which suggests its drop
           AND idx.indexrelid NOT IN (SELECT d.indexrelid FROM dup d)
    ),
    -- unused: no scan; rarely used: fewer than one scan per 100 index writes
    -- (inserts and non-HOT updates), over at least 1,000 writes
    idx_sized AS MATERIALIZED (
        SELECT s.*, pgmaint._relation_size_nowait(s.indexrelid) AS bytes, k.for_dups
          FROM (SELECT * FROM idx_stats
                 WHERE scans = 0 OR (writes >= 1000 AND scans * 100 < writes) OFFSET 0) s
          LEFT JOIN kept k ON k.indexrelid = s.indexrelid
    ),
    fk AS (
        SELECT * FROM pgmaint._fk_without_index()
    ),
    reset AS (
        SELECT coalesce(pg_stat_get_db_stat_reset_time(
                            (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))::text,
                        'never reset') AS at
    )
    SELECT 'unused'::text, idx_sized.indrelid::regclass, idx_sized.indexrelid::regclass,
           format('no index scans since statistics were reset (%s); %s%s', reset.at,
                  coalesce(pg_size_pretty(idx_sized.bytes), 'size not measured: another session holds or waits for a conflicting lock on it'),
                  CASE WHEN idx_sized.for_dups IS NOT NULL
                       THEN format('; kept for now: %s, suggested for dropping as its duplicate(s), would leave its columns without an index', idx_sized.for_dups)
                       ELSE '' END),
           -- never two drops that together leave a duplicate's columns without the index it pointed to
           CASE WHEN idx_sized.for_dups IS NULL
                THEN format('DROP INDEX CONCURRENTLY %s;', idx_sized.indexrelid::regclass) END
      FROM idx_sized, reset
     WHERE idx_sized.scans = 0 AND coalesce(idx_sized.bytes, unused_min_bytes) >= unused_min_bytes
    UNION ALL
    SELECT 'rarely_used'::text, idx_sized.indrelid::regclass, idx_sized.indexrelid::regclass,
           format('%s index scans against %s index writes (inserts and non-HOT updates) since statistics were reset; %s%s',
                  idx_sized.scans, idx_sized.writes,
                  coalesce(pg_size_pretty(idx_sized.bytes), 'size not measured: another session holds or waits for a conflicting lock on it'),
                  CASE WHEN idx_sized.for_dups IS NOT NULL
                       THEN format('; kept: it serves the scans of %s, suggested for dropping as its duplicate(s)', idx_sized.for_dups)
                       ELSE '' END),
           CASE WHEN idx_sized.for_dups IS NULL
                THEN format('Every write maintains it for few reads: check the queries that use it in pg_stat_statements, then DROP INDEX CONCURRENTLY %s;',
                            idx_sized.indexrelid::regclass) END
      FROM idx_sized
     WHERE idx_sized.scans > 0 AND coalesce(idx_sized.bytes, unused_min_bytes) >= unused_min_bytes
    UNION ALL
    SELECT 'duplicate', dup.indrelid::regclass, dup.indexrelid::regclass,
           format(CASE WHEN dup.exact THEN 'same columns, expressions and predicate as %s, which is kept; %s index scans since statistics were reset'
                       ELSE 'its columns lead %s, which serves the same scans and is kept; %s index scans since statistics were reset' END,
                  dup.kept::regclass, dup.scans),
           CASE WHEN dup.backs_constraint
                THEN format('ALTER TABLE %s DROP CONSTRAINT %I;', dup.indrelid::regclass,
                            (SELECT k.conname FROM pg_constraint k
                              WHERE k.conindid = dup.indexrelid AND k.conrelid = dup.indrelid
                              LIMIT 1))
                WHEN dup.idxkind = 'I' THEN format('DROP INDEX %s;', dup.indexrelid::regclass)
                ELSE format('DROP INDEX CONCURRENTLY %s;', dup.indexrelid::regclass) END
      FROM dup
    UNION ALL
    SELECT 'invalid', idx.indrelid::regclass, idx.indexrelid::regclass,
           'invalid index (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY): every write maintains it, no query uses it',
           CASE WHEN idx.idxname ~ '_cc(new|old)[0-9]*$'
                THEN format('DROP INDEX CONCURRENTLY %s;', idx.indexrelid::regclass)
                ELSE format('REINDEX INDEX CONCURRENTLY %s;', idx.indexrelid::regclass) END
      FROM idx
     WHERE idx.idxkind = 'i' AND NOT idx.indisvalid
       AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
                        WHERE p.relid = idx.indrelid)
    UNION ALL
    SELECT 'fk_without_index', fk.conrelid::regclass, NULL::regclass,
           format('foreign key %I (%s) to %s: no valid index leads with these columns, so deletes and updates of %s scan %s',
                  fk.conname, fk.cols, fk.confrelid::regclass, fk.confrelid::regclass,
                  fk.conrelid::regclass),
           format(CASE WHEN fk.relkind = 'p' THEN 'CREATE INDEX ON %s (%s);'
                       ELSE 'CREATE INDEX CONCURRENTLY ON %s (%s);' END,
                  fk.conrelid::regclass, fk.cols)
      FROM fk
    UNION ALL
    SELECT 'seq_scan_heavy', seq_heavy.oid::regclass, NULL::regclass,
           format('%s sequential scans read %s rows, %s index scans; %s',
                  seq_heavy.seq_scan, seq_heavy.seq_tup_read, seq_heavy.idx_scan,
                  coalesce(pg_size_pretty(seq_heavy.bytes), 'size not measured: another session holds or waits for a conflicting lock on it')),
           format('SELECT query, calls, rows FROM pg_stat_statements WHERE query ~* %L ORDER BY total_exec_time DESC LIMIT 10;',
                  '\m' || (SELECT c.relname FROM pg_class c WHERE c.oid = seq_heavy.oid) || '\M')
      FROM seq_heavy
     WHERE coalesce(seq_heavy.bytes, seq_scan_min_bytes) >= seq_scan_min_bytes
    UNION ALL
    SELECT * FROM pgmaint._partitioned_index_findings(unused_min_bytes);
END
$$;

COMMENT ON FUNCTION pgmaint.index_advice(bigint, bigint) IS
'Index findings with a suggested statement, safe to apply all together: unused (no scans since the statistics reset, of every size by default, at least unused_min_bytes; never primary key, unique, exclusion or replica-identity indexes; a partitioned index when none of its partitions'' indexes was scanned), rarely_used (the same kinds of index with fewer than one scan per 100 index writes, over at least 1,000 writes), duplicate (same columns, expressions and predicate, or a plain btree leading another; of each group the index kept is the primary key, then one backing a constraint, then unique, then used, then the oldest), invalid (not while a concurrent build runs on the table), fk_without_index, seq_scan_heavy (tables of at least seq_scan_min_bytes with 10+ sequential scans, more than index scans). An unused or rarely used index that a duplicate is dropped in favour of has no suggestion (NULL): dropping both would leave the columns without an index. Sizes are pg_relation_size, taken only for the indexes and tables the statistics already single out, never behind a lock DDL holds or waits for (the detail then says the size was not measured).';

REVOKE ALL ON FUNCTION pgmaint.index_advice(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.index_advice(bigint, bigint) TO pg_monitor;

-- The guide's "find expensive queries", on PostgreSQL 13+ column names.
CREATE OR REPLACE FUNCTION pgmaint.expensive_queries(
    n integer DEFAULT 10,
    OUT queryid bigint, OUT database name, OUT role name, OUT query text,
    OUT calls bigint, OUT total_exec_time double precision,
    OUT mean_exec_time double precision, OUT rows bigint,
    OUT share_pct double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pgss_schema name;
    pgss_version text;
BEGIN
    IF n IS NULL OR n < 0 THEN
        RAISE EXCEPTION 'n must not be negative or null'
            USING ERRCODE = '22023',
                  HINT = 'Pass the number of queries to list, for example 10.';
    END IF;

    SELECT e.extnamespace::regnamespace::name, e.extversion
      INTO pgss_schema, pgss_version
      FROM pg_extension e
     WHERE e.extname = 'pg_stat_statements';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_stat_statements is not installed in this database'
            USING ERRCODE = '55000',
                  HINT = 'Add pg_stat_statements to shared_preload_libraries, restart the server, then run CREATE EXTENSION pg_stat_statements in this database.';
    END IF;
    IF string_to_array(pgss_version, '.')::int[] < ARRAY[1, 8] THEN
        RAISE EXCEPTION 'pg_stat_statements %, installed in this database, has no total_exec_time', pgss_version
            USING ERRCODE = '55000',
                  HINT = 'Run ALTER EXTENSION pg_stat_statements UPDATE.';
    END IF;

    RETURN QUERY EXECUTE format(
        'SELECT s.queryid, d.datname, r.rolname, s.query, s.calls, s.total_exec_time,
                s.mean_exec_time, s.rows,
                100 * s.total_exec_time / nullif(sum(s.total_exec_time) OVER (), 0)
           FROM %I.pg_stat_statements s
           LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
           LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
          ORDER BY s.total_exec_time DESC, s.queryid
          LIMIT $1', pgss_schema)
    USING n;
END
$$;

COMMENT ON FUNCTION pgmaint.expensive_queries(integer) IS
'The n statements with the most total execution time in pg_stat_statements (found in whatever schema it is installed): calls, total and mean time in ms, rows, and share_pct of all statements'' time. SQLSTATE 55000 when pg_stat_statements is not installed.';

REVOKE ALL ON FUNCTION pgmaint.expensive_queries(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.expensive_queries(integer) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.disk_space(
    OUT total_bytes bigint, OUT free_bytes bigint, OUT available_bytes bigint,
    OUT available_pct double precision)
RETURNS record
LANGUAGE c VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_disk_space';

COMMENT ON FUNCTION pgmaint.disk_space() IS
'Size, free and available (to the server, not root) bytes of the data directory''s file system, from statvfs. Requires the privileges of pg_read_all_settings (pg_monitor has them).';

REVOKE ALL ON FUNCTION pgmaint.disk_space() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.disk_space() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.database_stats(
    OUT database name,
    OUT xid_age integer, OUT xid_freeze_max_age integer, OUT xid_age_pct double precision,
    OUT mxid_age integer, OUT mxid_freeze_max_age integer, OUT mxid_age_pct double precision,
    OUT oldest_database name, OUT oldest_xid_age integer, OUT oldest_xid_age_pct double precision,
    OUT disk_total_bytes bigint, OUT disk_available_bytes bigint,
    OUT disk_available_pct double precision)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT current_setting('autovacuum_freeze_max_age')::int AS xmax,
               current_setting('autovacuum_multixact_freeze_max_age')::int AS mmax
    ),
    oldest AS (
        SELECT d.datname, age(d.datfrozenxid) AS a
          FROM pg_database d
         ORDER BY age(d.datfrozenxid) DESC, d.datname
         LIMIT 1
    )
    SELECT d.datname,
           age(d.datfrozenxid), s.xmax, 100.0 * age(d.datfrozenxid) / s.xmax,
           mxid_age(d.datminmxid), s.mmax, 100.0 * mxid_age(d.datminmxid) / s.mmax,
           oldest.datname, oldest.a, 100.0 * oldest.a / s.xmax,
           ds.total_bytes, ds.available_bytes, ds.available_pct
      FROM pg_database d, s, oldest, pgmaint.disk_space() ds
     WHERE d.datname = current_database();
$$;

COMMENT ON FUNCTION pgmaint.database_stats() IS
'Database-wide figures for health(): age(datfrozenxid) and mxid_age(datminmxid) of this database in % of autovacuum_freeze_max_age and autovacuum_multixact_freeze_max_age (autovacuum forces a vacuum at 100%), the oldest database of the cluster, and the data directory''s disk space.';

REVOKE ALL ON FUNCTION pgmaint.database_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.database_stats() TO pg_monitor;

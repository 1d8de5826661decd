-- Space: bloat estimates of tables and indexes, partitioned tables rolled
-- up, and growth.  The worker records sizes and the worst bloat estimates
-- once per pgmaint.growth_interval (src/growth.c runs _record_space()), so
-- that the bloat and disk_full_eta checks read a few rows instead of sizing
-- every table at each health() call.

-- The estimated ratio below which an object does not count as bloated (noise of the estimate).
CREATE OR REPLACE FUNCTION pgmaint._bloat_min_ratio()
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 0.2::double precision $$;

COMMENT ON FUNCTION pgmaint._bloat_min_ratio() IS
'Internal: the estimated wasted share (0.2) from which pgmaint.bloat() flags an object and the bloat check counts it; below it the estimate is within its own error.';

REVOKE ALL ON FUNCTION pgmaint._bloat_min_ratio() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._bloat_min_ratio() TO pg_monitor;

-- The estimate: what each heap and btree index would take if packed at its
-- fillfactor, from the statistics' average widths and null fractions and
-- pg_class' reltuples, against its relpages (both from the last VACUUM or
-- ANALYZE, so they describe the same moment).  SECURITY DEFINER so that a
-- pg_monitor caller's estimate covers every table: pg_statistic is readable
-- by superusers only, and only widths and null fractions are read from it.
CREATE OR REPLACE FUNCTION pgmaint._bloat_estimate(
    OUT relid oid, OUT table_relid oid, OUT kind text, OUT pages bigint,
    OUT expected_pages bigint, OUT bytes bigint, OUT wasted_bytes bigint,
    OUT ratio double precision)
RETURNS SETOF record
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH const AS (
        SELECT current_setting('block_size')::numeric AS bs,
               8 AS ma   -- MAXALIGN on the 64-bit platforms PostgreSQL 15 runs on
    ),
    tbl AS MATERIALIZED (
        SELECT c.oid, c.relpages, c.reltuples, c.relnatts,
               coalesce((SELECT split_part(o, '=', 2)::numeric FROM unnest(c.reloptions) o
                          WHERE o LIKE 'fillfactor=%'), 100) AS ff
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples >= 0
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
    ),
    heap AS (
        SELECT t.oid, t.oid AS table_oid, 'table'::text AS kind, t.relpages::bigint AS pages,
               CASE WHEN t.reltuples = 0 THEN 0 ELSE
                   ceil(t.reltuples / greatest(1, floor(floor((const.bs - 24) * t.ff / 100)
                       / (ceil((ceil((23 + CASE WHEN w.has_nulls THEN ceil(t.relnatts / 8.0) ELSE 0 END) / const.ma) * const.ma
                                + w.width) / const.ma) * const.ma + 4))))
               END::bigint AS expected
          FROM tbl t
          -- every live column with its statistics (an index lookup each); a
          -- column without any leaves the table out
          CROSS JOIN LATERAL (
              SELECT count(*) AS ncols, count(s.stawidth) AS with_stats,
                     bool_or(coalesce(s.stanullfrac, 0) > 0) AS has_nulls,
                     sum(s.stawidth * (1 - s.stanullfrac)) AS width
                FROM pg_attribute a
                LEFT JOIN pg_statistic s ON s.starelid = a.attrelid AND s.staattnum = a.attnum
                                        AND NOT s.stainherit
               WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped) w,
          const
         WHERE w.with_stats = w.ncols
    ),
    btree AS (
        -- btree indexes on plain columns: an 8-byte tuple header and the keys;
        -- leaf pages, one upper page per leaf page's worth of keys, the metapage
        SELECT x.indexrelid AS oid, x.indrelid AS table_oid, 'index'::text AS kind,
               x.relpages::bigint AS pages,
               (ceil(x.reltuples / x.per_page) + ceil(x.reltuples / x.per_page / x.per_page) + 1)::bigint
                   AS expected
          FROM (SELECT i.indexrelid, i.indrelid, ic.relpages, ic.reltuples,
                       greatest(1, floor(floor((const.bs - 24 - 16)
                                               * coalesce((SELECT split_part(o, '=', 2)::numeric
                                                             FROM unnest(ic.reloptions) o
                                                            WHERE o LIKE 'fillfactor=%'), 90) / 100)
                                         / (ceil((8 + w.width) / const.ma) * const.ma + 4))) AS per_page
                  FROM tbl t
                  JOIN pg_index i ON i.indrelid = t.oid
                  JOIN pg_class ic ON ic.oid = i.indexrelid
                  CROSS JOIN LATERAL (
                      SELECT count(*) AS nkeys, count(s.stawidth) AS with_stats,
                             sum(s.stawidth * (1 - s.stanullfrac)) AS width
                        FROM unnest(i.indkey::int2[]) k
                        LEFT JOIN pg_statistic s ON s.starelid = i.indrelid AND s.staattnum = k
                                                AND NOT s.stainherit) w,
                  const
                 WHERE ic.relam = (SELECT am.oid FROM pg_am am WHERE am.amname = 'btree')
                   AND i.indexprs IS NULL AND i.indisvalid
                   AND ic.relpages > 1 AND ic.reltuples >= 0
                   AND w.nkeys > 0 AND w.with_stats = w.nkeys) x
    )
    SELECT e.oid, e.table_oid, e.kind, e.pages, e.expected,
           (e.pages * const.bs)::bigint,
           (greatest(e.pages - e.expected, 0) * const.bs)::bigint,
           greatest(e.pages - e.expected, 0)::double precision / e.pages
      FROM (SELECT * FROM heap UNION ALL SELECT * FROM btree) e, const;
$$;

COMMENT ON FUNCTION pgmaint._bloat_estimate() IS
'Internal: per heap and btree index, the pages it would take packed at its fillfactor (from pg_statistic widths and null fractions, and reltuples) against its relpages; only objects whose columns all have statistics. SECURITY DEFINER: reads pg_statistic''s widths for pg_monitor.';

REVOKE ALL ON FUNCTION pgmaint._bloat_estimate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._bloat_estimate() TO pg_monitor;

-- Internal: pgstattuple's measurement of one table or btree index, taken
-- as its owner without waiting for its lock (src/bloat.c).
CREATE OR REPLACE FUNCTION pgmaint._pgstattuple_as_owner(
    rel regclass, OUT bytes bigint, OUT free_bytes bigint, OUT dead_tuple_bytes bigint,
    OUT live_tuples bigint, OUT dead_tuples bigint, OUT leaf_pages bigint,
    OUT avg_leaf_density float8, OUT empty_pages bigint, OUT deleted_pages bigint)
RETURNS record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_pgstattuple_as_owner';

COMMENT ON FUNCTION pgmaint._pgstattuple_as_owner(regclass) IS
'Internal: pgstattuple_approx() of a table or materialized view (bytes, free_bytes, dead_tuple_bytes, live_tuples, dead_tuples) or pgstatindex() of a btree index (bytes, leaf_pages, avg_leaf_density, empty_pages, deleted_pages), measured as its owner in a security-restricted operation; NULLs when someone holds or waits for a conflicting lock. The caller needs EXECUTE on the pgstattuple function (pg_stat_scan_tables).';

REVOKE ALL ON FUNCTION pgmaint._pgstattuple_as_owner(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._pgstattuple_as_owner(regclass) TO pg_monitor;

-- Bloat of every user table and btree index: the estimate, or with exact =>
-- true pgstattuple's measurement (pgstattuple_approx for tables, pgstatindex
-- for indexes), which reads every page.  An index's exact figure is what a
-- rebuild would reclaim: pgstatindex counts the entries of dead rows as used
-- until VACUUM removes them, so the live share of its leaf data is taken
-- from the table's live and dead tuples (pgstattuple_approx).
CREATE OR REPLACE FUNCTION pgmaint.bloat(
    exact boolean DEFAULT false,
    OUT relid regclass, OUT table_name regclass, OUT kind text,
    OUT bytes bigint, OUT wasted_bytes bigint, OUT wasted_ratio double precision,
    OUT method text, OUT bloated boolean, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r record;
    heap record;
    heaps jsonb := '{}';
    leaf record;
    live_share float8;
BEGIN
    IF exact IS NULL THEN
        RAISE EXCEPTION '"exact" must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass false for the estimate, true to measure with pgstattuple.';
    END IF;
    IF exact THEN
        IF NOT EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'pgstattuple') THEN
            RAISE EXCEPTION 'pgstattuple is not installed in this database'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Run CREATE EXTENSION pgstattuple (contrib) for exact figures, or call pgmaint.bloat() for the estimate.';
        END IF;
    END IF;

    FOR r IN SELECT * FROM pgmaint._bloat_estimate() e ORDER BY e.wasted_bytes DESC, e.relid LOOP
        relid := r.relid;
        table_name := r.table_relid;
        kind := r.kind;
        IF NOT exact THEN
            bytes := r.bytes;
            wasted_bytes := r.wasted_bytes;
            wasted_ratio := r.ratio;
            method := 'estimate';
        ELSE
            -- pgstattuple_approx (tables) and pgstatindex (indexes), as the
            -- relation's owner (src/bloat.c); NULL when someone holds or waits
            -- for a conflicting lock (DDL): then not measured.  The table's
            -- own measurement is read once, for it and for its indexes.
            IF NOT heaps ? r.table_relid::text THEN
                SELECT * INTO heap FROM pgmaint._pgstattuple_as_owner(r.table_relid::regclass);
                heaps := heaps || jsonb_build_object(r.table_relid::text, to_jsonb(heap));
            END IF;
            SELECT * INTO heap FROM jsonb_to_record(heaps -> r.table_relid::text)
                AS h(bytes bigint, free_bytes bigint, dead_tuple_bytes bigint,
                     live_tuples bigint, dead_tuples bigint);
            IF r.kind = 'table' THEN
                -- free space beyond what the fillfactor leaves free, and dead tuples
                bytes := heap.bytes;
                wasted_bytes := heap.free_bytes + heap.dead_tuple_bytes;
                method := 'pgstattuple_approx';
            ELSE
                -- a rebuild packs the live entries at the default btree
                -- fillfactor of 90%: what the leaves hold beyond that, the
                -- entries of dead rows (their share of the table's tuples:
                -- pgstatindex counts them as used until VACUUM), and empty
                -- and deleted pages are reclaimed
                SELECT * INTO leaf FROM pgmaint._pgstattuple_as_owner(r.relid::regclass);
                live_share := CASE WHEN heap.live_tuples + heap.dead_tuples > 0
                                   THEN heap.live_tuples::float8 / (heap.live_tuples + heap.dead_tuples)
                                   ELSE 1 END;
                bytes := leaf.bytes;
                wasted_bytes := least(leaf.bytes,
                                      ((greatest(0, leaf.leaf_pages
                                                    - leaf.leaf_pages * coalesce(leaf.avg_leaf_density, 0) / 90 * live_share)
                                        + leaf.empty_pages + leaf.deleted_pages)
                                       * current_setting('block_size')::bigint)::bigint);
                method := 'pgstatindex+pgstattuple_approx';
            END IF;
            IF bytes IS NULL OR wasted_bytes IS NULL THEN
                bytes := NULL;
                wasted_bytes := NULL;
                method := 'not measured: another session holds or waits for a conflicting lock (DDL)';
            END IF;
            wasted_ratio := CASE WHEN bytes > 0 THEN wasted_bytes::double precision / bytes END;
        END IF;
        bloated := coalesce(wasted_ratio >= pgmaint._bloat_min_ratio(), false);
        suggestion := CASE WHEN NOT bloated THEN NULL
                           WHEN kind = 'index' THEN format('REINDEX INDEX CONCURRENTLY %s;', relid)
                           ELSE format('VACUUM (ANALYZE) %s; to reuse the space, or pg_repack / VACUUM FULL %s in a maintenance window (VACUUM FULL locks the table) to return it to the OS', table_name, table_name) END;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.bloat(boolean) IS
'Wasted space of each user table and btree index, most first. By default an estimate: the pages the rows would take packed at the fillfactor (average widths and null fractions from the statistics, reltuples) against relpages, both as of the last VACUUM/ANALYZE. exact => true measures with pgstattuple (reads every page; needs the pgstattuple extension): a table''s free space and dead tuples (pgstattuple_approx), an index''s space a rebuild would reclaim (pgstatindex''s leaf data beyond the 90% btree fillfactor, the entries of the table''s dead rows in proportion to its live and dead tuples, empty and deleted pages); an object that DDL locks or waits to lock is not waited for (NULL sizes, method says why). bloated marks a wasted share of at least 20%.';

REVOKE ALL ON FUNCTION pgmaint.bloat(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.bloat(boolean) TO pg_monitor;

-- The leaves of a partition tree, from pg_inherits (pg_partition_tree()
-- locks every partition, and so waits behind DDL on any of them).
CREATE OR REPLACE FUNCTION pgmaint._partition_leaves(root oid, OUT relid oid)
RETURNS SETOF oid
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE tree(relid) AS (
        SELECT root
        UNION ALL
        SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
    )
    SELECT t.relid FROM tree t
     WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = t.relid)
       AND t.relid <> root;
$$;

COMMENT ON FUNCTION pgmaint._partition_leaves(oid) IS
'Internal: the leaf partitions (tables or indexes) under root, from pg_inherits, without the locks pg_partition_tree() takes.';

REVOKE ALL ON FUNCTION pgmaint._partition_leaves(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._partition_leaves(oid) TO pg_monitor;

-- Partitioned tables with their partitions' sizes and tuples summed.
CREATE OR REPLACE FUNCTION pgmaint.partitioned_tables(
    OUT relid regclass, OUT partitions integer, OUT total_bytes bigint,
    OUT index_bytes bigint, OUT live_tuples bigint, OUT dead_tuples bigint,
    OUT dead_ratio double precision, OUT largest_partition regclass,
    OUT oldest_autovacuum timestamptz)
RETURNS SETOF record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH leaves AS (
        SELECT p.oid AS root, l.relid, s.heap_bytes + s.index_bytes + s.toast_bytes AS total,
               s.index_bytes, s.busy
          FROM pg_class p
          JOIN pg_namespace n ON n.oid = p.relnamespace
         CROSS JOIN LATERAL pgmaint._partition_leaves(p.oid) l
          JOIN pg_class c ON c.oid = l.relid AND c.relkind = 'r'
         CROSS JOIN LATERAL pgmaint._table_parts_nowait(l.relid) s
         WHERE p.relkind = 'p' AND NOT p.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    )
    -- a partition that DDL locks or waits to lock is not waited for: the sums are then NULL
    SELECT l.root::regclass, count(*)::integer,
           CASE WHEN bool_or(l.busy) THEN NULL ELSE sum(l.total)::bigint END,
           CASE WHEN bool_or(l.busy) THEN NULL ELSE sum(l.index_bytes)::bigint END,
           sum(pg_stat_get_live_tuples(l.relid))::bigint,
           sum(pg_stat_get_dead_tuples(l.relid))::bigint,
           CASE WHEN sum(pg_stat_get_live_tuples(l.relid) + pg_stat_get_dead_tuples(l.relid)) > 0
                THEN (sum(pg_stat_get_dead_tuples(l.relid))
                      / sum(pg_stat_get_live_tuples(l.relid) + pg_stat_get_dead_tuples(l.relid)))::double precision
           END,
           (array_agg(l.relid ORDER BY l.total DESC NULLS LAST, l.relid))[1]::regclass,
           min(greatest(pg_stat_get_last_autovacuum_time(l.relid), pg_stat_get_last_vacuum_time(l.relid)))
      FROM leaves l
     GROUP BY l.root
     ORDER BY 3 DESC NULLS LAST, 1;
$$;

COMMENT ON FUNCTION pgmaint.partitioned_tables() IS
'Each top-level partitioned table with its leaf partitions rolled up: how many, total and index bytes (stats every file; NULL when a partition is locked, or waited for, by DDL: never read behind it), live and dead tuples, dead share, the largest partition and the oldest (auto)vacuum among them.';

REVOKE ALL ON FUNCTION pgmaint.partitioned_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.partitioned_tables() TO pg_monitor;

-- Index findings of partitioned indexes, judged at the parent: unused when
-- no partition's index was ever scanned.  (Duplicates among parents are found
-- by index_advice() itself.)
CREATE OR REPLACE FUNCTION pgmaint._partitioned_index_findings(
    unused_min_bytes bigint,
    OUT kind text, OUT table_name regclass, OUT index_name regclass,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'unused'::text, x.indrelid::regclass, x.indexrelid::regclass,
           format('no scan of this index on any of its %s partitions since statistics were reset; %s',
                  x.parts, coalesce(pg_size_pretty(x.bytes),
                                    'size not measured: another session holds or waits for a conflicting lock on a partition''s index')),
           format('DROP INDEX %s;', x.indexrelid::regclass)
      FROM (SELECT i.indrelid, i.indexrelid, count(*) AS parts,
                   -- NULL when a partition's index is locked, or waited for, by DDL
                   sum(pgmaint._relation_size_nowait(t.relid))
                   + CASE WHEN bool_or(pgmaint._relation_size_nowait(t.relid) IS NULL) THEN NULL ELSE 0 END AS bytes,
                   sum(pg_stat_get_numscans(t.relid)) AS scans
              FROM pg_index i
              JOIN pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_namespace n ON n.oid = ic.relnamespace
             CROSS JOIN LATERAL pgmaint._partition_leaves(i.indexrelid) t
             WHERE ic.relkind = 'I' AND NOT ic.relispartition
               AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             GROUP BY i.indrelid, i.indexrelid) x
     WHERE x.scans = 0 AND coalesce(x.bytes, unused_min_bytes) >= unused_min_bytes;
$$;

COMMENT ON FUNCTION pgmaint._partitioned_index_findings(bigint) IS
'Internal: index_advice() rows for partitioned indexes (relkind I): unused when none of the partitions'' indexes was scanned, sized by their leaves.';

REVOKE ALL ON FUNCTION pgmaint._partitioned_index_findings(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._partitioned_index_findings(bigint) TO pg_monitor;

-- The worker's space step: this database's size, its largest tables' sizes
-- and the worst bloat estimates; prunes what history_retention no longer keeps.
CREATE OR REPLACE FUNCTION pgmaint._record_space(tables integer DEFAULT 20)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    at timestamptz := clock_timestamp();
    n bigint;
BEGIN
    IF tables IS NULL OR tables < 0 THEN
        RAISE EXCEPTION '"tables" must be zero or more'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass how many of the largest tables to record, for example 20.';
    END IF;
    INSERT INTO pgmaint.size_history (taken_at, relid, bytes)
    SELECT at, 0, pg_database_size(current_database())
    UNION ALL
    SELECT at, l.relid, l.total_bytes FROM pgmaint._largest_tables(tables) l;
    GET DIAGNOSTICS n = ROW_COUNT;

    DELETE FROM pgmaint.bloat_estimates;
    INSERT INTO pgmaint.bloat_estimates (taken_at, relid, kind, bytes, wasted_bytes)
    SELECT at, e.relid, e.kind, e.bytes, e.wasted_bytes
      FROM pgmaint._bloat_estimate() e
     WHERE e.ratio >= pgmaint._bloat_min_ratio()
     ORDER BY e.wasted_bytes DESC, e.relid
     LIMIT 10;

    DELETE FROM pgmaint.size_history h
     WHERE h.taken_at < at - coalesce(nullif(current_setting('pgmaint.history_retention', true), '')::interval,
                                      interval '7 days');
    RETURN n;
END
$$;

COMMENT ON FUNCTION pgmaint._record_space(integer) IS
'Internal: the worker''s space step: appends pg_database_size and the largest tables'' total sizes to size_history, replaces bloat_estimates with the worst estimates, prunes size_history to pgmaint.history_retention; returns the size rows written.';

REVOKE ALL ON FUNCTION pgmaint._record_space(integer) FROM PUBLIC;

-- Growth of the database and its largest tables over a period, from size_history.
CREATE OR REPLACE FUNCTION pgmaint.table_growth(
    since interval DEFAULT '7 days',
    OUT relid regclass, OUT name text, OUT bytes_then bigint, OUT bytes_now bigint,
    OUT growth_bytes bigint, OUT growth_per_day bigint, OUT measured_since timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM pgmaint._require_interval('since', since);
    RETURN QUERY
    WITH earliest AS (
        SELECT DISTINCT ON (h.relid) h.relid, h.taken_at, h.bytes
          FROM pgmaint.size_history h
         WHERE h.taken_at >= now() - since
         ORDER BY h.relid, h.taken_at
    ),
    cur AS (
        SELECT f.relid, f.taken_at, f.bytes,
               -- never behind a lock DDL holds or waits for: NULL, not measured now
               CASE WHEN f.relid = 0 THEN pg_database_size(current_database())
                    ELSE (SELECT p.heap_bytes + p.index_bytes + p.toast_bytes
                            FROM pgmaint._table_parts_nowait(f.relid) p) END AS now_bytes
          FROM earliest f
         WHERE f.relid = 0 OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = f.relid)
    )
    SELECT CASE WHEN c.relid = 0 THEN NULL ELSE c.relid::regclass END,
           CASE WHEN c.relid = 0 THEN format('database %s', current_database())
                ELSE c.relid::regclass::text END,
           c.bytes, c.now_bytes, c.now_bytes - c.bytes,
           ((c.now_bytes - c.bytes)
            / greatest(extract(epoch FROM now() - c.taken_at) / 86400, 1.0 / 24))::bigint,
           c.taken_at
      FROM cur c
     ORDER BY c.relid <> 0, c.now_bytes - c.bytes DESC, c.relid;
END
$$;

COMMENT ON FUNCTION pgmaint.table_growth(interval) IS
'How much the database (first row, relid NULL) and each table the worker recorded grew since "since" ago: size then (the first record in the period) and now, growth and growth per day (the period is at least an hour).';

REVOKE ALL ON FUNCTION pgmaint.table_growth(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.table_growth(interval) TO pg_monitor;


-- pgmaint 1.0 -> 1.1, written by hand.  Every change of sql/install/*.sql
-- since 1.0 appears here too, so that ALTER EXTENSION pgmaint UPDATE gives
-- an installed database exactly what CREATE EXTENSION pgmaint gives a new
-- one (test/integration/upgrade.sh compares the two catalogs).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.1'" to load this file. \quit

-- ==== peer parity: sequences, isolated checks, real index sizes, peers' detections (issue 19) ====

-- New thresholds rows; users' rows, and their edits, are left alone.
INSERT INTO pgmaint.thresholds (check_name, warning, critical, description)
SELECT v.check_name, v.warning, v.critical, v.description
  FROM (VALUES

    ('idle_in_transaction_aborted', 300, NULL::numeric,
     'Age in seconds of the oldest session idle in an aborted transaction (it holds a connection slot, but no locks and no snapshot).'),
    ('vacuum_age', 604800, NULL::numeric,
     'Seconds since the last vacuum (manual or auto) of the table vacuumed longest ago among those with dead or inserted tuples since (as maintenance_age(); never-vacuumed tables are autovacuum_behind''s).'),
    ('analyze_age', 604800, NULL::numeric,
     'Seconds since the last analyze (manual or auto) of the table analyzed longest ago among those modified since (as maintenance_age()).'),
    ('not_valid_constraints', 1, NULL::numeric,
     'Check and foreign-key constraints added NOT VALID and never validated: rows written before are not checked (schema_advice()).'),
    ('disabled_triggers', 1, NULL::numeric,
     'Triggers disabled with ALTER TABLE ... DISABLE TRIGGER, internal foreign-key triggers included (schema_advice()).'),
    ('checkpoints_requested', 30, NULL::numeric,
     'Share, in %, of checkpoints since the statistics reset that were requested (WAL reached max_wal_size, or CHECKPOINT) rather than timed; unknown before 3 checkpoints.'),
    ('archive_ready', 10, 15,
     'WAL files (segments, history and partial files) in pg_wal/archive_status waiting for the archiver (check_postgres archive_ready; unknown for a caller without pg_monitor).')
  ) AS v(check_name, warning, critical, description)
 WHERE NOT EXISTS (SELECT 1 FROM pgmaint.thresholds t WHERE t.check_name = v.check_name);


-- Descriptions that 1.1 rewords, where they still read as 1.0 shipped them.

UPDATE pgmaint.thresholds SET description = 'Age in seconds of the oldest session idle in a transaction (a leaked connection holds locks and blocks vacuum; the guide''s limit is 5 minutes); aborted ones are idle_in_transaction_aborted.'
 WHERE check_name = 'idle_in_transaction'
   AND description = 'Age in seconds of the oldest session idle in a transaction (a leaked connection holds locks and blocks vacuum; the guide''s limit is 5 minutes).';

UPDATE pgmaint.thresholds SET description = 'Highest share, in %, of a sequence''s range already used, up to the smaller of its maximum and the type of every column it feeds (cycling sequences only when they feed a unique key).'
 WHERE check_name = 'sequences'
   AND description = 'Highest share, in %, of a sequence''s range already used.';


-- Sequences measured in numeric and against the columns they feed; autovacuum_enabled = off worded apart.

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
        -- every column a sequence feeds: the column it is owned by (serial,
        -- identity) and every column whose default calls it
        fed AS (
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
            SELECT n.nspname AS schemaname, c.relname AS sequencename, s.seqcycle AS cycle,
                   s.seqincrement > 0 AS ascending,
                   -- the CASE keeps the call off the rows of other relation kinds
                   (CASE WHEN c.relkind = 'S' THEN pg_catalog.pg_sequence_last_value(c.oid) END)::numeric AS last_value,
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
               AND CASE WHEN c.relkind = 'S' THEN pg_catalog.pg_sequence_last_value(c.oid) END IS NOT NULL
        ),
        bounded AS (
            SELECT seq.*,
                   CASE WHEN seq.ascending THEN least(seq.max_value, seq.type_max)
                        ELSE greatest(seq.min_value, seq.type_min) END AS bound,
                   coalesce(CASE WHEN seq.ascending THEN seq.type_max < seq.max_value
                                 ELSE seq.type_min > seq.min_value END, false) AS column_limits
              FROM seq
        ),
        measured AS (
            SELECT b.*,
                   CASE WHEN b.ascending
                        THEN 100.0 * (b.last_value - b.min_value) / nullif(b.bound - b.min_value, 0)
                        ELSE 100.0 * (b.max_value - b.last_value) / nullif(b.max_value - b.bound, 0)
                   END AS used,
                   CASE WHEN b.relid IS NOT NULL
                        THEN pg_catalog.format('%s.%I', b.relid::pg_catalog.regclass, b.attname) END AS colname
              FROM bounded b
             -- a cycling sequence wraps instead of running out: only a key it feeds suffers
             WHERE NOT b.cycle OR coalesce(b.unique_key, false)
        ),
        worst AS (
            SELECT * FROM measured ORDER BY used DESC NULLS LAST, schemaname, sequencename LIMIT 1
        )
        SELECT 'invalid_indexes', invalid.n::numeric,
               CASE WHEN invalid.n = 0 THEN 'no invalid index'
                    ELSE format('%s invalid index(es), e.g. %s', invalid.n, invalid.example) END,
               'Drop and recreate them (DROP INDEX CONCURRENTLY, CREATE INDEX CONCURRENTLY); pgmaint.index_advice() lists them.'
          FROM invalid
        UNION ALL
        SELECT 'sequences', round(coalesce(worst.used, 0), 2),
               CASE WHEN worst.sequencename IS NULL THEN 'no sequence has been used'
                    WHEN worst.cycle
                        THEN format('cycling sequence %I.%I has used %s%% of its range before it wraps; it feeds key column %s (%s), where the values after the wrap are already taken',
                                    worst.schemaname, worst.sequencename, round(worst.used, 2),
                                    worst.colname, worst.typname)
                    WHEN worst.column_limits
                        THEN format('sequence %I.%I has used %s%% of the range of column %s (%s, up to %s)',
                                    worst.schemaname, worst.sequencename, round(worst.used, 2),
                                    worst.colname, worst.typname, worst.bound)
                    WHEN worst.colname IS NOT NULL
                        THEN format('sequence %I.%I has used %s%% of its range (it feeds column %s)',
                                    worst.schemaname, worst.sequencename, round(worst.used, 2), worst.colname)
                    ELSE format('sequence %I.%I has used %s%% of its range',
                                worst.schemaname, worst.sequencename, round(worst.used, 2)) END,
               CASE WHEN worst.cycle
                        THEN 'At the wrap every insert fails with a duplicate key: make the sequence NO CYCLE and bigint (ALTER SEQUENCE ... NO CYCLE AS bigint MAXVALUE 9223372036854775807) and the column bigint; pgmaint.report() lists the checks.'
                    WHEN worst.column_limits
                        THEN 'Inserts fail with "out of range" when the column''s type runs out, whatever the sequence allows: change the column to bigint (ALTER TABLE ... ALTER COLUMN ... TYPE bigint rewrites the table) before it does; pgmaint.report() lists the checks.'
                    ELSE 'Change the column and its sequence to bigint (ALTER SEQUENCE ... AS bigint) before it runs out; pgmaint.report() lists the checks.' END
          FROM invalid LEFT JOIN worst ON true;
END
$$;

COMMENT ON FUNCTION pgmaint._check_catalog() IS
'Internal: the invalid_indexes and sequences checks of this database.';
REVOKE ALL ON FUNCTION pgmaint._check_catalog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_catalog() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._check_tables(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    basis text;
    avail float8;
    disabled boolean;
BEGIN
    SELECT s.tables, s.hit_relid, s.hit_ratio, s.hit_reads, s.falling_behind,
           s.falling_relid, s.falling_dead, s.dead_relid, s.dead_share, s.dead_tuples
      INTO f FROM pgmaint._table_health_sampled() s;
    IF FOUND THEN
        basis := 'from the worker''s last sample';
    ELSE
        SELECT * INTO f FROM pgmaint._table_health(1000, 1000);
        basis := 'computed now';
    END IF;

    check_name := 'table_cache_hit';
    value := round((100 * f.hit_ratio)::numeric, 2);
    message := CASE WHEN f.hit_relid IS NULL
                    THEN format('no table has 1000 heap block reads yet (%s)', basis)
                    ELSE format('table %s has the lowest heap hit ratio, %s%% of %s reads (%s)',
                                f.hit_relid::regclass, value, f.hit_reads, basis) END;
    hint := 'See pgmaint.cache_hit_tables(1000): raise shared_buffers or add indexes for the tables read from disk.';
    RETURN NEXT;

    check_name := 'dead_tuples';
    value := round((100 * coalesce(f.dead_share, 0))::numeric, 2);
    message := CASE WHEN f.dead_relid IS NULL
                    THEN format('no table has 1000 tuples yet (%s)', basis)
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
                    THEN format('autovacuum is disabled on %s (autovacuum_enabled = off), %s dead tuples; %s table(s) past twice their vacuum threshold (%s)',
                                f.falling_relid::regclass, f.falling_dead, f.falling_behind, basis)
                    ELSE format('autovacuum falls behind on %s table(s), the worst %s with %s dead tuples (%s)',
                                f.falling_behind, f.falling_relid::regclass, f.falling_dead, basis) END;
    hint := CASE WHEN disabled
                 THEN format('Autovacuum skips %s (only anti-wraparound vacuums run): VACUUM it on a schedule of your own, or turn autovacuum back on with ALTER TABLE %s RESET (autovacuum_enabled); pgmaint.vacuum_stats() shows the others.',
                             f.falling_relid::regclass, f.falling_relid::regclass)
                 ELSE 'See pgmaint.vacuum_stats() WHERE falling_behind: VACUUM those tables, check autovacuum is on for them and raise autovacuum_max_workers or lower autovacuum_vacuum_cost_delay.' END;
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


-- index_advice(): sizes from pg_relation_size, rarely used indexes.

CREATE OR REPLACE FUNCTION pgmaint.index_advice(
    unused_min_bytes bigint DEFAULT 1048576,
    seq_scan_min_bytes bigint DEFAULT 10485760,
    OUT kind text, OUT table_name regclass, OUT index_name regclass,
    OUT detail text, OUT suggestion text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF unused_min_bytes IS NULL OR unused_min_bytes < 0
       OR seq_scan_min_bytes IS NULL OR seq_scan_min_bytes < 0 THEN
        RAISE EXCEPTION 'size floors must not be negative or null'
            USING ERRCODE = '22023',
                  HINT = 'Pass 0 to report indexes and tables of every size.';
    END IF;

    RETURN QUERY
    WITH idx AS (
        SELECT i.indexrelid, i.indrelid, i.indisprimary, i.indisunique, i.indisexclusion,
               i.indisreplident, i.indisvalid, i.indnatts, i.indnkeyatts,
               i.indkey::text AS allcols, ic.relam, ic.relpages, ic.relkind AS idxkind,
               ic.relname AS idxname, pg_get_expr(i.indexprs, i.indrelid) AS exprs,
               pg_get_expr(i.indpred, i.indrelid) AS pred,
               (SELECT string_agg(format('%s/%s/%s/%s', i.indkey[k], i.indclass[k],
                                         i.indcollation[k], i.indoption[k]), ' ' ORDER BY k)
                  FROM generate_series(0, i.indnkeyatts - 1) AS k) AS keysig,
               EXISTS (SELECT 1 FROM pg_constraint k
                        WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                          AND k.contype IN ('p', 'u', 'x')) AS backs_constraint,
               EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS is_partition
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'm', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND NOT EXISTS (SELECT 1 FROM pg_depend dep  -- an extension's own tables are not the user's to index
                            WHERE dep.classid = 'pg_class'::regclass AND dep.objid = t.oid
                              AND dep.deptype = 'e')
    ),
    ranked AS (
        -- the index of a duplicate pair that is kept ranks higher
        SELECT idx.*, ARRAY[indisprimary::int, backs_constraint::int, indisunique::int] AS keep_rank
          FROM idx
    ),
    dup AS (
        SELECT DISTINCT ON (a.indexrelid)
               a.indexrelid, a.indrelid, a.idxkind, a.backs_constraint, b.indexrelid AS kept,
               a.keysig = b.keysig AS exact
          FROM ranked a
          JOIN ranked b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
         WHERE a.indisvalid AND b.indisvalid AND NOT a.is_partition AND NOT b.is_partition
           AND a.relam = b.relam AND a.idxkind = b.idxkind
           AND a.exprs IS NOT DISTINCT FROM b.exprs
           AND a.pred IS NOT DISTINCT FROM b.pred
           AND (  -- same key and included columns: keep the higher-ranked, else the older one
                  (a.keysig = b.keysig AND a.allcols = b.allcols
                   AND (a.keep_rank < b.keep_rank
                        OR (a.keep_rank = b.keep_rank AND a.indexrelid > b.indexrelid)))
                  -- a plain btree whose key columns lead another btree's keys
               OR (a.exprs IS NULL AND NOT a.indisunique AND NOT a.indisexclusion
                   AND a.indnatts = a.indnkeyatts
                   AND a.relam = (SELECT am.oid FROM pg_am am WHERE am.amname = 'btree')
                   AND a.keysig <> b.keysig
                   AND starts_with(b.keysig || ' ', a.keysig || ' ')))
         ORDER BY a.indexrelid, (a.keysig = b.keysig) DESC, b.indexrelid
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
           AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                            WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                              AND dep.deptype = 'e')
    ),
    -- sizes from the files (relpages is only as fresh as the last VACUUM,
    -- ANALYZE or CREATE INDEX), for the few rows the cheap filters leave
    seq_heavy AS MATERIALIZED (
        SELECT tbl.*, pg_relation_size(tbl.oid) AS bytes
          FROM (SELECT * FROM tbl WHERE tbl.seq_scan > tbl.idx_scan OFFSET 0) tbl
    ),
    idx_stats AS MATERIALIZED (
        SELECT idx.indexrelid, idx.indrelid, pg_stat_get_numscans(idx.indexrelid) AS scans,
               pg_stat_get_tuples_inserted(idx.indrelid) + pg_stat_get_tuples_updated(idx.indrelid)
               - pg_stat_get_tuples_hot_updated(idx.indrelid) AS writes
          FROM idx
         WHERE idx.idxkind = 'i' AND idx.indisvalid AND NOT idx.is_partition
           AND NOT idx.indisprimary AND NOT idx.indisunique AND NOT idx.indisexclusion
           AND NOT idx.indisreplident AND NOT idx.backs_constraint
    ),
    -- unused: no scan; rarely used: fewer than one scan per 100 index writes
    -- (inserts and non-HOT updates), over at least 1,000 writes
    idx_sized AS MATERIALIZED (
        SELECT s.*, pg_relation_size(s.indexrelid) AS bytes
          FROM (SELECT * FROM idx_stats
                 WHERE scans = 0 OR (writes >= 1000 AND scans * 100 < writes) OFFSET 0) s
    ),
    fk AS (
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
                      = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) AS x))
    )
    SELECT 'unused'::text, idx_sized.indrelid::regclass, idx_sized.indexrelid::regclass,
           format('no index scans since statistics were reset (%s); %s',
                  coalesce(pg_stat_get_db_stat_reset_time(
                               (SELECT d.oid FROM pg_database d
                                 WHERE d.datname = current_database()))::text,
                           'never reset'),
                  pg_size_pretty(idx_sized.bytes)),
           format('DROP INDEX CONCURRENTLY %s;', idx_sized.indexrelid::regclass)
      FROM idx_sized
     WHERE idx_sized.scans = 0 AND idx_sized.bytes >= unused_min_bytes
    UNION ALL
    SELECT 'rarely_used'::text, idx_sized.indrelid::regclass, idx_sized.indexrelid::regclass,
           format('%s index scans against %s index writes (inserts and non-HOT updates) since statistics were reset; %s',
                  idx_sized.scans, idx_sized.writes, pg_size_pretty(idx_sized.bytes)),
           format('Every write maintains it for few reads: check the queries that use it in pg_stat_statements, then DROP INDEX CONCURRENTLY %s;',
                  idx_sized.indexrelid::regclass)
      FROM idx_sized
     WHERE idx_sized.scans > 0 AND idx_sized.bytes >= unused_min_bytes
    UNION ALL
    SELECT 'duplicate', dup.indrelid::regclass, dup.indexrelid::regclass,
           format(CASE WHEN dup.exact THEN 'same columns, expressions and predicate as %s'
                       ELSE 'its columns lead %s, which serves the same scans' END,
                  dup.kept::regclass),
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
                  pg_size_pretty(seq_heavy.bytes)),
           format('SELECT query, calls, rows FROM pg_stat_statements WHERE query ~* %L ORDER BY total_exec_time DESC LIMIT 10;',
                  '\m' || (SELECT c.relname FROM pg_class c WHERE c.oid = seq_heavy.oid) || '\M')
      FROM seq_heavy
     WHERE seq_heavy.bytes >= seq_scan_min_bytes;
END
$$;

COMMENT ON FUNCTION pgmaint.index_advice(bigint, bigint) IS
'Index findings with a suggested statement: unused (no scans since the statistics reset, at least unused_min_bytes, never primary key, unique, exclusion or replica-identity indexes), rarely_used (the same kinds of index with fewer than one scan per 100 index writes, over at least 1,000 writes), duplicate (same columns, expressions and predicate, or a plain btree leading another), invalid (not while a concurrent build runs on the table), fk_without_index, seq_scan_heavy (tables of at least seq_scan_min_bytes with 10+ sequential scans, more than index scans). Sizes are pg_relation_size, taken only for the indexes and tables the statistics already single out.';
GRANT EXECUTE ON FUNCTION pgmaint.index_advice(bigint, bigint) TO pg_monitor;


-- The peers' detections (81-checks-peers.sql).

CREATE FUNCTION pgmaint.maintenance_age(
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

CREATE FUNCTION pgmaint._maintenance_age_worst(
    OUT vacuum_changed bigint, OUT vacuum_never bigint, OUT vacuum_relid oid,
    OUT vacuum_at timestamptz, OUT vacuum_changes bigint,
    OUT analyze_changed bigint, OUT analyze_never bigint, OUT analyze_relid oid,
    OUT analyze_at timestamptz, OUT analyze_changes bigint)
RETURNS record
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_maintenance_age_worst';

COMMENT ON FUNCTION pgmaint._maintenance_age_worst() IS
'Internal: of the tables in maintenance_age(), how many changed since their last vacuum (and since their last analyze), how many of those were never vacuumed (analyzed), and the one vacuumed (analyzed) longest ago, with the time and its changes since.';
REVOKE ALL ON FUNCTION pgmaint._maintenance_age_worst() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._maintenance_age_worst() TO pg_monitor;

CREATE FUNCTION pgmaint._check_maintenance_age(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w record;
    age interval;
BEGIN
    SELECT * INTO w FROM pgmaint._maintenance_age_worst();

    check_name := 'vacuum_age';
    age := date_trunc('second', now() - w.vacuum_at);
    value := coalesce(round(extract(epoch FROM age)), 0);
    message := CASE WHEN w.vacuum_relid IS NULL THEN 'no vacuumed table has changed since its last vacuum'
                    ELSE format('%s table(s) changed since their last vacuum; the oldest, %s, was vacuumed %s ago (%s dead or inserted tuples since)',
                                w.vacuum_changed, w.vacuum_relid::regclass, age, w.vacuum_changes) END
               || CASE WHEN w.vacuum_never > 0
                       THEN format('; %s changed table(s) never vacuumed since the statistics reset (see autovacuum_behind)', w.vacuum_never)
                       ELSE '' END;
    hint := 'Autovacuum has not reached it because its changes stay below the vacuum threshold: VACUUM it, or lower its autovacuum_vacuum_scale_factor (pgmaint.tune_table()); pgmaint.maintenance_age() lists the tables.';
    RETURN NEXT;

    check_name := 'analyze_age';
    age := date_trunc('second', now() - w.analyze_at);
    value := coalesce(round(extract(epoch FROM age)), 0);
    message := CASE WHEN w.analyze_relid IS NULL THEN 'no analyzed table has changed since its last analyze'
                    ELSE format('%s table(s) modified since their last analyze; the oldest, %s, was analyzed %s ago (%s modified tuples since)',
                                w.analyze_changed, w.analyze_relid::regclass, age, w.analyze_changes) END
               || CASE WHEN w.analyze_never > 0
                       THEN format('; %s modified table(s) never analyzed since the statistics reset', w.analyze_never)
                       ELSE '' END;
    hint := 'The planner''s statistics of the table are old while its data changes: ANALYZE it, or lower its autovacuum_analyze_scale_factor; pgmaint.maintenance_age() lists the tables.';
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_maintenance_age() IS
'Internal: the vacuum_age and analyze_age checks.';
REVOKE ALL ON FUNCTION pgmaint._check_maintenance_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_maintenance_age() TO pg_monitor;

CREATE FUNCTION pgmaint.vacuum_progress(
    OUT pid integer, OUT database name, OUT relid oid, OUT schema_name text, OUT table_name text,
    OUT phase text, OUT autovacuum boolean, OUT to_prevent_wraparound boolean,
    OUT started_at timestamptz, OUT running_for interval,
    OUT heap_blks_total bigint, OUT heap_blks_scanned bigint, OUT heap_blks_vacuumed bigint,
    OUT percent numeric, OUT index_vacuum_count bigint,
    OUT num_dead_tuples bigint, OUT max_dead_tuples bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT p.pid, p.datname,
               p.relid, n.nspname::text, c.relname::text,
               p.phase, a.backend_type = 'autovacuum worker',
               CASE WHEN a.backend_type = 'autovacuum worker'
                    THEN a.query LIKE '%(to prevent wraparound)%' ELSE false END,
               a.xact_start, pg_catalog.date_trunc('second', clock_timestamp() - a.xact_start),
               p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed,
               CASE WHEN p.heap_blks_total > 0
                    THEN round(100.0 * p.heap_blks_scanned / p.heap_blks_total, 1)
                    WHEN p.phase NOT IN ('initializing', 'scanning heap') THEN 100.0 END,
               p.index_vacuum_count, p.num_dead_tuples, p.max_dead_tuples
          FROM pg_catalog.pg_stat_progress_vacuum p
          LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid
          -- another database's oid names nothing here
          LEFT JOIN pg_catalog.pg_class c
                 ON c.oid = p.relid
                AND p.datid = (SELECT d.oid FROM pg_catalog.pg_database d
                                WHERE d.datname = current_database())
          LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         ORDER BY a.xact_start, p.pid;
END
$$;

COMMENT ON FUNCTION pgmaint.vacuum_progress() IS
'Vacuums running now in every database (pg_stat_progress_vacuum): phase, whether autovacuum runs it and to prevent wraparound, since when, heap blocks total/scanned/vacuumed, percent = share of the heap scanned (100 after the scan), index passes and dead tuples collected. schema_name and table_name only for this database''s tables.';
REVOKE ALL ON FUNCTION pgmaint.vacuum_progress() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.vacuum_progress() TO pg_monitor;

CREATE FUNCTION pgmaint.schema_advice(
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

CREATE FUNCTION pgmaint._check_schema(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH s AS MATERIALIZED (SELECT * FROM pgmaint.schema_advice()),
        k(kind, check_name, none, what, hint) AS (VALUES
            ('not_valid_constraint', 'not_valid_constraints', 'no NOT VALID constraint',
             'NOT VALID constraint(s)',
             'Validate them (ALTER TABLE ... VALIDATE CONSTRAINT, which does not block writes): pgmaint.schema_advice() lists them with the statement.'),
            ('disabled_trigger', 'disabled_triggers', 'no disabled trigger',
             'disabled trigger(s)',
             'Enable them again (ALTER TABLE ... ENABLE TRIGGER) unless they are off on purpose: pgmaint.schema_advice() lists them with the statement.'))
        SELECT k.check_name, count(s.kind)::numeric,
               CASE WHEN count(s.kind) = 0 THEN k.none
                    ELSE format('%s %s, e.g. %s on %s', count(s.kind), k.what,
                                (array_agg(quote_ident(s.object_name) ORDER BY s.table_name::text, s.object_name))[1],
                                (array_agg(s.table_name::text ORDER BY s.table_name::text, s.object_name))[1]) END,
               k.hint
          FROM k LEFT JOIN s ON s.kind = k.kind
         GROUP BY k.check_name, k.none, k.what, k.hint;
END
$$;

COMMENT ON FUNCTION pgmaint._check_schema() IS
'Internal: the not_valid_constraints and disabled_triggers checks.';
REVOKE ALL ON FUNCTION pgmaint._check_schema() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_schema() TO pg_monitor;

CREATE FUNCTION pgmaint.connection_sources(
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

CREATE FUNCTION pgmaint._check_wal(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    b record;
    ready bigint;
    oldest timestamptz;
BEGIN
    SELECT s.checkpoints_timed AS timed, s.checkpoints_req AS req, s.stats_reset
      INTO b FROM pg_catalog.pg_stat_bgwriter s;
    check_name := 'checkpoints_requested';
    IF b.timed + b.req < 3 THEN
        value := NULL;
        message := format('%s checkpoint(s) since the statistics reset (%s): too few to judge',
                          b.timed + b.req, coalesce(b.stats_reset::text, 'never reset'));
    ELSE
        value := round(100.0 * b.req / (b.timed + b.req), 1);
        message := format('%s of %s checkpoints since %s were requested, %s timed (checkpoint_timeout %s, max_wal_size %s)',
                          b.req, b.timed + b.req, coalesce(b.stats_reset::text, 'the server started'),
                          b.timed, current_setting('checkpoint_timeout'), current_setting('max_wal_size'));
    END IF;
    hint := 'WAL fills max_wal_size before checkpoint_timeout comes, so checkpoints (and full-page writes after them) come too often: raise max_wal_size (the guide: 1GB; more for heavy writes) until most checkpoints are timed (pgmaint.settings_advice() sizes it for the machine). A manual CHECKPOINT or a base backup counts as requested too.';
    RETURN NEXT;

    check_name := 'archive_ready';
    IF NOT has_function_privilege('pg_catalog.pg_ls_archive_statusdir()', 'EXECUTE') THEN
        value := NULL;
        message := 'cannot list pg_wal/archive_status: the caller lacks pg_monitor';
        hint := 'Grant pg_monitor to the role that calls health().';
    ELSE
        SELECT count(*), min(f.modification) INTO ready, oldest
          FROM pg_catalog.pg_ls_archive_statusdir() f
         WHERE f.name LIKE '%.ready';
        value := ready;
        message := CASE WHEN ready = 0 THEN 'no WAL file waits for the archiver'
                        ELSE format('%s WAL file(s) wait for the archiver, the oldest since %s (archive_mode %s)',
                                    ready, date_trunc('second', oldest), current_setting('archive_mode')) END;
        hint := 'The archiver fails or falls behind (see the archiver check and pg_stat_archiver): each waiting file stays in pg_wal until archive_command succeeds for it; fix or speed up archive_command before the disk fills (pgmaint.disk_space()).';
    END IF;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._check_wal() IS
'Internal: the checkpoints_requested and archive_ready checks.';
REVOKE ALL ON FUNCTION pgmaint._check_wal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_wal() TO pg_monitor;


-- Checks in blocks of their own (90-health.sql).

CREATE FUNCTION pgmaint._check_sessions(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH activity AS (
            SELECT a.backend_type, a.state, a.state_change, a.pid
              FROM pg_catalog.pg_stat_activity a
        ),
        slots AS (
            SELECT current_setting('max_connections')::int
                   - current_setting('superuser_reserved_connections')::int AS usable
        ),
        conn AS (
            SELECT count(*) FILTER (WHERE backend_type = 'client backend') AS used
              FROM activity
        ),
        idle AS (
            SELECT s.aborted, count(a.pid) AS n,
                   max(extract(epoch FROM clock_timestamp() - a.state_change)) AS oldest,
                   (array_agg(a.pid ORDER BY a.state_change))[1] AS oldest_pid
              FROM (VALUES (false, 'idle in transaction'),
                           (true, 'idle in transaction (aborted)')) AS s(aborted, state)
              LEFT JOIN activity a ON a.state = s.state
             GROUP BY s.aborted
        ),
        can_see AS (
            SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS all_stats
        ),
        hour AS (
            SELECT h.hits, h.reads, coalesce(h.hits + h.reads, 0) > 0 AS usable
              FROM pgmaint._cache_hit_last_hour() h
        ),
        cache AS (
            SELECT CASE WHEN hour.usable THEN hour.hits ELSE d.blks_hit END AS blks_hit,
                   CASE WHEN hour.usable THEN hour.reads ELSE d.blks_read END AS blks_read,
                   CASE WHEN hour.usable THEN 'in the last hour' ELSE 'since the statistics reset' END AS basis
              FROM pg_catalog.pg_stat_database d, hour
             WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                               WHERE datname = current_database())
        )
        SELECT 'connections',
               round(100.0 * conn.used / greatest(slots.usable, 1), 1),
               format('%s of %s usable connections in use', conn.used, slots.usable),
               'See who holds the connections in pgmaint.connections(), pgmaint.connection_sources() and pgmaint.connection_leaks(); size the pools with pgmaint.connection_budget().'
          FROM conn, slots
        UNION ALL
        SELECT CASE WHEN idle.aborted THEN 'idle_in_transaction_aborted' ELSE 'idle_in_transaction' END,
               CASE WHEN NOT can_see.all_stats THEN NULL
                    ELSE round(coalesce(idle.oldest, 0)::numeric, 1) END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'cannot see other roles'' sessions: the caller lacks pg_read_all_stats'
                    WHEN idle.n = 0 AND idle.aborted THEN 'no session is idle in an aborted transaction'
                    WHEN idle.n = 0 THEN 'no session is idle in a transaction'
                    WHEN idle.aborted
                        THEN format('%s session(s) idle in an aborted transaction, the oldest (pid %s) for %s: each holds a connection slot, no locks and no snapshot',
                                    idle.n, idle.oldest_pid,
                                    date_trunc('second', make_interval(secs => idle.oldest::float8)))
                    ELSE format('%s session(s) idle in a transaction, the oldest (pid %s) for %s',
                                idle.n, idle.oldest_pid,
                                date_trunc('second', make_interval(secs => idle.oldest::float8)))
               END,
               CASE WHEN NOT can_see.all_stats
                        THEN 'Grant pg_monitor to the role that calls health().'
                    WHEN idle.aborted
                        THEN 'A statement failed and the application never sent ROLLBACK: the session keeps its connection slot until it does. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and roll back on errors in the code path.'
                    ELSE 'The application left a transaction open: it holds its locks and keeps vacuum from removing dead rows. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and fix the code path.'
               END
          FROM idle, can_see
        UNION ALL
        SELECT 'cache_hit',
               CASE WHEN cache.blks_hit + cache.blks_read > 0
                    THEN round(100.0 * cache.blks_hit / (cache.blks_hit + cache.blks_read), 2) END,
               CASE WHEN cache.blks_hit + cache.blks_read > 0
                    THEN format('%s%% of %s block reads %s served from shared buffers',
                                round(100.0 * cache.blks_hit / (cache.blks_hit + cache.blks_read), 2),
                                cache.blks_hit + cache.blks_read, cache.basis)
                    ELSE 'no block reads yet in this database' END,
               'Find the tables that miss the cache in pgmaint.cache_hit_tables(); raise shared_buffers (pgmaint.settings_advice()) if the working set does not fit.'
          FROM cache;
END
$$;

COMMENT ON FUNCTION pgmaint._check_sessions() IS
'Internal: the connections, idle_in_transaction, idle_in_transaction_aborted and cache_hit checks.';
REVOKE ALL ON FUNCTION pgmaint._check_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_sessions() TO pg_monitor;

CREATE FUNCTION pgmaint._check_sampler(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT 'sampler',
               CASE WHEN pgmaint.preloaded() THEN
                   round((extract(epoch FROM clock_timestamp()
                                  - coalesce(st.heartbeat_at, pg_postmaster_start_time()))
                          / greatest(extract(epoch FROM st.sample_interval), 1))::numeric, 1)
               END,
               CASE WHEN NOT pgmaint.preloaded() THEN st.last_error
                    WHEN st.running THEN
                        format('sampling every %s s in database %s; last heartbeat %s s ago, %s samples taken',
                               extract(epoch FROM st.sample_interval)::bigint, st.database,
                               round(extract(epoch FROM clock_timestamp() - st.heartbeat_at)::numeric, 1),
                               st.samples_taken)
                    ELSE format('the sampler worker is not running: %s',
                                coalesce(st.last_error, 'no reason recorded'))
               END,
               CASE WHEN NOT pgmaint.preloaded()
                        THEN 'Add pgmaint to shared_preload_libraries and restart the server; then check pgmaint.sampler_status().'
                    WHEN st.running
                        THEN 'The worker is alive but not sampling: look for lock waits in pg_stat_activity (backend_type ''pgmaint sampler'') and for warnings in the server log; pgmaint.sampler_status() has its last error.'
                    ELSE 'See pgmaint.sampler_status() and the server log: the postmaster restarts the worker within seconds unless it cannot connect to pgmaint.database or max_worker_processes is exhausted.'
               END
          FROM pgmaint.sampler_status() st;
END
$$;

COMMENT ON FUNCTION pgmaint._check_sampler() IS
'Internal: the sampler check.';
REVOKE ALL ON FUNCTION pgmaint._check_sampler() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._check_sampler() TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._measure_checks(
    OUT check_name text, OUT value numeric, OUT message text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    f record;
    names text[];
    vals numeric[];
    msgs text[];
    hints text[];
    err text;
    state text;
BEGIN
    FOR f IN
        SELECT reg.fn, array_agg(reg.check_name ORDER BY reg.check_name) AS checks,
               EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                        WHERE p.oid = pg_catalog.to_regprocedure('pgmaint.' || reg.fn || '()')
                          AND 'check_name' = ANY (p.proargnames)) AS named
          FROM (VALUES
              -- one line per check: (check, the function of pgmaint that measures it)
              ('connections', '_check_sessions'),
              ('idle_in_transaction', '_check_sessions'),
              ('idle_in_transaction_aborted', '_check_sessions'),
              ('cache_hit', '_check_sessions'),
              ('long_running_queries', '_check_activity'),
              ('blocked_sessions', '_check_activity'),
              ('xid_wraparound', '_check_wraparound'),
              ('multixact_wraparound', '_check_wraparound'),
              ('invalid_indexes', '_check_catalog'),
              ('sequences', '_check_catalog'),
              ('prepared_transactions', '_check_retention'),
              ('inactive_slots', '_check_retention'),
              ('slot_wal_retention', '_check_retention'),
              ('table_cache_hit', '_check_tables'),
              ('dead_tuples', '_check_tables'),
              ('autovacuum_behind', '_check_tables'),
              ('disk_free', '_check_tables'),
              ('vacuum_age', '_check_maintenance_age'),
              ('analyze_age', '_check_maintenance_age'),
              ('not_valid_constraints', '_check_schema'),
              ('disabled_triggers', '_check_schema'),
              ('checkpoints_requested', '_check_wal'),
              ('archive_ready', '_check_wal'),
              ('sampler', '_check_sampler'),
              ('backup', '_backup_check'),
              ('archiver', '_archiver_check')
          ) AS reg(check_name, fn)
         GROUP BY reg.fn
         ORDER BY reg.fn
    LOOP
        BEGIN
            -- collected first, so that a failure half-way returns nothing of it
            EXECUTE format('SELECT array_agg(c.check_name), array_agg(c.value), array_agg(c.message), array_agg(c.hint)
                              FROM (SELECT %s AS check_name, r.value, r.message, r.hint
                                      FROM pgmaint.%I() r) c
                             WHERE c.check_name = ANY ($1)',
                           CASE WHEN f.named THEN 'r.check_name' ELSE quote_literal(f.checks[1]) END,
                           f.fn)
               INTO names, vals, msgs, hints
              USING f.checks;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            RETURN QUERY
                SELECT n, NULL::numeric,
                       format('the check failed: %s (SQLSTATE %s)', err, state),
                       format('pgmaint could not measure this check; the other checks still answer. Run SELECT * FROM pgmaint.%I(); to see the error, and report it to pgmaint''s maintainers.', f.fn)
                  FROM unnest(f.checks) AS n;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT u.n, u.v, u.m, u.h
              FROM unnest(names, vals, msgs, hints) AS u(n, v, m, h);
        -- a registered check its function did not answer
        RETURN QUERY
            SELECT n, NULL::numeric, 'the check gave no answer', NULL::text
              FROM unnest(f.checks) AS n
             WHERE n <> ALL (coalesce(names, '{}'));
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint._measure_checks() IS
'Internal: the raw value, message and hint of each health check, before grading against pgmaint.thresholds; a check whose function fails is returned with a NULL value (unknown) and the error in its message.';
REVOKE ALL ON FUNCTION pgmaint._measure_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._measure_checks() TO pg_monitor;

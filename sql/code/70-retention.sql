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

-- The limits of every run; apply_retention()'s arguments override the first two.
CREATE OR REPLACE FUNCTION pgmaint._retention_limits(
    OUT lock_timeout text, OUT time_budget interval, OUT max_skips integer,
    OUT analyze_share numeric)
RETURNS record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '200ms'::text, interval '5 min', 3, 0.2;
$$;

COMMENT ON FUNCTION pgmaint._retention_limits() IS
'Internal: lock_timeout of each batch (a locked table is skipped, not waited for), time budget of a run, locked batches in a row before a table is left for the next run, share of a table removed after which ANALYZE is advised.';

REVOKE ALL ON FUNCTION pgmaint._retention_limits() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_limits() TO pg_monitor;

-- Internal: the quoted schema-qualified name of a relation.
CREATE OR REPLACE FUNCTION pgmaint._retention_name(rel oid)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = rel;
$$;

COMMENT ON FUNCTION pgmaint._retention_name(oid) IS
'Internal: schema.table of a relation, each part quoted as needed.';

REVOKE ALL ON FUNCTION pgmaint._retention_name(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_name(oid) TO pg_monitor;

-- Internal: may the session act for CALLER, may CALLER manage retention, does CALLER own rel?
CREATE OR REPLACE FUNCTION pgmaint._retention_authorized(caller name, rel regclass)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(caller IS NOT NULL
       AND pg_catalog.pg_has_role(session_user, caller, 'MEMBER')
       AND (pg_catalog.has_function_privilege(caller, 'pgmaint.set_retention(regclass, name, interval, regclass, integer, text)', 'EXECUTE')
            OR pg_catalog.has_function_privilege(caller, 'pgmaint.drop_retention(regclass)', 'EXECUTE')
            OR pg_catalog.has_function_privilege(caller, 'pgmaint.apply_retention(regclass, interval, interval)', 'EXECUTE'))
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                    WHERE c.oid OPERATOR(pg_catalog.=) rel
                      AND pg_catalog.pg_has_role(caller, c.relowner, 'USAGE')),
       false);
$$;

COMMENT ON FUNCTION pgmaint._retention_authorized(name, regclass) IS
'Internal: true when the session may act as caller, caller may run a retention action and owns rel; false, never NULL, otherwise.';

REVOKE ALL ON FUNCTION pgmaint._retention_authorized(name, regclass) FROM PUBLIC;

-- Internal: stores (or, with a NULL column, removes) a retention rule for caller.
CREATE OR REPLACE FUNCTION pgmaint._retention_store(caller name, rel regclass, column_name name,
                                         keep interval, archive regclass, batch integer,
                                         partitions text, oldest timestamptz)
RETURNS pgmaint.retention
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
BEGIN
    IF NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to set retention for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Only the table''s owner, through pgmaint.set_retention() or drop_retention(), sets retention.';
    END IF;
    IF column_name IS NULL THEN
        DELETE FROM pgmaint.retention t WHERE t.relid OPERATOR(pg_catalog.=) rel RETURNING * INTO r;
        RETURN r;
    END IF;
    INSERT INTO pgmaint.retention AS t (relid, column_name, keep, archive, batch, partitions,
                                        enabled, set_by, set_at, oldest_row_at, measured_at)
    VALUES (rel, column_name, keep, archive, batch, partitions, true, caller,
            pg_catalog.now(), oldest, pg_catalog.now())
    ON CONFLICT (relid) DO UPDATE
       SET column_name = EXCLUDED.column_name, keep = EXCLUDED.keep, archive = EXCLUDED.archive,
           batch = EXCLUDED.batch, partitions = EXCLUDED.partitions, enabled = true,
           set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at,
           oldest_row_at = EXCLUDED.oldest_row_at, measured_at = EXCLUDED.measured_at
    RETURNING * INTO r;
    PERFORM pgmaint._audit('set_retention', rel::text,
        pg_catalog.jsonb_build_object('column', column_name, 'keep', keep::text,
                                      'archive', archive::text, 'batch', batch,
                                      'partitions', partitions), false);
    RETURN r;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz) IS
'Internal: writes (or with a NULL column deletes) a pgmaint.retention row on behalf of caller, who must own the table and may run a retention action; audits a write.';

REVOKE ALL ON FUNCTION pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text, timestamptz) FROM PUBLIC;

-- Internal: the oldest value of the rule's column (as the caller), or NULL for an empty table.
CREATE OR REPLACE FUNCTION pgmaint._retention_oldest(rel regclass)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
    oldest timestamptz;
BEGIN
    SELECT r.column_name INTO col FROM pgmaint.retention r WHERE r.relid OPERATOR(pg_catalog.=) rel;
    IF col IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT pg_catalog.min(%I)::pg_catalog.timestamptz FROM %s',
                   col, pgmaint._retention_name(rel))
       INTO oldest;
    RETURN oldest;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_oldest(regclass) IS
'Internal: min() of a retention rule''s column as timestamptz, read as the caller.';

REVOKE ALL ON FUNCTION pgmaint._retention_oldest(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_oldest(regclass) TO pg_monitor;

-- Internal: the bounds of a range partition: DEFAULT, or FROM .. TO (NULL for MINVALUE/MAXVALUE).
CREATE OR REPLACE FUNCTION pgmaint._retention_bound(part oid, OUT is_default boolean,
                                         OUT lower text, OUT upper text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH e AS (
        SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS b
          FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) part
    ), m AS (
        SELECT e.b, pg_catalog.regexp_match(e.b, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS r FROM e
    )
    SELECT m.b OPERATOR(pg_catalog.=) 'DEFAULT',
           CASE WHEN m.r[1] OPERATOR(pg_catalog.~) '^''.*''$'
                THEN pg_catalog.replace(pg_catalog.substr(m.r[1], 2, pg_catalog.length(m.r[1]) OPERATOR(pg_catalog.-) 2), '''''', '''') END,
           CASE WHEN m.r[2] OPERATOR(pg_catalog.~) '^''.*''$'
                THEN pg_catalog.replace(pg_catalog.substr(m.r[2], 2, pg_catalog.length(m.r[2]) OPERATOR(pg_catalog.-) 2), '''''', '''') END
      FROM m;
$$;

COMMENT ON FUNCTION pgmaint._retention_bound(oid) IS
'Internal: whether a partition is the default one, and the literal lower and upper bounds of a single-column range partition (NULL for MINVALUE and MAXVALUE).';

REVOKE ALL ON FUNCTION pgmaint._retention_bound(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_bound(oid) TO pg_monitor;

-- Internal: one batch's statement for a leaf table: removes up to $2 rows
-- older than $1, oldest first (moving them to the archive when there is
-- one), by ctid, skipping rows other sessions hold locked.  Oldest first also
-- lets an index on the column lead straight to them: a plain LIMIT would
-- seq-scan from the table's start, over the dead rows of earlier batches.  Operators are qualified: the
-- statement runs as the table's owner, whatever its search_path.
CREATE OR REPLACE FUNCTION pgmaint._retention_batch_sql(leaf regclass, column_name name, archive regclass,
                                             source regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH cols AS (
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) AS list
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attnum OPERATOR(pg_catalog.>) 0
           AND NOT a.attisdropped
    ), t AS (
        SELECT pgmaint._retention_name(leaf) AS name
    )
    SELECT format('WITH batch AS (SELECT ctid FROM ONLY %s WHERE %I OPERATOR(pg_catalog.<) $1'
                  ' ORDER BY %I LIMIT $2 FOR UPDATE SKIP LOCKED), ', t.name, column_name, column_name)
        || CASE WHEN archive IS NULL THEN
               format('d AS (DELETE FROM ONLY %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT batch.ctid FROM batch)) RETURNING 1)'
                      ' SELECT 1 FROM d', t.name)
           ELSE
               format('d AS (DELETE FROM ONLY %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT batch.ctid FROM batch)) RETURNING %s)'
                      ' INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM d',
                      t.name, cols.list, pgmaint._retention_name(archive), cols.list, cols.list)
           END
      FROM cols, t;
$$;

COMMENT ON FUNCTION pgmaint._retention_batch_sql(regclass, name, regclass, regclass) IS
'Internal: the statement of one retention batch on a leaf table ($1 cutoff, $2 batch size): WITH d AS (DELETE ... RETURNING) INSERT INTO archive SELECT FROM d, or a plain batch DELETE.';

REVOKE ALL ON FUNCTION pgmaint._retention_batch_sql(regclass, name, regclass, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_batch_sql(regclass, name, regclass, regclass) TO pg_monitor;

-- Internal: the steps of one run on a configured table, in order.  kind
-- 'partition': one transaction that detaches (and drops) a partition lying
-- entirely before the cutoff; kind 'rows': batches on a leaf table, repeated
-- until a batch removes nothing (a short batch may have skipped locked rows).
CREATE OR REPLACE FUNCTION pgmaint._retention_steps(rel regclass, cutoff timestamptz,
                                         OUT step integer, OUT kind text,
                                         OUT target regclass, OUT statements text[])
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
    relkind "char";
    p record;
    leaf oid;
BEGIN
    SELECT * INTO r FROM pgmaint.retention t WHERE t.relid OPERATOR(pg_catalog.=) rel;
    SELECT c.relkind INTO relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel;
    IF r.relid IS NULL OR relkind IS NULL THEN
        RETURN;
    END IF;
    step := 0;
    IF relkind OPERATOR(pg_catalog.=) 'r' THEN
        step := 1; kind := 'rows'; target := rel;
        statements := ARRAY[pgmaint._retention_batch_sql(rel, r.column_name, r.archive, rel)];
        RETURN NEXT;
        RETURN;
    END IF;
    -- partitions wholly before the cutoff go first, whole
    FOR p IN
        SELECT i.inhrelid AS part, b.*
          FROM pg_catalog.pg_inherits i, pgmaint._retention_bound(i.inhrelid) b
         WHERE i.inhparent OPERATOR(pg_catalog.=) rel
         ORDER BY b.is_default, b.lower::timestamptz NULLS FIRST, i.inhrelid
    LOOP
        IF NOT p.is_default AND p.upper IS NOT NULL
           AND p.upper::timestamptz OPERATOR(pg_catalog.<=) cutoff THEN
            step := step OPERATOR(pg_catalog.+) 1; kind := 'partition'; target := p.part::regclass;
            statements := ARRAY[format('ALTER TABLE %s DETACH PARTITION %s',
                                       pgmaint._retention_name(rel), pgmaint._retention_name(p.part))];
            IF r.partitions OPERATOR(pg_catalog.=) 'drop' THEN
                statements := statements OPERATOR(pg_catalog.||)
                              format('DROP TABLE %s', pgmaint._retention_name(p.part));
            END IF;
            RETURN NEXT;
        END IF;
    END LOOP;
    -- then the rows of partitions that start before the cutoff (and the default one)
    FOR p IN
        SELECT i.inhrelid AS part, b.*
          FROM pg_catalog.pg_inherits i, pgmaint._retention_bound(i.inhrelid) b
         WHERE i.inhparent OPERATOR(pg_catalog.=) rel
         ORDER BY b.is_default, b.lower::timestamptz NULLS FIRST, i.inhrelid
    LOOP
        CONTINUE WHEN NOT p.is_default AND p.upper IS NOT NULL
                      AND p.upper::timestamptz OPERATOR(pg_catalog.<=) cutoff;
        CONTINUE WHEN NOT p.is_default AND p.lower IS NOT NULL
                      AND p.lower::timestamptz OPERATOR(pg_catalog.>=) cutoff;
        FOR leaf IN
            SELECT pt.relid FROM pg_catalog.pg_partition_tree(p.part) pt
              JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pt.relid
             WHERE pt.isleaf AND c.relkind OPERATOR(pg_catalog.=) 'r'
             ORDER BY pt.relid
        LOOP
            step := step OPERATOR(pg_catalog.+) 1; kind := 'rows'; target := leaf::regclass;
            statements := ARRAY[pgmaint._retention_batch_sql(leaf::regclass, r.column_name, r.archive, rel)];
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_steps(regclass, timestamptz) IS
'Internal: the steps of a retention run on a table: detach (and drop) each partition wholly before the cutoff, then batches on each leaf that may hold older rows.';

REVOKE ALL ON FUNCTION pgmaint._retention_steps(regclass, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_steps(regclass, timestamptz) TO pg_monitor;

-- Runs a step's statements as the owner of rel (see src/retention.c).
CREATE OR REPLACE FUNCTION pgmaint._retention_exec(rel regclass, statements text[], cutoff timestamptz,
                                        batch integer, lock_timeout text)
RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'pgmaint_retention_exec';

COMMENT ON FUNCTION pgmaint._retention_exec(regclass, text[], timestamptz, integer, text) IS
'Internal: runs the statements of one retention step ($1 cutoff, $2 batch size) as the owner of rel in a security-restricted context, with a pinned search_path and the given lock_timeout; the caller must own rel. Returns the rows the last statement processed.';

REVOKE ALL ON FUNCTION pgmaint._retention_exec(regclass, text[], timestamptz, integer, text) FROM PUBLIC;

-- Internal: takes (acquire) or releases the session advisory lock that keeps
-- two runs off the same table; true when taken.
CREATE OR REPLACE FUNCTION pgmaint._retention_lock(rel regclass, acquire boolean)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN acquire THEN pg_catalog.pg_try_advisory_lock(1886809449, rel::oid::integer)
                ELSE pg_catalog.pg_advisory_unlock(1886809449, rel::oid::integer) END;
$$;

COMMENT ON FUNCTION pgmaint._retention_lock(regclass, boolean) IS
'Internal: pg_try_advisory_lock / pg_advisory_unlock of a table''s retention run (key 1886809449, the table''s OID).';

REVOKE ALL ON FUNCTION pgmaint._retention_lock(regclass, boolean) FROM PUBLIC;

-- Internal: the tables a run works on: enabled rules on existing tables the
-- caller owns (all of them for a superuser, as the worker is), with their cutoff.
CREATE OR REPLACE FUNCTION pgmaint._retention_work(only_table regclass,
                                        OUT relid regclass, OUT cutoff timestamptz,
                                        OUT batch integer)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.relid, pg_catalog.now() OPERATOR(pg_catalog.-) r.keep, r.batch
      FROM pgmaint.retention r
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relid
     WHERE r.enabled
       AND (only_table IS NULL OR r.relid OPERATOR(pg_catalog.=) only_table)
       AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
     ORDER BY pgmaint._retention_name(r.relid);
$$;

COMMENT ON FUNCTION pgmaint._retention_work(regclass) IS
'Internal: the enabled retention rules a run applies (those on tables the caller owns), with each cutoff (now() - keep) and batch size.';

REVOKE ALL ON FUNCTION pgmaint._retention_work(regclass) FROM PUBLIC;

-- Internal: ends a table's run: advice, the rule's last result and oldest
-- row, and an audit row when anything was removed or skipped.  Returns the
-- result with the advice.
CREATE OR REPLACE FUNCTION pgmaint._retention_done(caller name, rel regclass, result jsonb, oldest timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint := coalesce((result ->> 'removed')::bigint, 0);
    estimate float8;
    res jsonb := result;
BEGIN
    IF NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to record a retention run for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Retention runs are recorded by pgmaint.apply_retention() and the worker.';
    END IF;
    SELECT greatest(c.reltuples, 0) INTO estimate FROM pg_class c WHERE c.oid = rel;
    IF removed > 0 AND removed >= (SELECT l.analyze_share FROM pgmaint._retention_limits() l)
                                  * greatest(estimate, removed) THEN
        res := res || jsonb_build_object('advice', format(
            'ANALYZE %s; (a large share of the table went). VACUUM makes the space reusable but does not return it to the operating system; VACUUM FULL or pg_repack in a maintenance window would, and pgmaint never runs them.',
            pgmaint._retention_name(rel)));
    END IF;
    UPDATE pgmaint.retention r
       SET last_run_at = now(), last_result = res, oldest_row_at = oldest, measured_at = now()
     WHERE r.relid = rel;
    IF removed > 0 OR coalesce((res ->> 'partitions')::int, 0) > 0
       OR coalesce((res ->> 'skipped_batches')::int, 0) > 0 OR res ->> 'stopped' <> 'done' THEN
        PERFORM pgmaint._audit('retention', rel::text, res, false);
    END IF;
    RETURN res;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_done(name, regclass, jsonb, timestamptz) IS
'Internal: records a table''s retention run (last_result, oldest_row_at) for caller, who must own it; adds ANALYZE advice after a large removal; audits what was removed or skipped (counts and cutoff, never rows).';

REVOKE ALL ON FUNCTION pgmaint._retention_done(name, regclass, jsonb, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.set_retention(rel regclass, "column" name, keep interval,
                                      archive regclass DEFAULT NULL, batch integer DEFAULT 5000,
                                      partitions text DEFAULT 'drop')
RETURNS pgmaint.retention
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    att record;
    pk record;
    missing text;
    oldest timestamptz;
    r pgmaint.retention;
BEGIN
    IF rel IS NULL OR "column" IS NULL OR keep IS NULL OR batch IS NULL OR partitions IS NULL THEN
        RAISE EXCEPTION 'table, column, keep, batch and partitions must not be null'
              USING ERRCODE = '22023',
                    HINT = 'Call pgmaint.set_retention(''schema.table'', ''created_at'', ''90 days'').';
    END IF;
    SELECT cl.relkind, cl.relowner INTO c FROM pg_class cl WHERE cl.oid = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = '42P01';
    END IF;
    IF c.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', rel USING ERRCODE = '42809',
              HINT = 'Retention applies to ordinary and partitioned tables.';
    END IF;
    IF NOT pg_has_role(current_user, c.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', rel USING ERRCODE = '42501',
              HINT = 'Only the table''s owner (or a member of the owning role) sets its retention.';
    END IF;
    SELECT a.attnum, a.atttypid INTO att FROM pg_attribute a
     WHERE a.attrelid = rel AND a.attname = "column" AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', "column", rel
              USING ERRCODE = '42703';
    END IF;
    IF att.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not a time type', "column", rel, att.atttypid::regtype
              USING ERRCODE = '42804',
                    HINT = 'Give a column of type timestamp with time zone, timestamp or date.';
    END IF;
    IF keep < interval '0' THEN
        RAISE EXCEPTION 'keep must not be negative, not %', keep USING ERRCODE = '22023',
              HINT = 'Rows older than now() - keep go; keep => ''0'' removes rows whose expiry time has passed.';
    END IF;
    IF batch NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 1000000, not %', batch USING ERRCODE = '22023',
              HINT = 'Batches of a few thousand rows keep each transaction short.';
    END IF;
    IF partitions NOT IN ('drop', 'detach') THEN
        RAISE EXCEPTION 'partitions must be drop or detach, not "%"', partitions USING ERRCODE = '22023',
              HINT = 'drop removes old partitions; detach keeps them as standalone tables.';
    END IF;
    IF c.relkind = 'p' THEN
        SELECT p.partstrat, p.partnatts, p.partattrs[0] AS key INTO pk
          FROM pg_partitioned_table p WHERE p.partrelid = rel;
        IF pk.partstrat <> 'r' OR pk.partnatts <> 1 OR pk.key <> att.attnum THEN
            RAISE EXCEPTION 'column "%" is not the partition key of partitioned table %', "column", rel
                  USING ERRCODE = '22023',
                        HINT = 'Retention of a partitioned table drops whole partitions: give the column the table is range-partitioned by.';
        END IF;
        IF archive IS NOT NULL THEN
            RAISE EXCEPTION 'an archive table is not supported for partitioned table %', rel
                  USING ERRCODE = '0A000',
                        HINT = 'Keep old partitions as standalone tables with partitions => ''detach'' instead: they are the archive.';
        END IF;
    END IF;
    IF archive IS NOT NULL THEN
        IF archive = rel THEN
            RAISE EXCEPTION 'a table cannot be its own archive' USING ERRCODE = '22023';
        END IF;
        IF (SELECT cl.relkind FROM pg_class cl WHERE cl.oid = archive) NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '"%" is not a table', archive USING ERRCODE = '42809',
                  HINT = 'The archive must be an ordinary or partitioned table.';
        END IF;
        SELECT string_agg(format('%I %s', s.attname, format_type(s.atttypid, s.atttypmod)), ', ' ORDER BY s.attnum)
          INTO missing
          FROM pg_attribute s
         WHERE s.attrelid = rel AND s.attnum > 0 AND NOT s.attisdropped
           AND NOT EXISTS (SELECT 1 FROM pg_attribute d
                            WHERE d.attrelid = archive AND d.attname = s.attname AND d.attnum > 0
                              AND NOT d.attisdropped AND d.atttypid = s.atttypid
                              AND d.attgenerated = '');
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'archive table % has no column matching %', archive, missing
                  USING ERRCODE = '42804',
                        HINT = format('Give the archive every column of %s, with the same type and not generated (CREATE TABLE archive (LIKE source) does).', rel);
        END IF;
        IF NOT has_table_privilege(c.relowner, archive, 'INSERT') THEN
            RAISE EXCEPTION 'the owner of % may not insert into archive table %', rel, archive
                  USING ERRCODE = '42501',
                        HINT = 'Retention moves rows as the table''s owner: GRANT INSERT on the archive to it.';
        END IF;
    END IF;
    oldest := pgmaint._retention_oldest_of(rel, "column");
    r := pgmaint._retention_store(current_user, rel, "column", keep, archive, batch, partitions, oldest);
    RETURN r;
END
$$;

COMMENT ON FUNCTION pgmaint.set_retention(regclass, name, interval, regclass, integer, text) IS
'Sets the retention of a table the caller owns: rows whose column is older than now() - keep go (to archive when given) in batches of batch rows; a partitioned table by its range key drops (or detaches) whole old partitions. Audited.';

REVOKE ALL ON FUNCTION pgmaint.set_retention(regclass, name, interval, regclass, integer, text) FROM PUBLIC;

-- Internal: min() of a given column as timestamptz, as the caller (set_retention() measures before storing).
CREATE OR REPLACE FUNCTION pgmaint._retention_oldest_of(rel regclass, column_name name)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    oldest timestamptz;
BEGIN
    EXECUTE format('SELECT pg_catalog.min(%I)::pg_catalog.timestamptz FROM %s',
                   column_name, pgmaint._retention_name(rel))
       INTO oldest;
    RETURN oldest;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_oldest_of(regclass, name) IS
'Internal: min() of a table''s column as timestamptz, read as the caller.';

REVOKE ALL ON FUNCTION pgmaint._retention_oldest_of(regclass, name) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.drop_retention(rel regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION 'table must not be null' USING ERRCODE = '22023',
              HINT = 'Call pgmaint.drop_retention(''schema.table'').';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgmaint.retention t WHERE t.relid = rel) THEN
        RAISE NOTICE 'table % has no retention rule', rel;
        RETURN false;
    END IF;
    r := pgmaint._retention_store(current_user, rel, NULL, NULL, NULL, NULL, NULL, NULL);
    PERFORM pgmaint._retention_audit_drop(current_user, rel);
    RETURN true;
END
$$;

COMMENT ON FUNCTION pgmaint.drop_retention(regclass) IS
'Removes the retention rule of a table the caller owns (nothing is deleted); audited. False when the table had none.';

REVOKE ALL ON FUNCTION pgmaint.drop_retention(regclass) FROM PUBLIC;

-- Internal: audits drop_retention().
CREATE OR REPLACE FUNCTION pgmaint._retention_audit_drop(caller name, rel regclass)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to write a retention audit row' USING ERRCODE = '42501';
    END IF;
    PERFORM pgmaint._audit('drop_retention', rel::text, '{}', false);
END
$$;

COMMENT ON FUNCTION pgmaint._retention_audit_drop(name, regclass) IS
'Internal: appends the pgmaint.actions row of drop_retention() for caller, who must own the table.';

REVOKE ALL ON FUNCTION pgmaint._retention_audit_drop(name, regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.retention_plan()
RETURNS TABLE (table_name regclass, column_name name, keep interval, cutoff timestamptz,
               method text, rows_to_remove bigint, partitions_to_remove integer,
               oldest_age interval, archive regclass, enabled boolean,
               last_run_at timestamptz, last_result jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r record;
    readable boolean;
    oldest timestamptz;
BEGIN
    FOR r IN
        SELECT t.*, c.relkind, now() - t.keep AS cut
          FROM pgmaint.retention t JOIN pg_class c ON c.oid = t.relid
         ORDER BY pgmaint._retention_name(t.relid)
    LOOP
        table_name := r.relid; column_name := r.column_name; keep := r.keep;
        cutoff := r.cut; archive := r.archive; enabled := r.enabled;
        last_run_at := r.last_run_at; last_result := r.last_result;
        partitions_to_remove := (SELECT count(*) FROM pgmaint._retention_steps(r.relid, r.cut) s
                                  WHERE s.kind = 'partition');
        method := concat_ws(', then ',
            CASE WHEN partitions_to_remove > 0
                 THEN CASE r.partitions WHEN 'drop' THEN 'detach and drop partitions'
                                        ELSE 'detach partitions' END END,
            CASE WHEN r.archive IS NOT NULL THEN format('move rows to %s', r.archive)
                 ELSE 'delete rows' END);
        readable := has_table_privilege(r.relid, 'SELECT');
        IF readable THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE %I OPERATOR(pg_catalog.<) $1',
                           pgmaint._retention_name(r.relid), r.column_name)
               INTO rows_to_remove USING r.cut;
            oldest := pgmaint._retention_oldest(r.relid);
        ELSE
            rows_to_remove := NULL;
            oldest := r.oldest_row_at;
        END IF;
        oldest_age := date_trunc('second', now() - oldest);
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.retention_plan() IS
'The dry run of apply_retention(): per configured table the cutoff, what it would do, the rows (and partitions) that would go, the oldest row''s age (NULL counts for tables the caller cannot read), the archive and the last run.';

REVOKE ALL ON FUNCTION pgmaint.retention_plan() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.retention_plan() TO pg_monitor;

CREATE OR REPLACE PROCEDURE pgmaint.apply_retention(only_table regclass DEFAULT NULL,
                                         time_budget interval DEFAULT NULL,
                                         lock_timeout interval DEFAULT NULL)
LANGUAGE plpgsql
-- No SET clause: a procedure with one cannot COMMIT.  Every name and
-- operator below is qualified instead, and the statements that touch user
-- tables run through _retention_exec(), which pins its own search_path.
AS $$
DECLARE
    lim record;
    w record;
    s record;
    deadline timestamptz;
    lt text;
    n bigint;
    skips integer;
    locked boolean;
    err text;
    removed bigint;
    batches integer;
    skipped integer;
    parts integer;
    stopped text;
    started timestamptz;
    res jsonb;
    has_archive boolean;
BEGIN
    IF only_table IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgmaint.retention r WHERE r.relid OPERATOR(pg_catalog.=) only_table) THEN
        RAISE EXCEPTION 'table % has no retention rule', only_table USING ERRCODE = '22023',
              HINT = 'Set one with pgmaint.set_retention().';
    END IF;
    SELECT * INTO lim FROM pgmaint._retention_limits();
    lt := COALESCE(
        (pg_catalog.date_part('epoch', lock_timeout) OPERATOR(pg_catalog.*) 1000)::bigint::text
            OPERATOR(pg_catalog.||) 'ms',
        lim.lock_timeout);
    deadline := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+)
                COALESCE(time_budget, lim.time_budget);
    FOR w IN SELECT * FROM pgmaint._retention_work(only_table) LOOP
        started := pg_catalog.clock_timestamp();
        removed := 0; batches := 0; skipped := 0; parts := 0; stopped := 'done'; err := NULL;
        has_archive := (SELECT r.archive IS NOT NULL FROM pgmaint.retention r
                         WHERE r.relid OPERATOR(pg_catalog.=) w.relid);
        IF NOT pgmaint._retention_lock(w.relid, true) THEN
            stopped := 'another run holds this table';
        ELSE
            <<steps>>
            FOR s IN SELECT * FROM pgmaint._retention_steps(w.relid, w.cutoff) LOOP
                skips := 0;
                LOOP
                    IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) deadline THEN
                        stopped := 'time budget';
                        EXIT steps;
                    END IF;
                    locked := false;
                    BEGIN
                        n := pgmaint._retention_exec(w.relid, s.statements, w.cutoff, w.batch, lt);
                    EXCEPTION
                        WHEN lock_not_available THEN
                            locked := true;
                        WHEN OTHERS THEN
                            err := SQLERRM;
                    END;
                    COMMIT;
                    IF err IS NOT NULL THEN
                        stopped := 'error: ' OPERATOR(pg_catalog.||) err;
                        EXIT steps;
                    END IF;
                    IF locked THEN
                        skipped := skipped OPERATOR(pg_catalog.+) 1;
                        skips := skips OPERATOR(pg_catalog.+) 1;
                        IF skips OPERATOR(pg_catalog.>=) lim.max_skips THEN
                            stopped := 'locked';
                            EXIT steps;
                        END IF;
                        CONTINUE;
                    END IF;
                    skips := 0;
                    IF s.kind OPERATOR(pg_catalog.=) 'partition' THEN
                        parts := parts OPERATOR(pg_catalog.+) 1;
                        EXIT;
                    END IF;
                    -- a short batch may have skipped rows others hold locked: go on until one finds none
                    EXIT WHEN n OPERATOR(pg_catalog.=) 0;
                    batches := batches OPERATOR(pg_catalog.+) 1;
                    removed := removed OPERATOR(pg_catalog.+) n;
                END LOOP;
            END LOOP;
        END IF;
        res := pg_catalog.jsonb_build_object(
            'cutoff', w.cutoff, 'removed', removed,
            'archived', CASE WHEN has_archive THEN removed ELSE 0 END,
            'partitions', parts, 'batches', batches, 'skipped_batches', skipped,
            'seconds', pg_catalog.round(pg_catalog.date_part('epoch',
                           pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)::numeric, 3),
            'stopped', stopped, 'by', 'apply_retention');
        res := pgmaint._retention_done(current_user, w.relid, res, pgmaint._retention_oldest(w.relid));
        IF stopped OPERATOR(pg_catalog.<>) 'another run holds this table' THEN
            PERFORM pgmaint._retention_lock(w.relid, false);
        END IF;
        COMMIT;
        RAISE NOTICE 'retention of %: % row(s) removed (% archived), % partition(s), % batch(es), % skipped, % s: %',
            w.relid, removed, res OPERATOR(pg_catalog.->>) 'archived', parts, batches, skipped,
            res OPERATOR(pg_catalog.->>) 'seconds', stopped
            USING HINT = COALESCE(res OPERATOR(pg_catalog.->>) 'advice', 'nothing to follow up');
    END LOOP;
END
$$;

COMMENT ON PROCEDURE pgmaint.apply_retention(regclass, interval, interval) IS
'Applies the retention rules of the tables the caller owns (only_table: one of them): each batch and each partition detach in a transaction of its own, as the table''s owner, under lock_timeout (default 200 ms: a locked table is skipped, not waited for) within time_budget (default 5 min); audited; a NOTICE per table. Not inside a transaction block.';

REVOKE ALL ON PROCEDURE pgmaint.apply_retention(regclass, interval, interval) FROM PUBLIC;

-- Forgets the rule of a dropped table, and disables a rule whose archive was dropped.
CREATE OR REPLACE FUNCTION pgmaint._retention_forget_dropped()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dropped oid[];
BEGIN
    SELECT array_agg(o.objid) INTO dropped
      FROM pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objsubid = 0
       AND o.object_type IN ('table', 'partitioned table');
    IF dropped IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM pgmaint.retention WHERE relid::oid = ANY (dropped);
    UPDATE pgmaint.retention SET enabled = false, archive = NULL,
           last_result = jsonb_build_object('stopped', 'disabled: the archive table was dropped')
     WHERE archive::oid = ANY (dropped);
END
$$;

COMMENT ON FUNCTION pgmaint._retention_forget_dropped() IS
'Event trigger: removes the retention rules of dropped tables and disables those whose archive table was dropped (rows are never deleted without their archive).';

REVOKE ALL ON FUNCTION pgmaint._retention_forget_dropped() FROM PUBLIC;

DO $$
BEGIN
    -- replayed by every upgrade: no CREATE OR REPLACE for event triggers
    IF EXISTS (SELECT FROM pg_catalog.pg_event_trigger WHERE evtname = 'pgmaint_retention_forget_dropped') THEN
        DROP EVENT TRIGGER pgmaint_retention_forget_dropped;
    END IF;
END
$$;

CREATE EVENT TRIGGER pgmaint_retention_forget_dropped ON sql_drop
    EXECUTE FUNCTION pgmaint._retention_forget_dropped();

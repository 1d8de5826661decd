-- Retention (issue 20): expire cache rows, archive or delete old log rows,
-- detach and drop old partitions, in small transactions.
--
-- The rules live here: which tables, the cutoff, the statements of each
-- step, the limits of a run.  The run itself is one loop in C
-- (src/retention.c) that CALL pgmaint.apply_retention() and the worker both
-- drive: every statement on a user table, measurements included, runs as
-- the table's owner in a security-restricted operation under the lock
-- timeout (src/owner.c), after the rule is checked again under the table's
-- lock.  So nobody deletes through pgmaint from a table whose owner could
-- not, and nothing a table's owner planted (a trigger, a type, a cast, a
-- rule that made the table a view) ever runs with more rights than the
-- owner's.
--
-- Privileges.  set_retention(), drop_retention() and apply_retention() run
-- as their caller, who must own the table; grant_tuning() hands a role what
-- they need.  The configuration table is written only through the SECURITY
-- DEFINER helpers _retention_store() (which checks a rule as every run does)
-- and _retention_done() (granted to nobody: only a run records a run).

-- The limits of every run; apply_retention()'s arguments override the first two.
CREATE OR REPLACE FUNCTION pgmaint._retention_limits(
    OUT lock_timeout text, OUT time_budget interval, OUT max_skips integer,
    OUT analyze_share numeric)
RETURNS record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pgmaint._policy_lock_timeout(), interval '5 min', 3, 0.2;
$$;

COMMENT ON FUNCTION pgmaint._retention_limits() IS
'Internal: lock_timeout of every statement on a table (PGMAINT_LOCK_TIMEOUT: a locked table is skipped, not waited for), time budget of a run (shared fairly by its tables), locked batches in a row before a table is left for the next run, share of a table removed after which ANALYZE is advised.';

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

-- Internal: raises the error a rule on rel would have (its kind, its
-- column's type, the partition key, the archive), as each run checks it
-- again under the table's lock (src/retention.c).
CREATE OR REPLACE FUNCTION pgmaint._retention_validate(rel regclass, column_name name, archive regclass)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_retention_validate';

COMMENT ON FUNCTION pgmaint._retention_validate(regclass, name, regclass) IS
'Internal: raises the error of a retention rule on rel with this column and archive (not an ordinary or partitioned table, not a time column, not the range key, an archive that is the table or its parent, whose columns differ or that the owner may not insert into); the check every run repeats under the table''s lock.';

REVOKE ALL ON FUNCTION pgmaint._retention_validate(regclass, name, regclass) FROM PUBLIC;

-- Internal: the oldest value of a rule's column and the rows older than the
-- cutoff, read as the table's owner under the lock timeout (src/retention.c).
CREATE OR REPLACE FUNCTION pgmaint._retention_measure(rel regclass, column_name name, cutoff timestamptz,
                                           OUT rows_to_remove bigint, OUT oldest timestamptz,
                                           OUT error text)
RETURNS record
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_retention_measure';

COMMENT ON FUNCTION pgmaint._retention_measure(regclass, name, timestamptz) IS
'Internal: min() of a rule''s column as timestamptz and the rows older than cutoff (none counted for a NULL cutoff), read as the table''s owner in a security-restricted operation under the lock timeout, after the rule is checked under the table''s lock; all NULL for a caller who may not read every row; a problem of the table is returned as error, not raised.';

REVOKE ALL ON FUNCTION pgmaint._retention_measure(regclass, name, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._retention_measure(regclass, name, timestamptz) TO pg_monitor;

-- Internal: the table a retention run is recording now (see src/retention.c).
CREATE OR REPLACE FUNCTION pgmaint._retention_recording()
RETURNS regclass
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_retention_recording';

COMMENT ON FUNCTION pgmaint._retention_recording() IS
'Internal: the table whose run the running retention run (the worker''s or apply_retention()''s) is recording now, NULL otherwise; _retention_done() records nothing else.';

REVOKE ALL ON FUNCTION pgmaint._retention_recording() FROM PUBLIC;

-- Internal: stores (or, with a NULL column, removes) a retention rule for
-- caller.  It checks the rule as set_retention() documents and as every run
-- checks it again, and measures the oldest row itself (as the table's owner).
CREATE OR REPLACE FUNCTION pgmaint._retention_store(caller name, rel regclass, column_name name,
                                         keep interval, archive regclass, batch integer,
                                         partitions text)
RETURNS pgmaint.retention
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
    m record;
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
    PERFORM pgmaint._retention_validate(rel, column_name, archive);
    SELECT * INTO m FROM pgmaint._retention_measure(rel, column_name, NULL) x;
    IF m.error IS NOT NULL THEN
        RAISE EXCEPTION 'could not read the oldest row of %: %', rel, m.error
              USING ERRCODE = '55000',
                    HINT = 'Retention reads the table as its owner under a short lock timeout: try again when the table is not locked.';
    END IF;
    INSERT INTO pgmaint.retention AS t (relid, column_name, keep, archive, batch, partitions,
                                        enabled, set_by, set_at, oldest_row_at, measured_at)
    VALUES (rel, column_name, keep, archive, batch, partitions, true, caller,
            pg_catalog.now(), m.oldest, pg_catalog.now())
    ON CONFLICT (relid) DO UPDATE
       SET column_name = EXCLUDED.column_name, keep = EXCLUDED.keep, archive = EXCLUDED.archive,
           batch = EXCLUDED.batch, partitions = EXCLUDED.partitions, enabled = true,
           set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at,
           oldest_row_at = EXCLUDED.oldest_row_at, measured_at = EXCLUDED.measured_at,
           last_result = NULL
    RETURNING * INTO r;
    PERFORM pgmaint._audit('set_retention', rel::text,
        pg_catalog.jsonb_build_object('column', column_name, 'keep', keep::text,
                                      'archive', archive::text, 'batch', batch,
                                      'partitions', partitions), false);
    RETURN r;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text) IS
'Internal: writes (or with a NULL column deletes) a pgmaint.retention row on behalf of caller, who must own the table and may run a retention action; checks the rule (_retention_validate()) and measures its oldest row as the table''s owner; audits a write.';

REVOKE ALL ON FUNCTION pgmaint._retention_store(name, regclass, name, interval, regclass, integer, text) FROM PUBLIC;

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
    IF pgmaint._retention_recording() IS DISTINCT FROM rel
       OR NOT pgmaint._retention_authorized(caller, rel) THEN
        RAISE EXCEPTION 'permission denied to record a retention run for table %', rel
              USING ERRCODE = '42501',
                    HINT = 'Retention runs are recorded by pgmaint.apply_retention() and the worker, and by nothing else.';
    END IF;
    SELECT greatest(c.reltuples, 0) INTO estimate FROM pg_class c WHERE c.oid = rel;
    IF removed > 0 AND removed >= (SELECT l.analyze_share FROM pgmaint._retention_limits() l)
                                  * greatest(estimate, removed) THEN
        res := res || jsonb_build_object('advice', format(
            'ANALYZE %s; (a large share of the table went). VACUUM makes the space reusable but does not return it to the operating system; VACUUM FULL or pg_repack in a maintenance window would, and pgmaint never runs them.',
            pgmaint._retention_name(rel)));
    END IF;
    -- a run that could not read the oldest row keeps the one measured last
    UPDATE pgmaint.retention r
       SET last_run_at = now(), last_result = res,
           oldest_row_at = CASE WHEN res ? 'oldest_measured' THEN r.oldest_row_at ELSE oldest END,
           measured_at = CASE WHEN res ? 'oldest_measured' THEN r.measured_at ELSE now() END
     WHERE r.relid = rel;
    IF removed > 0 OR coalesce((res ->> 'partitions')::int, 0) > 0
       OR coalesce((res ->> 'skipped_batches')::int, 0) > 0 OR res ->> 'stopped' <> 'done' THEN
        PERFORM pgmaint._audit('retention', rel::text, res, false);
    END IF;
    RETURN res;
END
$$;

COMMENT ON FUNCTION pgmaint._retention_done(name, regclass, jsonb, timestamptz) IS
'Internal: records a table''s retention run (last_result, oldest_row_at) for caller, who must own it, and only while a run records that table (_retention_recording(); granted to nobody, the run calls it through fmgr); adds ANALYZE advice after a large removal; audits what was removed or skipped (counts and cutoff, never rows).';

REVOKE ALL ON FUNCTION pgmaint._retention_done(name, regclass, jsonb, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint.set_retention(rel regclass, "column" name, keep interval,
                                      archive regclass DEFAULT NULL, batch integer DEFAULT 5000,
                                      partitions text DEFAULT 'drop')
RETURNS pgmaint.retention
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r pgmaint.retention;
BEGIN
    IF rel IS NULL OR "column" IS NULL OR keep IS NULL OR batch IS NULL OR partitions IS NULL THEN
        RAISE EXCEPTION 'table, column, keep, batch and partitions must not be null'
              USING ERRCODE = '22023',
                    HINT = 'Call pgmaint.set_retention(''schema.table'', ''created_at'', ''90 days'').';
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
    -- the rule itself (kind, column, archive) is checked where it is stored
    r := pgmaint._retention_store(current_user, rel, "column", keep, archive, batch, partitions);
    RETURN r;
END
$$;

COMMENT ON FUNCTION pgmaint.set_retention(regclass, name, interval, regclass, integer, text) IS
'Sets the retention of a table the caller owns: rows whose column is older than now() - keep go (to archive when given) in batches of batch rows; a partitioned table by its range key drops (or detaches) whole old partitions. Audited.';

REVOKE ALL ON FUNCTION pgmaint.set_retention(regclass, name, interval, regclass, integer, text) FROM PUBLIC;

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
    r := pgmaint._retention_store(current_user, rel, NULL, NULL, NULL, NULL, NULL);
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
               last_run_at timestamptz, last_result jsonb, error text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r record;
    m record;
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
        error := NULL;
        -- one broken rule is this row's error, never the whole plan's
        BEGIN
            partitions_to_remove := (SELECT count(*) FROM pgmaint._retention_steps(r.relid, r.cut) s
                                      WHERE s.kind = 'partition');
        EXCEPTION WHEN OTHERS THEN
            partitions_to_remove := NULL;
            error := SQLERRM;
        END;
        method := concat_ws(', then ',
            CASE WHEN partitions_to_remove > 0
                 THEN CASE r.partitions WHEN 'drop' THEN 'detach and drop partitions'
                                        ELSE 'detach partitions' END END,
            CASE WHEN r.archive IS NOT NULL THEN format('move rows to %s', r.archive)
                 ELSE 'delete rows' END);
        -- read as the table's owner, under the lock timeout (NULL: the caller may not read it all)
        SELECT * INTO m FROM pgmaint._retention_measure(r.relid, r.column_name, r.cut) x;
        rows_to_remove := m.rows_to_remove;
        error := coalesce(m.error, error);
        oldest := CASE WHEN m.rows_to_remove IS NULL THEN r.oldest_row_at ELSE m.oldest END;
        oldest_age := date_trunc('second', now() - oldest);
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgmaint.retention_plan() IS
'The dry run of apply_retention(): per configured table the cutoff, what it would do, the rows (and partitions) that would go, the oldest row''s age (NULL counts for tables the caller cannot read; the tables are read as their owners, under the lock timeout), the archive, the last run, and the error that would stop a run of the table (a dropped or retyped column, a table that became a view, a lock).';

REVOKE ALL ON FUNCTION pgmaint.retention_plan() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.retention_plan() TO pg_monitor;

-- The run: one loop in C (src/retention.c), shared with the worker.
CREATE OR REPLACE PROCEDURE pgmaint.apply_retention(only_table regclass DEFAULT NULL,
                                         time_budget interval DEFAULT NULL,
                                         lock_timeout interval DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'pgmaint_apply_retention';

COMMENT ON PROCEDURE pgmaint.apply_retention(regclass, interval, interval) IS
'Applies the retention rules of the tables the caller owns (only_table: one of them): each batch and each partition detach in a transaction of its own, as the table''s owner, under lock_timeout (default 200 ms: a locked table is skipped, not waited for) within time_budget (default 5 min, shared fairly by the tables); an error stops its table only and is recorded on its rule; audited; a NOTICE per table. Not inside a transaction block.';

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

-- Tuning roles keep exactly what grant_tuning() gives (_tuning_privileges()).
-- Replayed by every upgrade, after every function it names exists: a role
-- granted tuning by an earlier version gets what a signature change (DROP in
-- the state delta) took away.  A fresh install has no such role.
DO $$
DECLARE
    g record;
    p record;
BEGIN
    FOR g IN
        SELECT a.grantee::pg_catalog.regrole AS grantee,
               pg_catalog.has_function_privilege(a.grantee, 'pgmaint.run_policy(text)', 'EXECUTE') AS with_policy
          FROM pg_catalog.pg_proc f, pg_catalog.aclexplode(f.proacl) a
         WHERE f.oid OPERATOR(pg_catalog.=) 'pgmaint.tune_table(regclass, text)'::pg_catalog.regprocedure
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) f.proowner
    LOOP
        FOR p IN SELECT * FROM pgmaint._tuning_privileges(g.with_policy) LOOP
            EXECUTE pg_catalog.format('GRANT %s ON %s %s TO %s',
                                      CASE p.kind WHEN 'TABLE' THEN 'SELECT' ELSE 'EXECUTE' END,
                                      p.kind, p.object, g.grantee);
        END LOOP;
    END LOOP;
END
$$;

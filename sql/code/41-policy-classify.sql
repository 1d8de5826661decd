-- Autovacuum policy, classification: per-table write counters snapshotted
-- by each policy run, and the profile each user table's writes suggest.

-- Internal: the user tables the policy considers.
CREATE OR REPLACE FUNCTION pgmaint._policy_tables(
    OUT relid oid, OUT schema_name name, OUT table_name name)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid, n.nspname, c.relname
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r'
       AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmaint')
       AND n.nspname !~ '^pg_toast'
       AND c.oid NOT IN (SELECT d.objid FROM pg_depend d  -- the tables extensions own, as one hashed set
                          WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
                            AND d.deptype = 'e');
$$;

COMMENT ON FUNCTION pgmaint._policy_tables() IS
'Internal: ordinary user tables (partitions included) the policy may classify: no system catalog, temporary table or table that belongs to an extension.';

REVOKE ALL ON FUNCTION pgmaint._policy_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._policy_tables() TO pg_monitor;

-- Internal: snapshots the write counters of every user table and prunes old snapshots.
CREATE OR REPLACE FUNCTION pgmaint._snapshot_activity(caller name)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken bigint;
BEGIN
    IF NOT pgmaint._authorized(caller, NULL) THEN
        RAISE EXCEPTION 'permission denied to take activity snapshots'
              USING ERRCODE = '42501',
                    HINT = 'Snapshots are taken by pgmaint.run_policy() and apply_policy().';
    END IF;
    INSERT INTO pgmaint.table_activity (relid, taken_at, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup)
    SELECT t.relid, now(),
           pg_stat_get_tuples_inserted(t.relid), pg_stat_get_tuples_updated(t.relid),
           pg_stat_get_tuples_deleted(t.relid), pg_stat_get_live_tuples(t.relid)
      FROM pgmaint._policy_tables() t
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS taken = ROW_COUNT;
    -- policy rows of tables that are gone without a sql_drop event (a
    -- temporary table at the end of its session)
    DELETE FROM pgmaint.table_policy p
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                        WHERE c.oid OPERATOR(pg_catalog.=) p.relid::oid);
    PERFORM pgmaint._prune_activity();
    RETURN taken;
END
$$;

COMMENT ON FUNCTION pgmaint._snapshot_activity(name) IS
'Internal: appends one table_activity row per user table (once per transaction) and prunes old snapshots, on behalf of caller.';

REVOKE ALL ON FUNCTION pgmaint._snapshot_activity(name) FROM PUBLIC;

-- Internal: deletes snapshots past the window and those of tables that no longer exist.
CREATE OR REPLACE FUNCTION pgmaint._prune_activity()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pruned bigint;
BEGIN
    DELETE FROM pgmaint.table_activity a
     WHERE a.taken_at < now() - pgmaint._activity_window()
        OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = a.relid);
    GET DIAGNOSTICS pruned = ROW_COUNT;
    RETURN pruned;
END
$$;

COMMENT ON FUNCTION pgmaint._prune_activity() IS
'Internal: deletes table_activity rows older than the rate window or of dropped tables; returns how many.';

REVOKE ALL ON FUNCTION pgmaint._prune_activity() FROM PUBLIC;

-- Internal: how far back rates look: 24 hours, or pgmaint.history_retention when shorter.
CREATE OR REPLACE FUNCTION pgmaint._activity_window()
RETURNS interval
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT least(interval '24 hours', pgmaint._setting('pgmaint.history_retention')::interval);
$$;

COMMENT ON FUNCTION pgmaint._activity_window() IS
'Internal: the window recommend_profiles() measures rates over: 24 hours, or pgmaint.history_retention when shorter.';

REVOKE ALL ON FUNCTION pgmaint._activity_window() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._activity_window() TO pg_monitor;

-- Internal: the classification rules (documented in docs/policy.md).
-- Like recommend_profiles(), a SQL-standard body, resolved when it is created
-- (so a caller's search_path cannot change it), and set-returning, so that
-- recommend_profiles() inlines it: called per table as a function with SET
-- search_path it took a quarter of a second at 10,000 tables.
CREATE OR REPLACE FUNCTION pgmaint._classify(inserts numeric, updates numeric, deletes numeric,
                                  rows numeric, hours numeric)
RETURNS TABLE (profile text, reason text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
               WHEN w < 1000 OR w / h < 60 THEN NULL
               WHEN m >= 0.20 * w AND m / h >= 0.20 * r THEN 'high_churn'
               WHEN inserts >= 0.95 * w AND m = 0 THEN 'append_only'
               WHEN inserts >= 0.95 * w THEN 'insert_heavy'
               ELSE 'moderate'
           END,
           CASE
               WHEN w < 1000 OR w / h < 60 THEN
                   format('too little activity to judge: %s row writes, %s per hour (needs 1000 and 60 per hour)',
                          w, round(w / h, 1))
               WHEN m >= 0.20 * w AND m / h >= 0.20 * r THEN
                   format('updates and deletes are %s%% of writes and %s%% of the table''s %s rows per hour (high churn from 20%% and 20%%)',
                          round(100 * m / w), round(100 * m / h / r), rows)
               WHEN inserts >= 0.95 * w AND m = 0 THEN
                   format('only inserts (%s), no update or delete', inserts)
               WHEN inserts >= 0.95 * w THEN
                   format('inserts are %s%% of writes (insert heavy from 95%%)', round(100 * inserts / w, 1))
               ELSE
                   format('mixed writes: %s%% inserts, %s%% updates and deletes, %s%% of the rows per hour',
                          round(100 * inserts / w), round(100 * m / w), round(100 * m / h / r))
           END
      FROM (SELECT inserts + updates + deletes AS w, updates + deletes AS m,
                   greatest(rows, 1) AS r, greatest(hours, 1.0 / 60) AS h) x;
END;

COMMENT ON FUNCTION pgmaint._classify(numeric, numeric, numeric, numeric, numeric) IS
'Internal: the suggested profile and its reason for a table''s inserts, updates and deletes over hours, given its rows (NULL profile: too little activity); one row.';

REVOKE ALL ON FUNCTION pgmaint._classify(numeric, numeric, numeric, numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._classify(numeric, numeric, numeric, numeric, numeric) TO pg_monitor;

-- A SQL-standard body (no SET search_path, which would keep it from being
-- inlined): a caller that counts its rows, as checklist() does, does not pay
-- for the reasons it does not read.
CREATE OR REPLACE FUNCTION pgmaint.recommend_profiles(
    OUT relid regclass, OUT schema_name name, OUT table_name name, OUT rows bigint,
    OUT inserts_per_hour numeric, OUT updates_per_hour numeric, OUT deletes_per_hour numeric,
    OUT current_profile text, OUT suggested_profile text, OUT reason text,
    OUT pinned boolean, OUT basis text, OUT measured_since timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH params AS (
        SELECT pg_stat_get_db_stat_reset_time(d.oid) AS reset_at,
               pgmaint._activity_window() AS win
          FROM pg_database d WHERE d.datname = current_database()
    ),
    live AS (
        SELECT t.relid, t.schema_name, t.table_name,
               pg_stat_get_live_tuples(t.relid) AS n_live,
               pg_stat_get_tuples_inserted(t.relid) AS ins,
               pg_stat_get_tuples_updated(t.relid) AS upd,
               pg_stat_get_tuples_deleted(t.relid) AS del
          FROM pgmaint._policy_tables() t
    ),
    hist AS (
        SELECT DISTINCT ON (a.relid) a.relid, a.taken_at, a.n_tup_ins, a.n_tup_upd, a.n_tup_del
          FROM pgmaint.table_activity a, params
         WHERE a.taken_at >= now() - params.win
           AND a.taken_at <= now() - interval '5 minutes'
           AND (params.reset_at IS NULL OR a.taken_at > params.reset_at)
         ORDER BY a.relid, a.taken_at
    ),
    measured AS (
        SELECT l.*, covered,
               CASE WHEN covered THEN h.taken_at
                    ELSE coalesce(params.reset_at, pg_postmaster_start_time()) END AS since,
               l.ins - CASE WHEN covered THEN h.n_tup_ins ELSE 0 END AS d_ins,
               l.upd - CASE WHEN covered THEN h.n_tup_upd ELSE 0 END AS d_upd,
               l.del - CASE WHEN covered THEN h.n_tup_del ELSE 0 END AS d_del
          FROM live l
          CROSS JOIN params
          LEFT JOIN hist h ON h.relid = l.relid
          CROSS JOIN LATERAL (SELECT h.relid IS NOT NULL AND h.n_tup_ins <= l.ins
                                     AND h.n_tup_upd <= l.upd AND h.n_tup_del <= l.del AS covered) c
    )
    SELECT m.relid::regclass, m.schema_name, m.table_name, m.n_live,
           round(m.d_ins / x.hours, 1), round(m.d_upd / x.hours, 1), round(m.d_del / x.hours, 1),
           p.profile, k.profile, k.reason, coalesce(p.pinned, false),
           CASE WHEN m.covered THEN 'history' ELSE 'since_reset' END, m.since
      FROM measured m
      CROSS JOIN LATERAL (SELECT greatest(extract(epoch FROM now() - m.since) / 3600, 1.0 / 60)::numeric AS hours) x
      CROSS JOIN LATERAL pgmaint._classify(m.d_ins, m.d_upd, m.d_del, m.n_live, x.hours) k
      LEFT JOIN pgmaint.table_policy p ON p.relid = m.relid
     ORDER BY m.schema_name, m.table_name;
END;

COMMENT ON FUNCTION pgmaint.recommend_profiles() IS
'Per user table: rows, inserts/updates/deletes per hour (from pgmaint''s snapshots when they cover the table, else since the statistics reset), the current and suggested autovacuum profile and why.';

REVOKE ALL ON FUNCTION pgmaint.recommend_profiles() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.recommend_profiles() TO pg_monitor;

-- pgmaint's code: every function, procedure and trigger, written once as
-- CREATE OR REPLACE with its COMMENT and its privileges beside it.  A fresh
-- install runs sql/code/*.sql after sql/state/*.sql, and every upgrade
-- replays them after its state delta (sql/upgrade/), so both end with the
-- same definitions (test/suites/upgrade.sh compares the catalogs).  A change
-- of a function's result type, OUT columns or argument names cannot be
-- replayed: the delta DROPs the old one first.
--
-- Every function pins search_path; every object is schema-qualified.
-- Privileges, by name: nobody but the extension's owner may call a function
-- until it is granted beside its definition (REVOKE ALL ... FROM PUBLIC
-- first):
--  - read functions, and the internals they call as their invoker: pg_monitor;
--  - action functions: nobody (superusers, or an explicit GRANT; grant_tuning()
--    hands a role what tune_table()/reset_table()/apply_policy() need);
--  - SECURITY DEFINER writers, trigger and event-trigger functions: nobody.
-- docs/security.md has the matrix; test/suites/privileges.sh holds every
-- install to it.

-- Settings of the library, readable from SQL in every backend.
CREATE OR REPLACE FUNCTION pgmaint.preloaded()
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_preloaded';

COMMENT ON FUNCTION pgmaint.preloaded() IS
'True when pgmaint is loaded through shared_preload_libraries (the worker and the ring need it).';

REVOKE ALL ON FUNCTION pgmaint.preloaded() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.preloaded() TO pg_monitor;

-- A pgmaint.* setting's value.  The defaults are written once, in
-- src/pgmaint.c: calling this C function loads the library, which defines
-- the settings, so SQL never needs a fallback copy of a default.
CREATE OR REPLACE FUNCTION pgmaint._setting(name text)
RETURNS text
LANGUAGE c STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_setting';

COMMENT ON FUNCTION pgmaint._setting(text) IS
'Internal: the value of a pgmaint.* setting (as SHOW gives it), read after loading the library so that its default is the C one.';

REVOKE ALL ON FUNCTION pgmaint._setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._setting(text) TO pg_monitor;

-- Trigger for configuration tables: an INSERT of an existing key (the
-- trigger's argument names the key column) updates that row instead, so that
-- a restored dump, which re-inserts every row, keeps users' edits.
CREATE OR REPLACE FUNCTION pgmaint._upsert_by_key()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key     text := TG_ARGV[0];
    columns text;
    updated bigint;
BEGIN
    SELECT string_agg(format('%I = ($1).%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
      INTO columns
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname <> key;
    EXECUTE format('UPDATE %I.%I SET %s WHERE %I = ($1).%I',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME, columns, key, key)
      USING NEW;
    GET DIAGNOSTICS updated = ROW_COUNT;
    IF updated > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgmaint._upsert_by_key() IS
'Trigger: an INSERT of an existing key (column named by the trigger argument) updates that row; keeps edits across pg_dump/pg_restore.';

REVOKE ALL ON FUNCTION pgmaint._upsert_by_key() FROM PUBLIC;

CREATE OR REPLACE TRIGGER thresholds_upsert
    BEFORE INSERT ON pgmaint.thresholds
    FOR EACH ROW EXECUTE FUNCTION pgmaint._upsert_by_key('check_name');

-- Writes one audit row; the actor is the session's login role.
CREATE OR REPLACE FUNCTION pgmaint._audit(action text, target text, detail jsonb, dry_run boolean)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO pgmaint.actions (actor, action, target, detail, dry_run)
    VALUES (session_user, $1, $2, $3, $4);
$$;

COMMENT ON FUNCTION pgmaint._audit(text, text, jsonb, boolean) IS
'Internal: appends a row to pgmaint.actions on behalf of an action function; the actor is session_user.';

REVOKE ALL ON FUNCTION pgmaint._audit(text, text, jsonb, boolean) FROM PUBLIC;

-- Grades a value against its thresholds: higher is worse unless critical < warning.
CREATE OR REPLACE FUNCTION pgmaint._grade(value numeric, warning numeric, critical numeric)
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_grade';

COMMENT ON FUNCTION pgmaint._grade(numeric, numeric, numeric) IS
'Internal: ok, warning, critical or unknown (NULL value) for a value and its thresholds; when critical is below warning, lower values are worse (src/status.c).';

REVOKE ALL ON FUNCTION pgmaint._grade(numeric, numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._grade(numeric, numeric, numeric) TO pg_monitor;

-- The statuses' order and the overall rule have one home, src/status.c.
CREATE OR REPLACE FUNCTION pgmaint._status_order(status text)
RETURNS int
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_status_order';

COMMENT ON FUNCTION pgmaint._status_order(text) IS
'Internal: sort order of statuses, best first: 0 ok, 1 unknown, 2 warning, 3 critical (src/status.c).';

REVOKE ALL ON FUNCTION pgmaint._status_order(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._status_order(text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._status_metric(status text)
RETURNS int
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_status_metric';

COMMENT ON FUNCTION pgmaint._status_metric(text) IS
'Internal: the value of pgmaint_check_status in metrics(): 0 ok, 1 warning, 2 critical, -1 unknown (src/status.c).';

REVOKE ALL ON FUNCTION pgmaint._status_metric(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._status_metric(text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint._overall_status(statuses text[], failed boolean[])
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_overall_status';

COMMENT ON FUNCTION pgmaint._overall_status(text[], boolean[]) IS
'Internal: the overall status of a set of checks, the worst: a check unknown for lack of data counts as ok, one whose measurement failed (failed[i]) as warning; never unknown (src/status.c).';

REVOKE ALL ON FUNCTION pgmaint._overall_status(text[], boolean[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._overall_status(text[], boolean[]) TO pg_monitor;

-- pgmaint install script, assembled from sql/install/*.sql in name order.
-- Every function pins search_path; every object is schema-qualified.

\echo Use "CREATE EXTENSION pgmaint" to load this file. \quit

GRANT USAGE ON SCHEMA pgmaint TO pg_monitor;

-- Settings of the library, readable from SQL in every backend.
CREATE FUNCTION pgmaint.preloaded()
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_preloaded';

COMMENT ON FUNCTION pgmaint.preloaded() IS
'True when pgmaint is loaded through shared_preload_libraries (the worker and the ring need it).';

GRANT EXECUTE ON FUNCTION pgmaint.preloaded() TO pg_monitor;

-- A pgmaint.* setting's value.  The defaults are written once, in
-- src/pgmaint.c: calling this C function loads the library, which defines
-- the settings, so SQL never needs a fallback copy of a default.
CREATE FUNCTION pgmaint._setting(name text)
RETURNS text
LANGUAGE c STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_setting';

COMMENT ON FUNCTION pgmaint._setting(text) IS
'Internal: the value of a pgmaint.* setting (as SHOW gives it), read after loading the library so that its default is the C one.';

REVOKE ALL ON FUNCTION pgmaint._setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._setting(text) TO pg_monitor;

-- Alert thresholds of health(); an INSERT of an existing check updates it.
CREATE TABLE pgmaint.thresholds (
    check_name  text PRIMARY KEY,
    warning     numeric,
    critical    numeric,
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT ''
);

COMMENT ON TABLE pgmaint.thresholds IS
'Warning and critical levels of each health() check; when critical is below warning, lower values are worse. enabled = false omits the check.';

-- Trigger for configuration tables: an INSERT of an existing key (the
-- trigger's argument names the key column) updates that row instead, so that
-- a restored dump, which re-inserts every row, keeps users' edits.
CREATE FUNCTION pgmaint._upsert_by_key()
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

CREATE TRIGGER thresholds_upsert
    BEFORE INSERT ON pgmaint.thresholds
    FOR EACH ROW EXECUTE FUNCTION pgmaint._upsert_by_key('check_name');

SELECT pg_catalog.pg_extension_config_dump('pgmaint.thresholds', '');

GRANT SELECT ON pgmaint.thresholds TO pg_monitor;

-- Audit log of every action and dry run.
CREATE TABLE pgmaint.actions (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor   name NOT NULL DEFAULT session_user,
    action  text NOT NULL,
    target  text,
    detail  jsonb,
    dry_run boolean NOT NULL DEFAULT false
);

COMMENT ON TABLE pgmaint.actions IS
'Audit log: one row per action pgmaint took or, with dry_run, would have taken.';

GRANT SELECT ON pgmaint.actions TO pg_monitor;

-- Writes one audit row; the actor is the session's login role.
CREATE FUNCTION pgmaint._audit(action text, target text, detail jsonb, dry_run boolean)
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
CREATE FUNCTION pgmaint._grade(value numeric, warning numeric, critical numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN value IS NULL THEN 'unknown'
        WHEN warning IS NOT NULL AND critical IS NOT NULL AND critical < warning THEN
            CASE WHEN value <= critical THEN 'critical'
                 WHEN value <= warning THEN 'warning'
                 ELSE 'ok' END
        WHEN critical IS NOT NULL AND value >= critical THEN 'critical'
        WHEN warning IS NOT NULL AND value >= warning THEN 'warning'
        ELSE 'ok'
    END;
$$;

COMMENT ON FUNCTION pgmaint._grade(numeric, numeric, numeric) IS
'Internal: ok, warning, critical or unknown (NULL value) for a value and its thresholds.';

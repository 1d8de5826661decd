-- Autovacuum profiles and the per-table policy record (used by the policy
-- and by the statistics functions that report a table's profile).

-- An INSERT of an existing profile updates it (pg_restore keeps users' edits).
CREATE OR REPLACE TRIGGER profiles_upsert
    BEFORE INSERT ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._upsert_by_key('name');

-- Refuses a profile whose options ALTER TABLE ... SET would reject, or that
-- sets anything but autovacuum_*, toast.autovacuum_* and fillfactor.
CREATE OR REPLACE FUNCTION pgmaint._validate_reloptions(profile text, options text[])
RETURNS void
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'pgmaint_validate_reloptions';

COMMENT ON FUNCTION pgmaint._validate_reloptions(text, text[]) IS
'Internal: raises an error unless every option is name=value with an autovacuum_*, toast.autovacuum_* or fillfactor name and a value the server''s reloption parser accepts.';

REVOKE ALL ON FUNCTION pgmaint._validate_reloptions(text, text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmaint._profiles_validate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pgmaint._validate_reloptions(NEW.name, NEW.reloptions);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgmaint._profiles_validate() IS
'Trigger: checks a profile''s reloptions with the server''s own parser before it is stored (as the extension''s owner, so that any role allowed to edit profiles can).';

REVOKE ALL ON FUNCTION pgmaint._profiles_validate() FROM PUBLIC;

-- Fires after profiles_upsert (triggers fire in name order), so that the
-- UPDATE an upsert turns into is checked by the UPDATE trigger.
CREATE OR REPLACE TRIGGER profiles_validate
    BEFORE INSERT OR UPDATE OF name, reloptions ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._profiles_validate();

-- Forgets the policy rows, snapshots and advice of dropped tables.  Runs as
-- the extension's owner: whoever drops a table may not write these tables.
CREATE OR REPLACE FUNCTION pgmaint._forget_dropped()
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
    DELETE FROM pgmaint.table_policy WHERE relid::oid = ANY (dropped);
    DELETE FROM pgmaint.table_activity WHERE relid = ANY (dropped);
    DELETE FROM pgmaint.policy_advice WHERE relid = ANY (dropped);
END
$$;

COMMENT ON FUNCTION pgmaint._forget_dropped() IS
'Event trigger: removes the table_policy, table_activity and policy_advice rows of dropped tables.';

REVOKE ALL ON FUNCTION pgmaint._forget_dropped() FROM PUBLIC;

DO $$
BEGIN
    -- replayed by every upgrade: no CREATE OR REPLACE for event triggers
    IF EXISTS (SELECT FROM pg_catalog.pg_event_trigger WHERE evtname = 'pgmaint_forget_dropped') THEN
        DROP EVENT TRIGGER pgmaint_forget_dropped;
    END IF;
END
$$;

CREATE EVENT TRIGGER pgmaint_forget_dropped ON sql_drop
    EXECUTE FUNCTION pgmaint._forget_dropped();

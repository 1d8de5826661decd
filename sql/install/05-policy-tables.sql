-- Autovacuum profiles and the per-table policy record (used by the policy
-- and by the statistics functions that report a table's profile).

CREATE TABLE pgmaint.profiles (
    name        text PRIMARY KEY CHECK (name <> ''),
    reloptions  text[] NOT NULL,
    description text NOT NULL DEFAULT ''
);

COMMENT ON TABLE pgmaint.profiles IS
'Per-table autovacuum profiles: name, the reloptions a table tuned with it gets, and what it is for. Users may add rows.';

INSERT INTO pgmaint.profiles (name, reloptions, description) VALUES
    ('high_churn',
     '{autovacuum_vacuum_scale_factor=0.05,autovacuum_vacuum_threshold=25,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10}',
     'Heavy updates and deletes (a cache or queue table): vacuum at 5% dead rows, analyze at 2% changes, less throttling.'),
    ('insert_heavy',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=100}',
     'Mostly inserts with few updates (usage or metrics rows): vacuum less often, analyze often enough for planning.'),
    ('append_only',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}',
     'Inserts only, occasional cleanup (an event or audit log).'),
    ('moderate',
     '{autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=50}',
     'Steady mixed writes (ordinary application tables).');

-- An INSERT of an existing profile updates it (pg_restore keeps users' edits).
CREATE TRIGGER profiles_upsert
    BEFORE INSERT ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._upsert_by_key('name');

-- Refuses a profile whose options ALTER TABLE ... SET would reject, or that
-- sets anything but autovacuum_*, toast.autovacuum_* and fillfactor.
CREATE FUNCTION pgmaint._validate_reloptions(profile text, options text[])
RETURNS void
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'pgmaint_validate_reloptions';

COMMENT ON FUNCTION pgmaint._validate_reloptions(text, text[]) IS
'Internal: raises an error unless every option is name=value with an autovacuum_*, toast.autovacuum_* or fillfactor name and a value the server''s reloption parser accepts.';

CREATE FUNCTION pgmaint._profiles_validate()
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

-- Fires after profiles_upsert (triggers fire in name order), so that the
-- UPDATE an upsert turns into is checked by the UPDATE trigger.
CREATE TRIGGER profiles_validate
    BEFORE INSERT OR UPDATE OF name, reloptions ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._profiles_validate();

SELECT pg_catalog.pg_extension_config_dump('pgmaint.profiles', '');
GRANT SELECT ON pgmaint.profiles TO pg_monitor;

CREATE TABLE pgmaint.table_policy (
    relid      regclass PRIMARY KEY,
    profile    text NOT NULL REFERENCES pgmaint.profiles (name) ON UPDATE CASCADE,
    source     text NOT NULL CHECK (source IN ('manual', 'policy')),
    pinned     boolean NOT NULL DEFAULT false,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    options    text[] NOT NULL DEFAULT '{}',
    replaced   text[] NOT NULL DEFAULT '{}'
);

COMMENT ON TABLE pgmaint.table_policy IS
'Which profile pgmaint applied to which table, whether by hand (manual, pinned) or by the policy; options are the reloptions pgmaint set, replaced the table''s own values they overwrote (restored by reset_table).';

SELECT pg_catalog.pg_extension_config_dump('pgmaint.table_policy', '');
GRANT SELECT ON pgmaint.table_policy TO pg_monitor;

-- Per-table write counters taken by each policy run; recommend_profiles()
-- derives rates per hour between a snapshot and the live counters.  Pruned
-- by the policy run and prune_history(); not dumped (it is measurement).
CREATE TABLE pgmaint.table_activity (
    relid      oid NOT NULL,
    taken_at   timestamptz NOT NULL,
    n_tup_ins  bigint NOT NULL,
    n_tup_upd  bigint NOT NULL,
    n_tup_del  bigint NOT NULL,
    n_live_tup bigint NOT NULL,
    PRIMARY KEY (relid, taken_at)
);

CREATE INDEX table_activity_taken_at ON pgmaint.table_activity (taken_at);

COMMENT ON TABLE pgmaint.table_activity IS
'Snapshots of each user table''s insert, update and delete counters, taken by the policy run; the history recommend_profiles() computes rates from.';

GRANT SELECT ON pgmaint.table_activity TO pg_monitor;

-- Suggestions the policy has already logged in advise mode (each once).
CREATE TABLE pgmaint.policy_advice (
    relid      oid PRIMARY KEY,
    profile    text NOT NULL,
    reason     text NOT NULL,
    advised_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE pgmaint.policy_advice IS
'Suggestions the policy logged in advise mode; a suggestion is logged again only once it changed or went away and came back.';

GRANT SELECT ON pgmaint.policy_advice TO pg_monitor;

-- Forgets the policy rows, snapshots and advice of dropped tables.  Runs as
-- the extension's owner: whoever drops a table may not write these tables.
CREATE FUNCTION pgmaint._forget_dropped()
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

CREATE EVENT TRIGGER pgmaint_forget_dropped ON sql_drop
    EXECUTE FUNCTION pgmaint._forget_dropped();

-- Autovacuum profiles and the per-table policy record (used by the policy
-- and by the statistics functions that report a table's profile).

CREATE TABLE pgmaint.profiles (
    name        text PRIMARY KEY,
    reloptions  text[] NOT NULL,
    description text NOT NULL DEFAULT ''
);

COMMENT ON TABLE pgmaint.profiles IS
'Per-table autovacuum profiles: name, the reloptions a table tuned with it gets, and what it is for. Users may add rows.';

INSERT INTO pgmaint.profiles (name, reloptions, description) VALUES
    ('high_churn',
     '{autovacuum_vacuum_scale_factor=0.05,autovacuum_vacuum_threshold=25,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10}',
     'Heavy updates and deletes (agent_cache): vacuum at 5% dead rows, analyze at 2% changes, less throttling.'),
    ('insert_heavy',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=100}',
     'Mostly inserts with few updates (token_usage): vacuum less often, analyze often enough for planning.'),
    ('append_only',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}',
     'Inserts only, occasional cleanup (tool_call_log).'),
    ('moderate',
     '{autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=50}',
     'Steady mixed writes (thread_messages).');

-- Turns an INSERT of an existing profile into an UPDATE, so that a restored
-- dump (which re-inserts every row) keeps users' edits and rows.
CREATE FUNCTION pgmaint._profiles_upsert()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE pgmaint.profiles p
       SET reloptions = NEW.reloptions, description = NEW.description
     WHERE p.name = NEW.name;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgmaint._profiles_upsert() IS
'Trigger: an INSERT of an existing profile name updates that row (keeps edits across pg_dump/pg_restore).';

CREATE TRIGGER profiles_upsert
    BEFORE INSERT ON pgmaint.profiles
    FOR EACH ROW EXECUTE FUNCTION pgmaint._profiles_upsert();

SELECT pg_catalog.pg_extension_config_dump('pgmaint.profiles', '');
GRANT SELECT ON pgmaint.profiles TO pg_monitor;

CREATE TABLE pgmaint.table_policy (
    relid      regclass PRIMARY KEY,
    profile    text NOT NULL REFERENCES pgmaint.profiles (name) ON UPDATE CASCADE,
    source     text NOT NULL CHECK (source IN ('manual', 'policy')),
    pinned     boolean NOT NULL DEFAULT false,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE pgmaint.table_policy IS
'Which profile pgmaint applied to which table, whether by hand (manual, pinned) or by the policy.';

SELECT pg_catalog.pg_extension_config_dump('pgmaint.table_policy', '');
GRANT SELECT ON pgmaint.table_policy TO pg_monitor;

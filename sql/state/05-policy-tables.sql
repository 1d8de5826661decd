-- Autovacuum profiles and the per-table policy record (used by the policy
-- and by the statistics functions that report a table's profile).

CREATE TABLE pgmaint.profiles (
    name        text PRIMARY KEY CHECK (name <> ''),
    reloptions  text[] NOT NULL,
    description text NOT NULL DEFAULT ''
);

COMMENT ON TABLE pgmaint.profiles IS
'Per-table autovacuum profiles: name, the reloptions a table tuned with it gets, and what it is for. Users may add rows.';

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

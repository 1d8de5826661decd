--
-- Autovacuum profiles, tune_table()/reset_table(), classification, apply_policy()
--
\set SHOW_CONTEXT never

-- the guide's four profiles, exactly
SELECT name, reloptions FROM pgmaint.profiles ORDER BY name;

-- users' rows: only autovacuum_*, toast.autovacuum_* and fillfactor, with
-- values the server's reloption parser accepts
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{work_mem=64MB}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{autovacuum_vacuum_scale_factor=101}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{autovacuum_vacuum_threshold=-1}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{autovacuum_vacuum_treshold=50}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{fillfactor=abc}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{fillfactor}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{toast.autovacuum_analyze_scale_factor=0.1}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{toast.fillfactor=50}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{other.autovacuum_enabled=off}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{autovacuum_enabled=off,autovacuum_enabled=on}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{NULL}');
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('bad', '{{autovacuum_enabled=on}}');
-- an edit of a shipped profile is checked too (the upsert of pg_restore turns into an UPDATE)
INSERT INTO pgmaint.profiles (name, reloptions) VALUES ('high_churn', '{autovacuum_vacuum_cost_delay=1000}');
UPDATE pgmaint.profiles SET reloptions = '{autovacuum_vacuum_cost_delay=1000}' WHERE name = 'moderate';
SELECT count(*) AS bad_rows FROM pgmaint.profiles WHERE name = 'bad';
INSERT INTO pgmaint.profiles (name, reloptions, description)
VALUES ('cache_fill', '{fillfactor=70,autovacuum_vacuum_scale_factor=0.01,toast.autovacuum_vacuum_scale_factor=0.05}',
        'hot updates on a cache');

-- tune_table: the profile's options, the table's other options kept
CREATE TABLE agent_cache (cache_key text PRIMARY KEY, value text, expires_at timestamptz);
ALTER TABLE agent_cache SET (autovacuum_vacuum_threshold = 200, autovacuum_freeze_min_age = 1000000);
SELECT pgmaint.tune_table('agent_cache', 'high_churn');
SELECT profile, source, pinned, options, replaced FROM pgmaint.table_policy
 WHERE relid = 'agent_cache'::regclass;
SELECT actor = session_user AS actor_is_session, action, target, detail->>'profile' AS profile, dry_run
  FROM pgmaint.actions ORDER BY id DESC LIMIT 1;
-- another profile: options the first set and the second does not go away
SELECT pgmaint.tune_table('agent_cache', 'insert_heavy');
-- toast options land on the TOAST table and are reported as toast.*
SELECT pgmaint.tune_table('agent_cache', 'cache_fill');
SELECT t.reloptions AS toast_reloptions FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
 WHERE c.oid = 'agent_cache'::regclass;
-- reset: exactly what pgmaint set goes; the value it replaced comes back
SELECT pgmaint.reset_table('agent_cache');
SELECT count(*) AS policy_rows FROM pgmaint.table_policy WHERE relid = 'agent_cache'::regclass;
SELECT reloptions AS toast_after_reset FROM pg_class
 WHERE oid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'agent_cache'::regclass);
SELECT action, detail->>'profile' AS profile FROM pgmaint.actions ORDER BY id DESC LIMIT 1;
-- an option the user changed after tuning is theirs: reset leaves it
SELECT pgmaint.tune_table('agent_cache', 'moderate');
ALTER TABLE agent_cache SET (autovacuum_analyze_scale_factor = 0.07);
SELECT pgmaint.reset_table('agent_cache');
ALTER TABLE agent_cache RESET (autovacuum_analyze_scale_factor, autovacuum_freeze_min_age);
-- nothing to reset
SELECT pgmaint.reset_table('agent_cache');

-- errors
SELECT pgmaint.tune_table('agent_cache', 'no_such_profile');
SELECT pgmaint.tune_table('agent_cache', NULL);
CREATE VIEW agent_cache_view AS SELECT * FROM agent_cache;
SELECT pgmaint.tune_table('agent_cache_view', 'moderate');
SELECT pgmaint.tune_table('agent_cache_pkey', 'moderate');
SELECT pgmaint.reset_table('agent_cache_view');
SELECT pgmaint.tune_table('pg_catalog.pg_class', 'moderate');
DROP VIEW agent_cache_view;
-- nothing was left half-applied by the failures
SELECT reloptions FROM pg_class WHERE oid = 'agent_cache'::regclass;
SELECT count(*) AS policy_rows FROM pgmaint.table_policy;

-- hostile names are quoted
CREATE SCHEMA "s; DROP TABLE agent_cache; --";
CREATE TABLE "s; DROP TABLE agent_cache; --"."t"" (x) = '1'" (id int);
SELECT pgmaint.tune_table('"s; DROP TABLE agent_cache; --"."t"" (x) = ''1''"', 'append_only');
SELECT relid::text, profile FROM pgmaint.table_policy;
-- dropping a tuned table forgets its policy row (event trigger)
DROP SCHEMA "s; DROP TABLE agent_cache; --" CASCADE;
SELECT count(*) AS policy_rows_after_drop FROM pgmaint.table_policy;

-- a partitioned table: its leaf partitions get the options
CREATE TABLE token_usage (id bigint, at date) PARTITION BY RANGE (at);
CREATE TABLE token_usage_2025 PARTITION OF token_usage FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE token_usage_2026 PARTITION OF token_usage FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
    PARTITION BY RANGE (at);
CREATE TABLE token_usage_2026h1 PARTITION OF token_usage_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
SELECT pgmaint.tune_table('token_usage', 'insert_heavy');
SELECT c.relname, c.reloptions, p.profile, p.pinned
  FROM pg_class c LEFT JOIN pgmaint.table_policy p ON p.relid = c.oid
 WHERE c.relname LIKE 'token_usage%' ORDER BY c.relname;
SELECT pgmaint.reset_table('token_usage');
SELECT count(*) AS tuned_partitions FROM pg_class
 WHERE relname LIKE 'token_usage%' AND reloptions IS NOT NULL;
DROP TABLE token_usage;

-- classification rules, at their thresholds
SELECT (pgmaint._classify(900, 50, 49, 1000, 1)).profile IS NULL AS under_1000_writes,
       (pgmaint._classify(1000, 0, 0, 1000, 20)).profile IS NULL AS under_60_per_hour,
       (pgmaint._classify(1000, 0, 0, 1000, 16)).profile AS at_60_per_hour,
       (pgmaint._classify(800, 150, 50, 1000, 1)).profile AS churn_at_20_20,
       (pgmaint._classify(800, 150, 50, 1001, 1)).profile AS churn_rows_too_many,
       (pgmaint._classify(801, 150, 49, 100, 1)).profile AS churn_share_too_low,
       (pgmaint._classify(950, 25, 25, 100000, 1)).profile AS inserts_95,
       (pgmaint._classify(949, 26, 25, 100000, 1)).profile AS inserts_94,
       (pgmaint._classify(5000, 0, 0, 100000, 1)).profile AS inserts_only,
       (pgmaint._classify(5000, 0, 1, 100000, 1)).profile AS one_delete;
SELECT reason FROM pgmaint._classify(800, 150, 50, 1000, 1);

-- a workload: agent_cache churns, tool_call_log only grows, token_usage is
-- insert heavy, thread_messages is mixed, quiet barely moves
CREATE TABLE token_usage (id bigint PRIMARY KEY, tokens int);
CREATE TABLE tool_call_log (id bigint, tool text);
CREATE TABLE thread_messages (id bigint PRIMARY KEY, body text);
CREATE TABLE quiet (id int);
INSERT INTO agent_cache SELECT g, 'v', now() FROM generate_series(1, 2000) g;
UPDATE agent_cache SET value = 'w';
UPDATE agent_cache SET value = 'x';
DELETE FROM agent_cache WHERE cache_key::int % 2 = 0;
INSERT INTO token_usage SELECT g, 10 FROM generate_series(1, 3000) g;
UPDATE token_usage SET tokens = 0 WHERE id <= 30;
INSERT INTO tool_call_log SELECT g, 'search' FROM generate_series(1, 3000) g;
INSERT INTO thread_messages SELECT g, 'hi' FROM generate_series(1, 2000) g;
UPDATE thread_messages SET body = 'edited' WHERE id <= 300;
INSERT INTO quiet SELECT generate_series(1, 50);
SELECT pg_stat_force_next_flush();
SELECT table_name, current_profile, suggested_profile, basis,
       inserts_per_hour > 0 AS inserting, updates_per_hour > 0 AS updating,
       deletes_per_hour > 0 AS deleting
  FROM pgmaint.recommend_profiles() ORDER BY table_name;

-- dry run: reports, audits as dry run, changes nothing
SELECT table_name, current_profile, suggested_profile, action FROM pgmaint.apply_policy();
SELECT count(*) AS dry_run_audits FROM pgmaint.actions WHERE action = 'apply_policy' AND dry_run;
SELECT count(*) AS policy_rows FROM pgmaint.table_policy;
SELECT relname, reloptions FROM pg_class
 WHERE relname IN ('agent_cache', 'token_usage', 'tool_call_log', 'thread_messages')
   AND reloptions IS NOT NULL;

-- a pinned table is left alone
SELECT pgmaint.tune_table('thread_messages', 'append_only');
SELECT table_name, current_profile, suggested_profile, action FROM pgmaint.apply_policy(false);
SELECT relname, reloptions FROM pg_class
 WHERE relname IN ('agent_cache', 'token_usage', 'tool_call_log', 'thread_messages', 'quiet')
 ORDER BY relname;
SELECT relid::text, profile, source, pinned FROM pgmaint.table_policy ORDER BY 1;
-- nothing left to do
SELECT count(*) AS second_run FROM pgmaint.apply_policy(false);
-- an edited profile is applied again to the tables the policy tuned with it,
-- not to pinned ones
BEGIN;
UPDATE pgmaint.profiles SET reloptions = reloptions || '{autovacuum_vacuum_insert_threshold=5000}'
 WHERE name IN ('append_only', 'high_churn');
SELECT table_name, current_profile, suggested_profile, action, detail FROM pgmaint.apply_policy(false);
SELECT relname, reloptions FROM pg_class WHERE relname IN ('tool_call_log', 'thread_messages') ORDER BY 1;
ROLLBACK;
SELECT pgmaint.apply_policy(NULL);
-- the nightly vacuum job's command covers the high_churn tables
SELECT pgmaint._vacuum_command();

-- history, in a database whose statistics were never reset (this one's were,
-- by the health test): a snapshot an hour old gives rates over that hour
CREATE DATABASE pgm_policy_history;
\c pgm_policy_history
SET client_min_messages = warning;
CREATE EXTENSION pgmaint;
\set SHOW_CONTEXT never
CREATE TABLE tool_call_log (id bigint);
INSERT INTO tool_call_log SELECT generate_series(1, 3000);
SELECT pg_stat_force_next_flush();
SELECT pg_stat_get_db_stat_reset_time(oid) IS NULL AS never_reset FROM pg_database
 WHERE datname = current_database();
BEGIN;
INSERT INTO pgmaint.table_activity (relid, taken_at, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup)
SELECT 'tool_call_log'::regclass, now() - interval '1 hour', 1000, 0, 0, 1000;
SELECT table_name, basis, inserts_per_hour, updates_per_hour,
       measured_since = now() - interval '1 hour' AS since_snapshot
  FROM pgmaint.recommend_profiles() WHERE table_name = 'tool_call_log';
COMMIT;
-- a snapshot newer than 5 minutes, or with counters above today's, is not history
UPDATE pgmaint.table_activity SET taken_at = now() - interval '1 minute';
SELECT basis FROM pgmaint.recommend_profiles() WHERE table_name = 'tool_call_log';
UPDATE pgmaint.table_activity SET taken_at = now() - interval '1 hour', n_tup_ins = 10000000;
SELECT basis FROM pgmaint.recommend_profiles() WHERE table_name = 'tool_call_log';
-- nor is one taken before the statistics were reset
SELECT pg_stat_reset();
UPDATE pgmaint.table_activity SET n_tup_ins = 0;
SELECT basis, inserts_per_hour FROM pgmaint.recommend_profiles() WHERE table_name = 'tool_call_log';
-- older than the 24-hour window: pruned
UPDATE pgmaint.table_activity SET taken_at = now() - interval '25 hours';
SELECT pgmaint.prune_history() AS pruned;
SELECT count(*) AS left_over FROM pgmaint.table_activity;
SELECT pgmaint.prune_history(interval '-1 day');
\c contrib_regression
DROP DATABASE pgm_policy_history;
\set SHOW_CONTEXT never

-- the policy run: off does nothing, advise logs each suggestion once
SELECT pgmaint.reset_table('token_usage') IS NOT NULL AS reset;
DELETE FROM pgmaint.table_activity;
SELECT count(*) AS off_rows FROM pgmaint.run_policy('off');
SELECT count(*) AS snapshots_after_off FROM pgmaint.table_activity;
SELECT table_name, suggested_profile, action FROM pgmaint.run_policy('advise');
SELECT count(*) AS advised_again FROM pgmaint.run_policy('advise');
SELECT relid::regclass, profile FROM pgmaint.policy_advice;
SELECT count(*) > 0 AS snapshots_taken FROM pgmaint.table_activity;
SELECT count(*) AS advise_audits FROM pgmaint.actions WHERE action = 'policy_advise' AND dry_run;
SELECT table_name, suggested_profile, action FROM pgmaint.run_policy('apply');
SELECT count(*) AS advice_left FROM pgmaint.policy_advice;
SELECT pgmaint.run_policy('sometimes');

-- pg_cron is not installed in this database (test/regress.conf names database
-- postgres in cron.database_name; pg_cron itself is not loaded)
SELECT pgmaint.schedule_maintenance();
SELECT pgmaint.unschedule_maintenance();

-- clean up: dropping the tables forgets them
DROP TABLE agent_cache, token_usage, tool_call_log, thread_messages, quiet;
SELECT count(*) AS policy_rows, (SELECT count(*) FROM pgmaint.table_activity) AS snapshots
  FROM pgmaint.table_policy;
DELETE FROM pgmaint.profiles WHERE name = 'cache_fill';

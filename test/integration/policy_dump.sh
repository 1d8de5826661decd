#!/usr/bin/env bash
# pg_dump of a database with tuned tables, users' profile rows and edited
# thresholds, restored into new databases (custom format with pg_restore, plain
# format with psql): profiles, table_policy, thresholds and reloptions are
# kept, and neither the dump nor the restore needs pg_cron.
set -u
. "$(dirname "$0")/../lib.sh"

work="$PGM_TMP/policy_dump"
mkdir -p "$work"
cleanup() {
	for db in pgm_dump_src pgm_dump_custom pgm_dump_plain; do
		q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	done
}
trap cleanup EXIT
cleanup

q -d postgres -c "CREATE DATABASE pgm_dump_src" >/dev/null
q -d pgm_dump_src <<'SQL' >/dev/null
CREATE EXTENSION pgmaint;
CREATE TABLE agent_cache (cache_key text PRIMARY KEY, value text);
CREATE TABLE token_usage (id bigint PRIMARY KEY, tokens int);
CREATE SCHEMA "Logs";
CREATE TABLE "Logs"."tool call log" (id bigint, tool text);
ALTER TABLE token_usage SET (autovacuum_vacuum_threshold = 500, autovacuum_freeze_max_age = 500000000);
INSERT INTO pgmaint.profiles (name, reloptions, description)
VALUES ('cache_fill', '{fillfactor=70,autovacuum_vacuum_scale_factor=0.01,toast.autovacuum_vacuum_scale_factor=0.05}',
        'a user''s profile');
UPDATE pgmaint.profiles SET reloptions = '{autovacuum_vacuum_scale_factor=0.15,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=60}',
       description = 'edited by the user' WHERE name = 'moderate';
SELECT pgmaint.tune_table('agent_cache', 'cache_fill');
SELECT pgmaint.tune_table('token_usage', 'insert_heavy');
SELECT pgmaint.tune_table('"Logs"."tool call log"', 'moderate');
UPDATE pgmaint.table_policy SET source = 'policy', pinned = false WHERE relid = 'token_usage'::regclass;
UPDATE pgmaint.thresholds SET warning = 70, critical = 90 WHERE check_name = 'connections';
SQL

# what must survive, as text
state() {
	q -d "$1" <<'SQL'
SELECT 'profile', name, reloptions::text, description FROM pgmaint.profiles ORDER BY name;
SELECT 'policy', relid::text, profile, source, pinned, applied_at, options::text, replaced::text
  FROM pgmaint.table_policy ORDER BY relid::text;
SELECT 'threshold', check_name, warning, critical, enabled FROM pgmaint.thresholds ORDER BY check_name;
SELECT 'reloptions', c.oid::regclass::text, c.reloptions::text, t.reloptions::text
  FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
 WHERE c.relkind = 'r' AND c.relnamespace::regnamespace::text IN ('public', '"Logs"')
 ORDER BY 2;
SQL
}
before=$(state pgm_dump_src)
is "$(echo "$before" | grep -c '^profile|') $(echo "$before" | grep -c '^policy|')" "5 3" \
	"the source has 5 profiles and 3 policy rows"

ok "pg_dump (custom format)" "$PGM_BIN/pg_dump" -Fc -f "$work/src.dump" pgm_dump_src
ok "pg_dump (plain format)" "$PGM_BIN/pg_dump" -Fp -f "$work/src.sql" pgm_dump_src
is "$(grep -ci 'cron' "$work/src.sql")" 0 "the dump does not mention pg_cron"

q -d postgres -c "CREATE DATABASE pgm_dump_custom" -c "CREATE DATABASE pgm_dump_plain" >/dev/null
ok "pg_restore into a new database succeeds" "$PGM_BIN/pg_restore" --exit-on-error -d pgm_dump_custom "$work/src.dump"
restore_plain() { q -d pgm_dump_plain -f "$work/src.sql" >/dev/null; }
ok "psql restore of the plain dump succeeds" restore_plain
is "$(q -d pgm_dump_custom -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")" 0 \
	"the restored database has no pg_cron"

is "$(state pgm_dump_custom)" "$before" "pg_restore keeps profiles, table_policy, thresholds and reloptions"
is "$(state pgm_dump_plain)" "$before" "the plain dump keeps them too"

# the restored policy works: reset restores the user's own value
is "$(q -d pgm_dump_custom -c "SELECT pgmaint.reset_table('token_usage')")" \
	"{autovacuum_freeze_max_age=500000000,autovacuum_vacuum_threshold=500}" \
	"reset_table in the restored database gives back the table's own values"
finish

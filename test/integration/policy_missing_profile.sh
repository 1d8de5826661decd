#!/usr/bin/env bash
# A renamed or deleted profile skips only the tables it would apply to
# (issue 13, item 3): apply_policy() and run_policy() go on with the others.
set -u
. "$(dirname "$0")/../lib.sh"

started=$(q -c "SELECT now()")
cleanup() {
	q -c "UPDATE pgmaint.profiles SET name = 'append_only' WHERE name = 'append_only_renamed'" >/dev/null 2>&1
	q -c "SELECT count(pgmaint.reset_table(relid)) FROM pgmaint.table_policy
	       WHERE source = 'policy' AND applied_at >= '$started'" >/dev/null 2>&1
	q -c "DROP SCHEMA IF EXISTS pmp CASCADE" -c "DELETE FROM pgmaint.policy_advice" >/dev/null 2>&1
}
trap cleanup EXIT

q <<'SQL' >/dev/null
CREATE SCHEMA pmp;
CREATE TABLE pmp.only_inserts (id int);
CREATE TABLE pmp.churn (id int PRIMARY KEY, v int);
INSERT INTO pmp.only_inserts SELECT g FROM generate_series(1, 5000) g;
INSERT INTO pmp.churn SELECT g, 0 FROM generate_series(1, 1000) g;
UPDATE pmp.churn SET v = 1;
UPDATE pmp.churn SET v = 2;
UPDATE pmp.churn SET v = 3;
SELECT pg_stat_force_next_flush();
SQL
ok "the policy suggests append_only and high_churn for the two tables" \
	wait_for "SELECT count(*) = 2 FROM pgmaint.recommend_profiles()
	           WHERE (relid = 'pmp.only_inserts'::regclass AND suggested_profile = 'append_only')
	              OR (relid = 'pmp.churn'::regclass AND suggested_profile = 'high_churn')" 30

q -c "UPDATE pgmaint.profiles SET name = 'append_only_renamed' WHERE name = 'append_only'" >/dev/null
out=$(q -F '|' -c "SELECT relid, action, CASE WHEN action = 'skipped' THEN detail END FROM pgmaint.apply_policy(false)
                    WHERE relid IN ('pmp.only_inserts'::regclass, 'pmp.churn'::regclass) ORDER BY relid::text" 2>&1)
is "$out" "$(printf 'pmp.churn|tuned|\npmp.only_inserts|skipped|profile append_only does not exist')" \
	"apply_policy() skips the table of the missing profile and tunes the other"
is "$(q -c "SELECT profile FROM pgmaint.table_policy WHERE relid = 'pmp.churn'::regclass")" high_churn \
	"the other table is tuned high_churn"
ok "run_policy('advise') runs without the profile" q -o /dev/null -c "SELECT count(*) FROM pgmaint.run_policy('advise')"
is "$(q -c "SELECT action || ': ' || detail FROM pgmaint.run_policy('advise') WHERE relid = 'pmp.only_inserts'::regclass")" \
	"skipped: profile append_only does not exist" "and says why it skips the table"

finish

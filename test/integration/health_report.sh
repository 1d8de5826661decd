#!/usr/bin/env bash
# report() and checklist() on the live test cluster: every section answers,
# the report fits 100 columns, checklist items follow the evidence.
set -u
. "$(dirname "$0")/../lib.sh"

restore() {
	local s
	for s in log_checkpoints log_connections log_disconnections log_lock_waits \
		log_autovacuum_min_duration log_temp_files log_min_duration_statement; do
		q -c "ALTER SYSTEM RESET $s" >/dev/null
	done
	q -c "SELECT pg_reload_conf()" -c "DROP TABLE IF EXISTS rep_child, rep_parent" >/dev/null
}
trap restore EXIT

# a table with a foreign key but no index on it, so index advice has something to say
q -c "CREATE TABLE rep_parent (id int PRIMARY KEY); CREATE TABLE rep_child (id int PRIMARY KEY, parent int REFERENCES rep_parent)"
q -c "SELECT pg_stat_force_next_flush()" >/dev/null

q -c "SELECT pgmaint.report()" >"$PGM_TMP/report.txt"
is "$(grep -c 'unavailable' "$PGM_TMP/report.txt")" 0 "every section of report() answers"
for section in Checks Connections 'Leaked sessions' 'Lock waits' 'Cache hit ratio' Vacuum Sizes 'Index advice' \
	'Autovacuum policy suggestions' 'Settings advice'; do
	ok "report() has the section '$section'" grep -q "^$section" "$PGM_TMP/report.txt"
done
ok "report() names the foreign key without an index" grep -q 'rep_child' "$PGM_TMP/report.txt"
# characters, not bytes: the sparklines are multibyte (mawk's length() counts bytes)
widest() {
	/usr/bin/python3 -c 'import sys; print(max((len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")), default=0))' "$1"
}
is "$(($(widest "$PGM_TMP/report.txt") <= 100))" 1 \
	"report() fits 100 columns (unaligned)"
psql -X -c "SELECT pgmaint.report()" >"$PGM_TMP/report-aligned.txt"
is "$(($(widest "$PGM_TMP/report-aligned.txt") <= 100))" 1 \
	"report() fits 100 columns in psql's aligned format"

is "$(q -c "SELECT count(*) FROM pgmaint.checklist()")" 8 "checklist() has the guide's eight items"
is "$(q -c "SELECT count(*) FROM pgmaint.checklist() WHERE status NOT IN ('pass', 'fail', 'unknown')")" 0 \
	"every item is pass, fail or unknown"
is "$(q -c "SELECT count(*) FROM pgmaint.checklist() WHERE status = 'unknown'")" 0 \
	"every item's evidence can be read by a superuser"
# (the worker connects a few seconds after the test database is created)
wait_for "SELECT running FROM pgmaint.sampler_status()" 60
is "$(q -c "SELECT status FROM pgmaint.checklist() WHERE item = 'monitoring'")" pass "monitoring passes while the sampler runs"
is "$(q -c "SELECT status FROM pgmaint.checklist() WHERE item = 'backups'")" fail "backups fail when none is recorded"
is "$(q -c "SELECT status FROM pgmaint.checklist() WHERE item = 'indexes on keys and foreign keys'")" fail \
	"an unindexed foreign key fails the index item"

is "$(q -c "SELECT status FROM pgmaint.checklist() WHERE item = 'logging'")" fail "logging fails with the defaults"
fix=$(q -c "SELECT fix FROM pgmaint.checklist() WHERE item = 'logging'")
# ALTER SYSTEM cannot run in a multi-statement string: one -c per statement
args=()
IFS=';' read -ra stmts <<<"$fix"
for st in "${stmts[@]}"; do [ -n "${st// /}" ] && args+=(-c "$st"); done
ok "the logging fix runs" q "${args[@]}" -o /dev/null
ok "logging passes after its fix" \
	wait_for "SELECT status = 'pass' FROM pgmaint.checklist() WHERE item = 'logging'" 30
finish

#!/usr/bin/env bash
# pgmaint_backup: backup, verify, restore of a dropped table, a truncated
# archive, a failing pg_dump, and usage errors.
set -u
. "$(dirname "$0")/../lib.sh"

B="$PGM_BIN/pgmaint_backup"
dir="$PGM_TMP/backup_cycle"
restored="pgm_bk_restored"
odd="pgm bk \"odd\" 'name'"

# Drops what this script created and forgets its backups.
cleanup() {
	psql -X -q -d postgres -v a="$restored" -v b="$odd" >/dev/null 2>&1 <<'SQL'
DROP DATABASE IF EXISTS :"a" WITH (FORCE);
DROP DATABASE IF EXISTS :"b" WITH (FORCE);
SQL
	q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bk_orders, bk_items" \
		-c "DO \$\$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgm_bk_runner') THEN DROP OWNED BY pgm_bk_runner; DROP ROLE pgm_bk_runner; END IF; END \$\$" \
		-c "DELETE FROM pgmaint.backups" -c "DELETE FROM pgmaint.actions WHERE action LIKE 'backup\_%'" >/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
cleanup
mkdir -p "$dir"

# Runs the command; sets rc and out (stdout); stderr goes to $dir/stderr.
run() {
	out=$("$B" "$@" 2>"$dir/stderr")
	rc=$?
}

q -c "CREATE TABLE bk_orders (id int PRIMARY KEY, note text)" \
	-c "INSERT INTO bk_orders SELECT g, md5(g::text) FROM generate_series(1, 500) g" \
	-c "CREATE TABLE bk_items (id int PRIMARY KEY, order_id int REFERENCES bk_orders, qty int)" \
	-c "INSERT INTO bk_items SELECT g, 1 + g % 500, g % 7 FROM generate_series(1, 737) g" >/dev/null
items_digest=$(q -c "SELECT count(*) || ':' || md5(string_agg(id || ',' || order_id || ',' || qty, ';' ORDER BY id)) FROM bk_items")

# --- usage errors: exit 2 and a usage line on stderr
for args in "" "frobnicate" "backup" "verify" "prune --dir $dir" "prune --dir $dir --keep-days soon" \
	"restore $dir/x.dump" "drill --plain" "backup --dir" "--no-such-option" "verify a b c"; do
	run $args
	ok "usage error exits 2: pgmaint_backup $args" [ "$rc" = 2 ]
	ok "usage error prints a usage line: pgmaint_backup $args" grep -q '^usage: pgmaint_backup' "$dir/stderr"
done
run --help
ok "--help exits 0 and shows the commands" [ "$rc" = 0 ]
ok "--help shows the usage line" grep -q 'restore FILE --into DBNAME' <<<"$out"

# --- before any backup: warning with the command in the hint
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" warning \
	"no backup yet: backup check is warning"
ok "the hint shows the command" \
	[ "$(q -c "SELECT hint LIKE '%pgmaint_backup backup --dir%' FROM pgmaint.health_checks() WHERE check_name = 'backup'")" = t ]

# --- backup
run backup --dir "$dir" --plain
is "$rc" 0 "backup exits 0"
is "$(wc -l <<<"$out")" 1 "backup prints one summary line"
ok "the summary says ok" grep -q '^backup ok: ' <<<"$out"
dump=$(ls "$dir"/pgmaint_test_*Z.dump)
plain=$(ls "$dir"/pgmaint_test_*Z.sql)
ok "a timestamped custom-format archive exists" [ -f "$dump" ]
ok "a plain SQL copy exists" [ -f "$plain" ]
is "$(find "$dir" -name '*partial*' | wc -l)" 0 "no temporary file is left"
is "$(q -c "SELECT count(*) FROM pgmaint.backups WHERE kind = 'backup' AND status = 'ok' AND verified")" 2 \
	"both files are recorded ok and verified"
is "$(q -c "SELECT sha256 || ' ' || bytes FROM pgmaint.backups WHERE kind = 'backup' AND file = '$dump'")" \
	"$(sha256sum "$dump" | cut -d' ' -f1) $(stat -c %s "$dump")" "the record has the file's sha256 and size"
is "$(q -c "SELECT row_counts->>'public.bk_orders' || ' ' || (row_counts->>'public.bk_items') FROM pgmaint.backups WHERE file = '$dump'")" \
	"500 737" "the record has every table's row count"
is "$(q -c "SELECT row_counts ? 'pgmaint.thresholds' FROM pgmaint.backups WHERE file = '$dump'")" f \
	"extension tables are not counted"
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" ok \
	"a fresh verified backup turns the check ok"
is "$(q -c "SELECT last_backup_status || ' ' || (last_verified_file = '$plain' OR last_verified_file = '$dump') FROM pgmaint.backup_status()")" \
	"ok true" "backup_status() shows the last verified backup"

run verify "$dump"
is "$rc" 0 "verify of a good archive exits 0"
ok "verify prints ok" grep -q '^verify ok: ' <<<"$out"
run verify "$plain"
is "$rc" 0 "verify of the plain copy exits 0"

# --- drop a table in the source, restore into a new database
q -c "DROP TABLE bk_items" >/dev/null
run restore "$dump" --into "$restored"
is "$rc" 0 "restore --into a new database exits 0"
is "$(q -d "$restored" -c "SELECT count(*) || ':' || md5(string_agg(id || ',' || order_id || ',' || qty, ';' ORDER BY id)) FROM bk_items")" \
	"$items_digest" "the dropped table is back with the same rows"
is "$(q -c "SELECT to_regclass('bk_items') IS NULL")" t "the source database was not touched"
run restore "$dump" --into "$restored"
is "$rc" 1 "restore refuses an existing database"
ok "and says why" grep -q 'already exists' "$dir/stderr"
q -d "$restored" -c "INSERT INTO bk_orders VALUES (100000, 'after restore')" >/dev/null
run restore "$dump" --into "$restored" --replace
is "$rc" 0 "restore --replace replaces it"
is "$(q -d "$restored" -c "SELECT count(*) FROM bk_orders")" 500 "the replaced database has the backup's rows"
run restore "$dump" --into pgmaint_test --replace
is "$rc" 1 "restore never replaces the connected (source) database"
is "$(q -c "SELECT count(*) FROM bk_orders")" 500 "the source still has its rows"
run restore "$dump" --into "$odd"
is "$rc" 0 "restore quotes an odd database name"
is "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = \$\$$odd\$\$")" 1 "the odd name exists as given"
run restore "$plain" --into "${restored}_plain"
is "$rc" 1 "restore of a plain SQL file is refused"
is "$(q -c "SELECT count(*) FROM pgmaint.backups WHERE kind = 'restore' AND status = 'ok'")" 3 "restores are recorded"

# --- a truncated archive fails verify, is recorded failed, turns the check critical
cp "$dump" "$dir/good.copy"
size=$(stat -c %s "$dump")
truncate -s $((size / 2)) "$dump"
run verify "$dump"
is "$rc" 1 "verify of a truncated archive exits 1"
ok "verify names the checksum mismatch" grep -q 'sha256 mismatch' "$dir/stderr"
ok "verify names the unreadable archive" grep -q 'cannot be read to its end' "$dir/stderr"
is "$(q -c "SELECT status || ' ' || verified FROM pgmaint.backups WHERE kind = 'backup' AND file = '$dump'")" \
	"failed false" "the backup is recorded failed"
is "$(q -c "SELECT count(*) FROM pgmaint.backups WHERE kind = 'verify' AND status = 'failed' AND file = '$dump'")" 1 \
	"the failed verify is recorded"
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" critical \
	"a failed backup turns the check critical"
is "$(q -c "SELECT pgmaint.health()->>'status'")" critical "health() is critical"
cp "$dir/good.copy" "$dump"
run verify "$dump"
is "$rc" 0 "the good file verifies again"
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" ok \
	"and the check is ok again"

# --- the README's role for backups: it may record only once granted EXECUTE
q -c "CREATE ROLE pgm_bk_runner LOGIN BYPASSRLS" -c "GRANT pg_read_all_data TO pgm_bk_runner" >/dev/null
out=$(PGUSER=pgm_bk_runner "$B" backup --dir "$dir/runner" 2>"$dir/stderr")
is "$?" 1 "a role without EXECUTE on the recording function cannot back up"
ok "and is told what to grant" grep -q 'GRANT EXECUTE ON FUNCTION pgmaint._backup_record' "$dir/stderr"
q -c "GRANT EXECUTE ON FUNCTION pgmaint._backup_record TO pgm_bk_runner" >/dev/null
out=$(PGUSER=pgm_bk_runner "$B" backup --dir "$dir/runner" 2>"$dir/stderr")
is "$?" 1 "nor without EXECUTE on the owner-context row count"
ok "and is told to grant that too" grep -q 'pgmaint._row_count' "$dir/stderr"
q -c "GRANT EXECUTE ON FUNCTION pgmaint._row_count TO pgm_bk_runner" >/dev/null
out=$(PGUSER=pgm_bk_runner "$B" backup --dir "$dir/runner" 2>"$dir/stderr")
is "$?" 0 "with the documented grants the role backs up"
is "$(q -c "SELECT actor FROM pgmaint.backups WHERE kind = 'backup' ORDER BY id DESC LIMIT 1")" pgm_bk_runner \
	"the backup is recorded with the role as actor"
q -c "DROP OWNED BY pgm_bk_runner" -c "DROP ROLE pgm_bk_runner" >/dev/null

# --- issue 26, item 10: a directory others may write in
shared="$dir/shared"
mkdir -p "$shared" "$dir/open"
chmod 1777 "$shared"
chmod 0777 "$dir/open"
victim="$dir/victim.txt"
echo untouched >"$victim"
# a link at every checksum name the next 60 seconds can give this database's backup
now=$(date +%s)
for i in $(seq 0 60); do
	ln -s "$victim" "$shared/pgmaint_test_$(date -u -d "@$((now + i))" +%Y%m%dT%H%M%SZ).dump.sha256"
done
run backup --dir "$shared"
is "$rc" 0 "a backup into a sticky shared directory full of planted links succeeds"
is "$(cat "$victim")" untouched "the links at the checksum's name were replaced, never followed"
planted=$(find "$shared" -name 'pgmaint_test_*Z.dump' -type f | head -n 1)
ok "the checksum is a file of its own" test -f "$planted.sha256" -a ! -L "$planted.sha256"
run verify "$planted"
is "$rc" 0 "and verifies"
run backup --dir "$dir/open"
is "$rc" 1 "a directory writable by others (not sticky) is refused"
ok "with a reason" grep -q 'is writable by other users' "$dir/stderr"
is "$(find "$dir/open" -mindepth 1 | wc -l)" 0 "and nothing is written there"

# --- a failing pg_dump leaves no complete-looking file and is recorded failed
fake="$PGM_TMP/backup_fakebin"
mkdir -p "$fake" "$dir/failing"
ln -sf "$PGM_BIN/psql" "$fake/psql"
ln -sf "$PGM_BIN/pg_restore" "$fake/pg_restore"
cat >"$fake/pg_dump" <<'EOF'
#!/bin/sh
# writes half an archive, then fails like a dump that lost its connection
for a in "$@"; do case $a in --file=*) printf 'PGDMP partial' >"${a#--file=}" ;; esac; done
echo "pg_dump: error: connection to server lost" >&2
exit 1
EOF
chmod +x "$fake/pg_dump"
out=$(PGMAINT_PGBIN=$fake "$B" backup --dir "$dir/failing" 2>"$dir/stderr")
rc=$?
is "$rc" 1 "a failing pg_dump exits 1"
is "$(wc -l <<<"$out") $(grep -c '^backup failed: ' <<<"$out")" "1 1" "it still prints one summary line"
is "$(find "$dir/failing" -mindepth 1 | wc -l)" 0 "and leaves no file behind"
is "$(q -c "SELECT status || ' ' || (error LIKE 'pg_dump failed: %connection to server lost%') FROM pgmaint.backups WHERE kind = 'backup' ORDER BY id DESC LIMIT 1")" \
	"failed true" "the failure is recorded with its reason"
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" critical \
	"a failed last backup turns the check critical"
rm -rf "$fake"

finish

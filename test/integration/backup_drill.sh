#!/usr/bin/env bash
# pgmaint_backup: the restore drill (good, tampered and miscounted backups)
# and prune (keeps the newest verified backup, records what it removed).
set -u
. "$(dirname "$0")/../lib.sh"

B="$PGM_BIN/pgmaint_backup"
dir="$PGM_TMP/backup_drill"

# Drops what this script created and forgets its backups.
cleanup() {
	q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bk_drill" \
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

# Counts the databases a drill may have left behind.
scratch_left() {
	q -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmaint\_drill\_%'"
}

# The status of the backup check (as the worker sees it after what was done).
backup_check() {
	health_current >/dev/null
	q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'"
}

q -c "CREATE TABLE bk_drill (id bigint PRIMARY KEY, payload text)" \
	-c "INSERT INTO bk_drill SELECT g, repeat('x', g % 50) FROM generate_series(1, 2000) g" >/dev/null

# --- no backup yet: the drill has nothing to restore
run drill
is "$rc" 1 "drill without a verified backup exits 1"

# --- a good backup passes the drill; a row committed after the snapshot was
# exported (here by a pg_dump wrapper, just before the real dump starts) is
# neither counted nor dumped, so counts and dump agree
fake="$PGM_TMP/backup_drill_bin"
mkdir -p "$fake"
ln -sf "$PGM_BIN/psql" "$fake/psql"
ln -sf "$PGM_BIN/pg_restore" "$fake/pg_restore"
cat >"$fake/pg_dump" <<WRAPPER
#!/bin/sh
"$PGM_BIN/psql" -X -q -c "INSERT INTO bk_drill VALUES (1000000, 'late')" || exit 1
exec "$PGM_BIN/pg_dump" "\$@"
WRAPPER
chmod +x "$fake/pg_dump"
out=$(PGMAINT_PGBIN=$fake "$B" backup --dir "$dir" 2>"$dir/stderr")
is "$?" 0 "backup exits 0"
rm -rf "$fake"
dump=$(ls "$dir"/pgmaint_test_*Z.dump)
is "$(q -c "SELECT count(*) FROM bk_drill")" 2001 "a row was committed during the backup"
is "$(q -c "SELECT row_counts->>'public.bk_drill' FROM pgmaint.backups WHERE kind = 'backup' AND file = '$dump'")" \
	2000 "the recorded count is that of the exported snapshot"
q -c "DELETE FROM bk_drill WHERE id = 1000000" >/dev/null
run drill --dir "$dir"
is "$rc" 0 "drill of a good backup exits 0"
ok "drill prints ok" grep -q '^drill ok: ' <<<"$out"
is "$(q -c "SELECT status || ' ' || (detail->>'tables')::int FROM pgmaint.backups WHERE kind = 'drill' ORDER BY id DESC LIMIT 1")" \
	"ok $(q -c "SELECT count(*) FROM jsonb_object_keys((SELECT row_counts FROM pgmaint.backups WHERE kind = 'backup' AND file = '$dump'))")" \
	"the passed drill is recorded with the tables it checked"
is "$(scratch_left)" 0 "the scratch database is dropped"
is "$(q -c "SELECT last_drill_status FROM pgmaint.backup_status()")" ok "backup_status() shows the drill"
is "$(backup_check)" ok "the backup check is ok"

# --- a count that does not match fails the drill
q -c "UPDATE pgmaint.backups SET row_counts = jsonb_set(row_counts, '{public.bk_drill}', '1999') WHERE file = '$dump'" >/dev/null
run drill
is "$rc" 1 "drill with a row count that differs exits 1"
ok "the error names the table and both counts" \
	grep -q 'public.bk_drill: 1999 rows at dump time, 2000 restored' "$dir/stderr"
is "$(scratch_left)" 0 "the scratch database is dropped after a failure"
is "$(backup_check)" critical "a failed drill turns the backup check critical"
q -c "UPDATE pgmaint.backups SET row_counts = jsonb_set(row_counts, '{public.bk_drill}', '2000') WHERE file = '$dump'" >/dev/null
run drill
is "$rc" 0 "the drill passes again with the right count"
is "$(backup_check)" ok "and a passed drill clears the critical status"

# --- a tampered archive fails the drill
printf 'tampered' | dd of="$dump" bs=1 seek=$(($(stat -c %s "$dump") / 2)) conv=notrunc status=none
run drill
is "$rc" 1 "drill of a tampered archive exits 1"
ok "the error names the checksum" grep -q 'sha256 mismatch' "$dir/stderr"
is "$(q -c "SELECT status FROM pgmaint.backups WHERE kind = 'drill' ORDER BY id DESC LIMIT 1")" failed \
	"the failed drill is recorded"
is "$(q -c "SELECT status || ' ' || verified FROM pgmaint.backups WHERE file = '$dump' AND kind = 'backup'")" \
	"failed false" "the tampered backup is no longer trusted"
is "$(scratch_left)" 0 "no scratch database is left"
is "$(backup_check)" critical "the backup check is critical"

# --- prune: the newest verified backup is old, yet kept
rm -f "$dir"/*
run backup --dir "$dir"
is "$rc" 0 "a new backup exits 0"
newest=$(ls "$dir"/pgmaint_test_*Z.dump)
kept="$dir/pgmaint_test_20200102T000000Z.dump"
mv "$newest" "$kept"
mv "$newest.sha256" "$kept.sha256"
q -c "UPDATE pgmaint.backups SET file = '$kept', started = '2020-01-02 00:00+00' WHERE file = '$newest'" >/dev/null
older="$dir/pgmaint_test_20200101T000000Z.dump"
cp "$kept" "$older"
q -c "INSERT INTO pgmaint.backups (kind, started, status, file, format, bytes, sha256, verified, row_counts)
      SELECT kind, '2020-01-01 00:00+00', status, '$older', format, bytes, sha256, true, row_counts
        FROM pgmaint.backups WHERE file = '$kept'" >/dev/null
unverified="$dir/pgmaint_test_20200103T000000Z.dump"
cp "$kept" "$unverified"
q -c "INSERT INTO pgmaint.backups (kind, started, status, file, format, bytes, sha256, verified, row_counts)
      SELECT kind, '2020-01-01 12:00+00', status, '$unverified', format, bytes, sha256, false, row_counts
        FROM pgmaint.backups WHERE file = '$kept'" >/dev/null
unrecorded="$dir/pgmaint_test_20190101T000000Z.dump"
cp "$kept" "$unrecorded"
recent="$dir/pgmaint_test_$(date -u +%Y%m%dT%H%M%SZ)_9.dump"
cp "$kept" "$recent"
other="$dir/other_db_20200101T000000Z.dump"
cp "$kept" "$other"
run prune --dir "$dir" --keep-days 7
is "$rc" 0 "prune exits 0"
ok "the newest verified backup is kept although it is old" [ -f "$kept" -a -f "$kept.sha256" ]
ok "an older verified backup is removed" [ ! -e "$older" ]
ok "an old unverified backup is removed" [ ! -e "$unverified" ]
ok "a recent backup is kept" [ -f "$recent" ]
ok "another database's backup is not touched" [ -f "$other" ]
ok "an old file with this database's name that pgmaint.backups does not record is not touched" [ -f "$unrecorded" ]
is "$(q -c "SELECT removed_at IS NOT NULL FROM pgmaint.backups WHERE file = '$older'")" t \
	"the removed backup is marked removed"
is "$(q -c "SELECT (detail->'removed') @> to_jsonb(ARRAY['$older', '$unverified']) AND NOT (detail->'removed') @> to_jsonb('$kept'::text) FROM pgmaint.backups WHERE kind = 'prune' AND status = 'ok'")" \
	t "the prune records the files it removed"
is "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'backup_prune'")" 1 "the prune is audited"

mkdir -p "$dir/empty"
cp "$kept" "$dir/empty/pgmaint_test_20200101T000000Z.dump"
run prune --dir "$dir/empty" --keep-days 1
is "$rc" 1 "prune refuses a directory without a verified backup"
ok "and deletes nothing there" [ -f "$dir/empty/pgmaint_test_20200101T000000Z.dump" ]

# --- databases "a b" and "a_b": names that 1.0 made collide (issue 13, item 2)
q -c "DROP DATABASE IF EXISTS \"a b\"" -c "DROP DATABASE IF EXISTS a_b" \
	-c "CREATE DATABASE \"a b\"" -c "CREATE DATABASE a_b" >/dev/null
trap 'cleanup; q -c "DROP DATABASE IF EXISTS \"a b\"" -c "DROP DATABASE IF EXISTS a_b" >/dev/null' EXIT
q -d "a b" -c "CREATE EXTENSION pgmaint" >/dev/null
q -d a_b -c "CREATE EXTENSION pgmaint" >/dev/null
mkdir -p "$dir/shared"
"$B" -d "a b" backup --dir "$dir/shared" >/dev/null 2>&1
"$B" -d a_b backup --dir "$dir/shared" >/dev/null 2>&1
ab=$(q -d "a b" -c "SELECT file FROM pgmaint.backups WHERE kind = 'backup' AND status = 'ok'")
a_b=$(q -d a_b -c "SELECT file FROM pgmaint.backups WHERE kind = 'backup' AND status = 'ok'")
ok "both databases have a backup in the same directory" [ -f "$ab" -a -f "$a_b" ]
is "$(basename "$ab" | grep -c '^a%20b_') $(basename "$a_b" | grep -c '^a_b_')" "1 1" \
	"their file names differ: a%20b_... and a_b_..."
# an older backup of "a b", then a prune of "a b" that keeps only its newest
old_ab="$dir/shared/a%20b_20200101T000000Z.dump"
cp "$ab" "$old_ab"
q -d "a b" -c "INSERT INTO pgmaint.backups (kind, started, status, file, format, bytes, sha256, verified, row_counts)
      SELECT kind, '2020-01-01 00:00+00', status, '$old_ab', format, bytes, sha256, true, row_counts
        FROM pgmaint.backups WHERE file = '$ab'" >/dev/null
q -d "a b" -c "UPDATE pgmaint.backups SET started = started - interval '30 days' WHERE file = '$ab'" >/dev/null
# a_b's only backup, old (by its record and by its name): a prune of a_b
# would keep it (its newest verified), and a prune of "a b" must not see it
old_a_b="$dir/shared/a_b_20200101T000000Z.dump"
mv "$a_b" "$old_a_b" && mv "$a_b.sha256" "$old_a_b.sha256"
q -d a_b -c "UPDATE pgmaint.backups SET started = '2020-01-01 00:00+00', file = '$old_a_b' WHERE file = '$a_b'" >/dev/null
a_b=$old_a_b
"$B" -d "a b" prune --dir "$dir/shared" --keep-days 7 >/dev/null 2>&1
ok "the prune of \"a b\" removes its own older backup" [ ! -e "$old_ab" ]
ok "and keeps its newest verified backup" [ -f "$ab" ]
ok "and never touches the backups of a_b, its newest verified one included" [ -f "$a_b" -a -f "$a_b.sha256" ]

finish

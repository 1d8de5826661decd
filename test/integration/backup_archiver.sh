#!/usr/bin/env bash
# The archiver check on a cluster that archives WAL with a failing command,
# and pgmaint.backup_max_age read without pgmaint in shared_preload_libraries.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/backup_archiver"
port=$((PGPORT + 60))
trap 'pgm_cluster_stop "$dir"' EXIT

rm -rf "$dir"
pgm_cluster_init "$dir" "$port" postgres "" || exit 1
cat >>"$dir/data/postgresql.conf" <<'CONF'
archive_mode = on
archive_command = 'false'
pgmaint.backup_max_age = '1h'
CONF
pgm_cluster_start "$dir" || exit 1

# from here on, q and wait_for talk to the archiving cluster
export PGHOST=$dir PGPORT=$port PGDATABASE=postgres

q -c "CREATE EXTENSION pgmaint" >/dev/null
is "$(q -c "SELECT pgmaint.preloaded()")" f "pgmaint is not preloaded here"

# --- pgmaint.backup_max_age from postgresql.conf, in a session that has not loaded the library
is "$(q -c "SELECT extract(epoch FROM max_age)::int FROM pgmaint.backup_status()")" 3600 \
	"backup_status() reads pgmaint.backup_max_age from the configuration"
q -c "SELECT pgmaint._backup_record('backup', 'ok', now() - interval '2 hours', file => '/b/x.dump', format => 'custom', bytes => 1, sha256 => repeat('c', 64), verified => true, row_counts => '{}')" >/dev/null
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" warning \
	"a two-hour-old backup is stale under a one-hour limit"
q -c "ALTER SYSTEM SET pgmaint.backup_max_age = '3h'" -c "SELECT pg_reload_conf()" >/dev/null
ok "after a reload the same backup is fresh" \
	wait_for_current "SELECT status = 'ok' FROM pgmaint.health_checks() WHERE check_name = 'backup'" 30

# --- a failing archive_command turns the archiver check to warning
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'archiver'")" ok \
	"before any archiving attempt the archiver check is ok"
q -c "CREATE TABLE wal_filler AS SELECT g FROM generate_series(1, 1000) g" -c "SELECT pg_switch_wal()" >/dev/null
ok "a failed archiving attempt turns the check to warning" \
	wait_for_current "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'archiver'" 60
ok "the message names the WAL file" \
	[ "$(q -c "SELECT message LIKE 'archiving of WAL file 0000%failed at%' FROM pgmaint.health_checks() WHERE check_name = 'archiver'")" = t ]

q -c "ALTER SYSTEM SET archive_command = 'true'" -c "SELECT pg_reload_conf()" >/dev/null
q -c "INSERT INTO wal_filler SELECT 1" -c "SELECT pg_switch_wal()" >/dev/null
ok "a later success turns the check back to ok" \
	wait_for_current "SELECT status = 'ok' FROM pgmaint.health_checks() WHERE check_name = 'archiver'" 90

finish

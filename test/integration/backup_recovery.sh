#!/usr/bin/env bash
# The README's recovery procedure on a cluster of its own, where pg_cron lives
# in the damaged database: restore beside it, then --replace it from another
# database; the data, pgmaint and pg_cron's jobs come back.
set -u
. "$(dirname "$0")/../lib.sh"

B="$PGM_BIN/pgmaint_backup"
dir="$PGM_TMP/backup_recovery"
port=$((PGPORT + 61))
trap 'pgm_cluster_stop "$dir"' EXIT

rm -rf "$dir"
pgm_cluster_init "$dir" "$port" agent_core pg_cron || exit 1
pgm_cluster_start "$dir" || exit 1
export PGHOST=$dir PGPORT=$port PGDATABASE=agent_core

q -d postgres -c "CREATE DATABASE agent_core" >/dev/null
q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pgmaint" \
	-c "CREATE TABLE thread_messages (id bigint PRIMARY KEY, content text)" \
	-c "INSERT INTO thread_messages SELECT g, md5(g::text) FROM generate_series(1, 300) g" \
	-c "SELECT cron.schedule('pgmaint-health', '*/5 * * * *', 'SELECT pgmaint.health()')" >/dev/null
digest=$(q -c "SELECT md5(string_agg(id || content, ',' ORDER BY id)) FROM thread_messages")

"$B" backup --dir "$dir/backups" >/dev/null 2>"$dir/stderr"
is "$?" 0 "backup of agent_core exits 0"
dump=$(ls "$dir"/backups/agent_core_*Z.dump)

# the damage
q -c "TRUNCATE thread_messages" >/dev/null

# 2. restore beside it: pg_cron is left out there, with a note
"$B" restore "$dump" --into agent_core_restored >/dev/null 2>"$dir/stderr"
is "$?" 0 "restore beside the damaged database exits 0"
ok "it notes that pg_cron was left out" grep -q 'pg_cron and its jobs were left out' "$dir/stderr"
is "$(q -d agent_core_restored -c "SELECT md5(string_agg(id || content, ',' ORDER BY id)) FROM thread_messages")" \
	"$digest" "the restored copy has the rows"
is "$(q -d agent_core_restored -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")" 0 \
	"the copy has no pg_cron"

# 3. replace the damaged database, connected to another one
"$B" -d postgres restore "$dump" --into agent_core --replace >/dev/null 2>"$dir/stderr"
is "$?" 0 "restore --replace from another database exits 0"
ok "it reminds to restart for pg_cron's launcher" grep -q 'restart the server' "$dir/stderr"
ok "it says the run is not recorded in postgres" grep -q 'not recorded' "$dir/stderr"
is "$(q -c "SELECT md5(string_agg(id || content, ',' ORDER BY id)) FROM thread_messages")" \
	"$digest" "agent_core has its rows again"
is "$(q -c "SELECT jobname FROM cron.job")" "pgmaint-health" "pg_cron's job is back"
is "$(q -c "SELECT count(*) FROM pgmaint.backups")" 0 "the restored database has no backup history of its own"
is "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmaint\_restore\_%'")" 0 \
	"no scratch database is left"

# 4. the next backup is recorded in the restored database
"$B" backup --dir "$dir/backups" >/dev/null 2>"$dir/stderr"
is "$?" 0 "a backup right after recovery exits 0"
health_current
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup'")" ok \
	"the backup check is ok again"

finish

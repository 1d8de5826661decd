#!/usr/bin/env bash
# docker/initdb/pgmaint.sh without a container (issue 26, item 9): what it
# writes for a shell is quoted, and every PGMAINT_* value it accepts is one
# pgmaint_backup accepts.  The script runs as in the official image, but
# against stand-ins for psql and pg_ctl that record what they are asked
# (tests/suites/docker.sh runs it for real, in the image); the pg_cron
# command it schedules is then run by /bin/sh, as COPY ... TO PROGRAM runs
# it, with a stand-in pgmaint_backup that records its arguments.
. "$(dirname "$0")/../lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
work="$PGM_TMP/initdb_script"
mkdir -p "$work/bin" "$work/backups"
: >"$work/backups/agent_core_20260101T000000Z.dump"

# psql: records its -v assignments, answers what pgmaint.sh reads
cat >"$work/bin/psql" <<'SH'
#!/usr/bin/env bash
log=${FAKE_LOG:?}
sql=""
while [ $# -gt 0 ]; do
	case $1 in
		-v) printf '%s\0' "$2" >>"$log/vars"; shift ;;
		-c) sql=$2; shift ;;
	esac
	shift
done
[ -n "$sql" ] || sql=$(cat)
case $sql in
	*shared_preload_libraries*) echo "" ;;
	*pg_file_settings*) ;;
	*) echo "x" ;;
esac
SH
# pg_ctl: a restart that succeeds
printf '#!/bin/sh\nexit 0\n' >"$work/bin/pg_ctl"
# pgmaint_backup: records its arguments, one per line (NUL-separated)
cat >"$work/bin/pgmaint_backup" <<'SH'
#!/usr/bin/env bash
printf '%s\0' "$@" >>"${FAKE_LOG:?}/backup_args"
printf '\0\0' >>"$FAKE_LOG/backup_args"
SH
chmod 755 "$work/bin/psql" "$work/bin/pg_ctl" "$work/bin/pgmaint_backup"

# Runs pgmaint.sh in a fresh data directory with the environment given; leaves $log.
run_init() {
	log="$work/run.$1"
	shift
	rm -rf "$log" && mkdir -p "$log/data"
	env -i PATH="$work/bin:/usr/bin:/bin" PGDATA="$log/data" FAKE_LOG="$log" "$@" \
		bash "$top/docker/initdb/pgmaint.sh" >"$log/out" 2>&1
}
# The value of -v NAME=... that pgmaint.sh passed to psql.
var() {
	tr '\0' '\n' <"$log/vars" | sed -n "s/^$1=//p" | tail -n 1
}

mark="$work/pwned"
user="al'\$(touch $mark)'fred"
dbname="agent_core"
ok "init with a POSTGRES_USER holding a quote and \$(...) succeeds" \
	run_init hostile POSTGRES_USER="$user" POSTGRES_DB="$dbname" \
	PGMAINT_BACKUP_SCHEDULE='30 3 * * *' PGMAINT_BACKUP_DIR="$work/backups" PGMAINT_BACKUP_KEEP_DAYS=30
cmd=$(var cmd)
echo "# the pg_cron job runs: $cmd"
ok "the job's command is valid /bin/sh" sh -n -c "$cmd"
(cd "$log" && FAKE_LOG="$log" PATH="$work/bin:/usr/bin:/bin" sh -c "$cmd")
ok "running it runs nothing of the user name" test ! -e "$mark"
args=$(tr '\0' '\n' <"$log/backup_args" | sed '/^$/d' | head -n 7 | tr '\n' '|')
is "$args" "-U|$user|-d|$dbname|backup|--dir|$work/backups|" \
	"pgmaint_backup gets the user name, the database and the directory as one word each"
ok "the job verifies the newest dump and prunes with --keep-days 30" \
	bash -c "tr '\0' '\n' <'$log/backup_args' | grep -qx verify && tr '\0' '\n' <'$log/backup_args' | grep -qx 30"

# values pgmaint_backup would refuse stop init before anything is written
run_init keep POSTGRES_DB=agent_core PGMAINT_BACKUP_SCHEDULE='@daily' PGMAINT_BACKUP_DIR="$work/backups" \
	PGMAINT_BACKUP_KEEP_DAYS=999999
ok "PGMAINT_BACKUP_KEEP_DAYS=999999 (refused by every prune) stops init" \
	grep -q "pgmaint.sh: error: PGMAINT_BACKUP_KEEP_DAYS='999999' is not a whole number of days from 0 to 99999" "$log/out"
ok "before anything was written" test ! -e "$log/data/postgresql.auto.conf"
"$top/bin/pgmaint_backup" prune --dir "$work/backups" --keep-days 999999 >/dev/null 2>&1
is "$?" 2 "(pgmaint_backup refuses it too: a usage error)"
run_init reldir POSTGRES_DB=agent_core PGMAINT_BACKUP_SCHEDULE='@daily' PGMAINT_BACKUP_DIR=backups
ok "a relative PGMAINT_BACKUP_DIR (the job runs in the data directory) stops init" \
	grep -q "pgmaint.sh: error: PGMAINT_BACKUP_DIR='backups' is not an absolute path" "$log/out"
run_init ok POSTGRES_DB=agent_core PGMAINT_BACKUP_SCHEDULE='@daily' PGMAINT_BACKUP_DIR="$work/backups" \
	PGMAINT_BACKUP_KEEP_DAYS=99999
ok "PGMAINT_BACKUP_KEEP_DAYS=99999 is accepted" grep -q "pgmaint.sh: scheduled pgmaint-backup" "$log/out"

finish

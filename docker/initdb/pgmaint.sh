#!/usr/bin/env bash
# pgmaint.sh: /docker-entrypoint-initdb.d script of the pgmaint image.
#
# The official postgres image runs it once, on a new (empty) volume, against
# a temporary server that listens on the unix socket only.  It
#   1. checks every PGMAINT_* variable first, so that a bad value stops init
#      before anything is written (the message names the variable);
#   2. preloads pg_cron, pgmaint and pg_stat_statements and sets
#      pgmaint.database, cron.database_name and cron.use_background_workers
#      to $POSTGRES_DB, plus the PGMAINT_* settings, in the data directory's
#      postgresql.auto.conf (read whatever config_file is used, so no -c
#      flags are needed).  ALTER SYSTEM cannot write these yet: restart-only
#      settings of pgmaint and pg_cron exist only once they are preloaded;
#   3. restarts the temporary server so that they are loaded, checks that
#      the server accepted every value, creates the extensions in
#      $POSTGRES_DB and, with PGMAINT_BACKUP_SCHEDULE, schedules
#      "pgmaint_backup backup" + "verify" with pg_cron;
#   4. with PGMAINT_PITR_REPO, sets up point-in-time recovery with
#      pgBackRest: "pgmaint_backup pitr setup --apply", a restart for
#      archive_mode, setup again (stanza-create and check), a first full
#      backup, and "pgmaint_backup pitr schedule" (docs/pitr.md).
#
# Variables (all optional):
#   PGMAINT_SAMPLE_INTERVAL   pgmaint.sample_interval (e.g. 60s, 5min)
#   PGMAINT_POLICY            pgmaint.policy: off, advise or apply
#   PGMAINT_LEAK_ACTION       pgmaint.leak_action: report or terminate
#   PGMAINT_LEAK_TIMEOUT      pgmaint.leak_timeout (e.g. 5min)
#   PGMAINT_LEAK_EXCLUDE      pgmaint.leak_exclude (application_name LIKE patterns, comma-separated)
#   PGMAINT_BACKUP_SCHEDULE   pg_cron schedule of the backup job (e.g. "30 3 * * *"); unset: no job
#   PGMAINT_BACKUP_DIR        where the job writes (default /backups, a volume; an absolute path)
#   PGMAINT_BACKUP_KEEP_DAYS  with the job: also prune backups older than N days (0-99999,
#                             what "pgmaint_backup prune --keep-days" accepts)
#   PGMAINT_PITR_REPO         pgBackRest repository directory (a volume, e.g. /var/lib/pgbackrest); unset: no PITR
#   PGMAINT_PITR_RPO          archive_timeout in seconds, the writes at risk (default 60)
#
# Everything written for a shell (the pg_cron job's COPY ... TO PROGRAM
# command) is quoted with pgm_shell_quote(), whatever the values hold.
set -Eeuo pipefail

pgm_prog=pgmaint.sh

# Stops init before anything was changed.
pgm_invalid() {
	echo "$pgm_prog: error: $*" >&2
	echo "$pgm_prog: initialisation stopped before any change; fix the variable, remove the new volume and start again" >&2
	exit 1
}

# Checks that variable $1, when set, is a duration PostgreSQL reads (60s, 5min, 250ms).
pgm_check_duration() {
	local var=$1 val=${!1:-}
	[ -z "$val" ] && return 0
	[[ $val =~ ^[0-9]+[[:space:]]*(ms|s|min|h|d)?$ ]] ||
		pgm_invalid "$var='$val' is not a duration: use a number with ms, s, min, h or d (for example 60s or 5min)"
}

# Checks that variable $1, when set, is one of the words that follow.
pgm_check_enum() {
	local var=$1 val=${!1:-} w
	shift
	[ -z "$val" ] && return 0
	for w; do [ "$val" = "$w" ] && return 0; done
	pgm_invalid "$var='$val' is not valid: use one of $*"
}

# Checks that variable $1 holds no quote, backslash or line break (it goes into a setting).
pgm_check_text() {
	local var=$1 val=${!1:-}
	case $val in
	*\'* | *\\* | *$'\n'*) pgm_invalid "$var must not contain quotes, backslashes or line breaks" ;;
	esac
}

# Prints $1 quoted for a POSIX shell (COPY ... TO PROGRAM runs /bin/sh): '...', each ' as '\''.
pgm_shell_quote() {
	local q="'\\''"
	printf "'%s'" "${1//\'/$q}"
}

# Checks that variable $1, when set, is a pg_cron schedule: five fields or @hourly/@daily/...
pgm_check_cron() {
	local var=$1 val=${!1:-}
	[ -z "$val" ] && return 0
	[[ $val =~ ^@(yearly|annually|monthly|weekly|daily|hourly|reboot)$ ]] && return 0
	[[ $val =~ ^[0-9*,/-]+([[:space:]]+[0-9A-Za-z*,/-]+){4}$ ]] ||
		pgm_invalid "$var='$val' is not a cron schedule: use five fields such as \"30 3 * * *\" or @daily"
}

# --- 1. check everything before changing anything ------------------------------
db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
user=${POSTGRES_USER:-postgres}
pgm_check_text POSTGRES_DB
pgm_check_duration PGMAINT_SAMPLE_INTERVAL
pgm_check_enum PGMAINT_POLICY off advise apply
pgm_check_enum PGMAINT_LEAK_ACTION report terminate
pgm_check_duration PGMAINT_LEAK_TIMEOUT
pgm_check_text PGMAINT_LEAK_EXCLUDE
pgm_check_cron PGMAINT_BACKUP_SCHEDULE
pgm_check_text PGMAINT_BACKUP_DIR
backup_dir=${PGMAINT_BACKUP_DIR:-/backups}
[[ $backup_dir == /* ]] ||
	pgm_invalid "PGMAINT_BACKUP_DIR='$backup_dir' is not an absolute path (the job runs in the data directory)"
# what pgmaint_backup prune --keep-days accepts (bin/pgmaint_backup)
if [ -n "${PGMAINT_BACKUP_KEEP_DAYS:-}" ] && ! [[ $PGMAINT_BACKUP_KEEP_DAYS =~ ^[0-9]{1,5}$ ]]; then
	pgm_invalid "PGMAINT_BACKUP_KEEP_DAYS='$PGMAINT_BACKUP_KEEP_DAYS' is not a whole number of days from 0 to 99999"
fi
pgm_check_text PGMAINT_PITR_REPO
if [ -n "${PGMAINT_PITR_REPO:-}" ]; then
	[[ $PGMAINT_PITR_REPO == /* ]] || pgm_invalid "PGMAINT_PITR_REPO='$PGMAINT_PITR_REPO' is not an absolute path"
	command -v pgbackrest >/dev/null ||
		pgm_invalid "PGMAINT_PITR_REPO is set but the image has no pgBackRest (build it with PGBACKREST=yes)"
	mkdir -p "$PGMAINT_PITR_REPO" 2>/dev/null || true
	[ -d "$PGMAINT_PITR_REPO" ] && [ -w "$PGMAINT_PITR_REPO" ] ||
		pgm_invalid "PGMAINT_PITR_REPO='$PGMAINT_PITR_REPO' is not a directory the postgres user can write (mount a volume there)"
fi
if [ -n "${PGMAINT_PITR_RPO:-}" ] && ! [[ $PGMAINT_PITR_RPO =~ ^[0-9]{1,5}$ && $PGMAINT_PITR_RPO -ge 1 && $PGMAINT_PITR_RPO -le 86400 ]]; then
	pgm_invalid "PGMAINT_PITR_RPO='$PGMAINT_PITR_RPO' is not a whole number of seconds from 1 to 86400"
fi
if [ -n "${PGMAINT_BACKUP_SCHEDULE:-}" ]; then
	mkdir -p "$backup_dir" 2>/dev/null || true
	[ -d "$backup_dir" ] && [ -w "$backup_dir" ] ||
		pgm_invalid "PGMAINT_BACKUP_DIR='$backup_dir' is not a directory the postgres user can write (mount a volume there)"
fi

# psql on the temporary server, as the official image's own init files use it
pgm_psql() {
	PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc -qAt "$@"
}

# --- 2. the settings, in postgresql.auto.conf --------------------------------
# keep libraries the configuration already preloads
current=$(pgm_psql --dbname "$db" -c 'SHOW shared_preload_libraries')
preload=$current
for lib in pg_cron pgmaint pg_stat_statements; do
	case ",${preload// /}," in
	*",$lib,"*) ;;
	*) preload=${preload:+$preload,}$lib ;;
	esac
done

# setting name, environment variable, value: the names of the variables
# are printed when the server refuses a value (step 3)
declare -a names vars vals
pgm_add() { names+=("$1"); vars+=("$2"); vals+=("$3"); }
pgm_add shared_preload_libraries "" "$preload"
pgm_add pgmaint.database POSTGRES_DB "$db"
pgm_add cron.database_name POSTGRES_DB "$db"
pgm_add cron.use_background_workers "" on
[ -n "${PGMAINT_SAMPLE_INTERVAL:-}" ] && pgm_add pgmaint.sample_interval PGMAINT_SAMPLE_INTERVAL "$PGMAINT_SAMPLE_INTERVAL"
[ -n "${PGMAINT_POLICY:-}" ] && pgm_add pgmaint.policy PGMAINT_POLICY "$PGMAINT_POLICY"
[ -n "${PGMAINT_LEAK_ACTION:-}" ] && pgm_add pgmaint.leak_action PGMAINT_LEAK_ACTION "$PGMAINT_LEAK_ACTION"
[ -n "${PGMAINT_LEAK_TIMEOUT:-}" ] && pgm_add pgmaint.leak_timeout PGMAINT_LEAK_TIMEOUT "$PGMAINT_LEAK_TIMEOUT"
[ -n "${PGMAINT_LEAK_EXCLUDE:-}" ] && pgm_add pgmaint.leak_exclude PGMAINT_LEAK_EXCLUDE "$PGMAINT_LEAK_EXCLUDE"

{
	echo "# pgmaint: written once by /docker-entrypoint-initdb.d/pgmaint.sh"
	for i in "${!names[@]}"; do
		printf "%s = '%s'\n" "${names[$i]}" "${vals[$i]}"
	done
} >>"$PGDATA/postgresql.auto.conf"
echo "$pgm_prog: preloading $preload; pgmaint.database = '$db'"

# --- 3. load them, check them, create the extensions ---------------------------
# (its log goes where the temporary server's went: the container's output)
if ! pg_ctl -D "$PGDATA" -m fast -w restart; then
	echo "$pgm_prog: error: the server did not start again with pgmaint preloaded (see its log above)" >&2
	exit 1
fi

# a value the server refused (out of range, say) is reported in pg_file_settings
for i in "${!names[@]}"; do
	err=$(pgm_psql --dbname "$db" -v n="${names[$i]}" <<-'SQL'
		SELECT coalesce(f.error, 'not applied')
		  FROM pg_catalog.pg_file_settings f
		 WHERE f.name = :'n' AND f.sourcefile LIKE '%postgresql.auto.conf'
		   AND (f.error IS NOT NULL OR NOT f.applied)
		 ORDER BY f.seqno DESC LIMIT 1;
	SQL
	)
	got=$(pgm_psql --dbname "$db" -v n="${names[$i]}" <<<"SELECT current_setting(:'n', true);" 2>/dev/null || true)
	if [ -n "$err" ] || [ -z "$got" ]; then
		echo "$pgm_prog: error: the server refused ${names[$i]} = '${vals[$i]}'${vars[$i]:+ (from ${vars[$i]})}: ${err:-not set}" >&2
		echo "$pgm_prog: initialisation stopped; fix the variable, remove the new volume and start again" >&2
		exit 1
	fi
done

pgm_psql --dbname "$db" <<-'SQL'
	CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
	CREATE EXTENSION IF NOT EXISTS pg_cron;
	CREATE EXTENSION IF NOT EXISTS pgmaint;
SQL
echo "$pgm_prog: created pg_stat_statements, pg_cron and pgmaint $(pgm_psql --dbname "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'pgmaint'") in database \"$db\""

if [ -n "${PGMAINT_BACKUP_SCHEDULE:-}" ]; then
	bin=$(pgm_shell_quote "$(command -v pgmaint_backup)")
	conn="-U $(pgm_shell_quote "$user") -d $(pgm_shell_quote "$db")"
	qdir=$(pgm_shell_quote "$backup_dir")
	cmd="$bin $conn backup --dir $qdir >/dev/null && $bin $conn verify \"\$(ls -1t -- $qdir/*.dump | head -n 1)\" >/dev/null"
	[ -n "${PGMAINT_BACKUP_KEEP_DAYS:-}" ] &&
		cmd="$cmd && $bin $conn prune --dir $qdir --keep-days $(pgm_shell_quote "$PGMAINT_BACKUP_KEEP_DAYS") >/dev/null"
	# pg_cron runs SQL; COPY TO PROGRAM runs the command as the server's OS user
	# (with no statement_timeout: a dump takes as long as it takes)
	pgm_psql --dbname "$db" -v sched="$PGMAINT_BACKUP_SCHEDULE" -v cmd="$cmd" <<-'SQL' >/dev/null
		SELECT cron.schedule('pgmaint-backup', :'sched',
		                     pg_catalog.format('SET statement_timeout = 0; COPY (SELECT 1) TO PROGRAM %L', :'cmd'));
	SQL
	echo "$pgm_prog: scheduled pgmaint-backup ($PGMAINT_BACKUP_SCHEDULE) into $backup_dir"
fi

# --- 4. point-in-time recovery with pgBackRest ---------------------------------
# Runs "pgmaint_backup pitr ARG..." on the temporary server; prints its summary, or its output and stops init.
pgm_pitr() {
	local out
	if ! out=$(PGHOST='' PGHOSTADDR='' pgmaint_backup -U "$user" -d "$db" pitr "$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "$pgm_prog: error: pgmaint_backup pitr $1 failed (PGMAINT_PITR_REPO='$PGMAINT_PITR_REPO')" >&2
		exit 1
	fi
	echo "$pgm_prog: $(tail -n 1 <<<"$out")"
}

if [ -n "${PGMAINT_PITR_REPO:-}" ]; then
	opts=(--repo "$PGMAINT_PITR_REPO" --rpo "${PGMAINT_PITR_RPO:-60}")
	# the settings; archive_mode takes effect at the restart (setup says incomplete)
	out=$(PGHOST='' PGHOSTADDR='' pgmaint_backup -U "$user" -d "$db" pitr setup "${opts[@]}" --apply 2>&1) ||
		grep -q '^pitr setup incomplete: ' <<<"$out" || {
		printf '%s\n' "$out" >&2
		echo "$pgm_prog: error: pgmaint_backup pitr setup failed (PGMAINT_PITR_REPO='$PGMAINT_PITR_REPO')" >&2
		exit 1
	}
	if ! pg_ctl -D "$PGDATA" -m fast -w restart; then
		echo "$pgm_prog: error: the server did not start again with archive_mode = on (see its log above)" >&2
		exit 1
	fi
	pgm_pitr setup "${opts[@]}"
	pgm_pitr backup --type full
	pgm_pitr schedule
fi

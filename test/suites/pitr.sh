#!/usr/bin/env bash
# Point-in-time recovery with pgBackRest (issue 31), real pgBackRest on real
# WAL, on a cluster of its own with a write load:
#   - pgmaint_backup pitr setup: bad input, a foreign configuration file, the
#     Patroni form of the settings, --apply, the restart it asks for, a re-run
#     that changes nothing;
#   - a full backup, writes, a marker, writes; a restore to just after the
#     marker into a new directory: the marker is there, the later rows are not;
#   - the drill: passes, is recorded, turns pitr_backup ok; fails (recorded,
#     critical) when the archive cannot reach its target;
#   - recovery_point: 0 on an idle server, at most archive_timeout under load,
#     warning then critical with a broken archive_command (archiver too);
#   - the repository unreachable (moved away; S3 endpoint down): check fails
#     and says so; expiry; the pg_cron schedule, its command run for real;
#   - RPO: kill -9 of the primary under load, restore to the end of the
#     archive: only the writes of the last archive interval are lost;
#   - S3: a repository on s3rver (npm) over TLS with a self-signed
#     certificate on 127.0.0.1, backup and restore round trip.
# archive_timeout is 5 s here instead of the 60 s of production so that the
# RPO and the broken-archiving checks happen in seconds (bench/pitr.sh
# measures 60 s).  s3rver is installed with npm into a cache directory
# ($PGMAINT_TEST_CACHE, default /var/cache/pgmaint-test), never globally.
#
# packages: pgbackrest nodejs openssl
set -u
. "$(dirname "$0")/../lib.sh"

base=$PGM_TMP/pitr
p=$base/primary
port=$PGM_PORT_BASE
db=pitr_test
B=$PGM_BIN/pgmaint_backup
etc=$base/etc
conf=$etc/pgbackrest.conf
repo=$base/repo
logs=$base/log
rpo=5
t_suite=$(date +%s)
copies=()
s3_pid=""
load_on=false

# Stops what the suite started: the write load, the copies, s3rver, the primary.
cleanup() {
	local d
	$load_on && stop_load
	for d in "${copies[@]}"; do
		[ -f "$d/postmaster.pid" ] && pgm_as_owner "$PGM_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	[ -n "$s3_pid" ] && kill "$s3_pid" 2>/dev/null
	pgm_cluster_stop "$p"
}
trap cleanup EXIT

command -v pgbackrest >/dev/null || { echo "not ok 1 - pgbackrest is not installed"; exit 1; }
mkdir -p "$base" "$etc"
chmod 755 "$base"
chown postgres: "$base"
export PGHOST=$p PGPORT=$port PGUSER=postgres PGDATABASE=$db

pgm_cluster_init "$p" "$port" "$db" pg_cron,pgmaint >/dev/null || exit 1
cat >>"$p/data/postgresql.conf" <<'CONF'
# pitr suite: every acknowledged commit is in the WAL (the RPO count relies on
# it); the worker's history writes (and autovacuum on the load, below) stay
# out of the idle-server check
synchronous_commit = on
pgmaint.sample_interval = 1h
CONF
pgm_cluster_start "$p" || exit 1
q -d postgres -c "CREATE DATABASE $db" >/dev/null
q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pgmaint" \
	-c "CREATE TABLE load (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp()) WITH (autovacuum_enabled = off)" \
	-c "CREATE TABLE marks (name text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())" \
	-c "INSERT INTO load (at) SELECT clock_timestamp() FROM generate_series(1, 20000)" >/dev/null || exit 1
# the checks measured when read (health(live => true)): the worker evaluates
# them once per health interval (a minute here), and a sample asked for to
# refresh it would write history, which the idle-server check must not see
q -c "CREATE VIEW live_checks AS
      SELECT c.\"check\" AS check_name, c.status, c.value, c.message
        FROM jsonb_to_recordset(pgmaint.health(live => true) -> 'checks')
             AS c(\"check\" text, status text, value numeric, message text)" >/dev/null || exit 1

# Runs pgmaint_backup; sets rc, out (stdout) and err (stderr).
run() {
	out=$("$B" "$@" 2>"$base/stderr")
	rc=$?
	err=$(cat "$base/stderr")
}

# Runs pgmaint_backup and reports whether it exits 0 (DESCRIPTION first);
# shows its output when it does not.
run_ok() {
	local desc=$1
	shift
	run "$@"
	is "$rc" 0 "$desc"
	[ "$rc" = 0 ] || printf '%s\n%s\n' "$out" "$err" | sed 's/^/#   /'
}

# True when TEXT ($2) contains PATTERN ($1) (grep -E).
has() {
	grep -Eq -- "$1" <<<"$2"
}

# Prints "status value" of a health check.
check() {
	q -c "SELECT status || ' ' || coalesce(round(value)::text, 'NULL') FROM live_checks WHERE check_name = '$1'"
}

# Switches WAL and waits until the segment written so far is archived.
archive_now() {
	local seg
	seg=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
	q -c "SELECT pg_switch_wal()" >/dev/null
	wait_for "SELECT coalesce(last_archived_wal >= '$seg', false) FROM pg_stat_archiver" "${1:-30}"
}

# Starts the write load: one commit every 50 ms into load, until stopped.
start_load() {
	PGAPPNAME=pitr_load psql -X -q -c "DO \$\$ BEGIN FOR i IN 1..200000 LOOP
		INSERT INTO load (at) VALUES (clock_timestamp()); COMMIT; PERFORM pg_sleep(0.05); END LOOP; END \$\$" \
		>/dev/null 2>&1 &
	load_pid=$!
	load_on=true
}

# Stops the write load (its backend, then the client).
stop_load() {
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pitr_load'" >/dev/null 2>&1
	wait "$load_pid" 2>/dev/null
	load_on=false
}

# Starts a restored copy in DIR on PORT (socket in a directory of its own, no
# archiving, nothing preloaded) and waits until it has promoted.
start_copy() {
	local dir=$1 cport=$2 sock=$base/sock-$2
	mkdir -p "$sock" && chown postgres: "$sock"
	copies+=("$dir")
	pgm_as_owner "$PGM_BIN/pg_ctl" -D "$dir" -l "$sock/server.log" -w -t 120 \
		-o "-p $cport -c unix_socket_directories=$sock -c listen_addresses='' -c shared_preload_libraries='' -c archive_mode=off" \
		start >/dev/null || { tail -n 20 "$sock/server.log" | sed 's/^/# /'; return 1; }
	PGHOST=$sock PGPORT=$cport wait_for "SELECT NOT pg_is_in_recovery()" 120
}

# Runs SQL on the copy on PORT.
on_copy() {
	local cport=$1
	shift
	PGHOST=$base/sock-$cport PGPORT=$cport q "$@"
}

# Stops the copy in DIR.
stop_copy() {
	pgm_as_owner "$PGM_BIN/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null 2>&1
}

S=(--config "$conf")
SETUP=(pitr setup --repo "$repo" --rpo "$rpo" --log-path "$logs" "${S[@]}")

# --- bad input: usage errors exit 2 and change nothing -------------------------
bad=""
for args in "pitr" "pitr nosuch" "pitr setup" "pitr setup --repo rel/dir" "pitr setup --repo /x --rpo 0" \
	"pitr setup --repo /x --rpo 5s" "pitr setup --repo /x --s3-bucket b" "pitr setup --repo /x --s3-endpoint h --s3-bucket B" \
	"pitr backup --type weekly" "pitr check --repo /x" "pitr restore --latest" "pitr restore --into /tmp/x" \
	"pitr restore --into /tmp/x --latest --target-time 2026-01-01T00:00:00Z" "pitr restore --into /tmp/x --target-time yesterday" \
	"pitr restore --into /tmp/x --latest --target-action promote" "pitr schedule --full everyday" "pitr drill --target-age -1"; do
	# shellcheck disable=SC2086  # word splitting of the argument list is the point
	"$B" $args >/dev/null 2>"$base/stderr"
	r=$?
	[ "$r" = 2 ] || bad="$bad [$args: $r]"
done
is "$bad" "" "every usage error exits 2"
run pitr setup --repo /x --s3-endpoint localhost:9 --s3-bucket bkt "${S[@]}"
ok "an S3 repository without its key in the environment is a usage error that says where the key goes" \
	test "$rc" = 2 -a -n "$(has 'PGMAINT_S3_KEY and PGMAINT_S3_KEY_SECRET' "$err" && echo y)"
ok "nothing was written" test ! -e "$conf"
printf '[global]\nrepo1-path=/elsewhere\n' >"$etc/foreign.conf"
run pitr setup --repo "$repo" --config "$etc/foreign.conf"
ok "setup refuses a configuration file it did not write (exit $rc)" \
	test "$rc" = 1 -a -n "$(has 'was not written by pgmaint_backup' "$err" && echo y)"
is "$(cat "$etc/foreign.conf")" "$(printf '[global]\nrepo1-path=/elsewhere')" "and leaves it as it was"
run pitr setup --repo "$repo" --stanza 'a b' "${S[@]}"
ok "a stanza name with a space is refused with a hint" test "$rc" = 1 -a -n "$(has 'cannot be a stanza name' "$err" && echo y)"

echo "# at $(($(date +%s) - t_suite)) s"
# --- setup: the Patroni form, then --apply, the restart, a harmless re-run ------
pgm_as_owner touch "$p/data/patroni.dynamic.json"
run "${SETUP[@]}" --apply
ok "on a Patroni node the settings are one patronictl edit-config command" \
	has "^patronictl edit-config --force --pg archive_mode=on --pg 'archive_command=/usr/bin/pgbackrest --config=$conf --stanza=$db archive-push %p' --pg archive_timeout=${rpo}s --pg track_commit_timestamp=on$" "$out"
ok "and --apply refuses to change them behind Patroni (exit $rc)" \
	test "$rc" = 1 -a -n "$(has 'Patroni manages this server' "$err" && echo y)"
rm -f "$p/data/patroni.dynamic.json"

run "${SETUP[@]}"
is "$rc" 1 "setup before the server archives exits 1"
ok "it prints the three settings as ALTER SYSTEM commands" \
	bash -c "grep -q \"^ALTER SYSTEM SET archive_mode = 'on';  -- to change, needs a restart\" <<<\"\$0\" &&
		grep -q \"^ALTER SYSTEM SET archive_command = '/usr/bin/pgbackrest --config=$conf --stanza=$db archive-push %p';\" <<<\"\$0\" &&
		grep -q \"^ALTER SYSTEM SET archive_timeout = '${rpo}s';\" <<<\"\$0\"" "$out"
ok "the stanza is named after the database and created in the repository" test -f "$repo/backup/$db/backup.info"
ok "the configuration belongs to the server's user, mode 640" test "$(stat -c '%U %a' "$conf")" = "postgres 640"
ok "the summary says what is missing" has '^pitr setup incomplete: .*restart the server' "$out"
run "${SETUP[@]}" --apply
ok "--apply sets them and asks for the restart archive_mode needs" \
	test "$rc" = 1 -a -n "$(has 'applied with ALTER SYSTEM: archive_mode archive_command archive_timeout' "$err" && echo y)"
is "$(q -c "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'") $(q -c "SELECT pending_restart FROM pg_settings WHERE name = 'archive_mode'")" \
	"$rpo t" "archive_timeout is in effect after the reload; archive_mode waits for the restart"
pgm_as_owner "$PGM_BIN/pg_ctl" -D "$p/data" -m fast -w restart >/dev/null
t0=$(date +%s)
run "${SETUP[@]}"
is "$rc" 0 "after the restart setup completes (stanza-create and check) in $(($(date +%s) - t0)) s"
ok "its summary says that WAL reaches the repository" has '^pitr setup ok: stanza pitr_test in posix:.*WAL reaches the repository' "$out"
conf_before=$(md5sum <"$conf")
run "${SETUP[@]}"
ok "a second run changes nothing and succeeds" \
	test "$rc" = 0 -a "$(md5sum <"$conf")" = "$conf_before" -a -n "$(has 'unchanged' "$err" && echo y)"
is "$(q -c "SELECT string_agg(status, ',' ORDER BY id) FROM pgmaint.backups WHERE kind = 'pitr_setup'")" \
	"failed,failed,failed,ok,ok" "every setup run is recorded (failed ones with the reason)"
is "$(q -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'pitr_setup'")" 5 "and audited"
is "$(check pitr_full_backup_age | cut -d' ' -f1) $(check pitr_backup)" "ok warning 1" \
	"set up without a drill: pitr_backup says 1 (warning), the ages still count from the setup"

echo "# at $(($(date +%s) - t_suite)) s"
# --- a full backup under load; writes, a marker, writes; restore to the marker --
start_load
run_ok "a full backup under load exits 0" pitr backup --type full "${S[@]}"
full1=$(q -c "SELECT detail->>'label' FROM pgmaint.backups WHERE kind = 'pitr_backup' AND status = 'ok' ORDER BY id DESC LIMIT 1")
ok "it is recorded from pgBackRest's own list: label, type, sizes, WAL range" \
	test "$(q -c "SELECT detail->>'type' = 'full' AND bytes > 0 AND (detail->>'database_size')::bigint > 0 AND detail->>'wal_start' IS NOT NULL AND finished > started FROM pgmaint.backups WHERE detail->>'label' = '$full1'")" = t
is "$(check pitr_full_backup_age | cut -d' ' -f1) $(check pitr_backup_age | cut -d' ' -f1)" "ok ok" "the age checks are ok"
# a target before the backup's end could not use it (pgBackRest keeps whole seconds)
done_rows=$(q -c "SELECT max(id) FROM load")
wait_for "SELECT max(id) > $done_rows + 40 FROM load" 30
q -c "INSERT INTO marks (name) VALUES ('marker')" >/dev/null
target=$(q -c "SELECT clock_timestamp()")
before_after=$(q -c "SELECT max(id) FROM load")
wait_for "SELECT count(*) > $before_after + 20 FROM load" 30
q -c "INSERT INTO marks (name) VALUES ('after')" >/dev/null
ok "the WAL past the marker reaches the archive" archive_now
run_ok "restore to just after the marker into a new directory exits 0" \
	pitr restore --target-time "$target" --into "$base/restored" "${S[@]}"
ok "its summary names the backup set and how to start it" has "^pitr restore ok: backup set $full1 .*start it with: pg_ctl -D $base/restored start" "$out"
ok "the restored copy starts and promotes at the target" start_copy "$base/restored" $((port + 1))
is "$(on_copy $((port + 1)) -c "SELECT string_agg(name, ',' ORDER BY name) FROM marks")" marker \
	"the marker is there, the row written after it is not"
is "$(on_copy $((port + 1)) -c "SELECT max(at) <= '$target' AND count(*) = max(id) FROM load")" t \
	"the load's rows stop at the target, none missing before it"
ok "rows written after the target are not there" \
	test "$(on_copy $((port + 1)) -c "SELECT max(id) FROM load")" -lt "$(q -c "SELECT max(id) FROM load")"
stop_copy "$base/restored"
run pitr restore --target-time "$target" --into "$base/restored" "${S[@]}"
ok "a restore into a non-empty directory is refused (exit $rc)" \
	test "$rc" = 1 -a -n "$(has 'is not empty' "$err" && echo y)"
run pitr restore --latest --into "$p/data" "${S[@]}"
ok "so is a restore over the running server's data directory" \
	test "$rc" = 1 -a -n "$(has 'is the data directory of the server' "$err" && echo y)"
run pitr restore --target-time "2099-01-01 00:00:00+00" --into "$base/future" "${S[@]}"
ok "and a target in the future" test "$rc" = 1 -a ! -e "$base/future"

echo "# at $(($(date +%s) - t_suite)) s"
# --- the recovery point under load, and on an idle server ------------------------
ok "under load recovery_point measures the writes not yet archived" \
	wait_for "SELECT value > 0 AND value <= $rpo AND status = 'ok' FROM live_checks WHERE check_name = 'recovery_point'" 30
stop_load
ok "an idle server whose last archive is older than two archive_timeouts is not behind (recovery_point 0)" \
	wait_for "SELECT a.last_archived_time < now() - interval '$((2 * rpo)) s' AND h.value = 0
	            FROM pg_stat_archiver a, live_checks h WHERE h.check_name = 'recovery_point'" 120
ok "recovery_point() says everything written, or every commit, is archived" \
	test "$(q -c "SELECT lag = '0' AND message ~ '^every (WAL byte written|committed transaction) is archived' FROM pgmaint.recovery_point()")" = t

echo "# at $(($(date +%s) - t_suite)) s"
# --- the drill -------------------------------------------------------------------
start_load
run_ok "the drill passes" pitr drill --target-age 0 --archive-wait 30 "${S[@]}"
ok "it says what it restored and checked" has "^pitr drill ok: backup set $full1 of stanza pitr_test restored to .*marker [0-9]+ is there, [0-9]+ is not" "$out"
is "$(q -c "SELECT status || ' ' || (detail->>'label') || ' ' || ((detail->>'before_marker')::int < (detail->>'after_marker')::int) FROM pgmaint.backups WHERE kind = 'pitr_drill' ORDER BY id DESC LIMIT 1")" \
	"ok $full1 true" "it is recorded in pgmaint.backups as pitr_drill, with its markers"
is "$(check pitr_backup)" "ok 0" "a passed drill turns pitr_backup ok"
is "$(ls -d /tmp/pgmaint_pitr_drill.* 2>/dev/null | wc -l)" 0 "the drill's scratch cluster is gone"

echo "# at $(($(date +%s) - t_suite)) s"
# --- the pg_cron schedule; its diff job's command run for real; expiry ---------
run_ok "pitr schedule exits 0" pitr schedule "${S[@]}"
is "$(q -c "SELECT string_agg(jobname || ' ' || schedule, ', ' ORDER BY jobname) FROM cron.job")" \
	"pgmaint-pitr-diff 30 1 * * 1-6, pgmaint-pitr-drill 0 4 * * 0, pgmaint-pitr-expire 0 3 * * *, pgmaint-pitr-full 30 1 * * 0" \
	"weekly full, daily differential, expiry and a weekly drill are scheduled"
run pitr schedule --diff '15 2 * * *' "${S[@]}"
is "$(q -c "SELECT count(*) || ' ' || max(schedule) FILTER (WHERE jobname = 'pgmaint-pitr-diff') FROM cron.job")" "4 15 2 * * *" \
	"scheduling again updates the jobs, no duplicate"
q -c "SELECT command FROM cron.job WHERE jobname = 'pgmaint-pitr-diff'" >"$base/job.sql"
ok "the job's command runs pgmaint_backup as the server's user (COPY TO PROGRAM): a differential backup" \
	q -f "$base/job.sql"
is "$(q -c "SELECT detail->>'type' || ' ' || (detail->>'prior' = '$full1') FROM pgmaint.backups WHERE kind = 'pitr_backup' AND status = 'ok' ORDER BY id DESC LIMIT 1")" \
	"diff true" "the job's differential backup is recorded, on top of the full one"
run_ok "setup again with one full backup kept" \
	pitr setup --repo "$repo" --rpo "$rpo" --log-path "$logs" --full-keep 1 "${S[@]}"
run pitr backup --type full "${S[@]}"
ok "a second full backup expires the first one and its differential" has "expired: $full1 ${full1}_" "$out"
is "$(q -c "SELECT count(*) FROM pgmaint.backups WHERE kind = 'pitr_backup' AND removed_at IS NOT NULL")" 2 \
	"both are marked removed in pgmaint.backups"
run pitr expire "${S[@]}"
ok "pitr expire runs the retention and records it" \
	test "$rc" = 0 -a "$(q -c "SELECT count(*) FROM pgmaint.backups WHERE kind = 'pitr_expire' AND status = 'ok'")" = 1
run pitr schedule --off "${S[@]}"
is "$(q -c "SELECT count(*) FROM cron.job")" 0 "--off unschedules the four jobs"

echo "# at $(($(date +%s) - t_suite)) s"
# --- archiving broken: archiver, recovery_point, and a drill that cannot reach its target
q -c "UPDATE pgmaint.thresholds SET warning = 10, critical = 20 WHERE check_name = 'recovery_point'" >/dev/null
q -c "ALTER SYSTEM SET archive_command = '/usr/bin/pgbackrest --config=$conf --stanza=nosuch archive-push %p'" \
	-c "SELECT pg_reload_conf()" >/dev/null
ok "a bad archive_command turns the archiver check to warning" \
	wait_for "SELECT status = 'warning' FROM live_checks WHERE check_name = 'archiver'" 60
run pitr drill --target-age 0 --archive-wait 3 "${S[@]}"
is "$rc" 1 "a drill whose target the archive cannot reach fails"
ok "it says why: recovery ended before the target, the WAL was not archived" \
	has 'did not recover to .*recovery ended before configured recovery target was reached.*was not archived within 3s' "$err"
is "$(q -c "SELECT status FROM pgmaint.backups WHERE kind = 'pitr_drill' ORDER BY id DESC LIMIT 1")" failed "the failed drill is recorded"
is "$(check pitr_backup)" "critical 2" "a failed drill turns pitr_backup critical"
ok "recovery_point turns to warning as the unarchived writes age" \
	wait_for "SELECT status IN ('warning', 'critical') FROM live_checks WHERE check_name = 'recovery_point'" 60
ok "then to critical" \
	wait_for "SELECT status = 'critical' AND message ~ 'WAL file\(s\) wait for the archiver' FROM live_checks WHERE check_name = 'recovery_point'" 60
PGBACKREST_ARCHIVE_TIMEOUT=5 run pitr check "${S[@]}"
ok "pitr check says that WAL does not reach the repository" \
	test "$rc" = 1 -a -n "$(has 'WAL archiving does not reach the repository|archive' "$err" && echo y)"
run_ok "setup --apply puts the right archive_command back" "${SETUP[@]}" --apply
ok "the archive catches up: recovery_point back to ok" \
	wait_for "SELECT status = 'ok' FROM live_checks WHERE check_name = 'recovery_point'" 90
run pitr drill --target-age 0 "${S[@]}"
is "$rc:$(check pitr_backup)" "0:ok 0" "the next drill passes and clears the critical state"

echo "# at $(($(date +%s) - t_suite)) s"
# --- the repository unreachable ---------------------------------------------------
mv "$repo" "$repo.away"
run pitr check "${S[@]}"
ok "with the repository gone pitr check fails (exit $rc) and says it cannot be reached" \
	test "$rc" = 1 -a -n "$(has "the repository posix:$repo cannot be reached" "$err" && echo y)"
run pitr backup --type diff "${S[@]}"
is "$rc:$(check pitr_backup)" "1:critical 2" "a backup fails too, and pitr_backup turns critical"
mv "$repo.away" "$repo"
run pitr backup --type diff "${S[@]}"
is "$rc:$(check pitr_backup)" "0:ok 0" "with the repository back the next backup clears it"

echo "# at $(($(date +%s) - t_suite)) s"
# --- RPO: kill -9 under load, restore to the end of the archive ------------------
# Waits until archive_timeout (no manual switch) archives another WAL file.
timeout_archive() {
	local t
	t=$(q -c "SELECT last_archived_time FROM pg_stat_archiver")
	wait_for "SELECT last_archived_time > '$t' FROM pg_stat_archiver" $((2 * rpo + 5))
}
ok "under load archive_timeout archives a WAL file every ${rpo} s, without manual switches" timeout_archive
ok "and the next one" timeout_archive
sleep "$((RANDOM % rpo)).$((RANDOM % 10))"  # the crash comes at any point of an archive interval
pm=$(head -n 1 "$p/data/postmaster.pid")
procs="$pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
# shellcheck disable=SC2086  # one pid a word
kill -9 $procs
wait "$load_pid" 2>/dev/null
load_on=false
# Succeeds once none of the processes PIDS exists (zombies reaped too).
all_gone() {
	local deadline=$(($(date +%s) + 60)) pid alive
	while :; do
		alive=""
		for pid in "$@"; do ps -p "$pid" >/dev/null && alive=$pid; done
		[ -z "$alive" ] && return 0
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
# shellcheck disable=SC2086
ok "the primary and all its processes are dead (kill -9)" all_gone $procs
run_ok "with the server dead, restore to the end of the archive exits 0" \
	pitr restore --latest --into "$base/rpo" "${S[@]}"
ok "it could not record (no server), and says so" has 'not recorded in pgmaint.backups: could not connect' "$err"
ok "the copy recovers to the end of the archive and promotes" start_copy "$base/rpo" $((port + 2))
restored=$(on_copy $((port + 2)) -c "SELECT count(*) || ' ' || max(id) || ' ' || extract(epoch FROM max(at)) FROM load")
# the truth: the crashed primary after crash recovery from its own pg_wal
ok "the crashed primary starts again (crash recovery from its own pg_wal)" pgm_cluster_start "$p"
truth=$(q -c "SELECT count(*) || ' ' || max(id) || ' ' || extract(epoch FROM max(at)) FROM load")
read -r r_n r_max r_at <<<"$restored"
read -r t_n _ t_at <<<"$truth"
if [[ "$r_n $t_n" =~ ^[0-9]+\ [0-9]+$ ]]; then
	lost=$((t_n - r_n))
	lost_s=$(echo "$t_at - $r_at" | bc -l | xargs printf '%.1f')
	echo "# RPO with archive_timeout = ${rpo}s and 20 commits/s: $lost of $t_n rows lost, the last $lost_s s of writes"
else
	lost_s=""
	echo "# the row counts could not be read: restored '$restored', crashed primary '$truth'"
fi
ok "the restored rows have no gap ($r_n rows, the last id $r_max)" test -n "$r_n" -a "$r_n" = "$r_max"
ok "rows lost: only those of the last archive interval (${lost_s:-?} s <= ${rpo} s + 3 s)" \
	test -n "$lost_s" -a "$(echo "${lost_s:-0} <= $rpo + 3" | bc)" = 1
stop_copy "$base/rpo"

echo "# at $(($(date +%s) - t_suite)) s"
# --- S3: s3rver over TLS with a self-signed certificate --------------------------
cache=${PGMAINT_TEST_CACHE:-/var/cache/pgmaint-test}/s3rver-3.7.1
s3=$base/s3
s3port=$((port + 10))
mkdir -p "$s3/data"
if [ ! -x "$cache/node_modules/.bin/s3rver" ] && command -v npm >/dev/null; then
	mkdir -p "$cache"
	timeout 300 npm install --prefix "$cache" --no-audit --no-fund --loglevel=error s3rver@3.7.1 >"$s3/npm.log" 2>&1
fi
ok "s3rver 3.7.1 is installed in $cache (npm)" test -x "$cache/node_modules/.bin/s3rver"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost" \
	-keyout "$s3/key.pem" -out "$s3/cert.pem" >/dev/null 2>&1
chmod 644 "$s3/cert.pem"
node "$cache/node_modules/.bin/s3rver" -d "$s3/data" -a 127.0.0.1 -p "$s3port" --key "$s3/key.pem" --cert "$s3/cert.pem" \
	--configure-bucket pgmaint >"$s3/s3rver.log" 2>&1 &
s3_pid=$!
ok "s3rver serves HTTPS on 127.0.0.1:$s3port" \
	bash -c 'for i in $(seq 50); do curl -s --cacert "$1" "https://localhost:$2/" | grep -q "<Name>pgmaint</Name>" && exit 0; sleep 0.2; done; exit 1' _ "$s3/cert.pem" "$s3port"
S3=(--config "$etc/s3.conf")
export PGMAINT_S3_KEY=S3RVER PGMAINT_S3_KEY_SECRET=S3RVER
run_ok "setup with an S3 repository (TLS verified against the self-signed certificate) completes" \
	pitr setup --repo /pitr --rpo "$rpo" --log-path "$logs" --s3-endpoint "localhost:$s3port" --s3-bucket pgmaint \
	--s3-ca-file "$s3/cert.pem" --apply "${S3[@]}"
ok "the key is in the configuration only, readable by the server's user alone" \
	test "$(grep -c '^repo1-s3-key-secret=S3RVER$' "$etc/s3.conf"):$(stat -c '%U %a' "$etc/s3.conf")" = "1:postgres 640"
run_ok "a full backup into S3" pitr backup --type full "${S3[@]}"
q -c "INSERT INTO marks (name) VALUES ('in s3')" >/dev/null
ok "the WAL with the new row reaches S3" archive_now 60
run_ok "restore from S3 to the end of its archive" pitr restore --latest --into "$base/s3copy" "${S3[@]}"
ok "the copy from S3 starts" start_copy "$base/s3copy" $((port + 3))
is "$(on_copy $((port + 3)) -c "SELECT count(*) FROM marks WHERE name = 'in s3'" -d "$db")" 1 \
	"S3 round trip: the row written after the backup is there"
stop_copy "$base/s3copy"
# back to the disk repository, then the endpoint goes down
run "${SETUP[@]}" --apply
kill "$s3_pid" && wait "$s3_pid" 2>/dev/null
s3_pid=""
out=$(PGBACKREST_IO_TIMEOUT=1 "$B" pitr check "${S3[@]}" 2>&1)
ok "with the S3 endpoint down pitr check fails and says the repository cannot be reached" \
	has "the repository s3:localhost:$s3port/pgmaint/pitr cannot be reached: .*unable to connect" "$out"

echo "# suite: $(($(date +%s) - t_suite)) s"
finish

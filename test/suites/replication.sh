#!/usr/bin/env bash
# Streaming replication with PostgreSQL's own tools: a primary and two
# standbys made with pg_basebackup -R.  Every replication check against
# planted states: an idle primary (no false lag), a standby paused while the
# primary writes (lag in bytes and seconds past the thresholds, then back to
# 0 after resume), a standby stopped (standby_missing), a promotion (the new
# primary's worker writes history within two intervals) and the old primary
# rewound with pg_rewind, rejoining as a standby that samples read-only.
set -u
. "$(dirname "$0")/../lib.sh"

base=$PGM_TMP/replication
p=$base-p
s1=$base-s1
s2=$base-s2
pport=$PGM_PORT_BASE
s1port=$((PGM_PORT_BASE + 1))
s2port=$((PGM_PORT_BASE + 2))
trap 'pgm_cluster_stop "$s2"; pgm_cluster_stop "$s1"; pgm_cluster_stop "$p"' EXIT

# Runs SQL on the node whose directory and port are given.
on() {
	local dir=$1 port=$2
	shift 2
	PGHOST=$dir PGPORT=$port PGDATABASE=postgres q "$@"
}

# Polls SQL on a node until it returns t or SECONDS pass.
wait_on() {
	local dir=$1 port=$2 sql=$3 seconds=${4:-60}
	PGHOST=$dir PGPORT=$port PGDATABASE=postgres wait_for "$sql" "$seconds"
}

# status and value of a check on a node, as "status value"
check() {
	on "$1" "$2" -c "SELECT status || ' ' || coalesce(value::text, 'NULL') FROM pgmaint.health_checks() WHERE check_name = '$3'"
}

pgm_cluster_init "$p" "$pport" postgres pgmaint >/dev/null || exit 1
cat >>"$p/data/postgresql.conf" <<CONF
# replication suite: pg_rewind needs hint bits logged, full page writes and
# the WAL since the last checkpoint before the timelines diverged
wal_log_hints = on
full_page_writes = on
wal_keep_size = 512MB
wal_receiver_status_interval = 1s
pgmaint.sample_interval = 1s
pgmaint.expected_standbys = 2
CONF
pgm_cluster_start "$p" || exit 1
on "$p" "$pport" -c "CREATE EXTENSION pgmaint" >/dev/null

is "$(check "$p" "$pport" replication_lag)" "ok 0" "a primary without standbys has no lag"
is "$(check "$p" "$pport" standby_missing)" "warning 2" "two expected standbys are missing"
is "$(on "$p" "$pport" -c "SELECT pgmaint.health() ->> 'role'")" "primary" "health() says primary"

# Makes a standby of the primary in DIR on PORT, named NAME.
make_standby() {
	local dir=$1 port=$2 name=$3
	mkdir -p "$dir" && chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	pgm_as_owner "$PGM_BIN/pg_basebackup" -h "$p" -p "$pport" -U postgres -D "$dir/data" -R -X stream -c fast ||
		return 1
	cat >>"$dir/data/postgresql.conf" <<CONF
# standby $name of the replication suite
port = $port
unix_socket_directories = '$dir'
cluster_name = '$name'
hot_standby = on
pgmaint.expected_standbys = 0
CONF
	echo "primary_conninfo = 'host=$p port=$pport user=postgres application_name=$name'" >>"$dir/data/postgresql.auto.conf"
	pgm_cluster_start "$dir"
}
ok "standby s1 made with pg_basebackup -R" make_standby "$s1" "$s1port" s1
ok "standby s2 made with pg_basebackup -R" make_standby "$s2" "$s2port" s2
ok "the primary's replication() lists both standbys streaming" \
	wait_on "$p" "$pport" "SELECT count(*) = 2 FROM pgmaint.replication() WHERE state = 'streaming'" 60
ok "standby_missing is ok with both" \
	wait_on "$p" "$pport" "SELECT status = 'ok' FROM pgmaint.health_checks() WHERE check_name = 'standby_missing'" 30
is "$(on "$s1" "$s1port"  -c "SELECT pgmaint.health() ->> 'role', pgmaint.health() ->> 'system_identifier' = '$(on "$p" "$pport" -c "SELECT system_identifier FROM pg_control_system()")'")" "standby|t" \
	"the standby says standby and carries the primary's system identifier"
is "$(check "$s1" "$s1port" wal_receiver)" "ok 0" "the standby's WAL receiver streams"
is "$(on "$s1" "$s1port" -c "SELECT upstream LIKE '%:$pport' FROM pgmaint.replication()")" "t" \
	"the standby names the primary it follows"

# an idle primary: the last replayed transaction gets old, yet nothing lags
# (the primary's worker, which writes its history every sample, slows down)
on "$p" "$pport" -c "ALTER SYSTEM SET pgmaint.sample_interval = '1h'" -c "SELECT pg_reload_conf()" >/dev/null
on "$p" "$pport" -c "CREATE TABLE rep_t (id int, pad text)" >/dev/null
ok "the standby replays the last transaction" \
	wait_on "$s1" "$s1port" "SELECT to_regclass('rep_t') IS NOT NULL" 60
ok "the last replayed transaction is more than 3 s old" \
	wait_on "$s1" "$s1port" "SELECT clock_timestamp() - pg_last_xact_replay_timestamp() > interval '3 s'" 60
is "$(check "$s1" "$s1port" replication_lag)" "ok 0.0" "an idle standby that replayed everything has no lag"
ok "an idle primary sees no lag either" \
	wait_on "$p" "$pport" "SELECT value = 0 FROM pgmaint.health_checks() WHERE check_name = 'replication_lag'" 30
on "$p" "$pport" -c "ALTER SYSTEM RESET pgmaint.sample_interval" -c "SELECT pg_reload_conf()" >/dev/null

# replay paused on s1 while the primary writes: lag in bytes and seconds past the thresholds
on "$p" "$pport" <<'SQL' >/dev/null
UPDATE pgmaint.thresholds SET warning = 2, critical = 3600 WHERE check_name = 'replication_lag';
UPDATE pgmaint.thresholds SET warning = 1048576, critical = 1073741824 WHERE check_name = 'replication_lag_bytes';
SQL
ok "the thresholds reach the standby" \
	wait_on "$s1" "$s1port" "SELECT warning = 2 FROM pgmaint.thresholds WHERE check_name = 'replication_lag'" 60
on "$s1" "$s1port" -c "SELECT pg_wal_replay_pause()" >/dev/null
ok "replay_paused turns to warning" \
	wait_on "$s1" "$s1port" "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'replay_paused'" 30
on "$p" "$pport" -c "INSERT INTO rep_t SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g" >/dev/null
ok "the paused standby's lag in bytes passes 1 MB" \
	wait_on "$s1" "$s1port" "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'replication_lag_bytes'" 60
ok "the paused standby's lag in seconds passes 2 s" \
	wait_on "$s1" "$s1port" "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'replication_lag'" 60
ok "the primary sees s1 behind in bytes" \
	wait_on "$p" "$pport" "SELECT lag_bytes > 1048576 FROM pgmaint.replication() WHERE application_name = 's1'" 60
ok "the primary's replication_lag passes 2 s" \
	wait_on "$p" "$pport" "SELECT status = 'warning' AND message LIKE '%s1%' FROM pgmaint.health_checks() WHERE check_name = 'replication_lag'" 60
ok "the standby's samples record its lag" \
	wait_on "$s1" "$s1port" "SELECT bool_and(in_recovery) AND max(replication_lag) > interval '2 s' FROM pgmaint.samples(now() - interval '10 s')" 30
on "$s1" "$s1port" -c "SELECT pg_wal_replay_resume()" >/dev/null
ok "after resume the standby's lag is back to 0" \
	wait_on "$s1" "$s1port" "SELECT string_agg(status, ',' ORDER BY check_name) = 'ok,ok,ok' FROM pgmaint.health_checks()
	                           WHERE check_name IN ('replication_lag', 'replication_lag_bytes', 'replay_paused')" 60
ok "and so is the primary's" \
	wait_on "$p" "$pport" "SELECT value = 0 FROM pgmaint.health_checks() WHERE check_name = 'replication_lag'" 60

# a standby stopped
pgm_cluster_stop "$s2"
ok "standby_missing counts the stopped standby" \
	wait_on "$p" "$pport" "SELECT status || ' ' || value = 'warning 1' AND message LIKE '1 of 2%' FROM pgmaint.health_checks() WHERE check_name = 'standby_missing'" 60
on "$p" "$pport" -c "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (s2)'" -c "SELECT pg_reload_conf()" >/dev/null
ok "a synchronous standby that is not connected is named" \
	wait_on "$p" "$pport" "SELECT value = 2 AND message LIKE 'synchronous standby s2 %' FROM pgmaint.health_checks() WHERE check_name = 'standby_missing'" 30
on "$p" "$pport" -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" >/dev/null

# promotion of s1: its worker starts writing history within two intervals
history=$(on "$s1" "$s1port" -c "SELECT count(*) FROM pgmaint.sample_history")
pgm_as_owner "$PGM_BIN/pg_ctl" -D "$s1/data" -w promote >/dev/null
ok "s1 is promoted" wait_on "$s1" "$s1port" "SELECT NOT pg_is_in_recovery()" 60
ok "the new primary's worker writes history within two intervals" \
	wait_on "$s1" "$s1port" "SELECT count(*) > $history AND bool_or(NOT in_recovery) FROM pgmaint.sample_history" 10
is "$(on "$s1" "$s1port" -c "SELECT pgmaint.health() ->> 'role'")" "primary" "health() on s1 says primary"

# the old primary, stopped, rewound and rejoining as a standby of s1
on "$p" "$pport" -c "INSERT INTO rep_t VALUES (-1, 'diverged')" >/dev/null
pgm_cluster_stop "$p"
# pg_rewind reads the new timeline from the source's control file: checkpoint first
on "$s1" "$s1port" -c "CHECKPOINT" >/dev/null
ok "pg_rewind rewinds the old primary onto s1's timeline" \
	pgm_as_owner "$PGM_BIN/pg_rewind" --target-pgdata="$p/data" \
	--source-server="host=$s1 port=$s1port user=postgres dbname=postgres"
# pg_rewind copied s1's configuration files: give the node its own port and socket back
cat >>"$p/data/postgresql.conf" <<CONF
# the old primary, rejoining as a standby of s1
port = $pport
unix_socket_directories = '$p'
cluster_name = 'p'
CONF
pgm_as_owner touch "$p/data/standby.signal"
echo "primary_conninfo = 'host=$s1 port=$s1port user=postgres application_name=p'" >>"$p/data/postgresql.auto.conf"
pgm_cluster_start "$p"
ok "the old primary is a standby now" wait_on "$p" "$pport" "SELECT pg_is_in_recovery()" 60
ok "s1's replication() lists it" \
	wait_on "$s1" "$s1port" "SELECT EXISTS (SELECT 1 FROM pgmaint.replication() WHERE application_name = 'p' AND state = 'streaming')" 60
persisted=$(on "$p" "$pport" -c "SELECT samples_persisted FROM pgmaint.sampler_status()")
ok "its worker samples read-only" \
	wait_on "$p" "$pport" "SELECT running AND in_recovery AND samples_taken >= 3 AND samples_persisted = $persisted FROM pgmaint.sampler_status()" 60
is "$(on "$p" "$pport" -c "SELECT count(*) FROM rep_t WHERE id = -1")" "0" "the diverged row is gone after the rewind"
finish

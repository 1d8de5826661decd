#!/usr/bin/env bash
# Health events (issue 15): the worker turns each change of a check's status
# into a row of pgmaint.health_events, a log line and NOTIFY pgmaint_health;
# pgmaint.alert_hold keeps an oscillating value from flooding; a failing
# event step is logged once and never stops the sampler; a hot standby logs
# its events and keeps them in shared memory.  Runs its own primary and standby.
# packages: postgresql-15
set -u
. "$(dirname "$0")/../lib.sh"

base="$PGM_TMP/health_events"
primary="$base/primary"
standby="$base/standby"
pport=$PGM_PORT_BASE
sport=$((PGM_PORT_BASE + 1))
listener_pid=""
holder_pid=""
cleanup() {
	[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null
	[ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
	pgm_cluster_stop "$standby"
	pgm_cluster_stop "$primary"
}
trap cleanup EXIT

pgm_cluster_init "$primary" "$pport" postgres pgmaint >/dev/null || exit 1
cat >>"$primary/data/postgresql.conf" <<CONF
pgmaint.sample_interval = 1
# nothing fires until the test has set its thresholds
pgmaint.alert_hold = 3600
CONF
pgm_cluster_start "$primary" || exit 1
export PGHOST=$primary PGPORT=$pport PGUSER=postgres PGDATABASE=postgres

q -c "CREATE EXTENSION pgmaint"
# only the connections check, whose thresholds the test moves
q -c "UPDATE pgmaint.thresholds SET enabled = (check_name = 'connections')"
q -c "UPDATE pgmaint.thresholds SET warning = 50, critical = 95 WHERE check_name = 'connections'"
# one client session stays open, so the connections value is never 0
psql -X -q -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
holder_pid=$!
ok "the worker runs" wait_for "SELECT running FROM pgmaint.sampler_status()" 60
q -c "ALTER SYSTEM SET pgmaint.alert_hold = -1" -c "SELECT pg_reload_conf()" >/dev/null
ok "the default alert_hold is in force" wait_for "SELECT current_setting('pgmaint.alert_hold') = '-1'" 30
is "$(q -c "SELECT current_setting('pgmaint.health_interval')")" "-1" "health_interval defaults to -1 (the sample interval)"
# the server has signalled the worker: its second evaluation from now runs in
# a loop that has reloaded (hold: one evaluation); a first status graded as an
# event would be written by the third
ok "the worker evaluates the checks three times" wait_worker_step events 3
is "$(q -c "SELECT count(*) FROM pgmaint.health_events")" "0" "checks that are fine from the start give no event"

# a LISTENing session, to see the NOTIFY
{
	echo "LISTEN pgmaint_health;"
	for i in $(seq 1 300); do echo "SELECT pg_sleep(0.2);"; done
} | psql -X -q -A -t >"$base/listen.out" 2>&1 &
listener_pid=$!
ok "the listener is listening (it has gone on to its first pg_sleep)" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(0.2);')" 30

# worsening: ok -> warning
before=$(q -c "SELECT now()")
q -c "UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'connections'"
ok "a worsening becomes an event" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.health_events WHERE check_name = 'connections' AND old_status = 'ok' AND new_status = 'warning'" 30
is "$(q -c "SELECT overall, value > 0, message <> '' FROM pgmaint.health_events")" "warning|t|t" \
	"the event has the overall status, the value and the message"
ok "the worsening is logged at WARNING with the pgmaint: prefix" \
	grep -q 'WARNING:  pgmaint: health check "connections" changed from ok to warning (value ' "$primary/server.log"
deadline=$(($(date +%s) + 30))
until grep -q 'pgmaint_health' "$base/listen.out" || [ "$(date +%s)" -ge "$deadline" ]; do sleep 0.2; done
payload=$(sed -n 's/^Asynchronous notification "pgmaint_health" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' "$base/listen.out" | head -1)
is "$(printf '%s' "$payload" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["check"], d["old_status"], d["new_status"], d["overall"], d["database"], len(json.dumps(d)) < 8000)')" \
	"connections ok warning warning postgres True" "LISTEN pgmaint_health receives the event as compact JSON"
is "$(q -c "SELECT h->>'status', (h->>'since')::timestamptz = (SELECT at FROM pgmaint.health_events) FROM pgmaint.health() h")" \
	"warning|t" "health() says since when the overall status is warning"
is "$(q -c "SELECT count(*) FROM pgmaint.events('$before') WHERE source = 'table'")" "1" "events(since) returns the event"
is "$(q -c "SELECT count(*) FROM pgmaint.events(now() + interval '1 min')")" "0" "events(since) leaves out older events"

# a payload never exceeds NOTIFY's limit: the message is cut, the JSON stays whole
is "$(q -c "SELECT pgmaint._health_event_payload(now(), 'x', 'ok', 'warning', 1, repeat('\"é\\', 100000), 'warning')" |
	/usr/bin/python3 -c 'import json,sys; s=sys.stdin.read().strip(); d=json.loads(s); print(len(s.encode()) < 8000, len(d["message"]))')" \
	"True 500" "a huge message is cut to 500 characters inside valid JSON"

# a restarted worker reads its statuses back and repeats nothing.  It is
# restarted while the check is warning: a worker that did not read them back
# would take warning for a new status and record it at its second evaluation.
wpid=$(q -c "SELECT pid FROM pgmaint.sampler_status()")
gone=$(stop_worker)
ok "the worker comes back" wait_for "SELECT running AND pid <> $wpid FROM pgmaint.sampler_status()" 60
ok "the new worker evaluates the checks three times" wait_worker_step events 3 "$gone"
is "$(q -c "SELECT count(*) FROM pgmaint.health_events")" "1" "a restarted worker repeats no event"

# recovery: warning -> ok, at LOG
q -c "UPDATE pgmaint.thresholds SET warning = 50 WHERE check_name = 'connections'"
ok "a recovery becomes an event" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.health_events WHERE old_status = 'warning' AND new_status = 'ok'" 30
ok "the recovery is logged at LOG" \
	grep -q 'LOG:  pgmaint: health check "connections" changed from warning to ok' "$primary/server.log"
is "$(q -c "SELECT h->>'status', (h->>'since')::timestamptz = (SELECT max(at) FROM pgmaint.health_events) FROM pgmaint.health() h")" \
	"ok|t" "health()'s since moves to the recovery"

# oscillation around the threshold: bounded by alert_hold.  Each flip stays
# until the worker has evaluated it (about 1 s, one evaluation), so every flip
# is graded; the final ok is then evaluated $1 times.
oscillate() {
	local i after=$1
	for i in $(seq 1 12); do
		q -c "UPDATE pgmaint.thresholds SET warning = CASE WHEN warning = 1 THEN 50 ELSE 1 END WHERE check_name = 'connections'"
		wait_worker_step events 1 "" 30 || return 1
	done
	q -c "UPDATE pgmaint.thresholds SET warning = 50 WHERE check_name = 'connections'"
	wait_worker_step events "$after" "" 30
}
q -c "ALTER SYSTEM SET pgmaint.alert_hold = 3" -c "SELECT pg_reload_conf()" >/dev/null
ok "alert_hold = 3 s is in force" wait_for "SELECT current_setting('pgmaint.alert_hold') = '3s'" 30
# the server has signalled the worker: its second evaluation from now runs with the new hold
ok "the worker has reloaded (two evaluations)" wait_worker_step events 2
n0=$(q -c "SELECT count(*) FROM pgmaint.health_events")
# a 3 s hold is three evaluations: a status held back fires at the fourth; five after the last flip
ok "12 flips, each evaluated, then five evaluations" oscillate 5
n1=$(q -c "SELECT count(*) FROM pgmaint.health_events")
ok "12 flips of about 1 s (one evaluation each) under a 3 s hold give at most 1 event (got $((n1 - n0)))" [ $((n1 - n0)) -le 1 ]
q -c "ALTER SYSTEM SET pgmaint.alert_hold = 0" -c "SELECT pg_reload_conf()" >/dev/null
ok "alert_hold = 0 is in force" wait_for "SELECT current_setting('pgmaint.alert_hold') = '0'" 30
ok "the worker has reloaded (two evaluations)" wait_worker_step events 2
n1=$(q -c "SELECT count(*) FROM pgmaint.health_events")
ok "12 flips, each evaluated, then one evaluation" oscillate 1
n2=$(q -c "SELECT count(*) FROM pgmaint.health_events")
is "$((n2 - n1))" 12 "without a hold each of the 12 flips gives an event"
q -c "ALTER SYSTEM SET pgmaint.alert_hold = -1" -c "SELECT pg_reload_conf()" >/dev/null
ok "the default alert_hold is back" wait_for "SELECT current_setting('pgmaint.alert_hold') = '-1'" 30
ok "the overall status settles to ok" \
	wait_for "SELECT overall = 'ok' FROM pgmaint.health_events ORDER BY id DESC LIMIT 1" 30

# a failing event step is logged once; the sampler goes on; the event is retried
q -c "ALTER TABLE pgmaint.health_events RENAME TO health_events_away"
taken=$(q -c "SELECT samples_taken FROM pgmaint.sampler_status()")
q -c "UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'connections'"
ok "the sampler keeps sampling while the event step fails" \
	wait_for "SELECT samples_taken >= $taken + 5 FROM pgmaint.sampler_status()" 60
is "$(grep -c 'pgmaint sampler step "events" failed' "$primary/server.log")" "1" "the failing event step is logged once"
ok "the failure is the worker's last error" \
	wait_for "SELECT last_error LIKE 'events: %' FROM pgmaint.sampler_status()" 10
q -c "ALTER TABLE pgmaint.health_events_away RENAME TO health_events"
ok "once the table is back, the event is written" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.health_events WHERE new_status = 'warning' AND at > now() - interval '30 s'" 30
ok "and the worker's error is cleared" wait_for "SELECT last_error IS NULL FROM pgmaint.sampler_status()" 30
is "$(grep -c 'changed from ok to warning' "$primary/server.log")" "$(q -c "SELECT count(*) FROM pgmaint.health_events WHERE old_status = 'ok' AND new_status = 'warning'")" \
	"each event is logged once, the retried one too"
q -c "UPDATE pgmaint.thresholds SET warning = 50 WHERE check_name = 'connections'"
ok "back to ok" wait_for "SELECT overall = 'ok' FROM pgmaint.health_events ORDER BY id DESC LIMIT 1" 30

# pruning with history_retention
q -c "INSERT INTO pgmaint.health_events (at, check_name, new_status, overall) VALUES (now() - interval '30 days', 'old', 'ok', 'ok')"
ok "events older than history_retention are pruned" \
	wait_for "SELECT count(*) = 0 FROM pgmaint.health_events WHERE check_name = 'old'" 30

# pg_monitor reads the events
q -c "CREATE ROLE watcher LOGIN IN ROLE pg_monitor"
is "$(psql -X -A -t -q -U watcher -c "SELECT count(*) > 0 FROM pgmaint.events(NULL)" -c "SELECT count(*) > 0 FROM pgmaint.health_events")" \
	"t
t" "a pg_monitor role reads events() and health_events"

# --- hot standby: log and shared memory, no NOTIFY, no write ----------------
mkdir -p "$standby"
chmod 755 "$standby"
[ "$(id -u)" = 0 ] && chown postgres: "$standby"
ok "pg_basebackup copies the primary" \
	pgm_as_owner "$PGM_BIN/pg_basebackup" -h "$primary" -p "$pport" -U postgres -D "$standby/data" -R -X stream -c fast
cat >>"$standby/data/postgresql.conf" <<CONF
port = $sport
unix_socket_directories = '$standby'
hot_standby = on
CONF
pgm_cluster_start "$standby" || exit 1
export PGHOST=$standby PGPORT=$sport
ok "the standby's worker runs" \
	wait_for "SELECT running AND in_recovery FROM pgmaint.sampler_status()" 60
ok "and has evaluated the checks (its statuses start at ok)" wait_worker_step events 2
export PGHOST=$primary PGPORT=$pport
primary_rows=$(q -c "SELECT count(*) FROM pgmaint.health_events")
# warning = 0: the standby's value (its own client sessions) is >= 0 whatever it is
q -c "UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'connections'"
export PGHOST=$standby PGPORT=$sport
ok "the standby keeps its event in shared memory" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.events(NULL) WHERE source = 'memory' AND new_status = 'warning'" 60
ok "the standby logs its event" \
	grep -q 'WARNING:  pgmaint: health check "connections" changed from ok to warning' "$standby/server.log"
is "$(q -c "SELECT h->>'status', (h->>'since')::timestamptz = (SELECT at FROM pgmaint.events(NULL) WHERE source = 'memory') FROM pgmaint.health() h")" \
	"warning|t" "health()'s since on the standby comes from its own events"
export PGHOST=$primary PGPORT=$pport
q -c "UPDATE pgmaint.thresholds SET warning = 50 WHERE check_name = 'connections'"
export PGHOST=$standby PGPORT=$sport
ok "the standby records the recovery too" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.events(NULL) WHERE source = 'memory' AND new_status = 'ok'" 60
is "$(q -c "SELECT last_error IS NULL FROM pgmaint.sampler_status()")" "t" "the standby's event step has no error"
is "$(grep -E 'ERROR|FATAL|PANIC' "$standby/server.log" | grep -vc 'the database system is starting up')" "0" \
	"the standby's log has no error"
ok "the standby's events are the primary's table rows plus its own" \
	wait_for "SELECT count(*) FILTER (WHERE source = 'table') >= $primary_rows FROM pgmaint.events(NULL)" 30
finish

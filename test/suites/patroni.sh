#!/usr/bin/env bash
# Patroni 3.0 with etcd 3.4, two PostgreSQL nodes with pgmaint and pg_cron
# preloaded through Patroni's configuration, all on 127.0.0.1: both workers
# run with the right role; the leader dies (its Patroni and its server are
# killed); Patroni fails over; the new leader's health() says primary, its
# history grows and pg_cron jobs run there; the old leader rejoins as a
# replica (pg_rewind) that samples read-only, listed by replication().
# packages: patroni etcd-server curl
set -u
. "$(dirname "$0")/../lib.sh"

for cmd in patroni etcd curl; do
	command -v "$cmd" >/dev/null || { echo "skipped: $cmd is not installed"; exit 0; }
done

base=$PGM_TMP/patroni
etcd_port=$((PGM_PORT_BASE + 10))
etcd_peer=$((PGM_PORT_BASE + 11))
mkdir -p "$base-etcd"
pids=""

stop_all() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	for n in 1 2; do
		[ -f "$base-n$n/data/postmaster.pid" ] &&
			pgm_as_owner "$PGM_BIN/pg_ctl" -D "$base-n$n/data" -m immediate -w stop >/dev/null 2>&1
	done
	for p in $pids; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
}
trap stop_all EXIT

etcd --name pgmaint-test --data-dir "$base-etcd/data" \
	--listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
	--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
	--initial-cluster "pgmaint-test=http://127.0.0.1:$etcd_peer" >"$base-etcd/etcd.log" 2>&1 &
etcd_pid=$!
pids="$etcd_pid"

# Polls a shell command until it succeeds or SECONDS pass.
until_ok() {
	local seconds=$1 deadline
	shift
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}
ok "etcd answers on 127.0.0.1:$etcd_port" \
	until_ok 60 sh -c "curl -sf http://127.0.0.1:$etcd_port/health | grep -q true"

# Writes node N's Patroni configuration.
node_config() {
	local n=$1 dir=$base-n$1
	local pg_port=$((PGM_PORT_BASE + 30 + n)) api_port=$((PGM_PORT_BASE + 20 + n))
	mkdir -p "$dir" && chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	cat >"$dir/patroni.yml" <<YAML
scope: pgmaint-test
name: n$n
restapi:
  listen: 127.0.0.1:$api_port
  connect_address: 127.0.0.1:$api_port
etcd3:
  hosts: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 104857600
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_log_hints: 'on'
        max_worker_processes: 16
        shared_preload_libraries: 'pg_cron,pgmaint'
        cron.database_name: postgres
        cron.use_background_workers: 'on'
        pgmaint.database: postgres
        pgmaint.sample_interval: 1s
  initdb:
  - encoding: UTF8
  - locale: C.UTF-8
postgresql:
  listen: 127.0.0.1:$pg_port
  connect_address: 127.0.0.1:$pg_port
  data_dir: $dir/data
  bin_dir: $PGM_BIN
  pgpass: $dir/pgpass
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: pgmaint-test
    replication:
      username: postgres
      password: pgmaint-test
  parameters:
    unix_socket_directories: '$dir'
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host replication all 127.0.0.1/32 trust
YAML
	chown postgres: "$dir/patroni.yml"
}

# Starts node N's Patroni as postgres; its own pid (not runuser's) goes to node_pid[N].
declare -A node_pid
start_node() {
	local n=$1 dir=$base-n$1
	rm -f "$dir/patroni.pid"
	runuser -u postgres -- sh -c 'cd / && echo $$ >"$1/patroni.pid" && exec patroni "$1/patroni.yml"' sh "$dir" \
		>>"$dir/patroni.log" 2>&1 &
	until_ok 30 test -s "$dir/patroni.pid"
	node_pid[$n]=$(cat "$dir/patroni.pid")
	pids="$pids ${node_pid[$n]}"
}

# HTTP status of a node's Patroni REST endpoint (leader: 200 on the leader).
api() {
	curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((PGM_PORT_BASE + 20 + $1))/$2"
}
is_leader() { [ "$(api "$1" leader)" = 200 ]; }
is_replica() { [ "$(api "$1" replica)" = 200 ]; }

# Runs SQL on node N through its socket.
on() {
	local n=$1
	shift
	PGHOST=$base-n$n PGPORT=$((PGM_PORT_BASE + 30 + n)) PGDATABASE=postgres q "$@"
}
wait_on() {
	PGHOST=$base-n$1 PGPORT=$((PGM_PORT_BASE + 30 + $1)) PGDATABASE=postgres wait_for "$2" "${3:-60}"
}

node_config 1
node_config 2
start_node 1
ok "n1 bootstraps and leads" until_ok 120 is_leader 1
on 1 -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pgmaint" \
	-c "CREATE TABLE ping (at timestamptz DEFAULT now(), port integer DEFAULT current_setting('port')::integer)" >/dev/null
ok "n1's worker samples as a primary" \
	wait_on 1 "SELECT running AND NOT in_recovery AND samples_persisted > 0 FROM pgmaint.sampler_status()"
start_node 2
ok "n2 joins as a replica" until_ok 180 is_replica 2
ok "n2's worker samples read-only" \
	wait_on 2 "SELECT running AND in_recovery AND samples_taken > 2 AND samples_persisted = 0 FROM pgmaint.sampler_status()" 90
is "$(on 2 -c "SELECT pgmaint.health() ->> 'role'")" "standby" "n2's health() says standby"
ok "n1's replication() lists n2 streaming" \
	wait_on 1 "SELECT EXISTS (SELECT 1 FROM pgmaint.replication() WHERE application_name = 'n2' AND state = 'streaming')"
on 1 -c "SELECT cron.schedule('patroni-ping', '* * * * *', 'INSERT INTO ping DEFAULT VALUES')" >/dev/null

# the leader dies: its Patroni first (no clean hand-over), then its server
kill -9 "${node_pid[1]}"
pgm_as_owner "$PGM_BIN/pg_ctl" -D "$base-n1/data" -m immediate -w stop >/dev/null 2>&1
started=$(date +%s)
ok "Patroni promotes n2 once the leader key expires" until_ok 120 is_leader 2
# Patroni holds the leader key before pg_ctl promote has ended recovery
ok "n2's promotion ends its recovery" \
	wait_on 2 "SELECT NOT pg_is_in_recovery()" 60
echo "# failover took $(($(date +%s) - started)) s"
is "$(on 2 -c "SELECT pgmaint.health() ->> 'role'")" "primary" "n2's health() says primary"
history=$(on 2 -c "SELECT count(*) FROM pgmaint.sample_history")
ok "n2's worker writes history as the new primary" \
	wait_on 2 "SELECT count(*) > $history + 2 FROM pgmaint.sample_history" 30
ok "pg_cron runs the job on the new primary" \
	wait_on 2 "SELECT EXISTS (SELECT 1 FROM ping WHERE port = $((PGM_PORT_BASE + 32)))" 130

# the old leader comes back: Patroni rewinds it and it follows n2
start_node 1
ok "n1 rejoins as a replica" until_ok 180 is_replica 1
ok "n1's worker samples read-only" \
	wait_on 1 "SELECT running AND in_recovery AND samples_taken > 2 AND samples_persisted = 0 FROM pgmaint.sampler_status()" 90
ok "n2's replication() lists n1" \
	wait_on 2 "SELECT EXISTS (SELECT 1 FROM pgmaint.replication() WHERE application_name = 'n1' AND state = 'streaming')"
is "$(on 2 -c "SELECT count(*) > 0 FROM pgmaint.settings_advice(ram_mb => 1024, cpus => 1) WHERE fix LIKE 'patronictl edit-config%'")" "t" \
	"settings_advice() gives its fixes as patronictl edit-config on a Patroni node"
finish

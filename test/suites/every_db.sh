#!/usr/bin/env bash
# Every database on the server (issue 30): the launcher keeps one worker in
# each connectable database that has pgmaint.  On a cluster of its own, with
# pgmaint.database left at "postgres", where pgmaint is not installed:
# three databases with pgmaint and one without; each of the three samples
# its own tables (a planted dead-tuple table shows in its database only);
# one worker has the server-wide role; a database created while the server
# runs is sampled; a leak in the database without pgmaint is found once and
# ended once; DROP DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE
# ... TEMPLATE of sampled databases succeed at once and the workers follow;
# DROP EXTENSION stops a worker; pg_terminate_backend() of one worker and
# kill -9 of another; a standby samples every database and writes after its
# promotion; pgmaint.exclude_databases leaves a database out, on a reload;
# pgmaint.max_databases exceeded is reported.  The static shared memory
# stays within its budget; each database with a worker has its ring, a
# segment of its own that DROP DATABASE, DROP EXTENSION and a crash reset let
# go; a database created after a DROP DATABASE starts with an empty ring.
# versions: 15 17
set -u
. "$(dirname "$0")/../lib.sh"

base="$PGM_TMP/every_db"
primary="$base/primary"
standby="$base/standby"
pport=$PGM_PORT_BASE
sport=$((PGM_PORT_BASE + 1))
leaker=""
cleanup() {
	exec 7>&-
	[ -n "$leaker" ] && kill "$leaker" 2>/dev/null
	pgm_cluster_stop "$standby"
	pgm_cluster_stop "$primary"
}
trap cleanup EXIT

# The static shared memory pgmaint may take with these settings (8 slots): the
# header and slots (about 9 kB), the events (148 kB) and the health
# evaluations (8 x 16 kB), with room; the rings (259 kB each) are not in it.
static_budget=$((320 * 1024))

# pgmaint.database keeps its default, "postgres": pgmaint is not installed there
pgm_cluster_init "$primary" "$pport" postgres pgmaint >/dev/null || exit 1
sed -i '/^pgmaint.database/d' "$primary/data/postgresql.conf"
# mmap: the dynamic shared memory segments are files in pg_dynshmem, which rings() counts
cat >>"$primary/data/postgresql.conf" <<CONF
pgmaint.sample_interval = 1
pgmaint.leak_timeout = 2
dynamic_shared_memory_type = mmap
CONF
pgm_cluster_start "$primary" || exit 1
export PGHOST=$primary PGPORT=$pport PGUSER=postgres PGDATABASE=postgres
log="$primary/server.log"

# workers() as "database:state" pairs, sorted by database (read in database $1)
workers() {
	q -d "${1:-db_a}" -c "SELECT string_agg(database || ':' || state, ' ' ORDER BY database) FROM pgmaint.workers()"
}
# the runs of task $2 by the worker of database $1
runs() {
	q -d "$1" -c "SELECT coalesce((task_runs ->> '$2')::int, 0) FROM pgmaint.workers() WHERE database = '$1'"
}
# the pid of the worker of database $1, from pg_stat_activity
worker_pid() {
	q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = '$1'"
}
# runs a command with PGDATABASE=$1
in_db() {
	local db=$1
	shift
	PGDATABASE=$db "$@"
}
# polls until the output of command $1 is exactly $2, for at most $3
# seconds; prints the last output when it is not
wait_output() {
	local cmd=$1 want=$2 seconds=$3 deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ "$("$cmd" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.3
	done
	echo "#   $cmd: $("$cmd" 2>&1)"
	return 1
}
# polls until workers() (read in db_a) shows exactly $1, for at most $2 seconds
wait_workers() { wait_output workers "$1" "${2:-60}"; }
# the number of rings: segments of ring_bytes among the primary's segments
rings() {
	local bytes
	bytes=$(q -d db_a -c "SELECT ring_bytes FROM pgmaint.sampler_status()")
	[ -n "$bytes" ] || return 1
	find "$primary/data/pg_dynshmem" -maxdepth 1 -type f -size "${bytes}c" | wc -l
}
# polls until there are $1 rings, for at most $2 seconds
wait_rings() { wait_output rings "$1" "${2:-30}"; }
# polls until the server log matches the extended regular expression $1
wait_log() {
	local re=$1 seconds=${2:-60} deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -Eq "$re" "$log" && return 0
		sleep 0.2
	done
	return 1
}
# waits until the worker of database $1 has taken $2 more samples (default 2)
more_samples() {
	local db=$1 n=${2:-2} taken
	taken=$(q -d "$db" -c "SELECT samples_taken FROM pgmaint.sampler_status()")
	PGDATABASE=$db wait_for "SELECT running AND samples_taken >= $taken + $n FROM pgmaint.sampler_status()" 60
}

is "$(q -c "SHOW pgmaint.database")|$(q -c "SELECT count(*) FROM pg_extension WHERE extname = 'pgmaint'")" \
	"postgres|0" "pgmaint.database is postgres, where pgmaint is not installed"
ok "the launcher runs, connected to no database" \
	wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint launcher' AND datid IS NULL" 30
static=$(q -c "SELECT sum(size) FROM pg_shmem_allocations WHERE name LIKE 'pgmaint%'")
echo "# static shared memory of pgmaint: $static bytes ($(q -c "SELECT string_agg(name || ' ' || size, ', ' ORDER BY name) FROM pg_shmem_allocations WHERE name LIKE 'pgmaint%'"))"
ok "pgmaint's static shared memory ($static bytes) is within its budget ($static_budget)" \
	test "${static:-0}" -gt 0 -a "${static:-0}" -le "$static_budget"

for db in db_a db_b db_c db_d; do q -c "CREATE DATABASE $db"; done
for db in db_a db_b db_c; do q -d "$db" -c "CREATE EXTENSION pgmaint"; done

# --- one worker per database with pgmaint ----------------------------------------
ok "each of the three databases gets a sampling worker" \
	wait_for "SELECT count(*) = 3 FROM pg_stat_activity a
	           WHERE a.backend_type = 'pgmaint sampler' AND a.datname IN ('db_a', 'db_b', 'db_c')" 60
ok "workers() lists the three, sampling" wait_workers "db_a:sampling db_b:sampling db_c:sampling" 60
ok "the databases without pgmaint hold no worker after a look" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler'
	                              AND datname IN ('postgres', 'db_d', 'template1'))" 30
for db in db_a db_b db_c; do
	is "$(q -d "$db" -c "SELECT running, database = current_database() FROM pgmaint.sampler_status()")" "t|t" \
		"$db: sampler_status() describes its own worker"
	ok "$db: its ring has samples" more_samples "$db" 2
	ok "$db: health() reads its worker's evaluation" in_db "$db" health_refresh 30
done
is "$(q -d db_a -c "SELECT count(*) FILTER (WHERE server_wide), min(datid) FILTER (WHERE server_wide) = min(datid) FROM pgmaint.workers()")" \
	"1|t" "one worker has the server-wide role: the lowest OID with pgmaint (pgmaint.database has none)"
ok "the launcher logged where the server-wide steps run, and why" \
	grep -q 'pgmaint.database names "postgres", where no worker found pgmaint' "$log"
ok "every worker counts its tasks' runs" \
	test "$(q -d db_a -c "SELECT bool_and((task_runs ->> 'sample')::int > 0 AND (task_runs ->> 'events')::int > 0) FROM pgmaint.workers()")" = t

# --- each database's own table figures ----------------------------------------
q -d db_b -c "CREATE TABLE planted_dead (id int) WITH (autovacuum_enabled = false)" \
	-c "INSERT INTO planted_dead SELECT generate_series(1, 20000)" \
	-c "DELETE FROM planted_dead WHERE id > 2000" -c "SELECT pg_stat_force_next_flush()" >/dev/null
for db in db_a db_b db_c; do PGDATABASE=$db health_refresh 30 >/dev/null; done
is "$(q -d db_b -c "SELECT status <> 'ok' AND message LIKE '%planted_dead%' FROM pgmaint.health_checks() WHERE check_name = 'dead_tuples'")" \
	"t" "db_b: the planted dead tuples show in its dead_tuples check"
is "$(q -d db_b -c "SELECT dead_tuples >= 18000 FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 1")" \
	"t" "db_b: and in its samples"
for db in db_a db_c; do
	is "$(q -d "$db" -c "SELECT message NOT LIKE '%planted_dead%' FROM pgmaint.health_checks() WHERE check_name = 'dead_tuples'")|$(q -d "$db" -c "SELECT dead_tuples < 18000 FROM pgmaint.samples(NULL) ORDER BY sampled_at DESC LIMIT 1")" \
		"t|t" "$db: the planted table shows nowhere else"
done

# --- a database created while the server runs -----------------------------------
q -c "CREATE DATABASE db_e"
q -d db_e -c "CREATE EXTENSION pgmaint"
start=$(date +%s)
ok "a fourth database created now is sampled" \
	in_db db_e wait_for "SELECT running AND samples_taken > 0 FROM pgmaint.sampler_status()" 30
echo "# sampled $(($(date +%s) - start)) s after CREATE EXTENSION"

# --- a leak, in the database without pgmaint, found once and ended once ------------
# its input is a fifo held open on fd 7: closing it ends psql at once
mkfifo "$base/leak.fifo"
psql -X -q -d db_d <"$base/leak.fifo" >/dev/null 2>&1 &
leaker=$!
exec 7>"$base/leak.fifo"
echo "SET application_name = 'pgm_every_db_leak'; BEGIN; SELECT 1;" >&7
ok "the leaking session is idle in a transaction" \
	wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'pgm_every_db_leak' AND state = 'idle in transaction'" 30
leak=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgm_every_db_leak'")
ok "the leak is reported (pgmaint.leak_action = report)" \
	wait_for "SELECT pg_read_file('$log') LIKE '%session $leak of user \"postgres\" (application \"pgm_every_db_leak\", database \"db_d\") has been idle in transaction%'" 30
server_db=$(q -d db_a -c "SELECT database FROM pgmaint.workers() WHERE server_wide")
for db in db_a db_b db_c db_e; do
	r=$(runs "$db" sample)
	PGDATABASE=$db wait_for "SELECT (task_runs ->> 'sample')::int >= $r + 3 FROM pgmaint.workers() WHERE database = '$db'" 30
done
is "$(grep -c "session $leak of user \"postgres\" (application \"pgm_every_db_leak\"" "$log")" "1" \
	"every worker sampled three times more: the leak was reported once"
q -c "ALTER SYSTEM SET pgmaint.leak_action = terminate" -c "SELECT pg_reload_conf()" >/dev/null
ok "with leak_action = terminate the leak is ended" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $leak)" 30
exec 7>&-
wait "$leaker" 2>/dev/null
leaker=""
is "$(grep -c "pgmaint terminated session $leak of user" "$log")" "1" "it was terminated once"
audits=0
for db in db_a db_b db_c db_e; do
	n=$(q -d "$db" -c "SELECT count(*) FROM pgmaint.actions WHERE action = 'terminate_leak' AND target = 'pid $leak' AND NOT dry_run")
	audits=$((audits + n))
done
is "$audits" "1" "and audited once, in one database"
is "$(q -d "$server_db" -c "SELECT detail ->> 'database' FROM pgmaint.actions WHERE target = 'pid $leak'")" "db_d" \
	"by the server-wide worker ($server_db), naming the leak's database"
q -c "ALTER SYSTEM RESET pgmaint.leak_action" -c "SELECT pg_reload_conf()" >/dev/null

# --- DROP DATABASE of a sampled database --------------------------------------------
ok "each of the four databases with a worker has its ring, a segment of its own" wait_rings 4
start=$(date +%s%N)
ok "a plain DROP DATABASE of a sampled database succeeds" \
	q -c "SET statement_timeout = '60s'" -c "DROP DATABASE db_e"
ms=$((($(date +%s%N) - start) / 1000000))
ok "without waiting for the worker (${ms} ms; PostgreSQL gives up after 5 s)" test "$ms" -lt 4000
ok "its worker is gone from workers()" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = 'db_e')" 10
ok "and its slot is free again" \
	in_db db_a wait_for "SELECT NOT EXISTS (SELECT 1 FROM pgmaint.workers() WHERE database = 'db_e')" 30
ok "and its ring is gone" wait_rings 3

# --- ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE ---------------------
taken=$(q -d db_b -c "SELECT samples_taken FROM pgmaint.sampler_status()")
start=$(date +%s%N)
ok "ALTER DATABASE db_b RENAME TO db_b2 succeeds while db_b is sampled" \
	q -c "SET statement_timeout = '60s'" -c "ALTER DATABASE db_b RENAME TO db_b2"
ms=$((($(date +%s%N) - start) / 1000000))
ok "at once (${ms} ms)" test "$ms" -lt 4000
ok "the renamed database is sampled again, under its new name, its ring kept" \
	in_db db_b2 wait_for "SELECT running AND database = 'db_b2' AND samples_taken > $taken FROM pgmaint.sampler_status()" 30
is "$(workers)" "db_a:sampling db_b2:sampling db_c:sampling" "workers() shows the new name"

created=$(q -c "SELECT now()")
start=$(date +%s%N)
ok "CREATE DATABASE db_f TEMPLATE db_a succeeds while db_a is sampled" \
	q -c "SET statement_timeout = '60s'" -c "CREATE DATABASE db_f TEMPLATE db_a"
ms=$((($(date +%s%N) - start) / 1000000))
ok "at once (${ms} ms)" test "$ms" -lt 4000
ok "the template's worker is back and the copy, which has pgmaint, gets one" \
	wait_for "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname IN ('db_a', 'db_f')" 30
ok "both sample" in_db db_f wait_for "SELECT running AND samples_taken > 0 FROM pgmaint.sampler_status()" 30
# db_f may take the slot db_e had: its ring holds its own samples only
is "$(q -d db_f -c "SELECT count(*) BETWEEN 1 AND (SELECT samples_taken FROM pgmaint.sampler_status())
                     AND min(sampled_at) >= '$created' FROM pgmaint.samples(NULL)")" \
	"t" "db_f, created after DROP DATABASE db_e, starts with an empty ring"

# --- DROP EXTENSION, CREATE EXTENSION ---------------------------------------------------
ok "db_f has its ring too" wait_rings 4
q -d db_f -c "DROP EXTENSION pgmaint"
ok "DROP EXTENSION pgmaint stops that database's worker" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = 'db_f')" 30
ok "which says why" grep -q 'pgmaint sampler of database "db_f" stops: extension "pgmaint" is no longer installed there' "$log"
ok "and its ring is gone" wait_rings 3
q -d db_f -c "CREATE EXTENSION pgmaint"
ok "CREATE EXTENSION brings it back" \
	in_db db_f wait_for "SELECT running AND samples_taken > 0 FROM pgmaint.sampler_status()" 30

# --- one worker terminated: it comes back, the others go on ----------------------------
old=$(worker_pid db_c)
others_b=$(q -d db_b2 -c "SELECT samples_taken FROM pgmaint.sampler_status()")
is "$(q -c "SELECT pg_terminate_backend($old)")" "t" "db_c's worker can be terminated"
ok "db_c's worker is back within seconds, with a new pid" \
	in_db db_c wait_for "SELECT running AND pid <> $old FROM pgmaint.sampler_status()" 30
ok "db_b2 sampled on meanwhile" \
	test "$(q -d db_b2 -c "SELECT samples_taken >= $others_b + 3 FROM pgmaint.sampler_status()")" = t
ok "the launcher started it again after the worker exited with code 1" \
	grep -q "background worker \"pgmaint sampler\" (PID $old) exited with exit code 1" "$log"

# --- kill -9 of one worker: the postmaster resets every backend -------------------------
victim=$(worker_pid db_a)
kill -9 "$victim"
ok "the postmaster resets after kill -9 of a worker" wait_log 'all server processes terminated; reinitializing' 60
ok "every worker comes back" wait_workers "db_a:sampling db_b2:sampling db_c:sampling db_f:sampling" 90
for db in db_a db_b2 db_c db_f; do
	ok "$db samples again" more_samples "$db" 2
done
ok "with one ring each, those from before the reset gone" wait_rings 4

# --- a hot standby samples every database, read-only; after promotion they write --------
mkdir -p "$standby" && chmod 755 "$standby"
[ "$(id -u)" = 0 ] && chown postgres: "$standby"
ok "a standby made with pg_basebackup -R" \
	pgm_as_owner "$PGM_BIN/pg_basebackup" -h "$primary" -p "$pport" -U postgres -D "$standby/data" -R -X stream -c fast
cat >>"$standby/data/postgresql.conf" <<CONF
port = $sport
unix_socket_directories = '$standby'
hot_standby = on
CONF
pgm_cluster_start "$standby" || exit 1
onstandby() { PGHOST=$standby PGPORT=$sport "$@"; }
ok "the standby is in recovery" test "$(onstandby q -c "SELECT pg_is_in_recovery()")" = t
ok "the standby's launcher starts a worker in every database with pgmaint" \
	onstandby wait_for "SELECT count(*) = 4 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler'
	                     AND datname IN ('db_a', 'db_b2', 'db_c', 'db_f')" 60
for db in db_a db_b2 db_c db_f; do
	ok "standby $db: sampled, read-only" \
		onstandby in_db "$db" wait_for "SELECT running AND in_recovery AND samples_taken > 1 AND samples_persisted = 0 FROM pgmaint.sampler_status()" 60
done
ok "no step failed on the standby" test "$(grep -c 'pgmaint sampler step' "$standby/server.log")" = 0
onstandby q -c "SELECT pg_promote()" >/dev/null
for db in db_a db_b2 db_c db_f; do
	ok "promoted $db: its worker writes history again" \
		onstandby in_db "$db" wait_for "SELECT NOT pg_is_in_recovery() AND samples_persisted > 0 FROM pgmaint.sampler_status()" 60
done
pgm_cluster_stop "$standby"

# --- pgmaint.exclude_databases ------------------------------------------------------------
refused=$(q -c "ALTER SYSTEM SET pgmaint.exclude_databases = 'db_a,\"db_c'" 2>&1)
is "$(grep -c 'invalid value for parameter "pgmaint.exclude_databases"' <<<"$refused")" "1" \
	"a list that is not a list of names is refused"
q -c "ALTER SYSTEM SET pgmaint.exclude_databases = 'db_x', 'db_c'" -c "SELECT pg_reload_conf()" >/dev/null
ok "at the reload the worker of a database named in pgmaint.exclude_databases stops" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = 'db_c')" 30
ok "workers() no longer lists it" wait_workers "db_a:sampling db_b2:sampling db_f:sampling" 30
ok "health() there is measured in the session" \
	in_db db_c wait_for "SELECT pgmaint.health() ->> 'source' = 'live' AND NOT (pgmaint.health() -> 'sampler' ->> 'running')::boolean" 30
is "$(q -d db_a -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'databases_unsampled'")" "ok" \
	"an excluded database is not one left out"
q -c "ALTER SYSTEM RESET pgmaint.exclude_databases" -c "SELECT pg_reload_conf()" >/dev/null
ok "once it is no longer excluded it is sampled again" \
	in_db db_c wait_for "SELECT running AND database = 'db_c' FROM pgmaint.sampler_status()" 30

# --- pgmaint.max_databases exceeded ------------------------------------------------------
q -c "ALTER SYSTEM SET pgmaint.max_databases = 2"
pgm_as_owner "$PGM_BIN/pg_ctl" -D "$primary/data" -l "$log" -w -t 60 restart >/dev/null || exit 1
ok "two databases are sampled, the others are listed as unsampled" \
	in_db db_a wait_for "SELECT count(*) FILTER (WHERE state = 'sampling') = 2 AND count(*) FILTER (WHERE state = 'unsampled') >= 2 FROM pgmaint.workers()" 60
sampled=$(q -d db_a -c "SELECT database FROM pgmaint.workers() WHERE state = 'sampling' ORDER BY database LIMIT 1")
left=$(q -d db_a -c "SELECT database FROM pgmaint.workers() WHERE state = 'unsampled' AND database LIKE 'db\_%' ORDER BY database LIMIT 1")
ok "the WARNING names the databases left out" \
	grep -Eq "WARNING:  [0-9]+ databases? (is|are) left without a pgmaint worker: .*\"$left\"" "$log"
ok "the databases_unsampled check warns in a sampled database" \
	in_db "$sampled" wait_for_current "SELECT status = 'warning' AND value >= 2 AND message LIKE '%$left%' FROM pgmaint.health_checks() WHERE check_name = 'databases_unsampled'" 30
is "$(q -d "$left" -c "SELECT NOT running AND last_error LIKE 'no worker samples this database: pgmaint.max_databases (2)%' FROM pgmaint.sampler_status()")" \
	"t" "sampler_status() of a database left out says why"
is "$(q -d "$left" -c "SELECT status <> 'ok' FROM pgmaint.health_checks() WHERE check_name = 'databases_unsampled'")" \
	"t" "and its own databases_unsampled check is not ok"
is "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler'")" "2" \
	"no more workers than pgmaint.max_databases"
q -c "ALTER SYSTEM RESET pgmaint.max_databases"
finish

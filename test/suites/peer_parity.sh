#!/usr/bin/env bash
# The detections pgmaint shares with check_postgres 2.25, on planted states
# whose true value is known, in a cluster of its own (archive_mode on with an
# archive_command that fails, TCP on 127.0.0.1): each check_postgres action
# that has a pgmaint counterpart is run against the same cluster and must
# agree where check_postgres is right; where it is not (a sequence feeding a
# narrower column) the test shows the difference the README describes.
# Also: vacuums in progress, connections by source, requested checkpoints,
# aborted idle transactions worded apart.
# packages: check-postgres
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/peer_parity"
port=$PGM_PORT_BASE
declare -A sess_fd sess_pid
cleanup() {
	local n fd
	for n in "${!sess_fd[@]}"; do fd=${sess_fd[$n]}; exec {fd}>&-; done
	for n in "${!sess_pid[@]}"; do kill "${sess_pid[$n]}" 2>/dev/null; wait "${sess_pid[$n]}" 2>/dev/null; done
	pgm_cluster_stop "$dir"
}
trap cleanup EXIT

if ! command -v check_postgres >/dev/null; then
	echo "not ok 1 - check_postgres is installed (package check-postgres)"
	exit 1
fi

pgm_cluster_init "$dir" "$port" pgmaint_test pgmaint >/dev/null || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
archive_mode = on
archive_command = 'false'
archive_timeout = 0
checkpoint_timeout = 1h
autovacuum = off
CONF
echo "host all all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
pgm_cluster_start "$dir" || exit 1
export PGHOST=$dir PGPORT=$port PGDATABASE=pgmaint_test
q -d postgres -c "CREATE DATABASE pgmaint_test" >/dev/null
q -c "CREATE EXTENSION pgmaint" >/dev/null

# check_postgres ACTION [ARGS...]: its one-line Nagios answer for this cluster
cpg() {
	local action=$1
	shift
	check_postgres --action="$action" --host="$dir" --port="$port" --dbuser=postgres \
		--dbname=pgmaint_test "$@" 2>&1 | head -n 1
}
check() {
	q -c "SELECT status || ' ' || coalesce(value::text, 'null') FROM pgmaint.health_checks() WHERE check_name = '$1'"
}
message() {
	q -c "SELECT message FROM pgmaint.health_checks() WHERE check_name = '$1'"
}
like() {
	[[ $1 == $2 ]] || { echo "#   '$1' does not match '$2'"; return 1; }
}
# sess_open NAME CONNINFO SQL: a psql that stays connected, reading from a FIFO
sess_open() {
	local name=$1 conninfo=$2 sql=$3 fd
	mkfifo "$dir/$name.in"
	PGAPPNAME=$name psql -X -q -A -t "$conninfo" <"$dir/$name.in" >"$dir/$name.out" 2>&1 &
	sess_pid[$name]=$!
	exec {fd}>"$dir/$name.in"
	sess_fd[$name]=$fd
	echo "$sql" >&"$fd"
}
sess_close() {
	local fd=${sess_fd[$1]}
	# later sessions inherited this FIFO too: quit rather than wait for its end
	echo '\q' >&"$fd"
	exec {fd}>&-
	unset "sess_fd[$1]"
	wait "${sess_pid[$1]}" 2>/dev/null
	unset "sess_pid[$1]"
}

# --- sequences ---------------------------------------------------------------
# a smallint sequence at 95%: both tools say 95
q -c "CREATE SEQUENCE pp_small AS smallint; SELECT setval('pp_small', 31129);" >/dev/null
is "$(check sequences)" "critical 95.00" "sequences: a smallint sequence at 31129 of 32767 is at 95%"
ok "check_postgres sequence agrees: 95%" \
	like "$(cpg sequence)" "POSTGRES_SEQUENCE CRITICAL:*public.pp_small=95%*"
q -c "DROP SEQUENCE pp_small" >/dev/null
# an integer column fed by a bigint sequence at 2,040,109,465: 95% of the
# column's range; check_postgres (on PostgreSQL 10+) measures the sequence alone
q -c "CREATE SEQUENCE pp_big; CREATE TABLE pp_feed (id integer DEFAULT nextval('pp_big'));
      SELECT setval('pp_big', 2040109465);" >/dev/null
is "$(check sequences)" "critical 95.00" "sequences: measured against the integer column it feeds"
ok "the message names the column" \
	like "$(message sequences)" "sequence public.pp_big has used 95.00% of the range of column public.pp_feed.id (integer, up to 2147483647)"
ok "check_postgres sequence sees 0% there (it ignores the column's type): the README says so" \
	like "$(cpg sequence)" "POSTGRES_SEQUENCE OK:*public.pp_big=0%*"
q -c "DROP TABLE pp_feed; DROP SEQUENCE pp_big" >/dev/null

# --- disabled triggers -------------------------------------------------------
q -c "CREATE TABLE pp_parent (id int PRIMARY KEY); CREATE TABLE pp_child (pid int REFERENCES pp_parent);
      CREATE FUNCTION pp_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
      CREATE TRIGGER pp_noop BEFORE INSERT ON pp_child FOR EACH ROW EXECUTE FUNCTION pp_noop();
      ALTER TABLE pp_child DISABLE TRIGGER pp_noop;
      ALTER TABLE pp_parent DISABLE TRIGGER ALL;" >/dev/null
# true value: pp_noop plus the foreign key's two triggers on pp_parent
is "$(check disabled_triggers)" "warning 3" "disabled_triggers: 3 (one user trigger, two foreign-key triggers)"
ok "check_postgres disabled_triggers agrees: 3" \
	like "$(cpg disabled_triggers)" "POSTGRES_DISABLED_TRIGGERS CRITICAL:*Disabled triggers: 3 *"
q -c "ALTER TABLE pp_parent ENABLE TRIGGER ALL; ALTER TABLE pp_child ENABLE TRIGGER pp_noop" >/dev/null
is "$(check disabled_triggers)" "ok 0" "disabled_triggers: 0 once enabled"
ok "check_postgres disabled_triggers agrees: 0" \
	like "$(cpg disabled_triggers)" "POSTGRES_DISABLED_TRIGGERS OK:*Disabled triggers: 0*"

# --- NOT VALID constraints -----------------------------------------------------
q -c "ALTER TABLE pp_child ADD CONSTRAINT pp_positive CHECK (pid > 0) NOT VALID" >/dev/null
is "$(check not_valid_constraints)" "warning 1" "not_valid_constraints: the planted one"
is "$(q -c "SELECT suggestion FROM pgmaint.schema_advice() WHERE kind = 'not_valid_constraint'")" \
	"ALTER TABLE public.pp_child VALIDATE CONSTRAINT pp_positive;  -- takes only a SHARE UPDATE EXCLUSIVE lock" \
	"schema_advice() gives the statement that validates it"
q -c "ALTER TABLE pp_child VALIDATE CONSTRAINT pp_positive" >/dev/null
is "$(check not_valid_constraints)" "ok 0" "not_valid_constraints: 0 once validated"

# --- vacuum and analyze age ----------------------------------------------------
# flushed first, so that the vacuum resets every counted change
q -c "CREATE TABLE pp_aged (id int); INSERT INTO pp_aged SELECT generate_series(1, 100);" \
	-c "SELECT pg_stat_force_next_flush()" -c "VACUUM ANALYZE pp_aged" >/dev/null
vacuumed=$(date +%s)
sleep 3
q -c "INSERT INTO pp_aged VALUES (101); UPDATE pp_aged SET id = id WHERE id <= 5;" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "maintenance_age() sees the changes since the vacuum" \
	wait_for "SELECT changes_since_vacuum = 6 AND changes_since_analyze = 6 FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged'" 30
# each figure next to check_postgres's, taken just before it (perl starts slowly)
pm_v=$(q -c "SELECT extract(epoch FROM vacuum_age)::int FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged'")
cp_v=$(cpg last_vacuum --include=pp_aged -w 1s -c 1d | sed -n 's/.*pp_aged=\([0-9]*\)s.*/\1/p')
pm_a=$(q -c "SELECT extract(epoch FROM analyze_age)::int FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged'")
cp_a=$(cpg last_analyze --include=pp_aged -w 1s -c 1d | sed -n 's/.*pp_aged=\([0-9]*\)s.*/\1/p')
ok "vacuum_age of the table is the time since its vacuum ($pm_v s)" \
	test "$pm_v" -ge 3 -a "$pm_v" -le $(($(date +%s) - vacuumed + 1))
ok "check_postgres last_vacuum agrees ($cp_v s, pgmaint $pm_v s)" \
	test -n "$cp_v" -a $((cp_v - pm_v)) -ge -1 -a $((cp_v - pm_v)) -le 3
ok "check_postgres last_analyze agrees ($cp_a s, pgmaint $pm_a s)" \
	test -n "$cp_a" -a $((cp_a - pm_a)) -ge -1 -a $((cp_a - pm_a)) -le 3
q -c "UPDATE pgmaint.thresholds SET warning = 2 WHERE check_name IN ('vacuum_age', 'analyze_age')" >/dev/null
ok "vacuum_age warns past its threshold and names the table" \
	like "$(q -c "SELECT status || ': ' || message FROM pgmaint.health_checks() WHERE check_name = 'vacuum_age'")" \
	"warning: * the oldest, public.pp_aged, was vacuumed 00:0* ago (6 dead or inserted tuples since)*"
ok "analyze_age too" \
	like "$(q -c "SELECT status || ': ' || message FROM pgmaint.health_checks() WHERE check_name = 'analyze_age'")" \
	"warning: * the oldest, public.pp_aged, was analyzed 00:0* ago (6 modified tuples since)*"
q -c "VACUUM ANALYZE pp_aged" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "a table vacuumed and analyzed since is no longer counted" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged' AND (changes_since_vacuum > 0 OR changes_since_analyze > 0))" 30
q -c "UPDATE pgmaint.thresholds SET warning = 604800 WHERE check_name IN ('vacuum_age', 'analyze_age')" >/dev/null

# --- WAL waiting for the archiver ---------------------------------------------
# archive_command fails: every switched segment stays .ready
for i in 1 2 3; do
	q -c "INSERT INTO pp_aged VALUES ($i)" -c "SELECT pg_switch_wal()" >/dev/null
done
ok "three segments wait for the archiver" \
	wait_for "SELECT count(*) >= 3 FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" 30
truth=$(ls "$dir/data/pg_wal/archive_status" | grep -c '\.ready$')
is "$(check archive_ready)" "ok $truth" "archive_ready counts the .ready files in archive_status ($truth)"
# check_postgres 2.25 lists pg_wal itself on PostgreSQL 10+ (pg_ls_waldir()),
# where no .ready file lives: it answers 0 whatever waits (README)
ok "check_postgres archive_ready misses them: 0 (it looks in pg_wal, not pg_wal/archive_status)" \
	like "$(cpg archive_ready)" "POSTGRES_ARCHIVE_READY OK:*WAL \".ready\" files found: 0 *"
q -c "UPDATE pgmaint.thresholds SET warning = 2 WHERE check_name = 'archive_ready'" >/dev/null
ok "archive_ready warns at its threshold, with the oldest file's time" \
	like "$(q -c "SELECT status || ': ' || message FROM pgmaint.health_checks() WHERE check_name = 'archive_ready'")" \
	"warning: $truth WAL file(s) wait for the archiver, the oldest since * (archive_mode on)"
is "$(check archiver)" "warning 1" "the archiver check sees the failing archive_command too"
q -c "UPDATE pgmaint.thresholds SET warning = 10 WHERE check_name = 'archive_ready'" >/dev/null

# --- requested checkpoints ----------------------------------------------------
q -c "SELECT pg_stat_reset_shared('bgwriter')" >/dev/null
q -c "CHECKPOINT" -c "CHECKPOINT" >/dev/null
ok "two checkpoints are counted" \
	wait_for "SELECT checkpoints_req = 2 FROM pg_stat_bgwriter" 30
is "$(check checkpoints_requested)" "unknown null" "checkpoints_requested is unknown before 3 checkpoints"
q -c "CHECKPOINT" -c "CHECKPOINT" >/dev/null
ok "four checkpoints are counted" \
	wait_for "SELECT checkpoints_req = 4 AND checkpoints_timed = 0 FROM pg_stat_bgwriter" 30
is "$(check checkpoints_requested)" "warning 100.0" "checkpoints_requested: 4 of 4 requested, 100%"
ok "the message counts them and names max_wal_size" \
	like "$(message checkpoints_requested)" "4 of 4 checkpoints since * were requested, 0 timed (checkpoint_timeout 1h, max_wal_size 1GB)"
ok "the hint says to raise max_wal_size" \
	like "$(q -c "SELECT hint FROM pgmaint.health_checks() WHERE check_name = 'checkpoints_requested'")" "*raise max_wal_size*"

# --- connections by source ----------------------------------------------------
q -c "CREATE ROLE pp_app LOGIN" >/dev/null
for n in 1 2 3; do sess_open "pp_tcp$n" "host=127.0.0.1 user=pp_app application_name=pp_web" "SELECT 1;"; done
for n in 1 2; do sess_open "pp_sock$n" "user=pp_app application_name=pp_worker" "BEGIN; SELECT 1;"; done
ok "the five sessions are connected" \
	wait_for "SELECT count(*) = 5 FROM pg_stat_activity WHERE usename = 'pp_app' AND state IN ('idle', 'idle in transaction')" 30
is "$(q -c "SELECT string_agg(format('%s/%s/%s/%s total=%s idle=%s iit=%s', database, user_name, application_name,
                                      coalesce(host(client_addr), 'socket'), total, idle, idle_in_transaction), '; ')
              FROM pgmaint.connection_sources() WHERE user_name = 'pp_app'")" \
	"pgmaint_test/pp_app/pp_web/127.0.0.1 total=3 idle=3 iit=0; pgmaint_test/pp_app/pp_worker/socket total=2 idle=0 iit=2" \
	"connection_sources(): 3 over TCP from 127.0.0.1, 2 over the socket, by application"
for n in 1 2 3; do sess_close "pp_tcp$n"; done
for n in 1 2; do sess_close "pp_sock$n"; done

# --- idle in an aborted transaction ------------------------------------------
sess_open pp_aborted "user=pp_app" "BEGIN; SELECT 1/0;"
ok "a session idle in an aborted transaction" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pp_aborted' AND state = 'idle in transaction (aborted)')" 30
q -c "UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name IN ('idle_in_transaction', 'idle_in_transaction_aborted')" >/dev/null
is "$(q -c "SELECT message FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'")" \
	"no session is idle in a transaction" "idle_in_transaction leaves the aborted session out"
ok "idle_in_transaction_aborted counts it: a slot, no locks, no snapshot" \
	like "$(q -c "SELECT status || ': ' || message FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction_aborted'")" \
	"warning: 1 session(s) idle in an aborted transaction, the oldest (pid *) for *: each holds a connection slot, no locks and no snapshot"
ok "its hint does not say it blocks vacuum" \
	test -z "$(q -c "SELECT 1 FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction_aborted' AND hint ~* 'vacuum|lock'")"
sess_send_abort_ok=$(q -c "SELECT count(*) FROM pgmaint.connection_leaks('1 ms') WHERE state = 'idle in transaction (aborted)'")
is "$sess_send_abort_ok" "1" "connection_leaks() still lists it as a leak"
sess_close pp_aborted
q -c "UPDATE pgmaint.thresholds SET warning = 60 WHERE check_name = 'idle_in_transaction';
      UPDATE pgmaint.thresholds SET warning = 300 WHERE check_name = 'idle_in_transaction_aborted'" >/dev/null

# --- a vacuum in progress -----------------------------------------------------
# about 300 pages, vacuumed with the largest cost delay: it scans a few pages a second
q -c "CREATE TABLE pp_slow (id int, pad text) WITH (autovacuum_enabled = off);
      INSERT INTO pp_slow SELECT g, repeat('x', 200) FROM generate_series(1, 10000) g;
      DELETE FROM pp_slow WHERE id % 2 = 0;" >/dev/null
pages=$(q -c "SELECT pg_relation_size('pp_slow') / current_setting('block_size')::int")
sess_open pp_vacuum "dbname=pgmaint_test" "SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1; VACUUM pp_slow;"
ok "vacuum_progress() shows the vacuum scanning the heap" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pgmaint.vacuum_progress() WHERE table_name = 'pp_slow' AND phase = 'scanning heap' AND heap_blks_scanned > 0)" 60
is "$(q -c "SELECT heap_blks_total FROM pgmaint.vacuum_progress() WHERE table_name = 'pp_slow'")" "$pages" \
	"heap_blks_total is the table's size in pages ($pages)"
is "$(q -c "SELECT percent = round(100.0 * heap_blks_scanned / heap_blks_total, 1) AND percent > 0 AND percent < 100
              AND NOT autovacuum AND NOT to_prevent_wraparound AND database = current_database()
              AND running_for >= '0 s' FROM pgmaint.vacuum_progress() WHERE table_name = 'pp_slow'")" "t" \
	"percent is the share of the heap scanned; a manual vacuum in this database"
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pp_vacuum'" >/dev/null
ok "no vacuum in progress after it is cancelled" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pgmaint.vacuum_progress())" 30
sess_close pp_vacuum

q -c "DROP TABLE pp_child, pp_parent, pp_aged, pp_slow; DROP FUNCTION pp_noop(); DROP ROLE pp_app" >/dev/null
finish

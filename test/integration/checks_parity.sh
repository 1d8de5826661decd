#!/usr/bin/env bash
# Every check answers on this PostgreSQL version, for states planted the same
# way on every version, in a cluster of its own (nothing else runs there;
# autovacuum off, so that no table's state changes behind the test's back):
# dead tuples, a table read from disk (shared_buffers 16MB), sessions idle in
# a transaction (one holding a lock another waits for, one aborted), a long
# query, a prepared transaction, an invalid index, a sequence at 95%, a NOT
# VALID constraint, a disabled trigger, an inactive replication slot, three
# CHECKPOINTs, WAL files the archiver fails to archive, and from 16 on two
# reserved_connections.  No check may fail to measure (a column that moved
# between versions turns it unknown), and each planted state must show in its
# check.  The statuses of health_checks() go to $PGM_RESULTS/checks-VERSION.txt
# (check_name|status); test/run.sh compares the files of the versions that ran.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../connections_lib.sh"

dir="$PGM_TMP/checks_parity"
port=$((PGPORT + 3))
db=pgm_parity
out="$PGM_RESULTS/checks-$PGM_PGVERSION.txt"
rm -f "$out"

cleanup() {
	local name fd
	for name in "${!conn_fd[@]}"; do fd=${conn_fd[$name]}; exec {fd}>&-; done
	pgm_cluster_stop "$dir"
	for name in "${!conn_pid[@]}"; do wait "${conn_pid[$name]}" 2>/dev/null; done
}
trap cleanup EXIT

pgm_cluster_init "$dir" "$port" "$db" pgmaint || { echo "not ok - initdb"; exit 1; }
cat >>"$dir/data/postgresql.conf" <<'CONF'
pgmaint.sample_interval = '1s'
autovacuum = off
shared_buffers = '16MB'
archive_mode = on
archive_command = 'false'
CONF
# from 16 on, two slots reserved for pg_use_reserved_connections: not usable
[ "$PGM_PGVERSION" -ge 16 ] && echo "reserved_connections = 2" >>"$dir/data/postgresql.conf"
pgm_cluster_start "$dir" || { echo "not ok - the cluster did not start"; exit 1; }
export PGHOST=$dir PGPORT=$port PGDATABASE=$db
conn_dir="$dir/sessions"
mkdir -p "$conn_dir"

q -d postgres -c "CREATE DATABASE $db" >/dev/null || { echo "not ok - CREATE DATABASE"; exit 1; }

# --- states that need no open session --------------------------------------
q >/dev/null <<'SQL' || { echo "not ok - planting the tables"; exit 1; }
CREATE SCHEMA pp;
-- 60% dead tuples
CREATE TABLE pp.churn (id int, pad text);
INSERT INTO pp.churn SELECT g, repeat('x', 100) FROM generate_series(1, 10000) g;
DELETE FROM pp.churn WHERE id % 10 < 6;
-- 40MB, more than a quarter of shared_buffers: a scan reads it through a small ring
CREATE TABLE pp.cold AS SELECT g AS id, repeat('y', 200) AS pad FROM generate_series(1, 160000) g;
-- a unique index build that fails: left invalid
CREATE TABLE pp.dup (v int);
INSERT INTO pp.dup VALUES (1), (1);
SQL
q -c "CREATE UNIQUE INDEX CONCURRENTLY dup_v ON pp.dup (v)" >/dev/null 2>&1
q >/dev/null <<'SQL' || { echo "not ok - planting the catalog states"; exit 1; }
-- a smallint sequence at 95%
CREATE SEQUENCE pp.small AS smallint;
SELECT setval('pp.small', 31129);
-- a constraint added NOT VALID and a disabled trigger
CREATE TABLE pp.orders (id int);
ALTER TABLE pp.orders ADD CONSTRAINT orders_id_positive CHECK (id > 0) NOT VALID;
CREATE FUNCTION pp.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER orders_noop BEFORE INSERT ON pp.orders FOR EACH ROW EXECUTE FUNCTION pp.noop();
ALTER TABLE pp.orders DISABLE TRIGGER orders_noop;
CREATE TABLE pp.locked (id int);
-- a slot nobody streams from
SELECT pg_create_physical_replication_slot('pgm_parity', true);
SQL

q -c "CREATE EXTENSION pgmaint" >/dev/null || { echo "not ok - CREATE EXTENSION pgmaint"; exit 1; }
# the time-based checks grade a state one second old
q >/dev/null <<'SQL'
UPDATE pgmaint.thresholds SET warning = 1, critical = 3600
 WHERE check_name IN ('long_running_queries', 'blocked_sessions', 'idle_in_transaction', 'prepared_transactions');
UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'idle_in_transaction_aborted';
-- three WAL files waiting or more: warning
UPDATE pgmaint.thresholds SET warning = 3, critical = 100 WHERE check_name = 'archive_ready';
SQL
ok "the sampler samples $db" \
	wait_for "SELECT running AND samples_taken >= 1 FROM pgmaint.sampler_status()" 30

# the cold reads, after the sampler's first sample: the last hour's hit ratio is theirs
q -c "SELECT count(*) FROM pp.cold" -c "SELECT count(*) FROM pp.cold" -c "SELECT count(*) FROM pp.cold" >/dev/null
read_done=$(q -c "SELECT clock_timestamp()")

# three requested checkpoints; WAL files the archiver cannot archive (the
# cold table's WAL filled some before: at least three)
q -c "CHECKPOINT" -c "CHECKPOINT" -c "CHECKPOINT" >/dev/null
for i in 1 2 3; do
	q -c "INSERT INTO pp.orders VALUES ($i)" -c "SELECT pg_switch_wal()" >/dev/null
done
ok "at least three WAL files wait for the archiver" \
	wait_for "SELECT count(*) >= 3 FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" 30
q -c "BEGIN" -c "INSERT INTO pp.orders VALUES (100)" -c "PREPARE TRANSACTION 'pgm_parity'" >/dev/null

# --- sessions ---------------------------------------------------------------
conn_open pp_holder "BEGIN; LOCK TABLE pp.locked IN ACCESS EXCLUSIVE MODE;"
conn_wait pp_holder "state = 'idle in transaction'"
conn_open pp_waiter "SELECT count(*) FROM pp.locked;"
conn_wait pp_waiter "wait_event_type = 'Lock'"
conn_open pp_aborted "BEGIN; SELECT 1/0;"
conn_wait pp_aborted "state = 'idle in transaction (aborted)'"
conn_open pp_sleeper "SELECT pg_sleep(3600);"
conn_wait pp_sleeper "state = 'active' AND wait_event = 'PgSleep'"

ok "every planted session and the prepared transaction is older than 1 s" \
	wait_for "SELECT (SELECT count(*) FROM pg_stat_activity
	                   WHERE application_name LIKE 'pp\_%' AND state_change < clock_timestamp() - interval '1.5 s') = 4
	              AND (SELECT count(*) FROM pg_prepared_xacts WHERE prepared < clock_timestamp() - interval '1.5 s') = 1" 30
ok "the sampler has sampled the cold reads" \
	wait_for "SELECT last_sample_at > '$read_done' FROM pgmaint.sampler_status()" 30

# --- the checks -------------------------------------------------------------
# health_checks() reads the worker's evaluation: one made after the plants
ok "the worker has evaluated the planted states" health_refresh
# one call, so that every assertion below and the file see the same answers
q -F "$(printf '\t')" -c "SELECT check_name, status, message, value FROM pgmaint.health_checks() ORDER BY check_name" \
	>"$dir/checks.tsv" || echo "# health_checks() failed"
sed 's/^/# /' "$dir/checks.tsv"
cut -f 1,2 "$dir/checks.tsv" | tr '\t' '|' >"$out.partial" && mv "$out.partial" "$out"
# Prints field $2 (2 status, 3 message) of check $1.
field() {
	awk -F '\t' -v c="$1" -v f="$2" '$1 == c { print $f }' "$dir/checks.tsv"
}
is "$(awk -F '\t' '$3 ~ /^the check failed:/ { print $1 ": " $3 }' "$dir/checks.tsv")" "" \
	"no check fails to measure on PostgreSQL $PGM_PGVERSION"
is "$(wc -l <"$dir/checks.tsv")" "$(q -c "SELECT count(*) FROM pgmaint.thresholds WHERE enabled")" \
	"every enabled check answers"

# Each planted state in its check: "check status" per line.
expected="archive_ready warning
archiver warning
blocked_sessions warning
cache_hit critical
checkpoints_requested warning
connections ok
dead_tuples critical
disabled_triggers warning
idle_in_transaction warning
idle_in_transaction_aborted warning
inactive_slots warning
invalid_indexes warning
long_running_queries warning
not_valid_constraints warning
prepared_transactions warning
sampler ok
sequences critical
table_cache_hit critical
xid_wraparound ok"
while read -r check status; do
	is "$(field "$check" 2)" "$status" "$check: $status for the planted state"
	[ "$(field "$check" 2)" = "$status" ] || echo "#   message: $(field "$check" 3)"
done <<<"$expected"
is "$(q -c "SELECT value FROM pgmaint.health_checks() WHERE check_name = 'checkpoints_requested'")" "100.0" \
	"checkpoints_requested: the three CHECKPOINTs are all the checkpoints since the cluster started"
usable=$(q -c "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                      - coalesce(current_setting('reserved_connections', true)::int, 0)")
ok "connections counts $usable usable slots (reserved_connections left out from 16 on)" \
	test "$(field connections 3 | sed -n 's/.* of \([0-9]*\) usable connections in use$/\1/p')" = "$usable"
ok "statuses written to $out" test -s "$out"

finish

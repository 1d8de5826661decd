#!/usr/bin/env bash
# Issue 27: every check reads the same whether health() takes it from the
# worker's evaluation in shared memory ("source": "worker") or measures it in
# the session (live => true), on planted states: dead tuples on a table with
# autovacuum off, a session idle in a transaction and one in an aborted one,
# a long statement, a lock wait, an invalid index, a sequence near its end,
# a NOT VALID constraint, a disabled trigger, a prepared transaction and an
# inactive replication slot.  Runs its own server, the worker sampling every
# second.
#
# One session (a coprocess) compares both readings in one statement, after
# it has waited for an evaluation the worker made after the plants; nothing
# else connects meanwhile, so the sessions both readings count are the same.
# Checks whose value is an age or a counter that moves with time (ages of
# sessions and of maintenance, xid age, WAL retained, the last hour's cache
# figures, free disk, heartbeat) must agree on their status and on their
# message with its numbers left out; every other check on status, value and
# message to the character.
# packages: postgresql-15
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/health_parity"
port=$PGM_PORT_BASE
bg_pids=()
cleanup() {
	[ -n "${SESS_PID:-}" ] && kill "$SESS_PID" 2>/dev/null
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	pgm_cluster_stop "$dir"
}
trap cleanup EXIT

pgm_cluster_init "$dir" "$port" pgmaint_test pgmaint >/dev/null || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
pgmaint.sample_interval = 1
autovacuum = off
CONF
pgm_cluster_start "$dir" || exit 1
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=pgmaint_test

q -d postgres -c "CREATE DATABASE pgmaint_test" >/dev/null
q -c "CREATE EXTENSION pgmaint" >/dev/null
ok "the worker samples this database" \
	wait_for "SELECT running AND database = current_database() FROM pgmaint.sampler_status()" 60

# --- the plants --------------------------------------------------------------
q >/dev/null <<'SQL'
-- dead tuples, autovacuum off: dead_tuples, autovacuum_behind
CREATE TABLE hp_dead (id int) WITH (autovacuum_enabled = off);
INSERT INTO hp_dead SELECT generate_series(1, 2000);
DELETE FROM hp_dead WHERE id > 400;
-- an invalid index (a failed CREATE UNIQUE INDEX CONCURRENTLY)
CREATE TABLE hp_dup (v int);
INSERT INTO hp_dup VALUES (1), (1);
SQL
q -c "CREATE UNIQUE INDEX CONCURRENTLY hp_dup_v ON hp_dup (v)" >/dev/null 2>&1
q >/dev/null <<'SQL'
-- a smallint sequence at 95% of its range
CREATE SEQUENCE hp_seq AS smallint;
SELECT setval('hp_seq', 31129);
-- a NOT VALID constraint and a disabled trigger
CREATE TABLE hp_parent (id int PRIMARY KEY);
CREATE TABLE hp_child (pid int);
ALTER TABLE hp_child ADD CONSTRAINT hp_child_fk FOREIGN KEY (pid) REFERENCES hp_parent NOT VALID;
CREATE FUNCTION hp_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER hp_child_noop BEFORE INSERT ON hp_child FOR EACH ROW EXECUTE FUNCTION hp_noop();
ALTER TABLE hp_child DISABLE TRIGGER hp_child_noop;
-- an inactive slot that reserves WAL
SELECT pg_create_physical_replication_slot('hp_slot', true);
-- a table to lock
CREATE TABLE hp_locked (id int);
SQL
q -c "BEGIN; CREATE TABLE hp_prepared (id int); PREPARE TRANSACTION 'hp_prepared'" >/dev/null
q -c "SELECT pg_stat_force_next_flush()" >/dev/null

# sessions that stay: idle in a transaction, idle in an aborted one, a long
# statement, a lock holder and a waiter
{ echo "BEGIN; SELECT 1;"; sleep 600; } | psql -X -q "application_name=hp_idle" >/dev/null 2>&1 &
bg_pids+=($!)
{ echo "BEGIN; SELECT 1/0;"; sleep 600; } | psql -X -q "application_name=hp_aborted" >/dev/null 2>&1 &
bg_pids+=($!)
psql -X -q "application_name=hp_long" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
bg_pids+=($!)
{ echo "BEGIN; LOCK TABLE hp_locked IN ACCESS EXCLUSIVE MODE;"; sleep 600; } |
	psql -X -q "application_name=hp_holder" >/dev/null 2>&1 &
bg_pids+=($!)
ok "the lock is held" wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'hp_holder' AND state = 'idle in transaction')" 30
psql -X -q "application_name=hp_waiter" -c "SELECT count(*) FROM hp_locked" >/dev/null 2>&1 &
bg_pids+=($!)
ok "every planted session is in its state" \
	wait_for "SELECT count(*) = 5 FROM pg_stat_activity
	           WHERE (application_name, state) IN (('hp_idle', 'idle in transaction'),
	                                               ('hp_aborted', 'idle in transaction (aborted)'),
	                                               ('hp_long', 'active'), ('hp_holder', 'idle in transaction'))
	              OR (application_name = 'hp_waiter' AND wait_event_type = 'Lock')" 30

# --- the comparing session ---------------------------------------------------
coproc SESS { psql -X -A -t -q -F '|' 2>&1; }
SESS_PID=$SESS_PID
# Runs one statement in the comparing session and prints its output.
sq() {
	local line out=""
	printf '%s\n\\echo __pgm_done__\n' "$1" >&"${SESS[1]}"
	while IFS= read -r -t 60 line <&"${SESS[0]}"; do
		[ "$line" = "__pgm_done__" ] && break
		out+="$line"$'\n'
	done
	printf '%s' "${out%$'\n'}"
}
planted_at=$(sq "SELECT clock_timestamp();")
# from here on, nothing but this session connects.  A sample asked for passes
# over the tables at once (the worker's own pass over them runs at most every
# 10 s at short intervals), and the worker evaluates after it.
sq "SELECT pgmaint._request_samples(1);" >/dev/null
deadline=$(($(date +%s) + 60))
until [ "$(sq "SELECT h->>'source' = 'worker' AND t.sampled_at > '$planted_at'
                     AND (h->>'measured_at')::timestamptz >= t.sampled_at
                FROM pgmaint.health() h, pgmaint._table_health_sampled() t;")" = t ]; do
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep 0.2
done
is "$(sq "SELECT pgmaint.health()->>'source';")" worker "health() reads an evaluation the worker made after the plants, with a pass over the tables after them"

result=$(sq "WITH w AS MATERIALIZED (SELECT pgmaint.health() AS h),
                  l AS MATERIALIZED (SELECT pgmaint.health(live => true) AS h)
             SELECT wc->>'check', wc->>'status', coalesce(wc->>'value', 'null'), wc->>'message',
                    lc->>'status', coalesce(lc->>'value', 'null'), lc->>'message',
                    w.h->>'source', l.h->>'source'
               FROM w, l, jsonb_array_elements(w.h->'checks') wc
               LEFT JOIN jsonb_array_elements(l.h->'checks') lc ON lc->>'check' = wc->>'check'
              ORDER BY 1;")
echo "$result" | sed 's/^/# /'

moving=" idle_in_transaction idle_in_transaction_aborted long_running_queries blocked_sessions prepared_transactions sampler vacuum_age analyze_age cache_hit disk_free xid_wraparound slot_wal_retention "
n=0
while IFS='|' read -r check ws wv wm ls lv lm wsrc lsrc; do
	[ -n "$check" ] || continue
	n=$((n + 1))
	[ "$n" = 1 ] && is "$wsrc|$lsrc" "worker|live" "one reading from the worker, one live"
	if [[ $moving == *" $check "* ]]; then
		is "$ws|$(tr -d '0-9' <<<"$wm")" "$ls|$(tr -d '0-9' <<<"$lm")" \
			"$check: the same status, and the same message but for its numbers (they move with time)"
	else
		is "$ws|$wv|$wm" "$ls|$lv|$lm" "$check: the same status, value and message"
	fi
done <<<"$result"
is "$n" "$(q -c "SELECT count(*) FROM pgmaint.thresholds WHERE enabled")" "every enabled check was compared"

# the planted states are what both read (the comparison is not of two empty readings)
planted() {
	sq "SELECT c->>'status' || ' ' || coalesce(c->>'value', 'null') FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = '$1';"
}
is "$(planted dead_tuples)" "critical 80.00" "dead_tuples sees the dead share"
is "$(planted autovacuum_behind)" "warning 1" "autovacuum_behind sees the table"
is "$(planted invalid_indexes)" "warning 1" "invalid_indexes sees the index"
is "$(planted sequences)" "critical 95.00" "sequences sees the sequence"
is "$(planted not_valid_constraints)" "warning 1" "not_valid_constraints sees the constraint"
is "$(planted disabled_triggers)" "warning 1" "disabled_triggers sees the trigger"
is "$(planted inactive_slots)" "warning 1" "inactive_slots sees the slot"
is "$(sq "SELECT c->>'message' ~ '^2 session\(s\) idle in a transaction' FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'idle_in_transaction';")" t \
	"idle_in_transaction sees the idle session and the lock holder"
is "$(sq "SELECT c->>'message' ~ '^1 session\(s\) idle in an aborted transaction' FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'idle_in_transaction_aborted';")" t \
	"idle_in_transaction_aborted sees the session"
is "$(sq "SELECT c->>'message' ~ '^1 session\(s\) wait on a lock' FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'blocked_sessions';")" t \
	"blocked_sessions sees the waiter"
is "$(sq "SELECT c->>'message' ~ '^longest statement \(pid [0-9]+\) has run' FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'long_running_queries';")" t \
	"long_running_queries sees the statement"
is "$(sq "SELECT c->>'message' ~ '^1 prepared transaction\(s\), the oldest \(''hp_prepared''\)' FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'prepared_transactions';")" t \
	"prepared_transactions sees the transaction"

printf '\\q\n' >&"${SESS[1]}"
q -c "ROLLBACK PREPARED 'hp_prepared'" >/dev/null
q -c "SELECT pg_drop_replication_slot('hp_slot')" >/dev/null
finish

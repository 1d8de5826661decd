#!/usr/bin/env bash
# Retention attack (issue 26): two attacker roles try to become superuser, or
# to stop everyone's retention, through what pgmaint does with their tables.
#
#  - towner: owns tables an administrator sets retention on, and owns the
#    database (ALTER DATABASE ... SET is its);
#  - tuner:  a grant_tuning() role, calling pgmaint's helpers directly.
#
# They plant functions that record who runs them and try ALTER ROLE ...
# SUPERUSER, GRANT pg_* roles, CREATE ROLE and COPY ... TO a file; a column
# retyped to an enum with their own cast to timestamptz, a table turned into a
# view (CREATE RULE "_RETURN"), a view stored as a rule, a table that is its
# own archive, an archive trigger that puts the rows back, a renamed column, a
# trigger that sleeps, a forged run record, the old advisory lock, and
# database settings that would silence the worker.  Then the worker (policy
# apply, a retention run every 2 s) and a superuser's retention_plan() and
# CALL apply_retention() run.  Nothing of theirs may run as another role, no
# attacker may gain a privilege, and the other tables' retention must run.
. "$(dirname "$0")/../lib.sh"

base=${PGM_PORT_BASE:?}
dir="$PGM_TMP/retention_attack"
export PGHOST=$dir PGPORT=$base PGUSER=postgres PGDATABASE=attack
# the test's own sessions keep their defaults whatever the database says
export PGOPTIONS='-c default_transaction_read_only=off -c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0 -c exit_on_error=off -c plpgsql.extra_errors=none -c default_transaction_isolation=read\ committed -c transform_null_equals=off'
bg=""
trap '[ -n "$bg" ] && kill $bg 2>/dev/null; pgm_cluster_stop "$dir"' EXIT

pgm_cluster_init "$dir" "$base" attack pgmaint || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
pgmaint.sample_interval = 1
pgmaint.policy = apply
pgmaint.policy_interval = 3600
pgmaint.retention_interval = 2
CONF
pgm_cluster_start "$dir" || exit 1
attacks=0
attack() { attacks=$((attacks + 1)); }

# a statement that must end on its own: a run waiting behind a lock is a failure, not a hang
qt() {
	PGOPTIONS="$PGOPTIONS -c statement_timeout=${QT_SECONDS:-60}s" timeout "$((${QT_SECONDS:-60} + 10))" \
		psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"
}
# the SQLSTATE of a statement that fails (empty when it succeeds)
state() {
	local who=$1
	shift
	psql -X -At -q -U "$who" -v ON_ERROR_STOP=1 -c '\set VERBOSITY sqlstate' -c "$1" 2>&1 >/dev/null |
		sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p' | head -n 1
}

q -d postgres <<'SQL' >/dev/null || exit 1
CREATE ROLE towner LOGIN;
CREATE ROLE tuner LOGIN;
CREATE ROLE app LOGIN;
CREATE DATABASE attack OWNER towner;
SQL
q <<'SQL' >/dev/null || exit 1
CREATE EXTENSION pgmaint;
SELECT pgmaint.grant_tuning('tuner');
CREATE SCHEMA att AUTHORIZATION towner;
CREATE SCHEMA tun AUTHORIZATION tuner;
CREATE SCHEMA app AUTHORIZATION app;
-- who ran what: every spy call, whoever its caller
CREATE TABLE public.spylog (attacker name, who name, sess name, what text,
                            at timestamptz DEFAULT pg_catalog.clock_timestamp());
GRANT INSERT, SELECT ON public.spylog TO PUBLIC;
SQL

# The spy of attacker $1 in schema $2: records who runs it and tries to
# escalate (superuser, pg_* roles, a new superuser role, a file written by the server).
spy() {
	local who=$1 s=$2
	q -U "$who" <<SQL
CREATE FUNCTION $s.spy(what text) RETURNS void LANGUAGE plpgsql AS \$f\$
BEGIN
    INSERT INTO public.spylog (attacker, who, sess, what) VALUES ('$who', current_user, session_user, what);
    BEGIN EXECUTE 'ALTER ROLE $who SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
    BEGIN EXECUTE 'GRANT pg_execute_server_program, pg_write_server_files, pg_read_server_files TO $who'; EXCEPTION WHEN OTHERS THEN NULL; END;
    BEGIN EXECUTE 'CREATE ROLE ${who}_minion SUPERUSER LOGIN'; EXCEPTION WHEN OTHERS THEN NULL; END;
    BEGIN EXECUTE pg_catalog.format('COPY (SELECT 1) TO %L', '$dir/pwned_${who}_' || pg_catalog.md5(what)); EXCEPTION WHEN OTHERS THEN NULL; END;
END \$f\$;
CREATE FUNCTION $s.spy_ts(what text) RETURNS timestamptz LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM $s.spy(what); RETURN pg_catalog.now() - interval '1000 days'; END \$f\$;
SQL
}
ok "towner plants its spy" bash -c "$(declare -f q spy); dir='$dir'; spy towner att >/dev/null"
ok "tuner plants its spy" bash -c "$(declare -f q spy); dir='$dir'; spy tuner tun >/dev/null"
q -U towner -c "SELECT att.spy('self-test')" >/dev/null
is "$(q -c "SELECT count(*) FROM public.spylog WHERE who = 'towner'")" 1 \
	"the trap works: a spy call is recorded"

# --- the tables ----------------------------------------------------------------
# app's: plain victims whose retention must keep running; a table to hold locked
q -U app <<'SQL' >/dev/null || exit 1
CREATE TABLE app.victim (id int, ts timestamptz);
CREATE TABLE app.victim2 (id int, ts timestamptz);
CREATE TABLE app.victim2_archive (LIKE app.victim2);
CREATE TABLE app.locked (id int, ts timestamptz);
INSERT INTO app.victim SELECT g, now() - interval '400 days' FROM generate_series(1, 300) g;
INSERT INTO app.victim2 SELECT g, now() - interval '400 days' FROM generate_series(1, 300) g;
INSERT INTO app.locked SELECT g, now() - interval '400 days' FROM generate_series(1, 10) g;
SQL
# towner's: tables an administrator sets retention on
q -U towner <<'SQL' >/dev/null || exit 1
CREATE TABLE att.a1_enum (id int, ts timestamptz);
INSERT INTO att.a1_enum SELECT g, now() - interval '400 days' FROM generate_series(1, 5) g;
CREATE TABLE att.a0_view (ts timestamptz);
CREATE TABLE att.t_renamed (id int, ts timestamptz);
INSERT INTO att.t_renamed SELECT g, now() - interval '400 days' FROM generate_series(1, 5) g;
-- an archive trigger that puts every row back (sorts first: it must not starve the others)
CREATE TABLE att.b_loop (id int, ts timestamptz);
CREATE TABLE att.b_loop_archive (LIKE att.b_loop);
INSERT INTO att.b_loop SELECT g, now() - interval '400 days' FROM generate_series(1, 1000) g;
CREATE FUNCTION att.put_back() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN INSERT INTO att.b_loop VALUES (NEW.id, NEW.ts); PERFORM att.spy('archive trigger'); RETURN NULL; END $f$;
CREATE TRIGGER put_back AFTER INSERT ON att.b_loop_archive FOR EACH ROW EXECUTE FUNCTION att.put_back();
-- an archive whose index expression is a spy: it runs, as its owner
CREATE FUNCTION att.spy_imm(t timestamptz) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM att.spy('index expression'); RETURN 1; END $f$;
CREATE TABLE att.t_idx (id int, ts timestamptz);
CREATE TABLE att.t_idx_archive (LIKE att.t_idx);
CREATE INDEX ON att.t_idx_archive (att.spy_imm(ts));
INSERT INTO att.t_idx SELECT g, now() - interval '400 days' FROM generate_series(1, 5) g;
-- a table whose delete trigger will sleep
CREATE TABLE att.b_slow (id int, ts timestamptz);
SQL
q -U tuner <<'SQL' >/dev/null || exit 1
CREATE TABLE tun.owned (id int, ts timestamptz);
INSERT INTO tun.owned SELECT g, now() - interval '400 days' FROM generate_series(1, 5) g;
CREATE TABLE tun.selfarch (id int, ts timestamptz);
INSERT INTO tun.selfarch SELECT g, now() - interval '400 days' FROM generate_series(1, 100) g;
CREATE VIEW tun.v AS SELECT tun.spy_ts('tuner view') AS ts;
SQL

# the administrator's rules
q <<'SQL' >/dev/null || exit 1
SELECT pgmaint.set_retention('app.victim', 'ts', '30 days');
SELECT pgmaint.set_retention('app.victim2', 'ts', '30 days', 'app.victim2_archive');
SELECT pgmaint.set_retention('app.locked', 'ts', '30 days');
SELECT pgmaint.set_retention('att.a1_enum', 'ts', '30 days');
SELECT pgmaint.set_retention('att.a0_view', 'ts', '30 days');
SELECT pgmaint.set_retention('att.t_renamed', 'ts', '30 days');
SELECT pgmaint.set_retention('att.b_loop', 'ts', '30 days', 'att.b_loop_archive', 10);
SELECT pgmaint.set_retention('att.t_idx', 'ts', '30 days', 'att.t_idx_archive');
SELECT pgmaint.set_retention('att.b_slow', 'ts', '30 days');
SQL
ok "the tuning role sets retention on its own table" q -U tuner -c "SELECT pgmaint.set_retention('tun.owned', 'ts', '30 days')"

# --- the attacks ------------------------------------------------------------------
# 1. a view stored as a rule through the internal helper (1.1 took it)
attack
q -U tuner >/dev/null 2>&1 <<'SQL'
DO $$
BEGIN
    BEGIN
        PERFORM pgmaint._retention_store('tuner', 'tun.v', 'ts', '1 day', NULL, 10, 'drop');
    EXCEPTION WHEN undefined_function THEN
        PERFORM pgmaint._retention_store('tuner', 'tun.v', 'ts', '1 day', NULL, 10, 'drop', NULL);
    END;
END $$;
SQL
is "$(q -c "SELECT count(*) FROM pgmaint.retention WHERE relid = 'tun.v'::regclass")" 0 \
	"a tuning role cannot store a rule for a view through _retention_store()"
attack
is "$(state tuner "SELECT pgmaint.set_retention('tun.v', 'ts', '1 day')")" 42809 "nor through set_retention()"

# 2. a table that is its own archive (1.1's helper took it)
attack
q -U tuner >/dev/null 2>&1 <<'SQL'
DO $$
BEGIN
    BEGIN
        PERFORM pgmaint._retention_store('tuner', 'tun.selfarch', 'ts', '1 day', 'tun.selfarch', 10, 'drop');
    EXCEPTION WHEN undefined_function THEN
        PERFORM pgmaint._retention_store('tuner', 'tun.selfarch', 'ts', '1 day', 'tun.selfarch', 10, 'drop', NULL);
    END;
END $$;
SQL
is "$(q -c "SELECT count(*) FROM pgmaint.retention WHERE relid = 'tun.selfarch'::regclass")" 0 \
	"nor a rule whose table is its own archive"

# 3. the rule's column retyped to the owner's enum, with the owner's cast to timestamptz
attack
ok "towner retypes its rule's column to an enum with its own cast to timestamptz" q -U towner <<'SQL'
CREATE TYPE att.stamp AS ENUM ('old', 'new');
CREATE FUNCTION att.stamp_ts(att.stamp) RETURNS timestamptz LANGUAGE plpgsql AS $f$
BEGIN PERFORM att.spy('enum cast'); RETURN now() - interval '1000 days'; END $f$;
CREATE CAST (att.stamp AS timestamptz) WITH FUNCTION att.stamp_ts(att.stamp) AS ASSIGNMENT;
ALTER TABLE att.a1_enum ALTER COLUMN ts TYPE att.stamp USING 'old';
SQL

# 4. the empty table turned into a view whose column is a spy
attack
ok "towner turns its empty table into a view (CREATE RULE \"_RETURN\")" q -U towner -c \
	"CREATE RULE \"_RETURN\" AS ON SELECT TO att.a0_view DO INSTEAD SELECT att.spy_ts('_RETURN view') AS ts"
is "$(q -c "SELECT relkind FROM pg_class WHERE oid = 'att.a0_view'::regclass")" v "it is a view now, with the same OID"

# 5. a renamed column
attack
q -U towner -c "ALTER TABLE att.t_renamed RENAME COLUMN ts TO created" >/dev/null

# 6. a forged run record
attack
q -U tuner >/dev/null 2>&1 <<'SQL'
SELECT pgmaint._retention_done('tuner', 'tun.owned',
    '{"stopped": "done", "by": "worker", "removed": 0, "forged": true}', now());
SQL
is "$(q -c "SELECT count(*) FROM pgmaint.retention WHERE last_result ? 'forged'")|$(q -c "SELECT count(*) FROM pgmaint.actions WHERE detail ? 'forged'")" "0|0" \
	"a tuning role cannot record a run of its own (_retention_done)"

# 7. the documented advisory lock, held on the victim's table for the whole test
attack
victim_oid=$(q -c "SELECT 'app.victim'::regclass::oid")
{ echo "SELECT pg_catalog.pg_advisory_lock(1886809449, $victim_oid);"; sleep 600; } |
	psql -X -q -U tuner "application_name=attack_lock" >/dev/null 2>&1 &
bg=$!
ok "tuner holds advisory lock (1886809449, app.victim)" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'attack_lock' AND l.locktype = 'advisory' AND l.granted)" 20

# --- the worker ----------------------------------------------------------------------
attacked=$(q -c "SELECT now()")
ok "the worker's retention still runs for app.victim, whose advisory lock tuner holds" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM app.victim WHERE ts < now() - interval '30 days')" 120
ok "and for app.victim2, after every attacker's table" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM app.victim2 WHERE ts < now() - interval '30 days') AND (SELECT count(*) FROM app.victim2_archive) = 300" 120
ok "the worker recorded a run of every rule after the attacks" \
	wait_for "SELECT bool_and(last_run_at > '$attacked' AND last_result->>'by' = 'worker') FROM pgmaint.retention" 120
is "$(q -c "SELECT string_agg(DISTINCT who || ': ' || what, '; ') FROM public.spylog WHERE who <> attacker")" "" \
	"after the worker's runs, nothing an attacker planted ran as another role"
echo "# worker results:"
q -c "SELECT '#   ' || relid::text || ': ' || coalesce(last_result->>'stopped', '-') FROM pgmaint.retention ORDER BY relid::text"
ok "the enum column is an error of its own rule" \
	test "$(q -c "SELECT last_result->>'stopped' LIKE 'error:%' FROM pgmaint.retention WHERE relid = 'att.a1_enum'::regclass")" = t
ok "the view is an error of its own rule" \
	test "$(q -c "SELECT last_result->>'stopped' LIKE 'error:%' FROM pgmaint.retention WHERE relid = 'att.a0_view'::regclass")" = t
ok "the renamed column is an error of its own rule" \
	test "$(q -c "SELECT last_result->>'stopped' LIKE 'error:%' FROM pgmaint.retention WHERE relid = 'att.t_renamed'::regclass")" = t
ok "the archive that puts rows back stops its table (not shrinking)" \
	test "$(q -c "SELECT last_result->>'stopped' LIKE 'not shrinking:%' FROM pgmaint.retention WHERE relid = 'att.b_loop'::regclass")" = t
ok "and removes no more than the table held ($(q -c "SELECT last_result->>'removed' FROM pgmaint.retention WHERE relid = 'att.b_loop'::regclass") of 1000)" \
	test "$(q -c "SELECT (last_result->>'removed')::int <= 1000 FROM pgmaint.retention WHERE relid = 'att.b_loop'::regclass")" = t
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'retention'")" warning \
	"the retention check reports the broken rules"
ok "naming one of them" bash -c "q() { psql -X -A -t -q \"\$@\"; }; q -c \"SELECT message FROM pgmaint.health_checks() WHERE check_name = 'retention'\" | grep -q 'the last run of .* stopped with'"

# --- the database's settings -------------------------------------------------------
# 8. database settings that would silence the worker
for s in "default_transaction_read_only = on" "statement_timeout = '10ms'" "lock_timeout = '1ms'" \
	"idle_in_transaction_session_timeout = '1ms'" "default_transaction_isolation = 'serializable'" \
	"exit_on_error = on" "plpgsql.extra_errors = 'all'" "transform_null_equals = on"; do
	attack
	# (plpgsql loaded first, so that its settings are known to the session)
	q -U towner -c 'DO $$ BEGIN END $$' -c "ALTER DATABASE attack SET $s" >/dev/null || echo "# could not set $s"
done
is "$(q -c "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'attack'")" 1 \
	"the database owner set its database's settings"
restarted=$(q -c "SELECT now()")
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler'" >/dev/null
ok "the worker comes back, with the database's settings" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND backend_start > '$restarted')" 30
echo "# worker session: $(q -c "SELECT pg_catalog.string_agg(name || '=' || setting, ' ') FROM pg_settings WHERE name IN ('default_transaction_read_only', 'exit_on_error')") (the test's own)"

ok "the worker still writes history (default_transaction_read_only = on is pinned off)" \
	wait_for "SELECT count(*) > 3 FROM pgmaint.sample_history WHERE sampled_at > '$restarted'" 60
q -U app -c "INSERT INTO app.victim SELECT g, now() - interval '400 days' FROM generate_series(1, 50) g" >/dev/null
ok "and its retention runs" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM app.victim WHERE ts < now() - interval '30 days') AND (SELECT last_run_at > '$restarted' FROM pgmaint.retention WHERE relid = 'app.victim'::regclass)" 60

# --- the administrator ---------------------------------------------------------------
q -c "ALTER SYSTEM SET pgmaint.retention_interval = 0" -c "SELECT pg_reload_conf()" >/dev/null
ok "the worker's runs are off for the administrator's turn" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.backend_type = 'pgmaint sampler' AND l.locktype IN ('object', 'advisory'))" 60
q -U app -c "INSERT INTO app.victim SELECT g, now() - interval '400 days' FROM generate_series(1, 50) g" \
	-c "INSERT INTO app.victim2 SELECT g, now() - interval '400 days' FROM generate_series(1, 50) g" >/dev/null
plan=$(QT_SECONDS=60 qt -c "SELECT table_name || '|' || coalesce(rows_to_remove::text, '-') || '|' || coalesce(error, '') FROM pgmaint.retention_plan()" 2>&1)
ok "a superuser's retention_plan() lists every rule despite the broken ones" \
	test "$(printf '%s\n' "$plan" | grep -c '|')" = 10
echo "$plan" | sed 's/^/#   plan: /'
is "$(q -c "SELECT string_agg(DISTINCT who || ': ' || what, '; ') FROM public.spylog WHERE who <> attacker")" "" \
	"after a superuser's retention_plan(), nothing an attacker planted ran as another role"
ok "its row for the view says why" grep -q '^att.a0_view|-|.*is not a table' <<<"$plan"
ok "its row for the renamed column says why" grep -q '^att.t_renamed|-|.*does not exist' <<<"$plan"
ok "a superuser's CALL apply_retention() finishes" qt -c "CALL pgmaint.apply_retention()"
is "$(q -c "SELECT count(*) FROM app.victim WHERE ts < now() - interval '30 days'")|$(q -c "SELECT count(*) FROM app.victim2 WHERE ts < now() - interval '30 days'")" "0|0" \
	"and the victims' retention ran"

# defect 5: a table held ACCESS EXCLUSIVE is skipped, measurements included
{ echo "BEGIN; LOCK TABLE app.locked IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);"; } |
	psql -X -q -U app "application_name=attack_holder" >/dev/null 2>&1 &
holder=$!
bg="$bg $holder"
ok "a session holds app.locked ACCESS EXCLUSIVE" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'attack_holder' AND l.relation = 'app.locked'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted)" 20
t0=$(date +%s)
ok "CALL apply_retention('app.locked') does not wait behind it" qt -c "CALL pgmaint.apply_retention('app.locked')"
ok "(it took $(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -lt 15
is "$(q -c "SELECT last_result->>'stopped' FROM pgmaint.retention WHERE relid = 'app.locked'::regclass")" locked \
	"and says the table was locked"
t0=$(date +%s)
ok "retention_plan() does not wait behind it either" qt -c "SELECT count(*) FROM pgmaint.retention_plan()"
ok "(it took $(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -lt 15
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'attack_holder'" >/dev/null
kill "$holder" 2>/dev/null

# the same for health(): a sequence its owner holds locked, one its owner may not read
attack
attack
q -U towner -c "CREATE SEQUENCE att.s_locked" -c "SELECT nextval('att.s_locked')" \
	-c "CREATE SEQUENCE att.s_revoked" -c "SELECT nextval('att.s_revoked')" \
	-c "REVOKE ALL ON SEQUENCE att.s_revoked FROM towner" >/dev/null
{ echo "BEGIN; ALTER SEQUENCE att.s_locked INCREMENT BY 1; SELECT pg_sleep(600);"; } |
	psql -X -q -U towner "application_name=attack_seq" >/dev/null 2>&1 &
bg="$bg $!"
ok "towner holds its sequence locked (ALTER SEQUENCE in an open transaction)" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'attack_seq' AND l.relation = 'att.s_locked'::regclass AND l.granted)" 20
t0=$(date +%s)
seqcheck=$(qt -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'sequences'")
ok "a superuser's health_checks() does not wait behind it ($(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -lt 15
ok "and its sequences check is measured, not an error ($seqcheck)" test -n "$seqcheck" -a "$seqcheck" != unknown
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'attack_seq'" >/dev/null

# a delete trigger that sleeps: its table gets its share of the budget, no more
attack
q -U towner <<'SQL' >/dev/null
CREATE FUNCTION att.stall() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN PERFORM pg_sleep(600); RETURN OLD; END $f$;
CREATE TRIGGER stall BEFORE DELETE ON att.b_slow FOR EACH ROW EXECUTE FUNCTION att.stall();
INSERT INTO att.b_slow SELECT g, now() - interval '400 days' FROM generate_series(1, 5) g;
SQL
q -U tuner -c "INSERT INTO tun.owned SELECT g, now() - interval '400 days' FROM generate_series(1, 50) g" >/dev/null
t0=$(date +%s)
ok "CALL apply_retention(time_budget => '12 s') ends although a trigger sleeps" \
	qt -c "CALL pgmaint.apply_retention(time_budget => '12 s')"
took=$(($(date +%s) - t0))
ok "within its budget ($took s)" test "$took" -lt 30
is "$(q -c "SELECT last_result->>'stopped' FROM pgmaint.retention WHERE relid = 'att.b_slow'::regclass")" "time budget" \
	"the sleeping table stopped at its share of the budget"
is "$(q -c "SELECT count(*) FROM tun.owned WHERE ts < now() - interval '30 days'")" 0 \
	"and the table after it (tun.owned) was cleaned"

# --- nothing was gained -----------------------------------------------------------------
echo "# attacks tried: $attacks (plus $(q -c "SELECT count(DISTINCT what) FROM public.spylog") distinct spy call sites reached)"
is "$(q -c "SELECT string_agg(DISTINCT attacker || ' ran as ' || who || ': ' || what, '; ') FROM public.spylog WHERE who <> attacker")" "" \
	"nothing an attacker planted ran as another role"
q -c "SELECT '#   spy ran as ' || who || ' (session ' || sess || '): ' || what || ' x' || count(*) FROM public.spylog GROUP BY who, sess, what ORDER BY who, sess, what" |
	sed -n '1,20p'
is "$(q -c "SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolsuper AND rolname <> 'postgres'")" "" \
	"no attacker is a superuser"
is "$(q -c "SELECT string_agg(a || ' in ' || p.rolname, ',') FROM pg_roles p, unnest(ARRAY['towner', 'tuner']) a WHERE p.rolname LIKE 'pg\_%' AND pg_has_role(a, p.oid, 'USAGE') AND NOT (a = 'towner' AND p.rolname = 'pg_database_owner')")" "" \
	"no attacker has the privileges of a pg_* role (but towner's pg_database_owner, as the database's owner)"
is "$(q -c "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname IN ('towner', 'tuner')")" 0 \
	"no attacker is a member of any role"
is "$(q -c "SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolname LIKE '%minion%'")" "" \
	"no attacker created a role"
is "$(ls "$dir" | grep -c '^pwned' || true)" 0 "no attacker had the server write a file"

finish

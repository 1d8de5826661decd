#!/usr/bin/env bash
# Hostile search_path: two attackers shadow now(), lower(), count(), =, <>,
# <, >, ~~ with functions that record current_user/session_user and try
# ALTER ROLE ... SUPERUSER; then the worker (sampling every second, the
# policy in apply mode every second, the leak sweep) and a superuser calling
# every pgmaint function run in their database.  Nothing of theirs may ever
# run as another role.
#
#  - dbowner: a non-superuser owner of pgmaint.database, with
#    ALTER DATABASE ... SET search_path = evil, pg_catalog;
#  - plain:   a plain role with CREATE on public (a superuser who puts
#    public before pg_catalog is its target).
#
# Also DROP DATABASE ... WITH (FORCE) of the sampled database (issue 13,
# item 7): from 1.2 on the launcher stops its worker first and does not start
# one there again (1.1's single worker retried the name with a backoff).
. "$(dirname "$0")/../lib.sh"

base=${PGM_PORT_BASE:?}
dir="$PGM_TMP/hostile_search_path"
port=$base
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=hostile
# the test's own sessions never use the hostile search_path; only the calls
# of pgmaint's functions below do
export PGOPTIONS='-c search_path=pg_catalog'
trap 'pgm_cluster_stop "$dir"' EXIT

pgm_cluster_init "$dir" "$port" hostile pgmaint || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
pgmaint.sample_interval = 1
pgmaint.policy = apply
pgmaint.policy_interval = 1
pgmaint.leak_exclude = 'nobody%'
pgmaint.leak_timeout = 1
CONF
pgm_cluster_start "$dir" || exit 1

q -d postgres <<'SQL' >/dev/null || exit 1
CREATE ROLE dbowner LOGIN;
CREATE ROLE plain LOGIN;
CREATE DATABASE hostile OWNER dbowner;
SQL
q <<'SQL' >/dev/null || exit 1
CREATE EXTENSION pgmaint;
GRANT CREATE, USAGE ON SCHEMA public TO plain;
SQL

# The trap: a schema of spies.  $1 = schema, $2 = the attacker (its owner).
plant() {
	local s=$1 who=$2
	q <<SQL
$([ "$s" = public ] || echo "CREATE SCHEMA $s;")
CREATE TABLE $s.log (who name, sess name, what text, app text, at timestamptz DEFAULT pg_catalog.clock_timestamp());
GRANT USAGE ON SCHEMA $s TO PUBLIC;
GRANT INSERT, SELECT ON $s.log TO PUBLIC;
CREATE FUNCTION $s.spy(what text) RETURNS void LANGUAGE plpgsql AS \$f\$
BEGIN
    INSERT INTO $s.log (who, sess, what, app) VALUES (current_user, session_user, what, pg_catalog.current_setting('application_name'));
    BEGIN
        ALTER ROLE $who SUPERUSER;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
END \$f\$;
CREATE FUNCTION $s.now() RETURNS timestamptz LANGUAGE plpgsql AS
  \$f\$ BEGIN PERFORM $s.spy('now()'); RETURN pg_catalog.now(); END \$f\$;
CREATE FUNCTION $s.lower(text) RETURNS text LANGUAGE plpgsql AS
  \$f\$ BEGIN PERFORM $s.spy('lower'); RETURN pg_catalog.lower(\$1); END \$f\$;
CREATE FUNCTION $s.cnt_sfunc(bigint) RETURNS bigint LANGUAGE plpgsql AS
  \$f\$ BEGIN PERFORM $s.spy('count'); RETURN \$1 OPERATOR(pg_catalog.+) 1; END \$f\$;
CREATE AGGREGATE $s.count(*) (sfunc = $s.cnt_sfunc, stype = bigint, initcond = '0');
SQL
	local t op fn
	for t in text name timestamptz interval oid int4 int8 numeric bool regclass; do
		for op in '=' '<>' '<' '>' '~~'; do
			case "$op" in '~~') [ "$t" = text ] || [ "$t" = name ] || continue ;; esac
			case "$op" in '=') fn=eq ;; '<>') fn=ne ;; '<') fn=lt ;; '>') fn=gt ;; '~~') fn=like ;; esac
			q <<SQL
CREATE FUNCTION $s.spy_${fn}_$t(a pg_catalog.$t, b pg_catalog.$t) RETURNS boolean LANGUAGE plpgsql AS
  \$f\$ BEGIN PERFORM $s.spy('$op $t'); RETURN a OPERATOR(pg_catalog.$op) b; END \$f\$;
CREATE OPERATOR $s.$op (leftarg = pg_catalog.$t, rightarg = pg_catalog.$t, function = $s.spy_${fn}_$t);
SQL
		done
	done
}

ok "the database owner plants its spies in schema evil" \
	bash -c "$(declare -f q plant); export PGUSER=dbowner; plant evil dbowner >/dev/null"
ok "the plain role plants its spies in schema public" \
	bash -c "$(declare -f q plant); export PGUSER=plain; plant public plain >/dev/null"
ok "the database owner sets the database's search_path" \
	q -U dbowner -c 'ALTER DATABASE hostile SET search_path = evil, pg_catalog'

# the trap works: a naive query of the attacker's own runs the spies
is "$(PGOPTIONS= q -U dbowner -c "SELECT pg_catalog.count(*) FROM (SELECT now()) x" -c "SELECT pg_catalog.count(*) FROM evil.log WHERE what = 'now()'")" "$(printf '1\n1')" \
	"a session with the database's search_path runs evil.now()"

# a table for the policy to tune, an idle-in-transaction session for the sweep
q -U dbowner -c "CREATE TABLE public.churn (id int PRIMARY KEY, v text);
                 INSERT INTO public.churn SELECT g, 'x' FROM pg_catalog.generate_series(1, 2000) g;
                 UPDATE public.churn SET v = 'y'; DELETE FROM public.churn WHERE id OPERATOR(pg_catalog.>) 1500;" >/dev/null
(echo 'BEGIN; SELECT 1;'; sleep 40) | psql -X -q -U plain -d hostile >/dev/null 2>&1 &
idle_pid=$!
trap 'kill $idle_pid 2>/dev/null; pgm_cluster_stop "$dir"' EXIT

# the worker reconnects, with the database's settings
started=$(q -c "SELECT pg_catalog.count(*) FROM pgmaint.sample_history")
q -c "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'pgmaint sampler'" >/dev/null
ok "the worker comes back in the hostile database" \
	wait_for "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM pg_catalog.pg_stat_activity a, pg_catalog.pg_stat_activity b WHERE a.backend_type = 'pgmaint sampler' AND a.datname = 'hostile' AND b.state = 'idle in transaction'" 30
ok "and writes history again (several samples)" \
	wait_for "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) ($started OPERATOR(pg_catalog.+) 5) FROM pgmaint.sample_history" 60
ok "the policy ran in apply mode (its activity snapshots)" \
	wait_for "SELECT pg_catalog.count(DISTINCT taken_at) OPERATOR(pg_catalog.>) 2 FROM pgmaint.table_activity" 60
ok "the leak sweep saw the idle session" \
	bash -c "grep -q 'has been idle in transaction' '$dir/server.log'"

# a superuser calls every pgmaint function it can call with its defaults,
# once with the database's search_path and once with public first
calls=$(q -c "
SELECT pg_catalog.format('SELECT %s();', p.oid::regproc)
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pgmaint'::regnamespace
   AND p.pronargs OPERATOR(pg_catalog.=) p.pronargdefaults
   AND p.prorettype NOT IN ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
   AND p.prokind OPERATOR(pg_catalog.=) 'f'
 ORDER BY 1")
n=$(printf '%s\n' "$calls" | grep -c .)
for sp in "" "SET search_path = public, pg_catalog;"; do
	printf '%s\n' "$calls" | sed "s/^/$sp /" | PGOPTIONS= psql -X -q -U postgres >/dev/null 2>&1
done
echo "# a superuser called $n pgmaint functions twice (database search_path, public first)"
ok "a superuser called every function without arguments ($n)" test "$n" -gt 30

# and the worker goes on: two more of its loops (sample, policy, leak sweep
# every second; the events step, which evaluates every check, last)
ok "the worker runs two more loops after the calls" wait_worker_step events 2
evil=$(q -c "SELECT pg_catalog.count(*) FROM evil.log WHERE who OPERATOR(pg_catalog.<>) 'dbowner' OR sess OPERATOR(pg_catalog.<>) 'dbowner'")
plainn=$(q -c "SELECT pg_catalog.count(*) FROM public.log WHERE who OPERATOR(pg_catalog.<>) 'plain' OR sess OPERATOR(pg_catalog.<>) 'plain'")
is "$evil" 0 "nothing of the database owner's ran as another role"
[ "$evil" != 0 ] && q -c "SELECT DISTINCT who, what, app FROM evil.log WHERE who OPERATOR(pg_catalog.<>) 'dbowner' LIMIT 10" | sed 's/^/#   /'
is "$plainn" 0 "nothing of the plain role's ran as another role"
[ "$plainn" != 0 ] && q -c "SELECT DISTINCT who, what, app FROM public.log WHERE who OPERATOR(pg_catalog.<>) 'plain' LIMIT 10" | sed 's/^/#   /'
is "$(q -c "SELECT pg_catalog.string_agg(rolname::pg_catalog.text, ',') FROM pg_catalog.pg_roles WHERE rolsuper AND rolname OPERATOR(pg_catalog.<>) 'postgres'")" "" \
	"neither attacker became a superuser"
echo "# spy calls by the attackers themselves: $(q -c "SELECT (SELECT pg_catalog.count(*) FROM evil.log) OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM public.log)")"
kill $idle_pid 2>/dev/null

# issue 26, item 6: the database owner's settings cannot switch the worker's
# writes off or turn its errors into restarts (plpgsql loaded first, so that
# its settings are known to the session)
ok "the database owner sets read-only, exit_on_error, plpgsql.extra_errors and timeouts on its database" \
	q -U dbowner -c 'DO $$ BEGIN END $$' \
	-c "ALTER DATABASE hostile SET default_transaction_read_only = on" \
	-c "ALTER DATABASE hostile SET exit_on_error = on" \
	-c "ALTER DATABASE hostile SET plpgsql.extra_errors = 'all'" \
	-c "ALTER DATABASE hostile SET statement_timeout = '5ms'" \
	-c "ALTER DATABASE hostile SET lock_timeout = '1ms'" \
	-c "ALTER DATABASE hostile SET default_transaction_isolation = 'serializable'"
# (the test's own sessions keep their defaults)
export PGOPTIONS="$PGOPTIONS -c default_transaction_read_only=off -c exit_on_error=off -c statement_timeout=0 -c lock_timeout=0"
restarted=$(q -c "SELECT pg_catalog.now()")
q -c "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'pgmaint sampler'" >/dev/null
ok "the worker comes back with them" \
	wait_for "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM pg_catalog.pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND backend_start OPERATOR(pg_catalog.>) '$restarted'" 30
ok "and still writes history (several samples)" \
	wait_for "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 3 FROM pgmaint.sample_history WHERE sampled_at OPERATOR(pg_catalog.>) '$restarted'" 60
ok "and policy snapshots" \
	wait_for "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM pgmaint.table_activity WHERE taken_at OPERATOR(pg_catalog.>) '$restarted'" 60
is "$(q -c "SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND backend_start OPERATOR(pg_catalog.>) '$restarted'")" 1 \
	"without restarting again (no error became an exit)"

# item 7: after DROP DATABASE ... WITH (FORCE) no worker is left or started there
in_postgres() { PGDATABASE=postgres "$@"; }
ok "DROP DATABASE ... WITH (FORCE) of the sampled database succeeds" \
	q -d postgres -c "DROP DATABASE hostile WITH (FORCE)"
ok "its worker is gone and none is started for it" \
	in_postgres wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity WHERE backend_type = 'pgmaint sampler')" 30

finish

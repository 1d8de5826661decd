#!/usr/bin/env bash
# pgmaint behind PgBouncer (issue 15): Debian's pgbouncer (1.18) on
# 127.0.0.1 in transaction mode in front of a cluster of its own: health()
# through the pooler, a leak behind it seen on the server, connection_budget()
# with the pooler's default_pool_size, and the asyncpg prepared-statement
# caveat with the setting that avoids it.
# packages: pgbouncer python3-asyncpg python3-sqlalchemy
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/pgbouncer"
pport=$PGM_PORT_BASE
bport=$((PGM_PORT_BASE + 1))
holder=""
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	[ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null
	pgm_cluster_stop "$dir"
}
trap cleanup EXIT

if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
	echo "not ok 1 - pgbouncer is installed"
	exit 1
fi

pgm_cluster_init "$dir" "$pport" agent_core pgmaint >/dev/null || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
pgmaint.sample_interval = 1
CONF
pgm_cluster_start "$dir" || exit 1
export PGHOST=127.0.0.1 PGPORT=$pport PGUSER=postgres PGDATABASE=agent_core
q -d postgres -c "CREATE DATABASE agent_core"
q -c "CREATE EXTENSION pgmaint" -c "CREATE ROLE monitor LOGIN IN ROLE pg_monitor"

cat >"$dir/userlist.txt" <<USERS
"postgres" ""
"monitor" ""
USERS
cat >"$dir/pgbouncer.ini" <<INI
[databases]
agent_core = host=127.0.0.1 port=$pport dbname=agent_core
; one server connection: every client shares it
agent_core_one = host=127.0.0.1 port=$pport dbname=agent_core pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 3
max_client_conn = 100
admin_users = postgres
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
chown -R postgres: "$dir/pgbouncer.ini" "$dir/userlist.txt"
ok "pgbouncer starts in transaction mode on 127.0.0.1" \
	pgm_as_owner /usr/sbin/pgbouncer -d "$dir/pgbouncer.ini"
deadline=$(($(date +%s) + 30))
until psql -X -At -h 127.0.0.1 -p "$bport" -U monitor -d agent_core -c "SELECT 1" >/dev/null 2>&1 ||
	[ "$(date +%s)" -ge "$deadline" ]; do sleep 0.2; done

bq() { psql -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$bport" -U monitor -d agent_core "$@"; }
is "$(bq -c "SELECT pgmaint.health() ->> 'status' IN ('ok', 'warning', 'critical')")" "t" \
	"health() answers through pgbouncer"
is "$(bq -c "SELECT count(*) > 0 FROM pgmaint.health_checks()")" "t" "health_checks() answers through pgbouncer"
is "$(bq -c "SHOW pool_mode" 2>/dev/null || psql -X -At -h 127.0.0.1 -p "$bport" -U postgres -d pgbouncer -c "SHOW CONFIG" | grep '^pool_mode|' | cut -d'|' -f2)" \
	"transaction" "the pooler is in transaction mode"

# a client that leaves a transaction open behind the pooler
{
	echo "BEGIN;"
	echo "SELECT 1;"
	sleep 60
} | PGAPPNAME=leaky psql -X -q -h 127.0.0.1 -p "$bport" -U monitor -d agent_core >/dev/null 2>&1 &
holder=$!
ok "the server session behind the pooler is a leak" \
	wait_for "SELECT count(*) = 1 FROM pgmaint.connection_leaks('1 s') WHERE application_name = 'leaky' AND client_addr = '127.0.0.1' AND usename = 'monitor'" 30
q -c "UPDATE pgmaint.thresholds SET warning = 1, critical = 2 WHERE check_name = 'idle_in_transaction'"
ok "the idle_in_transaction check sees it, through the pooler too" \
	wait_for "SELECT status = 'critical' FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'" 30
is "$(bq -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'")" "critical" \
	"health_checks() through the pooler names the leak"
is "$(q -c "SELECT count(*) FROM pgmaint.terminate_leaks('1 s', dry_run => false) WHERE application_name = 'leaky'")" "1" \
	"terminate_leaks() ends the server session behind the pooler"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=""
q -c "UPDATE pgmaint.thresholds SET warning = 60, critical = 300 WHERE check_name = 'idle_in_transaction'"
is "$(bq -c "SELECT 1")" "1" "the pooler serves new clients after the terminated session"

# connection_budget() with the pooler's default_pool_size
is "$(q -c "SELECT value FROM pgmaint.connection_budget(5, 10, 4, 5) WHERE item = 'planned connections'")" "65" \
	"without a pooler, four instances plan (5 + 10) * 4 + 5 server connections"
is "$(q -c "SELECT value FROM pgmaint.connection_budget(5, 10, 4, 5, pooler_pool_size => 20) WHERE item = 'planned connections'")" "25" \
	"behind a pooler with default_pool_size 20 the server sees 20 + 5"
is "$(q -c "SELECT value, verdict LIKE '%statement_cache_size=0%' FROM pgmaint.connection_budget(5, 10, 4, 5, pooler_pool_size => 20) WHERE item = 'pooler clients'")" "60|t" \
	"the pooler's clients are counted apart, with the transaction-mode caveat"
is "$(q -c "SELECT verdict LIKE 'pooler default_pool_size 20 + 5 = 25, %: fits' FROM pgmaint.connection_budget(5, 10, 4, 5, pooler_pool_size => 20) WHERE item = 'planned connections'")" "t" \
	"the verdict names the pooler"
is "$(q -c "SELECT verdict FROM pgmaint.connection_budget(5, 10, 1, 5, pooler_pool_size => 100) WHERE item = 'advice'")" \
	"lower the pooler's default_pool_size, or raise max_connections to at least 108" \
	"an oversized pooler gets pooler advice"
err=$(q -c "SELECT * FROM pgmaint.connection_budget(5, 10, 1, 5, pooler_pool_size => 0)" 2>&1)
ok "pooler_pool_size 0 is an error (22023)" grep -q 'pooler_pool_size' <<<"$err"

# asyncpg's statement cache through transaction pooling: two application
# processes (two instances, or two workers of one) behind one server
# connection; each names its first prepared statement __asyncpg_stmt_1__.
# The first process keeps its statement; the second, in a fresh process,
# runs MODE.
cat >"$dir/prepared.py" <<'PY'
import asyncio, subprocess, sys, uuid
import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
port, mode = int(sys.argv[1]), sys.argv[2]
dsn = f"postgresql://monitor@127.0.0.1:{port}/agent_core_one"
FIRST = """
import asyncio, sys, asyncpg
async def main():
    c = await asyncpg.connect(sys.argv[1])
    await c.fetchval("SELECT 1")
    print("ready", flush=True)
    sys.stdin.readline()
    await c.close()
asyncio.run(main())
"""

async def second():
    if mode.startswith("asyncpg"):
        kw = {"statement_cache_size": 0} if mode == "asyncpg0" else {}
        c = await asyncpg.connect(dsn, **kw)
        try:
            await c.fetchval("SELECT pgmaint.health() ->> 'status'")
        finally:
            await c.close()
    else:
        suffix, args = ("?prepared_statement_cache_size=0",
                        {"statement_cache_size": 0, "connection_class": UniquePreparedNames}) \
            if mode == "sqlalchemy0" else ("", {})
        e = create_async_engine(f"postgresql+asyncpg://monitor@127.0.0.1:{port}/agent_core_one{suffix}",
                                connect_args=args)
        try:
            async with e.connect() as c:
                await c.execute(text("SELECT pgmaint.health() ->> 'status'"))
        finally:
            await e.dispose()

class UniquePreparedNames(asyncpg.Connection):
    """SQLAlchemy 1.4 prepares every statement under a name asyncpg numbers
    per process: make the names unique across processes."""
    def _get_unique_id(self, prefix):
        return f"__asyncpg_{prefix}_{uuid.uuid4()}__"

first = subprocess.Popen([sys.executable, "-c", FIRST, dsn], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
try:
    assert first.stdout.readline().strip() == "ready"
    try:
        asyncio.run(second())
        print(mode, "ok")
    except Exception as e:
        print(mode, type(getattr(e, "orig", e)).__name__, str(e).splitlines()[0][:200])
finally:
    first.communicate("\n", timeout=30)
PY
out=""
for mode in asyncpg asyncpg0 sqlalchemy sqlalchemy0; do
	# a fresh server connection: statements a client left stay on it otherwise
	psql -X -q -h 127.0.0.1 -p "$bport" -U postgres -d pgbouncer -c "KILL agent_core_one" -c "RESUME agent_core_one" >/dev/null 2>&1
	out="$out$(/usr/bin/python3 "$dir/prepared.py" "$bport" "$mode" 2>&1 | tail -1)
"
done
echo "$out" | sed 's/^/# /'
ok "asyncpg's default statement cache breaks behind transaction pooling" \
	grep -Eq '^asyncpg (DuplicatePreparedStatementError|InvalidSQLStatementNameError)' <<<"$out"
ok "statement_cache_size=0 makes raw asyncpg work through the pooler" grep -q '^asyncpg0 ok' <<<"$out"
ok "SQLAlchemy's asyncpg dialect breaks there by default too" \
	grep -Eq '^sqlalchemy [A-Za-z]*(Duplicate|Prepared|StatementName)' <<<"$out"
ok "SQLAlchemy 1.4 works there with prepared_statement_cache_size=0, statement_cache_size=0 and unique statement names" \
	grep -q '^sqlalchemy0 ok' <<<"$out"
finish

#!/usr/bin/env bash
# The FastAPI example (examples/fastapi/) and its pytest suite, against a
# cluster of its own on 127.0.0.1 that the tests stop and start.
# packages: python3-fastapi python3-sqlalchemy python3-asyncpg python3-psycopg python3-httpx python3-pytest python3-uvicorn
set -u
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

dir="$PGM_TMP/fastapi_example"
port=$PGM_PORT_BASE
trap 'pgm_cluster_stop "$dir"' EXIT

pgm_cluster_init "$dir" "$port" agent_core pgmaint >/dev/null || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
pgmaint.sample_interval = 1
CONF
pgm_cluster_start "$dir" || exit 1
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=agent_core
q -d postgres -c "CREATE DATABASE agent_core"
q -c "CREATE EXTENSION pgmaint" -c "CREATE ROLE monitor LOGIN IN ROLE pg_monitor"
# the backup and archiver checks have nothing to judge here
q -c "UPDATE pgmaint.thresholds SET enabled = false WHERE check_name IN ('backup', 'archiver')"
ok "the worker runs" wait_for "SELECT running FROM pgmaint.sampler_status()" 60

cp -r "$top/examples/fastapi" "$dir/app"
chmod -R a+rX "$dir/app"
PGFX_DATA="$dir/data" PGFX_BIN="$PGM_BIN" PGFX_PORT=$port PGFX_BASE=$PGM_PORT_BASE PGFX_LOGDIR="$dir" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider -rA "$dir/app" >"$dir/pytest.out" 2>&1
rc=$?
sed 's/^/# /' "$dir/pytest.out"
for t in $(grep -oE '^(PASSED|FAILED|ERROR) [^ ]+' "$dir/pytest.out" | tr ' ' '|'); do
	res=${t%%|*}
	name=${t##*::}
	pgm_test_n=$((pgm_test_n + 1))
	if [ "$res" = PASSED ]; then echo "ok $pgm_test_n - pytest $name"; else
		echo "not ok $pgm_test_n - pytest $name"; pgm_test_failed=$((pgm_test_failed + 1)); fi
done
is "$rc" "0" "pytest exits with status 0"
[ "$rc" != 0 ] && tail -n 30 "$dir/uvicorn.log" | sed 's/^/# uvicorn: /'
finish

#!/usr/bin/env bash
# test/run.sh: `make test`.  Installs what is missing, builds, starts a
# throwaway cluster with pg_cron and pgmaint preloaded, runs pg_regress,
# pgTAP and the integration scripts, and prints "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

pgm_ensure_packages || exit 1

echo "== build"
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

PGM_TMP=$(mktemp -d /tmp/pgmaint-test.XXXXXX)
chmod 755 "$PGM_TMP"
export PGM_TMP
cluster="$PGM_TMP/main"

cleanup() {
	pgm_cluster_stop "$cluster"
	for d in "$PGM_TMP"/*/; do pgm_cluster_stop "${d%/}"; done
	[ -n "${PGM_KEEP:-}" ] || rm -rf "$PGM_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== install into $PGM_TMP/root"
pgm_stage_install "$PGM_TMP/root" || { echo "install failed"; echo "0 passed, 1 failed"; exit 1; }

port=${PGMAINT_TEST_PORT:-$((20000 + $$ % 20000))}
pgm_cluster_init "$cluster" "$port" pgmaint_test || exit 1
pgm_cluster_start "$cluster" || exit 1

export PGHOST=$cluster PGPORT=$port PGUSER=postgres PGDATABASE=pgmaint_test
psql -XqAt -d postgres -c 'CREATE DATABASE pgmaint_test' -c 'CREATE DATABASE pgmaint_tap' >/dev/null || exit 1
psql -XqAt -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION pgmaint' >/dev/null || exit 1
psql -XqAt -d pgmaint_tap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION pgmaint' >/dev/null || exit 1

passed=0
failed=0
failed_suites=""

# --- pg_regress -------------------------------------------------------------
echo "== pg_regress"
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" installcheck >"$PGM_TMP/regress.out" 2>&1
regress_rc=$?
cat "$PGM_TMP/regress.out"
p=$(grep -Ec '\.\.\. ok' "$PGM_TMP/regress.out")
f=$(grep -Ec '\.\.\. FAILED|\.\.\. failed' "$PGM_TMP/regress.out")
if [ "$regress_rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
passed=$((passed + p)); failed=$((failed + f))
if [ "$f" != 0 ]; then
	failed_suites="$failed_suites pg_regress"
	[ -f regression.diffs ] && { echo "---- regression.diffs"; cat regression.diffs; }
fi

# --- pgTAP ------------------------------------------------------------------
echo "== pgTAP"
if compgen -G "test/*.sql" >/dev/null; then
	pg_prove -d pgmaint_tap --ext .sql test/*.sql >"$PGM_TMP/tap.out" 2>&1
	tap_rc=$?
	cat "$PGM_TMP/tap.out"
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$PGM_TMP/tap.out")
	f=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$PGM_TMP/tap.out" | awk '{s+=$1} END {print s+0}')
	total=${total:-0}
	if [ "$tap_rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + total - (f > total ? total : f))); failed=$((failed + f))
	[ "$f" != 0 ] && failed_suites="$failed_suites pgTAP"
fi

# --- integration scripts ----------------------------------------------------
echo "== integration"
for t in test/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "-- $name"
	started=$(date +%s)
	bash "$t" >"$PGM_TMP/$name.out" 2>&1
	rc=$?
	cat "$PGM_TMP/$name.out"
	echo "-- $name: $(($(date +%s) - started)) s"
	p=$(grep -Ec '^ok ' "$PGM_TMP/$name.out")
	f=$(grep -Ec '^not ok ' "$PGM_TMP/$name.out")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name exited with status $rc"; fi
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name ran no test"; fi
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" != 0 ] && failed_suites="$failed_suites $name"
done

if [ "$failed" != 0 ]; then
	echo "---- failed:$failed_suites"
	echo "---- server log (last 80 lines)"
	tail -n 80 "$cluster/server.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

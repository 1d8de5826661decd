#!/usr/bin/env bash
# test/run.sh: `make test`.  Installs what is missing, builds, starts a
# throwaway cluster with pg_cron and pgmaint preloaded, runs pg_regress,
# pgTAP and the integration scripts against it, runs the independent suites
# (each with its own servers) beside them, and prints one closing line
# "N passed, N failed" (", N skipped").
#
#   test/integration/*.sh  share the main cluster; run one after the other
#   test/suites/*.sh       start their own components on PGM_PORT_BASE..+99;
#                          run in parallel (PGMAINT_TEST_JOBS, default 2)
#
# Every script prints TAP lines ("ok N - ...", "not ok N - ...").  A suite
# whose component cannot run on this machine prints "skipped: <reason>" and
# counts as skipped, never as passed.  A script declares the Debian packages
# it needs on a line "# packages: a b c"; they are installed up front.
# PGMAINT_TEST_ONLY=regex runs only the scripts whose name matches.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

only=${PGMAINT_TEST_ONLY:-}
selected() {
	[ -z "$only" ] || [[ "$(basename "$1" .sh)" =~ $only ]]
}

# the packages the scripts declare, beside the build's own
extra=$(sed -n 's/^# packages: *//p' test/integration/*.sh test/suites/*.sh 2>/dev/null | tr -s ' \n' ' ')
pgm_ensure_packages $extra || exit 1

echo "== build"
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

PGM_TMP=$(mktemp -d /tmp/pgmaint-test.XXXXXX)
chmod 755 "$PGM_TMP"
export PGM_TMP
cluster="$PGM_TMP/main"
suite_pids=""

cleanup() {
	local p
	for p in "$PGM_TMP"/suites/*.pid; do [ -f "$p" ] && kill -- "-$(cat "$p")" 2>/dev/null; done
	[ -n "$suite_pids" ] && kill $suite_pids 2>/dev/null
	wait 2>/dev/null
	pgm_cluster_stop "$cluster"
	for p in $(find "$PGM_TMP" -maxdepth 5 -name postmaster.pid -path '*/data/*' 2>/dev/null); do
		pgm_cluster_stop "$(dirname "$(dirname "$p")")"
	done
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
skipped=0
failed_suites=""

# Counts the TAP lines of one script's output (file $2, exit status $3).
count_script() {
	local name=$1 out=$2 rc=$3 p f
	p=$(grep -Ec '^ok ' "$out")
	f=$(grep -Ec '^not ok ' "$out")
	if grep -Eq '^skipped: ' "$out" && [ "$f" = 0 ]; then
		skipped=$((skipped + 1))
		passed=$((passed + p))
		return
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name exited with status $rc"; fi
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name ran no test"; fi
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" != 0 ] && failed_suites="$failed_suites $name"
}

# --- independent suites, started now, collected at the end -------------------
jobs_max=${PGMAINT_TEST_JOBS:-2}
mkdir -p "$PGM_TMP/suites"

# Runs suite $1 as number $2 in a session of its own; leaves .out, .rc, .secs.
run_suite() {
	local t=$1 m=$2 name started
	name=$(basename "$t" .sh)
	started=$(date +%s)
	PGM_PORT_BASE=$((port + 100 * m)) setsid bash "$t" >"$PGM_TMP/suites/$name.out" 2>&1 </dev/null &
	echo $! >"$PGM_TMP/suites/$name.pid"
	wait $!
	echo $? >"$PGM_TMP/suites/$name.rc"
	echo $(($(date +%s) - started)) >"$PGM_TMP/suites/$name.secs"
}

(
	m=0
	for t in test/suites/*.sh; do
		[ -e "$t" ] && selected "$t" || continue
		m=$((m + 1))
		while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
		run_suite "$t" "$m" &
	done
	wait
) &
suite_pids=$!

# --- pg_regress -------------------------------------------------------------
if [ -z "$only" ] || [[ pg_regress =~ $only ]]; then
	# as a packager runs it: `make installcheck` on a temporary instance of
	# its own (test/regress.conf), as the server's user, in a copy of the tree
	# that user owns (the server reads test/fixtures; a clone in a root-only
	# directory is out of its reach), against the staged install
	echo "== pg_regress"
	tree="$PGM_TMP/regress-tree"
	mkdir -p "$tree"
	tar -C "$top" --exclude=./.git --exclude=./tmp_check --exclude=./results -cf - . | tar -C "$tree" -xf -
	[ "$(id -u)" = 0 ] && chown -R postgres: "$tree"
	pgm_as_owner make -C "$tree" -s PG_CONFIG="$PGM_BIN/pg_config" installcheck >"$PGM_TMP/regress.out" 2>&1
	regress_rc=$?
	cat "$PGM_TMP/regress.out"
	p=$(grep -Ec '\.\.\. ok' "$PGM_TMP/regress.out")
	f=$(grep -Ec '\.\.\. FAILED|\.\.\. failed' "$PGM_TMP/regress.out")
	if [ "$regress_rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" != 0 ]; then
		failed_suites="$failed_suites pg_regress"
		[ -f "$tree/regression.diffs" ] && { echo "---- regression.diffs"; cat "$tree/regression.diffs"; }
	fi
fi

# --- pgTAP ------------------------------------------------------------------
if compgen -G "test/pgtap/*.sql" >/dev/null && { [ -z "$only" ] || [[ pgtap =~ $only ]]; }; then
	echo "== pgTAP"
	pg_prove -d pgmaint_tap --ext .sql test/pgtap/*.sql >"$PGM_TMP/tap.out" 2>&1
	tap_rc=$?
	cat "$PGM_TMP/tap.out"
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$PGM_TMP/tap.out")
	f=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$PGM_TMP/tap.out" | awk '{s+=$1} END {print s+0}')
	total=${total:-0}
	if [ "$tap_rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + total - (f > total ? total : f))); failed=$((failed + f))
	[ "$f" != 0 ] && failed_suites="$failed_suites pgTAP"
fi

# --- integration scripts on the main cluster ----------------------------------
echo "== integration"
for t in test/integration/*.sh; do
	[ -e "$t" ] && selected "$t" || continue
	name=$(basename "$t" .sh)
	echo "-- $name"
	started=$(date +%s)
	bash "$t" >"$PGM_TMP/$name.out" 2>&1 </dev/null
	rc=$?
	cat "$PGM_TMP/$name.out"
	echo "-- $name: $(($(date +%s) - started)) s"
	count_script "$name" "$PGM_TMP/$name.out" "$rc"
done

# --- the independent suites' results --------------------------------------------
echo "== suites"
wait $suite_pids 2>/dev/null
suite_pids=""
for t in test/suites/*.sh; do
	[ -e "$t" ] && selected "$t" || continue
	name=$(basename "$t" .sh)
	echo "-- $name"
	cat "$PGM_TMP/suites/$name.out" 2>/dev/null
	echo "-- $name: $(cat "$PGM_TMP/suites/$name.secs" 2>/dev/null || echo '?') s"
	count_script "$name" "$PGM_TMP/suites/$name.out" "$(cat "$PGM_TMP/suites/$name.rc" 2>/dev/null || echo 1)"
done

if [ "$failed" != 0 ]; then
	echo "---- failed:$failed_suites"
	echo "---- server log (last 80 lines)"
	tail -n 80 "$cluster/server.log"
fi

if [ "$skipped" != 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]

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
# PostgreSQL versions (PGMAINT_PG, default "15 17"): 15 is the machine's own
# and runs everything above; 17 runs pg_regress, pgTAP, the integration
# scripts and the suites that say "# versions: 15 17" inside a Debian trixie
# root filesystem (test/pgroot.sh), once the 15 integration scripts are done
# and beside the 15 suites still running.
# That run is this script again, inside the root (PGM_INNER=1): its names
# are prefixed "pg17/" and its counts go into the one closing line.  When the
# root cannot be built (no mirror), the 17 part prints "skipped: <reason>".
# Scripts leave files for the runner in $PGM_RESULTS (checks-VERSION.txt from
# checks_parity: the statuses of health_checks() over planted states, which
# must be the same on both versions).
#
# Every script prints TAP lines ("ok N - ...", "not ok N - ...").  A suite
# whose component cannot run on this machine prints "skipped: <reason>" and
# counts as skipped, never as passed.  A script declares the Debian packages
# it needs on a line "# packages: a b c"; they are installed up front (for
# 17, integration scripts' packages are part of the root).
# PGMAINT_TEST_ONLY=regex runs only the scripts whose name matches.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh
. test/pgroot.sh

only=${PGMAINT_TEST_ONLY:-}
selected() {
	[ -z "$only" ] || [[ "$(basename "$1" .sh)" =~ $only ]]
}

# set by this script when it runs itself inside a root (the 17 run)
inner=${PGM_INNER:-}
# names and the closing line of a run inside a root carry its version
prefix=""
[ -n "$inner" ] && prefix="pg$PGM_PGVERSION/"

# Prints the closing line for the counts $1 ("N passed, N failed[, N skipped]").
closing_line() {
	if [ -n "$inner" ]; then echo "pg$PGM_PGVERSION: $1"; else echo "$1"; fi
}
# Gives up before any test ran: prints $1 and a closing line with one failure.
give_up() {
	echo "$1"
	closing_line "0 passed, 1 failed"
	exit 1
}

# the versions to run: the machine's own ($PGM_PGVERSION) here, any other in its root
versions=${PGMAINT_PG:-$PGM_PGVERSION 17}
[ -n "$inner" ] && versions=$PGM_PGVERSION
run_here=""
root_versions=""
for v in $versions; do
	if [ "$v" = "$PGM_PGVERSION" ]; then
		run_here=1
	elif pgm_root_suite "$v" >/dev/null; then
		root_versions="$root_versions $v"
	else
		give_up "PGMAINT_PG: PostgreSQL $v is not a target (15 here, 17 in a trixie root)"
	fi
done

if [ -n "$run_here" ]; then
	# the packages the scripts declare, beside the build's own
	if [ -n "$inner" ]; then
		extra=$(pgm_root_scripts "$PGM_PGVERSION" | xargs -r sed -n 's/^# packages: *//p' | tr -s ' \n' ' ')
	else
		extra=$(sed -n 's/^# packages: *//p' test/integration/*.sh test/suites/*.sh 2>/dev/null | tr -s ' \n' ' ')
	fi
	[ -n "$root_versions" ] && extra="$extra mmdebstrap"
	pgm_ensure_packages $extra || exit 1
	echo "== ${prefix}build"
	make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null || give_up "build failed"
elif [ -n "$root_versions" ]; then
	PGM_PACKAGES="" pgm_ensure_packages mmdebstrap || exit 1
fi

PGM_TMP=$(mktemp -d /tmp/pgmaint-test.XXXXXX)
chmod 755 "$PGM_TMP"
export PGM_TMP
PGM_RESULTS=${PGM_RESULTS:-$PGM_TMP/results}
mkdir -p "$PGM_RESULTS"
export PGM_RESULTS
cluster="$PGM_TMP/main"
suite_pids=""
root_pid=""

cleanup() {
	local p
	for p in "$PGM_TMP"/suites/*.pid; do [ -f "$p" ] && kill -- "-$(cat "$p")" 2>/dev/null; done
	[ -n "$suite_pids" ] && kill $suite_pids 2>/dev/null
	[ -n "$root_pid" ] && kill -- "-$root_pid" 2>/dev/null
	wait 2>/dev/null
	[ -n "$run_here" ] && pgm_cluster_stop "$cluster"
	for p in $(find "$PGM_TMP" -maxdepth 5 -name postmaster.pid -path '*/data/*' 2>/dev/null); do
		pgm_cluster_stop "$(dirname "$(dirname "$p")")"
	done
	# a server a run inside a root left behind (it stops its own, normally)
	for p in $(find "$PGM_TMP"/pg*/root/tmp -maxdepth 5 -name postmaster.pid -path '*/data/*' 2>/dev/null); do
		kill -INT "$(head -n 1 "$p")" 2>/dev/null
	done
	[ -n "${PGM_KEEP:-}" ] || rm -rf "$PGM_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
skipped=0
failed_suites=""
ran_versions=""
[ -n "$run_here" ] && ran_versions=" $PGM_PGVERSION"

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

# --- the machine's own version: pg_regress, pgTAP, integration ----------------
if [ -n "$run_here" ]; then
	echo "== ${prefix}install into $PGM_TMP/root"
	pgm_stage_install "$PGM_TMP/root" || give_up "install failed"

	port=${PGMAINT_TEST_PORT:-$((20000 + $$ % 20000))}
	pgm_cluster_init "$cluster" "$port" pgmaint_test || exit 1
	# pgTAP's database is one the workers do not sample: its tests plant
	# states in transactions and read what each call measures
	echo "pgmaint.exclude_databases = 'pgmaint_tap'" >>"$cluster/data/postgresql.conf"
	pgm_cluster_start "$cluster" || exit 1

	export PGHOST=$cluster PGPORT=$port PGUSER=postgres PGDATABASE=pgmaint_test
	psql -XqAt -d postgres -c 'CREATE DATABASE pgmaint_test' -c 'CREATE DATABASE pgmaint_tap' >/dev/null || exit 1
	psql -XqAt -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION pgmaint' >/dev/null || exit 1
	psql -XqAt -d pgmaint_tap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION pgmaint' >/dev/null || exit 1
fi

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

# Whether suite $1 runs here: every selected suite on the machine's own
# version, inside a root those that run there (pgm_root_runs).
suite_wanted() {
	[ -e "$1" ] && selected "$1" || return 1
	[ -z "$inner" ] || pgm_root_runs "$PGM_PGVERSION" "$1"
}
run_suites=""
if [ -n "$run_here" ]; then
	for t in test/suites/*.sh; do suite_wanted "$t" && run_suites=1; done
fi
if [ -n "$run_suites" ]; then
	(
		m=0
		for t in test/suites/*.sh; do
			suite_wanted "$t" || continue
			m=$((m + 1))
			while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
			run_suite "$t" "$m" &
		done
		wait
	) &
	suite_pids=$!
fi

# --- pg_regress -------------------------------------------------------------
if [ -n "$run_here" ] && { [ -z "$only" ] || [[ pg_regress =~ $only ]]; }; then
	# as a packager runs it: `make installcheck` on a temporary instance of
	# its own (test/regress.conf), as the server's user, in a copy of the tree
	# that user owns (the server reads test/fixtures; a clone in a root-only
	# directory is out of its reach), against the staged install
	echo "== ${prefix}pg_regress"
	tree="$PGM_TMP/regress-tree"
	mkdir -p "$tree"
	tar -C "$top" --exclude=./.git --exclude=./tmp_check --exclude=./results -cf - . | tar -C "$tree" -xf -
	[ "$(id -u)" = 0 ] && chown -R postgres: "$tree"
	pgm_as_owner make -C "$tree" -s PG_CONFIG="$PGM_BIN/pg_config" installcheck >"$PGM_TMP/regress.out" 2>&1
	regress_rc=$?
	cat "$PGM_TMP/regress.out"
	# pg_regress 15 prints "test NAME ... ok", 16 and later TAP ("ok N - NAME")
	p=$(grep -Ec '\.\.\. ok|^ok [0-9]+ +[-+] ' "$PGM_TMP/regress.out")
	f=$(grep -Ec '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ +[-+] ' "$PGM_TMP/regress.out")
	if [ "$regress_rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" != 0 ]; then
		failed_suites="$failed_suites ${prefix}pg_regress"
		[ -f "$tree/regression.diffs" ] && { echo "---- regression.diffs"; cat "$tree/regression.diffs"; }
	fi
fi

# --- pgTAP ------------------------------------------------------------------
if [ -n "$run_here" ] && compgen -G "test/pgtap/*.sql" >/dev/null && { [ -z "$only" ] || [[ pgtap =~ $only ]]; }; then
	echo "== ${prefix}pgTAP"
	pg_prove -d pgmaint_tap --ext .sql test/pgtap/*.sql >"$PGM_TMP/tap.out" 2>&1
	tap_rc=$?
	cat "$PGM_TMP/tap.out"
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$PGM_TMP/tap.out")
	f=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$PGM_TMP/tap.out" | awk '{s+=$1} END {print s+0}')
	total=${total:-0}
	if [ "$tap_rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + total - (f > total ? total : f))); failed=$((failed + f))
	[ "$f" != 0 ] && failed_suites="$failed_suites ${prefix}pgTAP"
fi

# --- integration scripts on the main cluster ----------------------------------
if [ -n "$run_here" ]; then
	echo "== ${prefix}integration"
	for t in test/integration/*.sh; do
		[ -e "$t" ] && selected "$t" || continue
		name=$(basename "$t" .sh)
		echo "-- $prefix$name"
		started=$(date +%s)
		bash "$t" >"$PGM_TMP/$name.out" 2>&1 </dev/null
		rc=$?
		cat "$PGM_TMP/$name.out"
		echo "-- $prefix$name: $(($(date +%s) - started)) s"
		count_script "$prefix$name" "$PGM_TMP/$name.out" "$rc"
	done
fi

# --- the other versions, each in its root -------------------------------------
# Runs this script for version $1 inside its root filesystem and adds up the
# counts of its closing line.
run_root() {
	local v=$1 dir="$PGM_TMP/pg$1" started t0 tarball out line n
	started=$(date +%s)
	echo "== pg$v: Debian $(pgm_root_suite "$v") root filesystem"
	mkdir -p "$dir"
	if ! tarball=$(pgm_root_tarball "$v" 2>"$dir/rootfs.err"); then
		cat "$dir/rootfs.err"
		echo "skipped: pg$v: the root filesystem could not be built ($(tail -n 1 "$dir/rootfs.err"))"
		skipped=$((skipped + 1))
		return
	fi
	cat "$dir/rootfs.err"
	t0=$(date +%s)
	if ! pgm_root_unpack "$tarball" "$dir/root"; then
		echo "not ok - pg$v: could not unpack $tarball"
		failed=$((failed + 1)); failed_suites="$failed_suites pg$v"
		return
	fi
	# the tree without this machine's build outputs: the root builds its own
	mkdir -p "$dir/root/src"
	tar -C "$top" --exclude=./.git --exclude=./tmp_check --exclude=./results \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$dir/root/src" -xf -
	echo "rootfs: unpacked in $(($(date +%s) - t0)) s"
	ran_versions="$ran_versions $v"
	out="$dir/run.out"
	: >"$out"
	setsid bash -c '. test/cluster.sh && . test/pgroot.sh && pgm_root_exec "$@"' run_root "$dir/root" \
		/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
		PGM_INNER=1 PGM_PGVERSION="$v" PGM_RESULTS=/results PGMAINT_TEST_ONLY="$only" \
		PG_CFLAGS="${PG_CFLAGS:-}" PGM_KEEP="${PGM_KEEP:-}" \
		bash /src/test/run.sh >"$out" 2>&1 </dev/null &
	root_pid=$!
	tail -n +1 -f --pid="$root_pid" "$out"
	wait "$root_pid"
	root_pid=""
	line=$(grep -E "^pg$v: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$" "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - pg$v: the run inside the root ended without its closing line"
		failed=$((failed + 1)); failed_suites="$failed_suites pg$v"
	else
		n=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); passed=$((passed + n))
		n=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/'); failed=$((failed + n))
		n=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped$/\1/p'); skipped=$((skipped + ${n:-0}))
		failed_suites="$failed_suites$(sed -n 's/^---- failed://p' "$out" | tail -n 1)"
	fi
	cp -r "$dir/root/results/." "$PGM_RESULTS/" 2>/dev/null
	echo "-- pg$v: $(($(date +%s) - started)) s"
}
for v in $root_versions; do
	run_root "$v"
done

# --- the independent suites' results --------------------------------------------
if [ -n "$run_suites" ]; then
	echo "== ${prefix}suites"
	wait $suite_pids 2>/dev/null
	suite_pids=""
	for t in test/suites/*.sh; do
		suite_wanted "$t" || continue
		name=$(basename "$t" .sh)
		echo "-- $prefix$name"
		cat "$PGM_TMP/suites/$name.out" 2>/dev/null
		echo "-- $prefix$name: $(cat "$PGM_TMP/suites/$name.secs" 2>/dev/null || echo '?') s"
		count_script "$prefix$name" "$PGM_TMP/suites/$name.out" "$(cat "$PGM_TMP/suites/$name.rc" 2>/dev/null || echo 1)"
	done
fi

# --- the same statuses on every version ----------------------------------------
# checks_parity leaves checks-VERSION.txt (check_name|status over the same
# planted states) for each version that ran it; they must be equal.
if [ -z "$inner" ] && [ -e test/integration/checks_parity.sh ] && selected test/integration/checks_parity.sh; then
	echo "== checks_parity:$ran_versions"
	set -- $ran_versions
	if [ $# -lt 2 ]; then
		if [ $# = 1 ]; then ran="only PostgreSQL $1"; else ran="no version"; fi
		echo "skipped: checks_parity: $ran ran, nothing to compare"
		skipped=$((skipped + 1))
	else
		first=$1
		parity_ok=1
		for v in "$@"; do
			if [ ! -s "$PGM_RESULTS/checks-$v.txt" ]; then
				echo "# no statuses from PostgreSQL $v (checks_parity failed there)"
				parity_ok=""
			elif [ "$v" != "$first" ] && ! diff -u "$PGM_RESULTS/checks-$first.txt" "$PGM_RESULTS/checks-$v.txt" | sed 's/^/# /'; then
				parity_ok=""
			fi
		done
		if [ -n "$parity_ok" ]; then
			echo "ok - checks_parity: health_checks() gives the same status for every check on$ran_versions ($(wc -l <"$PGM_RESULTS/checks-$first.txt") checks)"
			passed=$((passed + 1))
		else
			echo "not ok - checks_parity: health_checks() statuses differ between$ran_versions"
			failed=$((failed + 1)); failed_suites="$failed_suites checks_parity"
		fi
	fi
fi

if [ "$failed" != 0 ]; then
	echo "---- failed:$failed_suites"
	if [ -n "$run_here" ]; then
		echo "---- ${prefix}server log (last 80 lines)"
		tail -n 80 "$cluster/server.log"
	fi
fi

counts="$passed passed, $failed failed"
[ "$skipped" != 0 ] && counts="$counts, $skipped skipped"
closing_line "$counts"
[ "$failed" = 0 ]

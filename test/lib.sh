# test/lib.sh: helpers for integration scripts (source it).  Prints TAP lines
# ("ok N - ..." / "not ok N - ...") that test/run.sh counts.  The runner
# exports PGHOST, PGPORT, PGUSER, PGDATABASE, PGM_BIN and PGM_TMP.

. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"

pgm_test_n=0
pgm_test_failed=0

# Runs SQL and prints the unaligned, tuples-only result; stops on the first error.
q() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"
}

# Reports a check: ok DESCRIPTION when the command succeeds.
ok() {
	local desc=$1
	shift
	pgm_test_n=$((pgm_test_n + 1))
	if "$@"; then
		echo "ok $pgm_test_n - $desc"
	else
		echo "not ok $pgm_test_n - $desc"
		pgm_test_failed=$((pgm_test_failed + 1))
	fi
}

# Reports whether GOT equals EXPECTED.
is() {
	local got=$1 expected=$2 desc=$3
	pgm_test_n=$((pgm_test_n + 1))
	if [ "$got" = "$expected" ]; then
		echo "ok $pgm_test_n - $desc"
	else
		echo "not ok $pgm_test_n - $desc"
		echo "#   got:      '$got'"
		echo "#   expected: '$expected'"
		pgm_test_failed=$((pgm_test_failed + 1))
	fi
}

# Polls SQL until it returns "t" or SECONDS pass; returns 0 on success.
wait_for() {
	local sql=$1 seconds=${2:-30} deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ "$(q -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}

# Asks the worker of this database for a sample and the health evaluation
# after it, and waits (SECONDS, default 30) until health() reads that
# evaluation: what a test that planted a state calls before it reads health()
# or health_checks() as the worker sees them.  Returns 0 once it does.
health_refresh() {
	local at
	wait_for "SELECT running FROM pgmaint.sampler_status()" 60 || return 1
	q -c "SELECT pg_stat_force_next_flush()" >/dev/null
	at=$(q -c "SELECT clock_timestamp()")
	q -c "SELECT pgmaint._request_samples(1)" >/dev/null || return 1
	wait_for "SELECT h->>'source' = 'worker' AND (h->>'measured_at')::timestamptz > '$at'
	            FROM pgmaint.health() h" "${1:-30}"
}

# Polls SQL like wait_for (until it returns "t" or SECONDS pass), with a
# fresh evaluation of the worker (health_refresh) before each try: for a
# check whose value must grow past a threshold while the test waits.
wait_for_health() {
	local sql=$1 seconds=${2:-30} deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		health_refresh 10 && [ "$(q -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}

# Ends the script with a non-zero status when a check failed.
finish() {
	echo "1..$pgm_test_n"
	[ "$pgm_test_failed" = 0 ]
}

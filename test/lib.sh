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
	# the sample asked for passes over the tables (periodic samples at short
	# intervals do so only every 10 s): an evaluation after that pass
	wait_for "SELECT h->>'source' = 'worker' AND t.sampled_at > '$at'
	                 AND (h->>'measured_at')::timestamptz >= t.sampled_at
	            FROM pgmaint.health() h, pgmaint._table_health_sampled() t" "${1:-30}"
}

# Makes what health() and health_checks() read reflect the state the test
# planted: the worker's fresh evaluation (health_refresh) when the worker
# samples this database, else nothing to do (they measure live).  Use it
# before reading them after a plant; returns 0 once they reflect it.
health_current() {
	if [ "$(q -c "SELECT running AND database = current_database() FROM pgmaint.sampler_status()")" = t ]; then
		health_refresh "$@"
	fi
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

# wait_for_health when the worker samples this database, else wait_for.
wait_for_current() {
	if [ "$(q -c "SELECT running AND database = current_database() FROM pgmaint.sampler_status()")" = t ]; then
		wait_for_health "$@"
	else
		wait_for "$@"
	fi
}

# Prints how many runs of its task TASK (sample, policy, space, retention,
# events) the worker of this database has finished, from pgmaint.workers()
# (the count goes on across restarts of the worker); empty without a worker.
task_runs() {
	q -c "SELECT task_runs ->> '$1' FROM pgmaint.workers()
	       WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
}

# Polls until the worker of this database has finished N runs of its task
# TASK (see task_runs) that ended after SINCE (a timestamptz; default: now),
# or SECONDS pass; returns 0 on success.  It reads the task's run counter
# and last run in pgmaint.workers(): runs between two polls are all
# counted, except at the first poll that sees a run after SINCE, which
# counts one (the runs before it may have ended before SINCE).
wait_worker_step() {
	local task=$1 n=${2:-1} since=${3:-} seconds=${4:-60} deadline row runs after prev="" count=0
	[ -n "$since" ] || since=$(q -c "SELECT clock_timestamp()")
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		row=$(q -c "SELECT task_runs ->> '$task', (task_last_run ->> '$task')::timestamptz > '$since'
		              FROM pgmaint.workers()
		             WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())" 2>/dev/null)
		runs=${row%%|*}
		after=${row#*|}
		if [ -n "$runs" ] && [ "$after" = t ]; then
			if [ -n "$prev" ] && [ "$runs" -ge "$prev" ]; then
				count=$((count + runs - prev))
			elif [ -z "$prev" ] || [ "$runs" != "$prev" ]; then
				count=$((count + 1))
			fi
			[ "$count" -ge "$n" ] && return 0
		fi
		[ -n "$runs" ] && prev=$runs
		sleep 0.1
	done
	return 1
}

# Ends the worker of this database and waits until it is gone (the launcher
# starts a new one after its restart delay, 5 s); prints the time it was gone
# at.  A worker that starts has every task due at once (worker.c): its first
# loop runs sample, policy, space, retention and events, in the order of
# pgm_tasks[], before it sleeps.
stop_worker() {
	local pid
	pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND datname = current_database()")
	[ -n "$pid" ] || return 1
	q -c "SELECT pg_terminate_backend($pid)" >/dev/null || return 1
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid)" 30 || return 1
	q -c "SELECT clock_timestamp()"
}

# Ends the script with a non-zero status when a check failed.
finish() {
	echo "1..$pgm_test_n"
	[ "$pgm_test_failed" = 0 ]
}

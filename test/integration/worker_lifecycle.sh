#!/usr/bin/env bash
# The sampler worker on the test cluster: it runs, a reload changes its interval
# without drift, a stale heartbeat turns the sampler check to warning, it is
# restarted after pg_terminate_backend, and DROP DATABASE of another database
# never waits on it.
set -u
. "$(dirname "$0")/../lib.sh"

reset_interval() {
	q -c "ALTER SYSTEM RESET pgmaint.sample_interval" -c "SELECT pg_reload_conf()" >/dev/null
}
trap 'reset_interval; kill $locker 2>/dev/null' EXIT
locker=

ok "the worker runs and has sampled" \
	wait_for "SELECT running AND samples_taken > 0 FROM pgmaint.sampler_status()" 60
is "$(q -c "SELECT database, in_recovery, last_error IS NULL FROM pgmaint.sampler_status()")" \
	"pgmaint_test|f|t" "sampler_status() names the database, no error"
is "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pgmaint sampler' AND pid = (SELECT pid FROM pgmaint.sampler_status())")" \
	"1" "pg_stat_activity shows the worker with the pid sampler_status() reports"

# --- reload: a new interval applies, and samples keep their phase ------------
q -c "ALTER SYSTEM SET pgmaint.sample_interval = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
ok "a reload applies the new interval" \
	wait_for "SELECT sample_interval = interval '1 second' FROM pgmaint.sampler_status()" 30
t0=$(q -c "SELECT last_sample_at FROM pgmaint.sampler_status()")
ok "samples come every second after the reload" \
	wait_for "SELECT count(*) >= 12 FROM pgmaint.samples('$t0')" 60
# deadlines advance by whole periods: the mean period is the interval and every
# sample stays on the grid of the first one (a sleep of "interval" after each
# sample would drift by the time each sample takes)
is "$(q -c "WITH s AS (SELECT sampled_at, extract(epoch FROM sampled_at - min(sampled_at) OVER ()) AS off
                          FROM pgmaint.samples('$t0') WHERE sampled_at > '$t0')
            SELECT abs(max(off) / (count(*) - 1) - 1) < 0.05 AND max(abs(off - round(off))) < 0.5 FROM s")" \
	"t" "the mean period is 1 s and samples stay on their grid (no drift)"
is "$(q -c "SELECT count(*) FROM pgmaint.samples('$t0') WHERE commits_per_sec < 0 OR rollbacks_per_sec < 0 OR cache_hit_ratio NOT BETWEEN 0 AND 1")" \
	"0" "rates are never negative and hit ratios are percentages"
ok "the history table follows the ring" \
	wait_for "SELECT count(*) >= 12 FROM pgmaint.sample_history WHERE sampled_at >= '$t0'" 30

# --- a stale heartbeat turns the sampler check to warning ---------------------
ok "the sampler check is ok while the worker samples" \
	wait_for "SELECT status = 'ok' FROM pgmaint.health_checks() WHERE check_name = 'sampler'" 30
# holding the history table makes the worker wait in its history step
{ echo "BEGIN; LOCK pgmaint.sample_history; SELECT pg_sleep(8); COMMIT;"; } |
	psql -X -q "application_name=pgmaint_history_locker" >/dev/null 2>&1 &
locker=$!
ok "a stale heartbeat turns the sampler check to warning" \
	wait_for "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'sampler'" 30
is "$(q -c "SELECT message LIKE 'sampling every%' FROM pgmaint.health_checks() WHERE check_name = 'sampler'")" \
	"t" "the stale check still says the worker runs"
wait $locker
ok "the check is ok again once the worker samples again" \
	wait_for "SELECT status = 'ok' FROM pgmaint.health_checks() WHERE check_name = 'sampler'" 30

# --- DROP DATABASE of another database does not wait on a sleeping worker -----
q -c "ALTER SYSTEM SET pgmaint.sample_interval = '1h'" -c "SELECT pg_reload_conf()" >/dev/null
ok "the worker sleeps for an hour now" \
	wait_for "SELECT sample_interval = interval '1 hour' FROM pgmaint.sampler_status()" 30
q -d postgres -c "CREATE DATABASE pgmaint_drop_probe"
start=$(date +%s)
ok "DROP DATABASE of another database completes" \
	q -d postgres -c "SET statement_timeout = '60s'" -c "DROP DATABASE pgmaint_drop_probe"
elapsed=$(($(date +%s) - start))
ok "DROP DATABASE did not wait for the worker's next sample (${elapsed}s)" test "$elapsed" -lt 20

# --- pg_terminate_backend: the postmaster starts the worker again -------------
old=$(q -c "SELECT pid FROM pgmaint.sampler_status()")
is "$(q -c "SELECT pg_terminate_backend($old)")" "t" "the worker can be terminated"
ok "the worker is back within seconds, with a new pid" \
	wait_for "SELECT running AND pid <> $old FROM pgmaint.sampler_status()" 30
ok "the worker exited with code 1 so that the postmaster restarts it" \
	grep -q "background worker \"pgmaint sampler\" (PID $old) exited with exit code 1" "$PGHOST/server.log"
ok "the restarted worker samples at once" \
	wait_for "SELECT last_sample_at > started_at - interval '1 second' FROM pgmaint.sampler_status()" 30

# a worker that sampled did not fail at once: terminated again and again, it
# comes back after the first delay each time (a doubling backoff would take
# 5, 10, 20 then 40 s)
for round in 1 2 3 4; do
	old=$(q -c "SELECT pid FROM pgmaint.sampler_status()")
	q -c "SELECT pg_terminate_backend($old)" >/dev/null
	ok "terminated again ($round of 4), it is back and samples within 30 s" \
		wait_for "SELECT running AND pid <> $old AND last_sample_at > started_at - interval '1 second' FROM pgmaint.sampler_status()" 30
done

reset_interval
ok "the default interval is back" \
	wait_for "SELECT sample_interval = interval '1 minute' FROM pgmaint.sampler_status()" 30
finish

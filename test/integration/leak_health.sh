#!/usr/bin/env bash
# A session left idle in a transaction turns health() away from ok.
set -u
. "$(dirname "$0")/../lib.sh"

q -c "CREATE TABLE IF NOT EXISTS leak_probe (id int)"
# psql keeps the transaction open while it waits for more input
{ echo "BEGIN; INSERT INTO leak_probe VALUES (1);"; sleep 600; } |
	psql -X -q "application_name=pgmaint_leak_probe" >/dev/null 2>&1 &
leaker=$!
trap 'kill $leaker 2>/dev/null; q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"'pgmaint_leak_probe'"'" >/dev/null' EXIT

ok "the leaked session is idle in transaction" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgmaint_leak_probe' AND state = 'idle in transaction')" 30

q -c "UPDATE pgmaint.thresholds SET warning = 1, critical = 3600 WHERE check_name = 'idle_in_transaction'"
# health_checks() reads the worker's evaluation: a fresh one before each try
ok "idle_in_transaction turns warning after a second" \
	wait_for_health "SELECT status = 'warning' FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'" 30
pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgmaint_leak_probe'")
ok "the message names the leaked pid" \
	wait_for_health "SELECT message LIKE '%(pid $pid)%' FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'" 5
is "$(q -c "SELECT pgmaint.health()->>'status'")" "warning" "health() status is warning"

q -c "UPDATE pgmaint.thresholds SET critical = 1 WHERE check_name = 'idle_in_transaction'"
is "$(q -c "SELECT pgmaint.health()->>'status'")" "critical" "health() status is critical past the critical threshold"

q -c "SELECT pg_terminate_backend($pid)" >/dev/null
ok "without the leak the check is ok again" \
	wait_for_health "SELECT status = 'ok' FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'" 30
q -c "UPDATE pgmaint.thresholds SET warning = 60, critical = 300 WHERE check_name = 'idle_in_transaction'"
q -c "DROP TABLE leak_probe"
finish

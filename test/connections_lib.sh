# test/connections_lib.sh: background sessions for the connections
# integration scripts (source it after test/lib.sh).
#
# Each session is a psql reading from a FIFO that the script holds open, so
# that it stays connected (idle, or in an open transaction) until the script
# sends more SQL or closes the FIFO; nothing sleeps in the background.

declare -A conn_fd conn_pid
conn_dir=""

# Creates the roles, the second database and the session directory.
conn_setup() {
	conn_dir=$(mktemp -d "$PGM_TMP/connections.XXXXXX")
	q -d postgres -c "CREATE DATABASE pgm_conn_other"
	q -c "CREATE ROLE pgm_conn_app LOGIN" \
		-c "CREATE ROLE pgm_conn_ops LOGIN IN ROLE pg_signal_backend, pg_monitor" \
		-c "CREATE ROLE pgm_conn_weak LOGIN IN ROLE pg_monitor" \
		-c "GRANT EXECUTE ON FUNCTION pgmaint.terminate_leaks(interval, boolean) TO pgm_conn_ops, pgm_conn_weak"
}

# Opens session NAME (also its application_name) running SQL; CONNINFO is optional.
conn_open() {
	local name=$1 sql=$2 conninfo=${3:-} fd
	mkfifo "$conn_dir/$name.in"
	PGAPPNAME=$name psql -X -q -A -t ${conninfo:+"$conninfo"} <"$conn_dir/$name.in" >"$conn_dir/$name.out" 2>&1 &
	conn_pid[$name]=$!
	exec {fd}>"$conn_dir/$name.in"
	conn_fd[$name]=$fd
	echo "$sql" >&"$fd"
}

# Sends more SQL to session NAME.
conn_send() {
	echo "$2" >&"${conn_fd[$1]}"
}

# Waits until session NAME matches CONDITION on pg_stat_activity (a failed check otherwise).
conn_wait() {
	ok "$1 is ready ($2)" \
		wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = '$1' AND $2)" 30
}

# Polls FILE until it contains TEXT or SECONDS pass.
wait_for_file() {
	local file=$1 text=$2 seconds=${3:-30} deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -qF -- "$text" "$file" && return 0
		sleep 0.2
	done
	return 1
}

# Ends every session, drops what conn_setup created and restores the settings.
conn_cleanup() {
	local name fd
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pgm\_conn\_%'" >/dev/null
	for name in "${!conn_fd[@]}"; do
		fd=${conn_fd[$name]}
		exec {fd}>&-
	done
	for name in "${!conn_pid[@]}"; do
		wait "${conn_pid[$name]}" 2>/dev/null
	done
	# the next suite must not see them
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'pgm\_conn\_%')" 30 ||
		echo "# probe sessions still connected after cleanup"
	q -c "ALTER SYSTEM RESET pgmaint.leak_exclude" -c "SELECT pg_reload_conf()" >/dev/null
	q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS conn_probe" \
		-c "DELETE FROM pgmaint.actions WHERE action = 'terminate_leak' AND detail->>'application_name' LIKE 'pgm\_conn\_%'" \
		-c "REVOKE ALL ON FUNCTION pgmaint.terminate_leaks(interval, boolean) FROM pgm_conn_ops, pgm_conn_weak" \
		-c "DROP ROLE pgm_conn_app" -c "DROP ROLE pgm_conn_ops" -c "DROP ROLE pgm_conn_weak" >/dev/null
	q -d postgres -c "DROP DATABASE pgm_conn_other WITH (FORCE)" >/dev/null
}

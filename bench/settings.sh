#!/usr/bin/env bash
# bench/settings.sh: cost of the settings advisor on a throwaway cluster.
# Prints the mean latency of detected_resources() (the C detection: a few
# small files and one statvfs), settings_advice() and config_audit().
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null

tmp=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$tmp"
trap 'pgm_cluster_stop "$tmp/c"; rm -rf "$tmp"' EXIT
pgm_stage_install "$tmp/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$tmp/c" "$port" postgres "" >/dev/null
pgm_cluster_start "$tmp/c"
export PGHOST=$tmp/c PGPORT=$port PGUSER=postgres PGDATABASE=postgres
psql -XqAt -c 'CREATE EXTENSION pgmaint'

run() {
	local label=$1 sql=$2 n=$3 lat
	printf '%s\n' "$sql" >"$tmp/q.sql"
	lat=$("$PGM_BIN/pgbench" -n -c 1 -t "$n" -f "$tmp/q.sql" 2>/dev/null |
		sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
	printf '%-48s %6s calls  %8s ms/call\n' "$label" "$n" "$lat"
}

echo "== settings advisor ($(nproc) CPUs, $(psql -XqAt -c "SELECT ram_source FROM pgmaint.detected_resources()"))"
run "detected_resources()" "SELECT * FROM pgmaint.detected_resources();" 2000
run "settings_advice() with detection" "SELECT * FROM pgmaint.settings_advice();" 500
run "settings_advice(1024, 1)" "SELECT * FROM pgmaint.settings_advice(1024, 1);" 500
run "config_audit()" "SELECT * FROM pgmaint.config_audit();" 500

#!/usr/bin/env bash
# bench/connections.sh: cost of the connections functions on a busy server.
# Starts a throwaway cluster, opens N sessions (default 40 of 47 usable):
# a third idle in a transaction holding a row lock, a third waiting on those
# locks, the rest idle; then times each function (mean of R calls, each on a
# fresh pg_stat_activity snapshot).  Prints one line per function.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

N=${N:-40}
R=${R:-50}
pgm_ensure_packages || exit 1
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null || exit 1
PGM_TMP=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$PGM_TMP"
dir="$PGM_TMP/main"
port=$((20000 + $$ % 20000))
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	pgm_cluster_stop "$dir"
	rm -rf "$PGM_TMP"
}
trap cleanup EXIT
pgm_stage_install "$PGM_TMP/root" >/dev/null || exit 1
pgm_cluster_init "$dir" "$port" bench >/dev/null || exit 1
pgm_cluster_start "$dir" || exit 1
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=bench
psql -XqAt -d postgres -c 'CREATE DATABASE bench' >/dev/null
psql -XqAt -c 'CREATE EXTENSION pgmaint' \
	-c "CREATE TABLE bench_rows AS SELECT g AS id FROM generate_series(1, $N) g" >/dev/null

# each session reads its SQL from a FIFO held open until the end
third=$((N / 3))
for i in $(seq 1 "$N"); do
	mkfifo "$PGM_TMP/s$i"
	PGAPPNAME=bench_$i psql -X -q <"$PGM_TMP/s$i" >/dev/null 2>&1 &
	pids+=($!)
	exec {fd}>"$PGM_TMP/s$i"
	if [ "$i" -le "$third" ]; then
		echo "BEGIN; SELECT id FROM bench_rows WHERE id = $i FOR UPDATE;" >&"$fd"
	elif [ "$i" -le $((2 * third)) ]; then
		echo "UPDATE bench_rows SET id = id WHERE id = $((i - third));" >&"$fd"
	else
		echo "SELECT 1;" >&"$fd"
	fi
done
deadline=$(($(date +%s) + 60))
until [ "$(psql -XAtc "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'bench\_%'
                       AND (state = 'idle in transaction' OR wait_event_type = 'Lock' OR state = 'idle')")" = "$N" ]; do
	[ "$(date +%s)" -lt "$deadline" ] || { echo "sessions did not settle"; exit 1; }
	sleep 0.2
done
sleep 1.5

echo "pgmaint connections bench: $N sessions ($third idle in transaction, $third waiting, $((N - 2 * third)) idle), mean of $R calls"
psql -XqAt <<SQL
CREATE FUNCTION pg_temp.mean_ms(sql text, r int) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; total interval := '0'; n bigint; i int;
BEGIN
    EXECUTE sql INTO n;    -- warm up: plans cached, library loaded
    FOR i IN 1..r LOOP
        PERFORM pg_stat_clear_snapshot();
        t0 := clock_timestamp();
        EXECUTE sql INTO n;
        total := total + (clock_timestamp() - t0);
    END LOOP;
    RETURN format('%8s ms  %3s rows', round((extract(epoch FROM total) * 1000 / r)::numeric, 2), n);
END \$\$;
SELECT format('%-32s %s', f, pg_temp.mean_ms(format('SELECT count(*) FROM pgmaint.%s', f), $R))
  FROM (VALUES ('connections()'), ('connection_leaks(''1 s'')'), ('long_running_queries(''1 s'')'),
               ('blocking_locks()'), ('connection_budget()'), ('terminate_leaks(''1 s'')')) v(f);
SQL

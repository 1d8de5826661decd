#!/usr/bin/env bash
# bench/space.sh: cost of the space measurements on a throwaway cluster with
# PGM_BENCH_TABLES user tables (default 1,000; try 10000), each analyzed with
# one index: the worker's hourly step _record_space(), the bloat estimate,
# and health() with the space checks (which read the step's few rows).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null

tables=${PGM_BENCH_TABLES:-1000}
tmp=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$tmp"
trap 'pgm_cluster_stop "$tmp/c"; rm -rf "$tmp"' EXIT
pgm_stage_install "$tmp/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$tmp/c" "$port" postgres "" >/dev/null
echo "autovacuum = off" >>"$tmp/c/data/postgresql.conf"
pgm_cluster_start "$tmp/c"
export PGHOST=$tmp/c PGPORT=$port PGUSER=postgres PGDATABASE=postgres
psql -XqAt -c 'CREATE EXTENSION pgmaint'

# in chunks: one transaction locks every table it creates
for ((first = 1; first <= tables; first += 1000)); do
	psql -XqAt -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$
BEGIN
    FOR i IN $first..least($first + 999, $tables) LOOP
        EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
        EXECUTE format('INSERT INTO t%s SELECT g, ''x'' FROM generate_series(1, 100) g', i);
    END LOOP;
END
\$\$;
SQL
done
psql -XqAt -c 'ANALYZE' >/dev/null

run() {
	local label=$1 sql=$2 n=$3 lat
	printf '%s\n' "$sql" >"$tmp/q.sql"
	lat=$("$PGM_BIN/pgbench" -n -c 1 -t "$n" -f "$tmp/q.sql" 2>/dev/null |
		sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
	printf '%-52s %5s calls  %9s ms/call\n' "$label" "$n" "$lat"
}

echo "== space measurements, $tables user tables with one index each ($(nproc) CPUs)"
run "_record_space() (the worker's step)" "BEGIN; SELECT pgmaint._record_space(); ROLLBACK;" 5
run "bloat() (the estimate of every table and index)" "SELECT count(*) FROM pgmaint.bloat();" 5
psql -XqAt -c "SELECT pgmaint._record_space()" >/dev/null
run "_check_space() (bloat and disk_full_eta checks)" "SELECT count(*) FROM pgmaint._check_space();" 200

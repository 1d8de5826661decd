#!/usr/bin/env bash
# bench/retention.sh: rows removed per second by CALL pgmaint.apply_retention()
# at batch sizes 1,000 / 5,000 / 20,000 against one DELETE of the same rows,
# and the table's dead-tuple peak in each case.  A throwaway cluster; a
# token_usage-like table of PGM_BENCH_ROWS rows (default 400,000) with an
# index on created_at, of which three quarters are older than the cutoff;
# autovacuum on (naptime 1 s, the table vacuumed at 1% dead rows, no cost
# delay), so that it can clean up behind the batches as it would on a tuned
# table.  Dead tuples are sampled with pgstattuple_approx() every 0.05 s
# (pages the visibility map marks all-visible hold none), in short
# transactions of their own, until 5 s after the removal.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null

rows=${PGM_BENCH_ROWS:-400000}
tmp=$(mktemp -d /tmp/pgmaint-bench.XXXXXX)
chmod 755 "$tmp"
sampler=""
trap '[ -n "$sampler" ] && kill $sampler 2>/dev/null; pgm_cluster_stop "$tmp/c"; rm -rf "$tmp"' EXIT
pgm_stage_install "$tmp/root"
port=$((20000 + $$ % 20000))
pgm_cluster_init "$tmp/c" "$port" postgres "" >/dev/null
cat >>"$tmp/c/data/postgresql.conf" <<CONF
autovacuum_naptime = 1s
autovacuum_vacuum_cost_delay = 0
shared_buffers = 256MB
max_wal_size = 4GB
CONF
pgm_cluster_start "$tmp/c"
export PGHOST=$tmp/c PGPORT=$port PGUSER=postgres PGDATABASE=postgres
psql -XqAt -c 'CREATE EXTENSION pgmaint' -c 'CREATE EXTENSION pgstattuple'

# Creates the table afresh: $rows rows, one every 30 s back from now; 3/4 older than 30% of the span.
setup() {
	psql -XqAt -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS token_usage;
CREATE TABLE token_usage (
    id bigint PRIMARY KEY, thread_id bigint NOT NULL, model text NOT NULL,
    tokens_in int NOT NULL, tokens_out int NOT NULL, created_at timestamptz NOT NULL)
  WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
INSERT INTO token_usage
SELECT g, g % 500, 'small', 120, 480, now() - g * interval '30 s' FROM generate_series(1, $rows) g;
CREATE INDEX ON token_usage (created_at);
VACUUM ANALYZE token_usage;
SQL
}

# Samples the table's dead tuples into $tmp/dead until killed.
sample_dead() {
	while :; do
		psql -XqAt -c "SELECT dead_tuple_count FROM pgstattuple_approx('token_usage')" 2>/dev/null || true
		sleep 0.05
	done >"$tmp/dead"
}

keep="$((rows * 30 / 4)) seconds"
old=$((rows * 3 / 4))

# Runs one removal ($3, SQL) labelled $1 after $2 (SQL, may be empty) and prints its figures.
measure() {
	local label=$1 prep=$2 sql=$3 cutoff start end secs left peak
	setup
	[ -n "$prep" ] && psql -XqAt -v ON_ERROR_STOP=1 -c "$prep" >/dev/null
	sample_dead &
	sampler=$!
	sleep 1
	cutoff=$(psql -XqAt -c "SELECT now() - interval '$keep'")
	start=$(date +%s.%N)
	psql -XqAt -v ON_ERROR_STOP=1 -c "$sql" >/dev/null 2>&1
	end=$(date +%s.%N)
	sleep 5
	kill $sampler 2>/dev/null || true
	wait $sampler 2>/dev/null || true
	sampler=""
	left=$(psql -XqAt -c "SELECT count(*) FROM token_usage WHERE created_at < '$cutoff'")
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
	peak=$(sort -n "$tmp/dead" | tail -n 1)
	printf '%-28s %8s rows %7s s %9s rows/s   dead-tuple peak %8s (%s%% of removed)%s\n' \
		"$label" "$old" "$secs" "$(awk -v n="$old" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" \
		"${peak:-?}" "$(awk -v p="${peak:-0}" -v n="$old" 'BEGIN {printf "%.0f", 100 * p / n}')" \
		"$([ "$left" = 0 ] || echo "  ($left old rows left!)")"
}

echo "== retention, $rows rows, $old older than the cutoff ($(nproc) CPUs, PostgreSQL $(psql -XqAt -c 'SHOW server_version'))"
for b in 1000 5000 20000; do
	measure "apply_retention batch $b" \
		"SELECT pgmaint.set_retention('token_usage', 'created_at', '$keep', batch => $b)" \
		"CALL pgmaint.apply_retention(time_budget => '1 hour')"
done
measure "one DELETE" "" "DELETE FROM token_usage WHERE created_at < now() - interval '$keep'"

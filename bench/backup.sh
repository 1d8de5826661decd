#!/usr/bin/env bash
# bench/backup.sh: time pgmaint_backup backup, verify and drill on an
# agent_core-like database (PGMAINT_BENCH_ROWS rows in each of four tables,
# default 250000), and the overhead of health()'s backup and archiver checks.
# Starts its own throwaway cluster and removes it.  Not run by make test.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

rows=${PGMAINT_BENCH_ROWS:-250000}
port=${PGMAINT_BENCH_PORT:-$((40000 + $$ % 20000))}
tmp=$(mktemp -d /tmp/pgmaint-bench-backup.XXXXXX)
chmod 755 "$tmp"
trap 'pgm_cluster_stop "$tmp/cluster"; rm -rf "$tmp"' EXIT

pgm_ensure_packages
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null
pgm_stage_install "$tmp/root"
pgm_cluster_init "$tmp/cluster" "$port" agent_core "" >/dev/null
pgm_cluster_start "$tmp/cluster"
export PGHOST=$tmp/cluster PGPORT=$port PGUSER=postgres PGDATABASE=agent_core
psql -Xq -d postgres -c 'CREATE DATABASE agent_core'
psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE EXTENSION pgmaint;
CREATE TABLE agent_cache (cache_key text PRIMARY KEY, value jsonb NOT NULL, expires_at timestamptz NOT NULL);
CREATE TABLE token_usage (id bigint PRIMARY KEY, thread_id bigint NOT NULL, model text NOT NULL,
                          tokens_in int NOT NULL, tokens_out int NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE tool_call_log (id bigint PRIMARY KEY, thread_id bigint NOT NULL, tool text NOT NULL,
                            args jsonb NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE thread_messages (id bigint PRIMARY KEY, thread_id bigint NOT NULL, role text NOT NULL,
                              content text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO agent_cache SELECT 'k' || g, jsonb_build_object('v', g, 's', md5(g::text)), now() + interval '1 hour'
  FROM generate_series(1, :rows) g;
INSERT INTO token_usage SELECT g, g % 1000, 'model-' || g % 3, g % 4000, g % 800, now()
  FROM generate_series(1, :rows) g;
INSERT INTO tool_call_log SELECT g, g % 1000, 'tool-' || g % 12, jsonb_build_object('q', md5(g::text)), now()
  FROM generate_series(1, :rows) g;
INSERT INTO thread_messages SELECT g, g % 1000, 'user', repeat(md5(g::text), 4), now()
  FROM generate_series(1, :rows) g;
SQL
size=$(psql -XAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")

B="$PGM_BIN/pgmaint_backup"
# Prints the wall-clock seconds of a command, with millisecond precision.
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l | xargs printf '%.2f'
}

echo "pgmaint_backup on agent_core: 4 tables x $rows rows, database $size"
t=$(timed "$B" backup --dir "$tmp/backups")
dump=$(ls "$tmp"/backups/*.dump)
echo "backup (dump + counts in one snapshot + full read + sha256 + record): ${t}s, archive $(stat -c %s "$dump") bytes"
t=$(timed pg_dump --format=custom -f "$tmp/plain_pg_dump.dump")
echo "plain pg_dump --format=custom for comparison: ${t}s"
echo "verify (sha256 + full read): $(timed "$B" verify "$dump")s"
echo "drill (verify + restore into scratch + count every table + drop): $(timed "$B" drill)s"

# the two checks of health(), with three years of nightly history recorded
psql -XAtq <<'SQL'
INSERT INTO pgmaint.backups (kind, started, status, file, format, bytes, sha256, verified, row_counts)
SELECT 'backup', now() - g * interval '1 day', 'ok', '/b/agent_core_' || g || '.dump', 'custom', 1,
       repeat('a', 64), true, '{}'
  FROM generate_series(1, 1095) g;
INSERT INTO pgmaint.backups (kind, started, status, file)
SELECT 'drill', now() - g * interval '7 days', 'ok', '/b/agent_core_' || g || '.dump'
  FROM generate_series(1, 156) g;
ANALYZE pgmaint.backups;
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    FOR i IN 1..500 LOOP
        PERFORM pgmaint._backup_check();
        PERFORM pgmaint._archiver_check();
    END LOOP;
    RAISE NOTICE 'backup + archiver checks of health(): % ms per call (500 calls, 1251 history rows)',
        round((extract(epoch FROM clock_timestamp() - t0) * 1000 / 500)::numeric, 3);
END
$$;
SQL

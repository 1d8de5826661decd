#!/usr/bin/env bash
# examples/demo.sh start|stop: `make demo` and `make demo-stop`.  Starts a cluster
# with pg_cron and pgmaint preloaded, loads a small agent_core workload,
# leaves one session idle in a transaction, and prints pgmaint.health().
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

demo=${PGMAINT_DEMO_DIR:-/tmp/pgmaint-demo}
port=${PGMAINT_DEMO_PORT:-5433}
cluster="$demo/cluster"

demo_stop() {
	[ -f "$demo/leak.pid" ] && kill -- "-$(cat "$demo/leak.pid")" 2>/dev/null || true
	if [ -d "$demo/root" ]; then
		PGM_BIN="$demo/root/usr/lib/postgresql/$PGM_PGVERSION/bin"
		pgm_cluster_stop "$cluster"
	fi
	rm -rf "$demo"
}

if [ "${1:-start}" = stop ]; then
	demo_stop
	echo "demo cluster stopped and removed"
	exit 0
fi

pgm_ensure_packages
demo_stop
mkdir -p "$demo"
chmod 755 "$demo"
# the server runs as postgres: it must reach the installation and the cluster
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$demo"; then
	echo "error: user postgres cannot enter $demo (a parent directory is private)" >&2
	echo "hint: set PGMAINT_DEMO_DIR to a directory outside it, or leave it unset for /tmp/pgmaint-demo" >&2
	rm -rf "$demo"
	exit 1
fi

echo "== build and install into $demo/root"
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null
pgm_stage_install "$demo/root"

echo "== start the demo cluster (port $port, socket in $cluster)"
pgm_cluster_init "$cluster" "$port" agent_core
# one sample a second, so that the HTML report's charts fill within the demo's minute
echo "pgmaint.sample_interval = 1" >>"$cluster/data/postgresql.conf"
pgm_cluster_start "$cluster"
export PGHOST=$cluster PGPORT=$port PGUSER=postgres PGDATABASE=agent_core
psql -Xq -d postgres -c 'CREATE DATABASE agent_core'

echo "== create agent_core's tables and extensions"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION pgmaint;
CREATE TABLE agent_cache (
    cache_key  text PRIMARY KEY,
    value      jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE TABLE token_usage (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id   bigint NOT NULL,
    model       text NOT NULL,
    tokens_in   int NOT NULL,
    tokens_out  int NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE tool_call_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id   bigint NOT NULL,
    tool        text NOT NULL,
    duration_ms int NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE thread_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id   bigint NOT NULL,
    role        text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON thread_messages (thread_id, created_at);
SQL

echo "== run a 15-second write workload (pgbench, 4 clients)"
cat >"$demo/cache.sql" <<'SQL'
\set k random(1, 2000)
INSERT INTO agent_cache VALUES ('k' || :k, '{"v": 1}', now() + interval '5 min')
    ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;
DELETE FROM agent_cache WHERE cache_key = 'k' || (:k + 7) % 2000;
SQL
cat >"$demo/usage.sql" <<'SQL'
\set t random(1, 500)
INSERT INTO token_usage (thread_id, model, tokens_in, tokens_out) VALUES (:t, 'small', 120, 480);
INSERT INTO tool_call_log (thread_id, tool, duration_ms) VALUES (:t, 'search', 35);
INSERT INTO thread_messages (thread_id, role, body) VALUES (:t, 'user', repeat('hello ', 20));
SQL
"$PGM_BIN/pgbench" -n -c 4 -j 2 -T 15 -f "$demo/cache.sql@3" -f "$demo/usage.sql@1" agent_core |
	grep -E '^(number of transactions actually processed|tps)' || true

echo "== leave one session idle in a transaction (a leaked connection)"
setsid bash -c '{ echo "BEGIN; UPDATE agent_cache SET expires_at = now() WHERE cache_key = (SELECT min(cache_key) FROM agent_cache);"; exec sleep 86400; } |
	psql -Xq "application_name=leaky_worker" >/dev/null 2>&1' </dev/null >/dev/null 2>&1 &
echo $! >"$demo/leak.pid"

# The default thresholds flag a leak after 60 s; the demo lowers them so you need not wait.
psql -Xq -c "UPDATE pgmaint.thresholds SET warning = 3, critical = 120 WHERE check_name = 'idle_in_transaction'"
echo "   (demo: idle_in_transaction warning threshold lowered from 60 s to 3 s)"
deadline=$(($(date +%s) + 30))
until [ "$(psql -XAtq -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'")" = warning ]; do
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep 0.5
done

echo "== retention of the guide's three tables (docs/retention.md), and its dry run"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
-- some history: four months of token usage and tool calls, a few expired cache rows
INSERT INTO token_usage (thread_id, model, tokens_in, tokens_out, created_at)
SELECT g % 500, 'small', 120, 480, now() - g * interval '1 hour' FROM generate_series(1, 2880) g;
INSERT INTO tool_call_log (thread_id, tool, duration_ms, created_at)
SELECT g % 500, 'search', 35, now() - g * interval '1 hour' FROM generate_series(1, 2880) g;
INSERT INTO agent_cache SELECT 'old' || g, '{"v": 0}', now() - g * interval '1 min' FROM generate_series(1, 50) g;
CREATE TABLE token_usage_archive (LIKE token_usage);
CREATE TABLE tool_call_log_archive (LIKE tool_call_log);
SELECT relid, column_name, keep, archive FROM pgmaint.set_retention('agent_cache', 'expires_at', '0');
SELECT relid, column_name, keep, archive FROM pgmaint.set_retention('token_usage', 'created_at', '90 days', 'token_usage_archive');
SELECT relid, column_name, keep, archive FROM pgmaint.set_retention('tool_call_log', 'created_at', '30 days', 'tool_call_log_archive', 20000);
SQL
echo "== SELECT * FROM pgmaint.retention_plan();   (a dry run; CALL pgmaint.apply_retention() does it)"
psql -Xq -c 'SELECT table_name, cutoff::timestamp(0) AS cutoff, method, rows_to_remove, oldest_age FROM pgmaint.retention_plan()'

echo "== SELECT jsonb_pretty(pgmaint.health());"
psql -XAtq -c 'SELECT jsonb_pretty(pgmaint.health())'

echo "== SELECT pgmaint.report();"
psql -XAtq -c 'SELECT pgmaint.report()'

echo "== SELECT pgmaint.report_html(...) > $demo/report.html"
# the period since the worker started, so that the charts span the demo's samples
psql -XAtq -c "SELECT pgmaint.report_html(date_trunc('second', now() - started_at) + interval '5 s')
                 FROM pgmaint.sampler_status()" >"$demo/report.html"
echo "   HTML report written to $demo/report.html (open it in a browser)"

cat <<EOT

The demo cluster is running.
  connect:  psql -h $cluster -p $port -U postgres agent_core
  report:   $demo/report.html
  try:      SELECT * FROM pgmaint.health_checks();
            SELECT * FROM pgmaint.connection_leaks();
            SELECT * FROM pgmaint.checklist();
            CALL pgmaint.apply_retention();
  stop it:  make demo-stop
EOT

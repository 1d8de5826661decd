#!/usr/bin/env bash
# bench/pitr.sh: point-in-time recovery with pgBackRest on a database of
# PGMAINT_BENCH_MB megabytes (default 200): the times of pgmaint_backup pitr
# setup, a full and a differential backup, a restore to a point in time and
# to the end of the archive (restore + recovery until the copy promotes), a
# drill, and the RPO with archive_timeout = PGMAINT_BENCH_RPO seconds
# (default 60, production's): the recovery_point check sampled under a write
# load, then kill -9 of the primary and a restore to the end of the archive,
# with the writes lost.  Starts its own throwaway cluster and repository and
# removes them.  Not run by make test.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. test/cluster.sh

mb=${PGMAINT_BENCH_MB:-200}
rpo=${PGMAINT_BENCH_RPO:-60}
port=${PGMAINT_BENCH_PORT:-$((40000 + $$ % 20000))}
tmp=$(mktemp -d /tmp/pgmaint-bench-pitr.XXXXXX)
chmod 755 "$tmp"
c=$tmp/cluster
copy_dirs=()
load_pid=""

# Stops the load, the copies and the cluster; removes everything.
cleanup() {
	local d
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
	for d in "${copy_dirs[@]}"; do
		[ -f "$d/postmaster.pid" ] && pgm_as_owner "$PGM_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	pgm_cluster_stop "$c"
	rm -rf "$tmp"
}
trap cleanup EXIT

pgm_ensure_packages pgbackrest
make -s PG_CONFIG="$PGM_SYSBIN/pg_config" >/dev/null
pgm_stage_install "$tmp/root"
pgm_cluster_init "$c" "$port" agent_core pgmaint >/dev/null
# every acknowledged commit is in the WAL, so that kill -9 loses only what
# the archive lacks
echo "synchronous_commit = on" >>"$c/data/postgresql.conf"
pgm_cluster_start "$c"
export PGHOST=$c PGPORT=$port PGUSER=postgres PGDATABASE=agent_core
psql -Xq -d postgres -c 'CREATE DATABASE agent_core'
psql -Xq -c 'CREATE EXTENSION pgmaint'
mkdir -p "$tmp/etc" "$tmp/restore"
chown postgres: "$tmp/restore"
B="$PGM_BIN/pgmaint_backup"
S=(--config "$tmp/etc/pgbackrest.conf")

# Prints the wall-clock seconds of a command (its output to $tmp/last.out).
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$tmp/last.out" 2>"$tmp/last.err" || { cat "$tmp/last.out" "$tmp/last.err" >&2; return 1; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l | xargs printf '%.1f'
}

# Starts a restored copy in DIR and prints the seconds until it has promoted.
start_copy() {
	local dir=$1 cport=$2 sock=$tmp/sock-$2 t0
	mkdir -p "$sock" && chown postgres: "$sock"
	copy_dirs+=("$dir")
	t0=$(date +%s.%N)
	pgm_as_owner "$PGM_BIN/pg_ctl" -D "$dir" -l "$sock/log" -w -t 3600 \
		-o "-p $cport -c unix_socket_directories=$sock -c listen_addresses='' -c shared_preload_libraries='' -c archive_mode=off" \
		start >/dev/null
	until [ "$(psql -XAt -h "$sock" -p "$cport" -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.2; done
	echo "$(date +%s.%N) - $t0" | bc -l | xargs printf '%.1f'
}

# Stops the copy in DIR and removes it.
drop_copy() {
	pgm_as_owner "$PGM_BIN/pg_ctl" -D "$1" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$1"
}

# --- the database: agent_core's four tables, PGMAINT_BENCH_MB in all --------------
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE agent_cache (cache_key text PRIMARY KEY, value jsonb NOT NULL, expires_at timestamptz NOT NULL);
CREATE TABLE token_usage (id bigint PRIMARY KEY, thread_id bigint NOT NULL, model text NOT NULL,
                          tokens_in int NOT NULL, tokens_out int NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE tool_call_log (id bigint PRIMARY KEY, thread_id bigint NOT NULL, tool text NOT NULL,
                            args jsonb NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE thread_messages (id bigint PRIMARY KEY, thread_id bigint NOT NULL, role text NOT NULL,
                              content text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE load (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp());
SQL
batch=0
while [ "$(psql -XAtc "SELECT pg_database_size(current_database()) < $mb::bigint * 1048576")" = t ]; do
	psql -Xq -v ON_ERROR_STOP=1 -v lo=$((batch * 25000 + 1)) -v hi=$(((batch + 1) * 25000)) <<'SQL'
INSERT INTO agent_cache SELECT 'k' || g, jsonb_build_object('v', g, 's', md5(g::text)), now() + interval '1 hour'
  FROM generate_series(:lo, :hi) g;
INSERT INTO token_usage SELECT g, g % 1000, 'model-' || g % 3, g % 4000, g % 800, now() FROM generate_series(:lo, :hi) g;
INSERT INTO tool_call_log SELECT g, g % 1000, 'tool-' || g % 12, jsonb_build_object('q', md5(g::text)), now()
  FROM generate_series(:lo, :hi) g;
INSERT INTO thread_messages SELECT g, g % 1000, 'user', repeat(md5(g::text), 4), now() FROM generate_series(:lo, :hi) g;
SQL
	batch=$((batch + 1))
done
psql -XAqc "VACUUM ANALYZE" >/dev/null
size=$(psql -XAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "point-in-time recovery with pgBackRest $(pgbackrest version | cut -d' ' -f2), PostgreSQL $(psql -XAtc 'SHOW server_version'), $(nproc) vCPUs: agent_core $size ($((batch * 25000)) rows in each of 4 tables)"

# --- setup: settings, restart, stanza-create and check ----------------------------
SETUP=(pitr setup --repo "$tmp/repo" --rpo "$rpo" --log-path "$tmp/log" "${S[@]}")
"$B" "${SETUP[@]}" --apply >/dev/null 2>&1 || true
pgm_as_owner "$PGM_BIN/pg_ctl" -D "$c/data" -m fast -w restart >/dev/null
echo "setup (configuration, stanza-create, check), after the restart archive_mode needs: $(timed "$B" "${SETUP[@]}")s"

# --- backups ----------------------------------------------------------------------
t=$(timed "$B" pitr backup --type full "${S[@]}")
echo "full backup: ${t}s — $(sed 's/^pitr backup ok: //' "$tmp/last.out")"
psql -XAqc "UPDATE agent_cache SET expires_at = expires_at + interval '1 hour' WHERE cache_key LIKE 'k%1'" >/dev/null
t=$(timed "$B" pitr backup --type diff "${S[@]}")
echo "differential backup after 10% of agent_cache changed: ${t}s — $(sed 's/^pitr backup ok: //' "$tmp/last.out")"

# --- restore to a point in time, and the drill ---------------------------------------
psql -XAqc "INSERT INTO load (at) SELECT clock_timestamp() FROM generate_series(1, 1000)" >/dev/null
target=$(psql -XAtc "SELECT clock_timestamp()")
psql -XAqc "INSERT INTO load (at) SELECT clock_timestamp() FROM generate_series(1, 1000)" -c "SELECT pg_switch_wal()" >/dev/null
seg=$(psql -XAtc "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
until [ "$(psql -XAtc "SELECT coalesce(last_archived_wal >= '$seg', false) FROM pg_stat_archiver")" = t ]; do sleep 0.2; done
t=$(timed "$B" pitr restore --target-time "$target" --into "$tmp/restore/pit" "${S[@]}")
t2=$(start_copy "$tmp/restore/pit" $((port + 1)))
rows=$(psql -XAt -h "$tmp/sock-$((port + 1))" -p $((port + 1)) -c "SELECT count(*) FROM load")
echo "restore to a point in time: ${t}s (pgBackRest restore) + ${t2}s (recovery until it promotes); $rows of 2000 load rows, as of the target"
drop_copy "$tmp/restore/pit"
t=$(timed "$B" pitr drill --target-age 0 "${S[@]}")
echo "drill (markers, restore, start, check, stop): ${t}s — $(sed 's/^pitr drill ok: //' "$tmp/last.out")"

# --- the RPO under a write load --------------------------------------------------------
PGAPPNAME=bench_load psql -X -q -c "DO \$\$ BEGIN FOR i IN 1..1000000 LOOP
	INSERT INTO load (at) VALUES (clock_timestamp()); COMMIT; PERFORM pg_sleep(0.05); END LOOP; END \$\$" >/dev/null 2>&1 &
load_pid=$!
# the recovery_point check every second for four archive intervals
samples=$(for _ in $(seq 1 $((4 * rpo))); do
	psql -XAtc "SELECT value FROM pgmaint.health_checks() WHERE check_name = 'recovery_point'"
	sleep 1
done | sort -n)
n=$(wc -l <<<"$samples")
echo "recovery_point under a load of ~20 commits/s, archive_timeout ${rpo}s, sampled every second for $((4 * rpo))s: median $(sed -n "$(((n + 1) / 2))p" <<<"$samples")s, max $(tail -n 1 <<<"$samples")s"
archived=$(psql -XAtc "SELECT archived_count FROM pg_stat_archiver")
repo_kb=$(du -sk "$tmp/repo/archive" | cut -f1)
echo "archive: $archived WAL files, $((repo_kb / 1024)) MB in the repository (lz4), $((repo_kb / archived)) kB a file on average"
# the crash: at a random point of an interval
sleep "$((RANDOM % rpo))"
pm=$(head -n 1 "$c/data/postmaster.pid")
# shellcheck disable=SC2046  # one pid a word
kill -9 "$pm" $(ps -o pid= --ppid "$pm") 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
load_pid=""
while ps -p "$pm" >/dev/null; do sleep 0.2; done
t=$(timed "$B" pitr restore --latest --into "$tmp/restore/latest" "${S[@]}")
t2=$(start_copy "$tmp/restore/latest" $((port + 2)))
read -r r_n r_at <<<"$(psql -XAt -F ' ' -h "$tmp/sock-$((port + 2))" -p $((port + 2)) -c "SELECT count(*), extract(epoch FROM max(at)) FROM load")"
drop_copy "$tmp/restore/latest"
# the truth: the crashed primary, after crash recovery from its own pg_wal
pgm_cluster_start "$c" 2>/dev/null
read -r t_n t_at <<<"$(psql -XAt -F ' ' -c "SELECT count(*), extract(epoch FROM max(at)) FROM load")"
echo "kill -9 of the primary under load, restore to the end of the archive: ${t}s + ${t2}s; lost $((t_n - r_n)) of $t_n rows, the last $(echo "$t_at - $r_at" | bc -l | xargs printf '%.1f')s of writes (archive_timeout ${rpo}s)"

# --- the cost of the checks in health(), the four pitr checks among them -----------------
psql -XAtq <<'SQL'
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    FOR i IN 1..200 LOOP
        PERFORM pgmaint.health(live => true);
    END LOOP;
    RAISE NOTICE 'health(live => true), every check measured now, pitr_full_backup_age, pitr_backup_age, pitr_backup and recovery_point among them: % ms per call (200 calls)',
        round((extract(epoch FROM clock_timestamp() - t0) * 1000 / 200)::numeric, 2);
END
$$;
SQL

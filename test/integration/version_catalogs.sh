#!/usr/bin/env bash
# The functions over statistics whose views differ between PostgreSQL
# versions, on whichever version runs, against that version's own view:
#   - _checkpoints(): pg_stat_bgwriter's checkpoint counters before 17,
#     pg_stat_checkpointer's (restartpoints added to their kind) from 17 on;
#     a CHECKPOINT counts as requested, once;
#   - vacuum_progress() during a slow VACUUM: the dead tuples it collects
#     (num_dead_tuples before 17, num_dead_item_ids from 17 on) and what bounds
#     them (max_dead_tuples before 17; dead_tuple_bytes of max_dead_tuple_bytes,
#     maintenance_work_mem, from 17 on).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../connections_lib.sh"

conn_dir=$(mktemp -d "$PGM_TMP/version_catalogs.XXXXXX")
cleanup() {
	local name fd
	q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'vc_vacuum'" >/dev/null 2>&1
	for name in "${!conn_fd[@]}"; do fd=${conn_fd[$name]}; exec {fd}>&-; done
	for name in "${!conn_pid[@]}"; do wait "${conn_pid[$name]}" 2>/dev/null; done
	q -c "DROP TABLE IF EXISTS vc_slow" >/dev/null 2>&1
}
trap cleanup EXIT

version=$(q -c "SHOW server_version_num")
echo "# server_version_num $version"

# --- checkpoint counters ------------------------------------------------------
if [ "$version" -ge 170000 ]; then
	native="SELECT ROW(num_timed + restartpoints_timed, num_requested + restartpoints_req, stats_reset) FROM pg_stat_checkpointer"
else
	native="SELECT ROW(checkpoints_timed, checkpoints_req, stats_reset) FROM pg_stat_bgwriter"
fi
is "$(q -c "SELECT (SELECT ROW(timed, requested, stats_reset) FROM pgmaint._checkpoints())
                  IS NOT DISTINCT FROM ($native)")" "t" \
	"_checkpoints() gives this version's counters ($(echo "$native" | sed 's/.* FROM //'))"
before=$(q -c "SELECT requested FROM pgmaint._checkpoints()")
q -c "CHECKPOINT" >/dev/null
ok "a CHECKPOINT counts as requested" \
	wait_for "SELECT requested > $before FROM pgmaint._checkpoints()" 30
is "$(q -c "SELECT requested - $before FROM pgmaint._checkpoints()")" "1" "and once"

# --- a vacuum in progress -----------------------------------------------------
# about 300 pages with a dead tuple on every one, vacuumed with the largest
# cost delay: it scans a few pages a second.  The index makes the vacuum
# collect the dead tuples for an index pass (17 frees them at once without one).
q -c "CREATE TABLE vc_slow (id int, pad text) WITH (autovacuum_enabled = off);
      INSERT INTO vc_slow SELECT g, repeat('x', 200) FROM generate_series(1, 10000) g;
      CREATE INDEX vc_slow_id ON vc_slow (id);
      DELETE FROM vc_slow WHERE id % 2 = 0;" >/dev/null
conn_open vc_vacuum "SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1; VACUUM vc_slow;"
progress="FROM pgmaint.vacuum_progress() WHERE table_name = 'vc_slow'"
ok "vacuum_progress() shows the vacuum collecting dead tuples" \
	wait_for "SELECT EXISTS (SELECT 1 $progress AND phase = 'scanning heap' AND num_dead_tuples > 0)" 60
# pg_stat_progress_vacuum is read once per statement: both sides see the same moment
is "$(q -c "SELECT v.num_dead_tuples = p.$([ "$version" -ge 170000 ] && echo num_dead_item_ids || echo num_dead_tuples)
              FROM pgmaint.vacuum_progress() v JOIN pg_stat_progress_vacuum p ON p.pid = v.pid
             WHERE v.table_name = 'vc_slow'")" "t" \
	"num_dead_tuples is this version's count of dead tuples collected"
if [ "$version" -ge 170000 ]; then
	is "$(q -c "SELECT max_dead_tuples IS NULL AND dead_tuple_bytes > 0
	                  AND max_dead_tuple_bytes = pg_size_bytes(current_setting('maintenance_work_mem')) $progress")" "t" \
		"17: bounded by memory: dead_tuple_bytes of max_dead_tuple_bytes (maintenance_work_mem), no max_dead_tuples"
else
	is "$(q -c "SELECT max_dead_tuples >= num_dead_tuples AND max_dead_tuples > 0
	                  AND dead_tuple_bytes IS NULL AND max_dead_tuple_bytes IS NULL $progress")" "t" \
		"before 17: bounded by a count, max_dead_tuples; no byte figures"
fi
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'vc_vacuum'" >/dev/null
ok "no vacuum of the table in progress after it is cancelled" \
	wait_for "SELECT NOT EXISTS (SELECT 1 $progress)" 30

finish

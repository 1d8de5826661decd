#!/usr/bin/env bash
# A hot standby made with pg_basebackup runs the sampler worker read-only:
# samples in its ring, nothing written, no error in its log.
# packages: prometheus
set -u
. "$(dirname "$0")/../lib.sh"

primary="$PGM_TMP/worker_primary"
standby="$PGM_TMP/worker_standby"
pport=$((PGPORT + 11))
sport=$((PGPORT + 12))
pgm_cluster_init "$primary" "$pport" postgres pgmaint >/dev/null
trap 'pgm_cluster_stop "$standby"; pgm_cluster_stop "$primary"' EXIT
pgm_cluster_start "$primary"
export PGHOST=$primary PGPORT=$pport PGDATABASE=postgres

q -c "CREATE EXTENSION pgmaint"
ok "the primary's worker runs" \
	wait_for "SELECT running FROM pgmaint.sampler_status()" 60
taken=$(q -c "SELECT pgmaint._request_samples(3)")
ok "the primary persists its samples" \
	wait_for "SELECT count(*) >= 3 FROM pgmaint.sample_history" 60

mkdir -p "$standby"
chmod 755 "$standby"
[ "$(id -u)" = 0 ] && chown postgres: "$standby"
ok "pg_basebackup copies the primary" \
	pgm_as_owner "$PGM_BIN/pg_basebackup" -h "$primary" -p "$pport" -U postgres -D "$standby/data" -R -X stream -c fast
cat >>"$standby/data/postgresql.conf" <<CONF
# standby of worker_standby.sh
port = $sport
unix_socket_directories = '$standby'
hot_standby = on
CONF
pgm_cluster_start "$standby"
export PGHOST=$standby PGPORT=$sport

is "$(q -c "SELECT pg_is_in_recovery()")" "t" "the standby is in recovery"
ok "the standby's worker runs" \
	wait_for "SELECT running AND in_recovery FROM pgmaint.sampler_status()" 60
taken=$(q -c "SELECT pgmaint._request_samples(20)")
ok "the standby's worker samples into its ring" \
	wait_for "SELECT samples_taken >= $taken + 20 FROM pgmaint.sampler_status()" 60
is "$(q -c "SELECT count(*) >= 20 FROM pgmaint.samples(NULL)")" "t" "samples() answers on the standby"
is "$(q -c "SELECT samples_persisted, last_error IS NULL FROM pgmaint.sampler_status()")" "0|t" \
	"the standby's worker wrote nothing and recorded no error"
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'sampler'")" "ok" \
	"the sampler check is ok on the standby"
q -c "SELECT pgmaint.metrics()" >"$standby/metrics.txt"
is "$(promtool check metrics <"$standby/metrics.txt" 2>&1)" "" "promtool check metrics: metrics() on a standby, zero findings"
is "$(grep -c '^pgmaint_in_recovery{.*} 1$' "$standby/metrics.txt")" 1 "metrics() says the standby is in recovery"
wpid=$(q -c "SELECT pid FROM pgmaint.sampler_status()")
is "$(grep -E "\[$wpid\] .*(ERROR|WARNING|FATAL)" "$standby/server.log" | wc -l)" "0" \
	"the standby's worker logged no error"
# (pg_ctl's readiness probes may meet "the database system is starting up")
is "$(grep -E 'ERROR|FATAL|PANIC' "$standby/server.log" | grep -vc 'the database system is starting up')" "0" \
	"the standby's log has no other error"

# the primary still writes, and the standby replays (not writes) its history
export PGHOST=$primary PGPORT=$pport
q -c "SELECT pgmaint._request_samples(1)" >/dev/null
n=$(q -c "SELECT count(*) FROM pgmaint.sample_history")
export PGHOST=$standby PGPORT=$sport
ok "the standby's history is the primary's, replayed" \
	wait_for "SELECT count(*) >= $n FROM pgmaint.sample_history" 60
is "$(q -c "SELECT count(*) FROM pgmaint.sample_history h
              JOIN pgmaint.samples(NULL) s USING (sampled_at)")" "0" \
	"no sample of the standby's ring is in the history"
finish

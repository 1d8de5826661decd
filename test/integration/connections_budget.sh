#!/usr/bin/env bash
# connection_budget() on a server without pgmaint preloaded: the arithmetic
# still answers, and the peak row is NULL with the reason, never an error.
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/connections_nopreload"
port=$((PGPORT + 20))
trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_init "$dir" "$port" postgres "" >/dev/null
ok "a cluster without pgmaint preloaded starts" pgm_cluster_start "$dir"
nq() { PGHOST=$dir PGPORT=$port PGDATABASE=postgres q "$@"; }
nq -c "CREATE EXTENSION pgmaint"

is "$(nq -c "SELECT pgmaint.preloaded()")" "f" "pgmaint is not preloaded"
is "$(nq -c "SELECT format('%s|%s', value, verdict) FROM pgmaint.connection_budget() WHERE item = 'planned connections'")" \
	"20|(5 + 10) * 1 + 5 = 20, 43% of 47 usable: fits" "the budget arithmetic answers without the worker"
is "$(nq -c "SELECT format('%s|%s', value IS NULL, verdict) FROM pgmaint.connection_budget() WHERE item = 'peak client connections'")" \
	"t|unknown: the sampler is not running (pgmaint is not in shared_preload_libraries)" \
	"the peak is NULL and says the sampler is not running"
is "$(nq -c "SELECT count(*) FROM pgmaint.terminate_leaks('1 s')")" "0" "terminate_leaks() works without preloading"
finish

#!/bin/sh
# pgmaint-textfile.sh: writes pgmaint.metrics() for node_exporter's textfile
# collector.  The file appears atomically: psql writes a temporary file in
# the same directory (a name node_exporter ignores, as it does not end in
# .prom), which is renamed over the old one only when psql succeeded.  When
# the database cannot be reached the old file stays, ages, and the alert
# PgmaintMetricsStale (pgmaint.rules.yml) fires on node_textfile_mtime_seconds.
#
# usage: pgmaint-textfile.sh [psql connection options]
#   e.g. pgmaint-textfile.sh -d agent_core
# environment:
#   PGMAINT_TEXTFILE_DIR   directory node_exporter reads
#                          (default /var/lib/prometheus/node-exporter, Debian's
#                          --collector.textfile.directory)
#   PGMAINT_TEXTFILE_NAME  file name (default pgmaint.prom; one per cluster
#                          when a host runs several)
#   PGMAINT_TEXTFILE_TABLES=1  also write the opt-in family
#                          pgmaint_check_worst_table_info{check,table}
#                          (pgmaint.metrics_tables(): a label per table)
#   PSQL                   psql to run (default psql); PGHOST, PGPORT, PGUSER,
#                          PGDATABASE etc. as for psql.  The role needs pg_monitor.
set -eu

dir=${PGMAINT_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
name=${PGMAINT_TEXTFILE_NAME:-pgmaint.prom}
psql=${PSQL:-psql}
query='SELECT pgmaint.metrics()'
[ "${PGMAINT_TEXTFILE_TABLES:-0}" = 1 ] && query='SELECT pgmaint.metrics() || pgmaint.metrics_tables()'

case $name in
*.prom) ;;
*) echo "pgmaint-textfile.sh: PGMAINT_TEXTFILE_NAME must end in .prom" >&2; exit 2 ;;
esac

tmp=$(mktemp "$dir/.$name.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$psql" -X -A -t -q -v ON_ERROR_STOP=1 "$@" -c "$query" >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$dir/$name"
trap - EXIT

#!/usr/bin/env bash
# Space: bloat() on a table and an index bloated by a planted delete, against
# pgstattuple's measurement and check_postgres' bloat action; partitioned
# tables rolled up and their unused partitioned indexes; the worker's size
# history, table_growth() and the bloat and disk_full_eta checks.
# packages: check-postgres
set -u
. "$(dirname "$0")/../lib.sh"

q <<'SQL' >/dev/null
DROP TABLE IF EXISTS space_bloated, space_packed, space_parts CASCADE;
CREATE EXTENSION IF NOT EXISTS pgstattuple;
CREATE TABLE space_bloated (id integer PRIMARY KEY, pad text NOT NULL);
CREATE TABLE space_packed (id integer PRIMARY KEY, pad text NOT NULL);
INSERT INTO space_bloated SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g;
INSERT INTO space_packed SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g;
VACUUM ANALYZE space_bloated, space_packed;
-- nine rows in ten go, spread over every page: VACUUM frees the space but
-- no page empties, so the table keeps its size
DELETE FROM space_bloated WHERE id % 10 <> 0;
VACUUM ANALYZE space_bloated;
SQL

ratio() {
	q -c "SELECT round(wasted_ratio::numeric, 2) FROM pgmaint.bloat($2) WHERE relid = '$1'::regclass"
}

est=$(ratio space_bloated false)
exact=$(ratio space_bloated true)
ok "the estimate sees about 90% of space_bloated wasted (got $est)" \
	awk -v r="$est" 'BEGIN { exit !(r >= 0.8 && r <= 0.95) }'
ok "the estimate agrees with pgstattuple_approx within 10 points ($est vs $exact)" \
	awk -v a="$est" -v b="$exact" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.10) }'
est=$(ratio space_bloated_pkey false)
exact=$(ratio space_bloated_pkey true)
ok "the index estimate sees its emptied leaves (got $est, pgstatindex $exact)" \
	awk -v a="$est" -v b="$exact" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a >= 0.7 && d <= 0.15) }'
is "$(q -c "SELECT bloated FROM pgmaint.bloat() WHERE relid = 'space_packed'::regclass")" "f" \
	"a freshly loaded table is not bloated"
is "$(q -c "SELECT bloated FROM pgmaint.bloat() WHERE relid = 'space_bloated'::regclass")" "t" \
	"the bloated table is flagged"
is "$(q -c "SELECT suggestion LIKE 'REINDEX INDEX CONCURRENTLY%' FROM pgmaint.bloat() WHERE relid = 'space_bloated_pkey'::regclass")" "t" \
	"the bloated index gets a REINDEX CONCURRENTLY suggestion"

# check_postgres 2.25's bloat action on the same table: wasted bytes agree within 20% of the table
cp_out=$(check_postgres --action=bloat --host="$PGHOST" --port="$PGPORT" --dbuser=postgres \
	--dbname="$PGDATABASE" --include=space_bloated --warning='1 kB' --critical='1 TB' \
	--output=nagios 2>&1)
cp_wasted=$(printf '%s\n' "$cp_out" | sed -n 's/.*public\.space_bloated rows:[0-9]* pages:[0-9]* shouldbe:[0-9]* ([0-9.]*X) wasted size:\([0-9]*\) .*/\1/p' | head -1)
our=$(q -c "SELECT wasted_bytes || ' ' || bytes FROM pgmaint.bloat() WHERE relid = 'space_bloated'::regclass")
ok "check_postgres reports the table's wasted bytes (${cp_wasted:-none})" [ -n "$cp_wasted" ]
ok "pgmaint and check_postgres agree on the wasted bytes within 20% of the table ($our vs ${cp_wasted:-none})" \
	awk -v o="${our% *}" -v s="${our#* }" -v c="${cp_wasted:-0}" 'BEGIN { d = o - c; if (d < 0) d = -d; exit !(c > 0 && d <= 0.2 * s) }'

# partitioned tables: rolled-up counts, and an unused partitioned index judged at the parent
q <<'SQL' >/dev/null
CREATE TABLE space_parts (id integer NOT NULL, at date NOT NULL, v integer) PARTITION BY RANGE (at);
CREATE TABLE space_parts_1 PARTITION OF space_parts FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE space_parts_2 PARTITION OF space_parts FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE space_parts_3 PARTITION OF space_parts FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE INDEX space_parts_v ON space_parts (v);
INSERT INTO space_parts SELECT g, date '2026-01-01' + (g % 90), g FROM generate_series(1, 9000) g;
DELETE FROM space_parts WHERE id <= 900;
SELECT pg_stat_force_next_flush();
SQL
ok "partitioned_tables() sums the partitions' live and dead tuples" \
	wait_for "SELECT partitions = 3 AND live_tuples = 8100 AND dead_tuples = 900 AND round(dead_ratio::numeric, 2) = 0.10
	            FROM pgmaint.partitioned_tables() WHERE relid = 'space_parts'::regclass" 30
is "$(q -c "SELECT count(*) FROM pgmaint.index_advice(0, 0) WHERE kind = 'unused' AND index_name = 'space_parts_v'::regclass")" "1" \
	"an unscanned partitioned index is reported unused at the parent"
q -c "SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM space_parts WHERE v = 5000; SELECT pg_stat_force_next_flush();" >/dev/null
ok "once a partition's index is scanned, the parent is no longer unused" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pgmaint.index_advice(0, 0) WHERE kind = 'unused' AND index_name = 'space_parts_v'::regclass)" 30

# the worker's space step: sizes every pgmaint.growth_interval
q -c "ALTER SYSTEM SET pgmaint.growth_interval = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
ok "the worker records the database's size" \
	wait_for "SELECT count(DISTINCT taken_at) >= 2 FROM pgmaint.size_history WHERE relid = 0" 60
ok "the worker records the largest tables, space_bloated among them" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pgmaint.size_history WHERE relid = 'space_bloated'::regclass)" 60
ok "the worker keeps the worst bloat estimates, space_bloated among them" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pgmaint.bloat_estimates WHERE relid = 'space_bloated'::regclass)" 60
q -c "ALTER SYSTEM RESET pgmaint.growth_interval" -c "SELECT pg_reload_conf()" >/dev/null

# health_checks() reads the worker's evaluation: one made after each plant
fresh() { health_refresh || echo "# the worker made no evaluation after the plant"; }
fresh
is "$(q -c "SELECT c.value = round((SELECT max(b.wasted_bytes) FROM pgmaint.bloat_estimates b) / 1048576.0, 1)
              AND c.message LIKE '%space_bloated%' FROM pgmaint.health_checks() c WHERE c.check_name = 'bloat'")" "t" \
	"the bloat check reports the worst estimate the worker kept, in MB"

# disk_full_eta: a planted size history that grew 10 MB in two hours
q <<'SQL' >/dev/null
ALTER SYSTEM SET pgmaint.growth_interval = '1h';
SELECT pg_reload_conf();
DELETE FROM pgmaint.size_history;
INSERT INTO pgmaint.size_history VALUES
    (now() - interval '2 hours', 0, pg_database_size(current_database()) - 10 * 1048576),
    (now() - interval '1 minute', 0, pg_database_size(current_database()));
SQL
fresh
expected=$(q -c "SELECT round(least(3650, d.available_bytes / (10 * 1048576 / (extract(epoch FROM interval '2 hours' - interval '1 minute') / 86400)))::numeric, 1) FROM pgmaint.disk_space() d")
got=$(q -c "SELECT value FROM pgmaint.health_checks() WHERE check_name = 'disk_full_eta'")
ok "disk_full_eta is the days the available space lasts at 10 MB per 1h59 ($got vs $expected)" \
	awk -v g="$got" -v e="$expected" 'BEGIN { d = g - e; if (d < 0) d = -d; exit !(e > 0 && d <= 0.02 * e + 0.1) }'
is "$(q -c "SELECT name LIKE 'database %' AND growth_bytes >= 10 * 1048576 FROM pgmaint.table_growth('1 day') WHERE relid IS NULL")" "t" \
	"table_growth() shows the database's growth first"
q -c "UPDATE pgmaint.size_history SET bytes = bytes + 200 * 1048576 WHERE taken_at < now() - interval '1 hour'" >/dev/null
fresh
is "$(q -c "SELECT value || ' ' || status FROM pgmaint.health_checks() WHERE check_name = 'disk_full_eta'")" "3650 ok" \
	"a database that does not grow is 3650 days from full"
q -c "DELETE FROM pgmaint.size_history WHERE taken_at < now() - interval '1 hour'" >/dev/null
fresh
is "$(q -c "SELECT status FROM pgmaint.health_checks() WHERE check_name = 'disk_full_eta'")" "unknown" \
	"with less than an hour of history the ETA is unknown"
q -c "ALTER SYSTEM RESET pgmaint.growth_interval" -c "SELECT pg_reload_conf()" >/dev/null

q -c "DROP TABLE space_bloated, space_packed, space_parts CASCADE" -c "DROP EXTENSION pgstattuple" >/dev/null
finish

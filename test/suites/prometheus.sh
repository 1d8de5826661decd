#!/usr/bin/env bash
# A real scrape of pgmaint: Debian's prometheus, prometheus-node-exporter
# (textfile collector fed by deploy/prometheus/pgmaint-textfile.sh) and
# prometheus-postgres-exporter (deploy/prometheus/queries.yaml) on 127.0.0.1,
# scraping every second; the shipped alert rules with short "for:" durations.
# A leaked idle-in-transaction session past a lowered threshold must reach
# status 2 through both paths and fire PgmaintCheckCritical, then resolve.
# promtool checks metrics() in every state planted here and both exporters'
# pgmaint_* output, the rules and their unit tests.
# packages: prometheus prometheus-node-exporter prometheus-postgres-exporter
set -u
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
deploy=$top/deploy/prometheus

for b in /usr/bin/prometheus /usr/bin/promtool /usr/bin/prometheus-node-exporter /usr/bin/prometheus-postgres-exporter; do
	[ -x "$b" ] || { echo "skipped: $b is not installed"; exit 0; }
done

dir=$PGM_TMP/prometheus
base=$PGM_PORT_BASE
pg_port=$base node_port=$((base + 1)) exp_port=$((base + 2)) prom_port=$((base + 3))
mkdir -p "$dir/textfile" "$dir/prom-data"
pids=()
leak_pid=""
loop_pid=""

cleanup() {
	local p
	[ -n "$loop_pid" ] && kill "$loop_pid" 2>/dev/null
	exec 7>&- 2>/dev/null
	[ -n "$leak_pid" ] && kill "$leak_pid" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pgm_cluster_stop "$dir/pg"
}
trap cleanup EXIT

# --- the cluster: pgmaint sampling every second ---------------------------------
pgm_cluster_init "$dir/pg" "$pg_port" pgmaint_prom || exit 1
echo "pgmaint.sample_interval = '1s'" >>"$dir/pg/data/postgresql.conf"
pgm_cluster_start "$dir/pg" || exit 1
export PGHOST=$dir/pg PGPORT=$pg_port PGUSER=postgres PGDATABASE=pgmaint_prom
q -d postgres -c "CREATE DATABASE pgmaint_prom" >/dev/null || exit 1
q -c "CREATE EXTENSION pgmaint" >/dev/null || exit 1

# Runs promtool check metrics on metrics() output; passes with zero findings.
lint_metrics() {
	local desc=$1 out
	q -c "SELECT pgmaint.metrics()" >"$dir/metrics.txt" || { ok "$desc" false; return; }
	out=$(promtool check metrics <"$dir/metrics.txt" 2>&1)
	ok "$desc" test -z "$out" -a -s "$dir/metrics.txt"
	[ -n "$out" ] && echo "$out" | sed 's/^/#   /'
}

# Runs a PromQL instant query; prints "labels value" lines (labels as JSON).
promql() {
	curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
		/usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
for r in d.get("data",{}).get("result",[]):
    m=r["metric"]; print(json.dumps(m, sort_keys=True, separators=(",", ":")), r["value"][1])' 2>/dev/null
}

# Polls a PromQL query until it returns a series or SECONDS pass.
wait_promql() {
	local query=$1 seconds=$2 deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ -n "$(promql "$query")" ] && return 0
		sleep 0.5
	done
	return 1
}

# Prints the firing alerts as "alertname job check" lines.
alerts() {
	curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/alerts" |
		/usr/bin/python3 -c 'import json,sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["state"] == "firing":
        l=a["labels"]; print(l["alertname"], l.get("job",""), l.get("check",""))' 2>/dev/null
}

# Polls until alerts() shows (or, with "gone", no longer shows) a line.
wait_alert() {
	local line=$1 seconds=$2 want=${3:-present} deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if alerts | grep -qx "$line"; then
			[ "$want" = present ] && return 0
		else
			[ "$want" = gone ] && return 0
		fi
		sleep 0.5
	done
	return 1
}

# Polls an HTTP endpoint until it answers.
wait_http() {
	local url=$1 seconds=$2 deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		curl -s --max-time 2 -o /dev/null "$url" && return 0
		sleep 0.3
	done
	return 1
}

# --- what ships, checked offline ------------------------------------------------
out=$(promtool check rules "$deploy/pgmaint.rules.yml" 2>&1)
ok "promtool check rules accepts pgmaint.rules.yml" test $? = 0
out=$(cd "$deploy" && promtool test rules pgmaint.rules.test.yml 2>&1)
ok "promtool test rules: every alert fires and resolves" grep -q SUCCESS <<<"$out" || echo "$out" | sed 's/^/#   /'
q -f "$deploy/queries.yaml.sql" >"$dir/queries.yaml"
ok "queries.yaml is what queries.yaml.sql generates from this pgmaint (else regenerate it)" \
	diff -u "$deploy/queries.yaml" "$dir/queries.yaml"

ok "the worker samples" wait_for "SELECT samples_taken >= 2 FROM pgmaint.sampler_status()" 60
lint_metrics "promtool check metrics: metrics() of a fresh database, zero findings"

# --- the three daemons ----------------------------------------------------------
# the textfile collector's feed: the shipped script, every second instead of cron
(
	while :; do
		PGMAINT_TEXTFILE_DIR=$dir/textfile "$deploy/pgmaint-textfile.sh" -d pgmaint_prom 2>>"$dir/textfile.log"
		sleep 1
	done
) &
loop_pid=$!

/usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$node_port" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$dir/textfile" >"$dir/node_exporter.log" 2>&1 &
pids+=($!)

DATA_SOURCE_NAME="host=$dir/pg port=$pg_port user=postgres dbname=pgmaint_prom sslmode=disable" \
	/usr/bin/prometheus-postgres-exporter --web.listen-address="127.0.0.1:$exp_port" \
	--extend.query-path="$deploy/queries.yaml" --disable-default-metrics --disable-settings-metrics \
	--no-collector.database --no-collector.bgwriter >"$dir/postgres_exporter.log" 2>&1 &
pids+=($!)

# the shipped rules with test durations: "for:" a few seconds, stale after 5 s
sed -e 's/for: [0-9]*[mh]$/for: 3s/' -e 's/> 300$/> 5/' "$deploy/pgmaint.rules.yml" >"$dir/rules.yml"
cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $dir/rules.yml
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$node_port']
  - job_name: postgres
    static_configs:
      - targets: ['127.0.0.1:$exp_port']
YML
/usr/bin/prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prom-data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)

ok "node_exporter answers" wait_http "http://127.0.0.1:$node_port/metrics" 30
ok "postgres_exporter answers" wait_http "http://127.0.0.1:$exp_port/metrics" 30
ok "prometheus answers" wait_http "http://127.0.0.1:$prom_port/-/ready" 60
ok "prometheus scrapes metrics() through the textfile collector" \
	wait_promql 'pgmaint_up{job="node"} == 1' 60
ok "prometheus scrapes metrics() through postgres_exporter" \
	wait_promql 'pgmaint_up{job="postgres"} == 1' 60
ok "prometheus loaded the six shipped rules" \
	test "$(curl -s "http://127.0.0.1:$prom_port/api/v1/rules" | grep -o '"type":"alerting"' | wc -l)" = 6

# both paths expose the same pgmaint families
ok "the worker's last sample reaches both paths" \
	wait_promql 'count(pgmaint_client_backends{job="postgres"}) == 4 and on() count(pgmaint_client_backends{job="node"}) == 4' 30
families() {
	curl -s -G "http://127.0.0.1:$prom_port/api/v1/label/__name__/values" --data-urlencode "match[]={job=\"$1\",__name__=~\"pgmaint_.*\"}" |
		/usr/bin/python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["data"]))'
}
families node >"$dir/families.node"
families postgres >"$dir/families.postgres"
ok "both paths expose the same pgmaint_* families" diff -u "$dir/families.node" "$dir/families.postgres"
is "$(wc -l <"$dir/families.node")" "$(q -c "SELECT count(*) FROM pgmaint.metric_families() f
	    WHERE f.family <> 'pgmaint_check_raw_value'
	       OR EXISTS (SELECT 1 FROM pgmaint.health_checks() h
	                   WHERE NOT EXISTS (SELECT 1 FROM pgmaint.check_metrics m WHERE m.check_name = h.check_name))")" \
	"every family of metric_families() is scraped (raw values only for checks without a family)"
is "$(promql 'count(pgmaint_check_status{job="node"})' | awk '{print $2}')" \
	"$(q -c "SELECT count(*) FROM pgmaint.health_checks()")" "one pgmaint_check_status per check"

# exporters' own pgmaint_* output passes promtool
exp_lint() {
	curl -s "$1" | grep -E '^(# (HELP|TYPE) )?pgmaint_' >"$dir/scrape.txt"
	out=$(promtool check metrics <"$dir/scrape.txt" 2>&1)
	ok "$2" test -z "$out" -a -s "$dir/scrape.txt"
	[ -n "$out" ] && echo "$out" | sed 's/^/#   /'
}
exp_lint "http://127.0.0.1:$node_port/metrics" "promtool check metrics: node_exporter's pgmaint_* output, zero findings"
exp_lint "http://127.0.0.1:$exp_port/metrics" "promtool check metrics: postgres_exporter's pgmaint_* output, zero findings"

# --- the leak -------------------------------------------------------------------
q -c "UPDATE pgmaint.thresholds SET warning = 1, critical = 2 WHERE check_name = 'idle_in_transaction'"
# the session reads from a fifo: it stays idle in its transaction until the
# fifo closes, and no helper process outlives the test
mkfifo "$dir/leak.fifo"
psql -X -q "application_name=pgmaint_prom_leak" <"$dir/leak.fifo" >/dev/null 2>&1 &
leak_pid=$!
exec 7>"$dir/leak.fifo"
echo "BEGIN; SELECT 1;" >&7
ok "the session is idle in a transaction" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgmaint_prom_leak' AND state = 'idle in transaction')" 30
ok "health_checks() grades the leak critical" \
	wait_for "SELECT status = 'critical' FROM pgmaint.health_checks() WHERE check_name = 'idle_in_transaction'" 30
ok "pgmaint_check_status{check=\"idle_in_transaction\"} reaches 2 through node_exporter's textfile" \
	wait_promql 'pgmaint_check_status{check="idle_in_transaction",job="node"} == 2' 60
ok "pgmaint_check_status{check=\"idle_in_transaction\"} reaches 2 through postgres_exporter" \
	wait_promql 'pgmaint_check_status{check="idle_in_transaction",job="postgres"} == 2' 60
ok "the value in seconds passes the critical threshold in the same unit (no constant in PromQL)" \
	wait_promql 'pgmaint_idle_in_transaction_oldest_seconds{job="postgres"} > ignoring(check) pgmaint_check_critical_threshold{check="idle_in_transaction",job="postgres"}' 30
is "$(promql 'pgmaint_check_critical_threshold{check="idle_in_transaction",job="node"}' | awk '{print $2}')" 2 \
	"the lowered threshold is scraped as set"
ok "PgmaintCheckCritical fires for the leak (textfile path)" \
	wait_alert "PgmaintCheckCritical node idle_in_transaction" 60
ok "PgmaintCheckCritical fires for the leak (postgres_exporter path)" \
	wait_alert "PgmaintCheckCritical postgres idle_in_transaction" 60
lint_metrics "promtool check metrics: metrics() with a critical leak, zero findings"
exp_lint "http://127.0.0.1:$exp_port/metrics" "promtool check metrics: postgres_exporter's output with the leak, zero findings"

# end the leak: the status and the alert resolve
exec 7>&-
wait "$leak_pid" 2>/dev/null
leak_pid=""
ok "the status returns to 0 through the textfile" \
	wait_promql 'pgmaint_check_status{check="idle_in_transaction",job="node"} == 0' 60
ok "the status returns to 0 through postgres_exporter" \
	wait_promql 'pgmaint_check_status{check="idle_in_transaction",job="postgres"} == 0' 60
ok "PgmaintCheckCritical resolves (textfile path)" \
	wait_alert "PgmaintCheckCritical node idle_in_transaction" 60 gone
ok "PgmaintCheckCritical resolves (postgres_exporter path)" \
	wait_alert "PgmaintCheckCritical postgres idle_in_transaction" 60 gone
q -c "UPDATE pgmaint.thresholds SET warning = 60, critical = 300 WHERE check_name = 'idle_in_transaction'"

# --- the textfile goes stale: PgmaintMetricsStale fires, then resolves ---------
ok "node_exporter reports the textfile's mtime" \
	wait_promql 'node_textfile_mtime_seconds{file=~"(.*/)?pgmaint[^/]*\\.prom"}' 30
kill "$loop_pid" 2>/dev/null
wait "$loop_pid" 2>/dev/null
loop_pid=""
ok "PgmaintMetricsStale fires when the textfile is not renewed" wait_alert "PgmaintMetricsStale node " 60
PGMAINT_TEXTFILE_DIR=$dir/textfile "$deploy/pgmaint-textfile.sh" -d pgmaint_prom
ok "PgmaintMetricsStale resolves once the file is renewed" wait_alert "PgmaintMetricsStale node " 60 gone
ok "the script leaves no temporary file behind" test "$(ls -A "$dir/textfile")" = pgmaint.prom
ok "a failing psql keeps the old file and leaves no temporary file" \
	bash -c "! PGMAINT_TEXTFILE_DIR='$dir/textfile' '$deploy/pgmaint-textfile.sh' -d no_such_db 2>/dev/null && test \"\$(ls -A '$dir/textfile')\" = pgmaint.prom"

# --- more planted states for promtool --------------------------------------------
q -c "BEGIN; PREPARE TRANSACTION 'pgmaint_prom_px'" >/dev/null
q -c "CREATE TABLE prom_t (id int); CREATE INDEX prom_t_i ON prom_t (id)" >/dev/null
q -c "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'prom_t_i'::regclass" >/dev/null
q -c "UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'prepared_transactions'"
ok "an invalid index and a prepared transaction are graded" \
	wait_for "SELECT count(*) = 2 FROM pgmaint.health_checks() WHERE check_name IN ('invalid_indexes', 'prepared_transactions') AND status <> 'ok'" 30
lint_metrics "promtool check metrics: metrics() with warnings, zero findings"
q -c "ROLLBACK PREPARED 'pgmaint_prom_px'" -c "DROP TABLE prom_t" -c "UPDATE pgmaint.thresholds SET warning = 300 WHERE check_name = 'prepared_transactions'" >/dev/null
# a check without a family of its own, and a disabled check
q -c "UPDATE pgmaint.thresholds SET enabled = false WHERE check_name = 'cache_hit'"
q -c "BEGIN; DELETE FROM pgmaint.check_metrics WHERE check_name = 'archiver';
      SELECT pgmaint.metrics(); ROLLBACK" | sed '/^BEGIN\|^DELETE\|^ROLLBACK/d' >"$dir/metrics.txt"
out=$(promtool check metrics <"$dir/metrics.txt" 2>&1)
ok "promtool check metrics: a check without a family and a disabled check, zero findings" test -z "$out"
is "$(grep -c '^pgmaint_check_raw_value{.*check="archiver"} 0$' "$dir/metrics.txt")" 1 \
	"a check without a family appears as pgmaint_check_raw_value{check}"
is "$(grep -c '^pgmaint_archiver_failing' "$dir/metrics.txt")" 0 "and has no family of its own"
is "$(grep -c '^pgmaint_cache_hit_ratio{.*} NaN$' "$dir/metrics.txt")" 1 "a disabled check's family reads NaN"
is "$(grep -c 'check="cache_hit"' "$dir/metrics.txt")" 0 "a disabled check has no status or thresholds"
q -c "UPDATE pgmaint.thresholds SET enabled = true WHERE check_name = 'cache_hit'"
# the opt-in family names the worst table; metrics() never has a table label
q -c "CREATE TABLE prom_dead (id int); INSERT INTO prom_dead SELECT generate_series(1, 3000);
      DELETE FROM prom_dead WHERE id <= 1500; SELECT pg_stat_force_next_flush()" >/dev/null
ok "the dead_tuples check names the table" \
	wait_for "SELECT message LIKE 'table public.prom_dead has the highest dead-tuple share%' FROM pgmaint.health_checks() WHERE check_name = 'dead_tuples'" 30
PGMAINT_TEXTFILE_DIR=$dir/textfile PGMAINT_TEXTFILE_TABLES=1 "$deploy/pgmaint-textfile.sh" -d pgmaint_prom
is "$(grep -c '^pgmaint_check_worst_table_info{.*check="dead_tuples",table="public.prom_dead"} 1$' "$dir/textfile/pgmaint.prom")" 1 \
	"PGMAINT_TEXTFILE_TABLES=1 adds the opt-in pgmaint_check_worst_table_info{check,table}"
out=$(promtool check metrics <"$dir/textfile/pgmaint.prom" 2>&1)
ok "promtool check metrics: metrics() with the opt-in family, zero findings" test -z "$out"
is "$(q -c "SELECT pgmaint.metrics()" | grep -c 'table=')" 0 "metrics() itself has no table label"
q -c "DROP TABLE prom_dead"
finish

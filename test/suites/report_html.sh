#!/usr/bin/env bash
# report_html(): the page of a cluster with real history (one-second samples
# under a pgbench workload and a planted leak) rendered in headless Chromium:
# screenshot, DOM, PDF; an HTML5 parse; planted hostile names render as text;
# no URL; a fresh install without samples; downsampling and gaps on a
# synthetic week of one-minute history; report()'s sparklines.
# packages: chromium python3-html5lib poppler-utils
set -u
. "$(dirname "$0")/../lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
dir="$PGM_TMP/report_html"
main="$dir/main"
fresh="$dir/fresh"
port=$PGM_PORT_BASE
fresh_port=$((PGM_PORT_BASE + 1))
mkdir -p "$dir"
chmod 755 "$dir"
py() { /usr/bin/python3 "$here/report_html_check.py" "$@"; }

for b in chromium pdftotext pdfinfo; do
	command -v "$b" >/dev/null || { echo "skipped: $b is not installed"; exit 0; }
done
/usr/bin/python3 -c 'import html5lib' 2>/dev/null || { echo "skipped: python3-html5lib is not installed"; exit 0; }

leak_pid=""
cleanup() {
	[ -n "$leak_pid" ] && kill -- "-$leak_pid" 2>/dev/null
	pgm_cluster_stop "$main"
	pgm_cluster_stop "$fresh"
}
trap cleanup EXIT

# Runs headless Chromium on PAGE with the remaining arguments, in a new profile.
browse() {
	local page=$1 profile
	shift
	profile=$(mktemp -d "$dir/chromium.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --hide-scrollbars "$@" "file://$page" 2>>"$dir/chromium.log"
	local rc=$?
	rm -rf "$profile"
	return $rc
}

# --- a fresh install, never preloaded: no samples at all ----------------------------
pgm_cluster_init "$fresh" "$fresh_port" pgmaint_test "" >/dev/null
pgm_cluster_start "$fresh"
export PGHOST=$fresh PGPORT=$fresh_port PGUSER=postgres PGDATABASE=postgres
q -c "CREATE DATABASE pgmaint_test" >/dev/null
export PGDATABASE=pgmaint_test
q -c "CREATE EXTENSION pgmaint" >/dev/null
ok "report_html() answers on a fresh install without the worker" \
	q -o "$dir/empty.html" -c "SELECT pgmaint.report_html()"
is "$(py parse "$dir/empty.html")" "" "the empty page parses as HTML5 without errors"
ok "the empty page says the worker has not sampled yet" grep -q 'The worker has not sampled yet' "$dir/empty.html"
is "$(py charts "$dir/empty.html" | awk -F'|' '$5 == 1' | wc -l)" 5 "its five charts each say there are no samples"
is "$(q -c "SELECT pgmaint.report_html(interval '0')" 2>&1 | grep -c 'since must be a positive interval')" 1 \
	"a period that is not positive is an error"

# A week of synthetic one-minute samples with a 30-minute hole: at most ~500 points
# a series, and the hole is a break in every line.
q >/dev/null <<'SQL'
INSERT INTO pgmaint.sample_history
SELECT t, 5 + (i % 7), 1 + (i % 3), 2 + (i % 5), 1, 0, i % 2, interval '1 s' * (i % 50), interval '1 s' * (i % 40),
       1000 * i + (i % 13) * 37, 10 * i, 50 * i, 5000 * i, 10 * i, 20 * i, 5 * i, 0, 0, 10000, 100 + (i * 7919) % 5000, 1000, 10, NULL
  FROM generate_series(1, 10080) i,
       LATERAL (SELECT date_trunc('minute', now()) - (10080 - i) * interval '1 min' AS t) s
 WHERE i NOT BETWEEN 5000 AND 5029;
SQL
q -o "$dir/week.html" -c "SELECT pgmaint.report_html('7 days')"
py charts "$dir/week.html" >"$dir/week.charts"
is "$(wc -l <"$dir/week.charts")" 5 "a week of history gives five charts"
is "$(awk -F'|' '$3 == 0' "$dir/week.charts" | wc -l)" 0 "every chart of the week has points"
is "$(awk -F'|' '$6 > 520' "$dir/week.charts" | wc -l)" 0 \
	"no series of 10,050 samples keeps more than ~500 points (min and max of 250 buckets)"
# stacked connections: four layers, each broken in two by the hole; lines: two segments a series
is "$(awk -F'|' '$1 == "Connections by state" { print $4 }' "$dir/week.charts")" 8 \
	"the connections' four layers each break at the hole"
is "$(awk -F'|' '$1 == "Commits and rollbacks" { print $4 }' "$dir/week.charts")" 4 \
	"commits and rollbacks each break at the hole"
is "$(awk -F'|' '$1 == "Dead tuples" { print $4 }' "$dir/week.charts")" 2 "dead tuples break at the hole"
# a spike in one minute of the week survives the downsampling
q -c "UPDATE pgmaint.sample_history SET dead_tuples = 987654321 WHERE sampled_at = (SELECT min(sampled_at) + interval '3 days' FROM pgmaint.sample_history)" >/dev/null
q -o "$dir/spike.html" -c "SELECT pgmaint.report_html('7 days')"
ok "a one-minute spike in a week survives the downsampling (the axis reaches it)" \
	grep -q '>1.0G</text>' "$dir/spike.html"
pgm_cluster_stop "$fresh"

# --- the live cluster: one-second samples under pgbench, a leak, hostile names ------
pgm_cluster_init "$main" "$port" pgmaint_test "pgmaint,pg_stat_statements" >/dev/null
cat >>"$main/data/postgresql.conf" <<'CONF'
pgmaint.sample_interval = 1
CONF
pgm_cluster_start "$main"
export PGHOST=$main PGPORT=$port PGUSER=postgres PGDATABASE=postgres
q -c "CREATE DATABASE pgmaint_test" >/dev/null
export PGDATABASE=pgmaint_test
q >/dev/null <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION pgmaint;
CREATE TABLE churn (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO churn (id) SELECT g FROM generate_series(1, 5000) g;
CREATE TABLE "<script>alert(1)</script>" (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = off);
INSERT INTO "<script>alert(1)</script>" SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
DELETE FROM "<script>alert(1)</script>" WHERE id % 2 = 0;
SELECT pg_sleep(1) AS "</svg><script>alert(2)</script>";
SELECT pg_sleep(1) AS "</svg><script>alert(2)</script>";
UPDATE pgmaint.thresholds SET warning = 3 WHERE check_name = 'idle_in_transaction';
SQL
ok "the worker samples the test database every second" \
	wait_for "SELECT samples_taken >= 3 FROM pgmaint.sampler_status()" 60

# a leaked session with a hostile application name
setsid bash -c '{ echo "BEGIN; SELECT count(*) FROM churn;"; exec sleep 3600; } |
	psql -Xq "application_name='"'"'<img src=x onerror=alert(3)>'"'"'" >/dev/null 2>&1' </dev/null >/dev/null 2>&1 &
leak_pid=$!

cat >"$dir/work.sql" <<'SQL'
\set k random(1, 5000)
UPDATE churn SET v = v + 1 WHERE id = :k;
SELECT v FROM churn WHERE id = :k + 1;
SQL
"$PGM_BIN/pgbench" -n -c 4 -j 2 -T 40 -f "$dir/work.sql" >"$dir/pgbench1.log" 2>&1
"$PGM_BIN/pgbench" -n -c 8 -j 2 -T 20 -R 2000 -f "$dir/work.sql" >"$dir/pgbench2.log" 2>&1
ok "pgbench ran" grep -q '^tps' "$dir/pgbench1.log"
ok "the leak is seen" wait_for "SELECT count(*) = 1 FROM pgmaint.connection_leaks(interval '3 s')" 30
q -c "SELECT pg_stat_force_next_flush()" >/dev/null

q -o "$dir/page.html" -c "SELECT pgmaint.report_html('5 minutes')"
ok "report_html() writes a page" test -s "$dir/page.html"
is "$(py parse "$dir/page.html")" "" "the page parses as HTML5 without errors"
is "$(grep -Eci 'https?:|//' "$dir/page.html")" 0 "no URL of any kind in the page (no http, https or //)"
is "$(grep -Eci '<(script|img|link|iframe|object|embed)\b' "$dir/page.html")" 0 \
	"no script, image, link or embedded element in the document"
py text "$dir/page.html" >"$dir/page.txt"
ok "a table named <script>alert(1)</script> renders as text" grep -qF '<script>alert(1)</script>' "$dir/page.txt"
ok "a query text with </svg> renders as text" grep -qF '"</svg><script>alert(2)</script>"' "$dir/page.txt"
ok "a hostile application name renders as text" grep -qF '<img src=x onerror=alert(3)>' "$dir/page.txt"
is "$(py elements "$dir/page.html" script)|$(py elements "$dir/page.html" img)" "0|0" \
	"the planted names made no element of the parsed page"
ok "the banner shows the overall status" grep -Eq '<div class="banner st-(ok|warning|critical)">' "$dir/page.html"
ok "the page lists the leak's check with its hint" grep -q '<b>idle_in_transaction</b>' "$dir/page.html"

# in Chromium: screenshot, DOM after layout, PDF
ok "Chromium takes a screenshot at 1280 px" browse "$dir/page.html" --screenshot="$dir/page.png" --window-size=1280,2000
ok "the screenshot is a PNG" sh -c "head -c 8 '$dir/page.png' | od -An -c | grep -q 'P   N   G'"
sed 's|</body>|<script>document.body.setAttribute("data-scroll-width", document.documentElement.scrollWidth); document.body.setAttribute("data-paths", Array.from(document.querySelectorAll("figure.chart")).map(function (f) { return Array.from(f.querySelectorAll("path.series")).filter(function (p) { return p.getAttribute("d").length > 2 \&\& p.getTotalLength() > 0; }).length; }).join(","));</script></body>|' \
	"$dir/page.html" >"$dir/measure.html"
browse "$dir/measure.html" --dump-dom --window-size=1280,2000 >"$dir/dom.html"
width=$(py attr "$dir/dom.html" data-scroll-width)
ok "the page does not overflow 1280 px (scroll width ${width:-?})" test "${width:-99999}" -le 1280
paths=$(py attr "$dir/dom.html" data-paths)
ok "every chart in the DOM has drawn, non-empty series paths ($paths)" \
	sh -c "echo '$paths' | grep -Eq '^[1-9][0-9]*(,[1-9][0-9]*){4}$'"
py charts "$dir/dom.html" >"$dir/dom.charts"
is "$(awk -F'|' '$2 == 1 && $3 > 0 && $5 == 0' "$dir/dom.charts" | wc -l)" 5 \
	"the DOM has five charts, each one SVG with points"
is "$(awk -F'|' '$1 == "Connections by state" { print ($3 > 40) }' "$dir/dom.charts")" 1 \
	"the connections chart has the samples of the run"

ok "Chromium prints the page to PDF" browse "$dir/page.html" --print-to-pdf="$dir/page.pdf" --no-pdf-header-footer
pages=$(pdfinfo "$dir/page.pdf" 2>/dev/null | awk '/^Pages:/ { print $2 }')
ok "the PDF has several pages ($pages)" test "${pages:-0}" -ge 2
ok "the PDF is A4" sh -c "pdfinfo '$dir/page.pdf' | grep -q 'A4'"
# each chart's title (top) and caption (bottom) on one page, the charts on more than one page
chart_pages=""
while IFS='|' read -r title caption; do
	tp="" cp=""
	for n in $(seq 1 "${pages:-0}"); do
		pdftotext -f "$n" -l "$n" "$dir/page.pdf" - 2>/dev/null | tr '\n' ' ' >"$dir/pdfpage.txt"
		grep -qF "$title" "$dir/pdfpage.txt" && tp="$tp $n"
		grep -qF "$caption" "$dir/pdfpage.txt" && cp="$cp $n"
	done
	is "$tp" "$cp" "chart '$title' is whole on one PDF page"
	chart_pages="$chart_pages$tp"
done <<'EOT'
Connections by state|Client sessions stacked by state
Oldest idle-in-transaction age|How long the oldest session
Cache hit ratio|Share of block reads
Commits and rollbacks|Transactions of this database committed
Dead tuples|Dead row versions waiting
EOT
ok "the charts span more than one PDF page (pages:$chart_pages)" \
	test "$(echo "$chart_pages" | tr ' ' '\n' | sort -u | grep -c .)" -ge 2

# a pg_monitor role sees the same page; report()'s sparklines
q -c "CREATE ROLE report_viewer LOGIN IN ROLE pg_monitor" >/dev/null
PGUSER=report_viewer q -o "$dir/viewer.html" -c "SELECT pgmaint.report_html('5 minutes')"
is "$(py parse "$dir/viewer.html")" "" "a pg_monitor role gets a valid page"
ok "the pg_monitor role's page has the charts" grep -q 'Connections by state' "$dir/viewer.html"
# a role outside pg_monitor that was granted the functions: unknown checks, and the page says why
q -c "CREATE ROLE report_limited LOGIN; GRANT USAGE ON SCHEMA pgmaint TO report_limited;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmaint TO report_limited;
      GRANT SELECT ON ALL TABLES IN SCHEMA pgmaint TO report_limited" >/dev/null
PGUSER=report_limited q -o "$dir/limited.html" -c "SELECT pgmaint.report_html('5 minutes')"
is "$(py parse "$dir/limited.html")" "" "a role outside pg_monitor gets a valid page"
ok "its page says the role is not a member of pg_monitor" \
	grep -q 'Role report_limited is not a member of pg_monitor' "$dir/limited.html"
ok "its page shows the checks it cannot see as unknown" \
	grep -q '<td>idle_in_transaction</td><td class="st-unknown">unknown</td>' "$dir/limited.html"
q -c "SELECT pgmaint.report()" >"$dir/report.txt"
for s in 'connections' 'cache hit %' 'commits/s' 'idle in xact (s)'; do
	ok "report() has a sparkline for $s" grep -Eq "^  $(printf '%s' "$s" | sed 's/[()%/]/[&]/g') +[ ▁▂▃▄▅▆▇█]+  min [0-9.]+[kMG]?  max [0-9.]+[kMG]?$" "$dir/report.txt"
done
is "$(q -c "SELECT '|' || pgmaint._sparkline(ARRAY[0, 1, 2, 3, 4, 5, 6, 7, NULL]::float8[]) || '|'")" \
	"|▁▂▃▄▅▆▇█ |" "a sparkline spans the eight blocks from its min to its max, a space where no sample is"
is "$(q -c "SELECT '|' || pgmaint._sparkline(ARRAY[5, 5, NULL]::float8[]) || '|'")" "|▁▁ |" \
	"a flat sparkline stays on the lowest block"
is "$(/usr/bin/python3 -c 'import sys; print(int(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")) <= 96))' "$dir/report.txt")" 1 \
	"report() with its sparklines fits 96 columns"
finish

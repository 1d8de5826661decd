#!/usr/bin/env bash
# The detections pgmaint shares with check_postgres 2.25, on planted states
# whose true value is known, in a cluster of its own (archive_mode on with an
# archive_command that fails, TCP on 127.0.0.1): each check_postgres action
# that has a pgmaint counterpart is run against the same cluster and must
# agree where check_postgres is right; where it is not (a sequence feeding a
# narrower column) the test shows the difference the README describes.
# Also: vacuums in progress, connections by source, requested checkpoints,
# aborted idle transactions worded apart.
#
# pgHero's and pg-extras' own SQL (test/fixtures/peers/, with their source
# and licence) runs on the same planted states: for each fact the truth is
# read from PostgreSQL's catalogs (pg_stat_*, pg_sequences, pgstattuple,
# pg_blocking_pids), each tool's answer is judged against it, one TAP line
# per fact and tool, and the cells are written to $PGM_TMP/peer_parity/
# compare.md (printed with '# '); the table in docs/compare.md must be that
# table, cell for cell.
# packages: check-postgres
set -u
. "$(dirname "$0")/../lib.sh"

dir="$PGM_TMP/peer_parity"
port=$PGM_PORT_BASE
declare -A sess_fd sess_pid
cleanup() {
	local n fd
	for n in "${!sess_fd[@]}"; do fd=${sess_fd[$n]}; exec {fd}>&-; done
	for n in "${!sess_pid[@]}"; do kill "${sess_pid[$n]}" 2>/dev/null; wait "${sess_pid[$n]}" 2>/dev/null; done
	pgm_cluster_stop "$dir"
}
trap cleanup EXIT

if ! command -v check_postgres >/dev/null; then
	echo "not ok 1 - check_postgres is installed (package check-postgres)"
	exit 1
fi

pgm_cluster_init "$dir" "$port" pgmaint_test pgmaint >/dev/null || exit 1
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
archive_mode = on
archive_command = 'false'
archive_timeout = 0
checkpoint_timeout = 1h
autovacuum = off
CONF
echo "host all all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
pgm_cluster_start "$dir" || exit 1
export PGHOST=$dir PGPORT=$port PGDATABASE=pgmaint_test
q -d postgres -c "CREATE DATABASE pgmaint_test" >/dev/null
q -c "CREATE EXTENSION pgmaint" >/dev/null

# the checks as health(live => true) measures them now: the detections are
# compared, not the worker's evaluation (that is health_parity.sh's)
live_checks="(SELECT c.\"check\" AS check_name, c.status, c.value, c.message, c.hint
               FROM jsonb_to_recordset(pgmaint.health(live => true)->'checks')
                    AS c(\"check\" text, status text, value numeric, message text, hint text)) lc"

# check_postgres ACTION [ARGS...]: its one-line Nagios answer for this cluster
cpg() {
	local action=$1
	shift
	check_postgres --action="$action" --host="$dir" --port="$port" --dbuser=postgres \
		--dbname=pgmaint_test "$@" 2>&1 | head -n 1
}
check() {
	q -c "SELECT status || ' ' || coalesce(value::text, 'null') FROM $live_checks WHERE check_name = '$1'"
}
message() {
	q -c "SELECT message FROM $live_checks WHERE check_name = '$1'"
}
like() {
	[[ $1 == $2 ]] || { echo "#   '$1' does not match '$2'"; return 1; }
}
# sess_open NAME CONNINFO SQL: a psql that stays connected, reading from a FIFO
sess_open() {
	local name=$1 conninfo=$2 sql=$3 fd
	mkfifo "$dir/$name.in"
	PGAPPNAME=$name psql -X -q -A -t "$conninfo" <"$dir/$name.in" >"$dir/$name.out" 2>&1 &
	sess_pid[$name]=$!
	exec {fd}>"$dir/$name.in"
	sess_fd[$name]=$fd
	echo "$sql" >&"$fd"
}
sess_close() {
	local fd=${sess_fd[$1]}
	# later sessions inherited this FIFO too: quit rather than wait for its end
	echo '\q' >&"$fd"
	exec {fd}>&-
	unset "sess_fd[$1]"
	wait "${sess_pid[$1]}" 2>/dev/null
	unset "sess_pid[$1]"
}

# --- pgHero and pg-extras ------------------------------------------------------
fixtures="$(cd "$(dirname "$0")/../fixtures/peers" && pwd)"
docs="$(cd "$(dirname "$0")/../.." && pwd)/docs/compare.md"
observed="$dir/observed.txt"
: >"$observed"
# peer TOOL QUERY [psql -v NAME=VALUE...]: the rows of a peer's fixture, '|'-separated
peer() {
	local tool=$1 query=$2
	shift 2
	q "$@" -f "$fixtures/$tool/$query.sql"
}
# cell FACT TOOL TEXT: what TOOL answered for FACT, as the comparison table shows it
cell() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$observed"
}
# judge FACT TOOL EXPECTED GOT: one TAP line, and the cell
judge() {
	cell "$1" "$2" "$4"
	is "$4" "$3" "$1: $2 says \"$4\""
}

# --- sequences ---------------------------------------------------------------
# a smallint sequence at 95%: both tools say 95
q -c "CREATE SEQUENCE pp_small AS smallint; SELECT setval('pp_small', 31129);" >/dev/null
is "$(check sequences)" "critical 95.00" "sequences: a smallint sequence at 31129 of 32767 is at 95%"
ok "check_postgres sequence agrees: 95%" \
	like "$(cpg sequence)" "POSTGRES_SEQUENCE CRITICAL:*public.pp_small=95%*"
q -c "DROP SEQUENCE pp_small" >/dev/null
# an integer column fed by a bigint sequence at 2,040,109,465: 95% of the
# column's range; check_postgres (on PostgreSQL 10+) measures the sequence alone
q -c "CREATE SEQUENCE pp_big; CREATE TABLE pp_feed (id integer DEFAULT nextval('pp_big'));
      SELECT setval('pp_big', 2040109465);" >/dev/null
is "$(check sequences)" "critical 95.00" "sequences: measured against the integer column it feeds"
ok "the message names the column" \
	like "$(message sequences)" "sequence public.pp_big has used 95.00% of the range of column public.pp_feed.id (integer, up to 2147483647)"
cp_seq=$(cpg sequence)
ok "check_postgres sequence sees 0% there (it ignores the column's type): docs/compare.md says so" \
	like "$cp_seq" "POSTGRES_SEQUENCE OK:*public.pp_big=0%*"
cell "bigint sequence feeding an integer column, at 95%" pgmaint "95% of the column"
[[ $cp_seq == *public.pp_big=0%* ]] && cell "bigint sequence feeding an integer column, at 95%" check_postgres "0% (the sequence alone)"
q -c "DROP TABLE pp_feed; DROP SEQUENCE pp_big" >/dev/null


# --- disabled triggers -------------------------------------------------------
q -c "CREATE TABLE pp_parent (id int PRIMARY KEY); CREATE TABLE pp_child (pid int REFERENCES pp_parent);
      CREATE FUNCTION pp_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
      CREATE TRIGGER pp_noop BEFORE INSERT ON pp_child FOR EACH ROW EXECUTE FUNCTION pp_noop();
      ALTER TABLE pp_child DISABLE TRIGGER pp_noop;
      ALTER TABLE pp_parent DISABLE TRIGGER ALL;" >/dev/null
# true value: pp_noop plus the foreign key's two triggers on pp_parent
is "$(check disabled_triggers)" "warning 3" "disabled_triggers: 3 (one user trigger, two foreign-key triggers)"
cp_trg=$(cpg disabled_triggers)
ok "check_postgres disabled_triggers agrees: 3" \
	like "$cp_trg" "POSTGRES_DISABLED_TRIGGERS CRITICAL:*Disabled triggers: 3 *"
cell "disabled triggers, foreign-key ones included" pgmaint "3, right"
[[ $cp_trg == *'Disabled triggers: 3 '* ]] && cell "disabled triggers, foreign-key ones included" check_postgres "3, right"
q -c "ALTER TABLE pp_parent ENABLE TRIGGER ALL; ALTER TABLE pp_child ENABLE TRIGGER pp_noop" >/dev/null
is "$(check disabled_triggers)" "ok 0" "disabled_triggers: 0 once enabled"
ok "check_postgres disabled_triggers agrees: 0" \
	like "$(cpg disabled_triggers)" "POSTGRES_DISABLED_TRIGGERS OK:*Disabled triggers: 0*"

# --- NOT VALID constraints -----------------------------------------------------
q -c "ALTER TABLE pp_child ADD CONSTRAINT pp_positive CHECK (pid > 0) NOT VALID" >/dev/null
is "$(check not_valid_constraints)" "warning 1" "not_valid_constraints: the planted one"
cell "NOT VALID constraint" pgmaint "warns"
judge "NOT VALID constraint" pgHero "listed" "$(peer pghero invalid_constraints | awk -F'|' '$3 == "pp_positive" {print "listed"}')"
cell "NOT VALID constraint" pg-extras "no query"
is "$(q -c "SELECT suggestion FROM pgmaint.schema_advice() WHERE kind = 'not_valid_constraint'")" \
	"ALTER TABLE public.pp_child VALIDATE CONSTRAINT pp_positive;  -- takes only a SHARE UPDATE EXCLUSIVE lock" \
	"schema_advice() gives the statement that validates it"
q -c "ALTER TABLE pp_child VALIDATE CONSTRAINT pp_positive" >/dev/null
is "$(check not_valid_constraints)" "ok 0" "not_valid_constraints: 0 once validated"

# --- vacuum and analyze age ----------------------------------------------------
# flushed first, so that the vacuum resets every counted change
q -c "CREATE TABLE pp_aged (id int); INSERT INTO pp_aged SELECT generate_series(1, 100);" \
	-c "SELECT pg_stat_force_next_flush()" -c "VACUUM ANALYZE pp_aged" >/dev/null
vacuumed=$(date +%s)
sleep 3
q -c "INSERT INTO pp_aged VALUES (101); UPDATE pp_aged SET id = id WHERE id <= 5;" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "maintenance_age() sees the changes since the vacuum" \
	wait_for "SELECT changes_since_vacuum = 6 AND changes_since_analyze = 6 FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged'" 30
# each figure next to check_postgres's, taken just before it (perl starts slowly)
pm_v=$(q -c "SELECT extract(epoch FROM vacuum_age)::int FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged'")
cp_v=$(cpg last_vacuum --include=pp_aged -w 1s -c 1d | sed -n 's/.*pp_aged=\([0-9]*\)s.*/\1/p')
pm_a=$(q -c "SELECT extract(epoch FROM analyze_age)::int FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged'")
cp_a=$(cpg last_analyze --include=pp_aged -w 1s -c 1d | sed -n 's/.*pp_aged=\([0-9]*\)s.*/\1/p')
ok "vacuum_age of the table is the time since its vacuum ($pm_v s)" \
	test "$pm_v" -ge 3 -a "$pm_v" -le $(($(date +%s) - vacuumed + 1))
ok "check_postgres last_vacuum agrees ($cp_v s, pgmaint $pm_v s)" \
	test -n "$cp_v" -a $((cp_v - pm_v)) -ge -1 -a $((cp_v - pm_v)) -le 3
ok "check_postgres last_analyze agrees ($cp_a s, pgmaint $pm_a s)" \
	test -n "$cp_a" -a $((cp_a - pm_a)) -ge -1 -a $((cp_a - pm_a)) -le 3
q -c "UPDATE pgmaint.thresholds SET warning = 2 WHERE check_name IN ('vacuum_age', 'analyze_age')" >/dev/null
ok "vacuum_age warns past its threshold and names the table" \
	like "$(q -c "SELECT status || ': ' || message FROM $live_checks WHERE check_name = 'vacuum_age'")" \
	"warning: * the oldest, public.pp_aged, was vacuumed 00:0* ago (6 dead or inserted tuples since)*"
ok "analyze_age too" \
	like "$(q -c "SELECT status || ': ' || message FROM $live_checks WHERE check_name = 'analyze_age'")" \
	"warning: * the oldest, public.pp_aged, was analyzed 00:0* ago (6 modified tuples since)*"
q -c "VACUUM ANALYZE pp_aged" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "a table vacuumed and analyzed since is no longer counted" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pgmaint.maintenance_age() WHERE table_name = 'pp_aged' AND (changes_since_vacuum > 0 OR changes_since_analyze > 0))" 30
q -c "UPDATE pgmaint.thresholds SET warning = 604800 WHERE check_name IN ('vacuum_age', 'analyze_age')" >/dev/null

# --- WAL waiting for the archiver ---------------------------------------------
# archive_command fails: every switched segment stays .ready
for i in 1 2 3; do
	q -c "INSERT INTO pp_aged VALUES ($i)" -c "SELECT pg_switch_wal()" >/dev/null
done
ok "three segments wait for the archiver" \
	wait_for "SELECT count(*) >= 3 FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" 30
truth=$(ls "$dir/data/pg_wal/archive_status" | grep -c '\.ready$')
is "$(check archive_ready)" "ok $truth" "archive_ready counts the .ready files in archive_status ($truth)"
# check_postgres 2.25 lists pg_wal itself on PostgreSQL 10+ (pg_ls_waldir()),
# where no .ready file lives: it answers 0 whatever waits (README)
cp_ready=$(cpg archive_ready)
ok "check_postgres archive_ready misses them: 0 (it looks in pg_wal, not pg_wal/archive_status)" \
	like "$cp_ready" "POSTGRES_ARCHIVE_READY OK:*WAL \".ready\" files found: 0 *"
cell "WAL files waiting for a failing archiver" pgmaint "counts them"
[[ $cp_ready == *'files found: 0 '* ]] && cell "WAL files waiting for a failing archiver" check_postgres "0 (reads pg_wal, not archive_status)"
q -c "UPDATE pgmaint.thresholds SET warning = 2 WHERE check_name = 'archive_ready'" >/dev/null
ok "archive_ready warns at its threshold, with the oldest file's time" \
	like "$(q -c "SELECT status || ': ' || message FROM $live_checks WHERE check_name = 'archive_ready'")" \
	"warning: $truth WAL file(s) wait for the archiver, the oldest since * (archive_mode on)"
is "$(check archiver)" "warning 1" "the archiver check sees the failing archive_command too"
q -c "UPDATE pgmaint.thresholds SET warning = 10 WHERE check_name = 'archive_ready'" >/dev/null

# --- requested checkpoints ----------------------------------------------------
q -c "SELECT pg_stat_reset_shared('bgwriter')" >/dev/null
q -c "CHECKPOINT" -c "CHECKPOINT" >/dev/null
ok "two checkpoints are counted" \
	wait_for "SELECT checkpoints_req = 2 FROM pg_stat_bgwriter" 30
is "$(check checkpoints_requested)" "unknown null" "checkpoints_requested is unknown before 3 checkpoints"
q -c "CHECKPOINT" -c "CHECKPOINT" >/dev/null
ok "four checkpoints are counted" \
	wait_for "SELECT checkpoints_req = 4 AND checkpoints_timed = 0 FROM pg_stat_bgwriter" 30
is "$(check checkpoints_requested)" "warning 100.0" "checkpoints_requested: 4 of 4 requested, 100%"
ok "the message counts them and names max_wal_size" \
	like "$(message checkpoints_requested)" "4 of 4 checkpoints since * were requested, 0 timed (checkpoint_timeout 1h, max_wal_size 1GB)"
ok "the hint says to raise max_wal_size" \
	like "$(q -c "SELECT hint FROM $live_checks WHERE check_name = 'checkpoints_requested'")" "*raise max_wal_size*"

# --- connections by source ----------------------------------------------------
q -c "CREATE ROLE pp_app LOGIN" >/dev/null
for n in 1 2 3; do sess_open "pp_tcp$n" "host=127.0.0.1 user=pp_app application_name=pp_web" "SELECT 1;"; done
for n in 1 2; do sess_open "pp_sock$n" "user=pp_app application_name=pp_worker" "BEGIN; SELECT 1;"; done
ok "the five sessions are connected" \
	wait_for "SELECT count(*) = 5 FROM pg_stat_activity WHERE usename = 'pp_app' AND state IN ('idle', 'idle in transaction')" 30
is "$(q -c "SELECT string_agg(format('%s/%s/%s/%s total=%s idle=%s iit=%s', database, user_name, application_name,
                                      coalesce(host(client_addr), 'socket'), total, idle, idle_in_transaction), '; ')
              FROM pgmaint.connection_sources() WHERE user_name = 'pp_app'")" \
	"pgmaint_test/pp_app/pp_web/127.0.0.1 total=3 idle=3 iit=0; pgmaint_test/pp_app/pp_worker/socket total=2 idle=0 iit=2" \
	"connection_sources(): 3 over TCP from 127.0.0.1, 2 over the socket, by application"
for n in 1 2 3; do sess_close "pp_tcp$n"; done
for n in 1 2; do sess_close "pp_sock$n"; done

# --- idle in an aborted transaction ------------------------------------------
sess_open pp_aborted "user=pp_app" "BEGIN; SELECT 1/0;"
ok "a session idle in an aborted transaction" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pp_aborted' AND state = 'idle in transaction (aborted)')" 30
q -c "UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name IN ('idle_in_transaction', 'idle_in_transaction_aborted')" >/dev/null
is "$(q -c "SELECT message FROM $live_checks WHERE check_name = 'idle_in_transaction'")" \
	"no session is idle in a transaction" "idle_in_transaction leaves the aborted session out"
ok "idle_in_transaction_aborted counts it: a slot, no locks, no snapshot" \
	like "$(q -c "SELECT status || ': ' || message FROM $live_checks WHERE check_name = 'idle_in_transaction_aborted'")" \
	"warning: 1 session(s) idle in an aborted transaction, the oldest (pid *) for *: each holds a connection slot, no locks and no snapshot"
ok "its hint does not say it blocks vacuum" \
	test -z "$(q -c "SELECT 1 FROM $live_checks WHERE check_name = 'idle_in_transaction_aborted' AND hint ~* 'vacuum|lock'")"
sess_send_abort_ok=$(q -c "SELECT count(*) FROM pgmaint.connection_leaks('1 ms') WHERE state = 'idle in transaction (aborted)'")
is "$sess_send_abort_ok" "1" "connection_leaks() still lists it as a leak"
sess_close pp_aborted
q -c "UPDATE pgmaint.thresholds SET warning = 60 WHERE check_name = 'idle_in_transaction';
      UPDATE pgmaint.thresholds SET warning = 300 WHERE check_name = 'idle_in_transaction_aborted'" >/dev/null

# --- a vacuum in progress -----------------------------------------------------
# about 300 pages, vacuumed with the largest cost delay: it scans a few pages a second
q -c "CREATE TABLE pp_slow (id int, pad text) WITH (autovacuum_enabled = off);
      INSERT INTO pp_slow SELECT g, repeat('x', 200) FROM generate_series(1, 10000) g;
      DELETE FROM pp_slow WHERE id % 2 = 0;" >/dev/null
pages=$(q -c "SELECT pg_relation_size('pp_slow') / current_setting('block_size')::int")
sess_open pp_vacuum "dbname=pgmaint_test" "SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1; VACUUM pp_slow;"
ok "vacuum_progress() shows the vacuum scanning the heap" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pgmaint.vacuum_progress() WHERE table_name = 'pp_slow' AND phase = 'scanning heap' AND heap_blks_scanned > 0)" 60
is "$(q -c "SELECT heap_blks_total FROM pgmaint.vacuum_progress() WHERE table_name = 'pp_slow'")" "$pages" \
	"heap_blks_total is the table's size in pages ($pages)"
vac_pid=$(q -c "SELECT pid FROM pg_stat_progress_vacuum WHERE relid = 'pp_slow'::regclass")
judge "vacuum in progress" pgmaint "phase and blocks" \
	"$(q -c "SELECT 'phase and blocks' FROM pgmaint.vacuum_progress() WHERE pid = $vac_pid AND heap_blks_total = $pages")"
judge "vacuum in progress" pgHero "phase and blocks" \
	"$(peer pghero vacuum_progress | awk -F'|' -v p="$vac_pid" -v n="$pages" '$1 == p && $5 == n {print "phase and blocks"}')"
judge "vacuum in progress" pg-extras "phase and blocks" \
	"$(peer pg-extras vacuum_progress | awk -F'|' -v p="$vac_pid" -v n="$pages" '$4 == p && $6 == n {print "phase and blocks"}')"
is "$(q -c "SELECT percent = round(100.0 * heap_blks_scanned / heap_blks_total, 1) AND percent > 0 AND percent < 100
              AND NOT autovacuum AND NOT to_prevent_wraparound AND database = current_database()
              AND running_for >= '0 s' FROM pgmaint.vacuum_progress() WHERE table_name = 'pp_slow'")" "t" \
	"percent is the share of the heap scanned; a manual vacuum in this database"
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pp_vacuum'" >/dev/null
ok "no vacuum in progress after it is cancelled" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pgmaint.vacuum_progress())" 30
sess_close pp_vacuum

# --- the planted facts, each judged against the catalogs -----------------------
q -c "CREATE EXTENSION pgstattuple" >/dev/null

# duplicate indexes: the older never scanned, the newer scanned 5 times; truth:
# dropping both leaves column v without an index, so at most one may be suggested
q -c "CREATE TABLE pf_dup (id int, v int) WITH (autovacuum_enabled = off);
      INSERT INTO pf_dup SELECT g, g FROM generate_series(1, 20000) g;
      CREATE INDEX pf_dup_a ON pf_dup (v); CREATE INDEX pf_dup_b ON pf_dup (v); ANALYZE pf_dup;" >/dev/null
q -c "BEGIN; DROP INDEX pf_dup_a; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;" \
	-c "SELECT count(*) FROM pf_dup WHERE v = 1" -c "SELECT count(*) FROM pf_dup WHERE v = 2" \
	-c "SELECT count(*) FROM pf_dup WHERE v = 3" -c "SELECT count(*) FROM pf_dup WHERE v = 4" \
	-c "SELECT count(*) FROM pf_dup WHERE v = 5" -c "ROLLBACK" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "truth: pf_dup_a has 0 index scans, pf_dup_b 5" \
	wait_for "SELECT string_agg(indexrelname || '=' || idx_scan, ',' ORDER BY indexrelname) = 'pf_dup_a=0,pf_dup_b=5' FROM pg_stat_user_indexes WHERE relname = 'pf_dup'" 30
drops() {  # the names among pf_dup_a, pf_dup_b in the list on stdin, as "x+y" or "none"
	local got
	got=$(grep -o 'pf_dup_[ab]' | sort -u | paste -sd+)
	echo "${got:-none}"
}
verdict_dup() {
	case $1 in
		pf_dup_a+pf_dup_b) echo "unsafe: both dropped" ;;
		pf_dup_a) echo "safe: drops the unused one" ;;
		none) echo "none" ;;
		*) echo "safe: drops the scanned one" ;;
	esac
}
judge "duplicate pair, 0 and 5 scans" pgmaint "safe: drops the unused one" \
	"$(verdict_dup "$(q -c "SELECT index_name FROM pgmaint.index_advice() WHERE suggestion ~ 'DROP' AND table_name = 'pf_dup'::regclass" | drops)")"
judge "duplicate pair, 0 and 5 scans" pgHero "unsafe: both dropped" \
	"$(verdict_dup "$( { peer pghero duplicate_indexes | cut -d'|' -f3; peer pghero unused_indexes -v max_scans=0 | cut -d'|' -f3; } | drops)")"
judge "duplicate pair, 0 and 5 scans" pg-extras "unsafe: both dropped" \
	"$(verdict_dup "$( { peer pg-extras duplicate_indexes | cut -d'|' -f3-; peer pg-extras unused_indexes -v max_scans=50 -v schema=public | cut -d'|' -f2; } | drops)")"

# sequences past 90%: three smallint columns at 92%, 95% and 97.8% (never
# called: its start value), an integer column fed by a bigint sequence at 95%
q -c "CREATE SEQUENCE pf_s92 AS smallint; SELECT setval('pf_s92', 30146);
      CREATE SEQUENCE pf_s95 AS smallint; SELECT setval('pf_s95', 31129);
      CREATE SEQUENCE pf_s978 AS smallint START 32047;
      CREATE SEQUENCE pf_sbig; SELECT setval('pf_sbig', 2040109465);
      CREATE TABLE pf_seq (a smallint DEFAULT nextval('pf_s92'), b smallint DEFAULT nextval('pf_s95'),
                           c smallint DEFAULT nextval('pf_s978'), d integer DEFAULT nextval('pf_sbig'));" >/dev/null
truth=$(q -c "SELECT string_agg(s.sequencename, ',' ORDER BY s.sequencename)
                FROM pg_sequences s
                JOIN pg_attrdef d ON pg_get_expr(d.adbin, d.adrelid) LIKE '%' || s.sequencename || '%'
                JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
               WHERE s.sequencename LIKE 'pf_%'
                 AND coalesce(s.last_value, s.start_value)::numeric
                     / CASE a.atttypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647
                                       ELSE 9223372036854775807 END > 0.9")
is "$truth" "pf_s92,pf_s95,pf_s978,pf_sbig" "truth: four sequences past 90% of the column they feed (pg_sequences, pg_attribute)"
seqs() { grep -o 'pf_s[0-9a-z]*' | sort -u | paste -sd, ; }
verdict_seq() { [ "$1" = "$truth" ] && echo "all 4 named" || echo "${1:-none} named"; }
judge "sequences past 90%, one never called" pgmaint "all 4 named" \
	"$(verdict_seq "$(q -c "SELECT sequence_name FROM pgmaint.sequences(90)" | seqs)")"
ok "the sequences check says how many: 4" \
	like "$(message sequences)" "4 sequences have used 75% or more of their range*"
judge "sequences past 90%, one never called" pgHero "all 4 named" \
	"$(verdict_seq "$(peer pghero sequence_danger -v threshold=0.9 | cut -d'|' -f6 | seqs)")"
cell "sequences past 90%, one never called" pg-extras "no query"
q -c "DROP TABLE pf_seq; DROP SEQUENCE pf_s92, pf_s95, pf_s978, pf_sbig" >/dev/null

# a small unused index (no scan since the reset, about 450 kB)
q -c "CREATE TABLE pf_small (id int, w int) WITH (autovacuum_enabled = off);
      INSERT INTO pf_small SELECT g, g FROM generate_series(1, 20000) g;
      CREATE INDEX pf_small_w ON pf_small (w)" -c "VACUUM ANALYZE pf_small" >/dev/null
is "$(q -c "SELECT idx_scan = 0 AND pg_relation_size('pf_small_w') < 1048576 FROM pg_stat_user_indexes WHERE indexrelname = 'pf_small_w'")" "t" \
	"truth: pf_small_w has 0 scans and is under 1 MB"
listed() { grep -q "$1" && echo "listed" || echo "not listed"; }
judge "small unused index" pgmaint "listed" "$(q -c "SELECT index_name FROM pgmaint.index_advice() WHERE kind = 'unused'" | listed pf_small_w)"
judge "small unused index" pgHero "listed" "$(peer pghero unused_indexes -v max_scans=0 | listed pf_small_w)"
judge "small unused index" pg-extras "listed" "$(peer pg-extras unused_indexes -v max_scans=50 -v schema=public | listed pf_small_w)"

# index bloat: 90% of the rows deleted and not vacuumed; truth: what REINDEX reclaims
q -c "CREATE TABLE pf_bloat (id int, pad text) WITH (autovacuum_enabled = off);
      INSERT INTO pf_bloat SELECT g, 'x' FROM generate_series(1, 200000) g;
      CREATE INDEX pf_bloat_id ON pf_bloat (id);
      DELETE FROM pf_bloat WHERE id % 10 <> 0" -c "ANALYZE pf_bloat" >/dev/null
before=$(q -c "SELECT pg_relation_size('pf_bloat_id')")
pm_exact=$(q -c "SELECT wasted_bytes FROM pgmaint.bloat(true) WHERE relid = 'pf_bloat_id'::regclass")
ph_bloat=$(peer pghero index_bloat -v min_size=0 | awk -F'|' '$3 == "pf_bloat_id" {print $4}')
px_bloat=$(peer pg-extras bloat | awk -F'|' '$3 == "pf_bloat::pf_bloat_id" {print $5}')
q -c "REINDEX INDEX pf_bloat_id" >/dev/null
reclaimed=$((before - $(q -c "SELECT pg_relation_size('pf_bloat_id')")))
ok "truth: REINDEX reclaimed $reclaimed bytes" test "$reclaimed" -gt 0
bytes() { q -c "SELECT coalesce(pg_size_bytes(nullif('$1', '')), -1)"; }
verdict_bloat() {  # within a quarter of what REINDEX reclaimed, or the share it saw
	local b=$1
	if [ "$b" -lt 0 ]; then echo "not listed"
	elif [ $((4 * (b - reclaimed))) -le "$reclaimed" ] && [ $((4 * (reclaimed - b))) -le "$reclaimed" ]; then echo "within 25% of REINDEX"
	elif [ "$b" -lt "$reclaimed" ]; then echo "under: $((100 * b / reclaimed / 10 * 10))-$((100 * b / reclaimed / 10 * 10 + 10))% of it"
	else echo "over: $((100 * b / reclaimed / 100 * 100))%+ of it"; fi
}
judge "index bloat of dead rows, before VACUUM" pgmaint "within 25% of REINDEX" "$(verdict_bloat "${pm_exact:--1}")"
judge "index bloat of dead rows, before VACUUM" pgHero "within 25% of REINDEX" "$(verdict_bloat "${ph_bloat:--1}")"
judge "index bloat of dead rows, before VACUUM" pg-extras "within 25% of REINDEX" \
	"$(verdict_bloat "$(bytes "$px_bloat")")"
q -c "DROP TABLE pf_bloat" >/dev/null

# sizes behind a queued ACCESS EXCLUSIVE: a reader holds pf_small, an ALTER
# TABLE waits for it, and every size query then waits behind the ALTER
sess_open pf_holder "dbname=pgmaint_test" "BEGIN; SELECT count(*) FROM pf_small;"
ok "a session holds ACCESS SHARE on pf_small" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pf_holder' AND l.relation = 'pf_small'::regclass AND l.granted)" 30
sess_open pf_ddl "dbname=pgmaint_test" "ALTER TABLE pf_small ADD COLUMN z int;"
ok "truth: an ACCESS EXCLUSIVE request waits on pf_small (pg_locks)" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'pf_small'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted)" 30
# answers within 2 s, or "waits"
timed() { q -c "SET statement_timeout = '2s'" "$@" >/dev/null 2>&1 && echo "answers at once" || echo "waits behind the DDL"; }
judge "sizes behind a queued ACCESS EXCLUSIVE" pgmaint "answers at once" "$(timed -c "SELECT * FROM pgmaint.table_sizes()")"
is "$(q -c "SELECT total_bytes IS NULL AND note LIKE 'not measured: %' FROM pgmaint.table_sizes() WHERE table_name = 'pf_small'")" "t" \
	"table_sizes() says it did not measure pf_small"
judge "sizes behind a queued ACCESS EXCLUSIVE" pgHero "waits behind the DDL" "$(timed -f "$fixtures/pghero/table_sizes.sql")"
judge "sizes behind a queued ACCESS EXCLUSIVE" pg-extras "waits behind the DDL" "$(timed -f "$fixtures/pg-extras/table_size.sql")"
sess_close pf_holder
ok "the ALTER TABLE goes through once the reader ends" \
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'pf_small'::regclass AND NOT granted)" 30
sess_close pf_ddl

# an insert-only table never vacuumed, past twice its insert threshold
q -c "VACUUM pf_dup" -c "CREATE TABLE pf_ins (id int); INSERT INTO pf_ins SELECT generate_series(1, 5000)" -c "SELECT pg_stat_force_next_flush()" >/dev/null
ok "truth: 5000 inserts since no vacuum, insert threshold 1000 (pg_stat_user_tables, settings)" \
	wait_for "SELECT n_ins_since_vacuum = 5000 AND last_vacuum IS NULL AND last_autovacuum IS NULL
                     AND current_setting('autovacuum_vacuum_insert_threshold')::int = 1000 FROM pg_stat_user_tables WHERE relname = 'pf_ins'" 30
# (the check itself may read the worker's sample of a minute ago: vacuum_stats() is now)
judge "insert-only table never vacuumed" pgmaint "flagged" \
	"$(q -c "SELECT CASE WHEN falling_behind THEN 'flagged' ELSE 'not flagged' END FROM pgmaint.vacuum_stats() WHERE table_name = 'pf_ins'")"
judge "insert-only table never vacuumed" pgHero "shown, not flagged" \
	"$(peer pghero maintenance_info | awk -F'|' '$2 == "pf_ins" && $4 == "" && $5 == "" {print "shown, not flagged"}')"
judge "insert-only table never vacuumed" pg-extras "flagged" \
	"$(peer pg-extras vacuum_stats | awk -F'|' '$2 == "pf_ins" {print ($12 == "yes (inserts)" ? "flagged" : "not flagged")}')"
q -c "VACUUM pf_ins" >/dev/null

# a TOAST table older than its heap, in transaction ids and multixacts
q -c "CREATE TABLE pf_old (id int PRIMARY KEY, t text) WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
      INSERT INTO pf_old VALUES (1, 'a'), (2, 'b');" \
	-c "DO \$\$ BEGIN FOR i IN 1..300 LOOP PERFORM txid_current(); COMMIT; END LOOP; END \$\$" \
	-c "BEGIN" -c "SELECT id FROM pf_old WHERE id = 1 FOR KEY SHARE" -c "SAVEPOINT s" \
	-c "SELECT id FROM pf_old WHERE id = 1 FOR UPDATE" -c "COMMIT" >/dev/null
q >/dev/null <<'SQL'
SELECT format('VACUUM (FREEZE) %s', c.oid::regclass) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp)' AND c.oid <> 'pf_old'::regclass
\gexec
SQL
q -c "VACUUM (FREEZE, PROCESS_TOAST false) pf_old" >/dev/null
read -r xage mage <<<"$(q -F ' ' -c "SELECT greatest(age(c.relfrozenxid), age(t.relfrozenxid)), greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid))
                                        FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = 'pf_old'::regclass")"
is "$(q -c "SELECT age(t.relfrozenxid) > age(c.relfrozenxid) AND mxid_age(t.relminmxid) > mxid_age(c.relminmxid)
              FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = 'pf_old'::regclass")" "t" \
	"truth: pf_old's TOAST table is older than its heap (xid age $xage, multixact age $mage)"
verdict_age() { [ "$1" = "$2" ] && echo "the TOAST table's age" || echo "${1:-none}"; }
judge "TOAST older than heap: xid age" pgmaint "the TOAST table's age" \
	"$(verdict_age "$(q -c "SELECT xid_age FROM pgmaint.vacuum_stats() WHERE table_name = 'pf_old'")" "$xage")"
ok "the xid_wraparound check names pf_old and its TOAST table" \
	like "$(message xid_wraparound)" "*the oldest table here is public.pf_old, xid age * (its TOAST table's, older than its own)"
judge "TOAST older than heap: xid age" pgHero "the TOAST table's age" \
	"$(verdict_age "$(peer pghero transaction_id_danger -v max_value=2146483648 -v threshold=2146483648 | awk -F'|' '$2 == "pf_old" {print 2146483648 - $3}')" "$xage")"
cell "TOAST older than heap: xid age" pg-extras "no query"
judge "TOAST older than heap: multixact age" pgmaint "the TOAST table's age" \
	"$(verdict_age "$(q -c "SELECT mxid_age FROM pgmaint.vacuum_stats() WHERE table_name = 'pf_old'")" "$mage")"
cell "TOAST older than heap: multixact age" pgHero "no query (xid only)"
cell "TOAST older than heap: multixact age" pg-extras "no query"
q -c "DROP TABLE pf_old" >/dev/null

# idle in a transaction for 2 seconds and more
sess_open pf_idle "dbname=pgmaint_test application_name=pf_idle" "BEGIN; SELECT 1;"
ok "truth: a session idle in a transaction for 2 s (pg_stat_activity)" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pf_idle' AND state = 'idle in transaction' AND now() - state_change > interval '2 s')" 30
q -c "UPDATE pgmaint.thresholds SET warning = 1 WHERE check_name = 'idle_in_transaction'" >/dev/null
idle_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pf_idle'")
judge "idle in transaction" pgmaint "warns" \
	"$(q -c "SELECT CASE WHEN status = 'warning' AND message LIKE '%(pid $idle_pid)%' THEN 'warns' ELSE status END FROM $live_checks WHERE check_name = 'idle_in_transaction'")"
judge "idle in transaction" pgHero "warns, as a long running query" \
	"$(peer pghero long_running_queries -v min_duration=1 | awk -F'|' -v p="$idle_pid" '$1 == p && $2 == "idle in transaction" {print "warns, as a long running query"}')"
judge "idle in transaction" pg-extras "listed as a long running query" \
	"$(peer pg-extras long_running_queries -v threshold='1 second' | awk -F'|' -v p="$idle_pid" '$1 == p {print "listed as a long running query"}')"
q -c "UPDATE pgmaint.thresholds SET warning = 60 WHERE check_name = 'idle_in_transaction'" >/dev/null

# lock pairs: pf_idle holds ACCESS SHARE on pf_small, pf_ddl waits for
# ACCESS EXCLUSIVE, pf_reader waits behind pf_ddl (not behind pf_idle)
q -c "SELECT 1" >/dev/null
echo "SELECT count(*) FROM pf_small;" >&"${sess_fd[pf_idle]}"
ok "pf_idle holds ACCESS SHARE on pf_small" \
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $idle_pid AND relation = 'pf_small'::regclass AND granted)" 30
sess_open pf_ddl2 "dbname=pgmaint_test application_name=pf_ddl2" "ALTER TABLE pf_small ADD COLUMN y int;"
ok "pf_ddl2 waits" wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pf_ddl2' AND wait_event_type = 'Lock')" 30
sess_open pf_reader "dbname=pgmaint_test application_name=pf_reader" "SELECT count(*) FROM pf_small;"
ok "pf_reader waits" wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pf_reader' AND wait_event_type = 'Lock')" 30
ddl_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pf_ddl2'")
reader_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pf_reader'")
pairs_truth=$(q -c "SELECT string_agg(w.pid || '>' || b, ',' ORDER BY w.pid, b) FROM pg_stat_activity w, unnest(pg_blocking_pids(w.pid)) b WHERE w.pid IN ($ddl_pid, $reader_pid)")
is "$pairs_truth" "$(printf '%s\n' "$ddl_pid>$idle_pid" "$reader_pid>$ddl_pid" | sort -t'>' -k1,1n -k2,2n | paste -sd,)" \
	"truth: pg_blocking_pids pairs pf_ddl with pf_idle and pf_reader with pf_ddl"
verdict_pairs() {
	local got
	got=$(sort -u | sort -t'>' -k1,1n -k2,2n | paste -sd,)
	[ "$got" = "$pairs_truth" ] && echo "the 2 true pairs" || { [ -z "$got" ] && echo "no pair" || echo "wrong pairs"; }
}
judge "lock pairs behind a queued ACCESS EXCLUSIVE" pgmaint "the 2 true pairs" \
	"$(q -c "SELECT blocked_pid || '>' || blocking_pid FROM pgmaint.blocking_locks() WHERE blocked_pid IN ($ddl_pid, $reader_pid)" | verdict_pairs)"
judge "lock pairs behind a queued ACCESS EXCLUSIVE" pgHero "wrong pairs" \
	"$(peer pghero blocked_queries | awk -F'|' -v a="$ddl_pid" -v b="$reader_pid" '($2 == a || $2 == b) && $7 != "" {print $2 ">" $7}' | verdict_pairs)"
judge "lock pairs behind a queued ACCESS EXCLUSIVE" pg-extras "no pair" \
	"$(peer pg-extras blocking -v limit=10 | awk -F'|' -v a="$ddl_pid" -v b="$reader_pid" '$1 == a || $1 == b {print $1 ">" $4}' | verdict_pairs)"
sess_close pf_idle
ok "the waits end with pf_idle" wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'pf_small'::regclass AND NOT granted)" 30
sess_close pf_ddl2
sess_close pf_reader

# an invalid index (a failed concurrent build) beside a valid one on the same column
q -c "CREATE TABLE pf_inv (x int) WITH (autovacuum_enabled = off); INSERT INTO pf_inv VALUES (1), (1);
      CREATE INDEX pf_inv_ok ON pf_inv (x)" >/dev/null
q -c "CREATE UNIQUE INDEX CONCURRENTLY pf_inv_bad ON pf_inv (x)" >/dev/null 2>&1
is "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'pf_inv_bad'::regclass")" "f" "truth: pf_inv_bad is invalid (pg_index)"
verdict_inv() { grep -q pf_inv_bad && echo "calls it a duplicate" || echo "not a duplicate"; }
judge "invalid index beside a valid one" pgmaint "not a duplicate" \
	"$(q -c "SELECT index_name FROM pgmaint.index_advice(0, 0) WHERE kind = 'duplicate'" | verdict_inv)"
is "$(q -c "SELECT kind FROM pgmaint.index_advice(0, 0) WHERE index_name = 'pf_inv_bad'::regclass")" "invalid" "index_advice() calls it invalid"
judge "invalid index beside a valid one" pgHero "not a duplicate" "$(peer pghero duplicate_indexes | cut -d'|' -f3,4 | verdict_inv)"
judge "invalid index beside a valid one" pg-extras "calls it a duplicate" "$(peer pg-extras duplicate_indexes | verdict_inv)"
q -c "DROP TABLE pf_inv" >/dev/null

# an unused partitioned index: only the parent can be dropped
q -c "CREATE TABLE pf_part (id int, v int) PARTITION BY RANGE (id);
      CREATE TABLE pf_part_1 PARTITION OF pf_part FOR VALUES FROM (0) TO (10000);
      CREATE TABLE pf_part_2 PARTITION OF pf_part FOR VALUES FROM (10000) TO (20000);
      INSERT INTO pf_part SELECT g, g FROM generate_series(0, 19999) g;
      CREATE INDEX pf_part_v ON pf_part (v)" >/dev/null
is "$(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pf_part_v'::regclass")" "2" "truth: pf_part_v is a partitioned index over 2 partitions"
verdict_part() {
	local rows
	rows=$(cat)
	if grep -qx 'pf_part_v' <<<"$rows"; then echo "suggests the parent"
	elif grep -q 'pf_part_[12]_v' <<<"$rows"; then echo "lists the partitions' indexes"
	else echo "not listed"; fi
}
judge "unused partitioned index" pgmaint "suggests the parent" \
	"$(q -c "SELECT index_name FROM pgmaint.index_advice() WHERE kind = 'unused'" | verdict_part)"
judge "unused partitioned index" pgHero "lists the partitions' indexes" "$(peer pghero unused_indexes -v max_scans=0 | cut -d'|' -f3 | verdict_part)"
judge "unused partitioned index" pg-extras "lists the partitions' indexes" \
	"$(peer pg-extras unused_indexes -v max_scans=50 -v schema=public | cut -d'|' -f2 | verdict_part)"
q -c "DROP TABLE pf_part" >/dev/null

# an inactive replication slot
q -c "SELECT pg_create_physical_replication_slot('pf_slot', true)" >/dev/null
is "$(q -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'pf_slot'")" "f" "truth: pf_slot is inactive (pg_replication_slots)"
judge "inactive replication slot" pgmaint "warns" \
	"$(q -c "SELECT CASE WHEN status = 'warning' AND message LIKE '%pf_slot%' THEN 'warns' ELSE status END FROM $live_checks WHERE check_name = 'inactive_slots'")"
judge "inactive replication slot" pgHero "warns" "$(peer pghero replication_slots | awk -F'|' '$1 == "pf_slot" && $3 == "f" {print "warns"}')"
cell "inactive replication slot" pg-extras "no query"
q -c "SELECT pg_drop_replication_slot('pf_slot')" >/dev/null
q -c "DROP TABLE pf_dup, pf_small, pf_ins" >/dev/null

# --- the comparison table: what this run observed, against docs/compare.md -------
render() {
	local fact
	echo "| Fact (planted, judged against the catalogs) | pgmaint | pgHero | pg-extras | check_postgres 2.25 |"
	echo "|---|---|---|---|---|"
	cut -f1 "$observed" | awk '!seen[$0]++' | while IFS= read -r fact; do
		printf '| %s | %s | %s | %s | %s |\n' "$fact" \
			"$(awk -F'\t' -v f="$fact" '$1 == f && $2 == "pgmaint" {print $3}' "$observed" | grep . || echo "not run")" \
			"$(awk -F'\t' -v f="$fact" '$1 == f && $2 == "pgHero" {print $3}' "$observed" | grep . || echo "not run")" \
			"$(awk -F'\t' -v f="$fact" '$1 == f && $2 == "pg-extras" {print $3}' "$observed" | grep . || echo "not run")" \
			"$(awk -F'\t' -v f="$fact" '$1 == f && $2 == "check_postgres" {print $3}' "$observed" | grep . || echo "not run")"
	done
}
render >"$dir/compare.md"
[ -n "${PGM_TMP:-}" ] && cp "$dir/compare.md" "$PGM_TMP/peer_parity.compare.md"
sed 's/^/# /' "$dir/compare.md"
sed -n '/<!-- peer-parity -->/,/<!-- \/peer-parity -->/p' "$docs" | sed '1d;$d' >"$dir/documented.md"
ok "docs/compare.md's table is the table this run observed" diff -u "$dir/documented.md" "$dir/compare.md"

q -c "DROP TABLE pp_child, pp_parent, pp_aged, pp_slow; DROP FUNCTION pp_noop(); DROP ROLE pp_app" >/dev/null
finish

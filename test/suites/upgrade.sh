#!/usr/bin/env bash
# Every released version's upgrade to the current one, on a cluster of its own
# that preloads pg_cron and pgmaint (the current library) with the worker in
# the database of the oldest version.  For each released version V (every
# sql/released/pgmaint--V.sql):
#   - CREATE EXTENSION pgmaint VERSION 'V', a user's edits, ALTER EXTENSION
#     pgmaint UPDATE; the upgraded database then describes every object the
#     extension owns exactly as a fresh install in another database does
#     (upgrade_describe.sql, compared by upgrade_compare.py);
#   - the user's rows are kept, seed rows read as in a fresh install;
#   - pg_dump -Fc / pg_restore of the upgraded database works;
#   - a database left at V keeps working with the current library.
# Once: the worker keeps sampling across the update of the oldest version,
# and the comparison is shown to notice a missing comment and a missing grant.
# A failing comparison prints every difference; the upgrade to fix is the
# state delta sql/upgrade/A--B.sql (the code is replayed from sql/code/).
# versions: 15 17
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"

current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$top/pgmaint.control")
released=$(ls "$top"/sql/released/pgmaint--*.sql | sed -n 's#.*/pgmaint--\([0-9.]*\)\.sql$#\1#p' | sort -V)
oldest=$(echo "$released" | head -n 1)
dir="$PGM_TMP/upgrade"
work="$PGM_TMP/upgrade-work"
port=$PGM_PORT_BASE
mkdir -p "$work"
# database names of version V
dbname() { echo "pgm_$1_$(echo "$2" | tr . _)"; }
sampled=$(dbname upgraded "$oldest")

trap 'pgm_cluster_stop "$dir"' EXIT
pgm_cluster_init "$dir" "$port" "$sampled" pg_cron,pgmaint || { echo "not ok - initdb"; exit 1; }
cat >>"$dir/data/postgresql.conf" <<'CONF'
pgmaint.sample_interval = '1s'
CONF
pgm_cluster_start "$dir" || { echo "not ok - the cluster did not start"; exit 1; }
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=$sampled
export UPGRADE_TO=$current

is "$(echo "$released" | tr '\n' ' ')" "1.0 1.1 " "the released versions are 1.0 and 1.1 (and the test covers each)"
for d in pgm_fresh pgm_fresh_tuned pgm_restored; do
	q -d postgres -c "CREATE DATABASE $d" >/dev/null || { echo "not ok - CREATE DATABASE $d"; exit 1; }
done
ok "CREATE EXTENSION pgmaint gives $current" q -d pgm_fresh -c "CREATE EXTENSION pgmaint"
is "$(q -d pgm_fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'pgmaint'")" "$current" \
	"a fresh install is at $current"
describe() { q -d "$1" -f "$here/upgrade_describe.sql" >"$2"; }
describe pgm_fresh "$work/fresh.json"
# what grant_tuning() gives a role is the user's: a fresh install with the
# same grant is what an upgraded database that had it must describe
q -d postgres -c "CREATE ROLE pgm_upgrade_tuner" >/dev/null
q -d pgm_fresh_tuned -c "CREATE EXTENSION pgmaint" -c "SELECT pgmaint.grant_tuning('pgm_upgrade_tuner', true)" >/dev/null
describe pgm_fresh_tuned "$work/fresh-tuned.json"
rows_of() { q -d "$1" -f "$here/upgrade_rows.sql" >"$2"; }
rows_of pgm_fresh "$work/fresh_rows.json"
is "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(k.startswith("function ") and k.endswith(" :: definition") for k in d))' "$work/fresh.json")" \
	"$(q -d pgm_fresh -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgmaint'::regnamespace")" \
	"the description covers every function of the schema"

# The user's edits on version $2 in database $1: thresholds changed and one
# disabled, a custom profile and an edited one, tables tuned by hand (pinned
# table_policy rows), audit rows, a backup and its verify; from 1.1 on also a
# retention rule and a tuning role.
user_edits() {
	local db=$1 v=$2
	q -d "$db" <<'SQL' >/dev/null || return 1
UPDATE pgmaint.thresholds SET warning = 70, critical = 85, description = 'our pool is small'
 WHERE check_name = 'connections';
UPDATE pgmaint.thresholds SET enabled = false WHERE check_name = 'cache_hit';
INSERT INTO pgmaint.profiles (name, reloptions, description)
VALUES ('cache_fill', '{fillfactor=70,autovacuum_vacuum_scale_factor=0.01}', 'a user''s profile');
UPDATE pgmaint.profiles SET description = 'edited by the user' WHERE name = 'moderate';
CREATE TABLE public.agent_cache (cache_key text PRIMARY KEY, value text, created_at timestamptz DEFAULT now());
CREATE TABLE public.token_usage (id bigint PRIMARY KEY, tokens int);
SELECT pgmaint.tune_table('public.agent_cache', 'cache_fill');
SELECT pgmaint.tune_table('public.token_usage', 'insert_heavy');
SELECT * FROM pgmaint.terminate_leaks('1 day');
SELECT pgmaint._backup_record('backup', 'ok', now() - interval '2 hours',
                              file => '/b/db_20260101T020000Z.dump', format => 'custom',
                              bytes => 1000, sha256 => repeat('a', 64), verified => true,
                              row_counts => '{"public.agent_cache": 0}') AS b \gset
SELECT pgmaint._backup_record('verify', 'ok', now() - interval '1 hour',
                              file => '/b/db_20260101T020000Z.dump', backup_id => :b);
SQL
	[ "$v" = 1.0 ] && return 0
	q -d "$db" <<'SQL' >/dev/null
SELECT pgmaint.grant_tuning('pgm_upgrade_tuner', true);
SELECT pgmaint.set_retention('public.agent_cache', 'created_at', '30 days');
SQL
}

# --- every released version, as users have it, updated ------------------------------
for v in $released; do
	export UPGRADE_FROM=$v
	db=$(dbname upgraded "$v")
	pristine=$(dbname pristine "$v")
	old=$(dbname old "$v")
	for d in "$db" "$pristine" "$old"; do
		q -d postgres -c "CREATE DATABASE $d" >/dev/null || { echo "not ok - CREATE DATABASE $d"; exit 1; }
	done
	ok "$v: CREATE EXTENSION pgmaint VERSION '$v'" q -d "$db" -c "CREATE EXTENSION pgmaint VERSION '$v'"
	q -d "$pristine" -c "CREATE EXTENSION pgmaint VERSION '$v'" >/dev/null
	q -d "$old" -c "CREATE EXTENSION pgmaint VERSION '$v'" >/dev/null
	ok "$v: the user's edits" user_edits "$db" "$v"
	is "$(q -d "$db" -c "SELECT count(*) FILTER (WHERE pinned) || '/' || count(*) FROM pgmaint.table_policy"),$(q -d "$db" -c "SELECT count(*) > 0 FROM pgmaint.actions"),$(q -d "$db" -c "SELECT count(*) FROM pgmaint.backups")" \
		"2/2,t,2" "$v: two pinned table_policy rows, audit rows, two backups rows"
	rows_of "$pristine" "$work/pristine-$v.json"
	rows_of "$db" "$work/before-$v.json"

	if [ "$db" = "$sampled" ]; then
		ok "$v: the worker samples the $v database" \
			wait_for "SELECT running AND samples_taken > 2 AND database = '$db' FROM pgmaint.sampler_status()" 60
		taken=$(q -c "SELECT samples_taken FROM pgmaint.sampler_status()")
		persisted=$(q -c "SELECT count(*) FROM pgmaint.sample_history")
	fi

	ok "$v: ALTER EXTENSION pgmaint UPDATE" q -d "$db" -c "ALTER EXTENSION pgmaint UPDATE"
	is "$(q -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'pgmaint'")" "$current" \
		"$v: the database is at $current"

	# the upgraded catalog is a fresh install's
	describe "$db" "$work/upgraded-$v.json"
	fresh=$work/fresh-tuned.json
	[ "$v" = 1.0 ] && fresh=$work/fresh.json
	/usr/bin/python3 "$here/upgrade_compare.py" catalog "$work/upgraded-$v.json" "$fresh" \
		"$work/keys-$v" >"$work/compare-$v.out" 2>&1
	rc=$?
	ok "$v: the upgraded database describes every object as a fresh $current install does" test "$rc" = 0
	sed -n '/^#/p' "$work/compare-$v.out"
	grep -v '^#' "$work/compare-$v.out" | sed 's/^/# /' | head -n 20

	# the user's rows, and the seed rows
	rows_of "$db" "$work/after-$v.json"
	/usr/bin/python3 "$here/upgrade_compare.py" rows "$work/pristine-$v.json" "$work/before-$v.json" \
		"$work/after-$v.json" "$work/fresh_rows.json" >"$work/rows-$v.out" 2>&1
	rc=$?
	ok "$v: the user's rows are kept; seed rows read as in a fresh $current install" test "$rc" = 0
	cat "$work/rows-$v.out"
	is "$(q -d "$db" -c "SELECT warning || '/' || critical || '/' || enabled FROM pgmaint.thresholds WHERE check_name = 'connections'") $(q -d "$db" -c "SELECT enabled FROM pgmaint.thresholds WHERE check_name = 'cache_hit'")" \
		"70/85/true f" "$v: the edited and the disabled threshold keep the user's values"
	is "$(q -d "$db" -c "SELECT count(*) FROM pgmaint.health_checks() WHERE check_name = 'cache_hit'")" "0" \
		"$v: the disabled check stays omitted after the update"
	if [ "$v" != 1.0 ]; then
		is "$(q -d "$db" -c "SELECT has_function_privilege('pgm_upgrade_tuner', 'pgmaint.tune_table(regclass, text)', 'EXECUTE')")" "t" \
			"$v: the tuning role keeps what grant_tuning() gave it"
		is "$(q -d "$db" -c "SELECT count(*) FROM pgmaint.retention_plan() WHERE table_name = 'public.agent_cache'::regclass")" "1" \
			"$v: the retention rule is kept"
	fi

	# pg_dump / pg_restore of the upgraded database
	q -d postgres -c "DROP DATABASE IF EXISTS pgm_restored" -c "CREATE DATABASE pgm_restored" >/dev/null
	ok "$v: pg_dump -Fc of the upgraded database" "$PGM_BIN/pg_dump" -Fc -f "$work/upgraded-$v.dump" "$db"
	ok "$v: pg_restore into a new database" "$PGM_BIN/pg_restore" --exit-on-error -d pgm_restored "$work/upgraded-$v.dump"
	config_state() {
		q -d "$1" <<'SQL'
SELECT 'threshold', check_name, warning, critical, enabled, description FROM pgmaint.thresholds ORDER BY check_name;
SELECT 'profile', name, reloptions::text, description FROM pgmaint.profiles ORDER BY name;
SELECT 'policy', relid::text, profile, source, pinned, applied_at, options::text, replaced::text
  FROM pgmaint.table_policy ORDER BY relid::text;
SELECT 'reloptions', c.oid::regclass::text, c.reloptions::text FROM pg_class c
 WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace ORDER BY 2;
SQL
	}
	is "$(q -d pgm_restored -c "SELECT extversion FROM pg_extension WHERE extname = 'pgmaint'")" "$current" \
		"$v: the restored database has pgmaint $current"
	is "$(config_state pgm_restored)" "$(config_state "$db")" \
		"$v: the restored database keeps thresholds, profiles, table_policy and reloptions"

	# a database left at V works with the current library
	is "$(q -d "$old" -c "SELECT extversion FROM pg_extension WHERE extname = 'pgmaint'")" "$v" \
		"$v: another database stays at $v"
	for call in \
		"SELECT pgmaint.health()->>'status' IS NOT NULL" \
		"SELECT count(*) > 0 FROM pgmaint.health_checks()" \
		"SELECT length(pgmaint.report()) > 0" \
		"SELECT length(pgmaint.metrics()) > 0" \
		"SELECT count(*) >= 0 FROM pgmaint.samples()" \
		"SELECT running IS NOT NULL FROM pgmaint.sampler_status()" \
		"SELECT count(*) >= 0 FROM pgmaint.vacuum_stats()" \
		"SELECT count(*) >= 0 FROM pgmaint.cache_hit_tables()" \
		"SELECT count(*) >= 0 FROM pgmaint.terminate_leaks('5 min', true)" \
		"SELECT count(*) > 0 FROM pgmaint.settings_advice()" \
		"SELECT count(*) > 0 FROM pgmaint.checklist()"; do
		is "$(q -d "$old" -c "$call" 2>&1)" "t" "$v with the $current library: $call"
	done
done

# --- the worker keeps sampling across the update of the oldest version ----------------
ok "the worker keeps sampling after the update (more than $taken samples, running)" \
	wait_for "SELECT running AND samples_taken > $taken + 2 FROM pgmaint.sampler_status()" 60
ok "the worker keeps writing sample_history after the update" \
	wait_for "SELECT count(*) > $persisted + 1 FROM pgmaint.sample_history" 60
is "$(q -c "SELECT coalesce(last_error, '') FROM pgmaint.sampler_status()")" "" "the worker reports no error"
is "$(q -c "SELECT pgmaint.health()->'sampler'->>'running'")" "true" "health() on $current sees the sampler running"

# --- the comparison notices a missing comment and a missing grant ---------------------
q -c "COMMENT ON FUNCTION pgmaint.report() IS NULL" -c "REVOKE EXECUTE ON FUNCTION pgmaint.metrics() FROM pg_monitor" >/dev/null
describe "$sampled" "$work/planted.json"
UPGRADE_FROM=$oldest /usr/bin/python3 "$here/upgrade_compare.py" catalog "$work/planted.json" "$work/fresh.json" \
	"$work/keys-planted" >"$work/compare-planted.out" 2>&1
rc=$?
# (differences the first comparison found already are left out: they failed above)
is "$rc/$(grep -vxF -f "$work/keys-$oldest" "$work/keys-planted" 2>/dev/null | tr '\n' ';')" \
	"1/function pgmaint.metrics() :: acl;function pgmaint.report() :: comment;" \
	"without one comment and one grant, the comparison reports exactly those two"
sed -n '/^#/p' "$work/compare-planted.out"

finish

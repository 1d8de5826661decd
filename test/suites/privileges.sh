#!/usr/bin/env bash
# Privileges: the ACL test and the privilege matrix.
#
#  - ACL test: every function's ACL, on a fresh install and on a 1.0
#    install updated to the current version, printed and compared with the matrix in
#    docs/security.md (the matrix): no function for PUBLIC, pg_monitor exactly where
#    the matrix says, nobody else; and the two installs agree.
#  - Privilege matrix: a plain role, pg_monitor, pg_read_all_stats only, a
#    table owner given grant_tuning(), one given grant_tuning(..., true) and
#    a superuser call every function (NULL arguments, rolled back): who gets
#    past the EXECUTE check must be what the matrix says.
#  - A tuning role cannot forge rows through the policy helpers (a NULL
#    caller, another role's table) nor wipe another role's advice.
. "$(dirname "$0")/../lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
base=${PGM_PORT_BASE:?}
dir="$PGM_TMP/privileges"
export PGHOST=$dir PGPORT=$base PGUSER=postgres PGDATABASE=fresh
trap 'pgm_cluster_stop "$dir"' EXIT

pgm_cluster_init "$dir" "$base" fresh pgmaint || exit 1
# the worker's own policy runs would race the advice checks below
echo "pgmaint.policy = off" >>"$dir/data/postgresql.conf"
pgm_cluster_start "$dir" || exit 1
q -d postgres -c 'CREATE DATABASE fresh' -c 'CREATE DATABASE upgraded' >/dev/null || exit 1
q -c 'CREATE EXTENSION pgmaint' >/dev/null || exit 1
q -d upgraded -c "CREATE EXTENSION pgmaint VERSION '1.0'" -c 'ALTER EXTENSION pgmaint UPDATE' >/dev/null || exit 1

# The matrix of docs/security.md: one line per function, "name|PUBLIC|pg_monitor|stats|tuning|tuning+policy|superuser"
expected="$dir/expected"
sed -n '/<!-- privilege-matrix -->/,/<!-- \/privilege-matrix -->/p' "$top/docs/security.md" |
	grep '^| `' | while IFS='|' read -r _ fns cols; do
		cols=$(echo "$cols" | tr -d ' ' | sed 's/|$//')
		echo "$fns" | grep -o '`[a-z_]*`' | tr -d '`' | while read -r f; do echo "$f|$cols"; done
	done | LC_ALL=C sort >"$expected"
ok "the matrix names functions" test "$(wc -l <"$expected")" -gt 50

# --- ACL test ---------------------------------------------------------------
acl_sql="SELECT p.proname || '|' || coalesce(p.proacl::text, 'default')
           FROM pg_proc p WHERE p.pronamespace = 'pgmaint'::regnamespace ORDER BY p.proname COLLATE \"C\""
q -c "$acl_sql" >"$dir/acl.fresh"
q -d upgraded -c "$acl_sql" >"$dir/acl.upgraded"
echo "# function ACLs of the fresh install:"
sed 's/^/#   /' "$dir/acl.fresh"
is "$(wc -l <"$dir/acl.fresh") functions" "$(wc -l <"$expected") functions" "the matrix has a row for every function"
is "$(cut -d'|' -f1 "$dir/acl.fresh" | LC_ALL=C sort | LC_ALL=C comm -3 - <(cut -d'|' -f1 "$expected" | LC_ALL=C sort) | tr -s '\t\n' '  ')" "" \
	"every function is in the matrix and every name there exists"

# the ACL each row of the matrix implies: the owner, and pg_monitor when it says yes
check_acls() {
	local file=$1 bad=0 f acl e mon
	while IFS='|' read -r f acl; do
		e=$(grep "^$f|" "$expected") || { echo "#   $f: not in the matrix"; bad=1; continue; }
		mon=$(echo "$e" | cut -d'|' -f3)
		case "$acl" in default|*'{=X'*|*',=X'*) echo "#   $f: callable by PUBLIC ($acl)"; bad=1; continue ;; esac
		if [ "$mon" = yes ]; then want="{postgres=X/postgres,pg_monitor=X/postgres}"; else want="{postgres=X/postgres}"; fi
		[ "$acl" = "$want" ] || { echo "#   $f: $acl, the matrix wants $want"; bad=1; }
	done <"$file"
	return $bad
}
ok "fresh install: every ACL is what the matrix says" check_acls "$dir/acl.fresh"
ok "upgraded install: every ACL is what the matrix says" check_acls "$dir/acl.upgraded"
is "$(diff "$dir/acl.fresh" "$dir/acl.upgraded" | head -n 5)" "" "the upgraded install's ACLs are the fresh install's"

# --- privilege matrix -------------------------------------------------------
q <<'SQL' >/dev/null || exit 1
CREATE ROLE plain LOGIN;
CREATE ROLE mon LOGIN IN ROLE pg_monitor;
CREATE ROLE stats LOGIN IN ROLE pg_read_all_stats;
CREATE ROLE tuner LOGIN;
CREATE ROLE tunerp LOGIN;
GRANT CREATE ON SCHEMA public TO tuner, tunerp, plain;
SELECT pgmaint.grant_tuning('tuner');
SELECT pgmaint.grant_tuning('tunerp', true);
SET ROLE tuner;  CREATE TABLE public.tuner_t (id int PRIMARY KEY, v text);
SET ROLE tunerp; CREATE TABLE public.tunerp_t (id int PRIMARY KEY, v text);
SET ROLE plain;  CREATE TABLE public.plain_t (id int PRIMARY KEY, v text);
RESET ROLE;
SQL

# Calls every function as the session's role; NOTICE "call|name|allowed|denied".
matrix_sql=$(
	cat <<'SQL'
DO $$
DECLARE
    f record;
    verdict text;
BEGIN
    FOR f IN SELECT p.oid, p.proname,
                    (SELECT pg_catalog.string_agg(pg_catalog.format('(SELECT NULL::%s)', t::regtype), ', ' ORDER BY o)
                       FROM pg_catalog.unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)) AS args,
                    p.prokind
               FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'pgmaint'::regnamespace ORDER BY p.proname LOOP
        BEGIN
            IF f.prokind = 'p' THEN
                -- a procedure that commits cannot be called inside this block:
                -- its EXECUTE privilege is what the server checks at CALL
                IF pg_catalog.has_function_privilege(f.oid, 'EXECUTE') THEN
                    RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0099';
                END IF;
                RAISE EXCEPTION 'permission denied for procedure %', f.proname
                    USING ERRCODE = 'insufficient_privilege';
            ELSE
                EXECUTE pg_catalog.format('SELECT %s(%s)', f.oid::regproc, coalesce(f.args, ''));
            END IF;
            RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0099';
        EXCEPTION
            WHEN SQLSTATE 'P0099' THEN verdict := 'allowed';
            WHEN insufficient_privilege THEN
                verdict := CASE WHEN SQLERRM LIKE 'permission denied for function%'
                                  OR SQLERRM LIKE 'permission denied for procedure%'
                                  OR SQLERRM LIKE 'permission denied for schema pgmaint'
                                THEN 'denied' ELSE 'allowed' END;
            WHEN OTHERS THEN verdict := 'allowed';
        END;
        RAISE NOTICE 'call|%|%', f.proname, verdict;
    END LOOP;
END
$$;
SQL
)
calls=0
for pair in plain:2 mon:3 stats:4 tuner:5 tunerp:6 postgres:7; do
	role=${pair%:*} col=${pair#*:}
	printf '%s\n' "$matrix_sql" | psql -X -q -U "$role" -d fresh 2>&1 |
		sed -n 's/^NOTICE:  call|//p' | LC_ALL=C sort >"$dir/calls.$role"
	n=$(wc -l <"$dir/calls.$role")
	calls=$((calls + n))
	want=$(cut -d'|' -f1,"$col" "$expected" | sed 's/|yes$/|allowed/; s/|no$/|denied/')
	got=$(cat "$dir/calls.$role")
	is "$(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -n 8 | tr '\n' ' ')" "" \
		"as $role ($n calls) every function is callable exactly as the matrix says"
done
echo "# privilege matrix: $calls calls (6 roles x $(wc -l <"$expected") functions)"
internal=$(cat "$dir"/calls.plain "$dir"/calls.mon "$dir"/calls.stats | grep '^_' | grep -c '|allowed' || true)
echo "# internal functions a read-only role may call (all for pg_monitor's read functions): $internal"

# --- a tuning role cannot forge rows (issue 13, item 4) --------------------------
code() { psql -X -q -At -U "$1" -d fresh -v ON_ERROR_STOP=1 -c "\\set VERBOSITY sqlstate" -c "$2" 2>&1 | tail -n 1 | sed 's/^ERROR: *//'; }
is "$(code tuner "SELECT pgmaint._policy_audit(NULL, 'tune_table', 'public.plain_t', '{}', false)")" "42501" \
	"a tuning role cannot write an audit row with a NULL caller"
is "$(code tuner "SELECT pgmaint._policy_record(NULL, 'public.plain_t', 'moderate', 'manual', '{}', '{}')")" "42501" \
	"nor a policy row for another role's table with a NULL caller"
is "$(code tunerp "SELECT pgmaint._advise('tunerp', 'public.plain_t', 'moderate', 'forged')")" "42501" \
	"nor advice for another role's table"
is "$(code postgres "SELECT pgmaint._advise('postgres', 999999::regclass, 'moderate', 'forged')")" "42P01" \
	"advice for a relation that does not exist is an error"
is "$(code tuner "SELECT pgmaint.tune_table('public.tuner_t', 'moderate') IS NOT NULL")" t \
	"a tuning role tunes its own table through the gate"
is "$(q -c "SELECT actor || ' ' || action FROM pgmaint.actions WHERE target = 'public.tuner_t'")" "tuner tune_table" \
	"and the audit row names it"
is "$(code tuner "SELECT pgmaint.tune_table('public.plain_t', 'moderate')")" 42501 \
	"a tuning role cannot tune another role's table"
is "$(code tuner "SELECT pgmaint._tune_table_impl('public.plain_t', 'moderate')")" 42501 \
	"nor call the body of tune_table() directly"
is "$(code postgres "SELECT pgmaint._policy_audit('postgres', 'forged', 'x', '{}', false)")" 42501 \
	"outside an action even a superuser's helper call is refused (no forged caller)"
q -c "INSERT INTO pgmaint.policy_advice (relid, profile, reason) VALUES ('public.plain_t'::regclass, 'moderate', 'by the superuser')" >/dev/null
code tunerp "SELECT pgmaint._advice_keep('tunerp', '{}')" >/dev/null
code tunerp "SELECT pg_catalog.count(*) FROM pgmaint.run_policy('advise')" >/dev/null
is "$(q -c "SELECT pg_catalog.count(*) FROM pgmaint.policy_advice WHERE relid = 'public.plain_t'::regclass")" 1 \
	"a tuning role's policy run keeps the advice of another role's table"

# --- nor through the retention helpers (issue 26, items 1, 3 and 7) ----------------
code tuner "CREATE VIEW public.tuner_v AS SELECT pg_catalog.now() AS ts" >/dev/null
code tuner "CREATE TABLE public.tuner_r (id int, ts timestamptz)" >/dev/null
is "$(code tuner "SELECT pgmaint._retention_store('tuner', 'public.tuner_v', 'ts', '1 day', NULL, 10, 'drop')")" 42809 \
	"a tuning role cannot store a retention rule for its view through the internal helper"
is "$(code tuner "SELECT pgmaint._retention_store('tuner', 'public.tuner_r', 'ts', '1 day', 'public.tuner_r', 10, 'drop')")" 22023 \
	"nor one whose table is its own archive"
is "$(code tuner "SELECT pgmaint._retention_store('tuner', 'public.tuner_r', 'id', '1 day', NULL, 10, 'drop')")" 42804 \
	"nor one on a column that is not a time type"
is "$(code tuner "SELECT (pgmaint.set_retention('public.tuner_r', 'ts', '1 day')).relid IS NOT NULL")" t \
	"its own table's rule goes through"
is "$(code tuner "SELECT pgmaint._retention_done('tuner', 'public.tuner_r', '{\"stopped\": \"done\", \"forged\": true}', now())")" 42501 \
	"a tuning role cannot record a retention run (only a run records a run)"
is "$(code postgres "SELECT pgmaint._retention_done('postgres', 'public.tuner_r', '{\"stopped\": \"done\", \"forged\": true}', now())")" 42501 \
	"nor can a superuser's direct call outside a run"
is "$(q -c "SELECT pg_catalog.count(*) FROM pgmaint.actions WHERE detail::text LIKE '%forged%' OR target = 'public.plain_t'")|$(q -c "SELECT pg_catalog.count(*) FROM pgmaint.retention WHERE last_result ? 'forged'")" "0|0" \
	"and no forged row reached pgmaint.actions or pgmaint.retention"

finish

-- docs/reference.sql: prints docs/reference.md, pgmaint's function reference,
-- from the catalog of a database with pgmaint installed: every function and
-- procedure of schema pgmaint whose name does not start with "_" (those are
-- internals) with its signature, its COMMENT and who may call it (its ACL, and
-- what grant_tuning() adds), every table with its COMMENT and columns, and the
-- pgmaint.* settings from pg_settings.  Run it in a fresh database of a server
-- that preloads pgmaint (restart-only settings exist only then):
--   psql -XAtq -d DB -f docs/reference.sql > docs/reference.md
-- test/integration/reference.sh checks that docs/reference.md is its output.
-- The output depends on nothing but the catalog: names sort in "C" order, and
-- the settings that shape how types, defaults and intervals print are fixed.
\set ON_ERROR_STOP 1
SET search_path = pg_catalog, pg_temp;
SET IntervalStyle = postgres;
SET DateStyle = 'ISO, MDY';
SET TimeZone = 'UTC';
SET extra_float_digits = 1;

DO $$
BEGIN
    IF NOT pgmaint.preloaded() THEN
        RAISE EXCEPTION 'pgmaint is not in shared_preload_libraries'
              USING HINT = 'Generate the reference on a server that preloads pgmaint: its restart-only settings exist only then.';
    END IF;
END
$$;

-- Markdown text of a COMMENT or description: nothing in it may start markup.
CREATE FUNCTION pg_temp.md(t text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT replace(replace(replace(replace(t, E'\\', E'\\\\'), '*', E'\\*'), '<', '&lt;'), '|', E'\\|') $$;

-- A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as "-".
CREATE FUNCTION pg_temp.anchor(t text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT replace(lower(regexp_replace(t, '[^[:alnum:] _-]', '', 'g')), ' ', '-') $$;

-- A setting's value as postgresql.conf writes it: 93600 s is 26h, 8 kB pages are 8kB.
CREATE FUNCTION pg_temp.setting_value(v text, unit text, vartype text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    WITH base(u, factor, kind) AS (VALUES
        ('ms', 1::numeric, 't'), ('s', 1000, 't'), ('min', 60000, 't'), ('h', 3600000, 't'), ('d', 86400000, 't'),
        ('B', 1, 'm'), ('kB', 1024, 'm'), ('8kB', 8192, 'm'), ('MB', 1048576, 'm'), ('GB', 1073741824, 'm'),
        ('TB', 1099511627776, 'm')),
    raw AS (
        SELECT v::numeric * b.factor AS amount, b.kind
          FROM base b
         WHERE b.u = unit AND vartype = 'integer' AND v ~ '^-?[0-9]+$'
    )
    SELECT CASE
               WHEN vartype = 'string' AND v = '' THEN ''''''
               WHEN NOT EXISTS (SELECT 1 FROM raw) THEN v
               WHEN (SELECT amount FROM raw) <= 0 THEN v
               ELSE (SELECT (r.amount / b.factor)::bigint || b.u
                       FROM raw r JOIN base b ON b.kind = r.kind AND b.u <> '8kB'
                      WHERE r.amount % b.factor = 0
                      ORDER BY b.factor DESC LIMIT 1)
           END
$$;

WITH
-- the reference's sections, in order, with the docs page of each and its functions
grp(n, title, pages, names) AS (VALUES
    (1, 'Health, events and reports',
        '[health checks](health-checks.md), [alerts](alerts.md), [HTML report](report.md)',
        '{health,health_checks,events,checklist,report,report_html,preloaded}'::text[]),
    (2, 'Prometheus', '[Prometheus](prometheus.md)',
        '{metrics,metric_samples,metric_families,metrics_tables}'),
    (3, 'Background worker', '[background worker](worker.md)',
        '{samples,sampler_status,workers,prune_history}'),
    (4, 'Connections and locks', '[connections](connections.md)',
        '{connections,connection_sources,connection_leaks,terminate_leaks,long_running_queries,blocking_locks,connection_budget}'),
    (5, 'Replication and standbys', '[replicas](replicas.md)',
        '{replication}'),
    (6, 'Tables, indexes and vacuum', '[tables and indexes](tables-and-indexes.md)',
        '{cache_hit,cache_hit_tables,vacuum_stats,maintenance_age,vacuum_progress,table_sizes,table_growth,partitioned_tables,bloat,index_advice,sequences,schema_advice,expensive_queries,database_stats,disk_space}'),
    (7, 'Autovacuum policy', '[autovacuum policy](policy.md)',
        '{recommend_profiles,tune_table,reset_table,apply_policy,run_policy,schedule_maintenance,unschedule_maintenance,grant_tuning,revoke_tuning}'),
    (8, 'Retention', '[retention](retention.md)',
        '{set_retention,drop_retention,retention_plan,apply_retention}'),
    (9, 'Settings advisor', '[settings advisor](settings.md)',
        '{settings_advice,config_audit,detected_resources,detected_container}'),
    (10, 'Backups', '[backups](backups.md)',
        '{backup_status}'),
    (11, 'Point-in-time recovery', '[point-in-time recovery](pitr.md)',
        '{pitr_status,recovery_point}'),
    -- a function no section names lands here: add it to a section above
    (99, 'Not yet in a section', '', '{}')
),
member AS (
    SELECT g.n, m.name, m.i FROM grp g, unnest(g.names) WITH ORDINALITY AS m(name, i)
),
fn AS (
    SELECT p.oid, p.proname::text AS name, p.prokind, p.proretset, p.proowner, p.proacl,
           coalesce(m.n, 99) AS n, coalesce(m.i, 0) AS i
      FROM pg_proc p
      LEFT JOIN member m ON m.name = p.proname::text
     WHERE p.pronamespace = 'pgmaint'::regnamespace
       AND p.proname::text NOT LIKE E'\\_%'
       AND p.prokind IN ('f', 'p')
),
arg AS (
    SELECT f.oid, a.pos, a.mode, a.argname, a.typ,
           pg_get_function_arg_default(f.oid, a.pos::int) AS def
      FROM fn f
      JOIN pg_proc p ON p.oid = f.oid,
           LATERAL unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                          coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs::int])),
                          p.proargnames) WITH ORDINALITY AS a(typ, mode, argname, pos)
),
sig AS (
    SELECT f.oid,
           coalesce((SELECT string_agg(CASE a.mode WHEN 'b' THEN 'INOUT ' WHEN 'v' THEN 'VARIADIC ' ELSE '' END
                                       || coalesce(quote_ident(a.argname) || ' ', '') || format_type(a.typ, NULL)
                                       || coalesce(' DEFAULT ' || a.def, ''), ', ' ORDER BY a.pos)
                       FROM arg a WHERE a.oid = f.oid AND a.mode IN ('i', 'b', 'v')), '') AS args,
           (SELECT string_agg(format('`%s` %s', a.argname, format_type(a.typ, NULL)), ', ' ORDER BY a.pos)
              FROM arg a WHERE a.oid = f.oid AND a.mode IN ('o', 'b', 't')) AS columns
      FROM fn f
),
-- who may call a function: its ACL (the owner is a superuser), and grant_tuning()'s grants
tuning AS (
    SELECT DISTINCT to_regprocedure(t.object)::oid AS oid, w.with_policy
      FROM (VALUES (false), (true)) AS w(with_policy),
           LATERAL pgmaint._tuning_privileges(w.with_policy) t
     WHERE t.kind IN ('FUNCTION', 'ROUTINE')
),
caller AS (
    SELECT f.oid,
           'superusers'
           || coalesce((SELECT string_agg(', ' || CASE WHEN x.grantee = 0 THEN 'everyone (`PUBLIC`)'
                                                       ELSE format('`%s`', pg_get_userbyid(x.grantee)) END,
                                          '' ORDER BY x.grantee <> 0, pg_get_userbyid(x.grantee) COLLATE "C")
                          FROM aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) x
                         WHERE x.privilege_type = 'EXECUTE' AND x.grantee <> f.proowner), '')
           || CASE WHEN EXISTS (SELECT 1 FROM tuning t WHERE t.oid = f.oid AND NOT t.with_policy)
                       THEN ', roles given `grant_tuning(role)`'
                   WHEN EXISTS (SELECT 1 FROM tuning t WHERE t.oid = f.oid)
                       THEN ', roles given `grant_tuning(role, true)`'
                   ELSE '' END AS who
      FROM fn f
),
fn_text AS (
    SELECT f.n, f.i, f.name,
           format(E'### %s()\n\n`%s`\n\n%s%s\n\nCallable by %s.\n',
                  f.name,
                  CASE f.prokind WHEN 'p' THEN format('CALL pgmaint.%s(%s)', f.name, s.args)
                       ELSE format('pgmaint.%s(%s) → %s', f.name, s.args,
                                   CASE WHEN s.columns IS NULL THEN pg_get_function_result(f.oid)
                                        WHEN f.proretset THEN 'SETOF record' ELSE 'record' END) END,
                  CASE WHEN s.columns IS NULL THEN ''
                       WHEN f.proretset THEN E'Returns a set of rows: ' || s.columns || E'.\n\n'
                       ELSE E'Returns one row: ' || s.columns || E'.\n\n' END,
                  coalesce(pg_temp.md(obj_description(f.oid, 'pg_proc')), '(no COMMENT)'),
                  c.who) AS text
      FROM fn f JOIN sig s USING (oid) JOIN caller c USING (oid)
),
grp_text AS (
    SELECT g.n, g.title,
           format(E'## %s\n\n%s\n%s', g.title,
                  CASE WHEN g.pages = '' THEN 'Every function belongs in a section of docs/reference.sql.'
                       ELSE 'How to use them: ' || g.pages || '.' END,
                  string_agg(E'\n' || t.text, '' ORDER BY t.i, t.name COLLATE "C")) AS text,
           string_agg(format('[%s()](#%s)', t.name, pg_temp.anchor(t.name || '()')), ', '
                      ORDER BY t.i, t.name COLLATE "C") AS links
      FROM grp g JOIN fn_text t ON t.n = g.n
     GROUP BY g.n, g.title, g.pages
),
-- tables: COMMENT, privileges, whether pg_dump keeps their rows, columns
tbl AS (
    SELECT c.oid, c.relname::text AS name, c.relkind, c.relowner, c.relacl,
           (SELECT cfg.cond
              FROM pg_extension e,
                   LATERAL unnest(e.extconfig, e.extcondition) AS cfg(relid, cond)
             WHERE e.extname = 'pgmaint' AND cfg.relid = c.oid) AS dump_condition
      FROM pg_class c
     WHERE c.relnamespace = 'pgmaint'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
),
tbl_priv AS (
    SELECT t.oid,
           'superusers'
           || coalesce((SELECT string_agg(', ' || CASE WHEN x.grantee = 0 THEN 'everyone (`PUBLIC`)'
                                                       ELSE format('`%s`', pg_get_userbyid(x.grantee)) END,
                                          '' ORDER BY x.grantee <> 0, pg_get_userbyid(x.grantee) COLLATE "C")
                          FROM aclexplode(coalesce(t.relacl, acldefault('r', t.relowner))) x
                         WHERE x.privilege_type = 'SELECT' AND x.grantee <> t.relowner), '')
           || CASE WHEN EXISTS (SELECT 1 FROM pgmaint._tuning_privileges(false) p
                                 WHERE p.kind = 'TABLE' AND to_regclass(p.object) = t.oid)
                       THEN ', roles given `grant_tuning(role)`'
                   WHEN EXISTS (SELECT 1 FROM pgmaint._tuning_privileges(true) p
                                 WHERE p.kind = 'TABLE' AND to_regclass(p.object) = t.oid)
                       THEN ', roles given `grant_tuning(role, true)`'
                   ELSE '' END AS readers,
           'superusers'
           || coalesce((SELECT string_agg(', ' || w.name, '' ORDER BY w.name COLLATE "C")
                          FROM (SELECT DISTINCT CASE WHEN x.grantee = 0 THEN 'everyone (`PUBLIC`)'
                                                     ELSE format('`%s`', pg_get_userbyid(x.grantee)) END AS name
                                  FROM aclexplode(coalesce(t.relacl, acldefault('r', t.relowner))) x
                                 WHERE x.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
                                   AND x.grantee <> t.relowner) w), '') AS writers
      FROM tbl t
),
col AS (
    SELECT a.attrelid AS oid, a.attnum,
           format('| `%s` | %s%s | %s |', a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ', not null' ELSE '' END,
                  CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
                                     WHEN 'd' THEN 'generated by default as identity'
                                     ELSE coalesce('`' || pg_get_expr(d.adbin, d.adrelid) || '`', '') END) AS line
      FROM pg_attribute a
      JOIN tbl t ON t.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
),
tbl_text AS (
    SELECT t.name,
           format(E'### pgmaint.%s\n\n%s\n\nReadable by %s; changed directly by %s only. %s\n\n| Column | Type | Default |\n|---|---|---|\n%s\n',
                  t.name,
                  coalesce(pg_temp.md(obj_description(t.oid, 'pg_class')), '(no COMMENT)'),
                  p.readers, p.writers,
                  CASE WHEN t.dump_condition IS NULL THEN 'pg_dump leaves its rows out.'
                       WHEN t.dump_condition = '' THEN 'pg_dump keeps its rows.'
                       ELSE format('pg_dump keeps its rows `%s`.', t.dump_condition) END,
                  (SELECT string_agg(c.line, E'\n' ORDER BY c.attnum) FROM col c WHERE c.oid = t.oid)) AS text
      FROM tbl t JOIN tbl_priv p USING (oid)
),
-- composite types of the schema that are not a table's row type
typ AS (
    SELECT t.typname::text AS name,
           format(E'### pgmaint.%s\n\n%s\n\n%s\n', t.typname,
                  coalesce(pg_temp.md(obj_description(t.oid, 'pg_type')), '(no COMMENT)'),
                  (SELECT 'Fields: ' || string_agg(format('`%s` %s', a.attname, format_type(a.atttypid, a.atttypmod)),
                                                   ', ' ORDER BY a.attnum) || '.'
                     FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)) AS text
      FROM pg_type t
      JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
     WHERE t.typnamespace = 'pgmaint'::regnamespace AND t.typname::text NOT LIKE E'\\_%'
),
-- the health checks as a fresh install grades them (pgmaint.thresholds' seed rows)
chk AS (
    SELECT t.check_name,
           format('| `%s` | %s | %s | %s | %s |', t.check_name,
                  coalesce(t.warning::text, '–'), coalesce(t.critical::text, '–'),
                  coalesce((SELECT format('`%s`', m.family) FROM pgmaint.check_metrics m
                             WHERE m.check_name = t.check_name), ''),
                  pg_temp.md(t.description)) AS line
      FROM pgmaint.thresholds t
),
-- the Prometheus families of metrics(), with the check each one carries
fam AS (
    SELECT f.family,
           format('| `%s` | %s | %s | %s | %s |', f.family, f.type,
                  coalesce((SELECT string_agg(format('`%s`', l), ', ' ORDER BY o)
                              FROM unnest(f.labels) WITH ORDINALITY AS u(l, o)), ''),
                  coalesce((SELECT string_agg(format('`%s`', m.check_name), ', ' ORDER BY m.check_name COLLATE "C")
                              FROM pgmaint.check_metrics m WHERE m.family = f.family), ''),
                  pg_temp.md(f.help)) AS line
      FROM pgmaint.metric_families() f
),
guc AS (
    SELECT s.name,
           format('| `%s` | `%s` | %s | %s | %s |', s.name,
                  pg_temp.setting_value(s.boot_val, s.unit, s.vartype),
                  CASE s.context WHEN 'postmaster' THEN 'restart' WHEN 'sighup' THEN 'reload'
                                 WHEN 'superuser' THEN 'SET (superuser)' WHEN 'user' THEN 'SET'
                                 ELSE s.context END,
                  CASE WHEN s.vartype = 'enum' THEN array_to_string(s.enumvals, ', ')
                       WHEN s.min_val IS NOT NULL THEN pg_temp.setting_value(s.min_val, s.unit, s.vartype)
                            || ' .. ' || pg_temp.setting_value(s.max_val, s.unit, s.vartype)
                       ELSE '' END,
                  pg_temp.md(s.short_desc || coalesce(' ' || nullif(s.extra_desc, ''), ''))) AS line
      FROM pg_settings s
     WHERE s.name LIKE 'pgmaint.%'
)
SELECT '# pgmaint function reference' || E'\n\n'
    || '*Generated by [docs/reference.sql](reference.sql) from the catalog of pgmaint '
    || (SELECT extversion FROM pg_extension WHERE extname = 'pgmaint')
    || ' (the COMMENTs, signatures and privileges); do not edit by hand. Regenerate it in a fresh database'
    || ' of a server that preloads pgmaint: `psql -XAtq -d DB -f docs/reference.sql > docs/reference.md`'
    || ' (`test/integration/reference.sh` checks it).*' || E'\n\n'
    || 'Every function is in schema `pgmaint` and called by its qualified name; functions whose names start'
    || ' with `_` are internal and not listed. "Callable by" is the function''s privilege on a fresh install:'
    || ' [security](security.md) explains the roles.' || E'\n\n'
    || (SELECT string_agg(format('- [%s](#%s): %s', g.title, pg_temp.anchor(g.title), g.links), E'\n' ORDER BY g.n)
          FROM grp_text g) || E'\n'
    || '- [Tables](#tables): '
    || (SELECT string_agg(format('[%s](#%s)', t.name, pg_temp.anchor('pgmaint.' || t.name)), ', ' ORDER BY t.name COLLATE "C")
          FROM tbl t) || E'\n'
    || coalesce('- [Types](#types): '
                || (SELECT string_agg(format('[%s](#%s)', t.name, pg_temp.anchor('pgmaint.' || t.name)), ', '
                                      ORDER BY t.name COLLATE "C") FROM typ t) || E'\n', '')
    || E'- [Health checks](#health-checks)\n'
    || E'- [Prometheus families](#prometheus-families)\n'
    || E'- [Settings](#settings)\n\n'
    || (SELECT string_agg(g.text, E'\n' ORDER BY g.n) FROM grp_text g) || E'\n'
    || E'## Tables\n\n'
    || 'What the functions and the worker record. pg_dump keeps the rows of configuration tables (also the ones'
    || ' users changed) and leaves measurements out.' || E'\n\n'
    || (SELECT string_agg(t.text, E'\n' ORDER BY t.name COLLATE "C") FROM tbl_text t)
    || coalesce(E'\n## Types\n\n' || (SELECT string_agg(t.text, E'\n' ORDER BY t.name COLLATE "C") FROM typ t), '')
    || E'\n## Health checks\n\n'
    || 'The checks of `health()` with the levels a fresh install grades them by (`pgmaint.thresholds`, which users'
    || ' edit; [health checks](health-checks.md) explains them), and the Prometheus family of each value.' || E'\n\n'
    || E'| Check | Warning | Critical | Family | Value |\n|---|---|---|---|---|\n'
    || (SELECT string_agg(c.line, E'\n' ORDER BY c.check_name COLLATE "C") FROM chk c) || E'\n'
    || E'\n## Prometheus families\n\n'
    || 'Every family `metrics()` can show ([Prometheus](prometheus.md)), from `pgmaint.metric_families()`; each series also'
    || ' has the labels `database` and `system_identifier`. "Check" is the health check whose value the family carries'
    || ' (`pgmaint.check_metrics`).' || E'\n\n'
    || E'| Family | Type | Labels | Check | Help |\n|---|---|---|---|---|\n'
    || (SELECT string_agg(f.line, E'\n' ORDER BY f.family COLLATE "C") FROM fam f) || E'\n'
    || E'\n## Settings\n\n'
    || 'The `pgmaint.*` settings as the server reports them (`pg_settings`); the [README](../README.md#settings)'
    || ' says what each is for. Restart-only settings exist only when pgmaint is in `shared_preload_libraries`;'
    || ' a reload is `SELECT pg_reload_conf();`.' || E'\n\n'
    || E'| Setting | Default | Reload or restart | Range | Description |\n|---|---|---|---|---|\n'
    || (SELECT string_agg(g.line, E'\n' ORDER BY g.name COLLATE "C") FROM guc g);

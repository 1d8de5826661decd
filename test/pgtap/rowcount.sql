-- pgTAP: _row_count(), the owner-context row count pgmaint_backup records
BEGIN;
SELECT plan(7);

CREATE ROLE pgm_rc_owner;
CREATE ROLE pgm_rc_reader;
CREATE TABLE public.rc_t (id int);
INSERT INTO public.rc_t SELECT generate_series(1, 42);
CREATE TABLE public.rc_child () INHERITS (public.rc_t);
INSERT INTO public.rc_child VALUES (1), (2);
ALTER TABLE public.rc_t OWNER TO pgm_rc_owner;

SELECT is(pgmaint._row_count('public.rc_t'), 42::bigint, 'counts the rows of the table itself, not of its children');
SELECT is(pgmaint._row_count(NULL), NULL::bigint, 'NULL counts nothing');

-- the count runs as the owner: a spy in a view is never reached, the kind is refused
-- (PostgreSQL 16 and later no longer turn a table into a view: there, a view)
CREATE FUNCTION public.rc_spy() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
DO $$
BEGIN
    IF current_setting('server_version_num')::int < 160000 THEN
        CREATE TABLE public.rc_became_view (id int);
        CREATE RULE "_RETURN" AS ON SELECT TO public.rc_became_view DO INSTEAD SELECT public.rc_spy() AS id;
    ELSE
        CREATE VIEW public.rc_became_view AS SELECT public.rc_spy() AS id;
    END IF;
END
$$;
ALTER TABLE public.rc_became_view OWNER TO pgm_rc_owner;
SELECT throws_ok($$SELECT pgmaint._row_count('public.rc_became_view')$$, '42809', NULL,
                 'a table turned into a view (a view from 16 on) is refused, its query never run');

-- the caller must be able to read the whole table itself
GRANT USAGE ON SCHEMA pgmaint TO pgm_rc_reader;
GRANT EXECUTE ON FUNCTION pgmaint._row_count(regclass) TO pgm_rc_reader;
SET LOCAL ROLE pgm_rc_reader;
SELECT throws_ok($$SELECT pgmaint._row_count('public.rc_t')$$, '42501', NULL,
                 'without SELECT on the table: permission denied');
RESET ROLE;
GRANT SELECT ON public.rc_t TO pgm_rc_reader;
ALTER TABLE public.rc_t ENABLE ROW LEVEL SECURITY;
SET LOCAL ROLE pgm_rc_reader;
SELECT throws_ok($$SELECT pgmaint._row_count('public.rc_t')$$, '42501', NULL,
                 'with row-level security applying to the caller: refused, not counted as the owner');
RESET ROLE;
ALTER TABLE public.rc_t DISABLE ROW LEVEL SECURITY;
SET LOCAL ROLE pgm_rc_reader;
SELECT is(pgmaint._row_count('public.rc_t'), 42::bigint, 'with SELECT and no row-level security: the count');
RESET ROLE;

SELECT is(has_function_privilege('pg_monitor', 'pgmaint._row_count(regclass)', 'EXECUTE'), false,
          'granted to nobody by default');

SELECT * FROM finish();
ROLLBACK;

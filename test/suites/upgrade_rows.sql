-- test/suites/upgrade_rows.sql: the rows of pgmaint's configuration tables
-- (every table of pg_extension.extconfig) and of its history tables
-- pgmaint.actions and pgmaint.backups, as one JSON object
-- {"<table> <primary key>": <row as JSON>}, for test/suites/upgrade_compare.py.
-- Tables the database does not have are skipped.
CREATE FUNCTION pg_temp.pgmaint_rows()
RETURNS TABLE (k text, r jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
    rel     regclass;
    keyexpr text;
BEGIN
    FOR rel IN
        SELECT DISTINCT c.oid::regclass
          FROM pg_catalog.pg_class c
         WHERE c.relkind = 'r'
           AND (c.oid IN (SELECT pg_catalog.unnest(e.extconfig) FROM pg_catalog.pg_extension e
                           WHERE e.extname = 'pgmaint')
                OR c.oid = pg_catalog.to_regclass('pgmaint.actions')
                OR c.oid = pg_catalog.to_regclass('pgmaint.backups'))
    LOOP
        SELECT pg_catalog.string_agg(pg_catalog.format('(to_jsonb(t) ->> %L)', a.attname), ' || ''/'' || '
                                     ORDER BY k.n)
          INTO keyexpr
          FROM pg_catalog.pg_index i,
               pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n),
               pg_catalog.pg_attribute a
         WHERE i.indrelid = rel AND i.indisprimary
           AND a.attrelid = rel AND a.attnum = k.attnum;
        RETURN QUERY EXECUTE pg_catalog.format(
            'SELECT %L || '' '' || %s, to_jsonb(t) FROM %s t',
            rel::text, coalesce(keyexpr, 'to_jsonb(t)::text'), rel);
    END LOOP;
END
$$;
SELECT coalesce(pg_catalog.jsonb_object_agg(k, r), '{}') FROM pg_temp.pgmaint_rows();

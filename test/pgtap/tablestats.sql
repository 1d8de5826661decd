-- pgTAP: the cache, vacuum, size and index reports: contract, privileges, errors
BEGIN;
SELECT plan(30);

SELECT has_function('pgmaint', 'cache_hit', ARRAY[]::text[], 'cache_hit() exists');
SELECT has_function('pgmaint', 'cache_hit_tables', ARRAY['bigint'], 'cache_hit_tables(bigint) exists');
SELECT has_function('pgmaint', 'vacuum_stats', ARRAY[]::text[], 'vacuum_stats() exists');
SELECT has_function('pgmaint', 'table_sizes', ARRAY[]::text[], 'table_sizes() exists');
SELECT has_function('pgmaint', 'index_advice', ARRAY['bigint', 'bigint'], 'index_advice(bigint, bigint) exists');
SELECT has_function('pgmaint', 'expensive_queries', ARRAY['integer'], 'expensive_queries(integer) exists');
SELECT has_function('pgmaint', 'database_stats', ARRAY[]::text[], 'database_stats() exists');
SELECT has_function('pgmaint', 'disk_space', ARRAY[]::text[], 'disk_space() exists');

-- the issue's column contract
SELECT ok((SELECT array_agg(a ORDER BY a) FROM unnest(p.proargnames) a)
          @> ARRAY['relid', 'schema_name', 'table_name', 'live_tuples', 'dead_tuples', 'dead_ratio',
                   'last_vacuum', 'last_autovacuum', 'last_analyze', 'last_autoanalyze',
                   'vacuum_count', 'autovacuum_count', 'inserts_since_vacuum', 'mods_since_analyze',
                   'vacuum_threshold', 'insert_threshold', 'analyze_threshold', 'dead_until_vacuum',
                   'autovacuum_enabled', 'autovacuum_due', 'falling_behind', 'xid_age',
                   'freeze_age_pct', 'profile'],
          'vacuum_stats() has every column of the contract')
  FROM pg_proc p WHERE p.oid = 'pgmaint.vacuum_stats()'::regprocedure;
SELECT ok((SELECT array_agg(a) FROM unnest(p.proargnames) a)
          @> ARRAY['kind', 'table_name', 'index_name', 'detail', 'suggestion'],
          'index_advice() has every column of the contract')
  FROM pg_proc p WHERE p.oid = 'pgmaint.index_advice(bigint, bigint)'::regprocedure;
SELECT is((SELECT array_agg(scope) FROM pgmaint.cache_hit()), ARRAY['database', 'heap', 'index', 'toast'],
          'cache_hit() has the database, heap, index and toast scopes');

-- privileges: read functions for pg_monitor; disk_space() not for PUBLIC
SELECT ok(bool_and(has_function_privilege('pg_monitor', f, 'EXECUTE')),
          'pg_monitor may call every report')
  FROM unnest(ARRAY['pgmaint.cache_hit()', 'pgmaint.cache_hit_tables(bigint)', 'pgmaint.vacuum_stats()',
                    'pgmaint.table_sizes()', 'pgmaint.index_advice(bigint, bigint)',
                    'pgmaint.expensive_queries(integer)', 'pgmaint.database_stats()',
                    'pgmaint.disk_space()']) f;
SELECT ok(NOT has_function_privilege('public', 'pgmaint.disk_space()', 'EXECUTE'),
          'PUBLIC may not read the data directory''s disk space');

CREATE ROLE ts_monitor IN ROLE pg_monitor;
CREATE ROLE ts_plain;
GRANT USAGE ON SCHEMA pgmaint TO ts_plain;
GRANT EXECUTE ON FUNCTION pgmaint.disk_space() TO ts_plain;
SET LOCAL ROLE ts_monitor;
SELECT lives_ok('SELECT count(*) FROM pgmaint.vacuum_stats()', 'a pg_monitor member reads vacuum_stats()');
SELECT lives_ok('SELECT * FROM pgmaint.database_stats()', 'a pg_monitor member reads database_stats()');
RESET ROLE;
SET LOCAL ROLE ts_plain;
SELECT throws_ok('SELECT * FROM pgmaint.disk_space()', '42501',
                 'permission denied to read the data directory''s file system',
                 'disk_space() requires the privileges of pg_read_all_settings, even with EXECUTE');
RESET ROLE;

-- errors: bad arguments, and pg_stat_statements missing from this database
SELECT throws_ok('SELECT * FROM pgmaint.cache_hit_tables(-1)', '22023', NULL, 'negative min_reads is rejected');
SELECT throws_ok('SELECT * FROM pgmaint.index_advice(-5)', '22023', NULL, 'negative size floor is rejected');
SELECT throws_ok('SELECT * FROM pgmaint.expensive_queries(-1)', '22023', NULL, 'negative n is rejected');
SELECT throws_ok('SELECT * FROM pgmaint.expensive_queries()', '55000',
                 'pg_stat_statements is not installed in this database',
                 'expensive_queries() without pg_stat_statements says so');

-- partitioned parents, TOAST and this session's temporary tables
CREATE TABLE ts_parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE ts_parted_1 PARTITION OF ts_parted FOR VALUES FROM (0) TO (10);
CREATE TEMP TABLE ts_temp (v text);
SELECT is((SELECT count(*)::int FROM pgmaint.vacuum_stats()
            WHERE relid IN ('ts_parted'::regclass, 'ts_parted_1'::regclass, 'ts_temp'::regclass)),
          3, 'vacuum_stats() lists a partitioned table, its partition and a temporary table');
SELECT is((SELECT count(*)::int FROM pgmaint.cache_hit_tables()
            WHERE relid IN ('ts_parted'::regclass, 'ts_parted_1'::regclass, 'ts_temp'::regclass)),
          2, 'cache_hit_tables() leaves out the partitioned parent, as pg_statio_user_tables does');
SELECT is((SELECT count(*)::int FROM pgmaint.table_sizes()
            WHERE relid IN ('ts_parted'::regclass, 'ts_parted_1'::regclass, 'ts_temp'::regclass)),
          3, 'table_sizes() lists them too');
SELECT is_empty($$SELECT 1 FROM pgmaint.vacuum_stats() v JOIN pg_class c ON c.oid = v.relid
                   WHERE c.relnamespace = 'pg_toast'::regnamespace$$,
                'TOAST tables are not listed on their own');
SELECT is((SELECT profile FROM pgmaint.vacuum_stats() WHERE relid = 'ts_parted_1'::regclass), NULL,
          'a table without a policy has no profile');
INSERT INTO pgmaint.table_policy (relid, profile, source) VALUES ('ts_parted_1', 'moderate', 'manual');
SELECT is((SELECT profile FROM pgmaint.vacuum_stats() WHERE relid = 'ts_parted_1'::regclass), 'moderate',
          'vacuum_stats() reports the table''s profile from table_policy');

-- _largest_tables() measures the tables with the most pages in the catalog,
-- counting their indexes: three 2 MB heaps and a 1 MB heap with four indexes
-- as large as it; with n = 1 only two tables are measured
CREATE TABLE ts_heap_a (v text);
CREATE TABLE ts_heap_b (v text);
CREATE TABLE ts_heap_c (v text);
CREATE TABLE ts_indexed (v text, w text, x text, y text);
INSERT INTO ts_heap_a SELECT repeat(md5(g::text), 7) FROM generate_series(1, 8000) g;
INSERT INTO ts_heap_b SELECT * FROM ts_heap_a;
INSERT INTO ts_heap_c SELECT * FROM ts_heap_a;
INSERT INTO ts_indexed SELECT left(v, 100), left(v, 100), left(v, 100), left(v, 100) FROM ts_heap_a LIMIT 2000;
CREATE INDEX ON ts_indexed (v, w);
CREATE INDEX ON ts_indexed (w, x);
CREATE INDEX ON ts_indexed (x, y);
CREATE INDEX ON ts_indexed (y, v);
ANALYZE ts_heap_a, ts_heap_b, ts_heap_c, ts_indexed;
SELECT ok(pg_total_relation_size('ts_indexed') > pg_total_relation_size('ts_heap_a')
          AND pg_relation_size('ts_indexed') < pg_relation_size('ts_heap_a'),
          'the indexed table is the largest, its heap the smallest');
SELECT is((SELECT array_agg(relid::regclass::text) FROM pgmaint._largest_tables(1)), ARRAY['ts_indexed'],
          '_largest_tables(1) finds it by its heap and index pages');
SELECT is((SELECT total_bytes = pg_total_relation_size('ts_indexed') AND index_bytes = pg_indexes_size('ts_indexed')
                  AND heap_bytes + index_bytes + toast_bytes = total_bytes
             FROM pgmaint._largest_tables(1)), true,
          '_largest_tables() splits the total as table_sizes() does');
SELECT is_empty('SELECT * FROM pgmaint._largest_tables(NULL)', '_largest_tables(NULL) measures nothing');

SELECT * FROM finish();
ROLLBACK;

-- What the table-level checks share with SQL: their floors, the figures of
-- one pass over pg_class (computed now, or as the worker's last sample
-- computed them) and the last hour's cache figures.  The checks themselves
-- are evaluated in C (src/evaluate.c, src/check*.c; see 90-health.sql).

-- The floors below which the table-level checks do not judge a table,
-- written once in src/tablehealth.h; the descriptions below, the defaults of
-- _table_health() and the checks' messages read them here.
CREATE OR REPLACE FUNCTION pgmaint._table_health_floors(OUT min_reads bigint, OUT min_tuples bigint)
RETURNS record
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_floors';

COMMENT ON FUNCTION pgmaint._table_health_floors() IS
'Internal: the heap block reads (table_cache_hit) and live + dead tuples (dead_tuples) a table needs before the table-level checks judge it.';

REVOKE ALL ON FUNCTION pgmaint._table_health_floors() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_floors() TO pg_monitor;

-- Block hits and reads of this database over the last hour, from the sampler's
-- ring; NULL when the sampler does not run or watches another database.
CREATE OR REPLACE FUNCTION pgmaint._cache_hit_last_hour(OUT hits numeric, OUT reads numeric)
RETURNS record
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_cache_hit_last_hour';

COMMENT ON FUNCTION pgmaint._cache_hit_last_hour() IS
'Internal: this database''s block hits and reads over the last hour from the sampler (NULL without it), for the cache_hit check.';

REVOKE ALL ON FUNCTION pgmaint._cache_hit_last_hour() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._cache_hit_last_hour() TO pg_monitor;

-- Table-level figures of this database computed now: one pass over pg_class
-- and one statistics snapshot, with the threshold code vacuum_stats() uses.
CREATE OR REPLACE FUNCTION pgmaint._table_health(
    min_reads bigint DEFAULT (pgmaint._table_health_floors()).min_reads,
    min_tuples bigint DEFAULT (pgmaint._table_health_floors()).min_tuples,
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint)
RETURNS record
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health';

COMMENT ON FUNCTION pgmaint._table_health(bigint, bigint) IS
'Internal: worst heap hit ratio (tables with at least min_reads heap block reads), tables where autovacuum falls behind and the one with most dead tuples, worst dead-tuple share (tables with at least min_tuples tuples), computed now.';

REVOKE ALL ON FUNCTION pgmaint._table_health(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health(bigint, bigint) TO pg_monitor;

-- The same figures from the worker's last sample, when it is of this
-- database and fresh (within two sample intervals); no row otherwise.
CREATE OR REPLACE FUNCTION pgmaint._table_health_sampled(
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint,
    OUT sampled_at timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_sampled';

COMMENT ON FUNCTION pgmaint._table_health_sampled() IS
'Internal: _table_health() (with the floors of _table_health_floors()) as the worker computed it in its last sample, when that sample is of this database and at most two intervals old; no row otherwise.';

REVOKE ALL ON FUNCTION pgmaint._table_health_sampled() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_sampled() TO pg_monitor;


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

-- Every sequence of this database measured against its end: the one home of
-- the rule (the sequences check and sequences() both read it).  A sequence
-- ends at the smaller of its own limit and the range of the narrowest column
-- it feeds (the column it is owned by, serial and identity, and every column
-- whose default calls it); one never called (is_called false) is measured
-- from its start value, its next value.  In C (src/checkcatalog.c), which
-- the sequences check reads too: each sequence's position comes from its
-- page, so a pg_monitor caller sees every sequence's use; no value of a
-- table leaves the function.
CREATE OR REPLACE FUNCTION pgmaint._sequence_usage(
    OUT seqid oid, OUT schema_name name, OUT sequence_name name, OUT data_type regtype,
    OUT called boolean, OUT pos numeric, OUT start_value numeric, OUT increment numeric,
    OUT min_value numeric, OUT max_value numeric, OUT bound numeric,
    OUT used_pct numeric, OUT values_left numeric, OUT cycle boolean,
    OUT column_relid oid, OUT column_name text, OUT column_type text,
    OUT column_limits boolean, OUT feeds_key boolean)
RETURNS SETOF record
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_sequence_usage';

COMMENT ON FUNCTION pgmaint._sequence_usage() IS
'Internal: every sequence of this database with its position (last value, or the start value when never called), the bound it runs out at (the smaller of its own limit and the range of the narrowest column it feeds), the share used, the values nextval() can still return, and that column; positions read from the sequences'' pages (src/checkcatalog.c), so pg_monitor sees every sequence''s use.';

REVOKE ALL ON FUNCTION pgmaint._sequence_usage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._sequence_usage() TO pg_monitor;

-- Every sequence at or past a share of its range, most used first.
CREATE OR REPLACE FUNCTION pgmaint.sequences(
    min_used_pct numeric DEFAULT 0,
    OUT sequence_name regclass, OUT data_type regtype, OUT used_pct numeric,
    OUT values_left numeric, OUT last_value numeric, OUT called boolean,
    OUT max_value numeric, OUT column_name text, OUT column_type text,
    OUT column_limits boolean, OUT cycle boolean, OUT feeds_key boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF min_used_pct IS NULL OR min_used_pct < 0 OR min_used_pct > 100 THEN
        RAISE EXCEPTION 'min_used_pct must be between 0 and 100'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the share of the range, in %, from which to list sequences, for example 75 (0 lists all).';
    END IF;
    RETURN QUERY
        SELECT u.seqid::regclass, u.data_type, round(u.used_pct, 2), u.values_left, u.pos, u.called,
               u.bound, u.column_name, u.column_type, u.column_limits, u.cycle, u.feeds_key
          FROM pgmaint._sequence_usage() u
         WHERE coalesce(u.used_pct, 0) >= min_used_pct
         ORDER BY u.used_pct DESC NULLS LAST, u.values_left, u.schema_name, u.sequence_name;
END
$$;

COMMENT ON FUNCTION pgmaint.sequences(numeric) IS
'Every sequence of this database that has used at least min_used_pct % of its range, most used first: used_pct, values_left (values nextval() can still return), last_value (the start value, called false, when never called), max_value (where it runs out: the smaller of its own maximum, or minimum when descending, and the range of the narrowest column it feeds), that column and its type, column_limits (the column ends before the sequence), cycle and feeds_key (it feeds a unique key column).';

REVOKE ALL ON FUNCTION pgmaint.sequences(numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.sequences(numeric) TO pg_monitor;

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
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint, OUT falling_inserts bigint)
RETURNS record
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health';

COMMENT ON FUNCTION pgmaint._table_health(bigint, bigint) IS
'Internal: worst heap hit ratio (tables with at least min_reads heap block reads), tables where autovacuum falls behind and the one with most dead tuples (then inserts since its last vacuum, falling_inserts), worst dead-tuple share (tables with at least min_tuples tuples), computed now.';

REVOKE ALL ON FUNCTION pgmaint._table_health(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health(bigint, bigint) TO pg_monitor;

-- The same figures from the worker's last sample, when it is of this
-- database and fresh (within two sample intervals, plus 10 s at intervals
-- under 10 s, where the worker passes over the tables every 10 s); no row
-- otherwise.
CREATE OR REPLACE FUNCTION pgmaint._table_health_sampled(
    OUT tables bigint, OUT hit_relid oid, OUT hit_ratio float8, OUT hit_reads bigint,
    OUT falling_behind integer, OUT falling_relid oid, OUT falling_dead bigint,
    OUT dead_relid oid, OUT dead_share float8, OUT dead_tuples bigint, OUT falling_inserts bigint,
    OUT sampled_at timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_table_health_sampled';

COMMENT ON FUNCTION pgmaint._table_health_sampled() IS
'Internal: _table_health() (with the floors of _table_health_floors()) as the worker computed it in its last pass over the tables, when that pass is of this database and at most two intervals old (plus 10 s at intervals under 10 s, where the passes are 10 s apart); no row otherwise.';

REVOKE ALL ON FUNCTION pgmaint._table_health_sampled() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._table_health_sampled() TO pg_monitor;


--
-- health() and health_checks(): shape, grading, thresholds
--
SELECT jsonb_typeof(pgmaint.health()) AS type;
SELECT array_agg(k ORDER BY k) AS keys
  FROM jsonb_object_keys(pgmaint.health()) AS k;
SELECT pgmaint.health()->>'database' = current_database() AS database_is_current;
SELECT pgmaint.health()->>'status' IN ('ok', 'warning', 'critical') AS status_known;

-- every check has every field of the contract
SELECT DISTINCT array_agg(k ORDER BY k) AS check_keys
  FROM jsonb_array_elements(pgmaint.health()->'checks') c,
       LATERAL jsonb_object_keys(c) k
 GROUP BY c;

SELECT check_name FROM pgmaint.health_checks() ORDER BY 1;

-- the table-level checks: thresholds (lower is worse for the hit ratio) and,
-- in a database the worker does not sample, figures computed now
SELECT check_name, warning, critical FROM pgmaint.thresholds
 WHERE check_name IN ('table_cache_hit', 'dead_tuples', 'autovacuum_behind', 'disk_free')
 ORDER BY 1;
SELECT pgmaint.health()->>'source' AS source,
       pgmaint.health()->'measured_at' IS NOT NULL AS measured_at_given,
       pgmaint.health(live => true)->>'source' AS live_source;
SELECT count(*) AS sampled_rows FROM pgmaint._table_health_sampled();
SELECT pgmaint._table_health(0, -1);

-- grading: higher is worse, unless critical is below warning
SELECT pgmaint._grade(50, 80, 95) AS low, pgmaint._grade(80, 80, 95) AS at_warning,
       pgmaint._grade(99, 80, 95) AS high, pgmaint._grade(NULL, 80, 95) AS no_value;
SELECT pgmaint._grade(99.5, 95, 90) AS good_ratio, pgmaint._grade(93, 95, 90) AS fair_ratio,
       pgmaint._grade(42, 95, 90) AS bad_ratio;

-- connections: share of usable slots, from the live server
SELECT value = round(100.0 * (SELECT count(*) FROM pg_stat_activity
                               WHERE backend_type = 'client backend')
                     / (current_setting('max_connections')::int
                        - current_setting('superuser_reserved_connections')::int), 1)
       AS connections_match,
       message ~ '^\d+ of 47 usable connections in use$' AS usable_excludes_reserved
  FROM pgmaint.health_checks() WHERE check_name = 'connections';

-- a threshold at 0 turns the check, and the overall status, to critical
BEGIN;
UPDATE pgmaint.thresholds SET warning = 0, critical = 0 WHERE check_name = 'connections';
SELECT status, hint IS NOT NULL AS has_hint
  FROM pgmaint.health_checks() WHERE check_name = 'connections';
SELECT pgmaint.health()->>'status' AS overall;
ROLLBACK;

-- a disabled threshold omits its check
BEGIN;
UPDATE pgmaint.thresholds SET enabled = false WHERE check_name = 'cache_hit';
SELECT count(*) AS cache_hit_rows FROM pgmaint.health_checks() WHERE check_name = 'cache_hit';
SELECT count(*) AS cache_hit_in_health
  FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'cache_hit';
ROLLBACK;

-- no reads yet: the cache hit ratio is unknown, never 0 and never an error
BEGIN;
SELECT pg_stat_reset() IS NULL AS reset;
SELECT pg_stat_clear_snapshot() IS NULL AS cleared;
SELECT status, value, message FROM pgmaint.health_checks() WHERE check_name = 'cache_hit';
ROLLBACK;

-- an INSERT of an existing check updates it (what pg_restore does)
BEGIN;
INSERT INTO pgmaint.thresholds (check_name, warning, critical, description)
VALUES ('connections', 70, 90, 'edited');
SELECT check_name, warning, critical, description FROM pgmaint.thresholds
 WHERE check_name = 'connections';
ROLLBACK;

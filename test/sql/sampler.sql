--
-- The sampler: sampler_status(), samples() and the history table
--
-- pg_regress runs this on its temporary instance (test/regress.conf), where
-- contrib_regression is in pgmaint.exclude_databases, so that the other tests
-- read what each call measures; this one lets the launcher start this
-- database's worker, and excludes the database again at the end.
ALTER SYSTEM SET pgmaint.exclude_databases = '';
SELECT pg_reload_conf();
-- wait (with a deadline) until the worker has connected and sampled
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN (SELECT running AND samples_taken > 0 FROM pgmaint.sampler_status());
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

-- exactly one row, from the worker's heartbeat
SELECT count(*) AS rows FROM pgmaint.sampler_status();
SELECT running, database, pid > 0 AS has_pid, in_recovery, policy,
       sample_interval, last_error,
       last_sample_at <= clock_timestamp() AS sampled_in_the_past,
       started_at <= last_sample_at AS started_before_sampling,
       ring_bytes BETWEEN 1 AND 1024 * 1024 AS ring_under_1mb
  FROM pgmaint.sampler_status();

-- samples(): the ring, oldest first; rates never negative
SELECT count(*) > 0 AS has_samples FROM pgmaint.samples(NULL);
SELECT count(*) AS out_of_order
  FROM (SELECT sampled_at, lag(sampled_at) OVER (ORDER BY sampled_at) AS prev
          FROM pgmaint.samples(NULL)) s
 WHERE prev IS NOT NULL AND sampled_at <= prev;
SELECT count(*) AS bad_rows
  FROM pgmaint.samples(NULL)
 WHERE commits_per_sec < 0 OR rollbacks_per_sec < 0
    OR cache_hit_ratio < 0 OR cache_hit_ratio > 1
    OR interval_seconds <= 0 OR client_backends < 0
    OR active + idle + idle_in_transaction + idle_in_transaction_aborted > client_backends
    OR xact_commit < 0 OR live_tuples < 0 OR datfrozenxid_age < 0;
-- the first sample of the ring has no interval and no rates
SELECT interval_seconds, commits_per_sec, cache_hit_ratio, dead_tuples_delta
  FROM pgmaint.samples(NULL) ORDER BY sampled_at LIMIT 1;
-- the default window is the last hour; the future holds nothing
SELECT count(*) = (SELECT count(*) FROM pgmaint.samples(NULL)
                    WHERE sampled_at >= now() - interval '1 hour') AS default_is_last_hour
  FROM pgmaint.samples();
SELECT count(*) AS future FROM pgmaint.samples(now() + interval '1 day');

-- _request_samples(): bounded, and a count the worker can serve
SELECT pgmaint._request_samples(0);
SELECT pgmaint._request_samples(100001);
SELECT pgmaint._request_samples(NULL) IS NULL AS null_is_null;

-- the history table is not dumped
SELECT 'pgmaint.sample_history'::regclass = ANY (extconfig) AS history_dumped
  FROM pg_extension WHERE extname = 'pgmaint';

-- health(): the sampler section and check
SELECT pgmaint.health()->'sampler'->>'running' AS running,
       pgmaint.health()->'sampler'->>'preloaded' AS preloaded,
       pgmaint.health()->'sampler'->>'database' AS database;
SELECT check_name, status, warning, critical, value < 3 AS fresh, message LIKE 'sampling every 60 s in database contrib_regression;%' AS says_interval
  FROM pgmaint.health_checks() WHERE check_name = 'sampler';
-- a stopped clock reads as stale: a threshold below the age turns it to warning
BEGIN;
UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'sampler';
SELECT status, hint IS NOT NULL AS has_hint
  FROM pgmaint.health_checks() WHERE check_name = 'sampler';
ROLLBACK;

-- excluded again: the worker leaves (with a deadline)
ALTER SYSTEM RESET pgmaint.exclude_databases;
SELECT pg_reload_conf();
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity
                               WHERE backend_type = 'pgmaint sampler' AND datname = current_database());
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT count(*) AS workers_left FROM pg_stat_activity
 WHERE backend_type = 'pgmaint sampler' AND datname = current_database();

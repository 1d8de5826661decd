--
-- settings_advice(), detection of the resources, config_audit()
--
\set SHOW_CONTEXT never
-- The server reads the fixtures below: `make installcheck` runs as the
-- server's user on a temporary instance, and test/run.sh runs it in a copy
-- of the tree that user owns (a clone in a root-only directory is not
-- readable by the server).
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/fixtures/cgroup'
\set cfixtures :abs_srcdir '/fixtures/container'

-- the guide's "Droplet Size Recommendations", exactly
SELECT name, recommended, pg_size_bytes(recommended) / 1048576 AS mb
  FROM pgmaint.settings_advice(1024, 1)
 WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem');
SELECT name, recommended FROM pgmaint.settings_advice(1024, 1) WHERE name = 'max_connections';
SELECT name, recommended, pg_size_bytes(recommended) / 1048576 AS mb
  FROM pgmaint.settings_advice(2048, 1)
 WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem');
SELECT name, recommended FROM pgmaint.settings_advice(2048, 1) WHERE name = 'max_connections';

-- every row for 1 GB, 1 CPU, SSD (the guide's postgresql.conf where it has a value);
-- logging_collector depends on the container the server runs in (below)
SELECT name, recommended, unit FROM pgmaint.settings_advice(1024, 1)
 WHERE name <> 'logging_collector';

-- logging_collector: off in a container (docker logs reads stderr), the guide's on elsewhere
SELECT c AS in_container, a.recommended, a.status, a.reason
  FROM unnest(ARRAY[true, false]) AS c,
       LATERAL pgmaint._advice(1024, 'given', 1, 'given', 'ssd', NULL, 1073741824, 'test',
                               c, '/.dockerenv exists') AS a
 WHERE a.name = 'logging_collector';
-- without the container arguments: not in a container
SELECT recommended FROM pgmaint._advice(1024, 'given', 1, 'given', 'ssd', NULL, 1073741824, 'test')
 WHERE name = 'logging_collector';
-- settings_advice() follows the detection and shows what it found
SELECT (SELECT recommended FROM pgmaint.settings_advice(1024, 1) WHERE name = 'logging_collector')
       = CASE WHEN (SELECT in_container FROM pgmaint.detected_container()) THEN 'off' ELSE 'on' END
       AS follows_detection,
       (SELECT reason FROM pgmaint.settings_advice(1024, 1) WHERE name = 'container')
       = (SELECT source FROM pgmaint.detected_container()) AS container_source_shown,
       (SELECT current FROM pgmaint.settings_advice(1024, 1) WHERE name = 'container')
       = (SELECT coalesce(runtime, 'none') FROM pgmaint.detected_container()) AS runtime_shown;

-- container detection: fixture trees, one per source, in the order they are tried
SELECT f AS fixture, d.in_container, d.runtime, d.source
  FROM unnest(ARRAY['docker', 'podman', 'environ', 'cgroup-v1', 'cgroup-v2', 'none']) AS f,
       LATERAL pgmaint._detect_container(:'cfixtures' || '/' || f) AS d;
-- nothing readable: not a container, and says why
SELECT in_container, runtime, source FROM pgmaint._detect_container(:'cfixtures' || '/does-not-exist');
-- the live server: a boolean and a source
SELECT in_container IS NOT NULL AS decided, (runtime IS NOT NULL) = in_container AS runtime_iff_container,
       source <> '' AS has_source
  FROM pgmaint.detected_container();
SELECT * FROM pgmaint._detect_container('relative/path');
\echo :LAST_ERROR_SQLSTATE

-- storage and CPUs change the planner and autovacuum rows
SELECT storage, max(recommended) FILTER (WHERE name = 'random_page_cost') AS random_page_cost,
       max(recommended) FILTER (WHERE name = 'effective_io_concurrency') AS effective_io_concurrency
  FROM unnest(ARRAY['ssd', 'hdd', 'nvme', 'san']) AS storage,
       LATERAL pgmaint.settings_advice(2048, 4, storage)
 GROUP BY storage ORDER BY storage;
SELECT c AS cpus, recommended AS autovacuum_max_workers
  FROM unnest(ARRAY[1, 2, 4, 8, 64]) AS c,
       LATERAL pgmaint.settings_advice(2048, c)
 WHERE name = 'autovacuum_max_workers';
-- more connections than the RAM suggests shrink work_mem; large machines are capped
SELECT recommended FROM pgmaint.settings_advice(1024, 1, 'ssd', 200)
 WHERE name IN ('max_connections', 'work_mem');
SELECT name, recommended FROM pgmaint.settings_advice(1048576, 64)
 WHERE name IN ('shared_buffers', 'max_connections', 'maintenance_work_mem', 'max_wal_size', 'min_wal_size');
SELECT name, recommended FROM pgmaint.settings_advice(256, 1)
 WHERE name IN ('shared_buffers', 'work_mem', 'wal_buffers', 'max_connections');

-- every memory recommendation is PostgreSQL's unit syntax, readable by pg_size_bytes()
SELECT count(*) AS memory_rows, bool_and(pg_size_bytes(recommended) > 0) AS all_readable
  FROM pgmaint.settings_advice(3000, 2) a
  JOIN pg_settings s ON s.name = a.name
 WHERE s.unit IN ('8kB', 'kB', 'MB') AND a.recommended <> '0';

-- memory recommendations are whole units of the setting (8kB pages, kB, MB) for any RAM,
-- so that an applied fix reads back equal
SELECT r AS ram_mb, bool_and(pg_size_bytes(a.recommended) % pgmaint._unit_factor(s.unit) = 0) AS whole_units
  FROM unnest(ARRAY[257, 1000, 3001, 12345, 99999]) AS r,
       LATERAL pgmaint.settings_advice(r, 3) a
  JOIN pg_settings s ON s.name = a.name
 WHERE s.unit IN ('8kB', 'kB', 'MB')
 GROUP BY r ORDER BY r;

-- fix is ALTER SYSTEM with a quoted value, NULL when there is nothing to do
SELECT bool_and(fix = format('ALTER SYSTEM SET %I = %L', name, recommended)) AS fixes_quoted,
       bool_and((status = 'ok') = (fix IS NULL)) AS fix_only_when_needed
  FROM pgmaint.settings_advice(1024, 1)
 WHERE name NOT IN ('ram', 'cpus', 'memory_risk', '/dev/shm');

-- current and recommended are compared in the setting's own unit, not as strings
ALTER DATABASE contrib_regression SET work_mem = '4096kB';
ALTER DATABASE contrib_regression SET statement_timeout = 30000;
ALTER DATABASE contrib_regression SET lock_timeout = '9s';
ALTER DATABASE contrib_regression SET log_temp_files = 10240;
\c
SELECT name, current, recommended, unit, status, fix
  FROM pgmaint.settings_advice(1024, 1)
 WHERE name IN ('work_mem', 'statement_timeout', 'lock_timeout', 'log_temp_files');
ALTER DATABASE contrib_regression RESET work_mem;
ALTER DATABASE contrib_regression RESET statement_timeout;
ALTER DATABASE contrib_regression RESET lock_timeout;
ALTER DATABASE contrib_regression RESET log_temp_files;
\c
SELECT status FROM pgmaint.settings_advice(1024, 1) WHERE name = 'statement_timeout';

-- risky: a shared_buffers above 40% of the RAM, an effective_cache_size above it
SELECT name, status FROM pgmaint.settings_advice(256, 1)
 WHERE name IN ('shared_buffers', 'effective_cache_size');
SELECT name, status FROM pgmaint.settings_advice(65536, 1)
 WHERE name IN ('shared_buffers', 'effective_cache_size');

-- memory risk: shared_buffers + connections x work_mem x hash_mem_multiplier
-- + autovacuum workers x maintenance_work_mem, against the RAM
SELECT current = pgmaint._size_text(ceil((
           pg_size_bytes(current_setting('shared_buffers'))
           + current_setting('max_connections')::numeric * pg_size_bytes(current_setting('work_mem'))
             * current_setting('hash_mem_multiplier')::numeric
           + current_setting('autovacuum_max_workers')::numeric
             * pg_size_bytes(current_setting('maintenance_work_mem'))) / 1048576) * 1024)
       AS estimate_matches,
       recommended
  FROM pgmaint.settings_advice(1024, 1) WHERE name = 'memory_risk';
SELECT r AS ram_mb, status FROM unnest(ARRAY[256, 4096]) AS r,
       LATERAL pgmaint.settings_advice(r, 1) WHERE name = 'memory_risk';

-- /dev/shm: Docker's 64 MB default is too small for parallel query
SELECT shm_mb, status, current, recommended
  FROM unnest(ARRAY[64, 1024, NULL]) AS shm_mb,
       LATERAL pgmaint._advice(2048, 'given', 1, 'given', 'ssd', NULL,
                               shm_mb::bigint * 1048576, 'test') AS a
 WHERE a.name = '/dev/shm';

-- detection: fixture trees of cgroup v1, v2 and /proc files
SELECT f AS fixture, d.ram_bytes / 1048576 AS ram_mb, d.ram_source,
       d.physical_ram_bytes / 1048576 AS physical_mb, d.cpus, d.cpus_source
  FROM unnest(ARRAY['v1', 'v1-unlimited', 'v2', 'v2-nested', 'v2-namespace', 'v2-max', 'missing', 'above-ram']) AS f,
       LATERAL pgmaint._detect_resources(:'fixtures' || '/' || f) AS d;
-- nothing readable: NULLs that say so, not an error
SELECT ram_bytes, ram_source, cpus, cpus_source, shm_bytes, shm_source
  FROM pgmaint._detect_resources(:'fixtures' || '/does-not-exist');
-- a trailing slash is the same root
SELECT ram_bytes / 1048576 AS ram_mb, cpus
  FROM pgmaint._detect_resources(:'fixtures' || '/v1/');

-- the live server: plausible numbers, each with a source
SELECT ram_bytes > 0 AS has_ram, ram_bytes <= physical_ram_bytes AS within_physical,
       ram_source ~ '^(cgroup v[12] |/proc/meminfo)' AS ram_source_named,
       cpus >= 1 AS has_cpus, cpus_source ~ '^(cgroup v[12] |online CPUs)' AS cpus_source_named,
       shm_bytes > 0 AS has_shm, shm_source AS shm_source
  FROM pgmaint.detected_resources();
SELECT (SELECT current FROM pgmaint.settings_advice() WHERE name = 'ram')
       = (SELECT ram_bytes / 1048576 || 'MB' FROM pgmaint.detected_resources()) AS detected_ram_used,
       (SELECT reason FROM pgmaint.settings_advice() WHERE name = 'cpus')
       = (SELECT cpus_source FROM pgmaint.detected_resources()) AS cpus_source_shown;

-- bad input: 22023 with a hint
SELECT * FROM pgmaint.settings_advice(255);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint.settings_advice(16777217);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint.settings_advice(1024, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint.settings_advice(1024, 1, 'tape');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint.settings_advice(1024, 1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint.settings_advice(1024, 1, 'ssd', 4);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint.settings_advice(1024, 1, 'ssd', 300000);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgmaint._detect_resources('relative/path');
\echo :LAST_ERROR_SQLSTATE
-- the limits themselves are accepted
SELECT count(*) > 0 AS ok FROM pgmaint.settings_advice(256, 1, 'hdd', 5);
SELECT count(*) > 0 AS ok FROM pgmaint.settings_advice(16777216, 1);

-- privileges: pg_monitor reads the advice; only superusers read another root
CREATE ROLE regress_pgm_settings IN ROLE pg_monitor;
SET ROLE regress_pgm_settings;
SELECT count(*) > 0 AS advice FROM pgmaint.settings_advice(1024, 1);
SELECT cpus >= 1 AS detected FROM pgmaint.detected_resources();
SELECT * FROM pgmaint._detect_resources(:'fixtures' || '/v2');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION pgmaint._detect_resources(text) TO regress_pgm_settings;
SET ROLE regress_pgm_settings;
SELECT * FROM pgmaint._detect_resources(:'fixtures' || '/v2');
\echo :LAST_ERROR_SQLSTATE
SELECT cpus >= 1 AS own_root_allowed FROM pgmaint._detect_resources('/');
RESET ROLE;
SET ROLE regress_pgm_settings;
SELECT in_container IS NOT NULL AS container_detected FROM pgmaint.detected_container();
SELECT * FROM pgmaint._detect_container(:'cfixtures' || '/docker');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- config_audit(): every check, and the ones this cluster decides
SELECT check_name, status IN ('ok', 'warning', 'critical', 'unknown') AS known_status
  FROM pgmaint.config_audit();
SELECT check_name, status, fix FROM pgmaint.config_audit()
 WHERE check_name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout',
                      'superuser_applications', 'listen_without_ssl', 'log_connections',
                      'log_temp_files');
-- logging_collector is off in the test cluster: ok in a container or not
SELECT status, fix, detail ~ '^logging_collector = off, (in|not in) a container \(' AS says_where
  FROM pgmaint.config_audit() WHERE check_name = 'logging_collector';
-- a timeout set for a role counts; so does one in the configuration
ALTER ROLE regress_pgm_settings SET lock_timeout = '5s';
ALTER DATABASE contrib_regression SET statement_timeout = '1min';
\c
SELECT check_name, status, detail FROM pgmaint.config_audit()
 WHERE check_name IN ('statement_timeout', 'lock_timeout');
ALTER DATABASE contrib_regression RESET statement_timeout;
ALTER ROLE regress_pgm_settings RESET lock_timeout;
-- hba rules are readable by a superuser; not by pg_monitor: unknown, never ok
SELECT check_name, status <> 'unknown' AS decided FROM pgmaint.config_audit()
 WHERE check_name IN ('hba_trust', 'hba_md5');
SET ROLE regress_pgm_settings;
SELECT check_name, status, detail FROM pgmaint.config_audit()
 WHERE check_name IN ('hba_trust', 'hba_md5');
RESET ROLE;
-- password_encryption
ALTER DATABASE contrib_regression SET password_encryption = 'md5';
\c
SELECT status, detail, fix FROM pgmaint.config_audit() WHERE check_name = 'password_encryption';
ALTER DATABASE contrib_regression RESET password_encryption;
\c
SELECT status FROM pgmaint.config_audit() WHERE check_name = 'password_encryption';
-- listen_addresses values that listen everywhere
SELECT l, pgmaint._listens_everywhere(l)
  FROM unnest(ARRAY['*', 'localhost', '', '127.0.0.1, 0.0.0.0', '::', 'db.internal', NULL]) AS l;

REVOKE EXECUTE ON FUNCTION pgmaint._detect_resources(text) FROM regress_pgm_settings;
DROP ROLE regress_pgm_settings;

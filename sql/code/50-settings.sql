-- Settings advisor and configuration audit: settings_advice(),
-- detected_resources(), config_audit().

-- The settings the guide gives fixed values for, in the guide's order: the
-- one list settings_advice() recommends from, config_audit() audits (topics
-- timeout and logging) and checklist() grades (through config_audit()).
-- topic: autovacuum, timeout, log_setup (where logs go and how much),
-- logging (a switch that is off at 'off' or -1).
CREATE OR REPLACE FUNCTION pgmaint._guide_settings(
    OUT ord integer, OUT name text, OUT recommended text, OUT why text, OUT topic text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
        (1, 'autovacuum_naptime', '30s', 'check high-churn tables twice a minute (the guide)', 'autovacuum'),
        (2, 'statement_timeout', '30s', 'stop runaway queries (the guide); raise it per role for batch jobs', 'timeout'),
        (3, 'lock_timeout', '10s', 'fail fast instead of queueing behind a lock (the guide)', 'timeout'),
        (4, 'idle_in_transaction_session_timeout', '5min', 'end leaked transactions (the guide)', 'timeout'),
        (5, 'log_destination', 'stderr', 'the guide; docker logs reads stderr', 'log_setup'),
        (6, 'logging_collector', 'on', 'the guide: keep log files in the data directory', 'log_setup'),
        (7, 'log_min_messages', 'warning', 'the guide', 'log_setup'),
        (8, 'log_min_error_statement', 'error', 'the guide: log the statement of every error', 'log_setup'),
        (9, 'log_checkpoints', 'on', 'the guide', 'logging'),
        (10, 'log_connections', 'on', 'the guide: find connection leaks', 'logging'),
        (11, 'log_disconnections', 'on', 'the guide: session durations', 'logging'),
        (12, 'log_lock_waits', 'on', 'the guide: waits longer than deadlock_timeout', 'logging'),
        (13, 'log_temp_files', '10MB', 'the guide: sorts that spill, a sign of a small work_mem', 'logging'),
        (14, 'log_autovacuum_min_duration', '0', 'the guide: every autovacuum run', 'logging');
$$;

COMMENT ON FUNCTION pgmaint._guide_settings() IS
'Internal: the settings the guide gives fixed values for (ord, name, recommended, why, topic), read by settings_advice(), config_audit() and checklist().';

REVOKE ALL ON FUNCTION pgmaint._guide_settings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._guide_settings() TO pg_monitor;

-- Memory, CPUs and /dev/shm below a root directory, from cgroup v2/v1 and /proc, in C.
CREATE OR REPLACE FUNCTION pgmaint._detect_resources(root text DEFAULT '/',
    OUT ram_bytes bigint, OUT ram_source text, OUT physical_ram_bytes bigint,
    OUT cpus integer, OUT cpus_source text, OUT shm_bytes bigint, OUT shm_source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_resources';

COMMENT ON FUNCTION pgmaint._detect_resources(text) IS
'Internal: memory (cgroup v2 memory.max/memory.high, cgroup v1 memory.limit_in_bytes, else /proc/meminfo), CPUs and /dev/shm size read below root, each with its source; another root than / is for superusers (tests point it at fixture trees).';

REVOKE ALL ON FUNCTION pgmaint._detect_resources(text) FROM PUBLIC;

-- The same for the server itself.
CREATE OR REPLACE FUNCTION pgmaint.detected_resources(
    OUT ram_bytes bigint, OUT ram_source text, OUT physical_ram_bytes bigint,
    OUT cpus integer, OUT cpus_source text, OUT shm_bytes bigint, OUT shm_source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_resources';

COMMENT ON FUNCTION pgmaint.detected_resources() IS
'Memory, CPUs and /dev/shm size the server really has (container limits first), each with the file it came from.';

REVOKE ALL ON FUNCTION pgmaint.detected_resources() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.detected_resources() TO pg_monitor;

-- Whether the server runs in a container, below a root directory, in C (issue 14).
CREATE OR REPLACE FUNCTION pgmaint._detect_container(root text DEFAULT '/',
    OUT in_container boolean, OUT runtime text, OUT source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_container';

COMMENT ON FUNCTION pgmaint._detect_container(text) IS
'Internal: whether a container is seen below root (/.dockerenv, /run/.containerenv, container= in /proc/1/environ, then the cgroup path), the runtime and what said so; another root than / is for superusers (tests point it at fixture trees).';

REVOKE ALL ON FUNCTION pgmaint._detect_container(text) FROM PUBLIC;

-- The same for the server itself.
CREATE OR REPLACE FUNCTION pgmaint.detected_container(
    OUT in_container boolean, OUT runtime text, OUT source text)
RETURNS record
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'pgmaint_detected_container';

COMMENT ON FUNCTION pgmaint.detected_container() IS
'Whether the server runs in a container: in_container, runtime (docker, podman, lxc, kubernetes, ...) and source, the file or cgroup path that said so (/.dockerenv, /run/.containerenv, container= in /proc/1/environ, cgroup path).';

REVOKE ALL ON FUNCTION pgmaint.detected_container() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.detected_container() TO pg_monitor;

-- logging_collector in or out of a container: the one home of that rule.
CREATE OR REPLACE FUNCTION pgmaint._logging_collector_advice(in_container boolean, container_source text,
    OUT recommended text, OUT reason text)
RETURNS record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN in_container THEN 'off' ELSE 'on' END,
           CASE WHEN in_container
                THEN pg_catalog.format('the server runs in a container (%s): with logging_collector = on the log goes to files in the data directory and docker logs shows nothing after startup; log to stderr (the guide''s on is for a bare server)',
                                       coalesce(container_source, 'detected'))
                ELSE 'the guide: keep log files in the data directory (not in a container)' END;
$$;

COMMENT ON FUNCTION pgmaint._logging_collector_advice(boolean, text) IS
'Internal: the recommended logging_collector (off in a container, so that docker logs shows the server log; on otherwise, the guide) and why.';

REVOKE ALL ON FUNCTION pgmaint._logging_collector_advice(boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._logging_collector_advice(boolean, text) TO pg_monitor;

-- A size in kB as PostgreSQL writes it: whole megabytes in MB, else kB.
CREATE OR REPLACE FUNCTION pgmaint._size_text(kb numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN kb IS NULL THEN NULL
        WHEN kb <> 0 AND kb % 1024 = 0 THEN (kb / 1024)::bigint || 'MB'
        ELSE kb::bigint || 'kB'
    END;
$$;

COMMENT ON FUNCTION pgmaint._size_text(numeric) IS
'Internal: a size in kB as a setting value readable by pg_size_bytes() (256MB, 64kB).';

REVOKE ALL ON FUNCTION pgmaint._size_text(numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._size_text(numeric) TO pg_monitor;

-- A duration in ms as PostgreSQL writes it: min, s or ms.
CREATE OR REPLACE FUNCTION pgmaint._ms_text(ms numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN ms IS NULL THEN NULL
        WHEN ms = 0 THEN '0'
        WHEN ms % 60000 = 0 THEN (ms / 60000)::bigint || 'min'
        WHEN ms % 1000 = 0 THEN (ms / 1000)::bigint || 's'
        ELSE ms::bigint || 'ms'
    END;
$$;

COMMENT ON FUNCTION pgmaint._ms_text(numeric) IS
'Internal: a duration in milliseconds as a setting value (5min, 30s, 250ms, 0).';

REVOKE ALL ON FUNCTION pgmaint._ms_text(numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._ms_text(numeric) TO pg_monitor;

-- Factor from a pg_settings unit to bytes (memory) or milliseconds (time); 1 without a unit.
CREATE OR REPLACE FUNCTION pgmaint._unit_factor(unit text)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN unit IS NULL THEN 1
        WHEN unit = 'ms' THEN 1
        WHEN unit = 's' THEN 1000
        WHEN unit = 'min' THEN 60000
        WHEN unit ~ '^[0-9]' THEN pg_catalog.pg_size_bytes(unit)::numeric
        ELSE pg_catalog.pg_size_bytes('1' || unit)::numeric
    END;
$$;

COMMENT ON FUNCTION pgmaint._unit_factor(text) IS
'Internal: bytes (8kB, kB, MB) or milliseconds (ms, s, min) in one pg_settings unit.';

REVOKE ALL ON FUNCTION pgmaint._unit_factor(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._unit_factor(text) TO pg_monitor;

-- True when a listen_addresses value listens on every interface.
CREATE OR REPLACE FUNCTION pgmaint._listens_everywhere(listen text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(bool_or(btrim(a) IN ('*', '0.0.0.0', '::')), false)
      FROM pg_catalog.regexp_split_to_table(coalesce(listen, ''), ',') AS a;
$$;

COMMENT ON FUNCTION pgmaint._listens_everywhere(text) IS
'Internal: true when a listen_addresses value includes *, 0.0.0.0 or ::.';

REVOKE ALL ON FUNCTION pgmaint._listens_everywhere(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._listens_everywhere(text) TO pg_monitor;

-- Whether Patroni manages this server (its dynamic configuration file in the data directory).
CREATE OR REPLACE FUNCTION pgmaint._patroni_managed()
RETURNS boolean
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pgmaint_patroni_managed';

COMMENT ON FUNCTION pgmaint._patroni_managed() IS
'Internal: true when Patroni manages the server (patroni.dynamic.json in the data directory); the path itself is not shown.';

REVOKE ALL ON FUNCTION pgmaint._patroni_managed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._patroni_managed() TO pg_monitor;

-- The statement that sets a server parameter: ALTER SYSTEM, or, where Patroni
-- manages the server, patronictl edit-config (Patroni owns the parameters of
-- every node, and an ALTER SYSTEM value on one node would override them there).
CREATE OR REPLACE FUNCTION pgmaint._set_fix(name text, value text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN pgmaint._patroni_managed()
                THEN format('patronictl edit-config --pg %s', quote_literal(name || '=' || value))
                ELSE format('ALTER SYSTEM SET %s = %s', quote_ident(name), quote_literal(value)) END;
$$;

COMMENT ON FUNCTION pgmaint._set_fix(text, text) IS
'Internal: the fix that sets a parameter: ALTER SYSTEM SET name = ''value'', or patronictl edit-config --pg ''name=value'' where Patroni manages the server.';

REVOKE ALL ON FUNCTION pgmaint._set_fix(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._set_fix(text, text) TO pg_monitor;

-- The advice for given resources: one row per setting, then the memory-risk and /dev/shm rows.
CREATE OR REPLACE FUNCTION pgmaint._advice(ram_mb bigint, ram_source text, cpus integer, cpus_source text,
                                storage text, max_connections integer,
                                shm_bytes bigint, shm_source text,
                                in_container boolean DEFAULT false,
                                container_source text DEFAULT NULL)
RETURNS TABLE (name text, current text, recommended text, unit text, status text,
               reason text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_conn      integer;
    v_sb_kb     bigint;
    v_ecs_kb    bigint;
    v_wm_kb     bigint;
    v_mwm_kb    bigint;
    v_walb_kb   bigint;
    v_maxwal_kb bigint;
    v_avw       integer;
    v_rpc       text;
    v_eio       text;
    v_ram_txt   text;
    v_cur       record;
    v_est       numeric;
    v_rec_est   numeric;
    v_need      numeric;
    v_lc        record;
BEGIN
    IF ram_mb IS NULL OR ram_mb < 1 THEN
        RAISE EXCEPTION 'ram_mb must be a positive number of megabytes'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the memory of the server or container in MB.';
    END IF;
    IF cpus IS NULL OR cpus < 1 THEN
        RAISE EXCEPTION 'cpus must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the number of CPUs of the server or container.';
    END IF;
    IF storage IS NULL OR storage NOT IN ('ssd', 'hdd', 'nvme', 'san') THEN
        RAISE EXCEPTION 'invalid storage "%"', storage
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of ssd, hdd, nvme or san.';
    END IF;
    IF max_connections IS NOT NULL AND (max_connections < 5 OR max_connections > 262143) THEN
        RAISE EXCEPTION 'max_connections must be between 5 and 262143'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it NULL to get a recommendation for the memory.';
    END IF;

    -- the formulas (docs/settings.md); 1 GB and 2 GB give the guide's tables
    v_conn := coalesce(max_connections, least(200, greatest(20, 10 + 20 * ram_mb / 1024)));
    v_sb_kb := ram_mb * 1024 / 4;
    v_ecs_kb := ram_mb * 1024 / 2;
    v_mwm_kb := least(2097152, greatest(1024, ram_mb * 1024 / 32));
    v_wm_kb := greatest(64, least(ram_mb * 1024 / 256,
                                  (ram_mb * 1024 - v_sb_kb) / (v_conn * 3)));
    -- whole megabytes, as an administrator writes them (1 GB and 2 GB are already)
    v_sb_kb := v_sb_kb / 1024 * 1024;
    v_ecs_kb := v_ecs_kb / 1024 * 1024;
    v_mwm_kb := v_mwm_kb / 1024 * 1024;
    IF v_wm_kb >= 1024 THEN
        v_wm_kb := v_wm_kb / 1024 * 1024;
    END IF;
    v_walb_kb := CASE WHEN v_sb_kb >= 262144 THEN 16384 ELSE greatest(64, v_sb_kb / 32) END;
    v_maxwal_kb := greatest(1048576, least(16777216, ram_mb / 2 * 1024));
    v_avw := least(8, greatest(2, cpus / 2 + 1));
    v_rpc := CASE storage WHEN 'hdd' THEN '4' ELSE '1.1' END;
    v_eio := CASE storage WHEN 'hdd' THEN '2' WHEN 'ssd' THEN '200'
                          WHEN 'san' THEN '300' ELSE '1000' END;
    v_ram_txt := ram_mb || 'MB RAM';
    SELECT * INTO v_lc FROM pgmaint._logging_collector_advice(coalesce(in_container, false), container_source);

    RETURN QUERY
    WITH rec (ord, name, recommended, why) AS (
        VALUES
        (1, 'shared_buffers', pgmaint._size_text(v_sb_kb),
            format('25%% of %s (the guide; pgtune too)', v_ram_txt)),
        (2, 'effective_cache_size', pgmaint._size_text(v_ecs_kb),
            format('50%% of %s: in a container the page cache is shared with the application (pgtune assumes 75%%)', v_ram_txt)),
        (3, 'work_mem', pgmaint._size_text(v_wm_kb),
            format('RAM/256, at most (RAM - shared_buffers) / (3 x %s connections)', v_conn)),
        (4, 'maintenance_work_mem', pgmaint._size_text(v_mwm_kb),
            format('RAM/32 (the guide), between 1MB and 2GB, for %s', v_ram_txt)),
        (5, 'max_connections', v_conn::text,
            CASE WHEN max_connections IS NULL
                 THEN format('10 + 20 per GB of RAM, between 20 and 200, for %s; put a pooler in front beyond that', v_ram_txt)
                 ELSE 'as requested' END),
        (6, 'wal_buffers', pgmaint._size_text(v_walb_kb),
            'one WAL segment (16MB, the guide) once shared_buffers reaches 256MB, else shared_buffers/32'),
        (7, 'checkpoint_completion_target', '0.9', 'spread checkpoint writes (the guide)'),
        (8, 'min_wal_size', pgmaint._size_text(v_maxwal_kb / 4096 * 1024), 'max_wal_size/4'),
        (9, 'max_wal_size', pgmaint._size_text(v_maxwal_kb),
            'RAM/2, between 1GB (the guide) and 16GB: fewer forced checkpoints'),
        (10, 'random_page_cost', v_rpc, format('%s storage', storage)),
        (11, 'effective_io_concurrency', v_eio, format('%s storage', storage)),
        (12, 'autovacuum_max_workers', v_avw::text,
            format('CPUs/2 + 1, between 2 and 8, for %s CPUs (%s)', cpus, cpus_source))
        UNION ALL
        -- in a container the log goes to docker logs: _logging_collector_advice() decides
        SELECT 12 + g.ord, g.name,
               CASE WHEN g.name = 'logging_collector' THEN v_lc.recommended ELSE g.recommended END,
               CASE WHEN g.name = 'logging_collector' THEN v_lc.reason ELSE g.why END
          FROM pgmaint._guide_settings() g
    ),
    cmp AS (
        SELECT r.ord, r.name, r.recommended, r.why, s.unit AS s_unit, s.vartype,
               s.context, s.reset_val,
               CASE WHEN s.vartype IN ('integer', 'real')
                    THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END AS cur_base,
               CASE WHEN s.vartype IN ('integer', 'real') THEN
                    CASE WHEN s.unit IN ('ms', 's', 'min') THEN
                              CASE WHEN r.recommended ~ '^[0-9.]+min$' THEN rtrim(r.recommended, 'min')::numeric * 60000
                                   WHEN r.recommended ~ '^[0-9.]+ms$' THEN rtrim(r.recommended, 'ms')::numeric
                                   WHEN r.recommended ~ '^[0-9.]+s$' THEN rtrim(r.recommended, 's')::numeric * 1000
                                   ELSE r.recommended::numeric * pgmaint._unit_factor(s.unit) END
                         WHEN s.unit IS NOT NULL AND r.recommended ~ '[a-zA-Z]$'
                              THEN pg_catalog.pg_size_bytes(r.recommended)::numeric
                         WHEN s.unit IS NOT NULL
                              THEN r.recommended::numeric * pgmaint._unit_factor(s.unit)
                         ELSE r.recommended::numeric END
               END AS rec_base
          FROM rec r
          LEFT JOIN pg_catalog.pg_settings s ON s.name = r.name
    ),
    graded AS (
        SELECT c.*,
               CASE WHEN c.vartype IS NULL THEN NULL
                    WHEN c.cur_base IS NULL THEN c.reset_val
                    WHEN c.cur_base < 0 THEN c.reset_val
                    WHEN c.s_unit IN ('ms', 's', 'min') THEN pgmaint._ms_text(c.cur_base)
                    WHEN c.s_unit IS NOT NULL THEN pgmaint._size_text(c.cur_base / 1024)
                    ELSE c.reset_val END AS cur_text,
               CASE WHEN c.vartype IS NULL THEN 'differs'
                    WHEN c.name = 'shared_buffers' AND c.cur_base > 0.4 * ram_mb * 1048576 THEN 'risky'
                    WHEN c.name = 'effective_cache_size' AND c.cur_base > ram_mb * 1048576::numeric THEN 'risky'
                    WHEN c.cur_base IS NOT NULL AND c.cur_base = c.rec_base THEN 'ok'
                    WHEN c.cur_base IS NULL AND lower(c.reset_val) = lower(c.recommended) THEN 'ok'
                    ELSE 'differs' END AS st
          FROM cmp c
    )
    SELECT g.name, g.cur_text, g.recommended,
           g.s_unit,
           g.st,
           CASE WHEN g.vartype IS NULL THEN g.why || '; not a setting of this server'
                WHEN g.st = 'risky' AND g.name = 'shared_buffers'
                     THEN format('above 40%% of %s leaves too little for connections, the OS and the application; %s', v_ram_txt, g.why)
                WHEN g.st = 'risky'
                     THEN format('above the %s: the planner counts on cache that does not exist; %s', v_ram_txt, g.why)
                WHEN g.st = 'ok' THEN g.why
                WHEN g.context = 'postmaster' THEN g.why || '; takes effect after a restart'
                ELSE g.why || '; takes effect after SELECT pg_reload_conf()' END,
           CASE WHEN g.st = 'ok' OR g.vartype IS NULL THEN NULL
                ELSE pgmaint._set_fix(g.name, g.recommended) END
      FROM graded g
     ORDER BY g.ord;

    -- memory risk: what the current settings may take at peak, against the RAM
    SELECT max(CASE s.name WHEN 'shared_buffers' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS sb,
           max(CASE s.name WHEN 'max_connections' THEN s.reset_val::numeric END) AS conn,
           max(CASE s.name WHEN 'work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS wm,
           max(CASE s.name WHEN 'hash_mem_multiplier' THEN s.reset_val::numeric END) AS hmm,
           max(CASE s.name WHEN 'autovacuum_max_workers' THEN s.reset_val::numeric END) AS avw,
           max(CASE s.name WHEN 'maintenance_work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS mwm,
           max(CASE s.name WHEN 'autovacuum_work_mem' THEN s.reset_val::numeric * pgmaint._unit_factor(s.unit) END) AS avwm,
           max(CASE s.name WHEN 'max_parallel_workers' THEN s.reset_val::numeric END) AS mpw,
           max(CASE s.name WHEN 'max_parallel_workers_per_gather' THEN s.reset_val::numeric END) AS mpwg,
           max(CASE s.name WHEN 'dynamic_shared_memory_type' THEN s.reset_val END) AS dsm
      INTO v_cur
      FROM pg_catalog.pg_settings s
     WHERE s.name IN ('shared_buffers', 'max_connections', 'work_mem', 'hash_mem_multiplier',
                      'autovacuum_max_workers', 'maintenance_work_mem', 'autovacuum_work_mem',
                      'max_parallel_workers', 'max_parallel_workers_per_gather',
                      'dynamic_shared_memory_type');

    v_est := v_cur.sb + v_cur.conn * v_cur.wm * greatest(1, v_cur.hmm)
             + v_cur.avw * CASE WHEN v_cur.avwm > 0 THEN v_cur.avwm ELSE v_cur.mwm END;
    v_rec_est := (v_sb_kb + v_conn * v_wm_kb * greatest(1, v_cur.hmm) + v_avw * v_mwm_kb) * 1024;
    name := 'memory_risk';
    current := pgmaint._size_text(ceil(v_est / 1048576) * 1024);
    recommended := pgmaint._size_text(ceil(v_rec_est / 1048576) * 1024);
    unit := NULL;
    status := CASE WHEN v_est > ram_mb * 1048576::numeric THEN 'risky' ELSE 'ok' END;
    reason := format('shared_buffers %s + %s connections x work_mem %s x %s (hash_mem_multiplier) + %s autovacuum workers x %s = %s, %s the %s (%s)',
                     pgmaint._size_text(v_cur.sb / 1024), v_cur.conn,
                     pgmaint._size_text(v_cur.wm / 1024), greatest(1, v_cur.hmm), v_cur.avw,
                     pgmaint._size_text(CASE WHEN v_cur.avwm > 0 THEN v_cur.avwm ELSE v_cur.mwm END / 1024),
                     current,
                     CASE WHEN status = 'risky' THEN 'above' ELSE 'within' END,
                     v_ram_txt, ram_source);
    IF status = 'risky' THEN
        reason := reason || '; the container can be OOM-killed at peak: lower work_mem or max_connections';
    END IF;
    fix := NULL;
    RETURN NEXT;

    -- /dev/shm: POSIX dynamic shared memory holds parallel hash tables and parallel index builds
    v_need := coalesce(v_cur.mpw, 0) * v_cur.wm * greatest(1, v_cur.hmm) + v_cur.mwm;
    name := '/dev/shm';
    current := CASE WHEN shm_bytes IS NULL THEN NULL
                    ELSE pgmaint._size_text(floor(shm_bytes / 1048576.0) * 1024) END;
    recommended := pgmaint._size_text(ceil(v_need / 1048576) * 1024);
    unit := NULL;
    IF v_cur.dsm IS DISTINCT FROM 'posix' OR coalesce(v_cur.mpwg, 0) = 0 OR coalesce(v_cur.mpw, 0) = 0 THEN
        status := 'ok';
        reason := format('parallel query does not use /dev/shm here (dynamic_shared_memory_type = %s, max_parallel_workers_per_gather = %s)',
                         v_cur.dsm, v_cur.mpwg);
    ELSIF shm_bytes IS NULL THEN
        status := 'unknown';
        reason := format('could not measure /dev/shm (%s); parallel query needs about %s', shm_source, recommended);
    ELSIF shm_bytes < v_need THEN
        status := 'risky';
        reason := format('%s (%s) is below the %s that %s parallel workers x work_mem x hash_mem_multiplier + maintenance_work_mem can take: parallel queries fail with "could not resize shared memory segment"; give the container more (docker run --shm-size=%sm, compose shm_size), or SET max_parallel_workers_per_gather = 0',
                         current, shm_source, recommended, v_cur.mpw,
                         greatest(256, ceil(v_need / 1048576)));
    ELSE
        status := 'ok';
        reason := format('%s (%s) holds the %s that parallel query can take', current, shm_source, recommended);
    END IF;
    fix := NULL;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text) IS
'Internal: settings_advice() rows for given memory, CPUs, storage, max_connections, /dev/shm size and whether the server runs in a container (with what said so).';

REVOKE ALL ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._advice(bigint, text, integer, text, text, integer, bigint, text, boolean, text) TO pg_monitor;

-- Recommended settings for the machine (detected when ram_mb or cpus is NULL).
CREATE OR REPLACE FUNCTION pgmaint.settings_advice(ram_mb integer DEFAULT NULL, cpus integer DEFAULT NULL,
                                        storage text DEFAULT 'ssd',
                                        max_connections integer DEFAULT NULL)
RETURNS TABLE (name text, current text, recommended text, unit text, status text,
               reason text, fix text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    c record;
BEGIN
    IF ram_mb IS NOT NULL AND (ram_mb < 256 OR ram_mb > 16777216) THEN
        RAISE EXCEPTION 'ram_mb must be between 256 and 16777216 (16 TB), not %', ram_mb
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the memory in megabytes, or NULL to detect it.';
    END IF;
    IF cpus IS NOT NULL AND cpus < 1 THEN
        RAISE EXCEPTION 'cpus must be at least 1, not %', cpus
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the number of CPUs, or NULL to detect it.';
    END IF;
    IF storage IS NULL OR storage NOT IN ('ssd', 'hdd', 'nvme', 'san') THEN
        RAISE EXCEPTION 'invalid storage "%"', storage
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of ssd, hdd, nvme or san.';
    END IF;
    IF max_connections IS NOT NULL AND (max_connections < 5 OR max_connections > 262143) THEN
        RAISE EXCEPTION 'max_connections must be between 5 and 262143, not %', max_connections
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass NULL to get a recommendation for the memory.';
    END IF;

    SELECT * INTO d FROM pgmaint.detected_resources();
    SELECT * INTO c FROM pgmaint.detected_container();
    IF ram_mb IS NULL AND d.ram_bytes IS NULL THEN
        RAISE EXCEPTION 'could not detect the memory of the server'
            USING ERRCODE = 'system_error',
                  DETAIL = d.ram_source,
                  HINT = 'Pass ram_mb.';
    END IF;
    IF cpus IS NULL AND d.cpus IS NULL THEN
        RAISE EXCEPTION 'could not detect the CPUs of the server'
            USING ERRCODE = 'system_error',
                  DETAIL = d.cpus_source,
                  HINT = 'Pass cpus.';
    END IF;

    name := 'ram';
    current := coalesce(ram_mb::bigint, d.ram_bytes / 1048576) || 'MB';
    recommended := NULL;
    unit := NULL;
    status := 'ok';
    reason := CASE WHEN ram_mb IS NOT NULL THEN 'given (ram_mb)' ELSE d.ram_source END;
    fix := NULL;
    RETURN NEXT;
    name := 'cpus';
    current := coalesce(cpus, d.cpus)::text;
    reason := CASE WHEN cpus IS NOT NULL THEN 'given (cpus)' ELSE d.cpus_source END;
    RETURN NEXT;
    name := 'container';
    current := CASE WHEN c.in_container THEN c.runtime ELSE 'none' END;
    reason := c.source;
    RETURN NEXT;

    RETURN QUERY
    SELECT a.* FROM pgmaint._advice(coalesce(ram_mb::bigint, d.ram_bytes / 1048576),
                                    CASE WHEN ram_mb IS NOT NULL THEN 'given' ELSE d.ram_source END,
                                    coalesce(cpus, d.cpus),
                                    CASE WHEN cpus IS NOT NULL THEN 'given' ELSE d.cpus_source END,
                                    storage, max_connections, d.shm_bytes, d.shm_source,
                                    c.in_container, c.source) a;
END
$$;

COMMENT ON FUNCTION pgmaint.settings_advice(integer, integer, text, integer) IS
'Recommended settings for ram_mb and cpus (detected from the container limits when NULL) and for the container the server runs in (logging_collector): name, current, recommended, unit, status (ok, differs, risky), reason, fix (ALTER SYSTEM statement, or patronictl edit-config where Patroni manages the server).';

REVOKE ALL ON FUNCTION pgmaint.settings_advice(integer, integer, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.settings_advice(integer, integer, text, integer) TO pg_monitor;

-- Security and logging audit of the server's configuration.
CREATE OR REPLACE FUNCTION pgmaint.config_audit()
RETURNS TABLE (check_name text, status text, detail text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hba       boolean;
    v_lines     text;
    v_loopback  text;
    v_n         bigint;
    v_hidden    bigint;
    v_val       text;
    v_ssl       text;
    v_overrides text;
    g           record;
    v_ct        record;
    v_lc        record;
BEGIN
    -- pg_hba_file_rules is readable by superusers only unless granted (PG15)
    v_hba := has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE')
             AND has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT');

    -- trust on host lines: anyone who reaches the port logs in without a password
    check_name := 'hba_trust';
    IF NOT v_hba THEN
        status := 'unknown';
        detail := 'cannot read pg_hba_file_rules: it needs superuser or GRANT SELECT ON pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_hba_file_rules()';
        fix := NULL;
    ELSE
        SELECT string_agg(format('line %s (%s %s %s %s)', h.line_number, h.type,
                                 array_to_string(h.database, ','), array_to_string(h.user_name, ','),
                                 coalesce(h.address, '') || coalesce('/' || h.netmask, '')),
                          ', ' ORDER BY h.line_number)
                 FILTER (WHERE NOT (h.address ~ '^127\.' OR h.address IN ('::1', 'localhost'))),
               string_agg(format('line %s (%s)', h.line_number, h.address), ', ' ORDER BY h.line_number)
                 FILTER (WHERE h.address ~ '^127\.' OR h.address IN ('::1', 'localhost'))
          INTO v_lines, v_loopback
          FROM pg_catalog.pg_hba_file_rules h
         WHERE h.type LIKE 'host%' AND h.auth_method = 'trust';
        IF v_lines IS NOT NULL THEN
            status := 'critical';
            detail := 'trust authentication on host lines reachable from the network: ' || v_lines;
        ELSIF v_loopback IS NOT NULL THEN
            status := 'warning';
            detail := 'trust authentication on loopback host lines (any local process, any container sharing the network namespace): ' || v_loopback;
        ELSE
            status := 'ok';
            detail := 'no host line uses trust';
        END IF;
        fix := CASE WHEN status <> 'ok'
                    THEN 'In pg_hba.conf, replace trust by scram-sha-256 on those lines, then SELECT pg_reload_conf();' END;
    END IF;
    RETURN NEXT;

    -- password hashing: scram-sha-256 resists replay and offline cracking better than md5
    check_name := 'password_encryption';
    SELECT s.reset_val INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'password_encryption';
    status := CASE WHEN v_val = 'scram-sha-256' THEN 'ok' ELSE 'warning' END;
    detail := format('password_encryption = %s', v_val);
    fix := CASE WHEN status <> 'ok' THEN pgmaint._set_fix('password_encryption', 'scram-sha-256') END;
    RETURN NEXT;

    check_name := 'hba_md5';
    IF NOT v_hba THEN
        status := 'unknown';
        detail := 'cannot read pg_hba_file_rules: it needs superuser or GRANT SELECT ON pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_hba_file_rules()';
        fix := NULL;
    ELSE
        SELECT string_agg(format('line %s (%s)', h.line_number, h.auth_method), ', ' ORDER BY h.line_number)
          INTO v_lines
          FROM pg_catalog.pg_hba_file_rules h
         WHERE h.auth_method IN ('md5', 'password');
        status := CASE WHEN v_lines IS NULL THEN 'ok' ELSE 'warning' END;
        detail := coalesce('md5 or clear-text password authentication: ' || v_lines,
                           'no md5 or password rules');
        fix := CASE WHEN v_lines IS NOT NULL
                    THEN 'Re-set every password with password_encryption = scram-sha-256, then replace md5/password by scram-sha-256 in pg_hba.conf and SELECT pg_reload_conf();' END;
    END IF;
    RETURN NEXT;

    -- listening on every interface without TLS sends passwords' exchanges and data in clear
    check_name := 'listen_without_ssl';
    SELECT s.setting INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'listen_addresses';
    SELECT s.setting INTO v_ssl FROM pg_catalog.pg_settings s WHERE s.name = 'ssl';
    IF v_val IS NULL OR v_ssl IS NULL THEN
        status := 'unknown';
        detail := 'cannot read listen_addresses or ssl (needs pg_read_all_settings)';
        fix := NULL;
    ELSIF pgmaint._listens_everywhere(v_val) AND v_ssl = 'off' THEN
        status := 'warning';
        detail := format('listen_addresses = ''%s'' and ssl = off: connections from other hosts are not encrypted', v_val);
        fix := 'ALTER SYSTEM SET ssl = on (with ssl_cert_file and ssl_key_file), or publish the port on 127.0.0.1 only';
    ELSE
        status := 'ok';
        detail := format('listen_addresses = ''%s'', ssl = %s', v_val, v_ssl);
        fix := NULL;
    END IF;
    RETURN NEXT;

    -- applications as superuser: client sessions of superuser roles, except this
    -- session and the administration tools (psql, pg_dump, ... by application_name).
    -- Without pg_read_all_stats, backend_type of other roles' sessions is hidden.
    check_name := 'superuser_applications';
    SELECT count(*) FILTER (WHERE a.backend_type = 'client backend'),
           string_agg(DISTINCT format('%s as %s', coalesce(nullif(a.application_name, ''), '(no application_name)'),
                                      a.usename), ', ') FILTER (WHERE a.backend_type = 'client backend'),
           count(*) FILTER (WHERE a.backend_type IS NULL)
      INTO v_n, v_lines, v_hidden
      FROM pg_catalog.pg_stat_activity a
      JOIN pg_catalog.pg_roles su ON su.oid = a.usesysid
     WHERE su.rolsuper
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND coalesce(a.application_name, '') NOT IN
           ('psql', 'pg_dump', 'pg_dumpall', 'pg_restore', 'pg_basebackup', 'pg_rewind',
            'vacuumdb', 'reindexdb', 'clusterdb', 'pg_amcheck', 'pg_upgrade', 'pg_cron')
       AND coalesce(a.application_name, '') NOT LIKE 'pg\_regress%'
       AND coalesce(a.application_name, '') NOT LIKE 'pgAdmin%';
    IF v_n > 0 THEN
        status := 'warning';
        detail := format('%s session(s) as a superuser: %s', v_n, v_lines);
        fix := 'CREATE ROLE app LOGIN PASSWORD ''...''; GRANT the privileges it needs; connect the application as that role';
    ELSIF v_hidden > 0 THEN
        status := 'unknown';
        detail := format('cannot tell whether %s superuser session(s) are applications: it needs pg_read_all_stats', v_hidden);
        fix := NULL;
    ELSE
        status := 'ok';
        detail := 'no application session runs as a superuser';
        fix := NULL;
    END IF;
    RETURN NEXT;

    -- timeouts: set in the configuration (reset_val) or for some role or database
    FOR g IN
        SELECT t.ord, t.name AS gname, t.recommended AS guide, s.reset_val, s.unit
          FROM pgmaint._guide_settings() t
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.name
         WHERE t.topic = 'timeout'
         ORDER BY t.ord
    LOOP
        check_name := g.gname;
        SELECT string_agg(format('%s=%s for %s', g.gname, split_part(c, '=', 2),
                                 concat_ws(' in ', coalesce('role ' || ro.rolname, NULL),
                                           coalesce('database ' || db.datname, NULL))), ', ')
          INTO v_overrides
          FROM pg_catalog.pg_db_role_setting d
          LEFT JOIN pg_catalog.pg_roles ro ON ro.oid = d.setrole
          LEFT JOIN pg_catalog.pg_database db ON db.oid = d.setdatabase,
               unnest(d.setconfig) AS c
         WHERE split_part(c, '=', 1) = g.gname
           AND split_part(c, '=', 2) NOT IN ('0', '');
        IF g.reset_val IS NULL THEN
            status := 'unknown';
            detail := format('cannot read %s', g.gname);
        ELSIF g.reset_val <> '0' THEN
            status := 'ok';
            detail := format('%s = %s', g.gname,
                             pgmaint._ms_text(g.reset_val::numeric * pgmaint._unit_factor(g.unit)));
        ELSIF v_overrides IS NOT NULL THEN
            status := 'ok';
            detail := format('%s is 0 in the configuration but set per role or database: %s', g.gname, v_overrides);
        ELSE
            status := 'warning';
            detail := format('%s is 0 (unset): nothing stops a runaway statement or a leaked session', g.gname);
        END IF;
        fix := CASE WHEN status = 'warning'
                    THEN pgmaint._set_fix(g.gname, g.guide) END;
        RETURN NEXT;
    END LOOP;

    -- logging the guide asks for
    FOR g IN
        SELECT t.ord, t.name AS gname, t.recommended AS guide, s.reset_val
          FROM pgmaint._guide_settings() t
          LEFT JOIN pg_catalog.pg_settings s ON s.name = t.name
         WHERE t.topic = 'logging'
         ORDER BY t.ord
    LOOP
        check_name := g.gname;
        IF g.reset_val IS NULL THEN
            status := 'unknown';
            detail := format('cannot read %s', g.gname);
        ELSIF g.reset_val IN ('off', '-1') THEN
            status := 'warning';
            detail := format('%s is off', g.gname);
        ELSE
            status := 'ok';
            detail := format('%s = %s', g.gname, current_setting(g.gname));
        END IF;
        fix := CASE WHEN status = 'warning'
                    THEN pgmaint._set_fix(g.gname, g.guide) END;
        RETURN NEXT;
    END LOOP;

    -- in a container, the log belongs on stderr, where docker logs reads it
    check_name := 'logging_collector';
    SELECT * INTO v_ct FROM pgmaint.detected_container();
    SELECT * INTO v_lc FROM pgmaint._logging_collector_advice(v_ct.in_container, v_ct.source);
    SELECT s.reset_val INTO v_val FROM pg_catalog.pg_settings s WHERE s.name = 'logging_collector';
    IF v_val IS NULL THEN
        status := 'unknown';
        detail := 'cannot read logging_collector';
        fix := NULL;
    ELSIF v_ct.in_container AND v_val = 'on' THEN
        status := 'warning';
        detail := format('logging_collector = on in a container: %s', v_lc.reason);
        fix := 'ALTER SYSTEM SET logging_collector = off (or set it in the mounted postgresql.conf), then restart the container';
    ELSE
        status := 'ok';
        detail := format('logging_collector = %s, %s (%s)', v_val,
                         CASE WHEN v_ct.in_container THEN 'in a container' ELSE 'not in a container' END,
                         v_ct.source);
        fix := NULL;
    END IF;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgmaint.config_audit() IS
'Security and logging audit: trust and md5 in pg_hba.conf (unknown without the privilege to read it), password_encryption, listen_addresses without ssl, applications connected as superuser, unset timeouts, logging off, logging_collector on in a container. Rows: check_name, status (ok, warning, critical, unknown), detail, fix.';

REVOKE ALL ON FUNCTION pgmaint.config_audit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.config_audit() TO pg_monitor;

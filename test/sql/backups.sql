--
-- pgmaint.backups, _backup_record(), backup_status(), the backup and archiver checks
--
-- nothing recorded yet: the check warns and its hint shows the command
SELECT last_backup_at IS NULL AS no_backup, last_drill_at IS NULL AS no_drill,
       max_age, backups_kept
  FROM pgmaint.backup_status();
SELECT status, value, message, hint
  FROM pgmaint.health_checks() WHERE check_name = 'backup';
SELECT pgmaint._backup_max_age() AS default_max_age;
SELECT pgmaint._backup_age_text(interval '27 hours 5 minutes 59 seconds') AS age,
       pgmaint._backup_age_text(interval '2 days') AS days,
       pgmaint._backup_age_text(interval '-5 seconds') AS clock_skew;

-- invalid events are refused, and leave nothing behind
SELECT pgmaint._backup_record('nap', 'ok', now());
SELECT pgmaint._backup_record('backup', 'maybe', now());
SELECT pgmaint._backup_record('backup', 'ok', now() + interval '1 hour');
SELECT pgmaint._backup_record('backup', 'failed', now());
SELECT pgmaint._backup_record('backup', 'ok', now(), file => '/b/db.dump');
SELECT pgmaint._backup_record('drill', 'ok', now(), verified => true);
SELECT pgmaint._backup_record('verify', 'ok', now(), backup_id => 424242);
\set VERBOSITY terse
SELECT pgmaint._backup_record('backup', 'ok', now(), file => '/b/db.dump', format => 'custom',
                              bytes => 10, sha256 => 'not a checksum', row_counts => '{}');
\set VERBOSITY default
SELECT count(*) AS rows_after_errors FROM pgmaint.backups;

BEGIN;
-- a verified backup two hours old: ok
SELECT pgmaint._backup_record('backup', 'ok', now() - interval '2 hours',
                              file => '/b/db_20260101T020000Z.dump', format => 'custom',
                              bytes => 1000, sha256 => repeat('a', 64), verified => true,
                              row_counts => '{"public.t": 3}') AS b1 \gset
SELECT status, value,
       message LIKE 'the newest verified backup is 2h 0_m old (limit 26h 00m): /b/db_20260101T020000Z.dump; no restore drill yet' AS message_ok,
       hint IS NULL AS no_hint
  FROM pgmaint.health_checks() WHERE check_name = 'backup';
SELECT last_backup_status, last_backup_file, last_backup_age >= interval '2 hours' AS aged,
       last_verified_file, backups_kept
  FROM pgmaint.backup_status();

-- a failed verify marks the backup failed: critical
SELECT pgmaint._backup_record('verify', 'failed', now(), file => '/b/db_20260101T020000Z.dump',
                              backup_id => :b1, error => 'sha256 mismatch') > :b1 AS recorded;
SELECT status, verified, error FROM pgmaint.backups WHERE id = :b1;
SELECT status, value, message LIKE '%failed: verify failed: sha256 mismatch' AS names_reason
  FROM pgmaint.health_checks() WHERE check_name = 'backup';
SELECT pgmaint.health()->>'status' AS overall;

-- a passing verify trusts it again
SELECT pgmaint._backup_record('verify', 'ok', now(), file => '/b/db_20260101T020000Z.dump',
                              backup_id => :b1) > :b1 AS recorded;
SELECT status, verified, error FROM pgmaint.backups WHERE id = :b1;
SELECT status FROM pgmaint.health_checks() WHERE check_name = 'backup';

-- a failed drill is critical until a drill passes
SELECT pgmaint._backup_record('drill', 'failed', now(), backup_id => :b1,
                              error => 'public.t: 3 rows at dump time, 2 restored') > :b1 AS recorded;
SELECT status, value, message LIKE 'the last restore drill (%) failed: public.t: 3 rows at dump time, 2 restored' AS names_reason
  FROM pgmaint.health_checks() WHERE check_name = 'backup';
SELECT pgmaint._backup_record('drill', 'ok', now(), backup_id => :b1) > :b1 AS recorded;
SELECT status, message LIKE '%last restore drill passed % ago' AS mentions_drill
  FROM pgmaint.health_checks() WHERE check_name = 'backup';
SELECT last_drill_status FROM pgmaint.backup_status();

-- older than pgmaint.backup_max_age: warning
UPDATE pgmaint.backups SET started = now() - interval '27 hours' WHERE id = :b1;
SELECT status, value, message LIKE 'the newest verified backup is 27h 0_m old (limit 26h 00m)%' AS stale,
       hint LIKE 'Backups stopped%' AS hint_ok
  FROM pgmaint.health_checks() WHERE check_name = 'backup';

-- the newest run failed (its plain copy): critical, even though the custom file is fine
SELECT pgmaint._backup_record('backup', 'ok', now(), file => '/b/db_20260102T020000Z.dump',
                              format => 'custom', bytes => 1000, sha256 => repeat('b', 64),
                              verified => true, row_counts => '{"public.t": 3}') AS b2 \gset
SELECT pgmaint._backup_record('backup', 'failed', now(), file => '/b/db_20260102T020000Z.sql',
                              format => 'plain', error => 'pg_dump failed: disk full') > :b2 AS recorded;
SELECT status, value, message LIKE 'the last backup (%, /b/db_20260102T020000Z.sql) failed: pg_dump failed: disk full' AS names_file
  FROM pgmaint.health_checks() WHERE check_name = 'backup';
SELECT last_backup_status, last_verified_file FROM pgmaint.backup_status();

-- a prune marks the backups it removed, and is audited
SELECT pgmaint._backup_record('prune', 'ok', now(), file => '/b',
                              detail => jsonb_build_object('removed', jsonb_build_array('/b/db_20260101T020000Z.dump'),
                                                           'removed_ids', jsonb_build_array(:b1))) > :b2 AS recorded;
SELECT id = :b1 AS is_b1, removed_at IS NOT NULL AS removed
  FROM pgmaint.backups WHERE kind = 'backup' ORDER BY id;
SELECT backups_kept FROM pgmaint.backup_status();
SELECT action, target, detail->'removed' AS removed, dry_run
  FROM pgmaint.actions WHERE action LIKE 'backup\_%';
ROLLBACK;

-- the archiver: archiving is off in the test cluster
SELECT status, value, message FROM pgmaint.health_checks() WHERE check_name = 'archiver';

/*-------------------------------------------------------------------------
 *
 * checkfmt.c
 *	  How the health checks write their results: the hints' texts (the one
 *	  copy), a check's value, message and hint, and the numbers, times and
 *	  names in them printed exactly as SQL prints them (numeric arithmetic
 *	  and round(), interval and timestamptz output in the session's styles,
 *	  regclass under the pinned search_path, pg_size_pretty()).
 *
 * The bottom layer of the checks: check*.c, evaluate.c and grading.c call
 * it; it calls only PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "utils/varlena.h"
#include "utils/timestamp.h"

#include "health.h"

/*
 * The hints, by PgmHint.  A hint with an argument takes it as %1$s (once or
 * more); the others have none.
 */
static const char *const pgm_hints[PGMAINT_NHINTS] = {
	[PGMAINT_HINT_NONE] = NULL,
	[PGMAINT_HINT_GRANT_MONITOR] =
	"Grant pg_monitor to the role that calls health().",
	[PGMAINT_HINT_FAILED] =
	"pgmaint could not measure this check; the other checks still answer. SELECT pgmaint.health(live => true) measures it again in your session; report the error to pgmaint's maintainers.",
	[PGMAINT_HINT_CONNECTIONS] =
	"See who holds the connections in pgmaint.connections(), pgmaint.connection_sources() and pgmaint.connection_leaks(); size the pools with pgmaint.connection_budget().",
	[PGMAINT_HINT_IDLE] =
	"The application left a transaction open: it holds its locks and keeps vacuum from removing dead rows. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and fix the code path.",
	[PGMAINT_HINT_IDLE_ABORTED] =
	"A statement failed and the application never sent ROLLBACK: the session keeps its connection slot until it does. See pgmaint.connection_leaks(), end it with pgmaint.terminate_leaks(dry_run => false), and roll back on errors in the code path.",
	[PGMAINT_HINT_CACHE_HIT] =
	"Find the tables that miss the cache in pgmaint.cache_hit_tables(); raise shared_buffers (pgmaint.settings_advice()) if the working set does not fit.",
	[PGMAINT_HINT_SAMPLER_NOT_PRELOADED] =
	"Add pgmaint to shared_preload_libraries and restart the server; then check pgmaint.sampler_status().",
	[PGMAINT_HINT_SAMPLER_STALLED] =
	"The worker is alive but not sampling: look for lock waits in pg_stat_activity (backend_type 'pgmaint sampler') and for warnings in the server log; pgmaint.sampler_status() has its last error.",
	[PGMAINT_HINT_SAMPLER_DOWN] =
	"See pgmaint.sampler_status(), pgmaint.workers() and the server log: the launcher starts this database's worker again within seconds unless pgmaint.max_databases or max_worker_processes is exhausted.",
	[PGMAINT_HINT_LONG_QUERIES] =
	"See the statements in pgmaint.long_running_queries(); end one with pg_cancel_backend(pid).",
	[PGMAINT_HINT_BLOCKED] =
	"Find the root blocker in pgmaint.blocking_locks().",
	[PGMAINT_HINT_XID] =
	"Autovacuum is not freezing fast enough: find what holds it back (pgmaint.long_running_queries(), pgmaint.connection_leaks(), prepared transactions, slots), then VACUUM (FREEZE) the tables with the oldest xid_age in pgmaint.vacuum_stats() (with its TOAST table: not PROCESS_TOAST false).",
	[PGMAINT_HINT_MXID] =
	"Find long transactions holding row locks (pgmaint.long_running_queries(), pgmaint.connection_leaks()), then VACUUM (FREEZE) the tables with the oldest mxid_age in pgmaint.vacuum_stats().",
	[PGMAINT_HINT_INVALID_INDEXES] =
	"Drop and recreate them (DROP INDEX CONCURRENTLY, CREATE INDEX CONCURRENTLY); pgmaint.index_advice() lists them.",
	[PGMAINT_HINT_SEQ_CYCLE] =
	"At the wrap every insert fails with a duplicate key: make the sequence NO CYCLE and bigint (ALTER SEQUENCE ... NO CYCLE AS bigint MAXVALUE 9223372036854775807) and the column bigint; pgmaint.sequences() lists every sequence, most used first.",
	[PGMAINT_HINT_SEQ_COLUMN] =
	"Inserts fail with \"out of range\" when the column's type runs out, whatever the sequence allows: change the column to bigint (ALTER TABLE ... ALTER COLUMN ... TYPE bigint rewrites the table) before it does; pgmaint.sequences() lists every sequence, most used first.",
	[PGMAINT_HINT_SEQ] =
	"Change the column and its sequence to bigint (ALTER SEQUENCE ... AS bigint) before it runs out; pgmaint.sequences() lists every sequence, most used first.",
	[PGMAINT_HINT_PREPARED] =
	"Finish it with COMMIT PREPARED or ROLLBACK PREPARED (see pg_prepared_xacts); it also holds back vacuum (pgmaint.vacuum_stats()).",
	[PGMAINT_HINT_INACTIVE_SLOTS] =
	"Drop slots nobody uses (SELECT pg_drop_replication_slot('name');); the WAL they hold is in pgmaint.health_checks() as slot_wal_retention.",
	[PGMAINT_HINT_SLOT_WAL] =
	"A slow or gone consumer holds WAL back: fix it or drop its slot, and set max_slot_wal_keep_size; check the disk with pgmaint.disk_space().",
	[PGMAINT_HINT_TABLE_CACHE] =
	"See pgmaint.cache_hit_tables(" CppAsString2(PGMAINT_HEALTH_MIN_READS) "): raise shared_buffers or add indexes for the tables read from disk.",
	[PGMAINT_HINT_DEAD] =
	"See pgmaint.vacuum_stats(): VACUUM the table, and lower its autovacuum_vacuum_scale_factor.",
	[PGMAINT_HINT_AV_DISABLED] =
	"Autovacuum skips %1$s (only anti-wraparound vacuums run): VACUUM it on a schedule of your own, or turn autovacuum back on with ALTER TABLE %1$s RESET (autovacuum_enabled); pgmaint.vacuum_stats() shows the others.",
	[PGMAINT_HINT_AV_BEHIND] =
	"See pgmaint.vacuum_stats() WHERE falling_behind: VACUUM those tables (a table that only receives inserts needs it too, to set its pages all-visible and freeze them), check autovacuum is on for them and raise autovacuum_max_workers or lower autovacuum_vacuum_cost_delay.",
	[PGMAINT_HINT_DISK_FREE] =
	"See pgmaint.table_sizes() for the largest tables; free space or grow the volume before it fills.",
	[PGMAINT_HINT_BLOAT_WAIT] =
	"Wait for the worker's next space measurement, or see pgmaint.bloat() now.",
	[PGMAINT_HINT_BLOAT_NONE] =
	"See pgmaint.bloat().",
	[PGMAINT_HINT_BLOAT] =
	"See pgmaint.bloat() (exact => true with pgstattuple): VACUUM lets the space be reused; REINDEX CONCURRENTLY an index, pg_repack or VACUUM FULL (in a maintenance window) a table to give it back.",
	[PGMAINT_HINT_DISK_ETA_WAIT] =
	"See pgmaint.table_growth() once the worker has recorded sizes.",
	[PGMAINT_HINT_DISK_ETA] =
	"See pgmaint.table_growth() for what grows; expire or archive old rows (pgmaint.retention), or grow the volume.",
	[PGMAINT_HINT_REPL_LAG] =
	"See pgmaint.replication(): a standby behind replays slowly (long queries on it, max_standby_streaming_delay), is paused, or cannot keep up with the primary's writes.",
	[PGMAINT_HINT_REPL_BYTES] =
	"See pgmaint.replication(); WAL waits in pg_wal until every standby replayed it (pgmaint.disk_space()).",
	[PGMAINT_HINT_STANDBY_MISSING] =
	"Start the missing standby or see its log; pgmaint.replication() lists the connected ones. A missing synchronous standby blocks commits that wait for it.",
	[PGMAINT_HINT_WAL_RECEIVER] =
	"Check primary_conninfo and the primary's pg_hba.conf, and the standby's log; pgmaint.replication() shows what it received.",
	[PGMAINT_HINT_REPLAY_PAUSED] =
	"Resume it with SELECT pg_wal_replay_resume(); while paused the standby falls behind (pgmaint.replication() shows how far).",
	[PGMAINT_HINT_VACUUM_AGE] =
	"Autovacuum has not reached it because its changes stay below the vacuum threshold: VACUUM it, or lower its autovacuum_vacuum_scale_factor (pgmaint.tune_table()); pgmaint.maintenance_age() lists the tables.",
	[PGMAINT_HINT_ANALYZE_AGE] =
	"The planner's statistics of the table are old while its data changes: ANALYZE it, or lower its autovacuum_analyze_scale_factor; pgmaint.maintenance_age() lists the tables.",
	[PGMAINT_HINT_NOT_VALID] =
	"Validate them (ALTER TABLE ... VALIDATE CONSTRAINT, which does not block writes): pgmaint.schema_advice() lists them with the statement.",
	[PGMAINT_HINT_DISABLED_TRIGGERS] =
	"Enable them again (ALTER TABLE ... ENABLE TRIGGER) unless they are off on purpose: pgmaint.schema_advice() lists them with the statement.",
	[PGMAINT_HINT_CHECKPOINTS] =
	"WAL fills max_wal_size before checkpoint_timeout comes, so checkpoints (and full-page writes after them) come too often: raise max_wal_size (the guide: 1GB; more for heavy writes) until most checkpoints are timed (pgmaint.settings_advice() sizes it for the machine). A manual CHECKPOINT or a base backup counts as requested too.",
	[PGMAINT_HINT_ARCHIVE_READY] =
	"The archiver fails or falls behind (see the archiver check and pg_stat_archiver): each waiting file stays in pg_wal until archive_command succeeds for it; fix or speed up archive_command before the disk fills (pgmaint.disk_space()).",
	[PGMAINT_HINT_BACKUP_RUN] =
	"Run \"pgmaint_backup backup --dir /var/backups/pgmaint -d %1$s\" and schedule it daily with cron (docs/backups.md).",
	[PGMAINT_HINT_BACKUP_FAILED] =
	"Read the error, fix its cause, and run \"pgmaint_backup backup\" again; \"SELECT * FROM pgmaint.backups ORDER BY id DESC\" shows the history.",
	[PGMAINT_HINT_DRILL_FAILED] =
	"A backup did not restore as recorded: read the error, then run \"pgmaint_backup drill\" again after a new backup.",
	[PGMAINT_HINT_BACKUP_STALE] =
	"Backups stopped: check the cron job that runs \"pgmaint_backup backup\" and its log.",
	[PGMAINT_HINT_ARCHIVER] =
	"The archive_command fails: run it by hand as the server's user on the file named, and read the server log; WAL piles up in pg_wal until it succeeds (pgmaint.disk_space() shows the room left).",
	[PGMAINT_HINT_RETENTION] =
	"See SELECT * FROM pgmaint.retention_plan() (its error column names what stops a run); runs happen with pgmaint.policy = apply (every pgmaint.retention_interval) or the pgmaint-retention pg_cron job, and CALL pgmaint.apply_retention() runs one now; last_result says why a run stopped.",
	[PGMAINT_HINT_PITR_FULL] =
	"Run \"pgmaint_backup pitr backup --type full\"; \"pgmaint_backup pitr schedule\" keeps a weekly one (failed runs are in cron.job_run_details, their errors in pgmaint.backups).",
	[PGMAINT_HINT_PITR_DIFF] =
	"Run \"pgmaint_backup pitr backup --type diff\"; \"pgmaint_backup pitr schedule\" keeps a daily one. A restore replays the WAL archived since the newest backup: the older it is, the longer a restore takes.",
	[PGMAINT_HINT_PITR_BACKUP_FAILED] =
	"Read the error, fix its cause and run \"pgmaint_backup pitr backup\" again; \"pgmaint_backup pitr check\" tests the repository and the archiving.",
	[PGMAINT_HINT_PITR_DRILL_FAILED] =
	"The backups and the archive could not restore a recent point: read the error, fix its cause (often the archiving: see the recovery_point and archiver checks) and run \"pgmaint_backup pitr drill\" again.",
	[PGMAINT_HINT_PITR_ARCHIVE_OFF] =
	"Run \"pgmaint_backup pitr setup\" again and apply the settings it prints (archive_mode needs a restart).",
	[PGMAINT_HINT_PITR_NO_DRILL] =
	"Run \"pgmaint_backup pitr drill\"; \"pgmaint_backup pitr schedule\" runs one weekly.",
	[PGMAINT_HINT_RECOVERY_POINT] =
	"WAL not archived is lost with the disk. Files waiting: the archiver fails or falls behind (see the archiver check and pg_stat_archiver; \"pgmaint_backup pitr check\" tests the repository). Otherwise lower archive_timeout (\"pgmaint_backup pitr setup --rpo SECONDS\").",
	[PGMAINT_HINT_NOT_GRADED] =
	"Put the check's row back into pgmaint.thresholds (warning, critical); to turn a check off, set enabled = false instead of deleting its row.",
	[PGMAINT_HINT_UNSAMPLED] =
	"Raise pgmaint.max_databases (and max_worker_processes with it) and restart the server; pgmaint.workers() lists the databases and why each has no worker.",
};

static void pgm_copy_clipped(char *dst, const char *src, int size);

/* The text of a hint (NULL for none); %1$s stands for its argument. */
const char *
pgm_hint_text(PgmHint hint)
{
	Assert(hint >= 0 && hint < PGMAINT_NHINTS);
	return pgm_hints[hint];
}

/* Copies src into dst of size bytes, cut at a character boundary. */
static void
pgm_copy_clipped(char *dst, const char *src, int size)
{
	int			len = strlen(src);

	if (len >= size)
		len = pg_mbcliplen(src, len, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Sets a check's value from a numeric's text; NULL: no value (unknown). */
void
pgm_result_value(PgmCheckResult *r, const char *numeric_text)
{
	r->answered = true;
	r->has_value = numeric_text != NULL;
	if (numeric_text != NULL)
		pgm_copy_clipped(r->value, numeric_text, sizeof(r->value));
	else
		r->value[0] = '\0';
}

/* Sets a check's message. */
void
pgm_result_message(PgmCheckResult *r, const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	r->answered = true;
	pgm_copy_clipped(r->message, buf.data, sizeof(r->message));
	pfree(buf.data);
}

/* Sets a check's hint and the argument it takes (NULL when none). */
void
pgm_result_hint(PgmCheckResult *r, PgmHint hint, const char *arg)
{
	r->hint = (int16) hint;
	pgm_copy_clipped(r->hint_arg, arg ? arg : "", sizeof(r->hint_arg));
}

/* Marks a check failed: unknown, with the error in its message. */
void
pgm_result_fail(PgmCheckResult *r, const char *message, int sqlerrcode)
{
	memset(r, 0, sizeof(PgmCheckResult));
	pgm_result_value(r, NULL);
	pgm_result_message(r, "the check failed: %s (SQLSTATE %s)",
					   message ? message : "unknown error", unpack_sql_state(sqlerrcode));
	pgm_result_hint(r, PGMAINT_HINT_FAILED, NULL);
	r->failed = true;
}

/* The text of a check's hint with its argument, or NULL when it has none. */
char *
pgm_result_hint_text(const PgmCheckResult *r)
{
	const char *fmt = pgm_hint_text((PgmHint) r->hint);

	if (fmt == NULL)
		return NULL;
	if (strstr(fmt, "%1$s") == NULL)
		return pstrdup(fmt);
	return psprintf(fmt, r->hint_arg);
}

/* --- numerics --- */

/* An int8 as a numeric. */
Datum
pgm_num(int64 v)
{
	return NumericGetDatum(int64_to_numeric(v));
}

/* A numeric literal such as "100.0" (its scale counts, as in SQL). */
Datum
pgm_num_lit(const char *literal)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(literal),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* A float8 as a numeric, as float8::numeric converts it. */
Datum
pgm_num_f8(double v)
{
	return DirectFunctionCall1(float8_numeric, Float8GetDatum(v));
}

/* extract(epoch FROM interval) of an interval of usecs microseconds. */
Datum
pgm_num_secs(int64 usecs)
{
	char		buf[64];
	uint64		a = usecs < 0 ? (uint64) (-(usecs + 1)) + 1 : (uint64) usecs;

	snprintf(buf, sizeof(buf), "%s" UINT64_FORMAT ".%06d", usecs < 0 ? "-" : "",
			 a / USECS_PER_SEC, (int) (a % USECS_PER_SEC));
	return pgm_num_lit(buf);
}

/* a * b */
Datum
pgm_num_mul(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_mul, a, b);
}

/* a / b (an ERROR when b is 0, as in SQL) */
Datum
pgm_num_div(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_div, a, b);
}

/* a - b */
Datum
pgm_num_sub(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_sub, a, b);
}

/* a + b */
Datum
pgm_num_add(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_add, a, b);
}

/* -1, 0 or 1 as a is below, equal to or above b. */
int
pgm_num_cmp(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

/* round(a, scale) */
Datum
pgm_num_round(Datum a, int scale)
{
	return DirectFunctionCall2(numeric_round, a, Int32GetDatum(scale));
}

/* A numeric's text. */
char *
pgm_num_text(Datum a)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, a));
}

/* round(a, scale)'s text. */
char *
pgm_num_round_text(Datum a, int scale)
{
	return pgm_num_text(pgm_num_round(a, scale));
}

/* --- times and names --- */

/*
 * date_trunc('second', make_interval(secs => s)) of a duration of usecs
 * microseconds, as text (the session's IntervalStyle).
 */
char *
pgm_duration_text(int64 usecs)
{
	Interval	iv;

	memset(&iv, 0, sizeof(iv));
	iv.time = usecs - usecs % USECS_PER_SEC;
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&iv)));
}

/*
 * A word of a command line a user pastes into a POSIX shell: as it is when it
 * holds only letters, digits and _./:@%+=,- (none of which a shell treats
 * specially), else in single quotes with each ' written '\'' -- so that a
 * database named x$(touch /tmp/p) stays a name when a hint is pasted.
 */
char *
pgm_shell_quote(const char *word)
{
	StringInfoData buf;
	const char *p;
	bool		plain = *word != '\0';

	for (p = word; *p && plain; p++)
		plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || strchr("_./:@%+=,-", *p) != NULL;
	if (plain)
		return pstrdup(word);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '\'');
	for (p = word; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoString(&buf, "'\\''");
		else
			appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '\'');
	return buf.data;
}

/* An interval's text. */
char *
pgm_interval_text(Datum interval)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, interval));
}

/* A timestamptz's text (the session's DateStyle and TimeZone). */
char *
pgm_timestamptz_text(TimestampTz ts)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ts)));
}

/* to_char(ts, format), in the session's TimeZone. */
char *
pgm_to_char(TimestampTz ts, const char *format)
{
	return TextDatumGetCString(DirectFunctionCall2(timestamptz_to_char,
												   TimestampTzGetDatum(ts),
												   CStringGetTextDatum(format)));
}

/* to_char(ts AT TIME ZONE 'UTC', format). */
char *
pgm_to_char_utc(TimestampTz ts, const char *format)
{
	Datum		utc = DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum("UTC"),
										  TimestampTzGetDatum(ts));

	return TextDatumGetCString(DirectFunctionCall2(timestamp_to_char, utc,
												   CStringGetTextDatum(format)));
}

/* relid::regclass::text under the search_path in effect (pinned: pg_catalog, pg_temp). */
char *
pgm_regclass_text(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

/* pg_size_pretty(bytes) */
char *
pgm_size_pretty(int64 bytes)
{
	return TextDatumGetCString(DirectFunctionCall1(pg_size_pretty, Int64GetDatum(bytes)));
}

/* Compares two texts as ORDER BY does, in the database's default collation. */
int
pgm_text_cmp(const char *a, const char *b)
{
	return varstr_cmp(a, strlen(a), b, strlen(b), DEFAULT_COLLATION_OID);
}

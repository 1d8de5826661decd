/*-------------------------------------------------------------------------
 *
 * checkrecords.c
 *	  The checks that read what pgmaint records in its own tables: backup
 *	  (pgmaint.backup_status(), from pgmaint.backups), bloat and
 *	  disk_full_eta (family "space": what the worker's space step recorded
 *	  every pgmaint.growth_interval in bloat_estimates and size_history) and
 *	  retention (pgmaint.retention).
 *
 * Each reads a few rows through SPI with a plan prepared once per process
 * (each statement reads an index or a table of a few rows, and
 * backup_status() is PL/pgSQL so that its own plans are cached too); the
 * rules and the messages are here.  A caller that may not read a table gets
 * the check unknown, with a message that says why, never an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "health.h"

/* Format of the times in the messages */
#define PGMAINT_MINUTE_FORMAT		"YYYY-MM-DD HH24:MI"
#define PGMAINT_UTC_MINUTE_FORMAT	"YYYY-MM-DD HH24:MI \"UTC\""
#define PGMAINT_UTC_SECOND_FORMAT	"YYYY-MM-DD HH24:MI:SS \"UTC\""

/* The last backup, verified backup and drill */
static const char *const pgm_backup_sql =
"SELECT s.last_backup_at, s.last_backup_status, s.last_backup_file, s.last_backup_error,"
" s.last_verified_at, s.last_verified_file,"
" EXTRACT(epoch FROM s.last_verified_age)::pg_catalog.int8,"
" s.last_drill_at, s.last_drill_status, s.last_drill_error,"
" EXTRACT(epoch FROM s.last_drill_age)::pg_catalog.int8,"
" EXTRACT(epoch FROM s.max_age)::pg_catalog.int8,"
" s.last_verified_age OPERATOR(pg_catalog.>) s.max_age"
" FROM pgmaint.backup_status() s";

/* The worker's last space measurement: its time and the worst bloat estimate */
static const char *const pgm_space_sql =
"SELECT (SELECT pg_catalog.max(h.taken_at) FROM pgmaint.size_history h"
" WHERE h.relid OPERATOR(pg_catalog.=) 0),"
" b.relid, b.kind, b.bytes, b.wasted_bytes,"
" pg_catalog.round(100 OPERATOR(pg_catalog.*) pgmaint._bloat_min_ratio())::pg_catalog.int8"
" FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT * FROM pgmaint.bloat_estimates e"
" ORDER BY e.wasted_bytes DESC, e.relid LIMIT 1) b ON true";

/* The database's size a week ago (the oldest record since) and at the measurement */
static const char *const pgm_growth_sql =
"SELECT o.taken_at, o.bytes,"
" (SELECT h.bytes FROM pgmaint.size_history h WHERE h.relid OPERATOR(pg_catalog.=) 0"
" AND h.taken_at OPERATOR(pg_catalog.=) $1)"
" FROM pgmaint.size_history o"
" WHERE o.relid OPERATOR(pg_catalog.=) 0 AND o.taken_at OPERATOR(pg_catalog.>=)"
" (pg_catalog.now() OPERATOR(pg_catalog.-) interval '7 days')"
" ORDER BY o.taken_at LIMIT 1";

/* The enabled retention rules */
static const char *const pgm_retention_sql =
"SELECT t.relid::pg_catalog.oid, t.keep, t.oldest_row_at,"
" CASE WHEN (t.last_result OPERATOR(pg_catalog.->>) 'stopped') OPERATOR(pg_catalog.~~) 'error:%'"
"        OR (t.last_result OPERATOR(pg_catalog.->>) 'stopped') OPERATOR(pg_catalog.~~) 'not shrinking:%'"
"      THEN t.last_result OPERATOR(pg_catalog.->>) 'stopped' END,"
" pg_catalog.format('%I.%I', n.nspname, c.relname)"
" FROM pgmaint.retention t"
" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid"
" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
" WHERE t.enabled ORDER BY 5";

static SPIPlanPtr pgm_backup_plan = NULL;
static SPIPlanPtr pgm_space_plan = NULL;
static SPIPlanPtr pgm_growth_plan = NULL;
static SPIPlanPtr pgm_retention_plan = NULL;

/* The recovery point of WAL archiving: the rule's one home is recovery_point() (sql/code/62-pitr.sql) */
static const char *const pgm_recovery_point_sql =
"SELECT r.archive_mode, pg_catalog.round(EXTRACT(epoch FROM r.lag)::pg_catalog.numeric, 1), r.message"
" FROM pgmaint.recovery_point() r";

/* Point-in-time recovery as pgmaint_backup pitr recorded it (pitr_status()) */
static const char *const pgm_pitr_sql =
"SELECT s.in_use, s.since,"
" s.last_full_at, s.last_full_label, pg_catalog.round(EXTRACT(epoch FROM s.last_full_age)),"
" EXTRACT(epoch FROM s.last_full_age)::pg_catalog.int8,"
" s.last_backup_at, s.last_backup_label, s.last_backup_type,"
" pg_catalog.round(EXTRACT(epoch FROM s.last_backup_age)),"
" EXTRACT(epoch FROM s.last_backup_age)::pg_catalog.int8,"
" s.last_attempt_at, s.last_attempt_status, s.last_attempt_error,"
" s.last_drill_at, s.last_drill_status, s.last_drill_error,"
" EXTRACT(epoch FROM s.last_drill_age)::pg_catalog.int8, s.last_drill_target, s.backups_kept"
" FROM pgmaint.pitr_status() s";

/* Whether point-in-time recovery is in use (_pitr_in_use(), as pitr_status() says) */
static const char *const pgm_pitr_in_use_sql = "SELECT pgmaint._pitr_in_use()";

static SPIPlanPtr pgm_recovery_point_plan = NULL;
static SPIPlanPtr pgm_pitr_in_use_plan = NULL;
static SPIPlanPtr pgm_pitr_plan = NULL;

static void pgm_spi_run(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes,
						Datum *args);
static bool pgm_col(int row, int col, Datum *value);
static char *pgm_col_text(int row, int col);
static char *pgm_age_text(int64 seconds);

/*
 * Runs sql (its plan prepared once and kept) with SPI connected by the
 * caller; the rows are in SPI_tuptable.
 */
static void
pgm_spi_run(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes, Datum *args)
{
	int			ret;

	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not prepare a query of the health checks: %s",
							SPI_result_code_string(SPI_result))));
		if (SPI_keepplan(p) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not keep a query of the health checks")));
		*plan = p;
	}
	ret = SPI_execute_plan(*plan, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not read pgmaint's records: %s", SPI_result_code_string(ret))));
}

/* Column col (1-based) of result row row; false when it is NULL. */
static bool
pgm_col(int row, int col, Datum *value)
{
	bool		isnull;

	*value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	return !isnull;
}

/* Column col of row row as text, NULL when it is NULL (copied out of SPI). */
static char *
pgm_col_text(int row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	char	   *copy;

	if (v == NULL)
		return NULL;
	copy = SPI_palloc(strlen(v) + 1);
	strcpy(copy, v);
	return copy;
}

/* An age in seconds as "27h 05m" (pgmaint._backup_age_text()): the same in every IntervalStyle. */
static char *
pgm_age_text(int64 seconds)
{
	seconds = Max(seconds, 0);
	return psprintf(INT64_FORMAT "h %02dm", seconds / 3600, (int) ((seconds % 3600) / 60));
}

/*
 * Family "backup": 0 ok, 1 no fresh verified backup or none at all, 2 the
 * last backup or drill failed.
 */
void
pgm_family_backup(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r = &eval->checks[PGMAINT_CHECK_BACKUP];
	Datum		d;
	bool		has_backup;
	TimestampTz backup_at = 0;
	char	   *backup_status;
	char	   *backup_file;
	char	   *backup_error;
	bool		has_verified;
	char	   *verified_file;
	int64		verified_age = 0;
	bool		has_drill;
	TimestampTz drill_at = 0;
	char	   *drill_status;
	char	   *drill_error;
	bool		has_drill_age;
	int64		drill_age = 0;
	int64		max_age = 0;
	bool		stale = false;
	bool		backup_failed;
	bool		drill_failed;

	if (!in->privs.read_backups)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "cannot read pgmaint.backups: the caller lacks pg_monitor");
		pgm_result_hint(r, PGMAINT_HINT_GRANT_MONITOR, NULL);
		return;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	pgm_spi_run(&pgm_backup_plan, pgm_backup_sql, 0, NULL, NULL);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("pgmaint.backup_status() returned " UINT64_FORMAT " rows", SPI_processed)));
	has_backup = pgm_col(0, 1, &d);
	if (has_backup)
		backup_at = DatumGetTimestampTz(d);
	backup_status = pgm_col_text(0, 2);
	backup_file = pgm_col_text(0, 3);
	backup_error = pgm_col_text(0, 4);
	has_verified = pgm_col(0, 5, &d);
	verified_file = pgm_col_text(0, 6);
	if (pgm_col(0, 7, &d))
		verified_age = DatumGetInt64(d);
	has_drill = pgm_col(0, 8, &d);
	if (has_drill)
		drill_at = DatumGetTimestampTz(d);
	drill_status = pgm_col_text(0, 9);
	drill_error = pgm_col_text(0, 10);
	has_drill_age = pgm_col(0, 11, &d);
	if (has_drill_age)
		drill_age = DatumGetInt64(d);
	if (pgm_col(0, 12, &d))
		max_age = DatumGetInt64(d);
	if (pgm_col(0, 13, &d))
		stale = DatumGetBool(d);
	SPI_finish();

	backup_failed = backup_status != NULL && strcmp(backup_status, "failed") == 0;
	drill_failed = drill_status != NULL && strcmp(drill_status, "failed") == 0;

	if (!has_backup)
		pgm_result_value(r, "1");
	else if (backup_failed || drill_failed)
		pgm_result_value(r, "2");
	else if (!has_verified || stale)
		pgm_result_value(r, "1");
	else
		pgm_result_value(r, "0");

	if (!has_backup)
		pgm_result_message(r, "no backup has been recorded");
	else if (backup_failed)
		pgm_result_message(r, "the last backup (%s, %s) failed: %s",
						   pgm_to_char_utc(backup_at, PGMAINT_UTC_MINUTE_FORMAT),
						   backup_file ? backup_file : "no file",
						   backup_error ? backup_error : "");
	else if (drill_failed)
		pgm_result_message(r, "the last restore drill (%s) failed: %s",
						   has_drill ? pgm_to_char_utc(drill_at, PGMAINT_UTC_MINUTE_FORMAT) : "",
						   drill_error ? drill_error : "");
	else if (!has_verified)
		pgm_result_message(r, "no backup has been verified");
	else
		pgm_result_message(r, "the newest verified backup is %s old (limit %s): %s; %s",
						   pgm_age_text(verified_age), pgm_age_text(max_age),
						   verified_file ? verified_file : "",
						   !has_drill ? "no restore drill yet"
						   : psprintf("last restore drill passed %s ago",
									  has_drill_age ? pgm_age_text(drill_age) : ""));

	if (!has_backup || !has_verified)
		pgm_result_hint(r, PGMAINT_HINT_BACKUP_RUN, pgm_shell_quote(get_database_name(MyDatabaseId)));
	else if (backup_failed)
		pgm_result_hint(r, PGMAINT_HINT_BACKUP_FAILED, NULL);
	else if (drill_failed)
		pgm_result_hint(r, PGMAINT_HINT_DRILL_FAILED, NULL);
	else
		pgm_result_hint(r, PGMAINT_HINT_BACKUP_STALE, NULL);
}

/*
 * Family "space": the worst bloat estimate and the days until the disk is
 * full at the database's growth over the last week, from the worker's space
 * measurements.
 */
void
pgm_family_space(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *bloat = &eval->checks[PGMAINT_CHECK_BLOAT];
	PgmCheckResult *eta = &eval->checks[PGMAINT_CHECK_DISK_FULL_ETA];
	Datum		d;
	bool		measured_known;
	TimestampTz measured = 0;
	bool		worst_known;
	Oid			worst_relid = InvalidOid;
	char	   *worst_kind = NULL;
	int64		worst_bytes = 0;
	int64		worst_wasted = 0;
	int64		min_ratio_pct = 0;
	bool		oldest_known = false;
	TimestampTz oldest_at = 0;
	int64		oldest_bytes = 0;
	bool		now_known = false;
	int64		now_bytes = 0;

	/* like the other checks: unknown, never an error, for a caller that cannot see */
	if (!in->privs.read_space)
	{
		pgm_result_value(bloat, NULL);
		pgm_result_message(bloat, "cannot read the worker's space measurements: the caller lacks pg_monitor");
		pgm_result_hint(bloat, PGMAINT_HINT_GRANT_MONITOR, NULL);
		*eta = *bloat;
		return;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	pgm_spi_run(&pgm_space_plan, pgm_space_sql, 0, NULL, NULL);
	measured_known = pgm_col(0, 1, &d);
	if (measured_known)
		measured = DatumGetTimestampTz(d);
	worst_known = pgm_col(0, 2, &d);
	if (worst_known)
	{
		worst_relid = DatumGetObjectId(d);
		worst_kind = pgm_col_text(0, 3);
		if (pgm_col(0, 4, &d))
			worst_bytes = DatumGetInt64(d);
		if (pgm_col(0, 5, &d))
			worst_wasted = DatumGetInt64(d);
	}
	if (pgm_col(0, 6, &d))
		min_ratio_pct = DatumGetInt64(d);
	if (measured_known)
	{
		Oid			argtypes[1] = {TIMESTAMPTZOID};
		Datum		args[1] = {TimestampTzGetDatum(measured)};

		pgm_spi_run(&pgm_growth_plan, pgm_growth_sql, 1, argtypes, args);
		if (SPI_processed == 1)
		{
			oldest_known = pgm_col(0, 1, &d);
			if (oldest_known)
				oldest_at = DatumGetTimestampTz(d);
			if (pgm_col(0, 2, &d))
				oldest_bytes = DatumGetInt64(d);
			now_known = pgm_col(0, 3, &d);
			if (now_known)
				now_bytes = DatumGetInt64(d);
		}
	}
	SPI_finish();

	if (!measured_known)
	{
		pgm_result_value(bloat, NULL);
		pgm_result_message(bloat, "not measured yet: the worker estimates bloat every pgmaint.growth_interval");
		pgm_result_hint(bloat, PGMAINT_HINT_BLOAT_WAIT, NULL);
	}
	else if (!worst_known)
	{
		pgm_result_value(bloat, "0");
		pgm_result_message(bloat, "no table or index is estimated " INT64_FORMAT "%% wasted or more (measured %s)",
						   min_ratio_pct, pgm_to_char(measured, PGMAINT_MINUTE_FORMAT));
		pgm_result_hint(bloat, PGMAINT_HINT_BLOAT_NONE, NULL);
	}
	else
	{
		pgm_result_value(bloat, pgm_num_round_text(pgm_num_div(pgm_num(worst_wasted),
															   pgm_num_lit("1048576.0")), 1));
		pgm_result_message(bloat, "%s %s wastes an estimated %s of %s (%s%%; measured %s)",
						   worst_kind ? worst_kind : "", pgm_regclass_text(worst_relid),
						   pgm_size_pretty(worst_wasted), pgm_size_pretty(worst_bytes),
						   pgm_num_round_text(pgm_num_div(pgm_num_mul(pgm_num_lit("100.0"),
																	  pgm_num(worst_wasted)),
														  pgm_num(Max(worst_bytes, 1))), 0),
						   pgm_to_char(measured, PGMAINT_MINUTE_FORMAT));
		pgm_result_hint(bloat, PGMAINT_HINT_BLOAT, NULL);
	}

	if (!in->privs.all_settings)
	{
		pgm_result_value(eta, NULL);
		pgm_result_message(eta, "cannot see the data directory: the caller lacks pg_read_all_settings");
		pgm_result_hint(eta, PGMAINT_HINT_GRANT_MONITOR, NULL);
	}
	else if (!measured_known || !oldest_known || measured - oldest_at < USECS_PER_HOUR)
	{
		pgm_result_value(eta, NULL);
		pgm_result_message(eta, "not enough size history yet: the worker needs an hour of measurements");
		pgm_result_hint(eta, PGMAINT_HINT_DISK_ETA_WAIT, NULL);
	}
	else
	{
		int64		total;
		int64		free;
		int64		avail;
		Datum		days;
		Datum		rate;

		if (!pgm_disk_space(&total, &free, &avail))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file system statistics of the data directory: %m")));
		days = pgm_num_div(pgm_num_secs(measured - oldest_at), pgm_num(86400));
		if (!now_known)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("the database's size at its last measurement is missing from pgmaint.size_history")));
		rate = pgm_num_div(pgm_num_sub(pgm_num(now_bytes), pgm_num(oldest_bytes)), days);
		if (pgm_num_cmp(rate, pgm_num(0)) <= 0)
		{
			pgm_result_value(eta, "3650");
			pgm_result_message(eta, "the database did not grow since %s; %s available",
							   pgm_to_char(oldest_at, PGMAINT_MINUTE_FORMAT), pgm_size_pretty(avail));
		}
		else
		{
			Datum		full = pgm_num_round(pgm_num_div(pgm_num(avail), rate), 1);
			char	   *value = pgm_num_cmp(full, pgm_num(3650)) > 0 ? "3650" : pgm_num_text(full);

			pgm_result_value(eta, value);
			pgm_result_message(eta, "%s available, the database grows %s a day (since %s): full in about %s days",
							   pgm_size_pretty(avail),
							   pgm_size_pretty(DatumGetInt64(DirectFunctionCall1(numeric_int8, rate))),
							   pgm_to_char(oldest_at, PGMAINT_MINUTE_FORMAT), value);
		}
		pgm_result_hint(eta, PGMAINT_HINT_DISK_ETA, NULL);
	}
}

/*
 * Family "retention": the tables with an enabled rule whose oldest row (as
 * the last run measured it) is older than twice their keep interval, at
 * least two hours (the worst is the one furthest past its keep), or whose
 * last run stopped on an error of the table or because its batches did not
 * shrink it (the first by name is named).
 */
void
pgm_family_retention(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r = &eval->checks[PGMAINT_CHECK_RETENTION];
	Datum		hour = DirectFunctionCall3(interval_in, CStringGetDatum("1 hour"),
										   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	int64		rules = 0;
	int64		late = 0;
	int64		behind = 0;
	int64		failed = 0;
	char	   *worst_name = NULL;
	Datum		worst_past = (Datum) 0;
	Datum		worst_age = (Datum) 0;
	Datum		worst_keep = (Datum) 0;
	char	   *broken_name = NULL;
	char	   *broken_error = NULL;
	uint64		i;

	if (!in->privs.read_retention)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "cannot read pgmaint.retention: the caller lacks pg_monitor");
		pgm_result_hint(r, PGMAINT_HINT_GRANT_MONITOR, NULL);
		return;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	pgm_spi_run(&pgm_retention_plan, pgm_retention_sql, 0, NULL, NULL);
	/* the rows come by name: the first that failed is the one named */
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		relid;
		Datum		keep;
		Datum		oldest;
		Datum		stopped;
		Datum		age;
		Datum		limit;
		Datum		past;
		bool		is_late = false;
		bool		is_failed;

		if (!pgm_col(i, 1, &relid) || !pgm_col(i, 2, &keep))
			continue;
		rules++;
		is_failed = pgm_col(i, 4, &stopped);
		if (is_failed)
		{
			failed++;
			if (broken_name == NULL)
			{
				broken_name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5);
				broken_error = TextDatumGetCString(stopped);
			}
		}
		if (pgm_col(i, 3, &oldest))
		{
			/* now() - oldest_row_at > 2 * greatest(keep, '1 hour') */
			age = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(in->xact_now), oldest);
			limit = DirectFunctionCall2(interval_mul,
										DirectFunctionCall2(interval_larger, keep, hour),
										Float8GetDatum(2.0));
			is_late = DatumGetBool(DirectFunctionCall2(interval_gt, age, limit));
		}
		if (is_late || is_failed)
			behind++;
		if (!is_late)
			continue;
		late++;
		/* ORDER BY age - keep DESC: the rows stay valid until SPI_finish() */
		past = DirectFunctionCall2(interval_mi, age, keep);
		if (worst_name == NULL ||
			DatumGetInt32(DirectFunctionCall2(interval_cmp, past, worst_past)) > 0)
		{
			worst_name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5);
			worst_past = past;
			worst_age = age;
			worst_keep = keep;
		}
	}

	pgm_result_value(r, psprintf(INT64_FORMAT, behind));
	if (rules == 0)
		pgm_result_message(r, "no table has a retention rule");
	else if (behind == 0)
		pgm_result_message(r, INT64_FORMAT " table(s) with a retention rule, none behind", rules);
	else if (failed > 0)
	{
		/* "left"(failed, 300): characters, not bytes */
		int			len = pg_mbcharcliplen(broken_error, strlen(broken_error), 300);

		broken_error[len] = '\0';
		pgm_result_message(r, INT64_FORMAT " of " INT64_FORMAT " table(s) fall behind their retention: the last run of %s stopped with %s",
						   behind, rules, broken_name ? broken_name : "", broken_error);
	}
	else
		pgm_result_message(r, INT64_FORMAT " of " INT64_FORMAT " table(s) fall behind their retention: %s keeps %s but its oldest row is %s old",
						   late, rules, worst_name ? worst_name : "", pgm_interval_text(worst_keep),
						   pgm_interval_text(DirectFunctionCall2(interval_trunc,
																 CStringGetTextDatum("second"),
																 worst_age)));
	pgm_result_hint(r, PGMAINT_HINT_RETENTION, NULL);
	SPI_finish();
}

/*
 * Family "pitr": pitr_full_backup_age, pitr_backup_age and pitr_backup from
 * pitr_status(), and recovery_point from recovery_point() (both in
 * sql/code/62-pitr.sql, where their rules live).
 */
void
pgm_family_pitr(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *full = &eval->checks[PGMAINT_CHECK_PITR_FULL_BACKUP_AGE];
	PgmCheckResult *diff = &eval->checks[PGMAINT_CHECK_PITR_BACKUP_AGE];
	PgmCheckResult *state = &eval->checks[PGMAINT_CHECK_PITR_BACKUP];
	PgmCheckResult *rpo = &eval->checks[PGMAINT_CHECK_RECOVERY_POINT];
	char	   *archive_mode;
	char	   *lag;
	char	   *rpo_message;
	bool		archive_off;
	bool		in_use_known = false;
	bool		in_use = false;
	Datum		d;

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	pgm_spi_run(&pgm_recovery_point_plan, pgm_recovery_point_sql, 0, NULL, NULL);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("pgmaint.recovery_point() returned " UINT64_FORMAT " rows", SPI_processed)));
	archive_mode = pgm_col_text(0, 1);
	lag = pgm_col_text(0, 2);
	rpo_message = pgm_col_text(0, 3);
	archive_off = archive_mode != NULL && strcmp(archive_mode, "off") == 0;

	if (!in->privs.read_backups)
	{
		PgmCheckResult *each[3] = {full, diff, state};
		int			i;

		for (i = 0; i < 3; i++)
		{
			pgm_result_value(each[i], NULL);
			pgm_result_message(each[i], "cannot read pgmaint.backups: the caller lacks pg_monitor");
			pgm_result_hint(each[i], PGMAINT_HINT_GRANT_MONITOR, NULL);
		}
	}
	else
	{
		TimestampTz base = 0;
		int64		since_base = 0;
		char	   *full_label = NULL;
		char	   *full_value = NULL;
		int64		full_age = 0;
		bool		has_full = false;
		bool		has_backup = false;
		char	   *backup_label = NULL;
		char	   *backup_type = NULL;
		char	   *backup_value = NULL;
		int64		backup_age = 0;
		bool		has_attempt = false;
		TimestampTz attempt_at = 0;
		char	   *attempt_status = NULL;
		char	   *attempt_error = NULL;
		bool		has_drill = false;
		TimestampTz drill_at = 0;
		char	   *drill_status = NULL;
		char	   *drill_error = NULL;
		int64		drill_age = 0;
		bool		has_target = false;
		TimestampTz target = 0;
		int64		kept = 0;

		/* not in use (most servers): pitr_status() has nothing more to say */
		pgm_spi_run(&pgm_pitr_in_use_plan, pgm_pitr_in_use_sql, 0, NULL, NULL);
		in_use_known = SPI_processed == 1 && pgm_col(0, 1, &d);
		in_use = in_use_known && DatumGetBool(d);
		if (in_use)
		{
			pgm_spi_run(&pgm_pitr_plan, pgm_pitr_sql, 0, NULL, NULL);
			if (SPI_processed != 1)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("pgmaint.pitr_status() returned " UINT64_FORMAT " rows", SPI_processed)));
			in_use_known = pgm_col(0, 1, &d);
			in_use = in_use_known && DatumGetBool(d);
			/* coalesce(since, pg_postmaster_start_time()) */
			base = pgm_col(0, 2, &d) ? DatumGetTimestampTz(d) : PgStartTime;
			since_base = in->now - base;
			has_full = pgm_col(0, 3, &d);
			full_label = pgm_col_text(0, 4);
			full_value = pgm_col_text(0, 5);
			if (pgm_col(0, 6, &d))
				full_age = DatumGetInt64(d);
			has_backup = pgm_col(0, 7, &d);
			backup_label = pgm_col_text(0, 8);
			backup_type = pgm_col_text(0, 9);
			backup_value = pgm_col_text(0, 10);
			if (pgm_col(0, 11, &d))
				backup_age = DatumGetInt64(d);
			has_attempt = pgm_col(0, 12, &d);
			if (has_attempt)
				attempt_at = DatumGetTimestampTz(d);
			attempt_status = pgm_col_text(0, 13);
			attempt_error = pgm_col_text(0, 14);
			has_drill = pgm_col(0, 15, &d);
			if (has_drill)
				drill_at = DatumGetTimestampTz(d);
			drill_status = pgm_col_text(0, 16);
			drill_error = pgm_col_text(0, 17);
			if (pgm_col(0, 18, &d))
				drill_age = DatumGetInt64(d);
			has_target = pgm_col(0, 19, &d);
			if (has_target)
				target = DatumGetTimestampTz(d);
			if (pgm_col(0, 20, &d))
				kept = DatumGetInt64(d);
		}

		/* pitr_full_backup_age */
		if (!in_use)
		{
			pgm_result_value(full, "0");
			pgm_result_message(full, "point-in-time recovery is not set up (no pgBackRest backup recorded; archive_command does not run pgbackrest)");
		}
		else if (!has_full)
		{
			pgm_result_value(full, pgm_num_round_text(pgm_num_secs(since_base), 0));
			pgm_result_message(full, "no full pgBackRest backup recorded since %s (%s ago)",
							   pgm_to_char_utc(base, PGMAINT_UTC_MINUTE_FORMAT),
							   pgm_age_text(since_base / USECS_PER_SEC));
		}
		else
		{
			pgm_result_value(full, full_value);
			pgm_result_message(full, "the newest full backup, %s, is %s old",
							   full_label ? full_label : "", pgm_age_text(full_age));
		}
		pgm_result_hint(full, PGMAINT_HINT_PITR_FULL, NULL);

		/* pitr_backup_age */
		if (!in_use)
		{
			pgm_result_value(diff, "0");
			pgm_result_message(diff, "point-in-time recovery is not set up");
		}
		else if (!has_backup)
		{
			pgm_result_value(diff, pgm_num_round_text(pgm_num_secs(since_base), 0));
			pgm_result_message(diff, "no full or differential pgBackRest backup recorded since %s",
							   pgm_to_char_utc(base, PGMAINT_UTC_MINUTE_FORMAT));
		}
		else
		{
			pgm_result_value(diff, backup_value);
			pgm_result_message(diff, "the newest %s backup, %s, is %s old (" INT64_FORMAT " backup(s) kept)",
							   backup_type && strcmp(backup_type, "full") == 0 ? "full" : "differential",
							   backup_label ? backup_label : "", pgm_age_text(backup_age), kept);
		}
		pgm_result_hint(diff, PGMAINT_HINT_PITR_DIFF, NULL);

		/* pitr_backup: 0 ok, 1 no drill passed yet, 2 a failure or archiving off */
		pgm_result_hint(state, PGMAINT_HINT_NONE, NULL);
		if (!in_use)
		{
			pgm_result_value(state, "0");
			pgm_result_message(state, "point-in-time recovery is not set up");
		}
		else if (attempt_status != NULL && strcmp(attempt_status, "failed") == 0)
		{
			pgm_result_value(state, "2");
			pgm_result_message(state, "the last pgBackRest backup (%s) failed: %s",
							   has_attempt ? pgm_to_char_utc(attempt_at, PGMAINT_UTC_MINUTE_FORMAT) : "",
							   attempt_error ? attempt_error : "");
			pgm_result_hint(state, PGMAINT_HINT_PITR_BACKUP_FAILED, NULL);
		}
		else if (drill_status != NULL && strcmp(drill_status, "failed") == 0)
		{
			pgm_result_value(state, "2");
			pgm_result_message(state, "the last restore drill (%s) failed: %s",
							   has_drill ? pgm_to_char_utc(drill_at, PGMAINT_UTC_MINUTE_FORMAT) : "",
							   drill_error ? drill_error : "");
			pgm_result_hint(state, PGMAINT_HINT_PITR_DRILL_FAILED, NULL);
		}
		else if (archive_off && !RecoveryInProgress())
		{
			pgm_result_value(state, "2");
			pgm_result_message(state, "archive_mode is off although pgBackRest backups are recorded: no point after the newest backup can be restored");
			pgm_result_hint(state, PGMAINT_HINT_PITR_ARCHIVE_OFF, NULL);
		}
		else if (!has_drill)
		{
			pgm_result_value(state, "1");
			pgm_result_message(state, "no restore drill has been run: nothing has shown yet that the backups and the archive restore");
			pgm_result_hint(state, PGMAINT_HINT_PITR_NO_DRILL, NULL);
		}
		else
		{
			pgm_result_value(state, "0");
			pgm_result_message(state, "the last backup %s; the last restore drill passed %s ago (restored to %s)",
							   !has_attempt ? "attempt is not recorded"
							   : psprintf("(%s) succeeded", pgm_to_char_utc(attempt_at, PGMAINT_UTC_MINUTE_FORMAT)),
							   pgm_age_text(drill_age),
							   has_target ? pgm_to_char_utc(target, PGMAINT_UTC_SECOND_FORMAT) : "");
		}
	}

	/* recovery_point: 0 while archiving is off and point-in-time recovery is not in use */
	if (archive_off && in_use_known && !in_use)
		pgm_result_value(rpo, "0");
	else
		pgm_result_value(rpo, lag);
	pgm_result_message(rpo, "%s", rpo_message ? rpo_message : "");
	pgm_result_hint(rpo, PGMAINT_HINT_RECOVERY_POINT, NULL);
	SPI_finish();
}

/*-------------------------------------------------------------------------
 *
 * status.c
 *	  The health statuses: their names and order, the grading of a value
 *	  against its thresholds, the overall status of a set of checks, and
 *	  their encoding in metrics().  The one home of these rules: SQL reaches
 *	  them through the functions below, the worker calls them directly.
 *
 * Order, best first: ok, unknown, warning, critical.  The overall status is
 * the worst check's, with one rule for unknown:
 *  - a check unknown for lack of data (no reads yet, not measured yet, not
 *    preloaded, not visible to the caller) counts as ok: nothing is wrong
 *    that pgmaint can see, and a new server must be able to be healthy;
 *  - a check whose measurement failed (its function raised an error) counts
 *    as warning: a broken check must not hide behind an "ok".
 * The overall status is therefore never unknown.
 *
 * SQL served: _grade(), _status_order(), _status_metric(), _overall_status()
 * (sql/code/00-base.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "pgmaint.h"

/* The statuses' names, in the order of PgmHealthStatus */
static const char *const pgm_status_names[] = {"ok", "unknown", "warning", "critical"};

PG_FUNCTION_INFO_V1(pgmaint_grade);
PG_FUNCTION_INFO_V1(pgmaint_status_order);
PG_FUNCTION_INFO_V1(pgmaint_status_metric);
PG_FUNCTION_INFO_V1(pgmaint_overall_status);

/* The name of a status. */
const char *
pgm_status_name(PgmHealthStatus status)
{
	Assert(status >= PGMAINT_STATUS_OK && status <= PGMAINT_STATUS_CRITICAL);
	return pgm_status_names[status];
}

/* The status a name stands for; false when the name is none of them. */
bool
pgm_status_parse(const char *name, PgmHealthStatus *status)
{
	int			i;

	for (i = 0; i < (int) lengthof(pgm_status_names); i++)
	{
		if (strcmp(name, pgm_status_names[i]) == 0)
		{
			*status = (PgmHealthStatus) i;
			return true;
		}
	}
	return false;
}

/*
 * Grades a value against its thresholds: unknown without a value; when both
 * thresholds are set and critical is below warning, lower values are worse.
 */
PgmHealthStatus
pgm_grade(bool has_value, double value,
		  bool has_warning, double warning, bool has_critical, double critical)
{
	if (!has_value)
		return PGMAINT_STATUS_UNKNOWN;
	if (has_warning && has_critical && critical < warning)
	{
		if (value <= critical)
			return PGMAINT_STATUS_CRITICAL;
		if (value <= warning)
			return PGMAINT_STATUS_WARNING;
		return PGMAINT_STATUS_OK;
	}
	if (has_critical && value >= critical)
		return PGMAINT_STATUS_CRITICAL;
	if (has_warning && value >= warning)
		return PGMAINT_STATUS_WARNING;
	return PGMAINT_STATUS_OK;
}

/* How one check counts in the overall status (see the file header). */
PgmHealthStatus
pgm_status_weight(PgmHealthStatus status, bool failed)
{
	if (status == PGMAINT_STATUS_UNKNOWN)
		return failed ? PGMAINT_STATUS_WARNING : PGMAINT_STATUS_OK;
	return status;
}

/* The value of pgmaint_check_status in metrics(): -1 for unknown. */
int
pgm_status_metric(PgmHealthStatus status)
{
	switch (status)
	{
		case PGMAINT_STATUS_OK:
			return 0;
		case PGMAINT_STATUS_WARNING:
			return 1;
		case PGMAINT_STATUS_CRITICAL:
			return 2;
		case PGMAINT_STATUS_UNKNOWN:
			break;
	}
	return -1;
}

/* A status argument of a SQL function, or an ERROR. */
static PgmHealthStatus
pgm_status_arg(text *arg)
{
	char	   *name = text_to_cstring(arg);
	PgmHealthStatus status;

	if (!pgm_status_parse(name, &status))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid health status \"%s\"", name),
				 errhint("A status is one of ok, unknown, warning and critical.")));
	return status;
}

/* A numeric argument as a double. */
static double
pgm_numeric_arg(Datum arg)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, arg));
}

/*
 * SQL pgmaint._grade(value numeric, warning numeric, critical numeric): the
 * status of value against the thresholds (NULL ones are not set).
 */
Datum
pgmaint_grade(PG_FUNCTION_ARGS)
{
	PgmHealthStatus status;

	status = pgm_grade(!PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : pgm_numeric_arg(PG_GETARG_DATUM(0)),
					   !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : pgm_numeric_arg(PG_GETARG_DATUM(1)),
					   !PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : pgm_numeric_arg(PG_GETARG_DATUM(2)));
	PG_RETURN_TEXT_P(cstring_to_text(pgm_status_name(status)));
}

/* SQL pgmaint._status_order(status text): 0 (ok) to 3 (critical), best first. */
Datum
pgmaint_status_order(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) pgm_status_arg(PG_GETARG_TEXT_PP(0)));
}

/* SQL pgmaint._status_metric(status text): pgmaint_check_status's value. */
Datum
pgmaint_status_metric(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pgm_status_metric(pgm_status_arg(PG_GETARG_TEXT_PP(0))));
}

/*
 * SQL pgmaint._overall_status(statuses text[], failed boolean[]): the
 * overall status of the checks (ok, warning or critical); failed[i] says
 * that check i could not be measured (NULL or a shorter array: it could).
 */
Datum
pgmaint_overall_status(PG_FUNCTION_ARGS)
{
	PgmHealthStatus worst = PGMAINT_STATUS_OK;
	Datum	   *statuses;
	bool	   *status_nulls;
	int			nstatuses;
	Datum	   *failed = NULL;
	bool	   *failed_nulls = NULL;
	int			nfailed = 0;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_TEXT_P(cstring_to_text(pgm_status_name(worst)));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT,
					  &statuses, &status_nulls, &nstatuses);
	if (!PG_ARGISNULL(1))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), BOOLOID, 1, true, TYPALIGN_CHAR,
						  &failed, &failed_nulls, &nfailed);

	for (i = 0; i < nstatuses; i++)
	{
		PgmHealthStatus status;
		bool		this_failed;

		if (status_nulls[i])
			continue;
		status = pgm_status_arg(DatumGetTextPP(statuses[i]));
		this_failed = i < nfailed && !failed_nulls[i] && DatumGetBool(failed[i]);
		worst = Max(worst, pgm_status_weight(status, this_failed));
	}
	PG_RETURN_TEXT_P(cstring_to_text(pgm_status_name(worst)));
}

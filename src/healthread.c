/*-------------------------------------------------------------------------
 *
 * healthread.c
 *	  The SQL functions that read the health checks: health(live),
 *	  health_checks() and _graded_checks().  Each reads the worker's
 *	  evaluation of this database from shared memory when it may, and
 *	  evaluates now with the same code otherwise, then grades against the
 *	  thresholds its snapshot sees.
 *
 * The worker's evaluation is used when
 *  - the caller did not ask for a live run (health(live => true));
 *  - the worker published one for this database (pgmaint preloaded, the
 *    worker samples this database);
 *  - it is fresh: measured within PGMAINT_FRESH_PERIODS of the worker's
 *    evaluation periods (pgmaint.health_interval, by default the sample
 *    interval, at most a minute), plus PGMAINT_FRESH_SLACK;
 *  - the caller may see everything the worker saw (pg_read_all_stats,
 *    pg_read_all_settings, the archive status directory and pgmaint's
 *    tables: what pg_monitor has).
 * health() says which ("source": "worker" or "live") and when it was
 * measured ("measured_at").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "health.h"

/* How many evaluation periods the worker's evaluation stays fresh, and a slack */
#define PGMAINT_FRESH_PERIODS	2
#define PGMAINT_FRESH_SLACK		(1 * USECS_PER_SEC)

/* Columns of health_checks() and of _graded_checks() (which adds failed) */
#define PGMAINT_HEALTH_CHECKS_COLS	7
#define PGMAINT_GRADED_CHECKS_COLS	8

/* When the current overall status began, without the worker (events of the table) */
static const char *const pgm_since_sql = "SELECT pgmaint._status_since($1)";

static SPIPlanPtr pgm_since_plan = NULL;

PG_FUNCTION_INFO_V1(pgmaint_health);
PG_FUNCTION_INFO_V1(pgmaint_health_checks);
PG_FUNCTION_INFO_V1(pgmaint_graded_checks);

static bool pgm_current_evaluation(bool live, PgmEvaluation *eval, PgmOverallSince *since,
								   bool *has_since);
static bool pgm_may_read_events(void);
static void pgm_jb_key(JsonbParseState **state, const char *key);
static void pgm_jb_text(JsonbParseState **state, const char *text);
static void pgm_jb_numeric(JsonbParseState **state, const char *text);
static void pgm_jb_bool(JsonbParseState **state, bool b);
static void pgm_jb_timestamptz(JsonbParseState **state, TimestampTz ts);
static void pgm_jb_sampler(JsonbParseState **state);
static TimestampTz pgm_since_without_worker(PgmHealthStatus overall);
static void pgm_graded_rows(FunctionCallInfo fcinfo, bool with_failed, bool live);

/*
 * The evaluation health() and the others read: the worker's when it may be
 * used (see the file header; returns true), else one made now.  since is
 * the worker's (has_since true) when the worker published one for this
 * database, whatever the source.
 */
static bool
pgm_current_evaluation(bool live, PgmEvaluation *eval, PgmOverallSince *since,
					   bool *has_since)
{
	PgmCallerPrivs privs;
	PgmOverallSince worker_since;
	PgmTableSample tables;
	bool		published;

	pgm_caller_privs(&privs);
	published = pgm_healthshm_read(MyDatabaseId, eval, &worker_since);
	*has_since = published;
	if (published)
		*since = worker_since;
	if (published && !live && pgm_caller_sees_all(&privs) &&
		GetCurrentTimestamp() - eval->measured_at <=
		(int64) PGMAINT_FRESH_PERIODS * Max(eval->period_s, 1) * USECS_PER_SEC + PGMAINT_FRESH_SLACK)
		return true;

	/* live: the worker's last pass over pg_class when it is fresh, unless asked not to */
	if (!live && pgm_ring_last_tables(&tables))
		pgm_evaluate(eval, &privs, &tables.health, NULL);
	else
		pgm_evaluate(eval, &privs, NULL, NULL);
	return false;
}

/* True when the caller may read the worker's health events (pgmaint.events()). */
static bool
pgm_may_read_events(void)
{
	Oid			nsp = get_namespace_oid("pgmaint", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("health_events", nsp) : InvalidOid;

	return OidIsValid(relid) &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/* Pushes an object key. */
static void
pgm_jb_key(JsonbParseState **state, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	(void) pushJsonbValue(state, WJB_KEY, &v);
}

/* Pushes a string value, or null for NULL. */
static void
pgm_jb_text(JsonbParseState **state, const char *text)
{
	JsonbValue	v;

	if (text == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) text;
		v.val.string.len = strlen(text);
	}
	(void) pushJsonbValue(state, WJB_VALUE, &v);
}

/* Pushes a numeric value from its text, or null for NULL. */
static void
pgm_jb_numeric(JsonbParseState **state, const char *text)
{
	JsonbValue	v;

	if (text == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvNumeric;
		v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
	}
	(void) pushJsonbValue(state, WJB_VALUE, &v);
}

/* Pushes a boolean value. */
static void
pgm_jb_bool(JsonbParseState **state, bool b)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = b;
	(void) pushJsonbValue(state, WJB_VALUE, &v);
}

/* Pushes a timestamptz as to_jsonb() writes it (a string), or null for 0. */
static void
pgm_jb_timestamptz(JsonbParseState **state, TimestampTz ts)
{
	char		out[MAXDATELEN + 1];

	if (ts == 0)
	{
		pgm_jb_text(state, NULL);
		return;
	}
	/* a copy: the value points to its text until the object is complete */
	pgm_jb_text(state, pstrdup(JsonEncodeDateTime(out, TimestampTzGetDatum(ts), TIMESTAMPTZOID, NULL)));
}

/*
 * Pushes health()'s sampler section: the row of pgmaint.sampler_status() as
 * to_jsonb() writes it, with "preloaded" and "detail".
 */
static void
pgm_jb_sampler(JsonbParseState **state)
{
	Datum		values[PGMAINT_STATUS_COLS];
	bool		nulls[PGMAINT_STATUS_COLS];
	PgmSamplerView view;
	int			a;

	pgm_sampler_status_values(values, nulls);
	(void) pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	for (a = 0; a < PGMAINT_STATUS_COLS; a++)
	{
		Datum		v = values[a];
		JsonbValue	jv;

		pgm_jb_key(state, pgm_sampler_columns[a].name);
		if (nulls[a])
		{
			pgm_jb_text(state, NULL);
			continue;
		}
		switch (pgm_sampler_columns[a].type)
		{
			case BOOLOID:
				pgm_jb_bool(state, DatumGetBool(v));
				break;
			case INT4OID:
			case INT8OID:
				jv.type = jbvNumeric;
				jv.val.numeric = int64_to_numeric(pgm_sampler_columns[a].type == INT4OID
												  ? DatumGetInt32(v) : DatumGetInt64(v));
				(void) pushJsonbValue(state, WJB_VALUE, &jv);
				break;
			case TIMESTAMPTZOID:
				pgm_jb_timestamptz(state, DatumGetTimestampTz(v));
				break;
			case INTERVALOID:
				pgm_jb_text(state, pgm_interval_text(v));
				break;
			default:
				pgm_jb_text(state, TextDatumGetCString(v));
				break;
		}
	}
	pgm_sampler_view(&view);
	pgm_jb_key(state, "preloaded");
	pgm_jb_bool(state, view.preloaded);
	pgm_jb_key(state, "detail");
	pgm_jb_text(state, view.running ? "the sampler worker is running"
				: (view.last_error ? view.last_error : "the sampler worker is not running"));
	(void) pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

/* When the current overall status began without the worker: _status_since(), through SPI. */
static TimestampTz
pgm_since_without_worker(PgmHealthStatus overall)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(pgm_status_name(overall))};
	bool		isnull = true;
	Datum		at = (Datum) 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	if (pgm_since_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(pgm_since_sql, 1, argtypes, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL || SPI_keepplan(p) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not prepare the query of health()'s \"since\"")));
		pgm_since_plan = p;
	}
	if (SPI_execute_plan(pgm_since_plan, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	return isnull ? 0 : DatumGetTimestampTz(at);
}

/*
 * SQL pgmaint.health(live boolean DEFAULT false): the summary of the
 * server's health as jsonb (see the COMMENT in sql/code/90-health.sql).
 * The keys are pushed in jsonb's own order (shorter first, then bytewise),
 * so that the objects need no reordering.
 */
Datum
pgmaint_health(PG_FUNCTION_ARGS)
{
	bool		live = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
	PgmEvaluation *eval = palloc(sizeof(PgmEvaluation));
	PgmGraded  *graded = palloc(sizeof(PgmGraded) * PGMAINT_NCHECKS);
	PgmOverallSince since;
	bool		has_since;
	bool		from_worker;
	PgmHealthStatus overall;
	TimestampTz since_at = 0;
	JsonbParseState *state = NULL;
	JsonbValue *result;
	char		sysid[32];
	int			n;
	int			i;

	from_worker = pgm_current_evaluation(live, eval, &since, &has_since);
	n = pgm_grade_evaluation(eval, graded);
	overall = pgm_graded_overall(graded, n);

	/* since: when the run of the worker's events with this overall status began */
	if (has_since)
	{
		if (since.known && since.status == overall && pgm_may_read_events())
			since_at = since.since;
	}
	else
		since_at = pgm_since_without_worker(overall);
	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, GetSystemIdentifier());

	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	pgm_jb_key(&state, "role");
	pgm_jb_text(&state, RecoveryInProgress() ? "standby" : "primary");
	pgm_jb_key(&state, "since");
	pgm_jb_timestamptz(&state, since_at);

	pgm_jb_key(&state, "checks");
	(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < n; i++)
	{
		PgmGraded  *g = &graded[i];

		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		pgm_jb_key(&state, "hint");
		pgm_jb_text(&state, g->hint);
		pgm_jb_key(&state, "check");
		pgm_jb_text(&state, pgm_check_name(g->check));
		pgm_jb_key(&state, "value");
		pgm_jb_numeric(&state, g->result->has_value ? g->result->value : NULL);
		pgm_jb_key(&state, "status");
		pgm_jb_text(&state, pgm_status_name(g->status));
		pgm_jb_key(&state, "message");
		pgm_jb_text(&state, g->message);
		pgm_jb_key(&state, "warning");
		pgm_jb_numeric(&state, g->warning);
		pgm_jb_key(&state, "critical");
		pgm_jb_numeric(&state, g->critical);
		(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	(void) pushJsonbValue(&state, WJB_END_ARRAY, NULL);

	pgm_jb_key(&state, "source");
	pgm_jb_text(&state, from_worker ? "worker" : "live");
	pgm_jb_key(&state, "status");
	pgm_jb_text(&state, pgm_status_name(overall));
	pgm_jb_key(&state, "sampler");
	pgm_jb_sampler(&state);
	pgm_jb_key(&state, "database");
	pgm_jb_text(&state, get_database_name(MyDatabaseId));
	pgm_jb_key(&state, "checked_at");
	pgm_jb_timestamptz(&state, GetCurrentTimestamp());
	pgm_jb_key(&state, "measured_at");
	pgm_jb_timestamptz(&state, eval->measured_at);
	pgm_jb_key(&state, "system_identifier");
	pgm_jb_text(&state, sysid);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);

	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}

/* The rows of health_checks() (with failed: of _graded_checks()). */
static void
pgm_graded_rows(FunctionCallInfo fcinfo, bool with_failed, bool live)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmEvaluation *eval = palloc(sizeof(PgmEvaluation));
	PgmGraded  *graded = palloc(sizeof(PgmGraded) * PGMAINT_NCHECKS);
	PgmOverallSince since;
	bool		has_since;
	int			n;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	(void) pgm_current_evaluation(live, eval, &since, &has_since);
	n = pgm_grade_evaluation(eval, graded);
	for (i = 0; i < n; i++)
	{
		PgmGraded  *g = &graded[i];
		Datum		values[PGMAINT_GRADED_CHECKS_COLS];
		bool		nulls[PGMAINT_GRADED_CHECKS_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(pgm_check_name(g->check));
		values[1] = CStringGetTextDatum(pgm_status_name(g->status));
		if (g->result->has_value)
			values[2] = DirectFunctionCall3(numeric_in, CStringGetDatum(g->result->value),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		else
			nulls[2] = true;
		if (g->warning)
			values[3] = DirectFunctionCall3(numeric_in, CStringGetDatum(g->warning),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		else
			nulls[3] = true;
		if (g->critical)
			values[4] = DirectFunctionCall3(numeric_in, CStringGetDatum(g->critical),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		else
			nulls[4] = true;
		values[5] = CStringGetTextDatum(g->message);
		if (g->hint)
			values[6] = CStringGetTextDatum(g->hint);
		else
			nulls[6] = true;
		values[7] = BoolGetDatum(g->failed);
		if (!with_failed && rsinfo->setDesc->natts != PGMAINT_HEALTH_CHECKS_COLS)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("pgmaint.health_checks() is declared with %d columns, the library knows %d",
							rsinfo->setDesc->natts, PGMAINT_HEALTH_CHECKS_COLS),
					 errhint("Run ALTER EXTENSION pgmaint UPDATE.")));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* SQL pgmaint.health_checks(): each check as a row, graded. */
Datum
pgmaint_health_checks(PG_FUNCTION_ARGS)
{
	pgm_graded_rows(fcinfo, false, false);
	return (Datum) 0;
}

/* SQL pgmaint._graded_checks(): health_checks() with failed. */
Datum
pgmaint_graded_checks(PG_FUNCTION_ARGS)
{
	pgm_graded_rows(fcinfo, true, false);
	return (Datum) 0;
}

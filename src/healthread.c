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
static void pgm_json_key(StringInfo buf, const char *key, bool *first);
static void pgm_json_text(StringInfo buf, const char *text);
static void pgm_json_timestamptz(StringInfo buf, TimestampTz ts);
static void pgm_json_sampler(StringInfo buf);
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
		pgm_evaluate(eval, &privs, &tables.health);
	else
		pgm_evaluate(eval, &privs, NULL);
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

/* Appends a key of an object, with the comma before it unless it is the first. */
static void
pgm_json_key(StringInfo buf, const char *key, bool *first)
{
	if (!*first)
		appendStringInfoChar(buf, ',');
	*first = false;
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

/* Appends a JSON string, or null for NULL. */
static void
pgm_json_text(StringInfo buf, const char *text)
{
	if (text == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, text);
}

/* Appends a timestamptz as to_jsonb() writes it, or null for 0. */
static void
pgm_json_timestamptz(StringInfo buf, TimestampTz ts)
{
	char		out[MAXDATELEN + 1];

	if (ts == 0)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	appendStringInfoChar(buf, '"');
	appendStringInfoString(buf, JsonEncodeDateTime(out, TimestampTzGetDatum(ts),
												   TIMESTAMPTZOID, NULL));
	appendStringInfoChar(buf, '"');
}

/*
 * Appends health()'s sampler section: the row of pgmaint.sampler_status() as
 * to_jsonb() writes it (its columns read from the function's declaration),
 * with "preloaded" and "detail".
 */
static void
pgm_json_sampler(StringInfo buf)
{
	Oid			argtypes[1];
	Oid			funcoid;
	TupleDesc	tupdesc;
	HeapTupleData row;
	PgmSamplerView view;
	bool		first = true;
	int			a;

	funcoid = LookupFuncName(list_make2(makeString("pgmaint"), makeString("sampler_status")),
							 0, argtypes, false);
	if (get_func_result_type(funcoid, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pgmaint.sampler_status() does not return a row")));
	row.t_data = DatumGetHeapTupleHeader(OidFunctionCall0(funcoid));
	row.t_len = HeapTupleHeaderGetDatumLength(row.t_data);
	ItemPointerSetInvalid(&row.t_self);
	row.t_tableOid = InvalidOid;

	appendStringInfoChar(buf, '{');
	for (a = 0; a < tupdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, a);
		bool		isnull;
		Datum		v = heap_getattr(&row, a + 1, tupdesc, &isnull);

		pgm_json_key(buf, NameStr(att->attname), &first);
		if (isnull)
		{
			appendStringInfoString(buf, "null");
			continue;
		}
		switch (att->atttypid)
		{
			case BOOLOID:
				appendStringInfoString(buf, DatumGetBool(v) ? "true" : "false");
				break;
			case INT4OID:
				appendStringInfo(buf, "%d", DatumGetInt32(v));
				break;
			case INT8OID:
				appendStringInfo(buf, INT64_FORMAT, DatumGetInt64(v));
				break;
			case TIMESTAMPTZOID:
				pgm_json_timestamptz(buf, DatumGetTimestampTz(v));
				break;
			case INTERVALOID:
				pgm_json_text(buf, pgm_interval_text(v));
				break;
			default:
				{
					Oid			typoutput;
					bool		varlena;

					getTypeOutputInfo(att->atttypid, &typoutput, &varlena);
					pgm_json_text(buf, OidOutputFunctionCall(typoutput, v));
				}
				break;
		}
	}
	pgm_sampler_view(&view);
	pgm_json_key(buf, "preloaded", &first);
	appendStringInfoString(buf, view.preloaded ? "true" : "false");
	pgm_json_key(buf, "detail", &first);
	pgm_json_text(buf, view.running ? "the sampler worker is running"
				  : (view.last_error ? view.last_error : "the sampler worker is not running"));
	appendStringInfoChar(buf, '}');
}

/*
 * SQL pgmaint.health(live boolean DEFAULT false): the summary of the
 * server's health as jsonb (see the COMMENT in sql/code/90-health.sql).
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
	StringInfoData buf;
	bool		first = true;
	char		sysid[32];
	int			n;
	int			i;

	from_worker = pgm_current_evaluation(live, eval, &since, &has_since);
	n = pgm_grade_evaluation(eval, graded);
	overall = pgm_graded_overall(graded, n);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	pgm_json_key(&buf, "status", &first);
	pgm_json_text(&buf, pgm_status_name(overall));

	/* since: when the run of the worker's events with this overall status began */
	pgm_json_key(&buf, "since", &first);
	if (has_since)
	{
		if (since.known && since.status == overall && pgm_may_read_events())
			pgm_json_timestamptz(&buf, since.since);
		else
			appendStringInfoString(&buf, "null");
	}
	else
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
			SPIPlanPtr	p = SPI_prepare(pgm_since_sql, 1, argtypes);

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
		if (isnull)
			appendStringInfoString(&buf, "null");
		else
			pgm_json_timestamptz(&buf, DatumGetTimestampTz(at));
	}

	pgm_json_key(&buf, "database", &first);
	pgm_json_text(&buf, get_database_name(MyDatabaseId));
	pgm_json_key(&buf, "checked_at", &first);
	pgm_json_timestamptz(&buf, GetCurrentTimestamp());
	pgm_json_key(&buf, "role", &first);
	pgm_json_text(&buf, RecoveryInProgress() ? "standby" : "primary");
	pgm_json_key(&buf, "system_identifier", &first);
	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, GetSystemIdentifier());
	pgm_json_text(&buf, sysid);
	pgm_json_key(&buf, "source", &first);
	pgm_json_text(&buf, from_worker ? "worker" : "live");
	pgm_json_key(&buf, "measured_at", &first);
	pgm_json_timestamptz(&buf, eval->measured_at);
	pgm_json_key(&buf, "sampler", &first);
	pgm_json_sampler(&buf);

	pgm_json_key(&buf, "checks", &first);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
	{
		PgmGraded  *g = &graded[i];
		bool		f = true;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoChar(&buf, '{');
		pgm_json_key(&buf, "check", &f);
		pgm_json_text(&buf, pgm_check_name(g->check));
		pgm_json_key(&buf, "status", &f);
		pgm_json_text(&buf, pgm_status_name(g->status));
		pgm_json_key(&buf, "value", &f);
		appendStringInfoString(&buf, g->result->has_value ? g->result->value : "null");
		pgm_json_key(&buf, "warning", &f);
		appendStringInfoString(&buf, g->warning ? g->warning : "null");
		pgm_json_key(&buf, "critical", &f);
		appendStringInfoString(&buf, g->critical ? g->critical : "null");
		pgm_json_key(&buf, "message", &f);
		pgm_json_text(&buf, g->message);
		pgm_json_key(&buf, "hint", &f);
		pgm_json_text(&buf, g->hint);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
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

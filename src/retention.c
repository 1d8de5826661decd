/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Retention: pgmaint._retention_exec(), which runs one step of a
 *	  retention run as the table's owner, and the worker's retention task.
 *
 * What to remove and how is decided in SQL (sql/install/70-retention.sql):
 * the tables and cutoffs (_retention_work), the steps of each table
 * (_retention_steps: detach old partitions, then batches of rows) and the
 * limits of a run (_retention_limits).  CALL pgmaint.apply_retention() and
 * this worker task walk the same steps the same way: every batch and every
 * partition detach in a transaction of its own, a table left for the next
 * run after max_skips locked batches in a row, a time budget per run, and a
 * session advisory lock per table so that two runs never work on one table.
 *
 * Privileges.  Each step runs as the owner of the configured table, in a
 * security-restricted context (as VACUUM and REFRESH MATERIALIZED VIEW run
 * a table's code): the worker, a superuser, never deletes what the owner
 * could not, and the table's triggers cannot take the worker's rights.
 *
 * The worker's run keeps the sampler on time: between two batches it calls
 * the serve function the scheduler hands to its tasks, which takes a sample
 * when one is due.  The run's memory is the scheduler's loop context, reset
 * after the task.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pgmaint.h"

/* One step of a table's run, as _retention_steps() returns it */
typedef struct PgmRetentionStep
{
	bool		partition;		/* detach (and drop) a partition, else batches */
	int			nstatements;
	char	  **statements;
} PgmRetentionStep;

/* One table of a run and what happened to it */
typedef struct PgmRetentionTable
{
	Oid			relid;
	TimestampTz cutoff;
	int			batch;
	bool		locked;			/* holds the table's advisory lock */
	int			nsteps;
	PgmRetentionStep *steps;
	int64		removed;
	int			batches;
	int			skipped;
	int			partitions;
	const char *stopped;
	long		elapsed_ms;
	/* the last batch */
	int64		last_rows;
	bool		last_locked;
} PgmRetentionTable;

/* A worker run */
typedef struct PgmRetentionRun
{
	MemoryContext context;		/* the task's memory, kept for the whole run */
	PgmServeFunc serve;			/* called between two transactions */
	char	   *lock_timeout;
	int64		budget_us;
	int			max_skips;
	int			ntables;
	PgmRetentionTable *tables;
	PgmRetentionTable *current;
	PgmRetentionStep *current_step;
} PgmRetentionRun;

/* True when the installed SQL version has retention (1.0 has none) */
static const char *const pgm_retention_present_sql =
"SELECT pg_catalog.to_regprocedure('pgmaint._retention_work(regclass)') IS NOT NULL";

static const char *const pgm_retention_limits_sql =
"SELECT l.lock_timeout, (pg_catalog.date_part('epoch', l.time_budget)"
" OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8, l.max_skips"
" FROM pgmaint._retention_limits() l";

static const char *const pgm_retention_work_sql =
"SELECT w.relid::pg_catalog.oid, w.cutoff, w.batch FROM pgmaint._retention_work(NULL) w";

static const char *const pgm_retention_lock_sql =
"SELECT pgmaint._retention_lock($1::pg_catalog.oid::pg_catalog.regclass, $2)";

static const char *const pgm_retention_steps_sql =
"SELECT s.kind OPERATOR(pg_catalog.=) 'partition', s.statements"
" FROM pgmaint._retention_steps($1::pg_catalog.oid::pg_catalog.regclass, $2) s ORDER BY s.step";

static const char *const pgm_retention_done_sql =
"SELECT pgmaint._retention_done(CURRENT_USER, $1::pg_catalog.oid::pg_catalog.regclass,"
" pg_catalog.jsonb_build_object('cutoff', $2, 'removed', $3, 'archived',"
" CASE WHEN r.archive IS NULL THEN 0 ELSE $3 END, 'partitions', $4, 'batches', $5,"
" 'skipped_batches', $6, 'seconds', $7, 'stopped', $8, 'by', 'worker'),"
" pgmaint._retention_oldest($1::pg_catalog.oid::pg_catalog.regclass))::pg_catalog.text"
" FROM pgmaint.retention r WHERE r.relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass";

static void pgm_retention_list_step(void *arg);
static void pgm_retention_lock_step(void *arg);
static void pgm_retention_unlock_step(void *arg);
static void pgm_retention_steps_step(void *arg);
static void pgm_retention_batch_step(void *arg);
static void pgm_retention_done_step(void *arg);
static void pgm_retention_table(PgmRetentionRun *run, PgmRetentionTable *t,
								TimestampTz deadline);
static bool pgm_retention_wanted(void);

PG_FUNCTION_INFO_V1(pgmaint_retention_exec);

/*
 * Runs statements (each with $1 = cutoff, $2 = batch) as the owner of
 * relid, in a security-restricted context with search_path pinned and the
 * given lock_timeout, inside the caller's transaction.  The current user
 * must be a superuser or have the privileges of the owner.  Returns the rows
 * the last statement processed.
 */
uint64
pgm_retention_exec(Oid relid, int nstatements, char **statements,
				   TimestampTz cutoff, int batch, const char *lock_timeout)
{
	HeapTuple	tuple;
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			argtypes[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		args[2];
	uint64		processed = 0;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	if (!superuser() && !has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", get_rel_name(relid)),
				 errhint("Retention runs as the table's owner; only the owner (or a superuser) applies it.")));

	args[0] = TimestampTzGetDatum(cutoff);
	args[1] = Int32GetDatum(batch);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("lock_timeout", lock_timeout,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	for (int i = 0; i < nstatements; i++)
	{
		int			ret = SPI_execute_with_args(statements[i], 2, argtypes, args,
												NULL, false, 0);

		if (ret < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not run a retention statement: %s",
							SPI_result_code_string(ret))));
		processed = SPI_processed;
	}
	SPI_finish();

	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return processed;
}

/*
 * pgmaint._retention_exec(rel regclass, statements text[], cutoff
 * timestamptz, batch int, lock_timeout text) returns bigint
 */
Datum
pgmaint_retention_exec(PG_FUNCTION_ARGS)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **statements;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) ||
		PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("arguments of pgmaint._retention_exec() must not be null")));

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	statements = palloc(sizeof(char *) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("retention statements must not be null")));
		statements[i] = TextDatumGetCString(elems[i]);
	}

	PG_RETURN_INT64((int64) pgm_retention_exec(PG_GETARG_OID(0), nelems, statements,
											   PG_GETARG_TIMESTAMPTZ(2),
											   PG_GETARG_INT32(3),
											   text_to_cstring(PG_GETARG_TEXT_PP(4))));
}

/* Tells whether the worker should apply retention now. */
static bool
pgm_retention_wanted(void)
{
	return pgm_policy == PGMAINT_POLICY_APPLY && pgm_retention_interval > 0;
}

/* Worker task: one retention run every pgmaint.retention_interval, with pgmaint.policy = apply. */
void
pgm_retention_task(PgmServeFunc serve)
{
	PgmRetentionRun run;
	TimestampTz deadline;

	if (!pgm_retention_wanted())
		return;

	memset(&run, 0, sizeof(run));
	/* the scheduler's loop context: it outlives the run's transactions */
	run.context = CurrentMemoryContext;
	run.serve = serve;

	/* on a standby pgm_run_step() does nothing: no tables, nothing to do */
	if (pgm_run_step("retention", pgm_retention_list_step, &run))
	{
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   run.budget_us / 1000);
		for (int i = 0; i < run.ntables; i++)
		{
			run.serve();
			if (!pgm_retention_wanted())
				break;
			pgm_retention_table(&run, &run.tables[i], deadline);
		}
	}
}

/* Runs one table's steps, records the result and releases its lock. */
static void
pgm_retention_table(PgmRetentionRun *run, PgmRetentionTable *t, TimestampTz deadline)
{
	TimestampTz started = GetCurrentTimestamp();

	run->current = t;
	t->stopped = "done";
	if (!pgm_run_step("retention", pgm_retention_lock_step, run))
		return;
	if (!t->locked)
		t->stopped = "another run holds this table";
	else if (!pgm_run_step("retention", pgm_retention_steps_step, run))
		t->stopped = "error (see the server log)";
	else
	{
		for (int s = 0; s < t->nsteps && strcmp(t->stopped, "done") == 0; s++)
		{
			PgmRetentionStep *step = &t->steps[s];
			int			skips = 0;

			for (;;)
			{
				if (GetCurrentTimestamp() >= deadline)
				{
					t->stopped = "time budget";
					break;
				}
				run->serve();
				if (!pgm_retention_wanted())
				{
					t->stopped = "retention turned off";
					break;
				}
				run->current = t;
				run->current_step = step;
				t->last_rows = 0;
				t->last_locked = false;
				if (!pgm_run_step("retention", pgm_retention_batch_step, run))
				{
					t->stopped = "error (see the server log)";
					break;
				}
				if (t->last_locked)
				{
					t->skipped++;
					if (++skips >= run->max_skips)
					{
						t->stopped = "locked";
						break;
					}
					continue;
				}
				skips = 0;
				if (step->partition)
				{
					t->partitions++;
					break;
				}
				/* a short batch may have skipped locked rows: go on until one finds none */
				if (t->last_rows == 0)
					break;
				t->batches++;
				t->removed += t->last_rows;
			}
		}
	}

	run->current = t;
	t->elapsed_ms = TimestampDifferenceMilliseconds(started, GetCurrentTimestamp());
	(void) pgm_run_step("retention", pgm_retention_done_step, run);
	if (t->locked)
		(void) pgm_run_step("retention", pgm_retention_unlock_step, run);
}

/* Step: reads the run's limits and the tables to work on. */
static void
pgm_retention_list_step(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	bool		isnull;
	int			ret;

	ret = SPI_execute(pgm_retention_present_sql, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1 ||
		!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return;

	ret = SPI_execute(pgm_retention_limits_sql, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not read the retention limits: %s",
						SPI_result_code_string(ret))));
	run->lock_timeout = MemoryContextStrdup(run->context,
											SPI_getvalue(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc, 1));
	run->budget_us = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));
	run->max_skips = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 3, &isnull));

	ret = SPI_execute(pgm_retention_work_sql, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not list the retention rules: %s",
						SPI_result_code_string(ret))));
	run->ntables = (int) SPI_processed;
	run->tables = MemoryContextAllocZero(run->context,
										 sizeof(PgmRetentionTable) * Max(run->ntables, 1));
	for (int i = 0; i < run->ntables; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		run->tables[i].relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		run->tables[i].cutoff = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		run->tables[i].batch = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
	}
}

/* Step: takes the advisory lock of the current table, if free. */
static void
pgm_retention_lock_step(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	Oid			argtypes[2] = {OIDOID, BOOLOID};
	Datum		args[2];
	bool		isnull;
	int			ret;

	args[0] = ObjectIdGetDatum(run->current->relid);
	args[1] = BoolGetDatum(true);
	ret = SPI_execute_with_args(pgm_retention_lock_sql, 2, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not take the retention lock: %s",
						SPI_result_code_string(ret))));
	run->current->locked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull));
}

/* Step: releases the advisory lock of the current table. */
static void
pgm_retention_unlock_step(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	Oid			argtypes[2] = {OIDOID, BOOLOID};
	Datum		args[2];

	args[0] = ObjectIdGetDatum(run->current->relid);
	args[1] = BoolGetDatum(false);
	if (SPI_execute_with_args(pgm_retention_lock_sql, 2, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not release the retention lock")));
	run->current->locked = false;
}

/* Step: reads the steps of the current table into the run's memory. */
static void
pgm_retention_steps_step(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	PgmRetentionTable *t = run->current;
	Oid			argtypes[2] = {OIDOID, TIMESTAMPTZOID};
	Datum		args[2];
	bool		isnull;
	int			ret;

	args[0] = ObjectIdGetDatum(t->relid);
	args[1] = TimestampTzGetDatum(t->cutoff);
	ret = SPI_execute_with_args(pgm_retention_steps_sql, 2, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not list the retention steps: %s",
						SPI_result_code_string(ret))));
	t->nsteps = (int) SPI_processed;
	t->steps = MemoryContextAllocZero(run->context,
									  sizeof(PgmRetentionStep) * Max(t->nsteps, 1));
	for (int i = 0; i < t->nsteps; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		t->steps[i].partition = DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull));
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 2, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
		t->steps[i].nstatements = nelems;
		t->steps[i].statements = MemoryContextAlloc(run->context,
													sizeof(char *) * Max(nelems, 1));
		for (int j = 0; j < nelems; j++)
			t->steps[i].statements[j] = MemoryContextStrdup(run->context,
															TextDatumGetCString(elems[j]));
	}
}

/*
 * Step: one batch (or one partition detach) of the current table.  A lock
 * that could not be had within the lock timeout is a skipped batch, not an
 * error: the subtransaction is rolled back and the worker goes on.
 */
static void
pgm_retention_batch_step(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	PgmRetentionStep *step = run->current_step;
	PgmRetentionTable *t = run->current;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		t->last_rows = (int64) pgm_retention_exec(t->relid, step->nstatements, step->statements,
												  t->cutoff, t->batch, run->lock_timeout);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		/* any other error fails the step: pgm_run_step() logs it */
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);
		t->last_locked = true;
	}
	PG_END_TRY();
}

/* Step: records the current table's result (and audits it). */
static void
pgm_retention_done_step(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	PgmRetentionTable *t = run->current;
	Oid			argtypes[8] = {OIDOID, TIMESTAMPTZOID, INT8OID, INT4OID, INT4OID,
		INT4OID, NUMERICOID, TEXTOID};
	Datum		args[8];
	char		seconds[32];
	int			ret;

	snprintf(seconds, sizeof(seconds), "%.3f", t->elapsed_ms / 1000.0);
	args[0] = ObjectIdGetDatum(t->relid);
	args[1] = TimestampTzGetDatum(t->cutoff);
	args[2] = Int64GetDatum(t->removed);
	args[3] = Int32GetDatum(t->partitions);
	args[4] = Int32GetDatum(t->batches);
	args[5] = Int32GetDatum(t->skipped);
	args[6] = DirectFunctionCall3(numeric_in, CStringGetDatum(seconds),
								  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	args[7] = CStringGetTextDatum(t->stopped);
	ret = SPI_execute_with_args(pgm_retention_done_sql, 8, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not record the retention run: %s",
						SPI_result_code_string(ret))));
	if (t->removed > 0 || t->partitions > 0 || t->skipped > 0 || strcmp(t->stopped, "done") != 0)
		ereport(LOG,
				(errmsg("pgmaint retention of table \"%s\": %lld row(s) and %d partition(s) removed in %d batch(es), %d skipped: %s",
						get_rel_name(t->relid), (long long) t->removed, t->partitions,
						t->batches, t->skipped, t->stopped),
				 SPI_processed == 1 ? errdetail_internal("%s",
														 SPI_getvalue(SPI_tuptable->vals[0],
																	  SPI_tuptable->tupdesc, 1)) : 0));
}

/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Retention: the rule of a table checked in one place, its measurements,
 *	  and the one run loop that CALL pgmaint.apply_retention() and the
 *	  worker's retention task both drive.
 *
 * What to remove is decided in SQL (sql/code/70-retention.sql): the tables
 * and cutoffs (_retention_work), the steps of each table (_retention_steps:
 * detach old partitions, then batches of rows) and the limits of a run
 * (_retention_limits).  How a run goes is decided here, once:
 *
 *  - every table of the run takes a lock that only a run can take (a
 *    session-level object lock on (pgmaint.retention, table), which no SQL
 *    function can take or release), so two runs never work on one table;
 *  - every statement on a user table (the measurements, each batch, each
 *    partition detach) runs through pgm_as_owner() (owner.c): as the table's
 *    owner, in a security-restricted operation, under the lock timeout,
 *    after the rule is checked again under the table's lock (its kind, its
 *    column's type, its archive);
 *  - each batch and each partition is a transaction of its own; a batch
 *    that could not lock within the lock timeout is skipped, and a table is
 *    left for the next run after max_skips locked batches in a row;
 *  - a short batch may have skipped rows other sessions hold locked: a step
 *    goes on until a batch finds nothing, but never removes more rows than
 *    were older than the cutoff when the step began, and a step whose
 *    batches do not shrink the table (a trigger puts the rows back) stops;
 *  - the run's time budget is shared fairly: each table may use what is
 *    left divided by the tables still to go, so that one table cannot
 *    starve the others, and an owner's statement is cancelled at its table's
 *    deadline;
 *  - an error is recorded on its table's rule (last_result, the retention
 *    check) and the run goes on with the next table.
 *
 * The words a table's run ends with ("stopped"): done, another run holds
 * this table, locked, time budget, retention turned off, not shrinking: ...,
 * error: ....
 *
 * Only a run records a run: _retention_done() is granted to nobody, called
 * here through fmgr, and refuses any call for a table other than the one
 * this run is recording (_retention_recording()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "partitioning/partdefs.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pgmaint.h"
#include "owner.h"

/* A step of a table's run, as _retention_steps() returns it */
typedef struct PgmRetentionStep
{
	bool		partition;		/* detach (and drop) a partition, else batches */
	Oid			target;			/* the partition, or the leaf the batches work on */
	char	   *target_name;
	int			nstatements;
	char	  **statements;
} PgmRetentionStep;

/* One table of a run and what happened to it */
typedef struct PgmRetentionTable
{
	Oid			relid;
	char	   *name;
	TimestampTz cutoff;
	int			batch;
	char	   *column;			/* the rule as the steps were read */
	Oid			archive;
	bool		locked;			/* holds the run lock */
	int			nsteps;
	PgmRetentionStep *steps;
	int64		removed;
	int			batches;
	int			skipped;
	int			partitions;
	char	   *stopped;
	TimestampTz deadline;		/* its share of the run's time budget */
	TimestampTz started;
	/* the unit running now, and what it found */
	PgmRetentionStep *step;
	int64		limit;			/* $2 of a batch */
	int64		count;			/* rows older than the cutoff (a count unit) */
	int64		last_rows;
	bool		last_locked;
	bool		last_timed_out;
	char	   *last_error;
	TimestampTz oldest;
	bool		oldest_null;
	bool		oldest_measured;
	char	   *advice;
} PgmRetentionTable;

/* What drives a run: the worker, or CALL pgmaint.apply_retention() */
typedef struct PgmRetentionDriver
{
	/* runs fn(arg) in a transaction of its own with SPI connected; false: it failed */
	bool		(*in_xact) (PgmStepFunc fn, void *arg);
	/* between two transactions; false: stop ("retention turned off") */
	bool		(*service) (void);
	const char *by;				/* who ran it, in the result */
	bool		notice;			/* a NOTICE per table (else a LOG when something happened) */
} PgmRetentionDriver;

/* A run */
typedef struct PgmRetentionRun
{
	MemoryContext context;
	const PgmRetentionDriver *driver;
	Oid			only_table;
	const char *lock_timeout;
	int64		budget_us;		/* < 0: the limits' time budget */
	int			max_skips;
	bool		present;		/* the installed SQL has retention */
	Oid			lock_classid;	/* pgmaint.retention: the class of the run lock */
	FmgrInfo	done_fn;		/* pgmaint._retention_done() */
	int			ntables;
	PgmRetentionTable *tables;
	PgmRetentionTable *current;
} PgmRetentionRun;

/* What the checks of a unit verify under the table's lock */
typedef struct PgmRuleCheck
{
	const char *column;
	Oid			archive;		/* InvalidOid: none, or not touched */
	Oid			target;			/* a leaf or partition other than the table, or InvalidOid */
	bool		partition;		/* target is a partition to detach */
	LOCKMODE	target_mode;
	/* the work */
	PgmRetentionRun *run;
	PgmRetentionTable *table;
	const char *sql;
	int			nstatements;
	char	  **statements;
	/* what the measurement work found */
	int64		rows;
	bool		rows_null;
	TimestampTz oldest;
	bool		oldest_null;
} PgmRuleCheck;

/* The table a run is recording now (only it may be recorded) */
static Oid	pgm_retention_recording = InvalidOid;

/* True when the installed SQL version has retention (1.0 has none) */
static const char *const pgm_retention_present_sql =
"SELECT pg_catalog.to_regprocedure('pgmaint._retention_work(regclass)') IS NOT NULL";

static const char *const pgm_retention_limits_sql =
"SELECT (pg_catalog.date_part('epoch', l.time_budget)"
" OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8, l.max_skips"
" FROM pgmaint._retention_limits() l";

static const char *const pgm_retention_work_sql =
"SELECT w.relid::pg_catalog.oid, w.cutoff, w.batch FROM pgmaint._retention_work($1) w";

static const char *const pgm_retention_rule_sql =
"SELECT r.column_name::pg_catalog.text, r.archive::pg_catalog.oid FROM pgmaint.retention r"
" WHERE r.relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass";

static const char *const pgm_retention_steps_sql =
"SELECT s.kind OPERATOR(pg_catalog.=) 'partition', s.target::pg_catalog.oid, s.statements"
" FROM pgmaint._retention_steps($1::pg_catalog.oid::pg_catalog.regclass, $2) s ORDER BY s.step";

static const char *const pgm_retention_result_sql =
"SELECT pg_catalog.jsonb_build_object('cutoff', $1, 'removed', $2, 'archived', $3,"
" 'partitions', $4, 'batches', $5, 'skipped_batches', $6,"
" 'seconds', pg_catalog.round($7::pg_catalog.numeric, 3), 'stopped', $8, 'by', $9)"
" OPERATOR(pg_catalog.||) CASE WHEN $10 THEN '{}'::pg_catalog.jsonb"
" ELSE '{\"oldest_measured\": false}'::pg_catalog.jsonb END";

static void pgm_retention_run(PgmRetentionRun *run);
static void pgm_retention_table(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_retention_list_unit(void *arg);
static void pgm_retention_steps_unit(void *arg);
static void pgm_retention_count_unit(void *arg);
static void pgm_retention_batch_unit(void *arg);
static void pgm_retention_done_unit(void *arg);
static bool pgm_retention_try(PgmRetentionRun *run, PgmRetentionTable *t,
							  void (*fn) (PgmRetentionRun *run, PgmRetentionTable *t));
static void pgm_retention_steps_body(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_retention_count_body(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_retention_batch_body(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_retention_oldest_body(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_rule_check(Oid relid, Oid owner, void *arg);
static void pgm_check_rule(Oid relid, Oid owner, const char *column, Oid archive, LOCKMODE archive_mode);
static void pgm_measure_work(void *arg);
static void pgm_statements_work(void *arg);
static void pgm_measure(Oid relid, const char *column, TimestampTz cutoff, bool with_count,
						const char *lock_timeout, int timeout_ms, PgmRuleCheck *out);
static int	pgm_retention_timeout_ms(PgmRetentionTable *t);
static bool pgm_retention_lock(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_retention_unlock(PgmRetentionRun *run, PgmRetentionTable *t);
static void pgm_retention_report(PgmRetentionRun *run, PgmRetentionTable *t);
static bool pgm_retention_wanted(void);
static bool pgm_worker_in_xact(PgmStepFunc fn, void *arg);
static bool pgm_worker_service_run(void);
static bool pgm_apply_in_xact(PgmStepFunc fn, void *arg);
static bool pgm_apply_service(void);

PG_FUNCTION_INFO_V1(pgmaint_retention_validate);
PG_FUNCTION_INFO_V1(pgmaint_retention_measure);
PG_FUNCTION_INFO_V1(pgmaint_retention_recording);
PG_FUNCTION_INFO_V1(pgmaint_apply_retention);
PG_FUNCTION_INFO_V1(pgmaint_retention_exec);

/* The worker's driver: each unit a pgm_run_step(), the sampler served between them */
static const PgmRetentionDriver pgm_worker_driver = {
	pgm_worker_in_xact, pgm_worker_service_run, "worker", false
};

/* CALL pgmaint.apply_retention()'s driver: each unit committed with SPI_commit() */
static const PgmRetentionDriver pgm_apply_driver = {
	pgm_apply_in_xact, pgm_apply_service, "apply_retention", true
};

/* ---------------------------------------------------------------- the rule */

/*
 * Checks a retention rule: relid (locked by the caller, its kind checked) has
 * a column of a time type (the range key of a partitioned table), and an
 * archive, when given, that the owner can move rows to without casts and
 * that cannot send them back.  The same checks run when a rule is stored
 * and, under the table's lock, before every statement on it.
 */
static void
pgm_check_rule(Oid relid, Oid owner, const char *column, Oid archive, LOCKMODE archive_mode)
{
	char	   *name = pgm_relation_name(relid);
	AttrNumber	attnum;
	Oid			atttype;
	char		relkind = get_rel_relkind(relid);

	attnum = get_attnum(relid, column);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation %s does not exist", column, name)));
	atttype = get_atttype(relid, attnum);
	if (atttype != TIMESTAMPTZOID && atttype != TIMESTAMPOID && atttype != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation %s is of type %s, not a time type",
						column, name, format_type_be(atttype)),
				 errhint("Give a column of type timestamp with time zone, timestamp or date.")));

	if (relkind == RELKIND_PARTITIONED_TABLE)
	{
		Relation	rel = relation_open(relid, NoLock);
		PartitionKey key = RelationGetPartitionKey(rel);
		bool		is_key = key->strategy == PARTITION_STRATEGY_RANGE &&
			key->partnatts == 1 && key->partattrs[0] == attnum;

		relation_close(rel, NoLock);
		if (!is_key)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" is not the partition key of partitioned table %s",
							column, name),
					 errhint("Retention of a partitioned table drops whole partitions: give the column the table is range-partitioned by.")));
		if (OidIsValid(archive))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("an archive table is not supported for partitioned table %s", name),
					 errhint("Keep old partitions as standalone tables with partitions => 'detach' instead: they are the archive.")));
	}

	if (OidIsValid(archive))
	{
		char	   *archive_name;
		List	   *ancestors;
		StringInfoData missing;
		TupleDesc	src;
		Relation	rel;
		Relation	arch;

		if (archive == relid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a table cannot be its own archive"),
					 errhint("Give an archive table of its own: CREATE TABLE archive (LIKE source).")));
		ancestors = get_partition_ancestors(relid);
		if (list_member_oid(ancestors, archive))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("archive table %s is a parent of %s", pgm_relation_name(archive), name),
					 errdetail("Rows moved into it would be routed back into the table they left."),
					 errhint("Give an archive table of its own: CREATE TABLE archive (LIKE source).")));
		(void) pgm_owner_lock(archive, archive_mode, "rp", "a table");
		archive_name = pgm_relation_name(archive);

		/* every column, same name and type, not generated: no cast ever runs */
		rel = relation_open(relid, NoLock);
		arch = relation_open(archive, NoLock);
		src = RelationGetDescr(rel);
		initStringInfo(&missing);
		for (int i = 0; i < src->natts; i++)
		{
			Form_pg_attribute s = TupleDescAttr(src, i);
			AttrNumber	d = s->attisdropped ? InvalidAttrNumber : get_attnum(archive, NameStr(s->attname));
			bool		match;

			if (s->attisdropped)
				continue;
			match = d > 0;
			if (match)
			{
				Form_pg_attribute a = TupleDescAttr(RelationGetDescr(arch), d - 1);

				match = a->atttypid == s->atttypid && a->attgenerated == '\0';
			}
			if (!match)
				appendStringInfo(&missing, "%s%s %s", missing.len > 0 ? ", " : "",
								 quote_identifier(NameStr(s->attname)),
								 format_type_with_typemod(s->atttypid, s->atttypmod));
		}
		relation_close(arch, NoLock);
		relation_close(rel, NoLock);
		if (missing.len > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("archive table %s has no column matching %s", archive_name, missing.data),
					 errhint("Give the archive every column of %s, with the same type and not generated (CREATE TABLE archive (LIKE source) does).",
							 name)));
		if (pg_class_aclcheck(archive, owner, ACL_INSERT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("the owner of %s may not insert into archive table %s", name, archive_name),
					 errhint("Retention moves rows as the table's owner: GRANT INSERT on the archive to it.")));
	}
}

/* PgmOwnerCheck: the rule, the step's target and the archive, under their locks. */
static void
pgm_rule_check(Oid relid, Oid owner, void *arg)
{
	PgmRuleCheck *c = (PgmRuleCheck *) arg;

	pgm_check_rule(relid, owner, c->column, c->archive, RowExclusiveLock);
	if (OidIsValid(c->target) && c->target != relid)
	{
		List	   *ancestors;

		(void) pgm_owner_lock(c->target, c->target_mode, c->partition ? "rp" : "r", "a table");
		ancestors = get_partition_ancestors(c->target);
		if (c->partition ? (ancestors == NIL || linitial_oid(ancestors) != relid)
			: !list_member_oid(ancestors, relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s is no longer a partition of %s",
							pgm_relation_name(c->target), pgm_relation_name(relid)),
					 errhint("The next run reads the partitions again.")));
	}
}

/*
 * pgmaint._retention_validate(rel regclass, column_name name, archive regclass)
 * returns void: raises the error a rule with these values has, if any.
 */
Datum
pgmaint_retention_validate(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			owner;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and column must not be null")));
	relid = PG_GETARG_OID(0);
	owner = pgm_owner_lock(relid, AccessShareLock, "rp", "a table");
	pgm_check_rule(relid, owner, NameStr(*PG_GETARG_NAME(1)),
				   PG_ARGISNULL(2) ? InvalidOid : PG_GETARG_OID(2), AccessShareLock);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------- measurements */

/* PgmOwnerWork: min() of the column and, with a cutoff, the rows older than it. */
static void
pgm_measure_work(void *arg)
{
	PgmRuleCheck *c = (PgmRuleCheck *) arg;
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];
	int			ret;

	args[0] = TimestampTzGetDatum(c->oldest);
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	ret = SPI_execute_with_args(c->sql, 1, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not measure a retention table: %s",
						SPI_result_code_string(ret))));
	c->oldest = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												  1, &c->oldest_null));
	c->rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										  2, &c->rows_null));
	SPI_finish();
}

/*
 * Measures, as the owner of relid, min(column) of target (relid itself, all
 * of it, when target is InvalidOid; else ONLY that leaf) and, with_count,
 * the rows older than cutoff.
 */
static void
pgm_measure(Oid relid, const char *column, TimestampTz cutoff, bool with_count,
			const char *lock_timeout, int timeout_ms, PgmRuleCheck *c)
{
	PgmOwnerCall call;
	Oid			target = OidIsValid(c->target) ? c->target : relid;

	c->column = column;
	c->archive = InvalidOid;
	c->partition = false;
	c->target_mode = AccessShareLock;
	c->sql = psprintf("SELECT pg_catalog.min(%s)::pg_catalog.timestamptz, %s FROM %s%s",
					  quote_identifier(column),
					  with_count ? psprintf("pg_catalog.count(*) FILTER (WHERE %s OPERATOR(pg_catalog.<) $1)",
											quote_identifier(column))
					  : "NULL::pg_catalog.int8",
					  OidIsValid(c->target) ? "ONLY " : "", pgm_relation_name(target));
	c->oldest = cutoff;

	memset(&call, 0, sizeof(call));
	call.relid = relid;
	call.lockmode = AccessShareLock;
	call.relkinds = "rp";
	call.kind_name = "a table";
	call.lock_timeout = lock_timeout;
	call.timeout_ms = timeout_ms;
	call.check = pgm_rule_check;
	call.work = pgm_measure_work;
	call.arg = c;
	(void) pgm_as_owner(&call);
}

/*
 * pgmaint._retention_measure(rel regclass, column_name name, cutoff
 * timestamptz, OUT rows_to_remove bigint, OUT oldest timestamptz, OUT error
 * text): the oldest value of a rule's column and the rows older than cutoff,
 * read as the table's owner.  All NULL for a caller who may not read the
 * whole table; a problem of the table (its lock, its kind, its column) is an
 * error text, not an ERROR, so that one broken rule does not stop a plan.
 */
Datum
pgmaint_retention_measure(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3] = {0};
	bool		nulls[3] = {true, true, true};
	Oid			relid;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	PgmRuleCheck c;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	relid = PG_GETARG_OID(0);

	/* the caller's own right to read it all: SELECT, and no policy that hides rows */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));

	memset(&c, 0, sizeof(c));
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		pgm_measure(relid, NameStr(*PG_GETARG_NAME(1)),
					PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2), !PG_ARGISNULL(2),
					NULL, 0, &c);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		values[0] = Int64GetDatum(c.rows);
		nulls[0] = c.rows_null;
		values[1] = TimestampTzGetDatum(c.oldest);
		nulls[1] = c.oldest_null;
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
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		values[2] = CStringGetTextDatum(edata->message);
		nulls[2] = false;
		FreeErrorData(edata);
	}
	PG_END_TRY();

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* What 1.1's _retention_exec() runs: statements with $1 cutoff, $2 batch */
typedef struct PgmExec11
{
	int			nstatements;
	char	  **statements;
	TimestampTz cutoff;
	int			batch;
	int64		rows;
} PgmExec11;

/* PgmOwnerWork of 1.1's _retention_exec(). */
static void
pgm_exec_1_1_work(void *arg)
{
	PgmExec11  *e = (PgmExec11 *) arg;
	Oid			argtypes[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		args[2];

	args[0] = TimestampTzGetDatum(e->cutoff);
	args[1] = Int32GetDatum(e->batch);
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	for (int i = 0; i < e->nstatements; i++)
	{
		int			ret = SPI_execute_with_args(e->statements[i], 2, argtypes, args,
												NULL, false, 0);

		if (ret < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not run a retention statement: %s",
							SPI_result_code_string(ret))));
		e->rows = (int64) SPI_processed;
	}
	SPI_finish();
}

/*
 * pgmaint._retention_exec(rel regclass, statements text[], cutoff
 * timestamptz, batch int, lock_timeout text) returns bigint: the batch
 * runner of pgmaint 1.1's SQL (1.2 has none: its run loop is above).  Kept
 * so that a database still at 1.1 works until ALTER EXTENSION pgmaint
 * UPDATE; it runs in the owner context like everything else, the table's
 * kind checked under its lock.  The caller must have the owner's privileges.
 */
Datum
pgmaint_retention_exec(PG_FUNCTION_ARGS)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	PgmExec11	e;
	PgmOwnerCall call;
	Oid			relid;
	HeapTuple	tuple;
	Oid			owner;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) ||
		PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("arguments of pgmaint._retention_exec() must not be null")));
	relid = PG_GETARG_OID(0);
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

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	memset(&e, 0, sizeof(e));
	e.statements = palloc(sizeof(char *) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("retention statements must not be null")));
		e.statements[i] = TextDatumGetCString(elems[i]);
	}
	e.nstatements = nelems;
	e.cutoff = PG_GETARG_TIMESTAMPTZ(2);
	e.batch = PG_GETARG_INT32(3);

	memset(&call, 0, sizeof(call));
	call.relid = relid;
	call.lockmode = RowExclusiveLock;
	call.relkinds = "rp";
	call.kind_name = "a table";
	call.lock_timeout = text_to_cstring(PG_GETARG_TEXT_PP(4));
	call.work = pgm_exec_1_1_work;
	call.arg = &e;
	(void) pgm_as_owner(&call);
	PG_RETURN_INT64(e.rows);
}

/* pgmaint._retention_recording(): the table a retention run is recording now, or NULL. */
Datum
pgmaint_retention_recording(PG_FUNCTION_ARGS)
{
	if (!OidIsValid(pgm_retention_recording))
		PG_RETURN_NULL();
	PG_RETURN_OID(pgm_retention_recording);
}

/* ---------------------------------------------------------------- the run */

/* Milliseconds left of a table's share, for an owner's statement (at least 1). */
static int
pgm_retention_timeout_ms(PgmRetentionTable *t)
{
	long		ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), t->deadline);

	return (int) Max(1, Min(ms, (long) INT_MAX));
}

/* Takes the run lock of a table, if free (inside a transaction). */
static bool
pgm_retention_lock(PgmRetentionRun *run, PgmRetentionTable *t)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, MyDatabaseId, run->lock_classid, t->relid, 0);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Releases the run lock of a table.  A session lock of the default lock
 * method does not outlive the abort of a top-level transaction, so the
 * worker may have lost it already.
 */
static void
pgm_retention_unlock(PgmRetentionRun *run, PgmRetentionTable *t)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, MyDatabaseId, run->lock_classid, t->relid, 0);
#if PG_VERSION_NUM >= 170000
	if (LockHeldByMe(&tag, ExclusiveLock, false))
#else
	if (LockHeldByMe(&tag, ExclusiveLock))
#endif
		(void) LockRelease(&tag, ExclusiveLock, true);
	t->locked = false;
}

/*
 * Runs fn(run, t) in a subtransaction: a lock not had within the lock
 * timeout, the table's deadline passed, or any other error of the table is
 * noted in t (last_locked, last_timed_out, last_error) and the run goes on.
 * A cancel is not the table's: it is thrown again.  Returns true when fn
 * succeeded.
 */
static bool
pgm_retention_try(PgmRetentionRun *run, PgmRetentionTable *t,
				  void (*fn) (PgmRetentionRun *run, PgmRetentionTable *t))
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	t->last_locked = false;
	t->last_timed_out = false;
	t->last_error = NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		fn(run, t);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ok = true;
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
		if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
			t->last_locked = true;
		else if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
				 GetCurrentTimestamp() >= t->deadline)
			t->last_timed_out = true;
		else if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		else
			t->last_error = MemoryContextStrdup(run->context,
												edata->message ? edata->message : "unknown error");
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return ok;
}

/* Unit: the run's limits and tables. */
static void
pgm_retention_list_unit(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	char		nulls[1];
	bool		isnull;
	int			ret;
	Oid			fnargs[4] = {NAMEOID, REGCLASSOID, JSONBOID, TIMESTAMPTZOID};
	Oid			done;

	ret = SPI_execute(pgm_retention_present_sql, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1 ||
		!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return;
	run->present = true;

	ret = SPI_execute(pgm_retention_limits_sql, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not read the retention limits: %s",
						SPI_result_code_string(ret))));
	if (run->budget_us < 0)
		run->budget_us = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &isnull));
	run->max_skips = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));

	run->lock_classid = get_relname_relid("retention", get_namespace_oid("pgmaint", false));
	done = LookupFuncName(list_make2(makeString("pgmaint"), makeString("_retention_done")),
						  4, fnargs, false);
	fmgr_info_cxt(done, &run->done_fn, run->context);

	args[0] = ObjectIdGetDatum(run->only_table);
	nulls[0] = OidIsValid(run->only_table) ? ' ' : 'n';
	ret = SPI_execute_with_args(pgm_retention_work_sql, 1, argtypes, args, nulls, false, 0);
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
		PgmRetentionTable *t = &run->tables[i];

		t->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		t->cutoff = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		t->batch = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		t->name = MemoryContextStrdup(run->context, pgm_relation_name(t->relid));
	}
}

/*
 * The rule as it is now, checked under the table's lock, and the steps of
 * the table's run (in the run's memory).
 */
static void
pgm_retention_steps_body(PgmRetentionRun *run, PgmRetentionTable *t)
{
	Oid			argtypes[2] = {OIDOID, TIMESTAMPTZOID};
	Datum		args[2];
	bool		isnull;
	int			ret;
	PgmOwnerCall call;
	PgmRuleCheck c;

	args[0] = ObjectIdGetDatum(t->relid);
	args[1] = TimestampTzGetDatum(t->cutoff);
	ret = SPI_execute_with_args(pgm_retention_rule_sql, 1, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not read the retention rule: %s", SPI_result_code_string(ret))));
	if (SPI_processed != 1)
	{
		t->nsteps = 0;
		return;					/* the rule went since the run began */
	}
	t->column = MemoryContextStrdup(run->context,
									SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	t->archive = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												2, &isnull));
	if (isnull)
		t->archive = InvalidOid;

	/* the rule, under the table's lock; no work */
	memset(&c, 0, sizeof(c));
	c.column = t->column;
	c.archive = t->archive;
	memset(&call, 0, sizeof(call));
	call.relid = t->relid;
	call.lockmode = AccessShareLock;
	call.relkinds = "rp";
	call.kind_name = "a table";
	call.lock_timeout = run->lock_timeout;
	call.check = pgm_rule_check;
	call.arg = &c;
	(void) pgm_as_owner(&call);

	ret = SPI_execute_with_args(pgm_retention_steps_sql, 2, argtypes, args, NULL, false, 0);
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
		t->steps[i].target = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		t->steps[i].target_name = MemoryContextStrdup(run->context,
													  pgm_relation_name(t->steps[i].target));
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
		t->steps[i].nstatements = nelems;
		t->steps[i].statements = MemoryContextAlloc(run->context,
													sizeof(char *) * Max(nelems, 1));
		for (int j = 0; j < nelems; j++)
			t->steps[i].statements[j] = MemoryContextStrdup(run->context,
															TextDatumGetCString(elems[j]));
	}
}

/* Unit: the run lock of the current table, its rule and its steps. */
static void
pgm_retention_steps_unit(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	PgmRetentionTable *t = run->current;

	t->locked = pgm_retention_lock(run, t);
	if (t->locked)
		(void) pgm_retention_try(run, t, pgm_retention_steps_body);
}

/* The rows of the current step's leaf older than the cutoff, as the owner. */
static void
pgm_retention_count_body(PgmRetentionRun *run, PgmRetentionTable *t)
{
	PgmRuleCheck c;

	memset(&c, 0, sizeof(c));
	c.target = t->step->target;
	pgm_measure(t->relid, t->column, t->cutoff, true, run->lock_timeout,
				pgm_retention_timeout_ms(t), &c);
	t->count = c.rows_null ? 0 : c.rows;
}

/* Unit: counts the rows the current step may remove. */
static void
pgm_retention_count_unit(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;

	(void) pgm_retention_try(run, run->current, pgm_retention_count_body);
}

/* PgmOwnerWork: a step's statements ($1 cutoff, $2 batch); rows of the last one. */
static void
pgm_statements_work(void *arg)
{
	PgmRuleCheck *c = (PgmRuleCheck *) arg;
	Oid			argtypes[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		args[2];

	args[0] = TimestampTzGetDatum(c->table->cutoff);
	args[1] = Int32GetDatum((int32) c->table->limit);
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	for (int i = 0; i < c->nstatements; i++)
	{
		int			ret = SPI_execute_with_args(c->statements[i], 2, argtypes, args,
												NULL, false, 0);

		if (ret < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not run a retention statement: %s",
							SPI_result_code_string(ret))));
		c->rows = (int64) SPI_processed;
	}
	SPI_finish();
}

/* One batch, or one partition detach, of the current step, as the owner. */
static void
pgm_retention_batch_body(PgmRetentionRun *run, PgmRetentionTable *t)
{
	PgmRetentionStep *step = t->step;
	PgmOwnerCall call;
	PgmRuleCheck c;

	memset(&c, 0, sizeof(c));
	c.column = t->column;
	c.archive = step->partition ? InvalidOid : t->archive;
	c.target = step->target;
	c.partition = step->partition;
	c.target_mode = step->partition ? AccessExclusiveLock : RowExclusiveLock;
	c.run = run;
	c.table = t;
	c.nstatements = step->nstatements;
	c.statements = step->statements;

	memset(&call, 0, sizeof(call));
	call.relid = t->relid;
	call.lockmode = step->partition ? AccessExclusiveLock : RowExclusiveLock;
	call.relkinds = "rp";
	call.kind_name = "a table";
	call.lock_timeout = run->lock_timeout;
	call.timeout_ms = pgm_retention_timeout_ms(t);
	call.check = pgm_rule_check;
	call.work = pgm_statements_work;
	call.arg = &c;
	(void) pgm_as_owner(&call);
	t->last_rows = c.rows;
}

/* Unit: one batch (or partition) of the current step. */
static void
pgm_retention_batch_unit(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;

	(void) pgm_retention_try(run, run->current, pgm_retention_batch_body);
}

/* The oldest row of the current table after the run, as the owner. */
static void
pgm_retention_oldest_body(PgmRetentionRun *run, PgmRetentionTable *t)
{
	PgmRuleCheck c;

	memset(&c, 0, sizeof(c));
	pgm_measure(t->relid, t->column, 0, false, run->lock_timeout,
				pgm_retention_timeout_ms(t), &c);
	t->oldest = c.oldest;
	t->oldest_null = c.oldest_null;
}

/*
 * Unit: records the current table's run through _retention_done() (called
 * through fmgr: nobody may call it from SQL), and releases its run lock.
 */
static void
pgm_retention_done_unit(void *arg)
{
	PgmRetentionRun *run = (PgmRetentionRun *) arg;
	PgmRetentionTable *t = run->current;
	Oid			argtypes[10] = {TIMESTAMPTZOID, INT8OID, INT8OID, INT4OID, INT4OID,
		INT4OID, FLOAT8OID, TEXTOID, TEXTOID, BOOLOID};
	Datum		args[10];
	Datum		result;
	bool		isnull;
	int			ret;
	Jsonb	   *res;
	JsonbValue *advice;

	LOCAL_FCINFO(fcinfo, 4);

	/* the oldest row now; when it cannot be read, the rule keeps the last one */
	t->oldest_measured = false;
	if (t->column != NULL)
	{
		t->deadline = Max(t->deadline, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000));
		t->oldest_measured = pgm_retention_try(run, t, pgm_retention_oldest_body);
	}

	args[0] = TimestampTzGetDatum(t->cutoff);
	args[1] = Int64GetDatum(t->removed);
	args[2] = Int64GetDatum(OidIsValid(t->archive) ? t->removed : 0);
	args[3] = Int32GetDatum(t->partitions);
	args[4] = Int32GetDatum(t->batches);
	args[5] = Int32GetDatum(t->skipped);
	args[6] = Float8GetDatum(TimestampDifferenceMilliseconds(t->started, GetCurrentTimestamp()) / 1000.0);
	args[7] = CStringGetTextDatum(t->stopped);
	args[8] = CStringGetTextDatum(run->driver->by);
	args[9] = BoolGetDatum(t->oldest_measured);
	ret = SPI_execute_with_args(pgm_retention_result_sql, 10, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not build the retention result: %s", SPI_result_code_string(ret))));
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	InitFunctionCallInfoData(*fcinfo, &run->done_fn, 4, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = DirectFunctionCall1(namein,
												CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = ObjectIdGetDatum(t->relid);
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = result;
	fcinfo->args[2].isnull = false;
	fcinfo->args[3].value = TimestampTzGetDatum(t->oldest);
	fcinfo->args[3].isnull = !t->oldest_measured || t->oldest_null;
	pgm_retention_recording = t->relid;
	PG_TRY();
	{
		result = FunctionCallInvoke(fcinfo);
	}
	PG_FINALLY();
	{
		pgm_retention_recording = InvalidOid;
	}
	PG_END_TRY();

	t->advice = NULL;
	if (!fcinfo->isnull)
	{
		res = DatumGetJsonbP(result);
		advice = getKeyJsonValueFromContainer(&res->root, "advice", strlen("advice"), NULL);
		if (advice != NULL && advice->type == jbvString)
			t->advice = MemoryContextStrdup(run->context,
											pnstrdup(advice->val.string.val, advice->val.string.len));
	}

	if (t->locked)
		pgm_retention_unlock(run, t);
}

/* Reports a table's run: a NOTICE for CALL, a LOG line from the worker. */
static void
pgm_retention_report(PgmRetentionRun *run, PgmRetentionTable *t)
{
	char		seconds[32];

	snprintf(seconds, sizeof(seconds), "%.3f",
			 TimestampDifferenceMilliseconds(t->started, GetCurrentTimestamp()) / 1000.0);
	if (run->driver->notice)
		ereport(NOTICE,
				(errmsg("retention of %s: %lld row(s) removed (%lld archived), %d partition(s), %d batch(es), %d skipped, %s s: %s",
						t->name, (long long) t->removed,
						(long long) (OidIsValid(t->archive) ? t->removed : 0),
						t->partitions, t->batches, t->skipped, seconds, t->stopped),
				 errhint("%s", t->advice ? t->advice : "nothing to follow up")));
	else if (t->removed > 0 || t->partitions > 0 || t->skipped > 0 ||
			 strcmp(t->stopped, "done") != 0)
		ereport(LOG,
				(errmsg("pgmaint retention of table \"%s\": %lld row(s) and %d partition(s) removed in %d batch(es), %d skipped: %s",
						t->name, (long long) t->removed, t->partitions,
						t->batches, t->skipped, t->stopped),
				 t->advice ? errhint("%s", t->advice) : 0));
}

/* Sets why the current table stopped, in the run's memory. */
static void
pgm_retention_stop(PgmRetentionRun *run, PgmRetentionTable *t, const char *fmt, const char *arg)
{
	t->stopped = MemoryContextStrdup(run->context, psprintf(fmt, arg));
}

/* What the run does after a unit */
typedef enum PgmUnitOutcome
{
	PGMAINT_UNIT_OK,			/* it ran: look at what it found */
	PGMAINT_UNIT_AGAIN,			/* locked: try again (a skipped batch) */
	PGMAINT_UNIT_STOP			/* the table stops (t->stopped says why) */
} PgmUnitOutcome;

/*
 * Runs a unit of the current table after the checks every unit makes (its
 * share of the budget, the driver's service) and sorts out what happened.
 */
static PgmUnitOutcome
pgm_retention_unit(PgmRetentionRun *run, PgmRetentionTable *t, PgmStepFunc unit,
				   int *skips, const char *what)
{
	if (GetCurrentTimestamp() >= t->deadline)
	{
		t->stopped = "time budget";
		return PGMAINT_UNIT_STOP;
	}
	if (!run->driver->service())
	{
		t->stopped = "retention turned off";
		return PGMAINT_UNIT_STOP;
	}
	run->current = t;
	t->last_rows = 0;
	if (!run->driver->in_xact(unit, run))
	{
		pgm_retention_stop(run, t, "error: %s failed (see the server log)", what);
		return PGMAINT_UNIT_STOP;
	}
	if (t->last_timed_out)
	{
		t->stopped = "time budget";
		return PGMAINT_UNIT_STOP;
	}
	if (t->last_error)
	{
		pgm_retention_stop(run, t, "error: %s", t->last_error);
		return PGMAINT_UNIT_STOP;
	}
	if (t->last_locked)
	{
		t->skipped++;
		if (++(*skips) >= run->max_skips)
		{
			t->stopped = "locked";
			return PGMAINT_UNIT_STOP;
		}
		return PGMAINT_UNIT_AGAIN;
	}
	*skips = 0;
	return PGMAINT_UNIT_OK;
}

/*
 * The batches of a rows step.  It first counts the rows older than the
 * cutoff and removes at most that many; when they are all gone and as many
 * are there again, the batches do not shrink the table and it stops.
 */
static void
pgm_retention_rows(PgmRetentionRun *run, PgmRetentionTable *t)
{
	int			skips = 0;
	int64		expired = -1;
	int64		removed = 0;
	PgmUnitOutcome o;

	for (;;)
	{
		if (expired < 0 || removed >= expired)
		{
			o = pgm_retention_unit(run, t, pgm_retention_count_unit, &skips, "counting the rows");
			if (o == PGMAINT_UNIT_AGAIN)
				continue;
			if (o == PGMAINT_UNIT_STOP)
				return;
			if (expired >= 0 && t->count > 0)
			{
				t->stopped = MemoryContextStrdup(run->context,
												 psprintf("not shrinking: %lld row(s) removed from %s and %lld older than the cutoff again (does a trigger put them back?)",
														  (long long) removed, t->step->target_name,
														  (long long) t->count));
				return;
			}
			if (t->count == 0)
				return;
			expired = t->count;
			removed = 0;
			continue;
		}
		t->limit = Min((int64) t->batch, expired - removed);
		o = pgm_retention_unit(run, t, pgm_retention_batch_unit, &skips, "a batch");
		if (o == PGMAINT_UNIT_AGAIN)
			continue;
		if (o == PGMAINT_UNIT_STOP)
			return;
		/* a short batch may have skipped locked rows: go on until one finds none */
		if (t->last_rows == 0)
			return;
		t->batches++;
		t->removed += t->last_rows;
		removed += t->last_rows;
	}
}

/* The steps of one table, its record and its report. */
static void
pgm_retention_table(PgmRetentionRun *run, PgmRetentionTable *t)
{
	run->current = t;
	t->started = GetCurrentTimestamp();
	t->stopped = "done";
	if (!run->driver->in_xact(pgm_retention_steps_unit, run))
		pgm_retention_stop(run, t, "error: %s", "reading its steps failed (see the server log)");
	else if (!t->locked)
		t->stopped = "another run holds this table";
	else if (t->last_locked)
	{
		t->skipped++;
		t->stopped = "locked";
	}
	else if (t->last_error)
		pgm_retention_stop(run, t, "error: %s", t->last_error);

	for (int s = 0; s < t->nsteps && strcmp(t->stopped, "done") == 0; s++)
	{
		t->step = &t->steps[s];
		if (t->step->partition)
		{
			int			skips = 0;
			PgmUnitOutcome o;

			t->limit = t->batch;
			do
				o = pgm_retention_unit(run, t, pgm_retention_batch_unit, &skips, "a partition");
			while (o == PGMAINT_UNIT_AGAIN);
			if (o == PGMAINT_UNIT_OK)
				t->partitions++;
		}
		else
			pgm_retention_rows(run, t);
	}

	run->current = t;
	if (!run->driver->in_xact(pgm_retention_done_unit, run))
		t->locked = false;		/* not recorded (logged); the lock went with the abort */
	pgm_retention_report(run, t);
}

/* The whole run: the list, then each table with its fair share of the budget. */
static void
pgm_retention_run(PgmRetentionRun *run)
{
	TimestampTz deadline;

	if (!run->driver->in_xact(pgm_retention_list_unit, run) || !run->present)
		return;
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), run->budget_us / 1000);
	for (int i = 0; i < run->ntables; i++)
	{
		PgmRetentionTable *t = &run->tables[i];
		TimestampTz now;

		if (!run->driver->service())
			break;
		now = GetCurrentTimestamp();
		t->deadline = now + (Max(deadline - now, 0) / (run->ntables - i));
		pgm_retention_table(run, t);
	}
}

/* ---------------------------------------------------------------- the worker */

/* Tells whether the worker should apply retention now. */
static bool
pgm_retention_wanted(void)
{
	return pgm_policy == PGMAINT_POLICY_APPLY && pgm_retention_interval > 0;
}

/* The worker's unit: a step of its own (nothing on a standby). */
static bool
pgm_worker_in_xact(PgmStepFunc fn, void *arg)
{
	return pgm_run_step("retention", fn, arg);
}

/* The scheduler's serve function, for the worker's run in progress */
static PgmServeFunc pgm_worker_serve = NULL;

/* Between the worker's units: the sample that is due, and whether to go on. */
static bool
pgm_worker_service_run(void)
{
	pgm_worker_serve();
	return pgm_retention_wanted();
}

/*
 * Worker task: one retention run every pgmaint.retention_interval, with
 * pgmaint.policy = apply.  Between two transactions the run calls serve, the
 * scheduler's function that takes the sample that is due.  The run's memory
 * is the scheduler's loop context (current here), reset after the task.
 */
void
pgm_retention_task(PgmServeFunc serve)
{
	PgmRetentionRun run;

	if (!pgm_retention_wanted())
		return;

	memset(&run, 0, sizeof(run));
	run.context = CurrentMemoryContext;
	run.driver = &pgm_worker_driver;
	run.budget_us = -1;
	run.lock_timeout = PGMAINT_LOCK_TIMEOUT;
	pgm_worker_serve = serve;
	pgm_retention_run(&run);
	pgm_worker_serve = NULL;
}

/* ---------------------------------------------------------------- CALL apply_retention() */

/* The procedure's unit: fn in the current transaction, then a commit. */
static bool
pgm_apply_in_xact(PgmStepFunc fn, void *arg)
{
	fn(arg);
	SPI_commit();
	return true;
}

/* Between the procedure's units: a cancel is honoured. */
static bool
pgm_apply_service(void)
{
	CHECK_FOR_INTERRUPTS();
	return true;
}

/*
 * PROCEDURE pgmaint.apply_retention(only_table regclass, time_budget
 * interval, lock_timeout interval): the run of the tables the caller owns,
 * each unit in a transaction of its own.  Not inside a transaction block.
 */
Datum
pgmaint_apply_retention(PG_FUNCTION_ARGS)
{
	PgmRetentionRun run;
	bool		atomic = fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic;

	if (atomic)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("invalid transaction termination"),
				 errdetail("pgmaint.apply_retention() commits each batch: it cannot run inside a transaction block or a function."),
				 errhint("Run CALL pgmaint.apply_retention() on its own.")));

	memset(&run, 0, sizeof(run));
	run.driver = &pgm_apply_driver;
	run.only_table = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	run.budget_us = -1;
	if (!PG_ARGISNULL(1))
	{
		Interval   *budget = PG_GETARG_INTERVAL_P(1);

		run.budget_us = budget->time + (int64) budget->day * USECS_PER_DAY +
			(int64) budget->month * DAYS_PER_MONTH * USECS_PER_DAY;
		if (run.budget_us <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time_budget must be positive"),
					 errhint("Give an interval such as '5 min'.")));
	}
	run.lock_timeout = PGMAINT_LOCK_TIMEOUT;
	if (!PG_ARGISNULL(2))
	{
		Interval   *lt = PG_GETARG_INTERVAL_P(2);
		int64		ms = (lt->time + (int64) lt->day * USECS_PER_DAY +
						  (int64) lt->month * DAYS_PER_MONTH * USECS_PER_DAY) / 1000;

		if (ms <= 0 || ms > INT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lock_timeout must be between 1 ms and %d ms", INT_MAX),
					 errhint("Give an interval such as '1s'.")));
		run.lock_timeout = psprintf("%lldms", (long long) ms);
	}

	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	run.context = AllocSetContextCreate(CurrentMemoryContext, "pgmaint apply_retention",
										ALLOCSET_DEFAULT_SIZES);
	if (OidIsValid(run.only_table))
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		args[1] = {ObjectIdGetDatum(run.only_table)};
		int			ret = SPI_execute_with_args("SELECT 1 FROM pgmaint.retention r WHERE r.relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
												1, argtypes, args, NULL, false, 1);

		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table %s has no retention rule", pgm_relation_name(run.only_table)),
					 errhint("Set one with pgmaint.set_retention().")));
	}
	pgm_retention_run(&run);
	SPI_finish();
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 *
 * backends.c
 *	  Leaked sessions: pgmaint.terminate_leaks() and the worker's leak sweep.
 *
 * A leak is a session idle in a transaction (or in an aborted one) for
 * longer than a given time, measured from its last state change.  Both
 * entry points share one procedure:
 *
 *	1. list the candidates through pg_stat_activity, with the caller's own
 *	   visibility (a caller without pg_read_all_stats sees only its roles);
 *	2. skip the sessions the rules protect: the caller's own backend,
 *	   non-client backends (replication and the like), other databases
 *	   (terminate_leaks() acts on its own database; the worker's sweep,
 *	   server-wide, on all), application names matching
 *	   pgmaint.leak_exclude, superusers' sessions
 *	   unless the caller is a superuser, and sessions the caller may not
 *	   signal;
 *	3. right before signalling, re-read the live backend status of the pid
 *	   and give up if the session started, ended, or changed state since it
 *	   was listed (pg_stat_activity is a snapshot taken once a transaction);
 *	4. terminate with pg_terminate_backend() under the caller's own rights,
 *	   so PostgreSQL's checks apply exactly as if the caller had called it;
 *	5. write one audit row per terminated (or, in a dry run, would-be
 *	   terminated) session through pgmaint._audit().
 *
 * The audit row is written by calling pgmaint._audit() through fmgr rather
 * than through SQL: SECURITY DEFINER still makes it run as its owner, and no
 * EXECUTE check applies, so a grantee of terminate_leaks() needs no right on
 * _audit() and cannot write audit rows of its own making.
 *
 * SQL served: terminate_leaks() and _leaked() (sql/code/20-connections.sql),
 * _require_interval() (20-connections.sql, used by every fragment).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid_d.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "postmaster/postmaster.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "pgmaint.h"

/* What a leak run does with the eligible sessions */
typedef enum PgmLeakMode
{
	PGMAINT_LEAK_LIST,			/* nothing: the worker's report mode */
	PGMAINT_LEAK_DRY_RUN,		/* audit what would be terminated */
	PGMAINT_LEAK_KILL			/* terminate and audit */
} PgmLeakMode;

/* One candidate session and what was done with it */
typedef struct PgmLeak
{
	int			pid;
	Oid			datid;
	Oid			userid;
	char	   *datname;
	char	   *usename;
	char	   *appname;
	char	   *backend_type;
	char	   *state;
	TimestampTz backend_start;
	TimestampTz state_change;
	TimestampTz xact_start;
	bool		xact_start_null;
	Interval	idle_for;
	bool		excluded;
	bool		eligible;		/* passed every rule */
	const char *action;
} PgmLeak;

/* A session the worker has already reported, keyed by pid */
typedef struct PgmReportedLeak
{
	int			pid;
	TimestampTz backend_start;
	bool		seen;
} PgmReportedLeak;

/* Sessions reported by the worker in report mode (worker process only) */
static HTAB *pgm_reported_leaks = NULL;

/*
 * Every session, with what the rules need; which of them are leaked is
 * pgm_is_leak()'s decision (the one copy of the leak rule, exported to SQL
 * as pgmaint._leaked()).  $1 is pgmaint.leak_exclude.
 *
 * Runs as the worker (a superuser) and in terminate_leaks(): functions,
 * types and operators are qualified, whatever search_path is in effect.
 */
#define PGMAINT_LEAK_QUERY \
	"SELECT a.pid, a.datid, a.datname::pg_catalog.text, a.usesysid," \
	"       a.usename::pg_catalog.text," \
	"       a.application_name, a.backend_type, a.state, a.backend_start," \
	"       a.state_change, a.xact_start," \
	"       pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) a.state_change," \
	"       EXISTS (SELECT 1" \
	"                 FROM pg_catalog.unnest(pg_catalog.string_to_array($1, ',')) p" \
	"                WHERE pg_catalog.btrim(p) OPERATOR(pg_catalog.<>) ''" \
	"                  AND a.application_name OPERATOR(pg_catalog.~~) pg_catalog.btrim(p))" \
	"  FROM pg_catalog.pg_stat_activity a" \
	" ORDER BY a.state_change, a.pid"

PG_FUNCTION_INFO_V1(pgmaint_terminate_leaks);
PG_FUNCTION_INFO_V1(pgmaint_leaked);
PG_FUNCTION_INFO_V1(pgmaint_usable_connections);
PG_FUNCTION_INFO_V1(pgmaint_require_interval);

static bool pgm_is_leak(const char *state, TimestampTz state_change,
						Interval *idle_for, TimestampTz now);
static List *pgm_leak_candidates(Interval *idle_for);
static const char *pgm_leak_skip_reason(const PgmLeak *leak, bool any_database);
static bool pgm_leak_unchanged(const PgmLeak *leak);
static void pgm_leak_audit(const PgmLeak *leak, Interval *idle_for,
						   bool dry_run, const char *by);
static List *pgm_leak_run(Interval *idle_for, PgmLeakMode mode, const char *by,
						  bool any_database);
static void pgm_json_field(StringInfo buf, const char *key, const char *value);
static Interval *pgm_positive_interval(FunctionCallInfo fcinfo, int arg,
									   const char *name);

/*
 * The leak rule on a backend's state: it is idle in a transaction (or in an
 * aborted one) and has not changed state since before SINCE.  The one copy
 * of the rule: pgm_is_leak() applies it to pg_stat_activity's rows, the
 * health checks (checksessions.c) to the backend status array.
 */
bool
pgm_leak_state_since(BackendState state, TimestampTz state_change, TimestampTz since)
{
	return (state == STATE_IDLEINTRANSACTION ||
			state == STATE_IDLEINTRANSACTION_ABORTED) &&
		state_change != 0 && state_change < since;
}

/*
 * The leak rule: a session is leaked when it is idle in a transaction (or in
 * an aborted one) and has not changed state since before NOW - IDLE_FOR.
 * terminate_leaks(), the worker's sweep, connection_leaks() and the
 * idle_in_transaction check all decide by it.
 */
static bool
pgm_is_leak(const char *state, TimestampTz state_change, Interval *idle_for,
			TimestampTz now)
{
	TimestampTz since;
	BackendState st;

	if (state == NULL)
		return false;
	if (strcmp(state, "idle in transaction") == 0)
		st = STATE_IDLEINTRANSACTION;
	else if (strcmp(state, "idle in transaction (aborted)") == 0)
		st = STATE_IDLEINTRANSACTION_ABORTED;
	else
		return false;
	since = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													TimestampTzGetDatum(now),
													IntervalPGetDatum(idle_for)));
	return pgm_leak_state_since(st, state_change, since);
}

/*
 * The worker's sweep when its sample saw no session idle in a transaction
 * for pgmaint.leak_timeout: none is leaked, so none stays reported.
 */
void
pgm_leak_sweep_none(void)
{
	if (pgm_reported_leaks != NULL)
	{
		hash_destroy(pgm_reported_leaks);
		pgm_reported_leaks = NULL;
	}
}

/*
 * Connection slots a client without special roles can use: max_connections
 * less superuser_reserved_connections and, from PostgreSQL 16 on,
 * reserved_connections (SQL: pgmaint._usable_connections()).
 */
int
pgm_usable_connections(void)
{
#if PG_VERSION_NUM >= 160000
	return MaxConnections - SuperuserReservedConnections - ReservedConnections;
#else
	return MaxConnections - ReservedBackends;
#endif
}

/* Lists the sessions idle in a transaction for longer than IDLE_FOR. */
static List *
pgm_leak_candidates(Interval *idle_for)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	List	   *leaks = NIL;
	TimestampTz now = GetCurrentTimestamp();
	uint64		i;
	int			rc;

	args[0] = CStringGetTextDatum(pgm_leak_exclude ? pgm_leak_exclude : "");

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	rc = SPI_execute_with_args(PGMAINT_LEAK_QUERY, 1, argtypes, args, NULL,
							   true, 0);
	if (rc != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not list leaked sessions: %s",
						SPI_result_code_string(rc))));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spicxt;
		PgmLeak    *leak;
		bool		isnull;
		char	   *state = SPI_getvalue(tuple, desc, 8);
		Datum		state_change = SPI_getbinval(tuple, desc, 10, &isnull);

		if (isnull || !pgm_is_leak(state, DatumGetTimestampTz(state_change),
								   idle_for, now))
			continue;

		/* the rows outlive SPI_finish(): build them in the caller's context */
		spicxt = MemoryContextSwitchTo(outer);
		leak = palloc0(sizeof(PgmLeak));
		leak->pid = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		leak->datid = DatumGetObjectId(SPI_getbinval(tuple, desc, 2, &isnull));
		if (isnull)
			leak->datid = InvalidOid;
		leak->datname = SPI_getvalue(tuple, desc, 3);
		leak->userid = DatumGetObjectId(SPI_getbinval(tuple, desc, 4, &isnull));
		if (isnull)
			leak->userid = InvalidOid;
		leak->usename = SPI_getvalue(tuple, desc, 5);
		leak->appname = SPI_getvalue(tuple, desc, 6);
		leak->backend_type = SPI_getvalue(tuple, desc, 7);
		leak->state = SPI_getvalue(tuple, desc, 8);
		leak->backend_start = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 9, &isnull));
		leak->state_change = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 10, &isnull));
		leak->xact_start = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 11, &leak->xact_start_null));
		leak->idle_for = *DatumGetIntervalP(SPI_getbinval(tuple, desc, 12, &isnull));
		leak->excluded = DatumGetBool(SPI_getbinval(tuple, desc, 13, &isnull));
		leaks = lappend(leaks, leak);
		MemoryContextSwitchTo(spicxt);
	}

	SPI_finish();
	return leaks;
}

/*
 * Returns why the rules protect LEAK from the caller, or NULL if they do
 * not.  A session of another database is the caller's only with
 * any_database (the worker's sweep, which is server-wide).
 */
static const char *
pgm_leak_skip_reason(const PgmLeak *leak, bool any_database)
{
	Oid			caller = GetUserId();

	if (leak->pid == MyProcPid)
		return "skipped: own session";
	if (leak->backend_type == NULL || strcmp(leak->backend_type, "client backend") != 0)
		return "skipped: not a client backend";
	if (leak->datid != MyDatabaseId && !any_database)
		return "skipped: other database";
	if (leak->excluded)
		return "skipped: excluded application_name";
	/* the same two checks as pg_signal_backend(), in the same order */
	if (!OidIsValid(leak->userid) || (superuser_arg(leak->userid) && !superuser()))
		return "skipped: superuser session";
	if (!has_privs_of_role(caller, leak->userid) &&
		!has_privs_of_role(caller, ROLE_PG_SIGNAL_BACKEND))
		return "skipped: permission denied";
	return NULL;
}

/*
 * Re-reads the live status of LEAK's pid: true when it is still the same
 * session (same start time), in the same database and role, still idle in a
 * transaction since the same state change.  A session that ran a statement
 * meanwhile, ended, or whose pid now belongs to a new backend gives false.
 */
static bool
pgm_leak_unchanged(const PgmLeak *leak)
{
	int			n;
	int			i;

	/* drop this transaction's cached copy of the backend status array */
	pgstat_clear_backend_activity_snapshot();
	n = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local;
		PgBackendStatus *be;

#if PG_VERSION_NUM >= 170000
		local = pgstat_get_local_beentry_by_index(i);
#else
		local = pgstat_fetch_stat_local_beentry(i);
#endif
		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid != leak->pid)
			continue;
		return be->st_proc_start_timestamp == leak->backend_start &&
			be->st_state_start_timestamp == leak->state_change &&
			(be->st_state == STATE_IDLEINTRANSACTION ||
			 be->st_state == STATE_IDLEINTRANSACTION_ABORTED) &&
			be->st_databaseid == leak->datid &&
			be->st_userid == leak->userid;
	}
	return false;
}

/* Appends "key": value (a JSON string, or null) to BUF. */
static void
pgm_json_field(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* Writes the audit row of one terminated (or would-be terminated) session. */
static void
pgm_leak_audit(const PgmLeak *leak, Interval *idle_for, bool dry_run,
			   const char *by)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, JSONBOID, BOOLOID};
	FmgrInfo	flinfo;
	StringInfoData detail;

	LOCAL_FCINFO(fcinfo, 4);

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	appendStringInfo(&detail, "\"pid\": %d", leak->pid);
	pgm_json_field(&detail, "database", leak->datname);
	pgm_json_field(&detail, "user", leak->usename);
	pgm_json_field(&detail, "application_name", leak->appname);
	pgm_json_field(&detail, "state", leak->state);
	pgm_json_field(&detail, "idle_for",
				   DatumGetCString(DirectFunctionCall1(interval_out,
													   IntervalPGetDatum(&leak->idle_for))));
	pgm_json_field(&detail, "threshold",
				   DatumGetCString(DirectFunctionCall1(interval_out,
													   IntervalPGetDatum(idle_for))));
	pgm_json_field(&detail, "backend_start", timestamptz_to_str(leak->backend_start));
	pgm_json_field(&detail, "xact_start",
				   leak->xact_start_null ? NULL : timestamptz_to_str(leak->xact_start));
	pgm_json_field(&detail, "by", by);
	appendStringInfoChar(&detail, '}');

	/* no EXECUTE check on this path: see the header comment */
	fmgr_info(LookupFuncName(list_make2(makeString("pgmaint"), makeString("_audit")),
							 4, argtypes, false),
			  &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 4, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = CStringGetTextDatum("terminate_leak");
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = CStringGetTextDatum(psprintf("pid %d", leak->pid));
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail.data));
	fcinfo->args[2].isnull = false;
	fcinfo->args[3].value = BoolGetDatum(dry_run);
	fcinfo->args[3].isnull = false;
	(void) FunctionCallInvoke(fcinfo);
}

/*
 * Lists the leaks older than IDLE_FOR, decides on each, and in DRY_RUN or
 * KILL mode audits (and in KILL mode terminates) the eligible ones.  BY names
 * the caller in the audit detail; any_database lets it act on sessions of
 * every database.  Returns the candidates, action filled in.
 */
static List *
pgm_leak_run(Interval *idle_for, PgmLeakMode mode, const char *by, bool any_database)
{
	List	   *leaks;
	ListCell   *lc;

	/* every action is audited: refuse up front rather than after a signal */
	if (mode != PGMAINT_LEAK_LIST && XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot terminate leaked sessions in a read-only transaction"),
				 errhint("Terminations and dry runs are audited in pgmaint.actions: call terminate_leaks() on the primary, outside a read-only transaction.")));

	leaks = pgm_leak_candidates(idle_for);
	foreach(lc, leaks)
	{
		PgmLeak    *leak = (PgmLeak *) lfirst(lc);
		const char *reason = pgm_leak_skip_reason(leak, any_database);

		CHECK_FOR_INTERRUPTS();
		if (reason != NULL)
		{
			leak->action = reason;
			continue;
		}
		leak->eligible = true;
		if (mode == PGMAINT_LEAK_LIST)
			leak->action = "would terminate";
		else if (!pgm_leak_unchanged(leak))
			leak->action = "skipped: state changed";
		else if (mode == PGMAINT_LEAK_DRY_RUN)
		{
			leak->action = "would terminate";
			pgm_leak_audit(leak, idle_for, true, by);
		}
		else if (DatumGetBool(DirectFunctionCall2(pg_terminate_backend,
												  Int32GetDatum(leak->pid),
												  Int64GetDatum(0))))
		{
			leak->action = "terminated";
			ereport(LOG,
					(errmsg("pgmaint terminated session %d of user \"%s\" (application \"%s\", database \"%s\"), idle in transaction for %s",
							leak->pid, leak->usename ? leak->usename : "",
							leak->appname ? leak->appname : "",
							leak->datname ? leak->datname : "",
							DatumGetCString(DirectFunctionCall1(interval_out,
																IntervalPGetDatum(&leak->idle_for))))));
			pgm_leak_audit(leak, idle_for, false, by);
		}
		else
			leak->action = "skipped: session ended";
	}
	return leaks;
}

/*
 * Raises 22023 unless ARG (argument NAME) is a positive, non-NULL interval:
 * the one copy of the rule, exported to SQL as pgmaint._require_interval().
 */
static Interval *
pgm_positive_interval(FunctionCallInfo fcinfo, int arg, const char *name)
{
	Interval	zero = {0};
	Interval   *value;

	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must not be NULL", name),
				 errhint("Pass a positive interval such as '5 min'.")));
	value = PG_GETARG_INTERVAL_P(arg);
	if (DatumGetBool(DirectFunctionCall2(interval_le, IntervalPGetDatum(value),
										 IntervalPGetDatum(&zero))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must be a positive interval", name),
				 errdetail("The value given was %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(value)))),
				 errhint("Pass a positive interval such as '5 min'.")));
	return value;
}

/*
 * SQL pgmaint._require_interval(name, value): raises 22023 unless value is a
 * positive, non-NULL interval; the SQL functions' copy of
 * pgm_positive_interval(), by reference.
 */
Datum
pgmaint_require_interval(PG_FUNCTION_ARGS)
{
	const char *name = PG_ARGISNULL(0) ? "interval" : text_to_cstring(PG_GETARG_TEXT_PP(0));

	(void) pgm_positive_interval(fcinfo, 1, name);
	PG_RETURN_VOID();
}

/* SQL pgmaint._usable_connections(): pgm_usable_connections(). */
Datum
pgmaint_usable_connections(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pgm_usable_connections());
}

/*
 * SQL pgmaint._leaked(state, state_change, idle_for): pgm_is_leak() for one
 * row of pg_stat_activity, now.  NULL arguments give false.
 */
Datum
pgmaint_leaked(PG_FUNCTION_ARGS)
{
	char	   *state;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	state = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PG_RETURN_BOOL(pgm_is_leak(state, PG_GETARG_TIMESTAMPTZ(1),
							   PG_GETARG_INTERVAL_P(2), GetCurrentTimestamp()));
}

/*
 * SQL pgmaint.terminate_leaks(idle_for, dry_run): one row per session idle
 * in a transaction for longer than idle_for, with what was done about it.
 */
Datum
pgmaint_terminate_leaks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Interval   *idle_for = pgm_positive_interval(fcinfo, 0, "idle_for");
	bool		dry_run;
	List	   *leaks;
	ListCell   *lc;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"dry_run\" must not be NULL"),
				 errhint("Pass true to see what would be terminated, false to terminate.")));
	dry_run = PG_GETARG_BOOL(1);

	InitMaterializedSRF(fcinfo, 0);

	leaks = pgm_leak_run(idle_for,
						 dry_run ? PGMAINT_LEAK_DRY_RUN : PGMAINT_LEAK_KILL,
						 "terminate_leaks", false);

	foreach(lc, leaks)
	{
		PgmLeak    *leak = (PgmLeak *) lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = Int32GetDatum(leak->pid);
		nulls[1] = leak->usename == NULL;
		if (!nulls[1])
			values[1] = DirectFunctionCall1(namein, CStringGetDatum(leak->usename));
		nulls[2] = leak->appname == NULL;
		if (!nulls[2])
			values[2] = CStringGetTextDatum(leak->appname);
		values[3] = IntervalPGetDatum(&leak->idle_for);
		values[4] = CStringGetTextDatum(leak->action);
		nulls[5] = leak->datname == NULL;
		if (!nulls[5])
			values[5] = DirectFunctionCall1(namein, CStringGetDatum(leak->datname));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/*
 * The worker's leak sweep, a pgm_run_step() step the server-wide worker runs
 * after every sample, over the sessions of every database: with
 * pgmaint.leak_action = terminate it terminates (and audits, in its own
 * database's pgmaint.actions, the session's database in the detail) the
 * leaks older than pgmaint.leak_timeout by the rules of terminate_leaks();
 * with report it logs one WARNING per leaked session, when it is first seen.
 */
void
pgm_leak_sweep(void *arg)
{
	Interval	timeout = {0};
	List	   *leaks;
	ListCell   *lc;
	HASH_SEQ_STATUS seq;
	PgmReportedLeak *entry;

	timeout.time = (TimeOffset) pgm_leak_timeout * USECS_PER_SEC;

	if (pgm_leak_action == PGMAINT_LEAK_TERMINATE)
	{
		(void) pgm_leak_run(&timeout, PGMAINT_LEAK_KILL, "worker", true);
		return;
	}

	if (pgm_reported_leaks == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(int);
		ctl.entrysize = sizeof(PgmReportedLeak);
		pgm_reported_leaks = hash_create("pgmaint reported leaks", 64, &ctl,
										 HASH_ELEM | HASH_BLOBS);
	}

	hash_seq_init(&seq, pgm_reported_leaks);
	while ((entry = (PgmReportedLeak *) hash_seq_search(&seq)) != NULL)
		entry->seen = false;

	leaks = pgm_leak_run(&timeout, PGMAINT_LEAK_LIST, "worker", true);
	foreach(lc, leaks)
	{
		PgmLeak    *leak = (PgmLeak *) lfirst(lc);
		bool		found;

		if (!leak->eligible)
			continue;
		entry = (PgmReportedLeak *) hash_search(pgm_reported_leaks, &leak->pid,
												HASH_ENTER, &found);
		if (!found || entry->backend_start != leak->backend_start)
			ereport(WARNING,
					(errmsg("session %d of user \"%s\" (application \"%s\", database \"%s\") has been idle in transaction for %s",
							leak->pid, leak->usename ? leak->usename : "",
							leak->appname ? leak->appname : "",
							leak->datname ? leak->datname : "",
							DatumGetCString(DirectFunctionCall1(interval_out,
																IntervalPGetDatum(&leak->idle_for)))),
					 errhint("End it with pgmaint.terminate_leaks(), or set \"pgmaint.leak_action\" to \"terminate\".")));
		entry->backend_start = leak->backend_start;
		entry->seen = true;
	}

	/* forget the sessions that are no longer leaked */
	hash_seq_init(&seq, pgm_reported_leaks);
	while ((entry = (PgmReportedLeak *) hash_seq_search(&seq)) != NULL)
	{
		if (!entry->seen)
			(void) hash_search(pgm_reported_leaks, &entry->pid, HASH_REMOVE, NULL);
	}
}

/*-------------------------------------------------------------------------
 *
 * events.c
 *	  The worker's health step: it evaluates the health checks of its
 *	  database in C (evaluate.c), publishes the evaluation in shared memory
 *	  for health() and the other readers (healthshm.c), grades it and turns
 *	  each change of a check's status into a health event; and the shared
 *	  memory that keeps a hot standby's recent events.
 *
 * Every pgmaint.health_interval the step evaluates every check once, with
 * the table-level figures of the sample just taken (no query: the catalog,
 * the statistics and shared memory are read in C; a few rows of pgmaint's
 * own tables through kept plans), grades the evaluation against
 * pgmaint.thresholds (grading.c and status.c, as every reader does), and
 * compares each check's status with the one it recorded last.  SQL writes
 * only when an event fires (its row, its NOTIFY); the prune of old events is
 * one kept plan, run every PGMAINT_PRUNE_PERIOD seconds at most.  A new status
 * becomes an event once it has been seen for pgmaint.alert_hold (rounded up
 * to whole health intervals; by default one interval, so a status seen in
 * one evaluation only never fires).  An event is
 *  - on a primary: a row in pgmaint.health_events and NOTIFY pgmaint_health,
 *    in the step's transaction (the table is pruned with history_retention);
 *  - on a hot standby: an entry in this file's shared memory, read by
 *    pgmaint._memory_events() (pgmaint.events() shows both);
 *  - everywhere: one log line, WARNING when the status worsens, LOG otherwise.
 * The step works on a copy of its state and keeps it only when it reached
 * its end, so an event whose row could not be written is retried at the
 * next evaluation and never logged twice.
 *
 * The recorded statuses live in the worker's memory; when the worker starts
 * they are read back from the newest event of each check, so a restart does
 * not repeat events.  A check without any event starts silently at its
 * first status unless that status is warning or critical.
 *
 * The step is per-database: it evaluates the database the worker is
 * connected to (the server-wide checks copied from the server-wide worker's
 * evaluation while it is fresh, see pgm_evaluate()), and records its events
 * in that database; a standby's shared memory keeps the events of every
 * database, each read in its own.  The SQL of the database
 * decides what runs (pgm_installed_version()): 1.2 and later as above; 1.1,
 * which has no evaluation in C to read, runs its own health_checks()
 * through SPI for its events, as 1.1 did; 1.0 has no events and is skipped.
 *
 * After the samples _request_samples() asks for, the worker evaluates once
 * more for the readers (pgm_health_refresh_task()): published, not graded
 * for events, so that a burst neither fires an event nor shortens an
 * alert_hold.
 *
 * The step also keeps what health() says beside the checks: the overall
 * status of the newest event and when the run of events with that status
 * began ("since"), read back at start like the recorded statuses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "health.h"

/* Name of the shared memory struct and of its LWLock tranche */
#define PGMAINT_EVENTS_SHMEM_NAME	"pgmaint events"
#define PGMAINT_EVENTS_TRANCHE		"pgmaint events"

/* Events a standby keeps in shared memory (the oldest is overwritten) */
#define PGMAINT_EVENTS_KEPT			128

/* Checks the step can follow */
#define PGMAINT_MAX_CHECKS			64

/* Sizes of the texts of one event */
#define PGMAINT_STATUS_LEN			16
#define PGMAINT_VALUE_LEN			32
#define PGMAINT_EVENT_TEXT_LEN		512

/* Periods the server-wide worker's evaluation serves the other workers */
#define PGMAINT_SERVER_EVAL_PERIODS	2

/* Columns of pgmaint._memory_events() */
#define PGMAINT_MEMORY_EVENTS_COLS	8

/* One event, as kept in shared memory */
typedef struct PgmEvent
{
	Oid			datid;			/* the database whose worker recorded it */
	TimestampTz at;
	char		check_name[NAMEDATALEN];
	char		old_status[PGMAINT_STATUS_LEN];	/* "" when none */
	char		new_status[PGMAINT_STATUS_LEN];
	char		value[PGMAINT_VALUE_LEN];	/* "" when NULL */
	char		overall[PGMAINT_STATUS_LEN];
	char		message[PGMAINT_EVENT_TEXT_LEN];
	char		hint[PGMAINT_EVENT_TEXT_LEN];
} PgmEvent;

/* The standby's recent events */
typedef struct PgmEventsShared
{
	LWLock	   *lock;
	int			count;
	int			next;
	PgmEvent	events[PGMAINT_EVENTS_KEPT];
} PgmEventsShared;

/* What the step remembers of one check */
typedef struct PgmCheckState
{
	char		name[NAMEDATALEN];
	char		recorded[PGMAINT_STATUS_LEN];	/* "" before the first */
	char		pending[PGMAINT_STATUS_LEN];	/* a new status not yet held */
	int			pending_seen;	/* evaluations it was seen in, in a row */
	bool		failed;			/* its measurement failed in the last evaluation */
} PgmCheckState;

/* The step's state: the checks it follows, and the overall status's since */
typedef struct PgmEventState
{
	bool		loaded;			/* recorded statuses read back */
	int			nchecks;
	PgmCheckState checks[PGMAINT_MAX_CHECKS];
	PgmOverallSince since;
} PgmEventState;

/* One graded check, as the step compares it */
typedef struct PgmEventInput
{
	const char *name;
	const char *status;
	const char *value;			/* NULL: none */
	const char *message;
	const char *hint;			/* NULL: none */
	bool		failed;
} PgmEventInput;

static PgmEventsShared *pgm_events_shared = NULL;
static PgmEventState pgm_event_state;
static PgmEventState pgm_event_work;
static SPIPlanPtr pgm_prune_plan = NULL;

/* When the step last pruned health_events (see PGMAINT_PRUNE_PERIOD) */
static TimestampTz pgm_events_pruned_at = 0;

/* The newest event of each check, for the recorded statuses */
static const char *const pgm_events_last_sql =
"SELECT DISTINCT ON (e.check_name) e.check_name, e.new_status"
" FROM pgmaint.events(NULL) e"
" WHERE e.source OPERATOR(pg_catalog.=) CASE WHEN pg_catalog.pg_is_in_recovery()"
" THEN 'memory' ELSE 'table' END"
" ORDER BY e.check_name, e.at DESC";

/* When the newest event's overall status began (1.2 on) */
static const char *const pgm_events_since_sql =
"SELECT e.overall, pgmaint._status_since(e.overall)"
" FROM pgmaint.events(NULL) e"
" WHERE e.source OPERATOR(pg_catalog.=) CASE WHEN pg_catalog.pg_is_in_recovery()"
" THEN 'memory' ELSE 'table' END"
" ORDER BY e.at DESC LIMIT 1";

/* The graded checks of a database still at 1.1, from its own SQL (none failed, then) */
static const char *const pgm_events_checks_sql_1_1 =
"SELECT c.check_name, c.status, c.value::pg_catalog.text, c.message, c.hint, false"
" FROM pgmaint.health_checks() c";

static const char *const pgm_events_insert_sql =
"WITH e AS (INSERT INTO pgmaint.health_events"
" (at, check_name, old_status, new_status, value, message, hint, overall)"
" VALUES ($1, $2, $3, $4, $5::pg_catalog.numeric, $6, $7, $8) RETURNING *)"
" SELECT pg_catalog.pg_notify('pgmaint_health', pgmaint._health_event_payload("
" e.at, e.check_name, e.old_status, e.new_status, e.value, e.message, e.overall))"
" FROM e";

static const char *const pgm_events_prune_sql =
"DELETE FROM pgmaint.health_events"
" WHERE at OPERATOR(pg_catalog.<) (pg_catalog.now()"
" OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1))";

PG_FUNCTION_INFO_V1(pgmaint_memory_events);

static void pgm_events_step(void *arg);
static int	pgm_events_inputs_1_1(PgmEventInput **inputs);
static int	pgm_events_inputs(PgmEventInput **inputs);
static void pgm_events_load(PgmEventState *state, int version);
static PgmCheckState *pgm_events_find(PgmEventState *state, const char *name);
static int	pgm_status_rank(const char *status);
static const char *pgm_events_overall(const PgmEventState *state);
static void pgm_events_emit(PgmEvent *events, int n, bool in_recovery);
static void pgm_events_keep(const PgmEvent *event);

/* Bytes of shared memory the standby's events need. */
static Size
pgm_events_shmem_size(void)
{
	return sizeof(PgmEventsShared);
}

/* Asks for the events' shared memory and lock (shmem_request_hook). */
void
pgm_events_request_shmem(void)
{
	RequestAddinShmemSpace(pgm_events_shmem_size());
	RequestNamedLWLockTranche(PGMAINT_EVENTS_TRANCHE, 1);
}

/* Creates or attaches to the events' shared memory (shmem_startup_hook). */
void
pgm_events_startup_shmem(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgm_events_shared = ShmemInitStruct(PGMAINT_EVENTS_SHMEM_NAME,
										pgm_events_shmem_size(), &found);
	if (!found)
	{
		memset(pgm_events_shared, 0, pgm_events_shmem_size());
		pgm_events_shared->lock = &(GetNamedLWLockTranche(PGMAINT_EVENTS_TRANCHE))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The time between two evaluations: pgmaint.health_interval, or when it is
 * -1 the sample interval, at most one minute.
 */
int
pgm_events_period(void)
{
	if (pgm_health_interval > 0)
		return pgm_health_interval;
	return Min(pgm_sample_interval, 60);
}

/* Worker task: evaluates the health checks and records their changes. */
void
pgm_events_task(PgmServeFunc serve)
{
	(void) pgm_run_read_step("events", pgm_events_step, NULL);
}

/*
 * Worker task after the samples _request_samples() asked for: one evaluation
 * published for the readers, and no more.  It fires no event and counts for
 * no alert_hold, which is time (health intervals), not how many evaluations
 * someone asked for.
 */
void
pgm_health_refresh_task(PgmServeFunc serve)
{
	static bool refresh_only = true;

	(void) pgm_run_read_step("events", pgm_events_step, &refresh_only);
}

/*
 * The graded checks of a database at 1.1: its own health_checks(), through
 * SPI (its SQL has no evaluation in C to read).
 */
static int
pgm_events_inputs_1_1(PgmEventInput **inputs)
{
	int			ret;
	uint64		i;
	PgmEventInput *in;

	ret = SPI_execute(pgm_events_checks_sql_1_1, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not evaluate the health checks: %s",
						SPI_result_code_string(ret))));
	in = palloc0(sizeof(PgmEventInput) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *failed = SPI_getvalue(tup, desc, 6);

		in[i].name = SPI_getvalue(tup, desc, 1);
		in[i].status = SPI_getvalue(tup, desc, 2);
		in[i].value = SPI_getvalue(tup, desc, 3);
		in[i].message = SPI_getvalue(tup, desc, 4);
		in[i].hint = SPI_getvalue(tup, desc, 5);
		in[i].failed = failed != NULL && strcmp(failed, "t") == 0;
	}
	*inputs = in;
	return (int) SPI_processed;
}

/*
 * The graded checks of a database at 1.2 or later: one evaluation in C with
 * the figures of the sample just taken, published for the readers, then
 * graded as they grade it.
 */
static int
pgm_events_inputs(PgmEventInput **inputs)
{
	PgmEvaluation *eval = palloc(sizeof(PgmEvaluation));
	PgmGraded  *graded = palloc(sizeof(PgmGraded) * PGMAINT_NCHECKS);
	PgmCallerPrivs privs;
	PgmTableSample tables;
	PgmEventInput *in;
	PgmEvaluation *server = NULL;
	PgmOverallSince server_since;
	Oid			server_datid = pgm_server_datid();
	int			n;
	int			i;

	/*
	 * the server-wide checks: the server-wide worker's evaluation while it
	 * is fresh, unless this worker is that one
	 */
	if (OidIsValid(server_datid) && server_datid != MyDatabaseId)
	{
		server = palloc(sizeof(PgmEvaluation));
		if (!pgm_healthshm_read(server_datid, server, &server_since) ||
			GetCurrentTimestamp() - server->measured_at >
			((int64) PGMAINT_SERVER_EVAL_PERIODS * Max(server->period_s, 1) + 1) * USECS_PER_SEC)
		{
			pfree(server);
			server = NULL;
		}
	}

	/* the worker, a superuser, sees everything */
	memset(&privs, true, sizeof(privs));
	pgm_evaluate(eval, &privs, pgm_ring_last_tables(&tables) ? &tables.health : NULL, server);
	eval->period_s = pgm_events_period();
	pgm_healthshm_publish(eval, &pgm_event_state.since);

	n = pgm_grade_evaluation(eval, graded);
	in = palloc0(sizeof(PgmEventInput) * PGMAINT_NCHECKS);
	for (i = 0; i < n; i++)
	{
		PgmGraded  *g = &graded[i];

		in[i].name = pgm_check_name(g->check);
		in[i].status = pgm_status_name(g->status);
		in[i].value = g->result->has_value ? g->result->value : NULL;
		in[i].message = g->message;
		in[i].hint = g->hint;
		in[i].failed = g->failed;
	}
	*inputs = in;
	return n;
}

/*
 * Step: one evaluation.  Works on pgm_event_work, a copy of the state, and
 * keeps it only at the end, once the events are written.
 */
static void
pgm_events_step(void *arg)
{
	bool		refresh_only = arg != NULL && *(bool *) arg;
	bool		in_recovery = RecoveryInProgress();
	int			period = pgm_events_period();
	int			hold;
	int			ret;
	int			i;
	PgmEventInput *inputs;
	int			ninputs;
	PgmEvent   *events;
	int			nevents = 0;
	int			version;
	TimestampTz now = GetCurrentTimestamp();

	/* a database whose pgmaint is still 1.0 has no events: nothing to do */
	version = pgm_installed_version();
	if (version < 101 || (refresh_only && version < 102))
		return;

	memcpy(&pgm_event_work, &pgm_event_state, sizeof(PgmEventState));
	if (!pgm_event_work.loaded)
	{
		pgm_events_load(&pgm_event_work, version);
		pgm_event_state.since = pgm_event_work.since;
	}

	/* evaluations a new status must be seen in after the first one */
	if (pgm_alert_hold < 0)
		hold = 1;
	else
		hold = (pgm_alert_hold + period - 1) / Max(period, 1);

	if (version >= 102)
		ninputs = pgm_events_inputs(&inputs);
	else
		ninputs = pgm_events_inputs_1_1(&inputs);
	/* published: that was all a refresh asked for */
	if (refresh_only)
		return;

	events = palloc0(sizeof(PgmEvent) * Max(ninputs, 1));
	for (i = 0; i < ninputs; i++)
	{
		const PgmEventInput *c = &inputs[i];
		PgmCheckState *cs;
		PgmEvent   *ev;

		if (c->name == NULL || c->status == NULL)
			continue;
		cs = pgm_events_find(&pgm_event_work, c->name);
		if (cs == NULL)
			continue;
		cs->failed = c->failed;

		if (cs->recorded[0] == '\0' &&
			strcmp(c->status, "warning") != 0 && strcmp(c->status, "critical") != 0)
		{
			/* a check seen for the first time starts silently when fine */
			strlcpy(cs->recorded, c->status, sizeof(cs->recorded));
			cs->pending[0] = '\0';
			cs->pending_seen = 0;
			continue;
		}
		if (strcmp(c->status, cs->recorded) == 0)
		{
			cs->pending[0] = '\0';
			cs->pending_seen = 0;
			continue;
		}
		if (strcmp(c->status, cs->pending) == 0)
			cs->pending_seen++;
		else
		{
			strlcpy(cs->pending, c->status, sizeof(cs->pending));
			cs->pending_seen = 1;
		}
		if (cs->pending_seen <= hold)
			continue;

		ev = &events[nevents++];
		ev->at = now;
		strlcpy(ev->check_name, c->name, sizeof(ev->check_name));
		strlcpy(ev->old_status, cs->recorded, sizeof(ev->old_status));
		strlcpy(ev->new_status, c->status, sizeof(ev->new_status));
		strlcpy(ev->value, c->value ? c->value : "", sizeof(ev->value));
		strlcpy(ev->message, c->message ? c->message : "", sizeof(ev->message));
		strlcpy(ev->hint, c->hint ? c->hint : "", sizeof(ev->hint));

		strlcpy(cs->recorded, c->status, sizeof(cs->recorded));
		cs->pending[0] = '\0';
		cs->pending_seen = 0;
	}

	if (nevents > 0)
	{
		Oid			argtypes[8] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		args[8];
		char		nulls[8];
		const char *overall = pgm_events_overall(&pgm_event_work);
		PgmHealthStatus overall_status;
		int			e;

		/* the run of events with this overall status: a new one, or the same */
		if (pgm_status_parse(overall, &overall_status) &&
			(!pgm_event_work.since.known || pgm_event_work.since.status != overall_status))
		{
			pgm_event_work.since.known = true;
			pgm_event_work.since.status = overall_status;
			pgm_event_work.since.since = now;
		}

		for (e = 0; e < nevents; e++)
		{
			PgmEvent   *ev = &events[e];

			strlcpy(ev->overall, overall, sizeof(ev->overall));
			if (in_recovery)
				continue;

			memset(nulls, ' ', sizeof(nulls));
			args[0] = TimestampTzGetDatum(ev->at);
			args[1] = CStringGetTextDatum(ev->check_name);
			args[2] = CStringGetTextDatum(ev->old_status);
			nulls[2] = ev->old_status[0] ? ' ' : 'n';
			args[3] = CStringGetTextDatum(ev->new_status);
			args[4] = CStringGetTextDatum(ev->value);
			nulls[4] = ev->value[0] ? ' ' : 'n';
			args[5] = CStringGetTextDatum(ev->message);
			args[6] = CStringGetTextDatum(ev->hint);
			nulls[6] = ev->hint[0] ? ' ' : 'n';
			args[7] = CStringGetTextDatum(ev->overall);
			ret = SPI_execute_with_args(pgm_events_insert_sql, 8, argtypes, args,
										nulls, false, 0);
			if (ret != SPI_OK_SELECT)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not record a health event: %s",
								SPI_result_code_string(ret))));
		}
	}

	if (!in_recovery && pgm_prune_due(&pgm_events_pruned_at, now))
	{
		Oid			argtypes[1] = {FLOAT8OID};
		Datum		args[1];

		if (pgm_prune_plan == NULL)
		{
			SPIPlanPtr	p = SPI_prepare_cursor(pgm_events_prune_sql, 1, argtypes, CURSOR_OPT_GENERIC_PLAN);

			if (p == NULL || SPI_keepplan(p) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not prepare the prune of pgmaint.health_events: %s",
								SPI_result_code_string(SPI_result))));
			pgm_prune_plan = p;
		}
		args[0] = Float8GetDatum((double) pgm_history_retention);
		ret = SPI_execute_plan(pgm_prune_plan, args, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not prune pgmaint.health_events: %s",
							SPI_result_code_string(ret))));
	}

	/* everything is written: keep the new state, then say so */
	memcpy(&pgm_event_state, &pgm_event_work, sizeof(PgmEventState));
	if (nevents > 0 && version >= 102)
		pgm_healthshm_set_since(MyDatabaseId, &pgm_event_state.since);
	pgm_events_emit(events, nevents, in_recovery);
}

/*
 * Reads back the status of each check's newest event, and (1.2 on) the
 * overall status of the newest event with when its run began.
 */
static void
pgm_events_load(PgmEventState *state, int version)
{
	int			ret;
	uint64		i;

	if (version >= 102)
	{
		ret = SPI_execute(pgm_events_since_sql, true, 0);
		if (ret != SPI_OK_SELECT)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not read the last health event: %s",
							SPI_result_code_string(ret))));
		if (SPI_processed == 1)
		{
			char	   *overall = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			bool		isnull;
			Datum		since = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
											  &isnull);

			if (overall != NULL && !isnull &&
				pgm_status_parse(overall, &state->since.status))
			{
				state->since.known = true;
				state->since.since = DatumGetTimestampTz(since);
			}
		}
	}

	ret = SPI_execute(pgm_events_last_sql, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not read the last health events: %s",
						SPI_result_code_string(ret))));
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *status = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		PgmCheckState *cs;

		if (name == NULL || status == NULL)
			continue;
		cs = pgm_events_find(state, name);
		if (cs != NULL)
			strlcpy(cs->recorded, status, sizeof(cs->recorded));
	}
	state->loaded = true;
}

/* The state of a check, added when new; NULL when no slot is left. */
static PgmCheckState *
pgm_events_find(PgmEventState *state, const char *name)
{
	int			i;
	PgmCheckState *cs;

	for (i = 0; i < state->nchecks; i++)
	{
		if (strcmp(state->checks[i].name, name) == 0)
			return &state->checks[i];
	}
	if (state->nchecks >= PGMAINT_MAX_CHECKS)
		return NULL;
	cs = &state->checks[state->nchecks++];
	memset(cs, 0, sizeof(*cs));
	strlcpy(cs->name, name, sizeof(cs->name));
	return cs;
}

/* Orders the statuses from best to worst (status.c), for the log level ("none" as ok). */
static int
pgm_status_rank(const char *status)
{
	PgmHealthStatus s;

	return pgm_status_parse(status, &s) ? (int) s : (int) PGMAINT_STATUS_OK;
}

/* The overall status of the recorded statuses, by status.c's rule. */
static const char *
pgm_events_overall(const PgmEventState *state)
{
	PgmHealthStatus worst = PGMAINT_STATUS_OK;
	int			c;

	for (c = 0; c < state->nchecks; c++)
	{
		PgmHealthStatus s;

		if (pgm_status_parse(state->checks[c].recorded, &s))
			worst = Max(worst, pgm_status_weight(s, state->checks[c].failed));
	}
	return pgm_status_name(worst);
}

/*
 * Logs each event (a server-wide check's in the server-wide worker only:
 * every worker records it, one logs it) and, on a standby, keeps it in
 * shared memory.
 */
static void
pgm_events_emit(PgmEvent *events, int n, bool in_recovery)
{
	bool		server_wide = pgm_server_datid() == MyDatabaseId;
	int			e;

	for (e = 0; e < n; e++)
	{
		PgmEvent   *ev = &events[e];
		const char *old = ev->old_status[0] ? ev->old_status : "none";
		bool		worse = pgm_status_rank(ev->new_status) > pgm_status_rank(old);
		PgmCheck	check;

		ev->datid = MyDatabaseId;
		if (in_recovery)
			pgm_events_keep(ev);
		/* a server-wide check's change is logged once, by the server-wide worker */
		if (!server_wide && pgm_check_lookup(ev->check_name, &check) &&
			pgm_check_server_wide(check))
			continue;
		if (worse)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("pgmaint: health check \"%s\" changed from %s to %s (value %s): %s",
							ev->check_name, old, ev->new_status,
							ev->value[0] ? ev->value : "none", ev->message),
					 ev->hint[0] ? errhint("%s", ev->hint) : 0));
		else
			ereport(LOG,
					(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
					 errmsg("pgmaint: health check \"%s\" changed from %s to %s (value %s): %s",
							ev->check_name, old, ev->new_status,
							ev->value[0] ? ev->value : "none", ev->message)));
	}
}

/* Appends an event to the standby's shared memory, overwriting the oldest. */
static void
pgm_events_keep(const PgmEvent *event)
{
	if (pgm_events_shared == NULL)
		return;
	LWLockAcquire(pgm_events_shared->lock, LW_EXCLUSIVE);
	pgm_events_shared->events[pgm_events_shared->next] = *event;
	pgm_events_shared->next = (pgm_events_shared->next + 1) % PGMAINT_EVENTS_KEPT;
	if (pgm_events_shared->count < PGMAINT_EVENTS_KEPT)
		pgm_events_shared->count++;
	LWLockRelease(pgm_events_shared->lock);
}

/* SQL pgmaint._memory_events(): the events kept in shared memory, oldest first. */
Datum
pgmaint_memory_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmEvent   *copy;
	int			n;
	int			first;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (pgm_events_shared == NULL)
		PG_RETURN_VOID();

	copy = palloc(sizeof(PgmEvent) * PGMAINT_EVENTS_KEPT);
	LWLockAcquire(pgm_events_shared->lock, LW_SHARED);
	n = pgm_events_shared->count;
	first = (pgm_events_shared->next - n + PGMAINT_EVENTS_KEPT) % PGMAINT_EVENTS_KEPT;
	for (i = 0; i < n; i++)
		copy[i] = pgm_events_shared->events[(first + i) % PGMAINT_EVENTS_KEPT];
	LWLockRelease(pgm_events_shared->lock);

	for (i = 0; i < n; i++)
	{
		Datum		values[PGMAINT_MEMORY_EVENTS_COLS];
		bool		nulls[PGMAINT_MEMORY_EVENTS_COLS];
		PgmEvent   *ev = &copy[i];

		/* this database's events only */
		if (ev->datid != MyDatabaseId)
			continue;

		memset(nulls, 0, sizeof(nulls));
		values[0] = TimestampTzGetDatum(ev->at);
		values[1] = CStringGetTextDatum(ev->check_name);
		values[2] = CStringGetTextDatum(ev->old_status);
		nulls[2] = ev->old_status[0] == '\0';
		values[3] = CStringGetTextDatum(ev->new_status);
		values[4] = CStringGetTextDatum(ev->value);
		nulls[4] = ev->value[0] == '\0';
		values[5] = CStringGetTextDatum(ev->message);
		values[6] = CStringGetTextDatum(ev->hint);
		nulls[6] = ev->hint[0] == '\0';
		values[7] = CStringGetTextDatum(ev->overall);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

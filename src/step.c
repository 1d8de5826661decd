/*-------------------------------------------------------------------------
 *
 * step.c
 *	  The step runner: the guarded way for a background worker to run one
 *	  step of work in a transaction of its own, with its errors caught,
 *	  logged once per change and reported.
 *
 * A step is a function (PgmStepFunc) with one argument.  The runner starts a
 * transaction, runs the step (with SPI connected and a snapshot set, unless
 * it is a plain step in C), and commits.  An error is caught: the transaction
 * is rolled back, the error is logged as a WARNING unless it is the one this
 * step logged last time, and it is handed to the reporter; the caller goes
 * on.  Once a step succeeds again, its logged error is forgotten and, when it
 * was the last error reported, the reporter is told it is cleared.
 *
 * Dependencies.  This file calls no other pgmaint source file: tasks call it,
 * and it calls only PostgreSQL.  Where the last error is kept (the worker's
 * status in shared memory, ring.c) is the business of the process that runs
 * the steps, which registers its reporter once with pgm_step_set_reporter();
 * without one, errors are logged only.  A launcher or a per-database worker
 * reuses the runner as it is, each with its own reporter.
 *
 * State.  The errors logged last are kept per step name in this process'
 * memory (PGMAINT_MAX_STEPS names at most; a step beyond them is logged
 * every time it fails).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/snapmgr.h"

#include "pgmaint.h"

/* Steps whose last error is remembered, to log each error once */
#define PGMAINT_MAX_STEPS			8

/* The last error logged for a step */
typedef struct PgmStepError
{
	char		step[NAMEDATALEN];
	char		message[PGMAINT_ERROR_LEN];
} PgmStepError;

static PgmStepError pgm_step_errors[PGMAINT_MAX_STEPS];
static char pgm_error_step[NAMEDATALEN];
static PgmStepErrorFunc pgm_report_error = NULL;
static PgmStepClearFunc pgm_report_clear = NULL;

static bool pgm_guarded(const char *step, PgmStepFunc fn, void *arg, bool with_spi);
static void pgm_step_failed(const char *step, ErrorData *edata);
static void pgm_step_succeeded(const char *step);

/* See pgmaint.h. */
void
pgm_step_set_reporter(PgmStepErrorFunc report, PgmStepClearFunc clear)
{
	pgm_report_error = report;
	pgm_report_clear = clear;
}

/* See pgmaint.h. */
bool
pgm_run_step(const char *step, PgmStepFunc fn, void *arg)
{
	/* a standby is read-only: nothing to write, nothing to report */
	if (RecoveryInProgress())
		return false;
	return pgm_guarded(step, fn, arg, true);
}

/* See pgmaint.h. */
bool
pgm_run_read_step(const char *step, PgmStepFunc fn, void *arg)
{
	return pgm_guarded(step, fn, arg, true);
}

/* See pgmaint.h. */
bool
pgm_run_xact_step(const char *step, PgmStepFunc fn, void *arg)
{
	return pgm_guarded(step, fn, arg, false);
}

/*
 * Runs fn(arg) in its own transaction; with_spi adds SPI, a snapshot and the
 * check that the extension exists.  Errors are caught, logged once and
 * reported; the transaction is rolled back and the caller goes on.
 */
static bool
pgm_guarded(const char *step, PgmStepFunc fn, void *arg, bool with_spi)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	volatile bool ran = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, step);

	PG_TRY();
	{
		if (!with_spi)
		{
			fn(arg);
			ran = true;
		}
		else if (OidIsValid(get_extension_oid("pgmaint", true)))
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not connect to SPI")));
			PushActiveSnapshot(GetTransactionSnapshot());
			fn(arg);
			PopActiveSnapshot();
			SPI_finish();
			ran = true;
		}
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pgm_step_failed(step, edata);
		FreeErrorData(edata);
		pgstat_report_activity(STATE_IDLE, NULL);
		MemoryContextSwitchTo(oldcontext);
		return false;
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcontext);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (ran)
		pgm_step_succeeded(step);
	return ran;
}

/* Logs a step's error unless it is the one logged last time; reports it. */
static void
pgm_step_failed(const char *step, ErrorData *edata)
{
	PgmStepError *slot = NULL;
	char		message[PGMAINT_ERROR_LEN];
	int			i;

	snprintf(message, sizeof(message), "%s: %s", step,
			 edata->message ? edata->message : "unknown error");

	for (i = 0; i < PGMAINT_MAX_STEPS; i++)
	{
		if (strcmp(pgm_step_errors[i].step, step) == 0)
		{
			slot = &pgm_step_errors[i];
			break;
		}
		if (slot == NULL && pgm_step_errors[i].step[0] == '\0')
			slot = &pgm_step_errors[i];
	}

	if (slot == NULL || strcmp(slot->message, message) != 0)
	{
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("pgmaint sampler step \"%s\" failed: %s", step,
						edata->message ? edata->message : "unknown error"),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
				 errhint("The worker goes on and logs this error again only if it changes; see pgmaint.sampler_status().")));
		if (slot != NULL)
		{
			strlcpy(slot->step, step, sizeof(slot->step));
			strlcpy(slot->message, message, sizeof(slot->message));
		}
	}

	strlcpy(pgm_error_step, step, sizeof(pgm_error_step));
	if (pgm_report_error)
		pgm_report_error(message);
}

/* Forgets a step's logged error once it succeeds again. */
static void
pgm_step_succeeded(const char *step)
{
	int			i;

	for (i = 0; i < PGMAINT_MAX_STEPS; i++)
	{
		if (strcmp(pgm_step_errors[i].step, step) == 0)
		{
			pgm_step_errors[i].step[0] = '\0';
			pgm_step_errors[i].message[0] = '\0';
		}
	}
	if (pgm_error_step[0] != '\0' && strcmp(pgm_error_step, step) == 0)
	{
		pgm_error_step[0] = '\0';
		if (pgm_report_clear)
			pgm_report_clear();
	}
}

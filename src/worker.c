/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  A pgmaint database worker: one per database that has pgmaint, started
 *	  by the launcher (launcher.c); its connection, signals, and the
 *	  deadline scheduler of its periodic tasks.
 *
 * Lifecycle.  The launcher registers the worker as a dynamic background
 * worker with the slot (slots.c) and the database it is for.  The worker
 * attaches to its slot, connects to its database, and looks whether pgmaint
 * is installed there: when it is not, it exits quietly and the launcher
 * does not start another one there until something changes (CREATE
 * EXTENSION, ddlhooks.c).  Otherwise it samples until it is told to stop:
 * DROP EXTENSION pgmaint (it finds the extension gone), a session that
 * needs the database alone (a hold: DROP DATABASE and the like), or the
 * launcher; it then exits quietly too.  Any failure exits with code 1, and
 * the launcher starts a new worker after PGMAINT_RESTART_SECONDS.  The
 * worker starts at consistent state, so it also runs on a hot standby
 * (read-only: it samples into its ring and writes nothing).
 *
 * Roles.  One worker, the one the launcher names, runs the server-wide
 * steps: it measures the backends and the server's replication once per
 * sample (published in shared memory, copied by the others into their
 * samples), sweeps leaked sessions of every database, and evaluates the
 * server-wide checks that the others copy (events.c).  Every worker runs
 * the steps of its own database: table statistics, history, events,
 * policy, retention, space.
 *
 * DROP DATABASE of another database emits a ProcSignalBarrier that every
 * process must absorb; the worker's latch is set by the signal and its loop
 * calls CHECK_FOR_INTERRUPTS() at once, so it never delays the drop,
 * however long its interval.  A command on its own database holds its slot
 * first, which sets its latch too: it exits before the command looks for
 * other sessions.
 *
 * Scheduling.  Each task keeps its next deadline; after it runs the
 * deadline advances by whole periods, so samples do not drift, and the
 * loop sleeps until the nearest deadline.  A reload that changes a period
 * moves the deadline to the last run plus the new period.  Every run of a
 * task is counted in the slot (pgmaint.workers().task_runs).
 *
 * Layers.  This file is the top: it calls the tasks (its own sample task,
 * policy.c, growth.c, retention.c, events.c), and they call the step runner
 * (step.c) and lower files; nothing calls back into this file (the launcher
 * starts it by name).  A long task serves the sampler through the serve
 * function it is handed (pgm_worker_service()), and the runner reports
 * errors to the worker's status through the reporter registered here
 * (test/integration/c_layers.sh checks the graph).
 *
 * Memory.  Every task run, scheduled or a burst sample, goes through
 * pgm_run_task(), which runs it in the loop memory context and resets that
 * afterwards; a sample served in the middle of another task gets a child
 * context of its own, deleted after it, so that it neither keeps its memory
 * nor frees its host's.
 *
 * SQL served: none of its own; its steps call the functions of
 * sql/code/10-sampler.sql (history), 4x-policy-*.sql (the policy) and the
 * leak sweep of backends.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pgmaint.h"

/* Seconds between two measurements of the worker's memory */
#define PGMAINT_MEMORY_PERIOD		60

/* Sample intervals the server-wide worker's last sample stays usable for the others */
#define PGMAINT_SERVER_PART_INTERVALS	2

/* A periodic task of the worker */
typedef struct PgmTask
{
	PgmTaskId	id;
	int		   *period_s;		/* the setting that holds its period */
	PgmTaskFunc run;
	int			current_period_s;	/* period the deadline was computed with */
	TimestampTz last_run;
	TimestampTz next_run;
} PgmTask;

/* What the sample step produces: the ring's sample and its table-level figures */
typedef struct PgmSampleResult
{
	bool		pass_now;		/* a sample asked for: pass over the tables now */
	const PgmSample *server;	/* the server-wide part to copy, or NULL: measure it */
	bool		has_extension;	/* pgmaint is still installed in the database */
	PgmSample	sample;
	PgmTableSample tables;
} PgmSampleResult;

static void pgm_sample_task(PgmServeFunc serve);

/* Time between two health evaluations, in seconds: see pgm_events_period() */
static int	pgm_events_period_s = 60;

/*
 * The worker's periodic tasks, by PgmTaskId.  A new periodic task is one
 * more line here and in PgmTaskId (its period is a setting in seconds);
 * work to do after every sample goes into pgm_sample_task().
 */
static PgmTask pgm_tasks[PGMAINT_NTASKS] = {
	{PGMAINT_TASK_SAMPLE, &pgm_sample_interval, pgm_sample_task},
	{PGMAINT_TASK_POLICY, &pgm_policy_interval, pgm_policy_task},
	{PGMAINT_TASK_SPACE, &pgm_growth_interval, pgm_growth_task},
	{PGMAINT_TASK_RETENTION, &pgm_retention_period, pgm_retention_task},
	{PGMAINT_TASK_EVENTS, &pgm_events_period_s, pgm_events_task},
};

/* The evaluation after the samples _request_samples() asked for: no period, no events */
static PgmTask pgm_refresh_task = {PGMAINT_TASK_EVENTS, &pgm_events_period_s, pgm_health_refresh_task};

/* Memory of a task run, reset after it (pg_cron's CronLoopContext) */
static MemoryContext pgm_loop_context = NULL;

/* True while the samples asked for by _request_samples() run (each passes over the tables) */
static bool pgm_in_burst = false;

/* The task running now, NULL between two */
static PgmTask *pgm_running_task = NULL;

/* The database's name, for the log */
static const char *pgm_datname = "";

/*
 * The worker's SPI runs as the bootstrap superuser, so every SQL string below
 * qualifies its functions and operators, and the worker pins search_path
 * (pgm_pin_worker_settings()): nothing a database or role setting names is
 * ever looked up.
 *
 * SQL of the history step: append what the ring has beyond the table, prune.
 * The columns are those of pgmaint.sample_history and of samples(), which
 * both grew in 1.1; a database still at 1.0 gets its own columns.
 */
#define PGMAINT_HISTORY_COLS_1_0 \
	"sampled_at, client_backends, active, idle," \
	" idle_in_transaction, idle_in_transaction_aborted, waiting_on_lock," \
	" longest_xact_age, longest_idle_in_transaction_age, xact_commit, xact_rollback," \
	" blks_read, blks_hit, tup_inserted, tup_updated, tup_deleted, deadlocks," \
	" temp_bytes, live_tuples, dead_tuples, datfrozenxid_age, user_tables, stats_reset"
#define PGMAINT_HISTORY_COLS \
	PGMAINT_HISTORY_COLS_1_0 ", in_recovery, standbys, replication_lag, replication_lag_bytes"
#define PGMAINT_PERSIST_SQL(cols) \
	"INSERT INTO pgmaint.sample_history (" cols ")" \
	" SELECT " cols \
	" FROM (SELECT pg_catalog.max(h.sampled_at) AS newest FROM pgmaint.sample_history h) m," \
	" LATERAL pgmaint.samples(GREATEST(m.newest," \
	" pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1))) s" \
	" WHERE m.newest IS NULL OR s.sampled_at OPERATOR(pg_catalog.>) m.newest" \
	" ON CONFLICT (sampled_at) DO NOTHING"

static const char *const pgm_persist_sql = PGMAINT_PERSIST_SQL(PGMAINT_HISTORY_COLS);
static const char *const pgm_persist_sql_1_0 = PGMAINT_PERSIST_SQL(PGMAINT_HISTORY_COLS_1_0);

/* Their plans, prepared once and kept (the plan cache replans after DDL) */
static SPIPlanPtr pgm_persist_plan = NULL;
static SPIPlanPtr pgm_persist_plan_1_0 = NULL;
static SPIPlanPtr pgm_prune_plan = NULL;

/* When the history step last pruned sample_history (see PGMAINT_PRUNE_PERIOD) */
static TimestampTz pgm_history_pruned_at = 0;

static const char *const pgm_prune_sql =
"DELETE FROM pgmaint.sample_history"
" WHERE sampled_at OPERATOR(pg_catalog.<)"
" (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1))";

static void pgm_worker_exit(int code, Datum arg);
static bool pgm_extension_installed(void);
static void pgm_quit(PgmWorkerOutcome outcome);
static void pgm_check_orders(void);
static void pgm_sleep_until(TimestampTz deadline);
static void pgm_process_reload(void);
static void pgm_run_due_task(PgmTask *task);
static void pgm_run_task(PgmTask *task);
static void pgm_worker_service(void);
static void pgm_heartbeat(bool memory);

/* The worker's memory is measured at the next heartbeat whatever its period (after a burst) */
static bool pgm_measure_memory = true;
static void pgm_sample_step(void *arg);
static void pgm_persist_step(void *arg);
static SPIPlanPtr pgm_kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes);

/* Entry point of a database worker; main_arg is its slot, bgw_extra a PgmWorkerArg. */
void
pgmaint_worker_main(Datum main_arg)
{
	PgmWorkerArg arg;
	TimestampTz now;
	int			i;

	memcpy(&arg, MyBgworkerEntry->bgw_extra, sizeof(arg));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* a worker of an earlier launcher, or for a slot given away since: nothing to do */
	if (!pgm_slot_attach(DatumGetInt32(main_arg), arg.datid, arg.generation))
		proc_exit(0);
	before_shmem_exit(pgm_worker_exit, (Datum) 0);
	pgm_step_set_reporter(pgm_status_set_error, pgm_status_clear_error);
	pgm_datname = pgm_slot_datname();

	BackgroundWorkerInitializeConnectionByOid(arg.datid, InvalidOid, 0);

	/* a session may hold the database already; look whether pgmaint is there */
	if (pgm_slot_must_stop())
	{
		pgm_status_worker_connected(false, pgm_sample_interval);
		pgm_quit(PGMAINT_OUTCOME_STOPPED);
	}
	if (!pgm_extension_installed())
	{
		pgm_status_worker_connected(false, pgm_sample_interval);
		pgm_quit(PGMAINT_OUTCOME_NO_EXTENSION);
	}

	/* search_path, read-only defaults, timeouts...: see pinning.c */
	pgm_pin_worker_settings();

	pgm_loop_context = AllocSetContextCreate(TopMemoryContext,
											 "pgmaint worker loop",
											 ALLOCSET_DEFAULT_SIZES);

	pgm_events_period_s = pgm_events_period();
	now = GetCurrentTimestamp();
	for (i = 0; i < PGMAINT_NTASKS; i++)
	{
		pgm_tasks[i].current_period_s = *pgm_tasks[i].period_s;
		pgm_tasks[i].last_run = 0;
		pgm_tasks[i].next_run = now;
	}
	pgm_status_worker_connected(true, pgm_sample_interval);
	ereport(LOG,
			(errmsg("pgmaint sampler started in database \"%s\", sampling every %d s",
					pgm_datname, pgm_sample_interval)));

	for (;;)
	{
		TimestampTz next_wake;
		int			burst;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
			pgm_process_reload();
		pgm_check_orders();

		now = GetCurrentTimestamp();
		for (i = 0; i < PGMAINT_NTASKS; i++)
		{
			if (pgm_tasks[i].next_run <= now)
			{
				pgm_run_due_task(&pgm_tasks[i]);
				now = GetCurrentTimestamp();
			}
		}

		/*
		 * extra samples asked for by _request_samples(), back to back, and
		 * one health evaluation after them, so that health() reads them
		 */
		burst = pgm_status_take_burst();
		if (burst > 0)
		{
			pgm_in_burst = true;
			while (burst-- > 0)
			{
				CHECK_FOR_INTERRUPTS();
				pgm_run_task(&pgm_tasks[PGMAINT_TASK_SAMPLE]);
			}
			pgm_in_burst = false;
			pgm_measure_memory = true;
			pgm_run_task(&pgm_refresh_task);
		}

		pgm_heartbeat(true);

		next_wake = pgm_tasks[0].next_run;
		for (i = 1; i < PGMAINT_NTASKS; i++)
			next_wake = Min(next_wake, pgm_tasks[i].next_run);
		pgm_sleep_until(next_wake);
	}
}

/* Exit callback: marks the slot exited, which wakes the launcher. */
static void
pgm_worker_exit(int code, Datum arg)
{
	pgm_slot_worker_exit();
}

/* True when extension pgmaint is installed in this database (its own transaction). */
static bool
pgm_extension_installed(void)
{
	bool		installed;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	installed = OidIsValid(get_extension_oid("pgmaint", true));
	CommitTransactionCommand();
	return installed;
}

/*
 * Exits quietly with an outcome the launcher acts on: a database without
 * pgmaint is not looked at again until something changes there; a stopped
 * worker is started again once nothing holds its database.
 */
static void
pgm_quit(PgmWorkerOutcome outcome)
{
	pgm_slot_set_outcome(outcome);
	if (pgm_loop_context != NULL)
		ereport(LOG,
				(errmsg("pgmaint sampler of database \"%s\" stops: %s", pgm_datname,
						outcome == PGMAINT_OUTCOME_NO_EXTENSION
						? "extension \"pgmaint\" is no longer installed there"
						: "the database is needed without other sessions, or the launcher asked")));
	else
		ereport(DEBUG1,
				(errmsg("pgmaint sampler of database \"%s\" exits: %s", pgm_datname,
						outcome == PGMAINT_OUTCOME_NO_EXTENSION
						? "extension \"pgmaint\" is not installed there"
						: "the database is held")));
	proc_exit(0);
}

/*
 * Acts on what the launcher and sessions asked of this worker: to stop
 * (a hold of its database), or to look again whether pgmaint is installed
 * (CREATE or DROP EXTENSION was committed there).  Call outside a
 * transaction.
 */
static void
pgm_check_orders(void)
{
	if (pgm_slot_must_stop())
		pgm_quit(PGMAINT_OUTCOME_STOPPED);
	if (pgm_slot_take_recheck() && !pgm_extension_installed())
		pgm_quit(PGMAINT_OUTCOME_NO_EXTENSION);
}

/* Sleeps until deadline, or until a signal needs attention. */
static void
pgm_sleep_until(TimestampTz deadline)
{
	long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

	if (timeout > 0)
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout,
						 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	/* absorbs ProcSignalBarriers (DROP DATABASE) and handles die() */
	CHECK_FOR_INTERRUPTS();
}

/* Rereads the configuration and moves deadlines whose period changed. */
static void
pgm_process_reload(void)
{
	TimestampTz now;
	int			i;

	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	pgm_events_period_s = pgm_events_period();

	now = GetCurrentTimestamp();
	for (i = 0; i < PGMAINT_NTASKS; i++)
	{
		PgmTask    *task = &pgm_tasks[i];

		if (task->current_period_s == *task->period_s)
			continue;
		task->current_period_s = *task->period_s;
		if (task->last_run == 0)
			task->next_run = now;
		else
			task->next_run = Max(now, TimestampTzPlusMilliseconds(task->last_run,
																  task->current_period_s * 1000));
	}
}

/* Runs a task that is due and advances its deadline by whole periods. */
static void
pgm_run_due_task(PgmTask *task)
{
	int64		period = (int64) task->current_period_s * USECS_PER_SEC;
	TimestampTz now;

	task->last_run = GetCurrentTimestamp();
	pgm_run_task(task);

	/* keep the phase: skip the periods that already passed */
	now = GetCurrentTimestamp();
	task->next_run += period;
	if (task->next_run <= now)
		task->next_run += ((now - task->next_run) / period + 1) * period;
}

/*
 * Runs a task in the loop memory context and resets it afterwards, then
 * publishes the heartbeat: the one place where a run's memory is freed.  A
 * task run while another one waits in serve() gets a child context, deleted
 * after it, so that it frees nothing the waiting task still uses.
 */
static void
pgm_run_task(PgmTask *task)
{
	PgmTask    *host = pgm_running_task;
	MemoryContext context = pgm_loop_context;
	MemoryContext oldcontext;

	if (host != NULL)
		context = AllocSetContextCreate(pgm_loop_context,
										"pgmaint served task",
										ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(context);
	pgm_running_task = task;

	task->run(pgm_worker_service);

	pgm_running_task = host;
	MemoryContextSwitchTo(oldcontext);
	if (host != NULL)
		MemoryContextDelete(context);
	else
		MemoryContextReset(context);
	/* a run, for workers().task_runs (the refresh after a burst is not one) */
	if (task != &pgm_refresh_task)
		pgm_slot_task_ran(task->id);
	/* samples asked for measure the memory after each of them, as tests compare it */
	if (pgm_in_burst)
		pgm_measure_memory = true;
	pgm_heartbeat(pgm_in_burst);
}

/*
 * The serve function handed to every task: between two transactions of a
 * long task, handles interrupts and a reload, and takes the sample that is
 * due, so that a long task never delays the sampler.
 */
static void
pgm_worker_service(void)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
		pgm_process_reload();
	pgm_check_orders();
	if (pgm_tasks[PGMAINT_TASK_SAMPLE].next_run <= GetCurrentTimestamp())
		pgm_run_due_task(&pgm_tasks[PGMAINT_TASK_SAMPLE]);
}

/*
 * The sample task: one sample into the ring, then the steps that follow
 * every sample.  Each step is one call of the step runner.  The worker with
 * the server-wide role measures the server-wide part of the sample,
 * publishes it, and sweeps leaked sessions; the others copy that part while
 * it is fresh (and measure it themselves while no server-wide worker
 * samples, which changes nothing on the server).
 */
static void
pgm_sample_task(PgmServeFunc serve)
{
	PgmSampleResult result;
	PgmSample	server;
	bool		server_wide = pgm_server_datid() == MyDatabaseId;
	bool		sampled;

	result.pass_now = pgm_in_burst;
	result.server = NULL;
	result.has_extension = true;
	if (!server_wide &&
		pgm_server_part_read(&server, ((int64) PGMAINT_SERVER_PART_INTERVALS * pgm_sample_interval + 1) *
							 USECS_PER_SEC))
		result.server = &server;
	sampled = pgm_run_xact_step("sample", pgm_sample_step, &result);
	if (sampled)
	{
		pgm_ring_push(&result.sample, &result.tables);
		if (server_wide)
			pgm_server_part_publish(&result.sample);
	}
	/* DROP EXTENSION pgmaint: nothing more to do here */
	if (sampled && !result.has_extension)
		pgm_quit(PGMAINT_OUTCOME_NO_EXTENSION);

	(void) pgm_run_step("history", pgm_persist_step, NULL);

	/*
	 * The sweep looks for sessions idle in a transaction for longer than
	 * pgmaint.leak_timeout, in every database: when the sample saw none,
	 * there is nothing to find (and nothing reported earlier is leaked any
	 * more).  Only the server-wide worker sweeps, so a leak is found and
	 * ended once.
	 */
	if (!server_wide)
		pgm_leak_sweep_none();
	else if (!sampled ||
			 result.sample.longest_idle_in_transaction_age >= (int64) pgm_leak_timeout * USECS_PER_SEC)
		(void) pgm_run_step("leak sweep", pgm_leak_sweep, NULL);
	else
		pgm_leak_sweep_none();

	/* flush the worker's own statistics */
	pgstat_report_stat(false);
}

/*
 * Publishes the heartbeat and the interval in use, and with memory the
 * worker's memory too, at most every PGMAINT_MEMORY_PERIOD seconds: it walks
 * every memory context of the process (its caches' included), which at a 1 s
 * interval cost more than a sample's other steps; and after samples asked
 * for (tests and benchmarks compare it across a burst).
 */
static void
pgm_heartbeat(bool memory)
{
	static TimestampTz measured_at = 0;
	TimestampTz now = GetCurrentTimestamp();
	int64		bytes = -1;

	if (memory && (pgm_measure_memory ||
				   now - measured_at >= (int64) PGMAINT_MEMORY_PERIOD * USECS_PER_SEC))
	{
		bytes = (int64) MemoryContextMemAllocated(TopMemoryContext, true);
		measured_at = now;
		pgm_measure_memory = false;
	}
	pgm_status_heartbeat(pgm_sample_interval, bytes);
}

/*
 * Step: takes one sample (in a transaction, without SPI), and looks whether
 * pgmaint is still there; the first one gives the slot its ring.
 */
static void
pgm_sample_step(void *arg)
{
	PgmSampleResult *result = (PgmSampleResult *) arg;

	pgm_ring_ensure();
	pgm_take_sample(&result->sample, &result->tables, result->pass_now, result->server);
	result->has_extension = OidIsValid(get_extension_oid("pgmaint", true));
}

/* The plan of sql, prepared on first use and kept in *plan. */
static SPIPlanPtr
pgm_kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL || SPI_keepplan(p) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not prepare a statement of the history step: %s",
							SPI_result_code_string(SPI_result))));
		*plan = p;
	}
	return *plan;
}

/* Step: appends the ring's new samples to pgmaint.sample_history and prunes it (every PGMAINT_PRUNE_PERIOD s). */
static void
pgm_persist_step(void *arg)
{
	Oid			argtypes[1] = {FLOAT8OID};
	Datum		args[1];
	int			ret;
	uint64		inserted;
	SPIPlanPtr	plan;

	args[0] = Float8GetDatum((double) pgm_history_retention);

	plan = pgm_installed_version() < 101
		? pgm_kept_plan(&pgm_persist_plan_1_0, pgm_persist_sql_1_0, 1, argtypes)
		: pgm_kept_plan(&pgm_persist_plan, pgm_persist_sql, 1, argtypes);
	ret = SPI_execute_plan(plan, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not append to pgmaint.sample_history: %s",
						SPI_result_code_string(ret))));
	inserted = SPI_processed;

	if (pgm_prune_due(&pgm_history_pruned_at, GetCurrentTimestamp()))
	{
		ret = SPI_execute_plan(pgm_kept_plan(&pgm_prune_plan, pgm_prune_sql, 1, argtypes),
							   args, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not prune pgmaint.sample_history: %s",
							SPI_result_code_string(ret))));
	}

	pgm_status_count_persisted((int64) inserted);
}

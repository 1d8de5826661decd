/*-------------------------------------------------------------------------
 *
 * pgmaint.c
 *	  Module entry point: magic block, _PG_init and the pgmaint.* settings.
 *
 * Reload-context settings are defined whenever the library is loaded, so
 * that any backend can read them.  Restart-context settings, shared memory
 * and the background worker exist only when the library is loaded through
 * shared_preload_libraries.
 *
 * SQL served: pgmaint.preloaded() and pgmaint._setting() (sql/code/
 * 00-base.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "health.h"

PG_MODULE_MAGIC;

char	   *pgm_database = NULL;
int			pgm_sample_interval = 60;
int			pgm_history_size = 1440;
int			pgm_history_retention = 7 * 24 * 3600;
int			pgm_policy = PGMAINT_POLICY_ADVISE;
int			pgm_policy_interval = 600;
int			pgm_leak_timeout = 300;
int			pgm_leak_action = PGMAINT_LEAK_REPORT;
char	   *pgm_leak_exclude = NULL;
char	   *pgm_exclude_databases = NULL;
int			pgm_backup_max_age = 26 * 3600;
int			pgm_growth_interval = 3600;
int			pgm_expected_standbys = 0;
int			pgm_retention_interval = 3600;
int			pgm_retention_period = 3600;
int			pgm_health_interval = -1;
int			pgm_alert_hold = -1;
/* pgmaint.max_databases as set, and the bound in force (see pgm_bound_max_databases()) */
static int	pgm_max_databases_setting = PGMAINT_MAX_DATABASES_DEFAULT;
int			pgm_max_databases = PGMAINT_MAX_DATABASES_DEFAULT;

bool		pgm_preloaded = false;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type pgm_prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type pgm_prev_shmem_startup_hook = NULL;

static const struct config_enum_entry pgm_policy_options[] = {
	{"off", PGMAINT_POLICY_OFF, false},
	{"advise", PGMAINT_POLICY_ADVISE, false},
	{"apply", PGMAINT_POLICY_APPLY, false},
	{NULL, 0, false}
};

static const struct config_enum_entry pgm_leak_action_options[] = {
	{"report", PGMAINT_LEAK_REPORT, false},
	{"terminate", PGMAINT_LEAK_TERMINATE, false},
	{NULL, 0, false}
};

void		_PG_init(void);

static void pgm_define_reload_settings(void);
static void pgm_define_restart_settings(void);
static void pgm_shmem_request(void);
static void pgm_shmem_startup(void);
static void pgm_assign_retention_interval(int newval, void *extra);
static void pgm_bound_max_databases(void);
static bool pgm_check_database_list(char **newval, void **extra, GucSource source);

PG_FUNCTION_INFO_V1(pgmaint_preloaded);
PG_FUNCTION_INFO_V1(pgmaint_setting);

/* Defines the settings and, when preloaded, everything that needs the postmaster. */
void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	pgm_preloaded = process_shared_preload_libraries_in_progress;

	pgm_define_reload_settings();
	if (pgm_preloaded)
		pgm_define_restart_settings();

	MarkGUCPrefixReserved("pgmaint");

	if (pgm_preloaded)
	{
		pgm_bound_max_databases();
		/* the workers' slots and rings (slots.c), the launcher, the hooks */
#if PG_VERSION_NUM >= 150000
		pgm_prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = pgm_shmem_request;
#else
		pgm_shmem_request();
#endif
		pgm_prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = pgm_shmem_startup;
		pgm_register_launcher();
		pgm_install_ddl_hooks();
	}
}

/*
 * Bounds pgmaint.max_databases by max_worker_processes, which the launcher
 * shares with the database workers (and with pg_cron, parallel queries and
 * logical replication: a worker that finds no slot free is reported, not
 * skipped silently).  A setting above the bound is said once, at start.
 */
static void
pgm_bound_max_databases(void)
{
	int			bound = Max(max_worker_processes - 1, 1);

	pgm_max_databases = Min(pgm_max_databases_setting, bound);
	if (pgm_max_databases_setting > bound &&
		pgm_max_databases_setting != PGMAINT_MAX_DATABASES_DEFAULT)
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pgmaint.max_databases (%d) is more than max_worker_processes (%d) leaves for database workers; using %d",
						pgm_max_databases_setting, max_worker_processes, pgm_max_databases),
				 errhint("Raise max_worker_processes to at least pgmaint.max_databases + 1 and restart the server.")));
}

/* shmem_request_hook: reserves the shared memory of the workers, events and evaluations. */
static void
pgm_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (pgm_prev_shmem_request_hook)
		pgm_prev_shmem_request_hook();
#endif
	pgm_slots_request_shmem();
	pgm_events_request_shmem();
	pgm_healthshm_request();
}

/* shmem_startup_hook: creates or attaches to that shared memory. */
static void
pgm_shmem_startup(void)
{
	if (pgm_prev_shmem_startup_hook)
		pgm_prev_shmem_startup_hook();
	pgm_slots_startup_shmem();
	pgm_events_startup_shmem();
	pgm_healthshm_startup();
}

/* Defines the settings that a reload (SIGHUP) can change. */
static void
pgm_define_reload_settings(void)
{
	DefineCustomIntVariable("pgmaint.sample_interval",
							"Time between two health samples of the background worker.",
							NULL,
							&pgm_sample_interval,
							60, 1, 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.history_retention",
							"How long samples are kept in pgmaint.sample_history.",
							NULL,
							&pgm_history_retention,
							7 * 24 * 3600, 60, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("pgmaint.policy",
							 "What the worker does with autovacuum policy suggestions.",
							 "off does nothing, advise logs and records suggestions, apply sets the reloptions.",
							 &pgm_policy,
							 PGMAINT_POLICY_ADVISE,
							 pgm_policy_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.policy_interval",
							"Time between two runs of the autovacuum policy.",
							NULL,
							&pgm_policy_interval,
							600, 1, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.leak_timeout",
							"Idle-in-transaction time after which the worker treats a session as leaked.",
							NULL,
							&pgm_leak_timeout,
							300, 1, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("pgmaint.leak_action",
							 "What the worker does with leaked sessions.",
							 "report logs a warning once per session, terminate ends the session.",
							 &pgm_leak_action,
							 PGMAINT_LEAK_REPORT,
							 pgm_leak_action_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pgmaint.leak_exclude",
							   "Comma-separated application_name patterns that are never terminated as leaks.",
							   "Patterns use LIKE syntax: % matches any string, _ any character.",
							   &pgm_leak_exclude,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pgmaint.exclude_databases",
							   "Comma-separated names of databases the launcher starts no worker in.",
							   "Their health is measured by each call; a worker running in one stops at the next reload.",
							   &pgm_exclude_databases,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   pgm_check_database_list, NULL, NULL);

	DefineCustomIntVariable("pgmaint.growth_interval",
							"Time between two measurements of the database's sizes and bloat by the background worker.",
							NULL,
							&pgm_growth_interval,
							3600, 1, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.expected_standbys",
							"Number of streaming standbys the primary should have; fewer turns the standby_missing check on.",
							"0 turns the count off; a synchronous standby named in synchronous_standby_names is checked anyway.",
							&pgm_expected_standbys,
							0, 0, 1000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.backup_max_age",
							"Age after which the newest verified backup is considered stale.",
							NULL,
							&pgm_backup_max_age,
							26 * 3600, 60, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.health_interval",
							"Time between two evaluations of the health checks by the worker, for health events.",
							"-1 uses the sample interval, at most one minute.",
							&pgm_health_interval,
							-1, -1, 60,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.alert_hold",
							"How long a check's new status must hold before it becomes a health event.",
							"Rounded up to whole health intervals; -1 means one health interval, 0 fires at once.",
							&pgm_alert_hold,
							-1, -1, 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.retention_interval",
							"Time between two retention runs of the worker (with pgmaint.policy = apply).",
							"0 turns the worker's retention runs off.",
							&pgm_retention_interval,
							3600, 0, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, pgm_assign_retention_interval, NULL);
}

/* Assign hook of pgmaint.retention_interval: the worker task's period (never 0). */
static void
pgm_assign_retention_interval(int newval, void *extra)
{
	pgm_retention_period = newval > 0 ? newval : PGMAINT_RETENTION_OFF_PERIOD;
}

/* GUC check hook: a comma-separated list of names, as SplitIdentifierString() reads it. */
static bool
pgm_check_database_list(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval);
	List	   *names;
	bool		valid = SplitIdentifierString(copy, ',', &names);

	list_free(names);
	pfree(copy);
	if (!valid)
		GUC_check_errdetail("The list of database names is not valid.");
	return valid;
}

/* Defines the settings that need a server restart. */
static void
pgm_define_restart_settings(void)
{
	DefineCustomStringVariable("pgmaint.database",
							   "Database whose worker runs the server-wide steps (every database with pgmaint has a worker).",
							   "When it has no worker, the worker of the database with pgmaint of the lowest OID runs them.",
							   &pgm_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.max_databases",
							"Database workers the launcher runs at most (one per database with pgmaint).",
							"Bounded by max_worker_processes minus one, the launcher's; databases left out are named in a warning and in the databases_unsampled check.",
							&pgm_max_databases_setting,
							PGMAINT_MAX_DATABASES_DEFAULT, 1, 512,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pgmaint.history_size",
							"Number of samples kept in the shared-memory ring.",
							NULL,
							&pgm_history_size,
							1440, 16, 1000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
}

/* SQL pgmaint.preloaded(): true when loaded through shared_preload_libraries. */
Datum
pgmaint_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pgm_preloaded);
}

/*
 * SQL pgmaint._setting(name): the value of a pgmaint.* setting as SHOW gives
 * it.  Being a C function of the library, calling it loads the library,
 * which defines the settings: SQL reads them here instead of repeating their
 * defaults (the defaults are written once, in this file).
 */
Datum
pgmaint_setting(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (strncmp(name, "pgmaint.", strlen("pgmaint.")) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a pgmaint setting", name),
				 errhint("Use current_setting() for settings of the server.")));
	PG_RETURN_TEXT_P(cstring_to_text(GetConfigOptionByName(name, NULL, false)));
}

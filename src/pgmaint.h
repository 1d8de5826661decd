/*-------------------------------------------------------------------------
 *
 * pgmaint.h
 *	  Declarations shared by the pgmaint extension's source files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMAINT_H
#define PGMAINT_H

#include "postgres.h"

/* Values of pgmaint.policy */
typedef enum PgmPolicyMode
{
	PGMAINT_POLICY_OFF,
	PGMAINT_POLICY_ADVISE,
	PGMAINT_POLICY_APPLY
} PgmPolicyMode;

/* Values of pgmaint.leak_action */
typedef enum PgmLeakAction
{
	PGMAINT_LEAK_REPORT,
	PGMAINT_LEAK_TERMINATE
} PgmLeakAction;

/* Settings, defined in pgmaint.c (intervals are in seconds) */
extern char *pgm_database;
extern int	pgm_sample_interval;
extern int	pgm_history_size;
extern int	pgm_history_retention;
extern int	pgm_policy;
extern int	pgm_policy_interval;
extern int	pgm_leak_timeout;
extern int	pgm_leak_action;
extern char *pgm_leak_exclude;
extern char *pgm_exclude_databases;
extern int	pgm_backup_max_age;
extern int	pgm_growth_interval;
extern int	pgm_expected_standbys;
extern int	pgm_health_interval;
extern int	pgm_alert_hold;

extern int	pgm_retention_interval;

extern int	pgm_retention_period;

/*
 * pgmaint.max_databases: the database workers the launcher may run at once,
 * bounded at start by max_worker_processes (pgm_max_databases is the bound
 * in force); shared memory holds as many slots.
 */
#define PGMAINT_MAX_DATABASES_DEFAULT	8
extern int	pgm_max_databases;

/* True when the library was loaded through shared_preload_libraries */
extern bool pgm_preloaded;

/* --- Health statuses (status.c: their one home) --- */

/* The statuses, best first */
typedef enum PgmHealthStatus
{
	PGMAINT_STATUS_OK,
	PGMAINT_STATUS_UNKNOWN,
	PGMAINT_STATUS_WARNING,
	PGMAINT_STATUS_CRITICAL
} PgmHealthStatus;

extern const char *pgm_status_name(PgmHealthStatus status);
extern bool pgm_status_parse(const char *name, PgmHealthStatus *status);
extern PgmHealthStatus pgm_grade(bool has_value, double value,
								 bool has_warning, double warning,
								 bool has_critical, double critical);
extern PgmHealthStatus pgm_status_weight(PgmHealthStatus status, bool failed);
extern int	pgm_status_metric(PgmHealthStatus status);

/* sqlversion.c: pgmaint's SQL version in this database (1.1 is 101; 0: not installed) */
extern int	pgm_installed_version(void);

#include "tablehealth.h"
#include "utils/relcache.h"

/* nowait.c: locks and sizes for monitoring reads that never queue behind DDL */
typedef enum PgmSizeStatus
{
	PGM_SIZE_OK,
	PGM_SIZE_BUSY,				/* a lock was not granted at once */
	PGM_SIZE_GONE				/* the relation no longer exists */
} PgmSizeStatus;

extern Relation pgm_relation_open_nowait(Oid relid, bool *busy);
extern int64 pgm_relation_bytes(Relation rel);
extern PgmSizeStatus pgm_table_parts_nowait(Oid relid, int64 *heap,
											int64 *index, int64 *toast);

/*
 * The table-level figures of the worker's last pass over the user tables.
 * Only the last one is kept (beside the ring, not in each of its samples):
 * health() needs no history of them.
 */
typedef struct PgmTableSample
{
	TimestampTz sampled_at;		/* of the pass; 0 before the first */
	Oid			datid;			/* the database sampled */
	PgmTableHealth health;
} PgmTableSample;

/* --- Background worker, sampler and shared-memory ring --- */

#include "datatype/timestamp.h"

/* Name and type of a database worker, as pg_stat_activity shows them */
#define PGMAINT_WORKER_NAME		"pgmaint sampler"

/* Name and type of the launcher */
#define PGMAINT_LAUNCHER_NAME	"pgmaint launcher"

/* The search_path of the worker's transactions (and of every pgmaint function) */
#define PGMAINT_SAFE_SEARCH_PATH	"pg_catalog, pg_temp"

/*
 * The lock timeout of every statement pgmaint runs on a user table (the
 * policy's ALTER TABLEs, retention's measurements, batches and partitions,
 * exact bloat): a table someone holds locked is skipped, not waited for.
 * SQL reads it through pgmaint._policy_lock_timeout().
 */
#define PGMAINT_LOCK_TIMEOUT		"200ms"

/* Size of the last_error text kept in shared memory */
#define PGMAINT_ERROR_LEN		256

/* Seconds before the launcher starts a failed worker again (doubling up to 300) */
#define PGMAINT_RESTART_SECONDS		5

/*
 * One health sample.  Ages are in microseconds, -1 when no session had an
 * open transaction (or was idle in one).  Counters are the sampled
 * database's cumulative statistics; live and dead tuples sum
 * pg_stat_user_tables.  The server-wide part (backends by state, the ages,
 * the server's role and its replication) is measured once per sample by the
 * worker with the server-wide role and copied by the others.
 */
typedef struct PgmSample
{
	TimestampTz sampled_at;
	TimestampTz stats_reset;	/* pg_stat_database.stats_reset, 0 if never */
	int32		client_backends;
	int32		active;
	int32		idle;
	int32		idle_in_transaction;
	int32		idle_in_transaction_aborted;
	int32		waiting_on_lock;
	int64		longest_xact_age;
	int64		longest_idle_in_transaction_age;
	int64		xact_commit;
	int64		xact_rollback;
	int64		blks_read;
	int64		blks_hit;
	int64		tup_inserted;
	int64		tup_updated;
	int64		tup_deleted;
	int64		deadlocks;
	int64		temp_bytes;
	int64		live_tuples;
	int64		dead_tuples;
	int64		datfrozenxid_age;
	int64		tables;			/* user tables counted */
	bool		in_recovery;	/* a standby when the sample was taken */
	int32		standbys;		/* streaming WAL senders (on a primary) */
	int64		replication_lag;	/* microseconds, -1 unknown (replication.c) */
	int64		replication_lag_bytes;	/* -1 unknown */
} PgmSample;

/* A database worker's status, kept in its slot beside its ring (see ring.c) */
typedef struct PgmStatus
{
	pid_t		pid;			/* 0 when the worker is not running */
	TimestampTz started_at;
	TimestampTz connected_at;
	TimestampTz heartbeat_at;
	TimestampTz last_sample_at;
	int64		samples_taken;
	int64		samples_persisted;
	int			interval_s;		/* interval the worker uses now */
	int			burst_requested;	/* extra back-to-back samples asked for */
	int64		memory_bytes;	/* memory the worker's contexts hold */
	Oid			datid;			/* the database it is connected to */
	TimestampTz last_error_at;
	char		last_error[PGMAINT_ERROR_LEN];
} PgmStatus;

/* --- The launcher and its slots (launcher.c, slots.c) --- */

/* The periodic tasks of a database worker, in the order it runs them */
typedef enum PgmTaskId
{
	PGMAINT_TASK_SAMPLE,
	PGMAINT_TASK_POLICY,
	PGMAINT_TASK_SPACE,
	PGMAINT_TASK_RETENTION,
	PGMAINT_TASK_EVENTS,
	PGMAINT_NTASKS
} PgmTaskId;

/* Where a slot's worker is, as the launcher sees it */
typedef enum PgmSlotState
{
	PGMAINT_SLOT_FREE,			/* no database */
	PGMAINT_SLOT_STARTING,		/* a worker was registered, it has not attached */
	PGMAINT_SLOT_RUNNING,		/* its worker runs (connecting, looking or sampling) */
	PGMAINT_SLOT_EXITED			/* its worker exited: see the outcome */
} PgmSlotState;

/* Why a worker exited */
typedef enum PgmWorkerOutcome
{
	PGMAINT_OUTCOME_FAILED,		/* an error, a crash or a termination: start it again */
	PGMAINT_OUTCOME_NO_EXTENSION,	/* pgmaint is not installed in its database */
	PGMAINT_OUTCOME_STOPPED		/* asked to stop (a hold, DROP EXTENSION, the launcher) */
} PgmWorkerOutcome;

/* Why a database that may have pgmaint has no worker */
typedef enum PgmUnsampledReason
{
	PGMAINT_UNSAMPLED_BUDGET,	/* pgmaint.max_databases workers run already */
	PGMAINT_UNSAMPLED_NO_BGWORKER	/* no background worker slot was free */
} PgmUnsampledReason;

/* What the launcher reads of a slot */
typedef struct PgmSlotControl
{
	Oid			datid;
	NameData	datname;
	uint32		generation;
	PgmSlotState state;
	PgmWorkerOutcome outcome;
	bool		has_pgmaint;
	bool		held;			/* a session holds the database now */
	pid_t		pid;
	TimestampTz last_sample_at; /* of its worker, 0 before the first */
} PgmSlotControl;

/* A database without a worker, for the databases_unsampled check and workers() */
typedef struct PgmUnsampledView
{
	Oid			datid;
	char		datname[NAMEDATALEN];
	PgmUnsampledReason reason;
} PgmUnsampledView;

/* ringmem.c: each slot's ring, a dynamic shared memory segment */
extern Size pgm_slot_ring_bytes(void);

/* slots.c: shared memory */
extern void pgm_slots_request_shmem(void);
extern void pgm_slots_startup_shmem(void);
extern void pgm_ring_ensure(void);
extern int	pgm_slots_count(void);
extern const char *pgm_task_name(PgmTaskId task);
extern const char *pgm_unsampled_text(PgmUnsampledReason reason);

/* slots.c: for the launcher */
extern bool pgm_launcher_attach(void);
extern void pgm_launcher_detach(void);
extern int	pgm_launcher_take_requests(Oid *out, int max, bool *all);
extern int	pgm_slot_assign(Oid datid, const char *datname);
extern void pgm_slot_release(int slot);
extern uint32 pgm_slot_prepare_start(int slot, const char *datname);
extern void pgm_slot_start_failed(int slot, uint32 generation);
extern void pgm_slot_control(int slot, PgmSlotControl *out);
extern void pgm_slot_request_stop(int slot);
extern void pgm_slot_request_recheck(int slot);
extern void pgm_slots_publish(Oid server_datid, const PgmUnsampledView *unsampled, int n);

/* slots.c: for a database worker */
extern bool pgm_slot_attach(int slot, Oid datid, uint32 generation);
extern void pgm_slot_worker_exit(void);
extern void pgm_slot_set_outcome(PgmWorkerOutcome outcome);
extern bool pgm_slot_must_stop(void);
extern bool pgm_slot_take_recheck(void);
extern void pgm_slot_task_ran(PgmTaskId task);
extern const char *pgm_slot_datname(void);
extern Oid	pgm_server_datid(void);
extern void pgm_server_part_publish(const PgmSample *sample);
extern bool pgm_server_part_read(PgmSample *out, int64 max_age_us);

/* slots.c: for sessions (ddlhooks.c) */
extern void pgm_launcher_request(Oid datid);
extern bool pgm_slots_hold(Oid datid, int seconds);
extern pid_t pgm_slots_connected_pid(Oid datid);
extern void pgm_slots_unhold(Oid datid);

/* slots.c: for readers */
extern bool pgm_launcher_running(void);
extern int	pgm_slots_unsampled(PgmUnsampledView *out, int max);

/* launcher.c: registration and entry point of the launcher */
extern void pgm_register_launcher(void);
extern PGDLLEXPORT void pgmaint_launcher_main(Datum main_arg);

/* ddlhooks.c: the hooks that keep the workers out of the way of database commands */
extern void pgm_install_ddl_hooks(void);

/*
 * What sampler_status() shows about this database's worker (ring.c), for
 * the sampler check and health()'s sampler section too.
 */
typedef struct PgmSamplerView
{
	bool		preloaded;
	bool		running;
	PgmStatus	st;				/* zero without preloading or a worker */
	int			interval_s;		/* the worker's, or pgmaint.sample_interval */
	const char *last_error;		/* why it is not running, or NULL */
	const char *database;		/* this database, NULL without preloading */
} PgmSamplerView;

extern void pgm_sampler_view(PgmSamplerView *view);

/* The columns of sampler_status(), with their types (ring.c) */
#define PGMAINT_STATUS_COLS		14
typedef struct PgmSamplerColumn
{
	const char *name;
	Oid			type;
} PgmSamplerColumn;

extern const PgmSamplerColumn pgm_sampler_columns[PGMAINT_STATUS_COLS];
extern void pgm_sampler_status_values(Datum *values, bool *nulls);

/*
 * ring.c: the ring and status of a database worker.  The worker writes its
 * own slot; sessions read the slot of their database.
 */
extern bool pgm_ring_attached(void);
extern int	pgm_ring_capacity(void);
extern void pgm_ring_push(const PgmSample *sample, const PgmTableSample *tables);
extern int	pgm_ring_copy(PgmSample *out, int max);
extern void pgm_status_copy(PgmStatus *out);
extern void pgm_status_set_error(const char *message);
extern void pgm_status_clear_error(void);
extern void pgm_status_worker_connected(bool sampling, int interval_s);
extern void pgm_status_heartbeat(int interval_s, int64 memory_bytes);
extern void pgm_status_count_persisted(int64 rows);
extern int	pgm_status_take_burst(void);
extern bool pgm_ring_last_tables(PgmTableSample *out);
extern bool pgm_cache_hit_last_hour(TimestampTz now, int64 *hits, int64 *reads);

/* The server's role and its worst replication lag (replication.c) */
typedef struct PgmReplicationLag
{
	bool		in_recovery;
	int32		standbys;		/* streaming WAL senders, on a primary */
	int64		lag_us;			/* -1 when unknown (no standby, nothing received) */
	int64		lag_bytes;		/* -1 when unknown */
} PgmReplicationLag;

extern void pgm_replication_lag(PgmReplicationLag *lag, TimestampTz now);

/* Checkpoints and restartpoints, timed and requested, and their reset (checkpoints.c) */
extern void pgm_checkpoint_counts(int64 *timed, int64 *requested, TimestampTz *reset);

/*
 * sampler.c: one sample and its table-level figures, in C (call inside a
 * transaction).  The pass over the user tables runs at most every
 * PGMAINT_TABLE_PASS_PERIOD seconds unless pass_now (samples asked for).
 * With server, the server-wide part of the sample is copied from it (the
 * server-wide worker's last sample) instead of measured.
 */
#define PGMAINT_TABLE_PASS_PERIOD	10
extern void pgm_take_sample(PgmSample *sample, PgmTableSample *tables, bool pass_now,
							const PgmSample *server);

/*
 * The worker deletes the rows of sample_history and health_events older
 * than pgmaint.history_retention at most every PGMAINT_PRUNE_PERIOD
 * seconds, not after every sample: at a 1 s interval the two DELETEs cost
 * more than the history step's INSERT, and a row a few seconds past a
 * retention of days changes nothing.
 */
#define PGMAINT_PRUNE_PERIOD		10

/* True when a prune last run at *last is due at now; notes now as its run then. */
static inline bool
pgm_prune_due(TimestampTz *last, TimestampTz now)
{
	if (*last != 0 && now - *last < (int64) PGMAINT_PRUNE_PERIOD * USECS_PER_SEC)
		return false;
	*last = now;
	return true;
}

/*
 * pinning.c: pins, at a priority no database or role setting reaches, every
 * setting that could stop or distort the worker's transactions (call once,
 * after connecting)
 */
extern void pgm_pin_worker_settings(void);

/* worker.c: entry point of a database worker (the scheduler), started by the launcher */
extern PGDLLEXPORT void pgmaint_worker_main(Datum main_arg);

/* What the launcher passes a database worker in bgw_extra */
typedef struct PgmWorkerArg
{
	Oid			datid;
	uint32		generation;
} PgmWorkerArg;

/*
 * A worker task, run by the scheduler when its period is due.  It runs in the
 * scheduler's loop memory context, which is reset after every run: a task
 * keeps nothing allocated there from one run to the next.  serve is for a
 * task that runs many transactions (retention): it calls serve() between two
 * of them, outside a transaction, which handles interrupts and a reload and
 * takes the sample that is due, so that a long task never delays the sampler.
 */
typedef void (*PgmServeFunc) (void);
typedef void (*PgmTaskFunc) (PgmServeFunc serve);

/* --- The step runner (step.c, which calls no other pgmaint file) --- */

/* A worker step: runs inside a transaction, with SPI but under pgm_run_xact_step() */
typedef void (*PgmStepFunc) (void *arg);

/* Where a process keeps the runner's last error: see pgm_step_set_reporter() */
typedef void (*PgmStepErrorFunc) (const char *message);
typedef void (*PgmStepClearFunc) (void);

/*
 * Registers what the runner calls when a step fails (with "step: message",
 * at most PGMAINT_ERROR_LEN bytes) and when the step that failed last
 * succeeds again.  Either may be NULL.
 */
extern void pgm_step_set_reporter(PgmStepErrorFunc report, PgmStepClearFunc clear);

/*
 * Runs fn(arg) in the worker inside its own transaction, with SPI connected
 * and a snapshot set, when the server is a primary and the pgmaint extension
 * exists in the worker's database.  An error is logged once (until the step
 * succeeds again or fails differently), handed to the reporter and cleaned
 * up.  Returns true when the step ran and committed.
 */
extern bool pgm_run_step(const char *step, PgmStepFunc fn, void *arg);

/*
 * pgm_run_step() for a step that also runs on a hot standby: the step must
 * not write when RecoveryInProgress().
 */
extern bool pgm_run_read_step(const char *step, PgmStepFunc fn, void *arg);

/*
 * pgm_run_read_step() for a step in C that reads the catalogs and statistics
 * without SPI (the sample): no snapshot is pushed, and it runs whether or
 * not the extension exists.
 */
extern bool pgm_run_xact_step(const char *step, PgmStepFunc fn, void *arg);

/* diskspace.c: the data directory's file system (false when statvfs fails) */
extern bool pgm_disk_space(int64 *total, int64 *free, int64 *available);

/* Connections (backends.c): the worker's leak sweep of every database, a PgmStepFunc */
extern void pgm_leak_sweep(void *arg);
extern void pgm_leak_sweep_none(void);
extern int	pgm_usable_connections(void);

#include "utils/backend_status.h"
extern bool pgm_leak_state_since(BackendState state, TimestampTz state_change,
								 TimestampTz since);

/* --- Autovacuum policy --- */

/* policy.c: the worker's policy task (runs pgmaint.run_policy() as a step) */
extern void pgm_policy_task(PgmServeFunc serve);

/* growth.c: the worker's space task (sizes and bloat estimates, as a step) */
extern void pgm_growth_task(PgmServeFunc serve);

/* Period of the retention task while pgmaint.retention_interval is 0 (off) */
#define PGMAINT_RETENTION_OFF_PERIOD	3600

/* retention.c: the worker's retention task (the run loop CALL apply_retention() drives too) */
extern void pgm_retention_task(PgmServeFunc serve);

/* --- Health events (issue 15) --- */

/* events.c: the standby's recent events in shared memory, and the worker's task */
extern void pgm_events_request_shmem(void);
extern void pgm_events_startup_shmem(void);
extern int	pgm_events_period(void);
extern void pgm_events_task(PgmServeFunc serve);
extern void pgm_health_refresh_task(PgmServeFunc serve);

#endif							/* PGMAINT_H */

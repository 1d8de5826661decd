/*-------------------------------------------------------------------------
 *
 * health.h
 *	  The health checks evaluated in C: what one evaluation holds, the
 *	  checks and their hints, and the interfaces of the files that measure
 *	  (check*.c), run (evaluate.c), keep (healthshm.c), grade (grading.c)
 *	  and serve (healthread.c) them.
 *
 * One evaluation is the raw (value, message, hint) of every check, before
 * grading against pgmaint.thresholds: the worker computes it once per
 * health interval and keeps it in shared memory, and a session computes it
 * with the same code when it cannot read the worker's (health(live =>
 * true)).  Grading happens where it is read, against the thresholds the
 * reader's snapshot sees.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMAINT_HEALTH_H
#define PGMAINT_HEALTH_H

#include "pgmaint.h"

/* Sizes of one check's result (texts longer than these are cut, everywhere alike) */
#define PGMAINT_CHECK_VALUE_LEN		32
#define PGMAINT_CHECK_MESSAGE_LEN	1024
#define PGMAINT_CHECK_ARG_LEN		272

/*
 * The checks, in the order of their names (the registry in evaluate.c
 * names them; readers sort by the database's collation).
 */
typedef enum PgmCheck
{
	PGMAINT_CHECK_ANALYZE_AGE,
	PGMAINT_CHECK_ARCHIVE_READY,
	PGMAINT_CHECK_ARCHIVER,
	PGMAINT_CHECK_AUTOVACUUM_BEHIND,
	PGMAINT_CHECK_BACKUP,
	PGMAINT_CHECK_BLOAT,
	PGMAINT_CHECK_BLOCKED_SESSIONS,
	PGMAINT_CHECK_CACHE_HIT,
	PGMAINT_CHECK_CHECKPOINTS_REQUESTED,
	PGMAINT_CHECK_CONNECTIONS,
	PGMAINT_CHECK_DATABASES_UNSAMPLED,
	PGMAINT_CHECK_DEAD_TUPLES,
	PGMAINT_CHECK_DISABLED_TRIGGERS,
	PGMAINT_CHECK_DISK_FREE,
	PGMAINT_CHECK_DISK_FULL_ETA,
	PGMAINT_CHECK_IDLE_IN_TRANSACTION,
	PGMAINT_CHECK_IDLE_IN_TRANSACTION_ABORTED,
	PGMAINT_CHECK_INACTIVE_SLOTS,
	PGMAINT_CHECK_INVALID_INDEXES,
	PGMAINT_CHECK_LONG_RUNNING_QUERIES,
	PGMAINT_CHECK_MULTIXACT_WRAPAROUND,
	PGMAINT_CHECK_NOT_VALID_CONSTRAINTS,
	PGMAINT_CHECK_PITR_BACKUP,
	PGMAINT_CHECK_PITR_BACKUP_AGE,
	PGMAINT_CHECK_PITR_FULL_BACKUP_AGE,
	PGMAINT_CHECK_PREPARED_TRANSACTIONS,
	PGMAINT_CHECK_RECOVERY_POINT,
	PGMAINT_CHECK_REPLAY_PAUSED,
	PGMAINT_CHECK_REPLICATION_LAG,
	PGMAINT_CHECK_REPLICATION_LAG_BYTES,
	PGMAINT_CHECK_RETENTION,
	PGMAINT_CHECK_SAMPLER,
	PGMAINT_CHECK_SEQUENCES,
	PGMAINT_CHECK_SLOT_WAL_RETENTION,
	PGMAINT_CHECK_STANDBY_MISSING,
	PGMAINT_CHECK_TABLE_CACHE_HIT,
	PGMAINT_CHECK_VACUUM_AGE,
	PGMAINT_CHECK_WAL_RECEIVER,
	PGMAINT_CHECK_XID_WRAPAROUND,
	PGMAINT_NCHECKS
} PgmCheck;

/*
 * The families of checks, each measured by one function, in the order they
 * run.  A server-wide family (see evaluate.c) measures the server, not the
 * database: the server-wide worker's evaluation of it serves every worker.
 */
typedef enum PgmFamily
{
	PGMAINT_FAMILY_SESSIONS,
	PGMAINT_FAMILY_CACHE,
	PGMAINT_FAMILY_ACTIVITY,
	PGMAINT_FAMILY_WRAPAROUND,
	PGMAINT_FAMILY_CATALOG,
	PGMAINT_FAMILY_SCHEMA,
	PGMAINT_FAMILY_HOLDBACK,
	PGMAINT_FAMILY_TABLES,
	PGMAINT_FAMILY_MAINTENANCE_AGE,
	PGMAINT_FAMILY_SPACE,
	PGMAINT_FAMILY_REPLICATION,
	PGMAINT_FAMILY_WAL,
	PGMAINT_FAMILY_SAMPLER,
	PGMAINT_FAMILY_BACKUP,
	PGMAINT_FAMILY_ARCHIVER,
	PGMAINT_FAMILY_RETENTION,
	PGMAINT_FAMILY_PITR,
	PGMAINT_NFAMILIES
} PgmFamily;

/* The hints, by index (their texts are in checkfmt.c's table) */
typedef enum PgmHint
{
	PGMAINT_HINT_NONE,
	PGMAINT_HINT_GRANT_MONITOR,
	PGMAINT_HINT_FAILED,
	PGMAINT_HINT_CONNECTIONS,
	PGMAINT_HINT_IDLE,
	PGMAINT_HINT_IDLE_ABORTED,
	PGMAINT_HINT_CACHE_HIT,
	PGMAINT_HINT_SAMPLER_NOT_PRELOADED,
	PGMAINT_HINT_SAMPLER_STALLED,
	PGMAINT_HINT_SAMPLER_DOWN,
	PGMAINT_HINT_LONG_QUERIES,
	PGMAINT_HINT_BLOCKED,
	PGMAINT_HINT_XID,
	PGMAINT_HINT_MXID,
	PGMAINT_HINT_INVALID_INDEXES,
	PGMAINT_HINT_SEQ_CYCLE,
	PGMAINT_HINT_SEQ_COLUMN,
	PGMAINT_HINT_SEQ,
	PGMAINT_HINT_PREPARED,
	PGMAINT_HINT_INACTIVE_SLOTS,
	PGMAINT_HINT_SLOT_WAL,
	PGMAINT_HINT_TABLE_CACHE,
	PGMAINT_HINT_DEAD,
	PGMAINT_HINT_AV_DISABLED,	/* the table, as its argument */
	PGMAINT_HINT_AV_BEHIND,
	PGMAINT_HINT_DISK_FREE,
	PGMAINT_HINT_BLOAT_WAIT,
	PGMAINT_HINT_BLOAT_NONE,
	PGMAINT_HINT_BLOAT,
	PGMAINT_HINT_DISK_ETA_WAIT,
	PGMAINT_HINT_DISK_ETA,
	PGMAINT_HINT_REPL_LAG,
	PGMAINT_HINT_REPL_BYTES,
	PGMAINT_HINT_STANDBY_MISSING,
	PGMAINT_HINT_WAL_RECEIVER,
	PGMAINT_HINT_REPLAY_PAUSED,
	PGMAINT_HINT_VACUUM_AGE,
	PGMAINT_HINT_ANALYZE_AGE,
	PGMAINT_HINT_NOT_VALID,
	PGMAINT_HINT_DISABLED_TRIGGERS,
	PGMAINT_HINT_CHECKPOINTS,
	PGMAINT_HINT_ARCHIVE_READY,
	PGMAINT_HINT_BACKUP_RUN,	/* the database, as its argument */
	PGMAINT_HINT_BACKUP_FAILED,
	PGMAINT_HINT_DRILL_FAILED,
	PGMAINT_HINT_BACKUP_STALE,
	PGMAINT_HINT_ARCHIVER,
	PGMAINT_HINT_RETENTION,
	PGMAINT_HINT_PITR_FULL,
	PGMAINT_HINT_PITR_DIFF,
	PGMAINT_HINT_PITR_BACKUP_FAILED,
	PGMAINT_HINT_PITR_DRILL_FAILED,
	PGMAINT_HINT_PITR_ARCHIVE_OFF,
	PGMAINT_HINT_PITR_NO_DRILL,
	PGMAINT_HINT_RECOVERY_POINT,
	PGMAINT_HINT_NOT_GRADED,
	PGMAINT_HINT_UNSAMPLED,
	PGMAINT_NHINTS
} PgmHint;

/* The raw result of one check */
typedef struct PgmCheckResult
{
	bool		answered;		/* its family set it */
	bool		failed;			/* its family raised an error */
	bool		has_value;
	char		value[PGMAINT_CHECK_VALUE_LEN];	/* a numeric, as text */
	char		message[PGMAINT_CHECK_MESSAGE_LEN];
	int16		hint;			/* PgmHint */
	char		hint_arg[PGMAINT_CHECK_ARG_LEN];	/* its argument, if any */
} PgmCheckResult;

/* One evaluation of every check */
typedef struct PgmEvaluation
{
	TimestampTz measured_at;
	Oid			datid;			/* the database evaluated */
	int32		period_s;		/* worker: seconds between its evaluations */
	PgmCheckResult checks[PGMAINT_NCHECKS];
} PgmEvaluation;

/*
 * What the caller may see.  The worker sees everything; a session sees what
 * its role's privileges show (the same rules as the SQL views), and reads
 * the worker's evaluation only when it could see all of it.
 */
typedef struct PgmCallerPrivs
{
	bool		all_stats;		/* pg_read_all_stats: other roles' sessions */
	bool		all_settings;	/* pg_read_all_settings: the data directory */
	bool		archive_status; /* EXECUTE on pg_ls_archive_statusdir() */
	bool		read_backups;	/* SELECT on pgmaint.backups */
	bool		read_retention; /* SELECT on pgmaint.retention */
	bool		read_space;		/* SELECT on size_history and bloat_estimates */
} PgmCallerPrivs;

/* --- checkfmt.c: writing results (the bottom layer of the checks) --- */

extern const char *pgm_hint_text(PgmHint hint);
extern void pgm_result_value(PgmCheckResult *r, const char *numeric_text);
extern void pgm_result_message(PgmCheckResult *r, const char *fmt,...) pg_attribute_printf(2, 3);
extern void pgm_result_hint(PgmCheckResult *r, PgmHint hint, const char *arg);
extern void pgm_result_fail(PgmCheckResult *r, const char *message, int sqlerrcode);
extern char *pgm_result_hint_text(const PgmCheckResult *r);

/* numerics as SQL computes them, as text */
extern Datum pgm_num(int64 v);
extern Datum pgm_num_lit(const char *literal);
extern Datum pgm_num_f8(double v);
extern Datum pgm_num_secs(int64 usecs);
extern Datum pgm_num_mul(Datum a, Datum b);
extern Datum pgm_num_div(Datum a, Datum b);
extern Datum pgm_num_sub(Datum a, Datum b);
extern Datum pgm_num_add(Datum a, Datum b);
extern int	pgm_num_cmp(Datum a, Datum b);
extern Datum pgm_num_round(Datum a, int scale);
extern char *pgm_num_text(Datum a);
extern char *pgm_num_round_text(Datum a, int scale);

/* times and names as SQL prints them */
extern char *pgm_duration_text(int64 usecs);
extern char *pgm_interval_text(Datum interval);
extern char *pgm_timestamptz_text(TimestampTz ts);
extern char *pgm_to_char(TimestampTz ts, const char *format);
extern char *pgm_to_char_utc(TimestampTz ts, const char *format);
extern char *pgm_regclass_text(Oid relid);
extern char *pgm_size_pretty(int64 bytes);
extern int	pgm_text_cmp(const char *a, const char *b);
extern char *pgm_shell_quote(const char *word);

/* --- the check families (check*.c) --- */

/* The table-level figures of one pass over pg_class, made at most once per evaluation */
typedef struct PgmTablePass
{
	bool		done;
	PgmTableHealth health;
} PgmTablePass;

/* What a family reads, besides the server: the caller's view and the worker's figures */
typedef struct PgmEvalInput
{
	PgmCallerPrivs privs;
	TimestampTz now;			/* clock_timestamp() of the evaluation */
	TimestampTz xact_now;		/* now() of its transaction */
	PgmTablePass *pass;			/* the worker's last pass, or made on first use */
} PgmEvalInput;

typedef void (*PgmFamilyFunc) (const PgmEvalInput *in, PgmEvaluation *eval);

extern const PgmTableHealth *pgm_eval_tables(const PgmEvalInput *in);
extern void pgm_family_sessions(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_cache(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_activity(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_wraparound(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_catalog(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_schema(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_holdback(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_tables(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_maintenance_age(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_space(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_replication(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_wal(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_sampler(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_backup(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_archiver(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_retention(const PgmEvalInput *in, PgmEvaluation *eval);
extern void pgm_family_pitr(const PgmEvalInput *in, PgmEvaluation *eval);

/* checkcatalog.c: the catalog figures a session keeps until the catalog changes */
extern void pgm_catalog_cache_init(void);

/* --- checkreg.c: the registry of the checks --- */

extern const char *pgm_check_name(PgmCheck check);
extern bool pgm_check_lookup(const char *name, PgmCheck *check);
extern PgmFamily pgm_check_family(PgmCheck check);
extern const PgmCheck *pgm_checks_by_name(void);

/* --- thresholds.c: pgmaint.thresholds as the snapshot sees it --- */

/* One row of pgmaint.thresholds */
typedef struct PgmThreshold
{
	bool		present;
	bool		enabled;
	char	   *warning;		/* numeric text, NULL when unset */
	char	   *critical;
	double		warning_f;
	double		critical_f;
} PgmThreshold;

extern void pgm_read_thresholds(PgmThreshold *out);

/* --- evaluate.c: one evaluation --- */

extern void pgm_caller_privs(PgmCallerPrivs *privs);
extern bool pgm_caller_sees_all(const PgmCallerPrivs *privs);
extern bool pgm_check_server_wide(PgmCheck check);
extern void pgm_evaluate(PgmEvaluation *eval, const PgmCallerPrivs *privs,
						 const PgmTableHealth *tables, const PgmEvaluation *server);

/* --- healthshm.c: the worker's evaluation of each database, in shared memory --- */

/*
 * What health() reports about the overall status beside the checks: the
 * status of the worker's newest event and when the run of events with that
 * status began (its "since").
 */
typedef struct PgmOverallSince
{
	bool		known;
	PgmHealthStatus status;
	TimestampTz since;
} PgmOverallSince;

extern void pgm_healthshm_request(void);
extern void pgm_healthshm_startup(void);
extern Size pgm_healthshm_size(void);
extern void pgm_healthshm_publish(const PgmEvaluation *eval, const PgmOverallSince *since);
extern bool pgm_healthshm_read(Oid datid, PgmEvaluation *eval, PgmOverallSince *since);
extern void pgm_healthshm_set_since(Oid datid, const PgmOverallSince *since);

/* --- grading.c: thresholds and grades --- */

/* One graded check, as health_checks() shows it */
typedef struct PgmGraded
{
	PgmCheck	check;
	PgmHealthStatus status;
	bool		has_warning;
	bool		has_critical;
	char	   *warning;		/* numeric text, or NULL */
	char	   *critical;
	char	   *message;
	char	   *hint;			/* NULL when none */
	bool		failed;
	const PgmCheckResult *result;
} PgmGraded;

extern int	pgm_grade_evaluation(const PgmEvaluation *eval, PgmGraded *out);
extern PgmHealthStatus pgm_graded_overall(const PgmGraded *graded, int n);

#endif							/* PGMAINT_HEALTH_H */

/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  One evaluation of the health checks, in C: the registry of the checks
 *	  and of the families that measure them (check*.c), what the caller may
 *	  see, and the run of every family with its errors contained.
 *
 * The worker evaluates its database once per health interval and keeps the
 * result in shared memory (events.c, healthshm.c); a worker without the
 * server-wide role copies the server-wide families from the server-wide
 * worker's evaluation; a session evaluates with
 * the same code when it cannot read the worker's evaluation (healthread.c).
 * The figures of the worker's last pass over pg_class come in as "tables";
 * without them the evaluation makes that pass itself.
 *
 * Errors.  A family that raises an error (an object it cannot handle, a
 * table of pgmaint's that is gone) turns its checks to unknown, with the
 * error in their messages and failed = true, and every other family still
 * answers, as each check function's exception block did in SQL.  To keep the
 * usual run cheap, all families run in one subtransaction; only when one of
 * them fails does the evaluation start again with a subtransaction per
 * family.  The families only read, so running one twice is harmless.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "health.h"

/*
 * A family of checks: the function that measures them, and whether what it
 * measures is the server's (the same in every database: the backends, the
 * replication slots and prepared transactions, replication, WAL and
 * checkpoints, the archiver) rather than the database's.
 */
typedef struct PgmFamilyDef
{
	const char *name;
	PgmFamilyFunc measure;
	bool		server_wide;
} PgmFamilyDef;

/* The families, by PgmFamily (health.h) */
static const PgmFamilyDef pgm_families[PGMAINT_NFAMILIES] = {
	[PGMAINT_FAMILY_SESSIONS] = {"sessions", pgm_family_sessions, true},
	[PGMAINT_FAMILY_CACHE] = {"cache", pgm_family_cache, false},
	[PGMAINT_FAMILY_ACTIVITY] = {"activity", pgm_family_activity, true},
	[PGMAINT_FAMILY_WRAPAROUND] = {"wraparound", pgm_family_wraparound, false},
	[PGMAINT_FAMILY_CATALOG] = {"catalog", pgm_family_catalog, false},
	[PGMAINT_FAMILY_SCHEMA] = {"schema", pgm_family_schema, false},
	[PGMAINT_FAMILY_HOLDBACK] = {"holdback", pgm_family_holdback, true},
	[PGMAINT_FAMILY_TABLES] = {"tables", pgm_family_tables, false},
	[PGMAINT_FAMILY_MAINTENANCE_AGE] = {"maintenance age", pgm_family_maintenance_age, false},
	[PGMAINT_FAMILY_SPACE] = {"space", pgm_family_space, false},
	[PGMAINT_FAMILY_REPLICATION] = {"replication", pgm_family_replication, true},
	[PGMAINT_FAMILY_WAL] = {"wal", pgm_family_wal, true},
	[PGMAINT_FAMILY_SAMPLER] = {"sampler", pgm_family_sampler, false},
	[PGMAINT_FAMILY_BACKUP] = {"backup", pgm_family_backup, false},
	[PGMAINT_FAMILY_ARCHIVER] = {"archiver", pgm_family_archiver, true},
	[PGMAINT_FAMILY_RETENTION] = {"retention", pgm_family_retention, false},
	[PGMAINT_FAMILY_PITR] = {"pitr", pgm_family_pitr, false},
};

static bool pgm_run_families(const PgmEvalInput *in, PgmEvaluation *eval, int only,
							 bool skip_server_wide);
static bool pgm_may_select(const char *relname);

/* True when the current user may SELECT from pgmaint.relname (false when it is gone). */
static bool
pgm_may_select(const char *relname)
{
	Oid			nsp = get_namespace_oid("pgmaint", true);
	Oid			relid;

	if (!OidIsValid(nsp))
		return false;
	relid = get_relname_relid(relname, nsp);
	return OidIsValid(relid) &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/* What the current user may see, by the rules of the views the checks read. */
void
pgm_caller_privs(PgmCallerPrivs *privs)
{
	Oid			user = GetUserId();

	privs->all_stats = has_privs_of_role(user, ROLE_PG_READ_ALL_STATS);
	privs->all_settings = has_privs_of_role(user, ROLE_PG_READ_ALL_SETTINGS);
#if PG_VERSION_NUM >= 160000
	privs->archive_status = object_aclcheck(ProcedureRelationId, F_PG_LS_ARCHIVE_STATUSDIR,
											user, ACL_EXECUTE) == ACLCHECK_OK;
#else
	privs->archive_status = pg_proc_aclcheck(F_PG_LS_ARCHIVE_STATUSDIR, user,
											 ACL_EXECUTE) == ACLCHECK_OK;
#endif
	privs->read_backups = pgm_may_select("backups");
	privs->read_retention = pgm_may_select("retention");
	privs->read_space = pgm_may_select("size_history") && pgm_may_select("bloat_estimates");
}

/* True when the caller may see everything an evaluation by the worker shows. */
bool
pgm_caller_sees_all(const PgmCallerPrivs *privs)
{
	return privs->all_stats && privs->all_settings && privs->archive_status &&
		privs->read_backups && privs->read_retention && privs->read_space;
}

/* True when a check measures the server rather than the database. */
bool
pgm_check_server_wide(PgmCheck check)
{
	return pgm_families[pgm_check_family(check)].server_wide;
}

/*
 * Evaluates every check now, as a caller with privs sees them, with the
 * table-level figures of tables (NULL: one pass over pg_class now).  With
 * server (the server-wide worker's fresh evaluation), the checks of the
 * server-wide families are copied from it instead of measured, so that a
 * worker's evaluation costs its database, not the server's sessions again.
 * Call inside a transaction; errors of a family are contained (see the file
 * header), others (out of memory, a cancel) propagate.
 */
void
pgm_evaluate(PgmEvaluation *eval, const PgmCallerPrivs *privs,
			 const PgmTableHealth *tables, const PgmEvaluation *server)
{
	PgmEvalInput in;
	PgmTablePass pass;
	int			f;
	int			c;

	memset(eval, 0, sizeof(PgmEvaluation));
	memset(&in, 0, sizeof(in));
	memset(&pass, 0, sizeof(pass));
	if (tables != NULL)
	{
		pass.health = *tables;
		pass.done = true;
	}
	in.privs = *privs;
	in.now = GetCurrentTimestamp();
	in.xact_now = GetCurrentTransactionStartTimestamp();
	in.pass = &pass;
	eval->measured_at = in.now;
	eval->datid = MyDatabaseId;

	if (!pgm_run_families(&in, eval, -1, server != NULL))
	{
		/* one family failed: each in a subtransaction of its own */
		for (f = 0; f < PGMAINT_NFAMILIES; f++)
		{
			if (server == NULL || !pgm_families[f].server_wide)
				(void) pgm_run_families(&in, eval, f, false);
		}
	}
	if (server != NULL)
	{
		for (c = 0; c < PGMAINT_NCHECKS; c++)
		{
			if (pgm_check_server_wide((PgmCheck) c))
				eval->checks[c] = server->checks[c];
		}
	}

	/* a check its family did not answer (a family's bug): unknown, failed */
	for (c = 0; c < PGMAINT_NCHECKS; c++)
	{
		PgmCheckResult *r = &eval->checks[c];

		if (r->answered)
			continue;
		pgm_result_value(r, NULL);
		pgm_result_message(r, "the check gave no answer");
		r->failed = true;
	}
}

/*
 * Runs the family only (every family when -1, but the server-wide ones with
 * skip_server_wide) in a subtransaction.  On an error the subtransaction is
 * rolled back and, for a single family, its checks are marked failed with
 * the error; returns false on an error.
 */
static bool
pgm_run_families(const PgmEvalInput *in, PgmEvaluation *eval, int only,
				 bool skip_server_wide)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;
	int			f;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		for (f = 0; f < PGMAINT_NFAMILIES; f++)
		{
			if ((only < 0 && !(skip_server_wide && pgm_families[f].server_wide)) || only == f)
				pgm_families[f].measure(in, eval);
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			c;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		/* a cancel or a shutdown is not the check's failure */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ok = false;

		if (only >= 0)
		{
			for (c = 0; c < PGMAINT_NCHECKS; c++)
			{
				if ((int) pgm_check_family((PgmCheck) c) == only)
					pgm_result_fail(&eval->checks[c], edata->message, edata->sqlerrcode);
			}
		}
		else
			memset(eval->checks, 0, sizeof(eval->checks));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return ok;
}

/*-------------------------------------------------------------------------
 *
 * ddlhooks.c
 *	  The hooks, installed in every backend (pgmaint is preloaded), that keep
 *	  the database workers out of the way of database commands and tell the
 *	  launcher what changed.
 *
 * A command that needs a database without other sessions (PostgreSQL 15's
 * CountOtherDBBackends() waits about five seconds for them, then fails):
 *  - DROP DATABASE (with or without FORCE: FORCE could not terminate a
 *    superuser's worker for a non-superuser owner);
 *  - ALTER DATABASE ... RENAME TO and ALTER DATABASE ... SET TABLESPACE;
 *  - CREATE DATABASE ... TEMPLATE, of the template;
 * holds that database's slot first (slots.c): its worker is asked to stop,
 * and the ProcessUtility hook waits, at most PGMAINT_HOLD_WAIT_MS, until no
 * worker is connected there, then runs the command.  A worker started
 * meanwhile waits for the command's lock on the database in its connection
 * and is not counted.  The hold ends with the session's transaction (its
 * end wakes the launcher, which starts the workers pg_database now calls
 * for: the renamed database's, the template's and the new database's), or
 * after PGMAINT_HOLD_SECONDS should the session die.  Only a role the
 * command would accept holds a database: others cannot stop its worker.
 *
 * The launcher is asked to look again at a database when a transaction
 * commits there that created extension pgmaint (its worker starts) or
 * dropped it (its worker looks and stops), and to read pg_database again
 * when one committed CREATE, DROP or ALTER DATABASE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/latch.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pgmaint.h"

/* Seconds a hold lasts at most (it ends with the session's transaction) */
#define PGMAINT_HOLD_SECONDS		60

/* How long a command waits for the worker of its database to exit, in ms */
#define PGMAINT_HOLD_WAIT_MS		10000

/* After this many ms of waiting, the worker is sent SIGTERM */
#define PGMAINT_HOLD_TERM_MS		2000

/* Databases one transaction may hold */
#define PGMAINT_MAX_HELD			4

static ProcessUtility_hook_type pgm_prev_utility_hook = NULL;
static object_access_hook_type pgm_prev_object_access_hook = NULL;

/* This transaction's holds and what its commit tells the launcher */
static Oid	pgm_held[PGMAINT_MAX_HELD];
static int	pgm_nheld = 0;
static bool pgm_extension_created = false;
static bool pgm_extension_dropped = false;
static bool pgm_databases_changed = false;

static void pgm_utility_hook(PlannedStmt *pstmt, const char *queryString,
							 bool readOnlyTree, ProcessUtilityContext context,
							 ParamListInfo params, QueryEnvironment *queryEnv,
							 DestReceiver *dest, QueryCompletion *qc);
static void pgm_object_access(ObjectAccessType access, Oid classId, Oid objectId,
							  int subId, void *arg);
static void pgm_xact_callback(XactEvent event, void *arg);
static Oid	pgm_database_to_hold(Node *parsetree);
static bool pgm_is_owner(Oid datid);
static bool pgm_may_create_database(void);
static void pgm_hold(Oid datid);

/* Installs the hooks (from _PG_init, when preloaded). */
void
pgm_install_ddl_hooks(void)
{
	pgm_prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = pgm_utility_hook;
	pgm_prev_object_access_hook = object_access_hook;
	object_access_hook = pgm_object_access;
	RegisterXactCallback(pgm_xact_callback, NULL);
}

/* ProcessUtility hook: holds the database a command needs alone, then runs it. */
static void
pgm_utility_hook(PlannedStmt *pstmt, const char *queryString,
				 bool readOnlyTree, ProcessUtilityContext context,
				 ParamListInfo params, QueryEnvironment *queryEnv,
				 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	Oid			datid;

	switch (nodeTag(parsetree))
	{
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_AlterDatabaseStmt:
			pgm_databases_changed = true;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				pgm_databases_changed = true;
			break;
		default:
			break;
	}

	datid = pgm_database_to_hold(parsetree);
	if (OidIsValid(datid))
		pgm_hold(datid);

	if (pgm_prev_utility_hook)
		pgm_prev_utility_hook(pstmt, queryString, readOnlyTree, context,
							  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * The database a command needs without other sessions, when the current
 * role may run it (InvalidOid otherwise, and for every other command).
 */
static Oid
pgm_database_to_hold(Node *parsetree)
{
	const char *name = NULL;
	ListCell   *lc;
	Oid			datid;

	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			name = ((DropdbStmt *) parsetree)->dbname;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				name = ((RenameStmt *) parsetree)->subname;
			break;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
			{
				if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
					name = ((AlterDatabaseStmt *) parsetree)->dbname;
			}
			break;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) parsetree)->options)
			{
				DefElem    *d = (DefElem *) lfirst(lc);

				if (strcmp(d->defname, "template") == 0 && d->arg != NULL)
					name = defGetString(d);
			}
			if (name == NULL)
				return InvalidOid;
			datid = get_database_oid(name, true);
			if (!OidIsValid(datid) || !pgm_may_create_database())
				return InvalidOid;
			/* the checks of createdb(): a template, or a database of one's own */
			{
				HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(datid));
				bool		is_template = false;

				if (HeapTupleIsValid(tuple))
				{
					is_template = ((Form_pg_database) GETSTRUCT(tuple))->datistemplate;
					ReleaseSysCache(tuple);
				}
				return (is_template || pgm_is_owner(datid)) ? datid : InvalidOid;
			}
		default:
			break;
	}
	if (name == NULL)
		return InvalidOid;
	datid = get_database_oid(name, true);
	return OidIsValid(datid) && pgm_is_owner(datid) ? datid : InvalidOid;
}

/*
 * True when the current role may create databases, as createdb() checks it
 * (have_createdb_privilege() is not exported by every minor release of 15).
 */
static bool
pgm_may_create_database(void)
{
	HeapTuple	tuple;
	bool		result = false;

	if (superuser())
		return true;
	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (HeapTupleIsValid(tuple))
	{
		result = ((Form_pg_authid) GETSTRUCT(tuple))->rolcreatedb;
		ReleaseSysCache(tuple);
	}
	return result;
}

/* True when the current role owns database datid (as the commands check it). */
static bool
pgm_is_owner(Oid datid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(DatabaseRelationId, datid, GetUserId());
#else
	return pg_database_ownercheck(datid, GetUserId());
#endif
}

/*
 * Holds database datid for this transaction and waits until no worker is
 * connected to it (SIGTERM after PGMAINT_HOLD_TERM_MS, giving up after
 * PGMAINT_HOLD_WAIT_MS: the command then waits on its own, as without
 * pgmaint).
 */
static void
pgm_hold(Oid datid)
{
	TimestampTz start = GetCurrentTimestamp();
	bool		signalled = false;
	pid_t		pid;

	if (pgm_nheld >= PGMAINT_MAX_HELD || !pgm_slots_hold(datid, PGMAINT_HOLD_SECONDS))
		return;
	pgm_held[pgm_nheld++] = datid;

	while ((pid = pgm_slots_connected_pid(datid)) != 0)
	{
		long		waited = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());

		if (waited >= PGMAINT_HOLD_WAIT_MS)
			break;
		if (waited >= PGMAINT_HOLD_TERM_MS && !signalled)
		{
			/* a step that does not reach its next check soon enough */
			(void) kill(pid, SIGTERM);
			signalled = true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 20, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Object access hook: notes CREATE and DROP EXTENSION pgmaint in this transaction. */
static void
pgm_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (pgm_prev_object_access_hook)
		pgm_prev_object_access_hook(access, classId, objectId, subId, arg);
	if (classId != ExtensionRelationId)
		return;
	/* a new extension's name is not visible yet: the commit looks which it was */
	if (access == OAT_POST_CREATE)
		pgm_extension_created = true;
	else if (access == OAT_DROP)
	{
		char	   *name = get_extension_name(objectId);

		if (name != NULL && strcmp(name, "pgmaint") == 0)
			pgm_extension_dropped = true;
	}
}

/* Transaction callback: ends the holds, and after a commit tells the launcher. */
static void
pgm_xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			/* still in the transaction: was the extension created pgmaint? */
			if (pgm_extension_created && !OidIsValid(get_extension_oid("pgmaint", true)))
				pgm_extension_created = false;
			return;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (pgm_extension_created || pgm_extension_dropped)
				pgm_launcher_request(MyDatabaseId);
			if (pgm_databases_changed)
				pgm_launcher_request(InvalidOid);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			break;
		default:
			return;
	}
	for (i = 0; i < pgm_nheld; i++)
		pgm_slots_unhold(pgm_held[i]);
	pgm_nheld = 0;
	pgm_extension_created = false;
	pgm_extension_dropped = false;
	pgm_databases_changed = false;
}

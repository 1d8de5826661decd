/*-------------------------------------------------------------------------
 *
 * owner.c
 *	  The owner context: the one way pgmaint reads, writes or evaluates an
 *	  expression over a user relation when it has more rights than the
 *	  relation's owner.
 *
 * The rule.  The worker (a superuser), a SECURITY DEFINER function and a
 * superuser's call of any pgmaint function must never run code a table's
 * owner planted (a trigger, a column's type and its casts or operators, a
 * rule that made the table a view, a policy, an index expression) with their
 * own rights.  So every access to a user relation goes through
 * pgm_as_owner(), which does what PostgreSQL itself does for VACUUM, ANALYZE,
 * CREATE INDEX and REFRESH MATERIALIZED VIEW (src/backend/commands/vacuum.c,
 * matview.c):
 *
 *  1. a new GUC nest level, with search_path pinned to
 *     PGMAINT_SAFE_SEARCH_PATH and lock_timeout to PGMAINT_LOCK_TIMEOUT (or
 *     the caller's), so that no lock is waited for longer;
 *  2. the relation locked, then looked up again: it must still exist and
 *     still have one of the kinds the caller expects (a table becomes a view
 *     through CREATE RULE "_RETURN" on PostgreSQL 15 and keeps its OID), and
 *     the caller's own checks (a column's type, an archive) pass, under the
 *     lock, so nothing can change them until the transaction ends;
 *  3. SetUserIdAndSecContext() to the owner found under the lock, with
 *     SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION (no SET
 *     ROLE, no temporary objects, no LISTEN in whatever runs);
 *  4. the work, optionally under a deadline of its own (a timeout of
 *     pgmaint's: the owner's code cannot lift it);
 *  5. AtEOXact_GUC(false, nest) undoes every setting the owner's code made,
 *     and the user and security context are restored.
 *
 * An error anywhere in 2-4 is cleaned up as in vacuum.c and matview.c: the
 * (sub)transaction's abort restores the user, the security context and the
 * settings.  Callers that go on after an error therefore catch it with a
 * subtransaction, never with a bare PG_TRY.
 *
 * Privileges.  The owner context takes away rights, it never adds any: a
 * caller checks, before it calls, that its own caller may do what the work
 * does (own the table, read it) - pgm_as_owner() only makes sure that
 * whatever runs, runs with no more rights than the owner's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timeout.h"

#include "pgmaint.h"
#include "owner.h"

/* The timeout that ends a call's work at its deadline (MAX_TIMEOUTS: not registered yet) */
static TimeoutId pgm_work_timeout = MAX_TIMEOUTS;

static Oid	pgm_owner_checked(Oid relid, const char *relkinds, const char *kind_name);
static void pgm_work_timeout_handler(void);

/* Timeout handler: cancels the statement running, as a cancel request does. */
static void
pgm_work_timeout_handler(void)
{
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* See owner.h. */
char *
pgm_relation_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);
	char	   *nsp;

	if (rel == NULL)
		return psprintf("relation with OID %u", relid);
	nsp = get_namespace_name(get_rel_namespace(relid));
	return quote_qualified_identifier(nsp, rel);
}

/* Looks relid up (locked by the caller) and checks its kind; returns its owner. */
static Oid
pgm_owner_checked(Oid relid, const char *relkinds, const char *kind_name)
{
	HeapTuple	tuple;
	Form_pg_class form;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	form = (Form_pg_class) GETSTRUCT(tuple);
	if (strchr(relkinds, form->relkind) == NULL)
	{
		char	   *name = quote_qualified_identifier(get_namespace_name(form->relnamespace),
													  NameStr(form->relname));

		ReleaseSysCache(tuple);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not %s", name, kind_name),
				 errdetail("pgmaint checks the kind of a relation each time it reads or changes it.")));
	}
	if (form->relpersistence == RELPERSISTENCE_TEMP &&
		!isTempOrTempToastNamespace(form->relnamespace))
	{
		ReleaseSysCache(tuple);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot access temporary tables of other sessions")));
	}
	owner = form->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* See owner.h. */
Oid
pgm_owner_lock(Oid relid, LOCKMODE lockmode, const char *relkinds, const char *kind_name)
{
	LockRelationOid(relid, lockmode);
	return pgm_owner_checked(relid, relkinds, kind_name);
}

/* See owner.h. */
bool
pgm_as_owner(const PgmOwnerCall *call)
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			owner;
	volatile bool armed = false;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);

	/* 1. settings: whatever the session, the database or the owner set */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", PGMAINT_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("lock_timeout",
							 call->lock_timeout ? call->lock_timeout : PGMAINT_LOCK_TIMEOUT,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	/* 2. the lock, then what the relation is now */
	if (call->nowait)
	{
		if (!ConditionalLockRelationOid(call->relid, call->lockmode))
		{
			AtEOXact_GUC(false, save_nestlevel);
			return false;
		}
	}
	else
		LockRelationOid(call->relid, call->lockmode);
	owner = pgm_owner_checked(call->relid, call->relkinds, call->kind_name);
	if (call->check)
		call->check(call->relid, owner, call->arg);
	if (call->work == NULL)
	{
		AtEOXact_GUC(false, save_nestlevel);
		return true;
	}

	/* 3. the owner, restricted */
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	/*
	 * 4. the work, under a deadline of its own: a timeout of pgmaint's (a
	 * client's statement_timeout keeps running beside it), which the owner's
	 * code cannot lift as it could a SET statement_timeout.  It cancels the
	 * statement (SQLSTATE 57014); the caller tells it from a user's cancel
	 * by the clock.
	 */
	if (call->timeout_ms > 0)
	{
		if (pgm_work_timeout == MAX_TIMEOUTS)
			pgm_work_timeout = RegisterTimeout(USER_TIMEOUT, pgm_work_timeout_handler);
		enable_timeout_after(pgm_work_timeout, call->timeout_ms);
		armed = true;
	}
	PG_TRY();
	{
		call->work(call->arg);
	}
	PG_CATCH();
	{
		/* the abort restores user and settings; a timer would outlive it */
		if (armed)
			disable_timeout(pgm_work_timeout, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (armed)
	{
		/* a deadline reached as the work ended: it cancels nothing after it */
		disable_timeout(pgm_work_timeout, true);
		if (get_timeout_indicator(pgm_work_timeout, true))
			QueryCancelPending = false;
	}

	/* 5. back to the caller: its settings, its user */
	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return true;
}

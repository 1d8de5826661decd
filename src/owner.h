/*-------------------------------------------------------------------------
 *
 * owner.h
 *	  The owner context (owner.c): how pgmaint touches a user relation with
 *	  more rights than the relation's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMAINT_OWNER_H
#define PGMAINT_OWNER_H

#include "postgres.h"

#include "storage/lockdefs.h"

/*
 * Further checks of a call, under the relation's lock and before the switch
 * to its owner: they raise an ERROR when the relation no longer qualifies.
 * They may lock (pgm_owner_lock()) and check other relations the work
 * touches.
 */
typedef void (*PgmOwnerCheck) (Oid relid, Oid owner, void *arg);

/* The work, run as the relation's owner in a security-restricted operation */
typedef void (*PgmOwnerWork) (void *arg);

/* One call of pgm_as_owner() */
typedef struct PgmOwnerCall
{
	Oid			relid;			/* the relation whose owner runs the work */
	LOCKMODE	lockmode;		/* taken on relid before anything is checked */
	bool		nowait;			/* a lock not free at once: return false */
	const char *relkinds;		/* the kinds relid may have, e.g. "rp" */
	const char *kind_name;		/* what they are called in an error: "a table" */
	const char *lock_timeout;	/* of the lock and the work; NULL: PGMAINT_LOCK_TIMEOUT */
	int			timeout_ms;		/* > 0: the work is cancelled (57014) after this long */
	PgmOwnerCheck check;		/* NULL, or more checks under the lock */
	PgmOwnerWork work;			/* NULL: only lock and check */
	void	   *arg;			/* for check and work */
} PgmOwnerCall;

/*
 * Locks call->relid, checks that it still exists and has one of the kinds
 * wanted (and whatever call->check checks), then runs call->work as its
 * owner.  Returns false, having done nothing, only when call->nowait and the
 * lock was not free; every other failure is an ERROR.  Call it inside a
 * transaction; an error is cleaned up by the (sub)transaction's abort.
 */
extern bool pgm_as_owner(const PgmOwnerCall *call);

/*
 * Locks another relation a call's work touches (from a check, where the lock
 * timeout is pinned) and checks its kind the same way; returns its owner.
 */
extern Oid	pgm_owner_lock(Oid relid, LOCKMODE lockmode, const char *relkinds,
						   const char *kind_name);

/* The quoted schema-qualified name of a relation, for messages and SQL */
extern char *pgm_relation_name(Oid relid);

#endif							/* PGMAINT_OWNER_H */

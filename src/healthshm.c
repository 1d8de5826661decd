/*-------------------------------------------------------------------------
 *
 * healthshm.c
 *	  The worker's evaluation of the health checks, in shared memory: one
 *	  slot per database, pgmaint.max_databases slots (issue 30 gives every
 *	  database with pgmaint a worker of its own; today one worker fills the
 *	  slot of pgmaint.database).
 *
 * A slot holds the database's OID, its last evaluation (PgmEvaluation: the
 * raw value, message and hint of every check, about 24 kB) and what health()
 * says about the overall status beside it (its "since").  One LWLock guards
 * every slot: the worker takes it exclusively for a memcpy of its slot;
 * readers take it shared and copy their database's slot into memory they
 * allocated before, so that nothing that can ERROR runs under the lock.
 *
 * A worker claims the slot of its database, else a free one, else the one
 * written longest ago (a database that no longer has a worker).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "health.h"

/* Name of the shared memory struct and of its LWLock tranche */
#define PGMAINT_HEALTH_SHMEM_NAME	"pgmaint health"
#define PGMAINT_HEALTH_TRANCHE		"pgmaint health"

/* One database's evaluation */
typedef struct PgmHealthSlot
{
	Oid			datid;			/* InvalidOid: free */
	PgmOverallSince since;
	PgmEvaluation eval;
} PgmHealthSlot;

/* The slots */
typedef struct PgmHealthShared
{
	LWLock	   *lock;
	int			nslots;
	PgmHealthSlot slots[FLEXIBLE_ARRAY_MEMBER];
} PgmHealthShared;

static PgmHealthShared *pgm_health_shared = NULL;

/* Bytes of shared memory the slots take. */
Size
pgm_healthshm_size(void)
{
	return add_size(offsetof(PgmHealthShared, slots),
					mul_size(sizeof(PgmHealthSlot), pgm_max_databases));
}

/* Asks for the slots' memory and lock (shmem_request_hook). */
void
pgm_healthshm_request(void)
{
	RequestAddinShmemSpace(pgm_healthshm_size());
	RequestNamedLWLockTranche(PGMAINT_HEALTH_TRANCHE, 1);
}

/* Creates or attaches to the slots (shmem_startup_hook). */
void
pgm_healthshm_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgm_health_shared = ShmemInitStruct(PGMAINT_HEALTH_SHMEM_NAME, pgm_healthshm_size(), &found);
	if (!found)
	{
		memset(pgm_health_shared, 0, pgm_healthshm_size());
		pgm_health_shared->lock = &(GetNamedLWLockTranche(PGMAINT_HEALTH_TRANCHE))->lock;
		pgm_health_shared->nslots = pgm_max_databases;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Publishes the evaluation of eval->datid and its since, in that database's slot. */
void
pgm_healthshm_publish(const PgmEvaluation *eval, const PgmOverallSince *since)
{
	PgmHealthSlot *slot = NULL;
	int			i;

	if (pgm_health_shared == NULL)
		return;
	LWLockAcquire(pgm_health_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < pgm_health_shared->nslots; i++)
	{
		PgmHealthSlot *s = &pgm_health_shared->slots[i];

		if (s->datid == eval->datid)
		{
			slot = s;
			break;
		}
		if (slot == NULL || (OidIsValid(slot->datid) &&
							 (!OidIsValid(s->datid) ||
							  s->eval.measured_at < slot->eval.measured_at)))
			slot = s;
	}
	slot->datid = eval->datid;
	slot->since = *since;
	memcpy(&slot->eval, eval, sizeof(PgmEvaluation));
	LWLockRelease(pgm_health_shared->lock);
}

/*
 * Copies the evaluation of database datid and its since; false when no
 * worker published one (or without preloading).
 */
bool
pgm_healthshm_read(Oid datid, PgmEvaluation *eval, PgmOverallSince *since)
{
	bool		found = false;
	int			i;

	if (pgm_health_shared == NULL)
		return false;
	LWLockAcquire(pgm_health_shared->lock, LW_SHARED);
	for (i = 0; i < pgm_health_shared->nslots; i++)
	{
		PgmHealthSlot *s = &pgm_health_shared->slots[i];

		if (s->datid == datid)
		{
			memcpy(eval, &s->eval, sizeof(PgmEvaluation));
			*since = s->since;
			found = true;
			break;
		}
	}
	LWLockRelease(pgm_health_shared->lock);
	return found;
}

/* Updates the since of database datid's slot, when it has one. */
void
pgm_healthshm_set_since(Oid datid, const PgmOverallSince *since)
{
	int			i;

	if (pgm_health_shared == NULL)
		return;
	LWLockAcquire(pgm_health_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < pgm_health_shared->nslots; i++)
	{
		if (pgm_health_shared->slots[i].datid == datid)
		{
			pgm_health_shared->slots[i].since = *since;
			break;
		}
	}
	LWLockRelease(pgm_health_shared->lock);
}

/*-------------------------------------------------------------------------
 *
 * healthshm.c
 *	  The worker's evaluation of the health checks, in shared memory: one
 *	  slot per database, pgmaint.max_databases slots (issue 30 gives every
 *	  database with pgmaint a worker of its own; today one worker fills the
 *	  slot of pgmaint.database).
 *
 * A slot holds the database's OID, what health() says about the overall
 * status beside the checks (its "since") and its last evaluation, not as a
 * PgmEvaluation (52 kB of mostly empty fixed-size texts) but serialized into
 * PGMAINT_HEALTH_SLOT_BYTES: the header fields, then per check its flags,
 * its hint and its three texts, each ending with its NUL.  An evaluation
 * that does not fit is not published (never cut): the slot says it has
 * none, and readers measure in the session.
 *
 * One LWLock guards every slot: the worker serializes in its own memory and
 * takes the lock exclusively for a memcpy into its slot; readers take it
 * shared and copy their database's bytes into memory they allocated before,
 * then deserialize after releasing it, so that nothing that can ERROR runs
 * under the lock.
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

/*
 * Bytes of one slot's serialized evaluation: five times the largest the test
 * suites' planted states make (3.3 kB).  Every text at its longest (52 kB)
 * would not fit, and is not published.
 */
#define PGMAINT_HEALTH_SLOT_BYTES	16384

/* A check's flags in the serialized form */
#define PGMAINT_SER_ANSWERED		0x01
#define PGMAINT_SER_FAILED			0x02
#define PGMAINT_SER_HAS_VALUE		0x04

/* One database's evaluation */
typedef struct PgmHealthSlot
{
	Oid			datid;			/* InvalidOid: free */
	PgmOverallSince since;
	TimestampTz written_at;		/* measured_at of the last evaluation */
	Size		len;			/* bytes of data in use; 0: no evaluation */
	char		data[PGMAINT_HEALTH_SLOT_BYTES];
} PgmHealthSlot;

/* The slots */
typedef struct PgmHealthShared
{
	LWLock	   *lock;
	int			nslots;
	PgmHealthSlot slots[FLEXIBLE_ARRAY_MEMBER];
} PgmHealthShared;

static PgmHealthShared *pgm_health_shared = NULL;

/* This worker said once that an evaluation did not fit */
static bool pgm_overflow_logged = false;

static bool pgm_ser_put(char *buf, Size cap, Size *off, const void *src, Size n);
static bool pgm_ser_get(const char *buf, Size len, Size *off, void *dst, Size n);
static bool pgm_ser_get_text(const char *buf, Size len, Size *off, char *dst, Size size);
static Size pgm_healthshm_serialize(const PgmEvaluation *eval, char *buf, Size cap);
static bool pgm_healthshm_deserialize(const char *buf, Size len, PgmEvaluation *eval);

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

/* Appends n bytes of src at *off of buf; false when they do not fit in cap. */
static bool
pgm_ser_put(char *buf, Size cap, Size *off, const void *src, Size n)
{
	if (n > cap - *off)
		return false;
	memcpy(buf + *off, src, n);
	*off += n;
	return true;
}

/*
 * Serializes eval into buf of cap bytes; returns the bytes used, 0 when it
 * does not fit.
 */
static Size
pgm_healthshm_serialize(const PgmEvaluation *eval, char *buf, Size cap)
{
	Size		off = 0;
	int			i;

	if (!pgm_ser_put(buf, cap, &off, &eval->measured_at, sizeof(eval->measured_at)) ||
		!pgm_ser_put(buf, cap, &off, &eval->datid, sizeof(eval->datid)) ||
		!pgm_ser_put(buf, cap, &off, &eval->period_s, sizeof(eval->period_s)))
		return 0;
	for (i = 0; i < PGMAINT_NCHECKS; i++)
	{
		const PgmCheckResult *r = &eval->checks[i];
		uint8		flags = 0;

		if (r->answered)
			flags |= PGMAINT_SER_ANSWERED;
		if (r->failed)
			flags |= PGMAINT_SER_FAILED;
		if (r->has_value)
			flags |= PGMAINT_SER_HAS_VALUE;
		if (!pgm_ser_put(buf, cap, &off, &flags, sizeof(flags)) ||
			!pgm_ser_put(buf, cap, &off, &r->hint, sizeof(r->hint)) ||
			!pgm_ser_put(buf, cap, &off, r->value, strnlen(r->value, sizeof(r->value) - 1) + 1) ||
			!pgm_ser_put(buf, cap, &off, r->message, strnlen(r->message, sizeof(r->message) - 1) + 1) ||
			!pgm_ser_put(buf, cap, &off, r->hint_arg, strnlen(r->hint_arg, sizeof(r->hint_arg) - 1) + 1))
			return 0;
	}
	return off;
}

/* Reads n bytes at *off of buf (len bytes) into dst; false past its end. */
static bool
pgm_ser_get(const char *buf, Size len, Size *off, void *dst, Size n)
{
	if (n > len - *off)
		return false;
	memcpy(dst, buf + *off, n);
	*off += n;
	return true;
}

/* Reads a NUL-terminated text at *off into dst of size bytes; false when malformed. */
static bool
pgm_ser_get_text(const char *buf, Size len, Size *off, char *dst, Size size)
{
	Size		n = strnlen(buf + *off, Min(len - *off, size));

	if (n >= size || *off + n >= len)
		return false;
	memcpy(dst, buf + *off, n + 1);
	*off += n + 1;
	return true;
}

/*
 * Fills eval from the len bytes of buf pgm_healthshm_serialize() wrote;
 * false when they are not an evaluation.
 */
static bool
pgm_healthshm_deserialize(const char *buf, Size len, PgmEvaluation *eval)
{
	Size		off = 0;
	int			i;

	memset(eval, 0, sizeof(PgmEvaluation));
	if (!pgm_ser_get(buf, len, &off, &eval->measured_at, sizeof(eval->measured_at)) ||
		!pgm_ser_get(buf, len, &off, &eval->datid, sizeof(eval->datid)) ||
		!pgm_ser_get(buf, len, &off, &eval->period_s, sizeof(eval->period_s)))
		return false;
	for (i = 0; i < PGMAINT_NCHECKS; i++)
	{
		PgmCheckResult *r = &eval->checks[i];
		uint8		flags;

		if (!pgm_ser_get(buf, len, &off, &flags, sizeof(flags)) ||
			!pgm_ser_get(buf, len, &off, &r->hint, sizeof(r->hint)) ||
			!pgm_ser_get_text(buf, len, &off, r->value, sizeof(r->value)) ||
			!pgm_ser_get_text(buf, len, &off, r->message, sizeof(r->message)) ||
			!pgm_ser_get_text(buf, len, &off, r->hint_arg, sizeof(r->hint_arg)))
			return false;
		r->answered = (flags & PGMAINT_SER_ANSWERED) != 0;
		r->failed = (flags & PGMAINT_SER_FAILED) != 0;
		r->has_value = (flags & PGMAINT_SER_HAS_VALUE) != 0;
		if (r->hint < 0 || r->hint >= PGMAINT_NHINTS)
			return false;
	}
	return off == len;
}

/*
 * Publishes the evaluation of eval->datid and its since, in that database's
 * slot; an evaluation too large for a slot is not published (the slot then
 * has none, and readers measure in the session).
 */
void
pgm_healthshm_publish(const PgmEvaluation *eval, const PgmOverallSince *since)
{
	PgmHealthSlot *slot = NULL;
	char	   *buf;
	Size		len;
	int			i;

	if (pgm_health_shared == NULL)
		return;
	buf = palloc(PGMAINT_HEALTH_SLOT_BYTES);
	len = pgm_healthshm_serialize(eval, buf, PGMAINT_HEALTH_SLOT_BYTES);

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
							  s->written_at < slot->written_at)))
			slot = s;
	}
	slot->datid = eval->datid;
	slot->since = *since;
	slot->written_at = eval->measured_at;
	slot->len = len;
	memcpy(slot->data, buf, len);
	LWLockRelease(pgm_health_shared->lock);

	/* said once a worker, then at DEBUG1 */
	if (len == 0)
	{
		ereport(pgm_overflow_logged ? DEBUG1 : LOG,
				(errmsg("pgmaint: the health evaluation of the database with OID %u does not fit in shared memory",
						eval->datid),
				 errdetail("It takes more than %d bytes; health() measures in the session instead.",
						   PGMAINT_HEALTH_SLOT_BYTES)));
		pgm_overflow_logged = true;
	}
	else
		elog(DEBUG2, "pgmaint: the health evaluation of the database with OID %u takes %zu of %d bytes",
			 eval->datid, len, PGMAINT_HEALTH_SLOT_BYTES);
	pfree(buf);
}

/*
 * Copies the evaluation of database datid and its since; false when no
 * worker published one (or without preloading, or when it did not fit).
 */
bool
pgm_healthshm_read(Oid datid, PgmEvaluation *eval, PgmOverallSince *since)
{
	char	   *buf;
	Size		len = 0;
	PgmOverallSince slot_since;
	bool		found = false;
	int			i;

	if (pgm_health_shared == NULL)
		return false;
	buf = palloc(PGMAINT_HEALTH_SLOT_BYTES);
	LWLockAcquire(pgm_health_shared->lock, LW_SHARED);
	for (i = 0; i < pgm_health_shared->nslots; i++)
	{
		PgmHealthSlot *s = &pgm_health_shared->slots[i];

		if (s->datid == datid)
		{
			len = s->len;
			memcpy(buf, s->data, len);
			slot_since = s->since;
			found = len > 0;
			break;
		}
	}
	LWLockRelease(pgm_health_shared->lock);

	if (found)
		found = pgm_healthshm_deserialize(buf, len, eval);
	if (found)
		*since = slot_since;
	pfree(buf);
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

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
 * PgmEvaluation (52 kB of mostly empty fixed-size texts) but as its header
 * fields and, serialized into PGMAINT_HEALTH_SLOT_BYTES, per check its
 * flags, its hint and its three texts, each ending with its NUL.  An evaluation
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

#include "lib/stringinfo.h"
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
	TimestampTz measured_at;	/* of the last evaluation */
	int32		period_s;
	Size		len;			/* bytes of checks in use; 0: no evaluation */
	char		checks[PGMAINT_HEALTH_SLOT_BYTES];	/* serialized */
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

static void pgm_put_text(StringInfo buf, const char *text, Size size);
static bool pgm_get(const char *buf, Size len, Size *off, void *dst, Size n);
static bool pgm_get_text(const char *buf, Size len, Size *off, char *dst, Size size);
static void pgm_serialize_checks(const PgmEvaluation *eval, StringInfo buf);
static bool pgm_deserialize_checks(const char *buf, Size len, PgmEvaluation *eval);

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

/* Appends a text of a buffer of size bytes, with its NUL. */
static void
pgm_put_text(StringInfo buf, const char *text, Size size)
{
	appendBinaryStringInfo(buf, text, strnlen(text, size - 1));
	appendStringInfoChar(buf, '\0');
}

/* Serializes the checks of eval into buf. */
static void
pgm_serialize_checks(const PgmEvaluation *eval, StringInfo buf)
{
	int			i;

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
		appendBinaryStringInfo(buf, (const char *) &flags, sizeof(flags));
		appendBinaryStringInfo(buf, (const char *) &r->hint, sizeof(r->hint));
		pgm_put_text(buf, r->value, sizeof(r->value));
		pgm_put_text(buf, r->message, sizeof(r->message));
		pgm_put_text(buf, r->hint_arg, sizeof(r->hint_arg));
	}
}

/* Reads n bytes at *off of buf (len bytes) into dst; false past its end. */
static bool
pgm_get(const char *buf, Size len, Size *off, void *dst, Size n)
{
	if (n > len - *off)
		return false;
	memcpy(dst, buf + *off, n);
	*off += n;
	return true;
}

/* Reads a NUL-terminated text at *off into dst of size bytes; false when malformed. */
static bool
pgm_get_text(const char *buf, Size len, Size *off, char *dst, Size size)
{
	Size		n = strnlen(buf + *off, Min(len - *off, size));

	if (n >= size || *off + n >= len)
		return false;
	memcpy(dst, buf + *off, n + 1);
	*off += n + 1;
	return true;
}

/*
 * Fills the checks of eval from the len bytes of buf pgm_serialize_checks()
 * wrote; false when they are not an evaluation's.
 */
static bool
pgm_deserialize_checks(const char *buf, Size len, PgmEvaluation *eval)
{
	Size		off = 0;
	int			i;

	for (i = 0; i < PGMAINT_NCHECKS; i++)
	{
		PgmCheckResult *r = &eval->checks[i];
		uint8		flags;

		if (!pgm_get(buf, len, &off, &flags, sizeof(flags)) ||
			!pgm_get(buf, len, &off, &r->hint, sizeof(r->hint)) ||
			!pgm_get_text(buf, len, &off, r->value, sizeof(r->value)) ||
			!pgm_get_text(buf, len, &off, r->message, sizeof(r->message)) ||
			!pgm_get_text(buf, len, &off, r->hint_arg, sizeof(r->hint_arg)))
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
	StringInfoData buf;
	Size		len;
	int			i;

	if (pgm_health_shared == NULL)
		return;
	initStringInfo(&buf);
	pgm_serialize_checks(eval, &buf);
	len = buf.len <= PGMAINT_HEALTH_SLOT_BYTES ? buf.len : 0;

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
							  s->measured_at < slot->measured_at)))
			slot = s;
	}
	slot->datid = eval->datid;
	slot->since = *since;
	slot->measured_at = eval->measured_at;
	slot->period_s = eval->period_s;
	slot->len = len;
	memcpy(slot->checks, buf.data, len);
	LWLockRelease(pgm_health_shared->lock);

	/* said once a worker, then at DEBUG1 */
	if (len == 0)
	{
		ereport(pgm_overflow_logged ? DEBUG1 : LOG,
				(errmsg("pgmaint: the health evaluation of the database with OID %u does not fit in shared memory",
						eval->datid),
				 errdetail("It takes %d bytes, more than %d; health() measures in the session instead.",
						   buf.len, PGMAINT_HEALTH_SLOT_BYTES)));
		pgm_overflow_logged = true;
	}
	else
		elog(DEBUG2, "pgmaint: the health evaluation of the database with OID %u takes %zu of %d bytes",
			 eval->datid, len, PGMAINT_HEALTH_SLOT_BYTES);
	pfree(buf.data);
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
	TimestampTz measured_at = 0;
	int32		period_s = 0;
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
			memcpy(buf, s->checks, len);
			slot_since = s->since;
			measured_at = s->measured_at;
			period_s = s->period_s;
			found = len > 0;
			break;
		}
	}
	LWLockRelease(pgm_health_shared->lock);

	if (found)
	{
		memset(eval, 0, sizeof(PgmEvaluation));
		eval->datid = datid;
		eval->measured_at = measured_at;
		eval->period_s = period_s;
		found = pgm_deserialize_checks(buf, len, eval);
	}
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

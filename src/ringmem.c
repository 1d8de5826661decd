/*-------------------------------------------------------------------------
 *
 * ringmem.c
 *	  The memory of the database workers' rings of samples: one dynamic
 *	  shared memory segment per slot that has a worker sampling, so the
 *	  static shared memory holds only the header and the slots (slots.h).
 *
 * Lifetime.  A slot's worker creates its ring at its first sample (in the
 * sample step, so that a failure is caught and reported like any other),
 * pins the segment and publishes its handle in the slot (PgmSlot.ring:
 * pgm_ring_ensure() in slots.c, which keeps the slots; this file knows the
 * segments only, and of the settings their number and size).
 * The segment outlives the worker: its next worker finds the handle and
 * maps the same ring, samples and all.  The launcher unpins it when it frees
 * the slot (database dropped, extension dropped); the next database given
 * the slot starts with no ring.  After a crash reset the postmaster destroys
 * every segment and the slots are zeroed (no handle), so no stale handle is
 * ever used.
 *
 * Mappings.  Each process maps a ring once (dsm_pin_mapping: for the life of
 * the process) and keeps it in a local array per slot together with the
 * handle it was mapped for; a slot whose handle has changed since (freed and
 * given again) has its old mapping detached and the new ring mapped.
 *
 * Locking.  dsm_create() and dsm_attach() can ERROR and allocate, so they
 * never run under the slots' LWLock: callers read the handle under the lock,
 * release it, map the ring here, and check under the lock again that the
 * slot's handle is still the one mapped before they touch the ring.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/dsm.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "slots.h"

/* This process' mapping of one slot's ring */
typedef struct PgmRingMapping
{
	dsm_handle	handle;			/* the ring it maps, DSM_HANDLE_INVALID: none */
	dsm_segment *seg;
} PgmRingMapping;

/* This process' mappings, by slot (allocated at the first use) */
static PgmRingMapping *pgm_ring_mappings = NULL;

static PgmRingMapping *pgm_ring_mapping_of(int slot);

/* The bytes of one slot's ring (its segment): pgmaint.history_size samples. */
Size
pgm_slot_ring_bytes(void)
{
	return mul_size(sizeof(PgmSample), pgm_history_size);
}

/* The mapping entry of slot in this process, the array made on first use. */
static PgmRingMapping *
pgm_ring_mapping_of(int slot)
{
	Assert(slot >= 0 && slot < pgm_max_databases);
	if (pgm_ring_mappings == NULL)
		pgm_ring_mappings = MemoryContextAllocZero(TopMemoryContext,
												   sizeof(PgmRingMapping) * pgm_max_databases);
	return &pgm_ring_mappings[slot];
}

/*
 * The ring of slot whose handle (read under the lock) is handle, mapped in
 * this process; NULL when there is none (no handle, or the segment is gone).
 * Call without the lock, and check the handle under it before using the ring.
 */
PgmSample *
pgm_slot_ring_map(int slot, dsm_handle handle)
{
	PgmRingMapping *m = pgm_ring_mapping_of(slot);
	dsm_segment *seg;

	if (m->seg != NULL && m->handle == handle)
		return (PgmSample *) dsm_segment_address(m->seg);

	/* the slot was freed and given again since: let the old ring go */
	if (m->seg != NULL)
		dsm_detach(m->seg);
	m->seg = NULL;
	m->handle = DSM_HANDLE_INVALID;
	if (handle == DSM_HANDLE_INVALID)
		return NULL;

	seg = dsm_find_mapping(handle);
	if (seg == NULL)
	{
		seg = dsm_attach(handle);
		if (seg == NULL)
			return NULL;
		dsm_pin_mapping(seg);
	}
	m->seg = seg;
	m->handle = handle;
	if (dsm_segment_map_length(seg) < pgm_slot_ring_bytes())
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("ring of samples of pgmaint slot %d is smaller than expected", slot)));
	return (PgmSample *) dsm_segment_address(seg);
}

/*
 * Makes a ring for slot: creates and pins a segment of pgm_slot_ring_bytes(),
 * kept mapped in this process, and returns its handle.  Call without the
 * lock; it can ERROR (no segment left, no memory).
 */
dsm_handle
pgm_slot_ring_create(int slot, const char *datname)
{
	PgmRingMapping *m = pgm_ring_mapping_of(slot);
	dsm_segment *seg;

	seg = dsm_create(pgm_slot_ring_bytes(), DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create the ring of samples of database \"%s\"", datname),
				 errdetail("Every dynamic shared memory segment of the server is in use."),
				 errhint("The worker tries again at its next sample; a higher \"max_connections\" lets the server have more segments.")));
	dsm_pin_segment(seg);
	dsm_pin_mapping(seg);
	if (m->seg != NULL)
		dsm_detach(m->seg);
	m->seg = seg;
	m->handle = dsm_segment_handle(seg);
	return m->handle;
}

/* Lets go of a ring pgm_slot_ring_create() made that the slot did not take. */
void
pgm_slot_ring_discard(int slot, dsm_handle handle)
{
	PgmRingMapping *m = pgm_ring_mapping_of(slot);

	dsm_unpin_segment(handle);
	if (m->seg != NULL && m->handle == handle)
	{
		dsm_detach(m->seg);
		m->seg = NULL;
		m->handle = DSM_HANDLE_INVALID;
	}
}

/* Lets the ring of a freed slot go (its handle taken out of the slot; call without the lock). */
void
pgm_slot_ring_free(dsm_handle handle)
{
	if (handle != DSM_HANDLE_INVALID)
		dsm_unpin_segment(handle);
}

/*-------------------------------------------------------------------------
 *
 * slots.h
 *	  The shared memory of the database workers, as slots.c, ringmem.c and
 *	  ring.c see it: one slot per database worker (the launcher's control of
 *	  it, the worker's status, the handle of its ring of samples, its last
 *	  table figures and its task counters) behind a header that the
 *	  launcher, the workers and the sessions share (the server-wide role, the
 *	  server-wide part of the last sample, the requests sent to the launcher,
 *	  the databases left without a worker).  The rings themselves are dynamic
 *	  shared memory segments, one per slot whose worker samples (ringmem.c).
 *	  Other files use the functions of pgmaint.h.
 *
 * Locking.  One LWLock guards the header and every slot.  Each writer takes
 * it exclusively for a few assignments or a memcpy; readers take it shared
 * and copy into memory they allocated before, so that nothing that can
 * ERROR runs while it is held.  A ring is mapped (pgm_slot_ring_map) without
 * the lock, from the handle read under it, and used only under the lock
 * after checking that the slot's handle is still the one mapped.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMAINT_SLOTS_H
#define PGMAINT_SLOTS_H

#include "pgmaint.h"
#include "storage/dsm.h"
#include "storage/lwlock.h"

/* Requests a session can queue for the launcher before it takes them */
#define PGMAINT_MAX_REQUESTS		32

/* Databases left without a worker that the header names (it counts them all) */
#define PGMAINT_MAX_UNSAMPLED		32

/* The runs of one task of a worker */
typedef struct PgmTaskRuns
{
	int64		runs;
	TimestampTz last_run;		/* when the last run ended, 0 before the first */
} PgmTaskRuns;

/* One database worker's slot */
typedef struct PgmSlot
{
	/* the launcher's: the database, and the worker it started last */
	Oid			datid;			/* InvalidOid: the slot is free */
	NameData	datname;
	uint32		generation;		/* of the worker started last */
	PgmSlotState state;
	PgmWorkerOutcome outcome;	/* why the last worker exited */

	/* set by the launcher and by sessions, read by the worker */
	bool		stop_requested; /* exit now, quietly */
	bool		recheck;		/* look again whether pgmaint is installed */
	TimestampTz hold_until;		/* no worker before then: a command needs the database */
	int			hold_pid;		/* the session that holds it */

	/* the worker's */
	bool		has_pgmaint;	/* it found the extension: it samples */
	bool		connected;		/* it is connected to the database */
	PgmStatus	status;
	PgmTableSample tables;		/* table-level figures of the last sample */
	dsm_handle	ring;			/* its ring's segment (ringmem.c), or
								 * DSM_HANDLE_INVALID before the first sample */
	int			count;			/* samples in the ring, up to capacity */
	int			next;			/* where the next sample goes */
	PgmTaskRuns tasks[PGMAINT_NTASKS];
} PgmSlot;

/* A database left without a worker */
typedef struct PgmUnsampled
{
	Oid			datid;
	NameData	datname;
	PgmUnsampledReason reason;
} PgmUnsampled;

/* The header and the slots (the rings are segments of their own, ringmem.c) */
typedef struct PgmShared
{
	LWLock	   *lock;
	int			nslots;			/* pgmaint.max_databases, as bounded at start */
	int			capacity;		/* samples in each ring (pgmaint.history_size) */

	/* the launcher */
	pid_t		launcher_pid;	/* 0 when it does not run */
	TimestampTz launcher_started_at;
	int			nrequests;
	Oid			requests[PGMAINT_MAX_REQUESTS];
	bool		request_all;	/* more requests than fit: look at every database */

	/* what the launcher decided */
	Oid			server_datid;	/* whose worker runs the server-wide steps */
	int			nunsampled;		/* databases left without a worker, all of them */
	PgmUnsampled unsampled[PGMAINT_MAX_UNSAMPLED];

	/* the server-wide part of the last sample of the server-wide worker */
	PgmSample	server;

	PgmSlot		slots[FLEXIBLE_ARRAY_MEMBER];
} PgmShared;

/* The shared memory (slots.c), NULL without preloading */
extern PgmShared *pgm_shared;

/* The slot of this worker process (slots.c), -1 elsewhere */
extern int	pgm_my_slot;

/* The ring of a slot, mapped in this process (ringmem.c; call without the lock) */
extern PgmSample *pgm_slot_ring_map(int slot, dsm_handle handle);

/* A new ring for a slot, mapped here, and its handle (ringmem.c; without the lock) */
extern dsm_handle pgm_slot_ring_create(int slot, const char *datname);

/* Lets go of a ring the slot did not take (ringmem.c; without the lock) */
extern void pgm_slot_ring_discard(int slot, dsm_handle handle);

/* Lets the ring of a freed slot go (ringmem.c; call without the lock) */
extern void pgm_slot_ring_free(dsm_handle handle);

/* The slot of database datid, or -1 (call with the lock held) */
extern int	pgm_slot_of_locked(Oid datid);

#endif							/* PGMAINT_SLOTS_H */

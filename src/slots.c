/*-------------------------------------------------------------------------
 *
 * slots.c
 *	  The shared memory of the database workers (see slots.h): its creation,
 *	  the launcher's control of the slots, a worker's attachment to its
 *	  slot, the holds and requests sessions send, the server-wide role and
 *	  the server-wide part of the sample, and pgmaint.workers().
 *
 * A slot belongs to one database from the launcher's pgm_slot_assign()
 * until its pgm_slot_release(): through every restart of its worker, so the
 * ring (a segment of its own, ringmem.c) keeps its samples when a worker is
 * terminated; pgm_slot_release() lets the ring go.  Each start bumps the
 * slot's generation; a worker attaches only to the slot and generation the
 * launcher gave it, so a worker registered by an earlier launcher, or for a
 * database whose slot has been given away since, exits at once.
 *
 * Holds.  A session about to run a command that needs no other session in a
 * database (DROP DATABASE, ALTER DATABASE ... RENAME or SET TABLESPACE,
 * CREATE DATABASE ... TEMPLATE) holds that database's slot: its worker is
 * asked to stop and none is started until the session's transaction ends
 * (or, should that session die, until the hold expires).
 *
 * The launcher is told about changes through a short queue of database
 * OIDs and its latch; workers through flags in their slot and their latch.
 * Latches are set after the lock is released.
 *
 * SQL served: workers() (sql/code/10-sampler.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "slots.h"

/* Name of the shared memory struct and of the LWLock tranche */
#define PGMAINT_SHMEM_NAME		"pgmaint ring"
#define PGMAINT_TRANCHE_NAME	"pgmaint"

/* Columns of pgmaint.workers() */
#define PGMAINT_WORKERS_COLS	11

PgmShared  *pgm_shared = NULL;
int			pgm_my_slot = -1;

/* The tasks' names, by PgmTaskId: workers() shows their runs under them */
static const char *const pgm_task_names[PGMAINT_NTASKS] = {
	[PGMAINT_TASK_SAMPLE] = "sample",
	[PGMAINT_TASK_POLICY] = "policy",
	[PGMAINT_TASK_SPACE] = "space",
	[PGMAINT_TASK_RETENTION] = "retention",
	[PGMAINT_TASK_EVENTS] = "events",
};

PG_FUNCTION_INFO_V1(pgmaint_workers);

static void pgm_set_latch_of(pid_t pid);
static const char *pgm_slot_state_text(const PgmSlot *slot, TimestampTz now);

/* Bytes of shared memory of the header and the slots (the rings are segments, ringmem.c). */
static Size
pgm_slots_shmem_size(void)
{
	return add_size(offsetof(PgmShared, slots),
					mul_size(sizeof(PgmSlot), pgm_max_databases));
}

/* Asks the postmaster for the slots' memory and lock (shmem_request_hook). */
void
pgm_slots_request_shmem(void)
{
	RequestAddinShmemSpace(pgm_slots_shmem_size());
	RequestNamedLWLockTranche(PGMAINT_TRANCHE_NAME, 1);
}

/* Creates or attaches to the slots (shmem_startup_hook). */
void
pgm_slots_startup_shmem(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgm_shared = ShmemInitStruct(PGMAINT_SHMEM_NAME, pgm_slots_shmem_size(), &found);
	if (!found)
	{
		/* no slot has a ring, also after a crash reset (the postmaster destroyed them) */
		StaticAssertStmt(DSM_HANDLE_INVALID == 0, "zeroed slots must have no ring");
		memset(pgm_shared, 0, pgm_slots_shmem_size());
		pgm_shared->lock = &(GetNamedLWLockTranche(PGMAINT_TRANCHE_NAME))->lock;
		pgm_shared->nslots = pgm_max_databases;
		pgm_shared->capacity = pgm_history_size;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Number of slots (pgmaint.max_databases as bounded at start), 0 without preloading. */
int
pgm_slots_count(void)
{
	return pgm_shared ? pgm_shared->nslots : 0;
}

/* The name of a task. */
const char *
pgm_task_name(PgmTaskId task)
{
	Assert(task >= 0 && task < PGMAINT_NTASKS);
	return pgm_task_names[task];
}

/* Why a database has no worker, in words (the one home of these texts). */
const char *
pgm_unsampled_text(PgmUnsampledReason reason)
{
	if (reason == PGMAINT_UNSAMPLED_NO_BGWORKER)
		return psprintf("no background worker slot was free (max_worker_processes = %d)",
						max_worker_processes);
	return psprintf("pgmaint.max_databases (%d) database workers run already",
					pgm_slots_count());
}

/* The slot of database datid, or -1; call with the lock held. */
int
pgm_slot_of_locked(Oid datid)
{
	int			i;

	if (!OidIsValid(datid))
		return -1;
	for (i = 0; i < pgm_shared->nslots; i++)
	{
		if (pgm_shared->slots[i].datid == datid)
			return i;
	}
	return -1;
}

/* Sets the latch of the process pid, if it still runs (call without the lock). */
static void
pgm_set_latch_of(pid_t pid)
{
	PGPROC	   *proc;

	if (pid == 0)
		return;
	proc = BackendPidGetProc(pid);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/* --- the launcher --- */

/* Records this process as the launcher; false when another one runs. */
bool
pgm_launcher_attach(void)
{
	bool		ok = false;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (pgm_shared->launcher_pid == 0 || BackendPidGetProc(pgm_shared->launcher_pid) == NULL)
	{
		pgm_shared->launcher_pid = MyProcPid;
		pgm_shared->launcher_started_at = GetCurrentTimestamp();
		ok = true;
	}
	LWLockRelease(pgm_shared->lock);
	return ok;
}

/* Forgets the launcher (its exit callback). */
void
pgm_launcher_detach(void)
{
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (pgm_shared->launcher_pid == MyProcPid)
		pgm_shared->launcher_pid = 0;
	LWLockRelease(pgm_shared->lock);
}

/*
 * Takes the databases sessions asked the launcher to look at again (at most
 * max into out); *all is true when more were asked for than the queue held.
 */
int
pgm_launcher_take_requests(Oid *out, int max, bool *all)
{
	int			n;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	n = Min(pgm_shared->nrequests, max);
	memcpy(out, pgm_shared->requests, sizeof(Oid) * n);
	*all = pgm_shared->request_all || pgm_shared->nrequests > max;
	pgm_shared->nrequests = 0;
	pgm_shared->request_all = false;
	LWLockRelease(pgm_shared->lock);
	return n;
}

/*
 * Gives database datid a free slot, without a ring (its worker makes one);
 * returns the slot, or -1 when every slot is taken.
 */
int
pgm_slot_assign(Oid datid, const char *datname)
{
	int			found = -1;
	int			i;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	found = pgm_slot_of_locked(datid);
	for (i = 0; found < 0 && i < pgm_shared->nslots; i++)
	{
		if (!OidIsValid(pgm_shared->slots[i].datid))
			found = i;
	}
	if (found >= 0 && pgm_shared->slots[found].datid != datid)
	{
		PgmSlot    *slot = &pgm_shared->slots[found];
		uint32		generation = slot->generation;

		/* a free slot has no ring: pgm_slot_release() let it go */
		Assert(slot->ring == DSM_HANDLE_INVALID);
		memset(slot, 0, sizeof(PgmSlot));
		slot->generation = generation;
		slot->datid = datid;
		namestrcpy(&slot->datname, datname);
		slot->state = PGMAINT_SLOT_EXITED;
		slot->outcome = PGMAINT_OUTCOME_STOPPED;
	}
	LWLockRelease(pgm_shared->lock);
	return found;
}

/* Frees a slot whose worker is gone (the launcher's decision), and its ring. */
void
pgm_slot_release(int slot)
{
	dsm_handle	ring;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pgm_shared->slots[slot].datid = InvalidOid;
	pgm_shared->slots[slot].state = PGMAINT_SLOT_FREE;
	ring = pgm_shared->slots[slot].ring;
	pgm_shared->slots[slot].ring = DSM_HANDLE_INVALID;
	LWLockRelease(pgm_shared->lock);
	pgm_slot_ring_free(ring);
}

/*
 * Prepares the start of a worker in a slot: a new generation, state
 * starting, the flags of the last worker cleared; returns the generation.
 */
uint32
pgm_slot_prepare_start(int slot, const char *datname)
{
	PgmSlot    *s = &pgm_shared->slots[slot];
	uint32		generation;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	generation = ++s->generation;
	namestrcpy(&s->datname, datname);
	s->state = PGMAINT_SLOT_STARTING;
	s->outcome = PGMAINT_OUTCOME_FAILED;
	s->stop_requested = false;
	s->recheck = false;
	s->connected = false;
	LWLockRelease(pgm_shared->lock);
	return generation;
}

/* Marks a start that never attached as failed (its worker stopped before). */
void
pgm_slot_start_failed(int slot, uint32 generation)
{
	PgmSlot    *s = &pgm_shared->slots[slot];

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (s->generation == generation && s->state == PGMAINT_SLOT_STARTING)
	{
		s->state = PGMAINT_SLOT_EXITED;
		s->outcome = PGMAINT_OUTCOME_FAILED;
	}
	LWLockRelease(pgm_shared->lock);
}

/* Copies what the launcher needs of a slot. */
void
pgm_slot_control(int slot, PgmSlotControl *out)
{
	PgmSlot    *s = &pgm_shared->slots[slot];
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	out->datid = s->datid;
	out->datname = s->datname;
	out->generation = s->generation;
	out->state = s->state;
	out->outcome = s->outcome;
	out->has_pgmaint = s->has_pgmaint;
	out->held = s->hold_until > now;
	out->pid = s->status.pid;
	out->last_sample_at = s->status.last_sample_at;
	LWLockRelease(pgm_shared->lock);
}

/* Asks a slot's worker to exit (quietly, at its next check). */
void
pgm_slot_request_stop(int slot)
{
	pid_t		pid;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pgm_shared->slots[slot].stop_requested = true;
	pid = pgm_shared->slots[slot].status.pid;
	LWLockRelease(pgm_shared->lock);
	pgm_set_latch_of(pid);
}

/* Asks a slot's worker to look again whether pgmaint is installed. */
void
pgm_slot_request_recheck(int slot)
{
	pid_t		pid;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pgm_shared->slots[slot].recheck = true;
	pid = pgm_shared->slots[slot].status.pid;
	LWLockRelease(pgm_shared->lock);
	pgm_set_latch_of(pid);
}

/* Publishes the launcher's decisions: the server-wide role, the databases left out. */
void
pgm_slots_publish(Oid server_datid, const PgmUnsampledView *unsampled, int n)
{
	int			i;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pgm_shared->server_datid = server_datid;
	pgm_shared->nunsampled = n;
	for (i = 0; i < Min(n, PGMAINT_MAX_UNSAMPLED); i++)
	{
		pgm_shared->unsampled[i].datid = unsampled[i].datid;
		namestrcpy(&pgm_shared->unsampled[i].datname, unsampled[i].datname);
		pgm_shared->unsampled[i].reason = unsampled[i].reason;
	}
	LWLockRelease(pgm_shared->lock);
}

/* --- a database worker --- */

/*
 * Attaches this process to its slot: true when the slot still belongs to
 * datid and waits for this generation's worker; the slot is then running.
 */
bool
pgm_slot_attach(int slot, Oid datid, uint32 generation)
{
	PgmSlot    *s;
	bool		ok = false;

	if (pgm_shared == NULL || slot < 0 || slot >= pgm_shared->nslots)
		return false;
	s = &pgm_shared->slots[slot];
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (s->datid == datid && s->generation == generation &&
		s->state == PGMAINT_SLOT_STARTING)
	{
		s->state = PGMAINT_SLOT_RUNNING;
		s->outcome = PGMAINT_OUTCOME_FAILED;
		s->connected = false;
		s->status.pid = MyProcPid;
		s->status.started_at = GetCurrentTimestamp();
		s->status.connected_at = 0;
		ok = true;
	}
	LWLockRelease(pgm_shared->lock);
	if (ok)
		pgm_my_slot = slot;
	return ok;
}

/* Marks this worker's slot exited and tells the launcher (the worker's exit callback). */
void
pgm_slot_worker_exit(void)
{
	PgmSlot    *s;
	pid_t		launcher;

	if (pgm_my_slot < 0)
		return;
	s = &pgm_shared->slots[pgm_my_slot];
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (s->status.pid == MyProcPid)
	{
		s->state = PGMAINT_SLOT_EXITED;
		s->status.pid = 0;
		s->status.connected_at = 0;
		s->connected = false;
	}
	launcher = pgm_shared->launcher_pid;
	LWLockRelease(pgm_shared->lock);
	pgm_my_slot = -1;
	pgm_set_latch_of(launcher);
}

/* Sets why this worker is about to exit (no pgmaint: the slot no longer has it). */
void
pgm_slot_set_outcome(PgmWorkerOutcome outcome)
{
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pgm_shared->slots[pgm_my_slot].outcome = outcome;
	if (outcome == PGMAINT_OUTCOME_NO_EXTENSION)
		pgm_shared->slots[pgm_my_slot].has_pgmaint = false;
	LWLockRelease(pgm_shared->lock);
}

/* True when this worker must exit: it was asked to, or a session holds its database. */
bool
pgm_slot_must_stop(void)
{
	PgmSlot    *s = &pgm_shared->slots[pgm_my_slot];
	TimestampTz now = GetCurrentTimestamp();
	bool		stop;

	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	stop = s->stop_requested || s->hold_until > now;
	LWLockRelease(pgm_shared->lock);
	return stop;
}

/* True (once) when this worker was asked to look again whether pgmaint is installed. */
bool
pgm_slot_take_recheck(void)
{
	PgmSlot    *s = &pgm_shared->slots[pgm_my_slot];
	bool		recheck;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	recheck = s->recheck;
	s->recheck = false;
	LWLockRelease(pgm_shared->lock);
	return recheck;
}

/* Counts a run of a task of this worker, ended now. */
void
pgm_slot_task_ran(PgmTaskId task)
{
	PgmSlot    *s = &pgm_shared->slots[pgm_my_slot];
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	s->tasks[task].runs++;
	s->tasks[task].last_run = now;
	LWLockRelease(pgm_shared->lock);
}

/*
 * Gives this worker's slot its ring when it has none (at its first sample);
 * only the slot's own worker does, and the launcher frees it after the
 * worker.  Call without the lock; it can ERROR.
 */
void
pgm_ring_ensure(void)
{
	PgmSlot    *s = &pgm_shared->slots[pgm_my_slot];
	dsm_handle	handle;
	bool		published = false;

	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	handle = s->ring;
	LWLockRelease(pgm_shared->lock);
	if (handle != DSM_HANDLE_INVALID)
		return;

	handle = pgm_slot_ring_create(pgm_my_slot, pgm_slot_datname());
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (s->ring == DSM_HANDLE_INVALID && s->status.pid == MyProcPid)
	{
		s->ring = handle;
		s->count = 0;
		s->next = 0;
		published = true;
	}
	LWLockRelease(pgm_shared->lock);
	if (!published)
		pgm_slot_ring_discard(pgm_my_slot, handle);
}

/* The name of this worker's database, as the launcher last saw it (the worker's own memory). */
const char *
pgm_slot_datname(void)
{
	NameData	name;

	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	name = pgm_shared->slots[pgm_my_slot].datname;
	LWLockRelease(pgm_shared->lock);
	return pstrdup(NameStr(name));
}

/* The database whose worker runs the server-wide steps (InvalidOid: none). */
Oid
pgm_server_datid(void)
{
	Oid			datid;

	if (pgm_shared == NULL)
		return InvalidOid;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	datid = pgm_shared->server_datid;
	LWLockRelease(pgm_shared->lock);
	return datid;
}

/* Publishes the server-wide worker's last sample, for the other workers. */
void
pgm_server_part_publish(const PgmSample *sample)
{
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pgm_shared->server = *sample;
	LWLockRelease(pgm_shared->lock);
}

/*
 * Copies the server-wide worker's last sample into out; true when there is
 * one taken within max_age_us.
 */
bool
pgm_server_part_read(PgmSample *out, int64 max_age_us)
{
	if (pgm_shared == NULL)
		return false;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	*out = pgm_shared->server;
	LWLockRelease(pgm_shared->lock);
	return out->sampled_at != 0 && GetCurrentTimestamp() - out->sampled_at <= max_age_us;
}

/* --- sessions --- */

/*
 * Asks the launcher to look at database datid again (a database or
 * pgmaint was created, dropped or changed there) and wakes it.
 */
void
pgm_launcher_request(Oid datid)
{
	pid_t		launcher;
	int			i;
	bool		queued = false;

	if (pgm_shared == NULL)
		return;
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < pgm_shared->nrequests; i++)
		queued = queued || pgm_shared->requests[i] == datid;
	if (!queued)
	{
		if (pgm_shared->nrequests < PGMAINT_MAX_REQUESTS)
			pgm_shared->requests[pgm_shared->nrequests++] = datid;
		else
			pgm_shared->request_all = true;
	}
	launcher = pgm_shared->launcher_pid;
	LWLockRelease(pgm_shared->lock);
	pgm_set_latch_of(launcher);
}

/*
 * Holds database datid for seconds: its worker is asked to stop and none is
 * started until pgm_slots_unhold() or the hold's end.  False when the
 * database has no slot (no worker to keep out: a worker the launcher starts
 * meanwhile waits for the command's lock on the database).
 */
bool
pgm_slots_hold(Oid datid, int seconds)
{
	int			i;
	pid_t		pid = 0;
	pid_t		launcher;

	if (pgm_shared == NULL)
		return false;
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	i = pgm_slot_of_locked(datid);
	if (i >= 0)
	{
		PgmSlot    *s = &pgm_shared->slots[i];

		s->hold_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), seconds * 1000);
		s->hold_pid = MyProcPid;
		pid = s->status.pid;
	}
	launcher = pgm_shared->launcher_pid;
	LWLockRelease(pgm_shared->lock);
	pgm_set_latch_of(pid);
	pgm_set_latch_of(launcher);
	return i >= 0;
}

/* The pid of the worker connected to database datid, 0 when none is. */
pid_t
pgm_slots_connected_pid(Oid datid)
{
	pid_t		pid = 0;
	int			i;

	if (pgm_shared == NULL)
		return 0;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	i = pgm_slot_of_locked(datid);
	if (i >= 0 && pgm_shared->slots[i].connected)
		pid = pgm_shared->slots[i].status.pid;
	LWLockRelease(pgm_shared->lock);
	return pid;
}

/* Ends this session's hold of database datid, and wakes the launcher. */
void
pgm_slots_unhold(Oid datid)
{
	int			i;

	if (pgm_shared == NULL)
		return;
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	i = pgm_slot_of_locked(datid);
	if (i >= 0 && pgm_shared->slots[i].hold_pid == MyProcPid)
	{
		pgm_shared->slots[i].hold_until = 0;
		pgm_shared->slots[i].hold_pid = 0;
	}
	LWLockRelease(pgm_shared->lock);
	pgm_launcher_request(datid);
}

/* --- readers --- */

/* True when the launcher runs. */
bool
pgm_launcher_running(void)
{
	pid_t		pid;

	if (pgm_shared == NULL)
		return false;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	pid = pgm_shared->launcher_pid;
	LWLockRelease(pgm_shared->lock);
	return pid != 0;
}

/*
 * Copies up to max of the databases left without a worker into out;
 * returns how many there are (all of them, which may be more than max).
 */
int
pgm_slots_unsampled(PgmUnsampledView *out, int max)
{
	int			n;
	int			i;

	if (pgm_shared == NULL)
		return 0;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	n = pgm_shared->nunsampled;
	for (i = 0; i < Min(Min(n, max), PGMAINT_MAX_UNSAMPLED); i++)
	{
		out[i].datid = pgm_shared->unsampled[i].datid;
		strlcpy(out[i].datname, NameStr(pgm_shared->unsampled[i].datname), NAMEDATALEN);
		out[i].reason = pgm_shared->unsampled[i].reason;
	}
	LWLockRelease(pgm_shared->lock);
	return n;
}

/* The state of a slot's worker in words, as workers() shows it. */
static const char *
pgm_slot_state_text(const PgmSlot *slot, TimestampTz now)
{
	switch (slot->state)
	{
		case PGMAINT_SLOT_STARTING:
			return "starting";
		case PGMAINT_SLOT_RUNNING:
			if (!slot->connected)
				return "starting";
			return slot->has_pgmaint ? "sampling" : "looking";
		case PGMAINT_SLOT_EXITED:
			if (slot->hold_until > now)
				return "held";
			if (slot->outcome == PGMAINT_OUTCOME_NO_EXTENSION)
				return "no pgmaint";
			if (slot->outcome == PGMAINT_OUTCOME_STOPPED)
				return "stopped";
			return "restarting";
		case PGMAINT_SLOT_FREE:
			break;
	}
	return "free";
}

/*
 * SQL pgmaint.workers(): one row per database worker (every slot in use)
 * and per database left without one, with the worker's status and its
 * tasks' runs.  Without preloading, no row.
 */
Datum
pgmaint_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmShared  *copy;
	Size		head;
	TimestampTz now = GetCurrentTimestamp();
	int			i;
	int			t;

	InitMaterializedSRF(fcinfo, 0);
	if (pgm_shared == NULL)
		return (Datum) 0;

	/* the header and the slots */
	head = offsetof(PgmShared, slots) + sizeof(PgmSlot) * pgm_shared->nslots;
	copy = palloc(head);
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	memcpy(copy, pgm_shared, head);
	LWLockRelease(pgm_shared->lock);

	for (i = 0; i < copy->nslots; i++)
	{
		PgmSlot    *s = &copy->slots[i];
		Datum		values[PGMAINT_WORKERS_COLS];
		bool		nulls[PGMAINT_WORKERS_COLS];
		StringInfoData runs;
		StringInfoData last;

		if (!OidIsValid(s->datid))
			continue;
		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(NameStr(s->datname));
		values[1] = ObjectIdGetDatum(s->datid);
		values[2] = CStringGetTextDatum(pgm_slot_state_text(s, now));
		values[3] = BoolGetDatum(s->datid == copy->server_datid);
		values[4] = Int32GetDatum(s->status.pid);
		nulls[4] = s->status.pid == 0;
		values[5] = TimestampTzGetDatum(s->status.started_at);
		nulls[5] = s->status.started_at == 0;
		values[6] = TimestampTzGetDatum(s->status.last_sample_at);
		nulls[6] = s->status.last_sample_at == 0;
		values[7] = Int64GetDatum(s->status.samples_taken);
		values[8] = CStringGetTextDatum(s->status.last_error);
		nulls[8] = s->status.last_error[0] == '\0';

		initStringInfo(&runs);
		initStringInfo(&last);
		appendStringInfoChar(&runs, '{');
		appendStringInfoChar(&last, '{');
		for (t = 0; t < PGMAINT_NTASKS; t++)
		{
			if (t > 0)
			{
				appendStringInfoString(&runs, ", ");
				appendStringInfoString(&last, ", ");
			}
			escape_json(&runs, pgm_task_names[t]);
			appendStringInfo(&runs, ": " INT64_FORMAT, s->tasks[t].runs);
			escape_json(&last, pgm_task_names[t]);
			appendStringInfoString(&last, ": ");
			if (s->tasks[t].last_run != 0)
				escape_json(&last, timestamptz_to_str(s->tasks[t].last_run));
			else
				appendStringInfoString(&last, "null");
		}
		appendStringInfoChar(&runs, '}');
		appendStringInfoChar(&last, '}');
		values[9] = DirectFunctionCall1(jsonb_in, CStringGetDatum(runs.data));
		values[10] = DirectFunctionCall1(jsonb_in, CStringGetDatum(last.data));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	for (i = 0; i < Min(copy->nunsampled, PGMAINT_MAX_UNSAMPLED); i++)
	{
		PgmUnsampled *u = &copy->unsampled[i];
		Datum		values[PGMAINT_WORKERS_COLS];
		bool		nulls[PGMAINT_WORKERS_COLS];

		memset(nulls, true, sizeof(nulls));
		values[0] = CStringGetTextDatum(NameStr(u->datname));
		values[1] = ObjectIdGetDatum(u->datid);
		values[2] = CStringGetTextDatum("unsampled");
		values[3] = BoolGetDatum(false);
		values[7] = Int64GetDatum(0);
		values[8] = CStringGetTextDatum(pgm_unsampled_text(u->reason));
		nulls[0] = nulls[1] = nulls[2] = nulls[3] = nulls[7] = nulls[8] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The pgmaint launcher: a static background worker that reads
 *	  pg_database and keeps one database worker (worker.c) in every
 *	  connectable database that has pgmaint, within pgmaint.max_databases
 *	  (TimescaleDB's launcher and schedulers).
 *
 * The launcher connects to no database: it reads only the shared catalog
 * pg_database, so it never holds a database anyone wants to drop.  It
 * cannot see which databases have pgmaint; so it starts a worker in each
 * connectable database (not template0 or template1) that it has not seen
 * without pgmaint, and a worker that finds no pgmaint exits at once and
 * says so in its slot.  Such a database is not looked at again until a
 * session there commits CREATE EXTENSION (ddlhooks.c sends a request) or,
 * on a hot standby, where WAL replay runs no hook, until
 * PGMAINT_STANDBY_RECHECK seconds have passed.
 *
 * The loop wakes every PGMAINT_LAUNCHER_PERIOD seconds, on a request, and
 * when a worker it started starts or stops (bgw_notify_pid); each wake
 * reads pg_database and reconciles the slots (slots.c) with it:
 *  - a database that is gone, no longer accepts connections or is named
 *    in pgmaint.exclude_databases loses its worker and its slot;
 *  - a worker that failed (an error, pg_terminate_backend()) is started
 *    again after PGMAINT_RESTART_SECONDS, doubling up to
 *    PGMAINT_MAX_BACKOFF while it keeps failing before its first sample;
 *  - a worker that stopped because a session holds its database (DROP
 *    DATABASE and the like) is started again once the hold ends;
 *  - a database without a slot gets a free one and a worker.  When every
 *    slot is taken by a worker of a database with pgmaint, the databases
 *    left out are named in a WARNING (when the set changes) and in shared
 *    memory, for the databases_unsampled check and pgmaint.workers().
 * Slots taken by workers still looking whether pgmaint is installed are
 * given back within a moment, so a database waiting for one of them is
 * not reported.
 *
 * The server-wide role goes to the worker of pgmaint.database when that
 * database has pgmaint, else to the worker of the database with pgmaint of
 * the lowest OID; it stays with a worker that the launcher is restarting.
 *
 * When the launcher exits, its workers go on; the next launcher adopts
 * them through their slots (a worker that was registered but had not
 * attached gets PGMAINT_ATTACH_TIMEOUT seconds, then its start counts as
 * failed, and a late one finds its generation gone and exits).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"

#include "pgmaint.h"

/* Seconds between two reads of pg_database when nothing wakes the launcher */
#define PGMAINT_LAUNCHER_PERIOD		10

/* Seconds after which a standby looks again at a database found without pgmaint */
#define PGMAINT_STANDBY_RECHECK		60

/* Longest wait before a failing worker is started again, in seconds */
#define PGMAINT_MAX_BACKOFF			300

/* Seconds a worker that ran this long (or took a sample) resets its backoff */
#define PGMAINT_RAN_WELL			60

/* Seconds an adopted worker that never attached may take before its start counts as failed */
#define PGMAINT_ATTACH_TIMEOUT		60

/* A connectable database, as the last read of pg_database showed it */
typedef struct PgmDatabase
{
	Oid			datid;
	char		name[NAMEDATALEN];
} PgmDatabase;

/* What the launcher remembers of a database between two reads */
typedef struct PgmKnown
{
	Oid			datid;			/* hash key */
	bool		no_pgmaint;		/* a worker found no pgmaint there */
	TimestampTz looked_at;		/* when */
	bool		look_again;		/* a session asked: look again */
	bool		seen;			/* in the last read of pg_database */
} PgmKnown;

/* What the launcher keeps about a slot's worker */
typedef struct PgmSlotLocal
{
	BackgroundWorkerHandle *handle; /* NULL for a worker adopted from an earlier launcher */
	uint32		generation;
	TimestampTz registered_at;
	TimestampTz restart_at;		/* 0: no restart planned */
	int			failures;		/* failed runs in a row */
} PgmSlotLocal;

static PgmSlotLocal *pgm_local = NULL;
static HTAB *pgm_known = NULL;
static Oid	pgm_last_server = InvalidOid;
static char *pgm_last_unsampled = NULL;

static void pgm_define_worker(BackgroundWorker *worker, const char *function,
							  const char *name, int restart_time);
static void pgm_launcher_exit(int code, Datum arg);
static void pgm_adopt_slots(void);
static void pgm_take_requests(void);
static int	pgm_read_databases(PgmDatabase **out);
static bool pgm_name_in_list(const char *name, List *list);
static const PgmDatabase *pgm_find_database(const PgmDatabase *dbs, int n, Oid datid);
static TimestampTz pgm_reconcile(const PgmDatabase *dbs, int n, TimestampTz now);
static bool pgm_start_worker(int slot, const PgmDatabase *db, TimestampTz now);
static bool pgm_all_slots_sampling(void);
static Oid	pgm_choose_server(const PgmDatabase *dbs, int n);
static void pgm_report(Oid server, const PgmDatabase *dbs, int ndbs,
					   const PgmUnsampledView *left, int nleft);

/* Registers the launcher (from _PG_init, when preloaded). */
void
pgm_register_launcher(void)
{
	BackgroundWorker worker;

	pgm_define_worker(&worker, "pgmaint_launcher_main", PGMAINT_LAUNCHER_NAME,
					  PGMAINT_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/* Fills in what the launcher and the database workers have in common. */
static void
pgm_define_worker(BackgroundWorker *worker, const char *function,
				  const char *name, int restart_time)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_ConsistentState;
	worker->bgw_restart_time = restart_time;
	strlcpy(worker->bgw_library_name, "pgmaint", BGW_MAXLEN);
	strlcpy(worker->bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker->bgw_name, name, BGW_MAXLEN);
	strlcpy(worker->bgw_type, name, BGW_MAXLEN);
}

/* Entry point of the launcher. */
void
pgmaint_launcher_main(Datum main_arg)
{
	HASHCTL		ctl;
	MemoryContext loop;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* no database: the shared catalogs only (pg_database) */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	if (!pgm_launcher_attach())
		proc_exit(0);
	before_shmem_exit(pgm_launcher_exit, (Datum) 0);

	pgm_local = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(PgmSlotLocal) * pgm_slots_count());
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgmKnown);
	pgm_known = hash_create("pgmaint launcher databases", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	loop = AllocSetContextCreate(TopMemoryContext, "pgmaint launcher loop",
								 ALLOCSET_DEFAULT_SIZES);

	pgm_adopt_slots();
	ereport(LOG,
			(errmsg("pgmaint launcher started: at most %d database workers",
					pgm_slots_count())));

	for (;;)
	{
		PgmDatabase *dbs;
		int			n;
		TimestampTz now;
		TimestampTz wake;
		long		timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loop);
		pgm_take_requests();
		n = pgm_read_databases(&dbs);
		now = GetCurrentTimestamp();
		wake = pgm_reconcile(dbs, n, now);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loop);

		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), wake);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 10), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Exit callback: the workers go on, adopted by the next launcher. */
static void
pgm_launcher_exit(int code, Datum arg)
{
	pgm_launcher_detach();
}

/* Takes over the slots an earlier launcher left (their workers have no handle here). */
static void
pgm_adopt_slots(void)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	for (i = 0; i < pgm_slots_count(); i++)
	{
		PgmSlotControl c;

		pgm_slot_control(i, &c);
		pgm_local[i].generation = c.generation;
		pgm_local[i].registered_at = now;
		if (c.state == PGMAINT_SLOT_EXITED)
			pgm_local[i].restart_at = now;
	}
}

/* Marks the databases sessions asked about for another look. */
static void
pgm_take_requests(void)
{
	Oid			requests[64];
	bool		all;
	int			n = pgm_launcher_take_requests(requests, lengthof(requests), &all);
	int			i;
	HASH_SEQ_STATUS seq;
	PgmKnown   *k;

	for (i = 0; i < n; i++)
	{
		k = hash_search(pgm_known, &requests[i], HASH_FIND, NULL);
		if (k != NULL)
			k->look_again = true;
	}
	if (all)
	{
		hash_seq_init(&seq, pgm_known);
		while ((k = hash_seq_search(&seq)) != NULL)
			k->look_again = true;
	}
	/* a database with a running worker: that worker looks again */
	for (i = 0; i < pgm_slots_count(); i++)
	{
		PgmSlotControl c;

		pgm_slot_control(i, &c);
		if (c.state != PGMAINT_SLOT_RUNNING)
			continue;
		k = hash_search(pgm_known, &c.datid, HASH_FIND, NULL);
		if (all || (k != NULL && k->look_again))
		{
			pgm_slot_request_recheck(i);
			if (k != NULL)
				k->look_again = false;
		}
	}
}

/*
 * Reads the connectable databases from pg_database (in the loop's memory);
 * template0, template1, databases that do not accept connections, invalid
 * ones (an interrupted DROP DATABASE) and those pgmaint.exclude_databases
 * names are left out.
 */
static int
pgm_read_databases(PgmDatabase **out)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	int			n = 0;
	int			size = 16;
	PgmDatabase *dbs = palloc(sizeof(PgmDatabase) * size);
	MemoryContext loop = CurrentMemoryContext;
	List	   *excluded = NIL;

	/* the check hook accepted it: a list of names */
	(void) SplitIdentifierString(pstrdup(pgm_exclude_databases ? pgm_exclude_databases : ""),
								 ',', &excluded);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tuple = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		if (!db->datallowconn ||
			strcmp(NameStr(db->datname), "template0") == 0 ||
			strcmp(NameStr(db->datname), "template1") == 0 ||
			pgm_name_in_list(NameStr(db->datname), excluded))
			continue;
#ifdef DATCONNLIMIT_INVALID_DB
		if (db->datconnlimit == DATCONNLIMIT_INVALID_DB)
			continue;
#endif
		if (n == size)
		{
			MemoryContext old = MemoryContextSwitchTo(loop);

			size *= 2;
			dbs = repalloc(dbs, sizeof(PgmDatabase) * size);
			MemoryContextSwitchTo(old);
		}
		dbs[n].datid = db->oid;
		strlcpy(dbs[n].name, NameStr(db->datname), NAMEDATALEN);
		n++;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(loop);
	*out = dbs;
	return n;
}

/* True when name is one of the names in list. */
static bool
pgm_name_in_list(const char *name, List *list)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		if (strcmp(name, (const char *) lfirst(lc)) == 0)
			return true;
	}
	return false;
}

/* The database datid of the last read, or NULL. */
static const PgmDatabase *
pgm_find_database(const PgmDatabase *dbs, int n, Oid datid)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (dbs[i].datid == datid)
			return &dbs[i];
	}
	return NULL;
}

/*
 * Reconciles the slots with the databases of the last read (see the file
 * header); returns when the launcher should look again at the latest.
 */
static TimestampTz
pgm_reconcile(const PgmDatabase *dbs, int n, TimestampTz now)
{
	TimestampTz wake = TimestampTzPlusMilliseconds(now, PGMAINT_LAUNCHER_PERIOD * 1000);
	int			nslots = pgm_slots_count();
	PgmUnsampledView *left = palloc(sizeof(PgmUnsampledView) * Max(n, 1));
	int			nleft = 0;
	bool		standby = RecoveryInProgress();
	Oid		   *slot_datids = palloc(sizeof(Oid) * Max(nslots, 1));
	HASH_SEQ_STATUS seq;
	PgmKnown   *k;
	int			i;

	hash_seq_init(&seq, pgm_known);
	while ((k = hash_seq_search(&seq)) != NULL)
		k->seen = false;
	for (i = 0; i < n; i++)
	{
		bool		found;

		k = hash_search(pgm_known, &dbs[i].datid, HASH_ENTER, &found);
		if (!found)
		{
			k->no_pgmaint = false;
			k->looked_at = 0;
			k->look_again = false;
		}
		k->seen = true;
	}

	/* the slots in use */
	for (i = 0; i < nslots; i++)
	{
		PgmSlotLocal *l = &pgm_local[i];
		PgmSlotControl c;
		const PgmDatabase *db;

		pgm_slot_control(i, &c);
		if (!OidIsValid(c.datid))
			continue;
		db = pgm_find_database(dbs, n, c.datid);
		k = db ? hash_search(pgm_known, &c.datid, HASH_FIND, NULL) : NULL;

		if (c.state == PGMAINT_SLOT_STARTING)
		{
			pid_t		pid;

			if (l->handle != NULL && c.generation == l->generation)
			{
				BgwHandleStatus st = GetBackgroundWorkerPid(l->handle, &pid);

				if (st == BGWH_POSTMASTER_DIED)
					proc_exit(1);
				if (st == BGWH_STOPPED)
					pgm_slot_start_failed(i, c.generation);
			}
			else if (now - l->registered_at > (int64) PGMAINT_ATTACH_TIMEOUT * USECS_PER_SEC)
				pgm_slot_start_failed(i, c.generation);
			pgm_slot_control(i, &c);
		}

		if (c.state == PGMAINT_SLOT_RUNNING || c.state == PGMAINT_SLOT_STARTING)
		{
			if (db == NULL)
				pgm_slot_request_stop(i);
			continue;
		}

		/* exited: act on why */
		if (l->handle != NULL)
		{
			pfree(l->handle);
			l->handle = NULL;
		}
		if (db == NULL)
		{
			pgm_slot_release(i);
			continue;
		}
		if (c.outcome == PGMAINT_OUTCOME_NO_EXTENSION)
		{
			k->no_pgmaint = true;
			k->looked_at = now;
			k->look_again = false;
			pgm_slot_release(i);
			continue;
		}
		if (c.held)
		{
			wake = Min(wake, TimestampTzPlusMilliseconds(now, 1000));
			continue;
		}
		if (c.outcome == PGMAINT_OUTCOME_STOPPED)
			l->restart_at = now;
		else if (l->restart_at == 0)
		{
			/*
			 * failed: again after a delay, doubled while it keeps failing at
			 * once (a run that sampled, or lasted, did not)
			 */
			if (c.last_sample_at >= l->registered_at ||
				now - l->registered_at > (int64) PGMAINT_RAN_WELL * USECS_PER_SEC)
				l->failures = 0;
			l->failures++;
			l->restart_at = TimestampTzPlusMilliseconds(now,
														Min(PGMAINT_RESTART_SECONDS << Min(l->failures - 1, 8),
															PGMAINT_MAX_BACKOFF) * 1000);
		}
		if (l->restart_at <= now)
			(void) pgm_start_worker(i, db, now);
		else
			wake = Min(wake, l->restart_at);
	}

	/* the databases without a slot */
	for (i = 0; i < nslots; i++)
	{
		PgmSlotControl c;

		pgm_slot_control(i, &c);
		slot_datids[i] = c.datid;
	}
	for (i = 0; i < n; i++)
	{
		const PgmDatabase *db = &dbs[i];
		int			slot;
		int			j;
		bool		has_slot = false;

		for (j = 0; j < nslots && !has_slot; j++)
			has_slot = slot_datids[j] == db->datid;
		if (has_slot)
			continue;
		k = hash_search(pgm_known, &db->datid, HASH_FIND, NULL);
		if (k->no_pgmaint && !k->look_again &&
			!(standby && now - k->looked_at > (int64) PGMAINT_STANDBY_RECHECK * USECS_PER_SEC))
		{
			if (standby)
				wake = Min(wake, TimestampTzPlusMilliseconds(k->looked_at,
															 PGMAINT_STANDBY_RECHECK * 1000));
			continue;
		}
		slot = pgm_slot_assign(db->datid, db->name);
		if (slot < 0)
		{
			/* a slot held by a worker still looking is given back in a moment */
			if (pgm_all_slots_sampling())
			{
				left[nleft].datid = db->datid;
				strlcpy(left[nleft].datname, db->name, NAMEDATALEN);
				left[nleft].reason = PGMAINT_UNSAMPLED_BUDGET;
				nleft++;
			}
			continue;
		}
		pgm_local[slot].failures = 0;
		slot_datids[slot] = db->datid;
		if (!pgm_start_worker(slot, db, now))
		{
			pgm_slot_release(slot);
			left[nleft].datid = db->datid;
			strlcpy(left[nleft].datname, db->name, NAMEDATALEN);
			left[nleft].reason = PGMAINT_UNSAMPLED_NO_BGWORKER;
			nleft++;
			continue;
		}
		k->look_again = false;
	}

	/* forget the databases that are gone */
	hash_seq_init(&seq, pgm_known);
	while ((k = hash_seq_search(&seq)) != NULL)
	{
		if (!k->seen)
			(void) hash_search(pgm_known, &k->datid, HASH_REMOVE, NULL);
	}

	pgm_report(pgm_choose_server(dbs, n), dbs, n, left, nleft);
	return wake;
}

/* Registers a worker for database db in slot; false when no background worker slot is free. */
static bool
pgm_start_worker(int slot, const PgmDatabase *db, TimestampTz now)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	PgmWorkerArg arg;
	uint32		generation = pgm_slot_prepare_start(slot, db->name);
	MemoryContext old;
	bool		ok;

	pgm_define_worker(&worker, "pgmaint_worker_main", PGMAINT_WORKER_NAME,
					  BGW_NEVER_RESTART);
	worker.bgw_main_arg = Int32GetDatum(slot);
	arg.datid = db->datid;
	arg.generation = generation;
	memcpy(worker.bgw_extra, &arg, sizeof(arg));
	worker.bgw_notify_pid = MyProcPid;

	/* the handle outlives the loop's memory */
	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&worker, &handle);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		pgm_slot_start_failed(slot, generation);
		return false;
	}
	pgm_local[slot].handle = handle;
	pgm_local[slot].generation = generation;
	pgm_local[slot].registered_at = now;
	pgm_local[slot].restart_at = 0;
	return true;
}

/* True when every slot belongs to a database where a worker found pgmaint. */
static bool
pgm_all_slots_sampling(void)
{
	int			i;

	for (i = 0; i < pgm_slots_count(); i++)
	{
		PgmSlotControl c;

		pgm_slot_control(i, &c);
		if (!OidIsValid(c.datid) || !c.has_pgmaint)
			return false;
	}
	return true;
}

/*
 * The database whose worker runs the server-wide steps: pgmaint.database
 * when a worker found pgmaint there, else the lowest OID with such a
 * worker; InvalidOid when none has, and while the first worker of
 * pgmaint.database is still looking (so that the role does not move away
 * and back when the server starts).
 */
static Oid
pgm_choose_server(const PgmDatabase *dbs, int n)
{
	Oid			lowest = InvalidOid;
	bool		home_pending = false;
	int			i;

	for (i = 0; i < pgm_slots_count(); i++)
	{
		PgmSlotControl c;
		bool		home;

		pgm_slot_control(i, &c);
		if (!OidIsValid(c.datid) || pgm_find_database(dbs, n, c.datid) == NULL)
			continue;
		home = pgm_database != NULL && strcmp(NameStr(c.datname), pgm_database) == 0;
		if (!c.has_pgmaint)
		{
			home_pending = home_pending ||
				(home && (c.state == PGMAINT_SLOT_STARTING || c.state == PGMAINT_SLOT_RUNNING));
			continue;
		}
		if (home)
			return c.datid;
		if (!OidIsValid(lowest) || c.datid < lowest)
			lowest = c.datid;
	}
	return home_pending ? InvalidOid : lowest;
}

/*
 * Publishes the server-wide role and the databases left without a worker,
 * and logs each change: the role once, the databases left out as a WARNING.
 */
static void
pgm_report(Oid server, const PgmDatabase *dbs, int ndbs,
		   const PgmUnsampledView *left, int nleft)
{
	StringInfoData names;
	int			reason;
	int			i;

	pgm_slots_publish(server, left, nleft);

	if (server != pgm_last_server)
	{
		const PgmDatabase *db = pgm_find_database(dbs, ndbs, server);

		if (db != NULL && pgm_database != NULL && strcmp(db->name, pgm_database) != 0)
			ereport(LOG,
					(errmsg("pgmaint: the server-wide steps run in database \"%s\"", db->name),
					 errdetail("pgmaint.database names \"%s\", where no worker found pgmaint.",
							   pgm_database)));
		else if (db != NULL)
			ereport(LOG,
					(errmsg("pgmaint: the server-wide steps run in database \"%s\"", db->name)));
		else
			ereport(LOG,
					(errmsg("pgmaint: no database worker runs the server-wide steps"),
					 errdetail("No worker samples a database with pgmaint.")));
		pgm_last_server = server;
	}

	initStringInfo(&names);
	for (i = 0; i < nleft; i++)
		appendStringInfo(&names, "%s%s:%d", i > 0 ? "," : "", left[i].datname, left[i].reason);
	if (pgm_last_unsampled != NULL && strcmp(pgm_last_unsampled, names.data) == 0)
		return;
	if (pgm_last_unsampled != NULL)
		pfree(pgm_last_unsampled);
	pgm_last_unsampled = MemoryContextStrdup(TopMemoryContext, names.data);

	for (reason = PGMAINT_UNSAMPLED_BUDGET; reason <= PGMAINT_UNSAMPLED_NO_BGWORKER; reason++)
	{
		int			count = 0;

		resetStringInfo(&names);
		for (i = 0; i < nleft; i++)
		{
			if ((int) left[i].reason != reason)
				continue;
			appendStringInfo(&names, "%s\"%s\"", count > 0 ? ", " : "", left[i].datname);
			count++;
		}
		if (count == 0)
			continue;
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg_plural("%d database is left without a pgmaint worker: %s",
							   "%d databases are left without a pgmaint worker: %s",
							   count, count, names.data),
				 errdetail("%s; whether pgmaint is installed there is known only once a worker connects.",
						   pgm_unsampled_text((PgmUnsampledReason) reason)),
				 reason == PGMAINT_UNSAMPLED_BUDGET
				 ? errhint("Raise pgmaint.max_databases (and max_worker_processes with it) and restart the server.")
				 : errhint("Raise max_worker_processes and restart the server.")));
	}
}

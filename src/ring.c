/*-------------------------------------------------------------------------
 *
 * ring.c
 *	  Each database worker's ring of health samples and status, kept in its
 *	  slot of shared memory (slots.h; the ring in a segment of its own,
 *	  ringmem.c), and the SQL functions that read the ring of their own
 *	  database: samples(), sampler_status(), _table_health_sampled() and
 *	  _request_samples().
 *
 * A worker writes only its own slot (pgm_my_slot); a session reads the slot
 * of its database (MyDatabaseId), and sees nothing when no worker samples
 * it.  The one LWLock of the slots guards every slot: the worker takes it
 * exclusively for a memcpy; readers take it shared, copy into memory they
 * allocated beforehand and build tuples only after releasing it, so nothing
 * that can ERROR ever runs while the lock is held.
 *
 * SQL served: samples(), sampler_status(), _request_samples() and
 * _ring_block_deltas() (sql/code/10-sampler.sql), _table_health_sampled()
 * (80-checks.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "slots.h"

/*
 * Columns of pgmaint.samples() and pgmaint.sampler_status().  samples() of
 * version 1.0 declares the first PGMAINT_SAMPLES_COLS_1_0 columns; later
 * columns are appended, and each call fills what its declaration has.
 */
#define PGMAINT_SAMPLES_COLS_1_0	28
#define PGMAINT_SAMPLES_COLS	32

/* A sample older than this many intervals is not fresh enough for health() */
#define PGMAINT_FRESH_INTERVALS	2

/* Samples samples() copies beyond those it counted, for those taken meanwhile */
#define PGMAINT_COPY_MARGIN		8

/* Most samples one _request_samples() call may ask for */
#define PGMAINT_MAX_BURST		100000

/* This worker's slot (call in a database worker only) */
#define PGM_MY_SLOT()	(&pgm_shared->slots[pgm_my_slot])

PG_FUNCTION_INFO_V1(pgmaint_samples);
PG_FUNCTION_INFO_V1(pgmaint_sampler_status);
PG_FUNCTION_INFO_V1(pgmaint_request_samples);
PG_FUNCTION_INFO_V1(pgmaint_table_health_sampled);
PG_FUNCTION_INFO_V1(pgmaint_ring_block_deltas);
PG_FUNCTION_INFO_V1(pgmaint_cache_hit_last_hour);

static PgmSample *pgm_database_ring(int *slotno, dsm_handle *handle);
static bool pgm_ring_unchanged_locked(int slotno, dsm_handle handle);
static void pgm_require_ring(void);
static Datum pgm_interval_datum(int64 usecs);
static Datum pgm_rate_datum(int64 delta, double seconds);
static bool pgm_samples_comparable(const PgmSample *p, const PgmSample *s);

/* True when this process can use the rings (pgmaint was preloaded). */
bool
pgm_ring_attached(void)
{
	return pgm_shared != NULL;
}

/* Number of samples a ring holds when full. */
int
pgm_ring_capacity(void)
{
	return pgm_shared ? pgm_shared->capacity : 0;
}

/*
 * The ring of this database's slot, mapped (outside the lock), with the slot
 * and the handle mapped in *slotno and *handle; NULL when it has none.
 */
static PgmSample *
pgm_database_ring(int *slotno, dsm_handle *handle)
{
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	*slotno = pgm_slot_of_locked(MyDatabaseId);
	*handle = *slotno >= 0 ? pgm_shared->slots[*slotno].ring : DSM_HANDLE_INVALID;
	LWLockRelease(pgm_shared->lock);
	if (*slotno < 0)
		return NULL;
	return pgm_slot_ring_map(*slotno, *handle);
}

/* True when slotno is still this database's, with the ring handle (call with the lock held). */
static bool
pgm_ring_unchanged_locked(int slotno, dsm_handle handle)
{
	return pgm_shared->slots[slotno].datid == MyDatabaseId &&
		pgm_shared->slots[slotno].ring == handle;
}

/*
 * Appends a sample to this worker's ring (made by pgm_ring_ensure() in the
 * sample step), overwriting the oldest when the ring is full, and keeps its
 * table-level figures as the last ones.
 */
void
pgm_ring_push(const PgmSample *sample, const PgmTableSample *tables)
{
	PgmSlot    *slot = PGM_MY_SLOT();
	PgmSample  *ring;
	dsm_handle	handle;

	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	handle = slot->ring;
	LWLockRelease(pgm_shared->lock);
	ring = pgm_slot_ring_map(pgm_my_slot, handle);

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	if (ring != NULL && slot->ring == handle)
	{
		ring[slot->next] = *sample;
		slot->next = (slot->next + 1) % pgm_shared->capacity;
		if (slot->count < pgm_shared->capacity)
			slot->count++;
	}
	slot->tables = *tables;
	slot->status.last_sample_at = sample->sampled_at;
	slot->status.samples_taken++;
	LWLockRelease(pgm_shared->lock);
}

/*
 * How many of this database's samples were taken at or after since (the
 * newest ones); the ring is in time order.
 */
static int
pgm_ring_count_since(TimestampTz since)
{
	int			n = 0;
	int			i;
	dsm_handle	handle;
	PgmSample  *ring = pgm_database_ring(&i, &handle);

	if (ring == NULL)
		return 0;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	if (pgm_ring_unchanged_locked(i, handle))
	{
		PgmSlot    *slot = &pgm_shared->slots[i];
		int			cap = pgm_shared->capacity;

		while (n < slot->count &&
			   ring[(slot->next - 1 - n + 2 * cap) % cap].sampled_at >= since)
			n++;
	}
	LWLockRelease(pgm_shared->lock);
	return n;
}

/*
 * Copies up to max of this database's samples, oldest first, into out
 * (allocated by the caller before, since nothing may allocate under the
 * lock); returns how many.
 */
int
pgm_ring_copy(PgmSample *out, int max)
{
	int			n = 0;
	int			i;
	dsm_handle	handle;
	PgmSample  *ring = pgm_database_ring(&i, &handle);

	if (ring == NULL)
		return 0;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	if (pgm_ring_unchanged_locked(i, handle))
	{
		PgmSlot    *slot = &pgm_shared->slots[i];
		int			cap = pgm_shared->capacity;
		int			first;
		int			k;

		n = Min(slot->count, max);
		first = (slot->next - n + cap) % cap;
		for (k = 0; k < n; k++)
			out[k] = ring[(first + k) % cap];
	}
	LWLockRelease(pgm_shared->lock);
	return n;
}

/* Copies the status of this database's worker (zeros when it has none). */
void
pgm_status_copy(PgmStatus *out)
{
	int			i;

	memset(out, 0, sizeof(PgmStatus));
	if (pgm_shared == NULL)
		return;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	i = pgm_slot_of_locked(MyDatabaseId);
	if (i >= 0)
		*out = pgm_shared->slots[i].status;
	LWLockRelease(pgm_shared->lock);
}

/* Records this worker's last error (truncated to PGMAINT_ERROR_LEN). */
void
pgm_status_set_error(const char *message)
{
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	strlcpy(PGM_MY_SLOT()->status.last_error, message, PGMAINT_ERROR_LEN);
	PGM_MY_SLOT()->status.last_error_at = now;
	LWLockRelease(pgm_shared->lock);
}

/* Clears this worker's last error. */
void
pgm_status_clear_error(void)
{
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	PGM_MY_SLOT()->status.last_error[0] = '\0';
	PGM_MY_SLOT()->status.last_error_at = 0;
	LWLockRelease(pgm_shared->lock);
}

/*
 * Marks this worker connected to its database, and with sampling about to
 * sample it (pgmaint is installed there); else it only looked, or found the
 * database held.
 */
void
pgm_status_worker_connected(bool sampling, int interval_s)
{
	PgmSlot    *slot = PGM_MY_SLOT();
	TimestampTz now = GetCurrentTimestamp();

	pid_t		launcher;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	slot->connected = true;
	launcher = pgm_shared->launcher_pid;
	if (sampling)
	{
		slot->has_pgmaint = true;
		slot->status.connected_at = now;
		slot->status.datid = MyDatabaseId;
		slot->status.heartbeat_at = now;
		slot->status.interval_s = interval_s;
		slot->status.last_error[0] = '\0';
		slot->status.last_error_at = 0;
	}
	LWLockRelease(pgm_shared->lock);

	/* the launcher decides the server-wide role and the budget on what workers found */
	if (sampling && launcher != 0)
	{
		PGPROC	   *proc = BackendPidGetProc(launcher);

		if (proc != NULL)
			SetLatch(&proc->procLatch);
	}
}

/* Records that this worker is alive, with its interval and (unless -1) memory use. */
void
pgm_status_heartbeat(int interval_s, int64 memory_bytes)
{
	PgmSlot    *slot = PGM_MY_SLOT();
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	slot->status.heartbeat_at = now;
	slot->status.interval_s = interval_s;
	if (memory_bytes >= 0)
		slot->status.memory_bytes = memory_bytes;
	LWLockRelease(pgm_shared->lock);
}

/* Adds rows this worker wrote to pgmaint.sample_history. */
void
pgm_status_count_persisted(int64 rows)
{
	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	PGM_MY_SLOT()->status.samples_persisted += rows;
	LWLockRelease(pgm_shared->lock);
}

/* Returns and clears the number of extra samples requested of this worker. */
int
pgm_status_take_burst(void)
{
	int			n;

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	n = PGM_MY_SLOT()->status.burst_requested;
	PGM_MY_SLOT()->status.burst_requested = 0;
	LWLockRelease(pgm_shared->lock);
	return n;
}

/* Raises an error unless the ring exists (pgmaint preloaded). */
static void
pgm_require_ring(void)
{
	if (pgm_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgmaint sample ring is not available"),
				 errdetail("pgmaint is not loaded through shared_preload_libraries."),
				 errhint("Add pgmaint to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/* An interval datum of usecs microseconds. */
static Datum
pgm_interval_datum(int64 usecs)
{
	Interval   *result = (Interval *) palloc0(sizeof(Interval));

	result->time = usecs;
	return IntervalPGetDatum(result);
}

/* A per-second rate as a float8 datum. */
static Datum
pgm_rate_datum(int64 delta, double seconds)
{
	return Float8GetDatum((double) delta / seconds);
}

/*
 * True when the interval from sample P to sample S can give deltas of the
 * cumulative counters: a previous sample, later time, the same statistics
 * epoch (no pg_stat_reset() between them).  The one copy of the rule:
 * samples() and _ring_block_deltas() (the "last hour" cache figures) use it.
 */
static bool
pgm_samples_comparable(const PgmSample *p, const PgmSample *s)
{
	return p != NULL && s->sampled_at > p->sampled_at &&
		s->stats_reset == p->stats_reset;
}

/*
 * SQL pgmaint.samples(since): the ring from since on, oldest first, with the
 * deltas and rates over each interval.  A delta is NULL for the first sample
 * of the ring, after a statistics reset, and whenever a cumulative counter
 * went backwards; it is never negative.  dead_tuples_delta is the change of
 * a gauge (vacuum lowers it) and may be negative.
 */
Datum
pgmaint_samples(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz since = PG_ARGISNULL(0) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(0);
	PgmSample  *ring;
	int			n;
	int			i;
	int			want;

	pgm_require_ring();
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != PGMAINT_SAMPLES_COLS &&
		rsinfo->setDesc->natts != PGMAINT_SAMPLES_COLS_1_0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pgmaint.samples() is declared with %d columns, the library knows %d or %d",
						rsinfo->setDesc->natts, PGMAINT_SAMPLES_COLS_1_0, PGMAINT_SAMPLES_COLS),
				 errhint("Run ALTER EXTENSION pgmaint UPDATE.")));

	/*
	 * only the samples from since on and the one before them (for the
	 * deltas), with a margin for samples taken between the count and the copy
	 */
	want = Min(pgm_ring_count_since(since) + 1 + PGMAINT_COPY_MARGIN, pgm_shared->capacity);
	ring = palloc(sizeof(PgmSample) * want);
	n = pgm_ring_copy(ring, want);

	for (i = 0; i < n; i++)
	{
		const PgmSample *s = &ring[i];
		const PgmSample *p = (i > 0) ? &ring[i - 1] : NULL;
		Datum		values[PGMAINT_SAMPLES_COLS];
		bool		nulls[PGMAINT_SAMPLES_COLS];
		double		seconds = 0;
		bool		comparable;
		int			c = 0;

		if (s->sampled_at < since)
			continue;

		memset(nulls, 0, sizeof(nulls));
		if (p != NULL)
			seconds = (double) (s->sampled_at - p->sampled_at) / USECS_PER_SEC;
		/* deltas need a previous sample of the same statistics epoch */
		comparable = pgm_samples_comparable(p, s);

		values[c++] = TimestampTzGetDatum(s->sampled_at);
		if (p != NULL && seconds > 0)
			values[c++] = Float8GetDatum(seconds);
		else
			nulls[c++] = true;
		values[c++] = Int32GetDatum(s->client_backends);
		values[c++] = Int32GetDatum(s->active);
		values[c++] = Int32GetDatum(s->idle);
		values[c++] = Int32GetDatum(s->idle_in_transaction);
		values[c++] = Int32GetDatum(s->idle_in_transaction_aborted);
		values[c++] = Int32GetDatum(s->waiting_on_lock);
		if (s->longest_xact_age >= 0)
			values[c++] = pgm_interval_datum(s->longest_xact_age);
		else
			nulls[c++] = true;
		if (s->longest_idle_in_transaction_age >= 0)
			values[c++] = pgm_interval_datum(s->longest_idle_in_transaction_age);
		else
			nulls[c++] = true;
		values[c++] = Int64GetDatum(s->xact_commit);
		values[c++] = Int64GetDatum(s->xact_rollback);
		values[c++] = Int64GetDatum(s->blks_read);
		values[c++] = Int64GetDatum(s->blks_hit);
		values[c++] = Int64GetDatum(s->tup_inserted);
		values[c++] = Int64GetDatum(s->tup_updated);
		values[c++] = Int64GetDatum(s->tup_deleted);
		values[c++] = Int64GetDatum(s->deadlocks);
		values[c++] = Int64GetDatum(s->temp_bytes);
		values[c++] = Int64GetDatum(s->live_tuples);
		values[c++] = Int64GetDatum(s->dead_tuples);
		values[c++] = Int64GetDatum(s->datfrozenxid_age);

		/* commits_per_sec, rollbacks_per_sec */
		if (comparable && s->xact_commit >= p->xact_commit)
			values[c++] = pgm_rate_datum(s->xact_commit - p->xact_commit, seconds);
		else
			nulls[c++] = true;
		if (comparable && s->xact_rollback >= p->xact_rollback)
			values[c++] = pgm_rate_datum(s->xact_rollback - p->xact_rollback, seconds);
		else
			nulls[c++] = true;

		/* cache_hit_ratio: share (0 to 1) of this interval's block reads that hit */
		if (comparable && s->blks_hit >= p->blks_hit && s->blks_read >= p->blks_read &&
			(s->blks_hit - p->blks_hit) + (s->blks_read - p->blks_read) > 0)
		{
			int64		hits = s->blks_hit - p->blks_hit;
			int64		reads = s->blks_read - p->blks_read;
			double		ratio = (double) hits / (double) (hits + reads);

			values[c++] = DirectFunctionCall2(numeric_round,
											  DirectFunctionCall1(float8_numeric,
																  Float8GetDatum(ratio)),
											  Int32GetDatum(4));
		}
		else
			nulls[c++] = true;

		/* dead_tuples_delta */
		if (comparable)
			values[c++] = Int64GetDatum(s->dead_tuples - p->dead_tuples);
		else
			nulls[c++] = true;

		values[c++] = Int64GetDatum(s->tables);
		if (s->stats_reset != 0)
			values[c++] = TimestampTzGetDatum(s->stats_reset);
		else
			nulls[c++] = true;

		/* 1.1: the server's role and its replication lag */
		values[c++] = BoolGetDatum(s->in_recovery);
		values[c++] = Int32GetDatum(s->standbys);
		if (s->replication_lag >= 0)
			values[c++] = pgm_interval_datum(s->replication_lag);
		else
			nulls[c++] = true;
		values[c] = Int64GetDatum(s->replication_lag_bytes);
		nulls[c++] = s->replication_lag_bytes < 0;

		Assert(c == PGMAINT_SAMPLES_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	pfree(ring);
	return (Datum) 0;
}

/* Fills view with what sampler_status() shows about the worker. */
void
pgm_sampler_view(PgmSamplerView *view)
{
	PgmUnsampledView left[PGMAINT_MAX_UNSAMPLED];
	int			nleft;
	int			i;

	memset(view, 0, sizeof(PgmSamplerView));
	view->preloaded = pgm_preloaded;
	if (pgm_shared != NULL)
		pgm_status_copy(&view->st);
	view->running = (view->st.pid != 0 && view->st.connected_at != 0);
	view->interval_s = pgm_sample_interval;
	if (view->running && view->st.interval_s > 0)
		view->interval_s = view->st.interval_s;
	if (pgm_shared != NULL)
		view->database = get_database_name(MyDatabaseId);

	if (pgm_shared == NULL)
	{
		view->last_error = "pgmaint is not loaded through shared_preload_libraries, so the sampler worker does not run";
		return;
	}
	if (view->st.last_error[0] != '\0')
	{
		view->last_error = view->st.last_error;
		return;
	}
	if (view->running)
		return;
	if (view->st.started_at != 0)
	{
		view->last_error = "the sampler worker is not running";
		return;
	}
	/* no worker has sampled this database: say why when the launcher knows */
	nleft = pgm_slots_unsampled(left, PGMAINT_MAX_UNSAMPLED);
	for (i = 0; i < Min(nleft, PGMAINT_MAX_UNSAMPLED); i++)
	{
		if (left[i].datid == MyDatabaseId)
		{
			view->last_error = psprintf("no worker samples this database: %s",
										pgm_unsampled_text(left[i].reason));
			return;
		}
	}
	if (!pgm_launcher_running())
		view->last_error = "the pgmaint launcher is not running: check max_worker_processes and the server log";
	else
		view->last_error = "the sampler worker of this database has not started yet";
}

/*
 * The columns of pgmaint.sampler_status(), in its order: health()'s sampler
 * section writes them under these names (the SQL declares the same).
 */
const PgmSamplerColumn pgm_sampler_columns[PGMAINT_STATUS_COLS] = {
	{"running", BOOLOID},
	{"pid", INT4OID},
	{"database", TEXTOID},
	{"started_at", TIMESTAMPTZOID},
	{"last_sample_at", TIMESTAMPTZOID},
	{"samples_taken", INT8OID},
	{"last_error", TEXTOID},
	{"sample_interval", INTERVALOID},
	{"policy", TEXTOID},
	{"in_recovery", BOOLOID},
	{"heartbeat_at", TIMESTAMPTZOID},
	{"samples_persisted", INT8OID},
	{"worker_memory_bytes", INT8OID},
	{"ring_bytes", INT8OID},
};

/* Fills values and nulls (PGMAINT_STATUS_COLS each) with sampler_status()'s row. */
void
pgm_sampler_status_values(Datum *values, bool *nulls)
{
	PgmSamplerView view;
	const char *policy;

	memset(values, 0, sizeof(Datum) * PGMAINT_STATUS_COLS);
	memset(nulls, true, sizeof(bool) * PGMAINT_STATUS_COLS);
	pgm_sampler_view(&view);
	policy = GetConfigOption("pgmaint.policy", true, false);

	values[0] = BoolGetDatum(view.running);
	nulls[0] = false;
	if (view.st.pid != 0)
	{
		values[1] = Int32GetDatum(view.st.pid);
		nulls[1] = false;
	}
	if (view.database != NULL)
	{
		values[2] = CStringGetTextDatum(view.database);
		nulls[2] = false;
	}
	if (view.st.started_at != 0)
	{
		values[3] = TimestampTzGetDatum(view.st.started_at);
		nulls[3] = false;
	}
	if (view.st.last_sample_at != 0)
	{
		values[4] = TimestampTzGetDatum(view.st.last_sample_at);
		nulls[4] = false;
	}
	values[5] = Int64GetDatum(view.st.samples_taken);
	nulls[5] = false;
	if (view.last_error != NULL)
	{
		values[6] = CStringGetTextDatum(view.last_error);
		nulls[6] = false;
	}
	values[7] = pgm_interval_datum((int64) view.interval_s * USECS_PER_SEC);
	nulls[7] = false;
	if (policy != NULL)
	{
		values[8] = CStringGetTextDatum(policy);
		nulls[8] = false;
	}
	values[9] = BoolGetDatum(RecoveryInProgress());
	nulls[9] = false;
	if (view.st.heartbeat_at != 0)
	{
		values[10] = TimestampTzGetDatum(view.st.heartbeat_at);
		nulls[10] = false;
	}
	values[11] = Int64GetDatum(view.st.samples_persisted);
	nulls[11] = false;
	if (view.st.memory_bytes != 0)
	{
		values[12] = Int64GetDatum(view.st.memory_bytes);
		nulls[12] = false;
	}
	if (pgm_shared != NULL)
	{
		values[13] = Int64GetDatum((int64) pgm_slot_ring_bytes());
		nulls[13] = false;
	}
}

/*
 * SQL pgmaint.sampler_status(): one row about the worker.  Without
 * preloading it still answers, with running = false and the reason.
 */
Datum
pgmaint_sampler_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[PGMAINT_STATUS_COLS];
	bool		nulls[PGMAINT_STATUS_COLS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	pgm_sampler_status_values(values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * SQL pgmaint._request_samples(count): asks the worker for count extra
 * samples taken back to back (tests and benchmarks); returns samples_taken
 * at the time of the request.
 */
Datum
pgmaint_request_samples(PG_FUNCTION_ARGS)
{
	int32		count = PG_GETARG_INT32(0);
	int64		taken;
	pid_t		pid;
	int			slot;
	PGPROC	   *proc;

	pgm_require_ring();
	if (count < 1 || count > PGMAINT_MAX_BURST)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count must be between 1 and %d", PGMAINT_MAX_BURST),
				 errhint("Ask for fewer samples at a time.")));

	LWLockAcquire(pgm_shared->lock, LW_EXCLUSIVE);
	pid = 0;
	taken = 0;
	slot = pgm_slot_of_locked(MyDatabaseId);
	if (slot >= 0)
	{
		PgmStatus  *st = &pgm_shared->slots[slot].status;

		pid = st->connected_at != 0 ? st->pid : 0;
		if (pid != 0)
			st->burst_requested = Min(st->burst_requested + count, PGMAINT_MAX_BURST);
		taken = st->samples_taken;
	}
	LWLockRelease(pgm_shared->lock);

	if (pid == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the pgmaint sampler worker of this database is not running"),
				 errhint("See pgmaint.sampler_status() for the reason.")));

	proc = BackendPidGetProc(pid);
	if (proc != NULL)
		SetLatch(&proc->procLatch);

	PG_RETURN_INT64(taken);
}

/*
 * SQL pgmaint._table_health_sampled(): the table-level health figures of the
 * worker's last sample, with its time, when that sample is of this database
 * and fresh (taken within PGMAINT_FRESH_INTERVALS sample intervals); no row
 * otherwise, and none without preloading.
 */
Datum
pgmaint_table_health_sampled(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmTableSample last;
	Datum		values[PGMAINT_TABLE_HEALTH_COLS + 1];
	bool		nulls[PGMAINT_TABLE_HEALTH_COLS + 1];

	InitMaterializedSRF(fcinfo, 0);
	if (!pgm_ring_last_tables(&last))
		return (Datum) 0;

	pgm_table_health_values(&last.health, values, nulls);
	values[PGMAINT_TABLE_HEALTH_COLS] = TimestampTzGetDatum(last.sampled_at);
	nulls[PGMAINT_TABLE_HEALTH_COLS] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * This database's block hits and reads summed over the ring's intervals that
 * start at or after since, by samples()' rule (pgm_samples_comparable; a
 * counter that went backwards counts as a reset too).  False when no
 * interval qualifies or without preloading; the caller checks that the ring
 * is of its database.
 */
static bool
pgm_ring_block_sums(TimestampTz since, int64 *hits, int64 *reads)
{
	bool		any = false;
	int			slotno;
	dsm_handle	handle;
	PgmSlot    *slot;
	PgmSample  *ring;
	int			cap;
	int			first;
	int			i;

	*hits = *reads = 0;
	if (pgm_shared == NULL)
		return false;
	ring = pgm_database_ring(&slotno, &handle);
	if (ring == NULL)
		return false;
	/* arithmetic only: it runs under the lock, without a copy of the ring */
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	slot = pgm_ring_unchanged_locked(slotno, handle) ? &pgm_shared->slots[slotno] : NULL;
	cap = pgm_shared->capacity;
	first = slot ? (slot->next - slot->count + cap) % cap : 0;
	for (i = 1; slot != NULL && i < slot->count; i++)
	{
		const PgmSample *p = &ring[(first + i - 1) % cap];
		const PgmSample *s = &ring[(first + i) % cap];

		if (p->sampled_at < since || !pgm_samples_comparable(p, s) ||
			s->blks_hit < p->blks_hit || s->blks_read < p->blks_read)
			continue;
		*hits += s->blks_hit - p->blks_hit;
		*reads += s->blks_read - p->blks_read;
		any = true;
	}
	LWLockRelease(pgm_shared->lock);
	return any;
}

/*
 * This database's block hits and reads over the hour before now, from the
 * worker's ring, when the worker runs and samples this database (the
 * cache_hit check and pgmaint._cache_hit_last_hour()); false otherwise.
 */
bool
pgm_cache_hit_last_hour(TimestampTz now, int64 *hits, int64 *reads)
{
	PgmStatus	st;

	*hits = *reads = 0;
	if (pgm_shared == NULL)
		return false;
	pgm_status_copy(&st);
	if (st.pid == 0 || st.connected_at == 0 || st.datid != MyDatabaseId)
		return false;
	return pgm_ring_block_sums(now - USECS_PER_HOUR, hits, reads);
}

/*
 * SQL pgmaint._ring_block_deltas(since): pgm_ring_block_sums() as numerics
 * (NULL hits and reads when no interval qualifies or without preloading).
 */
Datum
pgmaint_ring_block_deltas(PG_FUNCTION_ARGS)
{
	TimestampTz since = PG_ARGISNULL(0) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(0);
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {true, true};
	int64		hits;
	int64		reads;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	if (pgm_ring_block_sums(since, &hits, &reads))
	{
		values[0] = DirectFunctionCall1(int8_numeric, Int64GetDatum(hits));
		values[1] = DirectFunctionCall1(int8_numeric, Int64GetDatum(reads));
		nulls[0] = nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * SQL pgmaint._cache_hit_last_hour(): pgm_cache_hit_last_hour() before now()
 * as numerics, NULL when the worker does not sample this database.
 */
Datum
pgmaint_cache_hit_last_hour(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {true, true};
	int64		hits;
	int64		reads;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	if (pgm_cache_hit_last_hour(GetCurrentTransactionStartTimestamp(), &hits, &reads))
	{
		values[0] = DirectFunctionCall1(int8_numeric, Int64GetDatum(hits));
		values[1] = DirectFunctionCall1(int8_numeric, Int64GetDatum(reads));
		nulls[0] = nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * The table-level figures of the worker's last pass into out, when that pass
 * is of this database and fresh (made within PGMAINT_FRESH_INTERVALS sample
 * intervals, plus PGMAINT_TABLE_PASS_PERIOD at short intervals, where the
 * passes are that far apart); false otherwise, and without preloading.
 */
bool
pgm_ring_last_tables(PgmTableSample *out)
{
	int			interval_s = 0;
	int			slot;

	memset(out, 0, sizeof(PgmTableSample));
	if (pgm_shared == NULL)
		return false;
	LWLockAcquire(pgm_shared->lock, LW_SHARED);
	slot = pgm_slot_of_locked(MyDatabaseId);
	if (slot >= 0)
	{
		*out = pgm_shared->slots[slot].tables;
		interval_s = pgm_shared->slots[slot].status.interval_s;
	}
	LWLockRelease(pgm_shared->lock);

	if (interval_s <= 0)
		interval_s = pgm_sample_interval;
	return out->sampled_at != 0 && out->datid == MyDatabaseId &&
		GetCurrentTimestamp() - out->sampled_at <=
		((int64) PGMAINT_FRESH_INTERVALS * interval_s +
		 (interval_s < PGMAINT_TABLE_PASS_PERIOD ? PGMAINT_TABLE_PASS_PERIOD : 0)) * USECS_PER_SEC;
}

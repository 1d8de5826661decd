/*-------------------------------------------------------------------------
 *
 * sampler.c
 *	  One health sample, in C: backend states from the backend status array,
 *	  the target database's counters and its user tables' live and dead
 *	  tuples from the cumulative statistics, age(datfrozenxid), and the
 *	  server's role and replication lag (replication.c).  The pass over the
 *	  user tables also computes the table-level health figures
 *	  (worst heap hit ratio, dead-tuple share, tables where autovacuum falls
 *	  behind) with tablehealth.c's code, so that health() reads them in
 *	  O(1) from the ring.
 *
 * The server-wide part (backends, role, replication) is measured by the
 * worker with the server-wide role; the others copy its last one, so that a
 * sample costs each of them its own database's tables, not the server's
 * sessions (see pgm_take_sample()).
 *
 * Nothing here goes through SPI or the executor.  The caller runs it inside
 * a transaction (the catalog scan of pg_class needs one; it works read-only
 * on a hot standby) and the transaction's end drops the statistics and
 * backend-status snapshots, so that the next sample reads fresh values.
 *
 * SQL served: none directly; the ring (ring.c) serves what it samples to
 * sql/code/10-sampler.sql and 80-checks.sql.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/backend_status.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pgmaint.h"

/* Mask of the class part of a wait_event_info value */
#define PGMAINT_WAIT_CLASS_MASK	0xFF000000U

/*
 * The last pass over the user tables, kept in the worker between samples: at
 * sample intervals shorter than PGMAINT_TABLE_PASS_PERIOD the pass runs at
 * most that often (see pgm_take_sample()).
 */
static PgmTableSample pgm_last_pass;
static PgmTableSums pgm_last_sums;

static void pgm_sample_backends(PgmSample *sample);
static void pgm_sample_database(PgmSample *sample);
static void pgm_sample_tables(PgmSample *sample, PgmTableSample *tables, bool pass);
static void pgm_sample_frozenxid(PgmSample *sample);
static void pgm_sample_replication(PgmSample *sample);
static void pgm_copy_server_part(PgmSample *sample, const PgmSample *server);

/*
 * Fills sample and tables with the server's state now.  The pass over the
 * user tables (the sample's live and dead tuples and the table-level
 * figures) runs when pass_now is true (a sample asked for), when the last
 * one is PGMAINT_TABLE_PASS_PERIOD old or of another database, and else the
 * last pass's figures are the sample's: reading every table's statistics
 * costs about a microsecond a table once the caches have gone cold between
 * two samples, which at a 1 s interval and 10,000 tables was ten times all
 * the worker's other work.  At intervals of PGMAINT_TABLE_PASS_PERIOD and
 * more, every sample makes its pass.
 */
void
pgm_take_sample(PgmSample *sample, PgmTableSample *tables, bool pass_now,
				const PgmSample *server)
{
	memset(sample, 0, sizeof(PgmSample));
	sample->sampled_at = GetCurrentTimestamp();
	sample->longest_xact_age = -1;
	sample->longest_idle_in_transaction_age = -1;

	if (server != NULL)
		pgm_copy_server_part(sample, server);
	else
	{
		pgm_sample_backends(sample);
		pgm_sample_replication(sample);
	}
	pgm_sample_database(sample);
	pgm_sample_tables(sample, tables,
					  pass_now || pgm_last_pass.sampled_at == 0 ||
					  pgm_last_pass.datid != MyDatabaseId ||
					  sample->sampled_at - pgm_last_pass.sampled_at >=
					  (int64) PGMAINT_TABLE_PASS_PERIOD * USECS_PER_SEC - USECS_PER_SEC / 10);
	pgm_sample_frozenxid(sample);
}

/*
 * Copies the server-wide part of a sample (backends by state, their ages,
 * the server's role and replication) from the server-wide worker's last
 * sample: the one list of those fields.
 */
static void
pgm_copy_server_part(PgmSample *sample, const PgmSample *server)
{
	sample->client_backends = server->client_backends;
	sample->active = server->active;
	sample->idle = server->idle;
	sample->idle_in_transaction = server->idle_in_transaction;
	sample->idle_in_transaction_aborted = server->idle_in_transaction_aborted;
	sample->waiting_on_lock = server->waiting_on_lock;
	sample->longest_xact_age = server->longest_xact_age;
	sample->longest_idle_in_transaction_age = server->longest_idle_in_transaction_age;
	/* the role is this moment's, not the other worker's (a promotion in between) */
	sample->in_recovery = RecoveryInProgress();
	sample->standbys = server->standbys;
	sample->replication_lag = server->replication_lag;
	sample->replication_lag_bytes = server->replication_lag_bytes;
}

/*
 * Counts client backends of the whole server by state, as pg_stat_activity
 * shows them, and the ages of the oldest transaction and of the oldest
 * idle-in-transaction state.
 */
static void
pgm_sample_backends(PgmSample *sample)
{
	TimestampTz now = sample->sampled_at;
	int			n = pgstat_fetch_stat_numbackends();
	int			i;

	for (i = 1; i <= n; i++)
	{
#if PG_VERSION_NUM >= 170000
		LocalPgBackendStatus *local = pgstat_get_local_beentry_by_index(i);
#else
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
#endif
		PgBackendStatus *be;
		PGPROC	   *proc;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_backendType != B_BACKEND || be->st_procpid <= 0)
			continue;

		sample->client_backends++;
		switch (be->st_state)
		{
			case STATE_RUNNING:
			case STATE_FASTPATH:
				sample->active++;
				break;
			case STATE_IDLE:
				sample->idle++;
				break;
			case STATE_IDLEINTRANSACTION:
				sample->idle_in_transaction++;
				break;
			case STATE_IDLEINTRANSACTION_ABORTED:
				sample->idle_in_transaction_aborted++;
				break;
			default:
				break;
		}

		if (be->st_xact_start_timestamp != 0)
			sample->longest_xact_age = Max(sample->longest_xact_age,
										   Max(now - be->st_xact_start_timestamp, 0));
		if ((be->st_state == STATE_IDLEINTRANSACTION ||
			 be->st_state == STATE_IDLEINTRANSACTION_ABORTED) &&
			be->st_state_start_timestamp != 0)
			sample->longest_idle_in_transaction_age =
				Max(sample->longest_idle_in_transaction_age,
					Max(now - be->st_state_start_timestamp, 0));

		/* the wait event lives in PGPROC, as pg_stat_activity reads it */
		proc = BackendPidGetProc(be->st_procpid);
		if (proc != NULL)
		{
			uint32		wait = *((volatile uint32 *) &proc->wait_event_info);

			if ((wait & PGMAINT_WAIT_CLASS_MASK) == PG_WAIT_LOCK)
				sample->waiting_on_lock++;
		}
	}
}

/* Copies the target database's cumulative counters. */
static void
pgm_sample_database(PgmSample *sample)
{
	PgStat_StatDBEntry *db = pgstat_fetch_stat_dbentry(MyDatabaseId);

	if (db == NULL)
		return;

#if PG_VERSION_NUM >= 160000
	sample->xact_commit = db->xact_commit;
	sample->xact_rollback = db->xact_rollback;
	sample->blks_read = db->blocks_fetched - db->blocks_hit;
	sample->blks_hit = db->blocks_hit;
	sample->tup_inserted = db->tuples_inserted;
	sample->tup_updated = db->tuples_updated;
	sample->tup_deleted = db->tuples_deleted;
	sample->deadlocks = db->deadlocks;
	sample->temp_bytes = db->temp_bytes;
#else
	sample->xact_commit = db->n_xact_commit;
	sample->xact_rollback = db->n_xact_rollback;
	sample->blks_read = db->n_blocks_fetched - db->n_blocks_hit;
	sample->blks_hit = db->n_blocks_hit;
	sample->tup_inserted = db->n_tuples_inserted;
	sample->tup_updated = db->n_tuples_updated;
	sample->tup_deleted = db->n_tuples_deleted;
	sample->deadlocks = db->n_deadlocks;
	sample->temp_bytes = db->n_temp_bytes;
#endif
	sample->stats_reset = db->stat_reset_timestamp;
}

/*
 * Sums live and dead tuples over the tables pg_stat_user_tables shows, and
 * gathers the table-level health figures of the same tables, in one pass
 * (tablehealth.c's, which a session's live evaluation runs too), or takes
 * them from the last pass when pass is false.  tables->sampled_at is when
 * its figures were measured.
 */
static void
pgm_sample_tables(PgmSample *sample, PgmTableSample *tables, bool pass)
{
	if (pass)
	{
		pgm_table_pass(&pgm_last_pass.health, &pgm_last_sums, sample->sampled_at);
		pgm_last_pass.sampled_at = sample->sampled_at;
		pgm_last_pass.datid = MyDatabaseId;
	}
	*tables = pgm_last_pass;
	sample->tables = pgm_last_sums.tables;
	sample->live_tuples = pgm_last_sums.live_tuples;
	sample->dead_tuples = pgm_last_sums.dead_tuples;
}

/* Computes age(datfrozenxid) of the target database. */
static void
pgm_sample_frozenxid(PgmSample *sample)
{
	HeapTuple	tuple;

	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (!HeapTupleIsValid(tuple))
		return;
	{
		TransactionId frozen = ((Form_pg_database) GETSTRUCT(tuple))->datfrozenxid;
		TransactionId next = ReadNextTransactionId();

		if (TransactionIdIsNormal(frozen))
			sample->datfrozenxid_age = (int32) (next - frozen);
	}
	ReleaseSysCache(tuple);
}

/* Records the server's role and its worst replication lag (replication.c). */
static void
pgm_sample_replication(PgmSample *sample)
{
	PgmReplicationLag lag;

	pgm_replication_lag(&lag, sample->sampled_at);
	sample->in_recovery = lag.in_recovery;
	sample->standbys = lag.standbys;
	sample->replication_lag = lag.lag_us;
	sample->replication_lag_bytes = lag.lag_bytes;
}

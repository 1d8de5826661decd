/*-------------------------------------------------------------------------
 *
 * replication.c
 *	  The server's role and its replication lag, read from shared memory:
 *	  on a primary from the WAL senders' slots (what pg_stat_replication
 *	  shows), on a standby from the WAL receiver and the startup process.
 *	  The sampler records these figures in every sample, and the
 *	  replication_lag checks (sql/code/83-checks-replication.sql) read
 *	  them through pgmaint._replication_lag(), so that the rule below has
 *	  one home.
 *
 * It also tells whether Patroni manages the server (its dynamic configuration
 * file in the data directory), for the settings advice's fixes.
 *
 * The rule: positions first.  A standby that has replayed everything the
 * primary flushed (on a primary) or everything it received (on a standby)
 * has no lag, whatever the age of the last replayed transaction says: an
 * idle primary must not look like a lagging standby.  Otherwise the lag is
 * the WAL sender's measured apply lag (which keeps growing while replay is
 * stuck), or on a standby the age of the last transaction it replayed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "replication/walreceiver.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "pgmaint.h"

/* The file Patroni keeps its dynamic configuration in, in the data directory */
#define PGMAINT_PATRONI_FILE	"patroni.dynamic.json"

/* Columns of pgmaint._replication_lag() */
#define PGMAINT_REPLICATION_LAG_COLS	4

PG_FUNCTION_INFO_V1(pgmaint_replication_lag);
PG_FUNCTION_INFO_V1(pgmaint_patroni_managed);

static void pgm_primary_lag(PgmReplicationLag *lag, TimestampTz now);
static void pgm_standby_lag(PgmReplicationLag *lag, TimestampTz now);

/* Fills lag with the server's role and its worst replication lag now. */
void
pgm_replication_lag(PgmReplicationLag *lag, TimestampTz now)
{
	memset(lag, 0, sizeof(PgmReplicationLag));
	lag->lag_us = -1;
	lag->lag_bytes = -1;
	lag->in_recovery = RecoveryInProgress();
	if (lag->in_recovery)
		pgm_standby_lag(lag, now);
	else
		pgm_primary_lag(lag, now);
}

/*
 * On a primary: the streaming WAL senders (physical and, on PostgreSQL 15,
 * which cannot tell them apart here, logical ones) and the worst of their
 * lags.  With no standby, the lag is unknown (-1).
 */
static void
pgm_primary_lag(PgmReplicationLag *lag, TimestampTz now)
{
	XLogRecPtr	flushed = GetFlushRecPtr(NULL);
	int			i;

	if (WalSndCtl == NULL)
		return;
	for (i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *walsnd = &WalSndCtl->walsnds[i];
		pid_t		pid;
		WalSndState state;
		XLogRecPtr	apply;
		TimeOffset	apply_lag;
		int64		bytes;
		int64		us;

		SpinLockAcquire(&walsnd->mutex);
		pid = walsnd->pid;
		state = walsnd->state;
		apply = walsnd->apply;
		apply_lag = walsnd->applyLag;
		SpinLockRelease(&walsnd->mutex);

		if (pid == 0 || state != WALSNDSTATE_STREAMING)
			continue;
		lag->standbys++;

		if (XLogRecPtrIsInvalid(apply) || apply >= flushed)
		{
			bytes = 0;
			us = XLogRecPtrIsInvalid(apply) ? -1 : 0;
		}
		else
		{
			bytes = (int64) (flushed - apply);
			us = apply_lag >= 0 ? apply_lag : -1;
		}
		lag->lag_bytes = Max(lag->lag_bytes, bytes);
		lag->lag_us = Max(lag->lag_us, us);
	}
}

/* On a standby: what it received and has not replayed yet, and for how long. */
static void
pgm_standby_lag(PgmReplicationLag *lag, TimestampTz now)
{
	XLogRecPtr	received = GetWalRcvFlushRecPtr(NULL, NULL);
	XLogRecPtr	replayed = GetXLogReplayRecPtr(NULL);
	TimestampTz last_xact = GetLatestXTime();

	if (XLogRecPtrIsInvalid(received) || replayed >= received)
	{
		/* nothing received (archive recovery), or everything replayed */
		lag->lag_bytes = XLogRecPtrIsInvalid(received) ? -1 : 0;
		lag->lag_us = XLogRecPtrIsInvalid(received) ? -1 : 0;
		return;
	}
	lag->lag_bytes = (int64) (received - replayed);
	if (last_xact != 0)
		lag->lag_us = Max(now - last_xact, 0);
}

/*
 * SQL pgmaint._replication_lag(): in_recovery, streaming standbys (on a
 * primary), the worst lag in seconds and in bytes (NULL when unknown).
 */
Datum
pgmaint_replication_lag(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[PGMAINT_REPLICATION_LAG_COLS];
	bool		nulls[PGMAINT_REPLICATION_LAG_COLS];
	PgmReplicationLag lag;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	pgm_replication_lag(&lag, GetCurrentTimestamp());

	memset(nulls, 0, sizeof(nulls));
	values[0] = BoolGetDatum(lag.in_recovery);
	values[1] = Int32GetDatum(lag.standbys);
	values[2] = Float8GetDatum((double) lag.lag_us / USECS_PER_SEC);
	nulls[2] = lag.lag_us < 0;
	values[3] = Int64GetDatum(lag.lag_bytes);
	nulls[3] = lag.lag_bytes < 0;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * SQL pgmaint._patroni_managed(): true when Patroni manages this server, as
 * the file Patroni writes its dynamic configuration to in the data
 * directory shows.  Only the answer leaves the function, never the path.
 */
Datum
pgmaint_patroni_managed(PG_FUNCTION_ARGS)
{
	char		path[MAXPGPATH];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", DataDir, PGMAINT_PATRONI_FILE);
	PG_RETURN_BOOL(stat(path, &st) == 0 && S_ISREG(st.st_mode));
}

/*-------------------------------------------------------------------------
 *
 * checkpoints.c
 *	  The server's cumulative checkpoint counters, from whichever statistics
 *	  hold them on the PostgreSQL version built against.
 *
 * PostgreSQL 15 and 16 show them in pg_stat_bgwriter (checkpoints_timed,
 * checkpoints_req), counting a standby's restartpoints with the checkpoints
 * and resetting them with the background writer's counters.  PostgreSQL 17
 * moved them to pg_stat_checkpointer (num_timed, num_requested), with
 * restartpoints counted apart and a reset time of their own.  This file is
 * the one place that knows: on 17 a restartpoint is added to its kind, so
 * that the figures mean what they mean on 15 on a primary and on a standby.
 *
 * SQL served: _checkpoints() (sql/code/81-checks-peers.sql); the
 * checkpoints_requested check (checkserver.c) reads pgm_checkpoint_counts().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "pgstat.h"
#include "utils/timestamp.h"

#include "pgmaint.h"

/* Columns of pgmaint._checkpoints() */
#define PGMAINT_CHECKPOINTS_COLS 3

PG_FUNCTION_INFO_V1(pgmaint_checkpoints);

/*
 * Checkpoints (and restartpoints) started because checkpoint_timeout passed
 * (timed) and because they were asked for (requested: max_wal_size reached,
 * CHECKPOINT, a base backup), and when these counters were last reset (0 if
 * never).  _checkpoints() and the checkpoints_requested check (checkserver.c)
 * both read them here.
 */
void
pgm_checkpoint_counts(int64 *timed, int64 *requested, TimestampTz *reset)
{
	PgStat_CheckpointerStats *cp = pgstat_fetch_stat_checkpointer();

#if PG_VERSION_NUM >= 170000
	*timed = cp->num_timed + cp->restartpoints_timed;
	*requested = cp->num_requested + cp->restartpoints_requested;
	*reset = cp->stat_reset_timestamp;
#else
	*timed = cp->timed_checkpoints;
	*requested = cp->requested_checkpoints;
	/* pg_stat_bgwriter's stats_reset: one reset covers both processes */
	*reset = pgstat_fetch_stat_bgwriter()->stat_reset_timestamp;
#endif
}

/* SQL pgmaint._checkpoints(): pgm_checkpoint_counts() as a row. */
Datum
pgmaint_checkpoints(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[PGMAINT_CHECKPOINTS_COLS];
	bool		nulls[PGMAINT_CHECKPOINTS_COLS] = {false, false, false};
	int64		timed;
	int64		requested;
	TimestampTz reset;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	pgm_checkpoint_counts(&timed, &requested, &reset);
	values[0] = Int64GetDatum(timed);
	values[1] = Int64GetDatum(requested);
	if (reset == 0)
		nulls[2] = true;
	else
		values[2] = TimestampTzGetDatum(reset);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*-------------------------------------------------------------------------
 *
 * checkserver.c
 *	  The checks of the server, from its shared memory and its statistics:
 *	  prepared_transactions, inactive_slots and slot_wal_retention (family
 *	  "holdback": what holds back vacuum and WAL removal), the replication
 *	  checks (family "replication"), checkpoints_requested and archive_ready
 *	  (family "wal"), archiver, and sampler with databases_unsampled.
 *
 * What the views show a caller without pg_read_all_stats (the WAL senders'
 * and the WAL receiver's states) is hidden here too, so that such a caller
 * gets what the views would have given it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "replication/slot.h"
#include "replication/syncrep.h"
#include "replication/walreceiver.h"
#include "replication/walsender_private.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "health.h"

/* Format of the times in the archiver check's messages */
#define PGMAINT_UTC_FORMAT		"YYYY-MM-DD HH24:MI:SS \"UTC\""

static void pgm_check_prepared(PgmCheckResult *r, const PgmEvalInput *in);
static const char *pgm_walsender_appname(int pid);

/*
 * The prepared_transactions check, from pg_prepared_xact() called directly
 * (a set-returning function, value per call): how many, and the oldest.
 */
static void
pgm_check_prepared(PgmCheckResult *r, const PgmEvalInput *in)
{
	FmgrInfo	flinfo;
	ReturnSetInfo rsinfo;
	ExprContext *econtext = CreateStandaloneExprContext();
	LOCAL_FCINFO(fcinfo, 0);
	int64		n = 0;
	TimestampTz oldest = 0;
	char	   *oldest_gid = NULL;

	fmgr_info(F_PG_PREPARED_XACT, &flinfo);
	memset(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = econtext;
	rsinfo.allowedModes = (int) SFRM_ValuePerCall;
	rsinfo.returnMode = SFRM_ValuePerCall;
	InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, NULL, (Node *) &rsinfo);
	for (;;)
	{
		Datum		row;
		bool		isnull;
		Datum		prepared;
		Datum		gid;

		rsinfo.isDone = ExprSingleResult;
		fcinfo->isnull = false;
		row = FunctionCallInvoke(fcinfo);
		if (rsinfo.isDone == ExprEndResult)
			break;
		if (fcinfo->isnull)
			continue;
		/* (transaction, gid, prepared, ownerid, dbid) */
		gid = GetAttributeByNum(DatumGetHeapTupleHeader(row), 2, &isnull);
		prepared = GetAttributeByNum(DatumGetHeapTupleHeader(row), 3, &isnull);
		if (isnull)
			continue;
		n++;
		if (oldest_gid == NULL || DatumGetTimestampTz(prepared) < oldest)
		{
			oldest = DatumGetTimestampTz(prepared);
			oldest_gid = TextDatumGetCString(gid);
		}
	}
	FreeExprContext(econtext, true);

	pgm_result_value(r, pgm_num_round_text(pgm_num_secs(n > 0 ? in->now - oldest : 0), 1));
	if (n == 0)
		pgm_result_message(r, "no prepared transaction");
	else
		pgm_result_message(r, INT64_FORMAT " prepared transaction(s), the oldest (%s) for %s",
						   n, quote_literal_cstr(oldest_gid), pgm_duration_text(in->now - oldest));
	pgm_result_hint(r, PGMAINT_HINT_PREPARED, NULL);
}

/*
 * Family "holdback": prepared transactions and replication slots, which
 * hold back vacuum and the removal of WAL.
 */
void
pgm_family_holdback(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r;
	XLogRecPtr	now_lsn = RecoveryInProgress() ? GetXLogReplayRecPtr(NULL) : GetXLogWriteRecPtr();
	int64		n = 0;
	int64		inactive = 0;
	char		inactive_example[NAMEDATALEN] = "";
	bool		has_retained = false;
	Datum		retained = (Datum) 0;	/* bytes, numeric (may be negative) */
	char		worst[NAMEDATALEN] = "";
	int			i;

	pgm_check_prepared(&eval->checks[PGMAINT_CHECK_PREPARED_TRANSACTIONS], in);

	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	for (i = 0; i < max_replication_slots; i++)
	{
		ReplicationSlot *slot = &ReplicationSlotCtl->replication_slots[i];
		char		name[NAMEDATALEN];
		pid_t		active_pid;
		XLogRecPtr	restart_lsn;

		if (!slot->in_use)
			continue;
		SpinLockAcquire(&slot->mutex);
		strlcpy(name, NameStr(slot->data.name), sizeof(name));
		active_pid = slot->active_pid;
		restart_lsn = slot->data.restart_lsn;
		SpinLockRelease(&slot->mutex);

		n++;
		if (active_pid == 0)
		{
			inactive++;
			if (inactive == 1 || strcmp(name, inactive_example) < 0)
				strlcpy(inactive_example, name, sizeof(inactive_example));
		}
		/* pg_wal_lsn_diff(now, restart_lsn), NULL when either is unknown */
		if (now_lsn != InvalidXLogRecPtr && restart_lsn != InvalidXLogRecPtr)
		{
			Datum		diff = pgm_num_sub(pgm_num_lit(psprintf(UINT64_FORMAT, (uint64) now_lsn)),
										   pgm_num_lit(psprintf(UINT64_FORMAT, (uint64) restart_lsn)));

			if (!has_retained || pgm_num_cmp(diff, retained) > 0)
			{
				retained = diff;
				strlcpy(worst, name, sizeof(worst));
			}
			has_retained = true;
		}
	}
	LWLockRelease(ReplicationSlotControlLock);

	r = &eval->checks[PGMAINT_CHECK_INACTIVE_SLOTS];
	pgm_result_value(r, psprintf(INT64_FORMAT, inactive));
	if (n == 0)
		pgm_result_message(r, "no replication slot");
	else if (inactive == 0)
		pgm_result_message(r, INT64_FORMAT " replication slot(s), all active", n);
	else
		pgm_result_message(r, INT64_FORMAT " of " INT64_FORMAT " replication slot(s) inactive, e.g. %s",
						   inactive, n, quote_identifier(inactive_example));
	pgm_result_hint(r, PGMAINT_HINT_INACTIVE_SLOTS, NULL);

	r = &eval->checks[PGMAINT_CHECK_SLOT_WAL_RETENTION];
	if (!has_retained)
	{
		pgm_result_value(r, "0.0");
		pgm_result_message(r, "no slot retains WAL");
	}
	else
	{
		Datum		mb = pgm_num_div(retained, pgm_num(1024 * 1024));
		int64		bytes = DatumGetInt64(DirectFunctionCall1(numeric_int8,
															  pgm_num_mul(mb, pgm_num(1024 * 1024))));

		pgm_result_value(r, pgm_num_round_text(mb, 1));
		pgm_result_message(r, "slot %s retains %s of WAL", quote_identifier(worst),
						   pgm_size_pretty(bytes));
	}
	pgm_result_hint(r, PGMAINT_HINT_SLOT_WAL, NULL);
}

/* The application_name of a WAL sender, as pg_stat_replication shows it (NULL: no such backend). */
static const char *
pgm_walsender_appname(int pid)
{
	int			n = pgstat_fetch_stat_numbackends();
	int			i;

	for (i = 1; i <= n; i++)
	{
#if PG_VERSION_NUM >= 170000
		LocalPgBackendStatus *local = pgstat_get_local_beentry_by_index(i);
#else
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
#endif

		if (local != NULL && local->backendStatus.st_procpid == pid)
			return local->backendStatus.st_appname ? local->backendStatus.st_appname : "";
	}
	return NULL;
}

/*
 * Family "replication": the replay lag by pgmaint's rule (replication.c), the
 * standbys expected and missing, and a standby's WAL receiver and replay.
 */
void
pgm_family_replication(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmReplicationLag l;
	PgmCheckResult *r;
	const char *worst = NULL;
	XLogRecPtr	worst_lsn = InvalidXLogRecPtr;
	int			streaming = 0;
	StringInfoData sync_missing;
	int			nmissing = 0;
	char	   *value = NULL;
	char	   *receiver = NULL;
	char	   *upstream = NULL;

	pgm_replication_lag(&l, in->now);
	initStringInfo(&sync_missing);

	if (!l.in_recovery)
	{
		int			i;

		/* pg_stat_replication: the standby furthest behind, and those streaming */
		for (i = 0; WalSndCtl != NULL && i < max_wal_senders; i++)
		{
			WalSnd	   *walsnd = &WalSndCtl->walsnds[i];
			pid_t		pid;
			WalSndState state;
			XLogRecPtr	apply;
			const char *appname;

			SpinLockAcquire(&walsnd->mutex);
			pid = walsnd->pid;
			state = walsnd->state;
			apply = walsnd->apply;
			SpinLockRelease(&walsnd->mutex);
			if (pid == 0 || (appname = pgm_walsender_appname(pid)) == NULL)
				continue;
			/* the view hides the state and positions from other callers */
			if (!in->privs.all_stats)
				apply = InvalidXLogRecPtr;
			else if (state == WALSNDSTATE_STREAMING)
				streaming++;
			/* ORDER BY replay_lsn NULLS FIRST, application_name */
			if (worst == NULL ||
				(apply == InvalidXLogRecPtr && worst_lsn != InvalidXLogRecPtr) ||
				(apply != InvalidXLogRecPtr && worst_lsn != InvalidXLogRecPtr && apply < worst_lsn) ||
				(apply == worst_lsn && pgm_text_cmp(appname, worst) < 0))
			{
				worst = appname;
				worst_lsn = apply;
			}
		}

		/* the names synchronous_standby_names asks for, not streaming */
		if (SyncRepConfig != NULL)
		{
			const char *name = SyncRepConfig->member_names;

			for (i = 0; i < SyncRepConfig->nmembers; i++, name += strlen(name) + 1)
			{
				bool		found = false;
				int			w;

				if (name[0] == '\0' || strcmp(name, "*") == 0)
					continue;
				for (w = 0; in->privs.all_stats && WalSndCtl != NULL && w < max_wal_senders; w++)
				{
					WalSnd	   *walsnd = &WalSndCtl->walsnds[w];
					pid_t		pid;
					WalSndState state;
					const char *appname;

					SpinLockAcquire(&walsnd->mutex);
					pid = walsnd->pid;
					state = walsnd->state;
					SpinLockRelease(&walsnd->mutex);
					if (pid != 0 && state == WALSNDSTATE_STREAMING &&
						(appname = pgm_walsender_appname(pid)) != NULL &&
						strcmp(appname, name) == 0)
						found = true;
				}
				if (found)
					continue;
				if (nmissing++ > 0)
					appendStringInfoString(&sync_missing, ", ");
				appendStringInfoString(&sync_missing, name);
			}
		}
	}

	r = &eval->checks[PGMAINT_CHECK_REPLICATION_LAG];
	if (l.lag_us >= 0 && (l.in_recovery || l.standbys > 0))
		value = pgm_num_round_text(pgm_num_f8((double) l.lag_us / USECS_PER_SEC), 1);
	if (!l.in_recovery && l.standbys == 0)
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, "no streaming standby");
	}
	else
	{
		pgm_result_value(r, value);
		if (l.lag_us < 0)
			pgm_result_message(r, "%s", l.in_recovery
							   ? "the standby has received no WAL from a primary yet"
							   : "no lag measured yet: the standbys have not replied");
		else if (l.in_recovery)
		{
			if (l.lag_us == 0)
				pgm_result_message(r, "the standby has replayed everything it received");
			else
				pgm_result_message(r, "the standby is %s s behind the last transaction it received", value);
		}
		else if (l.lag_us == 0)
			pgm_result_message(r, "all %d standby(s) replayed everything flushed", l.standbys);
		else
			pgm_result_message(r, "standby %s is %s s behind", worst ? worst : "", value);
	}
	pgm_result_hint(r, PGMAINT_HINT_REPL_LAG, NULL);

	r = &eval->checks[PGMAINT_CHECK_REPLICATION_LAG_BYTES];
	if (!l.in_recovery && l.standbys == 0)
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, "no streaming standby");
	}
	else if (l.lag_bytes < 0)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "nothing received yet");
	}
	else
	{
		pgm_result_value(r, psprintf(INT64_FORMAT, l.lag_bytes));
		if (l.in_recovery)
			pgm_result_message(r, "%s received and not replayed yet", pgm_size_pretty(l.lag_bytes));
		else
			pgm_result_message(r, "standby %s has %s of flushed WAL to replay",
							   worst ? worst : "", pgm_size_pretty(l.lag_bytes));
	}
	pgm_result_hint(r, PGMAINT_HINT_REPL_BYTES, NULL);

	r = &eval->checks[PGMAINT_CHECK_STANDBY_MISSING];
	if (l.in_recovery)
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, "this server is a standby");
	}
	else
	{
		pgm_result_value(r, psprintf("%d", Max(pgm_expected_standbys - streaming, 0) + nmissing));
		if (nmissing > 0)
			pgm_result_message(r, "synchronous standby %s not connected (%d of %d expected streaming)",
							   sync_missing.data, streaming, pgm_expected_standbys);
		else if (pgm_expected_standbys == 0)
			pgm_result_message(r, "%d streaming standby(s); pgmaint.expected_standbys is 0 (off)", streaming);
		else
			pgm_result_message(r, "%d of %d expected standby(s) streaming", streaming, pgm_expected_standbys);
	}
	pgm_result_hint(r, PGMAINT_HINT_STANDBY_MISSING, NULL);

	/* pg_stat_wal_receiver: a row while it runs, its details for pg_read_all_stats */
	if (WalRcv != NULL)
	{
		pid_t		pid;
		WalRcvState state;
		bool		ready;
		char		host[NI_MAXHOST];
		int			port;

		SpinLockAcquire(&WalRcv->mutex);
		pid = (pid_t) WalRcv->pid;
		state = WalRcv->walRcvState;
		ready = WalRcv->ready_to_display;
		strlcpy(host, (char *) WalRcv->sender_host, sizeof(host));
		port = WalRcv->sender_port;
		SpinLockRelease(&WalRcv->mutex);
		if (pid != 0 && ready && in->privs.all_stats)
		{
			switch (state)
			{
				case WALRCV_STOPPED:
					receiver = "stopped";
					break;
				case WALRCV_STARTING:
					receiver = "starting";
					break;
				case WALRCV_STREAMING:
					receiver = "streaming";
					break;
				case WALRCV_WAITING:
					receiver = "waiting";
					break;
				case WALRCV_RESTARTING:
					receiver = "restarting";
					break;
				case WALRCV_STOPPING:
					receiver = "stopping";
					break;
			}
			if (host[0] != '\0')
				upstream = psprintf("%s:%d", host, port);
		}
	}
	r = &eval->checks[PGMAINT_CHECK_WAL_RECEIVER];
	pgm_result_value(r, (!l.in_recovery || (receiver && strcmp(receiver, "streaming") == 0)) ? "0" : "1");
	if (!l.in_recovery)
		pgm_result_message(r, "this server is a primary");
	else if (receiver == NULL)
		pgm_result_message(r, "the standby's WAL receiver is not running");
	else
		pgm_result_message(r, "WAL receiver %s from %s", receiver,
						   upstream ? upstream : "an unknown primary");
	pgm_result_hint(r, PGMAINT_HINT_WAL_RECEIVER, NULL);

	r = &eval->checks[PGMAINT_CHECK_REPLAY_PAUSED];
	if (!l.in_recovery)
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, "this server is a primary");
	}
	else
	{
		RecoveryPauseState pause = GetRecoveryPauseState();

		pgm_result_value(r, pause != RECOVERY_NOT_PAUSED ? "1" : "0");
		if (pause == RECOVERY_PAUSE_REQUESTED)
			pgm_result_message(r, "WAL replay is pause requested");
		else if (pause == RECOVERY_PAUSED)
			pgm_result_message(r, "WAL replay is paused");
		else
			pgm_result_message(r, "WAL replay runs");
	}
	pgm_result_hint(r, PGMAINT_HINT_REPLAY_PAUSED, NULL);
}

/*
 * Family "wal": the share of checkpoints requested rather than timed (too
 * small a max_wal_size), and the WAL files waiting for the archiver.
 */
void
pgm_family_wal(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r;
	int64		timed;
	int64		req;
	TimestampTz reset;

	pgm_checkpoint_counts(&timed, &req, &reset);

	r = &eval->checks[PGMAINT_CHECK_CHECKPOINTS_REQUESTED];
	if (timed + req < 3)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, INT64_FORMAT " checkpoint(s) since the statistics reset (%s): too few to judge",
						   timed + req, reset != 0 ? pgm_timestamptz_text(reset) : "never reset");
	}
	else
	{
		pgm_result_value(r, pgm_num_round_text(pgm_num_div(pgm_num_mul(pgm_num_lit("100.0"), pgm_num(req)),
														   pgm_num(timed + req)), 1));
		pgm_result_message(r, INT64_FORMAT " of " INT64_FORMAT " checkpoints since %s were requested, " INT64_FORMAT " timed (checkpoint_timeout %s, max_wal_size %s)",
						   req, timed + req,
						   reset != 0 ? pgm_timestamptz_text(reset) : "the server started",
						   timed, GetConfigOptionByName("checkpoint_timeout", NULL, false),
						   GetConfigOptionByName("max_wal_size", NULL, false));
	}
	pgm_result_hint(r, PGMAINT_HINT_CHECKPOINTS, NULL);

	r = &eval->checks[PGMAINT_CHECK_ARCHIVE_READY];
	if (!in->privs.archive_status)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "cannot list pg_wal/archive_status: the caller lacks pg_monitor");
		pgm_result_hint(r, PGMAINT_HINT_GRANT_MONITOR, NULL);
	}
	else
	{
		/* pg_ls_archive_statusdir(): the regular files, their modification times */
		DIR		   *dir = AllocateDir(XLOGDIR "/archive_status");
		struct dirent *de;
		int64		ready = 0;
		TimestampTz oldest = 0;

		while (dir != NULL && (de = ReadDir(dir, XLOGDIR "/archive_status")) != NULL)
		{
			char		path[MAXPGPATH];
			struct stat st;
			size_t		len = strlen(de->d_name);
			TimestampTz mtime;

			if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 6, ".ready") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", XLOGDIR "/archive_status", de->d_name);
			if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			ready++;
			mtime = time_t_to_timestamptz(st.st_mtime);
			if (ready == 1 || mtime < oldest)
				oldest = mtime;
		}
		if (dir != NULL)
			FreeDir(dir);

		pgm_result_value(r, psprintf(INT64_FORMAT, ready));
		if (ready == 0)
			pgm_result_message(r, "no WAL file waits for the archiver");
		else
			pgm_result_message(r, INT64_FORMAT " WAL file(s) wait for the archiver, the oldest since %s (archive_mode %s)",
							   ready,
							   pgm_timestamptz_text(DatumGetTimestampTz(DirectFunctionCall2(timestamptz_trunc,
																							CStringGetTextDatum("second"),
																							TimestampTzGetDatum(oldest)))),
							   GetConfigOptionByName("archive_mode", NULL, false));
		pgm_result_hint(r, PGMAINT_HINT_ARCHIVE_READY, NULL);
	}
}

/* Family "archiver": 1 when the newest WAL archiving attempt failed. */
void
pgm_family_archiver(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r = &eval->checks[PGMAINT_CHECK_ARCHIVER];
	PgStat_ArchiverStats *a = pgstat_fetch_stat_archiver();
	bool		failing;

	failing = a->last_failed_timestamp != 0 &&
		(a->last_archived_timestamp == 0 ||
		 a->last_failed_timestamp > a->last_archived_timestamp);
	if (XLogArchiveMode == ARCHIVE_MODE_OFF)
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, "WAL archiving is off (archive_mode = off): nothing to check");
	}
	else if (failing)
	{
		pgm_result_value(r, "1");
		pgm_result_message(r, "archiving of WAL file %s failed at %s; " INT64_FORMAT " failure(s) since the statistics were reset, last success %s",
						   a->last_failed_wal,
						   pgm_to_char_utc(a->last_failed_timestamp, PGMAINT_UTC_FORMAT),
						   a->failed_count,
						   a->last_archived_timestamp != 0
						   ? pgm_to_char_utc(a->last_archived_timestamp, PGMAINT_UTC_FORMAT) : "never");
	}
	else if (a->last_archived_timestamp == 0)
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, "no WAL file archived yet");
	}
	else
	{
		pgm_result_value(r, "0");
		pgm_result_message(r, INT64_FORMAT " WAL file(s) archived, the last (%s) at %s",
						   a->archived_count, a->last_archived_wal,
						   pgm_to_char_utc(a->last_archived_timestamp, PGMAINT_UTC_FORMAT));
	}
	pgm_result_hint(r, PGMAINT_HINT_ARCHIVER, NULL);
}

/*
 * The databases_unsampled check: databases that may have pgmaint but have
 * no worker, because pgmaint.max_databases workers run already or no
 * background worker slot was free (the launcher's list, in shared memory).
 */
static void
pgm_check_unsampled(PgmCheckResult *r, bool preloaded)
{
	PgmUnsampledView left[8];
	int			n;
	int			i;
	StringInfoData names;

	if (!preloaded)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "pgmaint is not loaded through shared_preload_libraries: no worker samples any database");
		pgm_result_hint(r, PGMAINT_HINT_SAMPLER_NOT_PRELOADED, NULL);
		return;
	}
	n = pgm_slots_unsampled(left, lengthof(left));
	pgm_result_value(r, psprintf("%d", n));
	if (n == 0)
	{
		pgm_result_message(r, "every connectable database has a worker or was found without pgmaint (at most %d workers)",
						   pgm_slots_count());
		pgm_result_hint(r, PGMAINT_HINT_UNSAMPLED, NULL);
		return;
	}
	initStringInfo(&names);
	for (i = 0; i < Min(n, (int) lengthof(left)); i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", quote_identifier(left[i].datname));
	if (n > (int) lengthof(left))
		appendStringInfo(&names, " and %d more", n - (int) lengthof(left));
	pgm_result_message(r, "%d database(s) without a worker: %s (%s)", n, names.data,
					   pgm_unsampled_text(left[0].reason));
	pgm_result_hint(r, PGMAINT_HINT_UNSAMPLED, NULL);
}

/*
 * Family "sampler": sample intervals since this database's worker's last
 * heartbeat, and the databases left without a worker.
 */
void
pgm_family_sampler(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r = &eval->checks[PGMAINT_CHECK_SAMPLER];
	PgmSamplerView v;

	pgm_sampler_view(&v);
	pgm_check_unsampled(&eval->checks[PGMAINT_CHECK_DATABASES_UNSAMPLED], v.preloaded);
	if (!v.preloaded)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "%s", v.last_error ? v.last_error : "");
		pgm_result_hint(r, PGMAINT_HINT_SAMPLER_NOT_PRELOADED, NULL);
		return;
	}
	{
		TimestampTz since = v.st.heartbeat_at != 0 ? v.st.heartbeat_at : PgStartTime;
		Datum		interval = pgm_num_secs((int64) v.interval_s * USECS_PER_SEC);

		if (pgm_num_cmp(interval, pgm_num(1)) < 0)
			interval = pgm_num(1);
		pgm_result_value(r, pgm_num_round_text(pgm_num_div(pgm_num_secs(in->now - since), interval), 1));
	}
	if (v.running)
	{
		pgm_result_message(r, "sampling every %d s in database %s; last heartbeat %s s ago, " INT64_FORMAT " samples taken",
						   v.interval_s, v.database ? v.database : "",
						   pgm_num_round_text(pgm_num_secs(in->now - v.st.heartbeat_at), 1),
						   v.st.samples_taken);
		pgm_result_hint(r, PGMAINT_HINT_SAMPLER_STALLED, NULL);
	}
	else
	{
		pgm_result_message(r, "the sampler worker is not running: %s",
						   v.last_error ? v.last_error : "no reason recorded");
		pgm_result_hint(r, PGMAINT_HINT_SAMPLER_DOWN, NULL);
	}
}

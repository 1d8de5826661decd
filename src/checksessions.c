/*-------------------------------------------------------------------------
 *
 * checksessions.c
 *	  The checks of the server's sessions, from the backend status array and
 *	  the PGPROC array (what pg_stat_activity and pg_locks show), without a
 *	  query: connections, idle_in_transaction and idle_in_transaction_aborted
 *	  (family "sessions"), long_running_queries and blocked_sessions (family
 *	  "activity"), both server-wide; and this database's cache_hit (family
 *	  "cache").
 *
 * Visibility follows pg_stat_activity's: a caller without pg_read_all_stats
 * cannot see other roles' states, so the checks that need them are unknown
 * for it, with a message that says why.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "health.h"

/* Statements running longer than this are counted in long_running_queries' message */
#define PGMAINT_LONG_QUERY_USECS	(30 * USECS_PER_SEC)

/* The sessions idle in a transaction, of one kind */
typedef struct PgmIdle
{
	int64		n;
	TimestampTz oldest_change;	/* state_change of the oldest */
	int			oldest_pid;
} PgmIdle;

static int	pgm_backend_count(void);
static LocalPgBackendStatus *pgm_backend(int i);
static void pgm_check_idle(PgmCheckResult *r, const PgmIdle *idle, bool aborted,
						   const PgmEvalInput *in);
static void pgm_check_cache_hit(PgmCheckResult *r, const PgmEvalInput *in);

/* The number of entries of this transaction's copy of the backend status array. */
static int
pgm_backend_count(void)
{
	return pgstat_fetch_stat_numbackends();
}

/* Entry i (1-based) of that copy. */
static LocalPgBackendStatus *
pgm_backend(int i)
{
#if PG_VERSION_NUM >= 170000
	return pgstat_get_local_beentry_by_index(i);
#else
	return pgstat_fetch_stat_local_beentry(i);
#endif
}

/*
 * Family "sessions": connection slots in use and sessions idle in a
 * transaction (the lock-holding kind, and apart from it the aborted kind,
 * which holds only a slot), server-wide.
 */
void
pgm_family_sessions(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r;
	PgmIdle		idle[2];
	int64		used = 0;
	int			usable;
	int			n = pgm_backend_count();
	int			i;

	memset(idle, 0, sizeof(idle));
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgm_backend(i);
		PgBackendStatus *be;
		int			kind;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_backendType == B_BACKEND)
			used++;
		/* the leak rule (pgmaint._leaked) with idle_for 0, split by kind */
		if (!pgm_leak_state_since(be->st_state, be->st_state_start_timestamp, in->now))
			continue;
		kind = be->st_state == STATE_IDLEINTRANSACTION_ABORTED ? 1 : 0;
		idle[kind].n++;
		if (idle[kind].n == 1 || be->st_state_start_timestamp < idle[kind].oldest_change)
		{
			idle[kind].oldest_change = be->st_state_start_timestamp;
			idle[kind].oldest_pid = be->st_procpid;
		}
	}

	/* connections: what every role sees */
	usable = pgm_usable_connections();
	r = &eval->checks[PGMAINT_CHECK_CONNECTIONS];
	pgm_result_value(r, pgm_num_round_text(pgm_num_div(pgm_num_mul(pgm_num_lit("100.0"),
																   pgm_num(used)),
													   pgm_num(Max(usable, 1))), 1));
	pgm_result_message(r, INT64_FORMAT " of %d usable connections in use", used, usable);
	pgm_result_hint(r, PGMAINT_HINT_CONNECTIONS, NULL);

	pgm_check_idle(&eval->checks[PGMAINT_CHECK_IDLE_IN_TRANSACTION], &idle[0], false, in);
	pgm_check_idle(&eval->checks[PGMAINT_CHECK_IDLE_IN_TRANSACTION_ABORTED], &idle[1], true, in);
}

/* Family "cache": this database's cache hit ratio (the sessions' families are the server's). */
void
pgm_family_cache(const PgmEvalInput *in, PgmEvaluation *eval)
{
	pgm_check_cache_hit(&eval->checks[PGMAINT_CHECK_CACHE_HIT], in);
}

/* The idle_in_transaction check, or its aborted kind. */
static void
pgm_check_idle(PgmCheckResult *r, const PgmIdle *idle, bool aborted, const PgmEvalInput *in)
{
	int64		oldest = idle->n > 0 ? in->now - idle->oldest_change : 0;

	if (!in->privs.all_stats)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "cannot see other roles' sessions: the caller lacks pg_read_all_stats");
		pgm_result_hint(r, PGMAINT_HINT_GRANT_MONITOR, NULL);
		return;
	}
	pgm_result_value(r, pgm_num_round_text(pgm_num_secs(oldest), 1));
	if (idle->n == 0)
		pgm_result_message(r, aborted ? "no session is idle in an aborted transaction"
						   : "no session is idle in a transaction");
	else if (aborted)
		pgm_result_message(r, INT64_FORMAT " session(s) idle in an aborted transaction, the oldest (pid %d) for %s: each holds a connection slot, no locks and no snapshot",
						   idle->n, idle->oldest_pid, pgm_duration_text(oldest));
	else
		pgm_result_message(r, INT64_FORMAT " session(s) idle in a transaction, the oldest (pid %d) for %s",
						   idle->n, idle->oldest_pid, pgm_duration_text(oldest));
	pgm_result_hint(r, aborted ? PGMAINT_HINT_IDLE_ABORTED : PGMAINT_HINT_IDLE, NULL);
}

/*
 * The cache_hit check: the share of this database's block reads served from
 * shared buffers over the last hour of the worker's samples when the worker
 * samples this database, else since the statistics reset.
 */
static void
pgm_check_cache_hit(PgmCheckResult *r, const PgmEvalInput *in)
{
	PgStat_StatDBEntry *db = pgstat_fetch_stat_dbentry(MyDatabaseId);
	int64		hits = 0;
	int64		reads = 0;
	const char *basis;

	if (pgm_cache_hit_last_hour(in->xact_now, &hits, &reads) && hits + reads > 0)
		basis = "in the last hour";
	else
	{
		basis = "since the statistics reset";
		hits = reads = 0;
		if (db != NULL)
		{
#if PG_VERSION_NUM >= 160000
			hits = db->blocks_hit;
			reads = db->blocks_fetched - db->blocks_hit;
#else
			hits = db->n_blocks_hit;
			reads = db->n_blocks_fetched - db->n_blocks_hit;
#endif
		}
	}

	if (hits + reads > 0)
	{
		char	   *ratio = pgm_num_round_text(pgm_num_div(pgm_num_mul(pgm_num_lit("100.0"),
																	   pgm_num(hits)),
														   pgm_num(hits + reads)), 2);

		pgm_result_value(r, ratio);
		pgm_result_message(r, "%s%% of " INT64_FORMAT " block reads %s served from shared buffers",
						   ratio, hits + reads, basis);
	}
	else
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "no block reads yet in this database");
	}
	pgm_result_hint(r, PGMAINT_HINT_CACHE_HIT, NULL);
}

/*
 * Family "activity": the longest statement running (other than the
 * caller's) and the longest wait for a heavyweight lock, from the PGPROC
 * array: a process waits on a lock when its waitLock is set, which is what
 * makes pg_locks show it not granted, and waitStart is pg_locks' waitstart.
 */
void
pgm_family_activity(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r;
	int64		over_30s = 0;
	bool		any_active = false;
	TimestampTz oldest_start = 0;
	int			oldest_pid = 0;
	int64		waiting = 0;
	TimestampTz oldest_wait = 0;
	int			wait_pid = 0;
	int			n = pgm_backend_count();
	int			i;

	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgm_backend(i);
		PgBackendStatus *be;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_backendType != B_BACKEND || be->st_state != STATE_RUNNING ||
			be->st_procpid == MyProcPid || be->st_activity_start_timestamp == 0)
			continue;
		if (in->now - be->st_activity_start_timestamp > PGMAINT_LONG_QUERY_USECS)
			over_30s++;
		if (!any_active || be->st_activity_start_timestamp < oldest_start)
		{
			oldest_start = be->st_activity_start_timestamp;
			oldest_pid = be->st_procpid;
		}
		any_active = true;
	}

	for (i = 0; i < (int) ProcGlobal->allProcCount; i++)
	{
		PGPROC	   *proc = &ProcGlobal->allProcs[i];
		TimestampTz start;

		if (proc->pid == 0 || *((LOCK *volatile *) &proc->waitLock) == NULL)
			continue;
		waiting++;
		start = (TimestampTz) pg_atomic_read_u64(&proc->waitStart);
		if (start != 0 && (oldest_wait == 0 || start < oldest_wait))
		{
			oldest_wait = start;
			wait_pid = proc->pid;
		}
	}

	r = &eval->checks[PGMAINT_CHECK_LONG_RUNNING_QUERIES];
	if (!in->privs.all_stats)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "cannot see other roles' statements: the caller lacks pg_read_all_stats");
		pgm_result_hint(r, PGMAINT_HINT_GRANT_MONITOR, NULL);
	}
	else
	{
		int64		longest = any_active ? in->now - oldest_start : 0;

		pgm_result_value(r, pgm_num_round_text(pgm_num_secs(longest), 1));
		if (!any_active)
			pgm_result_message(r, "no statement is running");
		else
			pgm_result_message(r, "longest statement (pid %d) has run %s; " INT64_FORMAT " over 30 s",
							   oldest_pid, pgm_duration_text(longest), over_30s);
		pgm_result_hint(r, PGMAINT_HINT_LONG_QUERIES, NULL);
	}

	r = &eval->checks[PGMAINT_CHECK_BLOCKED_SESSIONS];
	{
		int64		longest = oldest_wait != 0 ? in->now - oldest_wait : 0;

		pgm_result_value(r, pgm_num_round_text(pgm_num_secs(longest), 1));
		if (waiting == 0)
			pgm_result_message(r, "no session waits on a lock");
		else if (wait_pid != 0)
			pgm_result_message(r, INT64_FORMAT " session(s) wait on a lock, the longest (pid %d) for %s",
							   waiting, wait_pid, pgm_duration_text(longest));
		else
			pgm_result_message(r, INT64_FORMAT " session(s) wait on a lock, the longest (pid ) for %s",
							   waiting, pgm_duration_text(longest));
		pgm_result_hint(r, PGMAINT_HINT_BLOCKED, NULL);
	}
}

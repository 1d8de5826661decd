/*-------------------------------------------------------------------------
 *
 * checkreg.c
 *	  The registry of the health checks: their names, the family that
 *	  measures each (evaluate.c runs the families), and their order by name.
 *	  The bottom of the checks' layers: every file of them may read it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "health.h"

/* A check: its name and the family that measures it */
typedef struct PgmCheckDef
{
	const char *name;
	PgmFamily	family;
} PgmCheckDef;

/* The checks, by PgmCheck */
static const PgmCheckDef pgm_checks[PGMAINT_NCHECKS] = {
	[PGMAINT_CHECK_ANALYZE_AGE] = {"analyze_age", PGMAINT_FAMILY_MAINTENANCE_AGE},
	[PGMAINT_CHECK_ARCHIVE_READY] = {"archive_ready", PGMAINT_FAMILY_WAL},
	[PGMAINT_CHECK_ARCHIVER] = {"archiver", PGMAINT_FAMILY_ARCHIVER},
	[PGMAINT_CHECK_AUTOVACUUM_BEHIND] = {"autovacuum_behind", PGMAINT_FAMILY_TABLES},
	[PGMAINT_CHECK_BACKUP] = {"backup", PGMAINT_FAMILY_BACKUP},
	[PGMAINT_CHECK_BLOAT] = {"bloat", PGMAINT_FAMILY_SPACE},
	[PGMAINT_CHECK_BLOCKED_SESSIONS] = {"blocked_sessions", PGMAINT_FAMILY_ACTIVITY},
	[PGMAINT_CHECK_CACHE_HIT] = {"cache_hit", PGMAINT_FAMILY_CACHE},
	[PGMAINT_CHECK_CHECKPOINTS_REQUESTED] = {"checkpoints_requested", PGMAINT_FAMILY_WAL},
	[PGMAINT_CHECK_CONNECTIONS] = {"connections", PGMAINT_FAMILY_SESSIONS},
	[PGMAINT_CHECK_DATABASES_UNSAMPLED] = {"databases_unsampled", PGMAINT_FAMILY_SAMPLER},
	[PGMAINT_CHECK_DEAD_TUPLES] = {"dead_tuples", PGMAINT_FAMILY_TABLES},
	[PGMAINT_CHECK_DISABLED_TRIGGERS] = {"disabled_triggers", PGMAINT_FAMILY_SCHEMA},
	[PGMAINT_CHECK_DISK_FREE] = {"disk_free", PGMAINT_FAMILY_TABLES},
	[PGMAINT_CHECK_DISK_FULL_ETA] = {"disk_full_eta", PGMAINT_FAMILY_SPACE},
	[PGMAINT_CHECK_IDLE_IN_TRANSACTION] = {"idle_in_transaction", PGMAINT_FAMILY_SESSIONS},
	[PGMAINT_CHECK_IDLE_IN_TRANSACTION_ABORTED] = {"idle_in_transaction_aborted", PGMAINT_FAMILY_SESSIONS},
	[PGMAINT_CHECK_INACTIVE_SLOTS] = {"inactive_slots", PGMAINT_FAMILY_HOLDBACK},
	[PGMAINT_CHECK_INVALID_INDEXES] = {"invalid_indexes", PGMAINT_FAMILY_CATALOG},
	[PGMAINT_CHECK_LONG_RUNNING_QUERIES] = {"long_running_queries", PGMAINT_FAMILY_ACTIVITY},
	[PGMAINT_CHECK_MULTIXACT_WRAPAROUND] = {"multixact_wraparound", PGMAINT_FAMILY_WRAPAROUND},
	[PGMAINT_CHECK_NOT_VALID_CONSTRAINTS] = {"not_valid_constraints", PGMAINT_FAMILY_SCHEMA},
	[PGMAINT_CHECK_PITR_BACKUP] = {"pitr_backup", PGMAINT_FAMILY_PITR},
	[PGMAINT_CHECK_PITR_BACKUP_AGE] = {"pitr_backup_age", PGMAINT_FAMILY_PITR},
	[PGMAINT_CHECK_PITR_FULL_BACKUP_AGE] = {"pitr_full_backup_age", PGMAINT_FAMILY_PITR},
	[PGMAINT_CHECK_PREPARED_TRANSACTIONS] = {"prepared_transactions", PGMAINT_FAMILY_HOLDBACK},
	[PGMAINT_CHECK_RECOVERY_POINT] = {"recovery_point", PGMAINT_FAMILY_PITR},
	[PGMAINT_CHECK_REPLAY_PAUSED] = {"replay_paused", PGMAINT_FAMILY_REPLICATION},
	[PGMAINT_CHECK_REPLICATION_LAG] = {"replication_lag", PGMAINT_FAMILY_REPLICATION},
	[PGMAINT_CHECK_REPLICATION_LAG_BYTES] = {"replication_lag_bytes", PGMAINT_FAMILY_REPLICATION},
	[PGMAINT_CHECK_RETENTION] = {"retention", PGMAINT_FAMILY_RETENTION},
	[PGMAINT_CHECK_SAMPLER] = {"sampler", PGMAINT_FAMILY_SAMPLER},
	[PGMAINT_CHECK_SEQUENCES] = {"sequences", PGMAINT_FAMILY_CATALOG},
	[PGMAINT_CHECK_SLOT_WAL_RETENTION] = {"slot_wal_retention", PGMAINT_FAMILY_HOLDBACK},
	[PGMAINT_CHECK_STANDBY_MISSING] = {"standby_missing", PGMAINT_FAMILY_REPLICATION},
	[PGMAINT_CHECK_TABLE_CACHE_HIT] = {"table_cache_hit", PGMAINT_FAMILY_TABLES},
	[PGMAINT_CHECK_VACUUM_AGE] = {"vacuum_age", PGMAINT_FAMILY_MAINTENANCE_AGE},
	[PGMAINT_CHECK_WAL_RECEIVER] = {"wal_receiver", PGMAINT_FAMILY_REPLICATION},
	[PGMAINT_CHECK_XID_WRAPAROUND] = {"xid_wraparound", PGMAINT_FAMILY_WRAPAROUND},
};

/* The checks in the order of their names in this database's collation */
static PgmCheck pgm_sorted_checks[PGMAINT_NCHECKS];
static bool pgm_sorted = false;

static int	pgm_check_name_cmp(const void *a, const void *b);

/* The name of a check. */
const char *
pgm_check_name(PgmCheck check)
{
	Assert(check >= 0 && check < PGMAINT_NCHECKS);
	return pgm_checks[check].name;
}

/* The check of a name; false when there is none. */
bool
pgm_check_lookup(const char *name, PgmCheck *check)
{
	int			i;

	for (i = 0; i < PGMAINT_NCHECKS; i++)
	{
		if (strcmp(pgm_checks[i].name, name) == 0)
		{
			*check = (PgmCheck) i;
			return true;
		}
	}
	return false;
}

/* Orders two checks by name, as ORDER BY check_name does. */
static int
pgm_check_name_cmp(const void *a, const void *b)
{
	return pgm_text_cmp(pgm_checks[*(const PgmCheck *) a].name,
						pgm_checks[*(const PgmCheck *) b].name);
}

/*
 * The checks in the order of their names in the database's collation (as
 * health_checks() lists them), sorted once per process.
 */
const PgmCheck *
pgm_checks_by_name(void)
{
	if (!pgm_sorted)
	{
		int			i;

		for (i = 0; i < PGMAINT_NCHECKS; i++)
			pgm_sorted_checks[i] = (PgmCheck) i;
		qsort(pgm_sorted_checks, PGMAINT_NCHECKS, sizeof(PgmCheck), pgm_check_name_cmp);
		pgm_sorted = true;
	}
	return pgm_sorted_checks;
}

/* The family that measures a check. */
PgmFamily
pgm_check_family(PgmCheck check)
{
	Assert(check >= 0 && check < PGMAINT_NCHECKS);
	return pgm_checks[check].family;
}

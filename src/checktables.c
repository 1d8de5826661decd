/*-------------------------------------------------------------------------
 *
 * checktables.c
 *	  The checks of the database's tables, from one pass over pg_class and
 *	  the statistics (tablehealth.c's, which the worker makes at every
 *	  sample): table_cache_hit, dead_tuples, autovacuum_behind and disk_free
 *	  (family "tables"), vacuum_age and analyze_age (family "maintenance
 *	  age").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "health.h"

static void pgm_check_age(PgmCheckResult *r, const PgmAgeWorst *w, bool vacuum,
						  const PgmEvalInput *in);

/* The table-level figures: the worker's last pass, or one made now (once per evaluation). */
const PgmTableHealth *
pgm_eval_tables(const PgmEvalInput *in)
{
	if (!in->pass->done)
	{
		PgmTableSums sums;

		pgm_table_pass(&in->pass->health, &sums, in->xact_now);
		in->pass->done = true;
	}
	return &in->pass->health;
}

/*
 * Family "tables": the table with the lowest heap hit ratio, the highest
 * dead-tuple share, the tables where autovacuum falls behind (or is off),
 * and the data directory's free disk.
 */
void
pgm_family_tables(const PgmEvalInput *in, PgmEvaluation *eval)
{
	const PgmTableHealth *f = pgm_eval_tables(in);
	PgmCheckResult *r;

	r = &eval->checks[PGMAINT_CHECK_TABLE_CACHE_HIT];
	if (!OidIsValid(f->hit_relid))
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "no table has " INT64_FORMAT " heap block reads yet", f->min_reads);
	}
	else
	{
		char	   *value = pgm_num_round_text(pgm_num_f8(100 * f->hit_ratio), 2);

		pgm_result_value(r, value);
		pgm_result_message(r, "table %s has the lowest heap hit ratio, %s%% of " INT64_FORMAT " reads",
						   pgm_regclass_text(f->hit_relid), value, f->hit_reads);
	}
	pgm_result_hint(r, PGMAINT_HINT_TABLE_CACHE, NULL);

	r = &eval->checks[PGMAINT_CHECK_DEAD_TUPLES];
	{
		char	   *value = pgm_num_round_text(pgm_num_f8(OidIsValid(f->dead_relid)
														  ? 100 * f->dead_share : 0), 2);

		pgm_result_value(r, value);
		if (!OidIsValid(f->dead_relid))
			pgm_result_message(r, "no table has " INT64_FORMAT " tuples yet", f->min_tuples);
		else
			pgm_result_message(r, "table %s has the highest dead-tuple share, %s%% (" INT64_FORMAT " dead)",
							   pgm_regclass_text(f->dead_relid), value, f->dead_tuples);
	}
	pgm_result_hint(r, PGMAINT_HINT_DEAD, NULL);

	/*
	 * A table with autovacuum_enabled = off is not autovacuum falling behind:
	 * nobody vacuums it unless someone does so by hand.
	 */
	r = &eval->checks[PGMAINT_CHECK_AUTOVACUUM_BEHIND];
	pgm_result_value(r, psprintf("%d", f->falling_behind));
	if (f->falling_behind == 0)
	{
		pgm_result_message(r, "autovacuum keeps up with all " INT64_FORMAT " tables", f->tables);
		pgm_result_hint(r, PGMAINT_HINT_AV_BEHIND, NULL);
	}
	else if (f->falling_disabled)
	{
		char	   *table = pgm_regclass_text(f->falling_relid);

		pgm_result_message(r, "autovacuum is disabled on %s (autovacuum_enabled = off), " INT64_FORMAT " dead tuples, " INT64_FORMAT " inserted since its last vacuum; %d table(s) past twice a vacuum threshold",
						   table, f->falling_dead, f->falling_inserts, f->falling_behind);
		pgm_result_hint(r, PGMAINT_HINT_AV_DISABLED, table);
	}
	else
	{
		pgm_result_message(r, "autovacuum falls behind on %d table(s), the worst %s with " INT64_FORMAT " dead tuples and " INT64_FORMAT " inserted since its last vacuum",
						   f->falling_behind, pgm_regclass_text(f->falling_relid), f->falling_dead,
						   f->falling_inserts);
		pgm_result_hint(r, PGMAINT_HINT_AV_BEHIND, NULL);
	}

	r = &eval->checks[PGMAINT_CHECK_DISK_FREE];
	if (!in->privs.all_settings)
	{
		pgm_result_value(r, NULL);
		pgm_result_message(r, "cannot see the data directory: the caller lacks pg_read_all_settings");
		pgm_result_hint(r, PGMAINT_HINT_GRANT_MONITOR, NULL);
	}
	else
	{
		int64		total;
		int64		free;
		int64		available;
		char	   *value = NULL;

		if (!pgm_disk_space(&total, &free, &available))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file system statistics of the data directory: %m")));
		if (total > 0)
			value = pgm_num_round_text(pgm_num_f8(100.0 * (double) available / (double) total), 1);
		pgm_result_value(r, value);
		pgm_result_message(r, "%s%% of the data directory's file system is available",
						   value ? value : "");
		pgm_result_hint(r, PGMAINT_HINT_DISK_FREE, NULL);
	}
}

/* The vacuum_age or the analyze_age check. */
static void
pgm_check_age(PgmCheckResult *r, const PgmAgeWorst *w, bool vacuum, const PgmEvalInput *in)
{
	StringInfoData msg;

	initStringInfo(&msg);
	if (!OidIsValid(w->relid))
	{
		pgm_result_value(r, "0");
		appendStringInfoString(&msg, vacuum
							   ? "no vacuumed table has changed since its last vacuum"
							   : "no analyzed table has changed since its last analyze");
	}
	else
	{
		/* date_trunc('second', now() - at), and its seconds rounded */
		Datum		age = DirectFunctionCall2(interval_trunc, CStringGetTextDatum("second"),
											  DirectFunctionCall2(timestamp_mi,
																  TimestampTzGetDatum(in->xact_now),
																  TimestampTzGetDatum(w->at)));
		Datum		secs = DirectFunctionCall2(extract_interval, CStringGetTextDatum("epoch"), age);

		pgm_result_value(r, pgm_num_round_text(secs, 0));
		if (vacuum)
			appendStringInfo(&msg, INT64_FORMAT " table(s) changed since their last vacuum; the oldest, %s, was vacuumed %s ago (" INT64_FORMAT " dead or inserted tuples since)",
							 w->changed, pgm_regclass_text(w->relid), pgm_interval_text(age), w->changes);
		else
			appendStringInfo(&msg, INT64_FORMAT " table(s) modified since their last analyze; the oldest, %s, was analyzed %s ago (" INT64_FORMAT " modified tuples since)",
							 w->changed, pgm_regclass_text(w->relid), pgm_interval_text(age), w->changes);
	}
	if (w->never > 0)
		appendStringInfo(&msg, vacuum
						 ? "; " INT64_FORMAT " changed table(s) never vacuumed since the statistics reset (see autovacuum_behind)"
						 : "; " INT64_FORMAT " modified table(s) never analyzed since the statistics reset",
						 w->never);
	pgm_result_message(r, "%s", msg.data);
	pgm_result_hint(r, vacuum ? PGMAINT_HINT_VACUUM_AGE : PGMAINT_HINT_ANALYZE_AGE, NULL);
}

/*
 * Family "maintenance age": tables that change but whose last vacuum or
 * analyze (the later of manual and auto) is old.
 */
void
pgm_family_maintenance_age(const PgmEvalInput *in, PgmEvaluation *eval)
{
	const PgmTableHealth *f = pgm_eval_tables(in);

	pgm_check_age(&eval->checks[PGMAINT_CHECK_VACUUM_AGE], &f->vacuum, true, in);
	pgm_check_age(&eval->checks[PGMAINT_CHECK_ANALYZE_AGE], &f->analyze, false, in);
}

/*-------------------------------------------------------------------------
 *
 * tablehealth.c
 *	  Autovacuum thresholds of a table and the table-level health figures of
 *	  a database: the one copy of PostgreSQL 15's autovacuum formula
 *	  (relation_needs_vacanalyze), the aggregates behind the table_cache_hit,
 *	  dead_tuples and autovacuum_behind checks, and the floors below which a
 *	  table is not judged.
 *
 * SQL served: pgmaint._table_health_floors() (sql/install/80-checks.sql);
 * the code is called by vacuum_stats() and _table_health() (tablestats.c,
 * sql/install/30-tablestats.sql and 80-checks.sql), by the worker's sample
 * (sampler.c) and by _table_health_sampled() (ring.c, 80-checks.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "utils/rel.h"

#include "pgmaint.h"

PG_FUNCTION_INFO_V1(pgmaint_table_health_floors);

/* Reads what pgm_vacuum_verdict needs from the server, once per pass. */
void
pgm_vacuum_context_init(PgmVacuumContext *ctx, TimestampTz now)
{
	ctx->next_xid = ReadNextTransactionId();
	ctx->next_mxid = ReadNextMultiXactId();
	ctx->effective_mxid_max_age = MultiXactMemberFreezeThreshold();
	ctx->now = now;
	ctx->av_active = AutoVacuumingActive();
}

/*
 * Computes the thresholds at which autovacuum acts on a table (not a
 * partitioned one) and whether it is due, as PostgreSQL's autovacuum does
 * (relation_needs_vacanalyze): the table's reloption when set, else the
 * setting; reltuples < 0 (never vacuumed or analyzed) counts as 0; an insert
 * threshold of -1 disables insert-driven vacuums.  The table falls behind
 * when its dead tuples exceed twice the threshold and it has not been
 * vacuumed for PGMAINT_FALLING_BEHIND_NAPTIMES naptimes.  This is the only
 * copy of the formula: vacuum_stats(), the sampler and _table_health() use it.
 */
void
pgm_vacuum_verdict(HeapTuple classtup, TupleDesc classdesc,
				   PgStat_StatTabEntry *stats,
				   const PgmVacuumContext *ctx, PgmVacuumVerdict *v)
{
	Form_pg_class form = (Form_pg_class) GETSTRUCT(classtup);
	/* the variables, types and order of relation_needs_vacanalyze */
	bytea	   *reloptions = NULL;
	AutoVacOpts *opts = NULL;
	int			vac_base_thresh,
				anl_base_thresh;
	float4		vac_scale_factor,
				vac_ins_scale_factor,
				anl_scale_factor;
	float4		reltuples;
	int			mxid_freeze_max_age;
	TransactionId xid_force_limit;
	MultiXactId mxid_force_limit;
	bool		force_vacuum;
	int64		dead = 0;
	int64		inserts = 0;
	int64		mods = 0;
	TimestampTz last_vacuum = 0;

	if (stats != NULL)
	{
		dead = PGM_TAB_DEAD(stats);
		inserts = PGM_TAB_INSERTS(stats);
		mods = PGM_TAB_MODS(stats);
		last_vacuum = Max(PGM_TAB_VAC_TIME(stats), PGM_TAB_AUTOVAC_TIME(stats));
	}

	if (!heap_attisnull(classtup, Anum_pg_class_reloptions, NULL))
	{
		reloptions = extractRelOptions(classtup, classdesc, NULL);
		if (reloptions != NULL)
			opts = &((StdRdOptions *) reloptions)->autovacuum;
	}

	vac_scale_factor = (opts && opts->vacuum_scale_factor >= 0)
		? opts->vacuum_scale_factor : autovacuum_vac_scale;
	vac_base_thresh = (opts && opts->vacuum_threshold >= 0)
		? opts->vacuum_threshold : autovacuum_vac_thresh;
	vac_ins_scale_factor = (opts && opts->vacuum_ins_scale_factor >= 0)
		? opts->vacuum_ins_scale_factor : autovacuum_vac_ins_scale;
	v->vac_ins_base_thresh = (opts && opts->vacuum_ins_threshold >= -1)
		? opts->vacuum_ins_threshold : autovacuum_vac_ins_thresh;
	anl_scale_factor = (opts && opts->analyze_scale_factor >= 0)
		? opts->analyze_scale_factor : autovacuum_anl_scale;
	anl_base_thresh = (opts && opts->analyze_threshold >= 0)
		? opts->analyze_threshold : autovacuum_anl_thresh;
	v->freeze_max_age = (opts && opts->freeze_max_age >= 0)
		? Min(opts->freeze_max_age, autovacuum_freeze_max_age)
		: autovacuum_freeze_max_age;
	mxid_freeze_max_age = (opts && opts->multixact_freeze_max_age >= 0)
		? Min(opts->multixact_freeze_max_age, ctx->effective_mxid_max_age)
		: ctx->effective_mxid_max_age;
	v->av_enabled = opts ? opts->enabled : true;
	if (reloptions != NULL)
		pfree(reloptions);

	/* anti-wraparound vacuums are forced, whatever the thresholds */
	xid_force_limit = ctx->next_xid - v->freeze_max_age;
	if (xid_force_limit < FirstNormalTransactionId)
		xid_force_limit -= FirstNormalTransactionId;
	force_vacuum = TransactionIdIsNormal(form->relfrozenxid) &&
		TransactionIdPrecedes(form->relfrozenxid, xid_force_limit);
	if (!force_vacuum)
	{
		mxid_force_limit = ctx->next_mxid - mxid_freeze_max_age;
		if (mxid_force_limit < FirstMultiXactId)
			mxid_force_limit -= FirstMultiXactId;
		force_vacuum = MultiXactIdIsValid(form->relminmxid) &&
			MultiXactIdPrecedes(form->relminmxid, mxid_force_limit);
	}

	reltuples = form->reltuples;
	if (reltuples < 0)
		reltuples = 0;
	v->vacthresh = (float4) vac_base_thresh + vac_scale_factor * reltuples;
	v->vacinsthresh = (float4) v->vac_ins_base_thresh + vac_ins_scale_factor * reltuples;
	v->anlthresh = (float4) anl_base_thresh + anl_scale_factor * reltuples;

	if (!v->av_enabled && !force_vacuum)
		v->dovacuum = v->doanalyze = false;
	else if (stats != NULL && ctx->av_active)
	{
		v->dovacuum = force_vacuum || ((float4) dead > v->vacthresh) ||
			(v->vac_ins_base_thresh >= 0 && (float4) inserts > v->vacinsthresh);
		v->doanalyze = ((float4) mods > v->anlthresh);
	}
	else
	{
		v->dovacuum = force_vacuum;
		v->doanalyze = false;
	}
	/* autovacuum never analyzes TOAST tables */
	if (form->relkind == RELKIND_TOASTVALUE)
		v->doanalyze = false;

	v->falling_behind = (float4) dead > 2 * v->vacthresh &&
		(last_vacuum == 0 ||
		 ctx->now - last_vacuum >
		 (int64) PGMAINT_FALLING_BEHIND_NAPTIMES * autovacuum_naptime * USECS_PER_SEC);
}

/* Starts empty table-level health figures. */
void
pgm_table_health_init(PgmTableHealth *h, int64 min_reads, int64 min_tuples)
{
	memset(h, 0, sizeof(PgmTableHealth));
	h->min_reads = min_reads;
	h->min_tuples = min_tuples;
	h->hit_relid = InvalidOid;
	h->falling_relid = InvalidOid;
	h->dead_relid = InvalidOid;
	h->vacuum.relid = InvalidOid;
	h->analyze.relid = InvalidOid;
}

/*
 * Counts one table's last maintenance at "at" with "changes" since: a table
 * without changes does not count; one never maintained is counted apart;
 * ties go to the lower relid.
 */
void
pgm_age_worst_add(PgmAgeWorst *w, Oid relid, TimestampTz at, int64 changes)
{
	if (changes <= 0)
		return;
	if (at == 0)
	{
		w->never++;
		return;
	}
	w->changed++;
	if (!OidIsValid(w->relid) || at < w->at || (at == w->at && relid < w->relid))
	{
		w->relid = relid;
		w->at = at;
		w->changes = changes;
	}
}

/*
 * Adds one pg_class row to the table-level health figures.  Only ordinary
 * tables and materialized views count (partitioned tables have no storage
 * and are never vacuumed).  Ties go to the table with more reads or dead
 * tuples, then to the lower relid, so that any scan order gives one answer.
 */
void
pgm_table_health_add(PgmTableHealth *h, HeapTuple classtup,
					 TupleDesc classdesc, PgStat_StatTabEntry *stats,
					 const PgmVacuumContext *ctx)
{
	Form_pg_class form = (Form_pg_class) GETSTRUCT(classtup);
	PgmVacuumVerdict v;
	int64		hits;
	int64		reads;
	int64		live;
	int64		dead;

	if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_MATVIEW)
		return;
	h->tables++;
	if (stats == NULL)
		return;

	hits = stats->blocks_hit;
	reads = stats->blocks_fetched - stats->blocks_hit;
	if (reads >= h->min_reads && hits + reads > 0)
	{
		double		ratio = (double) hits / (double) (hits + reads);

		if (!OidIsValid(h->hit_relid) || ratio < h->hit_ratio ||
			(ratio == h->hit_ratio &&
			 (reads > h->hit_reads ||
			  (reads == h->hit_reads && form->oid < h->hit_relid))))
		{
			h->hit_relid = form->oid;
			h->hit_ratio = ratio;
			h->hit_reads = reads;
		}
	}

	/* vacuum_age and analyze_age: the later of manual and auto */
	pgm_age_worst_add(&h->vacuum, form->oid,
					  Max(PGM_TAB_VAC_TIME(stats), PGM_TAB_AUTOVAC_TIME(stats)),
					  PGM_TAB_DEAD(stats) + PGM_TAB_INSERTS(stats));
	pgm_age_worst_add(&h->analyze, form->oid,
					  Max(PGM_TAB_ANL_TIME(stats), PGM_TAB_AUTOANL_TIME(stats)),
					  PGM_TAB_MODS(stats));

	live = PGM_TAB_LIVE(stats);
	dead = PGM_TAB_DEAD(stats);
	if (live + dead >= h->min_tuples && live + dead > 0)
	{
		double		share = (double) dead / (double) (live + dead);

		if (!OidIsValid(h->dead_relid) || share > h->dead_share ||
			(share == h->dead_share &&
			 (dead > h->dead_tuples ||
			  (dead == h->dead_tuples && form->oid < h->dead_relid))))
		{
			h->dead_relid = form->oid;
			h->dead_share = share;
			h->dead_tuples = dead;
		}
	}

	/* only a table with dead tuples can fall behind: skip the formula otherwise */
	if (dead <= 0)
		return;
	pgm_vacuum_verdict(classtup, classdesc, stats, ctx, &v);
	if (v.falling_behind)
	{
		h->falling_behind++;
		if (!OidIsValid(h->falling_relid) || dead > h->falling_dead ||
			(dead == h->falling_dead && form->oid < h->falling_relid))
		{
			h->falling_relid = form->oid;
			h->falling_dead = dead;
			h->falling_disabled = !v.av_enabled;
		}
	}
}

/*
 * One pass over pg_class: the table-level health figures (with the floors
 * of tablehealth.h) of the tables pg_stat_user_tables shows, ordinary and
 * partitioned tables and materialized views outside pg_catalog,
 * information_schema and the toast schemas, and their count and summed live
 * and dead tuples.  The worker's sample and a session's live evaluation both
 * take their figures here.  Reads each statistics entry as
 * stats_fetch_consistency says (the worker's is none: a fresh copy each).
 */
void
pgm_table_pass(PgmTableHealth *h, PgmTableSums *sums, TimestampTz now)
{
	Oid			information_schema = get_namespace_oid("information_schema", true);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	PgmVacuumContext ctx;

	memset(sums, 0, sizeof(PgmTableSums));
	pgm_vacuum_context_init(&ctx, now);
	pgm_table_health_init(h, PGMAINT_HEALTH_MIN_READS, PGMAINT_HEALTH_MIN_TUPLES);
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgStat_StatTabEntry *tab;

		CHECK_FOR_INTERRUPTS();
		if (form->relkind != RELKIND_RELATION &&
			form->relkind != RELKIND_MATVIEW &&
			form->relkind != RELKIND_PARTITIONED_TABLE)
			continue;
		if (form->relnamespace == PG_CATALOG_NAMESPACE ||
			form->relnamespace == information_schema)
			continue;

		sums->tables++;
		tab = pgstat_fetch_stat_tabentry(form->oid);
		pgm_table_health_add(h, tuple, RelationGetDescr(rel), tab, &ctx);
		if (tab == NULL)
			continue;
		sums->live_tuples += PGM_TAB_LIVE(tab);
		sums->dead_tuples += PGM_TAB_DEAD(tab);
		/* with stats_fetch_consistency = none each entry is a fresh copy */
		if (pgstat_fetch_consistency == PGSTAT_FETCH_CONSISTENCY_NONE)
			pfree(tab);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Fills values and nulls (PGMAINT_TABLE_HEALTH_COLS each) with the columns
 * that _table_health() and _table_health_sampled() share.
 */
void
pgm_table_health_values(const PgmTableHealth *h, Datum *values, bool *nulls)
{
	memset(nulls, 0, sizeof(bool) * PGMAINT_TABLE_HEALTH_COLS);
	values[0] = Int64GetDatum(h->tables);
	values[1] = ObjectIdGetDatum(h->hit_relid);
	values[2] = Float8GetDatum(h->hit_ratio);
	values[3] = Int64GetDatum(h->hit_reads);
	nulls[1] = nulls[2] = nulls[3] = !OidIsValid(h->hit_relid);
	values[4] = Int32GetDatum(h->falling_behind);
	values[5] = ObjectIdGetDatum(h->falling_relid);
	values[6] = Int64GetDatum(h->falling_dead);
	nulls[5] = nulls[6] = !OidIsValid(h->falling_relid);
	values[7] = ObjectIdGetDatum(h->dead_relid);
	values[8] = Float8GetDatum(h->dead_share);
	values[9] = Int64GetDatum(h->dead_tuples);
	nulls[7] = nulls[8] = nulls[9] = !OidIsValid(h->dead_relid);
}

/*
 * SQL pgmaint._table_health_floors(): the heap block reads and the live +
 * dead tuples a table needs before the table-level checks judge it.  SQL
 * reads them here (defaults of _table_health(), the checks' messages, the
 * thresholds' descriptions) so that they are written once, in tablehealth.h.
 */
Datum
pgmaint_table_health_floors(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	values[0] = Int64GetDatum(PGMAINT_HEALTH_MIN_READS);
	values[1] = Int64GetDatum(PGMAINT_HEALTH_MIN_TUPLES);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*-------------------------------------------------------------------------
 *
 * tablehealth.c
 *	  Autovacuum thresholds of a table and the table-level health figures of
 *	  a database: the one copy of PostgreSQL 15's autovacuum formula
 *	  (relation_needs_vacanalyze), the aggregates behind the table_cache_hit,
 *	  dead_tuples and autovacuum_behind checks, and the floors below which a
 *	  table is not judged.
 *
 * SQL served: pgmaint._table_health_floors() (sql/code/80-checks.sql);
 * the code is called by vacuum_stats() and _table_health() (tablestats.c,
 * sql/code/30-tablestats.sql and 80-checks.sql), by the worker's sample
 * (sampler.c) and by _table_health_sampled() (ring.c, 80-checks.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "pgmaint.h"

static bool pgm_may_need_freeze(HeapTuple classtup, const PgmVacuumContext *ctx);

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
 * when its dead tuples exceed twice the threshold, or its inserts since the
 * last vacuum twice the insert threshold, or its freeze age forces a vacuum,
 * and it has not been vacuumed for PGMAINT_FALLING_BEHIND_NAPTIMES naptimes.  This is the only
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
	v->mxid_freeze_max_age = (opts && opts->multixact_freeze_max_age >= 0)
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
		mxid_force_limit = ctx->next_mxid - v->mxid_freeze_max_age;
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

	/*
	 * Behind: past twice a threshold that should have started a vacuum (dead
	 * tuples; inserts since the last vacuum, PostgreSQL 13+'s insert-driven
	 * vacuum, unless the table turned it off with -1; the freeze age that
	 * forces an anti-wraparound vacuum), and no vacuum for 10 naptimes.  A
	 * table that only receives inserts has no dead tuples, yet autovacuum must
	 * visit it to set its pages all-visible and freeze them.
	 */
	v->behind_dead = (float4) dead > 2 * v->vacthresh;
	v->behind_inserts = v->vac_ins_base_thresh >= 0 &&
		(float4) inserts > 2 * v->vacinsthresh;
	v->falling_behind = (v->behind_dead || v->behind_inserts || force_vacuum) &&
		(last_vacuum == 0 ||
		 ctx->now - last_vacuum >
		 (int64) PGMAINT_FALLING_BEHIND_NAPTIMES * autovacuum_naptime * USECS_PER_SEC);
}

/*
 * Whether a table with no dead tuples and no inserts since its last vacuum
 * may still be behind: only through its freeze age, which is then older than
 * autovacuum_freeze_max_age (a reloption can only lower it, so a table with
 * reloptions is always looked at).  Lets the aggregates skip the formula for
 * the tables that have nothing to vacuum.
 */
static bool
pgm_may_need_freeze(HeapTuple classtup, const PgmVacuumContext *ctx)
{
	Form_pg_class form = (Form_pg_class) GETSTRUCT(classtup);
	TransactionId limit;

	if (!heap_attisnull(classtup, Anum_pg_class_reloptions, NULL))
		return true;
	limit = ctx->next_xid - autovacuum_freeze_max_age;
	if (limit < FirstNormalTransactionId)
		limit -= FirstNormalTransactionId;
	return TransactionIdIsNormal(form->relfrozenxid) &&
		TransactionIdPrecedes(form->relfrozenxid, limit);
}

/* age() of a transaction id, as the SQL function age(xid) computes it. */
static int32
pgm_xid_age(TransactionId xid, TransactionId now)
{
	if (!TransactionIdIsNormal(xid))
		return INT_MAX;
	return (int32) (now - xid);
}

/* mxid_age() of a multixact id, as the SQL function computes it. */
static int32
pgm_mxid_age(MultiXactId mxid, MultiXactId now)
{
	if (!MultiXactIdIsValid(mxid))
		return INT_MAX;
	return (int32) (now - mxid);
}

/*
 * The age of a table as wraparound sees it: the greater of its heap's and
 * its TOAST table's relfrozenxid (and relminmxid) ages, because autovacuum
 * must freeze both before datfrozenxid can advance (VACUUM (PROCESS_TOAST
 * false) freezes the heap alone).  An invalid TOAST id means no TOAST table.
 * The one copy of that rule: vacuum_stats() and the wraparound checks (the
 * oldest tables of pgm_table_pass()) use it.
 */
void
pgm_table_age(TransactionId heap_xid, MultiXactId heap_mxid,
			  TransactionId toast_xid, MultiXactId toast_mxid,
			  TransactionId now_xid, MultiXactId now_mxid, PgmTableAge *age)
{
	int32		toast_age;

	age->xid_age = pgm_xid_age(heap_xid, now_xid);
	age->xid_from_toast = false;
	if (TransactionIdIsValid(toast_xid) &&
		(toast_age = pgm_xid_age(toast_xid, now_xid)) > age->xid_age)
	{
		age->xid_age = toast_age;
		age->xid_from_toast = true;
	}
	age->mxid_age = pgm_mxid_age(heap_mxid, now_mxid);
	age->mxid_from_toast = false;
	if (MultiXactIdIsValid(toast_mxid) &&
		(toast_age = pgm_mxid_age(toast_mxid, now_mxid)) > age->mxid_age)
	{
		age->mxid_age = toast_age;
		age->mxid_from_toast = true;
	}
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
	int64		inserts;

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

	/* nothing to vacuum and not old: it cannot fall behind, skip the formula */
	inserts = PGM_TAB_INSERTS(stats);
	if (dead <= 0 && inserts <= 0 && !pgm_may_need_freeze(classtup, ctx))
		return;
	pgm_vacuum_verdict(classtup, classdesc, stats, ctx, &v);
	if (v.falling_behind)
	{
		h->falling_behind++;
		/* the worst: most dead tuples, then most inserts since its vacuum */
		if (!OidIsValid(h->falling_relid) || dead > h->falling_dead ||
			(dead == h->falling_dead &&
			 (inserts > h->falling_inserts ||
			  (inserts == h->falling_inserts && form->oid < h->falling_relid))))
		{
			h->falling_relid = form->oid;
			h->falling_dead = dead;
			h->falling_inserts = inserts;
			h->falling_disabled = !v.av_enabled;
		}
	}
}

/* A table of the pass, as the wraparound ages need it */
typedef struct PgmPassTable
{
	Oid			relid;
	Oid			toastrelid;
	TransactionId relfrozenxid;
	MultiXactId relminmxid;
} PgmPassTable;

/*
 * The oldest table by one kind of age (xid or mxid) in a pass: the heap side
 * (the oldest heap age, the lowest relid among those) and the TOAST side
 * (the oldest TOAST age and every TOAST table of that age), put together at
 * the end by pgm_oldest_finish().
 */
typedef struct PgmOldest
{
	bool		any_heap;
	int32		heap_age;
	Oid			heap_relid;
	int32		toast_age;
	Oid		   *toasts;			/* TOAST tables of age toast_age */
	int			ntoasts;
	int			maxtoasts;
} PgmOldest;

static void pgm_oldest_toast(PgmOldest *o, Oid toastrelid, int32 age);
static void pgm_oldest_finish(PgmOldest *o, const PgmPassTable *tables, int ntables,
							  TransactionId now_xid, MultiXactId now_mxid,
							  Oid *relid, PgmTableAge *age);
static int	pgm_oid_cmp(const void *a, const void *b);

/* Counts a TOAST table of the given age on the TOAST side of o. */
static void
pgm_oldest_toast(PgmOldest *o, Oid toastrelid, int32 age)
{
	if (o->ntoasts > 0 && age < o->toast_age)
		return;
	if (o->ntoasts > 0 && age > o->toast_age)
		o->ntoasts = 0;
	o->toast_age = age;
	if (o->ntoasts == o->maxtoasts)
	{
		o->maxtoasts = Max(16, o->maxtoasts * 2);
		o->toasts = o->toasts ? repalloc(o->toasts, sizeof(Oid) * o->maxtoasts)
			: palloc(sizeof(Oid) * o->maxtoasts);
	}
	o->toasts[o->ntoasts++] = toastrelid;
}

/* Orders oids. */
static int
pgm_oid_cmp(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The table with the oldest age of one kind, by pgm_table_age() (the greater
 * of heap and TOAST), ties to the lower relid (any scan order, one answer):
 * among the tables whose heap has the oldest heap age and those whose TOAST
 * table has the oldest TOAST age, whichever side is older (both on a tie).
 */
static void
pgm_oldest_finish(PgmOldest *o, const PgmPassTable *tables, int ntables,
				  TransactionId now_xid, MultiXactId now_mxid,
				  Oid *relid, PgmTableAge *age)
{
	Oid			best = InvalidOid;
	int32		oldest;
	int			i;

	*relid = InvalidOid;
	memset(age, 0, sizeof(PgmTableAge));
	if (!o->any_heap)
		return;
	oldest = (o->ntoasts > 0 && o->toast_age > o->heap_age) ? o->toast_age : o->heap_age;
	if (o->heap_age == oldest)
		best = o->heap_relid;
	if (o->ntoasts > 0 && o->toast_age == oldest)
	{
		qsort(o->toasts, o->ntoasts, sizeof(Oid), pgm_oid_cmp);
		for (i = 0; i < ntables; i++)
		{
			const PgmPassTable *t = &tables[i];

			if (OidIsValid(t->toastrelid) && (!OidIsValid(best) || t->relid < best) &&
				bsearch(&t->toastrelid, o->toasts, o->ntoasts, sizeof(Oid), pgm_oid_cmp) != NULL)
				best = t->relid;
		}
	}
	for (i = 0; i < ntables; i++)
	{
		const PgmPassTable *t = &tables[i];
		TransactionId toast_xid = InvalidTransactionId;
		MultiXactId toast_mxid = InvalidMultiXactId;

		if (t->relid != best)
			continue;
		/* its TOAST table's ids: the side that made it the oldest, or none older */
		if (OidIsValid(t->toastrelid))
		{
			HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->toastrelid));

			if (HeapTupleIsValid(tup))
			{
				toast_xid = ((Form_pg_class) GETSTRUCT(tup))->relfrozenxid;
				toast_mxid = ((Form_pg_class) GETSTRUCT(tup))->relminmxid;
				ReleaseSysCache(tup);
			}
		}
		pgm_table_age(t->relfrozenxid, t->relminmxid, toast_xid, toast_mxid,
					  now_xid, now_mxid, age);
		*relid = t->relid;
		break;
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
 * The wraparound ages of the tables (ordinary and materialized views, aged
 * with their TOAST tables) come from the same rows: the TOAST tables' rows
 * are in pg_class too.
 */
void
pgm_table_pass(PgmTableHealth *h, PgmTableSums *sums, TimestampTz now)
{
	Oid			information_schema = get_namespace_oid("information_schema", true);
	TransactionId now_xid = GetStableLatestTransactionId();
	MultiXactId now_mxid = ReadNextMultiXactId();
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	PgmVacuumContext ctx;
	PgmOldest	oldest_xid;
	PgmOldest	oldest_mxid;
	PgmPassTable *tables = NULL;
	int			ntables = 0;
	int			maxtables = 0;

	memset(sums, 0, sizeof(PgmTableSums));
	memset(&oldest_xid, 0, sizeof(oldest_xid));
	memset(&oldest_mxid, 0, sizeof(oldest_mxid));
	pgm_vacuum_context_init(&ctx, now);
	pgm_table_health_init(h, PGMAINT_HEALTH_MIN_READS, PGMAINT_HEALTH_MIN_TUPLES);
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgStat_StatTabEntry *tab;

		CHECK_FOR_INTERRUPTS();
		if (form->relkind == RELKIND_TOASTVALUE)
		{
			/* only user tables' TOAST tables: the catalogs' were made by initdb */
			if (form->oid < FirstNormalObjectId)
				continue;
			if (TransactionIdIsValid(form->relfrozenxid))
				pgm_oldest_toast(&oldest_xid, form->oid, pgm_xid_age(form->relfrozenxid, now_xid));
			if (MultiXactIdIsValid(form->relminmxid))
				pgm_oldest_toast(&oldest_mxid, form->oid, pgm_mxid_age(form->relminmxid, now_mxid));
			continue;
		}
		if (form->relkind != RELKIND_RELATION &&
			form->relkind != RELKIND_MATVIEW &&
			form->relkind != RELKIND_PARTITIONED_TABLE)
			continue;
		if (form->relnamespace == PG_CATALOG_NAMESPACE ||
			form->relnamespace == information_schema)
			continue;

		sums->tables++;
		if (form->relkind != RELKIND_PARTITIONED_TABLE)
		{
			int32		xid_age = pgm_xid_age(form->relfrozenxid, now_xid);
			int32		mxid_age = pgm_mxid_age(form->relminmxid, now_mxid);

			if (ntables == maxtables)
			{
				maxtables = Max(256, maxtables * 2);
				tables = tables ? repalloc(tables, sizeof(PgmPassTable) * maxtables)
					: palloc(sizeof(PgmPassTable) * maxtables);
			}
			tables[ntables].relid = form->oid;
			tables[ntables].toastrelid = form->reltoastrelid;
			tables[ntables].relfrozenxid = form->relfrozenxid;
			tables[ntables].relminmxid = form->relminmxid;
			ntables++;
			if (!oldest_xid.any_heap || xid_age > oldest_xid.heap_age ||
				(xid_age == oldest_xid.heap_age && form->oid < oldest_xid.heap_relid))
			{
				oldest_xid.heap_age = xid_age;
				oldest_xid.heap_relid = form->oid;
			}
			if (!oldest_mxid.any_heap || mxid_age > oldest_mxid.heap_age ||
				(mxid_age == oldest_mxid.heap_age && form->oid < oldest_mxid.heap_relid))
			{
				oldest_mxid.heap_age = mxid_age;
				oldest_mxid.heap_relid = form->oid;
			}
			oldest_xid.any_heap = oldest_mxid.any_heap = true;
		}

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

	pgm_oldest_finish(&oldest_xid, tables, ntables, now_xid, now_mxid,
					  &h->xid_relid, &h->xid_age);
	pgm_oldest_finish(&oldest_mxid, tables, ntables, now_xid, now_mxid,
					  &h->mxid_relid, &h->mxid_age);
	if (tables)
		pfree(tables);
	if (oldest_xid.toasts)
		pfree(oldest_xid.toasts);
	if (oldest_mxid.toasts)
		pfree(oldest_mxid.toasts);
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
	values[10] = Int64GetDatum(h->falling_inserts);
	nulls[5] = nulls[6] = nulls[10] = !OidIsValid(h->falling_relid);
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

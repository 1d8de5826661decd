/*-------------------------------------------------------------------------
 *
 * tablestats.c
 *	  Per-table reports: cache hits, vacuum state and sizes of user tables.
 *
 * Each report makes one pass over pg_class (and, for index figures, one over
 * pg_index) under the catalog snapshot and reads every table's cumulative
 * statistics directly with pgstat_fetch_stat_tabentry_ext, instead of calling
 * the pg_stat_* views' accessor functions column by column and row by row.
 *
 * The statistics reports take no lock on user tables: a table dropped while
 * they run is still in their catalog snapshot and is reported from what the
 * statistics system still holds (zeros once its entry is gone), exactly as
 * the views do.  table_sizes() must read files, so it holds AccessShareLock
 * on one table at a time, like pg_total_relation_size(), and skips a table
 * that no longer exists when its turn comes.
 *
 * The tables reported are the rows of pg_stat_user_tables: relkinds r, m, p
 * and t outside the pg_catalog, information_schema and pg_toast* schemas,
 * including other sessions' temporary tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>
#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/relation.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "common/relpath.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "pgmaint.h"

/*
 * Field names of PgStat_StatTabEntry changed in PostgreSQL 16; these
 * accessors keep the code below version-independent.
 */
#if PG_VERSION_NUM >= 160000
#define PGM_TAB_LIVE(e)			((e)->live_tuples)
#define PGM_TAB_DEAD(e)			((e)->dead_tuples)
#define PGM_TAB_MODS(e)			((e)->mod_since_analyze)
#define PGM_TAB_INSERTS(e)		((e)->ins_since_vacuum)
#define PGM_TAB_VAC_TIME(e)		((e)->last_vacuum_time)
#define PGM_TAB_AUTOVAC_TIME(e) ((e)->last_autovacuum_time)
#define PGM_TAB_ANL_TIME(e)		((e)->last_analyze_time)
#define PGM_TAB_AUTOANL_TIME(e) ((e)->last_autoanalyze_time)
#define PGM_TAB_AUTOVAC_COUNT(e) ((e)->autovacuum_count)
#define PGM_TAB_AUTOANL_COUNT(e) ((e)->autoanalyze_count)
#define PGM_REL_FILE(rel)		((rel)->rd_locator)
#define pgm_init_srf(fcinfo)	InitMaterializedSRF((fcinfo), 0)
#else
#define PGM_TAB_LIVE(e)			((e)->n_live_tuples)
#define PGM_TAB_DEAD(e)			((e)->n_dead_tuples)
#define PGM_TAB_MODS(e)			((e)->changes_since_analyze)
#define PGM_TAB_INSERTS(e)		((e)->inserts_since_vacuum)
#define PGM_TAB_VAC_TIME(e)		((e)->vacuum_timestamp)
#define PGM_TAB_AUTOVAC_TIME(e) ((e)->autovac_vacuum_timestamp)
#define PGM_TAB_ANL_TIME(e)		((e)->analyze_timestamp)
#define PGM_TAB_AUTOANL_TIME(e) ((e)->autovac_analyze_timestamp)
#define PGM_TAB_AUTOVAC_COUNT(e) ((e)->autovac_vacuum_count)
#define PGM_TAB_AUTOANL_COUNT(e) ((e)->autovac_analyze_count)
#define PGM_REL_FILE(rel)		((rel)->rd_node)
#define pgm_init_srf(fcinfo)	SetSingleFuncCall((fcinfo), 0)
#endif

/* A table is "falling behind" after this many autovacuum naptimes without vacuum */
#define PGMAINT_FALLING_BEHIND_NAPTIMES 10

/* Output columns of each report */
#define PGMAINT_CACHE_TABLES_COLS	12
#define PGMAINT_VACUUM_STATS_COLS	28
#define PGMAINT_TABLE_SIZES_COLS	12

/* A user table found in pg_class, with what the reports need of its row */
typedef struct PgmTable
{
	Oid			relid;
	Oid			toastrelid;
	char		relkind;
	float4		reltuples;
	TransactionId relfrozenxid;
	MultiXactId relminmxid;
	char	   *schema_name;
	NameData	table_name;
	bool		has_avopts;		/* reloptions present (avopts is valid) */
	AutoVacOpts avopts;
} PgmTable;

/* The user tables of one pass, and the TOAST tables' relfrozenxid */
typedef struct PgmTableSet
{
	PgmTable   *tables;
	int			count;
	HTAB	   *toast_xids;		/* PgmToastXid by TOAST relid, or NULL */
} PgmTableSet;

/* relfrozenxid of one TOAST table */
typedef struct PgmToastXid
{
	Oid			relid;
	TransactionId relfrozenxid;
} PgmToastXid;

/* Block counters of all indexes of one relation */
typedef struct PgmIndexBlocks
{
	Oid			relid;			/* the indexed relation */
	int64		hits;
	int64		reads;
} PgmIndexBlocks;

/* One row of cache_hit_tables(), kept for sorting */
typedef struct PgmCacheRow
{
	PgmTable   *table;
	int64		heap_hits;
	int64		heap_reads;
	int64		index_hits;
	int64		index_reads;
	bool		has_toast;
	int64		toast_hits;
	int64		toast_reads;
} PgmCacheRow;

/* One row of table_sizes(), kept for sorting */
typedef struct PgmSizeRow
{
	PgmTable   *table;
	int64		heap_bytes;
	int64		index_bytes;
	int64		toast_bytes;
} PgmSizeRow;

static bool pgm_is_user_schema(const char *nspname);
static void pgm_collect_tables(PgmTableSet *set, bool want_options, bool want_toast);
static HTAB *pgm_collect_index_blocks(void);
static Datum pgm_ratio(int64 hits, int64 reads, bool *isnull);
static int	pgm_cache_row_cmp(const void *a, const void *b);
static int	pgm_size_row_cmp(const void *a, const void *b);
static int32 pgm_xid_age(TransactionId xid, TransactionId now);
static int64 pgm_relation_bytes(Relation rel);
static int64 pgm_relation_indexes_bytes(Relation rel);

PG_FUNCTION_INFO_V1(pgmaint_cache_hit_tables);
PG_FUNCTION_INFO_V1(pgmaint_vacuum_stats);
PG_FUNCTION_INFO_V1(pgmaint_table_sizes);

/* True for a schema whose tables pg_stat_user_tables lists. */
static bool
pgm_is_user_schema(const char *nspname)
{
	return strcmp(nspname, "pg_catalog") != 0 &&
		strcmp(nspname, "information_schema") != 0 &&
		strncmp(nspname, "pg_toast", 8) != 0;
}

/*
 * Fills set with the user tables of one scan of pg_class; with want_options
 * their autovacuum reloptions are parsed, with want_toast the TOAST tables'
 * relfrozenxid are kept in set->toast_xids.
 */
static void
pgm_collect_tables(PgmTableSet *set, bool want_options, bool want_toast)
{
	Relation	classrel;
	SysScanDesc scan;
	HeapTuple	tuple;
	int			capacity = 1024;
	Oid			last_nsp = InvalidOid;
	char	   *last_nspname = NULL;
	bool		last_is_user = false;

	set->tables = palloc(capacity * sizeof(PgmTable));
	set->count = 0;
	set->toast_xids = NULL;

	if (want_toast)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(PgmToastXid);
		ctl.hcxt = CurrentMemoryContext;
		set->toast_xids = hash_create("pgmaint toast xids", 1024, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	classrel = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(classrel, InvalidOid, false, NULL, 0, NULL);

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgmTable   *t;

		if (form->relkind == RELKIND_TOASTVALUE && set->toast_xids != NULL)
		{
			PgmToastXid *entry;

			entry = hash_search(set->toast_xids, &form->oid, HASH_ENTER, NULL);
			entry->relfrozenxid = form->relfrozenxid;
		}

		if (form->relkind != RELKIND_RELATION &&
			form->relkind != RELKIND_MATVIEW &&
			form->relkind != RELKIND_PARTITIONED_TABLE &&
			form->relkind != RELKIND_TOASTVALUE)
			continue;

		/* consecutive rows mostly share a schema: look its name up once */
		if (form->relnamespace != last_nsp)
		{
			last_nsp = form->relnamespace;
			last_nspname = get_namespace_name(last_nsp);
			/* a schema dropped since our snapshot was taken has no name */
			last_is_user = last_nspname != NULL && pgm_is_user_schema(last_nspname);
		}
		if (!last_is_user)
			continue;

		if (set->count == capacity)
		{
			capacity *= 2;
			set->tables = repalloc(set->tables, capacity * sizeof(PgmTable));
		}
		t = &set->tables[set->count++];
		t->relid = form->oid;
		t->toastrelid = form->reltoastrelid;
		t->relkind = form->relkind;
		t->reltuples = form->reltuples;
		t->relfrozenxid = form->relfrozenxid;
		t->relminmxid = form->relminmxid;
		t->schema_name = last_nspname;
		t->table_name = form->relname;
		t->has_avopts = false;

		/* autovacuum reads the options of these kinds only */
		if (want_options && form->relkind != RELKIND_PARTITIONED_TABLE)
		{
			bytea	   *opts;

			opts = extractRelOptions(tuple, RelationGetDescr(classrel), NULL);
			if (opts != NULL)
			{
				memcpy(&t->avopts, &((StdRdOptions *) opts)->autovacuum,
					   sizeof(AutoVacOpts));
				t->has_avopts = true;
				pfree(opts);
			}
		}
	}

	systable_endscan(scan);
	table_close(classrel, AccessShareLock);
}

/* Sums the block counters of every index by indexed relation (one pass over pg_index). */
static HTAB *
pgm_collect_index_blocks(void)
{
	HASHCTL		ctl;
	HTAB	   *blocks;
	Relation	indexrel;
	SysScanDesc scan;
	HeapTuple	tuple;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgmIndexBlocks);
	ctl.hcxt = CurrentMemoryContext;
	blocks = hash_create("pgmaint index blocks", 1024, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	indexrel = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(indexrel, InvalidOid, false, NULL, 0, NULL);

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index form = (Form_pg_index) GETSTRUCT(tuple);
		PgStat_StatTabEntry *stats;
		PgmIndexBlocks *entry;
		bool		found;

		/* indexes of shared catalogs are never reported */
		stats = pgstat_fetch_stat_tabentry_ext(false, form->indexrelid);
		if (stats == NULL)
			continue;

		entry = hash_search(blocks, &form->indrelid, HASH_ENTER, &found);
		if (!found)
		{
			entry->hits = 0;
			entry->reads = 0;
		}
		entry->hits += stats->blocks_hit;
		entry->reads += stats->blocks_fetched - stats->blocks_hit;
	}

	systable_endscan(scan);
	table_close(indexrel, AccessShareLock);

	return blocks;
}

/* hits / (hits + reads) as float8, NULL when there was no access at all. */
static Datum
pgm_ratio(int64 hits, int64 reads, bool *isnull)
{
	if (hits + reads <= 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	return Float8GetDatum((double) hits / (double) (hits + reads));
}

/* Orders cache rows worst first: lowest heap ratio, no access last, then most reads. */
static int
pgm_cache_row_cmp(const void *a, const void *b)
{
	const PgmCacheRow *ra = (const PgmCacheRow *) a;
	const PgmCacheRow *rb = (const PgmCacheRow *) b;
	int64		ta = ra->heap_hits + ra->heap_reads;
	int64		tb = rb->heap_hits + rb->heap_reads;

	if (ta > 0 && tb > 0)
	{
		double		ratio_a = (double) ra->heap_hits / (double) ta;
		double		ratio_b = (double) rb->heap_hits / (double) tb;

		if (ratio_a != ratio_b)
			return ratio_a < ratio_b ? -1 : 1;
	}
	else if (ta > 0 || tb > 0)
		return ta > 0 ? -1 : 1;

	if (ra->heap_reads != rb->heap_reads)
		return ra->heap_reads > rb->heap_reads ? -1 : 1;
	if (ra->table->relid != rb->table->relid)
		return ra->table->relid < rb->table->relid ? -1 : 1;
	return 0;
}

/*
 * cache_hit_tables(min_reads bigint): heap, index and TOAST block hits and
 * reads of every user table whose reads add up to at least min_reads, worst
 * heap hit ratio first.
 */
Datum
pgmaint_cache_hit_tables(PG_FUNCTION_ARGS)
{
	int64		min_reads = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmTableSet set;
	HTAB	   *index_blocks;
	PgmCacheRow *rows;
	int			nrows = 0;
	int			i;

	if (min_reads < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_reads must not be negative"),
				 errhint("Pass 0 to list every table.")));

	pgm_init_srf(fcinfo);

	pgm_collect_tables(&set, false, false);
	index_blocks = pgm_collect_index_blocks();
	rows = palloc0(Max(set.count, 1) * sizeof(PgmCacheRow));

	for (i = 0; i < set.count; i++)
	{
		PgmTable   *t = &set.tables[i];
		PgmCacheRow *row = &rows[nrows];
		PgStat_StatTabEntry *stats;
		PgmIndexBlocks *idx;

		row->table = t;
		stats = pgstat_fetch_stat_tabentry_ext(false, t->relid);
		if (stats != NULL)
		{
			row->heap_hits = stats->blocks_hit;
			row->heap_reads = stats->blocks_fetched - stats->blocks_hit;
		}
		idx = hash_search(index_blocks, &t->relid, HASH_FIND, NULL);
		if (idx != NULL)
		{
			row->index_hits = idx->hits;
			row->index_reads = idx->reads;
		}
		if (OidIsValid(t->toastrelid))
		{
			row->has_toast = true;
			stats = pgstat_fetch_stat_tabentry_ext(false, t->toastrelid);
			if (stats != NULL)
			{
				row->toast_hits = stats->blocks_hit;
				row->toast_reads = stats->blocks_fetched - stats->blocks_hit;
			}
			idx = hash_search(index_blocks, &t->toastrelid, HASH_FIND, NULL);
			if (idx != NULL)
			{
				row->toast_hits += idx->hits;
				row->toast_reads += idx->reads;
			}
		}

		if (row->heap_reads + row->index_reads + row->toast_reads >= min_reads)
			nrows++;
		else
			memset(row, 0, sizeof(PgmCacheRow));
	}

	qsort(rows, nrows, sizeof(PgmCacheRow), pgm_cache_row_cmp);

	for (i = 0; i < nrows; i++)
	{
		PgmCacheRow *row = &rows[i];
		Datum		values[PGMAINT_CACHE_TABLES_COLS];
		bool		nulls[PGMAINT_CACHE_TABLES_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(row->table->relid);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(row->table->schema_name));
		values[2] = NameGetDatum(&row->table->table_name);
		values[3] = Int64GetDatum(row->heap_hits);
		values[4] = Int64GetDatum(row->heap_reads);
		values[5] = pgm_ratio(row->heap_hits, row->heap_reads, &nulls[5]);
		values[6] = Int64GetDatum(row->index_hits);
		values[7] = Int64GetDatum(row->index_reads);
		values[8] = pgm_ratio(row->index_hits, row->index_reads, &nulls[8]);
		if (row->has_toast)
		{
			values[9] = Int64GetDatum(row->toast_hits);
			values[10] = Int64GetDatum(row->toast_reads);
			values[11] = pgm_ratio(row->toast_hits, row->toast_reads, &nulls[11]);
		}
		else
		{
			values[9] = values[10] = values[11] = (Datum) 0;
			nulls[9] = nulls[10] = nulls[11] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/* age() of a transaction id, as the SQL function age(xid) computes it. */
static int32
pgm_xid_age(TransactionId xid, TransactionId now)
{
	if (!TransactionIdIsNormal(xid))
		return INT_MAX;
	return (int32) (now - xid);
}

/*
 * vacuum_stats(): the vacuum state of every user table, with the thresholds
 * at which autovacuum acts on it, computed as PostgreSQL's autovacuum does
 * (relation_needs_vacanalyze): the table's reloption when set, else the
 * setting; reltuples < 0 (never vacuumed or analyzed) counts as 0; an insert
 * threshold of -1 disables insert-driven vacuums.  The SQL wrapper adds the
 * profile and sorts.
 */
Datum
pgmaint_vacuum_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmTableSet set;
	TransactionId next_xid = ReadNextTransactionId();
	TransactionId age_xid = GetStableLatestTransactionId();
	MultiXactId next_mxid = ReadNextMultiXactId();
	int			effective_mxid_max_age = MultiXactMemberFreezeThreshold();
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	bool		av_active = AutoVacuumingActive();
	int			i;

	pgm_init_srf(fcinfo);
	pgm_collect_tables(&set, true, true);

	for (i = 0; i < set.count; i++)
	{
		PgmTable   *t = &set.tables[i];
		AutoVacOpts *opts = t->has_avopts ? &t->avopts : NULL;
		PgStat_StatTabEntry *stats;
		Datum		values[PGMAINT_VACUUM_STATS_COLS];
		bool		nulls[PGMAINT_VACUUM_STATS_COLS];
		int64		live = 0;
		int64		dead = 0;
		int64		inserts = 0;
		int64		mods = 0;
		TimestampTz times[4] = {0, 0, 0, 0};
		int			c;

		memset(nulls, 0, sizeof(nulls));
		stats = pgstat_fetch_stat_tabentry_ext(false, t->relid);
		if (stats != NULL)
		{
			live = PGM_TAB_LIVE(stats);
			dead = PGM_TAB_DEAD(stats);
			inserts = PGM_TAB_INSERTS(stats);
			mods = PGM_TAB_MODS(stats);
			times[0] = PGM_TAB_VAC_TIME(stats);
			times[1] = PGM_TAB_AUTOVAC_TIME(stats);
			times[2] = PGM_TAB_ANL_TIME(stats);
			times[3] = PGM_TAB_AUTOANL_TIME(stats);
		}

		values[0] = ObjectIdGetDatum(t->relid);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(t->schema_name));
		values[2] = NameGetDatum(&t->table_name);
		values[3] = Int64GetDatum(live);
		values[4] = Int64GetDatum(dead);
		if (live + dead > 0)
			values[5] = Float8GetDatum((double) dead / (double) (live + dead));
		else
			nulls[5] = true;
		for (c = 0; c < 4; c++)
		{
			values[6 + c] = TimestampTzGetDatum(times[c]);
			nulls[6 + c] = (times[c] == 0);
		}
		values[10] = Int64GetDatum(stats ? stats->vacuum_count : 0);
		values[11] = Int64GetDatum(stats ? PGM_TAB_AUTOVAC_COUNT(stats) : 0);
		values[12] = Int64GetDatum(stats ? stats->analyze_count : 0);
		values[13] = Int64GetDatum(stats ? PGM_TAB_AUTOANL_COUNT(stats) : 0);
		values[14] = Int64GetDatum(inserts);
		values[15] = Int64GetDatum(mods);
		values[16] = Float4GetDatum(t->reltuples);

		if (t->relkind == RELKIND_PARTITIONED_TABLE)
		{
			/* autovacuum never processes partitioned tables themselves */
			for (c = 17; c < PGMAINT_VACUUM_STATS_COLS; c++)
				nulls[c] = true;
			values[24] = BoolGetDatum(false);
			nulls[24] = false;
		}
		else
		{
			/* the variables, types and order of relation_needs_vacanalyze */
			int			vac_base_thresh,
						vac_ins_base_thresh,
						anl_base_thresh;
			float4		vac_scale_factor,
						vac_ins_scale_factor,
						anl_scale_factor;
			float4		reltuples,
						vacthresh,
						vacinsthresh,
						anlthresh;
			int			freeze_max_age,
						mxid_freeze_max_age;
			TransactionId xid_force_limit;
			MultiXactId mxid_force_limit;
			bool		av_enabled,
						force_vacuum,
						dovacuum,
						doanalyze;
			int32		xid_age;
			TimestampTz last_vacuum;
			PgmToastXid *toast;

			vac_scale_factor = (opts && opts->vacuum_scale_factor >= 0)
				? opts->vacuum_scale_factor : autovacuum_vac_scale;
			vac_base_thresh = (opts && opts->vacuum_threshold >= 0)
				? opts->vacuum_threshold : autovacuum_vac_thresh;
			vac_ins_scale_factor = (opts && opts->vacuum_ins_scale_factor >= 0)
				? opts->vacuum_ins_scale_factor : autovacuum_vac_ins_scale;
			vac_ins_base_thresh = (opts && opts->vacuum_ins_threshold >= -1)
				? opts->vacuum_ins_threshold : autovacuum_vac_ins_thresh;
			anl_scale_factor = (opts && opts->analyze_scale_factor >= 0)
				? opts->analyze_scale_factor : autovacuum_anl_scale;
			anl_base_thresh = (opts && opts->analyze_threshold >= 0)
				? opts->analyze_threshold : autovacuum_anl_thresh;
			freeze_max_age = (opts && opts->freeze_max_age >= 0)
				? Min(opts->freeze_max_age, autovacuum_freeze_max_age)
				: autovacuum_freeze_max_age;
			mxid_freeze_max_age = (opts && opts->multixact_freeze_max_age >= 0)
				? Min(opts->multixact_freeze_max_age, effective_mxid_max_age)
				: effective_mxid_max_age;
			av_enabled = opts ? opts->enabled : true;

			/* anti-wraparound vacuums are forced, whatever the thresholds */
			xid_force_limit = next_xid - freeze_max_age;
			if (xid_force_limit < FirstNormalTransactionId)
				xid_force_limit -= FirstNormalTransactionId;
			force_vacuum = TransactionIdIsNormal(t->relfrozenxid) &&
				TransactionIdPrecedes(t->relfrozenxid, xid_force_limit);
			if (!force_vacuum)
			{
				mxid_force_limit = next_mxid - mxid_freeze_max_age;
				if (mxid_force_limit < FirstMultiXactId)
					mxid_force_limit -= FirstMultiXactId;
				force_vacuum = MultiXactIdIsValid(t->relminmxid) &&
					MultiXactIdPrecedes(t->relminmxid, mxid_force_limit);
			}

			reltuples = t->reltuples;
			if (reltuples < 0)
				reltuples = 0;
			vacthresh = (float4) vac_base_thresh + vac_scale_factor * reltuples;
			vacinsthresh = (float4) vac_ins_base_thresh + vac_ins_scale_factor * reltuples;
			anlthresh = (float4) anl_base_thresh + anl_scale_factor * reltuples;

			if (!av_enabled && !force_vacuum)
				dovacuum = doanalyze = false;
			else if (stats != NULL && av_active)
			{
				dovacuum = force_vacuum || ((float4) dead > vacthresh) ||
					(vac_ins_base_thresh >= 0 && (float4) inserts > vacinsthresh);
				doanalyze = ((float4) mods > anlthresh);
			}
			else
			{
				dovacuum = force_vacuum;
				doanalyze = false;
			}
			/* autovacuum never analyzes TOAST tables */
			if (t->relkind == RELKIND_TOASTVALUE)
				doanalyze = false;

			values[17] = Float8GetDatum((float8) vacthresh);
			if (vac_ins_base_thresh >= 0)
				values[18] = Float8GetDatum((float8) vacinsthresh);
			else
				nulls[18] = true;
			if (t->relkind != RELKIND_TOASTVALUE)
				values[19] = Float8GetDatum((float8) anlthresh);
			else
				nulls[19] = true;
			/* vacuum starts once dead tuples exceed the threshold */
			values[20] = Int64GetDatum(Max((int64) floor(vacthresh) + 1 - dead, 0));
			values[21] = BoolGetDatum(av_enabled && av_active);
			values[22] = BoolGetDatum(dovacuum);
			values[23] = BoolGetDatum(doanalyze);

			last_vacuum = Max(times[0], times[1]);
			values[24] = BoolGetDatum((float4) dead > 2 * vacthresh &&
									  (last_vacuum == 0 ||
									   now - last_vacuum >
									   (int64) PGMAINT_FALLING_BEHIND_NAPTIMES *
									   autovacuum_naptime * USECS_PER_SEC));

			xid_age = pgm_xid_age(t->relfrozenxid, age_xid);
			if (OidIsValid(t->toastrelid) &&
				(toast = hash_search(set.toast_xids, &t->toastrelid,
									 HASH_FIND, NULL)) != NULL)
				xid_age = Max(xid_age, pgm_xid_age(toast->relfrozenxid, age_xid));
			values[25] = Int32GetDatum(xid_age);
			values[26] = Int32GetDatum(freeze_max_age);
			values[27] = Float8GetDatum(100.0 * (double) xid_age / (double) freeze_max_age);
		}

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/* Bytes of every fork of a relation, from stat() of its segment files. */
static int64
pgm_relation_bytes(Relation rel)
{
	int64		total = 0;
	ForkNumber	fork;

	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return 0;

	for (fork = 0; fork <= MAX_FORKNUM; fork++)
	{
		char	   *path = relpathbackend(PGM_REL_FILE(rel), rel->rd_backend, fork);
		unsigned int segno;

		for (segno = 0;; segno++)
		{
			char		segpath[MAXPGPATH];
			struct stat st;

			if (segno == 0)
				snprintf(segpath, sizeof(segpath), "%s", path);
			else
				snprintf(segpath, sizeof(segpath), "%s.%u", path, segno);

			if (stat(segpath, &st) < 0)
			{
				/* past the last segment, or no such fork */
				if (errno == ENOENT)
					break;
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat file \"%s\": %m", segpath)));
			}
			total += st.st_size;
		}
		pfree(path);
	}
	return total;
}

/* Bytes of every index of a relation; the caller holds a lock on it. */
static int64
pgm_relation_indexes_bytes(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	int64		total = 0;

	foreach(lc, indexes)
	{
		Relation	index = try_relation_open(lfirst_oid(lc), AccessShareLock);

		if (index == NULL)
			continue;
		total += pgm_relation_bytes(index);
		relation_close(index, AccessShareLock);
	}
	list_free(indexes);
	return total;
}

/* Orders size rows largest first, then by relid. */
static int
pgm_size_row_cmp(const void *a, const void *b)
{
	const PgmSizeRow *ra = (const PgmSizeRow *) a;
	const PgmSizeRow *rb = (const PgmSizeRow *) b;
	int64		ta = ra->heap_bytes + ra->index_bytes + ra->toast_bytes;
	int64		tb = rb->heap_bytes + rb->index_bytes + rb->toast_bytes;

	if (ta != tb)
		return ta > tb ? -1 : 1;
	if (ra->table->relid != rb->table->relid)
		return ra->table->relid < rb->table->relid ? -1 : 1;
	return 0;
}

/*
 * table_sizes(): exact on-disk size of every user table, split into heap
 * (all forks), indexes and TOAST (table and index), largest first.  Each
 * table is locked (AccessShareLock) only while its files are measured.
 */
Datum
pgmaint_table_sizes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmTableSet set;
	PgmSizeRow *rows;
	int			nrows = 0;
	int			i;

	pgm_init_srf(fcinfo);
	pgm_collect_tables(&set, false, false);
	rows = palloc0(Max(set.count, 1) * sizeof(PgmSizeRow));

	for (i = 0; i < set.count; i++)
	{
		PgmTable   *t = &set.tables[i];
		PgmSizeRow *row = &rows[nrows];
		Relation	rel;

		CHECK_FOR_INTERRUPTS();

		/* dropped since the catalog snapshot: skip it */
		rel = try_relation_open(t->relid, AccessShareLock);
		if (rel == NULL)
			continue;

		row->table = t;
		row->heap_bytes = pgm_relation_bytes(rel);
		row->index_bytes = pgm_relation_indexes_bytes(rel);
		if (OidIsValid(rel->rd_rel->reltoastrelid))
		{
			Relation	toast = try_relation_open(rel->rd_rel->reltoastrelid,
												  AccessShareLock);

			if (toast != NULL)
			{
				row->toast_bytes = pgm_relation_bytes(toast) +
					pgm_relation_indexes_bytes(toast);
				relation_close(toast, AccessShareLock);
			}
		}
		relation_close(rel, AccessShareLock);
		nrows++;
	}

	qsort(rows, nrows, sizeof(PgmSizeRow), pgm_size_row_cmp);

	for (i = 0; i < nrows; i++)
	{
		PgmSizeRow *row = &rows[i];
		int64		total = row->heap_bytes + row->index_bytes + row->toast_bytes;
		Datum		values[PGMAINT_TABLE_SIZES_COLS];
		bool		nulls[PGMAINT_TABLE_SIZES_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(row->table->relid);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(row->table->schema_name));
		values[2] = NameGetDatum(&row->table->table_name);
		values[3] = Int64GetDatum(total);
		values[4] = Int64GetDatum(row->heap_bytes);
		values[5] = Int64GetDatum(row->index_bytes);
		values[6] = Int64GetDatum(row->toast_bytes);
		values[7] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(total));
		values[8] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(row->heap_bytes));
		values[9] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(row->index_bytes));
		values[10] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(row->toast_bytes));
		if (row->table->reltuples >= 0)
			values[11] = Int64GetDatum((int64) row->table->reltuples);
		else
			nulls[11] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

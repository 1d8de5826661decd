/*-------------------------------------------------------------------------
 *
 * tablestats.c
 *	  Per-table reports: cache hits, vacuum state and sizes of user tables.
 *
 * Each report scans pg_class under the catalog snapshot (and pg_index for
 * index figures, pg_class once more for TOAST tables' relfrozenxid) and reads
 * each table's cumulative statistics once with
 * pgstat_fetch_stat_tabentry_ext, instead of calling the pg_stat_* views'
 * accessor functions column by column and row by row.  The statistics
 * reports switch to stats_fetch_consistency = snapshot for their call
 * (pgm_stats_snapshot_begin): the server then copies this database's
 * statistics in one pass over its shared hash, each lookup is a local hash
 * probe, and all rows describe the same instant.  Rows go straight into the
 * result tuplestore where no sort is needed, so memory stays small.
 *
 * The statistics reports take no lock on user tables: a table dropped while
 * they run is still in their catalog snapshot and is reported from what the
 * statistics system still holds (zeros once its entry is gone), exactly as
 * the views do.  table_sizes() must read files, so it holds AccessShareLock
 * on one table at a time, like pg_total_relation_size(), and skips a table
 * that no longer exists when its turn comes; it never waits for that lock
 * (nowait.c).
 *
 * The tables reported are the rows of pg_stat_user_tables: relkinds r, m, p
 * and t outside the pg_catalog, information_schema and pg_toast* schemas,
 * including other sessions' temporary tables; cache_hit_tables() leaves out
 * partitioned tables, which have no storage, as pg_statio_user_tables does.
 *
 * SQL served: cache_hit_tables(), _cache_hit_totals(), vacuum_stats() (and
 * its rows with dead tuples, _vacuum_stats_dead(), for the reports),
 * table_sizes() and _page_leaders() (the candidates of _largest_tables())
 * (sql/code/30-tablestats.sql), and _table_health()
 * (80-checks.sql), whose one pass over pg_class is this file's; the
 * threshold formula, the aggregates and the rule for a table's age are
 * tablehealth.c's, the locks that do not wait nowait.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>
#include <sys/stat.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/relation.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "common/relpath.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "pgmaint.h"

/* Version-dependent names the reports need beside tablehealth.h's */
#if PG_VERSION_NUM >= 160000
#define pgm_init_srf(fcinfo)	InitMaterializedSRF((fcinfo), 0)
#define pgm_init_scalar_srf(fcinfo)	InitMaterializedSRF((fcinfo), MAT_SRF_USE_EXPECTED_DESC)
#else
#define pgm_init_srf(fcinfo)	SetSingleFuncCall((fcinfo), 0)
#define pgm_init_scalar_srf(fcinfo)	SetSingleFuncCall((fcinfo), SRF_SINGLE_USE_EXPECTED)
#endif


/* Output columns of each report */
#define PGMAINT_CACHE_TABLES_COLS	12
#define PGMAINT_CACHE_TOTALS_COLS	6
#define PGMAINT_VACUUM_STATS_COLS	32
#define PGMAINT_TABLE_SIZES_COLS	13

/* table_sizes()' note on a table it did not measure */
#define PGMAINT_SIZES_BUSY_NOTE \
	"not measured: another session holds or waits for a conflicting lock on the table, one of its indexes or its TOAST table (DDL such as ALTER TABLE waiting for ACCESS EXCLUSIVE); sizes are not read behind it"


/* State of one pass over the user tables in pg_class */
typedef struct PgmClassScan
{
	Relation	classrel;
	SysScanDesc scan;
	Oid			nsp;			/* schema of the last row looked at */
	bool		nsp_is_user;	/* whether that schema holds user tables */
	text	   *nspname;		/* and its name */
} PgmClassScan;

/* relfrozenxid and relminmxid of one TOAST table */
typedef struct PgmToastXid
{
	Oid			relid;
	TransactionId relfrozenxid;
	MultiXactId relminmxid;
} PgmToastXid;

/* pgmaint's profile of one table */
typedef struct PgmProfile
{
	Oid			relid;
	text	   *profile;
} PgmProfile;

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
	Oid			relid;
	text	   *schema_name;	/* shared by the rows of one schema */
	text	   *table_name;
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
	Oid			relid;
	text	   *schema_name;	/* shared by the rows of one schema */
	text	   *table_name;
	float4		reltuples;
	bool		busy;			/* not measured: a lock was not granted at once */
	int64		heap_bytes;
	int64		index_bytes;
	int64		toast_bytes;
} PgmSizeRow;

static int	pgm_stats_snapshot_begin(void);
static void pgm_class_scan_begin(PgmClassScan *cs);
static HeapTuple pgm_class_scan_next(PgmClassScan *cs);
static void pgm_class_scan_end(PgmClassScan *cs);
static HTAB *pgm_collect_toast_xids(void);
static HTAB *pgm_collect_profiles(void);
static Datum pgm_vacuum_stats_rows(FunctionCallInfo fcinfo, bool only_dead);
static HTAB *pgm_collect_index_blocks(void);
static void pgm_cache_row_fill(Form_pg_class form, HTAB *index_blocks, PgmCacheRow *row);
static Datum pgm_ratio(int64 hits, int64 reads, bool *isnull);
static int	pgm_cache_row_cmp(const void *a, const void *b);
static int	pgm_size_row_cmp(const void *a, const void *b);
static void pgm_table_age_of(Form_pg_class form, HTAB *toast_xids,
							 TransactionId now_xid, MultiXactId now_mxid,
							 PgmTableAge *age);

PG_FUNCTION_INFO_V1(pgmaint_cache_hit_tables);
PG_FUNCTION_INFO_V1(pgmaint_cache_hit_totals);
PG_FUNCTION_INFO_V1(pgmaint_vacuum_stats);
PG_FUNCTION_INFO_V1(pgmaint_vacuum_stats_dead);
PG_FUNCTION_INFO_V1(pgmaint_page_leaders);
PG_FUNCTION_INFO_V1(pgmaint_table_sizes);
PG_FUNCTION_INFO_V1(pgmaint_table_health);
PG_FUNCTION_INFO_V1(pgmaint_maintenance_age_worst);

/*
 * Reads statistics as one snapshot until AtEOXact_GUC(true, level) with the
 * returned level (an error undoes it with the transaction).  A session in
 * the default "cache" mode may hold single cached entries, from which
 * PostgreSQL 15 cannot build a snapshot: they are dropped first, as
 * pg_stat_clear_snapshot() does; a session already in "snapshot" mode keeps
 * its snapshot.
 */
static int
pgm_stats_snapshot_begin(void)
{
	int			level = NewGUCNestLevel();

	if (pgstat_fetch_consistency != PGSTAT_FETCH_CONSISTENCY_SNAPSHOT)
	{
		pgstat_clear_snapshot();
		(void) set_config_option("stats_fetch_consistency", "snapshot",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	return level;
}

/* Starts a pass over the user tables of pg_class. */
static void
pgm_class_scan_begin(PgmClassScan *cs)
{
	cs->classrel = table_open(RelationRelationId, AccessShareLock);
	cs->scan = systable_beginscan(cs->classrel, InvalidOid, false, NULL, 0, NULL);
	cs->nsp = InvalidOid;
	cs->nsp_is_user = false;
}

/*
 * Returns the pg_class row of the next user table, with its schema's name in
 * cs->nspname (a text shared by the tables of that schema), or NULL at the
 * end.  The row is valid until the next call.
 */
static HeapTuple
pgm_class_scan_next(PgmClassScan *cs)
{
	HeapTuple	tuple;

	while (HeapTupleIsValid(tuple = systable_getnext(cs->scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

		if (form->relkind != RELKIND_RELATION &&
			form->relkind != RELKIND_MATVIEW &&
			form->relkind != RELKIND_PARTITIONED_TABLE &&
			form->relkind != RELKIND_TOASTVALUE)
			continue;

		/* consecutive rows mostly share a schema: look its name up once */
		if (form->relnamespace != cs->nsp)
		{
			char	   *name = get_namespace_name(form->relnamespace);

			cs->nsp = form->relnamespace;
			/* a schema dropped since our snapshot was taken has no name */
			cs->nsp_is_user = name != NULL &&
				strcmp(name, "pg_catalog") != 0 &&
				strcmp(name, "information_schema") != 0 &&
				strncmp(name, "pg_toast", 8) != 0;
			if (cs->nsp_is_user)
				cs->nspname = cstring_to_text(name);
			if (name != NULL)
				pfree(name);
		}
		if (cs->nsp_is_user)
			return tuple;
	}
	return NULL;
}

/* Ends a pass over pg_class. */
static void
pgm_class_scan_end(PgmClassScan *cs)
{
	systable_endscan(cs->scan);
	table_close(cs->classrel, AccessShareLock);
}

/* relfrozenxid and relminmxid of every TOAST table, by relid (one pass over pg_class). */
static HTAB *
pgm_collect_toast_xids(void)
{
	HASHCTL		ctl;
	HTAB	   *xids;
	Relation	classrel;
	SysScanDesc scan;
	HeapTuple	tuple;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgmToastXid);
	ctl.hcxt = CurrentMemoryContext;
	xids = hash_create("pgmaint toast xids", 1024, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	classrel = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(classrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgmToastXid *entry;

		if (form->relkind != RELKIND_TOASTVALUE)
			continue;
		entry = hash_search(xids, &form->oid, HASH_ENTER, NULL);
		entry->relfrozenxid = form->relfrozenxid;
		entry->relminmxid = form->relminmxid;
	}
	systable_endscan(scan);
	table_close(classrel, AccessShareLock);

	return xids;
}

/* pgmaint.table_policy's profile of each table, by relid. */
static HTAB *
pgm_collect_profiles(void)
{
	HASHCTL		ctl;
	HTAB	   *profiles;
	Oid			nsp;
	Oid			policy;
	AttrNumber	relid_att;
	AttrNumber	profile_att;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgmProfile);
	ctl.hcxt = CurrentMemoryContext;
	profiles = hash_create("pgmaint profiles", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nsp = get_namespace_oid("pgmaint", false);
	policy = get_relname_relid("table_policy", nsp);
	relid_att = OidIsValid(policy) ? get_attnum(policy, "relid") : InvalidAttrNumber;
	profile_att = OidIsValid(policy) ? get_attnum(policy, "profile") : InvalidAttrNumber;
	if (relid_att == InvalidAttrNumber || profile_att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"pgmaint.table_policy\" is missing or altered"),
				 errhint("Reinstall the extension: DROP EXTENSION pgmaint; CREATE EXTENSION pgmaint;")));
	if (pg_class_aclcheck(policy, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table table_policy"),
				 errhint("Grant pg_monitor to the role.")));

	rel = table_open(policy, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		relid_null;
		bool		profile_null;
		Datum		relid = slot_getattr(slot, relid_att, &relid_null);
		Datum		profile = slot_getattr(slot, profile_att, &profile_null);
		PgmProfile *entry;

		if (relid_null || profile_null)
			continue;
		entry = hash_search(profiles, &relid, HASH_ENTER, NULL);
		entry->profile = DatumGetTextPCopy(profile);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);

	return profiles;
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

		/* system catalogs are never reported; skip their many indexes */
		if (form->indrelid < FirstNormalObjectId)
			continue;

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
	if (ra->relid != rb->relid)
		return ra->relid < rb->relid ? -1 : 1;
	return 0;
}

/* Fills row with the block counters of a table, its indexes and its TOAST. */
static void
pgm_cache_row_fill(Form_pg_class form, HTAB *index_blocks, PgmCacheRow *row)
{
	PgStat_StatTabEntry *stats;
	PgmIndexBlocks *idx;

	memset(row, 0, sizeof(PgmCacheRow));
	stats = pgstat_fetch_stat_tabentry_ext(false, form->oid);
	if (stats != NULL)
	{
		row->heap_hits = stats->blocks_hit;
		row->heap_reads = stats->blocks_fetched - stats->blocks_hit;
	}
	idx = hash_search(index_blocks, &form->oid, HASH_FIND, NULL);
	if (idx != NULL)
	{
		row->index_hits = idx->hits;
		row->index_reads = idx->reads;
	}
	if (OidIsValid(form->reltoastrelid))
	{
		row->has_toast = true;
		stats = pgstat_fetch_stat_tabentry_ext(false, form->reltoastrelid);
		if (stats != NULL)
		{
			row->toast_hits = stats->blocks_hit;
			row->toast_reads = stats->blocks_fetched - stats->blocks_hit;
		}
		idx = hash_search(index_blocks, &form->reltoastrelid, HASH_FIND, NULL);
		if (idx != NULL)
		{
			row->toast_hits += idx->hits;
			row->toast_reads += idx->reads;
		}
	}
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
	PgmClassScan cs;
	HeapTuple	tuple;
	HTAB	   *index_blocks;
	PgmCacheRow *rows;
	int			capacity = 256;
	int			nrows = 0;
	int			guc_level;
	int			i;

	if (min_reads < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_reads must not be negative"),
				 errhint("Pass 0 to list every table.")));

	pgm_init_srf(fcinfo);
	guc_level = pgm_stats_snapshot_begin();
	index_blocks = pgm_collect_index_blocks();
	rows = palloc(capacity * sizeof(PgmCacheRow));

	pgm_class_scan_begin(&cs);
	while ((tuple = pgm_class_scan_next(&cs)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgmCacheRow row;

		/* as in pg_statio_user_tables: a partitioned table does no I/O */
		if (form->relkind == RELKIND_PARTITIONED_TABLE)
			continue;

		pgm_cache_row_fill(form, index_blocks, &row);
		if (row.heap_reads + row.index_reads + row.toast_reads < min_reads)
			continue;

		row.relid = form->oid;
		row.schema_name = cs.nspname;
		row.table_name = cstring_to_text(NameStr(form->relname));
		if (nrows == capacity)
		{
			capacity *= 2;
			rows = repalloc(rows, capacity * sizeof(PgmCacheRow));
		}
		rows[nrows++] = row;
	}
	pgm_class_scan_end(&cs);
	AtEOXact_GUC(true, guc_level);

	qsort(rows, nrows, sizeof(PgmCacheRow), pgm_cache_row_cmp);

	for (i = 0; i < nrows; i++)
	{
		PgmCacheRow *row = &rows[i];
		Datum		values[PGMAINT_CACHE_TABLES_COLS];
		bool		nulls[PGMAINT_CACHE_TABLES_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(row->relid);
		values[1] = PointerGetDatum(row->schema_name);
		values[2] = PointerGetDatum(row->table_name);
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

/*
 * _cache_hit_totals(): the block hits and reads of all user tables' heaps,
 * indexes and TOAST, summed in one pass (what cache_hit() needs, without
 * building a row per table).
 */
Datum
pgmaint_cache_hit_totals(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	PgmClassScan cs;
	HeapTuple	tuple;
	HTAB	   *index_blocks;
	PgmCacheRow sum;
	int			guc_level;
	Datum		values[PGMAINT_CACHE_TOTALS_COLS];
	bool		nulls[PGMAINT_CACHE_TOTALS_COLS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	guc_level = pgm_stats_snapshot_begin();
	index_blocks = pgm_collect_index_blocks();
	memset(&sum, 0, sizeof(sum));

	pgm_class_scan_begin(&cs);
	while ((tuple = pgm_class_scan_next(&cs)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgmCacheRow row;

		if (form->relkind == RELKIND_PARTITIONED_TABLE)
			continue;
		pgm_cache_row_fill(form, index_blocks, &row);
		sum.heap_hits += row.heap_hits;
		sum.heap_reads += row.heap_reads;
		sum.index_hits += row.index_hits;
		sum.index_reads += row.index_reads;
		sum.toast_hits += row.toast_hits;
		sum.toast_reads += row.toast_reads;
	}
	pgm_class_scan_end(&cs);
	AtEOXact_GUC(true, guc_level);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(sum.heap_hits);
	values[1] = Int64GetDatum(sum.heap_reads);
	values[2] = Int64GetDatum(sum.index_hits);
	values[3] = Int64GetDatum(sum.index_reads);
	values[4] = Int64GetDatum(sum.toast_hits);
	values[5] = Int64GetDatum(sum.toast_reads);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/* The transaction-id and multixact ages of a table with its TOAST table's. */
static void
pgm_table_age_of(Form_pg_class form, HTAB *toast_xids,
				 TransactionId now_xid, MultiXactId now_mxid, PgmTableAge *age)
{
	PgmToastXid *toast = NULL;
	PgmToastXid looked_up;

	if (OidIsValid(form->reltoastrelid) && toast_xids != NULL)
		toast = hash_search(toast_xids, &form->reltoastrelid, HASH_FIND, NULL);
	else if (OidIsValid(form->reltoastrelid))
	{
		/* a few rows: their TOAST tables one by one */
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(form->reltoastrelid));

		if (HeapTupleIsValid(tuple))
		{
			Form_pg_class t = (Form_pg_class) GETSTRUCT(tuple);

			looked_up.relfrozenxid = t->relfrozenxid;
			looked_up.relminmxid = t->relminmxid;
			toast = &looked_up;
			ReleaseSysCache(tuple);
		}
	}
	pgm_table_age(form->relfrozenxid, form->relminmxid,
				  toast ? toast->relfrozenxid : InvalidTransactionId,
				  toast ? toast->relminmxid : InvalidMultiXactId,
				  now_xid, now_mxid, age);
}

/*
 * vacuum_stats(): the vacuum state of every user table, in catalog order,
 * with the thresholds at which autovacuum acts on it, computed as PostgreSQL's
 * autovacuum does (relation_needs_vacanalyze): the table's reloption when
 * set, else the setting; reltuples < 0 (never vacuumed or analyzed) counts as
 * 0; an insert threshold of -1 disables insert-driven vacuums.
 */
Datum
pgmaint_vacuum_stats(PG_FUNCTION_ARGS)
{
	return pgm_vacuum_stats_rows(fcinfo, false);
}

/*
 * _vacuum_stats_dead(): the rows of vacuum_stats() with dead tuples, for the
 * reports' ten tables with the most: the tables without any are skipped
 * before anything else is computed for them.
 */
Datum
pgmaint_vacuum_stats_dead(PG_FUNCTION_ARGS)
{
	return pgm_vacuum_stats_rows(fcinfo, true);
}

/* The rows of vacuum_stats(), or only those with dead tuples. */
static Datum
pgm_vacuum_stats_rows(FunctionCallInfo fcinfo, bool only_dead)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmClassScan cs;
	HeapTuple	tuple;
	HTAB	   *toast_xids;
	HTAB	   *profiles;
	TransactionId age_xid = GetStableLatestTransactionId();
	MultiXactId age_mxid = ReadNextMultiXactId();
	PgmVacuumContext ctx;
	int			guc_level;

	pgm_init_srf(fcinfo);
	pgm_vacuum_context_init(&ctx, GetCurrentTransactionStartTimestamp());
	profiles = pgm_collect_profiles();
	toast_xids = only_dead ? NULL : pgm_collect_toast_xids();
	/*
	 * one snapshot for every table; the few rows with dead tuples need none
	 * (each lookup is then a probe of the shared hash, which beats copying
	 * every entry of the database when most tables are skipped)
	 */
	guc_level = only_dead ? NewGUCNestLevel() : pgm_stats_snapshot_begin();

	pgm_class_scan_begin(&cs);
	while ((tuple = pgm_class_scan_next(&cs)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgStat_StatTabEntry *stats;
		PgmProfile *profile;
		Datum		values[PGMAINT_VACUUM_STATS_COLS];
		bool		nulls[PGMAINT_VACUUM_STATS_COLS];
		int64		live = 0;
		int64		dead = 0;
		int64		inserts = 0;
		int64		mods = 0;
		TimestampTz times[4] = {0, 0, 0, 0};
		int			c;

		memset(nulls, 0, sizeof(nulls));
		stats = pgstat_fetch_stat_tabentry_ext(false, form->oid);
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
		if (only_dead && dead <= 0)
			continue;

		values[0] = ObjectIdGetDatum(form->oid);
		values[1] = PointerGetDatum(cs.nspname);
		values[2] = PointerGetDatum(cstring_to_text(NameStr(form->relname)));
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
		values[16] = Float4GetDatum(form->reltuples);

		if (form->relkind == RELKIND_PARTITIONED_TABLE)
		{
			/* autovacuum never processes partitioned tables themselves */
			for (c = 17; c < 28; c++)
				nulls[c] = true;
			for (c = 29; c < PGMAINT_VACUUM_STATS_COLS; c++)
				nulls[c] = true;
			values[24] = BoolGetDatum(false);
			nulls[24] = false;
		}
		else
		{
			PgmVacuumVerdict v;
			PgmTableAge age;

			pgm_vacuum_verdict(tuple, RelationGetDescr(cs.classrel), stats, &ctx, &v);

			values[17] = Float8GetDatum((float8) v.vacthresh);
			if (v.vac_ins_base_thresh >= 0)
				values[18] = Float8GetDatum((float8) v.vacinsthresh);
			else
				nulls[18] = true;
			if (form->relkind != RELKIND_TOASTVALUE)
				values[19] = Float8GetDatum((float8) v.anlthresh);
			else
				nulls[19] = true;
			/* vacuum starts once dead tuples exceed the threshold */
			values[20] = Int64GetDatum(Max((int64) floor(v.vacthresh) + 1 - dead, 0));
			values[21] = BoolGetDatum(v.av_enabled && ctx.av_active);
			values[22] = BoolGetDatum(v.dovacuum);
			values[23] = BoolGetDatum(v.doanalyze);
			values[24] = BoolGetDatum(v.falling_behind);

			pgm_table_age_of(form, toast_xids, age_xid, age_mxid, &age);
			values[25] = Int32GetDatum(age.xid_age);
			values[26] = Int32GetDatum(v.freeze_max_age);
			values[27] = Float8GetDatum(100.0 * (double) age.xid_age / (double) v.freeze_max_age);
			values[29] = Int32GetDatum(age.mxid_age);
			values[30] = Int32GetDatum(v.mxid_freeze_max_age);
			values[31] = Float8GetDatum(100.0 * (double) age.mxid_age / (double) v.mxid_freeze_max_age);
		}

		profile = hash_search(profiles, &form->oid, HASH_FIND, NULL);
		if (profile != NULL)
			values[28] = PointerGetDatum(profile->profile);
		else
			nulls[28] = true;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pgm_class_scan_end(&cs);
	AtEOXact_GUC(true, guc_level);

	return (Datum) 0;
}

/* Orders size rows largest first, then by relid. */
static int
pgm_size_row_cmp(const void *a, const void *b)
{
	const PgmSizeRow *ra = (const PgmSizeRow *) a;
	const PgmSizeRow *rb = (const PgmSizeRow *) b;
	int64		ta = ra->heap_bytes + ra->index_bytes + ra->toast_bytes;
	int64		tb = rb->heap_bytes + rb->index_bytes + rb->toast_bytes;

	/* the tables not measured last */
	if (ra->busy != rb->busy)
		return ra->busy ? 1 : -1;
	if (ta != tb)
		return ta > tb ? -1 : 1;
	if (ra->relid != rb->relid)
		return ra->relid < rb->relid ? -1 : 1;
	return 0;
}

/*
 * table_sizes(): exact on-disk size of every user table, split into heap
 * (all forks), indexes and TOAST (table and index), largest first.  The
 * tables are listed first, then each is locked (AccessShareLock) only while
 * its files are measured, so that no catalog scan waits on a lock; a lock
 * that cannot be granted at once (DDL holds or waits for a conflicting one)
 * is not waited for: the table comes last with NULL sizes and a note.
 */
Datum
pgmaint_table_sizes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgmClassScan cs;
	HeapTuple	tuple;
	PgmSizeRow *rows;
	int			capacity = 256;
	int			ntables = 0;
	int			nrows = 0;
	int			i;

	pgm_init_srf(fcinfo);
	rows = palloc(capacity * sizeof(PgmSizeRow));

	pgm_class_scan_begin(&cs);
	while ((tuple = pgm_class_scan_next(&cs)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgmSizeRow *row;

		if (ntables == capacity)
		{
			capacity *= 2;
			rows = repalloc(rows, capacity * sizeof(PgmSizeRow));
		}
		row = &rows[ntables++];
		memset(row, 0, sizeof(PgmSizeRow));
		row->relid = form->oid;
		row->schema_name = cs.nspname;
		row->table_name = cstring_to_text(NameStr(form->relname));
		row->reltuples = form->reltuples;
	}
	pgm_class_scan_end(&cs);

	for (i = 0; i < ntables; i++)
	{
		PgmSizeRow *row = &rows[i];

		CHECK_FOR_INTERRUPTS();

		switch (pgm_table_parts_nowait(row->relid, &row->heap_bytes,
									   &row->index_bytes, &row->toast_bytes))
		{
			case PGM_SIZE_GONE:
				/* dropped since the catalog scan: skip it */
				continue;
			case PGM_SIZE_BUSY:
				row->busy = true;
				row->heap_bytes = row->index_bytes = row->toast_bytes = 0;
				break;
			case PGM_SIZE_OK:
				break;
		}
		rows[nrows++] = *row;
	}

	qsort(rows, nrows, sizeof(PgmSizeRow), pgm_size_row_cmp);

	for (i = 0; i < nrows; i++)
	{
		PgmSizeRow *row = &rows[i];
		int64		total = row->heap_bytes + row->index_bytes + row->toast_bytes;
		Datum		values[PGMAINT_TABLE_SIZES_COLS];
		bool		nulls[PGMAINT_TABLE_SIZES_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(row->relid);
		values[1] = PointerGetDatum(row->schema_name);
		values[2] = PointerGetDatum(row->table_name);
		values[3] = Int64GetDatum(total);
		values[4] = Int64GetDatum(row->heap_bytes);
		values[5] = Int64GetDatum(row->index_bytes);
		values[6] = Int64GetDatum(row->toast_bytes);
		values[7] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(total));
		values[8] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(row->heap_bytes));
		values[9] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(row->index_bytes));
		values[10] = DirectFunctionCall1(pg_size_pretty, Int64GetDatum(row->toast_bytes));
		if (row->reltuples >= 0)
			values[11] = Int64GetDatum((int64) row->reltuples);
		else
			nulls[11] = true;
		if (row->busy)
		{
			for (int c = 3; c <= 10; c++)
				nulls[c] = true;
			values[12] = CStringGetTextDatum(PGMAINT_SIZES_BUSY_NOTE);
		}
		else
			nulls[12] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/*
 * _table_health(min_reads, min_tuples): the table-level health figures of
 * this database computed now, in one pass over pg_class (health()'s fallback
 * when the worker's figures are not fresh).  Unlike the per-table reports it
 * reads each user table's entry as the session's stats_fetch_consistency
 * says, as the worker does: an aggregate needs no consistent snapshot, and
 * building one copies every entry of the server (indexes, TOAST, other
 * databases), several times the cost of the lookups themselves.
 */
Datum
pgmaint_table_health(PG_FUNCTION_ARGS)
{
	int64		min_reads = PG_GETARG_INT64(0);
	int64		min_tuples = PG_GETARG_INT64(1);
	TupleDesc	tupdesc;
	PgmClassScan cs;
	HeapTuple	tuple;
	PgmVacuumContext ctx;
	PgmTableHealth h;
	Datum		values[PGMAINT_TABLE_HEALTH_COLS];
	bool		nulls[PGMAINT_TABLE_HEALTH_COLS];

	if (min_reads < 0 || min_tuples < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_reads and min_tuples must not be negative"),
				 errhint("Pass 0 to judge every table.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	pgm_vacuum_context_init(&ctx, GetCurrentTransactionStartTimestamp());
	pgm_table_health_init(&h, min_reads, min_tuples);

	pgm_class_scan_begin(&cs);
	while ((tuple = pgm_class_scan_next(&cs)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgStat_StatTabEntry *stats;

		if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_MATVIEW)
			continue;
		stats = pgstat_fetch_stat_tabentry_ext(false, form->oid);
		pgm_table_health_add(&h, tuple, RelationGetDescr(cs.classrel), stats, &ctx);
		/* with stats_fetch_consistency = none each entry is a fresh copy */
		if (stats != NULL && pgstat_fetch_consistency == PGSTAT_FETCH_CONSISTENCY_NONE)
			pfree(stats);
	}
	pgm_class_scan_end(&cs);

	pgm_table_health_values(&h, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * _maintenance_age_worst(): for the vacuum_age and analyze_age checks, in one
 * pass over pg_class like _table_health(): the tables changed since their
 * last vacuum (dead plus inserted tuples) and since their last analyze
 * (modified tuples), how many of them were never vacuumed or analyzed, and
 * the one whose last vacuum or analyze (the later of manual and auto) is the
 * oldest, with its time and its changes.  Same tables and figures as
 * maintenance_age(), without one row per table.
 */
Datum
pgmaint_maintenance_age_worst(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	PgmClassScan cs;
	HeapTuple	tuple;
	PgmAgeWorst vac = {0};
	PgmAgeWorst anl = {0};
	Datum		values[10];
	bool		nulls[10] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	vac.relid = anl.relid = InvalidOid;
	pgm_class_scan_begin(&cs);
	while ((tuple = pgm_class_scan_next(&cs)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		PgStat_StatTabEntry *stats;

		if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_MATVIEW)
			continue;
		stats = pgstat_fetch_stat_tabentry_ext(false, form->oid);
		if (stats == NULL)
			continue;
		pgm_age_worst_add(&vac, form->oid,
						  Max(PGM_TAB_VAC_TIME(stats), PGM_TAB_AUTOVAC_TIME(stats)),
						  PGM_TAB_DEAD(stats) + PGM_TAB_INSERTS(stats));
		pgm_age_worst_add(&anl, form->oid,
						  Max(PGM_TAB_ANL_TIME(stats), PGM_TAB_AUTOANL_TIME(stats)),
						  PGM_TAB_MODS(stats));
		/* with stats_fetch_consistency = none each entry is a fresh copy */
		if (pgstat_fetch_consistency == PGSTAT_FETCH_CONSISTENCY_NONE)
			pfree(stats);
	}
	pgm_class_scan_end(&cs);

	values[0] = Int64GetDatum(vac.changed);
	values[1] = Int64GetDatum(vac.never);
	values[2] = ObjectIdGetDatum(vac.relid);
	values[3] = TimestampTzGetDatum(vac.at);
	values[4] = Int64GetDatum(vac.changes);
	nulls[2] = nulls[3] = nulls[4] = !OidIsValid(vac.relid);
	values[5] = Int64GetDatum(anl.changed);
	values[6] = Int64GetDatum(anl.never);
	values[7] = ObjectIdGetDatum(anl.relid);
	values[8] = TimestampTzGetDatum(anl.at);
	values[9] = Int64GetDatum(anl.changes);
	nulls[7] = nulls[8] = nulls[9] = !OidIsValid(anl.relid);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}


/* A table and its pages in the catalog, for _page_leaders() */
typedef struct PgmPages
{
	Oid			relid;			/* hash key */
	int64		pages;
} PgmPages;

/* A link from a table (or an index) to the relation whose pages it adds */
typedef struct PgmPageLink
{
	Oid			from;			/* the TOAST table, or the index */
	Oid			owner;			/* the table, when known */
	int64		pages;			/* the index's pages */
} PgmPageLink;

/* Orders tables by pages, most first, then by relid. */
static int
pgm_pages_cmp(const void *a, const void *b)
{
	const PgmPages *pa = *(const PgmPages *const *) a;
	const PgmPages *pb = *(const PgmPages *const *) b;

	if (pa->pages != pb->pages)
		return pa->pages > pb->pages ? -1 : 1;
	if (pa->relid != pb->relid)
		return pa->relid < pb->relid ? -1 : 1;
	return 0;
}

/* A schema and whether it is a user schema, for _page_leaders() */
typedef struct PgmSchemaKind
{
	Oid			nsp;			/* hash key */
	bool		user;
} PgmSchemaKind;

/* Whether a schema's name is a user schema's (not the catalogs', TOAST or temporary). */
static bool
pgm_page_schema_is_user(Oid nsp, HTAB *known)
{
	bool		found;
	PgmSchemaKind *kind = hash_search(known, &nsp, HASH_ENTER, &found);
	char	   *name;
	bool		user;

	if (found)
		return kind->user;
	name = get_namespace_name(nsp);
	user = name != NULL &&
		strcmp(name, "pg_catalog") != 0 &&
		strcmp(name, "information_schema") != 0 &&
		strncmp(name, "pg_toast", 8) != 0 &&
		strncmp(name, "pg_temp_", 8) != 0;

	if (name != NULL)
		pfree(name);
	kind->user = user;
	return user;
}

/*
 * _page_leaders(n): the n user tables and materialized views (and the owners
 * of indexes, whatever their kind) with the most pages in the catalog: their
 * own relpages, their TOAST table's and their indexes', most first, then by
 * relid -- the candidates _largest_tables() measures.  One pass over pg_class
 * and one over pg_index, instead of joining them.
 */
Datum
pgmaint_page_leaders(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		n = PG_GETARG_INT32(0);
	HASHCTL		ctl;
	HTAB	   *owners;
	HTAB	   *toast_pages;
	HTAB	   *indexes;
	HTAB	   *schemas;
	List	   *toast_links = NIL;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			last_nsp = InvalidOid;
	bool		last_user = false;
	HASH_SEQ_STATUS seq;
	PgmPages   *entry;
	PgmPages  **sorted;
	long		count;
	long		i;
	ListCell   *lc;

	pgm_init_scalar_srf(fcinfo);

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgmPages);
	ctl.hcxt = CurrentMemoryContext;
	owners = hash_create("pgmaint page owners", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	toast_pages = hash_create("pgmaint toast pages", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(PgmPageLink);
	indexes = hash_create("pgmaint index pages", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(PgmSchemaKind);
	schemas = hash_create("pgmaint schemas", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* pg_class: tables' and TOAST tables' pages, indexes to attribute */
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		int64		pages = Max(form->relpages, 0);

		if (form->relkind == RELKIND_TOASTVALUE)
		{
			entry = hash_search(toast_pages, &form->oid, HASH_ENTER, NULL);
			entry->pages = pages;
			continue;
		}
		if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_MATVIEW &&
			form->relkind != RELKIND_INDEX)
			continue;
		if (form->relnamespace != last_nsp)
		{
			last_nsp = form->relnamespace;
			last_user = pgm_page_schema_is_user(last_nsp, schemas);
		}
		if (!last_user)
			continue;
		if (form->relkind == RELKIND_INDEX)
		{
			PgmPageLink *link = hash_search(indexes, &form->oid, HASH_ENTER, NULL);

			link->owner = InvalidOid;
			link->pages = pages;
			continue;
		}
		entry = hash_search(owners, &form->oid, HASH_ENTER, NULL);
		entry->pages = pages;
		if (OidIsValid(form->reltoastrelid))
		{
			PgmPageLink *link = palloc(sizeof(PgmPageLink));

			link->from = form->reltoastrelid;
			link->owner = form->oid;
			toast_links = lappend(toast_links, link);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/* each TOAST table's pages to its table */
	foreach(lc, toast_links)
	{
		PgmPageLink *link = (PgmPageLink *) lfirst(lc);
		PgmPages   *toast = hash_search(toast_pages, &link->from, HASH_FIND, NULL);

		if (toast == NULL)
			continue;
		entry = hash_search(owners, &link->owner, HASH_FIND, NULL);
		entry->pages += toast->pages;
	}

	/* pg_index: each index's pages to its table */
	rel = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index form = (Form_pg_index) GETSTRUCT(tuple);
		PgmPageLink *link = hash_search(indexes, &form->indexrelid, HASH_FIND, NULL);
		bool		found;

		if (link == NULL)
			continue;
		entry = hash_search(owners, &form->indrelid, HASH_ENTER, &found);
		if (!found)
			entry->pages = 0;
		entry->pages += link->pages;
		link->owner = form->indrelid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/* an index without its pg_index row counts as its own (as a LEFT JOIN would) */
	hash_seq_init(&seq, indexes);
	{
		PgmPageLink *link;

		while ((link = hash_seq_search(&seq)) != NULL)
		{
			bool		found;

			if (OidIsValid(link->owner))
				continue;
			entry = hash_search(owners, &link->from, HASH_ENTER, &found);
			if (!found)
				entry->pages = 0;
			entry->pages += link->pages;
		}
	}

	count = hash_get_num_entries(owners);
	sorted = palloc(sizeof(PgmPages *) * Max(count, 1));
	i = 0;
	hash_seq_init(&seq, owners);
	while ((entry = hash_seq_search(&seq)) != NULL)
		sorted[i++] = entry;
	qsort(sorted, count, sizeof(PgmPages *), pgm_pages_cmp);
	for (i = 0; i < count && i < n; i++)
	{
		Datum		value = ObjectIdGetDatum(sorted[i]->relid);
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}

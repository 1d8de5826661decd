/*-------------------------------------------------------------------------
 *
 * checkcatalog.c
 *	  The checks of the catalogs: xid_wraparound and multixact_wraparound
 *	  (family "wraparound", pg_database), invalid_indexes and sequences
 *	  (family "catalog"), not_valid_constraints and disabled_triggers
 *	  (family "schema").
 *
 * The catalog cache.  What these checks take from the catalogs of this
 * database (the invalid indexes, the NOT VALID constraints and disabled
 * triggers, and each sequence with its range and the narrowest column it
 * feeds) changes only with DDL, which sends invalidation messages.  A
 * process keeps what it found, in its own memory, until a relcache
 * invalidation (any relation: DDL, VACUUM's and ANALYZE's pg_class updates,
 * a cache reset) or a syscache invalidation of pg_constraint, pg_sequence,
 * pg_type or pg_namespace arrives, and then looks again: the worker scans
 * the catalogs only after they changed.  What changes without DDL is read
 * at every evaluation: each sequence's last value (from its page, under a
 * lock taken and released at once, without a relcache entry), and the
 * index builds in progress (which make an index invalid for a while).
 *
 * Texts of names (regclass) are those of the search_path every pgmaint
 * function and the worker pin (pg_catalog, pg_temp), so they are the same in
 * the worker and in a session.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/multixact.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_database.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "health.h"

PG_FUNCTION_INFO_V1(pgmaint_sequence_usage);

/* The magic number of a sequence's page (PostgreSQL's sequence.c) */
#define PGMAINT_SEQ_MAGIC		0x1717

/* Rank of a column's type by the range it holds: int2, int4, int8, any (numeric) */
#define PGMAINT_RANK_ANY		3

/* An invalid index */
typedef struct PgmInvalidIndex
{
	Oid			indexrelid;
	Oid			indrelid;
	char	   *name;			/* indexrelid::regclass::text */
} PgmInvalidIndex;

/* A sequence and the column that limits it most */
typedef struct PgmSequence
{
	Oid			seqoid;
	char	   *schemaname;
	char	   *seqname;
	Oid			typid;			/* the sequence's data type */
	bool		cycle;
	bool		ascending;
	int64		increment;
	int64		start_value;
	int64		min_value;
	int64		max_value;
	bool		has_column;
	Oid			column_relid;
	int			rank;			/* of the column's type: 0 int2 .. 3 any */
	int64		type_min;		/* when rank < PGMAINT_RANK_ANY */
	int64		type_max;
	bool		unique_key;		/* the column is a key of a unique index */
	char	   *colname;		/* format('%s.%I', relid::regclass, attname) */
	char	   *typname;		/* the column's type, as regtype prints it */
} PgmSequence;

/*
 * Where a sequence stands: its position (the last value, or the start value
 * when never called: nextval() returns it next), the bound it runs out at,
 * the share of its range used (never below 0) and the values nextval() can
 * still return.
 */
typedef struct PgmSeqUsage
{
	bool		called;
	int64		pos;
	int64		bound;
	bool		column_limits;	/* the column ends before the sequence */
	double		used;			/* percent; for ordering (the numeric is exact) */
	double		left;			/* values_left; for ordering */
	char	   *left_text;		/* values_left, exact */
} PgmSeqUsage;

/* What the catalog cache holds */
typedef struct PgmCatalogCache
{
	bool		valid;
	Oid			datid;
	List	   *invalid_indexes;	/* of PgmInvalidIndex */
	List	   *sequences;		/* of PgmSequence */
	PgmCheckResult not_valid;
	PgmCheckResult disabled;
} PgmCatalogCache;

static PgmCatalogCache pgm_cache;
static MemoryContext pgm_cache_context = NULL;
static uint64 pgm_catalog_changes = 0;	/* invalidations seen */
static uint64 pgm_cache_built_at = 0;	/* pgm_catalog_changes when built */
static bool pgm_callbacks = false;

static void pgm_catalog_changed_rel(Datum arg, Oid relid);
static void pgm_catalog_changed_sys(Datum arg, int cacheid, uint32 hashvalue);
static void pgm_catalog_cache_build(void);
static List *pgm_collect_invalid_indexes(void);
static List *pgm_collect_sequences(void);
static void pgm_sequence_column(PgmSequence *seq, Oid relid, AttrNumber attnum,
								bool *chosen, Oid *chosen_relid, char **chosen_attname);
static bool pgm_unique_key(Oid relid, AttrNumber attnum);
static void pgm_collect_schema(PgmCheckResult *not_valid, PgmCheckResult *disabled);
static bool pgm_read_last_value(Oid seqoid, int64 *last, bool *called);
static bool pgm_sequence_usage(const PgmSequence *seq, PgmSeqUsage *u);
static Datum pgm_used_pct_numeric(const PgmSequence *seq, const PgmSeqUsage *u);
static bool pgm_usage_before(const PgmSequence *a, const PgmSeqUsage *ua,
							 const PgmSequence *b, const PgmSeqUsage *ub);
static bool pgm_index_in_progress(const PgmInvalidIndex *ix, const PgmEvalInput *in);

/* Invalidation callback: a relation changed (InvalidOid: all of them). */
static void
pgm_catalog_changed_rel(Datum arg, Oid relid)
{
	pgm_catalog_changes++;
}

/* Invalidation callback: a row of a catalog with a syscache changed. */
static void
pgm_catalog_changed_sys(Datum arg, int cacheid, uint32 hashvalue)
{
	pgm_catalog_changes++;
}

/* Registers the invalidation callbacks of the catalog cache, once per process. */
void
pgm_catalog_cache_init(void)
{
	if (pgm_callbacks)
		return;
	CacheRegisterRelcacheCallback(pgm_catalog_changed_rel, (Datum) 0);
	CacheRegisterSyscacheCallback(CONSTROID, pgm_catalog_changed_sys, (Datum) 0);
	CacheRegisterSyscacheCallback(SEQRELID, pgm_catalog_changed_sys, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, pgm_catalog_changed_sys, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, pgm_catalog_changed_sys, (Datum) 0);
	pgm_cache_context = AllocSetContextCreate(TopMemoryContext,
											  "pgmaint catalog cache",
											  ALLOCSET_SMALL_SIZES);
	pgm_callbacks = true;
}

/*
 * Fills the catalog cache from the catalogs when it is empty, of another
 * database or older than the last invalidation.  An invalidation that
 * arrives while it is being built makes the next call build it again.
 */
static void
pgm_catalog_cache_build(void)
{
	MemoryContext old;
	uint64		changes;

	pgm_catalog_cache_init();
	if (pgm_cache.valid && pgm_cache.datid == MyDatabaseId &&
		pgm_cache_built_at == pgm_catalog_changes)
		return;

	changes = pgm_catalog_changes;
	pgm_cache.valid = false;
	MemoryContextReset(pgm_cache_context);
	old = MemoryContextSwitchTo(pgm_cache_context);
	pgm_cache.invalid_indexes = pgm_collect_invalid_indexes();
	pgm_cache.sequences = pgm_collect_sequences();
	pgm_collect_schema(&pgm_cache.not_valid, &pgm_cache.disabled);
	MemoryContextSwitchTo(old);
	pgm_cache.datid = MyDatabaseId;
	pgm_cache.valid = true;
	pgm_cache_built_at = changes;
}

/* --- family "wraparound" --- */

/*
 * Family "wraparound": the oldest connectable database's age(datfrozenxid)
 * and mxid_age(datminmxid) as a share of the freeze limits.  (The SQL of 1.1
 * computed 100 * age in int4 and failed past 21,474,836 transactions.)
 */
void
pgm_family_wraparound(const PgmEvalInput *in, PgmEvaluation *eval)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	TransactionId now_xid = GetStableLatestTransactionId();
	MultiXactId now_mxid = ReadNextMultiXactId();
	int32		xid_age = 0;
	int32		mxid_age = 0;
	char	   *xid_db = NULL;
	char	   *mxid_db = NULL;
	const PgmTableHealth *tables;
	PgmCheckResult *r;

	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
		int32		age;

		if (!db->datallowconn)
			continue;
		/* age() and mxid_age(): INT_MAX for an xid that is not normal */
		age = TransactionIdIsNormal(db->datfrozenxid)
			? (int32) (now_xid - db->datfrozenxid) : PG_INT32_MAX;
		if (xid_db == NULL || age > xid_age)
		{
			xid_age = age;
			xid_db = pstrdup(NameStr(db->datname));
		}
		age = MultiXactIdIsValid(db->datminmxid)
			? (int32) (now_mxid - db->datminmxid) : PG_INT32_MAX;
		if (mxid_db == NULL || age > mxid_age)
		{
			mxid_age = age;
			mxid_db = pstrdup(NameStr(db->datname));
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/* this database's oldest tables, each aged by the older of heap and TOAST */
	tables = pgm_eval_tables(in);

	r = &eval->checks[PGMAINT_CHECK_XID_WRAPAROUND];
	if (xid_db != NULL)
	{
		pgm_result_value(r, pgm_num_round_text(pgm_num_div(pgm_num_mul(pgm_num(100), pgm_num(xid_age)),
														   pgm_num(autovacuum_freeze_max_age)), 1));
		if (OidIsValid(tables->xid_relid))
			pgm_result_message(r, "database %s has age(datfrozenxid) %d (autovacuum_freeze_max_age %d); the oldest table here is %s, xid age %d%s",
							   quote_identifier(xid_db), xid_age, autovacuum_freeze_max_age,
							   pgm_regclass_text(tables->xid_relid), tables->xid_age.xid_age,
							   tables->xid_age.xid_from_toast ? " (its TOAST table's, older than its own)" : "");
		else
			pgm_result_message(r, "database %s has age(datfrozenxid) %d (autovacuum_freeze_max_age %d)",
							   quote_identifier(xid_db), xid_age, autovacuum_freeze_max_age);
		pgm_result_hint(r, PGMAINT_HINT_XID, NULL);
	}
	r = &eval->checks[PGMAINT_CHECK_MULTIXACT_WRAPAROUND];
	if (mxid_db != NULL)
	{
		pgm_result_value(r, pgm_num_round_text(pgm_num_div(pgm_num_mul(pgm_num(100), pgm_num(mxid_age)),
														   pgm_num(autovacuum_multixact_freeze_max_age)), 1));
		if (OidIsValid(tables->mxid_relid))
			pgm_result_message(r, "database %s has mxid_age(datminmxid) %d (autovacuum_multixact_freeze_max_age %d); the oldest table here is %s, multixact age %d%s",
							   quote_identifier(mxid_db), mxid_age, autovacuum_multixact_freeze_max_age,
							   pgm_regclass_text(tables->mxid_relid), tables->mxid_age.mxid_age,
							   tables->mxid_age.mxid_from_toast ? " (its TOAST table's, older than its own)" : "");
		else
			pgm_result_message(r, "database %s has mxid_age(datminmxid) %d (autovacuum_multixact_freeze_max_age %d)",
							   quote_identifier(mxid_db), mxid_age, autovacuum_multixact_freeze_max_age);
		pgm_result_hint(r, PGMAINT_HINT_MXID, NULL);
	}
}

/* --- family "catalog" --- */

/*
 * The invalid indexes of this database (pg_index WHERE NOT indisvalid, from
 * a scan whose key drops valid indexes before a row is formed).
 */
static List *
pgm_collect_invalid_indexes(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	List	   *result = NIL;

	ScanKeyInit(&key, Anum_pg_index_indisvalid, BTEqualStrategyNumber,
				F_BOOLEQ, BoolGetDatum(false));
	rel = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index form = (Form_pg_index) GETSTRUCT(tuple);
		PgmInvalidIndex *ix = palloc(sizeof(PgmInvalidIndex));

		ix->indexrelid = form->indexrelid;
		ix->indrelid = form->indrelid;
		ix->name = pgm_regclass_text(form->indexrelid);
		result = lappend(result, ix);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * True when a CREATE INDEX (CONCURRENTLY) of this database builds the index
 * or works on its table now, as pg_stat_progress_create_index shows it to
 * the caller: such an index is invalid only until the build ends.
 */
static bool
pgm_index_in_progress(const PgmInvalidIndex *ix, const PgmEvalInput *in)
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
		PgBackendStatus *be;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_progress_command != PROGRESS_COMMAND_CREATE_INDEX ||
			be->st_databaseid != MyDatabaseId)
			continue;
		/* the view shows the relations only to those who may see the session */
		if (!in->privs.all_stats && !has_privs_of_role(GetUserId(), be->st_userid))
			continue;
		if (be->st_progress_command_target == ix->indrelid ||
			(Oid) be->st_progress_param[PROGRESS_CREATEIDX_INDEX_OID] == ix->indexrelid)
			return true;
	}
	return false;
}

/* Keeps in *chosen the column of those a sequence feeds that limits it most. */
static void
pgm_sequence_column(PgmSequence *seq, Oid relid, AttrNumber attnum,
					bool *chosen, Oid *chosen_relid, char **chosen_attname)
{
	HeapTuple	tuple;
	Form_pg_attribute att;
	int			rank;
	bool		unique_key;
	int64		type_min = 0;
	int64		type_max = 0;
	bool		better;

	tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (!HeapTupleIsValid(tuple))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tuple);
	if (att->attisdropped)
	{
		ReleaseSysCache(tuple);
		return;
	}
	switch (att->atttypid)
	{
		case INT2OID:
			rank = 0;
			type_min = PG_INT16_MIN;
			type_max = PG_INT16_MAX;
			break;
		case INT4OID:
			rank = 1;
			type_min = PG_INT32_MIN;
			type_max = PG_INT32_MAX;
			break;
		case INT8OID:
			rank = 2;
			type_min = PG_INT64_MIN;
			type_max = PG_INT64_MAX;
			break;
		default:
			rank = PGMAINT_RANK_ANY;
			break;
	}
	unique_key = pgm_unique_key(relid, attnum);

	/* ORDER BY the type's bound (narrowest first), unique_key DESC, relid, attname */
	if (!*chosen)
		better = true;
	else if (rank != seq->rank)
		better = rank < seq->rank;
	else if (unique_key != seq->unique_key)
		better = unique_key;
	else if (relid != *chosen_relid)
		better = relid < *chosen_relid;
	else
		better = strcmp(NameStr(att->attname), *chosen_attname) < 0;

	if (better)
	{
		seq->has_column = true;
		seq->column_relid = relid;
		seq->rank = rank;
		seq->type_min = type_min;
		seq->type_max = type_max;
		seq->unique_key = unique_key;
		seq->colname = psprintf("%s.%s", pgm_regclass_text(relid),
								quote_identifier(NameStr(att->attname)));
		seq->typname = format_type_be(att->atttypid);
		*chosen = true;
		*chosen_relid = relid;
		*chosen_attname = pstrdup(NameStr(att->attname));
	}
	ReleaseSysCache(tuple);
}

/* True when a valid unique index of relid has attnum among its key columns. */
static bool
pgm_unique_key(Oid relid, AttrNumber attnum)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	rel = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(rel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index form = (Form_pg_index) GETSTRUCT(tuple);
		int			k;

		if (!form->indisunique || !form->indisvalid)
			continue;
		for (k = 0; k < form->indnkeyatts; k++)
		{
			if (form->indkey.values[k] == attnum)
				found = true;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Every sequence of this database (not other sessions' temporary ones) with
 * its range and the column that limits it most among those it feeds: the
 * column it is owned by (serial, identity) and every column whose default
 * calls it.  Numeric columns hold any value; among columns of one range a
 * unique key counts first.
 */
static List *
pgm_collect_sequences(void)
{
	Relation	seqrel;
	Relation	deprel;
	Relation	defrel;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	seqrel = table_open(SequenceRelationId, AccessShareLock);
	deprel = table_open(DependRelationId, AccessShareLock);
	defrel = table_open(AttrDefaultRelationId, AccessShareLock);
	scan = systable_beginscan(seqrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_sequence form = (Form_pg_sequence) GETSTRUCT(tuple);
		HeapTuple	classtup;
		Form_pg_class classform;
		PgmSequence *seq;
		ScanKeyData keys[2];
		SysScanDesc dscan;
		HeapTuple	dtup;
		bool		chosen = false;
		Oid			chosen_relid = InvalidOid;
		char	   *chosen_attname = NULL;
		char	   *nspname;

		classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(form->seqrelid));
		if (!HeapTupleIsValid(classtup))
			continue;
		classform = (Form_pg_class) GETSTRUCT(classtup);
		nspname = get_namespace_name(classform->relnamespace);
		if (classform->relkind != RELKIND_SEQUENCE || nspname == NULL ||
			isOtherTempNamespace(classform->relnamespace))
		{
			ReleaseSysCache(classtup);
			continue;
		}
		seq = palloc0(sizeof(PgmSequence));
		seq->seqoid = form->seqrelid;
		seq->schemaname = nspname;
		seq->seqname = pstrdup(NameStr(classform->relname));
		seq->typid = form->seqtypid;
		seq->cycle = form->seqcycle;
		seq->ascending = form->seqincrement > 0;
		seq->increment = form->seqincrement;
		seq->start_value = form->seqstart;
		seq->min_value = form->seqmin;
		seq->max_value = form->seqmax;
		seq->rank = PGMAINT_RANK_ANY;
		ReleaseSysCache(classtup);

		/* the columns it is owned by: auto and internal dependencies on a column */
		ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
		ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(form->seqrelid));
		dscan = systable_beginscan(deprel, DependDependerIndexId, true, NULL, 2, keys);
		while (HeapTupleIsValid(dtup = systable_getnext(dscan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(dtup);

			if (dep->refclassid == RelationRelationId && dep->refobjsubid > 0 &&
				(dep->deptype == DEPENDENCY_AUTO || dep->deptype == DEPENDENCY_INTERNAL))
				pgm_sequence_column(seq, dep->refobjid, (AttrNumber) dep->refobjsubid,
									&chosen, &chosen_relid, &chosen_attname);
		}
		systable_endscan(dscan);

		/* the columns whose default refers to it */
		ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
		ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(form->seqrelid));
		dscan = systable_beginscan(deprel, DependReferenceIndexId, true, NULL, 2, keys);
		while (HeapTupleIsValid(dtup = systable_getnext(dscan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(dtup);
			ScanKeyData defkey;
			SysScanDesc defscan;
			HeapTuple	deftup;

			if (dep->classid != AttrDefaultRelationId)
				continue;
			ScanKeyInit(&defkey, Anum_pg_attrdef_oid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(dep->objid));
			defscan = systable_beginscan(defrel, AttrDefaultOidIndexId, true, NULL, 1, &defkey);
			deftup = systable_getnext(defscan);
			if (HeapTupleIsValid(deftup))
			{
				Form_pg_attrdef def = (Form_pg_attrdef) GETSTRUCT(deftup);

				pgm_sequence_column(seq, def->adrelid, def->adnum,
									&chosen, &chosen_relid, &chosen_attname);
			}
			systable_endscan(defscan);
		}
		systable_endscan(dscan);

		result = lappend(result, seq);
	}
	systable_endscan(scan);
	table_close(defrel, AccessShareLock);
	table_close(deprel, AccessShareLock);
	table_close(seqrel, AccessShareLock);
	return result;
}

/*
 * A sequence's last value and is_called, read from its page without a
 * relcache entry; false when it is gone or not a sequence of ours.  The lock
 * is taken only if it is free and released at once, so that thousands of
 * sequences never fill the lock table and no one holding a sequence locked
 * stalls an evaluation.  Nothing of the sequence's owner runs (a page is
 * read, no function is called), so it needs no owner context (owner.c); its
 * rule is kept all the same: a sequence read as never called (its last value
 * NULL, measured from its start value) when someone holds it locked, when
 * its owner may not read it (SELECT or USAGE), and -- having no page on a
 * standby -- when it is unlogged and the server is in recovery, as
 * pg_sequence_last_value() returns NULL for it.
 */
static bool
pgm_read_last_value(Oid seqoid, int64 *last, bool *called_out)
{
	HeapTuple	classtup;
	Form_pg_class form;
	Buffer		buf;
	Page		page;
	ItemId		lp;
	HeapTupleHeader tuphdr;
	Form_pg_sequence_data data;
	bool		called = false;
	bool		temp;

	*called_out = false;
	if (!ConditionalLockRelationOid(seqoid, AccessShareLock))
		return true;
	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(seqoid));
	if (!HeapTupleIsValid(classtup))
	{
		UnlockRelationOid(seqoid, AccessShareLock);
		return false;
	}
	form = (Form_pg_class) GETSTRUCT(classtup);
	temp = form->relpersistence == RELPERSISTENCE_TEMP;
	if (form->relkind != RELKIND_SEQUENCE ||
		(temp && !isTempNamespace(form->relnamespace)))
	{
		ReleaseSysCache(classtup);
		UnlockRelationOid(seqoid, AccessShareLock);
		return false;
	}
	if ((form->relpersistence == RELPERSISTENCE_UNLOGGED && RecoveryInProgress()) ||
		pg_class_aclcheck(seqoid, form->relowner, ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
	{
		ReleaseSysCache(classtup);
		UnlockRelationOid(seqoid, AccessShareLock);
		return true;
	}

	if (temp)
	{
		/* this session's own: local buffers, through the relation */
		Relation	rel = relation_open(seqoid, NoLock);

		buf = ReadBuffer(rel, 0);
		relation_close(rel, NoLock);
	}
	else
	{
#if PG_VERSION_NUM >= 160000
		RelFileLocator loc;

		loc.spcOid = OidIsValid(form->reltablespace) ? form->reltablespace : MyDatabaseTableSpace;
		loc.dbOid = MyDatabaseId;
		loc.relNumber = form->relfilenode;
		buf = ReadBufferWithoutRelcache(loc, MAIN_FORKNUM, 0, RBM_NORMAL, NULL,
										form->relpersistence == RELPERSISTENCE_PERMANENT);
#else
		RelFileNode node;

		node.spcNode = OidIsValid(form->reltablespace) ? form->reltablespace : MyDatabaseTableSpace;
		node.dbNode = MyDatabaseId;
		node.relNode = form->relfilenode;
		buf = ReadBufferWithoutRelcache(node, MAIN_FORKNUM, 0, RBM_NORMAL, NULL,
										form->relpersistence == RELPERSISTENCE_PERMANENT);
#endif
	}
	ReleaseSysCache(classtup);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (PageGetSpecialSize(page) < sizeof(uint32) ||
		*((uint32 *) PageGetSpecialPointer(page)) != PGMAINT_SEQ_MAGIC ||
		PageGetMaxOffsetNumber(page) < FirstOffsetNumber)
	{
		UnlockReleaseBuffer(buf);
		UnlockRelationOid(seqoid, AccessShareLock);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bad magic number in sequence \"%s\"", get_rel_name(seqoid))));
	}
	lp = PageGetItemId(page, FirstOffsetNumber);
	if (ItemIdIsNormal(lp))
	{
		tuphdr = (HeapTupleHeader) PageGetItem(page, lp);
		data = (Form_pg_sequence_data) ((char *) tuphdr + tuphdr->t_hoff);
		*last = data->last_value;
		called = data->is_called;
	}
	UnlockReleaseBuffer(buf);
	UnlockRelationOid(seqoid, AccessShareLock);
	*called_out = called;
	return true;
}

/*
 * Family "catalog": invalid indexes (other than those a CREATE INDEX is
 * building now) and the sequence that has used the largest share of its
 * range (then the fewest values left), measured against the narrowest column
 * it feeds, and how many are at or past the warning level.  A cycling
 * sequence wraps instead of running out: it counts only when it feeds a
 * unique key, where the values after the wrap are already taken.  A sequence
 * never called is measured from its start value.
 */
void
pgm_family_catalog(const PgmEvalInput *in, PgmEvaluation *eval)
{
	PgmCheckResult *r;
	ListCell   *lc;
	int64		invalid = 0;
	const char *example = NULL;
	PgmSequence *worst = NULL;
	PgmSeqUsage worst_usage;
	PgmThreshold thresholds[PGMAINT_NCHECKS];
	bool		thresholds_read = false;
	int64		past = 0;
	int64		nmeasured = 0;

	pgm_catalog_cache_build();

	foreach(lc, pgm_cache.invalid_indexes)
	{
		PgmInvalidIndex *ix = (PgmInvalidIndex *) lfirst(lc);

		if (pgm_index_in_progress(ix, in))
			continue;
		invalid++;
		if (example == NULL || pgm_text_cmp(ix->name, example) < 0)
			example = ix->name;
	}
	r = &eval->checks[PGMAINT_CHECK_INVALID_INDEXES];
	pgm_result_value(r, psprintf(INT64_FORMAT, invalid));
	if (invalid == 0)
		pgm_result_message(r, "no invalid index");
	else
		pgm_result_message(r, INT64_FORMAT " invalid index(es), e.g. %s", invalid, example);
	pgm_result_hint(r, PGMAINT_HINT_INVALID_INDEXES, NULL);

	foreach(lc, pgm_cache.sequences)
	{
		PgmSequence *seq = (PgmSequence *) lfirst(lc);
		PgmSeqUsage u;

		/* a cycling sequence wraps instead of running out: only a key it feeds suffers */
		if (seq->cycle && !seq->unique_key)
			continue;
		if (!pgm_sequence_usage(seq, &u))
			continue;
		nmeasured++;
		if (worst == NULL || pgm_usage_before(seq, &u, worst, &worst_usage))
		{
			worst = seq;
			worst_usage = u;
		}
		/* the sequences at or past the warning level, for the message */
		if (!thresholds_read)
		{
			pgm_read_thresholds(thresholds);
			thresholds_read = true;
		}
		if (thresholds[PGMAINT_CHECK_SEQUENCES].present &&
			thresholds[PGMAINT_CHECK_SEQUENCES].warning != NULL)
		{
			double		w = thresholds[PGMAINT_CHECK_SEQUENCES].warning_f;

			/* the exact numerics only where the doubles are too close to tell */
			if (u.used > w + 1e-9 * Max(1.0, fabs(w)))
				past++;
			else if (u.used >= w - 1e-9 * Max(1.0, fabs(w)) &&
					 pgm_num_cmp(pgm_used_pct_numeric(seq, &u),
								 pgm_num_lit(thresholds[PGMAINT_CHECK_SEQUENCES].warning)) >= 0)
				past++;
		}
	}

	r = &eval->checks[PGMAINT_CHECK_SEQUENCES];
	{
		StringInfoData msg;
		char	   *used = NULL;

		initStringInfo(&msg);
		if (past > 1)
			appendStringInfo(&msg, INT64_FORMAT " sequences have used %s%% or more of their range (pgmaint.sequences(%s) lists them); the worst: ",
							 past, thresholds[PGMAINT_CHECK_SEQUENCES].warning,
							 thresholds[PGMAINT_CHECK_SEQUENCES].warning);
		if (worst == NULL)
		{
			pgm_result_value(r, "0.00");
			appendStringInfoString(&msg, "no sequence in this database");
			pgm_result_hint(r, PGMAINT_HINT_SEQ, NULL);
		}
		else
		{
			const char *quoted = psprintf("%s.%s", quote_identifier(worst->schemaname),
										  quote_identifier(worst->seqname));

			used = pgm_num_round_text(pgm_used_pct_numeric(worst, &worst_usage), 2);
			pgm_result_value(r, used);
			if (worst->cycle)
			{
				appendStringInfo(&msg, "cycling sequence %s has used %s%% of its range before it wraps; it feeds key column %s (%s), where the values after the wrap are already taken",
								 quoted, used, worst->colname ? worst->colname : "",
								 worst->typname ? worst->typname : "");
				pgm_result_hint(r, PGMAINT_HINT_SEQ_CYCLE, NULL);
			}
			else if (worst_usage.column_limits)
			{
				appendStringInfo(&msg, "sequence %s has used %s%% of the range of column %s (%s, up to " INT64_FORMAT ")",
								 quoted, used, worst->colname, worst->typname, worst_usage.bound);
				pgm_result_hint(r, PGMAINT_HINT_SEQ_COLUMN, NULL);
			}
			else if (worst->has_column)
			{
				appendStringInfo(&msg, "sequence %s has used %s%% of its range (it feeds column %s)",
								 quoted, used, worst->colname);
				pgm_result_hint(r, PGMAINT_HINT_SEQ, NULL);
			}
			else
			{
				appendStringInfo(&msg, "sequence %s has used %s%% of its range", quoted, used);
				pgm_result_hint(r, PGMAINT_HINT_SEQ, NULL);
			}
			if (!worst_usage.called)
				appendStringInfoString(&msg, " (never called: measured from its start value)");
		}
		pgm_result_message(r, "%s", msg.data);
	}
	(void) nmeasured;
}

/*
 * Where a sequence stands now (see PgmSeqUsage); false when its page cannot
 * be read now (a DDL holds its lock).  The one copy of the rule: the
 * sequences check and pgmaint._sequence_usage() (so sequences()) use it.
 */
static bool
pgm_sequence_usage(const PgmSequence *seq, PgmSeqUsage *u)
{
	int64		last = 0;
	bool		limited = seq->rank < PGMAINT_RANK_ANY;
	double		span;
	int128		left;
	int128		step;

	if (!pgm_read_last_value(seq->seqoid, &last, &u->called))
		return false;
	u->pos = u->called ? last : seq->start_value;
	if (seq->ascending)
	{
		u->bound = limited ? Min(seq->max_value, seq->type_max) : seq->max_value;
		u->column_limits = limited && seq->type_max < seq->max_value;
		span = (double) u->bound - (double) seq->min_value;
		u->used = span != 0 ? 100.0 * ((double) u->pos - (double) seq->min_value) / span : 0;
		left = (int128) u->bound - (int128) u->pos;
	}
	else
	{
		u->bound = limited ? Max(seq->min_value, seq->type_min) : seq->min_value;
		u->column_limits = limited && seq->type_min > seq->min_value;
		span = (double) seq->max_value - (double) u->bound;
		u->used = span != 0 ? 100.0 * ((double) seq->max_value - (double) u->pos) / span : 0;
		left = (int128) u->pos - (int128) u->bound;
	}
	u->used = Max(u->used, 0);
	/* floor(left / abs(increment)), plus the start value itself when never called */
	step = seq->increment < 0 ? -(int128) seq->increment : (int128) seq->increment;
	{
		int128		q = left / step;

		if (left % step != 0 && left < 0)
			q--;
		if (!u->called)
			q++;
		if (q < 0)
			q = 0;
		u->left = (double) q;
		if (q <= PG_INT64_MAX)
			u->left_text = psprintf(INT64_FORMAT, (int64) q);
		else
			u->left_text = psprintf(UINT64_FORMAT, (uint64) q);
	}
	return true;
}

/* The share used, in percent, exactly as numeric arithmetic gives it (never below 0). */
static Datum
pgm_used_pct_numeric(const PgmSequence *seq, const PgmSeqUsage *u)
{
	Datum		num = seq->ascending
		? pgm_num_sub(pgm_num(u->pos), pgm_num(seq->min_value))
		: pgm_num_sub(pgm_num(seq->max_value), pgm_num(u->pos));
	Datum		den = seq->ascending
		? pgm_num_sub(pgm_num(u->bound), pgm_num(seq->min_value))
		: pgm_num_sub(pgm_num(seq->max_value), pgm_num(u->bound));
	Datum		used;

	if (pgm_num_cmp(den, pgm_num(0)) == 0)
		return pgm_num(0);
	used = pgm_num_div(pgm_num_mul(pgm_num_lit("100.0"), num), den);
	return pgm_num_cmp(used, pgm_num(0)) < 0 ? pgm_num(0) : used;
}

/* ORDER BY used_pct DESC, values_left, schema_name, sequence_name: a before b. */
static bool
pgm_usage_before(const PgmSequence *a, const PgmSeqUsage *ua,
				 const PgmSequence *b, const PgmSeqUsage *ub)
{
	int			cmp;

	if (ua->used != ub->used)
		return ua->used > ub->used;
	if (ua->left != ub->left)
		return ua->left < ub->left;
	cmp = strcmp(a->schemaname, b->schemaname);
	if (cmp != 0)
		return cmp < 0;
	return strcmp(a->seqname, b->seqname) < 0;
}

/* Columns of pgmaint._sequence_usage() */
#define PGMAINT_SEQUENCE_USAGE_COLS	19

/*
 * SQL pgmaint._sequence_usage(): every sequence of this database (but other
 * sessions' temporary ones) with where it stands, by pgm_sequence_usage();
 * sequences() lists them.
 */
Datum
pgmaint_sequence_usage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	pgm_catalog_cache_build();
	foreach(lc, pgm_cache.sequences)
	{
		PgmSequence *seq = (PgmSequence *) lfirst(lc);
		PgmSeqUsage u;
		Datum		values[PGMAINT_SEQUENCE_USAGE_COLS];
		bool		nulls[PGMAINT_SEQUENCE_USAGE_COLS];

		if (!pgm_sequence_usage(seq, &u))
			continue;
		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(seq->seqoid);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(seq->schemaname));
		values[2] = DirectFunctionCall1(namein, CStringGetDatum(seq->seqname));
		values[3] = ObjectIdGetDatum(seq->typid);
		values[4] = BoolGetDatum(u.called);
		values[5] = pgm_num(u.pos);
		values[6] = pgm_num(seq->start_value);
		values[7] = pgm_num(seq->increment);
		values[8] = pgm_num(seq->min_value);
		values[9] = pgm_num(seq->max_value);
		values[10] = pgm_num(u.bound);
		values[11] = pgm_used_pct_numeric(seq, &u);
		values[12] = pgm_num_lit(u.left_text);
		values[13] = BoolGetDatum(seq->cycle);
		values[14] = ObjectIdGetDatum(seq->column_relid);
		nulls[14] = !seq->has_column;
		if (seq->has_column)
		{
			values[15] = CStringGetTextDatum(seq->colname);
			values[16] = CStringGetTextDatum(seq->typname);
		}
		else
			nulls[15] = nulls[16] = true;
		values[17] = BoolGetDatum(u.column_limits);
		values[18] = BoolGetDatum(seq->unique_key);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* --- family "schema" --- */

/*
 * Counts the NOT VALID check and foreign-key constraints of user tables
 * (outside pg_catalog, information_schema and other sessions' temporary
 * schemas) and the disabled triggers (tgenabled = 'D', internal foreign-key
 * triggers included), each with the first by table and name as its example:
 * the rows pgmaint.schema_advice() lists.
 */
static void
pgm_collect_schema(PgmCheckResult *not_valid, PgmCheckResult *disabled)
{
	Oid			information_schema = get_namespace_oid("information_schema", true);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	int64		n = 0;
	char	   *ex_table = NULL;
	char	   *ex_name = NULL;

	/* NOT VALID constraints */
	ScanKeyInit(&key, Anum_pg_constraint_convalidated, BTEqualStrategyNumber,
				F_BOOLEQ, BoolGetDatum(false));
	rel = table_open(ConstraintRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		Oid			nsp;
		char	   *table;

		if ((con->contype != CONSTRAINT_CHECK && con->contype != CONSTRAINT_FOREIGN) ||
			!OidIsValid(con->conrelid))
			continue;
		nsp = get_rel_namespace(con->conrelid);
		if (!OidIsValid(nsp) || nsp == PG_CATALOG_NAMESPACE || nsp == information_schema ||
			isOtherTempNamespace(nsp))
			continue;
		n++;
		table = pgm_regclass_text(con->conrelid);
		if (ex_table == NULL || pgm_text_cmp(table, ex_table) < 0 ||
			(pgm_text_cmp(table, ex_table) == 0 && pgm_text_cmp(NameStr(con->conname), ex_name) < 0))
		{
			ex_table = table;
			ex_name = pstrdup(NameStr(con->conname));
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	memset(not_valid, 0, sizeof(PgmCheckResult));
	pgm_result_value(not_valid, psprintf(INT64_FORMAT, n));
	if (n == 0)
		pgm_result_message(not_valid, "no NOT VALID constraint");
	else
		pgm_result_message(not_valid, INT64_FORMAT " NOT VALID constraint(s), e.g. %s on %s",
						   n, quote_identifier(ex_name), ex_table);
	pgm_result_hint(not_valid, PGMAINT_HINT_NOT_VALID, NULL);

	/* disabled triggers */
	n = 0;
	ex_table = ex_name = NULL;
	ScanKeyInit(&key, Anum_pg_trigger_tgenabled, BTEqualStrategyNumber,
				F_CHAREQ, CharGetDatum(TRIGGER_DISABLED));
	rel = table_open(TriggerRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger trig = (Form_pg_trigger) GETSTRUCT(tuple);
		char	   *table = pgm_regclass_text(trig->tgrelid);

		n++;
		if (ex_table == NULL || pgm_text_cmp(table, ex_table) < 0 ||
			(pgm_text_cmp(table, ex_table) == 0 && pgm_text_cmp(NameStr(trig->tgname), ex_name) < 0))
		{
			ex_table = table;
			ex_name = pstrdup(NameStr(trig->tgname));
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	memset(disabled, 0, sizeof(PgmCheckResult));
	pgm_result_value(disabled, psprintf(INT64_FORMAT, n));
	if (n == 0)
		pgm_result_message(disabled, "no disabled trigger");
	else
		pgm_result_message(disabled, INT64_FORMAT " disabled trigger(s), e.g. %s on %s",
						   n, quote_identifier(ex_name), ex_table);
	pgm_result_hint(disabled, PGMAINT_HINT_DISABLED_TRIGGERS, NULL);
}

/* Family "schema": NOT VALID constraints and disabled triggers, from the catalog cache. */
void
pgm_family_schema(const PgmEvalInput *in, PgmEvaluation *eval)
{
	pgm_catalog_cache_build();
	eval->checks[PGMAINT_CHECK_NOT_VALID_CONSTRAINTS] = pgm_cache.not_valid;
	eval->checks[PGMAINT_CHECK_DISABLED_TRIGGERS] = pgm_cache.disabled;
}

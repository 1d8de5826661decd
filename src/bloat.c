/*-------------------------------------------------------------------------
 *
 * bloat.c
 *	  Exact bloat: pgstattuple's measurement of one table or btree index,
 *	  taken in the owner context (owner.c).  The figures are returned as
 *	  pgstattuple gives them; what a rebuild would reclaim is computed from
 *	  them in SQL, by bloat() (its one home).
 *
 * pgstattuple_approx() and pgstatindex() read every page of a relation and
 * evaluate none of its columns, but they take its lock and trust its kind:
 * measured through pgm_as_owner(), a relation someone holds locked is
 * skipped instead of waited for, its kind is checked under the lock, and the
 * measurement runs with no more rights than its owner's, like every other
 * access pgmaint makes to a user relation.
 *
 * Privileges.  The caller needs what calling pgstattuple directly needs:
 * EXECUTE on its function (pg_stat_scan_tables, and so pg_monitor, has it).
 * The owner need not: the function, which must belong to the pgstattuple
 * extension (only a superuser installs it), is called through fmgr, which
 * checks no EXECUTE privilege.
 *
 * SQL served: _pgstattuple_as_owner() (sql/code/82-checks-space.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pgmaint.h"
#include "owner.h"

/* Columns of _pgstattuple_as_owner() */
#define PGMAINT_STATTUPLE_COLS	9

/* One measurement: the function to call, and its row */
typedef struct PgmBloatCall
{
	Oid			fn;				/* pgstattuple_approx(regclass) or pgstatindex(regclass) */
	bool		index;
	Oid			relid;
	Datum		values[PGMAINT_STATTUPLE_COLS];
	bool		nulls[PGMAINT_STATTUPLE_COLS];
} PgmBloatCall;

static Oid	pgm_stattuple_function(const char *name);
static void pgm_bloat_check(Oid relid, Oid owner, void *arg);
static void pgm_bloat_work(void *arg);

PG_FUNCTION_INFO_V1(pgmaint_pgstattuple_as_owner);

/* The OID of NAME(regclass) of the pgstattuple extension; an error if there is none. */
static Oid
pgm_stattuple_function(const char *name)
{
	Oid			ext = get_extension_oid("pgstattuple", true);
	Oid			argtypes[1] = {REGCLASSOID};
	Oid			nsp;
	Oid			fn;
	bool		isnull;
	int			ret;

	if (!OidIsValid(ext))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgstattuple is not installed in this database"),
				 errhint("Run CREATE EXTENSION pgstattuple (contrib) for exact figures, or call pgmaint.bloat() for the estimate.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	ret = SPI_execute("SELECT e.extnamespace FROM pg_catalog.pg_extension e"
					  " WHERE e.extname OPERATOR(pg_catalog.=) 'pgstattuple'", true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not find the schema of pgstattuple: %s", SPI_result_code_string(ret))));
	nsp = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	fn = LookupFuncName(list_make2(makeString(get_namespace_name(nsp)), makeString(pstrdup(name))),
						1, argtypes, true);
	if (!OidIsValid(fn) || getExtensionOfObject(ProcedureRelationId, fn) != ext)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function %s(regclass) of extension pgstattuple does not exist", name),
				 errhint("Update the extension: ALTER EXTENSION pgstattuple UPDATE.")));
#if PG_VERSION_NUM >= 160000
	if (object_aclcheck(ProcedureRelationId, fn, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
#else
	if (pg_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
#endif
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", name),
				 errhint("Exact bloat needs what pgstattuple needs: grant pg_stat_scan_tables (pg_monitor has it).")));
	return fn;
}

/* PgmOwnerCheck: an index must be a btree. */
static void
pgm_bloat_check(Oid relid, Oid owner, void *arg)
{
	PgmBloatCall *c = (PgmBloatCall *) arg;
	HeapTuple	tuple;
	Oid			am = InvalidOid;

	if (!c->index)
		return;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tuple))
	{
		am = ((Form_pg_class) GETSTRUCT(tuple))->relam;
		ReleaseSysCache(tuple);
	}
	if (am != BTREE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a btree index", pgm_relation_name(relid))));
}

/* Copies column NAME of pgstattuple's row into column I of the result. */
static void
pgm_bloat_copy(PgmBloatCall *c, HeapTupleHeader row, const char *name, int i)
{
	c->values[i] = GetAttributeByName(row, name, &c->nulls[i]);
}

/* PgmOwnerWork: pgstattuple's row, its columns in the result's order. */
static void
pgm_bloat_work(void *arg)
{
	PgmBloatCall *c = (PgmBloatCall *) arg;
	HeapTupleHeader row;

	row = DatumGetHeapTupleHeader(OidFunctionCall1(c->fn, ObjectIdGetDatum(c->relid)));
	if (!c->index)
	{
		pgm_bloat_copy(c, row, "table_len", 0);
		pgm_bloat_copy(c, row, "approx_free_space", 1);
		pgm_bloat_copy(c, row, "dead_tuple_len", 2);
		pgm_bloat_copy(c, row, "approx_tuple_count", 3);
		pgm_bloat_copy(c, row, "dead_tuple_count", 4);
	}
	else
	{
		pgm_bloat_copy(c, row, "index_size", 0);
		pgm_bloat_copy(c, row, "leaf_pages", 5);
		pgm_bloat_copy(c, row, "avg_leaf_density", 6);
		pgm_bloat_copy(c, row, "empty_pages", 7);
		pgm_bloat_copy(c, row, "deleted_pages", 8);
	}
}

/*
 * pgmaint._pgstattuple_as_owner(rel regclass, OUT bytes, OUT free_bytes, OUT
 * dead_tuple_bytes, OUT live_tuples, OUT dead_tuples, OUT leaf_pages, OUT
 * avg_leaf_density, OUT empty_pages, OUT deleted_pages): pgstattuple_approx()
 * of a table or materialized view (the first five), pgstatindex() of a btree
 * index (bytes and the last four), as its owner; NULLs when someone holds it
 * locked.
 */
Datum
pgmaint_pgstattuple_as_owner(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	PgmOwnerCall call;
	PgmBloatCall c;
	char		kind;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);
	memset(&c, 0, sizeof(c));
	memset(c.nulls, true, sizeof(c.nulls));
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, c.values, c.nulls)));

	c.relid = PG_GETARG_OID(0);
	kind = get_rel_relkind(c.relid);
	c.index = kind == RELKIND_INDEX;
	c.fn = pgm_stattuple_function(c.index ? "pgstatindex" : "pgstattuple_approx");

	memset(&call, 0, sizeof(call));
	call.relid = c.relid;
	call.lockmode = AccessShareLock;
	call.nowait = true;
	call.relkinds = c.index ? "i" : "rm";
	call.kind_name = c.index ? "an index" : "a table or materialized view";
	call.check = pgm_bloat_check;
	call.work = pgm_bloat_work;
	call.arg = &c;
	if (!pgm_as_owner(&call))
		memset(c.nulls, true, sizeof(c.nulls));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, c.values, c.nulls)));
}

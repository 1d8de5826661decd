/*-------------------------------------------------------------------------
 *
 * checks.c
 *	  Catalog figures for health()'s checks that SQL reads too slowly at
 *	  10,000 tables: the invalid indexes of this database.
 *
 * The invalid_indexes check used to run a sequential scan of pg_index
 * through the executor, which forms and filters every row (two per table,
 * usually more).  Here a catalog scan tests indisvalid with a scan key on
 * the raw tuple, so that only invalid indexes leave the scan.
 *
 * SQL served: _invalid_indexes() (sql/code/80-checks.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "pgmaint.h"

/* Columns of pgmaint._invalid_indexes() */
#define PGMAINT_INVALID_INDEXES_COLS 2

PG_FUNCTION_INFO_V1(pgmaint_invalid_indexes);

/*
 * SQL pgmaint._invalid_indexes(): indexrelid and indrelid of every index of
 * this database whose pg_index.indisvalid is false, as
 * SELECT indexrelid, indrelid FROM pg_index WHERE NOT indisvalid returns them.
 */
Datum
pgmaint_invalid_indexes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	indexrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;

	InitMaterializedSRF(fcinfo, 0);

	ScanKeyInit(&key, Anum_pg_index_indisvalid, BTEqualStrategyNumber,
				F_BOOLEQ, BoolGetDatum(false));
	indexrel = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(indexrel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index form = (Form_pg_index) GETSTRUCT(tuple);
		Datum		values[PGMAINT_INVALID_INDEXES_COLS];
		bool		nulls[PGMAINT_INVALID_INDEXES_COLS] = {false, false};

		values[0] = ObjectIdGetDatum(form->indexrelid);
		values[1] = ObjectIdGetDatum(form->indrelid);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	systable_endscan(scan);
	table_close(indexrel, AccessShareLock);

	return (Datum) 0;
}

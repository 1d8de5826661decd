/*-------------------------------------------------------------------------
 *
 * thresholds.c
 *	  pgmaint.thresholds, read in C under the active snapshot: the levels
 *	  grading.c grades with, and what a check's message quotes of them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "health.h"

/* Columns of pgmaint.thresholds that grading reads */
#define PGMAINT_THRESHOLDS_NATTS	4

/*
 * Reads pgmaint.thresholds under the active snapshot into out, by check:
 * (check_name, warning, critical, enabled); a row for a check this library
 * does not know is left out.  The caller needs SELECT on it, as the SQL that
 * graded before did.
 */
void
pgm_read_thresholds(PgmThreshold *out)
{
	Oid			nsp = get_namespace_oid("pgmaint", false);
	Oid			relid = get_relname_relid("thresholds", nsp);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	AclResult	aclresult;

	memset(out, 0, sizeof(PgmThreshold) * PGMAINT_NCHECKS);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"pgmaint.thresholds\" does not exist")));
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "thresholds");

	rel = table_open(relid, AccessShareLock);
	if (RelationGetDescr(rel)->natts < PGMAINT_THRESHOLDS_NATTS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pgmaint.thresholds does not have the columns of this version"),
				 errhint("Run ALTER EXTENSION pgmaint UPDATE.")));
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Datum		values[PGMAINT_THRESHOLDS_NATTS];
		bool		nulls[PGMAINT_THRESHOLDS_NATTS];
		PgmCheck	check;
		PgmThreshold *t;
		int			a;

		for (a = 0; a < PGMAINT_THRESHOLDS_NATTS; a++)
			values[a] = heap_getattr(tuple, a + 1, RelationGetDescr(rel), &nulls[a]);
		if (nulls[0] || !pgm_check_lookup(TextDatumGetCString(values[0]), &check))
			continue;
		t = &out[check];
		t->present = true;
		t->enabled = nulls[3] || DatumGetBool(values[3]);
		if (!nulls[1])
		{
			t->warning = DatumGetCString(DirectFunctionCall1(numeric_out, values[1]));
			t->warning_f = DatumGetFloat8(DirectFunctionCall1(numeric_float8, values[1]));
		}
		if (!nulls[2])
		{
			t->critical = DatumGetCString(DirectFunctionCall1(numeric_out, values[2]));
			t->critical_f = DatumGetFloat8(DirectFunctionCall1(numeric_float8, values[2]));
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
}


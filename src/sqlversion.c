/*-------------------------------------------------------------------------
 *
 * sqlversion.c
 *	  The version of pgmaint's SQL installed in the current database.
 *
 * One library serves every SQL version still installable (a database
 * keeps its version until ALTER EXTENSION pgmaint UPDATE runs there).  The
 * worker's steps ask for the installed version once, here, and choose what
 * to run by it, instead of probing the catalog for a function or a column.
 * SQL-callable functions whose columns differ between versions get one C
 * entry point per version instead (as pg_stat_statements does).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "pgmaint.h"

/*
 * The installed version of extension pgmaint in the current database as
 * major * 100 + minor (1.1 is 101), or 0 when it is not installed.  Call
 * inside a transaction.
 */
int
pgm_installed_version(void)
{
	Oid			extoid = get_extension_oid("pgmaint", true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	int			version = 0;

	if (!OidIsValid(extoid))
		return 0;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		datum = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);
		int			major = 0;
		int			minor = 0;

		if (!isnull && sscanf(TextDatumGetCString(datum), "%d.%d", &major, &minor) >= 1)
			version = major * 100 + minor;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

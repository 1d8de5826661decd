/*-------------------------------------------------------------------------
 *
 * rowcount.c
 *	  A table's row count, taken in the owner context (owner.c), for the
 *	  row counts pgmaint_backup records beside a backup and compares after a
 *	  restore drill.
 *
 * pgmaint_backup runs as a superuser (the official image's pg_cron job) or
 * as a role that reads all data.  Counting a table as that role runs
 * whatever the table's owner planted on it (an empty table turned into a
 * view with CREATE RULE "_RETURN" between the listing and the count) with
 * those rights.  Here the count runs as the owner, in a security-restricted
 * operation, after the relation is locked and found to be an ordinary table
 * still; the caller must be allowed to read the whole table itself.
 *
 * SQL served: _row_count() (sql/code/60-backups.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rls.h"

#include "pgmaint.h"
#include "owner.h"

/* One count */
typedef struct PgmRowCount
{
	Oid			relid;
	int64		rows;
} PgmRowCount;

static void pgm_row_count_work(void *arg);

PG_FUNCTION_INFO_V1(pgmaint_row_count);

/* PgmOwnerWork: count(*) of the table, without its children, as its owner. */
static void
pgm_row_count_work(void *arg)
{
	PgmRowCount *c = (PgmRowCount *) arg;
	char	   *sql = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s",
							   pgm_relation_name(c->relid));
	bool		isnull;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI")));
	ret = SPI_execute(sql, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not count the rows of %s: %s",
						pgm_relation_name(c->relid), SPI_result_code_string(ret))));
	c->rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
}

/*
 * pgmaint._row_count(rel regclass) returns bigint: the rows of an ordinary
 * table (not of its children), counted as its owner.  The caller needs
 * SELECT on the table and no row-level security that applies to it: the
 * count is then what the caller would see itself.
 */
Datum
pgmaint_row_count(PG_FUNCTION_ARGS)
{
	PgmOwnerCall call;
	PgmRowCount c;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	c.relid = PG_GETARG_OID(0);
	c.rows = 0;

	if (pg_class_aclcheck(c.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", pgm_relation_name(c.relid)),
				 errhint("Counting a table's rows needs SELECT on it (pg_read_all_data has it everywhere).")));
	if (check_enable_rls(c.relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("row-level security applies to table %s", pgm_relation_name(c.relid)),
				 errhint("Count as a role with BYPASSRLS, as pg_dump needs anyway.")));

	memset(&call, 0, sizeof(call));
	call.relid = c.relid;
	call.lockmode = AccessShareLock;
	call.relkinds = "r";
	call.kind_name = "an ordinary table";
	call.lock_timeout = "30s";	/* a backup waits for DDL a while, as pg_dump does */
	call.work = pgm_row_count_work;
	call.arg = &c;
	(void) pgm_as_owner(&call);
	PG_RETURN_INT64(c.rows);
}

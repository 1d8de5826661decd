/*-------------------------------------------------------------------------
 *
 * growth.c
 *	  The worker's space task: every pgmaint.growth_interval it records the
 *	  database's size, its largest tables' sizes and the worst bloat
 *	  estimates (pgmaint._record_space(), sql/code/82-checks-space.sql),
 *	  which table_growth() and the bloat and disk_full_eta checks read.
 *
 * Sizing tables stats their files, so this never runs on the per-sample
 * path.  It is a per-database step: it measures the database the worker is
 * connected to and writes only there, so it runs only on a primary.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/value.h"
#include "parser/parse_func.h"

#include "pgmaint.h"

/* One space measurement */
static const char *const pgm_space_sql =
"SELECT pgmaint._record_space()";

static void pgm_space_step(void *arg);

/*
 * Step: one space measurement, in the worker's transaction with SPI
 * connected.  A database whose pgmaint is still 1.0 (ALTER EXTENSION pgmaint
 * UPDATE not run yet) has no _record_space(): nothing to do there.
 */
static void
pgm_space_step(void *arg)
{
	Oid			argtypes[1] = {INT4OID};
	int			ret;

	if (!OidIsValid(LookupFuncName(list_make2(makeString("pgmaint"),
											  makeString("_record_space")),
								   1, argtypes, true)))
		return;

	ret = SPI_execute(pgm_space_sql, false, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not record the database's sizes: %s",
						SPI_result_code_string(ret))));
}

/* Worker task: the space measurement every pgmaint.growth_interval. */
void
pgm_growth_task(PgmServeFunc serve)
{
	(void) pgm_run_step("space", pgm_space_step, NULL);
}

/*-------------------------------------------------------------------------
 *
 * growth.c
 *	  The worker's space task: every pgmaint.growth_interval it records the
 *	  database's size, its largest tables' sizes and the worst bloat
 *	  estimates (pgmaint._record_space(), sql/install/82-checks-space.sql),
 *	  which table_growth() and the bloat and disk_full_eta checks read.
 *
 * Sizing tables stats their files, so this never runs on the per-sample
 * path.  It is a per-database step: it measures the database the worker is
 * connected to and writes only there, so it runs only on a primary.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "pgmaint.h"

/* One space measurement */
static const char *const pgm_space_sql =
"SELECT pgmaint._record_space()";

static void pgm_space_step(void *arg);

/* Step: one space measurement, in the worker's transaction with SPI connected. */
static void
pgm_space_step(void *arg)
{
	int			ret;

	ret = SPI_execute(pgm_space_sql, false, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not record the database's sizes: %s",
						SPI_result_code_string(ret))));
}

/* Worker task: the space measurement every pgmaint.growth_interval. */
void
pgm_growth_task(void)
{
	(void) pgm_run_step("space", pgm_space_step, NULL);
}

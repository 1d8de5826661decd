/*-------------------------------------------------------------------------
 *
 * grading.c
 *	  The grading of an evaluation against pgmaint.thresholds, where it is
 *	  read: every reader (health(), health_checks(), _graded_checks(), the
 *	  worker's events) grades with the thresholds its own snapshot sees, so
 *	  that an edit of a threshold counts at once, even inside the
 *	  transaction that made it.  The grade itself and the overall rule are
 *	  status.c's.
 *
 * A check whose row is missing is unknown ("not graded", with the hint to
 * put the row back); a disabled check is left out.  The hint shows only when
 * the status is not ok.
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

/*
 * Grades every check of eval that is enabled, in the order of their names,
 * into out (PGMAINT_NCHECKS entries); returns how many.  Call inside a
 * transaction with an active snapshot.
 */
int
pgm_grade_evaluation(const PgmEvaluation *eval, PgmGraded *out)
{
	PgmThreshold thresholds[PGMAINT_NCHECKS];
	const PgmCheck *order = pgm_checks_by_name();
	int			n = 0;
	int			i;

	pgm_read_thresholds(thresholds);
	for (i = 0; i < PGMAINT_NCHECKS; i++)
	{
		PgmCheck	check = order[i];
		const PgmCheckResult *r = &eval->checks[check];
		const PgmThreshold *t = &thresholds[check];
		PgmGraded  *g;

		if (t->present && !t->enabled)
			continue;
		g = &out[n++];
		memset(g, 0, sizeof(PgmGraded));
		g->check = check;
		g->result = r;
		g->failed = r->failed;
		g->has_warning = t->warning != NULL;
		g->has_critical = t->critical != NULL;
		g->warning = t->warning;
		g->critical = t->critical;
		if (!t->present)
		{
			g->status = PGMAINT_STATUS_UNKNOWN;
			g->message = psprintf("not graded: pgmaint.thresholds has no row for this check (%s)",
								  r->message);
			g->hint = pstrdup(pgm_hint_text(PGMAINT_HINT_NOT_GRADED));
			continue;
		}
		g->status = pgm_grade(r->has_value, r->has_value ? strtod(r->value, NULL) : 0,
							  g->has_warning, t->warning_f, g->has_critical, t->critical_f);
		g->message = pstrdup(r->message);
		g->hint = g->status != PGMAINT_STATUS_OK ? pgm_result_hint_text(r) : NULL;
	}
	return n;
}

/* The overall status of graded checks, by status.c's rule (never unknown). */
PgmHealthStatus
pgm_graded_overall(const PgmGraded *graded, int n)
{
	PgmHealthStatus worst = PGMAINT_STATUS_OK;
	int			i;

	for (i = 0; i < n; i++)
		worst = Max(worst, pgm_status_weight(graded[i].status, graded[i].failed));
	return worst;
}

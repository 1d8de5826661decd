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

/* Columns of pgmaint.thresholds that grading reads */
#define PGMAINT_THRESHOLDS_NATTS	4

/* One row of pgmaint.thresholds, as grading needs it */
typedef struct PgmThreshold
{
	bool		present;
	bool		enabled;
	char	   *warning;		/* numeric text, NULL when unset */
	char	   *critical;
	double		warning_f;
	double		critical_f;
} PgmThreshold;

static void pgm_read_thresholds(PgmThreshold *out);

/*
 * Reads pgmaint.thresholds under the active snapshot into out, by check:
 * (check_name, warning, critical, enabled).  The caller needs SELECT on it,
 * as the SQL that graded before did.
 */
static void
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

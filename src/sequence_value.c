/*-------------------------------------------------------------------------
 *
 * sequence_value.c
 *	  A sequence's last value, read in the owner context (owner.c).
 *
 * _check_catalog() is SECURITY DEFINER so that pg_monitor sees how far
 * every sequence has gone.  pg_sequence_last_value() takes the sequence's
 * lock and checks the current user's SELECT or USAGE: run as the extension's
 * owner over every sequence, one owner holding its sequence locked would
 * stall every caller of health() (the worker's evaluations included), and
 * one revoking its own SELECT would make it fail.  Through pgm_as_owner() a
 * sequence locked by someone is skipped, one its owner may not read is
 * skipped, and the read runs with the owner's rights.
 *
 * SQL served: _sequence_last_value() (sql/code/80-checks.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"

#include "pgmaint.h"
#include "owner.h"

/* One read */
typedef struct PgmSequenceRead
{
	Oid			relid;
	bool		isnull;
	int64		value;
} PgmSequenceRead;

static void pgm_sequence_work(void *arg);

PG_FUNCTION_INFO_V1(pgmaint_sequence_last_value);

/* PgmOwnerWork: pg_sequence_last_value() as the owner, when the owner may read it. */
static void
pgm_sequence_work(void *arg)
{
	PgmSequenceRead *r = (PgmSequenceRead *) arg;
	FmgrInfo	flinfo;
	Datum		value;

	LOCAL_FCINFO(fcinfo, 1);

	if (pg_class_aclcheck(r->relid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		return;
	fmgr_info(F_PG_SEQUENCE_LAST_VALUE, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(r->relid);
	fcinfo->args[0].isnull = false;
	value = FunctionCallInvoke(fcinfo);
	if (!fcinfo->isnull)
	{
		r->value = DatumGetInt64(value);
		r->isnull = false;
	}
}

/*
 * pgmaint._sequence_last_value(seq regclass) returns bigint: its last value,
 * NULL when none was taken yet, when someone holds it locked, or when its
 * owner may not read it.
 */
Datum
pgmaint_sequence_last_value(PG_FUNCTION_ARGS)
{
	PgmOwnerCall call;
	PgmSequenceRead r;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	r.relid = PG_GETARG_OID(0);
	r.isnull = true;
	r.value = 0;

	memset(&call, 0, sizeof(call));
	call.relid = r.relid;
	call.lockmode = RowExclusiveLock;	/* what reading a sequence takes */
	call.nowait = true;
	call.relkinds = "S";
	call.kind_name = "a sequence";
	call.work = pgm_sequence_work;
	call.arg = &r;
	if (!pgm_as_owner(&call) || r.isnull)
		PG_RETURN_NULL();
	PG_RETURN_INT64(r.value);
}

/*-------------------------------------------------------------------------
 *
 * actions.c
 *	  The gate of pgmaint's action functions: how tune_table(), reset_table(),
 *	  apply_policy(), run_policy() and the other policy actions reach the
 *	  helpers that record on the real caller's behalf.
 *
 * A public action function is pgmaint_action(): it remembers who called it
 * (GetUserId(), which a caller cannot forge) for as long as the call lasts,
 * then calls pgmaint._NAME_impl, the PL/pgSQL body with the same arguments.
 * An impl that must write what its caller may not (the policy's) is
 * SECURITY DEFINER and checks that caller owns each table it touches; the
 * writing helpers are granted to nobody and act only for the caller that
 * pgmaint._caller() reports, so no role can call them directly to forge an
 * audit row, a policy row or advice.  A direct fmgr call checks no EXECUTE
 * privilege: the gate reaches impls that nobody is granted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "pgmaint.h"

/* Suffix of the function an action's gate calls */
#define PGMAINT_IMPL_SUFFIX		"_impl"

/* The impl a gate calls, looked up once per call site */
typedef struct PgmGate
{
	FmgrInfo	impl;
} PgmGate;

/* The role that called the innermost action still running (InvalidOid: none) */
static Oid	pgm_action_caller = InvalidOid;

PG_FUNCTION_INFO_V1(pgmaint_action);
PG_FUNCTION_INFO_V1(pgmaint_caller);

/* Finds pgmaint._NAME_impl with the arguments of the gate FN_OID. */
static Oid
pgm_gate_impl(Oid fn_oid)
{
	HeapTuple	tuple;
	Form_pg_proc proc;
	char	   *name;
	Oid			impl;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", fn_oid)));
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	name = psprintf("_%s%s", NameStr(proc->proname), PGMAINT_IMPL_SUFFIX);
	impl = LookupFuncName(list_make2(makeString(get_namespace_name(proc->pronamespace)),
									 makeString(name)),
						  proc->pronargs, proc->proargtypes.values, true);
	ReleaseSysCache(tuple);
	if (!OidIsValid(impl))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function %s has no implementation", format_procedure(fn_oid)),
				 errhint("Reinstall pgmaint: ALTER EXTENSION pgmaint UPDATE.")));
	return impl;
}

/*
 * The gate: calls the action's impl with the same arguments (and, for a set
 * returning action, the same ReturnSetInfo), the caller remembered.
 */
Datum
pgmaint_action(PG_FUNCTION_ARGS)
{
	PgmGate    *gate = (PgmGate *) fcinfo->flinfo->fn_extra;
	Oid			saved = pgm_action_caller;
	Datum		result;
	int			i;

	LOCAL_FCINFO(inner, FUNC_MAX_ARGS);

	if (gate == NULL)
	{
		Oid			impl = pgm_gate_impl(fcinfo->flinfo->fn_oid);

		gate = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PgmGate));
		fmgr_info_cxt(impl, &gate->impl, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = gate;
	}

	InitFunctionCallInfoData(*inner, &gate->impl, fcinfo->nargs,
							 fcinfo->fncollation, fcinfo->context, fcinfo->resultinfo);
	for (i = 0; i < fcinfo->nargs; i++)
		inner->args[i] = fcinfo->args[i];

	/* a nested action (one action calling another) keeps the outer caller */
	if (!OidIsValid(pgm_action_caller))
		pgm_action_caller = GetUserId();
	PG_TRY();
	{
		result = FunctionCallInvoke(inner);
	}
	PG_FINALLY();
	{
		pgm_action_caller = saved;
	}
	PG_END_TRY();

	fcinfo->isnull = inner->isnull;
	return result;
}

/* pgmaint._caller(): the role that called the running action, or NULL. */
Datum
pgmaint_caller(PG_FUNCTION_ARGS)
{
	char	   *name;

	if (!OidIsValid(pgm_action_caller))
		PG_RETURN_NULL();
	name = GetUserNameFromId(pgm_action_caller, true);
	if (name == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(name)));
}

/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  Validation of the reloptions of autovacuum profiles, and the worker's
 *	  policy task.
 *
 * A profile's options are checked by the server's own reloption parser
 * (transformRelOptions and heap_reloptions, as ALTER TABLE ... SET does), so
 * that a profile is refused with the same error and for the same reasons as
 * the ALTER TABLE it would later run.  Only autovacuum_*, toast.autovacuum_*
 * and fillfactor options are allowed in a profile.
 *
 * The worker's policy task runs pgmaint.run_policy() every
 * pgmaint.policy_interval; classification, tuning and scheduling are in SQL
 * (sql/code/4x-policy-*.sql), where they are clearer and off any hot path.
 *
 * SQL served: _validate_reloptions() (sql/code/05-policy-tables.sql) and
 * _policy_lock_timeout() (42-policy-tuning.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pgmaint.h"

/* Prefix of the autovacuum options a profile may set */
#define PGMAINT_AUTOVACUUM_PREFIX	"autovacuum_"

/* One policy run; $1 is the mode */
static const char *const pgm_policy_sql =
"SELECT pg_catalog.count(*) FROM pgmaint.run_policy($1)";

static bool pgm_option_allowed(const char *nspace, const char *name);
static void pgm_profile_error_context(void *arg);
static void pgm_policy_step(void *arg);

PG_FUNCTION_INFO_V1(pgmaint_validate_reloptions);
PG_FUNCTION_INFO_V1(pgmaint_policy_lock_timeout);

/* Tells whether a profile may set this option (namespace may be NULL). */
static bool
pgm_option_allowed(const char *nspace, const char *name)
{
	bool		autovacuum;

	autovacuum = strncmp(name, PGMAINT_AUTOVACUUM_PREFIX,
						 strlen(PGMAINT_AUTOVACUUM_PREFIX)) == 0 &&
		name[strlen(PGMAINT_AUTOVACUUM_PREFIX)] != '\0';

	if (nspace == NULL)
		return autovacuum || strcmp(name, "fillfactor") == 0;
	return strcmp(nspace, "toast") == 0 && autovacuum;
}

/* Error context: names the profile whose options are being checked. */
static void
pgm_profile_error_context(void *arg)
{
	errcontext("options of autovacuum profile \"%s\"", (const char *) arg);
}

/*
 * pgmaint._validate_reloptions(profile text, options text[]) returns void
 *
 * Raises an error unless every element is "name=value" with an allowed name
 * and a value that ALTER TABLE ... SET would accept for an ordinary table.
 */
Datum
pgmaint_validate_reloptions(PG_FUNCTION_ARGS)
{
	char	   *profile;
	ArrayType  *options;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	List	   *defs = NIL;
	char	   *validnsps[] = HEAP_RELOPT_NAMESPACES;
	ErrorContextCallback errcallback;
	Datum		heap_options;
	Datum		toast_options;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("profile name and options must not be null"),
				 errhint("Give the profile a name and an array of name=value options.")));

	profile = text_to_cstring(PG_GETARG_TEXT_PP(0));
	options = PG_GETARG_ARRAYTYPE_P(1);

	errcallback.callback = pgm_profile_error_context;
	errcallback.arg = profile;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	if (ARR_NDIM(options) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("profile options must be a one-dimensional array"),
				 errhint("Give options as an array of name=value, for example '{autovacuum_vacuum_threshold=50}'.")));

	deconstruct_array(options, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);

	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a profile must set at least one option"),
				 errhint("Give options as an array of name=value, for example '{autovacuum_vacuum_scale_factor=0.1}'.")));

	for (int i = 0; i < nelems; i++)
	{
		char	   *option;
		char	   *eq;
		char	   *dot;
		char	   *nspace = NULL;
		char	   *name;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("profile options must not contain nulls"),
					 errhint("Remove the NULL elements from the array.")));

		option = TextDatumGetCString(elems[i]);
		eq = strchr(option, '=');
		if (eq == NULL || eq == option || eq[1] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid profile option \"%s\"", option),
					 errhint("Write each option as name=value, for example autovacuum_vacuum_threshold=50.")));
		*eq = '\0';

		name = option;
		dot = strchr(option, '.');
		if (dot != NULL)
		{
			*dot = '\0';
			nspace = option;
			name = dot + 1;
		}

		if (!pgm_option_allowed(nspace, name))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s%s%s\" is not allowed in an autovacuum profile",
							nspace ? nspace : "", nspace ? "." : "", name),
					 errhint("A profile may set only autovacuum_*, toast.autovacuum_* and fillfactor options.")));

		defs = lappend(defs, makeDefElemExtended(nspace, name,
												 (Node *) makeString(eq + 1),
												 DEFELEM_UNSPEC, -1));
	}

	/* The same two checks ALTER TABLE ... SET makes for an ordinary table. */
	heap_options = transformRelOptions((Datum) 0, defs, NULL, validnsps,
									   false, false);
	(void) heap_reloptions(RELKIND_RELATION, heap_options, true);

	toast_options = transformRelOptions((Datum) 0, defs, "toast", validnsps,
										false, false);
	(void) heap_reloptions(RELKIND_TOASTVALUE, toast_options, true);

	error_context_stack = errcallback.previous;

	PG_RETURN_VOID();
}

/*
 * Step: one run of the autovacuum policy, in the worker's transaction with
 * SPI connected.  arg is the mode, "advise" or "apply".
 *
 * The whole run is under PGMAINT_LOCK_TIMEOUT, as SET LOCAL would do
 * (the policy's SQL functions also ask for it), so that a locked table is skipped
 * quickly and retried on the next run instead of holding the worker in the
 * lock queue.  PGC_S_SESSION is what makes it transactional: a value set
 * with PGC_S_OVERRIDE, as the worker's own 10 s default is, would replace
 * that default for good.
 */
static void
pgm_policy_step(void *arg)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			ret;

	(void) set_config_option("lock_timeout", PGMAINT_LOCK_TIMEOUT,
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);

	args[0] = CStringGetTextDatum((const char *) arg);
	ret = SPI_execute_with_args(pgm_policy_sql, 1, argtypes, args, NULL,
								false, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not run the autovacuum policy: %s",
						SPI_result_code_string(ret))));
}

/* SQL pgmaint._policy_lock_timeout(): PGMAINT_LOCK_TIMEOUT, as text. */
Datum
pgmaint_policy_lock_timeout(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PGMAINT_LOCK_TIMEOUT));
}

/* Worker task: the autovacuum policy every pgmaint.policy_interval; off does nothing. */
void
pgm_policy_task(PgmServeFunc serve)
{
	const char *mode;

	if (pgm_policy == PGMAINT_POLICY_OFF)
		return;
	mode = pgm_policy == PGMAINT_POLICY_APPLY ? "apply" : "advise";
	(void) pgm_run_step("policy", pgm_policy_step, (void *) mode);
}

/*-------------------------------------------------------------------------
 *
 * pinning.c
 *	  The settings of the worker's session that no database or role setting
 *	  can change.
 *
 * The worker connects to pgmaint.database, and so starts with that
 * database's settings (ALTER DATABASE ... SET, which its owner may run, and
 * which need not be a superuser).  Each setting below could switch the
 * worker's writes off (default_transaction_read_only = on: samples, but no
 * history, events, policy or retention), cancel or end its statements
 * (statement_timeout, idle timeouts, exit_on_error turning any error into a
 * restart), change how its SQL reads (standard_conforming_strings,
 * transform_null_equals, plpgsql.extra_errors) or how its transactions
 * behave (isolation, deferrable, session_replication_role).  Each is set
 * once, after connecting, with PGC_S_OVERRIDE: that outranks every database
 * and role setting (applied at connection) and the configuration file, and
 * survives reloads.  pgmaint's own statements never SET them; what a table
 * owner's code sets inside the owner context (owner.c) is undone when it
 * returns.  synchronous_commit is left to the server's configuration: it
 * waits only for standbys the administrator named.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "pgmaint.h"

/* The lock timeout of the worker's own statements (retention and the policy use less) */
#define PGMAINT_WORKER_LOCK_TIMEOUT	"10s"

/* A setting of the worker's session and its pinned value */
typedef struct PgmPinned
{
	const char *name;
	const char *value;
} PgmPinned;

static const PgmPinned pgm_pinned[] = {
	/* names and operators are looked up in pg_catalog, never in a schema of a user's */
	{"search_path", PGMAINT_SAFE_SEARCH_PATH},
	/* writes stay on (transaction_read_only itself starts from the default each transaction) */
	{"default_transaction_read_only", "off"},
	/* triggers and constraints fire as on any primary */
	{"session_replication_role", "origin"},
	/* an error is an error, not a restart of the worker */
	{"exit_on_error", "off"},
	/* nothing cancels the worker's statements but its own limits */
	{"statement_timeout", "0"},
	{"lock_timeout", PGMAINT_WORKER_LOCK_TIMEOUT},
	{"idle_in_transaction_session_timeout", "0"},
	{"idle_session_timeout", "0"},
	/* transactions behave as the worker's SQL expects */
	{"default_transaction_isolation", "read committed"},
	{"default_transaction_deferrable", "off"},
	{"row_security", "on"},
	/* its SQL reads as written */
	{"standard_conforming_strings", "on"},
	{"transform_null_equals", "off"},
	{"quote_all_identifiers", "off"},
	{"plpgsql.extra_errors", "none"},
	{"plpgsql.extra_warnings", "none"},
	/* the sampler reads each statistics entry once: no caching wanted */
	{"stats_fetch_consistency", "none"},
	{"application_name", PGMAINT_WORKER_NAME},
};

/* See pgmaint.h. */
void
pgm_pin_worker_settings(void)
{
	for (int i = 0; i < (int) lengthof(pgm_pinned); i++)
		SetConfigOption(pgm_pinned[i].name, pgm_pinned[i].value, PGC_SUSET, PGC_S_OVERRIDE);
}

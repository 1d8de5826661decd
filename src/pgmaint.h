/*-------------------------------------------------------------------------
 *
 * pgmaint.h
 *	  Declarations shared by the pgmaint extension's source files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMAINT_H
#define PGMAINT_H

#include "postgres.h"

/* Values of pgmaint.policy */
typedef enum PgmPolicyMode
{
	PGMAINT_POLICY_OFF,
	PGMAINT_POLICY_ADVISE,
	PGMAINT_POLICY_APPLY
} PgmPolicyMode;

/* Values of pgmaint.leak_action */
typedef enum PgmLeakAction
{
	PGMAINT_LEAK_REPORT,
	PGMAINT_LEAK_TERMINATE
} PgmLeakAction;

/* Settings, defined in pgmaint.c (intervals are in seconds) */
extern char *pgm_database;
extern int	pgm_sample_interval;
extern int	pgm_history_size;
extern int	pgm_history_retention;
extern int	pgm_policy;
extern int	pgm_policy_interval;
extern int	pgm_leak_timeout;
extern int	pgm_leak_action;
extern char *pgm_leak_exclude;
extern int	pgm_backup_max_age;

/* True when the library was loaded through shared_preload_libraries */
extern bool pgm_preloaded;

#endif							/* PGMAINT_H */

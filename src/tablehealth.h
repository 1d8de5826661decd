/*-------------------------------------------------------------------------
 *
 * tablehealth.h
 *	  Autovacuum thresholds and table-level health figures (tablehealth.c),
 *	  shared by the per-table reports (tablestats.c), the sampler
 *	  (sampler.c) and the ring (ring.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMAINT_TABLEHEALTH_H
#define PGMAINT_TABLEHEALTH_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "pgstat.h"
#include "utils/timestamp.h"

/*
 * Field names of PgStat_StatTabEntry changed in PostgreSQL 16; these
 * accessors keep the code that reads them version-independent.
 */
#if PG_VERSION_NUM >= 160000
#define PGM_TAB_LIVE(e)			((e)->live_tuples)
#define PGM_TAB_DEAD(e)			((e)->dead_tuples)
#define PGM_TAB_MODS(e)			((e)->mod_since_analyze)
#define PGM_TAB_INSERTS(e)		((e)->ins_since_vacuum)
#define PGM_TAB_VAC_TIME(e)		((e)->last_vacuum_time)
#define PGM_TAB_AUTOVAC_TIME(e) ((e)->last_autovacuum_time)
#define PGM_TAB_ANL_TIME(e)		((e)->last_analyze_time)
#define PGM_TAB_AUTOANL_TIME(e) ((e)->last_autoanalyze_time)
#define PGM_TAB_AUTOVAC_COUNT(e) ((e)->autovacuum_count)
#define PGM_TAB_AUTOANL_COUNT(e) ((e)->autoanalyze_count)
#else
#define PGM_TAB_LIVE(e)			((e)->n_live_tuples)
#define PGM_TAB_DEAD(e)			((e)->n_dead_tuples)
#define PGM_TAB_MODS(e)			((e)->changes_since_analyze)
#define PGM_TAB_INSERTS(e)		((e)->inserts_since_vacuum)
#define PGM_TAB_VAC_TIME(e)		((e)->vacuum_timestamp)
#define PGM_TAB_AUTOVAC_TIME(e) ((e)->autovac_vacuum_timestamp)
#define PGM_TAB_ANL_TIME(e)		((e)->analyze_timestamp)
#define PGM_TAB_AUTOANL_TIME(e) ((e)->autovac_analyze_timestamp)
#define PGM_TAB_AUTOVAC_COUNT(e) ((e)->autovac_vacuum_count)
#define PGM_TAB_AUTOANL_COUNT(e) ((e)->autovac_analyze_count)
#endif

/* A table is "falling behind" after this many autovacuum naptimes without vacuum */
#define PGMAINT_FALLING_BEHIND_NAPTIMES 10

/* Tables with fewer heap block reads are not judged by the table_cache_hit check */
#define PGMAINT_HEALTH_MIN_READS	1000
/* Tables with fewer live + dead tuples are not judged by the dead_tuples check */
#define PGMAINT_HEALTH_MIN_TUPLES	1000

/* What the threshold computation needs from the server, read once per pass */
typedef struct PgmVacuumContext
{
	TransactionId next_xid;
	MultiXactId next_mxid;
	int			effective_mxid_max_age;
	TimestampTz now;			/* reference time for falling_behind */
	bool		av_active;		/* AutoVacuumingActive() */
} PgmVacuumContext;

/* PG15 autovacuum's view of one table (relation_needs_vacanalyze) */
typedef struct PgmVacuumVerdict
{
	float4		vacthresh;
	float4		vacinsthresh;	/* meaningful when vac_ins_base_thresh >= 0 */
	float4		anlthresh;
	int			vac_ins_base_thresh;
	int			freeze_max_age;
	int			mxid_freeze_max_age;	/* effective, as autovacuum uses it */
	bool		av_enabled;		/* the table's autovacuum_enabled */
	bool		dovacuum;
	bool		doanalyze;
	bool		behind_dead;	/* dead > 2 * vacthresh */
	bool		behind_inserts; /* inserts since vacuum > 2 * vacinsthresh */
	bool		falling_behind; /* one of those or the freeze age, and no
								 * vacuum for 10 naptimes */
} PgmVacuumVerdict;

/* A table's wraparound age: the greater of its heap's and its TOAST table's */
typedef struct PgmTableAge
{
	int32		xid_age;
	int32		mxid_age;
	bool		xid_from_toast; /* the TOAST table is the older */
	bool		mxid_from_toast;
} PgmTableAge;

/* The oldest maintenance (vacuum or analyze) among tables changed since */
typedef struct PgmAgeWorst
{
	int64		changed;		/* maintained before, changed since */
	int64		never;			/* changed, never maintained */
	Oid			relid;			/* the one maintained longest ago */
	TimestampTz at;
	int64		changes;
} PgmAgeWorst;

/*
 * The table-level health figures of one database: worst heap hit ratio among
 * tables with at least min_reads heap block reads, tables where autovacuum
 * falls behind and the one with the most dead tuples (then inserts since its
 * last vacuum) among them (and whether its autovacuum_enabled is off), worst
 * dead-tuple share among tables with at least min_tuples live + dead tuples,
 * the tables changed since their last vacuum and analyze with the one
 * maintained longest ago, and the tables with the oldest transaction-id and
 * multixact ages (the greater of heap and TOAST).  A relid is InvalidOid when
 * no table qualified.
 */
typedef struct PgmTableHealth
{
	int64		min_reads;
	int64		min_tuples;
	int64		tables;			/* ordinary tables and materialized views seen */
	Oid			hit_relid;
	double		hit_ratio;
	int64		hit_reads;
	int32		falling_behind;
	Oid			falling_relid;
	int64		falling_dead;
	int64		falling_inserts;	/* its inserts since its last vacuum */
	Oid			dead_relid;
	double		dead_share;
	int64		dead_tuples;
	bool		falling_disabled;	/* autovacuum_enabled = off on falling_relid */
	PgmAgeWorst vacuum;			/* changes: dead + inserted tuples since */
	PgmAgeWorst analyze;		/* changes: modified tuples since */
	Oid			xid_relid;		/* the oldest by transaction-id age */
	PgmTableAge xid_age;
	Oid			mxid_relid;		/* the oldest by multixact age */
	PgmTableAge mxid_age;
} PgmTableHealth;

/* What a pass over the user tables sums beside the figures (the sample's) */
typedef struct PgmTableSums
{
	int64		tables;			/* ordinary and partitioned tables, matviews */
	int64		live_tuples;
	int64		dead_tuples;
} PgmTableSums;

/* The one copy of the threshold formula, of a table's age and of the aggregates */
extern void pgm_table_age(TransactionId heap_xid, MultiXactId heap_mxid,
						  TransactionId toast_xid, MultiXactId toast_mxid,
						  TransactionId now_xid, MultiXactId now_mxid,
						  PgmTableAge *age);
extern void pgm_vacuum_context_init(PgmVacuumContext *ctx, TimestampTz now);
extern void pgm_vacuum_verdict(HeapTuple classtup, TupleDesc classdesc,
							   PgStat_StatTabEntry *stats,
							   const PgmVacuumContext *ctx, PgmVacuumVerdict *v);
extern void pgm_table_health_init(PgmTableHealth *h, int64 min_reads, int64 min_tuples);
extern void pgm_table_health_add(PgmTableHealth *h, HeapTuple classtup,
								 TupleDesc classdesc, PgStat_StatTabEntry *stats,
								 const PgmVacuumContext *ctx);
extern void pgm_age_worst_add(PgmAgeWorst *w, Oid relid, TimestampTz at, int64 changes);
extern void pgm_table_pass(PgmTableHealth *h, PgmTableSums *sums, TimestampTz now);

/* Columns of _table_health() and _table_health_sampled() before sampled_at */
#define PGMAINT_TABLE_HEALTH_COLS	11
extern void pgm_table_health_values(const PgmTableHealth *h, Datum *values, bool *nulls);

#endif							/* PGMAINT_TABLEHEALTH_H */

/*-------------------------------------------------------------------------
 *
 * nowait.c
 *	  Relation locks and on-disk sizes for monitoring reads that never
 *	  queue behind DDL.
 *
 * pg_relation_size(), pg_total_relation_size() and pgstattuple lock the
 * relation with AccessShareLock and wait for it.  Behind a granted or a
 * queued ACCESS EXCLUSIVE request (an ALTER TABLE waiting for a long
 * transaction) such a wait lasts as long as the DDL does, and a monitoring
 * call, a health endpoint or the worker's space step then hangs with it.
 * Every lock here is asked for with ConditionalLockRelationOid, which the
 * lock manager refuses at once when a conflicting lock is held or already
 * waited for: the caller then reports the relation as busy (a NULL size and
 * a note) instead of waiting.  This file is the one home of that rule; the C
 * reports (table_sizes()) and the SQL functions below use it.
 *
 * SQL served: _relation_size_nowait(), _table_parts_nowait() and
 * _lock_free() (sql/code/30-tablestats.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "common/relpath.h"
#include "fmgr.h"
#include "funcapi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "pgmaint.h"

#if PG_VERSION_NUM >= 160000
#define PGM_REL_FILE(rel)		((rel)->rd_locator)
#else
#define PGM_REL_FILE(rel)		((rel)->rd_node)
#endif

static int64 pgm_fork_bytes(Relation rel, ForkNumber fork);
static PgmSizeStatus pgm_indexes_bytes_nowait(Relation rel, int64 *bytes);

PG_FUNCTION_INFO_V1(pgmaint_relation_size_nowait);
PG_FUNCTION_INFO_V1(pgmaint_table_parts_nowait);
PG_FUNCTION_INFO_V1(pgmaint_lock_free);

/*
 * Opens a relation with AccessShareLock when the lock can be granted at once.
 * Returns NULL with *busy = true when a conflicting lock is held or waited
 * for, and NULL with *busy = false when the relation no longer exists.
 */
Relation
pgm_relation_open_nowait(Oid relid, bool *busy)
{
	*busy = false;
	if (!ConditionalLockRelationOid(relid, AccessShareLock))
	{
		*busy = true;
		return NULL;
	}
	/* as try_relation_open: dropped before we got the lock */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		UnlockRelationOid(relid, AccessShareLock);
		return NULL;
	}
	return relation_open(relid, NoLock);
}

/* Bytes of one fork of a relation, from stat() of its segment files. */
static int64
pgm_fork_bytes(Relation rel, ForkNumber fork)
{
	int64		total = 0;
	char	   *path;
	unsigned int segno;

	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return 0;

	path = relpathbackend(PGM_REL_FILE(rel), rel->rd_backend, fork);
	for (segno = 0;; segno++)
	{
		char		segpath[MAXPGPATH];
		struct stat st;

		if (segno == 0)
			snprintf(segpath, sizeof(segpath), "%s", path);
		else
			snprintf(segpath, sizeof(segpath), "%s.%u", path, segno);

		if (stat(segpath, &st) < 0)
		{
			/* past the last segment, or no such fork */
			if (errno == ENOENT)
				break;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", segpath)));
		}
		total += st.st_size;
	}
	pfree(path);
	return total;
}

/* Bytes of every fork of a relation; the caller holds a lock on it. */
int64
pgm_relation_bytes(Relation rel)
{
	int64		total = 0;
	ForkNumber	fork;

	for (fork = 0; fork <= MAX_FORKNUM; fork++)
		total += pgm_fork_bytes(rel, fork);
	return total;
}

/* Bytes of every index of a relation, each locked without waiting. */
static PgmSizeStatus
pgm_indexes_bytes_nowait(Relation rel, int64 *bytes)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	PgmSizeStatus status = PGM_SIZE_OK;

	*bytes = 0;
	foreach(lc, indexes)
	{
		bool		busy;
		Relation	index = pgm_relation_open_nowait(lfirst_oid(lc), &busy);

		if (index == NULL)
		{
			if (busy)
				status = PGM_SIZE_BUSY;
			continue;
		}
		*bytes += pgm_relation_bytes(index);
		relation_close(index, AccessShareLock);
	}
	list_free(indexes);
	return status;
}

/*
 * The parts of a table's on-disk size as table_sizes() reports them: heap
 * (all forks), its indexes, its TOAST table and the TOAST index.  Returns
 * PGM_SIZE_BUSY when one of them could not be locked at once (the figures
 * are then incomplete and must not be shown), PGM_SIZE_GONE when the table
 * no longer exists.  Each lock is released once its files are measured.
 */
PgmSizeStatus
pgm_table_parts_nowait(Oid relid, int64 *heap, int64 *index, int64 *toast)
{
	bool		busy;
	Relation	rel;
	PgmSizeStatus status;

	*heap = *index = *toast = 0;
	rel = pgm_relation_open_nowait(relid, &busy);
	if (rel == NULL)
		return busy ? PGM_SIZE_BUSY : PGM_SIZE_GONE;

	*heap = pgm_relation_bytes(rel);
	status = pgm_indexes_bytes_nowait(rel, index);
	if (status == PGM_SIZE_OK && OidIsValid(rel->rd_rel->reltoastrelid))
	{
		Relation	t = pgm_relation_open_nowait(rel->rd_rel->reltoastrelid, &busy);

		if (t == NULL)
			status = busy ? PGM_SIZE_BUSY : PGM_SIZE_OK;
		else
		{
			int64		toast_index;

			*toast = pgm_relation_bytes(t);
			status = pgm_indexes_bytes_nowait(t, &toast_index);
			*toast += toast_index;
			relation_close(t, AccessShareLock);
		}
	}
	relation_close(rel, AccessShareLock);
	return status;
}

/*
 * SQL pgmaint._relation_size_nowait(rel oid, fork text): pg_relation_size(rel,
 * fork), or NULL when the relation cannot be locked at once or is gone.
 */
Datum
pgmaint_relation_size_nowait(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *fork_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ForkNumber	fork = forkname_to_number(fork_name);
	bool		busy;
	Relation	rel;
	int64		bytes;

	rel = pgm_relation_open_nowait(relid, &busy);
	if (rel == NULL)
		PG_RETURN_NULL();
	bytes = pgm_fork_bytes(rel, fork);
	relation_close(rel, AccessShareLock);
	PG_RETURN_INT64(bytes);
}

/*
 * SQL pgmaint._table_parts_nowait(rel oid, OUT heap_bytes, OUT index_bytes,
 * OUT toast_bytes, OUT busy): the parts of pgm_table_parts_nowait(); the
 * sizes are NULL and busy true when a lock was not granted at once, all NULL
 * and busy false when the table is gone.
 */
Datum
pgmaint_table_parts_nowait(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int64		heap;
	int64		index;
	int64		toast;
	PgmSizeStatus status;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	status = pgm_table_parts_nowait(relid, &heap, &index, &toast);
	values[0] = Int64GetDatum(heap);
	values[1] = Int64GetDatum(index);
	values[2] = Int64GetDatum(toast);
	values[3] = BoolGetDatum(status == PGM_SIZE_BUSY);
	nulls[0] = nulls[1] = nulls[2] = (status != PGM_SIZE_OK);
	nulls[3] = (status == PGM_SIZE_GONE);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * SQL pgmaint._lock_free(rel oid): whether an AccessShareLock on rel would be
 * granted now, so that a caller about to run something that waits for it
 * (pgstattuple) can skip the relation instead.  The lock is taken and given
 * back at once: the session's locks are the same after the call.
 */
Datum
pgmaint_lock_free(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		PG_RETURN_BOOL(false);
	UnlockRelationOid(relid, AccessShareLock);
	PG_RETURN_BOOL(true);
}

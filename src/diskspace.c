/*-------------------------------------------------------------------------
 *
 * diskspace.c
 *	  Database-wide figures SQL cannot see: the data directory's free space.
 *
 * The figures derive from "data_directory", a setting only superusers and
 * roles with the privileges of pg_read_all_settings (pg_monitor has them)
 * may read, so the function requires the same privilege.  It never returns
 * the path itself.
 *
 * SQL served: disk_space() (sql/code/30-tablestats.sql), read by the
 * disk_free check (80-checks.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/statvfs.h>

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "pgmaint.h"

#define PGMAINT_DISK_SPACE_COLS 4

PG_FUNCTION_INFO_V1(pgmaint_disk_space);

/*
 * Total, free and available bytes of the file system that holds the data
 * directory; false (with errno set) when statvfs fails.
 */
bool
pgm_disk_space(int64 *total, int64 *free, int64 *available)
{
	struct statvfs fs;

	if (statvfs(DataDir, &fs) != 0)
		return false;
	*total = (int64) fs.f_blocks * (int64) fs.f_frsize;
	*free = (int64) fs.f_bfree * (int64) fs.f_frsize;
	*available = (int64) fs.f_bavail * (int64) fs.f_frsize;
	return true;
}

/*
 * disk_space(): total, free and available bytes of the file system that
 * holds the data directory (statvfs), and the available share in percent.
 * "Available" excludes the blocks the file system reserves for root, which
 * the server, running as an ordinary user, cannot use.
 */
Datum
pgmaint_disk_space(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[PGMAINT_DISK_SPACE_COLS];
	bool		nulls[PGMAINT_DISK_SPACE_COLS];
	int64		total;
	int64		free;
	int64		available;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_SETTINGS))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the data directory's file system"),
				 errdetail("Only roles with privileges of the \"pg_read_all_settings\" role may see figures about \"data_directory\"."),
				 errhint("Grant pg_monitor to the role.")));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	if (!pgm_disk_space(&total, &free, &available))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file system statistics of the data directory: %m")));

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(total);
	values[1] = Int64GetDatum(free);
	values[2] = Int64GetDatum(available);
	if (total > 0)
		values[3] = Float8GetDatum(100.0 * (double) available / (double) total);
	else
		nulls[3] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

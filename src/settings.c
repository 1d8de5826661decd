/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  Detection of the memory, CPUs and /dev/shm the server really has, for
 *	  settings_advice(): cgroup v2, then cgroup v1, then /proc and /sys.
 *
 * Every file is read below a root directory: "/" for the live server, a
 * fixture tree in the tests.  A missing or unreadable file is never an
 * error; the next source is tried.  Every number comes with a text saying
 * which file it was read from, so that an administrator can check it.
 *
 * The cgroup of the postmaster is used (/proc/<PostmasterPid>/cgroup),
 * falling back to the backend's own (/proc/self/cgroup); both are the same
 * in a container.  Limits of ancestor cgroups apply too, so the walk goes up
 * to the mount point and keeps the smallest limit.
 *
 * Whether the server runs in a container is told by, in this order:
 * /.dockerenv (Docker), /run/.containerenv (Podman), the "container"
 * variable in the environment of PID 1 (Podman, LXC, systemd-nspawn), and
 * the cgroup path of the postmaster (docker, libpod, kubepods, containerd,
 * lxc).  A cgroup namespace hides the path, hence the files first.
 *
 * SQL served: detected_resources() and _detect_resources()
 * (sql/code/50-settings.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "pgmaint.h"

/* cgroup v1 reports "no limit" as a huge page-aligned number; anything above this is unlimited */
#define PGMAINT_CGROUP_V1_UNLIMITED		(INT64CONST(1) << 62)

/* Largest file read (the files read are a few hundred bytes) */
#define PGMAINT_MAX_READ	(64 * 1024)

/* Number of columns of pgmaint._detect_resources() */
#define PGMAINT_RESOURCE_COLS	7

/* Number of columns of pgmaint._detect_container() */
#define PGMAINT_CONTAINER_COLS	3

/* A detected number and where it came from */
typedef struct PgmValue
{
	bool		known;
	int64		value;
	char	   *source;
} PgmValue;

/* Cgroup paths of the server process, per hierarchy */
typedef struct PgmCgroups
{
	char	   *v2_path;		/* "0::" line, NULL when absent */
	char	   *v1_memory;		/* v1 "memory" controller line */
	char	   *v1_cpu;			/* v1 "cpu" controller line */
	char	   *v1_cpuset;		/* v1 "cpuset" controller line */
} PgmCgroups;

PG_FUNCTION_INFO_V1(pgmaint_detected_resources);
PG_FUNCTION_INFO_V1(pgmaint_detected_container);

static bool pgm_read_file(const char *path, StringInfo buf);
static bool pgm_read_limit(const char *path, int64 *value, bool *unlimited);
static bool pgm_file_exists(const char *path);
static bool pgm_has_token(const char *list, const char *token);
static void pgm_read_cgroups(const char *root, PgmCgroups *cg);
static bool pgm_parent(char *path);
static void pgm_walk_limit(const char *base, size_t rootlen, const char *cgpath,
						   const char *file, const char *label, bool v1, PgmValue *best);
static void pgm_detect_memory(const char *root, const PgmCgroups *cg,
							  PgmValue *ram, PgmValue *physical);
static int	pgm_count_cpu_list(const char *list);
static void pgm_walk_cpuset(const char *base, size_t rootlen, const char *cgpath,
							const char *file, const char *label, PgmValue *best);
static void pgm_walk_quota(const char *base, size_t rootlen, const char *cgpath,
						   bool v1, const char *label, PgmValue *best);
static void pgm_detect_cpus(const char *root, const PgmCgroups *cg, PgmValue *cpus);
static void pgm_detect_shm(const char *root, PgmValue *shm);
static void pgm_take_min(PgmValue *best, int64 value, char *source);
static char *pgm_pid1_container(const char *root, bool *readable);
static const char *pgm_cgroup_runtime(const char *root, char **line);

/* Reads a whole (small) file into buf; false when it cannot be opened. */
static bool
pgm_read_file(const char *path, StringInfo buf)
{
	FILE	   *f;
	char		chunk[1024];
	size_t		n;

	resetStringInfo(buf);
	f = AllocateFile(path, "r");
	if (f == NULL)
		return false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		if (buf->len + (int) n > PGMAINT_MAX_READ)
			break;
		appendBinaryStringInfo(buf, chunk, (int) n);
	}
	if (ferror(f))
	{
		FreeFile(f);
		return false;
	}
	FreeFile(f);
	return true;
}

/* Reads a cgroup limit file: a number, or "max" (unlimited); false when unreadable. */
static bool
pgm_read_limit(const char *path, int64 *value, bool *unlimited)
{
	StringInfoData buf;
	char	   *s;
	char	   *end;
	long long	v;

	initStringInfo(&buf);
	*unlimited = false;
	if (!pgm_read_file(path, &buf))
		return false;
	s = buf.data;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0)
	{
		*unlimited = true;
		return true;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return false;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end != '\0')
		return false;
	*value = (int64) v;
	return true;
}

/* True when path exists. */
static bool
pgm_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* True when the comma-separated list holds token. */
static bool
pgm_has_token(const char *list, const char *token)
{
	size_t		len = strlen(token);
	const char *p = list;

	while (*p)
	{
		const char *comma = strchr(p, ',');
		size_t		n = comma ? (size_t) (comma - p) : strlen(p);

		if (n == len && strncmp(p, token, len) == 0)
			return true;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return false;
}

/* Reads the cgroup membership of the postmaster (or of this backend) below root. */
static void
pgm_read_cgroups(const char *root, PgmCgroups *cg)
{
	StringInfoData buf;
	char		path[MAXPGPATH];
	char	   *line;
	char	   *save;

	memset(cg, 0, sizeof(*cg));
	initStringInfo(&buf);

	snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root, (int) PostmasterPid);
	if (PostmasterPid == 0 || !pgm_read_file(path, &buf))
	{
		snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
		if (!pgm_read_file(path, &buf))
			return;
	}

	/* each line is "hierarchy-id:controller,list:/path" */
	for (line = strtok_r(buf.data, "\n", &save); line != NULL;
		 line = strtok_r(NULL, "\n", &save))
	{
		char	   *c1 = strchr(line, ':');
		char	   *c2;
		char	   *controllers;
		char	   *cgpath;

		if (c1 == NULL)
			continue;
		c2 = strchr(c1 + 1, ':');
		if (c2 == NULL)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		controllers = c1 + 1;
		cgpath = c2 + 1;
		if (*cgpath != '/')
			continue;

		/*
		 * In a cgroup namespace, a cgroup outside the namespace's root reads
		 * as "/../..": what this process can see is the namespace's root.
		 */
		if (strstr(cgpath, "/../") != NULL ||
			(strlen(cgpath) >= 3 && strcmp(cgpath + strlen(cgpath) - 3, "/..") == 0))
			cgpath = "/";

		if (strcmp(line, "0") == 0 && *controllers == '\0')
			cg->v2_path = pstrdup(cgpath);
		else
		{
			if (pgm_has_token(controllers, "memory"))
				cg->v1_memory = pstrdup(cgpath);
			if (pgm_has_token(controllers, "cpu"))
				cg->v1_cpu = pstrdup(cgpath);
			if (pgm_has_token(controllers, "cpuset"))
				cg->v1_cpuset = pstrdup(cgpath);
		}
	}
}

/* Cuts the last component of a cgroup path; false once path is the root "/". */
static bool
pgm_parent(char *path)
{
	char	   *slash = strrchr(path, '/');

	if (slash == NULL || (slash == path && path[1] == '\0'))
		return false;
	if (slash == path)
		path[1] = '\0';
	else
		*slash = '\0';
	return true;
}

/* Keeps value in best when it is the smallest so far. */
static void
pgm_take_min(PgmValue *best, int64 value, char *source)
{
	if (!best->known || value < best->value)
	{
		best->known = true;
		best->value = value;
		best->source = source;
	}
}

/*
 * Walks from the cgroup cgpath up to the mount point base and keeps in best
 * the smallest limit found in the files named file.  A directory or file that
 * does not exist is skipped (a container sees only its own part of the tree).
 * Sources name the file as seen from the root, which is rootlen bytes long.
 */
static void
pgm_walk_limit(const char *base, size_t rootlen, const char *cgpath,
			   const char *file, const char *label, bool v1, PgmValue *best)
{
	char	   *p = pstrdup(cgpath);

	for (;;)
	{
		char		path[MAXPGPATH];
		int64		v = 0;
		bool		unlimited;

		snprintf(path, sizeof(path), "%s%s/%s", base,
				 strcmp(p, "/") == 0 ? "" : p, file);
		if (pgm_read_limit(path, &v, &unlimited) && !unlimited && v > 0 &&
			!(v1 && v >= PGMAINT_CGROUP_V1_UNLIMITED))
			pgm_take_min(best, v, psprintf("%s %s", label, path + rootlen));
		if (!pgm_parent(p))
			break;
	}
}

/*
 * Detects the memory: the smallest cgroup limit (v2 memory.max and
 * memory.high, or v1 memory.limit_in_bytes), unless it is above the physical
 * RAM of /proc/meminfo, which is used otherwise.
 */
static void
pgm_detect_memory(const char *root, const PgmCgroups *cg, PgmValue *ram, PgmValue *physical)
{
	StringInfoData buf;
	char		path[MAXPGPATH];
	char		base[MAXPGPATH];
	PgmValue	limit = {false, 0, NULL};

	memset(ram, 0, sizeof(*ram));
	memset(physical, 0, sizeof(*physical));
	initStringInfo(&buf);

	/* physical RAM: "MemTotal:  16314540 kB" */
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	if (pgm_read_file(path, &buf))
	{
		char	   *line = strstr(buf.data, "MemTotal:");
		long long	kb;

		if (line != NULL && sscanf(line, "MemTotal: %lld kB", &kb) == 1 && kb > 0)
		{
			physical->known = true;
			physical->value = (int64) kb * 1024;
			physical->source = pstrdup("/proc/meminfo MemTotal");
		}
	}

	/* cgroup v1 when a memory controller is mounted, else the unified hierarchy */
	snprintf(base, sizeof(base), "%s/sys/fs/cgroup/memory", root);
	if (cg->v1_memory != NULL && pgm_file_exists(base))
		pgm_walk_limit(base, strlen(root), cg->v1_memory, "memory.limit_in_bytes",
					   "cgroup v1", true, &limit);
	else
	{
		snprintf(base, sizeof(base), "%s/sys/fs/cgroup", root);
		snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
		if (cg->v2_path != NULL && pgm_file_exists(path))
		{
			pgm_walk_limit(base, strlen(root), cg->v2_path, "memory.max", "cgroup v2", false, &limit);
			pgm_walk_limit(base, strlen(root), cg->v2_path, "memory.high", "cgroup v2", false, &limit);
		}
	}

	if (limit.known && (!physical->known || limit.value < physical->value))
		*ram = limit;
	else if (physical->known)
	{
		ram->known = true;
		ram->value = physical->value;
		if (limit.known)
			ram->source = psprintf("/proc/meminfo MemTotal (limit of " INT64_FORMAT " MB in %s is above the physical RAM and ignored)",
								   limit.value / (1024 * 1024), limit.source);
		else
			ram->source = pstrdup("/proc/meminfo MemTotal (no cgroup memory limit)");
	}
}

/* Largest CPU number accepted in a CPU list (the kernel's limit is far below) */
#define PGMAINT_MAX_CPU_ID	(1 << 20)

/* Counts the CPUs of a list such as "0-3,8,10-11"; -1 when it does not parse. */
static int
pgm_count_cpu_list(const char *list)
{
	int			count = 0;
	const char *p = list;

	while (*p && *p != '\n')
	{
		char	   *end;
		long		lo;
		long		hi;

		lo = strtol(p, &end, 10);
		if (end == p || lo < 0 || lo > PGMAINT_MAX_CPU_ID)
			return -1;
		hi = lo;
		p = end;
		if (*p == '-')
		{
			p++;
			hi = strtol(p, &end, 10);
			if (end == p || hi < lo || hi > PGMAINT_MAX_CPU_ID)
				return -1;
			p = end;
		}
		count += (int) (hi - lo + 1);
		if (*p == ',')
			p++;
		else if (*p != '\0' && *p != '\n')
			return -1;
	}
	return count > 0 ? count : -1;
}

/* Walks up from cgpath and keeps the CPU count of the deepest cpuset file. */
static void
pgm_walk_cpuset(const char *base, size_t rootlen, const char *cgpath,
				const char *file, const char *label, PgmValue *best)
{
	char	   *p = pstrdup(cgpath);
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		char		path[MAXPGPATH];
		int			n;

		snprintf(path, sizeof(path), "%s%s/%s", base,
				 strcmp(p, "/") == 0 ? "" : p, file);
		if (pgm_read_file(path, &buf) && (n = pgm_count_cpu_list(buf.data)) > 0)
		{
			pgm_take_min(best, n, psprintf("%s %s", label, path + rootlen));
			return;
		}
		if (!pgm_parent(p))
			break;
	}
}

/*
 * Walks up from cgpath and keeps the smallest CPU quota, rounded up to whole
 * CPUs: v2 cpu.max ("quota period" or "max period"), v1 cpu.cfs_quota_us over
 * cpu.cfs_period_us (-1 is unlimited).
 */
static void
pgm_walk_quota(const char *base, size_t rootlen, const char *cgpath,
			   bool v1, const char *label, PgmValue *best)
{
	char	   *p = pstrdup(cgpath);
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		char		dir[MAXPGPATH];
		char		path[MAXPGPATH];
		long long	quota = -1;
		long long	period = 0;

		snprintf(dir, sizeof(dir), "%s%s", base, strcmp(p, "/") == 0 ? "" : p);
		if (!v1)
		{
			snprintf(path, sizeof(path), "%s/cpu.max", dir);
			if (!pgm_read_file(path, &buf) ||
				sscanf(buf.data, "%lld %lld", &quota, &period) != 2)
				quota = -1;
		}
		else
		{
			snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
			if (!pgm_read_file(path, &buf) || sscanf(buf.data, "%lld", &quota) != 1)
				quota = -1;
			snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
			if (!pgm_read_file(path, &buf) || sscanf(buf.data, "%lld", &period) != 1)
				quota = -1;
		}
		if (quota > 0 && period > 0)
			pgm_take_min(best, (int64) ((quota + period - 1) / period),
						 psprintf("%s %s%s %lld/%lld, rounded up", label,
								  dir + rootlen,
								  v1 ? "/cpu.cfs_quota_us" : "/cpu.max",
								  quota, period));
		if (!pgm_parent(p))
			break;
	}
}

/* Detects the CPUs: the smallest of the online CPUs, the cpuset and the CPU quota. */
static void
pgm_detect_cpus(const char *root, const PgmCgroups *cg, PgmValue *cpus)
{
	StringInfoData buf;
	char		path[MAXPGPATH];
	char		base[MAXPGPATH];
	int			n;

	memset(cpus, 0, sizeof(*cpus));
	initStringInfo(&buf);

	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online", root);
	if (pgm_read_file(path, &buf) && (n = pgm_count_cpu_list(buf.data)) > 0)
		pgm_take_min(cpus, n, pstrdup("online CPUs /sys/devices/system/cpu/online"));
	else if (strcmp(root, "") == 0)
	{
		long		online = sysconf(_SC_NPROCESSORS_ONLN);

		if (online > 0)
			pgm_take_min(cpus, online, pstrdup("online CPUs sysconf(_SC_NPROCESSORS_ONLN)"));
	}

	snprintf(base, sizeof(base), "%s/sys/fs/cgroup", root);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
	if (cg->v2_path != NULL && pgm_file_exists(path))
	{
		pgm_walk_cpuset(base, strlen(root), cg->v2_path, "cpuset.cpus.effective", "cgroup v2", cpus);
		pgm_walk_quota(base, strlen(root), cg->v2_path, false, "cgroup v2", cpus);
	}
	if (cg->v1_cpuset != NULL)
	{
		snprintf(base, sizeof(base), "%s/sys/fs/cgroup/cpuset", root);
		pgm_walk_cpuset(base, strlen(root), cg->v1_cpuset, "cpuset.effective_cpus", "cgroup v1", cpus);
		pgm_walk_cpuset(base, strlen(root), cg->v1_cpuset, "cpuset.cpus", "cgroup v1", cpus);
	}
	if (cg->v1_cpu != NULL)
	{
		snprintf(base, sizeof(base), "%s/sys/fs/cgroup/cpu", root);
		if (!pgm_file_exists(base))
			snprintf(base, sizeof(base), "%s/sys/fs/cgroup/cpu,cpuacct", root);
		pgm_walk_quota(base, strlen(root), cg->v1_cpu, true, "cgroup v1", cpus);
	}
}

/* Measures the size of /dev/shm, where POSIX dynamic shared memory lives. */
static void
pgm_detect_shm(const char *root, PgmValue *shm)
{
	char		path[MAXPGPATH];
	struct statvfs vfs;

	memset(shm, 0, sizeof(*shm));
	snprintf(path, sizeof(path), "%s/dev/shm", root);
	if (statvfs(path, &vfs) == 0)
	{
		shm->known = true;
		shm->value = (int64) vfs.f_blocks * (int64) vfs.f_frsize;
		shm->source = pstrdup("statvfs(/dev/shm)");
	}
	else
		shm->source = psprintf("/dev/shm not found: %s", strerror(errno));
}

/*
 * pgmaint._detect_resources(root text) and pgmaint.detected_resources()
 * return the memory, physical memory, CPUs and /dev/shm size seen below root
 * ("/" for the latter), each with its source.  Reading another root than "/"
 * is for superusers only: it reads files anywhere.
 */
Datum
pgmaint_detected_resources(PG_FUNCTION_ARGS)
{
	char	   *root;
	size_t		len;
	TupleDesc	tupdesc;
	Datum		values[PGMAINT_RESOURCE_COLS];
	bool		nulls[PGMAINT_RESOURCE_COLS];
	PgmCgroups	cg;
	PgmValue	ram;
	PgmValue	physical;
	PgmValue	cpus;
	PgmValue	shm;

	/* pgmaint.detected_resources() has no argument: the server's own root */
	if (PG_NARGS() == 0 || PG_ARGISNULL(0))
		root = pstrdup("/");
	else
		root = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (root[0] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("root must be an absolute path"),
				 errhint("Pass \"/\" for the server's own files.")));
	if (strcmp(root, "/") != 0 && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read resources below another root than \"/\""),
				 errhint("Only superusers may point the detection at a fixture tree.")));
	len = strlen(root);
	if (len + 128 >= MAXPGPATH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("root path is too long"),
				 errhint("Use a path shorter than %d bytes.", MAXPGPATH - 128)));
	/* "/" and "/x/" become "" and "/x", so that root + "/proc/..." is a path */
	while (len > 0 && root[len - 1] == '/')
		root[--len] = '\0';

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);

	pgm_read_cgroups(root, &cg);
	pgm_detect_memory(root, &cg, &ram, &physical);
	pgm_detect_cpus(root, &cg, &cpus);
	pgm_detect_shm(root, &shm);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(ram.value);
	nulls[0] = !ram.known;
	values[1] = ram.known ? CStringGetTextDatum(ram.source) :
		CStringGetTextDatum("not found: no readable /proc/meminfo");
	values[2] = Int64GetDatum(physical.value);
	nulls[2] = !physical.known;
	values[3] = Int32GetDatum((int32) Min(cpus.value, PG_INT32_MAX));
	nulls[3] = !cpus.known;
	values[4] = cpus.known ? CStringGetTextDatum(cpus.source) :
		CStringGetTextDatum("not found: no readable /sys/devices/system/cpu/online");
	values[5] = Int64GetDatum(shm.value);
	nulls[5] = !shm.known;
	values[6] = CStringGetTextDatum(shm.source);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * Returns the value of "container=" in the environment of PID 1 below root,
 * or NULL; *readable says whether the file could be read at all (it is
 * readable only by PID 1's user, which is the server's in a container).
 */
static char *
pgm_pid1_container(const char *root, bool *readable)
{
	StringInfoData buf;
	char		path[MAXPGPATH];
	int			i = 0;

	initStringInfo(&buf);
	snprintf(path, sizeof(path), "%s/proc/1/environ", root);
	*readable = pgm_read_file(path, &buf);
	if (!*readable)
		return NULL;
	/* NUL-separated NAME=value entries */
	while (i < buf.len)
	{
		const char *entry = buf.data + i;
		size_t		n = strnlen(entry, buf.len - i);

		if (n > 10 && strncmp(entry, "container=", 10) == 0)
			return pnstrdup(entry + 10, n - 10);
		i += (int) n + 1;
	}
	return NULL;
}

/*
 * Returns the container runtime named in the cgroup path of the postmaster
 * (or of this backend) below root, or NULL; *line is set to the cgroup line
 * that names it.
 */
static const char *
pgm_cgroup_runtime(const char *root, char **line)
{
	static const char *const markers[][2] = {
		{"docker", "docker"},
		{"libpod", "podman"},
		{"kubepods", "kubernetes"},
		{"containerd", "containerd"},
		{"crio", "cri-o"},
		{"lxc", "lxc"},
	};
	StringInfoData buf;
	char		path[MAXPGPATH];
	char	   *l;
	char	   *save;

	*line = NULL;
	initStringInfo(&buf);
	snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root, (int) PostmasterPid);
	if (PostmasterPid == 0 || !pgm_read_file(path, &buf))
	{
		snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
		if (!pgm_read_file(path, &buf))
			return NULL;
	}
	for (l = strtok_r(buf.data, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
	{
		const char *cgpath = strrchr(l, ':');
		size_t		m;

		if (cgpath == NULL)
			continue;
		for (m = 0; m < lengthof(markers); m++)
		{
			if (strstr(cgpath, markers[m][0]) != NULL)
			{
				*line = psprintf("%s: %s", path + strlen(root), l);
				return markers[m][1];
			}
		}
	}
	return NULL;
}

/*
 * pgmaint._detect_container(root text) and pgmaint.detected_container()
 * say whether the server runs in a container below root ("/" for the
 * latter), which runtime, and what said so.  Another root than "/" is for
 * superusers only, as for _detect_resources().
 */
Datum
pgmaint_detected_container(PG_FUNCTION_ARGS)
{
	char	   *root;
	size_t		len;
	TupleDesc	tupdesc;
	Datum		values[PGMAINT_CONTAINER_COLS];
	bool		nulls[PGMAINT_CONTAINER_COLS];
	char		path[MAXPGPATH];
	const char *runtime = NULL;
	char	   *source = NULL;
	char	   *env;
	char	   *cgline;
	bool		environ_readable;

	if (PG_NARGS() == 0 || PG_ARGISNULL(0))
		root = pstrdup("/");
	else
		root = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (root[0] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("root must be an absolute path"),
				 errhint("Pass \"/\" for the server's own files.")));
	if (strcmp(root, "/") != 0 && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read files below another root than \"/\""),
				 errhint("Only superusers may point the detection at a fixture tree.")));
	len = strlen(root);
	if (len + 128 >= MAXPGPATH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("root path is too long"),
				 errhint("Use a path shorter than %d bytes.", MAXPGPATH - 128)));
	while (len > 0 && root[len - 1] == '/')
		root[--len] = '\0';

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);

	env = pgm_pid1_container(root, &environ_readable);
	snprintf(path, sizeof(path), "%s/.dockerenv", root);
	if (pgm_file_exists(path))
	{
		runtime = "docker";
		source = pstrdup("/.dockerenv exists");
	}
	else
	{
		snprintf(path, sizeof(path), "%s/run/.containerenv", root);
		if (pgm_file_exists(path))
		{
			runtime = "podman";
			source = pstrdup("/run/.containerenv exists");
		}
	}
	if (runtime == NULL && env != NULL && env[0] != '\0')
	{
		runtime = env;
		source = psprintf("container=%s in /proc/1/environ", env);
	}
	if (runtime == NULL && (runtime = pgm_cgroup_runtime(root, &cgline)) != NULL)
		source = psprintf("cgroup path %s", cgline);
	if (runtime == NULL)
		source = psprintf("no /.dockerenv, no /run/.containerenv, %s, no container in the cgroup path",
						  environ_readable ? "no container= in /proc/1/environ" :
						  "/proc/1/environ not readable");

	memset(nulls, 0, sizeof(nulls));
	values[0] = BoolGetDatum(runtime != NULL);
	values[1] = runtime ? CStringGetTextDatum(runtime) : (Datum) 0;
	nulls[1] = (runtime == NULL);
	values[2] = CStringGetTextDatum(source);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

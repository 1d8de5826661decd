#!/usr/bin/env bash
# test/suites/docker.sh: the Docker image (issues 14 and 29), built and run
# for real, on PostgreSQL 15 and 17.
#
# There is no registry here, so the official base image is a local stand-in
# (docker/base/: a cached mmdebstrap root filesystem plus an entrypoint that
# follows the official image's contract).  For 15 it stands in for
# postgres:15-bookworm, the Dockerfile's default.  For 17 it stands in for
# postgres:17-trixie, built from Debian trixie's postgresql-17: the official
# postgres:17-bookworm cannot be pulled here and bookworm has no
# postgresql-17, so the Dockerfile is built with --build-arg PG_MAJOR=17
# --build-arg DEBIAN_SUITE=trixie.  For each major the suite builds
# docker/Dockerfile on its stand-in, unchanged, runs the image with podman
# (runc, --memory 1g, a named volume, the host's loopback only) and checks
# what a user of docs/docker.md gets: readiness, the sampler in POSTGRES_DB,
# health() for a pg_monitor role over TCP, the container's memory limit and
# the guide's 1 GB settings, a pg_cron job, backups inside the container, a
# restart on the same volume, point-in-time recovery that init sets up with
# pgBackRest (PGMAINT_PITR_REPO: archiving, the stanza, a full backup, the
# pg_cron jobs, a drill inside the container, the four checks; its container
# starts before the wait for pg_cron's next minute, so that its init costs
# no time of its own), bad PGMAINT_* values; then that the 17 image
# refuses the 15 volume and a 17 container restores the 15 backup (the way
# from 15 to 17 docs/docker.md gives), and docker/compose.yaml with either
# major.  Every check's name starts with the major it ran on ("pg17: ...").
# A major whose stand-in cannot be built (no mirror, no mmdebstrap) prints
# "skipped: ...".  PGMAINT_DOCKER_PG="15 17" (the default, whatever
# PGMAINT_PG says: both cost about a minute more than one) picks the majors.
# Podman uses a private storage under $PGM_TMP.
#
# packages: podman runc mmdebstrap docker-compose python3-yaml
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. test/lib.sh
. test/rootfs.sh

work="$PGM_TMP/docker"
mkdir -p "$work"
majors=${PGMAINT_DOCKER_PG:-15 17}
# the Dockerfile's defaults: the major built without --build-arg, and its suite
default_major=$(sed -n 's/^ARG PG_MAJOR=//p' docker/Dockerfile)
default_suite=$(sed -n 's/^ARG DEBIAN_SUITE=//p' docker/Dockerfile)
password=pgmaint-test-password
P=(podman --root "$work/storage" --runroot "$work/run" --runtime /usr/sbin/runc --events-backend file)
# podman's own complaints (no systemd here for healthcheck timers) go to podman.log
pq() {
	"${P[@]}" "$@" 2>>"$work/podman.log"
}
limits=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
t_suite=$(date +%s)
figures=""
proved=""
# per major proved: its image, first data volume, backups volume, backup made by hand
declare -A images=() data_vols=() backup_vols=() backups=()

# Removes every container, volume and image of this run, then the storage.
cleanup() {
	"${P[@]}" rm -f -t 5 -a >/dev/null 2>&1
	"${P[@]}" volume rm -f -a >/dev/null 2>&1
	"${P[@]}" rmi -f -a >/dev/null 2>&1
	"${P[@]}" system reset -f >/dev/null 2>&1
	rm -rf "$work/storage" "$work/run"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# True when TEXT ($2) does not contain PATTERN ($1).
lacks() {
	! grep -q -- "$1" <<<"$2"
}

# Prints "skipped: REASON" (the runner counts the suite as skipped) and stops.
skip() {
	echo "skipped: $*"
	exit 0
}

# --- can this machine run containers at all? ----------------------------------
for t in podman /usr/sbin/runc; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
if ! out=$("${P[@]}" info 2>&1); then
	skip "podman cannot start here: $(tail -n 1 <<<"$out")"
fi

# psql as a client on the host, over TCP on 127.0.0.1
tq() {
	PGPASSWORD=${TQ_PASSWORD:-$password} psql -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
		-U "${TQ_USER:-alfred}" -d agent_core "$@"
}

# Waits until container $1 accepts TCP connections as alfred; fails early when it exits.
wait_ready() {
	local c=$1 seconds=$2 deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ "$(tq -c 'SELECT 1' 2>/dev/null)" = 1 ] && return 0
		[ "$("${P[@]}" inspect --format '{{.State.Running}}' "$c" 2>/dev/null)" = true ] || return 1
		sleep 0.5
	done
	return 1
}

# Polls SQL over TCP until it returns "t" or SECONDS pass.
tq_wait() {
	local sql=$1 seconds=$2 deadline
	deadline=$(($(date +%s) + seconds))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ "$(tq -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.5
	done
	return 1
}

# Runs the image on volume $1 as container $2 (detached), with extra options after.
run_db() {
	local v=$1 c=$2
	shift 2
	"${P[@]}" run -d --name "$c" --memory 1g --shm-size 256m --network=host "${limits[@]}" \
		-e POSTGRES_PASSWORD="$password" -e POSTGRES_USER=alfred -e POSTGRES_DB=agent_core \
		-e POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 -e PGPORT="$port" \
		-v "$v":/var/lib/postgresql/data -v "$bvol":/backups \
		-v "$top/docker/postgresql.conf":/etc/postgresql/postgresql.conf:ro \
		"$@" "$tag" postgres -c config_file=/etc/postgresql/postgresql.conf \
		-c listen_addresses=127.0.0.1 >/dev/null 2>>"$work/podman.log"
}

# Builds the stand-in and the image of major $1 and runs every check on it.
# Sets the globals the helpers above use (port, tag, bvol); once every check
# ran, records the major in proved, images, data_vols, backup_vols, backups.
prove_major() {
	local suite base n=$2 t0 t_base t_build t_pitr t_pitr0 rc out file before differs img_check added pgbr_version v build_args=()
	major=$1
	m="pg$major"
	port=$((PGM_PORT_BASE + n))
	pitr_port=$((PGM_PORT_BASE + 10 + n))
	tag=localhost/pgmaint-test:$major-$$
	ctr=pgmaint-docker-$major-$$
	vol=pgmaint-data-$major-$$
	bvol=pgmaint-backups-$major-$$
	echo "# --- PostgreSQL $major ---"
	if ! suite=$(pgm_debian_suite "$major"); then
		echo "skipped: $m: no Debian suite packages PostgreSQL $major, so there is no stand-in for its image"
		return
	fi
	base=postgres:$major-$suite
	if [ "$major" = "$default_major" ] && [ "$suite" = "$default_suite" ]; then
		echo "# $m: the stand-in is for $base, the Dockerfile's default (no --build-arg)"
	else
		build_args=(--build-arg PG_MAJOR="$major" --build-arg DEBIAN_SUITE="$suite")
		[ "$suite" != "$default_suite" ] &&
			echo "# $m: the stand-in is for $base, built from Debian $suite's postgresql-$major: the official postgres:$major-$default_suite cannot be pulled here and Debian $default_suite has no postgresql-$major; the Dockerfile is built with ${build_args[*]}"
	fi

	# --- the base stand-in and the image -------------------------------------
	t0=$(date +%s)
	bash docker/base/build.sh "$major" "localhost/$base" --root "$work/storage" --runroot "$work/run" \
		--runtime /usr/sbin/runc --events-backend file 2>"$work/base-$major.log"
	rc=$?
	sed "s/^/# $m: /" "$work/base-$major.log"
	if [ "$rc" = 3 ]; then
		echo "skipped: $m: the $base stand-in could not be built ($(tail -n 1 "$work/base-$major.log"))"
		return
	elif [ "$rc" != 0 ]; then
		ok "$m: the $base stand-in builds" false
		return
	fi
	# FROM postgres:... resolves to the local stand-in, never a registry
	"${P[@]}" tag "localhost/$base" "docker.io/library/$base"
	t_base=$(($(date +%s) - t0))

	t0=$(date +%s)
	"${P[@]}" build --pull=never --network=host --format docker "${build_args[@]}" \
		-f docker/Dockerfile -t "$tag" . >"$work/build-$major.log" 2>&1
	rc=$?
	t_build=$(($(date +%s) - t0))
	echo "# $m: image build: ${t_build} s"
	is "$rc" 0 "$m: docker/Dockerfile ${build_args[*]:+(${build_args[*]}) }builds on the $base stand-in (${t_build} s)"
	[ "$rc" = 0 ] || { tail -n 40 "$work/build-$major.log" | sed 's/^/# /'; return; }
	img_check=$(pq run --rm --network=none "${limits[@]}" --entrypoint sh "$tag" -c '
		command -v gcc >/dev/null && echo gcc
		command -v make >/dev/null && echo make
		test -f "/usr/lib/postgresql/$PG_MAJOR/lib/pgmaint.so" || echo no-pgmaint
		test -f "/usr/lib/postgresql/$PG_MAJOR/lib/pg_cron.so" || echo no-pg_cron
		command -v pgmaint_backup >/dev/null || echo no-pgmaint_backup
		test -x /docker-entrypoint-initdb.d/pgmaint.sh || echo no-init-script
		command -v pgbackrest >/dev/null || echo no-pgbackrest
		echo "$PG_MAJOR $(postgres --version | sed -n "s/^postgres (PostgreSQL) \([0-9]*\)\..*/\1/p")" \
			$(stat -c %U:%G /backups /etc/pgbackrest /var/lib/pgbackrest /var/log/pgbackrest | sort -u)')
	is "$img_check" "$major $major postgres:postgres" \
		"$m: the image has PostgreSQL $major, pgmaint, pg_cron, pgmaint_backup, pgBackRest and the init script, no build tools, and /backups and pgBackRest's directories belong to postgres"
	pgbr_version=$(pq run --rm --network=none "${limits[@]}" --entrypoint pgbackrest "$tag" version 2>&1)
	echo "# $m: $pgbr_version"
	# what the Dockerfile adds to its base: pg_cron, pgBackRest and pgmaint, no build tools and no package files left in apt's cache
	added=$(( ($(pq image inspect --format '{{.Size}}' "$tag") - $(pq image inspect --format '{{.Size}}' "localhost/$base")) / 1000000 ))
	ok "$m: the Dockerfile adds $added MB to its base (under 40 MB: no build tools, no package files left in apt's cache)" test "$added" -lt 40
	is "$(pq image inspect --format '{{join .Config.Healthcheck.Test " "}}' "$tag")" \
		'CMD-SHELL pg_isready -q -h 127.0.0.1 -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" || exit 1' \
		"$m: the image's healthcheck is pg_isready over TCP"

	# --- first start on a new volume ------------------------------------------
	"${P[@]}" volume create "$vol" >/dev/null
	"${P[@]}" volume create "$bvol" >/dev/null
	t0=$(date +%s)
	run_db "$vol" "$ctr" -e PGMAINT_SAMPLE_INTERVAL=1s -e PGMAINT_BACKUP_SCHEDULE='* * * * *'
	ok "$m: the server becomes ready on 127.0.0.1:$port (scram-sha-256 over TCP)" wait_ready "$ctr" 240
	echo "# $m: first start (init) to ready: $(($(date +%s) - t0)) s"
	"${P[@]}" logs "$ctr" >"$work/first-$major.log" 2>&1
	is "$(tq -c "SELECT current_setting('server_version_num')::int / 10000" 2>&1)" "$major" \
		"$m: the server is PostgreSQL $major"
	ok "$m: init ran pgmaint.sh and created the extensions" \
		grep -q 'pgmaint.sh: created pg_stat_statements, pg_cron and pgmaint' "$work/first-$major.log"
	is "$(tq -c "SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'")|$(tq -c 'SHOW pgmaint.database')|$(tq -c 'SHOW cron.database_name')" \
		"pg_cron,pgmaint,pg_stat_statements|agent_core|agent_core" \
		"$m: preloading and pgmaint.database come from the data directory, no -c flags"

	# before any backup: the backup check is not ok (it must turn ok below)
	before=$(tq -c "SELECT (SELECT count(*) FROM pgmaint.backups) || ':' || (c->>'status')
	                  FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'backup'")
	ok "$m: before any backup, health()'s backup check is not ok ($before)" \
		bash -c "[[ '$before' =~ ^0:(warning|critical)$ ]] || [[ '$before' =~ ^[1-9] ]]"

	ok "$m: the sampler runs in POSTGRES_DB (agent_core)" \
		tq_wait "SELECT running AND database = 'agent_core' AND samples_taken > 1 FROM pgmaint.sampler_status()" 60

	# a pg_monitor role, over TCP
	tq -c "CREATE ROLE monitor LOGIN PASSWORD 'monitor-pw' IN ROLE pg_monitor" >/dev/null
	is "$(TQ_USER=monitor TQ_PASSWORD=monitor-pw tq -c "SELECT pgmaint.health()->>'status' IN ('ok', 'warning', 'critical'), pgmaint.health()->'sampler'->>'running'" 2>&1)" \
		"t|true" "$m: health() answers for a pg_monitor role over TCP on 127.0.0.1, with the sampler running"

	# memory from the container's cgroup; the guide's 1 GB table
	is "$(tq -c "SELECT ram_bytes / 1048576, ram_source ~ '^cgroup v[12] ' FROM pgmaint.detected_resources()")" \
		"1024|t" "$m: detected_resources() reports the container's 1024 MB from its cgroup"
	is "$(tq -c "SELECT string_agg(name || '=' || recommended || ':' || status, ' ' ORDER BY name) FROM pgmaint.settings_advice()
	              WHERE name IN ('shared_buffers', 'effective_cache_size', 'max_connections')")" \
		"effective_cache_size=512MB:ok max_connections=30:ok shared_buffers=256MB:ok" \
		"$m: settings_advice() gives the guide's 1 GB table, and docker/postgresql.conf matches it"
	differs=$(tq -c "SELECT coalesce(string_agg(name, ', '), 'none') FROM pgmaint.settings_advice()
	                  WHERE status <> 'ok' AND name <> 'autovacuum_max_workers'")
	is "$differs" none "$m: docker/postgresql.conf agrees with settings_advice() on every row, /dev/shm and memory risk included (autovacuum_max_workers follows the CPUs)"
	is "$(tq -c "SELECT current || '|' || reason FROM pgmaint.settings_advice() WHERE name = 'container'")" \
		"podman|/run/.containerenv exists" "$m: settings_advice() says the server runs in a container, and why"
	is "$(tq -c "SELECT recommended || ':' || status FROM pgmaint.settings_advice() WHERE name = 'logging_collector'")|$(tq -c "SELECT status FROM pgmaint.config_audit() WHERE check_name = 'logging_collector'")" \
		"off:ok|ok" "$m: in the container logging_collector = off is recommended, and docker/postgresql.conf has it"
	ok "$m: the image's healthcheck passes once the server is up" pq healthcheck run "$ctr"
	ok "$m: the worker's log lines reach docker logs (stderr, logging_collector = off)" \
		grep -q 'LOG:  pgmaint sampler started in database "agent_core", sampling every 1 s' \
		<("${P[@]}" logs "$ctr" 2>&1 | sed -n '/init process complete; ready for start up/,$p')

	# point-in-time recovery's container (checked below) starts now, on a port
	# of its own, so that its init overlaps the wait for pg_cron's next minute;
	# the repository and the configuration on volumes of their own, as in compose.yaml
	t_pitr0=$(date +%s)
	for v in "$vol-pitr" "$vol-pgbr" "$vol-pgbr-conf"; do "${P[@]}" volume create "$v" >/dev/null; done
	port=$pitr_port run_db "$vol-pitr" "$ctr-pitr" -e PGMAINT_PITR_REPO=/var/lib/pgbackrest -e PGMAINT_PITR_RPO=60 \
		-v "$vol-pgbr":/var/lib/pgbackrest -v "$vol-pgbr-conf":/etc/pgbackrest

	# pg_cron: the scheduled backup job (every minute here) runs and succeeds
	ok "$m: a pg_cron job runs: the scheduled pgmaint_backup backup + verify succeeds" \
		tq_wait "SELECT EXISTS (SELECT FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		                         WHERE j.jobname = 'pgmaint-backup' AND d.status = 'succeeded')" 150
	[ "$(tq -c "SELECT count(*) FROM cron.job_run_details WHERE status = 'failed'")" = 0 ] ||
		tq -c "SELECT jobid, status, return_message FROM cron.job_run_details" | sed 's/^/# /'

	# backups inside the container, by hand
	tq -c "CREATE TABLE kept (id int PRIMARY KEY, v text); INSERT INTO kept SELECT g, 'row ' || g FROM generate_series(1, 500) g" >/dev/null
	out=$("${P[@]}" exec -u postgres "$ctr" pgmaint_backup -U alfred -d agent_core backup --dir /backups 2>&1)
	ok "$m: pgmaint_backup backup succeeds inside the container" grep -q '^backup ok: ' <<<"$out"
	file=$(sed -n 's/^backup ok: \([^ ]*\.dump\) .*/\1/p' <<<"$out")
	out=$("${P[@]}" exec -u postgres "$ctr" pgmaint_backup -U alfred -d agent_core verify "$file" 2>&1)
	ok "$m: pgmaint_backup verify succeeds inside the container ($file)" grep -q '^verify ok: ' <<<"$out"
	# health() reads the worker's evaluation (every second here): the next one
	ok "$m: health()'s backup check turns ok" \
		tq_wait "SELECT c->>'status' = 'ok' FROM jsonb_array_elements(pgmaint.health()->'checks') c WHERE c->>'check' = 'backup'" 30

	# --- restart on the same volume: no init, data, configuration and worker kept ---
	tq -c "ALTER SYSTEM SET pgmaint.policy = 'off'" -c "SELECT pg_reload_conf()" >/dev/null
	pq stop -t 30 "$ctr" >/dev/null
	pq rm "$ctr" >/dev/null
	# a new container on the old volume; a bad PGMAINT_POLICY would stop init, were it to run
	run_db "$vol" "$ctr-2" -e PGMAINT_POLICY=bogus
	ok "$m: a new container on the same volume becomes ready" wait_ready "$ctr-2" 120
	"${P[@]}" logs "$ctr-2" >"$work/second-$major.log" 2>&1
	ok "$m: init does not run again on the same volume" grep -q 'Skipping initialization' "$work/second-$major.log"
	ok "$m: and pgmaint.sh did not run (PGMAINT_POLICY=bogus is not read)" lacks 'pgmaint.sh' "$(cat "$work/second-$major.log")"
	is "$(tq -c "SELECT count(*) FROM kept")|$(tq -c 'SHOW pgmaint.database')|$(tq -c 'SHOW pgmaint.policy')|$(tq -c 'SHOW shared_buffers')" \
		"500|agent_core|off|256MB" "$m: data, init's settings, ALTER SYSTEM and the mounted postgresql.conf are kept"
	ok "$m: the worker is back after the restart" \
		tq_wait "SELECT running AND database = 'agent_core' FROM pgmaint.sampler_status()" 60
	pq stop -t 30 "$ctr-2" >/dev/null

	# --- point-in-time recovery that init set up (PGMAINT_PITR_REPO, docs/pitr.md) ---
	# (the container started before the pg_cron wait above)
	port=$pitr_port
	t0=$(date +%s)
	ok "$m: with PGMAINT_PITR_REPO the server becomes ready" wait_ready "$ctr-pitr" 240
	"${P[@]}" logs "$ctr-pitr" >"$work/pitr-$major.log" 2>&1
	grep 'pgmaint.sh: pitr ' "$work/pitr-$major.log" | sed "s/^/# $m: /"
	ok "$m: init set up pgBackRest: setup checked, a full backup, the schedule" \
		bash -c "grep -q 'pgmaint.sh: pitr setup ok: stanza agent_core in posix:/var/lib/pgbackrest, archive_command checked' \"\$0\" &&
			grep -q 'pgmaint.sh: pitr backup ok: full backup' \"\$0\" && grep -q 'pgmaint.sh: pitr schedule ok' \"\$0\"" "$work/pitr-$major.log"
	grep -q 'pgmaint.sh: pitr schedule ok' "$work/pitr-$major.log" ||
		grep 'pgmaint.sh\|ERROR\|FATAL' "$work/pitr-$major.log" | tail -n 15 | sed 's/^/# /'
	is "$(tq -c "SELECT current_setting('archive_mode') || ' ' || current_setting('archive_timeout')
	                   || ' ' || (current_setting('archive_command') LIKE '%pgbackrest %--stanza=agent_core archive-push %p')
	                   || ' ' || s.stanza || ' ' || s.repo || ' ' || (s.last_full_label IS NOT NULL)
	                   || ' ' || (SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job WHERE jobname LIKE 'pgmaint-pitr-%')
	              FROM pgmaint.pitr_status() s" 2>&1)" \
		"on 1min true agent_core posix:/var/lib/pgbackrest true pgmaint-pitr-diff,pgmaint-pitr-drill,pgmaint-pitr-expire,pgmaint-pitr-full" \
		"$m: archiving through pgBackRest with a 60 s RPO, stanza agent_core, the full backup recorded, the four pg_cron jobs"
	is "$("${P[@]}" exec "$ctr-pitr" stat -c %U /etc/pgbackrest/pgbackrest.conf /var/lib/pgbackrest/backup/agent_core 2>&1 | sort -u)" \
		postgres "$m: the configuration and the repository, on their volumes, belong to postgres"
	out=$("${P[@]}" exec -u postgres "$ctr-pitr" pgmaint_backup -U alfred -d agent_core pitr drill --target-age 0 2>&1)
	ok "$m: a restore drill passes inside the container" grep -q '^pitr drill ok: ' <<<"$out"
	grep -q '^pitr drill ok: ' <<<"$out" && echo "# $m: $(grep '^pitr drill ok: ' <<<"$out")" ||
		sed 's/^/# /' <<<"$out" | tail -n 5
	is "$(tq -c "SELECT s.last_drill_status || ' ' || (SELECT count(*) FROM pgmaint.backups WHERE kind = 'pitr_drill' AND status = 'ok')
	              FROM pgmaint.pitr_status() s" 2>&1)" \
		"ok 1" "$m: the drill is recorded in pgmaint.backups and pitr_status()"
	# health() reads the worker's evaluation (every minute here): ask for one after the drill
	tq -c "SELECT pgmaint._request_samples(1)" >/dev/null
	pitr_checks=bad
	tq_wait "SELECT string_agg(c->>'check' || '=' || (c->>'status'), ' ' ORDER BY c->>'check')
	                = 'pitr_backup=ok pitr_backup_age=ok pitr_full_backup_age=ok recovery_point=ok'
	           FROM jsonb_array_elements(pgmaint.health()->'checks') c
	          WHERE c->>'check' IN ('pitr_full_backup_age', 'pitr_backup_age', 'pitr_backup', 'recovery_point')" 30 &&
		pitr_checks=ok
	is "$pitr_checks" ok "$m: health()'s four point-in-time recovery checks answer ok"
	[ "$pitr_checks" = ok ] ||
		tq -c "SELECT c->>'check', c->>'status', c->>'message', pgmaint.health()->>'source'
		         FROM jsonb_array_elements(pgmaint.health()->'checks') c
		        WHERE c->>'check' IN ('pitr_full_backup_age', 'pitr_backup_age', 'pitr_backup', 'recovery_point')" 2>&1 | sed 's/^/#   /'
	pq stop -t 30 "$ctr-pitr" >/dev/null
	port=$((PGM_PORT_BASE + n))
	t_pitr=$(($(date +%s) - t0))
	echo "# $m: point-in-time recovery: $(($(date +%s) - t_pitr0)) s from its start, ${t_pitr} s of it after the restart checks"

	# --- a bad PGMAINT_* value on a new volume stops init, naming the variable -------
	"${P[@]}" volume create "$vol-bad" >/dev/null
	out=$(timeout 180 "${P[@]}" run --rm --name "$ctr-bad" --network=none "${limits[@]}" \
		-e POSTGRES_PASSWORD="$password" -e POSTGRES_DB=agent_core -e PGMAINT_POLICY=bogus \
		-v "$vol-bad":/var/lib/postgresql/data "$tag" 2>&1)
	rc=$?
	ok "$m: PGMAINT_POLICY=bogus on a new volume fails init (exit status $rc)" test "$rc" -ne 0
	ok "$m: and the message names the variable" \
		grep -q "pgmaint.sh: error: PGMAINT_POLICY='bogus' is not valid: use one of off advise apply" <<<"$out"
	ok "$m: and nothing was configured before the check" lacks 'pgmaint.sh: preloading' "$out"
	"${P[@]}" volume rm -f "$vol-bad" >/dev/null 2>&1
	# a value that pgmaint_backup prune would refuse at every run is refused at init (issue 26)
	"${P[@]}" volume create "$vol-keep" >/dev/null
	out=$(timeout 180 "${P[@]}" run --rm --name "$ctr-keep" --network=none "${limits[@]}" \
		-e POSTGRES_PASSWORD="$password" -e POSTGRES_DB=agent_core -e PGMAINT_BACKUP_SCHEDULE='@daily' \
		-e PGMAINT_BACKUP_KEEP_DAYS=999999 -v "$vol-keep":/var/lib/postgresql/data "$tag" 2>&1)
	ok "$m: PGMAINT_BACKUP_KEEP_DAYS=999999 (refused by pgmaint_backup prune) fails init, naming it" \
		grep -q "pgmaint.sh: error: PGMAINT_BACKUP_KEEP_DAYS='999999' is not a whole number of days from 0 to 99999" <<<"$out"
	"${P[@]}" volume rm -f "$vol-keep" >/dev/null 2>&1
	# a bad PGMAINT_PITR_* value stops init before anything is configured, naming it
	"${P[@]}" volume create "$vol-rpo" >/dev/null
	out=$(timeout 180 "${P[@]}" run --rm --name "$ctr-rpo" --network=none "${limits[@]}" \
		-e POSTGRES_PASSWORD="$password" -e POSTGRES_DB=agent_core -e PGMAINT_PITR_REPO=/var/lib/pgbackrest \
		-e PGMAINT_PITR_RPO=0 -v "$vol-rpo":/var/lib/postgresql/data "$tag" 2>&1)
	rc=$?
	ok "$m: PGMAINT_PITR_RPO=0 fails init (exit status $rc), naming the variable, before anything was configured" \
		bash -c "[ '$rc' != 0 ] && grep -q \"pgmaint.sh: error: PGMAINT_PITR_RPO='0' is not a whole number of seconds from 1 to 86400\" <<<\"\$0\" &&
			! grep -q 'pgmaint.sh: preloading' <<<\"\$0\"" "$out"
	"${P[@]}" volume rm -f "$vol-rpo" >/dev/null 2>&1

	images[$major]=$tag data_vols[$major]=$vol backup_vols[$major]=$bvol backups[$major]=$file
	proved="$proved $major"
	figures="$figures, pg$major: base stand-in ${t_base} s, image build ${t_build} s, point-in-time recovery checks ${t_pitr} s"
}

n=0
for major in $majors; do
	n=$((n + 1))
	t0=$(date +%s)
	prove_major "$major" "$n"
	echo "# pg$major: $(($(date +%s) - t0)) s"
done

# --- a new major: not on the old volume; a dump and restore ---------------------
# docs/docker.md: changing PG_MAJOR needs pg_upgrade or a dump and restore.
# The newer image refuses the older data directory rather than starting on
# it; a fresh container of the newer major restores the older one's backup.
set -- $proved
if [ $# -ge 2 ]; then
	old=$1 new=${!#}
	m="pg$old+pg$new"
	tag=${images[$new]}
	out=$(timeout 120 "${P[@]}" run --rm --network=none "${limits[@]}" \
		-v "${data_vols[$old]}":/var/lib/postgresql/data "$tag" 2>&1)
	rc=$?
	ok "$m: the PostgreSQL $new image refuses the PostgreSQL $old volume (exit status $rc)" test "$rc" -ne 0
	ok "$m: and says the data directory is from version $old" \
		grep -q "initialized by PostgreSQL version $old, which is not compatible with this version $new" <<<"$out"
	[ "$rc" != 0 ] || sed 's/^/# /' <<<"$out" | tail -n 5

	# a new volume on the newer major, the older one's backups volume mounted
	port=$((PGM_PORT_BASE + 9)) bvol=${backup_vols[$old]} ctr=pgmaint-docker-upgrade-$$
	"${P[@]}" volume create "pgmaint-data-upgrade-$$" >/dev/null
	run_db "pgmaint-data-upgrade-$$" "$ctr"
	ok "$m: a PostgreSQL $new container on a new volume becomes ready" wait_ready "$ctr" 240
	out=$("${P[@]}" exec -u postgres "$ctr" pgmaint_backup -U alfred -d postgres restore "${backups[$old]}" --into agent_core --replace 2>&1)
	ok "$m: pgmaint_backup restores the PostgreSQL $old backup into agent_core on $new (--replace, from -d postgres)" \
		grep -q '^restore ok: .* (replaced)' <<<"$out"
	grep -q '^restore ok: ' <<<"$out" || sed 's/^/# /' <<<"$out"
	is "$(tq -c "SELECT current_setting('server_version_num')::int / 10000 || '|' || (SELECT count(*) FROM kept) || '|' || (SELECT extversion FROM pg_extension WHERE extname = 'pgmaint') || '|' || (pgmaint.health()->>'status' IN ('ok', 'warning', 'critical'))" 2>&1)" \
		"$new|500|$(sed -n "s/^default_version = '\(.*\)'/\1/p" pgmaint.control)|true" \
		"$m: on $new the restored agent_core has the $old data, pgmaint at its version, and health() answers"
	pq stop -t 30 "$ctr" >/dev/null
fi

# --- docker/compose.yaml ------------------------------------------------------
mkdir -p "$work/compose/docker"
cp docker/compose.yaml docker/postgresql.conf "$work/compose/docker/"
cp docker/.env.example "$work/compose/docker/.env"
if command -v docker-compose >/dev/null; then
	cfg=$(cd "$work/compose/docker" && docker-compose -f compose.yaml config 2>&1)
	rc=$?
	is "$rc" 0 "compose: docker/compose.yaml is valid (docker-compose $(docker-compose version --short 2>/dev/null) config)"
	[ "$rc" = 0 ] || sed 's/^/# /' <<<"$cfg"
	ok "compose: password from .env, scram-sha-256, 127.0.0.1 only, 1 GB limit, mounted postgresql.conf, backups volume" \
		bash -c "grep -q 'POSTGRES_PASSWORD: change-me' <<<\"\$0\" && grep -q 'auth-host=scram-sha-256' <<<\"\$0\" &&
			grep -q '127.0.0.1:5432:5432' <<<\"\$0\" && grep -q 'mem_limit: 1g' <<<\"\$0\" &&
			grep -q 'config_file=/etc/postgresql/postgresql.conf' <<<\"\$0\" && grep -q ':/backups' <<<\"\$0\"" "$cfg"
	# point-in-time recovery (docs/pitr.md): the repository and the configuration on volumes of their own
	is "$(python3 -c 'import sys, yaml
c = yaml.safe_load(sys.argv[1]); db = c["services"]["db"]
# short syntax (docker-compose 1.x: "name:/target:rw") or long (type, source, target)
vols = [v.split(":")[:2] if isinstance(v, str) else [v["source"], v["target"]] for v in db["volumes"]]
vols = sorted(s + ":" + t for s, t in vols if s in c["volumes"] and "pgbackrest" in t)
print(" ".join(vols), db["environment"]["PGMAINT_PITR_REPO"], db["environment"]["PGMAINT_PITR_RPO"],
      " ".join(sorted(k for k in c["volumes"] if "pgbackrest" in k)))' "$cfg" 2>&1)" \
		"pgbackrest:/var/lib/pgbackrest pgbackrest_config:/etc/pgbackrest /var/lib/pgbackrest 60 pgbackrest pgbackrest_config" \
		"compose: the pgBackRest configuration and repository volumes, PGMAINT_PITR_REPO and PGMAINT_PITR_RPO"
	# the major: the Dockerfile's default unless .env sets PG_MAJOR
	majors_seen=""
	for want in "$default_major" 17; do
		[ "$want" = "$default_major" ] || sed -i "s/^#* *PG_MAJOR=.*/PG_MAJOR=$want/" "$work/compose/docker/.env"
		majors_seen="$majors_seen $(cd "$work/compose/docker" && docker-compose -f compose.yaml config 2>&1 |
			python3 -c 'import sys, yaml; db = yaml.safe_load(sys.stdin)["services"]["db"]; print(db["build"]["args"]["PG_MAJOR"], db["image"])')"
	done
	is "$majors_seen" " $default_major pgmaint:$default_major 17 pgmaint:17" \
		"compose: build arg PG_MAJOR and image tag are $default_major without PG_MAJOR in .env, 17 with PG_MAJOR=17"
	echo "# compose up is not run: it needs a bridge network with published ports, and containers here may use only the host's loopback or no network"
else
	echo "# docker-compose is not installed: compose.yaml not validated"
	ok "docker-compose is available to validate docker/compose.yaml" false
fi

echo "# suite figures: PostgreSQL${proved:- none} proved${figures}, whole suite $(($(date +%s) - t_suite)) s"
finish

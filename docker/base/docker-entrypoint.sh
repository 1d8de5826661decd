#!/usr/bin/env bash
# docker-entrypoint.sh of pgmaint's TEST STAND-IN for the official postgres
# image (docker/base/).  Written for this project from the official
# image's documented contract, not copied from it:
#   - POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#     POSTGRES_USER (default postgres), POSTGRES_DB (default the user),
#     POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#     each also as VAR_FILE (a file holding the value);
#   - initialisation only when PGDATA holds no PG_VERSION;
#   - /docker-entrypoint-initdb.d/*.sh (run when executable, else sourced)
#     and *.sql (psql against POSTGRES_DB), in name order, on a temporary
#     server that listens on the unix socket only;
#   - then exec postgres "$@" (first argument "-..." means postgres flags).
set -Eeo pipefail

# Sets VAR from VAR or from the file named by VAR_FILE, else DEFAULT.
file_env() {
	local var=$1 file_var="${1}_FILE" def=${2:-}
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		echo "error: both $var and $file_var are set (but are exclusive)" >&2
		exit 1
	fi
	local val=$def
	if [ -n "${!var:-}" ]; then
		val=${!var}
	elif [ -n "${!file_var:-}" ]; then
		val=$(<"${!file_var}")
	fi
	export "$var"="$val"
	unset "$file_var"
}

# Runs psql on the temporary server, stopping at the first error.
docker_process_sql() {
	local args=(--dbname "$POSTGRES_DB")
	if [ -n "${DOCKER_PSQL_DBNAME:-}" ]; then args=(--dbname "$DOCKER_PSQL_DBNAME"); fi
	PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "${args[@]}" "$@"
}

# Starts the temporary server: unix socket only.
docker_temp_server_start() {
	if [ "$1" = postgres ]; then shift; fi
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

# Stops the temporary server.
docker_temp_server_stop() {
	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

# Runs the files given, as the official image documents.
docker_process_init_files() {
	local f
	echo
	for f; do
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				echo "$0: running $f"
				"$f"
			else
				echo "$0: sourcing $f"
				. "$f"
			fi
			;;
		*.sql) echo "$0: running $f"; docker_process_sql -f "$f"; echo ;;
		*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo ;;
		*) echo "$0: ignoring $f" ;;
		esac
		echo
	done
}

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
	export POSTGRES_HOST_AUTH_METHOD

	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$PGDATA" /var/run/postgresql
		chmod 00700 "$PGDATA"
		chown -R postgres:postgres "$PGDATA" /var/run/postgresql
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$(readlink -f "$0")" "$@"
	fi

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
			echo "error: database is uninitialized and superuser password is not specified." >&2
			echo "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
			exit 1
		fi
		ls /docker-entrypoint-initdb.d/ >/dev/null
		eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
		printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
		export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
		docker_temp_server_start "$@"
		if [ "$POSTGRES_DB" != postgres ]; then
			DOCKER_PSQL_DBNAME=postgres docker_process_sql --set db="$POSTGRES_DB" <<-'SQL'
				CREATE DATABASE :"db" ;
			SQL
		fi
		docker_process_init_files /docker-entrypoint-initdb.d/*
		docker_temp_server_stop
		unset PGPASSWORD
		echo
		echo 'PostgreSQL init process complete; ready for start up.'
		echo
	else
		echo
		echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
		echo
	fi
fi

exec "$@"

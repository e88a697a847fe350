# The stack's private PostgreSQL 15 cluster: create, configure, start, stop,
# and run psql in it. Sourced after paths.sh. Not for: migrations (migrate.sh).
#
# The cluster listens on no TCP address, only on a Unix socket in $PC_SOCK
# (mode 0700) whose name carries $PC_PG_PORT; local connections are trusted
# (only the service user can reach the socket), host connections refused.
# fsync and synchronous_commit stay on, in tests too (contract section 5).

# pg_as_user CMD...: CMD as the service user, in the clean environment
# PostgreSQL programs run with.
pg_as_user() {
	pc_as_user env -i --default-signal PATH="$PC_CLEAN_PATH" LANG=C.UTF-8 HOME="$PC_DATA" \
		PIPECHAT_STACK="$PC_VAR" "$@"
}

# pg_conninfo [DBNAME]: the libpq conninfo of the cluster (default database pipechat).
pg_conninfo() { echo "host=$PC_SOCK port=$PC_PG_PORT dbname=${1:-pipechat} user=$PC_SVC_USER"; }

# pg_choose_port: the port number the cluster uses (only in its socket's name):
# the one it already has, else a free one.
pg_choose_port() {
	local p=""
	[ -f "$PC_DB_DIR/pipechat.conf" ] &&
		p=$(sed -n 's/^port = \([0-9][0-9]*\)$/\1/p' "$PC_DB_DIR/pipechat.conf")
	[ -n "$p" ] || p=$(pc_free_port)
	echo "$p"
}

# pg_init: creates the cluster if it does not exist and (re)writes pipechat.conf,
# the settings pipechat owns, included from postgresql.conf.
pg_init() {
	local log=$PC_LOG/postgres.log
	if [ ! -s "$PC_DB_DIR/PG_VERSION" ]; then
		pc_say "creating the database cluster in $PC_DB_DIR"
		pg_as_user "$PC_PGBIN/initdb" -D "$PC_DB_DIR" --auth-local=trust --auth-host=reject \
			-E UTF8 --locale=C.UTF-8 >>"$log" 2>&1 || {
			pc_log_tail postgres
			pc_die "initdb failed (see $log)"
		}
		echo "include_if_exists 'pipechat.conf'" | pc_as_user tee -a "$PC_DB_DIR/postgresql.conf" >/dev/null
	fi
	pc_as_user tee "$PC_DB_DIR/pipechat.conf" >/dev/null <<CONF
# Written by scripts/run at each start; edit postgresql.conf for your own settings.
listen_addresses = ''
port = $PC_PG_PORT
unix_socket_directories = '${PC_SOCK//\'/\'\'}'
unix_socket_permissions = 0700
fsync = on
synchronous_commit = on
CONF
}

# pg_running: true when the cluster's postmaster is up.
pg_running() {
	[ -s "$PC_DB_DIR/PG_VERSION" ] || return 1
	pg_as_user "$PC_PGBIN/pg_ctl" status -D "$PC_DB_DIR" >/dev/null 2>&1
}

# pg_postmaster_pid: the pid in postmaster.pid, if any.
pg_postmaster_pid() {
	local pid
	pid=$(head -n 1 "$PC_DB_DIR/postmaster.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

# pg_start: starts the cluster and waits (60 s at most) until it accepts
# connections. The postmaster is spawned like every service (pc_spawn: as the
# service user, its output to log/postgres.log through a descriptor opened
# here, so the service user needs no access to $PIPECHAT_VAR/log), not by
# pg_ctl, which would give it a session of its own (stack.sh, at the top).
pg_start() {
	local i
	if ! pg_running; then
		PC_SPAWN_LOG=postgres pc_spawn db "$PC_PGBIN/postgres" -D "$PC_DB_DIR" || return 1
		for i in $(seq 1 600); do
			pg_ready && break
			pc_pid db >/dev/null || break
			sleep 0.1
		done
		pg_ready || {
			pc_log_tail postgres
			pc_warn "PostgreSQL did not start (see $PC_LOG/postgres.log)"
			return 1
		}
	fi
	pg_postmaster_pid >"$PC_RUN/db.pid" || true
}

# pg_ready: the postmaster accepts connections (the status line of
# postmaster.pid, which is what pg_ctl start -w reads).
pg_ready() {
	[[ $(sed -n 8p "$PC_DB_DIR/postmaster.pid" 2>/dev/null) == ready* ]]
}

# pg_stop: fast shutdown (sessions cut, nothing committed lost); SIGKILL if
# that does not finish within 30 s.
pg_stop() {
	local pid
	if pg_running; then
		pg_as_user "$PC_PGBIN/pg_ctl" stop -w -t 30 -s -m fast -D "$PC_DB_DIR" \
			</dev/null >>"$PC_LOG/postgres.log" 2>&1 || {
			pc_warn "PostgreSQL did not stop in 30 s: killing it"
			pid=$(pg_postmaster_pid) && kill -KILL "$pid" 2>/dev/null
		}
		PC_STOPPED="${PC_STOPPED:-} db"
	fi
	rm -f -- "$PC_RUN/db.pid"
}

# pg_kill: SIGKILL to the postmaster, as a crash would (svc kill db).
pg_kill() {
	local pid i
	pg_running || return 0
	pid=$(pg_postmaster_pid) || return 0
	kill -KILL "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f -- "$PC_RUN/db.pid"
}

# pg_psql DBNAME ARGS...: psql as the service user on DBNAME, stopping at the
# first error, quiet, without ~/.psqlrc. Reads the caller's stdin.
pg_psql() {
	local db=$1
	shift
	pg_as_user "$PC_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(pg_conninfo "$db")" "$@"
}

# pg_createdb: creates the database pipechat if it does not exist.
pg_createdb() {
	local have
	have=$(pg_psql postgres -At -c "SELECT 1 FROM pg_database WHERE datname = 'pipechat'")
	[ "$have" = 1 ] || pg_psql postgres -c "CREATE DATABASE pipechat"
}

# pg_psql_pipechat ARGS...: pg_psql on the database pipechat (for migrate_run).
pg_psql_pipechat() { pg_psql pipechat "$@"; }

# Starting, stopping and watching the services of one stack (db, broker, api,
# ws, web): each runs as the service user in a process group of its own (so a
# stop reaches its children), with a clean environment, stdin from /dev/null
# and stdout+stderr appended to $PIPECHAT_VAR/log/<name>.log; its pid goes to
# $PIPECHAT_VAR/run/<name>.pid. Started by scripts/run, all are in the one
# session scripts/run made for the stack (PC_STACK_SESSION=1): with the
# kernel's autogroup on, a session is a scheduling group, and one group lets
# a message's many wake-ups find a CPU sooner (docs/deploy.md, "Scheduler").
# Started alone (scripts/svc), a service gets a session of its own.
# Sourced after paths.sh and pg.sh. Not for: choosing paths (paths.sh).
#
# Every process carries PIPECHAT_STACK=<state folder> in its environment: a pid
# file is trusted only when /proc/<pid>/environ says so, so a recycled pid or
# another stack's process is never signalled. nginx is the one exception: it
# writes its process title over its argv and environment (setproctitle), so
# its marker is that title, which names the stack's own prefix folder.

PC_LOCK_FD=9

# pc_lock / pc_unlock: one scripts/run, stop or svc at a time per state folder.
# Services never inherit the lock's descriptor (every start closes fd 9).
pc_lock() {
	exec 9>>"$PC_RUN/lock"
	flock -w 300 9 || pc_die "another pipechat script is busy with $PIPECHAT_VAR (waited 5 min)"
}
pc_unlock() { exec 9>&-; }

# pc_log_tail NAME: the end of NAME's log (and any sanitizer report), on stderr.
pc_log_tail() {
	local f=$PC_LOG/$1.log
	[ -s "$f" ] || return 0
	printf 'pipechat: --- last lines of %s ---\n' "$f" >&2
	tail -n 25 -- "$f" | sed 's/^/  | /' >&2
	for f in "${PC_ULOG:-/nonexistent}"/asan.* "${PC_ULOG:-/nonexistent}"/ubsan.*; do
		[ -f "$f" ] || continue
		printf 'pipechat: --- sanitizer report %s ---\n' "$f" >&2
		head -n 30 -- "$f" | sed 's/^/  | /' >&2
	done
}

# pc_service_env NAME: the environment NAME runs with, one KEY=VALUE a line.
# The web server and the WebSocket workers never see the database or the
# secret; the workers get exactly these names through websocketd's --passenv.
pc_service_env() {
	local name=$1
	# ws2, ws3, ...: more websocketd, the same environment as ws.
	case $name in ws[0-9]*) name=ws ;; esac
	printf '%s\n' "PATH=$PC_CLEAN_PATH" "HOME=$PC_DATA" "LANG=C.UTF-8" "PIPECHAT_STACK=$PC_VAR"
	# PostgreSQL: what pg_as_user gives it, nothing of pipechat's settings.
	[ "$name" != db ] || return 0
	(
		# shellcheck disable=SC1091
		. "$PC_RUN/settings.env"
		for k in $(sed -n 's/^\(PIPECHAT_[A-Z0-9_]*\)=.*/\1/p' "$PC_RUN/settings.env"); do
			case $name:$k in
			ws:PIPECHAT_METRICS_TOKEN | web:PIPECHAT_METRICS_TOKEN) continue ;;
			ws:PIPECHAT_TURN_SECRET_FILE | web:PIPECHAT_TURN_SECRET_FILE) continue ;;
			esac
			printf '%s=%s\n' "$k" "${!k}"
		done
	)
	case $name in
	ws | web) ;;
	*) printf '%s\n' "PIPECHAT_DB=$PIPECHAT_DB" "PIPECHAT_SECRET_FILE=$PIPECHAT_SECRET_FILE" ;;
	esac
	echo "PIPECHAT_BROKER_DIR=$PIPECHAT_BROKER_DIR"
	if [ "$PC_SANITIZE" = 1 ] && [ "$name" != web ]; then
		echo "ASAN_OPTIONS=detect_leaks=1:log_path=$PC_ULOG/asan"
		echo "UBSAN_OPTIONS=print_stacktrace=1:log_path=$PC_ULOG/ubsan"
	fi
	if [ "$name" = web ]; then
		printf '%s\n' "PIPECHAT_BIND=$PC_BIND" "PIPECHAT_WWW=$PC_WWW" \
			"PIPECHAT_API_SOCKET=$PC_API_SOCK" "PIPECHAT_WS_PORT=$PC_WS_PORT" \
			"PIPECHAT_WS_PORTS=$(pc_ws_ports | paste -sd,)" \
			"PIPECHAT_LIGHTTPD_DIR=$PC_WEB_CONF_DIR"
	fi
}

# pc_pid_is_ours PID: PID is alive (not a zombie) and belongs to this stack.
# An empty environment is a zombie, or a process inside execve (pc_spawn's
# pid runs sh, setpriv, env and the service in turn; between the two halves
# of an exec the new image's environment is not mapped yet): it is looked at
# again a few times before the answer is no.
pc_pid_is_ours() {
	local try env
	for try in 1 2 3 4 5; do
		[ -r "/proc/$1/environ" ] || return 1
		env=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/environ") || return 1
		grep -qxF "PIPECHAT_STACK=$PC_VAR" <<<"$env" && return 0
		# nginx (see the top): "nginx: master process nginx -e stderr -p PREFIX/ -c ...".
		[ -n "${PC_NGINX_PREFIX:-}" ] &&
			grep -qF -- " -p $PC_NGINX_PREFIX/ " < <(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") &&
			return 0
		[ -z "$env" ] || return 1
		sleep 0.02
	done
	return 1
}

# pc_pid NAME: prints NAME's pid when it runs.
pc_pid() {
	local pid
	pid=$(cat "$PC_RUN/$1.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && pc_pid_is_ours "$pid" && echo "$pid"
}

# pc_spawn NAME CMD...: starts CMD in the background as NAME (see the top);
# its output goes to NAME.log, or PC_SPAWN_LOG.log when that is set.
# The pid is written by the process itself before it execs into CMD, so it is
# right whether or not setsid had to fork.
pc_spawn() {
	local name=$1 i
	shift
	local pidf=$PC_RUN/$name.pid log=$PC_LOG/${PC_SPAWN_LOG:-$name}.log
	local -a envv drop=()
	mapfile -t envv < <(pc_service_env "$name")
	[ "$PC_IS_ROOT" = 1 ] &&
		drop=(setpriv --reuid="$PC_SVC_USER" --regid="$PC_SVC_GROUP" --init-groups --)
	rm -f -- "$pidf"
	printf '%s pipechat: starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
	(
		cd / && export PIPECHAT_STACK="$PC_VAR" &&
			exec "$PC_CHECKOUT/scripts/lib/own-pgrp" sh -c 'echo $$ >"$0.new" && mv -f "$0.new" "$0" && exec "$@"' "$pidf" \
				"${drop[@]}" env -i --default-signal "${envv[@]}" "$@"
	) </dev/null >>"$log" 2>&1 9>&- &
	for i in $(seq 1 50); do
		[ -s "$pidf" ] && return 0
		sleep 0.1
	done
	pc_warn "$name did not start"
	return 1
}

# pc_wait_gone PID SECONDS: waits until PID has exited; false on timeout.
pc_wait_gone() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		pc_pid_is_ours "$1" || return 0
		sleep 0.1
	done
	! pc_pid_is_ours "$1"
}

# pc_stop_service NAME: SIGTERM to NAME's process group (websocketd's workers
# included), SIGKILL after 5 s; removes the pid file.
pc_stop_service() {
	local name=$1 pid
	if pid=$(pc_pid "$name"); then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		if ! pc_wait_gone "$pid" 5; then
			pc_warn "$name (pid $pid) did not stop on SIGTERM within 5 s: killing it"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			pc_wait_gone "$pid" 3 || pc_warn "$name (pid $pid) is still there"
		fi
		# Stragglers of the group (workers that ignored SIGTERM).
		kill -KILL -- "-$pid" 2>/dev/null || true
		PC_STOPPED="${PC_STOPPED:-} $name"
	fi
	rm -f -- "$PC_RUN/$name.pid"
}

# pc_kill_service NAME: SIGKILL to NAME's main process only, as a crash would.
# nginx's workers outlive their master and keep the port, so for nginx the
# whole process group goes: the web server crashed, and can be started again.
pc_kill_service() {
	local name=$1 pid
	if pid=$(pc_pid "$name"); then
		if [ "$name:${PC_WEB:-lighttpd}" = web:nginx ]; then
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		else
			kill -KILL "$pid" 2>/dev/null || true
		fi
		pc_wait_gone "$pid" 5 || true
	fi
	rm -f -- "$PC_RUN/$name.pid"
}

# pc_ws_passenv: websocketd's --passenv list (the workers' environment names).
pc_ws_passenv() { pc_service_env ws | cut -d= -f1 | grep -vx HOME | paste -sd ,; }

# The start functions, one per service (svc_start_<name>).
svc_start_db() { pg_start; }
svc_start_broker() { pc_spawn broker "$(pc_bin broker)"; }
svc_start_api() {
	rm -f -- "$PC_API_SOCK"
	pc_spawn api spawn-fcgi -n -s "$PC_API_SOCK" -M 0600 -- "$(pc_bin api)"
}
# pc_ws_setting NAME DEFAULT: NAME from the stack's settings, or DEFAULT.
pc_ws_setting() {
	# shellcheck disable=SC1091
	(. "$PC_RUN/settings.env" && eval "echo \"\${$1:-$2}\"")
}

# pc_ws_max_workers: PIPECHAT_MAX_WORKERS from the stack's settings (default
# 4000): the most workers (sockets) at once, over all websocketd processes;
# the socket past it is refused at the upgrade with 429 (websocketd's
# --maxforks, divided among the processes), so a flood of connections costs
# at most that many processes. A worker is one thread with ipc:// brokers
# (common/splink.h), 7 with a tcp:// or tls+tcp:// one (libnng's small
# pool, scripts/lib/nng.sh; 14 with Debian's), and every thread takes one of
# kernel.pid_max's pids (32,768 by default): 4,000 such workers are 28,000
# threads. More needs a raised pid_max (as root: sysctl
# kernel.pid_max=4194304, see deploy/systemd/99-pipechat.conf).
pc_ws_max_workers() {
	local v
	v=$(pc_ws_setting PIPECHAT_MAX_WORKERS 4000)
	if ! [[ $v =~ ^[0-9]{1,7}$ ]] || [ "$v" -lt 1 ] || [ "$v" -gt 1000000 ]; then
		pc_warn "PIPECHAT_MAX_WORKERS=$v: want a number of processes, 1-1000000"
		return 1
	fi
	echo "$((10#$v))"
}

# PC_WS_PER_PROC: sockets one websocketd holds. It keeps about four
# descriptors per socket (the connection and the worker's three pipes) under
# this machine's hard limit of 20,000 per process (FACTS.md): 4,000 leaves
# room for the rest.
PC_WS_PER_PROC=4000

# pc_ws_procs: PIPECHAT_WS_PROCS from the stack's settings: how many
# websocketd processes run behind the web server (1-64); default
# PIPECHAT_MAX_WORKERS / 4,000 rounded up (1 for the default 4,000).
pc_ws_procs() {
	local v max
	max=$(pc_ws_max_workers) || return 1
	v=$(pc_ws_setting PIPECHAT_WS_PROCS $(((max + PC_WS_PER_PROC - 1) / PC_WS_PER_PROC)))
	if ! [[ $v =~ ^[0-9]{1,2}$ ]] || [ "$((10#$v))" -lt 1 ] || [ "$((10#$v))" -gt 64 ]; then
		pc_warn "PIPECHAT_WS_PROCS=$v: want 1-64 websocketd processes"
		return 1
	fi
	[ "$(((max + 10#$v - 1) / 10#$v))" -le "$PC_WS_PER_PROC" ] ||
		pc_warn "PIPECHAT_WS_PROCS=$v for PIPECHAT_MAX_WORKERS=$max: more than $PC_WS_PER_PROC" \
			"sockets per websocketd, which may run out of descriptors"
	echo "$((10#$v))"
}

# pc_ws_sched: PIPECHAT_WS_SCHED from the stack's settings ("batch", the
# default, or "other"), checked by scripts/lib/ws-sched, which starts every
# websocketd under it; its workers inherit it. A SCHED_BATCH task that wakes
# does not preempt the one running; it waits until that one sleeps or its
# slice ends. So a broker batch's copies go out before the workers run, and
# websocketd reads the lines of many workers per wake-up, where each worker
# would otherwise preempt the broker, and websocketd each worker, one
# message at a time: 25% less CPU per acknowledged message (bench/README.md,
# "Session 13").
pc_ws_sched() {
	local v
	v=$(pc_ws_setting PIPECHAT_WS_SCHED batch)
	"$PC_CHECKOUT/scripts/lib/ws-sched" "$v" || return 1
	echo "$v"
}

# pc_ws_names: the service names of the websocketd processes: ws (the
# first: tests and scripts look for its pid), ws2, ws3, ... All log to ws.log.
pc_ws_names() {
	local n i
	n=$(pc_ws_procs) || return 1
	echo ws
	for ((i = 2; i <= n; i++)); do echo "ws$i"; done
}

# pc_ws_all_names: pc_ws_names plus any wsN with a pid file (left by a run
# with more processes), so stop reaches them all.
pc_ws_all_names() {
	local f
	{
		pc_ws_names 2>/dev/null || echo ws
		for f in "$PC_RUN"/ws[0-9]*.pid; do
			[ -f "$f" ] && basename -- "$f" .pid
		done
	} | awk '!seen[$0]++'
}

# pc_ws_ports: one port per websocketd, in pc_ws_names order: PC_WS_PORT
# (chosen by scripts/run) and, for the others, free ports chosen at their
# first start and kept in $PC_RUN/ws-ports for this run (the web server's
# configuration lists them all).
pc_ws_ports() {
	local n f=$PC_RUN/ws-ports p
	local -a ports=()
	n=$(pc_ws_procs) || return 1
	[ -f "$f" ] && read -r -a ports <"$f"
	if [ "${ports[0]:-}" != "$PC_WS_PORT" ] || [ "${#ports[@]}" -ne "$n" ]; then
		ports=("$PC_WS_PORT")
		while [ "${#ports[@]}" -lt "$n" ]; do
			p=$(pc_free_port)
			[[ " ${ports[*]} ${PC_WEB_PORT:-} ${PC_PG_PORT:-} " == *" $p "* ]] || ports+=("$p")
		done
		echo "${ports[*]}" >"$f.new" && mv -f -- "$f.new" "$f"
	fi
	printf '%s\n' "${ports[@]}"
}

# svc_start_ws: starts every websocketd (pc_ws_names) that is not running,
# each on its port with its share of PIPECHAT_MAX_WORKERS, under the policy
# of pc_ws_sched.
svc_start_ws() {
	local max n per name port i policy
	local -a names ports
	max=$(pc_ws_max_workers) || return 1
	n=$(pc_ws_procs) || return 1
	per=$(((max + n - 1) / n))
	policy=$(pc_ws_sched) || return 1
	mapfile -t names < <(pc_ws_names)
	mapfile -t ports < <(pc_ws_ports)
	for ((i = 0; i < n; i++)); do
		name=${names[$i]}
		port=${ports[$i]}
		pc_pid "$name" >/dev/null && continue
		PC_SPAWN_LOG=ws pc_spawn "$name" "$PC_CHECKOUT/scripts/lib/ws-sched" "$policy" websocketd --address=127.0.0.1 --port="$port" \
			--maxforks="$per" --passenv="$(pc_ws_passenv)" "$(pc_bin ws)" || return 1
	done
}

# pc_ws_running: every websocketd of pc_ws_names runs.
pc_ws_running() {
	local name
	for name in $(pc_ws_names); do pc_pid "$name" >/dev/null || return 1; done
}

# pc_ws_listening: every websocketd's port takes connections.
pc_ws_listening() {
	local port
	for port in $(pc_ws_ports); do pc_port_listening "$port" || return 1; done
}

# pc_ws_nginx_backends: the `server` lines of every websocketd but the first
# (the template has that one), in PC_WEB_CONF_DIR/pipechat-ws-backends.conf,
# which the template includes; no file for one websocketd.
pc_ws_nginx_backends() {
	local f=$PC_WEB_CONF_DIR/pipechat-ws-backends.conf
	rm -f -- "$f"
	pc_ws_ports | tail -n +2 | sed 's/.*/server 127.0.0.1:&;/' >"$f.new"
	if [ -s "$f.new" ]; then
		chmod 0644 -- "$f.new" && mv -f -- "$f.new" "$f"
	else
		rm -f -- "$f.new"
	fi
}
svc_start_web() {
	case ${PC_WEB:-lighttpd} in
	nginx)
		# Foreground (daemon off), pid and temporary files in the prefix,
		# errors on stderr from the first line on (-e).
		pc_ws_nginx_backends
		pc_spawn web nginx -e stderr -p "$PC_NGINX_PREFIX/" -c "$PC_WEB_CONF_DIR/pipechat.conf" \
			-g 'daemon off;'
		;;
	*) pc_spawn web lighttpd -D -f "$PC_WEB_CONF_DIR/pipechat.conf" ;;
	esac
}

# pc_valid_service NAME: true for db, broker, api, ws, web.
pc_valid_service() { case " $PC_SERVICES " in *" $1 "*) return 0 ;; esac; return 1; }

# pc_service_running NAME: true when NAME runs.
pc_service_running() {
	case $1 in
	db) pg_running ;;
	ws) pc_ws_running ;;
	*) pc_pid "$1" >/dev/null ;;
	esac
}

# pc_service_stop NAME / pc_service_kill NAME.
# ws: every websocketd (pc_ws_all_names).
pc_service_stop() {
	local n
	case $1 in
	db) pg_stop ;;
	ws) for n in $(pc_ws_all_names); do pc_stop_service "$n"; done ;;
	*) pc_stop_service "$1" ;;
	esac
}
pc_service_kill() {
	local n
	case $1 in
	db) pg_kill ;;
	ws) for n in $(pc_ws_all_names); do pc_kill_service "$n"; done ;;
	*) pc_kill_service "$1" ;;
	esac
}

# pc_service_start NAME: starts NAME unless it runs; waits until it listens
# (db: accepts connections; api: its socket exists; ws, web: their port).
pc_service_start() {
	local name=$1 i
	pc_service_running "$name" && return 0
	pc_runtime_copy "$name"
	"svc_start_$name" || return 1
	for i in $(seq 1 100); do
		pc_service_running "$name" || {
			pc_warn "$name exited at start"
			pc_log_tail "$name"
			return 1
		}
		case $name in
		db | broker) return 0 ;;
		api) [ -S "$PC_API_SOCK" ] && return 0 ;;
		ws) pc_ws_listening && return 0 ;;
		web) pc_port_listening "$PC_WEB_PORT" && return 0 ;;
		esac
		sleep 0.1
	done
	pc_warn "$name did not come up within 10 s"
	pc_log_tail "$name"
	return 1
}

# stack_stop_all: stops every service of the stack (web first, the database
# last); sets PC_STOPPED to the names that were running.
stack_stop_all() {
	local name
	PC_STOPPED=""
	for name in web $(pc_ws_all_names) api broker; do
		pc_stop_service "$name"
	done
	pg_stop
	rm -f -- "$PC_API_SOCK" "$PC_RUN/owner"
}

# pc_url_host: the host part of the URL the web server answers on.
pc_url_host() {
	case $PC_BIND in
	'' | 0.0.0.0 | 127.0.0.1) echo 127.0.0.1 ;;
	:: | ::1) echo '[::1]' ;;
	*:*) echo "[$PC_BIND]" ;;
	*) echo "$PC_BIND" ;;
	esac
}

# stack_wait_ready SECONDS: waits until GET /api/health through the web server
# answers 200; on failure shows the log of the service at fault.
stack_wait_ready() {
	local deadline=$((SECONDS + $1)) name code=000 url
	url="http://$(pc_url_host):$PC_WEB_PORT/api/health"
	while :; do
		pg_running || {
			pc_warn "PostgreSQL stopped during start-up"
			pc_log_tail postgres
			return 1
		}
		for name in broker api $(pc_ws_names) web; do
			pc_pid "$name" >/dev/null || {
				pc_warn "$name exited during start-up"
				pc_log_tail "$name"
				return 1
			}
		done
		code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -m 3 "$url" 2>/dev/null) || true
		[ "$code" = 200 ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			pc_warn "no 200 from $url within $1 s (last answer: ${code:-none})"
			for name in api web postgres; do pc_log_tail "$name"; done
			return 1
		fi
		sleep 0.3
	done
}

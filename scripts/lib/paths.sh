# The service user and where a stack keeps its files. Sourced after common.sh.
# Not for: starting anything (stack.sh, pg.sh).
#
# As root the services run as the system user `pipechat`; otherwise as the
# caller. That user must reach the state folder, the binaries and www/. When it
# cannot (a checkout under /root, mode 0700), the database, secret and sockets go
# to /var/tmp/pipechat-<hash of $PIPECHAT_VAR> (symlink $PIPECHAT_VAR/runtime)
# and the binaries, www/ and the web server configuration are copied there at
# each start. Unix socket paths are limited to 107 bytes, so a long socket folder
# moves to /tmp/pipechat-<hash>. With PIPECHAT_WEB=nginx the nginx configuration
# is rendered from deploy/nginx/ into <private folder>/etc/nginx at each start
# (nginx reads no environment), and nginx keeps its pid and temporary files in
# <private folder>/nginx (its -p prefix). Everything chosen is written to
# $PIPECHAT_VAR/run/paths.env, which scripts/stop, scripts/svc and
# scripts/migrate read back.

# pc_user_init: PC_IS_ROOT, PC_SVC_USER, PC_SVC_GROUP; creates the system user
# when root and it is missing.
pc_user_init() {
	if [ "$(id -u)" -eq 0 ]; then
		PC_IS_ROOT=1
		PC_SVC_USER=pipechat
		if ! id -u "$PC_SVC_USER" >/dev/null 2>&1; then
			pc_say "creating system user $PC_SVC_USER"
			# A run for another state folder may create it at the same moment.
			useradd --system --no-create-home --shell /usr/sbin/nologin "$PC_SVC_USER" ||
				id -u "$PC_SVC_USER" >/dev/null 2>&1 || pc_die "could not create user $PC_SVC_USER"
		fi
		PC_SVC_GROUP=$(id -gn "$PC_SVC_USER")
	else
		PC_IS_ROOT=0
		PC_SVC_USER=$(id -un)
		PC_SVC_GROUP=$(id -gn)
	fi
}

# pc_as_user CMD...: runs CMD as the service user (from /, with HOME at the
# stack's private folder), or as is when not root. setpriv execs, so a
# backgrounded pc_as_user keeps the command's pid.
pc_as_user() {
	if [ "$PC_IS_ROOT" = 1 ]; then
		(cd / && exec setpriv --reuid="$PC_SVC_USER" --regid="$PC_SVC_GROUP" --init-groups -- \
			env HOME="${PC_DATA:-/}" "$@")
	else
		"$@"
	fi
}

# pc_as_user_here CMD...: like pc_as_user, but stays in the current directory
# when the service user may enter it (for `svc psql -f relative.sql`).
pc_as_user_here() {
	if [ "$PC_IS_ROOT" = 1 ] && pc_as_user test -x "$PWD"; then
		setpriv --reuid="$PC_SVC_USER" --regid="$PC_SVC_GROUP" --init-groups -- \
			env HOME="${PC_DATA:-/}" "$@"
	else
		pc_as_user "$@"
	fi
}

# pc_user_can_enter DIR / pc_user_can_run FILE / pc_user_can_read_tree DIR.
pc_user_can_enter() { pc_as_user test -d "$1" -a -x "$1"; }
pc_user_can_run() { pc_as_user test -f "$1" -a -r "$1" -a -x "$1"; }
pc_user_can_read_tree() {
	pc_as_user test -d "$1" -a -r "$1" -a -x "$1" || return 1
	[ -z "$(pc_as_user find "$1" \( -type d \( ! -readable -o ! -executable \) \) -o \
		\( ! -type d ! -readable \) -print -quit 2>/dev/null)" ]
}

# pc_private_dir DIR MODE: DIR exists, is no symlink, belongs to the service
# user and has MODE. Refuses a folder some other user made (/tmp, /var/tmp).
pc_private_dir() {
	local d=$1 mode=$2 owner
	[ -L "$d" ] && pc_die "$d is a symbolic link; refusing to use it"
	mkdir -p -- "$d"
	owner=$(stat -c %U -- "$d")
	if [ "$owner" != "$PC_SVC_USER" ]; then
		[ "$PC_IS_ROOT" = 1 ] && [ "$owner" = root ] ||
			pc_die "$d belongs to $owner, not $PC_SVC_USER; remove it or choose another PIPECHAT_VAR"
		chown "$PC_SVC_USER:$PC_SVC_GROUP" -- "$d"
	fi
	chmod "$mode" -- "$d"
}

PC_BIN_NAMES="broker:broker/pipechat-broker api:fcgi-api/pipechat-api ws:ws-worker/pipechat-ws"

# pc_build_bin NAME: the path of NAME's binary (broker, api, ws) in PIPECHAT_BUILD.
pc_build_bin() {
	local row
	for row in $PC_BIN_NAMES; do
		[ "${row%%:*}" = "$1" ] && {
			echo "$PIPECHAT_BUILD/${row#*:}"
			return 0
		}
	done
	return 1
}

# pc_build_is_sanitized DIR: true when DIR was configured with PIPECHAT_SANITIZE=ON.
pc_build_is_sanitized() { grep -qx 'PIPECHAT_SANITIZE:BOOL=ON' "$1/CMakeCache.txt" 2>/dev/null; }

# pc_paths_compute: chooses every path of the stack in $PIPECHAT_VAR (see the top
# of this file) and creates $PIPECHAT_VAR/{run,log}. Needs pc_user_init.
pc_paths_compute() {
	local var=$PIPECHAT_VAR name bin
	PC_VAR=$var
	PC_RUN=$var/run
	PC_LOG=$var/log
	PC_HASH=$(pc_hash8 "$var")
	mkdir -p -- "$var" "$PC_RUN" "$PC_LOG"
	chmod 0700 -- "$PC_RUN" # pid files, settings (the metrics token)
	if pc_user_can_enter "$var"; then
		PC_DATA=$var
	else
		PC_DATA=/var/tmp/pipechat-$PC_HASH
	fi
	PC_ULOG=$PC_DATA/log # logs the services write themselves (sanitizers)
	PC_SOCK=$PC_DATA/sock
	# The broker names its own sockets in sock/broker/: leave it ~25 bytes.
	if [ ${#PC_SOCK} -gt 70 ] || ! [[ $PC_SOCK =~ ^[A-Za-z0-9_./-]+$ ]]; then
		PC_SOCK=/tmp/pipechat-$PC_HASH
	fi
	PC_DB_DIR=$PC_DATA/db
	PC_API_SOCK=$PC_SOCK/api.sock
	PIPECHAT_SECRET_FILE=$PC_DATA/secret/jwt.key
	PIPECHAT_BROKER_DIR=$PC_SOCK/broker

	PC_BIN_COPY=0
	for name in broker api ws; do
		bin=$(pc_build_bin "$name")
		[ -x "$bin" ] || pc_die "$bin is missing: build first (unset PIPECHAT_SKIP_BUILD) or set PIPECHAT_BUILD"
		pc_user_can_run "$bin" || PC_BIN_COPY=1
	done
	PC_BIN_DIR=$PIPECHAT_BUILD
	[ "$PC_BIN_COPY" = 1 ] && PC_BIN_DIR=$PC_DATA/bin
	PC_WWW=$PC_CHECKOUT/www
	PC_WWW_COPY=0
	[ -d "$PC_WWW" ] || pc_warn "$PC_WWW is missing: serving an empty folder"
	if ! pc_user_can_read_tree "$PC_WWW"; then
		PC_WWW_COPY=1
		PC_WWW=$PC_DATA/www
	fi
	PC_WEB=${PIPECHAT_WEB:-lighttpd}
	PC_NGINX_PREFIX=""
	if [ "$PC_WEB" = nginx ]; then
		# Always a rendered copy: see pc_nginx_render.
		PC_WEB_CONF_DIR=$PC_DATA/etc/nginx
		PC_WEB_CONF_COPY=1
		PC_NGINX_PREFIX=$PC_DATA/nginx
	else
		PC_WEB_CONF_DIR=$PC_CHECKOUT/deploy/lighttpd
		PC_WEB_CONF_COPY=0
		if ! pc_user_can_read_tree "$PC_WEB_CONF_DIR"; then
			PC_WEB_CONF_COPY=1
			PC_WEB_CONF_DIR=$PC_DATA/etc/lighttpd
		fi
	fi
	PC_SANITIZE=0
	pc_build_is_sanitized "$PIPECHAT_BUILD" && PC_SANITIZE=1
	return 0
}

# pc_bin NAME: the binary the service user runs for NAME (broker, api, ws).
pc_bin() {
	if [ "$PC_BIN_COPY" = 1 ]; then
		echo "$PC_BIN_DIR/pipechat-$1"
	else
		pc_build_bin "$1"
	fi
}

# pc_paths_prepare: creates the private folders with their owners and modes.
pc_paths_prepare() {
	if [ "$PC_DATA" != "$PC_VAR" ]; then
		pc_private_dir "$PC_DATA" 0700
		ln -sfn -- "$PC_DATA" "$PC_VAR/runtime"
	fi
	pc_private_dir "$PC_DB_DIR" 0700
	pc_private_dir "$(dirname "$PIPECHAT_SECRET_FILE")" 0700
	pc_private_dir "$PC_SOCK" 0700
	pc_private_dir "$PIPECHAT_BROKER_DIR" 0700
	pc_private_dir "$PC_ULOG" 0755
	[ -z "$PC_NGINX_PREFIX" ] || pc_private_dir "$PC_NGINX_PREFIX" 0700
}

# pc_copy_tree SRC DST: DST becomes a world-readable copy of SRC (replaced whole).
pc_copy_tree() {
	rm -rf -- "$2.new"
	mkdir -p -- "$(dirname "$2")"
	if [ -d "$1" ]; then cp -R -- "$1" "$2.new"; else mkdir -- "$2.new"; fi
	chmod -R u=rwX,go=rX -- "$2.new"
	rm -rf -- "$2"
	mv -- "$2.new" "$2"
}

# pc_runtime_copy [NAME...]: copies what the service user cannot reach into the
# private folder: the binaries of the NAMEs given (default all), www/ and the
# web server configuration. A running binary is replaced by rename, never rewritten.
pc_runtime_copy() {
	local name names=${*:-broker api ws web}
	for name in $names; do
		case $name in
		broker | api | ws)
			[ "$PC_BIN_COPY" = 1 ] || continue
			mkdir -p -- "$PC_BIN_DIR"
			chmod 0755 -- "$PC_BIN_DIR"
			install -m 0755 -- "$(pc_build_bin "$name")" "$PC_BIN_DIR/.pipechat-$name.new"
			mv -f -- "$PC_BIN_DIR/.pipechat-$name.new" "$PC_BIN_DIR/pipechat-$name"
			;;
		web)
			[ "$PC_WWW_COPY" = 1 ] && pc_copy_tree "$PC_CHECKOUT/www" "$PC_WWW"
			if [ "${PC_WEB:-lighttpd}" = nginx ]; then
				pc_nginx_render
			elif [ "$PC_WEB_CONF_COPY" = 1 ]; then
				pc_copy_tree "$PC_CHECKOUT/deploy/lighttpd" "$PC_WEB_CONF_DIR"
			fi
			;;
		esac
	done
	return 0
}

# pc_nginx_listen: nginx's `listen` value for PC_BIND and PC_WEB_PORT.
pc_nginx_listen() {
	case $PC_BIND in
	'') echo "$PC_WEB_PORT" ;;
	\[*) echo "$PC_BIND:$PC_WEB_PORT" ;;
	*:*) echo "[$PC_BIND]:$PC_WEB_PORT" ;;
	*) echo "$PC_BIND:$PC_WEB_PORT" ;;
	esac
}

# pc_nginx_render: writes deploy/nginx/pipechat.conf with every @NAME@ replaced
# (see the top of that file) and pipechat-locations.conf into PC_WEB_CONF_DIR,
# world-readable, replacing the folder whole. A value that nginx would read as
# syntax (quotes, ;, {}, $, #, backslash) is refused, not escaped.
pc_nginx_render() {
	local src=$PC_CHECKOUT/deploy/nginx dst=$PC_WEB_CONF_DIR row k v
	local -a rows=("PIPECHAT_LISTEN=$(pc_nginx_listen)" "PIPECHAT_WWW=$PC_WWW"
		"PIPECHAT_API_SOCKET=$PC_API_SOCK" "PIPECHAT_WS_PORT=$PC_WS_PORT")
	local -a sedargs=()
	local ok='^[][A-Za-z0-9_./:@%+,=~ -]+$'
	for row in "${rows[@]}"; do
		k=${row%%=*}
		v=${row#*=}
		[[ $v =~ $ok ]] ||
			pc_die "$k=$v: nginx cannot take this value (use letters, digits, spaces and _./:@%+,=~- only)"
		# sed: escape the replacement's special characters (\ & |).
		v=$(printf '%s' "$v" | sed 's/[\\&|]/\\&/g')
		sedargs+=(-e "s|@$k@|$v|g")
	done
	rm -rf -- "$dst.new"
	mkdir -p -- "$dst.new"
	sed "${sedargs[@]}" -- "$src/pipechat.conf" >"$dst.new/pipechat.conf"
	cp -- "$src/pipechat-locations.conf" "$dst.new/"
	if grep -n '@PIPECHAT_[A-Z_]*@' -- "$dst.new/pipechat.conf" >&2; then
		pc_die "$src/pipechat.conf: a placeholder above has no value"
	fi
	chmod -R u=rwX,go=rX -- "$dst.new"
	rm -rf -- "$dst"
	mv -- "$dst.new" "$dst"
}

# pc_paths_write: records the chosen paths (and the service settings, kept
# apart in settings.env) so later commands use the same ones.
pc_paths_write() {
	local k
	{
		echo "# Written by scripts/run: where the stack in $PC_VAR keeps its state."
		echo "# Shell syntax (bash: source; Python: shlex.split on each line)."
		for k in PC_VAR PC_RUN PC_LOG PC_HASH PC_DATA PC_ULOG PC_SOCK PC_DB_DIR PC_PG_PORT \
			PC_API_SOCK PC_WS_PORT PC_WEB_PORT PC_BIND PC_SVC_USER PC_SVC_GROUP PC_IS_ROOT \
			PC_BIN_COPY PC_BIN_DIR PC_WWW PC_WWW_COPY PC_WEB PC_WEB_CONF_DIR PC_WEB_CONF_COPY \
			PC_NGINX_PREFIX PC_SANITIZE PIPECHAT_BUILD PIPECHAT_DB PIPECHAT_SECRET_FILE PIPECHAT_BROKER_DIR; do
			pc_kv "$k" "${!k}"
		done
	} >"$PC_RUN/paths.env.new"
	mv -f -- "$PC_RUN/paths.env.new" "$PC_RUN/paths.env"
	{
		echo "# Written by scripts/run: the settings every service of this stack gets."
		pc_service_settings
	} >"$PC_RUN/settings.env.new"
	mv -f -- "$PC_RUN/settings.env.new" "$PC_RUN/settings.env"
}

# pc_paths_load: reads $PIPECHAT_VAR/run/paths.env back; returns 1 when there is none.
pc_paths_load() {
	local f=$PIPECHAT_VAR/run/paths.env
	[ -f "$f" ] || return 1
	# shellcheck disable=SC1090
	. "$f"
	# The file says who runs the services; who runs this command is asked anew.
	if [ "$(id -u)" -eq 0 ]; then
		PC_IS_ROOT=1
	else
		PC_IS_ROOT=0
		[ "$PC_SVC_USER" = "$(id -un)" ] ||
			pc_die "the stack in $PIPECHAT_VAR runs as $PC_SVC_USER: run this as root"
	fi
	return 0
}

# pc_secret_ensure: the JWT secret, 64 random bytes in a file only the service
# user reads (mode 0600 in a 0700 folder), created if missing. The API creates
# it too (O_EXCL) when it starts first; either way there is one secret.
pc_secret_ensure() {
	local f=$PIPECHAT_SECRET_FILE
	if [ ! -s "$f" ]; then
		pc_as_user sh -c 'umask 077 && head -c 64 /dev/urandom >"$0.new" && mv -f "$0.new" "$0"' "$f" ||
			pc_die "could not create the secret $f"
		pc_say "created the JWT secret $f"
	fi
	[ "$PC_IS_ROOT" = 0 ] || chown "$PC_SVC_USER:$PC_SVC_GROUP" -- "$f"
	chmod 0600 -- "$f"
}

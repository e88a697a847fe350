# Shared by every pipechat script: where the checkout is, messages, settings
# (environment first, then $PIPECHAT_VAR/pipechat.env, then defaults), small
# helpers for ports, hashes and quoting. Not for: anything that starts or stops
# a service (see stack.sh, pg.sh) or knows about users and paths (paths.sh).
#
# Sourced, never executed. The caller runs `set -euo pipefail`.

PC_CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
PC_PGBIN=/usr/lib/postgresql/15/bin
PC_CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The services, in start order; stop goes the other way.
PC_SERVICES="db broker api ws web"
# Settings used by the scripts themselves and never handed to the services.
# (PIPECHAT_BIND goes to the web server only, through paths.env.)
PC_SCRIPT_SETTINGS="PIPECHAT_VAR PIPECHAT_BUILD PIPECHAT_SKIP_BUILD PIPECHAT_SANITIZE
PIPECHAT_WEB PIPECHAT_BIND PIPECHAT_STACK"
# Set by scripts/run from the chosen paths; a value from the environment is ignored.
PC_DERIVED_SETTINGS="PIPECHAT_DB PIPECHAT_SECRET_FILE PIPECHAT_BROKER_DIR"

umask 022

pc_say() { printf 'pipechat: %s\n' "$*"; }
pc_warn() { printf 'pipechat: %s\n' "$*" >&2; }
pc_die() {
	pc_warn "$*"
	exit 1
}

# pc_abspath PATH: PATH made absolute against the current directory (need not exist).
pc_abspath() { realpath -m -- "$1"; }

# pc_hash8 STRING: the first 8 hex digits of STRING's sha256.
pc_hash8() { printf '%s' "$1" | sha256sum | cut -c1-8; }

# pc_kv KEY VALUE: one KEY=VALUE line that both bash (source) and Python's shlex
# read back unchanged; values with anything but safe characters are single-quoted.
pc_kv() {
	local v=$2
	if [[ $v =~ ^[A-Za-z0-9_./:,@%+=-]*$ ]]; then
		printf '%s=%s\n' "$1" "$v"
	else
		printf "%s='%s'\n" "$1" "${v//\'/\'\\\'\'}"
	fi
}

# pc_port_listening PORT: true when some TCP socket listens on PORT (any address).
pc_port_listening() {
	local hex
	hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v h="$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }'
}

# pc_free_port: a TCP port nobody listens on, below the kernel's ephemeral range
# (32768-60999) so outgoing connections never hold it.
pc_free_port() {
	local i p
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 12000))
		pc_port_listening "$p" || {
			echo "$p"
			return 0
		}
	done
	pc_die "no free TCP port found between 20000 and 32000"
}

# pc_settings_file_load FILE: KEY=VALUE lines (comments, blank lines, `export `,
# and quotes around the value allowed). Only PIPECHAT_* keys; a key already in
# the environment keeps its value (the environment wins).
pc_settings_file_load() {
	local f=$1 line key val n=0
	[ -f "$f" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%$'\r'}
		line=${line#"${line%%[![:space:]]*}"}
		case $line in '' | '#'*) continue ;; esac
		line=${line#export }
		key=${line%%=*}
		val=${line#*=}
		if [ "$key" = "$line" ] || ! [[ $key =~ ^PIPECHAT_[A-Z0-9_]+$ ]]; then
			pc_warn "$f:$n: ignored (want PIPECHAT_NAME=value): $line"
			continue
		fi
		if [ "$key" = PIPECHAT_VAR ]; then
			pc_warn "$f:$n: PIPECHAT_VAR cannot be set in the file it lives in; ignored"
			continue
		fi
		case $val in
		\"*\") val=${val:1:${#val}-2} ;;
		\'*\') val=${val:1:${#val}-2} ;;
		esac
		[ -n "${!key+x}" ] || export "$key=$val"
	done <"$f"
}

# pc_settings_init: PIPECHAT_VAR made absolute, the settings file read, defaults
# filled in and checked. Exports everything it sets.
pc_settings_init() {
	PIPECHAT_VAR=$(pc_abspath "${PIPECHAT_VAR:-$PC_CHECKOUT/var}")
	export PIPECHAT_VAR
	pc_settings_file_load "$PIPECHAT_VAR/pipechat.env"
	export PIPECHAT_PORT=${PIPECHAT_PORT:-8080}
	[[ $PIPECHAT_PORT =~ ^[0-9]+$ ]] && [ "$PIPECHAT_PORT" -ge 1 ] && [ "$PIPECHAT_PORT" -le 65535 ] ||
		pc_die "PIPECHAT_PORT=$PIPECHAT_PORT: want a TCP port number (1-65535)"
	export PIPECHAT_WEB=${PIPECHAT_WEB:-lighttpd}
	case $PIPECHAT_WEB in
	lighttpd | nginx) ;;
	*) pc_die "PIPECHAT_WEB=$PIPECHAT_WEB: want lighttpd or nginx" ;;
	esac
	export PIPECHAT_BIND=${PIPECHAT_BIND:-127.0.0.1}
	export PIPECHAT_ORIGINS=${PIPECHAT_ORIGINS:-http://127.0.0.1:$PIPECHAT_PORT,http://localhost:$PIPECHAT_PORT}
	export PIPECHAT_BUILD
	PIPECHAT_BUILD=$(pc_abspath "${PIPECHAT_BUILD:-$PC_CHECKOUT/build}")
	local name
	for name in $(compgen -e | grep '^PIPECHAT_'); do
		case ${!name} in *$'\n'*) pc_die "$name: a setting cannot hold a newline" ;; esac
	done
}

# pc_service_settings: the KEY=VALUE lines (pc_kv) of every PIPECHAT_* setting in
# the environment that the services read, i.e. all but the scripts' own.
pc_service_settings() {
	local name
	for name in $(compgen -e | grep '^PIPECHAT_' | LC_ALL=C sort); do
		[[ " ${PC_SCRIPT_SETTINGS//$'\n'/ } $PC_DERIVED_SETTINGS " == *" $name "* ]] && continue
		pc_kv "$name" "${!name}"
	done
}

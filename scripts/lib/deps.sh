# Installs the Debian packages pipechat needs, once, then builds NNG with a
# small thread pool from Debian's source package (nng.sh). Sourced by
# scripts/run and scripts/test. Services are kept from starting during the
# install (policy-rc.d) and no default PostgreSQL cluster is created: pipechat
# runs its own private cluster.

PIPECHAT_PACKAGES="build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
libfcgi-dev spawn-fcgi libpq-dev postgresql libjwt-dev libcjson-dev libnng-dev libmbedtls-dev
libsodium-dev libseccomp-dev libcmocka-dev musl-tools websocketd lighttpd nginx curl
python3-pytest python3-websockets python3-requests python3-selenium chromium chromium-driver
nodejs"

# Only for scripts/test's stage `containers` (tests/container): rootful podman
# and podman-compose, runc (crun cannot start containers on a hybrid cgroup
# hierarchy), debootstrap (the base image, without a registry). scripts/run
# never installs these.
PIPECHAT_CONTAINER_PACKAGES="podman podman-compose runc debootstrap uidmap slirp4netns
fuse-overlayfs containernetworking-plugins netavark aardvark-dns catatonit"

# Only for the benchmarks (bench/): wrk for bench/api. bench/lib/bench.py
# installs them before a run; scripts/run and scripts/test never do.
PIPECHAT_BENCH_PACKAGES="wrk"

# deps_missing [LIST]: the packages of LIST (default PIPECHAT_PACKAGES) not installed.
deps_missing() {
	local p missing=""
	for p in ${1:-$PIPECHAT_PACKAGES}; do
		# No pipe into grep -q: under pipefail its early exit could fail the test.
		case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) in
		*"ok installed") ;;
		*) missing="$missing $p" ;;
		esac
	done
	echo "$missing"
}

# deps_install [LIST]: installs the packages of LIST (default PIPECHAT_PACKAGES)
# that are missing. For the default list it then makes sure the small-pool NNG
# is built (nng_small_ensure; about a minute the first time, then cached), and
# cJSON's static archive for a static worker (cjson_static_ensure, seconds): a
# failure there only warns, and the build falls back to Debian's libnng and
# a dynamically linked worker.
# Self-contained but for deps_missing, pc_say and pc_warn: scripts/test runs
# it in a child bash that got exactly those through `export -f`.
deps_install() {
	local missing rc=0
	missing=$(deps_missing "${1:-}")
	if [ -n "$missing" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			if command -v sudo >/dev/null; then
				SUDO=sudo
			else
				echo "pipechat: missing packages:$missing (run as root or install them)" >&2
				return 1
			fi
		fi
		echo "pipechat: installing$missing"
		${SUDO:-} mkdir -p /etc/postgresql-common
		[ -f /etc/postgresql-common/createcluster.conf ] ||
			echo "create_main_cluster = false" | ${SUDO:-} tee /etc/postgresql-common/createcluster.conf >/dev/null
		local rcd=/usr/sbin/policy-rc.d added=0
		if [ ! -e "$rcd" ]; then
			printf '#!/bin/sh\nexit 101\n' | ${SUDO:-} tee "$rcd" >/dev/null
			${SUDO:-} chmod 755 "$rcd"
			added=1
		fi
		{ ${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } ||
			rc=$?
		[ "$added" = 1 ] && ${SUDO:-} rm -f "$rcd"
	fi
	if [ "$rc" = 0 ] && [ -z "${1:-}" ]; then
		# shellcheck source=nng.sh
		. "$PC_CHECKOUT/scripts/lib/nng.sh"
		nng_small_ensure || true
		# shellcheck source=cjson.sh
		. "$PC_CHECKOUT/scripts/lib/cjson.sh"
		cjson_static_ensure || true
	fi
	return $rc
}

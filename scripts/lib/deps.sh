# Installs the Debian packages pipechat needs, once. Sourced by scripts/run and scripts/test.
# Services are kept from starting during the install (policy-rc.d) and no default PostgreSQL
# cluster is created: pipechat runs its own private cluster.

PIPECHAT_PACKAGES="build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
libfcgi-dev spawn-fcgi libpq-dev postgresql libjwt-dev libcjson-dev libnng-dev libsodium-dev
libseccomp-dev libcmocka-dev websocketd lighttpd nginx curl
python3-pytest python3-websockets python3-requests python3-selenium chromium chromium-driver
nodejs"

# Only for scripts/test's stage `containers` (tests/container): rootful podman
# and podman-compose, runc (crun cannot start containers on a hybrid cgroup
# hierarchy), debootstrap (the base image, without a registry). scripts/run
# never installs these.
PIPECHAT_CONTAINER_PACKAGES="podman podman-compose runc debootstrap uidmap slirp4netns
fuse-overlayfs containernetworking-plugins netavark aardvark-dns catatonit"

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

# deps_install [LIST]: installs the packages of LIST (default PIPECHAT_PACKAGES) that are missing.
deps_install() {
	local missing
	missing=$(deps_missing "${1:-}")
	[ -z "$missing" ] && return 0
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
	local rc=0
	{ ${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } ||
		rc=$?
	[ "$added" = 1 ] && ${SUDO:-} rm -f "$rcd"
	return $rc
}

#!/usr/bin/env bash
# NNG with a small thread pool, built from Debian's own source package.
# Sourced by deps.sh (deps_install runs nng_small_ensure after the packages);
# needs PC_CHECKOUT, pc_say and pc_warn only. Not for: the packages themselves
# (deps.sh) or building pipechat (build.sh).
#
# Why: every process that opens an NNG socket starts NNG's thread pool, whose
# size is fixed when libnng is compiled. Debian's libnng1 1.5.2 starts 13
# threads on 2 cores (2 x cores task threads, 4 resolver threads, one expire
# thread per core, poller, timer, reaper), about 90 on 64 cores, and pipechat
# runs one worker process per WebSocket: 10,000 sockets would be 140,000
# threads, four times this kernel's pid_max. Built with one thread of each kind
# (nng_small_args below) a worker has 7 threads and less private memory
# (bench/README.md, "sockets", has the figures).
#
# How: `apt-get source nng=<the installed libnng-dev's version>` (a deb-src
# entry for Debian's main archive is added when apt has none: see
# nng_small_debsrc), then cmake with nng_small_args into a private prefix
#   ${PIPECHAT_DEPS_DIR:-<checkout>/build-deps}/nng/<version>-<hash of the args>/prefix
# (git-ignored: /build*/), static, with TLS as Debian builds it, and with the
# patches of scripts/lib/nng-patches/ (a fix Debian's 1.5.2 lacks). The folder
# is kept: a second run with the same version and flags only checks it
# (about a second); a new version, flag or patch builds beside it. The link
#   .../nng/prefix -> <version>-<hash>/prefix
# names the current one; the root CMakeLists.txt links it when it is there
# and falls back to Debian's libnng (saying so) when it is not.
# PIPECHAT_SMALL_NNG=0 skips all of this (Debian's libnng is used).
# The first build took 13 s on a quiet 2-core machine and up to 64 s on a
# busy one (the closing line prints it): part of scripts/test's deps stage.

# One thread per pool. NNG_MAX_TASKQ_THREADS and NNG_NUM_TASKQ_THREADS,
# NNG_RESOLV_CONCURRENCY are NNG's own CMake settings (which pass them as -D
# to the compiler); NNG_EXPIRE_THREADS has none, so it goes in the C flags.
# -fPIC: the static library ends up in position-independent executables.
NNG_SMALL_CMAKE_ARGS="-DBUILD_SHARED_LIBS=OFF -DNNG_ENABLE_TLS=ON -DNNG_TESTS=OFF -DNNG_TOOLS=OFF
-DNNG_ENABLE_NNGCAT=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_POSITION_INDEPENDENT_CODE=ON
-DNNG_NUM_TASKQ_THREADS=1 -DNNG_MAX_TASKQ_THREADS=1 -DNNG_RESOLV_CONCURRENCY=1
-DCMAKE_C_FLAGS=-DNNG_EXPIRE_THREADS=1"

# nng_small_args: NNG_SMALL_CMAKE_ARGS plus Debian's static mbedtls
# (libmbedtls-dev's .a files, as NNG's FindmbedTLS names them): linked into
# each program instead of three more shared libraries per worker process,
# which measured 39 KiB less PSS per idle worker and about 0.5 ms less CPU
# to start one (bench/README.md, "sockets").
nng_small_args() {
	local lib var path
	echo "$NNG_SMALL_CMAKE_ARGS"
	for lib in TLS:mbedtls X509:mbedx509 CRYPTO:mbedcrypto; do
		var=${lib%%:*}
		path=$(cc -print-file-name="lib${lib#*:}.a" 2>/dev/null) || path=""
		[ "${path#/}" != "$path" ] && [ -f "$path" ] &&
			echo "-DMBEDTLS_${var}_LIBRARY=$(realpath -e -- "$path")"
	done
	return 0
}

# nng_small_hash STRING: 8 hex digits of STRING's sha256 (deps_install may
# run in a child shell without common.sh's helpers).
nng_small_hash() { printf '%s' "$1" | sha256sum | cut -c1-8; }

# nng_small_root: the folder that holds the private builds.
nng_small_root() { echo "${PIPECHAT_DEPS_DIR:-$PC_CHECKOUT/build-deps}/nng"; }

# nng_small_version: the Debian version of the installed libnng-dev (the
# source package built must match the headers Debian ships), or nothing.
nng_small_version() { dpkg-query -W -f='${Version}' libnng-dev 2>/dev/null || true; }

# Patches applied on top of Debian's (patch -p1, in name order): fixes
# pipechat needs that Debian 12's 1.5.2 lacks; each file says what and why.
nng_small_patches() { ls -1 "$PC_CHECKOUT"/scripts/lib/nng-patches/*.patch 2>/dev/null | LC_ALL=C sort; }

# nng_small_key VERSION: VERSION-<8 hex digits of a hash of the build
# arguments (nng_small_args) and the patches>: a new flag, library path or
# patch builds a new folder.
nng_small_key() {
	local f sum
	sum=$(nng_small_args)
	for f in $(nng_small_patches); do
		sum="$sum $(sha256sum <"$f" | cut -c1-16)"
	done
	echo "$1-$(nng_small_hash "$sum")"
}

# nng_small_debsrc: true when apt knows nng's source package; otherwise, as
# root (or with sudo), adds /etc/apt/sources.list.d/pipechat-deb-src.sources:
# a deb-src entry for the suite this machine runs (VERSION_CODENAME), main,
# from the mirror and keyring its own deb entry uses (deb.debian.org and
# Debian's keyring when none is found), then runs apt-get update.
nng_small_debsrc() {
	local codename uri keyring f sudo=""
	[ -n "$(apt-cache showsrc nng 2>/dev/null)" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || {
			pc_warn "no deb-src entry for nng's source package, and adding one needs root"
			return 1
		}
		sudo=sudo
	fi
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || {
		pc_warn "no VERSION_CODENAME in /etc/os-release: cannot add a deb-src entry"
		return 1
	}
	# The first enabled deb entry serving "$codename main": deb822 stanzas
	# (*.sources) and one-line entries (*.list).
	uri=""
	keyring=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		read -r uri keyring < <(awk -v s="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") &&
				    (" " comps " ") ~ / main / && enabled != "no" && !found) {
					split(uris, u, " "); print u[1], (key == "" ? "-" : key); found = 1
				}
				types = suites = comps = uris = key = ""; enabled = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{ k = tolower($1); sub(/:$/, "", k); $1 = ""; sub(/^ +/, "")
			  if (k == "types") types = $0; else if (k == "suites") suites = $0
			  else if (k == "components") comps = $0; else if (k == "uris") uris = $0
			  else if (k == "signed-by") key = $0; else if (k == "enabled") enabled = tolower($0) }
			END { flush() }' "$f") || true
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v s="$codename" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == s) { for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit } } }')
		keyring=-
	fi
	[ -n "$uri" ] || {
		uri=http://deb.debian.org/debian
		keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	}
	pc_say "adding a deb-src entry for $uri $codename main (for apt-get source nng)"
	{
		echo "# Added by pipechat (scripts/lib/nng.sh): Debian's source packages, for"
		echo "# \`apt-get source nng\` (NNG rebuilt with a small thread pool)."
		echo "Types: deb-src"
		echo "URIs: $uri"
		echo "Suites: $codename"
		echo "Components: main"
		[ "$keyring" = - ] || [ -z "$keyring" ] || echo "Signed-By: $keyring"
	} | $sudo tee /etc/apt/sources.list.d/pipechat-deb-src.sources >/dev/null
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		pc_warn "apt-get update failed after adding the deb-src entry"
	[ -n "$(apt-cache showsrc nng 2>/dev/null)" ] || {
		pc_warn "apt still knows no source package nng"
		return 1
	}
}

# nng_small_build DIR VERSION: fetches nng=VERSION's source into DIR/src and
# builds and installs it into DIR/prefix (log: DIR/build.log).
nng_small_build() {
	local dir=$1 ver=$2 src p t0=$SECONDS
	local -a args
	read -r -d '' -a args <<<"$(nng_small_args)" || true
	rm -rf -- "$dir"
	mkdir -p -- "$dir/fetch"
	pc_say "building NNG $ver with a small thread pool in $dir (about a minute, once)"
	# -o APT::Sandbox::User=root: the download goes straight into DIR (as
	# root, apt's _apt user may not be able to write there).
	(cd "$dir/fetch" && apt-get source -qq -o APT::Sandbox::User=root "nng=$ver") \
		>"$dir/build.log" 2>&1 || {
		pc_warn "apt-get source nng=$ver failed (see $dir/build.log)"
		return 1
	}
	src=$(find "$dir/fetch" -mindepth 1 -maxdepth 1 -type d -name 'nng-*' | head -n 1)
	[ -n "$src" ] && [ -f "$src/CMakeLists.txt" ] || {
		pc_warn "no nng source folder after apt-get source (see $dir/build.log)"
		return 1
	}
	mv -- "$src" "$dir/src"
	for p in $(nng_small_patches); do
		echo "applying $p" >>"$dir/build.log"
		patch -d "$dir/src" -p1 --forward --batch <"$p" >>"$dir/build.log" 2>&1 || {
			pc_warn "$p does not apply to nng $ver (see $dir/build.log)"
			return 1
		}
	done
	{
		cmake -S "$dir/src" -B "$dir/build" -DCMAKE_INSTALL_PREFIX="$dir/prefix" \
			-DCMAKE_INSTALL_LIBDIR=lib "${args[@]}" &&
			cmake --build "$dir/build" -j2 &&
			cmake --install "$dir/build"
	} >>"$dir/build.log" 2>&1 || {
		pc_warn "building NNG failed (see $dir/build.log)"
		return 1
	}
	rm -rf -- "$dir/fetch" "$dir/build"
	pc_say "built NNG $ver (small thread pool) in $((SECONDS - t0)) s"
}

# nng_small_ensure: the private NNG (see the top) built if missing, and the
# link .../nng/prefix pointing at it. Returns 1, with a warning, when it
# cannot be had; pipechat then builds with Debian's libnng.
nng_small_ensure() {
	local root ver key dir old rc=0
	[ "${PIPECHAT_SMALL_NNG:-1}" = 0 ] && {
		pc_say "PIPECHAT_SMALL_NNG=0: using Debian's libnng (about 13 threads per worker)"
		return 0
	}
	root=$(nng_small_root)
	ver=$(nng_small_version)
	[ -n "$ver" ] || {
		pc_warn "libnng-dev is not installed: cannot build the small NNG"
		return 1
	}
	key=$(nng_small_key "$ver")
	dir=$root/$key
	mkdir -p -- "$root"
	# One build at a time per folder (two test runs may start together).
	(
		flock -w 900 8 || {
			pc_warn "another run is building NNG in $root (waited 15 min)"
			exit 1
		}
		if [ ! -f "$dir/prefix/lib/cmake/nng/nng-config.cmake" ] || [ ! -f "$dir/prefix/lib/libnng.a" ]; then
			nng_small_debsrc || exit 1
			nng_small_build "$dir" "$ver" || exit 1
		fi
		ln -sfn -- "$key/prefix" "$root/.prefix.new" && mv -fT -- "$root/.prefix.new" "$root/prefix"
		# Older versions or flags: build folders link through the link
		# above, so nothing points into them any more.
		for old in "$root"/*-*/; do
			[ "$old" = "$dir/" ] || rm -rf -- "$old"
		done
	) 8>>"$root/.lock" || rc=1
	[ "$rc" = 0 ] ||
		pc_warn "the small NNG is not available: building with Debian's libnng (about 13 threads per worker)"
	return $rc
}

# Run directly (`scripts/lib/nng.sh`, as docs/deploy.md's install does): builds
# the small NNG for this checkout, as scripts/run would, and says where.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	nng_small_ensure
	pc_say "the small NNG is in $(nng_small_root)/prefix; cmake links it from there"
fi

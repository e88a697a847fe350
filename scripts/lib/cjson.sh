#!/usr/bin/env bash
# cJSON as a static archive, built from Debian's own source package, so that
# the worker can be one static executable. Sourced by deps.sh (deps_install
# runs cjson_static_ensure after nng_small_ensure); needs PC_CHECKOUT, pc_say
# and pc_warn, and nng.sh's nng_small_debsrc (the deb-src entry). Not for:
# the packages themselves (deps.sh) or building pipechat (build.sh).
#
# Why: one pipechat-ws process runs per WebSocket, and a dynamically linked
# one spends a large part of its start in the loader (mapping each shared
# library, relocating it, looking up its symbols) and keeps a few private
# pages per library for life. Linked statically (-static-pie, so still
# placed at a random address) it starts with a fraction of that work
# (bench/README.md, "sockets", has the figures). libcjson-dev ships only the
# shared library; every other library the worker needs has a static one in
# Debian (libc.a, libseccomp.a, the small NNG of nng.sh with mbedtls's .a).
#
# How: `apt-get source cjson=<the installed libcjson-dev's version>` (Debian's
# patches applied), then cJSON.c compiled as Debian compiles it (-O2, PIE)
# into an archive in
#   ${PIPECHAT_DEPS_DIR:-<checkout>/build-deps}/cjson/<version>/prefix/lib
# (git-ignored), with the source in .../prefix/src for the worker built
# against musl, and a link .../cjson/prefix to it; the headers stay
# Debian's (/usr/include/cjson, the same version). The root CMakeLists.txt
# links the worker statically when this archive and the small NNG are there,
# and dynamically (saying so) when not. PIPECHAT_STATIC_WORKER=0 skips it.
# Takes a few seconds, once.

# cjson_static_root: the folder that holds the build.
cjson_static_root() { echo "${PIPECHAT_DEPS_DIR:-$PC_CHECKOUT/build-deps}/cjson"; }

# cjson_static_build DIR VERSION: fetches cjson=VERSION into DIR and builds
# DIR/prefix/lib/libcjson.a (log: DIR/build.log).
cjson_static_build() {
	local dir=$1 ver=$2 src
	rm -rf -- "$dir"
	mkdir -p -- "$dir/fetch" "$dir/prefix/lib"
	(cd "$dir/fetch" && apt-get source -qq -o APT::Sandbox::User=root "cjson=$ver") \
		>"$dir/build.log" 2>&1 || {
		pc_warn "apt-get source cjson=$ver failed (see $dir/build.log)"
		return 1
	}
	src=$(find "$dir/fetch" -mindepth 2 -maxdepth 2 -name cJSON.c | head -n 1)
	[ -n "$src" ] || {
		pc_warn "no cJSON.c after apt-get source (see $dir/build.log)"
		return 1
	}
	{
		cc -O2 -g -fPIE -fstack-protector-strong -D_FORTIFY_SOURCE=2 -std=c89 \
			-c "$src" -o "$dir/cJSON.o" &&
			ar rcs "$dir/prefix/lib/libcjson.a" "$dir/cJSON.o"
	} >>"$dir/build.log" 2>&1 || {
		pc_warn "building cJSON failed (see $dir/build.log)"
		return 1
	}
	# The source too: the worker built against musl (ws-worker/README.md,
	# "Two builds") compiles it with its own libc's headers.
	mkdir -p -- "$dir/prefix/src" && cp -- "$src" "$dir/prefix/src/cJSON.c" || {
		pc_warn "keeping cJSON.c failed"
		return 1
	}
	rm -rf -- "$dir/fetch" "$dir/cJSON.o"
	pc_say "built cJSON $ver as a static archive"
}

# cjson_static_ensure: the archive built if missing, and the link
# .../cjson/prefix pointing at it. Returns 1, with a warning, when it cannot
# be had; the worker is then linked dynamically.
cjson_static_ensure() {
	local root ver dir old rc=0
	[ "${PIPECHAT_STATIC_WORKER:-1}" = 0 ] && return 0
	root=$(cjson_static_root)
	ver=$(dpkg-query -W -f='${Version}' libcjson-dev 2>/dev/null || true)
	[ -n "$ver" ] || {
		pc_warn "libcjson-dev is not installed: cannot build cJSON's static archive"
		return 1
	}
	dir=$root/$ver
	mkdir -p -- "$root"
	(
		flock -w 900 8 || exit 1
		if [ ! -f "$dir/prefix/lib/libcjson.a" ] || [ ! -f "$dir/prefix/src/cJSON.c" ]; then
			nng_small_debsrc || exit 1
			cjson_static_build "$dir" "$ver" || exit 1
		fi
		ln -sfn -- "$ver/prefix" "$root/.prefix.new" && mv -fT -- "$root/.prefix.new" "$root/prefix"
		for old in "$root"/*/; do
			[ "$old" = "$dir/" ] || [ "$old" = "$root/prefix/" ] || rm -rf -- "$old"
		done
	) 8>>"$root/.lock" || rc=1
	[ "$rc" = 0 ] ||
		pc_warn "cJSON's static archive is not available: the worker is linked dynamically"
	return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	. "$(dirname "${BASH_SOURCE[0]}")/nng.sh"
	cjson_static_ensure
	pc_say "cJSON's static archive is in $(cjson_static_root)/prefix/lib"
fi

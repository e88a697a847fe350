# Building pipechat with CMake. Sourced by scripts/run and scripts/test.
# Not for: installing the compilers and libraries (deps.sh).

# pc_sanitize_flag VALUE: ON for 1/on/yes/true, OFF for 0/off/no/false, empty
# for empty (leave the build folder's cached choice alone).
pc_sanitize_flag() {
	case ${1,,} in
	'') echo "" ;;
	1 | on | yes | true) echo ON ;;
	0 | off | no | false) echo OFF ;;
	*) pc_die "PIPECHAT_SANITIZE=$1: want 1 or 0" ;;
	esac
}

# pc_build DIR [ON|OFF|'']: configures DIR from the checkout (with
# -DPIPECHAT_SANITIZE when given) and builds every target with two jobs.
# NNG: the small-thread-pool build that deps.sh made (nng.sh) when it is
# there, else Debian's libnng; PIPECHAT_SMALL_NNG=0 asks for Debian's. The
# configure line that says which is repeated here. The worker is linked
# statically when cJSON's archive (cjson.sh) and the small NNG are there;
# PIPECHAT_STATIC_WORKER=0 asks for a dynamically linked one.
pc_build() {
	local dir=$1 san=${2:-} nng=auto
	[ "${PIPECHAT_SMALL_NNG:-1}" = 0 ] && nng=system
	local deps=${PIPECHAT_DEPS_DIR:-$PC_CHECKOUT/build-deps}
	local -a args=(-S "$PC_CHECKOUT" -B "$dir" "-DPIPECHAT_NNG=$nng"
		"-DPIPECHAT_NNG_PREFIX=$deps/nng/prefix"
		"-DPIPECHAT_CJSON_ARCHIVE=$deps/cjson/prefix/lib/libcjson.a"
		"-DPIPECHAT_STATIC_WORKER=$([ "${PIPECHAT_STATIC_WORKER:-1}" = 0 ] && echo OFF || echo ON)")
	[ -z "$san" ] || args+=("-DPIPECHAT_SANITIZE=$san")
	pc_say "building in $dir${san:+ (PIPECHAT_SANITIZE=$san)}"
	mkdir -p -- "$dir"
	cmake "${args[@]}" >"$dir/pipechat-configure.log" 2>&1 || {
		cat -- "$dir/pipechat-configure.log" >&2
		pc_warn "cmake could not configure $dir"
		return 1
	}
	sed -n -e 's/^-- NNG: /NNG: /p' -e 's/^-- pipechat-ws: /pipechat-ws: /p' -- "$dir/pipechat-configure.log" | while IFS= read -r l; do pc_say "$l"; done
	cmake --build "$dir" -j2
}

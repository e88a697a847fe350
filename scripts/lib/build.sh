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
pc_build() {
	local dir=$1 san=${2:-}
	local -a args=(-S "$PC_CHECKOUT" -B "$dir")
	[ -z "$san" ] || args+=("-DPIPECHAT_SANITIZE=$san")
	pc_say "building in $dir${san:+ (PIPECHAT_SANITIZE=$san)}"
	mkdir -p -- "$dir"
	cmake "${args[@]}" >"$dir/pipechat-configure.log" 2>&1 || {
		cat -- "$dir/pipechat-configure.log" >&2
		pc_warn "cmake could not configure $dir"
		return 1
	}
	cmake --build "$dir" -j2
}

/*
 * sandbox.c: rlimits, no_new_privs and the seccomp allowlist (sandbox.h).
 *
 * The allowlist is the table below: one row per system call, with what the
 * filter does with it, the builds it applies to and who needs it. It was
 * found by running tests/integration/test_ws_*.py and test_hardening_*.py
 * against workers in log mode (PIPECHAT_SANDBOX=log: the kernel logs each
 * call the filter would refuse; raise kernel.printk_ratelimit to 0 while
 * looking, or most lines are suppressed) and trap mode, in the release and
 * the ASan build, then trimmed to what was seen plus the rows marked as
 * paths the tests do not reach. tests/unit/test_sandbox.c pins it: a row
 * added or removed here fails that test until the test says the same.
 * A worker killed by the filter leaves an audit line in the kernel log
 * (dmesg: "type=1326 ... comm=pipechat-ws sig=31 syscall=N").
 *
 * RLIMIT_AS, by measurement (Debian 12, 2 cores, NNG 1.5.2, main.c keeps
 * glibc to one malloc arena): a worker enters the sandbox with about 108 MiB
 * of address space mapped, most of it reserved for the stacks of NNG's
 * threads. Across test_ws_*.py no worker grew by 1 MiB; the one dropped at
 * the 8 MiB output cap (test_hardening_limits.py) grew by 21 MiB. Its other
 * bounds: held out-of-order messages (4 MiB per room) and NNG's queues (128
 * + 256 messages of at most 80 KiB). 256 MiB of headroom is ten times what
 * was seen; a runaway worker stops there (malloc fails, which the worker
 * handles) instead of at the machine's memory. The limit is measured per
 * process because VmSize depends on the NNG build and the core count.
 *
 * Tcp mode (a broker over tcp:// or tls+tcp://, sandbox.h), by measurement
 * (strace, then trap and log mode, on workers that dial 127.0.0.1 and
 * redial a broker that is down, restarts, or refuses their certificate:
 * tests/integration/test_hardening_sandbox.py, test_sharding.py), the calls
 * beyond the ipc list are: socket(AF_INET, SOCK_STREAM),
 * setsockopt(TCP_NODELAY) and setsockopt(SO_KEEPALIVE) on NNG's threads;
 * getpeername when a pipe comes (ws-worker/bridge.c asks NNG for its remote
 * address); and on the resolver thread getaddrinfo's socket(AF_NETLINK,
 * SOCK_RAW) for AI_ADDRCONFIG (then bind, getsockname, sendto and recvmsg
 * on it: never reached, since the filter fails that socket with
 * EAFNOSUPPORT; glibc keeps no cache of the answer without nscd, so every
 * resolution asks). Except once: the worker dials before the filter and
 * NNG resolves on its own thread, so that thread may have opened the
 * socket just before the filter came, and its next call was killed (a
 * worker gone at start, seen once in test_sharding.py as sendto in the
 * kernel's audit log). So in tcp mode bind, getsockname and sendto fail
 * with EACCES instead: glibc then drops the query and assumes both address
 * families, as after EAFNOSUPPORT. No new socket can use them (socket()
 * still gives stream sockets only). TLS (mbedtls) adds nothing: its files are
 * read before the filter and its randomness comes from getrandom. For a name
 * instead of an address the resolver would also open /etc/hosts and ask DNS
 * over AF_INET datagrams, which is why ws-worker/links.c hands NNG numeric
 * addresses.
 *
 * Loading: in mode "on" the worker loads the BPF program that
 * common/sandbox_gen.c made from this table with libseccomp at build time
 * (sandbox_bpf.c in the build tree), after writing its pid into the one
 * instruction that tgkill's rule compares with; building it here cost
 * 0.33-0.37 ms of CPU per worker and loading the prebuilt one 0.17 ms, and
 * an idle worker's PSS fell by 24 KiB (bench/README.md, "Results: idle
 * sockets"). Trap and log mode, and the generator itself (PC_SANDBOX_GEN),
 * still build it with libseccomp. Change a row here and the generator runs
 * again at the next build; test_sandbox.c fails if the two ever differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef PC_SANDBOX_FOR_MUSL
#include <seccomp.h>
#endif

#include "log.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif
#ifndef SB_ASAN
#define SB_ASAN 0
#endif

/* The worker built against musl (ws-worker/README.md, "Two builds") links
 * no libseccomp: it loads the prebuilt program only (trap and log mode are
 * pipechat-ws-full's). Its table is the release build's: what musl calls
 * once the filter is on (read, write, writev, poll, sendmsg, mmap, munmap,
 * madvise, mremap, brk, getpid, getuid, socket and connect for a redial,
 * getsockopt, close, exit_group: strace through test_ws_*.py,
 * test_hardening_limits.py and test_broker_faults.py) is a subset, and
 * musl's abort() raises with tkill, which the filter kills as abort
 * would. */
#ifdef PC_SANDBOX_FOR_MUSL
#define SB_LIBSECCOMP 0
#else
#define SB_LIBSECCOMP 1
#endif

#define A PC_SB_ALWAYS
#define S PC_SB_SANITIZER
#define R PC_SB_RELEASE

static const struct pc_sandbox_rule sb_rules[] = {
        /* Seen in log mode through tests/integration/test_ws_*.py: */
        {"read", PC_SB_ALLOW, A, "stdin, eventfd, NNG ipc"},
        {"readv", PC_SB_ALLOW, A, "NNG ipc"},
        {"write", PC_SB_ALLOW, A, "stdout, stderr, eventfd"},
        {"writev", PC_SB_ALLOW, A, "stdout queue (lineio.c), NNG ipc"},
        {"poll", PC_SB_ALLOW, A, "main loop, drain at exit"},
        {"epoll_wait", PC_SB_ALLOW, A, "NNG poller thread"},
        {"epoll_ctl", PC_SB_ALLOW, A, "NNG: watch a pipe's descriptor"},
        {"futex", PC_SB_ALLOW, A, "NNG locks and condition variables"},
        {"getrandom", PC_SB_ALLOW, A, "NNG: pipe ids, redial jitter"},
        {"socket", PC_SB_SOCKET, A, "NNG redials a restarted broker"},
        {"connect", PC_SB_ALLOW, A, "NNG redials a restarted broker"},
        {"getsockopt", PC_SB_ALLOW, A, "NNG: SO_ERROR, SO_PEERCRED"},
        {"sendmsg", PC_SB_ALLOW, A, "NNG ipc"},
        {"recvmsg", PC_SB_ALLOW, A, "NNG ipc"},
        {"shutdown", PC_SB_ALLOW, A, "NNG closes a pipe"},
        {"fcntl", PC_SB_ALLOW, A, "NNG: non-blocking, close-on-exec"},
        {"close", PC_SB_ALLOW, A, "NNG pipes, exit"},
        {"getpid", PC_SB_ALLOW, A, "log and audit lines"},
        {"gettid", PC_SB_ALLOW, A, "ASan, glibc"},
        {"getuid", PC_SB_ALLOW, A, "bridge.c: the broker's uid check"},
        {"mmap", PC_SB_NO_EXEC, A, "malloc, NNG messages"},
        {"munmap", PC_SB_ALLOW, A, "free"},
        {"mprotect", PC_SB_NO_EXEC, A, "glibc: a thread heap grows"},
        {"prctl", PC_SB_SET_NAME, R, "NNG threads name themselves"},
        {"exit_group", PC_SB_ALLOW, A, "the worker exits"},
        /* Not seen in the tests, but on a path the worker can take: */
        {"brk", PC_SB_ALLOW, A, "malloc: the main heap grows"},
        {"mremap", PC_SB_ALLOW, A, "realloc of a large block"},
        {"madvise", PC_SB_ALLOW, A, "free: a thread heap shrinks"},
        {"clock_gettime", PC_SB_ALLOW, A, "timers, when the vDSO cannot"},
        {"nanosleep", PC_SB_ALLOW, A, "NNG: short waits"},
        {"clock_nanosleep", PC_SB_ALLOW, A, "NNG: short waits"},
        {"rt_sigaction", PC_SB_ALLOW, A, "abort() of a failed assert"},
        {"tgkill", PC_SB_SELF_KILL, A, "abort() of a failed assert"},
        {"rt_sigreturn", PC_SB_ALLOW, A, "the SIGTERM handler returns"},
        {"restart_syscall", PC_SB_ALLOW, A, "a sleep cut by a signal"},
        {"exit", PC_SB_ALLOW, A, "a thread ends"},
        /* NNG's threads are created before the filter, but one may start
         * running only after it (seen as kills: rseq first): */
        {"rseq", PC_SB_ALLOW, A, "glibc: a thread starts"},
        {"set_robust_list", PC_SB_ALLOW, A, "glibc: a thread starts"},
        {"rt_sigprocmask", PC_SB_ALLOW, A, "glibc: a thread starts"},
        /* Refused quietly: the worker opens no file once it serves. */
        {"open", PC_SB_EACCES, R, "nothing: refused"},
        {"openat", PC_SB_EACCES, R, "nothing: refused"},
        /* AddressSanitizer's report (a file, symbolized from the binary's
         * debug info) and LeakSanitizer's check at exit (a tracer task
         * that stops every thread), seen in log mode: */
        {"open", PC_SB_ALLOW, S, "ASan: report file, /proc/self/maps"},
        {"openat", PC_SB_ALLOW, S, "ASan: report, symbolizer"},
        {"readlink", PC_SB_ALLOW, S, "ASan: /proc/self/exe"},
        {"newfstatat", PC_SB_ALLOW, S, "ASan: symbolizer"},
        {"ioctl", PC_SB_ALLOW, S, "ASan: report (isatty)"},
        {"lseek", PC_SB_ALLOW, S, "LSan: /proc files"},
        {"getdents", PC_SB_ALLOW, S, "LSan: /proc/self/task"},
        {"clone", PC_SB_ALLOW, S, "LSan: tracer task"},
        {"ptrace", PC_SB_ALLOW, S, "LSan: stops the threads"},
        {"wait4", PC_SB_ALLOW, S, "LSan: tracer task"},
        {"prctl", PC_SB_ALLOW, S, "NNG thread names; LSan PR_SET_PTRACER"},
        {"sigaltstack", PC_SB_ALLOW, S, "LSan: tracer task"},
        {"sched_getaffinity", PC_SB_ALLOW, S, "LSan: tracer task"},
        {"getppid", PC_SB_ALLOW, S, "LSan: tracer task"},
        {"sched_yield", PC_SB_ALLOW, S, "LSan: waits for its tracer"},
        /* Tcp mode only (a broker over tls+tcp://), seen in log mode: */
        {"setsockopt", PC_SB_TCP_OPT, A, "NNG: TCP_NODELAY, SO_KEEPALIVE"},
        {"getpeername", PC_SB_TCP, A, "bridge.c: is the pipe tcp (REMADDR)"},
        /* Tcp mode only, refused quietly: the rest of getaddrinfo's
         * netlink query when NNG's resolver opened that socket just
         * before the filter came (see the top of this file). */
        {"bind", PC_SB_TCP_EACCES, A, "nothing: glibc's netlink query"},
        {"getsockname", PC_SB_TCP_EACCES, A, "nothing: glibc's netlink query"},
        {"sendto", PC_SB_TCP_EACCES, A, "nothing: glibc's netlink query"},
};

#undef A
#undef S
#undef R

int
pc_sandbox_sanitized(void)
{
	return SB_ASAN;
}

const struct pc_sandbox_rule *
pc_sandbox_rules(size_t *n)
{
	*n = sizeof(sb_rules) / sizeof(sb_rules[0]);
	return sb_rules;
}

int
pc_sandbox_rule_applies(const struct pc_sandbox_rule *r)
{
	if (r->builds & PC_SB_ALWAYS)
		return 1;
	return SB_ASAN ? (r->builds & PC_SB_SANITIZER) != 0
	               : (r->builds & PC_SB_RELEASE) != 0;
}

enum pc_err
pc_sandbox_mode_parse(const char *s, enum pc_sandbox_mode *out)
{
	if (s == NULL || *s == '\0' || strcmp(s, "on") == 0) {
		*out = PC_SANDBOX_ON;
		return PC_OK;
	}
#ifdef PIPECHAT_TEST_HOOKS
	if (strcmp(s, "trap") == 0) {
		*out = PC_SANDBOX_TRAP;
		return PC_OK;
	}
	if (strcmp(s, "log") == 0) {
		*out = PC_SANDBOX_LOG;
		return PC_OK;
	}
#endif
	return PC_ERR_INVALID;
}

#if SB_LIBSECCOMP
/* ---- trap mode ------------------------------------------------------- */

#define SB_NAMES_MAX 512 /* syscall numbers named in trap mode */

/* Names resolved before the filter is loaded, so the handler only reads. */
static char *sb_names[SB_NAMES_MAX];

/* Appends s to buf at *n, within size. Async-signal-safe. */
static void
sb_put(char *buf, size_t size, size_t *n, const char *s)
{
	while (*s != '\0' && *n < size)
		buf[(*n)++] = *s++;
}

static void
sb_put_num(char *buf, size_t size, size_t *n, long v)
{
	char d[24];
	int i = 0;

	if (v < 0) {
		sb_put(buf, size, n, "-");
		v = -v;
	}
	do
		d[i++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && i < (int)sizeof(d));
	while (i > 0 && *n < size)
		buf[(*n)++] = d[--i];
}

/* SIGSYS in trap mode: names the call and makes it return -ENOSYS. */
static void
sb_on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[160];
	size_t n = 0;
	int nr = si->si_syscall;
	int saved = errno;

	(void)sig;
	sb_put(line, sizeof(line), &n, "pipechat sandbox: denied syscall ");
	sb_put_num(line, sizeof(line), &n, nr);
	sb_put(line, sizeof(line), &n, " (");
	sb_put(line, sizeof(line), &n,
	       nr >= 0 && nr < SB_NAMES_MAX && sb_names[nr] != NULL
	               ? sb_names[nr]
	               : "?");
	sb_put(line, sizeof(line), &n, ")\n");
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nothing to do: stderr is gone */
	}
#if defined(__x86_64__)
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	((ucontext_t *)ctx)->uc_mcontext.regs[0] = (unsigned long)-ENOSYS;
#else
	(void)ctx;
#endif
	errno = saved;
}

static enum pc_err
sb_trap_prepare(void)
{
	struct sigaction sa;
	int i;

	for (i = 0; i < SB_NAMES_MAX; i++)
		if (sb_names[i] == NULL)
			sb_names[i] = seccomp_syscall_resolve_num_arch(
			        SCMP_ARCH_NATIVE, i);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = sb_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		pc_log_err("sigaction SIGSYS: %s", strerror(errno));
		return PC_ERR_SYSTEM;
	}
	return PC_OK;
}

#endif /* SB_LIBSECCOMP */

/* ---- rlimits --------------------------------------------------------- */

/* Bytes of address space mapped now (VmSize), or 0 when unknown. */
static uint64_t
sb_vm_size(void)
{
	char buf[128];
	unsigned long long pages = 0;
	ssize_t r;
	long pagesz = sysconf(_SC_PAGESIZE);
	int fd;

	if ((fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0 || pagesz <= 0)
		return 0;
	buf[r] = '\0';
	if (sscanf(buf, "%llu", &pages) != 1)
		return 0;
	return (uint64_t)pages * (uint64_t)pagesz;
}

/* Lowers both limits of res to v (never raises the hard one). */
static int
sb_limit(int res, const char *name, uint64_t v)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    (uint64_t)rl.rlim_max < v)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (setrlimit(res, &rl) < 0) {
		pc_log_err("setrlimit %s %llu: %s", name, (unsigned long long)v,
		           strerror(errno));
		return -1;
	}
	return 0;
}

static enum pc_err
sb_rlimits(void)
{
	struct sigaction sa;
	uint64_t vsz, as;

	if (SB_ASAN) {
		pc_log_debug("sanitizer build: rlimits left as they are");
		return PC_OK;
	}
	if ((vsz = sb_vm_size()) == 0) {
		pc_log_err(
		        "cannot measure the address space (/proc/self/statm)");
		return PC_ERR_SYSTEM;
	}
	as = vsz + PC_SANDBOX_AS_HEADROOM;
	/* A write past RLIMIT_FSIZE fails with EFBIG instead of killing. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGXFSZ, &sa, NULL);
	if (sb_limit(RLIMIT_NPROC, "NPROC", 0) < 0 ||
	    sb_limit(RLIMIT_FSIZE, "FSIZE", 0) < 0 ||
	    sb_limit(RLIMIT_AS, "AS", as) < 0)
		return PC_ERR_SYSTEM;
	pc_log_debug("rlimits: nproc 0, fsize 0, as %llu MiB (%llu in use)",
	             (unsigned long long)(as >> 20),
	             (unsigned long long)(vsz >> 20));
	return PC_OK;
}

#if SB_LIBSECCOMP
/* ---- the filter ------------------------------------------------------ */

/* socket(): SOCK_STREAM in the mode's families (the type's low bits;
 * SOCK_CLOEXEC and SOCK_NONBLOCK may be set above them); in tcp mode the
 * resolver's netlink socket fails quietly (sandbox.h). */
static int
sb_socket_rules(scmp_filter_ctx ctx, int nr, enum pc_sandbox_net net)
{
	static const int tcp_families[] = {AF_INET, AF_INET6};
	size_t i;
	int rc;

	if ((rc = seccomp_rule_add(
	             ctx, SCMP_ACT_ALLOW, nr, 2,
	             SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)AF_UNIX, 0),
	             SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM))) < 0 ||
	    net != PC_SANDBOX_NET_TCP)
		return rc;
	for (i = 0; i < sizeof(tcp_families) / sizeof(tcp_families[0]); i++)
		if ((rc = seccomp_rule_add(
		             ctx, SCMP_ACT_ALLOW, nr, 2,
		             SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)tcp_families[i], 0),
		             SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf,
		                        SOCK_STREAM))) < 0)
			return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
	                        SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)AF_NETLINK, 0));
}

/* setsockopt in tcp mode: the two options NNG sets on a tcp pipe. */
static int
sb_tcp_opt_rules(scmp_filter_ctx ctx, int nr)
{
	int rc;

	if ((rc = seccomp_rule_add(
	             ctx, SCMP_ACT_ALLOW, nr, 2,
	             SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)IPPROTO_TCP, 0),
	             SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)TCP_NODELAY, 0))) < 0)
		return rc;
	return seccomp_rule_add(
	        ctx, SCMP_ACT_ALLOW, nr, 2,
	        SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)SOL_SOCKET, 0),
	        SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)SO_KEEPALIVE, 0));
}

static int
sb_rule_add(scmp_filter_ctx ctx, const struct pc_sandbox_rule *r, int nr,
            enum pc_sandbox_net net, uint32_t pid)
{
	switch (r->act) {
	case PC_SB_ALLOW:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case PC_SB_EACCES:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), nr, 0);
	case PC_SB_SOCKET:
		return sb_socket_rules(ctx, nr, net);
	case PC_SB_NO_EXEC:
		return seccomp_rule_add(
		        ctx, SCMP_ACT_ALLOW, nr, 1,
		        SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case PC_SB_SET_NAME:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		                        SCMP_A0_32(SCMP_CMP_EQ, PR_SET_NAME, 0));
	case PC_SB_SELF_KILL:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		                        SCMP_A0_32(SCMP_CMP_EQ, pid, 0));
	case PC_SB_TCP:
		return net == PC_SANDBOX_NET_TCP
		               ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)
		               : 0;
	case PC_SB_TCP_OPT:
		return net == PC_SANDBOX_NET_TCP ? sb_tcp_opt_rules(ctx, nr)
		                                 : 0;
	case PC_SB_TCP_EACCES:
		return net == PC_SANDBOX_NET_TCP
		               ? seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		                                  nr, 0)
		               : 0;
	}
	return -EINVAL;
}

#endif /* SB_LIBSECCOMP */

/* ---- Landlock: TCP ports --------------------------------------------- */

/* Debian 12's kernel headers (6.1) predate Landlock's network rules (ABI 4,
 * Linux 6.7): the ABI's constants and structures as the kernel defines them
 * (include/uapi/linux/landlock.h). */
#define SB_LL_CREATE_RULESET_VERSION (1u << 0)
#define SB_LL_RULE_NET_PORT          2
#define SB_LL_ACCESS_NET_BIND_TCP    (1ull << 0)
#define SB_LL_ACCESS_NET_CONNECT_TCP (1ull << 1)
#define SB_LL_NET_ABI                4

struct sb_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
};

struct sb_ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

enum pc_err
pc_sandbox_tcp_ports(const uint16_t *ports, size_t n)
{
	struct sb_ll_ruleset_attr ra;
	struct sb_ll_net_port_attr pa;
	long abi;
	int fd = -1;
	size_t i;
	enum pc_err e = PC_ERR_SYSTEM;

	if (n == 0 || n > PC_SANDBOX_PORTS_MAX)
		return PC_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (ports[i] == 0)
			return PC_ERR_INVALID;
	abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
	              SB_LL_CREATE_RULESET_VERSION);
	if (abi < SB_LL_NET_ABI) {
		pc_log_info("landlock: %s: TCP ports not limited (the firewall "
		            "of docs/security.md must do it)",
		            abi < 0 ? strerror(errno) : "no network rules");
		return PC_ERR_UNAVAILABLE;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_net =
	        SB_LL_ACCESS_NET_BIND_TCP | SB_LL_ACCESS_NET_CONNECT_TCP;
	if ((fd = (int)syscall(__NR_landlock_create_ruleset, &ra, sizeof(ra),
	                       0)) < 0) {
		pc_log_err("landlock_create_ruleset: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		memset(&pa, 0, sizeof(pa));
		pa.allowed_access = SB_LL_ACCESS_NET_CONNECT_TCP;
		pa.port = ports[i];
		if (syscall(__NR_landlock_add_rule, fd, SB_LL_RULE_NET_PORT,
		            &pa, 0) < 0) {
			pc_log_err("landlock_add_rule port %u: %s",
			           (unsigned)ports[i], strerror(errno));
			goto out;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		pc_log_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	if (syscall(__NR_landlock_restrict_self, fd, 0) < 0) {
		pc_log_err("landlock_restrict_self: %s", strerror(errno));
		goto out;
	}
	pc_log_debug("landlock (ABI %ld): TCP connect to %zu port(s) only", abi,
	             n);
	e = PC_OK;
out:
	if (fd >= 0)
		close(fd);
	return e;
}

/* ---- building and loading the program -------------------------------- */

#if SB_LIBSECCOMP
/*
 * A libseccomp context holding this build's filter for (mode, net), with
 * `pid` as tgkill's one target; *nrules is set to the rows it holds.
 * NULL on failure (logged, errno set).
 */
static scmp_filter_ctx
sb_filter_new(enum pc_sandbox_mode mode, enum pc_sandbox_net net, uint32_t pid,
              size_t *nrules)
{
	scmp_filter_ctx ctx;
	size_t i, n = 0;
	int nr, rc;

	ctx = seccomp_init(mode == PC_SANDBOX_TRAP  ? SCMP_ACT_TRAP
	                   : mode == PC_SANDBOX_LOG ? SCMP_ACT_LOG
	                                            : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		errno = ENOMEM;
		pc_log_err("seccomp_init failed");
		return NULL;
	}
	/* CTL_OPTIMIZE 2: the syscall numbers as a binary tree, not a chain.
	 * At load the kernel runs the program for every syscall number to
	 * find those it may allow without running it again (its action
	 * cache), with interrupts off: about 8 steps each instead of up to
	 * 60 (bench/README.md, "Results: idle sockets"). */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		pc_log_err("seccomp attributes: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < sizeof(sb_rules) / sizeof(sb_rules[0]); i++) {
		const struct pc_sandbox_rule *r = &sb_rules[i];

		if (!pc_sandbox_rule_applies(r))
			continue;
		nr = seccomp_syscall_resolve_name(r->name);
		if (nr == __NR_SCMP_ERROR) {
			rc = -EINVAL;
			pc_log_err("unknown syscall %s in the allowlist",
			           r->name);
			goto fail;
		}
		if ((rc = sb_rule_add(ctx, r, nr, net, pid)) < 0) {
			pc_log_err("seccomp rule %s: %s", r->name,
			           strerror(-rc));
			goto fail;
		}
		n++;
	}
	*nrules = n;
	return ctx;
fail:
	seccomp_release(ctx);
	errno = -rc;
	return NULL;
}

#endif /* SB_LIBSECCOMP */

/* Rows of this build's table (the log line; sb_filter_new counts alike). */
static size_t
sb_rule_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(sb_rules) / sizeof(sb_rules[0]); i++)
		n += pc_sandbox_rule_applies(&sb_rules[i]) ? 1 : 0;
	return n;
}

#if SB_LIBSECCOMP
enum pc_err
pc_sandbox_bpf_build(enum pc_sandbox_net net, uint32_t pid,
                     struct sock_filter *buf, size_t cap, size_t *len)
{
	scmp_filter_ctx ctx = NULL;
	struct stat st;
	size_t n = 0;
	ssize_t got;
	int fd = -1, rc;
	enum pc_err e = PC_ERR_SYSTEM;

	if ((ctx = sb_filter_new(PC_SANDBOX_ON, net, pid, &n)) == NULL)
		goto out;
	if ((fd = memfd_create("pipechat-bpf", MFD_CLOEXEC)) < 0) {
		pc_log_err("memfd_create: %s", strerror(errno));
		goto out;
	}
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
		pc_log_err("seccomp_export_bpf: %s", strerror(-rc));
		goto out;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		pc_log_err("seccomp_export_bpf: odd size");
		goto out;
	}
	if ((size_t)st.st_size / sizeof(struct sock_filter) > cap) {
		e = PC_ERR_INVALID;
		goto out;
	}
	got = pread(fd, buf, (size_t)st.st_size, 0);
	if (got != (ssize_t)st.st_size) {
		pc_log_err("reading the exported filter: %s",
		           got < 0 ? strerror(errno) : "short read");
		goto out;
	}
	*len = (size_t)st.st_size / sizeof(struct sock_filter);
	e = PC_OK;
out:
	if (fd >= 0)
		close(fd);
	if (ctx != NULL)
		seccomp_release(ctx);
	return e;
}

#endif /* SB_LIBSECCOMP */

#ifdef PC_SANDBOX_GEN
/* The generator itself: no program made yet. */
static const struct pc_sandbox_prog *const sb_prebuilt = NULL;
#else
/* sandbox_bpf.c, written at build time by common/sandbox_gen.c. */
extern const struct pc_sandbox_prog pc_sandbox_progs[PC_SANDBOX_NET_COUNT];
static const struct pc_sandbox_prog *const sb_prebuilt = pc_sandbox_progs;
#endif

enum pc_err
pc_sandbox_bpf_prebuilt(enum pc_sandbox_net net, uint32_t pid,
                        struct sock_filter *buf, size_t cap, size_t *len)
{
	const struct pc_sandbox_prog *p;

	if (sb_prebuilt == NULL || (unsigned)net >= PC_SANDBOX_NET_COUNT)
		return PC_ERR_UNAVAILABLE;
	p = &sb_prebuilt[net];
	if (p->len == 0 || p->pid_at >= p->len)
		return PC_ERR_UNAVAILABLE;
	if (p->len > cap)
		return PC_ERR_INVALID;
	memcpy(buf, p->insns, p->len * sizeof(buf[0]));
	buf[p->pid_at].k = pid;
	*len = p->len;
	return PC_OK;
}

/*
 * Loads a program as libseccomp's seccomp_load does with NNP and TSYNC set
 * (no_new_privs is already on): seccomp(2) with SECCOMP_FILTER_FLAG_TSYNC,
 * which returns the id of a thread it could not synchronise.
 */
static enum pc_err
sb_load_bpf(struct sock_filter *insns, size_t len)
{
	struct sock_fprog fp;
	long rc;

	memset(&fp, 0, sizeof(fp));
	fp.len = (unsigned short)len;
	fp.filter = insns;
	rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
	             SECCOMP_FILTER_FLAG_TSYNC, &fp);
	if (rc != 0) {
		if (rc > 0)
			errno = EAGAIN;
		pc_log_err("seccomp(SET_MODE_FILTER, TSYNC): %s%s",
		           strerror(errno),
		           rc > 0 ? " (a thread could not be synchronised)"
		                  : "");
		return PC_ERR_SYSTEM;
	}
	return PC_OK;
}

enum pc_err
pc_sandbox_enter(enum pc_sandbox_mode mode, enum pc_sandbox_net net)
{
	struct sock_filter prog[PC_SANDBOX_BPF_MAX];
#if SB_LIBSECCOMP
	scmp_filter_ctx ctx = NULL;
	int rc;
#endif
	size_t n = 0, len = 0;
	int pre = 0;
	enum pc_err e = PC_ERR_SYSTEM;

#if SB_LIBSECCOMP
	if (mode == PC_SANDBOX_TRAP && (e = sb_trap_prepare()) != PC_OK)
		goto out;
#else
	if (mode != PC_SANDBOX_ON) {
		pc_log_err("sandbox: trap and log mode are pipechat-ws-full's");
		goto out;
	}
#endif
	e = PC_ERR_SYSTEM;
	if (sb_rlimits() != PC_OK)
		goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		pc_log_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	if (mode == PC_SANDBOX_ON &&
	    pc_sandbox_bpf_prebuilt(net, (uint32_t)getpid(), prog,
	                            PC_SANDBOX_BPF_MAX, &len) == PC_OK) {
		pre = 1;
		n = sb_rule_count();
		if (sb_load_bpf(prog, len) != PC_OK) {
			/* built for another libseccomp or kernel: the
			 * same filter, built here */
			pc_log_warn("prebuilt seccomp program refused; "
			            "building it with libseccomp");
			pre = 0;
		}
	}
#if SB_LIBSECCOMP
	if (!pre) {
		if ((ctx = sb_filter_new(mode, net, (uint32_t)getpid(), &n)) ==
		    NULL)
			goto out;
		if ((rc = seccomp_load(ctx)) < 0) {
			errno = -rc;
			pc_log_err("seccomp_load: %s", strerror(-rc));
			goto out;
		}
	}
#else
	if (!pre) {
		pc_log_err("sandbox: no prebuilt program was loaded");
		goto out;
	}
#endif
	if (mode == PC_SANDBOX_ON)
		pc_log_debug("sandbox on (%s, %s): %zu syscalls allowed or "
		             "answered",
		             net == PC_SANDBOX_NET_TCP ? "tcp" : "ipc",
		             pre ? "prebuilt" : "libseccomp", n);
	else
		pc_log_warn("sandbox in %s mode (debug only, %s): %zu syscalls",
		            mode == PC_SANDBOX_TRAP ? "trap" : "log",
		            net == PC_SANDBOX_NET_TCP ? "tcp" : "ipc", n);
	e = PC_OK;
out:
#if SB_LIBSECCOMP
	if (ctx != NULL)
		seccomp_release(ctx);
#endif
	return e;
}

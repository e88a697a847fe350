/*
 * test_sandbox.c: the worker's sandbox (common/sandbox.h).
 *
 * The allowlist is pinned here: the rows this build's filter holds must be
 * exactly the lists below, so adding or dropping a syscall is a change to
 * this file too. Then each behaviour is shown in a forked child that enters
 * the sandbox: what is allowed works, open fails with EACCES (release
 * builds), another socket family, exec, fork, executable memory and a
 * thread that existed before the filter are killed with SIGSYS, and the
 * rlimits are what sandbox.h says (read from the parent with prlimit).
 * Tcp mode admits what NNG needs to dial a tcp broker and nothing more, and
 * Landlock limits TCP connect to the listed ports (where the kernel can).
 * Children leave with _exit: no atexit handlers (nor LeakSanitizer) run
 * inside the filter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

/* ---- the pinned list ------------------------------------------------- */

/* "name act" for every row of a release build's filter, in table order. */
static const char *const release_rows[] = {
        "read allow",
        "readv allow",
        "write allow",
        "writev allow",
        "poll allow",
        "epoll_wait allow",
        "epoll_ctl allow",
        "futex allow",
        "getrandom allow",
        "socket family",
        "connect allow",
        "getsockopt allow",
        "sendmsg allow",
        "recvmsg allow",
        "shutdown allow",
        "fcntl allow",
        "close allow",
        "getpid allow",
        "gettid allow",
        "getuid allow",
        "mmap noexec",
        "munmap allow",
        "mprotect noexec",
        "prctl set_name",
        "exit_group allow",
        "brk allow",
        "mremap allow",
        "madvise allow",
        "clock_gettime allow",
        "nanosleep allow",
        "clock_nanosleep allow",
        "rt_sigaction allow",
        "tgkill self",
        "rt_sigreturn allow",
        "restart_syscall allow",
        "exit allow",
        "rseq allow",
        "set_robust_list allow",
        "rt_sigprocmask allow",
        "open eacces",
        "openat eacces",
};

/* Rows only AddressSanitizer builds add (open/openat replace the EACCES
 * rows, prctl replaces the PR_SET_NAME one). */
static const char *const sanitizer_rows[] = {
        "open allow",
        "openat allow",
        "readlink allow",
        "newfstatat allow",
        "ioctl allow",
        "lseek allow",
        "getdents allow",
        "clone allow",
        "ptrace allow",
        "wait4 allow",
        "prctl allow",
        "sigaltstack allow",
        "sched_getaffinity allow",
        "getppid allow",
        "sched_yield allow",
};

/* Rows every build has after the sanitizer's, added to the filter in tcp
 * mode only (a broker over tls+tcp://). */
static const char *const tcp_rows[] = {
        "setsockopt tcp_opt",
        "getpeername tcp",
        "bind tcp_eacces",
        "getsockname tcp_eacces",
        "sendto tcp_eacces",
};

static const char *
act_name(enum pc_sandbox_act a)
{
	switch (a) {
	case PC_SB_ALLOW:
		return "allow";
	case PC_SB_EACCES:
		return "eacces";
	case PC_SB_SOCKET:
		return "family";
	case PC_SB_NO_EXEC:
		return "noexec";
	case PC_SB_SELF_KILL:
		return "self";
	case PC_SB_SET_NAME:
		return "set_name";
	case PC_SB_TCP:
		return "tcp";
	case PC_SB_TCP_OPT:
		return "tcp_opt";
	case PC_SB_TCP_EACCES:
		return "tcp_eacces";
	}
	return "?";
}

/* The list this build's filter must hold, in table order. */
static size_t
expected_rows(const char **out, size_t cap)
{
	size_t i, n = 0;
	int san = pc_sandbox_sanitized();

	for (i = 0; i < sizeof(release_rows) / sizeof(release_rows[0]); i++) {
		if (san && (strcmp(release_rows[i], "open eacces") == 0 ||
		            strcmp(release_rows[i], "openat eacces") == 0 ||
		            strcmp(release_rows[i], "prctl set_name") == 0))
			continue;
		assert_true(n < cap);
		out[n++] = release_rows[i];
	}
	if (san)
		for (i = 0;
		     i < sizeof(sanitizer_rows) / sizeof(sanitizer_rows[0]);
		     i++) {
			assert_true(n < cap);
			out[n++] = sanitizer_rows[i];
		}
	for (i = 0; i < sizeof(tcp_rows) / sizeof(tcp_rows[0]); i++) {
		assert_true(n < cap);
		out[n++] = tcp_rows[i];
	}
	return n;
}

static void
test_allowlist_is_pinned(void **state)
{
	const struct pc_sandbox_rule *rows;
	const char *want[128];
	char got[64];
	size_t n, nwant, i, k = 0;

	(void)state;
	rows = pc_sandbox_rules(&n);
	nwant = expected_rows(want, 128);
	for (i = 0; i < n; i++) {
		if (!pc_sandbox_rule_applies(&rows[i]))
			continue;
		snprintf(got, sizeof(got), "%s %s", rows[i].name,
		         act_name(rows[i].act));
		if (k >= nwant)
			fail_msg("row %s is not in the pinned list", got);
		if (strcmp(got, want[k]) != 0)
			fail_msg("row %zu: %s, pinned: %s", k, got, want[k]);
		k++;
	}
	if (k != nwant)
		fail_msg("the filter has %zu rows, the pinned list %zu", k,
		         nwant);
}

static void
test_rows_complete_and_unique(void **state)
{
	const struct pc_sandbox_rule *rows;
	size_t n, i, j;

	(void)state;
	rows = pc_sandbox_rules(&n);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		assert_non_null(rows[i].name);
		assert_non_null(rows[i].why);
		assert_true(rows[i].why[0] != '\0');
		assert_true(rows[i].builds == PC_SB_ALWAYS ||
		            rows[i].builds == PC_SB_SANITIZER ||
		            rows[i].builds == PC_SB_RELEASE);
		if (seccomp_syscall_resolve_name(rows[i].name) ==
		    __NR_SCMP_ERROR)
			fail_msg("unknown syscall %s", rows[i].name);
		if (!pc_sandbox_rule_applies(&rows[i]))
			continue;
		for (j = i + 1; j < n; j++)
			if (pc_sandbox_rule_applies(&rows[j]) &&
			    strcmp(rows[i].name, rows[j].name) == 0)
				fail_msg("%s twice in this build",
				         rows[i].name);
	}
}

/* Calls that would undo the sandbox or leave the process: never allowed
 * (listed at most to fail quietly with EACCES). */
static void
test_dangerous_calls_never_allowed(void **state)
{
	static const char *const never[] = {
	        "execve",
	        "execveat",
	        "fork",
	        "vfork",
	        "clone3",
	        "setuid",
	        "setgid",
	        "setrlimit",
	        "prlimit64",
	        "seccomp",
	        "bpf",
	        "mount",
	        "unshare",
	        "setns",
	        "chroot",
	        "kill",
	        "process_vm_writev",
	        "bind",
	        "listen",
	        "accept",
	        "accept4",
	        "socketpair",
	        "sendto",
	        "memfd_create",
	        "pkey_mprotect",
	        "personality",
	        "io_uring_setup",
	        "userfaultfd",
	        "perf_event_open",
	        "keyctl",
	        "add_key",
	};
	const struct pc_sandbox_rule *rows;
	size_t n, i, j;

	(void)state;
	rows = pc_sandbox_rules(&n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(never) / sizeof(never[0]); j++)
			if (strcmp(rows[i].name, never[j]) == 0 &&
			    rows[i].act != PC_SB_EACCES &&
			    rows[i].act != PC_SB_TCP_EACCES)
				fail_msg("%s is allowed", never[j]);
		/* Release builds: no new task, no tracing, no open. */
		if (!(rows[i].builds & PC_SB_SANITIZER) &&
		    (strcmp(rows[i].name, "clone") == 0 ||
		     strcmp(rows[i].name, "ptrace") == 0))
			fail_msg("%s outside sanitizer builds", rows[i].name);
		if ((strcmp(rows[i].name, "open") == 0 ||
		     strcmp(rows[i].name, "openat") == 0) &&
		    rows[i].builds != PC_SB_SANITIZER)
			assert_int_equal(rows[i].act, PC_SB_EACCES);
		if (strcmp(rows[i].name, "socket") == 0)
			assert_int_equal(rows[i].act, PC_SB_SOCKET);
		if (strcmp(rows[i].name, "mmap") == 0 ||
		    strcmp(rows[i].name, "mprotect") == 0)
			assert_int_equal(rows[i].act, PC_SB_NO_EXEC);
	}
}

static void
test_mode_parse(void **state)
{
	enum pc_sandbox_mode m = PC_SANDBOX_TRAP;

	(void)state;
	assert_int_equal(pc_sandbox_mode_parse(NULL, &m), PC_OK);
	assert_int_equal(m, PC_SANDBOX_ON);
	m = PC_SANDBOX_TRAP;
	assert_int_equal(pc_sandbox_mode_parse("", &m), PC_OK);
	assert_int_equal(m, PC_SANDBOX_ON);
	assert_int_equal(pc_sandbox_mode_parse("on", &m), PC_OK);
	assert_int_equal(m, PC_SANDBOX_ON);
	assert_int_equal(pc_sandbox_mode_parse("off", &m), PC_ERR_INVALID);
	assert_int_equal(pc_sandbox_mode_parse("ON", &m), PC_ERR_INVALID);
	assert_int_equal(m, PC_SANDBOX_ON); /* untouched on error */
#ifdef PIPECHAT_TEST_HOOKS
	assert_int_equal(pc_sandbox_mode_parse("trap", &m), PC_OK);
	assert_int_equal(m, PC_SANDBOX_TRAP);
	assert_int_equal(pc_sandbox_mode_parse("log", &m), PC_OK);
	assert_int_equal(m, PC_SANDBOX_LOG);
#else
	assert_int_equal(pc_sandbox_mode_parse("trap", &m), PC_ERR_INVALID);
	assert_int_equal(pc_sandbox_mode_parse("log", &m), PC_ERR_INVALID);
#endif
}

/* ---- behaviour, in children ------------------------------------------ */

/* What a child does once inside; its return value is its exit status. */
typedef int (*child_fn)(void);

#define CHILD_ENTER_FAILED 90

/* Runs fn in a forked child that entered the sandbox first; returns the raw
 * wait status. */
static int
run_child(child_fn fn)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (pc_sandbox_enter(PC_SANDBOX_ON, PC_SANDBOX_NET_IPC) !=
		    PC_OK)
			_exit(CHILD_ENTER_FAILED);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
assert_exit(int st, int code)
{
	if (!WIFEXITED(st))
		fail_msg("child did not exit: signal %d",
		         WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	assert_int_equal(WEXITSTATUS(st), code);
}

static void
assert_killed(int st)
{
	if (!WIFSIGNALED(st))
		fail_msg("child was not killed: exit %d", WEXITSTATUS(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* pipe/pipe2: not listed, like everything the worker does not do. */
static int
do_pipe(void)
{
	int fds[2];

	return pipe(fds) == 0 ? 1 : 2;
}

/* The loop's calls, memory, an AF_UNIX stream socket. */
static int
do_loop_calls(void)
{
	char b = 'x';
	void *m;
	int s;

	if (write(STDERR_FILENO, &b, 0) < 0)
		return 1;
	if ((m = malloc(1 << 20)) == NULL) /* mmap */
		return 2;
	memset(m, 1, 1 << 20);
	free(m);
	if ((m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return 3;
	munmap(m, 4096);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 4;
	close(s);
	if (getpid() <= 0)
		return 5;
	return 0;
}

static void
test_loop_calls_allowed(void **state)
{
	(void)state;
	assert_exit(run_child(do_loop_calls), 0);
}

static void
test_pipe_is_not_listed(void **state)
{
	(void)state;
	assert_killed(run_child(do_pipe));
}

static int
do_open(void)
{
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		return 10; /* opened */
	return errno == EACCES ? 11 : 12;
}

static void
test_open_refused(void **state)
{
	(void)state;
	/* Sanitizer builds keep open for the sanitizer's own reports. */
	assert_exit(run_child(do_open), pc_sandbox_sanitized() ? 10 : 11);
}

static int
do_inet_socket(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	return s >= 0 ? 20 : 21;
}

static int
do_unix_dgram(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);

	return s >= 0 ? 22 : 23;
}

static void
test_other_sockets_killed(void **state)
{
	(void)state;
	assert_killed(run_child(do_inet_socket));
	assert_killed(run_child(do_unix_dgram));
}

static int
do_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return 30;
}

static void
test_exec_killed(void **state)
{
	(void)state;
	assert_killed(run_child(do_exec));
}

static int
do_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return p > 0 ? 40 : 41;
}

static void
test_fork_killed(void **state)
{
	(void)state;
	if (pc_sandbox_sanitized())
		skip(); /* LeakSanitizer needs clone */
	assert_killed(run_child(do_fork));
}

static int
do_exec_memory(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return m != MAP_FAILED ? 50 : 51;
}

static int
do_mprotect_exec(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return 52;
	return mprotect(m, 4096, PROT_READ | PROT_EXEC) == 0 ? 53 : 54;
}

static void
test_executable_memory_killed(void **state)
{
	(void)state;
	assert_killed(run_child(do_exec_memory));
	assert_killed(run_child(do_mprotect_exec));
}

static int
do_unlisted(void)
{
	struct utsname u;

	return uname(&u) == 0 ? 60 : 61;
}

static void
test_unlisted_call_killed(void **state)
{
	(void)state;
	assert_killed(run_child(do_unlisted));
}

/* A thread that exists before the filter: TSYNC must reach it. */
static int thread_pipe[2];

static void *
thread_main(void *arg)
{
	char b;

	(void)arg;
	if (read(thread_pipe[0], &b, 1) != 1)
		return NULL;
	(void)socket(AF_INET, SOCK_STREAM, 0); /* must kill the process */
	_exit(70);
}

static void
test_existing_thread_is_filtered(void **state)
{
	pid_t pid;
	int st = 0;

	(void)state;
	assert_int_equal(pipe(thread_pipe), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, thread_main, NULL) != 0)
			_exit(71);
		if (pc_sandbox_enter(PC_SANDBOX_ON, PC_SANDBOX_NET_IPC) !=
		    PC_OK)
			_exit(CHILD_ENTER_FAILED);
		if (write(thread_pipe[1], "go", 1) != 1)
			_exit(72);
		pause();
		_exit(73);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
	assert_killed(st);
}

/* The child waits inside the sandbox while the parent reads its limits. */
static void
test_rlimits_and_status(void **state)
{
	int go[2], ready[2];
	struct rlimit nproc, fsize, as;
	char path[64], status[4096], b = 0;
	pid_t pid;
	int st = 0, fd;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		if (pc_sandbox_enter(PC_SANDBOX_ON, PC_SANDBOX_NET_IPC) !=
		    PC_OK)
			_exit(CHILD_ENTER_FAILED);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) < 0)
			_exit(81);
		_exit(80);
	}
	close(go[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &b, 1), 1);
	assert_int_equal(prlimit(pid, RLIMIT_NPROC, NULL, &nproc), 0);
	assert_int_equal(prlimit(pid, RLIMIT_FSIZE, NULL, &fsize), 0);
	assert_int_equal(prlimit(pid, RLIMIT_AS, NULL, &as), 0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, status, sizeof(status) - 1);
	close(fd);
	assert_true(n > 0);
	status[n] = '\0';
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	close(ready[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_exit(st, 80);

	assert_non_null(strstr(status, "NoNewPrivs:\t1"));
	assert_non_null(strstr(status, "Seccomp:\t2"));
	if (pc_sandbox_sanitized()) {
		/* ASan reserves terabytes; its report is a file. */
		assert_true(as.rlim_cur == RLIM_INFINITY);
		return;
	}
	assert_int_equal(nproc.rlim_cur, 0);
	assert_int_equal(nproc.rlim_max, 0);
	assert_int_equal(fsize.rlim_cur, 0);
	assert_int_equal(fsize.rlim_max, 0);
	assert_true(as.rlim_cur != RLIM_INFINITY);
	assert_true(as.rlim_cur == as.rlim_max);
	assert_true(as.rlim_cur > PC_SANDBOX_AS_HEADROOM);
	/* The headroom is on top of what this test process maps. */
	assert_true(as.rlim_cur < PC_SANDBOX_AS_HEADROOM + ((rlim_t)4 << 30));
}

/* RLIMIT_FSIZE 0: an inherited regular file takes no byte (EFBIG), and the
 * worker is not killed by SIGXFSZ for trying. */
static int file_fd = -1;

static int
do_write_file(void)
{
	ssize_t w = write(file_fd, "x", 1);

	if (w == 1)
		return 91;
	return errno == EFBIG ? 92 : 93;
}

static void
test_file_write_refused(void **state)
{
	char tmpl[] = "/tmp/pipechat-test-sandbox-XXXXXX";

	(void)state;
	if (pc_sandbox_sanitized())
		skip(); /* no rlimits under ASan */
	file_fd = mkstemp(tmpl);
	assert_true(file_fd >= 0);
	unlink(tmpl);
	assert_exit(run_child(do_write_file), 92);
	close(file_fd);
}

/* ---- tcp mode (a broker over tls+tcp://) ----------------------------- */

static int
run_child_net(child_fn fn, enum pc_sandbox_net net)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (pc_sandbox_enter(PC_SANDBOX_ON, net) != PC_OK)
			_exit(CHILD_ENTER_FAILED);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* What NNG does to dial a tcp broker, from inside: getaddrinfo of a numeric
 * address as its resolver thread asks it (AI_ADDRCONFIG: the netlink socket
 * fails quietly), stream sockets of both families, the two options. */
static int
do_tcp_dial_calls(void)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s, one = 1, nl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("127.0.0.1", "7100", &hints, &res) != 0)
		return 1;
	freeaddrinfo(res);
	if ((s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 2;
	close(s);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                0)) < 0)
		return 3;
	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0)
		return 4;
	if (getpeername(s, (struct sockaddr *)&sin, &len) == 0 ||
	    errno != ENOTCONN)
		return 5;
	close(s);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (nl >= 0 || errno != EAFNOSUPPORT)
		return 6;
	return 0;
}

static int
do_other_sockopt(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (s < 0)
		return 1;
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return 2; /* must be killed before */
}

static int
do_inet_dgram(void)
{
	return socket(AF_INET, SOCK_DGRAM, 0) >= 0 ? 1 : 2;
}

static int
do_setsockopt_ipc(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), one = 1;

	(void)setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return 1;
}

static int
do_netlink_ipc(void)
{
	return socket(AF_NETLINK, SOCK_RAW, 0) >= 0 ? 1 : 2;
}

static void
test_tcp_mode_dials(void **state)
{
	(void)state;
	assert_exit(run_child_net(do_tcp_dial_calls, PC_SANDBOX_NET_TCP), 0);
	/* anything else stays out: another option, datagrams (DNS) */
	assert_killed(run_child_net(do_other_sockopt, PC_SANDBOX_NET_TCP));
	assert_killed(run_child_net(do_inet_dgram, PC_SANDBOX_NET_TCP));
}

/*
 * The rest of getaddrinfo's netlink query on a socket NNG's resolver thread
 * opened just before the filter came (sandbox.c, "Except once"): in tcp
 * mode each call fails with EACCES and the worker goes on; in ipc mode it
 * is killed as before (no resolver runs there). Returns the wait status.
 */
static int
run_netlink_query_across_filter(enum pc_sandbox_net net)
{
	struct sockaddr_nl nl;
	socklen_t len = sizeof(nl);
	pid_t pid;
	int st = 0, fd;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (fd < 0)
			_exit(1);
		if (pc_sandbox_enter(PC_SANDBOX_ON, net) != PC_OK)
			_exit(CHILD_ENTER_FAILED);
		memset(&nl, 0, sizeof(nl));
		nl.nl_family = AF_NETLINK;
		if (bind(fd, (struct sockaddr *)&nl, sizeof(nl)) == 0 ||
		    errno != EACCES)
			_exit(2);
		if (getsockname(fd, (struct sockaddr *)&nl, &len) == 0 ||
		    errno != EACCES)
			_exit(3);
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&nl,
		           sizeof(nl)) >= 0 ||
		    errno != EACCES)
			_exit(4);
		close(fd);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
test_tcp_mode_survives_a_netlink_query_begun_before(void **state)
{
	(void)state;
	assert_exit(run_netlink_query_across_filter(PC_SANDBOX_NET_TCP), 0);
	assert_killed(run_netlink_query_across_filter(PC_SANDBOX_NET_IPC));
}

static void
test_ipc_mode_has_no_tcp_rows(void **state)
{
	(void)state;
	assert_killed(run_child_net(do_setsockopt_ipc, PC_SANDBOX_NET_IPC));
	assert_killed(run_child_net(do_netlink_ipc, PC_SANDBOX_NET_IPC));
	assert_killed(run_child_net(do_inet_socket, PC_SANDBOX_NET_IPC));
}

/* Landlock: connect to the listed port only, from a thread created after
 * the call as NNG's are (skipped on kernels before 6.7). */
static int ll_port_ok, ll_port_other;

static int
ll_connect(int port)
{
	struct sockaddr_in sin;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? 0 : errno;
	close(s);
	return rc;
}

static void *
ll_thread(void *arg)
{
	int *rc = arg;

	rc[0] = ll_connect(ll_port_ok);
	rc[1] = ll_connect(ll_port_other);
	return NULL;
}

static int
ll_listen(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return s;
}

static void
test_landlock_limits_tcp_ports(void **state)
{
	int a, b, st = 0;
	pid_t pid;

	(void)state;
	a = ll_listen(&ll_port_ok);
	b = ll_listen(&ll_port_other);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint16_t p = (uint16_t)ll_port_ok;
		pthread_t t;
		int rc[2] = {-1, -1};
		enum pc_err e = pc_sandbox_tcp_ports(&p, 1);

		if (e == PC_ERR_UNAVAILABLE)
			_exit(77);
		if (e != PC_OK)
			_exit(CHILD_ENTER_FAILED);
		if (pthread_create(&t, NULL, ll_thread, rc) != 0 ||
		    pthread_join(t, NULL) != 0)
			_exit(71);
		if (rc[0] != 0)
			_exit(72);
		if (rc[1] != EACCES)
			_exit(73);
		_exit(ll_connect(ll_port_other) == EACCES ? 0 : 74);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(a);
	close(b);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		skip(); /* this kernel has no Landlock network rules */
	assert_exit(st, 0);
	assert_int_equal(pc_sandbox_tcp_ports(NULL, 0), PC_ERR_INVALID);
}

/* The program made at build time (common/sandbox_gen.c), with a pid written
 * in, is what libseccomp builds for the same pid now, in both network modes:
 * the prebuilt filter is exactly the allowlist pinned above. */
static void
test_prebuilt_equals_libseccomp(void **state)
{
	static struct sock_filter built[PC_SANDBOX_BPF_MAX];
	static struct sock_filter pre[PC_SANDBOX_BPF_MAX];
	static const uint32_t pids[] = {1, 4242, 4194304};
	size_t nb, np, i;
	int net;

	(void)state;
	for (net = 0; net < PC_SANDBOX_NET_COUNT; net++) {
		for (i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
			nb = np = 0;
			assert_int_equal(
			        pc_sandbox_bpf_build((enum pc_sandbox_net)net,
			                             pids[i], built,
			                             PC_SANDBOX_BPF_MAX, &nb),
			        PC_OK);
			assert_int_equal(pc_sandbox_bpf_prebuilt(
			                         (enum pc_sandbox_net)net,
			                         pids[i], pre,
			                         PC_SANDBOX_BPF_MAX, &np),
			                 PC_OK);
			assert_true(nb > 0);
			assert_int_equal(np, nb);
			assert_memory_equal(pre, built, nb * sizeof(built[0]));
		}
	}
	assert_int_equal(
	        pc_sandbox_bpf_prebuilt(PC_SANDBOX_NET_IPC, 1, pre, 1, &np),
	        PC_ERR_INVALID);
}

/* tgkill: this process may signal itself (abort() of a failed assert), so
 * the pid written into the prebuilt program is the child's own ... */
static int
do_signal_self(void)
{
	raise(SIGUSR1); /* default action: the child dies of SIGUSR1 */
	return 1;
}

/* ... and not another process's. */
static int
do_signal_parent(void)
{
	syscall(SYS_tgkill, getppid(), getppid(), 0);
	return 1;
}

static void
test_tgkill_only_to_itself(void **state)
{
	int st;

	(void)state;
	st = run_child(do_signal_self);
	if (!WIFSIGNALED(st))
		fail_msg("child was not killed: exit %d", WEXITSTATUS(st));
	assert_int_equal(WTERMSIG(st), SIGUSR1);
	assert_killed(run_child(do_signal_parent));
}

#ifdef PIPECHAT_TEST_HOOKS
/* Trap mode names the call on stderr and fails it with ENOSYS. */
static void
test_trap_mode_names_the_call(void **state)
{
	int errp[2], st = 0;
	char buf[512];
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(errp), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct utsname u;

		dup2(errp[1], STDERR_FILENO);
		if (pc_sandbox_enter(PC_SANDBOX_TRAP, PC_SANDBOX_NET_IPC) !=
		    PC_OK)
			_exit(CHILD_ENTER_FAILED);
		if (uname(&u) == 0)
			_exit(100);
		_exit(errno == ENOSYS ? 101 : 102);
	}
	close(errp[1]);
	size_t got = 0;
	while (got < sizeof(buf) - 1 &&
	       (n = read(errp[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(errp[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_exit(st, 101);
	buf[got] = '\0';
	if (strstr(buf, "denied syscall") == NULL ||
	    strstr(buf, "(uname)") == NULL)
		fail_msg("stderr: %s", buf);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_allowlist_is_pinned),
	        cmocka_unit_test(test_rows_complete_and_unique),
	        cmocka_unit_test(test_dangerous_calls_never_allowed),
	        cmocka_unit_test(test_mode_parse),
	        cmocka_unit_test(test_loop_calls_allowed),
	        cmocka_unit_test(test_pipe_is_not_listed),
	        cmocka_unit_test(test_open_refused),
	        cmocka_unit_test(test_other_sockets_killed),
	        cmocka_unit_test(test_exec_killed),
	        cmocka_unit_test(test_fork_killed),
	        cmocka_unit_test(test_executable_memory_killed),
	        cmocka_unit_test(test_unlisted_call_killed),
	        cmocka_unit_test(test_existing_thread_is_filtered),
	        cmocka_unit_test(test_rlimits_and_status),
	        cmocka_unit_test(test_file_write_refused),
	        cmocka_unit_test(test_tcp_mode_dials),
	        cmocka_unit_test(test_tcp_mode_survives_a_netlink_query_begun_before),
	        cmocka_unit_test(test_ipc_mode_has_no_tcp_rows),
	        cmocka_unit_test(test_landlock_limits_tcp_ports),
	        cmocka_unit_test(test_prebuilt_equals_libseccomp),
	        cmocka_unit_test(test_tgkill_only_to_itself),
#ifdef PIPECHAT_TEST_HOOKS
	        cmocka_unit_test(test_trap_mode_names_the_call),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

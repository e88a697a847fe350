/*
 * sandbox.h: the worker's sandbox (STYLE.md, "The worker: tiny, then
 * sandboxed"; kcgi's sandbox-seccomp-filter.c, OpenBSD's pledge after init).
 *
 * pc_sandbox_enter is called once, after the worker has read its settings,
 * opened its log and dialled the broker, and before it reads a byte from the
 * client. It sets RLIMIT_NPROC and RLIMIT_FSIZE to 0 and RLIMIT_AS to the
 * address space in use plus PC_SANDBOX_AS_HEADROOM, sets PR_SET_NO_NEW_PRIVS,
 * and loads a seccomp allowlist into every thread of the process (TSYNC:
 * NNG's threads already run). A system call outside the list kills the whole
 * process (SCMP_ACT_KILL_PROCESS); open and openat fail with EACCES; socket
 * is allowed only for SOCK_STREAM in the families of the network mode (see
 * enum pc_sandbox_net: AF_UNIX for the broker's ipc://, so NNG can redial
 * after a broker restart; AF_INET and AF_INET6 too when a broker is reached
 * over tcp); mmap and mprotect never with PROT_EXEC; tgkill only to the
 * process itself; prctl only to name a thread. SIGXFSZ is ignored, so a write
 * to a regular file fails with EFBIG instead of killing: a worker run by hand
 * with stderr redirected to a file loses its log lines once inside (use a pipe,
 * as websocketd does).
 *
 * Builds with AddressSanitizer (detected at compile time) keep what the
 * sanitizer runtime needs to report a bug from inside and to check for leaks
 * at exit: open/openat are allowed (its report is a file, symbolized from
 * the binary's debug info), LeakSanitizer's tracer task and its calls are
 * allowed, and no rlimit is lowered (ASan reserves terabytes of address
 * space; the tracer is a new task; the report a file). Everything else is
 * the same filter, so chat under ASan exercises it too.
 *
 * Network mode (PC_SANDBOX_NET_TCP, only when a broker is reached over tcp://
 * or tls+tcp://, ws-worker/links.h): NNG redials a tcp broker through
 * getaddrinfo on its resolver thread at every attempt, then socket, connect,
 * two socket options and getpeername. The worker hands NNG numeric addresses
 * only (resolved before the filter), so getaddrinfo never reads a file or asks
 * DNS; what it still does, measured in log and trap mode, is open a netlink
 * socket for AI_ADDRCONFIG, which the filter answers with EAFNOSUPPORT
 * (glibc then assumes both IPv4 and IPv6 exist and goes on). Seccomp cannot
 * read connect's address, so the filter cannot pin the destination:
 * pc_sandbox_tcp_ports restricts the TCP ports with Landlock where the
 * kernel has it (Linux 6.7+), and docs/security.md gives the firewall rules
 * that pin the hosts.
 *
 * Not here: deciding when to enter (ws-worker/main.c), namespaces (AF_UNIX
 * connect reaches any socket file the service user may open: see
 * docs/security.md). Linux only.
 */
#ifndef PIPECHAT_SANDBOX_H
#define PIPECHAT_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

/* Address space allowed beyond what the worker maps when it enters (see
 * sandbox.c for the measurement behind it). */
#define PC_SANDBOX_AS_HEADROOM ((uint64_t)256 * 1024 * 1024)

enum pc_sandbox_mode {
	PC_SANDBOX_ON,   /* kill the process on a syscall outside the list */
	PC_SANDBOX_TRAP, /* debug builds (PIPECHAT_TEST_HOOKS): write
	                    "pipechat sandbox: denied syscall N (name)" to
	                    stderr and fail the call with ENOSYS; the process
	                    goes on (but a thread that has SIGSYS blocked, such
	                    as one just starting, is killed) */
	PC_SANDBOX_LOG,  /* debug builds: allow the call and let the kernel log
	                    it (audit type=1326 in dmesg or the journal): finds
	                    what ASan's threads and tracer need */
};

/* What the worker reaches brokers with (ws-worker/links.h). */
enum pc_sandbox_net {
	PC_SANDBOX_NET_IPC, /* ipc:// only: AF_UNIX stream sockets (default) */
	PC_SANDBOX_NET_TCP, /* some broker over tcp: also AF_INET, AF_INET6
	                       stream sockets and the rows marked tcp below */
};
#define PC_SANDBOX_NET_COUNT 2 /* programs made at build time, one per mode */

/* What the filter does with one system call. */
enum pc_sandbox_act {
	PC_SB_ALLOW,   /* allowed whatever its arguments */
	PC_SB_EACCES,  /* fails with EACCES */
	PC_SB_SOCKET,  /* SOCK_STREAM in the network mode's families; in tcp
	                  mode AF_NETLINK fails with EAFNOSUPPORT */
	PC_SB_NO_EXEC, /* allowed unless the protection (arg 2) has PROT_EXEC */
	PC_SB_SELF_KILL, /* tgkill: allowed to this process's own threads */
	PC_SB_SET_NAME,  /* prctl: PR_SET_NAME only (NNG names its threads) */
	PC_SB_TCP,       /* allowed in tcp mode only (killed in ipc mode) */
	PC_SB_TCP_OPT,   /* setsockopt, tcp mode only: TCP_NODELAY and
	                    SO_KEEPALIVE, nothing else */
	PC_SB_TCP_EACCES, /* tcp mode: fails with EACCES (killed in ipc mode) */
};

/* Which builds a row applies to. */
#define PC_SB_ALWAYS    0x1u /* every build */
#define PC_SB_SANITIZER 0x2u /* only builds with AddressSanitizer */
#define PC_SB_RELEASE   0x4u /* only builds without it */

struct pc_sandbox_rule {
	const char *name; /* as libseccomp spells it ("openat") */
	enum pc_sandbox_act act;
	unsigned builds; /* PC_SB_ALWAYS, PC_SB_SANITIZER or PC_SB_RELEASE */
	const char *why; /* who makes the call */
};

/* Non-zero in a build with AddressSanitizer. */
int pc_sandbox_sanitized(void);
/*
 * The whole rule table (every build's rows), for tests and `-n`; *n is set
 * to its length. pc_sandbox_rule_applies says whether a row is in this
 * build's filter.
 */
const struct pc_sandbox_rule *pc_sandbox_rules(size_t *n);
int pc_sandbox_rule_applies(const struct pc_sandbox_rule *r);

/*
 * "on", "trap" or "log" (case-sensitive; NULL or "" is "on") into *out.
 * PC_OK, or PC_ERR_INVALID for anything else, and for "trap" and "log" in a
 * build without PIPECHAT_TEST_HOOKS; *out written only on success.
 */
enum pc_err pc_sandbox_mode_parse(const char *s, enum pc_sandbox_mode *out);

/*
 * Limits TCP connect (and bind) to the given ports with Landlock (ABI 4,
 * Linux 6.7+), for the calling thread and every thread it creates later:
 * call it before NNG's first socket, whose threads then inherit it (a
 * Landlock domain cannot be put on threads that already run). Sets
 * PR_SET_NO_NEW_PRIVS (Landlock needs it). Irreversible. Ports are borrowed;
 * n is 1..PC_SANDBOX_PORTS_MAX. PC_OK when applied; PC_ERR_UNAVAILABLE when
 * this kernel has no Landlock network rules (logged: nothing else changed,
 * the firewall of docs/security.md is the only port limit then);
 * PC_ERR_INVALID for a bad list; PC_ERR_SYSTEM on another failure (logged).
 */
#define PC_SANDBOX_PORTS_MAX 64
enum pc_err pc_sandbox_tcp_ports(const uint16_t *ports, size_t n);

/*
 * The filter as a BPF program (struct sock_filter, <linux/filter.h>), for the
 * build-time generator (common/sandbox_gen.c) and the tests. Both write the
 * program of PC_SANDBOX_ON for `net` in this build (release or sanitizer),
 * with `pid` as the one process tgkill may signal, into buf (cap
 * instructions) and its length into *len; nothing is written on failure.
 *
 * pc_sandbox_bpf_build asks libseccomp (seccomp_init, the rules,
 * seccomp_export_bpf through a memfd): about 0.3 ms of CPU and 48 KiB of
 * heap. pc_sandbox_bpf_prebuilt copies the program that the generator made
 * with libseccomp at build time (sandbox_bpf.c in the build tree) and writes
 * pid into its one pid slot: microseconds, no heap. tests/unit/test_sandbox.c
 * asserts that the two are equal.
 *
 * PC_OK; PC_ERR_UNAVAILABLE (prebuilt only: this build has no generated
 * program, as in the generator itself); PC_ERR_INVALID when cap is too
 * small; PC_ERR_SYSTEM when libseccomp or the memfd fails (logged).
 */
#define PC_SANDBOX_BPF_MAX 512 /* instructions; the filters have ~110 */
struct sock_filter;
enum pc_err pc_sandbox_bpf_build(enum pc_sandbox_net net, uint32_t pid,
                                 struct sock_filter *buf, size_t cap,
                                 size_t *len);
enum pc_err pc_sandbox_bpf_prebuilt(enum pc_sandbox_net net, uint32_t pid,
                                    struct sock_filter *buf, size_t cap,
                                    size_t *len);

/*
 * One program made at build time (common/sandbox_gen.c writes an array of
 * these, one per enum pc_sandbox_net, into sandbox_bpf.c): insns[pid_at].k
 * holds PC_SANDBOX_PID_MARK, replaced by the worker's pid at load.
 */
#define PC_SANDBOX_PID_MARK 0x7fffff01u /* above any pid_max (2^22) */
struct pc_sandbox_prog {
	const struct sock_filter *insns;
	size_t len;
	size_t pid_at;
};

/*
 * Enters the sandbox described at the top for the calling process, with the
 * network calls of mode `net` (enum pc_sandbox_net). Irreversible.
 * In mode PC_SANDBOX_ON it loads the program made at build time
 * (pc_sandbox_bpf_prebuilt) with seccomp(2) directly, and builds it with
 * libseccomp only when the build has none; trap and log mode always build it
 * with libseccomp (their default action differs).
 * Logs (log.h) what it did and, on failure, why. PC_OK, or PC_ERR_SYSTEM
 * (errno set; the process may be half-restricted: the caller must exit).
 * Call it from the main thread with no lock held by other threads of ours:
 * RLIMIT_AS is measured from /proc/self/statm, the one file it opens.
 */
enum pc_err pc_sandbox_enter(enum pc_sandbox_mode mode,
                             enum pc_sandbox_net net);

#endif

/*
 * pipechat-ws: one process per WebSocket, started by websocketd (contract
 * section 4). It reads one client frame per stdin line and writes one server
 * frame per stdout line, and talks only to the broker: it links no libpq and
 * reads no secret; the cookie's token goes to the broker, which answers with
 * the user and the session.
 *
 * Order (STYLE.md): settings from the environment (then, in the build
 * against musl, the hand-over to pipechat-ws-full when they need it:
 * handover.h), Origin, log, the request
 * (token, room, format), dial the broker and hand it the token, then the
 * sandbox (sandbox.h: after dialling, so that libnng's threads, when a
 * tcp:// broker needs them, exist and the filter reaches them; socket()
 * stays allowed for AF_UNIX so a restarted broker can be redialled, and for
 * AF_INET/AF_INET6 only when a broker is reached over tcp: links.h,
 * sandbox.h), then the loop. With ipc:// brokers (the default) the worker
 * is one thread: the loop polls stdin, stdout (while lines wait: it is
 * non-blocking, see lineio.h) and each broker's socket (bridge.h,
 * splink.h), with a timeout for the connection's timers and the links'
 * redials. It ends at stdin's end, SIGTERM/SIGINT (websocketd
 * sends them after closing stdin), a CLOSE from the broker, an idle socket,
 * an expired token, or a refused hello, and frees everything on the way out.
 *
 * Every socket leaves an audit trail on stderr (audit.h): connect or reject
 * first, disconnect with its reason last.
 *
 * Test hook (builds with PIPECHAT_TEST_HOOKS only): PIPECHAT_SANDBOX_SELFTEST
 * = open|exec|socket|unix|fork|asan|connect:PORT makes the worker try that
 * right after entering the sandbox and log what happened ("sandbox selftest
 * open: refused: Permission denied"), when the filter has not killed it
 * first (asan: a heap overflow, which sanitizer builds must report from
 * inside; connect:PORT: a TCP connect to 127.0.0.1:PORT, which Landlock
 * refuses in tcp mode unless PORT is a broker's);
 * see tests/integration/test_hardening_sandbox.py.
 *
 * `pipechat-ws -n` checks the settings, prints them and exits.
 */
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit.h"
#include "links.h"
#include "cgi.h"
#include "clock.h"
#include "conn.h"
#include "frame.h"
#ifdef PIPECHAT_WS_LEAN
#include "handover.h"
#endif
#include "lineio.h"
#include "log.h"
#include "peer.h"
#include "relro.h"
#include "sandbox.h"
#include "settings.h"
#include "textmode.h"

#define MAIN_BROKER_BATCH 256  /* broker messages per loop turn */
#define MAIN_DRAIN_MS     1000 /* at exit, time left for the last lines */

static volatile sig_atomic_t main_stop;

static void
main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

/* No SA_RESTART: poll() returns EINTR and the loop ends. */
static void
main_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = main_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static enum pc_err
main_out(void *ctx, const char *line, size_t len)
{
	return ws_outq_line(ctx, line, len);
}

static size_t
main_backlog(void *ctx)
{
	return ws_outq_backlog(ctx);
}

/* An error before the connection exists: one frame (or human line), then exit.
 */
static void
main_refuse(struct ws_outq *w, int text, enum pc_err e, const char *message,
            const char *field)
{
	char *line = text ? ws_text_error(pc_err_code(e),
	                                  message != NULL ? message
	                                                  : pc_err_message(e))
	                  : ws_frame_error(e, message, NULL, field, -1);

	if (line != NULL) {
		(void)ws_outq_line(w, line, strlen(line));
		free(line);
	}
}

/* Client side of one loop turn. Returns 0 at the end of stdin (*why says
 * how it ended). */
static int
main_client(struct ws_reader *r, struct ws_conn *c, const char **why)
{
	const char *line;
	size_t len;

	if (ws_reader_fill(r) != PC_OK) {
		pc_log_warn("stdin: %s", strerror(errno));
		*why = "stdin_error";
		return 0;
	}
	/* Everything buffered (at most WS_LINE_MAX + 1 bytes). */
	while (!c->done) {
		switch (ws_reader_next(r, &line, &len)) {
		case WS_LINE_OK:
			ws_conn_client_line(c, line, len);
			break;
		case WS_LINE_TOO_LARGE:
			ws_conn_client_too_large(c);
			break;
		case WS_LINE_EOF:
			*why = "client_closed";
			return 0;
		case WS_LINE_NONE:
			return 1;
		}
	}
	return 1;
}

/* Runs the connection until it ends; returns why (a static word for the
 * audit's disconnect line). */
static const char *
main_loop(struct ws_links *l, struct ws_conn *c, struct ws_reader *r,
          struct ws_outq *out)
{
	/* stdout, stdin, then WS_BRIDGE_NFDS per broker (links.h) */
	struct pollfd fds[2 + WS_BRIDGE_NFDS * PC_SHARD_MAX];
	nfds_t nfds = 2 + ws_links_nfds(l);
	int timeout, n, lw, trimmed = 0;
	int64_t now;
	const char *why = NULL;

	while (!main_stop && !c->done && why == NULL) {
		now = pc_clock_mono_ms();
		timeout = ws_conn_timers(c, now, pc_clock_now_ms());
		if (c->done)
			break;
		lw = ws_links_wait_ms(l, now);
		if (lw >= 0 && (timeout < 0 || lw < timeout))
			timeout = lw;
		/* Once signed in, the worker mostly waits: give back the heap
		 * pages that setting up left free (with the line buffer first,
		 * see main: 19 KiB less per idle worker; bench/README.md). */
		if (c->authed && !trimmed) {
#ifdef __GLIBC__
			malloc_trim(0); /* musl's malloc returns pages itself */
#endif
			trimmed = 1;
		}
		/* stdout only while lines wait for the client to read. */
		fds[0].fd = ws_outq_backlog(out) > 0 ? 1 : -1;
		fds[0].events = POLLOUT;
		/* Client frames wait in the pipe until the hello is written;
		 * after it stdin is always read, even while stdout is full
		 * (see lineio.h: websocketd would deadlock otherwise). */
		fds[1].fd = c->authed ? 0 : -1;
		fds[1].events = POLLIN;
		ws_links_pollfds(l, fds + 2);
		n = poll(fds, nfds, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pc_log_err("poll: %s", strerror(errno));
			why = "poll_error";
			break;
		}
		if (fds[0].revents & (POLLERR | POLLHUP)) {
			pc_log_info("stdout closed");
			why = "client_gone";
			break;
		}
		if ((fds[0].revents & POLLOUT) && ws_outq_flush(out) != PC_OK) {
			pc_log_info("client gone: %s", strerror(errno));
			why = "client_gone";
			break;
		}
		/* every turn: a redial or a buffered message needs no event */
		ws_links_turn(l, fds + 2, MAIN_BROKER_BATCH);
		if (!c->done &&
		    (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !main_client(r, c, &why))
			break;
	}
	if (c->why != NULL)
		return c->why;
	if (why != NULL)
		return why;
	return main_stop ? "signal" : "ended";
}

#ifdef PIPECHAT_TEST_HOOKS
/* The test hook (see the top): one forbidden (or allowed) act, logged. */
static void
main_selftest(const char *what)
{
	int fd = -1;

	if (what == NULL || *what == '\0')
		return;
	pc_log_warn("sandbox selftest %s: trying", what);
	errno = 0;
	if (strcmp(what, "open") == 0)
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	else if (strcmp(what, "exec") == 0)
		fd = execl("/bin/true", "true", (char *)NULL);
	else if (strcmp(what, "socket") == 0)
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	else if (strcmp(what, "unix") == 0)
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	else if (strncmp(what, "connect:", 8) == 0) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)atoi(what + 8));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			int saved = errno;

			close(fd);
			fd = -1;
			errno = saved;
		}
	}
	else if (strcmp(what, "asan") == 0) {
		/* A heap overflow the sanitizer must report from in here
		 * (one byte past 8; the index hides it from the compiler). */
		size_t past = strlen(what) * 2;
		volatile char *p = malloc(past);

		if (p != NULL && pc_sandbox_sanitized())
			fd = p[past];
		free((void *)p);
		fd = 0;
	} else if (strcmp(what, "fork") == 0) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		fd = pid > 0 ? 0 : -1;
	} else {
		pc_log_warn("sandbox selftest %s: unknown", what);
		return;
	}
	if (fd >= 0) {
		pc_log_warn("sandbox selftest %s: allowed", what);
		if (fd > 2)
			close(fd);
	} else
		pc_log_warn("sandbox selftest %s: refused: %s", what,
		            strerror(errno));
}
#endif

int
main(int argc, char **argv)
{
	/* The three largest (12 KiB) in zeroed static storage, not in
	 * main's frame: a page of them is only made if written (the
	 * settings' 16 broker slots, which settings.c leaves alone, and most
	 * of the 4 KiB token buffer never are), while a frame that size put
	 * every deeper call 3 pages further down the stack, each resident
	 * for the socket's life. With settings.c: an idle worker's own pages
	 * 84 KiB -> 68 (ws-worker/README.md). main runs once. */
	static struct ws_settings set;
	static char errbuf[2048];
	static char token[WS_TOKEN_MAX + 1];
	struct ws_outq w;
	struct ws_reader r;
	struct ws_links links;
	struct ws_conn c;
	struct ws_conn_params p;
	struct ws_query q;
	struct ws_audit audit;
	char addr[PC_ADDR_MAX];
	const char *field = NULL, *why = NULL;
	int code = 1;
	enum pc_err e;

	/* Before anything reads input: musl's start leaves it writable. */
	if (ws_relro_seal() != 0) {
		fprintf(stderr, "pipechat-ws: sealing relocated data: %s\n",
		        strerror(errno));
		return 1;
	}
	memset(&r, 0, sizeof(r));
	memset(&links, 0, sizeof(links));
	memset(&c, 0, sizeof(c));
	memset(&q, 0, sizeof(q));
	ws_audit_init(&audit, -1, 0, NULL); /* no lines before the address */
	/* One malloc arena for every thread, before NNG starts any: a thread
	 * arena reserves 64 MiB of address space, which RLIMIT_AS (sandbox.h)
	 * would have to allow for each of NNG's threads; the worker's threads
	 * are idle but for the broker link, so they never contend for it. */
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 1);
#endif
	main_signals();
	if (ws_outq_init(&w, 1) != PC_OK) {
		fprintf(stderr, "pipechat-ws: stdout: %s\n", strerror(errno));
		return 1;
	}
	/* The 64 KiB line buffer is a mapping of its own (lineio.c), so the
	 * settings' transient blocks never sit inside it and malloc_trim
	 * (glibc) gives their pages back (bench/README.md, "sockets"). */
	if (ws_reader_init(&r, 0) != PC_OK) {
		fprintf(stderr, "pipechat-ws: stdin buffer: %s\n",
		        strerror(errno));
		goto out;
	}

	if (ws_settings_load(&set, errbuf, sizeof(errbuf)) != PC_OK) {
		fprintf(stderr, "pipechat-ws: bad settings:\n%s\n", errbuf);
		if (argc < 2)
			main_refuse(&w, 0, PC_ERR_UNAVAILABLE,
			            "the message service is misconfigured",
			            NULL);
		goto out;
	}
#ifdef PIPECHAT_WS_LEAN
	if ((why = ws_handover_reason(&set)) != NULL) {
		ws_handover(argv, why); /* returns only on failure */
		why = NULL;
		main_refuse(&w, 0, PC_ERR_UNAVAILABLE,
		            "the message service is misconfigured", NULL);
		goto out;
	}
#endif
	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		ws_settings_print(&set);
		code = 0;
		goto out;
	}
	ws_audit_client_addr(set.trusted_proxies, getenv("REMOTE_ADDR"),
	                     getenv("HTTP_X_FORWARDED_FOR"), addr,
	                     sizeof(addr));
	ws_audit_init(&audit, STDERR_FILENO, (long)getpid(), addr);
	e = ws_cgi_query(getenv("QUERY_STRING"), &q, &field);
	if (!pc_peer_origin_ok(set.origins, getenv("HTTP_ORIGIN"))) {
		main_refuse(&w, q.text, PC_ERR_FORBIDDEN_ORIGIN, NULL, NULL);
		why = pc_err_code(PC_ERR_FORBIDDEN_ORIGIN);
		goto out;
	}
	pc_log_open("pipechat-ws", 0, set.log_level);
	if (e != PC_OK) {
		/* A bad format or room: text mode (or an unknown mode) cannot
		 * go on; JSON mode answers it and carries on without the join.
		 */
		main_refuse(&w, q.text, e, NULL, field);
		why = pc_err_code(e);
		if (q.text || strcmp(field, "format") == 0)
			goto out;
		ws_audit_refused(&audit, why, 0, field);
		why = NULL;
		q.room = 0;
	}
	if (q.text && q.room == 0) {
		main_refuse(&w, 1, PC_ERR_INVALID, "text mode needs ?room=ID",
		            "room");
		why = pc_err_code(PC_ERR_INVALID);
		goto out;
	}
	if (ws_cgi_token(getenv("HTTP_COOKIE"), token, sizeof(token)) !=
	    PC_OK) {
		main_refuse(&w, q.text, PC_ERR_UNAUTHENTICATED, NULL, NULL);
		why = pc_err_code(PC_ERR_UNAUTHENTICATED);
		goto out;
	}
	if ((e = ws_links_open(&links, &set)) != PC_OK) {
		main_refuse(&w, q.text, PC_ERR_UNAVAILABLE, NULL, NULL);
		why = pc_err_code(PC_ERR_UNAVAILABLE);
		goto out;
	}
	/* After the dial (NNG's threads exist: TSYNC reaches them), before
	 * the first byte from the client. */
	if (pc_sandbox_enter(set.sandbox_mode, ws_links_net(&links)) != PC_OK) {
		main_refuse(&w, q.text, PC_ERR_UNAVAILABLE, NULL, NULL);
		ws_audit_disconnect(&audit, "sandbox_failed");
		goto out;
	}
	/* Give back the freed heap of the start (the settings' transient
	 * blocks; in trap and log mode also libseccomp's 48 KiB, since only
	 * "on" loads the program made at build time: sandbox.h). madvise and
	 * brk are in the allowlist. A worker lives as long as its socket
	 * (bench/README.md, "sockets"). */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
#ifdef PIPECHAT_TEST_HOOKS
	main_selftest(getenv("PIPECHAT_SANDBOX_SELFTEST"));
#endif
	memset(&p, 0, sizeof(p));
	p.text = q.text;
	p.room = q.room;
	p.max_rooms = set.limits.max_rooms_per_socket;
	p.token = token;
	p.out = main_out;
	p.backlog = main_backlog;
	p.out_ctx = &w;
	p.link = ws_links_send;
	p.link_ctx = &links;
	p.audit = &audit;
	ws_conn_init(&c, &p);
	ws_links_bind(&links, &c, token);
	ws_audit_disconnect(&audit, main_loop(&links, &c, &r, &w));
	code = 0;
out:
	if (why != NULL) {
		/* Refused before the connection existed: the code is the
		 * reason (why is set only on those paths). */
		ws_audit_reject(&audit, why);
		ws_audit_disconnect(&audit, why);
	}
	/* The audit trail's last line is read before we exit (lineio.h:
	 * websocketd drops what it has not read once it reaps us), then the
	 * last lines (a CLOSE's error, a refusal) reach the client. */
	ws_pipe_settle(STDERR_FILENO, WS_SETTLE_MS);
	ws_outq_drain(&w, main_stop ? 100 : MAIN_DRAIN_MS);
	ws_outq_free(&w);
	ws_conn_free(&c);
	ws_links_close(&links);
	ws_reader_free(&r);
	ws_settings_free(&set);
	explicit_bzero(token, sizeof(token));
	return code;
}

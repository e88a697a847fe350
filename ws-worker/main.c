/*
 * pipechat-ws: one process per WebSocket, started by websocketd (contract
 * section 4). It reads one client frame per stdin line and writes one server
 * frame per stdout line, and talks only to the broker: it links no libpq and
 * reads no secret; the cookie's token goes to the broker, which answers with
 * the user and the session.
 *
 * Order (STYLE.md): settings from the environment, Origin, log, the request
 * (token, room, format), dial the broker and hand it the token, then the
 * sandbox (sandbox.h: after dialling, so NNG's threads and socket exist and
 * the filter reaches them; socket() stays allowed for AF_UNIX so NNG can
 * redial a restarted broker), then the loop. The loop polls stdin, stdout
 * (while lines wait: it is non-blocking, see lineio.h), the NNG receive
 * descriptor and the pipe-event descriptor, with a timeout for the
 * connection's timers. It ends at stdin's end, SIGTERM/SIGINT (websocketd
 * sends them after closing stdin), a CLOSE from the broker, an idle socket,
 * an expired token, or a refused hello, and frees everything on the way out.
 *
 * Every socket leaves an audit trail on stderr (audit.h): connect or reject
 * first, disconnect with its reason last.
 *
 * Test hook (builds with PIPECHAT_TEST_HOOKS only): PIPECHAT_SANDBOX_SELFTEST
 * = open|exec|socket|unix|fork|asan makes the worker try that right after
 * entering the sandbox and log what happened ("sandbox selftest open:
 * refused: Permission denied"), when the filter has not killed it first
 * (asan: a heap overflow, which sanitizer builds must report from inside);
 * see tests/integration/test_hardening_sandbox.py.
 *
 * `pipechat-ws -n` checks the settings, prints them and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit.h"
#include "bridge.h"
#include "cgi.h"
#include "clock.h"
#include "conn.h"
#include "frame.h"
#include "lineio.h"
#include "log.h"
#include "peer.h"
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

/* Broker side of one loop turn: pipe events, then waiting messages. */
static void
main_broker(struct ws_bridge *b, struct ws_conn *c, short events_fd_revents)
{
	nng_msg *m;
	int went = 0, came = 0, i;

	if (events_fd_revents & POLLIN) {
		ws_bridge_events(b, &went, &came);
		if (went)
			ws_conn_link_down(c);
		if (came) {
			pc_log_info("broker link up");
			ws_conn_link_up(c);
		}
	}
	for (i = 0; i < MAIN_BROKER_BATCH && !c->done; i++) {
		if (ws_bridge_recv(b, &m) != PC_OK)
			break;
		ws_conn_broker(c, nng_msg_body(m), nng_msg_len(m));
		nng_msg_free(m);
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
main_loop(struct ws_bridge *b, struct ws_conn *c, struct ws_reader *r,
          struct ws_outq *out)
{
	struct pollfd fds[4];
	int timeout, n;
	const char *why = NULL;

	while (!main_stop && !c->done && why == NULL) {
		timeout = ws_conn_timers(c, pc_clock_mono_ms(),
		                         pc_clock_now_ms());
		if (c->done)
			break;
		fds[0].fd = b->event_fd;
		fds[0].events = POLLIN;
		fds[1].fd = b->recv_fd;
		fds[1].events = POLLIN;
		/* stdout only while lines wait for the client to read. */
		fds[2].fd = ws_outq_backlog(out) > 0 ? 1 : -1;
		fds[2].events = POLLOUT;
		/* Client frames wait in the pipe until the hello is written;
		 * after it stdin is always read, even while stdout is full
		 * (see lineio.h: websocketd would deadlock otherwise). */
		fds[3].fd = c->authed ? 0 : -1;
		fds[3].events = POLLIN;
		n = poll(fds, 4, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pc_log_err("poll: %s", strerror(errno));
			why = "poll_error";
			break;
		}
		if (n == 0)
			continue;
		if (fds[2].revents & (POLLERR | POLLHUP)) {
			pc_log_info("stdout closed");
			why = "client_gone";
			break;
		}
		if ((fds[2].revents & POLLOUT) && ws_outq_flush(out) != PC_OK) {
			pc_log_info("client gone: %s", strerror(errno));
			why = "client_gone";
			break;
		}
		if (fds[0].revents || fds[1].revents)
			main_broker(b, c, fds[0].revents);
		if (!c->done &&
		    (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) &&
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
	struct ws_settings set;
	struct ws_outq w;
	struct ws_reader r;
	struct ws_bridge b;
	struct ws_conn c;
	struct ws_conn_params p;
	struct ws_query q;
	struct ws_audit audit;
	char errbuf[2048];
	char token[WS_TOKEN_MAX + 1];
	char addr[PC_ADDR_MAX];
	const char *field = NULL, *why = NULL;
	int code = 1;
	enum pc_err e;

	memset(&set, 0, sizeof(set));
	memset(&r, 0, sizeof(r));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&q, 0, sizeof(q));
	b.event_fd = -1;
	ws_audit_init(&audit, -1, 0, NULL); /* no lines before the address */
	/* One malloc arena for every thread, before NNG starts any: a thread
	 * arena reserves 64 MiB of address space, which RLIMIT_AS (sandbox.h)
	 * would have to allow for each of NNG's threads; the worker's threads
	 * are idle but for the broker link, so they never contend for it. */
	mallopt(M_ARENA_MAX, 1);
	main_signals();
	if (ws_outq_init(&w, 1) != PC_OK) {
		fprintf(stderr, "pipechat-ws: stdout: %s\n", strerror(errno));
		return 1;
	}

	if (ws_settings_load(&set, errbuf, sizeof(errbuf)) != PC_OK) {
		fprintf(stderr, "pipechat-ws: bad settings:\n%s\n", errbuf);
		if (argc < 2)
			main_refuse(&w, 0, PC_ERR_UNAVAILABLE,
			            "the message service is misconfigured",
			            NULL);
		goto out;
	}
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
	if ((e = ws_reader_init(&r, 0)) != PC_OK ||
	    (e = ws_bridge_open(&b, set.broker_dir)) != PC_OK) {
		main_refuse(&w, q.text, PC_ERR_UNAVAILABLE, NULL, NULL);
		why = pc_err_code(PC_ERR_UNAVAILABLE);
		goto out;
	}
	/* After the dial (NNG's threads exist: TSYNC reaches them), before
	 * the first byte from the client. */
	if (pc_sandbox_enter(set.sandbox_mode, AF_UNIX) != PC_OK) {
		main_refuse(&w, q.text, PC_ERR_UNAVAILABLE, NULL, NULL);
		ws_audit_disconnect(&audit, "sandbox_failed");
		goto out;
	}
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
	p.link = ws_bridge_send;
	p.link_ctx = &b;
	p.audit = &audit;
	ws_conn_init(&c, &p);
	ws_audit_disconnect(&audit, main_loop(&b, &c, &r, &w));
	code = 0;
out:
	if (why != NULL) {
		/* Refused before the connection existed: the code is the
		 * reason (why is set only on those paths). */
		ws_audit_reject(&audit, why);
		ws_audit_disconnect(&audit, why);
	}
	/* The last lines (a CLOSE's error, a refusal) reach the client. */
	ws_outq_drain(&w, main_stop ? 100 : MAIN_DRAIN_MS);
	ws_outq_free(&w);
	ws_conn_free(&c);
	ws_bridge_close(&b);
	ws_reader_free(&r);
	ws_settings_free(&set);
	explicit_bzero(token, sizeof(token));
	return code;
}

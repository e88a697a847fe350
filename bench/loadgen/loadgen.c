/*
 * loadgen: pipechat's WebSocket load generator (bench/README.md). One thread,
 * one epoll loop, many connections. Modes:
 *
 *   idle    open -n sockets (at most -k handshakes at once), each ready when a
 *           frame containing --ready arrives (or at the 101 when --ready is
 *           empty); print a READY line, then hold them until stdin closes or
 *           -d seconds pass. --say TEXT: each sends TEXT at its 101 (so an
 *           echo program proves it runs by sending it back: --ready TEXT).
 *   fanout  open -n sockets (all in one room through the URL), then the first
 *           -s of them send -r messages per second in total for -d seconds;
 *           every text frame carrying "lg <seq> <t>" is a delivery, its
 *           latency now - t. --expect-acks: expected deliveries = acks x n
 *           (pipechat: every subscriber, the sender included); otherwise
 *           expected = sent (an echo server).
 *   ack     -s closed-loop senders: each sends, waits for its ack, sends again,
 *           for -d seconds; figures are acks per second and ack latency.
 *           -w W: each keeps W sends in flight (sends W, then one more per
 *           ack or error), as a client that does not wait for each ack.
 *
 * --rooms ID,ID,...: connection i joins (URL ?room=) and sends to the i-th
 * room of the list (cycling), instead of -R and the URL's room for all.
 *
 * Output: one line "RESULT key=value ..." on stdout (plus READY in idle mode);
 * diagnostics on stderr. Its own CPU time is in the RESULT (cpu_s).
 * Not for: correctness testing (tests/ does that) or use over a network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ws.h"

#define LG_MAX_EVENTS 512

struct lg {
	const char *mode;
	struct ws_target t;
	int n, k, senders, window, room, expect_acks;
	double rate, duration, timeout;
	const char *ready;
	const char *say; /* --say: sent at the 101; NULL: nothing */
	int *rooms; /* --rooms: the list, nrooms long; NULL: -R for all */
	int nrooms;
	struct ws_conn *c;
	int epfd;
	int opened, failed, ready_n, closed_n;
	int64_t t_first, t_last_ready;
	/* measured phase */
	uint64_t sent, acks, deliveries, errors, gaps;
	uint32_t *lat;  /* microseconds */
	size_t nlat, caplat;
	uint32_t *alat; /* ack latencies, microseconds */
	size_t nalat, capalat;
	int measuring;
	int sending;          /* ack mode: an ack is answered with the next send */
	uint64_t acks_in_run; /* acks that came within the -d seconds */
	uint64_t seq;
};

static void
lg_push(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	uint32_t *p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		p = realloc(*a, *cap * sizeof(**a));
		if (p == NULL) {
			fprintf(stderr, "loadgen: out of memory\n");
			exit(2);
		}
		*a = p;
	}
	(*a)[(*n)++] = v;
}

static int
lg_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile q (0..1) of sorted a[0..n) in milliseconds; -1 when empty. */
static double
lg_pct(const uint32_t *a, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return a[i] / 1000.0;
}

static double
lg_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Sends one message from connection c: a pipechat send frame whose body and
 * client_id carry the send time, so any echo of it can be timed. */
static void
lg_send_one(struct lg *g, struct ws_conn *c)
{
	char buf[256];
	int64_t now = ws_now_ns();
	int n;

	g->seq++;
	n = snprintf(buf, sizeof(buf),
	    "{\"type\":\"send\",\"room\":%d,\"body\":\"lg %" PRIu64 " %" PRId64
	    "\",\"client_id\":\"k%d_%" PRIu64 "_%" PRId64 "\"}",
	    g->rooms != NULL ? g->rooms[c->idx % g->nrooms] : g->room, g->seq, now,
	    c->idx, g->seq, now);
	if (ws_send_text(c, buf, (size_t)n) == 0) {
		g->sent++;
		ws_flush(c);
	}
}

/* The decimal digits at *p (before end) into *v, *p moved past them; when
 * sep is not 0, that byte must come first. 0, or -1 when they are not
 * there. What sscanf did here, at a fraction of its cost, which the load
 * generator pays once per delivery. */
static int
lg_uint(const char **p, const char *end, char sep, uint64_t *v)
{
	const char *s = *p, *digits;
	uint64_t n = 0;

	if (sep != 0 && (s == end || *s++ != sep))
		return -1;
	for (digits = s; s < end && *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (uint64_t)(*s - '0');
	if (s == digits)
		return -1;
	*p = s;
	*v = n;
	return 0;
}

static void
lg_on_text(struct ws_conn *c, const char *d, size_t len, void *arg)
{
	struct lg *g = arg;
	const char *p;
	int64_t t, now;
	uint64_t seq, tt;

	if (d == NULL) { /* the 101 */
		g->opened++;
		if (g->say != NULL && ws_send_text(c, g->say, strlen(g->say)) == 0)
			ws_flush(c);
		if (g->ready[0] == '\0') {
			c->ready = 1;
			g->ready_n++;
			g->t_last_ready = ws_now_ns();
		}
		return;
	}
	if (!c->ready) {
		if (memmem(d, len, g->ready, strlen(g->ready)) != NULL) {
			c->ready = 1;
			g->ready_n++;
			g->t_last_ready = ws_now_ns();
		} else if (memmem(d, len, "\"type\":\"error\"", 14) != NULL) {
			if (g->errors++ < 3)
				fprintf(stderr, "loadgen: before ready: %.*s\n", (int)(len > 300 ? 300 : len), d);
		}
		return;
	}
	if (!g->measuring)
		return;
	now = ws_now_ns();
	p = memmem(d, len, "lg ", 3);
	if (p != NULL && p != d + len - 3 &&
	    memmem(d, len, "\"type\":\"ack\"", 12) == NULL) {
		p += 3; /* "lg <seq> <ns>" */
		if (lg_uint(&p, d + len, 0, &seq) == 0 &&
		    lg_uint(&p, d + len, ' ', &tt) == 0) {
			t = (int64_t)tt;
			g->deliveries++;
			lg_push(&g->lat, &g->nlat, &g->caplat,
			    (uint32_t)((now - t) / 1000 > UINT32_MAX ? UINT32_MAX : (now - t) / 1000));
		}
		return;
	}
	if (memmem(d, len, "\"type\":\"ack\"", 12) != NULL) {
		g->acks++;
		/* "k<connection>_<seq>_<ns>" */
		if ((p = memmem(d, len, "\"client_id\":\"k", 14)) != NULL) {
			p += 14;
			if (lg_uint(&p, d + len, 0, &seq) == 0 &&
			    lg_uint(&p, d + len, '_', &seq) == 0 &&
			    lg_uint(&p, d + len, '_', &tt) == 0)
				lg_push(&g->alat, &g->nalat, &g->capalat,
				    (uint32_t)((now - (int64_t)tt) / 1000));
		}
		if (g->sending)
			lg_send_one(g, c);
		return;
	}
	if (memmem(d, len, "\"type\":\"gap\"", 12) != NULL) {
		g->gaps++;
		return;
	}
	if (memmem(d, len, "\"type\":\"error\"", 14) != NULL) {
		if (g->errors++ < 5)
			fprintf(stderr, "loadgen: %.*s\n", (int)(len > 300 ? 300 : len), d);
		if (g->sending && g->errors < 1000)
			lg_send_one(g, c);
	}
}

/* One turn of the event loop, at most ms milliseconds. */
static void
lg_poll(struct lg *g, int ms)
{
	struct epoll_event ev[LG_MAX_EVENTS];
	struct ws_conn *c;
	int n, i;

	n = epoll_wait(g->epfd, ev, LG_MAX_EVENTS, ms);
	for (i = 0; i < n; i++) {
		c = ev[i].data.ptr;
		if (c->state == WS_CLOSED)
			continue;
		if (ev[i].events & EPOLLOUT)
			if (ws_flush(c) != 0)
				goto dead;
		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			if (ws_read(c, lg_on_text, g, (ev[i].events &
			    (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) != 0)
				goto dead;
		continue;
dead:
		if (c->ready)
			g->closed_n++;
		else
			g->failed++;
		ws_close(c);
	}
}

static void lg_usage(void);

/* The target of connection i: the URL's, or with --rooms its own room. */
static const struct ws_target *
lg_target(struct lg *g, int i)
{
	static struct ws_target t;
	char *q;

	if (g->rooms == NULL)
		return &g->t;
	t = g->t;
	if ((q = strchr(t.path, '?')) != NULL)
		*q = '\0';
	snprintf(t.path + strlen(t.path), sizeof(t.path) - strlen(t.path),
	    "?room=%d", g->rooms[i % g->nrooms]);
	return &t;
}

/* Parses --rooms' comma-separated list; exits on a bad one. */
static void
lg_rooms(struct lg *g, const char *v)
{
	const char *p;
	char *end;
	long id;

	g->nrooms = 1;
	for (p = v; *p; p++)
		g->nrooms += *p == ',';
	if ((g->rooms = calloc((size_t)g->nrooms, sizeof(*g->rooms))) == NULL)
		exit(2);
	for (p = v, g->nrooms = 0; *p; p = *end ? end + 1 : end) {
		id = strtol(p, &end, 10);
		if (end == p || id <= 0 || id > 0x7fffffff || (*end && *end != ','))
			lg_usage();
		g->rooms[g->nrooms++] = (int)id;
	}
	if (g->nrooms == 0)
		lg_usage();
}

/* Opens every connection, k handshakes at a time; 0 when all are ready
 * before the timeout. */
static int
lg_open_all(struct lg *g)
{
	int next = 0, i, pending;
	int64_t deadline = ws_now_ns() + (int64_t)(g->timeout * 1e9);

	g->t_first = ws_now_ns();
	while (g->ready_n + g->failed < g->n) {
		pending = 0;
		for (i = 0; i < next; i++)
			if (g->c[i].state != WS_CLOSED && !g->c[i].ready)
				pending++;
		while (next < g->n && pending < g->k) {
			g->c[next].idx = next;
			if (ws_open(&g->c[next], lg_target(g, next), g->epfd) != 0) {
				fprintf(stderr, "loadgen: connect %d: %s\n", next, strerror(errno));
				g->failed++;
			} else {
				pending++;
			}
			next++;
		}
		lg_poll(g, 10);
		if (ws_now_ns() > deadline) {
			fprintf(stderr, "loadgen: timeout: %d of %d ready\n", g->ready_n, g->n);
			return -1;
		}
	}
	return g->failed ? -1 : 0;
}

static void
lg_usage(void)
{
	fprintf(stderr,
	    "usage: loadgen idle|fanout|ack -u ws://127.0.0.1:PORT/ws?room=ID [-c COOKIE]\n"
	    "  [-o ORIGIN] [-n CONNS] [-k PARALLEL] [-s SENDERS] [-w WINDOW] [-r RATE] [-d SECS]\n"
	    "  [-R ROOM | --rooms ID,ID,...] [--ready TEXT] [--say TEXT] [--expect-acks]\n"
	    "  [-T TIMEOUT]\n");
	exit(2);
}

static void
lg_args(struct lg *g, int argc, char **argv)
{
	int i;

	if (argc < 2)
		lg_usage();
	g->mode = argv[1];
	g->n = 1;
	g->k = 100;
	g->senders = 1;
	g->window = 1;
	g->rate = 100;
	g->duration = 5;
	g->timeout = 120;
	g->ready = "";
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--expect-acks") == 0) {
			g->expect_acks = 1;
			continue;
		}
		if (v == NULL)
			lg_usage();
		i++;
		if (strcmp(a, "-u") == 0) {
			if (ws_parse_url(v, &g->t) != 0)
				lg_usage();
		} else if (strcmp(a, "-c") == 0) {
			snprintf(g->t.cookie, sizeof(g->t.cookie), "%s", v);
		} else if (strcmp(a, "-o") == 0) {
			snprintf(g->t.origin, sizeof(g->t.origin), "%s", v);
		} else if (strcmp(a, "-n") == 0) {
			g->n = atoi(v);
		} else if (strcmp(a, "-k") == 0) {
			g->k = atoi(v);
		} else if (strcmp(a, "-s") == 0) {
			g->senders = atoi(v);
		} else if (strcmp(a, "-w") == 0) {
			g->window = atoi(v);
		} else if (strcmp(a, "-r") == 0) {
			g->rate = atof(v);
		} else if (strcmp(a, "-d") == 0) {
			g->duration = atof(v);
		} else if (strcmp(a, "-T") == 0) {
			g->timeout = atof(v);
		} else if (strcmp(a, "-R") == 0) {
			g->room = atoi(v);
		} else if (strcmp(a, "--ready") == 0) {
			g->ready = v;
		} else if (strcmp(a, "--say") == 0) {
			g->say = v;
		} else if (strcmp(a, "--rooms") == 0) {
			lg_rooms(g, v);
		} else {
			lg_usage();
		}
	}
	if (g->t.port == 0 || g->n < 1 || g->k < 1 || g->senders < 1 || g->senders > g->n ||
	    g->window < 1 || g->window > 256)
		lg_usage();
}

static void
lg_idle(struct lg *g)
{
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	int64_t end;
	double open_s;
	char b[64];

	int ok = lg_open_all(g);
	open_s = (g->t_last_ready - g->t_first) / 1e9;
	printf("READY ok=%d ready=%d failed=%d open_s=%.3f open_per_s=%.0f cpu_s=%.3f\n",
	    ok == 0, g->ready_n, g->failed, open_s, open_s > 0 ? g->ready_n / open_s : 0,
	    lg_cpu());
	fflush(stdout);
	end = ws_now_ns() + (int64_t)(g->duration * 1e9);
	while (ws_now_ns() < end) {
		lg_poll(g, 0);
		if (poll(&pfd, 1, 50) > 0 && read(0, b, sizeof(b)) <= 0)
			break;
	}
	printf("RESULT ready=%d failed=%d closed=%d\n", g->ready_n, g->failed, g->closed_n);
}

static void
lg_load(struct lg *g)
{
	int64_t start, end, now, last_progress;
	uint64_t due, expected, last_del = 0;
	double cpu0, elapsed, cpu_s;
	int rr = 0, i;

	if (lg_open_all(g) != 0) {
		printf("RESULT ok=0 ready=%d failed=%d\n", g->ready_n, g->failed);
		return;
	}
	/* Settle: let join replays and presence frames pass. */
	for (now = ws_now_ns(), end = now + 300000000; ws_now_ns() < end;)
		lg_poll(g, 20);
	cpu0 = lg_cpu();
	g->measuring = 1;
	start = ws_now_ns();
	end = start + (int64_t)(g->duration * 1e9);
	if (strcmp(g->mode, "ack") == 0) {
		g->sending = 1;
		for (i = 0; i < g->senders * g->window; i++)
			lg_send_one(g, &g->c[i % g->senders]);
	}
	while ((now = ws_now_ns()) < end) {
		if (strcmp(g->mode, "fanout") == 0) {
			due = (uint64_t)((now - start) / 1e9 * g->rate);
			while (g->sent < due) {
				struct ws_conn *c = &g->c[rr];

				rr = (rr + 1) % g->senders;
				if (c->state == WS_OPEN)
					lg_send_one(g, c);
				else if (g->errors++ < 3)
					fprintf(stderr, "loadgen: sender %d closed\n", c->idx);
			}
		}
		lg_poll(g, 1);
	}
	elapsed = (ws_now_ns() - start) / 1e9;
	/* acks/s counts what came within the time; the sends still in flight
	 * are answered below, and none follows them. */
	g->acks_in_run = g->acks;
	g->sending = 0;
	/* Drain: until everything expected arrived, or 3 s without progress. */
	last_progress = ws_now_ns();
	for (;;) {
		expected = g->expect_acks ? g->acks * (uint64_t)g->n : g->sent;
		if (strcmp(g->mode, "ack") == 0 ||
		    (g->deliveries >= expected && (!g->expect_acks || g->acks >= g->sent)))
			break;
		lg_poll(g, 10);
		if (g->deliveries + g->acks != last_del) {
			last_del = g->deliveries + g->acks;
			last_progress = ws_now_ns();
		}
		if (ws_now_ns() - last_progress > 3000000000LL)
			break;
	}
	if (strcmp(g->mode, "ack") == 0) /* acks still in flight at the end */
		for (end = ws_now_ns() + 2000000000LL;
		     g->acks + g->errors < g->sent && ws_now_ns() < end;)
			lg_poll(g, 10);
	cpu_s = lg_cpu() - cpu0;
	expected = g->expect_acks ? g->acks * (uint64_t)g->n : g->sent;
	qsort(g->lat, g->nlat, sizeof(*g->lat), lg_cmp);
	qsort(g->alat, g->nalat, sizeof(*g->alat), lg_cmp);
	printf("RESULT ok=1 conns=%d senders=%d secs=%.3f sent=%" PRIu64 " acks=%" PRIu64
	    " deliveries=%" PRIu64 " expected=%" PRIu64 " lost=%" PRId64 " gaps=%" PRIu64
	    " errors=%" PRIu64 " closed=%d msgs_per_s=%.1f acks_per_s=%.1f deliv_per_s=%.1f"
	    " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f ack_p50_ms=%.3f ack_p99_ms=%.3f"
	    " ack_max_ms=%.3f cpu_s=%.3f cpu_pct=%.1f\n",
	    g->n, g->senders, elapsed, g->sent, g->acks, g->deliveries, expected,
	    (int64_t)expected - (int64_t)g->deliveries, g->gaps, g->errors, g->closed_n,
	    g->sent / elapsed, g->acks_in_run / elapsed, g->deliveries / elapsed,
	    lg_pct(g->lat, g->nlat, 0.5), lg_pct(g->lat, g->nlat, 0.99),
	    lg_pct(g->lat, g->nlat, 1.0), lg_pct(g->alat, g->nalat, 0.5),
	    lg_pct(g->alat, g->nalat, 0.99), lg_pct(g->alat, g->nalat, 1.0), cpu_s,
	    100.0 * cpu_s / elapsed);
}

int
main(int argc, char **argv)
{
	struct lg g;
	int i;

	memset(&g, 0, sizeof(g));
	lg_args(&g, argc, argv);
	srandom((unsigned)getpid());
	g.c = calloc((size_t)g.n, sizeof(*g.c));
	g.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g.c == NULL || g.epfd < 0)
		return 2;
	for (i = 0; i < g.n; i++) {
		g.c[i].fd = -1;
		g.c[i].state = WS_CLOSED;
	}
	if (strcmp(g.mode, "idle") == 0)
		lg_idle(&g);
	else if (strcmp(g.mode, "fanout") == 0 || strcmp(g.mode, "ack") == 0)
		lg_load(&g);
	else
		lg_usage();
	fflush(stdout);
	for (i = 0; i < g.n; i++)
		if (g.c[i].fd >= 0)
			ws_close(&g.c[i]);
	free(g.c);
	free(g.rooms);
	free(g.lat);
	free(g.alat);
	close(g.epfd);
	return 0;
}

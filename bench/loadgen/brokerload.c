/*
 * brokerload: closed-loop senders straight to the broker, as workers would
 * be, with no web server, websocketd or worker in between: what the broker
 * and PostgreSQL alone acknowledge (bench/broker's "broker alone" row).
 *
 * Each sender dials ipc://DIR/workers with common/splink.c (the workers'
 * own link code), sends AUTH with the token, JOINs its room (so the broker
 * also delivers it its own message, as to a worker), then SENDs, waits for
 * the ACK, SENDs again, for the given time. Must run as the broker's user
 * (the broker checks the peer's uid). One thread, poll.
 *
 *   brokerload --dir DIR --token JWT --rooms ID,ID,... [--secs S]
 *
 * Sender i uses the i-th room. Prints one line:
 *   RESULT ok=1 senders=N secs=S acks=A acks_per_s=R ack_p50_ms=…
 *   ack_p99_ms=… ack_max_ms=… errors=E cpu_pct=C
 * Not for: anything but a benchmark (no reconnects, no gap handling).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clock.h"
#include "splink.h"
#include "wire.h"

#define BL_MAX      1000
#define BL_LAT_MAX  (4 * 1024 * 1024)
#define BL_TX_MAX   (1024 * 1024)
#define BL_READY_MS 10000

enum bl_state { BL_DIAL, BL_AUTH, BL_JOIN, BL_SEND };

struct bl_sender {
	struct splink l;
	enum bl_state state;
	int64_t room;
	uint64_t req;    /* the request awaiting its reply */
	int64_t sent_ns; /* when that SEND went */
	uint64_t n;      /* sends so far */
};

static int64_t
bl_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static double
bl_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
bl_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
bl_pct_ms(const int64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(q * (double)(n - 1));
	return (double)v[i] / 1e6;
}

/* Sends one request of type t from s (payload may be NULL). */
static int
bl_request(struct bl_sender *s, int t, int64_t seq, const char *payload)
{
	struct pc_wire_hdr h;
	unsigned char hdr[PC_WIRE_HDR_LEN];

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)t;
	h.req_id = ++s->req;
	h.room = s->room;
	h.seq = seq;
	pc_wire_pack(&h, hdr);
	return splink_send(&s->l, hdr, sizeof(hdr), payload,
	                   payload != NULL ? strlen(payload) : 0, 1000) == PC_OK
	               ? 0
	               : -1;
}

static int
bl_send_one(struct bl_sender *s, int idx)
{
	char payload[128];

	snprintf(payload, sizeof(payload),
	         "{\"body\":\"bl %" PRIu64 "\",\"client_id\":\"bl-%d-%" PRIu64
	         "\"}",
	         s->n, idx, s->n);
	s->n++;
	s->sent_ns = bl_now_ns();
	return bl_request(s, PC_WIRE_SEND, 0, payload);
}

/* Parses "1,2,3" into rooms; the count, or -1. */
static int
bl_rooms(const char *arg, int64_t *rooms)
{
	char *end;
	int n = 0;

	while (*arg != '\0' && n < BL_MAX) {
		rooms[n++] = strtoll(arg, &end, 10);
		if (end == arg || (*end != ',' && *end != '\0'))
			return -1;
		arg = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* The whole run: the senders, and what they measured. */
struct bl_run {
	struct bl_sender snd[BL_MAX];
	struct pollfd fds[BL_MAX];
	int n, up, measuring;
	const char *token;
	int64_t start, end; /* the measured span (monotonic ns) */
	int64_t *lat;       /* ack latencies, ns */
	size_t nlat;
	uint64_t acks, errors;
	double cpu0;
};

/* One reply to sender i: the next step of its AUTH, JOIN, SEND cycle.
 * -1 when the run cannot go on (an ERROR before it could send). */
static int
bl_reply(struct bl_run *r, int i, const struct pc_wire_hdr *h, const char *pl,
         size_t pl_len)
{
	struct bl_sender *s = &r->snd[i];

	if (h->type == PC_WIRE_ERROR) {
		if (r->errors++ < 3)
			fprintf(stderr, "brokerload: %.*s\n", (int)pl_len, pl);
		if (s->state != BL_SEND)
			return -1;
	}
	if (h->req_id != s->req)
		return 0; /* MSG, TICK, events */
	if (s->state == BL_AUTH && h->type == PC_WIRE_AUTHED) {
		s->state = BL_JOIN;
		if (bl_request(s, PC_WIRE_JOIN, -1, NULL) != 0)
			r->errors++;
	} else if (s->state == BL_JOIN && h->type == PC_WIRE_JOINED) {
		s->state = BL_SEND;
		r->up++;
	} else if (s->state == BL_SEND && r->measuring &&
	           (h->type == PC_WIRE_ACK || h->type == PC_WIRE_ERROR)) {
		if (h->type == PC_WIRE_ACK) {
			r->acks++;
			if (r->nlat < BL_LAT_MAX)
				r->lat[r->nlat++] = bl_now_ns() - s->sent_ns;
		}
		if (bl_now_ns() < r->end && bl_send_one(s, i) != 0)
			r->errors++;
	}
	return 0;
}

/* Sender i's I/O after poll: dial done, replies read. -1 when the run
 * cannot go on. */
static int
bl_io(struct bl_run *r, int i)
{
	struct bl_sender *s = &r->snd[i];
	const unsigned char *m;
	const char *pl;
	size_t len, pl_len;
	struct pc_wire_hdr h;
	int went, came;

	splink_io(&s->l, &r->fds[i], pc_clock_mono_ms());
	splink_events(&s->l, &went, &came);
	if (went) {
		fprintf(stderr, "brokerload: sender %d lost the broker\n", i);
		return -1;
	}
	if (came && s->state == BL_DIAL) {
		s->state = BL_AUTH;
		if (bl_request(s, PC_WIRE_AUTH, 0, r->token) != 0)
			r->errors++;
	}
	while (splink_recv(&s->l, &m, &len) == PC_OK)
		if (pc_wire_unpack(m, len, &h, &pl, &pl_len) == PC_OK &&
		    bl_reply(r, i, &h, pl, pl_len) != 0)
			return -1;
	return 0;
}

/* Until every sender has joined (BL_READY_MS at most), then secs of
 * closed-loop sends. 0, or -1 (not ready in time, or a failure). */
static int
bl_loop(struct bl_run *r, double secs)
{
	int64_t ready_by = bl_now_ns() + (int64_t)BL_READY_MS * 1000000, now;
	int i;

	for (;;) {
		now = bl_now_ns();
		if (!r->measuring && r->up == r->n) {
			/* every sender joined: start them all at once */
			r->measuring = 1;
			r->cpu0 = bl_cpu_s();
			r->start = now;
			r->end = now + (int64_t)(secs * 1e9);
			for (i = 0; i < r->n; i++)
				if (bl_send_one(&r->snd[i], i) != 0)
					r->errors++;
		}
		if (r->measuring && now >= r->end)
			return 0;
		if (!r->measuring && now >= ready_by) {
			printf("RESULT ok=0 ready=%d senders=%d\n", r->up,
			       r->n);
			return -1;
		}
		for (i = 0; i < r->n; i++)
			splink_pollfd(&r->snd[i].l, &r->fds[i]);
		if (poll(r->fds, (nfds_t)r->n, 5) < 0 && errno != EINTR)
			return -1;
		for (i = 0; i < r->n; i++)
			if (bl_io(r, i) != 0)
				return -1;
	}
}

static void
bl_report(struct bl_run *r)
{
	double secs = (double)(bl_now_ns() - r->start) / 1e9;

	qsort(r->lat, r->nlat, sizeof(*r->lat), bl_cmp);
	printf("RESULT ok=1 senders=%d secs=%.3f acks=%" PRIu64
	       " acks_per_s=%.1f ack_p50_ms=%.3f ack_p99_ms=%.3f"
	       " ack_max_ms=%.3f errors=%" PRIu64 " cpu_pct=%.1f\n",
	       r->n, secs, r->acks, (double)r->acks / secs,
	       bl_pct_ms(r->lat, r->nlat, 0.5),
	       bl_pct_ms(r->lat, r->nlat, 0.99),
	       bl_pct_ms(r->lat, r->nlat, 1.0), r->errors,
	       100.0 * (bl_cpu_s() - r->cpu0) / secs);
}

int
main(int argc, char **argv)
{
	static int64_t rooms[BL_MAX];
	static struct bl_run r;
	const char *dir = NULL, *room_arg = NULL;
	char path[SPLINK_PATH_MAX];
	double secs = 10;
	int i, opened = 0, rc = 1;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--token") == 0)
			r.token = argv[i + 1];
		else if (strcmp(argv[i], "--rooms") == 0)
			room_arg = argv[i + 1];
		else if (strcmp(argv[i], "--secs") == 0)
			secs = atof(argv[i + 1]);
	}
	if (dir == NULL || r.token == NULL || room_arg == NULL ||
	    (r.n = bl_rooms(room_arg, rooms)) <= 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/workers", dir) >=
	            sizeof(path)) {
		fprintf(stderr, "usage: brokerload --dir DIR --token JWT "
		                "--rooms ID,ID,... [--secs S]\n");
		return 2;
	}
	if ((r.lat = malloc(BL_LAT_MAX * sizeof(*r.lat))) == NULL)
		goto out;
	for (opened = 0; opened < r.n; opened++) {
		r.snd[opened].room = rooms[opened];
		if (splink_open(&r.snd[opened].l, path, PC_WIRE_MAX, BL_TX_MAX,
		                pc_clock_mono_ms()) != PC_OK)
			goto out;
	}
	if (bl_loop(&r, secs) != 0)
		goto out;
	bl_report(&r);
	rc = 0;
out:
	for (i = 0; i < opened; i++)
		splink_close(&r.snd[i].l);
	free(r.lat);
	return rc;
}

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

int
main(int argc, char **argv)
{
	static int64_t rooms[BL_MAX];
	static struct bl_sender snd[BL_MAX];
	static struct pollfd fds[BL_MAX];
	const char *dir = NULL, *token = NULL, *room_arg = NULL;
	char path[SPLINK_PATH_MAX];
	double secs = 10, cpu0;
	int64_t *lat, start = 0, end = 0, ready_by, now;
	size_t nlat = 0;
	uint64_t errors = 0, acks = 0;
	int i, n, up = 0, measuring = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--token") == 0)
			token = argv[i + 1];
		else if (strcmp(argv[i], "--rooms") == 0)
			room_arg = argv[i + 1];
		else if (strcmp(argv[i], "--secs") == 0)
			secs = atof(argv[i + 1]);
	}
	if (dir == NULL || token == NULL || room_arg == NULL ||
	    (n = bl_rooms(room_arg, rooms)) <= 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/workers", dir) >=
	            sizeof(path)) {
		fprintf(stderr, "usage: brokerload --dir DIR --token JWT "
		                "--rooms ID,ID,... [--secs S]\n");
		return 2;
	}
	if ((lat = malloc(BL_LAT_MAX * sizeof(*lat))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		snd[i].room = rooms[i];
		if (splink_open(&snd[i].l, path, PC_WIRE_MAX, BL_TX_MAX,
		                pc_clock_mono_ms()) != PC_OK)
			return 1;
	}
	ready_by = bl_now_ns() + (int64_t)BL_READY_MS * 1000000;
	cpu0 = bl_cpu_s();
	for (;;) {
		now = bl_now_ns();
		if (!measuring && up == n) {
			/* every sender joined: start them all at once */
			measuring = 1;
			cpu0 = bl_cpu_s();
			start = now;
			end = start + (int64_t)(secs * 1e9);
			for (i = 0; i < n; i++)
				if (bl_send_one(&snd[i], i) != 0)
					errors++;
		}
		if (measuring && now >= end)
			break;
		if (!measuring && now >= ready_by) {
			printf("RESULT ok=0 ready=%d senders=%d\n", up, n);
			return 1;
		}
		for (i = 0; i < n; i++)
			splink_pollfd(&snd[i].l, &fds[i]);
		if (poll(fds, (nfds_t)n, 5) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			struct bl_sender *s = &snd[i];
			const unsigned char *m;
			const char *pl;
			size_t len, pl_len;
			struct pc_wire_hdr h;
			int went, came;

			splink_io(&s->l, &fds[i], pc_clock_mono_ms());
			splink_events(&s->l, &went, &came);
			if (went) {
				fprintf(stderr,
				        "brokerload: sender %d lost "
				        "the broker\n",
				        i);
				return 1;
			}
			if (came && s->state == BL_DIAL) {
				s->state = BL_AUTH;
				if (bl_request(s, PC_WIRE_AUTH, 0, token) != 0)
					errors++;
			}
			while (splink_recv(&s->l, &m, &len) == PC_OK) {
				if (pc_wire_unpack(m, len, &h, &pl, &pl_len) !=
				    PC_OK)
					continue;
				if (h.type == PC_WIRE_ERROR) {
					if (errors++ < 3)
						fprintf(stderr,
						        "brokerload: %.*s\n",
						        (int)pl_len, pl);
					if (s->state != BL_SEND)
						return 1;
				}
				if (h.req_id != s->req)
					continue; /* MSG, TICK, events */
				if (s->state == BL_AUTH &&
				    h.type == PC_WIRE_AUTHED) {
					s->state = BL_JOIN;
					if (bl_request(s, PC_WIRE_JOIN, -1,
					               NULL) != 0)
						errors++;
				} else if (s->state == BL_JOIN &&
				           h.type == PC_WIRE_JOINED) {
					s->state = BL_SEND;
					up++;
				} else if (s->state == BL_SEND && measuring &&
				           (h.type == PC_WIRE_ACK ||
				            h.type == PC_WIRE_ERROR)) {
					if (h.type == PC_WIRE_ACK) {
						acks++;
						if (nlat < BL_LAT_MAX)
							lat[nlat++] =
							        bl_now_ns() -
							        s->sent_ns;
					}
					if (bl_now_ns() < end &&
					    bl_send_one(s, i) != 0)
						errors++;
				}
			}
		}
	}
	secs = (double)(bl_now_ns() - start) / 1e9;
	qsort(lat, nlat, sizeof(*lat), bl_cmp);
	printf("RESULT ok=1 senders=%d secs=%.3f acks=%" PRIu64
	       " acks_per_s=%.1f ack_p50_ms=%.3f ack_p99_ms=%.3f"
	       " ack_max_ms=%.3f errors=%" PRIu64 " cpu_pct=%.1f\n",
	       n, secs, acks, (double)acks / secs, bl_pct_ms(lat, nlat, 0.5),
	       bl_pct_ms(lat, nlat, 0.99), bl_pct_ms(lat, nlat, 1.0), errors,
	       100.0 * (bl_cpu_s() - cpu0) / secs);
	for (i = 0; i < n; i++)
		splink_close(&snd[i].l);
	free(lat);
	return 0;
}

/*
 * test_ws_bridge.c: the worker's link to a broker (ws-worker/bridge.h)
 * against a stand-in broker made with libnng, as the real one is: a PAIR1
 * polyamorous listener on ipc:// in a scratch directory (so the worker's
 * own SP speaker, splink.c, must be byte-compatible with NNG), and on
 * tcp:// (libnng's dialer). Covers a dial before the broker exists, pipe
 * events, both directions of traffic routed by pipe, the broker going away
 * and coming back, a refused oversized message both ways, a thousand
 * messages of mixed sizes up to the largest (buffer growth, partial reads)
 * arriving whole and in order, and flow control: a message whose outer
 * header asks for credit (PC_WIRE_F_CREDIT) is answered with one
 * PC_WIRE_CREDIT as soon as it is received, others are not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "bridge.h"
#include "test_port.h"
#include "clock.h"
#include "wire.h"

struct env {
	char dir[64];
	char url[128];
	nng_socket broker;
	int broker_open;
	struct ws_bridge b;
};

static void
broker_listen_as(struct env *e, int poly)
{
	if (poly)
		assert_int_equal(nng_pair1_open_poly(&e->broker), 0);
	else
		assert_int_equal(nng_pair1_open(&e->broker), 0);
	assert_int_equal(nng_socket_set_ms(e->broker, NNG_OPT_RECVTIMEO, 3000),
	                 0);
	assert_int_equal(nng_listen(e->broker, e->url, NULL, 0), 0);
	e->broker_open = 1;
}

/* As the broker is: polyamorous (which drops what a pipe's queue of two
 * cannot take: the broker's credit flow control exists for that). */
static void
broker_listen(struct env *e)
{
	broker_listen_as(e, 1);
}

static void
broker_close(struct env *e)
{
	if (e->broker_open)
		nng_close(e->broker);
	e->broker_open = 0;
}

/* One turn of the worker's loop for the bridge: poll (at most 100 ms),
 * then its I/O. */
static void
turn(struct env *e)
{
	struct pollfd p[WS_BRIDGE_NFDS];
	int64_t now = pc_clock_mono_ms();
	int w = ws_bridge_wait_ms(&e->b, now);

	ws_bridge_pollfds(&e->b, p);
	(void)poll(p, WS_BRIDGE_NFDS, w >= 0 && w < 100 ? w : 100);
	ws_bridge_io(&e->b, p, pc_clock_mono_ms());
}

/* Waits up to ms for a pipe event; returns (went, came). */
static void
wait_event(struct env *e, int ms, int *went, int *came)
{
	int64_t end = pc_clock_mono_ms() + ms;

	*went = *came = 0;
	while (!*went && !*came && pc_clock_mono_ms() < end) {
		turn(e);
		ws_bridge_events(&e->b, went, came);
	}
}

/* Receives one message on the worker side (waiting up to 3 s). */
static void
worker_recv_msg(struct env *e, const char **m, size_t *len)
{
	int64_t end = pc_clock_mono_ms() + 3000;
	unsigned pipe;

	while (ws_bridge_recv(&e->b, m, len, &pipe) != PC_OK) {
		assert_true(pc_clock_mono_ms() < end);
		turn(e);
	}
	assert_int_equal(pipe, ws_bridge_pipe(&e->b));
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/pc-wsb-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->url, sizeof(e->url), "ipc://%s/workers", e->dir);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char path[128];

	ws_bridge_close(&e->b);
	broker_close(e);
	snprintf(path, sizeof(path), "%s/workers", e->dir);
	unlink(path);
	rmdir(e->dir);
	free(e);
	return 0;
}

static void
send_hdr(struct ws_bridge *b, int type, uint64_t req, const char *payload)
{
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.req_id = req;
	h.room = 3;
	assert_int_equal(ws_bridge_send(b, &h, payload, strlen(payload)),
	                 PC_OK);
}

static void
link_cycle(struct env *e)
{
	struct pc_wire_hdr h;
	const char *pl, *got;
	size_t pl_len, got_len;
	nng_msg *m;
	nng_pipe pipe;
	int went, came;
	unsigned char hdr[PC_WIRE_HDR_LEN];

	/* The broker is not there yet: the dial still succeeds, sends fail. */
	assert_int_equal(ws_bridge_open_url(&e->b, e->url, NULL), PC_OK);
	assert_int_equal(ws_bridge_pipe(&e->b), 0);
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_PING;
	wait_event(e, 300, &went, &came);
	assert_false(came);
	if (strncmp(e->url, "ipc://", 6) == 0) /* libnng would queue it */
		assert_int_equal(ws_bridge_send(&e->b, &h, NULL, 0),
		                 PC_ERR_UNAVAILABLE);

	broker_listen(e);
	wait_event(e, 3000, &went, &came);
	assert_true(came);
	assert_false(went);
	assert_int_not_equal(ws_bridge_pipe(&e->b), 0);

	/* worker -> broker */
	send_hdr(&e->b, PC_WIRE_AUTH, 1, "tok");
	assert_int_equal(nng_recvmsg(e->broker, &m, 0), 0);
	assert_int_equal(pc_wire_unpack(nng_msg_body(m), nng_msg_len(m), &h,
	                                &pl, &pl_len),
	                 PC_OK);
	assert_int_equal(h.type, PC_WIRE_AUTH);
	assert_int_equal(h.req_id, 1);
	assert_int_equal(pl_len, 3);
	pipe = nng_msg_get_pipe(m);
	nng_msg_free(m);

	/* broker -> worker, routed to that pipe */
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_AUTHED;
	h.req_id = 1;
	pc_wire_pack(&h, hdr);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	assert_int_equal(nng_msg_append(m, hdr, sizeof(hdr)), 0);
	assert_int_equal(nng_msg_append(m, "{}", 2), 0);
	nng_msg_set_pipe(m, pipe);
	assert_int_equal(nng_sendmsg(e->broker, m, 0), 0);
	worker_recv_msg(e, &got, &got_len);
	assert_int_equal(got_len, PC_WIRE_HDR_LEN + 2);
	assert_memory_equal(got + PC_WIRE_HDR_LEN, "{}", 2);
	{
		unsigned pp;

		assert_int_equal(ws_bridge_recv(&e->b, &got, &got_len, &pp),
		                 PC_ERR_UNAVAILABLE);
	}

	/* The broker goes away ... */
	broker_close(e);
	wait_event(e, 3000, &went, &came);
	assert_true(went);
	/* ... and comes back: the dialer finds it by itself. */
	broker_listen(e);
	wait_event(e, 5000, &went, &came);
	assert_true(came);
	send_hdr(&e->b, PC_WIRE_AUTH, 2, "tok");
	assert_int_equal(nng_recvmsg(e->broker, &m, 0), 0);
	nng_msg_free(m);
}

static void
test_link_cycle(void **state)
{
	link_cycle(*state); /* ipc://: splink.c */
}

static void
test_link_cycle_tcp(void **state)
{
	struct env *e = *state;

	/* a free port (libnng's dialer) */
	snprintf(e->url, sizeof(e->url), "tcp://127.0.0.1:%u",
	         test_free_port());
	link_cycle(e);
}

/* Sends a bare message of type (flags on its header) to pipe. */
static void
broker_send(struct env *e, nng_pipe pipe, int type, uint16_t flags)
{
	struct pc_wire_hdr h;
	unsigned char hdr[PC_WIRE_HDR_LEN];
	nng_msg *m;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.flags = flags;
	pc_wire_pack(&h, hdr);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	assert_int_equal(nng_msg_append(m, hdr, sizeof(hdr)), 0);
	nng_msg_set_pipe(m, pipe);
	assert_int_equal(nng_sendmsg(e->broker, m, 0), 0);
}

/* Receives one message on the worker side (waiting up to 3 s). */
static void
worker_recv(struct env *e)
{
	const char *m;
	size_t len;

	worker_recv_msg(e, &m, &len);
}

/* Opens the bridge, starts the broker (poly or not), signs in; returns
 * the pipe. */
static nng_pipe
connected_as(struct env *e, int poly)
{
	nng_msg *m;
	nng_pipe pipe;
	int went, came;

	assert_int_equal(ws_bridge_open(&e->b, e->dir), PC_OK);
	broker_listen_as(e, poly);
	wait_event(e, 3000, &went, &came);
	assert_true(came);
	send_hdr(&e->b, PC_WIRE_AUTH, 1, "tok");
	assert_int_equal(nng_recvmsg(e->broker, &m, 0), 0);
	pipe = nng_msg_get_pipe(m);
	nng_msg_free(m);
	return pipe;
}

static nng_pipe
connected(struct env *e)
{
	return connected_as(e, 1);
}

/* Sends a message of type with a body of len bytes (byte i is i % 251,
 * the first 8 hold n) to pipe. */
static void
broker_send_body(struct env *e, nng_pipe pipe, uint64_t n, size_t len)
{
	struct pc_wire_hdr h;
	unsigned char hdr[PC_WIRE_HDR_LEN];
	unsigned char *body = malloc(len + 8);
	nng_msg *m;
	size_t i;

	assert_non_null(body);
	for (i = 0; i < len; i++)
		body[i] = (unsigned char)(i % 251);
	memcpy(body, &n, len >= 8 ? 8 : len);
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_MSG;
	h.req_id = n;
	pc_wire_pack(&h, hdr);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	assert_int_equal(nng_msg_append(m, hdr, sizeof(hdr)), 0);
	assert_int_equal(nng_msg_append(m, body, len), 0);
	nng_msg_set_pipe(m, pipe);
	assert_int_equal(nng_sendmsg(e->broker, m, 0), 0);
	free(body);
}

static void
test_many_messages_whole_and_in_order(void **state)
{
	struct env *e = *state;
	nng_pipe pipe = connected_as(e, 0); /* queues 1024, drops none */
	static const size_t sizes[] = {0, 1, 7, 100, 4000, 16384, 30000,
	                               PC_WIRE_MAX - PC_WIRE_HDR_LEN};
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	struct pc_wire_hdr h;
	const char *m, *pl;
	size_t len, plen, i, k;
	uint64_t n, got = 0;

	/* the broker sends faster than the worker reads: partial frames,
	 * frames across reads, and growth to the largest one */
	assert_int_equal(nng_socket_set_int(e->broker, NNG_OPT_SENDBUF, 1024),
	                 0);
	for (n = 0; n < 1000; n++)
		broker_send_body(e, pipe, n, sizes[n % nsizes]);
	for (n = 0; n < 1000; n++) {
		worker_recv_msg(e, &m, &len);
		assert_int_equal(pc_wire_unpack(m, len, &h, &pl, &plen), PC_OK);
		assert_int_equal(h.req_id, n);
		assert_int_equal(plen, sizes[n % nsizes]);
		for (i = 8, k = 0; i < plen && k < 64; i += plen / 64 + 1, k++)
			assert_int_equal((unsigned char)pl[i],
			                 (unsigned char)(i % 251));
		got++;
	}
	assert_int_equal(got, 1000);
}

static void
test_oversized_from_broker_closes_the_pipe(void **state)
{
	struct env *e = *state;
	nng_pipe pipe = connected(e);
	nng_msg *m;
	int went = 0, came = 0;

	/* one byte over: the worker closes the pipe (NNG_OPT_RECVMAXSZ), then
	 * redials and is let in again */
	broker_send_body(e, pipe, 1, PC_WIRE_MAX - PC_WIRE_HDR_LEN + 1);
	wait_event(e, 3000, &went, &came);
	assert_true(went);
	wait_event(e, 3000, &went, &came);
	assert_true(came);
	/* one message through the new pipe: the stand-in's side of it is
	 * set up too (closing libnng 1.5.2's socket while a pipe is still
	 * being set up leaks it, seen under load) */
	send_hdr(&e->b, PC_WIRE_AUTH, 2, "tok");
	assert_int_equal(nng_recvmsg(e->broker, &m, 0), 0);
	nng_msg_free(m);
}

/* The broker receives one empty CREDIT on pipe, and nothing after it. */
static void
broker_expect_credit(struct env *e, nng_pipe pipe)
{
	struct pc_wire_hdr h;
	const char *pl;
	size_t pl_len;
	nng_msg *m;

	assert_int_equal(nng_recvmsg(e->broker, &m, 0), 0);
	assert_int_equal(pc_wire_unpack(nng_msg_body(m), nng_msg_len(m), &h,
	                                &pl, &pl_len),
	                 PC_OK);
	assert_int_equal(h.type, PC_WIRE_CREDIT);
	assert_int_equal(pl_len, 0);
	assert_int_equal(nng_msg_get_pipe(m).id, pipe.id);
	nng_msg_free(m);
	assert_int_equal(nng_recvmsg(e->broker, &m, NNG_FLAG_NONBLOCK),
	                 NNG_EAGAIN);
}

static void
test_credit(void **state)
{
	struct env *e = *state;
	nng_msg *m;
	nng_pipe pipe = connected(e);

	/* no credit asked: none returned */
	broker_send(e, pipe, PC_WIRE_TICK, 0);
	worker_recv(e);
	assert_int_equal(nng_recvmsg(e->broker, &m, NNG_FLAG_NONBLOCK),
	                 NNG_EAGAIN);
	/* asked (on a BATCH's outer header): one CREDIT, at once */
	broker_send(e, pipe, PC_WIRE_BATCH, PC_WIRE_F_CREDIT);
	worker_recv(e);
	broker_expect_credit(e, pipe);
}

/* A CREDIT that could not be sent (a full queue) is owed: the loop must
 * wake for it soon, since the broker sends nothing more until it comes and
 * an idle worker would otherwise sleep until its next ping (25 s). The
 * next receive turn sends it. */
static void
test_owed_credit_wakes_the_loop(void **state)
{
	struct env *e = *state;
	nng_pipe pipe = connected(e);
	int64_t now = pc_clock_mono_ms();
	const char *msg;
	size_t len;
	unsigned p;

	assert_int_equal(ws_bridge_wait_ms(&e->b, now), -1); /* nothing due */
	e->b.credit_owed = 1;
	assert_true(ws_bridge_wait_ms(&e->b, now) >= 0 &&
	            ws_bridge_wait_ms(&e->b, now) <= WS_BRIDGE_CREDIT_RETRY_MS);
	(void)ws_bridge_recv(&e->b, &msg, &len, &p);
	assert_int_equal(e->b.credit_owed, 0);
	assert_int_equal(ws_bridge_wait_ms(&e->b, now), -1);
	broker_expect_credit(e, pipe);
}

static void
test_oversized_send_refused(void **state)
{
	struct env *e = *state;
	struct pc_wire_hdr h;
	char *big = malloc(PC_WIRE_MAX);

	assert_non_null(big);
	memset(big, 'x', PC_WIRE_MAX);
	assert_int_equal(ws_bridge_open(&e->b, e->dir), PC_OK);
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_SEND;
	assert_int_equal(ws_bridge_send(&e->b, &h, big, PC_WIRE_MAX),
	                 PC_ERR_UNAVAILABLE);
	free(big);
}

static void
test_path_too_long(void **state)
{
	struct env *e = *state;
	char dir[200];

	memset(dir, 'd', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(ws_bridge_open(&e->b, dir), PC_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_link_cycle, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link_cycle_tcp, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_many_messages_whole_and_in_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_oversized_from_broker_closes_the_pipe, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_credit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_owed_credit_wakes_the_loop,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_oversized_send_refused,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_path_too_long, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

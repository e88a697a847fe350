/*
 * test_ws_bridge.c: the worker's NNG link (ws-worker/bridge.h) against a
 * stand-in broker: a PAIR1 polyamorous listener on ipc:// in a scratch
 * directory. Covers a dial before the broker exists, the pipe-event
 * descriptor, both directions of traffic routed by pipe, the broker going
 * away and coming back, a refused oversized message, and flow control: a
 * message whose outer header asks for credit (PC_WIRE_F_CREDIT) is answered
 * with one PC_WIRE_CREDIT as soon as it is received, others are not.
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
broker_listen(struct env *e)
{
	assert_int_equal(nng_pair1_open_poly(&e->broker), 0);
	assert_int_equal(nng_socket_set_ms(e->broker, NNG_OPT_RECVTIMEO, 3000),
	                 0);
	assert_int_equal(nng_listen(e->broker, e->url, NULL, 0), 0);
	e->broker_open = 1;
}

static void
broker_close(struct env *e)
{
	if (e->broker_open)
		nng_close(e->broker);
	e->broker_open = 0;
}

/* Waits up to ms for the event descriptor; returns (went, came). */
static void
wait_event(struct env *e, int ms, int *went, int *came)
{
	struct pollfd p = {.fd = e->b.event_fd, .events = POLLIN};
	int64_t end = pc_clock_mono_ms() + ms;

	*went = *came = 0;
	while (!*went && !*came && pc_clock_mono_ms() < end) {
		if (poll(&p, 1, 100) > 0)
			ws_bridge_events(&e->b, went, came);
	}
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
test_link_cycle(void **state)
{
	struct env *e = *state;
	struct pollfd p;
	struct pc_wire_hdr h;
	const char *pl;
	size_t pl_len;
	nng_msg *m;
	nng_pipe pipe;
	int went, came;
	unsigned char hdr[PC_WIRE_HDR_LEN];

	/* The broker is not there yet: the dial still succeeds, sends fail. */
	assert_int_equal(ws_bridge_open(&e->b, e->dir), PC_OK);
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_PING;
	wait_event(e, 300, &went, &came);
	assert_false(came);

	broker_listen(e);
	wait_event(e, 3000, &went, &came);
	assert_true(came);
	assert_false(went);

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
	p.fd = e->b.recv_fd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 3000), 1);
	assert_int_equal(ws_bridge_recv(&e->b, &m), PC_OK);
	assert_int_equal(nng_msg_len(m), PC_WIRE_HDR_LEN + 2);
	nng_msg_free(m);
	assert_int_equal(ws_bridge_recv(&e->b, &m), PC_ERR_UNAVAILABLE);

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
	struct pollfd p = {.fd = e->b.recv_fd, .events = POLLIN};
	nng_msg *m = NULL;
	int64_t end = pc_clock_mono_ms() + 3000;

	while (ws_bridge_recv(&e->b, &m) != PC_OK) {
		assert_true(pc_clock_mono_ms() < end);
		(void)poll(&p, 1, 100);
	}
	nng_msg_free(m);
}

static void
test_credit(void **state)
{
	struct env *e = *state;
	struct pc_wire_hdr h;
	const char *pl;
	size_t pl_len;
	nng_msg *m;
	nng_pipe pipe;
	int went, came;

	assert_int_equal(ws_bridge_open(&e->b, e->dir), PC_OK);
	broker_listen(e);
	wait_event(e, 3000, &went, &came);
	assert_true(came);
	send_hdr(&e->b, PC_WIRE_AUTH, 1, "tok");
	assert_int_equal(nng_recvmsg(e->broker, &m, 0), 0);
	pipe = nng_msg_get_pipe(m);
	nng_msg_free(m);

	/* no credit asked: none returned */
	broker_send(e, pipe, PC_WIRE_TICK, 0);
	worker_recv(e);
	assert_int_equal(nng_recvmsg(e->broker, &m, NNG_FLAG_NONBLOCK),
	                 NNG_EAGAIN);
	/* asked (on a BATCH's outer header): one CREDIT, at once */
	broker_send(e, pipe, PC_WIRE_BATCH, PC_WIRE_F_CREDIT);
	worker_recv(e);
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
	        cmocka_unit_test_setup_teardown(test_credit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_oversized_send_refused,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_path_too_long, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

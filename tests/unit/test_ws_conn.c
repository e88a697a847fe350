/*
 * test_ws_conn.c: the worker's connection state (ws-worker/conn.h) against a
 * fake broker: hello, join, ack before message, per-room seq order with held
 * messages and FETCH, gaps, TICK, broker restarts (re-AUTH, silent re-join
 * with since, resent sends), errors, CLOSE, limits and timers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clock.h"
#include "test_ws_fake.h"

static void
test_hello_then_join_and_messages(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	fake_connect(f);
	assert_int_equal(f->c.link, WS_LINK_UP);
	fake_join(f, 5, -1, 10);
	fake_send_msg(f, 0, 5, 11);
	fake_send_msg(f, 0, 5, 12);
	fake_expect_msg(f, 5, 11);
	fake_expect_msg(f, 5, 12);
	fake_send_msg(f, 0, 5, 12); /* duplicate */
	fake_send_msg(f, 0, 5, 3);  /* old */
	fake_expect_no_line(f);
	fake_expect_no_req(f);
	fake_free(f);
}

/* AUTH announces batches; a batch is handled item by item, in order. */
static void
test_batch(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	unsigned char buf[PC_WIRE_HDR_LEN + 4096], *p;
	struct pc_wire_hdr h;
	char m1[512], m2[512];
	const char *ev = "{\"type\":\"typing\",\"room\":5}";

	(void)state;
	fake_connect(f);
	assert_true(f->reqs[0].h.flags & PC_WIRE_F_BATCH);
	fake_join(f, 5, -1, 0);
	snprintf(m1, sizeof(m1), "%s", fake_msg(5, 1));
	snprintf(m2, sizeof(m2), "%s", fake_msg(5, 2));
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_BATCH;
	pc_wire_pack(&h, buf);
	p = buf + PC_WIRE_HDR_LEN;
	h.type = PC_WIRE_MSG;
	h.room = 5;
	h.seq = 2;
	p += pc_wire_batch_put(p, &h, m2, strlen(m2));
	h.seq = 1;
	p += pc_wire_batch_put(p, &h, m1, strlen(m1));
	h.type = PC_WIRE_EVENT;
	h.seq = 0;
	p += pc_wire_batch_put(p, &h, ev, strlen(ev));
	ws_conn_broker(&f->c, buf, (size_t)(p - buf));
	fake_expect_msg(f, 5, 1);
	fake_expect_msg(f, 5, 2);
	fake_expect_line(f, ev);
	/* A truncated batch: what precedes the damage is handled. */
	ws_conn_broker(&f->c, buf, (size_t)(p - buf) - 3);
	fake_expect_no_line(f);
	fake_free(f);
}

static void
test_query_room_joins_after_hello(void **state)
{
	struct fake *f = fake_new(0, 42, 100);

	(void)state;
	fake_connect(f);
	fake_expect_req(f, PC_WIRE_JOIN, 42);
	fake_free(f);
}

static void
test_nothing_before_authed(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	ws_conn_link_up(&f->c);
	fake_send_msg(f, 0, 5, 1);
	fake_broker(f, PC_WIRE_EVENT, 0, 5, 0, 0, "{\"type\":\"typing\"}");
	fake_expect_no_line(f);
	fake_free(f);
}

static void
test_auth_error_ends_connection(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *err = "{\"type\":\"error\",\"code\":\"unauthenticated\","
	                  "\"message\":\"x\",\"ref\":null}";

	(void)state;
	ws_conn_link_up(&f->c);
	r = fake_expect_req(f, PC_WIRE_AUTH, 0);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 0, 0, 0, err);
	fake_expect_line(f, err);
	assert_true(f->c.done);
	fake_free(f);
}

static void
test_send_ack_then_message(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *ack = "{\"type\":\"ack\",\"client_id\":\"c1\",\"id\":1,"
	                  "\"room\":5,\"seq\":1,\"created_at\":\"2026-11-26T08:"
	                  "53:04.123Z\"}";

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 0);
	assert_int_equal(ws_conn_send(&f->c, 5, "hi\nthere", 8, "c1"), PC_OK);
	r = fake_expect_req(f, PC_WIRE_SEND, 5);
	assert_string_equal(r->payload,
	                    "{\"body\":\"hi\\nthere\",\"client_id\":\"c1\"}");
	assert_int_equal(f->c.nsends, 1);
	fake_broker(f, PC_WIRE_ACK, r->h.req_id, 5, 1, 0, ack);
	fake_expect_line(f, ack);
	assert_int_equal(f->c.nsends, 0);
	fake_send_msg(f, 0, 5, 1);
	fake_expect_msg(f, 5, 1);
	fake_free(f);
}

static void
test_send_error_written_and_forgotten(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *err =
	        "{\"type\":\"error\",\"code\":\"rate_limited\","
	        "\"message\":\"x\",\"ref\":\"c1\",\"retry_after_ms\":100}";

	(void)state;
	fake_connect(f);
	assert_int_equal(ws_conn_send(&f->c, 5, "hi", 2, "c1"), PC_OK);
	r = fake_expect_req(f, PC_WIRE_SEND, 5);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 5, 0, 0, err);
	fake_expect_line(f, err);
	assert_int_equal(f->c.nsends, 0);
	assert_false(f->c.done);
	fake_free(f);
}

/* 4 before 3: 4 is held, 3..3 fetched; 3 arrives and both are written. */
static void
test_hole_is_fetched_and_held_drained(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 2);
	fake_send_msg(f, 0, 5, 4);
	fake_expect_no_line(f);
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 3);
	assert_int_equal(r->h.arg, 3);
	fake_send_msg(f, 0, 5, 5); /* held too; no second fetch */
	fake_expect_no_req(f);
	fake_send_msg(f, r->h.req_id, 5, 3);
	fake_expect_msg(f, 5, 3);
	fake_expect_msg(f, 5, 4);
	fake_expect_msg(f, 5, 5);
	fake_broker(f, PC_WIRE_FETCHED, r->h.req_id, 5, 0, 0, NULL);
	fake_expect_no_req(f);
	fake_expect_no_line(f);
	assert_int_equal(ws_conn_room(&f->c, 5)->nheld, 0);
	fake_free(f);
}

/* A fetch range is asked WS_FETCH_CHUNK at a time. */
static void
test_fetch_in_chunks(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	int64_t s;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 0);
	fake_broker(f, PC_WIRE_TICK, 0, 5, 250, 0, NULL);
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 1);
	assert_int_equal(r->h.arg, WS_FETCH_CHUNK);
	for (s = 1; s <= WS_FETCH_CHUNK; s++)
		fake_send_msg(f, r->h.req_id, 5, s);
	fake_broker(f, PC_WIRE_FETCHED, r->h.req_id, 5, 0, 0, NULL);
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, WS_FETCH_CHUNK + 1);
	assert_int_equal(r->h.arg, 2 * WS_FETCH_CHUNK);
	for (s = 1; s <= WS_FETCH_CHUNK; s++)
		fake_expect_msg(f, 5, s);
	fake_free(f);
}

/* More than WS_GAP_MAX missing: a gap frame, then only the newest fetched. */
static void
test_live_gap_over_500(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 10);
	fake_send_msg(f, 0, 5, 700);
	fake_expect_line(
	        f, "{\"type\":\"gap\",\"room\":5,\"from\":11,\"to\":200}");
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 201);
	assert_int_equal(r->h.arg, 200 + WS_FETCH_CHUNK);
	fake_free(f);
}

/* The broker's own gap on join (since far behind): written, then replay. */
static void
test_join_since_with_broker_gap(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *gap = "{\"type\":\"gap\",\"room\":5,\"from\":1,\"to\":100}";
	int64_t s;

	(void)state;
	fake_connect(f);
	assert_int_equal(ws_conn_join(&f->c, 5, 0), PC_OK);
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	assert_int_equal(r->h.seq, 0);
	fake_broker(f, PC_WIRE_JOINED, r->h.req_id, 5, 600, 0,
	            "{\"type\":\"joined\",\"room\":5,\"last_seq\":600,"
	            "\"online\":[]}");
	fake_line(f);
	fake_broker(f, PC_WIRE_GAP, r->h.req_id, 5, 1, 100, gap);
	fake_expect_line(f, gap);
	for (s = 101; s <= 600; s++)
		fake_send_msg(f, r->h.req_id, 5, s);
	for (s = 101; s <= 600; s++)
		fake_expect_msg(f, 5, s);
	fake_expect_no_req(f);
	fake_free(f);
}

/* A join replay that stops short is fetched after WS_REPLAY_MS. */
static void
test_stalled_replay_fetched(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	uint64_t join;

	(void)state;
	fake_connect(f);
	join = fake_join(f, 5, 2, 6);
	fake_replay(f, join, 5, 3, 4);
	fake_expect_no_req(f);
	ws_conn_timers(&f->c, pc_clock_mono_ms() + 10, pc_clock_now_ms());
	fake_expect_no_req(f);
	ws_conn_timers(&f->c, pc_clock_mono_ms() + WS_REPLAY_MS + 10,
	               pc_clock_now_ms());
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 5);
	assert_int_equal(r->h.arg, 6);
	fake_free(f);
}

/* A TICK above the last written seq: the lost tail is fetched. */
static void
test_tick_fetches_lost_tail(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 3);
	fake_broker(f, PC_WIRE_TICK, 0, 5, 3, 0, NULL);
	fake_expect_no_req(f);
	fake_broker(f, PC_WIRE_TICK, 0, 5, 5, 0, NULL);
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 4);
	assert_int_equal(r->h.arg, 5);
	fake_send_msg(f, r->h.req_id, 5, 4);
	fake_send_msg(f, r->h.req_id, 5, 5);
	fake_broker(f, PC_WIRE_FETCHED, r->h.req_id, 5, 0, 0, NULL);
	fake_expect_msg(f, 5, 4);
	fake_expect_msg(f, 5, 5);
	fake_expect_no_req(f);
	fake_free(f);
}

/* FETCHED several times without the missing seq: reported as a gap. */
static void
test_unfillable_hole_becomes_gap(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r = NULL;
	int i;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 1);
	fake_send_msg(f, 0, 5, 3);
	for (i = 0; i < WS_FETCH_TRIES; i++) {
		ws_conn_room(&f->c, 5)->fetch_not_before = 0;
		if (i > 0)
			ws_conn_timers(&f->c, pc_clock_mono_ms(),
			               pc_clock_now_ms());
		r = fake_expect_req(f, PC_WIRE_FETCH, 5);
		assert_int_equal(r->h.seq, 2);
		fake_broker(f, PC_WIRE_FETCHED, r->h.req_id, 5, 0, 0, NULL);
	}
	fake_expect_line(f,
	                 "{\"type\":\"gap\",\"room\":5,\"from\":2,\"to\":2}");
	fake_expect_msg(f, 5, 3);
	fake_free(f);
}

static void
test_fetch_timeout_asks_again(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	int64_t now;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 1);
	fake_send_msg(f, 0, 5, 3);
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	now = pc_clock_mono_ms();
	ws_conn_timers(&f->c, now + 100, pc_clock_now_ms());
	fake_expect_no_req(f);
	ws_conn_timers(&f->c, now + WS_FETCH_TIMEOUT_MS + 1, pc_clock_now_ms());
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 2);
	fake_free(f);
}

/* Beyond WS_HELD_MAX held, they are dropped; the fetch brings them back. */
static void
test_held_bound(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	int64_t s;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 0);
	for (s = 2; s <= WS_HELD_MAX + 2; s++)
		fake_send_msg(f, 0, 5, s);
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_true(ws_conn_room(&f->c, 5)->nheld < WS_HELD_MAX);
	fake_send_msg(f, r->h.req_id, 5, 1);
	fake_expect_msg(f, 5, 1);
	fake_free(f);
}

/* A client that does not read: room messages are noted, not queued; once it
 * has caught up, what it missed is fetched. */
static void
test_lagging_client_skips_then_fetches(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	int64_t s;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 0);
	fake_send_msg(f, 0, 5, 1);
	fake_expect_msg(f, 5, 1);
	f->backlog = WS_OUT_SOFT + 1;
	for (s = 2; s <= 30; s++)
		fake_send_msg(f, 0, 5, s);
	fake_expect_no_line(f);
	fake_expect_no_req(f);
	assert_int_equal(ws_conn_room(&f->c, 5)->known, 30);
	f->backlog = WS_OUT_LOW + 1; /* reading, not yet caught up */
	ws_conn_timers(&f->c, pc_clock_mono_ms(), pc_clock_now_ms());
	fake_expect_no_req(f);
	f->backlog = 0;
	ws_conn_timers(&f->c, pc_clock_mono_ms(), pc_clock_now_ms());
	r = fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_int_equal(r->h.seq, 2);
	assert_int_equal(r->h.arg, 30);
	for (s = 2; s <= 30; s++)
		fake_send_msg(f, r->h.req_id, 5, s);
	for (s = 2; s <= 30; s++)
		fake_expect_msg(f, 5, s);
	/* Past the hard bound the client is dropped. */
	f->backlog = WS_OUT_HARD + 1;
	ws_conn_write(&f->c, "{}", 2);
	assert_true(f->c.done);
	fake_free(f);
}

/* Broker restart: re-AUTH, silent re-join with since = last, sends resent. */
static void
test_broker_restart_resyncs(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r, *send;
	uint64_t old_send;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 10);
	fake_send_msg(f, 0, 5, 11);
	fake_expect_msg(f, 5, 11);
	assert_int_equal(ws_conn_send(&f->c, 5, "hi", 2, "c9"), PC_OK);
	send = fake_expect_req(f, PC_WIRE_SEND, 5);
	old_send = send->h.req_id;

	ws_conn_link_down(&f->c);
	assert_int_equal(f->c.link, WS_LINK_DOWN);
	/* While away: requests are refused; old replies are stale. */
	assert_int_equal(ws_conn_send(&f->c, 5, "x", 1, "c10"),
	                 PC_ERR_UNAVAILABLE);
	assert_int_equal(ws_conn_join(&f->c, 6, -1), PC_ERR_UNAVAILABLE);
	fake_broker(f, PC_WIRE_ACK, old_send, 5, 12, 0, "{\"type\":\"ack\"}");
	fake_expect_no_line(f);

	ws_conn_link_up(&f->c);
	r = fake_expect_req(f, PC_WIRE_AUTH, 0);
	fake_broker(f, PC_WIRE_AUTHED, r->h.req_id, 0, 0, 0, FAKE_AUTHED);
	fake_expect_no_line(f); /* no second hello */
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	assert_int_equal(r->h.seq, 11);
	send = fake_expect_req(f, PC_WIRE_SEND, 5);
	assert_string_equal(send->payload,
	                    "{\"body\":\"hi\",\"client_id\":\"c9\"}");
	fake_broker(f, PC_WIRE_JOINED, r->h.req_id, 5, 12, 0,
	            "{\"type\":\"joined\",\"room\":5,\"last_seq\":12,"
	            "\"online\":[]}");
	fake_expect_no_line(f); /* the re-join is silent */
	fake_send_msg(f, r->h.req_id, 5, 12);
	fake_expect_msg(f, 5, 12);
	fake_broker(f, PC_WIRE_ACK, send->h.req_id, 5, 12, 0,
	            "{\"type\":\"ack\"}");
	fake_expect_line(f, "{\"type\":\"ack\"}");
	assert_int_equal(f->c.nsends, 0);
	fake_free(f);
}

/* A re-join refused (kicked while away): the client gets removed. */
static void
test_rejoin_refused_is_removed(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 10);
	ws_conn_link_down(&f->c);
	ws_conn_link_up(&f->c);
	r = fake_expect_req(f, PC_WIRE_AUTH, 0);
	fake_broker(f, PC_WIRE_AUTHED, r->h.req_id, 0, 0, 0, FAKE_AUTHED);
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 5, 0, 0,
	            "{\"type\":\"error\",\"code\":\"not_found\",\"message\":"
	            "\"x\",\"ref\":\"join\"}");
	fake_expect_line(f, "{\"type\":\"removed\",\"room\":5}");
	assert_null(ws_conn_room(&f->c, 5));
	fake_free(f);
}

/* A re-join answered unavailable (database down) is asked again later. */
static void
test_rejoin_unavailable_retried(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 10);
	ws_conn_link_down(&f->c);
	ws_conn_link_up(&f->c);
	r = fake_expect_req(f, PC_WIRE_AUTH, 0);
	fake_broker(f, PC_WIRE_AUTHED, r->h.req_id, 0, 0, 0, FAKE_AUTHED);
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 5, 0, 0,
	            "{\"type\":\"error\",\"code\":\"unavailable\",\"message\":"
	            "\"x\",\"ref\":\"join\"}");
	fake_expect_no_line(f);
	ws_conn_timers(&f->c, pc_clock_mono_ms() + WS_RETRY_MS + 1,
	               pc_clock_now_ms());
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	assert_int_equal(r->h.seq, 10);
	fake_free(f);
}

static void
test_join_error_written_room_forgotten(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *err = "{\"type\":\"error\",\"code\":\"not_found\","
	                  "\"message\":\"x\",\"ref\":\"join\"}";

	(void)state;
	fake_connect(f);
	assert_int_equal(ws_conn_join(&f->c, 9, -1), PC_OK);
	r = fake_expect_req(f, PC_WIRE_JOIN, 9);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 9, 0, 0, err);
	fake_expect_line(f, err);
	assert_null(ws_conn_room(&f->c, 9));
	assert_false(f->c.done);
	fake_free(f);
}

static void
test_rooms_per_socket_limit(void **state)
{
	struct fake *f = fake_new(0, 0, 2);

	(void)state;
	fake_connect(f);
	assert_int_equal(ws_conn_join(&f->c, 1, -1), PC_OK);
	assert_int_equal(ws_conn_join(&f->c, 2, -1), PC_OK);
	assert_int_equal(ws_conn_join(&f->c, 3, -1), PC_ERR_LIMIT_REACHED);
	assert_int_equal(ws_conn_join(&f->c, 2, 0),
	                 PC_OK); /* again: not counted */
	assert_int_equal(ws_conn_leave(&f->c, 1), PC_OK);
	assert_int_equal(ws_conn_join(&f->c, 3, -1), PC_OK);
	fake_free(f);
}

/* After leave, the room's traffic is not written. */
static void
test_leave_stops_traffic(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 0);
	assert_int_equal(ws_conn_leave(&f->c, 5), PC_OK);
	fake_expect_req(f, PC_WIRE_LEAVE, 5);
	fake_send_msg(f, 0, 5, 1);
	fake_expect_no_line(f);
	fake_free(f);
}

static void
test_removed_close_event(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	fake_connect(f);
	fake_join(f, 5, -1, 0);
	fake_broker(f, PC_WIRE_EVENT, 0, 5, 0, 0,
	            "{\"type\":\"typing\",\"room\":5,\"user\":{\"id\":8,"
	            "\"username\":\"bob\"}}");
	fake_expect_line(f, "{\"type\":\"typing\",\"room\":5,\"user\":{\"id\":"
	                    "8,\"username\":\"bob\"}}");
	fake_broker(f, PC_WIRE_REMOVED, 0, 5, 0, 0,
	            "{\"type\":\"removed\",\"room\":5}");
	fake_expect_line(f, "{\"type\":\"removed\",\"room\":5}");
	assert_null(ws_conn_room(&f->c, 5));
	assert_false(f->c.done);
	fake_broker(f, PC_WIRE_CLOSE, 0, 0, 0, 0,
	            "{\"type\":\"error\",\"code\":\"session_revoked\","
	            "\"message\":\"x\",\"ref\":null}");
	fake_expect_line(f, "{\"type\":\"error\",\"code\":\"session_revoked\","
	                    "\"message\":\"x\",\"ref\":null}");
	assert_true(f->c.done);
	fake_free(f);
}

static void
test_timers(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	int64_t t0 = pc_clock_mono_ms(), wall = pc_clock_now_ms();
	int wait;

	(void)state;
	fake_connect(f);
	wait = ws_conn_timers(&f->c, pc_clock_mono_ms(), wall);
	assert_true(wait > WS_RETRY_MS && wait <= WS_PING_MS);
	f->c.last_in_ms = t0 + WS_PING_MS; /* the client is chatty */
	ws_conn_timers(&f->c, t0 + WS_PING_MS + 10, wall);
	fake_expect_line(f, "{\"type\":\"ping\"}");
	ws_conn_timers(&f->c, t0 + WS_PING_MS + 20, wall);
	fake_expect_no_line(f);
	assert_false(f->c.done);
	/* Silent client: closed without a frame. */
	ws_conn_timers(&f->c, t0 + 2 * WS_PING_MS + WS_IDLE_MS, wall);
	assert_true(f->c.done);
	fake_free(f);

	f = fake_new(0, 0, 100);
	fake_connect(f);
	ws_conn_timers(&f->c, pc_clock_mono_ms(), f->c.exp * 1000);
	assert_non_null(strstr(fake_line(f), "\"code\":\"session_expired\""));
	assert_true(f->c.done);
	fake_free(f);

	f = fake_new(0, 0, 100);
	ws_conn_timers(&f->c, pc_clock_mono_ms() + WS_AUTH_TIMEOUT_MS, wall);
	assert_true(f->c.done);
	assert_non_null(strstr(fake_line(f), "\"unavailable\""));
	fake_free(f);
}

/* How long the worker may sleep now (the clocks read after the fake's
 * last step, so never before its connection's own timestamps). */
static int
idle_wait(struct fake *f)
{
	return ws_conn_timers(&f->c, pc_clock_mono_ms(), pc_clock_now_ms());
}

/* An idle socket's worker sleeps until its next ping; while a join, a
 * replay or a fetch is under way it looks again every WS_RETRY_MS. */
static void
test_idle_sleeps_until_ping(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	uint64_t join;
	int wait;

	(void)state;
	fake_connect(f);
	wait = idle_wait(f);
	assert_true(wait > WS_RETRY_MS && wait <= WS_PING_MS);
	assert_int_equal(ws_conn_join(&f->c, 7, -1), PC_OK);
	(void)fake_expect_req(f, PC_WIRE_JOIN, 7);
	assert_true(idle_wait(f) <= WS_RETRY_MS);
	fake_free(f);

	/* a replay under way (since 2, last_seq 6), then complete */
	f = fake_new(0, 0, 100);
	fake_connect(f);
	join = fake_join(f, 5, 2, 6);
	fake_replay(f, join, 5, 3, 4);
	assert_true(idle_wait(f) <= WS_RETRY_MS);
	fake_replay(f, join, 5, 5, 6);
	wait = idle_wait(f);
	assert_true(wait > WS_RETRY_MS && wait <= WS_PING_MS);
	/* a hole (8 without 7) waits for its fetch */
	fake_send_msg(f, 0, 5, 8);
	(void)fake_expect_req(f, PC_WIRE_FETCH, 5);
	assert_true(idle_wait(f) <= WS_RETRY_MS);
	fake_expect_no_req(f);
	fake_free(f);
}

/* Text mode: the query's room is joined; lines are bodies; human output. */
static void
test_text_mode_round_trip(void **state)
{
	struct fake *f = fake_new(1, 5, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	fake_broker(f, PC_WIRE_JOINED, r->h.req_id, 5, 0, 0,
	            "{\"type\":\"joined\",\"room\":5,\"last_seq\":0,\"kind\":"
	            "\"public\","
	            "\"name\":\"general\",\"online\":[{\"id\":7,\"username\":"
	            "\"alice\"}]}");
	fake_expect_line(f, "* joined #general (1 online: alice)");
	ws_conn_client_line(&f->c, "hello there\r", 12);
	r = fake_expect_req(f, PC_WIRE_SEND, 5);
	assert_non_null(strstr(r->payload, "\"body\":\"hello there\""));
	assert_non_null(strstr(r->payload, "\"client_id\":\"t-"));
	fake_broker(f, PC_WIRE_ACK, r->h.req_id, 5, 1, 0,
	            "{\"type\":\"ack\",\"client_id\":\"t\",\"id\":1,\"room\":5,"
	            "\"seq\":1}");
	fake_expect_no_line(f);
	fake_send_msg(f, 0, 5, 1);
	fake_expect_line(f, "[08:53:04] #general bob: m1");
	ws_conn_client_line(&f->c, "", 0);
	fake_expect_no_req(f);
	ws_conn_client_line(&f->c, "\x01", 1);
	{
		char want[256];

		snprintf(want, sizeof(want), "! bad_body: %s",
		         pc_err_message(PC_ERR_BAD_BODY));
		fake_expect_line(f, want);
	}
	ws_conn_client_line(&f->c, "two", 3);
	r = fake_expect_req(f, PC_WIRE_SEND, 5);
	assert_non_null(strstr(r->payload, "-2\"}"));
	fake_broker(f, PC_WIRE_REMOVED, 0, 5, 0, 0,
	            "{\"type\":\"removed\",\"room\":5}");
	fake_expect_line(f, "* you are no longer in #5");
	assert_true(f->c.done);
	fake_free(f);
}

static void
test_text_mode_unreadable_room_ends(void **state)
{
	struct fake *f = fake_new(1, 5, 100);
	struct fake_req *r;

	(void)state;
	fake_connect(f);
	r = fake_expect_req(f, PC_WIRE_JOIN, 5);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 5, 0, 0,
	            "{\"type\":\"error\",\"code\":\"not_found\",\"message\":"
	            "\"No such room.\",\"ref\":\"join\"}");
	fake_expect_line(f, "! not_found: No such room.");
	assert_true(f->c.done);
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hello_then_join_and_messages),
	        cmocka_unit_test(test_batch),
	        cmocka_unit_test(test_query_room_joins_after_hello),
	        cmocka_unit_test(test_nothing_before_authed),
	        cmocka_unit_test(test_auth_error_ends_connection),
	        cmocka_unit_test(test_send_ack_then_message),
	        cmocka_unit_test(test_send_error_written_and_forgotten),
	        cmocka_unit_test(test_hole_is_fetched_and_held_drained),
	        cmocka_unit_test(test_fetch_in_chunks),
	        cmocka_unit_test(test_live_gap_over_500),
	        cmocka_unit_test(test_join_since_with_broker_gap),
	        cmocka_unit_test(test_stalled_replay_fetched),
	        cmocka_unit_test(test_tick_fetches_lost_tail),
	        cmocka_unit_test(test_unfillable_hole_becomes_gap),
	        cmocka_unit_test(test_fetch_timeout_asks_again),
	        cmocka_unit_test(test_held_bound),
	        cmocka_unit_test(test_lagging_client_skips_then_fetches),
	        cmocka_unit_test(test_broker_restart_resyncs),
	        cmocka_unit_test(test_rejoin_refused_is_removed),
	        cmocka_unit_test(test_rejoin_unavailable_retried),
	        cmocka_unit_test(test_join_error_written_room_forgotten),
	        cmocka_unit_test(test_rooms_per_socket_limit),
	        cmocka_unit_test(test_leave_stops_traffic),
	        cmocka_unit_test(test_removed_close_event),
	        cmocka_unit_test(test_timers),
	        cmocka_unit_test(test_idle_sleeps_until_ping),
	        cmocka_unit_test(test_text_mode_round_trip),
	        cmocka_unit_test(test_text_mode_unreadable_room_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

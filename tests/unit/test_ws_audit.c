/*
 * test_ws_audit.c: the worker's audit lines (ws-worker/audit.h): the format
 * (prefix, key order, quoting, cutting), the client address, the rate limit
 * on refused lines, and the lines a connection writes as it goes (through
 * the fake broker of test_ws_fake.h), never with a token or a body in them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "audit.h"
#include "test_ws_fake.h"

#define TS_MS 1795680000123LL /* 2026-11-26T08:00:00.123Z */

static size_t
fmt(const struct ws_audit *a, const char *event, const char *const *k,
    const char *const *v, size_t n, char *buf, size_t size)
{
	return ws_audit_format(a, TS_MS, event, k, v, n, buf, size);
}

static void
test_format_prefix_and_order(void **state)
{
	struct ws_audit a;
	char buf[WS_AUDIT_LINE_MAX];
	const char *k[] = {"room", "seq", "field"};
	const char *v[] = {"5", "41", NULL};
	size_t n;

	(void)state;
	ws_audit_init(&a, -1, 4242, "10.0.0.1");
	n = fmt(&a, "join", k, v, 3, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "audit ts=2026-11-26T08:00:00.123Z pid=4242 "
	                         "event=join room=5 seq=41\n");
	a.user = 12;
	snprintf(a.session, sizeof(a.session), "s-7");
	fmt(&a, "send", k, v, 2, buf, sizeof(buf));
	assert_string_equal(buf, "audit ts=2026-11-26T08:00:00.123Z pid=4242 "
	                         "event=send user=12 session=s-7 room=5 "
	                         "seq=41\n");
}

static void
test_format_quotes_what_needs_it(void **state)
{
	struct ws_audit a;
	char buf[WS_AUDIT_LINE_MAX];
	const char *k[] = {"a", "b", "c", "d"};
	const char *v[] = {"", "two words", "q\"b\\s", "nl\nx\x01\xc3\xa9"};

	(void)state;
	ws_audit_init(&a, -1, 1, NULL);
	fmt(&a, "x", k, v, 4, buf, sizeof(buf));
	assert_non_null(strstr(buf, " a=\"\" b=\"two words\" "
	                            "c=\"q\\\"b\\\\s\" d=\"nl?x???\"\n"));
	/* One event is one line. */
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void
test_format_cuts_at_a_pair(void **state)
{
	struct ws_audit a;
	char buf[80], big[200];
	const char *k[] = {"first", "second"};
	const char *v[] = {"ok", big};

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ws_audit_init(&a, -1, 1, NULL);
	fmt(&a, "x", k, v, 2, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, " first=ok\n"));
	assert_null(strstr(buf, "second"));
}

static void
test_client_addr(void **state)
{
	char out[PC_ADDR_MAX];

	(void)state;
	/* Run by hand: REMOTE_ADDR. */
	ws_audit_client_addr("", "192.0.2.1", NULL, out, sizeof(out));
	assert_string_equal(out, "192.0.2.1");
	/* Behind pipechat's own web server: the peer it saw, last. */
	ws_audit_client_addr("", "127.0.0.1", "10.1.2.3", out, sizeof(out));
	assert_string_equal(out, "10.1.2.3");
	ws_audit_client_addr("", "127.0.0.1", "6.6.6.6, 10.1.2.3", out,
	                     sizeof(out));
	assert_string_equal(out, "10.1.2.3");
	/* That peer a trusted proxy: what the proxy put before it. */
	ws_audit_client_addr("198.51.100.9", "127.0.0.1",
	                     "6.6.6.6, 10.9.8.7 ,198.51.100.9", out,
	                     sizeof(out));
	assert_string_equal(out, "10.9.8.7");
	/* Not trusted: what a client wrote is not believed. */
	ws_audit_client_addr("198.51.100.9", "127.0.0.1",
	                     "10.9.8.7, 203.0.113.5", out, sizeof(out));
	assert_string_equal(out, "203.0.113.5");
	/* Canonical form. */
	ws_audit_client_addr("", "127.0.0.1", "2001:db8:0::0001", out,
	                     sizeof(out));
	assert_string_equal(out, "2001:db8::1");
	/* Junk from the header stays junk (and is quoted in lines). */
	ws_audit_client_addr("", "127.0.0.1", "not an address", out,
	                     sizeof(out));
	assert_string_equal(out, "not an address");
}

/* ---- lines written to a pipe ----------------------------------------- */

struct sink {
	int fds[2];
	char buf[64 * 1024];
	size_t len;
	struct ws_audit a;
};

static void
sink_open(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(pipe(s->fds), 0);
	assert_int_equal(fcntl(s->fds[0], F_SETFL, O_NONBLOCK), 0);
	ws_audit_init(&s->a, s->fds[1], 99, "10.0.0.9");
}

/* Everything written so far (NUL-terminated in s->buf). */
static const char *
sink_read(struct sink *s)
{
	ssize_t n;

	while ((n = read(s->fds[0], s->buf + s->len,
	                 sizeof(s->buf) - 1 - s->len)) > 0)
		s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return s->buf;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void
sink_close(struct sink *s)
{
	close(s->fds[0]);
	close(s->fds[1]);
}

static void
test_refused_lines_are_rate_limited(void **state)
{
	struct sink s;
	const char *out;
	int i;

	(void)state;
	sink_open(&s);
	for (i = 0; i < WS_AUDIT_REFUSED_MAX + 30; i++)
		ws_audit_refused(&s.a, "bad_json", 0, NULL);
	/* The window is long: a later one is counted, not written. */
	ws_audit_refused(&s.a, "invalid", 3, "room");
	out = sink_read(&s);
	assert_int_equal(count(out, "event=refused"), WS_AUDIT_REFUSED_MAX);
	assert_null(strstr(out, "code=invalid"));
	/* The next window: written, with what was left out since. */
	s.a.window_ms -= WS_AUDIT_WINDOW_MS;
	ws_audit_refused(&s.a, "invalid", 3, "room");
	ws_audit_disconnect(&s.a, "client_closed");
	out = sink_read(&s);
	assert_non_null(strstr(out, "event=refused code=invalid room=3 "
	                            "field=room dropped=31\n"));
	assert_non_null(strstr(out, "event=disconnect reason=client_closed "
	                            "refused=52 unlogged=31\n"));
	sink_close(&s);
}

static void
test_reject_and_disconnect(void **state)
{
	struct sink s;
	const char *out;

	(void)state;
	sink_open(&s);
	ws_audit_reject(&s.a, "forbidden_origin");
	ws_audit_disconnect(&s.a, "forbidden_origin");
	out = sink_read(&s);
	assert_non_null(strstr(out,
	                       " pid=99 event=reject code=forbidden_origin "
	                       "addr=10.0.0.9\n"));
	assert_non_null(strstr(out, " pid=99 event=disconnect "
	                            "reason=forbidden_origin\n"));
	assert_null(strstr(out, "user="));
	sink_close(&s);
}

/* A connection's life, through the fake broker. */
static void
test_connection_writes_its_events(void **state)
{
	struct sink s;
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *out;

	(void)state;
	sink_open(&s);
	f->c.p.audit = &s.a;
	fake_connect(f);
	fake_join(f, 5, -1, 40);
	/* A send and its ack. */
	assert_int_equal(ws_conn_send(&f->c, 5, "secret body", 11, "c-1"),
	                 PC_OK);
	r = fake_expect_req(f, PC_WIRE_SEND, 5);
	fake_broker(f, PC_WIRE_ACK, r->h.req_id, 5, 41, 901,
	            "{\"type\":\"ack\",\"client_id\":\"c-1\",\"id\":901,"
	            "\"room\":5,\"seq\":41,\"created_at\":\"x\"}");
	/* Refused by the worker, then by the broker. */
	ws_conn_client_line(&f->c, "not json", 8);
	assert_int_equal(ws_conn_send(&f->c, 5, "b", 1, "c-2"), PC_OK);
	r = fake_expect_req(f, PC_WIRE_SEND, 5);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 5, 0, 0,
	            "{\"type\":\"error\",\"code\":\"rate_limited\","
	            "\"message\":\"m\",\"ref\":\"c-2\",\"retry_after_ms\":10}");
	/* Left by the client; another room removed by the server. */
	assert_int_equal(ws_conn_leave(&f->c, 5), PC_OK);
	fake_expect_req(f, PC_WIRE_LEAVE, 5);
	f->seen = f->nlines; /* the client's frames: not what is tested */
	fake_join(f, 6, -1, 0);
	fake_broker(f, PC_WIRE_REMOVED, 0, 6, 0, 0,
	            "{\"type\":\"removed\",\"room\":6}");
	/* Closed by the broker: the reason for the disconnect line. */
	fake_broker(f, PC_WIRE_CLOSE, 0, 0, 0, 0,
	            "{\"type\":\"error\",\"code\":\"session_revoked\","
	            "\"message\":\"m\",\"ref\":null}");
	assert_true(f->c.done);
	assert_string_equal(f->c.why, "session_revoked");
	ws_audit_disconnect(&s.a, f->c.why);

	out = sink_read(&s);
	assert_non_null(strstr(out, " event=connect user=7 session=s-1 "
	                            "addr=10.0.0.9 mode=json\n"));
	assert_non_null(strstr(out, " event=join user=7 session=s-1 room=5 "
	                            "last_seq=40\n"));
	assert_non_null(strstr(out, " event=send user=7 session=s-1 room=5 "
	                            "seq=41 id=901\n"));
	assert_non_null(strstr(out, " event=refused user=7 session=s-1 "
	                            "code=bad_json\n"));
	assert_non_null(strstr(out, " event=refused user=7 session=s-1 "
	                            "code=rate_limited room=5\n"));
	assert_non_null(strstr(out, " event=leave user=7 session=s-1 room=5 "
	                            "by=client\n"));
	assert_non_null(strstr(out, " event=leave user=7 session=s-1 room=6 "
	                            "by=server\n"));
	assert_non_null(strstr(out, " event=disconnect user=7 session=s-1 "
	                            "reason=session_revoked refused=2\n"));
	/* Never the token or a body. */
	assert_null(strstr(out, "tok.en.x"));
	assert_null(strstr(out, "secret body"));
	assert_int_equal(count(out, "\n"), 9); /* with join room 6 */
	fake_free(f);
	sink_close(&s);
}

/* The broker refuses the token: a reject line, and the code as reason. */
static void
test_refused_token(void **state)
{
	struct sink s;
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *out;

	(void)state;
	sink_open(&s);
	f->c.p.audit = &s.a;
	ws_conn_link_up(&f->c);
	r = fake_expect_req(f, PC_WIRE_AUTH, 0);
	fake_broker(f, PC_WIRE_ERROR, r->h.req_id, 0, 0, 0,
	            "{\"type\":\"error\",\"code\":\"limit_reached\","
	            "\"message\":\"m\",\"ref\":null}");
	assert_true(f->c.done);
	assert_string_equal(f->c.why, "limit_reached");
	out = sink_read(&s);
	assert_non_null(strstr(out, " event=reject code=limit_reached "
	                            "addr=10.0.0.9\n"));
	fake_free(f);
	sink_close(&s);
}

/* Timers end a connection with a reason of their own. */
static void
test_timer_reasons(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	fake_connect(f);
	ws_conn_timers(&f->c, f->c.last_in_ms + WS_IDLE_MS, 0);
	assert_true(f->c.done);
	assert_string_equal(f->c.why, "idle");
	fake_free(f);

	f = fake_new(0, 0, 100);
	fake_connect(f);
	f->backlog = WS_OUT_HARD + 1;
	ws_conn_write(&f->c, "x", 1);
	assert_int_equal(f->c.done, 2);
	assert_string_equal(f->c.why, "slow_client");
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format_prefix_and_order),
	        cmocka_unit_test(test_format_quotes_what_needs_it),
	        cmocka_unit_test(test_format_cuts_at_a_pair),
	        cmocka_unit_test(test_client_addr),
	        cmocka_unit_test(test_refused_lines_are_rate_limited),
	        cmocka_unit_test(test_reject_and_disconnect),
	        cmocka_unit_test(test_connection_writes_its_events),
	        cmocka_unit_test(test_refused_token),
	        cmocka_unit_test(test_timer_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

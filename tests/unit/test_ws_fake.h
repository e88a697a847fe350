/*
 * test_ws_fake.h: a fake client and a fake broker around one struct ws_conn,
 * for the worker's unit tests. Output lines and broker requests are recorded;
 * broker messages are packed with common/wire.h and fed in. No processes,
 * no sockets. Header-only (static functions): include it once per test.
 */
#ifndef PIPECHAT_TEST_WS_FAKE_H
#define PIPECHAT_TEST_WS_FAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "wire.h"

#define FAKE_MAX 8192

struct fake_req {
	struct pc_wire_hdr h;
	char *payload;
	size_t len;
};

struct fake {
	char *lines[FAKE_MAX];
	size_t nlines, seen;
	struct fake_req reqs[FAKE_MAX];
	size_t nreqs, rseen;
	int link_fail;
	size_t backlog; /* what the fake client has not read */
	struct ws_conn c;
};

static __attribute__((unused)) enum pc_err
fake_out(void *ctx, const char *line, size_t len)
{
	struct fake *f = ctx;

	assert_true(f->nlines < FAKE_MAX);
	assert_null(memchr(line, '\n', len));
	f->lines[f->nlines++] = strndup(line, len);
	return PC_OK;
}

static __attribute__((unused)) size_t
fake_backlog(void *ctx)
{
	return ((struct fake *)ctx)->backlog;
}

static __attribute__((unused)) enum pc_err
fake_link(void *ctx, const struct pc_wire_hdr *h, const void *payload,
          size_t len)
{
	struct fake *f = ctx;
	struct fake_req *r;

	if (f->link_fail)
		return PC_ERR_UNAVAILABLE;
	assert_true(f->nreqs < FAKE_MAX);
	r = &f->reqs[f->nreqs++];
	r->h = *h;
	r->payload = strndup(payload != NULL ? payload : "", len);
	r->len = len;
	return PC_OK;
}

static __attribute__((unused)) struct fake *
fake_new(int text, int64_t room, int64_t max_rooms)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct ws_conn_params p;

	assert_non_null(f);
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.room = room;
	p.max_rooms = max_rooms;
	p.token = "tok.en.x";
	p.out = fake_out;
	p.backlog = fake_backlog;
	p.out_ctx = f;
	p.link = fake_link;
	p.link_ctx = f;
	assert_int_equal(ws_conn_init(&f->c, &p), PC_OK);
	return f;
}

static __attribute__((unused)) void
fake_free(struct fake *f)
{
	size_t i;

	ws_conn_free(&f->c);
	for (i = 0; i < f->nlines; i++)
		free(f->lines[i]);
	for (i = 0; i < f->nreqs; i++)
		free(f->reqs[i].payload);
	free(f);
}

/* The broker sends one message. */
static __attribute__((unused)) void
fake_broker(struct fake *f, int type, uint64_t req, int64_t room, int64_t seq,
            int64_t arg, const char *payload)
{
	unsigned char buf[PC_WIRE_HDR_LEN + 4096];
	struct pc_wire_hdr h;
	size_t len = payload != NULL ? strlen(payload) : 0;

	assert_true(len <= 4096);
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.req_id = req;
	h.room = room;
	h.seq = seq;
	h.arg = arg;
	pc_wire_pack(&h, buf);
	if (len > 0)
		memcpy(buf + PC_WIRE_HDR_LEN, payload, len);
	ws_conn_broker(&f->c, buf, PC_WIRE_HDR_LEN + len);
}

/* The next output line not yet looked at, or NULL. */
static __attribute__((unused)) const char *
fake_line(struct fake *f)
{
	return f->seen < f->nlines ? f->lines[f->seen++] : NULL;
}

static __attribute__((unused)) void
fake_expect_line(struct fake *f, const char *want)
{
	const char *got = fake_line(f);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("line %zu: want %s, got %s", f->seen, want,
		         got ? got : "(none)");
}

static __attribute__((unused)) void
fake_expect_no_line(struct fake *f)
{
	const char *got = fake_line(f);

	if (got != NULL)
		fail_msg("unexpected line: %s", got);
}

/* The next request not yet looked at, or NULL. */
static __attribute__((unused)) struct fake_req *
fake_req(struct fake *f)
{
	return f->rseen < f->nreqs ? &f->reqs[f->rseen++] : NULL;
}

static __attribute__((unused)) struct fake_req *
fake_expect_req(struct fake *f, int type, int64_t room)
{
	struct fake_req *r = fake_req(f);

	if (r == NULL)
		fail_msg("no request, want %s", pc_wire_type_name(type));
	if (r->h.type != type || r->h.room != room)
		fail_msg("request %s room %lld, want %s room %lld",
		         pc_wire_type_name(r->h.type), (long long)r->h.room,
		         pc_wire_type_name(type), (long long)room);
	return r;
}

static __attribute__((unused)) void
fake_expect_no_req(struct fake *f)
{
	struct fake_req *r = fake_req(f);

	if (r != NULL)
		fail_msg("unexpected request %s room %lld seq %lld",
		         pc_wire_type_name(r->h.type), (long long)r->h.room,
		         (long long)r->h.seq);
}

#define FAKE_AUTHED                                                            \
	"{\"user\":{\"id\":7,\"username\":\"alice\"},\"session\":\"s-1\","     \
	"\"exp\":4102444800}"
#define FAKE_HELLO                                                             \
	"{\"type\":\"hello\",\"user\":{\"id\":7,\"username\":\"alice\"},"      \
	"\"session\":\"s-1\"}"

/* Link up, AUTH answered: the hello is written (and checked). */
static __attribute__((unused)) void
fake_connect(struct fake *f)
{
	struct fake_req *r;

	ws_conn_link_up(&f->c);
	r = fake_expect_req(f, PC_WIRE_AUTH, 0);
	assert_string_equal(r->payload, "tok.en.x");
	fake_broker(f, PC_WIRE_AUTHED, r->h.req_id, 0, 0, 0, FAKE_AUTHED);
	if (!f->c.p.text)
		fake_expect_line(f, FAKE_HELLO);
	else
		fake_expect_line(f, "* signed in as alice");
}

/* A message line as the broker renders it. */
static __attribute__((unused)) const char *
fake_msg(int64_t room, int64_t seq)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
	         "{\"type\":\"message\",\"id\":%lld,\"room\":%lld,\"seq\":%lld,"
	         "\"kind\":\"text\",\"user\":{\"id\":8,\"username\":\"bob\"},"
	         "\"body\":\"m%lld\",\"created_at\":\"2026-11-26T08:53:04."
	         "123Z\","
	         "\"edited_at\":null,\"deleted\":false}",
	         (long long)(room * 100000 + seq), (long long)room,
	         (long long)seq, (long long)seq);
	return buf;
}

static __attribute__((unused)) void
fake_send_msg(struct fake *f, uint64_t req, int64_t room, int64_t seq)
{
	fake_broker(f, PC_WIRE_MSG, req, room, seq, 0, fake_msg(room, seq));
}

static __attribute__((unused)) void
fake_expect_msg(struct fake *f, int64_t room, int64_t seq)
{
	char want[512];

	snprintf(want, sizeof(want), "%s", fake_msg(room, seq));
	fake_expect_line(f, want);
}

/* Joins room (since -1: none) and answers JOINED with last_seq; returns the
 * JOIN's req_id (what the broker's replay after since carries). */
static __attribute__((unused)) uint64_t
fake_join(struct fake *f, int64_t room, int64_t since, int64_t last_seq)
{
	struct fake_req *r;
	char joined[256];

	assert_int_equal(ws_conn_join(&f->c, room, since), PC_OK);
	r = fake_expect_req(f, PC_WIRE_JOIN, room);
	assert_int_equal(r->h.seq, since);
	snprintf(joined, sizeof(joined),
	         "{\"type\":\"joined\",\"room\":%lld,\"last_seq\":%lld,"
	         "\"kind\":\"public\",\"name\":\"general\",\"online\":[]}",
	         (long long)room, (long long)last_seq);
	fake_broker(f, PC_WIRE_JOINED, r->h.req_id, room, last_seq, 0, joined);
	fake_expect_line(f, joined);
	return r->h.req_id;
}

/* The broker's replay of room's seqs from..to after the JOIN join: all sent,
 * then each expected on the client's side, in order. */
static __attribute__((unused)) void
fake_replay(struct fake *f, uint64_t join, int64_t room, int64_t from,
            int64_t to)
{
	int64_t seq;

	for (seq = from; seq <= to; seq++)
		fake_send_msg(f, join, room, seq);
	for (seq = from; seq <= to; seq++)
		fake_expect_msg(f, room, seq);
}

#endif

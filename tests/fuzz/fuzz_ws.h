/*
 * fuzz_ws.h: a fake client and a fake broker around one struct ws_conn
 * (ws-worker/conn.h) for fuzz_ws_line and fuzz_wire. No processes, sockets
 * or cmocka: requests the worker sends are queued and, when asked, answered
 * the way the broker would (AUTHED, JOINED plus replay, ACK plus the message,
 * OK, FETCH ranges); lines written to the client are checked as they come.
 * Header-only (static functions); not linked into anything that ships.
 */
#ifndef PIPECHAT_FUZZ_WS_H
#define PIPECHAT_FUZZ_WS_H

#include <cjson/cJSON.h>

#include "conn.h"
#include "fuzz_util.h"
#include "json.h"
#include "valid.h"
#include "wire.h"

#define FUZZ_WS_QUEUE    64 /* requests awaiting an answer */
#define FUZZ_WS_LAST_SEQ 3  /* every room starts with 3 messages */
#define FUZZ_WS_ID_MAX   (INT64_C(1) << 53)

struct fuzz_ws_req {
	struct pc_wire_hdr h;
	char *payload;
	size_t len;
};

struct fuzz_ws {
	struct ws_conn c;
	int check_lines; /* every line: no newline, valid UTF-8 */
	int check_json;  /* every line must be one JSON object */
	int link_fail;   /* the link refuses requests */
	struct fuzz_ws_req q[FUZZ_WS_QUEUE];
	size_t nq;
	int64_t next_seq; /* the fake broker's seq for sends (all rooms) */
	size_t lines;
};

/* Every line: no newline (it would split the frame), valid UTF-8 (a text
 * frame must be), and in JSON mode one JSON object with a string "type". */
static enum pc_err
fuzz_ws_out(void *ctx, const char *line, size_t len)
{
	struct fuzz_ws *f = ctx;
	cJSON *root = NULL;
	const char *type;

	f->lines++;
	if (!f->check_lines)
		return PC_OK;
	if (memchr(line, '\n', len) != NULL) {
		fprintf(stderr, "line with a newline: %.*s\n", (int)len, line);
		FUZZ_CHECK(!"a line written to the client holds a newline");
	}
	if (!fuzz_utf8_ok(line, len, NULL)) {
		fprintf(stderr, "line: %.*s\n", (int)len, line);
		FUZZ_CHECK(!"a line written to the client is not UTF-8");
	}
	if (!f->check_json)
		return PC_OK;
	if (pc_json_parse(line, len, &root) != PC_OK || !cJSON_IsObject(root) ||
	    pc_json_get_str(root, "type", &type) != PC_OK) {
		fprintf(stderr, "line: %.*s\n", (int)len, line);
		FUZZ_CHECK(!"a JSON-mode line is not an object with a type");
	}
	cJSON_Delete(root);
	return PC_OK;
}

static enum pc_err
fuzz_ws_link(void *ctx, const struct pc_wire_hdr *h, const void *payload,
             size_t len)
{
	struct fuzz_ws *f = ctx;
	struct fuzz_ws_req *r;

	FUZZ_CHECK(h->version == PC_WIRE_VERSION && h->req_id != 0);
	FUZZ_CHECK(len <= PC_WIRE_MAX - PC_WIRE_HDR_LEN);
	if (f->link_fail || f->nq == FUZZ_WS_QUEUE)
		return PC_ERR_UNAVAILABLE;
	r = &f->q[f->nq++];
	r->h = *h;
	r->len = len;
	r->payload = malloc(len + 1);
	FUZZ_CHECK(r->payload != NULL);
	if (len > 0)
		memcpy(r->payload, payload, len);
	r->payload[len] = '\0';
	return PC_OK;
}

/* The state conn.h promises after every event. */
static void
fuzz_ws_invariants(const struct fuzz_ws *f)
{
	const struct ws_conn *c = &f->c;
	size_t i, j;

	FUZZ_CHECK((int64_t)c->nrooms <= c->p.max_rooms);
	FUZZ_CHECK(c->nrooms <= c->rooms_cap);
	FUZZ_CHECK(c->nsends <= WS_PENDING_SENDS_MAX);
	for (i = 0; i < c->nrooms; i++) {
		const struct ws_room *r = &c->rooms[i];
		size_t bytes = 0;

		for (j = i + 1; j < c->nrooms; j++)
			FUZZ_CHECK(c->rooms[j].id != r->id);
		FUZZ_CHECK(r->nheld <= WS_HELD_MAX);
		FUZZ_CHECK(r->held_bytes <= WS_HELD_BYTES);
		for (j = 0; j < r->nheld; j++) {
			FUZZ_CHECK(r->held[j].seq > r->last + 1);
			if (j > 0)
				FUZZ_CHECK(r->held[j].seq > r->held[j - 1].seq);
			bytes += r->held[j].len;
		}
		FUZZ_CHECK(bytes == r->held_bytes);
		FUZZ_CHECK(memchr(r->label, '\0', sizeof(r->label)) != NULL);
	}
}

static void
fuzz_ws_init(struct fuzz_ws *f, int text, int64_t room, int64_t max_rooms)
{
	struct ws_conn_params p;

	memset(f, 0, sizeof(*f));
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.room = room;
	p.max_rooms = max_rooms;
	p.token = "fuzz.token.x";
	p.out = fuzz_ws_out;
	p.out_ctx = f;
	p.link = fuzz_ws_link;
	p.link_ctx = f;
	f->check_lines = 1;
	f->check_json = !text;
	f->next_seq = FUZZ_WS_LAST_SEQ;
	FUZZ_CHECK(ws_conn_init(&f->c, &p) == PC_OK);
}

static void fuzz_ws_drop_queue(struct fuzz_ws *f);

static void
fuzz_ws_free(struct fuzz_ws *f)
{
	ws_conn_free(&f->c);
	fuzz_ws_drop_queue(f);
}

/* Hands the connection one broker message. */
static void
fuzz_ws_deliver(struct fuzz_ws *f, int type, uint64_t req, int64_t room,
                int64_t seq, int64_t arg, uint16_t flags, const char *payload)
{
	size_t len = payload != NULL ? strlen(payload) : 0;
	unsigned char *buf = malloc(PC_WIRE_HDR_LEN + len + 1);
	struct pc_wire_hdr h;

	FUZZ_CHECK(buf != NULL);
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.flags = flags;
	h.req_id = req;
	h.room = room;
	h.seq = seq;
	h.arg = arg;
	pc_wire_pack(&h, buf);
	if (len > 0)
		memcpy(buf + PC_WIRE_HDR_LEN, payload, len);
	ws_conn_broker(&f->c, buf, PC_WIRE_HDR_LEN + len);
	free(buf);
	fuzz_ws_invariants(f);
}

/* A message frame as the broker renders it (cJSON escapes the body). */
static char *
fuzz_ws_msg(int64_t room, int64_t seq, const char *body)
{
	cJSON *o = cJSON_CreateObject(), *u;
	char *s;

	FUZZ_CHECK(o != NULL);
	cJSON_AddStringToObject(o, "type", "message");
	pc_json_add_int(o, "id", room * 1000000 + seq);
	pc_json_add_int(o, "room", room);
	pc_json_add_int(o, "seq", seq);
	cJSON_AddStringToObject(o, "kind", "text");
	u = cJSON_AddObjectToObject(o, "user");
	pc_json_add_int(u, "id", 8);
	cJSON_AddStringToObject(u, "username", "bob");
	cJSON_AddStringToObject(o, "body", body);
	cJSON_AddStringToObject(o, "created_at", "2026-11-26T08:53:04.123Z");
	cJSON_AddNullToObject(o, "edited_at");
	cJSON_AddFalseToObject(o, "deleted");
	s = pc_json_print(o);
	FUZZ_CHECK(s != NULL);
	cJSON_Delete(o);
	return s;
}

static void
fuzz_ws_deliver_msg(struct fuzz_ws *f, uint64_t req, int64_t room, int64_t seq,
                    uint16_t flags, const char *body)
{
	char *m = fuzz_ws_msg(room, seq, body);

	fuzz_ws_deliver(f, PC_WIRE_MSG, req, room, seq, 0, flags, m);
	free(m);
}

/* Answers one queued request as the broker would. */
static void
fuzz_ws_answer(struct fuzz_ws *f, const struct fuzz_ws_req *r)
{
	char line[512];
	int64_t s;

	switch (r->h.type) {
	case PC_WIRE_AUTH:
		fuzz_ws_deliver(f, PC_WIRE_AUTHED, r->h.req_id, 0, 0, 0, 0,
		                "{\"user\":{\"id\":7,\"username\":\"alice\"},"
		                "\"session\":\"s-1\",\"exp\":4102444800}");
		break;
	case PC_WIRE_JOIN:
		snprintf(line, sizeof(line),
		         "{\"type\":\"joined\",\"room\":%lld,\"last_seq\":%lld,"
		         "\"kind\":\"%s\",\"name\":\"r\\u00e9%lld\",\"online\":"
		         "[]}",
		         (long long)r->h.room, (long long)f->next_seq,
		         r->h.room % 2 ? "public" : "direct",
		         (long long)r->h.room);
		fuzz_ws_deliver(f, PC_WIRE_JOINED, r->h.req_id, r->h.room,
		                f->next_seq, 0, 0, line);
		for (s = r->h.seq + 1; r->h.seq >= 0 && s <= f->next_seq; s++)
			fuzz_ws_deliver_msg(f, r->h.req_id, r->h.room, s, 0,
			                    "replayed");
		break;
	case PC_WIRE_SEND: {
		cJSON *o = NULL;
		const char *body = "?", *cid = "?";

		if (pc_json_parse(r->payload, r->len, &o) == PC_OK) {
			(void)pc_json_get_str(o, "body", &body);
			(void)pc_json_get_str(o, "client_id", &cid);
		}
		FUZZ_CHECK(pc_valid_body(body, strlen(body)) == PC_OK);
		FUZZ_CHECK(pc_valid_client_id(cid));
		s = ++f->next_seq;
		snprintf(line, sizeof(line),
		         "{\"type\":\"ack\",\"client_id\":\"%s\",\"id\":%lld,"
		         "\"room\":%lld,\"seq\":%lld,\"created_at\":"
		         "\"2026-11-26T08:53:04.123Z\"}",
		         strchr(cid, '"') || strchr(cid, '\\') ? "x" : cid,
		         (long long)s, (long long)r->h.room, (long long)s);
		fuzz_ws_deliver(f, PC_WIRE_ACK, r->h.req_id, r->h.room, s, 0, 0,
		                line);
		fuzz_ws_deliver_msg(f, 0, r->h.room, s, PC_WIRE_F_SELF, body);
		cJSON_Delete(o);
		break;
	}
	case PC_WIRE_FETCH:
		for (s = r->h.seq; s <= r->h.arg && s <= f->next_seq &&
		                   s - r->h.seq < WS_FETCH_CHUNK;
		     s++)
			fuzz_ws_deliver_msg(f, r->h.req_id, r->h.room, s, 0,
			                    "fetched");
		fuzz_ws_deliver(f, PC_WIRE_FETCHED, r->h.req_id, r->h.room, 0,
		                0, 0, NULL);
		break;
	case PC_WIRE_LEAVE:
	case PC_WIRE_PING:
		fuzz_ws_deliver(f, PC_WIRE_OK, r->h.req_id, 0, 0, 0, 0, NULL);
		break;
	case PC_WIRE_READ:
		snprintf(line, sizeof(line),
		         "{\"type\":\"read\",\"room\":%lld,\"user\":{\"id\":7,"
		         "\"username\":\"alice\"},\"seq\":%lld}",
		         (long long)r->h.room, (long long)r->h.seq);
		fuzz_ws_deliver(f, PC_WIRE_EVENT, 0, r->h.room, 0, 0, 0, line);
		break;
	case PC_WIRE_CALL:
		/* The payload must be a JSON object the broker can relay. */
		{
			cJSON *o = NULL;

			FUZZ_CHECK(pc_json_parse(r->payload, r->len, &o) ==
			           PC_OK);
			FUZZ_CHECK(cJSON_IsObject(o));
			cJSON_Delete(o);
		}
		break;
	default:
		break; /* typing: nothing comes back */
	}
}

/* Answers every queued request, including those the answers cause, up to a
 * bound (a misbehaving worker could ask for ever). */
static void
fuzz_ws_pump(struct fuzz_ws *f)
{
	struct fuzz_ws_req r;
	int rounds = 0;

	while (f->nq > 0 && rounds++ < 256 && !f->c.done) {
		r = f->q[0];
		memmove(f->q, f->q + 1, (f->nq - 1) * sizeof(f->q[0]));
		f->nq--;
		fuzz_ws_answer(f, &r);
		free(r.payload);
	}
}

/* The link went down: requests in flight are lost. */
static void
fuzz_ws_drop_queue(struct fuzz_ws *f)
{
	size_t i;

	for (i = 0; i < f->nq; i++)
		free(f->q[i].payload);
	f->nq = 0;
}

/* Link up and AUTHED: the hello (and the ?room= join) are done. */
static void
fuzz_ws_connect(struct fuzz_ws *f)
{
	ws_conn_link_up(&f->c);
	fuzz_ws_pump(f);
	FUZZ_CHECK(f->c.authed);
}

#endif

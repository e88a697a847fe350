/*
 * ingest.c: worker requests and API notifications in (ingest.h).
 *
 * Two tables, one per socket, map a wire type to its handler and say whether
 * the pipe must be authenticated. A request that fails a check is answered
 * ERROR here with the error frame the worker writes to its client; nothing
 * reaches the database unless it passed. API notifications are not acted on
 * at once: each rides a BARRIER job through the store thread's queue, so it
 * takes effect after every job queued before it (a revocation cannot be
 * overtaken by an AUTH that was checked just before the session was revoked;
 * a kick cannot be overtaken by a JOIN checked just before it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "call.h"
#include "clock.h"
#include "deliver.h"
#include "fanout.h"
#include "ingest.h"
#include "json.h"
#include "limits.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "online.h"
#include "reply.h"
#include "store.h"
#include "valid.h"
#include "wire.h"

#define INGEST_ACTIVE_MS                                                       \
	10000 /* a room gets TICKs this long after a message                   \
	       */
#define INGEST_IDLE_MS                                                         \
	60000 /* an unsubscribed room is forgotten after this                  \
	       */
#define INGEST_CALL_DATA_MAX (64 * 1024)

struct req {
	uint32_t pipe;
	const struct pc_wire_hdr *h;
	const char *payload;
	size_t len;
	struct auth_pipe *a; /* authenticated record, or NULL for AUTH/PING */
};

static struct {
	const struct settings *s;
	struct limits limits;
} in;

void
ingest_init(const struct settings *s)
{
	in.s = s;
	limits_init(&in.limits, &s->limits);
}

void
ingest_fini(void)
{
	limits_free(&in.limits);
}

static void
req_error(const struct req *r, enum pc_err e, const char *ref,
          const char *field)
{
	reply_error(r->pipe, r->h->req_id, r->h->room, e, ref, field, -1);
}

/* Queues j or answers unavailable; takes ownership either way. */
static int
ingest_submit(const struct req *r, struct store_job *j, const char *ref)
{
	if (j == NULL) {
		req_error(r, PC_ERR_NOMEM, ref, NULL);
		return -1;
	}
	if (store_submit(j) != PC_OK) {
		store_job_free(j);
		req_error(r, PC_ERR_UNAVAILABLE, ref, NULL);
		return -1;
	}
	return 0;
}

static struct store_job *
ingest_job(const struct req *r, enum store_op op)
{
	struct store_job *j = store_job_new(op);

	if (j == NULL)
		return NULL;
	j->pipe = r->pipe;
	j->req_id = r->h->req_id;
	j->room = r->h->room;
	if (r->a != NULL) {
		j->user = r->a->who.user_id;
		snprintf(j->username, sizeof(j->username), "%s",
		         r->a->who.username);
	}
	return j;
}

/* ---- worker requests ---- */

static void
on_auth(struct req *r)
{
	struct pc_principal who;
	struct store_job *j;
	struct auth_pipe *was = auth_get(r->pipe);

	/* a second AUTH on a pipe starts it over: no rooms, no presence */
	if (was != NULL && was->state == AUTH_OK)
		deliver_pipe_gone(r->pipe);
	if (auth_token(r->payload, r->len, time(NULL), &who) != PC_OK) {
		auth_forget(r->pipe);
		req_error(r, PC_ERR_UNAUTHENTICATED, "auth", NULL);
		return;
	}
	/* before anything is queued for the pipe (link.h) */
	if (r->h->flags & PC_WIRE_F_CREDIT)
		link_set_credit(r->pipe);
	if (auth_begin(r->pipe, r->h->req_id, &who,
	               (r->h->flags & PC_WIRE_F_BATCH) != 0) != PC_OK) {
		req_error(r, PC_ERR_NOMEM, "auth", NULL);
		return;
	}
	if ((j = ingest_job(r, STORE_AUTH)) != NULL) {
		j->user = who.user_id;
		snprintf(j->sid, sizeof(j->sid), "%s", who.sid);
	}
	if (ingest_submit(r, j, "auth") != 0)
		auth_forget(r->pipe);
	memset(&who, 0, sizeof(who));
}

static void
on_join(struct req *r)
{
	struct store_job *j;
	enum fanout_state st;
	int64_t since = r->h->seq;

	if (r->h->room <= 0) {
		req_error(r, PC_ERR_INVALID, "join", "room");
		return;
	}
	if (since < -1) {
		req_error(r, PC_ERR_BAD_SINCE, "join", NULL);
		return;
	}
	st = fanout_state(r->pipe, r->h->room);
	if (st == FANOUT_NONE && (int64_t)fanout_pipe_rooms(r->pipe) >=
	                                 in.s->limits.max_rooms_per_socket) {
		req_error(r, PC_ERR_LIMIT_REACHED, "join", NULL);
		return;
	}
	if (fanout_joining(r->pipe, r->h->room) != PC_OK) {
		req_error(r, PC_ERR_NOMEM, "join", NULL);
		return;
	}
	if ((j = ingest_job(r, STORE_JOIN)) != NULL)
		j->aux = since;
	if (ingest_submit(r, j, "join") != 0 && st == FANOUT_NONE)
		fanout_unsubscribe(r->pipe, r->h->room);
}

static void
on_leave(struct req *r)
{
	deliver_leave(r->pipe, r->h->room);
	reply(r->pipe, PC_WIRE_OK, r->h->req_id, r->h->room, 0, 0, 0, NULL);
}

/* Parses the JSON object payload of a request; NULL (answered) when it is not
 * one. */
static cJSON *
req_object(struct req *r, const char *ref)
{
	cJSON *root = NULL;
	enum pc_err e;

	e = pc_json_parse(r->payload, r->len, &root);
	if (e != PC_OK || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		req_error(r, e == PC_ERR_NOMEM ? PC_ERR_NOMEM : PC_ERR_BAD_JSON,
		          ref, NULL);
		return NULL;
	}
	return root;
}

static int
ingest_limit(struct req *r, enum limits_kind k, const char *ref)
{
	int64_t retry = 0;
	enum pc_err e;

	e = limits_take(&in.limits, r->a->who.user_id, k, pc_clock_mono_ms(),
	                &retry);
	if (e == PC_OK)
		return 0;
	if (e == PC_ERR_RATE_LIMITED)
		reply_error(r->pipe, r->h->req_id, r->h->room, e, ref, NULL,
		            retry);
	else
		req_error(r, e, ref, NULL);
	return -1;
}

static void
on_send(struct req *r)
{
	cJSON *root;
	const char *body = NULL, *cid = NULL;
	struct store_job *j;
	enum pc_err e;

	if ((root = req_object(r, NULL)) == NULL)
		return;
	if (pc_json_get_str(root, "client_id", &cid) != PC_OK ||
	    !pc_valid_client_id(cid)) {
		req_error(r, PC_ERR_INVALID, NULL, "client_id");
		goto out;
	}
	if (r->h->room <= 0) {
		req_error(r, PC_ERR_INVALID, cid, "room");
		goto out;
	}
	if ((e = pc_json_get_str(root, "body", &body)) != PC_OK) {
		req_error(r, PC_ERR_INVALID, cid, "body");
		goto out;
	}
	if (pc_valid_body(body, strlen(body)) != PC_OK) {
		req_error(r, PC_ERR_BAD_BODY, cid, "body");
		goto out;
	}
	if (ingest_limit(r, LIMITS_SEND, cid) != 0)
		goto out;
	if ((j = ingest_job(r, STORE_SEND)) != NULL) {
		snprintf(j->client_id, sizeof(j->client_id), "%s", cid);
		j->text_len = strlen(body);
		if ((j->text = strdup(body)) == NULL) {
			store_job_free(j);
			j = NULL;
		}
	}
	ingest_submit(r, j, cid);
out:
	cJSON_Delete(root);
}

static void
on_typing(struct req *r)
{
	struct fanout_room *room = fanout_room(r->h->room);
	struct frame_user u;
	struct pc_wire_hdr h;
	struct frame *f;

	if (room == NULL ||
	    fanout_state(r->pipe, r->h->room) != FANOUT_JOINED) {
		req_error(r, PC_ERR_NOT_MEMBER, "typing", NULL);
		return;
	}
	if (ingest_limit(r, LIMITS_TYPING, "typing") != 0)
		return;
	u.id = r->a->who.user_id;
	u.username = r->a->who.username;
	if ((f = frame_typing(r->h->room, &u)) == NULL)
		return;
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_EVENT;
	h.room = r->h->room;
	/* never echoed to the sender's user */
	fanout_publish(room, &h, f, r->pipe, r->a->who.user_id, 0);
	frame_unref(f);
}

static void
on_read(struct req *r)
{
	struct store_job *j;

	if (r->h->room <= 0) {
		req_error(r, PC_ERR_INVALID, "read", "room");
		return;
	}
	if (r->h->seq < 0) {
		req_error(r, PC_ERR_INVALID, "read", "seq");
		return;
	}
	if ((j = ingest_job(r, STORE_READ)) != NULL)
		j->seq = r->h->seq;
	ingest_submit(r, j, "read");
}

/*
 * A call frame: data must be an object whose "type" is a signal of call.h;
 * to the caller's own user it goes to their other sockets at once, else the
 * store checks membership and blocks and call.c relays it.
 */
static void
on_call(struct req *r)
{
	cJSON *root, *data;
	const char *cid = NULL, *type = NULL;
	int64_t to = 0;
	struct store_job *j = NULL;
	struct frame_user u;
	struct frame *f;
	char *text = NULL;
	int sig;

	if ((root = req_object(r, "call")) == NULL)
		return;
	if (pc_json_get_str(root, "call_id", &cid) != PC_OK ||
	    !pc_valid_client_id(cid)) {
		req_error(r, PC_ERR_INVALID, "call", "call_id");
		goto out;
	}
	if (r->h->room <= 0) {
		req_error(r, PC_ERR_INVALID, cid, "room");
		goto out;
	}
	if (pc_json_get_int(root, "to", 1, INT64_MAX, &to) != PC_OK) {
		req_error(r, PC_ERR_INVALID, cid, "to");
		goto out;
	}
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsObject(data) ||
	    pc_json_get_str(data, "type", &type) != PC_OK ||
	    (sig = call_sig_parse(type)) < 0) {
		req_error(r, PC_ERR_INVALID, cid, "data");
		goto out;
	}
	if (fanout_state(r->pipe, r->h->room) != FANOUT_JOINED) {
		req_error(r, PC_ERR_NOT_MEMBER, cid, NULL);
		goto out;
	}
	if (ingest_limit(r, LIMITS_CALL, cid) != 0)
		goto out;
	if ((text = pc_json_print(data)) == NULL ||
	    strlen(text) > INGEST_CALL_DATA_MAX) {
		req_error(r, text == NULL ? PC_ERR_NOMEM : PC_ERR_TOO_LARGE,
		          cid, "data");
		goto out;
	}
	if (to == r->a->who.user_id) {
		/* to the caller's own other sockets (stop ringing elsewhere) */
		u.id = r->a->who.user_id;
		u.username = r->a->who.username;
		f = frame_call(r->h->room, cid, &u, text, strlen(text));
		if (f == NULL)
			req_error(r, PC_ERR_NOMEM, cid, NULL);
		else if (call_to_self(r->pipe, u.id, r->h->room, f) == 0)
			req_error(r, PC_ERR_NOT_REACHABLE, cid, NULL);
		frame_unref(f);
		goto out;
	}
	if ((j = ingest_job(r, STORE_CALL)) != NULL) {
		j->arg = to;
		j->aux = sig;
		snprintf(j->client_id, sizeof(j->client_id), "%s", cid);
		j->text = text;
		j->text_len = strlen(text);
		text = NULL;
	}
	ingest_submit(r, j, cid);
out:
	free(text);
	cJSON_Delete(root);
}

static void
on_fetch(struct req *r)
{
	struct fanout_room *room = fanout_room(r->h->room);
	struct store_job *j;
	struct frame *f;
	int64_t from = r->h->seq, to = r->h->arg;

	if (fanout_state(r->pipe, r->h->room) == FANOUT_NONE || room == NULL) {
		req_error(r, PC_ERR_NOT_FOUND, "fetch", NULL);
		return;
	}
	if (from < 1 || to < from) {
		req_error(r, PC_ERR_INVALID, "fetch", "seq");
		return;
	}
	if (to > room->last_seq)
		to = room->last_seq;
	if (to - from + 1 > DELIVER_REPLAY_MAX) {
		metrics_gap(METRICS_GAP_FETCH);
		f = frame_gap(room->id, from, to - DELIVER_REPLAY_MAX);
		reply(r->pipe, PC_WIRE_GAP, r->h->req_id, room->id, from,
		      to - DELIVER_REPLAY_MAX, 0, f);
		frame_unref(f);
		from = to - DELIVER_REPLAY_MAX + 1;
	}
	if (from > to || recent_covers(&room->recent, from, to)) {
		deliver_fetched(r->pipe, r->h->req_id, room, from, to, NULL,
		                NULL, 0);
		return;
	}
	if ((j = ingest_job(r, STORE_FETCH)) != NULL) {
		j->seq = from;
		j->arg = to;
	}
	ingest_submit(r, j, "fetch");
}

static void
on_ping(struct req *r)
{
	reply(r->pipe, PC_WIRE_OK, r->h->req_id, 0, 0, 0, 0, NULL);
}

/* Flow control (link.h): the pipe's window is open again; main.c's
 * link_flush at the end of this loop turn sends what waits. */
static void
on_credit(struct req *r)
{
	link_credit(r->pipe);
}

static const struct {
	int type;
	void (*fn)(struct req *);
	int needs_auth;
} worker_rows[] = {
        {PC_WIRE_AUTH, on_auth, 0},     {PC_WIRE_JOIN, on_join, 1},
        {PC_WIRE_LEAVE, on_leave, 1},   {PC_WIRE_SEND, on_send, 1},
        {PC_WIRE_TYPING, on_typing, 1}, {PC_WIRE_READ, on_read, 1},
        {PC_WIRE_CALL, on_call, 1},     {PC_WIRE_FETCH, on_fetch, 1},
        {PC_WIRE_PING, on_ping, 0},     {PC_WIRE_CREDIT, on_credit, 0},
};

void
ingest_worker(uint32_t pipe, const void *data, size_t len)
{
	struct pc_wire_hdr h;
	struct req r;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (pc_wire_unpack(data, len, &h, &r.payload, &r.len) != PC_OK) {
		pc_log_debug("pipe %" PRIu32 ": malformed message dropped",
		             pipe);
		return;
	}
	r.pipe = pipe;
	r.h = &h;
	for (i = 0; i < sizeof(worker_rows) / sizeof(worker_rows[0]); i++) {
		if (worker_rows[i].type != h.type)
			continue;
		r.a = auth_get(pipe);
		if (r.a != NULL && r.a->state != AUTH_OK)
			r.a = NULL;
		if (worker_rows[i].needs_auth && r.a == NULL) {
			req_error(&r, PC_ERR_UNAUTHENTICATED,
			          pc_wire_type_name(h.type), NULL);
			return;
		}
		worker_rows[i].fn(&r);
		return;
	}
	pc_log_debug("pipe %" PRIu32 ": unexpected %s dropped", pipe,
	             pc_wire_type_name(h.type));
}

void
ingest_pipe_removed(uint32_t pipe)
{
	deliver_pipe_gone(pipe);
}

/* ---- API notifications ---- */

static int
ingest_sid_ok(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > PC_SID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	return 1;
}

enum api_payload { API_NONE, API_SID, API_LINE };

/* What each notification becomes: the job that carries it through the
 * store's queue (STORE__MAX: nothing to do live) and what its payload is. */
static const struct {
	int type;
	enum store_op op;
	enum api_payload payload;
} api_rows[] = {
        {PC_WIRE_N_SESSION_REVOKED, STORE_BARRIER, API_SID},
        /* every session of a user, or all but the current one (a password
         * change): the store says which are still live */
        {PC_WIRE_N_USER_REVOKED, STORE_SESSIONS, API_NONE},
        /* the user's next join subscribes; nothing live yet */
        {PC_WIRE_N_MEMBER_JOINED, STORE__MAX, API_NONE},
        {PC_WIRE_N_MEMBER_LEFT, STORE_BARRIER, API_NONE},
        /* renamed, new owner or deleted: the store looks */
        {PC_WIRE_N_ROOM_CHANGED, STORE_ROOM, API_NONE},
        {PC_WIRE_N_USER_EVENT, STORE_BARRIER, API_LINE},
        {PC_WIRE_N_ROOM_EVENT, STORE_BARRIER, API_LINE},
};

void
ingest_api(const void *data, size_t len)
{
	struct pc_wire_hdr h;
	struct store_job *j;
	const char *payload;
	size_t plen, i;

	if (pc_wire_unpack(data, len, &h, &payload, &plen) != PC_OK) {
		pc_log_warn("malformed notification dropped");
		return;
	}
	for (i = 0; i < sizeof(api_rows) / sizeof(api_rows[0]); i++)
		if (api_rows[i].type == h.type)
			break;
	if (i == sizeof(api_rows) / sizeof(api_rows[0])) {
		pc_log_warn("unexpected %s on the api socket",
		            pc_wire_type_name(h.type));
		return;
	}
	if (api_rows[i].op == STORE__MAX)
		return;
	if (api_rows[i].payload == API_SID && !ingest_sid_ok(payload, plen)) {
		pc_log_warn("bad session id in a notification");
		return;
	}
	if (api_rows[i].payload == API_LINE && plen == 0)
		return;
	if ((j = store_job_new(api_rows[i].op)) == NULL) {
		pc_log_err("out of memory: %s dropped",
		           pc_wire_type_name(h.type));
		return;
	}
	j->aux = h.type;
	j->aux2 = DELIVER_NOTICE;
	j->room = h.room;
	j->user = h.arg;
	j->arg = h.flags;
	if (api_rows[i].payload == API_SID)
		snprintf(j->sid, sizeof(j->sid), "%.*s", (int)plen, payload);
	if (api_rows[i].payload == API_LINE) {
		if ((j->text = malloc(plen + 1)) == NULL) {
			store_job_free(j);
			return;
		}
		memcpy(j->text, payload, plen);
		j->text[plen] = '\0';
		j->text_len = plen;
	}
	if (store_submit(j) != PC_OK) {
		/* the queue is full: act now rather than never */
		j->err = api_rows[i].op == STORE_BARRIER ? PC_OK
		                                         : PC_ERR_UNAVAILABLE;
		deliver(j);
	}
}

int
ingest_check_tables(void)
{
	size_t i, k, nw = sizeof(worker_rows) / sizeof(worker_rows[0]);
	size_t na = sizeof(api_rows) / sizeof(api_rows[0]);
	int bad = 0;

	for (i = 0; i < nw; i++) {
		if (worker_rows[i].fn == NULL || worker_rows[i].type <= 0 ||
		    worker_rows[i].type >= PC_WIRE_AUTHED) {
			pc_log_err("worker row %zu incomplete", i);
			bad++;
		}
		for (k = 0; k < i; k++)
			if (worker_rows[k].type == worker_rows[i].type) {
				pc_log_err("worker type %d twice",
				           worker_rows[i].type);
				bad++;
			}
	}
	for (i = 0; i < na; i++) {
		if (api_rows[i].type < PC_WIRE_N_SESSION_REVOKED ||
		    api_rows[i].op > STORE__MAX) {
			pc_log_err("api row %zu incomplete", i);
			bad++;
		}
		for (k = 0; k < i; k++)
			if (api_rows[k].type == api_rows[i].type) {
				pc_log_err("api type %d twice",
				           api_rows[i].type);
				bad++;
			}
	}
	return bad;
}

/* ---- timer ---- */

void
ingest_tick(int64_t now_ms)
{
	struct fanout_room *r;
	struct pc_wire_hdr h;
	int64_t drop[256];
	size_t pos = 0, n = 0, i;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_TICK;
	while (fanout_next(&pos, &r)) {
		if (r->nsubs > 0 && r->active_ms > 0 &&
		    now_ms - r->active_ms <= INGEST_ACTIVE_MS) {
			h.room = r->id;
			h.seq = r->last_seq;
			fanout_publish(r, &h, NULL, 0, 0, 0);
		}
		if (r->nsubs > 0)
			r->used_ms = now_ms;
		else if (now_ms - r->used_ms > INGEST_IDLE_MS && n < 256)
			drop[n++] = r->id;
	}
	for (i = 0; i < n; i++)
		fanout_room_drop(drop[i]);
	limits_gc(&in.limits, now_ms);
	call_tick(now_ms);
	online_flush();
}

/*
 * conn.c: one WebSocket connection's state and its broker traffic (conn.h).
 *
 * Broker messages are dispatched by a table indexed by wire type. On the hot
 * path (MSG in JSON mode) nothing is parsed: the header says room and seq,
 * and the payload is the finished line. Text mode renders every line through
 * textmode.c instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "cmd.h"
#include "conn.h"
#include "frame.h"
#include "json.h"
#include "log.h"
#include "textmode.h"

/* ---- output ---------------------------------------------------------- */

/* Marks the connection as ending (done: 1, or 2 when the client is gone and
 * nothing more can be written) for the reason why (a static word, for the
 * audit's disconnect line); the first reason given is kept. */
static void
conn_end(struct ws_conn *c, int done, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	if (c->done < done)
		c->done = done;
}

static size_t
conn_backlog(struct ws_conn *c)
{
	return c->p.backlog != NULL ? c->p.backlog(c->p.out_ctx) : 0;
}

void
ws_conn_write(struct ws_conn *c, const char *line, size_t len)
{
	if (c->done == 2)
		return; /* the client is gone */
	if (c->p.out(c->p.out_ctx, line, len) != PC_OK) {
		pc_log_info("client gone (write failed)");
		conn_end(c, 2, "client_gone");
		return;
	}
	c->last_out_ms = pc_clock_mono_ms();
	if (conn_backlog(c) > WS_OUT_HARD) {
		pc_log_warn("client reads nothing: %zu bytes waiting, closing",
		            conn_backlog(c));
		conn_end(c, 2, "slow_client");
	}
}

/* Writes a malloc'd line and frees it; NULL means out of memory (logged). */
static void
conn_write_owned(struct ws_conn *c, char *line)
{
	if (line == NULL) {
		pc_log_err("out of memory rendering a frame");
		return;
	}
	ws_conn_write(c, line, strlen(line));
	free(line);
}

/* Text mode: how a room is shown ("#general", "@bob"), or NULL. */
static const char *
conn_label(void *ctx, int64_t room)
{
	struct ws_room *r = ws_conn_room(ctx, room);

	return r != NULL && r->label[0] != '\0' ? r->label : NULL;
}

/* A frame line from the broker (or the worker): as is in JSON mode, rendered
 * for humans in text mode (where some frames show nothing). */
static void
conn_emit(struct ws_conn *c, const char *line, size_t len)
{
	if (!c->p.text) {
		ws_conn_write(c, line, len);
		return;
	}
	char *h = ws_text_render(line, len, conn_label, c);
	if (h != NULL) {
		ws_conn_write(c, h, strlen(h));
		free(h);
	}
}

/* An error frame the worker makes itself, without an audit line (for errors
 * that answer no input: the connection is ending). */
static void
conn_error_frame(struct ws_conn *c, enum pc_err e, const char *message,
                 const char *ref, const char *field, int64_t retry_after_ms)
{
	if (c->p.text)
		conn_write_owned(c, ws_text_error(pc_err_code(e),
		                                  message != NULL
		                                          ? message
		                                          : pc_err_message(e)));
	else
		conn_write_owned(c, ws_frame_error(e, message, ref, field,
		                                   retry_after_ms));
}

void
ws_conn_error(struct ws_conn *c, enum pc_err e, const char *message,
              const char *ref, const char *field, int64_t retry_after_ms)
{
	ws_audit_refused(c->p.audit, pc_err_code(e), 0, field);
	conn_error_frame(c, e, message, ref, field, retry_after_ms);
}

/* ---- rooms ----------------------------------------------------------- */

struct ws_room *
ws_conn_room(struct ws_conn *c, int64_t room)
{
	size_t i;

	for (i = 0; i < c->nrooms; i++)
		if (c->rooms[i].id == room)
			return &c->rooms[i];
	return NULL;
}

static void
room_clear_held(struct ws_room *r)
{
	size_t i;

	for (i = 0; i < r->nheld; i++)
		free(r->held[i].line);
	r->nheld = 0;
	r->held_bytes = 0;
}

static void
room_reset_sync(struct ws_room *r)
{
	room_clear_held(r);
	r->fetch_req = 0;
	r->fetch_tries = 0;
	r->fetch_not_before = 0;
	r->known = r->last;
	r->replay_to = 0;
}

static void
conn_room_remove(struct ws_conn *c, struct ws_room *r)
{
	size_t i = (size_t)(r - c->rooms);

	room_clear_held(r);
	free(r->held);
	c->nrooms--;
	if (i != c->nrooms)
		c->rooms[i] = c->rooms[c->nrooms];
}

static struct ws_room *
conn_room_add(struct ws_conn *c, int64_t id)
{
	struct ws_room *r;
	size_t ncap;

	if (c->nrooms == c->rooms_cap) {
		ncap = c->rooms_cap ? c->rooms_cap * 2 : 4;
		r = realloc(c->rooms, ncap * sizeof(*r));
		if (r == NULL)
			return NULL;
		c->rooms = r;
		c->rooms_cap = ncap;
	}
	r = &c->rooms[c->nrooms++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->since = -1;
	return r;
}

/* Writes held messages that have become contiguous; drops those at or below
 * last. */
static void
room_drain(struct ws_conn *c, struct ws_room *r)
{
	size_t i = 0;

	while (i < r->nheld && r->held[i].seq <= r->last + 1) {
		if (r->held[i].seq == r->last + 1) {
			conn_emit(c, r->held[i].line, r->held[i].len);
			r->last = r->held[i].seq;
		}
		r->held_bytes -= r->held[i].len;
		free(r->held[i].line);
		i++;
	}
	if (i > 0) {
		memmove(r->held, r->held + i,
		        (r->nheld - i) * sizeof(*r->held));
		r->nheld -= i;
	}
}

/* Keeps a message that arrived ahead of a hole; beyond the bounds drops every
 * held one (FETCH fills the hole again). */
static void
room_hold(struct ws_room *r, int64_t seq, const char *line, size_t len)
{
	size_t lo = 0, hi = r->nheld, mid;
	char *copy;

	if (r->nheld >= WS_HELD_MAX || r->held_bytes + len > WS_HELD_BYTES) {
		pc_log_info("room %lld: %zu held, dropping them",
		            (long long)r->id, r->nheld);
		room_clear_held(r);
		return;
	}
	if (r->held == NULL &&
	    (r->held = calloc(WS_HELD_MAX, sizeof(*r->held))) == NULL)
		return;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (r->held[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->nheld && r->held[lo].seq == seq)
		return; /* already held */
	if ((copy = malloc(len ? len : 1)) == NULL)
		return;
	memcpy(copy, line, len);
	memmove(r->held + lo + 1, r->held + lo,
	        (r->nheld - lo) * sizeof(*r->held));
	r->held[lo].seq = seq;
	r->held[lo].line = copy;
	r->held[lo].len = len;
	r->nheld++;
	r->held_bytes += len;
}

/* Skips the client over seqs from..to with a gap frame. */
static void
room_gap(struct ws_conn *c, struct ws_room *r, int64_t from, int64_t to)
{
	char *g;

	if (to < from)
		return;
	pc_log_info("room %lld: gap %lld..%lld", (long long)r->id,
	            (long long)from, (long long)to);
	g = ws_frame_gap(r->id, from, to);
	if (g != NULL) {
		conn_emit(c, g, strlen(g));
		free(g);
	}
	if (to > r->last)
		r->last = to;
	room_drain(c, r);
}

static uint64_t conn_send_req(struct ws_conn *c, int type, int64_t room,
                              int64_t seq, int64_t arg, const char *payload,
                              size_t len);

/* Asks the broker for the next missing range of r, unless one is in flight. */
static void
room_fetch(struct ws_conn *c, struct ws_room *r)
{
	int64_t from, to, now = pc_clock_mono_ms();

	if (c->link != WS_LINK_UP || r->state != WS_ROOM_JOINED ||
	    r->fetch_req != 0 || now < r->fetch_not_before ||
	    conn_backlog(c) > WS_OUT_LOW)
		return;
	if (r->known - r->last > WS_GAP_MAX)
		room_gap(c, r, r->last + 1, r->known - WS_GAP_MAX);
	if (r->known <= r->last)
		return;
	from = r->last + 1;
	to = r->nheld > 0 ? r->held[0].seq - 1 : r->known;
	if (to - from + 1 > WS_FETCH_CHUNK)
		to = from + WS_FETCH_CHUNK - 1;
	r->fetch_req =
	        conn_send_req(c, PC_WIRE_FETCH, r->id, from, to, NULL, 0);
	if (r->fetch_req == 0) {
		r->fetch_not_before = now + WS_RETRY_MS;
		return;
	}
	r->fetch_from = from;
	r->fetch_to = to;
	r->fetch_deadline = now + WS_FETCH_TIMEOUT_MS;
}

/* A FETCH ended (FETCHED, or timed out when timed_out is set). */
static void
room_fetch_done(struct ws_conn *c, struct ws_room *r, int timed_out)
{
	int64_t to;

	r->fetch_req = 0;
	if (r->last >= r->fetch_from)
		r->fetch_tries = 0;
	else if (!timed_out && ++r->fetch_tries >= WS_FETCH_TRIES) {
		/* The broker answered several times without the next seq:
		 * report the hole rather than wait for ever. */
		to = r->nheld > 0 ? r->held[0].seq - 1 : r->fetch_to;
		room_gap(c, r, r->last + 1, to);
		r->fetch_tries = 0;
	} else if (!timed_out)
		r->fetch_not_before = pc_clock_mono_ms() + 100 * r->fetch_tries;
	room_fetch(c, r);
}

/* ---- requests -------------------------------------------------------- */

/* Sends a request; its req_id, or 0 when the link refused it. */
static uint64_t
conn_send_req_flags(struct ws_conn *c, int type, uint16_t flags, int64_t room,
                    int64_t seq, int64_t arg, const char *payload, size_t len)
{
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.flags = flags;
	h.req_id = ++c->next_req;
	h.room = room;
	h.seq = seq;
	h.arg = arg;
	if (c->p.link(c->p.link_ctx, &h, payload, len) != PC_OK) {
		pc_log_warn("%s request refused by the link",
		            pc_wire_type_name(type));
		return 0;
	}
	return h.req_id;
}

static uint64_t
conn_send_req(struct ws_conn *c, int type, int64_t room, int64_t seq,
              int64_t arg, const char *payload, size_t len)
{
	return conn_send_req_flags(c, type, 0, room, seq, arg, payload, len);
}

enum pc_err
ws_conn_request(struct ws_conn *c, int type, int64_t room, int64_t seq,
                int64_t arg, const char *payload, size_t len)
{
	if (c->link != WS_LINK_UP)
		return PC_ERR_UNAVAILABLE;
	if (conn_send_req(c, type, room, seq, arg, payload, len) == 0)
		return PC_ERR_UNAVAILABLE;
	return PC_OK;
}

/* (Re-)sends the JOIN of r. */
static enum pc_err
room_join_send(struct ws_conn *c, struct ws_room *r)
{
	int64_t since = r->was_joined ? r->last : r->since;

	r->state = WS_ROOM_JOINING;
	r->join_req = conn_send_req(c, PC_WIRE_JOIN, r->id, since, 0, NULL, 0);
	if (r->join_req == 0)
		return PC_ERR_UNAVAILABLE;
	return PC_OK;
}

enum pc_err
ws_conn_join(struct ws_conn *c, int64_t room, int64_t since)
{
	struct ws_room *r;
	int added = 0;

	if (c->link != WS_LINK_UP)
		return PC_ERR_UNAVAILABLE;
	if ((r = ws_conn_room(c, room)) == NULL) {
		if ((int64_t)c->nrooms >= c->p.max_rooms)
			return PC_ERR_LIMIT_REACHED;
		if ((r = conn_room_add(c, room)) == NULL)
			return PC_ERR_NOMEM;
		added = 1;
	}
	/* A join of a room already joined starts it over, as the client asked.
	 */
	r->was_joined = 0;
	r->since = since;
	room_reset_sync(r);
	if (room_join_send(c, r) != PC_OK) {
		if (added)
			conn_room_remove(c, r);
		else
			r->state = WS_ROOM_REJOIN;
		return PC_ERR_UNAVAILABLE;
	}
	return PC_OK;
}

enum pc_err
ws_conn_leave(struct ws_conn *c, int64_t room)
{
	struct ws_room *r;

	if (c->link != WS_LINK_UP ||
	    conn_send_req(c, PC_WIRE_LEAVE, room, 0, 0, NULL, 0) == 0)
		return PC_ERR_UNAVAILABLE;
	if ((r = ws_conn_room(c, room)) != NULL)
		conn_room_remove(c, r);
	ws_audit_leave(c->p.audit, room, "client");
	return PC_OK;
}

enum pc_err
ws_conn_send(struct ws_conn *c, int64_t room, const char *body, size_t body_len,
             const char *client_id)
{
	struct ws_pending_send *ps;
	cJSON *o = NULL;
	char *payload = NULL, *copy = NULL;
	enum pc_err rc = PC_ERR_NOMEM;
	uint64_t req;

	if (c->link != WS_LINK_UP || c->nsends >= WS_PENDING_SENDS_MAX)
		return PC_ERR_UNAVAILABLE;
	/* body holds no NUL (pc_valid_body refused it): a copy is a C string.
	 */
	if ((o = cJSON_CreateObject()) == NULL ||
	    (copy = strndup(body, body_len)) == NULL)
		goto out;
	if (cJSON_AddStringToObject(o, "body", copy) == NULL ||
	    cJSON_AddStringToObject(o, "client_id", client_id) == NULL)
		goto out;
	if ((payload = pc_json_print(o)) == NULL)
		goto out;
	ps = realloc(c->sends, (c->nsends + 1) * sizeof(*c->sends));
	if (ps == NULL)
		goto out;
	c->sends = ps;
	if ((req = conn_send_req(c, PC_WIRE_SEND, room, 0, 0, payload,
	                         strlen(payload))) == 0) {
		rc = PC_ERR_UNAVAILABLE;
		goto out;
	}
	ps = &c->sends[c->nsends++];
	ps->req_id = req;
	ps->room = room;
	ps->payload = payload;
	ps->len = strlen(payload);
	payload = NULL;
	rc = PC_OK;
out:
	free(payload);
	free(copy);
	cJSON_Delete(o);
	return rc;
}

static struct ws_pending_send *
conn_pending(struct ws_conn *c, uint64_t req)
{
	size_t i;

	for (i = 0; i < c->nsends; i++)
		if (c->sends[i].req_id == req)
			return &c->sends[i];
	return NULL;
}

static void
conn_pending_remove(struct ws_conn *c, struct ws_pending_send *ps)
{
	size_t i = (size_t)(ps - c->sends);

	free(ps->payload);
	memmove(ps, ps + 1, (c->nsends - i - 1) * sizeof(*ps));
	c->nsends--;
}

/* ---- link ------------------------------------------------------------ */

void
ws_conn_link_up(struct ws_conn *c)
{
	c->pipe_up = 1;
	c->link = WS_LINK_AUTHING;
	c->epoch_req = c->next_req + 1;
	/* F_CREDIT: bridge.c answers the broker's credit requests (link.h) */
	c->auth_req = conn_send_req_flags(c, PC_WIRE_AUTH,
	                                  PC_WIRE_F_BATCH | PC_WIRE_F_CREDIT, 0,
	                                  0, 0, c->p.token, strlen(c->p.token));
	if (c->auth_req == 0) {
		c->link = WS_LINK_DOWN;
		c->auth_retry_at = pc_clock_mono_ms() + WS_RETRY_MS;
	}
}

void
ws_conn_link_down(struct ws_conn *c)
{
	size_t i;

	pc_log_info("broker link down");
	c->pipe_up = 0;
	c->link = WS_LINK_DOWN;
	c->epoch_req = c->next_req + 1;
	for (i = 0; i < c->nrooms; i++) {
		c->rooms[i].state = WS_ROOM_REJOIN;
		c->rooms[i].retry_at = 0;
		room_reset_sync(&c->rooms[i]);
	}
}

/* After AUTHED on a new link: every room again, every unacked send again. */
static void
conn_resync(struct ws_conn *c)
{
	int64_t now = pc_clock_mono_ms();
	size_t i;

	for (i = 0; i < c->nrooms; i++)
		if (c->rooms[i].state == WS_ROOM_REJOIN &&
		    c->rooms[i].retry_at <= now &&
		    room_join_send(c, &c->rooms[i]) != PC_OK) {
			c->rooms[i].state = WS_ROOM_REJOIN;
			c->rooms[i].retry_at = now + WS_RETRY_MS;
		}
	for (i = 0; i < c->nsends; i++) {
		struct ws_pending_send *ps = &c->sends[i];
		uint64_t req;

		if (ps->req_id >= c->epoch_req)
			continue; /* already sent on this link */
		req = conn_send_req(c, PC_WIRE_SEND, ps->room, 0, 0,
		                    ps->payload, ps->len);
		if (req != 0)
			ps->req_id = req;
	}
}

/* ---- broker messages ------------------------------------------------- */

struct conn_in {
	struct pc_wire_hdr h;
	const char *payload;
	size_t len;
};

static void
in_authed(struct ws_conn *c, const struct conn_in *m)
{
	cJSON *root = NULL;
	const cJSON *user;
	const char *name, *sid;
	int64_t uid, exp = 0;
	char *hello;

	if (m->h.req_id != c->auth_req)
		return;
	if (pc_json_parse(m->payload, m->len, &root) != PC_OK ||
	    (user = cJSON_GetObjectItemCaseSensitive(root, "user")) == NULL ||
	    pc_json_get_int(user, "id", 1, INT64_MAX, &uid) != PC_OK ||
	    pc_json_get_str(user, "username", &name) != PC_OK ||
	    pc_json_get_str(root, "session", &sid) != PC_OK ||
	    strlen(name) > PC_USERNAME_MAX || strlen(sid) > PC_SID_MAX) {
		pc_log_err("malformed authed payload");
		conn_error_frame(c, PC_ERR_UNAVAILABLE, NULL, NULL, NULL, -1);
		conn_end(c, 1, "broker_error");
		goto out;
	}
	(void)pc_json_get_int(root, "exp", 0, INT64_MAX, &exp);
	c->link = WS_LINK_UP;
	if (!c->authed) {
		c->authed = 1;
		c->user_id = uid;
		snprintf(c->username, sizeof(c->username), "%s", name);
		snprintf(c->session, sizeof(c->session), "%s", sid);
		c->exp = exp;
		hello = ws_frame_hello(uid, name, sid);
		if (hello != NULL)
			conn_emit(c, hello, strlen(hello));
		free(hello);
		pc_log_info("user %lld session %s", (long long)uid, sid);
		ws_audit_connect(c->p.audit, uid, sid, c->p.text);
		if (c->p.room > 0) {
			enum pc_err e = ws_conn_join(c, c->p.room, -1);

			if (e != PC_OK) {
				ws_conn_error(c, e, NULL, "join", NULL, -1);
				if (c->p.text)
					conn_end(c, 1, "join_refused");
			}
		}
	} else {
		pc_log_info("broker link back; re-syncing %zu rooms",
		            c->nrooms);
		if (exp > 0)
			c->exp = exp;
		conn_resync(c);
	}
out:
	cJSON_Delete(root);
}

/* The code of an error line, for the few decisions the worker makes on it. */
static enum pc_err
conn_error_code(const char *line, size_t len)
{
	cJSON *root = NULL;
	const char *code;
	enum pc_err e = PC_ERR__MAX;

	if (pc_json_parse(line, len, &root) == PC_OK &&
	    pc_json_get_str(root, "code", &code) == PC_OK)
		e = pc_err_from_code(code);
	cJSON_Delete(root);
	return e;
}

/* The same as a static word for the audit ("error" when there is none). */
static const char *
conn_error_word(const char *line, size_t len)
{
	enum pc_err e = conn_error_code(line, len);

	return e == PC_ERR__MAX ? "error" : pc_err_code(e);
}

static void
in_error(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_pending_send *ps;
	size_t i;

	if (m->h.req_id != 0 && m->h.req_id == c->auth_req) {
		/* unauthenticated, limit_reached, session revoked while away.
		 */
		const char *code = conn_error_word(m->payload, m->len);

		if (!c->authed)
			ws_audit_reject(c->p.audit, code);
		conn_emit(c, m->payload, m->len);
		conn_end(c, 1, code);
		return;
	}
	for (i = 0; i < c->nrooms; i++) {
		struct ws_room *r = &c->rooms[i];

		if (r->fetch_req != 0 && r->fetch_req == m->h.req_id) {
			r->fetch_req = 0; /* the database may be down */
			r->fetch_not_before = pc_clock_mono_ms() + WS_RETRY_MS;
			return;
		}
		if (r->state != WS_ROOM_JOINING || r->join_req != m->h.req_id)
			continue;
		if (r->was_joined) {
			/* A re-join after a broker restart. */
			if (conn_error_code(m->payload, m->len) ==
			    PC_ERR_UNAVAILABLE) {
				r->state = WS_ROOM_REJOIN;
				r->retry_at = pc_clock_mono_ms() + WS_RETRY_MS;
				return;
			}
			char *rm = ws_frame_removed(r->id);
			if (rm != NULL)
				conn_emit(c, rm, strlen(rm));
			free(rm);
			ws_audit_leave(c->p.audit, r->id, "server");
		} else {
			ws_audit_refused(c->p.audit,
			                 conn_error_word(m->payload, m->len),
			                 r->id, NULL);
			conn_emit(c, m->payload, m->len);
		}
		conn_room_remove(c, r);
		if (c->p.text) /* text mode cannot read its room */
			conn_end(c, 1, "join_refused");
		return;
	}
	if ((ps = conn_pending(c, m->h.req_id)) != NULL)
		conn_pending_remove(c, ps);
	ws_audit_refused(c->p.audit, conn_error_word(m->payload, m->len),
	                 m->h.room, NULL);
	conn_emit(c, m->payload, m->len);
}

static void
in_joined(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_room *r = ws_conn_room(c, m->h.room);

	if (r == NULL || r->state != WS_ROOM_JOINING ||
	    r->join_req != m->h.req_id)
		return;
	r->state = WS_ROOM_JOINED;
	/*
	 * With since, the replay of since+1..last_seq follows on the pipe. Its
	 * seqs are not "known" yet, or every replayed message would look like a
	 * hole and start a fetch; a replay that stops short (dropped on a full
	 * pipe) is fetched once it has made no progress for WS_REPLAY_MS.
	 */
	if (!r->was_joined)
		r->last = r->since >= 0 ? r->since : m->h.seq;
	r->known = r->last;
	r->replay_to = m->h.seq;
	r->replay_deadline = pc_clock_mono_ms() + WS_REPLAY_MS;
	if (r->was_joined)
		return; /* a re-join after a broker restart: not shown again */
	r->was_joined = 1;
	ws_audit_join(c->p.audit, r->id, m->h.seq);
	if (c->p.text)
		ws_text_label_from_joined(m->payload, m->len, r->id, r->label,
		                          sizeof(r->label));
	conn_emit(c, m->payload, m->len);
}

static void
in_msg(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_room *r = ws_conn_room(c, m->h.room);
	int64_t seq = m->h.seq;

	if (r == NULL || r->state == WS_ROOM_JOINING || seq <= r->last)
		return; /* not ours (yet), or a duplicate */
	if (seq > r->known)
		r->known = seq;
	if (conn_backlog(c) > WS_OUT_SOFT)
		return; /* the client lags: fetched once it has caught up */
	if (seq == r->last + 1) {
		conn_emit(c, m->payload, m->len);
		r->last = seq;
		room_drain(c, r);
		if (r->last < r->replay_to)
			r->replay_deadline = pc_clock_mono_ms() + WS_REPLAY_MS;
	} else
		room_hold(r, seq, m->payload, m->len);
	if (r->known > r->last)
		room_fetch(c, r);
}

static void
in_ack(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_pending_send *ps = conn_pending(c, m->h.req_id);

	if (ps != NULL)
		conn_pending_remove(c, ps);
	/* The header's arg is the message's id: the line is not parsed. */
	if (c->p.audit != NULL)
		ws_audit_send(c->p.audit, m->h.room, m->h.seq,
		              m->h.arg > 0 ? m->h.arg : 0);
	conn_emit(c, m->payload, m->len);
}

static void
in_gap(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_room *r = ws_conn_room(c, m->h.room);

	if (r == NULL || r->state != WS_ROOM_JOINED || m->h.arg <= r->last)
		return;
	conn_emit(c, m->payload, m->len);
	r->last = m->h.arg;
	if (r->known < r->last)
		r->known = r->last;
	if (r->last < r->replay_to)
		r->replay_deadline = pc_clock_mono_ms() + WS_REPLAY_MS;
	room_drain(c, r);
}

static void
in_fetched(struct ws_conn *c, const struct conn_in *m)
{
	size_t i;

	for (i = 0; i < c->nrooms; i++)
		if (c->rooms[i].fetch_req != 0 &&
		    c->rooms[i].fetch_req == m->h.req_id) {
			room_fetch_done(c, &c->rooms[i], 0);
			return;
		}
}

static void
in_tick(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_room *r = ws_conn_room(c, m->h.room);

	if (r == NULL || r->state != WS_ROOM_JOINED)
		return;
	if (m->h.seq > r->known)
		r->known = m->h.seq;
	if (r->known > r->last)
		room_fetch(c, r);
}

static void
in_event(struct ws_conn *c, const struct conn_in *m)
{
	conn_emit(c, m->payload, m->len);
}

static void
in_removed(struct ws_conn *c, const struct conn_in *m)
{
	struct ws_room *r = ws_conn_room(c, m->h.room);

	if (r != NULL) {
		ws_audit_leave(c->p.audit, r->id, "server");
		conn_room_remove(c, r);
	}
	conn_emit(c, m->payload, m->len);
	if (c->p.text && m->h.room == c->p.room)
		conn_end(c, 1, "removed");
}

static void
in_close(struct ws_conn *c, const struct conn_in *m)
{
	conn_emit(c, m->payload, m->len);
	/* session_revoked, and whatever else the broker closes us for. */
	conn_end(c, 1, conn_error_word(m->payload, m->len));
}

static void
in_ignore(struct ws_conn *c, const struct conn_in *m)
{
	(void)c;
	(void)m;
}

/* What a worker does with each broker -> worker type. */
static const struct {
	int type;
	void (*fn)(struct ws_conn *, const struct conn_in *);
} conn_in_table[] = {
        {PC_WIRE_AUTHED, in_authed},   {PC_WIRE_OK, in_ignore},
        {PC_WIRE_ERROR, in_error},     {PC_WIRE_JOINED, in_joined},
        {PC_WIRE_ACK, in_ack},         {PC_WIRE_MSG, in_msg},
        {PC_WIRE_GAP, in_gap},         {PC_WIRE_FETCHED, in_fetched},
        {PC_WIRE_TICK, in_tick},       {PC_WIRE_EVENT, in_event},
        {PC_WIRE_REMOVED, in_removed}, {PC_WIRE_CLOSE, in_close},
};

static void conn_batch(struct ws_conn *c, const struct conn_in *m);

void
ws_conn_broker(struct ws_conn *c, const void *data, size_t len)
{
	struct conn_in m;
	size_t i;

	if (pc_wire_unpack(data, len, &m.h, &m.payload, &m.len) != PC_OK) {
		pc_log_warn("malformed broker message (%zu bytes)", len);
		return;
	}
	if (m.h.type == PC_WIRE_BATCH) {
		conn_batch(c, &m);
		return;
	}
	/* Replies to requests sent before the link last went down are stale:
	 * what they answered is asked again (re-join, resend). */
	if (m.h.req_id != 0 && m.h.req_id < c->epoch_req &&
	    m.h.type != PC_WIRE_MSG && m.h.type != PC_WIRE_CLOSE)
		return;
	for (i = 0; i < sizeof(conn_in_table) / sizeof(conn_in_table[0]); i++)
		if (conn_in_table[i].type == m.h.type) {
			/* Nothing but AUTHED, ERROR, CLOSE before the hello. */
			if (!c->authed && m.h.type != PC_WIRE_AUTHED &&
			    m.h.type != PC_WIRE_ERROR &&
			    m.h.type != PC_WIRE_CLOSE)
				return;
			conn_in_table[i].fn(c, &m);
			return;
		}
	pc_log_warn("unexpected %s from the broker",
	            pc_wire_type_name(m.h.type));
}

/* Several messages in one (the broker paces each pipe, wire.h): each is
 * handled as if it had arrived alone, in order. A batch inside a batch is
 * not expected and is dropped. */
static void
conn_batch(struct ws_conn *c, const struct conn_in *m)
{
	const char *item;
	size_t off = 0, item_len;
	struct pc_wire_hdr h;
	const char *pl;
	size_t pl_len;
	enum pc_err e;

	while (!c->done &&
	       (e = pc_wire_batch_next(m->payload, m->len, &off, &item,
	                               &item_len)) == PC_OK) {
		if (pc_wire_unpack(item, item_len, &h, &pl, &pl_len) == PC_OK &&
		    h.type == PC_WIRE_BATCH) {
			pc_log_warn("nested batch dropped");
			continue;
		}
		ws_conn_broker(c, item, item_len);
	}
	if (!c->done && e == PC_ERR_INVALID)
		pc_log_warn("malformed batch (%zu bytes)", m->len);
}

/* ---- client ---------------------------------------------------------- */

/* Text mode: the line is a message body for the room of the query. */
static void
conn_text_line(struct ws_conn *c, const char *line, size_t len)
{
	char cid[PC_CLIENT_ID_MAX + 1];
	enum pc_err e;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return; /* an empty line sends nothing */
	if ((e = pc_valid_body(line, len)) != PC_OK) {
		ws_conn_error(c, e, NULL, NULL, NULL, -1);
		return;
	}
	snprintf(cid, sizeof(cid), "%s-%llu", c->text_idbase,
	         (unsigned long long)++c->text_n);
	if ((e = ws_conn_send(c, c->p.room, line, len, cid)) != PC_OK)
		ws_conn_error(c, e, NULL, cid, NULL, -1);
}

void
ws_conn_client_line(struct ws_conn *c, const char *line, size_t len)
{
	c->last_in_ms = pc_clock_mono_ms();
	if (c->p.text)
		conn_text_line(c, line, len);
	else
		ws_cmd_dispatch(c, line, len);
}

void
ws_conn_client_too_large(struct ws_conn *c)
{
	c->last_in_ms = pc_clock_mono_ms();
	ws_conn_error(c, PC_ERR_TOO_LARGE, "frame over 64 KiB discarded", NULL,
	              NULL, -1);
}

/* ---- timers ---------------------------------------------------------- */

static int
min_wait(int wait, int64_t until, int64_t now)
{
	int64_t d = until - now;

	if (d < 0)
		d = 0;
	return d < wait ? (int)d : wait;
}

/*
 * Whether nothing waits for a retry or a deadline of its own: signed in, the
 * link up, every room joined with nothing to replay, fetch or release. Only
 * then may the worker sleep past WS_RETRY_MS, until the next ping, idle
 * close or expiry: an idle socket wakes its worker every 25 s instead of
 * every second (10,000 idle sockets cost a fifth of a core in wake-ups
 * alone; ws-worker/README.md, "Idle").
 */
static int
conn_settled(const struct ws_conn *c)
{
	size_t i;

	if (!c->authed || c->link != WS_LINK_UP)
		return 0;
	for (i = 0; i < c->nrooms; i++) {
		const struct ws_room *r = &c->rooms[i];

		if (r->state != WS_ROOM_JOINED || r->replay_to > r->known ||
		    r->fetch_req != 0 || r->known > r->last || r->nheld > 0)
			return 0;
	}
	return 1;
}

int
ws_conn_timers(struct ws_conn *c, int64_t now, int64_t wall_ms)
{
	int wait = conn_settled(c) ? WS_IDLE_MS : WS_RETRY_MS;
	size_t i;

	if (c->done)
		return 0;
	if (!c->authed) {
		if (now - c->started_ms >= WS_AUTH_TIMEOUT_MS) {
			pc_log_warn("no answer from the broker");
			conn_error_frame(c, PC_ERR_UNAVAILABLE,
			                 "the message service is not reachable",
			                 NULL, NULL, -1);
			conn_end(c, 1, "auth_timeout");
			return 0;
		}
	} else if (c->exp > 0 && wall_ms >= c->exp * 1000) {
		conn_error_frame(c, PC_ERR_SESSION_EXPIRED, NULL, NULL, NULL,
		                 -1);
		conn_end(c, 1, "session_expired");
		return 0;
	}
	if (now - c->last_in_ms >= WS_IDLE_MS) {
		pc_log_info("idle for %d s: closing", WS_IDLE_MS / 1000);
		conn_end(c, 1, "idle");
		return 0;
	}
	wait = min_wait(wait, c->last_in_ms + WS_IDLE_MS, now);
	if (c->authed && !c->p.text) {
		if (now - c->last_out_ms >= WS_PING_MS) {
			ws_conn_write(c, WS_FRAME_PING, strlen(WS_FRAME_PING));
			c->last_out_ms = now;
		}
		wait = min_wait(wait, c->last_out_ms + WS_PING_MS, now);
	}
	if (c->authed && c->exp > 0)
		wait = min_wait(wait, now + (c->exp * 1000 - wall_ms), now);
	if (c->pipe_up && c->link == WS_LINK_DOWN && now >= c->auth_retry_at)
		ws_conn_link_up(c);
	if (c->link != WS_LINK_UP)
		return wait;
	for (i = 0; i < c->nrooms; i++) {
		struct ws_room *r = &c->rooms[i];

		if (r->state == WS_ROOM_REJOIN && now >= r->retry_at &&
		    room_join_send(c, r) != PC_OK) {
			r->state = WS_ROOM_REJOIN;
			r->retry_at = now + WS_RETRY_MS;
		}
		if (r->state == WS_ROOM_JOINED && r->replay_to > r->known &&
		    now >= r->replay_deadline) {
			pc_log_info("room %lld: replay stalled at %lld of %lld",
			            (long long)r->id, (long long)r->last,
			            (long long)r->replay_to);
			r->known = r->replay_to;
		}
		if (r->fetch_req != 0 && now >= r->fetch_deadline) {
			pc_log_info("room %lld: fetch timed out",
			            (long long)r->id);
			room_fetch_done(c, r, 1);
		} else if (r->fetch_req == 0 && r->known > r->last)
			room_fetch(c, r);
	}
	return wait;
}

/* ---- life ------------------------------------------------------------ */

enum pc_err
ws_conn_init(struct ws_conn *c, const struct ws_conn_params *p)
{
	memset(c, 0, sizeof(*c));
	c->p = *p;
	c->started_ms = c->last_out_ms = c->last_in_ms = pc_clock_mono_ms();
	snprintf(c->text_idbase, sizeof(c->text_idbase), "t-%lld-%ld",
	         (long long)pc_clock_now_ms(), (long)getpid());
	return PC_OK;
}

void
ws_conn_free(struct ws_conn *c)
{
	size_t i;

	for (i = 0; i < c->nrooms; i++) {
		room_clear_held(&c->rooms[i]);
		free(c->rooms[i].held);
	}
	free(c->rooms);
	for (i = 0; i < c->nsends; i++)
		free(c->sends[i].payload);
	free(c->sends);
	c->rooms = NULL;
	c->sends = NULL;
	c->nrooms = c->nsends = 0;
}

/* ---- several brokers (links.h) ---------------------------------------- */

/* A lost send waits for its broker with this req_id (no reply carries it). */
#define CONN_SEND_LOST UINT64_MAX

void
ws_conn_rooms_lost(struct ws_conn *c, ws_owns_fn owns, void *ctx)
{
	size_t i;

	for (i = 0; i < c->nrooms; i++)
		if (owns(ctx, c->rooms[i].id)) {
			c->rooms[i].state = WS_ROOM_REJOIN;
			c->rooms[i].retry_at = 0;
			room_reset_sync(&c->rooms[i]);
		}
	for (i = 0; i < c->nsends; i++)
		if (owns(ctx, c->sends[i].room))
			c->sends[i].req_id = CONN_SEND_LOST;
}

void
ws_conn_rooms_back(struct ws_conn *c, ws_owns_fn owns, void *ctx)
{
	int64_t now = pc_clock_mono_ms();
	uint64_t req;
	size_t i;

	for (i = 0; i < c->nrooms; i++) {
		struct ws_room *r = &c->rooms[i];

		if (owns(ctx, r->id) && r->state == WS_ROOM_REJOIN &&
		    room_join_send(c, r) != PC_OK) {
			r->state = WS_ROOM_REJOIN;
			r->retry_at = now + WS_RETRY_MS;
		}
	}
	for (i = 0; i < c->nsends; i++) {
		struct ws_pending_send *ps = &c->sends[i];

		if (ps->req_id != CONN_SEND_LOST || !owns(ctx, ps->room))
			continue;
		req = conn_send_req(c, PC_WIRE_SEND, ps->room, 0, 0,
		                    ps->payload, ps->len);
		if (req != 0)
			ps->req_id = req;
	}
}

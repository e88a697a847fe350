/*
 * deliver.c: the store thread's answers, turned into replies and fan-out
 * (deliver.h). One table maps each job kind to its handler.
 *
 * Order is the point of this file. Answers arrive in the order the jobs were
 * queued and everything here runs on the main thread, which is the only one
 * that sends to pipes; so an ACK is queued before the MSG of the same send,
 * a joining pipe gets JOINED, GAP, the replay and only then is subscribed
 * (no live message can slip between), and a notification from the API that
 * waited behind a BARRIER acts after every job queued before it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "call.h"
#include "clock.h"
#include "deliver.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "online.h"
#include "presence.h"
#include "reply.h"
#include "wire.h"

#define DELIVER_ONLINE_MAX 1000 /* users listed in a joined frame */
#define DELIVER_PIPES_MAX  4096 /* pipes one revocation closes at once */

static const struct settings *dl_s;

void
deliver_init(const struct settings *s)
{
	dl_s = s;
}

/* ---- leaving rooms ---- */

static void
deliver_presence(struct fanout_room *r, int64_t user, const char *username,
                 int online, uint32_t except_pipe)
{
	struct frame_user u = {user, username};
	struct frame *f;
	struct pc_wire_hdr h;

	if (r == NULL || (f = frame_presence(r->id, &u, online)) == NULL)
		return;
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_EVENT;
	h.room = r->id;
	fanout_publish(r, &h, f, except_pipe, 0, 0);
	frame_unref(f);
}

int
deliver_leave(uint32_t pipe, int64_t room)
{
	struct auth_pipe *a = auth_get(pipe);
	enum fanout_state was;

	was = fanout_unsubscribe(pipe, room);
	if (was == FANOUT_JOINED && a != NULL &&
	    presence_leave(room, a->who.user_id) == 1)
		deliver_presence(fanout_room(room), a->who.user_id,
		                 a->who.username, 0, 0);
	return was != FANOUT_NONE;
}

void
deliver_pipe_gone(uint32_t pipe)
{
	struct auth_pipe *a = auth_get(pipe);
	int64_t rooms[256], *all = rooms;
	size_t n, i;

	n = fanout_pipe_joined(pipe, rooms, 256);
	if (n > 256 && (all = calloc(n, sizeof(*all))) != NULL)
		n = fanout_pipe_joined(pipe, all, n);
	else if (n > 256) {
		all = rooms;
		n = 256;
	}
	for (i = 0; i < n; i++)
		deliver_leave(pipe, all[i]);
	if (all != rooms)
		free(all);
	call_pipe_gone(pipe);
	fanout_pipe_drop(pipe, NULL, 0); /* joins in flight */
	if (a != NULL)
		pc_log_debug("pipe %" PRIu32 " of user %" PRId64 " gone", pipe,
		             a->who.user_id);
	auth_forget(pipe);
}

/* ---- helpers ---- */

/* The authenticated record of a live pipe, or NULL. */
static struct auth_pipe *
deliver_authed(uint32_t pipe)
{
	struct auth_pipe *a;

	if (!link_alive(pipe) || (a = auth_get(pipe)) == NULL ||
	    a->state != AUTH_OK)
		return NULL;
	return a;
}

void
deliver_fetched(uint32_t pipe, uint64_t req_id, struct fanout_room *r,
                int64_t from, int64_t to, struct frame *const *rows,
                const int64_t *row_seq, size_t nrows)
{
	struct frame *f;
	int64_t next = from, last = from - 1;
	size_t i;

	for (i = 0; i < nrows; i++) {
		if (row_seq[i] < next || row_seq[i] > to)
			continue;
		reply(pipe, PC_WIRE_MSG, req_id, r->id, row_seq[i], 0, 0,
		      rows[i]);
		last = row_seq[i];
		next = row_seq[i] + 1;
	}
	for (; next <= to && (f = recent_get(&r->recent, next)) != NULL;
	     next++) {
		reply(pipe, PC_WIRE_MSG, req_id, r->id, next, 0, 0, f);
		last = next;
	}
	metrics_fetched(from, last);
	reply(pipe, PC_WIRE_FETCHED, req_id, r->id, from, last, 0, NULL);
}

/* ---- join ---- */

/*
 * Finishes a join: JOINED (online users, this one included), GAP when more
 * than the replay limit was missed, the replay (rows from the database, then
 * the ring), then the subscription and a presence event for the others.
 */
static void
deliver_join_done(struct auth_pipe *a, uint64_t req_id, struct fanout_room *r,
                  int64_t since, int64_t gap_from, int64_t gap_to, int64_t from,
                  struct frame *const *rows, const int64_t *row_seq,
                  size_t nrows)
{
	struct frame_user online[DELIVER_ONLINE_MAX];
	struct frame *f;
	int64_t next, seq;
	size_t n, i;
	int first = 0, rejoin;

	rejoin = fanout_state(a->id, r->id) == FANOUT_JOINED;
	if (!rejoin &&
	    (first = presence_join(r->id, a->who.user_id, a->who.username)) < 0)
		goto nomem;
	if (fanout_subscribe(r, a->id, a->who.user_id) != PC_OK) {
		if (!rejoin)
			presence_leave(r->id, a->who.user_id);
		goto nomem;
	}
	/*
	 * Subscribed above only so that the lists are right; nothing is sent
	 * to pipes until this function returns, and the replay below is
	 * queued on this pipe before any later MSG.
	 */
	n = presence_online(r->id, online, DELIVER_ONLINE_MAX);
	f = frame_joined(r->id, r->last_seq, r->kind[0] ? r->kind : NULL,
	                 r->kind[0] ? r->name : NULL, online, n);
	reply(a->id, PC_WIRE_JOINED, req_id, r->id, r->last_seq, 0, 0, f);
	frame_unref(f);
	if (since >= 0) {
		if (gap_to >= gap_from && gap_from > 0) {
			metrics_gap(METRICS_GAP_JOIN);
			f = frame_gap(r->id, gap_from, gap_to);
			reply(a->id, PC_WIRE_GAP, req_id, r->id, gap_from,
			      gap_to, 0, f);
			frame_unref(f);
		}
		next = from;
		for (i = 0; i < nrows; i++) {
			seq = row_seq[i];
			if (seq < next || seq > r->last_seq)
				continue;
			reply(a->id, PC_WIRE_MSG, req_id, r->id, seq, 0, 0,
			      rows[i]);
			next = seq + 1;
		}
		for (; next <= r->last_seq &&
		       (f = recent_get(&r->recent, next)) != NULL;
		     next++)
			reply(a->id, PC_WIRE_MSG, req_id, r->id, next, 0, 0, f);
	}
	if (first == 1)
		deliver_presence(r, a->who.user_id, a->who.username, 1, a->id);
	return;
nomem:
	fanout_unsubscribe(a->id, r->id);
	reply_error(a->id, req_id, r->id, PC_ERR_NOMEM, "join", NULL, -1);
}

/* The replay range of a join with since: [*from, hi] plus a gap before it. */
static void
deliver_range(int64_t since, int64_t hi, int64_t *gap_from, int64_t *gap_to,
              int64_t *from)
{
	*gap_from = *gap_to = 0;
	*from = since + 1;
	if (hi - since > DELIVER_REPLAY_MAX) {
		*gap_from = since + 1;
		*gap_to = hi - DELIVER_REPLAY_MAX;
		*from = hi - DELIVER_REPLAY_MAX + 1;
	}
}

static void
on_join(struct store_job *j)
{
	struct auth_pipe *a = deliver_authed(j->pipe);
	struct fanout_room *r;
	int64_t since = j->aux, gap_from, gap_to, from;
	enum fanout_state st;

	if (a == NULL)
		return;
	st = fanout_state(j->pipe, j->room);
	if (st == FANOUT_NONE)
		return; /* left meanwhile */
	if (j->err != PC_OK) {
		if (st == FANOUT_JOINING)
			fanout_unsubscribe(j->pipe, j->room);
		reply_error(j->pipe, j->req_id, j->room, j->err, "join", NULL,
		            -1);
		return;
	}
	if ((r = fanout_room_ensure(j->room, pc_clock_mono_ms())) == NULL) {
		if (st == FANOUT_JOINING)
			fanout_unsubscribe(j->pipe, j->room);
		reply_error(j->pipe, j->req_id, j->room, PC_ERR_NOMEM, "join",
		            NULL, -1);
		return;
	}
	r->used_ms = pc_clock_mono_ms();
	snprintf(r->kind, sizeof(r->kind), "%s", j->kind);
	snprintf(r->name, sizeof(r->name), "%s", j->name);
	if (j->last_seq > r->last_seq) {
		/* the ring cannot hold what this thread never published */
		if (recent_last(&r->recent) != 0)
			recent_clear(&r->recent);
		r->last_seq = j->last_seq;
	}
	if (since > r->last_seq) {
		if (st == FANOUT_JOINING)
			fanout_unsubscribe(j->pipe, j->room);
		reply_error(j->pipe, j->req_id, j->room, PC_ERR_BAD_SINCE,
		            "join", NULL, -1);
		return;
	}
	if (since < 0) {
		deliver_join_done(a, j->req_id, r, -1, 0, 0, 0, NULL, NULL, 0);
		return;
	}
	deliver_range(since, r->last_seq, &gap_from, &gap_to, &from);
	if (recent_covers(&r->recent, from, r->last_seq)) {
		deliver_join_done(a, j->req_id, r, since, gap_from, gap_to,
		                  from, NULL, NULL, 0);
		return;
	}
	/* the replay needs the database: a FETCH job finishes the join */
	{
		struct store_job *f = store_job_new(STORE_FETCH);

		if (f == NULL) {
			fanout_unsubscribe(j->pipe, j->room);
			reply_error(j->pipe, j->req_id, j->room, PC_ERR_NOMEM,
			            "join", NULL, -1);
			return;
		}
		f->pipe = j->pipe;
		f->req_id = j->req_id;
		f->room = j->room;
		f->seq = from;
		f->arg = r->last_seq;
		f->aux = since;
		f->aux2 = DELIVER_JOINING;
		f->last_seq = r->last_seq;
		f->user = j->user;
		if (store_submit(f) != PC_OK) {
			store_job_free(f);
			if (st == FANOUT_JOINING)
				fanout_unsubscribe(j->pipe, j->room);
			reply_error(j->pipe, j->req_id, j->room,
			            PC_ERR_UNAVAILABLE, "join", NULL, -1);
		}
	}
}

static void
on_fetch(struct store_job *j)
{
	struct auth_pipe *a = deliver_authed(j->pipe);
	struct fanout_room *r;
	enum fanout_state st;
	int64_t since = j->aux, gap_from, gap_to, from;

	if (a == NULL)
		return;
	st = fanout_state(j->pipe, j->room);
	if (j->aux2 == DELIVER_JOINING) {
		if (st == FANOUT_NONE)
			return;
		if (j->err != PC_OK ||
		    (r = fanout_room_ensure(j->room, pc_clock_mono_ms())) ==
		            NULL) {
			if (st == FANOUT_JOINING)
				fanout_unsubscribe(j->pipe, j->room);
			reply_error(j->pipe, j->req_id, j->room,
			            j->err != PC_OK ? j->err : PC_ERR_NOMEM,
			            "join", NULL, -1);
			return;
		}
		if (j->last_seq > r->last_seq)
			r->last_seq = j->last_seq;
		deliver_range(since, j->last_seq, &gap_from, &gap_to, &from);
		deliver_join_done(a, j->req_id, r, since, gap_from, gap_to,
		                  from, j->rows, j->row_seq, j->nrows);
		return;
	}
	if (j->err != PC_OK) {
		reply_error(j->pipe, j->req_id, j->room, j->err, "fetch", NULL,
		            -1);
		return;
	}
	if ((r = fanout_room_ensure(j->room, pc_clock_mono_ms())) == NULL)
		return;
	deliver_fetched(j->pipe, j->req_id, r, j->seq, j->arg, j->rows,
	                j->row_seq, j->nrows);
}

/* ---- auth ---- */

static void
on_auth(struct store_job *j)
{
	struct auth_pipe *a = auth_get(j->pipe);
	struct frame_user u;
	struct frame *f;
	enum pc_err e;

	if (!link_alive(j->pipe) || a == NULL || a->state != AUTH_PENDING ||
	    a->req_id != j->req_id)
		return; /* gone, or asked again since */
	if (j->err != PC_OK) {
		auth_forget(j->pipe);
		reply_error(j->pipe, j->req_id, 0, j->err, "auth", NULL, -1);
		return;
	}
	if ((e = auth_accept(j->pipe, j->username,
	                     dl_s->limits.max_sockets_per_user)) != PC_OK) {
		if (e == PC_ERR_LIMIT_REACHED)
			pc_log_info("user %" PRId64 " has too many sockets",
			            j->user);
		auth_forget(j->pipe);
		reply_error(j->pipe, j->req_id, 0, e, "auth", NULL, -1);
		return;
	}
	link_set_batch(j->pipe, a->batch);
	u.id = a->who.user_id;
	u.username = a->who.username;
	if ((f = frame_authed(&u, a->who.sid, a->who.exp)) == NULL) {
		deliver_pipe_gone(j->pipe);
		reply_error(j->pipe, j->req_id, 0, PC_ERR_NOMEM, "auth", NULL,
		            -1);
		return;
	}
	reply(j->pipe, PC_WIRE_AUTHED, j->req_id, 0, 0, a->who.exp, 0, f);
	frame_unref(f);
}

/* ---- send ---- */

static void
on_send(struct store_job *j)
{
	struct fanout_room *r;
	struct pc_wire_hdr h;
	int alive = link_alive(j->pipe);
	int64_t now = pc_clock_mono_ms();

	if (j->err != PC_OK) {
		if (alive)
			reply_error(j->pipe, j->req_id, j->room, j->err,
			            j->client_id, NULL, -1);
		return;
	}
	if (alive)
		reply(j->pipe, PC_WIRE_ACK, j->req_id, j->room, j->seq, j->id,
		      0, j->ack);
	if (j->dup)
		return;
	/* committed: publish whether or not the sender is still there */
	if ((r = fanout_room_ensure(j->room, now)) == NULL) {
		pc_log_err("out of memory: room %" PRId64 " seq %" PRId64
		           " not published (TICK will tell)",
		           j->room, j->seq);
		return;
	}
	if (j->seq > r->last_seq)
		r->last_seq = j->seq;
	if (recent_push(&r->recent, j->seq, j->msg) != PC_OK)
		recent_clear(&r->recent);
	r->active_ms = r->used_ms = now;
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_MSG;
	h.room = j->room;
	h.seq = j->seq;
	fanout_publish(r, &h, j->msg, 0, 0, alive ? j->pipe : 0);
}

/* ---- read markers ---- */

static void
on_read(struct store_job *j)
{
	struct fanout_room *r = fanout_room(j->room);
	struct frame_user u = {j->user, j->username};
	struct pc_wire_hdr h;
	const uint32_t *mine;
	struct frame *f;
	size_t n, i;

	if (j->err != PC_OK) {
		if (link_alive(j->pipe))
			reply_error(j->pipe, j->req_id, j->room, j->err, "read",
			            NULL, -1);
		return;
	}
	if (!j->changed || (f = frame_read(j->room, &u, j->last_seq)) == NULL)
		return;
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_EVENT;
	h.room = j->room;
	h.seq = j->last_seq;
	if (r != NULL)
		fanout_publish(r, &h, f, j->pipe, 0, 0);
	/* the user's own other sockets, also those not in the room */
	n = auth_user_pipes(j->user, &mine);
	for (i = 0; i < n; i++)
		if (mine[i] != j->pipe &&
		    fanout_state(mine[i], j->room) != FANOUT_JOINED)
			link_send(mine[i], &h, f);
	frame_unref(f);
}

/* ---- calls (call.c) ---- */

static void
on_call(struct store_job *j)
{
	call_deliver(j);
}

/* ---- revocation and notifications ---- */

/* Sends CLOSE session_revoked and forgets the pipe at once. */
static void
deliver_revoke(uint32_t pipe)
{
	reply_close(pipe, PC_ERR_SESSION_REVOKED);
	deliver_pipe_gone(pipe);
}

static void
on_sessions(struct store_job *j)
{
	const uint32_t *p;
	uint32_t close[DELIVER_PIPES_MAX];
	struct auth_pipe *a;
	size_t n, i, k, m = 0;
	int live;

	n = auth_user_pipes(j->user, &p);
	for (i = 0; i < n && m < DELIVER_PIPES_MAX; i++) {
		if ((a = auth_get(p[i])) == NULL)
			continue;
		live = 0;
		/* database down: close them all, the safe side */
		for (k = 0; j->err == PC_OK && k < j->nsids; k++)
			if (strcasecmp(j->sids[k], a->who.sid) == 0)
				live = 1;
		if (!live)
			close[m++] = p[i];
	}
	for (i = 0; i < m; i++)
		deliver_revoke(close[i]);
	if (m > 0)
		pc_log_info("user %" PRId64 ": closed %zu sockets of revoked "
		            "sessions",
		            j->user, m);
}

static void
notice_session(struct store_job *j)
{
	uint32_t p[DELIVER_PIPES_MAX];
	size_t n, i;

	n = auth_session_pipes(j->sid, p, DELIVER_PIPES_MAX);
	if (n > DELIVER_PIPES_MAX)
		n = DELIVER_PIPES_MAX;
	for (i = 0; i < n; i++)
		deliver_revoke(p[i]);
	if (n > 0)
		pc_log_info("session revoked: closed %zu sockets", n);
}

static void
notice_member_left(struct store_job *j)
{
	const uint32_t *p;
	uint32_t pipes[DELIVER_PIPES_MAX];
	struct frame *f;
	size_t n, i;

	n = auth_user_pipes(j->user, &p);
	if (n > DELIVER_PIPES_MAX)
		n = DELIVER_PIPES_MAX;
	if (n > 0) /* p is NULL for a user with no socket */
		memcpy(pipes, p, n * sizeof(*pipes));
	f = frame_removed(j->room);
	for (i = 0; i < n; i++) {
		deliver_leave(pipes[i], j->room);
		reply(pipes[i], PC_WIRE_REMOVED, 0, j->room, 0, 0, 0, f);
	}
	frame_unref(f);
}

static void
notice_room_changed(struct store_job *j)
{
	struct fanout_room *r = fanout_room(j->room);
	struct frame *f;
	uint32_t *pipes;
	size_t n, i;

	if (r == NULL)
		return;
	r->kind[0] = '\0'; /* name and kind are read again at the next join */
	if (!(j->arg & PC_WIRE_F_DELETED) && j->err != PC_ERR_NOT_FOUND)
		return;
	n = r->nsubs;
	if ((pipes = calloc(n + 1, sizeof(*pipes))) == NULL)
		return;
	for (i = 0; i < n; i++)
		pipes[i] = r->subs[i].pipe;
	f = frame_removed(j->room);
	for (i = 0; i < n; i++) {
		fanout_unsubscribe(pipes[i], j->room);
		reply(pipes[i], PC_WIRE_REMOVED, 0, j->room, 0, 0, 0, f);
	}
	frame_unref(f);
	free(pipes);
	presence_drop(j->room); /* nobody is online in a room that is gone */
	fanout_room_drop(j->room);
}

static void
notice_user_event(struct store_job *j)
{
	const uint32_t *p;
	struct frame *f;
	size_t n, i;

	if (j->text == NULL || (f = frame_from(j->text, j->text_len)) == NULL)
		return;
	n = auth_user_pipes(j->user, &p);
	for (i = 0; i < n; i++)
		reply(p[i], PC_WIRE_EVENT, 0, 0, 0, 0, 0, f);
	frame_unref(f);
}

static void
notice_room_event(struct store_job *j)
{
	struct fanout_room *r = fanout_room(j->room);
	struct pc_wire_hdr h;
	struct frame *f;

	if (r == NULL)
		return;
	/* an edit or a delete makes cached lines stale */
	recent_clear(&r->recent);
	if (j->text == NULL || (f = frame_from(j->text, j->text_len)) == NULL)
		return;
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_EVENT;
	h.room = j->room;
	fanout_publish(r, &h, f, 0, 0, 0);
	frame_unref(f);
}

static const struct {
	int type;
	void (*fn)(struct store_job *);
} notices[] = {
        {PC_WIRE_N_SESSION_REVOKED, notice_session},
        {PC_WIRE_N_MEMBER_LEFT, notice_member_left},
        {PC_WIRE_N_USER_EVENT, notice_user_event},
        {PC_WIRE_N_ROOM_EVENT, notice_room_event},
};

static void
on_barrier(struct store_job *j)
{
	size_t i;

	if (j->aux2 != DELIVER_NOTICE)
		return;
	for (i = 0; i < sizeof(notices) / sizeof(notices[0]); i++)
		if (notices[i].type == j->aux) {
			notices[i].fn(j);
			return;
		}
}

static void
on_lastseq(struct store_job *j)
{
	struct fanout_room *r = fanout_room(j->room);

	if (r == NULL || j->last_seq <= r->last_seq)
		return;
	pc_log_info("room %" PRId64 ": last_seq %" PRId64 " -> %" PRId64
	            " after an uncertain commit",
	            j->room, r->last_seq, j->last_seq);
	recent_clear(&r->recent);
	r->last_seq = j->last_seq;
	r->active_ms = pc_clock_mono_ms(); /* TICK tells the workers */
}

static void
on_room(struct store_job *j)
{
	notice_room_changed(j);
}

static void
on_online(struct store_job *j)
{
	online_done(j);
}

static void (*const handlers[STORE__MAX])(struct store_job *) = {
        [STORE_AUTH] = on_auth,       [STORE_JOIN] = on_join,
        [STORE_SEND] = on_send,       [STORE_READ] = on_read,
        [STORE_FETCH] = on_fetch,     [STORE_SESSIONS] = on_sessions,
        [STORE_BARRIER] = on_barrier, [STORE_CALL] = on_call,
        [STORE_ROOM] = on_room,       [STORE_LASTSEQ] = on_lastseq,
        [STORE_ONLINE] = on_online,
};

int
deliver_check_tables(void)
{
	size_t i, k, n = sizeof(notices) / sizeof(notices[0]);
	int bad = 0;

	for (i = 0; i < STORE__MAX; i++)
		if (handlers[i] == NULL) {
			pc_log_err("job kind %zu has no handler", i);
			bad++;
		}
	for (i = 0; i < n; i++) {
		if (notices[i].fn == NULL) {
			pc_log_err("notice row %zu incomplete", i);
			bad++;
		}
		for (k = 0; k < i; k++)
			if (notices[k].type == notices[i].type) {
				pc_log_err("notice %d twice", notices[i].type);
				bad++;
			}
	}
	return bad;
}

void
deliver(struct store_job *j)
{
	if (j->op < STORE__MAX && handlers[j->op] != NULL)
		handlers[j->op](j);
	store_job_free(j);
}

/*
 * fanout.c: the room table, subscriptions and routed publishing (fanout.h).
 * A room's subscribers are an array (swap-remove); a pipe's rooms are a
 * short array too (at most the rooms-per-socket limit).
 *
 * Why one PAIR1 socket in polyamorous mode, routed here, rather than one NNG
 * PUB socket per room:
 * - Routing: a PUB socket sends every message to every subscriber pipe and
 *   SUB filters on arrival, so one PUB for all rooms wakes every worker for
 *   every room and hands workers lines they must not see. Correct routing
 *   with PUB needs a PUB socket per active room, i.e. a listener and an ipc
 *   socket file per room and a dial per (worker, room): a worker in 100 rooms
 *   holds 100 connections, and joins/leaves become connects/disconnects.
 *   With PAIR1 poly a worker is one pipe and a join is a table entry.
 * - Queues and drops (NNG 1.5.2, read in pair1_poly.c and measured here):
 *   neither blocks the sender. PUB keeps 16 messages per subscriber
 *   (NNG_OPT_SENDBUF, up to 8192) and drops the oldest. PAIR1 poly keeps
 *   only two per pipe, fixed, behind the socket's shared queue (SENDBUF,
 *   8192 here), and drops the newest when they are full: 500 messages sent
 *   back to back to one fast reader arrived 133 times; one every 10 µs, all.
 *   So link.c keeps an outbox per pipe, packs a worker's frames into one
 *   PC_WIRE_BATCH message (up to 64 KiB) when the worker says it can read
 *   them, and flow-controls each pipe by credit: at most two NNG messages
 *   un-acknowledged per pipe, the second asking the worker for a CREDIT
 *   (link.h), so NNG's queue can never overflow and nothing waits on a
 *   timer. Until session 3 it paced instead (one message per pipe per
 *   millisecond): a harness around link.c (2 cores, 300-byte lines, readers
 *   in the same process) measured 0.18-0.20 µs of broker CPU per delivery
 *   batched, under 0.2% dropped; but any drop of a reply that FETCH/TICK do
 *   not repair (ACK, ERROR, JOINED, FETCHED) left a client waiting for ever,
 *   which is what stalled test_ws_order's slow-reader test in loaded ASan
 *   runs. FETCH and TICK stay, for what is lost anyway (a broker restart);
 *   a worker that stops reading fills its outbox and is disconnected.
 * - Cost per delivery: one rendering per message (a shared frame), then per
 *   subscriber a 40-byte header and a reference in its outbox, and one copy
 *   into an nng_msg when flushed (one allocation per batch, not per frame).
 */
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "idmap.h"

struct fanout_pipe_room {
	int64_t room;
	enum fanout_state state;
};

struct fanout_pipe {
	uint32_t id;
	struct fanout_pipe_room *rooms;
	size_t n, cap;
};

static struct {
	fanout_send_fn send;
	struct idmap rooms; /* id -> struct fanout_room */
	struct idmap pipes; /* id -> struct fanout_pipe */
} fo;

void
fanout_init(fanout_send_fn send)
{
	fo.send = send;
}

static void
fanout_room_free(struct fanout_room *r)
{
	recent_free(&r->recent);
	free(r->subs);
	free(r);
}

void
fanout_fini(void)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	while (idmap_next(&fo.rooms, &pos, &key, &val))
		fanout_room_free(val);
	pos = 0;
	while (idmap_next(&fo.pipes, &pos, &key, &val)) {
		free(((struct fanout_pipe *)val)->rooms);
		free(val);
	}
	idmap_free(&fo.rooms);
	idmap_free(&fo.pipes);
}

struct fanout_room *
fanout_room(int64_t id)
{
	return idmap_get(&fo.rooms, id);
}

struct fanout_room *
fanout_room_ensure(int64_t id, int64_t now_ms)
{
	struct fanout_room *r = idmap_get(&fo.rooms, id);

	if (r != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->id = id;
	r->used_ms = now_ms;
	recent_init(&r->recent, RECENT_CAP);
	if (idmap_put(&fo.rooms, id, r) != PC_OK) {
		free(r);
		return NULL;
	}
	return r;
}

int
fanout_room_drop(int64_t id)
{
	struct fanout_room *r = idmap_get(&fo.rooms, id);

	if (r == NULL || r->nsubs > 0)
		return 0;
	idmap_del(&fo.rooms, id);
	fanout_room_free(r);
	return 1;
}

static struct fanout_pipe_room *
fanout_find(struct fanout_pipe *p, int64_t room)
{
	size_t i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (p->rooms[i].room == room)
			return &p->rooms[i];
	return NULL;
}

enum fanout_state
fanout_state(uint32_t pipe, int64_t room)
{
	struct fanout_pipe_room *pr =
	        fanout_find(idmap_get(&fo.pipes, pipe), room);

	return pr != NULL ? pr->state : FANOUT_NONE;
}

size_t
fanout_pipe_rooms(uint32_t pipe)
{
	struct fanout_pipe *p = idmap_get(&fo.pipes, pipe);

	return p != NULL ? p->n : 0;
}

/* Sets pipe's state in room, adding the entry when missing. */
static enum pc_err
fanout_set(uint32_t pipe, int64_t room, enum fanout_state state)
{
	struct fanout_pipe *p = idmap_get(&fo.pipes, pipe);
	struct fanout_pipe_room *pr, *g;
	size_t cap;

	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return PC_ERR_NOMEM;
		p->id = pipe;
		if (idmap_put(&fo.pipes, pipe, p) != PC_OK) {
			free(p);
			return PC_ERR_NOMEM;
		}
	}
	if ((pr = fanout_find(p, room)) != NULL) {
		pr->state = state;
		return PC_OK;
	}
	if (p->n == p->cap) {
		cap = p->cap * 2 + 4;
		if ((g = realloc(p->rooms, cap * sizeof(*g))) == NULL)
			return PC_ERR_NOMEM;
		p->rooms = g;
		p->cap = cap;
	}
	p->rooms[p->n].room = room;
	p->rooms[p->n].state = state;
	p->n++;
	return PC_OK;
}

enum pc_err
fanout_joining(uint32_t pipe, int64_t room)
{
	if (fanout_state(pipe, room) == FANOUT_JOINED)
		return PC_OK; /* a re-join keeps the subscription */
	return fanout_set(pipe, room, FANOUT_JOINING);
}

static void
fanout_sub_remove(struct fanout_room *r, uint32_t pipe)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nsubs; i++) {
		if (r->subs[i].pipe == pipe) {
			r->subs[i] = r->subs[--r->nsubs];
			return;
		}
	}
}

enum pc_err
fanout_subscribe(struct fanout_room *r, uint32_t pipe, int64_t user)
{
	struct fanout_sub *g;
	size_t cap, i;
	enum pc_err e;

	for (i = 0; i < r->nsubs; i++)
		if (r->subs[i].pipe == pipe)
			return fanout_set(pipe, r->id, FANOUT_JOINED);
	if (r->nsubs == r->cap) {
		cap = r->cap * 2 + 4;
		if ((g = realloc(r->subs, cap * sizeof(*g))) == NULL)
			return PC_ERR_NOMEM;
		r->subs = g;
		r->cap = cap;
	}
	if ((e = fanout_set(pipe, r->id, FANOUT_JOINED)) != PC_OK)
		return e;
	r->subs[r->nsubs].pipe = pipe;
	r->subs[r->nsubs].user = user;
	r->nsubs++;
	return PC_OK;
}

enum fanout_state
fanout_unsubscribe(uint32_t pipe, int64_t room)
{
	struct fanout_pipe *p = idmap_get(&fo.pipes, pipe);
	struct fanout_pipe_room *pr = fanout_find(p, room);
	enum fanout_state was;

	if (pr == NULL)
		return FANOUT_NONE;
	was = pr->state;
	*pr = p->rooms[--p->n];
	if (was == FANOUT_JOINED)
		fanout_sub_remove(idmap_get(&fo.rooms, room), pipe);
	if (p->n == 0) {
		idmap_del(&fo.pipes, pipe);
		free(p->rooms);
		free(p);
	}
	return was;
}

size_t
fanout_pipe_joined(uint32_t pipe, int64_t *out, size_t max)
{
	struct fanout_pipe *p = idmap_get(&fo.pipes, pipe);
	size_t i, n = 0;

	for (i = 0; p != NULL && i < p->n; i++) {
		if (p->rooms[i].state != FANOUT_JOINED)
			continue;
		if (n < max)
			out[n] = p->rooms[i].room;
		n++;
	}
	return n;
}

size_t
fanout_pipe_drop(uint32_t pipe, int64_t *out, size_t max)
{
	struct fanout_pipe *p = idmap_del(&fo.pipes, pipe);
	size_t i, n = 0;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->n; i++) {
		if (p->rooms[i].state != FANOUT_JOINED)
			continue;
		fanout_sub_remove(idmap_get(&fo.rooms, p->rooms[i].room), pipe);
		if (n < max)
			out[n] = p->rooms[i].room;
		n++;
	}
	free(p->rooms);
	free(p);
	return n;
}

size_t
fanout_publish(struct fanout_room *r, const struct pc_wire_hdr *h,
               struct frame *f, uint32_t except_pipe, int64_t except_user,
               uint32_t self_pipe)
{
	struct pc_wire_hdr self;
	size_t i, n = 0;

	for (i = 0; i < r->nsubs; i++) {
		if (r->subs[i].pipe == except_pipe ||
		    (except_user != 0 && r->subs[i].user == except_user))
			continue;
		if (r->subs[i].pipe == self_pipe) {
			self = *h;
			self.flags |= PC_WIRE_F_SELF;
			fo.send(r->subs[i].pipe, &self, f);
		} else
			fo.send(r->subs[i].pipe, h, f);
		n++;
	}
	return n;
}

size_t
fanout_user_pipes_in(const struct fanout_room *r, int64_t user)
{
	size_t i, n = 0;

	for (i = 0; i < r->nsubs; i++)
		if (r->subs[i].user == user)
			n++;
	return n;
}

int
fanout_next(size_t *pos, struct fanout_room **r)
{
	int64_t key;
	void *val;

	if (!idmap_next(&fo.rooms, pos, &key, &val))
		return 0;
	*r = val;
	return 1;
}

size_t
fanout_count(void)
{
	return fo.rooms.len;
}

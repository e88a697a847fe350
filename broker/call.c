/*
 * call.c: call signalling routed to the addressed member's sockets, and the
 * table of calls in progress that gives the broker its missed-call timer
 * (call.h).
 *
 * A call is followed from the caller's `ring` (once the store said caller
 * and callee are members, the callee does not block the caller, and the
 * callee has a socket) until it is accepted and later hung up, declined,
 * or missed. The table is small (people ring each other rarely) and is
 * searched linearly; it holds at most CALL_TRACK_MAX calls and one ringing
 * call per caller (a new ring replaces the old one, which ends without a
 * message: the same person is ringing again).
 *
 * Missed means: nobody accepted within the ring time, the caller hung up or
 * their socket went away before an answer, or the callee's client answered
 * `busy`. Then one system message "missed call" from the caller is stored
 * in the room through the ordinary SEND path (so it gets the next seq and is
 * published like any message); its client_id is derived from the call_id,
 * so it is stored at most once per call even if asked twice. A decline is
 * not a missed call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "call.h"
#include "clock.h"
#include "link.h"
#include "log.h"
#include "reply.h"
#include "wire.h"

#define CALL_MISSED_BODY "missed call"

struct call_rec {
	int64_t room, caller, callee;
	char caller_name[PC_USERNAME_MAX + 1];
	char call_id[PC_CLIENT_ID_MAX + 1];
	uint32_t caller_pipe, callee_pipe;
	int64_t started_ms;
	int answered;
};

static const char *const call_sig_names[CALL_SIG__MAX] = {
        [CALL_SIG_RING] = "ring",     [CALL_SIG_ACCEPT] = "accept",
        [CALL_SIG_DECLINE] = "decline", [CALL_SIG_HANGUP] = "hangup",
        [CALL_SIG_BUSY] = "busy",     [CALL_SIG_OFFER] = "offer",
        [CALL_SIG_ANSWER] = "answer", [CALL_SIG_ICE] = "ice",
};

static struct {
	int64_t ring_ms;
	struct call_rec *v;
	size_t n, cap;
} cl = {.ring_ms = CALL_RING_MS_DEFAULT};

int
call_sig_parse(const char *type)
{
	int i;

	if (type == NULL)
		return -1;
	for (i = 0; i < CALL_SIG__MAX; i++)
		if (strcmp(call_sig_names[i], type) == 0)
			return i;
	return -1;
}

const char *
call_sig_name(int sig)
{
	return sig >= 0 && sig < CALL_SIG__MAX ? call_sig_names[sig] : "?";
}

void
call_init(int64_t ring_ms)
{
	cl.ring_ms = ring_ms > 0 ? ring_ms : CALL_RING_MS_DEFAULT;
}

void
call_fini(void)
{
	free(cl.v);
	cl.v = NULL;
	cl.n = cl.cap = 0;
}

size_t
call_count(void)
{
	return cl.n;
}

/* ---- the table ---- */

/* The call (room, call_id) between a and b in either direction, or NULL. */
static struct call_rec *
call_find(int64_t room, const char *call_id, int64_t a, int64_t b)
{
	size_t i;
	struct call_rec *c;

	for (i = 0; i < cl.n; i++) {
		c = &cl.v[i];
		if (c->room == room && strcmp(c->call_id, call_id) == 0 &&
		    ((c->caller == a && c->callee == b) ||
		     (c->caller == b && c->callee == a)))
			return c;
	}
	return NULL;
}

static void
call_remove(struct call_rec *c)
{
	size_t i = (size_t)(c - cl.v);

	cl.v[i] = cl.v[--cl.n];
}

static struct call_rec *
call_add(void)
{
	struct call_rec *g;
	size_t cap;

	if (cl.n == cl.cap) {
		if (cl.cap >= CALL_TRACK_MAX)
			return NULL;
		cap = cl.cap * 2 + 16;
		if (cap > CALL_TRACK_MAX)
			cap = CALL_TRACK_MAX;
		if ((g = realloc(cl.v, cap * sizeof(*g))) == NULL)
			return NULL;
		cl.v = g;
		cl.cap = cap;
	}
	g = &cl.v[cl.n++];
	memset(g, 0, sizeof(*g));
	return g;
}

/* ---- frames the broker makes itself ---- */

/* Sends a call frame for c with data {"type":type,…} to user's pipes, except
 * skip. */
static void
call_notify(const struct call_rec *c, int64_t user, const char *data,
            uint32_t skip)
{
	struct frame_user from = {c->caller, c->caller_name};
	const uint32_t *p;
	struct frame *f;
	size_t n, i;

	if ((f = frame_call(c->room, c->call_id, &from, data, strlen(data))) ==
	    NULL)
		return;
	n = auth_user_pipes(user, &p);
	for (i = 0; i < n; i++)
		if (p[i] != skip)
			reply(p[i], PC_WIRE_EVENT, 0, c->room, 0, 0, 0, f);
	frame_unref(f);
}

/* The idempotency key of c's missed-call message: "call:<call_id>", or a
 * hash of a call_id too long for that. */
static void
call_missed_key(const struct call_rec *c, char *out, size_t size)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	const unsigned char *s;

	if (strlen(c->call_id) + 5 <= PC_CLIENT_ID_MAX) {
		snprintf(out, size, "call:%s", c->call_id);
		return;
	}
	for (s = (const unsigned char *)c->call_id; *s; s++)
		h = (h ^ *s) * 1099511628211ULL;
	snprintf(out, size, "call#%016" PRIx64 ":%.40s", h, c->call_id);
}

/* Stores the missed-call message of c (best effort: logged on failure). */
static void
call_store_missed(const struct call_rec *c)
{
	struct store_job *j;

	if ((j = store_job_new(STORE_SEND)) == NULL)
		goto fail;
	j->pipe = 0; /* nobody waits for the ack */
	j->room = c->room;
	j->user = c->caller;
	snprintf(j->username, sizeof(j->username), "%s", c->caller_name);
	call_missed_key(c, j->client_id, sizeof(j->client_id));
	snprintf(j->kind, sizeof(j->kind), "system");
	j->text_len = strlen(CALL_MISSED_BODY);
	if ((j->text = strdup(CALL_MISSED_BODY)) == NULL) {
		store_job_free(j);
		goto fail;
	}
	if (store_submit(j) != PC_OK) {
		store_job_free(j);
		goto fail;
	}
	return;
fail:
	pc_log_warn("room %" PRId64 ": missed call %s not stored", c->room,
	            c->call_id);
}

/* Ends c as missed: notify (both sides' sockets but skip get
 * {"type":"missed"}) when asked, store the message, forget c. */
static void
call_missed(struct call_rec *c, int notify, uint32_t skip)
{
	if (notify) {
		call_notify(c, c->callee, "{\"type\":\"missed\"}", skip);
		call_notify(c, c->caller, "{\"type\":\"missed\"}", skip);
	}
	pc_log_debug("room %" PRId64 ": call %s missed", c->room, c->call_id);
	call_store_missed(c);
	call_remove(c);
}

/* ---- signals ---- */

static void
call_follow(const struct store_job *j, int sig)
{
	struct call_rec *c = call_find(j->room, j->client_id, j->user, j->arg);
	size_t i;

	if (sig == CALL_SIG_RING) {
		if (j->err != PC_OK || c != NULL)
			return;
		/* one ringing call per caller: a new ring replaces the old */
		for (i = 0; i < cl.n; i++)
			if (cl.v[i].caller == j->user && !cl.v[i].answered) {
				call_remove(&cl.v[i]);
				break;
			}
		if ((c = call_add()) == NULL) {
			pc_log_warn("too many calls in progress; call %s has "
			            "no missed-call timer",
			            j->client_id);
			return;
		}
		c->room = j->room;
		c->caller = j->user;
		c->callee = j->arg;
		snprintf(c->caller_name, sizeof(c->caller_name), "%s",
		         j->username);
		snprintf(c->call_id, sizeof(c->call_id), "%s", j->client_id);
		c->caller_pipe = j->pipe;
		c->started_ms = pc_clock_mono_ms();
		return;
	}
	if (c == NULL)
		return;
	switch (sig) {
	case CALL_SIG_ACCEPT:
		if (j->err == PC_OK && j->user == c->callee && !c->answered) {
			c->answered = 1;
			c->callee_pipe = j->pipe;
		}
		break;
	case CALL_SIG_DECLINE:
		if (j->user == c->callee && !c->answered)
			call_remove(c);
		break;
	case CALL_SIG_BUSY:
		if (j->user == c->callee && !c->answered)
			call_missed(c, 0, 0);
		break;
	case CALL_SIG_HANGUP:
		if (!c->answered && j->user == c->caller)
			call_missed(c, 0, 0);
		else
			call_remove(c);
		break;
	default:
		break;
	}
}

size_t
call_to_self(uint32_t pipe, int64_t user, int64_t room, struct frame *f)
{
	const uint32_t *mine;
	size_t n, i, sent = 0;

	if (f == NULL)
		return 0;
	n = auth_user_pipes(user, &mine);
	for (i = 0; i < n; i++) {
		if (mine[i] == pipe)
			continue;
		reply(mine[i], PC_WIRE_EVENT, 0, room, 0, 0, 0, f);
		sent++;
	}
	return sent;
}

void
call_deliver(struct store_job *j)
{
	struct frame_user from = {j->user, j->username};
	const uint32_t *to;
	struct frame *f;
	size_t n, i;

	if (j->err == PC_OK) {
		n = auth_user_pipes(j->arg, &to);
		if (n == 0)
			j->err = PC_ERR_NOT_REACHABLE;
		else if ((f = frame_call(j->room, j->client_id, &from, j->text,
		                         j->text_len)) == NULL)
			j->err = PC_ERR_NOMEM;
		else {
			for (i = 0; i < n; i++)
				reply(to[i], PC_WIRE_EVENT, 0, j->room, 0, 0, 0,
				      f);
			frame_unref(f);
		}
	}
	/* the end of a call counts even when the other side is gone */
	call_follow(j, (int)j->aux);
	if (j->err != PC_OK && link_alive(j->pipe))
		reply_error(j->pipe, j->req_id, j->room, j->err, j->client_id,
		            NULL, -1);
}

void
call_pipe_gone(uint32_t pipe)
{
	struct call_rec *c;
	size_t i = 0;
	int64_t other;

	if (pipe == 0)
		return;
	while (i < cl.n) {
		c = &cl.v[i];
		if (!c->answered && c->caller_pipe == pipe) {
			call_missed(c, 1, pipe); /* moves the last record to i */
			continue;
		}
		if (c->answered &&
		    (c->caller_pipe == pipe || c->callee_pipe == pipe)) {
			other = c->caller_pipe == pipe ? c->callee : c->caller;
			call_notify(c, other,
			            "{\"type\":\"hangup\",\"reason\":\"gone\"}",
			            pipe);
			call_remove(c);
			continue;
		}
		i++;
	}
}

void
call_tick(int64_t now_ms)
{
	size_t i = 0;

	while (i < cl.n) {
		if (!cl.v[i].answered &&
		    now_ms - cl.v[i].started_ms >= cl.ring_ms) {
			call_missed(&cl.v[i], 1, 0);
			continue;
		}
		i++;
	}
}

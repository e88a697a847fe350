/*
 * call.h: audio and video call signalling (contract section 4, `call`).
 *
 * The media flows browser to browser over WebRTC; the broker only relays the
 * signalling frames, never stores them, and keeps a small table of calls in
 * progress so that it can run the one timer a tab cannot be trusted with: a
 * call not answered within the ring time (30 s by default) ends as missed,
 * both sides get a `call` frame with data {"type":"missed"}, and ONE message
 * of kind `system` ("missed call", from the caller) is stored in the room
 * through the store thread's ordinary send path (seq, ack-less publish).
 *
 * What the broker reads of a frame's opaque `data` is its "type" (the
 * signalling vocabulary of docs/calls.md): ring, accept, decline, offer,
 * answer, ice, hangup, busy. Anything else is refused as `invalid` by
 * ingest.c before it gets here.
 *
 * Not here: parsing and rate limits (ingest.c), the membership and block
 * check (store.c's STORE_CALL job). Main thread only.
 */
#ifndef PIPECHAT_BROKER_CALL_H
#define PIPECHAT_BROKER_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CALL_RING_MS_DEFAULT 30000
#define CALL_TRACK_MAX       4096 /* calls followed at once; more are relayed
                                     but get no timer */

enum call_sig {
	CALL_SIG_RING,    /* caller -> callee: starts a call (rings) */
	CALL_SIG_ACCEPT,  /* callee -> caller (and to self: stop ringing) */
	CALL_SIG_DECLINE, /* callee -> caller (and to self) */
	CALL_SIG_HANGUP,  /* either side: the end */
	CALL_SIG_BUSY,    /* callee's client is in another call */
	CALL_SIG_OFFER,   /* SDP offer, answer and ICE candidates: relayed */
	CALL_SIG_ANSWER,
	CALL_SIG_ICE,
	CALL_SIG__MAX
};

/* The signal named type (data.type), or -1 when it is not one. */
int call_sig_parse(const char *type);
/* The name of sig, or "?". */
const char *call_sig_name(int sig);

/* ring_ms: how long a call may ring before it is missed. */
void call_init(int64_t ring_ms);
/* Forgets every call (no messages stored). */
void call_fini(void);

/*
 * A call frame to the caller's own user (to == from): sent at once to the
 * user's other pipes (an answer on one tab stops the ringing on the others).
 * f is borrowed. Returns how many pipes got it (0: the caller answers
 * not_reachable).
 */
size_t call_to_self(uint32_t pipe, int64_t user, int64_t room,
                    struct frame *f);
/*
 * The STORE_CALL job came back (j->aux = the signal): relays the frame to
 * the callee's pipes when the check passed and updates the call table;
 * answers the caller ERROR (ref = call_id) otherwise. Does not free j.
 */
void call_deliver(struct store_job *j);
/* A pipe is gone: a ringing call it placed ends as missed now; an answered
 * call it took part in ends with a hangup to the other side. */
void call_pipe_gone(uint32_t pipe);
/* Once a second: calls ringing for longer than the ring time end as missed. */
void call_tick(int64_t now_ms);
/* Calls followed now (for tests and the stats line). */
size_t call_count(void);

#endif

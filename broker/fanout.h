/*
 * fanout.h: rooms in memory and who is subscribed to them; publishing a
 * rendered frame to exactly the pipes that may see it.
 *
 * Routing happens here, before the socket: a frame is handed to the link
 * once per subscribed pipe, never to a pipe outside the room (contract
 * section 1). fanout.c's opening comment says why a polyamorous PAIR1 socket
 * and not one PUB socket per room, and what was measured.
 *
 * A room record holds last_seq (the highest committed seq the main thread has
 * published), its recent-message ring, its subscribers and, per pipe, the
 * rooms that pipe joined or is joining. Main thread only.
 */
#ifndef PIPECHAT_BROKER_FANOUT_H
#define PIPECHAT_BROKER_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "recent.h"
#include "valid.h"
#include "wire.h"

/* Sends one message to one pipe (link_send in the broker, a recorder in tests).
 */
typedef void (*fanout_send_fn)(uint32_t pipe, const struct pc_wire_hdr *h,
                               struct frame *f);

enum fanout_state { FANOUT_NONE = 0, FANOUT_JOINING, FANOUT_JOINED };

struct fanout_sub {
	uint32_t pipe;
	int64_t user;
};

struct fanout_room {
	int64_t id;
	int64_t last_seq;
	char kind[8]; /* "" until a join told us */
	char name[PC_ROOM_NAME_BYTES + 1];
	int64_t active_ms; /* last message published (mono) */
	int64_t used_ms;   /* last use of any kind (mono) */
	struct fanout_sub *subs;
	size_t nsubs, cap;
	struct recent recent;
};

void fanout_init(fanout_send_fn send);
/* Frees every room and pipe record. */
void fanout_fini(void);

/* The room, or NULL when not in memory. */
struct fanout_room *fanout_room(int64_t id);
/* The room, made (last_seq 0, empty ring) when missing; NULL on ENOMEM. */
struct fanout_room *fanout_room_ensure(int64_t id, int64_t now_ms);
/* Frees a room with no subscribers; returns non-zero when it did. */
int fanout_room_drop(int64_t id);

/* What pipe is doing in room. */
enum fanout_state fanout_state(uint32_t pipe, int64_t room);
/* How many rooms pipe joined or is joining. */
size_t fanout_pipe_rooms(uint32_t pipe);
/* Marks a join in flight (counts towards the pipe's rooms). PC_ERR_NOMEM. */
enum pc_err fanout_joining(uint32_t pipe, int64_t room);
/* Subscribes pipe (of user) to r: JOINED. PC_ERR_NOMEM. */
enum pc_err fanout_subscribe(struct fanout_room *r, uint32_t pipe,
                             int64_t user);
/* Forgets pipe in room, joined or joining. Returns the state it had. */
enum fanout_state fanout_unsubscribe(uint32_t pipe, int64_t room);
/* Copies into out (up to max) the rooms pipe joined (not joining) and
 * returns how many there are; then forgets every room of pipe. */
size_t fanout_pipe_drop(uint32_t pipe, int64_t *out, size_t max);
/* Copies the rooms pipe joined into out (up to max); returns the count. */
size_t fanout_pipe_joined(uint32_t pipe, int64_t *out, size_t max);

/*
 * Sends h + f to every subscriber of r except except_pipe (0: none) and
 * every pipe of except_user (0: none). The copy for self_pipe (0: none)
 * carries PC_WIRE_F_SELF. Returns how many pipes got it.
 */
size_t fanout_publish(struct fanout_room *r, const struct pc_wire_hdr *h,
                      struct frame *f, uint32_t except_pipe,
                      int64_t except_user, uint32_t self_pipe);
/* The number of user's pipes subscribed to r. */
size_t fanout_user_pipes_in(const struct fanout_room *r, int64_t user);

/* Iterates rooms: start with *pos = 0; non-zero while it returns a room. The
 * set must not change while iterating. */
int fanout_next(size_t *pos, struct fanout_room **r);
size_t fanout_count(void);

#endif

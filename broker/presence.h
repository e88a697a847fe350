/*
 * presence.h: who is online in which room: room -> user -> how many of the
 * user's sockets are subscribed there (contract section 4: a `presence`
 * event when a user's first socket joins a room or the last one leaves).
 *
 * Counts only; the events themselves are rendered and sent by the caller.
 * A worker pipe that dies is taken out of every room it was in by the same
 * path as a leave. Main thread only.
 */
#ifndef PIPECHAT_BROKER_PRESENCE_H
#define PIPECHAT_BROKER_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* One more socket of user in room. Returns 1 when it is the user's first
 * there, 0 when not, -1 on ENOMEM (nothing counted). */
int presence_join(int64_t room, int64_t user, const char *username);
/* One socket fewer. Returns 1 when it was the user's last there, else 0. */
int presence_leave(int64_t room, int64_t user);
/* The users online in room, up to max, into out (usernames borrowed until
 * the next change); returns how many were written. */
size_t presence_online(int64_t room, struct frame_user *out, size_t max);
/* The number of users online in room. */
size_t presence_count(int64_t room);
/* Forgets room (its users are no longer online there). */
void presence_drop(int64_t room);
/* Forgets everything. */
void presence_fini(void);

#endif

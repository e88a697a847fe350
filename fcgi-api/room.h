/*
 * room.h: what a user may see of a room, and the room object the API
 * returns, shared by h_rooms.c and h_messages.c.
 *
 * A room is visible to a user when it is public or the user is a member;
 * anything else is answered exactly like a room that does not exist (404),
 * so existence does not leak (contract section 8). The room object is
 * {id, name, kind, member_count, last_seq, unread, joined}; a direct room's
 * name is the other member's username ("deleted user" once deleted).
 */
#ifndef PIPECHAT_API_ROOM_H
#define PIPECHAT_API_ROOM_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"

#define ROOM_DELETED_USER "deleted user"

/*
 * The visibility rule in SQL, once: FROM … WHERE text that yields room `room`
 * (an SQL value) as `r`, with the viewer's membership row as `m` (NULL
 * columns when not a member), only when `user` (an SQL value) may see it.
 * room_lookup runs it alone; history puts it in its one statement.
 */
#define ROOM_VISIBLE(user, room)                                               \
	" rooms r LEFT JOIN room_members m ON m.room_id = r.id"                \
	" AND m.user_id = " user " WHERE r.id = " room                         \
	" AND (r.kind = 'public' OR m.user_id IS NOT NULL)"

struct room_view {
	int64_t id;
	char kind[8]; /* public, private, direct */
	int member;   /* the user is a member */
	int owner;    /* ... with role owner */
	int64_t last_seq;
	int64_t last_read_seq; /* 0 when not a member */
};

/* Looks room_id up for user_id. PC_OK and *out when visible;
 * PC_ERR_NOT_FOUND when absent or not visible; PC_ERR_UNAVAILABLE. */
enum pc_err room_lookup(struct db *db, int64_t user_id, int64_t room_id,
                        struct room_view *out);

/*
 * Rooms user_id can see with id > after, ascending, at most limit (1-200).
 * PC_OK and *out = {rooms:[…], next} (the caller deletes it);
 * PC_ERR_UNAVAILABLE, PC_ERR_NOMEM.
 */
enum pc_err room_list(struct db *db, int64_t user_id, int64_t after,
                      int64_t limit, cJSON **out);

/* The room object of room_id as user_id sees it. PC_OK and *out (the
 * caller deletes it); PC_ERR_NOT_FOUND when not visible; others. */
enum pc_err room_object(struct db *db, int64_t user_id, int64_t room_id,
                        cJSON **out);

/* Non-zero when kind is the text "direct" (and so on): small readability
 * helpers on struct room_view. */
int room_is_direct(const struct room_view *r);
int room_is_public(const struct room_view *r);

/*
 * Removes user_id from room_id, inside the caller's transaction (the room
 * row is locked, so concurrent removals see each other). An owner leaving
 * passes ownership to the longest-standing member (joined_at, then user
 * id); the last member leaving a private room deletes it (public rooms
 * stay). PC_OK and *changed (1 when the owner changed or the room was
 * deleted: tell the broker with notify_room_changed after the commit);
 * PC_ERR_NOT_FOUND (not a member); PC_ERR_CANNOT_LEAVE_DIRECT;
 * PC_ERR_UNAVAILABLE.
 */
enum pc_err room_remove_member(struct db *db, int64_t room_id, int64_t user_id,
                               int *changed);

/* Sends user_id the event {"type":"room","room":{…}} with the room as that
 * user sees it (a new direct room, an accepted invitation). Best effort:
 * failures are logged. */
void room_tell_user(struct db *db, int64_t user_id, int64_t room_id);
/* The same to every member of room_id, each with their own view (a
 * rename). */
void room_tell_members(struct db *db, int64_t room_id);

#endif

/*
 * notify.h: the API's one-way channel to the broker, so that live sockets
 * follow what the API changes (contract section 1): revoked sessions close,
 * membership changes reach subscriptions, events reach members.
 *
 * Fire and forget: a notification that cannot be sent is logged and dropped;
 * the database stays the record, and the API's answer never waits for or
 * depends on the broker. Every function is safe to call from any request
 * thread at once. Strings are borrowed for the duration of the call.
 */
#ifndef PIPECHAT_API_NOTIFY_H
#define PIPECHAT_API_NOTIFY_H

#include <stdint.h>

#include "err.h"
#include "settings.h"

/* Opens the channel to every broker of set->shards (none: every
 * notification is dropped); each notification goes to the broker that
 * owns its room or user, revocations to all (notify.c). Before the request
 * threads start. Never fatal: PC_OK even when a broker is not up yet (it
 * dials in the background). set is borrowed for the call. */
enum pc_err notify_open(const struct api_settings *set);
/* Closes the channel; after the request threads are joined. */
void notify_close(void);

/* Session sid (a uuid string) was revoked: its sockets close. */
void notify_session_revoked(const char *sid);
/* Every session of user_id was revoked. */
void notify_user_revoked(int64_t user_id);
/* user_id became a member of room_id (join, accepted invite, new DM). */
void notify_member_joined(int64_t room_id, int64_t user_id);
/* user_id stopped being a member of room_id (leave, kick). */
void notify_member_left(int64_t room_id, int64_t user_id);
/* room_id was renamed, changed owner or was deleted. */
void notify_room_changed(int64_t room_id);
/* A finished frame line (JSON, no newline) for room_id's subscribers. */
void notify_room_event(int64_t room_id, const char *line);
/* A finished frame line (JSON, no newline) for all sockets of user_id. */
void notify_user_event(int64_t user_id, const char *line);

/* user_id was removed from room_id by its owner: as notify_member_left,
 * flagged PC_WIRE_F_KICKED. */
void notify_member_kicked(int64_t room_id, int64_t user_id);
/* room_id was deleted with its history: as notify_room_changed, flagged
 * PC_WIRE_F_DELETED, so its subscribers are sent `removed`. */
void notify_room_deleted(int64_t room_id);

#endif

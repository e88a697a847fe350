/*
 * event.h: live events the API sends through the broker (contract section
 * 4: invite, room, edited, deleted, read…): a frame is a JSON object with
 * "type" and its fields at the top level, printed once and handed to
 * notify.h as a finished line.
 *
 * Like every notification, an event that cannot be built or sent is logged
 * and dropped: the change it reports is already committed, and the client
 * finds it over HTTP. Not for the transport itself (notify.c).
 */
#ifndef PIPECHAT_API_EVENT_H
#define PIPECHAT_API_EVENT_H

#include <stdint.h>
#include <cjson/cJSON.h>

/* A new frame object {"type": type}, or NULL on ENOMEM. */
cJSON *event_new(const char *type);

/* Prints ev (NULL allowed: nothing is sent) and sends it to every socket of
 * user_id, or to the subscribers of room_id. ev stays the caller's. */
void event_to_user(int64_t user_id, const cJSON *ev);
void event_to_room(int64_t room_id, const cJSON *ev);

/* {"type": type, key: obj} to user_id, obj borrowed; a shortcut for
 * `invite` and `room` frames. */
void event_wrap_to_user(int64_t user_id, const char *type, const char *key,
                        const cJSON *obj);

#endif

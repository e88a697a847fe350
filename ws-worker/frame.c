/*
 * frame.c: renders the worker's own frames (frame.h) with cJSON, so every
 * string is escaped by one serialiser. Not on the hot path: messages, acks
 * and events arrive already rendered by the broker.
 */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "json.h"

/* Prints obj and deletes it; NULL when obj is NULL or printing failed. */
static char *
frame_finish(cJSON *obj, int ok)
{
	char *s = NULL;

	if (obj != NULL && ok)
		s = pc_json_print(obj);
	cJSON_Delete(obj);
	return s;
}

char *
ws_frame_error(enum pc_err e, const char *message, const char *ref,
               const char *field, int64_t retry_after_ms)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;

	if (message == NULL)
		message = pc_err_message(e);
	ok = ok && cJSON_AddStringToObject(o, "type", "error") != NULL;
	ok = ok && cJSON_AddStringToObject(o, "code", pc_err_code(e)) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "message", message) != NULL;
	if (ref != NULL)
		ok = ok && cJSON_AddStringToObject(o, "ref", ref) != NULL;
	else
		ok = ok && cJSON_AddNullToObject(o, "ref") != NULL;
	if (field != NULL)
		ok = ok && cJSON_AddStringToObject(o, "field", field) != NULL;
	if (retry_after_ms >= 0)
		ok = ok && pc_json_add_int(o, "retry_after_ms", retry_after_ms);
	return frame_finish(o, ok);
}

char *
ws_frame_hello(int64_t user_id, const char *username, const char *session)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *u = NULL;
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "type", "hello") != NULL;
	ok = ok && (u = cJSON_AddObjectToObject(o, "user")) != NULL;
	ok = ok && pc_json_add_int(u, "id", user_id);
	ok = ok && cJSON_AddStringToObject(u, "username", username) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "session", session) != NULL;
	return frame_finish(o, ok);
}

char *
ws_frame_gap(int64_t room, int64_t from, int64_t to)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "type", "gap") != NULL;
	ok = ok && pc_json_add_int(o, "room", room);
	ok = ok && pc_json_add_int(o, "from", from);
	ok = ok && pc_json_add_int(o, "to", to);
	return frame_finish(o, ok);
}

char *
ws_frame_removed(int64_t room)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "type", "removed") != NULL;
	ok = ok && pc_json_add_int(o, "room", room);
	return frame_finish(o, ok);
}

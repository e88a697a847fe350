/*
 * event.c: live event frames for the broker (event.h).
 */
#include <stdlib.h>

#include "event.h"
#include "json.h"
#include "log.h"
#include "notify.h"

cJSON *
event_new(const char *type)
{
	cJSON *ev = cJSON_CreateObject();

	if (ev != NULL && cJSON_AddStringToObject(ev, "type", type) == NULL) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

/* The line of ev, or NULL (logged). */
static char *
event_line(const cJSON *ev)
{
	char *line;

	if (ev == NULL) {
		pc_log_warn("an event was lost: out of memory");
		return NULL;
	}
	if ((line = pc_json_print(ev)) == NULL)
		pc_log_warn("an event was lost: out of memory");
	return line;
}

void
event_to_user(int64_t user_id, const cJSON *ev)
{
	char *line = event_line(ev);

	if (line != NULL)
		notify_user_event(user_id, line);
	free(line);
}

void
event_to_room(int64_t room_id, const cJSON *ev)
{
	char *line = event_line(ev);

	if (line != NULL)
		notify_room_event(room_id, line);
	free(line);
}

void
event_wrap_to_user(int64_t user_id, const char *type, const char *key,
                   const cJSON *obj)
{
	cJSON *ev = event_new(type), *copy = NULL;

	if (ev != NULL && obj != NULL &&
	    (copy = cJSON_Duplicate(obj, 1)) != NULL)
		cJSON_AddItemToObject(ev, key, copy);
	event_to_user(user_id, copy != NULL ? ev : NULL);
	cJSON_Delete(ev);
}

/*
 * presence.c: per-room socket counts by user (presence.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "idmap.h"
#include "presence.h"
#include "valid.h"

struct presence_user {
	int64_t id;
	size_t count;
	char username[PC_USERNAME_MAX + 1];
};

struct presence_room {
	struct idmap users; /* id -> struct presence_user */
};

static struct idmap pr_rooms; /* room id -> struct presence_room */

int
presence_join(int64_t room, int64_t user, const char *username)
{
	struct presence_room *r = idmap_get(&pr_rooms, room);
	struct presence_user *u;

	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return -1;
		if (idmap_put(&pr_rooms, room, r) != PC_OK) {
			free(r);
			return -1;
		}
	}
	if ((u = idmap_get(&r->users, user)) != NULL) {
		u->count++;
		return 0;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto fail;
	u->id = user;
	u->count = 1;
	snprintf(u->username, sizeof(u->username), "%s", username);
	if (idmap_put(&r->users, user, u) != PC_OK) {
		free(u);
		goto fail;
	}
	return 1;
fail:
	if (r->users.len == 0) {
		idmap_del(&pr_rooms, room);
		idmap_free(&r->users);
		free(r);
	}
	return -1;
}

int
presence_leave(int64_t room, int64_t user)
{
	struct presence_room *r = idmap_get(&pr_rooms, room);
	struct presence_user *u;

	if (r == NULL || (u = idmap_get(&r->users, user)) == NULL)
		return 0;
	if (--u->count > 0)
		return 0;
	free(idmap_del(&r->users, user));
	if (r->users.len == 0) {
		idmap_del(&pr_rooms, room);
		idmap_free(&r->users);
		free(r);
	}
	return 1;
}

size_t
presence_online(int64_t room, struct frame_user *out, size_t max)
{
	struct presence_room *r = idmap_get(&pr_rooms, room);
	struct presence_user *u;
	int64_t key;
	void *val;
	size_t pos = 0, n = 0;

	if (r == NULL)
		return 0;
	while (n < max && idmap_next(&r->users, &pos, &key, &val)) {
		u = val;
		out[n].id = u->id;
		out[n].username = u->username;
		n++;
	}
	return n;
}

size_t
presence_count(int64_t room)
{
	struct presence_room *r = idmap_get(&pr_rooms, room);

	return r != NULL ? r->users.len : 0;
}

static void
presence_room_free(struct presence_room *r)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	while (idmap_next(&r->users, &pos, &key, &val))
		free(val);
	idmap_free(&r->users);
	free(r);
}

void
presence_drop(int64_t room)
{
	struct presence_room *r = idmap_del(&pr_rooms, room);

	if (r != NULL)
		presence_room_free(r);
}

void
presence_fini(void)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	while (idmap_next(&pr_rooms, &pos, &key, &val))
		presence_room_free(val);
	idmap_free(&pr_rooms);
}

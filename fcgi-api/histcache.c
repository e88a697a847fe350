/*
 * histcache.c: each request thread's copies of history pages and the
 * versions they were built at (histcache.h). Not for deciding whether a
 * copy is current: the caller's statement reads the version.
 */
#include <stdlib.h>
#include <string.h>

#include "histcache.h"

struct histcache_slot {
	struct histcache_key key;
	struct histcache_ver ver;
	char *body; /* malloc'd; NULL: empty slot */
	size_t len;
	int confirmed; /* histcache_confirm since histcache_put */
};

static _Thread_local struct histcache_slot histcache_slots[HISTCACHE_SLOTS];

static struct histcache_slot *
histcache_slot(const struct histcache_key *key)
{
	uint64_t h;

	/* FNV-style mixing of the four fields; only spreads keys. */
	h = 1469598103934665603ULL;
	h = (h ^ (uint64_t)key->room) * 1099511628211ULL;
	h = (h ^ (uint64_t)key->bound) * 1099511628211ULL;
	h = (h ^ (uint64_t)key->limit) * 1099511628211ULL;
	h = (h ^ (uint64_t)key->ascending) * 1099511628211ULL;
	h ^= h >> 29;
	return &histcache_slots[h % HISTCACHE_SLOTS];
}

static int
histcache_same_key(const struct histcache_key *a, const struct histcache_key *b)
{
	return a->room == b->room && a->bound == b->bound &&
	       a->limit == b->limit && a->ascending == b->ascending;
}

const char *
histcache_get(const struct histcache_key *key, struct histcache_ver *ver,
              size_t *len)
{
	struct histcache_slot *s = histcache_slot(key);

	if (s->body == NULL || !histcache_same_key(&s->key, key))
		return NULL;
	*ver = s->ver;
	*len = s->len;
	return s->body;
}

void
histcache_put(const struct histcache_key *key, const struct histcache_ver *ver,
              const char *body, size_t len)
{
	struct histcache_slot *s = histcache_slot(key);
	char *copy = NULL;

	if (len <= HISTCACHE_BODY_MAX && (copy = malloc(len ? len : 1)) != NULL)
		memcpy(copy, body, len);
	free(s->body);
	memset(s, 0, sizeof(*s));
	if (copy == NULL)
		return;
	s->key = *key;
	s->ver = *ver;
	s->body = copy;
	s->len = len;
}

int
histcache_confirmed(const struct histcache_key *key)
{
	struct histcache_slot *s = histcache_slot(key);

	return s->body != NULL && histcache_same_key(&s->key, key) &&
	       s->confirmed;
}

void
histcache_confirm(const struct histcache_key *key)
{
	struct histcache_slot *s = histcache_slot(key);

	if (s->body != NULL && histcache_same_key(&s->key, key))
		s->confirmed = 1;
}

void
histcache_thread_free(void)
{
	size_t i;

	for (i = 0; i < HISTCACHE_SLOTS; i++) {
		free(histcache_slots[i].body);
		memset(&histcache_slots[i], 0, sizeof(histcache_slots[i]));
	}
}

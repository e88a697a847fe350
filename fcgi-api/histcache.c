/*
 * histcache.c: each request thread's copies of history pages and the
 * versions they were built at (histcache.h). Not for deciding whether a
 * copy is current: the caller's statement reads the version.
 */
#include <stdlib.h>
#include <string.h>

#include "histcache.h"
#include "token.h"

/* A session the copy is vouched for (histcache_vouch). */
struct histcache_viewer {
	char sid[PC_SID_MAX + 1]; /* "": an empty place */
	int64_t uid;
	struct stamp st;
	int64_t at_ms;
};

struct histcache_slot {
	struct histcache_key key;
	struct histcache_ver ver;
	char *body; /* malloc'd; NULL: empty slot */
	size_t len;
	int confirmed; /* histcache_confirm since histcache_put */
	struct histcache_viewer viewers[HISTCACHE_VIEWERS];
	unsigned next_viewer; /* the place the next new session takes */
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

/* The slot holding key's copy, or NULL. */
static struct histcache_slot *
histcache_find(const struct histcache_key *key)
{
	struct histcache_slot *s = histcache_slot(key);

	return s->body != NULL && histcache_same_key(&s->key, key) ? s : NULL;
}

const char *
histcache_get(const struct histcache_key *key, struct histcache_ver *ver,
              size_t *len)
{
	const struct histcache_slot *s = histcache_find(key);

	if (s == NULL)
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
	const struct histcache_slot *s = histcache_find(key);

	return s != NULL && s->confirmed;
}

void
histcache_confirm(const struct histcache_key *key)
{
	struct histcache_slot *s = histcache_find(key);

	if (s != NULL)
		s->confirmed = 1;
}

void
histcache_vouch(const struct histcache_key *key, const char *sid, int64_t uid,
                const struct stamp *st, int64_t now_ms)
{
	struct histcache_slot *s = histcache_find(key);
	struct histcache_viewer *v = NULL;
	size_t i;

	if (s == NULL || !st->on || strlen(sid) > PC_SID_MAX)
		return; /* no copy, boards off, or no sid to match */
	for (i = 0; i < HISTCACHE_VIEWERS && v == NULL; i++)
		if (s->viewers[i].uid == uid &&
		    strcmp(s->viewers[i].sid, sid) == 0)
			v = &s->viewers[i];
	if (v == NULL)
		v = &s->viewers[s->next_viewer++ % HISTCACHE_VIEWERS];
	strcpy(v->sid, sid);
	v->uid = uid;
	v->st = *st;
	v->at_ms = now_ms;
}

int
histcache_vouched(const struct histcache_key *key, const char *sid, int64_t uid,
                  const struct stamp *st, int64_t now_ms)
{
	const struct histcache_slot *s = histcache_find(key);
	const struct histcache_viewer *v;
	size_t i;

	if (s == NULL || !st->on)
		return 0;
	for (i = 0; i < HISTCACHE_VIEWERS; i++) {
		v = &s->viewers[i];
		if (v->sid[0] != '\0' && v->uid == uid &&
		    strcmp(v->sid, sid) == 0)
			return v->st.global == st->global &&
			       v->st.room == st->room && now_ms >= v->at_ms &&
			       now_ms - v->at_ms < HISTCACHE_VOUCH_MS;
	}
	return 0;
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

/*
 * recent.c: the per-room ring of rendered messages (recent.h).
 */
#include <assert.h>
#include <stdlib.h>

#include "recent.h"

void
recent_init(struct recent *r, size_t cap)
{
	assert(cap >= 1);
	r->slots = NULL;
	r->cap = cap;
	r->head = r->count = 0;
	r->first = 0;
}

void
recent_clear(struct recent *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		frame_unref(r->slots[(r->head + i) % r->cap]);
		r->slots[(r->head + i) % r->cap] = NULL;
	}
	r->head = r->count = 0;
	r->first = 0;
}

void
recent_free(struct recent *r)
{
	if (r == NULL || r->slots == NULL)
		return;
	recent_clear(r);
	free(r->slots);
	r->slots = NULL;
}

int64_t
recent_first(const struct recent *r)
{
	return r->count > 0 ? r->first : 0;
}

int64_t
recent_last(const struct recent *r)
{
	return r->count > 0 ? r->first + (int64_t)r->count - 1 : 0;
}

enum pc_err
recent_push(struct recent *r, int64_t seq, struct frame *f)
{
	size_t slot;

	if (r->slots == NULL &&
	    (r->slots = calloc(r->cap, sizeof(*r->slots))) == NULL)
		return PC_ERR_NOMEM;
	if (r->count > 0 && seq != recent_last(r) + 1)
		recent_clear(r);
	if (r->count == 0) {
		r->head = 0;
		r->first = seq;
	}
	if (r->count == r->cap) {
		frame_unref(r->slots[r->head]);
		r->slots[r->head] = NULL;
		r->head = (r->head + 1) % r->cap;
		r->first++;
		r->count--;
	}
	slot = (r->head + r->count) % r->cap;
	r->slots[slot] = frame_ref(f);
	r->count++;
	return PC_OK;
}

struct frame *
recent_get(const struct recent *r, int64_t seq)
{
	if (r->count == 0 || seq < r->first || seq > recent_last(r))
		return NULL;
	return r->slots[(r->head + (size_t)(seq - r->first)) % r->cap];
}

int
recent_covers(const struct recent *r, int64_t lo, int64_t hi)
{
	if (lo > hi)
		return 1;
	return r->count > 0 && lo >= r->first && hi <= recent_last(r);
}

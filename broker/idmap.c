/*
 * idmap.c: open-addressing hash map from positive ids to pointers (idmap.h).
 * The table doubles at 50% load; deletion shifts followers back so that a
 * probe sequence never has holes.
 */
#include <assert.h>
#include <stdlib.h>

#include "idmap.h"

static size_t
idmap_hash(int64_t key, size_t cap)
{
	uint64_t x = (uint64_t)key;

	/* splitmix64's finaliser: ids are sequential, spread them. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & (cap - 1);
}

void *
idmap_get(const struct idmap *m, int64_t key)
{
	size_t i;

	if (m->cap == 0 || key <= 0)
		return NULL;
	for (i = idmap_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key)
			return m->slots[i].val;
		if (m->slots[i].key == 0)
			return NULL;
	}
}

static void
idmap_insert(struct idmap_slot *slots, size_t cap, int64_t key, void *val)
{
	size_t i;

	for (i = idmap_hash(key, cap);; i = (i + 1) & (cap - 1)) {
		if (slots[i].key == 0 || slots[i].key == key) {
			slots[i].key = key;
			slots[i].val = val;
			return;
		}
	}
}

static enum pc_err
idmap_grow(struct idmap *m)
{
	struct idmap_slot *slots;
	size_t cap, i;

	cap = m->cap == 0 ? 16 : m->cap * 2;
	if (cap < m->cap || (slots = calloc(cap, sizeof(*slots))) == NULL)
		return PC_ERR_NOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key != 0)
			idmap_insert(slots, cap, m->slots[i].key,
			             m->slots[i].val);
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return PC_OK;
}

enum pc_err
idmap_put(struct idmap *m, int64_t key, void *val)
{
	assert(key > 0 && val != NULL);
	if (idmap_get(m, key) != NULL) {
		idmap_insert(m->slots, m->cap, key, val);
		return PC_OK;
	}
	if ((m->len + 1) * 2 > m->cap && idmap_grow(m) != PC_OK)
		return PC_ERR_NOMEM;
	idmap_insert(m->slots, m->cap, key, val);
	m->len++;
	return PC_OK;
}

void *
idmap_del(struct idmap *m, int64_t key)
{
	size_t i, j, h;
	void *val;

	if (m->cap == 0 || key <= 0)
		return NULL;
	for (i = idmap_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == 0)
			return NULL;
		if (m->slots[i].key == key)
			break;
	}
	val = m->slots[i].val;
	/* Backward shift: move later members of the cluster into the hole
	 * when their home slot does not lie cyclically in (i, j]. */
	for (j = (i + 1) & (m->cap - 1); m->slots[j].key != 0;
	     j = (j + 1) & (m->cap - 1)) {
		h = idmap_hash(m->slots[j].key, m->cap);
		if ((j > i && (h <= i || h > j)) ||
		    (j < i && (h <= i && h > j))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].val = NULL;
	m->len--;
	return val;
}

int
idmap_next(const struct idmap *m, size_t *pos, int64_t *key, void **val)
{
	for (; *pos < m->cap; (*pos)++) {
		if (m->slots[*pos].key != 0) {
			*key = m->slots[*pos].key;
			*val = m->slots[*pos].val;
			(*pos)++;
			return 1;
		}
	}
	return 0;
}

void
idmap_free(struct idmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}

/*
 * idmap.h: a hash map from a positive 64-bit id (room, user, pipe) to a
 * pointer, the one index structure of the broker's main thread.
 *
 * Open addressing with linear probing and backward-shift deletion, so there
 * are no tombstones and lookups stay short after churn. Not thread-safe: each
 * map belongs to one thread. The map never owns the values.
 */
#ifndef PIPECHAT_BROKER_IDMAP_H
#define PIPECHAT_BROKER_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct idmap_slot {
	int64_t key; /* 0: empty */
	void *val;
};

struct idmap {
	struct idmap_slot *slots; /* NULL until the first put */
	size_t cap;               /* a power of two, or 0 */
	size_t len;
};

/* The value for key (> 0), or NULL. */
void *idmap_get(const struct idmap *m, int64_t key);
/* Sets key (> 0) to val (not NULL), replacing any value. PC_OK or
 * PC_ERR_NOMEM (m unchanged). */
enum pc_err idmap_put(struct idmap *m, int64_t key, void *val);
/* Removes key; returns its value, or NULL when absent. */
void *idmap_del(struct idmap *m, int64_t key);
/*
 * Iteration: start with *pos = 0; each call returns non-zero and writes the
 * next key and value, or 0 at the end. The map must not change while
 * iterating: collect the keys to delete first.
 */
int idmap_next(const struct idmap *m, size_t *pos, int64_t *key, void **val);
/* Frees the slots (not the values); m may be zeroed. */
void idmap_free(struct idmap *m);

#endif

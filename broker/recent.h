/*
 * recent.h: a room's most recent rendered messages, contiguous by seq, so a
 * join with `since` and a worker's FETCH are answered from memory instead of
 * PostgreSQL (contract section 4, delivery).
 *
 * A ring of frame references holding seqs first..last with no hole. Pushing a
 * seq that does not follow the last one empties the ring first (the ring
 * never claims to hold what it does not). It is a cache, not the record: any
 * doubt (an edit, a delete, an uncertain commit) clears it, and readers fall
 * back to the database. Single-threaded (the broker's main thread).
 */
#ifndef PIPECHAT_BROKER_RECENT_H
#define PIPECHAT_BROKER_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define RECENT_CAP 640 /* > the 500 a join replays, with room to spare */

struct recent {
	struct frame **slots; /* cap entries, NULL until the first push */
	size_t cap;
	size_t head; /* slot of seq `first` */
	size_t count;
	int64_t first; /* seq in slots[head]; meaningless when count is 0 */
};

/* Sets up an empty ring of cap (>= 1) entries; memory comes on first push. */
void recent_init(struct recent *r, size_t cap);
/* Adds seq's frame (takes a new reference). A seq that is not last + 1
 * clears the ring first. The oldest entry goes when the ring is full.
 * PC_OK or PC_ERR_NOMEM (ring unchanged). */
enum pc_err recent_push(struct recent *r, int64_t seq, struct frame *f);
/* The frame of seq (borrowed), or NULL when not held. */
struct frame *recent_get(const struct recent *r, int64_t seq);
/* Non-zero when every seq in [lo, hi] is held (lo > hi: trivially true). */
int recent_covers(const struct recent *r, int64_t lo, int64_t hi);
/* Lowest and highest seq held; 0 when empty. */
int64_t recent_first(const struct recent *r);
int64_t recent_last(const struct recent *r);
/* Drops every entry. */
void recent_clear(struct recent *r);
/* Drops every entry and frees the slots; r may be zeroed. */
void recent_free(struct recent *r);

#endif

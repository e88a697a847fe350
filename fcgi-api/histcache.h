/*
 * histcache.h: history pages kept by each request thread, served again only
 * while the database says they are still exactly what it holds. Not a
 * session or membership cache: the statement that asks "is my copy still
 * current?" is the same one that checks the session and the room's
 * visibility on every request (h_messages.c), so a revoked session or a
 * lost membership is refused exactly as without the cache.
 *
 * A page's answer ({"messages":[…],"has_more":…}) depends only on the room,
 * the direction, the bound and the limit, and on the database: the room's
 * messages and their authors' names. sql/0005_history_version.sql keeps a
 * version of those that every change moves in its own transaction
 * (rooms.last_seq, rooms.hist_ver, history_epoch.v). A copy is used only
 * when the version read in the request's statement equals the one read in
 * the statement that built the copy; otherwise the statement has already
 * returned the fresh page, which replaces the copy. So a message committed
 * (acked) before the request, or an edit or delete that answered before
 * it, is always in the answer.
 *
 * Each thread has its own slots (no lock, no sharing): HISTCACHE_SLOTS
 * pages of at most HISTCACHE_BODY_MAX bytes each, direct-mapped by a hash
 * of the key (a collision replaces the older page). Larger pages are not
 * kept. Memory: at most HISTCACHE_SLOTS * HISTCACHE_BODY_MAX per thread.
 */
#ifndef PIPECHAT_API_HISTCACHE_H
#define PIPECHAT_API_HISTCACHE_H

#include <stddef.h>
#include <stdint.h>

#define HISTCACHE_SLOTS    64
#define HISTCACHE_BODY_MAX (64 * 1024)

struct histcache_key {
	int64_t room;
	int64_t bound; /* before (or INT64_MAX), or after */
	int64_t limit;
	int ascending; /* after= */
};

/* The database's version of a room's history (sql/0005). */
struct histcache_ver {
	int64_t last_seq;
	int64_t hist_ver;
	int64_t epoch;
};

/*
 * This thread's copy of key's page. Returns its body (len bytes in *len,
 * borrowed until the next histcache_put or histcache_thread_free on this
 * thread) and sets *ver; NULL when there is none (ver and len untouched).
 */
const char *histcache_get(const struct histcache_key *key,
                          struct histcache_ver *ver, size_t *len);

/*
 * Keeps a copy of body (len bytes) as key's page at version ver, replacing
 * what its slot held. Over HISTCACHE_BODY_MAX, or out of memory, nothing is
 * kept (and the slot is emptied). Never fails visibly: a page not kept is
 * only built again.
 */
void histcache_put(const struct histcache_key *key,
                   const struct histcache_ver *ver, const char *body,
                   size_t len);

/*
 * Whether a request has found key's copy current since it was kept
 * (histcache_confirm): a copy read again unchanged is likely to be so
 * again, and h_messages.c then asks the cheaper question first. 0 without
 * a copy; a new copy (histcache_put) starts unconfirmed.
 */
int histcache_confirmed(const struct histcache_key *key);
/* Marks key's copy as found current (nothing without a copy). */
void histcache_confirm(const struct histcache_key *key);

/* Frees this thread's copies (at thread exit; the cache stays usable). */
void histcache_thread_free(void);

#endif

/*
 * histcache.h: history pages kept by each request thread, served again only
 * while the database says they are still exactly what it holds. The
 * statement that asks "is my copy still current?" is the same one that
 * checks the session and the room's visibility (h_messages.c), so a revoked
 * session or a lost membership is refused exactly as without the cache.
 * The one exception is a vouched copy (below): answered without any
 * statement, only while the change boards (common/board.h) show that
 * pipechat has written nothing since the session's own last check.
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

#include "stamp.h"

#define HISTCACHE_SLOTS    64
#define HISTCACHE_BODY_MAX (64 * 1024)
/* Sessions a copy can be vouched for at once (the oldest is replaced). */
#define HISTCACHE_VIEWERS 4
/* How long a vouch holds at most, even with the boards unmoved: the bound
 * on what a change the boards do not see (an UPDATE typed into psql) can
 * take to reach a thread's answers. Also keeps last_seen_at refreshed
 * (session_confirm runs at least this often per session). */
#define HISTCACHE_VOUCH_MS 1000

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

/*
 * Vouched copies (fcgi-api/README.md, "Round 4"). A request whose statement
 * found session sid of user uid live, the room visible to uid and key's copy
 * current (or built the copy) vouches for the copy for that session, with
 * the boards' counters `st` it read BEFORE the statement (stamp.h) and the
 * time now_ms. A later request of the same session may take the copy
 * without any statement while histcache_vouched says yes: the same counters
 * (nothing written since by pipechat: no message in the room, no unsafe
 * request, no notification, so the session, the membership and the page
 * are as checked) and less than HISTCACHE_VOUCH_MS ago. Nothing is vouched
 * when boards are off (st->on 0). Each copy keeps HISTCACHE_VIEWERS
 * sessions; a new copy (histcache_put) starts with none.
 */
void histcache_vouch(const struct histcache_key *key, const char *sid,
                     int64_t uid, const struct stamp *st, int64_t now_ms);
int histcache_vouched(const struct histcache_key *key, const char *sid,
                      int64_t uid, const struct stamp *st, int64_t now_ms);

/* Frees this thread's copies (at thread exit; the cache stays usable). */
void histcache_thread_free(void);

#endif

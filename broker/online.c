/*
 * online.c: the user_online table kept from the broker's sockets (online.h).
 *
 * Changes are coalesced in a set of user ids (idmap with a dummy value) and
 * resolved to counts only when flushed, through auth_user_pipes, so a user
 * who opens and closes a tab within the second costs nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "idmap.h"
#include "log.h"
#include "online.h"

#define ONLINE_RETRY_MS 5000 /* after a failed write, wait this long */
#define ONLINE_BEAT_MS  5000 /* sharded: write at least this often */

static struct {
	struct idmap dirty; /* user id -> &dirty_mark */
	int full;           /* the next flush rewrites the whole table */
	int in_flight;      /* a job is queued and not answered yet */
	int64_t not_before; /* monotonic ms: no flush before this */
	size_t nshards, me; /* sharded when nshards > 1: own user % n == me */
	int64_t next_beat;  /* sharded: monotonic ms of the next heartbeat */
} on;

static char dirty_mark;

void
online_init(void)
{
	memset(&on, 0, sizeof(on));
	on.full = 1;
}

void
online_fini(void)
{
	idmap_free(&on.dirty);
	memset(&on, 0, sizeof(on));
}

void
online_set_shard(size_t n, size_t me)
{
	on.nshards = n;
	on.me = me;
}

/* Is user's row this broker's to write? */
static int
online_owns(int64_t user)
{
	return on.nshards <= 1 || (size_t)((uint64_t)user % on.nshards) == on.me;
}

void
online_touch(int64_t user)
{
	if (on.full || user <= 0 || !online_owns(user))
		return; /* the rewrite will see it, or not ours */
	if (idmap_put(&on.dirty, user, &dirty_mark) != PC_OK)
		on.full = 1; /* out of memory: rewrite it all later */
}

/* Fills j->ids/counts from every user with sockets (full) or the dirty set. */
static enum pc_err
online_collect(struct store_job *j)
{
	size_t n = 0, pos = 0, cap;
	const uint32_t *p;
	int64_t user, npipes;
	void *val;

	cap = on.full ? auth_user_count() : on.dirty.len;
	if (cap == 0)
		return PC_OK;
	if ((j->ids = calloc(cap, sizeof(*j->ids))) == NULL ||
	    (j->counts = calloc(cap, sizeof(*j->counts))) == NULL)
		return PC_ERR_NOMEM;
	if (on.full) {
		while (n < cap && auth_next_user(&pos, &user, &npipes)) {
			if (!online_owns(user))
				continue;
			j->ids[n] = user;
			j->counts[n++] = npipes;
		}
	} else {
		while (n < cap && idmap_next(&on.dirty, &pos, &user, &val)) {
			j->ids[n] = user;
			j->counts[n++] = (int64_t)auth_user_pipes(user, &p);
		}
	}
	j->nids = n;
	return PC_OK;
}

void
online_flush(void)
{
	struct store_job *j;
	int64_t now = pc_clock_mono_ms();

	if (on.in_flight || now < on.not_before ||
	    (!on.full && on.dirty.len == 0 &&
	     (on.nshards <= 1 || now < on.next_beat)))
		return;
	on.next_beat = now + ONLINE_BEAT_MS;
	if ((j = store_job_new(STORE_ONLINE)) == NULL)
		return;
	j->aux = on.full;
	if (online_collect(j) != PC_OK || store_submit(j) != PC_OK) {
		store_job_free(j);
		on.full = 1;
		on.not_before = now + ONLINE_RETRY_MS;
		return;
	}
	idmap_free(&on.dirty);
	memset(&on.dirty, 0, sizeof(on.dirty));
	on.full = 0;
	on.in_flight = 1;
}

void
online_done(const struct store_job *j)
{
	on.in_flight = 0;
	if (j->err == PC_OK)
		return;
	pc_log_warn("user_online not written (%s); rewriting it later",
	            pc_err_code(j->err));
	on.full = 1;
	idmap_free(&on.dirty);
	memset(&on.dirty, 0, sizeof(on.dirty));
	on.not_before = pc_clock_mono_ms() + ONLINE_RETRY_MS;
}

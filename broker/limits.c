/*
 * limits.c: token buckets (limits.h) in integer milli-tokens: a bucket gains
 * per_sec milli-tokens per millisecond and a request costs 1000, so there is
 * no floating point and no drift.
 */
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "metrics.h"

struct limits_bucket {
	int64_t milli; /* milli-tokens available */
	int64_t at_ms; /* when milli was computed */
};

struct limits_user {
	struct limits_bucket b[LIMITS__MAX];
};

void
limits_init(struct limits *l, const struct pc_limits *cfg)
{
	memset(l, 0, sizeof(*l));
	l->rates[LIMITS_SEND].per_sec = cfg->send_rate;
	l->rates[LIMITS_SEND].burst = cfg->send_burst;
	l->rates[LIMITS_TYPING].per_sec = cfg->typing_rate;
	l->rates[LIMITS_TYPING].burst = cfg->typing_rate * 2;
	l->rates[LIMITS_CALL].per_sec = cfg->call_rate;
	l->rates[LIMITS_CALL].burst = cfg->call_rate * 2;
}

static void
limits_refill(const struct limits_rate *r, struct limits_bucket *b,
              int64_t now_ms)
{
	int64_t cap = r->burst * 1000, dt = now_ms - b->at_ms;

	if (dt > 0) {
		/* dt is bounded so dt * per_sec cannot overflow */
		if (dt > cap / (r->per_sec > 0 ? r->per_sec : 1) + 1)
			b->milli = cap;
		else
			b->milli += dt * r->per_sec;
		if (b->milli > cap)
			b->milli = cap;
		b->at_ms = now_ms;
	}
}

enum pc_err
limits_take(struct limits *l, int64_t user, enum limits_kind k, int64_t now_ms,
            int64_t *retry_after_ms)
{
	const struct limits_rate *r = &l->rates[k];
	struct limits_user *u;
	struct limits_bucket *b;
	int i;

	if ((u = idmap_get(&l->users, user)) == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return PC_ERR_NOMEM;
		for (i = 0; i < LIMITS__MAX; i++) {
			u->b[i].milli = l->rates[i].burst * 1000;
			u->b[i].at_ms = now_ms;
		}
		if (idmap_put(&l->users, user, u) != PC_OK) {
			free(u);
			return PC_ERR_NOMEM;
		}
	}
	b = &u->b[k];
	limits_refill(r, b, now_ms);
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return PC_OK;
	}
	/* ceil((1000 - milli) / per_sec) ms until one whole token */
	*retry_after_ms = (1000 - b->milli + r->per_sec - 1) / r->per_sec;
	if (*retry_after_ms < 1)
		*retry_after_ms = 1;
	metrics_rate_limited(k);
	return PC_ERR_RATE_LIMITED;
}

void
limits_gc(struct limits *l, int64_t now_ms)
{
	int64_t key, *drop = NULL;
	void *val;
	size_t pos = 0, n = 0, i;
	struct limits_user *u;
	int k, full;

	if (l->users.len == 0 ||
	    (drop = calloc(l->users.len, sizeof(*drop))) == NULL)
		return;
	while (idmap_next(&l->users, &pos, &key, &val)) {
		u = val;
		full = 1;
		for (k = 0; k < LIMITS__MAX; k++) {
			limits_refill(&l->rates[k], &u->b[k], now_ms);
			if (u->b[k].milli < l->rates[k].burst * 1000)
				full = 0;
		}
		if (full)
			drop[n++] = key;
	}
	for (i = 0; i < n; i++)
		free(idmap_del(&l->users, drop[i]));
	free(drop);
}

void
limits_free(struct limits *l)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	if (l == NULL)
		return;
	while (idmap_next(&l->users, &pos, &key, &val))
		free(val);
	idmap_free(&l->users);
}

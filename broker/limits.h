/*
 * limits.h: per-user token buckets for sends, typing and call frames
 * (contract section 4: sends 10/s with bursts of 20, typing 2/s and calls
 * 20/s with bursts of twice the rate; all from settings). Kept by the broker
 * so that a user's tabs share one budget.
 *
 * The clock is a parameter (monotonic milliseconds), so tests drive time.
 * Counting limits (rooms per socket, sockets per user) are not here: they
 * are counts the registries keep. Single-threaded.
 */
#ifndef PIPECHAT_BROKER_LIMITS_H
#define PIPECHAT_BROKER_LIMITS_H

#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "idmap.h"

enum limits_kind { LIMITS_SEND, LIMITS_TYPING, LIMITS_CALL, LIMITS__MAX };

struct limits_rate {
	int64_t per_sec; /* tokens added per second */
	int64_t burst;   /* bucket size in tokens */
};

struct limits {
	struct limits_rate rates[LIMITS__MAX];
	struct idmap users; /* user id -> struct limits_user */
};

/* Rates from the settings: send rate/burst, typing and call at twice their
 * rate. */
void limits_init(struct limits *l, const struct pc_limits *cfg);
/*
 * Takes one token of kind k for user at time now_ms. PC_OK, or
 * PC_ERR_RATE_LIMITED with *retry_after_ms (>= 1) saying when the next token
 * is there; PC_ERR_NOMEM (treated by callers as unavailable).
 */
enum pc_err limits_take(struct limits *l, int64_t user, enum limits_kind k,
                        int64_t now_ms, int64_t *retry_after_ms);
/* Forgets users whose buckets are all full again at now_ms (nothing to
 * remember). */
void limits_gc(struct limits *l, int64_t now_ms);
/* Frees everything; l may be zeroed. */
void limits_free(struct limits *l);

#endif

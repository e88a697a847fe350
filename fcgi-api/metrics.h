/*
 * metrics.h: the API's own counters, for GET /api/metrics in Prometheus's
 * text format (version 0.0.4): requests by route pattern and status, a
 * latency histogram by route, and what only the API knows (logins, login
 * failures, throttled answers, registrations).
 *
 * Process-wide, lock-free: every counter is a relaxed atomic, so request
 * threads never wait on each other to count. Counts start at zero with the
 * process (Prometheus handles resets). Not for the broker's or workers'
 * figures, which are theirs to export.
 */
#ifndef PIPECHAT_API_METRICS_H
#define PIPECHAT_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "router.h"

#define METRICS_ROUTES_MAX   64 /* routes counted apart; more share a row */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_counter {
	METRICS_LOGINS,         /* sessions opened by a right password */
	METRICS_LOGIN_FAILURES, /* wrong passwords (login, re-authentication) */
	METRICS_THROTTLED,      /* 429 answers */
	METRICS_REGISTRATIONS,  /* accounts created */
	METRICS_HISTORY_COPY,   /* history pages answered from a current copy */
	METRICS_HISTORY_VOUCHED, /* ... of which without a statement */
	METRICS__MAX
};

/* Monotonic microseconds, for request latency. */
uint64_t metrics_now_us(void);

/* Counts one event. Any thread. */
void metrics_count(enum metrics_counter c);

/*
 * Counts one answered request: route is its row in the table rows (NULL
 * when no route matched), status the HTTP status sent, usec how long it
 * took. Any thread.
 */
void metrics_request(const struct route *rows, const struct route *route,
                     int status, uint64_t usec);

/* Appends every metric, with the route table rows[0..nrows) for labels, to
 * out. PC_OK, PC_ERR_NOMEM or PC_ERR_TOO_LARGE. */
enum pc_err metrics_render(const struct route *rows, size_t nrows,
                           struct pc_buf *out);

/* Zeroes every counter (tests only). */
void metrics_reset(void);

#endif

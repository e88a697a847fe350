/*
 * metrics.h: the broker's own figures for GET /api/metrics (issue 8):
 * messages persisted, group-commit batch sizes and commit times, connected
 * workers, rooms, FETCH replays and gap answers, rate-limit refusals; and
 * the small endpoint that hands them out as Prometheus text (version
 * 0.0.4, every name `pipechat_broker_*`, with HELP and TYPE lines).
 *
 * Counting is lock-free (relaxed atomics), from whichever thread sees the
 * event: the store thread counts commits, the main thread refusals and
 * replays. Gauges (workers, rooms) are read from structures only the main
 * thread may touch, so the main thread copies them here once a second
 * (metrics_sample, from the TICK): a scrape sees them at most a second old.
 *
 * The endpoint is an NNG REP socket on ipc://DIR/metrics (the directory and
 * rules of link.h: 0600, peer uid checked, NNG_OPT_RECVMAXSZ set), served by
 * one small thread, so a scrape never waits on the main loop and the main
 * loop never waits on a scrape. Any request is answered with the whole text.
 * Not here: the API's own figures and the merge of several brokers'
 * answers (fcgi-api/broker_metrics.h).
 */
#ifndef PIPECHAT_BROKER_METRICS_H
#define PIPECHAT_BROKER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "limits.h"

#define METRICS_TEXT_MAX  (64 * 1024) /* the whole answer; see metrics.c */
#define METRICS_ACTIVE_MS 10000 /* "active room": ingest.c's TICK window */

/* Where a gap answer (PC_WIRE_GAP) was sent. */
enum metrics_gap_on { METRICS_GAP_JOIN, METRICS_GAP_FETCH, METRICS_GAP__MAX };

/* What the main thread copies here once a second. */
struct metrics_gauges {
	uint64_t workers;          /* authenticated worker pipes (sockets) */
	uint64_t users;            /* users with at least one of them */
	uint64_t rooms;            /* rooms held in memory */
	uint64_t rooms_subscribed; /* ... with at least one subscriber */
	uint64_t rooms_active;     /* ... with a message in METRICS_ACTIVE_MS */
	uint64_t subscriptions;    /* (pipe, room) subscriptions */
	uint64_t nng_drops;        /* link_stats: dropped at a full pipe */
	uint64_t overflows;        /* link_stats: pipes closed for overflow */
	/* (metrics_sample reads link_stats every 15 s only: it snapshots
	 * NNG's statistics of every pipe) */
};

/*
 * Store thread only (the state of the transaction in flight is the
 * thread's own). metrics_batch_begin: a group-commit transaction starts;
 * metrics_batch_rows: it inserted rows messages; metrics_batch_commit: it
 * committed with jobs SEND/READ jobs, so its rows count as persisted, its
 * size and its time (begin to commit returned) go to the histograms. A
 * transaction that never reaches metrics_batch_commit counts nothing.
 */
void metrics_batch_begin(void);
void metrics_batch_rows(size_t rows);
void metrics_batch_commit(size_t jobs);

/*
 * A send's time in the broker outside its transaction, to tell the store's
 * queue and the threads' hand-offs from the commit (bench/fanout prints
 * them): metrics_send_queued, store thread: from store_submit to its
 * transaction's start (the wait for the one before, the store thread's
 * wake-up, the batch's preparation); metrics_send_returned, main thread:
 * from its answer being posted to the main thread taking it (the main
 * thread's wake-up and whatever it was doing). Microseconds.
 */
void metrics_send_queued(int64_t us);
void metrics_send_returned(int64_t us);

/* Any thread: one refusal of kind k (limits.h) answered rate_limited. */
void metrics_rate_limited(enum limits_kind k);
/* Any thread: one GAP frame sent to a worker. */
void metrics_gap(enum metrics_gap_on on);
/* Any thread: one FETCH answered with the messages from..last (none when
 * last < from). */
void metrics_fetched(int64_t from, int64_t last);

/* Any thread: replaces the gauges with *g. */
void metrics_gauges_set(const struct metrics_gauges *g);
/* Main thread: reads the gauges from auth, fanout and link at now_ms
 * (monotonic) and stores them (metrics_gauges_set). */
void metrics_sample(int64_t now_ms);

/* Any thread: appends every metric as Prometheus text to out. PC_OK,
 * PC_ERR_NOMEM or PC_ERR_TOO_LARGE (out's own bound). */
enum pc_err metrics_render(struct pc_buf *out);
/* Zeroes every counter and gauge (tests only). */
void metrics_reset(void);

/*
 * Main thread, after link_open (dir exists, 0700): samples the gauges once
 * and serves ipc://dir/metrics from a new thread. PC_OK or PC_ERR_SYSTEM
 * (logged); the broker runs without the endpoint rather than not at all.
 */
enum pc_err metrics_open(const char *dir);
/* Stops the thread and closes the socket; harmless when not open. */
void metrics_close(void);

#endif

/*
 * metrics.c: the broker's counters, histograms and gauges, their Prometheus
 * text, and the REP endpoint that serves it (metrics.h).
 *
 * Every figure is a relaxed atomic: counting costs one uncontended atomic
 * add on the thread that saw the event, and a scrape reads each figure
 * once without stopping anyone, so it sees every figure at some moment
 * during the scrape (all Prometheus asks). Histograms keep per-bucket
 * counts and make them cumulative only when rendered.
 *
 * Why a thread and not the main loop: the gauges are already copied by the
 * main thread once a second, so the server needs nothing from the main
 * thread, and adding a socket to the main poll loop would make a scrape
 * (or a slow scraper) share the loop that paces every worker's messages.
 * The thread blocks in nng_recvmsg and leaves when metrics_close closes the
 * socket (NNG_ECLOSED). Not for the API's figures (fcgi-api/metrics.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/transport/ipc/ipc.h>

#include "auth.h"
#include "clock.h"
#include "fanout.h"
#include "link.h"
#include "log.h"
#include "metrics.h"

#define METRICS_REQ_MAX 256   /* a request carries nothing we read */
#define METRICS_SEND_MS 1000  /* never block the thread on a stuck peer */
#define METRICS_LINK_MS 15000 /* NNG's drop counter: read this often */

/* Batch size buckets (jobs per transaction; PIPECHAT_BATCH_MAX defaults
 * to 1000), then +Inf. */
static const uint64_t metrics_batch_bounds[] = {1,  2,   4,   8,   16,  32,
                                                64, 128, 256, 512, 1024};
#define METRICS_NBATCH                                                         \
	(sizeof(metrics_batch_bounds) / sizeof(metrics_batch_bounds[0]))

/* Commit time buckets in microseconds (an fsync'd commit on a disk is
 * about a millisecond; a stalled database seconds), then +Inf. */
static const uint64_t metrics_commit_bounds_us[] = {
        250,   500,    1000,   2500,   5000,    10000,  25000,
        50000, 100000, 250000, 500000, 1000000, 2500000};
#define METRICS_NCOMMIT                                                        \
	(sizeof(metrics_commit_bounds_us) / sizeof(metrics_commit_bounds_us[0]))

/* Buckets of a send's waits outside its transaction (metrics_send_*), in
 * microseconds: a wake-up is tens of them, a wait behind a transaction a
 * millisecond or so; then +Inf. */
static const uint64_t metrics_wait_bounds_us[] = {
        25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};
#define METRICS_NWAIT                                                          \
	(sizeof(metrics_wait_bounds_us) / sizeof(metrics_wait_bounds_us[0]))

static const char *const metrics_kind_names[LIMITS__MAX] = {
        [LIMITS_SEND] = "send",
        [LIMITS_TYPING] = "typing",
        [LIMITS_CALL] = "call",
};
static const char *const metrics_gap_names[METRICS_GAP__MAX] = {
        [METRICS_GAP_JOIN] = "join",
        [METRICS_GAP_FETCH] = "fetch",
};

typedef atomic_uint_fast64_t metrics_u64;

static struct {
	metrics_u64 persisted;
	metrics_u64 batch[METRICS_NBATCH + 1], batch_sum;
	metrics_u64 commit[METRICS_NCOMMIT + 1], commit_sum_us;
	metrics_u64 queued[METRICS_NWAIT + 1], queued_sum_us;
	metrics_u64 returned[METRICS_NWAIT + 1], returned_sum_us;
	metrics_u64 limited[LIMITS__MAX];
	metrics_u64 gaps[METRICS_GAP__MAX];
	metrics_u64 fetches, fetched;
	metrics_u64 workers, users, rooms, rooms_subscribed, rooms_active,
	        subscriptions, nng_drops, overflows;
} mt;

/* The store thread's transaction in flight. */
static _Thread_local struct {
	int64_t begin_us; /* 0: none */
	uint64_t rows;
} mt_tx;

/* Main thread (metrics_sample): when link_stats is read next. */
static int64_t mt_link_next_ms;

/* The endpoint; touched by the main thread only (open, close). */
static struct {
	nng_socket sock;
	pthread_t tid;
	int open, started;
	uid_t uid;
} mt_srv = {.sock = NNG_SOCKET_INITIALIZER};

static void
metrics_add(metrics_u64 *a, uint64_t n)
{
	atomic_fetch_add_explicit(a, n, memory_order_relaxed);
}

static void
metrics_set(metrics_u64 *a, uint64_t v)
{
	atomic_store_explicit(a, v, memory_order_relaxed);
}

static uint64_t
metrics_get(metrics_u64 *a)
{
	return (uint64_t)atomic_load_explicit(a, memory_order_relaxed);
}

/* The bucket of v in bounds[0..n): the first bound >= v, else n (+Inf). */
static size_t
metrics_bucket(const uint64_t *bounds, size_t n, uint64_t v)
{
	size_t b;

	for (b = 0; b < n && v > bounds[b]; b++)
		;
	return b;
}

/* ---- counting ---- */

void
metrics_batch_begin(void)
{
	mt_tx.begin_us = pc_clock_mono_us();
	mt_tx.rows = 0;
}

void
metrics_batch_rows(size_t rows)
{
	mt_tx.rows += rows;
}

void
metrics_batch_commit(size_t jobs)
{
	uint64_t us;

	if (mt_tx.begin_us == 0)
		return;
	us = (uint64_t)(pc_clock_mono_us() - mt_tx.begin_us);
	metrics_add(&mt.persisted, mt_tx.rows);
	metrics_add(&mt.batch[metrics_bucket(metrics_batch_bounds,
	                                     METRICS_NBATCH, jobs)],
	            1);
	metrics_add(&mt.batch_sum, jobs);
	metrics_add(&mt.commit[metrics_bucket(metrics_commit_bounds_us,
	                                      METRICS_NCOMMIT, us)],
	            1);
	metrics_add(&mt.commit_sum_us, us);
	mt_tx.begin_us = 0;
	mt_tx.rows = 0;
}

/* One observation of us (clamped at 0) into a wait histogram. */
static void
metrics_wait(metrics_u64 *buckets, metrics_u64 *sum, int64_t us)
{
	uint64_t v = us > 0 ? (uint64_t)us : 0;

	metrics_add(&buckets[metrics_bucket(metrics_wait_bounds_us,
	                                    METRICS_NWAIT, v)],
	            1);
	metrics_add(sum, v);
}

void
metrics_send_queued(int64_t us)
{
	metrics_wait(mt.queued, &mt.queued_sum_us, us);
}

void
metrics_send_returned(int64_t us)
{
	metrics_wait(mt.returned, &mt.returned_sum_us, us);
}

void
metrics_rate_limited(enum limits_kind k)
{
	if ((unsigned)k < LIMITS__MAX)
		metrics_add(&mt.limited[k], 1);
}

void
metrics_gap(enum metrics_gap_on on)
{
	if ((unsigned)on < METRICS_GAP__MAX)
		metrics_add(&mt.gaps[on], 1);
}

void
metrics_fetched(int64_t from, int64_t last)
{
	metrics_add(&mt.fetches, 1);
	if (last >= from)
		metrics_add(&mt.fetched, (uint64_t)(last - from + 1));
}

void
metrics_gauges_set(const struct metrics_gauges *g)
{
	metrics_set(&mt.workers, g->workers);
	metrics_set(&mt.users, g->users);
	metrics_set(&mt.rooms, g->rooms);
	metrics_set(&mt.rooms_subscribed, g->rooms_subscribed);
	metrics_set(&mt.rooms_active, g->rooms_active);
	metrics_set(&mt.subscriptions, g->subscriptions);
	metrics_set(&mt.nng_drops, g->nng_drops);
	metrics_set(&mt.overflows, g->overflows);
}

void
metrics_sample(int64_t now_ms)
{
	struct metrics_gauges g;
	struct fanout_room *r;
	uint64_t frames = 0, msgs = 0;
	size_t pos = 0;

	memset(&g, 0, sizeof(g));
	g.workers = auth_count();
	g.users = auth_user_count();
	g.rooms = fanout_count();
	while (fanout_next(&pos, &r)) {
		g.subscriptions += r->nsubs;
		if (r->nsubs == 0)
			continue;
		g.rooms_subscribed++;
		if (r->active_ms > 0 &&
		    now_ms - r->active_ms <= METRICS_ACTIVE_MS)
			g.rooms_active++;
	}
	/* link_stats snapshots NNG's statistics of every pipe (thousands of
	 * them on a busy broker): not every second */
	if (now_ms >= mt_link_next_ms ||
	    mt_link_next_ms - now_ms > METRICS_LINK_MS) {
		link_stats(&frames, &msgs, &g.overflows, &g.nng_drops);
		mt_link_next_ms = now_ms + METRICS_LINK_MS;
	} else {
		g.overflows = metrics_get(&mt.overflows);
		g.nng_drops = metrics_get(&mt.nng_drops);
	}
	metrics_gauges_set(&g);
}

void
metrics_reset(void)
{
	struct metrics_gauges g;
	size_t i;

	metrics_set(&mt.persisted, 0);
	for (i = 0; i <= METRICS_NBATCH; i++)
		metrics_set(&mt.batch[i], 0);
	metrics_set(&mt.batch_sum, 0);
	for (i = 0; i <= METRICS_NCOMMIT; i++)
		metrics_set(&mt.commit[i], 0);
	metrics_set(&mt.commit_sum_us, 0);
	for (i = 0; i <= METRICS_NWAIT; i++) {
		metrics_set(&mt.queued[i], 0);
		metrics_set(&mt.returned[i], 0);
	}
	metrics_set(&mt.queued_sum_us, 0);
	metrics_set(&mt.returned_sum_us, 0);
	for (i = 0; i < LIMITS__MAX; i++)
		metrics_set(&mt.limited[i], 0);
	for (i = 0; i < METRICS_GAP__MAX; i++)
		metrics_set(&mt.gaps[i], 0);
	metrics_set(&mt.fetches, 0);
	metrics_set(&mt.fetched, 0);
	memset(&g, 0, sizeof(g));
	metrics_gauges_set(&g);
	mt_tx.begin_us = 0;
	mt_tx.rows = 0;
}

/* ---- rendering ---- */

/* The figures without labels, in the order rendered. */
static const struct {
	const char *name, *type, *help;
	metrics_u64 *v;
} metrics_plain[] = {
        {"pipechat_broker_messages_persisted_total", "counter",
         "Messages inserted by committed group-commit transactions.",
         &mt.persisted},
        {"pipechat_broker_workers", "gauge",
         "Authenticated worker pipes (one per WebSocket), sampled each "
         "second.",
         &mt.workers},
        {"pipechat_broker_users_connected", "gauge",
         "Users with at least one authenticated worker, sampled each "
         "second.",
         &mt.users},
        {"pipechat_broker_rooms", "gauge",
         "Rooms held in memory (subscribed or recently used).", &mt.rooms},
        {"pipechat_broker_rooms_subscribed", "gauge",
         "Rooms with at least one subscribed worker.", &mt.rooms_subscribed},
        {"pipechat_broker_rooms_active", "gauge",
         "Subscribed rooms with a message in the last 10 s (they get "
         "TICKs).",
         &mt.rooms_active},
        {"pipechat_broker_subscriptions", "gauge",
         "Worker subscriptions to rooms (pipe, room).", &mt.subscriptions},
        {"pipechat_broker_fetches_total", "counter",
         "FETCH requests answered (workers repairing a gap in seq).",
         &mt.fetches},
        {"pipechat_broker_fetched_messages_total", "counter",
         "Messages replayed in FETCH answers.", &mt.fetched},
        {"pipechat_broker_nng_dropped_total", "counter",
         "Messages NNG dropped at a full pipe queue (workers repair them "
         "by FETCH).",
         &mt.nng_drops},
        {"pipechat_broker_pipes_overflowed_total", "counter",
         "Worker pipes closed because their outbox passed "
         "PIPECHAT_PIPE_QUEUE_MAX.",
         &mt.overflows},
};

/* The histograms, in the order rendered: bounds in the unit of the counts,
 * rendered divided by scale (microseconds as seconds). */
static const struct {
	const char *name, *help;
	const uint64_t *bounds;
	size_t n;
	uint64_t scale;
	metrics_u64 *buckets, *sum;
} metrics_hists[] = {
        {"pipechat_broker_batch_size",
         "Jobs (sends and read markers) per committed group-commit "
         "transaction.",
         metrics_batch_bounds, METRICS_NBATCH, 1, mt.batch, &mt.batch_sum},
        {"pipechat_broker_commit_duration_seconds",
         "Time of one committed group-commit transaction, from BEGIN to "
         "COMMIT returned (what its senders wait for their ack).",
         metrics_commit_bounds_us, METRICS_NCOMMIT, 1000000, mt.commit,
         &mt.commit_sum_us},
        {"pipechat_broker_send_queued_seconds",
         "Time of a send from reaching the store's queue to the start of its "
         "transaction.",
         metrics_wait_bounds_us, METRICS_NWAIT, 1000000, mt.queued,
         &mt.queued_sum_us},
        {"pipechat_broker_send_returned_seconds",
         "Time of a send's answer from the store thread to the main thread, "
         "which acks and delivers it.",
         metrics_wait_bounds_us, METRICS_NWAIT, 1000000, mt.returned,
         &mt.returned_sum_us},
};

static enum pc_err
metrics_head(struct pc_buf *out, const char *name, const char *type,
             const char *help)
{
	return pc_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                     name, type);
}

/* One labelled family: names[i] is the label value of v[i]. */
static enum pc_err
metrics_labelled(struct pc_buf *out, const char *name, const char *help,
                 const char *label, const char *const *names, metrics_u64 *v,
                 size_t n)
{
	enum pc_err rc;
	size_t i;

	rc = metrics_head(out, name, "counter", help);
	for (i = 0; rc == PC_OK && i < n; i++)
		rc = pc_buf_printf(out, "%s{%s=\"%s\"} %" PRIu64 "\n", name,
		                   label, names[i], metrics_get(&v[i]));
	return rc;
}

/* One histogram: bounds[0..n) and sum scaled by 1/scale (1: whole
 * numbers, printed as such), counts buckets[0..n] (the last is +Inf). */
static enum pc_err
metrics_histogram(struct pc_buf *out, const char *name, const char *help,
                  const uint64_t *bounds, size_t n, uint64_t scale,
                  metrics_u64 *buckets, metrics_u64 *sum)
{
	uint64_t total = 0;
	enum pc_err rc;
	size_t b;

	rc = metrics_head(out, name, "histogram", help);
	for (b = 0; rc == PC_OK && b <= n; b++) {
		total += metrics_get(&buckets[b]);
		if (b < n)
			rc = pc_buf_printf(
			        out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
			        (double)bounds[b] / (double)scale, total);
		else
			rc = pc_buf_printf(
			        out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n",
			        name, total);
	}
	if (rc == PC_OK && scale == 1)
		rc = pc_buf_printf(out, "%s_sum %" PRIu64 "\n", name,
		                   metrics_get(sum));
	else if (rc == PC_OK)
		rc = pc_buf_printf(out, "%s_sum %.6f\n", name,
		                   (double)metrics_get(sum) / (double)scale);
	if (rc == PC_OK)
		rc = pc_buf_printf(out, "%s_count %" PRIu64 "\n", name, total);
	return rc;
}

enum pc_err
metrics_render(struct pc_buf *out)
{
	enum pc_err rc = PC_OK;
	size_t i;

	for (i = 0; rc == PC_OK &&
	            i < sizeof(metrics_plain) / sizeof(metrics_plain[0]);
	     i++) {
		rc = metrics_head(out, metrics_plain[i].name,
		                  metrics_plain[i].type, metrics_plain[i].help);
		if (rc == PC_OK)
			rc = pc_buf_printf(out, "%s %" PRIu64 "\n",
			                   metrics_plain[i].name,
			                   metrics_get(metrics_plain[i].v));
	}
	for (i = 0; rc == PC_OK &&
	            i < sizeof(metrics_hists) / sizeof(metrics_hists[0]);
	     i++)
		rc = metrics_histogram(
		        out, metrics_hists[i].name, metrics_hists[i].help,
		        metrics_hists[i].bounds, metrics_hists[i].n,
		        metrics_hists[i].scale, metrics_hists[i].buckets,
		        metrics_hists[i].sum);
	if (rc == PC_OK)
		rc = metrics_labelled(out, "pipechat_broker_rate_limited_total",
		                      "Frames refused rate_limited, by bucket.",
		                      "kind", metrics_kind_names, mt.limited,
		                      LIMITS__MAX);
	if (rc == PC_OK)
		rc = metrics_labelled(out, "pipechat_broker_gaps_total",
		                      "GAP frames sent (more than 500 missed), "
		                      "on a join or a FETCH.",
		                      "on", metrics_gap_names, mt.gaps,
		                      METRICS_GAP__MAX);
	return rc;
}

/* ---- the endpoint ---- */

/* NNG's thread: the peer must run as the broker's own user (link.c). */
static void
metrics_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	uint64_t uid = 0;
	int rv;

	(void)ev;
	(void)arg;
	rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid);
	if (rv != 0 || uid != (uint64_t)mt_srv.uid) {
		pc_log_warn("refused a metrics peer with uid %" PRIu64 " (%s)",
		            uid, rv != 0 ? nng_strerror(rv) : "not ours");
		nng_pipe_close(p);
	}
}

static void *
metrics_serve(void *arg)
{
	struct pc_buf text;
	nng_msg *m = NULL;
	enum pc_err e;
	int rv;

	(void)arg;
	pc_buf_init(&text, METRICS_TEXT_MAX);
	for (;;) {
		if ((rv = nng_recvmsg(mt_srv.sock, &m, 0)) != 0) {
			if (rv == NNG_ECLOSED)
				break;
			pc_log_warn("recv: %s", nng_strerror(rv));
			continue;
		}
		pc_buf_reset(&text);
		if ((e = metrics_render(&text)) != PC_OK) {
			/* unanswered: the API times out and reports the
			 * broker down, which the log line explains */
			pc_log_err("cannot render the metrics (error %d)",
			           (int)e);
			nng_msg_free(m);
			continue;
		}
		nng_msg_clear(m);
		if ((rv = nng_msg_append(m, text.data, text.len)) != 0 ||
		    (rv = nng_sendmsg(mt_srv.sock, m, 0)) != 0) {
			pc_log_warn("send: %s", nng_strerror(rv));
			nng_msg_free(m);
		}
	}
	pc_buf_free(&text, 0);
	return NULL;
}

enum pc_err
metrics_open(const char *dir)
{
	char url[256];
	nng_listener l;
	int rv = 0;

	metrics_sample(pc_clock_mono_ms());
	mt_srv.uid = geteuid();
	snprintf(url, sizeof(url), "ipc://%s/metrics", dir);
	if (strlen(url) - 6 > 107) {
		pc_log_err("%s: the socket path is longer than 107 bytes", url);
		return PC_ERR_SYSTEM;
	}
	if ((rv = nng_rep0_open(&mt_srv.sock)) != 0)
		goto fail;
	mt_srv.open = 1;
	if ((rv = nng_socket_set_size(mt_srv.sock, NNG_OPT_RECVMAXSZ,
	                              METRICS_REQ_MAX)) != 0 ||
	    (rv = nng_socket_set_ms(mt_srv.sock, NNG_OPT_SENDTIMEO,
	                            METRICS_SEND_MS)) != 0 ||
	    (rv = nng_pipe_notify(mt_srv.sock, NNG_PIPE_EV_ADD_PRE,
	                          metrics_pipe_cb, NULL)) != 0 ||
	    (rv = nng_listener_create(&l, mt_srv.sock, url)) != 0 ||
	    (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600)) !=
	            0 ||
	    (rv = nng_listener_start(l, 0)) != 0)
		goto fail;
	if ((rv = pthread_create(&mt_srv.tid, NULL, metrics_serve, NULL)) !=
	    0) {
		pc_log_err("pthread_create: %s", strerror(rv));
		metrics_close();
		return PC_ERR_SYSTEM;
	}
	mt_srv.started = 1;
	pc_log_info("metrics on %s", url);
	return PC_OK;
fail:
	pc_log_err("%s: %s", url, nng_strerror(rv));
	metrics_close();
	return PC_ERR_SYSTEM;
}

void
metrics_close(void)
{
	if (mt_srv.open)
		nng_close(mt_srv.sock);
	if (mt_srv.started)
		pthread_join(mt_srv.tid, NULL);
	mt_srv.open = mt_srv.started = 0;
	mt_srv.sock = (nng_socket)NNG_SOCKET_INITIALIZER;
}

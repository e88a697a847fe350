/*
 * broker_metrics.h: the brokers' part of GET /api/metrics. The API asks
 * each broker's metrics endpoint (broker/metrics.h: an NNG REP socket on
 * ipc://$PIPECHAT_BROKER_DIR/metrics) for its Prometheus text, merges the
 * answers family by family with a `broker="<n>"` label (n = the broker's
 * place in the list), and adds `pipechat_broker_up{broker="<n>"}`: 1 when
 * that broker answered within BROKER_METRICS_TIMEOUT_MS, else 0.
 *
 * Ready for several brokers (sharding, contract section 7): every broker of
 * the list is asked at once, each on its own REQ socket through a fresh
 * nng_ctx per scrape (a second request on a bare REQ socket would cancel
 * the first: FACTS), so concurrent scrapes from several request threads
 * never disturb each other and a scrape waits at most the timeout however
 * many brokers are down. Today the list has one entry, made from
 * PIPECHAT_BROKER_DIR. Not here: the API's own figures (metrics.h).
 */
#ifndef PIPECHAT_API_BROKER_METRICS_H
#define PIPECHAT_API_BROKER_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define BROKER_METRICS_MAX        16  /* brokers in the list */
#define BROKER_METRICS_TIMEOUT_MS 200 /* one scrape waits at most this */
#define BROKER_METRICS_REPLY_MAX  (256 * 1024) /* one broker's text */

/*
 * Dials urls[0..n) (n <= BROKER_METRICS_MAX; strings borrowed for the
 * call), each on its own REQ socket, without blocking (a broker that is
 * not up yet is redialled in the background). Any thread; a second call
 * while open does nothing. PC_OK, PC_ERR_INVALID (n out of range),
 * PC_ERR_SYSTEM (logged; nothing left open).
 */
enum pc_err broker_metrics_open(const char *const *urls, size_t n);
/* Closes every socket; after the request threads are joined (any scrape
 * still running would lose its sockets). Harmless when not open. */
void broker_metrics_close(void);

/*
 * Asks every broker (opening the list made from broker_dir on first use,
 * when broker_metrics_open was not called) and appends the merged text and
 * the pipechat_broker_up family to out. Appends nothing when broker_dir is
 * NULL and no list is open (no broker configured). Blocks at most about
 * BROKER_METRICS_TIMEOUT_MS. Any thread. PC_OK, PC_ERR_NOMEM or
 * PC_ERR_TOO_LARGE (out's bound).
 */
enum pc_err broker_metrics_render(const char *broker_dir, struct pc_buf *out);

/*
 * The merge alone (pure, for tests): texts[i] (lens[i] bytes) is broker
 * i's answer, NULL when it did not answer. Each metric family (a run of
 * comment lines and the samples after them) is written once, with the
 * comments of the first broker that has it, followed by that family's
 * samples from every broker, each labelled broker="i"; then
 * pipechat_broker_up for all n. PC_OK, PC_ERR_NOMEM, PC_ERR_TOO_LARGE.
 */
enum pc_err broker_metrics_merge(const char *const *texts, const size_t *lens,
                                 size_t n, struct pc_buf *out);

#endif

/*
 * broker_metrics.c: asking the brokers for their metrics and merging the
 * answers (broker_metrics.h).
 *
 * One REQ socket per broker, dialled once (NNG_FLAG_NONBLOCK: a broker
 * that is down is redialled in the background, every 100 ms to 1 s) and
 * shared by every request thread; each scrape opens its own nng_ctx on
 * each socket and drives all of them with aios, so the brokers are asked
 * at once: the sends first (a REQ send completes when a pipe takes it, so
 * a broker that is down fails here at the deadline), then the receives,
 * all against one deadline. The mutex guards only opening and closing.
 *
 * The merge keeps the Prometheus text format's rule that a family's lines
 * come together, under one HELP and TYPE: it is done family by family, not
 * broker by broker. It trusts the brokers' text no further than its shape:
 * lines are copied as they are, with the label put after the name.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "broker_metrics.h"
#include "clock.h"
#include "log.h"

#define BM_URL_MAX      128 /* ipc:// plus a Unix socket path (107 bytes) */
#define BM_FAMILIES_MAX 256 /* families merged; more are dropped, logged */

static struct {
	pthread_mutex_t mu;
	nng_socket socks[BROKER_METRICS_MAX];
	size_t n;
	int open;
} bm = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the sockets ---- */

static void
bm_close_locked(void)
{
	size_t i;

	for (i = 0; i < bm.n; i++)
		nng_close(bm.socks[i]);
	bm.n = 0;
	bm.open = 0;
}

enum pc_err
broker_metrics_open(const char *const *urls, size_t n)
{
	enum pc_err rc = PC_OK;
	nng_socket s;
	size_t i;
	int rv = 0;

	if (n == 0 || n > BROKER_METRICS_MAX)
		return PC_ERR_INVALID;
	pthread_mutex_lock(&bm.mu);
	if (bm.open)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rv = nng_req0_open(&s)) != 0)
			break;
		bm.socks[bm.n++] = s;
		if ((rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ,
		                              BROKER_METRICS_REPLY_MAX)) != 0 ||
		    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 100)) != 0 ||
		    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000)) !=
		            0 ||
		    (rv = nng_dial(s, urls[i], NULL, NNG_FLAG_NONBLOCK)) != 0)
			break;
	}
	if (rv != 0) {
		pc_log_err("%s: %s; broker metrics are off", urls[i],
		           nng_strerror(rv));
		bm_close_locked();
		rc = PC_ERR_SYSTEM;
		goto out;
	}
	bm.open = 1;
	pc_log_info("broker metrics from %zu broker(s), first %s", n, urls[0]);
out:
	pthread_mutex_unlock(&bm.mu);
	return rc;
}

void
broker_metrics_close(void)
{
	pthread_mutex_lock(&bm.mu);
	bm_close_locked();
	pthread_mutex_unlock(&bm.mu);
}

/* Opens the list made from broker_dir unless one is open. Non-zero when a
 * list is open after the call. */
static int
bm_ensure(const char *broker_dir)
{
	char url[BM_URL_MAX + 16];
	const char *urls[1] = {url};
	int open;

	pthread_mutex_lock(&bm.mu);
	open = bm.open;
	pthread_mutex_unlock(&bm.mu);
	if (open || broker_dir == NULL)
		return open;
	if ((size_t)snprintf(url, sizeof(url), "ipc://%s/metrics",
	                     broker_dir) >= BM_URL_MAX) {
		pc_log_warn("%s: path too long for a Unix socket", broker_dir);
		return 0;
	}
	return broker_metrics_open(urls, 1) == PC_OK;
}

/* ---- the exchange ---- */

/* What is left of the deadline, at least 1 ms (0 would mean "no wait",
 * which NNG reads as "fail at once"; a broker that has already answered is
 * still taken). */
static nng_duration
bm_left(int64_t deadline)
{
	int64_t left = deadline - pc_clock_mono_ms();

	return left < 1 ? 1 : (nng_duration)left;
}

enum pc_err
broker_metrics_render(const char *broker_dir, struct pc_buf *out)
{
	nng_socket socks[BROKER_METRICS_MAX];
	nng_ctx ctx[BROKER_METRICS_MAX];
	nng_aio *aio[BROKER_METRICS_MAX];
	nng_msg *reply[BROKER_METRICS_MAX], *m;
	const char *texts[BROKER_METRICS_MAX];
	size_t lens[BROKER_METRICS_MAX], n, i;
	int live[BROKER_METRICS_MAX];
	int64_t deadline;
	enum pc_err rc;

	if (!bm_ensure(broker_dir))
		return PC_OK;
	memset(live, 0, sizeof(live));
	memset(texts, 0, sizeof(texts));
	memset(lens, 0, sizeof(lens));
	memset(reply, 0, sizeof(reply));
	memset(aio, 0, sizeof(aio));
	pthread_mutex_lock(&bm.mu);
	n = bm.n;
	memcpy(socks, bm.socks, n * sizeof(socks[0]));
	pthread_mutex_unlock(&bm.mu);

	deadline = pc_clock_mono_ms() + BROKER_METRICS_TIMEOUT_MS;
	for (i = 0; i < n; i++) {
		m = NULL;
		if (nng_aio_alloc(&aio[i], NULL, NULL) != 0)
			continue;
		if (nng_ctx_open(&ctx[i], socks[i]) != 0)
			continue;
		if (nng_msg_alloc(&m, 0) != 0) {
			nng_ctx_close(ctx[i]);
			continue;
		}
		live[i] = 1;
		nng_aio_set_msg(aio[i], m);
		nng_aio_set_timeout(aio[i], bm_left(deadline));
		nng_ctx_send(ctx[i], aio[i]);
	}
	for (i = 0; i < n; i++) {
		if (!live[i])
			continue;
		nng_aio_wait(aio[i]);
		if (nng_aio_result(aio[i]) != 0) {
			/* a failed send leaves the message with us */
			nng_msg_free(nng_aio_get_msg(aio[i]));
			nng_ctx_close(ctx[i]);
			live[i] = 0;
			continue;
		}
		nng_aio_set_timeout(aio[i], bm_left(deadline));
		nng_ctx_recv(ctx[i], aio[i]);
	}
	for (i = 0; i < n; i++) {
		texts[i] = NULL;
		lens[i] = 0;
		if (!live[i])
			continue;
		nng_aio_wait(aio[i]);
		if (nng_aio_result(aio[i]) == 0 &&
		    (reply[i] = nng_aio_get_msg(aio[i])) != NULL) {
			texts[i] = nng_msg_body(reply[i]);
			lens[i] = nng_msg_len(reply[i]);
		} else
			pc_log_debug("broker %zu: %s", i,
			             nng_strerror(nng_aio_result(aio[i])));
		nng_ctx_close(ctx[i]);
	}
	rc = broker_metrics_merge(texts, lens, n, out);
	for (i = 0; i < n; i++) {
		if (reply[i] != NULL)
			nng_msg_free(reply[i]);
		if (aio[i] != NULL)
			nng_aio_free(aio[i]);
	}
	return rc;
}

/* ---- the merge ---- */

/* One family of a text: comment lines [start, samples), then sample lines
 * [samples, end); its name is [name, name + nlen). */
struct bm_block {
	const char *start, *samples, *end;
	const char *name;
	size_t nlen;
};

/* The end of the line at p (after its '\n', or end). */
static const char *
bm_eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl + 1 : end;
}

/* The metric name at p: up to '{', space, tab or the line's end. */
static size_t
bm_name_len(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && p[n] != '{' && p[n] != ' ' && p[n] != '\t' &&
	       p[n] != '\n')
		n++;
	return n;
}

/*
 * The next family of t (len bytes) from *pos: a run of comment lines and
 * the run of sample lines after them. Its name is the one after "# HELP "
 * or "# TYPE " in its first comment line, else its first sample's. Zero at
 * the end.
 */
static int
bm_next_block(const char *t, size_t len, size_t *pos, struct bm_block *b)
{
	const char *end = t + len, *p = t + *pos;

	if (p >= end)
		return 0;
	memset(b, 0, sizeof(*b));
	b->start = p;
	while (p < end && *p == '#') {
		if (b->name == NULL && (size_t)(end - p) > 7 &&
		    (memcmp(p, "# HELP ", 7) == 0 ||
		     memcmp(p, "# TYPE ", 7) == 0)) {
			b->name = p + 7;
			b->nlen = bm_name_len(b->name, end);
		}
		p = bm_eol(p, end);
	}
	b->samples = p;
	while (p < end && *p != '#')
		p = bm_eol(p, end);
	b->end = p;
	if (b->name == NULL) {
		b->name = b->samples;
		b->nlen = bm_name_len(b->samples, end);
	}
	*pos = (size_t)(p - t);
	return 1;
}

/* The family named name in t, if any. */
static int
bm_find_block(const char *t, size_t len, const char *name, size_t nlen,
              struct bm_block *b)
{
	size_t pos = 0;

	while (bm_next_block(t, len, &pos, b)) {
		if (b->nlen == nlen && memcmp(b->name, name, nlen) == 0)
			return 1;
	}
	return 0;
}

/* The sample lines of b, each labelled broker="idx". */
static enum pc_err
bm_samples(const struct bm_block *b, size_t idx, struct pc_buf *out)
{
	const char *p, *eol, *rest;
	enum pc_err rc = PC_OK;
	size_t n;

	for (p = b->samples; rc == PC_OK && p < b->end; p = eol) {
		eol = bm_eol(p, b->end);
		n = bm_name_len(p, eol);
		if (n == 0)
			continue; /* an empty or malformed line */
		rest = p + n;
		rc = pc_buf_append(out, p, n);
		if (rc == PC_OK && rest < eol && *rest == '{')
			rc = pc_buf_printf(
			        out, "{broker=\"%zu\"%s", idx,
			        rest + 1 < eol && rest[1] == '}' ? "" : ",");
		else if (rc == PC_OK)
			rc = pc_buf_printf(out, "{broker=\"%zu\"}", idx);
		if (rc == PC_OK && rest < eol && *rest == '{')
			rest++;
		if (rc == PC_OK)
			rc = pc_buf_append(out, rest, (size_t)(eol - rest));
		if (rc == PC_OK && eol[-1] != '\n')
			rc = pc_buf_puts(out, "\n");
	}
	return rc;
}

enum pc_err
broker_metrics_merge(const char *const *texts, const size_t *lens, size_t n,
                     struct pc_buf *out)
{
	struct {
		const char *name;
		size_t nlen;
	} seen[BM_FAMILIES_MAX];
	struct bm_block b, o;
	size_t nseen = 0, i, j, k, pos, dropped = 0;
	enum pc_err rc = PC_OK;

	for (i = 0; rc == PC_OK && i < n; i++) {
		if (texts[i] == NULL)
			continue;
		pos = 0;
		while (rc == PC_OK &&
		       bm_next_block(texts[i], lens[i], &pos, &b)) {
			if (b.nlen == 0)
				continue;
			for (k = 0; k < nseen; k++) {
				if (seen[k].nlen == b.nlen &&
				    memcmp(seen[k].name, b.name, b.nlen) == 0)
					break;
			}
			if (k < nseen)
				continue; /* written with the first broker */
			if (nseen == BM_FAMILIES_MAX) {
				dropped++;
				continue;
			}
			seen[nseen].name = b.name;
			seen[nseen].nlen = b.nlen;
			nseen++;
			rc = pc_buf_append(out, b.start,
			                   (size_t)(b.samples - b.start));
			if (rc == PC_OK && b.samples > b.start &&
			    b.samples[-1] != '\n')
				rc = pc_buf_puts(out, "\n");
			for (j = i; rc == PC_OK && j < n; j++) {
				if (j == i)
					rc = bm_samples(&b, j, out);
				else if (texts[j] != NULL &&
				         bm_find_block(texts[j], lens[j],
				                       b.name, b.nlen, &o))
					rc = bm_samples(&o, j, out);
			}
		}
	}
	if (dropped > 0)
		pc_log_warn("%zu metric families past %d dropped", dropped,
		            BM_FAMILIES_MAX);
	if (rc == PC_OK)
		rc = pc_buf_puts(out, "# HELP pipechat_broker_up 1 when the "
		                      "broker answered this scrape in time, "
		                      "else 0.\n"
		                      "# TYPE pipechat_broker_up gauge\n");
	for (i = 0; rc == PC_OK && i < n; i++)
		rc = pc_buf_printf(out,
		                   "pipechat_broker_up{broker=\"%zu\"} %d\n", i,
		                   texts[i] != NULL);
	return rc;
}

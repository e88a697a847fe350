/*
 * metrics.c: lock-free counters and their Prometheus text (metrics.h).
 *
 * Counters are arrays of relaxed atomics indexed by route row (plus one row
 * for requests no route matched and for routes past METRICS_ROUTES_MAX) and
 * by a small table of statuses; the histogram keeps per-bucket counts and
 * makes them cumulative only when rendered. Rendering reads each counter
 * once, without stopping the threads: a scrape sees every counter at some
 * moment during the scrape, which is all Prometheus asks.
 */
#include <stdatomic.h>
#include <time.h>

#include "clock.h"
#include "metrics.h"

/* Statuses counted apart; anything else counts as the last one, 0
 * ("other"). */
static const int metrics_statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                                       409, 413, 415, 422, 429, 500, 503, 0};
#define METRICS_NSTATUS (sizeof(metrics_statuses) / sizeof(metrics_statuses[0]))

/* Histogram upper bounds in microseconds, then +Inf. */
static const uint64_t metrics_bounds_us[] = {
        1000,   2500,   5000,    10000,   25000,   50000,   100000,
        250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define METRICS_NBOUNDS                                                        \
	(sizeof(metrics_bounds_us) / sizeof(metrics_bounds_us[0]))

#define METRICS_ROWS (METRICS_ROUTES_MAX + 1) /* + unmatched / overflow */

static const struct {
	const char *name, *help;
} metrics_counter_info[METRICS__MAX] = {
        [METRICS_LOGINS] = {"pipechat_api_logins_total",
                            "Sessions opened by a right password."},
        [METRICS_LOGIN_FAILURES] = {"pipechat_api_login_failures_total",
                                    "Wrong passwords (login, password "
                                    "change, account deletion)."},
        [METRICS_THROTTLED] = {"pipechat_api_throttled_total",
                               "Answers 429 (throttled)."},
        [METRICS_REGISTRATIONS] = {"pipechat_api_registrations_total",
                                   "Accounts created."},
        [METRICS_HISTORY_COPY] = {"pipechat_api_history_copies_total",
                                  "History pages answered from the request "
                                  "thread's copy, checked current."},
        [METRICS_HISTORY_VOUCHED] = {"pipechat_api_history_vouched_total",
                                     "Of those, pages answered without a "
                                     "statement: the change boards had not "
                                     "moved since the session's last check."},
};

static atomic_uint_fast64_t metrics_counters[METRICS__MAX];
static atomic_uint_fast64_t metrics_requests[METRICS_ROWS][METRICS_NSTATUS];
static atomic_uint_fast64_t metrics_buckets[METRICS_ROWS][METRICS_NBOUNDS + 1];
static atomic_uint_fast64_t metrics_sum_us[METRICS_ROWS];

uint64_t
metrics_now_us(void)
{
	return (uint64_t)pc_clock_mono_us();
}

void
metrics_count(enum metrics_counter c)
{
	if ((unsigned)c < METRICS__MAX)
		atomic_fetch_add_explicit(&metrics_counters[c], 1,
		                          memory_order_relaxed);
}

void
metrics_request(const struct route *rows, const struct route *route, int status,
                uint64_t usec)
{
	size_t row = METRICS_ROUTES_MAX, s, b;

	if (route != NULL && route >= rows &&
	    (size_t)(route - rows) < METRICS_ROUTES_MAX)
		row = (size_t)(route - rows);
	for (s = 0; s + 1 < METRICS_NSTATUS; s++) {
		if (metrics_statuses[s] == status)
			break;
	}
	for (b = 0; b < METRICS_NBOUNDS; b++) {
		if (usec <= metrics_bounds_us[b])
			break;
	}
	atomic_fetch_add_explicit(&metrics_requests[row][s], 1,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&metrics_buckets[row][b], 1,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&metrics_sum_us[row], usec,
	                          memory_order_relaxed);
	if (status == 429)
		metrics_count(METRICS_THROTTLED);
}

static uint64_t
metrics_load(atomic_uint_fast64_t *a)
{
	return (uint64_t)atomic_load_explicit(a, memory_order_relaxed);
}

/* The labels of row: method and route pattern (patterns hold no quote or
 * backslash: router_pattern_ok). */
static enum pc_err
metrics_labels(struct pc_buf *out, const struct route *rows, size_t nrows,
               size_t row)
{
	if (row < nrows && row < METRICS_ROUTES_MAX)
		return pc_buf_printf(out, "method=\"%s\",route=\"%s\"",
		                     rows[row].method, rows[row].pattern);
	return pc_buf_puts(out, "method=\"other\",route=\"other\"");
}

static enum pc_err
metrics_render_requests(const struct route *rows, size_t nrows,
                        struct pc_buf *out)
{
	enum pc_err rc;
	uint64_t v;
	size_t r, s;

	rc = pc_buf_puts(out,
	                 "# HELP pipechat_api_requests_total Requests answered,"
	                 " by route pattern and status.\n"
	                 "# TYPE pipechat_api_requests_total counter\n");
	for (r = 0; rc == PC_OK && r < METRICS_ROWS; r++) {
		for (s = 0; rc == PC_OK && s < METRICS_NSTATUS; s++) {
			if ((v = metrics_load(&metrics_requests[r][s])) == 0)
				continue;
			rc = pc_buf_puts(out, "pipechat_api_requests_total{");
			if (rc == PC_OK)
				rc = metrics_labels(out, rows, nrows, r);
			if (rc != PC_OK)
				break;
			if (metrics_statuses[s] != 0)
				rc = pc_buf_printf(out,
				                   ",status=\"%d\"} %llu\n",
				                   metrics_statuses[s],
				                   (unsigned long long)v);
			else
				rc = pc_buf_printf(out,
				                   ",status=\"other\"} %llu\n",
				                   (unsigned long long)v);
		}
	}
	return rc;
}

static enum pc_err
metrics_render_latency(const struct route *rows, size_t nrows,
                       struct pc_buf *out)
{
	static const char name[] = "pipechat_api_request_duration_seconds";
	uint64_t counts[METRICS_NBOUNDS + 1], total, sum;
	enum pc_err rc;
	size_t r, b;

	rc = pc_buf_printf(out,
	                   "# HELP %s Time from routing to the answer, by "
	                   "route pattern.\n"
	                   "# TYPE %s histogram\n",
	                   name, name);
	for (r = 0; rc == PC_OK && r < METRICS_ROWS; r++) {
		total = 0;
		for (b = 0; b <= METRICS_NBOUNDS; b++) {
			counts[b] = metrics_load(&metrics_buckets[r][b]);
			total += counts[b];
		}
		if (total == 0)
			continue;
		sum = metrics_load(&metrics_sum_us[r]);
		total = 0;
		for (b = 0; rc == PC_OK && b <= METRICS_NBOUNDS; b++) {
			total += counts[b];
			rc = pc_buf_printf(out, "%s_bucket{", name);
			if (rc == PC_OK)
				rc = metrics_labels(out, rows, nrows, r);
			if (rc != PC_OK)
				break;
			if (b < METRICS_NBOUNDS)
				rc = pc_buf_printf(
				        out, ",le=\"%g\"} %llu\n",
				        (double)metrics_bounds_us[b] / 1e6,
				        (unsigned long long)total);
			else
				rc = pc_buf_printf(out, ",le=\"+Inf\"} %llu\n",
				                   (unsigned long long)total);
		}
		if (rc == PC_OK)
			rc = pc_buf_printf(out, "%s_sum{", name);
		if (rc == PC_OK)
			rc = metrics_labels(out, rows, nrows, r);
		if (rc == PC_OK)
			rc = pc_buf_printf(out, "} %.6f\n%s_count{",
			                   (double)sum / 1e6, name);
		if (rc == PC_OK)
			rc = metrics_labels(out, rows, nrows, r);
		if (rc == PC_OK)
			rc = pc_buf_printf(out, "} %llu\n",
			                   (unsigned long long)total);
	}
	return rc;
}

enum pc_err
metrics_render(const struct route *rows, size_t nrows, struct pc_buf *out)
{
	enum pc_err rc = PC_OK;
	size_t i;

	for (i = 0; rc == PC_OK && i < METRICS__MAX; i++)
		rc = pc_buf_printf(
		        out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
		        metrics_counter_info[i].name,
		        metrics_counter_info[i].help,
		        metrics_counter_info[i].name,
		        metrics_counter_info[i].name,
		        (unsigned long long)metrics_load(&metrics_counters[i]));
	if (rc == PC_OK)
		rc = metrics_render_requests(rows, nrows, out);
	if (rc == PC_OK)
		rc = metrics_render_latency(rows, nrows, out);
	return rc;
}

void
metrics_reset(void)
{
	size_t i, j;

	for (i = 0; i < METRICS__MAX; i++)
		atomic_store(&metrics_counters[i], 0);
	for (i = 0; i < METRICS_ROWS; i++) {
		for (j = 0; j < METRICS_NSTATUS; j++)
			atomic_store(&metrics_requests[i][j], 0);
		for (j = 0; j <= METRICS_NBOUNDS; j++)
			atomic_store(&metrics_buckets[i][j], 0);
		atomic_store(&metrics_sum_us[i], 0);
	}
}

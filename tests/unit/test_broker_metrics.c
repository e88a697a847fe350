/*
 * test_broker_metrics.c: the broker's figures and their Prometheus text
 * (broker/metrics.c): every family typed and documented before its
 * samples, a batch counted only when it commits, histograms cumulative
 * and ending in +Inf == _count, labelled refusals (counted where limits.c
 * refuses), gaps and FETCH replays, gauges, the bound of the text, and the
 * REP endpoint answering a REQ on ipc://DIR/metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "limits.h"
#include "metrics.h"

/* The rendered text (a static buffer, for assertions). */
static const char *
test_render(void)
{
	static char text[METRICS_TEXT_MAX + 1];
	struct pc_buf b;

	pc_buf_init(&b, METRICS_TEXT_MAX);
	assert_int_equal(metrics_render(&b), PC_OK);
	memcpy(text, b.data != NULL ? b.data : "", b.len);
	text[b.len] = '\0';
	pc_buf_free(&b, 0);
	return text;
}

/* The value of the sample line that starts with key (name and labels). */
static double
test_value(const char *text, const char *key)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", key);
	p = strstr(text, want);
	if (p == NULL) {
		fail_msg("no sample %s", key);
		return -1;
	}
	return strtod(p + strlen(want), NULL);
}

static int
test_setup(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

/* Every line is a HELP, a TYPE or a sample of the family typed last, and
 * each family is typed once. */
static void
test_text_well_formed(void **state)
{
	char *text, *line, *save = NULL, family[128] = "";
	char seen[64][128];
	size_t nseen = 0, i, n;

	(void)state;
	metrics_gap(METRICS_GAP_JOIN);
	text = strdup(test_render());
	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " ");
			assert_true(n > 0 && n < sizeof(family));
			memcpy(family, line + 7, n);
			family[n] = '\0';
			assert_int_equal(
			        strncmp(family, "pipechat_broker_", 16), 0);
			for (i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], family);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], family);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(
			        strncmp(line + 7, family, strlen(family)), 0);
			continue;
		}
		assert_true(family[0] != '\0');
		assert_int_equal(strncmp(line, family, strlen(family)), 0);
		assert_non_null(strchr(line, ' '));
	}
	assert_true(nseen >= 13);
	free(text);
}

static void
test_zero_at_start(void **state)
{
	const char *t;

	(void)state;
	t = test_render();
	assert_non_null(strstr(
	        t, "# TYPE pipechat_broker_messages_persisted_total counter\n"
	           "pipechat_broker_messages_persisted_total 0\n"));
	assert_non_null(strstr(t, "# TYPE pipechat_broker_workers gauge\n"));
	assert_non_null(
	        strstr(t, "# TYPE pipechat_broker_batch_size histogram\n"));
	assert_non_null(strstr(t, "# TYPE "
	                          "pipechat_broker_commit_duration_seconds "
	                          "histogram\n"));
	assert_true(test_value(t, "pipechat_broker_batch_size_count") == 0);
	assert_true(test_value(t, "pipechat_broker_rate_limited_total{kind="
	                          "\"send\"}") == 0);
	assert_true(test_value(t, "pipechat_broker_gaps_total{on=\"fetch\"}") ==
	            0);
}

static void
test_batch_counts_only_when_committed(void **state)
{
	const char *t;

	(void)state;
	/* a transaction that fails counts nothing */
	metrics_batch_begin();
	metrics_batch_rows(7);
	/* the retry, job by job: one commits with one row */
	metrics_batch_begin();
	metrics_batch_rows(1);
	metrics_batch_commit(1);
	/* a batch of 5 jobs: 3 sends inserted, 2 read markers */
	metrics_batch_begin();
	metrics_batch_rows(3);
	metrics_batch_commit(5);
	/* a commit with no begin is ignored */
	metrics_batch_commit(9);
	t = test_render();
	assert_true(test_value(t, "pipechat_broker_messages_persisted_total") ==
	            4);
	assert_true(test_value(t, "pipechat_broker_batch_size_count") == 2);
	assert_true(test_value(t, "pipechat_broker_batch_size_sum") == 6);
	assert_true(test_value(t, "pipechat_broker_batch_size_bucket{le="
	                          "\"1\"}") == 1);
	assert_true(test_value(t, "pipechat_broker_batch_size_bucket{le="
	                          "\"4\"}") == 1);
	assert_true(test_value(t, "pipechat_broker_batch_size_bucket{le="
	                          "\"8\"}") == 2);
	assert_true(test_value(t, "pipechat_broker_batch_size_bucket{le="
	                          "\"+Inf\"}") == 2);
	assert_true(test_value(t, "pipechat_broker_commit_duration_seconds_"
	                          "count") == 2);
	assert_true(test_value(t, "pipechat_broker_commit_duration_seconds_"
	                          "bucket{le=\"+Inf\"}") == 2);
	assert_true(test_value(t, "pipechat_broker_commit_duration_seconds_"
	                          "sum") >= 0);
}

/* Buckets are cumulative: each le is >= the one before. */
static void
test_histogram_cumulative(void **state)
{
	const char *t, *p;
	double prev = -1, v;
	size_t i, n = 0;

	(void)state;
	for (i = 1; i <= 2000; i *= 3) {
		metrics_batch_begin();
		metrics_batch_commit(i);
	}
	t = test_render();
	for (p = t;
	     (p = strstr(p, "\npipechat_broker_batch_size_bucket{")) != NULL;
	     p++) {
		v = strtod(strchr(p, '}') + 2, NULL);
		assert_true(v >= prev);
		prev = v;
		n++;
	}
	assert_int_equal(n, 12); /* 11 bounds and +Inf */
	assert_true(prev == 7);  /* 1 3 9 27 81 243 729 (2187 > 2000) */
	assert_true(test_value(t, "pipechat_broker_batch_size_bucket{le="
	                          "\"1024\"}") == 7);
}

/* A send's waits outside its transaction, in seconds from microseconds;
 * a negative wait (clocks are monotonic: never, but bounded) counts as 0. */
static void
test_send_waits(void **state)
{
	const char *t;

	(void)state;
	metrics_send_queued(40);
	metrics_send_queued(1500);
	metrics_send_queued(-5);
	metrics_send_returned(2000000);
	t = test_render();
	assert_non_null(strstr(t, "# TYPE pipechat_broker_send_queued_seconds "
	                          "histogram\n"));
	assert_true(
	        test_value(t, "pipechat_broker_send_queued_seconds_count") ==
	        3);
	assert_true(test_value(t, "pipechat_broker_send_queued_seconds_bucket{"
	                          "le=\"2.5e-05\"}") == 1);
	assert_true(test_value(t, "pipechat_broker_send_queued_seconds_bucket{"
	                          "le=\"5e-05\"}") == 2);
	assert_true(test_value(t, "pipechat_broker_send_queued_seconds_bucket{"
	                          "le=\"0.0025\"}") == 3);
	assert_true(test_value(t, "pipechat_broker_send_queued_seconds_sum") >
	            0.00153);
	assert_true(test_value(t, "pipechat_broker_send_returned_seconds_"
	                          "bucket{le=\"1\"}") == 0);
	assert_true(test_value(t, "pipechat_broker_send_returned_seconds_"
	                          "bucket{le=\"+Inf\"}") == 1);
	metrics_reset();
	t = test_render();
	assert_true(test_value(t, "pipechat_broker_send_returned_seconds_"
	                          "count") == 0);
}

static void
test_refusals_gaps_fetches(void **state)
{
	static const struct pc_limits cfg = {.send_rate = 1,
	                                     .send_burst = 1,
	                                     .typing_rate = 1,
	                                     .call_rate = 1};
	struct limits l;
	int64_t retry;
	const char *t;

	(void)state;
	memset(&l, 0, sizeof(l));
	limits_init(&l, &cfg);
	/* limits.c counts its own refusals */
	assert_int_equal(limits_take(&l, 1, LIMITS_SEND, 0, &retry), PC_OK);
	assert_int_equal(limits_take(&l, 1, LIMITS_SEND, 0, &retry),
	                 PC_ERR_RATE_LIMITED);
	assert_int_equal(limits_take(&l, 1, LIMITS_SEND, 0, &retry),
	                 PC_ERR_RATE_LIMITED);
	limits_free(&l);
	metrics_rate_limited(LIMITS_CALL);
	metrics_rate_limited(LIMITS__MAX); /* out of range: ignored */
	metrics_gap(METRICS_GAP_FETCH);
	metrics_gap(METRICS_GAP_JOIN);
	metrics_gap(METRICS_GAP_JOIN);
	metrics_fetched(5, 7);
	metrics_fetched(8, 7); /* nothing to replay: still an answer */
	t = test_render();
	assert_true(test_value(t, "pipechat_broker_rate_limited_total{kind="
	                          "\"send\"}") == 2);
	assert_true(test_value(t, "pipechat_broker_rate_limited_total{kind="
	                          "\"typing\"}") == 0);
	assert_true(test_value(t, "pipechat_broker_rate_limited_total{kind="
	                          "\"call\"}") == 1);
	assert_true(test_value(t, "pipechat_broker_gaps_total{on=\"join\"}") ==
	            2);
	assert_true(test_value(t, "pipechat_broker_gaps_total{on=\"fetch\"}") ==
	            1);
	assert_true(test_value(t, "pipechat_broker_fetches_total") == 2);
	assert_true(test_value(t, "pipechat_broker_fetched_messages_total") ==
	            3);
}

static void
test_gauges(void **state)
{
	struct metrics_gauges g = {.workers = 3,
	                           .users = 2,
	                           .rooms = 9,
	                           .rooms_subscribed = 4,
	                           .rooms_active = 1,
	                           .subscriptions = 6,
	                           .nng_drops = 11,
	                           .overflows = 12};
	const char *t;

	(void)state;
	metrics_gauges_set(&g);
	t = test_render();
	assert_true(test_value(t, "pipechat_broker_workers") == 3);
	assert_true(test_value(t, "pipechat_broker_users_connected") == 2);
	assert_true(test_value(t, "pipechat_broker_rooms") == 9);
	assert_true(test_value(t, "pipechat_broker_rooms_subscribed") == 4);
	assert_true(test_value(t, "pipechat_broker_rooms_active") == 1);
	assert_true(test_value(t, "pipechat_broker_subscriptions") == 6);
	assert_true(test_value(t, "pipechat_broker_nng_dropped_total") == 11);
	assert_true(test_value(t, "pipechat_broker_pipes_overflowed_total") ==
	            12);
	/* the main thread's sample (nothing open here) sets them back */
	metrics_sample(0);
	t = test_render();
	assert_true(test_value(t, "pipechat_broker_workers") == 0);
	assert_true(test_value(t, "pipechat_broker_rooms") == 0);
}

/* The text fits its bound with room to spare, and a short buffer fails
 * whole rather than cutting a line. */
static void
test_bounded(void **state)
{
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, METRICS_TEXT_MAX);
	assert_int_equal(metrics_render(&b), PC_OK);
	assert_true(b.len < METRICS_TEXT_MAX / 4);
	pc_buf_free(&b, 0);
	pc_buf_init(&b, 100);
	assert_int_equal(metrics_render(&b), PC_ERR_TOO_LARGE);
	assert_true(b.len <= 100);
	pc_buf_free(&b, 0);
}

/* metrics_open serves the text on ipc://DIR/metrics to a REQ peer of the
 * same uid, and metrics_close stops it. */
static void
test_endpoint(void **state)
{
	char dir[] = "/tmp/pc-metrics-XXXXXX", url[128], path[128];
	nng_socket s = NNG_SOCKET_INITIALIZER;
	nng_msg *m = NULL;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	metrics_gap(METRICS_GAP_FETCH);
	assert_int_equal(metrics_open(dir), PC_OK);
	snprintf(url, sizeof(url), "ipc://%s/metrics", dir);
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	assert_int_equal(nng_sendmsg(s, m, 0), 0);
	assert_int_equal(nng_recvmsg(s, &m, 0), 0);
	text = strndup(nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	assert_non_null(text);
	assert_non_null(strstr(text, "pipechat_broker_gaps_total{on=\"fetch\"} "
	                             "1\n"));
	free(text);
	nng_close(s);
	metrics_close();
	metrics_close(); /* twice is harmless */
	snprintf(path, sizeof(path), "%s/metrics", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_text_well_formed, test_setup),
	        cmocka_unit_test_setup(test_zero_at_start, test_setup),
	        cmocka_unit_test_setup(test_batch_counts_only_when_committed,
	                               test_setup),
	        cmocka_unit_test_setup(test_histogram_cumulative, test_setup),
	        cmocka_unit_test_setup(test_send_waits, test_setup),
	        cmocka_unit_test_setup(test_refusals_gaps_fetches, test_setup),
	        cmocka_unit_test_setup(test_gauges, test_setup),
	        cmocka_unit_test_setup(test_bounded, test_setup),
	        cmocka_unit_test_setup(test_endpoint, test_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

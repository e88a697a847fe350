/*
 * test_api_broker_metrics.c: the brokers' part of GET /api/metrics
 * (fcgi-api/broker_metrics.c): the merge writes each family once, under
 * one HELP/TYPE, with every broker's samples labelled broker="n"; a broker
 * that did not answer has pipechat_broker_up 0 and no samples; and the
 * exchange asks a live broker and a dead one at once, answering within
 * about the timeout.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "broker_metrics.h"

static const char text0[] = "# HELP pipechat_broker_a Counts a.\n"
                            "# TYPE pipechat_broker_a counter\n"
                            "pipechat_broker_a 3\n"
                            "# HELP pipechat_broker_h A histogram.\n"
                            "# TYPE pipechat_broker_h histogram\n"
                            "pipechat_broker_h_bucket{le=\"1\"} 1\n"
                            "pipechat_broker_h_bucket{le=\"+Inf\"} 2\n"
                            "pipechat_broker_h_sum 4.5\n"
                            "pipechat_broker_h_count 2\n";
/* another order, an extra family, an empty label set, no final newline */
static const char text1[] = "# HELP pipechat_broker_h A histogram.\n"
                            "# TYPE pipechat_broker_h histogram\n"
                            "pipechat_broker_h_bucket{} 7\n"
                            "# HELP pipechat_broker_only1 Only here.\n"
                            "# TYPE pipechat_broker_only1 gauge\n"
                            "pipechat_broker_only1{kind=\"x\"} 1\n"
                            "# HELP pipechat_broker_a Counts a.\n"
                            "# TYPE pipechat_broker_a counter\n"
                            "pipechat_broker_a 5";

static char *
test_merge(const char *const *texts, size_t n)
{
	size_t lens[4], i;
	struct pc_buf b;
	char *out;

	for (i = 0; i < n; i++)
		lens[i] = texts[i] != NULL ? strlen(texts[i]) : 0;
	pc_buf_init(&b, 65536);
	assert_int_equal(broker_metrics_merge(texts, lens, n, &b), PC_OK);
	out = pc_buf_take(&b, NULL);
	assert_non_null(out);
	return out;
}

static size_t
test_count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void
test_merge_families_once(void **state)
{
	const char *texts[2] = {text0, text1};
	char *t;

	(void)state;
	t = test_merge(texts, 2);
	assert_string_equal(t,
	                    "# HELP pipechat_broker_a Counts a.\n"
	                    "# TYPE pipechat_broker_a counter\n"
	                    "pipechat_broker_a{broker=\"0\"} 3\n"
	                    "pipechat_broker_a{broker=\"1\"} 5\n"
	                    "# HELP pipechat_broker_h A histogram.\n"
	                    "# TYPE pipechat_broker_h histogram\n"
	                    "pipechat_broker_h_bucket{broker=\"0\",le=\"1\"} "
	                    "1\n"
	                    "pipechat_broker_h_bucket{broker=\"0\",le=\"+"
	                    "Inf\"} 2\n"
	                    "pipechat_broker_h_sum{broker=\"0\"} 4.5\n"
	                    "pipechat_broker_h_count{broker=\"0\"} 2\n"
	                    "pipechat_broker_h_bucket{broker=\"1\"} 7\n"
	                    "# HELP pipechat_broker_only1 Only here.\n"
	                    "# TYPE pipechat_broker_only1 gauge\n"
	                    "pipechat_broker_only1{broker=\"1\",kind=\"x\"} "
	                    "1\n"
	                    "# HELP pipechat_broker_up 1 when the broker "
	                    "answered this scrape in time, else 0.\n"
	                    "# TYPE pipechat_broker_up gauge\n"
	                    "pipechat_broker_up{broker=\"0\"} 1\n"
	                    "pipechat_broker_up{broker=\"1\"} 1\n");
	free(t);
}

static void
test_merge_broker_down(void **state)
{
	const char *texts[3] = {NULL, text0, NULL};
	char *t;

	(void)state;
	t = test_merge(texts, 3);
	assert_int_equal(test_count(t, "# TYPE pipechat_broker_a "), 1);
	assert_int_equal(test_count(t, "{broker=\"0\""), 1); /* up only */
	assert_int_equal(test_count(t, "{broker=\"2\""), 1);
	assert_non_null(strstr(t, "pipechat_broker_a{broker=\"1\"} 3\n"));
	assert_non_null(strstr(t, "pipechat_broker_up{broker=\"0\"} 0\n"
	                          "pipechat_broker_up{broker=\"1\"} 1\n"
	                          "pipechat_broker_up{broker=\"2\"} 0\n"));
	free(t);
	texts[1] = NULL;
	t = test_merge(texts, 3);
	assert_int_equal(strncmp(t, "# HELP pipechat_broker_up ", 26), 0);
	assert_int_equal(test_count(t, "} 0\n"), 3);
	free(t);
}

static void
test_merge_bounded(void **state)
{
	const char *texts[2] = {text0, text1};
	size_t lens[2] = {strlen(text0), strlen(text1)};
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, 64);
	assert_int_equal(broker_metrics_merge(texts, lens, 2, &b),
	                 PC_ERR_TOO_LARGE);
	pc_buf_free(&b, 0);
}

/* A broker stand-in: answers one request on a REP socket. */
static void *
test_rep(void *arg)
{
	nng_socket *s = arg;
	nng_msg *m;

	if (nng_recvmsg(*s, &m, 0) != 0)
		return NULL;
	nng_msg_clear(m);
	nng_msg_append(m, text0, strlen(text0));
	if (nng_sendmsg(*s, m, 0) != 0)
		nng_msg_free(m);
	return NULL;
}

static int64_t
test_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One live broker and one that is not there: both asked at once, the
 * answer comes after about the timeout, not twice it. */
static void
test_render_live_and_dead(void **state)
{
	char dir[] = "/tmp/pc-bm-XXXXXX", live[128], dead[128];
	const char *urls[2] = {live, dead};
	nng_socket rep = NNG_SOCKET_INITIALIZER;
	struct pc_buf b;
	pthread_t tid;
	int64_t t0, ms;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(live, sizeof(live), "ipc://%s/live", dir);
	snprintf(dead, sizeof(dead), "ipc://%s/dead", dir);
	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_listen(rep, live, NULL, 0), 0);
	assert_int_equal(pthread_create(&tid, NULL, test_rep, &rep), 0);
	assert_int_equal(broker_metrics_open(urls, 2), PC_OK);
	usleep(50 * 1000); /* let the dial to the live one connect */
	pc_buf_init(&b, 65536);
	t0 = test_ms();
	assert_int_equal(broker_metrics_render("/ignored/when/open", &b),
	                 PC_OK);
	ms = test_ms() - t0;
	assert_true(ms >= BROKER_METRICS_TIMEOUT_MS - 5);
	assert_true(ms < 2 * BROKER_METRICS_TIMEOUT_MS);
	assert_non_null(strstr(b.data, "pipechat_broker_a{broker=\"0\"} 3\n"));
	assert_non_null(strstr(b.data, "pipechat_broker_up{broker=\"0\"} 1\n"
	                               "pipechat_broker_up{broker=\"1\"} 0\n"));
	pc_buf_free(&b, 0);
	pthread_join(tid, NULL);
	broker_metrics_close();
	nng_close(rep);
	snprintf(live, sizeof(live), "%s/live", dir);
	unlink(live);
	rmdir(dir);
}

/* No broker configured: nothing appended. A broker directory with no
 * broker: up 0 after the timeout. */
static void
test_render_from_dir(void **state)
{
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, 65536);
	assert_int_equal(broker_metrics_render(NULL, &b), PC_OK);
	assert_int_equal(b.len, 0);
	assert_int_equal(broker_metrics_render("/nonexistent-pc-dir", &b),
	                 PC_OK);
	assert_non_null(strstr(b.data, "pipechat_broker_up{broker=\"0\"} 0\n"));
	pc_buf_free(&b, 0);
	broker_metrics_close();
	broker_metrics_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_merge_families_once),
	        cmocka_unit_test(test_merge_broker_down),
	        cmocka_unit_test(test_merge_bounded),
	        cmocka_unit_test(test_render_live_and_dead),
	        cmocka_unit_test(test_render_from_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

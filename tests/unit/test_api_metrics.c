/*
 * test_api_metrics.c: the API's counters and their Prometheus text
 * (fcgi-api/metrics.c), and the non-JSON answer they travel in
 * (resp_text, resp_render's Content-Type).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "resp.h"
#include "router.h"

static enum pc_err
test_fn(struct call *c)
{
	(void)c;
	return PC_OK;
}

static const struct route test_rows[] = {
        {"GET", "/api/a", test_fn, 0, 1},
        {"POST", "/api/b/:id", test_fn, 0, 1},
};

/* The rendered text (a static buffer, for assertions). */
static const char *
test_render(void)
{
	static char text[65536];
	struct pc_buf b;

	pc_buf_init(&b, sizeof(text) - 1);
	assert_int_equal(metrics_render(test_rows, 2, &b), PC_OK);
	memcpy(text, b.data != NULL ? b.data : "", b.len);
	text[b.len] = '\0';
	pc_buf_free(&b, 0);
	return text;
}

static int
test_setup(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

static void
test_counters_start_at_zero(void **state)
{
	const char *t;

	(void)state;
	t = test_render();
	assert_non_null(strstr(t, "# TYPE pipechat_api_logins_total counter\n"
	                          "pipechat_api_logins_total 0\n"));
	assert_non_null(strstr(t, "pipechat_api_login_failures_total 0\n"));
	assert_non_null(strstr(t, "pipechat_api_throttled_total 0\n"));
	assert_non_null(strstr(t, "pipechat_api_registrations_total 0\n"));
	/* no request yet: no request sample, but the families are typed */
	assert_null(strstr(t, "pipechat_api_requests_total{"));
	assert_non_null(
	        strstr(t, "# TYPE pipechat_api_requests_total counter"));
	assert_non_null(strstr(
	        t, "# TYPE pipechat_api_request_duration_seconds histogram"));
}

static void
test_count_events(void **state)
{
	const char *t;

	(void)state;
	metrics_count(METRICS_LOGINS);
	metrics_count(METRICS_LOGINS);
	metrics_count(METRICS_REGISTRATIONS);
	metrics_count(METRICS__MAX); /* ignored */
	t = test_render();
	assert_non_null(strstr(t, "pipechat_api_logins_total 2\n"));
	assert_non_null(strstr(t, "pipechat_api_registrations_total 1\n"));
}

static void
test_requests_by_route_and_status(void **state)
{
	const char *t;

	(void)state;
	metrics_request(test_rows, &test_rows[0], 200, 10);
	metrics_request(test_rows, &test_rows[0], 200, 10);
	metrics_request(test_rows, &test_rows[1], 422, 10);
	metrics_request(test_rows, NULL, 404, 10);
	metrics_request(test_rows, &test_rows[1], 418, 10); /* not listed */
	t = test_render();
	assert_non_null(strstr(t, "pipechat_api_requests_total{method=\"GET\","
	                          "route=\"/api/a\",status=\"200\"} 2\n"));
	assert_non_null(strstr(t, "pipechat_api_requests_total{method=\"POST\","
	                          "route=\"/api/b/:id\",status=\"422\"} 1\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_requests_total{method=\"other\","
	                       "route=\"other\",status=\"404\"} 1\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_requests_total{method=\"POST\","
	                       "route=\"/api/b/:id\",status=\"other\"} 1\n"));
}

static void
test_429_counts_as_throttled(void **state)
{
	(void)state;
	metrics_request(test_rows, &test_rows[1], 429, 10);
	assert_non_null(
	        strstr(test_render(), "pipechat_api_throttled_total 1\n"));
}

static void
test_histogram_is_cumulative(void **state)
{
	const char *t;

	(void)state;
	metrics_request(test_rows, &test_rows[0], 200, 500);      /* 0.001 */
	metrics_request(test_rows, &test_rows[0], 200, 3000);     /* 0.005 */
	metrics_request(test_rows, &test_rows[0], 200, 60000000); /* +Inf */
	t = test_render();
	assert_non_null(strstr(t,
	                       "pipechat_api_request_duration_seconds_bucket{"
	                       "method=\"GET\",route=\"/api/a\",le=\"0.001\"} "
	                       "1\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_request_duration_seconds_bucket{"
	                       "method=\"GET\",route=\"/api/a\",le=\"0.0025\"} "
	                       "1\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_request_duration_seconds_bucket{"
	                       "method=\"GET\",route=\"/api/a\",le=\"0.005\"} "
	                       "2\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_request_duration_seconds_bucket{"
	                       "method=\"GET\",route=\"/api/a\",le=\"10\"} "
	                       "2\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_request_duration_seconds_bucket{"
	                       "method=\"GET\",route=\"/api/a\",le=\"+Inf\"} "
	                       "3\n"));
	assert_non_null(strstr(t, "pipechat_api_request_duration_seconds_count{"
	                          "method=\"GET\",route=\"/api/a\"} 3\n"));
	assert_non_null(strstr(t,
	                       "pipechat_api_request_duration_seconds_sum{"
	                       "method=\"GET\",route=\"/api/a\"} 60.003500\n"));
	/* a route with no request has no histogram */
	assert_null(strstr(t, "_bucket{method=\"POST\""));
}

static void
test_render_too_small_buffer_fails(void **state)
{
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, 16);
	assert_int_equal(metrics_render(test_rows, 2, &b), PC_ERR_TOO_LARGE);
	pc_buf_free(&b, 0);
}

static void
test_now_is_monotonic(void **state)
{
	uint64_t a = metrics_now_us(), b = metrics_now_us();

	(void)state;
	assert_true(b >= a);
}

static void
test_resp_text_content_type(void **state)
{
	struct resp r;
	struct pc_buf out;
	cJSON *o;

	(void)state;
	resp_init(&r);
	pc_buf_init(&out, 1 << 16);
	assert_int_equal(resp_text(&r, 200, METRICS_CONTENT_TYPE, "x 1\n", 4),
	                 PC_OK);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(out.data, "Content-Type: text/plain; "
	                                 "version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(out.data, "Content-Length: 4\r\n\r\nx 1\n"));
	/* an error afterwards is JSON again */
	resp_error(&r, PC_ERR_FORBIDDEN, NULL, NULL);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(
	        out.data, "Content-Type: application/json; charset=utf-8"));
	assert_non_null(strstr(out.data, "\"forbidden\""));
	/* so is any JSON answer */
	assert_int_equal(resp_text(&r, 200, METRICS_CONTENT_TYPE, "y", 1),
	                 PC_OK);
	o = cJSON_CreateObject();
	assert_int_equal(resp_json(&r, 200, o), PC_OK);
	cJSON_Delete(o);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(out.data, "application/json"));
	resp_text(&r, 200, METRICS_CONTENT_TYPE, "y", 1);
	resp_no_content(&r);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(out.data, "application/json"));
	pc_buf_free(&out, 0);
	resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_counters_start_at_zero, test_setup),
	        cmocka_unit_test_setup(test_count_events, test_setup),
	        cmocka_unit_test_setup(test_requests_by_route_and_status,
	                               test_setup),
	        cmocka_unit_test_setup(test_429_counts_as_throttled,
	                               test_setup),
	        cmocka_unit_test_setup(test_histogram_is_cumulative,
	                               test_setup),
	        cmocka_unit_test_setup(test_render_too_small_buffer_fails,
	                               test_setup),
	        cmocka_unit_test(test_now_is_monotonic),
	        cmocka_unit_test(test_resp_text_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

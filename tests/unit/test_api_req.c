/*
 * test_api_req.c: request parsing edge cases (fcgi-api/req.c, call.c,
 * resp.c): query strings, cookies, Content-Type, CONTENT_LENGTH, the capped
 * body reader, ids in paths and the rendered answer's headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "call.h"
#include "req.h"
#include "resp.h"

static void
test_query(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(req_query_get("a=1&limit=50&after=7", "limit", out,
	                               sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "50");
	assert_int_equal(req_query_get("q=a+b%20c", "q", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "a b c");
	assert_int_equal(req_query_get("q=%C3%A9", "q", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "\xc3\xa9");
	/* The first occurrence wins. */
	assert_int_equal(req_query_get("x=1&x=2", "x", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "1");
	/* Empty and bare. */
	assert_int_equal(req_query_get("x=&y", "x", out, sizeof(out)), PC_OK);
	assert_string_equal(out, "");
	assert_int_equal(req_query_get("x=&y", "y", out, sizeof(out)), PC_OK);
	assert_string_equal(out, "");
	/* Names are whole: "limit" is not "lim" or "limits". */
	assert_int_equal(req_query_get("limits=5", "limit", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_query_get("lim=5", "limit", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_query_get("", "limit", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_query_get(NULL, "limit", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(
	        req_query_get("&&&limit=3&", "limit", out, sizeof(out)), PC_OK);
	assert_string_equal(out, "3");
	/* Refused: %00, bad escapes, too long for out. */
	strcpy(out, "keep");
	assert_int_equal(req_query_get("x=a%00b", "x", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_string_equal(out, "keep");
	assert_int_equal(req_query_get("x=%g1", "x", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(req_query_get("x=%1", "x", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(
	        req_query_get("x=0123456789abcdef", "x", out, sizeof(out)),
	        PC_ERR_INVALID);
}

static void
test_query_bounds(void **state)
{
	char qs[REQ_QUERY_MAX + 64], out[16];
	size_t i, n = 0;

	(void)state;
	/* Only the first REQ_QUERY_PARAMS parameters are looked at. */
	for (i = 0; i < REQ_QUERY_PARAMS; i++)
		n += (size_t)snprintf(qs + n, sizeof(qs) - n, "p%zu=1&", i);
	snprintf(qs + n, sizeof(qs) - n, "late=1");
	assert_int_equal(req_query_get(qs, "late", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_query_get(qs, "p0", out, sizeof(out)), PC_OK);
	/* An oversized query string is refused whole. */
	memset(qs, 'a', sizeof(qs) - 1);
	qs[sizeof(qs) - 1] = '\0';
	memcpy(qs, "x=1&", 4);
	assert_int_equal(req_query_get(qs, "x", out, sizeof(out)),
	                 PC_ERR_INVALID);
}

static void
test_cookie(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(req_cookie_get("access_token=abc", "access_token", out,
	                                sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "abc");
	assert_int_equal(req_cookie_get("a=1; access_token=abc.def; b=2",
	                                "access_token", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "abc.def");
	assert_int_equal(req_cookie_get("a=1;access_token=\"q\";b=2",
	                                "access_token", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "q");
	assert_int_equal(req_cookie_get("  access_token = x  ;", "access_token",
	                                out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "x");
	/* The first of two wins. */
	assert_int_equal(req_cookie_get("access_token=one; access_token=two",
	                                "access_token", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "one");
	/* Not a prefix or suffix match. */
	assert_int_equal(req_cookie_get("xaccess_token=1; access_tokenx=2",
	                                "access_token", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_cookie_get("access_token=", "access_token", out,
	                                sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_cookie_get("access_token=\"\"", "access_token",
	                                out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_cookie_get("access_token", "access_token", out,
	                                sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(
	        req_cookie_get(";;;", "access_token", out, sizeof(out)),
	        PC_ERR_NOT_FOUND);
	assert_int_equal(req_cookie_get(NULL, "access_token", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_cookie_get("access_token="
	                                "0123456789012345678901234567890123",
	                                "access_token", out, sizeof(out)),
	                 PC_ERR_TOO_LARGE);
}

static void
test_cookie_oversized_header(void **state)
{
	char *h, out[32];

	(void)state;
	h = malloc(REQ_COOKIE_MAX + 32);
	assert_non_null(h);
	strcpy(h, "access_token=x; ");
	memset(h + 16, 'a', REQ_COOKIE_MAX);
	h[REQ_COOKIE_MAX + 16] = '\0';
	assert_int_equal(req_cookie_get(h, "access_token", out, sizeof(out)),
	                 PC_ERR_NOT_FOUND);
	free(h);
}

static void
test_json_type(void **state)
{
	(void)state;
	assert_true(req_is_json_type("application/json"));
	assert_true(req_is_json_type("application/json; charset=utf-8"));
	assert_true(req_is_json_type("Application/JSON;charset=UTF-8"));
	assert_true(req_is_json_type(" application/json "));
	assert_false(req_is_json_type("application/jsonx"));
	assert_false(req_is_json_type("application/json-patch+json"));
	assert_false(req_is_json_type("text/plain"));
	assert_false(req_is_json_type(""));
	assert_false(req_is_json_type(NULL));
}

static char *const test_env[] = {
        "REQUEST_METHOD=POST",
        "REQUEST_URI=/api/rooms/5/read?x=1",
        "QUERY_STRING=x=1",
        "CONTENT_LENGTH=12",
        "CONTENT_TYPE=application/json",
        "REMOTE_ADDR=10.0.0.1",
        "HTTP_X_FORWARDED_FOR=1.2.3.4, 5.6.7.8",
        "HTTP_X_FORWARDED_PROTO=https",
        "HTTP_ORIGIN=http://localhost:8080",
        NULL,
};

static void
test_init(void **state)
{
	struct req r;

	(void)state;
	req_init(&r, test_env, NULL, NULL, NULL);
	assert_string_equal(r.method, "POST");
	assert_true(r.path_ok);
	assert_int_equal(r.nsegs, 4);
	assert_string_equal(r.segs[2], "5");
	assert_string_equal(r.query, "x=1");
	assert_int_equal(r.content_length, 12);
	assert_string_equal(r.client_addr, "10.0.0.1");
	assert_false(r.https);
	assert_null(r.cookie);
	req_free(&r);

	/* Through a trusted proxy: the last X-Forwarded-For item. */
	req_init(&r, test_env, "10.0.0.1", NULL, NULL);
	assert_string_equal(r.client_addr, "5.6.7.8");
	assert_true(r.https);
	req_free(&r);
}

static void
test_content_length(void **state)
{
	char *env[3] = {"REQUEST_URI=/api/me", NULL, NULL};
	struct req r;

	(void)state;
	req_init(&r, env, NULL, NULL, NULL);
	assert_int_equal(r.content_length, 0);
	assert_string_equal(r.method, "");
	req_free(&r);
	env[1] = "CONTENT_LENGTH=-1";
	req_init(&r, env, NULL, NULL, NULL);
	assert_int_equal(r.content_length, -1);
	req_free(&r);
	env[1] = "CONTENT_LENGTH=99999999999999999999999";
	req_init(&r, env, NULL, NULL, NULL);
	assert_int_equal(r.content_length, -1);
	req_free(&r);
	env[1] = "CONTENT_LENGTH=12x";
	req_init(&r, env, NULL, NULL, NULL);
	assert_int_equal(r.content_length, -1);
	req_free(&r);
	env[1] = "CONTENT_LENGTH=65537";
	req_init(&r, env, NULL, NULL, NULL);
	assert_int_equal(r.content_length, 65537);
	req_free(&r);
	env[0] = "REQUEST_URI=/api/%00";
	req_init(&r, env, NULL, NULL, NULL);
	assert_false(r.path_ok);
	req_free(&r);
}

struct test_src {
	const char *data;
	size_t len, pos, max_chunk, total_asked;
};

static int
test_reader(void *arg, char *buf, int n)
{
	struct test_src *s = arg;
	size_t k = (size_t)n;

	s->total_asked += (size_t)n;
	if (k > s->len - s->pos)
		k = s->len - s->pos;
	if (k > s->max_chunk)
		k = s->max_chunk;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (int)k;
}

static void
test_body(void **state)
{
	char *env[] = {"REQUEST_URI=/api/login", "CONTENT_LENGTH=7", NULL};
	struct test_src src = {"{\"a\":1}", 7, 0, 3, 0};
	struct req r;

	(void)state;
	req_init(&r, env, NULL, test_reader, &src);
	assert_int_equal(req_read_body(&r, 100), PC_OK);
	assert_int_equal(r.body.len, 7);
	assert_memory_equal(r.body.data, "{\"a\":1}", 7);
	req_free(&r);

	/* Shorter than announced. */
	src.pos = 0;
	env[1] = "CONTENT_LENGTH=9";
	req_init(&r, env, NULL, test_reader, &src);
	assert_int_equal(req_read_body(&r, 100), PC_ERR_BAD_JSON);
	req_free(&r);

	/* Over the limit: refused before a byte is read. */
	src.pos = 0;
	src.total_asked = 0;
	env[1] = "CONTENT_LENGTH=7";
	req_init(&r, env, NULL, test_reader, &src);
	assert_int_equal(req_read_body(&r, 6), PC_ERR_TOO_LARGE);
	assert_int_equal(src.total_asked, 0);
	req_free(&r);

	/* More data than announced: only the announced bytes are read. */
	src.pos = 0;
	src.total_asked = 0;
	env[1] = "CONTENT_LENGTH=2";
	req_init(&r, env, NULL, test_reader, &src);
	assert_int_equal(req_read_body(&r, 100), PC_OK);
	assert_int_equal(r.body.len, 2);
	assert_true(src.total_asked <= 2);
	req_free(&r);
}

static void
test_parse_i64(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_true(call_parse_i64("1", 1, INT64_MAX, &v));
	assert_int_equal(v, 1);
	assert_true(call_parse_i64("9223372036854775807", 1, INT64_MAX, &v));
	assert_true(v == INT64_MAX);
	assert_false(call_parse_i64("9223372036854775808", 1, INT64_MAX, &v));
	assert_false(call_parse_i64("0", 1, INT64_MAX, &v));
	assert_false(call_parse_i64("01", 1, INT64_MAX, &v));
	assert_false(call_parse_i64("-1", 1, INT64_MAX, &v));
	assert_false(call_parse_i64("+1", 1, INT64_MAX, &v));
	assert_false(call_parse_i64("1e3", 1, INT64_MAX, &v));
	assert_false(call_parse_i64(" 1", 1, INT64_MAX, &v));
	assert_false(call_parse_i64("", 1, INT64_MAX, &v));
	assert_false(call_parse_i64(NULL, 1, INT64_MAX, &v));
	assert_true(call_parse_i64("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_false(call_parse_i64("11", 0, 10, &v));
	assert_true(call_parse_i64("-5", -10, 10, &v));
	assert_int_equal(v, -5);
	assert_true(call_parse_i64("-9223372036854775808", INT64_MIN, 0, &v));
	assert_true(v == INT64_MIN);
}

static void
test_resp_render(void **state)
{
	struct resp r;
	struct pc_buf out;

	(void)state;
	resp_init(&r);
	pc_buf_init(&out, 1 << 20);
	r.retry_after = 30;
	resp_error(&r, PC_ERR_TOO_MANY_ATTEMPTS, NULL, NULL);
	assert_int_equal(r.status, 429);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(out.data, "Status: 429 Too Many Requests\r\n"));
	assert_non_null(strstr(
	        out.data, "Content-Type: application/json; charset=utf-8\r\n"));
	assert_non_null(strstr(out.data, "Cache-Control: no-store\r\n"));
	assert_non_null(strstr(out.data, "Retry-After: 30\r\n"));
	assert_non_null(
	        strstr(out.data,
	               "\r\n\r\n{\"error\":{\"code\":\"too_many_attempts\""));
	assert_non_null(strstr(out.data, "\"field\":null}}"));

	resp_error(&r, PC_ERR_INVALID, "name", "Bad name.");
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(
	        out.data,
	        "{\"error\":{\"code\":\"invalid\",\"message\":\"Bad name.\","
	        "\"field\":\"name\"}}"));

	r.retry_after = 0;
	assert_int_equal(resp_set_cookie(&r, "access_token", "t.o.k", 60, 1),
	                 PC_OK);
	resp_no_content(&r);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(out.data, "Status: 204 No Content\r\n"));
	assert_non_null(strstr(out.data, "Set-Cookie: access_token=t.o.k; "
	                                 "HttpOnly; SameSite=Lax; Path=/; "
	                                 "Max-Age=60; Secure\r\n"));
	assert_null(strstr(out.data, "Retry-After"));
	assert_int_equal(out.data[out.len - 1], '\n');

	/* An unset status is a 503 with the error shape. */
	resp_free(&r);
	resp_init(&r);
	assert_int_equal(resp_render(&r, &out), PC_OK);
	assert_non_null(strstr(out.data, "Status: 503 "));
	assert_non_null(strstr(out.data, "\"unavailable\""));
	resp_free(&r);
	pc_buf_free(&out, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_query),
	        cmocka_unit_test(test_query_bounds),
	        cmocka_unit_test(test_cookie),
	        cmocka_unit_test(test_cookie_oversized_header),
	        cmocka_unit_test(test_json_type),
	        cmocka_unit_test(test_init),
	        cmocka_unit_test(test_content_length),
	        cmocka_unit_test(test_body),
	        cmocka_unit_test(test_parse_i64),
	        cmocka_unit_test(test_resp_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

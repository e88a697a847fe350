/*
 * test_api_routes.c: the API's route table and router (fcgi-api/routes.c,
 * router.c): every row complete and well formed, no duplicate or ambiguous
 * rows, and the matcher's params, 404 vs 405 (with Allow), trailing slash
 * and percent-decoding through req_split_path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "req.h"
#include "router.h"

static const char *const test_methods[] = {"GET", "POST", "PUT", "PATCH",
                                           "DELETE"};

static int
test_method_ok(const char *m)
{
	size_t i;

	for (i = 0; i < sizeof(test_methods) / sizeof(test_methods[0]); i++) {
		if (m != NULL && strcmp(m, test_methods[i]) == 0)
			return 1;
	}
	return 0;
}

/* Splits a pattern into segments (in buf). */
static size_t
test_split(const char *pattern, char *buf, size_t size, const char **segs)
{
	size_t n = 0;
	char *p;

	strncpy(buf, pattern, size - 1);
	buf[size - 1] = '\0';
	for (p = strtok(buf, "/"); p != NULL; p = strtok(NULL, "/"))
		segs[n++] = p;
	return n;
}

/* Two patterns overlap when some path matches both. */
static int
test_overlap(const char *a, const char *b)
{
	char ba[512], bb[512];
	const char *sa[ROUTER_MAX_SEGS + 1], *sb[ROUTER_MAX_SEGS + 1];
	size_t na, nb, i;

	na = test_split(a, ba, sizeof(ba), sa);
	nb = test_split(b, bb, sizeof(bb), sb);
	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		if (sa[i][0] == ':' || sb[i][0] == ':')
			continue;
		if (strcmp(sa[i], sb[i]) != 0)
			return 0;
	}
	return 1;
}

static void
test_table_rows_complete(void **state)
{
	size_t i;

	(void)state;
	assert_true(routes_count > 0);
	for (i = 0; i < routes_count; i++) {
		const struct route *r = &routes[i];

		if (!test_method_ok(r->method) ||
		    !router_pattern_ok(r->pattern) || r->fn == NULL ||
		    r->body_max == 0 || r->body_max > ROUTE_BODY_MAX)
			fail_msg("route %zu (%s %s) is incomplete or malformed",
			         i, r->method ? r->method : "?",
			         r->pattern ? r->pattern : "?");
		/* A JSON route must be a method that carries a body. */
		if ((r->flags & ROUTE_JSON) && strcmp(r->method, "GET") == 0)
			fail_msg("GET %s expects a JSON body", r->pattern);
	}
}

static void
test_table_no_duplicates(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < routes_count; i++) {
		for (j = i + 1; j < routes_count; j++) {
			if (strcmp(routes[i].method, routes[j].method) != 0)
				continue;
			if (strcmp(routes[i].pattern, routes[j].pattern) == 0 ||
			    test_overlap(routes[i].pattern, routes[j].pattern))
				fail_msg("%s %s and %s overlap",
				         routes[i].method, routes[i].pattern,
				         routes[j].pattern);
		}
	}
}

static void
test_pattern_ok(void **state)
{
	(void)state;
	assert_true(router_pattern_ok("/api/me"));
	assert_true(router_pattern_ok("/api/rooms/:id/messages/:seq"));
	assert_true(router_pattern_ok("/api/logout-all"));
	assert_false(router_pattern_ok("/api"));
	assert_false(router_pattern_ok("/other/me"));
	assert_false(router_pattern_ok("/api/me/"));
	assert_false(router_pattern_ok("/api//me"));
	assert_false(router_pattern_ok("/api/Me"));
	assert_false(router_pattern_ok("/api/rooms/:"));
	assert_false(router_pattern_ok("/api/rooms/:ID"));
	assert_false(router_pattern_ok("/api/:id/:id"));
	assert_false(router_pattern_ok("/api/:a/:b/:c/:d/:e"));
	assert_false(router_pattern_ok(NULL));
}

static enum pc_err
test_h(struct call *c)
{
	(void)c;
	return PC_OK;
}

static const struct route test_rows[] = {
        {"GET", "/api/rooms", test_h, 0, 1},
        {"POST", "/api/rooms", test_h, 0, 1},
        {"GET", "/api/rooms/:id", test_h, 0, 1},
        {"PATCH", "/api/rooms/:id", test_h, 0, 1},
        {"DELETE", "/api/rooms/:id", test_h, 0, 1},
        {"GET", "/api/rooms/:id/messages", test_h, 0, 1},
        {"PATCH", "/api/rooms/:id/messages/:seq", test_h, 0, 1},
        {"POST", "/api/rooms/:id/join", test_h, 0, 1},
};
#define TEST_NROWS (sizeof(test_rows) / sizeof(test_rows[0]))

/* Routes a raw URI the way serve() does. */
static enum pc_err
test_route(const char *method, const char *uri, struct router_match *m,
           char *allow, char *pathbuf)
{
	const char *segs[ROUTER_MAX_SEGS];
	size_t n = 0;
	enum pc_err rc;

	rc = req_split_path(uri, pathbuf, REQ_PATH_MAX, segs, ROUTER_MAX_SEGS,
	                    &n);
	if (rc != PC_OK)
		return rc;
	return router_match(test_rows, TEST_NROWS, method, segs, n, m, allow,
	                    ROUTER_ALLOW_MAX);
}

static void
test_match_params(void **state)
{
	struct router_match m;
	char allow[ROUTER_ALLOW_MAX], path[REQ_PATH_MAX];

	(void)state;
	assert_int_equal(test_route("GET", "/api/rooms/12", &m, allow, path),
	                 PC_OK);
	assert_ptr_equal(m.route, &test_rows[2]);
	assert_string_equal(router_param(&m, "id"), "12");
	assert_null(router_param(&m, "seq"));

	assert_int_equal(test_route("PATCH", "/api/rooms/7/messages/99?x=1", &m,
	                            allow, path),
	                 PC_OK);
	assert_ptr_equal(m.route, &test_rows[6]);
	assert_string_equal(router_param(&m, "id"), "7");
	assert_string_equal(router_param(&m, "seq"), "99");

	assert_int_equal(
	        test_route("GET", "/api/rooms?limit=5", &m, allow, path),
	        PC_OK);
	assert_ptr_equal(m.route, &test_rows[0]);
}

static void
test_404_vs_405(void **state)
{
	struct router_match m;
	char allow[ROUTER_ALLOW_MAX], path[REQ_PATH_MAX];

	(void)state;
	assert_int_equal(test_route("PUT", "/api/rooms/1", &m, allow, path),
	                 PC_ERR_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "GET, PATCH, DELETE");
	assert_int_equal(test_route("DELETE", "/api/rooms", &m, allow, path),
	                 PC_ERR_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "GET, POST");
	assert_int_equal(
	        test_route("HEAD", "/api/rooms/1/join", &m, allow, path),
	        PC_ERR_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "POST");
	assert_int_equal(test_route("GET", "/api/nothing", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(
	        test_route("GET", "/api/rooms/1/2/3/4", &m, allow, path),
	        PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/api", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("", "/api/rooms", &m, allow, path),
	                 PC_ERR_METHOD_NOT_ALLOWED);
}

static void
test_trailing_slash(void **state)
{
	struct router_match m;
	char allow[ROUTER_ALLOW_MAX], path[REQ_PATH_MAX];

	(void)state;
	/* A trailing or doubled slash is another path: 404, never 405. */
	assert_int_equal(test_route("GET", "/api/rooms/", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/api/rooms/1/", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/api//rooms", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(
	        test_route("GET", "/api/rooms//messages", &m, allow, path),
	        PC_ERR_NOT_FOUND);
}

static void
test_percent_decoding(void **state)
{
	struct router_match m;
	char allow[ROUTER_ALLOW_MAX], path[REQ_PATH_MAX];

	(void)state;
	assert_int_equal(
	        test_route("GET", "/api/r%6Foms/4%32", &m, allow, path), PC_OK);
	assert_string_equal(router_param(&m, "id"), "42");
	/* An encoded slash stays inside its segment. */
	assert_int_equal(
	        test_route("GET", "/api/rooms/1%2Fmessages", &m, allow, path),
	        PC_OK);
	assert_string_equal(router_param(&m, "id"), "1/messages");
	assert_int_equal(test_route("GET", "/api/rooms/%00", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/api/rooms/%4", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/api/rooms/%zz", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(test_route("GET", "/api/rooms/%", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
	/* '+' is a plus in a path, not a space. */
	assert_int_equal(test_route("GET", "/api/rooms/a+b", &m, allow, path),
	                 PC_OK);
	assert_string_equal(router_param(&m, "id"), "a+b");
	/* Case matters in literals. */
	assert_int_equal(test_route("GET", "/api/ROOMS", &m, allow, path),
	                 PC_ERR_NOT_FOUND);
}

static void
test_split_limits(void **state)
{
	char path[REQ_PATH_MAX], big[REQ_PATH_MAX + 10];
	const char *segs[ROUTER_MAX_SEGS];
	size_t n = 99;

	(void)state;
	assert_int_equal(req_split_path("api/me", path, sizeof(path), segs,
	                                ROUTER_MAX_SEGS, &n),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_split_path(NULL, path, sizeof(path), segs,
	                                ROUTER_MAX_SEGS, &n),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(n, 99); /* untouched on failure */
	assert_int_equal(req_split_path("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
	                                path, sizeof(path), segs,
	                                ROUTER_MAX_SEGS, &n),
	                 PC_ERR_NOT_FOUND);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(req_split_path(big, path, sizeof(path), segs,
	                                ROUTER_MAX_SEGS, &n),
	                 PC_ERR_NOT_FOUND);
	assert_int_equal(req_split_path("/", path, sizeof(path), segs,
	                                ROUTER_MAX_SEGS, &n),
	                 PC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(segs[0], "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table_rows_complete),
	        cmocka_unit_test(test_table_no_duplicates),
	        cmocka_unit_test(test_pattern_ok),
	        cmocka_unit_test(test_match_params),
	        cmocka_unit_test(test_404_vs_405),
	        cmocka_unit_test(test_trailing_slash),
	        cmocka_unit_test(test_percent_decoding),
	        cmocka_unit_test(test_split_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

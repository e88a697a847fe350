/*
 * test_api_serve.c: the rule of ROUTE_SESSION_SQL (fcgi-api/router.h): only
 * on authenticated GET routes, since such a handler runs its statement
 * before the session is confirmed and must change nothing; and the two
 * busiest reads (history, /api/me) use it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "router.h"

static void
test_session_sql_rows_are_authenticated_gets(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < routes_count; i++) {
		if (!(routes[i].flags & ROUTE_SESSION_SQL))
			continue;
		assert_string_equal(routes[i].method, "GET");
		assert_true(routes[i].flags & ROUTE_AUTH);
		assert_false(routes[i].flags & (ROUTE_JSON | ROUTE_NODB));
	}
}

static void
test_hot_reads_use_session_sql(void **state)
{
	static const char *const hot[] = {"/api/me", "/api/rooms/:id/messages"};
	size_t i, j, found;

	(void)state;
	for (j = 0; j < sizeof(hot) / sizeof(hot[0]); j++) {
		found = 0;
		for (i = 0; i < routes_count; i++) {
			if (strcmp(routes[i].method, "GET") == 0 &&
			    strcmp(routes[i].pattern, hot[j]) == 0) {
				assert_true(routes[i].flags &
				            ROUTE_SESSION_SQL);
				found = 1;
			}
		}
		assert_true(found);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_session_sql_rows_are_authenticated_gets),
	        cmocka_unit_test(test_hot_reads_use_session_sql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_api_db.c: what fcgi-api/db.c does without a server: DB_TS_RAW text
 * turned into RFC 3339 with milliseconds exactly as to_char's DB_TS would
 * (truncated, never rounded), and other shapes refused.
 * (The prepared-statement cache needs a server: the integration tests run
 * every statement through it.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"

static void
test_ts_converts(void **state)
{
	static const char *const cases[][2] = {
	        {"2024-01-31 12:00:00", "2024-01-31T12:00:00.000Z"},
	        {"2024-01-31 12:00:00.1", "2024-01-31T12:00:00.100Z"},
	        {"2024-01-31 12:00:00.12", "2024-01-31T12:00:00.120Z"},
	        {"2024-01-31 12:00:00.123", "2024-01-31T12:00:00.123Z"},
	        {"2024-01-31 12:00:00.1239", "2024-01-31T12:00:00.123Z"},
	        {"2024-02-29 23:59:59.999999", "2024-02-29T23:59:59.999Z"},
	        {"0001-01-01 00:00:00.000001", "0001-01-01T00:00:00.000Z"},
	        {"2016-12-31 23:59:60", "2016-12-31T23:59:60.000Z"},
	};
	char out[DB_TS_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(db_ts_rfc3339(cases[i][0], out), PC_OK);
		assert_string_equal(out, cases[i][1]);
	}
}

static void
test_ts_refuses_other_shapes(void **state)
{
	static const char *const bad[] = {
	        "",
	        "2024-01-31",
	        "2024-01-31T12:00:00",         /* not ISO DateStyle */
	        "2024-01-31 12:00:00+00",      /* with a zone */
	        "2024-01-31 12:00:00.",        /* empty fraction */
	        "2024-01-31 12:00:00.1234567", /* seven digits */
	        "12024-01-31 12:00:00",        /* five-digit year */
	        "2024-01-31 12:00:00 BC",
	        "01/31/2024 12:00:00", /* SQL DateStyle */
	        "2024-13-31 12:00:00",
	        "2024-01-31 24:00:00",
	        "2024-01-31 12:00:00.12x",
	};
	char out[DB_TS_LEN] = "unchanged";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(db_ts_rfc3339(bad[i], out), PC_ERR_INTERNAL);
		assert_string_equal(out, "unchanged");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ts_converts),
	        cmocka_unit_test(test_ts_refuses_other_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

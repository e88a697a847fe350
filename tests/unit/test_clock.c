/*
 * test_clock.c: RFC 3339 formatting (UTC, milliseconds, 'Z', negative
 * times) and that the clocks move forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"

static void
test_rfc3339(void **state)
{
	char out[PC_RFC3339_LEN];

	(void)state;
	pc_clock_rfc3339(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	pc_clock_rfc3339(INT64_C(1795683184123), out, sizeof(out));
	assert_string_equal(out, "2026-11-26T08:53:04.123Z");
	assert_int_equal(strlen(out), PC_RFC3339_LEN - 1);
	pc_clock_rfc3339(INT64_C(951782400007), out, sizeof(out));
	assert_string_equal(out, "2000-02-29T00:00:00.007Z");
	pc_clock_rfc3339(-1, out, sizeof(out));
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	/* A short buffer is cut, never overrun. */
	memset(out, 'x', sizeof(out));
	pc_clock_rfc3339(0, out, 5);
	assert_string_equal(out, "1970");
}

static void
test_clocks(void **state)
{
	int64_t a, b, now;

	(void)state;
	now = pc_clock_now_ms();
	assert_true(now > INT64_C(1700000000000));
	a = pc_clock_mono_ms();
	b = pc_clock_mono_ms();
	assert_true(b >= a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc3339),
	        cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_buf.c: the bounded buffer: appends up to max and not one byte more,
 * failure leaves the buffer unchanged, growth keeps the contents, take and
 * reset, printf, overflow-sized requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void
test_append_to_max(void **state)
{
	struct pc_buf b;
	char big[1000];

	(void)state;
	memset(big, 'x', sizeof(big));
	pc_buf_init(&b, 1000);
	assert_int_equal(pc_buf_append(&b, big, 999), PC_OK);
	assert_int_equal(pc_buf_append(&b, "ab", 2), PC_ERR_TOO_LARGE);
	assert_int_equal(b.len, 999);
	assert_int_equal(b.data[999], '\0');
	assert_int_equal(pc_buf_append(&b, "a", 1), PC_OK);
	assert_int_equal(b.len, 1000);
	assert_int_equal(pc_buf_append(&b, "a", 1), PC_ERR_TOO_LARGE);
	assert_int_equal(pc_buf_append(&b, "", 0), PC_OK);
	assert_true(b.cap <= 1001);
	pc_buf_free(&b, 1);
	assert_null(b.data);
}

static void
test_growth_keeps_data(void **state)
{
	struct pc_buf b = {.max = 1 << 20};
	size_t i;
	char c;

	(void)state;
	for (i = 0; i < 10000; i++) {
		c = (char)('a' + i % 26);
		assert_int_equal(pc_buf_append(&b, &c, 1), PC_OK);
	}
	assert_int_equal(b.len, 10000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);
	assert_int_equal(strlen(b.data), 10000);
	pc_buf_free(&b, 0);
}

static void
test_overflow_sizes(void **state)
{
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, SIZE_MAX);
	assert_int_equal(pc_buf_append(&b, "abc", 3), PC_OK);
	assert_int_equal(pc_buf_append(&b, "x", SIZE_MAX), PC_ERR_TOO_LARGE);
	assert_int_equal(pc_buf_append(&b, "x", SIZE_MAX - 2),
	                 PC_ERR_TOO_LARGE);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	pc_buf_free(&b, 0);

	pc_buf_init(&b, 0);
	assert_int_equal(pc_buf_append(&b, "a", 1), PC_ERR_TOO_LARGE);
	assert_null(b.data);
	pc_buf_free(&b, 0);
}

static void
test_printf_puts(void **state)
{
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, 16);
	assert_int_equal(pc_buf_puts(&b, "id="), PC_OK);
	assert_int_equal(pc_buf_printf(&b, "%d,%s", 42, "ok"), PC_OK);
	assert_string_equal(b.data, "id=42,ok");
	assert_int_equal(pc_buf_printf(&b, "%s", "123456789"),
	                 PC_ERR_TOO_LARGE);
	assert_string_equal(b.data, "id=42,ok");
	assert_int_equal(pc_buf_printf(&b, "%s", "12345678"), PC_OK);
	assert_int_equal(b.len, 16);
	assert_string_equal(b.data, "id=42,ok12345678");
	pc_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(pc_buf_puts(&b, "again"), PC_OK);
	assert_string_equal(b.data, "again");
	pc_buf_free(&b, 1);
}

static void
test_take(void **state)
{
	struct pc_buf b;
	size_t len = 99;
	char *s;

	(void)state;
	pc_buf_init(&b, 100);
	s = pc_buf_take(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	assert_int_equal(pc_buf_puts(&b, "hello"), PC_OK);
	s = pc_buf_take(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	free(s);
	/* Still usable after take. */
	assert_int_equal(pc_buf_puts(&b, "x"), PC_OK);
	pc_buf_free(&b, 0);
	pc_buf_free(NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_append_to_max),
	        cmocka_unit_test(test_growth_keeps_data),
	        cmocka_unit_test(test_overflow_sizes),
	        cmocka_unit_test(test_printf_puts),
	        cmocka_unit_test(test_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

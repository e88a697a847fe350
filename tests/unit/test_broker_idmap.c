/*
 * test_broker_idmap.c: the id -> pointer hash map: put, get, replace,
 * delete with backward shift (every other key still found after heavy
 * churn, checked against a plain array), iteration sees each key once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "idmap.h"

#define N 20000

static void
test_basic(void **state)
{
	struct idmap m;
	int a, b;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_null(idmap_get(&m, 1));
	assert_null(idmap_del(&m, 1));
	assert_int_equal(idmap_put(&m, 1, &a), PC_OK);
	assert_ptr_equal(idmap_get(&m, 1), &a);
	assert_int_equal(idmap_put(&m, 1, &b), PC_OK); /* replace */
	assert_int_equal(m.len, 1);
	assert_ptr_equal(idmap_get(&m, 1), &b);
	assert_null(idmap_get(&m, 0));
	assert_null(idmap_get(&m, -5));
	assert_ptr_equal(idmap_del(&m, 1), &b);
	assert_int_equal(m.len, 0);
	idmap_free(&m);
	idmap_free(&m);
}

static void
test_churn(void **state)
{
	struct idmap m;
	static char present[N + 1];
	static int vals[N + 1];
	int64_t k, key;
	void *val;
	size_t pos = 0, seen = 0, want = 0;
	unsigned x = 12345;
	int round;

	(void)state;
	memset(&m, 0, sizeof(m));
	for (round = 0; round < 200000; round++) {
		x = x * 1103515245u + 12345u;
		k = (int64_t)(x % N) + 1;
		if (present[k]) {
			assert_ptr_equal(idmap_del(&m, k), &vals[k]);
			present[k] = 0;
		} else {
			assert_int_equal(idmap_put(&m, k, &vals[k]), PC_OK);
			present[k] = 1;
		}
	}
	for (k = 1; k <= N; k++) {
		if (present[k]) {
			want++;
			assert_ptr_equal(idmap_get(&m, k), &vals[k]);
		} else
			assert_null(idmap_get(&m, k));
	}
	assert_int_equal(m.len, want);
	while (idmap_next(&m, &pos, &key, &val)) {
		assert_true(present[key]);
		present[key] = 2; /* seen once */
		seen++;
	}
	assert_int_equal(seen, want);
	idmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_basic),
	        cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_broker_limits.c: per-user token buckets with an injected clock:
 * a burst, then refusal with a retry time that is right to the millisecond,
 * refill at the rate and never past the burst, kinds and users independent,
 * typing and calls at twice their rate, idle users forgotten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "limits.h"

static const struct pc_limits cfg = {
        .send_rate = 10,
        .send_burst = 20,
        .typing_rate = 2,
        .call_rate = 20,
        .max_rooms_per_socket = 100,
        .max_sockets_per_user = 20,
};

static int
take_all(struct limits *l, int64_t user, enum limits_kind k, int64_t now)
{
	int64_t retry;
	int n = 0;

	while (limits_take(l, user, k, now, &retry) == PC_OK)
		n++;
	return n;
}

static void
test_burst_then_limited(void **state)
{
	struct limits l;
	int64_t retry = -1;

	(void)state;
	limits_init(&l, &cfg);
	assert_int_equal(take_all(&l, 7, LIMITS_SEND, 1000), 20);
	assert_int_equal(limits_take(&l, 7, LIMITS_SEND, 1000, &retry),
	                 PC_ERR_RATE_LIMITED);
	assert_int_equal(retry, 100); /* one token per 100 ms at 10/s */
	assert_int_equal(limits_take(&l, 7, LIMITS_SEND, 1099, &retry),
	                 PC_ERR_RATE_LIMITED);
	assert_int_equal(retry, 1);
	assert_int_equal(limits_take(&l, 7, LIMITS_SEND, 1100, &retry), PC_OK);
	limits_free(&l);
}

static void
test_refill_capped(void **state)
{
	struct limits l;

	(void)state;
	limits_init(&l, &cfg);
	assert_int_equal(take_all(&l, 1, LIMITS_SEND, 0), 20);
	/* one second: 10 tokens */
	assert_int_equal(take_all(&l, 1, LIMITS_SEND, 1000), 10);
	/* an hour: never more than the burst */
	assert_int_equal(take_all(&l, 1, LIMITS_SEND, 3600 * 1000), 20);
	/* a clock that goes back gives nothing */
	assert_int_equal(take_all(&l, 1, LIMITS_SEND, 0), 0);
	limits_free(&l);
}

static void
test_kinds_and_users_apart(void **state)
{
	struct limits l;

	(void)state;
	limits_init(&l, &cfg);
	assert_int_equal(take_all(&l, 1, LIMITS_SEND, 0), 20);
	assert_int_equal(take_all(&l, 1, LIMITS_TYPING, 0),
	                 4); /* 2/s, burst 4 */
	assert_int_equal(take_all(&l, 1, LIMITS_CALL, 0),
	                 40); /* 20/s, burst 40 */
	assert_int_equal(take_all(&l, 2, LIMITS_SEND, 0),
	                 20); /* another user */
	limits_free(&l);
}

static void
test_gc_forgets_idle(void **state)
{
	struct limits l;
	int64_t retry;

	(void)state;
	limits_init(&l, &cfg);
	assert_int_equal(limits_take(&l, 1, LIMITS_SEND, 0, &retry), PC_OK);
	assert_int_equal(limits_take(&l, 2, LIMITS_TYPING, 0, &retry), PC_OK);
	assert_int_equal(l.users.len, 2);
	limits_gc(&l, 50); /* neither bucket is full again yet */
	assert_int_equal(l.users.len, 2);
	limits_gc(&l, 1000); /* both refilled */
	assert_int_equal(l.users.len, 0);
	limits_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_burst_then_limited),
	        cmocka_unit_test(test_refill_capped),
	        cmocka_unit_test(test_kinds_and_users_apart),
	        cmocka_unit_test(test_gc_forgets_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

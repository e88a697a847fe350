/*
 * test_broker_recent.c: the per-room ring of rendered messages: holds a
 * contiguous run of seqs, evicts the oldest when full, resets on a seq that
 * does not follow, answers coverage exactly, and counts references right
 * (frames are freed once the ring and the caller let go; ASan checks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "frame.h"
#include "recent.h"

static struct frame *
line(int64_t seq)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "m%lld", (long long)seq);
	return frame_from(buf, strlen(buf));
}

static void
push(struct recent *r, int64_t seq)
{
	struct frame *f = line(seq);

	assert_non_null(f);
	assert_int_equal(recent_push(r, seq, f), PC_OK);
	frame_unref(f); /* the ring keeps its own reference */
}

static void
test_empty(void **state)
{
	struct recent r;

	(void)state;
	recent_init(&r, 4);
	assert_null(recent_get(&r, 1));
	assert_true(recent_covers(&r, 5, 4)); /* empty range */
	assert_false(recent_covers(&r, 1, 1));
	assert_int_equal(recent_first(&r), 0);
	assert_int_equal(recent_last(&r), 0);
	recent_free(&r);
	recent_free(&r);
}

static void
test_eviction(void **state)
{
	struct recent r;
	int64_t s;

	(void)state;
	recent_init(&r, 4);
	for (s = 10; s <= 15; s++)
		push(&r, s);
	assert_int_equal(recent_first(&r), 12);
	assert_int_equal(recent_last(&r), 15);
	assert_null(recent_get(&r, 11));
	for (s = 12; s <= 15; s++) {
		char want[16];

		snprintf(want, sizeof(want), "m%lld", (long long)s);
		assert_string_equal(recent_get(&r, s)->data, want);
	}
	assert_true(recent_covers(&r, 12, 15));
	assert_true(recent_covers(&r, 13, 14));
	assert_false(recent_covers(&r, 11, 15));
	assert_false(recent_covers(&r, 12, 16));
	recent_free(&r);
}

static void
test_discontiguous_resets(void **state)
{
	struct recent r;

	(void)state;
	recent_init(&r, 8);
	push(&r, 1);
	push(&r, 2);
	push(&r, 5); /* 3 and 4 were never pushed: the ring starts over */
	assert_int_equal(recent_first(&r), 5);
	assert_int_equal(recent_last(&r), 5);
	assert_null(recent_get(&r, 2));
	push(&r, 6);
	assert_true(recent_covers(&r, 5, 6));
	push(&r, 6); /* a repeat is not last + 1 either */
	assert_int_equal(recent_first(&r), 6);
	recent_clear(&r);
	assert_int_equal(recent_last(&r), 0);
	push(&r, 100);
	assert_non_null(recent_get(&r, 100));
	recent_free(&r);
}

static void
test_shared_reference(void **state)
{
	struct recent r;
	struct frame *f = line(1);

	(void)state;
	recent_init(&r, 2);
	assert_int_equal(recent_push(&r, 1, f), PC_OK);
	assert_int_equal(f->refs, 2);
	push(&r, 2);
	push(&r, 3); /* evicts seq 1: the ring drops its reference */
	assert_int_equal(f->refs, 1);
	frame_unref(f);
	recent_free(&r);
}

static void
test_wraps_many_times(void **state)
{
	struct recent r;
	int64_t s;

	(void)state;
	recent_init(&r, RECENT_CAP);
	for (s = 1; s <= 5000; s++)
		push(&r, s);
	assert_int_equal(recent_first(&r), 5000 - RECENT_CAP + 1);
	assert_true(recent_covers(&r, 5000 - 499, 5000));
	for (s = recent_first(&r); s <= 5000; s++)
		assert_non_null(recent_get(&r, s));
	recent_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_empty),
	        cmocka_unit_test(test_eviction),
	        cmocka_unit_test(test_discontiguous_resets),
	        cmocka_unit_test(test_shared_reference),
	        cmocka_unit_test(test_wraps_many_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_api_histcache.c: the per-thread copies of history pages
 * (fcgi-api/histcache.c): a copy comes back with its version for its own
 * key only, a new put replaces it, a page over HISTCACHE_BODY_MAX is not
 * kept (and empties its slot), another thread sees none of this thread's
 * copies, and histcache_thread_free forgets them all; a vouch holds only
 * for its session under unmoved counters, for less than HISTCACHE_VOUCH_MS.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "histcache.h"

static struct histcache_key
test_key(int64_t room, int64_t bound, int64_t limit, int asc)
{
	struct histcache_key k;

	memset(&k, 0, sizeof(k));
	k.room = room;
	k.bound = bound;
	k.limit = limit;
	k.ascending = asc;
	return k;
}

static void
test_put_get_replace(void **state)
{
	struct histcache_key k = test_key(7, INT64_MAX, 50, 0), other;
	struct histcache_ver v = {500, 3, 1}, got;
	const char *body;
	size_t len = 0;

	(void)state;
	assert_null(histcache_get(&k, &got, &len));
	histcache_put(&k, &v, "{\"a\":1}", 7);
	body = histcache_get(&k, &got, &len);
	assert_non_null(body);
	assert_int_equal(len, 7);
	assert_memory_equal(body, "{\"a\":1}", 7);
	assert_int_equal(got.last_seq, 500);
	assert_int_equal(got.hist_ver, 3);
	assert_int_equal(got.epoch, 1);
	/* every field of the key counts */
	other = test_key(8, INT64_MAX, 50, 0);
	assert_null(histcache_get(&other, &got, &len));
	other = test_key(7, 100, 50, 0);
	assert_null(histcache_get(&other, &got, &len));
	other = test_key(7, INT64_MAX, 51, 0);
	assert_null(histcache_get(&other, &got, &len));
	other = test_key(7, INT64_MAX, 50, 1);
	assert_null(histcache_get(&other, &got, &len));
	/* a new version replaces the copy */
	v.last_seq = 501;
	histcache_put(&k, &v, "{}", 2);
	body = histcache_get(&k, &got, &len);
	assert_non_null(body);
	assert_int_equal(len, 2);
	assert_int_equal(got.last_seq, 501);
	histcache_thread_free();
	assert_null(histcache_get(&k, &got, &len));
}

/* A copy starts unconfirmed; histcache_confirm marks it; a new copy (the
 * room changed) starts unconfirmed again; another key is never confirmed. */
static void
test_confirmed_until_replaced(void **state)
{
	struct histcache_key k = test_key(9, INT64_MAX, 50, 0);
	struct histcache_key other = test_key(9, INT64_MAX, 20, 0);
	struct histcache_ver v = {10, 0, 1};

	(void)state;
	assert_false(histcache_confirmed(&k));
	histcache_confirm(&k); /* no copy: nothing */
	assert_false(histcache_confirmed(&k));
	histcache_put(&k, &v, "{}", 2);
	assert_false(histcache_confirmed(&k));
	histcache_confirm(&k);
	assert_true(histcache_confirmed(&k));
	assert_false(histcache_confirmed(&other));
	v.last_seq = 11;
	histcache_put(&k, &v, "{}", 2);
	assert_false(histcache_confirmed(&k));
	histcache_thread_free();
	assert_false(histcache_confirmed(&k));
}

/*
 * A vouch holds for its own session and user, with the very counters it was
 * made under, for less than HISTCACHE_VOUCH_MS; never with boards off; a
 * new copy starts with none; HISTCACHE_VIEWERS sessions at once, the oldest
 * replaced; vouching again renews.
 */
static void
test_vouched_for_one_session_and_counters(void **state)
{
	struct histcache_key k = test_key(5, INT64_MAX, 50, 0);
	struct histcache_ver v = {3, 0, 1};
	struct stamp st = {7, 2, 1}, moved, off = {7, 2, 0};
	char sid[16];
	int i;

	(void)state;
	histcache_vouch(&k, "s1", 10, &st, 1000); /* no copy: nothing */
	assert_false(histcache_vouched(&k, "s1", 10, &st, 1000));
	histcache_put(&k, &v, "{}", 2);
	assert_false(histcache_vouched(&k, "s1", 10, &st, 1000));
	histcache_vouch(&k, "s1", 10, &st, 1000);
	assert_true(histcache_vouched(&k, "s1", 10, &st, 1000));
	assert_true(histcache_vouched(&k, "s1", 10, &st,
	                              1000 + HISTCACHE_VOUCH_MS - 1));
	assert_false(histcache_vouched(&k, "s1", 10, &st,
	                               1000 + HISTCACHE_VOUCH_MS));
	assert_false(histcache_vouched(&k, "s1", 10, &st, 999));
	assert_false(histcache_vouched(&k, "s2", 10, &st, 1000));
	assert_false(histcache_vouched(&k, "s1", 11, &st, 1000));
	moved = st;
	moved.global++;
	assert_false(histcache_vouched(&k, "s1", 10, &moved, 1000));
	moved = st;
	moved.room++;
	assert_false(histcache_vouched(&k, "s1", 10, &moved, 1000));
	assert_false(histcache_vouched(&k, "s1", 10, &off, 1000));
	/* Renewed under the moved counters. */
	histcache_vouch(&k, "s1", 10, &moved, 2000);
	assert_true(histcache_vouched(&k, "s1", 10, &moved, 2500));
	assert_false(histcache_vouched(&k, "s1", 10, &st, 2500));
	/* Boards off: nothing is vouched. */
	histcache_vouch(&k, "s9", 10, &off, 2000);
	assert_false(histcache_vouched(&k, "s9", 10, &off, 2000));
	/* HISTCACHE_VIEWERS more sessions push s1 out. */
	for (i = 0; i < HISTCACHE_VIEWERS; i++) {
		snprintf(sid, sizeof(sid), "other%d", i);
		histcache_vouch(&k, sid, 20 + i, &moved, 2000);
		assert_true(histcache_vouched(&k, sid, 20 + i, &moved, 2000));
	}
	assert_false(histcache_vouched(&k, "s1", 10, &moved, 2500));
	/* A new copy starts with no vouch. */
	histcache_put(&k, &v, "{}", 2);
	assert_false(histcache_vouched(&k, "other0", 20, &moved, 2000));
	histcache_thread_free();
}

static void
test_too_big_is_not_kept(void **state)
{
	struct histcache_key k = test_key(9, INT64_MAX, 200, 0);
	struct histcache_ver v = {1, 0, 0}, got;
	char *big;
	size_t len = 0;

	(void)state;
	big = calloc(1, HISTCACHE_BODY_MAX + 1);
	assert_non_null(big);
	histcache_put(&k, &v, "{}", 2);
	assert_non_null(histcache_get(&k, &got, &len));
	histcache_put(&k, &v, big, HISTCACHE_BODY_MAX + 1);
	assert_null(histcache_get(&k, &got, &len));
	histcache_put(&k, &v, big, HISTCACHE_BODY_MAX);
	assert_non_null(histcache_get(&k, &got, &len));
	assert_int_equal(len, HISTCACHE_BODY_MAX);
	free(big);
	histcache_thread_free();
}

static void *
test_other_thread(void *arg)
{
	struct histcache_key k = test_key(11, INT64_MAX, 50, 0);
	struct histcache_ver got;
	size_t len = 0;

	(void)arg;
	return (void *)(uintptr_t)(histcache_get(&k, &got, &len) != NULL);
}

static void
test_threads_do_not_share(void **state)
{
	struct histcache_key k = test_key(11, INT64_MAX, 50, 0);
	struct histcache_ver v = {1, 0, 0};
	pthread_t th;
	void *seen = NULL;

	(void)state;
	histcache_put(&k, &v, "{}", 2);
	assert_int_equal(pthread_create(&th, NULL, test_other_thread, NULL), 0);
	pthread_join(th, &seen);
	assert_null(seen);
	histcache_thread_free();
}

static void
test_many_keys_stay_bounded(void **state)
{
	struct histcache_key k;
	struct histcache_ver v = {1, 0, 0}, got;
	size_t len = 0, kept = 0;
	int64_t i;

	(void)state;
	for (i = 0; i < 10 * HISTCACHE_SLOTS; i++) {
		k = test_key(i, INT64_MAX, 50, 0);
		histcache_put(&k, &v, "{}", 2);
	}
	for (i = 0; i < 10 * HISTCACHE_SLOTS; i++) {
		k = test_key(i, INT64_MAX, 50, 0);
		kept += histcache_get(&k, &got, &len) != NULL;
	}
	assert_true(kept > 0 && kept <= HISTCACHE_SLOTS);
	histcache_thread_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_put_get_replace),
	        cmocka_unit_test(test_confirmed_until_replaced),
	        cmocka_unit_test(test_vouched_for_one_session_and_counters),
	        cmocka_unit_test(test_too_big_is_not_kept),
	        cmocka_unit_test(test_threads_do_not_share),
	        cmocka_unit_test(test_many_keys_stay_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

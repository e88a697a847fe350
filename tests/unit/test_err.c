/*
 * test_err.c: walks the error table of err.c: every enum value has a code,
 * a status and a message; public codes are unique; internal errors answer
 * 503 "unavailable"; pc_err_from_code inverts pc_err_code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

static int
is_internal(int e)
{
	return e == PC_ERR_NOMEM || e == PC_ERR_SYSTEM || e == PC_ERR_INTERNAL;
}

static void
test_every_row_complete(void **state)
{
	int e;
	size_t i;
	const char *code;

	(void)state;
	for (e = 0; e < PC_ERR__MAX; e++) {
		code = pc_err_code((enum pc_err)e);
		assert_non_null(code);
		assert_true(strlen(code) > 0);
		/* snake_case */
		for (i = 0; code[i] != '\0'; i++)
			assert_true((code[i] >= 'a' && code[i] <= 'z') ||
			            code[i] == '_');
		assert_true(pc_err_status((enum pc_err)e) >= 200);
		assert_true(pc_err_status((enum pc_err)e) <= 599);
		assert_non_null(pc_err_message((enum pc_err)e));
		assert_true(strlen(pc_err_message((enum pc_err)e)) > 0);
	}
}

static void
test_codes_unique(void **state)
{
	int a, b;

	(void)state;
	for (a = 0; a < PC_ERR__MAX; a++) {
		if (is_internal(a))
			continue;
		for (b = a + 1; b < PC_ERR__MAX; b++) {
			if (is_internal(b))
				continue;
			assert_string_not_equal(pc_err_code((enum pc_err)a),
			                        pc_err_code((enum pc_err)b));
		}
	}
}

static void
test_internal_is_unavailable(void **state)
{
	int e;

	(void)state;
	for (e = 0; e < PC_ERR__MAX; e++) {
		if (!is_internal(e))
			continue;
		assert_string_equal(pc_err_code((enum pc_err)e), "unavailable");
		assert_int_equal(pc_err_status((enum pc_err)e), 503);
	}
	/* A corrupted value never crashes and never leaks. */
	assert_string_equal(pc_err_code((enum pc_err)1000), "unavailable");
	assert_int_equal(pc_err_status((enum pc_err) - 1), 503);
	assert_non_null(pc_err_message(PC_ERR__MAX));
}

static void
test_statuses(void **state)
{
	static const struct {
		enum pc_err e;
		const char *code;
		int status;
	} want[] = {
	        {PC_OK, "ok", 200},
	        {PC_ERR_BAD_JSON, "bad_json", 400},
	        {PC_ERR_UNAUTHENTICATED, "unauthenticated", 401},
	        {PC_ERR_INVALID_CREDENTIALS, "invalid_credentials", 401},
	        {PC_ERR_FORBIDDEN_ORIGIN, "forbidden_origin", 403},
	        {PC_ERR_FORBIDDEN, "forbidden", 403},
	        {PC_ERR_NOT_FOUND, "not_found", 404},
	        {PC_ERR_METHOD_NOT_ALLOWED, "method_not_allowed", 405},
	        {PC_ERR_CONFLICT, "conflict", 409},
	        {PC_ERR_NOT_PRIVATE, "not_private", 409},
	        {PC_ERR_CANNOT_LEAVE_DIRECT, "cannot_leave_direct", 409},
	        {PC_ERR_ALREADY_MEMBER, "already_member", 409},
	        {PC_ERR_ALREADY_INVITED, "already_invited", 409},
	        {PC_ERR_TOO_LARGE, "too_large", 413},
	        {PC_ERR_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415},
	        {PC_ERR_INVALID, "invalid", 422},
	        {PC_ERR_RATE_LIMITED, "rate_limited", 429},
	        {PC_ERR_TOO_MANY_ATTEMPTS, "too_many_attempts", 429},
	        {PC_ERR_UNAVAILABLE, "unavailable", 503},
	        {PC_ERR_UNKNOWN_TYPE, "unknown_type", 400},
	        {PC_ERR_BAD_BODY, "bad_body", 422},
	        {PC_ERR_BAD_SINCE, "bad_since", 422},
	        {PC_ERR_NOT_MEMBER, "not_member", 403},
	        {PC_ERR_NOT_REACHABLE, "not_reachable", 404},
	        {PC_ERR_LIMIT_REACHED, "limit_reached", 429},
	        {PC_ERR_SESSION_REVOKED, "session_revoked", 401},
	        {PC_ERR_SESSION_EXPIRED, "session_expired", 401},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(pc_err_code(want[i].e), want[i].code);
		assert_int_equal(pc_err_status(want[i].e), want[i].status);
	}
}

static void
test_from_code(void **state)
{
	int e;

	(void)state;
	for (e = 0; e < PC_ERR__MAX; e++) {
		if (is_internal(e))
			continue;
		assert_int_equal(pc_err_from_code(pc_err_code((enum pc_err)e)),
		                 e);
	}
	assert_int_equal(pc_err_from_code("unavailable"), PC_ERR_UNAVAILABLE);
	assert_int_equal(pc_err_from_code("nope"), PC_ERR__MAX);
	assert_int_equal(pc_err_from_code(""), PC_ERR__MAX);
	assert_int_equal(pc_err_from_code(NULL), PC_ERR__MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_row_complete),
	        cmocka_unit_test(test_codes_unique),
	        cmocka_unit_test(test_internal_is_unavailable),
	        cmocka_unit_test(test_statuses),
	        cmocka_unit_test(test_from_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

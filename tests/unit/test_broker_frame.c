/*
 * test_broker_frame.c: the JSON lines the broker renders for clients parse
 * as JSON with exactly the contract's fields (sections 4 and 8): message,
 * ack, joined, gap, typing, presence, read, removed, call, error, authed;
 * bodies with quotes, backslashes, newlines, tabs and non-ASCII survive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "frame.h"

static cJSON *
parse(struct frame *f)
{
	cJSON *j;

	assert_non_null(f);
	assert_int_equal(strlen(f->data), f->len);
	assert_null(memchr(f->data, '\n', f->len)); /* one line */
	j = cJSON_Parse(f->data);
	assert_non_null(j);
	frame_unref(f);
	return j;
}

static const char *
str(cJSON *j, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double
num(cJSON *j, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void
test_message(void **state)
{
	const char *body = "say \"hi\"\\\n\tünïcödé ✓ \x01";
	struct frame_msg m = {.id = 9,
	                      .room = 3,
	                      .seq = 7,
	                      .kind = "text",
	                      .user = {5, "alice"},
	                      .body = body,
	                      .body_len = strlen(body),
	                      .created_ms = 1795680000123LL,
	                      .edited_ms = -1};
	cJSON *j, *u;

	(void)state;
	j = parse(frame_message(&m));
	assert_string_equal(str(j, "type"), "message");
	assert_true(num(j, "id") == 9 && num(j, "room") == 3 &&
	            num(j, "seq") == 7);
	assert_string_equal(str(j, "kind"), "text");
	u = cJSON_GetObjectItemCaseSensitive(j, "user");
	assert_true(num(u, "id") == 5);
	assert_string_equal(str(u, "username"), "alice");
	assert_string_equal(str(j, "body"), body);
	assert_string_equal(str(j, "created_at"), "2026-11-26T08:00:00.123Z");
	assert_true(
	        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "edited_at")));
	assert_true(
	        cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "deleted")));
	assert_int_equal(cJSON_GetArraySize(j), 10);
	cJSON_Delete(j);
	/* a deleted message of a deleted user */
	m.body = NULL;
	m.deleted = 1;
	m.user.id = 0;
	m.user.username = NULL;
	m.edited_ms = 1795680000999LL;
	j = parse(frame_message(&m));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "body")));
	assert_true(
	        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "deleted")));
	u = cJSON_GetObjectItemCaseSensitive(j, "user");
	assert_string_equal(str(u, "username"), "deleted user");
	assert_string_equal(str(j, "edited_at"), "2026-11-26T08:00:00.999Z");
	cJSON_Delete(j);
}

static void
test_small_frames(void **state)
{
	struct frame_user users[2] = {{1, "a1"}, {2, "b2"}};
	cJSON *j;

	(void)state;
	j = parse(frame_ack("c-1", 11, 3, 4, 0));
	assert_string_equal(str(j, "type"), "ack");
	assert_string_equal(str(j, "client_id"), "c-1");
	assert_true(num(j, "id") == 11 && num(j, "room") == 3 &&
	            num(j, "seq") == 4);
	assert_string_equal(str(j, "created_at"), "1970-01-01T00:00:00.000Z");
	cJSON_Delete(j);

	j = parse(frame_joined(3, 620, "public", "gen\"eral", users, 2));
	assert_string_equal(str(j, "type"), "joined");
	assert_true(num(j, "last_seq") == 620);
	assert_string_equal(str(j, "name"), "gen\"eral");
	assert_int_equal(cJSON_GetArraySize(
	                         cJSON_GetObjectItemCaseSensitive(j, "online")),
	                 2);
	cJSON_Delete(j);
	j = parse(frame_joined(3, 0, NULL, NULL, NULL, 0));
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "name"));
	cJSON_Delete(j);

	j = parse(frame_gap(3, 1, 120));
	assert_true(num(j, "from") == 1 && num(j, "to") == 120);
	cJSON_Delete(j);
	j = parse(frame_typing(3, &users[0]));
	assert_string_equal(str(j, "type"), "typing");
	cJSON_Delete(j);
	j = parse(frame_presence(3, &users[1], 0));
	assert_true(
	        cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "online")));
	cJSON_Delete(j);
	j = parse(frame_read(3, &users[1], 17));
	assert_true(num(j, "seq") == 17);
	cJSON_Delete(j);
	j = parse(frame_removed(3));
	assert_string_equal(str(j, "type"), "removed");
	cJSON_Delete(j);
	j = parse(frame_call(3, "call-1", &users[0], "{\"sdp\":\"x\"}", 11));
	assert_string_equal(str(j, "call_id"), "call-1");
	assert_string_equal(
	        str(cJSON_GetObjectItemCaseSensitive(j, "data"), "sdp"), "x");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "from"));
	cJSON_Delete(j);
	j = parse(frame_authed(&users[0], "a-sid", 1795680000));
	assert_string_equal(str(j, "session"), "a-sid");
	assert_true(num(j, "exp") == 1795680000);
	cJSON_Delete(j);
}

static void
test_error(void **state)
{
	cJSON *j;

	(void)state;
	j = parse(frame_error(PC_ERR_RATE_LIMITED, NULL, "c-1", NULL, 250));
	assert_string_equal(str(j, "type"), "error");
	assert_string_equal(str(j, "code"), "rate_limited");
	assert_string_equal(str(j, "ref"), "c-1");
	assert_true(num(j, "retry_after_ms") == 250);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "field"));
	cJSON_Delete(j);
	j = parse(frame_error(PC_ERR_INVALID, "bad", NULL, "room", -1));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "ref")));
	assert_string_equal(str(j, "field"), "room");
	assert_string_equal(str(j, "message"), "bad");
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "retry_after_ms"));
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_message),
	        cmocka_unit_test(test_small_frames),
	        cmocka_unit_test(test_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

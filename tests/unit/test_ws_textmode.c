/*
 * test_ws_textmode.c: human lines for ?format=text (ws-worker/textmode.h)
 * and the worker's own JSON frames (ws-worker/frame.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "textmode.h"

static const char *
label(void *ctx, int64_t room)
{
	(void)ctx;
	if (room == 1)
		return "#general";
	if (room == 2)
		return "@bob";
	return NULL;
}

static void
expect(const char *json, const char *want)
{
	char *got = ws_text_render(json, strlen(json), label, NULL);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: want nothing, got %s", json, got);
		return;
	}
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s:\n want %s\n got  %s", json, want,
		         got ? got : "(null)");
	free(got);
}

static void
test_render(void **state)
{
	(void)state;
	expect("{\"type\":\"message\",\"id\":1,\"room\":1,\"seq\":1,\"kind\":"
	       "\"text\","
	       "\"user\":{\"id\":2,\"username\":\"alice\"},\"body\":\"hi\","
	       "\"created_at\":\"2026-11-26T12:00:01.123Z\",\"edited_at\":null,"
	       "\"deleted\":false}",
	       "[12:00:01] #general alice: hi");
	expect("{\"type\":\"message\",\"room\":2,\"kind\":\"text\","
	       "\"user\":{\"id\":2,\"username\":\"alice\"},\"body\":"
	       "\"two\\nlines\\r\","
	       "\"created_at\":\"2026-11-26T23:59:59.000Z\"}",
	       "[23:59:59] @bob alice: two\\nlines\\r");
	expect("{\"type\":\"message\",\"room\":9,\"kind\":\"system\","
	       "\"user\":{\"id\":2,\"username\":\"alice\"},\"body\":\"missed "
	       "call\","
	       "\"created_at\":\"2026-11-26T01:02:03.000Z\"}",
	       "[01:02:03] #9 * missed call");
	expect("{\"type\":\"message\",\"room\":1,\"kind\":\"text\","
	       "\"user\":{\"id\":2,\"username\":\"alice\"},\"body\":null,"
	       "\"deleted\":true,"
	       "\"created_at\":\"2026-11-26T01:02:03.000Z\"}",
	       "[01:02:03] #general alice: (deleted)");
	expect("{\"type\":\"edited\",\"room\":1,\"kind\":\"text\","
	       "\"user\":{\"id\":2,\"username\":\"alice\"},\"body\":\"fixed\","
	       "\"created_at\":\"2026-11-26T01:02:03.000Z\"}",
	       "[01:02:03] #general alice (edited): fixed");
	expect("{\"type\":\"presence\",\"room\":1,\"user\":{\"id\":2,"
	       "\"username\":\"alice\"},"
	       "\"online\":true}",
	       "* alice is online in #general");
	expect("{\"type\":\"presence\",\"room\":1,\"user\":{\"id\":2,"
	       "\"username\":\"alice\"},"
	       "\"online\":false}",
	       "* alice is offline in #general");
	expect("{\"type\":\"joined\",\"room\":1,\"last_seq\":3,\"online\":["
	       "{\"id\":2,\"username\":\"alice\"},{\"id\":3,\"username\":"
	       "\"bob\"}]}",
	       "* joined #general (2 online: alice, bob)");
	expect("{\"type\":\"gap\",\"room\":1,\"from\":1,\"to\":20}",
	       "* messages 1-20 of #general are not shown (read them in the "
	       "history)");
	expect("{\"type\":\"removed\",\"room\":1}",
	       "* you are no longer in #general");
	expect("{\"type\":\"hello\",\"user\":{\"id\":2,\"username\":\"alice\"},"
	       "\"session\":\"x\"}",
	       "* signed in as alice");
	expect("{\"type\":\"error\",\"code\":\"not_found\",\"message\":\"No "
	       "such room.\",\"ref\":\"join\"}",
	       "! not_found: No such room.");
	expect("{\"type\":\"invite\",\"invite\":{\"id\":1,\"room\":{\"id\":4,"
	       "\"name\":\"secret\"},"
	       "\"from\":{\"id\":3,\"username\":\"bob\"}}}",
	       "* bob invites you to #secret");
	expect("{\"type\":\"deleted\",\"room\":1,\"seq\":4}",
	       "* message 4 was deleted in #general");
	/* Nothing for a human. */
	expect("{\"type\":\"ack\",\"client_id\":\"c\",\"id\":1,\"room\":1,"
	       "\"seq\":1}",
	       NULL);
	expect("{\"type\":\"typing\",\"room\":1,\"user\":{\"id\":2,"
	       "\"username\":\"a\"}}",
	       NULL);
	expect("{\"type\":\"pong\"}", NULL);
	expect("not json", NULL);
	expect("{\"no\":\"type\"}", NULL);
}

static void
test_error_and_label(void **state)
{
	char out[80];
	char *s = ws_text_error("too_large", "frame over 64 KiB");

	(void)state;
	assert_string_equal(s, "! too_large: frame over 64 KiB");
	free(s);
	const char *j1 = "{\"type\":\"joined\",\"room\":3,\"kind\":\"direct\","
	                 "\"name\":\"bob\"}";
	const char *j2 = "{\"type\":\"joined\",\"room\":3,\"kind\":\"public\","
	                 "\"name\":\"general\"}";
	const char *j3 = "{\"type\":\"joined\",\"room\":3}";

	ws_text_label_from_joined(j1, strlen(j1), 3, out, sizeof(out));
	assert_string_equal(out, "@bob");
	ws_text_label_from_joined(j2, strlen(j2), 3, out, sizeof(out));
	assert_string_equal(out, "#general");
	ws_text_label_from_joined(j3, strlen(j3), 3, out, sizeof(out));
	assert_string_equal(out, "#3");
}

static void
test_frames(void **state)
{
	char *s;

	(void)state;
	s = ws_frame_error(PC_ERR_INVALID, "bad room", "join", "room", -1);
	assert_string_equal(
	        s, "{\"type\":\"error\",\"code\":\"invalid\",\"message\":"
	           "\"bad room\",\"ref\":\"join\",\"field\":\"room\"}");
	free(s);
	s = ws_frame_error(PC_ERR_RATE_LIMITED, "slow", NULL, NULL, 250);
	assert_string_equal(
	        s, "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":"
	           "\"slow\",\"ref\":null,\"retry_after_ms\":250}");
	free(s);
	s = ws_frame_hello(7, "al\"ice", "sid-1");
	assert_string_equal(
	        s, "{\"type\":\"hello\",\"user\":{\"id\":7,\"username\":"
	           "\"al\\\"ice\"},\"session\":\"sid-1\"}");
	free(s);
	s = ws_frame_gap(3, 1, 99);
	assert_string_equal(
	        s, "{\"type\":\"gap\",\"room\":3,\"from\":1,\"to\":99}");
	free(s);
	s = ws_frame_removed(3);
	assert_string_equal(s, "{\"type\":\"removed\",\"room\":3}");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_render),
	        cmocka_unit_test(test_error_and_label),
	        cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

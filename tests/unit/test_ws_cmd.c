/*
 * test_ws_cmd.c: the client command table and its field checks
 * (ws-worker/cmd.h), driven through a connection with a fake broker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cmd.h"
#include "json.h"
#include "test_ws_fake.h"

static void
test_table_complete_and_unique(void **state)
{
	const char *want[] = {"join", "leave", "send", "typing",
	                      "read", "call",  "ping"};
	const struct ws_cmd_row *t;
	size_t n, i, j;

	(void)state;
	t = ws_cmd_table(&n);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		assert_non_null(t[i].type);
		assert_non_null(t[i].handler);
		assert_ptr_equal(ws_cmd_find(t[i].type), &t[i]);
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(t[i].type, t[j].type);
	}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(ws_cmd_find(want[i]));
	assert_null(ws_cmd_find("nope"));
	/* Every row that names a room needs one; send needs its id and body. */
	assert_true(ws_cmd_find("send")->fields & WS_F_CLIENT_ID);
	assert_true(ws_cmd_find("send")->fields & WS_F_BODY);
	assert_true(ws_cmd_find("call")->fields & WS_F_CALL_ID);
}

/* Field checks on their own: {json, fields, want error, want field}. */
static void
test_fields(void **state)
{
	static const struct {
		const char *json;
		unsigned fields;
		enum pc_err e;
		const char *field;
	} cases[] = {
	        {"{\"room\":1}", WS_F_ROOM, PC_OK, NULL},
	        {"{}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":0}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":-3}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":1.5}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":\"1\"}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":1e30}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":null}", WS_F_ROOM, PC_ERR_INVALID, "room"},
	        {"{\"room\":1,\"since\":0}", WS_F_ROOM | WS_F_SINCE, PC_OK,
	         NULL},
	        {"{\"room\":1,\"since\":null}", WS_F_ROOM | WS_F_SINCE, PC_OK,
	         NULL},
	        {"{\"room\":1,\"since\":-1}", WS_F_ROOM | WS_F_SINCE,
	         PC_ERR_BAD_SINCE, NULL},
	        {"{\"room\":1,\"since\":2.5}", WS_F_ROOM | WS_F_SINCE,
	         PC_ERR_BAD_SINCE, NULL},
	        {"{\"room\":1,\"since\":\"3\"}", WS_F_ROOM | WS_F_SINCE,
	         PC_ERR_INVALID, "since"},
	        {"{\"room\":1,\"seq\":3}", WS_F_ROOM | WS_F_SEQ, PC_OK, NULL},
	        {"{\"room\":1,\"seq\":-1}", WS_F_ROOM | WS_F_SEQ,
	         PC_ERR_INVALID, "seq"},
	        {"{\"room\":1,\"seq\":true}", WS_F_ROOM | WS_F_SEQ,
	         PC_ERR_INVALID, "seq"},
	        {"{\"room\":1,\"body\":\"hi\",\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_OK, NULL},
	        {"{\"room\":1,\"body\":\"hi\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "client_id"},
	        {"{\"room\":1,\"body\":\"hi\",\"client_id\":\"\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "client_id"},
	        {"{\"room\":1,\"body\":\"hi\",\"client_id\":\"a b\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "client_id"},
	        {"{\"room\":1,\"body\":\"hi\",\"client_id\":"
	         "\"01234567890123456789012345678901234567890123456789012345678"
	         "90123x\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "client_id"},
	        {"{\"room\":1,\"body\":\"hi\",\"client_id\":7}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "client_id"},
	        {"{\"room\":1,\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "body"},
	        {"{\"room\":1,\"body\":5,\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_INVALID,
	         "body"},
	        {"{\"room\":1,\"body\":\"\",\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_BAD_BODY, NULL},
	        {"{\"room\":1,\"body\":\"   \",\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_BAD_BODY, NULL},
	        {"{\"room\":1,\"body\":\"a\\u0000b\",\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_BAD_BODY, NULL},
	        {"{\"room\":1,\"body\":\"a\\u0007\",\"client_id\":\"c\"}",
	         WS_F_ROOM | WS_F_BODY | WS_F_CLIENT_ID, PC_ERR_BAD_BODY, NULL},
	        {"{\"room\":1,\"to\":2,\"call_id\":\"k\",\"data\":{}}",
	         WS_F_ROOM | WS_F_TO | WS_F_CALL_ID | WS_F_DATA, PC_OK, NULL},
	        {"{\"room\":1,\"to\":2,\"data\":{}}",
	         WS_F_ROOM | WS_F_TO | WS_F_CALL_ID | WS_F_DATA, PC_ERR_INVALID,
	         "call_id"},
	        {"{\"room\":1,\"to\":0,\"call_id\":\"k\",\"data\":{}}",
	         WS_F_ROOM | WS_F_TO | WS_F_CALL_ID | WS_F_DATA, PC_ERR_INVALID,
	         "to"},
	        {"{\"room\":1,\"to\":2,\"call_id\":\"k\",\"data\":[]}",
	         WS_F_ROOM | WS_F_TO | WS_F_CALL_ID | WS_F_DATA, PC_ERR_INVALID,
	         "data"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ws_cmd_args a;
		const char *field = "unset";
		cJSON *root = NULL;
		enum pc_err e;

		memset(&a, 0, sizeof(a));
		assert_int_equal(pc_json_parse(cases[i].json,
		                               strlen(cases[i].json), &root),
		                 PC_OK);
		e = ws_cmd_fields(root, cases[i].fields, &a, &field);
		if (e != cases[i].e)
			fail_msg("%s: got %s, want %s", cases[i].json,
			         pc_err_code(e), pc_err_code(cases[i].e));
		if (cases[i].field == NULL)
			assert_null(field);
		else
			assert_string_equal(field, cases[i].field);
		cJSON_Delete(root);
	}
}

/* A line in, the one error frame out: {line, want substring list}. */
static void
expect_error(struct fake *f, const char *line, const char *code,
             const char *ref, const char *field)
{
	char want[256];
	const char *got;

	ws_conn_client_line(&f->c, line, strlen(line));
	got = fake_line(f);
	if (got == NULL)
		fail_msg("%s: no answer", line);
	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	if (strstr(got, want) == NULL)
		fail_msg("%s: got %s, want code %s", line, got, code);
	if (ref != NULL)
		snprintf(want, sizeof(want), "\"ref\":\"%s\"", ref);
	else
		snprintf(want, sizeof(want), "\"ref\":null");
	if (strstr(got, want) == NULL)
		fail_msg("%s: got %s, want %s", line, got, want);
	if (field != NULL) {
		snprintf(want, sizeof(want), "\"field\":\"%s\"", field);
		if (strstr(got, want) == NULL)
			fail_msg("%s: got %s, want %s", line, got, want);
	} else if (strstr(got, "\"field\"") != NULL)
		fail_msg("%s: got %s, want no field", line, got);
	assert_false(f->c.done);
}

static void
test_bad_frames_answered(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	fake_connect(f);
	expect_error(f, "not json", "bad_json", NULL, NULL);
	expect_error(f, "[1,2]", "bad_json", NULL, NULL);
	expect_error(f, "\"send\"", "bad_json", NULL, NULL);
	expect_error(f, "{\"type\":\"ping\"} x", "bad_json", NULL, NULL);
	expect_error(f, "{\"type\":\"send\",\"body\":\"\xff\"}", "bad_json",
	             NULL, NULL);
	expect_error(f, "\x01\x02{\"type\":\"ping\"}", "bad_json", NULL, NULL);
	expect_error(f, "", "bad_json", NULL, NULL);
	expect_error(f, "{}", "invalid", NULL, "type");
	expect_error(f, "{\"type\":5}", "invalid", NULL, "type");
	expect_error(f, "{\"type\":null}", "invalid", NULL, "type");
	expect_error(f, "{\"type\":\"dance\"}", "unknown_type", "dance", NULL);
	expect_error(f, "{\"type\":\"join\"}", "invalid", "join", "room");
	expect_error(f, "{\"type\":\"join\",\"room\":\"x\"}", "invalid", "join",
	             "room");
	expect_error(f, "{\"type\":\"join\",\"room\":1,\"since\":-5}",
	             "bad_since", "join", NULL);
	expect_error(f, "{\"type\":\"send\",\"room\":1,\"body\":\"hi\"}",
	             "invalid", "send", "client_id");
	expect_error(f,
	             "{\"type\":\"send\",\"room\":1,\"body\":\"\",\"client_"
	             "id\":\"c-1\"}",
	             "bad_body", "c-1", NULL);
	expect_error(f,
	             "{\"type\":\"send\",\"room\":1,\"body\":\"a\\u0000\","
	             "\"client_id\":\"c-2\"}",
	             "bad_body", "c-2", NULL);
	expect_error(f, "{\"type\":\"read\",\"room\":1}", "invalid", "read",
	             "seq");
	expect_error(f, "{\"type\":\"typing\",\"room\":0}", "invalid", "typing",
	             "room");
	expect_error(
	        f, "{\"type\":\"call\",\"room\":1,\"to\":2,\"call_id\":\"k1\"}",
	        "invalid", "k1", "data");
	fake_expect_no_req(f);
	fake_expect_no_line(f);
	fake_free(f);
}

static void
test_good_frames_become_requests(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	struct fake_req *r;
	const char *l;

	(void)state;
	fake_connect(f);
	l = "{\"type\":\"ping\"}";
	ws_conn_client_line(&f->c, l, strlen(l));
	fake_expect_line(f, "{\"type\":\"pong\"}");
	l = "{\"type\":\"join\",\"room\":3,\"since\":7,\"extra\":[1]}";
	ws_conn_client_line(&f->c, l, strlen(l));
	r = fake_expect_req(f, PC_WIRE_JOIN, 3);
	assert_int_equal(r->h.seq, 7);
	l = "{\"type\":\"join\",\"room\":4}";
	ws_conn_client_line(&f->c, l, strlen(l));
	r = fake_expect_req(f, PC_WIRE_JOIN, 4);
	assert_int_equal(r->h.seq, -1);
	l = "{\"type\":\"send\",\"room\":3,\"body\":\"h\\u00e9 "
	    "\\\"x\\\"\",\"client_id\":\"c1\"}";
	ws_conn_client_line(&f->c, l, strlen(l));
	r = fake_expect_req(f, PC_WIRE_SEND, 3);
	assert_string_equal(
	        r->payload,
	        "{\"body\":\"h\xc3\xa9 \\\"x\\\"\",\"client_id\":\"c1\"}");
	l = "{\"type\":\"typing\",\"room\":3}";
	ws_conn_client_line(&f->c, l, strlen(l));
	fake_expect_req(f, PC_WIRE_TYPING, 3);
	l = "{\"type\":\"read\",\"room\":3,\"seq\":9}";
	ws_conn_client_line(&f->c, l, strlen(l));
	r = fake_expect_req(f, PC_WIRE_READ, 3);
	assert_int_equal(r->h.seq, 9);
	l = "{\"type\":\"call\",\"room\":3,\"to\":8,\"call_id\":\"k\",\"data\":"
	    "{\"sdp\":\"v=0\"}}";
	ws_conn_client_line(&f->c, l, strlen(l));
	r = fake_expect_req(f, PC_WIRE_CALL, 3);
	assert_int_equal(r->h.arg, 8);
	assert_string_equal(
	        r->payload,
	        "{\"to\":8,\"call_id\":\"k\",\"data\":{\"sdp\":\"v=0\"}}");
	l = "{\"type\":\"leave\",\"room\":3}";
	ws_conn_client_line(&f->c, l, strlen(l));
	fake_expect_req(f, PC_WIRE_LEAVE, 3);
	fake_expect_no_req(f);
	fake_expect_no_line(f);
	fake_free(f);
}

/* While the broker is away: unavailable, with the request's ref. */
static void
test_link_down_unavailable(void **state)
{
	struct fake *f = fake_new(0, 0, 100);

	(void)state;
	fake_connect(f);
	ws_conn_link_down(&f->c);
	expect_error(f,
	             "{\"type\":\"send\",\"room\":1,\"body\":\"hi\",\"client_"
	             "id\":\"c7\"}",
	             "unavailable", "c7", NULL);
	expect_error(f, "{\"type\":\"join\",\"room\":1}", "unavailable", "join",
	             NULL);
	expect_error(f, "{\"type\":\"typing\",\"room\":1}", "unavailable",
	             "typing", NULL);
	ws_conn_client_line(&f->c, "{\"type\":\"ping\"}", 15);
	fake_expect_line(f, "{\"type\":\"pong\"}");
	fake_free(f);
}

static void
test_too_large_answered(void **state)
{
	struct fake *f = fake_new(0, 0, 100);
	const char *got;

	(void)state;
	fake_connect(f);
	ws_conn_client_too_large(&f->c);
	got = fake_line(f);
	assert_non_null(got);
	assert_non_null(strstr(got, "\"code\":\"too_large\""));
	assert_false(f->c.done);
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table_complete_and_unique),
	        cmocka_unit_test(test_fields),
	        cmocka_unit_test(test_bad_frames_answered),
	        cmocka_unit_test(test_good_frames_become_requests),
	        cmocka_unit_test(test_link_down_unavailable),
	        cmocka_unit_test(test_too_large_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

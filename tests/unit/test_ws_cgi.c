/*
 * test_ws_cgi.c: the token cookie and the query string of the upgrade
 * (ws-worker/cgi.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cgi.h"

static void
test_token(void **state)
{
	char tok[WS_TOKEN_MAX + 1], big[WS_TOKEN_MAX + 40];

	(void)state;
	assert_int_equal(ws_cgi_token("access_token=a.b.c", tok, sizeof(tok)),
	                 PC_OK);
	assert_string_equal(tok, "a.b.c");
	assert_int_equal(
	        ws_cgi_token("x=1; access_token=t1; y=2", tok, sizeof(tok)),
	        PC_OK);
	assert_string_equal(tok, "t1");
	assert_int_equal(
	        ws_cgi_token("x=1;access_token=\"q\"", tok, sizeof(tok)),
	        PC_OK);
	assert_string_equal(tok, "q");
	assert_int_equal(ws_cgi_token("my_access_token=z; access_token=ok", tok,
	                              sizeof(tok)),
	                 PC_OK);
	assert_string_equal(tok, "ok");
	strcpy(tok, "unchanged");
	assert_int_equal(ws_cgi_token(NULL, tok, sizeof(tok)),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(ws_cgi_token("", tok, sizeof(tok)),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(ws_cgi_token("access_token=", tok, sizeof(tok)),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(ws_cgi_token("access_tokens=x", tok, sizeof(tok)),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(ws_cgi_token("session=x", tok, sizeof(tok)),
	                 PC_ERR_UNAUTHENTICATED);
	assert_string_equal(tok, "unchanged");
	strcpy(big, "access_token=");
	memset(big + 13, 'a', WS_TOKEN_MAX + 1);
	big[13 + WS_TOKEN_MAX + 1] = '\0';
	assert_int_equal(ws_cgi_token(big, tok, sizeof(tok)),
	                 PC_ERR_UNAUTHENTICATED);
	big[13 + WS_TOKEN_MAX] = '\0';
	assert_int_equal(ws_cgi_token(big, tok, sizeof(tok)), PC_OK);
	assert_int_equal(strlen(tok), WS_TOKEN_MAX);
}

static void
test_query(void **state)
{
	struct ws_query q;
	const char *field = NULL;

	(void)state;
	assert_int_equal(ws_cgi_query(NULL, &q, &field), PC_OK);
	assert_int_equal(q.room, 0);
	assert_int_equal(q.text, 0);
	assert_int_equal(ws_cgi_query("", &q, &field), PC_OK);
	assert_int_equal(ws_cgi_query("room=12", &q, &field), PC_OK);
	assert_int_equal(q.room, 12);
	assert_int_equal(ws_cgi_query("format=text&room=3&x=y", &q, &field),
	                 PC_OK);
	assert_int_equal(q.room, 3);
	assert_int_equal(q.text, 1);
	assert_int_equal(ws_cgi_query("format=json&flag", &q, &field), PC_OK);
	assert_int_equal(q.text, 0);
	assert_int_equal(ws_cgi_query("room=0", &q, &field), PC_ERR_INVALID);
	assert_string_equal(field, "room");
	assert_int_equal(ws_cgi_query("room=-1", &q, &field), PC_ERR_INVALID);
	assert_int_equal(ws_cgi_query("room=1x", &q, &field), PC_ERR_INVALID);
	assert_int_equal(ws_cgi_query("room=", &q, &field), PC_ERR_INVALID);
	assert_int_equal(ws_cgi_query("room=99999999999999999999", &q, &field),
	                 PC_ERR_INVALID);
	assert_int_equal(ws_cgi_query("format=xml", &q, &field),
	                 PC_ERR_INVALID);
	assert_string_equal(field, "format");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_token),
	        cmocka_unit_test(test_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

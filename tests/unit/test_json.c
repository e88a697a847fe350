/*
 * test_json.c: pc_json_parse catches what cJSON hides (\u0000, invalid UTF-8,
 * raw control characters, trailing garbage, deep nesting) and the getters
 * tell missing from wrong type and check numbers through valuedouble.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static enum pc_err
parse(const char *s, cJSON **out)
{
	return pc_json_parse(s, strlen(s), out);
}

static void
test_nul_escape_becomes_u0001(void **state)
{
	static const char text[] = "{\"body\":\"ab\\u0000cd\"}";
	cJSON *j = NULL;
	const char *s = NULL;

	(void)state;
	assert_int_equal(parse(text, &j), PC_OK);
	assert_int_equal(pc_json_get_str(j, "body", &s), PC_OK);
	assert_int_equal(strlen(s), 5);
	assert_memory_equal(s,
	                    "ab\x01"
	                    "cd",
	                    5);
	cJSON_Delete(j);

	/* An escaped backslash followed by u0000 is plain text. */
	assert_int_equal(parse("{\"b\":\"\\\\u0000\"}", &j), PC_OK);
	assert_int_equal(pc_json_get_str(j, "b", &s), PC_OK);
	assert_string_equal(s, "\\u0000");
	cJSON_Delete(j);

	/* Two escaped backslashes then a real escape. */
	assert_int_equal(parse("[\"\\\\\\u0000\"]", &j), PC_OK);
	assert_string_equal(cJSON_GetArrayItem(j, 0)->valuestring, "\\\x01");
	cJSON_Delete(j);

	/* In a key too, and the input itself is not modified. */
	{
		char buf[] = "{\"a\\u0000\":1}";
		assert_int_equal(parse(buf, &j), PC_OK);
		assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "a\x01"));
		assert_string_equal(buf, "{\"a\\u0000\":1}");
		cJSON_Delete(j);
	}
}

static void
test_bad_json(void **state)
{
	static const char *const bad[] = {
	        "",
	        " ",
	        "{",
	        "{\"a\":1} x",
	        "{\"a\":1}{}",
	        "[1,2]]",
	        "nul",
	        "{\"a\":\"\xc0\xaf\"}",     /* overlong */
	        "{\"a\":\"\xed\xa0\x80\"}", /* surrogate */
	        "{\"a\":\"\xff\"}",
	        "{\"a\":\"x\x01y\"}", /* raw control in a string */
	        "{\"a\":\"x\ny\"}",
	        "{\"a\":\"x\ty\"}",
	        "\x01{}", /* cJSON would skip this */
	        "{}\x01",
	        "{\"a\":1,}",
	        "{'a':1}",
	        "{\"a\":\"\\ud800\"}", /* lone surrogate escape */
	};
	size_t i;
	cJSON *j = (cJSON *)0x1;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &j) != PC_ERR_BAD_JSON)
			fail_msg("accepted bad[%zu]", i);
		assert_ptr_equal(j, (cJSON *)0x1); /* out untouched */
	}
	assert_int_equal(pc_json_parse(NULL, 3, &j), PC_ERR_BAD_JSON);
	/* A NUL byte inside the given length. */
	assert_int_equal(pc_json_parse("{}\0", 3, &j), PC_ERR_BAD_JSON);
	assert_int_equal(pc_json_parse("{\"a\":\"\0\"}", 9, &j),
	                 PC_ERR_BAD_JSON);
}

static void
test_good_json(void **state)
{
	static const char *const good[] = {
	        "{}",
	        " \r\n\t{ \"a\" : [1, 2.5, true, null, "
	        "\"\xc3\xa9\xe2\x82\xac\"] } \n",
	        "0",
	        "\"just a string\"",
	        "{\"a\":\"\\ud83d\\ude00\"}",
	        "{\"a\":\"\xf0\x9f\x98\x80\"}",
	};
	size_t i;
	cJSON *j = NULL;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		j = NULL;
		if (parse(good[i], &j) != PC_OK)
			fail_msg("refused good[%zu]", i);
		cJSON_Delete(j);
	}
	/* Length bounds the text: no NUL needed, bytes after it ignored. */
	assert_int_equal(pc_json_parse("{\"a\":1}garbage", 7, &j), PC_OK);
	cJSON_Delete(j);
}

static void
test_depth(void **state)
{
	char text[300];
	size_t i;
	cJSON *j = NULL;

	(void)state;
	for (i = 0; i < 64; i++) {
		text[i] = '[';
		text[64 + i] = ']';
	}
	assert_int_equal(pc_json_parse(text, 128, &j), PC_OK);
	cJSON_Delete(j);
	for (i = 0; i < 65; i++) {
		text[i] = '[';
		text[65 + i] = ']';
	}
	assert_int_equal(pc_json_parse(text, 130, &j), PC_ERR_BAD_JSON);
	/* Brackets inside strings do not count. */
	memset(text, 0, sizeof(text));
	text[0] = '"';
	memset(text + 1, '[', 100);
	text[101] = '"';
	assert_int_equal(pc_json_parse(text, 102, &j), PC_OK);
	cJSON_Delete(j);
	/* Mixed objects and arrays, 65 deep. */
	{
		char buf[1024];
		size_t n = 0;

		for (i = 0; i < 65; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
			                      i % 2 ? "[" : "{\"a\":");
		buf[n++] = '1';
		for (i = 65; i-- > 0;)
			buf[n++] = i % 2 ? ']' : '}';
		assert_int_equal(pc_json_parse(buf, n, &j), PC_ERR_BAD_JSON);
		/* One level less is fine: the same text without the
		 * outermost object. */
		assert_int_equal(pc_json_parse(buf + 5, n - 6, &j), PC_OK);
		cJSON_Delete(j);
	}
}

static void
test_get_int(void **state)
{
	cJSON *j = NULL;
	int64_t v = 77;

	(void)state;
	assert_int_equal(parse("{\"big\":1e30,\"frac\":3.7,\"negz\":-0,"
	                       "\"max\":9007199254740991,"
	                       "\"over\":9007199254740993,"
	                       "\"p53\":9007199254740992,"
	                       "\"neg\":-5,\"one\":1.0,\"e2\":1e2,"
	                       "\"s\":\"5\",\"n\":null,\"t\":true,"
	                       "\"huge\":1e400}",
	                       &j),
	                 PC_OK);
	assert_int_equal(pc_json_get_int(j, "big", INT64_MIN, INT64_MAX, &v),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "frac", 0, 100, &v),
	                 PC_ERR_INVALID);
	assert_int_equal(v, 77); /* untouched on error */
	assert_int_equal(pc_json_get_int(j, "negz", 0, 10, &v), PC_OK);
	assert_int_equal(v, 0);
	assert_int_equal(pc_json_get_int(j, "max", 0, INT64_MAX, &v), PC_OK);
	assert_true(v == PC_JSON_INT_MAX);
	assert_int_equal(pc_json_get_int(j, "over", 0, INT64_MAX, &v),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "p53", 0, INT64_MAX, &v),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "neg", -10, 10, &v), PC_OK);
	assert_int_equal(v, -5);
	assert_int_equal(pc_json_get_int(j, "neg", 0, 10, &v), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "one", 1, 1, &v), PC_OK);
	assert_int_equal(pc_json_get_int(j, "e2", 0, 99, &v), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "e2", 0, 100, &v), PC_OK);
	assert_int_equal(v, 100);
	assert_int_equal(pc_json_get_int(j, "s", 0, 10, &v), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "n", 0, 10, &v), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "t", 0, 10, &v), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_int(j, "missing", 0, 10, &v),
	                 PC_ERR_NOT_FOUND);
	/* cJSON turns 1e400 into inf or refuses it; either way no int. */
	assert_int_not_equal(
	        pc_json_get_int(j, "huge", INT64_MIN, INT64_MAX, &v), PC_OK);
	assert_int_equal(pc_json_int_value(NULL, 0, 1, &v), PC_ERR_INVALID);
	cJSON_Delete(j);
}

static void
test_get_str_bool(void **state)
{
	cJSON *j = NULL;
	const char *s = "keep";
	int b = 7;

	(void)state;
	assert_int_equal(parse("{\"s\":\"x\",\"n\":null,\"i\":1,\"b\":false,"
	                       "\"o\":{},\"a\":[]}",
	                       &j),
	                 PC_OK);
	assert_int_equal(pc_json_get_str(j, "s", &s), PC_OK);
	assert_string_equal(s, "x");
	s = "keep";
	assert_int_equal(pc_json_get_str(j, "n", &s), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_str(j, "i", &s), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_str(j, "o", &s), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_str(j, "a", &s), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_str(j, "S", &s), PC_ERR_NOT_FOUND);
	assert_int_equal(pc_json_get_str(j, "missing", &s), PC_ERR_NOT_FOUND);
	assert_string_equal(s, "keep");
	assert_int_equal(pc_json_get_bool(j, "b", &b), PC_OK);
	assert_int_equal(b, 0);
	assert_int_equal(pc_json_get_bool(j, "i", &b), PC_ERR_INVALID);
	assert_int_equal(pc_json_get_bool(j, "zz", &b), PC_ERR_NOT_FOUND);
	/* Not an object. */
	assert_int_equal(pc_json_get_str(cJSON_GetObjectItem(j, "a"), "s", &s),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_json_get_str(NULL, "s", &s), PC_ERR_INVALID);
	cJSON_Delete(j);
}

static void
test_duplicate_key_first_wins(void **state)
{
	cJSON *j = NULL;
	const char *s = NULL;

	(void)state;
	assert_int_equal(parse("{\"a\":\"first\",\"a\":\"second\"}", &j),
	                 PC_OK);
	assert_int_equal(pc_json_get_str(j, "a", &s), PC_OK);
	assert_string_equal(s, "first");
	cJSON_Delete(j);
}

static void
test_print_add_int(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	(void)state;
	assert_non_null(o);
	assert_true(pc_json_add_int(o, "ms", INT64_C(1795683184123)));
	assert_true(pc_json_add_int(o, "max", PC_JSON_INT_MAX));
	assert_true(pc_json_add_int(o, "neg", -42));
	s = pc_json_print(o);
	assert_string_equal(s, "{\"ms\":1795683184123,\"max\":9007199254740991,"
	                       "\"neg\":-42}");
	free(s);
	cJSON_Delete(o);
	assert_null(pc_json_print(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_nul_escape_becomes_u0001),
	        cmocka_unit_test(test_bad_json),
	        cmocka_unit_test(test_good_json),
	        cmocka_unit_test(test_depth),
	        cmocka_unit_test(test_get_int),
	        cmocka_unit_test(test_get_str_bool),
	        cmocka_unit_test(test_duplicate_key_first_wins),
	        cmocka_unit_test(test_print_add_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

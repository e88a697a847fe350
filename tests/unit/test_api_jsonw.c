/*
 * test_api_jsonw.c: the JSON text writer (fcgi-api/jsonw.c) gives byte for
 * byte what cJSON_PrintUnformatted gives for the same values (every byte in
 * strings, integers at the edges), its errors are sticky, and the text it
 * writes parses back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "jsonw.h"

/* cJSON's text for the string s, for comparison. */
static char *
test_cjson_str(const char *s)
{
	cJSON *v = cJSON_CreateString(s);
	char *text;

	assert_non_null(v);
	text = pc_json_print(v);
	cJSON_Delete(v);
	assert_non_null(text);
	return text;
}

static void
test_strings_match_cjson(void **state)
{
	struct pc_buf b;
	struct jsonw w;
	char s[8], *want;
	int c;

	(void)state;
	pc_buf_init(&b, 1024);
	/* every byte value alone and between letters */
	for (c = 1; c < 256; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'z';
		s[3] = '\0';
		pc_buf_reset(&b);
		jsonw_init(&w, &b);
		jsonw_str(&w, s);
		assert_int_equal(jsonw_end(&w), PC_OK);
		want = test_cjson_str(s);
		assert_string_equal(b.data, want);
		free(want);
	}
	pc_buf_reset(&b);
	jsonw_init(&w, &b);
	jsonw_str(&w, "");
	assert_string_equal(b.data, "\"\"");
	pc_buf_free(&b, 0);
}

static void
test_ints_match_pc_json_add_int(void **state)
{
	static const int64_t v[] = {0,
	                            1,
	                            -1,
	                            42,
	                            9007199254740991,
	                            9007199254740992,
	                            INT64_MAX,
	                            INT64_MIN,
	                            -9007199254740991};
	struct pc_buf b;
	struct jsonw w;
	size_t i;
	cJSON *o;
	char *text;

	(void)state;
	pc_buf_init(&b, 1024);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pc_buf_reset(&b);
		jsonw_init(&w, &b);
		jsonw_raw(&w, "{\"n\":");
		jsonw_int(&w, v[i]);
		jsonw_raw(&w, "}");
		assert_int_equal(jsonw_end(&w), PC_OK);
		o = cJSON_CreateObject();
		assert_true(pc_json_add_int(o, "n", v[i]));
		text = pc_json_print(o);
		assert_string_equal(b.data, text);
		free(text);
		cJSON_Delete(o);
	}
	pc_buf_free(&b, 0);
}

static void
test_object_parses_back(void **state)
{
	struct pc_buf b;
	struct jsonw w;
	cJSON *o = NULL;
	const char *s = NULL;

	(void)state;
	pc_buf_init(&b, 1024);
	jsonw_init(&w, &b);
	jsonw_raw(&w, "{\"a\":");
	jsonw_str(&w, "x\"\\\n\x01\xc3\xa9");
	jsonw_raw(&w, ",\"b\":");
	jsonw_bool(&w, 1);
	jsonw_raw(&w, ",\"c\":");
	jsonw_bool(&w, 0);
	jsonw_raw(&w, "}");
	assert_int_equal(jsonw_end(&w), PC_OK);
	assert_int_equal(pc_json_parse(b.data, b.len, &o), PC_OK);
	assert_int_equal(pc_json_get_str(o, "a", &s), PC_OK);
	assert_string_equal(s, "x\"\\\n\x01\xc3\xa9");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "b")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "c")));
	cJSON_Delete(o);
	pc_buf_free(&b, 0);
}

static void
test_errors_are_sticky(void **state)
{
	struct pc_buf b;
	struct jsonw w;
	size_t len;

	(void)state;
	pc_buf_init(&b, 8);
	jsonw_init(&w, &b);
	jsonw_raw(&w, "[");
	jsonw_str(&w, "too long for eight bytes");
	assert_int_equal(jsonw_end(&w), PC_ERR_TOO_LARGE);
	len = b.len; /* what came before the failure: of no use, but bounded */
	assert_true(len <= 8);
	jsonw_raw(&w, "]"); /* ignored after the failure */
	assert_int_equal(b.len, len);
	jsonw_fail(&w, PC_ERR_INTERNAL); /* the first failure stays */
	assert_int_equal(jsonw_end(&w), PC_ERR_TOO_LARGE);
	pc_buf_reset(&b);
	jsonw_init(&w, &b);
	jsonw_fail(&w, PC_ERR_INTERNAL);
	jsonw_raw(&w, "x");
	assert_int_equal(jsonw_end(&w), PC_ERR_INTERNAL);
	assert_int_equal(b.len, 0);
	pc_buf_free(&b, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_strings_match_cjson),
	        cmocka_unit_test(test_ints_match_pc_json_add_int),
	        cmocka_unit_test(test_object_parses_back),
	        cmocka_unit_test(test_errors_are_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

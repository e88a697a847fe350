/*
 * test_valid.c: the input rules of valid.h: UTF-8 (overlong, surrogate,
 * beyond U+10FFFF, truncated), usernames, emails, passwords, message bodies,
 * room names and client ids, at and around every bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "valid.h"

static int
utf8(const char *s)
{
	return pc_valid_utf8(s, strlen(s));
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(utf8(""));
	assert_true(utf8("plain ascii"));
	assert_true(utf8("\xc2\x80"));         /* U+0080 */
	assert_true(utf8("\xdf\xbf"));         /* U+07FF */
	assert_true(utf8("\xe0\xa0\x80"));     /* U+0800 */
	assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF */
	assert_true(utf8("\xee\x80\x80"));     /* U+E000 */
	assert_true(utf8("\xef\xbf\xbf"));     /* U+FFFF */
	assert_true(utf8("\xf0\x90\x80\x80")); /* U+10000 */
	assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_true(utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));

	assert_false(utf8("\xc0\xaf")); /* overlong '/' */
	assert_false(utf8("\xc1\xbf"));
	assert_false(utf8("\xe0\x80\xaf")); /* overlong */
	assert_false(utf8("\xe0\x9f\xbf"));
	assert_false(utf8("\xf0\x80\x80\xaf")); /* overlong */
	assert_false(utf8("\xf0\x8f\xbf\xbf"));
	assert_false(utf8("\xed\xa0\x80"));     /* U+D800 */
	assert_false(utf8("\xed\xbf\xbf"));     /* U+DFFF */
	assert_false(utf8("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(utf8("\xf5\x80\x80\x80"));
	assert_false(utf8("\xff"));
	assert_false(utf8("\xfe"));
	assert_false(utf8("\x80")); /* lone continuation */
	assert_false(utf8("a\xbf"));
	assert_false(utf8("\xc3")); /* truncated */
	assert_false(utf8("\xe2\x82"));
	assert_false(utf8("\xf0\x9f\x98"));
	assert_false(utf8("\xe2\x28\xa1")); /* bad continuation */
	assert_false(utf8("\xc3\xa9\xc3"));
	/* The length bounds the check, not a NUL. */
	assert_true(pc_valid_utf8("\xc3\xa9\xc3", 2));
	assert_false(pc_valid_utf8("\xc3\xa9", 1));
	assert_true(pc_valid_utf8("a\0b", 3));
	assert_int_equal(pc_valid_utf8_count("caf\xc3\xa9\xf0\x9f\x98\x80", 9),
	                 5);
}

static void
test_username(void **state)
{
	char s[40];

	(void)state;
	assert_false(pc_valid_username("ab"));
	assert_true(pc_valid_username("abc"));
	assert_true(pc_valid_username("A.b-c_9"));
	memset(s, 'a', 32);
	s[32] = '\0';
	assert_true(pc_valid_username(s));
	s[32] = 'a';
	s[33] = '\0';
	assert_false(pc_valid_username(s));
	assert_false(pc_valid_username(""));
	assert_false(pc_valid_username(NULL));
	assert_false(pc_valid_username("has space"));
	assert_false(pc_valid_username("semi;colon"));
	assert_false(pc_valid_username("at@sign"));
	assert_false(pc_valid_username("slash/"));
	assert_false(pc_valid_username("jos\xc3\xa9")); /* é */
	assert_false(
	        pc_valid_username("\xd0\xb0\xd0\xb1\xd0\xb2")); /* Cyrillic */
	assert_false(pc_valid_username("tab\there"));
	assert_false(pc_valid_username("new\nline"));
}

static void
test_email(void **state)
{
	char s[300];

	(void)state;
	assert_true(pc_valid_email("a@b.co"));
	assert_true(pc_valid_email("first.last+tag@sub.example.org"));
	assert_false(pc_valid_email("no-at.example.org"));
	assert_false(pc_valid_email("two@@example.org"));
	assert_false(pc_valid_email("a@b@example.org"));
	assert_false(pc_valid_email("@example.org"));
	assert_false(pc_valid_email("a@"));
	assert_false(pc_valid_email("a@localhost"));
	assert_false(pc_valid_email("a@.example.org"));
	assert_false(pc_valid_email("a@example..org"));
	assert_false(pc_valid_email("a@example.org."));
	assert_false(pc_valid_email("sp ace@example.org"));
	assert_false(pc_valid_email("a@exa\tmple.org"));
	assert_false(pc_valid_email("jos\xc3\xa9@example.org"));
	assert_false(pc_valid_email(""));
	assert_false(pc_valid_email(NULL));
	/* 254 bytes is the most. */
	memset(s, 'a', sizeof(s));
	memcpy(s + 254 - 12, "@example.org", 12);
	s[254] = '\0';
	assert_true(pc_valid_email(s));
	memset(s, 'a', sizeof(s));
	memcpy(s + 255 - 12, "@example.org", 12);
	s[255] = '\0';
	assert_false(pc_valid_email(s));
}

static void
test_password(void **state)
{
	char s[1100];

	(void)state;
	memset(s, 'p', sizeof(s));
	s[7] = '\0';
	assert_false(pc_valid_password(s));
	s[7] = 'p';
	s[8] = '\0';
	assert_true(pc_valid_password(s));
	memset(s, 'p', sizeof(s));
	s[1024] = '\0';
	assert_true(pc_valid_password(s));
	s[1024] = 'p';
	s[1025] = '\0';
	assert_false(pc_valid_password(s));
	/* Bytes, not characters: four 2-byte characters are 8 bytes. */
	assert_true(pc_valid_password("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
	assert_false(pc_valid_password("\xc3\xa9\xc3\xa9\xc3\xa9\xc3"));
	assert_false(pc_valid_password("password\xc0\xaf"));
	assert_true(pc_valid_password("pass word with spaces"));
	assert_false(pc_valid_password(NULL));
}

static enum pc_err
body(const char *s)
{
	return pc_valid_body(s, strlen(s));
}

static void
test_body(void **state)
{
	char *big;
	size_t i;

	(void)state;
	assert_int_equal(body("hi"), PC_OK);
	assert_int_equal(body("x"), PC_OK);
	assert_int_equal(body("line one\nline\ttwo"), PC_OK);
	assert_int_equal(body(""), PC_ERR_BAD_BODY);
	assert_int_equal(body(" "), PC_ERR_BAD_BODY);
	assert_int_equal(body(" \t\n  "), PC_ERR_BAD_BODY);
	assert_int_equal(body("\xc2\xa0\xe3\x80\x80\xe2\x80\x8b"), /* NBSP, */
	                 PC_ERR_BAD_BODY); /* ideographic space, ZWSP */
	assert_int_equal(body("\xe2\x80\x83x\xe2\x80\x83"), PC_OK);
	assert_int_equal(body("a\x01"
	                      "b"),
	                 PC_ERR_BAD_BODY);
	assert_int_equal(body("a\x7f"), PC_ERR_BAD_BODY);
	assert_int_equal(body("a\r\nb"), PC_ERR_BAD_BODY);
	assert_int_equal(body("a\x1b[31m"), PC_ERR_BAD_BODY);
	assert_int_equal(body("a\xc2\x85"), PC_ERR_BAD_BODY); /* U+0085 */
	assert_int_equal(body("a\xc2\x9f"), PC_ERR_BAD_BODY); /* U+009F */
	assert_int_equal(body("a\xc2\xa0"
	                      "b"),
	                 PC_OK); /* U+00A0 */
	assert_int_equal(pc_valid_body("a\0b", 3), PC_ERR_BAD_BODY);
	assert_int_equal(body("bad \xc0\xaf"), PC_ERR_BAD_BODY);
	assert_int_equal(body("bad \xed\xa0\x80"), PC_ERR_BAD_BODY);
	assert_int_equal(body("bad \xf4\x90\x80\x80"), PC_ERR_BAD_BODY);
	assert_int_equal(body("truncated \xe2\x82"), PC_ERR_BAD_BODY);
	assert_int_equal(pc_valid_body(NULL, 0), PC_ERR_BAD_BODY);

	/* 4000 code points of a 3-byte character pass, 4001 do not. */
	big = malloc(3 * 4001 + 1);
	assert_non_null(big);
	for (i = 0; i < 4001; i++)
		memcpy(big + 3 * i, "\xe2\x82\xac", 3); /* € */
	assert_int_equal(pc_valid_body(big, 3 * 4000), PC_OK);
	assert_int_equal(pc_valid_body(big, 3 * 4001), PC_ERR_BAD_BODY);
	memset(big, 'a', 4001);
	assert_int_equal(pc_valid_body(big, 4000), PC_OK);
	assert_int_equal(pc_valid_body(big, 4001), PC_ERR_BAD_BODY);
	free(big);
}

static void
test_room_name(void **state)
{
	char out[PC_ROOM_NAME_BYTES + 1];
	char in[600];
	size_t i;

	(void)state;
	assert_int_equal(pc_valid_room_name("general", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "general");
	assert_int_equal(
	        pc_valid_room_name("  spaced out \t\n", out, sizeof(out)),
	        PC_OK);
	assert_string_equal(out, "spaced out");
	assert_int_equal(pc_valid_room_name("\xe3\x80\x80\xc2\xa0h\xc3\xa9"
	                                    "\xe2\x80\x8b",
	                                    out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "h\xc3\xa9");
	strcpy(out, "untouched");
	assert_int_equal(pc_valid_room_name("", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("   \t ", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("\xe3\x80\x80", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_string_equal(out, "untouched");
	assert_int_equal(pc_valid_room_name("a\x01"
	                                    "b",
	                                    out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("a\tb", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("a\nb", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("ab\x7f", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("ab\xc2\x80", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("bad\xc0\xaf", out, sizeof(out)),
	                 PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name(NULL, out, sizeof(out)),
	                 PC_ERR_INVALID);

	/* 64 code points of 4 bytes fit; 65 do not; trimming comes first. */
	for (i = 0; i < 65; i++)
		memcpy(in + 1 + 4 * i, "\xf0\x9f\x98\x80", 4);
	in[0] = ' ';
	in[1 + 4 * 64] = ' ';
	in[2 + 4 * 64] = '\0';
	assert_int_equal(pc_valid_room_name(in, out, sizeof(out)), PC_OK);
	assert_int_equal(strlen(out), 256);
	assert_int_equal(pc_valid_utf8_count(out, strlen(out)), 64);
	memcpy(in + 1 + 4 * 64, "\xf0\x9f\x98\x80 ", 6);
	assert_int_equal(pc_valid_room_name(in, out, sizeof(out)),
	                 PC_ERR_INVALID);
	memset(in, 'r', 64);
	in[64] = '\0';
	assert_int_equal(pc_valid_room_name(in, out, sizeof(out)), PC_OK);
	in[64] = 'r';
	in[65] = '\0';
	assert_int_equal(pc_valid_room_name(in, out, sizeof(out)),
	                 PC_ERR_INVALID);
	/* A too small out buffer is refused, not overrun. */
	assert_int_equal(pc_valid_room_name("general", out, 7), PC_ERR_INVALID);
	assert_int_equal(pc_valid_room_name("general", out, 8), PC_OK);
}

static void
test_client_id(void **state)
{
	char s[70];

	(void)state;
	assert_true(pc_valid_client_id("a"));
	assert_true(pc_valid_client_id("c-1234-ABCD_{x}~"));
	assert_false(pc_valid_client_id(""));
	assert_false(pc_valid_client_id(NULL));
	assert_false(pc_valid_client_id("has space"));
	assert_false(pc_valid_client_id("tab\t"));
	assert_false(pc_valid_client_id("\x7f"));
	assert_false(pc_valid_client_id("\xc3\xa9"));
	memset(s, 'x', sizeof(s));
	s[64] = '\0';
	assert_true(pc_valid_client_id(s));
	s[64] = 'x';
	s[65] = '\0';
	assert_false(pc_valid_client_id(s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_utf8),
	        cmocka_unit_test(test_username),
	        cmocka_unit_test(test_email),
	        cmocka_unit_test(test_password),
	        cmocka_unit_test(test_body),
	        cmocka_unit_test(test_room_name),
	        cmocka_unit_test(test_client_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
